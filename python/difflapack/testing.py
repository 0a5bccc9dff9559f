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

Several functions of one source: ``check_rules(source, [Case(fn, args, activities), ...])``
returns one CheckReport per function, the same checks and numbers as check_rule for it alone,
with one build per mode for all of them (a build costs about as much for eight small functions
as for one); a shared build that fails is retried per function, so that each failure belongs
to its function. ``enzyme_errors_each`` is the same for :func:`enzyme_errors`.

This module enables ``jax_enable_x64`` on import (the checker works in float64).
"""
from __future__ import annotations

import dataclasses
import itertools
import time
from typing import Sequence

import numpy as np

from . import _checkgen
from ._checkgen import Codegen
from ._checkgen import build as _build
from ._checkgen import clang_argv as _argv
from ._checkgen import cpp as _cpp
from ._checkgen import jax_x64 as _jax

__all__ = [
    "Const", "Duplicated", "Active", "Case", "check_rule", "check_rules", "assert_rule", "enzyme_errors",
    "enzyme_errors_each", "short_error", "CheckReport", "PatternCheck", "ModeResult", "DEFAULT_MODES", "ALL_MODES",
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


# ------------------------------------------------------------------ several functions per build
@dataclasses.dataclass
class Case:
    """One function of a source to check or to build: check_rule's arguments for it."""

    fn: str
    args: Sequence
    activities: Sequence
    names: Sequence[str] | None = None


def short_error(line: str) -> str:
    """The readable part of an Enzyme/clang failure line (drops the LLVM location prefix; a
    clang error gets its line and column in the checked source)."""
    return _checkgen.short_error(line)


def _concat(lists) -> list:
    return [x for part in lists for x in part]


def _split(flat: list, counts: list[int]) -> list[list]:
    out, k = [], 0
    for n in counts:
        out.append(list(flat[k:k + n]))
        k += n
    return out


def _specs(sizes: list[int]):
    jax = _jax()
    return [jax.ShapeDtypeStruct((n,), np.float64) for n in sizes]


class _Builds:
    """The builds of one activity pattern of each case: sizes of the active arrays per case,
    the primal call, and {mode: (function to lower, its input specs)}. Every entry lists its
    tensors case by case (see _checkgen.Codegen)."""

    def __init__(self, gen: Codegen, argv):
        jax = _jax()
        self.gen = gen
        self.sizes = [[a.size for a in gen.active(c)] for c in range(len(gen.cases))]
        self.out_sizes = [s + ([1] if gen.returns else []) for s in self.sizes]
        ret = [1] if gen.returns else []
        self.primal_call = _cpp(gen.primal(), "dl_primal", _concat(self.out_sizes), argv)
        primal_call = self.primal_call
        flat_in, flat_out = _specs(_concat(self.sizes)), _specs(_concat(self.out_sizes))
        twice = _specs(_concat(s + s for s in self.sizes))
        self.modes = {
            "forward": (_cpp(gen.forward(), "dl_forward", _concat(s + s + ret for s in self.sizes), argv), twice),
            "reverse": (_cpp(gen.reverse(), "dl_reverse", _concat(self.sizes), argv), twice),
            "split": (lambda xs, ws: jax.vjp(primal_call, *xs)[1](tuple(ws)), (flat_in, flat_out)),
            "jvp": (lambda xs, ts: jax.jvp(primal_call, tuple(xs), tuple(ts))[1], (flat_in, flat_in)),
        }


def enzyme_errors(source: str, fn: str, args: Sequence, activities: Sequence,
                  modes: Sequence[str] = ("forward", "reverse"), return_activity=None, argv: Sequence[str] = (),
                  load_difflapack: bool | None = None, isolate: bool = True) -> dict[str, list[str]]:
    """What Enzyme says when asked to differentiate `fn` in each mode: {mode: failure lines}
    (empty list: Enzyme built it). Only lowers, never runs a build, so it is safe on sources
    that Enzyme cannot differentiate (such builds may crash when run)."""
    return enzyme_errors_each(source, [Case(fn, args, activities)], modes, return_activity, argv,
                              load_difflapack, isolate)[0]


