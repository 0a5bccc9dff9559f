"""LU with partial pivoting and solves with it: primal, jvp (forward) and vjp (reverse) rules.

Conventions (same as the triangular solves; see :mod:`difflapack.triangular`):

* The computation runs in the BLAS precision the primal inputs promote to (float32, float64,
  complex64 or complex128; integers become float64) and results keep it. Complex tangents are
  complex perturbations; cotangents follow Enzyme/PyTorch (``z_bar = dL/dRe z + i dL/dIm z``),
  so pullbacks apply conjugate transposes, and ``trans='C'`` is its own case.
* Inputs are never modified; C- or Fortran-ordered arrays and strided views are accepted;
  non-finite input raises ``ValueError`` (``check_finite=True``).
* ``None`` for a tangent means "this input is constant", for a cotangent passed to a pullback
  zero.
* A bad argument raises ``ValueError`` naming it (LAPACK's ``info < 0`` rule).
* ``lu`` is LAPACK's packed factorisation ``a = P L U`` (L unit lower trapezoidal strictly
  below the diagonal, U upper trapezoidal on and above it), ``piv`` the 0-based row
  interchanges (row i was swapped with row piv[i]) exactly like ``scipy.linalg.lapack.dgetrf``.
* The packed factors carry the precision: ``getrs(lu, piv, b)`` runs in the precision ``lu`` and
  ``b`` promote to.
* The pivots are held fixed by every derivative: they are what the primal chose.
* ``b`` may be 1-D ``(n,)`` or 2-D ``(n, nrhs)``; results keep ``b``'s dimensionality.

Singular matrices (an exactly zero pivot U(j,j), LAPACK ``info = j+1 > 0``):

* ``getrf`` returns ``info`` like LAPACK/SciPy (the factorisation is completed).
  ``getrf_jvp`` / ``getrf_vjp`` raise :class:`difflapack.SingularMatrixError` when the
  derivative needs the zero pivot, i.e. U(j,j) == 0 for a column j with rows below the
  diagonal (j < min(m, n) and j < m - 1). A zero LAST pivot of a square or wide matrix leaves
  the derivative well defined: they return it (finite) together with ``info > 0``.
* ``getrs`` / ``getrs_jvp`` / ``getrs_vjp`` raise ``SingularMatrixError`` if U(i,i) == 0 and
  there is something to solve (a ``b`` of shape ``(n, 0)`` returns at once, like LAPACK's quick
  return, without reading ``lu``).
* ``gesv`` returns ``info > 0`` like SciPy's ``dgesv`` (``x`` is then a copy of ``b``);
  ``solve``, ``gesv_jvp``, ``gesv_vjp`` (and ``solve_jvp`` / ``solve_vjp``) raise
  ``SingularMatrixError``.
"""
from __future__ import annotations

import numpy as np

from . import _core
from ._core import ACTIVE_A, ACTIVE_B, WANT_DLU, SingularMatrixError, call, ld, precision_of

__all__ = [
    "getrf", "getrf_jvp", "getrf_vjp",
    "getrs", "getrs_jvp", "getrs_vjp",
    "gesv", "gesv_jvp", "gesv_vjp",
    "solve", "solve_jvp", "solve_vjp",
]

_GETRF_ARGS = ("m", "n", "a", "lda", "piv")
_GETRS_ARGS = ("trans", "n", "nrhs", "lu", "lda", "piv", "b", "ldb")
_GESV_ARGS = ("n", "nrhs", "a", "lda", "piv", "b", "ldb")


