"""trsv: primal, jvp, vjp (NumPy API) and the C kernels dl_dtrsv{,_fwd,_rev} (lda > n,
incx = 2 / -1, accumulation and structure of dA), for every flag combination and activity
pattern. Evidence: an independent NumPy oracle, central differences and dot-product tests."""
import itertools

import numpy as np
import pytest

import difflapack
from difflapack import _core
from _util import (assert_close, assert_dot_product, central_difference, cond, fd_tol, inner,
                   referenced_triangle, rng, tol, triangular)

FLAGS = list(itertools.product("UL", "NTC", "NU"))
ACTIVITY = [(True, True), (True, False), (False, True), (False, False)]  # (A, b)


def op(t, trans):
    return t if trans == "N" else t.T


def project(m, uplo, diag):
    """Zero outside the referenced triangle (strict for a unit diagonal)."""
    k = 1 if diag == "U" else 0
    return np.triu(m, k) if uplo == "U" else np.tril(m, -k)


def oracle(a, b, da, db, xbar, uplo, trans, diag):
    t = op(referenced_triangle(a, uplo, diag == "U"), trans)
    x = np.linalg.solve(t, b)
    dt = op(project(da, uplo, diag), trans)
    dx = np.linalg.solve(t, db - dt @ x)
    bbar = np.linalg.solve(t.T, xbar)
    abar = project(-np.outer(bbar, x) if trans == "N" else -np.outer(x, bbar), uplo, diag)
    return x, dx, abar, bbar


def problem(n, uplo, diag, seed):
    r = rng(seed + 100)
    a = triangular(n, uplo, diag == "U", seed=seed)
    return a, r.standard_normal(n), r.standard_normal((n, n)), r.standard_normal(n), r.standard_normal(n)


def kappa(a, uplo, diag):
    return cond(referenced_triangle(a, uplo, diag == "U"))


# ------------------------------------------------------------------ NumPy API
@pytest.mark.parametrize("uplo,trans,diag", FLAGS)
@pytest.mark.parametrize("n", [1, 5])
def test_primal_matches_oracle(uplo, trans, diag, n):
    a, b, _, _, _ = problem(n, uplo, diag, seed=n)
    x = difflapack.trsv(a, b, uplo, trans, diag)
    want = np.linalg.solve(op(referenced_triangle(a, uplo, diag == "U"), trans), b)
    assert_close(x, want, tol(kappa(a, uplo, diag)), "trsv")


@pytest.mark.parametrize("uplo,trans,diag", FLAGS)
@pytest.mark.parametrize("act_a,act_b", ACTIVITY)
def test_jvp_fd_oracle(uplo, trans, diag, act_a, act_b):
    n = 7
    a, b, da, db, xbar = problem(n, uplo, diag, seed=3)
    da_in, db_in = (da if act_a else None), (db if act_b else None)
    x, dx = difflapack.trsv_jvp(a, b, da_in, db_in, uplo=uplo, trans=trans, diag=diag)
    k = kappa(a, uplo, diag)
    x_o, dx_o, _, _ = oracle(a, b, da if act_a else 0 * da, db if act_b else 0 * db, xbar, uplo, trans, diag)
    assert_close(x, x_o, tol(k), "x")
    assert_close(dx, dx_o, tol(k), "dx vs oracle")
    fd = central_difference(lambda a_, b_: difflapack.trsv(a_, b_, uplo, trans, diag), (a, b), (da_in, db_in))
    assert_close(dx, fd, fd_tol(k), "dx vs central differences")
    if not (act_a or act_b):
        assert np.array_equal(dx, np.zeros(n))


