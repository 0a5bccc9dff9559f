/* det.c -- the determinant and the log-determinant of a square matrix from its LU (getrf):
 * primal, tangent (fwd) and adjoint (rev) kernels, written once over the element type T
 * (compiled for s, d, c, z; see precision.h).
 *
 * With A = P L U: det A = sign(P) prod U_ii, sign(P) = (-1)^#{i : ipiv(i) != i};
 * slogdet: sign = sign(P) prod U_ii / |U_ii| (complex: on the unit circle), log|det| =
 * sum log|U_ii|; any U_ii == 0 gives (0, -inf) as NumPy, JAX and PyTorch return.
 *
 * Derivatives (Giles 2008, sec. 2.2.4 / 3.2.4, the determinant): for nonsingular A with
 * X = A^{-1} and t = tr(X dA) = sum_i dU_ii / U_ii (dU: the getrf tangent, pivots fixed),
 *     d det = sign(P) sum_i dU_ii prod_{k != i} U_kk (= det t),   Abar = conj(det) detbar X^H,
 *     d log|det| = Re t,  d sign = i Im(t) sign (complex; 0 for real data),
 *     Abar = c X^H,  c = labar + i Im(conj(sign) signbar)  (complex; c = labar for real data:
 *                    sign cannot leave the unit circle, its radial cotangent is ignored).
 * Tangents: the getrf tangent's diagonal (4/3 n^3 flops; no inverse formed). Cotangents: the
 * cotangent IS a multiple of X^H, so it is formed as such by the recursive inversion of
 * inverse.c (4/3 n^3 flops in trmm/gemm) and added; the getrf adjoint of the diagonal
 * cotangent (Ubar_ii = c / conj(U_ii)) gives the same Abar for the same flops, but at the LU
 * recursion's lower speed.
 *
 * Singular A (some U_jj == 0): det is a polynomial, its derivative the adjugate adj(A):
 * d det = tr(adj(A) dA), Abar = detbar adj(A)^H.
 *  - only U_{n-1,n-1} == 0: the getrf derivative needs no division by it: d det by the
 *    formula above (prefix / suffix products, no division), Abar by the getrf adjoint of the
 *    diagonal cotangent Ubar_ii = conj(sign(P) prod_{k != i} U_kk) detbar (exact);
 *  - exactly one U_jj == 0, j < n-1: adj(A) = s p a r^T has rank one (adj(XY) = adj(Y) adj(X),
 *    adj(L) = L^{-1}, adj(P) = sign(P) P^T): a = [-U11^{-1} U(0:j, j); 1; 0],
 *    b = [0; 1; -U22^{-T} U(j, j+1:)^T], r = P L^{-T} b, p = prod_{k != j} U_kk, s = sign(P);
 *    three trsv, O(n^2);
 *  - two or more: adj(A) may still be nonzero but is not available from the LU: NaN.
 * log|det| = -inf has no derivative: NaN (the real sign's tangent is 0). Throughout, an
 * exactly zero tangent / cotangent contributes exactly zero.
 *
 * Range: products of pivots are kept as m 2^e (scaled.h), and the cotangent detbar conj(det)
 * A^{-H} folds det's scale into each entry when it is not a normal number; if A^{-1} itself
 * overflows it is taken of 2^k A (k centres the pivots' exponents, clamped to keep U in range).
 * So det, ddet and Abar do not leave the range through det alone (Abar of diag(1e-200, 1e-200)
 * is diag(1e-200, 1e-200), det underflows) or A^{-1} alone ([[1e-310]]: Abar = 1); a matrix
 * whose inverse overflows even after that can still give inf or NaN. tests/test_det_range.py.
 * Details and the comparison with
 * JAX / PyTorch: docs/design/derivatives_next.md, sec. 4.
 */
#include <float.h>
#include <math.h>
#include <string.h>
#include "precision.h"
#include "internal.h"
#include "scaled.h"

static const int INC1 = 1, DEC1 = -1;

#define AT(M, ld, i, j) ((M)[(size_t)(i) + (size_t)(j) * (size_t)(ld)])
#define TILE 64
/* the smallest normal number of the real type, and its largest and smallest binary exponents
 * (frexp's: FLT_MIN = 0.5 2^FLT_MIN_EXP) */
#define MIN_NORMAL (sizeof(R) == sizeof(float) ? (double)FLT_MIN : DBL_MIN)
#define MAX_EXPONENT (sizeof(R) == sizeof(float) ? FLT_MAX_EXP : DBL_MAX_EXP)
#define MIN_EXPONENT (sizeof(R) == sizeof(float) ? FLT_MIN_EXP : DBL_MIN_EXP)

