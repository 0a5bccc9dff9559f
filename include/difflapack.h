/* difflapack.h -- tangent (forward) and adjoint (reverse) kernels for BLAS/LAPACK linear
 * solvers: trsv, trsm, getrf, getrs, gesv, trtrs, getri, inv, det, slogdet, potrf, potrs, posv,
 * in the four BLAS precisions s, d, c, z (column-major, LP64 ints).
 *
 * Names: dl_<p><routine> (the primal), dl_<p><routine>_fwd, dl_<p><routine>_rev with p one of
 * s d c z, e.g. dl_zgetrf_rev. The prototypes are generated from ONE table, DL_KERNELS below
 * (written over the element type T and its real type R), instantiated for every precision of
 * DL_PRECISIONS (difflapack_table.h); the Python bindings read the same table.
 *
 * Conventions shared by every kernel
 * ----------------------------------
 *  - Flags are the BLAS/LAPACK letters, passed BY VALUE, any case. Scalars of type T (trsm's
 *    alpha and its derivatives) are passed by address, as BLAS does.
 *  - Return value: 0 on success; -i when argument i of the *primal* BLAS/LAPACK routine is
 *    illegal (xerbla numbering, e.g. -3 for a bad `diag` of trsv); -(100 + k) when argument k of
 *    the KERNEL itself (counted from 1, e.g. a derivative's leading dimension or a NULL array
 *    that is needed) is illegal; i > 0 when the routine meets an exactly zero pivot / diagonal
 *    entry at position i (1-based, like LAPACK's info); DL_ERR_ALLOC when workspace could not be
 *    allocated. Every argument is checked before any array is read or written (the range of the
 *    pivots, which needs ipiv itself, is checked last), so an error < 0 touches no array: an
 *    illegal size or leading dimension is reported even when the arrays are smaller than it
 *    says. With several illegal arguments, any one of their codes may be returned.
 *  - `active` is a bit mask of DL_ACTIVE_* saying which inputs carry derivatives. Work for
 *    inactive inputs is skipped and their derivative pointers are never read or written (they
 *    may be NULL).
 *  - *_fwd kernels are fused primal+tangent: they take the primal inputs in place exactly like
 *    the BLAS/LAPACK routine, plus tangent buffers laid out like the primal buffers, and return
 *    primal outputs and tangents of the outputs.
 *  - *_rev kernels take the primal OUTPUTS (never the overwritten inputs) and, in the in/out
 *    buffers, the cotangent of the output on entry; on exit that buffer holds the cotangent of
 *    the input it overwrote (exactly Enzyme's semantics for in-place arguments). Cotangents of
 *    read-only inputs are ACCUMULATED (+=).
 *  - Complex data (c, z): a tangent is a complex perturbation dz; a cotangent follows Enzyme and
 *    PyTorch: for a real loss L, zbar = dL/dRe(z) + i dL/dIm(z). So the adjoint of a
 *    complex-linear map y = M x is xbar = M^H ybar, and trans = 'C' (conjugate transpose) is
 *    its own case (for real data 'C' means 'T').
 *  - Pivots (ipiv, 1-based like LAPACK) and info carry no derivative; derivatives are those of
 *    what LAPACK computes with the pivots it chose.
 *  - Kernels never form inverses or dense permutation matrices; pivots go through ?laswp (or
 *    ?swap loops over column pairs, as ?getri applies them). The exceptions are outputs that
 *    ARE inverses: getri/inv's X, and det/slogdet's cotangent, a multiple of A^{-H}.
 *  - Singular input: kernels never raise; the derivative of an output that does not exist is
 *    NaN, and an exactly zero cotangent (or tangent) always contributes exactly zero, also
 *    through a zero pivot (see each routine).
 */
#ifndef DIFFLAPACK_H
#define DIFFLAPACK_H

#include "difflapack_table.h"

/* Complex element types, overridable like LAPACKE's lapack_complex_double. */
#ifndef DL_COMPLEX_FLOAT
#ifdef __cplusplus
#include <complex>
#define DL_COMPLEX_FLOAT std::complex<float>
#define DL_COMPLEX_DOUBLE std::complex<double>
#else
#define DL_COMPLEX_FLOAT float _Complex
#define DL_COMPLEX_DOUBLE double _Complex
#endif
#endif
typedef DL_COMPLEX_FLOAT dl_complex_float;
typedef DL_COMPLEX_DOUBLE dl_complex_double;

