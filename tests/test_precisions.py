"""Every NumPy-level derivative rule in all four precisions (s = float32, d = float64,
c = complex64, z = complex128): trsv, trsm, getrf (square and rectangular), getrs, gesv and
solve, each jvp and vjp, for every flag (uplo U/L, trans N/T/C, diag N/U, side L/R) and for
shapes that are empty, 1, small and odd, and above the recursion bases of the blocked kernels
(trsm recurses above 96, getrf's panel is 8 wide and its gemm-tri base 48: 130).

Evidence, for each case:
* primal and jvp against the SAME routine evaluated in double precision (float64 /
  complex128) on the same (up-cast) inputs: the jvp against a fourth-order central difference
  of the double-precision routine, along a random real direction and, for complex, along a
  random purely imaginary one (a rule that is only R-linear, as trans='C' makes it, can be right
  along one and wrong along the other); tolerances are C * kappa * eps(precision of the rule)
  (+ the reference's own ~1e-10 kappa^2 error);
* the dot-product test Re<J v, w> = Re<v, J^H w> (J^H = what the pullback applies under the
  Enzyme/PyTorch cotangent convention z_bar = dL/dRe z + i dL/dIm z) for random complex v, w,
  per input;
* structure: triangular cotangents vanish outside the referenced triangle (and on a unit
  diagonal); tangent entries outside it are ignored (NaN there changes nothing);
* the dtype of every output is the rule's precision.
Then the promotion rules (np.result_type; int/bool -> float64, float16 -> float32; a complex
alpha makes trsm complex) and ValueError for a complex tangent/cotangent of a real computation.
"""
import functools
import itertools
import os
import zlib

import numpy as np
import pytest

import difflapack as dl
from _util import (PREC_IDS, PRECISIONS, assert_re_dot, central_difference_double, directions, double_of,
                   eps_of, general_of, is_complex, randn, referenced_triangle, rel_err, rng, single_threaded_blas,
                   to_double, triangular_of)
from test_getrf import row_order, unpack

# Tolerance factor C of C * kappa * eps(precision). Measured worst err / (kappa * eps) over this
# module (see the report fixture below; DL_PREC_REPORT=1 prints it): < 2 for every check, so
# C = 30 leaves an order of magnitude while still catching any error of a few ulps times kappa.
C = 30.0
FD_ERR = 1e-9    # relative error of the double-precision 4th-order central difference, per kappa^2 (measured < 4e-11)

PREC = pytest.mark.parametrize("dtype", PRECISIONS, ids=PREC_IDS)
TRSV_FLAGS = list(itertools.product("UL", "NTC", "NU"))
TRSM_FLAGS = list(itertools.product("LR", "UL", "NTC", "NU"))

_worst = {}


@pytest.fixture(scope="module", autouse=True)
def _report_ratios():
    yield
    if os.environ.get("DL_PREC_REPORT"):
        print("\nworst err / (kappa * eps) per check and precision:")
        for key in sorted(_worst):
            print(f"  {key[0]:28s} {key[1]}  {_worst[key][0]:9.3g}  ({_worst[key][1]})")


@pytest.fixture(scope="module", autouse=True)
def _one_blas_thread():
    with single_threaded_blas():
        yield


def seed_of(*params):
    """A deterministic seed per parameter combination (Python's hash() is salted per run)."""
    return zlib.crc32(repr(params).encode()) % (2 ** 31)


def kappa_of(m):
    m = np.asarray(m)
    if m.size == 0:
        return 1.0
    return float(np.linalg.cond(m.astype(complex if m.dtype.kind == "c" else float)))


def lu_kappa(lu, piv):
    """Condition scale of the LU rules: kappa(L) kappa(U) of the square blocks."""
    if min(lu.shape) == 0:
        return 1.0
    L, U, _ = unpack(np.asarray(lu, dtype=double_of(lu.dtype)), piv)
    k = min(lu.shape)
    return kappa_of(L[:k, :k]) * kappa_of(U[:, :k])


def _record(key, ratio, what):
    if ratio >= _worst.get(key, (-1.0,))[0]:
        _worst[key] = (ratio, what)


def check(got, want, kappa, dtype, what, fd=False, factor=C, scale=0.0):
    """rel_err(got, want, scale) <= factor * kappa * eps(dtype) (+ the FD reference's error)."""
    err = rel_err(got, want, scale)
    kappa = max(kappa, 1.0)
    unit = kappa * eps_of(dtype)
    fd_allow = FD_ERR * kappa ** 2 if fd else 0.0
    _record((what.split(" ")[0], np.dtype(dtype).name), err / unit, what)
    if fd:
        _record(("fd-reference/kappa^2", np.dtype(dtype).name), err / kappa ** 2, what)
    allowed = factor * unit + fd_allow
    assert err <= allowed, f"{what}: relative error {err:.3e} > {allowed:.3e} (kappa {kappa:.3g})"


def term_scale(jvp, tangents):
    """sum over the inputs of max |J_i v_i| (the tangent from each input alone): the size of the
    terms the tangent J v = sum_i J_i v_i is made of."""
    total = 0.0
    for i, d in enumerate(tangents):
        if d is None:
            continue
        alone = [None] * len(tangents)
        alone[i] = d
        out = jvp(*alone)
        total += max(np.abs(np.asarray(o)).max(initial=0.0) for o in (out if isinstance(out, tuple) else (out,)))
    return total


def dot_check(jv, w, v, jtw, kappa, dtype, what):
    rtol = C * max(kappa, 1.0) * eps_of(dtype)
    ratio = assert_re_dot(jv, w, v, jtw, rtol, what)
    _record(("dot", np.dtype(dtype).name), ratio / (max(kappa, 1.0) * eps_of(dtype)), what)


def assert_dtype(dtype, *arrays, what=""):
    for x in arrays:
        assert np.asarray(x).dtype == np.dtype(dtype), f"{what}: dtype {np.asarray(x).dtype} != {np.dtype(dtype)}"


@functools.lru_cache(maxsize=None)
def _tri_case(n, uplo, diag, dtype_name):
    a = triangular_of(n, uplo, diag == "U", seed=seed_of("tri", n, uplo, diag, dtype_name), dtype=dtype_name)
    a.flags.writeable = False
    return a, kappa_of(referenced_triangle(a, uplo, diag == "U"))


def tri_case(n, uplo, diag, dtype):
    """A well-conditioned n x n triangle of the precision (garbage in the other triangle and on
    a unit diagonal) and the condition number of the referenced triangle. Shared by the flag
    combinations with the same (n, uplo, diag): the SVD for kappa is the costly part."""
    a, kappa = _tri_case(n, uplo, diag, np.dtype(dtype).name)
    return a.copy(), kappa


