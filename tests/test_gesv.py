"""gesv and solve: primal, jvp, vjp (NumPy API) and the C kernels dl_dgesv{,_fwd,_rev}: 1-D b,
nrhs 1 and > 1, every activity pattern of (a, b), cotangents of both x and the packed
factors (zero / nonzero), DL_WANT_DLU, padded leading dimensions, n = 0, singular a.
Evidence: a dense oracle (dx = a^{-1}(db - da x), a_bar = -b_bar x^T), the getrf rules'
own tests (dlu, lu_bar parts), central differences and dot-product tests."""
import numpy as np
import pytest
import scipy.linalg.lapack

import difflapack
from difflapack import _core
from _util import assert_close, assert_dot_product, central_difference, cond, fd_tol, general, inner, rng, tol
from test_getrf import exact_lu_matrix, getrf_tangent_oracle, lu_kappa

NRHS = [None, 1, 4]
ACTIVITY = [(True, True), (True, False), (False, True), (False, False)]  # (a, b)


def problem(n, nrhs, seed):
    r = rng(seed + 61)
    shape = (n,) if nrhs is None else (n, nrhs)
    a = general(n, n, seed=seed)
    return a, r.standard_normal(shape), r.standard_normal((n, n)), r.standard_normal(shape), \
        r.standard_normal(shape), r.standard_normal((n, n))


def oracle(a, b, da, db, xbar):
    n = a.shape[0]
    x = np.linalg.solve(a, b.reshape(n, -1))
    dx = np.linalg.solve(a, db.reshape(n, -1) - da @ x)
    bbar = np.linalg.solve(a.T, xbar.reshape(n, -1))
    return x.reshape(b.shape), dx.reshape(b.shape), -bbar @ x.T, bbar.reshape(b.shape)


# ------------------------------------------------------------------ primal
@pytest.mark.parametrize("nrhs", NRHS)
@pytest.mark.parametrize("n", [1, 6, 50])
def test_primal_matches_scipy(nrhs, n):
    a, b, *_ = problem(n, nrhs, seed=n)
    lu, piv, x, info = difflapack.gesv(a, b)
    lu_s, piv_s, x_s, info_s = scipy.linalg.lapack.dgesv(a, b)
    assert info == info_s == 0 and x.shape == b.shape
    assert_close(lu, lu_s, tol(cond(a)), "gesv lu")  # SciPy bundles its own OpenBLAS: rounding differs
    np.testing.assert_array_equal(piv, piv_s)
    assert_close(x, x_s, tol(cond(a)), "gesv x")
    assert_close(difflapack.solve(a, b), x_s, tol(cond(a)), "solve")


# ------------------------------------------------------------------ forward
@pytest.mark.parametrize("nrhs", NRHS)
@pytest.mark.parametrize("act_a,act_b", ACTIVITY)
def test_jvp_oracle_and_fd(nrhs, act_a, act_b):
    n = 10
    a, b, da, db, _, _ = problem(n, nrhs, seed=2)
    da_in, db_in = (da if act_a else None), (db if act_b else None)
    (lu, piv, x, info), (dlu, dx) = difflapack.gesv_jvp(a, b, da_in, db_in)
    _, want_dx, _, _ = oracle(a, b, da if act_a else 0 * da, db if act_b else 0 * db, b)
    kappa = cond(a)
    assert info == 0 and dx.shape == b.shape and dlu.shape == (n, n)
    assert_close(dx, want_dx, tol(kappa), "dx vs oracle")
    assert_close(dlu, getrf_tangent_oracle(lu, piv, da if act_a else 0 * da), tol(lu_kappa(lu, piv)), "dlu")
    fd = central_difference(lambda a_, b_: difflapack.solve(a_, b_), (a, b), (da_in, db_in))
    assert_close(dx, fd, fd_tol(kappa), "dx vs FD")
    x2, dx2 = difflapack.solve_jvp(a, b, da_in, db_in)
    np.testing.assert_array_equal(x2, x)
    assert_close(dx2, dx, 1e-14, "solve_jvp == gesv_jvp")


