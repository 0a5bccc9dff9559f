"""Executable specification of what difflapack must reproduce: the LAPACKE 3.11 wrappers
(LAPACKE_?getrf/getrs/gesv/getri/trtrs/potrf/potrs/posv and their _work forms) and OpenBLAS
0.3.21's cblas_?trsv / cblas_?trsm, written ONLY in terms of the column-major Fortran routines
of the same OpenBLAS (_lapacke_oracle.fortran) plus NumPy copies.

test_lapacke_oracle.py checks that this model and the real libraries (_lapacke_oracle.lapacke /
.cblas) agree buffer-for-buffer, bit-for-bit, on the return value and on everything printed, for
valid and invalid calls. So every step written here is a VERIFIED description of the libraries,
and a C implementation that performs the same steps (same checks in the same order, same
temporaries, same Fortran entry points with the same arguments) returns what LAPACKE returns.
Source: Reference-LAPACK LAPACKE/src/lapacke_?<routine>[_work].c and LAPACKE/utils/
lapacke_?{ge,tr,po}_{trans,nancheck}.c, lapacke_xerbla.c; OpenBLAS interface/trsv.c, ztrsv.c,
trsm.c, driver/others/xerbla.c. See docs/design/lapacke_cblas_semantics.md.
"""
from __future__ import annotations

import numpy as np

import _lapacke_oracle as lo

ROW, COL = lo.LAPACK_ROW_MAJOR, lo.LAPACK_COL_MAJOR

# High-level NaN checks: (array, kind, returned value). kind "ge" = m x n general (getrf: m x n,
# others n x n or n x nrhs), "tr" = uplo triangle honouring diag, "po" = uplo triangle with diagonal.
NANCHECKS = {
    "getrf": [("a", "ge_mn", -4)],
    "getrs": [("a", "ge_nn", -5), ("b", "ge_nrhs", -8)],
    "gesv": [("a", "ge_nn", -4), ("b", "ge_nrhs", -7)],
    "getri": [("a", "ge_nn", -3)],
    "trtrs": [("a", "tr", -7), ("b", "ge_nrhs", -9)],
    "potrf": [("a", "po", -4)],
    "potrs": [("a", "po", -5), ("b", "ge_nrhs", -7)],
    "posv": [("a", "po", -5), ("b", "ge_nrhs", -7)],
}

# Row-major _work checks, in order: (leading dim, bound, returned value). Nothing else is
# checked by LAPACKE itself; all other argument errors come from the Fortran routine.
ROW_MAJOR_LD_CHECKS = {
    "getrf": [("lda", "n", -5)],
    "getrs": [("lda", "n", -6), ("ldb", "nrhs", -9)],
    "gesv": [("lda", "n", -5), ("ldb", "nrhs", -8)],
    "getri": [("lda", "n", -4)],
    "trtrs": [("lda", "n", -8), ("ldb", "nrhs", -10)],
    "potrf": [("lda", "n", -5)],
    "potrs": [("lda", "n", -6), ("ldb", "nrhs", -8)],
    "posv": [("lda", "n", -6), ("ldb", "nrhs", -8)],
}

# Row-major: which arrays are transposed in and back out, and how ("ge" = whole m x n / n x n /
# n x nrhs block; "tr" = uplo triangle honouring diag; "po" = uplo triangle incl. diagonal).
# Arrays not listed as out are never written. ipiv / work are passed through untransposed.
ROW_MAJOR_IN = {
    "getrf": {"a": "ge_mn"}, "getrs": {"a": "ge_nn", "b": "ge_nrhs"},
    "gesv": {"a": "ge_nn", "b": "ge_nrhs"}, "getri": {"a": "ge_nn"},
    "trtrs": {"a": "tr", "b": "ge_nrhs"}, "potrf": {"a": "po"},
    "potrs": {"a": "po", "b": "ge_nrhs"}, "posv": {"a": "po", "b": "ge_nrhs"},
}
ROW_MAJOR_OUT = {
    "getrf": {"a": "ge_mn"}, "getrs": {"b": "ge_nrhs"}, "gesv": {"a": "ge_nn", "b": "ge_nrhs"},
    "getri": {"a": "ge_nn"}, "trtrs": {"b": "ge_nrhs"}, "potrf": {"a": "po"},
    "potrs": {"b": "ge_nrhs"}, "posv": {"a": "po", "b": "ge_nrhs"},
}

