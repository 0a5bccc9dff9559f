"""Shared test helpers: well-conditioned generators, central differences, dot-product tests,
tolerances scaled by the condition number."""
from __future__ import annotations

import ctypes

import numpy as np

EPS = np.finfo(np.float64).eps


def sc(value, ctype=ctypes.c_double):
    """A scalar passed by address to a C kernel (kept alive by the returned pointer object)."""
    return ctypes.pointer(ctype(value))


def rng(seed=0):
    return np.random.default_rng(seed)


def triangular(n, uplo="U", unit=False, seed=0, lda=None):
    """A well-conditioned n x n triangle (kappa ~ O(1)) stored in a full array whose other
    triangle holds GARBAGE, to prove the kernels never read it. With lda > n, returns the
    n x n view of an lda x n Fortran array."""
    r = rng(seed)
    full = r.standard_normal((lda or n, n))
    a = full[:n, :n] if lda else full
    a = np.asfortranarray(a) if not lda else a
    tri = np.triu if uplo.upper() == "U" else np.tril
    t = tri(r.standard_normal((n, n))) / np.sqrt(max(n, 1))
    np.fill_diagonal(t, np.sign(r.standard_normal(n)) * (1.5 + r.random(n)))
    mask = tri(np.ones((n, n), dtype=bool))
    a[mask] = t[mask]
    if unit:
        np.fill_diagonal(a, 7.0 + r.random(n))  # garbage the kernel must ignore
    return a


def referenced_triangle(a, uplo="U", unit=False):
    """The matrix BLAS actually uses: the uplo triangle, with ones on the diagonal if unit."""
    tri = np.triu if uplo.upper() == "U" else np.tril
    t = tri(np.asarray(a))
    if unit:
        np.fill_diagonal(t, 1.0)
    return t


def general(m, n, seed=0, pivoting=True):
    """A well-conditioned m x n matrix; with pivoting=True its first column is small so that
    partial pivoting must swap rows."""
    r = rng(seed)
    a = r.standard_normal((m, n))
    k = min(m, n)
    a[:k, :k] += 2.0 * np.sqrt(max(k, 1)) * np.eye(k)[:, ::-1] if pivoting and k > 1 else 3.0 * np.eye(k)
    if pivoting and m > 1 and n > 0:
        a[0, 0] = 1e-3
    return a


def cond(a):
    a = np.asarray(a, dtype=float)
    if a.size == 0:
        return 1.0
    return float(np.linalg.cond(a))


def tol(kappa, factor=1.0):
    """Relative tolerance for an exact derivative (dot-product tests, oracles)."""
    return factor * 1e3 * max(kappa, 1.0) * EPS


def fd_tol(kappa):
    """Relative tolerance for central differences with step ~ eps^(1/3): truncation ~ h^2
    and rounding ~ eps/h, both amplified by kappa^2 at most for a solve."""
    return 1e-6 * max(kappa, 1.0) ** 2


def central_difference(f, xs, dxs, h=None):
    """(f(x + h dx) - f(x - h dx)) / 2h for f returning an array or a tuple of arrays.
    `xs`/`dxs` are tuples; entries of dxs may be None (held constant)."""
    if h is None:
        h = EPS ** (1.0 / 3.0)
    plus = [x if d is None else x + h * d for x, d in zip(xs, dxs)]
    minus = [x if d is None else x - h * d for x, d in zip(xs, dxs)]
    fp, fm = f(*plus), f(*minus)
    if isinstance(fp, tuple):
        return tuple((np.asarray(p) - np.asarray(m)) / (2 * h) for p, m in zip(fp, fm))
    return (np.asarray(fp) - np.asarray(fm)) / (2 * h)


def inner(a, b):
    """Sum over a tuple of arrays of <a_i, b_i>; None entries contribute 0."""
    if not isinstance(a, tuple):
        a, b = (a,), (b,)
    return float(sum(np.vdot(np.asarray(x), np.asarray(y)) for x, y in zip(a, b) if x is not None and y is not None))


def relerr(got, want):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    scale = max(np.abs(want).max(initial=0.0), 1e-300)
    return float(np.abs(got - want).max(initial=0.0) / max(scale, 1.0 if scale < 1e-12 else scale))


def assert_close(got, want, rtol, what=""):
    err = relerr(got, want)
    assert err <= rtol, f"{what}: relative error {err:.3e} > {rtol:.3e}"


def assert_dot_product(jv, v_w, rtol, what=""):
    """<J v, w> == <v, J^T w>: pass the two scalars."""
    lhs, rhs = jv, v_w
    scale = max(abs(lhs), abs(rhs), 1e-300)
    assert abs(lhs - rhs) <= rtol * max(scale, 1.0), f"{what}: <Jv,w>={lhs!r} vs <v,J^T w>={rhs!r}"
