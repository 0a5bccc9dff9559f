"""Regression tests for what the C kernel fuzzer (tests/fuzz, run by test_fuzz_kernels.py) found
in the kernels. Code that could crash runs in a subprocess (_memguard.run_isolated)."""
import ctypes

import numpy as np
import pytest

from _memguard import run_isolated
from difflapack import _core


def test_illegal_arguments_are_rejected_before_any_array_is_touched():
    """Every array is a PROT_NONE address; each call has exactly one illegal argument, which
    the kernels used to check only after reading ipiv (getrs*, getrf_rev, gesv_rev) or A's
    diagonal (trsm_rev)."""
    out = run_isolated("""
        import numpy as np
        from _memguard import no_access
        from difflapack._core import lib
        NA = no_access()
        alpha = np.ones(1)
        cases = [
            ("dl_dgetrs", (b"N", 3, 1, NA, 3, NA, NA, 0), -8),
            ("dl_zgetrs", (b"N", 3, 1, NA, 3, NA, None, 3), -7),
            ("dl_dgetrs_fwd", (3, b"N", 3, 1, NA, 3, NA, 3, NA, NA, 3, NA, 0), -113),
            ("dl_dgetrs_fwd", (3, b"N", 3, 1, NA, 3, None, 3, NA, NA, 3, NA, 3), -107),
            ("dl_cgetrs_rev", (3, b"T", 3, 2, NA, 3, NA, 2, NA, NA, 3, NA, 3), -108),
            ("dl_dgetrs_rev", (2, b"C", 3, 2, NA, 3, None, 3, NA, NA, 3, None, 3), -112),
            ("dl_dgetrf_rev", (1, 3, 3, NA, 3, NA, NA, 2), -108),
            ("dl_sgetrf_rev", (1, 4, 2, NA, 4, NA, None, 4), -107),
            ("dl_dgesv_rev", (3, 3, 1, NA, 3, NA, NA, 3, NA, 3, NA, 0), -112),
            ("dl_zgesv_rev", (1, 3, 1, NA, 3, NA, NA, 2, NA, 3, NA, 3), -108),
            ("dl_dtrsm_rev", (2, b"L", b"U", b"N", b"N", 3, 3, alpha.ctypes.data, NA, 3, None, 3, NA, 3,
                              None, 3, None, 3, None), -117),
            ("dl_dtrsm_rev", (2, b"R", b"L", b"T", b"N", 3, 4, alpha.ctypes.data, NA, 4, None, 4, NA, 3,
                              None, 3, NA, 0, None), -118),
        ]
        for name, args, want in cases:
            print(name, want, flush=True)
            got = getattr(lib, name)(*args)
            assert got == want, (name, got, want)
        print("done")
    """)
    assert out.strip().endswith("done")


def test_complex_trsv_never_reads_past_the_callers_vector():
    """OpenBLAS 0.3.21 (Debian 12) ctrsv/ztrsv 'U' 'N' with incx = 1 read one element past x
    for n > 64, n = 2 mod 4: a segfault when x ends at an unmapped page. Every kernel that
    solves with the caller's vector (trsv, trsv_fwd, trsv_rev, getrs / gesv with one
    right-hand side) must stay inside it."""
    out = run_isolated("""
        import numpy as np
        from _memguard import at_page_end
        from difflapack._core import lib
        n = 66
        rng = np.random.default_rng(0)
        for p, dt in (("c", np.complex64), ("z", np.complex128)):
            def vec(values):
                v = at_page_end(n * np.dtype(dt).itemsize, dt)
                v[:] = values
                return v
            a = np.asfortranarray(np.triu(rng.standard_normal((n, n))) / n + 2 * np.eye(n)).astype(dt)
            b = rng.standard_normal(n).astype(dt)
            want = np.linalg.solve(a, b)
            tol = 1e-4 if p == "c" else 1e-12
            x = vec(b)
            assert getattr(lib, f"dl_{p}trsv")(b"U", b"N", b"N", n, a.ctypes.data, n, x.ctypes.data, 1) == 0
            assert np.allclose(x, want, rtol=tol, atol=tol), p
            x, dx = vec(b), vec(b)
            assert getattr(lib, f"dl_{p}trsv_fwd")(2, b"U", b"N", b"N", n, a.ctypes.data, n, None, n,
                                                    x.ctypes.data, 1, dx.ctypes.data, 1) == 0
            assert np.allclose(dx, want, rtol=tol, atol=tol), p
            for trans in (b"T", b"C"):  # the adjoint solves with 'U' 'N' on conj(xbar) / xbar
                x, dx = vec(want), vec(b)
                assert getattr(lib, f"dl_{p}trsv_rev")(2, b"U", trans, b"N", n, a.ctypes.data, n, None, n,
                                                        x.ctypes.data, 1, dx.ctypes.data, 1) == 0
            ipiv = np.arange(1, n + 1, dtype=np.int32)
            x = vec(b)
            assert getattr(lib, f"dl_{p}getrs")(b"N", n, 1, a.ctypes.data, n, ipiv.ctypes.data, x.ctypes.data,
                                                  n) == 0
            assert np.allclose(x, want, rtol=tol, atol=tol), p
            x, dx = vec(b), vec(b)
            assert getattr(lib, f"dl_{p}getrs_fwd")(2, b"N", n, 1, a.ctypes.data, n, None, n, ipiv.ctypes.data,
                                                      x.ctypes.data, n, dx.ctypes.data, n) == 0
            assert np.allclose(dx, want, rtol=tol, atol=tol), p
            x, dx = vec(want), vec(b)
            assert getattr(lib, f"dl_{p}getrs_rev")(2, b"C", n, 1, a.ctypes.data, n, None, n, ipiv.ctypes.data,
                                                      x.ctypes.data, n, dx.ctypes.data, n) == 0
            g = np.asfortranarray(a + np.tril(rng.standard_normal((n, n)), -1).astype(dt) / n)
            lu, piv, x = g.copy(order="F"), np.zeros(n, np.int32), vec(b)
            assert getattr(lib, f"dl_{p}gesv")(n, 1, lu.ctypes.data, n, piv.ctypes.data, x.ctypes.data, n) == 0
            assert np.allclose(x, np.linalg.solve(g, b), rtol=tol, atol=tol), p
            print(p, "ok", flush=True)
        print("done")
    """)
    assert out.strip().endswith("done")