GARBAGE = np.nan  # what the model's malloc'd temporaries hold where LAPACKE never writes


def lsame(c, ref) -> bool:
    """LAPACKE_lsame: case-insensitive one-character comparison."""
    return isinstance(c, str) and len(c) >= 1 and c[0].upper() == ref.upper()


def _shape(kind, a):
    """(rows, cols) of the logical block of a kind, from the call's integer arguments."""
    n = a.get("n")
    return {"ge_mn": (a.get("m"), n), "ge_nn": (n, n), "ge_nrhs": (n, a.get("nrhs")),
            "tr": (n, n), "po": (n, n)}[kind]


# ---------------------------------------------------------------------------------------------
# LAPACKE utils, element by element as in the C source (bounds use MIN(.., ld) exactly).
def _isnan(v) -> bool:
    return bool(np.isnan(v.real) or np.isnan(v.imag)) if np.iscomplexobj(v) else bool(np.isnan(v))


def ge_nancheck(layout, m, n, buf, off, lda) -> bool:
    """lapacke_?ge_nancheck.c: col-major scans j < n, i < MIN(m, lda) at a[i + j*lda];
    row-major scans i < m, j < MIN(n, lda) at a[i*lda + j]."""
    if buf is None:
        return False
    outer, inner = (n, m) if layout == COL else (m, n)
    for o in range(max(outer, 0)):
        for i in range(max(min(inner, lda), 0)):
            if _isnan(buf[off + i + o * lda]):
                return True
    return False


def _tr_pairs(layout, uplo, diag, n, ld_in):
    """The (storage index = i + j*ld_in) pairs lapacke_?tr_{trans,nancheck}.c visit, in their
    loop order, as (i, j) with the element at in[i + j*ld_in]; None if an argument is invalid."""
    colmaj = layout == COL
    lower = lsame(uplo, "l")
    unit = lsame(diag, "u")
    if (not colmaj and layout != ROW) or (not lower and not lsame(uplo, "u")) or \
            (not unit and not lsame(diag, "n")):
        return None
    st = 1 if unit else 0
    pairs = []
    if (colmaj or lower) and not (colmaj and lower):  # col-major upper == row-major lower
        for j in range(st, n):
            for i in range(0, max(min(j + 1 - st, ld_in), 0)):
                pairs.append((i, j))
    else:
        for j in range(0, n - st):
            for i in range(j + st, max(min(n, ld_in), 0)):
                pairs.append((i, j))
    return pairs


def tr_nancheck(layout, uplo, diag, n, buf, off, lda) -> bool:
    if buf is None:
        return False
    pairs = _tr_pairs(layout, uplo, diag, n, lda)
    return bool(pairs) and any(_isnan(buf[off + i + j * lda]) for i, j in pairs)


def ge_trans(layout, m, n, src, soff, ldin, dst, doff, ldout):
    """lapacke_?ge_trans.c: for i < MIN(y, ldin), j < MIN(x, ldout):
    out[i*ldout + j] = in[j*ldin + i], (x, y) = (n, m) col-major input, (m, n) row-major."""
    if src is None or dst is None:
        return
    if layout == COL:
        x, y = n, m
    elif layout == ROW:
        x, y = m, n
    else:
        return
    for i in range(max(min(y, ldin), 0)):
        for j in range(max(min(x, ldout), 0)):
            dst[doff + i * ldout + j] = src[soff + j * ldin + i]


def tr_trans(layout, uplo, diag, n, src, soff, ldin, dst, doff, ldout):
    """lapacke_?tr_trans.c (po_trans = tr_trans with diag 'n'): copies ONLY the uplo triangle
    (without the diagonal if diag = 'U'); out[j + i*ldout] = in[i + j*ldin]; the loop bound on
    the outer index is MIN(n, ldout) resp. MIN(n - st, ldout). Invalid flags: copies nothing."""
    if src is None or dst is None:
        return
    pairs = _tr_pairs(layout, uplo, diag, n, ldin)
    if pairs is None:
        return
    colmaj, lower = layout == COL, lsame(uplo, "l")
    st = 1 if lsame(diag, "u") else 0
    bound = n if (colmaj or lower) and not (colmaj and lower) else n - st
    for i, j in pairs:
        if j < min(bound, ldout):
            dst[doff + j + i * ldout] = src[soff + i + j * ldin]