/* ?getrf's checks for the square case (n 1, A 2, lda 3, ipiv 4). */
static int det_check(int n, const T *A, int lda, const int *ipiv) {
    if (n < 0) return -1;
    if (n > 0 && !A) return -2;
    if (lda < dl_max(1, n)) return -3;
    if (n > 0 && !ipiv) return -4;
    return 0;
}

static int factor(int n, T *A, int lda, int *ipiv) {
    int info = 0;
    if (n > 0) BLAS(getrf)(&n, &n, A, &lda, ipiv, &info);
    return info;
}

static T permutation_sign(int n, const int *ipiv) {
    int swaps = 0;
    for (int i = 0; i < n; ++i) swaps += ipiv[i] != i + 1;
    return swaps % 2 ? (T)-1 : (T)1;
}

static double magnitude(T x) {
#if DL_IS_COMPLEX
    return hypot((double)REAL(x), (double)IMAG(x));
#else
    return fabs((double)x);
#endif
}

/* How many U_ii are exactly zero, and the first such i (-1 if none). */
static int count_zero_pivots(int n, const T *LU, int lda, int *first) {
    int count = 0;
    *first = -1;
    for (int i = n - 1; i >= 0; --i)
        if (AT(LU, lda, i, i) == 0) {
            ++count;
            *first = i;
        }
    return count;
}

/* sign(P) prod_{k != skip} U_kk (skip = -1: all), scaled (scaled.h): a product that over- or
 * underflows part way, as diag(1e300, 1e300, 1e-300, 1e-300)'s does, keeps its value. */
static scaled pivot_product(int n, const T *LU, int lda, const int *ipiv, int skip) {
    scaled p = scaled_of(permutation_sign(n, ipiv));
    for (int k = 0; k < n; ++k)
        if (k != skip) p = scaled_mul(p, AT(LU, lda, k, k));
    return p;
}

/* Exactly 0 with a zero pivot, also when the product of the others overflows (inf * 0). */
static T det_of_lu(int n, const T *LU, int lda, const int *ipiv) {
    int first;
    if (count_zero_pivots(n, LU, lda, &first)) return 0;
    return scaled_value(pivot_product(n, LU, lda, ipiv, -1));
}

/* (sign, log|det|) from the pivot values u_0, u_step, ... (U's diagonal) and the interchanges. */
static void slogdet_of_pivots(int n, const T *u, size_t step, const int *ipiv, T *sign, R *logabsdet) {
    for (int i = 0; i < n; ++i)
        if (u[(size_t)i * step] == 0) {
            *sign = 0;
            *logabsdet = (R)-INFINITY;
            return;
        }
    T s = permutation_sign(n, ipiv);
    double log_sum = 0; /* in double: the float sum of n logs would lose digits */
    for (int i = 0; i < n; ++i) {
        const T d = u[(size_t)i * step];
        const double m = magnitude(d);
        log_sum += log(m);
        s *= d / (R)m;
    }
#if DL_IS_COMPLEX
    s /= (R)magnitude(s); /* back onto the unit circle after n rounded products */
#endif
    *sign = s;
    *logabsdet = (R)log_sum;
}

static void slogdet_of_lu(int n, const T *LU, int lda, const int *ipiv, T *sign, R *logabsdet) {
    slogdet_of_pivots(n, LU, (size_t)lda + 1, ipiv, sign, logabsdet);
}

/* c x for the cotangents c X^H: the plain product when c's value is a normal number (then
 * nothing spurious can happen), else x folded into c's exponent first, so that a c below the
 * normal range or beyond overflow still gives every product that is itself in range. */
typedef struct {
    scaled c;
    T plain;
    int use_plain;
} cotangent_scale;

static cotangent_scale cotangent_scale_of(scaled c) {
    const T v = scaled_value(c);
    const double big = part_max(v);
    const cotangent_scale f = {c, v, c.m == 0 || (isfinite(big) && big >= MIN_NORMAL)};
    return f;
}

static inline T times(const cotangent_scale *f, T x) { return f->use_plain ? f->plain * x : scaled_apply(f->c, x); }

/* D := f X^H in place, by tiles (the diagonal tile pairs with itself). */
static void scale_adjoint_in_place(int n, const cotangent_scale *f, T *D, int ldd) {
    for (int j0 = 0; j0 < n; j0 += TILE)
        for (int i0 = j0; i0 < n; i0 += TILE)
            for (int j = j0; j < dl_min(n, j0 + TILE); ++j)
                for (int i = (i0 == j0 ? j : i0); i < dl_min(n, i0 + TILE); ++i) {
                    const T lower = AT(D, ldd, i, j), upper = AT(D, ldd, j, i);
                    AT(D, ldd, i, j) = times(f, CONJ(upper));
                    AT(D, ldd, j, i) = times(f, CONJ(lower));
                }
}

