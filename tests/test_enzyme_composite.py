"""A composite C program of the kind users write, differentiated by Enzyme with only
#include "difflapack_enzyme.h" added: ILP64 getrf + transposed getrs on a copy with lda > n
(user prototypes with 64-bit ints and a hidden string length), trsm side R / lower / trans T /
unit diagonal with a stack-temporary alpha and hidden lengths, trsv with a NON-const user
prototype, lower-case flags and a negative increment, and the factors overwritten after use.
Every activity subset of the read-only arrays, forward / combined reverse / split reverse,
against central differences (difflapack.testing)."""
import numpy as np
import pytest

pytest.importorskip("enzyme_ad")
from difflapack.testing import Active, Duplicated, check_rule  # noqa: E402

SOURCE = r'''
#include "difflapack_enzyme.h"
extern "C" void dgetrf_64_(const long long*, const long long*, double*, const long long*, long long*, long long*);
extern "C" void dgetrs_64_(const char*, const long long*, const long long*, const double*, const long long*, const long long*, double*, const long long*, long long*, unsigned long);
extern "C" void dtrsm_(const char*, const char*, const char*, const char*, const int*, const int*, const double*, const double*, const int*, double*, const int*, unsigned long, unsigned long, unsigned long, unsigned long);
extern "C" void dtrsv_(char*, char*, char*, int*, double*, int*, double*, int*);
double f(double* A, double* B, double* T, double* v) {
  long long n = 5, nrhs = 2, lda = 6, ldb = 5, info; long long ipiv[5];
  double W[30]; for (int i = 0; i < 30; ++i) W[i] = A[i];           // copy, lda = 6
  dgetrf_64_(&n, &n, W, &lda, ipiv, &info);
  dgetrs_64_("T", &n, &nrhs, W, &lda, ipiv, B, &ldb, &info, 1);      // B := A^-T B (in place)
  int m = 5, k = 2, ldt = 2, ldbb = 5; double alpha = 0.5;
  dtrsm_("R", "L", "T", "U", &m, &k, &alpha, T, &ldt, B, &ldbb, 1, 1, 1, 1);
  int nn = 2, inc = -2, ldtt = 5; char u = 'u', t = 'n', d = 'N';
  dtrsv_(&u, &t, &d, &nn, B, &ldtt, v, &inc);                          // uses B(0:2,0:2) as a triangle
  for (int i = 0; i < 30; ++i) W[i] = 0;                               // overwrite the factors afterwards
  double s = 0; for (int i = 0; i < 10; ++i) s += B[i] * B[i]; for (int i = 0; i < 5; ++i) s += v[i] * (i + 1);
  return s;
}'''


def test_composite_program_all_modes_and_activity_subsets():
    r = np.random.default_rng(1)
    A = r.standard_normal((6, 5))
    A[:5] += 4 * np.eye(5)
    B, T, v = r.standard_normal((5, 2)), r.standard_normal((2, 2)), r.standard_normal(5)
    report = check_rule(SOURCE, "f", [A, B, T, v], [Duplicated] * 4, modes=("forward", "reverse", "split"),
                        return_activity=Active, all_activity_patterns=True, rtol=1e-6)
    assert report.ok, str(report)
