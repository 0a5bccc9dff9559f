"""Cholesky factorisation and solves with it: primal, jvp (forward) and vjp (reverse) rules for
``potrf`` (the factor), ``potrs`` (solve with the factor) and ``posv`` (factor and solve).

Conventions (as for the LU and triangular rules; see :mod:`difflapack.lu`):

* The computation runs in the BLAS precision the primal inputs promote to (float32, float64,
  complex64 or complex128; integers become float64) and results keep it. Complex tangents are
  complex perturbations; cotangents follow Enzyme/PyTorch (``z_bar = dL/dRe z + i dL/dIm z``).
* Inputs are never modified; C- or Fortran-ordered arrays and strided views are accepted;
  ``check_finite=True`` rejects inf/NaN in what is read (for matrices: the ``uplo``
  triangle). ``None`` for a tangent means "this input is constant", for a cotangent zero. A bad argument raises
  ``ValueError`` naming it (LAPACK's ``info < 0`` rule). ``b`` may be 1-D ``(n,)`` or 2-D
  ``(n, nrhs)``; results keep its dimensionality.
* ``uplo`` ('L' default, or 'U') names the triangle that is read and written. The Hermitian
  (real: symmetric) matrix factored is the one LAPACK sees in it: the other triangle is the
  conjugate transpose of the stored one, the diagonal its real part (a finite ``Im a[i, i]``
  changes nothing; inf/NaN there is rejected by ``check_finite`` and otherwise gives NaN, as in
  LAPACK's ``zpotrf``; the same holds for ``da`` and ``c_bar``). The factor ``c`` is ``L`` with ``A = L L^H`` ('L') or ``U`` with ``A = U^H U`` ('U'),
  returned in that triangle, zero outside it.
* Derivatives are taken with respect to the stored triangle: ``da`` is read on the ``uplo``
  triangle only (a finite Im of its diagonal ignored), ``dc`` has a real diagonal; ``a_bar`` is the
  cotangent of the stored entries: with ``G`` the cotangent of the full Hermitian matrix,
  ``a_bar = tril(G + G^H, -1) + diag(Re G)`` for 'L' (``triu`` for 'U'), zero outside the
  triangle, real on the diagonal. JAX and PyTorch return ``(G + G^H)/2`` instead.
* ``potrs`` takes the factor as a general triangle (LAPACK reads its diagonal as stored), so
  ``c_bar`` of a solve has a complex diagonal for complex data.

Not positive definite (LAPACK ``info = j > 0``: the leading minor of order j is not positive):

* ``potrf`` and ``posv`` return ``info`` like SciPy (``c`` then holds LAPACK's partial work, and
  ``posv``'s ``x`` is a copy of ``b``). Their jvp and vjp raise
  :class:`difflapack.NotPositiveDefiniteError` (a ``numpy.linalg.LinAlgError`` with ``.info``):
  the factor beyond the leading ``j - 1`` block, and the solution, do not exist. (The C kernels
  never raise: they keep the leading block's exact derivative and return NaN where a derivative
  is needed and undefined.)
* ``potrs`` and its rules raise :class:`difflapack.SingularMatrixError` if ``c`` has an exactly
  zero diagonal entry and there is something to solve: a ``b`` without columns (``(n, 0)``)
  returns at once, like LAPACK's quick return, without reading ``c``.
"""
from __future__ import annotations

import numpy as np

from . import _core
from ._core import ACTIVE_A, ACTIVE_B, WANT_DLU, NotPositiveDefiniteError, SingularMatrixError, call, ld
from ._core import precision_of
from .lu import _check, _kept_out, _rhs, _rhs_like, _shape_out, _zeros
from .triangular import _triangle

__all__ = [
    "potrf", "potrf_jvp", "potrf_vjp",
    "potrs", "potrs_jvp", "potrs_vjp",
    "posv", "posv_jvp", "posv_vjp",
]

_POTRF_ARGS = ("uplo", "n", "a", "lda")
_SOLVE_ARGS = ("uplo", "n", "nrhs", "a", "lda", "b", "ldb")


# ------------------------------------------------------------------ argument handling
def _uplo(uplo) -> bytes:
    return _core.flag(uplo, "uplo", "UL")


def _stored(a, name, prec, u, check_finite):
    """A fresh Fortran array holding the ``u`` triangle of the square ``a`` and zeros outside it
    (only that triangle is checked). The kernels never write the other triangle (potrf leaves
    it as it was; tangents and cotangents pass it through), so every factor, tangent and
    cotangent made from such an array is zero there without a second pass."""
    return _triangle(a, name, prec, u, b"N", check_finite, copy=True)


