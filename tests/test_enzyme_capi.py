"""cblas_?trsv, cblas_?trsm and LAPACKE_?getrf / getrs / gesv / getri / trtrs / potrf / potrs /
posv (and the _work forms) under Enzyme: every routine x every Enzyme mode x every activity
pattern in d and z (in s and c with every input active), each program run over both layouts,
both LAPACKE forms and several flag / shape cases (every trans including ConjTrans and
ConjNoTrans, lower / upper (also lower-case where the library accepts it), unit diagonal,
rectangular getrf, nrhs > 1, leading dimensions > rows, offsets, negative increments, alpha 0
and complex alpha, getri_work's lwork; row-major Cholesky calls copy only the triangle, whose
other half and padding hold garbage). Each run checks the primal results bit for bit and the printed text
against the real LAPACKE / CBLAS, and the derivatives against central differences of the real
library (tests/_enzyme_capi.py). Then argument errors and LAPACKE's NaN check inside
differentiated code: same return value, same message, buffers untouched, identity derivatives,
no crash."""
import numpy as np
import pytest

pytest.importorskip("enzyme_ad.jax")

import _lapacke_oracle as lo  # noqa: E402
from _enzyme_capi import (CAP, ROUTINES, activity_patterns, check, get_program, library_call, make_case,  # noqa: E402
                          pattern_id)

pytestmark = pytest.mark.skipif(not lo.available(), reason="LAPACKE/OpenBLAS not loadable")

MODES = ("rev", "fwd", "grad", "jvp")

# Flag / shape cases; "pad" is added to the row length (row-major) or column length to give
# the leading dimension. Each runs in both layouts (and both LAPACKE forms, alternating).
CASES = {
    "trsv": [dict(uplo="U", trans="N", diag="N", n=4, pad=1, incx=1),
             dict(uplo="L", trans="T", diag="U", n=5, pad=0, incx=2),
             dict(uplo="U", trans="C", diag="N", n=3, pad=2, incx=-1),
             dict(uplo="L", trans="R", diag="N", n=4, pad=0, incx=-2),
             dict(uplo="L", trans="C", diag="U", n=4, pad=1, incx=1),
             dict(uplo="U", trans="N", diag="U", n=0, pad=1, incx=1)],
    "trsm": [dict(side="L", uplo="U", trans="N", diag="N", m=4, n=3, pad=1, alpha=1.3),
             dict(side="R", uplo="L", trans="T", diag="U", m=3, n=4, pad=0, alpha=-0.7 + 0.4j),
             dict(side="L", uplo="L", trans="C", diag="N", m=5, n=2, pad=2, alpha=1.3 - 0.2j),
             dict(side="R", uplo="U", trans="R", diag="N", m=2, n=5, pad=1, alpha=0.9 + 0.6j),
             dict(side="R", uplo="U", trans="C", diag="U", m=3, n=3, pad=0, alpha=0.0),
             dict(side="L", uplo="U", trans="T", diag="N", m=0, n=3, pad=1, alpha=1.3)],
    "getrf": [dict(m=4, n=4, pad=1), dict(m=6, n=4, pad=0), dict(m=3, n=5, pad=2), dict(m=1, n=1, pad=0)],
    "getrs": [dict(trans="N", n=4, nrhs=2, pad=1), dict(trans="T", n=5, nrhs=3, pad=0),
              dict(trans="C", n=3, nrhs=1, pad=2), dict(trans="R", n=4, nrhs=2, pad=0),
              dict(trans="n", n=1, nrhs=1, pad=0)],
    "gesv": [dict(n=4, nrhs=1, pad=2), dict(n=5, nrhs=3, pad=0), dict(n=3, nrhs=3, pad=1), dict(n=1, nrhs=1, pad=0)],
    "getri": [dict(n=4, pad=1), dict(n=5, pad=0, lwork=5), dict(n=3, pad=2, lwork=7), dict(n=1, pad=0)],
    "trtrs": [dict(uplo="U", trans="N", diag="N", n=4, nrhs=2, pad=1),
              dict(uplo="L", trans="T", diag="U", n=5, nrhs=1, pad=0),
              dict(uplo="U", trans="C", diag="N", n=3, nrhs=3, pad=2),
              dict(uplo="L", trans="R", diag="N", n=4, nrhs=2, pad=0),
              dict(uplo="U", trans="c", diag="U", n=3, nrhs=1, pad=1)],
    "potrf": [dict(uplo="U", n=4, pad=1), dict(uplo="L", n=5, pad=0), dict(uplo="l", n=3, pad=2),
              dict(uplo="U", n=1, pad=0)],
    "potrs": [dict(uplo="U", n=4, nrhs=2, pad=1), dict(uplo="L", n=5, nrhs=1, pad=0),
              dict(uplo="u", n=3, nrhs=3, pad=2), dict(uplo="L", n=1, nrhs=1, pad=0)],
    "posv": [dict(uplo="L", n=4, nrhs=1, pad=2), dict(uplo="U", n=5, nrhs=3, pad=0),
             dict(uplo="l", n=3, nrhs=2, pad=1), dict(uplo="U", n=1, nrhs=1, pad=0)],
}


