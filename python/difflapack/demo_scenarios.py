"""The demo's scenarios as C++ sources over any precision: the user's report and two Julia examples.

The user's report (``/work/shared/seed/REPORT.md``) differentiates ``A \\ b``, ``getrf!``,
``getrs!``, ``trsv!``, ``trsm!`` and a pre-factored LU solve (row swaps + two ``trsv!``);
Enzyme.jl issue #2260 differentiates ``inv`` of a Legendre Vandermonde matrix with respect to
its nodes, which LinearAlgebra computes as ``getrf`` then ``getri`` (after a workspace query);
``logabsdet`` is ``getrf`` then the sum of log|U_ii|. Each is a C++ function in the seed's
``f!(out, inputs...)`` style that returns the sum of its result.

Each scenario is written ONCE, as a body over ``ELEM`` (the element type) that calls LAPACK
as ``?gesv_(...)``: ``?`` becomes the precision letter and ``_`` the symbol suffix (``_`` or
Julia's ILP64 ``_64_``, with ``BLASINT`` the matching integer). A thin wrapper, generated from
the scenario's parameter list, takes difflapack.testing's argument model (float64 arrays ->
``double*``) and hands the body its elements; what that means is the precision's prelude:

    d (Float64)     the double arrays are the elements;
    z (ComplexF64)  the double arrays hold interleaved (re, im) pairs: reinterpreted in place
                    (Enzyme's shadow then holds the derivatives w.r.t. real and imaginary parts);
    s (Float32)     float copies of the double arrays (enzyme-ad 0.0.16 cannot build jax.grad
                    over float32 tensors), and the written outputs are copied back.

A complex result's sum is returned as Re + Im (a real number that depends on both parts).
"""
from __future__ import annotations

import dataclasses
import re
from typing import Callable

import numpy as np

N = 6  # the seed's size
NRHS_TRSM = 3


@dataclasses.dataclass(frozen=True)
class Precision:
    julia: str  # the seed's name of the element type
    complex: bool
    prelude: str  # ELEM, and SEED_ELEMS / SEED_BACK / SEED_FREE for the wrappers
    rtol: float  # of the finite-difference checks
    fd_step: float | None  # None: check_rule's default


_NO_COPY = "#define SEED_BACK(p, count)\n#define SEED_FREE(p)\n"
PRECISIONS = {
    "d": Precision("Float64", False, "typedef double ELEM;\n"
                   "#define SEED_ELEMS(p, count) ELEM* p##_e = p\n" + _NO_COPY, 1e-6, None),
    "s": Precision("Float32", False, r"""typedef float ELEM;
static float* seed_floats(const double* p, long count) {
  float* q = (float*)__builtin_malloc(sizeof(float) * count);
  for (long k = 0; k < count; ++k) q[k] = (float)p[k];
  return q;
}
static void seed_store(const float* q, double* p, long count) { for (long k = 0; k < count; ++k) p[k] = q[k]; }
#define SEED_ELEMS(p, count) ELEM* p##_e = seed_floats(p, count)
#define SEED_BACK(p, count) seed_store(p##_e, p, count)
#define SEED_FREE(p) __builtin_free(p##_e)
""", 5e-3, 1e-2),  # float rounding noise ~1e-7 |x| / step: a larger step, a float-sized tolerance
    # (inv's tangent -X dV X carries kappa(V)^2 times float's eps: ~2e-3 measured at n = 6)
    "z": Precision("ComplexF64", True, "typedef _Complex double ELEM;\n"
                   "#define SEED_ELEMS(p, count) ELEM* p##_e = (ELEM*)p\n" + _NO_COPY, 1e-6, None),
}
SYMBOL_SUFFIXES = {"_": "int", "_64_": "long long"}  # -> BLASINT
ROUTINES = ("trsv", "trsm", "getrf", "getrs", "gesv", "getri")