# ------------------------------------------------------------------ reverse
@pytest.mark.parametrize("nrhs", NRHS)
@pytest.mark.parametrize("lubar_kind", ["none", "zero", "random"])
def test_vjp_oracle(nrhs, lubar_kind):
    n = 11
    a, b, _, _, xbar, lubar = problem(n, nrhs, seed=4)
    (lu, piv, x, info), pullback = difflapack.gesv_vjp(a, b)
    lubar_in = {"none": None, "zero": np.zeros((n, n)), "random": lubar}[lubar_kind]
    abar, bbar = pullback(xbar, lubar_in) if lubar_in is not None else pullback(xbar)
    _, _, want_abar, want_bbar = oracle(a, b, 0 * a, 0 * b, xbar)
    if lubar_kind == "random":
        _, getrf_pb = difflapack.getrf_vjp(a)
        want_abar = want_abar + getrf_pb(lubar)
    kappa = cond(a)
    assert bbar.shape == b.shape
    assert_close(bbar, want_bbar, tol(kappa), "b_bar")
    assert_close(abar, want_abar, tol(kappa ** 2), "a_bar")


@pytest.mark.parametrize("nrhs", NRHS)
@pytest.mark.parametrize("act_a,act_b", ACTIVITY[:3])
def test_dot_product_both_outputs(nrhs, act_a, act_b):
    """J maps (da, db) to (dlu, dx); J^T maps (lu_bar, x_bar) to (a_bar, b_bar)."""
    n = 37
    a, b, da, db, xbar, lubar = problem(n, nrhs, seed=6)
    v = (da if act_a else None, db if act_b else None)
    (lu, piv, _, _), (dlu, dx) = difflapack.gesv_jvp(a, b, *v)
    _, pullback = difflapack.gesv_vjp(a, b)
    abar, bbar = pullback(xbar, lubar)
    assert_dot_product(inner((dlu, dx), (lubar, xbar)), inner(v, (abar, bbar)),
                       tol(max(cond(a), lu_kappa(lu, piv)) ** 2), "gesv")


def test_solve_vjp_and_x_bar_none():
    n = 8
    a, b, _, _, xbar, lubar = problem(n, 3, seed=8)
    x, pullback = difflapack.solve_vjp(a, b)
    abar, bbar = pullback(xbar)
    _, _, want_abar, want_bbar = oracle(a, b, 0 * a, 0 * b, xbar)
    assert_close(abar, want_abar, tol(cond(a) ** 2), "solve a_bar")
    assert_close(bbar, want_bbar, tol(cond(a)), "solve b_bar")
    _, gesv_pb = difflapack.gesv_vjp(a, b)
    abar_lu, bbar0 = gesv_pb(None, lubar)
    assert not bbar0.any()
    _, getrf_pb = difflapack.getrf_vjp(a)
    assert_close(abar_lu, getrf_pb(lubar), 1e-13, "lu_bar only")


def test_vjp_fd_gradient():
    """Gradient of <w, solve(a, b)> w.r.t. every entry of a and b by central differences."""
    n = 5
    a, b, _, _, w, _ = problem(n, None, seed=10)
    _, pullback = difflapack.solve_vjp(a, b)
    abar, bbar = pullback(w)
    f = lambda a_, b_: np.vdot(w, difflapack.solve(a_, b_))  # noqa: E731
    for idx in np.ndindex(n, n):
        e = np.zeros((n, n))
        e[idx] = 1.0
        assert abs(float(central_difference(f, (a, b), (e, None))) - abar[idx]) < 1e-7 * (1 + abs(abar[idx]))
    for i in range(n):
        e = np.zeros(n)
        e[i] = 1.0
        assert abs(float(central_difference(f, (a, b), (None, e))) - bbar[i]) < 1e-7 * (1 + abs(bbar[i]))


# ------------------------------------------------------------------ edge cases
def test_empty():
    a, b = np.zeros((0, 0)), np.zeros(0)
    lu, piv, x, info = difflapack.gesv(a, b)
    assert lu.shape == (0, 0) and x.shape == (0,) and info == 0
    (_, _, x, _), (dlu, dx) = difflapack.gesv_jvp(a, np.zeros((0, 2)), a, np.zeros((0, 2)))
    assert dx.shape == (0, 2) and dlu.shape == (0, 0)
    _, pullback = difflapack.gesv_vjp(a, np.zeros((0, 2)))
    abar, bbar = pullback(np.zeros((0, 2)))
    assert abar.shape == (0, 0) and bbar.shape == (0, 2)
    # nrhs = 0: only the factor part
    a5, *_ = problem(5, None, seed=1)
    (_, _, x, _), (dlu, dx) = difflapack.gesv_jvp(a5, np.zeros((5, 0)), a5, None)
    assert x.shape == dx.shape == (5, 0)
    _, pullback = difflapack.gesv_vjp(a5, np.zeros((5, 0)))
    abar, _ = pullback(np.zeros((5, 0)), np.ones((5, 5)))
    _, getrf_pb = difflapack.getrf_vjp(a5)
    assert_close(abar, getrf_pb(np.ones((5, 5))), 1e-13, "nrhs = 0")


