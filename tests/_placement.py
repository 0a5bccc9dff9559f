"""Generator of the placement matrix: C++ programs that call one BLAS/LAPACK routine through
difflapack_enzyme.h with every array argument held where real programs hold it, built by Enzyme
in four modes, run on several flag/shape cases, and compared with central differences of an
independent NumPy/SciPy oracle.

Data model
----------
ELEMS       element types ('d' tested; 's', 'c', 'z' described so that rows can be added): the C++
            storage type, the BLAS prefix, how an element is loaded from / stored to the float64
            tensors (enzyme-ad cannot build split mode over float32 tensors, so every tensor is
            float64; complex arrays are interleaved (re, im) pairs), and whether a tensor can be
            used in place (`memcpy` / `input` placements need storage bytes == tensor bytes).
ROUTINES    one row per routine: its differentiable inputs (tensors), its parameters (flags,
            sizes, pivots, carried by a parameter vector so that one build serves every case),
            its array SLOTS (the pointer arguments of the call: kind, which input fills it, which
            output segment it ends in, its leading-dimension parameter), the call template, the
            oracle and the cases. getri/trtrs/potrf/potrs/posv and the cblas_/LAPACKE_ variants
            are further rows (a call template may spell any calling convention).
PLACEMENTS  where a slot lives: a local stack array, a heap buffer filled by memcpy or by a
            loop, the cpp_call input tensor itself (read-only slots), the output tensor, an
            offset sub-block of a bigger stack/heap buffer (pointer offset 3 + 2*ld, garbage all
            around, lda > rows in the cases).
MODES       rev   __enzyme_autodiff inside the source (combined reverse)
            fwd   __enzyme_fwddiff inside the source
            grad  jax.jit(jax.value_and_grad(...)) over the cpp_call (Enzyme's split reverse)
            jvp   jax.jit(jax.jvp(...)) over the cpp_call (Enzyme's forward mode)
Cell        (routine, placement of every slot, mode, activity, impl): one C++ source, built once
            and run on every case of the routine. impl 'dl' calls the routine through
            difflapack_enzyme.h; impl 'ref' is the CONTROL: the same program with plain-loop
            reference implementations of the routines instead (no difflapack). They are plain static functions:
            marked noinline (to look like a library call) they crash every build, as Enzyme
            0.0.16 gives the derivative 'alwaysinline' next to the primal's 'noinline'., which tells an
            Enzyme/Enzyme-JAX limitation from a difflapack bug.

Every program computes the same function: outputs = [in/out slots after the call (x / lu),
pivots (as doubles), copies of the read-only slots held in the output tensor], of the inputs
(A, b, alpha). In the jax modes the outputs ARE the output tensor; in rev/fwd mode the
differentiated function `user(A_in, b_in, alpha_in, res, w)` writes them into `res` (a region
of the output tensor) and returns w.res. So one oracle Jacobian per (routine, case, input)
serves every cell.

Running: each cell runs in its own process forked from a forkserver that imported JAX and
loaded the libraries but never started XLA, so a build or a run that crashes fails that cell
only. Every build's stderr is scanned for Enzyme/clang giving up (a build Enzyme gave up on
can still run and return numbers).
"""
from __future__ import annotations

import dataclasses
import itertools
import os
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.linalg import lapack

import _enzyme_util as eu

CAP = eu.CAP        # elements per array slot
NPRM = 32           # parameter vector
NPIV = 8            # pivot slots
PAD = 64            # extra room of an offset sub-block buffer
H = 1e-6            # central-difference step

MODES = ("rev", "fwd", "grad", "jvp")

# What Enzyme or clang prints when it gave up (the build may still run and return numbers).
FAILURE_PATTERNS = ("Cannot deduce type", "No augmented forward pass", "No forward mode derivative",
                    "No reverse pass found", "No derivative found", "Bad function type", "LLVM ERROR",
                    "Call parameter type does not match", "error:", "Assertion", "unreachable")


# ----------------------------------------------------------------------------- element types
@dataclass(frozen=True)
class Elem:
    code: str               # BLAS prefix letter
    ctype: str              # C++ storage type of one element
    ncomp: int              # float64 tensor entries per element (2: interleaved re, im)
    np_dtype: str
    eps: float
    tested: bool
    header: str = ""        # C++ the storage type needs
    re: str = "{}.real()"   # complex: the parts of an element (a user struct: "{}.re", "{}.im")
    im: str = "{}.imag()"

    @property
    def tensor_len(self):   # tensor entries of one CAP-element slot
        return CAP * self.ncomp

    @property
    def same_bytes(self):   # storage is the tensor's bytes: memcpy / in-place use are possible
        return self.np_dtype in ("float64", "complex128")

    def placements(self, kind):
        """The placements a slot of this kind can take with this element type: memcpy from a
        tensor and in-place use of a tensor need the storage to be the tensor's bytes."""
        return tuple(p for p in PLACEMENTS[kind] if self.same_bytes or p not in ("heapcpy", "input"))

    def load(self, dst, src, i):
        """C++: element i of `dst` (storage) from the float64 array `src` (tensor layout)."""
        if self.ncomp == 1:
            return f"{dst}[{i}] = ({self.ctype}){src}[{i}];"
        return f"{dst}[{i}] = {self.ctype}{{{src}[2 * ({i})], {src}[2 * ({i}) + 1]}};"

    def store(self, dst, src, i):
        """C++: float64 array `dst` (tensor layout) from element i of `src`."""
        if self.ncomp == 1:
            return f"{dst}[{i}] = (double){src}[{i}];"
        x = f"{src}[{i}]"
        return f"{dst}[2 * ({i})] = {self.re.format(x)}; {dst}[2 * ({i}) + 1] = {self.im.format(x)};"


ELEMS = {
    "d": Elem("d", "double", 1, "float64", 2.2e-16, True),
    # not tested yet: float storage from float64 tensors (no memcpy / input placement)
    "s": Elem("s", "float", 1, "float32", 1.2e-7, False),
    "z": Elem("z", "std::complex<double>", 2, "complex128", 2.2e-16, False, "#include <complex>\n"),
    "c": Elem("c", "std::complex<float>", 2, "complex64", 1.2e-7, False, "#include <complex>\n"),
    # complex data as the user's own struct (what C code often declares for Fortran's COMPLEX*16)
    "zs": Elem("z", "dcomplex", 2, "complex128", 2.2e-16, False, "struct dcomplex { double re, im; };\n",
               "{}.re", "{}.im"),
}


# ----------------------------------------------------------------------------- routines
@dataclass(frozen=True)
class Slot:
    name: str               # placeholder in the call template
    kind: str               # ro (read-only array) | scalar (read-only, by address) | inout | ipiv_out | ipiv_in
    source: str | None = None   # the input that fills it
    segment: str | None = None  # inout: the output segment it ends in
    ld: str | None = None       # its leading-dimension parameter (offset of a sub-block)

    @property
    def length(self):
        return 1 if self.kind == "scalar" else (NPIV if self.kind.startswith("ipiv") else CAP)


