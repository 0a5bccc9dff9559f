"""The C kernel fuzzer (tests/fuzz/README.md): every kernel of every precision under ASan and
UBSan with hostile arguments (illegal ones must be rejected with their documented code before
any memory is touched; legal ones must stay inside exact-size buffers, leave read-only
arguments and the unreferenced triangles unchanged, and keep each routine's documented info
> 0 behaviour). Built with make into build/fuzz-plain-gcc (incremental)."""
import os
import re
import shutil
import subprocess

import pytest

from difflapack import _core

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUZZ_DIR = os.path.join(ROOT, "tests", "fuzz")
CASES = int(os.environ.get("DL_FUZZ_CASES", "300"))
LIBFUZZER_SECONDS = int(os.environ.get("DL_FUZZ_LIBFUZZER_SECONDS", "0"))
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", ASAN_OPTIONS="detect_leaks=1",
           UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")


def _build(mode="plain", cc="gcc"):
    if not shutil.which("make") or not shutil.which(cc):
        pytest.skip(f"needs make and {cc}")
    build = os.path.join(ROOT, "build", f"fuzz-{mode}-{cc}")
    proc = subprocess.run(["make", "-s", "-j2", f"BUILD={build}", f"MODE={mode}", f"CC={cc}"], cwd=FUZZ_DIR,
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"building the fuzzer failed:\n{proc.stdout}\n{proc.stderr}"
    return build


def _tail(text, n=6000):
    return text[-n:]


def _listed_kernels(build):
    """{kernel: parameter names} as the fuzzer models them (fuzz_kernels -l)."""
    proc = subprocess.run([os.path.join(build, "fuzz_kernels"), "-l"], capture_output=True, text=True, env=ENV,
                          timeout=60)
    assert proc.returncode == 0, f"the fuzzer's models do not match the header's table:\n{proc.stderr}"
    return {line.split()[0]: tuple(line.split()[1:]) for line in proc.stdout.splitlines()}


def test_every_kernel_of_the_header_table_has_a_fuzz_model():
    """Guard: a kernel added to DL_KERNELS (include/difflapack.h) without a model in
    tests/fuzz/fuzz_kernels.c fails to compile there (a static assertion on the count), and a
    model whose kernels or parameter names differ from the table (name, order) fails here."""
    table = _core.kernel_table(os.path.join(ROOT, "include"))
    listed = _listed_kernels(_build())
    assert sorted(listed) == sorted(table), f"kernels without a model: {sorted(set(table) - set(listed))}"
    for name, (params, _) in table.items():
        assert listed[name] == params, (name, listed[name], params)


def test_every_kernel_survives_hostile_arguments():
    build = _build()
    proc = subprocess.run([os.path.join(build, "fuzz_kernels"), "-n", str(CASES), "-t", "120"],
                          capture_output=True, text=True, env=ENV, timeout=600)
    assert proc.returncode == 0, f"stdout:\n{_tail(proc.stdout)}\nstderr:\n{_tail(proc.stderr)}"
    m = re.search(r"(\d+) kernels, (\d+) cases \((\d+) illegal argument sets, (\d+) legal calls, (\d+) bad-pivot",
                  proc.stdout)
    assert m, proc.stdout
    kernels, cases, illegal, legal, pivots = map(int, m.groups())
    print(proc.stdout)
    assert kernels == len(_core.kernel_table(os.path.join(ROOT, "include")))  # every kernel of the header
    # not vacuous (also when a loaded machine hits the time cap): each kind of case ran often
    assert illegal > 10 * kernels and legal > 5 * kernels and pivots > 30


@pytest.mark.skipif(LIBFUZZER_SECONDS <= 0, reason="set DL_FUZZ_LIBFUZZER_SECONDS to run libFuzzer")
def test_libfuzzer_finds_nothing(tmp_path):
    build = _build("libfuzzer", "clang")
    proc = subprocess.run([os.path.join(build, "fuzz_kernels_libfuzzer"), f"-max_total_time={LIBFUZZER_SECONDS}",
                           "-max_len=256", str(tmp_path)], capture_output=True, text=True, env=ENV,
                          timeout=LIBFUZZER_SECONDS + 300)
    assert proc.returncode == 0, f"stderr:\n{_tail(proc.stderr)}"
