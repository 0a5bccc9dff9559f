"""getrs: primal, jvp, vjp (NumPy API) and the C kernels dl_dgetrs{,_fwd,_rev}: trans N/T/C,
1-D b, nrhs 1 and > 1, every activity pattern of (packed factors, b), padded leading
dimensions, accumulation into dLU, n = 0, singular U, and the chain getrf -> getrs.
Evidence: an independent dense oracle (A = P L U rebuilt, explicit solves), central
differences and dot-product tests."""
import itertools

import numpy as np
import pytest
import scipy.linalg

import difflapack
from difflapack import _core
from _util import assert_close, assert_dot_product, central_difference, cond, fd_tol, general, inner, rng, tol
from test_getrf import unpack

TRANS = ["N", "T", "C"]
NRHS = [None, 1, 3]  # None: 1-D b
ACTIVITY = [(True, True), (True, False), (False, True), (False, False)]  # (lu, b)


def rebuild(lu, piv):
    """A = P L U (dense) from the packed factors."""
    L, U, p = unpack(lu, piv)
    a = np.empty_like(lu)
    a[p] = L @ U
    return a


def op(m, trans):
    return m if trans == "N" else m.T


def getrs_oracle(lu, piv, b, dlu, db, xbar, trans):
    """x, dx, lu_bar, b_bar from the dense formulas: dA = P (dL U + L dU),
    dx = op(A)^{-1} (db - op(dA) x), b_bar = op(A)^{-T} x_bar, A_bar = -b_bar x^T (N) or
    -x b_bar^T (T), L_bar = stril(P^T A_bar U^T), U_bar = triu(L^T P^T A_bar)."""
    n = lu.shape[0]
    L, U, p = unpack(lu, piv)
    a = rebuild(lu, piv)
    shape = np.shape(b)
    b2, db2, xbar2 = (np.reshape(v, (n, -1)) for v in (b, db, xbar))
    x = np.linalg.solve(op(a, trans), b2)
    da = np.empty_like(a)
    da[p] = np.tril(dlu, -1) @ U + L @ np.triu(dlu)
    dx = np.linalg.solve(op(a, trans), db2 - op(da, trans) @ x)
    bbar = np.linalg.solve(op(a, trans).T, xbar2)
    abar = -bbar @ x.T if trans == "N" else -x @ bbar.T
    pabar = abar[p]
    lubar = np.tril(pabar @ U.T, -1) + np.triu(L.T @ pabar)
    return x.reshape(shape), dx.reshape(shape), lubar, bbar.reshape(shape)


def problem(n, nrhs, seed):
    r = rng(seed + 31)
    a = general(n, n, seed=seed)
    lu, piv, _ = difflapack.getrf(a)
    shape = (n,) if nrhs is None else (n, nrhs)
    return lu, piv, r.standard_normal(shape), r.standard_normal((n, n)), r.standard_normal(shape), \
        r.standard_normal(shape)


def kappa_of(lu, piv):
    return cond(rebuild(lu, piv)) if lu.size else 1.0


# ------------------------------------------------------------------ primal
@pytest.mark.parametrize("trans", TRANS)
@pytest.mark.parametrize("nrhs", NRHS)
@pytest.mark.parametrize("n", [1, 6, 40])
def test_primal_matches_scipy(trans, nrhs, n):
    lu, piv, b, *_ = problem(n, nrhs, seed=n)
    x = difflapack.getrs(lu, piv, b, trans)
    want = scipy.linalg.lu_solve((lu, piv), b, trans={"N": 0, "T": 1, "C": 2}[trans])
    assert x.shape == b.shape
    assert_close(x, want, tol(kappa_of(lu, piv)), "getrs")


