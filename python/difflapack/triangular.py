"""Triangular solves (BLAS trsv, trsm) with their forward (jvp) and reverse (vjp) derivatives.

Conventions shared by every function here
-----------------------------------------
- Precision: the primal inputs (``a``, ``b``, ``alpha``) promote like ``np.result_type`` and the
  computation runs in the matching BLAS precision, like SciPy choosing s/d/c/z: float32,
  float64, complex64 or complex128 (integers and bools become float64, float16 float32).
  Results keep that dtype. Tangents and cotangents are converted to it; a complex tangent of a
  real computation raises ``ValueError``.
- Complex data: a jvp returns the directional derivative along a complex perturbation; a vjp
  cotangent follows Enzyme and PyTorch (for a real loss L, ``z_bar = dL/dRe z + i dL/dIm z``),
  so pullbacks apply conjugate transposes. ``trans='C'`` (conjugate transpose) is its own case;
  for real data it equals ``'T'``.
- C- and Fortran-ordered arrays and strided views (``b[::2]``, ``b[::-1]``) are accepted.
  Inputs are never modified; results are new arrays. The primal outputs of a ``_vjp`` are
  read-only views of the arrays its pullback keeps (``_core.kept``): writing into one raises
  instead of silently changing a later gradient; ``np.array(x)`` gives a writable copy.
- Only the referenced triangle of ``a`` is read: the ``uplo`` triangle, without its diagonal
  when ``diag='U'`` (unit diagonal, taken as ones). Entries outside it may hold anything, and
  the same holds for the tangent ``da``. Cotangents ``da_bar`` are full ``n x n`` arrays that
  are zero outside the referenced triangle (zero diagonal when ``diag='U'``).
- ``None`` passed to a pullback as the cotangent means zero.
- Bad arguments (a flag letter that is not allowed, shapes that do not fit, a non-square
  ``a``, a dimension beyond the 32-bit integers of the LP64 kernels, even of an array holding
  no data, something NumPy cannot turn into a numeric array, a masked array, whose mask would
  be ignored) raise ``ValueError`` naming the argument, before any computation (LAPACK's
  ``info < 0`` rule).
- ``check_finite=True`` (default, as in SciPy) raises ``ValueError`` if an input holds inf or
  NaN (for ``a``/``da`` only the referenced triangle is checked); ``check_finite=False`` skips
  the check and lets inf/NaN propagate as BLAS does. A finite value that overflows the
  computation's dtype when converted to it (a float64 tangent of a float32 computation, a long
  double beyond float64) raises ``ValueError`` either way.
- Singular triangle: an exactly zero diagonal entry with ``diag='N'`` raises
  :class:`difflapack.SingularMatrixError` (a ``numpy.linalg.LinAlgError``) whose ``info`` is the
  1-based index of the first zero, like LAPACK's ``?trtrs``. Nearly singular triangles are not
  detected (the result is then as accurate as the triangle's conditioning allows).
"""
from __future__ import annotations

import numpy as np

from . import _core
from ._core import ACTIVE_A, ACTIVE_ALPHA, ACTIVE_B, call, ld, precision_of, raise_for_info
from .lu import _kept_out, _rhs, _rhs_like, _shape_out

__all__ = ["trsv", "trsv_jvp", "trsv_vjp", "trsm", "trsm_jvp", "trsm_vjp", "trtrs", "trtrs_jvp", "trtrs_vjp"]

_TRSV_ARGS = ("uplo", "trans", "diag", "n", "a", "lda", "b", "incx")
_TRTRS_ARGS = ("uplo", "trans", "diag", "n", "nrhs", "a", "lda", "b", "ldb")
_TRSM_ARGS = ("side", "uplo", "transa", "diag", "m", "n", "alpha", "a", "lda", "b", "ldb")


