"""Regression tests of the failures realistic user programs found (the trust issue): each class
reproduced as a user would write it, fixed at its root.

1. jax.grad (Enzyme's split mode) gave silently ZERO gradients for read-only arrays read
   straight from a cpp_call input tensor (trsv/trsm's A, trsm's alpha, getrs' factors).
2. A heap buffer filled by memcpy whose only users are interposed calls: "Cannot deduce type of
   copy", then a segfault.
3. NaN poisoned gradients that do not need the singular derivative (dgesv_ with info > 0; a
   branch ignoring A after dgetrf_ reports info > 0; the reverse modes of dgetrf_ on a matrix
   with a zero column, whose factors are smooth in the other columns).
5. C kernels crashed on a NULL dB with only A active; trsm's adjoint formed alpha^2 (inf/0/NaN
   for |alpha| >= 1e154 or <= 1e-154); dimensions >= 2^31 wrapped through ctypes.
(4., the cpp_call helpers, is tested in tests/test_enzyme_wrapper.py.)
"""
import numpy as np
import pytest

import difflapack
from difflapack import _core

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy
pytest.importorskip("enzyme_ad.jax")
from difflapack import enzyme  # noqa: E402


def _grad(source, args, nout, w, fn="f"):
    """jax.jit(jax.grad) of <w, f(args)> for a cpp_call f, all args active."""
    def loss(*xs):
        out = enzyme.cpp_call(*xs, out_shapes=[jax.core.ShapedArray([nout], jnp.float64)], source=source, fn=fn)[0]
        return jnp.dot(out, w)
    return [np.asarray(g) for g in jax.jit(jax.grad(loss, argnums=tuple(range(len(args)))))(*args)]


def _fd_grad(f, args, w, h=1e-6):
    out = []
    for k, a in enumerate(args):
        g = np.zeros(a.size)
        for i in range(a.size):
            e = np.zeros(a.size)
            e[i] = h
            up = [x if j != k else x + e for j, x in enumerate(args)]
            dn = [x if j != k else x - e for j, x in enumerate(args)]
            g[i] = (np.dot(f(*up), w) - np.dot(f(*dn), w)) / (2 * h)
        out.append(g)
    return out


def _assert_grads(got, want, tol=1e-7):
    for g, r in zip(got, want):
        assert np.all(np.isfinite(g))
        assert np.abs(g - r).max() <= tol * max(1.0, np.abs(r).max()), (g, r)


TRSV_FROM_INPUT = r'''
#include "difflapack_enzyme.h"
void f(enzyme::tensor<double, 5>& out, const enzyme::tensor<double, 25>& U, const enzyme::tensor<double, 5>& b) {
  double x[5]; for (int i = 0; i < 5; ++i) x[i] = b[i];
  int n = 5, one = 1;
  dtrsv_("U", "N", "N", &n, &U[0], &n, x, &one);
  for (int i = 0; i < 5; ++i) out[i] = x[i];
}'''

TRSM_FROM_INPUT = r'''
#include "difflapack_enzyme.h"
void f(enzyme::tensor<double, 8>& out, const enzyme::tensor<double, 16>& A, const enzyme::tensor<double, 8>& B,
       const enzyme::tensor<double, 1>& alpha) {
  double X[8]; for (int i = 0; i < 8; ++i) X[i] = B[i];
  int m = 4, n = 2;
  dtrsm_("L", "L", "T", "N", &m, &n, &alpha[0], &A[0], &m, X, &m);
  for (int i = 0; i < 8; ++i) out[i] = X[i];
}'''

GETRS_FROM_INPUT = r'''
#include "difflapack_enzyme.h"
void f(enzyme::tensor<double, 4>& out, const enzyme::tensor<double, 16>& LU, const enzyme::tensor<double, 4>& b) {
  int n = 4, one = 1, info, ipiv[4] = {PIVOTS};
  double x[4]; for (int i = 0; i < 4; ++i) x[i] = b[i];
  dgetrs_("N", &n, &one, &LU[0], &n, ipiv, x, &n, &info);
  for (int i = 0; i < 4; ++i) out[i] = x[i];
}'''


