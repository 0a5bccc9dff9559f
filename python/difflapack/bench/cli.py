"""The benchmark driver: ``run`` measures the rows (routine, precision, nrhs, n), ``main`` is
``python -m difflapack bench [options]``."""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import sys
import time

import numpy as np

from . import spec
from .api import api_cases
from .enzyme_cases import _ENZYME_RULES, enzyme_times
from .kernels import call_overhead_us, check_our_kernels, openblas, our_cases
from .peers import PEER_CASES
from .problems import problem
from .report import check_targets, plot, progress_line, report
from .timing import limit_threads, measure, measure_memory, measure_rounds, paired_ratio, single_thread_environment


def _ratios(t: dict, primal: float | None) -> dict:
    """Ratios of the best times {fwd, rev_pb, rev_full} to `primal` (missing -> absent)."""
    if not primal:
        return {}
    return {key: t[case] / primal for key, case in spec.CASE_OF.items() if case in t}


def measure_row(routine, precision, n, nrhs, paths, peers, lib, blas, min_time, measure_kw=None) -> dict:
    """One row: the LAPACK primal, our kernels, the NumPy API and the peers on one problem,
    every callable timed in the same interleaved rounds; ratios to each one's own primal
    ("ratios") and to the LAPACK primal ("ratios_lapack"); the API's ratios relative to the
    kernels' ("api_vs_kernels": API / kernels - 1)."""
    p = problem(routine, n, precision=precision, nrhs=nrhs)
    row = {"routine": routine, "precision": precision, "n": n, "times": {}, "medians": {}, "ratios": {},
           "ratios_lapack": {}}
    if routine in spec.NRHS_ROUTINES:
        row["nrhs"] = nrhs
    bad = check_our_kernels(routine, p, lib, blas)
    if bad:
        row["errors"] = list(bad)
    ours = our_cases(routine, p, lib, blas)
    groups = {"kernels": {k: v for k, v in ours.items()
                          if not k.startswith("_") and (k == "primal" or "kernels" in paths)}}
    builders = {"api": lambda: api_cases(routine, p)} if "api" in paths else {}
    builders.update({fw: (lambda fw=fw: PEER_CASES[fw](routine, p)) for fw in peers})
    for fw, build in builders.items():
        try:
            groups[fw] = build()
        except Exception as exc:  # a framework lacking a rule must not stop the run
            row.setdefault("errors", []).append(f"{fw}: {type(exc).__name__}: {exc}"[:300])
    fns = {}
    for fw, cases in groups.items():
        for case, fn in cases.items():
            try:
                fn()  # a case that fails (a missing rule) is reported, not timed
            except Exception as exc:
                row.setdefault("errors", []).append(f"{fw} {case}: {type(exc).__name__}: {exc}"[:300])
                continue
            fns[f"{fw}:{case}"] = fn
    partners = {}
    for case in ("primal",) + tuple(spec.CASE_OF.values()):
        if f"kernels:{case}" in fns and f"api:{case}" in fns:
            partners[f"kernels:{case}"], partners[f"api:{case}"] = f"api:{case}", f"kernels:{case}"
    samples = measure_rounds(fns, min_time=min_time, partners=partners, **(measure_kw or {}))
    for key, s in samples.items():
        fw, case = key.split(":")
        row["times"].setdefault(fw, {})[case] = min(t for _, t in s)
        row["medians"].setdefault(fw, {})[case] = statistics.median(t for _, t in s)
    lapack = row["times"].get("kernels", {}).get("primal")
    for fw, t in row["times"].items():
        row["ratios"][fw] = _ratios(t, t.get("primal"))
        row["ratios_lapack"][fw] = _ratios(t, lapack)
        if fw != "kernels" and "primal" in t and lapack:
            row["ratios_lapack"][fw]["primal"] = t["primal"] / lapack
    # the API against the kernels: best against best, and the median of the per-round quotients
    k, a = row["ratios"].get("kernels", {}), row["ratios_lapack"].get("api", {})
    row["api_vs_kernels_best"] = {key: a[key] / k[key] - 1.0 for key in spec.RATIO_KEYS if key in a and key in k}
    row["api_vs_kernels"] = {}
    for key, case in spec.CASE_OF.items():
        q = paired_ratio(samples.get(f"api:{case}", []), samples.get(f"kernels:{case}", []))
        if q is not None:
            row["api_vs_kernels"][key] = q - 1.0
    row["rounds"] = max((r for s in samples.values() for r, _ in s), default=-1) + 1
    row["load_avg"] = os.getloadavg()
    del ours, groups, fns
    return row


