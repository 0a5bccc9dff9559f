"""libdifflapack_ilp64.so: the _64_ entry points run plain (undifferentiated) code over the
ILP64 OpenBLAS, and agree with the LP64 results; the header's _64_ shims also run without
Enzyme (plain compile) and report bad arguments like LAPACK."""
import ctypes
import os
import shutil
import subprocess

import numpy as np
import pytest

from difflapack._core import get_ilp64_library, get_include, get_library

I64 = ctypes.c_int64


def _ilp64():
    path = os.environ.get("DIFFLAPACK_ILP64_LIBRARY") or get_ilp64_library()
    if not os.path.exists(path):
        pytest.skip(f"ILP64 shim not built ({path})")
    # the LP64 OpenBLAS loaded globally first (as under Enzyme): the ILP64 one must not bind to it
    ctypes.CDLL("libopenblas.so.0", mode=ctypes.RTLD_GLOBAL)
    return ctypes.CDLL(path, mode=ctypes.RTLD_LOCAL)


def _p(a):
    return a.ctypes.data_as(ctypes.c_void_p)


def _i(v):
    return ctypes.byref(I64(v))


def test_ilp64_getrf_getrs_gesv_match_scipy():
    import scipy.linalg as sla
    lib = _ilp64()
    r = np.random.default_rng(0)
    n, nrhs = 5, 2
    A = r.standard_normal((n, n)) + 3 * np.eye(n)
    B = r.standard_normal((n, nrhs))
    lu = np.asfortranarray(A.copy())
    ipiv = np.zeros(n, np.int64)
    info = I64(7)
    lib.dgetrf_64_(_i(n), _i(n), _p(lu), _i(n), _p(ipiv), ctypes.byref(info))
    ref_lu, ref_piv = sla.lu_factor(A)
    assert info.value == 0 and np.allclose(lu, ref_lu) and np.all(ipiv == ref_piv + 1)
    X = np.asfortranarray(B.copy())
    lib.dgetrs_64_(b"T", _i(n), _i(nrhs), _p(lu), _i(n), _p(ipiv), _p(X), _i(n), ctypes.byref(info))
    assert info.value == 0 and np.allclose(X, np.linalg.solve(A.T, B))
    A2, X2 = np.asfortranarray(A.copy()), np.asfortranarray(B.copy())
    lib.dgesv_64_(_i(n), _i(nrhs), _p(A2), _i(n), _p(ipiv), _p(X2), _i(n), ctypes.byref(info))
    assert info.value == 0 and np.allclose(X2, np.linalg.solve(A, B))
    lib.dgetrf_64_(_i(-1), _i(n), _p(lu), _i(n), _p(ipiv), ctypes.byref(info))
    assert info.value == -1


@pytest.mark.parametrize("p,dtype", [("d", np.float64), ("z", np.complex128)])
@pytest.mark.parametrize("uplo", [b"L", b"U"])
def test_ilp64_potrf_potrs_posv_match_numpy(p, dtype, uplo):
    lib = _ilp64()
    r = np.random.default_rng(2)
    n, nrhs = 5, 2
    M = r.standard_normal((n, n)) + (1j * r.standard_normal((n, n)) if p == "z" else 0)
    A = (M @ M.conj().T + n * np.eye(n)).astype(dtype)
    B = r.standard_normal((n, nrhs)).astype(dtype)
    L = np.linalg.cholesky(A)
    c = np.asfortranarray(A.copy())
    info = I64(7)
    getattr(lib, p + "potrf_64_")(uplo, _i(n), _p(c), _i(n), ctypes.byref(info))
    tri = np.tril(c) if uplo == b"L" else np.triu(c)
    assert info.value == 0 and np.allclose(tri, L if uplo == b"L" else L.conj().T)
    X = np.asfortranarray(B.copy())
    getattr(lib, p + "potrs_64_")(uplo, _i(n), _i(nrhs), _p(c), _i(n), _p(X), _i(n), ctypes.byref(info))
    assert info.value == 0 and np.allclose(X, np.linalg.solve(A, B))
    A2, X2 = np.asfortranarray(A.copy()), np.asfortranarray(B.copy())
    getattr(lib, p + "posv_64_")(uplo, _i(n), _i(nrhs), _p(A2), _i(n), _p(X2), _i(n), ctypes.byref(info))
    assert info.value == 0 and np.allclose(X2, np.linalg.solve(A, B))
    getattr(lib, p + "potrf_64_")(b"X", _i(n), _p(c), _i(n), ctypes.byref(info))
    assert info.value == -1
    A3 = np.asfortranarray(A.copy())
    A3[2, 2] = -100
    getattr(lib, p + "posv_64_")(uplo, _i(n), _i(nrhs), _p(A3), _i(n), _p(X2), _i(n), ctypes.byref(info))
    assert info.value == 3


