"""dl_?slogdet_inv / dl_?slogdet_inv_rev: the log-determinant with A^{-1} by Gauss-Jordan
elimination (csrc/gauss_jordan.c), the forward and reverse passes behind slogdet_vjp. Checked
in all four precisions, across the recursion's base (16) and levels, with lda > n:

* A^{-1}, the pivots (exactly ?getrf's), sign and log|det| (?getrf's to rounding);
* accuracy: the componentwise forward error against an extended-precision inverse, on matrix
  families that separate inversion methods (row / column scaled, graded, ill-conditioned), is
  that of the LU-based inversion (dl_?getri) -- a variant pivoting by columns lost up to 150x on
  column-scaled matrices and is not what this is;
* the reverse pass equals dl_?slogdet_rev's (from the LU) and accumulates;
* singular input (info, NaN, the documented pivots), NaN input, argument errors."""
import numpy as np
import pytest
import scipy.linalg as sl

import difflapack as dl
from difflapack import _core
from test_reference_rules import DTYPES, _rank_deficient, assert_close, exact_tol, general, rnd, rng

SIZES = [0, 1, 2, 23, 24, 25, 49, 70, 130]   # base 24; 130: three levels with odd halves
HIGHER = {np.float32: np.float64, np.float64: np.longdouble, np.complex64: np.complex128,
          np.complex128: np.complex128}


def real_of(dtype):
    return np.dtype(dtype).type(0).real.dtype


def slogdet_inv(a, lda=None):
    """(info, A^{-1} as the kernel left it, ipiv, sign, logabsdet, the padded buffer)."""
    n = a.shape[0]
    lda = lda or max(n, 1)
    buf = np.full((lda, n), 777.0, dtype=a.dtype, order="F")
    buf[:n] = a
    ipiv = np.zeros(max(n, 1), np.int32)
    sign, logabs, ratio = np.zeros(1, a.dtype), np.zeros(1, real_of(a.dtype)), np.full(1, -1, real_of(a.dtype))
    p = _core.precision_of(a=a)
    info = _core.call(p.kernel("slogdet_inv"), n, buf, lda, ipiv, sign, logabs, ratio)
    slogdet_inv.pivot_ratio = ratio[0]
    return info, buf[:n], ipiv[:n], sign[0], logabs[0], buf


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_inverse_pivots_and_slogdet(dtype, n):
    r = rng("gj", dtype, n)
    a = rnd(r, (n, n), dtype)   # a random matrix: interchanges at almost every step
    info, x, ipiv, sign, logabs, buf = slogdet_inv(a, lda=n + 3)
    assert info == 0
    assert np.all(buf[n:] == 777.0), "rows past n untouched"
    s_ref, la_ref = dl.slogdet(a)
    tol = exact_tol(dtype) * 10
    assert_close(sign, s_ref, tol, "sign")
    assert abs(logabs - la_ref) <= tol * max(1.0, abs(la_ref)), "logabsdet"
    if n == 0:
        return
    assert np.array_equal(ipiv, sl.lu_factor(a)[1] + 1), "the pivots are getrf's"
    x_ref = np.linalg.inv(a.astype(np.complex128 if np.dtype(dtype).kind == "c" else np.float64))
    kappa = np.linalg.cond(x_ref)
    assert_close(x, x_ref, exact_tol(dtype) * max(1.0, kappa), "A^{-1}")


def test_block_updates_in_column_chunks():
    """n = 521: the top-level block updates run in column chunks of 256 (odd halves, a partial
    last chunk) out of a workspace of ceil(n/2) x 256."""
    test_inverse_pivots_and_slogdet(np.float64, 521)


def _componentwise_error(x, x_ref, a):
    """max_ij |x - x_ref|_ij / (|A^{-1}| |A| |A^{-1}|)_ij: the forward error in units of its
    componentwise condition (an inversion method's error bound is a small multiple of eps)."""
    scale = np.abs(x_ref) @ np.abs(a.astype(x_ref.dtype)) @ np.abs(x_ref)
    return float(np.max(np.abs(x.astype(x_ref.dtype) - x_ref) / scale))


def _reference_inverse(a):
    """A^{-1} to well beyond float32's accuracy: float64 inversion plus refinement in
    extended precision."""
    x = np.linalg.inv(a.astype(np.float64))
    al = a.astype(np.longdouble)
    for _ in range(3):
        resid = np.eye(a.shape[0], dtype=np.longdouble) - al @ x.astype(np.longdouble)
        x = x + (x.astype(np.longdouble) @ resid).astype(np.float64)
    return x


