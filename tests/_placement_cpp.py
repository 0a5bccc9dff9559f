"""C++ generation of the placement matrix: one program per Cell (see tests/_placement.py).

impl 'dl' calls the routine through difflapack_enzyme.h; impl 'ref' is the CONTROL: the same
program with plain-loop reference implementations (REFERENCE: column-major, the routines'
documented semantics, one template over the element type; complex numbers as a struct of two
reals with the arithmetic spelled out, so that no complex division or __muldc3 call reaches
Enzyme). They are plain static functions: marked noinline they crash every build, as Enzyme
0.0.16 gives the derivative 'alwaysinline' next to the primal's 'noinline'.
"""
from __future__ import annotations

import numpy as np

from _placement_model import ELEMS, NPIV, NPRM, PAD, ROUTINES, WORK, input_length

PRELUDE = r"""
extern "C" {
void* malloc(unsigned long);
void free(void*);
void* memcpy(void*, const void*, unsigned long);
double __enzyme_autodiff(void*, ...);
double __enzyme_fwddiff(void*, ...);
extern int enzyme_dup, enzyme_const, enzyme_out, enzyme_dupnoneed;
}
"""

# Enzyme-JAX makes every float input of a cpp_call active: in the jax modes a constant input is
# copied out of its tensor by a function Enzyme is told is inactive.
CONST_COPY = r"""
__attribute__((noinline)) static void const_copy(double* dst, const double* src, int n) {
    for (int i = 0; i < n; i++) dst[i] = src[i];
}
extern "C" { __attribute__((used)) void* __enzyme_inactivefn_placement_const_copy[1] = {(void*)const_copy}; }
"""

