"""Harness of the Enzyme tests of the C interfaces (cblas_?trsv, cblas_?trsm, LAPACKE_?getrf /
getrs / gesv / getri / trtrs / potrf / potrs / posv and their _work forms) through
difflapack_enzyme.h.

One C++ program per (routine, precision, mode, activity pattern); everything else (layout,
_work form, flags, sizes, leading dimensions, offsets, pivots) travels in a parameter vector,
so each program is compiled once and runs every case. The arrays are fixed buffers of CAP reals
(complex data: CAP/2 (re, im) pairs) converted to the precision's type inside the program, so
entries outside the logical matrices are padding whose treatment is checked too.

The program's output, "prim", is [x buffer (CAP), a buffer (CAP), return value, ipiv (8)]:
the in/out array of the call, the matrix, what it returned and the pivots. Checks, per case:
  - prim is bitwise what the real LAPACKE / CBLAS leave for the same call, and the text printed
    during the run is what they print (tests/_lapacke_oracle.py, same process);
  - derivatives against central differences of the real library in double precision (d / z
    routines on the same values): reverse modes by a directional test per active input
    (<grad, v> vs the difference quotient of the loss <w, prim> along v), forward modes by the
    whole tangent of prim along random directions of all active inputs.
Modes: "rev" __enzyme_autodiff and "fwd" __enzyme_fwddiff inside the program; "grad" jax.vjp
over the cpp_call (Enzyme's split reverse mode, as jax.grad drives it) and "jvp" jax.jvp.
"""
from __future__ import annotations

import functools

import numpy as np

import _lapacke_oracle as lo

CAP = 96          # reals per array buffer
NPRM = 24         # parameter slots; the pivots start at PIV
PIV = 16
NPIV = 8
NOUT = 2 * CAP + 1 + NPIV
H = 1e-6          # central-difference step
TRANS, UPLO, DIAG, SIDE = (lo.CBLAS[k] for k in ("trans", "uplo", "diag", "side"))

# per routine: the arrays that can be active (A: the matrix, b: the other array), whether it
# has alpha, whether the matrix is an output, and the parameter vector's layout (CBLAS names
# take order and CBLAS enumerations, LAPACKE names work (the _work form?) and layout)
ROUTINES = {
    "trsv": dict(arrays=("A", "b"), alpha=False, writes_a=False,
                 params=("order", "uplo", "trans", "diag", "n", "lda", "incx", "aoff", "xoff")),
    "trsm": dict(arrays=("A", "b"), alpha=True, writes_a=False,
                 params=("order", "side", "uplo", "trans", "diag", "m", "n", "lda", "ldb", "aoff", "xoff")),
    "getrf": dict(arrays=("A",), alpha=False, writes_a=True, params=("work", "layout", "m", "n", "lda", "aoff")),
    "getrs": dict(arrays=("A", "b"), alpha=False, writes_a=False,
                  params=("work", "layout", "trans", "n", "nrhs", "lda", "ldb", "aoff", "xoff")),
    "gesv": dict(arrays=("A", "b"), alpha=False, writes_a=True,
                 params=("work", "layout", "n", "nrhs", "lda", "ldb", "aoff", "xoff")),
    "getri": dict(arrays=("A",), alpha=False, writes_a=True, params=("work", "layout", "n", "lda", "aoff", "lwork")),
    "trtrs": dict(arrays=("A", "b"), alpha=False, writes_a=False,
                  params=("work", "layout", "uplo", "trans", "diag", "n", "nrhs", "lda", "ldb", "aoff", "xoff")),
    "potrf": dict(arrays=("A",), alpha=False, writes_a=True, params=("work", "layout", "uplo", "n", "lda", "aoff")),
    "potrs": dict(arrays=("A", "b"), alpha=False, writes_a=False,
                  params=("work", "layout", "uplo", "n", "nrhs", "lda", "ldb", "aoff", "xoff")),
    "posv": dict(arrays=("A", "b"), alpha=False, writes_a=True,
                 params=("work", "layout", "uplo", "n", "nrhs", "lda", "ldb", "aoff", "xoff")),
}
LAPACKE_ROUTINES = ("getrf", "getrs", "gesv", "getri", "trtrs", "potrf", "potrs", "posv")
NWORK = 2 * 64 * 8  # reals of getri_work's workspace (lwork <= 64 n for n <= 8)


