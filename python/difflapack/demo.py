"""``python -m difflapack demo``: difflapack's derivatives, live.

Part 1 differentiates trsv, trsm, getrf, getrs and gesv through the NumPy API and prints the
error of each forward (jvp) and reverse (vjp) derivative against finite differences.

Part 2 replays the scenarios of the user's report (``/work/shared/seed/REPORT.md``: an
Enzyme.jl user who could not differentiate ``A \\ b``, ``getrf!``, ``getrs!`` and got
fallback warnings for ``trsv!``/``trsm!``) as C functions differentiated by Enzyme. For every
call and mode it first builds the function WITHOUT difflapack and shows Enzyme's own error,
then WITH ``#include "difflapack_enzyme.h"`` and checks the derivative against finite
differences with :mod:`difflapack.testing` (forward = ``__enzyme_fwddiff``; reverse =
``__enzyme_autodiff`` and the split reverse mode that ``jax.grad`` drives), timing it against
the primal. Both the LP64 ``_`` symbols and Julia's ILP64 ``_64_`` symbols are run.
"""
from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import time

import numpy as np

N = 6  # the seed's size
NRHS_TRSM = 3

# ------------------------------------------------------------------ the seed's scenarios
# Every function follows the seed's f!(out, inputs...) style and returns the sum of its result.
# BLASINT and the symbol suffix S are set per symbol variant ("_": int, "_64_": 64-bit ints).
_SCENARIO_CODE = {
    "solve": r"""
double seed_solve(double* A, double* b, int n) {            /* sum(A \ b) = copy + dgesv_ */
  BLASINT nn = n, one = 1, info = 0;
  double* lu = (double*)__builtin_malloc(sizeof(double) * n * n);
  double* x = (double*)__builtin_malloc(sizeof(double) * n);
  BLASINT* ipiv = (BLASINT*)__builtin_malloc(sizeof(BLASINT) * n);
  for (int k = 0; k < n * n; ++k) lu[k] = A[k];
  for (int i = 0; i < n; ++i) x[i] = b[i];
  dgesvS(&nn, &one, lu, &nn, ipiv, x, &nn, &info);
  double s = 0; for (int i = 0; i < n; ++i) s += x[i];
  __builtin_free(lu); __builtin_free(x); __builtin_free(ipiv);
  return s;
}""",
    "getrf": r"""
double seed_getrf(double* buf, double* A, int n) {          /* copyto!(buf, A); getrf!(buf) */
  BLASINT nn = n, info = 0;
  BLASINT* ipiv = (BLASINT*)__builtin_malloc(sizeof(BLASINT) * n);
  for (int k = 0; k < n * n; ++k) buf[k] = A[k];
  dgetrfS(&nn, &nn, buf, &nn, ipiv, &info);
  __builtin_free(ipiv);
  double s = 0; for (int k = 0; k < n * n; ++k) s += buf[k];
  return s;
}""",
    "getrs": r"""
double seed_getrs(double* x, double* fac, BLASINT* ipiv, double* b, int n) {  /* getrs!('N') */
  BLASINT nn = n, one = 1, info = 0;
  for (int i = 0; i < n; ++i) x[i] = b[i];
  dgetrsS("N", &nn, &one, fac, &nn, ipiv, x, &nn, &info);
  double s = 0; for (int i = 0; i < n; ++i) s += x[i];
  return s;
}""",
    "trsv": r"""
double seed_trsv(double* x, double* U, double* b, int n) {  /* trsv!('U','N','N') */
  BLASINT nn = n, inc = 1;
  for (int i = 0; i < n; ++i) x[i] = b[i];
  dtrsvS("U", "N", "N", &nn, U, &nn, x, &inc);
  double s = 0; for (int i = 0; i < n; ++i) s += x[i];
  return s;
}""",
    "trsm": r"""
double seed_trsm(double* X, double* U, double* B, int n, int nrhs) {  /* trsm!('L','U','N','N', 1.0) */
  BLASINT nn = n, mm = nrhs; const double alpha = 1.0;
  for (int k = 0; k < n * nrhs; ++k) X[k] = B[k];
  dtrsmS("L", "U", "N", "N", &nn, &mm, &alpha, U, &nn, X, &nn);
  double s = 0; for (int k = 0; k < n * nrhs; ++k) s += X[k];
  return s;
}""",
    "lu_trsv": r"""
double seed_lu_trsv(double* x, double* factors, BLASINT* ipiv, double* b, int n) {
  BLASINT nn = n, inc = 1;                                   /* pre-factored LU solve */
  for (int i = 0; i < n; ++i) x[i] = b[i];
  for (int i = 0; i < n; ++i) {                              /* _apply_ipiv! */
    BLASINT p = ipiv[i] - 1;
    if (p != i) { double t = x[i]; x[i] = x[p]; x[p] = t; }
  }
  dtrsvS("L", "N", "U", &nn, factors, &nn, x, &inc);
  dtrsvS("U", "N", "N", &nn, factors, &nn, x, &inc);
  double s = 0; for (int i = 0; i < n; ++i) s += x[i];
  return s;
}""",
}

