"""Triangular solves (BLAS trsv, trsm) with their forward (jvp) and reverse (vjp) derivatives.

Conventions shared by every function here
-----------------------------------------
- Arrays are converted to float64 (integer arrays are accepted); complex or other dtypes raise
  ``ValueError``. C- and Fortran-ordered arrays and strided views (``b[::2]``, ``b[::-1]``) are
  accepted. Inputs are never modified; results are new arrays.
- Only the referenced triangle of ``a`` is read: the ``uplo`` triangle, without its diagonal
  when ``diag='U'`` (unit diagonal, taken as ones). Entries outside it may hold anything, and
  the same holds for the tangent ``da``. Cotangents ``da_bar`` are full ``n x n`` arrays that
  are zero outside the referenced triangle (zero diagonal when ``diag='U'``).
- ``trans``/``transa`` ``'C'`` (conjugate transpose) equals ``'T'`` for real data. Flags are
  case-insensitive letters.
- Bad arguments (a flag letter that is not allowed, shapes that do not fit, a non-square
  ``a``) raise ``ValueError`` naming the argument, before any computation (LAPACK's
  ``info < 0`` rule).
- ``check_finite=True`` (default, as in SciPy) raises ``ValueError`` if an input holds inf or
  NaN (for ``a``/``da`` only the referenced triangle is checked); ``check_finite=False`` skips
  the check and lets inf/NaN propagate as BLAS does.
- Singular triangle: an exactly zero diagonal entry with ``diag='N'`` raises
  :class:`difflapack.SingularMatrixError` (a ``numpy.linalg.LinAlgError``) whose ``info`` is the
  1-based index of the first zero, like LAPACK's ``dtrtrs``. Nearly singular triangles are not
  detected (the result is then as accurate as the triangle's conditioning allows).
"""
from __future__ import annotations

import numpy as np

from . import _core
from ._core import ACTIVE_A, ACTIVE_ALPHA, ACTIVE_B, ld, ptr, raise_for_info

__all__ = ["trsv", "trsv_jvp", "trsv_vjp", "trsm", "trsm_jvp", "trsm_vjp"]

_TRSV_ARGS = ("uplo", "trans", "diag", "n", "a", "lda", "b", "incx")
_TRSM_ARGS = ("side", "uplo", "transa", "diag", "m", "n", "alpha", "a", "lda", "b", "ldb")


# ------------------------------------------------------------------ argument handling
def _referenced(a: np.ndarray, uplo: bytes, diag: bytes) -> np.ndarray:
    """The entries BLAS reads: the uplo triangle, strict when the diagonal is unit."""
    strict = diag == b"U"
    if uplo == b"U":
        return a[np.triu_indices(a.shape[0], 1 if strict else 0)]
    return a[np.tril_indices(a.shape[0], -1 if strict else 0)]


def _triangle(a, name: str, uplo: bytes, diag: bytes, check_finite: bool, copy: bool = False):
    arr = _core.as_matrix(a, name, copy)
    if arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square matrix; got shape {arr.shape}")
    if check_finite and not np.isfinite(arr).all():  # cheap test first; then only the triangle counts
        _core.check_finite(_referenced(arr, uplo, diag), f"{name} (its referenced triangle)")
    return arr


def _same_shape(arr: np.ndarray, name: str, shape: tuple, like: str) -> None:
    if arr.shape != shape:
        raise ValueError(f"{name} must have the shape of {like} {shape}; got {arr.shape}")


def _triangle_tangent(da, a: np.ndarray, uplo: bytes, diag: bytes, check_finite: bool) -> np.ndarray:
    """The tangent of the triangle: shaped like ``a``, only its referenced triangle is read."""
    da = _triangle(da, "da", uplo, diag, check_finite)
    _same_shape(da, "da", a.shape, "a")
    return da


def _vector(b, name: str, n: int, check_finite: bool, what: str) -> np.ndarray:
    arr = _core.as_vector(b, name)
    if arr.shape[0] != n:
        raise ValueError(f"{name} must have length {n} ({what}); got {arr.shape[0]}")
    if check_finite:
        _core.check_finite(arr, name)
    return arr


def _matrix(b, name: str, check_finite: bool) -> np.ndarray:
    """A fresh Fortran-ordered float64 copy (the C side overwrites it)."""
    arr = _core.as_matrix(b, name, copy=True)
    if check_finite:
        _core.check_finite(arr, name)
    return arr


def _scalar(value, name: str, check_finite: bool) -> float:
    arr = np.asarray(value)
    if arr.ndim != 0 or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be a real scalar; got {value!r}")
    out = float(arr)
    if check_finite and not np.isfinite(out):
        raise ValueError(f"{name} must be finite; got {out!r}")
    return out


def _trsv_flags(uplo, trans, diag):
    return _core.flag(uplo, "uplo", "UL"), _core.flag(trans, "trans", "NTC"), _core.flag(diag, "diag", "NU")


