"""Evidence for the verdicts: how fast the BLAS/LAPACK building blocks run, per precision, on this
machine (one thread, best of interleaved rounds):
    python bench/efficiency.py [--n 1000] [--precisions s,d,z] [--clock cpu]
prints each call's time, its flop count and its speed in GFLOP/s and as a fraction of ?gemm's
(the machine's practical peak): what an ideal derivative made of these calls would cost, against
what ours costs. Flops are LAPACK's real-flop counts (complex: 4 real multiplications + 4
additions per complex multiply-add, i.e. 4x the real count).
"""
import argparse
import ctypes
import os
import sys

import numpy as np

from run import _bench_module  # bench/ is on sys.path when run as a script


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--precisions", default="s,d,z")
    ap.add_argument("--clock", default="cpu", choices=("wall", "cpu"))
    ap.add_argument("--min-time", type=float, default=0.5)
    args = ap.parse_args(argv)
    bench = _bench_module()
    from difflapack.bench.timing import limit_threads, measure, single_thread_environment
    single_thread_environment(1)
    from difflapack._core import lib
    lib.load()
    keep = limit_threads(1, lib)  # noqa: F841
    blas = bench.openblas()
    for name in ("gemm", "trmm"):
        for p in "sdcz":
            getattr(blas, f"{p}{name}_").restype = None
    n = args.n
    print(f"n = {n}, one thread, clock {args.clock}, load average {os.getloadavg()}")
    print("| precision | call | ms | flops (1e9) | GFLOP/s | / gemm |")
    print("|---|---|---|---|---|---|")
    for pre in args.precisions.split(","):
        dtype = bench.spec.DTYPES[pre]
        cx = 4 if pre in "cz" else 1
        p = bench.problem("inv", n, precision=pre)
        hp = bench.problem("potrf", n, precision=pre)
        buf = lambda a: np.array(a, dtype=dtype, order="F")  # noqa: E731
        A0, A, B, C = buf(p["A"]), buf(p["A"]), buf(p["dA"]), buf(p["dA"])
        H0, H = buf(hp["A"]), buf(hp["A"])
        T = buf(np.triu(p["A"]) + n * np.eye(n))
        LU, X = buf(p["LU"]), buf(p["X"])
        ipiv, ipiv_lu = np.array(p["ipiv"]), np.array(p["ipiv"])
        work = np.zeros(64 * n, dtype)
        one, zero = np.ones(1, dtype), np.zeros(1, dtype)
        ref = lambda v: ctypes.byref(ctypes.c_int(v))  # noqa: E731
        ch = lambda c: ctypes.byref(ctypes.c_char(c.encode()))  # noqa: E731
        vp = lambda a: ctypes.c_void_p(a.ctypes.data)  # noqa: E731
        iN, info = ref(n), ctypes.byref(ctypes.c_int(0))
        F = lambda name: getattr(blas, f"{pre}{name}_")  # noqa: E731
        K = lambda name: getattr(lib, f"dl_{pre}{name}")  # noqa: E731
        cp = lambda dst, src: (lambda: ctypes.memmove(dst.ctypes.data, src.ctypes.data, src.nbytes))  # noqa: E731
        calls = {
            "gemm (C = A B)": (2.0 * n**3, lambda: F("gemm")(ch("N"), ch("N"), iN, iN, iN, vp(one), vp(A0), iN, vp(B),
                                                             iN, vp(zero), vp(C), iN)),
            "trsm (L U N N, n x n)": (1.0 * n**3, lambda: (cp(C, B)(), F("trsm")(ch("L"), ch("U"), ch("N"), ch("N"), iN,
                                                                                 iN, vp(one), vp(T), iN, vp(C), iN))),
            "dl trsm (recursive)": (1.0 * n**3, lambda: (cp(C, B)(), K("trsm")(b"L", b"U", b"N", b"N", n, n,
                                                                                one.ctypes.data, T.ctypes.data, n,
                                                                                C.ctypes.data, n))),
            "trmm (L U N N, n x n)": (1.0 * n**3, lambda: (cp(C, B)(), F("trmm")(ch("L"), ch("U"), ch("N"), ch("N"), iN,
                                                                                 iN, vp(one), vp(T), iN, vp(C), iN))),
            "getrf": (2.0 / 3 * n**3, lambda: (cp(A, A0)(), F("getrf")(iN, iN, vp(A), iN, vp(ipiv), info))),
            "getri (LAPACK)": (4.0 / 3 * n**3, lambda: (cp(A, LU)(), F("getri")(iN, vp(A), iN, vp(ipiv_lu), vp(work),
                                                                                 ref(64 * n), info))),
            "dl getri (recursive)": (4.0 / 3 * n**3, lambda: (cp(A, LU)(), K("getri")(n, A.ctypes.data, n,
                                                                                       ipiv_lu.ctypes.data))),
            "potrf (L)": (1.0 / 3 * n**3, lambda: (cp(H, H0)(), F("potrf")(ch("L"), iN, vp(H), iN, info))),
            "copy n x n (memmove)": (0.0, cp(C, X)),
        }
        timed = measure({k: fn for k, (_, fn) in calls.items()}, min_time=args.min_time, clock=args.clock)
        gemm = 2.0 * n**3 * cx / timed["gemm (C = A B)"][0]
        for k, (flops, _) in calls.items():
            t = timed[k][0]
            rate = flops * cx / t
            extra = f"{rate / 1e9:.1f} | {rate / gemm:.2f}" if flops else f"{X.nbytes / t / 1e9:.1f} GB/s | -"
            print(f"| {bench.spec.PRECISION_NAMES[pre]} | {k} | {1e3 * t:.3f} | {flops * cx / 1e9:.3f} | {extra} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