# The Fortran prototypes a user writes when no header helps (no hidden string lengths, as C
# callers usually do).
_OWN_PROTOTYPES = r"""
extern "C" {
void dtrsvS(const char*, const char*, const char*, const BLASINT*, const double*, const BLASINT*, double*, const BLASINT*);
void dtrsmS(const char*, const char*, const char*, const char*, const BLASINT*, const BLASINT*, const double*,
            const double*, const BLASINT*, double*, const BLASINT*);
void dgetrfS(const BLASINT*, const BLASINT*, double*, const BLASINT*, BLASINT*, BLASINT*);
void dgetrsS(const char*, const BLASINT*, const BLASINT*, const double*, const BLASINT*, const BLASINT*, double*,
             const BLASINT*, BLASINT*);
void dgesvS(const BLASINT*, const BLASINT*, double*, const BLASINT*, BLASINT*, double*, const BLASINT*, BLASINT*);
}
"""

SYMBOL_VARIANTS = {"_": "int", "_64_": "long long"}


@dataclasses.dataclass
class Scenario:
    key: str
    call: str  # the seed's name of the call
    routine: str  # the Fortran routine it exercises
    fn: str
    args: list
    activities: list
    names: list
    note: str = ""


def seed_source(key: str, suffix: str = "_", with_difflapack: bool = True) -> str:
    """The C++ source of one seed scenario for the `suffix` symbols ("_" or "_64_"), with
    difflapack's header or with the user's own Fortran prototypes."""
    blasint = SYMBOL_VARIANTS[suffix]
    head = f"typedef {blasint} BLASINT;\n"
    head += '#include "difflapack_enzyme.h"\n' if with_difflapack else _OWN_PROTOTYPES
    return re.sub(r"\b(d(?:trsv|trsm|getrf|getrs|gesv))S\(", r"\g<1>" + suffix + "(", head + _SCENARIO_CODE[key])


def seed_problem(n: int = N, seed: int = 42):
    """The seed's data: A = randn(n, n), b, B = randn(n, 3), F = lu(A), U = triu(F.factors)."""
    from scipy.linalg import lu_factor

    r = np.random.default_rng(seed)
    A = r.standard_normal((n, n))
    b = r.standard_normal(n)
    B = r.standard_normal((n, NRHS_TRSM))
    factors, piv0 = lu_factor(A)
    U = np.triu(factors)
    return A, b, B, np.asfortranarray(factors), piv0 + 1, U