REFERENCE = r"""
extern "C" { double sqrt(double); float sqrtf(float); }
namespace ref {
template <class R> struct cx { R re, im; };
static inline double rsqrt_(double v) { return sqrt(v); }
static inline float rsqrt_(float v) { return sqrtf(v); }
template <class R> static inline R re(R a) { return a; }
template <class R> static inline R re(cx<R> a) { return a.re; }
template <class R> static inline R abs1(R a) { return a < 0 ? -a : a; }
template <class R> static inline R abs1(cx<R> a) { return abs1(a.re) + abs1(a.im); }
template <class R> static inline R cj(R a, int c) { return a; }
template <class R> static inline cx<R> cj(cx<R> a, int c) { return c ? cx<R>{a.re, -a.im} : a; }
template <class R> static inline cx<R> operator+(cx<R> a, cx<R> b) { return {a.re + b.re, a.im + b.im}; }
template <class R> static inline cx<R> operator-(cx<R> a, cx<R> b) { return {a.re - b.re, a.im - b.im}; }
template <class R> static inline cx<R> operator*(cx<R> a, cx<R> b) {
    return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
template <class R> static inline cx<R> operator*(cx<R> a, R s) { return {a.re * s, a.im * s}; }
template <class R> static inline bool operator!=(cx<R> a, R s) { return a.re != s || a.im != 0; }
template <class R> static inline R dv(R a, R b) { return a / b; }
template <class R> static inline cx<R> dv(cx<R> a, cx<R> b) {     /* a conj(b) / |b|^2 by reals */
    R s = (R)1 / (b.re * b.re + b.im * b.im);
    return {(a.re * b.re + a.im * b.im) * s, (a.im * b.re - a.re * b.im) * s};
}
template <class E> static inline E one() { return E{1}; }
static inline int is(const char* a, char b) { return (*a | 32) == (b | 32); }
/* op(T) X = alpha B (side L) or X op(T) = alpha B (side R), T triangular */
template <class E> static void trsm(const char* side, const char* uplo, const char* tr, const char* diag,
                                    int m, int n, E alpha, const E* A, int lda, E* B, int ldb) {
    int left = is(side, 'L'), nt = is(tr, 'N'), c = is(tr, 'C'), unit = is(diag, 'U');
    int lower = is(uplo, 'L') == nt;                 /* op(T) lower */
    int k = left ? m : n;
    for (int j = 0; j < n; j++) for (int i = 0; i < m; i++) B[i + j * ldb] = alpha * B[i + j * ldb];
    for (int v = 0; v < (left ? n : m); v++) {      /* one column (L) or row (R) of X */
        int inc = left ? 1 : ldb;
        E* x = left ? B + v * ldb : B + v;
        /* side R: x op(T) = b  <=>  op(T)^T x^T = b^T, lower iff op(T) is upper */
        int low = left ? lower : !lower;
        for (int s = 0; s < k; s++) {
            int j = low ? s : k - 1 - s;
            E t = x[j * inc];
            for (int q = 0; q < s; q++) {
                int i = low ? q : k - 1 - q;
                int r = left ? j : i, col = left ? i : j;   /* op(T)(r, col) */
                E a = nt ? A[r + col * lda] : cj(A[col + r * lda], c);
                t = t - a * x[i * inc];
            }
            if (!unit) t = dv(t, nt ? A[j + j * lda] : cj(A[j + j * lda], c));
            x[j * inc] = t;
        }
    }
}
template <class E> static void trsv_inc(const char* uplo, const char* tr, const char* diag, int n, const E* A,
                                        int lda, E* x, int inc) {
    E v[64];
    int kx = inc > 0 ? 0 : -(n - 1) * inc;
    for (int i = 0; i < n; i++) v[i] = x[kx + i * inc];
    trsm<E>("L", uplo, tr, diag, n, 1, one<E>(), A, lda, v, n > 0 ? n : 1);
    for (int i = 0; i < n; i++) x[kx + i * inc] = v[i];
}
template <class E> static int getrf(int m, int n, E* A, int lda, int* ipiv) {
    int k = m < n ? m : n, info = 0;
    for (int j = 0; j < k; j++) {
        int p = j;
        auto best = abs1(A[j + j * lda]);
        for (int i = j + 1; i < m; i++) if (abs1(A[i + j * lda]) > best) { best = abs1(A[i + j * lda]); p = i; }
        ipiv[j] = p + 1;
        if (best != 0) {
            if (p != j) for (int c = 0; c < n; c++) { E t = A[j + c * lda]; A[j + c * lda] = A[p + c * lda]; A[p + c * lda] = t; }
            for (int i = j + 1; i < m; i++) A[i + j * lda] = dv(A[i + j * lda], A[j + j * lda]);
        } else if (info == 0) {
            info = j + 1;
        }
        for (int c = j + 1; c < n; c++)
            for (int i = j + 1; i < m; i++) A[i + c * lda] = A[i + c * lda] - A[i + j * lda] * A[j + c * lda];
    }
    return info;
}
template <class E> static void getrs(const char* tr, int n, int nrhs, const E* A, int lda, const int* ipiv, E* B,
                                     int ldb) {
    if (is(tr, 'N')) {
        for (int c = 0; c < nrhs; c++)
            for (int i = 0; i < n; i++) { int p = ipiv[i] - 1; if (p != i) { E t = B[i + c * ldb]; B[i + c * ldb] = B[p + c * ldb]; B[p + c * ldb] = t; } }
        trsm<E>("L", "L", "N", "U", n, nrhs, one<E>(), A, lda, B, ldb);
        trsm<E>("L", "U", "N", "N", n, nrhs, one<E>(), A, lda, B, ldb);
    } else {
        trsm<E>("L", "U", tr, "N", n, nrhs, one<E>(), A, lda, B, ldb);
        trsm<E>("L", "L", tr, "U", n, nrhs, one<E>(), A, lda, B, ldb);
        for (int c = 0; c < nrhs; c++)
            for (int i = n - 1; i >= 0; i--) { int p = ipiv[i] - 1; if (p != i) { E t = B[i + c * ldb]; B[i + c * ldb] = B[p + c * ldb]; B[p + c * ldb] = t; } }
    }
}
template <class E> static void getri(int n, E* A, int lda, const int* ipiv, E* work, int lwork) {
    if (lwork == -1) { work[0] = E{(decltype(re(work[0])))(n > 1 ? n : 1)}; return; }
    E LU[64], X[64];
    for (int j = 0; j < n; j++) for (int i = 0; i < n; i++) { LU[i + j * n] = A[i + j * lda]; X[i + j * n] = E{0}; }
    for (int i = 0; i < n; i++) X[i + i * n] = one<E>();
    getrs<E>("N", n, n, LU, n, ipiv, X, n);
    for (int j = 0; j < n; j++) for (int i = 0; i < n; i++) A[i + j * lda] = X[i + j * n];
}
/* Cholesky of the Hermitian matrix on the uplo triangle (Im of the diagonal not read) */
template <class E> static int potrf(const char* uplo, int n, E* A, int lda) {
    int lo = is(uplo, 'L');
    for (int j = 0; j < n; j++) {
        auto d = re(A[j + j * lda]);
        for (int k = 0; k < j; k++) { E l = lo ? A[j + k * lda] : A[k + j * lda]; d -= re(cj(l, 1) * l); }
        if (!(d > 0)) return j + 1;
        d = rsqrt_(d);
        A[j + j * lda] = E{d};
        auto rd = (decltype(d))1 / d;
        for (int i = j + 1; i < n; i++) {
            if (lo) {       /* L(i,j) = (A(i,j) - sum_k L(i,k) conj(L(j,k))) / L(j,j) */
                E t = A[i + j * lda];
                for (int k = 0; k < j; k++) t = t - A[i + k * lda] * cj(A[j + k * lda], 1);
                A[i + j * lda] = t * rd;
            } else {        /* U(j,i) = (A(j,i) - sum_k conj(U(k,j)) U(k,i)) / U(j,j) */
                E t = A[j + i * lda];
                for (int k = 0; k < j; k++) t = t - cj(A[k + j * lda], 1) * A[k + i * lda];
                A[j + i * lda] = t * rd;
            }
        }
    }
    return 0;
}
template <class E> static void potrs(const char* uplo, int n, int nrhs, const E* A, int lda, E* B, int ldb) {
    if (is(uplo, 'L')) {
        trsm<E>("L", "L", "N", "N", n, nrhs, one<E>(), A, lda, B, ldb);
        trsm<E>("L", "L", "C", "N", n, nrhs, one<E>(), A, lda, B, ldb);
    } else {
        trsm<E>("L", "U", "C", "N", n, nrhs, one<E>(), A, lda, B, ldb);
        trsm<E>("L", "U", "N", "N", n, nrhs, one<E>(), A, lda, B, ldb);
    }
}
}  // namespace ref
"""

