"""Harness of the Enzyme tests: C++ sources that call dtrsv_/dtrsm_/dgetrf_/dgetrs_/dgesv_,
dtrtrs_/dgetri_, d/zpotrf_, d/zpotrs_, d/zposv_ (or their _64_ names) through
difflapack_enzyme.h, differentiated by Enzyme in four ways, and a NumPy/SciPy oracle of the same
BLAS/LAPACK semantics for central differences. Complex routines (the z rows) read the double
buffers as interleaved (re, im) pairs, leading dimensions in complex elements: the derivative
with respect to each double is then exactly what Enzyme's shadow of the buffer holds.

Every array travels in a fixed-size buffer of CAP doubles and every flag/size in a parameter
vector, so each distinct source is compiled ONCE (one jax.jit per source) and then reused for
all flag/shape cases.

Modes:  "rev"   __enzyme_autodiff inside the source (combined reverse)
        "fwd"   __enzyme_fwddiff inside the source
        "grad"  jax.jit(jax.grad(...)) over the cpp_call (Enzyme's split reverse mode)
        "jvp"   jax.jvp over the cpp_call (Enzyme's forward mode)
Activity: a dict {array name: bool}; in the jax modes a constant array is copied out of its
input by a function registered as inactive (Enzyme-JAX makes every float input active).
"""
from __future__ import annotations

import functools
import os

import numpy as np
import scipy.linalg as sla
from scipy.linalg import lapack

CAP = 64          # doubles per array buffer
NPRM = 24         # parameter slots
H = 1e-6          # central-difference step (buffers hold O(1) values)

jax = None


def _jax():
    global jax
    if jax is None:
        import jax as _j
        _j.config.update("jax_enable_x64", True)
        jax = _j
    return jax


# ----------------------------------------------------------------------------- routines
# Each routine: its double arrays (in call order: in/out first is "x"), whether it has alpha,
# the C statement (placeholders: INT integer type, SFX routine suffix, HID_k hidden lengths),
# and a NumPy oracle  out = primal(p, arrays) -> dict of output buffers.

def _cm(buf, rows, cols, ld):
    """rows x cols column-major view (copy) of a buffer with leading dimension ld."""
    if rows == 0 or cols == 0:
        return np.zeros((rows, cols))
    idx = np.arange(rows)[:, None] + ld * np.arange(cols)[None, :]
    return buf[idx]


def _put(buf, M, ld):
    rows, cols = M.shape
    if rows and cols:
        idx = np.arange(rows)[:, None] + ld * np.arange(cols)[None, :]
        buf[idx] = M


def _vec_idx(n, inc):
    start = 0 if inc > 0 else (1 - n) * inc
    return start + inc * np.arange(n)


def _tri(A, uplo, diag):
    T = np.triu(A) if uplo == "U" else np.tril(A)
    if diag == "U":
        np.fill_diagonal(T, 1.0)
    return T


def trsv_oracle(p, A, b, alpha=None):
    uplo, trans, diag, n, lda, inc = p["uplo"], p["trans"], p["diag"], p["n"], p["lda"], p["inc"]
    T = _tri(_cm(A, n, n, lda), uplo, diag)
    opT = T if trans == "N" else T.T
    x = b.copy()
    idx = _vec_idx(n, inc)
    if n:
        x[idx] = np.linalg.solve(opT, b[idx])
    return {"x": x}


def trsm_oracle(p, A, b, alpha):
    side, uplo, ta, diag, m, n, lda, ldb = (p[k] for k in ("side", "uplo", "transa", "diag", "m", "n", "lda", "ldb"))
    k = m if side == "L" else n
    T = _tri(_cm(A, k, k, lda), uplo, diag)
    opT = T if ta == "N" else T.T
    B = _cm(b, m, n, ldb)
    if m and n:
        X = alpha * (np.linalg.solve(opT, B) if side == "L" else np.linalg.solve(opT.T, B.T).T)
    else:
        X = B
    x = b.copy()
    _put(x, X, ldb)
    return {"x": x}


def getrf_oracle(p, A, b=None, alpha=None):
    m, n, lda = p["m"], p["n"], p["lda"]
    lu, piv, info = lapack.dgetrf(_cm(A, m, n, lda))
    x = A.copy()
    _put(x, lu, lda)
    return {"x": x}


def getrs_oracle(p, A, b, alpha=None):
    trans, n, nrhs, lda, ldb = p["trans"], p["n"], p["nrhs"], p["lda"], p["ldb"]
    LU = _cm(A, n, n, lda)
    B = _cm(b, n, nrhs, ldb)
    X, info = lapack.dgetrs(LU, np.asarray(p["ipiv"]) - 1, B, trans={"N": 0, "T": 1, "C": 2}[trans])
    x = b.copy()
    _put(x, X, ldb)
    return {"x": x}


def getri_oracle(p, A, b=None, alpha=None):
    n, lda = p["n"], p["lda"]
    x = A.copy()
    if n:
        X, info = lapack.dgetri(_cm(A, n, n, lda), np.asarray(p["ipiv"]) - 1)
        _put(x, X, lda)
    return {"x": x}


