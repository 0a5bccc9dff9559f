"""The benchmark problems: inputs, tangents and cotangents as Fortran-ordered NumPy arrays of one
precision, shared by every path (C kernels, NumPy API, JAX, PyTorch) so that they all solve the
same problem."""
from __future__ import annotations

import numpy as np

from .spec import DTYPES, NRHS_ROUTINES


def _rng(seed):
    return np.random.default_rng(seed)


def _normal(r, shape, complex_):
    """Standard normal entries; complex: real and imaginary parts each N(0, 1/2)."""
    if not complex_:
        return r.standard_normal(shape)
    return (r.standard_normal(shape) + 1j * r.standard_normal(shape)) / np.sqrt(2)


def _general(n, seed, complex_):
    """Well-conditioned n x n matrix that still needs row swaps (pivoting is exercised)."""
    a = _normal(_rng(seed), (n, n), complex_)
    return a + 2.0 * np.sqrt(n) * np.eye(n)[:, ::-1]


def _upper(n, seed, complex_):
    r = _rng(seed)
    t = np.triu(_normal(r, (n, n), complex_)) / np.sqrt(n)
    np.fill_diagonal(t, np.sign(r.standard_normal(n)) * (1.5 + r.random(n)))
    return t


def _hpd(n, seed, complex_):
    """Hermitian (real: symmetric) positive definite, kappa ~ 10."""
    m = _normal(_rng(seed), (n, n), complex_)
    return m @ m.conj().T / n + np.eye(n)


def problem(routine: str, n: int, seed: int = 0, precision: str = "d", nrhs: int = 1) -> dict:
    """Inputs, seeds and cotangents of one routine's benchmark problem in `precision` (s/d/c/z):
    every array Fortran-ordered, of that precision's dtype. nrhs: right-hand sides of
    getrs/gesv/posv (ignored by the others)."""
    dtype = np.dtype(DTYPES[precision])
    cplx = dtype.kind == "c"
    r = _rng(seed + 1)
    p = {"n": n, "precision": precision, "dtype": dtype, "routine": routine}
    raw = {}
    if routine in ("trsv", "trsm"):
        raw["A"] = _upper(n, seed, cplx)
        raw["B"] = _normal(r, (n, 1 if routine == "trsv" else n), cplx)
        raw["dA"] = np.triu(_normal(r, (n, n), cplx))
    else:
        raw["A"] = _hpd(n, seed, cplx) if routine in ("potrf", "posv") else _general(n, seed, cplx)
        raw["B"] = _normal(r, (n, nrhs if routine in NRHS_ROUTINES else 1), cplx)
        raw["dA"] = _normal(r, (n, n), cplx)
    raw["dB"] = _normal(r, raw["B"].shape, cplx)
    # the cotangent of the output: x (B's shape), or the inverse X
    raw["Xbar"] = _normal(r, (n, n) if routine == "inv" else raw["B"].shape, cplx)
    raw["LUbar"] = _normal(r, (n, n), cplx)
    if routine == "potrf":
        raw["LUbar"] = np.tril(raw["LUbar"])  # the factor's cotangent: its stored triangle
    for k, v in raw.items():
        p[k] = np.asfortranarray(v.astype(dtype))
    if routine in ("trsv", "trsm"):
        p["X"] = np.asfortranarray(np.linalg.solve(np.triu(p["A"]), p["B"]))
    if routine in ("getrs", "gesv", "posv"):
        p["X"] = np.asfortranarray(np.linalg.solve(p["A"], p["B"]))
    if routine in ("inv", "slogdet"):
        p["X"] = np.asfortranarray(np.linalg.inv(p["A"]))
    if routine in ("potrf", "posv"):
        p["C"] = np.asfortranarray(np.linalg.cholesky(p["A"]))  # the factor, lower (the other triangle 0)
    if routine in ("getrs", "gesv", "getrf", "inv", "slogdet"):
        import scipy.linalg

        lu, piv = scipy.linalg.lu_factor(p["A"])
        p["LU"] = np.asfortranarray(lu.astype(dtype))
        p["piv0"] = piv.astype(np.int32)  # 0-based, as SciPy/JAX give it
        p["ipiv"] = (piv + 1).astype(np.int32)  # 1-based, as LAPACK gives it
        p["dLU"] = np.asfortranarray(_normal(r, (n, n), cplx).astype(dtype))
    return p


def vector_rhs(p: dict) -> bool:
    """Whether the problem's right-hand side is one vector (trsv, or nrhs = 1 of a solve): then
    the NumPy API and the peers get it 1-D, as a user writing A\\b does."""
    return p["routine"] == "trsv" or (p["routine"] in ("getrs", "gesv", "posv") and p["B"].shape[1] == 1)
