"""The placement matrix's oracle: flag/shape cases of every routine (real and complex data),
an independent NumPy/SciPy version of each routine over the float64 tensors the programs read,
central-difference Jacobians of it, and the judge that compares a cell's numbers with them.

Complex data: a tensor holds interleaved (re, im) pairs, and Enzyme's shadow of it holds the
derivatives with respect to each real number, so the real Jacobian of the oracle over the
float64 tensor entries is what every mode must reproduce. Single precision (s, c) runs the
program on float data rounded from the same tensors; the reference stays in double precision.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack

from _placement_model import CAP, ELEMS, H, NPIV, ROUTINES


# ----------------------------------------------------------------------------- buffers
def _cm(buf, rows, cols, ld):
    """rows x cols column-major block (a copy) of a buffer with leading dimension ld."""
    if rows == 0 or cols == 0:
        return np.zeros((rows, cols), buf.dtype)
    return buf[np.arange(rows)[:, None] + ld * np.arange(cols)[None, :]]


def _put(buf, M, ld):
    rows, cols = M.shape
    if rows and cols:
        buf[np.arange(rows)[:, None] + ld * np.arange(cols)[None, :]] = M


def _view(t, cplx):
    """A tensor (float64) as the routine's elements (a copy)."""
    t = np.asarray(t, dtype=float)
    return t.view(np.complex128).copy() if cplx else t.copy()


def _flat(v, cplx):
    return np.ascontiguousarray(v, dtype=np.complex128 if cplx else float).view(float).copy()


def _lapack(name, M):
    return lapack.get_lapack_funcs(name, (M,))


def _tri(T, uplo, diag):
    T = np.triu(T) if uplo == "U" else np.tril(T)
    if diag == "U":
        np.fill_diagonal(T, 1.0)
    return T


def _op(T, trans):
    return T if trans == "N" else (T.T if trans == "T" else T.conj().T)


def _herm(M, uplo):
    """The Hermitian matrix LAPACK's potrf reads from the uplo triangle of M."""
    S = np.tril(M, -1) if uplo == "L" else np.triu(M, 1)
    return S + S.conj().T + np.diag(np.real(np.diagonal(M)))


# ----------------------------------------------------------------------------- oracles
# Each: (p, A, b, alpha) over the routine's elements -> {segment: elements}; "piv" as doubles.
def _trsm_like(A, b, alpha, uplo, trans, diag, m, n, lda, ldb, side="L"):
    k = m if side == "L" else n
    opT = _op(_tri(_cm(A, k, k, lda), uplo, diag), trans)
    B = _cm(b, m, n, ldb)
    X = alpha * (np.linalg.solve(opT, B) if side == "L" else np.linalg.solve(opT.T, B.T).T)
    x = b.copy()
    _put(x, X, ldb)
    return x


def _trsv(p, A, b, alpha):
    n, inc = p["n"], p["inc"]
    opT = _op(_tri(_cm(A, n, n, p["lda"]), p["uplo"], p["diag"]), p["trans"])
    idx = (0 if inc > 0 else (1 - n) * inc) + inc * np.arange(n)
    x = b.copy()
    x[idx] = np.linalg.solve(opT, b[idx])
    return {"x": x}


def _trsm(p, A, b, alpha):
    return {"x": _trsm_like(A, b, alpha, p["uplo"], p["transa"], p["diag"], p["m"], p["n"], p["lda"], p["ldb"],
                            p["side"])}


def _piv(piv, k):
    pv = np.zeros(NPIV)
    pv[:k] = np.asarray(piv[:k]) + 1
    return pv


def _getrf(p, A, b, alpha):
    m, n, lda = p["m"], p["n"], p["lda"]
    M = _cm(A, m, n, lda)
    lu, piv, info = _lapack("getrf", M)(M)
    out = A.copy()
    _put(out, lu, lda)
    return {"lu": out, "piv": _piv(piv, min(m, n))}


def _getrs(p, A, b, alpha):
    n, nrhs, lda, ldb = p["n"], p["nrhs"], p["lda"], p["ldb"]
    LU = _cm(A, n, n, lda)
    X, info = _lapack("getrs", LU)(LU, np.asarray(p["ipiv"]) - 1, _cm(b, n, nrhs, ldb),
                                   trans={"N": 0, "T": 1, "C": 2}[p["trans"]])
    x = b.copy()
    _put(x, X, ldb)
    return {"x": x}