def _call(routine, prec):
    """The C++ statement of the call (p[k]: parameters; a, x: the arrays; al: alpha)."""
    P = {name: f"p[{k}]" for k, name in enumerate(ROUTINES[routine]["params"])}
    a, x = f"a + EL * {P.get('aoff')}", f"x + EL * {P.get('xoff', 0)}"
    if routine == "trsv":
        return (f"cblas_{prec}trsv({P['order']}, {P['uplo']}, {P['trans']}, {P['diag']}, {P['n']}, {a}, {P['lda']}, "
                f"{x}, {P['incx']});")
    if routine == "trsm":
        alpha = "al" if prec in "cz" else "al[0]"
        return (f"cblas_{prec}trsm({P['order']}, {P['side']}, {P['uplo']}, {P['trans']}, {P['diag']}, {P['m']}, "
                f"{P['n']}, {alpha}, {a}, {P['lda']}, {x}, {P['ldb']});")
    if routine == "getrf":
        args = f"{P['layout']}, {P['m']}, {P['n']}, {a}, {P['lda']}, ipiv"
    elif routine == "getrs":
        args = f"{P['layout']}, (char){P['trans']}, {P['n']}, {P['nrhs']}, {a}, {P['lda']}, ipiv, {x}, {P['ldb']}"
    elif routine == "getri":
        args = f"{P['layout']}, {P['n']}, {a}, {P['lda']}, ipiv"
        return (f"if ({P['work']}) ret = LAPACKE_{prec}getri_work({args}, wk, {P['lwork']}); "
                f"else ret = LAPACKE_{prec}getri({args});")
    elif routine == "trtrs":
        args = (f"{P['layout']}, (char){P['uplo']}, (char){P['trans']}, (char){P['diag']}, {P['n']}, {P['nrhs']}, "
                f"{a}, {P['lda']}, {x}, {P['ldb']}")
    elif routine == "potrf":
        args = f"{P['layout']}, (char){P['uplo']}, {P['n']}, {a}, {P['lda']}"
    elif routine in ("potrs", "posv"):
        args = f"{P['layout']}, (char){P['uplo']}, {P['n']}, {P['nrhs']}, {a}, {P['lda']}, {x}, {P['ldb']}"
    else:
        args = f"{P['layout']}, {P['n']}, {P['nrhs']}, {a}, {P['lda']}, ipiv, {x}, {P['ldb']}"
    return (f"if ({P['work']}) ret = LAPACKE_{prec}{routine}_work({args}); "
            f"else ret = LAPACKE_{prec}{routine}({args});")


PRELUDE = r"""
extern "C" {
double __enzyme_autodiff(void*, ...);
double __enzyme_fwddiff(void*, ...);
extern int enzyme_dup, enzyme_const;
}
#include "difflapack_enzyme.h"
#define CAP %(CAP)d
#define NPRM %(NPRM)d
#define PIV %(PIV)d
#define NPIV %(NPIV)d
#define NOUT %(NOUT)d
#define EL %(EL)d
typedef %(R)s R;
// Enzyme-JAX makes every float input of a cpp_call active; a constant one is copied out of its
// input by a function Enzyme is told is inactive.
__attribute__((noinline)) static void const_copy(double* dst, const double* src, int n) {
    for (int i = 0; i < n; i++) dst[i] = src[i];
}
extern "C" { __attribute__((used)) void* __enzyme_inactivefn_capi_const_copy[1] = {(void*)const_copy}; }

// The user's code: the call on arrays of the precision's type, its outputs in out (NOUT reals),
// the loss <w, out>.
static double user(double* out, const double* A, const double* b, const double* alpha, const double* w,
                   const double* prm) {
    R a[CAP], x[CAP], al[2], wk[%(NWORK)d];
    for (int i = 0; i < CAP; i++) { a[i] = (R)A[i]; x[i] = (R)b[i]; }
    al[0] = (R)alpha[0]; al[1] = (R)alpha[1];
    int p[NPRM];
    for (int i = 0; i < NPRM; i++) p[i] = (int)prm[i];
    int ipiv[NPIV];
    for (int i = 0; i < NPIV; i++) ipiv[i] = p[PIV + i];
    int ret = 0;
    %(CALL)s
    (void)al; (void)wk;
    for (int i = 0; i < CAP; i++) { out[i] = x[i]; out[CAP + i] = a[i]; }
    out[2 * CAP] = ret;
    for (int i = 0; i < NPIV; i++) out[2 * CAP + 1 + i] = ipiv[i];
    double s = 0;
    for (int i = 0; i < NOUT; i++) s += w[i] * out[i];
    %(SCRIBBLE)s
    return s;
}
"""
# the caller overwrites the call's arrays and pivots after the call (the reverse pass must not
# read them)
SCRIBBLE = "for (int i = 0; i < CAP; i++) { a[i] = (R)(100 + i); x[i] = (R)-7; } " \
           "for (int i = 0; i < NPIV; i++) ipiv[i] = 1;"