PLACEMENTS = {
    "ro": ("stack", "heapcpy", "heaploop", "input", "output", "substk", "subheap"),
    "scalar": ("stack", "heapcpy", "heaploop", "input", "output", "substk", "subheap"),
    "inout": ("stack", "heapcpy", "heaploop", "output", "substk", "subheap"),
    "ipiv_out": ("stack", "heap", "substk", "subheap"),
    "ipiv_in": ("stack", "heap", "substk", "subheap"),
}
DEFAULT = "stack"


@dataclass(frozen=True)
class Routine:
    name: str
    inputs: tuple           # differentiable inputs, in cpp_call order (tensors)
    params: tuple           # (name, kind): kind flag | int | ipiv
    slots: tuple
    call: str               # C++ statement; {p} = prefix, {SLOT} = pointer expression
    oracle: Callable        # (p, A, b, alpha) -> {segment: array}
    cases: tuple            # parameter dicts
    piv_count: str | None = None    # C++ expression: pivots written (ipiv_out)
    extra_cases: tuple = ()         # (p, alpha) pairs

    def slot(self, name):
        return next(s for s in self.slots if s.name == name)


def _trsv_oracle(p, A, b, alpha):
    return {"x": eu.trsv_oracle(p, A, b)["x"]}


def _trsm_oracle(p, A, b, alpha):
    return {"x": eu.trsm_oracle(p, A, b, alpha)["x"]}


def _getrf_oracle(p, A, b, alpha):
    m, n, lda = p["m"], p["n"], p["lda"]
    lu, piv, info = lapack.dgetrf(eu._cm(A, m, n, lda))
    out = A.copy()
    eu._put(out, lu, lda)
    pv = np.zeros(NPIV)
    pv[:min(m, n)] = piv[:min(m, n)] + 1
    return {"lu": out, "piv": pv}


def _getrs_oracle(p, A, b, alpha):
    return {"x": eu.getrs_oracle(p, A, b)["x"]}


def _gesv_oracle(p, A, b, alpha):
    n = p["n"]
    o = eu.gesv_oracle(p, A, b)
    piv = lapack.dgetrf(eu._cm(A, n, n, p["lda"]))[1]
    pv = np.zeros(NPIV)
    pv[:n] = piv + 1
    return {"lu": o["lu"], "piv": pv, "x": o["x"]}


F, I = "flag", "int"
ROUTINES = {
    "trsv": Routine(
        "trsv", ("A", "b"), (("uplo", F), ("trans", F), ("diag", F), ("n", I), ("lda", I), ("inc", I)),
        (Slot("A", "ro", "A", ld="lda"), Slot("x", "inout", "b", "x")),
        "{p}trsv_(&uplo, &trans, &diag, &n, {A}, &lda, {x}, &inc);", _trsv_oracle,
        (dict(uplo="U", trans="N", diag="N", n=4, lda=5, inc=1),
         dict(uplo="L", trans="T", diag="U", n=5, lda=6, inc=2),
         dict(uplo="U", trans="T", diag="N", n=3, lda=6, inc=-1),
         dict(uplo="L", trans="C", diag="N", n=4, lda=4, inc=-2))),
    "trsm": Routine(
        "trsm", ("A", "b", "alpha"),
        (("side", F), ("uplo", F), ("transa", F), ("diag", F), ("m", I), ("n", I), ("lda", I), ("ldb", I)),
        (Slot("alpha", "scalar", "alpha"), Slot("A", "ro", "A", ld="lda"), Slot("B", "inout", "b", "x", ld="ldb")),
        "{p}trsm_(&side, &uplo, &transa, &diag, &m, &n, {alpha}, {A}, &lda, {B}, &ldb);", _trsm_oracle,
        (dict(side="L", uplo="U", transa="N", diag="N", m=4, n=3, lda=5, ldb=6),
         dict(side="R", uplo="L", transa="T", diag="U", m=3, n=4, lda=5, ldb=4),
         dict(side="L", uplo="L", transa="T", diag="N", m=5, n=2, lda=6, ldb=7),
         dict(side="R", uplo="U", transa="N", diag="N", m=2, n=5, lda=6, ldb=3)),
        extra_cases=((dict(side="L", uplo="U", transa="N", diag="N", m=4, n=3, lda=5, ldb=6), 0.0),)),
    "getrf": Routine(
        "getrf", ("A",), (("m", I), ("n", I), ("lda", I)),
        (Slot("A", "inout", "A", "lu", ld="lda"), Slot("ipiv", "ipiv_out")),
        "{p}getrf_(&m, &n, {A}, &lda, {ipiv}, &info);", _getrf_oracle,
        (dict(m=4, n=4, lda=5), dict(m=6, n=4, lda=7), dict(m=3, n=5, lda=4)),
        piv_count="(m < n ? m : n)"),
    "getrs": Routine(
        "getrs", ("A", "b"), (("trans", F), ("n", I), ("nrhs", I), ("lda", I), ("ldb", I), ("ipiv", "ipiv")),
        (Slot("A", "ro", "A", ld="lda"), Slot("ipiv", "ipiv_in"), Slot("B", "inout", "b", "x", ld="ldb")),
        "{p}getrs_(&trans, &n, &nrhs, {A}, &lda, {ipiv}, {B}, &ldb, &info);", _getrs_oracle,
        (dict(trans="N", n=4, nrhs=2, lda=5, ldb=6), dict(trans="T", n=5, nrhs=3, lda=6, ldb=5),
         dict(trans="N", n=1, nrhs=1, lda=1, ldb=1))),
    "gesv": Routine(
        "gesv", ("A", "b"), (("n", I), ("nrhs", I), ("lda", I), ("ldb", I)),
        (Slot("A", "inout", "A", "lu", ld="lda"), Slot("ipiv", "ipiv_out"), Slot("B", "inout", "b", "x", ld="ldb")),
        "{p}gesv_(&n, &nrhs, {A}, &lda, {ipiv}, {B}, &ldb, &info);", _gesv_oracle,
        (dict(n=4, nrhs=2, lda=5, ldb=6), dict(n=5, nrhs=1, lda=5, ldb=5), dict(n=3, nrhs=3, lda=3, ldb=4)),
        piv_count="n"),
}


def input_length(name, elem):
    return elem.ncomp * (1 if name == "alpha" else CAP)


