"""``python -m difflapack bench``: speed and memory of difflapack's derivative kernels.

For trsv, trsm, getrf, getrs, gesv, potrf, posv, inv (getrf + getri) and slogdet, forward and
reverse, at n in {100, 250, 500, 1000}
(2000 with ``--large``), single-threaded BLAS unless ``--threads`` says otherwise, it measures

* the primal call: the plain Fortran BLAS/LAPACK routine of the system OpenBLAS
  (``dtrsv_`` ... ``dgesv_``, ``dpotrf_``, ``dposv_``; inv: ``dgetrf_`` + ``dgetri_``; slogdet:
  ``dgetrf_`` + the sum of log|U_ii|), the same library and thread count our kernels use;
* our kernels (``dl_d*_fwd`` / ``dl_d*_rev``) called through ctypes on preallocated Fortran
  buffers, as ratios to that primal;
* the same derivative in JAX (``jax.jvp`` / ``jax.vjp`` of ``lu_factor``, ``lu_solve``,
  ``solve_triangular``, ``solve``) and PyTorch (``torch.func.jvp`` / ``torch.func.vjp`` of
  ``torch.linalg.*``), each as a ratio to ITS OWN primal measured in the same run;
* the peak extra memory of our reverse (and forward) kernels, in a fresh subprocess.

Definitions (every ratio is printed, whichever the targets use):

* ``fwd``     = (primal + tangent) / primal: our forward kernels are fused, so one call.
* ``rev pb``  = pullback only / primal: the reverse kernel, given the primal outputs.
* ``rev p+pb``= (primal + pullback) / primal: a primal call followed by the reverse kernel.

Timing: each callable is calibrated to a batch of calls lasting >= 1 ms, then batches of all
the callables of one (routine, n) are run in interleaved rounds (so a load change on a shared
machine hits all of them alike) until each one has run >= ``--min-time`` seconds (default
0.2) and >= 5 batches; the reported time is the BEST batch (per call); medians go to the
JSON. Our inputs are copied into the preallocated buffers inside the timed call, for the
primal exactly as for the derivative (the LAPACK routine overwrites them).

Memory: in a fresh Python process (``python -c``) the buffers are allocated and touched, the
kernel is run once to warm up (OpenBLAS allocates its buffers on first use), glibc is told to
serve every block >= 64 KiB by mmap (``mallopt(M_MMAP_THRESHOLD)``, which also stops glibc
from keeping freed large blocks) and to give freed memory back (``malloc_trim``); then the
peak-RSS mark is reset (``/proc/self/clear_refs`` = 5), the kernel runs once, and
VmHWM - VmRSS(before) is its peak extra resident memory: every workspace page the kernel
touches, whoever allocates it. The primal's own figure is printed as the noise floor.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np

ROUTINES = ("trsv", "trsm", "getrf", "getrs", "gesv", "potrf", "posv", "inv", "slogdet")
DEFAULT_SIZES = (100, 250, 500, 1000)
QUICK_SIZES = (100, 250)
LARGE_SIZE = 2000
TARGET_N = 1000

# What each routine's benchmark problem is (printed under the table).
SHAPES = {
    "trsv": "A n x n upper, non-unit, trans N; x n-vector, incx 1",
    "trsm": "side L, upper, non-unit, trans N, alpha 1 (inactive); A n x n, B n x n",
    "getrf": "A n x n (partial pivoting)",
    "getrs": "trans N; packed LU n x n, B n x nrhs (nrhs = {nrhs})",
    "gesv": "A n x n, B n x nrhs (nrhs = {nrhs}); reverse = A\\b: cotangent of x only (LUbar = 0)",
    "potrf": "A n x n symmetric positive definite, uplo L",
    "posv": "A n x n symmetric positive definite (uplo L), B n x nrhs (nrhs = {nrhs}); reverse = A\\b: "
            "cotangent of x only (Cbar = 0)",
    "inv": "A n x n; ours = the kernels of inv_jvp / inv_vjp (getrf + recursive inversion, then dX = "
           "-X dA X / Abar = -X^H Xbar X^H, two gemm; rev p+pb runs that primal)",
    "slogdet": "A n x n; reverse: cotangent of logabsdet only (Abar = A^-H, by the recursive inversion)",
}

# (routine, mode, ratio definition, limit); checked at n = TARGET_N.
TARGETS = (
    ("getrf", "rev", "pb", 3.5),
    ("getrf", "fwd", "fwd", 3.5),
    ("gesv", "rev", "p+pb", 1.15),
    ("potrf", "fwd", "fwd", 3.5),
    ("potrf", "rev", "p+pb", 3.5),
    ("posv", "rev", "p+pb", 1.2),
    ("getrs", "rev", "pb", 2.5),
    ("trsm", "rev", "pb", 2.5),
    ("trsm", "fwd", "fwd", 2.5),
    ("inv", "fwd", "fwd", 3.0),
    ("inv", "rev", "p+pb", 3.0),
    ("slogdet", "rev", "p+pb", 2.5),
)
# The ratio each routine's reverse is judged (and plotted) by.
REV_DEFINITION = {"trsv": "pb", "trsm": "pb", "getrf": "pb", "getrs": "pb", "gesv": "p+pb", "potrf": "p+pb",
                  "posv": "p+pb", "inv": "p+pb", "slogdet": "p+pb"}

ACTIVE_A, ACTIVE_B = 1, 2
# Right-hand sides of getrs/gesv/posv (--nrhs). An environment variable, so that the memory
# subprocesses build the same problems.
NRHS_ENV = "DIFFLAPACK_BENCH_NRHS"


def _nrhs() -> int:
    return int(os.environ.get(NRHS_ENV, "1"))
MEMORY_SLACK_KIB = 64  # page-granular RSS accounting: a few pages of Python noise


# ------------------------------------------------------------------ environment
def _single_thread_environment(threads: int) -> None:
    """Ask every BLAS/LAPACK and thread pool in the process for `threads` threads. Variables
    first (libraries read them when they load), then the runtime calls."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    if threads == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        extra = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        if "xla_cpu_multi_thread_eigen" not in flags:
            os.environ["XLA_FLAGS"] = (flags + " " + extra).strip()
        if "jax" in sys.modules:
            print("warning: jax was imported before the benchmark set XLA_FLAGS; "
                  "XLA may use several threads", file=sys.stderr)


def _openblas() -> ctypes.CDLL:
    """The system OpenBLAS the difflapack core links (the same loaded object)."""
    blas = ctypes.CDLL("libopenblas.so.0", mode=ctypes.RTLD_GLOBAL)
    for name in ("dtrsv_", "dtrsm_", "dgetrf_", "dgetrs_", "dgesv_", "dpotrf_", "dposv_", "dgetri_"):
        getattr(blas, name).restype = None  # Fortran subroutines
    return blas


def _limit_threads(threads: int, lib) -> object:
    """Runtime thread limits, once every library is loaded; returns what must stay alive."""
    lib.dl_set_num_threads(threads)
    keep = None
    try:
        from threadpoolctl import threadpool_limits

        keep = threadpool_limits(limits=threads)
    except ImportError:
        print("warning: threadpoolctl not installed; NumPy/SciPy BLAS thread count not pinned",
              file=sys.stderr)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    return keep


# ------------------------------------------------------------------ timing
def _batch_size(fn, target=1e-3) -> int:
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - t0 >= target or number >= 1 << 20:
            return number
        number *= 2


def measure(fns: dict, min_time: float = 0.2, min_batches: int = 5) -> dict:
    """{name: (best, median) seconds per call}, batches of all `fns` interleaved."""
    for fn in fns.values():  # warm-up (JIT compilation, lazy initialisation, page faults)
        fn()
    numbers = {k: _batch_size(fn) for k, fn in fns.items()}
    samples = {k: [] for k in fns}
    spent = dict.fromkeys(fns, 0.0)
    while any(spent[k] < min_time or len(samples[k]) < min_batches for k in fns):
        for k, fn in fns.items():
            if spent[k] >= min_time and len(samples[k]) >= min_batches:
                continue
            number = numbers[k]
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            dt = time.perf_counter() - t0
            spent[k] += dt
            samples[k].append(dt / number)
    return {k: (min(v), statistics.median(v)) for k, v in samples.items()}