_COMMON = r"""
static double seed_sum(const ELEM* x, long count) {   /* sum(x); a complex sum as Re + Im */
  ELEM s = 0;
  for (long k = 0; k < count; ++k) s += x[k];
  return __real__ s + __imag__ s;                     /* __imag__ of a real number is 0 */
}
"""

# The Fortran prototypes a user writes when no header helps (no hidden string lengths, as C
# callers usually do).
_OWN_PROTOTYPES = r"""
extern "C" {
void ?trsv_(const char*, const char*, const char*, const BLASINT*, const ELEM*, const BLASINT*, ELEM*, const BLASINT*);
void ?trsm_(const char*, const char*, const char*, const char*, const BLASINT*, const BLASINT*, const ELEM*,
            const ELEM*, const BLASINT*, ELEM*, const BLASINT*);
void ?getrf_(const BLASINT*, const BLASINT*, ELEM*, const BLASINT*, BLASINT*, BLASINT*);
void ?getrs_(const char*, const BLASINT*, const BLASINT*, const ELEM*, const BLASINT*, const BLASINT*, ELEM*,
             const BLASINT*, BLASINT*);
void ?gesv_(const BLASINT*, const BLASINT*, ELEM*, const BLASINT*, BLASINT*, ELEM*, const BLASINT*, BLASINT*);
void ?getri_(const BLASINT*, ELEM*, const BLASINT*, const BLASINT*, ELEM*, const BLASINT*, BLASINT*);
}
"""


_ELEM_ARRAYS = ("in", "out")  # parameter kinds of ELEM arrays; "out" arrays are written by the call


@dataclasses.dataclass(frozen=True)
class Scenario:
    key: str
    call: str  # its name in the seed's table
    routines: str  # what it calls, "?" for the precision letter
    params: tuple  # (name, kind, element count); kind: one of _ELEM_ARRAYS, "pivots" or "int"
    body: str  # static double seed_<key>_body(<params>) over ELEM
    data: Callable  # SeedData -> the arguments, ELEM arrays in the precision's dtype
    origin: str = "seed"

    @property
    def fn(self) -> str:
        return f"seed_{self.key}"

    @property
    def routine_list(self) -> list[str]:
        """The LAPACK routines it calls, without precision and suffix: ["getrf", "getri"]."""
        return re.findall(r"\?(\w+?)_", self.routines)


def _wrapper(sc: Scenario) -> str:
    """double seed_<key>(check_rule's arguments) around the body, per the precision's prelude."""
    arrays = [(name, count) for name, kind, count in sc.params if kind in _ELEM_ARRAYS]
    ctype = {"in": "double*", "out": "double*", "pivots": "BLASINT*", "int": "int"}
    params = ", ".join(f"{ctype[kind]} {name}" for name, kind, _ in sc.params)
    args = ", ".join(f"{name}_e" if kind in _ELEM_ARRAYS else name for name, kind, _ in sc.params)
    lines = [f"double {sc.fn}({params}) {{"]
    lines += [f"  SEED_ELEMS({name}, {count});" for name, count in arrays]
    lines.append(f"  double r = {sc.fn}_body({args});")
    lines += [f"  SEED_BACK({name}, {count});" for name, kind, count in sc.params if kind == "out"]
    lines += [f"  SEED_FREE({name});" for name, _ in arrays]
    return "\n".join(lines + ["  return r;", "}"])


def _body_params(sc: Scenario) -> str:
    ctype = {"in": "ELEM*", "out": "ELEM*", "pivots": "BLASINT*", "int": "int"}
    return ", ".join(f"{ctype[kind]} {name}" for name, kind, _ in sc.params)


