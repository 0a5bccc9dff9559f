"""Cross-check against an independent implementation: JAX's own derivative rules
(jax.scipy.linalg.solve_triangular, jax.lax.linalg.lu, lu_solve, jnp.linalg.solve), on
random flags, shapes and activity subsets. JAX is installed with the Enzyme extra; the test
is skipped without it."""
import itertools
import zlib

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
    r = rng(zlib.crc32((side + uplo + transa + diag).encode()) % 1000)   # hash() is salted per process
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


# ====================================================================== all precisions
# JAX's cotangent convention for complex numbers is the CONJUGATE of ours. jax.vjp applies the
# plain transpose of the (R-linear) tangent map written over C: for y = a z + b conj(z) the
# tangent is dy = a dz + b conj(dz) and JAX's pullback is ct -> a ct + conj(b ct), whereas ours
# (Enzyme/PyTorch: z_bar = dL/dRe z + i dL/dIm z for the real loss L = Re<w, y>) is
# w -> conj(a) w + b conj(w). Hence, for every rule,
#     ours(w) = conj(jax_pullback(conj(w))),
# and for a real loss (w = 1) JAX's gradient is dL/dRe z - i dL/dIm z = conj(ours).
# test_jax_complex_cotangent_convention establishes this on 1x1 examples (a generic R-linear
# map, and a 1x1 trsv with trans='C', which is not holomorphic); the tests below use it.
#
# JAX evaluates op by op, compiling each primitive per shape, which would take minutes over
# all flags; so each family's JAX derivatives, for every flag combination of one precision,
# are computed by ONE jitted function (cached), and the parametrized tests compare against it.
import functools  # noqa: E402

from _util import eps_of, general_of, is_complex, randn, referenced_triangle, rel_err, triangular_of  # noqa: E402

JAX_PRECISIONS = [np.complex128, np.complex64, np.float32]
JAX_IDS = ["z", "c", "s"]
C_JAX = 50.0   # tolerance factor of C * kappa * eps(precision); both sides round at ~kappa * eps
TRSM_FLAGS = list(itertools.product("LR", "UL", "NTC", "NU"))
TRSV_FLAGS = list(itertools.product("UL", "NTC", "NU"))
GETRF_SHAPES = [(7, 7), (9, 5), (5, 9), (60, 60)]
UNPACKED_SHAPES = [(9, 5), (5, 9)]     # also through jax.scipy.linalg.lu's separate L and U
GETRS_CASES = list(itertools.product("NTC", [None, 3]))


def ours_from_jax(pullback, w):
    """Our cotangent convention from JAX's pullback: conj(pullback(conj(w))) (traceable)."""
    out = pullback(jax.tree_util.tree_map(jnp.conj, w))
    return jax.tree_util.tree_map(jnp.conj, out)


def test_jax_complex_cotangent_convention():
    a, b, z0 = 0.3 + 0.7j, -1.1 + 0.4j, 0.2 - 0.5j
    f = lambda z: a * z + b * jnp.conj(z)  # noqa: E731
    _, pb = jax.vjp(f, z0)
    h = 1e-6
    for w in (1.0 + 0j, 1j, 0.6 - 0.8j):
        loss = lambda z: np.real(np.conj(w) * (a * z + b * np.conj(z)))  # noqa: E731
        grad_fd = (loss(z0 + h) - loss(z0 - h)) / (2 * h) + 1j * (loss(z0 + 1j * h) - loss(z0 - 1j * h)) / (2 * h)
        ours = np.conj(a) * w + b * np.conj(w)
        assert abs(ours - grad_fd) < 1e-8                       # our convention: dL/dRe + i dL/dIm
        assert abs(complex(pb(w)[0]) - (a * w + np.conj(b * w))) < 1e-12   # JAX: the plain transpose
        assert abs(complex(ours_from_jax(pb, w)[0]) - ours) < 1e-12
        if w == 1.0:
            assert abs(complex(pb(w)[0]) - np.conj(ours)) < 1e-12
    # the same on a 1x1 rule that is not holomorphic: x = b / conj(a) (trsv, trans='C')
    A, B = np.array([[0.8 - 0.6j]]), np.array([0.5 + 0.25j])
    g = lambda A_, B_: B_ / jnp.conj(A_[0, 0])  # noqa: E731
    _, pb = jax.vjp(g, A, B)
    _, pb_ours = difflapack.trsv_vjp(A, B, "U", "C", "N")
    for w in (np.array([1.0 + 0j]), np.array([0.3 - 0.9j])):
        abar, bbar = pb_ours(w)
        abar_j, bbar_j = ours_from_jax(pb, w)
        np.testing.assert_allclose(abar, abar_j, rtol=1e-14)
        np.testing.assert_allclose(bbar, bbar_j, rtol=1e-14)
        loss = lambda A_, B_: np.real(np.vdot(w, difflapack.trsv(A_, B_, "U", "C", "N")))  # noqa: E731
        e = np.array([[1.0]])
        fd = ((loss(A + h * e, B) - loss(A - h * e, B)) + 1j * (loss(A + 1j * h * e, B) - loss(A - 1j * h * e, B))) / (2 * h)
        assert abs(abar[0, 0] - fd) < 1e-8


