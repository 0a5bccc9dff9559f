"""Hostile inputs for every public NumPy function and every pullback (hypothesis).

Each example builds a valid problem for one function (random precision, sizes 0..6, flags,
activity), then replaces one or two of its arguments by a hostile value:
  * the same data in another container (C/F order, strided and negative-stride views,
    read-only, big-endian, unaligned, a list) or another numeric dtype (bool, int, float16,
    long double): the outcome must be exactly the outcome of the plain call on the converted
    data (the documented promotion rules), never garbage;
  * a wrong ndim or shape, an empty or huge zero-byte array, object/str/datetime/void dtypes,
    None, NaN/inf (with check_finite True and False), complex data, masked arrays, pivots out of
    range / of the wrong dtype or length, flags of any type, alpha/dalpha of any shape and type.
The call must return or raise ValueError / TypeError (whose message names an argument of the
function; for a huge dimension, the argument and the size), SingularMatrixError or
NotPositiveDefiniteError; nothing else, no crash. Inputs are never modified and no result shares
memory with them; array results have the computation's dtype (pivots int32). check_finite takes
any value with a truth value (an array of two: ValueError naming it).

FUNCTIONS is every name of the modules' __all__ (test_every_public_function_is_fuzzed fails for
a public function without a valid problem in build()). Routine rules, from the module docs:
test_cholesky_reads_and_writes_only_the_stored_triangle (junk in the other triangle and in Im of
the diagonal changes nothing; results zero outside the triangle) and
test_singular_and_not_positive_definite_inputs (the documented info > 0 behaviour of every
function that has one).
"""
from __future__ import annotations

import copy
import inspect
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import difflapack
from difflapack import NotPositiveDefiniteError, SingularMatrixError
from difflapack import cholesky, inverse, lu, triangular

