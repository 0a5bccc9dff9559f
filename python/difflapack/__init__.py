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
Workspace cache of the C core: workspace_cache(), set_workspace_cache(), release_workspace().
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


def _whole_number(value, what: str, low: int, high: int, high_text: str) -> int:
    """value as an int in low..high, or ValueError naming `what` (ctypes would silently
    truncate an out-of-range one)."""
    import operator

    try:
        count = operator.index(value)
    except TypeError:
        raise ValueError(f"{what} must be an integer; got {value!r}") from None
    if not low <= count <= high:
        raise ValueError(f"{what} must lie in {low}..{high_text}; got {count}")
    return count


def set_num_threads(n: int) -> None:
    """Set the number of threads of the backing OpenBLAS (benchmarks use 1). ``n`` is an
    integer >= 1 (ValueError otherwise; ctypes would silently truncate a larger one to 32
    bits)."""
    from ._core import INT_MAX, lib
    lib.dl_set_num_threads(_whole_number(n, "n (the number of threads)", 1, INT_MAX, str(INT_MAX)))


def workspace_cache() -> dict:
    """The C core's cache of freed work arrays and Enzyme tapes (blocks of 1 MiB or more, kept
    so that repeated derivative calls reuse memory that is already mapped instead of page-faulting
    fresh memory in): ``{"limit": bytes it may hold, "held": bytes it holds now}``. The limit is
    DIFFLAPACK_WORKSPACE_CACHE_MB (MiB, read when the library first allocates; 0 = no cache),
    else 128 MiB. One cache per process, shared by the NumPy API and the Enzyme layer."""
    from ._core import lib
    return {"limit": int(lib.dl_workspace_cache()), "held": int(lib.dl_workspace_cached_bytes())}


def set_workspace_cache(nbytes: int) -> None:
    """Set the cache's limit in bytes (0 turns it off); what it holds beyond the limit is freed.
    ``nbytes`` is an integer >= 0 (ValueError otherwise)."""
    from ._core import lib
    lib.dl_set_workspace_cache(_whole_number(nbytes, "nbytes (the cache limit)", 0, 2 ** 63 - 1, "2**63-1"))


def release_workspace() -> None:
    """Free every block the cache holds (the limit stays)."""
    from ._core import lib
    lib.dl_release_workspace()