@pytest.mark.parametrize("uplo,trans,diag", FLAGS)
def test_vjp_oracle_and_structure(uplo, trans, diag):
    n = 6
    a, b, da, db, xbar = problem(n, uplo, diag, seed=4)
    x, pullback = difflapack.trsv_vjp(a, b, uplo=uplo, trans=trans, diag=diag)
    abar, bbar = pullback(xbar)
    _, _, abar_o, bbar_o = oracle(a, b, da, db, xbar, uplo, trans, diag)
    k = kappa(a, uplo, diag)
    assert_close(bbar, bbar_o, tol(k), "b_bar")
    assert_close(abar, abar_o, tol(k), "a_bar")
    assert abar.shape == (n, n)
    assert np.array_equal(abar, project(abar, uplo, diag)), "a_bar must be zero outside the triangle"


@pytest.mark.parametrize("uplo,trans,diag", FLAGS)
@pytest.mark.parametrize("act_a,act_b", ACTIVITY[:3])
def test_dot_product(uplo, trans, diag, act_a, act_b):
    """<J v, w> = <v, J^T w> with the inactive input's direction set to zero (None)."""
    n = 8
    a, b, da, db, xbar = problem(n, uplo, diag, seed=5)
    v = (da if act_a else None, db if act_b else None)
    _, jv = difflapack.trsv_jvp(a, b, *v, uplo=uplo, trans=trans, diag=diag)
    _, pullback = difflapack.trsv_vjp(a, b, uplo=uplo, trans=trans, diag=diag)
    jtw = pullback(xbar)
    assert_dot_product(inner(jv, xbar), inner(v, jtw), tol(kappa(a, uplo, diag) ** 2), "trsv")


def test_vjp_fd_gradient_entrywise():
    """Reverse mode against central differences of a scalar loss, entry by entry."""
    n, uplo, trans, diag = 5, "L", "T", "N"
    a, b, _, _, w = problem(n, uplo, diag, seed=6)
    loss = lambda a_, b_: float(w @ difflapack.trsv(a_, b_, uplo, trans, diag))
    _, pullback = difflapack.trsv_vjp(a, b, uplo, trans, diag)
    abar, bbar = pullback(w)
    h = 1e-6
    for i, j in itertools.product(range(n), range(n)):
        e = np.zeros((n, n)); e[i, j] = h
        assert abs((loss(a + e, b) - loss(a - e, b)) / (2 * h) - abar[i, j]) < 1e-7
    for i in range(n):
        e = np.zeros(n); e[i] = h
        assert abs((loss(a, b + e) - loss(a, b - e)) / (2 * h) - bbar[i]) < 1e-7


def test_n_zero():
    a, b = np.zeros((0, 0)), np.zeros(0)
    assert difflapack.trsv(a, b).shape == (0,)
    x, dx = difflapack.trsv_jvp(a, b, a, b)
    assert x.shape == dx.shape == (0,)
    x, pullback = difflapack.trsv_vjp(a, b)
    abar, bbar = pullback(np.zeros(0))
    assert abar.shape == (0, 0) and bbar.shape == (0,)


def test_inputs_untouched_orders_strides_ints():
    n = 6
    a, b, da, db, xbar = problem(n, "U", "N", seed=7)
    a_c, a_f = np.ascontiguousarray(a), np.asfortranarray(a)
    big_b = np.repeat(b[::-1], 2)  # big_b[::-2] == b
    copies = [v.copy() for v in (a_c, a_f, big_b, da, db)]
    want = difflapack.trsv(a, b)
    for aa in (a_c, a_f):
        assert np.array_equal(difflapack.trsv(aa, big_b[::-2]), want)
        difflapack.trsv_jvp(aa, big_b[::-2], da, db)
        _, pb = difflapack.trsv_vjp(aa, big_b[::-2])
        pb(xbar)
    for v, c in zip((a_c, a_f, big_b, da, db), copies):
        assert np.array_equal(v, c)
    ai = np.triu(np.arange(1, 10).reshape(3, 3)) + 5 * np.eye(3, dtype=int)
    assert np.allclose(difflapack.trsv(ai, np.array([1, 2, 3])), np.linalg.solve(ai.astype(float), [1, 2, 3]))


