/* Solve A x = b twice, through LAPACKE (row-major) and through the Fortran dgesv_, in a C file
 * that includes difflapack_enzyme.h: compiled by Enzyme, these calls get difflapack's
 * derivative rules; compiled by a plain C compiler, as here, they just solve, returning what
 * LAPACKE_dgesv and dgesv_ return. The header interposes both names, so the program links
 * libdifflapack only (no LAPACKE library).
 * Exit status 0 when both solutions match the known x, 1 otherwise. */
#include <stdio.h>

#include "difflapack_enzyme.h"

/* What <lapacke.h> declares (LP64: lapack_int is int); including <lapacke.h> works as well. */
#define LAPACK_ROW_MAJOR 101
#define LAPACK_COL_MAJOR 102
int LAPACKE_dgesv(int matrix_layout, int n, int nrhs, double *a, int lda, int *ipiv, double *b, int ldb);

enum { N = 3 };

/* A x = b with x = (1, -2, 3); A needs row pivoting. */
static const double A_rows[N][N] = {{1, 2, 3}, {4, 5, 6}, {7, 8, 10}};
static const double x_known[N] = {1, -2, 3};
static const double b_given[N] = {6, 12, 21};

/* 1 if x matches x_known to rounding, 0 after printing the mismatch */
static int matches(const char *how, int info, const double *x) {
    int ok = info == 0;
    for (int i = 0; i < N; ++i) {
        double err = x[i] - x_known[i];
        if (err > 1e-12 || err < -1e-12) ok = 0;
    }
    printf("%-14s info = %d, x = (%g, %g, %g): %s\n", how, info, x[0], x[1], x[2], ok ? "ok" : "WRONG");
    return ok;
}

int main(void) {
    double a[N * N], x[N];
    int ipiv[N];

    /* LAPACKE, row-major: a holds A row by row. */
    for (int i = 0; i < N; ++i)
        for (int j = 0; j < N; ++j) a[i * N + j] = A_rows[i][j];
    for (int i = 0; i < N; ++i) x[i] = b_given[i];
    int info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, N, 1, a, N, ipiv, x, 1);
    int ok = matches("LAPACKE_dgesv", info, x);

    /* Fortran dgesv_, column-major: a holds A column by column; the header declares dgesv_. */
    for (int i = 0; i < N; ++i)
        for (int j = 0; j < N; ++j) a[j * N + i] = A_rows[i][j];
    for (int i = 0; i < N; ++i) x[i] = b_given[i];
    int n = N, nrhs = 1;
    dgesv_(&n, &nrhs, a, &n, ipiv, x, &n, &info);
    ok &= matches("dgesv_", info, x);

    return ok ? 0 : 1;
}
