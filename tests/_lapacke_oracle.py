"""Oracle: call the REAL system LAPACKE (liblapacke.so.3, reference LAPACKE 3.11 on Debian 12)
and OpenBLAS's CBLAS on NumPy buffers, and hand back every buffer afterwards.

Purpose: difflapack's Enzyme header will interpose cblas_?trsv / cblas_?trsm and
LAPACKE_?getrf/getrs/gesv/getri/trtrs/potrf/potrs/posv (+ their _work forms) and must return
bit-for-bit what these libraries return, including argument errors, NaN-check returns, what
is printed, and every entry of the user's buffers outside the logical matrix (which must stay
untouched). This module lets a test make the identical call on the real libraries:

    import _lapacke_oracle as lo
    a, off = lo.place(A, "R", lda=7)                # A embedded in a sentinel-filled buffer
    r = lo.lapacke("getrf", "d", "R", m=4, n=5, a=(a, off), lda=7, ipiv=np.zeros(4, np.int32))
    r.ret          # LAPACKE's return value (info)
    r.out["a"]     # the WHOLE buffer after the call (a copy; the caller's arrays are never touched)
    r.out["ipiv"]
    r.stdout       # what the libraries printed (LAPACKE_xerbla / OpenBLAS xerbla), captured

    r = lo.cblas("trsm", "z", "R", side="L", uplo="U", trans="C", diag="N", m=3, n=2,
                 alpha=1 + 2j, a=A_buf, lda=5, b=(B_buf, 3), ldb=4)
    r.ret is None; r.out["b"]

Arrays are passed as an ndarray (pointer to its first element) or (ndarray, element_offset)
(pointer to element offset of the flattened buffer), or None (NULL). Every array must be
C-contiguous with the routine's dtype (float32 / float64 / complex64 / complex128; int32 for
ipiv). Integer and flag arguments are passed through unchecked, so invalid values (layout 0,
uplo 'x', lda -1, CBLAS enum 999) reach the library exactly as given.

Also exposed: the Fortran routines of the same OpenBLAS instance (`fortran`, used to show that
LAPACKE's row-major path is "transpose, Fortran call, transpose back"), LAPACKE's NaN-check flag
(`get_nancheck` / `set_nancheck`), and `place` / `take` helpers. `available()` says whether the
libraries are present (liblapacke-dev is not in dev.sh's apt list on old checkouts).
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys
import tempfile
from dataclasses import dataclass, field

import numpy as np

LAPACK_ROW_MAJOR = 101
LAPACK_COL_MAJOR = 102
LAPACK_WORK_MEMORY_ERROR = -1010
LAPACK_TRANSPOSE_MEMORY_ERROR = -1011

CBLAS = {
    "order": {"R": 101, "C": 102},
    "trans": {"N": 111, "T": 112, "C": 113, "R": 114},  # R = CblasConjNoTrans (OpenBLAS extension)
    "uplo": {"U": 121, "L": 122},
    "diag": {"N": 131, "U": 132},
    "side": {"L": 141, "R": 142},
}

DTYPES = {"s": np.float32, "d": np.float64, "c": np.complex64, "z": np.complex128}
PRECISIONS = tuple(DTYPES)
SENTINEL = -7777.25  # exact in every precision; what place() fills the padding with

LAPACKE_LIB = "liblapacke.so.3"
# liblapacke.so.3 resolves its Fortran symbols (dgetrf_ ...) through liblapack.so.3 -> Debian's
# alternative /usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3, whose BLAS is
# libopenblas.so.0: the very library this process gets for CBLAS below.
BLAS_LIB = "libopenblas.so.0"
LAPACK_LIB = "liblapack.so.3"

_libs: dict[str, ctypes.CDLL] = {}
_load_error: str | None = None


def _load():
    global _load_error
    if _libs or _load_error:
        return
    try:
        _libs["lapacke"] = ctypes.CDLL(LAPACKE_LIB)
        _libs["blas"] = ctypes.CDLL(BLAS_LIB)
        _libs["lapack"] = ctypes.CDLL(LAPACK_LIB)
        _libs["c"] = ctypes.CDLL(ctypes.util.find_library("c"))
    except OSError as e:  # pragma: no cover - depends on the machine
        _libs.clear()
        _load_error = str(e)


def available() -> bool:
    _load()
    return not _load_error


def unavailable_reason() -> str:
    _load()
    return _load_error or ""


def lib(which: str) -> ctypes.CDLL:
    _load()
    if _load_error:
        raise OSError(f"LAPACKE/OpenBLAS not loadable: {_load_error} "
                      "(apt-get install -y liblapacke-dev libopenblas-dev)")
    return _libs[which]


# ---------------------------------------------------------------------------------------------
# argument kinds: 'L' layout/order, 'C' flag (char for LAPACKE, enum for CBLAS), 'I' integer,
# 'A' array (in/out buffer), 'S' scalar alpha (by value if real, by pointer if complex)
LAPACKE_SIGS = {
    "getrf": [("layout", "L"), ("m", "I"), ("n", "I"), ("a", "A"), ("lda", "I"), ("ipiv", "A")],
    "getrs": [("layout", "L"), ("trans", "C"), ("n", "I"), ("nrhs", "I"), ("a", "A"), ("lda", "I"),
              ("ipiv", "A"), ("b", "A"), ("ldb", "I")],
    "gesv": [("layout", "L"), ("n", "I"), ("nrhs", "I"), ("a", "A"), ("lda", "I"), ("ipiv", "A"),
             ("b", "A"), ("ldb", "I")],
    "getri": [("layout", "L"), ("n", "I"), ("a", "A"), ("lda", "I"), ("ipiv", "A")],
    "trtrs": [("layout", "L"), ("uplo", "C"), ("trans", "C"), ("diag", "C"), ("n", "I"),
              ("nrhs", "I"), ("a", "A"), ("lda", "I"), ("b", "A"), ("ldb", "I")],
    "potrf": [("layout", "L"), ("uplo", "C"), ("n", "I"), ("a", "A"), ("lda", "I")],
    "potrs": [("layout", "L"), ("uplo", "C"), ("n", "I"), ("nrhs", "I"), ("a", "A"), ("lda", "I"),
              ("b", "A"), ("ldb", "I")],
    "posv": [("layout", "L"), ("uplo", "C"), ("n", "I"), ("nrhs", "I"), ("a", "A"), ("lda", "I"),
             ("b", "A"), ("ldb", "I")],
}
# the _work forms take the same arguments, except getri_work which adds work, lwork
LAPACKE_WORK_EXTRA = {"getri": [("work", "A"), ("lwork", "I")]}

CBLAS_SIGS = {
    "trsv": [("order", "L"), ("uplo", "C"), ("trans", "C"), ("diag", "C"), ("n", "I"), ("a", "A"),
             ("lda", "I"), ("x", "A"), ("incx", "I")],
    "trsm": [("order", "L"), ("side", "C"), ("uplo", "C"), ("trans", "C"), ("diag", "C"),
             ("m", "I"), ("n", "I"), ("alpha", "S"), ("a", "A"), ("lda", "I"), ("b", "A"),
             ("ldb", "I")],
}

# Fortran routines (column-major, pointer arguments, hidden string lengths appended)
FORTRAN_SIGS = {
    "getrf": ["m", "n", "a", "lda", "ipiv", "info"],
    "getrs": ["trans", "n", "nrhs", "a", "lda", "ipiv", "b", "ldb", "info"],
    "gesv": ["n", "nrhs", "a", "lda", "ipiv", "b", "ldb", "info"],
    "getri": ["n", "a", "lda", "ipiv", "work", "lwork", "info"],
    "trtrs": ["uplo", "trans", "diag", "n", "nrhs", "a", "lda", "b", "ldb", "info"],
    "potrf": ["uplo", "n", "a", "lda", "info"],
    "potrs": ["uplo", "n", "nrhs", "a", "lda", "b", "ldb", "info"],
    "posv": ["uplo", "n", "nrhs", "a", "lda", "b", "ldb", "info"],
    "trsv": ["uplo", "trans", "diag", "n", "a", "lda", "x", "incx"],
    "trsm": ["side", "uplo", "trans", "diag", "m", "n", "alpha", "a", "lda", "b", "ldb"],
}
_FORTRAN_FLAGS = {"trans", "uplo", "diag", "side"}


@dataclass
class Result:
    """What a call left behind: ret (LAPACKE's return value; None for CBLAS and Fortran),
    out (every array argument's WHOLE buffer after the call, by argument name), stdout (what the
    libraries printed during the call, if captured), info (Fortran routines: the INFO output)."""
    ret: int | None
    out: dict[str, np.ndarray] = field(default_factory=dict)
    stdout: str = ""
    info: int | None = None


# ---------------------------------------------------------------------------------------------
def _dtype(prec: str):
    if prec not in DTYPES:
        raise ValueError(f"precision must be one of s, d, c, z, not {prec!r}")
    return np.dtype(DTYPES[prec])


def _layout(v) -> int:
    if isinstance(v, str):
        return {"R": LAPACK_ROW_MAJOR, "C": LAPACK_COL_MAJOR}[v.upper()]
    return int(v)


def _char(v) -> ctypes.c_char:
    if isinstance(v, (bytes, bytearray)):
        return ctypes.c_char(bytes(v[:1]))
    if isinstance(v, str):
        return ctypes.c_char(v.encode("latin-1")[:1])
    return ctypes.c_char(int(v) & 0xFF)


def _enum(name: str, v) -> int:
    if isinstance(v, str):
        return CBLAS[name][v.upper()]
    return int(v)


def _copy_buffer(name, v, dtype):
    """-> (copy of the whole buffer or None, element offset)."""
    if v is None:
        return None, 0
    arr, off = (v if isinstance(v, tuple) else (v, 0))
    arr = np.asarray(arr)
    if not arr.flags.c_contiguous:
        raise ValueError(f"{name}: pass a C-contiguous buffer (use (buffer, offset) for sub-blocks)")
    if arr.dtype != dtype:
        raise TypeError(f"{name}: dtype {arr.dtype}, the routine needs {dtype}")
    if not 0 <= off <= arr.size:
        raise ValueError(f"{name}: offset {off} outside a buffer of {arr.size} elements")
    return arr.copy(), int(off)


def _ptr(buf, off):
    if buf is None:
        return ctypes.c_void_p(None)
    return ctypes.c_void_p(buf.ctypes.data + off * buf.itemsize)


@contextlib.contextmanager
def _capture_stdout(enabled: bool):
    """Capture what C code prints on file descriptor 1 (printf of LAPACKE_xerbla / OpenBLAS
    xerbla). Works under pytest's own capturing, which also works at fd level."""
    box = {"text": ""}
    if not enabled:
        yield box
        return
    libc = lib("c")
    sys.stdout.flush()
    libc.fflush(None)
    saved = os.dup(1)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 1)
        try:
            yield box
        finally:
            libc.fflush(None)
            os.dup2(saved, 1)
            os.close(saved)
            tmp.seek(0)
            box["text"] = tmp.read().decode("latin-1")


