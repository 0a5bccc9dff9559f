"""``python -m difflapack demo``: difflapack's derivatives, live.

Part 1 (:mod:`difflapack.demo_numpy`) checks every NumPy rule in float32, float64, complex64
and complex128 against finite differences.

Part 2 replays the user's report (``/work/shared/seed/REPORT.md``: an Enzyme.jl user who
could not differentiate ``A \\ b``, ``getrf!``, ``getrs!`` and got fallback warnings for
``trsv!``/``trsm!``) and two Julia examples, ``inv`` of a Legendre Vandermonde matrix
(Enzyme.jl #2260) and ``logabsdet``, as C++ functions differentiated by Enzyme
(:mod:`difflapack.demo_scenarios`), in Float64, Float32 and ComplexF64, through the LP64 ``_``
symbols and Julia's ILP64 ``_64_`` symbols (for Float64 by default: ``--ilp64 dsz`` for all).
Every call is built twice: WITHOUT difflapack (the user's code and prototypes: Enzyme's own
error, forward and reverse) and WITH ``#include "difflapack_enzyme.h"`` added, checked
against finite differences by :mod:`difflapack.testing` in forward mode
(``__enzyme_fwddiff``), combined reverse mode (``__enzyme_autodiff``) and the split reverse
mode that ``jax.grad`` drives; Float64 ``_`` is also timed against the primal.

Run time: all calls of one precision and symbol set share their Enzyme builds
(``testing.check_rules``; the builds without difflapack are shared by calls that use different
routines, since Enzyme reports a routine it cannot differentiate once per build). Builds are
not first probed in a forked child (``--isolate`` does that: a build that crashes Enzyme then
fails its cell instead of ending the demo; either way the demo does not exit 0).

``inv`` needs ``?getri_``, which ``difflapack_enzyme.h`` does not interpose yet. The demo asks
the preprocessor (``#ifndef ?getri_`` after the header); until the header defines it, the cell
shows what Enzyme says with today's header and is "pending": neither a pass nor a failure
(but a failure if Enzyme stops at anything other than ``?getri_``). Once it is interposed,
``inv`` is checked like every other call.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time

from . import demo_scenarios as ds
from .demo_numpy import numpy_section

MODES = ("forward", "reverse")  # the seed's columns; "reverse" passes only if jax.grad does too


@dataclasses.dataclass
class Cell:
    """One call in one precision and symbol set."""

    scenario: ds.Scenario
    prec: str
    suffix: str
    before: dict  # mode -> Enzyme's failure lines without difflapack
    after: object = None  # testing.PatternCheck with difflapack; None while pending
    today: dict | None = None  # pending: mode -> Enzyme's failure lines with today's header

    @property
    def routines(self) -> str:
        return ds.routine_names(self.scenario, self.prec, self.suffix)

    def before_mark(self, mode: str) -> str:
        return "✗" if self.before[mode] else "✓"

    def after_mark(self, mode: str) -> str:
        if self.after is None:
            return "pending" if self.pending_ok else "✗"
        modes = ("reverse", "split") if mode == "reverse" else (mode,)
        return "✓" if all(self.after.result(m).ok for m in modes) else "✗"

    @property
    def pending_ok(self) -> bool:
        """Pending honestly: Enzyme with today's header stops at ?getri_ and nothing else."""
        getri = f"{self.prec}getri{self.suffix}"
        lines = [ln for m in MODES for ln in (self.today or {}).get(m, [])]
        return bool(lines) and all(getri in ln for ln in lines)

    @property
    def ok(self) -> bool:
        return self.pending_ok if self.after is None else self.after.ok


def _short(lines: list) -> str:
    from .testing import short_error

    return short_error(lines[0]).replace("Enzyme: ", "") if lines else ""


def _disjoint_batches(keys) -> list[list]:
    """Scenarios grouped so that no two in a group call the same LAPACK routine."""
    batches: list[tuple[set, list]] = []
    for key in keys:
        used = set(ds.BY_KEY[key].routine_list)
        for names, batch in batches:
            if not names & used:
                names |= used
                batch.append(key)
                break
        else:
            batches.append((used, [key]))
    return [batch for _, batch in batches]


def getri_interposed(precs, isolate: bool = False) -> dict:
    """{precision: does difflapack_enzyme.h interpose ?getri_}, asked of the embedded clang."""
    import numpy as np

    from .testing import Duplicated, enzyme_errors

    errors = enzyme_errors(ds.getri_probe_source(precs), "seed_probe", [np.zeros(1)], [Duplicated],
                           modes=("forward",), load_difflapack=True, isolate=isolate)["forward"]
    return {p: not any(f"does not interpose {p}getri_" in e for e in errors) for p in precs}