def trtrs_oracle(p, A, b, alpha=None):
    n = p["n"]
    if p["diag"] == "N" and n and np.any(np.diagonal(_cm(A, n, n, p["lda"])) == 0):
        return {"x": b.copy()}   # LAPACK's test comes first: B is left unchanged
    q = dict(p, side="L", transa=p["trans"], m=p["n"], n=p["nrhs"])
    return trsm_oracle(q, A, b, 1.0)


def gesv_oracle(p, A, b, alpha=None):
    n, nrhs, lda, ldb = p["n"], p["nrhs"], p["lda"], p["ldb"]
    lu, piv, X, info = lapack.dgesv(_cm(A, n, n, lda), _cm(b, n, nrhs, ldb))
    x, a = b.copy(), A.copy()
    _put(x, X, ldb)
    _put(a, lu, lda)
    return {"x": x, "lu": a}


def _complex_view(buf, cplx):
    """The buffer as the routine sees it: doubles, or (re, im) pairs (a view: writes go
    through)."""
    return buf.view(np.complex128) if cplx else buf


def _herm(M, uplo):
    """The Hermitian matrix LAPACK's potrf reads from the uplo triangle of M."""
    S = np.tril(M, -1) if uplo == "L" else np.triu(M, 1)
    return S + S.conj().T + np.diag(np.real(np.diagonal(M)))


def _cholesky(Av, uplo, n, lda):
    """(n x n block of the buffer with the factor on its uplo triangle, info)."""
    M = _cm(Av, n, n, lda)
    if n == 0:
        return M, 0
    potrf = lapack.get_lapack_funcs("potrf", (M,))
    c, info = potrf(M, lower=int(uplo == "L"), clean=0)
    return c, int(info)


def _cholesky_solve(c, B, uplo):
    if c.shape[0] == 0 or B.shape[1] == 0:
        return B
    X, info = lapack.get_lapack_funcs("potrs", (c, B))(c, B, lower=int(uplo == "L"))
    return X


def potrf_oracle(p, A, b=None, alpha=None, cplx=False):
    uplo, n, lda = p["uplo"], p["n"], p["lda"]
    x = A.copy()
    _put(_complex_view(x, cplx), _cholesky(_complex_view(A, cplx), uplo, n, lda)[0], lda)
    return {"x": x}


def potrs_oracle(p, A, b, alpha=None, cplx=False):
    uplo, n, nrhs, lda, ldb = p["uplo"], p["n"], p["nrhs"], p["lda"], p["ldb"]
    C = _cm(_complex_view(A, cplx), n, n, lda)
    X = _cholesky_solve(C, _cm(_complex_view(b, cplx), n, nrhs, ldb), uplo)
    x = b.copy()
    _put(_complex_view(x, cplx), X, ldb)
    return {"x": x}


def posv_oracle(p, A, b, alpha=None, cplx=False):
    """(X in b, factor in A); not positive definite: B unchanged, as LAPACK leaves it."""
    uplo, n, nrhs, lda, ldb = p["uplo"], p["n"], p["nrhs"], p["lda"], p["ldb"]
    c, info = _cholesky(_complex_view(A, cplx), uplo, n, lda)
    x, a = b.copy(), A.copy()
    if info == 0:
        _put(_complex_view(x, cplx), _cholesky_solve(c, _cm(_complex_view(b, cplx), n, nrhs, ldb), uplo), ldb)
    _put(_complex_view(a, cplx), c, lda)
    return {"x": x, "lu": a}


def _cholesky_routines():
    """potrf/potrs/posv (dpotrf_ ...) and their complex rows zpotrf/zpotrs/zposv."""
    rows = {}
    for p, cplx in (("", False), ("z", True)):
        c = "z" if cplx else "d"
        rows[p + "potrf"] = dict(arrays=("A",), alpha=False, outputs=("x",), complex=cplx,
                                 oracle=functools.partial(potrf_oracle, cplx=cplx), params=("uplo", "n", "lda"),
                                 call=c + "potrfSFX(&f0, &n, x, &lda, &info HID1);")
        rows[p + "potrs"] = dict(arrays=("A", "b"), alpha=False, outputs=("x",), complex=cplx,
                                 oracle=functools.partial(potrs_oracle, cplx=cplx),
                                 params=("uplo", "n", "nrhs", "lda", "ldb"),
                                 call=c + "potrsSFX(&f0, &n, &nrhs, A, &lda, x, &ldb, &info HID1);")
        rows[p + "posv"] = dict(arrays=("A", "b"), alpha=False, outputs=("x", "lu"), complex=cplx,
                                oracle=functools.partial(posv_oracle, cplx=cplx),
                                params=("uplo", "n", "nrhs", "lda", "ldb"),
                                call=c + "posvSFX(&f0, &n, &nrhs, lu, &lda, x, &ldb, &info HID1);")
    return rows


