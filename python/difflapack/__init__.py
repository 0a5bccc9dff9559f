"""difflapack: tangent and adjoint kernels for BLAS/LAPACK linear solvers.

NumPy API (float32, float64, complex64, complex128, like SciPy's s/d/c/z; inputs are never
modified; C or Fortran order):
    trsv, trsv_jvp, trsv_vjp, trsm, trsm_jvp, trsm_vjp            (triangular solves)
    getrf, getrf_jvp, getrf_vjp, getrs, getrs_jvp, getrs_vjp,
    gesv, gesv_jvp, gesv_vjp, solve, solve_jvp, solve_vjp          (LU)
C core: get_include(), get_library(); C/C++ builds without Python: get_cmake_dir(),
get_pkgconfig_dir(); Enzyme layer: difflapack.enzyme; checker: difflapack.testing.
"""
from ._core import (  # noqa: F401
    SingularMatrixError, get_include, get_library, get_ilp64_library, get_cmake_dir, get_pkgconfig_dir,
)

__version__ = "0.2.0"

from .triangular import trsv, trsv_jvp, trsv_vjp, trsm, trsm_jvp, trsm_vjp  # noqa: F401
from .lu import (  # noqa: F401
    getrf, getrf_jvp, getrf_vjp, getrs, getrs_jvp, getrs_vjp,
    gesv, gesv_jvp, gesv_vjp, solve, solve_jvp, solve_vjp,
)


def set_num_threads(n: int) -> None:
    """Set the number of threads of the backing OpenBLAS (benchmarks use 1)."""
    from ._core import lib
    lib.dl_set_num_threads(int(n))
