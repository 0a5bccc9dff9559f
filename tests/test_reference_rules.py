"""Checks of the NumPy reference rules in _reference_rules.py (the derivations of
docs/design/derivatives_next.md): for every rule, real and complex, several shapes and all
flags,

* central finite differences of the LAPACK primal (scipy.linalg.lapack) along real AND
  imaginary directions (double precision),
* the dot-product test Re<J v, w> = Re<v, J^* w> (all four dtypes),
* agreement of the BLAS-call / recursive form with the dense textbook form (all four dtypes),
* the singular / non-positive-definite behaviour the note proposes,
* flop counts of the recursions,
* JAX's own derivatives (double precision) with the structure conventions written out in the
  JAX function (referenced triangle, Hermitian matrix from the stored triangle, other triangle
  passed through), and JAX's cotangent convention converted: JAX pairs with Re(sum a b), we
  with Re(sum conj(a) b), so ours(w) = conj(jax_vjp(conj(w))).
"""
from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest

import _reference_rules as R

REAL = [np.float32, np.float64]
COMPLEX = [np.complex64, np.complex128]
DTYPES = REAL + COMPLEX
DOUBLE = [np.float64, np.complex128]


# ============================================================================== helpers
def rng(*key):
    """A generator seeded by the key, the same in every process (Python's hash() of a string is
    salted per process: seeding from it drew different matrices in every run)."""
    return np.random.default_rng(zlib.crc32(repr(tuple(str(k) for k in key)).encode()))


def rnd(r, shape, dtype):
    x = r.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * r.standard_normal(shape)
    return x.astype(dtype)


def general(r, n, dtype):
    """Well-conditioned, forces row interchanges (a dominant anti-diagonal)."""
    a = rnd(r, (n, n), dtype) / np.sqrt(max(n, 1))
    if n > 1:
        a += (2.0 * np.eye(n)[:, ::-1]).astype(dtype)
    else:
        a += 2
    return a.astype(dtype)   # np.sqrt's float64 scalar above promotes single precision


def hpd(r, n, dtype):
    m = rnd(r, (n, n), dtype) / np.sqrt(max(n, 1))
    return (m @ R.H(m) + np.eye(n)).astype(dtype)


def garbage_other(r, s, uplo):
    """s with garbage in the triangle LAPACK does not read and (complex) in Im(diag)."""
    s = np.array(s, copy=True)
    n = s.shape[0]
    other = R.tri_mask(n, "U" if uplo == "L" else "L", strict=True)
    s[other] = (50 * rnd(r, (n, n), s.dtype))[other]
    if R.is_complex(s) and n:
        s[np.diag_indices(n)] += 1j * r.standard_normal(n).astype(s.real.dtype) * 3
    return s


def triangular(r, n, uplo, diag, dtype):
    t = rnd(r, (n, n), dtype) / np.sqrt(max(n, 1))
    d = (1.5 + r.random(n)) * np.sign(r.standard_normal(n))
    if np.dtype(dtype).kind == "c":
        d = d * np.exp(1j * r.uniform(0, 2 * np.pi, n))
    t[np.diag_indices(n)] = d
    a = garbage_other(r, R.tri(t, uplo), uplo)
    if diag == "U" and n:
        a[np.diag_indices(n)] = 9.0  # garbage a unit-diagonal solve must ignore
    return a.astype(dtype)   # np.sqrt's float64 scalar above promotes single precision


def eps(dtype):
    return float(np.finfo(np.dtype(dtype)).eps)


def exact_tol(dtype):
    return 3e3 * eps(dtype)


def as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def rinner(a, b):
    """Re sum <a_i, b_i> over tuples (None = 0), accumulated in double."""
    s = 0.0
    for x, y in zip(as_tuple(a), as_tuple(b)):
        if x is None or y is None:
            continue
        s += float(np.real(np.vdot(np.asarray(x, np.complex128), np.asarray(y, np.complex128))))
    return s


def norm(a):
    return float(np.sqrt(sum(np.linalg.norm(np.asarray(x, np.complex128)) ** 2 for x in as_tuple(a) if x is not None)))


def assert_dot(jv, w, v, jtw, dtype, what):
    lhs, rhs = rinner(w, jv), rinner(jtw, v)
    scale = max(norm(w) * norm(jv), norm(jtw) * norm(v), 1e-300)
    assert abs(lhs - rhs) <= exact_tol(dtype) * 10 * scale, f"{what}: <w,Jv>={lhs!r} <J*w,v>={rhs!r}"


