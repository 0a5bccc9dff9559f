"""?potrf_, ?potrs_, ?posv_ under Enzyme (d and z; the mode x activity matrix is in
test_enzyme_modes.py): ?posv's linked reverse (the adjoint of A X = B, the potrf adjoint only for
a nonzero cotangent of the factor left in A) with and without that cotangent; the caller
overwriting inputs and outputs before the reverse pass; what the tapes hold; the _64_ entry
points with hidden string lengths and the user's own prototypes; the not-positive-definite rule
(leading block exact, NaN where a derivative is needed and undefined, the other triangle passed
through); and Cholesky programs written the way users write them (difflapack.testing, all four
modes, every activity pattern)."""
import ctypes
import subprocess

import numpy as np
import pytest

pytest.importorskip("enzyme_ad.jax")
pytest.importorskip("scipy")

from _enzyme_util import CAP, _complex_view, activity_patterns, check, fd_tangent, get_program, make_case  # noqa: E402

CHOLESKY = ("potrf", "potrs", "posv", "zpotrf", "zpotrs", "zposv")
SOLVE_CASE = dict(uplo="U", n=4, nrhs=2, lda=5, ldb=6)
FACTOR_CASE = dict(uplo="L", n=4, lda=5)


def _case(routine, seed, **over):
    p = dict(FACTOR_CASE if routine.endswith("potrf") else SOLVE_CASE, **over)
    return make_case(routine, p, seed=seed)


def _without_factor_cotangent(case):
    case["w"][CAP:] = 0.0
    return case


@pytest.mark.parametrize("mode", ["rev", "grad"])
@pytest.mark.parametrize("routine", ["posv", "zposv"])
def test_posv_without_factor_cotangent(routine, mode):
    """The usual A\\b: no cotangent on the factor, so the reverse skips the potrf adjoint."""
    for a in activity_patterns(routine):
        prog = get_program(routine, mode, a)
        for k, uplo in enumerate("LU"):
            check(prog, _without_factor_cotangent(_case(routine, 30 + k, uplo=uplo, nrhs=1 + 2 * k)))


@pytest.mark.parametrize("mode", ["rev", "grad"])
@pytest.mark.parametrize("routine", CHOLESKY)
def test_overwrite_after_call(routine, mode):
    """The caller overwrites A (the factor), B (X) and the original inputs after the call."""
    for a in activity_patterns(routine):
        prog = get_program(routine, mode, a, overwrite=True)
        check(prog, _case(routine, 40))
        if routine.endswith("posv"):
            check(prog, _without_factor_cotangent(_case(routine, 41, uplo="L")))


@pytest.mark.parametrize("routine", ["potrs", "zposv"])
def test_local_output_buffer(routine):
    """X lives in a local array of the differentiated function."""
    for a in activity_patterns(routine):
        check(get_program(routine, "rev", a, local_x=True, overwrite=True), _case(routine, 42))
        check(get_program(routine, "fwd", a, local_x=True), _case(routine, 42))


# ------------------------------------------------------------------ entry points and prototypes
STYLES = [  # (user declaration, integer kind, hidden lengths)
    ("const", False, True),
    ("nonconst", "long", False),
    ("before", "longlong", True),
    ("none", "longlong", False),
]


@pytest.mark.parametrize("decl,ilp64,hidden", STYLES, ids=["-".join(map(str, s)) for s in STYLES])
@pytest.mark.parametrize("routine", CHOLESKY)
def test_declaration_styles_and_64(routine, decl, ilp64, hidden):
    active = {"A": True} if routine.endswith("potrf") else {"A": True, "b": True}
    for mode in ("rev", "fwd"):
        check(get_program(routine, mode, active, decl=decl, ilp64=ilp64, hidden=hidden), _case(routine, 50))


@pytest.mark.parametrize("routine", ["posv", "zpotrf"])
def test_64_in_split_and_jvp_modes(routine):
    active = {"A": True} if routine.endswith("potrf") else {"A": True, "b": True}
    for mode in ("grad", "jvp"):
        check(get_program(routine, mode, active, ilp64="longlong", hidden=True), _case(routine, 51))


# ------------------------------------------------------------------ tapes
def _taped_bytes():
    from difflapack._core import lib
    fn = lib.dle_taped_bytes
    fn.restype = ctypes.c_ulonglong
    return fn()