ENTRY_REV = r"""
void myfn(enzyme::tensor<double, NOUT + 2 * CAP + 2>& res, const enzyme::tensor<double, CAP>& Ain,
          const enzyme::tensor<double, CAP>& bin, const enzyme::tensor<double, 2>& alin,
          const enzyme::tensor<double, NOUT>& win, const enzyme::tensor<double, NPRM>& pin) {
    double A[CAP], gA[CAP], b[CAP], gb[CAP], al[2], gal[2], out[NOUT], gout[NOUT], w[NOUT], prm[NPRM];
    for (int i = 0; i < CAP; i++) { A[i] = Ain[i]; b[i] = bin[i]; gA[i] = 0; gb[i] = 0; }
    for (int i = 0; i < 2; i++) { al[i] = alin[i]; gal[i] = 0; }
    for (int i = 0; i < NOUT; i++) { w[i] = win[i]; out[i] = 0; gout[i] = 0; }
    for (int i = 0; i < NPRM; i++) prm[i] = pin[i];
    __enzyme_autodiff((void*)user, enzyme_dup, out, gout, %(ARGS)s, enzyme_const, w, enzyme_const, prm);
    for (int i = 0; i < NOUT; i++) res[i] = out[i];
    for (int i = 0; i < CAP; i++) { res[NOUT + i] = gA[i]; res[NOUT + CAP + i] = gb[i]; }
    res[NOUT + 2 * CAP] = gal[0]; res[NOUT + 2 * CAP + 1] = gal[1];
}
"""

ENTRY_FWD = r"""
void myfn(enzyme::tensor<double, 2 * NOUT>& res, const enzyme::tensor<double, CAP>& Ain,
          const enzyme::tensor<double, CAP>& bin, const enzyme::tensor<double, 2>& alin,
          const enzyme::tensor<double, CAP>& dAin, const enzyme::tensor<double, CAP>& dbin,
          const enzyme::tensor<double, 2>& dalin, const enzyme::tensor<double, NPRM>& pin) {
    double A[CAP], dA[CAP], b[CAP], db[CAP], al[2], dal[2], out[NOUT], dout[NOUT], w[NOUT], prm[NPRM];
    for (int i = 0; i < CAP; i++) { A[i] = Ain[i]; b[i] = bin[i]; dA[i] = dAin[i]; db[i] = dbin[i]; }
    for (int i = 0; i < 2; i++) { al[i] = alin[i]; dal[i] = dalin[i]; }
    for (int i = 0; i < NOUT; i++) { w[i] = 0; out[i] = 0; dout[i] = 0; }
    for (int i = 0; i < NPRM; i++) prm[i] = pin[i];
    __enzyme_fwddiff((void*)user, enzyme_dup, out, dout, %(ARGS)s, enzyme_const, w, enzyme_const, prm);
    for (int i = 0; i < NOUT; i++) { res[i] = out[i]; res[NOUT + i] = dout[i]; }
}
"""

ENTRY_JAX = r"""
void myfn(enzyme::tensor<double, NOUT>& res, const enzyme::tensor<double, CAP>& Ain,
          const enzyme::tensor<double, CAP>& bin, const enzyme::tensor<double, 2>& alin,
          const enzyme::tensor<double, NPRM>& pin) {
    double A[CAP], b[CAP], al[2], out[NOUT], w[NOUT], prm[NPRM];
    %(LOADS)s
    for (int i = 0; i < NOUT; i++) w[i] = 0;
    for (int i = 0; i < NPRM; i++) prm[i] = pin[i];
    user(out, A, b, al, w, prm);
    for (int i = 0; i < NOUT; i++) res[i] = out[i];
}
"""

INPUTS = ("A", "b", "alpha")
SOURCE_NAMES = {"A": ("A", "Ain", "CAP"), "b": ("b", "bin", "CAP"), "alpha": ("al", "alin", "2")}