# ----------------------------------------------------------------------------- cells
@dataclass(frozen=True)
class Cell:
    routine: str
    placement: tuple        # ((slot name, placement), ...) in slot order
    mode: str
    active: tuple           # ((input name, bool), ...) in input order
    impl: str = "dl"        # dl: through difflapack_enzyme.h; ref: plain-loop control
    elem: str = "d"

    @property
    def R(self):
        return ROUTINES[self.routine]

    @property
    def act(self):
        return dict(self.active)

    @property
    def place(self):
        return dict(self.placement)

    @property
    def id(self):
        pl = "-".join(f"{s}.{p}" for s, p in self.placement)
        act = "+".join(n for n, a in self.active if a)
        head = "ctl-" if self.impl == "ref" else ""
        return f"{head}{self.routine}-{pl}-{self.mode}-{act}"

    def segments(self):
        """Output segments (name, length) in tensor order."""
        segs, seen = [], set()
        for s in self.R.slots:
            if s.kind == "inout" and s.segment not in seen:
                segs.append((s.segment, CAP))
                seen.add(s.segment)
            if s.kind == "ipiv_out":
                segs.append(("piv", NPIV))
        for s in self.R.slots:
            if s.kind in ("ro", "scalar") and self.place[s.name] == "output":
                segs.append(("keep_" + s.name, s.length))
        return segs

    def seg_offsets(self):
        off, d = 0, {}
        for name, n in self.segments():
            d[name] = (off, n)
            off += n * ELEMS[self.elem].ncomp
        return d, off

    def control(self, impl="ref"):
        return dataclasses.replace(self, impl=impl)

    # the job interface of Runner
    def source(self):
        return build_source(self)

    def program(self, source):
        return _program(self, source)

    def unpack(self, raw):
        return _unpack(self, raw)

    def child_cases(self):
        return cases(self.routine)

    def prepare(self):      # the oracle, in the parent, before the child starts
        for k in range(len(cases(self.routine))):
            expected(self, k)

    def judge(self, out):
        _judge(out)


def make_cell(routine, mode, active, impl="dl", elem="d", **placement):
    R = ROUTINES[routine]
    pl = tuple((s.name, placement.get(s.name, DEFAULT)) for s in R.slots)
    for s, p in pl:
        if p not in ELEMS[elem].placements(R.slot(s).kind):
            raise ValueError(f"{routine}: slot {s} ({R.slot(s).kind}) cannot be placed in {p}")
    act = tuple((n, bool(active[n])) for n in R.inputs)
    if not any(a for _, a in act):
        raise ValueError("at least one input must be active")
    return Cell(routine, pl, mode, act, impl, elem)


def activity_patterns(routine):
    names = ROUTINES[routine].inputs
    return [{n: bool(bits >> i & 1) for i, n in enumerate(names)} for bits in range(1, 2 ** len(names))]


# ----------------------------------------------------------------------------- C++ generation
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

# Plain-loop reference BLAS/LAPACK (column major, the routines' documented semantics): the
# CONTROL programs use these instead of difflapack_enzyme.h, so Enzyme differentiates loops.
REFERENCE = r"""
static int ref_is(char a, char b) { return (a | 32) == (b | 32); }
static double ref_abs(double v) { return v < 0 ? -v : v; }
static void dtrsv_(const char* uplo, const char* trans, const char* diag, const int* n_, const double* A,
                   const int* lda_, double* x, const int* inc_) {
    int n = *n_, lda = *lda_, inc = *inc_;
    int up = ref_is(*uplo, 'U'), nt = ref_is(*trans, 'N'), unit = ref_is(*diag, 'U');
    int kx = inc > 0 ? 0 : -(n - 1) * inc;
    int fw = (!up && nt) || (up && !nt);          /* op(T) lower: forward substitution */
    for (int s = 0; s < n; s++) {
        int j = fw ? s : n - 1 - s;
        double v = x[kx + j * inc];
        for (int t = 0; t < s; t++) {
            int k = fw ? t : n - 1 - t;
            v -= (nt ? A[j + k * lda] : A[k + j * lda]) * x[kx + k * inc];
        }
        if (!unit) v /= A[j + j * lda];
        x[kx + j * inc] = v;
    }
}
static void dtrsm_(const char* side, const char* uplo, const char* transa, const char* diag, const int* m_,
                   const int* n_, const double* alpha, const double* A, const int* lda, double* B, const int* ldb_) {
    int m = *m_, n = *n_, ldb = *ldb_, one = 1;
    double al = *alpha;
    for (int j = 0; j < n; j++) for (int i = 0; i < m; i++) B[i + j * ldb] = al * B[i + j * ldb];
    if (ref_is(*side, 'L')) {
        for (int j = 0; j < n; j++) dtrsv_(uplo, transa, diag, m_, A, lda, B + j * ldb, &one);
    } else {                                       /* X op(T) = B  <=>  op(T)^T X^T = B^T */
        char tt = ref_is(*transa, 'N') ? 'T' : 'N';
        for (int i = 0; i < m; i++) dtrsv_(uplo, &tt, diag, n_, A, lda, B + i, ldb_);
    }
}
static void dgetrf_(const int* m_, const int* n_, double* A, const int* lda_, int* ipiv, int* info) {
    int m = *m_, n = *n_, lda = *lda_, k = m < n ? m : n;
    *info = 0;
    for (int j = 0; j < k; j++) {
        int p = j;
        double best = ref_abs(A[j + j * lda]);
        for (int i = j + 1; i < m; i++) if (ref_abs(A[i + j * lda]) > best) { best = ref_abs(A[i + j * lda]); p = i; }
        ipiv[j] = p + 1;
        if (A[p + j * lda] != 0.0) {
            if (p != j) for (int c = 0; c < n; c++) { double t = A[j + c * lda]; A[j + c * lda] = A[p + c * lda]; A[p + c * lda] = t; }
            double piv = A[j + j * lda];
            for (int i = j + 1; i < m; i++) A[i + j * lda] = A[i + j * lda] / piv;
        } else if (*info == 0) {
            *info = j + 1;
        }
        for (int c = j + 1; c < n; c++)
            for (int i = j + 1; i < m; i++) A[i + c * lda] -= A[i + j * lda] * A[j + c * lda];
    }
}
static void dgetrs_(const char* trans, const int* n_, const int* nrhs_, const double* A, const int* lda_,
                    const int* ipiv, double* B, const int* ldb_, int* info) {
    int n = *n_, nrhs = *nrhs_, lda = *lda_, ldb = *ldb_;
    *info = 0;
    for (int c = 0; c < nrhs; c++) {
        double* b = B + c * ldb;
        if (ref_is(*trans, 'N')) {                 /* P L U x = b */
            for (int i = 0; i < n; i++) { int p = ipiv[i] - 1; if (p != i) { double t = b[i]; b[i] = b[p]; b[p] = t; } }
            for (int i = 0; i < n; i++) for (int k = 0; k < i; k++) b[i] -= A[i + k * lda] * b[k];
            for (int i = n - 1; i >= 0; i--) {
                for (int k = i + 1; k < n; k++) b[i] -= A[i + k * lda] * b[k];
                b[i] = b[i] / A[i + i * lda];
            }
        } else {                                   /* U^T L^T P^T x = b */
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < i; k++) b[i] -= A[k + i * lda] * b[k];
                b[i] = b[i] / A[i + i * lda];
            }
            for (int i = n - 1; i >= 0; i--) for (int k = i + 1; k < n; k++) b[i] -= A[k + i * lda] * b[k];
            for (int i = n - 1; i >= 0; i--) { int p = ipiv[i] - 1; if (p != i) { double t = b[i]; b[i] = b[p]; b[p] = t; } }
        }
    }
}
static void dgesv_(const int* n, const int* nrhs, double* A, const int* lda, int* ipiv, double* B, const int* ldb,
                   int* info) {
    dgetrf_(n, n, A, lda, ipiv, info);
    if (*info == 0) dgetrs_("N", n, nrhs, A, lda, ipiv, B, ldb, info);
}
"""