# ------------------------------------------------------------------ forward
@pytest.mark.parametrize("trans", TRANS)
@pytest.mark.parametrize("nrhs", NRHS)
@pytest.mark.parametrize("act_lu,act_b", ACTIVITY)
def test_jvp_oracle_and_fd(trans, nrhs, act_lu, act_b):
    n = 9
    lu, piv, b, dlu, db, _ = problem(n, nrhs, seed=3)
    dlu_in, db_in = (dlu if act_lu else None), (db if act_b else None)
    x, dx = difflapack.getrs_jvp(lu, piv, b, dlu_in, db_in, trans)
    want_x, want_dx, _, _ = getrs_oracle(lu, piv, b, dlu if act_lu else 0 * dlu, db if act_b else 0 * db, b, trans)
    kappa = kappa_of(lu, piv)
    assert x.shape == dx.shape == b.shape
    assert_close(x, want_x, tol(kappa), "x")
    assert_close(dx, want_dx, tol(kappa), "dx vs oracle")
    fd = central_difference(lambda f, c: difflapack.getrs(f, piv, c, trans), (lu, b), (dlu_in, db_in))
    assert_close(dx, fd, fd_tol(kappa), "dx vs FD")


# ------------------------------------------------------------------ reverse
@pytest.mark.parametrize("trans", TRANS)
@pytest.mark.parametrize("nrhs", NRHS)
@pytest.mark.parametrize("n", [1, 7, 60])
def test_vjp_oracle(trans, nrhs, n):
    lu, piv, b, _, _, xbar = problem(n, nrhs, seed=n + 1)
    x, pullback = difflapack.getrs_vjp(lu, piv, b, trans)
    lubar, bbar = pullback(xbar)
    _, _, want_lubar, want_bbar = getrs_oracle(lu, piv, b, np.zeros((n, n)), np.zeros_like(b), xbar, trans)
    kappa = kappa_of(lu, piv)
    assert bbar.shape == b.shape and lubar.shape == (n, n)
    assert_close(bbar, want_bbar, tol(kappa), "b_bar")
    assert_close(lubar, want_lubar, tol(kappa ** 2), "lu_bar")


@pytest.mark.parametrize("trans", TRANS)
@pytest.mark.parametrize("nrhs", NRHS)
@pytest.mark.parametrize("act_lu,act_b", ACTIVITY[:3])
def test_dot_product(trans, nrhs, act_lu, act_b):
    n = 33
    lu, piv, b, dlu, db, xbar = problem(n, nrhs, seed=5)
    v = (dlu if act_lu else None, db if act_b else None)
    _, jv = difflapack.getrs_jvp(lu, piv, b, *v, trans=trans)
    _, pullback = difflapack.getrs_vjp(lu, piv, b, trans=trans)
    jtw = pullback(xbar)
    assert_dot_product(inner(jv, xbar), inner(v, jtw), tol(kappa_of(lu, piv) ** 2), f"getrs {trans}")


@pytest.mark.parametrize("trans", ["N", "T"])
@pytest.mark.parametrize("nrhs", [None, 3])
def test_tangent_scales_linearly_with_a_tiny_factor_seed(trans, nrhs):
    """dx(s dlu) = s dx(dlu) for s = 1e-12: stril(dL) (U X) must not be formed as the
    difference unit(dL) (U X) - U X, which cancels for a small dL."""
    lu, piv, b, dlu, db, xbar = problem(30, nrhs, seed=11)
    s = 1e-12
    _, dx = difflapack.getrs_jvp(lu, piv, b, dlu, None, trans=trans)
    _, dx_small = difflapack.getrs_jvp(lu, piv, b, s * dlu, None, trans=trans)
    assert_close(dx_small / s, dx, tol(kappa_of(lu, piv)), "tangent of a 1e-12 seed")


