"""The inverse and the determinant: getri (inverse from the LU), inv, det, slogdet, each with
its forward (jvp) and reverse (vjp) rule.

Conventions (as in :mod:`difflapack.lu`, whose argument helpers these functions share):

* The computation runs in the BLAS precision the primal inputs promote to (float32, float64,
  complex64 or complex128; integers become float64) and results keep it. Complex tangents are
  complex perturbations; cotangents follow Enzyme/PyTorch (``z_bar = dL/dRe z + i dL/dIm z``),
  so pullbacks apply conjugate transposes. (JAX's complex cotangents are the conjugates of
  these: ours = ``conj(jax_vjp(conj(w)))``.)
* Inputs are never modified; C- or Fortran-ordered arrays and strided views are accepted;
  non-finite input raises ``ValueError`` (``check_finite=True``). ``None`` for a tangent means
  "this input is constant", for a cotangent passed to a pullback zero. A bad argument raises ``ValueError`` naming it.
* ``lu, piv`` are LAPACK's packed factors and 0-based pivots, as :func:`difflapack.getrf` (and
  ``scipy.linalg.lapack.?getrf``) return them. The derivatives of :func:`getri` are taken with
  respect to the packed factors (dL strictly below the diagonal, dU on and above), the pivots
  held fixed; those of :func:`inv`, :func:`det` and :func:`slogdet` with respect to ``a``.
  Like ``?getri``, :func:`getri` and its rules apply the interchanges ``piv[0..n-2]`` only:
  ``piv[n-1]`` (always ``n-1`` from a square getrf) is neither read nor checked.
* :func:`slogdet_vjp` keeps ``a^{-1}`` for its pullback, computed with the primal by one
  Gauss-Jordan elimination with getrf's partial pivoting (the same pivots and pivot values,
  rounded differently: its ``(sign, logabsdet)`` agree with :func:`slogdet`'s to rounding). A
  nearly singular matrix (pivots spanning more than half the precision's digits; repeated rows
  or columns, say) is redone with getrf, so that singular or not is always :func:`slogdet`'s
  verdict and its values are :func:`slogdet`'s own.
* :func:`inv`'s rules are the inverse's own (``dX = -X dA X``, ``A_bar = -X^H X_bar X^H``),
  not getri's chained through getrf's (the same numbers, for fewer flops).

Singular matrices (an exactly zero pivot U(j,j)):

* ``getri`` / ``inv`` and their rules raise :class:`difflapack.SingularMatrixError` (``info``
  = j+1, LAPACK's): the inverse does not exist. Nearly singular matrices are not detected.
* ``det`` is a polynomial, so its derivative (the adjugate) always exists: with one zero pivot
  (in any position) ``det_jvp`` / ``det_vjp`` return it exactly; with two or more the LU does
  not determine it and they return NaN -- except that an exactly zero tangent / cotangent
  always gives exactly zero.
* ``slogdet`` returns ``(0, -inf)`` like NumPy; ``log|det|`` has no derivative there: its
  tangent is NaN (the real sign's is 0, the complex sign's NaN) and the cotangent of ``a`` is
  NaN unless ``logabsdet_bar`` (and, for complex data, ``sign_bar``) is zero.
"""
from __future__ import annotations

import numpy as np

from . import _core
from ._core import ACTIVE_A, as_scalar, call, ld, precision_of, raise_for_info
from .lu import _check, _matrix, _pivots, _raise_singular, _same_shape, _square, _zeros

__all__ = [
    "getri", "getri_jvp", "getri_vjp",
    "inv", "inv_jvp", "inv_vjp",
    "det", "det_jvp", "det_vjp",
    "slogdet", "slogdet_jvp", "slogdet_vjp",
]

_GETRI_ARGS = ("n", "lu", "lda", "piv")
_INV_ARGS = ("n", "a", "lda", "piv")


# ------------------------------------------------------------------ getri
def _getri_inputs(lu, piv, check_finite):
    prec = precision_of(lu=lu)
    x = _square(lu, "lu", prec, check_finite)   # a fresh copy: the kernels overwrite it
    n = x.shape[0]
    return prec, x, _pivots(piv, n, used=max(n - 1, 0))   # ?getri never reads piv[n-1]


def _getri_call(prec, kernel, routine, *args):
    info = call(prec.kernel(kernel), *args)
    _check(info, routine, _GETRI_ARGS)
    _raise_singular(info, routine)