SCENARIOS = [
    Scenario("solve", "A \\ b", "?gesv_", (("A", "in", "n * n"), ("b", "in", "n"), ("n", "int", "")), r"""
  BLASINT nn = n, one = 1, info = 0;                       /* sum(A \ b) = copy + ?gesv */
  ELEM* lu = (ELEM*)__builtin_malloc(sizeof(ELEM) * n * n);
  ELEM* x = (ELEM*)__builtin_malloc(sizeof(ELEM) * n);
  BLASINT* ipiv = (BLASINT*)__builtin_malloc(sizeof(BLASINT) * n);
  for (int k = 0; k < n * n; ++k) lu[k] = A[k];
  for (int i = 0; i < n; ++i) x[i] = b[i];
  ?gesv_(&nn, &one, lu, &nn, ipiv, x, &nn, &info);
  double s = seed_sum(x, n);
  __builtin_free(lu); __builtin_free(x); __builtin_free(ipiv);
  return s;""", lambda d: [d.A, d.b, d.n]),
    Scenario("getrf", "getrf!", "?getrf_", (("buf", "out", "n * n"), ("A", "in", "n * n"), ("n", "int", "")), r"""
  BLASINT nn = n, info = 0;                                /* copyto!(buf, A); getrf!(buf) */
  BLASINT* ipiv = (BLASINT*)__builtin_malloc(sizeof(BLASINT) * n);
  for (int k = 0; k < n * n; ++k) buf[k] = A[k];
  ?getrf_(&nn, &nn, buf, &nn, ipiv, &info);
  __builtin_free(ipiv);
  return seed_sum(buf, n * n);""", lambda d: [d.zeros(d.n, d.n), d.A, d.n]),
    Scenario("getrs", "getrs!", "?getrs_", (("x", "out", "n"), ("fac", "in", "n * n"), ("ipiv", "pivots", ""),
                                             ("b", "in", "n"), ("n", "int", "")), r"""
  BLASINT nn = n, one = 1, info = 0;                       /* copyto!(x, b); getrs!('N', fac, ipiv, x) */
  for (int i = 0; i < n; ++i) x[i] = b[i];
  ?getrs_("N", &nn, &one, fac, &nn, ipiv, x, &nn, &info);
  return seed_sum(x, n);""", lambda d: [d.zeros(d.n), d.factors, d.ipiv, d.b, d.n]),
    Scenario("trsv", "trsv!", "?trsv_", (("x", "out", "n"), ("U", "in", "n * n"), ("b", "in", "n"), ("n", "int", "")),
             r"""
  BLASINT nn = n, inc = 1;                                 /* copyto!(x, b); trsv!('U', 'N', 'N', U, x) */
  for (int i = 0; i < n; ++i) x[i] = b[i];
  ?trsv_("U", "N", "N", &nn, U, &nn, x, &inc);
  return seed_sum(x, n);""", lambda d: [d.zeros(d.n), d.U, d.b, d.n]),
    Scenario("trsm", "trsm!", "?trsm_", (("X", "out", "n * nrhs"), ("U", "in", "n * n"), ("B", "in", "n * nrhs"),
                                          ("n", "int", ""), ("nrhs", "int", "")), r"""
  BLASINT nn = n, mm = nrhs; const ELEM alpha = 1;         /* copyto!(X, B); trsm!('L', 'U', 'N', 'N', 1, U, X) */
  for (int k = 0; k < n * nrhs; ++k) X[k] = B[k];
  ?trsm_("L", "U", "N", "N", &nn, &mm, &alpha, U, &nn, X, &nn);
  return seed_sum(X, n * nrhs);""", lambda d: [d.zeros(d.n, NRHS_TRSM), d.U, d.B, d.n, NRHS_TRSM]),
    Scenario("lu_trsv", "LU solve: pre-factor + trsv!", "2x ?trsv_",
             (("x", "out", "n"), ("factors", "in", "n * n"), ("ipiv", "pivots", ""), ("b", "in", "n"),
              ("n", "int", "")), r"""
  BLASINT nn = n, inc = 1;                                 /* lu_trsv!: the factors come from outside */
  for (int i = 0; i < n; ++i) x[i] = b[i];
  for (int i = 0; i < n; ++i) {                            /* _apply_ipiv! */
    BLASINT p = ipiv[i] - 1;
    if (p != i) { ELEM t = x[i]; x[i] = x[p]; x[p] = t; }
  }
  ?trsv_("L", "N", "U", &nn, factors, &nn, x, &inc);
  ?trsv_("U", "N", "N", &nn, factors, &nn, x, &inc);
  return seed_sum(x, n);""", lambda d: [d.zeros(d.n), d.factors, d.ipiv, d.b, d.n]),
    Scenario("inv", "inv(V): Legendre Vandermonde", "?getrf_ + ?getri_",
             (("Vinv", "out", "n * n"), ("nodes", "in", "n"), ("n", "int", "")), r"""
  /* Enzyme.jl #2260: V[i, j] = P_j(nodes[i]) (Legendre, three-term recurrence), then inv(V) as
   * LinearAlgebra computes it: lu(V) (a copy, ?getrf) and getri! (workspace query, ?getri). */
  BLASINT nn = n, info = 0, lwork = -1;
  ELEM* V = (ELEM*)__builtin_malloc(sizeof(ELEM) * n * n);
  for (int i = 0; i < n; ++i) {
    ELEM x = nodes[i], p_prev = 1, p = x;
    V[i] = 1;
    if (n > 1) V[i + n] = x;
    for (int j = 2; j < n; ++j) {
      /* times 1/j, not / (ELEM)j: Enzyme 0.0.16 differentiates C's complex division wrongly in
       * reverse mode (docs/enzyme-limitations/complex_division.py) */
      ELEM p_next = ((2 * j - 1) * x * p - (j - 1) * p_prev) * (1.0 / j);
      p_prev = p; p = p_next;
      V[i + j * n] = p;
    }
  }
  BLASINT* ipiv = (BLASINT*)__builtin_malloc(sizeof(BLASINT) * n);
  for (int k = 0; k < n * n; ++k) Vinv[k] = V[k];
  ?getrf_(&nn, &nn, Vinv, &nn, ipiv, &info);
  ELEM query[1];
  ?getri_(&nn, Vinv, &nn, ipiv, query, &lwork, &info);     /* lwork = -1: the optimal size in query[0] */
  lwork = (BLASINT)__real__ query[0];
  ELEM* work = (ELEM*)__builtin_malloc(sizeof(ELEM) * lwork);
  ?getri_(&nn, Vinv, &nn, ipiv, work, &lwork, &info);
  __builtin_free(work); __builtin_free(ipiv); __builtin_free(V);
  return seed_sum(Vinv, n * n);""", lambda d: [d.zeros(d.n, d.n), d.nodes, d.n], origin="Enzyme.jl #2260"),
    Scenario("logdet", "logabsdet(A)", "?getrf_", (("A", "in", "n * n"), ("n", "int", "")), r"""
  BLASINT nn = n, info = 0;                                /* log|det A| = sum of log|U_ii| of lu(A) */
  ELEM* lu = (ELEM*)__builtin_malloc(sizeof(ELEM) * n * n);
  BLASINT* ipiv = (BLASINT*)__builtin_malloc(sizeof(BLASINT) * n);
  for (int k = 0; k < n * n; ++k) lu[k] = A[k];
  ?getrf_(&nn, &nn, lu, &nn, ipiv, &info);
  double s = 0;
  for (int i = 0; i < n; ++i) {
    ELEM u = lu[i + i * n];
    s += 0.5 * __builtin_log((double)(__real__ u * __real__ u + __imag__ u * __imag__ u));
  }
  __builtin_free(lu); __builtin_free(ipiv);
  return s;""", lambda d: [d.A, d.n], origin="LinearAlgebra"),
]
BY_KEY = {sc.key: sc for sc in SCENARIOS}
SEED_KEYS = ("solve", "getrf", "getrs", "trsv", "trsm", "lu_trsv")


