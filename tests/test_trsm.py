"""trsm: primal, jvp, vjp (NumPy API) and the C kernels dl_dtrsm{,_fwd,_rev} for every flag
combination (side x uplo x transa x diag), every activity pattern of (A, B, alpha), m != n,
leading dimensions larger than the rows, alpha == 0, empty shapes. Evidence: an independent
NumPy oracle, central differences and dot-product tests."""
import itertools

import numpy as np
import pytest

import difflapack
from difflapack import _core
from _util import (sc, assert_close, assert_dot_product, central_difference, cond, fd_tol, inner,
                   referenced_triangle, rng, tol, triangular)

FLAGS = list(itertools.product("LR", "UL", "NTC", "NU"))
ACTIVITY = list(itertools.product([True, False], repeat=3))  # (A, B, alpha)
ptr = _core.ptr


def op(t, trans):
    return t if trans == "N" else t.T


def project(m, uplo, diag):
    k = 1 if diag == "U" else 0
    return np.triu(m, k) if uplo == "U" else np.tril(m, -k)


def solve_side(t, rhs, side):
    """t^{-1} rhs (side L) or rhs t^{-1} (side R)."""
    return np.linalg.solve(t, rhs) if side == "L" else np.linalg.solve(t.T, rhs.T).T


def oracle(a, b, alpha, da, db, dalpha, xbar, side, uplo, trans, diag):
    t = op(referenced_triangle(a, uplo, diag == "U"), trans)
    x = solve_side(t, alpha * b, side)
    dt = op(project(da, uplo, diag), trans)
    dx = solve_side(t, alpha * db + dalpha * b - (dt @ x if side == "L" else x @ dt), side)
    g = solve_side(t.T, xbar, side)
    op_abar = -g @ x.T if side == "L" else -x.T @ g
    abar = project(op_abar if trans == "N" else op_abar.T, uplo, diag)
    return x, dx, abar, alpha * g, float(np.vdot(g, b))


def problem(m, n, side, uplo, diag, seed):
    k = m if side == "L" else n
    r = rng(seed + 200)
    a = triangular(k, uplo, diag == "U", seed=seed)
    return a, r.standard_normal((m, n)), r.standard_normal((k, k)), r.standard_normal((m, n)), \
        float(r.standard_normal()), r.standard_normal((m, n))


def kappa(a, uplo, diag):
    return cond(referenced_triangle(a, uplo, diag == "U"))


# ------------------------------------------------------------------ NumPy API
@pytest.mark.parametrize("side,uplo,trans,diag", FLAGS)
@pytest.mark.parametrize("m,n,alpha", [(5, 3, 1.0), (3, 5, -0.7), (1, 4, 2.5)])
def test_primal_matches_oracle(side, uplo, trans, diag, m, n, alpha):
    a, b, da, db, dalpha, xbar = problem(m, n, side, uplo, diag, seed=m + n)
    x = difflapack.trsm(a, b, alpha, side, uplo, trans, diag)
    want = oracle(a, b, alpha, da, db, dalpha, xbar, side, uplo, trans, diag)[0]
    assert_close(x, want, tol(kappa(a, uplo, diag)), "trsm")


@pytest.mark.parametrize("side,uplo,trans,diag", FLAGS)
@pytest.mark.parametrize("act", ACTIVITY)
@pytest.mark.parametrize("m,n,alpha", [(5, 3, 1.3), (2, 4, 1.0)])
def test_jvp_fd_oracle(side, uplo, trans, diag, act, m, n, alpha):
    a, b, da, db, dalpha, xbar = problem(m, n, side, uplo, diag, seed=21)
    act_a, act_b, act_al = act
    v = (da if act_a else None, db if act_b else None, dalpha if act_al else None)
    x, dx = difflapack.trsm_jvp(a, b, *v, alpha=alpha, side=side, uplo=uplo, transa=trans, diag=diag)
    k = kappa(a, uplo, diag)
    x_o, dx_o, *_ = oracle(a, b, alpha, da if act_a else 0 * da, db if act_b else 0 * db,
                           dalpha if act_al else 0.0, xbar, side, uplo, trans, diag)
    assert_close(x, x_o, tol(k), "X")
    assert_close(dx, dx_o, tol(k), "dX vs oracle")
    fd = central_difference(lambda a_, b_, al_: difflapack.trsm(a_, b_, al_, side, uplo, trans, diag),
                            (a, b, alpha), v)
    assert_close(dx, fd, fd_tol(k), "dX vs central differences")
    if not any(act):
        assert np.array_equal(dx, np.zeros((m, n)))