def _param_code(R):
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


def _piv_offset(R):
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


def _slot_code(ctx, slot, placement):
    """(setup lines, pointer expression, lines after the call, cleanup lines) of one slot."""
    e, N = ctx.elem, slot.name
    T = e.ctype
    if slot.kind.startswith("ipiv"):
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
            k = _piv_offset(ctx.cell.R)
            setup.append(f"for (int i = 0; i < {NPIV}; i++) {N}[i] = (int)prm[{k} + i];")
        else:
            o = ctx.out("piv")
            after.append(f"{{ int kp = {ctx.cell.R.piv_count}; for (int i = 0; i < {NPIV}; i++) "
                         f"{o}[i] = i < kp ? (double){N}[i] : 0.0; }}")
        return setup, N, after, free

    L = slot.length
    src = ctx.src(slot.source)
    const = ctx.const_src(slot.source)

    def fill(dst):      # copy the input into storage `dst`, element by element
        if const:
            if e.same_bytes:
                return [f"const_copy((double*){dst}, {src}, {L * e.ncomp});"]
            return [f"{{ double {N}_c[{L * e.ncomp}]; const_copy({N}_c, {src}, {L * e.ncomp}); "
                    f"for (int i = 0; i < {L}; i++) {e.load(dst, N + '_c', 'i')} }}"]
        return [f"for (int i = 0; i < {L}; i++) {e.load(dst, src, 'i')}"]

    setup, free, ptr = [], [], N
    if placement == "stack":
        setup = [f"{T} {N}_s[{L}]; {T}* {N} = {N}_s;"] + fill(N)
    elif placement == "heaploop":
        setup = [f"{T}* {N} = ({T}*)malloc(sizeof({T}) * {L});"] + fill(N)
        free = [f"free({N});"]
    elif placement == "heapcpy":
        if not e.same_bytes:
            raise ValueError(f"{e.code}: memcpy from a float64 tensor into {T} storage is not a copy")
        setup = [f"{T}* {N} = ({T}*)malloc(sizeof({T}) * {L});"]
        if const:   # memcpy from a buffer Enzyme knows is constant
            setup += [f"double {N}_c[{L * e.ncomp}]; const_copy({N}_c, {src}, {L * e.ncomp});",
                      f"memcpy({N}, {N}_c, sizeof({T}) * {L});"]
        else:
            setup += [f"memcpy({N}, {src}, sizeof({T}) * {L});"]
        free = [f"free({N});"]
    elif placement == "input":
        if slot.kind not in ("ro", "scalar"):
            raise ValueError("only read-only slots can be read straight from the input")
        if not e.same_bytes:
            raise ValueError(f"{e.code}: {T} storage cannot alias a float64 tensor")
        setup = [f"const {T}* {N} = (const {T}*){src};"]
    elif placement == "output":
        seg = slot.segment if slot.kind == "inout" else "keep_" + N
        setup = [f"{T}* {N} = ({T}*){ctx.out(seg)};"] + fill(N)
    elif placement in ("substk", "subheap"):
        off = f"(3 + 2 * {slot.ld})" if slot.ld else "3"
        if placement == "substk":
            setup = [f"{T} {N}_big[{L + PAD}];"]
        else:
            setup = [f"{T}* {N}_big = ({T}*)malloc(sizeof({T}) * {L + PAD});"]
            free = [f"free({N}_big);"]
        setup += [f"for (int i = 0; i < {L + PAD}; i++) {N}_big[i] = ({T})(1000.0 + i);",
                  f"{T}* {N} = {N}_big + {off};"] + fill(N)
    else:
        raise ValueError(placement)
    after = []
    if slot.kind == "inout" and placement != "output":
        o = ctx.out(slot.segment)
        after = [f"for (int i = 0; i < {L}; i++) {{ {e.store(o, N, 'i')} }}"]
    return setup, ptr, after, free


def _body(ctx):
    """The user's code: parameters, slots, the call, results into the outputs, frees."""
    cell, R = ctx.cell, ctx.cell.R
    lines = _param_code(R)
    ptrs, afters, frees = {}, [], []
    for s in R.slots:
        setup, ptr, after, free = _slot_code(ctx, s, cell.place[s.name])
        lines += [f"// {s.name}: {cell.place[s.name]}"] + setup
        ptrs[s.name] = ptr
        afters += after
        frees = free + frees
    lines.append(R.call.format(p=ctx.elem.code, **ptrs))
    return lines + afters + frees


def _header(cell):
    e = ELEMS[cell.elem]
    lib = '#include "difflapack_enzyme.h"\n' if cell.impl == "dl" else REFERENCE
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
            if cell.mode == "rev":
                drv.append(f"double s_{n}[{ln}]; for (int i = 0; i < {ln}; i++) s_{n}[i] = 0;")
            else:
                drv.append(f"double s_{n}[{ln}]; for (int i = 0; i < {ln}; i++) s_{n}[i] = d{n}_t[i];")
            args.append(f"enzyme_dup, (double*)&{n}_t[0], s_{n}")
        else:
            args.append(f"enzyme_const, (double*)&{n}_t[0]")
    args += ["enzyme_dup, res, sres", "enzyme_const, (const double*)w"]
    fn = "__enzyme_autodiff" if cell.mode == "rev" else "__enzyme_fwddiff"
    if cell.mode == "rev":
        drv.append(f"{fn}((void*)user, {', '.join(args)}); double r = 0;")
    else:
        drv.append(f"double r = {fn}((void*)user, {', '.join(args)});")
    if cell.mode == "rev":
        drv.append(f"double s = 0; for (int i = 0; i < {nout}; i++) s += w[i] * res[i]; out[0] = s; (void)r;")
        for n in R.inputs:
            if cell.act[n]:
                drv.append(f"for (int i = 0; i < {input_length(n, e)}; i++) out[{layout['g_' + n]} + i] = s_{n}[i];")
            else:
                drv.append(f"for (int i = 0; i < {input_length(n, e)}; i++) out[{layout['g_' + n]} + i] = 0;")
        drv.append(f"for (int i = 0; i < {nout}; i++) out[{layout['dres']} + i] = 0; out[1] = 0;")
    else:
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


