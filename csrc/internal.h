/* internal.h -- what the difflapack kernels share: flag parsing, argument checks, workspace,
 * and (for a type-generic source, which includes precision.h first) the BLAS-3 helpers of
 * blas_ext.c for its precision. */
#ifndef DIFFLAPACK_INTERNAL_H
#define DIFFLAPACK_INTERNAL_H
#include <stddef.h>
#include "blas_proto.h"
#include "difflapack.h"

/* ---- precision-independent (common.c) */
/* upper-cased letter, or 0 if not one of `allowed` */
char dl_flag(char c, const char *allowed);
static inline int dl_max(int a, int b) { return a > b ? a : b; }
static inline int dl_min(int a, int b) { return a < b ? a : b; }
/* Workspace (workspace.c): a block of `bytes` (0 gives a valid block), from the cache of freed
 * large blocks when one fits; dl_free only takes blocks from dl_alloc_bytes. */
void *dl_alloc_bytes(size_t bytes);
void dl_free(void *p);
/* 1 if every pivot lies in 1..rows (what ?laswp needs to stay inside the array). */
int dl_pivots_in_range(int count, const int *ipiv, int rows);

#ifdef DL_P /* ---- a type-generic source: helpers of its precision (blas_ext.c) */
static inline T *dl_alloc(size_t count) { return (T *)dl_alloc_bytes(sizeof(T) * count); }

/* Rows 0..k-1 of the m x ncols M interchanged by the pivots ipiv (1-based, ?getrf's):
 * forward computes P^T M, backward P M (?laswp with incx +1 / -1). */
static inline void IFN(swap_rows_forward)(int ncols, T *M, int ldm, int k, const int *ipiv) {
    const int inc = 1;
    if (ncols > 0 && k > 0) BLAS(laswp)(&ncols, M, &ldm, &inc, &k, ipiv, &inc);
}
static inline void IFN(swap_rows_backward)(int ncols, T *M, int ldm, int k, const int *ipiv) {
    const int inc = 1, dec = -1;
    if (ncols > 0 && k > 0) BLAS(laswp)(&ncols, M, &ldm, &inc, &k, ipiv, &dec);
}

/* C := C + alpha * op(A) op(B) on ONE triangle of the n x n matrix C only ('U' or 'L',
 * strict != 0 excludes the diagonal); op is N, T or C; op(A) is n x k, op(B) is k x n. Blocked
 * recursively so the flops are ~ n^2 k (half a gemm) and the entries outside the triangle are
 * never touched. */
void IFN(gemm_tri)(char uplo, int strict, char transa, char transb, int n, int k, T alpha,
                   const T *A, int lda, const T *B, int ldb, T *C, int ldc);
/* C := alpha * op(tri(A)) * B (side 'L') or alpha * B * op(tri(A)) (side 'R'), where tri(A)
 * is the uplo triangle of A (strict != 0: the STRICT triangle, zero diagonal; the diagonal of A
 * is then never read). B is m x n and is not modified unless C == B (same ld), which is
 * allowed (in place). Entries of A outside the triangle are never read. Exact for the strict
 * triangle (one trmm on the shifted (k-1) block; no cancellation). */
void IFN(trmm_tri)(char side, char uplo, char transa, int strict, int m, int n, T alpha,
                   const T *A, int lda, const T *B, int ldb, T *C, int ldc);
/* B := alpha op(A)^{-1} B (side 'L') or alpha B op(A)^{-1} (side 'R'): ?trsm's contract (flags
 * upper case, B not read when alpha == 0), computed by recursive halving of the triangle so
 * that nearly all flops run in ?gemm (faster than OpenBLAS's trsm); ?trsm solves the small
 * diagonal blocks. */
void IFN(trsm_blocked)(char side, char uplo, char transa, char diag, int m, int n, T alpha,
                       const T *A, int lda, T *B, int ldb);
/* B := op(A)^{-1} B for an n x nrhs block (?trsm's flags, side L, alpha 1). One right-hand
 * side goes to ?trsv: OpenBLAS's trsm/trmm with one column cost ~2.5x its trsv/trmv, which
 * would dominate the derivatives of the solves (level-2 operations themselves). */
void IFN(tri_solve)(char uplo, char trans, char diag, int n, int nrhs, const T *A, int lda, T *B,
                    int ldb);