# the Fortran names the call templates use, per precision: ref::<E> over the storage's bytes
WRAPPERS = r"""
typedef REAL_T ref_real;
typedef ELEM_T ref_e;
static void Ptrsv_(const char* u, const char* t, const char* d, const int* n, const void* A, const int* lda, void* x,
                   const int* inc) { ref::trsv_inc<ref_e>(u, t, d, *n, (const ref_e*)A, *lda, (ref_e*)x, *inc); }
static void Ptrsm_(const char* s, const char* u, const char* t, const char* d, const int* m, const int* n,
                   const void* al, const void* A, const int* lda, void* B, const int* ldb) {
    ref::trsm<ref_e>(s, u, t, d, *m, *n, *(const ref_e*)al, (const ref_e*)A, *lda, (ref_e*)B, *ldb);
}
static void Pgetrf_(const int* m, const int* n, void* A, const int* lda, int* ipiv, int* info) {
    *info = ref::getrf<ref_e>(*m, *n, (ref_e*)A, *lda, ipiv);
}
static void Pgetrs_(const char* t, const int* n, const int* nrhs, const void* A, const int* lda, const int* ipiv,
                    void* B, const int* ldb, int* info) {
    *info = 0; ref::getrs<ref_e>(t, *n, *nrhs, (const ref_e*)A, *lda, ipiv, (ref_e*)B, *ldb);
}
static void Pgesv_(const int* n, const int* nrhs, void* A, const int* lda, int* ipiv, void* B, const int* ldb,
                   int* info) {
    *info = ref::getrf<ref_e>(*n, *n, (ref_e*)A, *lda, ipiv);
    if (*info == 0) ref::getrs<ref_e>("N", *n, *nrhs, (const ref_e*)A, *lda, ipiv, (ref_e*)B, *ldb);
}
static void Ptrtrs_(const char* u, const char* t, const char* d, const int* n, const int* nrhs, const void* A,
                    const int* lda, void* B, const int* ldb, int* info) {
    const ref_e* a = (const ref_e*)A;
    *info = 0;
    if (ref::is(d, 'N')) for (int i = 0; i < *n; i++) if (!(a[i + i * *lda] != (ref_real)0)) { *info = i + 1; return; }
    ref::trsm<ref_e>("L", u, t, d, *n, *nrhs, ref::one<ref_e>(), a, *lda, (ref_e*)B, *ldb);
}
static void Pgetri_(const int* n, void* A, const int* lda, const int* ipiv, void* work, const int* lwork, int* info) {
    *info = 0; ref::getri<ref_e>(*n, (ref_e*)A, *lda, ipiv, (ref_e*)work, *lwork);
}
static void Ppotrf_(const char* u, const int* n, void* A, const int* lda, int* info) {
    *info = ref::potrf<ref_e>(u, *n, (ref_e*)A, *lda);
}
static void Ppotrs_(const char* u, const int* n, const int* nrhs, const void* A, const int* lda, void* B,
                    const int* ldb, int* info) {
    *info = 0; ref::potrs<ref_e>(u, *n, *nrhs, (const ref_e*)A, *lda, (ref_e*)B, *ldb);
}
static void Pposv_(const char* u, const int* n, const int* nrhs, void* A, const int* lda, void* B, const int* ldb,
                   int* info) {
    *info = ref::potrf<ref_e>(u, *n, (ref_e*)A, *lda);
    if (*info == 0) ref::potrs<ref_e>(u, *n, *nrhs, (const ref_e*)A, *lda, (ref_e*)B, *ldb);
}
"""