@functools.lru_cache(maxsize=None)
def _general_case(m, n, dtype_name):
    a = general_of(m, n, seed=seed_of("general", m, n, dtype_name), dtype=dtype_name)
    lu, piv, _ = dl.getrf(a)
    kappa = lu_kappa(lu, piv) if m != n else max(kappa_of(a), lu_kappa(lu, piv))
    for x in (a, lu, piv):
        x.flags.writeable = False
    return a, lu, piv, kappa


def general_case(m, n, dtype):
    """A well-conditioned m x n matrix of the precision that forces row swaps, its packed LU
    factors and pivots, and the condition scale of the LU rules: kappa(L) kappa(U) (and
    kappa(A) if square)."""
    a, lu, piv, kappa = _general_case(m, n, np.dtype(dtype).name)
    return a.copy(), lu.copy(order="F"), piv.copy(), kappa


def project(m, uplo, diag):
    k = 1 if diag == "U" else 0
    return np.triu(m, k) if uplo == "U" else np.tril(m, -k)


def outside_garbage(d, uplo, diag):
    """d with NaN everywhere outside the referenced triangle (and on a unit diagonal)."""
    g = np.array(d, copy=True)
    mask = project(np.ones(d.shape, dtype=bool), uplo, diag)
    g[~mask] = np.nan
    return g


# ------------------------------------------------------------------ trsv
@PREC
@pytest.mark.parametrize("uplo,trans,diag", TRSV_FLAGS)
@pytest.mark.parametrize("n", [0, 1, 7, 130])
def test_trsv(dtype, uplo, trans, diag, n):
    r = rng(seed_of("trsv", np.dtype(dtype).name, uplo, trans, diag, n))
    a, kappa = tri_case(n, uplo, diag, dtype)
    b = randn(r, n, dtype)
    tag = f"trsv[{uplo}{trans}{diag} n={n}]"
    f = lambda a_, b_: dl.trsv(a_, b_, uplo, trans, diag)  # noqa: E731

    x = f(a, b)
    assert_dtype(dtype, x, what=tag)
    assert x.shape == (n,)
    check(x, f(to_double(a), to_double(b)), kappa, dtype, f"primal {tag}")

    for (kind, da), (_, db) in zip(directions(r, (n, n), dtype), directions(r, n, dtype)):
        x1, dx = dl.trsv_jvp(a, b, da, db, uplo, trans, diag)
        assert_dtype(dtype, x1, dx, what=tag)
        check(x1, x, kappa, dtype, f"jvp-primal {tag}")
        fd = central_difference_double(f, (a, b), (da, db))
        sc = term_scale(lambda *t: dl.trsv_jvp(a, b, *t, uplo, trans, diag)[1], (da, db))
        check(dx, fd, kappa, dtype, f"jvp-fd {tag} {kind}", fd=True, scale=sc)
        # entries of da outside the referenced triangle are never read
        _, dx_g = dl.trsv_jvp(a, b, outside_garbage(da, uplo, diag), db, uplo, trans, diag)
        np.testing.assert_array_equal(dx_g, dx, err_msg=f"{tag}: tangent outside the triangle was read")

    x2, pullback = dl.trsv_vjp(a, b, uplo, trans, diag)
    w = randn(r, n, dtype)
    abar, bbar = pullback(w)
    assert_dtype(dtype, x2, abar, bbar, what=tag)
    assert abar.shape == (n, n) and bbar.shape == (n,)
    np.testing.assert_array_equal(abar, project(abar, uplo, diag), err_msg=f"{tag}: a_bar outside the triangle")
    v = (randn(r, (n, n), dtype), randn(r, n, dtype))
    for act in [(True, True), (True, False), (False, True)]:
        vin = tuple(d if on else None for d, on in zip(v, act))
        _, jv = dl.trsv_jvp(a, b, *vin, uplo, trans, diag)
        dot_check(jv, w, vin, (abar, bbar), kappa, dtype, f"dot {tag} {act}")


# ------------------------------------------------------------------ trsm
TRSM_SHAPES = [(0, 3), (3, 0), (1, 1), (7, 1), (9, 4), (130, 3)]   # (k, other): A is k x k


def trsm_problem(dtype, side, uplo, diag, k, other, seed):
    r = rng(seed)
    m, n = (k, other) if side == "L" else (other, k)
    a, kappa = tri_case(k, uplo, diag, dtype)
    b = randn(r, (m, n), dtype)
    alpha = 0.7 - 0.4j if is_complex(dtype) else 0.7
    return r, a, b, alpha, m, n, kappa


@PREC
@pytest.mark.parametrize("side,uplo,trans,diag", TRSM_FLAGS)
@pytest.mark.parametrize("k,other", TRSM_SHAPES)
def test_trsm(dtype, side, uplo, trans, diag, k, other):
    r, a, b, alpha, m, n, kappa = trsm_problem(dtype, side, uplo, diag, k, other,
                                               seed_of("trsm", np.dtype(dtype).name, side, uplo, trans, diag, k,
                                                       other))
    tag = f"trsm[{side}{uplo}{trans}{diag} {m}x{n}]"
    f = lambda a_, b_, al_: dl.trsm(a_, b_, al_, side, uplo, trans, diag)  # noqa: E731

    x = f(a, b, alpha)
    assert_dtype(dtype, x, what=tag)
    assert x.shape == (m, n)
    check(x, f(to_double(a), to_double(b), alpha), kappa, dtype, f"primal {tag}")

    dal_dirs = [("real", 0.3)] + ([("imag", 0.3j)] if is_complex(dtype) else [])
    for (kind, da), (_, db), (_, dal) in zip(directions(r, (k, k), dtype), directions(r, (m, n), dtype), dal_dirs):
        x1, dx = dl.trsm_jvp(a, b, da, db, dal, alpha, side, uplo, trans, diag)
        assert_dtype(dtype, x1, dx, what=tag)
        check(x1, x, kappa, dtype, f"jvp-primal {tag}")
        fd = central_difference_double(f, (a, b, alpha), (da, db, dal))
        sc = term_scale(lambda *t: dl.trsm_jvp(a, b, *t, alpha, side, uplo, trans, diag)[1], (da, db, dal))
        check(dx, fd, kappa, dtype, f"jvp-fd {tag} {kind}", fd=True, scale=sc)
        _, dx_g = dl.trsm_jvp(a, b, outside_garbage(da, uplo, diag), db, dal, alpha, side, uplo, trans, diag)
        np.testing.assert_array_equal(dx_g, dx, err_msg=f"{tag}: tangent outside the triangle was read")

    x2, pullback = dl.trsm_vjp(a, b, alpha, side, uplo, trans, diag)
    w = randn(r, (m, n), dtype)
    abar, bbar, albar = pullback(w)
    assert_dtype(dtype, x2, abar, bbar, albar, what=tag)
    assert abar.shape == (k, k) and bbar.shape == (m, n) and np.ndim(albar) == 0
    np.testing.assert_array_equal(abar, project(abar, uplo, diag), err_msg=f"{tag}: a_bar outside the triangle")
    v = (randn(r, (k, k), dtype), randn(r, (m, n), dtype), randn(r, (), dtype)[()])
    for act in [(True, True, True), (True, False, False), (False, True, False), (False, False, True)]:
        vin = tuple(d if on else None for d, on in zip(v, act))
        _, jv = dl.trsm_jvp(a, b, *vin, alpha, side, uplo, trans, diag)
        dot_check(jv, w, vin, (abar, bbar, albar), kappa, dtype, f"dot {tag} {act}")


