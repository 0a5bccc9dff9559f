"""Loading the C core and the helpers every Python binding shares.

The ctypes signatures of all kernels are derived from the C headers' own tables: the kernel
table ``DL_KERNELS`` of ``difflapack.h`` (each kernel's parameter list, written over the element
type T) and the precision table ``DL_PRECISIONS`` of ``difflapack_table.h``. So a kernel added
to the header is bound here without a second list to keep in step.
"""
from __future__ import annotations

import ctypes
import functools
import inspect
import os
import re

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))

ACTIVE_A, ACTIVE_B, ACTIVE_ALPHA, WANT_DLU = 1, 2, 4, 8
ERR_ALLOC = -1000


def _macro_body(text: str, name: str) -> str:
    """The body of ``#define name(...)`` with its line continuations joined."""
    m = re.search(r"#define\s+" + name + r"\((?:[^)]*)\)((?:[^\n]*\\\n)*[^\n]*)", text)
    if not m:
        raise RuntimeError(f"difflapack headers: macro {name} not found")
    return re.sub(r"\\\n", " ", m.group(1))


def _ctype_of(param: str):
    """ctypes type of one C parameter of a kernel (pointers travel as addresses)."""
    decl = " ".join(param.split())
    if "*" in decl:
        return ctypes.c_void_p
    kind = decl.rsplit(" ", 1)[0]
    return {"unsigned": ctypes.c_uint, "char": ctypes.c_char, "int": ctypes.c_int}[kind]


@functools.lru_cache(maxsize=None)
def kernel_table(include: str | None = None) -> dict:
    """{kernel name: (parameter names, ctypes argtypes)} for every precision and kernel of the
    headers' tables, e.g. ``kernel_table()["dl_zgetrf_rev"]``; from the headers in the folder
    ``include`` (default: :func:`get_include`)."""
    inc = include or get_include()
    with open(os.path.join(inc, "difflapack_table.h")) as f:
        precisions = re.findall(r"X\((\w),", _macro_body(f.read(), "DL_PRECISIONS"))
    with open(os.path.join(inc, "difflapack.h")) as f:
        rows = re.findall(r"X\(p,\s*(\w+),\s*\(([^)]*)\)\)", _macro_body(f.read(), "DL_KERNELS"))
    table = {}
    for routine, params in rows:
        parts = [p.strip() for p in params.split(",")]
        names = tuple(re.findall(r"(\w+)$", p)[0] for p in parts)
        types = [_ctype_of(p) for p in parts]
        for prefix in precisions:
            table[f"dl_{prefix}{routine}"] = (names, types)
    return table


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
            for name, (_, argtypes) in kernel_table().items():
                fn = getattr(cdll, name)
                fn.argtypes = argtypes
                fn.restype = ctypes.c_int
            for prefix in PRECISIONS:  # the copy-in helper, one per precision (difflapack.h "misc")
                fn = getattr(cdll, f"dl_{prefix}copy_checked")
                fn.argtypes = [ctypes.c_char, ctypes.c_char, ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                               ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
                fn.restype = ctypes.c_int
            cdll.dl_set_num_threads.argtypes = [ctypes.c_int]
            cdll.dl_set_num_threads.restype = None
            cdll.dl_set_workspace_cache.argtypes = [ctypes.c_size_t]
            cdll.dl_set_workspace_cache.restype = None
            cdll.dl_release_workspace.argtypes = []
            cdll.dl_release_workspace.restype = None
            for name in ("dl_workspace_cache", "dl_workspace_cached_bytes"):
                getattr(cdll, name).argtypes = []
                getattr(cdll, name).restype = ctypes.c_size_t
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


class NotPositiveDefiniteError(np.linalg.LinAlgError):
    """The matrix is not positive definite (LAPACK ?potrf ``info > 0``): its leading minor of
    order ``.info`` (1-based) is not positive."""

    def __init__(self, message: str, info: int):
        super().__init__(message)
        self.info = info


# ------------------------------------------------------------------ precisions
class Precision:
    """The BLAS precision of a computation: prefix s/d/c/z, NumPy dtype, real dtype."""

    def __init__(self, prefix: str, dtype):
        self.prefix, self.dtype = prefix, np.dtype(dtype)
        self.real = np.dtype(self.dtype.type(0).real.dtype)
        self.is_complex = self.dtype.kind == "c"

    def kernel(self, routine: str) -> str:
        """Name of the C kernel of this precision, e.g. ``dl_zgetrf_rev``."""
        return f"dl_{self.prefix}{routine}"

    def __repr__(self):
        return f"Precision({self.prefix!r}, {self.dtype})"


PRECISIONS = {p: Precision(p, t) for p, t in (("s", np.float32), ("d", np.float64),
                                               ("c", np.complex64), ("z", np.complex128))}


INT_MAX = 2**31 - 1


def asarray(value, name: str) -> np.ndarray:
    """``np.asarray(value)`` for an argument of the public API: ValueError naming the argument
    for what NumPy cannot turn into an array (ragged nesting, ...), for masked arrays (their mask
    would be silently ignored), for a Python integer beyond float64 (one beyond int64 becomes
    the float it denotes, as NumPy does for a float64 operand), and for a dimension
    beyond the 32-bit integers of the LP64 kernels (checked before anything is copied, so a
    zero-byte or broadcast array of such a shape fails at once)."""
    if isinstance(value, np.ma.MaskedArray):
        raise ValueError(f"{name} is a masked array: the kernels would ignore its mask; pass {name}.filled(...) "
                         f"or {name}.data")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"{name} cannot be converted to a numeric array: {exc}") from None
    if arr.dtype.kind == "O" and isinstance(value, int) and not isinstance(value, bool):
        try:  # a Python int beyond int64/uint64: the float it denotes, if there is one
            arr = np.asarray(float(value))
        except OverflowError:
            raise ValueError(f"{name} is an integer too large for any BLAS precision ({str(value)[:20]}...)") \
                from None
    for axis, size in enumerate(arr.shape):
        if size > INT_MAX:
            raise ValueError(f"{name} has shape {arr.shape}: dimension {axis} ({size}) exceeds {INT_MAX}, the "
                             "largest size the LP64 (32-bit integer) BLAS/LAPACK kernels take")
    return arr