def kappa_c(m):
    m = np.asarray(m)
    return 1.0 if m.size == 0 else float(np.linalg.cond(m.astype(complex)))


def lu_kappa_c(lu):
    k = min(lu.shape)
    if k == 0:
        return 1.0
    lu = np.asarray(lu, dtype=complex)
    return kappa_c(np.tril(lu[:k, :k], -1) + np.eye(k)) * kappa_c(np.triu(lu[:k, :k]))


def close_p(got, want, kappa, dtype, what):
    got = np.asarray(got)
    assert got.dtype == np.dtype(dtype), f"{what}: dtype {got.dtype}"
    err, allowed = rel_err(got, want), C_JAX * max(kappa, 1.0) * eps_of(dtype)
    assert err <= allowed, f"{what}: relative error {err:.3e} > {allowed:.3e}"


def scalars(dtype, cplx_value, real_value):
    return np.dtype(dtype).type(cplx_value if is_complex(dtype) else real_value)


def jax_trsm(side, uplo, transa, diag):
    """op(A) X = alpha B (side L) or X op(A) = alpha B (side R) with JAX's solve_triangular
    (given the clean referenced triangle; our side gets garbage outside it)."""
    lower, unit = uplo == "L", diag == "U"
    t = {"N": 0, "T": 1, "C": 2}[transa]

    def f(a, b, alpha):
        if side == "L":
            return alpha * jsl.solve_triangular(a, b, trans=t, lower=lower, unit_diagonal=unit)
        # X op(A) = B  <=>  op(A)^T X^T = B^T; op(A)^T is A^T (N), A (T), conj(A) (C)
        if transa == "C":
            xt = jsl.solve_triangular(jnp.conj(a), b.T, trans=0, lower=lower, unit_diagonal=unit)
        else:
            xt = jsl.solve_triangular(a, b.T, trans=1 - t, lower=lower, unit_diagonal=unit)
        return alpha * xt.T
    return f


def jvp_and_vjp(f, primals, tangents, *cotangents):
    """(primal out, JAX tangent, cotangents in OUR convention for each given output
    cotangent) -- traceable."""
    out, tan = jax.jvp(f, primals, tangents)
    _, pb = jax.vjp(f, *primals)
    return (out, tan) + tuple(ours_from_jax(pb, w) for w in cotangents)


def run_jitted(fn, cases):
    """One compiled function for all cases. XLA's optimisation passes would cost more than the
    tiny computation saves: they are switched off for this compilation only (~30% less time)."""
    old = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", True)
    try:
        return jax.tree_util.tree_map(np.asarray, jax.jit(fn)(cases))
    finally:
        jax.config.update("jax_disable_most_optimizations", old)


# ------------------------------------------------------------------ trsm, trsv
def trsm_case(dtype, side, uplo, transa, diag):
    r = rng(sum(map(ord, side + uplo + transa + diag)) + 7 * JAX_PRECISIONS.index(dtype))
    m, n = 6, 3
    k = m if side == "L" else n
    a = triangular_of(k, uplo, diag == "U", seed=int(r.integers(100)), dtype=dtype)
    return dict(a=a, a_clean=referenced_triangle(a, uplo, diag == "U").astype(dtype), b=randn(r, (m, n), dtype),
                alpha=scalars(dtype, 0.7 - 0.4j, 0.7), da=randn(r, (k, k), dtype), db=randn(r, (m, n), dtype),
                dalpha=scalars(dtype, 0.3 + 0.2j, 0.3), xbar=randn(r, (m, n), dtype))


