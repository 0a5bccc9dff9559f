"""The user's report (/work/shared/seed/REPORT.md), LU scenarios, ported to the NumPy API,
forward and reverse, against central differences (N = 6, A = randn(N, N), b = randn(N)):

* "LU solve: pre-factor + trsv!": factor outside AD, then x = b with the row swaps applied,
  trsv L/N/U, trsv U/N/N, return sum(x)  (uses difflapack.trsv_jvp / trsv_vjp);
* getrf!: copy A, factor in place, return sum of the packed factors (tangent ones(N, N));
* getrs!: copy b, solve with the packed factors, return sum(x) (tangents ones);
* A \\ b: sum(A \\ b) (tangents ones).
"""
import numpy as np
import pytest

import difflapack
from _util import EPS, assert_close, central_difference, inner, rng

N = 6


@pytest.fixture(scope="module")
def seed_problem():
    r = rng(42)
    a, b = r.standard_normal((N, N)), r.standard_normal(N)
    lu, piv, info = difflapack.getrf(a)
    assert info == 0
    return a, b, lu, piv


def apply_swaps(v, piv):
    """The report's _apply_ipiv!: row i <-> row piv[i], in order (0-based piv)."""
    v = np.array(v, dtype=float)
    for i, j in enumerate(piv):
        v[[i, j]] = v[[j, i]]
    return v


def unswap(v, piv):
    """Transpose of apply_swaps (swaps in reverse order)."""
    v = np.array(v, dtype=float)
    for i in range(len(piv) - 1, -1, -1):
        j = piv[i]
        v[[i, j]] = v[[j, i]]
    return v


def fd_gradient(f, xs):
    """Gradient of a scalar f by central differences, entry by entry, for each input."""
    grads = []
    for k, x in enumerate(xs):
        g = np.zeros_like(x)
        for idx in np.ndindex(*x.shape):
            e = np.zeros_like(x)
            e[idx] = 1.0
            d = [None] * len(xs)
            d[k] = e
            g[idx] = float(central_difference(f, tuple(xs), tuple(d)))
        grads.append(g)
    return grads


FD_RTOL = 1e-7


# ------------------------------------------------------------------ pre-factor + trsv!
def lu_trsv_numpy(factors, piv, b):
    """The scenario's function with an independent primal (dense triangular solves)."""
    x = apply_swaps(b, piv)
    x = np.linalg.solve(np.tril(factors, -1) + np.eye(N), x)
    x = np.linalg.solve(np.triu(factors), x)
    return x, x.sum()


def test_prefactor_trsv_forward(seed_problem):
    if not hasattr(difflapack, "trsv_jvp"):
        pytest.skip("difflapack.trsv_jvp is not available yet (written by another engineer)")
    a, b, lu, piv = seed_problem
    r = rng(1)
    dlu, db = r.standard_normal((N, N)), r.standard_normal(N)
    x0, dx0 = apply_swaps(b, piv), apply_swaps(db, piv)
    x1, dx1 = difflapack.trsv_jvp(lu, x0, dlu, dx0, uplo="L", trans="N", diag="U")
    x2, dx2 = difflapack.trsv_jvp(lu, x1, dlu, dx1, uplo="U", trans="N", diag="N")
    assert_close(x2, np.linalg.solve(a, b), 1e-12, "x == A \\ b")
    fd_x, fd_s = central_difference(lambda f, c: lu_trsv_numpy(f, piv, c), (lu, b), (dlu, db))
    assert_close(dx2, fd_x, FD_RTOL, "pre-factor + trsv!: dx")
    assert abs(dx2.sum() - fd_s) < FD_RTOL * max(1.0, abs(fd_s))
    # the same derivative as getrs_jvp on the packed factors
    _, dx_getrs = difflapack.getrs_jvp(lu, piv, b, dlu, db)
    assert_close(dx2, dx_getrs, 1e-12, "trsv chain == getrs_jvp")


def test_prefactor_trsv_reverse(seed_problem):
    if not hasattr(difflapack, "trsv_vjp"):
        pytest.skip("difflapack.trsv_vjp is not available yet (written by another engineer)")
    a, b, lu, piv = seed_problem
    x0 = apply_swaps(b, piv)
    x1, pb_lower = difflapack.trsv_vjp(lu, x0, uplo="L", trans="N", diag="U")
    x2, pb_upper = difflapack.trsv_vjp(lu, x1, uplo="U", trans="N", diag="N")
    lubar_u, x1bar = pb_upper(np.ones(N))  # d sum(x) / d x = ones
    lubar_l, x0bar = pb_lower(x1bar)
    lubar, bbar = lubar_u + lubar_l, unswap(x0bar, piv)
    g_lu, g_b = fd_gradient(lambda f, c: lu_trsv_numpy(f, piv, c)[1], [lu, b])
    assert_close(lubar, g_lu, FD_RTOL, "pre-factor + trsv!: factors gradient")
    assert_close(bbar, g_b, FD_RTOL, "pre-factor + trsv!: b gradient")
    _, pb = difflapack.getrs_vjp(lu, piv, b)
    lubar2, bbar2 = pb(np.ones(N))
    assert_close(lubar, lubar2, 1e-12, "trsv chain == getrs_vjp (factors)")
    assert_close(bbar, bbar2, 1e-12, "trsv chain == getrs_vjp (b)")