/* x := op(A)^{-1} x: ?trsv's contract (flags upper case; 'R' = conj(A), OpenBLAS's extension,
 * complex data), except that it never reads past the end of a unit-stride x. OpenBLAS 0.3.21's
 * complex ?gemv_n kernels (Haswell to Cooperlake, the version of Debian 12) read one element
 * past the vector they are given, and ?trsv 'U' 'N' / 'U' 'R' hand them the last block of the
 * caller's x: a segfault when x ends at an unmapped page. Those cases run on a padded copy (the
 * same routine on the same values, so the same bits; O(n) next to the O(n^2) solve). Every
 * solve with a caller's vector goes through here. The same over-read happens in the library's
 * one-column ?trtrs_, and with several threads ?getrs_ / ?gesv_ (they run that ?trsv): the
 * Enzyme layer runs those on padded copies too (column_guard, enzyme_rules.h). */
#define DL_TRSV_SAFE_N 32 /* above: ?trsv calls ?gemv on a block of x (DTB_ENTRIES 64 on x86-64) */
#define DL_TRSV_PAD 8     /* elements of padding */
void IFN(trsv)(char uplo, char trans, char diag, int n, const T *A, int lda, T *x, int incx);
/* Fill an m x n matrix with NaN (derivative undefined). */
void IFN(fill_nan)(int m, int n, T *A, int lda);
/* Zero the part of the n x n matrix A outside the (strict) uplo triangle. */
void IFN(project_tri)(char uplo, int strict, int n, T *A, int lda);
/* 1 if every entry of the m x n matrix is exactly zero. */
int IFN(all_zero)(int m, int n, const T *A, int lda);
/* A := conj(A) for an m x n matrix (nothing for real data). */
void IFN(conj_matrix)(int m, int n, T *A, int lda);
/* v := conj(v) for the n elements of a strided vector (either sign of inc, INT_MIN included;
 * nothing for real data). */
static inline void IFN(conj_vector)(int n, T *v, int inc) {
    const size_t step = (size_t)(inc < 0 ? -(long long)inc : (long long)inc);
    if (DL_IS_COMPLEX)
        for (int i = 0; i < n; ++i) v[(size_t)i * step] = CONJ(v[(size_t)i * step]);
}
/* W (ld m) := conj(A) (a plain copy for real data). */
void IFN(copy_conj)(int m, int n, const T *A, int lda, T *W);
/* sum_ij conj(P(i,j)) Q(i,j) of two m x n matrices (the complex inner product <P, Q>). */
T IFN(inner)(int m, int n, const T *P, int ldp, const T *Q, int ldq);
/* 1 if the stored (uplo) triangle of the n x n matrix A is zero outside its leading k x k
 * block (k = 0: the whole triangle); cholesky.c. */
int IFN(triangle_zero_outside)(char uplo, int n, int k, const T *A, int lda);
/* 1-based position of the first exactly zero diagonal entry A(i,i) of the n x n matrix, else 0
 * (LAPACK's info for a singular triangle / U factor). */
int IFN(first_zero_diagonal)(int n, const T *A, int lda);
/* The getrf derivative on the caller's m x n buffer D (lu_rule.c): adjoint != 0: D = packed LUbar in,
 * Abar out; adjoint == 0: D = dA in, packed dLU out. Returns the first zero pivot the derivative
 * met, 0, or DL_ERR_ALLOC. A quotient by a zero pivot follows dl_pivot_divide, and what it makes
 * undefined spreads with strong zeros (an exactly zero coefficient times it contributes exactly
 * zero; lu_rule.c), so that the two rules stay each other's exact transpose. */
int IFN(lu_rule)(int adjoint, int m, int n, const T *LU, int lda, const int *ipiv, T *D, int ldd);
/* A := A^{-1} in place from its packed n x n LU and pivots (what ?getri computes; inverse.c):
 * like ?getri, only the interchanges ipiv[0..n-2] are applied, ipiv[n-1] is not read. No U(i,i)
 * may be zero (the caller checks). */
void IFN(lu_inverse)(int n, T *A, int lda, const int *ipiv);
/* The same with the first npiv interchanges (det.c: all n, the P of ?getrs / ?laswp, so that the
 * inverse agrees with the sign(P) it counts for any pivots in range). */
void IFN(lu_inverse_pivots)(int n, T *A, int lda, const int *ipiv, int npiv);
/* A := A^{-1} in place by Gauss-Jordan elimination with partial pivoting (gauss_jordan.c):
 * ?getrf's pivots into ipiv (n, 1-based), the pivot values (U's diagonal) into pivot (n).
 * Returns 0; k > 0 when step k-1 meets an exactly zero pivot (A is then partly eliminated, ipiv
 * and pivot are set up to k); DL_ERR_ALLOC. */