# ----------------------------------------------------------------------------- cases and oracle
@dataclass
class Case:
    p: dict
    inputs: dict            # name -> float64 array (tensor layout)
    dirs: dict              # tangent directions
    w: dict                 # output segment -> weights
    kappa: float


def make_cases(routine):
    R = ROUTINES[routine]
    specs = [(p, 1.3) for p in R.cases] + list(R.extra_cases)
    out = []
    for k, (p, alpha) in enumerate(specs):
        c = eu.make_case(routine, p, seed=k, alpha=alpha)
        r = np.random.default_rng(100 + k)
        inputs = {"A": c["arrays"]["A"], "b": c["arrays"]["b"], "alpha": np.array([c["alpha"]])}
        dirs = {"A": c["dirs"]["A"], "b": c["dirs"]["b"], "alpha": np.array([c["dirs"]["alpha"]])}
        inputs = {n: inputs[n] for n in R.inputs}
        dirs = {n: dirs[n] for n in R.inputs}
        w = {s: r.standard_normal(n) for s, n in (("x", CAP), ("lu", CAP), ("piv", NPIV), ("keep_A", CAP),
                                                   ("keep_alpha", 1))}
        out.append(Case(c["p"], inputs, dirs, w, eu.kappa(routine, c)))
    return out


_CASES = {}


def cases(routine):
    if routine not in _CASES:
        _CASES[routine] = make_cases(routine)
    return _CASES[routine]


def oracle(routine, case, inputs=None):
    """All output segments of the routine (every keep_ segment too)."""
    R = ROUTINES[routine]
    x = dict(case.inputs if inputs is None else inputs)
    o = R.oracle(case.p, x["A"], x.get("b"), float(x["alpha"][0]) if "alpha" in x else None)
    for s in R.slots:
        if s.kind in ("ro", "scalar"):
            o["keep_" + s.name] = np.array(x[s.source], dtype=float)
    return o


_JAC = {}


def jacobian(routine, k, name):
    """Central-difference Jacobian {segment: (len, len(input))} of the oracle, case k."""
    key = (routine, k, name)
    if key not in _JAC:
        case = cases(routine)[k]
        base = case.inputs[name]
        cols = []
        for i in range(base.size):
            e = np.zeros_like(base)
            e[i] = H
            plus = oracle(routine, case, {**case.inputs, name: base + e})
            minus = oracle(routine, case, {**case.inputs, name: base - e})
            cols.append({s: (plus[s] - minus[s]) / (2 * H) for s in plus})
        _JAC[key] = {s: np.stack([c[s] for c in cols], axis=1) for s in cols[0]}
    return _JAC[key]


def expected(cell, k):
    """What the cell must produce on case k: primal outputs, gradients or tangents."""
    case = cases(cell.routine)[k]
    segs = cell.segments()
    o = oracle(cell.routine, case)
    want = {"out": np.concatenate([o[s] for s, _ in segs]),
            "w": np.concatenate([case.w[s] for s, _ in segs])}
    act = [n for n, a in cell.active if a]
    if cell.mode in ("rev", "grad"):
        want["grad"] = {n: sum(jacobian(cell.routine, k, n)[s].T @ case.w[s] for s, _ in segs) for n in act}
    else:
        want["tan"] = np.concatenate([sum(jacobian(cell.routine, k, n)[s] @ case.dirs[n] for n in act)
                                      for s, _ in segs])
    return want


# ----------------------------------------------------------------------------- child side
def _jax():
    import jax
    jax.config.update("jax_enable_x64", True)
    return jax


def _scan(log):
    import re
    log = re.sub(r"\x1b\[[0-9;]*m", "", log)
    return [ln.strip()[:400] for ln in log.splitlines() if any(p in ln for p in FAILURE_PATTERNS)]


def _program(cell, source):
    """The jitted function of a cell and a function that maps a case to its arguments."""
    jax = _jax()
    import jax.numpy as jnp
    from difflapack import enzyme
    from enzyme_ad.jax import cpp_call

    enzyme.load()
    R, e = cell.R, ELEMS[cell.elem]
    argv = tuple(enzyme.cflags())
    nout = cell.seg_offsets()[1]
    act = [i for i, n in enumerate(R.inputs) if cell.act[n]]
    if cell.mode in ("rev", "fwd"):
        total = driver_layout(cell)["total"]

        def call(*xs):
            return cpp_call(*xs, out_shapes=[jax.core.ShapedArray([total], jnp.float64)], source=source,
                            fn="myfn", argv=argv)[0]

        def args(case):
            xs = [case.inputs[n] for n in R.inputs]
            if cell.mode == "fwd":
                xs += [case.dirs[n] if cell.act[n] else np.zeros_like(case.dirs[n]) for n in R.inputs]
            w = np.concatenate([case.w[s] for s, _ in cell.segments()])
            return xs + [w, encode_params(cell.routine, case.p)]
        return jax.jit(call), args

    def call(*xs):
        return cpp_call(*xs, out_shapes=[jax.core.ShapedArray([nout], jnp.float64)], source=source,
                        fn="myfn", argv=argv)[0]

    if cell.mode == "jvp":
        def fn(xs, ds, prm):
            tans = tuple(ds[i] if i in act else jnp.zeros_like(xs[i]) for i in range(len(xs)))
            return jax.jvp(lambda *a: call(*a, prm), tuple(xs), tans)

        def args(case):
            return [[case.inputs[n] for n in R.inputs], [case.dirs[n] for n in R.inputs],
                    encode_params(cell.routine, case.p)]
    else:
        def loss(*a):
            *xs, w, prm = a
            y = call(*xs, prm)
            return jnp.sum(y * w), y

        fn = jax.value_and_grad(loss, argnums=tuple(act), has_aux=True)

        def args(case):
            w = np.concatenate([case.w[s] for s, _ in cell.segments()])
            return [case.inputs[n] for n in R.inputs] + [w, encode_params(cell.routine, case.p)]
    return jax.jit(fn), args


def _unpack(cell, r):
    R = cell.R
    if cell.mode in ("rev", "fwd"):
        r = np.asarray(r)
        lay = driver_layout(cell)
        nout = cell.seg_offsets()[1]
        out = {"out": r[lay["res"]:lay["res"] + nout], "loss": r[0]}
        if cell.mode == "rev":
            out["grad"] = {n: r[lay["g_" + n]:lay["g_" + n] + input_length(n, ELEMS[cell.elem])]
                           for n in R.inputs if cell.act[n]}
        else:
            out["tan"], out["dloss"] = r[lay["dres"]:lay["dres"] + nout], r[1]
        return out
    if cell.mode == "jvp":
        return {"out": np.asarray(r[0]), "tan": np.asarray(r[1])}
    (loss, y), g = r
    act = [n for n in R.inputs if cell.act[n]]
    return {"out": np.asarray(y), "loss": float(loss), "grad": {n: np.asarray(g[i]) for i, n in enumerate(act)}}


