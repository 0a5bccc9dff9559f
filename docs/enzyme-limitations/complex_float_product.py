"""Minimal reproducer (no difflapack involved): the product of two std::complex<float> (or
_Complex float) values kills the process that builds ANY derivative of it with Enzyme 0.0.16
(jax.grad and jax.jvp over a cpp_call, __enzyme_autodiff, __enzyme_fwddiff): glibc aborts with
"double free or corruption" or "munmap_chunk(): invalid pointer" while Enzyme differentiates
clang's call of __mulsc3 (the C99 Annex G complex multiplication with its NaN recovery). The
primal builds and runs; std::complex<double> products are differentiated correctly.

    product          y = a * b on std::complex<float>                       -> the process dies
    fast_math        the same source built with -ffast-math (no __mulsc3)   -> right
    real_arithmetic  (ar br - ai bi, ar bi + ai br) written out             -> right

-fcx-limited-range and -fcx-fortran-rules do not help (clang still calls __mulsc3). Found by an
independent review of difflapack (a complex-float objective next to cgetrs_). The rule for users:
in code Enzyme differentiates, multiply complex floats by their parts, or build with
argv=("-ffast-math",) (which keeps difflapack's singular-matrix semantics: its kernels are
compiled separately).

Run:  python docs/enzyme-limitations/complex_float_product.py {product|fast_math|real_arithmetic}
"""
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

SOURCES = {
    "product": r"""
#include <complex>
typedef std::complex<float> cf;
void f(enzyme::tensor<double, 2>& out, const enzyme::tensor<double, 4>& x) {
  cf a((float)x[0], (float)x[1]), b((float)x[2], (float)x[3]);
  cf c = a * b;
  out[0] = c.real(); out[1] = c.imag();
}""",
    "real_arithmetic": r"""
#include <complex>
typedef std::complex<float> cf;
void f(enzyme::tensor<double, 2>& out, const enzyme::tensor<double, 4>& x) {
  cf a((float)x[0], (float)x[1]), b((float)x[2], (float)x[3]);
  cf c(a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real());
  out[0] = c.real(); out[1] = c.imag();
}""",
}
SOURCES["fast_math"] = SOURCES["product"]
X = np.array([0.3, -1.1, 0.7, 2.0])   # a = 0.3 - 1.1i, b = 0.7 + 2i
W = np.array([1.0, -0.5])             # loss = W . [Re ab, Im ab]


def gradient(variant: str) -> np.ndarray:
    """jax.grad of the loss through a raw enzyme_ad.jax.cpp_call."""
    from enzyme_ad.jax import cpp_call

    inc = subprocess.run(["gcc", "-print-file-name=include"], capture_output=True, text=True, check=True).stdout
    argv = ("-idirafter", inc.strip()) + (("-ffast-math",) if variant == "fast_math" else ())

    def f(x):
        return cpp_call(x, out_shapes=[jax.core.ShapedArray([2], jnp.float64)], source=SOURCES[variant], fn="f",
                        argv=argv)[0]

    return np.asarray(jax.jit(jax.grad(lambda x: jnp.sum(f(x) * W)))(X))


def expected() -> np.ndarray:
    """d/d(ar, ai, br, bi) of wr Re(ab) + wi Im(ab)."""
    ar, ai, br, bi = X
    wr, wi = W
    return np.array([wr * br + wi * bi, -wr * bi + wi * br, wr * ar + wi * ai, -wr * ai + wi * ar])


if __name__ == "__main__":
    variant = sys.argv[1] if len(sys.argv) > 1 else "product"
    got = gradient(variant)
    print(variant, "gradient:", got, "expected:", expected(),
          "RIGHT" if np.allclose(got, expected(), atol=1e-5) else "WRONG")
