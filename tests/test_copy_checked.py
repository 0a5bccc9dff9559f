"""dl_?copy_checked, the NumPy API's one-pass copy-in of its inputs (a triangle, a Hermitian
triangle or a whole matrix), and the API's check_finite through it: every precision, uplo,
diag, rectangular shapes, lda > m; a non-finite entry in
each part of the matrix (read triangle, unit diagonal, other triangle; real and imaginary
parts); the fused path (column-major arrays of the computation's dtype) against the general
path (C order, other dtypes), which must agree exactly."""
import itertools

import numpy as np
import pytest

import difflapack as dl
from difflapack import _core

PRECS = ["s", "d", "c", "z"]


def _matrix(prec, n, lda, seed=0):
    rng = np.random.default_rng(seed)
    dtype = _core.PRECISIONS[prec].dtype
    full = rng.standard_normal((lda, n)).astype(dtype)
    if np.iscomplexobj(full):
        full = full + 1j * rng.standard_normal((lda, n)).astype(dtype)
    full = np.asfortranarray(full)
    return full, full[:n]  # the view has lda > n when lda > n


def _call(prec, uplo, diag, a, lda):
    """a: an n x n view whose columns lie lda apart."""
    n = a.shape[0]
    out = np.full((n, n), 7, _core.PRECISIONS[prec].dtype, order="F")
    rc = getattr(_core.lib, f"dl_{prec}copy_checked")(uplo, diag, n, n, a.ctypes.data, lda, out.ctypes.data, n)
    return rc, out


@pytest.mark.parametrize("prec,uplo,diag,n,lda", list(itertools.product(PRECS, [b"U", b"L"], [b"N", b"U"],
                                                                       [1, 5, 70], [0, 3])))
def test_copies_the_triangle_zeros_the_rest(prec, uplo, diag, n, lda):
    full, a = _matrix(prec, n, n + lda)
    rc, out = _call(prec, uplo, diag, a, n + lda)
    want = np.triu(a) if uplo == b"U" else np.tril(a)
    assert rc == 0
    np.testing.assert_array_equal(out, want)


def _positions(n, uplo, diag):
    """(i, j, read) for one entry of each kind: off-diagonal in the triangle, the diagonal
    (read unless diag U), the other triangle (never read)."""
    i, j = (1, n - 1) if uplo == b"U" else (n - 1, 1)
    return [(i, j, True), (2, 2, diag == b"N"), (j, i, False)]


@pytest.mark.parametrize("prec,uplo,diag,bad", [
    (p, u, d, bad) for p, u, d in itertools.product(PRECS, [b"U", b"L"], [b"N", b"U"])
    for bad in [np.nan, np.inf, -np.inf] + (["imag-nan", "imag-inf"] if p in "cz" else [])])
def test_reports_exactly_the_read_nonfinite_entries(prec, uplo, diag, bad):
    n = 6
    for i, j, read in _positions(n, uplo, diag):
        full, a = _matrix(prec, n, n + 2, seed=3)
        a[i, j] = complex(0.5, float(bad[5:])) if isinstance(bad, str) else bad
        rc, out = _call(prec, uplo, diag, a, n + 2)
        assert rc == int(read), (i, j)
        in_triangle = j >= i if uplo == b"U" else i >= j
        if in_triangle:
            np.testing.assert_array_equal(out[i, j], a[i, j])
        else:
            assert out[i, j] == 0


@pytest.mark.parametrize("prec", PRECS)
def test_argument_errors_write_nothing(prec):
    full, a = _matrix(prec, 4, 4)
    out = np.full((4, 4), 7, _core.PRECISIONS[prec].dtype, order="F")
    fn = getattr(_core.lib, f"dl_{prec}copy_checked")
    assert fn(b"U", b"N", -1, 4, full.ctypes.data, 4, out.ctypes.data, 4) == -3
    assert fn(b"U", b"N", 4, -1, full.ctypes.data, 4, out.ctypes.data, 4) == -4
    assert fn(b"U", b"N", 4, 4, full.ctypes.data, 3, out.ctypes.data, 4) == -6
    assert fn(b"U", b"N", 4, 4, full.ctypes.data, 4, out.ctypes.data, 3) == -8
    assert (out == 7).all()


