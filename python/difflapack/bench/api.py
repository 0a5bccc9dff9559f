"""The same derivatives through the NumPy API a user calls (difflapack.getrf_jvp, ...): the
dtype dispatch, argument checks (check_finite at its default, True), copies and allocations
included. Inputs are the problem's Fortran-ordered arrays of the computation's dtype (a
C-ordered input would add one transposing copy per matrix: the layout, not the dispatch); a
single right-hand side is passed 1-D, as ``A\\b`` is written."""
from __future__ import annotations

import numpy as np

from .problems import vector_rhs


def api_cases(routine: str, p: dict) -> dict:
    """Callables {"primal", "fwd", "rev_pb", "rev_full"} through difflapack's NumPy functions:
    primal = the API's primal function, fwd = its ``_jvp``, rev_full = its ``_vjp`` followed by
    the pullback, rev_pb = that pullback alone (on residuals computed beforehand)."""
    import difflapack as dl

    A, dA, Xbar = p["A"], p["dA"], p["Xbar"]
    vec = vector_rhs(p)
    B = p["B"][:, 0] if vec else p["B"]
    dB = p["dB"][:, 0] if vec else p["dB"]
    xbar = Xbar[:, 0] if vec else Xbar

    if routine == "trsv":
        cases = {"primal": lambda: dl.trsv(A, B), "fwd": lambda: dl.trsv_jvp(A, B, dA, dB)}
        vjp, cot = (lambda: dl.trsv_vjp(A, B)), (xbar,)
    elif routine == "trsm":
        cases = {"primal": lambda: dl.trsm(A, B), "fwd": lambda: dl.trsm_jvp(A, B, dA, dB)}
        vjp, cot = (lambda: dl.trsm_vjp(A, B)), (Xbar,)
    elif routine == "getrf":
        cases = {"primal": lambda: dl.getrf(A), "fwd": lambda: dl.getrf_jvp(A, dA)}
        vjp, cot = (lambda: dl.getrf_vjp(A)), (p["LUbar"],)
    elif routine == "getrs":
        LU, piv, dLU = p["LU"], p["piv0"], p["dLU"]
        cases = {"primal": lambda: dl.getrs(LU, piv, B), "fwd": lambda: dl.getrs_jvp(LU, piv, B, dLU, dB)}
        vjp, cot = (lambda: dl.getrs_vjp(LU, piv, B)), (xbar,)
    elif routine == "gesv":
        cases = {"primal": lambda: dl.solve(A, B), "fwd": lambda: dl.solve_jvp(A, B, dA, dB)}
        vjp, cot = (lambda: dl.solve_vjp(A, B)), (xbar,)
    elif routine == "potrf":
        cases = {"primal": lambda: dl.potrf(A), "fwd": lambda: dl.potrf_jvp(A, dA)}
        vjp, cot = (lambda: dl.potrf_vjp(A)), (p["LUbar"],)
    elif routine == "posv":
        cases = {"primal": lambda: dl.posv(A, B), "fwd": lambda: dl.posv_jvp(A, B, dA, dB)}
        vjp, cot = (lambda: dl.posv_vjp(A, B)), (xbar,)
    elif routine == "inv":
        cases = {"primal": lambda: dl.inv(A), "fwd": lambda: dl.inv_jvp(A, dA)}
        vjp, cot = (lambda: dl.inv_vjp(A)), (Xbar,)
    elif routine == "slogdet":
        cases = {"primal": lambda: dl.slogdet(A), "fwd": lambda: dl.slogdet_jvp(A, dA)}
        # the cotangent of logabsdet only (sign_bar None), as the kernel rows
        vjp, cot = (lambda: dl.slogdet_vjp(A)), (None, np.ones((), p["dtype"]).real.dtype.type(1))
    else:
        raise ValueError(f"unknown routine {routine!r}")

    _, pullback = vjp()  # residuals computed once; the pullback alone is timed
    cases["rev_pb"] = lambda: pullback(*cot)
    cases["rev_full"] = lambda: vjp()[1](*cot)
    return cases