@PREC
@pytest.mark.parametrize("side,uplo,trans,diag", [("L", "U", "C", "N"), ("R", "L", "T", "U"), ("L", "L", "N", "U"),
                                                  ("R", "U", "C", "N")])
def test_trsm_alpha_zero(dtype, side, uplo, trans, diag):
    """alpha = 0: X = 0, the tangent is dalpha op(A)^{-1} B (side L), b_bar = 0."""
    r, a, b, _, m, n, kappa = trsm_problem(dtype, side, uplo, diag, 6, 4, seed_of("trsm0", np.dtype(dtype).name, side))
    f = lambda a_, b_, al_: dl.trsm(a_, b_, al_, side, uplo, trans, diag)  # noqa: E731
    for (kind, da), (_, db) in zip(directions(r, a.shape, dtype), directions(r, b.shape, dtype)):
        dal = 0.5 if kind == "real" else 0.5j
        x, dx = dl.trsm_jvp(a, b, da, db, dal, 0.0, side, uplo, trans, diag)
        assert_dtype(dtype, x, dx)
        assert not x.any()
        sc = term_scale(lambda *t: dl.trsm_jvp(a, b, *t, 0.0, side, uplo, trans, diag)[1], (da, db, dal))
        check(dx, central_difference_double(f, (a, b, 0.0), (da, db, dal)), kappa, dtype,
              f"jvp-fd trsm alpha=0 {kind}", fd=True, scale=sc)
    _, pullback = dl.trsm_vjp(a, b, 0.0, side, uplo, trans, diag)
    w = randn(r, b.shape, dtype)
    abar, bbar, albar = pullback(w)
    assert_dtype(dtype, abar, bbar, albar)
    assert not abar.any() and not bbar.any()
    v = (randn(r, a.shape, dtype), randn(r, b.shape, dtype), randn(r, (), dtype)[()])
    _, jv = dl.trsm_jvp(a, b, *v, 0.0, side, uplo, trans, diag)
    dot_check(jv, w, v, (abar, bbar, albar), kappa, dtype, "dot trsm alpha=0")


# ------------------------------------------------------------------ getrf
GETRF_SHAPES = [(0, 0), (0, 3), (3, 0), (1, 1), (1, 4), (4, 1), (7, 7), (9, 5), (5, 9), (130, 130), (131, 57),
                (57, 131)]


def fixed_pivot_getrf(piv, m):
    """getrf of the rows in the primal's pivot order: partial pivoting then swaps nothing,
    so this is the map whose derivative getrf's rules give (pivots held fixed)."""
    p = row_order(piv, m)

    def f(a_):
        lu_, piv_, _ = dl.getrf(np.asarray(a_)[p])
        assert np.array_equal(piv_, np.arange(len(piv_))), "pivot order changed under the FD step"
        return lu_
    return f


@PREC
@pytest.mark.parametrize("m,n", GETRF_SHAPES)
def test_getrf(dtype, m, n):
    r = rng(seed_of("getrf", np.dtype(dtype).name, m, n))
    a, _, _, kappa = general_case(m, n, dtype)
    tag = f"getrf[{m}x{n}]"
    lu, piv, info = dl.getrf(a)
    assert info == 0 and lu.shape == (m, n) and piv.shape == (min(m, n),)
    assert_dtype(dtype, lu, what=tag)
    lu_d, piv_d, _ = dl.getrf(to_double(a))
    np.testing.assert_array_equal(piv, piv_d)
    check(lu, lu_d, kappa, dtype, f"primal {tag}")

    f = fixed_pivot_getrf(piv, m)
    for kind, da in directions(r, (m, n), dtype):
        (lu1, piv1, info1), dlu = dl.getrf_jvp(a, da)
        assert_dtype(dtype, lu1, dlu, what=tag)
        np.testing.assert_array_equal(piv1, piv)
        check(lu1, lu, kappa, dtype, f"jvp-primal {tag}")
        check(dlu, central_difference_double(f, (a,), (da,)), kappa, dtype, f"jvp-fd {tag} {kind}", fd=True)

    (lu2, piv2, _), pullback = dl.getrf_vjp(a)
    assert_dtype(dtype, lu2, what=tag)
    w = randn(r, (m, n), dtype)
    abar = pullback(w)
    assert_dtype(dtype, abar, what=tag)
    assert abar.shape == (m, n)
    v = randn(r, (m, n), dtype)
    _, jv = dl.getrf_jvp(a, v)
    dot_check(jv, w, v, abar, kappa, dtype, f"dot {tag}")


# ------------------------------------------------------------------ getrs
NRHS = [None, 1, 3]   # None: 1-D b


def rhs_shape(n, nrhs):
    return (n,) if nrhs is None else (n, nrhs)


