"""potrf, potrs, posv: the NumPy API (difflapack.potrf ... posv_vjp) and the C kernels
dl_?potrf/potrs/posv{,_fwd,_rev} behind it, in all four precisions, uplo 'L' and 'U'.

Evidence, for every rule x precision x uplo over sizes that exercise the recursion (the C base
case is 32): the NumPy reference rules of _reference_rules.py (checked against dense forms,
finite differences and JAX in test_reference_rules.py) to rounding; central differences of the
double-precision primal along real AND imaginary directions; the dot-product test
Re<J v, w> = Re<v, J* w>; JAX's own rules (jnp.linalg.cholesky, jax.scipy.linalg.cho_solve) in
float32, float64, complex64 and complex128. Then the kernels' buffer semantics (the other
triangle of a tangent/cotangent buffer passed through, Im of the diagonal not read, lda > n,
n = 0, nrhs = 0), the not-positive-definite rule, argument errors."""
import zlib

import numpy as np
import pytest
import scipy.linalg.lapack as lapack

import _reference_rules as R
import difflapack as dl
from difflapack._core import call, precision_of

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
SIZES = [0, 1, 7, 40, 77]          # 40, 77: recursion above the C base case
HI = {np.float32: np.float64, np.float64: np.float64, np.complex64: np.complex128, np.complex128: np.complex128}
A_ON, B_ON, WANT_DC = 1, 2, 8


# ------------------------------------------------------------------ helpers
def rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def rnd(r, shape, dtype):
    x = r.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * r.standard_normal(shape)
    return x.astype(dtype)


def hpd(r, n, dtype, uplo):
    """Hermitian positive definite (kappa ~ 10) with garbage in the triangle LAPACK does not
    read and, for complex data, in the imaginary part of the diagonal."""
    m = rnd(r, (n, n), dtype) / np.sqrt(max(n, 1))
    a = (m @ R.H(m) + np.eye(n)).astype(dtype)
    other = R.tri_mask(n, "U" if uplo == "L" else "L", strict=True)
    a[other] = (50 * rnd(r, (n, n), dtype))[other]
    if np.dtype(dtype).kind == "c" and n:
        a[np.diag_indices(n)] += 3j * r.standard_normal(n)
    return a


def eps(dtype):
    return float(np.finfo(np.dtype(dtype)).eps)


def exact_tol(dtype):
    """Relative error of an exact derivative (kappa ~ 10, n <= 77; measured: <= 4 eps)."""
    return 50 * eps(dtype)


def fd_tol(dtype):
    """Our derivative (in dtype) against central differences (step 2e-6) of the double-precision
    primal (measured: <= 6e-10 in double precision)."""
    return max(2e-8, 50 * eps(dtype))


def rinner(a, b):
    a = a if isinstance(a, tuple) else (a,)
    b = b if isinstance(b, tuple) else (b,)
    return sum(float(np.real(np.vdot(np.asarray(x, np.complex128), np.asarray(y, np.complex128))))
               for x, y in zip(a, b) if x is not None and y is not None)


def norm(a):
    a = a if isinstance(a, tuple) else (a,)
    return float(np.sqrt(sum(np.linalg.norm(np.asarray(x, np.complex128)) ** 2 for x in a if x is not None)))


def assert_dot(jv, w, v, jtw, dtype, what):
    lhs, rhs = rinner(w, jv), rinner(jtw, v)
    scale = max(norm(w) * norm(jv), norm(jtw) * norm(v), 1e-300)
    assert abs(lhs - rhs) <= exact_tol(dtype) * scale, f"{what}: <w,Jv>={lhs!r} <J*w,v>={rhs!r}"


def assert_close(got, want, rtol, what):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert np.all(np.isfinite(got)), f"{what}: non-finite values"
    err = np.abs(got.astype(np.complex128) - want.astype(np.complex128)).max(initial=0.0)
    err /= max(np.abs(want).max(initial=0.0), 1.0)
    assert err <= rtol, f"{what}: relative error {err:.3e} > {rtol:.1e}"


