"""The Enzyme layer for ?getri_ and ?trtrs_ on Julia-style programs, checked by
difflapack.testing.check_rule in all four modes (forward, combined reverse, split reverse as
jax.grad drives it, jvp) against finite differences:

* inv of a Legendre-Vandermonde matrix by dgetrf_ + dgetri_ with LAPACK's workspace query
  (Enzyme.jl issue #2260), through the `_` and the ILP64 `_64_` names, and in complex128;
* the linked inverse (getrf then getri on the same buffer, sharing one taped copy of the
  factors), also when the program reads the factors in between (logdet from the diagonal),
  modifies them (not linked), modifies them keeping their value (linked: t = 0, s = 1) or
  inverts a copy (not linked); what its tape holds;
* log|det| from dgetrf_'s diagonal (real and complex);
* dtrtrs_ / ztrtrs_ with several right-hand sides, every activity pattern;
* ?getri_'s workspace query and its argument errors, singular matrices (info > 0).

Complex data travels as interleaved (re, im) doubles, which the interposed routines accept."""
import ctypes

import numpy as np
import pytest

pytest.importorskip("enzyme_ad.jax")
from difflapack.testing import Active, Const, Duplicated, check_rule  # noqa: E402

ALL_MODES = ("forward", "reverse", "split", "jvp")

LEGENDRE = r'''
#include "difflapack_enzyme.h"
static void legendre(int n, double x, double* p) {   /* P_0 .. P_n at x */
  p[0] = 1.0; if (n >= 1) p[1] = x;
  for (int i = 2; i <= n; ++i) p[i] = ((2.0 * i - 1) * x * p[i - 1] - (i - 1) * p[i - 2]) / i;
}
/* Julia: V = vandermonde_legendre(nodes, N); inv(V) = getrf!(V); getri!(V, ipiv) (which asks
 * for the workspace size first) */
double f(const double* nodes, const double* w) {
  const INT n = 5;
  double V[25], p[5];
  for (int i = 0; i < n; ++i) { legendre(n - 1, nodes[i], p); for (int m = 0; m < n; ++m) V[i + n * m] = p[m]; }
  INT ipiv[5], info = 0, lwork = -1;
  dgetrfSFX(&n, &n, V, &n, ipiv, &info);
  double query[1];
  dgetriSFX(&n, V, &n, ipiv, query, &lwork, &info);
  lwork = (INT)query[0];
  double* work = (double*)__builtin_malloc(sizeof(double) * lwork);
  dgetriSFX(&n, V, &n, ipiv, work, &lwork, &info);
  __builtin_free(work);
  double s = 0; for (int k = 0; k < 25; ++k) s += w[k] * V[k];
  return s;
}'''


@pytest.mark.parametrize("suffix,int_type", [("_", "int"), ("_64_", "long long")])
def test_inv_of_legendre_vandermonde(suffix, int_type):
    """Enzyme.jl issue #2260's example: "No augmented forward pass found for dgetrf_64_"."""
    src = LEGENDRE.replace("SFX", suffix).replace("INT", int_type)
    nodes = np.cos(np.pi * (np.arange(5) + 0.5) / 5)
    w = np.random.default_rng(0).standard_normal(25)
    report = check_rule(src, "f", [nodes, w], [Duplicated, Const], modes=ALL_MODES, return_activity=Active)
    assert report.ok, str(report)


# The linked inverse, four ways. A is the differentiated input (copied, then factored in place);
# the loss reads X, and in "reads-lu" also log|U_ii| between getrf and getri.
LINKED = r'''
#include "difflapack_enzyme.h"
#define N 6
double f(const double* A, const double* w) {
  int n = N, ipiv[N], info = 0, lwork = 4 * N;
  double W[N * N], C[N * N], work[4 * N], s = 0;
  for (int k = 0; k < N * N; ++k) W[k] = A[k];
  dgetrf_(&n, &n, W, &n, ipiv, &info);
  VARIANT
  for (int k = 0; k < N * N; ++k) s += w[k] * TARGET[k];
  return s;
}'''
VARIANTS = {
    "linked": ("dgetri_(&n, W, &n, ipiv, work, &lwork, &info);", "W"),
    "reads-lu": ("for (int i = 0; i < N; ++i) s += __builtin_log(__builtin_fabs(W[i * (N + 1)]));"
                 " dgetri_(&n, W, &n, ipiv, work, &lwork, &info);", "W"),
    "scaled-lu": ("for (int k = 0; k < N * N; ++k) W[k] *= 1.5; dgetri_(&n, W, &n, ipiv, work, &lwork, &info);",
                  "W"),
    "copy": ("for (int k = 0; k < N * N; ++k) C[k] = W[k]; dgetri_(&n, C, &n, ipiv, work, &lwork, &info);", "C"),
}