# ------------------------------------------------------------------ argument handling
def _matrix(a, name, prec, check_finite, copy=True):
    """A Fortran-ordered 2-D array of the computation's dtype; a fresh copy when ``copy`` (the
    C side writes it, or a pullback keeps it), made and checked in one pass when ``a`` already
    is a column-major array of that dtype (_core.copy_checked)."""
    fused = _core.copy_checked(a, prec) if copy else None
    if fused is not None:
        arr, nonfinite = fused
    else:
        arr = _core.as_matrix(a, name, prec, copy=copy)
        nonfinite = _core.nonfinite_read(arr, prec) if check_finite else False
        if nonfinite is None:  # empty, or not column-major (a length-1 axis's stride)
            nonfinite = not _core.all_finite(arr)
    if check_finite and nonfinite:
        raise ValueError(f"{name} must contain only finite values")
    return arr


def _same_shape(d, name, prec, shape, check_finite, copy=True):
    arr = _matrix(d, name, prec, check_finite, copy)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got {arr.shape}")
    return arr


def _square(a, name, prec, check_finite, copy=True):
    arr = _matrix(a, name, prec, check_finite, copy)
    if arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square matrix; got shape {arr.shape}")
    return arr


def _rhs(b, name, prec, n, check_finite):
    """(fresh 2-D Fortran copy of b, was_1d). b is (n,) or (n, nrhs)."""
    arr = _core.asarray(b, name)
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} must be a 1-D (n,) or 2-D (n, nrhs) array; got shape {arr.shape}")
    was_1d = arr.ndim == 1
    mat = _matrix(arr.reshape(-1, 1) if was_1d else arr, name, prec, check_finite)
    if mat.shape[0] != n:
        raise ValueError(f"{name} must have {n} rows to match the matrix; got shape {arr.shape}")
    return mat, was_1d


def _rhs_like(d, name, prec, shape, was_1d, check_finite):
    """A fresh 2-D copy of a tangent/cotangent shaped like b ((n,) if b was 1-D)."""
    arr = _core.asarray(d, name)
    want = (shape[0],) if was_1d else shape
    if arr.shape != want:
        raise ValueError(f"{name} must have shape {want}; got {arr.shape}")
    return _matrix(arr.reshape(shape), name, prec, check_finite)


def _zeros(shape, prec):
    return np.zeros(shape, prec.dtype, order="F")


def _shape_out(x, was_1d):
    return x[:, 0].copy() if was_1d else x


def _kept_out(x, was_1d):
    """A solution the pullback keeps, shaped as the caller's b, read-only (_core.kept)."""
    x = _core.kept(x)  # the owner itself read-only: a view's flag could be set back otherwise
    return x[:, 0] if was_1d else x


def _pivots(piv, n, used=None):
    """LAPACK's 1-based int32 ipiv from SciPy's 0-based piv, validated. Only the first ``used``
    entries (default all n) are read and checked; the others are set to their own index (no
    interchange): ?getri never reads IPIV(N)."""
    arr = _core.asarray(piv, "piv")
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"piv must be a 1-D array of length {n}; got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"piv must hold integers; got dtype {arr.dtype}")
    used = n if used is None else used
    head = arr[:used]
    if head.size and (head.min() < 0 or head.max() >= n):
        what = "piv entries" if used == n else f"piv[:{used}] entries"
        raise ValueError(f"{what} must lie in [0, {n}); got values in [{head.min()}, {head.max()}]")
    ipiv = np.arange(1, n + 1, dtype=np.int32)
    ipiv[:used] = head.astype(np.int32) + 1
    return ipiv


def _zero_based(ipiv):
    return (ipiv - 1).astype(np.int32)


def _trans(trans):
    return _core.flag(trans, "trans", "NTC")


def _derivative_breakdown(lu):
    """1-based position of a zero pivot the LU derivative divides by (0 if none)."""
    m, n = lu.shape
    last = min(m, n, m - 1)
    d = np.diagonal(lu)[:max(last, 0)]
    zero = np.flatnonzero(d == 0)
    return int(zero[0]) + 1 if zero.size else 0


def _raise_breakdown(position, routine):
    if position:
        raise SingularMatrixError(
            f"{routine}: the LU derivative is undefined: exactly zero pivot U({position - 1},{position - 1}) "
            f"(0-based; LAPACK info = {position}) with rows below it", position)