def assert_close(got, want, rtol, what):
    for g, w in zip(as_tuple(got), as_tuple(want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, f"{what}: shape {g.shape} != {w.shape}"
        assert np.all(np.isfinite(g)), f"{what}: non-finite values"
        scale = max(np.abs(w).max(initial=0.0), 1.0)
        err = np.abs(g.astype(np.complex128) - w.astype(np.complex128)).max(initial=0.0) / scale
        assert err <= rtol, f"{what}: relative error {err:.3e} > {rtol:.1e}"


def central(f, xs, dxs, h=2e-6):
    plus = [x if d is None else x + h * d for x, d in zip(xs, dxs)]
    minus = [x if d is None else x - h * d for x, d in zip(xs, dxs)]
    fp, fm = as_tuple(f(*plus)), as_tuple(f(*minus))
    return tuple((np.asarray(p) - np.asarray(m)) / (2 * h) for p, m in zip(fp, fm))


def directions(v):
    """The tangent along v and, for complex data, along i v (a real-linear rule must be
    checked on both: complex linearity is not assumed)."""
    return [("re", v)] + ([("im", tuple(None if x is None else 1j * x for x in v))]
                          if any(x is not None and R.is_complex(x) for x in v) else [])


FD_TOL = 1e-6
SIZES = [0, 1, 2, 7, 13]  # NB = 4 in the reference module: 7 and 13 recurse


# ================================================================== the BLAS emulators
@pytest.mark.parametrize("dtype", DTYPES)
def test_emulators_semantics(dtype):
    r = rng("emu", dtype)
    n, k = 5, 3
    A, B, C0 = rnd(r, (n, k), dtype), rnd(r, (n, k), dtype), rnd(r, (n, n), dtype)
    C = C0.copy()
    R.her2k("L", "N", 0.5, A, B, 1.0, C)
    full = 0.5 * A @ R.H(B) + 0.5 * B @ R.H(A) + C0
    m = R.tri_mask(n, "L")
    assert np.allclose(np.tril(C, -1), np.tril(full, -1), atol=1e-5)
    assert np.allclose(np.diagonal(C), np.real(np.diagonal(full)), atol=1e-5)  # Im(diag) := 0
    assert np.array_equal(C[~m], C0[~m])                                       # other triangle kept
    M = rnd(r, (6, 4), dtype)
    piv = np.array([3, 3, 5, 3])
    W = M.copy()
    R.laswp(W, piv, forward=True)
    R.laswp(W, piv, forward=False)
    assert np.array_equal(W, M)
    S = rnd(r, (n, n), dtype)
    Hs = R.herm_from(S, "U")
    assert np.allclose(Hs, R.H(Hs)) and np.allclose(np.triu(Hs, 1), np.triu(S, 1))


# ============================================================================= getrf port
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(0, 0), (1, 1), (7, 7), (13, 13), (13, 6), (6, 13)])
def test_lu_rules_port_matches_dense_and_dot(dtype, shape):
    """The complex port of csrc/lu.c's recursion (used by det / the linked rule)."""
    r = rng("lu", dtype, shape)
    m, n = shape
    a = rnd(r, shape, dtype) + (2 * np.eye(m, n)).astype(dtype)
    lu, piv, info = R.getrf(a)
    da, lubar = rnd(r, shape, dtype), rnd(r, shape, dtype)
    dlu, abar = R.lu_tangent(lu, piv, da), R.lu_adjoint(lu, piv, lubar)
    if m == n:
        assert_close(dlu, R.lu_tangent_dense(lu, piv, da), exact_tol(dtype), "dLU vs dense")
        assert_close(abar, R.lu_adjoint_dense(lu, piv, lubar), exact_tol(dtype), "Abar vs dense")
    assert_dot(dlu, lubar, da, abar, dtype, "getrf")


# ====================================================================================== getri
@pytest.mark.parametrize("dtype", DOUBLE)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("tri_rhs", [True, False])
def test_getri_finite_differences(dtype, n, tri_rhs):
    r = rng("getri-fd", dtype, n)
    lu, piv, _ = R.getrf(general(r, n, dtype))
    dlu = rnd(r, (n, n), dtype)
    for kind, (d,) in directions((dlu,)):
        x, info, dx = R.getri_jvp(lu, piv, d, tri_rhs=tri_rhs)
        assert info == 0
        (fd,) = central(lambda l: R.getri(l, piv)[0], (lu,), (d,))
        assert_close(dx, fd, FD_TOL, f"getri dX ({kind})")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_getri_dot_and_dense(dtype, n):
    r = rng("getri", dtype, n)
    lu, piv, _ = R.getrf(general(r, n, dtype))
    dlu, xbar = rnd(r, (n, n), dtype), rnd(r, (n, n), dtype)
    x, info, dx = R.getri_jvp(lu, piv, dlu)
    lubar = R.getri_vjp(lu, piv, x, xbar)
    assert_dot(dx, xbar, dlu, lubar, dtype, "getri")
    tol = exact_tol(dtype) * 10
    assert_close(dx, R.getri_jvp_dense(lu, piv, dlu), tol, "getri dX vs dense")
    assert_close(lubar, R.getri_vjp_dense(lu, piv, xbar), tol, "getri LUbar vs dense")
    assert_close(R.getri_jvp(lu, piv, dlu, tri_rhs=False)[2], dx, tol, "plain vs tri-RHS (jvp)")
    assert_close(R.getri_vjp(lu, piv, x, xbar, tri_rhs=False), lubar, tol, "plain vs tri-RHS (vjp)")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [0, 1, 7, 13])
def test_inv_linked_rule_equals_getri_chained_through_getrf(dtype, n):
    """getrf then getri on the same buffer (Julia's inv): dX = -X dA X and
    Abar = -X^H Xbar X^H equal getri's rule chained with getrf's (both modes)."""
    r = rng("linked", dtype, n)
    a = general(r, n, dtype)
    lu, piv, _ = R.getrf(a)
    x, _ = R.getri(lu, piv)
    da, xbar = rnd(r, (n, n), dtype), rnd(r, (n, n), dtype)
    tol = exact_tol(dtype) * 10
    chained_t = R.getri_jvp(lu, piv, R.lu_tangent(lu, piv, da))[2]
    chained_a = R.lu_adjoint(lu, piv, R.getri_vjp(lu, piv, x, xbar))
    assert_close(chained_t, R.inv_jvp(x, da), tol, "linked tangent")
    assert_close(chained_a, R.inv_vjp(x, xbar), tol, "linked adjoint")
    if dtype in DOUBLE:
        for kind, (d,) in directions((da,)):
            (fd,) = central(lambda m: R.getri(*R.getrf(m)[:2])[0], (a,), (d,))
            assert_close(R.inv_jvp(x, d), fd, FD_TOL, f"inv FD ({kind})")


@pytest.mark.parametrize("dtype", DTYPES)
def test_getri_singular(dtype):
    """U(i,i) == 0: LAPACK leaves the buffer unchanged; every derivative of X is NaN, except
    that a zero tangent/cotangent gives exact zeros."""
    r = rng("getri-sing", dtype)
    n = 6
    lu, piv, _ = R.getrf(general(r, n, dtype))
    lu[2, 2] = 0
    x, info, dx = R.getri_jvp(lu, piv, rnd(r, (n, n), dtype))
    assert info == 3 and np.array_equal(x, lu) and np.all(np.isnan(dx))
    assert not np.any(R.getri_jvp(lu, piv, np.zeros((n, n), dtype))[2])
    assert np.all(np.isnan(R.getri_vjp(lu, piv, x, rnd(r, (n, n), dtype), info=info)))
    assert not np.any(R.getri_vjp(lu, piv, x, np.zeros((n, n), dtype), info=info))


