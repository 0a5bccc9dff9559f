/* scaled.h -- products of many factors (a determinant, a product of pivots) without spurious
 * overflow or underflow: a number kept as m 2^e with the larger of |Re m|, |Im m| in [0.5, 1)
 * (or m = 0, or m inf / NaN with e = 0), e a long. Scaling by powers of two is exact, so a
 * product of n factors carries n roundings, as the plain product does, and over- or underflows
 * only when the VALUE is read (scaled_value) and is itself out of range. (The plain product of
 * diag(1e300, 1e300, 1e-300, 1e-300) overflows to inf; its value is 1.)
 *
 * Type-generic: include after precision.h, in one source per precision. */
#ifndef DIFFLAPACK_SCALED_H
#define DIFFLAPACK_SCALED_H
#include <limits.h>
#include <math.h>

typedef struct {
    T m;
    long e;
} scaled;

/* x 2^e, each part scaled exactly (one rounding where the result is subnormal); the parts are
 * set one by one, so an infinite part does not turn the other into NaN (as inf * I would). */
static inline T scale_by_pow2(T x, long e) {
    const int k = e > INT_MAX ? INT_MAX : e < INT_MIN ? INT_MIN : (int)e;
#if DL_IS_COMPLEX
    R parts[2] = {(R)ldexp((double)REAL(x), k), (R)ldexp((double)IMAG(x), k)};
    T z;
    memcpy(&z, parts, sizeof z);
    return z;
#else
    return (T)ldexp((double)x, k);
#endif
}

/* The larger of |Re x|, |Im x|: the size the scaling (and the pivot comparisons) go by. NaN if
 * either part is NaN (fmax alone would return the other part: a NaN real number, whose
 * imaginary part is 0, would pass for 0 and then for finite). */
static inline double part_max(T x) {
    const double re = fabs((double)REAL(x)), im = fabs((double)IMAG(x));
    return isnan(re) || isnan(im) ? (double)NAN : fmax(re, im);
}

static inline scaled scaled_of(T x) {
    const double big = part_max(x);
    scaled s = {x, 0};
    if (big == 0 || !isfinite(big)) return s;
    int k;
    frexp(big, &k);
    s.m = scale_by_pow2(x, -k);
    s.e = k;
    return s;
}

static inline scaled scaled_times(scaled a, scaled b) {
    scaled p = scaled_of(a.m * b.m);
    p.e += a.e + b.e;
    return p;
}

static inline scaled scaled_mul(scaled a, T x) { return scaled_times(a, scaled_of(x)); }

static inline scaled scaled_conj(scaled a) {
    a.m = CONJ(a.m);
    return a;
}

/* a + b, the smaller scaled to the larger's exponent first (so a sum of terms out of range is
 * formed where its value is in range); inf and NaN add as plain numbers. */
static inline scaled scaled_add(scaled a, scaled b) {
    if (a.m == 0) return b;
    if (b.m == 0) return a;
    if (!isfinite(part_max(a.m)) || !isfinite(part_max(b.m))) {
        scaled s = {a.m + b.m, 0};
        return s;
    }
    const long e = a.e > b.e ? a.e : b.e;
    scaled s = scaled_of(scale_by_pow2(a.m, a.e - e) + scale_by_pow2(b.m, b.e - e));
    if (s.m != 0) s.e += e;
    return s;
}

/* 1 / a (a finite and nonzero) */
static inline scaled scaled_inverse(scaled a) {
    scaled s = scaled_of(1 / a.m); /* |1/m| in (1, 2] per part: no over- or underflow */
    s.e -= a.e;
    return s;
}

static inline T scaled_value(scaled a) { return scale_by_pow2(a.m, a.e); }

/* x a, rounded once more than the product itself (x's scale folded into a's exponent) */
static inline T scaled_apply(scaled a, T x) { return scaled_value(scaled_mul(a, x)); }

#endif /* DIFFLAPACK_SCALED_H */
