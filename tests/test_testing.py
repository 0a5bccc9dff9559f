"""The Enzyme checker (difflapack.testing) on plain C functions whose derivatives Enzyme
computes itself (loops), on deliberately wrong custom rules, and on builds where Enzyme gives
up: it must pass the first and fail the others."""
import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("enzyme_ad.jax")

from difflapack.testing import (  # noqa: E402
    ALL_MODES, Active, Case, Const, Duplicated, assert_rule, check_rule, check_rules, enzyme_errors,
    enzyme_errors_each, short_error,
)

LOOP = r"""
double mix(double* x, const double* a, const double* b, int n, const char* how) {
  double s = 0;
  for (int i = 0; i < n; ++i) {
    x[i] = how[0] == 'N' ? a[i] * b[i] * b[i] + x[i] * a[i] : a[i] - b[i];
    s += x[i] * x[i];
  }
  return s;
}
"""


def _vectors(n=4, seed=1):
    r = np.random.default_rng(seed)
    return r.standard_normal(n), r.standard_normal(n), r.standard_normal(n)


def test_loop_function_passes_every_mode():
    x, a, b = _vectors()
    report = check_rule(LOOP, "mix", [x, a, b, 4, "N"], [Duplicated, Duplicated, Duplicated, Const, Const],
                        return_activity=Active, modes=ALL_MODES, names=["x", "a", "b", "n", "how"])
    assert report.ok, report
    (pattern,) = report.patterns
    assert [r.mode for r in pattern.results] == list(ALL_MODES)
    assert all(r.error < 1e-9 for r in pattern.results), report
    assert pattern.mutated == ("x",)


def test_all_activity_patterns_toggle_the_read_only_arrays():
    x, a, b = _vectors()
    report = assert_rule(LOOP, "mix", [x, a, b, 4, "N"], [Duplicated, Duplicated, Duplicated, Const, Const],
                         return_activity=Active, all_activity_patterns=True, names=["x", "a", "b", "n", "how"])
    # x is written (an output, always Duplicated); a and b take both activities
    seen = {p.activities[:3] for p in report.patterns}
    assert seen == {(d1, d2, d3) for d1 in ["Duplicated"] for d2 in ["Duplicated", "Const"]
                    for d3 in ["Duplicated", "Const"]}


def test_void_function_matrix_char_flag_and_pointer_scalars():
    # y := op(A) y with a char flag by value, n by pointer; column-major A; no return value
    src = r"""
    void matvec(char trans, const long long* n, const double* A, double* y) {
      double t[8];
      for (long long i = 0; i < *n; ++i) {
        t[i] = 0;
        for (long long j = 0; j < *n; ++j) t[i] += (trans == 'N' ? A[i + j * *n] : A[j + i * *n]) * y[j];
      }
      for (long long i = 0; i < *n; ++i) y[i] = t[i] * t[i];
    }"""
    r = np.random.default_rng(2)
    A, y = r.standard_normal((3, 3)), r.standard_normal(3)
    for trans in "NT":
        assert_rule(src, "matvec", [trans, np.array([3], np.int64), A, y], [Const, Const, Duplicated, Duplicated],
                    all_activity_patterns=True)