# ------------------------------------------------------------------ problems
def _rng(seed):
    return np.random.default_rng(seed)


def _general(n, seed):
    """Well-conditioned n x n matrix that still needs row swaps (pivoting is exercised)."""
    a = _rng(seed).standard_normal((n, n))
    return np.asfortranarray(a + 2.0 * np.sqrt(n) * np.eye(n)[:, ::-1])


def _upper(n, seed):
    r = _rng(seed)
    t = np.triu(r.standard_normal((n, n))) / np.sqrt(n)
    np.fill_diagonal(t, np.sign(r.standard_normal(n)) * (1.5 + r.random(n)))
    return np.asfortranarray(t)


def _spd(n, seed):
    """Symmetric positive definite, kappa ~ 10."""
    m = _rng(seed).standard_normal((n, n))
    return np.asfortranarray(m @ m.T / n + np.eye(n))


def _f(a):
    return np.asfortranarray(np.array(a, dtype=np.float64, copy=True))


def problem(routine: str, n: int, seed: int = 0) -> dict:
    """Inputs, seeds and cotangents as NumPy arrays (shared by all frameworks)."""
    r = _rng(seed + 1)
    p = {"n": n}
    if routine in ("trsv", "trsm"):
        p["A"] = _upper(n, seed)
        ncols = 1 if routine == "trsv" else n
        p["B"] = _f(r.standard_normal((n, ncols)))
    else:
        p["A"] = _spd(n, seed) if routine in ("potrf", "posv") else _general(n, seed)
        p["B"] = _f(r.standard_normal((n, _nrhs() if routine in ("getrs", "gesv", "posv") else 1)))
    if routine in ("trsv", "trsm"):
        p["dA"] = _f(np.triu(r.standard_normal((n, n))))
    else:
        p["dA"] = _f(r.standard_normal((n, n)))
    p["dB"] = _f(r.standard_normal(p["B"].shape))
    # the cotangent of the output: x (B's shape), or the inverse X
    p["Xbar"] = _f(r.standard_normal((n, n) if routine == "inv" else p["B"].shape))
    p["LUbar"] = _f(r.standard_normal((n, n)))
    if routine in ("potrf", "posv"):
        p["C"] = _f(np.linalg.cholesky(p["A"]))  # the factor, lower (the other triangle 0)
    if routine in ("getrs", "gesv", "getrf", "inv", "slogdet"):
        import scipy.linalg

        lu, piv = scipy.linalg.lu_factor(p["A"])
        p["LU"] = _f(lu)
        p["piv0"] = piv.astype(np.int32)  # 0-based, as SciPy/JAX give it
        p["ipiv"] = (piv + 1).astype(np.int32)  # 1-based, as LAPACK gives it
        p["dLU"] = _f(r.standard_normal((n, n)))
    return p


# ------------------------------------------------------------------ our kernels (ctypes)
class _Buffers:
    """Preallocated Fortran buffers and the ctypes plumbing around them."""

    def __init__(self):
        self.keep = []

    def buf(self, like, dtype=np.float64):
        arr = np.zeros(like.shape, dtype=dtype, order="F")
        arr[...] = like
        self.keep.append(arr)
        return arr

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


def _byref_double(v):
    return ctypes.byref(ctypes.c_double(v))


def _seq(*steps):
    steps = tuple(steps)
    if len(steps) == 1:
        return steps[0]
    if len(steps) == 2:
        a, b = steps
        return lambda: (a(), b())
    if len(steps) == 3:
        a, b, c = steps
        return lambda: (a(), b(), c())

    def run():
        for s in steps:
            s()
    return run


def _call(fn, *args):
    return lambda: fn(*args)