def test_vjp_fd_gradient_entrywise():
    """d/d lu(i,j) and d/d b(i) of <w, getrs(lu, piv, b)> against central differences."""
    n = 5
    lu, piv, b, _, _, w = problem(n, 2, seed=9)
    for trans in "NT":
        _, pullback = difflapack.getrs_vjp(lu, piv, b, trans)
        lubar, bbar = pullback(w)
        f = lambda f_, b_: np.vdot(w, difflapack.getrs(f_, piv, b_, trans))  # noqa: E731
        for i, j in itertools.product(range(n), range(n)):
            e = np.zeros((n, n))
            e[i, j] = 1.0
            assert abs(float(central_difference(f, (lu, b), (e, None))) - lubar[i, j]) < 1e-6 * (1 + abs(lubar[i, j]))
        for i, j in itertools.product(range(n), range(2)):
            e = np.zeros((n, 2))
            e[i, j] = 1.0
            assert abs(float(central_difference(f, (lu, b), (None, e))) - bbar[i, j]) < 1e-6 * (1 + abs(bbar[i, j]))


# ------------------------------------------------------------------ chain getrf -> getrs
@pytest.mark.parametrize("trans", ["N", "T"])
@pytest.mark.parametrize("nrhs", NRHS)
def test_chain_getrf_getrs(trans, nrhs):
    """Factor inside the differentiated code: x(a, b) = getrs(getrf(a), b) is op(a)^{-1} b,
    so dx = op(a)^{-1} (db - op(da) x) and a_bar = -b_bar x^T (N) / -x b_bar^T (T)."""
    n = 12
    r = rng(12)
    a = general(n, n, seed=12)
    shape = (n,) if nrhs is None else (n, nrhs)
    b, db, xbar, da = r.standard_normal(shape), r.standard_normal(shape), r.standard_normal(shape), \
        r.standard_normal((n, n))
    (lu, piv, _), dlu = difflapack.getrf_jvp(a, da)
    x, dx = difflapack.getrs_jvp(lu, piv, b, dlu, db, trans)
    kappa = cond(a)
    x2 = np.linalg.solve(op(a, trans), b.reshape(n, -1))
    want_dx = np.linalg.solve(op(a, trans), db.reshape(n, -1) - op(da, trans) @ x2)
    assert_close(dx, want_dx.reshape(shape), tol(kappa ** 2), "chain dx")
    (lu, piv, _), getrf_pb = difflapack.getrf_vjp(a)
    _, getrs_pb = difflapack.getrs_vjp(lu, piv, b, trans)
    lubar, bbar = getrs_pb(xbar)
    abar = getrf_pb(lubar)
    bb2 = np.linalg.solve(op(a, trans).T, xbar.reshape(n, -1))
    want_abar = -bb2 @ x2.T if trans == "N" else -x2 @ bb2.T
    assert_close(bbar, bb2.reshape(shape), tol(kappa), "chain b_bar")
    assert_close(abar, want_abar, tol(kappa ** 2), "chain a_bar")


# ------------------------------------------------------------------ edge cases and arguments
def test_empty():
    lu, piv = np.zeros((0, 0)), np.zeros(0, dtype=np.int32)
    assert difflapack.getrs(lu, piv, np.zeros(0)).shape == (0,)
    x, dx = difflapack.getrs_jvp(lu, piv, np.zeros((0, 2)), lu, np.zeros((0, 2)))
    assert x.shape == dx.shape == (0, 2)
    _, pullback = difflapack.getrs_vjp(lu, piv, np.zeros((0, 3)))
    lubar, bbar = pullback(np.zeros((0, 3)))
    assert lubar.shape == (0, 0) and bbar.shape == (0, 3)
    # nrhs = 0
    lu5, piv5, *_ = problem(5, None, seed=1)
    x, dx = difflapack.getrs_jvp(lu5, piv5, np.zeros((5, 0)), lu5, np.zeros((5, 0)))
    assert x.shape == dx.shape == (5, 0)
    _, pullback = difflapack.getrs_vjp(lu5, piv5, np.zeros((5, 0)))
    lubar, bbar = pullback(np.zeros((5, 0)))
    assert not lubar.any() and bbar.shape == (5, 0)


