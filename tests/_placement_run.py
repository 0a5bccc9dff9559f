"""The placement matrix's runner: every job (a matrix Cell or a UserProgram) is built and run
in its own process, forked from a forkserver that imported JAX and loaded the libraries but
never started XLA (tests/_placement_preload.py), so a build or a run that crashes fails that
job only. Every build's stderr is scanned for Enzyme/clang giving up (a build Enzyme gave up on
can still run and return numbers). The cell side of the jax programs is here too."""
from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass, field

import numpy as np

from _placement_cpp import driver_layout, encode_params
from _placement_model import ELEMS, input_length

# What Enzyme or clang prints when it gave up (the build may still run and return numbers): the
# library's own list (difflapack.enzyme.enzyme_failures, which every checked build applies) and,
# on the raw log, these substrings the matrix has always failed on as well (an assertion or an
# `unreachable` in a crashed build, "error:" anywhere in a line).
FAILURE_PATTERNS = ("Cannot deduce type", "No augmented forward pass", "No forward mode derivative",
                    "No reverse pass found", "No derivative found", "Bad function type", "LLVM ERROR",
                    "Call parameter type does not match", "error:", "Assertion", "unreachable")


# ----------------------------------------------------------------------------- child side
def _jax():
    import jax
    jax.config.update("jax_enable_x64", True)
    return jax


def _scan(log):
    from difflapack import enzyme
    log = enzyme.strip_ansi(log)
    lines = enzyme.enzyme_failures(log) + [ln for ln in log.splitlines() if any(p in ln for p in FAILURE_PATTERNS)]
    return [ln.strip()[:400] for ln in dict.fromkeys(lines)]


def gcc_include(code):
    """argv for a source that includes a C++ standard header: the embedded clang has its own
    headers but no stddef.h (gcc's)."""
    if "#include <" not in code:
        return ()
    import subprocess
    return ("-idirafter", subprocess.run(["gcc", "-print-file-name=include"], capture_output=True, text=True,
                                         check=True).stdout.strip())


def cell_program(cell, source):
    """The jitted function of a cell and a function that maps a case to its arguments."""
    from _placement_oracle import weights
    jax = _jax()
    import jax.numpy as jnp
    from difflapack import enzyme
    from enzyme_ad.jax import cpp_call

    enzyme.load()
    R = cell.R
    argv = tuple(enzyme.cflags()) + gcc_include(cell.E.header)
    nout = cell.seg_offsets()[1]
    act = [i for i, n in enumerate(R.inputs) if cell.act[n]]
    if cell.mode in ("rev", "fwd"):
        total = driver_layout(cell)["total"]

        def call(*xs):
            return cpp_call(*xs, out_shapes=[jax.core.ShapedArray([total], jnp.float64)], source=source,
                            fn="myfn", argv=argv)[0]

        def args(case):
            xs = [case.inputs[n] for n in R.inputs]
            if cell.mode == "fwd":
                xs += [case.dirs[n] if cell.act[n] else np.zeros_like(case.dirs[n]) for n in R.inputs]
            return xs + [weights(cell, case), encode_params(cell.routine, case.p)]
        return jax.jit(call), args

    def call(*xs):
        return cpp_call(*xs, out_shapes=[jax.core.ShapedArray([nout], jnp.float64)], source=source,
                        fn="myfn", argv=argv)[0]

    if cell.mode == "jvp":
        def fn(xs, ds, prm):
            tans = tuple(ds[i] if i in act else jnp.zeros_like(xs[i]) for i in range(len(xs)))
            return jax.jvp(lambda *a: call(*a, prm), tuple(xs), tans)

        def args(case):
            return [[case.inputs[n] for n in R.inputs], [case.dirs[n] for n in R.inputs],
                    encode_params(cell.routine, case.p)]
    else:
        def loss(*a):
            *xs, w, prm = a
            y = call(*xs, prm)
            return jnp.sum(y * w), y

        fn = jax.value_and_grad(loss, argnums=tuple(act), has_aux=True)

        def args(case):
            return [case.inputs[n] for n in R.inputs] + [weights(cell, case), encode_params(cell.routine, case.p)]
    return jax.jit(fn), args


