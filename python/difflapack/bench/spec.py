"""What the benchmark measures: routines, precisions, sizes, the problems' shapes, the targets
and the ratio definitions. Data only; every other module of the benchmark reads it."""
from __future__ import annotations

import numpy as np

ROUTINES = ("trsv", "trsm", "getrf", "getrs", "gesv", "potrf", "posv", "inv", "slogdet")
PRECISIONS = ("s", "d", "c", "z")
DTYPES = {"s": np.float32, "d": np.float64, "c": np.complex64, "z": np.complex128}
PRECISION_NAMES = {"s": "float32", "d": "float64", "c": "complex64", "z": "complex128"}
# The default plan: every routine in double, and these in single and double complex too (the
# precision targets); `--precisions` replaces the plan by every routine in the listed ones.
DEFAULT_PRECISIONS = ("d",)
EXTRA_PRECISIONS = {"s": ("trsm", "getrf", "getrs", "gesv"), "z": ("trsm", "getrf", "getrs", "gesv")}
NRHS_ROUTINES = ("getrs", "gesv", "posv")  # routines with a right-hand side count (--nrhs)

DEFAULT_SIZES = (100, 250, 500, 1000)
QUICK_SIZES = (100, 250)
LARGE_SIZE = 2000
TARGET_N = 1000

# The ways a derivative is reached, each measured against the same LAPACK primal:
#   kernels: the C kernels through ctypes on preallocated buffers (no Python in between);
#   api:     the NumPy API a user calls (difflapack.getrf_jvp, ...), inputs Fortran-ordered;
#   jax, torch: the peers (their own primal too).
PATHS = ("kernels", "api")
PEERS = ("jax", "torch")
LABELS = {"kernels": "C kernels", "api": "NumPy API", "jax": "JAX", "torch": "PyTorch",
          "enzyme_rules": "Enzyme+ours", "enzyme_loops": "Enzyme loops"}

SHAPES = {
    "trsv": "A n x n upper, non-unit, trans N; x n-vector, incx 1",
    "trsm": "side L, upper, non-unit, trans N, alpha 1 (inactive in the kernel rows; the API's "
            "trsm_vjp always returns alpha's cotangent); A n x n, B n x n",
    "getrf": "A n x n (partial pivoting)",
    "getrs": "trans N; packed LU n x n, B n x nrhs",
    "gesv": "A n x n, B n x nrhs; fwd = dx only (solve_jvp); reverse = A\\b: cotangent of x only "
            "(LUbar = 0; solve_vjp)",
    "potrf": "A n x n Hermitian positive definite, uplo L",
    "posv": "A n x n Hermitian positive definite (uplo L), B n x nrhs; fwd = dC and dx (posv_jvp, "
            "DL_WANT_DLU); reverse = A\\b: cotangent of x only (Cbar = 0)",
    "inv": "A n x n; primal = ?getrf_ + ?getri_; ours = getrf + recursive inversion, then dX = "
           "-X dA X / Abar = -X^H Xbar X^H (two gemm); rev p+pb runs our primal",
    "slogdet": "A n x n; primal = ?getrf_ + sum log|U_ii|; reverse: cotangent of logabsdet only: "
               "forward pass = slogdet and A^-1 by Gauss-Jordan elimination (getrf's pivots), "
               "pullback Abar = A^-H",
}

# (routine, mode, ratio definition, limit, nrhs the target is defined for (None: every nrhs
# measured)); checked at n = TARGET_N in every precision measured.
TARGETS = (
    ("getrf", "fwd", "fwd", 3.5, None),
    ("getrf", "rev", "pb", 3.5, None),
    ("gesv", "rev", "p+pb", 1.15, 1),
    ("trsm", "fwd", "fwd", 2.5, None),
    ("trsm", "rev", "pb", 2.5, None),
    ("getrs", "rev", "pb", 2.5, None),
    ("inv", "fwd", "fwd", 3.0, None),
    ("inv", "rev", "p+pb", 3.0, None),
    ("potrf", "fwd", "fwd", 3.5, None),
    ("potrf", "rev", "p+pb", 3.5, None),
    ("posv", "rev", "p+pb", 1.2, 1),
    ("slogdet", "rev", "p+pb", 2.5, None),
)
# Routines whose Enzyme build with our rules is measured at n = TARGET_N as well, whatever
# --enzyme-max-n says (its loop variant is not: at n = 1000 it would take minutes and gigabytes
# of tape): Julia's inv (?getrf_ then ?getri_ through Enzyme) has a cost target of its own, its
# reverse being getri's adjoint chained into getrf's rather than the NumPy inv's two gemm.
ENZYME_AT_TARGET = ("inv",)
# The ratio each routine's reverse is judged (and plotted) by.
REV_DEFINITION = {"trsv": "pb", "trsm": "pb", "getrf": "pb", "getrs": "pb", "gesv": "p+pb", "potrf": "p+pb",
                  "posv": "p+pb", "inv": "p+pb", "slogdet": "p+pb"}
DEFINITIONS = {"fwd": "(primal+tangent)/primal", "pb": "pullback/primal", "p+pb": "(primal+pullback)/primal"}
RATIO_KEYS = ("fwd", "pb", "p+pb")
CASE_OF = {"fwd": "fwd", "pb": "rev_pb", "p+pb": "rev_full"}  # ratio -> timed callable

API_TOLERANCE = 0.05  # |API ratio / kernel ratio - 1| above this is flagged
MEMORY_SLACK_KIB = 64  # page-granular RSS accounting: a few pages of Python noise


def plan(routines, precisions=None) -> list[tuple[str, str]]:
    """(routine, precision) pairs in run order: with `precisions` given, every routine in each;
    otherwise the default plan (every routine in double, EXTRA_PRECISIONS' routines in theirs)."""
    if precisions:
        return [(r, p) for p in precisions for r in routines]
    pairs = [(r, p) for p in DEFAULT_PRECISIONS for r in routines]
    for p, extra in EXTRA_PRECISIONS.items():
        pairs += [(r, p) for r in routines if r in extra]
    return pairs


def memory_budget_kib(routine: str, n: int, nrhs: int, precision: str) -> float:
    """One copy of each input the caller may overwrite (the reverse-pass memory target)."""
    k = nrhs
    elements = {"trsv": n, "trsm": n * n, "getrf": n * n, "getrs": n * k, "gesv": n * n + n * k, "potrf": n * n,
                "posv": n * n + n * k, "inv": n * n, "slogdet": n * n}[routine]
    return elements * np.dtype(DTYPES[precision]).itemsize / 1024
