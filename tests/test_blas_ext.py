"""The shared BLAS-3 helpers of csrc/blas_ext.c (float64 instance, internal names dl_d_*),
called through ctypes: gemm_tri, trmm_tri, trsm_blocked (against the system dtrsm), project_tri,
all_zero, fill_nan. The
other precisions' instances are the same source; the kernel tests cover them.
Sizes exceed the recursion base cases (48 for dl_gemm_tri, 96 for dl_trsm_blocked) so the
recursive paths run. Entries outside the written region carry sentinels that must survive."""
import ctypes
import itertools

import numpy as np
import pytest

from difflapack import _core
from _util import sc, EPS, rng

V, C, I, D = ctypes.c_void_p, ctypes.c_char, ctypes.c_int, ctypes.c_double
SIGNATURES = {
    "dl_gemm_tri": [C, I, C, C, I, I, D, V, I, V, I, V, I],
    "dl_trmm_tri": [C, C, C, I, I, I, D, V, I, V, I, V, I],
    "dl_trsm_blocked": [C, C, C, C, I, I, D, V, I, V, I],
    "dl_project_tri": [C, I, I, V, I],
    "dl_fill_nan": [I, I, V, I],
}


def fn(name):
    f = getattr(_core.lib.load(), "dl_d_" + name[len("dl_"):])
    f.argtypes = SIGNATURES.get(name, [I, I, V, I])
    f.restype = ctypes.c_int if name == "dl_all_zero" else None
    return f


ptr = _core.ptr
SENTINEL = 555.0


def padded(a, ld):
    full = np.full((ld, a.shape[1]), SENTINEL, order="F")
    full[: a.shape[0]] = a
    return full


def tri_mask(n, uplo, strict):
    k = 1 if strict else 0
    ones = np.ones((n, n), dtype=bool)
    return np.triu(ones, k) if uplo == "U" else np.tril(ones, -k)


def op(m, t):
    return m if t == "N" else m.T


@pytest.mark.parametrize("uplo,strict,ta,tb", list(itertools.product("UL", [0, 1], "NT", "NT")))
@pytest.mark.parametrize("n,k", [(1, 3), (7, 5), (130, 17), (101, 1)])
def test_gemm_tri(uplo, strict, ta, tb, n, k):
    r = rng(n + k)
    opa, opb = r.standard_normal((n, k)), r.standard_normal((k, n))
    a = padded(np.asfortranarray(op(opa, ta)), (n if ta == "N" else k) + 2)
    b = padded(np.asfortranarray(op(opb, tb)), (k if tb == "N" else n) + 1)
    c0 = r.standard_normal((n, n))
    c = padded(c0, n + 3)
    fn("dl_gemm_tri")(uplo.encode(), strict, ta.encode(), tb.encode(), n, k, -0.5, ptr(a), a.shape[0],
                      ptr(b), b.shape[0], ptr(c), c.shape[0])
    mask = tri_mask(n, uplo, strict)
    want = c0 - 0.5 * opa @ opb
    assert np.allclose(c[:n][mask], want[mask], rtol=0, atol=100 * k * EPS * 4)
    assert np.array_equal(c[:n][~mask], c0[~mask]), "outside the triangle must be untouched"
    assert np.all(c[n:] == SENTINEL)


@pytest.mark.parametrize("side,uplo,trans,strict", list(itertools.product("LR", "UL", "NTC", [0, 1])))
@pytest.mark.parametrize("m,n", [(5, 3), (1, 4), (4, 1), (60, 70)])
def test_trmm_tri_out_of_place_and_in_place(side, uplo, trans, strict, m, n):
    r = rng(m * n)
    k = m if side == "L" else n
    a = padded(r.standard_normal((k, k)), k + 2)
    b0 = r.standard_normal((m, n))
    t = np.asarray(a[:k])
    t = (np.triu if uplo == "U" else np.tril)(t, (1 if uplo == "U" else -1) if strict else 0)
    opt = op(t, "N" if trans == "N" else "T")
    want = 2.0 * (opt @ b0 if side == "L" else b0 @ opt)
    b = padded(b0, m + 1)
    out = padded(np.zeros((m, n)), m + 3)
    f = fn("dl_trmm_tri")
    args = (side.encode(), uplo.encode(), trans.encode(), strict, m, n, 2.0, ptr(a), k + 2)
    f(*args, ptr(b), m + 1, ptr(out), m + 3)
    assert np.allclose(out[:m], want, rtol=0, atol=1e-12 * max(1, k))
    assert np.array_equal(b[:m], b0) and np.all(out[m:] == SENTINEL)
    f(*args, ptr(b), m + 1, ptr(b), m + 1)  # in place
    assert np.allclose(b[:m], want, rtol=0, atol=1e-12 * max(1, k))
    assert np.all(b[m:] == SENTINEL)