def _lu_inverse(a):
    lu, piv = sl.lu_factor(a)
    lu, ipiv = np.asfortranarray(lu), (piv + 1).astype(np.int32)
    assert _core.call(_core.precision_of(a=a).kernel("getri"), a.shape[0], lu, a.shape[0], ipiv) == 0
    return lu


FAMILIES = {
    "random": lambda r, n: r.standard_normal((n, n)),
    "rows scaled": lambda r, n: np.diag(10.0 ** r.uniform(-8, 8, n)) @ r.standard_normal((n, n)),
    "columns scaled": lambda r, n: r.standard_normal((n, n)) @ np.diag(10.0 ** r.uniform(-8, 8, n)),
    "graded": lambda r, n: (np.diag(10.0 ** r.uniform(-5, 5, n)) @ r.standard_normal((n, n))
                            @ np.diag(10.0 ** r.uniform(-5, 5, n))),
    "ill-conditioned": lambda r, n: (np.linalg.qr(r.standard_normal((n, n)))[0] @ np.diag(np.logspace(0, -5, n))
                                     @ np.linalg.qr(r.standard_normal((n, n)))[0]),
}


@pytest.mark.parametrize("family", FAMILIES)
def test_the_accuracy_is_that_of_the_lu_based_inversion(family):
    """float32 (errors measurable against a float64-refined reference): the Gauss-Jordan
    inverse's componentwise error stays within a small factor of dl_sgetri's and of the
    standard bound (a few eps)."""
    r = rng("gj-accuracy", family)
    eps = np.finfo(np.float32).eps
    for n in (12, 60, 200):
        for _ in range(3):
            a = FAMILIES[family](r, n).astype(np.float32)
            x_ref = _reference_inverse(a)
            err_gj = _componentwise_error(slogdet_inv(a)[1], x_ref, a) / eps
            err_lu = _componentwise_error(_lu_inverse(a), x_ref, a) / eps
            assert err_gj <= 4 * err_lu + 20, (family, n, err_gj, err_lu)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 17, 40])
def test_reverse_equals_the_lu_rule_and_accumulates(dtype, n):
    r = rng("gj-rev", dtype, n)
    a = general(r, n, dtype)
    p = _core.precision_of(a=a)
    info, x, _, sign, _, _ = slogdet_inv(a)
    x = np.asfortranarray(x)
    lu, piv, _ = dl.getrf(a)
    ipiv = (piv + 1).astype(np.int32)
    start = rnd(r, (n, n), dtype).copy(order="F")
    signbar, labar = np.array([rnd(r, (), dtype)[()]]), np.array([0.7], real_of(dtype))
    signbar = signbar.astype(dtype)
    want = start.copy(order="F")
    assert _core.call(p.kernel("slogdet_rev"), 1, n, lu, n, ipiv, signbar, labar, want, n) == 0
    got = start.copy(order="F")
    x_before = x.copy()
    assert _core.call(p.kernel("slogdet_inv_rev"), 1, n, x, n, np.array([sign]), signbar, labar, got, n) == 0
    assert np.array_equal(x, x_before), "X is read only"
    assert_close(got, want, exact_tol(dtype) * 10, "c A^{-H} accumulated, as from the LU")
    inactive = start.copy(order="F")
    assert _core.call(p.kernel("slogdet_inv_rev"), 0, n, x, n, None, None, None, inactive, n) == 0
    assert np.array_equal(inactive, start), "inactive: nothing read or written"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["zero-last-row", "zero-first-col", "two"])
