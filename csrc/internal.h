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
/* Workspace: malloc of `bytes` (0 gives a valid block). */
void *dl_alloc_bytes(size_t bytes);
void dl_free(void *p);
/* 1 if every pivot lies in 1..rows (what ?laswp needs to stay inside the array). */
int dl_pivots_in_range(int count, const int *ipiv, int rows);

#ifdef DL_P /* ---- a type-generic source: helpers of its precision (blas_ext.c) */
static inline T *dl_alloc(size_t count) { return (T *)dl_alloc_bytes(sizeof(T) * count); }

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
/* Fill an m x n matrix with NaN (derivative undefined). */
void IFN(fill_nan)(int m, int n, T *A, int lda);
/* Zero the part of the n x n matrix A outside the (strict) uplo triangle. */
void IFN(project_tri)(char uplo, int strict, int n, T *A, int lda);
/* 1 if every entry of the m x n matrix is exactly zero. */
int IFN(all_zero)(int m, int n, const T *A, int lda);
/* A := conj(A) for an m x n matrix (nothing for real data). */
void IFN(conj_matrix)(int m, int n, T *A, int lda);
/* v := conj(v) for the n elements of a strided vector (either sign of inc; nothing for real
 * data). */
static inline void IFN(conj_vector)(int n, T *v, int inc) { IFN(conj_matrix)(1, n, v, inc > 0 ? inc : -inc); }
/* W (ld m) := conj(A) (a plain copy for real data). */
void IFN(copy_conj)(int m, int n, const T *A, int lda, T *W);
/* sum_ij conj(P(i,j)) Q(i,j) of two m x n matrices (the complex inner product <P, Q>). */
T IFN(inner)(int m, int n, const T *P, int ldp, const T *Q, int ldq);
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
 * (enzyme_rules.c: the kernels then run on conjugated data, where conj(A) X = B is an 'N'
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

/* ---- the LU rules on factors computed elsewhere (lu.c), for the Enzyme layer's ?gesv, whose
 * factors come from ?gesv_ itself. getrf_tangent: dA (m x n) in, the packed tangent dLU out, as
 * getrf_fwd after its factorization. gesv_matrix_adjoint: dA holds the cotangent of the factors
 * LU (n x n) on entry and Abar on exit: the getrf adjoint of it (skipped when it is zero) minus
 * Bbar X^H, with Bbar = A^{-H} Xbar already computed (n x nrhs, nrhs = 0: no such term). Both
 * return 0, the first zero pivot the derivative met, or DL_ERR_ALLOC. */
int IFN(getrf_tangent)(int m, int n, const T *LU, int lda, const int *ipiv, T *dA, int ldda);
int IFN(gesv_matrix_adjoint)(int n, int nrhs, const T *LU, int lda, const int *ipiv, T *dA, int ldda,
                             const T *X, int ldx, const T *Bbar, int ldbb);
#endif

#endif
