"""The C interfaces of difflapack_enzyme.h work however the user's file declares them: with the
real <cblas.h> and <lapacke.h> included before or after the header, with the user's own
prototypes (enumerations or ints, const or not), or with no declaration at all. The header
defines LAPACK_ROW_MAJOR / LAPACK_COL_MAJOR as <lapacke.h> does (the "own" and "none" styles use
them without <lapacke.h>; "after" includes <lapacke.h> after the header, -Wall -Werror).

 - C++ under Enzyme (the embedded clang of Enzyme-JAX, with difflapack.enzyme.cflags(), which
   makes <cblas.h>, <lapacke.h> and <complex> includable): difflapack.testing.check_rule in
   forward, reverse and split mode, for a function mixing row- and column-major calls in d and z.
 - C and C++ with the system compilers (gcc, and clang if installed), -Wall -Werror, built
   against the installed library and run: the same calls (plus cblas_strsm) give the numbers
   the real libraries give.
"""
from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest

import difflapack

STYLES = ("before", "after", "own", "none")

SYSTEM_HEADERS = "#include <cblas.h>\n#include <lapacke.h>\n"
# C++ users of <lapacke.h> pick std::complex (its default there is the C99 type)
CXX_LAPACKE_TYPES = ("#include <complex>\n#define lapack_complex_float std::complex<float>\n"
                     "#define lapack_complex_double std::complex<double>\n")

# the user's own declarations: their own enumerations (as cblas.h spells them), ints for
# lapack_int, std::complex / C99 complex for the complex arrays
OWN_DECLARATIONS = r"""
#ifdef __cplusplus
#include <complex>
typedef std::complex<double> zdouble;
extern "C" {
#else
typedef double _Complex zdouble;
#endif
enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112, CblasConjTrans = 113, CblasConjNoTrans = 114 };
enum CBLAS_UPLO { CblasUpper = 121, CblasLower = 122 };
enum CBLAS_DIAG { CblasNonUnit = 131, CblasUnit = 132 };
enum CBLAS_SIDE { CblasLeft = 141, CblasRight = 142 };
void cblas_dtrsv(const enum CBLAS_ORDER order, const enum CBLAS_UPLO uplo, const enum CBLAS_TRANSPOSE trans,
                 const enum CBLAS_DIAG diag, const int n, const double *a, const int lda, double *x, const int incx);
void cblas_ztrsm(const enum CBLAS_ORDER order, const enum CBLAS_SIDE side, const enum CBLAS_UPLO uplo,
                 const enum CBLAS_TRANSPOSE trans, const enum CBLAS_DIAG diag, const int m, const int n,
                 const void *alpha, const void *a, const int lda, void *b, const int ldb);
void cblas_strsm(const enum CBLAS_ORDER order, const enum CBLAS_SIDE side, const enum CBLAS_UPLO uplo,
                 const enum CBLAS_TRANSPOSE trans, const enum CBLAS_DIAG diag, const int m, const int n,
                 const float alpha, const float *a, const int lda, float *b, const int ldb);
int LAPACKE_dgesv(int matrix_layout, int n, int nrhs, double *a, int lda, int *ipiv, double *b, int ldb);
int LAPACKE_dgetrs_work(int matrix_layout, char trans, int n, int nrhs, const double *a, int lda,
                        const int *ipiv, double *b, int ldb);
int LAPACKE_zgesv(int matrix_layout, int n, int nrhs, zdouble *a, int lda, int *ipiv, zdouble *b, int ldb);
int LAPACKE_dgetrf(int matrix_layout, int m, int n, double *a, int lda, int *ipiv);
int LAPACKE_dgetri(int matrix_layout, int n, double *a, int lda, const int *ipiv);
int LAPACKE_dpotrf(int matrix_layout, char uplo, int n, double *a, int lda);
int LAPACKE_dpotrs_work(int matrix_layout, char uplo, int n, int nrhs, const double *a, int lda, double *b,
                        int ldb);
int LAPACKE_dposv(int matrix_layout, char uplo, int n, int nrhs, double *a, int lda, double *b, int ldb);
int LAPACKE_dtrtrs(int matrix_layout, char uplo, char trans, char diag, int n, int nrhs, const double *a, int lda,
                   double *b, int ldb);
int LAPACKE_zpotrf_work(int matrix_layout, char uplo, int n, zdouble *a, int lda);
#ifdef __cplusplus
}
#endif
"""

