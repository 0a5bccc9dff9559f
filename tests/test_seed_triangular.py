"""The user's report (/work/shared/seed/REPORT.md), trsv!/trsm! scenarios ported to the NumPy
API: f!(x, U, b) = (copy b to x; trsv!('U','N','N', U, x); sum(x)) and the same with
trsm!('L','U','N','N', 1.0, U, X), B 6 x 3, N = 6, U the upper factor of an LU of a random
matrix. Forward (all inputs duplicated, random tangents) and reverse (gradient of the sum)
against central differences, like EnzymeTestUtils' test_forward/test_reverse. Also the
report's third scenario, the LU solve written as two trsv calls with a pre-computed LU."""
import numpy as np
import scipy.linalg

import difflapack

N = 6
EPS_FD = 1e-6


def seed_problem():
    r = np.random.default_rng(42)
    a = r.standard_normal((N, N))
    lu, piv = scipy.linalg.lu_factor(a)
    return r, a, lu, piv, np.triu(lu)


def central(f, xs, dxs, h=EPS_FD):
    plus = [x + h * d for x, d in zip(xs, dxs)]
    minus = [x - h * d for x, d in zip(xs, dxs)]
    return (f(*plus) - f(*minus)) / (2 * h)


def fd_gradient(f, xs, h=EPS_FD):
    grads = []
    for i, x in enumerate(xs):
        g = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            e = np.zeros_like(x); e[idx] = 1.0
            dxs = [e if j == i else np.zeros_like(y) for j, y in enumerate(xs)]
            g[idx] = central(f, xs, dxs, h)
        grads.append(g)
    return grads


def rel(a, b):
    return np.abs(np.asarray(a) - np.asarray(b)).max() / max(1.0, np.abs(np.asarray(b)).max())


def test_seed_trsv_forward_and_reverse():
    r, _, _, _, u = seed_problem()
    b = r.standard_normal(N)
    f = lambda u_, b_: float(np.sum(difflapack.trsv(u_, b_, "U", "N", "N")))
    # forward: dense random tangents (the strictly lower part of dU is ignored, as in BLAS)
    du, db = r.standard_normal((N, N)), r.standard_normal(N)
    x, dx = difflapack.trsv_jvp(u, b, du, db, uplo="U", trans="N", diag="N")
    assert abs(np.sum(x) - f(u, b)) == 0.0
    assert rel(np.sum(dx), central(f, [u, b], [du, db])) < 1e-7
    # reverse: the gradient of sum(x) for U (dense; zero below the diagonal) and b
    _, pullback = difflapack.trsv_vjp(u, b, "U", "N", "N")
    gu, gb = pullback(np.ones(N))
    fu, fb = fd_gradient(f, [u, b])
    assert rel(gu, fu) < 1e-7 and rel(gb, fb) < 1e-7
    assert not np.tril(gu, -1).any()


def test_seed_trsm_forward_and_reverse():
    r, _, _, _, u = seed_problem()
    b = r.standard_normal((N, 3))
    f = lambda u_, b_: float(np.sum(difflapack.trsm(u_, b_, 1.0, "L", "U", "N", "N")))
    du, db = r.standard_normal((N, N)), r.standard_normal((N, 3))
    x, dx = difflapack.trsm_jvp(u, b, du, db, alpha=1.0, side="L", uplo="U", transa="N", diag="N")
    assert np.sum(x) == f(u, b)
    assert rel(np.sum(dx), central(f, [u, b], [du, db])) < 1e-7
    _, pullback = difflapack.trsm_vjp(u, b, 1.0, "L", "U", "N", "N")
    gu, gb, _ = pullback(np.ones((N, 3)))
    fu, fb = fd_gradient(f, [u, b])
    assert rel(gu, fu) < 1e-7 and rel(gb, fb) < 1e-7


def test_seed_lu_solve_as_two_trsv():
    """lu_trsv!(x, factors, ipiv, b): permute b by ipiv, trsv('L','N','U'), trsv('U','N','N'),
    sum(x); derivatives with respect to the packed factors and b (ipiv constant)."""
    r, a, lu, piv, _ = seed_problem()
    b = r.standard_normal(N)

    def permute(v):
        v = v.copy()
        for i, p in enumerate(piv):
            v[i], v[p] = v[p], v[i]
        return v

    def solve(f_, b_):
        y = difflapack.trsv(f_, permute(b_), "L", "N", "U")
        return difflapack.trsv(f_, y, "U", "N", "N")

    x = solve(lu, b)
    assert np.allclose(x, np.linalg.solve(a, b))
    f = lambda f_, b_: float(np.sum(solve(f_, b_)))
    # forward: chain the two jvps
    dlu, db = r.standard_normal((N, N)), r.standard_normal(N)
    y, dy = difflapack.trsv_jvp(lu, permute(b), dlu, permute(db), uplo="L", trans="N", diag="U")
    x2, dx = difflapack.trsv_jvp(lu, y, dlu, dy, uplo="U", trans="N", diag="N")
    assert np.array_equal(x2, x)
    assert rel(np.sum(dx), central(f, [lu, b], [dlu, db])) < 1e-7
    # reverse: chain the two pullbacks (the permutation's adjoint is its inverse)
    _, pb_lower = difflapack.trsv_vjp(lu, permute(b), "L", "N", "U")
    _, pb_upper = difflapack.trsv_vjp(lu, y, "U", "N", "N")
    g_upper, ybar = pb_upper(np.ones(N))
    g_lower, pbbar = pb_lower(ybar)
    glu = g_upper + g_lower
    gb = pbbar.copy()
    for i, p in reversed(list(enumerate(piv))):
        gb[i], gb[p] = gb[p], gb[i]
    flu, fb = fd_gradient(f, [lu, b])
    assert rel(glu, flu) < 1e-7 and rel(gb, fb) < 1e-7
