"""Memory that faults when touched, for tests of what the C kernels read and write.

``no_access()`` is an address in a PROT_NONE region: a kernel that reads or writes near it
crashes. ``at_page_end(nbytes)`` is a NumPy byte array whose last byte is the last one before a
PROT_NONE page: reading one element past its end crashes. Tests that may crash run their code
in a subprocess (``run_isolated``), so a fault fails one test instead of the session.
"""
from __future__ import annotations

import ctypes
import mmap
import os
import subprocess
import sys
import textwrap

import numpy as np

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                       ctypes.c_long]
_libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_MAP_FAILED = ctypes.c_void_p(-1).value
_PROT_NONE = 0


def _map(size: int, prot: int) -> int:
    addr = _libc.mmap(None, size, prot, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
    if addr in (None, _MAP_FAILED):
        raise OSError(ctypes.get_errno(), "mmap failed")
    return addr


_NO_ACCESS = None


def no_access() -> int:
    """An address in the middle of 64 MiB of PROT_NONE address space."""
    global _NO_ACCESS
    if _NO_ACCESS is None:
        size = 1 << 26
        _NO_ACCESS = _map(size, _PROT_NONE) + size // 2
    return _NO_ACCESS


def at_page_end(nbytes: int, dtype=np.uint8) -> np.ndarray:
    """A writable 1-D array of ``nbytes`` bytes (viewed as dtype) that ends exactly where a
    PROT_NONE page begins (never freed: tests allocate a few)."""
    page = mmap.PAGESIZE
    inner = max(page, -(-nbytes // page) * page)
    base = _map(inner + page, mmap.PROT_READ | mmap.PROT_WRITE)
    if _libc.mprotect(base + inner, page, _PROT_NONE):
        raise OSError(ctypes.get_errno(), "mprotect failed")
    start = base + inner - nbytes
    raw = (ctypes.c_char * nbytes).from_address(start)
    return np.frombuffer(raw, dtype=np.uint8).view(dtype)


def run_isolated(code: str, timeout: float = 120) -> str:
    """Run ``code`` (with this folder importable) in a fresh interpreter; return its stdout.
    Fails with the output if the interpreter did not exit cleanly (e.g. a segfault)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    here = os.path.dirname(os.path.abspath(__file__))
    prelude = f"import sys; sys.path.insert(0, {here!r})\n"
    proc = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, (
        f"exit status {proc.returncode} (negative: killed by that signal)\n"
        f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}")
    return proc.stdout