@pytest.mark.parametrize("side,uplo,trans,diag", FLAGS)
@pytest.mark.parametrize("alpha", [0.8, 0.0])
def test_vjp_oracle_and_structure(side, uplo, trans, diag, alpha):
    m, n = 4, 6
    a, b, da, db, dalpha, xbar = problem(m, n, side, uplo, diag, seed=22)
    x, pullback = difflapack.trsm_vjp(a, b, alpha, side, uplo, trans, diag)
    abar, bbar, albar = pullback(xbar)
    _, _, abar_o, bbar_o, albar_o = oracle(a, b, alpha, da, db, dalpha, xbar, side, uplo, trans, diag)
    k = kappa(a, uplo, diag)
    assert_close(bbar, bbar_o, tol(k), "B_bar")
    assert_close(abar, abar_o, tol(k), "A_bar")
    assert abs(albar - albar_o) <= tol(k) * max(1.0, abs(albar_o))
    assert isinstance(albar, float)
    assert np.array_equal(abar, project(abar, uplo, diag)), "A_bar must vanish outside the triangle"


@pytest.mark.parametrize("side,uplo,trans,diag", FLAGS)
@pytest.mark.parametrize("act", [p for p in ACTIVITY if any(p)])
def test_dot_product(side, uplo, trans, diag, act):
    m, n, alpha = 6, 4, -1.4
    a, b, da, db, dalpha, xbar = problem(m, n, side, uplo, diag, seed=23)
    v = tuple(d if on else None for d, on in zip((da, db, dalpha), act))
    _, jv = difflapack.trsm_jvp(a, b, *v, alpha=alpha, side=side, uplo=uplo, transa=trans, diag=diag)
    _, pullback = difflapack.trsm_vjp(a, b, alpha, side, uplo, trans, diag)
    jtw = pullback(xbar)
    assert_dot_product(inner(jv, xbar), inner(v, jtw), tol(kappa(a, uplo, diag) ** 2), "trsm")


@pytest.mark.parametrize("side", "LR")
def test_alpha_zero_fd(side):
    """alpha = 0: X = 0, dX = dalpha op(A)^{-1} B, B_bar = 0, alpha_bar = <G, B>."""
    m, n = 4, 3
    a, b, da, db, dalpha, xbar = problem(m, n, side, "U", "N", seed=24)
    x, dx = difflapack.trsm_jvp(a, b, da, db, dalpha, alpha=0.0, side=side)
    assert np.array_equal(x, np.zeros((m, n)))
    fd = central_difference(lambda a_, b_, al_: difflapack.trsm(a_, b_, al_, side), (a, b, 0.0), (da, db, dalpha))
    assert_close(dx, fd, fd_tol(kappa(a, "U", "N")), "alpha = 0 tangent")
    _, pullback = difflapack.trsm_vjp(a, b, 0.0, side)
    abar, bbar, albar = pullback(xbar)
    assert not abar.any() and not bbar.any()
    assert_dot_product(inner(dx, xbar), inner((da, db, dalpha), (abar, bbar, albar)), tol(10.0), "alpha 0")


def test_vjp_fd_gradient_entrywise():
    m, n, side, uplo, trans, diag, alpha = 3, 4, "R", "L", "T", "N", 0.6
    a, b, _, _, _, w = problem(m, n, side, uplo, diag, seed=25)
    loss = lambda a_, b_, al_: float(np.vdot(w, difflapack.trsm(a_, b_, al_, side, uplo, trans, diag)))
    _, pullback = difflapack.trsm_vjp(a, b, alpha, side, uplo, trans, diag)
    abar, bbar, albar = pullback(w)
    h = 1e-6
    for i, j in itertools.product(range(n), range(n)):
        e = np.zeros((n, n)); e[i, j] = h
        assert abs((loss(a + e, b, alpha) - loss(a - e, b, alpha)) / (2 * h) - abar[i, j]) < 1e-7
    for i, j in itertools.product(range(m), range(n)):
        e = np.zeros((m, n)); e[i, j] = h
        assert abs((loss(a, b + e, alpha) - loss(a, b - e, alpha)) / (2 * h) - bbar[i, j]) < 1e-7
    assert abs((loss(a, b, alpha + h) - loss(a, b, alpha - h)) / (2 * h) - albar) < 1e-7


