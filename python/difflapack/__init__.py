"""difflapack: tangent and adjoint kernels for BLAS/LAPACK linear solvers.

NumPy API (float64; inputs are never modified; C or Fortran order):
    trsv, trsv_jvp, trsv_vjp, trsm, trsm_jvp, trsm_vjp            (triangular solves)
    getrf, getrf_jvp, getrf_vjp, getrs, getrs_jvp, getrs_vjp,
    gesv, gesv_jvp, gesv_vjp, solve, solve_jvp, solve_vjp          (LU)
C core: get_include(), get_library(); Enzyme layer: difflapack.enzyme; checker: difflapack.testing.
"""
from ._core import SingularMatrixError, get_include, get_library, get_ilp64_library

__version__ = "0.1.0"

from .triangular import trsv, trsv_jvp, trsv_vjp, trsm, trsm_jvp, trsm_vjp  # noqa: F401
from .lu import (  # noqa: F401
    getrf, getrf_jvp, getrf_vjp, getrs, getrs_jvp, getrs_vjp,
    gesv, gesv_jvp, gesv_vjp, solve, solve_jvp, solve_vjp,
)


def set_num_threads(n: int) -> None:
    """Set the number of threads of the backing OpenBLAS (benchmarks use 1). ``n`` is an
    integer >= 1 (ValueError otherwise; ctypes would silently truncate a larger one to 32
    bits)."""
    import operator

    from ._core import INT_MAX, lib
    try:
        count = operator.index(n)
    except TypeError:
        raise ValueError(f"n (the number of threads) must be an integer; got {n!r}") from None
    if not 1 <= count <= INT_MAX:
        raise ValueError(f"n (the number of threads) must lie in 1..{INT_MAX}; got {count}")
    lib.dl_set_num_threads(count)