ROUTINES = {
    "trsv": dict(arrays=("A", "b"), alpha=False, outputs=("x",), oracle=trsv_oracle,
                 params=("uplo", "trans", "diag", "n", "lda", "inc"),
                 call="dtrsvSFX(&f0, &f1, &f2, &n, A, &lda, x, &inc HID3);"),
    "trsm": dict(arrays=("A", "b"), alpha=True, outputs=("x",), oracle=trsm_oracle,
                 params=("side", "uplo", "transa", "diag", "m", "n", "lda", "ldb"),
                 call="dtrsmSFX(&f0, &f1, &f2, &f3, &m, &n, &al, A, &lda, x, &ldb HID4);"),
    "getrf": dict(arrays=("A",), alpha=False, outputs=("x",), oracle=getrf_oracle,
                  params=("m", "n", "lda"),
                  call="dgetrfSFX(&m, &n, x, &lda, ipiv, &info);"),
    "getrs": dict(arrays=("A", "b"), alpha=False, outputs=("x",), oracle=getrs_oracle,
                  params=("trans", "n", "nrhs", "lda", "ldb", "ipiv"),
                  call="dgetrsSFX(&f0, &n, &nrhs, A, &lda, ipiv, x, &ldb, &info HID1);"),
    "gesv": dict(arrays=("A", "b"), alpha=False, outputs=("x", "lu"), oracle=gesv_oracle,
                 params=("n", "nrhs", "lda", "ldb"),
                 call="dgesvSFX(&n, &nrhs, lu, &lda, ipiv, x, &ldb, &info);"),
    "trtrs": dict(arrays=("A", "b"), alpha=False, outputs=("x",), oracle=trtrs_oracle,
                  params=("uplo", "trans", "diag", "n", "nrhs", "lda", "ldb"),
                  call="dtrtrsSFX(&f0, &f1, &f2, &n, &nrhs, A, &lda, x, &ldb, &info HID3);"),
    # the packed factors in x, with LAPACK's workspace query first (as Julia's getri! does)
    "getri": dict(arrays=("A",), alpha=False, outputs=("x",), oracle=getri_oracle,
                  params=("n", "lda", "ipiv"),
                  call="{ double wq[2]; INT lq = -1; dgetriSFX(&n, x, &lda, ipiv, wq, &lq, &info); "
                       "INT lw = (INT)wq[0]; double work[1024]; dgetriSFX(&n, x, &lda, ipiv, work, &lw, &info); }"),
    **_cholesky_routines(),
}
# routines whose in/out buffer starts as a copy of A (the others: of b)
def _has_b(routine):
    """Whether the routine has a right-hand side (getrf and potrf factor A only)."""
    return "b" in ROUTINES[routine]["arrays"]

FLAG_PARAMS = ("uplo", "trans", "diag", "side", "transa")
INT_PARAMS = ("n", "m", "lda", "ldb", "inc", "nrhs")


def encode_params(routine, p):
    """Parameter vector: flags as character codes, then ints, then ipiv (getrs)."""
    v = np.zeros(NPRM)
    k = 0
    for name in ROUTINES[routine]["params"]:
        if name == "ipiv":
            piv = np.asarray(p["ipiv"])
            v[k:k + len(piv)] = piv
            k += len(piv)
        elif name in FLAG_PARAMS:
            v[k] = ord(p[name])
            k += 1
        else:
            v[k] = p[name]
            k += 1
    return v


def _param_decls(routine, INT):
    lines, k, f = [], 0, 0
    for name in ROUTINES[routine]["params"]:
        if name == "ipiv":
            lines.append(f"INT ipiv[8]; for (int i = 0; i < 8; i++) ipiv[i] = (INT)prm[{k} + i];")
        elif name in FLAG_PARAMS:
            lines.append(f"char f{f} = (char)prm[{k}];")
            f += 1
            k += 1
        else:
            lines.append(f"INT {name} = (INT)prm[{k}];")
            k += 1
    if routine in ("getrf", "gesv"):
        lines.append("INT ipiv[8];")
    lines.append("INT info = 0; (void)info;")
    return "\n    ".join(lines).replace("INT", INT)


# ----------------------------------------------------------------------------- declarations
def user_declaration(routine, style, ilp64, hidden):
    """A user's own prototype of the routine (style: none | const | nonconst | before)."""
    if style in (None, "none"):
        return ""
    INT = "long long" if ilp64 == "longlong" else ("long" if ilp64 else "int")
    c = "const " if style != "nonconst" else ""
    L = ", unsigned long" if hidden else ""
    base = routine[1:] if routine.startswith("z") else routine
    name = ("z" if routine.startswith("z") else "d") + base + ("_64_" if ilp64 else "_")
    proto = {
        "trsv": f"void {name}({c}char*, {c}char*, {c}char*, {c}{INT}*, {c}double*, {c}{INT}*, double*, {c}{INT}*{L * 3});",
        "trsm": f"void {name}({c}char*, {c}char*, {c}char*, {c}char*, {c}{INT}*, {c}{INT}*, {c}double*, {c}double*, {c}{INT}*, double*, {c}{INT}*{L * 4});",
        "getrf": f"void {name}({c}{INT}*, {c}{INT}*, double*, {c}{INT}*, {INT}*, {INT}*);",
        "getrs": f"void {name}({c}char*, {c}{INT}*, {c}{INT}*, {c}double*, {c}{INT}*, {c}{INT}*, double*, {c}{INT}*, {INT}*{L});",
        "gesv": f"void {name}({c}{INT}*, {c}{INT}*, double*, {c}{INT}*, {INT}*, double*, {c}{INT}*, {INT}*);",
        "potrf": f"void {name}({c}char*, {c}{INT}*, double*, {c}{INT}*, {INT}*{L});",
        "potrs": f"void {name}({c}char*, {c}{INT}*, {c}{INT}*, {c}double*, {c}{INT}*, double*, {c}{INT}*, {INT}*{L});",
        "posv": f"void {name}({c}char*, {c}{INT}*, {c}{INT}*, double*, {c}{INT}*, double*, {c}{INT}*, {INT}*{L});",
        "trtrs": f"void {name}({c}char*, {c}char*, {c}char*, {c}{INT}*, {c}{INT}*, {c}double*, {c}{INT}*, double*, {c}{INT}*, {INT}*{L * 3});",
        "getri": f"void {name}({c}{INT}*, double*, {c}{INT}*, {c}{INT}*, double*, {c}{INT}*, {INT}*);",
    }[base]
    return 'extern "C" ' + proto + "\n"