def reference(elem):
    """The plain-loop library of one element type."""
    real = "float" if elem.single else "double"
    e = f"ref::cx<{real}>" if elem.complex else real
    return REFERENCE + WRAPPERS.replace("REAL_T", real).replace("ELEM_T", e).replace("static void P",
                                                                                     f"static void {elem.code}")


# ----------------------------------------------------------------------------- parameters
def param_code(R):
    lines, k = [], 0
    for name, kind in R.params:
        if kind == "flag":
            lines.append(f"char {name} = (char)prm[{k}];")
            k += 1
        elif kind == "int":
            lines.append(f"int {name} = (int)prm[{k}];")
            k += 1
        else:   # pivots: read by the ipiv_in slot
            k += NPIV
    lines.append("int info = 0; (void)info;")
    return lines


def piv_offset(R):
    k = 0
    for name, kind in R.params:
        if kind == "ipiv":
            return k
        k += 1
    raise KeyError("ipiv")


def encode_params(routine, p):
    R = ROUTINES[routine]
    v = np.zeros(NPRM)
    k = 0
    for name, kind in R.params:
        if kind == "flag":
            v[k] = ord(p[name])
            k += 1
        elif kind == "int":
            v[k] = p[name]
            k += 1
        else:
            piv = np.asarray(p["ipiv"])
            v[k:k + len(piv)] = piv
            k += NPIV
    assert k <= NPRM
    return v