# every public NumPy function (a function added to a module's __all__ is fuzzed, and must have a
# valid problem in build(): test_every_public_function_is_fuzzed)
MODULES = (triangular, lu, cholesky, inverse)
FUNCTIONS = [name for module in MODULES for name in module.__all__]
PULLBACKS = [name for name in FUNCTIONS if name.endswith("_vjp")]
DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
FLAG_LETTERS = {"uplo": "UL", "trans": "NTC", "transa": "NTC", "diag": "NU", "side": "LR"}
PRIMAL = {"a", "b", "lu", "c", "alpha"}  # the inputs whose dtypes choose the precision
SCALARS = {"alpha", "dalpha", "det_bar", "sign_bar", "logabsdet_bar"}  # scalar arguments
HUGE = 2**32 + 3
SETTINGS = settings(max_examples=3000, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


# ------------------------------------------------------------------ valid problems
def _values(rng, shape, dtype):
    v = rng.uniform(-1, 1, shape)
    if np.dtype(dtype).kind == "c":
        v = v + 1j * rng.uniform(-1, 1, shape)
    return v.astype(dtype)


def _triangle(rng, n, uplo, dtype):
    """A well-conditioned triangle (diagonal of modulus >= 1.5) with junk in the other one."""
    a = _values(rng, (n, n), dtype)
    d = np.sign(rng.uniform(-1, 1, n)) * (1.5 + rng.uniform(0, 1, n))
    a[np.diag_indices(n)] = d.astype(dtype)
    return a


def _general(rng, m, n, dtype):
    a = _values(rng, (m, n), dtype)
    k = min(m, n)
    a[np.arange(k), np.arange(k)] += np.asarray(3.0 + k, dtype)
    return a


def _hermitian_pd(rng, n, uplo, dtype):
    """Hermitian positive definite through its uplo triangle (diagonally dominant), with junk
    in the other triangle and in Im of the diagonal (neither is read)."""
    a = _values(rng, (n, n), dtype)
    a[np.diag_indices(n)] += np.asarray(2.0 * n + 1, dtype)
    return a


def _rhs(rng, n, nrhs, dtype):
    return _values(rng, (n, nrhs) if nrhs != 1 else (n,), dtype)


def build(fname, rng, dtype, dims, flags, active):
    """The keyword arguments of a valid call of difflapack.<fname>."""
    n, m, nrhs = dims
    v = lambda *shape: _values(rng, shape, dtype)  # noqa: E731
    kw = {}
    if fname.startswith("trtrs"):
        kw = dict(a=_triangle(rng, n, flags["uplo"], dtype), b=_rhs(rng, n, nrhs, dtype))
        if fname == "trtrs_jvp":
            kw.update(da=v(n, n) if active[0] else None, db=v(*kw["b"].shape) if active[1] else None)
        kw.update(uplo=flags["uplo"], trans=flags["trans"], diag=flags["diag"])
    elif fname.startswith(("potrf", "posv")):
        kw = dict(a=_hermitian_pd(rng, n, flags["uplo"], dtype))
        if fname.startswith("posv"):
            kw.update(b=_rhs(rng, n, nrhs, dtype))
        if fname == "potrf_jvp":
            kw.update(da=v(n, n) if active[0] else None)
        if fname == "posv_jvp":
            kw.update(da=v(n, n) if active[0] else None, db=v(*kw["b"].shape) if active[1] else None)
        kw.update(uplo=flags["uplo"])
    elif fname.startswith("potrs"):
        c, _ = difflapack.potrf(_hermitian_pd(rng, n, flags["uplo"], dtype), uplo=flags["uplo"])
        kw = dict(c=c, b=_rhs(rng, n, nrhs, dtype))
        if fname == "potrs_jvp":
            kw.update(dc=v(n, n) if active[0] else None, db=v(*kw["b"].shape) if active[1] else None)
        kw.update(uplo=flags["uplo"])
    elif fname.startswith("getri"):
        lu_, piv, _ = difflapack.getrf(_general(rng, n, n, dtype))
        kw = dict(lu=lu_, piv=piv)
        if fname == "getri_jvp":
            kw.update(dlu=v(n, n) if active[0] else None)
    elif fname.startswith(("inv", "det", "slogdet")):
        kw = dict(a=_general(rng, n, n, dtype))
        if fname.endswith("_jvp"):
            kw.update(da=v(n, n) if active[0] else None)
    elif fname.startswith("trsv"):
        kw = dict(a=_triangle(rng, n, flags["uplo"], dtype), b=v(n))
        if fname == "trsv_jvp":
            kw.update(da=v(n, n) if active[0] else None, db=v(n) if active[1] else None)
        kw.update(uplo=flags["uplo"], trans=flags["trans"], diag=flags["diag"])
    elif fname.startswith("trsm"):
        k = m if flags["side"] == "L" else n
        kw = dict(a=_triangle(rng, k, flags["uplo"], dtype), b=v(m, n))
        if fname == "trsm_jvp":
            kw.update(da=v(k, k) if active[0] else None, db=v(m, n) if active[1] else None,
                      dalpha=dtype(0.5) if active[2] else None)
        kw.update(alpha=dtype(rng.choice([0.0, 1.0, -1.5])), side=flags["side"], uplo=flags["uplo"],
                  transa=flags["trans"], diag=flags["diag"])
    elif fname.startswith("getrf"):
        kw = dict(a=_general(rng, m, n, dtype))
        if fname == "getrf_jvp":
            kw.update(da=v(m, n) if active[0] else None)
    elif fname.startswith("getrs"):
        lu, piv, _ = difflapack.getrf(_general(rng, n, n, dtype))
        kw = dict(lu=lu, piv=piv, b=v(n, nrhs) if nrhs != 1 else v(n))
        if fname == "getrs_jvp":
            kw.update(dlu=v(n, n) if active[0] else None, db=v(*kw["b"].shape) if active[1] else None)
        kw.update(trans=flags["trans"])
    else:  # gesv, solve
        kw = dict(a=_general(rng, n, n, dtype), b=v(n, nrhs) if nrhs != 1 else v(n))
        if fname.endswith("_jvp"):
            kw.update(da=v(n, n) if active[0] else None, db=v(*kw["b"].shape) if active[1] else None)
    return kw


def pullback_args(fname, result, rng):
    """A valid cotangent call of the pullback a vjp returned: (pullback, kwargs)."""
    if fname == "potrf_vjp":
        (c, _), pb = result
        return pb, dict(c_bar=_values(rng, c.shape, c.dtype))
    if fname == "posv_vjp":
        (c, x, _), pb = result
        return pb, dict(x_bar=_values(rng, x.shape, x.dtype), c_bar=_values(rng, c.shape, c.dtype))
    if fname == "det_vjp":
        d, pb = result
        return pb, dict(det_bar=_values(rng, (), d.dtype)[()])
    if fname == "slogdet_vjp":
        (sign, logabsdet), pb = result
        return pb, dict(sign_bar=_values(rng, (), sign.dtype)[()], logabsdet_bar=_values(rng, (), logabsdet.dtype)[()])
    if fname == "getrf_vjp":
        (lu, _, _), pb = result
        return pb, dict(lu_bar=_values(rng, lu.shape, lu.dtype))
    if fname == "gesv_vjp":
        (lu, _, x, _), pb = result
        return pb, dict(x_bar=_values(rng, x.shape, x.dtype), lu_bar=_values(rng, lu.shape, lu.dtype))
    x, pb = result
    return pb, dict(x_bar=_values(rng, x.shape, x.dtype))


# ------------------------------------------------------------------ hostile values
def _unaligned(arr):
    raw = bytearray(arr.nbytes + 1)
    out = np.frombuffer(raw, dtype=arr.dtype, offset=1, count=arr.size).reshape(arr.shape)
    out[...] = arr
    return out


def _strided(arr):
    big = np.zeros(tuple(2 * s + 1 for s in arr.shape), arr.dtype)
    view = big[tuple(slice(1, None, 2) for _ in arr.shape)]
    view[...] = arr
    return view


def _reversed(arr):
    """The same values through negative strides."""
    flip = tuple(slice(None, None, -1) for _ in arr.shape)
    return np.ascontiguousarray(arr[flip])[flip]


def _readonly(arr):
    out = arr.copy()
    out.setflags(write=False)
    return out


def _nonnative(arr):
    return arr.astype(arr.dtype.newbyteorder(">" if arr.dtype.byteorder != ">" else "<"))


def _with(arr, value):
    out = np.array(arr, copy=True)
    if out.size:
        out.flat[out.size // 2] = value
    return out


SAME_DATA = {  # container changes: the outcome must be the plain call's
    "F": np.asfortranarray, "C": np.ascontiguousarray, "strided": _strided, "reversed": _reversed,
    "readonly": _readonly, "nonnative": _nonnative, "unaligned": _unaligned, "list": lambda a: a.tolist(),
}
OTHER_DTYPE = {  # valid conversions: the outcome must be the plain call's on the converted data
    "bool": lambda a: a.real != 0, "int": lambda a: np.round(3 * a.real).astype(np.int64),
    "int8": lambda a: np.round(3 * a.real).astype(np.int8), "float16": lambda a: a.real.astype(np.float16),
    "longdouble": lambda a: a.real.astype(np.longdouble), "complex": lambda a: a + 0.25j,
}
BAD = {  # anything: a result or a named error
    "0d": lambda a: np.float64(1.5), "ravel": np.ravel, "3d": lambda a: a[None],
    "transpose": lambda a: a.T, "grow": lambda a: np.concatenate([a, a[:1]]) if a.ndim and a.shape[0] else a[None],
    "shrink": lambda a: a[1:], "empty": lambda a: np.empty((0,) * max(a.ndim, 1)),
    "object": lambda a: a.astype(object), "str": lambda a: a.astype(str), "bytes": lambda a: b"abc",
    "datetime": lambda a: np.zeros(a.shape, "M8[s]"), "void": lambda a: np.zeros(a.shape, "V8"),
    "none": lambda a: None, "text": lambda a: "abc", "dict": lambda a: {}, "nan": lambda a: _with(a, np.nan),
    "inf": lambda a: _with(a, -np.inf), "masked": lambda a: np.ma.array(a, mask=np.zeros(a.shape, bool)),
    "ragged": lambda a: [[1.0, 2.0], [3.0]],
}
# check_finite counts by its truth value (SciPy); one without (an array of two) is a ValueError naming it
CHECK_VALUES = [True, False, True, False, True, False, 1, 0, np.bool_(True), np.array(False), None, [], "yes",
                np.array([1, 2])]
HUGE_SHAPES = [(HUGE, 0), (0, HUGE), (2**31, 0), (HUGE,), (0, 2**31, 0)]  # zero-byte or broadcast
BAD_PIVOTS = {
    "float": lambda p: p.astype(np.float64), "bool": lambda p: p > 0, "neg": lambda p: _with(p, -1),
    "high": lambda p: _with(p, p.size), "huge": lambda p: _with(p.astype(np.int64), 2**40),
    "short": lambda p: p[1:], "long": lambda p: np.concatenate([p, p[:1] * 0]), "2d": lambda p: p[:, None],
    "none": lambda p: None, "object": lambda p: p.astype(object), "text": lambda p: "abc",
    "uint64": lambda p: p.astype(np.uint64), "int8": lambda p: p.astype(np.int8),
}
FLAG_VALUES = ["", "NN", "x", "?", " ", "\u00df", "\u0131", b"", b"\xff", b"nn", 0, 1, 1.5, None, ["N"], np.array("N"),
               np.str_("n"), np.bytes_(b"l"), "n", "t", "c", "u", "l", "r", b"N", b"U", b"L", b"R", b"T"]
SCALAR_VALUES = [0, 1, True, -2, 2**70, 10**400, 0.5, np.float32(2), np.float16(2), np.longdouble(2), np.array(2.0),
                 np.array([2.0]), [2.0], np.array([[2.0]]), 1 + 1j, np.complex64(1j), "2", None, np.nan, np.inf,
                 np.array(2, dtype=object), np.datetime64(1, "s"), 1e300, [[1.0, 2.0], [3.0]],
                 np.ma.array(2.0), 2.5 + 0j]


def huge(shape):
    """An array of that shape holding no memory: zero-byte, or a broadcast scalar (1-D)."""
    return np.empty(shape) if 0 in shape else np.broadcast_to(np.float64(1.0), shape)


def mutation(draw, kw, taken=()):
    """Replace one argument of kw (not one of `taken`): returns (name, kind, new value)."""
    name = draw(st.sampled_from(sorted(set(kw) - set(taken))))
    value = kw[name]
    if name in FLAG_LETTERS or name == "trans":
        return name, "flag", draw(st.sampled_from(FLAG_VALUES))
    if name in SCALARS:
        return name, "scalar", draw(st.sampled_from(SCALAR_VALUES))
    if name == "piv":
        if draw(st.booleans()):
            kind = draw(st.sampled_from(sorted(SAME_DATA)))
            return name, "same:" + kind, SAME_DATA[kind](value)
        kind = draw(st.sampled_from(sorted(BAD_PIVOTS)))
        return name, "bad:" + kind, BAD_PIVOTS[kind](value)
    if value is None:  # an inactive tangent: give it something
        return name, "bad:filled", draw(st.sampled_from([np.ones((2, 2)), np.ones(3), np.float64(1.0), "x"]))
    group = draw(st.sampled_from(["same", "same", "dtype", "bad", "bad", "huge"]))
    if group == "same":
        kind = draw(st.sampled_from(sorted(SAME_DATA)))
        return name, "same:" + kind, SAME_DATA[kind](value)
    if group == "dtype":
        kind = draw(st.sampled_from(sorted(OTHER_DTYPE)))
        return name, "dtype:" + kind, OTHER_DTYPE[kind](value)
    if group == "huge":
        return name, "huge", huge(draw(st.sampled_from(HUGE_SHAPES)))
    kind = draw(st.sampled_from(sorted(BAD)))
    return name, "bad:" + kind, BAD[kind](value)


@st.composite
def cases(draw, functions):
    fname = draw(st.sampled_from(functions))
    seed = draw(st.integers(0, 2**32 - 1))
    dtype = draw(st.sampled_from(DTYPES))
    dims = (draw(st.integers(0, 6)), draw(st.integers(0, 6)), draw(st.integers(0, 4)))
    flags = {k: draw(st.sampled_from(sorted(FLAG_LETTERS[k]))) for k in ("uplo", "trans", "diag", "side")}
    active = tuple(draw(st.booleans()) for _ in range(3))
    check = draw(st.sampled_from(CHECK_VALUES))
    n_mut = draw(st.sampled_from([1, 1, 1, 2]))
    return fname, seed, dtype, dims, flags, active, check, n_mut


# ------------------------------------------------------------------ checking
def expected_dtype(kw):
    """The documented precision rule: np.result_type over the primal inputs (Python scalars
    weak), float16 -> float32, integers/bools -> float64, long double -> float64/complex128."""
    ops = []
    for name, value in kw.items():
        if name not in PRIMAL or value is None:
            continue
        ops.append(value if isinstance(value, (bool, int, float, complex)) else np.asarray(value))
    dt = np.result_type(*ops)
    if dt.kind == "c":
        return np.dtype(np.complex64 if dt.itemsize <= 8 else np.complex128)
    if dt.kind == "f":
        return np.dtype(np.float32 if dt.itemsize <= 4 else np.float64)
    return np.dtype(np.float64)


def plain(kw, dtype):
    """The same call on plain converted data: fresh C arrays of the computation's dtype,
    upper-case str flags."""
    out = {}
    for name, value in kw.items():
        if value is None or name == "check_finite":
            out[name] = value
        elif name in FLAG_LETTERS or name == "trans":
            out[name] = (value.decode() if isinstance(value, bytes) else str(value)).upper()
        elif name == "piv":
            out[name] = np.array(value, dtype=np.int64)
        elif np.iscomplexobj(value) and dtype.kind != "c":
            raise ValueError("complex data of a real computation")
        elif name in SCALARS:
            out[name] = np.asarray(value).astype(dtype)[()]
        else:
            out[name] = np.array(value, dtype=dtype)
    return out


def flatten(result):
    if isinstance(result, (tuple, list)):
        for item in result:
            yield from flatten(item)
    elif not callable(result):
        yield result


def outcome(fn, kw):
    try:
        return "ok", fn(**kw)
    except (SingularMatrixError, NotPositiveDefiniteError) as exc:
        assert isinstance(exc.info, int) and exc.info >= 1, exc
        return "singular", exc.info
    except (ValueError, TypeError) as exc:
        return "error", exc


def snapshot(kw):
    """Copies of the inputs (a broadcast array, which would not fit in memory as a copy, is
    compared with its single element)."""
    def keep(value):
        if isinstance(value, np.ndarray) and value.size and 0 in value.strides:
            return np.broadcast_to(value.flat[0].copy(), value.shape)
        return copy.deepcopy(value)
    return {name: keep(value) for name, value in kw.items()}


def same(x, y):
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        x, y = np.asarray(x), np.asarray(y)
        if x.dtype != y.dtype or x.shape != y.shape:
            return False
        if x.size and 0 in x.strides and 0 in y.strides:  # broadcast: compare the one element
            x, y = x.flat[0:1], y.flat[0:1]
        if x.dtype.kind in "fc":
            return np.array_equal(x, y, equal_nan=True)
        return np.array_equal(x, y)
    if isinstance(x, np.ma.MaskedArray):
        return same(np.ma.getdata(x), np.ma.getdata(y))
    try:
        return type(x) is type(y) and (x == y or (x != x and y != y))
    except Exception:
        return type(x) is type(y)


def check_unmodified(before, after, label):
    for name in before:
        assert same(before[name], after[name]), f"{label}: input {name} was modified"


def check_error(exc, argnames, label, mutated):
    msg = str(exc)
    assert any(re.search(rf"\b{re.escape(a)}\b", msg) for a in argnames), \
        f"{label}: {type(exc).__name__} names no argument of {sorted(argnames)}: {msg!r}"
    for name, kind, value in mutated:
        if kind == "huge" and (len(mutated) == 1 or re.match(rf"{name}\b", msg)):
            size = max(np.shape(value))  # the one bad argument, or the one reported
            assert msg.startswith(name) and str(size) in msg, f"{label}: huge dimension not named: {msg!r}"


def check_result(result, kw, dt, label):
    """dtypes documented for results; no result shares memory with an input. (Scalar results
    may be real where the computation is complex: slogdet's logabsdet.)"""
    inputs = [v for v in kw.values() if isinstance(v, np.ndarray)]
    real = np.dtype(dt.type(0).real.dtype)
    for item in flatten(result):
        if isinstance(item, np.ndarray):
            if item.dtype.kind in "iu":
                assert item.dtype == np.int32, f"{label}: pivots of dtype {item.dtype}"
            else:
                assert item.dtype == dt, f"{label}: result of dtype {item.dtype}, computation {dt}"
            for inp in inputs:
                assert not np.may_share_memory(item, inp), f"{label}: a result shares memory with an input"
        elif isinstance(item, np.generic):
            assert item.dtype in (dt, real), f"{label}: scalar result of dtype {item.dtype}, computation {dt}"
        else:
            assert isinstance(item, int), f"{label}: unexpected result {item!r}"


def must_equal_plain(mutated):
    return all(kind.startswith(("same:", "dtype:")) for _, kind, _ in mutated)


def run_one(fn, kw, argnames, label, mutated, dtype_of):
    """dtype_of(kw): the computation's dtype for these arguments."""
    before = snapshot(kw)
    status, value = outcome(fn, kw)
    check_unmodified(before, kw, label)
    if status == "error":
        check_error(value, argnames, label, mutated)
    elif status == "ok":
        check_result(value, kw, dtype_of(kw), label)
    if status != "error" and any(k == "huge" for _, k, _ in mutated):
        raise AssertionError(f"{label}: a dimension beyond int32 was accepted")
    if must_equal_plain(mutated):
        try:
            ref_kw = plain(kw, dtype_of(kw))
        except (ValueError, TypeError):  # e.g. complex data of a real computation
            return status, value
        ref_status, ref_value = outcome(fn, ref_kw)
        if ref_status == "error":
            assert status == "error", f"{label}: accepted what the plain call rejects ({ref_value})"
        else:
            assert status == ref_status, f"{label}: {status} ({value}) where the plain call gives {ref_status}"
            if status == "ok":
                got, want = list(flatten(value)), list(flatten(ref_value))
                assert len(got) == len(want) and all(same(g, w) for g, w in zip(got, want)), \
                    f"{label}: result differs from the plain call's"
            else:
                assert value == ref_value, label
    return status, value


def describe(fname, kw, mutated):
    parts = [f"{k}={type(v).__name__}{getattr(v, 'shape', '')}{getattr(v, 'dtype', '')}" for k, v in kw.items()]
    muts = ", ".join(f"{n}:{k}" for n, k, _ in mutated)
    return f"{fname}({', '.join(parts)}) [{muts}]"


def mutate(data, kw, n_mut):
    kw = dict(kw)
    mutated = []
    for _ in range(min(n_mut, len(kw))):
        name, kind, value = mutation(data.draw, kw, [m[0] for m in mutated])
        kw[name] = value
        mutated.append((name, kind, value))
    return kw, mutated


# ------------------------------------------------------------------ the tests
@SETTINGS
@given(cases(FUNCTIONS), st.data())
def test_public_functions_with_hostile_arguments(case, data):
    fname, seed, dtype, dims, flags, active, check, n_mut = case
    fn = getattr(difflapack, fname)
    rng = np.random.default_rng(seed)
    valid = build(fname, rng, dtype, dims, flags, active)
    kw, mutated = mutate(data, valid, n_mut)
    kw["check_finite"] = check
    if np.size(check) > 1:  # no truth value: one more bad argument
        mutated.append(("check_finite", "bad:truth", check))
    label = describe(fname, kw, mutated)
    argnames = set(inspect.signature(fn).parameters)
    run_one(fn, kw, argnames, label, mutated, expected_dtype)


@SETTINGS
@given(cases(PULLBACKS), st.data())
def test_pullbacks_with_hostile_cotangents(case, data):
    fname, seed, dtype, dims, flags, active, check, n_mut = case
    rng = np.random.default_rng(seed)
    kw = build(fname, rng, dtype, dims, flags, active)
    if np.size(check) > 1:  # no truth value: tested by the other tests
        check = True
    try:
        result = getattr(difflapack, fname)(**kw, check_finite=check)
    except (SingularMatrixError, NotPositiveDefiniteError):
        return
    pb, valid = pullback_args(fname, result, rng)
    first = pb(**valid)  # the valid pullback, twice: "may be called any number of times"
    again = pb(**valid)
    assert all(same(a, b) for a, b in zip(flatten(first), flatten(again))), f"{fname}: pullback not repeatable"
    bad, mutated = mutate(data, valid, 1)
    label = describe(fname + " pullback", bad, mutated)
    dt = next(iter(valid.values())).dtype  # the vjp's computation
    run_one(pb, bad, set(inspect.signature(pb).parameters), label, mutated, lambda kw: dt)
    # the hostile call left the pullback's private state alone
    assert all(same(a, b) for a, b in zip(flatten(pb(**valid)), flatten(first))), f"{label}: state changed"


@pytest.mark.parametrize("fname", FUNCTIONS)
def test_every_array_argument_with_a_huge_zero_byte_shape(fname):
    """Each array argument in turn replaced by a zero-byte array with a dimension beyond int32:
    ValueError naming that argument and the size, before anything is computed."""
    fn = getattr(difflapack, fname)
    kw = build(fname, np.random.default_rng(0), np.float64, (2, 2, 2), dict(uplo="U", trans="N", diag="N", side="L"),
               (True, True, True))
    for name, value in kw.items():
        if not isinstance(value, np.ndarray) or name == "piv":
            continue
        for shape in [(HUGE, 0), (0, 2**31), (2**31,) + (0,) * (value.ndim - 1), (HUGE,)]:
            bad = dict(kw, **{name: huge(shape)})
            with pytest.raises(ValueError) as err:
                fn(**bad)
            msg = str(err.value)
            assert name in msg and str(max(shape)) in msg, (fname, name, shape, msg)


# ------------------------------------------------------------------ coverage guard
NOT_NUMERICAL = {"get_include", "get_library", "get_ilp64_library", "get_cmake_dir", "get_pkgconfig_dir",
                 "set_num_threads", "workspace_cache", "set_workspace_cache", "release_workspace"}
# no array data (set_num_threads: tests/test_api_guards.py; the workspace cache: tests/test_workspace.py)


def test_every_public_function_is_fuzzed():
    """Guard: every public function of the difflapack namespace is in FUNCTIONS (every vjp's
    pullback in PULLBACKS), and build() makes a valid call of each: exactly its required
    arguments, so that a function added later cannot fall through to another's problem."""
    public = {name for name, obj in vars(difflapack).items()
              if inspect.isfunction(obj) and not name.startswith("_")} - NOT_NUMERICAL
    assert public == set(FUNCTIONS), f"not fuzzed: {sorted(public - set(FUNCTIONS))}"
    assert set(PULLBACKS) == {name for name in public if name.endswith("_vjp")}
    flags = dict(uplo="L", trans="N", diag="N", side="L")
    for fname in FUNCTIONS:
        fn = getattr(difflapack, fname)
        params = inspect.signature(fn).parameters
        required = {n for n, p in params.items() if p.default is inspect.Parameter.empty and p.kind != p.KEYWORD_ONLY}
        kw = build(fname, np.random.default_rng(1), np.float64, (3, 3, 2), flags, (True, True, True))
        assert required <= set(kw) <= set(params), (fname, sorted(kw), sorted(params))
        result = fn(**kw)
        if fname in PULLBACKS:
            pb, valid = pullback_args(fname, result, np.random.default_rng(2))
            pb(**valid)


@pytest.mark.parametrize("fname", FUNCTIONS)
def test_check_finite_without_a_truth_value_names_it(fname):
    fn = getattr(difflapack, fname)
    kw = build(fname, np.random.default_rng(0), np.float64, (2, 2, 2), dict(uplo="U", trans="N", diag="N", side="L"),
               (True, True, True))
    with pytest.raises(ValueError, match=r"^check_finite must be True or False"):
        fn(**kw, check_finite=np.array([1, 2]))


# ------------------------------------------------------------------ routine rules
RULES = settings(max_examples=600, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow])
CHOLESKY = [name for name in cholesky.__all__]


def _junk_outside(rng, m, uplo, diag_imag):
    """m with random junk (NaN and inf included) in the triangle opposite to uplo and, with
    diag_imag, in the imaginary part of the diagonal: what the Cholesky functions never read."""
    out = np.array(m, copy=True)
    n = out.shape[0]
    other = np.triu_indices(n, 1) if uplo == "L" else np.tril_indices(n, -1)
    junk = rng.choice([np.nan, np.inf, -7.0, 1e30, 0.5], size=len(other[0]))
    with np.errstate(invalid="ignore"):  # inf * 1j
        out[other] = junk.astype(out.dtype) if out.dtype.kind == "f" else junk + 1j * junk[::-1]
    if diag_imag and out.dtype.kind == "c":
        out[np.diag_indices(n)] += 1j * rng.uniform(-3, 3, n)
    return out


def _only_in_triangle(m, uplo, label, real_diagonal=False):
    m = np.asarray(m)
    outside = np.triu(m, 1) if uplo == "L" else np.tril(m, -1)
    assert not outside.any(), f"{label}: nonzero outside the {uplo} triangle"
    if real_diagonal:
        assert not np.diagonal(m).imag.any(), f"{label}: complex diagonal"


@RULES
@given(st.sampled_from(CHOLESKY), st.integers(0, 2**32 - 1), st.sampled_from(DTYPES), st.integers(0, 5),
       st.integers(0, 3), st.sampled_from("UL"), st.tuples(st.booleans(), st.booleans()))
def test_cholesky_reads_and_writes_only_the_stored_triangle(fname, seed, dtype, n, nrhs, uplo, active):
    """The stored-triangle conventions of cholesky.py: the other triangle of a, da (and of c,
    dc for potrs) and Im of the diagonal of a, da, c_bar are not read (check_finite ignores
    them too), and every matrix result is zero outside the triangle; dc and a_bar have a real
    diagonal."""
    rng = np.random.default_rng(seed)
    flags = dict(uplo=uplo, trans="N", diag="N", side="L")
    kw = build(fname, rng, dtype, (n, n, nrhs), flags, active + (False,))
    fn = getattr(difflapack, fname)
    junk = dict(kw)
    for name in ("a", "da", "c", "dc"):
        if kw.get(name) is not None:
            junk[name] = _junk_outside(rng, kw[name], uplo, diag_imag=name in ("a", "da"))
    want, got = fn(**kw), fn(**junk)
    label = f"{fname}({dtype.__name__}, n={n}, uplo={uplo})"
    assert all(same(g, w) for g, w in zip(flatten(got), flatten(want))), f"{label}: reads outside the triangle"
    if fname in ("potrf", "posv", "potrf_vjp", "posv_vjp", "potrf_jvp", "posv_jvp"):
        c = got[0][0] if fname.endswith(("_vjp", "_jvp")) else got[0]
        _only_in_triangle(c, uplo, f"{label}: c")
    if fname in ("potrf_jvp", "posv_jvp"):
        dc = got[1] if fname == "potrf_jvp" else got[1][0]
        _only_in_triangle(dc, uplo, f"{label}: dc", real_diagonal=True)
    if fname in PULLBACKS:
        pb, valid = pullback_args(fname, got, rng)
        out = pb(**valid)
        if "c_bar" in valid:  # potrf_vjp, posv_vjp: c_bar's other triangle and Im diagonal are not read
            other = pb(**dict(valid, c_bar=_junk_outside(rng, valid["c_bar"], uplo, diag_imag=True)))
            assert all(same(g, w) for g, w in zip(flatten(other), flatten(out))), f"{label}: c_bar read outside"
        abar = out if fname == "potrf_vjp" else out[0]
        _only_in_triangle(abar, uplo, f"{label}: pullback", real_diagonal=fname != "potrs_vjp")


def _adjugate(a):
    n = a.shape[0]
    adj = np.zeros_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, 0), j, 1)
            adj[j, i] = (-1) ** (i + j) * (np.linalg.det(minor.astype(np.complex128)) if n > 1 else 1)
    return adj


