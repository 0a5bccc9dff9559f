"""An EnzymeTestUtils-like checker for C functions differentiated by Enzyme.

``check_rule(source, fn, args, activities)`` builds the C/C++ function `fn` of `source` with
Enzyme (through Enzyme-JAX ``cpp_call``) in several modes and compares each derivative with
finite differences of the primal:

    "forward"  combined forward mode: ``__enzyme_fwddiff`` called inside the generated source
    "reverse"  combined reverse mode: ``__enzyme_autodiff`` called inside the generated source
    "split"    split reverse mode: ``jax.vjp`` over the primal ``cpp_call`` (Enzyme-JAX drives
               Enzyme's augmented forward + reverse passes)
    "jvp"      forward mode as Enzyme-JAX drives it: ``jax.jvp`` over the primal ``cpp_call``

How the function is seen: every `Duplicated` array argument is input AND output (its final
value after the call), and a double return value is an output when ``return_activity`` is
`Active`/`Duplicated`. So the primal is a map F(s) = (s', r) of the active arrays s, which is
exactly Enzyme's semantics for in-place arguments: a forward tangent is J v; a reverse shadow
holds w on entry and J^T w on exit. `Const` arguments are baked into the generated source as
data, so Enzyme sees them as constants in every mode (enzyme_const in the combined modes).

Checks: forward/jvp tangents against a fourth-order central difference of F along a random
direction v; reverse/split by the dot-product test <J v, w> (J v from the finite difference)
= <v, J^T w> (J^T w from Enzyme) for a random w (the return value's seed is 1 in "reverse",
where ``__enzyme_autodiff`` fixes it). Every Enzyme build goes through the build check of
``difflapack.enzyme`` (the one ``difflapack.enzyme.cpp_call`` uses: the build's stderr is
captured and scanned with ``ENZYME_FAILURE_PATTERNS``, and an exception of the build counts
too); a build that failed ("No forward mode derivative", "Cannot deduce type of copy", a clang
error, "LLVM ERROR", ...) fails its mode with those lines and is never run, since such builds
can run and return wrong numbers or crash. With ``isolate`` (default), a forked child builds
first, so that a build that crashes Enzyme fails its mode instead of killing the process.

Arguments, by Python type (the C parameter type comes from the function; the generated call
converts): float64 array -> ``double*`` (column-major, i.e. Fortran order, any shape);
int32 array -> ``int*``; int64 array -> 64-bit integer pointer (``long``/``long long``/
``int64_t``); Python ``int`` -> an integer by value; Python ``float`` -> ``double`` by value
(Const only); ``str`` of length 1 -> a flag, accepted as ``char`` or ``const char*``.

Example::

    src = "double f(double* x, const double* a, int n) { ...; return s; }"
    report = check_rule(src, "f", [x, a, 3], [Duplicated, Duplicated, Const],
                        return_activity=Active, all_activity_patterns=True)
    assert report.ok, report

This module enables ``jax_enable_x64`` on import (the checker works in float64).
"""
from __future__ import annotations

import dataclasses
import itertools
import time
from typing import Sequence

import numpy as np

__all__ = [
    "Const", "Duplicated", "Active", "check_rule", "assert_rule", "enzyme_errors", "short_error",
    "CheckReport", "PatternCheck", "ModeResult", "DEFAULT_MODES", "ALL_MODES",
]


class Const:
    """Activity marker: the argument carries no derivative (enzyme_const)."""


class Duplicated:
    """Activity marker: the argument has a shadow (enzyme_dup); arrays only, and for the
    return value: its tangent (forward) / an output of the map (reverse)."""


class Active:
    """Activity marker for a double return value in reverse mode (like EnzymeTestUtils)."""


DEFAULT_MODES = ("forward", "reverse", "split")
ALL_MODES = ("forward", "reverse", "split", "jvp")
_ACTIVITY_NAMES = {Const: "Const", Duplicated: "Duplicated", Active: "Active"}


# ------------------------------------------------------------------ results
@dataclasses.dataclass
class ModeResult:
    mode: str
    ok: bool
    error: float | None = None  # relative error against the finite-difference reference
    tol: float | None = None
    message: str = ""  # why it failed (Enzyme failure lines, exception text, numbers)
    enzyme_log: list[str] = dataclasses.field(default_factory=list)  # failure lines found
    build_seconds: float = 0.0

    def __str__(self):
        status = "ok " if self.ok else "FAIL"
        err = "" if self.error is None else f" err={self.error:.2e} (tol {self.tol:.1e})"
        msg = f"  {self.message}" if self.message and not self.ok else ""
        return f"{self.mode:8s} {status}{err}{msg}"


