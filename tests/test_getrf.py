"""getrf: primal, jvp, vjp (NumPy API) and the C kernels dl_dgetrf{,_fwd,_rev}, on square and
rectangular matrices that force row swaps, lda > m, n = 0, and zero pivots. Evidence: an
independent dense oracle (the textbook formulas with explicit solves), central differences
with the pivots held fixed, explicit Jacobians (for the adjoint) and dot-product tests.

The oracle helpers here are shared by test_getrs.py / test_gesv.py / test_seed_lu.py."""
import numpy as np
import pytest
import scipy.linalg
import scipy.linalg.lapack

import difflapack
from difflapack import _core
from _util import EPS, assert_close, assert_dot_product, central_difference, general, inner, rng, tol

SHAPES = [(1, 1), (2, 2), (5, 5), (7, 4), (4, 7), (6, 1), (1, 6), (33, 33), (40, 17), (17, 40), (70, 70)]
SMALL_SHAPES = [(1, 1), (3, 3), (5, 5), (6, 3), (3, 6), (4, 1), (1, 4)]


# ------------------------------------------------------------------ oracle (dense, textbook)
def row_order(piv, m):
    """Row order p with P^T A = A[p] for 0-based LAPACK-style interchanges piv."""
    p = np.arange(m)
    for i, j in enumerate(piv):
        p[i], p[j] = p[j], p[i]
    return p


def unpack(lu, piv):
    """L (m x k unit lower), U (k x n upper), row order p: A[p] = L U."""
    m, n = lu.shape
    k = min(m, n)
    L = np.tril(lu[:, :k], -1) + np.eye(m, k)
    U = np.triu(lu[:k, :])
    return L, U, row_order(piv, m)


def pack(dL, dU, m, n):
    out = np.zeros((m, n))
    k = min(m, n)
    out[:, :k] += np.tril(dL, -1)
    out[:k, :] += np.triu(dU)
    return out


def right_solve(M, U):
    """M U^{-1} by a dense solve."""
    return np.linalg.solve(U.T, M.T).T


def getrf_tangent_oracle(lu, piv, da):
    """Packed dLU from P^T dA = dL U + L dU via F = L^{-1} P^T dA U^{-1} (Giles 2008), with
    the rectangular block forms (extra rows: dL2 = (T2 - L2 dU) U^{-1}; extra columns:
    dU2 = L^{-1} (T2 - dL U2))."""
    m, n = lu.shape
    L, U, p = unpack(lu, piv)
    T = np.asarray(da, dtype=float)[p]
    if m >= n:
        L1, L2 = L[:n], L[n:]
        F = right_solve(np.linalg.solve(L1, T[:n]), U)
        dL1, dU = L1 @ np.tril(F, -1), np.triu(F) @ U
        dL2 = right_solve(T[n:] - L2 @ dU, U)
        return pack(np.vstack([dL1, dL2]), dU, m, n)
    U1, U2 = U[:, :m], U[:, m:]
    F = right_solve(np.linalg.solve(L, T[:, :m]), U1)
    dL, dU1 = L @ np.tril(F, -1), np.triu(F) @ U1
    dU2 = np.linalg.solve(L, T[:, m:] - dL @ U2)
    return pack(dL, np.hstack([dU1, dU2]), m, n)


def lu_nopivot(a):
    """Doolittle LU without pivoting, packed (the map whose derivative getrf's rules give
    once the rows are in the primal's pivot order)."""
    a = np.array(a, dtype=float)
    m, n = a.shape
    for j in range(min(m, n)):
        if j + 1 < m:
            a[j + 1:, j] /= a[j, j]
            a[j + 1:, j + 1:] -= np.outer(a[j + 1:, j], a[j, j + 1:])
    return a


def fd_getrf_fixed_pivots(a, da, piv):
    """Central differences of the packed factors with the rows held in the primal's order."""
    p = row_order(piv, a.shape[0])
    return central_difference(lambda x: lu_nopivot(x[p]), (a,), (da,))