def _general(n, seed, complex_=False):
    r = np.random.default_rng(seed)
    a = r.standard_normal((n, n)) + 2 * np.sqrt(n) * np.eye(n)[:, ::-1]
    a[0, 0] = 1e-3   # partial pivoting must swap rows
    if complex_:
        a = a + 1j * r.standard_normal((n, n))
    return a


@pytest.mark.parametrize("variant", VARIANTS)
def test_getrf_then_getri(variant):
    code, target = VARIANTS[variant]
    src = LINKED.replace("VARIANT", code).replace("TARGET", target)
    a = _general(6, 1)
    w = np.random.default_rng(2).standard_normal(36)
    report = check_rule(src, "f", [a, w], [Duplicated, Const], modes=ALL_MODES, return_activity=Active)
    assert report.ok, str(report)


# Regression (independent review, 2026-12-02): a change of the factors between getrf and getri
# that keeps their VALUE at this point (a regularizer t = 0 on U's diagonal, a scale s = 1 of U)
# leaves the buffer bitwise the factors, so the two calls are linked; their reverse pass used to
# hand -X^H Xbar X^H straight to getrf and gave dt = ds = 0. The link now shares the taped
# factors only, and the derivative is getri's adjoint through the program's own code.
VALUE_KEEPING = r'''
#include "difflapack_enzyme.h"
#define N 5
double f(const double* A, const double* p, const double* w) {
  int n = N, ipiv[N], info = 0, lwork = -1;
  double W[N * N], query[1], work[8 * N], s = 0;
  for (int k = 0; k < N * N; ++k) W[k] = A[k];
  dgetrf_(&n, &n, W, &n, ipiv, &info);
  EDIT
  dgetri_(&n, W, &n, ipiv, query, &lwork, &info);
  lwork = (int)query[0];
  dgetri_(&n, W, &n, ipiv, work, &lwork, &info);
  for (int k = 0; k < N * N; ++k) s += w[k] * W[k];
  return s;
}'''
EDITS = {
    "shift": ("for (int i = 0; i < N; ++i) W[i * (N + 1)] += p[0];", 0.0),
    "scale": ("for (int j = 0; j < N; ++j) for (int i = 0; i <= j; ++i) W[i + j * N] *= p[0];", 1.0),
}


@pytest.mark.parametrize("edit", EDITS)
def test_a_value_keeping_change_of_the_factors_between_getrf_and_getri(edit):
    code, p0 = EDITS[edit]
    src = VALUE_KEEPING.replace("EDIT", code)
    a = _general(5, 4)
    w = np.random.default_rng(5).standard_normal(25)
    report = check_rule(src, "f", [a, np.array([p0]), w], [Duplicated, Duplicated, Const], modes=ALL_MODES,
                        return_activity=Active)
    assert report.ok, str(report)


def _taped_bytes():
    from difflapack._core import lib
    fn = lib.dle_taped_bytes
    fn.restype = ctypes.c_ulonglong
    return fn()


def _run_reverse_program(variant, source=None):
    """__enzyme_autodiff of the LINKED program (or `source`, with the same f) inside one
    cpp_call, compiled once; returns a function running it (A, w) -> gradient of A."""
    import jax
    import jax.numpy as jnp

    from difflapack import enzyme
    jax.config.update("jax_enable_x64", True)
    if source is None:
        code, target = VARIANTS[variant]
        source = LINKED.replace("VARIANT", code).replace("TARGET", target)
    src = source + r'''
extern "C" { double __enzyme_autodiff(void*, ...); extern int enzyme_dup, enzyme_const; }
void g(enzyme::tensor<double, N * N>& out, const enzyme::tensor<double, N * N>& Ain,
       const enzyme::tensor<double, N * N>& win) {
  double A[N * N], dA[N * N], w[N * N];
  for (int k = 0; k < N * N; ++k) { A[k] = Ain[k]; dA[k] = 0; w[k] = win[k]; }
  __enzyme_autodiff((void*)f, enzyme_dup, A, dA, enzyme_const, w);
  for (int k = 0; k < N * N; ++k) out[k] = dA[k];
}'''
    shapes = [jax.core.ShapedArray([36], jnp.float64)]
    fn = jax.jit(lambda a, w: enzyme.cpp_call(a, w, out_shapes=shapes, source=src, fn="g", check=())[0])
    a, w = _general(6, 1).ravel(order="F"), np.random.default_rng(2).standard_normal(36)
    with enzyme.captured_stderr() as log:
        compiled = fn.lower(a, w).compile()
    enzyme.check_log(enzyme._strip_ansi(log[0]), variant)
    return lambda: np.asarray(compiled(a, w)), a, w


