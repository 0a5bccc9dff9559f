"""The placement matrix's data model: element types, routines and their array slots, where a
slot can live, and the Cell (one program of the matrix). See tests/_placement.py."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

CAP = 64            # elements per array slot
NPRM = 32           # parameter vector
NPIV = 8            # pivot slots
WORK = 1024         # elements of a stack workspace (getri's query answers n * block size)
PAD = 64            # extra room of an offset sub-block buffer
H = 1e-6            # central-difference step

MODES = ("rev", "fwd", "grad", "jvp")


# ----------------------------------------------------------------------------- element types
@dataclass(frozen=True)
class Elem:
    key: str                # ELEMS key (a test id part)
    code: str               # BLAS prefix letter
    ctype: str              # C++ storage type of one storage unit
    ncomp: int              # float64 tensor entries per element (2: interleaved re, im)
    np_dtype: str           # the precision computed
    header: str = ""        # C++ the storage type needs
    re: str = "{}"          # the real part of a storage unit (complex: "{}.real()", "{}.re")
    im: str = ""            # the imaginary part
    pairs: bool = False     # complex data as (re, im) pairs of real storage units

    @property
    def complex(self):
        return self.ncomp == 2

    @property
    def single(self):
        return self.np_dtype in ("float32", "complex64")

    @property
    def units(self):        # storage units per element
        return 2 if self.pairs else 1

    @property
    def same_bytes(self):   # storage is the tensor's bytes: memcpy / in-place use are possible
        return self.np_dtype in ("float64", "complex128")

    def placements(self, kind):
        """The placements a slot of this kind can take with this element type: memcpy from a
        tensor, in-place use of a tensor and the output tensor as storage need the storage to
        be the tensor's bytes (float data is converted from float64 tensors)."""
        return tuple(p for p in PLACEMENTS[kind] if self.same_bytes or p not in ("heapcpy", "input", "output"))

    def load(self, dst, src, i):
        """C++: storage element i of `dst` from the float64 array `src` (tensor layout)."""
        if self.ncomp == 1 or self.pairs:
            return f"{dst}[{i}] = ({self.ctype}){src}[{i}];"       # (pairs: i runs over units)
        return f"{dst}[{i}] = {self.make(f'{src}[2 * ({i})]', f'{src}[2 * ({i}) + 1]')};"

    def make(self, re, im):
        """C++: a complex storage element from two double expressions."""
        if self.key == "zs":
            return f"{self.ctype}{{{re}, {im}}}"
        r = "float" if self.single else "double"
        return f"{self.ctype}(({r})({re}), ({r})({im}))"

    def store(self, dst, src, i):
        """C++: float64 array `dst` (tensor layout) from storage element i of `src`."""
        if self.ncomp == 1 or self.pairs:
            return f"{dst}[{i}] = (double){src}[{i}];"
        x = f"{src}[{i}]"
        return f"{dst}[2 * ({i})] = {self.re.format(x)}; {dst}[2 * ({i}) + 1] = {self.im.format(x)};"

    def real_part(self, x):
        """C++: the real part of storage unit x as a double (pairs: x is the real unit)."""
        return f"(double)({self.re.format(x)})"


_CPLX = "#include <complex>\n"
ELEMS = {
    "d": Elem("d", "d", "double", 1, "float64"),
    # float storage converted from float64 tensors inside the program (enzyme-ad cannot build
    # split mode over float32 tensors)
    "s": Elem("s", "s", "float", 1, "float32"),
    "z": Elem("z", "z", "std::complex<double>", 2, "complex128", _CPLX, "{}.real()", "{}.imag()"),
    # complex data as interleaved (re, im) doubles
    "zd": Elem("zd", "z", "double", 2, "complex128", pairs=True),
    # complex data as the user's own struct (what C code often declares for Fortran's COMPLEX*16)
    "zs": Elem("zs", "z", "dcomplex", 2, "complex128", "struct dcomplex { double re, im; };\n", "{}.re", "{}.im"),
    "c": Elem("c", "c", "std::complex<float>", 2, "complex64", _CPLX, "{}.real()", "{}.imag()"),
}