@pytest.mark.parametrize("prec,uplo,m,n", list(itertools.product(PRECS, [b"U", b"L", b"A", b"G"], [1, 4, 9],
                                                                 [1, 6])))
def test_rectangular_like_lacpy(prec, uplo, m, n):
    """Trapezoids for U / L, all of it for any other letter (LAPACK's ?lacpy); a NaN anywhere
    in what is copied is reported, one outside it is not."""
    full, _ = _matrix(prec, n, m + 2, seed=5)
    a = full[:m]
    out = np.full((m, n), 7, a.dtype, order="F")
    fn = getattr(_core.lib, f"dl_{prec}copy_checked")
    assert fn(uplo, b"N", m, n, a.ctypes.data, m + 2, out.ctypes.data, m) == 0
    want = np.triu(a) if uplo == b"U" else np.tril(a) if uplo == b"L" else a
    np.testing.assert_array_equal(out, want)
    for i, j in itertools.product(range(m), range(n)):
        b = a.copy(order="F")
        b[i, j] = np.nan
        copied = uplo not in (b"U", b"L") or (j >= i if uplo == b"U" else i >= j)
        assert fn(uplo, b"N", m, n, b.ctypes.data, m, out.ctypes.data, m) == int(copied), (i, j)


# ------------------------------------------------------------------ through the NumPy API
LAYOUTS = {
    "fortran": lambda m: np.asfortranarray(m),            # the fused path
    "fortran-lda": lambda m: np.asfortranarray(np.vstack([m, m]))[: m.shape[0]],  # fused, lda = 2n
    "c-order": lambda m: np.ascontiguousarray(m),         # the general path
    "strided": lambda m: np.asfortranarray(np.repeat(m, 2, axis=1))[:, ::2],  # general
}


def _spd(n, dtype, seed=1):
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, n))
    return (m @ m.T + n * np.eye(n)).astype(dtype)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
def test_api_paths_agree_and_check_only_the_triangle(layout, dtype):
    n = 7
    spd = _spd(n, dtype)
    base = LAYOUTS[layout](spd)
    ref_c, _ = dl.potrf(np.ascontiguousarray(spd))
    np.testing.assert_array_equal(dl.potrf(base)[0], ref_c)
    bad = spd.copy()
    bad[0, n - 1] = np.nan  # the strict upper triangle: not read with uplo 'L'
    c, info = dl.potrf(LAYOUTS[layout](bad))
    np.testing.assert_array_equal(c, ref_c)
    assert np.all(np.triu(c, 1) == 0)
    with pytest.raises(ValueError, match=r"a \(its referenced triangle\) must contain only finite"):
        dl.potrf(LAYOUTS[layout](bad), uplo="U")
    x, pullback = dl.trsv_vjp(LAYOUTS[layout](bad), np.ones(n, dtype), uplo="L")
    np.testing.assert_array_equal(x, dl.trsv(np.tril(spd), np.ones(n, dtype), uplo="L"))
    with pytest.raises(ValueError, match="referenced triangle"):
        dl.trsv_vjp(LAYOUTS[layout](bad), np.ones(n, dtype), uplo="U")
    unit = bad.copy()
    unit[3, 3] = np.inf  # the unit diagonal is not read
    dl.trsm_vjp(LAYOUTS[layout](unit), np.ones((n, 2), dtype), uplo="L", diag="U")
    dl.trsm_vjp(LAYOUTS[layout](unit), np.ones((n, 2), dtype), uplo="L", diag="U", check_finite=False)
    with pytest.raises(ValueError, match="referenced triangle"):
        dl.trsm_vjp(LAYOUTS[layout](unit), np.ones((n, 2), dtype), uplo="L", diag="N")


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("dtype", [np.float32, np.complex128])
def test_api_whole_matrix_inputs(layout, dtype):
    """The general matrices (getrf's a, getrs' lu, rhs) through the fused and general paths."""
    n = 6
    a = _spd(n, dtype, seed=4) + np.triu(np.ones((n, n), dtype), 1)
    lu_ref, piv_ref, _ = dl.getrf(np.ascontiguousarray(a))
    lu, piv, _ = dl.getrf(LAYOUTS[layout](a))
    np.testing.assert_array_equal(lu, lu_ref)
    b = LAYOUTS[layout](np.arange(2.0 * n).reshape(n, 2).astype(dtype))
    np.testing.assert_array_equal(dl.getrs_vjp(LAYOUTS[layout](lu), piv, b)[0],
                                  dl.getrs(np.ascontiguousarray(lu), piv, np.ascontiguousarray(b)))
    for i, j in [(0, n - 1), (n - 1, 0), (2, 2)]:  # every entry of a general matrix is read
        bad = a.copy()
        bad[i, j] = np.inf
        with pytest.raises(ValueError, match="a must contain only finite values"):
            dl.getrf(LAYOUTS[layout](bad))
        dl.getrf(LAYOUTS[layout](bad), check_finite=False)
        with pytest.raises(ValueError, match="lu must contain only finite values"):
            dl.getrs_vjp(LAYOUTS[layout](bad), piv, b)