def cell_unpack(cell, r):
    R = cell.R
    if cell.mode in ("rev", "fwd"):
        r = np.asarray(r)
        lay = driver_layout(cell)
        nout = cell.seg_offsets()[1]
        out = {"out": r[lay["res"]:lay["res"] + nout], "loss": r[0]}
        if cell.mode == "rev":
            out["grad"] = {n: r[lay["g_" + n]:lay["g_" + n] + input_length(n, ELEMS[cell.elem])]
                           for n in R.inputs if cell.act[n]}
        else:
            out["tan"], out["dloss"] = r[lay["dres"]:lay["dres"] + nout], r[1]
        return out
    if cell.mode == "jvp":
        return {"out": np.asarray(r[0]), "tan": np.asarray(r[1])}
    (loss, y), g = r
    act = [n for n in R.inputs if cell.act[n]]
    return {"out": np.asarray(y), "loss": float(loss), "grad": {n: np.asarray(g[i]) for i, n in enumerate(act)}}


def child_main(conn, job, case_list):
    """Runs in a forked process: build the job (stderr captured and scanned), then run every
    case. Messages: ("built", failures, log tail, seconds) then ("done", results, seconds), or
    ("error", stage, text)."""
    stage = "build"
    try:
        # glibc M_PERTURB: fresh heap memory reads as 0xBFBF... (-0.125 as a double), freed
        # memory as 0x4040... (32.5), so that a program reading memory nobody wrote fails every
        # time, not when the allocator happens to hand it zeros
        import ctypes
        ctypes.CDLL(None).mallopt(-6, 0x40)
        from difflapack import enzyme
        source = job.source()
        t0 = time.perf_counter()
        fn, args = job.program(source)
        with enzyme.captured_stderr() as log:
            try:
                compiled = fn.lower(*args(case_list[0])).compile()
                err = None
            except Exception as exc:    # noqa: BLE001
                compiled, err = None, f"{type(exc).__name__}: {str(exc)[:600]}"
        failures = _scan(log[0])
        conn.send(("built", failures, log[0][-3000:], time.perf_counter() - t0))
        if compiled is None:
            conn.send(("error", "build", err))
            return
        stage = "run"
        t0 = time.perf_counter()
        results = [job.unpack(compiled(*args(c))) for c in case_list]
        import resource
        ru = resource.getrusage(resource.RUSAGE_SELF)
        conn.send(("done", results, time.perf_counter() - t0, ru.ru_utime + ru.ru_stime))
    except BaseException:   # noqa: BLE001
        conn.send(("error", stage, traceback.format_exc()[-2000:]))
    finally:
        conn.close()


# ----------------------------------------------------------------------------- parent side
@dataclass
class Outcome:
    cell: object                # a Cell or a UserProgram
    status: str = "pending"     # ok | build_failure | crash_build | crash_run | error | wrong
    failures: list = field(default_factory=list)
    message: str = ""
    results: list | None = None
    build_s: float = 0.0
    run_s: float = 0.0
    wall_s: float = 0.0
    cpu_s: float = 0.0      # CPU seconds of the child (all threads), when it finished
    log: str = ""

    @property
    def ok(self):
        return self.status == "ok"

    def __str__(self):
        head = f"{self.cell.id}: {self.status}"
        if self.failures:
            head += "\n  Enzyme/clang gave up:\n    " + "\n    ".join(self.failures[:6])
        if self.message:
            head += "\n  " + self.message
        return head


def _start_method_context():
    import multiprocessing as mp
    ctx = mp.get_context("forkserver")
    # the server imports JAX, Enzyme-JAX and loads the libraries once; it never starts XLA, so
    # forking it is safe; each child builds and runs one cell
    ctx.set_forkserver_preload(["_placement_preload"])
    return ctx


