"""difflapack.enzyme: every Enzyme/clang failure of a cpp_call build reaches the user as
EnzymeBuildError (whichever JAX transformation triggers the build), the build log is
re-emitted without Enzyme's IR dumps, plain enzyme_ad calls are untouched, and the claims of
README.md / docs/enzyme-limitations/ about these helpers hold (their reproducers are run here).

Sections: the log classifier on real captured logs (tests/data/enzyme_logs, no builds); the
build interception with stand-in build functions (no builds); real Enzyme builds; the
documented Enzyme-JAX 0.0.16 limitations (a few in subprocesses: they kill the process)."""
from __future__ import annotations

import ctypes
import importlib.util
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("enzyme_ad.jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from difflapack import enzyme  # noqa: E402
from difflapack.enzyme import EnzymeBuildError  # noqa: E402

jax.config.update("jax_enable_x64", True)

HERE = os.path.dirname(os.path.abspath(__file__))
LOGS = os.path.join(HERE, "data", "enzyme_logs")
DOCS = os.path.join(HERE, "..", "docs", "enzyme-limitations")


def _log(name):
    with open(os.path.join(LOGS, name)) as fh:
        return fh.read()


def _doc_module(name):
    spec = importlib.util.spec_from_file_location(f"doc_{name}", os.path.join(DOCS, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _shapes(*ns):
    return [jax.core.ShapedArray([n], jnp.float64) for n in ns]


# ======================================================================= the log classifier
# file -> (number of failure lines, the readable first failure or None)
REAL_LOGS = {
    "no_rule_jvp.log": (1, "Enzyme: No forward mode derivative found for dgetrf_"),
    "no_rule_grad.log": (4, "Enzyme: No augmented forward pass found for dgetrf_"),
    "memcpy_cannot_deduce_grad.log": (1, "Enzyme: Cannot deduce type of copy"),
    "syntax_error_primal.log": (1, "source line 2, column 94: error: expected expression"),
    "macro_address_jvp.log": (1, "source line 4, column 12: error: 'dtrsv_' is defined as a function-like macro"),
    "output_in_place_loop_grad.log": (1, "Enzyme-JAX removed a store to an output tensor"),
    "output_in_place_helper_grad.log": (2, "Attributes 'noinline and alwaysinline' are incompatible!"),
    "custom_rule_constant_arg_grad.log": (1, "trying to call _ZL6sq_revPdS_PKdS_Pv"),
    "difflapack_trsv_grad.log": (0, None),
    "custom_rule_grad.log": (0, None),
}


@pytest.mark.parametrize("name", sorted(REAL_LOGS))
def test_classifier_on_real_logs(name):
    count, first = REAL_LOGS[name]
    failures = enzyme.enzyme_failures(_log(name))
    assert len(failures) == count, failures
    if first:
        assert enzyme.short_error(failures[0]).startswith(first), failures[0]


def test_llvm_fatal_error_is_a_failure():
    failures = enzyme.enzyme_failures(_log("output_in_place_helper_grad.log"))
    assert failures[-1] == "LLVM ERROR: function failed verification (2)"


def test_warnings_and_dumps_are_not_failures():
    log = ("/enzyme_call/source.cpp:4:3: warning: unused variable 'x' [-Wunused-variable]\n"
           "warning: <unknown>:0:0: in function f void (ptr): Enzyme: Massaging provided custom augmented "
           "forward pass to handle constant argumented\n"
           " aug: todiff: define void @f(ptr %x) {\nentry:\n  ; a string: error: No derivative found for g\n"
           "  ret void\n}\n\n")
    assert enzyme.enzyme_failures(log) == []


def test_filter_removes_exactly_the_dumps_and_the_massaging_warning():
    # only dumps: nothing is left
    assert enzyme.filter_build_log(_log("difflapack_trsv_grad.log")).strip() == ""
    assert enzyme.filter_build_log(_log("custom_rule_grad.log")).strip() == ""
    # dumps (multi-block functions), Massaging warnings, and what must stay
    kept = enzyme.filter_build_log(_log("custom_rule_constant_arg_grad.log"))
    assert "aug: todiff" not in kept and "aug foundcalled" not in kept and "Massaging" not in kept
    assert "@_ZL6sq_augPdS_PKdS1_" not in kept   # the body of the dumped rule went with it
    assert kept.lstrip().startswith("trying to call _ZL6sq_revPdS_PKdS_Pv")
    assert "args[3] =" in kept
    # a failure log keeps everything but its dumps
    memcpy = _log("memcpy_cannot_deduce_grad.log")
    kept = enzyme.filter_build_log(memcpy)
    assert kept.startswith("error: <unknown>:0:0: in function preprocess_")
    assert "<analysis>" in kept and "</analysis>" in kept and "aug: todiff" not in kept
    # other text is kept verbatim
    other = "/enzyme_call/source.cpp:4:2: warning: hello [-W#warnings]\n    4 | #warning hello\n\n"
    assert enzyme.filter_build_log(other) == other


def test_short_error_maps_clang_lines_to_the_users_source():
    line = "/enzyme_call/source.cpp:7:12: error: use of undeclared identifier 'y'"
    assert enzyme.short_error(line) == "source line 4, column 12: error: use of undeclared identifier 'y'"
    assert enzyme.short_error(line, line_offset=2) == "source line 2, column 12: error: use of undeclared identifier 'y'"
    assert enzyme.short_error("error: <unknown>:0:0: in function f void (ptr): Enzyme: No reverse pass found for "
                              "dtrsv_") == "Enzyme: No reverse pass found for dtrsv_"


def test_the_patterns_live_in_one_place():
    from difflapack import testing

    assert not hasattr(testing, "ENZYME_FAILURE_PATTERNS")
    names = [name for name, _, _ in enzyme.ENZYME_FAILURE_PATTERNS]
    assert len(names) == len(set(names)) and all(len(p) == 3 for p in enzyme.ENZYME_FAILURE_PATTERNS)
    with pytest.raises(EnzymeBuildError, match="Cannot deduce type of copy"):
        enzyme.check_log(_log("memcpy_cannot_deduce_grad.log"), "memcpy")


# ======================================================================= interception, stand-ins
class _Abi:
    def __init__(self, name):
        self.name = name

    def __str__(self):
        return "ABI." + self.name


def _fake_build(text=b"", exc=None, sleep=0.0):
    def build(*args):
        os.write(2, text)
        if sleep:
            import time

            time.sleep(sleep)
        if exc is not None:
            raise exc
        return (7, 0)

    return build


def _call(wrapper, source, fn="f", argv=("-Ifoo",), abi="Reverse"):
    return wrapper(source, fn, [], [], argv, _Abi(abi), None, False, "", "cpu")


def test_registered_build_raises_with_message_and_log(capfd):
    enzyme._register("SRC-A", "f", ("-Ifoo",))
    text = (b" aug: todiff: declare void @g(ptr)\n\n"
            b"error: <unknown>:0:0: in function h void (ptr): Enzyme: No reverse pass found for dtrsv_\n")
    wrapper = enzyme._make_wrapper(_fake_build(text), "create_enzyme_kernel")
    with pytest.raises(EnzymeBuildError) as info:
        _call(wrapper, "SRC-A", argv=("-Ifoo", "-resource-dir", "x"))
    err = info.value
    assert str(err).startswith("cpp_call fn='f', building the reverse pass (jax.grad / jax.vjp)")
    assert "Enzyme: No reverse pass found for dtrsv_" in str(err)
    assert err.log == text.decode() and err.failures == [text.decode().splitlines()[-1]]
    assert err.stage == "the reverse pass (jax.grad / jax.vjp)" and err.fn == "f"
    out = capfd.readouterr().err  # the log was re-emitted without the dump
    assert "No reverse pass found" in out and "aug: todiff" not in out


def test_an_exception_in_the_build_becomes_enzyme_build_error():
    enzyme._register("SRC-B", "f", ("-Ifoo",))
    boom = SystemError("nanobind::detail::nb_func_error_except(): exception could not be translated!")
    wrapper = enzyme._make_wrapper(_fake_build(b"some clang text\n", boom), "create_enzyme_kernel")
    with pytest.raises(EnzymeBuildError, match="could not be translated") as info:
        _call(wrapper, "SRC-B")
    assert info.value.__cause__ is boom and info.value.log == "some clang text\n"
    assert "output tensor" in str(info.value) and "float32" in str(info.value)  # the hints: both known causes


def test_clean_build_returns_and_reemits_its_log(capfd):
    enzyme._register("SRC-C", "f", ("-Ifoo",))
    text = b"/enzyme_call/source.cpp:4:2: warning: hello [-W#warnings]\n aug: todiff: declare void @g(ptr)\n\n"
    wrapper = enzyme._make_wrapper(_fake_build(text), "tape_and_tmp_size")
    assert _call(wrapper, "SRC-C") == (7, 0)
    err = capfd.readouterr().err
    assert "warning: hello" in err and "aug: todiff" not in err


def test_unregistered_sources_pass_through_untouched(capfd):
    text = b"error: <unknown>:0:0: in function h void (ptr): Enzyme: No reverse pass found for dtrsv_\n" \
           b" aug: todiff: declare void @g(ptr)\n\n"
    wrapper = enzyme._make_wrapper(_fake_build(text), "create_enzyme_kernel")
    enzyme._register("SRC-D", "f", ("-Ifoo",))
    assert _call(wrapper, "SRC-OTHER") == (7, 0)           # another source
    assert _call(wrapper, "SRC-D", fn="g") == (7, 0)       # another function of it
    assert _call(wrapper, "SRC-D", argv=("-Ibar",)) == (7, 0)  # other flags
    assert capfd.readouterr().err == text.decode() * 3     # stderr not even captured


def test_a_large_log_does_not_block():
    enzyme._register("SRC-E", "f", ("-Ifoo",))
    big = (b"x" * 199 + b"\n") * 25_000  # 5 MB, far beyond a pipe buffer
    wrapper = enzyme._make_wrapper(_fake_build(big + b"LLVM ERROR: out of memory\n"), "create_enzyme_kernel")
    with pytest.raises(EnzymeBuildError, match="LLVM ERROR: out of memory") as info:
        _call(wrapper, "SRC-E")
    assert len(info.value.log) == len(big) + len("LLVM ERROR: out of memory\n")


def test_concurrent_builds_keep_their_own_logs():
    enzyme._register("SRC-F", "f", ("-Ifoo",))
    enzyme._register("SRC-G", "f", ("-Ifoo",))
    bad = enzyme._make_wrapper(_fake_build(b"/enzyme_call/source.cpp:9:1: error: thread one\n", sleep=0.2),
                               "create_enzyme_kernel")
    good = enzyme._make_wrapper(_fake_build(b"note: thread two\n", sleep=0.2), "create_enzyme_kernel")
    results = {}

    def run(key, wrapper, source):
        try:
            results[key] = _call(wrapper, source)
        except EnzymeBuildError as exc:
            results[key] = exc

    threads = [threading.Thread(target=run, args=(k, w, s)) for k, w, s in
               [(1, bad, "SRC-F"), (2, good, "SRC-G"), (3, bad, "SRC-F"), (4, good, "SRC-G")]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in (1, 3):
        assert isinstance(results[k], EnzymeBuildError) and results[k].log == "/enzyme_call/source.cpp:9:1: error: thread one\n"
    assert results[2] == results[4] == (7, 0)


def test_install_is_idempotent_and_wraps_once():
    from enzyme_ad.jax import enzyme_call

    enzyme.install()
    first = enzyme_call.create_enzyme_kernel
    enzyme.install()
    assert enzyme_call.create_enzyme_kernel is first
    enzyme._installed = False  # as after a reload of difflapack.enzyme: wrap again, one layer
    enzyme.install()
    for name in ("create_enzyme_kernel", "tape_and_tmp_size"):
        fn = getattr(enzyme_call, name)
        assert not hasattr(fn._difflapack_original, "_difflapack_original")


def test_install_refuses_other_enzyme_ad_internals(monkeypatch):
    from enzyme_ad.jax import enzyme_call, primitives

    enzyme.install()
    monkeypatch.setattr(enzyme, "_installed", False)
    monkeypatch.setattr(primitives, "_enzyme_rev_lowering", lambda *a, **k: None)
    with pytest.raises(enzyme.EnzymeIntegrationError, match="_enzyme_rev_lowering does not call"):
        enzyme.install()
    monkeypatch.undo()
    monkeypatch.setattr(enzyme, "_installed", False)

    def other_signature(source, fn):
        """create_enzyme_kernel(arg0: str, arg1: str) -> int"""

    other_signature._difflapack_original = other_signature
    monkeypatch.setattr(enzyme_call, "create_enzyme_kernel", other_signature)
    with pytest.raises(enzyme.EnzymeIntegrationError, match="has another signature"):
        enzyme.install()
    monkeypatch.undo()
    enzyme._installed = False
    enzyme.install()


def test_a_build_that_kills_the_process_still_shows_its_log():
    # stands in for Enzyme aborting after "LLVM ERROR: ..." (the real one is tested below)
    script = textwrap.dedent("""
        import os
        from difflapack import enzyme
        enzyme._register("SRC", "f", ("-Ifoo",))
        def build(*args):
            os.write(2, b" aug: todiff: declare void @g(ptr)\\n\\nbad IR here\\nLLVM ERROR: function failed verification (4)\\n")
            os.abort()
        enzyme._make_wrapper(build, "create_enzyme_kernel")("SRC", "f", [], [], ("-Ifoo",), "ABI.Forward")
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "the process died while Enzyme/clang built cpp_call fn='f' (forward mode (jax.jvp))" in r.stderr
    assert "bad IR here" in r.stderr and "LLVM ERROR: function failed verification (4)" in r.stderr
    assert "declare void @g" not in r.stderr  # the dump was filtered out


# ======================================================================= real builds
TWO_OUT = r"""
void f(enzyme::tensor<double, 3>& y, enzyme::tensor<double, 1>& s,
       const enzyme::tensor<double, 3>& x, const enzyme::tensor<double, 2>& c) {
  double t[3];
  for (int i = 0; i < 3; ++i) t[i] = x[i] * x[i] * c[0];
  for (int i = 0; i < 3; ++i) y[i] = t[i];
  s[0] = x[0] * c[1];
}"""


def _two_out(x, c):
    return x * x * c[0], (x[0] * c[1])[None]


def test_every_check_mode_builds_and_values_are_right():
    x, c = jnp.array([1.0, -2.0, 0.5]), jnp.array([3.0, -1.5])

    def call(x, c, check=()):
        return tuple(enzyme.cpp_call(x, c, out_shapes=_shapes(3, 1), source=TWO_OUT, fn="f", check=check,
                                     argv=("-fno-builtin",)))

    got = jax.jit(lambda x, c: call(x, c, check=("primal", "jvp", "vjp")))(x, c)
    for g, w in zip(got, _two_out(x, c)):
        np.testing.assert_allclose(g, w, rtol=1e-14)
    with pytest.raises(ValueError, match="unknown mode 'grad'"):
        call(x, c, check=("grad",))
    # the checked call under jax.jvp and jax.grad
    tx, tc = jnp.array([0.3, 0.1, -1.0]), jnp.array([0.2, 0.7])
    _, tan = jax.jit(lambda x, c: jax.jvp(call, (x, c), (tx, tc)))(x, c)
    _, ref = jax.jvp(_two_out, (x, c), (tx, tc))
    for g, w in zip(tan, ref):
        np.testing.assert_allclose(g, w, rtol=1e-13)
    loss = lambda f: lambda x, c: sum(jnp.sum(o * (k + 1)) for k, o in enumerate(f(x, c)))  # noqa: E731
    for g, w in zip(jax.jit(jax.grad(loss(call), argnums=(0, 1)))(x, c), jax.grad(loss(_two_out), argnums=(0, 1))(x, c)):
        np.testing.assert_allclose(g, w, rtol=1e-13)


# LAPACK called WITHOUT difflapack's header: Enzyme has no rule for dgetrf_ (it builds the primal,
# gives up on jax.grad's build, and such a build can run). With the header included this program
# is differentiated correctly (tests/test_trust_regressions.py).
MEMCPY = r"""
extern "C" { void* malloc(unsigned long); void free(void*); void* memcpy(void*, const void*, unsigned long);
  void dgetrf_(const int*, const int*, double*, const int*, int*, int*);
  void dgetrs_(const char*, const int*, const int*, const double*, const int*, const int*, double*, const int*, int*); }
void f(enzyme::tensor<double, 9>& out, const enzyme::tensor<double, 9>& A) {
  int n = 3, info; int ipiv[3];
  double* W = (double*)malloc(9 * sizeof(double)); double* X = (double*)malloc(9 * sizeof(double));
  memcpy(W, &A[0], 9 * sizeof(double));
  for (int i = 0; i < 9; ++i) X[i] = (i % 4 == 0) ? 1.0 : 0.0;
  dgetrf_(&n, &n, W, &n, ipiv, &info);
  dgetrs_("N", &n, &n, W, &n, ipiv, X, &n, &info);
  for (int i = 0; i < 9; ++i) out[i] = X[i];
  free(W); free(X);
}"""


def test_a_failure_in_the_build_jax_grad_triggers_is_raised_not_run():
    # Enzyme reports it has no rule for dgetrf_ while jax.grad builds this. The default cpp_call
    # (no probe builds) raises before anything runs.
    import inspect

    assert inspect.signature(enzyme.cpp_call).parameters["check"].default == ()
    A = jnp.asarray((np.eye(3) * 4 + np.arange(9).reshape(3, 3) / 10).ravel(order="F"))

    def loss(a):
        return jnp.sum(enzyme.cpp_call(a, out_shapes=_shapes(9), source=MEMCPY, fn="f")[0])

    with pytest.raises(EnzymeBuildError) as info:
        jax.jit(jax.grad(loss))(A)
    err = info.value
    assert "No augmented forward pass found for dgetrf_" in str(err) and "jax.grad" in err.stage
    assert err.failures
    # the same call's primal builds and runs (nothing there to differentiate)
    inv = jax.jit(lambda a: enzyme.cpp_call(a, out_shapes=_shapes(9), source=MEMCPY, fn="f")[0])(A)
    np.testing.assert_allclose(np.asarray(inv).reshape(3, 3, order="F"),
                               np.linalg.inv(np.asarray(A).reshape(3, 3, order="F")), rtol=1e-12)


def test_clang_errors_reach_the_user_with_clangs_message():
    x = jnp.ones(3)
    syntax = "void f(enzyme::tensor<double, 3>& out, const enzyme::tensor<double, 3>& b) {\n  out[0] = b[0] * ;\n}"
    with pytest.raises(EnzymeBuildError, match=r"source line 2, column 19: error: expected expression") as info:
        jax.jit(lambda x: enzyme.cpp_call(x, out_shapes=_shapes(3), source=syntax, fn="f"))(x)
    assert "failed execute" in str(info.value.__cause__)
    # README/docs: the header's routines are macros; naming one other than in a call fails to compile
    address = ('#include "difflapack_enzyme.h"\n'
               "void f(enzyme::tensor<double, 3>& out, const enzyme::tensor<double, 3>& b) {\n"
               "  auto p = &(dtrsv_); (void)p; for (int i = 0; i < 3; ++i) out[i] = b[i]; }")
    with pytest.raises(EnzymeBuildError, match=r"source line 3, column 14: error: 'dtrsv_' is defined as a "
                                                r"function-like macro"):
        jax.jit(lambda x: jax.jvp(lambda x: enzyme.cpp_call(x, out_shapes=_shapes(3), source=address, fn="f"),
                                  (x,), (x,)))(x)


# Regression: C++ sources using the C++ runtime (operator new/delete under std::vector) built
# but failed to link in the JIT ("Symbols not found: [_Znwm, _ZdlPvm]" on stderr only; the
# exception said "failed to lookup function called 'entry'"). load() now loads libstdc++ with
# RTLD_GLOBAL, and a symbol the JIT cannot resolve is named in EnzymeBuildError.
STD_VECTOR = r"""
#include <vector>
#include "difflapack_enzyme.h"
void f(enzyme::tensor<double, 3>& out, const enzyme::tensor<double, 3>& b) {
  std::vector<double> U = {2, 0, 0, 1, 3, 0, 1, 1, 4}, x(3);
  for (int i = 0; i < 3; ++i) x[i] = b[i];
  std::vector<int> n(1, 3), one(1, 1);
  dtrsv_("U", "N", "N", n.data(), U.data(), n.data(), x.data(), one.data());
  for (int i = 0; i < 3; ++i) out[i] = x[i] * x[i];
}"""

MISSING_SYMBOL = r"""
extern "C" double difflapack_test_no_such_function(double);
void f(enzyme::tensor<double, 3>& out, const enzyme::tensor<double, 3>& b) {
  for (int i = 0; i < 3; ++i) out[i] = difflapack_test_no_such_function(b[i]);
}"""


def test_cpp_runtime_is_loaded_and_std_vector_works_under_jax_grad():
    enzyme.load()
    assert hasattr(ctypes.CDLL(None), "_Znwm"), "load() must make operator new resolvable in-process"
    b = jnp.array([1.0, -2.0, 0.5])
    f = lambda b: enzyme.cpp_call(b, out_shapes=_shapes(3), source=STD_VECTOR, fn="f")[0]  # noqa: E731
    U = np.array([[2.0, 1, 1], [0, 3, 1], [0, 0, 4]])
    x = np.linalg.solve(U, np.asarray(b))
    np.testing.assert_allclose(np.asarray(jax.jit(f)(b)), x * x, rtol=1e-14)
    g = jax.jit(jax.grad(lambda b: jnp.sum(f(b))))(b)
    np.testing.assert_allclose(np.asarray(g), np.linalg.solve(U.T, 2 * x), rtol=1e-13)


def test_an_unresolved_symbol_is_named_in_the_error():
    # (the primal build: derivative builds stop earlier, Enzyme having no rule for the function)
    x = jnp.ones(3)
    with pytest.raises(EnzymeBuildError, match=r"Symbols not found: \[ ?difflapack_test_no_such_function") as info:
        jax.jit(lambda x: enzyme.cpp_call(x, out_shapes=_shapes(3), source=MISSING_SYMBOL, fn="f")[0])(x)
    assert "JIT session error" in str(info.value) and "RTLD_GLOBAL" in str(info.value)
    assert any("difflapack_test_no_such_function" in f for f in info.value.failures)
    assert "failed to lookup function called 'entry'" in str(info.value.__cause__)


NOT_INTERPOSED = r"""
#include "difflapack_enzyme.h"
extern "C" void dtrsv_direct(const char*, const char*, const char*, const int*, const double*, const int*,
                             double*, const int*) __asm__("dtrsv_");
void f(enzyme::tensor<double, 3>& out, const enzyme::tensor<double, 3>& b) {
  double U[9] = {2, 0, 0, 1, 3, 0, 1, 1, 4}, x[3] = {b[0], b[1], b[2]}; int n = 3, one = 1;
  dtrsv_direct("U", "N", "N", &n, U, &n, x, &one);   /* reaches the Fortran symbol, not the header */
  for (int i = 0; i < 3; ++i) out[i] = x[i]; }"""


def test_a_call_that_bypasses_the_header_is_reported():
    x = jnp.array([1.0, 2.0, 3.0])
    f = lambda x: enzyme.cpp_call(x, out_shapes=_shapes(3), source=NOT_INTERPOSED, fn="f")[0]  # noqa: E731
    with pytest.raises(EnzymeBuildError, match="No forward mode derivative found for dtrsv_"):
        jax.jit(lambda x: jax.jvp(f, (x,), (x,)))(x)
    with pytest.raises(EnzymeBuildError, match="No augmented forward pass found for dtrsv_"):
        jax.jit(jax.grad(lambda x: jnp.sum(f(x))))(x)


TRSV = r"""
#include "difflapack_enzyme.h"
#warning "kept in the re-emitted log"
void f(enzyme::tensor<double, 3>& out, const enzyme::tensor<double, 3>& b) {
  double U[9] = {2, 0, 0, 1, 3, 0, 1, 1, 4}, x[3] = {b[0], b[1], b[2]}; int n = 3, one = 1;
  dtrsv_("U", "N", "N", &n, U, &n, x, &one);
  for (int i = 0; i < 3; ++i) out[i] = x[i]; }"""


def test_header_rules_under_jax_grad_without_enzymes_dumps(capfd):
    # README: cpp_call loads the libraries and adds the include path
    U = np.array([[2.0, 1, 1], [0, 3, 1], [0, 0, 4]])
    w = np.array([1.0, -2.0, 0.5])
    loss = lambda b: jnp.dot(enzyme.cpp_call(b, out_shapes=_shapes(3), source=TRSV, fn="f")[0], w)  # noqa: E731
    g = jax.jit(jax.grad(loss))(jnp.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(g, np.linalg.solve(U.T, w), rtol=1e-13)
    err = capfd.readouterr().err
    assert "kept in the re-emitted log" in err
    assert "aug: todiff" not in err and "aug foundcalled" not in err


def test_the_dumps_come_from_enzyme_itself(capfd):
    # docs: a custom rule registered without difflapack prints the same dump (raw enzyme_ad)
    doc = _doc_module("aug_todiff_dump")
    want = 2 * doc.B * doc.W
    np.testing.assert_allclose(doc.gradient(), want, rtol=1e-14)
    assert "aug: todiff:" in capfd.readouterr().err
    np.testing.assert_allclose(doc.gradient(enzyme.cpp_call), want, rtol=1e-14)
    assert "aug: todiff:" not in capfd.readouterr().err


def test_plain_enzyme_ad_calls_are_not_checked(capfd):
    from enzyme_ad.jax import cpp_call

    enzyme.install()
    src = ("extern \"C\" void dgetrf_(const int*, const int*, double*, const int*, int*, int*);\n"
           "void f(enzyme::tensor<double, 4>& out, const enzyme::tensor<double, 4>& A) {\n"
           "  double a[4]; int ipiv[2], n = 2, info; for (int i = 0; i < 4; ++i) a[i] = A[i];\n"
           "  dgetrf_(&n, &n, a, &n, ipiv, &info); for (int i = 0; i < 4; ++i) out[i] = a[i]; }")
    f = lambda a: cpp_call(a, out_shapes=_shapes(4), source=src, fn="f")[0]  # noqa: E731
    jax.jit(lambda a: jax.jvp(f, (a,), (a,))).lower(jnp.ones(4))  # lowered only: never run it
    assert "No forward mode derivative found for dgetrf_" in capfd.readouterr().err


# ======================================================================= documented limitations
def test_jacfwd_helper_where_jax_jacfwd_fails():
    doc = _doc_module("pullback_twice")
    f = lambda b: enzyme.cpp_call(b, out_shapes=_shapes(3), source=doc.SOURCE, fn="f")[0]  # noqa: E731
    b = jnp.asarray(doc.B)
    # docs 1: JAX's batched transformations and second derivatives fail over a cpp_call
    for transform, message in [(jax.jacfwd, "Batching rule for 'enzyme_fwd' not implemented"),
                               (jax.jacrev, "Batching rule for 'enzyme_rev' not implemented"),
                               (jax.vmap, "Batching rule for 'enzyme_primal' not implemented"),
                               (lambda f: jax.hessian(lambda b: jnp.sum(f(b))),
                                "Differentiation rule for 'enzyme_aug' not implemented")]:
        with pytest.raises(NotImplementedError, match=message):
            jax.jit(transform(f))(b if transform is not jax.vmap else jnp.stack([b, b]))
    np.testing.assert_allclose(jax.jit(enzyme.jacfwd(f))(b), doc.jacobian_reference(), rtol=1e-14)
    np.testing.assert_allclose(doc.run("jacfwd"), doc.jacobian_reference(), rtol=1e-14)
    np.testing.assert_allclose(doc.run("once"), doc.jacobian_reference()[0], rtol=1e-14)
    # tuple argnums and several outputs: jax's layout
    x, c = jnp.array([1.0, -2.0, 0.5]), jnp.array([3.0, -1.5])
    g = lambda x, c: tuple(enzyme.cpp_call(x, c, out_shapes=_shapes(3, 1), source=TWO_OUT, fn="f",  # noqa: E731
                                           argv=("-fno-builtin",)))
    got, want = enzyme.jacfwd(g, argnums=(0, 1))(x, c), jax.jacfwd(_two_out, argnums=(0, 1))(x, c)
    assert jax.tree_util.tree_structure(got) == jax.tree_util.tree_structure(want)
    for a, b_ in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(a, b_, rtol=1e-14)
    with pytest.raises(TypeError, match="only float arguments"):
        enzyme.jacfwd(lambda k: k, argnums=0)(jnp.arange(3))


def test_batched_forward_workaround_of_the_docs():
    out, want = _doc_module("batched_forward_width").run("loop")
    np.testing.assert_allclose(out, want, rtol=1e-13)


def test_output_tensor_modified_in_place_gives_a_wrong_gradient():
    """Enzyme-JAX 0.0.16 bug, no difflapack involved: this asserts the WRONG result, so that a
    fix shows up here (then update docs/enzyme-limitations)."""
    doc = _doc_module("output_in_place")
    right = doc.W * doc.A
    g = doc.gradient("loop")                          # raw enzyme_ad: wrong, silently
    assert not np.allclose(g, right)
    assert all(np.isclose(gi, r) or np.isclose(gi, wi) for gi, r, wi in zip(g, right, doc.W)), g
    with pytest.raises(EnzymeBuildError, match="output tensor"):
        doc.gradient("checked")                       # difflapack.enzyme refuses it
    np.testing.assert_allclose(doc.gradient("local"), right, rtol=1e-14)   # the documented rule


def test_complex_division_gives_a_wrong_reverse_gradient():
    """Enzyme 0.0.16 bug, no difflapack involved (docs/enzyme-limitations/complex_division.py):
    this asserts the WRONG result, so that a fix shows up here."""
    doc = _doc_module("complex_division")
    wrong = doc.check("divide").patterns[0].result("reverse")
    assert not wrong.ok and "dot-product test" in wrong.message
    assert doc.check("reciprocal").ok   # the documented workaround


def test_stack_temporary_declared_in_a_loop_gives_a_wrong_reverse_gradient():
    """Enzyme 0.0.16 bug, no difflapack involved (docs/enzyme-limitations/loop_stack_array.py): a
    blocked LU in plain loops whose update goes through a stack temporary declared inside the
    block loop gets a WRONG reverse gradient (forward mode right); this asserts the WRONG result,
    so that a fix shows up here, and that both documented workarounds are right."""
    doc = _doc_module("loop_stack_array")
    report = doc.check("in_loop")
    assert report.patterns[0].result("forward").ok
    wrong = report.patterns[0].result("reverse")
    assert not wrong.ok and "dot-product test" in wrong.message
    assert doc.check("before_loop").ok and doc.check("heap").ok


def test_inactive_copy_into_heap_leaves_an_uninitialised_forward_shadow():
    """Enzyme 0.0.16 bug, no difflapack involved (docs/enzyme-limitations/uninitialised_shadow.py):
    a constant array copied into a heap buffer by an inactive function gets a tangent that
    Enzyme's forward mode never initialised (the reproducer sets M_PERTURB, so it is never zero
    by luck); this asserts the WRONG result, so that a fix shows up here. Run in a subprocess:
    M_PERTURB would change the whole test process's allocator."""
    r = _run_doc("uninitialised_shadow.py", "inactive_heap")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "WRONG" in r.stdout, r.stdout
    for ok in ("inactive_stack", "loop_heap"):     # the documented workarounds
        r = _run_doc("uninitialised_shadow.py", ok)
        assert r.returncode == 0 and "RIGHT" in r.stdout, (ok, r.stdout, r.stderr[-2000:])


def test_constant_part_of_complex_float_poisons_the_reverse_shadow():
    """Enzyme 0.0.16 bug, no difflapack involved (docs/enzyme-limitations/complex_float_constant.py):
    a std::complex<float> array initialised with a constant imaginary part (stored by clang as an
    i32) gets a WRONG reverse-mode gradient; this asserts the WRONG result, so that a fix shows up
    here, and that the documented workaround is right."""
    r = _run_doc("complex_float_constant.py", "constant_part")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "WRONG" in r.stdout and "Mismatched activity" in r.stderr, (r.stdout, r.stderr[-2000:])
    r = _run_doc("complex_float_constant.py", "computed_part")
    assert r.returncode == 0 and "RIGHT" in r.stdout, (r.stdout, r.stderr[-2000:])


def test_complex_float_product_kills_the_build():
    """Enzyme 0.0.16 bug, no difflapack involved (docs/enzyme-limitations/complex_float_product.py):
    differentiating a std::complex<float> product (clang's __mulsc3) aborts the process; this
    asserts the abort, so that a fix shows up here, and that both documented workarounds are
    right."""
    r = _run_doc("complex_float_product.py", "product")
    assert r.returncode != 0 and "RIGHT" not in r.stdout, (r.stdout, r.stderr[-2000:])
    for ok in ("fast_math", "real_arithmetic"):
        r = _run_doc("complex_float_product.py", ok)
        assert r.returncode == 0 and "RIGHT" in r.stdout, (ok, r.stdout, r.stderr[-2000:])
        assert not enzyme.enzyme_failures(r.stderr), (ok, r.stderr[-2000:])  # no give-up words either


def test_new_with_fno_builtin_breaks_the_reverse_build():
    """Enzyme 0.0.16 bug, no difflapack involved (docs/enzyme-limitations/new_array.py): with
    -fno-builtin a C++ new-expression leaves __unnamed_ globals undefined in the reverse build;
    the narrow copy flags (which still keep copy loops loops: docs 8) and malloc are right."""
    for variant, flags in (("new_array", "fno_builtin"), ("vector", "fno_builtin")):
        r = _run_doc("new_array.py", variant, flags)
        assert r.returncode == 0 and "BUILD FAILED" in r.stdout and "__unnamed_" in r.stderr, (r.stdout, r.stderr[-2000:])
    for variant, flags in (("new_array", "narrow"), ("vector", "narrow"), ("malloc", "fno_builtin")):
        r = _run_doc("new_array.py", variant, flags)
        assert r.returncode == 0 and "RIGHT" in r.stdout, (variant, flags, r.stdout, r.stderr[-2000:])
        assert not enzyme.enzyme_failures(r.stderr), (variant, flags, r.stderr[-2000:])


def test_complex_element_copies_fail_the_build_and_the_workarounds_are_right():
    """docs/enzyme-limitations 18 (found by an independent review): std::complex<double> element
    copies into and out of a buffer only the header's calls read are 16-byte memcpys Enzyme 0.0.16
    cannot type; this asserts the failure, so that a fix shows up here, and both workarounds."""
    r = _run_doc("complex_copy.py", "element")
    assert r.returncode == 0 and "BUILD FAILED" in r.stdout, (r.stdout, r.stderr[-2000:])
    assert "section 18" in r.stdout, r.stdout   # the error message names the section
    for ok in ("annotated", "parts"):
        r = _run_doc("complex_copy.py", ok)
        assert r.returncode == 0 and "RIGHT" in r.stdout, (ok, r.stdout, r.stderr[-2000:])


def test_unnamed_symbols_name_the_new_limitation():
    line = "JIT session error: Symbols not found: [ __unnamed_2, __unnamed_1 ]"
    assert "section 16" in enzyme.short_error(line) and "-fno-builtin-memcpy" in enzyme.short_error(line)
    assert "RTLD_GLOBAL" in enzyme.short_error("JIT session error: Symbols not found: [ dgetrf_ ]")


def _run_doc(script, variant, *more):
    return subprocess.run([sys.executable, os.path.join(DOCS, script), variant, *more], capture_output=True,
                          text=True, timeout=600)


def test_in_place_helper_aborts_and_the_checked_call_shows_why():
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {DOCS!r})
        import output_in_place as doc
        import jax, jax.numpy as jnp
        from difflapack import enzyme
        loss = lambda b: jnp.sum(enzyme.cpp_call(b, out_shapes=[jax.core.ShapedArray([4], jnp.float64)],
                                                 source=doc.SOURCES["helper"], fn="f")[0])
        jax.jit(jax.grad(loss))(jnp.ones(4))
        print("survived")
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert r.returncode != 0 and "survived" not in r.stdout
    assert "the process died while Enzyme/clang built cpp_call fn='f'" in r.stderr
    assert "LLVM ERROR: function failed verification" in r.stderr


def test_batched_forward_width_aborts():
    r = _run_doc("batched_forward_width.py", "width2")
    assert r.returncode != 0
    assert "Call parameter type does not match function signature!" in r.stderr
    assert "LLVM ERROR: function failed verification" in r.stderr


# glibc's words for the heap corruption of a tape freed twice: which check trips first depends
# on the allocator's state ("double free detected in tcache 2" mostly; CI once met the fastbin
# consolidation check instead)
HEAP_CORRUPTION = ("double free", "malloc_consolidate()", "corrupted", "invalid pointer", "free(): invalid")


@pytest.mark.parametrize("variant", ["twice", "map", "same_call"])
def test_a_pullback_runs_once_per_forward_pass(variant):
    r = _run_doc("pullback_twice.py", variant)
    assert r.returncode != 0 and any(m in r.stderr for m in HEAP_CORRUPTION), (r.returncode, r.stderr[-2000:])


def test_checkpoint_around_a_cpp_call_fails_and_outside_is_right():
    # docs 19 (found by an independent review)
    for variant in ("checkpoint", "saveable"):
        r = _run_doc("checkpoint.py", variant)
        assert r.returncode == 0 and "ValueError: Linearization failed" in r.stdout, (variant, r.stdout, r.stderr[-2000:])
    r = _run_doc("checkpoint.py", "outside")
    assert r.returncode == 0 and "RIGHT" in r.stdout, (r.stdout, r.stderr[-2000:])


@pytest.mark.parametrize("variant", ["loops", "lapack"])
def test_dupnoneed_on_an_array_updated_in_place_is_wrong_and_dup_is_right(variant):
    # docs 20 (found by an independent review): Enzyme's own, with or without difflapack
    r = _run_doc("dupnoneed.py", variant)
    assert r.returncode == 0 and "dup RIGHT" in r.stdout and "dupnoneed WRONG" in r.stdout, (r.stdout, r.stderr[-2000:])
    assert not enzyme.enzyme_failures(r.stderr), r.stderr[-2000:]


def test_the_same_call_computed_once_and_reused_is_right():
    # docs 9: the workaround of same_call (found by an independent review)
    r = _run_doc("pullback_twice.py", "reuse")
    assert r.returncode == 0 and "reuse [ 4. 13.  4.]" in r.stdout, (r.stdout, r.stderr[-2000:])


COPY = r"""
void f(enzyme::tensor<double, 4>& out, const enzyme::tensor<double, 4>& b) {
  double y[4];
  for (int i = 0; i < 4; ++i) y[i] = b[i];
  for (int i = 0; i < 4; ++i) out[i] = y[i];
}"""


def test_copy_loops_need_fno_builtin():
    # docs 8: clang makes a memcpy of the copy loops, whose type Enzyme cannot deduce
    f = lambda b, argv=(): enzyme.cpp_call(b, out_shapes=_shapes(4), source=COPY, fn="f", argv=argv)[0]  # noqa: E731
    b = jnp.arange(1.0, 5.0)
    with pytest.raises(EnzymeBuildError, match="Cannot deduce type of copy"):
        jax.jit(jax.grad(lambda b: jnp.sum(f(b))))(b)
    for flags in (("-fno-builtin",), ("-fno-builtin-memcpy", "-fno-builtin-memset", "-fno-builtin-memmove")):
        g = jax.jit(jax.grad(lambda b: jnp.sum(f(b, flags) * b)))(b)
        np.testing.assert_allclose(g, 2 * np.asarray(b), rtol=1e-14)


def test_copy_loops_without_fno_builtin_crash_enzyme():
    # docs 8: in most runs (7 of 8 here), not always: up to four tries
    for _ in range(4):
        r = _run_doc("output_in_place.py", "local_builtin")
        if r.returncode != 0:
            break
        assert "expected: [2. 3. 4. 5.]" in r.stdout
    assert r.returncode == -11, (r.returncode, r.stderr[-2000:])


def test_jax_grad_needs_every_output_and_float_inputs():
    # docs 10
    src = r"""
    void f(enzyme::tensor<double, 3>& y, enzyme::tensor<double, 1>& s, const enzyme::tensor<double, 3>& x) {
      for (int i = 0; i < 3; ++i) y[i] = x[i] * x[i];
      s[0] = x[0]; }"""
    call = lambda x: enzyme.cpp_call(x, out_shapes=_shapes(3, 1), source=src, fn="f")  # noqa: E731
    x = jnp.array([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="Error interpreting argument to enzyme_rev as a JAX value"):
        jax.jit(jax.grad(lambda x: jnp.sum(call(x)[0])))(x)
    g = jax.jit(jax.grad(lambda x: (lambda o: jnp.sum(o[0]) + 0.0 * jnp.sum(o[1]))(call(x))))(x)
    np.testing.assert_allclose(g, 2 * np.asarray(x), rtol=1e-14)
    src_int = r"""
    void f(enzyme::tensor<double, 3>& y, const enzyme::tensor<double, 3>& x, const enzyme::tensor<int32_t, 1>& k) {
      for (int i = 0; i < 3; ++i) y[i] = x[i] * x[i] * k[0]; }"""
    call_int = lambda x, k: enzyme.cpp_call(x, k, out_shapes=_shapes(3), source=src_int, fn="f")[0]  # noqa: E731
    k = jnp.array([2], jnp.int32)
    with pytest.raises(KeyError, match="int32"):
        jax.jit(jax.grad(lambda x, k: jnp.sum(call_int(x, k)), argnums=0))(x, k)
    tangent = jax.jit(lambda x, k: jax.jvp(lambda x: call_int(x, k), (x,), (x,))[1])(x, k)
    np.testing.assert_allclose(tangent, 4 * np.asarray(x) ** 2, rtol=1e-14)


def test_the_readme_example_runs_and_is_right():
    with open(os.path.join(HERE, "..", "README.md")) as fh:
        readme = fh.read()
    section = readme[readme.index("### From JAX: `difflapack.enzyme.cpp_call`"):]
    start = section.index("```python\n") + len("```python\n")
    code = section[start:section.index("\n```", start)]
    names = {}
    exec(compile(code, "README.md", "exec"), names)  # noqa: S102 - the README's own example
    U = np.array([[2.0, 1, 1], [0, 3, 1], [0, 0, 4]])
    np.testing.assert_allclose(names["g"], np.linalg.solve(U.T, np.ones(3)), rtol=1e-14)
    np.testing.assert_allclose(names["J"], np.linalg.inv(U), rtol=1e-14)


# -ffast-math (the workaround of limitation 15) changes how the USER's code is compiled, not
# difflapack's kernels (a separate library): singular LAPACK calls must give the same info,
# the same untouched buffers and the same derivatives (NaN patterns included) with and without it.
FAST_MATH_SINGULAR = r"""
#include "difflapack_enzyme.h"
/* complex float data held as interleaved floats (no complex product in user code, which would
 * need -ffast-math itself); T: 3 x 3 lower triangle, T(2,2) zero; G: 3 x 3, column 2 zero */
void f(enzyme::tensor<double, 38>& out, const enzyme::tensor<double, 18>& T,
       const enzyme::tensor<double, 12>& B, const enzyme::tensor<double, 18>& G) {
  int n = 3, nrhs = 2, info1 = 0, info2 = 0, info3 = 0, ipiv[3];
  float Tf[18], Bf[12], Ef[12], Gf[18], Cf[12];
  for (int k = 0; k < 18; ++k) { Tf[k] = (float)T[k]; Gf[k] = (float)G[k]; }
  for (int k = 0; k < 12; ++k) { Bf[k] = (float)B[k]; Ef[k] = (float)B[k]; Cf[k] = (float)B[k]; }
  ctrtrs_("L", "C", "N", &n, &nrhs, Tf, &n, Bf, &n, &info1);       /* singular: Bf unchanged */
  Tf[8] = 2.0f;                                                    /* repaired: solved */
  ctrtrs_("L", "N", "N", &n, &nrhs, Tf, &n, Ef, &n, &info2);
  cgesv_(&n, &nrhs, Gf, &n, ipiv, Cf, &n, &info3);                 /* singular: Cf unchanged */
  for (int k = 0; k < 12; ++k) { out[k] = Bf[k]; out[12 + k] = Ef[k]; }
  for (int k = 0; k < 6; ++k) out[24 + k] = Cf[k];
  for (int k = 0; k < 5; ++k) out[30 + k] = Gf[k];
  out[35] = info1; out[36] = info2; out[37] = info3;
}"""


def test_fast_math_keeps_difflapacks_singular_semantics():
    r = np.random.default_rng(15)
    T = np.tril(r.standard_normal((3, 3)) + 1j * r.standard_normal((3, 3))) + 2 * np.eye(3)
    T[1, 1] = 0
    G = r.standard_normal((3, 3)) + 1j * r.standard_normal((3, 3))
    G[:, 1] = 0                                   # exactly singular in any precision: U(2,2) = 0
    B = r.standard_normal((3, 2)) + 1j * r.standard_normal((3, 2))
    args = tuple(jnp.asarray(np.asarray(a, np.complex64).ravel(order="F").view(np.float32).astype(np.float64))
                 for a in (T, B, G))
    w = jnp.asarray(r.standard_normal(38))
    runs = {}
    for fast in (False, True):
        def call(*xs, fast=fast):
            return enzyme.cpp_call(*xs, out_shapes=_shapes(38), source=FAST_MATH_SINGULAR, fn="f",
                                   argv=("-ffast-math",) if fast else ())[0]
        out = np.asarray(jax.jit(call)(*args))
        grads = jax.jit(jax.grad(lambda *xs: jnp.sum(w * call(*xs)), argnums=(0, 1, 2)))(*args)
        _, tan = jax.jit(lambda *xs: jax.jvp(call, xs, tuple(0.5 * x + 1 for x in xs)))(*args)
        runs[fast] = [out, *map(np.asarray, grads), np.asarray(tan)]
    out = runs[False][0]
    assert list(out[35:]) == [2, 0, 2], out[35:]            # ctrtrs: zero T(2,2); cgesv: zero U(2,2)
    np.testing.assert_array_equal(out[:12], args[1].astype(np.float32))   # LAPACK leaves B
    np.testing.assert_array_equal(out[24:30], args[1][:6].astype(np.float32))
    for plain, fast in zip(runs[False], runs[True]):
        np.testing.assert_array_equal(plain, fast)          # NaN where NaN, bit for bit


def test_noinline_on_the_derivative_path_aborts_and_the_checked_call_names_the_cause():
    """Enzyme-JAX 0.0.16 bug, no difflapack involved (docs/enzyme-limitations/noinline.py): a
    noinline function the differentiated code calls with active data aborts every derivative
    build; the attribute removed, or on a function of ints only, is right. Through
    difflapack.enzyme.cpp_call the crash watcher's report names the cause and the workaround."""
    for variant in ("called", "gnu"):
        r = _run_doc("noinline.py", variant)
        assert r.returncode != 0 and "RIGHT" not in r.stdout, (variant, r.stdout, r.stderr[-2000:])
        assert "noinline and alwaysinline" in r.stderr
    for variant in ("inline", "inactive"):
        r = _run_doc("noinline.py", variant)
        assert r.returncode == 0 and "RIGHT" in r.stdout, (variant, r.stdout, r.stderr[-2000:])
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {DOCS!r})
        import noinline as doc
        import jax, jax.numpy as jnp
        from difflapack import enzyme
        f = lambda x: enzyme.cpp_call(x, out_shapes=[jax.core.ShapedArray([4], jnp.float64)],
                                      source=doc.HELPERS["called"] + doc.BODY, fn="f")[0]
        jax.jit(lambda x: jax.jvp(f, (x,), (x,))[1])(jnp.ones(4))
        print("survived")
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert r.returncode != 0 and "survived" not in r.stdout
    assert "the process died while Enzyme/clang built cpp_call fn='f'" in r.stderr
    assert "section 17" in r.stderr and "remove the attribute" in r.stderr, r.stderr[-3000:]

