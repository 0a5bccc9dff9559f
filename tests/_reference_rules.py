"""NumPy reference implementations of the derivative rules difflapack adds next (to be ported
to C): getri (and the linked getrf -> getri rule), trtrs, potrf / potrs / posv, det and slogdet
from getrf. The maths, the flop counts and the proposed singular / non-PD behaviour are in
docs/design/derivatives_next.md; this file is the executable form of that note.

Every rule is given twice:

* the form to port: a sequence of calls to the thin BLAS emulators below (gemm, gemmt, trsm,
  trmm, trmm_strict, herk, her2k, hemm, laswp) acting IN PLACE on blocks (views) of the
  buffers, with the flags a C port passes, recursive where the note says so, with a base case
  written as the loop a C port would write;
* a dense textbook form (explicit matrices, inverses allowed) used only as a cross-check.

Generic over float32 / float64 / complex64 / complex128: for real data 'C' == 'T',
herk == syrk, her2k == syr2k, hemm == symm.

Conventions (as in difflapack):
* a tangent is a perturbation of the input of the same dtype; jvp returns the directional
  derivative (real-linear in the direction, complex-linear for holomorphic rules);
* a cotangent is zbar = dL/dRe z + i dL/dIm z for a real loss L, so that
  dL = Re <zbar, dz> with <a, b> = sum(conj(a) * b); for y = M x, xbar = M^H ybar;
* pivots are 0-based like scipy.linalg.lapack (row i was swapped with row piv[i]); with
  P the product of the interchanges, A = P L U; laswp(forward) gives P^T M,
  laswp(backward) gives P M;
* derivatives are those of what LAPACK computes, pivots and info held fixed;
* the primal is LAPACK itself (scipy.linalg.lapack), quick-returning for n == 0 like LAPACK
  (SciPy's wrappers reject empty arrays).

FLOPS counts the floating-point operations of the emulated calls with the real-arithmetic
formulas (gemm 2mnk, trsm/trmm m^2 n, herk n^2 k, her2k 2 n^2 k, gemmt n^2 k, ...); a complex
run counts the same numbers (multiply by ~4 for real operations).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.linalg.lapack as lapack

FLOPS = [0]

# Base-case sizes of the recursions (small here so that tests exercise the recursion; a C port
# uses 8..64 -- the panel/loop costs ~ n * NB^2 flops in total).
NB = {"lu": 4, "tri": 4, "chol": 4}


def reset_flops():
    FLOPS[0] = 0


def _count(f):
    FLOPS[0] += int(f)


# =============================================================================== helpers
def is_complex(a):
    return np.iscomplexobj(a)


def H(m):
    """Conjugate transpose."""
    return np.conj(m).T


def _op(m, t):
    if t == "N":
        return m
    if t == "T":
        return m.T
    return np.conj(m).T


def tri(a, uplo, diag="N", strict=False):
    """The triangle BLAS reads: uplo triangle, unit diagonal if diag == 'U', zero diagonal
    if strict."""
    a = np.asarray(a)
    if diag == "U" or strict:
        t = np.tril(a, -1) if uplo == "L" else np.triu(a, 1)
        if diag == "U":
            t = t + np.eye(a.shape[0], dtype=a.dtype)
        return t
    return np.tril(a) if uplo == "L" else np.triu(a)


def tri_mask(n, uplo, strict=False):
    k = -1 if strict else 0
    return np.tril(np.ones((n, n), bool), k) if uplo == "L" else np.triu(np.ones((n, n), bool), -k)


def herm_from(s, uplo):
    """The Hermitian (real: symmetric) matrix LAPACK sees when it reads the uplo triangle of
    s: other triangle = conj-transpose of the stored one, diagonal = real part."""
    s = np.asarray(s)
    st = np.tril(s, -1) if uplo == "L" else np.triu(s, 1)
    d = np.real(np.diagonal(s)).astype(s.dtype)
    return st + H(st) + np.diag(d)


def stored_cotangent(g, uplo):
    """Cotangent of the stored triangle S of A = herm_from(S) from a cotangent g of the full A:
    strict triangle of g + g^H, real part of g's diagonal (the imaginary part of a Hermitian
    diagonal is not an input: its cotangent is exactly zero). Other triangle: 0."""
    g = np.asarray(g)
    s = g + H(g)
    st = np.tril(s, -1) if uplo == "L" else np.triu(s, 1)
    return st + np.diag(np.real(np.diagonal(g)).astype(g.dtype))


def real_diag(m):
    """Zero the imaginary part of the diagonal in place (what zherk/zher2k do to C)."""
    if is_complex(m) and m.shape[0]:
        idx = np.diag_indices(min(m.shape))
        m[idx] = np.real(m[idx])


def all_zero(a):
    return a is None or not np.any(np.asarray(a))


def nan_like(a):
    return np.full_like(a, np.nan)


# ========================================================================== BLAS emulators
def gemm(transa, transb, alpha, A, B, beta, C):
    """C := alpha op(A) op(B) + beta C (beta == 0: C is not read)."""
    m, n = C.shape
    k = _op(A, transa).shape[1]
    _count(2 * m * n * k)
    if m == 0 or n == 0:
        return
    P = alpha * (_op(A, transa) @ _op(B, transb)) if k else np.zeros_like(C)
    C[...] = P if beta == 0 else P + beta * C


def gemmt(uplo, transa, transb, alpha, A, B, beta, C, strict=False):
    """Triangle-only gemm (BLAS extension ?gemmt; difflapack's dl_gemm_tri): updates the uplo
    triangle of C (strict: without the diagonal), nothing else. ~ half a gemm."""
    n = C.shape[0]
    k = _op(A, transa).shape[1]
    _count(n * n * k)
    if n == 0:
        return
    P = alpha * (_op(A, transa) @ _op(B, transb)) if k else np.zeros_like(C)
    m = tri_mask(n, uplo, strict)
    C[m] = P[m] if beta == 0 else P[m] + beta * C[m]


def trsm(side, uplo, transa, diag, alpha, A, B):
    """B := alpha op(T)^{-1} B (side L) or alpha B op(T)^{-1} (side R); T = triangle of A."""
    m, n = B.shape
    k = m if side == "L" else n
    _count(k * k * (n if side == "L" else m))
    if m == 0 or n == 0:
        return
    T = _op(tri(A[:k, :k], uplo, diag), transa)
    lower = (uplo == "L") == (transa == "N")
    if side == "L":
        X = sla.solve_triangular(T, alpha * B, lower=lower, check_finite=False)
    else:
        X = sla.solve_triangular(T.T, (alpha * B).T, lower=not lower, check_finite=False).T
    B[...] = X


def trmm(side, uplo, transa, diag, alpha, A, B):
    """B := alpha op(T) B (side L) or alpha B op(T) (side R)."""
    m, n = B.shape
    k = m if side == "L" else n
    _count(k * k * (n if side == "L" else m))
    if m == 0 or n == 0:
        return
    T = _op(tri(A[:k, :k], uplo, diag), transa)
    B[...] = alpha * (T @ B) if side == "L" else alpha * (B @ T)


def trmm_strict(side, uplo, transa, alpha, A, B):
    """B := alpha op(stril/striu(A)) B (or B op(...)): the strict-triangle product formed
    exactly (difflapack's dl_trmm_tri), not as unit(A) B - B."""
    m, n = B.shape
    k = m if side == "L" else n
    _count(k * k * (n if side == "L" else m))
    if m == 0 or n == 0:
        return
    T = _op(tri(A[:k, :k], uplo, strict=True), transa)
    B[...] = alpha * (T @ B) if side == "L" else alpha * (B @ T)


def herk(uplo, trans, alpha, A, beta, C):
    """C := alpha op(A) op(A)^H + beta C on the uplo triangle (trans 'N': A n x k;
    'C': A k x n). Complex: Im(diag C) := 0. Real data: syrk."""
    opA = A if trans == "N" else H(A)
    n, k = opA.shape
    _count(n * n * k)
    if n == 0:
        return
    P = alpha * (opA @ H(opA))
    m = tri_mask(n, uplo)
    C[m] = P[m] if beta == 0 else P[m] + beta * C[m]
    real_diag(C)


def her2k(uplo, trans, alpha, A, B, beta, C):
    """C := alpha op(A) op(B)^H + conj(alpha) op(B) op(A)^H + beta C on the uplo triangle,
    beta real; complex: Im(diag C) := 0. Real data: syr2k."""
    opA = A if trans == "N" else H(A)
    opB = B if trans == "N" else H(B)
    n, k = opA.shape
    _count(2 * n * n * k)
    if n == 0:
        return
    P = alpha * (opA @ H(opB)) + np.conj(alpha) * (opB @ H(opA))
    m = tri_mask(n, uplo)
    C[m] = P[m] if beta == 0 else P[m] + beta * C[m]
    real_diag(C)


def hemm(side, uplo, alpha, A, B, beta, C):
    """C := alpha Herm(A) B + beta C (side L) or alpha B Herm(A) + beta C (side R), Herm(A)
    from the uplo triangle of A, imaginary part of its diagonal ignored. Real data: symm."""
    m, n = C.shape
    k = m if side == "L" else n
    _count(2 * k * k * (n if side == "L" else m))
    if m == 0 or n == 0:
        return
    Hm = herm_from(A[:k, :k], uplo)
    P = alpha * (Hm @ B) if side == "L" else alpha * (B @ Hm)
    C[...] = P if beta == 0 else P + beta * C


def laswp(M, piv, forward=True, cols=False):
    """Row (or column) interchanges in place: forward: i = 0..k-1 (P^T M, or M P for
    columns), backward: i = k-1..0 (P M, or M P^T for columns)."""
    k = len(piv)
    order = range(k) if forward else range(k - 1, -1, -1)
    for i in order:
        p = int(piv[i])
        if p != i:
            if cols:
                M[:, [i, p]] = M[:, [p, i]]
            else:
                M[[i, p], :] = M[[p, i], :]


# ============================================================================ LAPACK primal
def _lp(name, dtype):
    return lapack.get_lapack_funcs(name, dtype=np.dtype(dtype))


def getrf(a):
    a = np.asarray(a)
    m, n = a.shape
    if m == 0 or n == 0:
        return a.copy(order="F"), np.zeros(0, np.int32), 0
    lu, piv, info = _lp("getrf", a.dtype)(a)
    return lu, piv, int(info)


def getri(lu, piv):
    """X = A^{-1} from getrf's output (LAPACK ?getri). info > 0: U(i,i) == 0, the buffer is
    left unchanged (X = lu)."""
    lu = np.asarray(lu)
    if lu.shape[0] == 0:
        return lu.copy(), 0
    x, info = _lp("getri", lu.dtype)(lu, piv)
    return x, int(info)


def trtrs(a, b, uplo="U", trans="N", diag="N"):
    """op(A) X = B. info > 0: A(i,i) == 0 (diag 'N'), B is left unchanged (X = b)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape[0] == 0 or b.shape[1] == 0:
        return b.copy(), 0
    x, info = _lp("trtrs", a.dtype)(a, b, lower=int(uplo == "L"), trans={"N": 0, "T": 1, "C": 2}[trans],
                                    unitdiag=int(diag == "U"))
    return x, int(info)


def potrf(a, uplo="L"):
    """Cholesky of the Hermitian matrix whose uplo triangle a holds; the other triangle of the
    buffer is returned unchanged (clean=0), like LAPACK. info > 0: see potrf_nonpd_*."""
    a = np.asarray(a)
    if a.shape[0] == 0:
        return a.copy(), 0
    c, info = _lp("potrf", a.dtype)(a, lower=int(uplo == "L"), clean=0)
    return c, int(info)


def potrs(c, b, uplo="L"):
    c, b = np.asarray(c), np.asarray(b)
    if c.shape[0] == 0 or b.shape[1] == 0:
        return b.copy()
    x, info = _lp("potrs", c.dtype)(c, b, lower=int(uplo == "L"))
    assert info == 0
    return x


def posv(a, b, uplo="L"):
    """(factor buffer, X, info); info > 0: X not computed (X = b), factor buffer as potrf."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape[0] == 0:
        return a.copy(), b.copy(), 0
    if b.shape[1] == 0:  # SciPy rejects nrhs = 0: factor only, like reference LAPACK
        c, info = potrf(a, uplo)
        return c, b.copy(), info
    c, x, info = _lp("posv", a.dtype)(a, b, lower=int(uplo == "L"))
    return c, x, int(info)


def unpack_lu(lu, piv):
    """(P, L, U) as dense matrices -- for the dense cross-check forms only."""
    m, n = lu.shape
    k = min(m, n)
    L = np.tril(lu[:, :k], -1) + np.eye(m, k, dtype=lu.dtype)
    U = np.triu(lu[:k, :])
    P = np.eye(m, dtype=lu.dtype)
    laswp(P, piv, forward=False)  # P = P I
    return P, L, U


# ======================================================== getrf tangent / adjoint (port)
# The project's recursive LU rules (csrc/lu_rule.c), written for complex data: the tangent is
# complex-linear (no conjugation); the adjoint is its conjugate transpose ('T' -> 'C').
def _lu_tangent_panel(LU, T):
    m, nb = T.shape
    for j in range(nb):
        l, t = LU[:, j], T[:, j]
        ujj, tjj = LU[j, j], t[j]
        t[j + 1:] = (t[j + 1:] - l[j + 1:] * tjj) / ujj
        _count(3 * (m - j - 1))
        for c in range(j + 1, nb):
            tc = T[:, c]
            tc[j + 1:] -= t[j + 1:] * LU[j, c] + l[j + 1:] * tc[j]
            _count(4 * (m - j - 1))


def _lu_tangent_tall(LU, T):
    m, n = T.shape
    if n <= NB["lu"]:
        _lu_tangent_panel(LU, T)
        return
    k1 = n // 2
    U12, L21, LU22 = LU[:k1, k1:], LU[k1:, :k1], LU[k1:, k1:]
    T11, T12, T21, T22 = T[:k1, :k1], T[:k1, k1:], T[k1:, :k1], T[k1:, k1:]
    _lu_tangent_tall(LU[:, :k1], T[:, :k1])
    W = U12.copy()
    trmm_strict("L", "L", "N", 1.0, T11, W)  # W = stril(dL11) U12
    T12 -= W
    trsm("L", "L", "N", "U", 1.0, LU[:k1, :k1], T12)  # dU12
    gemm("N", "N", -1.0, T21, U12, 1.0, T22)
    gemm("N", "N", -1.0, L21, T12, 1.0, T22)
    _lu_tangent_tall(LU22, T22)


def lu_tangent(lu, piv, da):
    """Packed dLU (stril = dL, triu = dU) with P^T dA = dL U + L dU (pivots fixed)."""
    T = np.array(da, dtype=lu.dtype, copy=True)
    m, n = T.shape
    if min(m, n) == 0:
        return T
    laswp(T, piv, forward=True)
    if m >= n:
        _lu_tangent_tall(lu, T)
    else:
        _lu_tangent_tall(lu[:, :m], T[:, :m])
        W = lu[:, m:].copy()
        trmm_strict("L", "L", "N", 1.0, T[:, :m], W)
        T[:, m:] -= W
        trsm("L", "L", "N", "U", 1.0, lu[:, :m], T[:, m:])
    return T


def _lu_adjoint_panel(LU, Tb):
    m, nb = Tb.shape
    for j in range(nb - 1, -1, -1):
        l, t = LU[:, j], Tb[:, j]
        for c in range(j + 1, nb):
            tc = Tb[:, c]
            t[j + 1:] -= tc[j + 1:] * np.conj(LU[j, c])
            tc[j] -= np.vdot(l[j + 1:], tc[j + 1:])
            _count(4 * (m - j - 1))
        t[j + 1:] /= np.conj(LU[j, j])
        t[j] -= np.vdot(l[j + 1:], t[j + 1:])
        _count(3 * (m - j - 1))


def _lu_adjoint_tall(LU, Tb):
    m, n = Tb.shape
    if n <= NB["lu"]:
        _lu_adjoint_panel(LU, Tb)
        return
    k1 = n // 2
    U12, L21, LU22 = LU[:k1, k1:], LU[k1:, :k1], LU[k1:, k1:]
    T11, T12, T21, T22 = Tb[:k1, :k1], Tb[:k1, k1:], Tb[k1:, :k1], Tb[k1:, k1:]
    _lu_adjoint_tall(LU22, T22)
    gemm("N", "C", -1.0, T22, U12, 1.0, T21)
    gemm("C", "N", -1.0, L21, T22, 1.0, T12)
    trsm("L", "L", "C", "U", 1.0, LU[:k1, :k1], T12)
    gemmt("L", "N", "C", -1.0, T12, U12, 1.0, T11, strict=True)
    _lu_adjoint_tall(LU[:, :k1], Tb[:, :k1])


def lu_adjoint(lu, piv, lubar):
    """Abar from the packed cotangent (Lbar strict lower, Ubar upper) of getrf's output."""
    Tb = np.array(lubar, dtype=lu.dtype, copy=True)
    m, n = Tb.shape
    if min(m, n) == 0:
        return Tb
    if m < n:
        trsm("L", "L", "C", "U", 1.0, lu[:, :m], Tb[:, m:])
        gemmt("L", "N", "C", -1.0, Tb[:, m:], lu[:, m:], 1.0, Tb[:, :m], strict=True)
        _lu_adjoint_tall(lu[:, :m], Tb[:, :m])
    else:
        _lu_adjoint_tall(lu, Tb)
    laswp(Tb, piv, forward=False)
    return Tb


def lu_tangent_dense(lu, piv, da):
    P, L, U = unpack_lu(lu, piv)
    M = np.linalg.solve(U.T, np.linalg.solve(L, P.T @ da).T).T  # L^{-1} P^T dA U^{-1}
    return np.tril(L @ np.tril(M, -1), -1) + np.triu(np.triu(M) @ U)


def lu_adjoint_dense(lu, piv, lubar):
    """Giles (2008) / Walter & Lehmann (2018): Abar = P L^{-H} [stril(L^H Lbar) +
    triu(Ubar U^H)] U^{-H} (square)."""
    P, L, U = unpack_lu(lu, piv)
    Lbar, Ubar = np.tril(lubar, -1), np.triu(lubar)
    M = np.tril(H(L) @ Lbar, -1) + np.triu(Ubar @ H(U))
    return P @ np.linalg.solve(H(L), np.linalg.solve(U.conj(), M.T).T)


# ===================================================================================== getri
# X = A^{-1} = U^{-1} L^{-1} P^T. With Y := X P = U^{-1} L^{-1} (X with its columns swapped
# forward), dA = P (dL U + L dU):
#   dY = -Y (dL U + L dU) Y = -(Y E + F Y),   E = stril(dL) L^{-1},  F = U^{-1} triu(dU),
#   dX = dY P^T.
# Adjoint (G := Xbar P = Ybar):
#   Lbar = -stril( stril(Y^H G) L^{-H} ),   Ubar = -triu( U^{-H} triu(G Y^H) ),
# (stril(Z L^{-H}) depends only on stril(Z) since L^{-H} is upper; likewise for triu), and
# G Y^H = Xbar X^H needs no permutation.
#
# The four triangular-RHS solves below cost n^3/3 each (a C port: recursion to a base block
# solved in an nb x nb workspace). tri_rhs=False uses one plain trsm on a full n x n copy
# instead (n^3 each): the "plain" variant.

def _tri_base(kind, LU, D):
    """Base case of the four structured solves: copy the triangle into a zeroed workspace,
    one trsm there, copy the triangle back (nb^3 flops)."""
    n = D.shape[0]
    W = np.zeros_like(D)
    if kind == "E":    # stril(D) := stril(D) L^{-1}
        m = tri_mask(n, "L", strict=True)
        W[m] = D[m]
        trsm("R", "L", "N", "U", 1.0, LU, W)
    elif kind == "F":  # triu(D) := U^{-1} triu(D)
        m = tri_mask(n, "U")
        W[m] = D[m]
        trsm("L", "U", "N", "N", 1.0, LU, W)
    elif kind == "Lbar":  # stril(D) := stril(stril(D) L^{-H})
        m = tri_mask(n, "L", strict=True)
        W[m] = D[m]
        trsm("R", "L", "C", "U", 1.0, LU, W)
    else:              # "Ubar": triu(D) := triu(U^{-H} triu(D))
        m = tri_mask(n, "U")
        W[m] = D[m]
        trsm("L", "U", "C", "N", 1.0, LU, W)
    D[m] = W[m]


def tri_rhs_solve(kind, LU, D):
    """In place on the packed n x n buffer D (LU: the packed factors, n x n):
    'E':    stril(D) := stril(D) L^{-1}          (result strictly lower: exact)
    'F':    triu(D)  := U^{-1} triu(D)           (result upper: exact)
    'Lbar': stril(D) := stril(stril(D) L^{-H})   (the adjoint of 'E')
    'Ubar': triu(D)  := triu(U^{-H} triu(D))     (the adjoint of 'F')
    Each touches only its own triangle of D, so E/F (and Lbar/Ubar) share one buffer.
    T(n) = 2 T(n/2) + n^3/4  =>  n^3/3 flops."""
    n = D.shape[0]
    if n <= NB["tri"]:
        if n:
            _tri_base(kind, LU, D)
        return
    k = n // 2
    L11, L21, L22 = LU[:k, :k], LU[k:, :k], LU[k:, k:]
    U11, U12, U22 = LU[:k, :k], LU[:k, k:], LU[k:, k:]
    D11, D12, D21, D22 = D[:k, :k], D[:k, k:], D[k:, :k], D[k:, k:]
    if kind == "E":      # [E11 0; E21 E22] [L11 0; L21 L22] = [R11 0; R21 R22]
        tri_rhs_solve("E", L22, D22)
        W = L21.copy()
        trmm_strict("L", "L", "N", 1.0, D22, W)       # E22 L21 (E22 strictly lower)
        D21 -= W
        trsm("R", "L", "N", "U", 1.0, L11, D21)        # E21 = (R21 - E22 L21) L11^{-1}
        tri_rhs_solve("E", L11, D11)
    elif kind == "F":    # [U11 U12; 0 U22] [F11 F12; 0 F22] = [R11 R12; 0 R22]
        tri_rhs_solve("F", U22, D22)
        W = U12.copy()
        trmm("R", "U", "N", "N", 1.0, D22, W)         # U12 F22
        D12 -= W
        trsm("L", "U", "N", "N", 1.0, U11, D12)        # F12 = U11^{-1} (R12 - U12 F22)
        tri_rhs_solve("F", U11, D11)
    elif kind == "Lbar":  # W L^H = Z, lower part only
        tri_rhs_solve("Lbar", L11, D11)
        trsm("R", "L", "C", "U", 1.0, L11, D21)        # W21 = Z21 L11^{-H}
        gemmt("L", "N", "C", -1.0, D21, L21, 1.0, D22, strict=True)  # stril(Z22 - W21 L21^H)
        tri_rhs_solve("Lbar", L22, D22)
    else:                 # U^H V = Z, upper part only
        tri_rhs_solve("Ubar", U11, D11)
        trsm("L", "U", "C", "N", 1.0, U11, D12)        # V12 = U11^{-H} Z12
        gemmt("U", "C", "N", -1.0, U12, D12, 1.0, D22)  # triu(Z22 - U12^H V12)
        tri_rhs_solve("Ubar", U22, D22)


def _plain_solve(kind, LU, D):
    """The same four maps with one full trsm on an n x n copy (n^3 flops each)."""
    n = D.shape[0]
    if n == 0:
        return
    m = tri_mask(n, "U") if kind in ("F", "Ubar") else tri_mask(n, "L", strict=True)
    W = np.zeros_like(D)
    W[m] = D[m]
    {"E": lambda: trsm("R", "L", "N", "U", 1.0, LU, W),
     "F": lambda: trsm("L", "U", "N", "N", 1.0, LU, W),
     "Lbar": lambda: trsm("R", "L", "C", "U", 1.0, LU, W),
     "Ubar": lambda: trsm("L", "U", "C", "N", 1.0, LU, W)}[kind]()
    D[m] = W[m]


def _getri_singular_tangent(lu, dlu):
    return nan_like(lu) if not all_zero(dlu) else np.zeros_like(lu)


def getri_jvp(lu, piv, dlu, tri_rhs=True):
    """(X, info, dX): tangent of getri w.r.t. the packed factors (dlu: stril = dL, triu = dU).
    8/3 n^3 flops (tri_rhs) or 4 n^3 (plain): two trmm + two structured solves.
    info > 0 (U singular): X = lu unchanged; dX = NaN (0 if dlu == 0)."""
    x, info = getri(lu, piv)
    n = lu.shape[0]
    if info > 0:
        return x, info, _getri_singular_tangent(lu, dlu)
    D = np.array(dlu, dtype=lu.dtype, copy=True)   # in place: the tangent buffer
    if n == 0:
        return x, info, D
    solve = tri_rhs_solve if tri_rhs else _plain_solve
    solve("E", lu, D)                              # stril(D) = E = stril(dL) L^{-1}
    solve("F", lu, D)                              # triu(D)  = F = U^{-1} triu(dU)
    Y = x.copy()
    laswp(Y, piv, forward=True, cols=True)         # Y = X P
    W1 = Y.copy()
    trmm_strict("R", "L", "N", 1.0, D, W1)         # Y E
    W2 = Y.copy()
    trmm("L", "U", "N", "N", 1.0, D, W2)           # F Y
    D[...] = -(W1 + W2)                            # dY
    laswp(D, piv, forward=False, cols=True)        # dX = dY P^T
    return x, info, D


def getri_vjp(lu, piv, x, xbar, info=0, tri_rhs=True):
    """Packed LUbar (stril = Lbar, triu = Ubar) from Xbar; x = getri's output. 8/3 n^3 flops
    (tri_rhs: two gemmt + two structured solves) or 4 n^3 (plain).
    info > 0: NaN (exactly 0 if xbar == 0)."""
    n = lu.shape[0]
    if info > 0:
        return nan_like(lu) if not all_zero(xbar) else np.zeros_like(lu)
    if n == 0:
        return np.zeros_like(lu)
    G = np.array(xbar, dtype=lu.dtype, copy=True)
    laswp(G, piv, forward=True, cols=True)         # G = Xbar P
    Y = np.array(x, copy=True)
    laswp(Y, piv, forward=True, cols=True)         # Y = X P
    D = np.zeros_like(lu)
    gemmt("L", "C", "N", 1.0, Y, G, 0.0, D, strict=True)  # stril(Y^H G)
    gemmt("U", "N", "C", 1.0, G, Y, 0.0, D)               # triu(G Y^H)   (= triu(Xbar X^H))
    solve = tri_rhs_solve if tri_rhs else _plain_solve
    solve("Lbar", lu, D)
    solve("Ubar", lu, D)
    return -D


def getri_jvp_dense(lu, piv, dlu):
    """dX = -X dA X with dA = P (dL U + L dU) (Giles 2008's inverse result, LU tangent)."""
    P, L, U = unpack_lu(lu, piv)
    X = np.linalg.inv(P @ L @ U)
    dA = P @ (np.tril(dlu, -1) @ U + L @ np.triu(dlu))
    return -X @ dA @ X


def getri_vjp_dense(lu, piv, xbar):
    """Abar = -X^H Xbar X^H, then Lbar = stril(P^T Abar U^H), Ubar = triu(L^H P^T Abar)."""
    P, L, U = unpack_lu(lu, piv)
    X = np.linalg.inv(P @ L @ U)
    Abar = -H(X) @ xbar @ H(X)
    PtA = P.T @ Abar
    return np.tril(PtA @ H(U), -1) + np.triu(H(L) @ PtA)


# The linked rule (getrf immediately followed by getri on the same buffer, Julia's inv):
def inv_jvp(x, da):
    """dX = -X dA X: two gemm, 4 n^3 flops."""
    n = x.shape[0]
    W = np.zeros_like(x)
    R = np.zeros_like(x)
    gemm("N", "N", 1.0, da, x, 0.0, W)
    gemm("N", "N", -1.0, x, W, 0.0, R)
    return R if n else W


def inv_vjp(x, xbar):
    """Abar = -X^H Xbar X^H: two gemm, 4 n^3 flops."""
    W = np.zeros_like(x)
    R = np.zeros_like(x)
    gemm("N", "C", 1.0, xbar, x, 0.0, W)
    gemm("C", "N", -1.0, x, W, 0.0, R)
    return R


# ==================================================================================== trtrs
def _trtrs_singular(x, *ts):
    return nan_like(x) if any(not all_zero(t) for t in ts) else np.zeros_like(x)


def trtrs_jvp(a, b, da, db, uplo="U", trans="N", diag="N"):
    """(X, info, dX): dX = op(T)^{-1} (dB - op(dT) X), dT = the referenced triangle of da
    (strict if diag = 'U'). trmm + trsm: 2 n^2 nrhs flops.
    info > 0: X = B unchanged, dX = NaN (0 if da, db both zero)."""
    x, info = trtrs(a, b, uplo, trans, diag)
    if info > 0:
        return x, info, _trtrs_singular(x, da, db)
    dx = np.zeros_like(x) if db is None else np.array(db, dtype=x.dtype, copy=True)
    if da is not None and x.size:
        W = x.copy()
        if diag == "U":
            trmm_strict("L", uplo, trans, 1.0, da, W)
        else:
            trmm("L", uplo, trans, "N", 1.0, da, W)
        dx -= W
    trsm("L", uplo, trans, diag, 1.0, a, dx)
    return x, info, dx


def trtrs_vjp(a, x, xbar, uplo="U", trans="N", diag="N", info=0):
    """(Abar, Bbar). Bbar = op(T)^{-H} Xbar; Abar = triangle of
       N: -Bbar X^H      C: -X Bbar^H      T: -conj(X) Bbar^T = -conj(X W^T), W = conj(Bbar)
    where for trans 'T' (complex) Bbar = conj(A)^{-1} Xbar has no BLAS flag: solve
    W = A^{-1} conj(Xbar) with trsm 'N', Bbar = conj(W), Abar = -conj(tri(X W^T)).
    trsm + gemmt: 2 n^2 nrhs flops. info > 0: NaN (0 if xbar == 0)."""
    xbar = np.asarray(xbar)
    if info > 0:
        z = _trtrs_singular(np.zeros_like(a), xbar)
        return z, _trtrs_singular(x, xbar)
    strict = diag == "U"
    abar = np.zeros_like(a)
    W = np.array(xbar, dtype=a.dtype, copy=True)
    if trans == "N":
        trsm("L", uplo, "C", diag, 1.0, a, W)                            # Bbar
        gemmt(uplo, "N", "C", -1.0, W, x, 0.0, abar, strict=strict)      # -Bbar X^H
        return abar, W
    if trans == "C" or not is_complex(a):
        trsm("L", uplo, "N", diag, 1.0, a, W)                            # Bbar = A^{-1} Xbar
        gemmt(uplo, "N", "C", -1.0, x, W, 0.0, abar, strict=strict)      # -X Bbar^H
        return abar, W
    W = np.conj(W)                                                       # trans 'T', complex
    trsm("L", uplo, "N", diag, 1.0, a, W)                                # W = A^{-1} conj(Xbar)
    gemmt(uplo, "N", "T", -1.0, x, W, 0.0, abar, strict=strict)          # -X W^T
    return np.conj(abar), np.conj(W)


def trtrs_jvp_dense(a, b, da, db, uplo="U", trans="N", diag="N"):
    T = _op(tri(a, uplo, diag), trans)
    x = np.linalg.solve(T, b)
    dT = _op(tri(da, uplo, strict=(diag == "U")), trans) if da is not None else 0 * T
    return np.linalg.solve(T, (0 if db is None else db) - dT @ x)


def trtrs_vjp_dense(a, b, xbar, uplo="U", trans="N", diag="N"):
    """Via the full matrix op(T): Bbar = op(T)^{-H} Xbar, op(T)bar = -Bbar X^H, then pulled
    back through op and projected on the referenced triangle."""
    T = _op(tri(a, uplo, diag), trans)
    x = np.linalg.solve(T, b)
    bbar = np.linalg.solve(H(T), xbar)
    Mbar = -bbar @ H(x)
    Abar = {"N": Mbar, "T": Mbar.T, "C": H(Mbar)}[trans]
    return tri(Abar, uplo, strict=(diag == "U")), bbar


# ============================================================================ potrf (Cholesky)
# uplo 'L': A = L L^H. Recursion on [A11 .; A21 A22], L11 = chol(A11), L21 = A21 L11^{-H},
# L22 = chol(A22 - L21 L21^H). Tangent (T holds the stored triangle of dA, becomes dL):
#   dL11 = tangent(A11);  dL21 = (dA21 - L21 dL11^H) L11^{-H};
#   dS = dA22 - dL21 L21^H - L21 dL21^H;  dL22 = tangent(S; dS).
# Only the factor L is used (the Schur complement itself is never needed).
# Adjoint = exact transpose, steps reversed (Tb holds Lbar, becomes the stored Abar):
#   Tb22 = adjoint(L22; Tb22);  Tb21 -= herm2(Tb22) L21;  Tb21 := Tb21 L11^{-1};
#   Tb11 -= tril(Tb21^H L21);  Tb11 = adjoint(L11; Tb11),
# herm2(S) = stril(S) + stril(S)^H + 2 diag(Re S) (= hemm with S, plus diag(Re S) L21).
# Flops per level (k = n/2): trmm k^3 + trsm k^3 + her2k 2k^3 = n^3/2, so 2/3 n^3 in total
# (adjoint: hemm 2k^3 + trsm k^3 + gemmt k^3, the same); potrf is n^3/3.

def _chol_tangent_base_L(C, T):
    n = T.shape[0]
    for j in range(n):
        ljj = np.real(C[j, j])
        T[j, j] = np.real(T[j, j]) / (2 * ljj)
        l, t = C[j + 1:, j], T[j + 1:, j]
        t[...] = (t - l * T[j, j]) / ljj
        S = T[j + 1:, j + 1:]            # her2: S -= t l^H + l t^H (lower), Im diag := 0
        m = tri_mask(S.shape[0], "L")
        S[m] -= (np.outer(t, np.conj(l)) + np.outer(l, np.conj(t)))[m]
        real_diag(S)
        _count(3 * (n - j) + 2 * (n - j - 1) ** 2)


def _chol_adjoint_base_L(C, Tb):
    n = Tb.shape[0]
    for j in range(n - 1, -1, -1):
        l, t = C[j + 1:, j], Tb[j + 1:, j]
        S = Tb[j + 1:, j + 1:]
        t -= herm_from(S, "L") @ l + np.real(np.diagonal(S)) * l   # herm2(S) l
        ljj = np.real(C[j, j])
        t /= ljj
        Tb[j, j] -= np.vdot(l, t)
        Tb[j, j] = np.real(Tb[j, j]) / (2 * ljj)
        _count(2 * (n - j - 1) ** 2 + 4 * (n - j))


def _chol_tangent_base_U(C, T):
    n = T.shape[0]
    for j in range(n):
        ujj = np.real(C[j, j])
        T[j, j] = np.real(T[j, j]) / (2 * ujj)
        u, t = C[j, j + 1:], T[j, j + 1:]
        t[...] = (t - u * T[j, j]) / ujj
        S = T[j + 1:, j + 1:]            # her2: S -= t^H u + u^H t (upper), Im diag := 0
        m = tri_mask(S.shape[0], "U")
        S[m] -= (np.outer(np.conj(t), u) + np.outer(np.conj(u), t))[m]
        real_diag(S)
        _count(3 * (n - j) + 2 * (n - j - 1) ** 2)


def _chol_adjoint_base_U(C, Tb):
    n = Tb.shape[0]
    for j in range(n - 1, -1, -1):
        u, t = C[j, j + 1:], Tb[j, j + 1:]
        S = Tb[j + 1:, j + 1:]
        t -= u @ herm_from(S, "U") + u * np.real(np.diagonal(S))     # u herm2(S)
        ujj = np.real(C[j, j])
        t /= ujj
        Tb[j, j] -= np.vdot(u, t)
        Tb[j, j] = np.real(Tb[j, j]) / (2 * ujj)
        _count(2 * (n - j - 1) ** 2 + 4 * (n - j))


def chol_tangent(C, T, uplo):
    """In place: T (n x n view) holds the stored triangle of dA on entry, that of dL (dU) on
    exit; C holds the factor. The other triangle of T is neither read nor written."""
    n = T.shape[0]
    if n <= NB["chol"]:
        (_chol_tangent_base_L if uplo == "L" else _chol_tangent_base_U)(C, T)
        return
    k = n // 2
    if uplo == "L":
        L11, L21, L22 = C[:k, :k], C[k:, :k], C[k:, k:]
        T11, T21, T22 = T[:k, :k], T[k:, :k], T[k:, k:]
        chol_tangent(L11, T11, "L")
        W = L21.copy()
        trmm("R", "L", "C", "N", 1.0, T11, W)      # L21 dL11^H
        T21 -= W
        trsm("R", "L", "C", "N", 1.0, L11, T21)    # dL21 = (dA21 - L21 dL11^H) L11^{-H}
        her2k("L", "N", -1.0, T21, L21, 1.0, T22)  # dS = dA22 - dL21 L21^H - L21 dL21^H
        chol_tangent(L22, T22, "L")
    else:
        U11, U12, U22 = C[:k, :k], C[:k, k:], C[k:, k:]
        T11, T12, T22 = T[:k, :k], T[:k, k:], T[k:, k:]
        chol_tangent(U11, T11, "U")
        W = U12.copy()
        trmm("L", "U", "C", "N", 1.0, T11, W)      # dU11^H U12
        T12 -= W
        trsm("L", "U", "C", "N", 1.0, U11, T12)    # dU12 = U11^{-H} (dA12 - dU11^H U12)
        her2k("U", "C", -1.0, T12, U12, 1.0, T22)  # dS = dA22 - dU12^H U12 - U12^H dU12
        chol_tangent(U22, T22, "U")


def chol_adjoint(C, Tb, uplo):
    """In place: Tb holds the stored triangle of Lbar (Ubar) on entry, that of Abar on exit
    (real diagonal). The other triangle of Tb is neither read nor written."""
    n = Tb.shape[0]
    if n <= NB["chol"]:
        (_chol_adjoint_base_L if uplo == "L" else _chol_adjoint_base_U)(C, Tb)
        return
    k = n // 2
    if uplo == "L":
        L11, L21, L22 = C[:k, :k], C[k:, :k], C[k:, k:]
        T11, T21, T22 = Tb[:k, :k], Tb[k:, :k], Tb[k:, k:]
        chol_adjoint(L22, T22, "L")
        hemm("L", "L", -1.0, T22, L21, 1.0, T21)        # Tb21 -= herm(Tb22) L21
        T21 -= np.real(np.diagonal(T22))[:, None] * L21  # ... the diagonal twice
        trsm("R", "L", "N", "N", 1.0, L11, T21)         # Tb21 := Tb21 L11^{-1}
        gemmt("L", "C", "N", -1.0, T21, L21, 1.0, T11)  # Tb11 -= tril(Tb21^H L21)
        chol_adjoint(L11, T11, "L")
    else:
        U11, U12, U22 = C[:k, :k], C[:k, k:], C[k:, k:]
        T11, T12, T22 = Tb[:k, :k], Tb[:k, k:], Tb[k:, k:]
        chol_adjoint(U22, T22, "U")
        hemm("R", "U", -1.0, T22, U12, 1.0, T12)        # Tb12 -= U12 herm(Tb22)
        T12 -= U12 * np.real(np.diagonal(T22))[None, :]
        trsm("L", "U", "N", "N", 1.0, U11, T12)         # Tb12 := U11^{-1} Tb12
        gemmt("U", "N", "C", -1.0, U12, T12, 1.0, T11)  # Tb11 -= triu(U12 Tb12^H)
        chol_adjoint(U11, T11, "U")


def potrf_jvp(a, da, uplo="L"):
    """(C, info, dC) for the buffer: stored triangle = factor / its tangent; the other
    triangle of dC is da's (the buffer's other triangle is passed through unchanged).
    info = j > 0: dC exact on the leading (j-1) x (j-1) block, NaN on the rest of the stored
    triangle (0 if da's stored triangle is zero)."""
    c, info = potrf(a, uplo)
    n = c.shape[0]
    T = np.array(da, dtype=c.dtype, copy=True)
    k = n if info == 0 else info - 1
    chol_tangent(c[:k, :k], T[:k, :k], uplo)
    if info > 0:
        m = tri_mask(n, uplo)
        m[:k, :k] = False
        T[m] = np.nan if not all_zero(tri(da, uplo)) else 0.0
    return c, info, T


def potrf_vjp(c, cbar, uplo="L", info=0):
    """Abar (buffer) from Cbar: stored triangle by the recursion, other triangle passed
    through (= cbar's). info = j > 0: the leading (j-1) block's adjoint if cbar vanishes on
    the rest of the stored triangle (then Abar is 0 there), else NaN on the stored triangle."""
    n = c.shape[0]
    Tb = np.array(cbar, dtype=c.dtype, copy=True)
    k = n if info == 0 else info - 1
    if info > 0:
        m = tri_mask(n, uplo)
        m[:k, :k] = False
        if np.any(Tb[m]):
            Tb[tri_mask(n, uplo)] = np.nan
            return Tb
    chol_adjoint(c[:k, :k], Tb[:k, :k], uplo)
    return Tb


def potrf_jvp_dense(a, da, uplo="L"):
    """dL = L Phi(L^{-1} dA L^{-H}), Phi = strict lower + half diagonal (Murray 2016);
    uplo 'U': dU = dL^H for L = U^H."""
    A, dA = herm_from(a, uplo), herm_from(da, uplo)
    L = np.linalg.cholesky(A)
    M = np.linalg.solve(L, H(np.linalg.solve(L, H(dA))))
    Phi = np.tril(M, -1) + 0.5 * np.diag(np.real(np.diagonal(M))).astype(M.dtype)
    dL = L @ Phi
    return dL if uplo == "L" else H(dL)


def potrf_vjp_dense(a, cbar, uplo="L"):
    """Stored-triangle Abar: with Lbar (= Ubar^H for 'U'), P = stril(L^H Lbar) +
    diag(L^H Lbar)/2, G = L^{-H} P L^{-1} (the cotangent of the full A), Abar =
    stored_cotangent(G)."""
    A = herm_from(a, uplo)
    L = np.linalg.cholesky(A)
    Lbar = np.tril(cbar) if uplo == "L" else H(np.triu(cbar))
    M = H(L) @ Lbar
    Pm = np.tril(M, -1) + 0.5 * np.diag(np.diagonal(M))
    G = np.linalg.solve(H(L), H(np.linalg.solve(H(L), H(Pm))))
    return stored_cotangent(G, uplo)


# ==================================================================================== potrs
# A = L L^H ('L') or U^H U ('U') from the stored triangle of the factor C, read as a general
# triangle (potrs uses the complex diagonal as it is). X = A^{-1} B.
#   'L': Y = L^{-1} B = L^H X;  dX = L^{-H} [L^{-1} (dB - dL Y) - dL^H X]
#        Z = L^{-1} Xbar, Bbar = L^{-H} Z, Lbar = -tril(Bbar Y^H + X Z^H)
#   'U': Y = U^{-H} B = U X;    dX = U^{-1} [U^{-H} (dB - dU^H Y) - dU X]
#        Z = U^{-H} Xbar, Bbar = U^{-1} Z, Ubar = -triu(Z X^H + Y Bbar^H)

def potrs_jvp(c, b, dc, db, uplo="L"):
    """(X, dX): two trmm + two trsm on top of the two solves (4 n^2 nrhs extra)."""
    n1, n2 = ("N", "C") if uplo == "L" else ("C", "N")
    Y = np.array(b, dtype=c.dtype, copy=True)
    trsm("L", uplo, n1, "N", 1.0, c, Y)       # Y
    X = Y.copy()
    trsm("L", uplo, n2, "N", 1.0, c, X)       # X
    dX = np.zeros_like(X) if db is None else np.array(db, dtype=c.dtype, copy=True)
    if dc is not None:
        W = Y.copy()
        trmm("L", uplo, n1, "N", 1.0, dc, W)  # dL Y   (dU^H Y)
        dX -= W
    trsm("L", uplo, n1, "N", 1.0, c, dX)
    if dc is not None:
        W = X.copy()
        trmm("L", uplo, n2, "N", 1.0, dc, W)  # dL^H X (dU X)
        dX -= W
    trsm("L", uplo, n2, "N", 1.0, c, dX)
    return X, dX


def potrs_vjp(c, x, xbar, uplo="L"):
    """(Cbar, Bbar): solve (2 n^2 nrhs) + trmm (n^2 nrhs) + two gemmt (2 n^2 nrhs)."""
    n1, n2 = ("N", "C") if uplo == "L" else ("C", "N")
    Z = np.array(xbar, dtype=c.dtype, copy=True)
    trsm("L", uplo, n1, "N", 1.0, c, Z)       # Z
    Bb = Z.copy()
    trsm("L", uplo, n2, "N", 1.0, c, Bb)      # Bbar = A^{-1} Xbar
    Y = np.array(x, copy=True)
    trmm("L", uplo, n2, "N", 1.0, c, Y)       # Y = L^H X ('L') or U X ('U')
    cbar = np.zeros_like(c)
    if uplo == "L":
        gemmt("L", "N", "C", -1.0, Bb, Y, 0.0, cbar)
        gemmt("L", "N", "C", -1.0, x, Z, 1.0, cbar)
    else:
        gemmt("U", "N", "C", -1.0, Z, x, 0.0, cbar)
        gemmt("U", "N", "C", -1.0, Y, Bb, 1.0, cbar)
    return cbar, Bb


def potrs_jvp_dense(c, b, dc, db, uplo="L"):
    T, dT = tri(c, uplo), tri(dc, uplo)
    A = T @ H(T) if uplo == "L" else H(T) @ T
    dA = dT @ H(T) + T @ H(dT) if uplo == "L" else H(dT) @ T + H(T) @ dT
    x = np.linalg.solve(A, b)
    return np.linalg.solve(A, db - dA @ x)


def potrs_vjp_dense(c, b, xbar, uplo="L"):
    """Abar = -Bbar X^H (A Hermitian: Bbar = A^{-1} Xbar), then through A = L L^H:
    Lbar = tril((Abar + Abar^H) L);  A = U^H U: Ubar = triu(U (Abar + Abar^H))."""
    T = tri(c, uplo)
    A = T @ H(T) if uplo == "L" else H(T) @ T
    x = np.linalg.solve(A, b)
    bbar = np.linalg.solve(H(A), xbar)
    G = -bbar @ H(x)
    cbar = np.tril((G + H(G)) @ T) if uplo == "L" else np.triu(T @ (G + H(G)))
    return cbar, bbar


# ===================================================================================== posv
def posv_jvp(a, b, da, db, uplo="L", want_dc=True):
    """(C, X, info, dC, dX). dX = A^{-1} (dB - Herm(dA) X): one hemm (2 n^2 nrhs) and one
    potrs (2 n^2 nrhs) with the primal factor; dC by the potrf tangent only if want_dc.
    info > 0: dX NaN (0 if da, db zero), dC as potrf_jvp."""
    c, x, info = posv(a, b, uplo)
    n = c.shape[0]
    if info > 0:
        dx = nan_like(x) if not (all_zero(None if da is None else tri(da, uplo)) and all_zero(db)) \
            else np.zeros_like(x)
    else:
        dx = np.zeros_like(x) if db is None else np.array(db, dtype=c.dtype, copy=True)
        if da is not None:
            hemm("L", uplo, -1.0, da, x, 1.0, dx)
        if n and dx.shape[1]:
            dx = potrs(c, dx, uplo)
    dc = None
    if want_dc:
        dc = np.zeros_like(c) if da is None else potrf_jvp(a, da, uplo)[2]
    return c, x, info, dc, dx


def posv_vjp(c, x, xbar, cbar=None, uplo="L", info=0):
    """(Abar, Bbar), Abar on the buffer (stored triangle: the cotangent of the Hermitian input;
    other triangle passed through from cbar). Like A X = B (gesv's rule), not potrs' adjoint
    chained into potrf's:
      Bbar = A^{-1} Xbar (one potrs);  stored Abar = stored_cotangent(-Bbar X^H)
           = her2k(uplo, 'N', -1, Bbar, X) with Re(Bbar X^H)_ii added back to the diagonal;
      plus the potrf adjoint of cbar, run first, only if cbar != 0.
    info > 0: Bbar NaN unless xbar == 0; Abar NaN unless xbar == 0 and cbar vanishes off the
    leading (info-1) block (then the potrf_vjp rule)."""
    n = c.shape[0]
    xbar = np.asarray(xbar)
    cbar = np.zeros_like(c) if cbar is None else np.asarray(cbar)
    if info > 0:
        if not all_zero(xbar):
            ab = np.array(cbar, dtype=c.dtype, copy=True)
            ab[tri_mask(n, uplo)] = np.nan
            return ab, nan_like(x)
        return potrf_vjp(c, cbar, uplo, info), np.zeros_like(x)
    abar = potrf_vjp(c, cbar, uplo) if not all_zero(tri(cbar, uplo)) else np.array(cbar, dtype=c.dtype, copy=True)
    if n == 0 or x.shape[1] == 0:
        return abar, np.zeros_like(x)
    bbar = potrs(c, xbar.astype(c.dtype), uplo)
    S = abar[:n, :n]
    her2k(uplo, "N", -1.0, bbar, x, 1.0, S)
    d = np.real(np.sum(bbar * np.conj(x), axis=1))     # Re(Bbar X^H)_ii, n * nrhs flops
    S[np.diag_indices(n)] += d
    return abar, bbar


def posv_vjp_dense(a, b, xbar, cbar=None, uplo="L"):
    A = herm_from(a, uplo)
    x = np.linalg.solve(A, b)
    bbar = np.linalg.solve(A, xbar)
    abar = stored_cotangent(-bbar @ H(x), uplo)
    if cbar is not None:
        abar = abar + potrf_vjp_dense(a, cbar, uplo)
    return abar, bbar


# ============================================================================ det / slogdet
def perm_sign(piv):
    return -1 if int(np.count_nonzero(np.asarray(piv) != np.arange(len(piv)))) % 2 else 1


def _prod_except(d):
    """p_i = prod_{k != i} d_k without division (prefix/suffix products): exact with zeros."""
    n = len(d)
    pre = np.ones(n + 1, dtype=d.dtype)
    suf = np.ones(n + 1, dtype=d.dtype)
    for i in range(n):
        pre[i + 1] = pre[i] * d[i]
        suf[n - 1 - i] = suf[n - i] * d[n - 1 - i]
    return pre[:n] * suf[1:]


def det_from_lu(lu, piv):
    return perm_sign(piv) * np.prod(np.diagonal(lu))


def slogdet_from_lu(lu, piv):
    """(sign, log|det|): sign = sign(P) prod U_ii/|U_ii| (complex: on the unit circle);
    any U_ii == 0: (0, -inf) like NumPy / JAX / PyTorch."""
    d = np.diagonal(lu)
    rdt = np.real(d).dtype
    if np.any(d == 0):
        return lu.dtype.type(0), rdt.type(-np.inf)
    absd = np.abs(d)
    return lu.dtype.type(perm_sign(piv) * np.prod(d / absd)), rdt.type(np.sum(np.log(absd)))


def det_jvp_lu(lu, piv, dlu):
    """d det = sign(P) sum_i dU_ii prod_{k != i} U_kk (= det tr(A^{-1} dA))."""
    return perm_sign(piv) * np.sum(np.diagonal(dlu) * _prod_except(np.diagonal(lu)))


def det_vjp_lu(lu, piv, detbar):
    """Packed LUbar of det: diagonal only, Ubar_ii = conj(sign(P) prod_{k != i} U_kk) detbar."""
    lubar = np.zeros_like(lu)
    lubar[np.diag_indices(lu.shape[0])] = np.conj(perm_sign(piv) * _prod_except(np.diagonal(lu))) * detbar
    return lubar


def slogdet_jvp_lu(lu, piv, dlu):
    """t = sum dU_ii / U_ii = tr(A^{-1} dA): d log|det| = Re t, d sign = i Im(t) sign (complex),
    0 (real)."""
    sign, _ = slogdet_from_lu(lu, piv)
    t = np.sum(np.diagonal(dlu) / np.diagonal(lu))
    if is_complex(lu):
        return 1j * np.imag(t) * sign, np.real(t)
    return lu.dtype.type(0), t


def slogdet_vjp_lu(lu, piv, signbar, labar):
    """Packed LUbar: Ubar_ii = c / conj(U_ii), c = labar + i Im(conj(sign) signbar) (complex;
    the radial part of signbar is ignored: sign stays on the unit circle), c = labar (real:
    signbar ignored)."""
    sign, _ = slogdet_from_lu(lu, piv)
    c = labar + (1j * np.imag(np.conj(sign) * signbar) if is_complex(lu) else 0)
    lubar = np.zeros_like(lu)
    lubar[np.diag_indices(lu.shape[0])] = c / np.conj(np.diagonal(lu))
    return lubar


def _rank1_adjugate(lu, piv, j):
    """adj(A) = s p a r^T when U(j,j) is the only zero pivot (adj(XY) = adj(Y) adj(X),
    adj(L) = L^{-1}, adj(P) = det(P) P^T, adj(U) = p a b^T):
       a = [-U11^{-1} U(:j, j); 1; 0],  b = [0; 1; -U22^{-T} U(j, j+1:)^T],
       r = P L^{-T} b,  p = prod_{k != j} U_kk,  s = sign(P).   O(n^2): three trsv."""
    n = lu.shape[0]
    a = np.zeros(n, lu.dtype)
    a[j] = 1
    a[:j] = -sla.solve_triangular(lu[:j, :j], lu[:j, j], lower=False) if j else a[:0]
    b = np.zeros(n, lu.dtype)
    b[j] = 1
    if j + 1 < n:
        b[j + 1:] = -sla.solve_triangular(lu[j + 1:, j + 1:], lu[j, j + 1:], lower=False, trans="T")
    r = sla.solve_triangular(lu, b, lower=True, unit_diagonal=True, trans="T")
    r = r[:, None]
    laswp(r, piv, forward=False)
    d = np.diagonal(lu).copy()
    d[j] = 1
    return perm_sign(piv) * np.prod(d), a, r[:, 0]


def det_jvp(a, da):
    """(det, ddet) from A: getrf, then
    no zero pivot / only U(n-1,n-1) == 0: the getrf tangent's diagonal (det_jvp_lu);
    exactly one zero pivot elsewhere: the rank-1 adjugate, ddet = s p r^T dA a (O(n^2));
    two or more zero pivots: NaN (0 if da == 0) -- the adjugate may be nonzero (e.g.
    [[0,1],[0,0]]) and is not available from the LU."""
    lu, piv, _ = getrf(a)
    det = det_from_lu(lu, piv)
    n = lu.shape[0]
    zeros = np.flatnonzero(np.diagonal(lu) == 0)
    if len(zeros) == 0 or (len(zeros) == 1 and zeros[0] == n - 1):
        return det, det_jvp_lu(lu, piv, lu_tangent(lu, piv, da))
    if all_zero(da):
        return det, lu.dtype.type(0)
    if len(zeros) > 1:
        return det, lu.dtype.type(np.nan)
    sp, av, r = _rank1_adjugate(lu, piv, int(zeros[0]))
    return det, sp * (r @ (np.asarray(da) @ av))


def det_vjp(a, detbar):
    """(det, Abar) = conj(det) detbar A^{-H} for nonsingular A, computed as the getrf adjoint
    of the diagonal cotangent det_vjp_lu (no inverse formed); singular: as det_jvp."""
    lu, piv, _ = getrf(a)
    det = det_from_lu(lu, piv)
    n = lu.shape[0]
    zeros = np.flatnonzero(np.diagonal(lu) == 0)
    if len(zeros) == 0 or (len(zeros) == 1 and zeros[0] == n - 1):
        return det, lu_adjoint(lu, piv, det_vjp_lu(lu, piv, detbar))
    if detbar == 0:
        return det, np.zeros_like(lu)
    if len(zeros) > 1:
        return det, nan_like(lu)
    sp, av, r = _rank1_adjugate(lu, piv, int(zeros[0]))
    return det, detbar * np.conj(sp) * np.outer(np.conj(r), np.conj(av))   # detbar adj(A)^H


def slogdet_jvp(a, da):
    """((sign, logabsdet), (dsign, dlogabsdet)). Singular: (0, -inf); tangents NaN unless da
    == 0 (real sign: its tangent is 0 always)."""
    lu, piv, _ = getrf(a)
    s, la_ = slogdet_from_lu(lu, piv)
    if np.any(np.diagonal(lu) == 0):
        bad = not all_zero(da)
        ds = lu.dtype.type(np.nan if (bad and is_complex(lu)) else 0)
        return (s, la_), (ds, la_.dtype.type(np.nan if bad else 0))
    return (s, la_), slogdet_jvp_lu(lu, piv, lu_tangent(lu, piv, da))


def slogdet_vjp(a, signbar, labar):
    """((sign, logabsdet), Abar), Abar = c A^{-H} with c = labar + i Im(conj(sign) signbar),
    computed as the getrf adjoint of slogdet_vjp_lu. Singular: NaN unless labar == 0 and
    (complex) signbar == 0; real signbar is ignored."""
    lu, piv, _ = getrf(a)
    s, la_ = slogdet_from_lu(lu, piv)
    if np.any(np.diagonal(lu) == 0):
        bad = labar != 0 or (is_complex(lu) and signbar != 0)
        return (s, la_), (nan_like(lu) if bad else np.zeros_like(lu))
    return (s, la_), lu_adjoint(lu, piv, slogdet_vjp_lu(lu, piv, signbar, labar))


def adjugate_dense(a):
    """adj(A) by cofactors (tests only, small n)."""
    a = np.asarray(a)
    n = a.shape[0]
    C = np.zeros_like(a)
    for i in range(n):
        for j in range(n):
            M = np.delete(np.delete(a, i, 0), j, 1)
            C[i, j] = (-1) ** (i + j) * (np.linalg.det(M) if n > 1 else 1)
    return C.T
