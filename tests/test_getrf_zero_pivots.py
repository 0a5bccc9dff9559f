"""getrf's derivative kernels (dl_?getrf_fwd / dl_?getrf_rev, which the Enzyme layer and gesv's
adjoint share) on singular input: an exact zero pivot U(j,j) with rows below it (info > 0).

The NumPy API raises SingularMatrixError there (tests/test_getrf.py); the C kernels return the
derivative with NaN exactly where it is undefined. Regression (independent review, p8): a 3 x 3
matrix whose middle column is a constant zero has a packed LU that is a smooth function of the
two other columns, and forward mode agreed with central differences, but the REVERSE kernel gave
NaN for the whole first column of Abar: the undefined cotangent of the zero-pivot column was
multiplied by exact zeros (U(0,1) = 0, L(2,1) = 0) and IEEE's NaN * 0 = NaN spread it.

Evidence here, independent of the C recursion: a plain Python model of the tangent (unblocked,
right-looking Doolittle with the pivots fixed) in which an undefined quotient (a nonzero
numerator over a zero pivot) is an unknown and an exactly zero coefficient times an unknown is
exactly zero. Its Jacobian J, column per unit input, with NaN for the entries that depend on an
unknown, predicts both kernels: getrf_fwd(v) = J v and getrf_rev(w) = J^H w, NaN exactly where a
NaN entry of J meets a nonzero entry of v (w), the exact value elsewhere. Plus central
differences of ?getrf itself where the function is smooth, and the dot-product test.
The matrices get their zero pivots from exactly zero columns (and rows), with random values
elsewhere, so no numerator vanishes by cancellation."""
import numpy as np
import pytest
import scipy.linalg.lapack

from difflapack import _core
from difflapack._core import PRECISIONS, call
from _util import rng
from test_getrf import row_order

RTOL = {"s": 2e-3, "c": 2e-3, "d": 1e-9, "z": 1e-9}


def zero_structure(m, n, zero_cols=(), zero_rows=(), seed=0):
    a = rng(seed).standard_normal((m, n))
    a[:, list(zero_cols)] = 0.0
    a[list(zero_rows), :] = 0.0
    return a


def kernels(prefix, a, v, w):
    """(LU, 0-based piv, info, getrf_fwd's dLU for v, getrf_rev's rc and Abar for w)."""
    prec = PRECISIONS[prefix]
    m, n = a.shape
    A = np.asfortranarray(a, dtype=prec.dtype)
    ipiv = np.zeros(min(m, n), dtype=np.int32)
    dA = np.asfortranarray(v, dtype=prec.dtype)
    info = call(prec.kernel("getrf_fwd"), _core.ACTIVE_A, m, n, A, m, ipiv, dA, m)
    G = np.asfortranarray(w, dtype=prec.dtype)
    rc = call(prec.kernel("getrf_rev"), _core.ACTIVE_A, m, n, A, m, ipiv, G, m)
    return A, ipiv - 1, info, dA, rc, G


def model_jacobian(lu, piv):
    """J (outputs x inputs, both packed m x n in column-major order; NaN: undefined) of the
    model described in the module docstring, for all m n unit inputs at once."""
    lu = np.asarray(lu, dtype=complex)
    m, n = lu.shape
    k = min(m, n)
    q = m * n
    val = np.zeros((m, n, q), dtype=complex)
    p = row_order(piv, m)
    for i in range(m):  # P^T e_(r,c) has its one at (i, c) with p[i] == r
        for c in range(n):
            val[i, c, p[i] + c * m] = 1.0
    nz = val != 0          # structurally nonzero (reached from the input by nonzero coefficients)
    tt = np.zeros_like(nz)  # depends on an undefined quotient
    for j in range(k):
        r = slice(j + 1, m)
        lj = lu[j + 1:, j][:, None]
        on = lj != 0
        val[r, j] -= np.where(on, lj * val[j, j][None], 0)
        nz[r, j] |= on & nz[j, j][None]
        tt[r, j] |= on & tt[j, j][None]
        if lu[j, j] != 0:
            val[r, j] /= lu[j, j]
        else:
            tt[r, j] |= nz[r, j]
            val[r, j] = 0
        for c in range(j + 1, n):
            ujc = lu[j, c]
            if ujc != 0:
                val[r, c] -= val[r, j] * ujc
                nz[r, c] |= nz[r, j]
                tt[r, c] |= tt[r, j]
            val[r, c] -= np.where(on, lj * val[j, c][None], 0)
            nz[r, c] |= on & nz[j, c][None]
            tt[r, c] |= on & tt[j, c][None]
    return val.reshape(q, q, order="F"), tt.reshape(q, q, order="F")


def predicted(J, undefined, x, adjoint):
    """J x (adjoint: J^H x) with an undefined entry contributing NaN only against x != 0."""
    if adjoint:
        J, undefined = J.conj().T, undefined.T
    touched = x.ravel(order="F") != 0
    out = J[:, touched] @ x.ravel(order="F")[touched]
    out[np.any(undefined[:, touched], axis=1)] = np.nan
    return out.reshape(x.shape, order="F")


def assert_matches(got, want, rtol, what):
    nan_got, nan_want = np.isnan(got), np.isnan(want)
    assert np.array_equal(nan_got, nan_want), f"{what}: NaN at {np.argwhere(nan_got)}, want {np.argwhere(nan_want)}"
    g, w = got[~nan_got], want[~nan_want]
    scale = max(1.0, np.abs(w).max(initial=0.0))
    assert np.abs(g - w).max(initial=0.0) <= rtol * scale, f"{what}: {g} vs {w}"


