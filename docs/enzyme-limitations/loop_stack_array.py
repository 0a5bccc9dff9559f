"""Minimal reproducer (no difflapack involved): Enzyme 0.0.16 returns a WRONG reverse-mode
gradient, without any message, for a right-looking blocked LU (LAPACK's dgetrf algorithm, written
with plain loops) whose trailing update goes through a temporary stack array declared INSIDE the
loop over blocks. The same program with the temporary declared before the loop, or on the heap,
is right; forward mode is right in all three.

    in_loop       double N21[n * nb]; inside the block loop   -> reverse: WRONG gradient
    before_loop   the same array declared before the loop     -> right
    heap          malloc'd inside the loop, freed after use    -> right

Found by difflapack's composite programs (tests/test_enzyme_programs.py, blocked_lu_gemm_alpha,
where the update is Enzyme's own dgemm_ on that temporary and dtrsm_/dgetrf_ go through
difflapack): replacing every BLAS/LAPACK call by loops, without difflapack_enzyme.h, leaves the
gradient exactly as wrong. A smaller loop with a per-iteration stack temporary was right, so the
trigger is narrower than "any array in a loop"; the rule for users: declare temporaries before
the loop (or on the heap), and check reverse mode with difflapack.testing.check_rule.

Run:  python docs/enzyme-limitations/loop_stack_array.py {in_loop|before_loop|heap}
"""
import sys

import numpy as np

BLOCKED_LU = r"""
extern "C" { double fabs(double); void* malloc(unsigned long); void free(void*); }
void blocked_lu(const double* A, double* out) {
    const int n = 6, nb = 2, lda = 8;
    double W[lda * n];
    int ipiv[n];
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < lda; ++i) W[i + j * lda] = i < n ? A[i + j * n] : 0.0;
    for (int k = 0; k < n; k += nb) {
        int m = n - k, jb = nb;
        for (int c = 0; c < jb; ++c) {                    // the panel: unblocked LU, partial pivoting
            double* P = &W[k + k * lda];
            int p = c;
            for (int i = c + 1; i < m; ++i) if (fabs(P[i + c * lda]) > fabs(P[p + c * lda])) p = i;
            ipiv[k + c] = p + 1;
            if (p != c)
                for (int j = 0; j < jb; ++j) { double t = P[c + j * lda]; P[c + j * lda] = P[p + j * lda]; P[p + j * lda] = t; }
            for (int i = c + 1; i < m; ++i) P[i + c * lda] /= P[c + c * lda];
            for (int j = c + 1; j < jb; ++j)
                for (int i = c + 1; i < m; ++i) P[i + j * lda] -= P[i + c * lda] * P[c + j * lda];
        }
        for (int i = k; i < k + jb; ++i) {
            ipiv[i] += k;                                  // panel row -> matrix row
            int p = ipiv[i] - 1;
            if (p != i)
                for (int j = 0; j < n; ++j)
                    if (j < k || j >= k + jb) { double t = W[i + j * lda]; W[i + j * lda] = W[p + j * lda]; W[p + j * lda] = t; }
        }
        int rest = n - k - jb;
        if (rest > 0) {
            for (int j = k + jb; j < n; ++j)              // U12 := L11^-1 A12
                for (int i = k; i < k + jb; ++i)
                    for (int l = k; l < i; ++l) W[i + j * lda] -= W[i + l * lda] * W[l + j * lda];
            double N21[n * nb];                           // TEMP (this line moves per variant)
            for (int l = 0; l < jb; ++l)                  // N21 := -L21
                for (int i = 0; i < rest; ++i) N21[i + l * rest] = -W[k + jb + i + (k + l) * lda];
            for (int j = 0; j < rest; ++j)                // A22 += N21 U12
                for (int l = 0; l < jb; ++l)
                    for (int i = 0; i < rest; ++i) W[k + jb + i + (k + jb + j) * lda] += N21[i + l * rest] * W[k + l + (k + jb + j) * lda];
        }
    }
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < n; ++i) out[i + j * n] = W[i + j * lda];
}

// a scalar of the factors, so that one gradient checks every entry
double f(const double* A) {
    double out[36];
    blocked_lu(A, out);
    double s = 0;
    for (int i = 0; i < 36; ++i) s += (0.1 + 0.05 * (i % 7)) * out[i];
    return s;
}
"""
TEMP = "            double N21[n * nb];                           // TEMP (this line moves per variant)\n"
SOURCES = {
    "in_loop": BLOCKED_LU,
    "before_loop": BLOCKED_LU.replace(TEMP, "").replace(
        "    for (int k = 0; k < n; k += nb) {", "    double N21[n * nb];\n    for (int k = 0; k < n; k += nb) {"),
    "heap": BLOCKED_LU.replace(TEMP, "            double* N21 = (double*)malloc(sizeof(double) * n * nb);\n").replace(
        "* W[k + l + (k + jb + j) * lda];\n", "* W[k + l + (k + jb + j) * lda];\n            free(N21);\n", 1),
}
A = np.random.default_rng(0).standard_normal((6, 6)).ravel(order="F")


def check(variant: str):
    """difflapack.testing's report of the variant in forward and reverse mode."""
    from difflapack.testing import Active, Duplicated, check_rule

    return check_rule(SOURCES[variant], "f", [A.copy()], [Duplicated], modes=("forward", "reverse"),
                      return_activity=Active)


if __name__ == "__main__":
    print(check(sys.argv[1] if len(sys.argv) > 1 else "in_loop"))