def _trans_in_out(kind, layout, a, uplo, diag, src, soff, ldin, dst, doff, ldout):
    rows, cols = _shape(kind, a)
    if kind.startswith("ge"):
        ge_trans(layout, rows, cols, src, soff, ldin, dst, doff, ldout)
    else:
        tr_trans(layout, uplo, diag if kind == "tr" else "n", rows, src, soff, ldin, dst, doff, ldout)


# ---------------------------------------------------------------------------------------------
class _Call:
    """The model's view of one call: working copies of the buffers + what got printed."""

    def __init__(self, prec, args):
        self.prec = prec
        self.dtype = lo._dtype(prec)
        self.args = dict(args)
        self.bufs, self.offs = {}, {}
        for k, v in list(self.args.items()):
            if k in ("a", "b", "ipiv", "work", "x"):
                buf, off = lo._copy_buffer(k, v, lo._array_dtype(k, self.dtype))
                self.bufs[k], self.offs[k] = buf, off
        self.stdout = ""

    def xerbla(self, name, info):
        """LAPACKE_xerbla (lapacke_xerbla.c)."""
        if info == lo.LAPACK_WORK_MEMORY_ERROR:
            self.stdout += f"Not enough memory to allocate work array in {name}\n"
        elif info == lo.LAPACK_TRANSPOSE_MEMORY_ERROR:
            self.stdout += f"Not enough memory to transpose matrix in {name}\n"
        elif info < 0:
            self.stdout += f"Wrong parameter {-info} in {name}\n"

    def fortran(self, routine, **fargs):
        """Call the Fortran routine; arrays given as (name-of-model-buffer | ndarray, offset)
        are written back in place. Returns INFO."""
        call, back = {}, {}
        for k, v in fargs.items():
            if isinstance(v, tuple) and v[0] is None:
                call[k] = None  # NULL pointer
            elif isinstance(v, tuple):
                call[k] = v
                back[k] = v[0]
            else:
                call[k] = v
        r = lo.fortran(routine, self.prec, **call)
        for k, arr in back.items():
            arr[...] = r.out[k]
        self.stdout += r.stdout
        return r.info

    def result(self, ret):
        return lo.Result(ret=ret, out={k: v for k, v in self.bufs.items() if v is not None},
                         stdout=self.stdout)


def _layout(v):
    return lo._layout(v)


def lapacke(routine: str, prec: str, layout, *, work_form: bool = False, nancheck: bool = True,
            **args) -> lo.Result:
    """Model of LAPACKE_<prec><routine>[_work](layout, **args); same calling convention and
    Result as _lapacke_oracle.lapacke. nancheck = LAPACKE_get_nancheck() of the process."""
    c = _Call(prec, args)
    lay = _layout(layout)
    name = f"LAPACKE_{prec}{routine}"
    if not work_form:
        # 1. layout (LAPACKE_xerbla(name, -1), return -1)
        if lay not in (ROW, COL):
            c.xerbla(name, -1)
            return c.result(-1)
        # 2. optional NaN checks: silent, return the argument position (negative), nothing written
        if nancheck:
            for arr, kind, pos in NANCHECKS[routine]:
                ld = args["lda" if arr == "a" else "ldb"]
                buf, off = c.bufs.get(arr), c.offs.get(arr, 0)
                if kind == "tr" or kind == "po":
                    hit = tr_nancheck(lay, args["uplo"], args["diag"] if kind == "tr" else "n",
                                      args["n"], buf, off, ld)
                else:
                    m, n = _shape(kind, args)
                    hit = ge_nancheck(lay, m, n, buf, off, ld)
                if hit:
                    return c.result(pos)
        # 3. getri: workspace query through the _work form, then the call with lwork = query
        if routine == "getri":
            q = np.zeros(1, dtype=c.dtype)
            info = _work(c, "getri", lay, name + "_work", work=(q, 0), lwork=-1)
            if info != 0:
                return c.result(info)
            lwork = int(q[0].real)  # (lapack_int)work_query / LAPACK_Z2INT / LAPACK_C2INT
            w = np.zeros(max(lwork, 0), dtype=c.dtype)  # malloc(0) is non-NULL with glibc
            info = _work(c, "getri", lay, name + "_work", work=(w, 0), lwork=lwork)
            return c.result(info)
        return c.result(_work(c, routine, lay, name + "_work"))
    extra = {}
    if routine == "getri":
        extra = {"work": (c.bufs.get("work"), c.offs.get("work", 0)), "lwork": args["lwork"]}
    return c.result(_work(c, routine, lay, name + "_work", **extra))