@dataclasses.dataclass
class PatternCheck:
    """The checks of one activity pattern."""

    fn: str
    activities: tuple[str, ...]
    return_activity: str
    results: list[ModeResult]
    timing: dict | None = None  # seconds per call of primal, forward, reverse and the ratios
    mutated: tuple[str, ...] = ()  # Duplicated arrays the function modifies (its outputs)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def result(self, mode: str) -> ModeResult:
        for r in self.results:
            if r.mode == mode:
                return r
        raise KeyError(mode)

    def __str__(self):
        head = f"{self.fn}({', '.join(self.activities)}) -> {self.return_activity}"
        return head + "".join("\n    " + str(r) for r in self.results)


@dataclasses.dataclass
class CheckReport:
    patterns: list[PatternCheck]

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.patterns)

    @property
    def failures(self) -> list[tuple[PatternCheck, ModeResult]]:
        return [(p, r) for p in self.patterns for r in p.results if not r.ok]

    def __str__(self):
        status = "PASSED" if self.ok else f"FAILED ({len(self.failures)} failing mode checks)"
        return f"check_rule {status}\n  " + "\n  ".join(str(p) for p in self.patterns)


# ------------------------------------------------------------------ argument model
@dataclasses.dataclass
class _Arg:
    index: int
    name: str
    value: object
    activity: type
    kind: str  # "array" | "int" | "float" | "flag"
    ctype: str = ""  # element type of array buffers

    @property
    def active(self) -> bool:
        return self.kind == "array" and self.activity is Duplicated

    @property
    def size(self) -> int:
        return int(np.asarray(self.value).size)


def _classify(args, activities, names) -> list[_Arg]:
    if len(args) != len(activities):
        raise ValueError(f"activities: expected {len(args)} entries (one per argument); got {len(activities)}")
    if names is None:
        names = [f"arg{i}" for i in range(len(args))]
    out = []
    for i, (a, act, name) in enumerate(zip(args, activities, names)):
        if act not in (Const, Duplicated, Active):
            raise ValueError(f"activities[{i}] ({name}) must be Const, Duplicated or Active; got {act!r}")
        if isinstance(a, np.ndarray):
            if a.dtype == np.float64:
                ctype = "double"
            elif a.dtype == np.int32:
                ctype = "int"
            elif a.dtype == np.int64:
                ctype = "long long"
            else:
                raise ValueError(f"{name}: arrays must be float64, int32 or int64; got {a.dtype}")
            if a.size == 0:
                raise ValueError(f"{name}: empty arrays are not supported")
            if ctype == "double" and not np.all(np.isfinite(a)):
                raise ValueError(f"{name} must contain only finite values")
            if ctype != "double" and act is not Const:
                raise ValueError(f"{name}: an integer array carries no derivative; use Const")
            if act is Active:
                raise ValueError(f"{name}: arrays are Const or Duplicated (Active is for a double return)")
            out.append(_Arg(i, name, np.array(a, copy=True), act, "array", ctype))
        elif isinstance(a, (bool, np.bool_)):
            raise ValueError(f"{name}: bool arguments are not supported")
        elif isinstance(a, (int, np.integer)):
            if act is not Const:
                raise ValueError(f"{name}: an integer scalar carries no derivative; use Const")
            out.append(_Arg(i, name, int(a), act, "int"))
        elif isinstance(a, (float, np.floating)):
            if act is not Const:
                raise ValueError(f"{name}: scalars passed by value are Const here; pass a 1-element "
                                 "float64 array (a double*) to differentiate a scalar")
            if not np.isfinite(a):
                raise ValueError(f"{name} must be finite")
            out.append(_Arg(i, name, float(a), act, "float"))
        elif isinstance(a, str):
            if len(a) != 1 or not a.isprintable() or a in "\\'\"":
                raise ValueError(f"{name}: a flag must be one printable character; got {a!r}")
            if act is not Const:
                raise ValueError(f"{name}: flags are Const")
            out.append(_Arg(i, name, a, act, "flag"))
        else:
            raise ValueError(f"{name}: unsupported argument type {type(a).__name__}")
    return out