def _stored_like(d, name, prec, u, n, check_finite):
    """A fresh copy of a tangent / cotangent of a stored triangle, shaped n x n."""
    arr = _stored(d, name, prec, u, check_finite)
    if arr.shape != (n, n):
        raise ValueError(f"{name} must have shape {(n, n)}; got {arr.shape}")
    return arr


def _raise_not_pd(info, routine):
    if info > 0:
        raise NotPositiveDefiniteError(
            f"{routine}: the matrix is not positive definite: its leading minor of order {info} is not "
            f"positive (LAPACK info = {info}); the Cholesky factor and its derivative do not exist", info)


def _raise_zero_diagonal(info, routine):
    if info > 0:
        raise SingularMatrixError(
            f"{routine}: the factor has an exactly zero diagonal entry c[{info - 1}, {info - 1}] "
            f"(LAPACK info = {info})", info)


# ------------------------------------------------------------------ potrf
def _factor(a, uplo, check_finite):
    u = _uplo(uplo)
    prec = precision_of(a=a)
    c = _stored(a, "a", prec, u, check_finite)
    return prec, u, c


@_core.bool_keywords("check_finite")
def potrf(a, uplo="L", *, check_finite=True):
    """Cholesky factorisation of the Hermitian positive definite matrix given by the ``uplo``
    triangle of ``a`` (LAPACK ``?potrf``): ``(c, info)``, ``c`` the factor in that triangle and
    zero outside it. ``info = j > 0``: not positive definite (see the module doc)."""
    prec, u, c = _factor(a, uplo, check_finite)
    info = call(prec.kernel("potrf"), u, c.shape[0], c, ld(c))
    _check(info, "potrf", _POTRF_ARGS)
    return c, int(info)


@_core.bool_keywords("check_finite")
def potrf_jvp(a, da, uplo="L", *, check_finite=True):
    """Forward mode of :func:`potrf`: ``(c, info), dc``.

    ``dc`` = the stored triangle of ``L Phi(L^{-1} dA L^{-H})`` ('L'; ``Phi`` keeps the strict
    lower triangle and half the diagonal; 'U': its conjugate transpose) with ``dA`` the
    Hermitian matrix of ``da``'s ``uplo`` triangle; zero outside the triangle, real diagonal.
    ``da=None`` gives zeros. Raises NotPositiveDefiniteError if ``a`` is not positive
    definite."""
    prec, u, c = _factor(a, uplo, check_finite)
    n = c.shape[0]
    dc = _zeros((n, n), prec) if da is None else _stored_like(da, "da", prec, u, n, check_finite)
    info = call(prec.kernel("potrf_fwd"), ACTIVE_A if da is not None else 0, u, n, c, ld(c), dc, ld(dc))
    _check(info, "potrf_jvp", _POTRF_ARGS)
    _raise_not_pd(info, "potrf_jvp")
    return (c, 0), dc


@_core.bool_keywords("check_finite")
def potrf_vjp(a, uplo="L", *, check_finite=True):
    """Reverse mode of :func:`potrf`: ``(c, info), pullback`` with ``a_bar = pullback(c_bar)``.
    Only the ``uplo`` triangle of ``c_bar`` is read (the factor is zero outside it), not the
    imaginary part of its diagonal (the factor's diagonal is real). ``a_bar`` is the cotangent
    of the stored triangle (real diagonal; zero outside the triangle; see the module doc).
    Raises NotPositiveDefiniteError (here, not in the pullback) if ``a`` is not positive
    definite. ``c`` is returned read-only: it is the factor the pullback keeps."""
    prec, u, c = _factor(a, uplo, check_finite)
    n = c.shape[0]
    info = call(prec.kernel("potrf"), u, n, c, ld(c))
    _check(info, "potrf_vjp", _POTRF_ARGS)
    _raise_not_pd(info, "potrf_vjp")

    def pullback(c_bar):
        abar = _stored_like(_core.zero_if_none(c_bar, (n, n), prec), "c_bar", prec, u, n, check_finite)
        rc = call(prec.kernel("potrf_rev"), ACTIVE_A, u, n, c, ld(c), abar, ld(abar))
        _check(rc, "potrf_vjp pullback", _POTRF_ARGS)
        return abar

    return (_core.kept(c), 0), pullback


