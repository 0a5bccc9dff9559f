"""The shared BLAS-3 helpers of csrc/blas_ext.c (float64 instance, internal names dl_d_*),
called through ctypes: gemm_tri, trmm_tri, trsm_blocked, project_tri, all_zero, fill_nan. The
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


@pytest.mark.parametrize("side,uplo,trans,diag", list(itertools.product("LR", "UL", "NTC", "NU")))
def test_trsm_blocked_matches_dtrsm(side, uplo, trans, diag):
    r = rng(7)
    m, n = (250, 37) if side == "L" else (37, 250)
    k = m if side == "L" else n
    a = np.tril(r.standard_normal((k, k))) / np.sqrt(k) if uplo == "L" else np.triu(r.standard_normal((k, k))) / np.sqrt(k)
    np.fill_diagonal(a, 2.0 + r.random(k))
    a = padded(a + np.where(tri_mask(k, uplo, False), 0.0, 9.0), k + 3)  # garbage outside
    b0 = r.standard_normal((m, n))
    b_ref, b_blk = padded(b0, m + 2), padded(b0, m + 2)
    flags = [c.encode() for c in (side, uplo, trans, diag)]
    assert _core.lib.dl_dtrsm(*flags, m, n, sc(-1.5), ptr(a), k + 3, ptr(b_ref), m + 2) == 0
    fn("dl_trsm_blocked")(*[c.upper() for c in flags], m, n, -1.5, ptr(a), k + 3, ptr(b_blk), m + 2)
    scale = np.abs(b_ref[:m]).max()
    assert np.abs(b_blk[:m] - b_ref[:m]).max() <= 1e3 * EPS * scale
    assert np.all(b_blk[m:] == SENTINEL)


def test_trsm_blocked_alpha_zero_does_not_read_b():
    a = np.asfortranarray(np.eye(200) * 2)
    b = np.full((200, 3), np.nan, order="F")
    fn("dl_trsm_blocked")(b"L", b"U", b"N", b"N", 200, 3, 0.0, ptr(a), 200, ptr(b), 200)
    assert np.array_equal(b, np.zeros((200, 3)))


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