def input_length(name, elem):
    """float64 tensor entries of an input."""
    return elem.ncomp * (1 if name == "alpha" else CAP)


# ----------------------------------------------------------------------------- routines
@dataclass(frozen=True)
class Slot:
    name: str               # placeholder in the call template
    kind: str               # ro (read-only array) | scalar (read-only, by address) | inout | ipiv_out | ipiv_in | work
    source: str | None = None   # the input that fills it
    segment: str | None = None  # inout: the output segment it ends in
    ld: str | None = None       # its leading-dimension parameter (offset of a sub-block)

    @property
    def length(self):       # elements
        return {"scalar": 1, "ipiv_out": NPIV, "ipiv_in": NPIV, "work": WORK}.get(self.kind, CAP)


PLACEMENTS = {
    "ro": ("stack", "heapcpy", "heaploop", "input", "output", "substk", "subheap"),
    "scalar": ("stack", "heapcpy", "heaploop", "input", "output", "substk", "subheap"),
    "inout": ("stack", "heapcpy", "heaploop", "output", "substk", "subheap"),
    "ipiv_out": ("stack", "heap", "substk", "subheap"),
    "ipiv_in": ("stack", "heap", "substk", "subheap"),
    # getri's workspace: a fixed stack array, or a heap buffer of the size the query answered
    "work": ("stack", "heap"),
}
DEFAULT = "stack"


@dataclass(frozen=True)
class Routine:
    name: str
    inputs: tuple           # differentiable inputs, in cpp_call order (tensors)
    params: tuple           # (name, kind): kind flag | int | ipiv
    slots: tuple
    call: str               # C++ statement; {p} = prefix, {SLOT} = pointer expression, {T} = storage
                            # type, {re} = real part of a storage unit, {work_alloc} (see _placement_cpp)
    cases: tuple            # parameter dicts
    piv_count: str | None = None    # C++ expression: pivots written (ipiv_out)
    extra_cases: tuple = ()         # (p, alpha) pairs

    def slot(self, name):
        return next(s for s in self.slots if s.name == name)


F, I = "flag", "int"
# getri after LAPACK's workspace query, as Julia's getri! calls it
_GETRI = ("{{ {T} wq[2]; int lq = -1; {p}getri_(&n, {A}, &lda, {ipiv}, wq, &lq, &info); "
          "int lw = (int){re}; {work_alloc}"
          "{p}getri_(&n, {A}, &lda, {ipiv}, {work}, &lw, &info); }}")