def test_singular():
    a = exact_lu_matrix(5, zero_at=2)
    b = np.arange(5.0)
    lu, piv, x, info = difflapack.gesv(a, b)
    assert info == 3 == scipy.linalg.lapack.dgesv(a, b)[3]
    np.testing.assert_array_equal(x, b)  # not computed, like LAPACK / SciPy
    for name, call in (("solve", lambda: difflapack.solve(a, b)),
                       ("gesv_jvp", lambda: difflapack.gesv_jvp(a, b, a, b)),
                       ("gesv_vjp", lambda: difflapack.gesv_vjp(a, b)),
                       ("solve_jvp", lambda: difflapack.solve_jvp(a, b, None, b)),
                       ("solve_vjp", lambda: difflapack.solve_vjp(a, b))):
        with pytest.raises(difflapack.SingularMatrixError, match=f"^{name}: ") as err:  # the function called
            call()
        assert err.value.info == 3
    # a zero LAST pivot is singular for a solve too (unlike for getrf's derivative)
    with pytest.raises(difflapack.SingularMatrixError):
        difflapack.solve(exact_lu_matrix(4, zero_at=3), np.ones(4))
    # C: a singular A leaves B unchanged (LAPACK), so the derivative of that output is the
    # identity: dB keeps its tangent, Bbar = Xbar; dA (without DL_WANT_DLU) is untouched; in
    # reverse the LU cotangent goes through the getrf adjoint alone (zero stays exactly zero)
    ptr, lib = _core.ptr, _core.lib
    A, dA, ipiv = np.asfortranarray(a), np.ones((5, 5), order="F"), np.zeros(5, dtype=np.int32)
    B, dB = np.ones((5, 1), order="F"), np.arange(5.0).reshape(5, 1).copy(order="F")
    assert lib.dl_dgesv_fwd(3, 5, 1, ptr(A), 5, ptr(dA), 5, ptr(ipiv), ptr(B), 5, ptr(dB), 5) == 3
    assert np.all(B == 1.0) and np.all(dB[:, 0] == np.arange(5.0)) and np.all(dA == 1.0)
    dB0 = np.ones((5, 1), order="F")
    assert lib.dl_dgesv_fwd(1, 5, 1, ptr(np.asfortranarray(a)), 5, ptr(dA), 5, ptr(ipiv), ptr(B), 5, ptr(dB0), 5) == 3
    assert np.all(dB0 == 0)   # B inactive: its (unchanged) value has a zero tangent
    G, X = np.zeros((5, 5), order="F"), np.ones((5, 1), order="F")
    xbar = np.arange(1.0, 6.0).reshape(5, 1).copy(order="F")
    assert lib.dl_dgesv_rev(3, 5, 1, ptr(A), 5, ptr(ipiv), ptr(G), 5, ptr(X), 5, ptr(xbar), 5) == 3
    assert np.all(G == 0) and np.all(xbar[:, 0] == np.arange(1.0, 6.0))


def test_inputs_untouched_orders_strides_ints():
    n = 6
    a, b, da, db, xbar, lubar = problem(n, None, seed=12)
    want = difflapack.gesv_jvp(a, b, da, db)
    big = np.zeros(2 * n)
    big[::2] = b
    for aa, bb in [(np.ascontiguousarray(a), big[::2]), (np.asfortranarray(a), b[::-1].copy()[::-1])]:
        saved = [v.copy() for v in (aa, bb, da, db, xbar, lubar)]
        (_, _, x, _), (dlu, dx) = difflapack.gesv_jvp(aa, bb, da, db)
        np.testing.assert_allclose(dx, want[1][1], rtol=1e-13)
        np.testing.assert_allclose(dlu, want[1][0], rtol=1e-13, atol=1e-13)
        _, pullback = difflapack.gesv_vjp(aa, bb)
        pullback(xbar, lubar)
        difflapack.solve_jvp(aa, bb, da, db)
        for v, s in zip((aa, bb, da, db, xbar, lubar), saved):
            np.testing.assert_array_equal(v, s)
    x = difflapack.solve(np.array([[2, 1], [1, 3]]), np.array([1, 2]))
    np.testing.assert_allclose(x, np.linalg.solve([[2.0, 1.0], [1.0, 3.0]], [1.0, 2.0]))


