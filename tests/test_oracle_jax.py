"""Cross-check against an independent implementation: JAX's own derivative rules
(jax.scipy.linalg.solve_triangular, jax.lax.linalg.lu, lu_solve, jnp.linalg.solve), on
random flags, shapes and activity subsets. JAX is installed with the Enzyme extra; the test
is skipped without it."""
import itertools

import numpy as np
import pytest

import difflapack
from _util import rng, triangular

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import jax.scipy.linalg as jsl  # noqa: E402

RTOL = 1e-9


def close(got, want, what):
    got, want = np.asarray(got), np.asarray(want)
    scale = max(1.0, np.abs(want).max(initial=0.0))
    assert np.abs(got - want).max(initial=0.0) <= RTOL * scale, what


def referenced(a, uplo, diag):
    t = jnp.triu(a) if uplo == "U" else jnp.tril(a)
    if diag == "U":
        t = t - jnp.diag(jnp.diag(t)) + jnp.eye(a.shape[0])
    return t


def project(g, uplo, diag):
    g = np.triu(g) if uplo == "U" else np.tril(g)
    if diag == "U":
        np.fill_diagonal(g, 0.0)
    return g


@pytest.mark.parametrize("side,uplo,transa,diag", list(itertools.product("LR", "UL", "NT", "NU")))
def test_trsm_matches_jax(side, uplo, transa, diag):
    r = rng(hash((side, uplo, transa, diag)) % 1000)
    m, n = 7, 4
    k = m if side == "L" else n
    a = triangular(k, uplo, diag == "U", seed=int(r.integers(100)))
    b, da, db, xbar = r.standard_normal((m, n)), r.standard_normal((k, k)), r.standard_normal((m, n)), r.standard_normal((m, n))
    alpha, dalpha = 0.7, 0.3

    def f(a, b, alpha):
        t = referenced(a, uplo, diag)
        opt = t if transa == "N" else t.T
        return alpha * (jnp.linalg.solve(opt, b) if side == "L" else jnp.linalg.solve(opt.T, b.T).T)

    for act in itertools.product([True, False], repeat=3):
        tangents = (da if act[0] else 0 * da, db if act[1] else 0 * db, dalpha if act[2] else 0.0)
        x_j, dx_j = jax.jvp(f, (a, b, alpha), tangents)
        x, dx = difflapack.trsm_jvp(a, b, da if act[0] else None, db if act[1] else None,
                                    dalpha if act[2] else None, alpha=alpha, side=side, uplo=uplo,
                                    transa=transa, diag=diag)
        close(x, x_j, "X")
        close(dx, dx_j, f"dX {act}")
    _, pb_j = jax.vjp(f, a, b, alpha)
    ga, gb, galpha = pb_j(xbar)
    _, pb = difflapack.trsm_vjp(a, b, alpha, side, uplo, transa, diag)
    abar, bbar, alphabar = pb(xbar)
    close(abar, project(np.asarray(ga), uplo, diag), "A_bar")
    close(bbar, gb, "B_bar")
    close(alphabar, galpha, "alpha_bar")


@pytest.mark.parametrize("m,n", [(6, 6), (8, 5), (5, 8)])
def test_getrf_matches_jax(m, n):
    r = rng(m * 10 + n)
    a, da, lubar = r.standard_normal((m, n)), r.standard_normal((m, n)), r.standard_normal((m, n))
    f = lambda a: jax.lax.linalg.lu(a)[0]  # noqa: E731  packed LU, pivots held fixed
    lu_j, dlu_j = jax.jvp(f, (a,), (da,))
    (lu, piv, info), dlu = difflapack.getrf_jvp(a, da)
    assert info == 0
    close(lu, lu_j, "LU")
    close(dlu, dlu_j, "dLU")
    _, pb_j = jax.vjp(f, a)
    _, pb = difflapack.getrf_vjp(a)
    close(pb(lubar), pb_j(lubar)[0], "A_bar")


@pytest.mark.parametrize("trans,nrhs", list(itertools.product("NT", [None, 3])))
def test_getrs_and_gesv_match_jax(trans, nrhs):
    r = rng(5)
    n = 7
    shape = (n,) if nrhs is None else (n, nrhs)
    a, da, b, db, xbar = (r.standard_normal((n, n)), r.standard_normal((n, n)), r.standard_normal(shape),
                          r.standard_normal(shape), r.standard_normal(shape))
    lu, piv, _ = difflapack.getrf(a)
    dlu = r.standard_normal((n, n))
    t = 0 if trans == "N" else 1
    g = lambda lu_, b_: jsl.lu_solve((lu_, jnp.asarray(piv)), b_, trans=t)  # noqa: E731
    x_j, dx_j = jax.jvp(g, (lu, b), (dlu, db))
    x, dx = difflapack.getrs_jvp(lu, piv, b, dlu, db, trans=trans)
    close(x, x_j, "getrs x")
    close(dx, dx_j, "getrs dx")
    _, pb_j = jax.vjp(g, lu, b)
    _, pb = difflapack.getrs_vjp(lu, piv, b, trans=trans)
    lubar, bbar = pb(xbar)
    lubar_j, bbar_j = pb_j(xbar)
    close(bbar, bbar_j, "getrs b_bar")
    close(lubar, lubar_j, "getrs lu_bar")

    s = lambda a_, b_: jnp.linalg.solve(a_, b_)  # noqa: E731
    x_j, dx_j = jax.jvp(s, (a, b), (da, db))
    x, dx = difflapack.solve_jvp(a, b, da, db)
    close(dx, dx_j, "solve dx")
    _, pb_j = jax.vjp(s, a, b)
    _, pb = difflapack.gesv_vjp(a, b)
    abar, bbar = pb(xbar)
    abar_j, bbar_j = pb_j(xbar)
    close(abar, abar_j, "gesv a_bar")
    close(bbar, bbar_j, "gesv b_bar")