#ifdef __cplusplus
extern "C" {
#endif

#define DIFFLAPACK_VERSION "0.2.0"

/* activity bits */
#define DL_ACTIVE_A      1u   /* the matrix (triangle / general A / packed LU / C)   */
#define DL_ACTIVE_B      2u   /* the right-hand side / vector                         */
#define DL_ACTIVE_ALPHA  4u   /* trsm's alpha                                         */
#define DL_WANT_DLU      8u   /* gesv_fwd / posv_fwd: also the tangent of the factor  */

#define DL_ERR_ALLOC (-1000)

/* ==================================================================== the kernels
 * X(p, routine, (parameters)) for every kernel; T is the element type, R its real type.
 * The contracts are documented below the table, routine by routine. */
#define DL_KERNELS(X, p, T, R)                                                                   \
    X(p, trsv, (char uplo, char trans, char diag, int n, const T *A, int lda, T *x, int incx))   \
    X(p, trsv_fwd, (unsigned active, char uplo, char trans, char diag, int n, const T *A,        \
                    int lda, const T *dA, int ldda, T *x, int incx, T *dx, int incdx))           \
    X(p, trsv_rev, (unsigned active, char uplo, char trans, char diag, int n, const T *A,        \
                    int lda, T *dA, int ldda, const T *x, int incx, T *dx, int incdx))           \
    X(p, trsm, (char side, char uplo, char transa, char diag, int m, int n, const T *alpha,      \
                const T *A, int lda, T *B, int ldb))                                             \
    X(p, trsm_fwd, (unsigned active, char side, char uplo, char transa, char diag, int m, int n, \
                    const T *alpha, const T *dalpha, const T *A, int lda, const T *dA, int ldda, \
                    T *B, int ldb, T *dB, int lddb))                                             \
    X(p, trsm_rev, (unsigned active, char side, char uplo, char transa, char diag, int m, int n, \
                    const T *alpha, const T *A, int lda, T *dA, int ldda, const T *X, int ldx,   \
                    const T *B0, int ldb0, T *dB, int lddb, T *dalpha))                          \
    X(p, getrf, (int m, int n, T *A, int lda, int *ipiv))                                        \
    X(p, getrf_fwd, (unsigned active, int m, int n, T *A, int lda, int *ipiv, T *dA, int ldda))  \
    X(p, getrf_rev, (unsigned active, int m, int n, const T *LU, int lda, const int *ipiv,       \
                     T *dLU, int lddlu))                                                         \
    X(p, getrs, (char trans, int n, int nrhs, const T *LU, int lda, const int *ipiv, T *B,       \
                 int ldb))                                                                       \
    X(p, getrs_fwd, (unsigned active, char trans, int n, int nrhs, const T *LU, int lda,         \
                     const T *dLU, int lddlu, const int *ipiv, T *B, int ldb, T *dB, int lddb))  \
    X(p, getrs_rev, (unsigned active, char trans, int n, int nrhs, const T *LU, int lda,         \
                     T *dLU, int lddlu, const int *ipiv, const T *X, int ldx, T *dB, int lddb))  \
    X(p, gesv, (int n, int nrhs, T *A, int lda, int *ipiv, T *B, int ldb))                       \
    X(p, gesv_fwd, (unsigned active, int n, int nrhs, T *A, int lda, T *dA, int ldda, int *ipiv, \
                    T *B, int ldb, T *dB, int lddb))                                             \
    X(p, gesv_rev, (unsigned active, int n, int nrhs, const T *LU, int lda, const int *ipiv,     \
                    T *dA, int ldda, const T *X, int ldx, T *dB, int lddb))                      \
    X(p, potrf, (char uplo, int n, T *A, int lda))                                               \
    X(p, potrf_fwd, (unsigned active, char uplo, int n, T *A, int lda, T *dA, int ldda))         \
    X(p, potrf_rev, (unsigned active, char uplo, int n, const T *C, int lda, T *dC, int lddc))   \
    X(p, potrs, (char uplo, int n, int nrhs, const T *C, int ldc, T *B, int ldb))                \
    X(p, potrs_fwd, (unsigned active, char uplo, int n, int nrhs, const T *C, int ldc,           \
                     const T *dC, int lddc, T *B, int ldb, T *dB, int lddb))                     \
    X(p, potrs_rev, (unsigned active, char uplo, int n, int nrhs, const T *C, int ldc, T *dC,    \
                     int lddc, const T *X, int ldx, T *dB, int lddb))                            \
    X(p, posv, (char uplo, int n, int nrhs, T *A, int lda, T *B, int ldb))                       \
    X(p, posv_fwd, (unsigned active, char uplo, int n, int nrhs, T *A, int lda, T *dA, int ldda, \
                    T *B, int ldb, T *dB, int lddb))                                             \
    X(p, posv_rev, (unsigned active, char uplo, int n, int nrhs, const T *C, int lda, T *dA,     \
                    int ldda, const T *X, int ldx, T *dB, int lddb))                             \
    X(p, trtrs, (char uplo, char trans, char diag, int n, int nrhs, const T *A, int lda, T *B,   \
                 int ldb))                                                                       \
    X(p, trtrs_fwd, (unsigned active, char uplo, char trans, char diag, int n, int nrhs,         \
                     const T *A, int lda, const T *dA, int ldda, T *B, int ldb, T *dB,           \
                     int lddb))                                                                  \
    X(p, trtrs_rev, (unsigned active, char uplo, char trans, char diag, int n, int nrhs,         \
                     const T *A, int lda, T *dA, int ldda, const T *X, int ldx, T *dB,           \
                     int lddb))                                                                  \
    X(p, getri, (int n, T *A, int lda, const int *ipiv))                                         \
    X(p, getri_fwd, (unsigned active, int n, T *A, int lda, const int *ipiv, T *dA, int ldda))   \
    X(p, getri_rev, (unsigned active, int n, const T *LU, int lda, const int *ipiv, const T *X,  \
                     int ldx, T *dA, int ldda))                                                  \
    X(p, inv, (int n, T *A, int lda, int *ipiv))                                                 \
    X(p, inv_fwd, (unsigned active, int n, T *A, int lda, int *ipiv, T *dA, int ldda))           \
    X(p, inv_rev, (unsigned active, int n, const T *X, int ldx, T *dA, int ldda))                \
    X(p, det, (int n, T *A, int lda, int *ipiv, T *det))                                         \
    X(p, det_fwd, (unsigned active, int n, T *A, int lda, int *ipiv, const T *dA, int ldda,      \
                   T *det, T *ddet))                                                             \
    X(p, det_rev, (unsigned active, int n, const T *LU, int lda, const int *ipiv,                \
                   const T *detbar, T *dA, int ldda))                                            \
    X(p, slogdet, (int n, T *A, int lda, int *ipiv, T *sign, R *logabsdet))                      \
    X(p, slogdet_fwd, (unsigned active, int n, T *A, int lda, int *ipiv, const T *dA, int ldda,  \
                       T *sign, R *logabsdet, T *dsign, R *dlogabsdet))                          \
    X(p, slogdet_rev, (unsigned active, int n, const T *LU, int lda, const int *ipiv,            \
                       const T *signbar, const R *labar, T *dA, int ldda))                       \
    X(p, slogdet_inv, (int n, T *A, int lda, int *ipiv, T *sign, R *logabsdet, R *pivot_ratio))  \
    X(p, slogdet_inv_rev, (unsigned active, int n, const T *X, int ldx, const T *sign,           \
                           const T *signbar, const R *labar, T *dA, int ldda))

#define DL_DECLARE_KERNEL(p, name, params) int dl_##p##name params;
#define DL_DECLARE_PRECISION(p, T, R, is_complex) DL_KERNELS(DL_DECLARE_KERNEL, p, T, R)
DL_PRECISIONS(DL_DECLARE_PRECISION)

/* ---------------------------------------------------------------- trsv, trsm
 * Common to the trsv/trsm kernels: only the uplo triangle of A (and of dA) is read, without
 * its diagonal when diag == 'U'; transa 'N', 'T' or 'C' ('C' == 'T' for real data). Primal
 * argument errors return ?trsv's / ?trsm's xerbla position (-i). An exactly zero A(i,i) with
 * diag == 'N' is not an error: the kernels compute what BLAS computes (inf/nan) and return i
 * (1-based, the first such i, as LAPACK's ?trtrs), also when there is nothing to solve.
 *
 * dl_?trsv: x := op(A)^{-1} x (negative incx as BLAS defines it: element i of x lives at
 *   x[(n-1-i)*|incx|]).
 * dl_?trsv_fwd: on entry x = b, dx = db (read only if DL_ACTIVE_B; otherwise taken as 0); on
 *   exit x = op(A)^{-1} b, dx = op(A)^{-1} (db - op(tri(dA)) x) (dA read if DL_ACTIVE_A). dx is
 *   written whenever dx != NULL (zero when no input is active). Errors: -108 dA NULL / -109 bad
 *   ldda (A active), -112 dx NULL while an input is active, -113 incdx == 0 (dx != NULL).
 * dl_?trsv_rev: x: the solution (primal output). If any input is active, dx: on entry xbar, on
 *   exit bbar = op(A)^{-H} xbar (also when only A is active). If DL_ACTIVE_A, dA (its
 *   referenced triangle only) += the projection of -bbar x^H (trans N), -conj(x) bbar^T (T) or
 *   -x bbar^H (C). Nothing active: nothing touched (x and dx may be NULL). Errors as trsv_fwd
 *   (x may be NULL unless A is active; -112 and -113 only when an input is active). A zero xbar
 *   contributes exactly zero, also with a zero diagonal entry.
 *
 * dl_?trsm: B := alpha op(A)^{-1} B (side L) or alpha B op(A)^{-1} (side R); B is m x n, A is
 *   k x k with k = m (L) or n (R). alpha == 0 sets B = 0 without reading it.
 * dl_?trsm_fwd: on entry B, dB (read only if DL_ACTIVE_B), *dalpha (only if DL_ACTIVE_ALPHA),
 *   dA (only if DL_ACTIVE_A). On exit B = X (bitwise what dl_?trsm gives) and
 *     dB = dX = op(A)^{-1} (alpha dB + dalpha B - op(tri(dA)) X)            (side L)
 *          dX = (alpha dB + dalpha B - X op(tri(dA))) op(A)^{-1}             (side R).
 *   dB is written whenever dB != NULL (zero when no input is active). Workspace: m*n elements
 *   when A and (B or alpha) are active. Errors: -109 dalpha NULL (alpha active), -112 dA NULL /
 *   -113 bad ldda (A active), -116 dB NULL while an input is active, -117 bad lddb (dB != NULL).
 * dl_?trsm_rev: X: the primal output (ldx checked like ?trsm's ldb: -11). B0: the original B if
 *   the caller still has it, else NULL (then alphabar uses <X, Xbar>/conj(alpha): needs alpha !=
 *   0; alpha == 0 with DL_ACTIVE_ALPHA and B0 == NULL returns -115). B0 is read only for
 *   DL_ACTIVE_ALPHA. With G = op(A)^{-H} Xbar (side L) or Xbar op(A)^{-H} (side R), if any input
 *   is active:
 *     dB: on entry Xbar, on exit Bbar = conj(alpha) G (also when only A or alpha is active);
 *     DL_ACTIVE_A:     dA += projection onto tri(A) of -G X^H (side L) / -X^H G (side R), taken
 *                      through op (transposed for T, conjugate-transposed for C);
 *     DL_ACTIVE_ALPHA: *dalpha += sum conj(B0) .* G.
 *   Works for any alpha, including 0 and values whose square over- or underflows. Errors:
 *   -10 X NULL when read (A active, or alpha active without B0), -111 dA NULL / -112 bad ldda
 *   (A active), -116 bad ldb0 (alpha active, B0 given), -119 dalpha NULL (alpha active), and
 *   when any input is active -117 dB NULL, -118 bad lddb.
 *
 * ---------------------------------------------------------------- getrf
 * LU notation: A (m x n) = P L U, k = min(m,n); L (m x k, unit lower) and U (k x n, upper)
 * packed in one m x n array as ?getrf leaves them; ipiv[k] 1-based row interchanges (P). Every
 * derivative holds the pivots fixed: P^T dA = dL U + L dU. "Packed tangent/cotangent" = one
 * m x n array, dL (Lbar) strictly below the diagonal, dU (Ubar) on and above it.
 * Zero pivots: the derivative divides by U(j,j) (j < k, j < m - 1). With U(j,j) == 0 the
 * derivative of the entries that depend on that division is undefined: each quotient x / 0 is
 * NaN when x != 0 and 0 when x == 0, so NaN appears only where an undefined derivative is
 * actually needed and an exactly zero cotangent / tangent contributes exactly zero.
 *
 * dl_?getrf: A := P L U packed. Returns LAPACK's info (> 0: U(info,info) is exactly zero; the
 *   factorisation is completed). -1 m, -2 n, -4 lda, -5 ipiv NULL.
 * dl_?getrf_fwd: on exit A = LU, ipiv, and dA = the packed tangent, by a column-recursive
 *   (Toledo) differentiation of the LU with fixed pivots, ~n^3 flops mostly in gemm. Returns
 *   LAPACK's info; -107 dA NULL / -108 bad ldda (A active).
 * dl_?getrf_rev: LU, ipiv: the primal outputs. dLU: on entry the packed cotangent of the
 *   factors (all m x n entries read), on exit Abar (same m x n layout; overwritten, not
 *   accumulated). Returns 0 (or the position of a zero pivot the derivative met, after filling
 *   as described above); -5 an ipiv entry outside 1..m; -107 dLU NULL / -108 bad lddlu (A active).
 *
 * ---------------------------------------------------------------- getrs
 * dl_?getrs: B (n x nrhs) := op(A)^{-1} B with A = P L U given packed (trans N, T, C). Like
 *   ?getrs, plus: returns i > 0 if U(i,i) == 0 (B then holds what ?getrs computed, inf/nan;
 *   nrhs = 0 quick-returns 0 without reading LU, as ?getrs; so do the rules);
 *   -6 if an ipiv entry is outside 1..n.
 * dl_?getrs_fwd: DL_ACTIVE_A: dLU is the tangent of the packed factors; DL_ACTIVE_B: dB holds
 *   the tangent of B on entry (otherwise not read, taken as 0). On exit B = X and, when either
 *   is active, dB = dX = op(A)^{-1} (dB - op(dA) X) with dA = P (dL U + L dU). -107 dLU NULL /
 *   -108 bad lddlu (A active), -112 dB NULL, -113 bad lddb (an input active).
 * dl_?getrs_rev: X: primal output. dB: in Xbar, out Bbar = op(A)^{-H} Xbar (whenever A or B is
 *   active). If DL_ACTIVE_A: dLU += packed cotangent of the factors (all n x n entries updated).
 *   -7 X NULL (A active), -8 bad ldx; -107, -108, -112, -113 as getrs_fwd. Zero columns of
 *   Xbar contribute exactly zero.
 *
 * ---------------------------------------------------------------- gesv
 * dl_?gesv: A := LU, B := X = A^{-1} B (?getrf + ?getrs 'N'). Returns LAPACK's info (> 0:
 *   singular: B is left unchanged, as LAPACK leaves it).
 * dl_?gesv_fwd: on exit A = LU, ipiv, B = X and (if A or B is active) dB = dX = A^{-1}(dB - dA
 *   X), dB read only if DL_ACTIVE_B and dA only if DL_ACTIVE_A; if DL_ACTIVE_A and DL_WANT_DLU,
 *   also dA := packed dLU (as dl_?getrf_fwd); otherwise dA is left unchanged. info > 0: B is
 *   unchanged, so dB keeps its tangent (zero if B is inactive). -106 dA NULL / -107 bad ldda
 *   (A active), -111 dB NULL, -112 bad lddb (an input active).
 * dl_?gesv_rev: LU, ipiv, X: primal outputs. dB: in Xbar, out Bbar = A^{-H} Xbar (whenever A or
 *   B is active). If DL_ACTIVE_A: dA: in LUbar (cotangent of the packed factors; all zero is
 *   detected and the getrf adjoint skipped), out Abar = -Bbar X^H + getrf adjoint of LUbar.
 *   With a zero U(i,i) (info > 0, B was left unchanged) Bbar = Xbar and Abar is the getrf
 *   adjoint of LUbar alone. -5 ipiv outside 1..n, -6 X NULL (A active), -7 bad ldx, -107 dA
 *   NULL / -108 bad ldda (A active), -111 dB NULL, -112 bad lddb (an input active).
 *
 * ---------------------------------------------------------------- potrf, potrs, posv
 * Cholesky notation: uplo 'L': A = L L^H, 'U': A = U^H U, the factor C in the uplo (stored)
 * triangle with a real positive diagonal. ?potrf reads only the stored triangle S of its buffer
 * and factors Herm(S) (other triangle S^H, diagonal Re S_ii: Im of the diagonal is not read);
 * the other triangle of the buffer is left as it was. Derivatives are w.r.t. the STORED
 * triangle: tangents dA = Herm(dS); the cotangent of S is stril(G + G^H) + diag(Re G_ii) ('U':
 * striu) for the full Hermitian cotangent G (so its diagonal is real); the kernels never read
 * or write the other triangle of a tangent/cotangent buffer (identity pass-through: it stays
 * what the caller had, as the primal's does). Not positive definite (info = j > 0): LAPACK
 * leaves chol of the leading (j-1) block exactly and partial work after it; the leading
 * block's derivatives are exact, the rest of the stored triangle is NaN, except that an exactly
 * zero tangent/cotangent contributes exactly zero.
 *
 * dl_?potrf: A := C (?potrf). Returns LAPACK's info (> 0: not positive definite).
 * dl_?potrf_fwd: on exit A = C and, if DL_ACTIVE_A, dA (stored triangle) = dC =
 *   C Phi(C^{-1} Herm(dS) C^{-H}) ('L'; Phi: strict lower + half the diagonal; Murray 2016),
 *   by a recursive BLAS-3 differentiation of the recursive Cholesky, 2/3 n^3 flops. info = j
 *   > 0: dC exact on the leading (j-1) block, NaN on the rest of the stored triangle (zero if
 *   dS's stored triangle is zero). Returns LAPACK's info; -106 dA NULL, -107 bad ldda.
 * dl_?potrf_rev: C: potrf's output. dC (stored triangle): on entry Cbar, on exit Sbar
 *   (overwritten, not accumulated; real diagonal; Im(Cbar_ii) is not read). 2/3 n^3 flops, no
 *   workspace. If C's diagonal has a non-positive entry at j (potrf's info, read back from C):
 *   when Cbar vanishes on the stored triangle outside the leading (j-1) block, the leading
 *   block's adjoint and exact zeros elsewhere; otherwise NaN on the whole stored triangle.
 *   Returns that info (0 for a complete factor); -106 dC NULL, -107 bad lddc.
 *
 * dl_?potrs: B (n x nrhs) := A^{-1} B with A from the factor C (?potrs). C's triangle is read
 *   as a general triangle: for complex data its diagonal as stored (complex), so potrs' factor
 *   derivatives are not projected onto a real diagonal. Returns i > 0 if C(i,i) == 0 (B then
 *   holds what ?potrs computed, inf/nan; nrhs = 0 quick-returns 0 without reading C, as ?potrs;
 *   so do the rules).
 * dl_?potrs_fwd: DL_ACTIVE_A: dC is the tangent of the factor's triangle; DL_ACTIVE_B: dB holds
 *   the tangent of B on entry (otherwise not read, taken as 0). On exit B = X (bitwise ?potrs)
 *   and, when either is active, dB = dX = A^{-1}(dB - dA X), dA = dL L^H + L dL^H ('U': dU^H U
 *   + U^H dU). -107 dC NULL, -108 bad lddc (A active), -111 dB NULL, -112 bad lddb.
 * dl_?potrs_rev: X: the solution. dB: in Xbar, out Bbar = A^{-1} Xbar (when A or B is active).
 *   DL_ACTIVE_A: dC (stored triangle, complex diagonal) += -tril(Bbar Y^H + X Z^H) with Z =
 *   L^{-1} Xbar, Y = L^H X ('U': -triu(Z X^H + Y Bbar^H), Z = U^{-H} Xbar, Y = U X). -6 X NULL
 *   (A active), -7 bad ldx; -107, -108, -111, -112 as potrs_fwd. A zero Xbar contributes
 *   exactly zero, also through a zero diagonal entry.
 *
 * dl_?posv: A := C, B := X = A^{-1} B (?potrf + ?potrs; nrhs = 0 still factors). Returns
 *   LAPACK's info (> 0: not positive definite: B is left unchanged, as LAPACK leaves it).
 * dl_?posv_fwd: on exit A = C, B = X and (A or B active) dB = dX = A^{-1}(dB - Herm(dS) X), dB
 *   read only if DL_ACTIVE_B, dA only if DL_ACTIVE_A; with DL_ACTIVE_A and DL_WANT_DLU also
 *   dA := dC (as dl_?potrf_fwd), otherwise dA is left unchanged. info > 0: B is unchanged, so
 *   dB keeps its tangent (zero if B is inactive), dC as potrf_fwd. -107 dA NULL, -108 bad
 *   ldda, -111 dB NULL, -112 bad lddb.
 * dl_?posv_rev: C, X: primal outputs. dB: in Xbar, out Bbar = A^{-1} Xbar (when A or B is
 *   active). DL_ACTIVE_A: dA (stored triangle): in Cbar (the factor's cotangent; a zero
 *   stored triangle is detected and the potrf adjoint skipped), out Sbar = the stored part of
 *   -Bbar X^H (one her2k) + the potrf adjoint of Cbar: the cost of A X = B, one solve and a
 *   rank-2 nrhs update. Not positive definite (C's diagonal, as potrf_rev): LAPACK left B
 *   unchanged, so Bbar = Xbar and dA gets potrf_rev's rule for Cbar alone. Returns that
 *   info; -6 X NULL (A active, C positive definite), -7 bad ldx, -107 dA NULL, -108 bad ldda,
 *   -111 dB NULL, -112 bad lddb.
 *
 * ---------------------------------------------------------------- trtrs
 * dl_?trtrs: B (n x nrhs) := op(A)^{-1} B, A triangular (LAPACK ?trtrs: ?trsm side L, alpha 1,
 *   plus its test for an exactly zero A(i,i) with diag 'N', made BEFORE B is touched: then B is
 *   left unchanged and i is returned). Checks at ?trtrs' positions (uplo 1 ... ldb 9).
 * dl_?trtrs_fwd: dl_?trsm_fwd with alpha 1: on exit B = X and dB = dX = op(A)^{-1} (dB -
 *   op(tri(dA)) X) (dB read if DL_ACTIVE_B, dA if DL_ACTIVE_A; dB written whenever non-NULL, zero
 *   when nothing is active). info > 0: B unchanged, so dB keeps its tangent (zero if B is
 *   inactive). -109 dA NULL / -110 bad ldda (A active), -113 dB NULL, -114 bad lddb.
 * dl_?trtrs_rev: X: the solution (read for DL_ACTIVE_A; ldx checked as ?trtrs' ldb: -9). dB:
 *   in Xbar, out Bbar = op(A)^{-H} Xbar; DL_ACTIVE_A: dA (its referenced triangle) += the
 *   projection of -Bbar X^H taken through op, as dl_?trsm_rev (op = T on complex data solves with
 *   conj(A)). info > 0 (B was left unchanged): Bbar = Xbar, dA untouched; the first zero A(i,i) is
 *   returned also with nothing active, as by dl_?trsm_rev. Errors as trtrs_fwd.
 *
 * ---------------------------------------------------------------- getri, inv
 * dl_?getri: A (the packed n x n LU of ?getrf, with ipiv) := X = A^{-1} = U^{-1} L^{-1} P^T (what
 *   ?getri computes, by a recursive in-place inversion in trmm/gemm: no workspace argument;
 *   ?getri's workspace query belongs to the Enzyme layer's ?getri_). Returns i > 0 if U(i,i) ==
 *   0: A is left unchanged, as LAPACK leaves it. -1 n, -2 A NULL, -3 lda, -4 ipiv NULL or an
 *   entry of ipiv[0..n-2] outside 1..n. As ?getri, the getri kernels apply the interchanges
 *   ipiv[0..n-2] only: ipiv[n-1] (n from a square ?getrf) is never read.
 * dl_?getri_fwd: dA: the packed tangent of the factors (dL strictly lower, dU upper) on entry,
 *   dX = -X dA X, dA = P (dL U + L dU), on exit (read and written only for DL_ACTIVE_A). 8/3 n^3
 *   flops beyond the primal, 2 n^2 workspace. info > 0: A and dA unchanged. -106 dA NULL,
 *   -107 bad ldda.
 * dl_?getri_rev: LU, ipiv: the factors (the primal INPUT, which the caller keeps), X: the primal
 *   output. dA: in Xbar, out the packed cotangent of the factors, Lbar = stril(P^T Abar U^H),
 *   Ubar = triu(L^H P^T Abar), Abar = -X^H Xbar X^H (overwritten). 8/3 n^3 flops, 2 n^2
 *   workspace. info > 0 (LAPACK computed nothing): dA unchanged. -106 X NULL, -107 bad ldx,
 *   -108 dA NULL, -109 bad ldda.
 * dl_?inv: A := A^{-1} (?getrf, then dl_?getri's inversion); ipiv: n pivots (output). Returns
 *   ?getrf's info; info > 0: A holds the factors (the inversion is skipped, as ?getri skips it).
 * dl_?inv_fwd: dA: in dA, out dX = -X dA X (two gemm, n^2 workspace). info > 0: A holds the LU
 *   and dA becomes the packed getrf tangent (dl_?getrf_fwd's), the derivative of what LAPACK
 *   left. -106 dA NULL, -107 bad ldda.
 * dl_?inv_rev: X = A^{-1} (primal output, nonsingular A). dA: in Xbar, out Abar = -X^H Xbar X^H
 *   (two gemm, n^2 workspace). -102 n, -103 X NULL, -104 bad ldx, -105 dA NULL, -106 bad ldda.
 *
 * ---------------------------------------------------------------- det, slogdet
 * Common: A (n x n) is factored in place (A := its packed LU, ipiv: n pivots, like ?getrf) and
 * the determinant read from it; derivatives are those of the scalar outputs with respect to A
 * (the LU left in A is a by-product without derivative): dA is READ by the fwd kernels and
 * ACCUMULATED INTO (+=) by the rev kernels. Returns ?getrf's info (rev kernels: the first zero
 * U(i,i), 1-based, or 0); -1 n, -2 A NULL, -3 lda, -4 ipiv NULL (rev: or an entry outside 1..n);
 * -(100+k) a NULL scalar k or a bad ldda. A zero tangent / cotangent contributes exactly zero.
 * dl_?det: *det = sign(P) prod U_ii (exactly 0 when a U_ii is 0), the product kept as m 2^e:
 *   it over- or underflows only where det itself is out of range (diag(1e300, 1e300, 1e-300,
 *   1e-300) gives 1). The derivatives below keep det's scale apart too (folded into each entry
 *   when it is not a normal number), and det_rev takes the inverse of 2^k A when A^{-1} itself
 *   overflows: they do not leave the range through det or through A^{-1} alone.
 * dl_?det_fwd: *ddet = det tr(A^{-1} dA) (A^{-1} by dl_?getri's inversion, n^2 workspace); A
 *   singular: tr(adj(A) dA): exact with one zero U_jj (any j: getrf tangent for j = n-1, the
 *   rank-one adjugate from three trsv otherwise), NaN with two or more.
 * dl_?det_rev: LU, ipiv: the factored A. dA += detbar conj(det) A^{-H}; A singular:
 *   detbar adj(A)^H, as det_fwd (NaN with two or more zero pivots).
 * dl_?slogdet: *sign = sign(P) prod U_ii / |U_ii| (complex: on the unit circle), *logabsdet =
 *   sum log|U_ii| (summed in double); (0, -inf) when a U_ii is 0.
 * dl_?slogdet_fwd: t = tr(A^{-1} dA): *dlogabsdet = Re t, *dsign = i Im(t) sign (complex; 0 for
 *   real data). Singular A: *dlogabsdet = NaN, *dsign = NaN (complex) / 0 (real).
 * dl_?slogdet_rev: dA += c A^{-H}, c = *labar + i Im(conj(sign) *signbar) (complex; c = *labar
 *   for real data, whose signbar is not read). Singular A: dA := NaN unless *labar == 0 and
 *   (complex) *signbar == 0.
 * dl_?slogdet_inv: the forward pass of a reverse-mode slogdet: *sign, *logabsdet as
 *   dl_?slogdet, and A := A^{-1}, by Gauss-Jordan elimination with ?getrf's partial pivoting
 *   (ipiv: its row interchanges; the pivot values are U's diagonal, so the outputs agree with
 *   dl_?slogdet's to rounding). 2 n^3 flops in one pass,
 *   less time than ?getrf + the inversion (bench/RESULTS.md). Returns 0, or k when step k meets
 *   an exactly zero pivot: then (0, -inf), A := NaN (no inverse exists), ipiv(i) = i for i > k;
 *   -1 n, -2 A, -3 lda, -4 ipiv, -105 sign, -106 logabsdet NULL. *pivot_ratio (when not NULL):
 *   min |d_k| / max |d_k| over the pivot values (|.| the larger of |Re|, |Im|; 0 at a zero pivot,
 *   1 for n = 0). For a matrix singular to working precision whether a pivot comes out exactly 0
 *   depends on the elimination's rounding, and dl_?slogdet (?getrf) may decide otherwise
 *   (repeated rows or columns do this; this elimination's smallest pivot then stays up to ~300 n
 *   eps); difflapack.slogdet_vjp recomputes with ?getrf when the ratio is <= sqrt(eps).
 * dl_?slogdet_inv_rev: X, sign: the A^{-1} and the sign dl_?slogdet_inv returned. dA += c X^H,
 *   c as above (one pass; X is not modified). sign == 0 (singular A): dA := NaN unless the
 *   cotangent is zero. -102 n, -103 X NULL, -104 ldx, -105 sign, -106 signbar (complex), -107
 *   labar NULL, -108 dA NULL, -109 ldda.
 */

/* ---------------------------------------------------------------- misc */
/* dl_?copy_checked: C := A (m x n) as LAPACK's ?lacpy copies it -- uplo 'U': the upper
 *   trapezoid, 'L': the lower one (diagonal included), anything else: all of it -- with zeros
 *   elsewhere, in one pass; the NumPy API's copy-in (copy, zero fill and check_finite fused).
 *   Returns 1 when an entry BLAS reads is inf or NaN (diag 'U' with uplo 'U'/'L': the
 *   diagonal is copied but not read, so not checked), 0 otherwise; -3 for m < 0, -4 for
 *   n < 0, -6 for lda < max(1, m), -8 for ldc < max(1, m) (nothing written). C == NULL: the
 *   test alone, nothing copied (ldc is not read). */
#define DL_DECLARE_COPY_CHECKED(p, T, R, is_complex)                                             \
    int dl_##p##copy_checked(char uplo, char diag, int m, int n, const T *A, int lda, T *C, int ldc);
DL_PRECISIONS(DL_DECLARE_COPY_CHECKED)

/* Number of BLAS threads used by the backing OpenBLAS (for benchmarks). */
void dl_set_num_threads(int nthreads);
const char *dl_version(void);

/* The workspace cache (csrc/workspace.c): freed work arrays and Enzyme tapes of 1 MiB or more
 * are kept for reuse, up to a limit of DIFFLAPACK_WORKSPACE_CACHE_MB (MiB, read at first use;
 * default 128, 0 = no cache), so that repeated derivative calls do not page-fault fresh memory
 * in. dl_set_workspace_cache sets the limit in bytes (and frees what is over it),
 * dl_workspace_cache returns it, dl_workspace_cached_bytes what is held now, and
 * dl_release_workspace frees all of it. Thread-safe. */
void dl_set_workspace_cache(__SIZE_TYPE__ bytes); /* size_t, without <stddef.h> */
__SIZE_TYPE__ dl_workspace_cache(void);
__SIZE_TYPE__ dl_workspace_cached_bytes(void);
void dl_release_workspace(void);

#ifdef __cplusplus
}
#endif
#endif /* DIFFLAPACK_H */