# ====================================================================================== trtrs
FLAGS = list(itertools.product("UL", "NTC", "NU"))


@pytest.mark.parametrize("uplo,trans,diag", FLAGS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_trtrs_rules(uplo, trans, diag, dtype):
    for n, nrhs in [(0, 2), (1, 1), (7, 1), (13, 3), (5, 0)]:
        r = rng("trtrs", uplo, trans, diag, dtype, n, nrhs)
        a = triangular(r, n, uplo, diag, dtype)
        b, da, db, xbar = (rnd(r, (n, nrhs), dtype), rnd(r, (n, n), dtype), rnd(r, (n, nrhs), dtype),
                           rnd(r, (n, nrhs), dtype))
        x, info, dx = R.trtrs_jvp(a, b, da, db, uplo, trans, diag)
        assert info == 0
        abar, bbar = R.trtrs_vjp(a, x, xbar, uplo, trans, diag)
        what = f"trtrs {uplo}{trans}{diag} n={n} nrhs={nrhs}"
        assert_dot(dx, xbar, (da, db), (abar, bbar), dtype, what)
        assert not np.any(abar[~R.tri_mask(n, uplo, strict=diag == "U")]), what + ": Abar off the triangle"
        tol = exact_tol(dtype) * 10
        assert_close(dx, R.trtrs_jvp_dense(a, b, da, db, uplo, trans, diag), tol, what + " dX dense")
        assert_close((abar, bbar), R.trtrs_vjp_dense(a, b, xbar, uplo, trans, diag), tol, what + " vjp dense")
        if dtype in DOUBLE:
            for kind, d in directions((da, db)):
                fd = central(lambda a_, b_: R.trtrs(a_, b_, uplo, trans, diag)[0], (a, b), d)
                got = R.trtrs_jvp(a, b, d[0], d[1], uplo, trans, diag)[2]
                assert_close(got, fd[0], FD_TOL, what + f" FD ({kind})")


@pytest.mark.parametrize("dtype", DTYPES)
def test_trtrs_singular(dtype):
    r = rng("trtrs-sing", dtype)
    n = 5
    a = triangular(r, n, "U", "N", dtype)
    a[3, 3] = 0
    b = rnd(r, (n, 2), dtype)
    x, info, dx = R.trtrs_jvp(a, b, rnd(r, (n, n), dtype), None, "U", "N", "N")
    assert info == 4 and np.array_equal(x, b) and np.all(np.isnan(dx))
    assert not np.any(R.trtrs_jvp(a, b, None, np.zeros((n, 2), dtype))[2])
    abar, bbar = R.trtrs_vjp(a, x, rnd(r, (n, 2), dtype), "U", "N", "N", info=info)
    assert np.all(np.isnan(abar)) and np.all(np.isnan(bbar))
    abar, bbar = R.trtrs_vjp(a, x, np.zeros((n, 2), dtype), "U", "N", "N", info=info)
    assert not np.any(abar) and not np.any(bbar)
    # diag 'U' never reads the diagonal: no info
    assert R.trtrs(a, b, "U", "N", "U")[1] == 0


# ====================================================================================== potrf
@pytest.mark.parametrize("uplo", "LU")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES + [33])
def test_potrf_rules(uplo, dtype, n):
    r = rng("potrf", uplo, dtype, n)
    a = garbage_other(r, hpd(r, n, dtype), uplo)
    da, cbar = rnd(r, (n, n), dtype), rnd(r, (n, n), dtype)
    c, info, dc = R.potrf_jvp(a, da, uplo)
    assert info == 0
    abar = R.potrf_vjp(c, cbar, uplo)
    st = R.tri_mask(n, uplo)
    what = f"potrf {uplo} n={n}"
    # the other triangle is passed through (buffer semantics), both modes
    assert np.array_equal(dc[~st], da[~st]) and np.array_equal(abar[~st], cbar[~st]), what
    # the factor's diagonal is real, so is its tangent; the cotangent of a Hermitian
    # diagonal is real (Im(diag A) is not an input)
    assert not np.any(np.imag(np.diagonal(dc))) and not np.any(np.imag(np.diagonal(abar))), what
    assert_dot(dc, cbar, da, abar, dtype, what)
    tol = exact_tol(dtype) * 10
    assert_close(dc[st], R.potrf_jvp_dense(a, da, uplo)[st], tol, what + " dC dense")
    assert_close(abar[st], R.potrf_vjp_dense(a, cbar, uplo)[st], tol, what + " Abar dense")
    if dtype in DOUBLE:
        for kind, (d,) in directions((da,)):
            (fd,) = central(lambda a_: R.potrf(a_, uplo)[0], (a,), (d,))
            assert_close(R.potrf_jvp(a, d, uplo)[2], fd, FD_TOL, what + f" FD ({kind})")


@pytest.mark.parametrize("uplo", "LU")
@pytest.mark.parametrize("dtype", DOUBLE)
@pytest.mark.parametrize("nb", [1, 3, 8])
def test_potrf_recursion_independent_of_base_size(uplo, dtype, nb, monkeypatch):
    r = rng("potrf-nb", uplo, dtype, nb)
    n = 11
    a = garbage_other(r, hpd(r, n, dtype), uplo)
    da, cbar = rnd(r, (n, n), dtype), rnd(r, (n, n), dtype)
    c, _, dc_ref = R.potrf_jvp(a, da, uplo)
    abar_ref = R.potrf_vjp(c, cbar, uplo)
    monkeypatch.setitem(R.NB, "chol", nb)
    assert_close(R.potrf_jvp(a, da, uplo)[2], dc_ref, 1e-12, "tangent")
    assert_close(R.potrf_vjp(c, cbar, uplo), abar_ref, 1e-12, "adjoint")