def _numeric_dtype(value, name: str) -> np.dtype:
    if value is None:
        raise ValueError(f"{name} must hold numbers; got None")
    dt = asarray(value, name).dtype
    if dt.kind not in "biufc":
        raise ValueError(f"{name} must hold numbers; got dtype {dt}")
    return dt


def _convert(arr: np.ndarray, name: str, prec: "Precision", convert):
    """``convert()`` (a cast of ``arr`` to the computation's dtype) with overflow as an error: a
    finite value that does not fit the precision (a float64 tangent of a float32 computation,
    a long double beyond float64) would otherwise silently become inf."""
    try:
        with np.errstate(over="raise"):
            return convert()
    except FloatingPointError:
        raise ValueError(f"{name} holds values that overflow {prec.dtype} (the precision of the computation)") \
            from None


def precision_of(**inputs) -> Precision:
    """The precision the primal inputs promote to, like SciPy choosing s/d/c/z: NumPy's
    promotion rules (np.result_type; Python scalars are weak, NEP 50), then float16 -> float32,
    integers and bools -> float64, long double -> float64 / complex128. Every input is
    required (None raises ValueError naming it, like any non-numeric input)."""
    operands = []
    for name, value in inputs.items():
        _numeric_dtype(value, name)
        operands.append(value if isinstance(value, (bool, int, float, complex)) else asarray(value, name))
    dt = np.result_type(*operands)
    if dt.kind == "c":
        return PRECISIONS["c" if dt.itemsize <= 8 else "z"]
    if dt.kind == "f":
        return PRECISIONS["s" if dt.itemsize <= 4 else "d"]
    return PRECISIONS["d"]


def _convertible(arr: np.ndarray, name: str, prec: Precision) -> None:
    _numeric_dtype(arr, name)
    if arr.dtype.kind == "c" and not prec.is_complex:
        raise ValueError(f"{name} is complex ({arr.dtype}) but the computation is real ({prec.dtype}): "
                         "make the primal inputs complex to differentiate along complex directions")


