"""Regression tests for what the C kernel fuzzer (tests/fuzz, run by test_fuzz_kernels.py) found
in the kernels. Code that could crash runs in a subprocess (_memguard.run_isolated)."""
from _memguard import run_isolated


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