def seed_scenarios(suffix: str = "_", n: int = N, seed: int = 42) -> list[Scenario]:
    """The seed's six calls with its activities (Duplicated arrays, Const pivots), in the
    order of its table."""
    from .testing import Const, Duplicated

    A, b, B, factors, ipiv, U = seed_problem(n, seed)
    ipiv = ipiv.astype(np.int64 if suffix == "_64_" else np.int32)
    D, C = Duplicated, Const
    return [
        Scenario("solve", "A \\ b", f"dgesv{suffix}", "seed_solve", [A.copy(), b.copy(), n], [D, D, C],
                 ["A", "b", "n"], "copy + dgesv"),
        Scenario("getrf", "getrf!", f"dgetrf{suffix}", "seed_getrf", [np.zeros((n, n)), A.copy(), n], [D, D, C],
                 ["buf", "A", "n"]),
        Scenario("getrs", "getrs!", f"dgetrs{suffix}", "seed_getrs",
                 [np.zeros(n), factors.copy(), ipiv, b.copy(), n], [D, D, C, D, C], ["x", "fac", "ipiv", "b", "n"]),
        Scenario("trsv", "trsv!", f"dtrsv{suffix}", "seed_trsv", [np.zeros(n), U.copy(), b.copy(), n], [D, D, D, C],
                 ["x", "U", "b", "n"]),
        Scenario("trsm", "trsm!", f"dtrsm{suffix}", "seed_trsm",
                 [np.zeros((n, NRHS_TRSM)), U.copy(), B.copy(), n, NRHS_TRSM], [D, D, D, C, C],
                 ["X", "U", "B", "n", "nrhs"]),
        Scenario("lu_trsv", "LU solve: pre-factor + trsv!", f"2x dtrsv{suffix}", "seed_lu_trsv",
                 [np.zeros(n), factors.copy(), ipiv, b.copy(), n], [D, D, C, D, C], ["x", "factors", "ipiv", "b", "n"],
                 "row swaps + 2 trsv"),
    ]


# ------------------------------------------------------------------ part 1: NumPy API
def _fd(f, xs, dxs, h=1e-4):
    """Fourth-order central difference of f (array-valued) along dxs."""
    def at(t):
        return np.asarray(f(*[x + t * d for x, d in zip(xs, dxs)]), dtype=float)

    return (8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h)


def _rel(got, want):
    return float(np.max(np.abs(np.asarray(got) - want)) / max(np.max(np.abs(want)), 1e-300))


def _dot_rel(lhs, rhs):
    return abs(lhs - rhs) / max(abs(lhs), abs(rhs), 1e-300)


def numpy_section(n: int = N, seed: int = 7, out=print) -> bool:
    import difflapack as dl

    r = np.random.default_rng(seed)
    A = r.standard_normal((n, n)) + 2 * np.sqrt(n) * np.eye(n)[:, ::-1]  # pivoting needed, well conditioned
    U = np.triu(r.standard_normal((n, n))) / np.sqrt(n) + np.diag(1.5 + r.random(n))
    b, B = r.standard_normal(n), r.standard_normal((n, NRHS_TRSM))
    lu, piv, _ = dl.getrf(A)
    rows = []

    def row(name, formula, jvp_err, vjp_err):
        rows.append((name, formula, jvp_err, vjp_err))

    # trsv: x = U^{-1} b
    dU, db = r.standard_normal((n, n)), r.standard_normal(n)
    _, dx = dl.trsv_jvp(U, b, dU, db)
    fd = _fd(lambda u, v: dl.trsv(u, v), [U, b], [dU, db])
    x, pb = dl.trsv_vjp(U, b)
    w = r.standard_normal(n)
    ubar, bbar = pb(w)
    row("trsv", "x = U^-1 b", _rel(dx, fd), _dot_rel(fd @ w, np.vdot(dU, ubar) + db @ bbar))

    # trsm: X = alpha U^-1 B
    alpha, dalpha = 1.3, 0.7
    dB = r.standard_normal(B.shape)
    _, dX = dl.trsm_jvp(U, B, dU, dB, dalpha, alpha=alpha)
    fd = _fd(lambda u, v, a: dl.trsm(u, v, alpha=a[0]), [U, B, np.array([alpha])], [dU, dB, np.array([dalpha])])
    X, pb = dl.trsm_vjp(U, B, alpha=alpha)
    W = r.standard_normal(B.shape)
    ubar, Bbar, abar = pb(W)
    row("trsm", "X = alpha U^-1 B", _rel(dX, fd),
        _dot_rel(np.vdot(fd, W), np.vdot(dU, ubar) + np.vdot(dB, Bbar) + dalpha * abar))

    # getrf: packed LU (pivots fixed)
    dA = r.standard_normal((n, n))
    _, dlu = dl.getrf_jvp(A, dA)
    fd = _fd(lambda a: dl.getrf(a)[0], [A], [dA])
    _, pb = dl.getrf_vjp(A)
    W = r.standard_normal((n, n))
    row("getrf", "P L U = A", _rel(dlu, fd), _dot_rel(np.vdot(fd, W), np.vdot(dA, pb(W))))

    # getrs: x = (P L U)^-1 b from the packed factors
    dlu_dir = r.standard_normal((n, n))
    _, dx = dl.getrs_jvp(lu, piv, b, dlu_dir, db)
    fd = _fd(lambda f, v: dl.getrs(f, piv, v), [lu, b], [dlu_dir, db])
    _, pb = dl.getrs_vjp(lu, piv, b)
    lubar, bbar = pb(w)
    row("getrs", "x = (P L U)^-1 b", _rel(dx, fd), _dot_rel(fd @ w, np.vdot(dlu_dir, lubar) + db @ bbar))

    # gesv: x = A^-1 b (and the packed LU)
    (_, _, _, _), (dlu_g, dx) = dl.gesv_jvp(A, b, dA, db)
    fd_x = _fd(lambda a, v: dl.gesv(a, v)[2], [A, b], [dA, db])
    fd_lu = _fd(lambda a, v: dl.gesv(a, v)[0], [A, b], [dA, db])
    _, pb = dl.gesv_vjp(A, b)
    Abar, bbar = pb(w)
    row("gesv", "x = A^-1 b, LU", max(_rel(dx, fd_x), _rel(dlu_g, fd_lu)),
        _dot_rel(fd_x @ w, np.vdot(dA, Abar) + db @ bbar))

    out(f"Part 1 - NumPy API, n = {n}: derivative vs 4th-order central finite differences")
    out(f"  {'routine':8s} {'computes':18s} {'jvp: rel. error':>16s} {'vjp: dot-product rel. error':>28s}")
    ok = True
    for name, formula, e1, e2 in rows:
        good = e1 < 1e-7 and e2 < 1e-7
        ok &= good
        out(f"  {name:8s} {formula:18s} {e1:16.1e} {e2:28.1e}  {'✓' if good else '✗'}")
    return ok


