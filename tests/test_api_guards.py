"""Regression tests for what the NumPy API fuzzer (test_fuzz_api.py) found. Each bad input
raises ValueError naming the argument; valid ones compute what the documented conversion
gives."""
import numpy as np
import pytest

import difflapack
from difflapack import _core

BIG = 2**32 + 3


def test_ragged_logabsdet_bar_names_it():
    """slogdet_vjp's pullback tested logabsdet_bar for complex values with a bare np.asarray:
    a ragged list raised NumPy's anonymous 'inhomogeneous shape' error."""
    _, pullback = difflapack.slogdet_vjp(np.eye(2))
    with pytest.raises(ValueError, match=r"^logabsdet_bar cannot be converted"):
        pullback(0.0, [[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError, match=r"^logabsdet_bar must be real"):
        pullback(0.0, 1j)


def test_ragged_input_names_the_argument():
    with pytest.raises(ValueError, match=r"^a cannot be converted"):
        difflapack.trsv([[1.0, 2.0], [3.0]], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"^b cannot be converted"):
        difflapack.solve(np.eye(3), [1.0, [2.0, 3.0], 3.0])
    with pytest.raises(ValueError, match=r"^piv cannot be converted"):
        difflapack.getrs(np.eye(3), [0, [1], 2], np.ones(3))


@pytest.mark.parametrize("call,name,size", [
    (lambda: difflapack.getrf(np.empty((BIG, 0))), "a", BIG),
    (lambda: difflapack.getrf_jvp(np.empty((0, 0)), np.empty((0, BIG))), "da", BIG),
    (lambda: difflapack.trsm(np.empty((0, 0)), np.empty((0, BIG))), "b", BIG),
    (lambda: difflapack.getrs(np.empty((0, 0)), np.empty(0, int), np.empty((0, 2**31))), "b", 2**31),
    (lambda: difflapack.getrs(np.eye(1), np.broadcast_to(0, (2**31,)), np.ones(1)), "piv", 2**31),
    (lambda: difflapack.solve(np.eye(2), np.broadcast_to(1.0, (2, 2**31))), "b", 2**31),  # no 32 GiB copy
    (lambda: difflapack.trsv_vjp(np.eye(1), np.ones(1))[1](np.empty((BIG, 0))), "x_bar", BIG),
])
def test_dimensions_beyond_int32_name_argument_and_dimension(call, name, size):
    with pytest.raises(ValueError, match=rf"^{name} has shape .*\({size}\) exceeds 2147483647"):
        call()


def test_masked_arrays_are_rejected():
    a = np.ma.array(np.eye(2), mask=[[False, True], [False, False]])
    with pytest.raises(ValueError, match=r"^a is a masked array"):
        difflapack.solve(a, np.ones(2))


@pytest.mark.parametrize("check_finite", [True, False])
def test_overflow_into_the_computations_precision_is_an_error(check_finite):
    a32, b32 = np.eye(2, dtype=np.float32), np.ones(2, dtype=np.float32)
    with pytest.raises(ValueError, match=r"^db holds values that overflow float32"):
        difflapack.trsv_jvp(a32, b32, None, np.array([1e300, 1.0]), check_finite=check_finite)
    with pytest.raises(ValueError, match=r"^alpha holds values that overflow float32"):
        difflapack.trsm(a32, np.ones((2, 2), np.float32), alpha=1e300, check_finite=check_finite)
    big = np.eye(2, dtype=np.longdouble) * np.longdouble("1e4000")
    if np.isfinite(big).all() and np.finfo(np.longdouble).max > np.finfo(np.float64).max:
        with pytest.raises(ValueError, match=r"^a holds values that overflow float64"):
            difflapack.solve(big, np.ones(2), check_finite=check_finite)
    # inf itself is no overflow: it propagates (or is rejected by check_finite)
    if not check_finite:
        x = difflapack.trsv(a32, np.array([np.inf, 1.0], np.float32), check_finite=False)
        assert x.dtype == np.float32 and np.isinf(x[0])


def test_unaligned_arrays_reach_the_kernels_aligned():
    raw = bytearray(8 * 9 + 1)
    a = np.frombuffer(raw, dtype=np.float64, offset=1, count=9).reshape(3, 3, order="F")
    a[...] = np.triu(np.arange(1.0, 10.0).reshape(3, 3)) + 3 * np.eye(3)
    assert not a.flags.aligned
    arr = _core.as_matrix(a, "a", _core.PRECISIONS["d"], copy=False)
    assert arr.flags.aligned and arr.flags.f_contiguous
    np.testing.assert_array_equal(difflapack.trsv(a, np.ones(3)), difflapack.trsv(np.array(a), np.ones(3)))


def test_python_integers_beyond_int64():
    x = difflapack.trsm(np.eye(2), np.ones((2, 2)), alpha=2**70)
    np.testing.assert_array_equal(x, np.full((2, 2), float(2**70)))
    with pytest.raises(ValueError, match=r"^alpha is an integer too large"):
        difflapack.trsm(np.eye(2), np.ones((2, 2)), alpha=10**400)


def test_check_finite_without_a_truth_value_names_it():
    with pytest.raises(ValueError, match=r"^check_finite must be True or False"):
        difflapack.solve(np.eye(2), np.ones(2), check_finite=np.array([True, False]))
    # anything with a truth value counts by it, as in SciPy
    assert difflapack.solve(np.eye(2), np.ones(2), check_finite=np.bool_(False)).shape == (2,)


@pytest.mark.parametrize("call", [
    lambda cf: difflapack.trtrs(np.eye(2), np.ones(2), check_finite=cf),
    lambda cf: difflapack.potrf(np.eye(2), check_finite=cf),
    lambda cf: difflapack.posv_vjp(np.eye(2), np.ones(2), check_finite=cf),
    lambda cf: difflapack.potrs_jvp(np.eye(2), np.ones(2), None, None, check_finite=cf),
    lambda cf: difflapack.getri(np.eye(2), [0, 1], check_finite=cf),
    lambda cf: difflapack.inv_jvp(np.eye(2), None, check_finite=cf),
    lambda cf: difflapack.det(np.eye(2), check_finite=cf),
    lambda cf: difflapack.slogdet_vjp(np.eye(2), check_finite=cf),
])
def test_check_finite_of_the_later_functions(call):
    """trtrs, the Cholesky family, getri, inv, det, slogdet and their rules lacked the
    check_finite conversion of the others: an array of two raised NumPy's anonymous 'truth
    value of an array ... is ambiguous'."""
    with pytest.raises(ValueError, match=r"^check_finite must be True or False"):
        call(np.array([True, False]))
    call(np.bool_(False))
    call([])  # falsy, as in SciPy


def test_none_for_a_required_array_names_it():
    """precision_of skipped None inputs, so getrf(None) reached np.result_type() with nothing
    ('at least one array or dtype is required')."""
    for call, name in [(lambda: difflapack.getrf(None), "a"), (lambda: difflapack.getrf_vjp(None), "a"),
                       (lambda: difflapack.solve(None, None), "a"), (lambda: difflapack.trsv(np.eye(2), None), "b"),
                       (lambda: difflapack.getrs(None, [0], [1.0]), "lu"),
                       (lambda: difflapack.trsm(np.eye(2), np.ones((2, 2)), alpha=None), "alpha")]:
        with pytest.raises(ValueError, match=rf"^{name} must hold numbers; got None"):
            call()


@pytest.mark.parametrize("n", [0, -1, 2**32 + 1, 10**10, 1.5, "2", None])
def test_set_num_threads_rejects_what_is_no_thread_count(n):
    """ctypes truncated n to 32 bits (10**10 became 1410065408 threads, 2**32 + 1 one thread)
    and int() took 1.5 as 1 and '2' as 2."""
    with pytest.raises(ValueError, match=r"^n \(the number of threads\)"):
        difflapack.set_num_threads(n)


def test_solves_with_no_right_hand_side_quick_return():
    """Documented (it used to read as if a zero diagonal always raised): getrs / potrs with a b
    of shape (n, 0) return at once, like LAPACK, without reading the factor; trtrs checks the
    diagonal first (LAPACK ?trtrs' own test). Found by the API fuzzer's info > 0 rules."""
    f = np.array([[2.0, 1.0], [0.0, 0.0]])
    assert difflapack.getrs(f, [0, 1], np.ones((2, 0))).shape == (2, 0)
    assert difflapack.potrs(f, np.ones((2, 0)), uplo="U").shape == (2, 0)
    with pytest.raises(difflapack.SingularMatrixError):
        difflapack.trtrs(f, np.ones((2, 0)))