def child_main(conn, job, case_list):
    """Runs in a forked process: build the job (stderr captured and scanned), then run every
    case. Messages: ("built", failures, log tail, seconds) then ("done", results, seconds), or
    ("error", stage, text)."""
    stage = "build"
    try:
        # glibc M_PERTURB: fresh heap memory reads as 0xBFBF... (-0.125 as a double), freed
        # memory as 0x4040... (32.5), so that a program reading memory nobody wrote fails every
        # time, not when the allocator happens to hand it zeros
        import ctypes
        ctypes.CDLL(None).mallopt(-6, 0x40)
        from difflapack import enzyme
        source = job.source()
        t0 = time.perf_counter()
        fn, args = job.program(source)
        with enzyme.captured_stderr() as log:
            try:
                compiled = fn.lower(*args(case_list[0])).compile()
                err = None
            except Exception as exc:    # noqa: BLE001
                compiled, err = None, f"{type(exc).__name__}: {str(exc)[:600]}"
        failures = _scan(log[0])
        conn.send(("built", failures, log[0][-3000:], time.perf_counter() - t0))
        if compiled is None:
            conn.send(("error", "build", err))
            return
        stage = "run"
        t0 = time.perf_counter()
        results = [job.unpack(compiled(*args(c))) for c in case_list]
        import resource
        ru = resource.getrusage(resource.RUSAGE_SELF)
        conn.send(("done", results, time.perf_counter() - t0, ru.ru_utime + ru.ru_stime))
    except BaseException:   # noqa: BLE001
        conn.send(("error", stage, traceback.format_exc()[-2000:]))
    finally:
        conn.close()


# ----------------------------------------------------------------------------- parent side
@dataclass
class Outcome:
    cell: Cell
    status: str = "pending"     # ok | build_failure | crash_build | crash_run | error | wrong
    failures: list = field(default_factory=list)
    message: str = ""
    results: list | None = None
    build_s: float = 0.0
    run_s: float = 0.0
    wall_s: float = 0.0
    cpu_s: float = 0.0      # CPU seconds of the child (all threads), when it finished
    log: str = ""

    @property
    def ok(self):
        return self.status == "ok"

    def __str__(self):
        head = f"{self.cell.id}: {self.status}"
        if self.failures:
            head += "\n  Enzyme/clang gave up:\n    " + "\n    ".join(self.failures[:6])
        if self.message:
            head += "\n  " + self.message
        return head


def _start_method_context():
    import multiprocessing as mp
    ctx = mp.get_context("forkserver")
    # the server imports JAX, Enzyme-JAX and loads the libraries once; it never starts XLA, so
    # forking it is safe; each child builds and runs one cell
    ctx.set_forkserver_preload(["_placement_preload"])
    return ctx


class Runner:
    """Runs cells in forked children, up to `jobs` at a time, in the order they are queued."""

    def __init__(self, jobs=None, timeout=600.0):
        self.jobs = jobs or int(os.environ.get("DIFFLAPACK_PLACEMENT_JOBS", min(2, os.cpu_count() or 1)))
        self.timeout = timeout
        self.ctx = _start_method_context()
        self.queue, self.running, self.done = [], {}, {}

    def submit(self, cells):
        seen = set(self.done) | set(self.running) | set(self.queue)
        for c in cells:
            if c not in seen:
                self.queue.append(c)
                seen.add(c)

    def _launch(self):
        while self.queue and len(self.running) < self.jobs:
            cell = self.queue.pop(0)
            cell.prepare()
            a, b = self.ctx.Pipe(duplex=False)
            proc = self.ctx.Process(target=child_main, args=(b, cell, cell.child_cases()), daemon=True)
            proc.start()
            b.close()
            self.running[cell] = (proc, a, Outcome(cell), time.monotonic())

    def _finish(self, cell, status=None, message=""):
        proc, conn, out, t0 = self.running.pop(cell)
        if status:
            out.status, out.message = status, message
        out.wall_s = time.monotonic() - t0
        try:
            conn.close()
        except OSError:
            pass
        if proc.is_alive():
            proc.kill()
        proc.join()
        self.done[cell] = out

    def _poll(self):
        from multiprocessing.connection import wait
        conns = {v[1]: k for k, v in self.running.items()}
        ready = wait(list(conns), timeout=1.0)
        for conn in ready:
            cell = conns[conn]
            proc, _, out, t0 = self.running[cell]
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                proc.join(5)
                sig = -proc.exitcode if proc.exitcode and proc.exitcode < 0 else None
                import signal
                name = signal.Signals(sig).name if sig else f"exit {proc.exitcode}"
                stage = "run" if out.status == "built" else "build"
                self._finish(cell, f"crash_{stage}", f"the process died ({name}) while {stage}ing")
                continue
            if msg[0] == "built":
                out.failures, out.build_s = msg[1], msg[3]
                out.status, out.log = "built", msg[2]
            elif msg[0] == "done":
                out.results, out.run_s, out.cpu_s = msg[1], msg[2], msg[3]
                self._finish(cell, "ran")
            else:
                self._finish(cell, "error", f"{msg[1]} raised:\n{msg[2]}")
        now = time.monotonic()
        for cell, (proc, conn, out, t0) in list(self.running.items()):
            if now - t0 > self.timeout:
                self._finish(cell, "timeout", f"no result within {self.timeout:.0f} s")

    def result(self, cell):
        if cell not in self.done and cell not in self.running and cell not in self.queue:
            self.queue.insert(0, cell)
        while cell not in self.done:
            if cell in self.queue and len(self.running) >= self.jobs and cell not in self.running:
                # make room in the order queued; never starve the cell asked for
                self.queue.remove(cell)
                self.queue.insert(0, cell)
            self._launch()
            self._poll()
        out = self.done[cell]
        if out.status == "ran":
            out.cell.judge(out)
        return out

    def close(self):
        for cell in list(self.running):
            self._finish(cell, "error", "runner closed")
        path = os.environ.get("DIFFLAPACK_PLACEMENT_REPORT")
        if path:    # one JSON line per finished cell: id, status, seconds, message
            import json
            with open(path, "a") as f:
                for out in self.done.values():
                    f.write(json.dumps({"id": out.cell.id, "status": out.status, "build_s": round(out.build_s, 3),
                                        "wall_s": round(out.wall_s, 3), "cpu_s": round(out.cpu_s, 3),
                                        "failures": out.failures[:3], "message": out.message[:600]}) + "\n")


def _err(got, want):
    got, want = np.asarray(got, float), np.asarray(want, float)
    if got.shape != want.shape:
        return np.inf
    if not np.all(np.isfinite(got)):
        return np.inf
    return float(np.abs(got - want).max() / max(1.0, np.abs(want).max()))


def _segments_off(cell, got, want, tol):
    """Names of the output segments where got and want differ by more than tol."""
    bad, k = [], 0
    for name, n in cell.segments():
        n *= ELEMS[cell.elem].ncomp
        if _err(got[k:k + n], want[k:k + n]) > tol:
            bad.append(name)
        k += n
    return bad