def _name_routines(text: str, prec: str, suffix: str) -> str:
    return re.sub(r"\?(" + "|".join(ROUTINES) + r")_", lambda m: f"{prec}{m.group(1)}{suffix}", text)


def source(keys, prec: str = "d", suffix: str = "_", with_difflapack: bool = True) -> str:
    """The C++ source of the scenarios `keys` for precision `prec` and the `suffix` symbols:
    the user's code with their own Fortran prototypes, and with difflapack: the same code
    after one more line, ``#include "difflapack_enzyme.h"``."""
    head = f"typedef {SYMBOL_SUFFIXES[suffix]} BLASINT;\n" + PRECISIONS[prec].prelude
    head += '#include "difflapack_enzyme.h"\n' if with_difflapack else ""
    parts = [head, _OWN_PROTOTYPES, _COMMON]
    for key in ([keys] if isinstance(keys, str) else keys):
        sc = BY_KEY[key]
        parts += [f"static double {sc.fn}_body({_body_params(sc)}) {{{sc.body}\n}}", _wrapper(sc)]
    return _name_routines("\n".join(parts) + "\n", prec, suffix)


def routine_names(sc: Scenario, prec: str, suffix: str) -> str:
    return _name_routines(sc.routines, prec, suffix)


def getri_probe_source(precs) -> str:
    """A source that compiles only if difflapack_enzyme.h interposes ?getri_ for every
    precision in `precs`: the header names each routine it interposes with a function-like
    macro, so the preprocessor knows. One #error per missing one."""
    checks = "".join(f"#ifndef {p}getri_\n#error \"difflapack_enzyme.h does not interpose {p}getri_\"\n#endif\n"
                     for p in precs)
    return '#include "difflapack_enzyme.h"\n' + checks + "double seed_probe(double* x) { return x[0]; }\n"