# ------------------------------------------------------------------ argument checking
def flag(value, name: str, allowed: str) -> bytes:
    """A BLAS flag letter as the byte ctypes wants; ValueError naming the argument otherwise."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str) or len(value) != 1 or value.upper() not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in allowed)}; got {value!r}")
    return value.upper().encode("ascii")


def as_matrix(a, name: str, prec: Precision, copy: bool) -> np.ndarray:
    """A Fortran-ordered (hence contiguous) and aligned 2-D array of the computation's dtype; a
    fresh copy when `copy` (the C side writes it), otherwise no copy when `a` already is one."""
    arr = asarray(a, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array; got shape {arr.shape}")
    _convertible(arr, name, prec)
    if copy:
        return _convert(arr, name, prec, lambda: np.array(arr, dtype=prec.dtype, order="F", copy=True))
    # aligned too: the C kernels read it as T*
    return _convert(arr, name, prec, lambda: np.require(arr, prec.dtype, ["F_CONTIGUOUS", "ALIGNED"]))


def as_vector(b, name: str, prec: Precision) -> np.ndarray:
    """A fresh contiguous copy of a 1-D array (any stride, e.g. b[::2] or b[::-1])."""
    arr = asarray(b, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array; got shape {arr.shape}")
    _convertible(arr, name, prec)
    return _convert(arr, name, prec, lambda: np.array(arr, dtype=prec.dtype, copy=True))


def zero_if_none(cotangent, shape, prec: Precision):
    """A pullback's cotangent: ``None`` means zero (an array of ``shape``)."""
    return np.zeros(shape, prec.dtype) if cotangent is None else cotangent


def as_scalar(value, name: str, prec: Precision, check: bool) -> np.ndarray:
    """A one-element array of the computation's dtype holding a scalar (kernels take scalars
    by address, as BLAS does)."""
    arr = asarray(value, name)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar; got shape {arr.shape}")
    _convertible(arr, name, prec)
    out = _convert(arr, name, prec, lambda: np.array([arr], dtype=prec.dtype))
    if check and not np.isfinite(out[0]):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return out


def bool_keywords(*names: str):
    """Decorator of the public functions: the keyword arguments `names` (check_finite) count by
    their truth value, as in SciPy; one without a truth value (an array of several elements, an
    object whose __bool__ raises) is a ValueError naming it instead of NumPy's anonymous one."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for name in names:
                if name in kwargs:
                    try:
                        kwargs[name] = bool(kwargs[name])
                    except Exception as exc:  # any error of __bool__
                        raise ValueError(f"{name} must be True or False; got {kwargs[name]!r} ({exc})") from None
            return fn(*args, **kwargs)
        return wrapper
    return decorate


def _real_part(cot):
    """A cotangent's real part, a fresh array in the same memory order (None stays None)."""
    if cot is None or not np.iscomplexobj(cot):
        return cot
    if np.ndim(cot) == 0:
        return np.real(cot)[()]
    return np.array(np.real(cot), order="F" if np.isfortran(cot) else "C")


def _strongly_real(value) -> bool:
    """A real array or NumPy scalar; Python scalars are weak (they take the computation's
    dtype, NEP 50), and so do their cotangents."""
    return type(value) not in (bool, int, float, complex) and not np.iscomplexobj(value)