# ------------------------------------------------------------------ part 2: the seed under Enzyme
def _cell_without(sc: Scenario, suffix: str) -> dict[str, str]:
    from .testing import Active, enzyme_errors, short_error

    errs = enzyme_errors(seed_source(sc.key, suffix, with_difflapack=False), sc.fn, sc.args, sc.activities,
                         modes=("forward", "reverse"), return_activity=Active)
    return {m: ("✗ " + short_error(lines[0])) if lines else "✓ (Enzyme built it)" for m, lines in errs.items()}


def _cell_with(sc: Scenario, suffix: str, timing: bool):
    from .testing import Active, check_rule

    report = check_rule(seed_source(sc.key, suffix), sc.fn, sc.args, sc.activities,
                        modes=("forward", "reverse", "split"), return_activity=Active, names=sc.names,
                        timing=timing, load_difflapack=True)
    return report.patterns[0]


def _fmt(res, ratio=None) -> str:
    if not res.ok:
        return "✗ " + (res.message or "failed")[:110]
    text = f"✓ FD err {res.error:.0e}"
    if ratio is not None:
        text += f", {ratio:.1f}x primal"
    return text


def seed_section(suffixes=("_", "_64_"), timing=True, out=print) -> tuple[bool, list]:
    from . import enzyme

    ok = True
    table = []
    for suffix in suffixes:
        out("")
        out(f"Part 2 - the seed's calls in C, differentiated by Enzyme (symbols d..{suffix}, N = {N})")
        for sc in seed_scenarios(suffix):
            t0 = time.perf_counter()
            without = _cell_without(sc, suffix)
            out(f"  {sc.call}  [{sc.routine}]")
            out(f"    without difflapack  forward: {without['forward']}")
            out(f"                        reverse: {without['reverse']}")
            try:
                chk = _cell_with(sc, suffix, timing)
            except enzyme.EnzymeBuildError as exc:  # pragma: no cover - reported, not raised
                out(f"    with difflapack     ✗ {exc}")
                ok = False
                table.append((sc, suffix, without, None))
                continue
            t = chk.timing or {}
            fwd, rev, split = chk.result("forward"), chk.result("reverse"), chk.result("split")
            out(f"    with difflapack     forward: {_fmt(fwd, t.get('forward_ratio'))}")
            out(f"                        reverse: {_fmt(rev, t.get('reverse_ratio'))}")
            out(f"                        split reverse (jax.grad): {_fmt(split)}"
                f"   [{time.perf_counter() - t0:.1f} s incl. builds]")
            ok &= chk.ok
            table.append((sc, suffix, without, chk))
    return ok, table