@pytest.mark.parametrize("variant,copies", [("linked", "LU + X"), ("scaled-lu", "LU, LU again + X")])
def test_linked_inverse_tape(variant, copies):
    """The linked inverse tapes ONE copy of LU (the factorization's, with the pivots) and X;
    when the program changed the factors before ?getri, the two calls are not linked and getri
    tapes its own LU and pivots too. The gradient is -X^H Xbar X^H either way (getri's adjoint
    chained into getrf's; plus, for "scaled-lu", the chain through the scaling), checked against
    finite differences above."""
    run, a, w = _run_reverse_program(variant)
    g1 = run()
    before = _taped_bytes()
    g2 = run()
    taped = _taped_bytes() - before
    n = 6
    lu_and_pivots, x = 8 * n * n + 4 * n, 8 * n * n
    assert taped == (lu_and_pivots + x if variant == "linked" else 2 * lu_and_pivots + x), (copies, taped)
    assert np.array_equal(g1, g2)
    if variant == "linked":   # the inverse's own adjoint: Abar = -X^H W X^H, W = dloss/dX = w
        A = a.reshape((n, n), order="F")
        X = np.linalg.inv(A)
        want = -X.T @ w.reshape((n, n), order="F") @ X.T
        assert np.allclose(g1.reshape((n, n), order="F"), want, atol=1e-10 * np.abs(want).max())


# Regression: ?getri never reads IPIV(N) (LAPACK's interchanges run j = N-1 down to 1), so a
# program that changes ipiv[N-1] between getrf and getri (in range, or to garbage) still inverts
# A: the derivative is the inverse's, in every mode, the link to getrf stands (the two calls
# agree on every pivot ?getri reads), and a garbage last pivot is not an argument error.
LAST_PIVOT = {
    "in-range": ("ipiv[N - 1] = 1; dgetri_(&n, W, &n, ipiv, work, &lwork, &info);", "W", True),
    "garbage": ("ipiv[N - 1] = -7; dgetri_(&n, W, &n, ipiv, work, &lwork, &info);", "W", True),
    "copy": ("for (int k = 0; k < N * N; ++k) C[k] = W[k]; ipiv[N - 1] = 1;"
             " dgetri_(&n, C, &n, ipiv, work, &lwork, &info);", "C", False),
}


@pytest.mark.parametrize("variant", LAST_PIVOT)
def test_getri_ignores_the_last_pivot(variant):
    code, target, linked = LAST_PIVOT[variant]
    # info != 0 (a rejected pivot) would leave the factors, not the inverse: make it visible
    code += " if (info != 0) s += 1e6 * A[0];"
    src = LINKED.replace("VARIANT", code).replace("TARGET", target)
    a = _general(6, 1)
    w = np.random.default_rng(2).standard_normal(36)
    report = check_rule(src, "f", [a, w], [Duplicated, Const], modes=ALL_MODES, return_activity=Active)
    assert report.ok, str(report)
    run, a, w = _run_reverse_program(None, src)
    g1 = run()
    before = _taped_bytes()
    assert np.array_equal(run(), g1)
    taped = _taped_bytes() - before
    n = 6
    lu_and_pivots, x = 8 * n * n + 4 * n, 8 * n * n
    assert taped == (lu_and_pivots + x if linked else 2 * lu_and_pivots + x), taped
    X = np.linalg.inv(a.reshape((n, n), order="F"))
    want = -X.T @ w.reshape((n, n), order="F") @ X.T   # Abar = -X^H W X^H: X is A's inverse
    assert np.allclose(g1.reshape((n, n), order="F"), want, atol=1e-10 * np.abs(want).max())