# ----------------------------------------------------------------------------- slots
class _Ctx:
    """Mode-dependent spellings of the program text."""

    def __init__(self, cell):
        self.cell, self.jax = cell, cell.mode in ("grad", "jvp")
        self.elem = ELEMS[cell.elem]
        self.offs, self.nout = cell.seg_offsets()

    def src(self, name):            # the input's data (tensor or user argument)
        return f"(&{name}_t[0])" if self.jax else f"{name}_in"

    def out(self, seg):             # the output segment's first element
        off = self.offs[seg][0]
        return f"(&out[{off}])" if self.jax else f"(res + {off})"

    def const_src(self, name):      # jax modes: a constant input must come through const_copy
        return self.jax and not self.cell.act[name]


def _ipiv_code(ctx, slot, placement):
    N = slot.name
    setup = {"stack": [f"int {N}_s[{NPIV}]; int* {N} = {N}_s;"],
             "heap": [f"int* {N} = (int*)malloc(sizeof(int) * {NPIV});"],
             "substk": [f"int {N}_big[{NPIV + 16}]; for (int i = 0; i < {NPIV + 16}; i++) {N}_big[i] = -99;",
                        f"int* {N} = {N}_big + 5;"],
             "subheap": [f"int* {N}_big = (int*)malloc(sizeof(int) * {NPIV + 16}); "
                         f"for (int i = 0; i < {NPIV + 16}; i++) {N}_big[i] = -99;",
                         f"int* {N} = {N}_big + 5;"]}[placement]
    free = {"heap": [f"free({N});"], "subheap": [f"free({N}_big);"]}.get(placement, [])
    after = []
    if slot.kind == "ipiv_in":
        setup.append(f"for (int i = 0; i < {NPIV}; i++) {N}[i] = (int)prm[{piv_offset(ctx.cell.R)} + i];")
    else:
        o = ctx.out("piv")
        after.append(f"{{ int kp = {ctx.cell.R.piv_count}; for (int i = 0; i < {NPIV}; i++) "
                     f"{o}[i] = i < kp ? (double){N}[i] : 0.0; }}")
    return setup, N, after, free, ""


def _work_code(ctx, slot, placement):
    """getri's workspace: (setup, pointer, after, free, code after the query)."""
    e, N = ctx.elem, slot.name
    if placement == "stack":    # a fixed array: its size is the lwork passed
        return [f"{e.ctype} {N}_s[{WORK * e.units}]; {e.ctype}* {N} = {N}_s;"], N, [], [], f"lw = {WORK}; "
    return ([f"{e.ctype}* {N} = 0;"], N, [], [f"free({N});"],
            f"{N} = ({e.ctype}*)malloc(sizeof({e.ctype}) * {e.units} * lw); ")