def jacobian(tangent, shape):
    """Dense Jacobian of a linear map on shape-shaped arrays, column per unit input."""
    size = int(np.prod(shape))
    cols = []
    for i in range(size):
        e = np.zeros(size)
        e[i] = 1.0
        cols.append(np.asarray(tangent(e.reshape(shape))).ravel())
    return np.array(cols).T


def lu_kappa(lu, piv):
    """Condition scale of the LU rules: kappa(L) * kappa(U) (both square blocks)."""
    L, U, _ = unpack(lu, piv)
    k = min(lu.shape)
    if k == 0:
        return 1.0
    return float(np.linalg.cond(L[:k, :k]) * np.linalg.cond(U[:, :k]))


def problem(m, n, seed):
    r = rng(seed + 7)
    a = general(m, n, seed=seed) if m * n else np.zeros((m, n))  # _util.general needs n >= 1
    return a, r.standard_normal((m, n)), r.standard_normal((m, n))


# ------------------------------------------------------------------ primal
@pytest.mark.parametrize("m,n", SHAPES + [(0, 0), (0, 3), (3, 0)])
def test_primal_matches_scipy(m, n):
    a, _, _ = problem(m, n, seed=m + 3 * n)
    lu, piv, info = difflapack.getrf(a)
    assert lu.shape == (m, n) and piv.shape == (min(m, n),) and info == 0
    if m * n == 0:
        return  # SciPy's wrapper rejects empty input (it passes lda = 0)
    lu_s, piv_s, info_s = scipy.linalg.lapack.dgetrf(a)
    assert info_s == 0
    np.testing.assert_array_equal(piv, piv_s)
    assert_close(lu, lu_s, 1e-13, "getrf lu")  # SciPy bundles its own OpenBLAS: rounding may differ


def test_generator_forces_row_swaps():
    for m, n in [(5, 5), (7, 4), (4, 7), (33, 33)]:
        _, piv, _ = difflapack.getrf(general(m, n, seed=1))
        assert np.any(piv != np.arange(min(m, n))), (m, n)


# ------------------------------------------------------------------ forward
@pytest.mark.parametrize("m,n", SHAPES)
def test_jvp_oracle_and_fd(m, n):
    a, da, _ = problem(m, n, seed=m + 5 * n)
    (lu, piv, info), dlu = difflapack.getrf_jvp(a, da)
    assert info == 0
    lu0, piv0, _ = difflapack.getrf(a)
    np.testing.assert_array_equal(lu, lu0)
    np.testing.assert_array_equal(piv, piv0)
    kappa = lu_kappa(lu, piv)
    assert_close(dlu, getrf_tangent_oracle(lu, piv, da), tol(kappa), "getrf jvp vs oracle")
    assert_close(dlu, fd_getrf_fixed_pivots(a, da, piv), 1e-6 * kappa, "getrf jvp vs FD")


def test_jvp_fd_through_getrf_itself():
    """Small perturbations of a well-pivoted matrix keep the pivots: FD of getrf itself."""
    a, da, _ = problem(9, 6, seed=4)
    (lu, piv, _), dlu = difflapack.getrf_jvp(a, da)
    h = EPS ** (1 / 3)
    (lp, pp, _), (lm, pm, _) = difflapack.getrf(a + h * da), difflapack.getrf(a - h * da)
    np.testing.assert_array_equal(pp, piv)
    np.testing.assert_array_equal(pm, piv)
    assert_close(dlu, (lp - lm) / (2 * h), 1e-6 * lu_kappa(lu, piv), "getrf jvp vs FD of getrf")


def test_jvp_none_is_zero():
    a, _, _ = problem(4, 6, seed=2)
    (lu, piv, info), dlu = difflapack.getrf_jvp(a, None)
    assert dlu.shape == (4, 6) and not dlu.any()