@_core.bool_keywords("check_finite")
def getri(lu, piv, *, check_finite=True):
    """The inverse of ``a = P L U`` from its packed factors ``lu`` (square) and 0-based pivots
    ``piv``, like ``scipy.linalg.lapack.?getri``. Raises SingularMatrixError if U(i,i) == 0."""
    prec, x, ipiv = _getri_inputs(lu, piv, check_finite)
    n = x.shape[0]
    _getri_call(prec, "getri", "getri", n, x, ld(x), ipiv)
    return x


@_core.bool_keywords("check_finite")
def getri_jvp(lu, piv, dlu, *, check_finite=True):
    """Forward mode of :func:`getri`: ``(x, dx)`` with ``dx = -x dA x``, ``dA = P (dL U +
    L dU)`` for the packed tangent ``dlu`` of the factors (None: zero)."""
    prec, x, ipiv = _getri_inputs(lu, piv, check_finite)
    n = x.shape[0]
    if dlu is None:
        _getri_call(prec, "getri", "getri_jvp", n, x, ld(x), ipiv)
        return x, _zeros((n, n), prec)
    dx = _same_shape(dlu, "dlu", prec, (n, n), check_finite)
    _getri_call(prec, "getri_fwd", "getri_jvp", ACTIVE_A, n, x, ld(x), ipiv, dx, ld(dx))
    return x, dx


@_core.bool_keywords("check_finite")
def getri_vjp(lu, piv, *, check_finite=True):
    """Reverse mode of :func:`getri`: ``(x, pullback)``; ``pullback(x_bar)`` returns the packed
    cotangent of the factors (Lbar strictly below the diagonal, Ubar on and above), i.e.
    ``stril(P^T A_bar U^H) + triu(L^H P^T A_bar)`` with ``A_bar = -x^H x_bar x^H``. The
    pullback keeps a private copy of ``lu`` and ``x`` itself, returned read-only."""
    prec, x, ipiv = _getri_inputs(lu, piv, check_finite)
    n = x.shape[0]
    lu_saved = _matrix(lu, "lu", prec, False)
    _getri_call(prec, "getri", "getri_vjp", n, x, ld(x), ipiv)
    x_saved = x

    def pullback(x_bar):
        lubar = _same_shape(_core.zero_if_none(x_bar, (n, n), prec), "x_bar", prec, (n, n), check_finite)
        rc = call(prec.kernel("getri_rev"), ACTIVE_A, n, lu_saved, ld(lu_saved), ipiv, x_saved, ld(x_saved),
                  lubar, ld(lubar))
        _check(rc, "getri_vjp pullback", _GETRI_ARGS)
        return lubar

    return _core.kept(x), pullback


# ------------------------------------------------------------------ inv
def _inv_inputs(a, check_finite):
    prec = precision_of(a=a)
    x = _square(a, "a", prec, check_finite)
    return prec, x, np.zeros(x.shape[0], dtype=np.int32)


def _inverse(a, check_finite, routine):
    """a^{-1}; errors name `routine`, the function the caller called."""
    prec, x, ipiv = _inv_inputs(a, check_finite)
    n = x.shape[0]
    info = call(prec.kernel("inv"), n, x, ld(x), ipiv)
    _check(info, routine, _INV_ARGS)
    _raise_singular(info, routine)
    return x


@_core.bool_keywords("check_finite")
def inv(a, *, check_finite=True):
    """The inverse of the square matrix ``a`` (LU with partial pivoting, then ?getri), like
    ``numpy.linalg.inv``. Raises SingularMatrixError if an exact zero pivot appears."""
    return _inverse(a, check_finite, "inv")


@_core.bool_keywords("check_finite")
def inv_jvp(a, da, *, check_finite=True):
    """Forward mode of :func:`inv`: ``(x, dx)``, ``dx = -x da x`` (two gemm after the
    primal). ``da=None`` gives zeros."""
    if da is None:
        x = _inverse(a, check_finite, "inv_jvp")
        return x, np.zeros_like(x, order="F")
    prec, x, ipiv = _inv_inputs(a, check_finite)
    n = x.shape[0]
    dx = _same_shape(da, "da", prec, (n, n), check_finite)
    info = call(prec.kernel("inv_fwd"), ACTIVE_A, n, x, ld(x), ipiv, dx, ld(dx))
    _check(info, "inv_jvp", _INV_ARGS)
    _raise_singular(info, "inv_jvp")
    return x, dx


