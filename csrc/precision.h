/* precision.h -- the one place that says what "T" is in a type-generic source.
 *
 * Every routine family (triangular.c, lu.c, ...) is written ONCE over the element type T and
 * compiled four times, like OpenBLAS's per-type kernels: CMake builds each generic source with
 * exactly one of -DDL_PREC_S, -DDL_PREC_D, -DDL_PREC_C, -DDL_PREC_Z. This header turns that
 * choice into
 *   T, R           element type and its real type (float, double, float/double _Complex);
 *   DL_IS_COMPLEX  1 for c/z;  DL_P_CHAR the precision letter as a char ('z');
 *   FN(name)       the public kernel name: FN(trsv_fwd) -> dl_ztrsv_fwd;
 *   IFN(name)      an internal name shared between the sources of one precision (dl_z_name);
 *   BLAS(name)     the Fortran BLAS/LAPACK routine of this precision: BLAS(trsm) -> ztrsm_;
 *   CONJ, REAL, ABS_R, NAN_T, ...  scalar helpers that are the identity where T is real.
 * Where real and complex BLAS differ in name (ger vs geru/gerc, syrk vs herk), the macros
 * below pick the one with the meaning the generic code needs.
 */
#ifndef DIFFLAPACK_PRECISION_H
#define DIFFLAPACK_PRECISION_H

#include <complex.h>
#include <math.h>

#if defined(DL_PREC_S)
#define DL_P s
#define DL_P_CHAR 's'
typedef float T;
typedef float R;
#define DL_IS_COMPLEX 0
#elif defined(DL_PREC_D)
#define DL_P d
#define DL_P_CHAR 'd'
typedef double T;
typedef double R;
#define DL_IS_COMPLEX 0
#elif defined(DL_PREC_C)
#define DL_P c
#define DL_P_CHAR 'c'
typedef float _Complex T;
typedef float R;
#define DL_IS_COMPLEX 1
#elif defined(DL_PREC_Z)
#define DL_P z
#define DL_P_CHAR 'z'
typedef double _Complex T;
typedef double R;
#define DL_IS_COMPLEX 1
#else
#error "compile generic sources with one of -DDL_PREC_S, -DDL_PREC_D, -DDL_PREC_C, -DDL_PREC_Z"
#endif

#define DL_CAT3_(a, b, c) a##b##c
#define DL_CAT3(a, b, c) DL_CAT3_(a, b, c)
#define FN(name) DL_CAT3(dl_, DL_P, name)
#define IFN(name) DL_CAT3(dl_, DL_P, _##name)
#define BLAS(name) DL_CAT3(DL_P, name, _)
/* i?amax: its BLAS name puts the precision letter second. */
#define IAMAX DL_CAT3(i, DL_P, amax_)

/* Scalars. R and T coincide for real precisions, where CONJ and REAL are the identity. */
#if DL_IS_COMPLEX
#if defined(DL_PREC_C)
#define CONJ(x) conjf(x)
#define REAL(x) crealf(x)
#define IMAG(x) cimagf(x)
#else
#define CONJ(x) conj(x)
#define REAL(x) creal(x)
#define IMAG(x) cimag(x)
#endif
#define NAN_T ((T)NAN + (T)NAN * (T)I)
#else
#define CONJ(x) (x)
#define REAL(x) (x)
#define IMAG(x) ((R)0)
#define NAN_T ((T)NAN)
#endif

/* The letter of the adjoint of op(): for a real matrix transpose (N <-> T, C == T); for a
 * complex one the conjugate transpose N <-> C. The adjoint of op = T for complex data is
 * conj(A), which BLAS cannot apply: callers handle it by conjugating the data (see
 * IFN(conj_matrix)), see dl_adjoint_op below. */
static inline char dl_adjoint_op(char trans) {
#if DL_IS_COMPLEX
    return trans == 'N' ? 'C' : 'N';
#else
    return trans == 'N' ? 'T' : 'N';
#endif
}
/* 1 if solving with the adjoint of op(A) needs conj(A) (complex data, op = T). */
static inline int dl_adjoint_needs_conj(char trans) { return DL_IS_COMPLEX && trans == 'T'; }

/* BLAS names whose real and complex forms differ. GERU: A += alpha x y^T; GERC: A += alpha x
 * y^H; HERK / HER2K: the Hermitian (real: symmetric) rank-k updates, real beta (HERK: real
 * alpha); HEMM: the product with a Hermitian (real: symmetric) matrix given by one triangle.
 * Never the complex SYRK/SYR2K/SYMM: those are complex-symmetric, not Hermitian. */
#if DL_IS_COMPLEX
#define GERU BLAS(geru)
#define GERC BLAS(gerc)
#define HERK BLAS(herk)
#define HER2K BLAS(her2k)
#define HEMM BLAS(hemm)
#else
#define GERU BLAS(ger)
#define GERC BLAS(ger)
#define HERK BLAS(syrk)
#define HER2K BLAS(syr2k)
#define HEMM BLAS(symm)
#endif

#endif /* DIFFLAPACK_PRECISION_H */