def _raise_singular(info, routine):
    if info > 0:
        raise SingularMatrixError(
            f"{routine}: the matrix is singular: U({info - 1},{info - 1}) == 0 (0-based; LAPACK info = {info})", info)


def _check(info, routine, argnames):
    if info < 0:
        _core.raise_for_info(info, routine, argnames)


# ------------------------------------------------------------------ getrf
def _factor(a, check_finite):
    prec = precision_of(a=a)
    lu = _matrix(a, "a", prec, check_finite)
    m, n = lu.shape
    ipiv = np.zeros(min(m, n), dtype=np.int32)
    info = call(prec.kernel("getrf"), m, n, lu, ld(lu), ipiv)
    _check(info, "getrf", _GETRF_ARGS)
    return prec, lu, ipiv, int(info)


@_core.bool_keywords("check_finite")
def getrf(a, *, check_finite=True):
    """LU factorisation with partial pivoting of the m x n matrix ``a`` (any shape).

    Returns ``(lu, piv, info)`` like ``scipy.linalg.lapack.?getrf``: packed factors, 0-based
    pivots of length min(m, n), and LAPACK's info (``info = j+1 > 0``: U(j,j) is exactly zero;
    the factorisation is still completed)."""
    _, lu, ipiv, info = _factor(a, check_finite)
    return lu, _zero_based(ipiv), info


@_core.bool_keywords("check_finite")
def getrf_jvp(a, da, *, check_finite=True):
    """Forward mode of :func:`getrf`: ``(lu, piv, info), dlu``.

    ``dlu`` is the packed tangent of the factors (dL strictly below the diagonal, dU on and
    above it) with the pivots held fixed: P^T da = dL U + L dU. ``da=None`` gives zeros.
    Raises SingularMatrixError if the derivative needs a zero pivot (see the module doc)."""
    if da is None:
        prec, lu, ipiv, info = _factor(a, check_finite)
        _raise_breakdown(_derivative_breakdown(lu), "getrf_jvp")
        return (lu, _zero_based(ipiv), info), _zeros(lu.shape, prec)
    prec = precision_of(a=a)
    lu = _matrix(a, "a", prec, check_finite)
    m, n = lu.shape
    dlu = _same_shape(da, "da", prec, (m, n), check_finite)
    ipiv = np.zeros(min(m, n), dtype=np.int32)
    info = call(prec.kernel("getrf_fwd"), ACTIVE_A, m, n, lu, ld(lu), ipiv, dlu, ld(dlu))
    _check(info, "getrf_jvp", _GETRF_ARGS)
    _raise_breakdown(_derivative_breakdown(lu), "getrf_jvp")
    return (lu, _zero_based(ipiv), int(info)), dlu


@_core.bool_keywords("check_finite")
def getrf_vjp(a, *, check_finite=True):
    """Reverse mode of :func:`getrf`: ``(lu, piv, info), pullback`` with
    ``a_bar = pullback(lu_bar)``; ``lu_bar`` is the cotangent of the packed factors (all
    m x n entries are read: strictly lower = L's, upper = U's). Raises SingularMatrixError
    (here, not in the pullback) if the derivative needs a zero pivot. The pullback keeps the
    factors, returned read-only, and may be called any number of times."""
    prec, lu, ipiv, info = _factor(a, check_finite)
    _raise_breakdown(_derivative_breakdown(lu), "getrf_vjp")
    m, n = lu.shape

    def pullback(lu_bar):
        abar = _same_shape(_core.zero_if_none(lu_bar, (m, n), prec), "lu_bar", prec, (m, n), check_finite)
        rc = call(prec.kernel("getrf_rev"), ACTIVE_A, m, n, lu, ld(lu), ipiv, abar, ld(abar))
        _check(rc, "getrf_vjp pullback", _GETRF_ARGS)
        return abar

    return (_core.kept(lu), _zero_based(ipiv), info), pullback