CASES = {  # (m, n, zero columns, zero rows)
    "review-3x3-midzero": (3, 3, (1,), ()),
    "tall": (6, 4, (1,), ()),
    "wide-two-zero-pivots": (4, 6, (1, 2), ()),
    "zero-row-and-column": (5, 5, (1,), (1,)),       # U(1, :) = 0 and L(1, :) = 0: strong zeros in L and U
    "three-zero-pivots": (7, 7, (0, 3, 4), ()),
    "blocked-tall": (40, 30, (3, 12, 13, 25), (12,)),  # past the panel width: the recursive path
    "blocked-wide": (24, 33, (5, 20), (7,)),
}


@pytest.mark.parametrize("prefix", "sdcz")
@pytest.mark.parametrize("case", list(CASES))
def test_zero_pivot_kernels_match_the_strong_zero_model(prefix, case):
    m, n, zc, zr = CASES[case]
    a = zero_structure(m, n, zc, zr, seed=m * n)
    r = rng(7)
    cplx = PRECISIONS[prefix].is_complex
    def draw():
        x = r.standard_normal((m, n))
        return x + 1j * r.standard_normal((m, n)) if cplx else x
    if cplx:
        a = a + 1j * np.where(a != 0, r.standard_normal((m, n)), 0)
    v, w = draw(), draw()
    defined_v = v.copy()
    defined_v[:, list(zc)] = 0  # the smooth directions: every other column
    lu, piv, info, _, _, _ = kernels(prefix, a, v, w)
    assert info == min(zc) + 1
    J, undefined = model_jacobian(lu, piv)
    assert np.any(undefined)
    rtol = RTOL[prefix]
    for tangent in (v, defined_v):
        _, _, _, dlu, _, _ = kernels(prefix, a, tangent, w)
        assert_matches(dlu, predicted(J, undefined, tangent, False), rtol, f"{case} getrf_fwd")
    # cotangents: generic, on the defined outputs only, and exactly zero
    out_undefined = np.any(undefined, axis=1).reshape(m, n, order="F")
    defined_w = np.where(out_undefined, 0, w)
    for cot in (w, defined_w, np.zeros_like(w)):
        _, _, _, _, rc, abar = kernels(prefix, a, v, cot)
        assert rc == info
        want = predicted(J, undefined, cot, True)
        assert_matches(abar, want, rtol, f"{case} getrf_rev")
    assert not np.any(np.isnan(kernels(prefix, a, v, defined_w)[5]))
    assert np.all(kernels(prefix, a, v, np.zeros_like(w))[5] == 0)
    # dot product on the smooth directions: <J v, w> = <v, J^H w>
    _, _, _, dlu, _, abar = kernels(prefix, a, defined_v, w)
    lhs, rhs = np.vdot(w, dlu), np.vdot(abar[:, np.any(defined_v != 0, axis=0)],
                                        defined_v[:, np.any(defined_v != 0, axis=0)])
    assert np.isfinite(lhs) and abs(lhs - rhs) <= rtol * max(1.0, abs(lhs))


def test_review_example_reverse_is_finite_and_matches_central_differences():
    """The reviewer's reproducer: A = [x0 | 0 | x2]; the LU (pivots fixed, info = 2) is smooth
    in x0 and x2: getrf_rev's Abar for those columns is finite and equals the transpose of the
    central-difference Jacobian of ?getrf itself. So is the entry at the zero pivot itself
    (A(0,1): a small value there becomes the pivot, the pivots stay and nothing below it
    changes); the two other entries of the zero column reach L(2,1) = x / 0: NaN."""
    x = np.array([[0.5, 0.0, 1.0], [-1.2, 0.0, 0.3], [0.8, 0.0, -0.7]])
    lu, piv, info = scipy.linalg.lapack.dgetrf(x)
    assert info == 2 and lu[1, 1] == 0
    w = rng(3).standard_normal((3, 3))
    _, _, _, _, rc, abar = kernels("d", x, np.zeros((3, 3)), w)
    assert rc == 2
    h = 1e-6
    for i, c in [(0, 0), (1, 0), (2, 0), (0, 1), (0, 2), (1, 2), (2, 2)]:
        e = np.zeros((3, 3))
        e[i, c] = h
        up, pu, _ = scipy.linalg.lapack.dgetrf(x + e)
        dn, pd, _ = scipy.linalg.lapack.dgetrf(x - e)
        assert np.array_equal(pu, piv) and np.array_equal(pd, piv)
        fd = np.sum((up - dn) / (2 * h) * w)
        assert abs(abar[i, c] - fd) <= 1e-8 * max(1.0, abs(fd)), (i, c, abar[i, c], fd)
    assert np.all(np.isnan(abar[1:, 1]))


@pytest.mark.parametrize("case", ["tall", "wide-two-zero-pivots", "blocked-tall", "blocked-wide"])
def test_zero_pivot_forward_matches_central_differences_on_smooth_directions(case):
    m, n, zc, zr = CASES[case]
    a = zero_structure(m, n, zc, zr, seed=m * n)
    v = rng(11).standard_normal((m, n))
    v[:, list(zc)] = 0
    lu, piv, info = scipy.linalg.lapack.dgetrf(a)
    _, _, _, dlu, _, _ = kernels("d", a, v, np.zeros((m, n)))
    assert np.all(np.isfinite(dlu))
    h = 1e-6
    up, pu, _ = scipy.linalg.lapack.dgetrf(a + h * v)
    dn, pd, _ = scipy.linalg.lapack.dgetrf(a - h * v)
    assert np.array_equal(pu, piv) and np.array_equal(pd, piv)
    fd = (up - dn) / (2 * h)
    assert np.abs(dlu - fd).max() <= 1e-6 * max(1.0, np.abs(fd).max())