# A function with hand-written Enzyme rules; FACTOR 2 is the right derivative of x^2.
RULES = r"""
extern "C" { void* malloc(unsigned long); void free(void*); }
__attribute__((noinline)) void sq4(double* y, const double* x) { for (int i = 0; i < 4; ++i) y[i] = x[i] * x[i]; }
static void sq4_fwd(double* y, double* dy, const double* x, const double* dx) {
  for (int i = 0; i < 4; ++i) { y[i] = x[i] * x[i]; dy[i] = FWD * x[i] * dx[i]; } }
static void* sq4_aug(double* y, double* dy, const double* x, const double* dx) {
  double* t = (double*)malloc(4 * sizeof(double));
  for (int i = 0; i < 4; ++i) { y[i] = x[i] * x[i]; t[i] = x[i]; }
  return t; }
static void sq4_rev(double* y, double* dy, const double* x, double* dx, void* tape) {
  double* t = (double*)tape;
  for (int i = 0; i < 4; ++i) { dx[i] += REV * t[i] * dy[i]; dy[i] = 0; }
  free(t); }
extern "C" {
__attribute__((used)) void* __enzyme_register_derivative_sq4[2] = {(void*)sq4, (void*)sq4_fwd};
__attribute__((used)) void* __enzyme_register_gradient_sq4[3] = {(void*)sq4, (void*)sq4_aug, (void*)sq4_rev};
}
double g(double* y, double* x) { sq4(y, x); double s = 0; for (int i = 0; i < 4; ++i) s += y[i] * x[i]; return s; }
"""


def _rules(fwd, rev):
    return RULES.replace("FWD", fwd).replace("REV", rev)


def _check_g(source, modes):
    x = np.random.default_rng(3).standard_normal(4)
    return check_rule(source, "g", [np.zeros(4), x], [Duplicated, Duplicated], return_activity=Active, modes=modes)


def test_correct_custom_rules_pass():
    report = _check_g(_rules("2.0", "2.0"), ALL_MODES)
    assert report.ok, report


def test_wrong_custom_forward_rule_fails():
    report = _check_g(_rules("3.0", "2.0"), ALL_MODES)
    status = {r.mode: r.ok for r in report.patterns[0].results}
    assert status == {"forward": False, "jvp": False, "reverse": True, "split": True}, report
    assert "finite differences" in report.patterns[0].result("forward").message
    with pytest.raises(AssertionError, match="forward"):
        assert_rule(_rules("3.0", "2.0"), "g", [np.zeros(4), np.ones(4)], [Duplicated, Duplicated],
                    return_activity=Active, modes=("forward",))


def test_wrong_custom_reverse_rule_fails():
    report = _check_g(_rules("2.0", "2.5"), ALL_MODES)
    status = {r.mode: r.ok for r in report.patterns[0].results}
    assert status == {"forward": True, "jvp": True, "reverse": False, "split": False}, report
    assert "dot-product" in report.patterns[0].result("split").message


def test_compare_fails_a_nan_in_any_array():
    """A NaN (or inf) on one side fails, in whichever array it is (a NaN tangent in the second
    output used to pass: Python's max(0.0, nan) is 0.0; independent review)."""
    from difflapack.testing import _compare
    ok = [np.ones(3), np.ones(2)]
    for k in range(2):
        for bad in (np.nan, np.inf):
            got = [a.copy() for a in ok]
            got[k][1] = bad
            err, passed = _compare(got, ok, 1e-6, 1e-9)
            assert not passed and np.isnan(err), (k, bad)
            err, passed = _compare(ok, got, 1e-6, 1e-9)   # the reference's NaN too
            assert not passed and np.isnan(err), (k, bad)
    same = [np.array([1.0, np.nan]), np.array([np.inf, 2.0])]
    assert _compare(same, [a.copy() for a in same], 1e-6, 1e-9) == (0.0, True)
    assert _compare([np.array([np.inf])], [np.array([-np.inf])], 1e-6, 1e-9)[1] is False


def test_a_nan_tangent_in_the_second_output_fails():
    """dpotrf_ of a matrix that is not positive definite has a NaN tangent (documented); with
    the factor in the SECOND array argument the checker said 'forward ok'."""
    src = r"""
#include "difflapack_enzyme.h"
void potrf_last(const double* A, double* X) {
  int n = 3, info; double s[9];
  for (int k = 0; k < 9; ++k) s[k] = A[k];
  dpotrf_("L", &n, s, &n, &info);
  for (int k = 0; k < 9; ++k) X[k] = s[k]; }
"""
    a = np.array([[-1.0, 1, 0.5], [1, 3, 0.2], [0.5, 0.2, 2]])   # not positive definite: info = 1
    report = check_rule(src, "potrf_last", [a, np.zeros(9)], [Duplicated, Duplicated], modes=("forward",))
    assert not report.patterns[0].result("forward").ok, report