class Runner:
    """Runs cells in forked children, up to `jobs` at a time, in the order they are queued."""

    def __init__(self, jobs=None, timeout=600.0):
        self.jobs = jobs or int(os.environ.get("DIFFLAPACK_PLACEMENT_JOBS", min(2, os.cpu_count() or 1)))
        self.timeout = timeout
        self.ctx = _start_method_context()
        self.queue, self.running, self.done = [], {}, {}

    def submit(self, cells):
        seen = set(self.done) | set(self.running) | set(self.queue)
        for c in cells:
            if c not in seen:
                self.queue.append(c)
                seen.add(c)

    def _launch(self):
        while self.queue and len(self.running) < self.jobs:
            cell = self.queue.pop(0)
            cell.prepare()
            a, b = self.ctx.Pipe(duplex=False)
            proc = self.ctx.Process(target=child_main, args=(b, cell, cell.child_cases()), daemon=True)
            proc.start()
            b.close()
            self.running[cell] = (proc, a, Outcome(cell), time.monotonic())

    def _finish(self, cell, status=None, message=""):
        proc, conn, out, t0 = self.running.pop(cell)
        if status:
            out.status, out.message = status, message
        out.wall_s = time.monotonic() - t0
        try:
            conn.close()
        except OSError:
            pass
        if proc.is_alive():
            proc.kill()
        proc.join()
        self.done[cell] = out

    def _poll(self):
        from multiprocessing.connection import wait
        conns = {v[1]: k for k, v in self.running.items()}
        ready = wait(list(conns), timeout=1.0)
        for conn in ready:
            cell = conns[conn]
            proc, _, out, t0 = self.running[cell]
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                proc.join(5)
                sig = -proc.exitcode if proc.exitcode and proc.exitcode < 0 else None
                import signal
                name = signal.Signals(sig).name if sig else f"exit {proc.exitcode}"
                stage = "run" if out.status == "built" else "build"
                self._finish(cell, f"crash_{stage}", f"the process died ({name}) while {stage}ing")
                continue
            if msg[0] == "built":
                out.failures, out.build_s = msg[1], msg[3]
                out.status, out.log = "built", msg[2]
            elif msg[0] == "done":
                out.results, out.run_s, out.cpu_s = msg[1], msg[2], msg[3]
                self._finish(cell, "ran")
            else:
                self._finish(cell, "error", f"{msg[1]} raised:\n{msg[2]}")
        now = time.monotonic()
        for cell, (proc, conn, out, t0) in list(self.running.items()):
            if now - t0 > self.timeout:
                self._finish(cell, "timeout", f"no result within {self.timeout:.0f} s")

    def result(self, cell):
        if cell not in self.done and cell not in self.running and cell not in self.queue:
            self.queue.insert(0, cell)
        while cell not in self.done:
            if cell in self.queue and len(self.running) >= self.jobs and cell not in self.running:
                # make room in the order queued; never starve the cell asked for
                self.queue.remove(cell)
                self.queue.insert(0, cell)
            self._launch()
            self._poll()
        out = self.done[cell]
        if out.status == "ran":
            out.cell.judge(out)
        return out

    def close(self):
        for cell in list(self.running):
            self._finish(cell, "error", "runner closed")
        path = os.environ.get("DIFFLAPACK_PLACEMENT_REPORT")
        if path:    # one JSON line per finished cell: id, status, seconds, message
            import json
            with open(path, "a") as f:
                for out in self.done.values():
                    f.write(json.dumps({"id": out.cell.id, "status": out.status, "build_s": round(out.build_s, 3),
                                        "wall_s": round(out.wall_s, 3), "cpu_s": round(out.cpu_s, 3),
                                        "failures": out.failures[:3], "message": out.message[:600]}) + "\n")