PRELUDE = r"""
extern "C" {
double __enzyme_autodiff(void*, ...);
double __enzyme_fwddiff(void*, ...);
extern int enzyme_dup, enzyme_const, enzyme_out, enzyme_dupnoneed;
}
"""


# Enzyme-JAX makes every float input of a cpp_call active; a constant array is copied out of
# its input by a function Enzyme is told is inactive.
CONST_COPY = r"""
__attribute__((noinline)) static void const_copy(double* dst, const double* src, int n) {
    for (int i = 0; i < n; i++) dst[i] = src[i];
}
extern "C" { __attribute__((used)) void* __enzyme_inactivefn_test_const_copy[1] = {(void*)const_copy}; }
"""


def _call(routine, ilp64, hidden):
    c = ROUTINES[routine]["call"]
    c = c.replace("SFX", "_64_" if ilp64 else "_").replace("INT", _int_type(ilp64))
    for k in (1, 3, 4):
        c = c.replace(f" HID{k}", "".join(", 1" for _ in range(k)) if hidden else "")
    return c


def _int_type(ilp64):
    return "long long" if ilp64 == "longlong" else ("long" if ilp64 else "int")


def build_source(routine, mode, active, *, decl="none", ilp64=False, hidden=False, overwrite=False,
                 local_x=False):
    """The C++ source of one test program (see module docstring)."""
    R = ROUTINES[routine]
    INT = _int_type(ilp64)
    decl_text = user_declaration(routine, decl, ilp64, hidden)
    head = (decl_text + '#include "difflapack_enzyme.h"\n') if decl == "before" else \
        ('#include "difflapack_enzyme.h"\n' + decl_text)
    params = _param_decls(routine, INT)
    call = _call(routine, ilp64, hidden)
    has_lu = "lu" in R["outputs"]
    # the body shared by every mode: x (and lu) start as copies of b (A), the call, the loss
    if not _has_b(routine):
        init = "for (int i = 0; i < CAP; i++) x[i] = A[i];"
    else:
        init = "for (int i = 0; i < CAP; i++) x[i] = b[i];"
    if has_lu:
        init += " for (int i = 0; i < CAP; i++) lu[i] = A[i];"
    loss = "double s = 0; for (int i = 0; i < CAP; i++) s += w[i] * x[i];"
    if has_lu:
        loss += " for (int i = 0; i < CAP; i++) s += w[CAP + i] * lu[i];"
    scribble = ""
    if overwrite:   # the caller overwrites every input and output after the call
        scribble = "for (int i = 0; i < CAP; i++) { x[i] = -7.0; A[i] = 100.0 + i; }"
        if _has_b(routine):
            scribble += " for (int i = 0; i < CAP; i++) b[i] = 3.0;"
        if has_lu:
            scribble += " for (int i = 0; i < CAP; i++) lu[i] = 5.0;"
        if routine in ("getrs", "getri"):
            scribble += " for (int i = 0; i < 8; i++) ipiv[i] = 1;"
    al = "double al = alpha;" if R["alpha"] else ""
    src = [PRELUDE, head, f"#define CAP {CAP}\n"]
    if mode in ("rev", "fwd"):
        src.append("static double prm[%d];\n" % NPRM)
        xdecl = "double x[CAP];" if local_x else ""
        xarg = "" if local_x else "double* x, "
        ludecl = "double lu[CAP];" if has_lu else ""
        bdecl = "double* b, " if _has_b(routine) else ""
        aldecl = "double alpha, " if R["alpha"] else ""
        src.append(f"""
static double user({xarg}double* A, {bdecl}{aldecl}const double* w) {{
    {xdecl} {ludecl}
    {params}
    {al}
    {init}
    {call}
    {loss}
    {scribble}
    return s;
}}
""")
        nw = 2 * CAP if has_lu else CAP
        args_in = ["const enzyme::tensor<double, CAP>& Ain"]
        if _has_b(routine):
            args_in.append("const enzyme::tensor<double, CAP>& bin")
        if R["alpha"]:
            args_in.append("const enzyme::tensor<double, 1>& alin")
        args_in += [f"const enzyme::tensor<double, {nw}>& win", f"const enzyme::tensor<double, {NPRM}>& pin"]
        # seeds (fwd): dA, db, dalpha inputs
        if mode == "fwd":
            args_in.insert(-2, "const enzyme::tensor<double, CAP>& dAin")
            if _has_b(routine):
                args_in.insert(-2, "const enzyme::tensor<double, CAP>& dbin")
            if R["alpha"]:
                args_in.insert(-2, "const enzyme::tensor<double, 1>& dalin")
        nout = 2 + 2 * CAP + 1
        body = [f"void myfn(enzyme::tensor<double, {nout}>& out, " + ", ".join(args_in) + ") {",
                f"  for (int i = 0; i < {NPRM}; i++) prm[i] = pin[i];",
                "  double A[CAP], gA[CAP], b[CAP], gb[CAP], x[CAP], gx[CAP], w[2 * CAP];",
                "  for (int i = 0; i < CAP; i++) { A[i] = Ain[i]; gA[i] = 0; x[i] = 0; gx[i] = 0; b[i] = 0; gb[i] = 0; }",
                f"  for (int i = 0; i < {nw}; i++) w[i] = win[i];"]
        if _has_b(routine):
            body.append("  for (int i = 0; i < CAP; i++) b[i] = bin[i];")
        if R["alpha"]:
            body.append("  double alpha = alin[0], galpha = 0;")
        plain = ([] if local_x else ["xc"]) + ["Ac"] + (["bc"] if _has_b(routine) else []) + \
            (["alpha"] if R["alpha"] else []) + ["w"]
        body.append("  { double Ac[CAP], bc[CAP], xc[CAP]; for (int i = 0; i < CAP; i++) { Ac[i] = A[i]; bc[i] = b[i]; xc[i] = 0; }")
        body.append("    out[0] = user(" + ", ".join(plain) + "); (void)bc; (void)xc; }")
        ad = []
        if not local_x:
            ad.append("enzyme_dup, x, gx" if mode == "rev" else "enzyme_dup, x, gx")
        for name in R["arrays"]:
            g = "g" + name if mode == "rev" else "d" + name
            ad.append(f"enzyme_dup, {name}, {g}" if active[name] else f"enzyme_const, {name}")
        if R["alpha"]:
            if mode == "rev":
                ad.append("enzyme_out, alpha" if active["alpha"] else "enzyme_const, alpha")
            else:
                ad.append("enzyme_dup, alpha, dalpha" if active["alpha"] else "enzyme_const, alpha")
        ad.append("enzyme_const, w")
        if mode == "rev":
            ret = "  galpha = " if R["alpha"] and active["alpha"] else "  "
            body.append(ret + "__enzyme_autodiff((void*)user, " + ", ".join(ad) + ");")
            body.append("  for (int i = 0; i < CAP; i++) { out[2 + i] = gA[i]; out[2 + CAP + i] = gb[i]; }")
            if R["alpha"]:
                body.append(f"  out[{nout - 1}] = galpha;")
        else:
            body.append("  double dA[CAP], db[CAP]; for (int i = 0; i < CAP; i++) { dA[i] = dAin[i]; db[i] = 0; }")
            if _has_b(routine):
                body.append("  for (int i = 0; i < CAP; i++) db[i] = dbin[i];")
            if R["alpha"]:
                body.append("  double dalpha = dalin[0];")
            body.append("  out[1] = __enzyme_fwddiff((void*)user, " + ", ".join(ad) + ");")
        body.append("}")
        src.append("\n".join(body))
    else:   # jax modes: the routine inside the cpp_call itself
        ins = []
        for name in R["arrays"]:
            ins.append(f"const enzyme::tensor<double, CAP>& {name}in")
        if R["alpha"]:
            ins.append("const enzyme::tensor<double, 1>& alin")
        ins.append(f"const enzyme::tensor<double, {NPRM}>& prm")
        nout = CAP * len(R["outputs"])
        loads = []
        for name in R["arrays"]:
            if active[name]:
                loads.append(f"for (int i = 0; i < CAP; i++) {name}[i] = {name}in[i];")
            else:
                loads.append(f"const_copy({name}, &{name}in[0], CAP);")
        if R["alpha"]:
            loads.append("double alpha; " + ("alpha = alin[0];" if active["alpha"] else
                                              "const_copy(&alpha, &alin[0], 1);"))
        decls = "double " + ", ".join(f"{n}[CAP]" for n in R["arrays"]) + ", x[CAP];"
        if not _has_b(routine):
            decls = "double A[CAP], x[CAP];"
        if has_lu:
            decls += " double lu[CAP];"
        store = "for (int i = 0; i < CAP; i++) out[i] = x[i];"
        if has_lu:
            store += " for (int i = 0; i < CAP; i++) out[CAP + i] = lu[i];"
        src.append(CONST_COPY)
        src.append(f"""
void myfn(enzyme::tensor<double, {nout}>& out, {", ".join(ins)}) {{
    {decls}
    {" ".join(loads)}
    {params}
    {al}
    {init}
    {call}
    {store}
    {scribble if overwrite else ""}
}}
""")
    return "".join(src)