def test_trmm_strict_is_exact_for_tiny_triangles():
    """Relative accuracy does not depend on the scale of the strict triangle (no cancellation)."""
    r = rng(3)
    a = np.asfortranarray(r.standard_normal((40, 40)))
    b = np.asfortranarray(r.standard_normal((40, 5)))
    f = fn("dl_trmm_tri")
    out1, out2 = np.zeros((40, 5), order="F"), np.zeros((40, 5), order="F")
    a_small = np.asfortranarray(1e-13 * a)
    f(b"L", b"U", b"N", 1, 40, 5, 1.0, ptr(a), 40, ptr(b), 40, ptr(out1), 40)
    f(b"L", b"U", b"N", 1, 40, 5, 1.0, ptr(a_small), 40, ptr(b), 40, ptr(out2), 40)
    assert np.allclose(out2 * 1e13, out1, rtol=1e-13, atol=1e-13)


def lapack_trsm(side, uplo, trans, diag, alpha, a, b):
    """The system BLAS's dtrsm (through SciPy), the reference dl_trsm_blocked must match."""
    from scipy.linalg import blas
    return blas.dtrsm(alpha, a, b, side=int(side == "R"), lower=int(uplo == "L"), trans_a="NTC".index(trans),
                      diag=int(diag == "U"))


def triangle(r, k, uplo):
    a = np.tril(r.standard_normal((k, k))) if uplo == "L" else np.triu(r.standard_normal((k, k)))
    return a / np.sqrt(k)


# rhs 37 and 100: fewer and more right-hand sides than the recursion's diagonal blocks' order
@pytest.mark.parametrize("side,uplo,trans,diag,rhs", list(itertools.product("LR", "UL", "NTC", "NU", (37, 100))))
def test_trsm_blocked_matches_dtrsm(side, uplo, trans, diag, rhs):
    r = rng(7)
    m, n = (250, rhs) if side == "L" else (rhs, 250)
    k = m if side == "L" else n
    a = triangle(r, k, uplo)
    np.fill_diagonal(a, 2.0 + r.random(k))
    a_pad = padded(a + np.where(tri_mask(k, uplo, False), 0.0, 9.0), k + 3)  # garbage outside
    if diag == "U":
        np.fill_diagonal(a_pad[:k], np.inf)   # a unit diagonal is never read
        np.fill_diagonal(a, 1.0)
    b0 = r.standard_normal((m, n))
    b_blk = padded(b0, m + 2)
    fn("dl_trsm_blocked")(*[c.encode() for c in (side, uplo, trans, diag)], m, n, -1.5, ptr(a_pad), k + 3,
                          ptr(b_blk), m + 2)
    b_ref = lapack_trsm(side, uplo, trans, diag, -1.5, np.where(tri_mask(k, uplo, False), a, 0.0), b0)
    assert np.abs(b_blk[:m] - b_ref).max() <= 1e3 * EPS * np.abs(b_ref).max()
    assert np.all(b_blk[m:] == SENTINEL)


def _substitution(a, b):
    """Back substitution for upper triangular a in extended precision (x87 long double)."""
    a, x = a.astype(np.longdouble), b.astype(np.longdouble)
    for i in range(a.shape[0] - 1, -1, -1):
        x[i] = (x[i] - a[i, i + 1:] @ x[i + 1:]) / a[i, i]
    return x


def _errors_against_substitution(a, b):
    """Max error of dl_trsm_blocked and of the system dtrsm (upper, op N) relative to the
    largest entry of the extended-precision solution."""
    x = _substitution(a, b)
    ours, a_f = np.asfortranarray(b.copy()), np.asfortranarray(a)
    k, rhs = b.shape
    fn("dl_trsm_blocked")(b"L", b"U", b"N", b"N", k, rhs, 1.0, ptr(a_f), k, ptr(ours), k)
    lapack = lapack_trsm("L", "U", "N", "N", 1.0, a, b)
    scale = float(np.abs(x).max())
    return tuple(float(np.abs(v - x).max()) / scale for v in (ours, lapack))


@pytest.mark.parametrize("kind", ["random", "graded", "growth", "rhs_in_range"])
def test_the_recursive_solve_keeps_the_accuracy_of_substitution(kind):
    """Its error against an extended-precision solve stays that of LAPACK's dtrsm on triangles
    far from well conditioned. (A variant that inverted the recursion's small diagonal blocks
    was up to 85x less accurate on random triangles and lost entries to underflow: rejected.)"""
    r = rng(11)
    k, rhs = 300, 120
    a = np.triu(r.standard_normal((k, k)))                       # kappa grows like 2^k
    if kind == "graded":
        a = np.diag(np.logspace(-8, 8, k)) @ (a + 3 * np.eye(k))
    elif kind == "growth":
        a = np.eye(k) - 0.5 * np.triu(np.ones((k, k)), 1)       # inverse entries up to 1.5^k
    b = r.standard_normal((k, rhs))
    if kind == "rhs_in_range":
        b = (a.astype(np.longdouble) @ b.astype(np.longdouble)).astype(np.float64)
    err_ours, err_lapack = _errors_against_substitution(a, b)
    assert err_ours <= 4 * err_lapack + 50 * EPS, (err_ours, err_lapack)


