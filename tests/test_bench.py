"""The benchmark (python -m difflapack bench) runs: every row of its default plan (every
routine in float64; trsm, getrf, getrs, gesv in float32 and complex128 too, nrhs 1 and 3)
executes through the LAPACK primal, the C kernels, the NumPy API and PyTorch, on tiny problems,
and gives finite positive ratios; JAX (whose jit compilations take seconds per row) on every
routine in float64 and on getrf in the other precisions. No timing is asserted: the numbers of
so short a run mean nothing."""
import math

import numpy as np
import pytest

from difflapack import bench
from difflapack.bench import spec

TINY = {"min_time": 0.0, "measure_kw": {"min_batches": 1, "batch_time": 0.0}}


def _peers(peers=spec.PEERS):
    out = []
    for fw in peers:
        try:
            __import__(fw)
            out.append(fw)
        except ImportError:
            pass
    return out


def _finite(x):
    return x is not None and math.isfinite(x) and x > 0


@pytest.fixture(scope="module")
def quick_run():
    return bench.run(spec.ROUTINES, [12], _peers(("torch",)), memory=False, log=lambda s: None, nrhs_list=(1, 3),
                     **TINY)


def test_every_row_runs_with_finite_ratios(quick_run):
    rows = quick_run["rows"]
    want = {(r, p) for r, p in spec.plan(spec.ROUTINES)}
    assert {(row["routine"], row["precision"]) for row in rows} == want
    assert {"s", "d", "z"} <= {row["precision"] for row in rows}
    for row in rows:
        where = f"{row['routine']} {row['precision']} nrhs={row.get('nrhs')}"
        assert not row.get("errors"), (where, row.get("errors"))
        for key in spec.RATIO_KEYS:
            assert _finite(row["ratios"]["kernels"][key]), (where, "kernels", key)
            assert _finite(row["ratios_lapack"]["api"][key]), (where, "api", key)
            assert math.isfinite(row["api_vs_kernels"][key]), (where, "api vs kernels", key)
            for fw in _peers(("torch",)):
                assert _finite(row["ratios"][fw][key]), (where, fw, key)
                assert _finite(row["ratios_lapack"][fw][key]), (where, fw, "÷ LAPACK", key)


def test_jax_rows():
    pytest.importorskip("jax")
    rows = bench.run(spec.ROUTINES, [12], ["jax"], memory=False, log=lambda s: None, paths=("kernels",),
                     precisions=["d"], **TINY)["rows"]
    rows += bench.run(["getrf"], [12], ["jax"], memory=False, log=lambda s: None, paths=("kernels",),
                      precisions=["s", "c", "z"], **TINY)["rows"]
    assert len(rows) == len(spec.ROUTINES) + 3
    for row in rows:
        assert not row.get("errors"), row.get("errors")
        for key in spec.RATIO_KEYS:
            assert _finite(row["ratios"]["jax"][key]) and _finite(row["ratios_lapack"]["jax"][key]), row["routine"]


def test_nrhs_rows(quick_run):
    seen = {(row["routine"], row["precision"], row["nrhs"]) for row in quick_run["rows"] if "nrhs" in row}
    for routine, precision in spec.plan(spec.NRHS_ROUTINES):
        assert {(routine, precision, 1), (routine, precision, 3)} <= seen


def test_targets_and_report(quick_run, tmp_path):
    checks = bench.check_targets(quick_run)
    # every target in every precision it was measured in (gesv/posv: nrhs 1 only; getrs: both)
    measured = {(row["routine"], row["precision"]) for row in quick_run["rows"]}
    for routine, mode, definition, limit, nrhs in spec.TARGETS:
        for (r, p) in measured:
            if r != routine:
                continue
            got = [c for c in checks if (c["routine"], c["mode"], c["precision"]) == (routine, mode, p)]
            assert len(got) == (2 if routine in spec.NRHS_ROUTINES and nrhs is None else 1), (routine, mode, p)
            for c in got:
                assert c["status_kernels"] in ("PASS", "MISS") and c["status_api"] in ("PASS", "MISS")
    text = bench.report(quick_run, checks)
    for word in ("C kernels", "NumPy API", "float32", "complex128", "API/C-1"):
        assert word in text
    pytest.importorskip("matplotlib")
    assert bench.plot(quick_run, str(tmp_path / "ratios.png"))


def test_enzyme_builds_per_row():
    """Both Enzyme builds up to --enzyme-max-n; ours alone at TARGET_N where a target needs it."""
    from difflapack.bench.cli import _enzyme_variants
    assert _enzyme_variants("inv", "d", 250, 1, 250) == ("rules", "loops")
    assert _enzyme_variants("inv", "d", spec.TARGET_N, 1, 250) == ("rules",)
    assert _enzyme_variants("inv", "d", 500, 1, 250) == ()
    assert _enzyme_variants("getrf", "d", spec.TARGET_N, 1, 250) == ()
    assert _enzyme_variants("inv", "s", 100, 1, 250) == ()
    assert _enzyme_variants("getrs", "d", 100, 3, 250) == ()


def test_targets_show_the_enzyme_program(quick_run):
    """A target measured through Enzyme (Julia's inv: ?getrf_ + ?getri_ in C) gets its own verdict."""
    import copy
    run = copy.deepcopy(quick_run)
    row = next(r for r in run["rows"] if (r["routine"], r["precision"]) == ("inv", "d"))
    row["ratios"]["enzyme_rules"] = {"fwd": 2.8, "p+pb": 3.1}
    checks = bench.check_targets(run)
    got = {c["mode"]: c["enzyme"] for c in checks if (c["routine"], c["precision"]) == ("inv", "d")}
    assert got == {"fwd": 2.8, "rev": 3.1}
    text = bench.report(run, checks)
    assert "Enzyme+ours (C/C++)" in text and "2.80x PASS" in text and "3.10x MISS (by 0.10x" in text


def test_memory_subprocess():
    """The reverse kernel's peak extra memory is measured in a fresh process, in each precision."""
    from difflapack.bench.timing import measure_memory
    for precision in ("s", "z"):
        m = measure_memory("getrf", 16, 1, precision, 1)
        assert "error" not in m, m
        assert all(v >= 0 for v in m.values()) and {"primal", "fwd", "rev_pb"} <= set(m)


def test_cli(tmp_path):
    rc = bench.main(["--sizes", "8", "--routines", "getrf,potrf", "--precisions", "c", "--no-jax", "--no-torch",
                     "--no-memory", "--no-plot", "--min-time", "0", "--clock", "cpu", "--out", str(tmp_path)])
    assert rc == 0
    text = (tmp_path / "results.md").read_text()
    assert "complex64" in text and "getrf fwd" in text


def test_api_and_kernels_compute_the_same():
    """The API and kernel rows measure the same derivative: on one problem their outputs agree."""
    import difflapack as dl
    from difflapack._core import lib

    for precision in ("s", "d", "z"):
        p = bench.problem("getrf", 10, precision=precision)
        cases = bench.our_cases("getrf", p, lib, bench.openblas())
        cases["fwd"]()
        _, dlu = dl.getrf_jvp(p["A"], p["dA"])
        got = cases["_keep"].keep[3]  # the kernel's dA buffer (A0, A, dA0, dA)
        tol = 1e-4 if precision == "s" else 1e-10
        np.testing.assert_allclose(got, dlu, rtol=tol, atol=tol * np.abs(dlu).max())