def slot_code(ctx, slot, placement):
    """(setup lines, pointer expression, lines after the call, cleanup lines, work_alloc) of a slot."""
    if slot.kind.startswith("ipiv"):
        return _ipiv_code(ctx, slot, placement)
    if slot.kind == "work":
        return _work_code(ctx, slot, placement)
    e, N = ctx.elem, slot.name
    T = e.ctype
    L = slot.length * e.units           # storage units
    n64 = slot.length * e.ncomp         # tensor entries
    units_loop = e.ncomp == 1 or e.pairs
    src = ctx.src(slot.source)
    const = ctx.const_src(slot.source)

    def fill(dst):      # copy the input into storage `dst`, element by element
        n = L if units_loop else slot.length
        if const:
            if e.same_bytes:
                return [f"const_copy((double*){dst}, {src}, {n64});"]
            return [f"{{ double {N}_c[{n64}]; const_copy({N}_c, {src}, {n64}); "
                    f"for (int i = 0; i < {n}; i++) {e.load(dst, N + '_c', 'i')} }}"]
        return [f"for (int i = 0; i < {n}; i++) {e.load(dst, src, 'i')}"]

    setup, free = [], []
    if placement == "stack":
        setup = [f"{T} {N}_s[{L}]; {T}* {N} = {N}_s;"] + fill(N)
    elif placement == "heaploop":
        setup = [f"{T}* {N} = ({T}*)malloc(sizeof({T}) * {L});"] + fill(N)
        free = [f"free({N});"]
    elif placement == "heapcpy":
        if not e.same_bytes:
            raise ValueError(f"{e.key}: memcpy from a float64 tensor into {T} storage is not a copy")
        setup = [f"{T}* {N} = ({T}*)malloc(sizeof({T}) * {L});"]
        if const:   # memcpy from a buffer Enzyme knows is constant
            setup += [f"double {N}_c[{n64}]; const_copy({N}_c, {src}, {n64});",
                      f"memcpy({N}, {N}_c, sizeof({T}) * {L});"]
        else:
            setup += [f"memcpy({N}, {src}, sizeof({T}) * {L});"]
        free = [f"free({N});"]
    elif placement == "input":
        if slot.kind not in ("ro", "scalar") or not e.same_bytes:
            raise ValueError(f"{e.key}: slot {N} cannot be read straight from the input")
        setup = [f"const {T}* {N} = (const {T}*){src};"]
    elif placement == "output":
        if not e.same_bytes:
            raise ValueError(f"{e.key}: {T} storage cannot live in a float64 tensor")
        seg = slot.segment if slot.kind == "inout" else "keep_" + N
        setup = [f"{T}* {N} = ({T}*){ctx.out(seg)};"] + fill(N)
    elif placement in ("substk", "subheap"):
        off = f"(3 + 2 * {slot.ld})" if slot.ld else "3"
        if e.units > 1:
            off = f"{e.units} * {off}"
        big = L + PAD * e.units
        if placement == "substk":
            setup = [f"{T} {N}_big[{big}];"]
        else:
            setup = [f"{T}* {N}_big = ({T}*)malloc(sizeof({T}) * {big});"]
            free = [f"free({N}_big);"]
        # garbage around the block; not a constant part: clang stores a constant part of a
        # std::complex<float> as an i32, which Enzyme copies into the shadow -- a wrong gradient
        # (docs/enzyme-limitations/complex_float_constant.py), not what this matrix is about
        garbage = e.make("1000.0 + i", "-1.0 - i") if e.complex and not e.pairs else f"({T})(1000.0 + i)"
        setup += [f"for (int i = 0; i < {big}; i++) {N}_big[i] = {garbage};",
                  f"{T}* {N} = {N}_big + {off};"] + fill(N)
    else:
        raise ValueError(placement)
    after = []
    if slot.kind == "inout" and placement != "output":
        o = ctx.out(slot.segment)
        n = L if units_loop else slot.length
        after = [f"for (int i = 0; i < {n}; i++) {{ {e.store(o, N, 'i')} }}"]
    return setup, N, after, free, ""


def _body(ctx):
    """The user's code: parameters, slots, the call, results into the outputs, frees."""
    cell, R = ctx.cell, ctx.cell.R
    lines = param_code(R)
    ptrs, afters, frees, work_alloc = {}, [], [], ""
    for s in R.slots:
        setup, ptr, after, free, wa = slot_code(ctx, s, cell.place[s.name])
        lines += [f"// {s.name}: {cell.place[s.name]}"] + setup
        ptrs[s.name] = ptr
        afters += after
        frees = free + frees
        work_alloc += wa
    e = ctx.elem
    lines.append(R.call.format(p=e.code, T=e.ctype, re=e.real_part("wq[0]"), work_alloc=work_alloc, **ptrs))
    return lines + afters + frees


def _header(cell):
    e = ELEMS[cell.elem]
    lib = '#include "difflapack_enzyme.h"\n' if cell.impl == "dl" else reference(e)
    return e.header + PRELUDE + lib