@_core.bool_keywords("check_finite")
def inv_vjp(a, *, check_finite=True):
    """Reverse mode of :func:`inv`: ``(x, pullback)``, ``a_bar = pullback(x_bar) =
    -x^H x_bar x^H`` (two gemm). ``x`` is returned read-only: the pullback keeps it."""
    x = _inverse(a, check_finite, "inv_vjp")
    prec, n = precision_of(a=x), x.shape[0]
    x_saved = x

    def pullback(x_bar):
        abar = _same_shape(_core.zero_if_none(x_bar, (n, n), prec), "x_bar", prec, (n, n), check_finite)
        rc = call(prec.kernel("inv_rev"), ACTIVE_A, n, x_saved, ld(x_saved), abar, ld(abar))
        _check(rc, "inv_vjp pullback", ("active", "n", "x", "ldx", "x_bar", "ldxbar"))
        return abar

    return _core.kept(x), pullback


# ------------------------------------------------------------------ det, slogdet
def _det_inputs(a, check_finite):
    """(prec, a fresh copy that the kernels turn into the LU, pivots)."""
    prec = precision_of(a=a)
    lu = _square(a, "a", prec, check_finite)
    return prec, lu, np.zeros(lu.shape[0], dtype=np.int32)


def _det_check(info, routine):
    if info < 0:
        raise_for_info(info, routine, _INV_ARGS)


@_core.bool_keywords("check_finite")
def det(a, *, check_finite=True):
    """Determinant of the square matrix ``a`` (``sign(P) prod U_ii`` from the LU; exactly 0
    for an exactly singular ``a``), a NumPy scalar of the computation's dtype."""
    prec, lu, ipiv = _det_inputs(a, check_finite)
    out = np.zeros(1, prec.dtype)
    _det_check(call(prec.kernel("det"), lu.shape[0], lu, ld(lu), ipiv, out), "det")
    return out[0]


@_core.bool_keywords("check_finite")
def det_jvp(a, da, *, check_finite=True):
    """Forward mode of :func:`det`: ``(det, ddet)``, ``ddet = det tr(a^{-1} da)``, and the
    adjugate ``tr(adj(a) da)`` when ``a`` is singular (see the module doc)."""
    prec, lu, ipiv = _det_inputs(a, check_finite)
    n = lu.shape[0]
    out, dout = np.zeros(1, prec.dtype), np.zeros(1, prec.dtype)
    if da is None:
        _det_check(call(prec.kernel("det"), n, lu, ld(lu), ipiv, out), "det_jvp")
        return out[0], dout[0]
    dam = _same_shape(da, "da", prec, (n, n), check_finite, copy=False)
    _det_check(call(prec.kernel("det_fwd"), ACTIVE_A, n, lu, ld(lu), ipiv, dam, ld(dam), out, dout), "det_jvp")
    return out[0], dout[0]


@_core.bool_keywords("check_finite")
def det_vjp(a, *, check_finite=True):
    """Reverse mode of :func:`det`: ``(det, pullback)``, ``a_bar = pullback(det_bar) =
    det_bar conj(det) a^{-H}`` (``det_bar adj(a)^H`` when ``a`` is singular)."""
    prec, lu, ipiv = _det_inputs(a, check_finite)
    n = lu.shape[0]
    out = np.zeros(1, prec.dtype)
    _det_check(call(prec.kernel("det"), n, lu, ld(lu), ipiv, out), "det_vjp")

    def pullback(det_bar):
        detbar = as_scalar(0 if det_bar is None else det_bar, "det_bar", prec, check_finite)
        abar = _zeros((n, n), prec)
        _det_check(call(prec.kernel("det_rev"), ACTIVE_A, n, lu, ld(lu), ipiv, detbar, abar, ld(abar)),
                   "det_vjp pullback")
        return abar

    return out[0], pullback


@_core.bool_keywords("check_finite")
def slogdet(a, *, check_finite=True):
    """``(sign, logabsdet)`` of the square matrix ``a`` like ``numpy.linalg.slogdet``: ``sign``
    of the computation's dtype (unit modulus for complex data), ``logabsdet`` real; ``(0,
    -inf)`` for an exactly singular ``a``."""
    prec, lu, ipiv = _det_inputs(a, check_finite)
    sign, logabs = np.zeros(1, prec.dtype), np.zeros(1, prec.real)
    _det_check(call(prec.kernel("slogdet"), lu.shape[0], lu, ld(lu), ipiv, sign, logabs), "slogdet")
    return sign[0], logabs[0]