@pytest.mark.parametrize("p,dtype", [("d", np.float64), ("z", np.complex128)])
def test_trsv_rev_int_min_increment(p, dtype):
    """INT_MIN is a legal increment for one element; |incx| used to be computed by negating
    it as an int (undefined behaviour: UBSan in the fuzzer)."""
    a = np.array([[2.0 + 1j]]).astype(dtype) if p == "z" else np.array([[2.0]])
    x = np.array([3.0], dtype=dtype)
    xbar = np.array([1.0], dtype=dtype)
    abar = np.zeros((1, 1), dtype=dtype)
    imin = -2**31
    rc = getattr(_core.lib, f"dl_{p}trsv_rev")(_core.ACTIVE_A | _core.ACTIVE_B, b"U", b"T", b"N", 1,
                                                a.ctypes.data, 1, abar.ctypes.data, 1, x.ctypes.data, imin,
                                                xbar.ctypes.data, imin)
    assert rc == 0
    bbar = 1.0 / np.conj(a[0, 0])
    np.testing.assert_allclose(xbar, [bbar])
    np.testing.assert_allclose(abar, [[-np.conj(x[0]) * bbar]])


def test_trsv_rev_reports_a_zero_diagonal_with_nothing_active():
    """difflapack.h: a zero A(i,i) with diag 'N' returns i 'also when there is nothing to
    solve'; trsv_rev with no active input returned 0 (trsm_rev returned i)."""
    a = np.asfortranarray([[1.0, 2.0, 3.0], [0.0, 5.0, 6.0], [0.0, 0.0, 0.0]])
    rc = _core.lib.dl_dtrsv_rev(0, b"U", b"N", b"N", 3, a.ctypes.data, 3, None, 3, None, 1, None, 1)
    assert rc == 3
    alpha = ctypes.c_double(1.0)
    rc = _core.lib.dl_dtrsm_rev(0, b"L", b"U", b"N", b"N", 3, 2, ctypes.addressof(alpha), a.ctypes.data, 3, None,
                                3, None, 3, None, 3, None, 3, None)
    assert rc == 3


def test_pivot_range_is_checked_after_every_other_argument():
    """getri_fwd, getri_rev, det_rev and slogdet_rev read ipiv (to check its range) before
    their own arguments: with an illegal derivative argument and every array a PROT_NONE
    address they faulted instead of returning its code (found by the kernel fuzzer)."""
    out = run_isolated("""
        from _memguard import no_access
        from difflapack._core import lib
        NA = no_access()
        cases = [
            ("dl_dgetri_fwd", (1, 3, NA, 3, NA, NA, 2), -107),
            ("dl_zgetri_fwd", (1, 3, NA, 3, NA, None, 3), -106),
            ("dl_sgetri_rev", (1, 3, NA, 3, NA, NA, 3, NA, 2), -109),
            ("dl_cgetri_rev", (1, 3, NA, 3, NA, NA, 2, NA, 3), -107),
            ("dl_ddet_rev", (1, 4, NA, 4, NA, None, NA, 4), -106),
            ("dl_zdet_rev", (1, 4, NA, 4, NA, NA, NA, 3), -108),
            ("dl_zslogdet_rev", (1, 4, NA, 4, NA, NA, None, NA, 4), -107),
            ("dl_sslogdet_rev", (1, 4, NA, 4, NA, NA, NA, NA, 1), -109),
        ]
        for name, args, want in cases:
            print(name, want, flush=True)
            got = getattr(lib, name)(*args)
            assert got == want, (name, got, want)
        print("done")
    """)
    assert out.strip().endswith("done")