@pytest.mark.parametrize("side", "LR")
@pytest.mark.parametrize("m,n", [(0, 3), (3, 0), (0, 0)])
def test_empty(side, m, n):
    k = m if side == "L" else n
    a = triangular(k, "U", seed=1) if k else np.zeros((0, 0))
    b = np.zeros((m, n))
    assert difflapack.trsm(a, b, side=side).shape == (m, n)
    x, dx = difflapack.trsm_jvp(a, b, a, b, 1.0, side=side)
    assert x.shape == dx.shape == (m, n)
    _, pullback = difflapack.trsm_vjp(a, b, side=side)
    abar, bbar, albar = pullback(np.zeros((m, n)))
    assert abar.shape == (k, k) and bbar.shape == (m, n) and albar == 0.0
    assert not abar.any()


def test_inputs_untouched_and_orders():
    m, n = 5, 3
    a, b, da, db, dalpha, xbar = problem(m, n, "L", "L", "N", seed=26)
    want = difflapack.trsm(a, b, 2.0, uplo="L")
    variants = [(np.ascontiguousarray(a), np.ascontiguousarray(b)), (np.asfortranarray(a), np.asfortranarray(b)),
                (np.asfortranarray(a), np.repeat(b, 2, axis=0)[::2])]  # a strided view equal to b
    for aa, bb in variants:
        before = (aa.copy(), bb.copy(), da.copy(), db.copy())
        assert np.array_equal(difflapack.trsm(aa, bb, 2.0, uplo="L"), want)
        difflapack.trsm_jvp(aa, bb, da, db, dalpha, alpha=2.0, uplo="L")
        difflapack.trsm_vjp(aa, bb, 2.0, uplo="L")[1](xbar)
        for v, c in zip((aa, bb, da, db), before):
            assert np.array_equal(v, c)
    ai = np.triu(np.arange(1, 10).reshape(3, 3)) + 5 * np.eye(3, dtype=int)
    assert np.allclose(difflapack.trsm(ai, np.eye(3, dtype=int), 2), 2 * np.linalg.inv(ai))


def test_bad_arguments_name_the_argument():
    a, b = np.eye(3), np.ones((3, 2))
    for kwargs, name in [({"side": "X"}, "side"), ({"uplo": "X"}, "uplo"), ({"transa": "Q"}, "transa"),
                         ({"diag": "Z"}, "diag")]:
        with pytest.raises(ValueError, match=name):
            difflapack.trsm(a, b, **kwargs)
    with pytest.raises(ValueError, match="a"):
        difflapack.trsm(np.ones((3, 2)), b)
    with pytest.raises(ValueError, match="a"):
        difflapack.trsm(a, b, side="R")  # a must be 2 x 2 for side R
    with pytest.raises(ValueError, match="b"):
        difflapack.trsm(a, np.ones(3))
    assert difflapack.trsm(a, b, alpha=1j).dtype == np.complex128   # a complex alpha: complex computation
    with pytest.raises(ValueError, match="dalpha is complex"):
        difflapack.trsm_jvp(a, b, None, None, dalpha=1j)
    with pytest.raises(ValueError, match="alpha"):
        difflapack.trsm(a, b, alpha=np.ones(2))
    with pytest.raises(ValueError, match="da"):
        difflapack.trsm_jvp(a, b, np.ones((2, 2)), None)
    with pytest.raises(ValueError, match="db"):
        difflapack.trsm_jvp(a, b, None, np.ones((3, 3)))
    with pytest.raises(ValueError, match="dalpha"):
        difflapack.trsm_jvp(a, b, None, None, dalpha="x")
    with pytest.raises(ValueError, match="x_bar"):
        difflapack.trsm_vjp(a, b)[1](np.ones((2, 3)))
    with pytest.raises(ValueError, match="b"):
        difflapack.trsm(a, np.full((3, 2), np.inf))


def test_singular_raises_with_index():
    a = triangular(4, "L", seed=27)
    a[3, 3] = 0.0
    b = np.ones((4, 2))
    for call in (lambda: difflapack.trsm(a, b, uplo="L"),
                 lambda: difflapack.trsm_jvp(a, b, None, b, uplo="L"),
                 lambda: difflapack.trsm_vjp(a, b, uplo="L")):
        with pytest.raises(difflapack.SingularMatrixError) as exc:
            call()
        assert exc.value.info == 4
    assert np.all(np.isfinite(difflapack.trsm(a, b, uplo="L", diag="U")))


def test_small_da_relative_accuracy_unit_diagonal():
    m, n = 6, 4
    for side in "LR":
        a, b, da, *_ = problem(m, n, side, "L", "U", seed=28)
        _, d1 = difflapack.trsm_jvp(a, b, da, None, side=side, uplo="L", diag="U")
        _, d2 = difflapack.trsm_jvp(a, b, 1e-12 * da, None, side=side, uplo="L", diag="U")
        assert_close(d2 * 1e12, d1, 1e-13, "scaled tangent")