@PREC
@pytest.mark.parametrize("trans", "NTC")
@pytest.mark.parametrize("nrhs", NRHS, ids=["1d", "1", "3"])
@pytest.mark.parametrize("n", [0, 1, 7, 130])
def test_getrs(dtype, trans, nrhs, n):
    r = rng(seed_of("getrs", np.dtype(dtype).name, trans, nrhs, n))
    _, lu, piv, kappa = general_case(n, n, dtype)
    shape = rhs_shape(n, nrhs)
    b = randn(r, shape, dtype)
    tag = f"getrs[{trans} {shape}]"
    f = lambda lu_, b_: dl.getrs(lu_, piv, b_, trans)  # noqa: E731

    x = f(lu, b)
    assert_dtype(dtype, x, what=tag)
    assert x.shape == shape
    check(x, f(to_double(lu), to_double(b)), kappa, dtype, f"primal {tag}")

    for (kind, dlu), (_, db) in zip(directions(r, (n, n), dtype), directions(r, shape, dtype)):
        x1, dx = dl.getrs_jvp(lu, piv, b, dlu, db, trans)
        assert_dtype(dtype, x1, dx, what=tag)
        assert dx.shape == shape
        check(x1, x, kappa, dtype, f"jvp-primal {tag}")
        sc = term_scale(lambda *t: dl.getrs_jvp(lu, piv, b, *t, trans)[1], (dlu, db))
        check(dx, central_difference_double(f, (lu, b), (dlu, db)), kappa, dtype, f"jvp-fd {tag} {kind}",
              fd=True, scale=sc)

    x2, pullback = dl.getrs_vjp(lu, piv, b, trans)
    w = randn(r, shape, dtype)
    lubar, bbar = pullback(w)
    assert_dtype(dtype, x2, lubar, bbar, what=tag)
    assert lubar.shape == (n, n) and bbar.shape == shape
    v = (randn(r, (n, n), dtype), randn(r, shape, dtype))
    for act in [(True, True), (True, False), (False, True)]:
        vin = tuple(d if on else None for d, on in zip(v, act))
        _, jv = dl.getrs_jvp(lu, piv, b, *vin, trans)
        dot_check(jv, w, vin, (lubar, bbar), kappa, dtype, f"dot {tag} {act}")


# ------------------------------------------------------------------ gesv and solve
def gesv_problem(dtype, n, nrhs, seed):
    r = rng(seed)
    a, _, _, kappa = general_case(n, n, dtype)
    return r, a, randn(r, rhs_shape(n, nrhs), dtype), kappa


@PREC
@pytest.mark.parametrize("nrhs", NRHS, ids=["1d", "1", "3"])
@pytest.mark.parametrize("n", [0, 1, 7, 130])
def test_gesv(dtype, nrhs, n):
    r, a, b, kappa = gesv_problem(dtype, n, nrhs, seed_of("gesv", np.dtype(dtype).name, nrhs, n))
    shape = b.shape
    tag = f"gesv[{shape}]"
    lu, piv, x, info = dl.gesv(a, b)
    assert info == 0 and x.shape == shape
    assert_dtype(dtype, lu, x, what=tag)
    lu_d, piv_d, x_d, _ = dl.gesv(to_double(a), to_double(b))
    np.testing.assert_array_equal(piv, piv_d)
    check(lu, lu_d, kappa, dtype, f"primal {tag} lu")
    check(x, x_d, kappa, dtype, f"primal {tag} x")

    def f(a_, b_):
        lu_, piv_, x_, _ = dl.gesv(a_, b_)
        assert np.array_equal(piv_, piv), "pivots changed under the FD step"
        return lu_, x_

    for (kind, da), (_, db) in zip(directions(r, (n, n), dtype), directions(r, shape, dtype)):
        (lu1, piv1, x1, info1), (dlu, dx) = dl.gesv_jvp(a, b, da, db)
        assert_dtype(dtype, lu1, x1, dlu, dx, what=tag)
        assert info1 == 0 and dx.shape == shape and dlu.shape == (n, n)
        np.testing.assert_array_equal(piv1, piv)
        check(x1, x, kappa, dtype, f"jvp-primal {tag}")
        fd_lu, fd_x = central_difference_double(f, (a, b), (da, db))
        sc = term_scale(lambda *t: dl.gesv_jvp(a, b, *t)[1][1], (da, db))
        check(dlu, fd_lu, kappa, dtype, f"jvp-fd {tag} dlu {kind}", fd=True)
        check(dx, fd_x, kappa, dtype, f"jvp-fd {tag} dx {kind}", fd=True, scale=sc)

    (lu2, piv2, x2, _), pullback = dl.gesv_vjp(a, b)
    assert_dtype(dtype, lu2, x2, what=tag)
    wx, wlu = randn(r, shape, dtype), randn(r, (n, n), dtype)
    abar, bbar = pullback(wx, wlu)
    assert_dtype(dtype, abar, bbar, what=tag)
    assert abar.shape == (n, n) and bbar.shape == shape
    abar_x, bbar_x = pullback(wx)              # lu_bar = None: the x part alone
    assert_dtype(dtype, abar_x, bbar_x, what=tag)
    v = (randn(r, (n, n), dtype), randn(r, shape, dtype))
    for act in [(True, True), (True, False), (False, True)]:
        vin = tuple(d if on else None for d, on in zip(v, act))
        _, (dlu, dx) = dl.gesv_jvp(a, b, *vin)
        dot_check((dlu, dx), (wlu, wx), vin, (abar, bbar), kappa, dtype, f"dot {tag} {act}")
        dot_check(dx, wx, vin, (abar_x, bbar_x), kappa, dtype, f"dot {tag} x-only {act}")


@PREC
@pytest.mark.parametrize("nrhs", NRHS, ids=["1d", "1", "3"])
@pytest.mark.parametrize("n", [0, 1, 7, 130])
def test_solve(dtype, nrhs, n):
    r, a, b, kappa = gesv_problem(dtype, n, nrhs, seed_of("solve", np.dtype(dtype).name, nrhs, n))
    shape = b.shape
    tag = f"solve[{shape}]"
    x = dl.solve(a, b)
    assert_dtype(dtype, x, what=tag)
    check(x, dl.solve(to_double(a), to_double(b)), kappa, dtype, f"primal {tag}")
    for (kind, da), (_, db) in zip(directions(r, (n, n), dtype), directions(r, shape, dtype)):
        x1, dx = dl.solve_jvp(a, b, da, db)
        assert_dtype(dtype, x1, dx, what=tag)
        sc = term_scale(lambda *t: dl.solve_jvp(a, b, *t)[1], (da, db))
        check(dx, central_difference_double(dl.solve, (a, b), (da, db)), kappa, dtype,
              f"jvp-fd {tag} {kind}", fd=True, scale=sc)
    x2, pullback = dl.solve_vjp(a, b)
    w = randn(r, shape, dtype)
    abar, bbar = pullback(w)
    assert_dtype(dtype, x2, abar, bbar, what=tag)
    v = (randn(r, (n, n), dtype), randn(r, shape, dtype))
    for act in [(True, True), (True, False), (False, True)]:
        vin = tuple(d if on else None for d, on in zip(v, act))
        _, dx = dl.solve_jvp(a, b, *vin)
        dot_check(dx, w, vin, (abar, bbar), kappa, dtype, f"dot {tag} {act}")