def test_det_and_slogdet_fwd_report_their_own_argument_positions():
    """-(100 + k) for kernel argument k (active is 1): det_fwd's dA is its 6th argument,
    slogdet_fwd's dlogabsdet its 11th; both reported one position too far."""
    a = np.asfortranarray(np.eye(2))
    da = np.zeros((2, 2), order="F")
    ipiv = np.zeros(2, np.int32)
    s, la, ds, dla = (np.zeros(1) for _ in range(4))
    p = lambda x: x.ctypes.data  # noqa: E731
    lib = _core.lib
    assert lib.dl_ddet_fwd(1, 2, p(a), 2, p(ipiv), None, 2, p(s), p(ds)) == -106
    assert lib.dl_ddet_fwd(1, 2, p(a), 2, p(ipiv), p(da), 1, p(s), p(ds)) == -107
    assert lib.dl_ddet_fwd(0, 2, p(a), 2, p(ipiv), None, 2, None, None) == -108
    assert lib.dl_ddet_fwd(1, 2, p(a), 2, p(ipiv), p(da), 2, p(s), None) == -109
    assert lib.dl_dslogdet_fwd(1, 2, p(a), 2, p(ipiv), None, 2, p(s), p(la), p(ds), p(dla)) == -106
    assert lib.dl_dslogdet_fwd(1, 2, p(a), 2, p(ipiv), p(da), 1, p(s), p(la), p(ds), p(dla)) == -107
    assert lib.dl_dslogdet_fwd(0, 2, p(a), 2, p(ipiv), None, 2, None, p(la), None, None) == -108
    assert lib.dl_dslogdet_fwd(0, 2, p(a), 2, p(ipiv), None, 2, p(s), None, None, None) == -109
    assert lib.dl_dslogdet_fwd(1, 2, p(a), 2, p(ipiv), p(da), 2, p(s), p(la), None, p(dla)) == -110
    assert lib.dl_dslogdet_fwd(1, 2, p(a), 2, p(ipiv), p(da), 2, p(s), p(la), p(ds), None) == -111
    assert np.array_equal(a, np.eye(2))  # rejected before anything was computed


def test_rev_kernels_report_a_zero_pivot_with_nothing_active():
    """slogdet_rev ("rev kernels: the first zero U(i,i)") and trtrs_rev (as trsm_rev, which it
    wraps) returned 0 for a singular factor when no input was active; det_rev returned it."""
    lu = np.asfortranarray([[1.0, 2.0, 3.0], [0.0, 5.0, 6.0], [0.0, 0.0, 0.0]])
    ipiv = np.arange(1, 4, dtype=np.int32)
    lib = _core.lib
    assert lib.dl_ddet_rev(0, 3, lu.ctypes.data, 3, ipiv.ctypes.data, None, None, 3) == 3
    assert lib.dl_dslogdet_rev(0, 3, lu.ctypes.data, 3, ipiv.ctypes.data, None, None, None, 3) == 3
    assert lib.dl_zslogdet_rev(0, 3, lu.astype(complex, order="F").ctypes.data, 3, ipiv.ctypes.data, None, None,
                               None, 3) == 3
    assert lib.dl_dtrtrs_rev(0, b"U", b"N", b"N", 3, 2, lu.ctypes.data, 3, None, 3, None, 3, None, 3) == 3
    assert lib.dl_dtrtrs_rev(0, b"U", b"N", b"U", 3, 2, lu.ctypes.data, 3, None, 3, None, 3, None, 3) == 0


@pytest.mark.parametrize("dtype", [np.float32, np.complex64])
def test_det_is_exactly_zero_when_the_other_pivots_overflow(dtype):
    """difflapack.h: det is 'exactly 0 when a U_ii is 0'; the product of the pivots was
    formed first, inf * 0 = NaN when the others overflow (float32: 1e30 * 1e30)."""
    import difflapack
    a = np.diag([1e30, 1e30, 0.0]).astype(dtype)
    assert difflapack.det(a) == 0
    assert difflapack.det_jvp(a, np.eye(3, dtype=dtype))[0] == 0
    prefix = "s" if dtype == np.float32 else "c"
    lu, ipiv, out = np.asfortranarray(a), np.zeros(3, np.int32), np.full(1, np.nan, dtype)
    assert getattr(_core.lib, f"dl_{prefix}det")(3, lu.ctypes.data, 3, ipiv.ctypes.data, out.ctypes.data) == 3
    assert out[0] == 0


def test_slogdet_rev_zero_cotangent_through_a_nan_sign():
    """A zero cotangent contributes exactly zero: with NaN in the factor the complex sign is
    NaN and c = labar + i Im(conj(sign) signbar) became NaN for labar = signbar = 0, so dA
    got NaN added."""
    lu = np.asfortranarray(np.diag([np.nan, 2.0])).astype(np.complex128)
    ipiv = np.arange(1, 3, dtype=np.int32)
    signbar, labar = np.zeros(1, np.complex128), np.zeros(1)
    da = np.ones((2, 2), np.complex128, order="F")
    rc = _core.lib.dl_zslogdet_rev(1, 2, lu.ctypes.data, 2, ipiv.ctypes.data, signbar.ctypes.data, labar.ctypes.data,
                                   da.ctypes.data, 2)
    assert rc == 0
    assert np.array_equal(da, np.ones((2, 2)))