/* D += f X^H, by tiles. */
static void add_scaled_adjoint(int n, const cotangent_scale *f, const T *X, int ldx, T *D, int ldd) {
    for (int j0 = 0; j0 < n; j0 += TILE)
        for (int i0 = 0; i0 < n; i0 += TILE)
            for (int j = j0; j < dl_min(n, j0 + TILE); ++j)
                for (int i = i0; i < dl_min(n, i0 + TILE); ++i) AT(D, ldd, i, j) += times(f, CONJ(AT(X, ldx, j, i)));
}

/* The larger binary exponent of |Re x|, |Im x| (frexp's; 0 for 0). */
static int exponent_of(T x) {
    int e = 0;
    frexp(part_max(x), &e);
    return e;
}

static int all_finite(int n, const T *X, int ldx) {
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < n; ++i)
            if (!isfinite((double)REAL(AT(X, ldx, i, j))) || !isfinite((double)IMAG(AT(X, ldx, i, j)))) return 0;
    return 1;
}

/* X := (2^k A)^{-1} from the packed LU (U scaled by 2^k, exactly unless it leaves the range) by
 * the recursive inversion of inverse.c. Returns 1 if every entry of X is finite. */
static int inverse_of_scaled(int n, long k, const T *LU, int lda, const int *ipiv, T *X, int ldx) {
    BLAS(lacpy)("A", &n, &n, LU, &lda, X, &ldx);
    if (k)
        for (int j = 0; j < n; ++j)
            for (int i = 0; i <= j; ++i) AT(X, ldx, i, j) = scale_by_pow2(AT(X, ldx, i, j), k);
    IFN(lu_inverse_pivots)(n, X, ldx, ipiv, n);
    return all_finite(n, X, ldx);
}

/* The k of 2^k A whose pivots' binary exponents are centred on 0, so that its inverse (entries
 * of the order of 1 / pivots) can stay in range where A^{-1} does not ([[1e-310]]: A^{-1}
 * overflows, adj(A) = 1); clamped so that U's largest entry stays in range. */
static long balancing_exponent(int n, const T *LU, int lda) {
    int lo = INT_MAX, hi = INT_MIN, top = INT_MIN;
    for (int j = 0; j < n; ++j) {
        const int e = exponent_of(AT(LU, lda, j, j));
        lo = e < lo ? e : lo;
        hi = e > hi ? e : hi;
        for (int i = 0; i <= j; ++i) {
            const int ei = exponent_of(AT(LU, lda, i, j));
            top = ei > top ? ei : top;
        }
    }
    if (n == 0) return 0;
    const long k = -((long)lo + (long)hi) / 2, most = (long)(sizeof(R) == sizeof(float) ? FLT_MAX_EXP : DBL_MAX_EXP) - 2 - top;
    return k > most ? most : k;
}

/* D += c A^{-H}, A^{-1} from the packed LU. With `balance`, an inverse that overflows is taken
 * again of 2^k A (balancing_exponent) and c scaled by 2^k: (2^k A)^{-1} 2^k = A^{-1}. A zero D
 * (what a pullback starts from) holds the inverse itself: no workspace, no second pass. */
static int add_scaled_inverse_adjoint(int n, scaled c, int balance, const T *LU, int lda, const int *ipiv, T *D,
                                      int ldd) {
    const int in_place = IFN(all_zero)(n, n, D, ldd);
    T *X = in_place ? D : dl_alloc((size_t)n * n);
    const int ldx = in_place ? ldd : n;
    if (!X) return DL_ERR_ALLOC;
    if (!inverse_of_scaled(n, 0, LU, lda, ipiv, X, ldx) && balance && all_finite(n, LU, lda)) {
        const long k = balancing_exponent(n, LU, lda);
        if (k && inverse_of_scaled(n, k, LU, lda, ipiv, X, ldx))
            c.e += k;
        else if (k)
            inverse_of_scaled(n, 0, LU, lda, ipiv, X, ldx); /* no better: the plain inverse */
    }
    const cotangent_scale f = cotangent_scale_of(c);
    if (in_place) {
        scale_adjoint_in_place(n, &f, D, ldd);
    } else {
        add_scaled_adjoint(n, &f, X, n, D, ldd);
        dl_free(X);
    }
    return 0;
}

/* The vectors of the rank-one adjugate for the single zero pivot U_jj: adj(A) = s p a r^T with
 * s p = pivot_product(.., j). a, r: n each. */