@functools.lru_cache(maxsize=None)
def jax_trsm_all(dtype_name):
    dtype = np.dtype(dtype_name).type
    cases = [trsm_case(dtype, *fl) for fl in TRSM_FLAGS]

    def allf(cs):
        return [jvp_and_vjp(jax_trsm(*fl), (c["a_clean"], c["b"], c["alpha"]), (c["da"], c["db"], c["dalpha"]),
                            c["xbar"]) for fl, c in zip(TRSM_FLAGS, cs)]
    jax_cases = [{k: v for k, v in c.items() if k != "a"} for c in cases]
    return cases, run_jitted(allf, jax_cases)


@pytest.mark.parametrize("dtype", JAX_PRECISIONS, ids=JAX_IDS)
@pytest.mark.parametrize("side,uplo,transa,diag", TRSM_FLAGS)
def test_trsm_matches_jax_all_precisions(dtype, side, uplo, transa, diag):
    cases, results = jax_trsm_all(np.dtype(dtype).name)
    i = TRSM_FLAGS.index((side, uplo, transa, diag))
    c, (x_j, dx_j, (ga, gb, galpha)) = cases[i], results[i]
    kappa = kappa_c(c["a_clean"])
    tag = f"trsm {np.dtype(dtype).name} {side}{uplo}{transa}{diag}"
    x, dx = difflapack.trsm_jvp(c["a"], c["b"], c["da"], c["db"], c["dalpha"], c["alpha"], side, uplo, transa, diag)
    close_p(x, x_j, kappa, dtype, tag + " X")
    close_p(dx, dx_j, kappa, dtype, tag + " dX")
    abar, bbar, alphabar = difflapack.trsm_vjp(c["a"], c["b"], c["alpha"], side, uplo, transa, diag)[1](c["xbar"])
    close_p(abar, project(ga, uplo, diag), kappa, dtype, tag + " A_bar")
    close_p(bbar, gb, kappa, dtype, tag + " B_bar")
    close_p(alphabar, galpha, kappa, dtype, tag + " alpha_bar")


def trsv_case(dtype, uplo, trans, diag):
    r = rng(sum(map(ord, uplo + trans + diag)) + 11 * JAX_PRECISIONS.index(dtype))
    n = 7
    a = triangular_of(n, uplo, diag == "U", seed=int(r.integers(100)), dtype=dtype)
    return dict(a=a, a_clean=referenced_triangle(a, uplo, diag == "U").astype(dtype), b=randn(r, n, dtype),
                da=randn(r, (n, n), dtype), db=randn(r, n, dtype), xbar=randn(r, n, dtype))


@functools.lru_cache(maxsize=None)
def jax_trsv_all(dtype_name):
    dtype = np.dtype(dtype_name).type
    cases = [trsv_case(dtype, *fl) for fl in TRSV_FLAGS]

    def allf(cs):
        out = []
        for (uplo, trans, diag), c in zip(TRSV_FLAGS, cs):
            t = {"N": 0, "T": 1, "C": 2}[trans]
            f = functools.partial(jsl.solve_triangular, trans=t, lower=uplo == "L", unit_diagonal=diag == "U")
            out.append(jvp_and_vjp(f, (c["a_clean"], c["b"]), (c["da"], c["db"]), c["xbar"]))
        return out
    return cases, run_jitted(allf, [{k: v for k, v in c.items() if k != "a"} for c in cases])


@pytest.mark.parametrize("dtype", JAX_PRECISIONS, ids=JAX_IDS)
@pytest.mark.parametrize("uplo,trans,diag", TRSV_FLAGS)
def test_trsv_matches_jax_all_precisions(dtype, uplo, trans, diag):
    cases, results = jax_trsv_all(np.dtype(dtype).name)
    i = TRSV_FLAGS.index((uplo, trans, diag))
    c, (x_j, dx_j, (ga, gb)) = cases[i], results[i]
    kappa = kappa_c(c["a_clean"])
    tag = f"trsv {np.dtype(dtype).name} {uplo}{trans}{diag}"
    x, dx = difflapack.trsv_jvp(c["a"], c["b"], c["da"], c["db"], uplo, trans, diag)
    close_p(x, x_j, kappa, dtype, tag + " x")
    close_p(dx, dx_j, kappa, dtype, tag + " dx")
    abar, bbar = difflapack.trsv_vjp(c["a"], c["b"], uplo, trans, diag)[1](c["xbar"])
    close_p(abar, project(ga, uplo, diag), kappa, dtype, tag + " a_bar")
    close_p(bbar, gb, kappa, dtype, tag + " b_bar")