# ------------------------------------------------------------------ C kernels directly
def padded(a, ld, fill=555.0):
    full = np.full((ld, a.shape[1]), fill, order="F")
    full[: a.shape[0]] = a
    return full


@pytest.mark.parametrize("side,uplo,trans,diag", FLAGS)
@pytest.mark.parametrize("act", ACTIVITY)
def test_c_kernels_leading_dimensions_and_masks(side, uplo, trans, diag, act):
    """lda/ldb/ldda/lddb/ldx/ldb0 all larger than the rows and different; inactive buffers are
    NULL; dA and dalpha accumulate; dA outside the triangle and padding rows are untouched."""
    m, n, alpha = 5, 3, -0.9
    a, b, da, db, dalpha, xbar = problem(m, n, side, uplo, diag, seed=29)
    k = a.shape[0]
    act_a, act_b, act_al = act
    mask = (1 if act_a else 0) | (2 if act_b else 0) | (4 if act_al else 0)
    x_o, dx_o, abar_o, bbar_o, albar_o = oracle(a, b, alpha, da if act_a else 0 * da, db if act_b else 0 * db,
                                                dalpha if act_al else 0.0, xbar, side, uplo, trans, diag)
    kap = kappa(a, uplo, diag)
    flags = [c.encode() for c in (side, uplo, trans, diag)]
    A, dA = padded(a, k + 2), padded(da, k + 4)
    B, dB = padded(b, m + 1), padded(db, m + 3)
    info = _core.lib.dl_dtrsm_fwd(mask, *flags, m, n, sc(alpha), sc(dalpha), ptr(A), k + 2,
                                  ptr(dA) if act_a else None, k + 4, ptr(B), m + 1, ptr(dB), m + 3)
    assert info == 0
    assert_close(B[:m], x_o, tol(kap), "fwd X")
    assert_close(dB[:m], dx_o, tol(kap), "fwd dX")
    assert np.all(B[m:] == 555.0) and np.all(dB[m:] == 555.0)

    for with_b0 in (True, False):
        X, B0 = padded(x_o, m + 2), padded(b, m + 5)
        dB = padded(xbar, m + 3)
        acc = padded(np.full((k, k), 0.5), k + 1)
        dal = np.array([0.25])
        info = _core.lib.dl_dtrsm_rev(mask, *flags, m, n, sc(alpha), ptr(A), k + 2, ptr(acc) if act_a else None, k + 1,
                                      ptr(X), m + 2, ptr(B0) if with_b0 else None, m + 5, ptr(dB), m + 3,
                                      ptr(dal) if act_al else None)
        assert info == 0
        if not any(act):
            assert np.array_equal(dB[:m], xbar)
            continue
        assert_close(dB[:m], bbar_o, tol(kap), "rev B_bar")
        struct = project(np.ones((k, k)), uplo, diag).astype(bool)
        if act_a:
            assert_close(acc[:k][struct], 0.5 + abar_o[struct], tol(kap), "rev A_bar accumulated")
        assert np.all(acc[:k][~struct] == 0.5) and np.all(acc[k:] == 555.0)
        if act_al:
            _, _, _, _, albar_full = oracle(a, b, alpha, da, db, dalpha, xbar, side, uplo, trans, diag)
            assert abs(dal[0] - (0.25 + albar_full)) <= tol(kap) * max(1.0, abs(albar_full))
        else:
            assert dal[0] == 0.25