def test_singular_u_raises():
    lu = np.triu(np.ones((4, 4))) + np.eye(4)
    lu[2, 2] = 0.0
    piv = np.arange(4)
    for call in (lambda: difflapack.getrs(lu, piv, np.ones(4)),
                 lambda: difflapack.getrs_jvp(lu, piv, np.ones(4), lu, None),
                 lambda: difflapack.getrs_vjp(lu, piv, np.ones(4))):
        with pytest.raises(difflapack.SingularMatrixError) as err:
            call()
        assert err.value.info == 3
    B = np.ones((4, 1), order="F")
    assert _core.lib.dl_dgetrs(b"N", 4, 1, _core.ptr(np.asfortranarray(lu)), 4,
                               _core.ptr((piv + 1).astype(np.int32)), _core.ptr(B), 4) == 3


def test_inputs_untouched_orders_strides():
    lu, piv, b, dlu, db, xbar = problem(8, None, seed=2)
    want = difflapack.getrs_jvp(lu, piv, b, dlu, db, "T")
    big, dbig = np.zeros(16), np.zeros(16)
    big[::2], dbig[::2] = b, db
    rev, drev = b[::-1].copy(), db[::-1].copy()
    for L, bb, dd in [(np.ascontiguousarray(lu), big[::2], dbig[::2]), (np.asfortranarray(lu), rev[::-1], drev[::-1])]:
        saved = [v.copy() for v in (L, bb, dd, piv)]
        x, dx = difflapack.getrs_jvp(L, piv, bb, dlu, dd, "T")
        np.testing.assert_allclose(x, want[0], rtol=1e-14)
        np.testing.assert_allclose(dx, want[1], rtol=1e-13)
        _, pullback = difflapack.getrs_vjp(L, piv, bb, "T")
        pullback(xbar)
        for v, s in zip((L, bb, dd, piv), saved):
            np.testing.assert_array_equal(v, s)


def test_pullback_keeps_its_own_copies():
    lu, piv, b, _, _, xbar = problem(6, 2, seed=4)
    lu_mut = lu.copy()
    x, pullback = difflapack.getrs_vjp(lu_mut, piv, b)
    first = pullback(xbar)
    lu_mut[...] = 1.0  # the caller's input: the pullback copied it
    with pytest.raises(ValueError, match="read-only"):  # the solution the pullback keeps
        x[...] = 0.0
    second = pullback(xbar)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_bad_arguments_name_the_argument():
    lu, piv, b, dlu, db, xbar = problem(4, 2, seed=6)
    cases = [
        ("trans", lambda: difflapack.getrs(lu, piv, b, "X")),
        ("lu", lambda: difflapack.getrs(lu[:, :3], piv, b)),
        ("lu", lambda: difflapack.getrs(np.ones(4), piv, b)),
        ("piv", lambda: difflapack.getrs(lu, piv[:3], b)),
        ("piv", lambda: difflapack.getrs(lu, np.array([0, 1, 2, 4]), b)),
        ("piv", lambda: difflapack.getrs(lu, np.array([0, -1, 2, 3]), b)),
        ("piv", lambda: difflapack.getrs(lu, piv.astype(float), b)),
        ("b", lambda: difflapack.getrs(lu, piv, np.ones((5, 2)))),
        ("b", lambda: difflapack.getrs(lu, piv, np.ones((4, 2, 1)))),
        ("b", lambda: difflapack.getrs(lu, piv, np.array([1.0, np.inf, 0, 0]))),
        ("dlu", lambda: difflapack.getrs_jvp(lu, piv, b, np.ones((4, 3)), db)),
        ("db", lambda: difflapack.getrs_jvp(lu, piv, b, dlu, np.ones((4, 3)))),
        ("db", lambda: difflapack.getrs_jvp(lu, piv, b, dlu, np.ones(4))),
    ]
    for name, call in cases:
        with pytest.raises(ValueError, match=name):
            call()
    _, pullback = difflapack.getrs_vjp(lu, piv, b)
    with pytest.raises(ValueError, match="x_bar"):
        pullback(np.ones((4, 1)))