# ------------------------------------------------------------------ promotion and dtype errors
F16, F32, F64, C64, C128 = np.float16, np.float32, np.float64, np.complex64, np.complex128
# (dtype of a, dtype of b, precision of the computation): np.result_type, then float16 ->
# float32 and integers / bools -> float64 (like SciPy choosing s/d/c/z)
MIXED = [
    (F32, C64, C64), (C64, F32, C64), (F32, F64, F64), (F64, F32, F64), (np.int64, F32, F64), (np.int32, F32, F64),
    (np.int8, F32, F32), (bool, F32, F32), (np.int64, np.int64, F64), (bool, bool, F64), (np.int16, bool, F64),
    (F16, F16, F32), (F16, F32, F32), (F16, F64, F64), (F16, C64, C64), (np.int64, C64, C128), (F64, C64, C128),
    (C64, C128, C128), (np.longdouble, F32, F64), (np.clongdouble, C64, C128), (F32, np.uint8, F32),
]


def _expected(*dtypes):
    """The documented rule, written independently of the library: np.result_type, then float16
    -> float32, integer/bool -> float64, long double -> double."""
    dt = np.result_type(*dtypes)
    if dt.kind == "c":
        return np.dtype(C64 if dt.itemsize <= 8 else C128)
    if dt.kind == "f":
        return np.dtype(F32 if dt.itemsize <= 4 else F64)
    return np.dtype(F64)


def test_mixed_table_agrees_with_result_type():
    for da_, db_, want in MIXED:
        assert _expected(da_, db_) == np.dtype(want), (da_, db_)


def _int_triangle(n, uplo):
    t = np.triu(np.arange(1, n * n + 1).reshape(n, n) % 3) + 4 * np.eye(n, dtype=int)
    return t if uplo == "U" else t.T.copy()


def _cast(x, dtype):
    return np.asarray(x).astype(dtype)


def _values_for(dtype, shape, r, kind="general"):
    """Test data representable in any dtype (bools: 0/1 with a dominant diagonal)."""
    if kind == "triangle":
        a = _int_triangle(shape[0], "U")
        return (a != 0).astype(bool) if np.dtype(dtype) == bool else a.astype(dtype)
    if kind == "square":
        n = shape[0]
        pattern = (np.arange(n * n).reshape(n, n) % 3 == 0)
        if np.dtype(dtype) == bool:   # a permuted unit upper triangle: invertible, needs pivoting
            return (np.eye(n, dtype=bool) | np.triu(pattern, 1))[::-1].copy()
        return (np.eye(n, dtype=int)[::-1] * 5 + pattern).astype(dtype)
    v = r.integers(0, 2 if np.dtype(dtype) == bool else 4, size=shape)
    return v.astype(dtype)


@pytest.mark.parametrize("da_,db_,want", MIXED, ids=[f"{np.dtype(a).name}+{np.dtype(b).name}" for a, b, _ in MIXED])
def test_mixed_inputs_promote(da_, db_, want):
    """Every output of every rule has the promoted dtype, and equals the rule run on inputs cast
    to it beforehand (the conversion is the only effect of mixed dtypes)."""
    want = np.dtype(want)
    r = rng(1)
    n = 4
    a_t = _values_for(da_, (n, n), r, "triangle")
    a_g = _values_for(da_, (n, n), r, "square")
    b1, b2 = _values_for(db_, (n,), r), _values_for(db_, (n, 2), r)
    ct = lambda x: _cast(x, want)  # noqa: E731
    dA, dB1, dB2 = randn(r, (n, n), want), randn(r, (n,), want), randn(r, (n, 2), want)

    def same(got, ref, what, real_inputs=()):
        """real_inputs: for a pullback, whether each input was real; its cotangent is then the
        real part of the promoted computation's (README: real inputs get real cotangents)."""
        got, ref = (got if isinstance(got, tuple) else (got,)), (ref if isinstance(ref, tuple) else (ref,))
        for k, (g, e) in enumerate(zip(got, ref)):
            real = k < len(real_inputs) and real_inputs[k] and want.kind == "c"
            w, e = (np.real(np.zeros((), want)).dtype, np.real(e)) if real else (want, e)
            assert np.asarray(g).dtype == w, f"{what}: {np.asarray(g).dtype} != {w}"
            np.testing.assert_array_equal(g, e, err_msg=what)

    real_a, real_b = np.dtype(da_).kind != "c", np.dtype(db_).kind != "c"

    same(dl.trsv(a_t, b1), dl.trsv(ct(a_t), ct(b1)), "trsv")
    same(dl.trsv_jvp(a_t, b1, dA, dB1), dl.trsv_jvp(ct(a_t), ct(b1), dA, dB1), "trsv_jvp")
    same(dl.trsv_vjp(a_t, b1)[1](dB1), dl.trsv_vjp(ct(a_t), ct(b1))[1](dB1), "trsv_vjp", (real_a, real_b))
    same(dl.trsm(a_t, b2, 2), dl.trsm(ct(a_t), ct(b2), 2), "trsm")
    same(dl.trsm_jvp(a_t, b2, dA, dB2, 0.5, 2), dl.trsm_jvp(ct(a_t), ct(b2), dA, dB2, 0.5, 2), "trsm_jvp")
    same(dl.trsm_vjp(a_t, b2, 2)[1](dB2), dl.trsm_vjp(ct(a_t), ct(b2), 2)[1](dB2), "trsm_vjp", (real_a, real_b))
    lu, piv, _ = dl.getrf(a_g)
    assert lu.dtype == _expected(da_)
    lu_w, piv_w, _ = dl.getrf(ct(a_g))
    same(dl.getrs(lu_w, piv_w, b2), dl.getrs(lu_w, piv_w, ct(b2)), "getrs")
    for bb, dbb in ((b1, dB1), (b2, dB2)):
        same(dl.solve(a_g, bb), dl.solve(ct(a_g), ct(bb)), "solve")
        same(dl.solve_jvp(a_g, bb, dA, dbb), dl.solve_jvp(ct(a_g), ct(bb), dA, dbb), "solve_jvp")
        same(dl.solve_vjp(a_g, bb)[1](dbb), dl.solve_vjp(ct(a_g), ct(bb))[1](dbb), "solve_vjp", (real_a, real_b))
        (lu1, piv1, x1, _), (dlu1, dx1) = dl.gesv_jvp(a_g, bb, dA, dbb)
        (lu2, piv2, x2, _), (dlu2, dx2) = dl.gesv_jvp(ct(a_g), ct(bb), dA, dbb)
        same((lu1, x1, dlu1, dx1), (lu2, x2, dlu2, dx2), "gesv_jvp")
        same(dl.gesv_vjp(a_g, bb)[1](dbb, dA), dl.gesv_vjp(ct(a_g), ct(bb))[1](dbb, dA), "gesv_vjp", (real_a, real_b))
    # getrs: the packed factors of a's precision with a right-hand side of b's dtype
    want_rs = _expected(lu.dtype, db_)
    x = dl.getrs(lu, piv, b2, "C")
    assert x.dtype == want_rs
    xs, pb = dl.getrs_vjp(lu, piv, b2)
    lubar, bbar = pb(b2.astype(want_rs))
    real_of = lambda dt, inp: np.real(np.zeros((), dt)).dtype if inp.kind != "c" else dt  # noqa: E731
    assert xs.dtype == want_rs
    assert lubar.dtype == real_of(want_rs, lu.dtype) and bbar.dtype == real_of(want_rs, np.dtype(db_))
    xj, dxj = dl.getrs_jvp(lu, piv, b2, lu, b2)
    assert xj.dtype == dxj.dtype == want_rs


