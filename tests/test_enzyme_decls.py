"""The header must work however the user's source names and declares the routines: LP64 or
ILP64 (_64_, `long` or `long long`), with or without the Fortran hidden string lengths, with
the user's own prototype (const or not, after or before the include) or none at all."""
import pytest

pytest.importorskip("enzyme_ad.jax")
pytest.importorskip("scipy")

from _enzyme_util import check, get_program, make_case  # noqa: E402

CASE = {
    "trsv": dict(uplo="L", trans="T", diag="N", n=4, lda=5, inc=2),
    "trsm": dict(side="R", uplo="U", transa="T", diag="N", m=3, n=4, lda=5, ldb=4),
    "getrf": dict(m=5, n=4, lda=6),
    "getrs": dict(trans="T", n=4, nrhs=2, lda=5, ldb=6),
    "gesv": dict(n=4, nrhs=2, lda=5, ldb=6),
}
HAS_HIDDEN = {"trsv", "trsm", "getrs"}
STYLES = [  # (user declaration, integer kind, hidden lengths)
    ("const", False, False),
    ("nonconst", "long", True),
    ("before", "longlong", True),
    ("none", "longlong", False),
    ("none", False, True),
]


def _all_active(routine):
    a = {"A": True, "b": routine != "getrf"}
    if routine == "trsm":
        a["alpha"] = True
    if routine == "getrf":
        del a["b"]
    return a


def _params():
    out = []
    for r in CASE:
        for decl, ilp64, hidden in STYLES:
            if hidden and r not in HAS_HIDDEN:
                continue
            for mode in ("rev", "fwd"):
                out.append(pytest.param(r, mode, decl, ilp64, hidden, id=f"{r}-{mode}-{decl}-{ilp64 or 'lp64'}-{'hidden' if hidden else 'nohidden'}"))
        out.append(pytest.param(r, "grad", "const", "long", r in HAS_HIDDEN, id=f"{r}-grad-const-long"))
        out.append(pytest.param(r, "jvp", "none", "longlong", r in HAS_HIDDEN, id=f"{r}-jvp-none-longlong"))
    return out


@pytest.mark.parametrize("routine,mode,decl,ilp64,hidden", _params())
def test_declaration_styles(routine, mode, decl, ilp64, hidden):
    active = _all_active(routine)
    if routine == "getrf":
        active = {"A": True}
    prog = get_program(routine, mode, active, decl=decl, ilp64=ilp64, hidden=hidden)
    check(prog, make_case(routine, CASE[routine], seed=3))