def inputs_of(routine):
    return ROUTINES[routine]["arrays"] + (("alpha",) if ROUTINES[routine]["alpha"] else ())


def build_source(routine, prec, mode, active, overwrite=False):
    R = "float" if prec in "sc" else "double"
    src = PRELUDE % dict(CAP=CAP, NPRM=NPRM, PIV=PIV, NPIV=NPIV, NOUT=NOUT, NWORK=NWORK, EL=2 if prec in "cz" else 1, R=R,
                         CALL=_call(routine, prec), SCRIBBLE=SCRIBBLE if overwrite else "")
    if mode in ("rev", "fwd"):
        shadow = {"A": "gA", "b": "gb", "alpha": "gal"} if mode == "rev" else {"A": "dA", "b": "db", "alpha": "dal"}
        args = ", ".join(f"enzyme_dup, {SOURCE_NAMES[k][0]}, {shadow[k]}" if active.get(k) else
                         f"enzyme_const, {SOURCE_NAMES[k][0]}" for k in INPUTS)
        return src + (ENTRY_REV if mode == "rev" else ENTRY_FWD) % dict(ARGS=args)
    loads = []
    for k in INPUTS:
        var, inp, n = SOURCE_NAMES[k]
        loads.append(f"for (int i = 0; i < {n}; i++) {var}[i] = {inp}[i];" if active.get(k) else
                     f"const_copy({var}, &{inp}[0], {n});")
    return src + ENTRY_JAX % dict(LOADS="\n    ".join(loads))


# ----------------------------------------------------------------------------- cases
def _dtype(prec):
    return lo.DTYPES[prec]


def to_library(vec, prec):
    """A buffer of CAP reals as the library sees it (complex: (re, im) pairs)."""
    v = np.asarray(vec, dtype=np.float32 if prec in "sc" else np.float64)
    return v.view(_dtype(prec)).copy()


def to_reals(buf):
    """The inverse of to_library, in float64."""
    b = np.ascontiguousarray(buf)
    if b.dtype.kind == "c":
        b = b.view(b.real.dtype)
    return b.astype(np.float64)


def _rand(r, shape, prec):
    x = r.standard_normal(shape)
    if prec in "cz":
        x = x + 1j * r.standard_normal(shape)
    return x.astype(_dtype(prec))


def _put(buf, M, off, layout, ld):
    rows, cols = M.shape
    if rows and cols:
        buf[lo._indices(rows, cols, layout, ld).ravel() + off] = M.ravel()


def _triangle(r, k, prec, uplo, diag):
    """A well-conditioned triangle; the other triangle (and a unit diagonal) hold garbage."""
    T = _rand(r, (k, k), prec) / np.sqrt(max(k, 1))
    d = (1.5 + r.random(k)) * np.sign(r.standard_normal(k))
    np.fill_diagonal(T, d.astype(T.dtype))
    if diag == "U":
        np.fill_diagonal(T, np.full(k, 7.0).astype(T.dtype))
        T[~np.eye(k, dtype=bool)] *= 0.3
    return T


def _hermitian_definite(r, n, prec):
    G = _rand(r, (n, n), prec)
    M = G @ G.conj().T + n * np.eye(n)
    np.fill_diagonal(M, M.diagonal().real)
    return M.astype(_dtype(prec))


def _general(r, m, n, prec):
    M = _rand(r, (m, n), prec)
    k = min(m, n)
    if k:
        M[:k, :k] += (2.0 * np.sqrt(k) * np.eye(k)[:, ::-1] if k > 1 else 3.0 * np.eye(1)).astype(M.dtype)
    return M