# ----------------------------------------------------------------------------- running
class Program:
    """One compiled source; call .run(case) for any flag/shape case."""

    def __init__(self, routine, mode, active, **opts):
        self.routine, self.mode, self.active, self.opts = routine, mode, dict(active), opts
        self.R = ROUTINES[routine]
        self.source = build_source(routine, mode, active, **opts)
        self.log = ""
        self._fn = None

    def _inputs(self, case):
        """Positional inputs of the cpp_call for a case."""
        R, a = self.R, case["arrays"]
        if self.mode in ("rev", "fwd"):
            xs = [a["A"]]
            if _has_b(self.routine):
                xs.append(a["b"])
            if R["alpha"]:
                xs.append(np.array([case["alpha"]]))
            if self.mode == "fwd":
                d = case["dirs"]
                xs.append(d["A"] if self.active["A"] else np.zeros(CAP))
                if _has_b(self.routine):
                    xs.append(d["b"] if self.active["b"] else np.zeros(CAP))
                if R["alpha"]:
                    xs.append(np.array([d["alpha"] if self.active["alpha"] else 0.0]))
            xs.append(case["w"])
            xs.append(encode_params(self.routine, case["p"]))
            return xs
        xs = [a[name] for name in R["arrays"]]
        if R["alpha"]:
            xs.append(np.array([case["alpha"]]))
        xs.append(encode_params(self.routine, case["p"]))
        return xs

    def _build(self, case):
        J = _jax()
        import jax.numpy as jnp
        from difflapack import enzyme
        enzyme.load()
        R = self.R
        if self.mode in ("rev", "fwd"):
            nout = 2 + 2 * CAP + 1
        else:
            nout = CAP * len(R["outputs"])
        out_shapes = [J.core.ShapedArray([nout], jnp.float64)]
        argv = tuple(enzyme.cflags())

        def call(*xs):
            from enzyme_ad.jax import cpp_call
            return cpp_call(*xs, out_shapes=out_shapes, source=self.source, fn="myfn", argv=argv)[0]

        act_idx = [i for i, name in enumerate(R["arrays"]) if self.active[name]]
        if R["alpha"] and self.active["alpha"]:
            act_idx.append(len(R["arrays"]))
        if self.mode in ("rev", "fwd"):
            fn = J.jit(call)
        elif self.mode == "jvp":
            def fn(*xs_and_dirs):
                k = len(xs_and_dirs) // 2
                xs, ds = xs_and_dirs[:k], xs_and_dirs[k:]
                tangents = tuple(ds[i] if i in act_idx else _zero_tangent(xs[i]) for i in range(k))
                return J.jvp(call, xs, tangents)
            fn = J.jit(fn)
        else:
            def loss(*xs_and_w):
                xs, w = xs_and_w[:-1], xs_and_w[-1]
                return jnp.sum(call(*xs) * w)
            fn = J.jit(J.grad(loss, argnums=tuple(act_idx)))
        specs = self._inputs(case)
        if self.mode == "jvp":
            specs = specs + specs
        elif self.mode == "grad":
            specs = specs + [case["w"]]
        with enzyme.captured_stderr() as log:
            lowered = fn.lower(*specs)
            compiled = lowered.compile()
        self.log = enzyme._strip_ansi(log[0])
        enzyme.check_log(self.log, f"{self.routine}/{self.mode}")
        self._fn = compiled
        self._act_idx = act_idx

    def run(self, case):
        """Returns dict with the derivative results of this program for `case`."""
        if self._fn is None:
            self._build(case)
        xs = self._inputs(case)
        R = self.R
        if self.mode == "rev":
            r = np.asarray(self._fn(*xs))
            res = {"loss": r[0], "A": r[2:2 + CAP], "b": r[2 + CAP:2 + 2 * CAP]}
            if R["alpha"]:
                res["alpha"] = r[-1]
            return res
        if self.mode == "fwd":
            r = np.asarray(self._fn(*xs))
            return {"loss": r[0], "dloss": r[1]}
        if self.mode == "jvp":
            ds = []
            for i, name in enumerate(R["arrays"]):
                ds.append(case["dirs"][name] if self.active[name] else np.zeros_like(xs[i]))
            if R["alpha"]:
                ds.append(np.array([case["dirs"]["alpha"]]) if self.active["alpha"] else np.zeros(1))
            ds.append(np.zeros(NPRM))
            prim, tan = self._fn(*(xs + ds))
            return {"out": np.asarray(prim), "dout": np.asarray(tan)}
        g = self._fn(*(xs + [case["w"]]))
        res = {}
        for k, i in enumerate(self._act_idx):
            name = R["arrays"][i] if i < len(R["arrays"]) else "alpha"
            res[name] = np.asarray(g[k]).reshape(-1)
            if name == "alpha":
                res[name] = float(res[name][0])
        return res


