"""Using difflapack's rules from Enzyme-JAX ``cpp_call``, with every Enzyme/clang failure raised.

``load()`` makes the C++ runtime (libstdc++), the system BLAS/LAPACK and the difflapack core
resolvable in-process (the embedded JIT resolves external symbols only from libraries loaded
with RTLD_GLOBAL; a symbol it cannot resolve fails the build with its name);
``cflags()`` is the argv a ``cpp_call`` needs to ``#include "difflapack_enzyme.h"``;
``cpp_call`` is ``enzyme_ad.jax.cpp_call`` with both applied and every build checked.

Why the checking sits where it does: Enzyme-JAX compiles (clang + Enzyme) when JAX LOWERS a
call, once per kind of build: the primal (``jax.jit``), forward mode (``jax.jvp``), the
augmented forward pass and the reverse pass (``jax.grad``/``jax.vjp``; the tape size is also
computed, at trace time). For a call inside ``jax.jit(jax.grad(f))`` this happens long after
``cpp_call`` returned. So ``cpp_call`` registers its source, and every build of a registered
source (Enzyme-JAX's ``enzyme_call.create_enzyme_kernel`` / ``tape_and_tmp_size``, wrapped
once by ``install()``) runs with file descriptor 2 (where the embedded clang and Enzyme
print) redirected to a temporary file. The log is then scanned (``enzyme_failures``: the
patterns in ``ENZYME_FAILURE_PATTERNS``) and re-emitted to stderr without the known noise
(``ENZYME_NOISE_PATTERNS``); a build that failed, or whose log shows that Enzyme gave up,
raises ``EnzymeBuildError`` (message: the readable failure lines; ``.log``: the whole log)
before anything runs: such builds can run and return wrong numbers or crash. A build that
kills the process (Enzyme aborts on "LLVM ERROR: ...") cannot raise; its log is then printed
by a small watcher process. Builds of sources that did not come through this module (plain
``enzyme_ad.jax.cpp_call``) are passed through untouched.

This module imports nothing outside the standard library at import time (the crash watcher
loads it by path).
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import re
import subprocess
import sys
import tempfile
import threading
import warnings

__all__ = [
    "EnzymeBuildError", "EnzymeIntegrationError", "ENZYME_FAILURE_PATTERNS", "ENZYME_NOISE_PATTERNS",
    "SUPPORTED_ENZYME_AD", "load", "cflags", "cpp_call", "jacfwd", "install", "enzyme_failures",
    "filter_build_log", "short_error", "strip_ansi", "check_log", "captured_stderr",
]

SUPPORTED_ENZYME_AD = "0.0.16"

# ---------------------------------------------------------------------------------------
# What a build log says.
#
# Derived from enzyme-ad 0.0.16: the messages in `strings enzyme_call.so` that Enzyme and
# Enzyme-JAX's clang driver print, and logs captured from real failing builds
# (tests/data/enzyme_logs/). Enzyme reports every failure of its own (EmitFailure: type
# analysis "Cannot deduce type of copy/load/store/...", "No augmented forward pass found for",
# "No forward mode derivative found for", "No reverse pass found for", "Bad function type of
# custom reverse pass", "No create nofree of ...", "cannot differentiate ...", ...) as an LLVM
# diagnostic of ERROR severity: "error: <loc>: in function F T: Enzyme: <what>". After most of
# them it carries on and emits code that can crash or give wrong numbers (a type-analysis
# failure under jax.grad builds and then segfaults when run), so ANY error-severity line fails
# the build. Its warnings have severity warning and do not ("Massaging provided custom
# augmented forward pass ..." is the only one seen; it is printed for a custom rule called
# with a constant argument, and Enzyme handles that case).

#: (name, regex, meaning) of the log lines that fail a build. Lines with a "warning:"
#: diagnostic prefix never do.
ENZYME_FAILURE_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("error diagnostic",
     r"^(?:.*?:\d+:(?:\d+:)? )?(?:fatal )?error: ",
     "an LLVM/clang diagnostic of error severity: a clang compile error (file:line:col: "
     "error: ...), or any failure Enzyme reports ('error: ... Enzyme: <what>')"),
    ("LLVM fatal error",
     r"^LLVM ERROR: ",
     "report_fatal_error, e.g. 'function failed verification' after Enzyme emitted invalid IR; "
     "the process aborts right after printing it"),
    ("Enzyme message",
     r"(?:No augmented forward pass found for|No forward mode derivative found for"
     r"|No reverse pass found for|No derivative found for|Bad function type of custom"
     r"|Cannot deduce |No create nofree of|Could not generate derivative function of"
     r"|Failed to use custom forward mode derivative for|Cannot use provided custom derivative"
     r"|Cannot cast __enzyme_autodiff|Cannot cast return type of gradient|cannot differentiate "
     r"|could not compute the (?:adjoint|tangent|shadow)|cannot handle \(augmented\) unknown intrinsic"
     r"|cannot find shadow for|illegal enzyme |unknown (?:augment|derivative|gradient) for noninvertible"
     r"|Illegal number of arguments passed to call to __enzyme|enzyme_width is missing)",
     "Enzyme's own failure messages, also when printed without the diagnostic prefix"),
    ("IR verifier",
     r"(?:Call parameter type does not match function signature|function failed verification"
     r"|^Attributes '.*' are incompatible!)",
     "the LLVM verifier rejected the IR Enzyme produced (an 'LLVM ERROR' abort follows)"),
    ("custom rule call mismatch",
     r"^\s*trying to call \S+",
     "Enzyme calls a custom derivative rule with arguments that do not match its signature "
     "(the process exits right after, status 1, with no other message)"),
    ("Enzyme-JAX erased an output store",
     r"^SI: .* C: ",
     "Enzyme-JAX removed a non-zero store to an output tensor from a derivative build: the "
     "function reads back or modifies its output tensor in place, and the derivative is wrong"),
    ("Enzyme-JAX clang driver",
     r"^\s*(?:failed (?:execute|diag|create diag)\s*$|unsupported value to erase)",
     "Enzyme-JAX's embedded clang gave up (its messages precede this line)"),
    ("JIT symbol resolution",
     r"^JIT session error: ",
     "the embedded JIT could not link the compiled code: a function it calls is defined neither "
     "in the source nor in a library loaded with RTLD_GLOBAL (Enzyme-JAX then raises only "
     "\"failed to lookup function called 'entry'\")"),
)

#: (name, regex, meaning) of what is dropped when a build log is re-emitted. An IR dump
#: header drops the function printed after it (up to its closing brace, or its declare line).
ENZYME_NOISE_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("aug: todiff dump",
     r"^\s*aug: todiff: ",
     "Enzyme 0.0.16 prints the function and its custom augmented-forward rule each time it uses "
     "such a rule (debug output of Enzyme itself; see docs/enzyme-limitations)"),
    ("aug foundcalled dump",
     r"^\s*aug foundcalled: ",
     "the second half of that dump"),
    ("Massaging warning",
     r"warning: .*Enzyme: Massaging provided custom (?:augmented forward|reverse) pass",
     "Enzyme adapts a custom rule to a call with a constant argument; the result is correct"),
)

_FAILURE_RES = tuple(re.compile(rx) for _, rx, _ in ENZYME_FAILURE_PATTERNS)
_WARNING_RE = re.compile(r"^(?:.*?:\d+:(?:\d+:)? )?warning: ")
_DUMP_RE = re.compile("|".join(f"(?:{rx})" for name, rx, _ in ENZYME_NOISE_PATTERNS if "dump" in name))
_NOISE_LINE_RE = re.compile("|".join(f"(?:{rx})" for name, rx, _ in ENZYME_NOISE_PATTERNS if "dump" not in name))
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


def strip_ansi(text: str) -> str:
    """The text without terminal color codes (clang colors its diagnostics)."""
    return _ANSI_RE.sub("", text)


_strip_ansi = strip_ansi  # the old private name


def filter_build_log(log: str) -> str:
    """The log without the noise of ENZYME_NOISE_PATTERNS: each 'aug: todiff:' / 'aug
    foundcalled:' IR dump (its header line, the function printed after it and the blank lines
    that follow) and each 'Massaging provided custom ... pass' warning. Everything else is kept."""
    out: list[str] = []
    lines = log.splitlines(keepends=True)
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if _DUMP_RE.match(line):
            # the header line holds '; Function Attrs...' or the start of the function itself
            body = _DUMP_RE.sub("", line, count=1).lstrip()
            i += 1
            if not body.startswith(("define", "declare")):
                j = i
                while j < n and (lines[j].startswith(";") or not lines[j].strip()):
                    j += 1  # comment lines before the function
                if j < n and lines[j].startswith(("define", "declare")):
                    body, i = lines[j], j + 1
            if body.startswith("define") and not body.rstrip().endswith("}"):
                while i < n and lines[i].rstrip() != "}":
                    i += 1
                i += 1  # the closing brace
            while i < n and not lines[i].strip():
                i += 1  # the blank lines after the dump
            continue
        if _NOISE_LINE_RE.search(line):
            i += 1
            while i < n and not lines[i].strip():
                i += 1
            continue
        out.append(line)
        i += 1
    return "".join(out)


def enzyme_failures(log: str) -> list[str]:
    """Lines of a build log that show Enzyme or clang gave up (ENZYME_FAILURE_PATTERNS), in
    order. The noise of ENZYME_NOISE_PATTERNS is skipped (an IR dump can hold any text)."""
    bad = []
    for line in filter_build_log(strip_ansi(log)).splitlines():
        if _WARNING_RE.match(line):
            continue
        if any(rx.search(line) for rx in _FAILURE_RES):
            bad.append(line.rstrip())
    return bad


# Enzyme-JAX compiles "#include <cstdint>\n#include <enzyme/tensor>\n#include <enzyme/utils>\n"
# + the user's source as /enzyme_call/source.cpp: clang's line numbers are 3 too large.
_SOURCE_PREFIX_LINES = 3
_CLANG_LOC_RE = re.compile(r"^/enzyme_call/source\.cpp:(\d+):(\d+): ((?:fatal )?error: .*)$")


def short_error(line: str, line_offset: int = 0) -> str:
    """The readable part of a failure line: "Enzyme: ..." without LLVM's location prefix,
    a clang error with the line and column in the cpp_call source (minus `line_offset` lines
    that a generator put before the user's code), or the line itself."""
    line = line.strip()
    m = re.search(r"(Enzyme: .*)$", line)
    if m and re.search(r"Cannot deduce type of (?:copy|memset)", line) and ", i64 16," in line:
        return (f"{m.group(1)[:160]} (a 16-byte element copy: std::complex elements copied one by one into a "
                "buffer only the routines read; write __enzyme_double(&a[k], 16) in the copy loop or copy "
                "through double*; docs/enzyme-limitations, section 18)")
    if m:
        return m.group(1)[:300]
    m = _CLANG_LOC_RE.match(line)
    if m:
        row = int(m.group(1)) - _SOURCE_PREFIX_LINES - line_offset
        where = f"source line {row}, column {m.group(2)}" if row > 0 else f"line {m.group(1)}"
        return f"{where}: {m.group(3)}"[:300]
    if line.startswith("JIT session error: ") and "__unnamed_" in line:
        return (f"{line[:200]} (globals Enzyme 0.0.16's reverse pass leaves undefined for a C++ new-expression "
                "(new[], std::vector) built with -fno-builtin: build with -fno-builtin-memcpy -fno-builtin-memset "
                "-fno-builtin-memmove instead, or allocate with malloc/free; docs/enzyme-limitations, section 16)")
    if line.startswith("JIT session error: "):
        return (f"{line[:200]} (the JIT links only the source and the libraries loaded with RTLD_GLOBAL: "
                "define the symbol in the source or load its library with ctypes.CDLL(path, "
                "mode=ctypes.RTLD_GLOBAL) before the build; difflapack.enzyme.load() loads libstdc++, "
                "BLAS/LAPACK and libdifflapack)")
    if "noinline and alwaysinline" in line:
        return (f"{line[:120]} (Enzyme-JAX 0.0.16 marks the functions it differentiates alwaysinline, which "
                "contradicts __attribute__((noinline)) / [[gnu::noinline]] on an active function the source "
                "calls, and the process aborts: remove the attribute; docs/enzyme-limitations, section 17)")
    if line.startswith("SI: "):
        return ("Enzyme-JAX removed a store to an output tensor (the function reads back or "
                "modifies its output tensor in place; the derivative would be wrong): " + line)[:300]
    m = re.search(r"error: (?:<unknown>:0:0: )?(.*)$", line)
    return (m.group(1) if m else line)[:300]


class EnzymeBuildError(RuntimeError):
    """Enzyme (or the embedded clang) reported a failure while building a cpp_call.

    ``str(exc)``: what was built and the readable failure lines; ``.log``: the whole captured
    build log (ANSI colors removed); ``.failures``: the failure lines of the log;
    ``.fn`` and ``.stage`` (e.g. "reverse pass (jax.grad / jax.vjp)") when known."""

    def __init__(self, message: str, log: str = "", failures=None, fn: str | None = None,
                 stage: str | None = None):
        super().__init__(message)
        self.log = log
        self.failures = list(enzyme_failures(log) if failures is None else failures)
        self.fn = fn
        self.stage = stage

    def __reduce__(self):  # picklable (e.g. across multiprocessing) with its attributes
        return (type(self), (str(self), self.log, self.failures, self.fn, self.stage))


class EnzymeIntegrationError(RuntimeError):
    """enzyme_ad's internals are not those of the supported version: builds cannot be checked."""


def _failure_message(what: str, failures: list[str], exc: BaseException | None) -> str:
    lines = []
    seen = set()
    for f in failures:
        s = short_error(f)
        if s not in seen:
            seen.add(s)
            lines.append(s)
    msg = f"{what}: Enzyme/clang failed; nothing was run"
    if lines:
        msg += ":\n  " + "\n  ".join(lines[:8])
        if len(lines) > 8:
            msg += f"\n  ... ({len(lines) - 8} more; see .log)"
    if exc is not None:
        text = f"{type(exc).__name__}: {str(exc).strip()}"
        msg += ("\n  " if lines else ":\n  ") + "Enzyme-JAX raised " + text[:500]
        if "failed to lookup function called 'entry'" in text and not lines:
            msg += ("\n  (the JIT could not link the compiled code: a symbol it calls is missing, see the "
                    "'JIT session error' on stderr)")
        if "could not be translated" in text:
            msg += ("\n  (seen with float32 tensors when reverse mode needs a tape -- pass float64 tensors and "
                    "convert inside -- and when the C++ function writes its output tensor and then reads or "
                    "modifies it in place -- compute in local or heap buffers and write each output once, at "
                    "the end; see docs/enzyme-limitations)")
    return msg


def check_log(log: str, what: str = "cpp_call") -> None:
    """Raise EnzymeBuildError if `log` (a captured build log) shows that Enzyme/clang gave up."""
    log = strip_ansi(log)
    bad = enzyme_failures(log)
    if bad:
        raise EnzymeBuildError(_failure_message(what, bad, None), log, bad)


# ---------------------------------------------------------------------------------------
# Capturing file descriptor 2.

# One capture at a time: fd 2 is process-wide. Re-entrant, so that captures nest in a thread.
_capture_lock = threading.RLock()


@contextlib.contextmanager
def _fd2_to(fileobj):
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed or odd stream must not break a build
            pass
    saved = os.dup(2)
    try:
        os.dup2(fileobj.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except Exception:  # noqa: BLE001
                pass
            os.dup2(saved, 2)
    finally:
        os.close(saved)


@contextlib.contextmanager
def captured_stderr():
    """Capture file descriptor 2 (where the embedded clang/Enzyme print) into a temporary file
    (no pipe: a large log cannot block the writer); yields a list that holds the captured text
    on exit. Captures are serialized between threads (fd 2 is process-wide) and nest."""
    out: list[str] = []
    with _capture_lock, tempfile.TemporaryFile() as tmp:
        try:
            with _fd2_to(tmp):
                yield out
        finally:
            tmp.seek(0)
            out.append(tmp.read().decode("utf-8", "replace"))


# A build that kills the process (LLVM ERROR aborts; a mismatched custom rule exits) never
# returns to Python, and its log sits in the capture file. A watcher process, spawned with the
# real stderr before fd 2 is redirected, holds the capture file and the read end of a pipe; the
# build writes "ok" to the pipe when it returns. If the pipe closes without "ok", the process
# died during the build, and the watcher prints the (filtered) log to the real stderr.
_WATCHER = r"""
import os, sys
fd, label, module = int(sys.argv[1]), sys.argv[2], sys.argv[3]
try:  # loaded while the build runs, so that a report is quick
    import importlib.util
    spec = importlib.util.spec_from_file_location("_difflapack_enzyme_watcher", module)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
except Exception:
    mod = None
if sys.stdin.buffer.read() == b"ok":
    sys.exit(0)
text = os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", "replace")
try:
    report = mod._crash_report(text, label)
except Exception:
    report = f"difflapack.enzyme: the process died while building {label}; build log:\n{text}\n"
sys.stderr.write(report)
sys.stderr.flush()
"""

#: Set to False to build without the crash watcher (e.g. in a forked child that reports
#: crashes itself).
watch_crashes = True


def _crash_report(log: str, label: str) -> str:
    log = strip_ansi(log)
    kept = filter_build_log(log)
    bad = enzyme_failures(log)
    head = (f"difflapack.enzyme: the process died while Enzyme/clang built {label}. The build log "
            f"(without Enzyme's 'aug: todiff' IR dumps) follows.\n")
    tail = ""
    if bad:
        tail = "difflapack.enzyme: failure lines of that build:\n  " + "\n  ".join(short_error(b) for b in bad[:8]) + "\n"
    return head + kept + ("" if kept.endswith("\n") or not kept else "\n") + tail


@contextlib.contextmanager
def _watched_capture(label: str):
    """fd 2 -> a temporary file for the duration; yields a list holding the text on exit."""
    out: list[str] = []
    with _capture_lock, tempfile.TemporaryFile() as tmp:
        watcher = None
        if watch_crashes and sys.executable:
            try:
                watcher = subprocess.Popen(
                    [sys.executable, "-S", "-I", "-c", _WATCHER, str(tmp.fileno()), label,
                     os.path.abspath(__file__)],
                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, pass_fds=(tmp.fileno(),))
            except OSError:
                watcher = None  # no watcher: a crash then loses the log, nothing else changes
        try:
            with _fd2_to(tmp):
                yield out
        finally:
            if watcher is not None:
                try:
                    watcher.stdin.write(b"ok")
                    watcher.stdin.close()
                    watcher.wait(timeout=10)
                except Exception:  # noqa: BLE001
                    watcher.kill()
            tmp.seek(0)
            out.append(tmp.read().decode("utf-8", "replace"))


# ---------------------------------------------------------------------------------------
# Intercepting Enzyme-JAX's builds.

_STAGES = {
    "Primal": "the primal (the source as written, with any __enzyme_autodiff/__enzyme_fwddiff in it)",
    "Forward": "forward mode (jax.jvp)",
    "Augmented": "the augmented forward pass (jax.grad / jax.vjp)",
    "Reverse": "the reverse pass (jax.grad / jax.vjp)",
    "Tape": "the tape",
}
_TAPE_STAGE = "the augmented forward pass, for its tape size (jax.grad / jax.vjp, at trace time)"

# The positional layout of the wrapped functions (nanobind signatures of enzyme-ad 0.0.16):
#   create_enzyme_kernel(source, fn, out_shapes, in_shapes, argv, abi, lang, xla_runtime, pass_pipeline, platform)
#   tape_and_tmp_size(source, fn, out_shapes, in_shapes, argv, lang, xla_runtime, pass_pipeline)
_WRAPPED = {
    "create_enzyme_kernel": (
        "create_enzyme_kernel(arg0: str, arg1: str, arg2: list, arg3: list, arg4: object, arg5: ",
        ("_enzyme_primal_lowering", "_enzyme_fwd_lowering", "_enzyme_aug_lowering", "_enzyme_rev_lowering")),
    "tape_and_tmp_size": (
        "tape_and_tmp_size(arg0: str, arg1: str, arg2: list, arg3: list, arg4: object, arg5: ",
        ("_enzyme_aug_abstract_eval",)),
}

_registry_lock = threading.Lock()
_registered: dict[tuple[str, str], set[tuple[str, ...]]] = {}  # (source, fn) -> argv prefixes
_install_lock = threading.Lock()
_installed = False


def _register(source: str, fn: str, argv: tuple[str, ...]) -> None:
    with _registry_lock:
        _registered.setdefault((source, fn), set()).add(tuple(argv))


def _is_registered(source, fn, argv) -> bool:
    if not isinstance(source, str) or not isinstance(fn, str):
        return False
    try:
        argv = tuple(argv)
    except TypeError:
        return False
    with _registry_lock:
        prefixes = _registered.get((source, fn))
        return bool(prefixes) and any(argv[:len(p)] == p for p in prefixes)


def _stage_of(name: str, args: tuple) -> str:
    if name == "tape_and_tmp_size":
        return _TAPE_STAGE
    abi = str(args[5]).rsplit(".", 1)[-1] if len(args) > 5 else "?"
    return _STAGES.get(abi, f"ABI {abi}")


def _checked_build(original, name: str, args: tuple, kwargs: dict):
    source, fn = args[0], args[1]
    stage = _stage_of(name, args)
    what = f"cpp_call fn={fn!r}, building {stage}"
    exc = None
    result = None
    with _capture_lock:  # until the log is re-emitted: another build must not capture it
        with _watched_capture(f"cpp_call fn={fn!r} ({stage})") as captured:
            try:
                result = original(*args, **kwargs)
            except Exception as e:  # noqa: BLE001 - every failure becomes an EnzymeBuildError
                exc = e
        log = strip_ansi(captured[0])
        kept = filter_build_log(log)
        if kept.strip():
            _write_all(2, kept.encode("utf-8", "replace"))
    failures = enzyme_failures(log)
    if exc is None and not failures:
        return result
    err = EnzymeBuildError(_failure_message(what, failures, exc), log, failures, fn, stage)
    if exc is not None:
        raise err from exc
    raise err


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


#: False: builds of registered sources are not checked either (a forked child that only
#: probes whether a build crashes sets it, so that its raw log goes where its fd 2 points).
_intercept_enabled = True


def _make_wrapper(original, name: str):
    def wrapper(*args, **kwargs):
        if _intercept_enabled and len(args) >= 5 and _is_registered(args[0], args[1], args[4]):
            return _checked_build(original, name, args, kwargs)
        return original(*args, **kwargs)

    wrapper.__name__ = name
    wrapper.__qualname__ = name
    wrapper.__doc__ = f"{getattr(original, '__doc__', '') or ''}\n\n(checked by difflapack.enzyme for its sources)"
    wrapper._difflapack_original = original
    return wrapper


def _enzyme_ad_version() -> str:
    try:
        from importlib.metadata import version

        return version("enzyme-ad")
    except Exception:  # noqa: BLE001
        return "unknown"


def install() -> None:
    """Wrap Enzyme-JAX's build functions so that builds of sources registered by ``cpp_call``
    are checked (idempotent, thread-safe; other sources pass through unchanged). Raises
    EnzymeIntegrationError if enzyme_ad's internals are not the ones this was written for."""
    global _installed
    if _installed:
        return
    with _install_lock:
        if _installed:
            return
        from enzyme_ad.jax import enzyme_call, primitives

        version = _enzyme_ad_version()
        problems = []
        if getattr(primitives, "enzyme_call", None) is not enzyme_call:
            problems.append("enzyme_ad.jax.primitives does not call enzyme_ad.jax.enzyme_call")
        for name, (signature, callers) in _WRAPPED.items():
            current = getattr(enzyme_call, name, None)
            original = getattr(current, "_difflapack_original", current)
            if not callable(original):
                problems.append(f"enzyme_call.{name} is missing")
                continue
            if not (getattr(original, "__doc__", None) or "").startswith(signature):
                problems.append(f"enzyme_call.{name} has another signature: "
                                f"{(getattr(original, '__doc__', None) or '?').splitlines()[0]}")
            for caller in callers:
                code = getattr(getattr(primitives, caller, None), "__code__", None)
                if code is None or name not in code.co_names:
                    problems.append(f"enzyme_ad.jax.primitives.{caller} does not call enzyme_call.{name}")
        if problems:
            raise EnzymeIntegrationError(
                f"difflapack.enzyme cannot check Enzyme-JAX builds with enzyme-ad {version} (written for "
                f"{SUPPORTED_ENZYME_AD}): " + "; ".join(problems))
        if version != SUPPORTED_ENZYME_AD:
            warnings.warn(f"difflapack.enzyme was written for enzyme-ad {SUPPORTED_ENZYME_AD}, found {version}: "
                          "its failure patterns may miss this version's messages", RuntimeWarning, stacklevel=3)
        for name in _WRAPPED:
            current = getattr(enzyme_call, name)
            original = getattr(current, "_difflapack_original", current)  # one layer, also after a reload
            setattr(enzyme_call, name, _make_wrapper(original, name))
        _installed = True


# ---------------------------------------------------------------------------------------
# Libraries, flags, cpp_call.

BLAS_LIBRARIES = ("libopenblas.so.0",)


def _cxx_runtime() -> str:
    """The C++ runtime library to load: C++ sources using new/delete, std::vector, ... need its
    symbols (_Znwm, _ZdlPvm, ...), which the embedded JIT finds only in libraries loaded with
    RTLD_GLOBAL."""
    import ctypes.util

    return ctypes.util.find_library("stdc++") or "libstdc++.so.6"

_loaded: list[str] = []


def load() -> list[str]:
    """Load the C++ runtime (libstdc++: for C++ sources using new, std::vector, ...),
    BLAS/LAPACK, the difflapack core and its ILP64 shim with RTLD_GLOBAL (idempotent). Returns
    the paths loaded."""
    from ._core import get_ilp64_library, get_library, lib

    if not _loaded:
        for name in (_cxx_runtime(),) + BLAS_LIBRARIES:
            ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
            _loaded.append(name)
        lib.load(mode=ctypes.RTLD_GLOBAL)
        _loaded.append(get_library())
        ilp64 = get_ilp64_library()
        if os.path.exists(ilp64):
            ctypes.CDLL(ilp64, mode=ctypes.RTLD_GLOBAL)
            _loaded.append(ilp64)
    return list(_loaded)


def cflags() -> tuple[str, ...]:
    """The argv a cpp_call needs to include difflapack_enzyme.h, and the system's <cblas.h> and
    <lapacke.h> (before or after it): the difflapack include directory, then the compiler's
    and the system's header directories with -idirafter (see _toolchain)."""
    from ._core import get_include
    from ._toolchain import system_include_dirs

    after = [arg for d in system_include_dirs() for arg in ("-idirafter", d)]
    return ("-I" + get_include(), *after)


CHECK_MODES = ("primal", "jvp", "vjp")


def _checked_cpp_call(*args, out_shapes, source: str, fn: str = "f", argv=(), **kwargs):
    """enzyme_ad.jax.cpp_call with every build checked; no libraries loaded, no flags added."""
    from enzyme_ad.jax import cpp_call as _enzyme_cpp_call

    install()
    argv = tuple(argv)
    _register(source, fn, argv)
    return _enzyme_cpp_call(*args, out_shapes=out_shapes, source=source, fn=fn, argv=argv, **kwargs)


def _probe(mode: str, call):
    import jax
    import numpy as np

    def tangent(x):
        if jax.numpy.issubdtype(x.dtype, jax.numpy.inexact):
            return jax.numpy.ones_like(x)
        return np.zeros(x.shape, jax.dtypes.float0)

    if mode == "primal":
        return call
    if mode == "jvp":
        return lambda *xs: jax.jvp(call, xs, tuple(tangent(x) for x in xs))
    out_and_pullback = lambda *xs: jax.vjp(call, *xs)  # noqa: E731
    return lambda *xs: (lambda out, pull: pull(jax.tree_util.tree_map(tangent, out)))(*out_and_pullback(*xs))


def cpp_call(*args, out_shapes, source: str, fn: str = "f", argv=(), check=(), **kwargs):
    """``enzyme_ad.jax.cpp_call`` (same arguments, e.g. ``pipeline_options``) with ``load()``
    and ``cflags()`` applied, and every build checked: whenever JAX lowers this call (the
    primal under ``jax.jit``, forward mode under ``jax.jvp``, the augmented forward and reverse
    passes under ``jax.grad``/``jax.vjp``), the build that Enzyme-JAX runs raises
    ``EnzymeBuildError`` if Enzyme or clang reported a failure, before anything runs; its log
    is re-emitted to stderr without Enzyme's 'aug: todiff' IR dumps.

    check: modes to build right away as well, so that a failure is raised by this call rather
    than by a later lowering: any of "primal" (jax.jit), "jvp" (jax.jvp), "vjp" (jax.vjp /
    jax.grad). Each costs one more build (1-3 s); the default () adds none, since every real
    build is checked anyway."""
    import jax

    load()
    argv = tuple(cflags()) + tuple(argv)
    modes = (check,) if isinstance(check, str) else tuple(check or ())
    for mode in modes:
        if mode not in CHECK_MODES:
            raise ValueError(f"check: unknown mode {mode!r} ({', '.join(CHECK_MODES)})")

    def call(*xs):
        return _checked_cpp_call(*xs, out_shapes=out_shapes, source=source, fn=fn, argv=argv, **kwargs)

    if modes:
        specs = [jax.ShapeDtypeStruct(jax.numpy.shape(a), jax.numpy.result_type(a)) for a in args]
        for mode in modes:
            jax.jit(_probe(mode, call)).lower(*specs)
    return call(*args)


# ---------------------------------------------------------------------------------------
# Jacobians without batching.

def jacfwd(f, argnums=0):
    """Forward-mode Jacobian of `f`, for functions that call ``cpp_call``: like
    ``jax.jacfwd`` (each output leaf gets a Jacobian of shape output shape + input shape; a
    tuple of them, one per argument, for a tuple `argnums`), but built one input direction at a
    time with ``jax.lax.map`` over ``jax.jvp``. ``jax.jacfwd``, ``jax.jacrev`` and ``jax.vmap``
    over a cpp_call fail ("Batching rule for 'enzyme_fwd' not implemented": Enzyme-JAX has no
    batching rules). Cost: one forward-mode evaluation of `f` per element of the argument."""
    import jax
    import jax.numpy as jnp

    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    def jac(*args):
        per_arg = []
        for k in nums:
            x = jnp.asarray(args[k])
            if not jnp.issubdtype(x.dtype, jnp.inexact):
                raise TypeError(f"jacfwd: argument {k} has dtype {x.dtype}; only float arguments have a Jacobian")

            def f_of_xk(xk, k=k):
                a = list(args)
                a[k] = xk
                return f(*a)

            n = x.size
            basis = jnp.eye(n, dtype=x.dtype).reshape((n,) + x.shape)
            cols = jax.lax.map(lambda v: jax.jvp(f_of_xk, (x,), (v,))[1], basis)  # leaves: (n,) + out shape
            per_arg.append(jax.tree_util.tree_map(
                lambda c: jnp.moveaxis(c, 0, -1).reshape(c.shape[1:] + x.shape), cols))
        if isinstance(argnums, int):
            return per_arg[0]
        return jax.tree_util.tree_map(lambda *js: tuple(js), *per_arg)  # jax's layout

    return jac
