"""Reproducer: std::complex<double> arrays copied element by element (a[k] = A[k], or a[k] = 0.0)
into a buffer that only LAPACK calls read. clang copies each element with a 16-byte llvm.memcpy
(or llvm.memset) -- a struct copy, whatever -fno-builtin-* says -- and Enzyme 0.0.16's type
analysis cannot tell what it copies: "Enzyme: Cannot deduce type of copy" in combined reverse
mode (and in forward mode when the matrix is constant). difflapack's header annotates the
buffer it is given (__enzyme_double), but Enzyme does not carry that annotation from the base
pointer to &a[k] at a variable k. The same loops work when the program also does complex
arithmetic on a[k] (that types the element), and with either workaround below.

    python complex_copy.py element     -> BUILD FAILED (Cannot deduce type of copy)
    python complex_copy.py annotated   -> RIGHT: __enzyme_double(&a[k], 16) in the copy loop
    python complex_copy.py parts       -> RIGHT: the copy through double* (re, im)

Found by an independent review of difflapack (Julia's inv in natural C++ complex).
"""
import sys

import numpy as np

COPIES = {  # (into the buffer, out of it)
    "element": ("for (int k = 0; k < 9; ++k) a[k] = A[k];", "for (int k = 0; k < 9; ++k) X[k] = a[k];"),
    "annotated": ("for (int k = 0; k < 9; ++k) { __enzyme_double(&a[k], 16); a[k] = A[k]; }",
                  "for (int k = 0; k < 9; ++k) { __enzyme_double(&a[k], 16); X[k] = a[k]; }"),
    "parts": ("for (int k = 0; k < 18; ++k) ((double*)a)[k] = Ad[k];",
              "for (int k = 0; k < 18; ++k) Xd[k] = ((double*)a)[k];"),
}
SOURCE = r"""
#include <complex>
#include "difflapack_enzyme.h"
typedef std::complex<double> C;
void zinv(const double* Ad, double* Xd) {          // Julia's inv of a 3 x 3 complex matrix
  const C* A = (const C*)Ad; C* X = (C*)Xd;
  int n = 3, info, lwork = 9; int ipiv[3]; C a[9], w[9];
  COPY_IN
  zgetrf_(&n, &n, a, &n, ipiv, &info);
  zgetri_(&n, a, &n, ipiv, w, &lwork, &info);
  COPY_OUT
}
"""
FLAGS = ("-fno-builtin-memcpy", "-fno-builtin-memset", "-fno-builtin-memmove")


def main(variant: str) -> None:
    from difflapack.testing import ALL_MODES, Duplicated, check_rule

    r = np.random.default_rng(1)
    a = r.standard_normal((3, 3)) + 1j * r.standard_normal((3, 3)) + 3 * np.eye(3)
    ad = np.ascontiguousarray(a.T).view(np.float64).ravel()   # column-major, (re, im) pairs
    copy_in, copy_out = COPIES[variant]
    report = check_rule(SOURCE.replace("COPY_IN", copy_in).replace("COPY_OUT", copy_out), "zinv", [ad, np.zeros(18)],
                        [Duplicated, Duplicated], modes=ALL_MODES, argv=FLAGS)
    print(report)
    messages = " ".join(res.message for p in report.patterns for res in p.results)
    if report.ok:
        print("RIGHT")
    elif "Cannot deduce type of" in messages:
        print("BUILD FAILED")
    else:
        print("WRONG")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "element")