def _zero_tangent(x):
    J = _jax()
    if np.issubdtype(x.dtype, np.integer):
        return np.zeros(np.shape(x), dtype=J.dtypes.float0)
    return J.numpy.zeros_like(x)


@functools.lru_cache(maxsize=None)
def program(routine, mode, active_items, **opts):
    return Program(routine, mode, dict(active_items), **opts)


def get_program(routine, mode, active, **opts):
    return program(routine, mode, tuple(sorted(active.items())), **opts)


# ----------------------------------------------------------------------------- oracle
def oracle_outputs(routine, case, A=None, b=None, alpha=None):
    a = case["arrays"]
    A = a["A"] if A is None else A
    b = a.get("b") if b is None else b
    alpha = case.get("alpha") if alpha is None else alpha
    out = ROUTINES[routine]["oracle"](case["p"], A, b, alpha)
    return np.concatenate([out[k] for k in ROUTINES[routine]["outputs"]])


def oracle_loss(routine, case, **kw):
    return float(np.dot(case["w"], oracle_outputs(routine, case, **kw)))


def fd_gradient(routine, case, name):
    """Central differences of the loss with respect to every entry of one input."""
    if name == "alpha":
        al = case["alpha"]
        return (oracle_loss(routine, case, alpha=al + H) - oracle_loss(routine, case, alpha=al - H)) / (2 * H)
    base = case["arrays"][name]
    g = np.zeros(CAP)
    for i in range(CAP):
        e = np.zeros(CAP)
        e[i] = H
        g[i] = (oracle_loss(routine, case, **{name: base + e}) - oracle_loss(routine, case, **{name: base - e})) / (2 * H)
    return g