def _array_dtype(name, dtype):
    return np.dtype(np.int32) if name == "ipiv" else dtype


def lapacke(routine: str, prec: str, layout, *, work_form: bool = False, capture: bool = True,
            library=None, prefix: str = "", **args) -> Result:
    """Call LAPACKE_<prec><routine> (or its _work form) with the given arguments (by name, as
    in lapacke.h). Arrays are copied first; Result.out holds the copies after the call.
    library / prefix: call <prefix>LAPACKE_... of that ctypes library instead (an
    implementation under test with LAPACKE's signature)."""
    sig = list(LAPACKE_SIGS[routine])
    if work_form:
        sig += LAPACKE_WORK_EXTRA.get(routine, [])
    dtype = _dtype(prec)
    name = f"LAPACKE_{prec}{routine}" + ("_work" if work_form else "")
    fn = getattr(library if library is not None else lib("lapacke"), prefix + name)
    fn.restype = ctypes.c_int32
    cargs, argtypes, out = [], [], {}
    args = dict(args, layout=layout)
    for pname, kind in sig:
        if pname not in args:
            raise TypeError(f"{name}: missing argument {pname!r}")
        v = args.pop(pname)
        if kind == "L":
            cargs.append(_layout(v)); argtypes.append(ctypes.c_int)
        elif kind == "C":
            cargs.append(_char(v)); argtypes.append(ctypes.c_char)
        elif kind == "I":
            cargs.append(int(v)); argtypes.append(ctypes.c_int32)
        else:
            buf, off = _copy_buffer(pname, v, _array_dtype(pname, dtype))
            out[pname] = buf
            cargs.append(_ptr(buf, off)); argtypes.append(ctypes.c_void_p)
    if args:
        raise TypeError(f"{name}: unexpected arguments {sorted(args)}")
    fn.argtypes = argtypes
    with _capture_stdout(capture) as cap:
        ret = fn(*cargs)
    return Result(ret=int(ret), out={k: v for k, v in out.items() if v is not None},
                  stdout=cap["text"])