def _fortran_args(routine, a, bufs, lda, ldb, extra):
    """Fortran argument dict for routine from the LAPACKE argument dict a."""
    f = {}
    for k in lo.FORTRAN_SIGS[routine]:
        if k == "info":
            continue
        if k in ("a", "b", "ipiv"):
            f[k] = bufs[k]
        elif k == "lda":
            f[k] = lda
        elif k == "ldb":
            f[k] = ldb
        elif k in ("work", "lwork"):
            f[k] = extra[k]
        else:
            f[k] = a[k]
    return f


def _work(c: _Call, routine, lay, name, **extra) -> int:
    """LAPACKE_<p><routine>_work."""
    a = c.args
    bufs = {k: (c.bufs[k], c.offs[k]) for k in ("a", "b", "ipiv") if k in c.bufs}
    if lay == COL:
        # user's buffers and leading dimensions go straight to Fortran; info < 0 -> info - 1
        info = c.fortran(routine, **_fortran_args(routine, a, bufs, a.get("lda"), a.get("ldb"), extra))
        return info - 1 if info < 0 else info
    if lay != ROW:
        c.xerbla(name, -1)
        return -1
    # row-major: leading-dimension checks against the row length (LAPACKE_xerbla + return)
    for ld, bound, pos in ROW_MAJOR_LD_CHECKS[routine]:
        if a[ld] < a[bound]:
            c.xerbla(name, pos)
            return pos
    n = a["n"]
    if routine == "getri" and extra["lwork"] == -1:
        # query: Fortran on the USER's a with lda_t = max(1, n); nothing transposed
        info = c.fortran("getri", n=n, a=bufs["a"], lda=max(1, n), ipiv=bufs["ipiv"],
                         work=extra["work"], lwork=-1)
        return info - 1 if info < 0 else info
    # temporaries: lda_t = max(1, rows) (rows = m for getrf, else n), ldb_t = max(1, n);
    # sizes lda_t * max(1, n) and ldb_t * max(1, nrhs); contents start as malloc garbage
    rows = a["m"] if routine == "getrf" else n
    lda_t, ldb_t = max(1, rows), max(1, n)
    temps = {"a": (np.full(lda_t * max(1, n), GARBAGE, dtype=c.dtype), 0)}
    lds = {"a": (a["lda"], lda_t)}
    if "b" in ROW_MAJOR_IN[routine]:
        temps["b"] = (np.full(ldb_t * max(1, a["nrhs"]), GARBAGE, dtype=c.dtype), 0)
        lds["b"] = (a["ldb"], ldb_t)
    uplo, diag = a.get("uplo"), a.get("diag")
    for arr, kind in ROW_MAJOR_IN[routine].items():
        src, soff = bufs[arr]
        _trans_in_out(kind, ROW, a, uplo, diag, src, soff, lds[arr][0], temps[arr][0], 0, lds[arr][1])
    fb = dict(bufs, **temps)
    info = c.fortran(routine, **_fortran_args(routine, a, fb, lda_t, ldb_t, extra))
    if info < 0:
        info -= 1
    # transposed back whatever the info (also info > 0 and Fortran argument errors)
    for arr, kind in ROW_MAJOR_OUT[routine].items():
        dst, doff = bufs[arr]
        _trans_in_out(kind, COL, a, uplo, diag, temps[arr][0], 0, lds[arr][1], dst, doff, lds[arr][0])
    return info