def test_pullback_independent_of_later_mutation():
    a, b, _, _, xbar = problem(5, "U", "N", seed=8)
    x, pullback = difflapack.trsv_vjp(a, b)
    first = pullback(xbar)
    a[:] = 0.0  # the caller's input: the pullback copied it
    with pytest.raises(ValueError, match="read-only"):  # the solution the pullback keeps
        x[:] = 0.0
    second = pullback(xbar)
    assert all(np.array_equal(p, q) for p, q in zip(first, second))


def test_bad_arguments_name_the_argument():
    a, b = np.eye(3), np.ones(3)
    for kwargs, name in [({"uplo": "X"}, "uplo"), ({"trans": "Q"}, "trans"), ({"diag": "Z"}, "diag")]:
        with pytest.raises(ValueError, match=name):
            difflapack.trsv(a, b, **kwargs)
    with pytest.raises(ValueError, match="a"):
        difflapack.trsv(np.ones((3, 2)), b)
    with pytest.raises(ValueError, match="b"):
        difflapack.trsv(a, np.ones(4))
    with pytest.raises(ValueError, match="b"):
        difflapack.trsv(a, np.ones((3, 1)))
    with pytest.raises(ValueError, match="da"):
        difflapack.trsv_jvp(a, b, np.ones((2, 2)), None)
    with pytest.raises(ValueError, match="db"):
        difflapack.trsv_jvp(a, b, None, np.ones(2))
    with pytest.raises(ValueError, match="x_bar"):
        difflapack.trsv_vjp(a, b)[1](np.ones(2))
    with pytest.raises(ValueError, match="da is complex"):   # complex direction, real computation
        difflapack.trsv_jvp(a, b, a.astype(complex), None)
    with pytest.raises(ValueError, match="a must hold numbers"):
        difflapack.trsv(a.astype(str), b)
    with pytest.raises(ValueError, match="b"):
        difflapack.trsv(a, np.array([1.0, np.nan, 0.0]))
    # lower triangle is never read, so garbage there (even NaN) is fine
    a_nan = a.copy(); a_nan[2, 0] = np.nan
    assert np.array_equal(difflapack.trsv(a_nan, b), b)
    assert np.isnan(difflapack.trsv(a, np.array([1.0, np.nan, 0.0]), check_finite=False)[1])


@pytest.mark.parametrize("trans", "NT")
def test_singular_raises_with_index(trans):
    a = triangular(4, "U", seed=9)
    a[2, 2] = 0.0
    for call in (lambda: difflapack.trsv(a, np.ones(4), trans=trans),
                 lambda: difflapack.trsv_jvp(a, np.ones(4), a, None, trans=trans),
                 lambda: difflapack.trsv_vjp(a, np.ones(4), trans=trans)):
        with pytest.raises(difflapack.SingularMatrixError) as exc:
            call()
        assert exc.value.info == 3
        assert isinstance(exc.value, np.linalg.LinAlgError)
    # a zero on the diagonal is ignored for a unit diagonal
    assert np.all(np.isfinite(difflapack.trsv(a, np.ones(4), diag="U")))


# ------------------------------------------------------------------ C kernels directly
def strided(v, inc, fill=777.0):
    """A BLAS buffer holding v with increment inc (negative: element i at (n-1-i)|inc|)."""
    n, s = len(v), abs(inc)
    buf = np.full(1 + max(n - 1, 0) * s, fill)
    view = buf[::s][:n]
    if inc < 0:
        view = view[::-1]
    view[:] = v
    return buf, view


def padded(a, lda, fill=555.0):
    full = np.full((lda, a.shape[1]), fill, order="F")
    full[: a.shape[0]] = a
    return full