ROUTINES = {
    "trsv": Routine(
        "trsv", ("A", "b"), (("uplo", F), ("trans", F), ("diag", F), ("n", I), ("lda", I), ("inc", I)),
        (Slot("A", "ro", "A", ld="lda"), Slot("x", "inout", "b", "x")),
        "{p}trsv_(&uplo, &trans, &diag, &n, {A}, &lda, {x}, &inc);",
        (dict(uplo="U", trans="N", diag="N", n=4, lda=5, inc=1),
         dict(uplo="L", trans="T", diag="U", n=5, lda=6, inc=2),
         dict(uplo="U", trans="T", diag="N", n=3, lda=6, inc=-1),
         dict(uplo="L", trans="C", diag="N", n=4, lda=4, inc=-2))),
    "trsm": Routine(
        "trsm", ("A", "b", "alpha"),
        (("side", F), ("uplo", F), ("transa", F), ("diag", F), ("m", I), ("n", I), ("lda", I), ("ldb", I)),
        (Slot("alpha", "scalar", "alpha"), Slot("A", "ro", "A", ld="lda"), Slot("B", "inout", "b", "x", ld="ldb")),
        "{p}trsm_(&side, &uplo, &transa, &diag, &m, &n, {alpha}, {A}, &lda, {B}, &ldb);",
        (dict(side="L", uplo="U", transa="N", diag="N", m=4, n=3, lda=5, ldb=6),
         dict(side="R", uplo="L", transa="T", diag="U", m=3, n=4, lda=5, ldb=4),
         dict(side="L", uplo="L", transa="C", diag="N", m=5, n=2, lda=6, ldb=7),
         dict(side="R", uplo="U", transa="N", diag="N", m=2, n=5, lda=6, ldb=3),
         dict(side="R", uplo="U", transa="C", diag="U", m=3, n=3, lda=4, ldb=3)),
        extra_cases=((dict(side="L", uplo="U", transa="N", diag="N", m=4, n=3, lda=5, ldb=6), 0.0),)),
    "getrf": Routine(
        "getrf", ("A",), (("m", I), ("n", I), ("lda", I)),
        (Slot("A", "inout", "A", "lu", ld="lda"), Slot("ipiv", "ipiv_out")),
        "{p}getrf_(&m, &n, {A}, &lda, {ipiv}, &info);",
        (dict(m=4, n=4, lda=5), dict(m=6, n=4, lda=7), dict(m=3, n=5, lda=4)),
        piv_count="(m < n ? m : n)"),
    "getrs": Routine(
        "getrs", ("A", "b"), (("trans", F), ("n", I), ("nrhs", I), ("lda", I), ("ldb", I), ("ipiv", "ipiv")),
        (Slot("A", "ro", "A", ld="lda"), Slot("ipiv", "ipiv_in"), Slot("B", "inout", "b", "x", ld="ldb")),
        "{p}getrs_(&trans, &n, &nrhs, {A}, &lda, {ipiv}, {B}, &ldb, &info);",
        (dict(trans="N", n=4, nrhs=2, lda=5, ldb=6), dict(trans="T", n=5, nrhs=3, lda=6, ldb=5),
         dict(trans="C", n=3, nrhs=2, lda=4, ldb=3), dict(trans="N", n=1, nrhs=1, lda=1, ldb=1))),
    "gesv": Routine(
        "gesv", ("A", "b"), (("n", I), ("nrhs", I), ("lda", I), ("ldb", I)),
        (Slot("A", "inout", "A", "lu", ld="lda"), Slot("ipiv", "ipiv_out"), Slot("B", "inout", "b", "x", ld="ldb")),
        "{p}gesv_(&n, &nrhs, {A}, &lda, {ipiv}, {B}, &ldb, &info);",
        (dict(n=4, nrhs=2, lda=5, ldb=6), dict(n=5, nrhs=1, lda=5, ldb=5), dict(n=3, nrhs=3, lda=3, ldb=4)),
        piv_count="n"),
    "trtrs": Routine(
        "trtrs", ("A", "b"),
        (("uplo", F), ("trans", F), ("diag", F), ("n", I), ("nrhs", I), ("lda", I), ("ldb", I)),
        (Slot("A", "ro", "A", ld="lda"), Slot("B", "inout", "b", "x", ld="ldb")),
        "{p}trtrs_(&uplo, &trans, &diag, &n, &nrhs, {A}, &lda, {B}, &ldb, &info);",
        (dict(uplo="U", trans="N", diag="N", n=4, nrhs=2, lda=5, ldb=6),
         dict(uplo="L", trans="T", diag="U", n=5, nrhs=3, lda=6, ldb=5),
         dict(uplo="L", trans="C", diag="N", n=3, nrhs=1, lda=3, ldb=4))),
    # the inverse from packed LU factors (pivots are data), after the workspace query
    "getri": Routine(
        "getri", ("A",), (("n", I), ("lda", I), ("ipiv", "ipiv")),
        (Slot("A", "inout", "A", "lu", ld="lda"), Slot("ipiv", "ipiv_in"), Slot("work", "work")),
        _GETRI,
        (dict(n=4, lda=5), dict(n=5, lda=5), dict(n=3, lda=4))),
    # Julia's inv: getrf!, the query, getri! on the same, unchanged buffer (the linked inverse)
    "inv": Routine(
        "inv", ("A",), (("n", I), ("lda", I)),
        (Slot("A", "inout", "A", "lu", ld="lda"), Slot("ipiv", "ipiv_out"), Slot("work", "work")),
        "{p}getrf_(&n, &n, {A}, &lda, {ipiv}, &info); " + _GETRI,
        (dict(n=4, lda=5), dict(n=5, lda=6), dict(n=3, lda=3)),
        piv_count="n"),
    "potrf": Routine(
        "potrf", ("A",), (("uplo", F), ("n", I), ("lda", I)),
        (Slot("A", "inout", "A", "lu", ld="lda"),),
        "{p}potrf_(&uplo, &n, {A}, &lda, &info);",
        (dict(uplo="L", n=4, lda=5), dict(uplo="U", n=5, lda=6), dict(uplo="U", n=3, lda=3))),
    "potrs": Routine(
        "potrs", ("A", "b"), (("uplo", F), ("n", I), ("nrhs", I), ("lda", I), ("ldb", I)),
        (Slot("A", "ro", "A", ld="lda"), Slot("B", "inout", "b", "x", ld="ldb")),
        "{p}potrs_(&uplo, &n, &nrhs, {A}, &lda, {B}, &ldb, &info);",
        (dict(uplo="L", n=4, nrhs=2, lda=5, ldb=6), dict(uplo="U", n=5, nrhs=3, lda=6, ldb=5),
         dict(uplo="U", n=3, nrhs=1, lda=3, ldb=4))),
    "posv": Routine(
        "posv", ("A", "b"), (("uplo", F), ("n", I), ("nrhs", I), ("lda", I), ("ldb", I)),
        (Slot("A", "inout", "A", "lu", ld="lda"), Slot("B", "inout", "b", "x", ld="ldb")),
        "{p}posv_(&uplo, &n, &nrhs, {A}, &lda, {B}, &ldb, &info);",
        (dict(uplo="L", n=4, nrhs=2, lda=5, ldb=6), dict(uplo="U", n=5, nrhs=1, lda=5, ldb=5),
         dict(uplo="L", n=3, nrhs=3, lda=3, ldb=4))),
}


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
    def E(self):
        return ELEMS[self.elem]

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
        prec = "" if self.elem == "d" else f"{self.elem}:"
        return f"{head}{prec}{self.routine}-{pl}-{self.mode}-{act}"

    def segments(self):
        """Output segments (name, float64 tensor entries) in tensor order."""
        segs, seen, nc = [], set(), self.E.ncomp
        for s in self.R.slots:
            if s.kind == "inout" and s.segment not in seen:
                segs.append((s.segment, CAP * nc))
                seen.add(s.segment)
            if s.kind == "ipiv_out":
                segs.append(("piv", NPIV))
        for s in self.R.slots:
            if s.kind in ("ro", "scalar") and self.place[s.name] == "output":
                segs.append(("keep_" + s.name, s.length * nc))
        return segs

    def seg_offsets(self):
        off, d = 0, {}
        for name, n in self.segments():
            d[name] = (off, n)
            off += n
        return d, off

    def control(self, impl="ref"):
        return dataclasses.replace(self, impl=impl)

    # the job interface of _placement_run.Runner
    def source(self):
        from _placement_cpp import build_source
        return build_source(self)

    def program(self, source):
        from _placement_run import cell_program
        return cell_program(self, source)

    def unpack(self, raw):
        from _placement_run import cell_unpack
        return cell_unpack(self, raw)

    def child_cases(self):
        from _placement_oracle import cases
        return cases(self.routine, self.E.complex)

    def prepare(self):      # the oracle, in the parent, before the child starts
        from _placement_oracle import expected
        for k in range(len(self.child_cases())):
            expected(self, k)

    def judge(self, out):
        from _placement_oracle import judge
        judge(out)


def make_cell(routine, mode, active, impl="dl", elem="d", **placement):
    R = ROUTINES[routine]
    pl = tuple((s.name, placement.get(s.name, DEFAULT)) for s in R.slots)
    for s, p in pl:
        if p not in ELEMS[elem].placements(R.slot(s).kind):
            raise ValueError(f"{routine}/{elem}: slot {s} ({R.slot(s).kind}) cannot be placed in {p}")
    act = tuple((n, bool(active[n])) for n in R.inputs)
    if not any(a for _, a in act):
        raise ValueError("at least one input must be active")
    return Cell(routine, pl, mode, act, impl, elem)


def activity_patterns(routine):
    names = ROUTINES[routine].inputs
    return [{n: bool(bits >> i & 1) for i, n in enumerate(names)} for bits in range(1, 2 ** len(names))]