def cblas(routine: str, prec: str, order, *, capture: bool = True, library=None, prefix: str = "",
          **args) -> Result:
    """Call cblas_<prec><routine> of OpenBLAS. Flags are CBLAS letters (see CBLAS) or raw ints.
    library / prefix: as for lapacke()."""
    sig = CBLAS_SIGS[routine]
    dtype = _dtype(prec)
    name = f"cblas_{prec}{routine}"
    fn = getattr(library if library is not None else lib("blas"), prefix + name)
    fn.restype = None
    cargs, argtypes, out, keep = [], [], {}, []
    args = dict(args, order=order)
    for pname, kind in sig:
        if pname not in args:
            raise TypeError(f"{name}: missing argument {pname!r}")
        v = args.pop(pname)
        if kind == "L":
            cargs.append(_enum("order", v)); argtypes.append(ctypes.c_int)
        elif kind == "C":
            cargs.append(_enum(pname, v)); argtypes.append(ctypes.c_int)
        elif kind == "I":
            cargs.append(int(v)); argtypes.append(ctypes.c_int32)
        elif kind == "S":
            if dtype.kind == "c":
                s = np.array([v], dtype=dtype); keep.append(s)
                cargs.append(ctypes.c_void_p(s.ctypes.data)); argtypes.append(ctypes.c_void_p)
            else:
                ct = ctypes.c_float if dtype == np.float32 else ctypes.c_double
                cargs.append(ct(v)); argtypes.append(ct)
        else:
            buf, off = _copy_buffer(pname, v, dtype)
            out[pname] = buf
            cargs.append(_ptr(buf, off)); argtypes.append(ctypes.c_void_p)
    if args:
        raise TypeError(f"{name}: unexpected arguments {sorted(args)}")
    fn.argtypes = argtypes
    with _capture_stdout(capture) as cap:
        fn(*cargs)
    return Result(ret=None, out={k: v for k, v in out.items() if v is not None}, stdout=cap["text"])


