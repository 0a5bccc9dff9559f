/* blas_proto.h -- prototypes of the Fortran BLAS/LAPACK routines the kernels call (the system
 * OpenBLAS, LP64), written once over (prefix, T, R) and instantiated for s, d, c, z.
 *
 * Hidden string lengths are omitted: every character argument we pass has length 1 and the
 * gfortran-built Debian libraries do not read the lengths of length-1 dummies. Scalars travel
 * by address, as Fortran passes them.
 */
#ifndef DIFFLAPACK_BLAS_PROTO_H
#define DIFFLAPACK_BLAS_PROTO_H

#include <complex.h>

#define DL_BLAS_PROTOTYPES(p, T, R)                                                              \
    void p##trsv_(const char *uplo, const char *trans, const char *diag, const int *n,           \
                  const T *a, const int *lda, T *x, const int *incx);                             \
    void p##trmv_(const char *uplo, const char *trans, const char *diag, const int *n,           \
                  const T *a, const int *lda, T *x, const int *incx);                             \
    void p##trsm_(const char *side, const char *uplo, const char *transa, const char *diag,      \
                  const int *m, const int *n, const T *alpha, const T *a, const int *lda, T *b,   \
                  const int *ldb);                                                                \
    void p##trmm_(const char *side, const char *uplo, const char *transa, const char *diag,      \
                  const int *m, const int *n, const T *alpha, const T *a, const int *lda, T *b,   \
                  const int *ldb);                                                                \
    void p##gemm_(const char *transa, const char *transb, const int *m, const int *n,            \
                  const int *k, const T *alpha, const T *a, const int *lda, const T *b,           \
                  const int *ldb, const T *beta, T *c, const int *ldc);                           \
    void p##gemv_(const char *trans, const int *m, const int *n, const T *alpha, const T *a,     \
                  const int *lda, const T *x, const int *incx, const T *beta, T *y,               \
                  const int *incy);                                                               \
    void p##syrk_(const char *uplo, const char *trans, const int *n, const int *k,               \
                  const T *alpha, const T *a, const int *lda, const T *beta, T *c,                \
                  const int *ldc);                                                                \
    void p##syr2k_(const char *uplo, const char *trans, const int *n, const int *k,              \
                   const T *alpha, const T *a, const int *lda, const T *b, const int *ldb,        \
                   const T *beta, T *c, const int *ldc);                                          \
    void p##symm_(const char *side, const char *uplo, const int *m, const int *n,              \
                  const T *alpha, const T *a, const int *lda, const T *b, const int *ldb,         \
                  const T *beta, T *c, const int *ldc);                                           \
    void p##axpy_(const int *n, const T *alpha, const T *x, const int *incx, T *y,               \
                  const int *incy);                                                               \
    void p##scal_(const int *n, const T *alpha, T *x, const int *incx);                          \
    void p##copy_(const int *n, const T *x, const int *incx, T *y, const int *incy);             \
    void p##swap_(const int *n, T *x, const int *incx, T *y, const int *incy);                   \
    void p##getrf_(const int *m, const int *n, T *a, const int *lda, int *ipiv, int *info);      \
    void p##getrs_(const char *trans, const int *n, const int *nrhs, const T *a,                 \
                   const int *lda, const int *ipiv, T *b, const int *ldb, int *info);            \
    void p##gesv_(const int *n, const int *nrhs, T *a, const int *lda, int *ipiv, T *b,          \
                  const int *ldb, int *info);                                                     \
    void p##getri_(const int *n, T *a, const int *lda, const int *ipiv, T *work,                 \
                   const int *lwork, int *info);                                                  \
    void p##trtri_(const char *uplo, const char *diag, const int *n, T *a, const int *lda,       \
                   int *info);                                                                    \
    void p##potrf_(const char *uplo, const int *n, T *a, const int *lda, int *info);             \
    void p##potrs_(const char *uplo, const int *n, const int *nrhs, const T *a, const int *lda,  \
                   T *b, const int *ldb, int *info);                                              \
    void p##posv_(const char *uplo, const int *n, const int *nrhs, T *a, const int *lda, T *b,   \
                  const int *ldb, int *info);                                                     \
    void p##trtrs_(const char *uplo, const char *trans, const char *diag, const int *n,          \
                   const int *nrhs, const T *a, const int *lda, T *b, const int *ldb, int *info); \
    void p##laswp_(const int *n, T *a, const int *lda, const int *k1, const int *k2,             \
                   const int *ipiv, const int *incx);                                             \
    void p##lacpy_(const char *uplo, const int *m, const int *n, const T *a, const int *lda,     \
                   T *b, const int *ldb);                                                         \
    void p##laset_(const char *uplo, const int *m, const int *n, const T *alpha,                 \
                   const T *beta, T *a, const int *lda);

