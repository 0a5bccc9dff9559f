"""Every routine x every Enzyme mode x every activity pattern, over several flag/shape cases
(transposes, lower/upper, unit diagonal, rectangular getrf, nrhs 0 and > 1, n = 0, lda > rows,
incx 2 / -1; getri with its workspace query; the Cholesky routines in double and complex double),
against central differences of a NumPy/SciPy oracle. Each source is compiled once per
(routine, mode, activity) and reused for all cases."""
import pytest

pytest.importorskip("enzyme_ad.jax")
pytest.importorskip("scipy")

from _enzyme_util import activity_patterns, check, get_program, make_case, pattern_id  # noqa: E402

CASES = {
    "trsv": [dict(uplo="U", trans="N", diag="N", n=4, lda=5, inc=1),
             dict(uplo="L", trans="T", diag="U", n=5, lda=5, inc=2),
             dict(uplo="U", trans="T", diag="N", n=3, lda=6, inc=-1),
             dict(uplo="L", trans="C", diag="N", n=4, lda=4, inc=-2),
             dict(uplo="U", trans="N", diag="U", n=0, lda=1, inc=1)],
    "trsm": [dict(side="L", uplo="U", transa="N", diag="N", m=4, n=3, lda=5, ldb=6),
             dict(side="R", uplo="L", transa="T", diag="U", m=3, n=4, lda=5, ldb=4),
             dict(side="L", uplo="L", transa="T", diag="N", m=5, n=2, lda=6, ldb=7),
             dict(side="R", uplo="U", transa="N", diag="N", m=2, n=5, lda=6, ldb=3)],
    "getrf": [dict(m=4, n=4, lda=5), dict(m=6, n=4, lda=7), dict(m=3, n=5, lda=4), dict(m=1, n=1, lda=1)],
    "getrs": [dict(trans="N", n=4, nrhs=2, lda=5, ldb=6), dict(trans="T", n=5, nrhs=3, lda=6, ldb=5),
              dict(trans="N", n=1, nrhs=1, lda=1, ldb=1)],
    "gesv": [dict(n=4, nrhs=2, lda=5, ldb=6), dict(n=5, nrhs=1, lda=5, ldb=5), dict(n=3, nrhs=3, lda=3, ldb=4)],
    "trtrs": [dict(uplo="U", trans="N", diag="N", n=4, nrhs=3, lda=5, ldb=6),
              dict(uplo="L", trans="T", diag="U", n=5, nrhs=2, lda=5, ldb=5),
              dict(uplo="L", trans="C", diag="N", n=3, nrhs=1, lda=4, ldb=3),
              dict(uplo="U", trans="T", diag="N", n=4, nrhs=0, lda=4, ldb=4),
              dict(uplo="U", trans="N", diag="U", n=0, nrhs=2, lda=1, ldb=1)],
    "getri": [dict(n=4, lda=5), dict(n=6, lda=6), dict(n=1, lda=1), dict(n=0, lda=1)],
}
# Cholesky, real (dpotrf_ ...) and complex (zpotrf_ ...: interleaved doubles, ld in complex units)
_CHOLESKY_SOLVE = [dict(uplo="L", n=4, nrhs=2, lda=5, ldb=6), dict(uplo="U", n=3, nrhs=1, lda=4, ldb=3),
                   dict(uplo="U", n=1, nrhs=3, lda=1, ldb=2)]
for _p in ("", "z"):
    CASES[_p + "potrf"] = [dict(uplo="L", n=4, lda=5), dict(uplo="U", n=3, lda=3), dict(uplo="L", n=1, lda=1),
                           dict(uplo="U", n=0, lda=1)]
    CASES[_p + "potrs"] = CASES[_p + "posv"] = _CHOLESKY_SOLVE
MODES = ("rev", "fwd", "grad", "jvp")
PARAMS = [pytest.param(r, m, a, id=f"{r}-{m}-{pattern_id(a)}")
          for r in CASES for m in MODES for a in activity_patterns(r)]


@pytest.mark.parametrize("routine,mode,active", PARAMS)
def test_mode_activity(routine, mode, active):
    prog = get_program(routine, mode, active)
    for k, p in enumerate(CASES[routine]):
        check(prog, make_case(routine, p, seed=k))
    if routine == "trsm" and active.get("alpha"):   # alpha == 0: the adjoint needs the original B
        check(prog, make_case(routine, CASES[routine][0], seed=7, alpha=0.0))