def run(routines, sizes, frameworks=("jax", "torch"), threads=1, min_time=0.2, memory=True, log=print,
        enzyme_max_n=250, precisions=None, nrhs_list=(1,), paths=spec.PATHS, measure_kw=None) -> dict:
    """Measure every (routine, precision) of spec.plan(routines, precisions) at every size (and,
    for getrs/gesv/posv, every nrhs). frameworks: peers ("jax", "torch") and "enzyme"."""
    single_thread_environment(threads)
    from .._core import lib

    lib.load()
    blas = openblas()
    peers = [fw for fw in spec.PEERS if fw in frameworks]
    for fw in list(peers):
        try:
            __import__(fw)  # jax after XLA_FLAGS
        except ImportError:
            log(f"{fw} not installed: its columns are skipped")
            peers.remove(fw)
    import scipy.linalg  # noqa: F401  (load its BLAS before the thread limits apply)

    keep = limit_threads(threads, lib)  # noqa: F841
    used = list(peers) + (["enzyme"] if "enzyme" in frameworks else [])
    results = {"meta": _meta(threads, used, paths, min_time), "rows": []}
    results["meta"]["clock"] = (measure_kw or {}).get("clock", "wall")
    results["meta"]["call_overhead_us"] = call_overhead_us(lib, measure)
    for routine, precision in spec.plan(routines, precisions):
        for nrhs in (nrhs_list if routine in spec.NRHS_ROUTINES else (1,)):
            for n in sizes:
                row = measure_row(routine, precision, n, nrhs, paths, peers, lib, blas, min_time, measure_kw)
                variants = _enzyme_variants(routine, precision, n, nrhs, enzyme_max_n) if "enzyme" in frameworks \
                    else ()
                if variants:
                    _enzyme_columns(row, problem(routine, n, precision=precision, nrhs=nrhs), variants)
                if memory:
                    row["memory_kib"] = measure_memory(routine, n, threads, precision, nrhs)
                    row["memory_budget_kib"] = spec.memory_budget_kib(routine, n, nrhs, precision)
                results["rows"].append(row)
                log(progress_line(row))
    results["meta"]["load_avg_end"] = os.getloadavg()
    return results


def _enzyme_variants(routine, precision, n, nrhs, enzyme_max_n) -> tuple:
    """The Enzyme builds measured for one row: both up to enzyme_max_n, then ours alone at
    TARGET_N for the routines with an Enzyme target (spec.ENZYME_AT_TARGET)."""
    if precision != "d" or nrhs != 1 or routine not in _ENZYME_RULES:
        return ()
    if n <= enzyme_max_n:
        return ("rules", "loops")
    return ("rules",) if routine in spec.ENZYME_AT_TARGET and n == spec.TARGET_N else ()


def _enzyme_columns(row, p, variants) -> None:
    for variant in variants:
        fw = "enzyme_" + variant
        try:
            row["times"][fw] = enzyme_times(row["routine"], p, variant)
        except Exception as exc:  # e.g. the header is missing from this build
            row.setdefault("errors", []).append(f"{fw}: {type(exc).__name__}: {exc}"[:400])
            continue
        row["ratios"][fw] = _ratios(row["times"][fw], row["times"][fw]["primal"])
        lapack = row["times"].get("kernels", {}).get("primal")
        if lapack:  # Enzyme's derivative against the LAPACK call it replaces
            row["ratios"][fw]["rev/LAPACK"] = row["times"][fw]["rev_full"] / lapack