# ------------------------------------------------------------------ getrf!
def sum_of_factors(a, piv):
    lu, p, _ = difflapack.getrf(a)
    np.testing.assert_array_equal(p, piv)  # the perturbation keeps the pivots
    return lu.sum()


def test_getrf_forward(seed_problem):
    a, _, _, piv = seed_problem
    (lu, p, info), dlu = difflapack.getrf_jvp(a, np.ones((N, N)))
    fd = float(central_difference(lambda x: sum_of_factors(x, piv), (a,), (np.ones((N, N)),)))
    assert abs(dlu.sum() - fd) < FD_RTOL * max(1.0, abs(fd))
    fd_lu = central_difference(lambda x: difflapack.getrf(x)[0], (a,), (np.ones((N, N)),))
    assert_close(dlu, fd_lu, FD_RTOL, "getrf!: dLU")


def test_getrf_reverse(seed_problem):
    a, _, _, piv = seed_problem
    _, pullback = difflapack.getrf_vjp(a)
    abar = pullback(np.ones((N, N)))
    (g,) = fd_gradient(lambda x: sum_of_factors(x, piv), [a])
    assert_close(abar, g, FD_RTOL, "getrf!: gradient")


# ------------------------------------------------------------------ getrs!
def test_getrs_forward(seed_problem):
    a, b, lu, piv = seed_problem
    x, dx = difflapack.getrs_jvp(lu, piv, b, np.ones((N, N)), np.ones(N), "N")
    assert_close(x, np.linalg.solve(a, b), 1e-12, "getrs!: x")
    fd = central_difference(lambda f, c: difflapack.getrs(f, piv, c), (lu, b), (np.ones((N, N)), np.ones(N)))
    assert_close(dx, fd, FD_RTOL, "getrs!: dx")
    assert abs(dx.sum() - fd.sum()) < FD_RTOL * max(1.0, abs(fd.sum()))


def test_getrs_reverse(seed_problem):
    a, b, lu, piv = seed_problem
    _, pullback = difflapack.getrs_vjp(lu, piv, b, "N")
    lubar, bbar = pullback(np.ones(N))
    g_lu, g_b = fd_gradient(lambda f, c: difflapack.getrs(f, piv, c).sum(), [lu, b])
    assert_close(lubar, g_lu, FD_RTOL, "getrs!: factors gradient")
    assert_close(bbar, g_b, FD_RTOL, "getrs!: b gradient")


# ------------------------------------------------------------------ A \ b
def test_backslash_forward(seed_problem):
    a, b, _, _ = seed_problem
    x, dx = difflapack.solve_jvp(a, b, np.ones((N, N)), np.ones(N))
    fd = central_difference(lambda m, c: np.linalg.solve(m, c), (a, b), (np.ones((N, N)), np.ones(N)))
    assert_close(dx, fd, FD_RTOL, "A\\b: dx")
    (_, _, x2, _), (dlu, dx2) = difflapack.gesv_jvp(a, b, np.ones((N, N)), np.ones(N))
    assert_close(dx2, dx, 1e-14, "gesv_jvp dx")


def test_backslash_reverse(seed_problem):
    a, b, _, _ = seed_problem
    x, pullback = difflapack.solve_vjp(a, b)
    abar, bbar = pullback(np.ones(N))
    g_a, g_b = fd_gradient(lambda m, c: np.linalg.solve(m, c).sum(), [a, b])
    assert_close(abar, g_a, FD_RTOL, "A\\b: a gradient")
    assert_close(bbar, g_b, FD_RTOL, "A\\b: b gradient")
    # dot-product consistency of the scalar function's forward and reverse
    r = rng(3)
    da, db = r.standard_normal((N, N)), r.standard_normal(N)
    _, dx = difflapack.solve_jvp(a, b, da, db)
    assert abs(dx.sum() - inner((da, db), (abar, bbar))) < 1e3 * EPS * max(1.0, abs(dx.sum()))