# ------------------------------------------------------------------ getrf
def getrf_case(dtype, m, n):
    r = rng(m * 31 + n + 5 * JAX_PRECISIONS.index(dtype))
    k = min(m, n)
    return dict(a=general_of(m, n, seed=int(r.integers(100)), dtype=dtype), da=randn(r, (m, n), dtype),
                lubar=randn(r, (m, n), dtype), lbar=np.tril(randn(r, (m, k), dtype), -1),
                ubar=np.triu(randn(r, (k, n), dtype)))


@functools.lru_cache(maxsize=None)
def jax_getrf_all(dtype_name):
    """Packed factors (jax.scipy.linalg.lu_factor) and the unpacked L, U of
    jax.scipy.linalg.lu; JAX, like us, holds the pivots fixed."""
    dtype = np.dtype(dtype_name).type
    cases = [getrf_case(dtype, m, n) for m, n in GETRF_SHAPES]

    def allf(cs):
        out = []
        for shape, c in zip(GETRF_SHAPES, cs):
            packed = jvp_and_vjp(lambda a_: jsl.lu_factor(a_)[0], (c["a"],), (c["da"],), c["lubar"])
            unpacked = jvp_and_vjp(lambda a_: jsl.lu(a_)[1:], (c["a"],), (c["da"],), (c["lbar"], c["ubar"])) \
                if shape in UNPACKED_SHAPES else None
            out.append((packed, unpacked, jsl.lu_factor(c["a"])[1]))
        return out
    return cases, run_jitted(allf, cases)


@pytest.mark.parametrize("dtype", JAX_PRECISIONS, ids=JAX_IDS)
@pytest.mark.parametrize("m,n", GETRF_SHAPES)
def test_getrf_matches_jax_all_precisions(dtype, m, n):
    cases, results = jax_getrf_all(np.dtype(dtype).name)
    i = GETRF_SHAPES.index((m, n))
    c = cases[i]
    (lu_j, dlu_j, (abar_j,)), unpacked, piv_j = results[i]
    tag = f"getrf {np.dtype(dtype).name} {m}x{n}"
    (lu, piv, info), dlu = difflapack.getrf_jvp(c["a"], c["da"])
    assert info == 0
    np.testing.assert_array_equal(piv, piv_j)
    kappa = lu_kappa_c(lu)
    k = min(m, n)
    close_p(lu, lu_j, kappa, dtype, tag + " LU")
    close_p(dlu, dlu_j, kappa, dtype, tag + " dLU")
    pullback = difflapack.getrf_vjp(c["a"])[1]
    close_p(pullback(c["lubar"]), abar_j, kappa, dtype, tag + " A_bar")
    if unpacked is None:
        return
    (_, _), (dL_j, dU_j), (abar_lu_j,) = unpacked
    close_p(np.tril(dlu[:, :k], -1), dL_j, kappa, dtype, tag + " dL")
    close_p(np.triu(dlu[:k, :]), dU_j, kappa, dtype, tag + " dU")
    packed = np.zeros((m, n), dtype)
    packed[:, :k] += c["lbar"]
    packed[:k, :] += c["ubar"]
    close_p(pullback(packed), abar_lu_j, kappa, dtype, tag + " A_bar from (L_bar, U_bar)")


# ------------------------------------------------------------------ getrs, gesv, solve
def getrs_case(dtype, trans, nrhs):
    r = rng(ord(trans) + (nrhs or 0) + 13 * JAX_PRECISIONS.index(dtype))
    n = 8
    shape = (n,) if nrhs is None else (n, nrhs)
    a = general_of(n, n, seed=int(r.integers(100)), dtype=dtype)
    lu, piv, _ = difflapack.getrf(a)
    return dict(a=a, lu=lu, piv=piv, da=randn(r, (n, n), dtype), dlu=randn(r, (n, n), dtype),
                b=randn(r, shape, dtype), db=randn(r, shape, dtype), xbar=randn(r, shape, dtype),
                lubar=randn(r, (n, n), dtype))


