"""Part 1 of ``python -m difflapack demo``: every NumPy rule, in float32, float64, complex64
and complex128, against finite differences.

The reference is always computed in double precision (float64 / complex128) at the same point
(the inputs rounded to the dtype first), so that a single-precision rule is compared with the
derivative of the function it computes, not with rounding noise. Complex rules are checked
along a real AND an imaginary direction (d and i d). jvp: relative error of the tangent against
a fourth-order central difference; vjp: the dot-product test Re<w, J v> (J v by finite
differences) = Re<x_bar, v> (x_bar from the pullback of w), the cotangent convention of the
package (z_bar = dL/dRe z + i dL/dIm z).
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

DTYPES = (np.float32, np.float64, np.complex64, np.complex128)
TOLERANCE = {np.float32: 1e-4, np.complex64: 1e-4, np.float64: 1e-7, np.complex128: 1e-7}
NRHS = 3


@dataclasses.dataclass
class Rule:
    name: str
    formula: str
    inputs: list  # the differentiated inputs, in the rule's dtype
    primal: Callable  # (*inputs) -> list of outputs (evaluated in double precision for the reference)
    jvp: Callable  # (inputs, tangents) -> list of output tangents
    vjp: Callable  # (*inputs) -> pullback: (*output cotangents) -> input cotangents


def _rules(dtype, n: int, seed: int) -> list[Rule]:
    """The five routines for one dtype; the same real data for every dtype, complex dtypes add
    imaginary parts."""
    import difflapack as dl

    r = np.random.default_rng(seed)
    A = r.standard_normal((n, n)) + 2 * np.sqrt(n) * np.eye(n)[:, ::-1]  # pivoting needed, well conditioned
    U = np.triu(r.standard_normal((n, n))) / np.sqrt(n) + np.diag(1.5 + r.random(n))
    b, B, alpha = r.standard_normal(n), r.standard_normal((n, NRHS)), np.array([1.3])
    if np.issubdtype(dtype, np.complexfloating):
        A, U, b, B, alpha = (x + 0.5j * r.standard_normal(x.shape) for x in (A, U, b, B, alpha))
    A, U, b, B, alpha = (x.astype(dtype) for x in (A, U, b, B, alpha))
    lu, piv, _ = dl.getrf(A)  # getrs: the dtype's own factors and pivots

    def trsm_pullback(u, v, a):
        pullback = dl.trsm_vjp(u, v, alpha=a[0])[1]
        return lambda w: (lambda ub, vb, ab: (ub, vb, np.array([ab])))(*pullback(w))

    def gesv_pullback(a, v):
        pullback = dl.gesv_vjp(a, v)[1]
        return lambda xbar, lubar: pullback(xbar, lu_bar=lubar)

    return [
        Rule("trsv", "x = U^-1 b", [U, b], lambda u, v: [dl.trsv(u, v)],
             lambda x, d: [dl.trsv_jvp(*x, *d)[1]], lambda u, v: dl.trsv_vjp(u, v)[1]),
        Rule("trsm", "X = alpha U^-1 B", [U, B, alpha], lambda u, v, a: [dl.trsm(u, v, alpha=a[0])],
             lambda x, d: [dl.trsm_jvp(x[0], x[1], d[0], d[1], d[2][0], alpha=x[2][0])[1]], trsm_pullback),
        Rule("getrf", "P L U = A", [A], lambda a: [dl.getrf(a)[0]],
             lambda x, d: [dl.getrf_jvp(x[0], d[0])[1]], lambda a: (lambda w: (dl.getrf_vjp(a)[1](w),))),
        Rule("getrs", "x = (P L U)^-1 b", [lu, b], lambda f, v: [dl.getrs(f, piv, v)],
             lambda x, d: [dl.getrs_jvp(x[0], piv, x[1], d[0], d[1])[1]],
             lambda f, v: dl.getrs_vjp(f, piv, v)[1]),
        Rule("gesv", "x = A^-1 b, and LU", [A, b], lambda a, v: (lambda f, p, x, info: [x, f])(*dl.gesv(a, v)),
             lambda x, d: (lambda dlu, dx: [dx, dlu])(*dl.gesv_jvp(*x, *d)[1]), gesv_pullback),
    ]


def _fd(f, xs, ds, h=1e-4):
    """Fourth-order central differences of f (a list of arrays) along ds."""
    def at(t):
        return [np.asarray(o) for o in f(*[x + t * d for x, d in zip(xs, ds)])]

    p1, m1, p2, m2 = at(h), at(-h), at(2 * h), at(-2 * h)
    return [(8 * (a - b) - (c - e)) / (12 * h) for a, b, c, e in zip(p1, m1, p2, m2)]


def _re_dot(xs, ys) -> float:
    return float(sum(np.vdot(x, y).real for x, y in zip(xs, ys)))


def check(rule: Rule, seed: int = 1) -> tuple[float, float]:
    """(jvp error, vjp error) of one rule, the worst over the directions."""
    r = np.random.default_rng(seed)
    dtype = rule.inputs[0].dtype
    complex_ = np.issubdtype(dtype, np.complexfloating)
    xs_wide = [x.astype(np.complex128 if complex_ else np.float64) for x in rule.inputs]  # the same point
    base = [r.standard_normal(x.shape) for x in rule.inputs]
    directions = [base] + ([[1j * d for d in base]] if complex_ else [])
    outs = rule.primal(*rule.inputs)
    w = [r.standard_normal(o.shape) + (1j * r.standard_normal(o.shape) if complex_ else 0) for o in outs]
    xbar = rule.vjp(*rule.inputs)(*[wi.astype(dtype) for wi in w])
    jvp_err = vjp_err = 0.0
    for d in directions:
        ref = _fd(rule.primal, xs_wide, d)
        tan = rule.jvp(rule.inputs, [di.astype(dtype) for di in d])
        jvp_err = max(jvp_err, max(float(np.max(np.abs(t - f))) for t, f in zip(tan, ref))
                      / max(float(np.max(np.abs(f))) for f in ref))
        lhs, rhs = _re_dot(w, ref), _re_dot(xbar, d)
        vjp_err = max(vjp_err, abs(lhs - rhs) / max(abs(lhs), abs(rhs), 1e-300))
    return jvp_err, vjp_err


def numpy_section(n: int = 6, seed: int = 7, out=print) -> bool:
    """Print the error table; True if every rule is within its dtype's tolerance."""
    out(f"Part 1 - NumPy API, n = {n}: relative error of jvp (vs 4th-order central differences) / vjp "
        "(dot-product test)")
    out("  reference in float64/complex128 at the same point; complex: along real and imaginary directions; "
        f"tolerance {TOLERANCE[np.float32]:.0e} (single), {TOLERANCE[np.float64]:.0e} (double)")
    out(f"  {'routine':7s} {'computes':19s}" + "".join(f" {np.dtype(t).name:>19s}" for t in DTYPES))
    per_dtype = [_rules(t, n, seed) for t in DTYPES]
    ok = True
    for row in zip(*per_dtype):
        cells = []
        for rule, dtype in zip(row, DTYPES):
            e1, e2 = check(rule)
            good = e1 < TOLERANCE[dtype] and e2 < TOLERANCE[dtype]
            ok &= good
            cells.append(f"{e1:.0e} / {e2:.0e} {'✓' if good else '✗'}")
        out(f"  {row[0].name:7s} {row[0].formula:19s}" + "".join(f" {c:>19s}" for c in cells))
    return ok