# ------------------------------------------------------------------ argument handling
def _referenced(a: np.ndarray, uplo: bytes, diag: bytes) -> np.ndarray:
    """The entries BLAS reads: the uplo triangle, strict when the diagonal is unit."""
    strict = diag == b"U"
    if uplo == b"U":
        return a[np.triu_indices(a.shape[0], 1 if strict else 0)]
    return a[np.tril_indices(a.shape[0], -1 if strict else 0)]


_LEAF = 64
_STRICT_UPPER = np.triu(np.ones((_LEAF, _LEAF), dtype=bool), 1)


def _only_triangle(m: np.ndarray, u: bytes) -> np.ndarray:
    """Zero the square ``m`` (in place) outside its ``u`` triangle; returns ``m``.

    By blocks: the off-diagonal block of each halving is zeroed whole (contiguous column
    segments), the diagonal blocks recursively, down to a masked copy on <= 64 x 64 blocks.
    That writes each zero once; ``m[...] = np.tril(m)`` built a mask, a temporary and a
    copy, ~20x slower at n = 1000 (3.4 ms against 0.15 ms in float64, a third of a potrf)."""
    n = m.shape[0]
    if n <= _LEAF:
        mask = _STRICT_UPPER[:n, :n]
        np.copyto(m, 0, where=mask if u == b"L" else mask.T)
        return m
    h = n // 2
    if u == b"L":
        m[:h, h:] = 0
    else:
        m[h:, :h] = 0
    _only_triangle(m[:h, :h], u)
    _only_triangle(m[h:, h:], u)
    return m


def _triangle(a, name: str, prec, uplo: bytes, diag: bytes, check_finite: bool, copy: bool = False):
    """``a`` as a square Fortran array of the computation's dtype, its referenced triangle
    checked (check_finite). With ``copy``: a fresh array holding the ``uplo`` triangle (with its
    diagonal) and zeros elsewhere, made in one pass with the check when ``a`` is already a
    column-major array of that dtype (dl_?copy_checked: a copy, an isfinite pass and a zero
    fill were three passes over n^2, together as costly as an O(n^2) solve)."""
    fused = _core.copy_checked(a, prec, uplo, diag) if copy else None
    if fused is not None and fused[0].shape[0] == fused[0].shape[1]:
        arr, nonfinite = fused
    else:
        arr = _core.as_matrix(a, name, prec, copy)
        if arr.shape[0] != arr.shape[1]:
            raise ValueError(f"{name} must be a square matrix; got shape {arr.shape}")
        nonfinite = _core.nonfinite_read(arr, prec, uplo, diag) if check_finite else False
        if nonfinite is None:  # not column-major (a length-1 axis's stride): cheap test first
            nonfinite = not _core.all_finite(arr) and not _core.all_finite(_referenced(arr, uplo, diag))
        if copy:
            _only_triangle(arr, uplo)
    if check_finite and nonfinite:
        raise ValueError(f"{name} (its referenced triangle) must contain only finite values")
    return arr


def _same_shape(arr: np.ndarray, name: str, shape: tuple, like: str) -> None:
    if arr.shape != shape:
        raise ValueError(f"{name} must have the shape of {like} {shape}; got {arr.shape}")


def _triangle_tangent(da, a: np.ndarray, prec, uplo: bytes, diag: bytes, check_finite: bool) -> np.ndarray:
    """The tangent of the triangle: shaped like ``a``, only its referenced triangle is read."""
    da = _triangle(da, "da", prec, uplo, diag, check_finite)
    _same_shape(da, "da", a.shape, "a")
    return da


def _vector(b, name: str, prec, n: int, check_finite: bool, what: str) -> np.ndarray:
    arr = _core.as_vector(b, name, prec)
    if arr.shape[0] != n:
        raise ValueError(f"{name} must have length {n} ({what}); got {arr.shape[0]}")
    if check_finite:
        _core.check_finite(arr, name)
    return arr