static void rank_one_adjugate(int n, const T *LU, int lda, const int *ipiv, int j, T *a, T *r) {
    for (int i = 0; i < n; ++i) a[i] = r[i] = 0;
    a[j] = r[j] = 1;
    if (j > 0) {
        for (int i = 0; i < j; ++i) a[i] = -AT(LU, lda, i, j);
        IFN(trsv)('U', 'N', 'N', j, LU, lda, a, 1);
    }
    const int rest = n - j - 1;
    if (rest > 0) {
        for (int i = 0; i < rest; ++i) r[j + 1 + i] = -AT(LU, lda, j, j + 1 + i);
        IFN(trsv)('U', 'T', 'N', rest, &AT(LU, lda, j + 1, j + 1), lda, r + j + 1, 1);
    }
    IFN(trsv)('L', 'T', 'U', n, LU, lda, r, 1);      /* L^{-T} b */
    BLAS(laswp)(&INC1, r, &n, &INC1, &n, ipiv, &DEC1);      /* P L^{-T} b */
}

/* ---- the getrf tangent's diagonal, weighted and summed, across the range of dA and of A
 * d det and d log|det| are sums over i of dU_ii times a weight (prod_{k != i} U_kk, or
 * 1/U_ii), dU = the diagonal of the getrf tangent of dA. Formed plainly, that loses subnormal
 * entries of dA, and its intermediates (dL = ... / U_jj, dU = ... - dL U) over- or underflow
 * where the sum does not. The tangent is linear in dA, so dA is differentiated in BANDS of the
 * binary exponents of its parts (real and imaginary parts apart: d det(Re dA + i Im dA) =
 * d det(Re dA) + d det(i Im dA)), from the largest down, band_width() wide; a non-finite part
 * goes with the first band. Each band runs on a copy scaled by a power of two that is exact for
 * all its parts: its top at 2^far first (+600 in double, +75 in single: as high as it goes, so
 * that the intermediates underflow least), and where that band's tangent is not finite, at
 * 2^0, then at 2^-far. Weights, terms and sum are kept scaled (m 2^e): the result over- or
 * underflows only if its value does. A band whose tangent is finite at none of them keeps its
 * first (its value likely leaves the range, or its terms cancel out of it). An ordinary dA is
 * one band, and its result is bitwise the unscaled computation's wherever that one neither
 * under- nor overflows (scaling by 2^k is exact). */
static long far_exponent(void) { return 600L * MAX_EXPONENT / 1024; }

/* Wide enough for few bands, narrow enough that a band's top at 2^-far leaves its bottom normal. */
static long band_width(void) { return -(long)MIN_EXPONENT - far_exponent() - 1; }

/* The exponents (frexp's) of the largest and smallest finite nonzero parts of dA; 0 if none. */
static int exponent_range(int n, const T *dA, int ldda, long *top, long *bottom) {
    double big = 0, small = INFINITY;
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < n; ++i) {
            const T x = AT(dA, ldda, i, j);
            const double parts[2] = {fabs((double)REAL(x)), fabs((double)IMAG(x))};
            for (int k = 0; k < 2; ++k)
                if (parts[k] != 0 && isfinite(parts[k])) {
                    big = parts[k] > big ? parts[k] : big;
                    small = parts[k] < small ? parts[k] : small;
                }
        }
    if (big == 0) return 0;
    int e;
    frexp(big, &e);
    *top = e;
    frexp(small, &e);
    *bottom = e;
    return 1;
}

/* A band: the parts whose exponent e is in (top - band_width(), top], i.e. whose size is in
 * [low, high) = [2^(top - width - 1), 2^top) (low 0 where it underflows, high inf where it
 * overflows); the first band also holds the non-finite parts. */
typedef struct {
    double low, high;
    int first;
} band;

static band band_of(long top, int first) {
    const band b = {ldexp(1.0, (int)(top - band_width() - 1)), ldexp(1.0, dl_min((int)top, 4096)), first};
    return b;
}

static int in_band(R part, const band *b) {
    const double m = fabs((double)part);
    if (m == 0) return 0;
    return isfinite(m) ? m >= b->low && m < b->high : b->first;
}

/* x's parts in the band, times 2^shift (exact: see band_width), the others 0; *mine |= any. */
static T band_portion(T x, const band *b, long shift, int *mine) {
    R parts[2] = {REAL(x), IMAG(x)};
    for (int k = 0; k < (DL_IS_COMPLEX ? 2 : 1); ++k) {
        const int in = in_band(parts[k], b);
        parts[k] = in ? (R)ldexp((double)parts[k], (int)shift) : (R)0;
        *mine |= in;
    }
#if DL_IS_COMPLEX
    T z;
    memcpy(&z, parts, sizeof z);
    return z;
#else
    return parts[0];
#endif
}

