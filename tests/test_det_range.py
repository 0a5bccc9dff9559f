"""det, det_jvp and det_vjp across the exponent range: where det itself over- or underflows
(or a partial product of the pivots does) but the derivative, the adjugate, is in range, and
where A^{-1} overflows but adj(A) = det(A) A^{-1} does not. The pivots' product is kept as
m 2^e (csrc/scaled.h) and the inverse is taken of 2^k A, so each number over- or underflows only
when it is out of range itself. (Before, det_vjp returned zeros, inf or NaN here -- a silently
wrong gradient found by an independent review -- and det overflowed on diag(1e300, 1e300,
1e-300, 1e-300), whose determinant is 1.)"""
import numpy as np
import pytest

import difflapack as dl
from test_reference_rules import DTYPES

TINY = {np.float32: 1e-20, np.float64: 1e-200}       # its square underflows
HUGE = {np.float32: 1e20, np.float64: 1e200}         # its square overflows
SUB = {np.float32: 1e-40, np.float64: 1e-310}        # subnormal: 1 / SUB overflows


def real_of(dtype):
    return np.dtype(dtype).type(0).real.dtype.type


def close(got, want, dtype, what):
    """Relative to the largest entry of want, however small or large it is."""
    got, want = np.asarray(got, dtype=np.complex128), np.asarray(want, dtype=np.complex128)
    assert np.all(np.isfinite(got)), f"{what}: {got}"
    scale = np.abs(want).max()
    if scale == 0:   # the value itself underflows the precision
        assert np.abs(got).max() < np.finfo(real_of(dtype)).tiny, f"{what}: {got} for an underflowing value"
        return
    err = np.abs(got - want).max() / scale
    assert err <= 50 * np.finfo(real_of(dtype)).eps, f"{what}: relative error {err:.2e} ({got} vs {want})"


def unit(n, i, j, dtype):
    e = np.zeros((n, n), dtype)
    e[i, j] = 1
    return e