@PREC
def test_getrf_input_dtypes(dtype):
    """getrf alone: the precision of a (float16 -> float32, int/bool -> float64)."""
    r = rng(2)
    for src in (np.int32, np.int64, bool, F16, dtype):
        a = _values_for(src, (5, 5), r, "square")
        want = _expected(src)
        (lu, piv, _), dlu = dl.getrf_jvp(a, randn(r, (5, 5), want))
        _, pb = dl.getrf_vjp(a)
        assert lu.dtype == dlu.dtype == pb(randn(r, (5, 5), want)).dtype == want


@pytest.mark.parametrize("alpha,ab,want", [
    (1j, F32, C64), (np.complex64(1j), F32, C64), (np.complex128(1j), F32, C128), (2.0, F32, F32), (2, F32, F32),
    (np.float64(2.0), F32, F64), (np.float32(2.0), F64, F64), (1 + 1j, F64, C128), (np.float16(2), F16, F32),
    (True, np.int64, F64)])
def test_trsm_alpha_promotes(alpha, ab, want):
    """alpha takes part in the promotion; a complex alpha makes trsm (and its rules) complex.
    Python scalars are weak (NEP 50): 1j with float32 data is complex64."""
    r = rng(3)
    a, b = _values_for(ab, (3, 3), r, "triangle"), _values_for(ab, (3, 2), r)
    x = dl.trsm(a, b, alpha)
    assert x.dtype == want
    x1, dx = dl.trsm_jvp(a, b, None, None, randn(r, (), want)[()], alpha)
    x2, pb = dl.trsm_vjp(a, b, alpha)
    abar, bbar, alphabar = pb(randn(r, (3, 2), want))
    assert all(np.asarray(o).dtype == want for o in (x1, dx, x2, alphabar))
    # a and b are real inputs: real cotangents (README), of the computation's precision
    assert abar.dtype == bbar.dtype == np.real(np.zeros((), want)).dtype


@PREC
def test_complex_alpha_on_real_data_is_a_complex_computation(dtype):
    """Real a, b (of the precision's real type) with a complex alpha: the complex computation,
    checked by FD (real and imaginary directions) and the dot test (real directions for the
    real inputs, whose cotangents are real)."""
    cdt = np.dtype(C64 if eps_of(dtype) > 1e-10 else C128)
    r = rng(4)
    rdt = np.dtype(cdt.type(0).real.dtype)
    a, kappa = tri_case(6, "L", "N", rdt)
    b = randn(r, (6, 3), rdt)
    alpha = 0.6 + 0.8j
    f = lambda a_, b_, al_: dl.trsm(a_, b_, al_, "L", "L", "C")  # noqa: E731
    x = f(a, b, alpha)
    assert x.dtype == cdt
    check(x, f(to_double(a), to_double(b), alpha), kappa, cdt, "primal trsm complex alpha")
    for (kind, da), (_, db), dal in zip(directions(r, a.shape, cdt), directions(r, b.shape, cdt), (0.3, 0.3j)):
        x1, dx = dl.trsm_jvp(a, b, da, db, dal, alpha, "L", "L", "C")
        assert dx.dtype == cdt
        check(dx, central_difference_double(f, (a, b, alpha), (da, db, dal)), kappa, cdt,
              f"jvp-fd trsm complex alpha {kind}", fd=True,
              scale=term_scale(lambda *t: dl.trsm_jvp(a, b, *t, alpha, "L", "L", "C")[1], (da, db, dal)))
    _, pb = dl.trsm_vjp(a, b, alpha, "L", "L", "C")
    w = randn(r, b.shape, cdt)
    cot = pb(w)
    # a and b are real inputs: real cotangents (README); alpha's is complex
    assert [np.asarray(o).dtype for o in cot] == [rdt, rdt, cdt]
    v = (randn(r, a.shape, rdt), randn(r, b.shape, rdt), randn(r, (), cdt)[()])
    _, jv = dl.trsm_jvp(a, b, *v, alpha, "L", "L", "C")
    dot_check(jv, w, v, cot, kappa, cdt, "dot trsm complex alpha")


