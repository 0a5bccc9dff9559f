"""Bad arguments and singular matrices inside Enzyme-differentiated code: the shims behave
like BLAS/LAPACK (xerbla message / info = -i, outputs untouched) and nothing crashes."""
import numpy as np
import pytest

pytest.importorskip("enzyme_ad.jax")
pytest.importorskip("scipy")

from _enzyme_util import get_program, make_case, oracle_loss  # noqa: E402


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_trsv_bad_lda_leaves_x_alone(mode):
    prog = get_program("trsv", mode, {"A": True, "b": True})
    case = make_case("trsv", dict(uplo="U", trans="N", diag="N", n=4, lda=4, inc=1), seed=1)
    case["p"]["lda"] = 2   # illegal: BLAS reports parameter 6 and returns, x = b untouched
    res = prog.run(case)
    assert np.isclose(res["loss"], np.dot(case["w"], case["arrays"]["b"]))
    if mode == "rev":
        assert np.allclose(res["b"], case["w"]) and np.all(res["A"] == 0)
    else:
        assert np.isclose(res["dloss"], np.dot(case["w"], case["dirs"]["b"]))


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_getrs_bad_trans_is_reported_not_crashing(mode):
    prog = get_program("getrs", mode, {"A": True, "b": True})
    case = make_case("getrs", dict(trans="N", n=3, nrhs=1, lda=3, ldb=3), seed=2)
    case["p"]["trans"] = "X"
    res = prog.run(case)
    assert np.isclose(res["loss"], np.dot(case["w"], case["arrays"]["b"]))


def test_getrf_singular_gives_info_and_no_crash():
    prog = get_program("getrf", "fwd", {"A": True})
    case = make_case("getrf", dict(m=3, n=3, lda=3), seed=3)
    case["arrays"]["A"][:9] = np.array([1.0, 2, 3, 2, 4, 6, 1, 1, 1])   # rank 2
    res = prog.run(case)
    assert np.isclose(res["loss"], oracle_loss("getrf", case))   # LAPACK's factors
    assert np.isnan(res["dloss"])   # zero pivot with rows below: derivative undefined (NaN)