@_core.bool_keywords("check_finite")
def slogdet_jvp(a, da, *, check_finite=True):
    """Forward mode of :func:`slogdet`: ``((sign, logabsdet), (dsign, dlogabsdet))`` with
    ``t = tr(a^{-1} da)``: ``dlogabsdet = Re t``, ``dsign = i Im(t) sign`` (complex; 0 for
    real data). Singular ``a``: NaN (see the module doc)."""
    prec, lu, ipiv = _det_inputs(a, check_finite)
    n = lu.shape[0]
    sign, logabs = np.zeros(1, prec.dtype), np.zeros(1, prec.real)
    dsign, dlogabs = np.zeros(1, prec.dtype), np.zeros(1, prec.real)
    if da is None:
        _det_check(call(prec.kernel("slogdet"), n, lu, ld(lu), ipiv, sign, logabs), "slogdet_jvp")
    else:
        dam = _same_shape(da, "da", prec, (n, n), check_finite, copy=False)
        _det_check(call(prec.kernel("slogdet_fwd"), ACTIVE_A, n, lu, ld(lu), ipiv, dam, ld(dam), sign, logabs,
                        dsign, dlogabs), "slogdet_jvp")
    return (sign[0], logabs[0]), (dsign[0], dlogabs[0])


@_core.bool_keywords("check_finite")
def slogdet_vjp(a, *, check_finite=True):
    """Reverse mode of :func:`slogdet`: ``((sign, logabsdet), pullback)``, ``a_bar =
    pullback(sign_bar, logabsdet_bar) = c a^{-H}`` with ``c = logabsdet_bar + i Im(conj(sign)
    sign_bar)`` (complex: only the part of ``sign_bar`` tangent to the unit circle counts;
    real data: ``sign_bar`` is ignored, the sign being piecewise constant). ``sign_bar=None``
    means zero. The primal comes with ``a^{-1}`` from one Gauss-Jordan elimination with getrf's
    pivots (faster than getrf and an inversion): it equals :func:`slogdet`'s to rounding, and is
    :func:`slogdet`'s own (getrf's) when ``a`` is nearly singular."""
    # The residual is a^{-1} itself, by Gauss-Jordan elimination (dl_?slogdet_inv: getrf's
    # pivots, 2 n^3 flops in less time than getrf + inverting its factors), so the pullback is
    # one scaled conjugate transpose. A matrix whose pivots span more than half the precision's
    # digits (min|d| / max|d| <= sqrt(eps): nearly singular) is redone with getrf, as slogdet
    # does: whether a pivot of a matrix singular to working precision comes out exactly zero
    # depends on the elimination's rounding (Gauss-Jordan's stays up to ~300 n eps where getrf's
    # is exactly 0, for repeated rows), and the verdict must be slogdet's.
    prec, x, ipiv = _det_inputs(a, check_finite)
    n = x.shape[0]
    sign, logabs, ratio = np.zeros(1, prec.dtype), np.zeros(1, prec.real), np.zeros(1, prec.real)
    info = call(prec.kernel("slogdet_inv"), n, x, ld(x), ipiv, sign, logabs, ratio)
    _det_check(info, "slogdet_vjp")
    from_lu = info > 0 or ratio[0] <= np.sqrt(np.finfo(prec.real).eps)
    if from_lu:
        prec, x, ipiv = _det_inputs(a, check_finite)
        _det_check(call(prec.kernel("slogdet"), n, x, ld(x), ipiv, sign, logabs), "slogdet_vjp")

    def pullback(sign_bar, logabsdet_bar):
        signbar = as_scalar(0 if sign_bar is None else sign_bar, "sign_bar", prec, check_finite)
        logabsdet_bar = 0 if logabsdet_bar is None else logabsdet_bar
        if np.iscomplexobj(_core.asarray(logabsdet_bar, "logabsdet_bar")):
            raise ValueError("logabsdet_bar must be real (log|det| is a real output)")
        labar = as_scalar(logabsdet_bar, "logabsdet_bar", precision_of(a=prec.real.type(0)), check_finite)
        abar = _zeros((n, n), prec)
        if from_lu:
            rc = call(prec.kernel("slogdet_rev"), ACTIVE_A, n, x, ld(x), ipiv, signbar, labar, abar, ld(abar))
        else:
            rc = call(prec.kernel("slogdet_inv_rev"), ACTIVE_A, n, x, ld(x), sign, signbar, labar, abar, ld(abar))
        _det_check(rc, "slogdet_vjp pullback")
        return abar

    return (sign[0], logabs[0]), pullback