def our_cases(routine: str, p: dict, lib, blas) -> dict:
    """Callables {"primal", "fwd", "rev_pb", "rev_full"} on preallocated buffers; a
    derivative whose kernel is missing from the loaded library is left out. Every callable
    starts with the copy-in the caller would need (the routines overwrite their inputs)."""
    n = p["n"]
    bf = _Buffers()
    ptr = lambda a: a.ctypes.data  # noqa: E731  (kernels: argtypes convert it)
    vp = lambda a: ctypes.c_void_p(a.ctypes.data)  # noqa: E731  (Fortran BLAS: no argtypes)
    iN, one = _byref_int(n), _byref_int(1)
    info = ctypes.c_int(0)
    pinfo = ctypes.byref(info)
    cN, cU, cL, cT = _byref_char("N"), _byref_char("U"), _byref_char("L"), _byref_char("T")
    cases = {}
    has = lambda name: hasattr(lib.load(), name)  # noqa: E731

    if routine == "trsv":
        A, dA = bf.buf(p["A"]), bf.buf(p["dA"])
        x, dx = bf.buf(p["B"][:, 0]), bf.buf(p["dB"][:, 0])
        b0, db0, xbar0 = bf.buf(p["B"][:, 0]), bf.buf(p["dB"][:, 0]), bf.buf(p["Xbar"][:, 0])
        X = bf.buf(np.linalg.solve(np.triu(p["A"]), p["B"][:, 0]))
        primal = _seq(bf.copier(x, b0), _call(blas.dtrsv_, cU, cN, cN, iN, vp(A), iN, vp(x), one))
        cases["primal"] = primal
        if has("dl_dtrsv_fwd"):
            cases["fwd"] = _seq(bf.copier(x, b0), bf.copier(dx, db0),
                                _call(lib.dl_dtrsv_fwd, ACTIVE_A | ACTIVE_B, b"U", b"N", b"N", n,
                                      ptr(A), n, ptr(dA), n, ptr(x), 1, ptr(dx), 1))
        if has("dl_dtrsv_rev"):
            dAr = bf.buf(np.zeros((n, n)))
            pb = _seq(bf.copier(dx, xbar0),
                      _call(lib.dl_dtrsv_rev, ACTIVE_A | ACTIVE_B, b"U", b"N", b"N", n,
                            ptr(A), n, ptr(dAr), n, ptr(X), 1, ptr(dx), 1))
            cases["rev_pb"] = pb
            cases["rev_full"] = _seq(primal, _seq(bf.copier(dx, xbar0),
                                     _call(lib.dl_dtrsv_rev, ACTIVE_A | ACTIVE_B, b"U", b"N", b"N", n,
                                           ptr(A), n, ptr(dAr), n, ptr(x), 1, ptr(dx), 1)))
    elif routine == "trsm":
        A, dA = bf.buf(p["A"]), bf.buf(p["dA"])
        B, dB = bf.buf(p["B"]), bf.buf(p["dB"])
        b0, db0, xbar0 = bf.buf(p["B"]), bf.buf(p["dB"]), bf.buf(p["Xbar"])
        X = bf.buf(np.linalg.solve(np.triu(p["A"]), p["B"]))
        alpha = _byref_double(1.0)
        primal = _seq(bf.copier(B, b0), _call(blas.dtrsm_, cL, cU, cN, cN, iN, iN, alpha,
                                              vp(A), iN, vp(B), iN))
        cases["primal"] = primal
        if has("dl_dtrsm_fwd"):
            cases["fwd"] = _seq(bf.copier(B, b0), bf.copier(dB, db0),
                                _call(lib.dl_dtrsm_fwd, ACTIVE_A | ACTIVE_B, b"L", b"U", b"N", b"N",
                                      n, n, 1.0, 0.0, ptr(A), n, ptr(dA), n, ptr(B), n, ptr(dB), n))
        if has("dl_dtrsm_rev"):
            dAr = bf.buf(np.zeros((n, n)))
            # B0 = NULL: the caller's B was overwritten by X (alpha is inactive anyway)
            cases["rev_pb"] = _seq(bf.copier(dB, xbar0),
                                   _call(lib.dl_dtrsm_rev, ACTIVE_A | ACTIVE_B, b"L", b"U", b"N",
                                         b"N", n, n, 1.0, ptr(A), n, ptr(dAr), n, ptr(X), n, None,
                                         n, ptr(dB), n, None))
            cases["rev_full"] = _seq(primal, bf.copier(dB, xbar0),
                                     _call(lib.dl_dtrsm_rev, ACTIVE_A | ACTIVE_B, b"L", b"U", b"N",
                                           b"N", n, n, 1.0, ptr(A), n, ptr(dAr), n, ptr(B), n,
                                           None, n, ptr(dB), n, None))
    elif routine == "getrf":
        A0, A, dA0, dA = bf.buf(p["A"]), bf.buf(p["A"]), bf.buf(p["dA"]), bf.buf(p["dA"])
        ipiv = bf.buf(p["ipiv"], np.int32)
        LU, ipiv_lu = bf.buf(p["LU"]), bf.buf(p["ipiv"], np.int32)
        lubar0, dLU = bf.buf(p["LUbar"]), bf.buf(p["LUbar"])
        primal = _seq(bf.copier(A, A0), _call(blas.dgetrf_, iN, iN, vp(A), iN, vp(ipiv), pinfo))
        cases["primal"] = primal
        if has("dl_dgetrf_fwd"):
            cases["fwd"] = _seq(bf.copier(A, A0), bf.copier(dA, dA0),
                                _call(lib.dl_dgetrf_fwd, ACTIVE_A, n, n, ptr(A), n, ptr(ipiv),
                                      ptr(dA), n))
        if has("dl_dgetrf_rev"):
            cases["rev_pb"] = _seq(bf.copier(dLU, lubar0),
                                   _call(lib.dl_dgetrf_rev, ACTIVE_A, n, n, ptr(LU), n,
                                         ptr(ipiv_lu), ptr(dLU), n))
            cases["rev_full"] = _seq(primal, bf.copier(dLU, lubar0),
                                     _call(lib.dl_dgetrf_rev, ACTIVE_A, n, n, ptr(A), n, ptr(ipiv),
                                           ptr(dLU), n))
    elif routine == "getrs":
        k = p["B"].shape[1]
        iK = _byref_int(k)
        LU, ipiv, dLU = bf.buf(p["LU"]), bf.buf(p["ipiv"], np.int32), bf.buf(p["dLU"])
        b0, db0, xbar0 = bf.buf(p["B"]), bf.buf(p["dB"]), bf.buf(p["Xbar"])
        B, dB = bf.buf(p["B"]), bf.buf(p["dB"])
        X = bf.buf(np.linalg.solve(p["A"], p["B"]))
        dLUr = bf.buf(np.zeros((n, n)))
        primal = _seq(bf.copier(B, b0), _call(blas.dgetrs_, cN, iN, iK, vp(LU), iN, vp(ipiv),
                                              vp(B), iN, pinfo))
        cases["primal"] = primal
        if has("dl_dgetrs_fwd"):
            cases["fwd"] = _seq(bf.copier(B, b0), bf.copier(dB, db0),
                                _call(lib.dl_dgetrs_fwd, ACTIVE_A | ACTIVE_B, b"N", n, k, ptr(LU), n,
                                      ptr(dLU), n, ptr(ipiv), ptr(B), n, ptr(dB), n))
        if has("dl_dgetrs_rev"):
            cases["rev_pb"] = _seq(bf.copier(dB, xbar0),
                                   _call(lib.dl_dgetrs_rev, ACTIVE_A | ACTIVE_B, b"N", n, k, ptr(LU),
                                         n, ptr(dLUr), n, ptr(ipiv), ptr(X), n, ptr(dB), n))
            cases["rev_full"] = _seq(primal, bf.copier(dB, xbar0),
                                     _call(lib.dl_dgetrs_rev, ACTIVE_A | ACTIVE_B, b"N", n, k,
                                           ptr(LU), n, ptr(dLUr), n, ptr(ipiv), ptr(B), n, ptr(dB), n))
    elif routine == "gesv":
        k = p["B"].shape[1]
        iK = _byref_int(k)
        A0, A, dA = bf.buf(p["A"]), bf.buf(p["A"]), bf.buf(p["dA"])
        b0, db0, xbar0 = bf.buf(p["B"]), bf.buf(p["dB"]), bf.buf(p["Xbar"])
        B, dB = bf.buf(p["B"]), bf.buf(p["dB"])
        ipiv = bf.buf(p["ipiv"], np.int32)
        LU, ipiv_lu = bf.buf(p["LU"]), bf.buf(p["ipiv"], np.int32)
        X = bf.buf(np.linalg.solve(p["A"], p["B"]))
        dAr = bf.buf(np.zeros((n, n)))
        primal = _seq(bf.copier(A, A0), bf.copier(B, b0),
                      _call(blas.dgesv_, iN, iK, vp(A), iN, vp(ipiv), vp(B), iN, pinfo))
        cases["primal"] = primal
        if has("dl_dgesv_fwd"):
            # dx only (no DL_WANT_DLU): dA is read, not written, so it needs no copy-in
            cases["fwd"] = _seq(bf.copier(A, A0), bf.copier(B, b0), bf.copier(dB, db0),
                                _call(lib.dl_dgesv_fwd, ACTIVE_A | ACTIVE_B, n, k, ptr(A), n,
                                      ptr(dA), n, ptr(ipiv), ptr(B), n, ptr(dB), n))
        if has("dl_dgesv_rev"):
            # A\b: the caller's shadow of A holds LUbar = 0 on entry (reset each call)
            cases["rev_pb"] = _seq(bf.zeroer(dAr), bf.copier(dB, xbar0),
                                   _call(lib.dl_dgesv_rev, ACTIVE_A | ACTIVE_B, n, k, ptr(LU), n,
                                         ptr(ipiv_lu), ptr(dAr), n, ptr(X), n, ptr(dB), n))
            cases["rev_full"] = _seq(primal, _seq(bf.zeroer(dAr), bf.copier(dB, xbar0),
                                     _call(lib.dl_dgesv_rev, ACTIVE_A | ACTIVE_B, n, k, ptr(A), n,
                                           ptr(ipiv), ptr(dAr), n, ptr(B), n, ptr(dB), n)))
    elif routine == "potrf":
        A0, A, dA0, dA = bf.buf(p["A"]), bf.buf(p["A"]), bf.buf(p["dA"]), bf.buf(p["dA"])
        C, cbar0, dC = bf.buf(p["C"]), bf.buf(p["LUbar"]), bf.buf(p["LUbar"])
        primal = _seq(bf.copier(A, A0), _call(blas.dpotrf_, cL, iN, vp(A), iN, pinfo))
        cases["primal"] = primal
        if has("dl_dpotrf_fwd"):
            cases["fwd"] = _seq(bf.copier(A, A0), bf.copier(dA, dA0),
                                _call(lib.dl_dpotrf_fwd, ACTIVE_A, b"L", n, ptr(A), n, ptr(dA), n))
        if has("dl_dpotrf_rev"):
            cases["rev_pb"] = _seq(bf.copier(dC, cbar0),
                                   _call(lib.dl_dpotrf_rev, ACTIVE_A, b"L", n, ptr(C), n, ptr(dC), n))
            cases["rev_full"] = _seq(primal, bf.copier(dC, cbar0),
                                     _call(lib.dl_dpotrf_rev, ACTIVE_A, b"L", n, ptr(A), n, ptr(dC), n))
    elif routine == "posv":
        k = p["B"].shape[1]
        iK = _byref_int(k)
        A0, A, dA, C = bf.buf(p["A"]), bf.buf(p["A"]), bf.buf(p["dA"]), bf.buf(p["C"])
        b0, db0, xbar0 = bf.buf(p["B"]), bf.buf(p["dB"]), bf.buf(p["Xbar"])
        B, dB = bf.buf(p["B"]), bf.buf(p["dB"])
        X = bf.buf(np.linalg.solve(p["A"], p["B"]))
        dAr = bf.buf(np.zeros((n, n)))
        primal = _seq(bf.copier(A, A0), bf.copier(B, b0), _call(blas.dposv_, cL, iN, iK, vp(A), iN, vp(B), iN, pinfo))
        cases["primal"] = primal
        if has("dl_dposv_fwd"):
            # dx only (no DL_WANT_DLU): dA is read, not written, so it needs no copy-in
            cases["fwd"] = _seq(bf.copier(A, A0), bf.copier(B, b0), bf.copier(dB, db0),
                                _call(lib.dl_dposv_fwd, ACTIVE_A | ACTIVE_B, b"L", n, k, ptr(A), n, ptr(dA), n,
                                      ptr(B), n, ptr(dB), n))
        if has("dl_dposv_rev"):
            # A\b: the caller's shadow of A holds Cbar = 0 on entry (reset each call)
            cases["rev_pb"] = _seq(bf.zeroer(dAr), bf.copier(dB, xbar0),
                                   _call(lib.dl_dposv_rev, ACTIVE_A | ACTIVE_B, b"L", n, k, ptr(C), n, ptr(dAr), n,
                                         ptr(X), n, ptr(dB), n))
            cases["rev_full"] = _seq(primal, _seq(bf.zeroer(dAr), bf.copier(dB, xbar0),
                                     _call(lib.dl_dposv_rev, ACTIVE_A | ACTIVE_B, b"L", n, k, ptr(A), n,
                                           ptr(dAr), n, ptr(B), n, ptr(dB), n)))
    elif routine == "inv":
        A0, A, dA0, dA = bf.buf(p["A"]), bf.buf(p["A"]), bf.buf(p["dA"]), bf.buf(p["dA"])
        ipiv = bf.buf(p["ipiv"], np.int32)
        xbar0, dX = bf.buf(p["Xbar"]), bf.buf(p["Xbar"])
        X = bf.buf(np.linalg.inv(p["A"]))
        work = bf.buf(np.zeros(64 * n))
        lwork = _byref_int(64 * n)
        primal = _seq(bf.copier(A, A0), _call(blas.dgetrf_, iN, iN, vp(A), iN, vp(ipiv), pinfo),
                      _call(blas.dgetri_, iN, vp(A), iN, vp(ipiv), vp(work), lwork, pinfo))
        cases["primal"] = primal
        if has("dl_dinv_fwd"):
            cases["fwd"] = _seq(bf.copier(A, A0), bf.copier(dA, dA0),
                                _call(lib.dl_dinv_fwd, ACTIVE_A, n, ptr(A), n, ptr(ipiv), ptr(dA), n))
        if has("dl_dinv_rev"):
            cases["rev_pb"] = _seq(bf.copier(dX, xbar0), _call(lib.dl_dinv_rev, ACTIVE_A, n, ptr(X), n, ptr(dX), n))
            # inv_vjp: its primal (getrf + our inversion), then the pullback on the X it left
            cases["rev_full"] = _seq(bf.copier(A, A0), _call(lib.dl_dinv, n, ptr(A), n, ptr(ipiv)),
                                     _seq(bf.copier(dX, xbar0),
                                          _call(lib.dl_dinv_rev, ACTIVE_A, n, ptr(A), n, ptr(dX), n)))
    elif routine == "slogdet":
        A0, A, dA = bf.buf(p["A"]), bf.buf(p["A"]), bf.buf(p["dA"])
        ipiv = bf.buf(p["ipiv"], np.int32)
        LU, ipiv_lu = bf.buf(p["LU"]), bf.buf(p["ipiv"], np.int32)
        diagonal = A.reshape(-1, order="F")[:: n + 1]  # a view of U's diagonal in A
        sign, logabs, dsign, dlogabs = (bf.buf(np.zeros(1)) for _ in range(4))
        labar = bf.buf(np.ones(1))
        dAr = bf.buf(np.zeros((n, n)))
        total = np.zeros(1)

        def log_abs_sum():  # returns None: the sanity check reads LAPACK's info instead
            total[0] = np.sum(np.log(np.abs(diagonal)))
        primal = _seq(bf.copier(A, A0), _call(blas.dgetrf_, iN, iN, vp(A), iN, vp(ipiv), pinfo), log_abs_sum)
        cases["primal"] = primal
        if has("dl_dslogdet_fwd"):
            cases["fwd"] = _seq(bf.copier(A, A0),
                                _call(lib.dl_dslogdet_fwd, ACTIVE_A, n, ptr(A), n, ptr(ipiv), ptr(dA), n,
                                      ptr(sign), ptr(logabs), ptr(dsign), ptr(dlogabs)))
        if has("dl_dslogdet_rev"):
            # the cotangent of a (read-only input) starts at zero, as in the NumPy pullback
            pb = _seq(bf.zeroer(dAr), _call(lib.dl_dslogdet_rev, ACTIVE_A, n, ptr(LU), n, ptr(ipiv_lu), None,
                                            ptr(labar), ptr(dAr), n))
            cases["rev_pb"] = pb
            cases["rev_full"] = _seq(primal, _seq(bf.zeroer(dAr), _call(lib.dl_dslogdet_rev, ACTIVE_A, n, ptr(A),
                                                                        n, ptr(ipiv), None, ptr(labar), ptr(dAr), n)))
    else:
        raise ValueError(f"unknown routine {routine!r}")
    cases["_keep"] = bf  # the buffers must outlive the callables
    cases["_info"] = info  # LAPACK info of the last primal call
    return cases