def test_caller_array_untouched_by_the_fused_copy():
    spd = np.asfortranarray(_spd(9, np.float64))
    before = spd.copy()
    dl.posv_vjp(spd, np.ones(9))[1](np.ones(9))
    dl.potrf_vjp(spd)[1](np.eye(9))
    dl.getrf_vjp(spd)[1](np.ones((9, 9)))
    dl.solve_vjp(spd, np.ones(9))[1](np.ones(9))
    np.testing.assert_array_equal(spd, before)


@pytest.mark.parametrize("prec", PRECS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_vectorised_runs_see_every_position(prec, bad):
    """Columns long enough for the vectorised loop (16 floats or 8 doubles a step) and its
    tail: a non-finite value at each row of a column is reported, in the real and (complex)
    imaginary part."""
    m, n = 45, 3
    full, _ = _matrix(prec, n, m, seed=9)
    fn = getattr(_core.lib, f"dl_{prec}copy_checked")
    out = np.empty((m, n), full.dtype, order="F")
    assert fn(b"A", b"N", m, n, full.ctypes.data, m, out.ctypes.data, m) == 0
    parts = [1.0, 1j] if prec in "cz" else [1.0]
    for i in range(m):
        for part in parts:
            b = full.copy(order="F")
            b[i, 1] = bad * part if part == 1.0 else complex(b[i, 1].real, bad)
            assert fn(b"A", b"N", m, n, b.ctypes.data, m, out.ctypes.data, m) == 1, (i, part)
            np.testing.assert_array_equal(out, b)


@pytest.mark.parametrize("prec,uplo,diag", list(itertools.product(PRECS, [b"U", b"L", b"A"], [b"N", b"U"])))
def test_check_only_without_destination(prec, uplo, diag):
    """C == NULL: the same verdict as the copy, nothing written, ldc not read."""
    m = 20
    full, a = _matrix(prec, m, m, seed=11)
    fn = getattr(_core.lib, f"dl_{prec}copy_checked")
    out = np.empty((m, m), a.dtype, order="F")
    for i, j in [(0, m - 1), (m - 1, 0), (7, 7), (3, 12), (12, 3)]:
        b = a.copy(order="F")
        b[i, j] = np.nan
        want = fn(uplo, diag, m, m, b.ctypes.data, m, out.ctypes.data, m)
        assert fn(uplo, diag, m, m, b.ctypes.data, m, None, 0) == want, (i, j)
    assert fn(uplo, diag, m, m, a.ctypes.data, m, None, 0) == 0


def test_relaxed_strides_take_the_general_check():
    """A length-1 axis may carry any stride (NumPy's relaxed strides): such an array counts as
    Fortran-contiguous but has no usable leading dimension, so the one-pass helper declines it
    and the general check must still see its NaN."""
    from numpy.lib.stride_tricks import as_strided
    b = as_strided(np.array([1.0, np.nan, 3.0, 4.0]), shape=(4, 1), strides=(8, 8))
    a = as_strided(np.array([np.nan]), shape=(1, 1), strides=(8, 8))
    assert b.flags.f_contiguous and _core.nonfinite_read(b, _core.PRECISIONS["d"]) is None
    lu, piv, _ = dl.getrf(2 * np.eye(4))
    for call in (lambda: dl.getrs(lu, piv, b), lambda: dl.getrs_vjp(lu, piv, b), lambda: dl.trsm(np.eye(4), b),
                 lambda: dl.trsv(a, np.ones(1)), lambda: dl.potrf(a)):
        with pytest.raises(ValueError, match="must contain only finite values"):
            call()