# ------------------------------------------------------------------ data
class SeedData:
    """The seed's data for one precision, in float64 or complex128 (Float32 scenarios round
    inside the C++ source): A = randn(n, n), b = randn(n), B = randn(n, 3), F = lu(A),
    U = triu(F.factors) (complex: imaginary parts drawn after the real ones, so the real parts
    are the Float64 data); the inv nodes are Chebyshev-Gauss-Lobatto points on [-1, 1]."""

    def __init__(self, prec: str, suffix: str = "_", n: int = N, seed: int = 42):
        from scipy.linalg import lu_factor

        r = np.random.default_rng(seed)
        self.n = n
        A, b, B = r.standard_normal((n, n)), r.standard_normal(n), r.standard_normal((n, NRHS_TRSM))
        if PRECISIONS[prec].complex:
            A, b, B = (x + 1j * r.standard_normal(x.shape) for x in (A, b, B))
        factors, piv0 = lu_factor(A)
        self.A, self.b, self.B = A, b, B
        self.factors, self.U = np.asfortranarray(factors), np.triu(factors)
        self.ipiv = (piv0 + 1).astype(np.int64 if suffix == "_64_" else np.int32)
        self.nodes = (-np.cos(np.pi * np.arange(n) / (n - 1))).astype(A.dtype)

    def zeros(self, *shape):
        return np.zeros(shape, self.A.dtype)


def check_rule_arg(x):
    """A scenario argument in difflapack.testing's model: complex arrays as float64 arrays of
    interleaved (re, im) pairs (leading axis of 2: Fortran order puts each pair together)."""
    if isinstance(x, np.ndarray) and np.iscomplexobj(x):
        return np.stack([x.real, x.imag])
    return x


def cases(keys, prec: str = "d", suffix: str = "_", n: int = N, seed: int = 42) -> list:
    """difflapack.testing Cases of the scenarios `keys`: ELEM arrays Duplicated (as in the seed),
    pivots and sizes Const."""
    from .testing import Case, Const, Duplicated

    data = SeedData(prec, suffix, n, seed)
    out = []
    for key in keys:
        sc = BY_KEY[key]
        acts = [Duplicated if kind in _ELEM_ARRAYS else Const for _, kind, _ in sc.params]
        out.append(Case(sc.fn, [check_rule_arg(x) for x in sc.data(data)], acts, [p[0] for p in sc.params]))
    return out