def _check_our_kernels(routine, p, lib, blas) -> list[str]:
    """Cheap sanity check (return codes) so a broken build is not silently timed."""
    cases = our_cases(routine, p, lib, blas)
    problems = []
    for k, fn in cases.items():
        if k.startswith("_"):
            continue
        cases["_info"].value = 0
        last = list(_flatten((fn(),)))[-1]  # the kernel's return code (None for Fortran)
        if last is None:
            last = cases["_info"].value
        if last != 0:
            problems.append(f"{routine} {k}: returned {last}")
    return problems


def _flatten(xs):
    for x in xs:
        if isinstance(x, tuple):
            yield from _flatten(x)
        else:
            yield x


# ------------------------------------------------------------------ JAX
def jax_cases(routine: str, p: dict) -> dict:
    import jax
    import jax.numpy as jnp
    import jax.scipy.linalg as jsl

    jax.config.update("jax_enable_x64", True)
    arr = lambda a: jnp.asarray(np.ascontiguousarray(a))  # noqa: E731
    A, dA, LU, dLU = arr(p["A"]), arr(p["dA"]), arr(p.get("LU", p["A"])), arr(p.get("dLU", p["dA"]))
    vec = routine == "trsv" or (routine in ("getrs", "gesv", "posv") and p["B"].shape[1] == 1)
    B = arr(p["B"][:, 0] if vec else p["B"])
    dB = arr(p["dB"][:, 0] if vec else p["dB"])
    Xbar = arr(p["Xbar"][:, 0] if vec else p["Xbar"])

    if routine in ("trsv", "trsm"):
        def f(a, b):
            return jsl.solve_triangular(a, b, lower=False)
        args, tangents, cot = (A, B), (dA, dB), Xbar
    elif routine == "getrf":
        def f(a):
            return jsl.lu_factor(a)[0]
        args, tangents, cot = (A,), (dA,), arr(p["LUbar"])
    elif routine == "getrs":
        piv = jnp.asarray(p["piv0"])

        def f(lu, b):
            return jsl.lu_solve((lu, piv), b)
        args, tangents, cot = (LU, B), (dLU, dB), Xbar
    elif routine == "gesv":
        def f(a, b):
            return jnp.linalg.solve(a, b)
        args, tangents, cot = (A, B), (dA, dB), Xbar
    elif routine == "potrf":
        def f(a):
            return jnp.linalg.cholesky(a)
        args, tangents, cot = (A,), (dA,), arr(np.tril(p["LUbar"]))
    elif routine == "posv":
        def f(a, b):
            return jsl.cho_solve((jnp.linalg.cholesky(a), True), b)
        args, tangents, cot = (A, B), (dA, dB), Xbar
    elif routine == "inv":
        f, args, tangents, cot = jnp.linalg.inv, (A,), (dA,), arr(p["Xbar"])
    elif routine == "slogdet":
        def f(a):
            return jnp.linalg.slogdet(a)[1]
        args, tangents, cot = (A,), (dA,), jnp.ones((), A.dtype)
    else:
        raise ValueError(routine)

    primal = jax.jit(f)
    fwd = jax.jit(lambda xs, ts: jax.jvp(f, xs, ts))
    full = jax.jit(lambda xs, ct: jax.vjp(f, *xs)[1](ct))
    _, pullback = jax.vjp(f, *args)  # residuals computed once; the pullback alone is timed
    pb = jax.jit(lambda pbf, ct: pbf(ct))
    ready = jax.block_until_ready
    return {
        "primal": lambda: ready(primal(*args)),
        "fwd": lambda: ready(fwd(args, tangents)),
        "rev_pb": lambda: ready(pb(pullback, cot)),
        "rev_full": lambda: ready(full(args, cot)),
    }