def fortran(routine: str, prec: str, *, capture: bool = True, library=None, prefix: str = "",
            info: int = 0, **args) -> Result:
    """Call the Fortran routine <prec><routine>_ of the same OpenBLAS instance LAPACKE uses
    (libopenblas.so.0 exports OpenBLAS's LAPACK). Column-major only; INFO comes back in
    Result.info (INFO is left as initialised, `info`, if the routine does not set it).
    library / prefix: as for lapacke()."""
    names = FORTRAN_SIGS[routine]
    dtype = _dtype(prec)
    fn = getattr(library if library is not None else lib("blas"), f"{prefix}{prec}{routine}_")
    fn.restype = None
    cargs, out, keep, nflags = [], {}, [], 0
    info = ctypes.c_int32(info)
    for pname in names:
        if pname == "info":
            cargs.append(ctypes.byref(info)); continue
        v = args.pop(pname)
        if pname in _FORTRAN_FLAGS:
            c = ctypes.create_string_buffer(_char(v).value or b"\0", 1); keep.append(c)
            cargs.append(c); nflags += 1
        elif pname == "alpha":
            s = np.array([v], dtype=dtype); keep.append(s)
            cargs.append(ctypes.c_void_p(s.ctypes.data))
        elif pname in ("a", "b", "x", "ipiv", "work"):
            buf, off = _copy_buffer(pname, v, _array_dtype(pname, dtype))
            out[pname] = buf
            cargs.append(_ptr(buf, off))
        else:
            i = ctypes.c_int32(int(v)); keep.append(i)
            cargs.append(ctypes.byref(i))
    if args:
        raise TypeError(f"{prec}{routine}_: unexpected arguments {sorted(args)}")
    cargs += [ctypes.c_size_t(1)] * nflags  # hidden Fortran string lengths
    with _capture_stdout(capture) as cap:
        fn(*cargs)
    has_info = "info" in names
    return Result(ret=None, out={k: v for k, v in out.items() if v is not None},
                  stdout=cap["text"], info=int(info.value) if has_info else None)


