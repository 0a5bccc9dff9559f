"""The property tests of test_precisions_hypothesis.py (output dtypes, inputs never modified,
layout invariance, exact and near-zero linearity, the dot-product test) for the routines next
to A\\b: getri, inv, trtrs, potrf, potrs, posv, det, slogdet -- over random input dtypes
(bool ... complex128, mixed), memory layouts, shapes (including 0), flags and scales
(1e-150 .. 1e150 in double, 1e-15 .. 1e15 in single). The Cholesky routines get garbage in
the triangle they do not read (and an imaginary part on a complex diagonal, which is not read
either)."""
import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import strategies as st  # noqa: E402

import difflapack as dl  # noqa: E402
from test_precisions_hypothesis import (Problem, cast_values, draw_setting, expected_precision,  # noqa: E402
                                        general_values, kappa_of, lu_kappa, referenced, run_properties,
                                        triangle_values, with_layout)
from test_precisions_hypothesis import _one_blas_thread  # noqa: E402,F401  (the module fixture)

ROUTINES = ["getri", "inv", "trtrs", "potrf", "potrs", "posv", "det", "slogdet"]


def hermitian_values(r, n, uplo, dtype):
    """A well-conditioned Hermitian positive definite matrix in its `uplo` triangle, garbage in
    the other one and (complex) an imaginary part on the diagonal: neither is read."""
    dt = np.dtype(dtype)
    tri = np.triu if uplo == "U" else np.tril
    if dt == np.bool_:
        return np.eye(n, dtype=bool) | ~tri(np.ones((n, n), dtype=bool))
    if dt.kind in "iu":
        m = r.integers(-1, 2, (n, n))
        h = np.triu(m, 1) + np.triu(m, 1).T + (n + 2) * np.eye(n, dtype=int)
        garbage = r.integers(-9, 10, (n, n))
    else:
        m = r.standard_normal((n, n))
        if dt.kind == "c":
            m = m + 1j * r.standard_normal((n, n))
        h = m @ m.conj().T / max(n, 1) + np.eye(n)
        garbage = 9.0 * r.standard_normal((n, n))
        if dt.kind == "c":
            garbage = garbage + 7j
    mask = tri(np.ones((n, n), dtype=bool))
    a = np.where(mask, h, garbage)
    if dt.kind == "c":
        a[np.diag_indices(n)] += 0.5j
    return cast_values(a, dt)


def factor_values(r, n, uplo, dtype):
    """A Cholesky-like factor: a triangle with a positive diagonal (garbage outside)."""
    a = triangle_values(r, n, uplo, False, dtype)
    dt = np.dtype(dtype)
    if dt.kind in "fc":
        d = np.abs(np.real(np.diag(a))) + 1.0
        a[np.diag_indices(n)] = d.astype(a.dtype)
    elif dt.kind in "iu":
        a[np.diag_indices(n)] = np.abs(np.diag(a))
    return a