# ------------------------------------------------------------------ PyTorch
def torch_cases(routine: str, p: dict) -> dict:
    import torch
    from torch.func import jvp, vjp

    t = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    A, dA = t(p["A"]), t(p["dA"])
    B, dB, Xbar = t(p["B"]), t(p["dB"]), t(p["Xbar"])
    if routine in ("trsv", "trsm"):
        def f(a, b):
            return torch.linalg.solve_triangular(a, b, upper=True)
        args, tangents, cot = (A, B), (dA, dB), Xbar
    elif routine == "getrf":
        def f(a):
            return torch.linalg.lu_factor(a)[0]
        args, tangents, cot = (A,), (dA,), t(p["LUbar"])
    elif routine == "getrs":
        piv = torch.from_numpy(p["ipiv"].copy())  # torch pivots are 1-based like LAPACK

        def f(lu, b):
            return torch.linalg.lu_solve(lu, piv, b)
        args, tangents, cot = (t(p["LU"]), B), (t(p["dLU"]), dB), Xbar
    elif routine == "gesv":
        if B.shape[1] == 1:
            B, dB, Xbar = B[:, 0], dB[:, 0], Xbar[:, 0]

        def f(a, b):
            return torch.linalg.solve(a, b)
        args, tangents, cot = (A, B), (dA, dB), Xbar
    elif routine == "potrf":
        def f(a):
            return torch.linalg.cholesky(a)
        args, tangents, cot = (A,), (dA,), t(np.tril(p["LUbar"]))
    elif routine == "posv":
        def f(a, b):
            return torch.cholesky_solve(b, torch.linalg.cholesky(a))
        args, tangents, cot = (A, B), (dA, dB), Xbar
    elif routine == "inv":
        f, args, tangents, cot = torch.linalg.inv, (A,), (dA,), t(p["Xbar"])
    elif routine == "slogdet":
        def f(a):
            return torch.linalg.slogdet(a)[1]
        args, tangents, cot = (A,), (dA,), torch.ones((), dtype=A.dtype)
    else:
        raise ValueError(routine)

    _, pullback = vjp(f, *args)
    return {
        "primal": lambda: f(*args),
        "fwd": lambda: jvp(f, args, tangents),
        "rev_pb": lambda: pullback(cot),
        "rev_full": lambda: vjp(f, *args)[1](cot),
    }


# ------------------------------------------------------------------ memory (subprocess)
def _proc_status_kib(*keys) -> dict:
    with open("/proc/self/status") as fh:
        text = fh.read()
    return {k: int(re.search(k + r":\s+(\d+)", text).group(1)) for k in keys}


def _memory_worker(routine: str, n: int, threads: int) -> dict:
    """Runs in a fresh process: peak extra resident KiB of each of our callables."""
    libc = ctypes.CDLL("libc.so.6")
    M_MMAP_THRESHOLD = -3
    libc.mallopt(M_MMAP_THRESHOLD, 64 * 1024)
    from ._core import lib

    lib.load()
    blas = _openblas()
    lib.dl_set_num_threads(threads)
    cases = our_cases(routine, problem(routine, n), lib, blas)
    result = {}
    for name in ("primal", "fwd", "rev_pb"):
        fn = cases.get(name)
        if fn is None:
            continue
        fn()  # warm-up: OpenBLAS buffers, lazy binding
        libc.malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        before = _proc_status_kib("VmRSS")["VmRSS"]
        fn()
        after = _proc_status_kib("VmHWM")["VmHWM"]
        result[name] = max(0, after - before)
    return result