def test_ilp64_trsv_trsm():
    lib = _ilp64()
    r = np.random.default_rng(1)
    n = 4
    U = np.asfortranarray(np.triu(r.standard_normal((n, n))) + 3 * np.eye(n))
    x = r.standard_normal(n)
    y = x.copy()
    lib.dtrsv_64_(b"U", b"N", b"N", _i(n), _p(U), _i(n), _p(y), _i(1))
    assert np.allclose(U @ y, x)
    B = np.asfortranarray(r.standard_normal((n, 3)))
    X = B.copy(order="F")
    alpha = ctypes.c_double(2.0)
    lib.dtrsm_64_(b"L", b"U", b"T", b"N", _i(n), _i(3), ctypes.byref(alpha), _p(U), _i(n), _p(X), _i(n))
    assert np.allclose(U.T @ X, 2.0 * B)


def test_ilp64_getri_trtrs():
    """?getri_64_ (with its workspace query) and ?trtrs_64_, real and complex."""
    import scipy.linalg as sla
    lib = _ilp64()
    r = np.random.default_rng(2)
    n, nrhs = 5, 3
    for prefix, dtype in (("d", np.float64), ("z", np.complex128)):
        A = r.standard_normal((n, n)) + 3 * np.eye(n)
        if dtype == np.complex128:
            A = A + 1j * r.standard_normal((n, n))
        lu, piv = sla.lu_factor(A)
        lu = np.asfortranarray(lu.astype(dtype))
        ipiv = (piv + 1).astype(np.int64)
        query, info = np.zeros(2, dtype), I64(7)
        getri = getattr(lib, prefix + "getri_64_")
        getri(_i(n), _p(lu), _i(n), _p(ipiv), _p(query), _i(-1), ctypes.byref(info))
        lwork = int(query[0].real)
        assert info.value == 0 and lwork >= n
        work = np.zeros(lwork, dtype)
        getri(_i(n), _p(lu), _i(n), _p(ipiv), _p(work), _i(lwork), ctypes.byref(info))
        assert info.value == 0 and np.allclose(lu, np.linalg.inv(A))
        T = np.asfortranarray(np.tril(A))
        B = np.asfortranarray(r.standard_normal((n, nrhs)).astype(dtype))
        X = B.copy(order="F")
        getattr(lib, prefix + "trtrs_64_")(b"L", b"C", b"N", _i(n), _i(nrhs), _p(T), _i(n), _p(X), _i(n),
                                           ctypes.byref(info))
        assert info.value == 0 and np.allclose(T.conj().T @ X, B)


PLAIN = r"""
#include <stdio.h>
#include "difflapack_enzyme.h"
int main(void) {
    double A[9] = {1, 4, 7, 2, 5, 8, 3, 6, 10}, b[3] = {1, 1, 1};
    long long n = 3, one = 1, ipiv[3], info = 5;
    dgesv_64_(&n, &one, A, &n, ipiv, b, &n, &info);
    printf("%lld %.12f %.12f %.12f\n", info, b[0], b[1], b[2]);
    long long bad = -2;
    dgetrf_64_(&n, &bad, A, &n, ipiv, &info);
    printf("%lld\n", info);
    int m = 3, incx = 0;
    dtrsv_("U", "N", "N", &m, A, &m, b, &incx);   /* BLAS: xerbla message, x untouched */
    printf("%.12f\n", b[0]);
    return 0;
}
"""


@pytest.mark.parametrize("lang", ["c", "c++"])
def test_header_without_enzyme(tmp_path, lang):
    """Plain gcc/g++ build of a program using the header: runs the primal, LAPACK error codes."""
    cc = shutil.which("gcc" if lang == "c" else "g++")
    lib = get_library()
    if not cc or not os.path.exists(lib):
        pytest.skip("no compiler or library")
    src = tmp_path / "prog.c"
    src.write_text(PLAIN)
    exe = tmp_path / "prog"
    subprocess.run([cc, "-x", lang, "-Wall", "-Werror", "-I" + get_include(), str(src), "-x", "none", "-o", str(exe), lib,
                    "-Wl,-rpath," + os.path.dirname(lib), "-l:libopenblas.so.0"], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True)
    messages = out.stdout + out.stderr      # OpenBLAS's xerbla prints to stdout
    lines = " ".join(ln for ln in out.stdout.splitlines() if "**" not in ln).split()
    A = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 10.0]])
    x = np.linalg.solve(A, np.ones(3))
    assert lines[0] == "0" and np.allclose([float(v) for v in lines[1:4]], x)
    assert lines[4] == "-2"
    assert np.isclose(float(lines[5]), x[0])
    assert "DGETRF" in messages and "parameter number  2" in messages
    assert "DTRSV" in messages and "parameter number  8" in messages