# ------------------------------------------------------------------ reverse
@pytest.mark.parametrize("m,n", SMALL_SHAPES)
def test_vjp_equals_transposed_oracle_jacobian(m, n):
    a, _, w = problem(m, n, seed=10 * m + n)
    (lu, piv, info), pullback = difflapack.getrf_vjp(a)
    J = jacobian(lambda d: getrf_tangent_oracle(lu, piv, d), (m, n))
    want = (J.T @ w.ravel()).reshape(m, n)
    assert_close(pullback(w), want, tol(lu_kappa(lu, piv)), "getrf vjp vs oracle J^T w")


@pytest.mark.parametrize("m,n", SHAPES)
def test_dot_product(m, n):
    a, v, w = problem(m, n, seed=m + 11 * n)
    (lu, piv, _), jv = difflapack.getrf_jvp(a, v)
    _, pullback = difflapack.getrf_vjp(a)
    assert_dot_product(inner(jv, w), inner(v, pullback(w)), tol(lu_kappa(lu, piv)), f"getrf {m}x{n}")


def test_dot_product_large_recursion():
    """Sizes that take several levels of the column recursion and odd splits."""
    for m, n in [(129, 129), (150, 77), (77, 150)]:
        a, v, w = problem(m, n, seed=m)
        (lu, piv, _), jv = difflapack.getrf_jvp(a, v)
        _, pullback = difflapack.getrf_vjp(a)
        kappa = lu_kappa(lu, piv)
        assert_dot_product(inner(jv, w), inner(v, pullback(w)), tol(kappa), f"getrf {m}x{n}")
        assert_close(jv, getrf_tangent_oracle(lu, piv, v), tol(kappa), f"getrf {m}x{n} oracle")


@pytest.mark.parametrize("m,n", [(70, 70), (150, 77), (77, 150)])
def test_derivatives_scale_linearly_with_tiny_seeds(m, n):
    """J(s v) = s J(v) to working precision even for s = 1e-12: no step of the rules may form a
    small product as the difference of two O(1) quantities (e.g. unit-trmm minus identity)."""
    a, v, w = problem(m, n, seed=3)
    s = 1e-12
    (lu, piv, _), jv = difflapack.getrf_jvp(a, v)
    _, jv_small = difflapack.getrf_jvp(a, s * v)
    _, pullback = difflapack.getrf_vjp(a)
    kappa = lu_kappa(lu, piv)
    assert_close(jv_small / s, jv, tol(kappa), "tangent of a 1e-12 seed")
    assert_close(pullback(s * w) / s, pullback(w), tol(kappa), "adjoint of a 1e-12 seed")


def test_vjp_square_closed_form():
    """Abar = P L^{-T} [stril(L^T Lbar) + triu(Ubar U^T)] U^{-T} (square; Walter & Lehmann)."""
    a, _, w = problem(12, 12, seed=3)
    (lu, piv, _), pullback = difflapack.getrf_vjp(a)
    L, U, p = unpack(lu, piv)
    inner_m = np.tril(L.T @ np.tril(w, -1), -1) + np.triu(np.triu(w) @ U.T)
    t = right_solve(np.linalg.solve(L.T, inner_m), U.T)
    want = np.empty_like(t)
    want[p] = t
    assert_close(pullback(w), want, tol(lu_kappa(lu, piv)), "getrf vjp closed form")


def test_pullback_reusable_and_independent_of_returned_arrays():
    a, _, w = problem(6, 6, seed=5)
    (lu, piv, _), pullback = difflapack.getrf_vjp(a)
    first = pullback(w)
    with pytest.raises(ValueError, match="read-only"):  # the factors the pullback keeps
        lu[...] = 0.0
    mine = np.array(lu)  # a writable copy is the caller's own
    mine[...] = 0.0
    piv[...] = 0
    np.testing.assert_array_equal(pullback(w), first)


# ------------------------------------------------------------------ n = 0, inputs, errors
@pytest.mark.parametrize("m,n", [(0, 0), (0, 4), (4, 0)])
def test_empty(m, n):
    a = np.zeros((m, n))
    (lu, piv, info), dlu = difflapack.getrf_jvp(a, a)
    assert lu.shape == dlu.shape == (m, n) and piv.shape == (0,) and info == 0
    (_, _, _), pullback = difflapack.getrf_vjp(a)
    assert pullback(a).shape == (m, n)