def _expected_tape(routine, active, n, nrhs):
    """The factor's n x n triangle (taped as an n x n block), plus X (n x nrhs) when the
    factor's cotangent needs it: potrs with the factor active; posv always (the harness factors
    a local copy of A, which Enzyme gives a shadow whatever A's activity, see test_enzyme_gesv)."""
    size = 16 if routine.startswith("z") else 8
    if routine.endswith("potrf"):
        return size * n * n
    with_x = routine.endswith("posv") or active["A"]
    return size * (n * n + (n * nrhs if with_x else 0))


@pytest.mark.parametrize("routine", CHOLESKY)
def test_tape_holds_only_what_the_adjoint_needs(routine):
    """Combined reverse mode. (In split mode the harness copies a constant A into a local array
    that Enzyme still gives a shadow, so potrs tapes X there too, as getrs does.)"""
    for a in activity_patterns(routine):
        prog = get_program(routine, "rev", a)
        case = _case(routine, 60)
        prog.run(case)   # build
        before = _taped_bytes()
        prog.run(case)
        p = case["p"]
        assert _taped_bytes() - before == _expected_tape(routine, a, p["n"], p.get("nrhs", 0)), a


# ------------------------------------------------------------------ not positive definite
def _not_pd(routine, seed, j):
    """A case whose Hermitian matrix fails at pivot j (1-based): A(j-1, j-1) := -50."""
    case = _case(routine, seed, n=4, lda=5, uplo="L")
    cplx = routine.startswith("z")
    view = _complex_view(case["arrays"]["A"], cplx)
    view[(j - 1) * (1 + 5)] = -50.0
    return case


def _stored_indices(routine, n, lda, uplo, k=0):
    """Double-buffer indices of the stored triangle outside the leading k x k block (re, im)."""
    cplx = routine.startswith("z")
    out = []
    for j in range(n):
        for i in (range(j, n) if uplo == "L" else range(j + 1)):
            if i < k and j < k:
                continue
            e = i + j * lda
            out += [2 * e, 2 * e + 1] if cplx else [e]
    return np.array(out)


NPD = dict(j=3, n=4, lda=5)   # the failed pivot (1-based), order, leading dimension


def _factor_slice(routine):
    """Where the factor's output (and its loss weights) sit in the harness: x, or lu for posv."""
    return slice(0, CAP) if routine.endswith("potrf") else slice(CAP, 2 * CAP)


def _active(routine):
    return {"A": True} if routine.endswith("potrf") else {"A": True, "b": True}


@pytest.mark.parametrize("mode", ["rev", "grad"])
@pytest.mark.parametrize("routine", ["potrf", "zpotrf", "posv", "zposv"])
def test_not_positive_definite_reverse(routine, mode):
    """info = j > 0: with cotangents only on the leading (j-1) block of the factor the reverse is
    exact -- zero on the rest of the stored triangle, the other triangle passed through -- and
    agrees with central differences; posv left B unchanged, so a cotangent on it passes to B
    unchanged; a cotangent on the rest of the stored triangle gives NaN on the stored triangle."""
    j, n, lda = NPD["j"], NPD["n"], NPD["lda"]
    prog = get_program(routine, mode, _active(routine))
    rest = _factor_slice(routine).start + _stored_indices(routine, n, lda, "L", k=j - 1)
    case = _not_pd(routine, 70, j)
    case["w"][rest] = 0.0
    check(prog, case)   # for posv also with a cotangent on B (unchanged by LAPACK: the identity)
    bad = _not_pd(routine, 71, j)
    res = prog.run(bad)
    assert np.all(np.isnan(res["A"][_stored_indices(routine, n, lda, "L")])), res["A"]


