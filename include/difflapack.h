/* difflapack.h -- tangent (forward) and adjoint (reverse) kernels for BLAS/LAPACK
 * linear solvers: trsv, trsm, getrf, getrs, gesv (float64, column-major, LP64 ints).
 *
 * Conventions shared by every kernel
 * ----------------------------------
 *  - Scalars and flags are passed BY VALUE (flags are the BLAS/LAPACK letters, any case).
 *  - Return value: 0 on success; -i when argument i of the *primal* BLAS/LAPACK routine is
 *    illegal (xerbla numbering, e.g. -3 for a bad `diag` of dtrsv); i > 0 when the routine
 *    meets an exactly zero pivot / diagonal entry at position i (1-based, like LAPACK info);
 *    DL_ERR_ALLOC when workspace could not be allocated. Outputs are untouched on -i.
 *  - `active` is a bit mask of DL_ACTIVE_* saying which inputs carry derivatives.
 *    Work for inactive inputs is skipped and their derivative pointers are never read or
 *    written (they may be NULL).
 *  - *_fwd kernels are fused primal+tangent: they take the primal inputs in place exactly
 *    like the BLAS/LAPACK routine, plus tangent buffers laid out like the primal buffers, and
 *    return primal outputs and tangents of the outputs.
 *  - *_rev kernels take the primal OUTPUTS (never the overwritten inputs) and, in the
 *    in/out buffers, the cotangent of the output on entry; on exit that buffer holds the
 *    cotangent of the input it overwrote (exactly Enzyme's semantics for in-place
 *    arguments). Cotangents of read-only inputs are ACCUMULATED (+=).
 *  - Pivots (ipiv, 1-based like LAPACK) and info carry no derivative.
 *  - Kernels never form inverses or dense permutation matrices; pivots go through dlaswp.
 */
#ifndef DIFFLAPACK_H
#define DIFFLAPACK_H

