"""The generated sources of :mod:`difflapack.testing` and their Enzyme-JAX builds.

``Codegen`` writes, for one activity pattern of one or more functions of one source (the
"cases" of :func:`difflapack.testing.check_rules`), a thunk per case and one entry per mode
(``dl_primal``, ``dl_forward``, ``dl_reverse``, ``dl_timing``) that runs every case in turn.
Several cases share each build: a build costs about the same for one small function as for
eight (clang, Enzyme and XLA each have a fixed cost per build), and the cases stay independent
because each has its own buffers, shadows and ``__enzyme_*`` call. Tensors are listed case by
case in every entry, so a single case has the layout check_rule always had.

``build`` lowers (Enzyme runs then; difflapack.enzyme checks the log) and compiles a jitted
function, optionally after a crash probe in a forked child.
"""
from __future__ import annotations

import time

import numpy as np

HELPERS = r"""
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

#: The thunk of case c is dlcheck_thunk<c>_; Enzyme names the function it differentiates in
#: each failure line ("in function preprocess__ZL15dlcheck_thunk0_Pd..."), which is how a
#: failure of a shared build is told apart per case.
THUNK_RE = r"dlcheck_thunk(\d+)_"


def literal_list(arr: np.ndarray, ctype: str) -> str:
    flat = np.asarray(arr).ravel(order="F")
    if ctype == "double":
        items = [repr(float(v)) for v in flat]
    else:
        items = [str(int(v)) + ("LL" if ctype == "long long" else "") for v in flat]
    lines = [", ".join(items[k:k + 8]) for k in range(0, len(items), 8)]
    return "{\n  " + ",\n  ".join(lines) + "}"


def _t(n: int) -> str:
    return f"enzyme::tensor<double, {n}>"


class Codegen:
    """The sources for one activity pattern of each case (fn, classified args): the user's
    code, constants, one thunk per case taking one pointer per array argument (scalars and
    flags are baked in), and one entry per mode running every case."""

    def __init__(self, source: str, cases: list, returns: bool):
        self.source, self.cases, self.returns = source, cases, returns
        decls = []
        for c, (fn, args) in enumerate(cases):
            arrays = self.arrays(c)
            decls += [f"static const {a.ctype} dlcheck_const{c}_{a.index}[{a.size}] = "
                      f"{literal_list(a.value, a.ctype)};\n" for a in arrays if not a.active]
            params = ", ".join(f"{a.ctype}* p{a.index}" for a in arrays)
            call_args = ", ".join(self._call_arg(a) for a in args)
            call = f"return {fn}({call_args});" if returns else f"(void){fn}({call_args});"
            decls.append(f"static {'double' if returns else 'void'} dlcheck_thunk{c}_({params}) {{\n  {call}\n}}\n")
        self.common = HELPERS + source + "\n" + "".join(decls)

    def arrays(self, c: int) -> list:
        return [a for a in self.cases[c][1] if a.kind == "array"]

    def active(self, c: int) -> list:
        return [a for a in self.arrays(c) if a.active]

    @staticmethod
    def _call_arg(a) -> str:
        if a.kind == "array":
            return f"dlcheck::AnyPtr{{p{a.index}}}"
        if a.kind == "int":
            return f"{a.value}LL"
        if a.kind == "float":
            return repr(a.value)
        return f'dlcheck::Flag{{"{a.value}"}}'

    def _buffers(self, c: int, shadow_from: str | None = None) -> list[str]:
        """Local column-major buffers: active arrays copied from inputs `i<c>_<k>` (and their
        shadows from `<shadow_from><c>_<k>`), constant arrays copied from the baked data."""
        lines = []
        for a in self.arrays(c):
            k, n, t = f"{c}_{a.index}", a.size, a.ctype
            lines.append(f"  {t}* a{k} = dlcheck::alloc<{t}>({n});")
            if a.active:
                lines.append(f"  for (long j = 0; j < {n}; ++j) a{k}[j] = i{k}[j];")
                if shadow_from:
                    lines.append(f"  double* d{k} = dlcheck::alloc<double>({n});")
                    lines.append(f"  for (long j = 0; j < {n}; ++j) d{k}[j] = {shadow_from}{k}[j];")
            else:
                lines.append(f"  for (long j = 0; j < {n}; ++j) a{k}[j] = dlcheck_const{k}[j];")
        return lines

    def _free(self, c: int, shadows: bool) -> list[str]:
        lines = [f"  __builtin_free(a{c}_{a.index});" for a in self.arrays(c)]
        if shadows:
            lines += [f"  __builtin_free(d{c}_{a.index});" for a in self.active(c)]
        return lines

    def _enzyme_args(self, c: int) -> str:
        return ", ".join(f"enzyme_dup, a{c}_{a.index}, d{c}_{a.index}" if a.active else f"enzyme_const, a{c}_{a.index}"
                         for a in self.arrays(c))

    def _thunk_args(self, c: int) -> str:
        return ", ".join(f"a{c}_{a.index}" for a in self.arrays(c))

    def _tensors(self, c: int, prefix: str, const: bool = False) -> list[str]:
        q = "const " if const else ""
        return [f"{q}{_t(a.size)}& {prefix}{c}_{a.index}" for a in self.active(c)]

    def _entry(self, name: str, params: list[str], body: list[str]) -> str:
        return self.common + f"void {name}({', '.join(params)}) {{\n" + "\n".join(body) + "\n}\n"

    # --- entries; tensors case by case: outputs of every case, then inputs of every case
    def primal(self) -> str:
        outs, ins, body = [], [], []
        for c in range(len(self.cases)):
            outs += self._tensors(c, "o") + ([f"{_t(1)}& oret{c}"] if self.returns else [])
            ins += self._tensors(c, "i", const=True)
            res = f"double r{c} = " if self.returns else ""
            body += self._buffers(c) + [f"  {res}dlcheck_thunk{c}_({self._thunk_args(c)});"]
            body += [f"  for (long j = 0; j < {a.size}; ++j) o{c}_{a.index}[j] = a{c}_{a.index}[j];"
                     for a in self.active(c)]
            body += [f"  oret{c}[0] = r{c};"] if self.returns else []
            body += self._free(c, False)
        return self._entry("dl_primal", outs + ins, body)

    def forward(self) -> str:
        outs, ins, body = [], [], []
        for c in range(len(self.cases)):
            outs += self._tensors(c, "o") + self._tensors(c, "t") + ([f"{_t(1)}& tret{c}"] if self.returns else [])
            ins += self._tensors(c, "i", const=True) + self._tensors(c, "v", const=True)
            res = f"double dr{c} = " if self.returns else ""
            body += self._buffers(c, "v")
            body.append(f"  {res}__enzyme_fwddiff_dlcheck((void*)dlcheck_thunk{c}_, {self._enzyme_args(c)});")
            body += [f"  for (long j = 0; j < {a.size}; ++j) {{ o{c}_{a.index}[j] = a{c}_{a.index}[j]; "
                     f"t{c}_{a.index}[j] = d{c}_{a.index}[j]; }}" for a in self.active(c)]
            body += [f"  tret{c}[0] = dr{c};"] if self.returns else []
            body += self._free(c, True)
        return self._entry("dl_forward", outs + ins, body)

    def reverse(self) -> str:
        outs, ins, body = [], [], []
        for c in range(len(self.cases)):
            outs += self._tensors(c, "g")
            ins += self._tensors(c, "i", const=True) + self._tensors(c, "w", const=True)
            body += self._buffers(c, "w")
            body.append(f"  __enzyme_autodiff_dlcheck((void*)dlcheck_thunk{c}_, {self._enzyme_args(c)});")
            body += [f"  for (long j = 0; j < {a.size}; ++j) g{c}_{a.index}[j] = d{c}_{a.index}[j];"
                     for a in self.active(c)]
            body += self._free(c, True)
        return self._entry("dl_reverse", outs + ins, body)

    def timing(self, budget_cycles: int, rounds: int = 7) -> str:
        """Cycles per call of: the input copy alone, copy + primal, copy + forward, copy +
        reverse. The four loops of a case take turns for `rounds` rounds, each loop running for
        budget_cycles / rounds per round; the best round counts (robust to other load on the
        machine). Cases are timed one after the other, never interleaved, so that each case's
        copy baseline sees the caches its own loops leave (interleaving other cases' data
        made the baseline cost more than copy + primal at n = 200). For case c,
        out[8c + 2k] = cycles spent in loop k, out[8c + 2k + 1] = its best cycles/call."""
        slice_cycles = max(budget_cycles // rounds, 1)
        ins, body, free = [], [], []
        body.append(f"  for (int k = 0; k < {8 * len(self.cases)}; ++k) out[k] = k % 2 ? 1e300 : 0.0;")
        for c in range(len(self.cases)):
            ins += self._tensors(c, "i", const=True)
            body += self._buffers(c, None)
            body += [f"  double* d{c}_{a.index} = dlcheck::alloc<double>({a.size});" for a in self.active(c)]
            copy = " ".join(f"for (long j = 0; j < {a.size}; ++j) a{c}_{a.index}[j] = "
                            f"{'i' if a.active else 'dlcheck_const'}{c}_{a.index}[j];" for a in self.arrays(c))
            seed = " ".join(f"for (long j = 0; j < {a.size}; ++j) d{c}_{a.index}[j] = 1.0;" for a in self.active(c))
            thunk = f"(void*)dlcheck_thunk{c}_, {self._enzyme_args(c)}"
            loops = [
                copy,
                f"{copy} dlcheck_thunk{c}_({self._thunk_args(c)});",
                f"{copy} {seed} __enzyme_fwddiff_dlcheck({thunk});",
                f"{copy} {seed} __enzyme_autodiff_dlcheck({thunk});",
            ]
            body.append(f"  for (int round = 0; round < {rounds}; ++round) {{")
            for k, stmt in enumerate(loops):
                slot = 8 * c + 2 * k
                body.append(
                    f"    {{ unsigned long long t0 = __builtin_readcyclecounter(), t = t0; long reps = 0;\n"
                    f"      while (reps < 1 || t - t0 < {slice_cycles}ULL) {{ {stmt} ++reps; t = __builtin_readcyclecounter(); }}\n"
                    f"      double per = (double)(t - t0) / (double)reps; out[{slot}] += (double)(t - t0);\n"
                    f"      if (per < out[{slot + 1}]) out[{slot + 1}] = per; }}")
            body.append("  }")
            body += self._free(c, True)
        return self._entry("dl_timing", [f"{_t(8 * len(self.cases))}& out"] + ins, body)


# ------------------------------------------------------------------ building
def jax_x64():
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def clang_argv(argv, load_difflapack):
    from . import enzyme

    if load_difflapack:
        enzyme.load()
    else:
        import ctypes

        for name in enzyme.BLAS_LIBRARIES:
            ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
    return tuple(enzyme.cflags()) + tuple(argv)


def cpp(source, fn, out_sizes, argv):
    """enzyme_ad.jax.cpp_call with every build checked by difflapack.enzyme (a build whose log
    shows a failure raises EnzymeBuildError when it is lowered)."""
    jax = jax_x64()
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

    jax = jax_x64()
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


def build(py_fn, specs, compile=True, isolate=True):
    """Lower (this is when Enzyme runs; difflapack.enzyme checks every build and raises
    EnzymeBuildError for a failed one) and compile only a clean build. With `isolate`, a forked
    child lowers first so that a crashing build fails the check instead of killing the process.
    Returns (compiled or None, failure lines, message, seconds)."""
    jax = jax_x64()
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

    return _short(line, line_offset=HELPERS.count("\n"))