def _matrix(b, name: str, prec, check_finite: bool) -> np.ndarray:
    """A fresh Fortran-ordered copy (the C side overwrites it)."""
    arr = _core.as_matrix(b, name, prec, copy=True)
    if check_finite:
        _core.check_finite(arr, name)
    return arr


def _trsv_flags(uplo, trans, diag):
    return _core.flag(uplo, "uplo", "UL"), _core.flag(trans, "trans", "NTC"), _core.flag(diag, "diag", "NU")


def _trsm_flags(side, uplo, transa, diag):
    return (_core.flag(side, "side", "LR"), _core.flag(uplo, "uplo", "UL"),
            _core.flag(transa, "transa", "NTC"), _core.flag(diag, "diag", "NU"))


# ------------------------------------------------------------------ trsv
def _trsv_inputs(a, b, uplo, trans, diag, check_finite, copy_a=False):
    flags = _trsv_flags(uplo, trans, diag)
    prec = precision_of(a=a, b=b)
    a = _triangle(a, "a", prec, flags[0], flags[2], check_finite, copy=copy_a)
    x = _vector(b, "b", prec, a.shape[0], check_finite, "the order of a")
    return prec, flags, a, x


@_core.bool_keywords("check_finite")
def trsv(a, b, uplo="U", trans="N", diag="N", *, check_finite=True):
    """Solve ``op(A) x = b`` for a triangular ``A`` (BLAS ``?trsv``).

    a : (n, n) array; only the ``uplo`` triangle is read (not its diagonal if ``diag='U'``).
    b : (n,) array (any stride). uplo: 'U'/'L'; trans: 'N', 'T' or 'C'; diag: 'N'/'U'.
    Returns x, a new (n,) array of the computation's dtype. Raises SingularMatrixError on an
    exactly zero diagonal entry (diag='N'), ValueError on bad arguments (see the module doc).
    """
    prec, (u, t, d), a, x = _trsv_inputs(a, b, uplo, trans, diag, check_finite)
    info = call(prec.kernel("trsv"), u, t, d, a.shape[0], a, ld(a), x, 1)
    raise_for_info(info, "trsv", _TRSV_ARGS)
    return x


@_core.bool_keywords("check_finite")
def trsv_jvp(a, b, da, db, uplo="U", trans="N", diag="N", *, check_finite=True):
    """Forward mode of :func:`trsv`: returns ``(x, dx)`` with
    ``dx = op(A)^{-1} (db - op(tri(dA)) x)``.

    ``da`` ((n, n), only its referenced triangle is read) or ``db`` ((n,)) may be ``None``
    (held constant); with both ``None`` the tangent is zero.
    """
    prec, (u, t, d), a, x = _trsv_inputs(a, b, uplo, trans, diag, check_finite)
    n = a.shape[0]
    active = 0
    if da is not None:
        da = _triangle_tangent(da, a, prec, u, d, check_finite)
        active |= ACTIVE_A
    if db is not None:
        dx = _vector(db, "db", prec, n, check_finite, "the length of b")
        active |= ACTIVE_B
    else:
        dx = np.zeros(n, prec.dtype)
    info = call(prec.kernel("trsv_fwd"), active, u, t, d, n, a, ld(a), da, ld(da) if da is not None else 1,
                x, 1, dx, 1)
    raise_for_info(info, "trsv_jvp", _TRSV_ARGS)
    return x, dx