def test_inputs_untouched_orders_strides_ints():
    a, da, w = problem(8, 6, seed=6)
    want = difflapack.getrf_jvp(a, da)
    big = np.zeros((16, 12))
    big[::2, ::2] = a
    dbig = np.zeros((16, 12))
    dbig[::2, ::2] = da
    for aa, dd in [(np.ascontiguousarray(a), np.ascontiguousarray(da)), (np.asfortranarray(a), np.asfortranarray(da)),
                   (big[::2, ::2], dbig[::2, ::2])]:
        a0, d0 = aa.copy(), dd.copy()
        (lu, piv, _), dlu = difflapack.getrf_jvp(aa, dd)
        np.testing.assert_array_equal(lu, want[0][0])
        np.testing.assert_allclose(dlu, want[1], rtol=1e-14, atol=1e-14)
        _, pullback = difflapack.getrf_vjp(aa)
        w0 = w.copy()
        pullback(w)
        np.testing.assert_array_equal(aa, a0)
        np.testing.assert_array_equal(dd, d0)
        np.testing.assert_array_equal(w, w0)
    ai = np.array([[1, 4], [3, 2]])
    lu, piv, info = difflapack.getrf(ai)
    np.testing.assert_allclose(lu, scipy.linalg.lapack.dgetrf(ai.astype(float))[0])


def test_bad_arguments_name_the_argument():
    a = np.eye(3)
    with pytest.raises(ValueError, match="a"):
        difflapack.getrf(np.ones(3))
    with pytest.raises(ValueError, match="da is complex"):
        difflapack.getrf_jvp(a, np.eye(3) * 1j)
    with pytest.raises(ValueError, match="a"):
        difflapack.getrf(np.array([[np.nan]]))
    with pytest.raises(ValueError, match="da"):
        difflapack.getrf_jvp(a, np.ones((3, 2)))
    _, pullback = difflapack.getrf_vjp(a)
    with pytest.raises(ValueError, match="lu_bar"):
        pullback(np.ones((2, 3)))


# ------------------------------------------------------------------ zero pivots
def exact_lu_matrix(n, zero_at, seed=0, m=None):
    """A = L U exactly in floating point, with dyadic |L(i,j)| <= 1/2 (so partial pivoting
    keeps the order and LAPACK recovers L, U exactly) and U(zero_at, zero_at) = 0."""
    m = n if m is None else m
    r = rng(seed)
    k = min(m, n)
    L = np.tril(r.choice([-0.5, -0.25, 0.0, 0.25, 0.5], size=(m, k)), -1) + np.eye(m, k)
    U = np.triu(r.integers(-3, 4, size=(k, n)).astype(float))
    np.fill_diagonal(U, 4.0)
    U[zero_at, zero_at] = 0.0
    return L @ U


def test_zero_last_pivot_square_gives_finite_derivative():
    a = exact_lu_matrix(5, zero_at=4)
    lu, piv, info = difflapack.getrf(a)
    assert info == 5 == scipy.linalg.lapack.dgetrf(a)[2]
    da, w = rng(1).standard_normal((5, 5)), rng(2).standard_normal((5, 5))
    (lu2, piv2, info2), dlu = difflapack.getrf_jvp(a, da)
    assert info2 == 5 and np.all(np.isfinite(dlu))
    assert_close(dlu, fd_getrf_fixed_pivots(a, da, piv), 1e-6, "zero last pivot: jvp vs FD")
    (_, _, info3), pullback = difflapack.getrf_vjp(a)
    assert info3 == 5
    abar = pullback(w)
    assert np.all(np.isfinite(abar))
    assert_dot_product(inner(dlu, w), inner(da, abar), 1e-12, "zero last pivot")