LU_NO_RULE = r"""
extern "C" void dgetrf_(const int*, const int*, double*, const int*, int*, int*);
double lu_sum(double* a, int* ipiv, int n) {
  int info; dgetrf_(&n, &n, a, &n, ipiv, &info);
  double s = 0; for (int i = 0; i < n * n; ++i) s += a[i];
  return s; }
"""


def test_enzyme_failure_fails_every_mode_without_running():
    a = np.random.default_rng(4).standard_normal((3, 3)) + 3 * np.eye(3)
    report = check_rule(LU_NO_RULE, "lu_sum", [a, np.zeros(3, np.int32), 3], [Duplicated, Const, Const],
                        return_activity=Active, modes=ALL_MODES)
    results = {r.mode: r for r in report.patterns[0].results}
    assert not any(r.ok for r in results.values()), report
    assert results["forward"].message == "Enzyme: No forward mode derivative found for dgetrf_"
    assert "No augmented forward pass found for dgetrf_" in results["reverse"].message
    assert all(r.enzyme_log and r.error is None for r in results.values())


def test_compile_error_fails():
    report = check_rule("double f(double* x) { return x[0] * ; }", "f", [np.ones(2)], [Duplicated],
                        return_activity=Active)
    assert not report.ok
    # clang's line and column in the checked source, not in the generated harness
    assert all("source line 1, column 37: error: expected expression" in r.message
               for r in report.patterns[0].results), report


def test_short_error():
    line = ("error: <unknown>:0:0: in function preprocess_f double (ptr): "
            "Enzyme: No reverse pass found for dtrsv_")
    assert short_error(line) == "Enzyme: No reverse pass found for dtrsv_"


@pytest.mark.parametrize("args, acts, match", [
    ([np.ones(2)], [Duplicated, Const], "activities: expected 1"),
    ([np.ones(2)], [Active], "Active is for a double return"),
    ([np.ones(2, np.int32)], [Duplicated], "integer array carries no derivative"),
    ([np.array([1.0, np.nan])], [Duplicated], "finite"),
    ([np.ones(2), 2.5], [Duplicated, Duplicated], "scalars passed by value are Const"),
    ([np.ones(2), "UP"], [Duplicated, Const], "one printable character"),
    ([np.ones(2, np.float32)], [Duplicated], "float64, int32 or int64"),
    ([np.ones(2)], [object], "Const, Duplicated or Active"),
])
def test_bad_arguments_raise_value_error(args, acts, match):
    with pytest.raises(ValueError, match=match):
        check_rule("double f(double* x) { return x[0]; }", "f", args, acts, return_activity=Active)


def test_bad_mode_raises_value_error():
    with pytest.raises(ValueError, match="unknown mode 'backward'"):
        check_rule("double f(double* x) { return x[0]; }", "f", [np.ones(1)], [Duplicated], modes=("backward",))


def test_a_crashing_build_fails_instead_of_killing_the_process():
    # stands in for Enzyme segfaulting while it builds (seen with broken rules)
    import os
    import signal

    import jax

    from difflapack import _checkgen

    def crash(x):
        os.kill(os.getpid(), signal.SIGSEGV)
        return x

    exe, failures, message, _ = _checkgen.build(crash, [jax.ShapeDtypeStruct((2,), np.float64)])
    assert exe is None
    assert "crashed (SIGSEGV) while building" in message


def test_enzyme_errors_is_empty_when_enzyme_builds_it():
    x, a, b = _vectors()
    errors = enzyme_errors(LOOP, "mix", [x, a, b, 4, "N"], [Duplicated, Duplicated, Duplicated, Const, Const],
                           modes=ALL_MODES, return_activity=Active)
    assert errors == {m: [] for m in ALL_MODES}