def make_case(routine, prec, spec, seed=0):
    """Inputs (CAP-real buffers, random everywhere), the parameter vector, weights, directions.
    spec: the call's arguments by name (layout / order and flags as letters, sizes, lds,
    offsets aoff / xoff in elements, work); missing offsets are 1 / 2."""
    r = np.random.default_rng(seed)
    spec = dict(spec)
    spec.setdefault("aoff", 1)
    spec.setdefault("xoff", 2)
    A = to_library(r.standard_normal(CAP), prec)
    B = to_library(r.standard_normal(CAP), prec)
    lay = spec.get("layout", spec.get("order"))
    lay = lay if lay in ("R", "C") else "C"   # an invalid layout: place the data column-major
    ipiv = np.full(NPIV, -5, dtype=np.int32)
    if routine in ("trsv", "trsm"):
        k = spec["n"] if routine == "trsv" else (spec["m"] if spec["side"] == "L" else spec["n"])
        if k > 0:
            # the logical matrix is what the caller stores in its order
            _put(A, _triangle(r, k, prec, spec["uplo"], spec["diag"]), spec["aoff"], lay, max(spec["lda"], k))
        if routine == "trsm" and spec["m"] > 0 and spec["n"] > 0:
            ld = max(spec["ldb"], spec["n"] if lay == "R" else spec["m"])
            _put(B, _rand(r, (spec["m"], spec["n"]), prec), spec["xoff"], lay, ld)
    elif routine in ("getrf", "gesv"):
        m = spec["m"] if routine == "getrf" else spec["n"]
        n = spec["n"]
        if m > 0 and n > 0:
            _put(A, _general(r, m, n, prec), spec["aoff"], lay, max(spec["lda"], n if lay == "R" else m))
    elif routine in ("getrs", "getri"):
        n = spec["n"]
        if n > 0:
            f = lo.fortran("getrf", prec, m=n, n=n, a=np.asfortranarray(_general(r, n, n, prec)).ravel(order="F"), lda=n,
                           ipiv=np.zeros(n, np.int32))
            _put(A, f.out["a"].reshape((n, n), order="F"), spec["aoff"], lay, max(spec["lda"], n))
            ipiv[:n] = f.out["ipiv"]
    elif routine == "trtrs":
        n = spec["n"]
        if n > 0:
            _put(A, _triangle(r, n, prec, spec["uplo"], spec["diag"]), spec["aoff"], lay, max(spec["lda"], n))
    elif routine in ("potrf", "potrs", "posv"):
        n = spec["n"]
        if n > 0:
            M = _hermitian_definite(r, n, prec)
            if routine == "potrs":  # the factor's triangle; the other triangle stays garbage
                f = lo.fortran("potrf", prec, uplo="L", n=n, a=np.asfortranarray(M).ravel(order="F"), lda=n)
                L = np.tril(f.out["a"].reshape((n, n), order="F"))
                M = L if spec["uplo"] in "Ll" else L.conj().T
            upper = spec["uplo"] in "Uu"
            other = np.tril(np.ones((n, n), bool), -1) if upper else np.triu(np.ones((n, n), bool), 1)
            M[other] = _rand(r, (n, n), prec)[other]      # what the routine must not read
            if prec in "cz" and routine != "potrs":
                M[np.diag_indices(n)] += (0.3j * r.standard_normal(n)).astype(M.dtype)  # Im: not read
            _put(A, M, spec["aoff"], lay, max(spec["lda"], n))
    if routine in LAPACKE_ROUTINES and routine not in ("getrf", "getrs", "gesv", "getri"):
        ipiv[:] = 0
    prm = np.zeros(NPRM)
    for k, name in enumerate(ROUTINES[routine]["params"]):
        prm[k] = _encode(routine, name, spec[name])
    prm[PIV:PIV + NPIV] = ipiv
    alpha = np.array([spec.get("alpha", 1.3).real, getattr(spec.get("alpha", 1.3), "imag", 0.0)])
    if prec in "sd":
        alpha[1] = 0.0
    alpha = alpha.astype(np.float32 if prec in "sc" else np.float64).astype(np.float64)
    w = r.standard_normal(NOUT)
    w[2 * CAP:] = 0.0                       # return value and pivots carry no derivative
    if not ROUTINES[routine]["writes_a"]:
        w[CAP:2 * CAP] = 0.0                # a read-only matrix: not an output
    return {"routine": routine, "prec": prec, "spec": spec, "prm": prm, "ipiv": ipiv,
            "A": to_reals(A), "b": to_reals(B), "alpha": alpha, "w": w,
            "dirs": {"A": r.standard_normal(CAP), "b": r.standard_normal(CAP), "alpha": r.standard_normal(2)}}


def _encode(routine, name, v):
    """A parameter as the program passes it: CBLAS enumerations, LAPACKE's layout number and
    flag characters; any other value (an invalid flag) as given."""
    if not isinstance(v, str):
        return v
    if name in ("order", "layout"):
        return {"R": 101, "C": 102}[v]
    if routine in LAPACKE_ROUTINES:
        return ord(v)
    if name == "trans":
        return TRANS[v]
    return {"uplo": UPLO, "diag": DIAG, "side": SIDE}[name][v.upper()]