# ------------------------------------------------------------------ C kernels directly
@pytest.mark.parametrize("trans", ["N", "T"])
@pytest.mark.parametrize("nrhs", [1, 3])
def test_c_kernels_padded_and_accumulating(trans, nrhs):
    n = 7
    lu, piv, b, dlu, db, xbar = problem(n, nrhs, seed=8)
    ptr, lib, t = _core.ptr, _core.lib, trans.encode()
    want_x, want_dx, want_lubar, want_bbar = getrs_oracle(lu, piv, b, dlu, db, xbar, trans)
    kappa = kappa_of(lu, piv)
    ipiv = (piv + 1).astype(np.int32)

    def padded(v, ld, fill):
        out = np.full((ld, v.shape[1]), fill, order="F")
        out[:v.shape[0]] = v
        return out

    LU, DLU = padded(lu, n + 2, 9.0), padded(dlu, n + 3, 8.0)
    B, DB = padded(b, n + 4, 7.0), padded(db, n + 1, 6.0)
    assert lib.dl_dgetrs_fwd(3, t, n, nrhs, ptr(LU), n + 2, ptr(DLU), n + 3, ptr(ipiv),
                             ptr(B), n + 4, ptr(DB), n + 1) == 0
    assert_close(B[:n], want_x, tol(kappa), "x")
    assert_close(DB[:n], want_dx, tol(kappa), "dx")
    assert np.all(B[n:] == 7.0) and np.all(DB[n:] == 6.0) and np.all(LU[n:] == 9.0)
    X = padded(want_x, n + 5, 5.0)
    acc0 = rng(1).standard_normal((n, n))
    ACC, G = padded(acc0, n + 3, 4.0), padded(xbar, n + 2, 3.0)
    assert lib.dl_dgetrs_rev(3, t, n, nrhs, ptr(LU), n + 2, ptr(ACC), n + 3, ptr(ipiv),
                             ptr(X), n + 5, ptr(G), n + 2) == 0
    assert_close(G[:n], want_bbar, tol(kappa), "b_bar")
    assert_close(ACC[:n], acc0 + want_lubar, tol(kappa ** 2), "dLU accumulates")
    assert np.all(ACC[n:] == 4.0) and np.all(G[n:] == 3.0) and np.all(X[n:] == 5.0)


