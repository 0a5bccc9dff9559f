"""dgesv_ under Enzyme has its own reverse rule (the adjoint of A X = B: one transposed solve
and a rank-nrhs update, plus the getrf adjoint only for a nonzero cotangent of the factors left
in A) instead of getrs' adjoint chained into getrf's. Every activity pattern x every mode, with
and without a cotangent on the LU output, nrhs 1 and 3, lda/ldb > n, the caller overwriting
A/B/ipiv before the reverse pass, the _64_ entry point, and what the tape holds."""
import ctypes

import numpy as np
import pytest

pytest.importorskip("enzyme_ad.jax")
pytest.importorskip("scipy")

from _enzyme_util import CAP, activity_patterns, check, get_program, make_case, pattern_id  # noqa: E402

CASES = [dict(n=4, nrhs=1, lda=6, ldb=5), dict(n=5, nrhs=3, lda=5, ldb=7), dict(n=3, nrhs=3, lda=4, ldb=3),
         dict(n=1, nrhs=1, lda=1, ldb=1)]
PATTERNS = [pytest.param(a, id=pattern_id(a)) for a in activity_patterns("gesv")]


def _cases(lu_cotangent):
    """The loss is <w_x, X> + <w_lu, LU>; without an LU cotangent it is the usual A\\b."""
    for k, p in enumerate(CASES):
        case = make_case("gesv", p, seed=20 + k)
        if not lu_cotangent:
            case["w"][CAP:] = 0.0
        yield case


@pytest.mark.parametrize("mode", ["rev", "grad", "fwd", "jvp"])
@pytest.mark.parametrize("active", PATTERNS)
@pytest.mark.parametrize("lu_cotangent", [True, False], ids=["with-LUbar", "no-LUbar"])
def test_gesv_all_modes(mode, active, lu_cotangent):
    prog = get_program("gesv", mode, active)
    for case in _cases(lu_cotangent):
        check(prog, case)


@pytest.mark.parametrize("mode", ["rev", "grad"])
@pytest.mark.parametrize("active", PATTERNS)
@pytest.mark.parametrize("lu_cotangent", [True, False], ids=["with-LUbar", "no-LUbar"])
def test_gesv_overwrite_after_call(mode, active, lu_cotangent):
    """The caller overwrites A (the factors), B (X) and ipiv after the call."""
    prog = get_program("gesv", mode, active, overwrite=True)
    for case in _cases(lu_cotangent):
        check(prog, case)


@pytest.mark.parametrize("mode", ["rev", "grad", "fwd", "jvp"])
@pytest.mark.parametrize("active", PATTERNS)
def test_gesv_64(mode, active):
    prog = get_program("gesv", mode, active, ilp64="longlong")
    for lu_cotangent in (True, False):
        for case in _cases(lu_cotangent):
            check(prog, case)


def test_gesv_local_output_buffer():
    """X lives in a local array of the differentiated function."""
    for a in activity_patterns("gesv"):
        for lu_cotangent in (True, False):
            case = next(_cases(lu_cotangent))
            check(get_program("gesv", "rev", a, local_x=True, overwrite=True), case)
            check(get_program("gesv", "fwd", a, local_x=True), case)


def _taped_bytes():
    from difflapack._core import lib
    fn = lib.dle_taped_bytes
    fn.restype = ctypes.c_ulonglong
    return fn()


def _expected_tape(active, n, nrhs):
    """One copy of LU (n x n) and ipiv, plus X (n x nrhs) for the rank-nrhs term. The harness
    factors a local copy of A, which Enzyme gives a shadow whatever A's activity (so the
    factorization is differentiated and X taped also when A is constant; A's gradient is 0)."""
    return 8 * n * n + 4 * n + 8 * n * nrhs


@pytest.mark.parametrize("mode", ["rev", "grad"])
@pytest.mark.parametrize("active", PATTERNS)
def test_gesv_tape_holds_one_lu(mode, active):
    prog = get_program("gesv", mode, active)
    for lu_cotangent in (True, False):
        for case in _cases(lu_cotangent):
            p = case["p"]
            prog.run(case)   # build
            before = _taped_bytes()
            prog.run(case)
            assert _taped_bytes() - before == _expected_tape(active, p["n"], p["nrhs"]), (p, lu_cotangent)