# ---------------------------------------------------------------------------------------------
# OpenBLAS CBLAS (interface/trsv.c, ztrsv.c, trsm.c with -DCBLAS)
def _xerbla_openblas(name, info):
    """driver/others/xerbla.c: printf(" ** On entry to %6s parameter number %2d had an
    illegal value\\n", name, info)."""
    return f" ** On entry to {name:>6s} parameter number {info:2d} had an illegal value\n"


def cblas(routine: str, prec: str, order, **args) -> lo.Result:
    """Model of cblas_<prec><routine>(order, ...) as OpenBLAS 0.3.21 implements it: flag
    translation, its own argument checks (Fortran parameter numbers, the LAST failing check in
    the list below wins, i.e. the lowest number), then the column-major Fortran routine."""
    c = _Call(prec, args)
    cplx = c.dtype.kind == "c"
    o = lo._enum("order", order)
    E = {k: lo._enum(k, args[k]) for k in ("uplo", "trans", "diag", "side") if k in args}
    T = lo.CBLAS["trans"]
    U, D, S = lo.CBLAS["uplo"], lo.CBLAS["diag"], lo.CBLAS["side"]
    uplo = trans = unit = side = -1
    info = 0  # stays 0 for an order that is neither Row nor Col: xerbla(..., 0) is printed
    if o in (101, 102):
        row = o == 101
        if E["uplo"] == U["U"]:
            uplo = 1 if row else 0
        if E["uplo"] == U["L"]:
            uplo = 0 if row else 1
        if E["diag"] == D["U"]:
            unit = 0
        if E["diag"] == D["N"]:
            unit = 1
        if routine == "trsv":
            # trsv: row-major flips N<->T and, for complex, ConjTrans <-> ConjNoTrans
            m = {T["N"]: 0, T["T"]: 1, T["R"]: 2 if cplx else 0, T["C"]: 3 if cplx else 1}
            if row:
                m = {T["N"]: 1, T["T"]: 0, T["R"]: 3 if cplx else 1, T["C"]: 2 if cplx else 0}
            trans = m.get(E["trans"], -1)
            n, lda, incx = args["n"], args["lda"], args["incx"]
            info = -1
            checks = [(incx == 0, 8), (lda < max(1, n), 6), (n < 0, 4), (unit < 0, 3),
                      (trans < 0, 2), (uplo < 0, 1)]
        else:
            # trsm: row-major swaps m and n and flips side and uplo; trans is kept
            m_, n_ = (args["n"], args["m"]) if row else (args["m"], args["n"])
            if E["side"] == S["L"]:
                side = 1 if row else 0
            if E["side"] == S["R"]:
                side = 0 if row else 1
            trans = {T["N"]: 0, T["T"]: 1, T["R"]: 2 if cplx else 0,
                     T["C"]: 3 if cplx else 1}.get(E["trans"], -1)
            nrowa = n_ if side & 1 else m_
            info = -1
            checks = [(args["ldb"] < max(1, m_), 11), (args["lda"] < max(1, nrowa), 9),
                      (n_ < 0, 6), (m_ < 0, 5), (unit < 0, 4), (trans < 0, 3), (uplo < 0, 2),
                      (side < 0, 1)]
        for bad, pos in checks:
            if bad:
                info = pos
    if info >= 0:
        nm = {"trsv": "TRSV ", "trsm": "TRSM "}[routine]
        c.stdout += _xerbla_openblas(prec.upper() + nm, info)
        return c.result(None)
    letters = {"uplo": "UL"[uplo], "diag": "UN"[unit], "trans": "NTRC"[trans]}
    if routine == "trsv":
        if args["n"] == 0:
            return c.result(None)
        c.fortran("trsv", n=args["n"], a=(c.bufs["a"], c.offs["a"]), lda=args["lda"],
                  x=(c.bufs["x"], c.offs["x"]), incx=args["incx"], **letters)
    else:
        if m_ == 0 or n_ == 0:
            return c.result(None)
        c.fortran("trsm", side="LR"[side], m=m_, n=n_, alpha=args["alpha"],
                  a=(c.bufs["a"], c.offs["a"]), lda=args["lda"], b=(c.bufs["b"], c.offs["b"]),
                  ldb=args["ldb"], **letters)
    return c.result(None)