def _judge(out):
    """Compare a finished run with the oracle; set status ok / build_failure / wrong."""
    cell = out.cell
    problems = []
    for k, res in enumerate(out.results):
        case = cases(cell.routine)[k]
        want = expected(cell, k)
        tol = 1e-6 * case.kappa ** 2
        ptol = 1e-10 * case.kappa
        tag = f"case {k}"
        e = _err(res["out"], want["out"])
        if e > ptol:
            problems.append(f"{tag}: primal {'/'.join(_segments_off(cell, res['out'], want['out'], ptol))} "
                            f"off by {e:.1e}")
        if "grad" in want:
            for n, g in want["grad"].items():
                got = res["grad"][n]
                e = _err(got, g)
                if e > tol:
                    zero = " (silently ZERO)" if np.all(np.asarray(got) == 0) and np.abs(g).max() > 0 else ""
                    problems.append(f"{tag}: d{n} off by {e:.1e}{zero}")
        else:
            e = _err(res["tan"], want["tan"])
            if e > tol:
                zero = " (silently ZERO)" if np.all(res["tan"] == 0) and np.abs(want["tan"]).max() > 0 else ""
                segs = "/".join(_segments_off(cell, res["tan"], want["tan"], tol))
                problems.append(f"{tag}: tangent of {segs} off by {e:.1e}{zero}")
            if cell.mode == "fwd":
                e = abs(res["dloss"] - float(np.dot(want["w"], want["tan"]))) / max(1.0, np.abs(want["tan"]).max())
                if e > tol:
                    problems.append(f"{tag}: returned dloss off by {e:.1e}")
    if out.failures:
        out.status = "build_failure"
        out.message = ("wrong numbers too: " + "; ".join(problems[:3])) if problems else "numbers happened to be right"
    elif problems:
        out.status, out.message = "wrong", "; ".join(problems[:6])
    else:
        out.status = "ok"


# ----------------------------------------------------------------------------- covering design
# Each slot through these placements with the others on the stack (the default); the remaining
# flavour of "offset sub-block" appears in the combinations below.
VARY_ONE = {"ro": ("heapcpy", "heaploop", "input", "output", "subheap"),
            "scalar": ("heapcpy", "heaploop", "input", "output", "substk"),
            "inout": ("heapcpy", "heaploop", "output", "substk"),
            "ipiv_out": ("heap", "subheap"),
            "ipiv_in": ("heap", "subheap")}
# Combinations with every slot away from the stack: {name: {slot kind: placement}}
COMBOS = {"heap": {"ro": "heaploop", "scalar": "heaploop", "inout": "heaploop", "ipiv_out": "heap", "ipiv_in": "heap"},
          "sub": {"ro": "substk", "scalar": "subheap", "inout": "subheap", "ipiv_out": "substk", "ipiv_in": "substk"},
          "inout": {"ro": "input", "scalar": "input", "inout": "output", "ipiv_out": "heap", "ipiv_in": "heap"},
          "memcpy": {"ro": "heapcpy", "scalar": "heapcpy", "inout": "heapcpy", "ipiv_out": "heap", "ipiv_in": "heap"}}


def covering(routine):
    """[(placement, activity patterns)]: the covering design of one routine.
    - every slot on the stack: every activity pattern;
    - one slot moved (VARY_ONE): everything active, and everything but the moved slot's input
      (the moved slot's input alone for a one-input routine); pivots: everything active;
    - every slot moved (COMBOS): everything active and each input alone."""
    R = ROUTINES[routine]
    everything = {n: True for n in R.inputs}
    out = [({}, activity_patterns(routine))]
    for s in R.slots:
        for p in VARY_ONE[s.kind]:
            pats = [everything]
            if s.source and len(R.inputs) > 1:
                pats.append({n: n != s.source for n in R.inputs})
            out.append(({s.name: p}, pats))
    for combo in COMBOS.values():
        pl = {s.name: combo[s.kind] for s in R.slots}
        pats = [everything] + ([{n: n == m for n in R.inputs} for m in R.inputs] if len(R.inputs) > 1 else [])
        out.append((pl, pats))
    return out


def matrix(routines=None, modes=MODES):
    cells = []
    for r in routines or ROUTINES:
        for pl, pats in covering(r):
            for m in modes:
                for act in pats:
                    cells.append(make_cell(r, m, act, **pl))
    return cells


# ----------------------------------------------------------------------------- user programs
# Composite programs written the way users write them: a C++ function
#     void FN(const double* in_1, ..., const double* in_k, double* out)
# that reads its inputs and writes its outputs once, differentiated in the four modes by a
# generated driver, against central differences of a NumPy/SciPy version of the same program.

DRIVER_PRELUDE = r"""
extern "C" {
double __enzyme_autodiff(void*, ...);
double __enzyme_fwddiff(void*, ...);
extern int enzyme_dup, enzyme_const, enzyme_out, enzyme_dupnoneed;
}
"""

# name -> (numpy version, input sets, tolerance); lives in the parent only
USER_ORACLES: dict = {}