@_core.bool_keywords("check_finite")
@_core.real_cotangents("a", "b")
def trsv_vjp(a, b, uplo="U", trans="N", diag="N", *, check_finite=True):
    """Reverse mode of :func:`trsv`: returns ``(x, pullback)``; ``pullback(x_bar)`` returns
    ``(da_bar, db_bar)`` with ``db_bar = op(A)^{-H} x_bar`` and ``da_bar`` = ``-db_bar x^H``
    (trans 'N'), ``-conj(x) db_bar^T`` ('T') or ``-x db_bar^H`` ('C') projected onto the
    referenced triangle: a full (n, n) array, zero outside the ``uplo`` triangle and on the
    diagonal when diag='U'. The pullback may be called any number of times; it uses a private
    copy of ``a`` and ``x`` itself, which is therefore returned read-only.
    """
    prec, (u, t, d), a, x = _trsv_inputs(a, b, uplo, trans, diag, check_finite, copy_a=True)
    n = a.shape[0]
    info = call(prec.kernel("trsv"), u, t, d, n, a, ld(a), x, 1)
    raise_for_info(info, "trsv_vjp", _TRSV_ARGS)
    x_saved = x

    def pullback(x_bar):
        bbar = _vector(_core.zero_if_none(x_bar, (n,), prec), "x_bar", prec, n, check_finite, "the length of x")
        abar = np.zeros((n, n), prec.dtype, order="F")
        info = call(prec.kernel("trsv_rev"), ACTIVE_A | ACTIVE_B, u, t, d, n, a, ld(a), abar, ld(abar),
                    x_saved, 1, bbar, 1)
        raise_for_info(info, "trsv_vjp pullback", _TRSV_ARGS)
        return abar, bbar

    return _core.kept(x), pullback


# ------------------------------------------------------------------ trsm
def _trsm_inputs(a, b, alpha, side, uplo, transa, diag, check_finite, copy_a=False):
    flags = _trsm_flags(side, uplo, transa, diag)
    s, u, _, d = flags
    prec = precision_of(a=a, b=b, alpha=alpha)
    a = _triangle(a, "a", prec, u, d, check_finite, copy=copy_a)
    x = _matrix(b, "b", prec, check_finite)
    m, n = x.shape
    k = m if s == b"L" else n
    if a.shape[0] != k:
        what = "rows" if s == b"L" else "columns"
        raise ValueError(f"a must be {k} x {k} (the number of {what} of b for side={s.decode()!r}); "
                         f"got shape {a.shape}")
    alpha = _core.as_scalar(alpha, "alpha", prec, check_finite)
    return prec, flags, a, x, alpha


@_core.bool_keywords("check_finite")
def trsm(a, b, alpha=1.0, side="L", uplo="U", transa="N", diag="N", *, check_finite=True):
    """Solve ``op(A) X = alpha B`` (side 'L') or ``X op(A) = alpha B`` (side 'R') for a
    triangular ``A`` (BLAS ``?trsm``).

    a : (k, k) array with k = m (side 'L') or n (side 'R'); only the referenced triangle is read.
    b : (m, n) array. alpha: scalar (a complex alpha makes the computation complex).
    Returns X, a new (m, n) Fortran-ordered array. Raises SingularMatrixError on an exactly zero
    diagonal entry (diag='N'), even when alpha == 0 or b is empty, as LAPACK's ?trtrs does.
    """
    prec, (s, u, t, d), a, x, alpha = _trsm_inputs(a, b, alpha, side, uplo, transa, diag, check_finite)
    m, n = x.shape
    info = call(prec.kernel("trsm"), s, u, t, d, m, n, alpha, a, ld(a), x, ld(x))
    raise_for_info(info, "trsm", _TRSM_ARGS)
    return x