#ifdef __cplusplus
extern "C" {
#endif

#define DIFFLAPACK_VERSION "0.1.0"

/* activity bits */
#define DL_ACTIVE_A      1u   /* the matrix (triangle / general A / packed LU)       */
#define DL_ACTIVE_B      2u   /* the right-hand side / vector                         */
#define DL_ACTIVE_ALPHA  4u   /* trsm's alpha                                         */
#define DL_WANT_DLU      8u   /* gesv_fwd: also produce the tangent of the packed LU  */

#define DL_ERR_ALLOC (-1000)

/* ---------------------------------------------------------------- trsv */
/* Common to the trsv/trsm kernels: only the uplo triangle of A (and of dA) is read, without
 * its diagonal when diag == 'U'; transa 'C' == 'T'; flags in any case. Primal argument errors
 * return dtrsv's / dtrsm's xerbla position (-i). An exactly zero A(i,i) with diag == 'N' is
 * not an error: the kernels compute what BLAS computes (inf/nan) and return i (1-based, the
 * first such i, as LAPACK's dtrtrs), also when there is nothing to solve (m or n == 0). */

/* x := op(A)^{-1} x (BLAS dtrsv; negative incx as BLAS defines it: element i of x lives at
 * x[(n-1-i)*|incx|]). Returns i > 0 if A(i,i) == 0 and diag == 'N'. */
int dl_dtrsv(char uplo, char trans, char diag, int n, const double *A, int lda,
             double *x, int incx);
/* on entry x = b, dx = db (read only if DL_ACTIVE_B; otherwise treated as 0);
 * on exit  x = op(A)^{-1} b,  dx = op(A)^{-1} (db - op(tri(dA)) x)  (dA read if DL_ACTIVE_A).
 * dx is written whenever dx != NULL (zero when no input is active); it may be NULL only when
 * no input is active. Errors: -109 bad ldda (A active), -112 dx NULL, -113 incdx == 0. */
int dl_dtrsv_fwd(unsigned active, char uplo, char trans, char diag, int n,
                 const double *A, int lda, const double *dA, int ldda,
                 double *x, int incx, double *dx, int incdx);
/* x: the solution (primal output). If any input is active, dx: on entry xbar, on exit
 * bbar = op(A)^{-T} xbar (also when only A is active). If DL_ACTIVE_A, dA (its triangle only;
 * strict triangle if diag == 'U'; nothing else is read or written) += -bbar x^T (trans N) or
 * -x bbar^T (trans T/C). With no input active nothing is touched (dA, dx may be NULL).
 * Errors: -109 bad ldda (A active), -112 dx NULL, -113 incdx == 0. */
int dl_dtrsv_rev(unsigned active, char uplo, char trans, char diag, int n,
                 const double *A, int lda, double *dA, int ldda,
                 const double *x, int incx, double *dx, int incdx);

/* ---------------------------------------------------------------- trsm */
/* B := alpha op(A)^{-1} B (side L) or alpha B op(A)^{-1} (side R), B is m x n; A is k x k
 * with k = m (L) or n (R). BLAS dtrsm (alpha == 0 sets B = 0 without reading it). */
int dl_dtrsm(char side, char uplo, char transa, char diag, int m, int n, double alpha,
             const double *A, int lda, double *B, int ldb);
/* on entry B, dB (tangent of B, read only if DL_ACTIVE_B); dalpha read only if
 * DL_ACTIVE_ALPHA, dA only if DL_ACTIVE_A. On exit B = X (bitwise what dl_dtrsm gives) and
 *   dB = dX = op(A)^{-1} (alpha dB + dalpha B - op(tri(dA)) X)            (side L)
 *        dX = (alpha dB + dalpha B - X op(tri(dA))) op(A)^{-1}             (side R).
 * Any alpha, including 0. dB is written whenever dB != NULL (zero when no input is active);
 * it may be NULL only when no input is active. Workspace: m*n doubles when A and (B or
 * alpha) are active. Errors: -113 bad ldda (A active), -116 dB NULL, -117 bad lddb. */
int dl_dtrsm_fwd(unsigned active, char side, char uplo, char transa, char diag, int m, int n,
                 double alpha, double dalpha, const double *A, int lda, const double *dA, int ldda,
                 double *B, int ldb, double *dB, int lddb);
/* X: the primal output (ldx checked like dtrsm's ldb: -11). B0: the original B if the caller
 * still has it, else NULL (then alphabar uses <Xbar, X>/alpha: needs alpha != 0; alpha == 0
 * with DL_ACTIVE_ALPHA and B0 == NULL returns -115). B0 is read only for DL_ACTIVE_ALPHA.
 * With G = op(A)^{-T} Xbar (side L) or Xbar op(A)^{-T} (side R), if any input is active:
 *   dB: on entry Xbar, on exit Bbar = alpha G (also when only A or alpha is active);
 *   DL_ACTIVE_A:     dA += tri-projection of -G X^T / -X G^T (side L, transa N / T) or
 *                    -X^T G / -G^T X (side R); entries outside tri(A) never read or written;
 *   DL_ACTIVE_ALPHA: *dalpha += <G, B0>.
 * With no input active nothing is touched. Errors: -112 bad ldda (A active), -116 bad ldb0,
 * -117 dB NULL, -118 bad lddb, -119 dalpha NULL (alpha active). */
int dl_dtrsm_rev(unsigned active, char side, char uplo, char transa, char diag, int m, int n,
                 double alpha, const double *A, int lda, double *dA, int ldda,
                 const double *X, int ldx, const double *B0, int ldb0,
                 double *dB, int lddb, double *dalpha);

/* ---------------------------------------------------------------- getrf */
/* LU notation: A (m x n) = P L U, k = min(m,n); L (m x k, unit lower) and U (k x n, upper)
 * packed in one m x n array as dgetrf leaves them; ipiv[k] 1-based row interchanges (P).
 * Every derivative holds the pivots fixed (as the primal chose them): P^T dA = dL U + L dU.
 * "Packed tangent/cotangent" = one m x n array, dL (Lbar) strictly below the diagonal,
 * dU (Ubar) on and above it. Only DL_ACTIVE_A is meaningful for getrf.
 * Zero pivots: the derivative divides by U(j,j) only for j < k with rows below (j < m-1).
 * If such a pivot is exactly zero the derivative is undefined: the derivative output is
 * filled with NaN. A zero LAST pivot of a square or wide matrix leaves it finite. */

/* A (m x n) := P L U packed, ipiv[min(m,n)] 1-based. Returns LAPACK's info (> 0: U(info,info)
 * is exactly zero; the factorisation is completed). -1 m, -2 n, -4 lda. */
int dl_dgetrf(int m, int n, double *A, int lda, int *ipiv);
/* fused: on exit A = LU, ipiv, and dA = packed tangent (strict lower: dL, upper: dU), by a
 * column-recursive (Toledo) differentiation of the LU with fixed pivots, ~n^3 flops mostly in
 * gemm. Returns LAPACK's info (also when dA was set to NaN, see above); -108 bad ldda. */
int dl_dgetrf_fwd(unsigned active, int m, int n, double *A, int lda, int *ipiv,
                  double *dA, int ldda);
/* LU, ipiv: the primal outputs. dLU: on entry the packed cotangent of the factors (all m x n
 * entries read), on exit Abar (same m x n layout; overwritten, not accumulated).
 * Returns 0; j > 0 if the derivative needs the zero pivot U(j,j) (dLU := NaN); -5 if an
 * ipiv entry is outside 1..m; -108 bad lddlu. */
int dl_dgetrf_rev(unsigned active, int m, int n, const double *LU, int lda, const int *ipiv,
                  double *dLU, int lddlu);

/* ---------------------------------------------------------------- getrs */
/* B (n x nrhs) := op(A)^{-1} B with A = P L U given packed (trans N, T or C == T).
 * Like dgetrs, plus: returns i > 0 if U(i,i) == 0 (B then holds what dgetrs computed,
 * inf/nan); -6 if an ipiv entry is outside 1..n. */
int dl_dgetrs(char trans, int n, int nrhs, const double *LU, int lda, const int *ipiv,
              double *B, int ldb);
/* active: DL_ACTIVE_A (dLU is the tangent of the packed factors: dL from its strict lower,
 * dU from its upper triangle), DL_ACTIVE_B (dB holds the tangent of B on entry; otherwise
 * it is not read and taken as 0). On exit B = X and, when either is active,
 * dB = dX = op(A)^{-1} (dB - op(dA) X), dA = P (dL U + L dU); nothing active: dB untouched.
 * Returns as dl_dgetrs; -108 bad lddlu, -113 bad lddb. */
int dl_dgetrs_fwd(unsigned active, char trans, int n, int nrhs, const double *LU, int lda,
                  const double *dLU, int lddlu, const int *ipiv,
                  double *B, int ldb, double *dB, int lddb);
/* X: primal output. dB: in Xbar, out Bbar = op(A)^{-T} Xbar (whenever A or B is active).
 * If DL_ACTIVE_A: dLU += packed cotangent of the factors (all n x n entries updated):
 *   trans N: Lbar = -stril(Y2 (U X)^T), Ubar = -triu(Y1 X^T), Y1 = U^{-T} Xbar, Y2 = L^{-T} Y1;
 *   trans T: Lbar = -stril(X' Y1^T), Ubar = -triu((L^T X') Bbar^T), X' = P^T X,
 *            Y1 = L^{-1} P^T Xbar.
 * Returns as dl_dgetrs (-8: bad ldx); -108 bad lddlu, -113 bad lddb. */
int dl_dgetrs_rev(unsigned active, char trans, int n, int nrhs, const double *LU, int lda,
                  double *dLU, int lddlu, const int *ipiv, const double *X, int ldx,
                  double *dB, int lddb);

/* ---------------------------------------------------------------- gesv */
/* A := LU, B := X = A^{-1} B. Returns LAPACK's info (> 0: singular, X not computed). */
int dl_dgesv(int n, int nrhs, double *A, int lda, int *ipiv, double *B, int ldb);
/* on exit A = LU, ipiv, B = X and (if A or B is active) dB = dX = A^{-1}(dB - dA X), with dB
 * read only if DL_ACTIVE_B and dA only if DL_ACTIVE_A; if DL_ACTIVE_A and DL_WANT_DLU, also
 * dA := packed dLU (as dl_dgetrf_fwd); otherwise dA is left unchanged.
 * info > 0 (singular): dB := NaN (X does not exist); dA as dl_dgetrf_fwd if DL_WANT_DLU.
 * Returns LAPACK's info; -107 bad ldda, -112 bad lddb. */
int dl_dgesv_fwd(unsigned active, int n, int nrhs, double *A, int lda, double *dA, int ldda,
                 int *ipiv, double *B, int ldb, double *dB, int lddb);
/* LU, ipiv, X: primal outputs. dB: in Xbar, out Bbar = A^{-T} Xbar (whenever A or B is
 * active). If DL_ACTIVE_A: dA: in LUbar (cotangent of the packed factors; all zero is
 * detected and the getrf adjoint skipped), out Abar = -Bbar X^T + getrf adjoint of LUbar.
 * A zero U(i,i): dB (and dA) := NaN, returns i. -5 ipiv outside 1..n, -7 bad ldx,
 * -108 bad ldda, -112 bad lddb. */
int dl_dgesv_rev(unsigned active, int n, int nrhs, const double *LU, int lda, const int *ipiv,
                 double *dA, int ldda, const double *X, int ldx, double *dB, int lddb);

/* ---------------------------------------------------------------- misc */
/* Number of BLAS threads used by the backing OpenBLAS (for benchmarks). */
void dl_set_num_threads(int nthreads);
const char *dl_version(void);

#ifdef __cplusplus
}
#endif
#endif /* DIFFLAPACK_H */