def test_zero_last_pivot_wide_gives_finite_derivative():
    a = exact_lu_matrix(6, zero_at=3, m=4)  # 4 x 6, U(3,3) = 0, no rows below
    assert difflapack.getrf(a)[2] == 4
    da, w = rng(3).standard_normal((4, 6)), rng(4).standard_normal((4, 6))
    (lu, piv, _), dlu = difflapack.getrf_jvp(a, da)
    assert_close(dlu, fd_getrf_fixed_pivots(a, da, piv), 1e-6, "wide, zero last pivot")
    _, pullback = difflapack.getrf_vjp(a)
    assert_dot_product(inner(dlu, w), inner(da, pullback(w)), 1e-12, "wide, zero last pivot")


@pytest.mark.parametrize("shape,zero_at", [((5, 5), 2), ((5, 5), 0), ((6, 4), 3)])
def test_needed_zero_pivot_raises(shape, zero_at):
    m, n = shape
    a = exact_lu_matrix(n, zero_at=zero_at, m=m)
    lu, piv, info = difflapack.getrf(a)  # the primal completes, like LAPACK
    assert info == zero_at + 1
    for call in (lambda: difflapack.getrf_jvp(a, np.ones_like(a)), lambda: difflapack.getrf_vjp(a)):
        with pytest.raises(difflapack.SingularMatrixError) as err:
            call()
        assert err.value.info == zero_at + 1
        assert isinstance(err.value, np.linalg.LinAlgError)


def test_c_zero_pivot_nan_only_where_needed():
    """A zero pivot U(j,j) makes only the derivatives that divide by it undefined: L(j+1:, j) and
    the trailing block after it get NaN for a generic tangent; everything before stays finite;
    an exactly zero (co)tangent gives exactly zero (never NaN)."""
    j = 1
    a = exact_lu_matrix(5, zero_at=j)
    A, dA = np.asfortranarray(a), np.ones((5, 5), order="F")
    ipiv = np.zeros(5, dtype=np.int32)
    assert _core.lib.dl_dgetrf_fwd(1, 5, 5, _core.ptr(A), 5, _core.ptr(ipiv), _core.ptr(dA), 5) == j + 1
    undefined = np.zeros((5, 5), bool)
    undefined[j + 1:, j:] = True
    assert np.all(np.isnan(dA[undefined])) and np.all(np.isfinite(dA[~undefined]))
    lu = A.copy()
    for zero in (np.zeros((5, 5), order="F"),):
        dZ = zero.copy(order="F")
        A2 = np.asfortranarray(a)
        assert _core.lib.dl_dgetrf_fwd(1, 5, 5, _core.ptr(A2), 5, _core.ptr(ipiv), _core.ptr(dZ), 5) == j + 1
        assert np.all(dZ == 0)
        assert _core.lib.dl_dgetrf_rev(1, 5, 5, _core.ptr(lu), 5, _core.ptr(ipiv), _core.ptr(zero), 5) == j + 1
        assert np.all(zero == 0)
    # a cotangent on the well-defined outputs only (U's rows 0..j, L's columns < j): finite
    dLU = np.zeros((5, 5), order="F")
    dLU[:j + 1, :] = 1.0
    dLU[:, :j] = 1.0
    assert _core.lib.dl_dgetrf_rev(1, 5, 5, _core.ptr(lu), 5, _core.ptr(ipiv), _core.ptr(dLU), 5) == j + 1
    assert np.all(np.isfinite(dLU))
    dLU = np.ones((5, 5), order="F")   # touching the undefined part: NaN appears
    assert _core.lib.dl_dgetrf_rev(1, 5, 5, _core.ptr(lu), 5, _core.ptr(ipiv), _core.ptr(dLU), 5) == j + 1
    assert np.any(np.isnan(dLU))