@st.composite
def problems(draw, routine, scaled=False):
    r, da_t, db_t, la, lb, n, floats, single, exp = draw_setting(draw, scaled)
    if routine == "det":   # det ~ (scale * |M's entries|)^n: keep it (and its derivative) in range
        bound = (30 if single else 250) / max(n, 1) - np.log10(1 + 3 * np.sqrt(max(n, 1)))
        exp = int(np.clip(exp, -bound, bound))
    scale = 10.0 ** exp
    nrhs = draw(st.sampled_from([None, 1, 2]))
    shape = (n,) if nrhs is None else (n, nrhs)

    def rhs():
        b = cast_values(r.standard_normal(shape) * (3 if np.dtype(db_t).kind in "iub" else 1), db_t)
        return (b * scale).astype(db_t) if floats else b

    tag = f"n={n} {la}/{lb} s=1e{exp}"
    if routine == "trtrs":
        uplo, trans, diag = draw(st.sampled_from("UL")), draw(st.sampled_from("NTC")), draw(st.sampled_from("NU"))
        a = triangle_values(r, n, uplo, diag == "U", da_t)
        kappa = kappa_of(referenced(a, uplo, diag))
        if floats and diag == "N":
            a = (a * scale).astype(da_t)
        b = rhs()
        primals = (with_layout(a, la), with_layout(b, lb))
        return Problem(f"trtrs {uplo}{trans}{diag} {shape} {a.dtype}/{b.dtype} {tag}", primals,
                       lambda t: (dl.trtrs_jvp(*primals, *t, uplo, trans, diag)[1],),
                       lambda: dl.trtrs_vjp(*primals, uplo, trans, diag)[1],
                       [(n, n), shape], [shape], kappa, expected_precision(a.dtype, b.dtype))
    if routine in ("potrf", "posv"):
        uplo = draw(st.sampled_from("UL"))
        a = hermitian_values(r, n, uplo, da_t)
        kappa = kappa_of(np.where((np.triu if uplo == "U" else np.tril)(np.ones((n, n), bool)), a, 0)
                         + np.conj((np.triu if uplo == "U" else np.tril)(a, 1 if uplo == "U" else -1)).T) if n else 1.0
        if floats:
            a = (a * scale).astype(da_t)
        if routine == "potrf":
            primals = (with_layout(a, la),)
            return Problem(f"potrf {uplo} {a.dtype} {tag}", primals,
                           lambda t: (dl.potrf_jvp(*primals, *t, uplo)[1],),
                           lambda: dl.potrf_vjp(*primals, uplo)[1],
                           [(n, n)], [(n, n)], kappa, expected_precision(a.dtype))
        b = rhs()
        primals = (with_layout(a, la), with_layout(b, lb))
        return Problem(f"posv {uplo} {shape} {a.dtype}/{b.dtype} {tag}", primals,
                       lambda t: dl.posv_jvp(*primals, *t, uplo)[1],
                       lambda: (lambda pb: (lambda wc, wx: pb(wx, wc)))(dl.posv_vjp(*primals, uplo)[1]),
                       [(n, n), shape], [(n, n), shape], kappa, expected_precision(a.dtype, b.dtype))
    if routine == "potrs":
        uplo = draw(st.sampled_from("UL"))
        c = factor_values(r, n, uplo, da_t)
        kappa = kappa_of(referenced(c, uplo, "N")) ** 2
        if floats:
            c = (c * scale).astype(da_t)
        b = rhs()
        primals = (with_layout(c, la), with_layout(b, lb))
        return Problem(f"potrs {uplo} {shape} {c.dtype}/{b.dtype} {tag}", primals,
                       lambda t: (dl.potrs_jvp(*primals, *t, uplo)[1],),
                       lambda: dl.potrs_vjp(*primals, uplo)[1],
                       [(n, n), shape], [shape], kappa, expected_precision(c.dtype, b.dtype))
    a = general_values(r, n, n, da_t)
    lu, piv, _ = dl.getrf(a)
    kappa = max(kappa_of(a), lu_kappa(lu, piv))
    if floats:
        a = (a * scale).astype(da_t)
    prec = expected_precision(a.dtype)
    if routine == "getri":
        lu, piv, _ = dl.getrf(a)
        primals = (with_layout(lu, la), piv)
        return Problem(f"getri {lu.dtype} {tag}", primals,
                       lambda t: (dl.getri_jvp(*primals, *t)[1],),
                       lambda: dl.getri_vjp(*primals)[1],
                       [(n, n)], [(n, n)], kappa, expected_precision(lu.dtype), scale_like=(lu,), inputs=(lu,))
    primals = (with_layout(a, la),)
    if routine == "inv":
        return Problem(f"inv {a.dtype} {tag}", primals,
                       lambda t: (dl.inv_jvp(*primals, *t)[1],),
                       lambda: dl.inv_vjp(*primals)[1],
                       [(n, n)], [(n, n)], kappa, prec)
    if routine == "det":
        return Problem(f"det {a.dtype} {tag}", primals,
                       lambda t: (dl.det_jvp(*primals, *t)[1],),
                       lambda: dl.det_vjp(*primals)[1],
                       [(n, n)], [()], kappa, prec)
    return Problem(f"slogdet {a.dtype} {tag}", primals,
                   lambda t: dl.slogdet_jvp(*primals, *t)[1],
                   lambda: dl.slogdet_vjp(*primals)[1],
                   [(n, n)], [(), ()], kappa, prec, real_outputs=(False, True))


@pytest.mark.parametrize("routine", ROUTINES)
def test_properties(routine):
    """Random dtypes (bool ... complex128, mixed), layouts, shapes and flags of one routine."""
    run_properties(problems(routine), 60)


@pytest.mark.parametrize("routine", ROUTINES)
def test_properties_extreme_scales(routine):
    """Float inputs only, every example scaled by 10^k, |k| <= 150 (double) or 15 (single)."""
    run_properties(problems(routine, scaled=True), 40)