def run_group(prec: str, suffix: str, keys, getri: bool, timing: bool, isolate: bool) -> list[Cell]:
    """Every call of `keys` in one precision and symbol set: without and with difflapack."""
    from .testing import Active, check_rules, enzyme_errors_each

    precision = ds.PRECISIONS[prec]
    cases = dict(zip(keys, ds.cases(keys, prec, suffix)))
    cells = {}
    for batch in _disjoint_batches(keys):
        errors = enzyme_errors_each(ds.source(batch, prec, suffix, with_difflapack=False),
                                    [cases[k] for k in batch], modes=MODES, return_activity=Active, isolate=isolate)
        cells.update((k, Cell(ds.BY_KEY[k], prec, suffix, e)) for k, e in zip(batch, errors))
    ready = [k for k in keys if getri or "getri" not in ds.BY_KEY[k].routines]
    reports = check_rules(ds.source(ready, prec, suffix), [cases[k] for k in ready],
                          modes=("forward", "reverse", "split"), return_activity=Active, rtol=precision.rtol,
                          fd_step=precision.fd_step, timing=timing, load_difflapack=True, isolate=isolate)
    for k, report in zip(ready, reports):
        cells[k].after = report.patterns[0]
    for k in keys:
        if k not in ready:  # what Enzyme says with today's header
            cells[k].today = enzyme_errors_each(ds.source([k], prec, suffix), [cases[k]], modes=MODES,
                                                return_activity=Active, isolate=isolate)[0]
    return [cells[k] for k in keys]


def _fmt_after(res, label: str, ratio=None) -> str:
    if not res.ok:
        return f"✗ {label}: " + (res.message or "failed")[:110]
    return f"✓ {label} {res.error:.0e}" + (f" ({ratio:.1f}x primal)" if ratio else "")


def print_group(cells: list[Cell], out=print) -> None:
    for cell in cells:
        origin = f"   ({cell.scenario.origin})" if cell.scenario.origin != "seed" else ""
        out(f"  {cell.scenario.call}  [{cell.routines}]{origin}")
        out("    without: " + "; ".join(f"{cell.before_mark(m)} {m}: {_short(cell.before[m]) or 'Enzyme built it'}"
                                     for m in MODES))
        if cell.after is None:
            today = "; ".join(f"{m}: {_short(cell.today[m])}" for m in MODES)
            status = "pending" if cell.pending_ok else "✗"
            out(f"    with:    {status}: difflapack_enzyme.h does not interpose {cell.prec}getri{cell.suffix} yet; "
                f"Enzyme today: {today}")
            continue
        t = cell.after.timing or {}
        out("    with:    " + ", ".join([
            _fmt_after(cell.after.result("forward"), "forward", t.get("forward_ratio")),
            _fmt_after(cell.after.result("reverse"), "reverse", t.get("reverse_ratio")),
            _fmt_after(cell.after.result("split"), "jax.grad")]))


def _table_cell(cells: list[Cell], mode: str) -> str:
    """'before → after' over the symbol sets of one precision; spelled out per set if they differ."""
    pairs = [(c.suffix, f"{c.before_mark(mode)} → {c.after_mark(mode)}") for c in cells]
    if len({p for _, p in pairs}) == 1:
        return pairs[0][1]
    return ", ".join(f"`{s}` {p}" for s, p in pairs)


def markdown_table(cells: list[Cell], precs, out=print) -> None:
    """The seed's summary table, one forward and one reverse column per precision, each cell
    "without difflapack → with it" (over both symbol sets when both ran). No timings: the
    table is the same in every run."""
    names = [ds.PRECISIONS[p].julia for p in precs]
    out("")
    out("| Call | " + " | ".join(f"{n} fwd | {n} rev" for n in names) + " | Notes |")
    out("|---|" + "---|---|" * len(names) + "---|")
    for key in dict.fromkeys(c.scenario.key for c in cells):
        row = [c for c in cells if c.scenario.key == key]
        sc = row[0].scenario
        marks = []
        for p in precs:
            mine = [c for c in row if c.prec == p]
            marks += [_table_cell(mine, m) if mine else "" for m in MODES]
        first = row[0]
        notes = [f"`{sc.routines}`"]
        if sc.origin != "seed":
            notes.append(sc.origin)
        if first.before["forward"]:
            notes.append(f"before ({ds.PRECISIONS[first.prec].julia} `{first.suffix}`): "
                         + _short(first.before["forward"]))
        if any(c.after is None for c in row):
            notes.append("pending: ?getri_ is not interposed yet; with today's header Enzyme stops at "
                         + ", ".join(dict.fromkeys(f"`{c.prec}getri{c.suffix}`" for c in row if c.after is None)))
        for c in row:
            if c.after is not None and not c.after.ok:
                bad = [r for r in c.after.results if not r.ok][0]
                notes.append(f"{ds.PRECISIONS[c.prec].julia} `{c.suffix}` {bad.mode}: {bad.message[:80]}")
        out(f"| `{sc.call}` | " + " | ".join(marks) + f" | {'; '.join(notes)} |")
    both = [ds.PRECISIONS[p].julia for p in precs if len({c.suffix for c in cells if c.prec == p}) > 1]
    out("")
    out("rev: combined reverse mode and jax.grad" + (
        f"; the {'/'.join(both)} cells cover the `_` and `_64_` symbols (spelled out where they differ)"
        if both else ""))