def central(f, xs, dxs, h=2e-6):
    plus = [x if d is None else x + h * d for x, d in zip(xs, dxs)]
    minus = [x if d is None else x - h * d for x, d in zip(xs, dxs)]
    fp, fm = f(*plus), f(*minus)
    fp, fm = (fp, fm) if isinstance(fp, tuple) else ((fp,), (fm,))
    return tuple((np.asarray(p) - np.asarray(m)) / (2 * h) for p, m in zip(fp, fm))


def directions(*v):
    """(name, direction) pairs: v itself and, for complex data, i v (the rules are only
    real-linear: the imaginary directions are checked on their own)."""
    out = [("re", v)]
    if any(x is not None and np.iscomplexobj(x) for x in v):
        out.append(("im", tuple(None if x is None else 1j * x for x in v)))
    return out


def up(x, dtype):
    return None if x is None else np.asarray(x).astype(HI[dtype])


def tri(m, uplo):
    return np.tril(m) if uplo == "L" else np.triu(m)


def kernel(dtype, name, *args):
    return call(precision_of(a=np.zeros(1, dtype)).kernel(name), *args)


def F(x):
    return np.array(x, order="F", copy=True)


# ------------------------------------------------------------------ primal
@pytest.mark.parametrize("uplo", "LU")
@pytest.mark.parametrize("dtype", DTYPES)
def test_primal_matches_lapack(dtype, uplo):
    lower = int(uplo == "L")
    for n, nrhs in [(1, 1), (6, None), (45, 3)]:
        r = rng("primal", dtype, uplo, n)
        a = hpd(r, n, dtype, uplo)
        b = rnd(r, (n,) if nrhs is None else (n, nrhs), dtype)
        a0, b0 = a.copy(), b.copy()
        c, info = dl.potrf(a, uplo)
        c_s, info_s = lapack.get_lapack_funcs("potrf", dtype=np.dtype(dtype))(a, lower=lower)
        assert info == info_s == 0 and c.dtype == np.dtype(dtype)
        assert_close(c, c_s, exact_tol(dtype), "potrf")
        assert not np.any(c - tri(c, uplo)), "the factor is zero outside its triangle"
        x = dl.potrs(c, b, uplo)
        assert x.shape == b.shape
        x_s, _ = lapack.get_lapack_funcs("potrs", dtype=np.dtype(dtype))(c_s, b.reshape(n, -1), lower=lower)
        assert_close(x, x_s.reshape(b.shape), exact_tol(dtype) * 10, "potrs")
        c2, x2, info2 = dl.posv(a, b, uplo)
        assert info2 == 0 and np.array_equal(c2, c) and np.array_equal(x2, x)
        assert np.array_equal(a, a0) and np.array_equal(b, b0), "inputs are never modified"


# ------------------------------------------------------------------ potrf
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("uplo", "LU")
@pytest.mark.parametrize("dtype", DTYPES)
def test_potrf_rules(dtype, uplo, n):
    r = rng("potrf", dtype, uplo, n)
    a, da, cbar = hpd(r, n, dtype, uplo), rnd(r, (n, n), dtype), rnd(r, (n, n), dtype)
    st = R.tri_mask(n, uplo)
    (c, info), dc = dl.potrf_jvp(a, da, uplo)
    (c2, _), pullback = dl.potrf_vjp(a, uplo)
    abar = pullback(cbar)
    what = f"potrf {dtype.__name__} {uplo} n={n}"
    assert info == 0 and np.array_equal(c, c2) and dc.dtype == abar.dtype == np.dtype(dtype)
    assert not np.any(dc[~st]) and not np.any(abar[~st]), what + ": zero outside the triangle"
    assert not np.any(np.imag(np.diagonal(dc))) and not np.any(np.imag(np.diagonal(abar))), what
    # the reference rules, in double precision
    _, _, dc_ref = R.potrf_jvp(up(a, dtype), up(da, dtype), uplo)
    c_ref = R.potrf(up(a, dtype), uplo)[0]
    assert_close(dc, np.where(st, dc_ref, 0), exact_tol(dtype), what + " dC")
    assert_close(abar, np.where(st, R.potrf_vjp(c_ref, up(cbar, dtype), uplo), 0), exact_tol(dtype), what + " Abar")
    assert_dot(dc, cbar, da, abar, dtype, what)
    for kind, (d,) in directions(da):
        (fd,) = central(lambda a_: dl.potrf(a_, uplo)[0], (up(a, dtype),), (up(d, dtype),))
        assert_close(dl.potrf_jvp(a, d, uplo)[1], fd, fd_tol(dtype), what + f" FD ({kind})")