# The same through LAPACKE: column-major getrf + getri are linked (the high-level getri's
# workspace query does not end the window); row-major calls factor and invert the row-major
# handler's temporaries, which are not linked (getri's adjoint chained into getrf's).
LAPACKE_LINKED = r'''
#include "difflapack_enzyme.h"
#define N 6
double f(const double* A, const double* w) {
  int ipiv[N], info;
  double W[N * N], s = 0;
  for (int k = 0; k < N * N; ++k) W[k] = A[k];
  info = LAPACKE_dgetrf(LAYOUT, N, N, W, N, ipiv);
  info += LAPACKE_dgetri(LAYOUT, N, W, N, ipiv);
  for (int k = 0; k < N * N; ++k) s += w[k] * W[k];
  return s + info;
}'''


@pytest.mark.parametrize("layout", [101, 102], ids=["row-major", "column-major"])
def test_lapacke_getrf_then_getri(layout):
    src = LAPACKE_LINKED.replace("LAYOUT", str(layout))
    a = _general(6, 1)
    w = np.random.default_rng(2).standard_normal(36)
    report = check_rule(src, "f", [a, w], [Duplicated, Const], modes=ALL_MODES, return_activity=Active)
    assert report.ok, str(report)
    run, a, w = _run_reverse_program(None, src)
    g1 = run()
    before = _taped_bytes()
    g2 = run()
    taped = _taped_bytes() - before
    n = 6
    lu_and_pivots, x = 8 * n * n + 4 * n, 8 * n * n
    assert taped == (lu_and_pivots + x if layout == 102 else 2 * lu_and_pivots + x), taped
    assert np.array_equal(g1, g2)


LOGDET = r'''
#include "difflapack_enzyme.h"
/* Julia: logabsdet(lu(A)) = sum(log(abs(U_ii))): getrf!, then the diagonal */
double f(const double* A) {
  int n = 5, ipiv[5], info = 0;
  double W[2 * 25];
  for (int k = 0; k < 2 * 25; ++k) W[k] = A[k];
  PREFIXgetrf_(&n, &n, W, &n, ipiv, &info);
  double s = 0;
  for (int i = 0; i < n; ++i) s += LOGABS;
  return s;
}'''


@pytest.mark.parametrize("prefix", ["d", "z"])
def test_logdet_from_getrf_diagonal(prefix):
    if prefix == "d":
        logabs = "__builtin_log(__builtin_fabs(W[i * 6]))"
        a = np.concatenate([_general(5, 3).ravel(order="F"), np.zeros(25)])
    else:   # |U_ii|^2 = re^2 + im^2 of the interleaved pair
        logabs = "0.5 * __builtin_log(W[2 * i * 6] * W[2 * i * 6] + W[2 * i * 6 + 1] * W[2 * i * 6 + 1])"
        a = _general(5, 3, complex_=True).ravel(order="F").view(np.float64).copy()
    src = LOGDET.replace("PREFIX", prefix).replace("LOGABS", logabs)
    report = check_rule(src, "f", [a], [Duplicated], modes=ALL_MODES, return_activity=Active)
    assert report.ok, str(report)
    value = np.linalg.slogdet(a[:25].reshape(5, 5, order="F") if prefix == "d"
                              else a.view(np.complex128).reshape(5, 5, order="F"))[1]
    assert np.isfinite(value)


TRTRS = r'''
#include "difflapack_enzyme.h"
/* op(A) X = B for 3 right-hand sides, A lower with lda = 5, B with ldb = 6, hidden lengths */
extern "C" void PREFIXtrtrs_(const char*, const char*, const char*, const int*, const int*, const double*,
                             const int*, double*, const int*, int*, unsigned long, unsigned long, unsigned long);
double f(const double* A, double* B) {
  int n = 4, nrhs = 3, lda = 5, ldb = 6, info = 0;
  PREFIXtrtrs_("L", "TRANS", "N", &n, &nrhs, A, &lda, B, &ldb, &info, 1, 1, 1);
  double s = info;
  for (int k = 0; k < CAP; ++k) s += (k % 5 + 1) * B[k] * B[k];
  return s;
}'''