def test_split_mode_read_only_inputs_from_the_input_tensor():
    r = np.random.default_rng(0)
    U = np.triu(r.standard_normal((5, 5))) + 4 * np.eye(5)
    b, w = r.standard_normal(5), r.standard_normal(5)
    args = [U.ravel(order="F"), b]
    got = _grad(TRSV_FROM_INPUT, args, 5, w)
    ref = _fd_grad(lambda u, b_: np.linalg.solve(np.triu(u.reshape(5, 5, order="F")), b_), args, w)
    _assert_grads(got, ref)
    assert np.abs(got[0]).max() > 0.01   # was exactly zero

    A = np.tril(r.standard_normal((4, 4))) + 3 * np.eye(4)
    B, w8 = r.standard_normal((4, 2)), r.standard_normal(8)
    args = [A.ravel(order="F"), B.ravel(order="F"), np.array([0.7])]

    def trsm(a, b_, al):
        return (al[0] * np.linalg.solve(np.tril(a.reshape(4, 4, order="F")).T, b_.reshape(4, 2, order="F"))).ravel(order="F")
    _assert_grads(_grad(TRSM_FROM_INPUT, args, 8, w8), _fd_grad(trsm, args, w8))

    M = r.standard_normal((4, 4)) + 4 * np.eye(4)[:, ::-1]
    lu, piv, _ = difflapack.getrf(M)
    source = GETRS_FROM_INPUT.replace("PIVOTS", ", ".join(str(p + 1) for p in piv))
    args = [lu.ravel(order="F"), r.standard_normal(4)]
    w4 = r.standard_normal(4)
    _assert_grads(_grad(source, args, 4, w4),
                  _fd_grad(lambda l_, b_: difflapack.getrs(l_.reshape(4, 4, order="F"), piv, b_), args, w4))


HEAP_INVERSE = r'''
#include "difflapack_enzyme.h"
extern "C" { void* malloc(unsigned long); void free(void*); void* memcpy(void*, const void*, unsigned long); }
void f(enzyme::tensor<double, 16>& out, const enzyme::tensor<double, 16>& A) {
  INT n = 4, info; INT ipiv[4];
  double* W = (double*)malloc(16 * sizeof(double));
  double* X = (double*)malloc(16 * sizeof(double));
  memcpy(W, &A[0], 16 * sizeof(double));
  for (int i = 0; i < 16; ++i) X[i] = (i % 5 == 0) ? 1.0 : 0.0;
  GETRF(&n, &n, W, &n, ipiv, &info);
  GETRS("N", &n, &n, W, &n, ipiv, X, &n, &info);
  memcpy(&out[0], X, 16 * sizeof(double));
  free(W); free(X);
}'''


@pytest.mark.parametrize("ilp64", [False, True], ids=["lp64", "ilp64"])
def test_inverse_on_memcpy_heap_buffers_under_jax_grad(ilp64):
    source = HEAP_INVERSE.replace("INT", "long long" if ilp64 else "int")
    source = source.replace("GETRF", "dgetrf_64_" if ilp64 else "dgetrf_").replace("GETRS", "dgetrs_64_" if ilp64 else "dgetrs_")
    r = np.random.default_rng(1)
    A = r.standard_normal((4, 4)) + 4 * np.eye(4)
    w = r.standard_normal(16)
    (g,) = _grad(source, [A.ravel(order="F")], 16, w)
    X = np.linalg.inv(A)
    want = -X.T @ w.reshape(4, 4, order="F") @ X.T
    np.testing.assert_allclose(g.reshape(4, 4, order="F"), want, rtol=1e-10, atol=1e-12)


SINGULAR_GESV = r'''
#include "difflapack_enzyme.h"
void f(enzyme::tensor<double, 3>& out, const enzyme::tensor<double, 9>& A, const enzyme::tensor<double, 3>& b) {
  int n = 3, one = 1, info, ipiv[3];
  double W[9], x[3];
  for (int i = 0; i < 9; ++i) W[i] = A[i];
  for (int i = 0; i < 3; ++i) x[i] = b[i];
  dgesv_(&n, &one, W, &n, ipiv, x, &n, &info);
  for (int i = 0; i < 3; ++i) out[i] = info > 0 ? 2.0 * x[i] : x[i];  /* singular: B is unchanged */
}'''