def enzyme_errors_each(source: str, cases: Sequence[Case], modes: Sequence[str] = ("forward", "reverse"),
                       return_activity=None, argv: Sequence[str] = (), load_difflapack: bool | None = None,
                       isolate: bool = True) -> list[dict[str, list[str]]]:
    """enzyme_errors for each of several functions of one source, with one build per mode for
    all of them where the failures can be told apart: in "forward" and "reverse" each case has
    its own __enzyme_* call, and Enzyme names the function it differentiates in every failure
    line. Enzyme reports a function it cannot differentiate (an external routine without a
    rule) once per build, at its first use: give cases that call the same such routine
    separate calls, or a later case misses those lines. A case left without lines by a failed
    shared build, a failure line that names no case (a clang error, a crash), and the modes
    driven through the shared primal ("split", "jvp") are built case by case."""
    if load_difflapack is None:
        load_difflapack = "difflapack" in source
    classified = [(c.fn, _classify(list(c.args), list(c.activities), c.names)) for c in cases]
    return _errors(source, classified, modes, return_activity in (Active, Duplicated),
                   _argv(argv, load_difflapack), isolate)


def _errors(source, cases, modes, returns, argv, isolate) -> list[dict[str, list[str]]]:
    import re

    builds = _Builds(Codegen(source, cases, returns), argv)
    out = [{} for _ in cases]
    for mode in modes:
        alone = range(len(cases))
        if len(cases) == 1 or mode in ("forward", "reverse"):
            py_fn, specs = builds.modes[mode]
            _, failures, message, _ = _build(py_fn, specs, compile=False, isolate=isolate)
            lines = failures or ([message] if message else [])
            owners = [re.search(_checkgen.THUNK_RE, ln) for ln in lines]
            if len(cases) == 1:
                out[0][mode] = lines
                continue
            if all(owners):
                for c in range(len(cases)):
                    out[c][mode] = [ln for ln, m in zip(lines, owners) if int(m.group(1)) == c]
                alone = [c for c in range(len(cases)) if lines and not out[c][mode]]
        for c in alone:
            out[c][mode] = _errors(source, [cases[c]], (mode,), returns, argv, isolate)[0][mode]
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
    """(relative error, ok) over all arrays. An entry that is NaN or infinite on one side only
    fails the comparison (error NaN): Python's max() drops a NaN that is not its first argument,
    so a NaN tangent in any but the first array used to pass. NaN against NaN and inf against
    the same inf are equal (a function whose value is NaN there has a NaN derivative too)."""
    diff = scale = 0.0
    for g, r in zip(got, ref):
        g, r = np.asarray(g), np.asarray(r)
        finite = np.isfinite(g) & np.isfinite(r)
        same = (np.isnan(g) & np.isnan(r)) | (np.isinf(g) & (g == r))
        if np.any(~finite & ~same):
            return float("nan"), False
        if np.any(finite):
            diff = max(diff, float(np.max(np.abs(g[finite] - r[finite]))))
            scale = max(scale, float(np.max(np.abs(r[finite]))), float(np.max(np.abs(g[finite]))))
    return diff / max(scale, atol / rtol), diff <= rtol * scale + atol


def _dot_compare(lhs, rhs, bound, rtol, atol):
    scale = max(abs(lhs), abs(rhs), bound)
    return abs(lhs - rhs) / max(scale, atol / rtol), abs(lhs - rhs) <= rtol * scale + atol


def _activity_name(act) -> str:
    return _ACTIVITY_NAMES.get(act, repr(act))