# names of the constants: the headers' (and the own declarations') or plain numbers
NAMED = r"""
#define ROW LAPACK_ROW_MAJOR
#define COL LAPACK_COL_MAJOR
#define CB_ROW CblasRowMajor
#define CB_COL CblasColMajor
#define CB_UPPER CblasUpper
#define CB_LOWER CblasLower
#define CB_NOTRANS CblasNoTrans
#define CB_TRANS CblasTrans
#define CB_CONJTRANS CblasConjTrans
#define CB_NONUNIT CblasNonUnit
#define CB_LEFT CblasLeft
"""
NUMBERS = r"""
#define ROW 101
#define COL 102
#define CB_ROW 101
#define CB_COL 102
#define CB_UPPER 121
#define CB_LOWER 122
#define CB_NOTRANS 111
#define CB_TRANS 112
#define CB_CONJTRANS 113
#define CB_NONUNIT 131
#define CB_LEFT 141
"""

# f(A 3x3, B 3x2, x 3): a chain of interposed calls in both layouts, d and z; returns a loss
BODY = r"""
static double f(double *A, double *B, double *x) {
    double a[9], b[6];
    int ipiv[3], zpiv[2], info;
    for (int i = 0; i < 9; ++i) a[i] = A[i];
    for (int i = 0; i < 6; ++i) b[i] = B[i];
    info = LAPACKE_dgesv(ROW, 3, 2, a, 3, ipiv, b, 2);
    info += LAPACKE_dgetrs_work(COL, 'T', 3, 1, a, 3, ipiv, x, 3);
    cblas_dtrsv(CB_ROW, CB_UPPER, CB_TRANS, CB_NONUNIT, 3, a, 3, x, 1);
    ZTYPE za[4], zb[2], alpha;
    ZSET(za[0], a[0] + 4, B[0]); ZSET(za[1], a[1], 0.5); ZSET(za[2], B[1], a[3]); ZSET(za[3], a[4] + 4, B[2]);
    ZSET(zb[0], x[0], x[1]); ZSET(zb[1], x[2], B[3]); ZSET(alpha, 1.5, -0.5);
    cblas_ztrsm(CB_ROW, CB_LEFT, CB_LOWER, CB_CONJTRANS, CB_NONUNIT, 2, 1, &alpha, za, 2, zb, 1);
    info += LAPACKE_zgesv(COL, 2, 1, za, 2, zpiv, zb, 2);
    /* the inverse from gesv's factors, and the Cholesky family on a definite S made from A */
    double ai[9], S[9], S2[9], y[3], yb[6];
    for (int i = 0; i < 9; ++i) ai[i] = a[i];
    info += LAPACKE_dgetri(ROW, 3, ai, 3, ipiv);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) S[3 * i + j] = S2[3 * i + j] = i == j ? 4 + 0.1 * A[4 * i] : 0.2 * (A[3 * i + j] + A[3 * j + i]);
    for (int i = 0; i < 3; ++i) y[i] = B[i] + x[i];
    for (int i = 0; i < 6; ++i) yb[i] = b[i];
    info += LAPACKE_dpotrf(ROW, 'L', 3, S, 3);
    info += LAPACKE_dpotrs_work(COL, 'U', 3, 1, S, 3, y, 3);
    info += LAPACKE_dposv(ROW, 'U', 3, 2, S2, 3, yb, 2);
    info += LAPACKE_dtrtrs(COL, 'U', 'T', 'N', 3, 1, S2, 3, y, 3);
    ZTYPE zs[4];
    ZSET(zs[0], S2[0] + 1, 0); ZSET(zs[1], B[4], a[2]); ZSET(zs[2], -7.0, 0); ZSET(zs[3], S2[4] + 3, 0);
    info += LAPACKE_zpotrf_work(COL, 'l', 2, zs, 2);
    double s = info;
    for (int i = 0; i < 6; ++i) s += (i + 1) * b[i] + 0.5 * (i - 2) * yb[i];
    for (int i = 0; i < 9; ++i) s += 0.1 * (i + 1) * ai[i] + 0.01 * i * S2[i];
    for (int i = 0; i < 3; ++i) x[i] += ZRE(zb[0]) * (i + 1) + ZIM(zb[1]) + y[i] + ZRE(zs[1]) * i;
    return s + a[4] * 0.5 + ZIM(zs[1]);
}
"""
CXX_COMPLEX = "#include <complex>\n#define ZTYPE std::complex<double>\n#define ZSET(z, re, im) z = ZTYPE(re, im)\n" \
              "#define ZRE(z) (z).real()\n#define ZIM(z) (z).imag()\n"
C_COMPLEX = "#include <complex.h>\n#define ZTYPE double _Complex\n#define ZSET(z, re, im) z = (re) + (im) * I\n" \
            "#define ZRE(z) creal(z)\n#define ZIM(z) cimag(z)\n"