SINGULAR_BRANCH = r'''
#include "difflapack_enzyme.h"
void f(enzyme::tensor<double, 3>& out, const enzyme::tensor<double, 9>& A, const enzyme::tensor<double, 3>& b) {
  int n = 3, info, ipiv[3];
  double W[9];
  for (int i = 0; i < 9; ++i) W[i] = A[i];
  dgetrf_(&n, &n, W, &n, ipiv, &info);
  if (info > 0) { for (int i = 0; i < 3; ++i) out[i] = b[i] * b[i]; return; }  /* ignores A */
  for (int i = 0; i < 3; ++i) out[i] = W[i];
}'''


@pytest.mark.parametrize("source", [SINGULAR_GESV, SINGULAR_BRANCH], ids=["gesv-info", "getrf-branch"])
def test_singular_input_does_not_poison_gradients_it_does_not_need(source):
    A = np.array([[1.0, 2, 3], [2, 4, 6], [1, 0, 1]])   # rank 2: info = 2 (a zero pivot with rows below)
    b = np.array([1.0, -2.0, 0.5])
    w = np.array([0.3, -1.0, 2.0])
    gA, gb = _grad(source, [A.ravel(order="F"), b], 3, w)
    assert np.all(gA == 0)   # the objective does not depend on A: exactly zero, not NaN
    np.testing.assert_allclose(gb, (2.0 * w) if source is SINGULAR_GESV else 2 * b * w)


ZERO_PIVOT_LU = r'''
#include "difflapack_enzyme.h"
/* The matrices hold exactly zero columns that are constants, not inputs: LAPACK's info > 0, a zero
 * U(j,j) with rows below it, and the factors are a smooth function of the other columns. */
double dmid(const double* x, const double* w) {       /* review p8: A = [x0 | 0 | x1], info = 2 */
  double A[9]; int n = 3, ipiv[3], info;
  for (int j = 0; j < 3; ++j) for (int i = 0; i < 3; ++i) A[i + 3 * j] = j == 1 ? 0.0 : x[i + 3 * (j / 2)];
  dgetrf_(&n, &n, A, &n, ipiv, &info);
  double s = 0; for (int k = 0; k < 9; ++k) s += w[k] * A[k];
  return s;
}
double dwide(const double* x, const double* w) {      /* 4 x 6, columns 1 and 2 zero: two zero pivots */
  double A[24]; int m = 4, n = 6, ipiv[4], info;
  for (int j = 0; j < 6; ++j)
    for (int i = 0; i < 4; ++i) A[i + 4 * j] = (j == 1 || j == 2) ? 0.0 : x[i + 4 * (j == 0 ? 0 : j - 2)];
  dgetrf_(&m, &n, A, &m, ipiv, &info);
  double s = 0; for (int k = 0; k < 24; ++k) s += w[k] * A[k];
  return s;
}
double dtall(const double* x, const double* w) {      /* 6 x 4, column 1 zero */
  double A[24]; int m = 6, n = 4, ipiv[4], info;
  for (int j = 0; j < 4; ++j)
    for (int i = 0; i < 6; ++i) A[i + 6 * j] = j == 1 ? 0.0 : x[i + 6 * (j == 0 ? 0 : j - 1)];
  dgetrf_(&m, &n, A, &m, ipiv, &info);
  double s = 0; for (int k = 0; k < 24; ++k) s += w[k] * A[k];
  return s;
}
double zmid(const double* x, const double* w) {       /* complex, interleaved (re, im) */
  double A[18]; int n = 3, ipiv[3], info;
  for (int j = 0; j < 3; ++j)
    for (int i = 0; i < 3; ++i)
      for (int r = 0; r < 2; ++r) A[2 * (i + 3 * j) + r] = j == 1 ? 0.0 : x[2 * (i + 3 * (j / 2)) + r];
  zgetrf_(&n, &n, A, &n, ipiv, &info);
  double s = 0; for (int k = 0; k < 18; ++k) s += w[k] * A[k];
  return s;
}
double dgesv_mid(const double* x, const double* b, const double* w) {  /* singular gesv: LU and B */
  double A[9], B[3]; int n = 3, one = 1, ipiv[3], info;
  for (int j = 0; j < 3; ++j) for (int i = 0; i < 3; ++i) A[i + 3 * j] = j == 1 ? 0.0 : x[i + 3 * (j / 2)];
  for (int i = 0; i < 3; ++i) B[i] = b[i];
  dgesv_(&n, &one, A, &n, ipiv, B, &n, &info);
  double s = 0; for (int k = 0; k < 9; ++k) s += w[k] * A[k];
  for (int i = 0; i < 3; ++i) s += w[9 + i] * B[i];
  return s;
}'''