@pytest.mark.parametrize("uplo,trans,diag", FLAGS)
@pytest.mark.parametrize("incx,incdx", [(1, 1), (2, -1), (-1, 2), (-1, -1), (2, 3)])
def test_c_kernels_lda_and_increments(uplo, trans, diag, incx, incdx):
    n, lda, ldda = 6, 9, 8
    a, b, da, db, xbar = problem(n, uplo, diag, seed=10)
    x_o, dx_o, abar_o, bbar_o = oracle(a, b, da, db, xbar, uplo, trans, diag)
    k = kappa(a, uplo, diag)
    u, t, d = uplo.encode(), trans.encode(), diag.encode()
    A, dA = padded(a, lda), padded(da, ldda)
    A0, dA0 = A.copy(), dA.copy()

    xb, xv = strided(b, incx)
    assert _core.lib.dl_dtrsv(u, t, d, n, _core.ptr(A), lda, _core.ptr(xb), incx) == 0
    assert_close(xv, x_o, tol(k), "dl_dtrsv")
    assert np.all(xb[np.setdiff1d(np.arange(xb.size), np.arange(0, xb.size, abs(incx)))] == 777.0)

    xb, xv = strided(b, incx)
    dxb, dxv = strided(db, incdx)
    info = _core.lib.dl_dtrsv_fwd(3, u, t, d, n, _core.ptr(A), lda, _core.ptr(dA), ldda,
                                  _core.ptr(xb), incx, _core.ptr(dxb), incdx)
    assert info == 0
    assert_close(xv, x_o, tol(k), "fwd x")
    assert_close(dxv, dx_o, tol(k), "fwd dx")
    assert np.array_equal(A, A0) and np.array_equal(dA, dA0)

    # reverse: x is the solution; dA accumulates on the triangle only
    xb, xv = strided(x_o, incx)
    dxb, dxv = strided(xbar, incdx)
    acc = padded(np.full((n, n), 0.25), ldda, fill=555.0)
    info = _core.lib.dl_dtrsv_rev(3, u, t, d, n, _core.ptr(A), lda, _core.ptr(acc), ldda,
                                  _core.ptr(xb), incx, _core.ptr(dxb), incdx)
    assert info == 0
    assert_close(dxv, bbar_o, tol(k), "rev b_bar")
    mask = project(np.ones((n, n)), uplo, diag).astype(bool)
    assert_close(acc[:n][mask], 0.25 + abar_o[mask], tol(k), "rev A_bar accumulated")
    assert np.all(acc[:n][~mask] == 0.25), "entries outside the triangle must not be touched"
    assert np.all(acc[n:] == 555.0)


@pytest.mark.parametrize("uplo,trans,diag", [("U", "N", "N"), ("L", "T", "U")])
def test_c_activity_masks(uplo, trans, diag):
    """Inactive derivative buffers may be NULL and are never touched; rev overwrites dx with
    b_bar whenever anything is active."""
    n = 5
    a, b, da, db, xbar = problem(n, uplo, diag, seed=11)
    x_o, _, abar_o, bbar_o = oracle(a, b, da, db, xbar, uplo, trans, diag)
    u, t, d = uplo.encode(), trans.encode(), diag.encode()
    A = np.asfortranarray(a)
    ptr = _core.ptr
    # fwd with A only: dx's entry content is ignored
    x = b.copy(); dx = np.full(n, np.nan)
    assert _core.lib.dl_dtrsv_fwd(1, u, t, d, n, ptr(A), n, ptr(np.asfortranarray(da)), n, ptr(x), 1, ptr(dx), 1) == 0
    _, dx_o, _, _ = oracle(a, b, da, 0 * db, xbar, uplo, trans, diag)
    assert_close(dx, dx_o, tol(kappa(a, uplo, diag)), "fwd A only")
    # fwd with b only: dA may be NULL
    x = b.copy(); dx = db.copy()
    assert _core.lib.dl_dtrsv_fwd(2, u, t, d, n, ptr(A), n, None, 0, ptr(x), 1, ptr(dx), 1) == 0
    # rev with b only: dA NULL
    dx = xbar.copy()
    assert _core.lib.dl_dtrsv_rev(2, u, t, d, n, ptr(A), n, None, 0, ptr(x_o), 1, ptr(dx), 1) == 0
    assert_close(dx, bbar_o, tol(kappa(a, uplo, diag)), "rev b only")
    # rev with A only: dx still becomes b_bar
    dx = xbar.copy(); acc = np.zeros((n, n), order="F")
    assert _core.lib.dl_dtrsv_rev(1, u, t, d, n, ptr(A), n, ptr(acc), n, ptr(x_o), 1, ptr(dx), 1) == 0
    assert_close(dx, bbar_o, tol(kappa(a, uplo, diag)), "rev A only: dx")
    assert_close(acc, abar_o, tol(kappa(a, uplo, diag)), "rev A only: dA")
    # nothing active: rev touches nothing (all NULL ok)
    assert _core.lib.dl_dtrsv_rev(0, u, t, d, n, ptr(A), n, None, 0, ptr(x_o), 1, None, 0) == 0


