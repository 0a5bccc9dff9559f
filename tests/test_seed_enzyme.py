"""The user's report (seed) and the demo's Julia examples as C++ code differentiated by Enzyme
with difflapack_enzyme.h (difflapack.demo_scenarios): A\\b (copy + ?gesv), getrf!, getrs!,
trsv!, trsm!, the pre-factored LU solve (row swaps + 2 ?trsv), logabsdet (?getrf + sum of
log|U_ii|) and inv of a Legendre Vandermonde matrix (?getrf + ?getri, Enzyme.jl #2260), N = 6,
f!(out, inputs...) functions returning the sum of the result, the seed's activities
(Duplicated arrays, Const pivots), in Float64, Float32 and ComplexF64 through the LP64 `_`
and the ILP64 `_64_` symbols, in Enzyme's forward mode (__enzyme_fwddiff), combined reverse
mode (__enzyme_autodiff) and split reverse mode (jax.grad over cpp_call), each checked against
finite differences by difflapack.testing. Without the header Enzyme refuses every one of these
calls; that is checked too, so the tests show what the header changes."""
import os
import re

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("enzyme_ad.jax")

from difflapack import demo, demo_scenarios as ds  # noqa: E402
from difflapack.testing import Active, assert_rule, check_rules, enzyme_errors_each  # noqa: E402

GROUPS = [(p, s) for p in ds.PRECISIONS for s in ds.SYMBOL_SUFFIXES]
KEYS = [sc.key for sc in ds.SCENARIOS]


@pytest.fixture(scope="module")
def getri():
    return demo.getri_interposed("".join(ds.PRECISIONS))


def _ready(interposed: bool):
    return [k for k in KEYS if interposed or "getri" not in ds.BY_KEY[k].routines]


@pytest.mark.parametrize("prec, suffix", GROUPS)
def test_scenarios_with_difflapack(prec, suffix, getri):
    keys = _ready(getri[prec])
    p = ds.PRECISIONS[prec]
    reports = check_rules(ds.source(keys, prec, suffix), ds.cases(keys, prec, suffix),
                          modes=("forward", "reverse", "split"), return_activity=Active, rtol=p.rtol,
                          fd_step=p.fd_step, load_difflapack=True)
    for key, report in zip(keys, reports):
        assert report.ok, (key, report)
        # well inside the tolerance: single precision rounding, double precision to ~1e-9 (inv's
        # tangent carries kappa(V)^2 times the rounding: only inside the tolerance in Float32)
        margin = 1 if key == "inv" and prec == "s" else 10
        assert all(r.error < p.rtol / margin for r in report.patterns[0].results), (key, report)


@pytest.mark.parametrize("prec, suffix", GROUPS)
def test_scenarios_without_difflapack_enzyme_gives_up(prec, suffix):
    cases = dict(zip(KEYS, ds.cases(KEYS, prec, suffix)))
    for batch in demo._disjoint_batches(KEYS):
        errors = enzyme_errors_each(ds.source(batch, prec, suffix, with_difflapack=False),
                                    [cases[k] for k in batch], modes=("forward", "reverse"), return_activity=Active)
        for key, e in zip(batch, errors):
            routines = [f"{prec}{r}{suffix}" for r in ds.BY_KEY[key].routine_list]
            assert any(f"No forward mode derivative found for {routines[0]}" in line for line in e["forward"]), e
            assert any(any(f"found for {r}" in line for r in routines) for line in e["reverse"]), e


def test_disjoint_batches_never_share_a_routine():
    batches = demo._disjoint_batches(KEYS)
    assert sorted(k for b in batches for k in b) == sorted(KEYS)
    for batch in batches:
        used = [set(ds.BY_KEY[k].routine_list) for k in batch]
        assert all(not (a & b) for i, a in enumerate(used) for b in used[i + 1:]), batch


