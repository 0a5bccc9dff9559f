"""The C core's workspace cache (csrc/workspace.c): freed work arrays and Enzyme tapes of 1 MiB or
more are kept for reuse. What must hold: results do not depend on whether a block is fresh or
reused (bitwise, also from several threads at once), the limit is respected and settable, and a
pointer the library did not allocate is refused loudly."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import difflapack as dl

N = 300  # getri's adjoint takes 2 n^2 doubles: 1.4 MB, above the cache's 1 MiB floor


def _problem(seed, n=N, dtype=np.float64):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n)) + 3 * np.sqrt(n) * np.eye(n)
    g = rng.standard_normal((n, n))
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal((n, n))
        g = g + 1j * rng.standard_normal((n, n))
    return a.astype(dtype), g.astype(dtype)


def _derivatives(a, g):
    """Kernels with large workspaces: getri's tangent and adjoint, inv's, slogdet's, potrf's."""
    lu, piv = dl.getrf(a)[:2]
    out = [dl.getri_jvp(lu, piv, g)[1], dl.getri_vjp(lu, piv)[1](g), dl.inv_vjp(a)[1](g),
           dl.slogdet_vjp(a)[1](1.0, 0.5)]
    spd = a @ a.conj().T
    out += [dl.potrf_jvp(spd, g)[1], dl.potrf_vjp(spd)[1](np.tril(g))]
    return out


@pytest.fixture
def restore_limit():
    limit = dl.workspace_cache()["limit"]
    yield
    dl.set_workspace_cache(limit)


def test_default_limit_and_release(restore_limit):
    dl.set_workspace_cache(128 << 20)
    _derivatives(*_problem(0))
    info = dl.workspace_cache()
    assert info["limit"] == 128 << 20
    assert 0 < info["held"] <= info["limit"]
    dl.release_workspace()
    assert dl.workspace_cache() == {"limit": 128 << 20, "held": 0}


def test_limit_is_respected(restore_limit):
    dl.set_workspace_cache(2 << 20)
    for seed in range(3):
        _derivatives(*_problem(seed))
        assert dl.workspace_cache()["held"] <= 2 << 20
    dl.set_workspace_cache(0)
    _derivatives(*_problem(3))
    assert dl.workspace_cache() == {"limit": 0, "held": 0}


@pytest.mark.parametrize("dtype", [np.float64, np.complex64])
def test_reused_blocks_give_the_same_bits(restore_limit, dtype):
    problems = [_problem(seed, dtype=dtype) for seed in range(3)]
    dl.set_workspace_cache(0)  # every block fresh
    fresh = [_derivatives(*p) for p in problems]
    dl.set_workspace_cache(256 << 20)
    for _ in range(2):  # the second round runs entirely on reused blocks
        for p, want in zip(problems, fresh):
            for got, ref in zip(_derivatives(*p), want):
                assert np.array_equal(np.asarray(got), np.asarray(ref))


def test_threads_share_the_cache(restore_limit):
    dl.set_workspace_cache(64 << 20)
    problems = [_problem(seed, n=200) for seed in range(4)]
    want = [_derivatives(*p) for p in problems]
    errors = []

    def work(k):
        try:
            for _ in range(3):
                for got, ref in zip(_derivatives(*problems[k]), want[k]):
                    if not np.array_equal(np.asarray(got), np.asarray(ref)):
                        errors.append(k)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert dl.workspace_cache()["held"] <= 64 << 20


@pytest.mark.parametrize("bad", [-1, 2 ** 64, 1.5, "8"])
def test_bad_limit_is_refused(bad):
    with pytest.raises(ValueError, match="nbytes"):
        dl.set_workspace_cache(bad)


def _run(code, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


@pytest.mark.parametrize("value, limit", [("0", 0), ("5", 5 << 20), ("", 128 << 20), ("lots", 128 << 20),
                                          ("-1", 128 << 20), (str(2 ** 44 - 1), 2 ** 64 - (1 << 20)),
                                          (str(2 ** 44), 128 << 20), ("1" + "0" * 30, 128 << 20)])
def test_environment_limit(value, limit):
    proc = _run("import difflapack as d; print(d.workspace_cache()['limit'])", DIFFLAPACK_WORKSPACE_CACHE_MB=value)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) == limit


def test_double_free_is_refused():
    code = ("import ctypes, difflapack as d\n"
            "from difflapack._core import lib\n"
            "lib.dl_alloc_bytes.restype = ctypes.c_void_p\n"
            "lib.dl_alloc_bytes.argtypes = [ctypes.c_size_t]\n"
            "lib.dl_free.argtypes = [ctypes.c_void_p]\n"
            "p = lib.dl_alloc_bytes(3 << 20)\n"
            "lib.dl_free(p)\n"
            "lib.dl_free(p)\n")
    proc = _run(code)   # the block stays in the cache after the first free: the header is readable
    assert proc.returncode != 0
    assert "a double free" in proc.stderr


def test_a_small_request_does_not_take_a_large_block(restore_limit):
    from difflapack._core import lib
    import ctypes

    lib.dl_alloc_bytes.restype = ctypes.c_void_p
    lib.dl_alloc_bytes.argtypes = [ctypes.c_size_t]
    lib.dl_free.argtypes = [ctypes.c_void_p]
    dl.set_workspace_cache(256 << 20)
    dl.release_workspace()
    big = lib.dl_alloc_bytes(64 << 20)
    lib.dl_free(big)
    assert dl.workspace_cache()["held"] == 64 << 20
    small = lib.dl_alloc_bytes(2 << 20)       # a fresh block: the 64 MiB one stays cached
    assert dl.workspace_cache()["held"] == 64 << 20
    lib.dl_free(small)
    again = lib.dl_alloc_bytes(40 << 20)      # within twice: takes it
    assert again == big and dl.workspace_cache()["held"] == 2 << 20
    lib.dl_free(again)


def test_foreign_pointer_is_refused():
    code = ("import ctypes, numpy as np, difflapack as d\n"
            "from difflapack._core import lib\n"
            "buf = np.zeros(1 << 16)\n"
            "lib.dl_free.argtypes = [ctypes.c_void_p]\n"
            "lib.dl_free(buf.ctypes.data + 4096)\n")
    proc = _run(code)
    assert proc.returncode != 0
    assert "did not allocate" in proc.stderr



FORK_PROGRAM = r"""
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
void *dl_alloc_bytes(unsigned long bytes);
void dl_free(void *p);
static volatile int stop;
static void *churn(void *arg) {  /* takes and returns cached blocks: the lock is often held */
    while (!stop) { void *p = dl_alloc_bytes((2u << 20) + (rand() & 4095)); dl_free(p); }
    return arg;
}
int main(void) {
    pthread_t t[2];
    for (int i = 0; i < 2; ++i) pthread_create(&t[i], 0, churn, 0);
    for (int k = 0; k < 200; ++k) {
        pid_t pid = fork();
        if (pid == 0) { void *p = dl_alloc_bytes(3u << 20); dl_free(p); _exit(0); }
        int status = 0;
        for (int w = 0; w < 2000 && waitpid(pid, &status, WNOHANG) == 0; ++w) usleep(1000);
        if (!WIFEXITED(status)) { kill(pid, SIGKILL); return 1; }  /* hung in the cache's lock */
    }
    stop = 1;
    for (int i = 0; i < 2; ++i) pthread_join(t[i], 0);
    return 0;
}
"""


def test_fork_while_other_threads_allocate(tmp_path):
    """A child forked while another thread holds the cache's lock must not deadlock in it (the
    lock is held across fork() and released on both sides). In C: Python's own import lock
    makes fork-with-threads hang in Python code whatever the library does."""
    import shutil

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    src, exe = tmp_path / "fork.c", tmp_path / "fork"
    src.write_text(FORK_PROGRAM)
    libdir = os.path.dirname(dl.get_library())
    name = os.path.basename(dl.get_library())
    subprocess.run([cc, "-O1", str(src), "-o", str(exe), "-pthread", f"-L{libdir}", f"-l:{name}",
                    f"-Wl,-rpath,{libdir}"], check=True, capture_output=True)
    proc = subprocess.run([str(exe)], capture_output=True, timeout=300,
                          env={**os.environ, "DIFFLAPACK_WORKSPACE_CACHE_MB": "64"})
    assert proc.returncode == 0, "a forked child hung in the workspace cache's lock"


def test_the_core_allocates_only_through_the_workspace():
    """Every block of the core comes from dl_alloc_bytes and goes back through dl_free (which
    reads the block's header); a plain free() of such a block is heap corruption ("free():
    invalid pointer", as a column guard's free once was), so the sources may not call the C
    allocator directly -- except workspace.c itself and the realloc'd pivot buffer, which is
    never handed to dl_free."""
    import re

    root = os.path.join(os.path.dirname(__file__), "..", "csrc")
    call = re.compile(r"(?<![\w.>])(malloc|calloc|realloc|free|aligned_alloc|posix_memalign)\s*\(")
    offenders = []
    for name in sorted(os.listdir(root)):
        if not name.endswith((".c", ".h")) or name == "workspace.c":
            continue
        with open(os.path.join(root, name)) as fh:
            for number, line in enumerate(fh, 1):
                code = line.split("//")[0]
                if call.search(code) and "dle_pivot_buf" not in code:
                    offenders.append(f"{name}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