def build_source(cell):
    ctx = _Ctx(cell)
    R, e = cell.R, ctx.elem
    body = "\n    ".join(_body(ctx))
    if ctx.jax:
        ins = [f"const enzyme::tensor<double, {input_length(n, e)}>& {n}_t" for n in R.inputs]
        return (_header(cell) + CONST_COPY + f"""
void myfn(enzyme::tensor<double, {ctx.nout}>& out, {", ".join(ins)}, const enzyme::tensor<double, {NPRM}>& prm) {{
    {body}
}}
""")
    # rev / fwd: Enzyme called inside the source on the user's function
    nout = ctx.nout
    uargs = ", ".join(f"double* {n}_in" for n in R.inputs)
    user = f"""
static double prm[{NPRM}];
static double user({uargs}, double* res, const double* w) {{
    {body}
    double s = 0;
    for (int i = 0; i < {nout}; i++) s += w[i] * res[i];
    return s;
}}
"""
    layout = driver_layout(cell)
    ins = [f"const enzyme::tensor<double, {input_length(n, e)}>& {n}_t" for n in R.inputs]
    if cell.mode == "fwd":
        ins += [f"const enzyme::tensor<double, {input_length(n, e)}>& d{n}_t" for n in R.inputs]
    ins += [f"const enzyme::tensor<double, {nout}>& w_t", f"const enzyme::tensor<double, {NPRM}>& prm_t"]
    drv = [f"for (int i = 0; i < {NPRM}; i++) prm[i] = prm_t[i];",
           f"double w[{nout}]; for (int i = 0; i < {nout}; i++) w[i] = w_t[i];",
           f"double* res = &out[{layout['res']}];",
           f"double sres[{nout}]; for (int i = 0; i < {nout}; i++) sres[i] = 0;"]
    args = []
    for n in R.inputs:
        ln = input_length(n, e)
        if cell.act[n]:
            init = "0" if cell.mode == "rev" else f"d{n}_t[i]"
            drv.append(f"double s_{n}[{ln}]; for (int i = 0; i < {ln}; i++) s_{n}[i] = {init};")
            args.append(f"enzyme_dup, (double*)&{n}_t[0], s_{n}")
        else:
            args.append(f"enzyme_const, (double*)&{n}_t[0]")
    args += ["enzyme_dup, res, sres", "enzyme_const, (const double*)w"]
    if cell.mode == "rev":
        drv.append(f"__enzyme_autodiff((void*)user, {', '.join(args)}); double r = 0;")
        drv.append(f"double s = 0; for (int i = 0; i < {nout}; i++) s += w[i] * res[i]; out[0] = s; (void)r;")
        for n in R.inputs:
            val = f"s_{n}[i]" if cell.act[n] else "0"
            drv.append(f"for (int i = 0; i < {input_length(n, e)}; i++) out[{layout['g_' + n]} + i] = {val};")
        drv.append(f"for (int i = 0; i < {nout}; i++) out[{layout['dres']} + i] = 0; out[1] = 0;")
    else:
        drv.append(f"double r = __enzyme_fwddiff((void*)user, {', '.join(args)});")
        drv.append(f"double s = 0; for (int i = 0; i < {nout}; i++) s += w[i] * res[i]; out[0] = s; out[1] = r;")
        drv.append(f"for (int i = 0; i < {nout}; i++) out[{layout['dres']} + i] = sres[i];")
        for n in R.inputs:
            drv.append(f"for (int i = 0; i < {input_length(n, e)}; i++) out[{layout['g_' + n]} + i] = 0;")
    drv_text = "\n    ".join(drv)
    return (_header(cell) + user + f"""
void myfn(enzyme::tensor<double, {layout['total']}>& out, {", ".join(ins)}) {{
    {drv_text}
}}
""")


def driver_layout(cell):
    """rev/fwd output tensor: [loss, dloss, gradient of each input, res, dres]."""
    e = ELEMS[cell.elem]
    d, k = {}, 2
    for n in cell.R.inputs:
        d["g_" + n] = k
        k += input_length(n, e)
    nout = cell.seg_offsets()[1]
    d["res"], d["dres"], d["total"] = k, k + nout, k + 2 * nout
    return d