@pytest.mark.parametrize("uplo", "LU")
@pytest.mark.parametrize("dtype", DOUBLE)
def test_potrf_ignores_imaginary_diagonal_and_other_triangle(uplo, dtype):
    """Perturbing Im(A_ii) or the unread triangle changes nothing: the tangent along such a
    direction is exactly zero on the stored triangle."""
    r = rng("potrf-ign", uplo, dtype)
    n = 9
    a = garbage_other(r, hpd(r, n, dtype), uplo)
    d = np.zeros((n, n), dtype)
    d[~R.tri_mask(n, uplo)] = rnd(r, (n, n), dtype)[~R.tri_mask(n, uplo)]
    if R.is_complex(d):
        d[np.diag_indices(n)] = 1j * r.standard_normal(n)
    c, _, dc = R.potrf_jvp(a, d, uplo)
    assert not np.any(dc[R.tri_mask(n, uplo)])
    # and LAPACK itself: the factor of the perturbed buffer is bit-identical
    c2, _ = R.potrf(a + 0.5 * d, uplo)
    assert np.array_equal(c2[R.tri_mask(n, uplo)], c[R.tri_mask(n, uplo)])


@pytest.mark.parametrize("uplo", "LU")
@pytest.mark.parametrize("dtype", DTYPES)
def test_potrf_not_positive_definite(uplo, dtype):
    """info = j > 0: only the leading (j-1) x (j-1) triangle of the buffer is the factor of
    the leading block; its derivatives are exact, every other stored entry gets NaN (exact 0
    for a zero tangent / a cotangent vanishing there)."""
    r = rng("potrf-npd", uplo, dtype)
    n, j = 12, 8
    s = hpd(r, n, dtype)
    s[j - 1, j - 1] = -50
    a = garbage_other(r, s, uplo)
    da = rnd(r, (n, n), dtype)
    c, info, dc = R.potrf_jvp(a, da, uplo)
    assert info == j
    k = j - 1
    st = R.tri_mask(n, uplo)
    lead = np.zeros((n, n), bool)
    lead[:k, :k] = True
    c_k, _, dc_k = R.potrf_jvp(a[:k, :k], da[:k, :k], uplo)
    assert_close(c[:k, :k][st[:k, :k]], c_k[st[:k, :k]], exact_tol(dtype) * 10, "leading factor")
    assert_close(dc[:k, :k], dc_k, exact_tol(dtype) * 10, "leading tangent")
    assert np.all(np.isnan(dc[st & ~lead])) and np.array_equal(dc[~st], da[~st])
    assert not np.any(R.potrf_jvp(a, np.zeros((n, n), dtype), uplo)[2])
    cbar = np.zeros((n, n), dtype)
    cbar[lead] = rnd(r, (n, n), dtype)[lead]
    abar = R.potrf_vjp(c, cbar, uplo, info)
    assert_close(abar[:k, :k], R.potrf_vjp(c_k, cbar[:k, :k], uplo), exact_tol(dtype) * 10, "leading adjoint")
    assert not np.any(abar[st & ~lead])
    cbar[k, k] = 1
    abar = R.potrf_vjp(c, cbar, uplo, info)
    assert np.all(np.isnan(abar[st])) and np.array_equal(abar[~st], cbar[~st])


@pytest.mark.parametrize("uplo", "LU")
@pytest.mark.parametrize("dtype", DOUBLE)
def test_potrf_lapack_buffer_on_failure(uplo, dtype):
    """What the note relies on (OpenBLAS through SciPy, a blocked size): on info = j the leading
    (j-1) block is chol of the leading block, A(j,j) holds the non-positive Schur pivot, the
    other triangle is untouched; nothing else is promised."""
    r = rng("potrf-buf", uplo, dtype)
    n, j = 120, 77
    s = hpd(r, n, dtype)
    s[j - 1, j - 1] = -100
    a = garbage_other(r, s, uplo)
    c, info = R.potrf(a, uplo)
    k = j - 1
    assert info == j
    L11 = np.linalg.cholesky(s[:k, :k])
    got = np.tril(c[:k, :k]) if uplo == "L" else R.H(np.triu(c[:k, :k]))
    assert_close(got, L11, 1e-12, "leading factor")
    row = np.linalg.solve(L11, s[:k, k])           # row k of L (columns < k), conjugated
    assert_close(c[k, k], s[k, k] - np.vdot(row, row), 1e-12, "failed pivot")
    other = ~R.tri_mask(n, uplo)
    assert np.array_equal(c[other], a[other])


# ====================================================================================== potrs
@pytest.mark.parametrize("uplo", "LU")
@pytest.mark.parametrize("dtype", DTYPES)
def test_potrs_rules(uplo, dtype):
    for n, nrhs in [(0, 1), (1, 1), (7, 1), (13, 3)]:
        r = rng("potrs", uplo, dtype, n, nrhs)
        c, _ = R.potrf(garbage_other(r, hpd(r, n, dtype), uplo), uplo)
        if R.is_complex(c) and n:      # potrs reads the diagonal as complex: make it so
            c[np.diag_indices(n)] *= np.exp(0.3j)
        b, dc, db, xbar = (rnd(r, (n, nrhs), dtype), rnd(r, (n, n), dtype), rnd(r, (n, nrhs), dtype),
                           rnd(r, (n, nrhs), dtype))
        x, dx = R.potrs_jvp(c, b, dc, db, uplo)
        what = f"potrs {uplo} n={n} nrhs={nrhs}"
        tol = exact_tol(dtype) * 10
        assert_close(x, R.potrs(c, b, uplo), tol, what + " X")
        cbar, bbar = R.potrs_vjp(c, x, xbar, uplo)
        assert not np.any(cbar[~R.tri_mask(n, uplo)])
        assert_dot(dx, xbar, (dc, db), (cbar, bbar), dtype, what)
        assert_close(dx, R.potrs_jvp_dense(c, b, dc, db, uplo), tol, what + " dX dense")
        assert_close((cbar, bbar), R.potrs_vjp_dense(c, b, xbar, uplo), tol, what + " vjp dense")
        if dtype in DOUBLE:
            for kind, d in directions((dc, db)):
                fd = central(lambda c_, b_: R.potrs(c_, b_, uplo), (c, b), d)
                assert_close(R.potrs_jvp(c, b, d[0], d[1], uplo)[1], fd[0], FD_TOL, what + f" FD ({kind})")


