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
function; for a huge dimension, the argument and the size) or SingularMatrixError; nothing else,
no crash. Inputs are never modified and no result shares memory with them; array results have
the computation's dtype (pivots int32).
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
from difflapack import SingularMatrixError

FUNCTIONS = ["trsv", "trsv_jvp", "trsv_vjp", "trsm", "trsm_jvp", "trsm_vjp", "getrf", "getrf_jvp", "getrf_vjp",
             "getrs", "getrs_jvp", "getrs_vjp", "gesv", "gesv_jvp", "gesv_vjp", "solve", "solve_jvp", "solve_vjp"]
PULLBACKS = ["trsv_vjp", "trsm_vjp", "getrf_vjp", "getrs_vjp", "gesv_vjp", "solve_vjp"]
DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
FLAG_LETTERS = {"uplo": "UL", "trans": "NTC", "transa": "NTC", "diag": "NU", "side": "LR"}
PRIMAL = {"a", "b", "lu", "alpha"}  # the inputs whose dtypes choose the precision
HUGE = 2**32 + 3
SETTINGS = settings(max_examples=1500, deadline=None, derandomize=True, database=None,
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


def build(fname, rng, dtype, dims, flags, active):
    """The keyword arguments of a valid call of difflapack.<fname>."""
    n, m, nrhs = dims
    v = lambda *shape: _values(rng, shape, dtype)  # noqa: E731
    kw = {}
    if fname.startswith("trsv"):
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
                 np.array(2, dtype=object), np.datetime64(1, "s"), 1e300]


def huge(shape):
    """An array of that shape holding no memory: zero-byte, or a broadcast scalar (1-D)."""
    return np.empty(shape) if 0 in shape else np.broadcast_to(np.float64(1.0), shape)


def mutation(draw, kw, taken=()):
    """Replace one argument of kw (not one of `taken`): returns (name, kind, new value)."""
    name = draw(st.sampled_from(sorted(set(kw) - set(taken))))
    value = kw[name]
    if name in FLAG_LETTERS or name == "trans":
        return name, "flag", draw(st.sampled_from(FLAG_VALUES))
    if name in ("alpha", "dalpha"):
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
    check = draw(st.booleans())
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
        if value is None:
            out[name] = None
        elif name in FLAG_LETTERS or name == "trans":
            out[name] = (value.decode() if isinstance(value, bytes) else str(value)).upper()
        elif name == "piv":
            out[name] = np.array(value, dtype=np.int64)
        elif np.iscomplexobj(value) and dtype.kind != "c":
            raise ValueError("complex data of a real computation")
        elif name in ("alpha", "dalpha"):
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
    except SingularMatrixError as exc:
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
    """dtypes documented for results; no result shares memory with an input."""
    inputs = [v for v in kw.values() if isinstance(v, np.ndarray)]
    for item in flatten(result):
        if isinstance(item, np.ndarray):
            if item.dtype.kind in "iu":
                assert item.dtype == np.int32, f"{label}: pivots of dtype {item.dtype}"
            else:
                assert item.dtype == dt, f"{label}: result of dtype {item.dtype}, computation {dt}"
            for inp in inputs:
                assert not np.may_share_memory(item, inp), f"{label}: a result shares memory with an input"
        elif isinstance(item, np.generic):
            assert item.dtype == dt, f"{label}: scalar result of dtype {item.dtype}, computation {dt}"
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
    label = describe(fname, kw, mutated)
    argnames = set(inspect.signature(fn).parameters)
    run_one(fn, kw, argnames, label, mutated, expected_dtype)


@SETTINGS
@given(cases(PULLBACKS), st.data())
def test_pullbacks_with_hostile_cotangents(case, data):
    fname, seed, dtype, dims, flags, active, check, n_mut = case
    rng = np.random.default_rng(seed)
    kw = build(fname, rng, dtype, dims, flags, active)
    try:
        result = getattr(difflapack, fname)(**kw, check_finite=check)
    except SingularMatrixError:
        return
    pb, valid = pullback_args(fname, result, rng)
    first = pb(**valid)  # the valid pullback, twice: "may be called any number of times"
    again = pb(**valid)
    assert all(same(a, b) for a, b in zip(flatten(first), flatten(again))), f"{fname}: pullback not repeatable"
    bad, mutated = mutate(data, valid, 1)
    label = describe(fname + " pullback", bad, mutated)
    dt = next(v for v in valid.values()).dtype  # the vjp's computation
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