# ----------------------------------------------------------------------------- the oracle
def library_call(case, prec=None, A=None, b=None, alpha=None, capture=True):
    """The real LAPACKE / CBLAS on the case's buffers (in precision `prec`, default the case's):
    (prim as NOUT reals, printed text)."""
    routine, spec = case["routine"], case["spec"]
    prec = prec or case["prec"]
    A = case["A"] if A is None else A
    b = case["b"] if b is None else b
    alpha = case["alpha"] if alpha is None else alpha
    a_buf, x_buf = to_library(A, prec), to_library(b, prec)
    ipiv = case["ipiv"].copy()
    al = complex(alpha[0], alpha[1]) if prec in "cz" else float(alpha[0])
    s = dict(spec)
    aoff, xoff = s.pop("aoff"), s.pop("xoff")
    ret = 0
    if routine in ("trsv", "trsm"):
        order = s.pop("order")
        if routine == "trsv":
            res = lo.cblas("trsv", prec, order, capture=capture, a=(a_buf, aoff), x=(x_buf, xoff), **s)
            x_out = res.out["x"]
        else:
            s["alpha"] = al
            res = lo.cblas("trsm", prec, order, capture=capture, a=(a_buf, aoff), b=(x_buf, xoff), **s)
            x_out = res.out["b"]
        a_out, ipiv_out = res.out["a"], ipiv
    else:
        work, layout = s.pop("work"), s.pop("layout")
        s.pop("alpha", None)
        kw = dict(a=(a_buf, aoff))
        if "ipiv" in dict(lo.LAPACKE_SIGS[routine]):
            kw["ipiv"] = ipiv
        if "b" in dict(lo.LAPACKE_SIGS[routine]):
            kw["b"] = (x_buf, xoff)
        if routine == "getri":
            lwork = s.pop("lwork")
            if work:
                kw.update(work=np.zeros(NWORK // (2 if prec in "cz" else 1), a_buf.dtype), lwork=lwork)
        res = lo.lapacke(routine, prec, layout, work_form=bool(work), capture=capture, **kw, **s)
        ret = res.ret
        a_out, ipiv_out = res.out["a"], res.out.get("ipiv", ipiv)
        x_out = res.out.get("b", x_buf)
    prim = np.concatenate([to_reals(x_out), to_reals(a_out), [float(ret)], ipiv_out.astype(np.float64)])
    return prim, res.stdout


def double_precision(prec):
    return {"s": "d", "c": "z"}.get(prec, prec)


def fd_prim(case, dirs):
    """Central difference of prim (double-precision library) along dirs {input: direction}."""
    p = double_precision(case["prec"])

    def at(t):
        kw = {k: case[k] + t * v for k, v in dirs.items()}
        return library_call(case, prec=p, capture=False, **kw)[0]

    return (at(H) - at(-H)) / (2 * H)


@functools.lru_cache(maxsize=None)
def program(routine, prec, mode, active_items, overwrite=False):
    return CapiProgram(routine, prec, mode, dict(active_items), overwrite)


def get_program(routine, prec, mode, active, overwrite=False):
    return program(routine, prec, mode, tuple(sorted(active.items())), overwrite)


class CapiProgram:
    """One compiled source; run(case) -> {"prim", "stdout", and "grads" (rev, grad) or "tangent"}."""

    def __init__(self, routine, prec, mode, active, overwrite=False):
        self.routine, self.prec, self.mode, self.active = routine, prec, mode, dict(active)
        self.source = build_source(routine, prec, mode, active, overwrite)
        self._fn = None

    def _jax(self):
        import jax
        jax.config.update("jax_enable_x64", True)
        return jax

    def _build(self, xs):
        jax = self._jax()
        import jax.numpy as jnp
        from difflapack import enzyme
        enzyme.load()
        nres = {"rev": NOUT + 2 * CAP + 2, "fwd": 2 * NOUT}.get(self.mode, NOUT)
        out_shapes = [jax.core.ShapedArray([nres], jnp.float64)]
        argv = tuple(enzyme.cflags())

        def call(*args):
            from enzyme_ad.jax import cpp_call
            return cpp_call(*args, out_shapes=out_shapes, source=self.source, fn="myfn", argv=argv)[0]

        if self.mode in ("rev", "fwd"):
            fn = jax.jit(call)
        elif self.mode == "jvp":
            fn = jax.jit(lambda A, b, al, p, dA, db, dal: jax.jvp(
                lambda A_, b_, al_: call(A_, b_, al_, p), (A, b, al), (dA, db, dal)))
        else:
            def primal_and_pullback(A, b, al, p, w):
                out, pullback = jax.vjp(lambda A_, b_, al_: call(A_, b_, al_, p), A, b, al)
                return out, pullback(w)
            fn = jax.jit(primal_and_pullback)
        with enzyme.captured_stderr() as log:
            compiled = fn.lower(*xs).compile()
        enzyme.check_log(enzyme._strip_ansi(log[0]), f"{self.routine}/{self.prec}/{self.mode}")
        self._fn = compiled

    def _inputs(self, case):
        d = {k: (case["dirs"][k] if self.active.get(k) else np.zeros_like(case["dirs"][k])) for k in INPUTS}
        base = [case["A"], case["b"], case["alpha"]]
        if self.mode == "rev":
            return base + [case["w"], case["prm"]]
        if self.mode == "fwd":
            return base + [d["A"], d["b"], d["alpha"], case["prm"]]
        if self.mode == "jvp":
            return base + [case["prm"], d["A"], d["b"], d["alpha"]]
        return base + [case["prm"], case["w"]]

    def run(self, case):
        xs = self._inputs(case)
        if self._fn is None:
            self._build(xs)
        with lo._capture_stdout(True) as cap:
            out = self._fn(*xs)
        res = {"stdout": cap["text"]}
        if self.mode == "rev":
            r = np.asarray(out)
            res["prim"] = r[:NOUT]
            res["grads"] = {"A": r[NOUT:NOUT + CAP], "b": r[NOUT + CAP:NOUT + 2 * CAP], "alpha": r[NOUT + 2 * CAP:]}
        elif self.mode == "fwd":
            r = np.asarray(out)
            res["prim"], res["tangent"] = r[:NOUT], r[NOUT:]
        elif self.mode == "jvp":
            res["prim"], res["tangent"] = np.asarray(out[0]), np.asarray(out[1])
        else:
            res["prim"] = np.asarray(out[0])
            g = out[1]
            res["grads"] = {"A": np.asarray(g[0]), "b": np.asarray(g[1]), "alpha": np.asarray(g[2])}
        return res


def tolerance(prec):
    return 2e-3 if prec in "sc" else 1e-6


def check(prog, case, what=""):
    """Run one program on one case: exact primal and printed text, derivatives vs FD."""
    res = prog.run(case)
    want, printed = library_call(case)
    what = f"{prog.routine}/{prog.prec}/{prog.mode} {prog.active} {case['spec']} {what}"
    assert lo.same_bits(res["prim"], want), f"{what}: primal differs\n got {res['prim']}\nwant {want}"
    assert res["stdout"] == printed, f"{what}: printed {res['stdout']!r}, LAPACKE/CBLAS print {printed!r}"
    tol = tolerance(prog.prec)
    active = [k for k in inputs_of(prog.routine) if prog.active.get(k)]
    if prog.mode in ("rev", "grad"):
        for k in inputs_of(prog.routine):
            if not prog.active.get(k):
                assert not np.any(res["grads"][k]), f"{what}: the constant {k} got a gradient"
        for k in active:
            v = case["dirs"][k]
            fd = float(np.dot(case["w"], fd_prim(case, {k: v})))
            got = float(np.dot(res["grads"][k], v))
            scale = max(1.0, abs(fd), float(np.sum(np.abs(res["grads"][k] * v))))
            assert abs(got - fd) <= tol * scale, f"{what}: <d{k}, v> = {got!r}, finite differences {fd!r}"
    else:
        fd = fd_prim(case, {k: case["dirs"][k] for k in active})
        err = np.abs(res["tangent"] - fd).max() / max(1.0, np.abs(fd).max())
        assert err <= tol, f"{what}: tangent error {err:.2e}\n got {res['tangent']}\nwant {fd}"
    return res


def activity_patterns(routine):
    names = inputs_of(routine)
    return [{n: bool(bits >> i & 1) for i, n in enumerate(names)} for bits in range(1, 2 ** len(names))]


def pattern_id(active):
    return "+".join(n for n, a in active.items() if a)