# ------------------------------------------------------------------ C kernels directly
@pytest.mark.parametrize("m,n", [(5, 5), (9, 4), (4, 9), (40, 23)])
def test_c_kernels_padded_leading_dimensions(m, n):
    a, da, w = problem(m, n, seed=m * n)
    (lu_w, piv_w, _), dlu_w = difflapack.getrf_jvp(a, da)
    _, pullback = difflapack.getrf_vjp(a)
    abar_w = pullback(w)
    lda, ldd = m + 3, m + 5
    A = np.full((lda, n), 777.0, order="F")
    A[:m] = a
    dA = np.full((ldd, n), -555.0, order="F")
    dA[:m] = da
    ipiv = np.zeros(min(m, n), dtype=np.int32)
    assert _core.lib.dl_dgetrf_fwd(1, m, n, _core.ptr(A), lda, _core.ptr(ipiv), _core.ptr(dA), ldd) == 0
    np.testing.assert_array_equal(A[:m], lu_w)
    np.testing.assert_array_equal(ipiv - 1, piv_w)
    np.testing.assert_allclose(dA[:m], dlu_w, rtol=1e-13, atol=1e-13)
    assert np.all(A[m:] == 777.0) and np.all(dA[m:] == -555.0)
    G = np.full((ldd, n), -555.0, order="F")
    G[:m] = w
    assert _core.lib.dl_dgetrf_rev(1, m, n, _core.ptr(A), lda, _core.ptr(ipiv), _core.ptr(G), ldd) == 0
    np.testing.assert_allclose(G[:m], abar_w, rtol=1e-13, atol=1e-13)
    assert np.all(G[m:] == -555.0)


def test_c_inactive_touches_nothing():
    a, _, _ = problem(6, 6, seed=8)
    A = np.asfortranarray(a.copy())
    ipiv = np.zeros(6, dtype=np.int32)
    assert _core.lib.dl_dgetrf_fwd(0, 6, 6, _core.ptr(A), 6, _core.ptr(ipiv), None, 0) == 0
    np.testing.assert_array_equal(A, scipy.linalg.lapack.dgetrf(a)[0])
    assert _core.lib.dl_dgetrf_rev(0, 6, 6, _core.ptr(A), 6, _core.ptr(ipiv), None, 0) == 0


def test_c_error_codes():
    lib, ptr = _core.lib, _core.ptr
    A, dA = np.eye(4, order="F"), np.eye(4, order="F")
    ipiv = np.arange(1, 5, dtype=np.int32)
    assert lib.dl_dgetrf(-1, 4, ptr(A), 4, ptr(ipiv)) == -1
    assert lib.dl_dgetrf(4, -1, ptr(A), 4, ptr(ipiv)) == -2
    assert lib.dl_dgetrf(4, 4, ptr(A), 3, ptr(ipiv)) == -4
    assert lib.dl_dgetrf_fwd(1, -1, 4, ptr(A), 4, ptr(ipiv), ptr(dA), 4) == -1
    assert lib.dl_dgetrf_fwd(1, 4, -2, ptr(A), 4, ptr(ipiv), ptr(dA), 4) == -2
    assert lib.dl_dgetrf_fwd(1, 4, 4, ptr(A), 2, ptr(ipiv), ptr(dA), 4) == -4
    assert lib.dl_dgetrf_fwd(1, 4, 4, ptr(A), 4, ptr(ipiv), ptr(dA), 3) == -108
    np.testing.assert_array_equal(A, np.eye(4))  # untouched on -i
    assert lib.dl_dgetrf_rev(1, -1, 4, ptr(A), 4, ptr(ipiv), ptr(dA), 4) == -1
    assert lib.dl_dgetrf_rev(1, 4, 4, ptr(A), 3, ptr(ipiv), ptr(dA), 4) == -4
    assert lib.dl_dgetrf_rev(1, 4, 4, ptr(A), 4, ptr(ipiv), ptr(dA), 3) == -108
    bad = np.array([1, 2, 5, 4], dtype=np.int32)
    assert lib.dl_dgetrf_rev(1, 4, 4, ptr(A), 4, ptr(bad), ptr(dA), 4) == -5
    np.testing.assert_array_equal(dA, np.eye(4))