enum { BAND_EMPTY = -1 };

/* dU = the diagonal of the getrf tangent of 2^shift (the band's parts of dA; others 0), in D
 * (n x n workspace). Returns 1 if every dU_ii is finite, 0 if not, BAND_EMPTY, DL_ERR_ALLOC. */
static int band_tangent_diagonal(int n, const T *LU, int lda, const int *ipiv, const T *dA, int ldda, const band *b,
                                 long shift, T *D, T *dU) {
    int any = 0;
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < n; ++i) AT(D, n, i, j) = band_portion(AT(dA, ldda, i, j), b, shift, &any);
    if (!any) return BAND_EMPTY;
    if (IFN(lu_rule)(0, n, n, LU, lda, ipiv, D, n) == DL_ERR_ALLOC) return DL_ERR_ALLOC;
    int finite = 1;
    for (int i = 0; i < n; ++i) {
        dU[i] = AT(D, n, i, i);
        finite &= isfinite(part_max(dU[i]));
    }
    return finite;
}

/* sum += sum_i weight[i] dU_ii 2^-shift, scaled */
static scaled add_weighted(scaled sum, int n, const scaled *weight, const T *dU, long shift) {
    for (int i = 0; i < n; ++i) {
        scaled term = scaled_mul(weight[i], dU[i]);
        if (term.m != 0 && isfinite(part_max(term.m))) term.e -= shift;
        sum = scaled_add(sum, term);
    }
    return sum;
}

/* sum_i weight[i] dU_ii for dU the diagonal of the getrf tangent of dA, scaled (see above). */
static int weighted_tangent_diagonal(int n, const T *LU, int lda, const int *ipiv, const T *dA, int ldda,
                                     const scaled *weight, scaled *sum) {
    const long far = far_exponent(), width = band_width(), tops[] = {far, 0, -far};
    T *D = dl_alloc((size_t)n * n), *dU = dl_alloc((size_t)n), *kept = dl_alloc((size_t)n);
    int rc = 0;
    *sum = scaled_of(0);
    if (!D || !dU || !kept) {
        rc = DL_ERR_ALLOC;
        goto done;
    }
    long top, bottom;
    if (!exponent_range(n, dA, ldda, &top, &bottom)) top = bottom = 0; /* only zeros and non-finite entries */
    for (long band_top = top; band_top >= bottom; band_top -= width) {
        const band b = band_of(band_top, band_top == top);
        long kept_shift = 0;
        int have = 0, empty = 0;
        for (size_t t = 0; t < sizeof tops / sizeof *tops; ++t) {
            const long shift = tops[t] - band_top;
            const int got = band_tangent_diagonal(n, LU, lda, ipiv, dA, ldda, &b, shift, D, dU);
            if (got == DL_ERR_ALLOC) { rc = got; goto done; }
            if (got == BAND_EMPTY) { empty = 1; break; }
            if (got == 1 || !have) { /* the finite one, or the first: kept */
                T *swap = kept; kept = dU; dU = swap;
                kept_shift = shift;
                have = 1;
            }
            if (got == 1) break;
        }
        if (empty) continue;
        *sum = add_weighted(*sum, n, weight, kept, kept_shift);
    }
done:
    dl_free(D);
    dl_free(dU);
    dl_free(kept);
    return rc;
}

/* d det = sign(P) sum_i dU_ii prod_{k != i} U_kk, the products by prefix and suffix products
 * (no division: exact when U_{n-1,n-1} = 0, the one zero pivot the getrf tangent allows). */
static int det_tangent_from_lu(int n, const T *LU, int lda, const int *ipiv, const T *dA, int ldda, T *ddet) {
    scaled *weight = dl_alloc_bytes(sizeof(scaled) * (size_t)n);
    if (!weight) return DL_ERR_ALLOC;
    scaled p = scaled_of(1);
    for (int i = n - 1; i >= 0; --i) { /* suffix products prod_{k > i} U_kk */
        weight[i] = p;
        p = scaled_mul(p, AT(LU, lda, i, i));
    }
    scaled prefix = scaled_of(permutation_sign(n, ipiv));
    for (int i = 0; i < n; ++i) {
        weight[i] = scaled_times(prefix, weight[i]);
        prefix = scaled_mul(prefix, AT(LU, lda, i, i));
    }
    scaled sum;
    const int rc = weighted_tangent_diagonal(n, LU, lda, ipiv, dA, ldda, weight, &sum);
    *ddet = scaled_value(sum);
    dl_free(weight);
    return rc;
}