@pytest.mark.parametrize("dtype", [F32, F64], ids=["s", "d"])
def test_tangent_and_cotangent_dtypes(dtype):
    """Tangents and cotangents are converted to the computation's precision (a float64 tangent
    of a float32 rule gives the float32 result of the rounded tangent); a complex one for a real
    computation raises ValueError naming it."""
    r = rng(5)
    n = 4
    a, _ = tri_case(n, "U", "N", dtype)
    g, lu, piv, _ = general_case(n, n, dtype)
    b, bm = randn(r, n, dtype), randn(r, (n, 2), dtype)
    other = F64 if dtype == F32 else F32
    z = lambda x: np.asarray(x) * (1 + 1j)  # noqa: E731
    da_o, db_o, dbm_o = randn(r, (n, n), other), randn(r, n, other), randn(r, (n, 2), other)
    rnd = lambda x: x.astype(dtype)  # noqa: E731

    def same(got, ref):
        got, ref = (got if isinstance(got, tuple) else (got,)), (ref if isinstance(ref, tuple) else (ref,))
        for gg, rr in zip(got, ref):
            assert np.asarray(gg).dtype == dtype
            np.testing.assert_array_equal(gg, rr)

    same(dl.trsv_jvp(a, b, da_o, db_o), dl.trsv_jvp(a, b, rnd(da_o), rnd(db_o)))
    same(dl.trsv_vjp(a, b)[1](db_o), dl.trsv_vjp(a, b)[1](rnd(db_o)))
    same(dl.trsm_jvp(a, bm, da_o, dbm_o, np.float64(0.3)), dl.trsm_jvp(a, bm, rnd(da_o), rnd(dbm_o), dtype(0.3)))
    same(dl.trsm_vjp(a, bm)[1](dbm_o), dl.trsm_vjp(a, bm)[1](rnd(dbm_o)))
    same(dl.getrf_jvp(g, da_o)[1], dl.getrf_jvp(g, rnd(da_o))[1])
    same(dl.getrf_vjp(g)[1](da_o), dl.getrf_vjp(g)[1](rnd(da_o)))
    same(dl.getrs_jvp(lu, piv, bm, da_o, dbm_o), dl.getrs_jvp(lu, piv, bm, rnd(da_o), rnd(dbm_o)))
    same(dl.getrs_vjp(lu, piv, bm)[1](dbm_o), dl.getrs_vjp(lu, piv, bm)[1](rnd(dbm_o)))
    same(dl.gesv_jvp(g, bm, da_o, dbm_o)[1], dl.gesv_jvp(g, bm, rnd(da_o), rnd(dbm_o))[1])
    same(dl.gesv_vjp(g, bm)[1](dbm_o, da_o), dl.gesv_vjp(g, bm)[1](rnd(dbm_o), rnd(da_o)))
    same(dl.solve_jvp(g, b, da_o, db_o), dl.solve_jvp(g, b, rnd(da_o), rnd(db_o)))
    same(dl.solve_vjp(g, b)[1](db_o), dl.solve_vjp(g, b)[1](rnd(db_o)))

    complex_cases = [
        ("da", lambda: dl.trsv_jvp(a, b, z(a), None)), ("db", lambda: dl.trsv_jvp(a, b, None, z(b))),
        ("x_bar", lambda: dl.trsv_vjp(a, b)[1](z(b))),
        ("da", lambda: dl.trsm_jvp(a, bm, z(a), None)), ("db", lambda: dl.trsm_jvp(a, bm, None, z(bm))),
        ("dalpha", lambda: dl.trsm_jvp(a, bm, None, None, 1j)),
        ("dalpha", lambda: dl.trsm_jvp(a, bm, None, None, np.complex64(1))),
        ("x_bar", lambda: dl.trsm_vjp(a, bm)[1](z(bm))),
        ("da", lambda: dl.getrf_jvp(g, z(g))), ("lu_bar", lambda: dl.getrf_vjp(g)[1](z(g))),
        ("dlu", lambda: dl.getrs_jvp(lu, piv, bm, z(lu), None)), ("db", lambda: dl.getrs_jvp(lu, piv, bm, None, z(bm))),
        ("x_bar", lambda: dl.getrs_vjp(lu, piv, bm)[1](z(bm))),
        ("da", lambda: dl.gesv_jvp(g, bm, z(g), None)), ("db", lambda: dl.gesv_jvp(g, bm, None, z(bm))),
        ("x_bar", lambda: dl.gesv_vjp(g, bm)[1](z(bm))), ("lu_bar", lambda: dl.gesv_vjp(g, bm)[1](None, z(g))),
        ("da", lambda: dl.solve_jvp(g, b, z(g), None)), ("db", lambda: dl.solve_jvp(g, b, None, z(b))),
        ("x_bar", lambda: dl.solve_vjp(g, b)[1](z(b))),
    ]
    for name, call in complex_cases:
        with pytest.raises(ValueError, match=name):
            call()
    # a complex zero is still complex: rejected by dtype, not by value
    with pytest.raises(ValueError, match="db"):
        dl.solve_jvp(g, b, None, np.zeros(n, complex))


# ------------------------------------------------------------------ singular input, non-finite input
@PREC
def test_singular_and_zero_pivots(dtype):
    """The info rules in every precision: an exactly zero diagonal / pivot is detected (complex:
    both parts zero; a purely imaginary or subnormal entry is NOT zero), a zero LAST pivot
    leaves getrf's derivative finite, a needed one raises."""
    from test_getrf import exact_lu_matrix
    unit = np.dtype(dtype).type(1j if is_complex(dtype) else 1)
    tiny = np.finfo(dtype).smallest_subnormal
    r = rng(6)
    a, _ = tri_case(5, "U", "N", dtype)
    b, bm = randn(r, 5, dtype), randn(r, (5, 2), dtype)
    a0 = a.copy()
    a0[2, 2] = 0
    calls = [lambda A: dl.trsv(A, b), lambda A: dl.trsv_jvp(A, b, A, None), lambda A: dl.trsv_vjp(A, b, trans="C"),
             lambda A: dl.trsm(A, bm, 0.0), lambda A: dl.trsm(A, bm[:, :0]), lambda A: dl.trsm_jvp(A, bm, None, bm),
             lambda A: dl.trsm_vjp(A, bm, transa="T")]
    for call in calls:
        with pytest.raises(dl.SingularMatrixError) as err:
            call(a0)
        assert err.value.info == 3
    for d in (unit, dtype(tiny)):           # nonzero: not singular (the result may be huge, not an error)
        a1 = a.copy()
        a1[2, 2] = d
        with np.errstate(all="ignore"):
            assert dl.trsv(a1, b, check_finite=False).dtype == dtype
    assert np.all(np.isfinite(dl.trsm(a0, bm, diag="U")))           # a unit diagonal is not read

    m = (exact_lu_matrix(5, zero_at=4) * unit).astype(dtype)        # exact in every precision
    lu, piv, info = dl.getrf(m)
    assert info == 5 and lu.dtype == dtype
    da, w = randn(r, (5, 5), dtype), randn(r, (5, 5), dtype)
    (_, _, info2), dlu = dl.getrf_jvp(m, da)
    (_, _, info3), pb = dl.getrf_vjp(m)
    abar = pb(w)
    assert info2 == info3 == 5 and np.all(np.isfinite(dlu)) and np.all(np.isfinite(abar))
    dot_check(dlu, w, da, abar, 1e3, dtype, "dot getrf zero last pivot")
    m2 = (exact_lu_matrix(5, zero_at=2) * unit).astype(dtype)
    for call in (lambda: dl.getrf_jvp(m2, da), lambda: dl.getrf_vjp(m2), lambda: dl.solve(m2, b),
                 lambda: dl.solve_jvp(m2, b, da, None), lambda: dl.gesv_vjp(m2, b),
                 lambda: dl.getrs(dl.getrf(m2)[0], dl.getrf(m2)[1], b, "C")):
        with pytest.raises(dl.SingularMatrixError) as err:
            call()
        assert err.value.info == 3
    lu2, piv2, x2, info4 = dl.gesv(m2, b)
    assert info4 == 3 and x2.dtype == dtype
    np.testing.assert_array_equal(x2, b)   # not computed, like LAPACK