@pytest.mark.parametrize("prec", list(ds.PRECISIONS))
def test_inv_is_pending_only_while_getri_is_not_interposed(prec, getri):
    # The probe asks the preprocessor; until the header interposes ?getri_, Enzyme (with the
    # header, user prototypes) must stop at ?getri_ and nothing else: the demo's "pending".
    (case,) = ds.cases(["inv"], prec)
    if getri[prec]:
        (report,) = check_rules(ds.source(["inv"], prec), [case], return_activity=Active, load_difflapack=True,
                                rtol=ds.PRECISIONS[prec].rtol, fd_step=ds.PRECISIONS[prec].fd_step)
        assert report.ok, report
    else:
        (today,) = enzyme_errors_each(ds.source(["inv"], prec), [case], return_activity=Active)
        cell = demo.Cell(ds.BY_KEY["inv"], prec, "_", before={}, today=today)
        assert cell.pending_ok and cell.after_mark("forward") == "pending", today


@pytest.mark.parametrize("prec", list(ds.PRECISIONS))
def test_inv_scenario_computes_the_inverse_of_the_legendre_vandermonde(prec):
    # its primal through the real ?getrf_ and ?getri_ (workspace query included), no Enzyme
    import jax

    from difflapack import testing

    (case,) = ds.cases(["inv"], prec)
    builds = testing._Builds(testing.Codegen(ds.source(["inv"], prec, with_difflapack=False),
                                             [(case.fn, testing._classify(case.args, case.activities, case.names))],
                                             True), testing._argv((), False))
    vinv, nodes, total = (np.asarray(o) for o in jax.jit(builds.primal_call)(
        *[testing._flat(a) for a in builds.gen.active(0)]))
    if ds.PRECISIONS[prec].complex:
        vinv = vinv[0::2] + 1j * vinv[1::2]
    vinv = vinv.reshape(ds.N, ds.N, order="F")
    want = np.linalg.inv(np.polynomial.legendre.legvander(ds.SeedData(prec).nodes.real, ds.N - 1))
    tol = 1e-5 if prec == "s" else 1e-12
    assert np.allclose(vinv, want, rtol=tol, atol=tol), vinv - want
    assert np.isclose(total[0], want.sum().real + want.sum().imag, rtol=tol)


def test_every_activity_pattern_float64():
    # beyond the seed: each read-only input also Const (the written outputs stay Duplicated)
    for key in ("trsv", "trsm", "getrs", "lu_trsv", "solve"):
        (case,) = ds.cases([key])
        report = assert_rule(ds.source([key]), case.fn, case.args, case.activities, modes=("forward", "reverse", "split"),
                             return_activity=Active, names=case.names, all_activity_patterns=True,
                             load_difflapack=True)
        assert len(report.patterns) > 1


def test_complex_arguments_are_interleaved_pairs():
    z = np.array([[1 + 2j, 3 + 4j], [5 + 6j, 7 + 8j]])
    pairs = ds.check_rule_arg(z)
    assert list(pairs.ravel(order="F")) == [1, 2, 5, 6, 3, 4, 7, 8]  # column-major (re, im)


def test_demo_numpy_part_agrees_with_finite_differences():
    assert demo.main(["--no-enzyme"]) == 0


def test_demo_runs_one_precision_and_prints_the_table(capsys):
    assert demo.main(["--precisions", "z", "--ilp64", "", "--no-timing"]) == 0
    printed = capsys.readouterr().out
    assert "| Call | ComplexF64 fwd | ComplexF64 rev | Notes |" in printed
    assert "| `A \\ b` | ✗ → ✓ | ✗ → ✓ |" in printed
    assert "| `logabsdet(A)` | ✗ → ✓ | ✗ → ✓ |" in printed
    assert re.search(r"\| `inv\(V\): Legendre Vandermonde` \| ✗ → (✓|pending) \| ✗ → (✓|pending) \|", printed)
    # the README's table is the demo's: its ComplexF64 columns are what this run printed

    def rows(text):
        return {cells[0]: cells[1:] for line in text.splitlines() if line.startswith("| `")
                for cells in [[c.strip() for c in line.strip("|").split(" | ")]]}

    with open(os.path.join(os.path.dirname(__file__), "..", "README.md")) as fh:
        text = fh.read()
    readme = rows(text[text.index("## What the demo shows"):text.index("## Using it")])
    demo_rows = rows(printed)
    assert set(demo_rows) <= set(readme), (set(demo_rows), set(readme))
    for call, cells in demo_rows.items():
        assert readme[call][4:6] == cells[:2], (call, readme[call], cells)