def test_zero_pivot_lu_gradients_are_finite_where_the_factors_are_smooth():
    """Review p8: dgetrf_ of a matrix with a constant zero middle column (info = 2): forward mode
    matched central differences but every reverse mode (combined __enzyme_autodiff, jax.grad's
    split mode) gave NaN for the whole first column: the undefined cotangent of the zero-pivot
    column spread through exact zeros (NaN * 0 = NaN). Every mode against central differences,
    real and complex, tall, wide with two zero pivots, and through dgesv_ (its LU and its B)."""
    from difflapack.testing import Active, Const, Duplicated, Case, check_rules
    r = np.random.default_rng(8)
    x3 = np.array([0.5, -1.2, 0.8, 1.0, 0.3, -0.7])
    cases = [Case("dmid", [x3, r.standard_normal(9)], [Duplicated, Const]),
             Case("dwide", [r.standard_normal(16), r.standard_normal(24)], [Duplicated, Const]),
             Case("dtall", [r.standard_normal(18), r.standard_normal(24)], [Duplicated, Const]),
             Case("zmid", [r.standard_normal(12), r.standard_normal(18)], [Duplicated, Const]),
             Case("dgesv_mid", [x3, r.standard_normal(3), r.standard_normal(12)], [Duplicated, Duplicated, Const])]
    reports = check_rules(ZERO_PIVOT_LU, cases, modes=("forward", "reverse", "split", "jvp"), return_activity=Active)
    for case, report in zip(cases, reports):
        assert report.ok, (case.fn, str(report))


# ------------------------------------------------------------------ 5. C kernels and NumPy edges
def test_c_kernels_reject_a_null_tangent_buffer_with_only_A_active():
    n = 3
    A = np.asfortranarray(np.eye(n) * 2)
    dA, ipiv, B = np.ones((n, n), order="F"), np.arange(1, n + 1, dtype=np.int32), np.ones((n, 1), order="F")
    lib, ptr = _core.lib, _core.ptr
    assert lib.dl_dgetrs_fwd(1, b"N", n, 1, ptr(A), n, ptr(dA), n, ptr(ipiv), ptr(B), n, None, n) == -112
    assert lib.dl_dgetrs_rev(1, b"N", n, 1, ptr(A), n, ptr(dA), n, ptr(ipiv), ptr(B), n, None, n) == -112
    assert lib.dl_dgesv_fwd(1, n, 1, ptr(A.copy(order="F")), n, ptr(dA), n, ptr(ipiv), ptr(B.copy()), n, None, n) == -111
    assert lib.dl_dgesv_rev(1, n, 1, ptr(A), n, ptr(ipiv), ptr(dA), n, ptr(B), n, None, n) == -111


@pytest.mark.parametrize("alpha", [1e200, -3e160, 1e-200, 5e-310])
def test_trsm_vjp_extreme_alpha(alpha):
    """No alpha^2 is ever formed: Abar, Bbar and alphabar stay exact near over- and underflow."""
    r = np.random.default_rng(2)
    a = np.triu(r.standard_normal((3, 3))) + 3 * np.eye(3)
    b = r.standard_normal((3, 2))
    xbar = r.standard_normal((3, 2))
    x, pullback = difflapack.trsm_vjp(a, b, alpha=alpha)
    abar, bbar, albar = pullback(xbar)
    G = np.linalg.solve(np.triu(a).T, xbar)
    Y = np.linalg.solve(np.triu(a), b)
    np.testing.assert_allclose(bbar, alpha * G, rtol=1e-12)
    np.testing.assert_allclose(albar, np.sum(b * G), rtol=1e-12)
    np.testing.assert_allclose(abar, np.triu(-G @ (alpha * Y).T), rtol=1e-12)
    assert np.all(np.isfinite(abar))


def test_dimensions_beyond_int32_are_rejected():
    with pytest.raises(ValueError, match=r"a has shape \(4294967299, 0\).*exceeds 2147483647"):
        difflapack.getrf(np.empty((2**32 + 3, 0)))
    with pytest.raises(ValueError, match="b has shape .* exceeds 2147483647"):
        difflapack.trsm(np.empty((0, 0)), np.empty((0, 2**31)))