#define DL_BLAS_REAL_PROTOTYPES(p, T)                                                            \
    void p##ger_(const int *m, const int *n, const T *alpha, const T *x, const int *incx,        \
                 const T *y, const int *incy, T *a, const int *lda);

#define DL_BLAS_COMPLEX_PROTOTYPES(p, T, R)                                                      \
    void p##geru_(const int *m, const int *n, const T *alpha, const T *x, const int *incx,       \
                  const T *y, const int *incy, T *a, const int *lda);                             \
    void p##gerc_(const int *m, const int *n, const T *alpha, const T *x, const int *incx,       \
                  const T *y, const int *incy, T *a, const int *lda);                             \
    void p##herk_(const char *uplo, const char *trans, const int *n, const int *k,               \
                  const R *alpha, const T *a, const int *lda, const R *beta, T *c,                \
                  const int *ldc);                                                                \
    void p##her2k_(const char *uplo, const char *trans, const int *n, const int *k,              \
                   const T *alpha, const T *a, const int *lda, const T *b, const int *ldb,        \
                   const R *beta, T *c, const int *ldc);                                          \
    void p##hemm_(const char *side, const char *uplo, const int *m, const int *n,              \
                  const T *alpha, const T *a, const int *lda, const T *b, const int *ldb,         \
                  const T *beta, T *c, const int *ldc);

DL_BLAS_PROTOTYPES(s, float, float)
DL_BLAS_PROTOTYPES(d, double, double)
DL_BLAS_PROTOTYPES(c, float _Complex, float)
DL_BLAS_PROTOTYPES(z, double _Complex, double)
DL_BLAS_REAL_PROTOTYPES(s, float)
DL_BLAS_REAL_PROTOTYPES(d, double)
DL_BLAS_COMPLEX_PROTOTYPES(c, float _Complex, float)
DL_BLAS_COMPLEX_PROTOTYPES(z, double _Complex, double)

/* OpenBLAS's extensions min |x_i| (complex: |re| + |im|) and its 1-based index: the test of
 * its ?trtrs_ / ?trtri_ for a zero diagonal entry (AMIN_K == 0, then IAMIN_K). */
float samin_(const int *n, const float *x, const int *incx);
double damin_(const int *n, const double *x, const int *incx);
float scamin_(const int *n, const float _Complex *x, const int *incx);
double dzamin_(const int *n, const double _Complex *x, const int *incx);
int isamin_(const int *n, const float *x, const int *incx);
int idamin_(const int *n, const double *x, const int *incx);
int icamin_(const int *n, const float _Complex *x, const int *incx);
int izamin_(const int *n, const double _Complex *x, const int *incx);

/* The 1-based index of the first max |x_i| (complex: |re| + |im|): ?getrf's pivot choice. */
int isamax_(const int *n, const float *x, const int *incx);
int idamax_(const int *n, const double *x, const int *incx);
int icamax_(const int *n, const float _Complex *x, const int *incx);
int izamax_(const int *n, const double _Complex *x, const int *incx);

/* LAPACK's error handler (OpenBLAS's prints the message and returns). */
void xerbla_(const char *srname, const int *info, int len);
void openblas_set_num_threads(int);

#endif /* DIFFLAPACK_BLAS_PROTO_H */