@pytest.mark.parametrize("mode", ["fwd", "jvp"])
@pytest.mark.parametrize("routine", ["potrf", "zpotrf", "posv", "zposv"])
def test_not_positive_definite_forward(routine, mode):
    """info = j > 0: a tangent that is zero on the stored triangle gives exact zeros on the
    factor (the other triangle passed through) and B's own tangent on B (LAPACK leaves B
    unchanged), checked against central differences; any other tangent gives the exact tangent
    on the leading (j-1) block and NaN on the rest of the stored triangle."""
    j, n, lda = NPD["j"], NPD["n"], NPD["lda"]
    prog = get_program(routine, mode, _active(routine))
    case = _not_pd(routine, 72, j)
    case["dirs"]["A"][_stored_indices(routine, n, lda, "L")] = 0.0
    check(prog, case)
    bad = _not_pd(routine, 73, j)
    res = prog.run(bad)
    if mode == "fwd":
        assert np.isnan(res["dloss"])
        return
    out = _factor_slice(routine)
    dfactor = res["dout"][out] if routine.endswith("posv") else res["dout"][:CAP]
    assert np.all(np.isnan(dfactor[_stored_indices(routine, n, lda, "L", k=j - 1)]))
    lead = np.setdiff1d(_stored_indices(routine, n, lda, "L"), _stored_indices(routine, n, lda, "L", k=j - 1))
    fd = fd_tangent(routine, bad, _active(routine))
    fd_factor = fd[out] if routine.endswith("posv") else fd[:CAP]
    assert np.allclose(dfactor[lead], fd_factor[lead], atol=1e-7), (dfactor[lead], fd_factor[lead])
    if routine.endswith("posv"):   # B unchanged: its tangent
        nb = 2 * n if routine.startswith("z") else n
        np.testing.assert_array_equal(res["dout"][:nb], bad["dirs"]["b"][:nb])


# ------------------------------------------------------------------ programs as users write them
GP_SOURCE = r'''
#include "difflapack_enzyme.h"
// negative log likelihood of a Gaussian process: y^T K^{-1} y + log det K, by Cholesky
double nll(const double* K, const double* y, double* alpha, int n) {
  double L[36];
  for (int i = 0; i < n * n; ++i) L[i] = K[i];
  int info = 0, one = 1;
  dpotrf_("L", &n, L, &n, &info);
  for (int i = 0; i < n; ++i) alpha[i] = y[i];
  dpotrs_("L", &n, &one, L, &n, alpha, &n, &info, 1);
  double s = 0;
  for (int i = 0; i < n; ++i) s += y[i] * alpha[i] + 2 * __builtin_log(L[i + i * n]);
  return s;
}
'''

COMPLEX_SOURCE = r'''
#include <complex>
#include "difflapack_enzyme.h"
typedef std::complex<double> cplx;
// B := A^{-1} B for a Hermitian positive definite A given by its upper triangle (zposv), then
// the squared norm of the solution plus the real part of the factor's last row
double f(const double* A, double* B) {
  const int n = 3, nrhs = 2;
  cplx W[9];
  for (int i = 0; i < 9; ++i) W[i] = cplx(A[2 * i], A[2 * i + 1]);
  int info = 0;
  zposv_("U", &n, &nrhs, W, &n, reinterpret_cast<cplx*>(B), &n, &info);
  double s = 0;
  for (int i = 0; i < n; ++i) s += W[i + 2 * n].real();
  return s;
}
'''


def _gcc_include():
    return subprocess.run(["gcc", "-print-file-name=include"], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_user_program_gaussian_process_all_modes():
    from difflapack.testing import Active, Const, Duplicated, check_rule
    r = np.random.default_rng(3)
    n = 6
    M = r.standard_normal((n, n))
    K = M @ M.T / n + np.eye(n)
    K[np.triu_indices(n, 1)] = 99.0         # never read (uplo L)
    y, alpha = r.standard_normal(n), np.zeros(n)
    report = check_rule(GP_SOURCE, "nll", [K, y, alpha, n], [Duplicated, Duplicated, Duplicated, Const],
                        modes=("forward", "reverse", "split", "jvp"), return_activity=Active,
                        all_activity_patterns=True, rtol=1e-6)
    assert report.ok, str(report)


def test_user_program_complex_posv_all_modes():
    from difflapack.testing import Active, Duplicated, check_rule
    r = np.random.default_rng(4)
    n = 3
    M = r.standard_normal((n, n)) + 1j * r.standard_normal((n, n))
    A = M @ M.conj().T / n + np.eye(n)
    A[np.tril_indices(n, -1)] = 7 - 7j       # never read (uplo U)
    A[np.diag_indices(n)] += 0.5j            # Im of the diagonal: never read either
    a = np.asfortranarray(A).ravel(order="F").view(np.float64).copy()
    B = r.standard_normal((2 * n, 2))        # n x 2 complex, interleaved
    report = check_rule(COMPLEX_SOURCE, "f", [a, B], [Duplicated, Duplicated],
                        modes=("forward", "reverse", "split", "jvp"), return_activity=Active,
                        all_activity_patterns=True, argv=("-idirafter", _gcc_include()), rtol=1e-6)
    assert report.ok, str(report)
