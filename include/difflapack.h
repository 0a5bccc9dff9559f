/* difflapack.h -- tangent (forward) and adjoint (reverse) kernels for BLAS/LAPACK linear
 * solvers: trsv, trsm, getrf, getrs, gesv, in the four BLAS precisions s, d, c, z
 * (column-major, LP64 ints).
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
 *    allocated. Outputs are untouched on an error < 0.
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
 *  - Kernels never form inverses or dense permutation matrices; pivots go through ?laswp.
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
#define DL_ACTIVE_A      1u   /* the matrix (triangle / general A / packed LU)       */
#define DL_ACTIVE_B      2u   /* the right-hand side / vector                         */
#define DL_ACTIVE_ALPHA  4u   /* trsm's alpha                                         */
#define DL_WANT_DLU      8u   /* gesv_fwd: also produce the tangent of the packed LU  */

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
                    T *dA, int ldda, const T *X, int ldx, T *dB, int lddb))

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
 *   written whenever dx != NULL (zero when no input is active). Errors: -109 bad ldda (A
 *   active), -112 dx NULL while an input is active, -113 incdx == 0.
 * dl_?trsv_rev: x: the solution (primal output). If any input is active, dx: on entry xbar, on
 *   exit bbar = op(A)^{-H} xbar (also when only A is active). If DL_ACTIVE_A, dA (its
 *   referenced triangle only) += the projection of -bbar x^H (trans N), -conj(x) bbar^T (T) or
 *   -x bbar^H (C). Nothing active: nothing touched. Errors as trsv_fwd. A zero xbar contributes
 *   exactly zero, also with a zero diagonal entry.
 *
 * dl_?trsm: B := alpha op(A)^{-1} B (side L) or alpha B op(A)^{-1} (side R); B is m x n, A is
 *   k x k with k = m (L) or n (R). alpha == 0 sets B = 0 without reading it.
 * dl_?trsm_fwd: on entry B, dB (read only if DL_ACTIVE_B), *dalpha (only if DL_ACTIVE_ALPHA),
 *   dA (only if DL_ACTIVE_A). On exit B = X (bitwise what dl_?trsm gives) and
 *     dB = dX = op(A)^{-1} (alpha dB + dalpha B - op(tri(dA)) X)            (side L)
 *          dX = (alpha dB + dalpha B - X op(tri(dA))) op(A)^{-1}             (side R).
 *   dB is written whenever dB != NULL (zero when no input is active). Workspace: m*n elements
 *   when A and (B or alpha) are active. Errors: -109 dalpha NULL (alpha active), -113 bad ldda
 *   (A active), -116 dB NULL while an input is active, -117 bad lddb.
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
 *   -112 bad ldda (A active), -116 bad ldb0, -117 dB NULL, -118 bad lddb, -119 dalpha NULL.
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
 *   LAPACK's info; -108 bad ldda or dA NULL (A active).
 * dl_?getrf_rev: LU, ipiv: the primal outputs. dLU: on entry the packed cotangent of the
 *   factors (all m x n entries read), on exit Abar (same m x n layout; overwritten, not
 *   accumulated). Returns 0 (or the position of a zero pivot the derivative met, after filling
 *   as described above); -5 an ipiv entry outside 1..m; -108 bad lddlu / dLU NULL.
 *
 * ---------------------------------------------------------------- getrs
 * dl_?getrs: B (n x nrhs) := op(A)^{-1} B with A = P L U given packed (trans N, T, C). Like
 *   ?getrs, plus: returns i > 0 if U(i,i) == 0 (B then holds what ?getrs computed, inf/nan);
 *   -6 if an ipiv entry is outside 1..n.
 * dl_?getrs_fwd: DL_ACTIVE_A: dLU is the tangent of the packed factors; DL_ACTIVE_B: dB holds
 *   the tangent of B on entry (otherwise not read, taken as 0). On exit B = X and, when either
 *   is active, dB = dX = op(A)^{-1} (dB - op(dA) X) with dA = P (dL U + L dU). -108 bad lddlu /
 *   dLU NULL (A active), -112 dB NULL, -113 bad lddb (an input active).
 * dl_?getrs_rev: X: primal output. dB: in Xbar, out Bbar = op(A)^{-H} Xbar (whenever A or B is
 *   active). If DL_ACTIVE_A: dLU += packed cotangent of the factors (all n x n entries updated).
 *   -8 bad ldx; -108, -112, -113 as getrs_fwd. Zero columns of Xbar contribute exactly zero.
 *
 * ---------------------------------------------------------------- gesv
 * dl_?gesv: A := LU, B := X = A^{-1} B (?getrf + ?getrs 'N'). Returns LAPACK's info (> 0:
 *   singular: B is left unchanged, as LAPACK leaves it).
 * dl_?gesv_fwd: on exit A = LU, ipiv, B = X and (if A or B is active) dB = dX = A^{-1}(dB - dA
 *   X), dB read only if DL_ACTIVE_B and dA only if DL_ACTIVE_A; if DL_ACTIVE_A and DL_WANT_DLU,
 *   also dA := packed dLU (as dl_?getrf_fwd); otherwise dA is left unchanged. info > 0: B is
 *   unchanged, so dB keeps its tangent (zero if B is inactive). -107 bad ldda / dA NULL,
 *   -111 dB NULL, -112 bad lddb.
 * dl_?gesv_rev: LU, ipiv, X: primal outputs. dB: in Xbar, out Bbar = A^{-H} Xbar (whenever A or
 *   B is active). If DL_ACTIVE_A: dA: in LUbar (cotangent of the packed factors; all zero is
 *   detected and the getrf adjoint skipped), out Abar = -Bbar X^H + getrf adjoint of LUbar.
 *   With a zero U(i,i) (info > 0, B was left unchanged) Bbar = Xbar and Abar is the getrf
 *   adjoint of LUbar alone. -5 ipiv outside 1..n, -7 bad ldx, -108 bad ldda / dA NULL,
 *   -111 dB NULL, -112 bad lddb.
 */

/* ---------------------------------------------------------------- misc */
/* Number of BLAS threads used by the backing OpenBLAS (for benchmarks). */
void dl_set_num_threads(int nthreads);
const char *dl_version(void);

#ifdef __cplusplus
}
#endif
#endif /* DIFFLAPACK_H */