def _trsm_flags(side, uplo, transa, diag):
    return (_core.flag(side, "side", "LR"), _core.flag(uplo, "uplo", "UL"),
            _core.flag(transa, "transa", "NTC"), _core.flag(diag, "diag", "NU"))


# ------------------------------------------------------------------ trsv
def _trsv_inputs(a, b, uplo, trans, diag, check_finite, copy_a=False):
    flags = _trsv_flags(uplo, trans, diag)
    a = _triangle(a, "a", flags[0], flags[2], check_finite, copy=copy_a)
    x = _vector(b, "b", a.shape[0], check_finite, "the order of a")
    return flags, a, x


def trsv(a, b, uplo="U", trans="N", diag="N", *, check_finite=True):
    """Solve ``op(A) x = b`` for a triangular ``A`` (BLAS ``dtrsv``).

    a : (n, n) array; only the ``uplo`` triangle is read (not its diagonal if ``diag='U'``).
    b : (n,) array (any stride). uplo: 'U'/'L'; trans: 'N', 'T' or 'C' (== 'T'); diag: 'N'/'U'.
    Returns x, a new (n,) array. Raises SingularMatrixError on an exactly zero diagonal entry
    (diag='N'), ValueError on bad arguments (see the module docstring).
    """
    (u, t, d), a, x = _trsv_inputs(a, b, uplo, trans, diag, check_finite)
    info = _core.lib.dl_dtrsv(u, t, d, a.shape[0], ptr(a), ld(a), ptr(x), 1)
    raise_for_info(info, "trsv", _TRSV_ARGS)
    return x


def trsv_jvp(a, b, da, db, uplo="U", trans="N", diag="N", *, check_finite=True):
    """Forward mode of :func:`trsv`: returns ``(x, dx)`` with
    ``dx = op(A)^{-1} (db - op(tri(dA)) x)``.

    ``da`` ((n, n), only its referenced triangle is read) or ``db`` ((n,)) may be ``None``
    (held constant); with both ``None`` the tangent is zero.
    """
    (u, t, d), a, x = _trsv_inputs(a, b, uplo, trans, diag, check_finite)
    n = a.shape[0]
    active = 0
    if da is not None:
        da = _triangle_tangent(da, a, u, d, check_finite)
        active |= ACTIVE_A
    if db is not None:
        dx = _vector(db, "db", n, check_finite, "the length of b")
        active |= ACTIVE_B
    else:
        dx = np.zeros(n)
    info = _core.lib.dl_dtrsv_fwd(active, u, t, d, n, ptr(a), ld(a), ptr(da), ld(da) if da is not None else 1,
                                  ptr(x), 1, ptr(dx), 1)
    raise_for_info(info, "trsv_jvp", _TRSV_ARGS)
    return x, dx


def trsv_vjp(a, b, uplo="U", trans="N", diag="N", *, check_finite=True):
    """Reverse mode of :func:`trsv`: returns ``(x, pullback)``; ``pullback(x_bar)`` returns
    ``(da_bar, db_bar)`` with ``db_bar = op(A)^{-T} x_bar`` and ``da_bar`` = ``-db_bar x^T``
    (trans 'N') or ``-x db_bar^T`` (trans 'T'/'C') projected onto the referenced triangle: a
    full (n, n) array, zero outside the ``uplo`` triangle and on the diagonal when diag='U'.
    The pullback may be called any number of times; it uses private copies of ``a`` and ``x``.
    """
    (u, t, d), a, x = _trsv_inputs(a, b, uplo, trans, diag, check_finite, copy_a=True)
    n = a.shape[0]
    info = _core.lib.dl_dtrsv(u, t, d, n, ptr(a), ld(a), ptr(x), 1)
    raise_for_info(info, "trsv_vjp", _TRSV_ARGS)
    x_saved = x.copy()

    def pullback(x_bar):
        bbar = _vector(x_bar, "x_bar", n, check_finite, "the length of x")
        abar = np.zeros((n, n), order="F")
        info = _core.lib.dl_dtrsv_rev(ACTIVE_A | ACTIVE_B, u, t, d, n, ptr(a), ld(a), ptr(abar), ld(abar),
                                      ptr(x_saved), 1, ptr(bbar), 1)
        raise_for_info(info, "trsv_vjp pullback", _TRSV_ARGS)
        return abar, bbar

    return x, pullback


# ------------------------------------------------------------------ trsm
def _trsm_inputs(a, b, alpha, side, uplo, transa, diag, check_finite, copy_a=False):
    flags = _trsm_flags(side, uplo, transa, diag)
    s, u, _, d = flags
    a = _triangle(a, "a", u, d, check_finite, copy=copy_a)
    x = _matrix(b, "b", check_finite)
    m, n = x.shape
    k = m if s == b"L" else n
    if a.shape[0] != k:
        what = "rows" if s == b"L" else "columns"
        raise ValueError(f"a must be {k} x {k} (the number of {what} of b for side={s.decode()!r}); "
                         f"got shape {a.shape}")
    alpha = _scalar(alpha, "alpha", check_finite)
    return flags, a, x, alpha