# ------------------------------------------------------------------ getrs
def _solve_inputs(lu, piv, b, check_finite, copy_lu):
    prec = precision_of(lu=lu, b=b)
    lu = _square(lu, "lu", prec, check_finite, copy=copy_lu)
    n = lu.shape[0]
    ipiv = _pivots(piv, n)
    bm, was_1d = _rhs(b, "b", prec, n, check_finite)
    return prec, lu, ipiv, bm, was_1d


def _solve_in_place(prec, t: bytes, lu: np.ndarray, ipiv: np.ndarray, x: np.ndarray, routine: str) -> None:
    """x := op(A)^{-1} x with the packed factors (the primal of getrs and of its rules)."""
    n, nrhs = x.shape
    info = call(prec.kernel("getrs"), t, n, nrhs, lu, ld(lu), ipiv, x, ld(x))
    _check(info, routine, _GETRS_ARGS)
    _raise_singular(info, routine)


@_core.bool_keywords("check_finite")
def getrs(lu, piv, b, trans="N", *, check_finite=True):
    """Solve op(A) x = b with A = P L U given by :func:`getrf` (``lu`` square, ``piv``
    0-based) like ``scipy.linalg.lapack.?getrs``. trans: 'N' (A x = b), 'T' (A^T x = b) or
    'C' (A^H x = b). Raises SingularMatrixError if U(i,i) == 0 (unless b has no columns)."""
    t = _trans(trans)
    prec, lu, ipiv, x, was_1d = _solve_inputs(lu, piv, b, check_finite, copy_lu=False)
    _solve_in_place(prec, t, lu, ipiv, x, "getrs")
    return _shape_out(x, was_1d)


@_core.bool_keywords("check_finite")
def getrs_jvp(lu, piv, b, dlu, db, trans="N", *, check_finite=True):
    """Forward mode of :func:`getrs`: ``x, dx``.

    ``dlu`` is the tangent of the packed factors (dL from its strict lower triangle, dU from
    its upper triangle), ``db`` that of b; either may be None (constant). Pivots are constant.
    dx = op(A)^{-1} (db - op(dA) x) with dA = P (dL U + L dU)."""
    t = _trans(trans)
    prec, lu, ipiv, x, was_1d = _solve_inputs(lu, piv, b, check_finite, copy_lu=False)
    n, nrhs = x.shape
    active = 0
    dlum = None
    if dlu is not None:
        dlum = _same_shape(dlu, "dlu", prec, (n, n), check_finite, copy=False)
        active |= ACTIVE_A
    if db is not None:
        dx = _rhs_like(db, "db", prec, (n, nrhs), was_1d, check_finite)
        active |= ACTIVE_B
    else:
        dx = _zeros((n, nrhs), prec)
    info = call(prec.kernel("getrs_fwd"), active, t, n, nrhs, lu, ld(lu), dlum,
                ld(dlum) if dlum is not None else 1, ipiv, x, ld(x), dx, ld(dx))
    _check(info, "getrs_jvp", _GETRS_ARGS)
    _raise_singular(info, "getrs_jvp")
    return _shape_out(x, was_1d), _shape_out(dx, was_1d)


