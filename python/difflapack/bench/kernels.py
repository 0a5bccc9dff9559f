"""The LAPACK primal and our C kernels, called through ctypes on preallocated Fortran buffers (no
NumPy API, no Python copies), in any precision s/d/c/z.

Every callable starts with the copy-in its caller needs because the routine overwrites it (A for
getrf/gesv, B for the solves; the incoming cotangent for the reverse kernels), for the primal
exactly as for ours, so the ratios are symmetric."""
from __future__ import annotations

import ctypes

import numpy as np

ACTIVE_A, ACTIVE_B, WANT_DLU = 1, 2, 8
_FORTRAN = ("trsv", "trsm", "getrf", "getrs", "gesv", "potrf", "posv", "getri")


def openblas() -> ctypes.CDLL:
    """The system OpenBLAS the difflapack core links (the same loaded object), its Fortran
    routines declared as subroutines in every precision."""
    blas = ctypes.CDLL("libopenblas.so.0", mode=ctypes.RTLD_GLOBAL)
    for p in "sdcz":
        for name in _FORTRAN:
            getattr(blas, f"{p}{name}_").restype = None
    return blas


class _Buffers:
    """Preallocated Fortran buffers and the ctypes plumbing around them."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.keep = []

    def buf(self, like, dtype=None):
        like = np.asarray(like)
        arr = np.zeros(like.shape, dtype=dtype or self.dtype, order="F")
        arr[...] = like
        self.keep.append(arr)
        return arr

    def zeros(self, shape):
        return self.buf(np.zeros(shape, self.dtype))

    @staticmethod
    def copier(dst, src):
        nbytes, d, s = src.nbytes, dst.ctypes.data, src.ctypes.data
        memmove = ctypes.memmove
        return lambda: memmove(d, s, nbytes)

    @staticmethod
    def zeroer(dst):
        nbytes, d = dst.nbytes, dst.ctypes.data
        memset = ctypes.memset
        return lambda: memset(d, 0, nbytes)


def _byref_int(v):
    return ctypes.byref(ctypes.c_int(v))


def _byref_char(c):
    return ctypes.byref(ctypes.c_char(c.encode()))


def seq(*steps):
    """One callable running `steps` in order; returns their results as a (nested) tuple."""
    steps = tuple(steps)
    if len(steps) == 1:
        return steps[0]
    if len(steps) == 2:
        a, b = steps
        return lambda: (a(), b())
    if len(steps) == 3:
        a, b, c = steps
        return lambda: (a(), b(), c())
    return lambda: tuple(s() for s in steps)


def call(fn, *args):
    return lambda: fn(*args)


def our_cases(routine: str, p: dict, lib, blas) -> dict:
    """Callables {"primal" (the LAPACK routine), "fwd", "rev_pb", "rev_full"} on preallocated
    buffers of the problem's precision; a derivative whose kernel is missing from the loaded
    library is left out."""
    n, pre = p["n"], p["precision"]
    bf = _Buffers(p["dtype"])
    cdll = lib.load()
    K = lambda name: getattr(cdll, f"dl_{pre}{name}")  # noqa: E731
    has = lambda name: hasattr(cdll, f"dl_{pre}{name}")  # noqa: E731
    F = lambda name: getattr(blas, f"{pre}{name}_")  # noqa: E731
    ptr = lambda a: a.ctypes.data  # noqa: E731  (kernels: argtypes convert it)
    vp = lambda a: ctypes.c_void_p(a.ctypes.data)  # noqa: E731  (Fortran: no argtypes)
    iN, one = _byref_int(n), _byref_int(1)
    info = ctypes.c_int(0)
    pinfo = ctypes.byref(info)
    cN, cU, cL = _byref_char("N"), _byref_char("U"), _byref_char("L")
    AB = ACTIVE_A | ACTIVE_B
    cases = {}

    if routine == "trsv":
        A, dA = bf.buf(p["A"]), bf.buf(p["dA"])
        x, dx = bf.buf(p["B"][:, 0]), bf.buf(p["dB"][:, 0])
        b0, db0, xbar0 = bf.buf(p["B"][:, 0]), bf.buf(p["dB"][:, 0]), bf.buf(p["Xbar"][:, 0])
        X, dAr = bf.buf(p["X"][:, 0]), bf.zeros((n, n))
        primal = seq(bf.copier(x, b0), call(F("trsv"), cU, cN, cN, iN, vp(A), iN, vp(x), one))
        cases["primal"] = primal
        if has("trsv_fwd"):
            cases["fwd"] = seq(bf.copier(x, b0), bf.copier(dx, db0),
                               call(K("trsv_fwd"), AB, b"U", b"N", b"N", n, ptr(A), n, ptr(dA), n, ptr(x), 1,
                                    ptr(dx), 1))
        if has("trsv_rev"):
            rev = lambda xs: seq(bf.copier(dx, xbar0), call(K("trsv_rev"), AB, b"U", b"N", b"N", n, ptr(A), n,  # noqa
                                                            ptr(dAr), n, ptr(xs), 1, ptr(dx), 1))
            cases["rev_pb"] = rev(X)
            cases["rev_full"] = seq(primal, rev(x))
    elif routine == "trsm":
        A, dA = bf.buf(p["A"]), bf.buf(p["dA"])
        B, dB = bf.buf(p["B"]), bf.buf(p["dB"])
        b0, db0, xbar0 = bf.buf(p["B"]), bf.buf(p["dB"]), bf.buf(p["Xbar"])
        X, dAr = bf.buf(p["X"]), bf.zeros((n, n))
        alpha = bf.buf(np.ones(1))
        primal = seq(bf.copier(B, b0), call(F("trsm"), cL, cU, cN, cN, iN, iN, vp(alpha), vp(A), iN, vp(B), iN))
        cases["primal"] = primal
        if has("trsm_fwd"):
            cases["fwd"] = seq(bf.copier(B, b0), bf.copier(dB, db0),
                               call(K("trsm_fwd"), AB, b"L", b"U", b"N", b"N", n, n, ptr(alpha), None, ptr(A), n,
                                    ptr(dA), n, ptr(B), n, ptr(dB), n))
        if has("trsm_rev"):
            # alpha inactive: B0 = NULL, dalpha = NULL
            rev = lambda xs: seq(bf.copier(dB, xbar0), call(K("trsm_rev"), AB, b"L", b"U", b"N", b"N", n, n,  # noqa
                                                            ptr(alpha), ptr(A), n, ptr(dAr), n, ptr(xs), n, None,
                                                            n, ptr(dB), n, None))
            cases["rev_pb"] = rev(X)
            cases["rev_full"] = seq(primal, rev(B))
    elif routine == "getrf":
        A0, A, dA0, dA = bf.buf(p["A"]), bf.buf(p["A"]), bf.buf(p["dA"]), bf.buf(p["dA"])
        ipiv = bf.buf(p["ipiv"], np.int32)
        LU, ipiv_lu = bf.buf(p["LU"]), bf.buf(p["ipiv"], np.int32)
        lubar0, dLU = bf.buf(p["LUbar"]), bf.buf(p["LUbar"])
        primal = seq(bf.copier(A, A0), call(F("getrf"), iN, iN, vp(A), iN, vp(ipiv), pinfo))
        cases["primal"] = primal
        if has("getrf_fwd"):
            cases["fwd"] = seq(bf.copier(A, A0), bf.copier(dA, dA0),
                               call(K("getrf_fwd"), ACTIVE_A, n, n, ptr(A), n, ptr(ipiv), ptr(dA), n))
        if has("getrf_rev"):
            rev = lambda lu, piv: seq(bf.copier(dLU, lubar0),  # noqa: E731
                                      call(K("getrf_rev"), ACTIVE_A, n, n, ptr(lu), n, ptr(piv), ptr(dLU), n))
            cases["rev_pb"] = rev(LU, ipiv_lu)
            cases["rev_full"] = seq(primal, rev(A, ipiv))
    elif routine == "getrs":
        k = p["B"].shape[1]
        LU, ipiv, dLU = bf.buf(p["LU"]), bf.buf(p["ipiv"], np.int32), bf.buf(p["dLU"])
        b0, db0, xbar0 = bf.buf(p["B"]), bf.buf(p["dB"]), bf.buf(p["Xbar"])
        B, dB, X = bf.buf(p["B"]), bf.buf(p["dB"]), bf.buf(p["X"])
        dLUr = bf.zeros((n, n))
        primal = seq(bf.copier(B, b0), call(F("getrs"), cN, iN, _byref_int(k), vp(LU), iN, vp(ipiv), vp(B), iN,
                                            pinfo))
        cases["primal"] = primal
        if has("getrs_fwd"):
            cases["fwd"] = seq(bf.copier(B, b0), bf.copier(dB, db0),
                               call(K("getrs_fwd"), AB, b"N", n, k, ptr(LU), n, ptr(dLU), n, ptr(ipiv), ptr(B), n,
                                    ptr(dB), n))
        if has("getrs_rev"):
            rev = lambda xs: seq(bf.copier(dB, xbar0), call(K("getrs_rev"), AB, b"N", n, k, ptr(LU), n,  # noqa
                                                            ptr(dLUr), n, ptr(ipiv), ptr(xs), n, ptr(dB), n))
            cases["rev_pb"] = rev(X)
            cases["rev_full"] = seq(primal, rev(B))
    elif routine == "gesv":
        k = p["B"].shape[1]
        A0, A, dA = bf.buf(p["A"]), bf.buf(p["A"]), bf.buf(p["dA"])
        b0, db0, xbar0 = bf.buf(p["B"]), bf.buf(p["dB"]), bf.buf(p["Xbar"])
        B, dB, X = bf.buf(p["B"]), bf.buf(p["dB"]), bf.buf(p["X"])
        ipiv = bf.buf(p["ipiv"], np.int32)
        LU, ipiv_lu = bf.buf(p["LU"]), bf.buf(p["ipiv"], np.int32)
        dAr = bf.zeros((n, n))
        primal = seq(bf.copier(A, A0), bf.copier(B, b0),
                     call(F("gesv"), iN, _byref_int(k), vp(A), iN, vp(ipiv), vp(B), iN, pinfo))
        cases["primal"] = primal
        if has("gesv_fwd"):
            # dx only (no DL_WANT_DLU, as solve_jvp): dA is read, not written, so it needs no copy-in
            cases["fwd"] = seq(bf.copier(A, A0), bf.copier(B, b0), bf.copier(dB, db0),
                               call(K("gesv_fwd"), AB, n, k, ptr(A), n, ptr(dA), n, ptr(ipiv), ptr(B), n, ptr(dB), n))
        if has("gesv_rev"):
            # A\b: the caller's shadow of A holds LUbar = 0 on entry (reset each call)
            rev = lambda lu, piv, xs: seq(bf.zeroer(dAr), bf.copier(dB, xbar0),  # noqa: E731
                                          call(K("gesv_rev"), AB, n, k, ptr(lu), n, ptr(piv), ptr(dAr), n,
                                               ptr(xs), n, ptr(dB), n))
            cases["rev_pb"] = rev(LU, ipiv_lu, X)
            cases["rev_full"] = seq(primal, rev(A, ipiv, B))
    elif routine == "potrf":
        A0, A, dA0, dA = bf.buf(p["A"]), bf.buf(p["A"]), bf.buf(p["dA"]), bf.buf(p["dA"])
        C, cbar0, dC = bf.buf(p["C"]), bf.buf(p["LUbar"]), bf.buf(p["LUbar"])
        primal = seq(bf.copier(A, A0), call(F("potrf"), cL, iN, vp(A), iN, pinfo))
        cases["primal"] = primal
        if has("potrf_fwd"):
            cases["fwd"] = seq(bf.copier(A, A0), bf.copier(dA, dA0),
                               call(K("potrf_fwd"), ACTIVE_A, b"L", n, ptr(A), n, ptr(dA), n))
        if has("potrf_rev"):
            rev = lambda c: seq(bf.copier(dC, cbar0), call(K("potrf_rev"), ACTIVE_A, b"L", n, ptr(c), n,  # noqa
                                                           ptr(dC), n))
            cases["rev_pb"] = rev(C)
            cases["rev_full"] = seq(primal, rev(A))
    elif routine == "posv":
        k = p["B"].shape[1]
        A0, A, dA0, dA, C = bf.buf(p["A"]), bf.buf(p["A"]), bf.buf(p["dA"]), bf.buf(p["dA"]), bf.buf(p["C"])
        b0, db0, xbar0 = bf.buf(p["B"]), bf.buf(p["dB"]), bf.buf(p["Xbar"])
        B, dB, X = bf.buf(p["B"]), bf.buf(p["dB"]), bf.buf(p["X"])
        dAr = bf.zeros((n, n))
        primal = seq(bf.copier(A, A0), bf.copier(B, b0),
                     call(F("posv"), cL, iN, _byref_int(k), vp(A), iN, vp(B), iN, pinfo))
        cases["primal"] = primal
        if has("posv_fwd"):
            # dC and dx (DL_WANT_DLU), as posv_jvp returns both: dA is overwritten by dC
            cases["fwd"] = seq(bf.copier(A, A0), bf.copier(B, b0), seq(bf.copier(dA, dA0), bf.copier(dB, db0)),
                               call(K("posv_fwd"), AB | WANT_DLU, b"L", n, k, ptr(A), n, ptr(dA), n, ptr(B), n,
                                    ptr(dB), n))
        if has("posv_rev"):
            # A\b: the caller's shadow of A holds Cbar = 0 on entry (reset each call)
            rev = lambda c, xs: seq(bf.zeroer(dAr), bf.copier(dB, xbar0),  # noqa: E731
                                    call(K("posv_rev"), AB, b"L", n, k, ptr(c), n, ptr(dAr), n, ptr(xs), n,
                                         ptr(dB), n))
            cases["rev_pb"] = rev(C, X)
            cases["rev_full"] = seq(primal, rev(A, B))
    elif routine == "inv":
        A0, A, dA0, dA = bf.buf(p["A"]), bf.buf(p["A"]), bf.buf(p["dA"]), bf.buf(p["dA"])
        ipiv = bf.buf(p["ipiv"], np.int32)
        xbar0, dX, X = bf.buf(p["Xbar"]), bf.buf(p["Xbar"]), bf.buf(p["X"])
        work = bf.zeros(64 * n)
        primal = seq(bf.copier(A, A0), call(F("getrf"), iN, iN, vp(A), iN, vp(ipiv), pinfo),
                     call(F("getri"), iN, vp(A), iN, vp(ipiv), vp(work), _byref_int(64 * n), pinfo))
        cases["primal"] = primal
        if has("inv_fwd"):
            cases["fwd"] = seq(bf.copier(A, A0), bf.copier(dA, dA0),
                               call(K("inv_fwd"), ACTIVE_A, n, ptr(A), n, ptr(ipiv), ptr(dA), n))
        if has("inv_rev"):
            rev = lambda xs: seq(bf.copier(dX, xbar0), call(K("inv_rev"), ACTIVE_A, n, ptr(xs), n, ptr(dX), n))  # noqa
            cases["rev_pb"] = rev(X)
            # inv_vjp: its primal (getrf + our inversion), then the pullback on the X it left
            cases["rev_full"] = seq(bf.copier(A, A0), call(K("inv"), n, ptr(A), n, ptr(ipiv)), rev(A))
    elif routine == "slogdet":
        A0, A, dA = bf.buf(p["A"]), bf.buf(p["A"]), bf.buf(p["dA"])
        ipiv = bf.buf(p["ipiv"], np.int32)
        diagonal = A.reshape(-1, order="F")[:: n + 1]  # a view of U's diagonal in A
        sign, dsign, signbar = bf.zeros(1), bf.zeros(1), bf.zeros(1)
        real = np.zeros(1, p["dtype"]).real.dtype
        logabs, dlogabs, labar = bf.buf(np.zeros(1), real), bf.buf(np.zeros(1), real), bf.buf(np.ones(1), real)
        dAr = bf.zeros((n, n))
        total = np.zeros(1)

        def log_abs_sum():  # returns None: the sanity check reads LAPACK's info instead
            total[0] = np.sum(np.log(np.abs(diagonal)))
        primal = seq(bf.copier(A, A0), call(F("getrf"), iN, iN, vp(A), iN, vp(ipiv), pinfo), log_abs_sum)
        cases["primal"] = primal
        if has("slogdet_fwd"):
            cases["fwd"] = seq(bf.copier(A, A0),
                               call(K("slogdet_fwd"), ACTIVE_A, n, ptr(A), n, ptr(ipiv), ptr(dA), n, ptr(sign),
                                    ptr(logabs), ptr(dsign), ptr(dlogabs)))
        if has("slogdet_inv_rev"):
            # slogdet_vjp's passes: the forward keeps A^{-1} (Gauss-Jordan, dl_?slogdet_inv), the
            # pullback scales its conjugate transpose. The cotangent of a (read-only input) starts
            # at zero, as in the NumPy pullback; the sign's is zero (logabsdet only)
            X, sign_x = bf.buf(p["X"]), bf.buf(np.ones(1))
            rev = lambda xs, sg: seq(bf.zeroer(dAr), call(K("slogdet_inv_rev"), ACTIVE_A, n, ptr(xs), n, ptr(sg),  # noqa
                                                          ptr(signbar), ptr(labar), ptr(dAr), n))
            cases["rev_pb"] = rev(X, sign_x)
            cases["rev_full"] = seq(bf.copier(A, A0), call(K("slogdet_inv"), n, ptr(A), n, ptr(ipiv), ptr(sign),
                                                           ptr(logabs), None), rev(A, sign))
    else:
        raise ValueError(f"unknown routine {routine!r}")
    cases["_keep"] = bf  # the buffers must outlive the callables
    cases["_info"] = info  # LAPACK info of the last primal call
    return cases


def _flatten(xs):
    for x in xs:
        if isinstance(x, tuple):
            yield from _flatten(x)
        else:
            yield x


def check_our_kernels(routine, p, lib, blas) -> list[str]:
    """Cheap sanity check (return codes) so a broken build is not silently timed."""
    cases = our_cases(routine, p, lib, blas)
    problems = []
    for k, fn in cases.items():
        if k.startswith("_"):
            continue
        cases["_info"].value = 0
        try:
            last = list(_flatten((fn(),)))[-1]  # the kernel's return code (None for Fortran)
        except Exception as exc:  # e.g. a ctypes signature the kernels no longer have
            problems.append(f"{routine} {k}: {type(exc).__name__}: {exc}")
            continue
        if last is None:
            last = cases["_info"].value
        if last != 0:
            problems.append(f"{routine} {k}: returned {last}")
    return problems


def call_overhead_us(lib, measure) -> float | None:
    """Cost of one ctypes kernel call plus one copy-in, measured on an n = 0 trsv_fwd (quick
    return): what the smallest problems' ratios include besides arithmetic."""
    if not hasattr(lib.load(), "dl_dtrsv_fwd"):
        return None
    x = np.zeros(1)
    fn = seq(_Buffers.copier(x, x), call(lib.dl_dtrsv_fwd, ACTIVE_A | ACTIVE_B, b"U", b"N", b"N", 0, x.ctypes.data,
                                         1, x.ctypes.data, 1, x.ctypes.data, 1, x.ctypes.data, 1))
    return 1e6 * measure({"overhead": fn}, min_time=0.05)["overhead"][0]