def timing_section(keys, n: int = 200, isolate: bool = False, out=print) -> None:
    """Derivative time / primal time at a larger size, Float64 `_` (no finite-difference checks)."""
    from .testing import Active, check_rules

    out("")
    out(f"Derivative cost at n = {n} (Float64, d.._ symbols, one OpenBLAS thread; best of 7 rounds of in-process "
        "loops; a call = the whole f!):")
    out(f"  {'call':32s} {'primal':>10s} {'forward':>16s} {'reverse':>16s}")
    reports = check_rules(ds.source(keys), ds.cases(keys, n=n), modes=(), return_activity=Active, timing=True,
                          load_difflapack=True, isolate=isolate)
    for key, report in zip(keys, reports):
        call, t = ds.BY_KEY[key].call, report.patterns[0].timing or {}
        if "primal_seconds" not in t:
            out(f"  {call:32s} ✗ {t.get('error', 'no timing')[:100]}")
            continue
        out(f"  {call:32s} {t['primal_seconds'] * 1e6:8.1f}us "
            f"{t['forward_seconds'] * 1e6:8.1f}us ({t['forward_ratio']:4.1f}x) "
            f"{t['reverse_seconds'] * 1e6:8.1f}us ({t['reverse_ratio']:4.1f}x)")


def enzyme_section(precs: str, ilp64: str, timing: bool, isolate: bool, out=print) -> list[Cell]:
    keys = [sc.key for sc in ds.SCENARIOS]
    getri = getri_interposed(precs, isolate)
    cells = []
    for prec in precs:
        for suffix in ("_", "_64_") if prec in ilp64 else ("_",):
            t0 = time.perf_counter()
            group = run_group(prec, suffix, keys, getri[prec], timing and prec == "d" and suffix == "_", isolate)
            out("")
            out(f"Part 2 - the calls in C++ differentiated by Enzyme: {ds.PRECISIONS[prec].julia}, symbols "
                f"{prec}..{suffix} (N = {ds.N}), without and with "
                f"difflapack_enzyme.h   [{time.perf_counter() - t0:.0f} s]")
            print_group(group, out)
            cells += group
    return cells


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m difflapack demo", description=__doc__.splitlines()[0])
    parser.add_argument("--no-enzyme", action="store_true", help="only the NumPy part")
    parser.add_argument("--precisions", default="dsz", help="of the Enzyme part: letters of d, s, z (default dsz)")
    parser.add_argument("--ilp64", default="d", help="precisions also run through the _64_ symbols (default d)")
    parser.add_argument("--no-timing", action="store_true", help="skip the derivative/primal timings")
    parser.add_argument("--timing-n", type=int, default=200,
                        help="also time every call at this size (0: skip; default 200)")
    parser.add_argument("--isolate", action="store_true", help="probe every Enzyme build in a forked child first")
    args = parser.parse_args(argv)
    if set(args.precisions) - set(ds.PRECISIONS) or set(args.ilp64) - set(ds.PRECISIONS):
        parser.error(f"precisions are letters of {''.join(ds.PRECISIONS)}")
    t0 = time.perf_counter()
    from . import set_num_threads

    set_num_threads(1)  # stable timings on a shared machine; the calls here are small
    ok = numpy_section()
    pending = []
    if not args.no_enzyme:
        cells = enzyme_section(args.precisions, args.ilp64, not args.no_timing, args.isolate)
        ok &= all(c.ok for c in cells)
        pending = sorted({f"{c.prec}getri{c.suffix}" for c in cells if c.after is None and c.pending_ok})
        markdown_table(cells, args.precisions)
        timed = [c.scenario.key for c in cells if c.prec == "d" and c.suffix == "_" and c.after]
        if args.timing_n > 0 and not args.no_timing and timed:
            timing_section(timed, args.timing_n, args.isolate)
    summary = "all derivatives agree with finite differences" if ok else "SOME CHECKS FAILED"
    if pending:
        summary += f"; pending until difflapack_enzyme.h interposes them: {', '.join(pending)}"
    print(f"\n{summary} ({time.perf_counter() - t0:.0f} s)")
    sys.stdout.flush()
    return 0 if ok else 1