@pytest.mark.parametrize("trans", ["N", "T"])
def test_c_activity_masks(trans):
    n, nrhs = 6, 2
    lu, piv, b, dlu, db, xbar = problem(n, nrhs, seed=10)
    ptr, lib, t = _core.ptr, _core.lib, trans.encode()
    LU, ipiv = np.asfortranarray(lu), (piv + 1).astype(np.int32)
    f = lambda v: np.asfortranarray(v.copy())  # noqa: E731
    _, dx_lu, lubar, bbar = getrs_oracle(lu, piv, b, dlu, 0 * db, xbar, trans)
    _, dx_b, _, _ = getrs_oracle(lu, piv, b, 0 * dlu, db, xbar, trans)
    # fwd, packed factors only: dB is not read (NaN on entry) and receives dX
    B, DB = f(b), np.full((n, nrhs), np.nan, order="F")
    assert lib.dl_dgetrs_fwd(1, t, n, nrhs, ptr(LU), n, ptr(f(dlu)), n, ptr(ipiv), ptr(B), n, ptr(DB), n) == 0
    assert_close(DB, dx_lu, 1e-12, "fwd lu only")
    # fwd, b only: dLU never touched (NULL)
    B, DB = f(b), f(db)
    assert lib.dl_dgetrs_fwd(2, t, n, nrhs, ptr(LU), n, None, 0, ptr(ipiv), ptr(B), n, ptr(DB), n) == 0
    assert_close(DB, dx_b, 1e-12, "fwd b only")
    # fwd, nothing active: dB untouched
    B, DB = f(b), f(db)
    assert lib.dl_dgetrs_fwd(0, t, n, nrhs, ptr(LU), n, None, 0, ptr(ipiv), ptr(B), n, ptr(DB), n) == 0
    np.testing.assert_array_equal(DB, db)
    X = f(B)
    # rev, b only
    G = f(xbar)
    assert lib.dl_dgetrs_rev(2, t, n, nrhs, ptr(LU), n, None, 0, ptr(ipiv), ptr(X), n, ptr(G), n) == 0
    assert_close(G, bbar, 1e-12, "rev b only")
    # rev, factors only: dB still carries Xbar in and Bbar out
    G, ACC = f(xbar), np.zeros((n, n), order="F")
    assert lib.dl_dgetrs_rev(1, t, n, nrhs, ptr(LU), n, ptr(ACC), n, ptr(ipiv), ptr(X), n, ptr(G), n) == 0
    assert_close(ACC, lubar, 1e-11, "rev lu only")
    # rev, nothing active
    G = f(xbar)
    assert lib.dl_dgetrs_rev(0, t, n, nrhs, ptr(LU), n, None, 0, ptr(ipiv), ptr(X), n, ptr(G), n) == 0
    np.testing.assert_array_equal(G, xbar)


def test_c_error_codes():
    lib, ptr = _core.lib, _core.ptr
    n = 4
    LU, B, D = np.eye(n, order="F"), np.ones((n, 2), order="F"), np.ones((n, n), order="F")
    ipiv = np.arange(1, n + 1, dtype=np.int32)
    assert lib.dl_dgetrs(b"X", n, 2, ptr(LU), n, ptr(ipiv), ptr(B), n) == -1
    assert lib.dl_dgetrs(b"N", -1, 2, ptr(LU), n, ptr(ipiv), ptr(B), n) == -2
    assert lib.dl_dgetrs(b"N", n, -1, ptr(LU), n, ptr(ipiv), ptr(B), n) == -3
    assert lib.dl_dgetrs(b"N", n, 2, ptr(LU), n - 1, ptr(ipiv), ptr(B), n) == -5
    bad = np.array([1, 2, 0, 4], dtype=np.int32)
    assert lib.dl_dgetrs(b"N", n, 2, ptr(LU), n, ptr(bad), ptr(B), n) == -6
    assert lib.dl_dgetrs(b"N", n, 2, ptr(LU), n, ptr(ipiv), ptr(B), n - 1) == -8
    assert lib.dl_dgetrs_fwd(3, b"t", n, 2, ptr(LU), n, ptr(D), n - 1, ptr(ipiv), ptr(B), n, ptr(B), n) == -108
    assert lib.dl_dgetrs_fwd(3, b"N", n, 2, ptr(LU), n, ptr(D), n, ptr(ipiv), ptr(B), n, ptr(B), 1) == -113
    assert lib.dl_dgetrs_rev(3, b"Q", n, 2, ptr(LU), n, ptr(D), n, ptr(ipiv), ptr(B), n, ptr(B), n) == -1
    assert lib.dl_dgetrs_rev(3, b"N", n, 2, ptr(LU), n, ptr(D), n, ptr(ipiv), ptr(B), n - 1, ptr(B), n) == -8
    assert lib.dl_dgetrs_rev(3, b"N", n, 2, ptr(LU), n, ptr(D), 2, ptr(ipiv), ptr(B), n, ptr(B), n) == -108
    assert lib.dl_dgetrs_rev(3, b"c", n, 2, ptr(LU), n, ptr(D), n, ptr(ipiv), ptr(B), n, ptr(B), 3) == -113
    np.testing.assert_array_equal(B, 1.0)
    np.testing.assert_array_equal(D, 1.0)
