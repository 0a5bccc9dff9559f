"""Property tests of the NumPy API over random routines, shapes (including 0), flags, memory
layouts (C, Fortran, negative strides, non-contiguous views), input dtypes (bool, int,
float16 ... complex128, mixed) and scales (1e-150 .. 1e150 for double precision, 1e-15 .. 1e15
for single):

* the dtype of every output is the promoted precision (np.result_type; float16 -> float32,
  int/bool -> float64);
* inputs (primals, tangents, cotangents, and the buffers behind views) are never modified;
* layout invariance: any layout gives bitwise the result of contiguous copies;
* jvp linearity in the tangent: J(2v) == 2 J(v) bitwise (scaling by 2 is exact, so any
  difference would mean the rule does not treat the tangent linearly), and
  J(1e-12 v) == 1e-12 J(v) to C * kappa * eps (no cancellation between O(1) quantities);
  the same for the pullback;
* jvp and vjp agree: the dot-product test Re<J v, w> = Re<v, J^H w>.

Deterministic (derandomize=True, no example database) and small (max_examples modest).
"""
import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import difflapack as dl  # noqa: E402
from _util import assert_re_dot, eps_of, rel_err, single_threaded_blas  # noqa: E402
from test_getrf import unpack  # noqa: E402

C = 30.0
SETTINGS = settings(max_examples=80, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

INPUT_DTYPES = [np.bool_, np.int8, np.int32, np.int64, np.float16, np.float32, np.float64, np.complex64,
                np.complex128, np.dtype(">f4"), np.dtype(">f8"), np.dtype(">c16")]   # big-endian too
LAYOUTS = ["C", "F", "neg", "strided", "strided_neg"]
SIZES = [0, 1, 2, 3, 5, 8, 13]


@pytest.fixture(scope="module", autouse=True)
def _one_blas_thread():
    with single_threaded_blas():
        yield


def expected_precision(*dtypes):
    """The documented rule: np.result_type, then float16 -> float32, int/bool -> float64."""
    dt = np.result_type(*dtypes)
    if dt.kind == "c":
        return np.dtype(np.complex64 if dt.itemsize <= 8 else np.complex128)
    if dt.kind == "f":
        return np.dtype(np.float32 if dt.itemsize <= 4 else np.float64)
    return np.dtype(np.float64)


def with_layout(arr, kind):
    """A view equal to arr in the requested memory layout (its own buffer)."""
    arr = np.asarray(arr)
    if arr.ndim == 0 or kind == "C":
        return np.ascontiguousarray(arr)
    if kind == "F":
        return np.asfortranarray(arr)
    rev = (slice(None, None, -1),) * arr.ndim
    if kind == "neg":
        return arr[rev].copy()[rev]
    big = np.zeros(tuple(2 * s + 1 for s in arr.shape), dtype=arr.dtype)
    every2 = (slice(None, None, 2),) * arr.ndim if kind == "strided" else (slice(None, None, -2),) * arr.ndim
    view = big[every2][tuple(slice(0, s) for s in arr.shape)]
    view[...] = arr
    return view


def cast_values(x, dtype):
    """Data of the drawn dtype: rounding for ints, a threshold for bools."""
    dtype = np.dtype(dtype)
    x = np.asarray(x)
    if dtype == np.bool_:
        return np.real(x) > 0
    if dtype.kind in "iu":
        return np.rint(np.real(x)).astype(dtype)
    if dtype.kind == "f":
        return np.real(x).astype(dtype)
    return x.astype(dtype)


def triangle_values(r, n, uplo, unit, dtype):
    """A well-conditioned triangle representable in `dtype` (garbage in the other triangle)."""
    tri = np.triu if uplo == "U" else np.tril
    dt = np.dtype(dtype)
    if dt == np.bool_:
        t = tri(r.random((n, n)) < 0.3, 1 if uplo == "U" else -1) | np.eye(n, dtype=bool)
        garbage = r.random((n, n)) < 0.5
    elif dt.kind in "iu":
        t = tri(r.integers(-1, 2, (n, n)), 1 if uplo == "U" else -1) + np.diag(r.choice([-4, -3, 3, 4], n))
        garbage = r.integers(-9, 10, (n, n))
    else:
        off = tri(r.standard_normal((n, n)), 1 if uplo == "U" else -1) / max(n, 1)
        if dt.kind == "c":
            off = off + 1j * tri(r.standard_normal((n, n)), 1 if uplo == "U" else -1) / max(n, 1)
        t = off + np.diag(r.choice([-1.0, 1.0], n) * (1.5 + r.random(n)))
        garbage = 9.0 * r.standard_normal((n, n))
    mask = tri(np.ones((n, n), dtype=bool))
    a = np.where(mask, t, garbage)
    if unit:
        a[np.diag_indices(n)] = garbage[np.diag_indices(n)]
    return cast_values(a, dt)


def general_values(r, m, n, dtype):
    """A well-conditioned m x n matrix representable in `dtype` that needs row swaps."""
    dt = np.dtype(dtype)
    k = min(m, n)
    if dt == np.bool_:
        a = r.random((m, n)) < 0.2
        a[:k, :k] = (np.triu(r.random((k, k)) < 0.3, 1) | np.eye(k, dtype=bool))[::-1]
        a[k:, :] = False
        return a
    a = r.standard_normal((m, n))
    if dt.kind == "c":
        a = a + 1j * r.standard_normal((m, n))
    if k:
        a[:k, :k] += 3.0 * max(k, 1) ** 0.5 * np.eye(k)[::-1]
    return cast_values(a, dt)


def kappa_of(m):
    m = np.asarray(m)
    return 1.0 if m.size == 0 else float(np.linalg.cond(m.astype(complex)))


def lu_kappa(lu, piv):
    k = min(lu.shape)
    if k == 0:
        return 1.0
    L, U, _ = unpack(np.asarray(lu, dtype=complex), piv)
    return kappa_of(L[:k, :k]) * kappa_of(U[:, :k])


def referenced(a, uplo, diag):
    t = (np.triu if uplo == "U" else np.tril)(np.asarray(a, dtype=complex))
    if diag == "U":
        np.fill_diagonal(t, 1.0)
    return t


# ------------------------------------------------------------------ problems
class Problem:
    """One drawn call: its primals (arrays in their drawn layouts), jvp(tangents) -> tuple of
    tangent outputs, vjp() -> pullback(*cotangents) -> tuple of input cotangents, the shapes of
    tangents and cotangents, the primals the tangents are scaled like, the condition scale and
    the expected precision."""

    def __init__(self, name, primals, jvp, vjp, tangent_shapes, cotangent_shapes, kappa, prec, scale_like=None,
                 inputs=None, real_outputs=()):
        self.name, self.primals, self.jvp = name, primals, jvp
        # outputs that are real whatever the precision (slogdet's logabsdet): real tangents
        # and cotangents
        self.real_outputs = real_outputs
        self.tangent_shapes, self.cotangent_shapes, self.kappa, self.prec = tangent_shapes, cotangent_shapes, kappa, prec
        self.scale_like = primals if scale_like is None else scale_like
        # the differentiable inputs, in the order of the tangents and of the pullback's results:
        # a real one (array or NumPy scalar; Python scalars are weak) has real tangents here and
        # gets a real cotangent (README: real inputs of a complex computation)
        inputs = primals if inputs is None else inputs
        self.real_inputs = tuple(type(x) not in (bool, int, float, complex) and not np.iscomplexobj(x)
                                 for x in inputs)

        def vjp_tuple():
            pb = vjp()

            def pullback(*w):
                out = pb(*w)
                return out if isinstance(out, tuple) else (out,)
            return pullback
        self.vjp = vjp_tuple

    def cotangent_dtype(self, i):
        real = i < len(self.real_inputs) and self.real_inputs[i] and self.prec.kind == "c"
        return np.real(np.zeros((), self.prec)).dtype if real else self.prec

    def output_dtype(self, i):
        real = i < len(self.real_outputs) and self.real_outputs[i]
        return np.real(np.zeros((), self.prec)).dtype if real else self.prec


ROUTINES = ["trsv", "trsm", "getrf", "getrs", "gesv", "solve"]
FLOAT_DTYPES = [np.float32, np.float64, np.complex64, np.complex128]


def draw_setting(draw, scaled):
    """What every drawn problem starts from: (rng, dtype of a, dtype of b, layouts of a and b,
    n, floats (both dtypes float32+), single (one of them single precision), the scale exponent:
    0 unless floats; within 1e+-150 in double, 1e+-15 in single)."""
    r = np.random.default_rng(draw(st.integers(0, 2 ** 31 - 1)))
    dtypes = FLOAT_DTYPES if scaled else INPUT_DTYPES
    da_t, db_t = draw(st.sampled_from(dtypes)), draw(st.sampled_from(dtypes))
    la, lb = draw(st.sampled_from(LAYOUTS)), draw(st.sampled_from(LAYOUTS))
    n = draw(st.sampled_from(SIZES))
    floats = all(np.dtype(t).kind in "fc" and np.dtype(t).itemsize > 2 for t in (da_t, db_t))
    single = any(np.dtype(t).itemsize == (4 if np.dtype(t).kind == "f" else 8) for t in (da_t, db_t))
    exps = [-15, -8, -3, 0, 3, 8, 15] if single else [-150, -100, -50, -20, -7, 0, 7, 20, 50, 100, 150]
    exp = draw(st.sampled_from(exps) | st.integers(exps[0], exps[-1])) if floats else 0
    return r, da_t, db_t, la, lb, n, floats, single, exp


@st.composite
def problems(draw, routine, scaled=False):
    """A drawn call of `routine`; scaled=True draws only float32/64/complex64/128 inputs, so
    that every example is scaled (1e-150 .. 1e150 in double, 1e-15 .. 1e15 in single)."""
    r, da_t, db_t, la, lb, n, floats, single, exp = draw_setting(draw, scaled)
    scale = 10.0 ** exp
    if routine == "trsv" or routine == "trsm":
        uplo, trans, diag = draw(st.sampled_from("UL")), draw(st.sampled_from("NTC")), draw(st.sampled_from("NU"))
        a = triangle_values(r, n, uplo, diag == "U", da_t)
        kappa = kappa_of(referenced(a, uplo, diag))
        if floats and diag == "N":   # a unit diagonal does not scale with the rest: then only b does
            a = (a * scale).astype(da_t)
        if routine == "trsv":
            b = cast_values(r.standard_normal(n) * (3 if np.dtype(db_t).kind in "iub" else 1), db_t)
            if floats:
                b = (b * scale).astype(db_t)
            prec = expected_precision(a.dtype, b.dtype)
            primals = (with_layout(a, la), with_layout(b, lb))
            return Problem(
                f"trsv {uplo}{trans}{diag} n={n} {a.dtype}/{b.dtype} {la}/{lb} s=1e{exp}", primals,
                lambda t: (dl.trsv_jvp(*primals, *t, uplo, trans, diag)[1],),
                lambda: (dl.trsv_vjp(*primals, uplo, trans, diag)[1]),
                [(n, n), (n,)], [(n,)], kappa, prec)
        side = draw(st.sampled_from("LR"))
        other = draw(st.sampled_from([0, 1, 3]))
        m_, n_ = (n, other) if side == "L" else (other, n)
        b = cast_values(r.standard_normal((m_, n_)) * (3 if np.dtype(db_t).kind in "iub" else 1), db_t)
        if floats:
            b = (b * scale).astype(db_t)
        alpha = draw(st.sampled_from([1.0, -0.5, 2, 0.75j, np.float32(1.5), np.complex64(1 - 1j), 0.0]))
        if floats and alpha != 0 and not isinstance(alpha, int):   # alpha far from 1 too (X = alpha op(A)^{-1} B stays in range)
            small = single or isinstance(alpha, (np.float32, np.complex64))
            alpha = type(alpha)(alpha * 10.0 ** draw(st.sampled_from([0, -7, 7] if small else [0, -70, 70])))
        prec = expected_precision(a.dtype, b.dtype, alpha)
        primals = (with_layout(a, la), with_layout(b, lb))
        return Problem(
            f"trsm {side}{uplo}{trans}{diag} {m_}x{n_} alpha={alpha!r} {a.dtype}/{b.dtype} {la}/{lb} s=1e{exp}",
            primals + (alpha,),
            lambda t: (dl.trsm_jvp(*primals, *t, alpha, side, uplo, trans, diag)[1],),
            lambda: dl.trsm_vjp(*primals, alpha, side, uplo, trans, diag)[1],
            [(n, n), (m_, n_), ()], [(m_, n_)], kappa, prec)
    if routine == "getrf":
        m = draw(st.sampled_from(SIZES))
        a = general_values(r, m, n, da_t)
        lu, piv, _ = dl.getrf(a)
        kappa = lu_kappa(lu, piv)
        if floats:
            a = (a * scale).astype(da_t)
        primals = (with_layout(a, la),)
        return Problem(f"getrf {m}x{n} {a.dtype} {la} s=1e{exp}", primals,
                       lambda t: (dl.getrf_jvp(*primals, *t)[1],),
                       lambda: dl.getrf_vjp(*primals)[1],
                       [(m, n)], [(m, n)], kappa, expected_precision(a.dtype))
    nrhs = draw(st.sampled_from([None, 1, 2]))
    shape = (n,) if nrhs is None else (n, nrhs)
    a = general_values(r, n, n, da_t)
    b = cast_values(r.standard_normal(shape) * (3 if np.dtype(db_t).kind in "iub" else 1), db_t)
    if floats:
        a, b = (a * scale).astype(da_t), (b * scale).astype(db_t)
    lu, piv, _ = dl.getrf(a)
    kappa = max(kappa_of(a), lu_kappa(lu, piv))
    if routine == "getrs":
        trans = draw(st.sampled_from("NTC"))
        prec = expected_precision(lu.dtype, b.dtype)
        primals = (with_layout(lu, la), piv, with_layout(b, lb))
        return Problem(f"getrs {trans} {shape} {lu.dtype}/{b.dtype} {la}/{lb} s=1e{exp}", primals,
                       lambda t: (dl.getrs_jvp(*primals, *t, trans)[1],),
                       lambda: dl.getrs_vjp(*primals, trans)[1],
                       [(n, n), shape], [shape], kappa, prec, scale_like=(lu, b), inputs=(primals[0], primals[2]))
    prec = expected_precision(a.dtype, b.dtype)
    primals = (with_layout(a, la), with_layout(b, lb))
    if routine == "gesv":
        return Problem(f"gesv {shape} {a.dtype}/{b.dtype} {la}/{lb} s=1e{exp}", primals,
                       lambda t: dl.gesv_jvp(*primals, *t)[1],
                       lambda: (lambda pb: (lambda wlu, wx: pb(wx, wlu)))(dl.gesv_vjp(*primals)[1]),
                       [(n, n), shape], [(n, n), shape], kappa, prec)
    return Problem(f"solve {shape} {a.dtype}/{b.dtype} {la}/{lb} s=1e{exp}", primals,
                   lambda t: (dl.solve_jvp(*primals, *t)[1],),
                   lambda: dl.solve_vjp(*primals)[1],
                   [(n, n), shape], [shape], kappa, prec)


def rand_like(r, shape, prec, tangent_dtype=None):
    v = r.standard_normal(shape)
    if prec.kind == "c":
        v = v + 1j * r.standard_normal(shape)
    return np.asarray(v, dtype=tangent_dtype or prec)


def snapshot(objs):
    """Copies of every array and of the buffer behind every view."""
    out = []
    for x in objs:
        if isinstance(x, np.ndarray):
            out.append((x, x.copy(), x.base, None if x.base is None else np.array(x.base, copy=True)))
    return out


def assert_unchanged(snap, what):
    for x, c, base, base_c in snap:
        np.testing.assert_array_equal(x, c, err_msg=f"{what}: an input was modified")
        if base is not None and isinstance(base, np.ndarray):
            np.testing.assert_array_equal(base, base_c, err_msg=f"{what}: a view's buffer was modified")


def tangents_for(p, r):
    """Tangents shaped like the inputs (scaled like their primal), in the computation's
    precision, with a zero imaginary part for a real input (its perturbations are real)."""
    out = []
    for i, (shape, x) in enumerate(zip(p.tangent_shapes, p.scale_like)):
        mag = float(np.abs(np.asarray(x, dtype=complex)).max(initial=0.0)) if np.size(x) else 1.0
        v = rand_like(r, shape, p.prec) * (mag if mag > 0 else 1.0)
        if i < len(p.real_inputs) and p.real_inputs[i] and p.prec.kind == "c":
            v = np.asarray(v.real, dtype=p.prec)
        out.append(v[()] if shape == () else v)
    return tuple(out)


def term_scales(p, v):
    """Per tangent output: sum over the inputs of max |J_i v_i| (each input's tangent alone),
    the size of the terms the output is a sum of; cancellation between them must not count as
    an error of the rule."""
    totals = None
    for i in range(len(v)):
        alone = tuple(x if j == i else None for j, x in enumerate(v))
        outs = p.jvp(alone)
        sizes = [float(np.abs(np.asarray(o)).max(initial=0.0)) for o in outs]
        totals = sizes if totals is None else [t + z for t, z in zip(totals, sizes)]
    return totals


def check_properties(p, seed, tangent_layout):
    r = np.random.default_rng(seed)
    what = p.name
    if os.environ.get("DL_HYP_LOG"):
        with open(os.environ["DL_HYP_LOG"], "a") as f:
            f.write(what + f" | tangents {tangent_layout}\n")
    eps = eps_of(p.prec)
    tol = C * max(p.kappa, 1.0) * eps
    v = tangents_for(p, r)
    v_in = tuple(x if np.ndim(x) == 0 else with_layout(x, tangent_layout) for x in v)
    w = tuple(rand_like(r, s, p.prec).real.astype(p.output_dtype(i)) if p.output_dtype(i) != p.prec
              else rand_like(r, s, p.prec) for i, s in enumerate(p.cotangent_shapes))
    w_in = tuple(x if np.ndim(x) == 0 else with_layout(x, tangent_layout) for x in w)
    snap = snapshot(list(p.primals) + list(v_in) + list(w_in))

    jv = p.jvp(v_in)
    for i, out in enumerate(jv):
        want = p.output_dtype(i)
        assert np.asarray(out).dtype == want, f"{what}: tangent dtype {np.asarray(out).dtype} != {want}"
        assert np.all(np.isfinite(out)), f"{what}: non-finite tangent"
    pullback = p.vjp()
    jtw = pullback(*w_in)
    for i, out in enumerate(jtw):
        want = p.cotangent_dtype(i)
        assert np.asarray(out).dtype == want, f"{what}: cotangent dtype {np.asarray(out).dtype} != {want}"
        assert np.all(np.isfinite(out)), f"{what}: non-finite cotangent"
    assert_unchanged(snap, what)

    # layout invariance: contiguous copies of the tangents/cotangents give bitwise the same
    for got, want in zip(jv, p.jvp(tuple(np.ascontiguousarray(x) if np.ndim(x) else x for x in v))):
        np.testing.assert_array_equal(got, want, err_msg=f"{what}: tangent depends on the layout")
    for got, want in zip(jtw, pullback(*(x if np.ndim(x) == 0 else np.ascontiguousarray(x) for x in w))):
        np.testing.assert_array_equal(got, want, err_msg=f"{what}: cotangent depends on the layout")

    # linearity: exact for a factor 2, to rounding for 1e-12
    for got, want in zip(p.jvp(tuple(2 * x for x in v)), jv):
        np.testing.assert_array_equal(got, 2 * np.asarray(want), err_msg=f"{what}: J(2v) != 2 J(v)")
    for got, want in zip(pullback(*(2 * x for x in w)), jtw):
        np.testing.assert_array_equal(got, 2 * np.asarray(want), err_msg=f"{what}: J^H(2w) != 2 J^H(w)")
    s = 1e-12
    terms = term_scales(p, v)
    for got, want, scale in zip(p.jvp(tuple(s * np.asarray(x, dtype=p.prec) if np.ndim(x) else p.prec.type(s * x)
                                            for x in v)), jv, terms):
        err = rel_err(np.asarray(got, dtype=complex) / s, want, scale)
        assert err <= tol, f"{what}: J(1e-12 v) / 1e-12 vs J(v): {err:.3e} > {tol:.3e}"

    # jvp and vjp agree: Re<J v, w> = Re<v, J^H w> (v as the rule saw it: in its precision)
    v_prec = tuple(np.asarray(x, dtype=p.prec) for x in v)
    assert_re_dot(tuple(jv), w, v_prec, jtw, tol, what)


def run_properties(problem_strategy, max_examples):
    """check_properties over `max_examples` drawn problems, with drawn seeds and tangent layouts."""
    @settings(SETTINGS, max_examples=max_examples)
    @given(problem_strategy, st.integers(0, 2 ** 31 - 1), st.sampled_from(LAYOUTS))
    def run(p, seed, tangent_layout):
        check_properties(p, seed, tangent_layout)
    run()


@pytest.mark.parametrize("routine", ROUTINES)
def test_properties(routine):
    """Random dtypes (bool ... complex128, mixed), layouts, shapes and flags of one routine."""
    run_properties(problems(routine), 80)


@pytest.mark.parametrize("routine", ROUTINES)
def test_properties_extreme_scales(routine):
    """Float inputs only, every example scaled by 10^k, |k| <= 150 (double) or 15 (single)."""
    run_properties(problems(routine, scaled=True), 50)