@dataclass(frozen=True)
class UserProgram:
    name: str
    code: str               # the user's C++ (it includes difflapack_enzyme.h itself)
    fn: str
    inputs: tuple           # ((name, size), ...)
    nout: int
    mode: str
    active: tuple           # ((name, bool), ...)

    @property
    def id(self):
        return f"{self.name}-{self.mode}-" + "+".join(n for n, a in self.active if a)

    @property
    def act(self):
        return dict(self.active)

    def source(self):
        ins = [f"const enzyme::tensor<double, {n}>& {k}_t" for k, n in self.inputs]
        if self.mode in ("grad", "jvp"):
            args = ", ".join(f"&{k}_t[0]" for k, _ in self.inputs)
            return self.code + f"""
void myfn(enzyme::tensor<double, {self.nout}>& out, {", ".join(ins)}) {{
    {self.fn}({args}, &out[0]);
}}
"""
        nout, total = self.nout, self.layout()["total"]
        if self.mode == "fwd":
            ins += [f"const enzyme::tensor<double, {n}>& d{k}_t" for k, n in self.inputs]
        ins.append(f"const enzyme::tensor<double, {nout}>& w_t")
        lines = [f"double* res = &out[0];",
                 f"double sres[{nout}]; for (int i = 0; i < {nout}; i++) sres[i] = "
                 + ("w_t[i];" if self.mode == "rev" else "0;")]
        args = []
        for k, n in self.inputs:
            if self.act[k]:
                init = "0" if self.mode == "rev" else f"d{k}_t[i]"
                lines.append(f"double s_{k}[{n}]; for (int i = 0; i < {n}; i++) s_{k}[i] = {init};")
                args.append(f"enzyme_dup, (const double*)&{k}_t[0], s_{k}")
            else:
                args.append(f"enzyme_const, (const double*)&{k}_t[0]")
        args.append("enzyme_dup, res, sres")
        if self.mode == "rev":
            lines.append(f"__enzyme_autodiff((void*){self.fn}, {', '.join(args)});")
            lay = self.layout()
            for k, n in self.inputs:
                val = f"s_{k}[i]" if self.act[k] else "0"
                lines.append(f"for (int i = 0; i < {n}; i++) out[{lay['g_' + k]} + i] = {val};")
        else:
            lines.append(f"__enzyme_fwddiff((void*){self.fn}, {', '.join(args)});")
            lines.append(f"for (int i = 0; i < {nout}; i++) out[{nout} + i] = sres[i];")
        body = "\n    ".join(lines)
        return self.code + DRIVER_PRELUDE + f"""
void myfn(enzyme::tensor<double, {total}>& out, {", ".join(ins)}) {{
    {body}
}}
"""

    def layout(self):
        d, k = {}, self.nout
        if self.mode == "rev":
            for name, n in self.inputs:
                d["g_" + name] = k
                k += n
        elif self.mode == "fwd":
            k += self.nout
        d["total"] = k
        return d

    def program(self, source):
        jax = _jax()
        import jax.numpy as jnp
        from difflapack import enzyme
        from enzyme_ad.jax import cpp_call

        enzyme.load()
        argv = tuple(enzyme.cflags())
        names = [k for k, _ in self.inputs]
        total = self.layout()["total"] if self.mode in ("rev", "fwd") else self.nout

        def call(*xs):
            return cpp_call(*xs, out_shapes=[jax.core.ShapedArray([total], jnp.float64)], source=source,
                            fn="myfn", argv=argv)[0]

        act = [i for i, k in enumerate(names) if self.act[k]]
        if self.mode == "rev":
            return jax.jit(call), lambda c: [c["x"][k] for k in names] + [c["w"]]
        if self.mode == "fwd":
            return jax.jit(call), lambda c: ([c["x"][k] for k in names]
                                             + [c["d"][k] if self.act[k] else 0 * c["d"][k] for k in names]
                                             + [c["w"]])
        if self.mode == "jvp":
            def fn(xs, ds):
                tans = tuple(ds[i] if i in act else jnp.zeros_like(xs[i]) for i in range(len(xs)))
                return jax.jvp(call, tuple(xs), tans)
            return jax.jit(fn), lambda c: [[c["x"][k] for k in names], [c["d"][k] for k in names]]

        def loss(*a):
            *xs, w = a
            y = call(*xs)
            return jnp.sum(y * w), y
        return (jax.jit(jax.value_and_grad(loss, argnums=tuple(act), has_aux=True)),
                lambda c: [c["x"][k] for k in names] + [c["w"]])

    def unpack(self, r):
        names = [k for k, _ in self.inputs]
        if self.mode == "rev":
            r = np.asarray(r)
            lay = self.layout()
            return {"out": r[:self.nout], "grad": {k: r[lay["g_" + k]:lay["g_" + k] + n]
                                                   for k, n in self.inputs if self.act[k]}}
        if self.mode == "fwd":
            r = np.asarray(r)
            return {"out": r[:self.nout], "tan": r[self.nout:2 * self.nout]}
        if self.mode == "jvp":
            return {"out": np.asarray(r[0]), "tan": np.asarray(r[1])}
        (loss, y), g = r
        act = [k for k in names if self.act[k]]
        return {"out": np.asarray(y), "grad": {k: np.asarray(g[i]) for i, k in enumerate(act)}}

    def child_cases(self):
        return USER_ORACLES[self.name]["cases"]

    def prepare(self):
        user_jacobians(self.name)

    def judge(self, out):
        o = USER_ORACLES[self.name]
        problems = []
        for k, (res, case) in enumerate(zip(out.results, o["cases"])):
            J = user_jacobians(self.name)[k]
            want = o["numpy"](**case["x"])
            e = _err(res["out"], want)
            if e > o["ptol"]:
                problems.append(f"case {k}: primal outputs off by {e:.1e}")
            if "grad" in res:
                for name, g in res["grad"].items():
                    w = J[name].T @ case["w"]
                    e = _err(g, w)
                    if e > o["tol"]:
                        zero = " (silently ZERO)" if np.all(g == 0) and np.abs(w).max() > 0 else ""
                        problems.append(f"case {k}: d{name} off by {e:.1e}{zero}")
            else:
                w = sum(J[n] @ case["d"][n] for n, a in self.active if a)
                e = _err(res["tan"], w)
                if e > o["tol"]:
                    problems.append(f"case {k}: tangent off by {e:.1e}")
        if out.failures:
            out.status = "build_failure"
            out.message = ("wrong numbers too: " + "; ".join(problems[:3])) if problems else "numbers happened to be right"
        elif problems:
            out.status, out.message = "wrong", "; ".join(problems[:6])
        else:
            out.status = "ok"


_USER_JAC: dict = {}


def user_jacobians(name):
    """Central-difference Jacobians {input: (nout, size)} of the NumPy version, per case."""
    if name not in _USER_JAC:
        o = USER_ORACLES[name]
        jacs = []
        for case in o["cases"]:
            J = {}
            for k, x in case["x"].items():
                cols = []
                for i in range(x.size):
                    e = np.zeros_like(x)
                    e[i] = o["h"]
                    plus = o["numpy"](**{**case["x"], k: x + e})
                    minus = o["numpy"](**{**case["x"], k: x - e})
                    cols.append((plus - minus) / (2 * o["h"]))
                J[k] = np.stack(cols, axis=1)
            jacs.append(J)
        _USER_JAC[name] = jacs
    return _USER_JAC[name]


def register_user_program(name, code, fn, numpy_fn, input_sets, *, tol=1e-6, ptol=1e-9, h=1e-6, seed=0):
    """Registers a composite program; returns its cells (4 modes x activity patterns)."""
    inputs = tuple((k, int(np.asarray(v).size)) for k, v in input_sets[0].items())
    r = np.random.default_rng(seed)
    cases_ = []
    for xs in input_sets:
        xs = {k: np.asarray(v, dtype=float).ravel(order="F") for k, v in xs.items()}
        nout = int(np.asarray(numpy_fn(**xs)).size)
        cases_.append({"x": xs, "d": {k: r.standard_normal(v.size) for k, v in xs.items()},
                       "w": r.standard_normal(nout)})
    USER_ORACLES[name] = {"numpy": lambda **kw: np.asarray(numpy_fn(**kw), dtype=float).ravel(order="F"),
                          "cases": cases_, "tol": tol, "ptol": ptol, "h": h}
    names = [k for k, _ in inputs]
    pats = [{k: bool(b >> i & 1) for i, k in enumerate(names)} for b in range(1, 2 ** len(names))]
    pats.sort(key=lambda p: -sum(p.values()))
    return [UserProgram(name, code, fn, inputs, nout, m, tuple(p.items())) for m in MODES for p in pats]
