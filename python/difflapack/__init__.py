"""difflapack: tangent and adjoint kernels for BLAS/LAPACK linear solvers.

NumPy API (float32, float64, complex64, complex128, like SciPy's s/d/c/z; inputs are never
modified; C or Fortran order):
    trsv, trsv_jvp, trsv_vjp, trsm, trsm_jvp, trsm_vjp            (triangular solves)
    getrf, getrf_jvp, getrf_vjp, getrs, getrs_jvp, getrs_vjp,
    gesv, gesv_jvp, gesv_vjp, solve, solve_jvp, solve_vjp          (LU)
    potrf, potrf_jvp, potrf_vjp, potrs, potrs_jvp, potrs_vjp,
    posv, posv_jvp, posv_vjp                                       (Cholesky)
    trtrs, trtrs_jvp, trtrs_vjp                                    (triangular, LAPACK)
    getri, inv, det, slogdet and their _jvp / _vjp                 (inverse, determinant)
C core: get_include(), get_library(); C/C++ builds without Python: get_cmake_dir(),
get_pkgconfig_dir(); Enzyme layer: difflapack.enzyme; checker: difflapack.testing.
"""
from ._core import (  # noqa: F401
    NotPositiveDefiniteError, SingularMatrixError, get_include, get_library, get_ilp64_library, get_cmake_dir,
    get_pkgconfig_dir,
)

__version__ = "0.2.0"

from .triangular import trsv, trsv_jvp, trsv_vjp, trsm, trsm_jvp, trsm_vjp  # noqa: F401
from .triangular import trtrs, trtrs_jvp, trtrs_vjp  # noqa: F401
from .lu import (  # noqa: F401
    getrf, getrf_jvp, getrf_vjp, getrs, getrs_jvp, getrs_vjp,
    gesv, gesv_jvp, gesv_vjp, solve, solve_jvp, solve_vjp,
)
from .cholesky import (  # noqa: F401
    potrf, potrf_jvp, potrf_vjp, potrs, potrs_jvp, potrs_vjp, posv, posv_jvp, posv_vjp,
)
from .inverse import (  # noqa: F401
    getri, getri_jvp, getri_vjp, inv, inv_jvp, inv_vjp,
    det, det_jvp, det_vjp, slogdet, slogdet_jvp, slogdet_vjp,
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