# ------------------------------------------------------------------ potrs
def _triangle_and_rhs(m, name, b, uplo, check_finite):
    """potrs's factor c / posv's matrix a (`name`) as a fresh Fortran copy of its ``uplo``
    triangle, and the right-hand side b: ``prec, u, m, x, was_1d``."""
    u = _uplo(uplo)
    prec = precision_of(**{name: m, "b": b})
    mm = _stored(m, name, prec, u, check_finite)
    x, was_1d = _rhs(b, "b", prec, mm.shape[0], check_finite)
    return prec, u, mm, x, was_1d


@_core.bool_keywords("check_finite")
def potrs(c, b, uplo="L", *, check_finite=True):
    """Solve ``A x = b`` with the Cholesky factor ``c`` of A (its ``uplo`` triangle, as
    :func:`potrf` returns it; LAPACK ``?potrs``). Raises SingularMatrixError if ``c`` has an
    exactly zero diagonal entry (unless ``b`` has no columns: nothing is solved)."""
    prec, u, cm, x, was_1d = _triangle_and_rhs(c, "c", b, uplo, check_finite)
    n, nrhs = x.shape
    info = call(prec.kernel("potrs"), u, n, nrhs, cm, ld(cm), x, ld(x))
    _check(info, "potrs", _SOLVE_ARGS)
    _raise_zero_diagonal(info, "potrs")
    return _shape_out(x, was_1d)


@_core.bool_keywords("check_finite")
def potrs_jvp(c, b, dc, db, uplo="L", *, check_finite=True):
    """Forward mode of :func:`potrs`: ``x, dx`` with ``dx = A^{-1} (db - dA x)``, ``dA = dL L^H
    + L dL^H`` ('U': ``dU^H U + U^H dU``) for the tangent ``dc`` of the factor (its ``uplo``
    triangle, complex diagonal included). ``dc`` / ``db`` may be None (constant)."""
    prec, u, cm, x, was_1d = _triangle_and_rhs(c, "c", b, uplo, check_finite)
    n, nrhs = x.shape
    active = 0
    dcm = None
    if dc is not None:
        dcm = _stored_like(dc, "dc", prec, u, n, check_finite)
        active |= ACTIVE_A
    if db is not None:
        dx = _rhs_like(db, "db", prec, (n, nrhs), was_1d, check_finite)
        active |= ACTIVE_B
    else:
        dx = _zeros((n, nrhs), prec)
    info = call(prec.kernel("potrs_fwd"), active, u, n, nrhs, cm, ld(cm), dcm, ld(dcm) if dcm is not None else 1,
                x, ld(x), dx, ld(dx))
    _check(info, "potrs_jvp", _SOLVE_ARGS)
    _raise_zero_diagonal(info, "potrs_jvp")
    return _shape_out(x, was_1d), _shape_out(dx, was_1d)


@_core.bool_keywords("check_finite")
@_core.real_cotangents("c", "b")
def potrs_vjp(c, b, uplo="L", *, check_finite=True):
    """Reverse mode of :func:`potrs`: ``x, pullback`` with ``c_bar, b_bar = pullback(x_bar)``:
    ``b_bar = A^{-1} x_bar`` and ``c_bar`` the cotangent of the factor's ``uplo`` triangle (zero
    outside it; complex diagonal for complex data, since potrs reads it as stored). The
    pullback keeps a private copy of the factor; ``x`` is returned read-only (the pullback
    keeps it)."""
    prec, u, cm, x, was_1d = _triangle_and_rhs(c, "c", b, uplo, check_finite)
    n, nrhs = x.shape
    info = call(prec.kernel("potrs"), u, n, nrhs, cm, ld(cm), x, ld(x))
    _check(info, "potrs_vjp", _SOLVE_ARGS)
    _raise_zero_diagonal(info, "potrs_vjp")

    def pullback(x_bar):
        x_bar = _core.zero_if_none(x_bar, (n,) if was_1d else (n, nrhs), prec)
        bbar = _rhs_like(x_bar, "x_bar", prec, (n, nrhs), was_1d, check_finite)
        cbar = _zeros((n, n), prec)
        rc = call(prec.kernel("potrs_rev"), ACTIVE_A | ACTIVE_B, u, n, nrhs, cm, ld(cm), cbar, ld(cbar),
                  x, ld(x), bbar, ld(bbar))
        _check(rc, "potrs_vjp pullback", _SOLVE_ARGS)
        return cbar, _shape_out(bbar, was_1d)

    return _kept_out(x, was_1d), pullback