@functools.lru_cache(maxsize=None)
def jax_getrs_all(dtype_name):
    dtype = np.dtype(dtype_name).type
    cases = [getrs_case(dtype, *tc) for tc in GETRS_CASES]

    def allf(cs):
        out = []
        for (trans, _), c in zip(GETRS_CASES, cs):
            t = {"N": 0, "T": 1, "C": 2}[trans]
            g = lambda lu_, b_, piv=c["piv"], t=t: jsl.lu_solve((lu_, piv), b_, trans=t)  # noqa: E731
            s = lambda a_, b_: (jsl.lu_factor(a_)[0], jnp.linalg.solve(a_, b_))  # noqa: E731
            gesv = jvp_and_vjp(s, (c["a"], c["b"]), (c["da"], c["db"]), (c["lubar"], c["xbar"]),
                               (jnp.zeros_like(c["lubar"]), c["xbar"])) if trans == "N" else None
            out.append((jvp_and_vjp(g, (c["lu"], c["b"]), (c["dlu"], c["db"]), c["xbar"]), gesv))
        return out
    return cases, run_jitted(allf, cases)


@pytest.mark.parametrize("dtype", JAX_PRECISIONS, ids=JAX_IDS)
@pytest.mark.parametrize("trans,nrhs", GETRS_CASES)
def test_getrs_gesv_solve_match_jax_all_precisions(dtype, trans, nrhs):
    """getrs against jax.scipy.linalg.lu_solve (trans 0/1/2); gesv (both outputs) against the
    pair (lu_factor, jnp.linalg.solve); solve against jnp.linalg.solve."""
    cases, results = jax_getrs_all(np.dtype(dtype).name)
    i = GETRS_CASES.index((trans, nrhs))
    c = cases[i]
    getrs_j, gesv_j = results[i]
    x_j, dx_j, (lubar_j, bbar_j) = getrs_j
    kappa = max(kappa_c(c["a"]), lu_kappa_c(c["lu"]))
    tag = f"{np.dtype(dtype).name} {trans} {c['b'].shape}"
    x, dx = difflapack.getrs_jvp(c["lu"], c["piv"], c["b"], c["dlu"], c["db"], trans)
    close_p(x, x_j, kappa, dtype, "getrs x " + tag)
    close_p(dx, dx_j, kappa, dtype, "getrs dx " + tag)
    lubar, bbar = difflapack.getrs_vjp(c["lu"], c["piv"], c["b"], trans)[1](c["xbar"])
    close_p(lubar, lubar_j, kappa, dtype, "getrs lu_bar " + tag)
    close_p(bbar, bbar_j, kappa, dtype, "getrs b_bar " + tag)
    if gesv_j is None:    # gesv and solve have no trans: checked once per right-hand side shape
        return
    _, (dlu_j, dxs_j), (abar_j, bbar_s_j), (abar_x_j, bbar_x_j) = gesv_j
    (_, _, _, _), (dlu, dxg) = difflapack.gesv_jvp(c["a"], c["b"], c["da"], c["db"])
    close_p(dlu, dlu_j, kappa, dtype, "gesv dlu " + tag)
    close_p(dxg, dxs_j, kappa, dtype, "gesv dx " + tag)
    close_p(difflapack.solve_jvp(c["a"], c["b"], c["da"], c["db"])[1], dxs_j, kappa, dtype, "solve dx " + tag)
    abar, bbar = difflapack.gesv_vjp(c["a"], c["b"])[1](c["xbar"], c["lubar"])
    close_p(abar, abar_j, kappa, dtype, "gesv a_bar (x_bar, lu_bar) " + tag)
    close_p(bbar, bbar_s_j, kappa, dtype, "gesv b_bar (x_bar, lu_bar) " + tag)
    for pb in (difflapack.gesv_vjp(c["a"], c["b"])[1], difflapack.solve_vjp(c["a"], c["b"])[1]):
        abar, bbar = pb(c["xbar"])
        close_p(abar, abar_x_j, kappa, dtype, "gesv/solve a_bar " + tag)
        close_p(bbar, bbar_x_j, kappa, dtype, "gesv/solve b_bar " + tag)