@pytest.mark.parametrize("seed", range(6))
def test_random_triangles_as_accurate_as_dtrsm(seed):
    """Random N(0,1) triangles of order 64 with 64 right-hand sides (one diagonal block of the
    recursion): the independent review's case where an inverted block was 85x less accurate."""
    r = rng(100 + seed)
    err_ours, err_lapack = _errors_against_substitution(np.triu(r.standard_normal((64, 64))),
                                                        r.standard_normal((64, 64)))
    assert err_ours <= 4 * err_lapack + 50 * EPS, (err_ours, err_lapack)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
def test_badly_scaled_blocks_lose_nothing_to_underflow(dtype):
    """[[s, 0], [1, s]] with s huge: the solution's second row is -1/s, normal-sized, while the
    block's inverse has an entry -1/s^2 that underflows (the review's case)."""
    import difflapack as dl
    s = 1e200 if dtype in ("float64", "complex128") else 1e23
    a = np.array([[s, 0], [1, s]], dtype=dtype)
    b = np.array([[s, s], [0, 0]], dtype=dtype)
    x = dl.trsm(a, b, uplo="L")
    assert np.allclose(x, [[1, 1], [-1 / s, -1 / s]], rtol=1e-5, atol=0), x


def test_a_block_whose_inverse_overflows_is_solved_as_by_dtrsm():
    """[[1e-200, 1], [0, 1e-200]] has an inverse entry 1e400 (inf), but the solution for a tiny
    right-hand side is finite: the solve must give dtrsm's result."""
    a = np.asfortranarray([[1e-200, 1.0], [0.0, 1e-200]])
    b0 = np.full((2, 3), 1e-300)
    b = np.asfortranarray(b0.copy())
    fn("dl_trsm_blocked")(b"L", b"U", b"N", b"N", 2, 3, 1.0, ptr(a), 2, ptr(b), 2)
    ref = lapack_trsm("L", "U", "N", "N", 1.0, a, b0)
    assert np.all(np.isfinite(ref)) and np.array_equal(b, ref)


@pytest.mark.parametrize("bad", [0.0, np.nan, np.inf])
def test_a_block_with_a_zero_or_nonfinite_entry_gives_what_dtrsm_gives(bad):
    r = rng(3)
    a = np.triu(r.standard_normal((5, 5))) + 3 * np.eye(5)
    a[2, 2 if bad == 0.0 else 4] = bad
    b0 = r.standard_normal((5, 8))
    b, a_f = np.asfortranarray(b0.copy()), np.asfortranarray(a)
    with np.errstate(all="ignore"):
        fn("dl_trsm_blocked")(b"L", b"U", b"N", b"N", 5, 8, 1.0, ptr(a_f), 5, ptr(b), 5)
        ref = lapack_trsm("L", "U", "N", "N", 1.0, a, b0)
    assert np.array_equal(b, ref, equal_nan=True)


@pytest.mark.parametrize("k,rhs", [(200, 3), (50, 80)])
def test_trsm_blocked_alpha_zero_does_not_read_b(k, rhs):
    a = np.asfortranarray(np.eye(k) * 2)
    b = np.full((k, rhs), np.nan, order="F")
    fn("dl_trsm_blocked")(b"L", b"U", b"N", b"N", k, rhs, 0.0, ptr(a), k, ptr(b), k)
    assert np.array_equal(b, np.zeros((k, rhs)))


@pytest.mark.parametrize("uplo,strict", list(itertools.product("UL", [0, 1])))
def test_project_tri(uplo, strict):
    a = padded(np.ones((5, 5)), 6)
    fn("dl_project_tri")(uplo.encode(), strict, 5, ptr(a), 6)
    assert np.array_equal(a[:5], tri_mask(5, uplo, strict).astype(float))
    assert np.all(a[5:] == SENTINEL)


def test_all_zero_and_fill_nan():
    a = padded(np.zeros((3, 4)), 5)
    assert fn("dl_all_zero")(3, 4, ptr(a), 5) == 1
    a[2, 3] = -0.0
    assert fn("dl_all_zero")(3, 4, ptr(a), 5) == 1
    a[1, 1] = 1e-300
    assert fn("dl_all_zero")(3, 4, ptr(a), 5) == 0
    fn("dl_fill_nan")(3, 4, ptr(a), 5)
    assert np.all(np.isnan(a[:3])) and np.all(a[3:] == SENTINEL)
