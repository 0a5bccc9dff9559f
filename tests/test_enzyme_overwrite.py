"""Reverse mode when the caller overwrites the inputs and outputs (x, A, b, LU, ipiv) after the
call and before the reverse pass runs, and the size of what the augmented pass tapes."""
import ctypes

import pytest

pytest.importorskip("enzyme_ad.jax")
pytest.importorskip("scipy")

from _enzyme_util import activity_patterns, check, get_program, make_case, pattern_id  # noqa: E402

CASE = {
    "trsv": dict(uplo="U", trans="T", diag="N", n=4, lda=5, inc=-1),
    "trsm": dict(side="L", uplo="L", transa="N", diag="U", m=4, n=3, lda=5, ldb=6),
    "getrf": dict(m=4, n=3, lda=5),
    "getrs": dict(trans="N", n=4, nrhs=2, lda=5, ldb=6),
    "gesv": dict(n=4, nrhs=2, lda=5, ldb=6),
}
PARAMS = [pytest.param(r, m, a, id=f"{r}-{m}-{pattern_id(a)}")
          for r in CASE for m in ("rev", "grad") for a in activity_patterns(r)]


@pytest.mark.parametrize("routine,mode,active", PARAMS)
def test_overwrite_after_call(routine, mode, active):
    prog = get_program(routine, mode, active, overwrite=True)
    check(prog, make_case(routine, CASE[routine], seed=5))
    if routine == "trsm" and active.get("alpha"):
        check(prog, make_case(routine, CASE[routine], seed=6, alpha=0.0))


@pytest.mark.parametrize("routine", ["trsv", "getrs"])
def test_local_output_buffer(routine):
    """x is a local array of the differentiated function (not an argument)."""
    for a in activity_patterns(routine):
        check(get_program(routine, "rev", a, local_x=True, overwrite=True), make_case(routine, CASE[routine], seed=8))
        check(get_program(routine, "fwd", a, local_x=True), make_case(routine, CASE[routine], seed=8))


def _taped_bytes():
    from difflapack._core import lib
    fn = lib.dle_taped_bytes
    fn.restype = ctypes.c_ulonglong
    return fn()


# What the reverse pass needs, in bytes, for the CASE shapes (n = 4, nrhs/n = 2..3, m = 4):
#  trsv: A's n x n triangle copy, plus x (n) only when A is active.
#  trsm: A's m x m copy; X (m x n) when A is active or alpha is active (alpha != 0).
#  getrs: LU (n x n) + ipiv; X (n x nrhs) only when LU is active.
# trsm "b": alpha is a constant copied into a stack temporary whose address goes to dtrsm_, and
# Enzyme cannot prove such a slot inactive: it hands the rule a (zero) shadow, so X is taped
# for an alphabar that is then discarded (docs/enzyme-limitations/README.md).
TAPE = {
    ("trsv", "A"): 8 * (16 + 4), ("trsv", "b"): 8 * 16, ("trsv", "A+b"): 8 * (16 + 4),
    ("trsm", "b"): 8 * (16 + 12), ("trsm", "A+b"): 8 * (16 + 12), ("trsm", "b+alpha"): 8 * (16 + 12),
    ("getrs", "b"): 8 * 16 + 4 * 4, ("getrs", "A+b"): 8 * (16 + 8) + 4 * 4,
}


@pytest.mark.parametrize("routine,pattern", list(TAPE))
def test_tape_holds_only_what_the_adjoint_needs(routine, pattern):
    active = next(a for a in activity_patterns(routine) if pattern_id(a) == pattern)
    prog = get_program(routine, "rev", active)
    case = make_case(routine, CASE[routine], seed=9)
    prog.run(case)  # build
    before = _taped_bytes()
    prog.run(case)
    assert _taped_bytes() - before == TAPE[(routine, pattern)]


def test_trsm_alpha_zero_tapes_original_b():
    active = {"A": False, "b": True, "alpha": True}
    prog = get_program("trsm", "rev", active)
    case = make_case("trsm", CASE["trsm"], seed=9, alpha=0.0)
    prog.run(case)
    before = _taped_bytes()
    prog.run(case)
    assert _taped_bytes() - before == 8 * (16 + 12)   # A copy + original B, no X