# ======================================================================================= posv
@pytest.mark.parametrize("uplo", "LU")
@pytest.mark.parametrize("dtype", DTYPES)
def test_posv_rules(uplo, dtype):
    for n, nrhs in [(0, 1), (1, 1), (7, 1), (13, 3), (6, 0)]:
        r = rng("posv", uplo, dtype, n, nrhs)
        a = garbage_other(r, hpd(r, n, dtype), uplo)
        b, da, db, xbar, cbar = (rnd(r, (n, nrhs), dtype), rnd(r, (n, n), dtype), rnd(r, (n, nrhs), dtype),
                                 rnd(r, (n, nrhs), dtype), rnd(r, (n, n), dtype))
        c, x, info, dc, dx = R.posv_jvp(a, b, da, db, uplo)
        assert info == 0
        what = f"posv {uplo} n={n} nrhs={nrhs}"
        tol = exact_tol(dtype) * 10
        for cb in (cbar, None):
            abar, bbar = R.posv_vjp(c, x, xbar, cb, uplo)
            assert_dot((dc, dx), (cb, xbar), (da, db), (abar, bbar), dtype, what)
            st = R.tri_mask(n, uplo)
            abar_d, bbar_d = R.posv_vjp_dense(a, b, xbar, cb, uplo)
            assert_close((abar[st], bbar), (abar_d[st], bbar_d), tol, what + " vjp dense")
        # the cheap reverse equals potrs' adjoint chained into potrf's
        cbar_s, bbar_s = R.potrs_vjp(c, x, xbar, uplo)
        chained = R.potrf_vjp(c, cbar_s, uplo)
        abar, _ = R.posv_vjp(c, x, xbar, None, uplo)
        assert_close(abar[st], chained[st], tol, what + " vs chained")
        if dtype in DOUBLE:
            for kind, d in directions((da, db)):
                fd = central(lambda a_, b_: R.posv(a_, b_, uplo)[:2], (a, b), d)
                got = R.posv_jvp(a, b, d[0], d[1], uplo)
                assert_close((got[3], got[4]), fd, FD_TOL, what + f" FD ({kind})")


@pytest.mark.parametrize("uplo", "LU")
@pytest.mark.parametrize("dtype", DOUBLE)
def test_posv_not_positive_definite(uplo, dtype):
    r = rng("posv-npd", uplo, dtype)
    n, j = 7, 4
    s = hpd(r, n, dtype)
    s[j - 1, j - 1] = -10
    a, b = garbage_other(r, s, uplo), rnd(r, (n, 2), dtype)
    c, x, info, dc, dx = R.posv_jvp(a, b, rnd(r, (n, n), dtype), None, uplo)
    assert info == j and np.array_equal(x, b) and np.all(np.isnan(dx))
    abar, bbar = R.posv_vjp(c, x, rnd(r, (n, 2), dtype), None, uplo, info)
    assert np.all(np.isnan(abar[R.tri_mask(n, uplo)])) and np.all(np.isnan(bbar))
    abar, bbar = R.posv_vjp(c, x, np.zeros((n, 2), dtype), None, uplo, info)
    assert not np.any(abar) and not np.any(bbar)


# ============================================================================ det / slogdet
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [0, 1, 2, 7, 13])
def test_det_slogdet_rules(dtype, n):
    r = rng("det", dtype, n)
    a = general(r, n, dtype)
    da = rnd(r, (n, n), dtype)
    detbar, signbar = rnd(r, (), dtype)[()], rnd(r, (), dtype)[()]
    labar = np.real(rnd(r, (), dtype))[()]
    det, ddet = R.det_jvp(a, da)
    _, abar = R.det_vjp(a, detbar)
    (s, la), (ds, dla) = R.slogdet_jvp(a, da)
    _, abar_s = R.slogdet_vjp(a, signbar, labar)
    tol = exact_tol(dtype) * 10
    assert_dot(ddet, detbar, da, abar, dtype, "det")
    assert_dot((ds, dla), (signbar, labar), da, abar_s, dtype, "slogdet")
    a64 = a.astype(np.complex128)
    x = np.linalg.inv(a64) if n else a64
    d64 = np.linalg.det(a64) if n else 1.0
    assert_close(det, d64, tol, "det value")
    assert_close(s * np.exp(la), d64, tol, "slogdet value")
    assert_close(ddet, d64 * np.trace(x @ da), tol, "ddet = det tr(A^-1 dA)")
    assert_close(abar, np.conj(d64) * detbar * R.H(x), tol, "Abar = conj(det) detbar A^-H")
    c = labar + (1j * np.imag(np.conj(s) * signbar) if R.is_complex(a) else 0)
    assert_close(abar_s, c * R.H(x), tol, "slogdet Abar = c A^-H")
    if R.is_complex(a):   # sign stays on the unit circle: its tangent is tangential
        assert abs(np.real(np.conj(s) * ds)) <= tol * max(1, abs(ds))
    else:
        assert ds == 0
    if dtype in DOUBLE:
        def f(m):
            lu, piv, _ = R.getrf(m)
            sg, ld = R.slogdet_from_lu(lu, piv)
            return R.det_from_lu(lu, piv), sg, ld
        for kind, (d,) in directions((da,)):
            fd = central(f, (a,), (d,))
            got = (R.det_jvp(a, d)[1],) + R.slogdet_jvp(a, d)[1]
            assert_close(got, fd, FD_TOL, f"det/slogdet FD ({kind})")