def measure_memory(routine: str, n: int, threads: int) -> dict:
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
    code = ("import json, sys; from difflapack.bench import _memory_worker; "
            "print(json.dumps(_memory_worker(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))")
    out = subprocess.run([sys.executable, "-c", code, routine, str(n), str(threads)], env=env,
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory_budget_kib(routine: str, n: int) -> float:
    """One copy of each input the caller may overwrite (the reverse-pass memory target)."""
    k = _nrhs()
    doubles = {"trsv": n, "trsm": n * n, "getrf": n * n, "getrs": n * k, "gesv": n * n + n * k, "potrf": n * n,
               "posv": n * n + n * k, "inv": n * n, "slogdet": n * n}[routine]
    return doubles * 8 / 1024


# ------------------------------------------------------------------ Enzyme (optional)
# The same call differentiated by Enzyme (through Enzyme-JAX cpp_call and difflapack.testing):
# "rules" calls the Fortran routine with difflapack_enzyme.h included, so Enzyme uses our
# kernels; "loops" is a plain loop implementation that Enzyme differentiates by itself (what
# it falls back to without rules). n is baked into the source (one build per n).
_ENZYME_RULES = {
    "trsv": r"""#include "difflapack_enzyme.h"
void bench_trsv(double* x, const double* A, int n) {
  int one = 1;
  dtrsv_("U", "N", "N", &n, A, &n, x, &one);
}""",
    "trsm": r"""#include "difflapack_enzyme.h"
void bench_trsm(double* B, const double* A, int n) {
  double one = 1.0;
  dtrsm_("L", "U", "N", "N", &n, &n, &one, A, &n, B, &n);
}""",
    "getrf": r"""#include "difflapack_enzyme.h"
void bench_getrf(double* A, int n) {
  int info = 0;
  int* ipiv = (int*)__builtin_malloc(sizeof(int) * n);
  dgetrf_(&n, &n, A, &n, ipiv, &info);
  __builtin_free(ipiv);
}""",
    "getrs": r"""#include "difflapack_enzyme.h"
void bench_getrs(double* b, const double* LU, const int* ipiv, int n) {
  int one = 1, info = 0;
  dgetrs_("N", &n, &one, LU, &n, ipiv, b, &n, &info);
}""",
    "gesv": r"""#include "difflapack_enzyme.h"
void bench_gesv(double* x, const double* A, int n) {   /* x := A \ x; A itself is not changed */
  int one = 1, info = 0;
  double* W = (double*)__builtin_malloc(sizeof(double) * n * n);
  int* ipiv = (int*)__builtin_malloc(sizeof(int) * n);
  for (long k = 0; k < (long)n * n; ++k) W[k] = A[k];
  dgesv_(&n, &one, W, &n, ipiv, x, &n, &info);
  __builtin_free(ipiv);
  __builtin_free(W);
}""",
    "potrf": r"""#include "difflapack_enzyme.h"
void bench_potrf(double* A, int n) {
  int info = 0;
  dpotrf_("L", &n, A, &n, &info);
}""",
    "posv": r"""#include "difflapack_enzyme.h"
void bench_posv(double* x, const double* A, int n) {   /* x := A \ x; A itself is not changed */
  int one = 1, info = 0;
  double* W = (double*)__builtin_malloc(sizeof(double) * n * n);
  for (long k = 0; k < (long)n * n; ++k) W[k] = A[k];
  dposv_("L", &n, &one, W, &n, x, &n, &info);
  __builtin_free(W);
}""",
}
_LOOP_LU = r"""
static void loop_getrf(double* A, int* ipiv, int n) {
  for (int k = 0; k < n; ++k) {
    int p = k; double m = __builtin_fabs(A[k + (long)k * n]);
    for (int i = k + 1; i < n; ++i) { double v = __builtin_fabs(A[i + (long)k * n]); if (v > m) { m = v; p = i; } }
    ipiv[k] = p + 1;
    if (p != k) for (int j = 0; j < n; ++j) { double t = A[k + (long)j * n]; A[k + (long)j * n] = A[p + (long)j * n]; A[p + (long)j * n] = t; }
    double inv = 1.0 / A[k + (long)k * n];
    for (int i = k + 1; i < n; ++i) A[i + (long)k * n] *= inv;
    for (int j = k + 1; j < n; ++j) {
      double a = A[k + (long)j * n];
      for (int i = k + 1; i < n; ++i) A[i + (long)j * n] -= A[i + (long)k * n] * a;
    }
  }
}
static void loop_getrs(const double* LU, const int* ipiv, double* b, int n) {
  for (int k = 0; k < n; ++k) { int p = ipiv[k] - 1; double t = b[k]; b[k] = b[p]; b[p] = t; }
  for (int j = 0; j < n; ++j) for (int i = j + 1; i < n; ++i) b[i] -= LU[i + (long)j * n] * b[j];
  for (int j = n - 1; j >= 0; --j) { b[j] /= LU[j + (long)j * n]; for (int i = 0; i < j; ++i) b[i] -= LU[i + (long)j * n] * b[j]; }
}
static void loop_potrf(double* A, int n) {   /* lower Cholesky, in place (left-looking) */
  for (int j = 0; j < n; ++j) {
    double d = A[j + (long)j * n];
    for (int k = 0; k < j; ++k) d -= A[j + (long)k * n] * A[j + (long)k * n];
    d = __builtin_sqrt(d);
    A[j + (long)j * n] = d;
    for (int i = j + 1; i < n; ++i) {
      double s = A[i + (long)j * n];
      for (int k = 0; k < j; ++k) s -= A[i + (long)k * n] * A[j + (long)k * n];
      A[i + (long)j * n] = s / d;
    }
  }
}
static void loop_potrs(const double* L, double* b, int n) {
  for (int j = 0; j < n; ++j) { b[j] /= L[j + (long)j * n]; for (int i = j + 1; i < n; ++i) b[i] -= L[i + (long)j * n] * b[j]; }
  for (int j = n - 1; j >= 0; --j) { for (int i = j + 1; i < n; ++i) b[j] -= L[i + (long)j * n] * b[i]; b[j] /= L[j + (long)j * n]; }
}
static void loop_trsm_upper(const double* A, double* B, int n, int nrhs) {
  for (int c = 0; c < nrhs; ++c) {
    double* b = B + (long)c * n;
    for (int j = n - 1; j >= 0; --j) { b[j] /= A[j + (long)j * n]; for (int i = 0; i < j; ++i) b[i] -= A[i + (long)j * n] * b[j]; }
  }
}
"""
_ENZYME_LOOPS = {
    "trsv": _LOOP_LU + r"""
void bench_trsv(double* x, const double* A, int n) { loop_trsm_upper(A, x, n, 1); }""",
    "trsm": _LOOP_LU + r"""
void bench_trsm(double* B, const double* A, int n) { loop_trsm_upper(A, B, n, n); }""",
    "getrf": _LOOP_LU + r"""
void bench_getrf(double* A, int n) {
  int* ipiv = (int*)__builtin_malloc(sizeof(int) * n);
  loop_getrf(A, ipiv, n);
  __builtin_free(ipiv);
}""",
    "getrs": _LOOP_LU + r"""
void bench_getrs(double* b, const double* LU, const int* ipiv, int n) { loop_getrs(LU, ipiv, b, n); }""",
    "gesv": _LOOP_LU + r"""
void bench_gesv(double* x, const double* A, int n) {
  double* W = (double*)__builtin_malloc(sizeof(double) * n * n);
  int* ipiv = (int*)__builtin_malloc(sizeof(int) * n);
  for (long k = 0; k < (long)n * n; ++k) W[k] = A[k];
  loop_getrf(W, ipiv, n);
  loop_getrs(W, ipiv, x, n);
  __builtin_free(ipiv);
  __builtin_free(W);
}""",
    "potrf": _LOOP_LU + r"""
void bench_potrf(double* A, int n) { loop_potrf(A, n); }""",
    "posv": _LOOP_LU + r"""
void bench_posv(double* x, const double* A, int n) {
  double* W = (double*)__builtin_malloc(sizeof(double) * n * n);
  for (long k = 0; k < (long)n * n; ++k) W[k] = A[k];
  loop_potrf(W, n);
  loop_potrs(W, x, n);
  __builtin_free(W);
}""",
}


def enzyme_times(routine: str, p: dict, variant: str) -> dict:
    """{"primal", "fwd", "rev_full"} seconds per call of one Enzyme build ("rules" or "loops"),
    measured in-process by difflapack.testing (cycle counter loops in the generated code),
    after its derivatives passed the finite-difference checks (forward: __enzyme_fwddiff;
    reverse: __enzyme_autodiff, the combined primal + pullback)."""
    from .testing import Const, Duplicated, check_rule

    n = p["n"]
    source = (_ENZYME_RULES if variant == "rules" else _ENZYME_LOOPS)[routine]
    D, C = Duplicated, Const
    if routine in ("trsv", "trsm"):
        B = p["B"][:, 0].copy() if routine == "trsv" else p["B"].copy(order="F")
        args, acts, names = [B, p["A"].copy(order="F"), n], [D, D, C], ["B", "A", "n"]
    elif routine in ("getrf", "potrf"):
        args, acts, names = [p["A"].copy(order="F"), n], [D, C], ["A", "n"]
    elif routine == "getrs":
        args = [p["B"][:, 0].copy(), p["LU"].copy(order="F"), p["ipiv"].copy(), n]
        acts, names = [D, D, C, C], ["b", "LU", "ipiv", "n"]
    else:
        args, acts, names = [p["B"][:, 0].copy(), p["A"].copy(order="F"), n], [D, D, C], ["x", "A", "n"]
    report = check_rule(source, f"bench_{routine}", args, acts, modes=("forward", "reverse"), timing=True,
                        names=names, timing_budget_cycles=200_000_000)
    if not report.ok:
        raise RuntimeError(f"Enzyme {variant}: derivative check failed: {str(report)[:400]}")
    timing = report.patterns[0].timing or {}
    if "error" in timing:
        raise RuntimeError(f"Enzyme {variant}: timing build failed: {timing['error'][:300]}")
    return {"primal": float(timing["primal_seconds"]), "fwd": float(timing["forward_seconds"]),
            "rev_full": float(timing["reverse_seconds"])}


# ------------------------------------------------------------------ driver
def _ratios(t: dict) -> dict:
    """Ratios from best times {primal, fwd, rev_pb, rev_full} (missing -> absent)."""
    out = {}
    prim = t.get("primal")
    if not prim:
        return out
    if "fwd" in t:
        out["fwd"] = t["fwd"] / prim
    if "rev_pb" in t:
        out["pb"] = t["rev_pb"] / prim
    if "rev_full" in t:
        out["p+pb"] = t["rev_full"] / prim
    return out


def run(routines, sizes, frameworks, threads=1, min_time=0.2, memory=True, log=print,
        enzyme_max_n=250) -> dict:
    _single_thread_environment(threads)
    from ._core import lib

    lib.load()
    blas = _openblas()
    if "jax" in frameworks:
        try:
            import jax  # noqa: F401  (after XLA_FLAGS)
        except ImportError:
            log("jax not installed: JAX columns skipped")
            frameworks = [f for f in frameworks if f != "jax"]
    if "torch" in frameworks:
        try:
            import torch  # noqa: F401
        except ImportError:
            log("torch not installed: PyTorch columns skipped")
            frameworks = [f for f in frameworks if f != "torch"]
    import scipy.linalg  # noqa: F401  (load its BLAS before the thread limits apply)

    keep = _limit_threads(threads, lib)  # noqa: F841
    results = {"meta": _meta(threads, frameworks, min_time), "rows": []}
    results["meta"]["call_overhead_us"] = _call_overhead_us(lib)
    for routine in routines:
        for n in sizes:
            p = problem(routine, n)
            row = {"routine": routine, "n": n, "times": {}, "medians": {}, "ratios": {}}
            bad = _check_our_kernels(routine, p, lib, blas)
            if bad:
                row["errors"] = bad
                log("  ! " + "; ".join(bad))
            builders = {"ours": lambda: our_cases(routine, p, lib, blas)}
            if "jax" in frameworks:
                builders["jax"] = lambda: jax_cases(routine, p)
            if "torch" in frameworks:
                builders["torch"] = lambda: torch_cases(routine, p)
            for fw, build in builders.items():
                try:
                    cases = build()
                except Exception as exc:  # a framework lacking a rule must not stop the run
                    row.setdefault("errors", []).append(f"{fw}: {type(exc).__name__}: {exc}"[:300])
                    continue
                fns = {k: v for k, v in cases.items() if not k.startswith("_")}
                try:
                    timed = measure(fns, min_time=min_time)
                except Exception as exc:
                    row.setdefault("errors", []).append(f"{fw}: {type(exc).__name__}: {exc}"[:300])
                    continue
                row["times"][fw] = {k: v[0] for k, v in timed.items()}
                row["medians"][fw] = {k: v[1] for k, v in timed.items()}
                row["ratios"][fw] = _ratios(row["times"][fw])
                del cases, fns
            if "enzyme" in frameworks and n <= enzyme_max_n and routine in _ENZYME_RULES:
                for variant in ("rules", "loops"):
                    fw = "enzyme_" + variant
                    try:
                        row["times"][fw] = enzyme_times(routine, p, variant)
                    except Exception as exc:  # e.g. the header is missing from this build
                        row.setdefault("errors", []).append(f"{fw}: {type(exc).__name__}: {exc}"[:400])
                        continue
                    row["ratios"][fw] = _ratios(row["times"][fw])
                    lapack = row["times"].get("ours", {}).get("primal")
                    if lapack:  # Enzyme's derivative against the LAPACK call it replaces
                        row["ratios"][fw]["rev/LAPACK"] = row["times"][fw]["rev_full"] / lapack
            if memory:
                row["memory_kib"] = measure_memory(routine, n, threads)
                row["memory_budget_kib"] = memory_budget_kib(routine, n)
            results["rows"].append(row)
            log(_progress_line(row))
    return results


def _call_overhead_us(lib) -> float | None:
    """Cost of one ctypes kernel call plus one copy-in, measured on an n = 0 trsv_fwd (quick
    return): what the smallest problems' ratios include besides arithmetic."""
    if not hasattr(lib.load(), "dl_dtrsv_fwd"):
        return None
    x = np.zeros(1)
    fn = _seq(_Buffers.copier(x, x), _call(lib.dl_dtrsv_fwd, ACTIVE_A | ACTIVE_B, b"U", b"N", b"N",
                                          0, x.ctypes.data, 1, x.ctypes.data, 1, x.ctypes.data, 1,
                                          x.ctypes.data, 1))
    return 1e6 * measure({"overhead": fn}, min_time=0.05)["overhead"][0]


def _meta(threads, frameworks, min_time) -> dict:
    meta = {"threads": threads, "min_time": min_time, "frameworks": list(frameworks),
            "timing": "best batch of interleaved rounds (median in 'medians')",
            "python": sys.version.split()[0], "numpy": np.__version__}
    for mod in ("jax", "torch"):
        if mod in sys.modules:
            meta[mod] = sys.modules[mod].__version__
    try:
        meta["openblas"] = _openblas_config()
    except Exception:
        pass
    try:
        meta["cpu"] = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                           if ln.startswith("model name"))
    except Exception:
        pass
    meta["load_avg"] = os.getloadavg()
    return meta