def test_timing_reports_every_mode():
    # the checker's optional cost measurement (values are not asserted: no timed tests)
    x, a, b = _vectors()
    report = check_rule(LOOP, "mix", [x, a, b, 4, "N"], [Duplicated, Duplicated, Duplicated, Const, Const],
                        return_activity=Active, modes=(), timing=True, timing_budget_cycles=1_000_000)
    timing = report.patterns[0].timing
    assert set(timing) == {"primal_seconds", "forward_seconds", "reverse_seconds", "forward_ratio", "reverse_ratio"}
    assert all(np.isfinite(v) and v > 0 for v in timing.values())


# ------------------------------------------------------------------ several functions per build
def _mix_case():
    x, a, b = _vectors()
    return Case("mix", [x, a, b, 4, "N"], [Duplicated, Duplicated, Duplicated, Const, Const], ["x", "a", "b", "n", "how"])


def _lu_case():
    a = np.random.default_rng(4).standard_normal((3, 3)) + 3 * np.eye(3)
    return Case("lu_sum", [a, np.zeros(3, np.int32), 3], [Duplicated, Const, Const])


def test_check_rules_gives_each_case_the_numbers_of_check_rule_alone():
    cases = [_mix_case(), Case("g", [np.zeros(4), np.arange(1.0, 5.0)], [Duplicated, Duplicated])]
    source = LOOP + _rules("2.0", "2.0")
    together = check_rules(source, cases, modes=ALL_MODES, return_activity=Active)
    for case, report in zip(cases, together):
        alone = check_rule(source, case.fn, case.args, case.activities, modes=ALL_MODES, return_activity=Active,
                           names=case.names)
        assert report.ok and alone.ok, (report, alone)
        (p,), (q,) = report.patterns, alone.patterns
        assert (p.fn, p.activities, p.mutated) == (q.fn, q.activities, q.mutated)
        for r1, r2 in zip(p.results, q.results):
            assert r1.mode == r2.mode and np.isclose(r1.error, r2.error, rtol=1e-6, atol=1e-15), (r1, r2)


def test_check_rules_reports_a_failing_build_for_its_own_case():
    mix, lu = check_rules(LOOP + LU_NO_RULE, [_mix_case(), _lu_case()], modes=("forward", "split"),
                          return_activity=Active)
    assert mix.ok, mix
    assert not any(r.ok for r in lu.patterns[0].results)
    assert lu.patterns[0].result("forward").message == "Enzyme: No forward mode derivative found for dgetrf_"


def test_check_rules_wrong_rule_fails_only_its_case():
    mix, g = check_rules(LOOP + _rules("3.0", "2.0"), [_mix_case(), Case("g", [np.zeros(4), np.ones(4)],
                                                                              [Duplicated, Duplicated])],
                         modes=("forward", "reverse"), return_activity=Active)
    assert mix.ok, mix
    assert {r.mode: r.ok for r in g.patterns[0].results} == {"forward": False, "reverse": True}, g


def test_enzyme_errors_each_tells_the_failures_apart():
    modes = ("forward", "reverse", "split")
    mix, lu = enzyme_errors_each(LOOP + LU_NO_RULE, [_mix_case(), _lu_case()], modes=modes, return_activity=Active)
    assert mix == {m: [] for m in modes}
    assert [short_error(e) for e in lu["forward"]] == ["Enzyme: No forward mode derivative found for dgetrf_"]
    assert any("No augmented forward pass found for dgetrf_" in e for e in lu["reverse"])
    assert any("dgetrf_" in e for e in lu["split"])
    alone = enzyme_errors(LOOP + LU_NO_RULE, "lu_sum", _lu_case().args, _lu_case().activities, modes=modes,
                          return_activity=Active)
    assert [short_error(e) for m in modes for e in lu[m]] == [short_error(e) for m in modes for e in alone[m]]