def get_nancheck() -> int:
    f = lib("lapacke").LAPACKE_get_nancheck
    f.restype = ctypes.c_int
    return int(f())


def set_nancheck(flag: int) -> None:
    f = lib("lapacke").LAPACKE_set_nancheck
    f.argtypes = [ctypes.c_int]
    f(int(flag))


@contextlib.contextmanager
def nancheck(flag: int):
    """Temporarily set LAPACKE's process-wide NaN-check flag."""
    old = get_nancheck()
    set_nancheck(flag)
    try:
        yield
    finally:
        set_nancheck(old)


# ---------------------------------------------------------------------------------------------
# buffers
def place(mat, layout, ld: int, *, before: int = 0, after: int = 3, dtype=None,
          fill=SENTINEL) -> tuple[np.ndarray, int]:
    """Embed the logical rows x cols matrix `mat` in a flat buffer filled with `fill`, stored in
    `layout` ('R' row-major: element (i, j) at off + i*ld + j; 'C': at off + i + j*ld) with
    `before` padding elements in front and `after` behind. Returns (buffer, off)."""
    mat = np.atleast_2d(np.asarray(mat))
    dtype = np.dtype(dtype or mat.dtype)
    rows, cols = mat.shape
    lay = "R" if _layout(layout) == LAPACK_ROW_MAJOR else "C"
    outer, inner = (rows, cols) if lay == "R" else (cols, rows)
    if outer and ld < inner:
        raise ValueError(f"ld {ld} < {inner}: place a valid layout, then pass the bad ld to the call")
    size = before + (max(outer - 1, 0) * ld + inner if outer and inner else 0) + after
    buf = np.full(size, fill, dtype=dtype)
    if rows and cols:
        idx = _indices(rows, cols, lay, ld) + before
        buf[idx.ravel()] = mat.astype(dtype).ravel()
    return buf, before


def _indices(rows, cols, lay, ld):
    i, j = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    return i * ld + j if lay == "R" else i + j * ld


def take(buf, off, layout, rows, cols, ld) -> np.ndarray:
    """The logical rows x cols matrix stored in buf (see place)."""
    lay = "R" if _layout(layout) == LAPACK_ROW_MAJOR else "C"
    if rows == 0 or cols == 0:
        return np.zeros((rows, cols), dtype=buf.dtype)
    return np.asarray(buf)[_indices(rows, cols, lay, ld) + off]


def mask(size, off, layout, rows, cols, ld) -> np.ndarray:
    """Boolean mask of the buffer elements that belong to the logical matrix."""
    m = np.zeros(size, dtype=bool)
    if rows and cols:
        lay = "R" if _layout(layout) == LAPACK_ROW_MAJOR else "C"
        m[(_indices(rows, cols, lay, ld) + off).ravel()] = True
    return m


def bits(x) -> np.ndarray:
    """The raw bits of an array (complex: of its real and imaginary parts), for bit-for-bit
    comparisons that also treat NaN payloads and -0.0 exactly."""
    x = np.ascontiguousarray(x)
    if x.dtype.kind == "c":
        x = x.view(x.real.dtype)
    return x.view({1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[x.dtype.itemsize])


def same_bits(x, y) -> bool:
    x, y = np.asarray(x), np.asarray(y)
    return x.dtype == y.dtype and x.shape == y.shape and np.array_equal(bits(x), bits(y))
