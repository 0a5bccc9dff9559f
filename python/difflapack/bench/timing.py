"""How the benchmark measures: the thread environment, interleaved best-of timing, and the peak
extra resident memory of one kernel call in a fresh process."""
from __future__ import annotations

import ctypes
import json
import os
import re
import statistics
import subprocess
import sys
import time


# ------------------------------------------------------------------ environment
def single_thread_environment(threads: int) -> None:
    """Ask every BLAS/LAPACK and thread pool in the process for `threads` threads. Variables
    first (libraries read them when they load), then the runtime calls (limit_threads)."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    if threads == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        extra = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        if "xla_cpu_multi_thread_eigen" not in flags:
            os.environ["XLA_FLAGS"] = (flags + " " + extra).strip()
        if "jax" in sys.modules:
            print("warning: jax was imported before the benchmark set XLA_FLAGS; "
                  "XLA may use several threads", file=sys.stderr)


def limit_threads(threads: int, lib) -> object:
    """Runtime thread limits, once every library is loaded; returns what must stay alive."""
    lib.dl_set_num_threads(threads)
    keep = None
    try:
        from threadpoolctl import threadpool_limits

        keep = threadpool_limits(limits=threads)
    except ImportError:
        print("warning: threadpoolctl not installed; NumPy/SciPy BLAS thread count not pinned",
              file=sys.stderr)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    return keep


# ------------------------------------------------------------------ timing
# The clocks a measurement can read: wall time, or the CPU time of the whole process (every
# thread: XLA's and PyTorch's workers included), which time slices given to other processes on
# a shared machine do not inflate (their cache pollution still does).
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def _batch_size(fn, target, clock) -> int:
    number = 1
    while True:
        t0 = clock()
        for _ in range(number):
            fn()
        if clock() - t0 >= target or number >= 1 << 20:
            return number
        number *= 2


def measure_rounds(fns: dict, min_time: float = 0.2, min_batches: int = 5, batch_time: float = 1e-3,
                   clock: str = "wall", partners: dict | None = None) -> dict:
    """{name: [(round, seconds per call), ...]}. Each callable is run once (JIT compilation,
    lazy initialisation, page faults), calibrated to a batch lasting >= `batch_time`, then the
    batches of all `fns` run in interleaved rounds (a load change on a shared machine hits them
    alike) until each has run >= `min_time` seconds and >= `min_batches` batches; a callable
    named in `partners` (name -> name) keeps running while its partner does, so that the two
    have samples from the same rounds to compare. clock: "wall" or "cpu" (CLOCKS)."""
    now = CLOCKS[clock]
    partners = partners or {}
    for fn in fns.values():
        fn()
    numbers = {k: _batch_size(fn, batch_time, now) for k, fn in fns.items()}
    samples = {k: [] for k in fns}
    spent = dict.fromkeys(fns, 0.0)
    done = lambda k: spent[k] >= min_time and len(samples[k]) >= min_batches  # noqa: E731
    rounds = 0
    while not all(done(k) for k in fns):
        for k, fn in fns.items():
            if done(k) and (partners.get(k) not in fns or done(partners[k])):
                continue
            number = numbers[k]
            t0 = now()
            for _ in range(number):
                fn()
            dt = now() - t0
            spent[k] += dt
            samples[k].append((rounds, dt / number))
        rounds += 1
    return samples


def measure(fns: dict, min_time: float = 0.2, min_batches: int = 5, batch_time: float = 1e-3,
            clock: str = "wall") -> dict:
    """{name: (best, median) seconds per call} of measure_rounds."""
    samples = measure_rounds(fns, min_time, min_batches, batch_time, clock)
    return {k: (min(t for _, t in v), statistics.median(t for _, t in v)) for k, v in samples.items()}


def paired_ratio(a: list, b: list) -> float | None:
    """Median over the rounds in which both ran of time(a) / time(b): a load change between
    rounds cancels out of each quotient."""
    tb = dict(b)
    quotients = [t / tb[r] for r, t in a if r in tb and tb[r] > 0]
    return statistics.median(quotients) if quotients else None


# ------------------------------------------------------------------ memory (subprocess)
def _proc_status_kib(*keys) -> dict:
    with open("/proc/self/status") as fh:
        text = fh.read()
    return {k: int(re.search(k + r":\s+(\d+)", text).group(1)) for k in keys}


def memory_worker(routine: str, n: int, threads: int, precision: str = "d", nrhs: int = 1) -> dict:
    """Runs in a fresh process: peak extra resident KiB of the LAPACK primal and of our
    forward and reverse kernels (callables of kernels.our_cases)."""
    libc = ctypes.CDLL("libc.so.6")
    M_MMAP_THRESHOLD = -3
    libc.mallopt(M_MMAP_THRESHOLD, 64 * 1024)
    from .._core import lib
    from .kernels import openblas, our_cases
    from .problems import problem

    lib.load()
    # the workspace cache off: the warm-up's blocks would otherwise stay resident and the measured
    # call reuse them, hiding the kernels' own peak (the cache's memory is its limit, documented)
    lib.dl_set_workspace_cache(0)
    blas = openblas()
    lib.dl_set_num_threads(threads)
    cases = our_cases(routine, problem(routine, n, precision=precision, nrhs=nrhs), lib, blas)
    result = {}
    for name in ("primal", "fwd", "rev_pb"):
        fn = cases.get(name)
        if fn is None:
            continue
        fn()  # warm-up: OpenBLAS buffers, lazy binding
        libc.malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        before = _proc_status_kib("VmRSS")["VmRSS"]
        fn()
        after = _proc_status_kib("VmHWM")["VmHWM"]
        result[name] = max(0, after - before)
    return result


def measure_memory(routine: str, n: int, threads: int, precision: str = "d", nrhs: int = 1) -> dict:
    pkg_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
    code = ("import json, sys; from difflapack.bench.timing import memory_worker; "
            "a = sys.argv[1:]; "
            "print(json.dumps(memory_worker(a[0], int(a[1]), int(a[2]), a[3], int(a[4]))))")
    out = subprocess.run([sys.executable, "-c", code, routine, str(n), str(threads), precision, str(nrhs)],
                         env=env, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])