/* d det for a singular A whose zero pivot(s) the getrf tangent cannot pass: one zero U_jj,
 * j < n - 1 (rank-one adjugate), or several (NaN). dA != 0. */
static int singular_det_tangent(int n, const T *LU, int lda, const int *ipiv, const T *dA, int ldda,
                                int zeros, int j, T *ddet) {
    if (zeros > 1) {
        *ddet = NAN_T;
        return 0;
    }
    T *work = dl_alloc(3 * (size_t)n);
    if (!work) return DL_ERR_ALLOC;
    T *a = work, *r = work + n, *dAa = work + 2 * n;
    const T one = 1, zero = 0;
    rank_one_adjugate(n, LU, lda, ipiv, j, a, r);
    BLAS(gemv)("N", &n, &n, &one, dA, &ldda, a, &INC1, &zero, dAa, &INC1);
    scaled s = scaled_of(0); /* summed scaled: a partial sum may leave the range where s does not */
    for (int i = 0; i < n; ++i) s = scaled_add(s, scaled_mul(scaled_of(r[i]), dAa[i]));
    *ddet = scaled_value(scaled_times(pivot_product(n, LU, lda, ipiv, j), s));
    dl_free(work);
    return 0;
}

/* dA += detbar adj(A)^H for a singular A; detbar != 0. */
static int singular_det_adjoint(int n, const T *LU, int lda, const int *ipiv, T detbar, int zeros, int j,
                                T *dA, int ldda) {
    if (zeros > 1) {
        IFN(fill_nan)(n, n, dA, ldda);
        return 0;
    }
    /* the scalar detbar conj(sign(P) prod_{k != j} U_kk), kept scaled and applied per entry last,
     * so that it over- or underflows only where an entry of the adjugate does */
    const cotangent_scale f = cotangent_scale_of(scaled_mul(scaled_conj(pivot_product(n, LU, lda, ipiv, j)), detbar));
    if (j == n - 1) { /* f times the getrf adjoint of Ubar = e_j e_j^T */
        T *D = dl_alloc((size_t)n * n);
        if (!D) return DL_ERR_ALLOC;
        const T zero = 0;
        BLAS(laset)("A", &n, &n, &zero, &zero, D, &n);
        AT(D, n, j, j) = 1;
        int rc = IFN(lu_rule)(1, n, n, LU, lda, ipiv, D, n);
        for (int c = 0; c < n; ++c)
            for (int i = 0; i < n; ++i) AT(dA, ldda, i, c) += times(&f, AT(D, n, i, c));
        dl_free(D);
        return rc == DL_ERR_ALLOC ? rc : 0;
    }
    T *work = dl_alloc(2 * (size_t)n);
    if (!work) return DL_ERR_ALLOC;
    T *a = work, *r = work + n;
    rank_one_adjugate(n, LU, lda, ipiv, j, a, r);
    for (int c = 0; c < n; ++c) /* dA += f conj(r) a^H */
        for (int i = 0; i < n; ++i) AT(dA, ldda, i, c) += times(&f, CONJ(r[i] * a[c]));
    dl_free(work);
    return 0;
}

/* ---------------------------------------------------------------- det */
int FN(det)(int n, T *A, int lda, int *ipiv, T *det) {
    int rc = det_check(n, A, lda, ipiv);
    if (rc) return rc;
    if (!det) return -105;
    const int info = factor(n, A, lda, ipiv);
    *det = det_of_lu(n, A, lda, ipiv);
    return info;
}

int FN(det_fwd)(unsigned active, int n, T *A, int lda, int *ipiv, const T *dA, int ldda, T *det,
                T *ddet) {
    int rc = det_check(n, A, lda, ipiv);
    if (rc) return rc;
    const int act = (active & DL_ACTIVE_A) != 0;
    if (act && n > 0 && !dA) return -106;
    if (act && ldda < dl_max(1, n)) return -107;
    if (!det) return -108;
    if (act && !ddet) return -109;
    const int info = factor(n, A, lda, ipiv);
    *det = det_of_lu(n, A, lda, ipiv);
    if (ddet) *ddet = 0;
    if (!act || n == 0 || IFN(all_zero)(n, n, dA, ldda)) return info;
    int first;
    const int zeros = count_zero_pivots(n, A, lda, &first);
    if (zeros == 0 || (zeros == 1 && first == n - 1))
        rc = det_tangent_from_lu(n, A, lda, ipiv, dA, ldda, ddet);
    else
        rc = singular_det_tangent(n, A, lda, ipiv, dA, ldda, zeros, first, ddet);
    return rc ? rc : info;
}