def _openblas_config() -> str:
    fn = _openblas().openblas_get_config
    fn.restype = ctypes.c_char_p
    return fn().decode()


def _fmt(x, digits=2):
    return "-" if x is None else f"{x:.{digits}f}"


def _progress_line(row) -> str:
    t = row["times"].get("ours", {})
    r = row["ratios"].get("ours", {})
    parts = [f"{row['routine']:5s} n={row['n']:5d} primal {1e3 * t.get('primal', float('nan')):9.3f} ms"]
    for k in ("fwd", "pb", "p+pb"):
        parts.append(f"{k} {_fmt(r.get(k))}x")
    for fw in ("jax", "torch", "enzyme_rules", "enzyme_loops"):
        if fw in row["ratios"]:
            rr = row["ratios"][fw]
            parts.append(f"| {fw} fwd {_fmt(rr.get('fwd'))}x pb {_fmt(rr.get('pb'))}x p+pb {_fmt(rr.get('p+pb'))}x")
    m = row.get("memory_kib", {})
    if "rev_pb" in m:
        parts.append(f"| rev mem {m['rev_pb'] / 1024:.2f} MiB")
    return " ".join(parts)


def markdown(results) -> str:
    fws = [fw for fw in ("jax", "torch") if fw in results["meta"]["frameworks"]]
    head = ["routine", "n", "LAPACK primal ms", "ours fwd", "ours rev pb", "ours rev p+pb"]
    for fw in fws:
        name = {"jax": "JAX", "torch": "torch"}[fw]
        head += [f"{name} primal ms", f"{name} fwd", f"{name} rev pb", f"{name} rev p+pb"]
    head += ["ours rev extra MiB (budget)", "ours fwd extra MiB", "primal extra MiB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in results["rows"]:
        t, r = row["times"], row["ratios"]
        cells = [row["routine"], str(row["n"]), _fmt(1e3 * t["ours"]["primal"], 3) if "ours" in t else "-"]
        ro = r.get("ours", {})
        cells += [_fmt(ro.get("fwd")), _fmt(ro.get("pb")), _fmt(ro.get("p+pb"))]
        for fw in fws:
            tf, rf = t.get(fw, {}), r.get(fw, {})
            cells += [_fmt(1e3 * tf["primal"], 3) if "primal" in tf else "-",
                      _fmt(rf.get("fwd")), _fmt(rf.get("pb")), _fmt(rf.get("p+pb"))]
        m = row.get("memory_kib", {})
        if "rev_pb" in m:
            cells.append(f"{m['rev_pb'] / 1024:.2f} ({row['memory_budget_kib'] / 1024:.2f})")
        else:
            cells.append(m.get("error", "-")[:40] if m else "-")
        cells.append(f"{m['fwd'] / 1024:.2f}" if "fwd" in m else "-")
        cells.append(f"{m['primal'] / 1024:.2f}" if "primal" in m else "-")
        lines.append("| " + " | ".join(cells) + " |")
    if "enzyme" in results["meta"]["frameworks"]:
        lines += ["", enzyme_markdown(results)]
    return "\n".join(lines)


def enzyme_markdown(results) -> str:
    head = ["routine", "n", "LAPACK primal ms",
            "Enzyme+ours primal ms", "Enzyme+ours fwd", "Enzyme+ours rev p+pb",
            "Enzyme loops primal ms", "Enzyme loops fwd", "Enzyme loops rev p+pb",
            "Enzyme loops rev / LAPACK primal"]
    lines = ["Through Enzyme (combined modes: fwd = __enzyme_fwddiff, rev = __enzyme_autodiff = "
             "primal + pullback; ratios to the primal of the same build):", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in results["rows"]:
        t, r = row["times"], row["ratios"]
        if "enzyme_rules" not in t and "enzyme_loops" not in t:
            continue
        cells = [row["routine"], str(row["n"]),
                 _fmt(1e3 * t["ours"]["primal"], 3) if "primal" in t.get("ours", {}) else "-"]
        for fw in ("enzyme_rules", "enzyme_loops"):
            tf, rf = t.get(fw, {}), r.get(fw, {})
            cells += [_fmt(1e3 * tf["primal"], 3) if "primal" in tf else "-", _fmt(rf.get("fwd")),
                      _fmt(rf.get("p+pb"))]
        cells.append(_fmt(r.get("enzyme_loops", {}).get("rev/LAPACK"), 1))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def check_targets(results) -> list[dict]:
    rows = {(r["routine"], r["n"]): r for r in results["rows"]}
    checks = []
    for routine, mode, definition, limit in TARGETS:
        sizes = sorted(n for (rt, n) in rows if rt == routine)
        if not sizes:
            continue
        n = TARGET_N if TARGET_N in sizes else max(sizes)
        value = rows[(routine, n)]["ratios"].get("ours", {}).get(definition)
        checks.append({"routine": routine, "mode": mode, "definition": definition, "limit": limit,
                       "n": n, "value": value,
                       "status": "n/a" if value is None else ("PASS" if value <= limit else "MISS")})
    for (routine, n), row in sorted(rows.items()):
        m = row.get("memory_kib", {})
        if n != max(nn for (rt, nn) in rows if rt == routine) or "rev_pb" not in m:
            continue
        budget = row["memory_budget_kib"]
        checks.append({"routine": routine, "mode": "rev memory", "definition": "extra KiB",
                       "limit": budget, "n": n, "value": m["rev_pb"],
                       "status": "PASS" if m["rev_pb"] <= budget + MEMORY_SLACK_KIB else "MISS"})
    return checks


def targets_markdown(checks) -> str:
    lines = ["| target | definition | n | measured | limit | result |", "|---|---|---|---|---|---|"]
    for c in checks:
        if c["mode"] == "rev memory":
            value, limit = f"{c['value']:.0f} KiB", f"{c['limit']:.0f} KiB (+{MEMORY_SLACK_KIB} KiB slack)"
            margin = c["value"] - c["limit"]
            verdict = c["status"] + (f" (by {margin:.0f} KiB)" if c["status"] == "MISS" else "")
        else:
            value = "-" if c["value"] is None else f"{c['value']:.2f}x"
            limit = f"<= {c['limit']:.2f}x"
            if c["value"] is None:
                verdict = "n/a (kernel missing)"
            else:
                pct = 100.0 * (c["value"] / c["limit"] - 1.0)
                verdict = (f"PASS ({-pct:.0f}% under)" if c["status"] == "PASS"
                           else f"MISS (by {c['value'] - c['limit']:.2f}x, {pct:.0f}% over)")
        note = "" if c["n"] == TARGET_N else f" (target is at n={TARGET_N})"
        label = {"fwd": "(primal+tangent)/primal", "pb": "pullback/primal",
                 "p+pb": "(primal+pullback)/primal"}.get(c["definition"], c["definition"])
        lines.append(f"| {c['routine']} {c['mode']} | {label} | {c['n']}{note} | {value} | {limit} | {verdict} |")
    return "\n".join(lines)


def plot(results, path) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib import ticker
    except ImportError:
        return None
    routines = [r for r in ROUTINES if any(row["routine"] == r for row in results["rows"])]
    fig, axes = plt.subplots(2, len(routines), figsize=(3.6 * len(routines), 6.4), squeeze=False)
    styles = {"ours": ("C0", "o"), "jax": ("C1", "s"), "torch": ("C2", "^"),
              "enzyme_rules": ("C4", "D"), "enzyme_loops": ("C3", "x")}
    for j, routine in enumerate(routines):
        rows = sorted((row for row in results["rows"] if row["routine"] == routine), key=lambda r: r["n"])
        ns = [row["n"] for row in rows]
        for i, (mode, definition) in enumerate((("fwd", "fwd"), ("rev", REV_DEFINITION[routine]))):
            ax = axes[i][j]
            for fw, (color, marker) in styles.items():
                # Enzyme's combined reverse mode has no separate pullback: (primal+pullback)
                key = "p+pb" if fw.startswith("enzyme") and mode == "rev" else definition
                ys = [row["ratios"].get(fw, {}).get(key) for row in rows]
                if any(y is not None for y in ys):
                    ax.plot(ns, [np.nan if y is None else y for y in ys], color=color, marker=marker,
                            label=fw + (" (p+pb)" if key != definition else ""))
            for routine_t, mode_t, def_t, limit in TARGETS:
                if routine_t == routine and mode_t == mode:
                    ax.axhline(limit, color="k", ls="--", lw=0.8, label=f"target {limit}x")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xticks(ns)
            ax.set_xticklabels([str(n) for n in ns])
            ax.xaxis.set_minor_formatter(ticker.NullFormatter())
            ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
            ax.yaxis.set_minor_locator(ticker.LogLocator(subs=(1.5, 2, 3, 5, 7)))
            ax.yaxis.set_minor_formatter(ticker.FormatStrFormatter("%g"))
            ax.tick_params(axis="y", which="both", labelsize=7)
            label = {"fwd": "(primal+tangent)/primal", "pb": "pullback/primal",
                     "p+pb": "(primal+pullback)/primal"}[definition]
            ax.set_title(f"{routine} {mode}", fontsize=10)
            ax.set_ylabel(label, fontsize=8)
            ax.set_xlabel("n", fontsize=8)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=7)
    threads = results["meta"]["threads"]
    fig.suptitle(f"derivative cost / primal cost ({threads} BLAS thread{'s' if threads > 1 else ''})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def report(results, checks) -> str:
    meta = results["meta"]
    out = [f"# difflapack benchmark ({meta['threads']} thread(s); timing: {meta['timing']}, "
           f">= {meta['min_time']} s per measurement)", ""]
    out.append(markdown(results))
    out.append("")
    out.append("Ratios are to the primal of the same framework measured in the same run: `fwd` = "
               "(primal+tangent)/primal (fused kernel), `rev pb` = pullback/primal, "
               "`rev p+pb` = (primal+pullback)/primal. Our primal is the system OpenBLAS/LAPACK "
               "routine via ctypes (copy-in of its overwritten inputs timed, as for ours). "
               "Memory: peak extra resident memory of our reverse kernel (fresh process, "
               "VmHWM - VmRSS); budget = one copy of each input the caller may overwrite; the "
               "primal's figure is the measurement's noise floor.")
    out.append("")
    out.append("Problems: " + "; ".join(f"{r}: {SHAPES[r].format(nrhs=_nrhs())}" for r in ROUTINES
                                         if any(row["routine"] == r for row in results["rows"])))
    out.append("")
    out.append("## Targets (ratio to the primal at n = 1000, one thread)")
    out.append("")
    out.append(targets_markdown(checks))
    errors = [(row["routine"], row["n"], e) for row in results["rows"] for e in row.get("errors", [])]
    if errors:
        out.append("")
        out.append("## Not measured")
        out.append("")
        seen = set()
        for routine, n, e in errors:
            key = (routine, e.split(":")[0])
            if key in seen:
                continue
            seen.add(key)
            out.append(f"- {routine} (n={n}): {e}")
    out.append("")
    out.append("Machine: " + ", ".join(f"{k} {v}" for k, v in meta.items()
                                        if k in ("cpu", "openblas", "jax", "torch", "numpy", "load_avg")))
    if meta.get("call_overhead_us") is not None:
        out.append(f"Call overhead (ctypes call + copy-in, n = 0): {meta['call_overhead_us']:.2f} us per "
                   "call; it is part of every 'ours' time (primal too), and dominates trsv at small n.")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m difflapack bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"n in {QUICK_SIZES} only")
    ap.add_argument("--large", action="store_true", help=f"add n = {LARGE_SIZE}")
    ap.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], help="comma-separated n")
    ap.add_argument("--routines", type=lambda s: s.split(","), default=list(ROUTINES),
                    help="comma-separated subset of " + ",".join(ROUTINES))
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    ap.add_argument("--min-time", type=float, default=None,
                    help="seconds per measurement (default 0.2; 0.1 with --quick)")
    ap.add_argument("--no-jax", action="store_true")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    ap.add_argument("--enzyme", action="store_true",
                    help="add Enzyme columns (our rules through the Enzyme layer; Enzyme on loop code)")
    ap.add_argument("--enzyme-max-n", type=int, default=250,
                    help="largest n for the Enzyme columns (default 250; loop code is slow)")
    ap.add_argument("--nrhs", type=int, default=1,
                    help="right-hand sides of getrs, gesv and posv (default 1, the memory-bound case)")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--out", default=os.path.join("bench", "results"), help="output folder")
    args = ap.parse_args(argv)
    if args.nrhs < 1:
        ap.error("--nrhs must be >= 1")
    os.environ[NRHS_ENV] = str(args.nrhs)

    unknown = [r for r in args.routines if r not in ROUTINES]
    if unknown:
        ap.error(f"unknown routine(s) {unknown}; choose from {ROUTINES}")
    sizes = args.sizes or list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    if args.large and LARGE_SIZE not in sizes:
        sizes.append(LARGE_SIZE)
    frameworks = [fw for fw, skip in (("jax", args.no_jax), ("torch", args.no_torch)) if not skip]
    if args.enzyme:
        frameworks.append("enzyme")

    if args.min_time is None:
        args.min_time = 0.1 if args.quick else 0.2
    t0 = time.perf_counter()
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    results = run(args.routines, sizes, frameworks, threads=args.threads, min_time=args.min_time,
                  memory=not args.no_memory, log=log, enzyme_max_n=args.enzyme_max_n)
    checks = check_targets(results)
    results["targets"] = checks
    results["meta"]["seconds"] = time.perf_counter() - t0
    text = report(results, checks)
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as fh:
        json.dump(results, fh, indent=1)
    with open(os.path.join(args.out, "results.md"), "w") as fh:
        fh.write(text + "\n")
    if not args.no_plot:
        png = plot(results, os.path.join(args.out, "ratios.png"))
        log(f"plot: {png}" if png else "matplotlib not installed: no plot")
    log(f"results: {args.out}/results.md, results.json ({results['meta']['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