@pytest.mark.parametrize("dtype", DTYPES)
def test_diagonal_matrices_whose_det_or_inverse_leaves_the_range(dtype):
    r = real_of(dtype)
    cases = [
        ([SUB[r]], "A^{-1} overflows"),
        ([TINY[r], TINY[r]], "det underflows"),
        ([HUGE[r], HUGE[r]], "det overflows"),
        ([HUGE[r], HUGE[r], TINY[r], TINY[r]], "a partial product overflows, det = 1"),
        ([TINY[r], TINY[r], HUGE[r]], "a partial product underflows"),
    ]
    for d, what in cases:
        d = np.array(d, dtype=np.float64)
        a = np.diag(d).astype(dtype)
        n = len(d)
        exact_det = np.prod(d.astype(np.longdouble))
        grad = np.array([np.prod(np.delete(d.astype(np.longdouble), i)) for i in range(n)])  # adj(A) diagonal
        det = dl.det(a)
        if np.finfo(r).tiny <= abs(exact_det) <= np.finfo(r).max:
            close(det, float(exact_det), dtype, f"{what}: det")
        abar = dl.det_vjp(a)[1](1.0)
        want = grad.astype(np.float64)
        close(np.diag(abar)[want != 0], want[want != 0], dtype, f"{what}: det_vjp")
        assert not np.any(abar - np.diag(np.diag(abar))), f"{what}: off-diagonal cotangent"
        for i in range(n):
            close(dl.det_jvp(a, unit(n, i, i, dtype))[1], float(grad[i]), dtype, f"{what}: det_jvp e{i}{i}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [3, 4, 6])
def test_uniformly_scaled_matrices(dtype, n):
    """A = 2^k M: adj(A) = 2^{k(n-1)} adj(M) exactly; k puts det(A) out of range (both ways)
    while adj(A) and tr(adj(A) dA) stay in it."""
    r = real_of(dtype)
    rng = np.random.default_rng(n)
    m = rng.standard_normal((n, n))
    da = rng.standard_normal((n, n))
    if np.dtype(dtype).kind == "c":
        m, da = m + 1j * rng.standard_normal((n, n)), da + 1j * rng.standard_normal((n, n))
    m, da = m.astype(dtype), da.astype(dtype)
    wide = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
    adj_m = np.linalg.det(m.astype(wide)) * np.linalg.inv(m.astype(wide))
    fi = np.finfo(r)
    lowest = fi.minexp - fi.nmant   # the exponent of the smallest subnormal
    for k in (-(-lowest // n + 2), fi.maxexp // n + 2):   # det ~ 2^{kn}: out of range, adj ~ 2^{k(n-1)}: in
        a = np.ldexp(m.real, k) + (1j * np.ldexp(m.imag, k) if np.dtype(dtype).kind == "c" else 0)
        a = a.astype(dtype)
        adj = adj_m * 2.0 ** (k * (n - 1))
        close(dl.det_vjp(a)[1](1.0), adj.conj().T, dtype, f"det_vjp 2^{k} M")
        close(dl.det_jvp(a, da)[1], np.trace(adj @ da.astype(wide)), dtype, f"det_jvp 2^{k} M")


def test_cases_where_scaling_the_whole_factor_would_overflow():
    """Found by a second review: taking the inverse of 2^k A always (not only when A^{-1}
    overflows) made inf and NaN where det A^{-1} was right, since U's off-diagonal entries can be
    far larger than its pivots; and the one-zero-pivot adjugate overflowed part way at 2^+-500."""
    x = 1e-170
    cases = [
        (np.array([[1e-300, 0, 0], [0, 1, 1e200], [0, 0, 1]]), np.array([[1, 0, 0], [0, 1e-300, 0], [0, -1e-100, 1e-300]])),
        (np.array([[1e300, 0, 0], [0, 1, x], [0, 0, 1]]), np.array([[1, 0, 0], [0, 1e300, 0], [0, -1e300 * x, 1e300]])),
    ]
    b = np.array([[2.0, 0, 1], [0, 2, 1], [0, 0, 0]])     # singular, the last pivot zero
    for k in (500, -500):
        s = 2.0 ** k
        cases.append((s * b, s * s * np.array([[0.0, 0, 0], [0, 0, 0], [-2, -2, 4]])))
    for a, want in cases:
        got = dl.det_vjp(a)[1](1.0)
        assert np.all(np.isfinite(got)), got
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
    a32 = np.array([[7.3159e-24, -19065.57, 1.4878e-25], [1.018e-32, 0.020244, 9.388e-32],
                    [-153.987, 9.1064e29, -0.63269]], dtype=np.float32)
    want = np.linalg.det(a32.astype(np.float64)) * np.linalg.inv(a32.astype(np.float64)).T
    got = dl.det_vjp(a32)[1](np.float32(1))
    assert np.all(np.isfinite(got))
    assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()


@pytest.mark.parametrize("dtype", DTYPES)
def test_tangents_near_the_ends_of_the_range(dtype):
    """det_jvp / slogdet_jvp where the TANGENT is near the format's largest or is subnormal (a
    second review): the LU tangent is computed on dA scaled by a power of two and the terms of
    d det summed scaled, so nothing overflows part way (before: inf and NaN where the value is
    1.5 HUGE or 0) and subnormal entries keep their bits (before: wrong in every digit, or 0)."""
    big = np.finfo(real_of(dtype)).max / 2
    a, da = np.diag([1, 2]).astype(dtype), np.diag([big, -big / 2]).astype(dtype)
    close([dl.det_jvp(a, da)[1]], [1.5 * big], dtype, "d det = 1.5 big")   # terms 2 big and -big/2
    a3 = np.diag(3 * [np.sqrt(big)]).astype(dtype)
    ddet = dl.det_jvp(a3, np.diag([1, -1, 0]).astype(dtype))[1]
    assert ddet == 0, f"d det of terms +-big must cancel to 0, got {ddet}"
    # the getrf tangent's intermediates overflow: L21 = 1, dA = big (e_11 - e_21)
    a = np.array([[1, 0], [1, 1]], dtype)
    da = np.array([[big, 0], [-big, 0]], dtype)
    close([dl.slogdet_jvp(a, da)[1][1]], [big], dtype, "d log|det| = tr(A^-1 dA)")
    close([dl.det_jvp(a, da)[1]], [big], dtype, "d det")
    # subnormal tangents: the derivative is linear in dA, down to the smallest subnormal, where
    # its value is a normal number (det's cofactors ~ 1e32 / 1e17; A^{-1} ~ 1e17 / 1e8)
    r = np.random.default_rng(5)
    n = 12
    wide = real_of(dtype) == np.float64
    a = ((200 if wide else 8) * (r.standard_normal((n, n)) + 4 * np.eye(n))).astype(dtype)
    a_small = (a * (1e-19 if wide else 1e-9)).astype(dtype)
    tiny = 4 * np.finfo(real_of(dtype)).smallest_subnormal   # two bits
    per_tiny = lambda x: complex(np.complex128(x).real / tiny, np.complex128(x).imag / tiny)  # noqa: E731
    for (i, j) in ((0, 0), (n - 1, n - 1), (0, n - 1), (n - 1, 0), (5, 3)):
        e = unit(n, i, j, dtype)
        got = per_tiny(dl.det_jvp(a, tiny * e)[1])
        close([got], [dl.det_jvp(a, e)[1]], dtype, f"d det along a subnormal e_{i}{j}")
        got = per_tiny(dl.slogdet_jvp(a_small, tiny * e)[1][1])
        close([got], [dl.slogdet_jvp(a_small, e)[1][1]], dtype, f"d log|det| along a subnormal e_{i}{j}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_tangents_whose_entries_span_the_range(dtype):
    """The third review of the range fix: ONE power of two for all of dA pushed its small
    entries to 0 even where their term dominates (A = diag(1e300, 1e-300), dA = diag(1e300,
    1e-200): d det = 1 + 1e100, was 1.0), and scaling a tiny dA up made the tangent's
    intermediates overflow where the unscaled ones do not (-inf for -1e-100). Now the normal
    part of dA runs unscaled first and the subnormal part scaled, each retried at other
    exponents only if its tangent is not finite; and the singular (one zero pivot) path sums
    its terms scaled too (a partial sum overflowed: -inf for -1.35e308)."""
    wide = real_of(dtype) == np.float64
    big, small = (1e300, 1e-300) if wide else (1e30, 1e-30)
    a = np.diag([big, small]).astype(dtype)
    for d2 in ((1e-200, 1e-20, 3e-15) if wide else (1e-20, 1e-30)):
        da = np.diag([big, d2]).astype(dtype)
        want = big * small + big * d2                 # d det = dA11 A22 + A11 dA22
        close([dl.det_jvp(a, da)[1]], [want], dtype, f"d det, dA = diag(big, {d2})")
        close([dl.slogdet_jvp(a, da)[1][1]], [1 + d2 / small], dtype, f"d log|det|, dA = diag(big, {d2})")
    if wide:   # the getrf tangent of a tiny dA, scaled up, overflows part way: -1e60 and -1e-100
        a = np.array([[1e-110, 1e200], [0, 1e-50]], dtype)
        da = np.array([[0, 0], [1e-300, 0]], dtype)
        close([dl.det_jvp(a, da)[1]], [-1e-100], dtype, "d det of a tiny dA")
        close([dl.slogdet_jvp(a, da)[1][1]], [-1e60], dtype, "d log|det| of a tiny dA")
    top = np.finfo(real_of(dtype)).max / 2
    a = np.array([[0, 1, 0], [0, 0, 1], [0, 1, 1]], dtype)   # one zero pivot, not the last
    da = np.zeros((3, 3), dtype)
    da[:, 0] = (1.5 * top, top, top)
    close([dl.det_jvp(a, da)[1]], [-1.5 * top], dtype, "d det of a singular A, partial sums out of range")


@pytest.mark.parametrize("dtype", DTYPES)
def test_tangents_whose_lu_intermediates_overflow(dtype):
    """A fourth review: nonsingular A with det, A^{-1} and d det in range, but the getrf
    tangent's intermediates overflow for this dA (dL ~ dA / a tiny pivot, times U's huge
    entries): the tangent's diagonal came out NaN, and the check for a non-finite tangent took
    it for finite (max(|Re|, |Im|) by fmax dropped the NaN), so the retry at a smaller scale of dA
    never ran: det_jvp and slogdet_jvp returned NaN. d det = adj(A)_02 dA_20 (one entry)."""
    wide = real_of(dtype) == np.float64
    if wide:   # det = 2^60, max |A^{-1}| = 6.8e125; adj(A)_02 = -2^31, dA_20 = 2^757
        a = np.array([[0, 0, -2.0**334], [2.0**-88, -2.0**-303, 0], [-2.0**29, 0, 2.0**566]])
        e, cofactor, det = 2.0**757, -2.0**31, 2.0**60
    else:      # det = 8, max |A^{-1}| = 1.4e17; adj(A)_02 = -1, dA_20 = 2^90
        a = np.array([[0, 0, -2.0**40], [2.0**-10, -2.0**-40, 0], [-8.0, 0, 2.0**70]])
        e, cofactor, det = 2.0**90, -1.0, 8.0
    da = np.zeros((3, 3))
    da[2, 0] = e
    a, da = a.astype(dtype), da.astype(dtype)
    close([dl.det_jvp(a, da)[1]], [cofactor * e], dtype, "d det")
    close([dl.slogdet_jvp(a, da)[1][1]], [cofactor * e / det], dtype, "d log|det|")


@pytest.mark.parametrize("dtype", [np.float32, np.complex64])
def test_tangents_beyond_every_scaling_of_da(dtype):
    """Where the getrf tangent's intermediates leave the range at every power-of-two scaling of
    dA as a whole (their dynamic range is A's growth, here more than single precision's 2^254):
    was NaN, found by a random search against exact rational arithmetic; right now that dA is
    differentiated in bands of exponents, each at its own scale."""
    h = float.fromhex
    a = np.array([[h(x) for x in r] for r in (
        ("-0x1.3c646ep-18", "-0x1.6e511cp+20", "-0x1.b3a09ap-27", "-0x1.f5cdaep+75"),
        ("-0x1.29a818p-40", "-0x1.c39af8p+3", "-0x1.50a4a2p-45", "-0x1.8eae22p+55"),
        ("0x1.0cfc7ap-77", "0x1.006114p-36", "0x1.2f45f2p-84", "0x1.051cb8p+16"),
        ("0x1.49e2e6p-21", "0x1.1959f8p+21", "0x1.8e0fe2p-27", "0x1.f74560p+73"))], dtype)
    da = np.array([[h(x) for x in r] for r in (
        ("-0x1.8ab87cp+5", "0x1.490a04p+36", "0x1.d51058p-61", "0x1.82d91ap+20"),
        ("0x1.095474p+16", "0x1.63f3dcp+2", "-0x1.1523e8p+3", "0x1.32974cp-50"),
        ("0x1.b74334p+7", "-0x1.93dd62p-41", "-0x1.2f64cap+28", "0x1.b66d94p-53"),
        ("-0x1.78191ap+61", "0x1.0ce4f4p-31", "-0x1.34b57ep-24", "0x1.706fa2p-65"))], dtype)
    # exact values (rational arithmetic on the float32 entries)
    close([dl.det_jvp(a, da)[1]], [-5.926442172995424e+25], dtype, "d det")
    close([dl.slogdet_jvp(a, da)[1][1]], [-2.3121433029510848e+33], dtype, "d log|det|")


def _hex(rows, dtype):
    return np.array([[float.fromhex(x) for x in r] for r in rows], dtype)


def test_tangents_of_many_magnitudes_are_differentiated_in_bands():
    """A fifth review (of the fix above): a retry that scales dA as a whole either flushes its
    small entries (old: accepted, silently dropping their terms where they matter) or is refused
    (the fix's first version: inf / NaN). d det is linear in dA, so dA is now differentiated in
    bands of exponents, each at a scale exact for all its entries. Exact values: rational
    arithmetic on the float32 entries."""
    a = _hex([["0x1.cf1c78p-46", "0x1.fb41f0p-27", "-0x1.b0f42ep+35"], ["0x1.a7fd24p-75", "0", "0x1.168a6ep+7"],
              ["0", "0", "0"]], np.float32)   # singular: its last pivot is 0 (no inverse to fall back on)
    da = _hex([["0x1.274p-139", "0", "0x1.8p-148"], ["0", "0", "-0x1.e7274ep-79"],
               ["0", "0x1.aaf35cp+85", "0x1.f8951cp+72"]], np.float32)
    close([dl.det_jvp(a, da)[1]], [-3.953625936047503e14], np.float32, "d det, singular A")
    a = _hex([["0", "-0x1.d3207ep-13", "-0x1.48732ap+69", "0"], ["0x1.6d430ap-17", "0", "-0x1.8ef5eap-64", "-0x1.9a4fb0p-58"],
              ["0x1.cf0dbep-6", "0", "0", "0"], ["-0x1.364e90p-74", "0", "0", "0x1.70be20p+65"]], np.float32)  # kappa ~ 2^214
    da = _hex([["-0x1.f88e3cp+96", "0", "-0x1.a478d4p-63", "-0x1.a1f5c0p+47"], ["0", "0", "0", "0"],
               ["-0x1.b7d798p-59", "0", "0", "-0x1.5fap-138"], ["0", "-0x1.93e762p+23", "0", "0"]], np.float32)
    close([dl.det_jvp(a, da)[1]], [-1575331202.7158585], np.float32, "d det")
    close([dl.slogdet_jvp(a, da)[1][1]], [-55738080252757.72], np.float32, "d log|det|")


def test_small_tangents_do_not_underflow_in_the_lu_tangent():
    """The same review: a small but normal dA ran unscaled, and the LU tangent's intermediates
    underflowed (float32: -3.4e-27 for -1.41e-25; float64: the wrong sign). Each band's first
    scale now puts its largest entry as high as the format allows."""
    a = _hex([["0x1.733c1cp+8", "-0x1.d63180p+35"], ["-0x1.104cp+32", "0x1.094702p+38"]], np.float32)  # kappa ~ 2^8
    da = _hex([["-0x1.47a1eap-121", "-0x1.7af8ccp-122"], ["-0x1.74c1e6p-125", "0x1.609270p-119"]], np.float32)
    close([dl.det_jvp(a, da)[1]], [-1.4055759303202285e-25], np.float32, "d det, float32")
    a = _hex([["0x1.1c8e801b94ecfp-200", "-0x1.4bbbc6a787ef7p+173", "0x1.fbc9175d96117p+59"],
              ["-0x1.05f6eeed61e58p+171", "-0x1.a3d6c8c1eba6cp+178", "-0x1.6684dc2416874p+152"],
              ["0x1.b1ecff81cb78cp-137", "0x1.2a7d18e93b4eap-165", "-0x1.f47f1b1da41a8p+196"]], np.float64)
    da = _hex([["0x1.2a7e1bdbe832bp-1019", "-0x1.44352a03bb65fp-1015", "0x1.5097dc6ec92e5p-1018"],
               ["0x1.021dcf1b5be76p-1015", "0x1.5c4bf147f7dfap-1018", "0x1.8bfb88836d500p-1020"],
               ["0x1.f80e1bbfde014p-1017", "0x1.21405f77ecd1ep-1018", "-0x1.10a0b0f49191dp-1018"]], np.float64)
    close([dl.det_jvp(a, da)[1]], [1.9027753249449607e-194], np.float64, "d det, float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_nan_in_the_tangent_gives_nan(dtype):
    """A NaN entry of dA (in the real or the imaginary part only) makes d det NaN; it gave 0
    where that entry was dA's only nonzero one (the scale search skipped it as empty)."""
    a = np.array([[2, 1], [1, 3]], dtype)
    for imag in ((0.0, 1.0) if np.iscomplexobj(a) else (0.0,)):
        da = np.zeros((2, 2), dtype)
        da[0, 0] = np.nan + 1j * imag if imag else np.nan
        assert np.isnan(dl.det_jvp(a, da, check_finite=False)[1]), (dtype, imag)
        assert np.isnan(dl.slogdet_jvp(a, da, check_finite=False)[1][1]), (dtype, imag)


def test_slogdet_vjp_redoes_a_gauss_jordan_pass_with_a_non_finite_pivot():
    """The same review: slogdet_vjp's Gauss-Jordan forward pass met a NaN pivot on a finite,
    nonsingular A; its pivot-ratio test (which sends such cases to getrf) read NaN as fine, and
    the primal came out (nan, nan)."""
    for a in (_hex([["0", "-0x1.332de2p+23"], ["-0x1.54b29cp-47", "0x1.30dcb0p+86"]], np.float32),
              _hex([["-0x1.9d25d5fd40972p-826", "0x1.fbc988ff05dffp+312"], ["0", "-0x1.346da10dad259p-445"]],
                   np.float64)):
        (s, l), _ = dl.slogdet_vjp(a)
        assert (s, l) == tuple(dl.slogdet(a)) and np.isfinite(l), (a.dtype, s, l)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_tangents_whose_parts_lie_far_apart(dtype):
    """Bands go by the parts of dA, not by its entries (d det is linear in Re dA and in Im dA):
    an entry's small part is differentiated at its own scale, never flushed with its large one."""
    wide = dtype == np.complex128
    big, small = (1e300, 1e-300) if wide else (1e30, 1e-30)
    a = np.diag([small, big]).astype(dtype)
    da = np.zeros((2, 2), dtype)
    da[0, 0] = complex(1e10 * small, 1e-10 * small)       # parts ~2^66 apart
    da[1, 1] = complex(1e-100 * big, 1e-20) if wide else complex(1e-10 * big, 1e-20)
    want = complex(da[0, 0]) * big + small * complex(da[1, 1])
    close([dl.det_jvp(a, da)[1]], [want], dtype, "d det")