def test_singular(dtype, kind):
    """An exactly zero pivot: getrf's info, (0, -inf), A := NaN, the pivots after it the
    identity; the reverse pass NaN unless the cotangent is zero."""
    r = rng("gj-singular", dtype, kind)
    n = 6
    a = _rank_deficient(kind, n, dtype, r)
    info, x, ipiv, sign, logabs, _ = slogdet_inv(a)
    getrf_info = dl.getrf(a)[2]
    assert info == getrf_info > 0
    assert sign == 0 and logabs == -np.inf and np.all(np.isnan(x))
    assert np.array_equal(ipiv[info:], np.arange(info + 1, n + 1))
    p = _core.precision_of(a=a)
    zero_sign, real = np.zeros(1, dtype), real_of(dtype)
    for labar, signbar, nan in ((1.0, 0.0, True), (0.0, 0.0, False), (0.0, 1.0, np.dtype(dtype).kind == "c")):
        d = np.zeros((n, n), dtype, order="F")
        assert _core.call(p.kernel("slogdet_inv_rev"), 1, n, np.asfortranarray(x), n, zero_sign,
                          np.array([signbar], dtype), np.array([labar], real), d, n) == 0
        assert np.all(np.isnan(d)) if nan else not np.any(d), (labar, signbar)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pivot_ratio(dtype):
    """min |d_k| / max |d_k| of the pivot values: a diagonal matrix's own; 0 at a zero pivot; 1
    for n = 0."""
    d = np.array([4.0, -0.5, 2.0, 0.25])
    assert slogdet_inv(np.diag(d).astype(dtype))[0] == 0 and slogdet_inv.pivot_ratio == 0.25 / 4.0
    assert slogdet_inv(np.diag([1.0, 0.0, 2.0]).astype(dtype))[0] == 2 and slogdet_inv.pivot_ratio == 0
    assert slogdet_inv(np.zeros((0, 0), dtype))[0] == 0 and slogdet_inv.pivot_ratio == 1


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("repeat", ["row", "column", "3x row"])
def test_slogdet_vjp_takes_slogdets_verdict_on_matrices_singular_to_working_precision(dtype, repeat):
    """Repeated rows make getrf find an exact zero that Gauss-Jordan's rounding can miss (and
    repeated columns the other way round; found by review): slogdet_vjp then redoes the primal
    with getrf, so that its (sign, logabsdet) and the pullback's NaN are slogdet's."""
    r = np.random.default_rng([3, 5, 30, DTYPES.index(dtype), len(repeat)])
    for n in (3, 5, 30):
        for _ in range(30):
            a = rnd(r, (n, n), dtype)
            i, j = r.choice(n, 2, replace=False)
            if repeat == "column":
                a[:, j] = a[:, i]
            else:
                a[j] = a[i] * (3 if repeat == "3x row" else 1)
            (s, la), pb = dl.slogdet_vjp(a)
            assert (s, la) == dl.slogdet(a), (n, repeat)
            cot = pb(None, 1.0)
            assert np.all(np.isnan(cot)) if la == -np.inf else np.all(np.isfinite(cot))


@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_input_gives_nan_without_a_crash(dtype):
    a = general(rng("gj-nan", dtype), 20, dtype)
    a[5, 7] = np.nan
    info, x, _, _, logabs, _ = slogdet_inv(a)
    assert info == 0 and np.isnan(logabs) and np.isnan(x).any()


@pytest.mark.parametrize("dtype", DTYPES)
def test_argument_errors_touch_nothing(dtype):
    p = _core.precision_of(a=np.zeros(1, dtype))
    a = np.ones((3, 3), dtype, order="F")
    ipiv, sign, logabs = np.zeros(3, np.int32), np.zeros(1, dtype), np.zeros(1, real_of(dtype))
    k = p.kernel("slogdet_inv")
    cases = {-1: (-1, a, 3, ipiv, sign, logabs, None), -2: (3, None, 3, ipiv, sign, logabs, None),
             -3: (3, a, 2, ipiv, sign, logabs, None), -4: (3, a, 3, None, sign, logabs, None),
             -105: (3, a, 3, ipiv, None, logabs, None), -106: (3, a, 3, ipiv, sign, None, None)}
    for code, args in cases.items():
        assert _core.call(k, *args) == code
        assert np.all(a == 1)
    d = np.full((3, 3), 5, dtype, order="F")
    rev = p.kernel("slogdet_inv_rev")
    one, s = np.ones(1, real_of(dtype)), np.ones(1, dtype)
    cases = {-102: (1, -1, a, 3, s, s, one, d, 3), -103: (1, 3, None, 3, s, s, one, d, 3),
             -104: (1, 3, a, 2, s, s, one, d, 3), -105: (1, 3, a, 3, None, s, one, d, 3),
             -107: (1, 3, a, 3, s, s, None, d, 3), -108: (1, 3, a, 3, s, s, one, None, 3),
             -109: (1, 3, a, 3, s, s, one, d, 2)}
    if np.dtype(dtype).kind == "c":
        cases[-106] = (1, 3, a, 3, s, None, one, d, 3)
    for code, args in cases.items():
        assert _core.call(rev, *args) == code
        assert np.all(d == 5) and np.all(a == 1)