def _rank_deficient(kind, n, dtype, r):
    a = general(r, n, dtype)
    if kind == "zero-last-row":      # U(n-1,n-1) == 0 exactly, the last pivot
        a[r.integers(n), :] = 0
    elif kind == "zero-first-col":   # U(0,0) == 0, not the last pivot; rank n-1
        a[:, 0] = 0
    else:                            # two zero pivots, rank n-1: adj(A) != 0
        a = np.eye(n, dtype=dtype)
        a[:2, :2] = [[0, 1], [0, 0]]
        a[2:, 2:] += 0.3 * rnd(r, (n - 2, n - 2), dtype)
    return a


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["zero-last-row", "zero-first-col"])
def test_det_singular_one_zero_pivot(dtype, kind):
    """Exactly one zero pivot: the derivative of det is the adjugate (rank one), finite and
    exact -- through the ordinary LU rule when the zero pivot is the last one, through the
    O(n^2) rank-one adjugate otherwise."""
    r = rng("det-sing", dtype, kind)
    n = 6
    a = _rank_deficient(kind, n, dtype, r)
    lu, piv, info = R.getrf(a)
    assert info > 0 and np.count_nonzero(np.diagonal(lu) == 0) == 1
    adj = R.adjugate_dense(a.astype(np.complex128))
    da = rnd(r, (n, n), dtype)
    detbar = rnd(r, (), dtype)[()]
    det, ddet = R.det_jvp(a, da)
    _, abar = R.det_vjp(a, detbar)
    tol = exact_tol(dtype) * 100
    assert det == 0
    assert_close(ddet, np.trace(adj @ da), tol, "ddet = tr(adj(A) dA)")
    assert_close(abar, detbar * R.H(adj), tol, "Abar = detbar adj(A)^H")
    if dtype in DOUBLE:
        for kind_, (d,) in directions((da,)):
            (fd,) = central(lambda m: R.det_from_lu(*R.getrf(m)[:2]), (a,), (d,))
            assert_close(R.det_jvp(a, d)[1], fd, FD_TOL, f"det FD ({kind_})")
    # slogdet: log|det| = -inf, derivatives undefined: NaN unless the (co)tangent is zero
    (s, la), (ds, dla) = R.slogdet_jvp(a, da)
    assert s == 0 and la == -np.inf and np.isnan(dla)
    assert np.all(np.isnan(R.slogdet_vjp(a, 0.0, 1.0)[1]))
    assert not np.any(R.slogdet_vjp(a, 0.0, 0.0)[1])
    assert R.slogdet_jvp(a, np.zeros_like(da))[1][1] == 0


@pytest.mark.parametrize("dtype", DOUBLE)
def test_det_singular_two_zero_pivots(dtype):
    """Two zero pivots yet rank n-1: the true gradient (the adjugate) is nonzero but is not
    available from the LU: NaN (exact zero for a zero (co)tangent)."""
    r = rng("det-2", dtype)
    n = 5
    a = _rank_deficient("two", n, dtype, r)
    lu, piv, info = R.getrf(a)
    assert np.count_nonzero(np.diagonal(lu) == 0) == 2
    assert np.any(R.adjugate_dense(a))
    assert np.isnan(R.det_jvp(a, rnd(r, (n, n), dtype))[1])
    assert np.all(np.isnan(R.det_vjp(a, 1.0)[1]))
    assert not np.any(R.det_vjp(a, 0.0)[1]) and R.det_jvp(a, np.zeros((n, n), dtype))[1] == 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_det_lu_level_rules(dtype):
    """The LU-level rules (what the Enzyme layer chains into the getrf adjoint): a diagonal
    cotangent; division-free products, finite for a zero last pivot."""
    r = rng("det-lu", dtype)
    n = 7
    lu, piv, _ = R.getrf(general(r, n, dtype))
    dlu, detbar = rnd(r, (n, n), dtype), rnd(r, (), dtype)[()]
    assert_dot(R.det_jvp_lu(lu, piv, dlu), detbar, dlu, R.det_vjp_lu(lu, piv, detbar), dtype, "det LU")
    lub = R.det_vjp_lu(lu, piv, detbar)
    assert not np.any(lub - np.diag(np.diagonal(lub)))
    lu[n - 1, n - 1] = 0
    lub = R.det_vjp_lu(lu, piv, detbar)
    assert np.all(np.isfinite(lub)) and not np.any(np.diagonal(lub)[:-1])


# ================================================================================ flop counts
def test_flop_counts(monkeypatch):
    """The recursions cost what the note says (real-arithmetic formulas):
    potrf tangent/adjoint 2/3 n^3 (potrf n^3/3), getri tangent/adjoint 8/3 n^3 (getri 4/3 n^3;
    plain variant 4 n^3), linked inv 4 n^3, getrf tangent/adjoint 4/3 n^3 (getrf 2/3 n^3)."""
    monkeypatch.setitem(R.NB, "chol", 16)
    monkeypatch.setitem(R.NB, "tri", 16)
    monkeypatch.setitem(R.NB, "lu", 8)
    r = rng("flops")
    n = 128
    a = general(r, n, np.float64)
    lu, piv, _ = R.getrf(a)
    x, _ = R.getri(lu, piv)
    g = r.standard_normal((n, n))
    s = hpd(r, n, np.float64)

    def cost(fn, *args):
        R.reset_flops()
        fn(*args)
        return R.FLOPS[0] / n**3

    want = {
        "chol tangent L": (cost(R.chol_tangent, R.potrf(s, "L")[0], g.copy(), "L"), 2 / 3),
        "chol adjoint U": (cost(R.chol_adjoint, R.potrf(s, "U")[0], g.copy(), "U"), 2 / 3),
        "getri jvp": (cost(R.getri_jvp, lu, piv, g), 8 / 3),
        "getri vjp": (cost(R.getri_vjp, lu, piv, x, g), 8 / 3),
        "getri vjp plain": (cost(lambda *a_: R.getri_vjp(*a_, tri_rhs=False), lu, piv, x, g), 4.0),
        "inv vjp": (cost(R.inv_vjp, x, g), 4.0),
        "getrf adjoint": (cost(R.lu_adjoint, lu, piv, g), 4 / 3),
        "tri-RHS solve": (cost(R.tri_rhs_solve, "E", lu, g.copy()), 1 / 3),
    }
    for k, (got, expect) in want.items():
        assert abs(got / expect - 1) < 0.06, f"{k}: {got:.4f} n^3 vs {expect:.4f} n^3"