def _meta(threads, frameworks, paths, min_time) -> dict:
    meta = {"threads": threads, "min_time": min_time, "frameworks": list(frameworks), "paths": list(paths),
            "timing": "best batch of interleaved rounds (median in 'medians')",
            "python": sys.version.split()[0], "numpy": np.__version__, "load_avg": os.getloadavg(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    for mod in ("jax", "torch"):
        if mod in sys.modules:
            meta[mod] = sys.modules[mod].__version__
    try:
        fn = openblas().openblas_get_config
        fn.restype = ctypes.c_char_p
        meta["openblas"] = fn().decode()
    except Exception:
        pass
    try:
        meta["cpu"] = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                           if ln.startswith("model name"))
        meta["cpus"] = os.cpu_count()
    except Exception:
        pass
    return meta


def _list(kind):
    return lambda s: [kind(x) for x in s.split(",") if x]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m difflapack bench",
                                 description="Speed and memory of difflapack's derivatives against the "
                                             "LAPACK call, through the C kernels and the NumPy API, with "
                                             "JAX and PyTorch alongside (bench/README.md).")
    ap.add_argument("--quick", action="store_true", help=f"n in {spec.QUICK_SIZES} only")
    ap.add_argument("--large", action="store_true", help=f"add n = {spec.LARGE_SIZE}")
    ap.add_argument("--sizes", type=_list(int), help="comma-separated n")
    ap.add_argument("--routines", type=_list(str), default=list(spec.ROUTINES),
                    help="comma-separated subset of " + ",".join(spec.ROUTINES))
    ap.add_argument("--precisions", type=_list(str), default=None,
                    help="comma-separated subset of s,d,c,z: every routine in each (default: every routine "
                         "in d, and trsm, getrf, getrs, gesv in s and z too)")
    ap.add_argument("--nrhs", type=_list(int), default=[1],
                    help="right-hand sides of getrs, gesv and posv, comma-separated (default 1, the "
                         "memory-bound case; e.g. 1,100)")
    ap.add_argument("--no-api", action="store_true", help="skip the NumPy API path")
    ap.add_argument("--no-kernels", action="store_true",
                    help="skip the C kernels' derivatives (the LAPACK primal is always timed)")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall clock (default), or the process's CPU time (all its threads), which other "
                         "processes on a shared machine do not inflate")
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    ap.add_argument("--min-time", type=float, default=None,
                    help="seconds per measurement (default 0.2; 0.1 with --quick)")
    ap.add_argument("--no-jax", action="store_true")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    ap.add_argument("--enzyme", action="store_true",
                    help="add Enzyme columns (our rules through the Enzyme layer; Enzyme on loop code)")
    ap.add_argument("--enzyme-max-n", type=int, default=250,
                    help="largest n for the Enzyme columns (default 250; loop code is slow); inv's build "
                         "with our rules is measured at n = 1000 too (its Enzyme target)")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--out", default=os.path.join("bench", "results"), help="output folder")
    args = ap.parse_args(argv)

    unknown = [r for r in args.routines if r not in spec.ROUTINES]
    if unknown:
        ap.error(f"unknown routine(s) {unknown}; choose from {spec.ROUTINES}")
    if args.precisions and any(p not in spec.PRECISIONS for p in args.precisions):
        ap.error(f"--precisions takes a subset of {','.join(spec.PRECISIONS)}")
    if not args.nrhs or min(args.nrhs) < 1:
        ap.error("--nrhs must be >= 1")
    paths = [p for p, skip in (("kernels", args.no_kernels), ("api", args.no_api)) if not skip]
    sizes = args.sizes or list(spec.QUICK_SIZES if args.quick else spec.DEFAULT_SIZES)
    if args.large and spec.LARGE_SIZE not in sizes:
        sizes.append(spec.LARGE_SIZE)
    frameworks = [fw for fw, skip in (("jax", args.no_jax), ("torch", args.no_torch)) if not skip]
    if args.enzyme:
        frameworks.append("enzyme")
    if args.min_time is None:
        args.min_time = 0.1 if args.quick else 0.2

    t0 = time.perf_counter()
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    results = run(args.routines, sizes, frameworks, threads=args.threads, min_time=args.min_time,
                  memory=not args.no_memory, log=log, enzyme_max_n=args.enzyme_max_n,
                  precisions=args.precisions, nrhs_list=args.nrhs, paths=paths,
                  measure_kw={"clock": args.clock})
    checks = check_targets(results)
    results["targets"] = checks
    results["meta"]["seconds"] = time.perf_counter() - t0
    text = report(results, checks)
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as fh:
        json.dump(results, fh, indent=1)
    with open(os.path.join(args.out, "results.md"), "w") as fh:
        fh.write(text + "\n")
    if not args.no_plot:
        png = plot(results, os.path.join(args.out, "ratios.png"))
        log(f"plot: {png}" if png else "matplotlib not installed: no plot")
    log(f"results: {args.out}/results.md, results.json ({results['meta']['seconds']:.0f} s)")
    return 0