def _gesv(p, A, b, alpha):
    n, nrhs, lda, ldb = p["n"], p["nrhs"], p["lda"], p["ldb"]
    M = _cm(A, n, n, lda)
    lu, piv, X, info = _lapack("gesv", M)(M, _cm(b, n, nrhs, ldb))
    x, a = b.copy(), A.copy()
    _put(x, X, ldb)
    _put(a, lu, lda)
    return {"lu": a, "piv": _piv(piv, n), "x": x}


def _trtrs(p, A, b, alpha):
    n = p["n"]
    if p["diag"] == "N" and np.any(np.diagonal(_cm(A, n, n, p["lda"])) == 0):
        return {"x": b.copy()}      # LAPACK's test comes first: B is left unchanged
    return {"x": _trsm_like(A, b, 1.0, p["uplo"], p["trans"], p["diag"], n, p["nrhs"], p["lda"], p["ldb"])}


def _getri(p, A, b, alpha):
    n, lda = p["n"], p["lda"]
    LU = _cm(A, n, n, lda)
    X, info = _lapack("getri", LU)(LU, np.asarray(p["ipiv"]) - 1)
    a = A.copy()
    _put(a, X, lda)
    return {"lu": a}


def _inv(p, A, b, alpha):
    n, lda = p["n"], p["lda"]
    M = _cm(A, n, n, lda)
    lu, piv, info = _lapack("getrf", M)(M)
    X, info = _lapack("getri", lu)(lu, piv)
    a = A.copy()
    _put(a, X, lda)
    return {"lu": a, "piv": _piv(piv, n)}


def _cholesky(A, uplo, n, lda):
    M = _cm(A, n, n, lda)
    c, info = _lapack("potrf", M)(M, lower=int(uplo == "L"), clean=0)
    return c, int(info)


def _potrf(p, A, b, alpha):
    a = A.copy()
    _put(a, _cholesky(A, p["uplo"], p["n"], p["lda"])[0], p["lda"])
    return {"lu": a}


def _potrs(p, A, b, alpha):
    n, nrhs, lda, ldb = p["n"], p["nrhs"], p["lda"], p["ldb"]
    C = _cm(A, n, n, lda)
    X, info = _lapack("potrs", C)(C, _cm(b, n, nrhs, ldb), lower=int(p["uplo"] == "L"))
    x = b.copy()
    _put(x, X, ldb)
    return {"x": x}


def _posv(p, A, b, alpha):
    c, info = _cholesky(A, p["uplo"], p["n"], p["lda"])
    assert info == 0
    a = A.copy()
    _put(a, c, p["lda"])
    return {"lu": a, **_potrs(p, a, b, alpha)}


ORACLES = {"trsv": _trsv, "trsm": _trsm, "getrf": _getrf, "getrs": _getrs, "gesv": _gesv, "trtrs": _trtrs,
           "getri": _getri, "inv": _inv, "potrf": _potrf, "potrs": _potrs, "posv": _posv}


# ----------------------------------------------------------------------------- cases
@dataclass
class Case:
    p: dict
    inputs: dict            # name -> float64 array (tensor layout)
    dirs: dict              # tangent directions
    w: dict                 # output segment -> weights
    kappa: float


def _rand(r, shape, cplx):
    return r.standard_normal(shape) + (1j * r.standard_normal(shape) if cplx else 0)