def real_cotangents(*names: str):
    """Decorator of the ``_vjp`` functions whose pullback returns the cotangents of the inputs
    ``names``, in that order: the cotangent of an input that is real (a real array or NumPy
    scalar; Python scalars are weak) in a complex computation is returned real, its real part,
    which is the derivative with respect to a real variable under the convention
    zbar = dL/dRe z + i dL/dIm z (JAX and PyTorch return real gradients for real inputs too). A
    complex input keeps its complex cotangent."""
    def decorate(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            out, pullback = fn(*args, **kwargs)
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            real = [_strongly_real(bound.arguments[name]) for name in names]
            if not any(real):
                return out, pullback

            @functools.wraps(pullback)
            def real_pullback(*cot_args, **cot_kwargs):
                cots = pullback(*cot_args, **cot_kwargs)
                single = not isinstance(cots, tuple)
                cots = tuple(_real_part(c) if r else c for c, r in zip((cots,) if single else cots, real))
                return cots[0] if single else cots
            return out, real_pullback
        return wrapper
    return decorate


def all_finite(arr: np.ndarray) -> bool:
    """Whether every entry of ``arr`` is finite. A contiguous complex array is tested as the
    real array of its parts: NumPy's isfinite has no vectorised complex loop, so that is ~4.5x
    faster in complex64 (0.16 ms against 0.74 ms at n = 1000) and ~1.4x in complex128."""
    if arr.dtype.kind == "c" and (arr.flags.c_contiguous or arr.flags.f_contiguous):
        arr = arr.ravel(order="K").view(arr.real.dtype)
    return bool(np.isfinite(arr).all())


def check_finite(arr: np.ndarray, name: str) -> None:
    if not all_finite(arr):
        raise ValueError(f"{name} must contain only finite values")


def kept(arr: np.ndarray) -> np.ndarray:
    """A read-only view of an array a pullback keeps (a factor, a solution) for the caller.

    The ``_vjp`` functions return their primal outputs this way instead of as copies: the
    caller reads the very array the pullback will use, and writing into it raises
    ``ValueError: assignment destination is read-only`` (like JAX's immutable arrays) rather
    than silently changing a later gradient. ``np.array(out)`` gives a writable copy. Saves a
    full pass over each output, as costly as an O(n^2) solve itself. The kept array itself is
    made read-only too (the kernels take it as const), so that ``out.flags.writeable = True``
    raises rather than reopening it."""
    arr.flags.writeable = False
    return arr.view()


def copy_checked(a, prec: Precision, uplo: bytes = b"A", diag: bytes = b"N"):
    """The one-pass copy-in of an input (C's dl_?copy_checked): a new Fortran array holding
    ``a`` -- only its ``uplo`` triangle (diagonal included) for uplo 'U'/'L', zeros elsewhere --
    and whether an entry BLAS reads is inf or NaN. Only for a plain 2-D ndarray of the
    computation's dtype laid out by columns (Fortran order, or a column-strided view of one);
    returns None otherwise (the caller takes the general path: conversion, then checks)."""
    layout = _column_major(a, prec)
    if layout is None:
        return None
    m, n, lda = layout
    out = np.empty((m, n), prec.dtype, order="F")
    nonfinite = getattr(lib, f"dl_{prec.prefix}copy_checked")(uplo, diag, m, n, a.ctypes.data, lda,
                                                               out.ctypes.data, m)
    return out, bool(nonfinite)


def nonfinite_read(a, prec: Precision, uplo: bytes = b"A", diag: bytes = b"N"):
    """Whether an entry of ``a`` that BLAS reads (its ``uplo`` triangle for 'U'/'L', without a
    unit diagonal; all of it otherwise) is inf or NaN: the check of an input that is not
    copied, in one vectorised pass without NumPy's boolean temporary (dl_?copy_checked with no
    destination), over the triangle only. None when ``a`` is not a column-major array of the
    computation's dtype (the caller takes the general path)."""
    layout = _column_major(a, prec)
    if layout is None:
        return None
    m, n, lda = layout
    return bool(getattr(lib, f"dl_{prec.prefix}copy_checked")(uplo, diag, m, n, a.ctypes.data, lda, None, 1))


def _column_major(a, prec: Precision):
    """(m, n, lda) of a plain, non-empty 2-D ndarray of the computation's dtype laid out by
    columns (Fortran order, or a column-strided view of one), else None."""
    if type(a) is not np.ndarray or a.dtype != prec.dtype or a.ndim != 2 or not a.flags.aligned:
        return None
    (m, n), item = a.shape, a.itemsize
    if m == 0 or n == 0 or max(m, n) > INT_MAX or a.strides[0] != item or a.strides[1] % item:
        return None
    lda = a.strides[1] // item
    return (m, n, lda) if m <= lda <= INT_MAX else None


def ptr(arr) -> int | None:
    """Address of a NumPy buffer for ctypes (None for None)."""
    return None if arr is None else arr.ctypes.data


def ld(arr: np.ndarray) -> int:
    """Leading dimension of a Fortran-contiguous 2-D array, as produced by as_matrix (>= 1 as
    BLAS requires)."""
    return max(1, arr.shape[0])


def call(kernel: str, *args) -> int:
    """Call a C kernel: arrays travel by address (None as NULL), integers are checked to fit the
    32-bit ints of the LP64 kernels (a larger dimension would silently wrap in ctypes)."""
    names, types = kernel_table()[kernel]
    values = []
    for value, name, ctype in zip(args, names, types):
        if ctype is ctypes.c_int:
            value = int(value)
            if not -INT_MAX - 1 <= value <= INT_MAX:
                raise ValueError(f"{kernel}: {name} = {value} does not fit the 32-bit integers of the "
                                 f"LP64 BLAS/LAPACK kernels (at most {INT_MAX})")
        elif isinstance(value, np.ndarray):
            value = value.ctypes.data
        values.append(value)
    return getattr(lib, kernel)(*values)


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