# ============================================================================ property tests
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None, derandomize=True)
@given(n=st.integers(0, 12), nrhs=st.integers(1, 3), uplo=st.sampled_from("LU"),
       trans=st.sampled_from("NTC"), diag=st.sampled_from("NU"), dtype=st.sampled_from(DTYPES),
       seed=st.integers(0, 2**16))
def test_property_dot_products(n, nrhs, uplo, trans, diag, dtype, seed):
    r = np.random.default_rng(seed)
    a = triangular(r, n, uplo, diag, dtype)
    b, da, db, xbar = (rnd(r, (n, nrhs), dtype), rnd(r, (n, n), dtype), rnd(r, (n, nrhs), dtype),
                       rnd(r, (n, nrhs), dtype))
    x, _, dx = R.trtrs_jvp(a, b, da, db, uplo, trans, diag)
    assert_dot(dx, xbar, (da, db), R.trtrs_vjp(a, x, xbar, uplo, trans, diag), dtype, "trtrs")
    s = garbage_other(r, hpd(r, n, dtype), uplo)
    c, _, dc = R.potrf_jvp(s, da, uplo)
    cbar = rnd(r, (n, n), dtype)
    assert_dot(dc, cbar, da, R.potrf_vjp(c, cbar, uplo), dtype, "potrf")
    x, dx = R.potrs_jvp(c, b, da, db, uplo)
    assert_dot(dx, xbar, (da, db), R.potrs_vjp(c, x, xbar, uplo), dtype, "potrs")


# ============================================================================== JAX oracle
jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import jax.scipy.linalg as jsl  # noqa: E402

JTOL = 1e-9


_JITTED = {}


def jax_rules(f, primals, tangents, cot):
    """(JAX's jvp, JAX's vjp converted to our convention: conj(jax_vjp(conj(w)))), traced
    and compiled as ONE program (op-by-op eager tracing compiles every primitive: slow)."""
    def both(p, t, c):
        out, tan = jax.jvp(f, p, t)
        _, pb = jax.vjp(f, *p)
        return tan, pb(c if isinstance(out, tuple) else c[0])
    as_j = lambda xs: tuple(jnp.asarray(x) for x in xs)  # noqa: E731
    prog = _JITTED.setdefault(f, jax.jit(both))   # reuse the compiled program for the same f
    tan, g = prog(as_j(primals), as_j(tangents), as_j(np.conj(c) for c in as_tuple(cot)))
    return tuple(np.asarray(t) for t in as_tuple(tan)), tuple(np.conj(np.asarray(x)) for x in g)


def j_herm(s, uplo):
    st_ = jnp.tril(s, -1) if uplo == "L" else jnp.triu(s, 1)
    return st_ + st_.conj().T + jnp.diag(jnp.real(jnp.diagonal(s)).astype(s.dtype))


def j_tri(a, uplo, diag="N"):
    t = jnp.tril(a) if uplo == "L" else jnp.triu(a)
    if diag == "U":
        t = t - jnp.diag(jnp.diagonal(t)) + jnp.eye(a.shape[0], dtype=a.dtype)
    return t


@pytest.mark.parametrize("dtype", DOUBLE)
def test_jax_cotangent_convention(dtype):
    """ours = conj(jax_vjp(conj(w))): checked on L(z) = Re<w, f(z)> with f non-holomorphic
    (the Cholesky of Herm(S)) against finite differences of L along the real and imaginary
    directions of every entry."""
    r = rng("conv", dtype)
    n = 3
    s = garbage_other(r, hpd(r, n, dtype), "L")
    w = rnd(r, (n, n), dtype)
    f = lambda s_: jnp.linalg.cholesky(j_herm(s_, "L"))  # noqa: E731
    _, (g,) = jax_rules(f, (s,), (w,), w)
    fj = jax.jit(f)
    loss = lambda s_: float(np.real(np.vdot(w, np.asarray(fj(jnp.asarray(s_))))))  # noqa: E731
    h = 1e-6
    for i, j in itertools.product(range(n), repeat=2):
        e = np.zeros((n, n), dtype)
        e[i, j] = 1
        dre = (loss(s + h * e) - loss(s - h * e)) / (2 * h)
        assert abs(np.real(g[i, j]) - dre) < 1e-6
        if R.is_complex(s):
            dim = (loss(s + 1j * h * e) - loss(s - 1j * h * e)) / (2 * h)
            assert abs(np.imag(g[i, j]) - dim) < 1e-6


@pytest.mark.parametrize("dtype", DOUBLE)
def test_jax_getri_and_inv(dtype):
    r = rng("jax-getri", dtype)
    n = 7
    a = general(r, n, dtype)
    lu, piv, _ = R.getrf(a)
    P = R.unpack_lu(lu, piv)[0]
    f = lambda l: jnp.linalg.inv(P @ (jnp.tril(l, -1) + jnp.eye(n)) @ jnp.triu(l))  # noqa: E731
    dlu, xbar, da = rnd(r, (n, n), dtype), rnd(r, (n, n), dtype), rnd(r, (n, n), dtype)
    x, _, dx = R.getri_jvp(lu, piv, dlu)
    jt, jv = jax_rules(f, (lu,), (dlu,), xbar)
    assert_close(dx, jt[0], JTOL, "getri dX")
    assert_close(R.getri_vjp(lu, piv, x, xbar), jv[0], JTOL, "getri LUbar")
    jt, jv = jax_rules(jnp.linalg.inv, (a,), (da,), xbar)
    assert_close(R.inv_jvp(x, da), jt[0], JTOL, "inv dX")
    assert_close(R.inv_vjp(x, xbar), jv[0], JTOL, "inv Abar")