def _matrix(routine, p, r, A, cplx):
    """Puts the routine's well-conditioned matrix into the buffer A (elements; garbage around);
    returns the parameters completed (pivots) and kappa, the condition number the derivatives
    carry."""
    p = dict(p)
    if routine in ("trsv", "trsm", "trtrs"):
        k = p["m"] if routine == "trsm" and p["side"] == "L" else p["n"]
        T = _rand(r, (k, k), cplx) / np.sqrt(k)
        np.fill_diagonal(T, np.sign(r.standard_normal(k)) * (1.5 + r.random(k))
                         * (np.exp(1j * r.standard_normal(k)) if cplx else 1))
        full = _cm(A, k, k, p["lda"])
        mask = np.triu(np.ones((k, k), bool)) if p["uplo"] == "U" else np.tril(np.ones((k, k), bool))
        full[mask] = T[mask]
        if p["diag"] == "U":
            np.fill_diagonal(full, 7.0)     # garbage BLAS ignores
            full[mask & ~np.eye(k, dtype=bool)] *= 0.3
        _put(A, full, p["lda"])
        return p, np.linalg.cond(_tri(full, p["uplo"], p["diag"]))
    if routine in ("getrf", "gesv", "inv", "getrs", "getri"):
        m, n = (p["m"], p["n"]) if routine == "getrf" else (p["n"], p["n"])
        kk = min(m, n)
        M = _rand(r, (m, n), cplx)
        M[:kk, :kk] += (2.0 * np.sqrt(kk) * np.eye(kk)[:, ::-1]) if kk > 1 else 3.0 * np.eye(kk)
        if routine in ("getrs", "getri"):
            lu, piv, info = _lapack("getrf", M)(M)
            _put(A, lu, p["lda"])
            p["ipiv"] = tuple(int(v) + 1 for v in piv)
            return p, np.linalg.cond(np.tril(lu, -1) + np.eye(n)) * np.linalg.cond(np.triu(lu))
        _put(A, M, p["lda"])
        return p, np.linalg.cond(M)
    # Cholesky: a Hermitian positive definite matrix on the stored triangle (potrf, posv; the
    # imaginary part of the diagonal and the other triangle stay garbage LAPACK ignores), or its
    # factor (potrs, for complex data with a complex diagonal, which potrs reads as stored)
    n, uplo = p["n"], p["uplo"]
    G = _rand(r, (n, n), cplx)
    S = G @ G.conj().T / n + np.eye(n)
    kap = np.linalg.cond(S)
    if routine == "potrs":
        S = np.linalg.cholesky(S) if uplo == "L" else np.linalg.cholesky(S).conj().T
        if cplx:
            D = np.diag(np.exp(0.4j * r.standard_normal(n)))
            S = S @ D if uplo == "U" else D @ S
        kap = np.linalg.cond(S) ** 2
    full = _cm(A, n, n, p["lda"])
    mask = np.triu(np.ones((n, n), bool)) if uplo == "U" else np.tril(np.ones((n, n), bool))
    keep_imag = np.imag(np.diagonal(full)) if cplx else 0
    full[mask] = S[mask]
    if cplx and routine != "potrs":
        full[np.diag_indices(n)] += 1j * keep_imag
    _put(A, full, p["lda"])
    return p, kap


def make_cases(routine, cplx):
    R = ROUTINES[routine]
    specs = [(p, 1.3) for p in R.cases] + list(R.extra_cases)
    out = []
    for k, (p, alpha) in enumerate(specs):
        r = np.random.default_rng(1000 * k + 7 * cplx + 1)
        A, b = _rand(r, CAP, cplx), _rand(r, CAP, cplx)
        p, kap = _matrix(routine, p, r, A, cplx)
        al = alpha * (np.exp(0.3j) if cplx and alpha else 1)
        inputs = {"A": _flat(A, cplx), "b": _flat(b, cplx), "alpha": _flat(np.array([al]), cplx)}
        dirs = {n: r.standard_normal(v.size) for n, v in inputs.items()}
        w = {s: r.standard_normal(CAP * 2) for s in ("x", "lu", "keep_A", "keep_alpha")}
        w["piv"] = r.standard_normal(NPIV)
        out.append(Case(p, {n: inputs[n] for n in R.inputs}, {n: dirs[n] for n in R.inputs}, w, max(kap, 1.0)))
    return out


_CASES = {}


def cases(routine, cplx=False):
    key = (routine, bool(cplx))
    if key not in _CASES:
        _CASES[key] = make_cases(routine, bool(cplx))
    return _CASES[key]


def oracle(routine, cplx, case, inputs=None):
    """All output segments of the routine as float64 tensors (every keep_ segment too)."""
    R = ROUTINES[routine]
    x = dict(case.inputs if inputs is None else inputs)
    A, b = _view(x["A"], cplx), (_view(x["b"], cplx) if "b" in x else None)
    alpha = _view(x["alpha"], cplx)[0] if "alpha" in x else None
    o = {k: (v if k == "piv" else _flat(v, cplx)) for k, v in ORACLES[routine](case.p, A, b, alpha).items()}
    for s in R.slots:
        if s.kind in ("ro", "scalar"):
            o["keep_" + s.name] = np.array(x[s.source], dtype=float)
    return o


_JAC = {}