def test_c_error_codes():
    A, x = np.eye(3, order="F"), np.ones(3)
    p = _core.ptr
    lib = _core.lib
    assert lib.dl_dtrsv(b"X", b"N", b"N", 3, p(A), 3, p(x), 1) == -1
    assert lib.dl_dtrsv(b"U", b"X", b"N", 3, p(A), 3, p(x), 1) == -2
    assert lib.dl_dtrsv(b"U", b"N", b"X", 3, p(A), 3, p(x), 1) == -3
    assert lib.dl_dtrsv(b"U", b"N", b"N", -1, p(A), 3, p(x), 1) == -4
    assert lib.dl_dtrsv(b"U", b"N", b"N", 3, p(A), 2, p(x), 1) == -6
    assert lib.dl_dtrsv(b"U", b"N", b"N", 3, p(A), 3, p(x), 0) == -8
    assert lib.dl_dtrsv(b"u", b"c", b"n", 3, p(A), 3, p(x), 1) == 0  # any case, 'C' == 'T'
    dA, dx = np.eye(3, order="F"), np.ones(3)
    assert lib.dl_dtrsv_fwd(1, b"U", b"N", b"N", 3, p(A), 3, p(dA), 2, p(x), 1, p(dx), 1) == -109
    assert lib.dl_dtrsv_fwd(2, b"U", b"N", b"N", 3, p(A), 3, None, 0, p(x), 1, p(dx), 0) == -113
    assert lib.dl_dtrsv_rev(1, b"U", b"N", b"N", 3, p(A), 3, p(dA), 2, p(x), 1, p(dx), 1) == -109
    assert lib.dl_dtrsv_rev(3, b"U", b"N", b"N", 3, p(A), 3, p(dA), 3, p(x), 1, p(dx), 0) == -113
    assert lib.dl_dtrsv_rev(3, b"U", b"N", b"N", 3, p(A), 3, p(dA), 3, p(x), 0, p(dx), 1) == -8
    S = np.eye(3, order="F"); S[1, 1] = 0.0
    assert lib.dl_dtrsv(b"U", b"N", b"N", 3, p(S), 3, p(np.ones(3)), 1) == 2
    assert lib.dl_dtrsv(b"U", b"N", b"U", 3, p(S), 3, p(np.ones(3)), 1) == 0


def test_small_da_relative_accuracy_unit_diagonal():
    """The strict-triangle product is exact: scaling dA by 1e-12 scales dx by 1e-12 with no
    loss of relative accuracy (no unit-trmm-minus-x cancellation)."""
    n = 6
    a, b, da, _, _ = problem(n, "U", "U", seed=12)
    _, dx1 = difflapack.trsv_jvp(a, b, da, None, diag="U")
    _, dx2 = difflapack.trsv_jvp(a, b, 1e-12 * da, None, diag="U")
    assert_close(dx2 * 1e12, dx1, 1e-14, "scaled tangent")