@_core.bool_keywords("check_finite")
@_core.real_cotangents("lu", "b")
def getrs_vjp(lu, piv, b, trans="N", *, check_finite=True):
    """Reverse mode of :func:`getrs`: ``x, pullback`` with
    ``lu_bar, b_bar = pullback(x_bar)``. ``lu_bar`` is the packed cotangent of the factors
    (Lbar strictly below the diagonal, Ubar on and above it; a full n x n array),
    ``b_bar = op(A)^{-H} x_bar``. The pullback keeps a private copy of lu and x itself,
    returned read-only."""
    t = _trans(trans)
    prec, lu, ipiv, x, was_1d = _solve_inputs(lu, piv, b, check_finite, copy_lu=True)
    n, nrhs = x.shape
    _solve_in_place(prec, t, lu, ipiv, x, "getrs_vjp")

    def pullback(x_bar):
        x_bar = _core.zero_if_none(x_bar, (n,) if was_1d else (n, nrhs), prec)
        bbar = _rhs_like(x_bar, "x_bar", prec, (n, nrhs), was_1d, check_finite)
        lubar = _zeros((n, n), prec)
        rc = call(prec.kernel("getrs_rev"), ACTIVE_A | ACTIVE_B, t, n, nrhs, lu, ld(lu), lubar, ld(lubar),
                  ipiv, x, ld(x), bbar, ld(bbar))
        _check(rc, "getrs_vjp pullback", _GETRS_ARGS)
        return lubar, _shape_out(bbar, was_1d)

    return _kept_out(x, was_1d), pullback


# ------------------------------------------------------------------ gesv
def _gesv_inputs(a, b, check_finite):
    prec = precision_of(a=a, b=b)
    am = _square(a, "a", prec, check_finite)
    n = am.shape[0]
    bm, was_1d = _rhs(b, "b", prec, n, check_finite)
    return prec, am, bm, was_1d


@_core.bool_keywords("check_finite")
def gesv(a, b, *, check_finite=True):
    """Solve a x = b by LU with partial pivoting (``a`` square): ``(lu, piv, x, info)`` like
    ``scipy.linalg.lapack.?gesv``. ``info = i > 0``: U(i-1,i-1) is exactly zero, x is not
    computed (a copy of b is returned)."""
    prec, lu, x, was_1d = _gesv_inputs(a, b, check_finite)
    n, nrhs = x.shape
    ipiv = np.zeros(n, dtype=np.int32)
    info = call(prec.kernel("gesv"), n, nrhs, lu, ld(lu), ipiv, x, ld(x))
    _check(info, "gesv", _GESV_ARGS)
    return lu, _zero_based(ipiv), _shape_out(x, was_1d), int(info)


def _gesv_forward(a, b, da, db, want_dlu, check_finite, routine):
    prec, lu, x, was_1d = _gesv_inputs(a, b, check_finite)
    n, nrhs = x.shape
    ipiv = np.zeros(n, dtype=np.int32)
    active = 0
    dam = None
    if da is not None:
        # with DL_WANT_DLU the kernel overwrites da by dlu: give it a copy
        dam = _same_shape(da, "da", prec, (n, n), check_finite, copy=want_dlu)
        active |= ACTIVE_A | (WANT_DLU if want_dlu else 0)
    if db is not None:
        dx = _rhs_like(db, "db", prec, (n, nrhs), was_1d, check_finite)
        active |= ACTIVE_B
    else:
        dx = _zeros((n, nrhs), prec)
    info = call(prec.kernel("gesv_fwd"), active, n, nrhs, lu, ld(lu), dam, ld(dam) if dam is not None else 1,
                ipiv, x, ld(x), dx, ld(dx))
    _check(info, routine, _GESV_ARGS)
    _raise_singular(info, routine)
    dlu = dam if want_dlu and dam is not None else _zeros((n, n), prec)
    return lu, _zero_based(ipiv), _shape_out(x, was_1d), dlu, _shape_out(dx, was_1d)


@_core.bool_keywords("check_finite")
def gesv_jvp(a, b, da, db, *, check_finite=True):
    """Forward mode of :func:`gesv`: ``(lu, piv, x, info), (dlu, dx)``.

    dx = a^{-1} (db - da x); dlu is the packed tangent of the factors (pivots fixed, as in
    :func:`getrf_jvp`). ``da``/``db`` may be None (constant). Raises SingularMatrixError if a
    is singular (then the solution does not exist)."""
    lu, piv, x, dlu, dx = _gesv_forward(a, b, da, db, True, check_finite, "gesv_jvp")
    return (lu, piv, x, 0), (dlu, dx)


