"""getri, inv, trtrs, det and slogdet: the NumPy API and the C kernels behind it, in all four
precisions, for every flag set and for shapes past the recursions' base cases (n = 70 > 2 x 32),
n = 0, nrhs = 0 and > 1, leading dimensions larger than n. Evidence:

* central differences along real AND imaginary directions, taken in double precision (the
  single-precision rules are compared with the double-precision differences);
* the dot-product test Re<J v, w> = Re<v, J^* w>;
* the dense closed forms of tests/_reference_rules.py (and the LU-level chain: the linked inv
  rule equals getri's rule chained through getrf's);
* JAX 0.10.2's own rules (jnp.linalg.inv / det / slogdet, jax.scipy.linalg.solve_triangular) in
  complex128, complex64 and float32 (JAX's complex cotangents are the conjugates of ours);
* LAPACK's singular behaviour (buffer left unchanged: identity derivative in the kernels) and
  the singular determinant's adjugate; the kernels' argument checks.

The generators and comparison helpers are those of test_reference_rules.py."""
import itertools

import numpy as np
import pytest
import scipy.linalg.lapack as lapack

import _reference_rules as R
import difflapack as dl
from difflapack import _core
from test_reference_rules import (DOUBLE, DTYPES, FD_TOL, FLAGS, _rank_deficient, assert_close, assert_dot,
                                  central, directions, exact_tol, general, rnd, rng, triangular)

SIZES = [0, 1, 2, 7, 40, 70]   # 70: two levels of the recursions (base 32)
SINGLE_AND_COMPLEX = [np.complex128, np.complex64, np.float32]   # the JAX cross-checks
SINGLE = {np.float32: np.float64, np.complex64: np.complex128}


def double(x):
    """x in the double precision of its kind (the finite differences run there)."""
    x = np.asarray(x)
    return x.astype(SINGLE.get(x.dtype.type, x.dtype.type))


def fd_check(f, xs, dxs, got, dtype, what):
    """got (the rule in `dtype`) against central differences of f in double precision."""
    fd = central(f, tuple(double(x) for x in xs), tuple(None if d is None else double(d) for d in dxs))
    tol = FD_TOL if dtype in DOUBLE else 30 * exact_tol(dtype)
    assert_close(got, fd if isinstance(got, tuple) else fd[0], tol, what)


def tol_of(dtype, factor=10):
    return exact_tol(dtype) * factor


def padded(a, ld, fill=777.0):
    """A Fortran array with leading dimension ld > rows whose extra rows hold a sentinel."""
    full = np.full((ld, a.shape[1]), fill, dtype=a.dtype, order="F")
    full[: a.shape[0]] = a
    return full


