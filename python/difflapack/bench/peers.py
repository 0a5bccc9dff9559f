"""The same derivatives in JAX (``jax.jvp`` / ``jax.vjp``, jitted) and PyTorch
(``torch.func.jvp`` / ``torch.func.vjp``), in the problem's precision. Each returns callables
{"primal", "fwd", "rev_pb", "rev_full"}: the framework's own primal, its forward, its pullback
alone (residuals computed beforehand) and vjp + pullback."""
from __future__ import annotations

import numpy as np

from .problems import vector_rhs


def _real_dtype(dtype):
    return np.zeros((), dtype).real.dtype


def jax_cases(routine: str, p: dict) -> dict:
    import jax
    import jax.numpy as jnp
    import jax.scipy.linalg as jsl

    jax.config.update("jax_enable_x64", True)  # float64 / complex128 stay what they are
    arr = lambda a: jnp.asarray(np.ascontiguousarray(a))  # noqa: E731
    A, dA, LU, dLU = arr(p["A"]), arr(p["dA"]), arr(p.get("LU", p["A"])), arr(p.get("dLU", p["dA"]))
    vec = vector_rhs(p)
    B = arr(p["B"][:, 0] if vec else p["B"])
    dB = arr(p["dB"][:, 0] if vec else p["dB"])
    Xbar = arr(p["Xbar"][:, 0] if vec else p["Xbar"])

    if routine in ("trsv", "trsm"):
        def f(a, b):
            return jsl.solve_triangular(a, b, lower=False)
        args, tangents, cot = (A, B), (dA, dB), Xbar
    elif routine == "getrf":
        def f(a):
            return jsl.lu_factor(a)[0]
        args, tangents, cot = (A,), (dA,), arr(p["LUbar"])
    elif routine == "getrs":
        piv = jnp.asarray(p["piv0"])

        def f(lu, b):
            return jsl.lu_solve((lu, piv), b)
        args, tangents, cot = (LU, B), (dLU, dB), Xbar
    elif routine == "gesv":
        def f(a, b):
            return jnp.linalg.solve(a, b)
        args, tangents, cot = (A, B), (dA, dB), Xbar
    elif routine == "potrf":
        def f(a):
            return jnp.linalg.cholesky(a)
        args, tangents, cot = (A,), (dA,), arr(p["LUbar"])
    elif routine == "posv":
        def f(a, b):
            return jsl.cho_solve((jnp.linalg.cholesky(a), True), b)
        args, tangents, cot = (A, B), (dA, dB), Xbar
    elif routine == "inv":
        f, args, tangents, cot = jnp.linalg.inv, (A,), (dA,), arr(p["Xbar"])
    elif routine == "slogdet":
        def f(a):
            return jnp.linalg.slogdet(a)[1]
        args, tangents, cot = (A,), (dA,), jnp.ones((), _real_dtype(p["dtype"]))
    else:
        raise ValueError(routine)

    primal = jax.jit(f)
    fwd = jax.jit(lambda xs, ts: jax.jvp(f, xs, ts))
    full = jax.jit(lambda xs, ct: jax.vjp(f, *xs)[1](ct))
    _, pullback = jax.vjp(f, *args)  # residuals computed once; the pullback alone is timed
    pb = jax.jit(lambda pbf, ct: pbf(ct))
    ready = jax.block_until_ready
    return {
        "primal": lambda: ready(primal(*args)),
        "fwd": lambda: ready(fwd(args, tangents)),
        "rev_pb": lambda: ready(pb(pullback, cot)),
        "rev_full": lambda: ready(full(args, cot)),
    }


def torch_cases(routine: str, p: dict) -> dict:
    import torch
    from torch.func import jvp, vjp

    t = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    A, dA = t(p["A"]), t(p["dA"])
    vec = vector_rhs(p) and routine != "getrs"  # torch's lu_solve wants a matrix
    B, dB, Xbar = (t(p[k][:, 0] if vec else p[k]) for k in ("B", "dB", "Xbar"))
    if routine in ("trsv", "trsm"):
        B, dB, Xbar = t(p["B"]), t(p["dB"]), t(p["Xbar"])  # solve_triangular wants a matrix

        def f(a, b):
            return torch.linalg.solve_triangular(a, b, upper=True)
        args, tangents, cot = (A, B), (dA, dB), Xbar
    elif routine == "getrf":
        def f(a):
            return torch.linalg.lu_factor(a)[0]
        args, tangents, cot = (A,), (dA,), t(p["LUbar"])
    elif routine == "getrs":
        piv = torch.from_numpy(p["ipiv"].copy())  # torch pivots are 1-based like LAPACK

        def f(lu, b):
            return torch.linalg.lu_solve(lu, piv, b)
        args, tangents, cot = (t(p["LU"]), B), (t(p["dLU"]), dB), Xbar
    elif routine == "gesv":
        def f(a, b):
            return torch.linalg.solve(a, b)
        args, tangents, cot = (A, B), (dA, dB), Xbar
    elif routine == "potrf":
        def f(a):
            return torch.linalg.cholesky(a)
        args, tangents, cot = (A,), (dA,), t(p["LUbar"])
    elif routine == "posv":
        B, dB, Xbar = t(p["B"]), t(p["dB"]), t(p["Xbar"])  # cholesky_solve wants a matrix

        def f(a, b):
            return torch.cholesky_solve(b, torch.linalg.cholesky(a))
        args, tangents, cot = (A, B), (dA, dB), Xbar
    elif routine == "inv":
        f, args, tangents, cot = torch.linalg.inv, (A,), (dA,), t(p["Xbar"])
    elif routine == "slogdet":
        def f(a):
            return torch.linalg.slogdet(a)[1]
        args, tangents, cot = (A,), (dA,), torch.ones((), dtype=A.real.dtype if A.is_complex() else A.dtype)
    else:
        raise ValueError(routine)

    _, pullback = vjp(f, *args)
    return {
        "primal": lambda: f(*args),
        "fwd": lambda: jvp(f, args, tangents),
        "rev_pb": lambda: pullback(cot),
        "rev_full": lambda: vjp(f, *args)[1](cot),
    }


PEER_CASES = {"jax": jax_cases, "torch": torch_cases}