def jacobian(routine, cplx, k, name):
    """Central-difference Jacobian {segment: (len, len(input))} of the oracle, case k."""
    key = (routine, cplx, k, name)
    if key not in _JAC:
        case = cases(routine, cplx)[k]
        base = case.inputs[name]
        cols = []
        for i in range(base.size):
            e = np.zeros_like(base)
            e[i] = H
            plus = oracle(routine, cplx, case, {**case.inputs, name: base + e})
            minus = oracle(routine, cplx, case, {**case.inputs, name: base - e})
            cols.append({s: (plus[s] - minus[s]) / (2 * H) for s in plus})
        _JAC[key] = {s: np.stack([c[s] for c in cols], axis=1) for s in cols[0]}
    return _JAC[key]


def _weights(cell, case):
    return {s: case.w[s][:n] for s, n in cell.segments()}


def expected(cell, k):
    """What the cell must produce on case k: primal outputs, gradients or tangents."""
    cplx = ELEMS[cell.elem].complex
    case = cases(cell.routine, cplx)[k]
    segs = cell.segments()
    w = _weights(cell, case)
    o = oracle(cell.routine, cplx, case)
    want = {"out": np.concatenate([o[s] for s, _ in segs]), "w": np.concatenate([w[s] for s, _ in segs])}
    act = [n for n, a in cell.active if a]
    J = {n: jacobian(cell.routine, cplx, k, n) for n in act}
    if cell.mode in ("rev", "grad"):
        want["grad"] = {n: sum(J[n][s].T @ w[s] for s, _ in segs) for n in act}
    else:
        want["tan"] = np.concatenate([sum(J[n][s] @ case.dirs[n] for n in act) for s, _ in segs])
    return want


def weights(cell, case):
    """The loss weights of a cell, in output-tensor order."""
    w = _weights(cell, case)
    return np.concatenate([w[s] for s, _ in cell.segments()])


# ----------------------------------------------------------------------------- judge
def err(got, want):
    got, want = np.asarray(got, float), np.asarray(want, float)
    if got.shape != want.shape or not np.all(np.isfinite(got)):
        return np.inf
    return float(np.abs(got - want).max() / max(1.0, np.abs(want).max()))


def _segments_off(cell, got, want, tol):
    """Names of the output segments where got and want differ by more than tol."""
    bad, k = [], 0
    for name, n in cell.segments():
        if err(got[k:k + n], want[k:k + n]) > tol:
            bad.append(name)
        k += n
    return bad


def tolerances(elem, kappa):
    """(derivatives, primal): central differences of a double oracle; single precision rounds
    the inputs and computes in float."""
    if ELEMS[elem].single:
        return 2e-4 * kappa ** 2, 3e-6 * kappa
    return 1e-6 * kappa ** 2, 1e-10 * kappa


def verdict(out, problems):
    if out.failures:
        out.status = "build_failure"
        out.message = ("wrong numbers too: " + "; ".join(problems[:3])) if problems else "numbers happened to be right"
    elif problems:
        out.status, out.message = "wrong", "; ".join(problems[:6])
    else:
        out.status = "ok"


def judge(out):
    """Compare a finished run with the oracle; set status ok / build_failure / wrong."""
    cell = out.cell
    problems = []
    for k, res in enumerate(out.results):
        case = cases(cell.routine, ELEMS[cell.elem].complex)[k]
        want = expected(cell, k)
        tol, ptol = tolerances(cell.elem, case.kappa)
        tag = f"case {k}"
        e = err(res["out"], want["out"])
        if e > ptol:
            problems.append(f"{tag}: primal {'/'.join(_segments_off(cell, res['out'], want['out'], ptol))} "
                            f"off by {e:.1e}")
        if "grad" in want:
            for n, g in want["grad"].items():
                got = res["grad"][n]
                e = err(got, g)
                if e > tol:
                    zero = " (silently ZERO)" if np.all(np.asarray(got) == 0) and np.abs(g).max() > 0 else ""
                    problems.append(f"{tag}: d{n} off by {e:.1e}{zero}")
        else:
            e = err(res["tan"], want["tan"])
            if e > tol:
                zero = " (silently ZERO)" if np.all(res["tan"] == 0) and np.abs(want["tan"]).max() > 0 else ""
                segs = "/".join(_segments_off(cell, res["tan"], want["tan"], tol))
                problems.append(f"{tag}: tangent of {segs} off by {e:.1e}{zero}")
            if cell.mode == "fwd":
                e = abs(res["dloss"] - float(np.dot(want["w"], want["tan"]))) / max(1.0, np.abs(want["tan"]).max())
                if e > tol:
                    problems.append(f"{tag}: returned dloss off by {e:.1e}")
    verdict(out, problems)