@pytest.mark.parametrize("dtype", DOUBLE)
def test_jax_trtrs(dtype):
    """All 12 flag sets in one JAX program (one compile), each on its own (A, B)."""
    r = rng("jax-trtrs", dtype)
    n, nrhs, k = 6, 2, len(FLAGS)
    A = [triangular(r, n, u, d, dtype) for u, t, d in FLAGS]
    B, dA, dB, Xbar = ([rnd(r, shape, dtype) for _ in FLAGS]
                       for shape in ((n, nrhs), (n, n), (n, nrhs), (n, nrhs)))

    def f(*ab):
        return tuple(jsl.solve_triangular(j_tri(ab[i], u, d), ab[k + i], trans=t, lower=u == "L")
                     for i, (u, t, d) in enumerate(FLAGS))

    jt, jv = jax_rules(f, tuple(A + B), tuple(dA + dB), tuple(Xbar))
    for i, (uplo, trans, diag) in enumerate(FLAGS):
        x, _, dx = R.trtrs_jvp(A[i], B[i], dA[i], dB[i], uplo, trans, diag)
        what = f"trtrs {uplo}{trans}{diag}"
        assert_close(dx, jt[i], JTOL, what + " dX")
        assert_close(R.trtrs_vjp(A[i], x, Xbar[i], uplo, trans, diag), (jv[i], jv[k + i]), JTOL, what + " vjp")


@pytest.mark.parametrize("uplo", "LU")
@pytest.mark.parametrize("dtype", DOUBLE)
def test_jax_potrf_potrs_posv(uplo, dtype):
    """potrf as the buffer LAPACK leaves (factor on the stored triangle of Herm(S), the other
    triangle passed through), potrs by cho_solve on the referenced triangle (complex diagonal
    read as is), posv as (that buffer, solve(Herm(S), B)); one JAX program."""
    r = rng("jax-chol", uplo, dtype)
    n, nrhs = 9, 2
    a = garbage_other(r, hpd(r, n, dtype), uplo)
    da, cbar, b, db, xbar, dcs, db2, xbar2 = (
        rnd(r, s_, dtype) for s_ in [(n, n), (n, n), (n, nrhs), (n, nrhs), (n, nrhs), (n, n), (n, nrhs), (n, nrhs)])
    st_ = jnp.asarray(R.tri_mask(n, uplo))
    c, _ = R.potrf(a, uplo)
    cs = c.copy()
    if R.is_complex(cs):
        cs[np.diag_indices(n)] *= np.exp(0.2j)   # potrs: the diagonal is read as complex

    def f(a_, cs_, b_, b2_):
        L = jnp.linalg.cholesky(j_herm(a_, uplo))
        buf = jnp.where(st_, L if uplo == "L" else L.conj().T, a_)
        return (buf, jnp.linalg.solve(j_herm(a_, uplo), b_),
                jsl.cho_solve((j_tri(cs_, uplo), uplo == "L"), b2_))

    (jdc, jdx, jdx2), (jab, jcsb, jbb, jbb2) = jax_rules(
        f, (a, cs, b, b), (da, dcs, db, db2), (cbar, xbar, xbar2))
    c, x, _, dc, dx = R.posv_jvp(a, b, da, db, uplo)
    assert_close(dc, jdc, JTOL, "potrf dC")
    assert_close(R.potrf_jvp(a, da, uplo)[2], jdc, JTOL, "potrf dC (potrf_jvp)")
    assert_close(dx, jdx, JTOL, "posv dX")
    assert_close(R.posv_vjp(c, x, xbar, cbar, uplo), (jab, jbb), JTOL, "posv vjp")
    assert_close(R.potrf_vjp(c, cbar, uplo) + R.posv_vjp(c, x, xbar, None, uplo)[0], jab, JTOL,
                 "potrf Abar + posv's solve part")
    x2, dx2 = R.potrs_jvp(cs, b, dcs, db2, uplo)
    assert_close(dx2, jdx2, JTOL, "potrs dX")
    assert_close(R.potrs_vjp(cs, x2, xbar2, uplo), (jcsb, jbb2), JTOL, "potrs vjp")


@pytest.mark.parametrize("dtype", DOUBLE)
@pytest.mark.parametrize("n", [6])  # n >= 4: JAX's LU-based custom rules (n <= 3: closed forms)
def test_jax_det_slogdet(dtype, n):
    r = rng("jax-det", dtype, n)
    a = general(r, n, dtype)
    da = rnd(r, (n, n), dtype)
    detbar, signbar = rnd(r, (), dtype)[()], rnd(r, (), dtype)[()]
    labar = float(np.real(rnd(r, (), dtype)))
    jt, jv = jax_rules(jnp.linalg.det, (a,), (da,), detbar)
    assert_close(R.det_jvp(a, da)[1], jt[0], JTOL, "ddet")
    assert_close(R.det_vjp(a, detbar)[1], jv[0], JTOL, "det Abar")
    sl = lambda m: tuple(jnp.linalg.slogdet(m))  # noqa: E731
    jt, jv = jax_rules(sl, (a,), (da,), (signbar, labar))
    assert_close(R.slogdet_jvp(a, da)[1], jt, JTOL, "slogdet tangents")
    assert_close(R.slogdet_vjp(a, signbar, labar)[1], jv[0], JTOL, "slogdet Abar")


@pytest.mark.parametrize("dtype", DOUBLE)
def test_jax_det_singular(dtype):
    """Zero LAST pivot: JAX's _cofactor_solve is right and so are we. Zero pivot elsewhere
    (rank n-1, n >= 4): JAX returns a zero gradient although adj(A) != 0 -- we return adj(A)^H."""
    r = rng("jax-det-sing", dtype)
    n = 6
    a = _rank_deficient("zero-last-row", n, dtype, r)
    one = np.ones((), dtype)
    assert_close(R.det_vjp(a, 1.0)[1], jax_rules(jnp.linalg.det, (a,), (a,), one)[1][0], JTOL,
                 "det Abar, zero last pivot")
    a = _rank_deficient("zero-first-col", n, dtype, r)
    jg = jax_rules(jnp.linalg.det, (a,), (a,), one)[1][0]
    ours = R.det_vjp(a, 1.0)[1]
    assert_close(ours, R.H(R.adjugate_dense(a)), 1e-12, "ours = adj(A)^H")
    assert not np.any(jg), "JAX 0.10.2 returns 0 here (pitfall documented in the note)"
