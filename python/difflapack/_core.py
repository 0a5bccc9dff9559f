"""Loading the C core and the helpers every Python binding shares.

The ctypes signatures of all kernels are derived from one table, ``KERNELS`` below, written in a
compact code: ``u`` unsigned (activity mask), ``c`` char flag, ``i`` int, ``d`` double,
``D`` double* (array), ``I`` int* (pivots), ``R`` double* to one scalar (e.g. dalpha).
"""
from __future__ import annotations

import ctypes
import os

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))

ACTIVE_A, ACTIVE_B, ACTIVE_ALPHA, WANT_DLU = 1, 2, 4, 8
ERR_ALLOC = -1000

# kernel name -> argument codes; every kernel returns int (info).
KERNELS = {
    "dl_dtrsv": "ccciDiDi",
    "dl_dtrsv_fwd": "uccciDiDiDiDi",
    "dl_dtrsv_rev": "uccciDiDiDiDi",
    "dl_dtrsm": "cccciidDiDi",
    "dl_dtrsm_fwd": "ucccciiddDiDiDiDi",
    "dl_dtrsm_rev": "ucccciidDiDiDiDiDiR",
    "dl_dgetrf": "iiDiI",
    "dl_dgetrf_fwd": "uiiDiIDi",
    "dl_dgetrf_rev": "uiiDiIDi",
    "dl_dgetrs": "ciiDiIDi",
    "dl_dgetrs_fwd": "uciiDiDiIDiDi",
    "dl_dgetrs_rev": "uciiDiDiIDiDi",
    "dl_dgesv": "iiDiIDi",
    "dl_dgesv_fwd": "uiiDiDiIDiDi",
    "dl_dgesv_rev": "uiiDiIDiDiDi",
}

_CTYPES = {
    "u": ctypes.c_uint,
    "c": ctypes.c_char,
    "i": ctypes.c_int,
    "d": ctypes.c_double,
    "D": ctypes.c_void_p,
    "I": ctypes.c_void_p,
    "R": ctypes.c_void_p,
}


def get_include() -> str:
    """Folder holding the installed C headers (difflapack.h, difflapack_enzyme.h).

    From a source checkout that was not installed (PYTHONPATH=python), the repository's
    include/ folder."""
    installed = os.path.join(_HERE, "include")
    if os.path.isdir(installed):
        return installed
    return os.path.normpath(os.path.join(_HERE, "..", "..", "include"))


def _installed_dir(*parts: str) -> str:
    """A folder that only an installed difflapack has (CMake writes it at install time)."""
    path = os.path.join(_HERE, *parts)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{path} does not exist: it comes with an installed difflapack "
                                "(pip install .), not with a source checkout on PYTHONPATH")
    return path


def get_cmake_dir() -> str:
    """Folder holding difflapackConfig.cmake, for C/C++ builds without Python:
    ``cmake -Ddifflapack_DIR=<it>``, then ``find_package(difflapack CONFIG REQUIRED)`` and link
    ``difflapack::difflapack`` (or ``difflapack::ilp64``)."""
    return _installed_dir("lib", "cmake", "difflapack")


def get_pkgconfig_dir() -> str:
    """Folder holding difflapack.pc: ``PKG_CONFIG_PATH=<it> pkg-config --cflags --libs difflapack``."""
    return _installed_dir("lib", "pkgconfig")


def get_library() -> str:
    """Path of the compiled core shared library (libdifflapack.so).

    The environment variable DIFFLAPACK_LIBRARY overrides it (development builds)."""
    return os.environ.get("DIFFLAPACK_LIBRARY") or os.path.join(_HERE, "lib", "libdifflapack.so")


def get_ilp64_library() -> str:
    """Path of the ILP64 shim exporting dgetrf_64_ ... over Debian's libopenblas64.

    The environment variable DIFFLAPACK_ILP64_LIBRARY overrides it (development builds)."""
    return os.environ.get("DIFFLAPACK_ILP64_LIBRARY") or os.path.join(_HERE, "lib", "libdifflapack_ilp64.so")


class _Lib:
    def __init__(self):
        self._cdll = None

    def load(self, mode: int = ctypes.RTLD_GLOBAL) -> ctypes.CDLL:
        if self._cdll is None:
            cdll = ctypes.CDLL(get_library(), mode=mode)
            for name, codes in KERNELS.items():
                try:
                    fn = getattr(cdll, name)
                except AttributeError:  # a development build without this kernel
                    continue
                fn.argtypes = [_CTYPES[c] for c in codes]
                fn.restype = ctypes.c_int
            cdll.dl_set_num_threads.argtypes = [ctypes.c_int]
            cdll.dl_set_num_threads.restype = None
            self._cdll = cdll
        return self._cdll

    def __getattr__(self, name):
        return getattr(self.load(), name)


lib = _Lib()


class SingularMatrixError(np.linalg.LinAlgError):
    """A zero pivot / zero diagonal entry (LAPACK ``info > 0``); ``.info`` holds it (1-based)."""

    def __init__(self, message: str, info: int):
        super().__init__(message)
        self.info = info


# ------------------------------------------------------------------ argument checking
def flag(value, name: str, allowed: str) -> bytes:
    """A BLAS flag letter as the byte ctypes wants; ValueError naming the argument otherwise."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str) or len(value) != 1 or value.upper() not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in allowed)}; got {value!r}")
    return value.upper().encode("ascii")


def _check_real(arr: np.ndarray, name: str) -> None:
    """Only real numbers: float or integer dtypes (integers are converted to float64)."""
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be a real floating-point array; got dtype {arr.dtype}")


def as_matrix(a, name: str, copy: bool) -> np.ndarray:
    """float64 Fortran-ordered (hence contiguous) 2-D array; a fresh copy when `copy` (the C
    side writes it)."""
    arr = np.asarray(a)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array; got shape {arr.shape}")
    _check_real(arr, name)
    return np.array(arr, dtype=np.float64, order="F", copy=True) if copy else np.asfortranarray(arr, dtype=np.float64)


def as_vector(b, name: str) -> np.ndarray:
    """A fresh contiguous float64 copy of a 1-D array (any stride, e.g. b[::2] or b[::-1])."""
    arr = np.asarray(b)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array; got shape {arr.shape}")
    _check_real(arr, name)
    return np.array(arr, dtype=np.float64, copy=True)


def check_finite(arr: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values")


def ptr(arr) -> int | None:
    """Address of a NumPy buffer for ctypes (None for None)."""
    return None if arr is None else arr.ctypes.data


def ld(arr: np.ndarray) -> int:
    """Leading dimension of a Fortran-contiguous 2-D array, as produced by as_matrix (>= 1 as
    BLAS requires)."""
    return max(1, arr.shape[0])


def raise_for_info(info: int, routine: str, argnames: tuple[str, ...]) -> None:
    """Map a kernel's return code to a Python exception (LAPACK's info rules)."""
    if info == 0:
        return
    if info == ERR_ALLOC:
        raise MemoryError(f"{routine}: workspace allocation failed")
    if info < 0:
        k = -info - 1
        arg = argnames[k] if 0 <= k < len(argnames) else f"argument {-info}"
        raise ValueError(f"{routine}: illegal value of {arg} (LAPACK info = {info})")
    raise SingularMatrixError(f"{routine}: the matrix is singular: exactly zero pivot at position {info} (1-based)", info)
