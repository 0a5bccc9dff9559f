"""The user's report (seed), every scenario, as C code differentiated by Enzyme with
difflapack_enzyme.h: A\\b (copy + dgesv), getrf!, getrs!, trsv!, trsm! and the pre-factored
LU solve (row swaps + 2 trsv), N = 6, f!(out, inputs...) functions returning the sum of the
result, the seed's activities (Duplicated arrays, Const pivots), through the LP64 `_` and
the ILP64 `_64_` symbols, in Enzyme's forward mode (__enzyme_fwddiff), combined reverse mode
(__enzyme_autodiff) and split reverse mode (jax.grad over cpp_call), each checked against
finite differences by difflapack.testing. Without the header Enzyme refuses every one of
these calls; that is checked too, so the tests show what the header changes."""
import pytest

pytest.importorskip("jax")
pytest.importorskip("enzyme_ad.jax")

from difflapack.demo import seed_scenarios, seed_source  # noqa: E402
from difflapack.testing import Active, assert_rule, enzyme_errors  # noqa: E402

SUFFIXES = ("_", "_64_")
KEYS = [sc.key for sc in seed_scenarios("_")]
ROUTINE = {"solve": "dgesv", "getrf": "dgetrf", "getrs": "dgetrs", "trsv": "dtrsv", "trsm": "dtrsm",
           "lu_trsv": "dtrsv"}


def _scenario(key, suffix):
    (sc,) = [s for s in seed_scenarios(suffix) if s.key == key]
    return sc


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("key", KEYS)
def test_seed_scenario_with_difflapack(key, suffix):
    sc = _scenario(key, suffix)
    report = assert_rule(seed_source(key, suffix), sc.fn, sc.args, sc.activities,
                         modes=("forward", "reverse", "split"), return_activity=Active, names=sc.names,
                         load_difflapack=True)
    assert all(r.error is not None and r.error < 1e-7 for p in report.patterns for r in p.results), report


@pytest.mark.parametrize("key", ["trsv", "trsm", "getrs", "lu_trsv", "solve"])
def test_seed_scenario_every_activity_pattern(key):
    # beyond the seed: each read-only input also Const (the written outputs stay Duplicated)
    sc = _scenario(key, "_")
    report = assert_rule(seed_source(key, "_"), sc.fn, sc.args, sc.activities,
                         modes=("forward", "reverse", "split"), return_activity=Active, names=sc.names,
                         all_activity_patterns=True, load_difflapack=True)
    assert len(report.patterns) > 1


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("key", KEYS)
def test_seed_scenario_without_difflapack_enzyme_gives_up(key, suffix):
    sc = _scenario(key, suffix)
    errors = enzyme_errors(seed_source(key, suffix, with_difflapack=False), sc.fn, sc.args, sc.activities,
                           modes=("forward", "reverse"), return_activity=Active)
    routine = ROUTINE[key] + suffix
    assert any(f"No forward mode derivative found for {routine}" in e for e in errors["forward"]), errors
    assert any(f"found for {routine}" in e for e in errors["reverse"]), errors


def test_demo_numpy_part_agrees_with_finite_differences():
    from difflapack.demo import main

    assert main(["--no-enzyme"]) == 0