def source(style: str, cxx: bool) -> str:
    head = []
    system = (CXX_LAPACKE_TYPES if cxx else "") + SYSTEM_HEADERS
    if style == "before":
        head += [system, '#include "difflapack_enzyme.h"\n']
    elif style == "after":
        head += ['#include "difflapack_enzyme.h"\n', system]
    elif style == "own":
        head += ['#include "difflapack_enzyme.h"\n', OWN_DECLARATIONS]
    else:
        head += ['#include "difflapack_enzyme.h"\n']
    if style in ("before", "after", "own"):
        consts = NAMED   # "own": the user's CBLAS enumerations, the header's LAPACK_ROW_MAJOR / _COL_MAJOR
    else:   # no declaration: CBLAS's values as numbers, LAPACKE's layout macros from the header
        consts = NUMBERS.replace("#define ROW 101", "#define ROW LAPACK_ROW_MAJOR").replace(
            "#define COL 102", "#define COL LAPACK_COL_MAJOR")
    return "".join(head) + consts + (CXX_COMPLEX if cxx else C_COMPLEX) + BODY


def test_cflags_make_the_system_headers_includable():
    from difflapack import enzyme
    flags = enzyme.cflags()
    assert flags[0] == "-I" + difflapack.get_include()
    dirs = flags[2::2]
    assert all(f == "-idirafter" for f in flags[1::2]) and any(os.path.isfile(os.path.join(d, "stddef.h")) for d in dirs)


@pytest.mark.parametrize("style", STYLES)
def test_cxx_under_enzyme(style):
    pytest.importorskip("enzyme_ad.jax")
    from difflapack.testing import Active, Duplicated, check_rule
    r = np.random.default_rng(2)
    A = r.standard_normal(9) + 4 * np.eye(3)[::-1].ravel()
    B, x = r.standard_normal(6), r.standard_normal(3)
    report = check_rule(source(style, cxx=True), "f", [A, B, x], [Duplicated, Duplicated, Duplicated],
                        return_activity=Active, modes=("forward", "reverse", "split"))
    assert report.ok, report


def compilers(cxx):
    names = ("g++", "clang++") if cxx else ("gcc", "clang")
    found = [shutil.which(n) for n in names if shutil.which(n)]
    if not found:
        pytest.skip("no compiler")
    return found


MAIN = r"""
#include <stdio.h>
int main(void) {
    double A[9] = {%(A)s}, B[6] = {%(B)s}, x[3] = {%(x)s};
    double s = f(A, B, x);
    float fa[4] = {2, 0, 1, 4}, fb[2] = {3, 8};
#ifndef SKIP_STRSM
    cblas_strsm(CB_COL, CB_LEFT, CB_UPPER, CB_NOTRANS, CB_NONUNIT, 2, 1, 2.0f, fa, 2, fb, 2);
#else
    (void)fa;
#endif
    printf("%%.17g %%.17g %%.17g %%.17g %%.9g %%.9g\n", s, x[0], x[1], x[2], fb[0], fb[1]);
    return 0;
}
"""


def build_and_run(compiler, cxx, text, workdir, link):
    src = os.path.join(workdir, "prog.cpp" if cxx else "prog.c")
    exe = os.path.join(workdir, "prog")
    with open(src, "w") as fh:
        fh.write(text)
    std = ["-std=c++11"] if cxx else ["-std=c99"]
    build = subprocess.run([compiler, *std, "-Wall", "-Wextra", "-Werror", "-I", difflapack.get_include(), src, "-o",
                            exe, *link, "-lm"], capture_output=True, text=True)
    assert build.returncode == 0, f"{compiler}:\n{build.stderr}"
    return subprocess.run([exe], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("cxx", [False, True], ids=["C", "C++"])
@pytest.mark.parametrize("style", STYLES)
def test_system_compilers(style, cxx, tmp_path):
    """Compiled without Enzyme, the file runs the primal and prints exactly what the same file
    prints without difflapack_enzyme.h, linked to the real LAPACKE and OpenBLAS. (In C,
    cblas_strsm needs a declaration, <cblas.h> or the user's own: "none" leaves it out.)"""
    r = np.random.default_rng(2)
    A = r.standard_normal(9) + 4 * np.eye(3)[::-1].ravel()
    B, x = r.standard_normal(6), r.standard_normal(3)
    main = MAIN % {k: ", ".join(repr(float(v)) for v in arr) for k, arr in (("A", A), ("B", B), ("x", x))}
    if style == "none" and not cxx:
        main = "#define SKIP_STRSM\n" + main
    libdir = os.path.dirname(difflapack.get_library())
    plain = source("before", cxx).replace('#include "difflapack_enzyme.h"\n', "") + main
    want = build_and_run(compilers(cxx)[0], cxx, plain, str(tmp_path), ["-llapacke", "-lopenblas"])
    for compiler in compilers(cxx):
        got = build_and_run(compiler, cxx, source(style, cxx) + main, str(tmp_path),
                            ["-L", libdir, "-ldifflapack", f"-Wl,-rpath,{libdir}"])
        assert got == want, (compiler, got, want)