def spec(routine, layout, case, work=0):
    """A case as the call's arguments: layout or order, leading dimensions from the pads."""
    s = dict(case)
    pad = s.pop("pad")
    if routine == "trsv":
        return dict(s, order=layout, lda=max(s["n"], 1) + pad)
    if routine == "trsm":
        k = s["m"] if s["side"] == "L" else s["n"]
        return dict(s, order=layout, lda=max(k, 1) + pad, ldb=max(s["n"] if layout == "R" else s["m"], 1) + pad)
    rows = s["m"] if routine == "getrf" else s["n"]
    s.update(layout=layout, work=work, lda=max(s["n"] if layout == "R" else rows, 1) + pad)
    if "nrhs" in s:
        s["ldb"] = max(s["nrhs"] if layout == "R" else s["n"], 1) + pad
    if routine == "getri":
        s.setdefault("lwork", 64 * max(s["n"], 1))
    return s


def all_specs(routine):
    for k, case in enumerate(CASES[routine]):
        for layout in ("R", "C"):
            yield k, spec(routine, layout, case, work=k % 2)


def _all_active(routine):
    return activity_patterns(routine)[-1]


def run_cases(prog):
    for k, s in all_specs(prog.routine):
        check(prog, make_case(prog.routine, prog.prec, s, seed=k))


def _params():
    out = []
    for routine in CASES:
        for prec in "sdcz":
            patterns = activity_patterns(routine) if prec in "dz" else activity_patterns(routine)[-1:]
            for mode in MODES:
                for active in patterns:
                    out.append(pytest.param(routine, prec, mode, active, id=f"{routine}-{prec}-{mode}-{pattern_id(active)}"))
    return out


@pytest.mark.parametrize("routine,prec,mode,active", _params())
def test_mode_activity(routine, prec, mode, active):
    run_cases(get_program(routine, prec, mode, active))


@pytest.mark.parametrize("prec", ["d", "z"])
@pytest.mark.parametrize("mode", ["rev", "grad"])
@pytest.mark.parametrize("routine", list(CASES))
def test_caller_overwrites_after_the_call(routine, prec, mode):
    """The caller overwrites the arrays and pivots after the call, before the reverse pass: the
    tapes (column-major copies, also for row-major calls) hold what the adjoints need."""
    run_cases(get_program(routine, prec, mode, _all_active(routine), overwrite=True))


# ----------------------------------------------------------------------------- errors
# Wrong calls inside differentiated code (the programs of every input active): each leaves the
# buffers alone (identity derivatives), returns and prints what LAPACKE / CBLAS do.
ERRORS = {
    "trsv": [dict(order=0), dict(uplo=999), dict(trans=120), dict(n=-1), dict(lda=1), dict(incx=0)],
    "trsm": [dict(order=103), dict(side=0), dict(diag=999), dict(m=-1), dict(n=-2), dict(lda=2), dict(ldb=1)],
    "getrf": [dict(layout=0), dict(m=-1), dict(lda=2), dict(layout="R", lda=3)],
    "getrs": [dict(layout=7), dict(trans="x"), dict(layout="R", trans="q"), dict(nrhs=-1), dict(layout="R", ldb=1),
              dict(ldb=2)],
    "gesv": [dict(layout=0), dict(n=-1), dict(nrhs=-3), dict(lda=3), dict(layout="R", ldb=1), dict(layout="R", lda=3)],
    # forms: the LAPACKE forms (work = 0, 1) the argument is wrong in
    "getri": [dict(layout=0), dict(n=-1), dict(lda=2), dict(layout="R", lda=3), dict(lwork=2, forms=(1,)),
              dict(n=0, forms=(0,))],
    # OpenBLAS's ?trtrs_ is case-sensitive in uplo and diag, and reports diag first
    "trtrs": [dict(layout=0), dict(uplo="u"), dict(diag="n"), dict(trans="x"), dict(n=-1), dict(nrhs=-2),
              dict(lda=3), dict(layout="R", ldb=1), dict(layout="R", uplo="x", diag="x")],
    "potrf": [dict(layout=0), dict(uplo="x"), dict(n=-1), dict(lda=3), dict(layout="R", lda=3)],
    "potrs": [dict(layout=7), dict(uplo="q"), dict(nrhs=-1), dict(ldb=2), dict(layout="R", ldb=1),
              dict(layout="R", lda=3)],
    "posv": [dict(layout=0), dict(uplo="x"), dict(n=-1), dict(nrhs=-3), dict(lda=3), dict(layout="R", ldb=1)],
}
BASE = {"trsv": CASES["trsv"][0], "trsm": CASES["trsm"][0], "getrf": dict(m=4, n=4, pad=0),
        "getrs": dict(trans="N", n=4, nrhs=2, pad=0), "gesv": dict(n=4, nrhs=2, pad=0), "getri": dict(n=4, pad=0),
        "trtrs": dict(uplo="U", trans="N", diag="N", n=4, nrhs=2, pad=0), "potrf": dict(uplo="L", n=4, pad=0),
        "potrs": dict(uplo="U", n=4, nrhs=2, pad=0), "posv": dict(uplo="L", n=4, nrhs=2, pad=0)}