int FN(det_rev)(unsigned active, int n, const T *LU, int lda, const int *ipiv, const T *detbar, T *dA,
                int ldda) {
    int rc = det_check(n, LU, lda, ipiv);
    if (rc) return rc;
    const int act = (active & DL_ACTIVE_A) != 0;
    if (act && !detbar) return -106;
    if (act && n > 0 && !dA) return -107;
    if (act && ldda < dl_max(1, n)) return -108;
    /* the only check that reads memory comes last: no array is touched on any other error */
    if (!dl_pivots_in_range(n, ipiv, n)) return -4;
    int first;
    const int zeros = n > 0 ? count_zero_pivots(n, LU, lda, &first) : 0;
    const int info = zeros ? first + 1 : 0;
    if (!act || n == 0 || *detbar == 0) return info;
    if (zeros) {
        rc = singular_det_adjoint(n, LU, lda, ipiv, *detbar, zeros, first, dA, ldda);
        return rc ? rc : info;
    }
    /* detbar conj(det) A^{-H}, det kept scaled (folded into each entry's exponent when it is not
     * a normal number) and, if A^{-1} overflows, the inverse taken of 2^k A */
    const scaled c = scaled_mul(scaled_conj(pivot_product(n, LU, lda, ipiv, -1)), *detbar);
    return add_scaled_inverse_adjoint(n, c, 1, LU, lda, ipiv, dA, ldda);
}

/* ---------------------------------------------------------------- slogdet */
/* The c of Abar = c A^{-H}: labar, plus i Im(conj(sign) signbar) for complex data (the sign's
 * cotangent tangent to the unit circle; signbar is not read for real data). */
static T slogdet_cotangent_scale(T sign, const T *signbar, const R *labar) {
    T c = *labar;
#if DL_IS_COMPLEX
    c += IMAG(CONJ(sign) * *signbar) * (T)I;
#else
    (void)sign;
    (void)signbar;
#endif
    return c;
}

int FN(slogdet)(int n, T *A, int lda, int *ipiv, T *sign, R *logabsdet) {
    int rc = det_check(n, A, lda, ipiv);
    if (rc) return rc;
    if (!sign) return -105;
    if (!logabsdet) return -106;
    const int info = factor(n, A, lda, ipiv);
    slogdet_of_lu(n, A, lda, ipiv, sign, logabsdet);
    return info;
}

int FN(slogdet_fwd)(unsigned active, int n, T *A, int lda, int *ipiv, const T *dA, int ldda, T *sign,
                    R *logabsdet, T *dsign, R *dlogabsdet) {
    int rc = det_check(n, A, lda, ipiv);
    if (rc) return rc;
    const int act = (active & DL_ACTIVE_A) != 0;
    if (act && n > 0 && !dA) return -106;
    if (act && ldda < dl_max(1, n)) return -107;
    if (!sign) return -108;
    if (!logabsdet) return -109;
    if (act && !dsign) return -110;
    if (act && !dlogabsdet) return -111;
    const int info = factor(n, A, lda, ipiv);
    slogdet_of_lu(n, A, lda, ipiv, sign, logabsdet);
    if (dsign) *dsign = 0;
    if (dlogabsdet) *dlogabsdet = 0;
    if (!act || n == 0 || IFN(all_zero)(n, n, dA, ldda)) return info;
    if (info) { /* log|det| = -inf: no derivative */
        *dlogabsdet = (R)NAN;
        if (DL_IS_COMPLEX) *dsign = NAN_T;
        return info;
    }
    scaled *weight = dl_alloc_bytes(sizeof(scaled) * (size_t)n); /* 1 / U_ii */
    if (!weight) return DL_ERR_ALLOC;
    for (int i = 0; i < n; ++i) weight[i] = scaled_inverse(scaled_of(AT(A, lda, i, i)));
    scaled sum; /* tr(A^{-1} dA) = sum_i dU_ii / U_ii */
    rc = weighted_tangent_diagonal(n, A, lda, ipiv, dA, ldda, weight, &sum);
    dl_free(weight);
    if (rc == DL_ERR_ALLOC) return rc;
    const T t = scaled_value(sum);
    *dlogabsdet = REAL(t);
#if DL_IS_COMPLEX
    *dsign = IMAG(t) * (T)I * *sign;
#endif
    return rc;
}