def fd_tangent(routine, case, active):
    """Central difference of the outputs along the case's directions of the active inputs."""
    d = case["dirs"]

    def at(s):
        kw = {}
        for name in ROUTINES[routine]["arrays"]:
            if active[name]:
                kw[name] = case["arrays"][name] + s * d[name]
        if ROUTINES[routine]["alpha"] and active["alpha"]:
            kw["alpha"] = case["alpha"] + s * d["alpha"]
        return oracle_outputs(routine, case, **kw)

    return (at(H) - at(-H)) / (2 * H)


# ----------------------------------------------------------------------------- cases
def _well_conditioned_triangle(r, k):
    T = r.standard_normal((k, k)) / np.sqrt(max(k, 1))
    np.fill_diagonal(T, np.sign(r.standard_normal(k)) * (1.5 + r.random(k)))
    return T


def make_case(routine, p, seed=0, alpha=1.3):
    """Buffers (random everywhere, incl. the parts BLAS must not touch), weights, directions."""
    r = np.random.default_rng(seed)
    p = dict(p)
    arrays = {"A": r.standard_normal(CAP), "b": r.standard_normal(CAP)}
    if routine in ("trsv", "trsm", "trtrs"):
        k = p["m"] if routine == "trsm" and p["side"] == "L" else p["n"]
        T = _well_conditioned_triangle(r, k)
        full = _cm(arrays["A"], k, k, p["lda"])
        mask = np.triu(np.ones((k, k), bool)) if p["uplo"] == "U" else np.tril(np.ones((k, k), bool))
        full[mask] = T[mask]
        if p["diag"] == "U":
            np.fill_diagonal(full, 7.0)     # garbage BLAS ignores
            full[mask & ~np.eye(k, dtype=bool)] *= 0.3
        _put(arrays["A"], full, p["lda"])
    elif routine in ("getrf", "gesv"):
        m, n = (p["m"], p["n"]) if routine == "getrf" else (p["n"], p["n"])
        M = r.standard_normal((m, n))
        kk = min(m, n)
        M[:kk, :kk] += 2.0 * np.sqrt(kk) * np.eye(kk)[:, ::-1] if kk > 1 else 3.0 * np.eye(kk)
        _put(arrays["A"], M, p["lda"])
    elif routine in ("getrs", "getri"):
        n = p["n"]
        p["ipiv"] = ()
        if n:   # (SciPy's wrappers reject n = 0)
            M = r.standard_normal((n, n)) + 2.0 * np.sqrt(n) * np.eye(n)[:, ::-1]
            lu, piv, info = lapack.dgetrf(M)
            _put(arrays["A"], lu, p["lda"])
            p["ipiv"] = tuple(int(v) + 1 for v in piv)
    elif "cholesky" in _family(routine):
        _put_cholesky_case(routine, p, r, arrays["A"])
    nout = CAP * len(ROUTINES[routine]["outputs"])
    return {"p": p, "arrays": arrays, "alpha": alpha, "w": r.standard_normal(nout),
            "dirs": {"A": r.standard_normal(CAP), "b": r.standard_normal(CAP), "alpha": 0.7}}


def _family(routine):
    base = routine[1:] if routine.startswith("z") else routine
    return "cholesky" if base in ("potrf", "potrs", "posv") else base


def _hpd(r, n, cplx):
    M = r.standard_normal((n, n)) + (1j * r.standard_normal((n, n)) if cplx else 0)
    return M @ M.conj().T / max(n, 1) + np.eye(n)