@_core.bool_keywords("check_finite")
def trsm_jvp(a, b, da, db, dalpha=None, alpha=1.0, side="L", uplo="U", transa="N", diag="N", *,
             check_finite=True):
    """Forward mode of :func:`trsm`: returns ``(X, dX)`` with
    ``dX = op(A)^{-1} (alpha dB + dalpha B - op(tri(dA)) X)`` (side 'L'; side 'R' mirrors it:
    ``(alpha dB + dalpha B - X op(tri(dA))) op(A)^{-1}``).

    ``da`` (shape of ``a``, only the referenced triangle is read), ``db`` (shape of ``b``) and
    ``dalpha`` (scalar) may each be ``None`` (held constant); with all ``None`` dX is zero.
    """
    prec, (s, u, t, d), a, x, alpha = _trsm_inputs(a, b, alpha, side, uplo, transa, diag, check_finite)
    m, n = x.shape
    active = 0
    if da is not None:
        da = _triangle_tangent(da, a, prec, u, d, check_finite)
        active |= ACTIVE_A
    if db is not None:
        dx = _matrix(db, "db", prec, check_finite)
        _same_shape(dx, "db", x.shape, "b")
        active |= ACTIVE_B
    else:
        dx = np.zeros((m, n), prec.dtype, order="F")
    if dalpha is not None:
        dalpha = _core.as_scalar(dalpha, "dalpha", prec, check_finite)
        active |= ACTIVE_ALPHA
    info = call(prec.kernel("trsm_fwd"), active, s, u, t, d, m, n, alpha, dalpha, a, ld(a),
                da, ld(da) if da is not None else 1, x, ld(x), dx, ld(dx))
    raise_for_info(info, "trsm_jvp", _TRSM_ARGS)
    return x, dx


@_core.bool_keywords("check_finite")
@_core.real_cotangents("a", "b", "alpha")
def trsm_vjp(a, b, alpha=1.0, side="L", uplo="U", transa="N", diag="N", *, check_finite=True):
    """Reverse mode of :func:`trsm`: returns ``(X, pullback)``; ``pullback(x_bar)`` returns
    ``(da_bar, db_bar, dalpha_bar)``. With ``G = op(A)^{-H} x_bar`` (side 'L') or
    ``x_bar op(A)^{-H}`` (side 'R'): ``db_bar = conj(alpha) G``, ``dalpha_bar = sum(conj(B) * G)``
    (a scalar of the computation's dtype), and ``da_bar`` = the referenced-triangle projection
    of ``-G X^H`` (side 'L') or ``-X^H G`` (side 'R'), taken through op (transposed for 'T',
    conjugate-transposed for 'C'): a full (k, k) array that is zero outside the triangle (zero
    diagonal when diag='U'). Works for any alpha, including 0.
    """
    prec, (s, u, t, d), a, x, alpha = _trsm_inputs(a, b, alpha, side, uplo, transa, diag, check_finite,
                                                   copy_a=True)
    b0 = x.copy(order="F")
    m, n = x.shape
    info = call(prec.kernel("trsm"), s, u, t, d, m, n, alpha, a, ld(a), x, ld(x))
    raise_for_info(info, "trsm_vjp", _TRSM_ARGS)
    x_saved = x

    def pullback(x_bar):
        bbar = _matrix(_core.zero_if_none(x_bar, (m, n), prec), "x_bar", prec, check_finite)
        _same_shape(bbar, "x_bar", (m, n), "X")
        abar = np.zeros(a.shape, prec.dtype, order="F")
        dalpha = np.zeros(1, prec.dtype)
        info = call(prec.kernel("trsm_rev"), ACTIVE_A | ACTIVE_B | ACTIVE_ALPHA, s, u, t, d, m, n, alpha,
                    a, ld(a), abar, ld(abar), x_saved, ld(x_saved), b0, ld(b0), bbar, ld(bbar), dalpha)
        raise_for_info(info, "trsm_vjp pullback", _TRSM_ARGS)
        return abar, bbar, dalpha[0]

    return _core.kept(x), pullback


# ------------------------------------------------------------------ trtrs
def _trtrs_inputs(a, b, uplo, trans, diag, check_finite, copy_a=False):
    flags = _trsv_flags(uplo, trans, diag)
    prec = precision_of(a=a, b=b)
    a = _triangle(a, "a", prec, flags[0], flags[2], check_finite, copy=copy_a)
    x, was_1d = _rhs(b, "b", prec, a.shape[0], check_finite)
    return prec, flags, a, x, was_1d


