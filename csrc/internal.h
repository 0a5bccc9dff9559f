/* internal.h -- what the difflapack kernels share: Fortran BLAS/LAPACK prototypes (the
 * system OpenBLAS/LAPACK, LP64), flag parsing, and BLAS-3 helpers (blas_ext.c). */
#ifndef DIFFLAPACK_INTERNAL_H
#define DIFFLAPACK_INTERNAL_H
#include <stddef.h>
#include "difflapack.h"

/* Fortran BLAS/LAPACK (hidden string lengths omitted: all our character args have length 1
 * and the Debian gfortran-built libraries do not read them for length-1 dummies). */
void dtrsv_(const char *uplo, const char *trans, const char *diag, const int *n,
            const double *a, const int *lda, double *x, const int *incx);
void dtrmv_(const char *uplo, const char *trans, const char *diag, const int *n,
            const double *a, const int *lda, double *x, const int *incx);
void dtrsm_(const char *side, const char *uplo, const char *transa, const char *diag,
            const int *m, const int *n, const double *alpha, const double *a, const int *lda,
            double *b, const int *ldb);
void dtrmm_(const char *side, const char *uplo, const char *transa, const char *diag,
            const int *m, const int *n, const double *alpha, const double *a, const int *lda,
            double *b, const int *ldb);
void dgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
            const double *alpha, const double *a, const int *lda, const double *b,
            const int *ldb, const double *beta, double *c, const int *ldc);
void dgemv_(const char *trans, const int *m, const int *n, const double *alpha,
            const double *a, const int *lda, const double *x, const int *incx,
            const double *beta, double *y, const int *incy);
void dger_(const int *m, const int *n, const double *alpha, const double *x, const int *incx,
           const double *y, const int *incy, double *a, const int *lda);
void daxpy_(const int *n, const double *alpha, const double *x, const int *incx, double *y,
            const int *incy);
void dscal_(const int *n, const double *alpha, double *x, const int *incx);
void dcopy_(const int *n, const double *x, const int *incx, double *y, const int *incy);
double ddot_(const int *n, const double *x, const int *incx, const double *y, const int *incy);
void dgetrf_(const int *m, const int *n, double *a, const int *lda, int *ipiv, int *info);
void dgetrs_(const char *trans, const int *n, const int *nrhs, const double *a, const int *lda,
             const int *ipiv, double *b, const int *ldb, int *info);
void dgesv_(const int *n, const int *nrhs, double *a, const int *lda, int *ipiv, double *b,
            const int *ldb, int *info);
void dlaswp_(const int *n, double *a, const int *lda, const int *k1, const int *k2,
             const int *ipiv, const int *incx);
void dlacpy_(const char *uplo, const int *m, const int *n, const double *a, const int *lda,
             double *b, const int *ldb);
void dlaset_(const char *uplo, const int *m, const int *n, const double *alpha,
             const double *beta, double *a, const int *lda);

/* ---- flags: upper-cased letter, or 0 if not one of `allowed` */
char dl_flag(char c, const char *allowed);
static inline int dl_max(int a, int b) { return a > b ? a : b; }
static inline int dl_min(int a, int b) { return a < b ? a : b; }

/* The transpose of an op letter, for solving with op(A)^T: N <-> T (C == T for reals). */
static inline char dl_flip_trans(char t) { return t == 'N' ? 'T' : 'N'; }

/* ---- BLAS-3 helpers (blas_ext.c) */
/* C := C + alpha * op(A) op(B) on ONE triangle of the n x n matrix C only ('U' or 'L',
 * strict != 0 excludes the diagonal); op(A) is n x k, op(B) is k x n. Blocked recursively so
 * the flops are ~ n^2 k (half a gemm) and the entries outside the triangle are never touched. */
void dl_gemm_tri(char uplo, int strict, char transa, char transb, int n, int k, double alpha,
                 const double *A, int lda, const double *B, int ldb, double *C, int ldc);
/* C := alpha * op(tri(A)) * B (side 'L') or alpha * B * op(tri(A)) (side 'R'), where tri(A)
 * is the uplo triangle of A (strict != 0: the STRICT triangle, zero diagonal; the diagonal
 * of A is then never read). B is m x n and is not modified unless C == B (same ld), which is
 * allowed (in place). Entries of A outside the triangle are never read. Exact for the strict
 * triangle (one trmm on the shifted (k-1) block; no cancellation). */
void dl_trmm_tri(char side, char uplo, char transa, int strict, int m, int n, double alpha,
                 const double *A, int lda, const double *B, int ldb, double *C, int ldc);
/* B := alpha op(A)^{-1} B (side 'L') or alpha B op(A)^{-1} (side 'R'): dtrsm's contract (flags
 * upper case, B not read when alpha == 0), computed by recursive halving of the triangle so
 * that nearly all flops run in dgemm (faster than OpenBLAS's dtrsm); dtrsm solves the small
 * diagonal blocks. The derivative kernels use it for their solves. */
void dl_trsm_blocked(char side, char uplo, char transa, char diag, int m, int n, double alpha,
                     const double *A, int lda, double *B, int ldb);
/* Fill an m x n matrix with NaN (derivative undefined). */
void dl_fill_nan(int m, int n, double *A, int lda);
/* Zero the part of the n x n matrix A outside the (strict) uplo triangle. */
void dl_project_tri(char uplo, int strict, int n, double *A, int lda);
/* 1 if every entry of the m x n matrix is exactly zero. */
int dl_all_zero(int m, int n, const double *A, int lda);
/* Workspace: malloc of `count` doubles (count 0 gives a valid 1-element block). */
double *dl_alloc(size_t count);
void dl_free(void *p);
#endif