SINGULAR = ["trtrs", "trtrs_jvp", "trtrs_vjp", "potrs", "potrs_jvp", "potrs_vjp", "potrf", "potrf_jvp", "potrf_vjp",
            "posv", "posv_jvp", "posv_vjp", "getri", "getri_jvp", "getri_vjp", "inv", "inv_jvp", "inv_vjp", "det",
            "det_jvp", "det_vjp", "slogdet", "slogdet_jvp", "slogdet_vjp", "gesv", "gesv_jvp", "gesv_vjp", "solve"]


@RULES
@given(st.sampled_from(SINGULAR), st.integers(0, 2**32 - 1), st.sampled_from(DTYPES), st.integers(1, 5),
       st.integers(0, 4), st.integers(0, 3), st.sampled_from("UL"))
def test_singular_and_not_positive_definite_inputs(fname, seed, dtype, n, j, nrhs, uplo):
    """info > 0 as the module docs define it, for an exactly zero pivot / diagonal entry at j
    (or a leading minor of order j+1 that is not positive)."""
    rng = np.random.default_rng(seed)
    j = min(j, n - 1)
    flags = dict(uplo=uplo, trans=str(rng.choice(list("NTC"))), diag="N", side="L")
    kw = build(fname, rng, dtype, (n, n, nrhs), flags, (True, True, True))
    fn = getattr(difflapack, fname)
    label = f"{fname}({dtype.__name__}, n={n}, j={j})"
    for name in ("da", "dlu", "dc", "db"):  # tangents: finite, nonzero
        if name in kw and kw[name] is None:
            kw[name] = _values(rng, kw["b"].shape if name == "db" else (n, n), dtype)
    if fname.startswith(("trtrs", "potrs", "getri")):
        key = {"t": "a", "p": "c", "g": "lu"}[fname[0]]
        kw[key] = np.array(kw[key])
        kw[key][j, j] = 0
        if fname.startswith("potrs") and nrhs == 0:  # quick return: nothing to solve, c not read
            fn(**kw)
            return
        with pytest.raises(SingularMatrixError) as err:
            fn(**kw)
        assert err.value.info == j + 1, label
        return
    if fname.startswith(("potrf", "posv")):
        kw["a"] = np.array(kw["a"])
        kw["a"][j, j] = -1  # the leading minors up to order j are positive, that of order j+1 is not
        if fname in ("potrf", "posv"):
            out = fn(**kw)
            assert out[-1] == j + 1, label
            _only_in_triangle(out[0], uplo, label)
            if fname == "posv":  # x is not computed: a copy of b
                assert np.array_equal(out[1], kw["b"]) and not np.may_share_memory(out[1], kw["b"]), label
            lead = np.tril(kw["a"][:j, :j]) if uplo == "L" else np.triu(kw["a"][:j, :j])
            lead = lead + lead.conj().T - np.diag(np.diagonal(lead).real + 1j * np.diagonal(lead).imag)
            c = np.linalg.cholesky(lead.astype(np.complex128))
            want = c if uplo == "L" else c.conj().T
            tol = 1e-4 if dtype in (np.float32, np.complex64) else 1e-12
            np.testing.assert_allclose(out[0][:j, :j], want, rtol=tol, atol=tol, err_msg=label)
        else:
            with pytest.raises(NotPositiveDefiniteError) as err:
                fn(**kw)
            assert err.value.info == j + 1, label
        return
    # a general matrix with column j zero: exactly singular, some zero pivot
    a = np.array(kw["a"])
    a[:, j] = 0
    kw["a"] = a
    if fname in ("inv", "inv_jvp", "inv_vjp", "gesv_jvp", "gesv_vjp", "solve"):
        with pytest.raises(SingularMatrixError) as err:
            fn(**kw)
        assert err.value.info >= 1, label
    elif fname == "gesv":
        lu_, piv, x, info = fn(**kw)
        assert info >= 1 and np.array_equal(x, kw["b"]) and not np.may_share_memory(x, kw["b"]), label
    elif fname == "det":
        assert fn(**kw) == 0, label
    elif fname == "slogdet":
        sign, logabsdet = fn(**kw)
        assert sign == 0 and logabsdet == -np.inf, label
    elif fname in ("det_jvp", "det_vjp"):
        # one zero pivot: the derivative is the adjugate, returned exactly (up to rounding)
        adj = _adjugate(a.astype(np.complex128))
        tol = 1e-3 if dtype in (np.float32, np.complex64) else 1e-9
        if fname == "det_jvp":
            d, dd = fn(**kw)
            assert d == 0, label
            want = np.trace(adj @ kw["da"])
            assert abs(dd - want) <= tol * (1 + abs(want)), (label, dd, want)
        else:
            d, pb = fn(**kw)
            got = pb(det_bar=dtype(1))
            want = adj.conj().T if got.dtype.kind == "c" else adj.T.real
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=label)
    elif fname == "slogdet_jvp":
        (sign, logabsdet), (dsign, dlogabsdet) = fn(**kw)
        assert sign == 0 and logabsdet == -np.inf and np.isnan(dlogabsdet), label
        assert (np.isnan(dsign) if np.dtype(dtype).kind == "c" else dsign == 0), label
    else:  # slogdet_vjp: NaN unless the cotangent is zero
        (sign, logabsdet), pb = fn(**kw)
        assert not pb(sign_bar=0, logabsdet_bar=0).any(), label
        assert np.isnan(pb(sign_bar=0, logabsdet_bar=1.0)).all(), label


@pytest.mark.parametrize("fname", PULLBACKS)
def test_none_cotangent_means_zero_in_every_pullback(fname):
    """Regression: solve_vjp's pullback took None as a zero cotangent but trtrs_vjp's and
    inv_vjp's raised ("x_bar must have shape (3,); got ()"). Every pullback, for each of its
    cotangents, gives for None exactly what it gives for zeros."""
    rng = np.random.default_rng(7)
    flags = dict(uplo="L", trans="T", diag="N", side="R", transa="C")
    for dtype in DTYPES:
        for nrhs in (1, 2):
            kw = build(fname, rng, dtype, (3, 2, nrhs), flags, (True, True, True))
            pb, cot = pullback_args(fname, getattr(difflapack, fname)(**kw), rng)
            for name in cot:
                zero = {**cot, name: np.zeros_like(cot[name])}
                none = {**cot, name: None}
                want, got = pb(**zero), pb(**none)
                for w, g in zip(want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)):
                    w, g = np.asarray(w), np.asarray(g)
                    assert g.dtype == w.dtype and g.shape == w.shape, (fname, dtype, name)
                    assert np.array_equal(g, w, equal_nan=True), (fname, dtype, nrhs, name)