@pytest.mark.parametrize("prefix,trans", [("d", "N"), ("d", "T"), ("z", "T"), ("z", "C")])
def test_trtrs_several_rhs(prefix, trans):
    r = np.random.default_rng(4)
    width = 1 if prefix == "d" else 2
    T = np.tril(r.standard_normal((5, 4))) + 3 * np.eye(5, 4)
    if prefix == "z":
        T = T + 1j * np.tril(r.standard_normal((5, 4)))
    A = T.ravel(order="F")
    B = r.standard_normal((6, 3)) + (1j * r.standard_normal((6, 3)) if prefix == "z" else 0)
    A, B = (np.ascontiguousarray(x).view(np.float64).copy() if prefix == "z" else x for x in (A, B.ravel(order="F")))
    src = TRTRS.replace("PREFIX", prefix).replace("TRANS", trans).replace("CAP", str(18 * width))
    report = check_rule(src, "f", [A, B], [Duplicated, Duplicated], modes=ALL_MODES, return_activity=Active,
                        all_activity_patterns=True)
    assert report.ok, str(report)


ZINV = r'''
#include "difflapack_enzyme.h"
/* complex inverse by zgetrf_ + zgetri_ (workspace query) on interleaved (re, im) doubles */
double f(const double* A, const double* w) {
  int n = 4, ipiv[4], info = 0, lwork = -1;
  double W[32], query[2], work[2 * 256], s = 0;
  for (int k = 0; k < 32; ++k) W[k] = A[k];
  zgetrf_(&n, &n, W, &n, ipiv, &info);
  zgetri_(&n, W, &n, ipiv, query, &lwork, &info);
  lwork = (int)query[0];
  zgetri_(&n, W, &n, ipiv, work, &lwork, &info);
  for (int k = 0; k < 32; ++k) s += w[k] * W[k];
  return s;
}'''


def test_complex_inverse():
    a = _general(4, 5, complex_=True).ravel(order="F").view(np.float64).copy()
    w = np.random.default_rng(6).standard_normal(32)
    report = check_rule(ZINV, "f", [a, w], [Duplicated, Const], modes=ALL_MODES, return_activity=Active)
    assert report.ok, str(report)


GETRI_UNLINKED = r'''
#include "difflapack_enzyme.h"
/* getri on factors computed elsewhere (the pivots are data): the rule w.r.t. the packed factors */
double f(double* LU, const int* ipiv) {
  int n = 5, lda = 6, lwork = 5, info = 0;
  double work[5];
  dgetri_(&n, LU, &lda, ipiv, work, &lwork, &info);
  double s = 0; for (int k = 0; k < 30; ++k) s += (k % 7 - 3) * LU[k];
  return s;
}'''


def test_getri_of_given_factors():
    import scipy.linalg.lapack as lapack
    lu, piv, info = lapack.dgetrf(_general(5, 7))
    LU = np.vstack([lu, np.full((1, 5), 9.0)])   # lda = 6: the extra row must stay untouched
    report = check_rule(GETRI_UNLINKED, "f", [LU, (piv + 1).astype(np.int32)], [Duplicated, Const],
                        modes=ALL_MODES, return_activity=Active)
    assert report.ok, str(report)


QUERY = r'''
#include <stdio.h>
#include "difflapack_enzyme.h"
int main(void) {
  double A[9] = {4, 1, 2, 1, 5, 3, 2, 3, 6}, work[64], q[2] = {-5, -5};
  int n = 3, ipiv[3], info = 7, lwork = -1;
  dgetrf_(&n, &n, A, &n, ipiv, &info);
  double a00 = A[0];
  dgetri_(&n, A, &n, ipiv, q, &lwork, &info);                 /* query: A untouched */
  printf("%d %g %g %d\n", info, q[0], q[1], A[0] == a00);
  lwork = 2;
  dgetri_(&n, A, &n, ipiv, work, &lwork, &info);              /* lwork < n: -6 */
  printf("%d\n", info);
  lwork = 64;
  dgetri_(&n, A, &n, ipiv, work, &lwork, &info);
  printf("%d %.12f %.12f\n", info, A[0], A[4]);
  double S[4] = {1, 2, 0, 0}, B[2] = {1, 1};                  /* S(2,2) = 0: singular */
  int two = 2, one = 1, piv2[2] = {1, 2};
  dgetri_(&two, S, &two, piv2, work, &lwork, &info);
  printf("%d %g\n", info, S[3]);
  dtrtrs_("U", "N", "N", &two, &one, S, &two, B, &two, &info);
  printf("%d %g %g\n", info, B[0], B[1]);
  return 0;
}'''