# ------------------------------------------------------------------ posv


@_core.bool_keywords("check_finite")
def posv(a, b, uplo="L", *, check_finite=True):
    """Solve ``A x = b`` for the Hermitian positive definite A given by the ``uplo`` triangle
    of ``a`` (LAPACK ``?posv``): ``(c, x, info)`` with the factor ``c`` as :func:`potrf` returns
    it. ``info = j > 0``: not positive definite, x is not computed (a copy of b)."""
    prec, u, c, x, was_1d = _triangle_and_rhs(a, "a", b, uplo, check_finite)
    n, nrhs = x.shape
    info = call(prec.kernel("posv"), u, n, nrhs, c, ld(c), x, ld(x))
    _check(info, "posv", _SOLVE_ARGS)
    return c, _shape_out(x, was_1d), int(info)


@_core.bool_keywords("check_finite")
def posv_jvp(a, b, da, db, uplo="L", *, check_finite=True):
    """Forward mode of :func:`posv`: ``(c, x, info), (dc, dx)`` with ``dx = A^{-1} (db - dA x)``
    (``dA`` the Hermitian matrix of ``da``'s ``uplo`` triangle) and ``dc`` as
    :func:`potrf_jvp`. ``da`` / ``db`` may be None (constant). Raises NotPositiveDefiniteError
    if A is not positive definite."""
    prec, u, c, x, was_1d = _triangle_and_rhs(a, "a", b, uplo, check_finite)
    n, nrhs = x.shape
    active = 0
    dam = None
    if da is not None:
        dam = _stored_like(da, "da", prec, u, n, check_finite)
        active |= ACTIVE_A | WANT_DLU
    if db is not None:
        dx = _rhs_like(db, "db", prec, (n, nrhs), was_1d, check_finite)
        active |= ACTIVE_B
    else:
        dx = _zeros((n, nrhs), prec)
    info = call(prec.kernel("posv_fwd"), active, u, n, nrhs, c, ld(c), dam, ld(dam) if dam is not None else 1,
                x, ld(x), dx, ld(dx))
    _check(info, "posv_jvp", _SOLVE_ARGS)
    _raise_not_pd(info, "posv_jvp")
    dc = _zeros((n, n), prec) if dam is None else dam
    return (c, _shape_out(x, was_1d), 0), (dc, _shape_out(dx, was_1d))


@_core.bool_keywords("check_finite")
@_core.real_cotangents("a", "b")
def posv_vjp(a, b, uplo="L", *, check_finite=True):
    """Reverse mode of :func:`posv`: ``(c, x, info), pullback`` with
    ``a_bar, b_bar = pullback(x_bar, c_bar=None)``: ``b_bar = A^{-1} x_bar`` and ``a_bar`` the
    stored-triangle cotangent of ``-b_bar x^H`` plus the :func:`potrf_vjp` pullback of
    ``c_bar`` (skipped when it is None or zero): one extra solve and one rank-2 nrhs update,
    the cost of differentiating ``A x = b``. ``x_bar=None`` means zero. Raises
    NotPositiveDefiniteError if A is not positive definite. The pullback keeps private copies
    of the factor and of x."""
    prec, u, c, x, was_1d = _triangle_and_rhs(a, "a", b, uplo, check_finite)
    n, nrhs = x.shape
    info = call(prec.kernel("posv"), u, n, nrhs, c, ld(c), x, ld(x))
    _check(info, "posv_vjp", _SOLVE_ARGS)
    _raise_not_pd(info, "posv_vjp")

    def pullback(x_bar, c_bar=None):
        bbar = _zeros((n, nrhs), prec) if x_bar is None else \
            _rhs_like(x_bar, "x_bar", prec, (n, nrhs), was_1d, check_finite)
        abar = _zeros((n, n), prec) if c_bar is None else _stored_like(c_bar, "c_bar", prec, u, n, check_finite)
        rc = call(prec.kernel("posv_rev"), ACTIVE_A | ACTIVE_B, u, n, nrhs, c, ld(c), abar, ld(abar),
                  x, ld(x), bbar, ld(bbar))
        _check(rc, "posv_vjp pullback", _SOLVE_ARGS)
        return abar, _shape_out(bbar, was_1d)

    return (_core.kept(c), _kept_out(x, was_1d), 0), pullback