# ------------------------------------------------------------------ code generation
_HELPERS = r"""
extern "C" {
double __enzyme_fwddiff_dlcheck(void*, ...);
double __enzyme_autodiff_dlcheck(void*, ...);
extern int enzyme_dup, enzyme_const;
}
namespace dlcheck {
// Converts to any pointer type the checked function declares (double*, const int*, long*...).
struct AnyPtr { void* p; template <class T> operator T*() const { return static_cast<T*>(p); } };
// A one-letter flag accepted as a char or as a Fortran-style const char*.
struct Flag { const char* s; operator const char*() const { return s; } operator char() const { return s[0]; } };
template <class T> static T* alloc(long n) { return static_cast<T*>(__builtin_malloc(sizeof(T) * (n > 0 ? n : 1))); }
}
"""


def _literal_list(arr: np.ndarray, ctype: str) -> str:
    flat = np.asarray(arr).ravel(order="F")
    if ctype == "double":
        items = [repr(float(v)) for v in flat]
    else:
        items = [str(int(v)) + ("LL" if ctype == "long long" else "") for v in flat]
    lines = [", ".join(items[k:k + 8]) for k in range(0, len(items), 8)]
    return "{\n  " + ",\n  ".join(lines) + "}"


class _Codegen:
    """The sources for one activity pattern: the user's code, constants, a thunk taking one
    pointer per array argument (scalars and flags are baked in), and one entry per mode."""

    def __init__(self, source: str, fn: str, args: list[_Arg], returns: bool):
        self.fn, self.args, self.returns = fn, args, returns
        self.arrays = [a for a in args if a.kind == "array"]
        self.active = [a for a in self.arrays if a.active]
        consts = "".join(
            f"static const {a.ctype} dlcheck_const{a.index}[{a.size}] = {_literal_list(a.value, a.ctype)};\n"
            for a in self.arrays if not a.active)
        params = ", ".join(f"{a.ctype}* p{a.index}" for a in self.arrays)
        call_args = ", ".join(self._call_arg(a) for a in args)
        rtype = "double" if returns else "void"
        call = f"return {fn}({call_args});" if returns else f"(void){fn}({call_args});"
        thunk = (f"static {rtype} dlcheck_thunk({params}) {{\n  {call}\n}}\n")
        self.common = _HELPERS + source + "\n" + consts + thunk

    @staticmethod
    def _call_arg(a: _Arg) -> str:
        if a.kind == "array":
            return f"dlcheck::AnyPtr{{p{a.index}}}"
        if a.kind == "int":
            return f"{a.value}LL"
        if a.kind == "float":
            return repr(a.value)
        return f'dlcheck::Flag{{"{a.value}"}}'

    @staticmethod
    def _t(n: int) -> str:
        return f"enzyme::tensor<double, {n}>"

    def _buffers(self, shadow_from: str | None = None) -> str:
        """Local column-major buffers: active arrays copied from inputs `i<k>` (and their
        shadows from `<shadow_from><k>`), constant arrays copied from the baked data."""
        lines = []
        for a in self.arrays:
            k, n, t = a.index, a.size, a.ctype
            lines.append(f"  {t}* a{k} = dlcheck::alloc<{t}>({n});")
            if a.active:
                lines.append(f"  for (long j = 0; j < {n}; ++j) a{k}[j] = i{k}[j];")
                if shadow_from:
                    lines.append(f"  double* d{k} = dlcheck::alloc<double>({n});")
                    lines.append(f"  for (long j = 0; j < {n}; ++j) d{k}[j] = {shadow_from}{k}[j];")
            else:
                lines.append(f"  for (long j = 0; j < {n}; ++j) a{k}[j] = dlcheck_const{k}[j];")
        return "\n".join(lines)

    def _free(self, shadows: bool) -> str:
        lines = [f"  __builtin_free(a{a.index});" for a in self.arrays]
        if shadows:
            lines += [f"  __builtin_free(d{a.index});" for a in self.active]
        return "\n".join(lines)

    def _enzyme_args(self, ptr="a", shadow="d") -> str:
        parts = []
        for a in self.arrays:
            k = a.index
            parts.append(f"enzyme_dup, {ptr}{k}, {shadow}{k}" if a.active else f"enzyme_const, {ptr}{k}")
        return ", ".join(parts)

    def _thunk_args(self, ptr="a") -> str:
        return ", ".join(f"{ptr}{a.index}" for a in self.arrays)

    # --- entries
    def primal(self) -> str:
        outs = [f"{self._t(a.size)}& o{a.index}" for a in self.active]
        if self.returns:
            outs.append(f"{self._t(1)}& oret")
        ins = [f"const {self._t(a.size)}& i{a.index}" for a in self.active]
        res = "double r = " if self.returns else ""
        body = [self._buffers(), f"  {res}dlcheck_thunk({self._thunk_args()});"]
        body += [f"  for (long j = 0; j < {a.size}; ++j) o{a.index}[j] = a{a.index}[j];" for a in self.active]
        if self.returns:
            body.append("  oret[0] = r;")
        body.append(self._free(False))
        return self.common + f"void dl_primal({', '.join(outs + ins)}) {{\n" + "\n".join(body) + "\n}\n"

    def forward(self) -> str:
        outs = [f"{self._t(a.size)}& o{a.index}" for a in self.active]
        outs += [f"{self._t(a.size)}& t{a.index}" for a in self.active]
        if self.returns:
            outs.append(f"{self._t(1)}& tret")
        ins = [f"const {self._t(a.size)}& i{a.index}" for a in self.active]
        ins += [f"const {self._t(a.size)}& v{a.index}" for a in self.active]
        res = "double dr = " if self.returns else ""
        body = [self._buffers("v"),
                f"  {res}__enzyme_fwddiff_dlcheck((void*)dlcheck_thunk, {self._enzyme_args()});"]
        for a in self.active:
            body.append(f"  for (long j = 0; j < {a.size}; ++j) {{ o{a.index}[j] = a{a.index}[j]; t{a.index}[j] = d{a.index}[j]; }}")
        if self.returns:
            body.append("  tret[0] = dr;")
        body.append(self._free(True))
        return self.common + f"void dl_forward({', '.join(outs + ins)}) {{\n" + "\n".join(body) + "\n}\n"

    def reverse(self) -> str:
        outs = [f"{self._t(a.size)}& g{a.index}" for a in self.active]
        ins = [f"const {self._t(a.size)}& i{a.index}" for a in self.active]
        ins += [f"const {self._t(a.size)}& w{a.index}" for a in self.active]
        body = [self._buffers("w"),
                f"  __enzyme_autodiff_dlcheck((void*)dlcheck_thunk, {self._enzyme_args()});"]
        body += [f"  for (long j = 0; j < {a.size}; ++j) g{a.index}[j] = d{a.index}[j];" for a in self.active]
        body.append(self._free(True))
        return self.common + f"void dl_reverse({', '.join(outs + ins)}) {{\n" + "\n".join(body) + "\n}\n"

    def timing(self, budget_cycles: int, rounds: int = 7) -> str:
        """Cycles per call of: the input copy alone, copy + primal, copy + forward, copy +
        reverse. The four loops take turns for `rounds` rounds, each loop running for
        budget_cycles / rounds per round; the best round counts (robust to other load on
        the machine). out[2k] = cycles spent in loop k, out[2k+1] = its best cycles/call."""
        ins = [f"const {self._t(a.size)}& i{a.index}" for a in self.active]
        copy = []
        for a in self.arrays:
            src = f"i{a.index}" if a.active else f"dlcheck_const{a.index}"
            copy.append(f"for (long j = 0; j < {a.size}; ++j) a{a.index}[j] = {src}[j];")
        seed = [f"for (long j = 0; j < {a.size}; ++j) d{a.index}[j] = 1.0;" for a in self.active]
        copy_s, seed_s = " ".join(copy), " ".join(seed)
        loops = [
            copy_s,
            f"{copy_s} dlcheck_thunk({self._thunk_args()});",
            f"{copy_s} {seed_s} __enzyme_fwddiff_dlcheck((void*)dlcheck_thunk, {self._enzyme_args()});",
            f"{copy_s} {seed_s} __enzyme_autodiff_dlcheck((void*)dlcheck_thunk, {self._enzyme_args()});",
        ]
        slice_cycles = max(budget_cycles // rounds, 1)
        body = [self._buffers(None)]
        body += [f"  double* d{a.index} = dlcheck::alloc<double>({a.size});" for a in self.active]
        body.append("  for (int k = 0; k < 8; ++k) out[k] = k % 2 ? 1e300 : 0.0;")
        body.append(f"  for (int round = 0; round < {rounds}; ++round) {{")
        for slot, stmt in enumerate(loops):
            body.append(
                f"    {{ unsigned long long t0 = __builtin_readcyclecounter(), t = t0; long reps = 0;\n"
                f"      while (reps < 1 || t - t0 < {slice_cycles}ULL) {{ {stmt} ++reps; t = __builtin_readcyclecounter(); }}\n"
                f"      double per = (double)(t - t0) / (double)reps; out[{2 * slot}] += (double)(t - t0);\n"
                f"      if (per < out[{2 * slot + 1}]) out[{2 * slot + 1}] = per; }}")
        body.append("  }")
        body.append(self._free(True))
        return (self.common + f"void dl_timing({self._t(8)}& out, {', '.join(ins)}) {{\n"
                + "\n".join(body) + "\n}\n")


# ------------------------------------------------------------------ building
def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def _argv(argv, load_difflapack):
    from . import enzyme

    if load_difflapack:
        enzyme.load()
    else:
        import ctypes

        for name in enzyme.BLAS_LIBRARIES:
            ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
    return tuple(enzyme.cflags()) + tuple(argv)


def _cpp(source, fn, out_sizes, argv):
    """enzyme_ad.jax.cpp_call with every build checked by difflapack.enzyme (a build whose log
    shows a failure raises EnzymeBuildError when it is lowered)."""
    jax = _jax()
    from .enzyme import _checked_cpp_call

    shapes = [jax.core.ShapedArray([n], np.float64) for n in out_sizes]

    def call(*xs):
        return tuple(_checked_cpp_call(*xs, out_shapes=shapes, source=source, fn=fn, argv=argv))

    return call


def _crash_probe(py_fn, specs, timeout: float = 600.0):
    """Lower in a forked child first: Enzyme can crash the process while building (seen with
    broken rules). Returns None if the child survived, else (failure lines, message)."""
    import faulthandler
    import os
    import signal
    import tempfile
    import warnings

    jax = _jax()
    from . import enzyme

    with tempfile.TemporaryFile() as log:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # JAX warns that fork() and threads do not mix
            pid = os.fork()
        if pid == 0:  # child: lower only, never run anything
            code = 0
            try:
                faulthandler.disable()  # a crash is the expected outcome being probed
                enzyme._intercept_enabled = False  # the raw build log goes to `log`
                os.dup2(log.fileno(), 2)
                jax.jit(py_fn).lower(*specs)
            except BaseException:  # noqa: BLE001
                code = 3
            os._exit(code)
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return [], f"the build did not finish within {timeout:.0f} s"
            time.sleep(0.01)
        if not os.WIFSIGNALED(status):
            return None
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
    failures = enzyme.enzyme_failures(text)
    name = signal.Signals(os.WTERMSIG(status)).name
    first = f"; first: {short_error(failures[0])}" if failures else ""
    return failures, f"Enzyme/clang crashed ({name}) while building{first}"


def _build(py_fn, specs, compile=True, isolate=True):
    """Lower (this is when Enzyme runs; difflapack.enzyme checks every build and raises
    EnzymeBuildError for a failed one) and compile only a clean build. With `isolate`, a forked
    child lowers first so that a crashing build fails the check instead of killing the process.
    Returns (compiled or None, failure lines, message, seconds)."""
    jax = _jax()
    from .enzyme import EnzymeBuildError, captured_stderr

    t0 = time.perf_counter()
    if isolate:
        crashed = _crash_probe(py_fn, specs)
        if crashed is not None:
            return None, crashed[0], crashed[1], time.perf_counter() - t0
    lowered, message, failures = None, "", []
    with captured_stderr():  # the build logs: a failed check reports its failure lines instead
        try:
            lowered = jax.jit(py_fn).lower(*specs)
        except EnzymeBuildError as exc:
            failures = list(exc.failures)
            message = short_error(failures[0]) if failures else _error_summary(exc)
        except Exception as exc:  # noqa: BLE001 - a failed build is a check result
            message = f"{type(exc).__name__}: {str(exc).strip()[:500]}"
    compiled = None
    if lowered is not None and compile:
        try:
            compiled = lowered.compile()
        except Exception as exc:  # noqa: BLE001
            message = f"{type(exc).__name__}: {str(exc).strip()[:500]}"
    return compiled, failures, message, time.perf_counter() - t0


def _error_summary(exc) -> str:
    """The lines of an EnzymeBuildError after its first (what was built)."""
    lines = [ln.strip() for ln in str(exc).splitlines()[1:] if ln.strip()]
    return " ".join(lines)[:500] or str(exc)[:500]


def short_error(line: str) -> str:
    """The readable part of an Enzyme/clang failure line (drops the LLVM location prefix; a
    clang error gets its line and column in the checked source)."""
    from .enzyme import short_error as _short

    return _short(line, line_offset=_HELPERS.count("\n"))


def enzyme_errors(source: str, fn: str, args: Sequence, activities: Sequence,
                  modes: Sequence[str] = ("forward", "reverse"), return_activity=None, argv: Sequence[str] = (),
                  load_difflapack: bool | None = None, isolate: bool = True) -> dict[str, list[str]]:
    """What Enzyme says when asked to differentiate `fn` in each mode: {mode: failure lines}
    (empty list: Enzyme built it). Only lowers, never runs a build, so it is safe on sources
    that Enzyme cannot differentiate (such builds may crash when run)."""
    jax = _jax()
    if load_difflapack is None:
        load_difflapack = "difflapack" in source
    argv = _argv(argv, load_difflapack)
    gen = _Codegen(source, fn, _classify(list(args), list(activities), None),
                   return_activity in (Active, Duplicated))
    sizes = [a.size for a in gen.active]
    out_sizes = sizes + ([1] if gen.returns else [])
    specs = [jax.ShapeDtypeStruct((n,), np.float64) for n in sizes]
    out_specs = [jax.ShapeDtypeStruct((n,), np.float64) for n in out_sizes]
    primal_call = _cpp(gen.primal(), "dl_primal", out_sizes, argv)
    builds = {
        "forward": (_cpp(gen.forward(), "dl_forward", sizes + sizes + out_sizes[len(sizes):], argv), specs + specs),
        "reverse": (_cpp(gen.reverse(), "dl_reverse", sizes, argv), specs + specs),
        "split": (lambda xs, ws: jax.vjp(primal_call, *xs)[1](tuple(ws)), (specs, out_specs)),
        "jvp": (lambda xs, ts: jax.jvp(primal_call, tuple(xs), tuple(ts))[1], (specs, specs)),
    }
    out = {}
    for mode in modes:
        py_fn, mode_specs = builds[mode]
        _, failures, message, _ = _build(py_fn, mode_specs, compile=False, isolate=isolate)
        out[mode] = failures or ([message] if message else [])
    return out


# ------------------------------------------------------------------ numerics
def _flat(a: _Arg) -> np.ndarray:
    return np.asarray(a.value, dtype=np.float64).ravel(order="F").copy()


def _fd(primal, s, v, step):
    """Fourth-order central difference of primal along v."""
    def at(t):
        return [np.asarray(o) for o in primal(*[x + t * d for x, d in zip(s, v)])]

    p1, m1, p2, m2 = at(step), at(-step), at(2 * step), at(-2 * step)
    return [(8 * (a - b) - (c - d)) / (12 * step) for a, b, c, d in zip(p1, m1, p2, m2)]


def _compare(got, ref, rtol, atol):
    diff = max(float(np.max(np.abs(g - r))) for g, r in zip(got, ref))
    scale = max(max(float(np.max(np.abs(r))), float(np.max(np.abs(g)))) for g, r in zip(got, ref))
    return diff / max(scale, atol / rtol), diff <= rtol * scale + atol


def _dot_compare(lhs, rhs, bound, rtol, atol):
    scale = max(abs(lhs), abs(rhs), bound)
    return abs(lhs - rhs) / max(scale, atol / rtol), abs(lhs - rhs) <= rtol * scale + atol


def _activity_name(act) -> str:
    return _ACTIVITY_NAMES.get(act, repr(act))


# ------------------------------------------------------------------ the checker
def check_rule(source: str, fn: str, args: Sequence, activities: Sequence, modes: Sequence[str] = DEFAULT_MODES,
               return_activity=None, rtol: float = 1e-6, atol: float = 1e-10,
               all_activity_patterns: bool = False, argv: Sequence[str] = (), names: Sequence[str] | None = None,
               seed: int = 0, fd_step: float | None = None, timing: bool = False,
               timing_budget_cycles: int = 70_000_000, load_difflapack: bool | None = None,
               isolate: bool = True) -> CheckReport:
    """Differentiate the C/C++ function `fn` of `source` with Enzyme and compare to finite
    differences (see the module docstring for the argument model and the modes).

    return_activity: None/Const (the return value, if any, is ignored), Active or Duplicated
        (a double return value is an output).
    rtol, atol: a derivative passes when |enzyme - reference| <= rtol * scale + atol (scale:
        the larger magnitude of the two; for dot products also sum |Jv_i w_i|).
    all_activity_patterns: also check every combination of Const/Duplicated of the float
        arrays that `fn` does not modify (modified arrays are outputs and stay Duplicated);
        the all-Const combination is skipped.
    argv: extra clang arguments (the difflapack include directory is always added).
    timing: also measure cycles per call of primal / forward / reverse (in-process loops in
        the generated code; see PatternCheck.timing).
    load_difflapack: load libdifflapack with RTLD_GLOBAL first (default: when `source`
        mentions difflapack).
    isolate: lower every build in a forked child first, so that Enzyme crashing while
        building fails that mode instead of killing the process (costs ~0.1 s per build).
    """
    for m in modes:
        if m not in ALL_MODES:
            raise ValueError(f"modes: unknown mode {m!r} (one of {', '.join(ALL_MODES)})")
    if return_activity not in (None, Const, Active, Duplicated):
        raise ValueError("return_activity must be None, Const, Active or Duplicated")
    if load_difflapack is None:
        load_difflapack = "difflapack" in source
    full_argv = _argv(argv, load_difflapack)
    base = _classify(list(args), list(activities), names)
    returns = return_activity in (Active, Duplicated)
    first = _check_pattern(source, fn, base, returns, modes, rtol, atol, full_argv, seed, fd_step,
                           timing, timing_budget_cycles, isolate)
    checks = [first]
    if all_activity_patterns:
        toggles = [a.index for a in base
                   if a.kind == "array" and a.ctype == "double" and a.name not in first.mutated]
        given = tuple(a.activity for a in base)
        for combo in itertools.product((Duplicated, Const), repeat=len(toggles)):
            acts = list(given)
            for k, act in zip(toggles, combo):
                acts[k] = act
            if tuple(acts) == given:
                continue
            if not any(act is Duplicated for act, a in zip(acts, base) if a.kind == "array"):
                continue
            pattern = _classify(list(args), acts, names)
            checks.append(_check_pattern(source, fn, pattern, returns, modes, rtol, atol, full_argv, seed,
                                         fd_step, timing, timing_budget_cycles, isolate))
    for c in checks:
        c.return_activity = _activity_name(return_activity) if return_activity else "ignored"
    return CheckReport(checks)


def assert_rule(*args, **kwargs) -> CheckReport:
    """check_rule, raising AssertionError with the full report unless every check passed."""
    report = check_rule(*args, **kwargs)
    if not report.ok:
        raise AssertionError(str(report))
    return report


def _check_pattern(source, fn, args, returns, modes, rtol, atol, argv, seed, fd_step, timing, budget, isolate):
    jax = _jax()
    gen = _Codegen(source, fn, args, returns)
    acts = tuple(_activity_name(a.activity) for a in args)
    check = PatternCheck(fn, acts, "", [])
    active = gen.active
    if not active and not returns:
        raise ValueError("nothing to differentiate: no Duplicated array argument")
    if not active:
        raise ValueError("at least one array argument must be Duplicated")
    sizes = [a.size for a in active]
    out_sizes = sizes + ([1] if returns else [])
    s = [_flat(a) for a in active]
    specs = [jax.ShapeDtypeStruct((n,), np.float64) for n in sizes]

    primal_call = _cpp(gen.primal(), "dl_primal", out_sizes, argv)
    compiled, failures, message, secs = _build(primal_call, specs, isolate=isolate)
    if compiled is None:
        check.results = [ModeResult(m, False, message="primal build failed: " + message,
                                    enzyme_log=failures, build_seconds=secs) for m in modes]
        return check

    def primal(*xs):
        return [np.asarray(o) for o in compiled(*xs)]

    rng = np.random.default_rng(seed)
    out0 = primal(*s)
    check.mutated = tuple(a.name for a, x, y in zip(active, s, out0) if not np.array_equal(x, y))
    v = [rng.standard_normal(n) for n in sizes]
    w = [rng.standard_normal(n) for n in out_sizes]
    scale = max(1.0, max(float(np.max(np.abs(x))) for x in s))
    step = fd_step if fd_step is not None else 1e-4 * scale
    jv = _fd(primal, s, v, step)
    jv_w = float(sum(np.dot(a, b) for a, b in zip(jv, w)))
    bound = float(sum(np.sum(np.abs(a * b)) for a, b in zip(jv, w)))

    for mode in modes:
        if mode == "forward":
            call = _cpp(gen.forward(), "dl_forward", sizes + sizes + ([1] if returns else []), argv)
            exe, failures, message, secs = _build(call, specs + specs, isolate=isolate)
            res = ModeResult(mode, False, enzyme_log=failures, message=message, build_seconds=secs, tol=rtol)
            if exe is not None:
                outs = [np.asarray(o) for o in exe(*s, *v)]
                prim, tan = outs[:len(sizes)], outs[len(sizes):]
                perr, pok = _compare(prim, out0[:len(sizes)], rtol, atol)
                res.error, ok = _compare(tan, jv, rtol, atol)
                res.ok = ok and pok
                if not pok:
                    res.message = f"primal outputs under __enzyme_fwddiff differ from the primal (rel {perr:.2e})"
                elif not ok:
                    res.message = _mismatch(tan, jv, active, returns)
        elif mode == "jvp":
            exe, failures, message, secs = _build(lambda xs, ts: jax.jvp(primal_call, tuple(xs), tuple(ts))[1],
                                                   (specs, specs), isolate=isolate)
            res = ModeResult(mode, False, enzyme_log=failures, message=message, build_seconds=secs, tol=rtol)
            if exe is not None:
                tan = [np.asarray(o) for o in exe(s, v)]
                res.error, res.ok = _compare(tan, jv, rtol, atol)
                if not res.ok:
                    res.message = _mismatch(tan, jv, active, returns)
        elif mode == "reverse":
            call = _cpp(gen.reverse(), "dl_reverse", sizes, argv)
            exe, failures, message, secs = _build(call, specs + specs, isolate=isolate)
            res = ModeResult(mode, False, enzyme_log=failures, message=message, build_seconds=secs, tol=rtol)
            if exe is not None:
                # __enzyme_autodiff seeds a double return with 1.
                w_rev = w[:len(sizes)] + ([np.ones(1)] if returns else [])
                lhs = float(sum(np.dot(a, b) for a, b in zip(jv, w_rev)))
                bnd = float(sum(np.sum(np.abs(a * b)) for a, b in zip(jv, w_rev)))
                grads = [np.asarray(o) for o in exe(*s, *w[:len(sizes)])]
                rhs = float(sum(np.dot(a, b) for a, b in zip(v, grads)))
                res.error, res.ok = _dot_compare(lhs, rhs, bnd, rtol, atol)
                if not res.ok:
                    res.message = f"dot-product test: <J v, w> = {lhs!r} (finite differences) vs <v, J^T w> = {rhs!r}"
        elif mode == "split":
            out_specs = [jax.ShapeDtypeStruct((n,), np.float64) for n in out_sizes]
            exe, failures, message, secs = _build(
                lambda xs, ws: jax.vjp(primal_call, *xs)[1](tuple(ws)), (specs, out_specs), isolate=isolate)
            res = ModeResult(mode, False, enzyme_log=failures, message=message, build_seconds=secs, tol=rtol)
            if exe is not None:
                grads = [np.asarray(o) for o in exe(s, w)]
                rhs = float(sum(np.dot(a, b) for a, b in zip(v, grads)))
                res.error, res.ok = _dot_compare(jv_w, rhs, bound, rtol, atol)
                if not res.ok:
                    res.message = f"dot-product test: <J v, w> = {jv_w!r} (finite differences) vs <v, J^T w> = {rhs!r}"
        check.results.append(res)

    if timing:
        check.timing = _time(gen, sizes, specs, s, argv, budget, isolate)
    return check


def _mismatch(tan, ref, active, returns) -> str:
    names = [a.name for a in active] + (["return"] if returns else [])
    worst = max(range(len(tan)), key=lambda k: float(np.max(np.abs(tan[k] - ref[k]))))
    k = int(np.argmax(np.abs(tan[worst] - ref[worst])))
    return (f"tangent of {names[worst]}[{k}] (column-major) = {float(tan[worst][k])!r}, finite differences "
            f"{float(ref[worst][k])!r}")


def _time(gen, sizes, specs, s, argv, budget, isolate):
    call = _cpp(gen.timing(budget), "dl_timing", [8], argv)
    exe, failures, message, _ = _build(call, specs, isolate=isolate)
    if exe is None:
        return {"error": message}
    t0 = time.perf_counter()
    out = np.asarray(exe(*s)[0])
    wall = time.perf_counter() - t0
    cycles = out[0::2].sum()
    sec_per_cycle = wall / cycles if cycles else float("nan")
    per = out[1::2]  # best cycles per call: copy, primal, forward, reverse
    copy = per[0]
    primal, fwd, rev = (max(p - copy, 1.0) for p in per[1:])
    return {
        "primal_seconds": float(primal * sec_per_cycle),
        "forward_seconds": float(fwd * sec_per_cycle),
        "reverse_seconds": float(rev * sec_per_cycle),
        "forward_ratio": float(fwd / primal),
        "reverse_ratio": float(rev / primal),
    }