def _gesv_reverse(a, b, check_finite, routine):
    """The primal of gesv_vjp / solve_vjp and its pullback: (lu, ipiv, x, was_1d, pullback). The
    pullback holds lu and x themselves: callers return copies of what they hand out."""
    prec, lu, x, was_1d = _gesv_inputs(a, b, check_finite)
    n, nrhs = x.shape
    ipiv = np.zeros(n, dtype=np.int32)
    info = call(prec.kernel("gesv"), n, nrhs, lu, ld(lu), ipiv, x, ld(x))
    _check(info, routine, _GESV_ARGS)
    _raise_singular(info, routine)

    def pullback(x_bar, lu_bar=None):
        if x_bar is None:
            bbar = _zeros((n, nrhs), prec)
        else:
            bbar = _rhs_like(x_bar, "x_bar", prec, (n, nrhs), was_1d, check_finite)
        if lu_bar is None:
            abar = _zeros((n, n), prec)
        else:
            abar = _same_shape(lu_bar, "lu_bar", prec, (n, n), check_finite)
        rc = call(prec.kernel("gesv_rev"), ACTIVE_A | ACTIVE_B, n, nrhs, lu, ld(lu), ipiv, abar, ld(abar),
                  x, ld(x), bbar, ld(bbar))
        _check(rc, routine + " pullback", _GESV_ARGS)
        return abar, _shape_out(bbar, was_1d)

    return lu, ipiv, x, was_1d, pullback


@_core.bool_keywords("check_finite")
@_core.real_cotangents("a", "b")
def gesv_vjp(a, b, *, check_finite=True):
    """Reverse mode of :func:`gesv`: ``(lu, piv, x, info), pullback`` with
    ``a_bar, b_bar = pullback(x_bar, lu_bar=None)``: b_bar = a^{-H} x_bar,
    a_bar = -b_bar x^H (+ the getrf adjoint of ``lu_bar``, skipped when it is None or zero).
    ``x_bar=None`` means zero. Raises SingularMatrixError if a is singular. The pullback
    keeps lu and x, returned read-only, and may be called any number of times."""
    lu, ipiv, x, was_1d, pullback = _gesv_reverse(a, b, check_finite, "gesv_vjp")
    return (_core.kept(lu), _zero_based(ipiv), _kept_out(x, was_1d), 0), pullback


# ------------------------------------------------------------------ solve (= gesv's x)
@_core.bool_keywords("check_finite")
def solve(a, b, *, check_finite=True):
    """x = a^{-1} b (``a`` square, ``b`` (n,) or (n, nrhs)) by :func:`gesv`. Raises
    SingularMatrixError if a is exactly singular."""
    lu, piv, x, info = gesv(a, b, check_finite=check_finite)
    _raise_singular(info, "solve")
    return x


@_core.bool_keywords("check_finite")
def solve_jvp(a, b, da, db, *, check_finite=True):
    """Forward mode of :func:`solve`: ``(x, dx)`` with dx = a^{-1} (db - da x); da/db may be
    None. Costs one LU and one extra solve (the LU tangent is not formed)."""
    lu, piv, x, dlu, dx = _gesv_forward(a, b, da, db, False, check_finite, "solve_jvp")
    return x, dx


@_core.bool_keywords("check_finite")
@_core.real_cotangents("a", "b")
def solve_vjp(a, b, *, check_finite=True):
    """Reverse mode of :func:`solve`: ``(x, pullback)``, ``a_bar, b_bar = pullback(x_bar)``
    with b_bar = a^{-H} x_bar and a_bar = -b_bar x^H. Raises SingularMatrixError if a is
    singular. The pullback keeps the factors and x, which is returned read-only."""
    lu, ipiv, x, was_1d, gesv_pullback = _gesv_reverse(a, b, check_finite, "solve_vjp")

    def pullback(x_bar):
        return gesv_pullback(x_bar)

    return _kept_out(x, was_1d), pullback