@_core.bool_keywords("check_finite")
def trtrs(a, b, uplo="U", trans="N", diag="N", *, check_finite=True):
    """Solve ``op(A) X = B`` for a triangular ``A`` (LAPACK ``?trtrs``; SciPy's
    ``solve_triangular``). ``b`` is (n,) or (n, nrhs); the result has its shape. Raises
    SingularMatrixError on an exactly zero diagonal entry (diag='N'), found before solving.
    """
    prec, (u, t, d), a, x, was_1d = _trtrs_inputs(a, b, uplo, trans, diag, check_finite)
    n, nrhs = x.shape
    info = call(prec.kernel("trtrs"), u, t, d, n, nrhs, a, ld(a), x, ld(x))
    raise_for_info(info, "trtrs", _TRTRS_ARGS)
    return _shape_out(x, was_1d)


@_core.bool_keywords("check_finite")
def trtrs_jvp(a, b, da, db, uplo="U", trans="N", diag="N", *, check_finite=True):
    """Forward mode of :func:`trtrs`: ``(x, dx)``, ``dx = op(A)^{-1} (db - op(tri(dA)) x)``;
    ``da`` (only its referenced triangle is read) or ``db`` may be ``None`` (constant)."""
    prec, (u, t, d), a, x, was_1d = _trtrs_inputs(a, b, uplo, trans, diag, check_finite)
    n, nrhs = x.shape
    active = 0
    if da is not None:
        da = _triangle_tangent(da, a, prec, u, d, check_finite)
        active |= ACTIVE_A
    if db is not None:
        dx = _rhs_like(db, "db", prec, (n, nrhs), was_1d, check_finite)
        active |= ACTIVE_B
    else:
        dx = np.zeros((n, nrhs), prec.dtype, order="F")
    info = call(prec.kernel("trtrs_fwd"), active, u, t, d, n, nrhs, a, ld(a), da,
                ld(da) if da is not None else 1, x, ld(x), dx, ld(dx))
    raise_for_info(info, "trtrs_jvp", _TRTRS_ARGS)
    return _shape_out(x, was_1d), _shape_out(dx, was_1d)


@_core.bool_keywords("check_finite")
@_core.real_cotangents("a", "b")
def trtrs_vjp(a, b, uplo="U", trans="N", diag="N", *, check_finite=True):
    """Reverse mode of :func:`trtrs`: ``(x, pullback)``; ``pullback(x_bar)`` returns
    ``(da_bar, db_bar)``: ``db_bar = op(A)^{-H} x_bar`` and ``da_bar`` = ``-db_bar x^H``
    (trans 'N'), ``-conj(x) db_bar^T`` ('T') or ``-x db_bar^H`` ('C') on the referenced
    triangle (a full (n, n) array, zero elsewhere), as for :func:`trsm_vjp`."""
    prec, (u, t, d), a, x, was_1d = _trtrs_inputs(a, b, uplo, trans, diag, check_finite, copy_a=True)
    n, nrhs = x.shape
    info = call(prec.kernel("trtrs"), u, t, d, n, nrhs, a, ld(a), x, ld(x))
    raise_for_info(info, "trtrs_vjp", _TRTRS_ARGS)
    x_saved = x

    def pullback(x_bar):
        x_bar = _core.zero_if_none(x_bar, (n,) if was_1d else (n, nrhs), prec)
        bbar = _rhs_like(x_bar, "x_bar", prec, (n, nrhs), was_1d, check_finite)
        abar = np.zeros((n, n), prec.dtype, order="F")
        info = call(prec.kernel("trtrs_rev"), ACTIVE_A | ACTIVE_B, u, t, d, n, nrhs, a, ld(a), abar, ld(abar),
                    x_saved, ld(x_saved), bbar, ld(bbar))
        raise_for_info(info, "trtrs_vjp pullback", _TRTRS_ARGS)
        return abar, _shape_out(bbar, was_1d)

    return _kept_out(x, was_1d), pullback