@pytest.mark.parametrize("prec", ["d", "z"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("routine", list(CASES))
def test_argument_errors(routine, prec, mode):
    prog = get_program(routine, prec, mode, _all_active(routine))
    for k, wrong in enumerate(ERRORS[routine]):
        wrong = dict(wrong)
        forms = wrong.pop("forms", (0, 1) if routine not in ("trsv", "trsm") else (0,))
        for work in forms:
            layout = wrong.get("layout", wrong.get("order", "C"))
            s = spec(routine, layout if layout in ("R", "C") else "C", BASE[routine], work)
            s.update(wrong)
            res = check(prog, make_case(routine, prec, s, seed=k), what="(argument error)")
            assert res["stdout"], f"{routine} {wrong}: nothing printed"


@pytest.mark.parametrize("prec", ["d", "z"])
@pytest.mark.parametrize("mode", ["rev", "grad"])
@pytest.mark.parametrize("routine", ["getrf", "getrs", "gesv", "getri", "trtrs", "potrf", "potrs", "posv"])
def test_nan_check(routine, prec, mode):
    """A NaN in an input: the high-level form returns -(its position) and touches nothing (no
    derivative either: the caller's shadows stay as they were); _work runs the routine."""
    prog = get_program(routine, prec, mode, _all_active(routine))
    for layout in ("R", "C"):
        s = spec(routine, layout, BASE[routine], work=0)
        case = make_case(routine, prec, s, seed=3)
        first = case["spec"]["aoff"]   # the matrix's first element (a NaN in its real part)
        case["A"][2 * first if prec == "z" else first] = np.nan
        res = prog.run(case)
        want, printed = library_call(case)
        assert lo.same_bits(res["prim"], want) and res["stdout"] == printed == ""
        assert res["prim"][2 * CAP] == {"getrf": -4, "getrs": -5, "gesv": -4, "getri": -3, "trtrs": -7, "potrf": -4,
                                        "potrs": -5, "posv": -5}[routine]
        # nothing computed: the outputs are the inputs, so are the cotangents
        identity = {"A": case["w"][CAP:2 * CAP] if ROUTINES[routine]["writes_a"] else 0 * case["w"][:CAP],
                    "b": case["w"][:CAP] if "b" in ROUTINES[routine]["arrays"] else 0 * case["w"][:CAP]}
        for k, g in res["grads"].items():
            assert np.array_equal(g, identity.get(k, 0 * g)), k


@pytest.mark.parametrize("prec", ["d", "z"])
@pytest.mark.parametrize("mode", ["rev", "grad", "fwd", "jvp"])
def test_posv_not_positive_definite(prec, mode):
    """LAPACKE_?posv with a matrix that is not positive definite: info > 0, the partial factor
    in A's triangle, B unchanged, as LAPACKE leaves them (both layouts and forms); B's
    derivative is the identity (its cotangent passes through, its tangent stays)."""
    prog = get_program("posv", prec, mode, _all_active("posv"))
    for layout in ("R", "C"):
        for work in (0, 1):
            case = make_case("posv", prec, spec("posv", layout, BASE["posv"], work), seed=5)
            s, el = case["spec"], 2 if prec == "z" else 1
            k = s["aoff"] + (2 * s["lda"] + 2 if layout == "R" else 2 + 2 * s["lda"])  # A(2, 2)
            case["A"][el * k] = -50.0
            res = prog.run(case)
            want, printed = library_call(case)
            assert lo.same_bits(res["prim"], want) and res["stdout"] == printed == ""
            assert res["prim"][2 * CAP] == 3
            if mode in ("rev", "grad"):
                assert np.array_equal(res["grads"]["b"], case["w"][:CAP])
            else:
                assert np.array_equal(res["tangent"][:CAP], case["dirs"]["b"])