# A and B are the differentiated function's own arguments, solved in place, each dup or const
# (combined mode passes a constant one with shadow == primal). The loss reads the factors left
# in A and the solution left in B.
IN_PLACE = r"""
extern "C" { double __enzyme_autodiff(void*, ...); extern int enzyme_dup, enzyme_const; }
#include "difflapack_enzyme.h"
#define N 3
#define NRHS 2
static double f(double* A, double* B, const double* w) {
    int n = N, nrhs = NRHS, info = 0, ipiv[N];
    dgesv_(&n, &nrhs, A, &n, ipiv, B, &n, &info);
    double s = 0;
    for (int i = 0; i < N * N; i++) s += w[i] * A[i];
    for (int i = 0; i < N * NRHS; i++) s += w[N * N + i] * B[i];
    return s;
}
void myfn(enzyme::tensor<double, 2 * (N * N + N * NRHS)>& out, const enzyme::tensor<double, N * N>& Ain,
          const enzyme::tensor<double, N * NRHS>& Bin, const enzyme::tensor<double, N * N + N * NRHS>& win) {
    double A[N * N], gA[N * N], B[N * NRHS], gB[N * NRHS], w[N * N + N * NRHS];
    for (int i = 0; i < N * N; i++) { A[i] = Ain[i]; gA[i] = 0; }
    for (int i = 0; i < N * NRHS; i++) { B[i] = Bin[i]; gB[i] = 0; }
    for (int i = 0; i < N * N + N * NRHS; i++) w[i] = win[i];
    __enzyme_autodiff((void*)f, AD_ARGS, enzyme_const, w);
    for (int i = 0; i < N * N; i++) { out[i] = gA[i]; out[N * N + N * NRHS + i] = A[i]; }
    for (int i = 0; i < N * NRHS; i++) { out[N * N + i] = gB[i]; out[2 * N * N + N * NRHS + i] = B[i]; }
}
"""


def _in_place_program(active):
    import jax
    import jax.numpy as jnp

    from difflapack import enzyme
    jax.config.update("jax_enable_x64", True)
    n, nrhs = 3, 2
    ad_args = ", ".join(f"enzyme_dup, {v}, g{v}" if active[k] else f"enzyme_const, {v}" for k, v in (("A", "A"), ("b", "B")))
    src = IN_PLACE.replace("AD_ARGS", ad_args)
    out_shapes = [jax.core.ShapedArray([2 * (n * n + n * nrhs)], jnp.float64)]
    fn = jax.jit(lambda *xs: enzyme.cpp_call(*xs, out_shapes=out_shapes, source=src, fn="myfn", check=())[0])
    r = np.random.default_rng(4)
    A = r.standard_normal((n, n)) + 3 * np.eye(n)[:, ::-1]
    B = r.standard_normal((n, nrhs))
    w = r.standard_normal(n * n + n * nrhs)
    xs = (A.ravel(order="F"), B.ravel(order="F"), w)
    with enzyme.captured_stderr() as log:
        compiled = fn.lower(*xs).compile()
    enzyme.check_log(enzyme._strip_ansi(log[0]), "gesv in place")
    return compiled, xs, (n, nrhs)


@pytest.mark.parametrize("active", PATTERNS)
def test_gesv_in_place_arguments(active):
    """Gradients of the in-place call vs central differences of the loss of the ACTIVE inputs
    (a constant B is solved in place: its solution carries no derivative, and the rule must not
    write an adjoint into it), what the tape holds, and the primal outputs."""
    from scipy.linalg import lapack
    compiled, (a, b, w), (n, nrhs) = _in_place_program(active)
    compiled(a, b, w)
    before = _taped_bytes()
    res = np.asarray(compiled(a, b, w))
    taped = _taped_bytes() - before
    nn, nb = n * n, n * nrhs

    def outputs(a_, b_):
        lu, piv, X, info = lapack.dgesv(a_.reshape((n, n), order="F"), b_.reshape((n, nrhs), order="F"))
        return lu.ravel(order="F"), X.ravel(order="F")

    def loss(a_, b_):
        lu, X = outputs(a_, b_)
        # a constant B holds values without derivative: X's term does not depend on A then
        return np.dot(w[:nn], lu) + (np.dot(w[nn:], X) if active["b"] else 0.0)

    h = 1e-6
    lu, X = outputs(a, b)
    assert np.allclose(res[nn + nb:2 * nn + nb], lu) and np.allclose(res[2 * nn + nb:], X)
    for key, x, got in (("A", a, res[:nn]), ("b", b, res[nn:nn + nb])):
        if not active[key]:
            continue
        fd = np.array([(loss(*((x + h * e, b) if key == "A" else (a, x + h * e)))
                        - loss(*((x - h * e, b) if key == "A" else (a, x - h * e)))) / (2 * h) for e in np.eye(x.size)])
        assert np.allclose(got, fd, atol=1e-6 * max(1.0, np.abs(fd).max())), (key, got, fd)
    # the factorization tapes LU + ipiv once (or the solve does, A constant); X only with both
    assert taped == 8 * nn + 4 * n + (8 * nb if active["A"] and active["b"] else 0)


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_gesv_singular_returns_before_the_solve(mode):
    """info > 0: LAPACK leaves B alone; the factorization's tape then has no solve linked."""
    from _enzyme_util import oracle_loss
    prog = get_program("gesv", mode, {"A": True, "b": True})
    case = make_case("gesv", dict(n=3, nrhs=1, lda=3, ldb=3), seed=3)
    case["arrays"]["A"][:9] = np.array([1.0, 2, 3, 2, 4, 6, 1, 1, 1])   # rank 2
    res = prog.run(case)
    assert np.isclose(res["loss"], oracle_loss("gesv", case))   # x = b untouched, lu = factors
    if mode == "rev":
        assert np.array_equal(res["b"], case["w"][:CAP])   # Xbar passes through to Bbar