def markdown_table(table, out=print) -> None:
    """The seed's summary table, each cell "without difflapack -> with it"."""
    out("")
    out("| Call | Forward | Reverse | Notes |")
    out("|---|---|---|---|")
    for sc, suffix, without, chk in table:
        before_f, before_r = ("✓" if without[m].startswith("✓") else "✗" for m in ("forward", "reverse"))
        after_f = after_r = "✗"
        if chk is not None:
            after_f = "✓" if chk.result("forward").ok else "✗"
            after_r = "✓" if chk.result("reverse").ok and chk.result("split").ok else "✗"
        t = (chk.timing or {}) if chk else {}
        notes = [f"`{sc.routine}`"]
        if before_f == "✗":
            notes.append("before: " + without["forward"][2:].replace("Enzyme: ", ""))
        if t.get("forward_ratio"):
            notes.append(f"cost {t['forward_ratio']:.1f}x (fwd) / {t['reverse_ratio']:.1f}x (rev) the primal")
        if chk is not None and not chk.ok:
            bad = [r for r in chk.results if not r.ok][0]
            notes.append(f"{bad.mode}: {bad.message[:80]}")
        out(f"| `{sc.call}` | {before_f} → {after_f} | {before_r} → {after_r} | {'; '.join(notes)} |")


def timing_section(n: int = 200, suffix: str = "_", out=print) -> None:
    """Derivative time / primal time at a larger size (no finite-difference checks)."""
    from .testing import Active, check_rule

    out("")
    out(f"Derivative cost at n = {n} (d..{suffix} symbols, one OpenBLAS thread; best of 7 rounds of in-process "
        "loops; a call = the whole f!):")
    out(f"  {'call':32s} {'primal':>10s} {'forward':>16s} {'reverse':>16s}")
    for sc in seed_scenarios(suffix, n=n):
        chk = check_rule(seed_source(sc.key, suffix), sc.fn, sc.args, sc.activities, modes=(),
                         return_activity=Active, names=sc.names, timing=True, load_difflapack=True).patterns[0]
        t = chk.timing or {}
        if "primal_seconds" not in t:
            out(f"  {sc.call:32s} ✗ {t.get('error', 'no timing')[:100]}")
            continue
        out(f"  {sc.call:32s} {t['primal_seconds'] * 1e6:8.1f}us "
            f"{t['forward_seconds'] * 1e6:8.1f}us ({t['forward_ratio']:4.1f}x) "
            f"{t['reverse_seconds'] * 1e6:8.1f}us ({t['reverse_ratio']:4.1f}x)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m difflapack demo", description=__doc__.splitlines()[0])
    parser.add_argument("--no-enzyme", action="store_true", help="only the NumPy part")
    parser.add_argument("--symbols", choices=["_", "_64_", "both"], default="both")
    parser.add_argument("--no-timing", action="store_true", help="skip the derivative/primal timings")
    parser.add_argument("--timing-n", type=int, default=200,
                        help="also time every call at this size (0: skip; default 200)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    from . import set_num_threads

    set_num_threads(1)  # stable timings on a shared machine; the calls here are small
    ok = numpy_section()
    if not args.no_enzyme:
        suffixes = ("_", "_64_") if args.symbols == "both" else (args.symbols,)
        seed_ok, table = seed_section(suffixes, timing=not args.no_timing)
        ok &= seed_ok
        markdown_table(table)
        if args.timing_n > 0 and not args.no_timing:
            timing_section(args.timing_n)
    print(f"\n{'all derivatives agree with finite differences' if ok else 'SOME CHECKS FAILED'} "
          f"({time.perf_counter() - t0:.0f} s)")
    sys.stdout.flush()
    return 0 if ok else 1