# ====================================================================================== getri
def factors(dtype, n, key):
    r = rng(key, dtype, n)
    lu, piv, info = dl.getrf(general(r, n, dtype))
    assert info == 0 and lu.dtype == dtype
    return r, lu, piv


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_getri_primal(dtype, n):
    r = rng("getri-primal", dtype, n)
    a = general(r, n, dtype)
    lu, piv, _ = dl.getrf(a)
    x = dl.getri(lu, piv)
    assert x.dtype == dtype and x.shape == (n, n)
    if n:
        want, info = lapack.get_lapack_funcs("getri", dtype=np.dtype(dtype))(lu, piv)
        assert info == 0
        assert_close(x, want, tol_of(dtype), "getri vs LAPACK ?getri")
        assert_close(x @ a, np.eye(n), tol_of(dtype), "X A = I")
    assert_close(dl.inv(a), x, tol_of(dtype), "inv = getri(getrf)")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_getri_jvp_fd_dense(dtype, n):
    r, lu, piv = factors(dtype, n, "getri-jvp")
    dlu = rnd(r, (n, n), dtype)
    for kind, (d,) in directions((dlu,)):
        x, dx = dl.getri_jvp(lu, piv, d)
        assert dx.dtype == dtype
        fd_check(lambda l: dl.getri(l, piv), (lu,), (d,), dx, dtype, f"getri dX FD ({kind})")
    x, dx = dl.getri_jvp(lu, piv, dlu)
    assert_close(dx, R.getri_jvp_dense(lu, piv, dlu), tol_of(dtype), "getri dX vs -X dA X")
    assert not np.any(dl.getri_jvp(lu, piv, None)[1])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_getri_vjp_dot_dense(dtype, n):
    r, lu, piv = factors(dtype, n, "getri-vjp")
    dlu, xbar = rnd(r, (n, n), dtype), rnd(r, (n, n), dtype)
    x, pullback = dl.getri_vjp(lu, piv)
    lubar = pullback(xbar)
    assert lubar.dtype == dtype
    assert_dot(dl.getri_jvp(lu, piv, dlu)[1], xbar, dlu, lubar, dtype, "getri")
    assert_close(lubar, R.getri_vjp_dense(lu, piv, xbar), tol_of(dtype), "getri LUbar vs dense")
    assert np.array_equal(pullback(xbar), lubar), "the pullback may be called again"
    assert not np.any(pullback(np.zeros((n, n), dtype)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_getri_kernels_leading_dimensions(dtype):
    """lda, ldx, ldda > n: the rows past n are never touched."""
    n, ld = 37, 41
    r, lu, piv = factors(dtype, n, "getri-ld")
    ipiv = (piv + 1).astype(np.int32)
    dlu, xbar = rnd(r, (n, n), dtype), rnd(r, (n, n), dtype)
    p = _core.precision_of(a=lu)
    A, D = padded(lu, ld), padded(dlu, ld)
    assert _core.call(p.kernel("getri_fwd"), 1, n, A, ld, ipiv, D, ld) == 0
    x, dx = dl.getri_jvp(lu, piv, dlu)
    assert np.all(A[n:] == 777.0) and np.all(D[n:] == 777.0)
    assert_close(A[:n], x, tol_of(dtype), "X")
    assert_close(D[:n], dx, tol_of(dtype), "dX")
    LU, X, G = padded(lu, ld), padded(x, ld), padded(xbar, ld)
    assert _core.call(p.kernel("getri_rev"), 1, n, LU, ld, ipiv, X, ld, G, ld) == 0
    assert np.all(G[n:] == 777.0)
    assert_close(G[:n], dl.getri_vjp(lu, piv)[1](xbar), tol_of(dtype), "LUbar")


@pytest.mark.parametrize("dtype", DTYPES)
def test_getri_singular(dtype):
    """U(i,i) == 0: ?getri leaves the buffer unchanged; the NumPy API raises; the kernels return
    info and their derivative is the identity (the buffer did not change)."""
    r, lu, piv = factors(dtype, 6, "getri-sing")
    lu[2, 2] = 0
    with pytest.raises(dl.SingularMatrixError) as e:
        dl.getri(lu, piv)
    assert e.value.info == 3
    for call in (lambda: dl.getri_jvp(lu, piv, lu), lambda: dl.getri_vjp(lu, piv)):
        with pytest.raises(dl.SingularMatrixError):
            call()
    p, ipiv = _core.precision_of(a=lu), (piv + 1).astype(np.int32)
    A, D = lu.copy(order="F"), rnd(r, (6, 6), dtype).copy(order="F")
    A0, D0 = A.copy(), D.copy()
    assert _core.call(p.kernel("getri"), 6, A, 6, ipiv) == 3 and np.array_equal(A, A0)
    assert _core.call(p.kernel("getri_fwd"), 1, 6, A, 6, ipiv, D, 6) == 3
    assert np.array_equal(A, A0) and np.array_equal(D, D0)
    assert _core.call(p.kernel("getri_rev"), 1, 6, A, 6, ipiv, A, 6, D, 6) == 3 and np.array_equal(D, D0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 2, 7, 40])
def test_getri_ignores_the_last_pivot(dtype, n):
    """Regression: LAPACK's ?getri applies the column interchanges j = n-1, ..., 1 (1-based) and
    never reads IPIV(N). A changed piv[n-1] (in range, or garbage) must change neither the
    inverse (== SciPy's ?getri with the same pivots) nor its derivatives, nor be rejected."""
    r, lu, piv = factors(dtype, n, "getri-last-pivot")
    x_ref = dl.getri(lu, piv)
    getri_lapack = lapack.get_lapack_funcs("getri", dtype=np.dtype(dtype))
    getri_double = lapack.get_lapack_funcs("getri", dtype=double(lu).dtype)   # the FD run in double
    dlu, xbar = rnd(r, (n, n), dtype), rnd(r, (n, n), dtype)
    jvp_ref = dl.getri_jvp(lu, piv, dlu)[1]
    vjp_ref = dl.getri_vjp(lu, piv)[1](xbar)
    for last in (0, n // 2, -3, n + 5, 2**31 - 1):
        piv2 = piv.copy()
        piv2[-1] = last
        x = dl.getri(lu, piv2)
        if 0 <= last < n:
            want, info = getri_lapack(lu, piv2)
            assert info == 0
            assert_close(x, want, tol_of(dtype), f"getri vs LAPACK ?getri, piv[-1] = {last}")
        assert np.array_equal(x, x_ref), f"piv[-1] = {last} changed getri"
        x, dx = dl.getri_jvp(lu, piv2, dlu)
        assert np.array_equal(dx, jvp_ref), f"piv[-1] = {last} changed getri_jvp"
        if 0 <= last < n:
            for kind, (d,) in directions((dlu,)):
                fd_check(lambda l: getri_double(l, piv2)[0], (lu,), (d,), dl.getri_jvp(lu, piv2, d)[1], dtype,
                         f"getri dX vs FD of LAPACK ?getri, piv[-1] = {last} ({kind})")
        lubar = dl.getri_vjp(lu, piv2)[1](xbar)
        assert np.array_equal(lubar, vjp_ref), f"piv[-1] = {last} changed getri_vjp"
        assert_dot(dx, xbar, dlu, lubar, dtype, f"getri, piv[-1] = {last}")
    # the kernels: ipiv[n-1] (1-based) is neither read nor range-checked; ipiv[n-2] still is
    p, ipiv = _core.precision_of(a=lu), (piv + 1).astype(np.int32)
    ipiv[-1] = 0
    A = lu.copy(order="F")
    assert _core.call(p.kernel("getri"), n, A, max(n, 1), ipiv) == 0
    assert np.array_equal(A, x_ref)
    A, D = lu.copy(order="F"), dlu.copy(order="F")
    assert _core.call(p.kernel("getri_fwd"), 1, n, A, max(n, 1), ipiv, D, max(n, 1)) == 0
    assert np.array_equal(D, jvp_ref)
    G = xbar.copy(order="F")
    assert _core.call(p.kernel("getri_rev"), 1, n, lu.copy(order="F"), max(n, 1), ipiv, x_ref.copy(order="F"),
                      max(n, 1), G, max(n, 1)) == 0
    assert np.array_equal(G, vjp_ref)
    if n > 1:
        ipiv[-2] = n + 1
        assert _core.call(p.kernel("getri"), n, lu.copy(order="F"), n, ipiv) == -4
        with pytest.raises(ValueError, match="piv"):
            dl.getri(lu, np.r_[piv[:-2], n, piv[-1]])


# ======================================================================================== inv
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_inv_rules(dtype, n):
    r = rng("inv", dtype, n)
    a = general(r, n, dtype)
    da, xbar = rnd(r, (n, n), dtype), rnd(r, (n, n), dtype)
    x, dx = dl.inv_jvp(a, da)
    x2, pullback = dl.inv_vjp(a)
    abar = pullback(xbar)
    assert x.dtype == dx.dtype == abar.dtype == dtype
    assert np.array_equal(x, x2) and np.array_equal(x, dl.inv(a)), "one X in every mode"
    assert_close(x, np.linalg.inv(double(a)) if n else x, tol_of(dtype), "X vs numpy")
    assert_dot(dx, xbar, da, abar, dtype, "inv")
    assert_close(dx, R.inv_jvp(x, da), tol_of(dtype), "dX = -X dA X")
    assert_close(abar, R.inv_vjp(x, xbar), tol_of(dtype), "Abar = -X^H Xbar X^H")
    for kind, (d,) in directions((da,)):
        fd_check(dl.inv, (a,), (d,), dl.inv_jvp(a, d)[1], dtype, f"inv FD ({kind})")
    # the linked rule equals getri's rule chained through getrf's (both modes)
    (lu, piv, _), dlu = dl.getrf_jvp(a, da)
    assert_close(dl.getri_jvp(lu, piv, dlu)[1], dx, tol_of(dtype, 100), "chained tangent")
    _, getrf_pb = dl.getrf_vjp(a)
    assert_close(getrf_pb(dl.getri_vjp(lu, piv)[1](xbar)), abar, tol_of(dtype, 100), "chained adjoint")
    assert not np.any(dl.inv_jvp(a, None)[1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_inv_singular(dtype):
    """inv raises; the fused kernel leaves the LU (?getri computes nothing) and its tangent is
    the getrf tangent of what LAPACK left."""
    r = rng("inv-sing", dtype)
    a = general(r, 5, dtype)
    a[:, 2] = 0                                   # exactly singular: a zero pivot
    for name, call in (("inv", lambda: dl.inv(a)), ("inv_jvp", lambda: dl.inv_jvp(a, a)),
                       ("inv_jvp", lambda: dl.inv_jvp(a, None)), ("inv_vjp", lambda: dl.inv_vjp(a))):
        with pytest.raises(dl.SingularMatrixError, match=f"^{name}: "):   # the function called
            call()
    a = general(r, 5, dtype)
    a[3, :] = 0                                   # a zero row: only the LAST pivot is zero
    da = rnd(r, (5, 5), dtype)
    p = _core.precision_of(a=a)
    A, D, ipiv = a.copy(order="F"), da.copy(order="F"), np.zeros(5, np.int32)
    info = _core.call(p.kernel("inv_fwd"), 1, 5, A, 5, ipiv, D, 5)
    (lu, piv, info2), dlu = dl.getrf_jvp(a, da)
    assert info == info2 == 5
    assert np.array_equal(A, lu) and np.array_equal(D, dlu)


# ====================================================================================== trtrs
TRTRS_SHAPES = [(0, 2), (1, 1), (7, 1), (13, 3), (5, 0), (70, 4)]


@pytest.mark.parametrize("uplo,trans,diag", FLAGS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_trtrs_rules(uplo, trans, diag, dtype):
    for n, nrhs in TRTRS_SHAPES:
        r = rng("trtrs", uplo, trans, diag, dtype, n, nrhs)
        a = triangular(r, n, uplo, diag, dtype)
        b, da, db, xbar = (rnd(r, (n, nrhs), dtype), rnd(r, (n, n), dtype), rnd(r, (n, nrhs), dtype),
                           rnd(r, (n, nrhs), dtype))
        what = f"trtrs {uplo}{trans}{diag} n={n} nrhs={nrhs}"
        x = dl.trtrs(a, b, uplo, trans, diag)
        assert x.dtype == dtype
        assert_close(x, R.trtrs(a, b, uplo, trans, diag)[0], tol_of(dtype), what + " X vs LAPACK")
        if nrhs:
            assert np.array_equal(x, dl.trsm(a, b, 1.0, "L", uplo, trans, diag)), what + ": X = trsm's"
        x1, dx = dl.trtrs_jvp(a, b, da, db, uplo, trans, diag)
        x2, pullback = dl.trtrs_vjp(a, b, uplo, trans, diag)
        abar, bbar = pullback(xbar)
        assert np.array_equal(x1, x) and np.array_equal(x2, x)
        assert_dot(dx, xbar, (da, db), (abar, bbar), dtype, what)
        assert not np.any(abar[~R.tri_mask(n, uplo, strict=diag == "U")]), what + ": Abar off the triangle"
        assert_close(dx, R.trtrs_jvp_dense(a, b, da, db, uplo, trans, diag), tol_of(dtype), what + " dX dense")
        assert_close((abar, bbar), R.trtrs_vjp_dense(a, b, xbar, uplo, trans, diag), tol_of(dtype),
                     what + " vjp dense")
        for kind, d in directions((da, db)):
            got = dl.trtrs_jvp(a, b, d[0], d[1], uplo, trans, diag)[1]
            fd_check(lambda a_, b_: dl.trtrs(a_, b_, uplo, trans, diag), (a, b), d, got, dtype,
                     what + f" FD ({kind})")
        for act in ((da, None), (None, db)):   # one input active at a time
            got = dl.trtrs_jvp(a, b, *act, uplo, trans, diag)[1]
            assert_close(got, R.trtrs_jvp_dense(a, b, *act, uplo, trans, diag), tol_of(dtype), what + " partial")


@pytest.mark.parametrize("dtype", DTYPES)
def test_trtrs_vector_rhs_and_leading_dimensions(dtype):
    r = rng("trtrs-vec", dtype)
    n, ld = 9, 12
    a = triangular(r, n, "L", "N", dtype)
    b, xbar = rnd(r, n, dtype), rnd(r, n, dtype)
    x, pullback = dl.trtrs_vjp(a, b, "L", "C")
    abar, bbar = pullback(xbar)
    assert x.shape == bbar.shape == (n,)
    x2, pb2 = dl.trtrs_vjp(a, b[:, None], "L", "C")
    assert np.array_equal(x, x2[:, 0]) and np.array_equal(bbar, pb2(xbar[:, None])[1][:, 0])
    p = _core.precision_of(a=a)
    A, B = padded(a, ld), padded(rnd(r, (n, 2), dtype), ld)
    dA, dB = padded(rnd(r, (n, n), dtype), ld), padded(rnd(r, (n, 2), dtype), ld)
    B0, dB0 = B[:n].copy(), dB[:n].copy()
    assert _core.call(p.kernel("trtrs_fwd"), 3, b"L", b"T", b"N", n, 2, A, ld, dA, ld, B, ld, dB, ld) == 0
    assert np.all(B[n:] == 777.0) and np.all(dB[n:] == 777.0)
    _, dx = dl.trtrs_jvp(a, B0, dA[:n], dB0, "L", "T", "N")
    assert_close(dB[:n], dx, tol_of(dtype), "dX with ld > n")


@pytest.mark.parametrize("dtype", DTYPES)
def test_trtrs_singular(dtype):
    """A(i,i) == 0 (diag 'N'): LAPACK checks before solving and leaves B unchanged. NumPy API:
    SingularMatrixError with info; kernels: info, B unchanged, derivative = identity (dX = dB,
    Bbar = Xbar, nothing for A). diag 'U' never reads the diagonal."""
    r = rng("trtrs-sing", dtype)
    n = 5
    a = triangular(r, n, "U", "N", dtype)
    a[3, 3] = 0
    b, db, da = rnd(r, (n, 2), dtype), rnd(r, (n, 2), dtype), rnd(r, (n, n), dtype)
    with pytest.raises(dl.SingularMatrixError) as e:
        dl.trtrs(a, b)
    assert e.value.info == 4
    assert_close(dl.trtrs(a, b, diag="U"), R.trtrs(a, b, "U", "N", "U")[0], tol_of(dtype), "unit diagonal")
    p = _core.precision_of(a=a)
    B, dB, dA = b.copy(order="F"), db.copy(order="F"), da.copy(order="F")
    assert _core.call(p.kernel("trtrs_fwd"), 3, b"U", b"N", b"N", n, 2, a, n, dA, n, B, n, dB, n) == 4
    assert np.array_equal(B, b) and np.array_equal(dB, db)
    assert _core.call(p.kernel("trtrs_fwd"), 1, b"U", b"N", b"N", n, 2, a, n, dA, n, B, n, dB, n) == 4
    assert not np.any(dB), "B inactive: its tangent is zero"
    dB = db.copy(order="F")
    assert _core.call(p.kernel("trtrs_rev"), 3, b"U", b"N", b"N", n, 2, a, n, dA, n, B, n, dB, n) == 4
    assert np.array_equal(dB, db) and np.array_equal(dA, da)


# ============================================================================= det, slogdet
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_det_slogdet_rules(dtype, n):
    r = rng("det-api", dtype, n)
    a = general(r, n, dtype)
    da = rnd(r, (n, n), dtype)
    detbar, signbar = rnd(r, (), dtype)[()], rnd(r, (), dtype)[()]
    labar = np.real(rnd(r, (), dtype))[()]
    det, ddet = dl.det_jvp(a, da)
    det2, det_pb = dl.det_vjp(a)
    (s, la), (ds, dla) = dl.slogdet_jvp(a, da)
    (s2, la2), slog_pb = dl.slogdet_vjp(a)
    abar, abar_s = det_pb(detbar), slog_pb(signbar, labar)
    assert det.dtype == ddet.dtype == s.dtype == dtype and la.dtype == np.dtype(dtype).type(0).real.dtype
    assert det == det2 == dl.det(a) and (s, la) == dl.slogdet(a)
    tol = tol_of(dtype, 30)
    # slogdet_vjp's primal comes from Gauss-Jordan elimination (same pivots, other rounding)
    assert_close(s2, s, tol, "slogdet_vjp sign") and abs(la2 - la) <= tol * max(1.0, abs(la)), "slogdet_vjp logabsdet"
    want_s, want_la = np.linalg.slogdet(double(a)) if n else (1.0, 0.0)
    assert_close(s, want_s, tol, "sign vs numpy")
    assert abs(la - want_la) <= tol * max(1.0, abs(want_la)), "logabsdet vs numpy"
    assert_close(det / (want_s * np.exp(want_la)), 1.0, tol, "det vs numpy")
    assert_dot(ddet, detbar, da, abar, dtype, "det")
    assert_dot((ds, dla), (signbar, labar), da, abar_s, dtype, "slogdet")
    assert_close(ddet, R.det_jvp(a, da)[1], tol, "ddet vs reference")
    assert_close(abar, R.det_vjp(a, detbar)[1], tol, "det Abar vs reference")
    assert_close((ds, dla), R.slogdet_jvp(a, da)[1], tol, "slogdet tangents vs reference")
    assert_close(abar_s, R.slogdet_vjp(a, signbar, labar)[1], tol, "slogdet Abar vs reference")
    if np.dtype(dtype).kind == "f":
        assert ds == 0 and np.array_equal(slog_pb(1.0, 0.0), np.zeros((n, n))), "real sign: no derivative"
    if n <= 7:   # products of n entries: no overflow in single precision
        for kind, (d,) in directions((da,)):
            fd_check(lambda m: (dl.det(m),) + dl.slogdet(m), (a,), (d,),
                     (dl.det_jvp(a, d)[1],) + dl.slogdet_jvp(a, d)[1], dtype, f"det/slogdet FD ({kind})")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["zero-last-row", "zero-first-col"])
def test_det_singular_one_zero_pivot(dtype, kind):
    """One zero pivot: det = 0 and its derivative is the adjugate (rank one), exact: by the LU
    rule when the zero pivot is the last, by the rank-one adjugate otherwise."""
    r = rng("det-sing-api", dtype, kind)
    n = 6
    a = _rank_deficient(kind, n, dtype, r)
    adj = R.adjugate_dense(a.astype(np.complex128))
    da, detbar = rnd(r, (n, n), dtype), rnd(r, (), dtype)[()]
    det, ddet = dl.det_jvp(a, da)
    abar = dl.det_vjp(a)[1](detbar)
    tol = tol_of(dtype, 100)
    assert det == 0
    assert_close(ddet, np.trace(adj @ da), tol, "ddet = tr(adj(A) dA)")
    assert_close(abar, detbar * R.H(adj), tol, "Abar = detbar adj(A)^H")
    for kind_, (d,) in directions((da,)):
        fd_check(dl.det, (a,), (d,), dl.det_jvp(a, d)[1], dtype, f"det FD ({kind_})")
    (s, la), (ds, dla) = dl.slogdet_jvp(a, da)
    assert s == 0 and la == -np.inf and np.isnan(dla)
    assert np.isnan(ds) if np.dtype(dtype).kind == "c" else ds == 0
    pb = dl.slogdet_vjp(a)[1]
    assert np.all(np.isnan(pb(0.0, 1.0))) and not np.any(pb(0.0, 0.0))
    assert np.all(np.isnan(pb(1.0, 0.0))) if np.dtype(dtype).kind == "c" else not np.any(pb(1.0, 0.0))
    assert dl.slogdet_jvp(a, np.zeros((n, n), dtype))[1] == (0, 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_det_singular_two_zero_pivots(dtype):
    """Two zero pivots, rank n-1: adj(A) != 0 but not available from the LU: NaN, except exact
    zeros for a zero (co)tangent."""
    r = rng("det-2-api", dtype)
    n = 5
    a = _rank_deficient("two", n, dtype, r)
    assert np.count_nonzero(np.diagonal(dl.getrf(a)[0]) == 0) == 2
    assert np.isnan(dl.det_jvp(a, rnd(r, (n, n), dtype))[1])
    assert np.all(np.isnan(dl.det_vjp(a)[1](1.0)))
    assert not np.any(dl.det_vjp(a)[1](0.0)) and dl.det_jvp(a, np.zeros((n, n), dtype))[1] == 0


def test_det_two_zero_pivots_is_not_zero_derivative():
    """Two exactly zero pivots do not make the derivative of det zero: A = [[0, 1, 0], [0, 0, 0],
    [0, 0, 1]] (getrf: U = A, U00 = U11 = 0) has rank n - 1 and adj(A) = -e1 e2^T... != 0, so
    d det = -dA[1, 0]. (A review suggested returning 0 for >= 2 zero pivots: right for a
    permuted diagonal of rank n - 2, wrong here.) The kernels keep NaN for both."""
    a = np.array([[0.0, 1, 0], [0, 0, 0], [0, 0, 1]])
    assert np.count_nonzero(np.diagonal(dl.getrf(a)[0]) == 0) == 2
    da = rnd(rng("det-2-nonzero"), (3, 3), np.float64)
    fd = central(lambda x: np.linalg.det(x), (a,), (da,))[0]
    assert abs(fd - (-da[1, 0])) < 1e-8 and abs(fd) > 1e-3
    assert np.isnan(dl.det_jvp(a, da)[1])
    d = np.zeros((3, 3))
    d[2, 0] = 1.0   # diag(1, 0, 0) with rows permuted (getrf swaps rows 0 and 2): rank n - 2
    assert np.count_nonzero(np.diagonal(dl.getrf(d)[0]) == 0) == 2
    assert abs(central(lambda x: np.linalg.det(x), (d,), (da,))[0]) < 1e-8   # here adj = 0
    assert np.isnan(dl.det_jvp(d, da)[1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_det_rev_accumulates(dtype):
    """The rev kernels add into the caller's cotangent (a, the read-only input of det)."""
    r = rng("det-acc", dtype)
    n = 8
    a = general(r, n, dtype)
    lu, piv, _ = dl.getrf(a)
    ipiv, p = (piv + 1).astype(np.int32), _core.precision_of(a=a)
    start = rnd(r, (n, n), dtype).copy(order="F")
    for kernel, scalars, fresh in (
            ("det_rev", (np.array([0.7], dtype),), dl.det_vjp(a)[1](0.7)),
            ("slogdet_rev", (np.array([0.2], dtype), np.array([0.9], np.dtype(dtype).type(0).real.dtype)),
             dl.slogdet_vjp(a)[1](0.2, 0.9))):
        acc = start.copy(order="F")
        assert _core.call(p.kernel(kernel), 1, n, lu, n, ipiv, *scalars, acc, n) == 0
        assert_close(acc, start + fresh, tol_of(dtype), kernel + " accumulates")


# ================================================================================= JAX cross
jax = pytest.importorskip("jax")
from test_reference_rules import jax_rules, j_tri  # noqa: E402  (enables jax_enable_x64)
import jax.numpy as jnp  # noqa: E402
import jax.scipy.linalg as jsl  # noqa: E402


def jax_tol(dtype):
    return 1e-10 if dtype in DOUBLE else 3e-4


@pytest.mark.parametrize("dtype", SINGLE_AND_COMPLEX)
def test_jax_inv_det_slogdet(dtype):
    r = rng("jax-inv", dtype)
    n = 9   # n >= 4: JAX's LU-based rules for det / slogdet
    a = general(r, n, dtype)
    da, xbar = rnd(r, (n, n), dtype), rnd(r, (n, n), dtype)
    detbar, signbar = rnd(r, (), dtype)[()], rnd(r, (), dtype)[()]
    labar = np.real(rnd(r, (), dtype))[()]
    tol = jax_tol(dtype)
    jt, jv = jax_rules(jnp.linalg.inv, (a,), (da,), xbar)
    assert_close(dl.inv_jvp(a, da)[1], jt[0], tol, "inv dX vs JAX")
    assert_close(dl.inv_vjp(a)[1](xbar), jv[0], tol, "inv Abar vs JAX")
    jt, jv = jax_rules(jnp.linalg.det, (a,), (da,), detbar)
    assert_close(dl.det_jvp(a, da)[1], jt[0], tol, "ddet vs JAX")
    assert_close(dl.det_vjp(a)[1](detbar), jv[0], tol, "det Abar vs JAX")
    jt, jv = jax_rules(lambda m: tuple(jnp.linalg.slogdet(m)), (a,), (da,), (signbar, labar))
    assert_close(dl.slogdet_jvp(a, da)[1], jt, tol, "slogdet tangents vs JAX")
    if np.dtype(dtype).kind == "f":
        signbar = np.zeros((), dtype)[()]   # JAX lets a real sign carry a cotangent into Abar; it is piecewise constant
        jv = jax_rules(lambda m: tuple(jnp.linalg.slogdet(m)), (a,), (da,), (signbar, labar))[1]
    assert_close(dl.slogdet_vjp(a)[1](signbar, labar), jv[0], tol, "slogdet Abar vs JAX")


@pytest.mark.parametrize("dtype", SINGLE_AND_COMPLEX)
def test_jax_trtrs(dtype):
    """All 12 flag sets in one JAX program, each on its own (A, B)."""
    r = rng("jax-trtrs-api", dtype)
    n, nrhs, k = 8, 3, len(FLAGS)
    A = [triangular(r, n, u, d, dtype) for u, t, d in FLAGS]
    B, dA, dB, Xbar = ([rnd(r, shape, dtype) for _ in FLAGS] for shape in ((n, nrhs), (n, n), (n, nrhs), (n, nrhs)))

    def f(*ab):
        return tuple(jsl.solve_triangular(j_tri(ab[i], u, d), ab[k + i], trans=t, lower=u == "L")
                     for i, (u, t, d) in enumerate(FLAGS))

    jt, jv = jax_rules(f, tuple(A + B), tuple(dA + dB), tuple(Xbar))
    for i, (uplo, trans, diag) in enumerate(FLAGS):
        what = f"trtrs {uplo}{trans}{diag} vs JAX"
        assert_close(dl.trtrs_jvp(A[i], B[i], dA[i], dB[i], uplo, trans, diag)[1], jt[i], jax_tol(dtype), what)
        abar, bbar = dl.trtrs_vjp(A[i], B[i], uplo, trans, diag)[1](Xbar[i])
        jabar = np.where(R.tri_mask(n, uplo, strict=diag == "U"), jv[i], 0)
        assert_close((abar, bbar), (jabar, jv[k + i]), jax_tol(dtype), what + " (vjp)")


# ========================================================================== argument checks
def test_kernel_argument_checks():
    x, piv = np.eye(3, order="F"), np.arange(1, 4, dtype=np.int32)
    bad_piv = np.array([1, 5, 3], np.int32)
    assert _core.call("dl_dgetri", -1, x, 3, piv) == -1
    assert _core.call("dl_dgetri", 3, x, 2, piv) == -3
    assert _core.call("dl_dgetri", 3, x, 3, bad_piv) == -4
    assert _core.call("dl_dgetri_fwd", 1, 3, x, 3, piv, None, 3) == -106
    assert _core.call("dl_dgetri_rev", 1, 3, x, 3, piv, x, 2, x, 3) == -107
    assert _core.call("dl_dinv", 3, x, 3, None) == -4
    assert _core.call("dl_dinv_rev", 1, 3, x, 3, x, 1) == -106
    assert _core.call("dl_dtrtrs", b"X", b"N", b"N", 3, 1, x, 3, x, 3) == -1
    assert _core.call("dl_dtrtrs", b"U", b"N", b"N", 3, -1, x, 3, x, 3) == -5
    assert _core.call("dl_dtrtrs", b"U", b"N", b"N", 3, 1, x, 3, x, 2) == -9
    assert _core.call("dl_dtrtrs_fwd", 1, b"U", b"N", b"N", 3, 1, x, 3, None, 3, x, 3, x, 3) == -109
    assert _core.call("dl_dtrtrs_rev", 2, b"U", b"N", b"N", 3, 1, x, 3, None, 3, x, 3, None, 3) == -113
    assert _core.call("dl_zdet", 3, x, 3, piv, None) == -105
    assert _core.call("dl_dslogdet_rev", 0, 3, x, 3, bad_piv, None, None, x, 3) == -4   # nothing active: no labar needed
    with pytest.raises(ValueError, match="lu"):
        dl.getri(np.ones((2, 3)), [0, 1])
    with pytest.raises(ValueError, match="piv"):
        dl.getri(np.eye(3), [0, 5, 2])
    with pytest.raises(ValueError, match="uplo"):
        dl.trtrs(np.eye(2), np.ones(2), uplo="X")
    with pytest.raises(ValueError, match="logabsdet_bar"):
        dl.slogdet_vjp(np.eye(2))[1](0.0, 1j)