def trsm(a, b, alpha=1.0, side="L", uplo="U", transa="N", diag="N", *, check_finite=True):
    """Solve ``op(A) X = alpha B`` (side 'L') or ``X op(A) = alpha B`` (side 'R') for a
    triangular ``A`` (BLAS ``dtrsm``).

    a : (k, k) array with k = m (side 'L') or n (side 'R'); only the referenced triangle is read.
    b : (m, n) array. alpha: real scalar. transa 'C' == 'T'.
    Returns X, a new (m, n) Fortran-ordered array. Raises SingularMatrixError on an exactly zero
    diagonal entry (diag='N'), even when alpha == 0 or b is empty, as LAPACK's dtrtrs does.
    """
    (s, u, t, d), a, x, alpha = _trsm_inputs(a, b, alpha, side, uplo, transa, diag, check_finite)
    m, n = x.shape
    info = _core.lib.dl_dtrsm(s, u, t, d, m, n, alpha, ptr(a), ld(a), ptr(x), ld(x))
    raise_for_info(info, "trsm", _TRSM_ARGS)
    return x


def trsm_jvp(a, b, da, db, dalpha=None, alpha=1.0, side="L", uplo="U", transa="N", diag="N", *,
             check_finite=True):
    """Forward mode of :func:`trsm`: returns ``(X, dX)`` with
    ``dX = op(A)^{-1} (alpha dB + dalpha B - op(tri(dA)) X)`` (side 'L'; side 'R' mirrors it:
    ``(alpha dB + dalpha B - X op(tri(dA))) op(A)^{-1}``).

    ``da`` (shape of ``a``, only the referenced triangle is read), ``db`` (shape of ``b``) and
    ``dalpha`` (scalar) may each be ``None`` (held constant); with all ``None`` dX is zero.
    """
    (s, u, t, d), a, x, alpha = _trsm_inputs(a, b, alpha, side, uplo, transa, diag, check_finite)
    m, n = x.shape
    active = 0
    if da is not None:
        da = _triangle_tangent(da, a, u, d, check_finite)
        active |= ACTIVE_A
    if db is not None:
        dx = _matrix(db, "db", check_finite)
        _same_shape(dx, "db", x.shape, "b")
        active |= ACTIVE_B
    else:
        dx = np.zeros((m, n), order="F")
    if dalpha is not None:
        dalpha = _scalar(dalpha, "dalpha", check_finite)
        active |= ACTIVE_ALPHA
    else:
        dalpha = 0.0
    info = _core.lib.dl_dtrsm_fwd(active, s, u, t, d, m, n, alpha, dalpha, ptr(a), ld(a),
                                  ptr(da), ld(da) if da is not None else 1, ptr(x), ld(x), ptr(dx), ld(dx))
    raise_for_info(info, "trsm_jvp", _TRSM_ARGS)
    return x, dx


def trsm_vjp(a, b, alpha=1.0, side="L", uplo="U", transa="N", diag="N", *, check_finite=True):
    """Reverse mode of :func:`trsm`: returns ``(X, pullback)``; ``pullback(x_bar)`` returns
    ``(da_bar, db_bar, dalpha_bar)``. With ``G = op(A)^{-T} x_bar`` (side 'L') or
    ``x_bar op(A)^{-T}`` (side 'R'): ``db_bar = alpha G``, ``dalpha_bar = <G, B>`` (a float),
    and ``da_bar`` = the referenced-triangle projection of ``-G X^T`` / ``-X G^T`` (side 'L',
    transa 'N' / 'T') or ``-X^T G`` / ``-G^T X`` (side 'R'), a full (k, k) array that is zero
    outside the triangle (zero diagonal when diag='U'). Works for alpha == 0 too.
    """
    (s, u, t, d), a, x, alpha = _trsm_inputs(a, b, alpha, side, uplo, transa, diag, check_finite,
                                             copy_a=True)
    b0 = x.copy(order="F")
    m, n = x.shape
    info = _core.lib.dl_dtrsm(s, u, t, d, m, n, alpha, ptr(a), ld(a), ptr(x), ld(x))
    raise_for_info(info, "trsm_vjp", _TRSM_ARGS)
    x_saved = x.copy(order="F")

    def pullback(x_bar):
        bbar = _matrix(x_bar, "x_bar", check_finite)
        _same_shape(bbar, "x_bar", (m, n), "X")
        abar = np.zeros(a.shape, order="F")
        dalpha = np.zeros(1)
        info = _core.lib.dl_dtrsm_rev(ACTIVE_A | ACTIVE_B | ACTIVE_ALPHA, s, u, t, d, m, n, alpha,
                                      ptr(a), ld(a), ptr(abar), ld(abar), ptr(x_saved), ld(x_saved),
                                      ptr(b0), ld(b0), ptr(bbar), ld(bbar), ptr(dalpha))
        raise_for_info(info, "trsm_vjp pullback", _TRSM_ARGS)
        return abar, bbar, float(dalpha[0])

    return x, pullback