def test_c_alpha_zero_needs_b0_and_error_codes():
    m, n = 3, 2
    A, B = np.eye(3, order="F"), np.ones((m, n), order="F")
    X, dB, dA, dal = np.zeros((m, n), order="F"), np.ones((m, n), order="F"), np.zeros((3, 3), order="F"), np.zeros(1)
    lib = _core.lib
    assert lib.dl_dtrsm_rev(4, b"L", b"U", b"N", b"N", m, n, sc(0.0), ptr(A), 3, ptr(dA), 3, ptr(X), m, None, m,
                            ptr(dB), m, ptr(dal)) == -115
    assert lib.dl_dtrsm_rev(4, b"L", b"U", b"N", b"N", m, n, sc(0.0), ptr(A), 3, ptr(dA), 3, ptr(X), m, ptr(B), m,
                            ptr(dB), m, ptr(dal)) == 0
    assert dal[0] == pytest.approx(6.0) and not dB.any()
    assert lib.dl_dtrsm(b"X", b"U", b"N", b"N", m, n, sc(1.0), ptr(A), 3, ptr(B), m) == -1
    assert lib.dl_dtrsm(b"L", b"X", b"N", b"N", m, n, sc(1.0), ptr(A), 3, ptr(B), m) == -2
    assert lib.dl_dtrsm(b"L", b"U", b"X", b"N", m, n, sc(1.0), ptr(A), 3, ptr(B), m) == -3
    assert lib.dl_dtrsm(b"L", b"U", b"N", b"X", m, n, sc(1.0), ptr(A), 3, ptr(B), m) == -4
    assert lib.dl_dtrsm(b"L", b"U", b"N", b"N", -1, n, sc(1.0), ptr(A), 3, ptr(B), m) == -5
    assert lib.dl_dtrsm(b"L", b"U", b"N", b"N", m, -1, sc(1.0), ptr(A), 3, ptr(B), m) == -6
    assert lib.dl_dtrsm(b"L", b"U", b"N", b"N", m, n, sc(1.0), ptr(A), 2, ptr(B), m) == -9
    assert lib.dl_dtrsm(b"L", b"U", b"N", b"N", m, n, sc(1.0), ptr(A), 3, ptr(B), 2) == -11
    assert lib.dl_dtrsm(b"R", b"U", b"N", b"N", m, n, sc(1.0), ptr(np.eye(2, order="F")), 2, ptr(B), m) == 0  # R: lda >= n
    assert lib.dl_dtrsm_fwd(1, b"L", b"U", b"N", b"N", m, n, sc(1.0), sc(0.0), ptr(A), 3, ptr(dA), 2, ptr(B), m,
                            ptr(dB), m) == -113
    assert lib.dl_dtrsm_fwd(2, b"L", b"U", b"N", b"N", m, n, sc(1.0), sc(0.0), ptr(A), 3, None, 0, ptr(B), m,
                            ptr(dB), 2) == -117
    assert lib.dl_dtrsm_rev(1, b"L", b"U", b"N", b"N", m, n, sc(1.0), ptr(A), 3, ptr(dA), 2, ptr(X), m, None, 0,
                            ptr(dB), m, None) == -112
    assert lib.dl_dtrsm_rev(3, b"L", b"U", b"N", b"N", m, n, sc(1.0), ptr(A), 3, ptr(dA), 3, ptr(X), m, None, 0,
                            ptr(dB), 2, None) == -118
    assert lib.dl_dtrsm_rev(4, b"L", b"U", b"N", b"N", m, n, sc(1.0), ptr(A), 3, None, 0, ptr(X), m, ptr(B), 2,
                            ptr(dB), m, ptr(dal)) == -116
    assert lib.dl_dtrsm_rev(3, b"L", b"U", b"N", b"N", m, n, sc(1.0), ptr(A), 3, ptr(dA), 3, ptr(X), 2, None, 0,
                            ptr(dB), m, None) == -11
    S = np.eye(3, order="F"); S[2, 2] = 0.0
    assert lib.dl_dtrsm(b"L", b"U", b"N", b"N", m, n, sc(1.0), ptr(S), 3, ptr(np.ones((m, n), order="F")), m) == 3


@pytest.mark.parametrize("side,uplo,trans,diag", [("L", "U", "N", "N"), ("L", "L", "T", "U"), ("R", "U", "T", "N"),
                                                  ("R", "L", "N", "U")])
def test_large_blocked_paths(side, uplo, trans, diag):
    """Sizes above the recursion base of the blocked solver (96) and of dl_gemm_tri (48)."""
    m, n = (150, 7) if side == "L" else (7, 150)
    a, b, da, db, dalpha, xbar = problem(m, n, side, uplo, diag, seed=30)
    x, dx = difflapack.trsm_jvp(a, b, da, db, dalpha, alpha=0.9, side=side, uplo=uplo, transa=trans, diag=diag)
    _, pullback = difflapack.trsm_vjp(a, b, 0.9, side, uplo, trans, diag)
    abar, bbar, albar = pullback(xbar)
    x_o, dx_o, abar_o, bbar_o, albar_o = oracle(a, b, 0.9, da, db, dalpha, xbar, side, uplo, trans, diag)
    k = kappa(a, uplo, diag)
    for got, want, what in [(x, x_o, "X"), (dx, dx_o, "dX"), (abar, abar_o, "A_bar"), (bbar, bbar_o, "B_bar")]:
        assert_close(got, want, tol(k), what)
    assert abs(albar - albar_o) <= tol(k) * max(1.0, abs(albar_o))
    assert np.array_equal(x, difflapack.trsm(a, b, 0.9, side, uplo, trans, diag)), "fused primal == trsm, bitwise"