@PREC
def test_check_finite(dtype):
    """Non-finite input is rejected in every precision (complex: an inf or NaN imaginary part
    too), except outside the referenced triangle of a triangular a / da."""
    r = rng(7)
    a, _ = tri_case(4, "L", "N", dtype)
    b = randn(r, 4, dtype)
    bad = [np.nan, np.inf] + ([complex(0, np.inf), complex(1, np.nan)] if is_complex(dtype) else [])
    for v in bad:
        bb = b.copy()
        bb[1] = v
        with pytest.raises(ValueError, match="b"):
            dl.trsv(a, bb, "L")
        with pytest.raises(ValueError, match="b"):
            dl.solve(general_case(4, 4, dtype)[0], bb)
        at = a.copy()
        at[2, 1] = v     # in the lower triangle: read
        with pytest.raises(ValueError, match="a"):
            dl.trsm(at, b[:, None], uplo="L")
        at = a.copy()
        at[1, 2] = v     # above it: never read, accepted
        np.testing.assert_array_equal(dl.trsm(at, b[:, None], uplo="L"), dl.trsm(a, b[:, None], uplo="L"))
        with pytest.raises(ValueError, match="x_bar"):
            dl.getrs_vjp(*general_case(4, 4, dtype)[1:3], b)[1](bb)


@PREC
@pytest.mark.parametrize("n", [0, 5])
def test_gesv_lu_cotangent_alone(dtype, n):
    """gesv's pullback(None, lu_bar) is getrf's pullback of lu_bar (and b_bar = 0)."""
    r = rng(8)
    a, _, _, kappa = general_case(n, n, dtype)
    b, wlu = randn(r, (n, 2), dtype), randn(r, (n, n), dtype)
    abar, bbar = dl.gesv_vjp(a, b)[1](None, wlu)
    assert abar.dtype == bbar.dtype == dtype and not bbar.any()
    check(abar, dl.getrf_vjp(a)[1](wlu), kappa, dtype, "gesv lu_bar only")


# ------------------------------------------------------------------ linearity in the seed, large sizes
@PREC
def test_linear_in_the_seed_blocked_paths(dtype):
    """J(2v) == 2 J(v) and J^H(2w) == 2 J^H(w) bitwise, and J(1e-12 v) == 1e-12 J(v) to
    C kappa eps, at sizes that take the blocked paths (trsm recursion > 96, gemm_tri > 48, LU
    panels of 8), for every trsm flag: no step may form a small product as the difference of
    O(1) quantities (e.g. unit-trmm minus identity for a unit diagonal), nor branch on the seed.
    (Small sizes, layouts and dtypes: test_precisions_hypothesis.py.)"""
    r = rng(seed_of("linear", np.dtype(dtype).name))
    s = 1e-12
    tiny = lambda v: (s * np.asarray(v, dtype=double_of(dtype))).astype(dtype)  # noqa: E731

    def linear(jv, jv2, jv_tiny, kappa, what, scale=0.0):
        np.testing.assert_array_equal(jv2, 2 * jv, err_msg=f"{what}: J(2v) != 2 J(v)")
        check(np.asarray(jv_tiny, dtype=complex) / s, jv, kappa, dtype, f"tiny-seed {what}", scale=scale)

    for side, uplo, trans, diag in TRSM_FLAGS:
        _, a, b, alpha, m, n, kappa = trsm_problem(dtype, side, uplo, diag, 130, 3, int(r.integers(1 << 30)))
        da, w = randn(r, a.shape, dtype), randn(r, b.shape, dtype)
        what = f"trsm {side}{uplo}{trans}{diag}"
        jv = lambda d: dl.trsm_jvp(a, b, d, None, None, alpha, side, uplo, trans, diag)[1]  # noqa: E731
        linear(jv(da), jv(2 * da), jv(tiny(da)), kappa, what)
        pb = dl.trsm_vjp(a, b, alpha, side, uplo, trans, diag)[1]
        out, out2, out_t = pb(w), pb(2 * w), pb(tiny(w))
        for i, part in enumerate(("a_bar", "b_bar")):
            linear(out[i], out2[i], out_t[i], kappa, f"{what} {part}")
        # alpha_bar = <B, G> is a sum: its rounding is relative to ||B|| ||G||
        g = np.sqrt(np.sum(np.abs(out[1]) ** 2)) / abs(alpha)
        linear(out[2], out2[2], out_t[2], kappa, f"{what} alpha_bar", scale=np.sqrt(np.sum(np.abs(b) ** 2)) * g)
        if side == "L":
            jv = lambda d: dl.trsv_jvp(a, b[:, 0], d, None, uplo, trans, diag)[1]  # noqa: E731
            linear(jv(da), jv(2 * da), jv(tiny(da)), kappa, "trsv " + what[5:])
            pb = dl.trsv_vjp(a, b[:, 0], uplo, trans, diag)[1]
            out, out2, out_t = pb(w[:, 0]), pb(2 * w[:, 0]), pb(tiny(w[:, 0]))
            for i in range(2):
                linear(out[i], out2[i], out_t[i], kappa, "trsv vjp " + what[5:])
    for m, n in [(130, 130), (131, 57), (57, 131)]:
        a, _, _, kappa = general_case(m, n, dtype)
        da = randn(r, (m, n), dtype)
        jv = lambda d: dl.getrf_jvp(a, d)[1]  # noqa: E731
        linear(jv(da), jv(2 * da), jv(tiny(da)), kappa, f"getrf {m}x{n}")
        pb = dl.getrf_vjp(a)[1]
        linear(pb(da), pb(2 * da), pb(tiny(da)), kappa, f"getrf vjp {m}x{n}")
    a, lu, piv, kappa = general_case(130, 130, dtype)
    for trans, shape in itertools.product("NTC", [(130,), (130, 4)]):
        b, dlu, w = randn(r, shape, dtype), randn(r, (130, 130), dtype), randn(r, shape, dtype)
        jv = lambda d: dl.getrs_jvp(lu, piv, b, d, None, trans)[1]  # noqa: E731
        linear(jv(dlu), jv(2 * dlu), jv(tiny(dlu)), kappa, f"getrs {trans} {shape}")
        pb = dl.getrs_vjp(lu, piv, b, trans)[1]
        out, out2, out_t = pb(w), pb(2 * w), pb(tiny(w))
        for i in range(2):
            linear(out[i], out2[i], out_t[i], kappa, f"getrs vjp {trans} {shape}")
        if trans == "N":
            jv = lambda d: dl.gesv_jvp(a, b, d, None)[1]  # noqa: E731
            (dlu1, dx1), (dlu2, dx2), (dlut, dxt) = jv(dlu), jv(2 * dlu), jv(tiny(dlu))
            linear(dlu1, dlu2, dlut, kappa, f"gesv dlu {shape}")
            linear(dx1, dx2, dxt, kappa, f"gesv dx {shape}")
            pb = dl.gesv_vjp(a, b)[1]
            out, out2, out_t = pb(w, dlu), pb(2 * w, 2 * dlu), pb(tiny(w), tiny(dlu))
            for i in range(2):
                linear(out[i], out2[i], out_t[i], kappa, f"gesv vjp {shape}")
