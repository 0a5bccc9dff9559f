"""Using difflapack's rules from Enzyme-JAX ``cpp_call``.

``load()`` makes the system BLAS/LAPACK and the difflapack core resolvable in-process (the
embedded JIT resolves external symbols only from libraries loaded with RTLD_GLOBAL);
``cflags()`` is the argv a ``cpp_call`` needs to ``#include "difflapack_enzyme.h"``;
``cpp_call`` is ``enzyme_ad.jax.cpp_call`` with both applied, which also fails loudly when
Enzyme's output shows that it gave up: such a build can still run and return wrong numbers.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import re
import tempfile

from ._core import get_ilp64_library, get_include, get_library

# What Enzyme prints when it could not differentiate something (the build may still run).
ENZYME_FAILURE_PATTERNS = (
    "Bad function type",
    "No forward mode derivative",
    "No augmented forward pass",
    "No reverse pass found",
    "No derivative found",
    "LLVM ERROR",
    "Call parameter type does not match",
    "error:",
)

BLAS_LIBRARIES = ("libopenblas.so.0",)

_loaded: list[str] = []


class EnzymeBuildError(RuntimeError):
    """Enzyme (or the embedded clang) reported a failure while building a cpp_call."""

    def __init__(self, message: str, log: str):
        super().__init__(message)
        self.log = log


def load() -> list[str]:
    """Load BLAS/LAPACK, the difflapack core and its ILP64 shim with RTLD_GLOBAL (idempotent).
    Returns the paths loaded."""
    if not _loaded:
        for name in BLAS_LIBRARIES:
            ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
            _loaded.append(name)
        from ._core import lib

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
    from ._toolchain import system_include_dirs

    after = [arg for d in system_include_dirs() for arg in ("-idirafter", d)]
    return ("-I" + get_include(), *after)


def enzyme_failures(log: str) -> list[str]:
    """Lines of a build log that show Enzyme or clang gave up."""
    lines = log.splitlines()
    return [ln for ln in lines if any(p in ln for p in ENZYME_FAILURE_PATTERNS)]


@contextlib.contextmanager
def captured_stderr():
    """Capture file descriptor 2 (where the embedded clang/Enzyme print) into a string list."""
    out: list[str] = []
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            out.append(tmp.read().decode("utf-8", "replace"))


def check_log(log: str, what: str = "cpp_call") -> None:
    bad = enzyme_failures(log)
    if bad:
        raise EnzymeBuildError(f"{what}: Enzyme gave up:\n  " + "\n  ".join(b[:300] for b in bad[:8]), log)


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def cpp_call(*args, out_shapes, source: str, fn: str = "f", argv=(), check=("primal",), **kwargs):
    """``enzyme_ad.jax.cpp_call`` with ``load()`` and ``cflags()`` applied.

    Enzyme compiles at lowering time, which for a call inside ``jax.jit``/``jax.grad`` happens
    after this function returns. So that a failed build cannot go unnoticed, this wrapper first
    lowers the call itself under a stderr capture, for each mode in `check` ("primal": the
    source as written, which includes any __enzyme_autodiff/__enzyme_fwddiff inside it; "jvp":
    Enzyme's forward mode as jax.jvp drives it; "vjp": its split reverse mode as jax.grad
    drives it), and raises EnzymeBuildError if Enzyme's output shows it gave up."""
    import jax
    from enzyme_ad.jax import cpp_call as _enzyme_cpp_call

    load()
    argv = tuple(cflags()) + tuple(argv)

    def call(*xs):
        return _enzyme_cpp_call(*xs, out_shapes=out_shapes, source=source, fn=fn, argv=argv, **kwargs)

    if check:
        specs = [jax.ShapeDtypeStruct(getattr(a, "shape", ()), getattr(a, "dtype", None)) for a in args]
        for mode in check:
            if mode == "primal":
                probe = call
            elif mode == "jvp":
                probe = lambda *xs: jax.jvp(call, xs, xs)  # noqa: E731
            elif mode == "vjp":
                probe = lambda *xs: jax.vjp(call, *xs)[1](tuple(jax.numpy.zeros(s.shape, s.dtype) for s in out_shapes))  # noqa: E731
            else:
                raise ValueError(f"check: unknown mode {mode!r} (primal, jvp, vjp)")
            with captured_stderr() as log:
                jax.jit(probe).lower(*specs)
            check_log(_strip_ansi(log[0]), f"cpp_call {fn} [{mode}]")
    return call(*args)