def test_bad_arguments_name_the_argument():
    a, b, da, db, xbar, _ = problem(4, 2, seed=14)
    cases = [
        ("a", lambda: difflapack.gesv(a[:, :3], b)),
        ("a", lambda: difflapack.solve(np.ones(4), b)),
        ("da is complex", lambda: difflapack.solve_jvp(a, b, a * 1j, None)),
        ("b", lambda: difflapack.gesv(a, np.ones((3, 2)))),
        ("b", lambda: difflapack.solve(a, np.ones((4, 2, 2)))),
        ("da", lambda: difflapack.gesv_jvp(a, b, np.ones((4, 3)), db)),
        ("db", lambda: difflapack.solve_jvp(a, b, da, np.ones((4, 3)))),
        ("da", lambda: difflapack.solve_jvp(a, b, np.full((4, 4), np.nan), db)),
    ]
    for name, call in cases:
        with pytest.raises(ValueError, match=name):
            call()
    _, pullback = difflapack.gesv_vjp(a, b)
    with pytest.raises(ValueError, match="x_bar"):
        pullback(np.ones(4))
    with pytest.raises(ValueError, match="lu_bar"):
        pullback(xbar, np.ones((3, 3)))


# ------------------------------------------------------------------ C kernels directly
@pytest.mark.parametrize("nrhs", [1, 3])
def test_c_kernels_padded(nrhs):
    n = 7
    a, b, da, db, xbar, lubar = problem(n, nrhs, seed=16)
    ptr, lib = _core.ptr, _core.lib
    (lu_w, piv_w, x_w, _), (dlu_w, dx_w) = difflapack.gesv_jvp(a, b, da, db)
    _, pullback = difflapack.gesv_vjp(a, b)
    abar_w, bbar_w = pullback(xbar, lubar)

    def padded(v, ld, fill):
        out = np.full((ld, v.shape[1]), fill, order="F")
        out[:v.shape[0]] = v
        return out

    A, dA, B, dB = padded(a, n + 1, 9.0), padded(da, n + 2, 8.0), padded(b, n + 3, 7.0), padded(db, n + 4, 6.0)
    ipiv = np.zeros(n, dtype=np.int32)
    assert lib.dl_dgesv_fwd(3 | 8, n, nrhs, ptr(A), n + 1, ptr(dA), n + 2, ptr(ipiv), ptr(B), n + 3,
                            ptr(dB), n + 4) == 0
    np.testing.assert_array_equal(A[:n], lu_w)
    np.testing.assert_array_equal(ipiv - 1, piv_w)
    np.testing.assert_allclose(B[:n], x_w, rtol=1e-14)
    np.testing.assert_allclose(dB[:n], dx_w, rtol=1e-13)
    np.testing.assert_allclose(dA[:n], dlu_w, rtol=1e-13, atol=1e-13)
    assert np.all(A[n:] == 9.0) and np.all(dA[n:] == 8.0) and np.all(B[n:] == 7.0) and np.all(dB[n:] == 6.0)
    # without DL_WANT_DLU the tangent of a is left as it was
    A, dA, B, dB = padded(a, n + 1, 9.0), padded(da, n + 2, 8.0), padded(b, n + 3, 7.0), padded(db, n + 4, 6.0)
    assert lib.dl_dgesv_fwd(3, n, nrhs, ptr(A), n + 1, ptr(dA), n + 2, ptr(ipiv), ptr(B), n + 3,
                            ptr(dB), n + 4) == 0
    np.testing.assert_array_equal(dA[:n], da)
    np.testing.assert_allclose(dB[:n], dx_w, rtol=1e-13)
    # reverse, both cotangents
    G, XB = padded(lubar, n + 2, 5.0), padded(xbar, n + 4, 4.0)
    assert lib.dl_dgesv_rev(3, n, nrhs, ptr(A), n + 1, ptr(ipiv), ptr(G), n + 2, ptr(B), n + 3,
                            ptr(XB), n + 4) == 0
    np.testing.assert_allclose(G[:n], abar_w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(XB[:n], bbar_w, rtol=1e-13)
    assert np.all(G[n:] == 5.0) and np.all(XB[n:] == 4.0)


def test_c_activity_masks():
    n, nrhs = 6, 2
    a, b, da, db, xbar, _ = problem(n, nrhs, seed=18)
    ptr, lib = _core.ptr, _core.lib
    f = lambda v: np.asfortranarray(np.array(v, dtype=float))  # noqa: E731
    _, dx_a, abar, bbar = oracle(a, b, da, 0 * db, xbar)
    _, dx_b, _, _ = oracle(a, b, 0 * da, db, xbar)
    ipiv = np.zeros(n, dtype=np.int32)
    # A only: dB not read (NaN in), receives dX
    A, B, dB = f(a), f(b), np.full((n, nrhs), np.nan, order="F")
    assert lib.dl_dgesv_fwd(1, n, nrhs, ptr(A), n, ptr(f(da)), n, ptr(ipiv), ptr(B), n, ptr(dB), n) == 0
    assert_close(dB, dx_a, 1e-12, "fwd a only")
    # B only: dA never touched (NULL)
    A, B, dB = f(a), f(b), f(db)
    assert lib.dl_dgesv_fwd(2 | 8, n, nrhs, ptr(A), n, None, 0, ptr(ipiv), ptr(B), n, ptr(dB), n) == 0
    assert_close(dB, dx_b, 1e-12, "fwd b only")
    # nothing active: only the primal
    A, B, dB = f(a), f(b), f(db)
    assert lib.dl_dgesv_fwd(0, n, nrhs, ptr(A), n, None, 0, ptr(ipiv), ptr(B), n, ptr(dB), n) == 0
    np.testing.assert_array_equal(dB, db)
    LU, X = A, B
    # reverse, B only
    G = f(xbar)
    assert lib.dl_dgesv_rev(2, n, nrhs, ptr(LU), n, ptr(ipiv), None, 0, ptr(X), n, ptr(G), n) == 0
    assert_close(G, bbar, 1e-12, "rev b only")
    # reverse, A only (LUbar = 0 on entry): Xbar in dB, Bbar out
    G, GA = f(xbar), np.zeros((n, n), order="F")
    assert lib.dl_dgesv_rev(1, n, nrhs, ptr(LU), n, ptr(ipiv), ptr(GA), n, ptr(X), n, ptr(G), n) == 0
    assert_close(GA, abar, 1e-11, "rev a only")
    G = f(xbar)
    assert lib.dl_dgesv_rev(0, n, nrhs, ptr(LU), n, ptr(ipiv), None, 0, ptr(X), n, ptr(G), n) == 0
    np.testing.assert_array_equal(G, xbar)


def test_c_error_codes():
    lib, ptr = _core.lib, _core.ptr
    n = 4
    A, B, D = np.eye(n, order="F"), np.ones((n, 2), order="F"), np.ones((n, n), order="F")
    ipiv = np.arange(1, n + 1, dtype=np.int32)
    assert lib.dl_dgesv(-1, 2, ptr(A), n, ptr(ipiv), ptr(B), n) == -1
    assert lib.dl_dgesv(n, -1, ptr(A), n, ptr(ipiv), ptr(B), n) == -2
    assert lib.dl_dgesv(n, 2, ptr(A), n - 1, ptr(ipiv), ptr(B), n) == -4
    assert lib.dl_dgesv(n, 2, ptr(A), n, ptr(ipiv), ptr(B), n - 1) == -7
    assert lib.dl_dgesv_fwd(3, n, 2, ptr(A), n, ptr(D), n - 1, ptr(ipiv), ptr(B), n, ptr(B), n) == -107
    assert lib.dl_dgesv_fwd(3, n, 2, ptr(A), n, ptr(D), n, ptr(ipiv), ptr(B), n, ptr(B), 2) == -112
    bad = np.array([1, 9, 3, 4], dtype=np.int32)
    assert lib.dl_dgesv_rev(3, n, 2, ptr(A), n, ptr(bad), ptr(D), n, ptr(B), n, ptr(B), n) == -5
    assert lib.dl_dgesv_rev(3, n, 2, ptr(A), n, ptr(ipiv), ptr(D), n, ptr(B), 1, ptr(B), n) == -7
    assert lib.dl_dgesv_rev(3, n, 2, ptr(A), n, ptr(ipiv), ptr(D), 3, ptr(B), n, ptr(B), n) == -108
    assert lib.dl_dgesv_rev(3, n, 2, ptr(A), n, ptr(ipiv), ptr(D), n, ptr(B), n, ptr(B), 3) == -112
    np.testing.assert_array_equal(A, np.eye(n))
    np.testing.assert_array_equal(B, 1.0)
    np.testing.assert_array_equal(D, 1.0)