int IFN(gauss_jordan_inverse)(int n, T *A, int lda, int *ipiv, T *pivot);
/* x / d where d may be an exactly zero pivot: NaN when x != 0 (undefined), 0 when x == 0 (an
 * exactly zero (co)tangent contributes exactly zero). */
static inline T dl_pivot_divide(T x, T d) {
    if (d != 0) return x / d;
    return x == 0 ? (T)0 : NAN_T;
}

/* ---- forward kernels with a caller-chosen primal solve (triangular.c, lu.c). Each fused
 * forward kernel solves the primal system once, in place, with the contract of the BLAS/LAPACK
 * routine (flags upper case, as the kernel parsed them). The public kernels use their own
 * solve (trsm: difflapack's blocked one); the Enzyme layer passes the library routine itself so
 * that its primal results are bitwise the library's, or that routine wrapped in conjugations
 * (enzyme_rules.h: the kernels then run on conjugated data, where conj(A) X = B is an 'N'
 * system). */
typedef void (*IFN(trsv_solver))(char uplo, char trans, char diag, int n, const T *A, int lda, T *x,
                                 int incx);
typedef void (*IFN(trsm_solver))(char side, char uplo, char transa, char diag, int m, int n, T alpha,
                                 const T *A, int lda, T *B, int ldb);
typedef void (*IFN(getrs_solver))(char trans, int n, int nrhs, const T *LU, int lda, const int *ipiv,
                                  T *B, int ldb);
int IFN(trsv_fwd_solving)(IFN(trsv_solver) solve, unsigned active, char uplo, char trans, char diag,
                          int n, const T *A, int lda, const T *dA, int ldda, T *x, int incx, T *dx,
                          int incdx);
int IFN(trsm_fwd_solving)(IFN(trsm_solver) solve, unsigned active, char side, char uplo, char transa,
                          char diag, int m, int n, const T *alpha, const T *dalpha, const T *A,
                          int lda, const T *dA, int ldda, T *B, int ldb, T *dB, int lddb);
int IFN(getrs_fwd_solving)(IFN(getrs_solver) solve, unsigned active, char trans, int n, int nrhs,
                           const T *LU, int lda, const T *dLU, int lddlu, const int *ipiv, T *B,
                           int ldb, T *dB, int lddb);
/* getri: invert(n, A, lda, ipiv) computes A := A^{-1} in place from the packed LU and pivots
 * (inverse.c; the public kernel's is IFN(lu_inverse)). */
typedef void (*IFN(getri_solver))(int n, T *A, int lda, const int *ipiv);
int IFN(getri_fwd_solving)(IFN(getri_solver) invert, unsigned active, int n, T *A, int lda, const int *ipiv,
                           T *dA, int ldda);

/* ---- the LU rules on factors computed elsewhere (lu.c), for the Enzyme layer's ?gesv, whose
 * factors come from ?gesv_ itself. getrf_tangent: dA (m x n) in, the packed tangent dLU out, as
 * getrf_fwd after its factorization. gesv_matrix_adjoint: dA holds the cotangent of the factors
 * LU (n x n) on entry and Abar on exit: the getrf adjoint of it (skipped when it is zero) minus
 * Bbar X^H, with Bbar = A^{-H} Xbar already computed (n x nrhs, nrhs = 0: no such term). Both
 * return 0, the first zero pivot the derivative met, or DL_ERR_ALLOC. */
int IFN(getrf_tangent)(int m, int n, const T *LU, int lda, const int *ipiv, T *dA, int ldda);
int IFN(gesv_matrix_adjoint)(int n, int nrhs, const T *LU, int lda, const int *ipiv, T *dA, int ldda,
                             const T *X, int ldx, const T *Bbar, int ldbb);
/* The same for the Cholesky family (cholesky.c), for the Enzyme layer's ?posv, whose factor
 * comes from ?posv_ itself. potrf_tangent_of: the stored triangle of dA in, the factor's tangent
 * out, as potrf_fwd after its factorization (info: potrf's). posv_matrix_adjoint: dA holds the
 * factor's cotangent on entry and the stored triangle's cotangent on exit: the potrf adjoint of
 * it (skipped when it is zero) plus the stored part of -Bbar X^H, Bbar = A^{-1} Xbar already
 * computed (nrhs = 0: no such term); not positive definite: the potrf adjoint alone. */
int IFN(potrf_tangent_of)(char uplo, int n, int info, const T *C, int ldc, T *dA, int ldda);
int IFN(posv_matrix_adjoint)(char uplo, int n, int nrhs, const T *C, int ldc, T *dA, int ldda, const T *X,
                             int ldx, const T *Bbar, int ldbb);
#endif

#endif
