"""Reproducer: `enzyme_dupnoneed` on an array the function reads back after writing it. The
activity says "the primal value of this argument is not needed", and Enzyme 0.0.16 then drops
the function's primal stores into it -- also the ones the function itself reads afterwards. A
LAPACK routine always works in place (dgetrf_ then dgetri_ on X, dgesv_'s B, dtrtrs_'s B), so
`enzyme_dupnoneed` on any array such a routine updates gives a wrong derivative, with no message.
No difflapack is needed to see it: the plain loop below is wrong the same way.

    python dupnoneed.py loops    -> dup RIGHT, dupnoneed WRONG (X := A, then X := X * X in place)
    python dupnoneed.py lapack   -> dup RIGHT, dupnoneed WRONG (X := A, then dgetrf_ + dgetri_ on X)

Use `enzyme_dup` for such arrays. Found by an independent review of difflapack.
"""
import sys

import numpy as np

N = 3
BODIES = {
    "loops": "for (int k = 0; k < 9; ++k) X[k] = X[k] * X[k];",
    "lapack": "int n = 3, info = 0, lwork = 9, ipiv[3]; double work[9];\n"
              "  dgetrf_(&n, &n, X, &n, ipiv, &info);\n"
              "  dgetri_(&n, X, &n, ipiv, work, &lwork, &info);",
}
SOURCE = r"""
#include "difflapack_enzyme.h"
extern "C" { void __enzyme_autodiff(void*, ...); void __enzyme_fwddiff(void*, ...);
             extern int enzyme_dup, enzyme_dupnoneed; }
static void g(const double* A, double* X) {   // X := A, then the body works on X in place
  for (int k = 0; k < 9; ++k) X[k] = A[k];
  BODY
}
// out: the reverse-mode dA for the seed W, then the forward-mode dX along V, each with
// X passed as ACTIVITY
void f(enzyme::tensor<double, 18>& out, const enzyme::tensor<double, 9>& Ain,
       const enzyme::tensor<double, 9>& Win, const enzyme::tensor<double, 9>& Vin) {
  double A[9], dA[9], X[9], dX[9];
  for (int k = 0; k < 9; ++k) { A[k] = Ain[k]; dA[k] = 0; X[k] = 0; dX[k] = Win[k]; }
  __enzyme_autodiff((void*)g, enzyme_dup, A, dA, ACTIVITY, X, dX);
  for (int k = 0; k < 9; ++k) { out[k] = dA[k]; dA[k] = Vin[k]; X[k] = 0; dX[k] = 0; }
  __enzyme_fwddiff((void*)g, enzyme_dup, A, dA, ACTIVITY, X, dX);
  for (int k = 0; k < 9; ++k) out[9 + k] = dX[k];
}
"""


def expected(variant, a, w, v):
    """(dA for the seed w, dX along v), column-major 3 x 3 matrices as flat arrays."""
    if variant == "loops":
        return 2 * a * w, 2 * a * v
    A, W, V = (x.reshape(N, N, order="F") for x in (a, w, v))
    X = np.linalg.inv(A)
    return (-X.T @ W @ X.T).ravel(order="F"), (-X @ V @ X).ravel(order="F")


def main(variant: str) -> None:
    import jax
    import jax.numpy as jnp

    from difflapack import enzyme

    jax.config.update("jax_enable_x64", True)
    r = np.random.default_rng(3)
    a = (r.standard_normal((N, N)) + 3 * np.eye(N)).ravel(order="F")
    w, v = r.standard_normal(9), r.standard_normal(9)
    want = np.concatenate(expected(variant, a, w, v))
    for activity in ("enzyme_dup", "enzyme_dupnoneed"):
        src = SOURCE.replace("BODY", BODIES[variant]).replace("ACTIVITY", activity)
        call = jax.jit(lambda *x: enzyme.cpp_call(*x, source=src, fn="f",  # noqa: B023
                                                  out_shapes=[jax.core.ShapedArray([18], jnp.float64)])[0])
        got = np.asarray(call(jnp.asarray(a), jnp.asarray(w), jnp.asarray(v)))
        right = np.allclose(got, want, rtol=1e-10, atol=1e-12)
        print(activity.replace("enzyme_", ""), "RIGHT" if right else "WRONG", got[:3], "want", want[:3])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "lapack")