def test_getri_query_errors_and_singular_without_enzyme(tmp_path):
    """Plain gcc build through the header: the workspace query answers LAPACK's optimal size
    (n * block size) in work[0] without touching A; lwork < n is error -6 (xerbla); singular U
    and a zero diagonal in trtrs give info > 0 and leave the buffers unchanged."""
    import os
    import shutil
    import subprocess

    from difflapack import get_include, get_library
    cc = shutil.which("gcc")
    if not cc:
        pytest.skip("no compiler")
    src, exe = tmp_path / "q.c", tmp_path / "q"
    src.write_text(QUERY)
    lib = get_library()
    subprocess.run([cc, "-Wall", "-Werror", "-I" + get_include(), str(src), "-o", str(exe), lib,
                    "-Wl,-rpath," + os.path.dirname(lib), "-l:libopenblas.so.0"], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    lines = [ln.split() for ln in out.splitlines() if "**" not in ln]
    # what the system LAPACK's own ?getri answers (n times its block size)
    blas = ctypes.CDLL("libopenblas.so.0")
    n3, minus1, info, ipiv, a, w = (ctypes.c_int(3), ctypes.c_int(-1), ctypes.c_int(0), (ctypes.c_int * 3)(),
                                    (ctypes.c_double * 9)(), (ctypes.c_double * 2)())
    blas.dgetri_(ctypes.byref(n3), a, ctypes.byref(n3), ipiv, w, ctypes.byref(minus1), ctypes.byref(info))
    assert lines[0] == ["0", f"{w[0]:g}", "-5", "1"]   # work[1] is not written
    assert lines[1] == ["-6"] and "DGETRI" in out and "parameter number  6" in out
    X = np.linalg.inv(np.array([[4, 1, 2], [1, 5, 3], [2, 3, 6.0]]))
    assert lines[2][0] == "0" and np.allclose([float(v) for v in lines[2][1:]], [X[0, 0], X[1, 1]])
    assert lines[3] == ["2", "0"] and lines[4] == ["2", "1", "1"]


SINGLE = r'''
#include "difflapack_enzyme.h"
/* single precision: the data arrive as doubles (Enzyme-JAX builds no split mode over float32
 * tensors) and are rounded to float here; sgetrf_ + sgetri_ (with the query), then ctrtrs_ 'C'
 * on a complex float lower triangle held as interleaved floats */
double f(const double* A, const double* T, double* B) {
  int n = 3, ipiv[3], info = 0, lwork = -1, nrhs = 2;
  float W[9], query[1], work[64], Tf[18], Bf[12];
  for (int k = 0; k < 9; ++k) W[k] = (float)A[k];
  for (int k = 0; k < 18; ++k) Tf[k] = (float)T[k];
  for (int k = 0; k < 12; ++k) Bf[k] = (float)B[k];
  sgetrf_(&n, &n, W, &n, ipiv, &info);
  sgetri_(&n, W, &n, ipiv, query, &lwork, &info);
  lwork = (int)query[0];
  sgetri_(&n, W, &n, ipiv, work, &lwork, &info);
  ctrtrs_("L", "C", "N", &n, &nrhs, Tf, &n, Bf, &n, &info);
  for (int k = 0; k < 12; ++k) B[k] = Bf[k];
  double s = 0; for (int k = 0; k < 9; ++k) s += (k + 1) * (double)W[k];
  return s;
}'''


def test_single_precision_getri_and_complex_trtrs():
    r = np.random.default_rng(9)
    A = _general(3, 8).ravel(order="F")
    T = (np.tril(r.standard_normal((3, 3)) + 1j * r.standard_normal((3, 3))) + 3 * np.eye(3)).ravel(order="F")
    B = (r.standard_normal((3, 2)) + 1j * r.standard_normal((3, 2))).ravel(order="F")
    report = check_rule(SINGLE, "f", [A, T.view(np.float64).copy(), B.view(np.float64).copy()],
                        [Duplicated, Duplicated, Duplicated], modes=ALL_MODES, return_activity=Active,
                        rtol=2e-3, fd_step=1e-2)
    assert report.ok, str(report)


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_singular_leaves_the_buffer_and_passes_the_derivative_through(mode):
    """info > 0: ?getri (zero U(i,i)) and ?trtrs (zero A(i,i)) leave their buffer unchanged, so
    its derivative is the identity (what LAPACK computed: nothing)."""
    from _enzyme_util import CAP, get_program, make_case, oracle_loss
    for routine, p, zero in (("getri", dict(n=4, lda=5), 1 + 5), ("trtrs", dict(uplo="U", trans="T", diag="N", n=4,
                                                                               nrhs=2, lda=5, ldb=6), 2 + 10)):
        active = {"A": True} if routine == "getri" else {"A": True, "b": True}
        case = make_case(routine, p, seed=11)
        case["arrays"]["A"][zero] = 0.0
        res = get_program(routine, mode, active).run(case)
        if mode == "rev":
            assert np.isclose(res["loss"], oracle_loss(routine, case))
            if routine == "getri":
                assert np.array_equal(res["A"], case["w"][:CAP])       # Xbar passes through
            else:
                assert np.array_equal(res["b"], case["w"][:CAP]) and not np.any(res["A"])
        else:   # the tangent of the unchanged buffer is the input's
            d = case["dirs"]["A"] if routine == "getri" else case["dirs"]["b"]
            assert np.isclose(res["dloss"], np.dot(case["w"][:CAP], d))


GETRI_WORK = r'''
#include "difflapack_enzyme.h"
void f(enzyme::tensor<double, 16>& outA, enzyme::tensor<double, 8>& outW,
       const enzyme::tensor<double, 16>& A, const enzyme::tensor<double, 8>& W) {
  int n = 4, info, lwork = 8; int ipiv[4]; double a[16], w[8];
  for (int k = 0; k < 16; ++k) a[k] = A[k];
  for (int k = 0; k < 8; ++k) w[k] = W[k];
  dgetrf_(&n, &n, a, &n, ipiv, &info);
  dgetri_(&n, a, &n, ipiv, w, &lwork, &info);
  for (int k = 0; k < 16; ++k) outA[k] = a[k];
  for (int k = 0; k < 8; ++k) outW[k] = w[k];
}'''


def test_getri_work_array_written_entries_have_no_derivative():
    """What ?getri_ writes into an active WORK (work[0] = lwork, scratch after it) is treated as
    a constant: zero tangent, zero cotangent back to A and to WORK's old value; the entries it
    leaves alone keep theirs (the identity). Before, every entry passed its old derivative
    through although the library had overwritten it (independent review)."""
    import jax
    import jax.numpy as jnp
    from difflapack import enzyme

    jax.config.update("jax_enable_x64", True)
    flags = ("-fno-builtin-memcpy", "-fno-builtin-memset", "-fno-builtin-memmove")
    shapes = [jax.core.ShapedArray([16], jnp.float64), jax.core.ShapedArray([8], jnp.float64)]
    f = lambda a, w: enzyme.cpp_call(a, w, out_shapes=shapes, source=GETRI_WORK, fn="f", argv=flags)  # noqa: E731
    r = np.random.default_rng(0)
    a = jnp.asarray((r.standard_normal((4, 4)) + 4 * np.eye(4)).ravel(order="F"))
    w = jnp.asarray(r.standard_normal(8))
    x, w_out = (np.asarray(t) for t in jax.jit(f)(a, w))
    np.testing.assert_allclose(x.reshape(4, 4, order="F"), np.linalg.inv(np.asarray(a).reshape(4, 4, order="F")),
                               rtol=1e-12)
    kept = np.asarray(w_out) == np.asarray(w)
    assert not kept[0] and kept.any() and not kept.all()   # work[0] = lwork; some scratch; some left alone
    da, dw = jnp.asarray(r.standard_normal(16)), jnp.ones(8)
    dx, dw_out = jax.jit(lambda a, w: jax.jvp(f, (a, w), (da, dw))[1])(a, w)
    np.testing.assert_array_equal(np.asarray(dw_out), kept.astype(float))
    dx_ref = -(x.reshape(4, 4, order="F") @ np.asarray(da).reshape(4, 4, order="F") @ x.reshape(4, 4, order="F"))
    np.testing.assert_allclose(np.asarray(dx).reshape(4, 4, order="F"), dx_ref, rtol=1e-10, atol=1e-12)
    c = jnp.asarray(r.standard_normal(8))
    def loss(a, w):   # every output reaches the loss, from one call (docs/enzyme-limitations 9, 10)
        out_a, out_w = f(a, w)
        return jnp.sum(out_w * c) + 0.0 * jnp.sum(out_a)

    ga, gw = jax.jit(jax.grad(loss, argnums=(0, 1)))(a, w)
    np.testing.assert_array_equal(np.asarray(gw), np.where(kept, np.asarray(c), 0.0))
    np.testing.assert_array_equal(np.asarray(ga), np.zeros(16))