int FN(slogdet_rev)(unsigned active, int n, const T *LU, int lda, const int *ipiv, const T *signbar,
                    const R *labar, T *dA, int ldda) {
    int rc = det_check(n, LU, lda, ipiv);
    if (rc) return rc;
    const int act = (active & DL_ACTIVE_A) != 0;
    if (act && DL_IS_COMPLEX && !signbar) return -106;
    if (act && !labar) return -107;
    if (act && n > 0 && !dA) return -108;
    if (act && ldda < dl_max(1, n)) return -109;
    /* the only check that reads memory comes last: no array is touched on any other error */
    if (!dl_pivots_in_range(n, ipiv, n)) return -4;
    if (n == 0) return 0;
    if (!act) return IFN(first_zero_diagonal)(n, LU, lda); /* the info, as det_rev returns it */
    /* a zero cotangent contributes exactly zero, also when the sign is NaN (NaN in LU) */
    const int zero_bar = *labar == 0 && !(DL_IS_COMPLEX && *signbar != 0);
    const int info = IFN(first_zero_diagonal)(n, LU, lda);
    if (info) { /* (0, -inf): neither output has a derivative */
        if (!zero_bar) IFN(fill_nan)(n, n, dA, ldda);
        return info;
    }
    if (zero_bar) return 0;
    T sign;
    R logabsdet;
    slogdet_of_lu(n, LU, lda, ipiv, &sign, &logabsdet);
    const T c = slogdet_cotangent_scale(sign, signbar, labar);
    if (c == 0) return 0;
    return add_scaled_inverse_adjoint(n, scaled_of(c), 0, LU, lda, ipiv, dA, ldda);
}

/* ---------------------------------------------------------------- slogdet with the inverse
 * The forward pass of a reverse-mode log-determinant: (sign, log|det|) and A^{-1} left in A,
 * by Gauss-Jordan elimination (gauss_jordan.c; ?getrf's pivots and pivot values):
 * 2 n^3 flops in one pass that takes less time than ?getrf followed by the inversion from the
 * factors. The reverse pass is then one scaled conjugate transpose, dl_?slogdet_inv_rev. */
int FN(slogdet_inv)(int n, T *A, int lda, int *ipiv, T *sign, R *logabsdet, R *pivot_ratio) {
    int rc = det_check(n, A, lda, ipiv);
    if (rc) return rc;
    if (!sign) return -105;
    if (!logabsdet) return -106;
    T *pivot = dl_alloc((size_t)n);
    if (!pivot) return DL_ERR_ALLOC;
    const int info = IFN(gauss_jordan_inverse)(n, A, lda, ipiv, pivot);
    if (pivot_ratio && info >= 0) { /* 0 (redo by getrf) for a zero or non-finite pivot */
        double lo = INFINITY, hi = 0;
        int finite = 1;
        for (int k = 0; k < (info ? info : n); ++k) {
            const double m = part_max(pivot[k]);
            finite &= isfinite(m);
            lo = m < lo ? m : lo;
            hi = m > hi ? m : hi;
        }
        *pivot_ratio = info || !finite ? 0 : n == 0 ? 1 : (R)(lo / hi);
    }
    if (info > 0) { /* singular: no inverse; the pivots after the zero one are not chosen */
        for (int k = info; k < n; ++k) ipiv[k] = k + 1;
        IFN(fill_nan)(n, n, A, lda);
        *sign = 0;
        *logabsdet = (R)-INFINITY;
    } else if (info == 0) {
        slogdet_of_pivots(n, pivot, 1, ipiv, sign, logabsdet);
    }
    dl_free(pivot);
    return info;
}

/* Abar = c X^H (Giles 2008, sec. 3.2.4, as dl_?slogdet_rev) from the X = A^{-1} and the sign
 * that dl_?slogdet_inv returned: one pass, no factorization. */
int FN(slogdet_inv_rev)(unsigned active, int n, const T *X, int ldx, const T *sign, const T *signbar,
                        const R *labar, T *dA, int ldda) {
    if (n < 0) return -102;
    if (n > 0 && !X) return -103;
    if (ldx < dl_max(1, n)) return -104;
    const int act = (active & DL_ACTIVE_A) != 0;
    if (act && !sign) return -105;
    if (act && DL_IS_COMPLEX && !signbar) return -106;
    if (act && !labar) return -107;
    if (act && n > 0 && !dA) return -108;
    if (act && ldda < dl_max(1, n)) return -109;
    if (!act || n == 0) return 0;
    const int zero_bar = *labar == 0 && !(DL_IS_COMPLEX && *signbar != 0);
    if (*sign == 0) { /* (0, -inf): neither output has a derivative */
        if (!zero_bar) IFN(fill_nan)(n, n, dA, ldda);
        return 0;
    }
    const T c = slogdet_cotangent_scale(*sign, signbar, labar);
    if (c != 0) {
        const cotangent_scale f = cotangent_scale_of(scaled_of(c));
        add_scaled_adjoint(n, &f, X, ldx, dA, ldda);
    }
    return 0;
}