# ------------------------------------------------------------------ the checker
_CHECK_DOC = """
    return_activity: None/Const (the return value, if any, is ignored), Active or Duplicated
        (a double return value is an output).
    rtol, atol: a derivative passes when |enzyme - reference| <= rtol * scale + atol (scale:
        the larger magnitude of the two; for dot products also sum |Jv_i w_i|).
    argv: extra clang arguments (the difflapack include directory is always added).
    seed: of the random directions v and cotangents w.
    fd_step: of the central differences (default: 1e-4 times the largest input magnitude, at
        least 1e-4).
    timing: also measure cycles per call of primal / forward / reverse (in-process loops in
        the generated code; see PatternCheck.timing).
    load_difflapack: load libdifflapack with RTLD_GLOBAL first (default: when `source`
        mentions difflapack).
    isolate: lower every build in a forked child first, so that Enzyme crashing while
        building fails that mode instead of killing the process (costs ~0.1 s per build)."""


def _validate(modes, return_activity):
    for m in modes:
        if m not in ALL_MODES:
            raise ValueError(f"modes: unknown mode {m!r} (one of {', '.join(ALL_MODES)})")
    if return_activity not in (None, Const, Active, Duplicated):
        raise ValueError("return_activity must be None, Const, Active or Duplicated")


def check_rule(source: str, fn: str, args: Sequence, activities: Sequence, modes: Sequence[str] = DEFAULT_MODES,
               return_activity=None, rtol: float = 1e-6, atol: float = 1e-10,
               all_activity_patterns: bool = False, argv: Sequence[str] = (), names: Sequence[str] | None = None,
               seed: int = 0, fd_step: float | None = None, timing: bool = False,
               timing_budget_cycles: int = 70_000_000, load_difflapack: bool | None = None,
               isolate: bool = True) -> CheckReport:
    """Differentiate the C/C++ function `fn` of `source` with Enzyme and compare to finite
    differences (see the module docstring for the argument model and the modes).

    all_activity_patterns: also check every combination of Const/Duplicated of the float
        arrays that `fn` does not modify (modified arrays are outputs and stay Duplicated);
        the all-Const combination is skipped. These patterns share their builds.
    """
    _validate(modes, return_activity)
    if load_difflapack is None:
        load_difflapack = "difflapack" in source
    full_argv = _argv(argv, load_difflapack)
    base = _classify(list(args), list(activities), names)
    returns = return_activity in (Active, Duplicated)
    options = (returns, modes, rtol, atol, full_argv, seed, fd_step, timing, timing_budget_cycles, isolate)
    (first,) = _check_cases(source, [(fn, base)], *options)
    patterns = []
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
            patterns.append((fn, _classify(list(args), acts, names)))
    checks = [first] + (_check_cases(source, patterns, *options) if patterns else [])
    for c in checks:
        c.return_activity = _activity_name(return_activity) if return_activity else "ignored"
    return CheckReport(checks)


check_rule.__doc__ += _CHECK_DOC


def check_rules(source: str, cases: Sequence[Case], modes: Sequence[str] = DEFAULT_MODES, return_activity=None,
                rtol: float = 1e-6, atol: float = 1e-10, argv: Sequence[str] = (), seed: int = 0,
                fd_step: float | None = None, timing: bool = False, timing_budget_cycles: int = 70_000_000,
                load_difflapack: bool | None = None, isolate: bool = True) -> list[CheckReport]:
    """check_rule for each of several functions of one source (one CheckReport per case, the
    same checks and numbers as check_rule gives it alone), with one build per mode for all of
    them: a build costs about as much for eight small functions as for one. If a shared build
    fails, each case is checked alone, so that a failure is reported for its own case.
    """
    _validate(modes, return_activity)
    if load_difflapack is None:
        load_difflapack = "difflapack" in source
    classified = [(c.fn, _classify(list(c.args), list(c.activities), c.names)) for c in cases]
    returns = return_activity in (Active, Duplicated)
    checks = _check_cases(source, classified, returns, modes, rtol, atol, _argv(argv, load_difflapack), seed,
                          fd_step, timing, timing_budget_cycles, isolate)
    for c in checks:
        c.return_activity = _activity_name(return_activity) if return_activity else "ignored"
    return [CheckReport([c]) for c in checks]