def _put_cholesky_case(routine, p, r, A):
    """A Hermitian positive definite matrix on the stored triangle (potrf, posv; Im of the
    diagonal and the other triangle stay garbage LAPACK ignores) or its factor (potrs; for
    complex data with a complex diagonal, which potrs reads as stored)."""
    cplx = ROUTINES[routine]["complex"]
    n, uplo = p["n"], p["uplo"]
    if n == 0:
        return
    view = _complex_view(A, cplx)
    full = _cm(view, n, n, p["lda"])
    S = _hpd(r, n, cplx)
    if routine.endswith("potrs"):
        S = np.linalg.cholesky(S) if uplo == "L" else np.linalg.cholesky(S).conj().T
        if cplx:
            S = S @ np.diag(np.exp(0.4j * r.standard_normal(n))) if uplo == "U" else \
                np.diag(np.exp(0.4j * r.standard_normal(n))) @ S
    mask = np.triu(np.ones((n, n), bool)) if uplo == "U" else np.tril(np.ones((n, n), bool))
    keep_imag = np.imag(np.diagonal(full)) if cplx else 0
    full[mask] = S[mask]
    if cplx and not routine.endswith("potrs"):
        full[np.diag_indices(n)] += 1j * keep_imag     # garbage potrf ignores
    _put(view, full, p["lda"])


def kappa(routine, case):
    p, A = case["p"], case["arrays"]["A"]
    if _family(routine) == "cholesky":
        n, cplx = p["n"], ROUTINES[routine]["complex"]
        M = _cm(_complex_view(A, cplx), n, n, p["lda"])
        if n == 0:
            return 1.0
        if routine.endswith("potrs"):
            return max(np.linalg.cond(np.tril(M) if p["uplo"] == "L" else np.triu(M)) ** 2, 1.0)
        return max(np.linalg.cond(_herm(M, p["uplo"])), 1.0)
    if routine in ("trsv", "trsm", "trtrs"):
        k = p["m"] if routine == "trsm" and p["side"] == "L" else p["n"]
        return max(np.linalg.cond(_tri(_cm(A, k, k, p["lda"]), p["uplo"], p["diag"])) if k else 1.0, 1.0)
    if routine in ("getrs", "getri"):
        n = p["n"]
        if n == 0:
            return 1.0
        LU = _cm(A, n, n, p["lda"])
        return max(np.linalg.cond(np.tril(LU, -1) + np.eye(n)) * np.linalg.cond(np.triu(LU)), 1.0)
    if routine == "getrf":
        return max(np.linalg.cond(_cm(A, p["m"], p["n"], p["lda"])), 1.0)
    n = p["n"]
    return max(np.linalg.cond(_cm(A, n, n, p["lda"])), 1.0)


def check(prog, case, rtol_scale=1.0):
    """Run one program on one case and compare with central differences. Returns max error."""
    routine, mode, active = prog.routine, prog.mode, prog.active
    res = prog.run(case)
    tol = rtol_scale * 1e-6 * kappa(routine, case) ** 2
    worst = 0.0
    if mode == "rev" or mode == "grad":
        names = [n for n in ROUTINES[routine]["arrays"] if active[n]]
        if ROUTINES[routine]["alpha"] and active["alpha"]:
            names.append("alpha")
        if mode == "rev":
            want_loss = oracle_loss(routine, case)
            assert abs(res["loss"] - want_loss) <= tol * max(1, abs(want_loss)), (res["loss"], want_loss)
        for name in names:
            got, want = np.asarray(res[name]), np.asarray(fd_gradient(routine, case, name))
            err = np.abs(got - want).max() / max(1.0, np.abs(want).max())
            worst = max(worst, err)
            assert err <= tol, f"{routine}/{mode} {active} d{name}: err {err:.2e} > {tol:.1e}\n got {got}\nwant {want}"
        if mode == "rev":   # inactive inputs get no gradient
            for name in ROUTINES[routine]["arrays"]:
                if not active[name]:
                    assert np.all(res[name] == 0), f"{routine}/{mode}: constant {name} got a gradient"
    elif mode == "fwd":
        want = float(np.dot(case["w"], fd_tangent(routine, case, active)))
        err = abs(res["dloss"] - want) / max(1.0, abs(want))
        worst = err
        assert err <= tol, f"{routine}/fwd {active}: {res['dloss']} vs {want}"
    else:
        want = fd_tangent(routine, case, active)
        out = oracle_outputs(routine, case)
        assert np.allclose(res["out"], out, rtol=1e-10 * kappa(routine, case), atol=1e-10 * kappa(routine, case)), "primal"
        err = np.abs(res["dout"] - want).max() / max(1.0, np.abs(want).max())
        worst = err
        assert err <= tol, f"{routine}/jvp {active}: err {err:.2e}\n got {res['dout']}\nwant {want}"
    return worst


def activity_patterns(routine):
    """Every subset of active inputs with at least one active (the in/out array is then active)."""
    names = list(ROUTINES[routine]["arrays"]) + (["alpha"] if ROUTINES[routine]["alpha"] else [])
    pats = []
    for bits in range(1, 2 ** len(names)):
        pats.append({n: bool(bits >> i & 1) for i, n in enumerate(names)})
    return pats


def pattern_id(active):
    return "+".join(n for n, a in active.items() if a) or "none"