@pytest.mark.parametrize("uplo", "LU")
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_potrf_ignores_other_triangle_and_imaginary_diagonal(dtype, uplo):
    r = rng("potrf-ign", dtype, uplo)
    n = 50
    a = hpd(r, n, dtype, uplo)
    d = np.where(R.tri_mask(n, uplo), 0, rnd(r, (n, n), dtype))
    if np.iscomplexobj(d):
        d[np.diag_indices(n)] = 1j * r.standard_normal(n)
    assert not np.any(dl.potrf_jvp(a, d, uplo)[1])
    # an inf in the unread triangle passes check_finite; in the read one it does not
    a_inf = a.copy()
    a_inf[(0, n - 1) if uplo == "L" else (n - 1, 0)] = np.inf
    assert np.array_equal(dl.potrf(a_inf, uplo)[0], dl.potrf(a, uplo)[0])
    a_inf[n - 1, n - 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        dl.potrf(a_inf, uplo)


# ------------------------------------------------------------------ potrs
POTRS_SHAPES = [(0, 2), (1, None), (7, 1), (40, 3), (77, 2), (5, 0)]


@pytest.mark.parametrize("uplo", "LU")
@pytest.mark.parametrize("dtype", DTYPES)
def test_potrs_rules(dtype, uplo):
    for n, nrhs in POTRS_SHAPES:
        r = rng("potrs", dtype, uplo, n, nrhs)
        c = dl.potrf(hpd(r, n, dtype, uplo), uplo)[0]
        if np.iscomplexobj(c) and n:    # potrs reads the diagonal as stored (complex)
            c[np.diag_indices(n)] *= np.exp(1j * r.uniform(-0.5, 0.5, n)).astype(dtype)
        shape = (n,) if nrhs is None else (n, nrhs)
        b, db, xbar, dc = (rnd(r, s, dtype) for s in (shape, shape, shape, (n, n)))
        st = R.tri_mask(n, uplo)
        what = f"potrs {dtype.__name__} {uplo} n={n} nrhs={nrhs}"
        x, dx = dl.potrs_jvp(c, b, dc, db, uplo)
        x2, pullback = dl.potrs_vjp(c, b, uplo)
        cbar, bbar = pullback(xbar)
        assert x.shape == dx.shape == bbar.shape == b.shape and np.array_equal(x, x2)
        assert not np.any(cbar[~st]), what
        if n and (nrhs or nrhs is None):
            b2 = up(b, dtype).reshape(n, -1)
            _, dx_ref = R.potrs_jvp(up(c, dtype), b2, up(dc, dtype), up(db, dtype).reshape(n, -1), uplo)
            cbar_ref, bbar_ref = R.potrs_vjp(up(c, dtype), R.potrs(up(c, dtype), b2, uplo),
                                             up(xbar, dtype).reshape(n, -1), uplo)
            assert_close(dx, dx_ref.reshape(shape), exact_tol(dtype), what + " dX")
            assert_close(cbar, cbar_ref, exact_tol(dtype), what + " Cbar")
            assert_close(bbar, bbar_ref.reshape(shape), exact_tol(dtype), what + " Bbar")
        assert_dot(dx, xbar, (dc, db), (cbar, bbar), dtype, what)
        for kind, d in directions(dc, db):
            fd = central(lambda c_, b_: dl.potrs(c_, b_, uplo), (up(c, dtype), up(b, dtype)),
                         tuple(up(v, dtype) for v in d))
            assert_close(dl.potrs_jvp(c, b, *d, uplo)[1], fd[0], fd_tol(dtype), what + f" FD ({kind})")
        # one input constant at a time
        assert_close(dl.potrs_jvp(c, b, None, db, uplo)[1] + dl.potrs_jvp(c, b, dc, None, uplo)[1], dx,
                     exact_tol(dtype), what + " activity")


def test_potrs_zero_diagonal():
    c = np.array([[2.0, 0], [1, 0]])
    with pytest.raises(dl.SingularMatrixError) as e:
        dl.potrs(c, np.ones(2))
    assert e.value.info == 2
    # the kernel: an all-zero cotangent contributes exactly zero, and reports the zero
    cbar, bbar = np.zeros((2, 2), order="F"), np.zeros((2, 1), order="F")
    x = np.ones((2, 1), order="F")
    assert kernel(np.float64, "potrs_rev", A_ON | B_ON, b"L", 2, 1, F(c), 2, cbar, 2, x, 2, bbar, 2) == 2
    assert not np.any(cbar) and not np.any(bbar)


# ------------------------------------------------------------------ posv
POSV_SHAPES = [(0, 1), (1, None), (7, 1), (40, 3), (77, 2), (6, 0)]


@pytest.mark.parametrize("uplo", "LU")
@pytest.mark.parametrize("dtype", DTYPES)
def test_posv_rules(dtype, uplo):
    for n, nrhs in POSV_SHAPES:
        r = rng("posv", dtype, uplo, n, nrhs)
        shape = (n,) if nrhs is None else (n, nrhs)
        a, da, cbar = hpd(r, n, dtype, uplo), rnd(r, (n, n), dtype), rnd(r, (n, n), dtype)
        b, db, xbar = (rnd(r, shape, dtype) for _ in range(3))
        st = R.tri_mask(n, uplo)
        what = f"posv {dtype.__name__} {uplo} n={n} nrhs={nrhs}"
        (c, x, info), (dc, dx) = dl.posv_jvp(a, b, da, db, uplo)
        (c2, x2, _), pullback = dl.posv_vjp(a, b, uplo)
        assert info == 0 and np.array_equal(c, c2) and np.array_equal(x, x2) and dx.shape == b.shape
        assert_close(dc, dl.potrf_jvp(a, da, uplo)[1], exact_tol(dtype), what + " dC = potrf's")
        for cb in (cbar, None):
            abar, bbar = pullback(xbar, cb)
            assert not np.any(abar[~st]) and not np.any(np.imag(np.diagonal(abar))), what
            assert_dot((dc, dx), (cb, xbar), (da, db), (abar, bbar), dtype, what)
            cols = 1 if nrhs is None else nrhs
            c_ref, x_ref, _ = R.posv(up(a, dtype), up(b, dtype).reshape(n, cols), uplo)
            abar_ref, bbar_ref = R.posv_vjp(c_ref, x_ref, up(xbar, dtype).reshape(n, cols), up(cb, dtype), uplo)
            assert_close(abar, np.where(st, abar_ref, 0), exact_tol(dtype), what + " Abar")
            assert_close(bbar, bbar_ref.reshape(shape), exact_tol(dtype), what + " Bbar")
        # the cheap reverse (A X = B) equals potrs' adjoint chained into potrf's
        (_, pb_potrs) = dl.potrs_vjp(c, b, uplo)
        chained = dl.potrf_vjp(a, uplo)[1](pb_potrs(xbar)[0])
        assert_close(pullback(xbar)[0], chained, exact_tol(dtype), what + " vs chained")
        for kind, d in directions(da, db):
            fd = central(lambda a_, b_: dl.posv(a_, b_, uplo)[:2], (up(a, dtype), up(b, dtype)),
                         tuple(up(v, dtype) for v in d))
            got = dl.posv_jvp(a, b, *d, uplo)[1]
            assert_close(got[0], fd[0], fd_tol(dtype), what + f" FD dC ({kind})")
            assert_close(got[1], fd[1], fd_tol(dtype), what + f" FD dX ({kind})")
        assert not np.any(pullback(None)[1]) and not np.any(pullback(None)[0])


# ------------------------------------------------------------------ JAX
jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import jax.scipy.linalg as jsl  # noqa: E402


def j_herm(s, uplo):
    st_ = jnp.tril(s, -1) if uplo == "L" else jnp.triu(s, 1)
    return st_ + st_.conj().T + jnp.diag(jnp.real(jnp.diagonal(s)).astype(s.dtype))


def jax_jvp_vjp(f, primals, tangents, cot):
    """JAX's jvp, and its vjp in our convention: ours(w) = conj(jax_vjp(conj(w)))."""
    def both(p, t, w):
        _, tan = jax.jvp(f, p, t)
        _, pb = jax.vjp(f, *p)
        return tan, pb(w)
    p, t = tuple(jnp.asarray(x) for x in primals), tuple(jnp.asarray(x) for x in tangents)
    tan, g = jax.jit(both)(p, t, tuple(jnp.asarray(np.conj(w)) for w in cot))
    return [np.asarray(x) for x in tan], [np.conj(np.asarray(x)) for x in g]


@pytest.mark.parametrize("uplo", "LU")
@pytest.mark.parametrize("dtype", DTYPES)
def test_against_jax(dtype, uplo):
    """JAX functions of the STORED triangle: the Cholesky factor of Herm(S) (jnp.linalg.
    cholesky; 'U' is its conjugate transpose), potrs by cho_solve on the factor's triangle,
    posv by cho_solve with the Cholesky factor of Herm(S). In each precision JAX runs in."""
    r = rng("jax", dtype, uplo)
    n, nrhs = 40, 2
    lower = uplo == "L"
    a, da, cbar = hpd(r, n, dtype, uplo), rnd(r, (n, n), dtype), rnd(r, (n, n), dtype)
    b, db, xbar = (rnd(r, (n, nrhs), dtype) for _ in range(3))
    c = dl.potrf(a, uplo)[0]
    dc_c = rnd(r, (n, n), dtype)
    st = jnp.asarray(R.tri_mask(n, uplo))

    def chol(s):
        L = jnp.linalg.cholesky(j_herm(s, uplo))
        return L if lower else L.conj().T

    def f(s, cf, b_):
        return (chol(s), jsl.cho_solve((jnp.where(st, cf, 0), lower), b_),
                jsl.cho_solve((jnp.where(st, chol(s), 0), lower), b_))

    (jdc, jdx_potrs, jdx_posv), (jabar, jcbar, jbbar) = jax_jvp_vjp(
        f, (a, c, b), (da, dc_c, db), (cbar, xbar, xbar))
    tol = 100 * eps(dtype)
    what = f"{dtype.__name__} {uplo}"
    assert_close(dl.potrf_jvp(a, da, uplo)[1], jdc, tol, what + " potrf dC")
    assert_close(dl.potrs_jvp(c, b, dc_c, db, uplo)[1], jdx_potrs, tol, what + " potrs dX")
    assert_close(dl.posv_jvp(a, b, da, db, uplo)[1][1], jdx_posv, tol, what + " posv dX")
    # the cotangents: potrf's of cbar + posv's solve part of xbar = JAX's of S; potrs' of the
    # factor (through cho_solve) and both solves' of B
    abar_potrf = dl.potrf_vjp(a, uplo)[1](cbar)
    abar_posv, bbar_posv = dl.posv_vjp(a, b, uplo)[1](xbar)
    cbar_potrs, bbar_potrs = dl.potrs_vjp(c, b, uplo)[1](xbar)
    assert_close(abar_potrf + abar_posv, jabar, tol, what + " Abar")
    assert_close(dl.posv_vjp(a, b, uplo)[1](xbar, cbar)[0], jabar, tol, what + " posv Abar with Cbar")
    assert_close(cbar_potrs, jcbar, tol, what + " potrs Cbar")
    assert_close(bbar_potrs + bbar_posv, jbbar, tol, what + " Bbar")


# ------------------------------------------------------------------ not positive definite
def _not_pd(dtype, uplo, n, j, seed=0):
    r = rng("npd", dtype, uplo, n, seed)
    a = hpd(r, n, dtype, uplo)
    a[j - 1, j - 1] = -50
    return r, a


@pytest.mark.parametrize("uplo", "LU")
@pytest.mark.parametrize("dtype", DTYPES)
def test_not_positive_definite_api(dtype, uplo):
    n, j = 12, 8
    r, a = _not_pd(dtype, uplo, n, j)
    b = rnd(r, (n, 2), dtype)
    assert dl.potrf(a, uplo)[1] == j
    c, x, info = dl.posv(a, b, uplo)
    assert info == j and np.array_equal(x, b)      # LAPACK leaves B alone
    for fn in (lambda: dl.potrf_jvp(a, a, uplo), lambda: dl.potrf_vjp(a, uplo),
               lambda: dl.posv_jvp(a, b, a, b, uplo), lambda: dl.posv_vjp(a, b, uplo)):
        with pytest.raises(dl.NotPositiveDefiniteError) as e:
            fn()
        assert e.value.info == j and isinstance(e.value, np.linalg.LinAlgError)


@pytest.mark.parametrize("n,j", [(12, 8), (90, 61)])
@pytest.mark.parametrize("uplo", "LU")
@pytest.mark.parametrize("dtype", [np.float32, np.complex128])
def test_not_positive_definite_kernels(dtype, uplo, n, j):
    """The C kernels: the leading (j-1) block keeps its exact derivative, NaN on the rest of
    the stored triangle, exact zeros for a zero tangent / a cotangent vanishing there; the
    other triangle passed through; posv leaves B unchanged (as LAPACK), so its derivative is the
    identity: dB keeps its tangent, Bbar = Xbar."""
    r, a = _not_pd(dtype, uplo, n, j)
    k, ld = j - 1, n
    st = R.tri_mask(n, uplo)
    lead = np.zeros((n, n), bool)
    lead[:k, :k] = True
    da = rnd(r, (n, n), dtype)
    c, dc = F(a), F(da)
    assert kernel(dtype, "potrf_fwd", A_ON, uplo.encode(), n, c, ld, dc, ld) == j
    (_, _), dc_k = dl.potrf_jvp(a[:k, :k], da[:k, :k], uplo)
    assert_close(dc[:k, :k][st[:k, :k]], dc_k[st[:k, :k]], exact_tol(dtype), "leading tangent")
    assert np.all(np.isnan(dc[st & ~lead])) and np.array_equal(dc[~st], da[~st])
    dz = F(np.where(st, 0, da))
    assert kernel(dtype, "potrf_fwd", A_ON, uplo.encode(), n, F(a), ld, dz, ld) == j
    assert not np.any(dz[st]) and np.array_equal(dz[~st], da[~st])
    # reverse: Cbar on the leading block only, then with one entry outside it
    cbar = np.where(lead, rnd(r, (n, n), dtype), 0)
    cbar[~st] = da[~st]
    ab = F(cbar)
    assert kernel(dtype, "potrf_rev", A_ON, uplo.encode(), n, c, ld, ab, ld) == j
    want = dl.potrf_vjp(a[:k, :k], uplo)[1](cbar[:k, :k])
    assert_close(ab[:k, :k][st[:k, :k]], want[st[:k, :k]], exact_tol(dtype), "leading adjoint")
    assert not np.any(ab[st & ~lead]) and np.array_equal(ab[~st], cbar[~st])
    cbar[j - 1, j - 1] = 1
    ab = F(cbar)
    assert kernel(dtype, "potrf_rev", A_ON, uplo.encode(), n, c, ld, ab, ld) == j
    assert np.all(np.isnan(ab[st])) and np.array_equal(ab[~st], cbar[~st])
    # posv
    b, db = rnd(r, (n, 2), dtype), rnd(r, (n, 2), dtype)
    for dA, dB in ((da, db), (np.where(st, 0, da), np.zeros_like(db))):
        A, B, dAm, dBm = F(a), F(b), F(dA), F(dB)
        assert kernel(dtype, "posv_fwd", A_ON | B_ON | WANT_DC, uplo.encode(), n, 2, A, ld, dAm, ld, B, ld,
                      dBm, ld) == j
        assert np.array_equal(B, b) and np.array_equal(dBm, dB)
    dBm = F(rnd(r, (n, 2), dtype))
    assert kernel(dtype, "posv_fwd", A_ON, uplo.encode(), n, 2, F(a), ld, F(da), ld, F(b), ld, dBm, ld) == j
    assert not np.any(dBm)   # a constant B: its unchanged value has a zero tangent
    for xb, cb in ((db, np.zeros((n, n), dtype)), (np.zeros_like(db), cbar)):
        dAm, dBm = F(cb), F(xb)
        assert kernel(dtype, "posv_rev", A_ON | B_ON, uplo.encode(), n, 2, c, ld, dAm, ld, None, ld, dBm, ld) == j
        assert np.array_equal(dBm, xb)   # Bbar = Xbar
        if cb is cbar:   # potrf_rev's rule for Cbar (NaN: cbar is nonzero at (j-1, j-1))
            assert np.all(np.isnan(dAm[st]))
        else:
            assert not np.any(dAm[st]) and np.array_equal(dAm[~st], cb[~st])


# ------------------------------------------------------------------ kernel buffers and errors
@pytest.mark.parametrize("uplo", "LU")
@pytest.mark.parametrize("dtype", DTYPES)
def test_kernels_padded_buffers_and_pass_through(dtype, uplo):
    """lda > n everywhere; the kernels never touch the other triangle of a tangent/cotangent
    buffer (in-place convention: it stays the caller's), nor rows beyond n."""
    n, nrhs, ld = 45, 3, 50
    r = rng("buffers", dtype, uplo)
    a, da, cbar = hpd(r, n, dtype, uplo), rnd(r, (n, n), dtype), rnd(r, (n, n), dtype)
    b, db, xbar = (rnd(r, (n, nrhs), dtype) for _ in range(3))
    st = R.tri_mask(n, uplo)

    def pad(m):
        p = F(rnd(r, (ld, m.shape[1]), dtype))
        p[:m.shape[0]] = m
        return p

    A, dA, B, dB = pad(a), pad(da), pad(b), pad(db)
    A0, dA0, B0 = A.copy(), dA.copy(), B.copy()
    u = uplo.encode()
    assert kernel(dtype, "posv_fwd", A_ON | B_ON | WANT_DC, u, n, nrhs, A, ld, dA, ld, B, ld, dB, ld) == 0
    (c, x, _), (dc, dx) = dl.posv_jvp(a, b, da, db, uplo)
    assert_close(np.where(st, A[:n], 0), c, exact_tol(dtype), "C")
    assert_close(np.where(st, dA[:n], 0), dc, exact_tol(dtype), "dC")
    assert_close(dB[:n], dx, exact_tol(dtype), "dX")
    assert np.array_equal(dA[:n][~st], da[~st]) and np.array_equal(A[:n][~st], a[~st])
    assert np.array_equal(dA[n:], dA0[n:]) and np.array_equal(A[n:], A0[n:]) and np.array_equal(B[n:], B0[n:])
    Cbar, Xbar = pad(cbar), pad(xbar)
    Cbar0 = Cbar.copy()
    assert kernel(dtype, "posv_rev", A_ON | B_ON, u, n, nrhs, A, ld, Cbar, ld, B, ld, Xbar, ld) == 0
    abar, bbar = dl.posv_vjp(a, b, uplo)[1](xbar, cbar)
    assert_close(np.where(st, Cbar[:n], 0), abar, exact_tol(dtype), "Abar")
    assert_close(Xbar[:n], bbar, exact_tol(dtype), "Bbar")
    assert np.array_equal(Cbar[:n][~st], cbar[~st]) and np.array_equal(Cbar[n:], Cbar0[n:])
    # potrs_rev accumulates into the factor's cotangent
    Cbar, Xbar = pad(cbar), pad(xbar)
    assert kernel(dtype, "potrs_rev", A_ON | B_ON, u, n, nrhs, A, ld, Cbar, ld, B, ld, Xbar, ld) == 0
    cb, bb = dl.potrs_vjp(c, b, uplo)[1](xbar)
    assert_close(np.where(st, Cbar[:n] - cbar, 0), cb, exact_tol(dtype), "potrs Cbar accumulated")
    assert np.array_equal(Cbar[:n][~st], cbar[~st])


@pytest.mark.parametrize("dtype", DTYPES)
def test_kernels_empty_sizes(dtype):
    """n = 0 and nrhs = 0 quick-return like LAPACK (SciPy's wrappers reject them); posv with
    nrhs = 0 still factors; nothing active touches nothing."""
    z = np.zeros((1, 1), dtype, order="F")
    for name, args in [("potrf", (b"L", 0, None, 1)), ("potrf_fwd", (A_ON, b"U", 0, None, 1, None, 1)),
                       ("potrf_rev", (A_ON, b"L", 0, None, 1, None, 1)),
                       ("potrs_fwd", (A_ON | B_ON, b"L", 0, 3, None, 1, None, 1, None, 1, None, 1)),
                       ("potrs_rev", (A_ON | B_ON, b"U", 4, 0, z, 4, z, 4, None, 4, None, 4)),
                       ("posv_rev", (A_ON | B_ON, b"L", 0, 2, None, 1, None, 1, None, 1, None, 1))]:
        assert kernel(dtype, name, *args) == 0, name
    r = rng("empty", dtype)
    a = hpd(r, 6, dtype, "L")
    A, dA = F(a), F(rnd(r, (6, 6), dtype))
    dA0 = dA.copy()
    assert kernel(dtype, "posv_fwd", A_ON | WANT_DC, b"L", 6, 0, A, 6, dA, 6, None, 6, None, 6) == 0
    assert_close(np.tril(A), dl.potrf(a)[0], exact_tol(dtype), "posv nrhs = 0 factors")
    assert_close(np.tril(dA), dl.potrf_jvp(a, dA0)[1], exact_tol(dtype), "and differentiates the factor")
    cbar = F(rnd(r, (6, 6), dtype))
    want = dl.potrf_vjp(a)[1](cbar)
    assert kernel(dtype, "posv_rev", A_ON | B_ON, b"L", 6, 0, A, 6, cbar, 6, None, 6, None, 6) == 0
    assert_close(np.tril(cbar), want, exact_tol(dtype), "posv_rev nrhs = 0: potrf's adjoint")
    dA = F(dA0)
    assert kernel(dtype, "potrf_fwd", 0, b"L", 6, F(a), 6, dA, 6) == 0 and np.array_equal(dA, dA0)


def test_kernel_argument_errors():
    A, B = np.eye(3, order="F"), np.ones((3, 1), order="F")
    k = lambda name, *args: kernel(np.complex128 if name.startswith("z") else np.float64, name, *args)  # noqa: E731
    assert k("potrf", b"X", 3, F(A), 3) == -1
    assert k("potrf", b"l", -1, F(A), 3) == -2      # lower-case flags are accepted
    assert k("potrf", b"U", 3, F(A), 2) == -4
    assert k("potrf_fwd", A_ON, b"L", 3, F(A), 3, None, 3) == -106
    assert k("potrf_fwd", A_ON, b"L", 3, F(A), 3, F(A), 2) == -107
    assert k("potrf_rev", A_ON, b"L", 3, A, 3, None, 3) == -106
    assert k("potrs", b"L", 3, -1, A, 3, F(B), 3) == -3
    assert k("potrs", b"L", 3, 1, A, 3, F(B), 2) == -7
    assert k("potrs_fwd", A_ON, b"L", 3, 1, A, 3, A, 2, F(B), 3, F(B), 3) == -108
    assert k("potrs_fwd", B_ON, b"L", 3, 1, A, 3, None, 3, F(B), 3, None, 3) == -111
    assert k("potrs_rev", A_ON | B_ON, b"L", 3, 1, A, 3, F(A), 3, None, 3, F(B), 3) == -6
    assert k("posv", b"U", 3, 1, F(A), 1, F(B), 3) == -5
    assert k("posv_fwd", A_ON, b"U", 3, 1, F(A), 3, F(A), 3, F(B), 3, F(B), 1) == -112
    assert k("posv_rev", A_ON | B_ON, b"U", 3, 1, A, 3, F(A), 3, None, 3, F(B), 3) == -6
    with pytest.raises(ValueError, match="uplo"):
        dl.potrf(A, uplo="X")
    with pytest.raises(ValueError, match="rows"):
        dl.posv(A, np.ones(4))
    with pytest.raises(ValueError, match="complex"):
        dl.potrf_jvp(A, 1j * A)


def test_benchmark_rows_run():
    """The potrf / posv benchmark callables (python -m difflapack bench) run our kernels, the
    LAPACK primal, JAX and (if installed) PyTorch on the same problem without errors."""
    from difflapack import bench
    from difflapack._core import lib
    lib.load()
    for routine in ("potrf", "posv"):
        p = bench.problem(routine, 40)
        assert bench._check_our_kernels(routine, p, lib, bench._openblas()) == []
        for fn in bench.jax_cases(routine, p).values():
            fn()