check_rules.__doc__ += _CHECK_DOC


def assert_rule(*args, **kwargs) -> CheckReport:
    """check_rule, raising AssertionError with the full report unless every check passed."""
    report = check_rule(*args, **kwargs)
    if not report.ok:
        raise AssertionError(str(report))
    return report


def _check_cases(source, cases, returns, modes, rtol, atol, argv, seed, fd_step, timing, budget, isolate):
    """The checks of one activity pattern of each case (fn, classified args), each build shared
    by all cases. A shared build that fails makes every case be checked alone."""
    for _, args in cases:
        if not any(a.active for a in args):
            raise ValueError("nothing to differentiate: no Duplicated array argument" if not returns
                             else "at least one array argument must be Duplicated")
    b = _Builds(Codegen(source, cases, returns), argv)
    checks = [PatternCheck(fn, tuple(_activity_name(a.activity) for a in args), "", []) for fn, args in cases]

    def each_alone():
        return [_check_cases(source, [case], returns, modes, rtol, atol, argv, seed, fd_step, timing, budget,
                             isolate)[0] for case in cases]

    flat_specs = _specs(_concat(b.sizes))
    compiled, failures, message, secs = _build(b.primal_call, flat_specs, isolate=isolate)
    if compiled is None:
        if len(cases) > 1:
            return each_alone()
        checks[0].results = [ModeResult(m, False, message="primal build failed: " + message,
                                        enzyme_log=failures, build_seconds=secs) for m in modes]
        return checks

    def primal_at(xs_per_case):
        return _split([np.asarray(o) for o in compiled(*_concat(xs_per_case))], [len(o) for o in b.out_sizes])

    s = [[_flat(a) for a in b.gen.active(c)] for c in range(len(cases))]
    out0 = primal_at(s)
    v, w, jv = [], [], []
    for c in range(len(cases)):
        active = b.gen.active(c)
        checks[c].mutated = tuple(a.name for a, x, y in zip(active, s[c], out0[c]) if not np.array_equal(x, y))
        rng = np.random.default_rng(seed)  # the directions check_rule draws for this case alone
        v.append([rng.standard_normal(n) for n in b.sizes[c]])
        w.append([rng.standard_normal(n) for n in b.out_sizes[c]])
        scale = max(1.0, max(float(np.max(np.abs(x))) for x in s[c]))

        def primal_of_case(*xs, c=c):  # the other cases stay at their point
            return primal_at(s[:c] + [list(xs)] + s[c + 1:])[c]

        jv.append(_fd(primal_of_case, s[c], v[c], fd_step if fd_step is not None else 1e-4 * scale))

    for mode in modes:
        py_fn, specs = b.modes[mode]
        exe, failures, message, secs = _build(py_fn, specs, isolate=isolate)
        if exe is None and len(cases) > 1:
            return each_alone()
        results = [ModeResult(mode, False, enzyme_log=failures, message=message, build_seconds=secs, tol=rtol)
                   for _ in cases]
        if exe is not None:
            _judge(mode, exe, results, b, s, v, w, jv, out0, rtol, atol)
        for check, res in zip(checks, results):
            check.results.append(res)

    if timing:
        for check, t in zip(checks, _time(b, s, argv, budget, isolate)):
            check.timing = t
    return checks


def _judge(mode, exe, results, b, s, v, w, jv, out0, rtol, atol):
    """Run the build of `mode` once for all cases and judge each case's derivative."""
    counts = [len(x) for x in b.sizes]
    if mode == "forward":  # per case: primal outputs, then tangents (and the return's)
        outs = _split([np.asarray(o) for o in exe(*_concat(x + d for x, d in zip(s, v)))],
                      [n + len(o) for n, o in zip(counts, b.out_sizes)])
    elif mode == "jvp":
        outs = _split([np.asarray(o) for o in exe(_concat(s), _concat(v))], [len(o) for o in b.out_sizes])
    elif mode == "reverse":  # __enzyme_autodiff seeds a double return with 1
        outs = _split([np.asarray(o) for o in exe(*_concat(x + g[:n] for x, g, n in zip(s, w, counts)))], counts)
    else:  # split
        outs = _split([np.asarray(o) for o in exe(_concat(s), _concat(w))], counts)
    for c, res in enumerate(results):
        n, active, returns = counts[c], b.gen.active(c), b.gen.returns
        if mode in ("forward", "jvp"):
            tan = outs[c][n:] if mode == "forward" else outs[c]
            res.error, res.ok = _compare(tan, jv[c], rtol, atol)
            if mode == "forward":
                perr, pok = _compare(outs[c][:n], out0[c][:n], rtol, atol)
                if not pok:
                    res.ok, res.message = False, (f"primal outputs under __enzyme_fwddiff differ from the primal "
                                                  f"(rel {perr:.2e})")
            if not res.ok and not res.message:
                res.message = _mismatch(tan, jv[c], active, returns)
        else:
            w_used = w[c]
            if mode == "reverse":  # the arrays' cotangents were w; the return's seed is 1
                w_used = w[c][:n] + ([np.ones(1)] if returns else [])
            lhs = float(sum(np.dot(a, g) for a, g in zip(jv[c], w_used)))
            bound = float(sum(np.sum(np.abs(a * g)) for a, g in zip(jv[c], w_used)))
            rhs = float(sum(np.dot(a, g) for a, g in zip(v[c], outs[c])))
            res.error, res.ok = _dot_compare(lhs, rhs, bound, rtol, atol)
            if not res.ok:
                res.message = f"dot-product test: <J v, w> = {lhs!r} (finite differences) vs <v, J^T w> = {rhs!r}"


def _mismatch(tan, ref, active, returns) -> str:
    names = [a.name for a in active] + (["return"] if returns else [])
    worst = max(range(len(tan)), key=lambda k: float(np.max(np.abs(tan[k] - ref[k]))))
    k = int(np.argmax(np.abs(tan[worst] - ref[worst])))
    return (f"tangent of {names[worst]}[{k}] (column-major) = {float(tan[worst][k])!r}, finite differences "
            f"{float(ref[worst][k])!r}")


def _time(b: _Builds, s, argv, budget, isolate) -> list[dict]:
    """Seconds per call of primal, forward and reverse and their ratios, per case."""
    cases = b.gen.cases
    call = _cpp(b.gen.timing(budget), "dl_timing", [8 * len(cases)], argv)
    exe, failures, message, _ = _build(call, _specs(_concat(b.sizes)), isolate=isolate)
    if exe is None:
        if len(cases) > 1:  # each case alone, so that a failure is reported for its own case
            return [_time(_Builds(Codegen(b.gen.source, [case], b.gen.returns), argv), [x], argv, budget, isolate)[0]
                    for case, x in zip(cases, s)]
        return [{"error": message}]
    t0 = time.perf_counter()
    out = np.asarray(exe(*_concat(s))[0])
    wall = time.perf_counter() - t0
    cycles = out[0::2].sum()
    sec_per_cycle = wall / cycles if cycles else float("nan")
    timings = []
    for c in range(len(cases)):
        per = out[8 * c + 1:8 * c + 8:2]  # best cycles per call: copy, primal, forward, reverse
        copy = per[0]
        primal, fwd, rev = (max(p - copy, 1.0) for p in per[1:])
        timings.append({
            "primal_seconds": float(primal * sec_per_cycle),
            "forward_seconds": float(fwd * sec_per_cycle),
            "reverse_seconds": float(rev * sec_per_cycle),
            "forward_ratio": float(fwd / primal),
            "reverse_ratio": float(rev / primal),
        })
    return timings
