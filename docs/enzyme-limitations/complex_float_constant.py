"""Minimal reproducer (no difflapack involved): a REVERSE-mode gradient (jax.grad over a cpp_call,
__enzyme_autodiff) of Enzyme 0.0.16 is WRONG, with only a warning on stderr, when an array of
std::complex<float> is filled with elements that have a CONSTANT real or imaginary part -- even if
every element is overwritten by active data before it is used:

    constant_part   x[i] = std::complex<float>((float)i, -1.0f); then x[i] = a[i]; y = x * x  -> WRONG
    computed_part   x[i] = std::complex<float>((float)i, -1.0f - i); the rest the same       -> right
    float_units     the same constant -1.0f stored through a float* into x's real units        -> right

clang stores the constant part as an integer (`store i32 -1082130432`, the bits of -1.0f) after
SROA splits the 8-byte complex; Enzyme takes the integer store for inactive integer data, warns
"Mismatched activity for: store i32 ... its derivative will be assumed zero" and stores the same
bits into the shadow, where the reverse pass reads them as an adjoint of -1.0. Zero constants do
no harm (their bits are +0.0); std::complex<double>, a struct of two floats and a float* store
are all right. Found by difflapack's placement matrix (tests/test_enzyme_placement.py), whose
sub-block cells filled the buffer around the block with (1000 + i, -1): the plain-loop controls
(no difflapack) were just as wrong. The rule for users: do not initialise std::complex<float>
arrays with constant parts in code Enzyme differentiates (compute them, or write through a
float*); a "Mismatched activity ... store i32" warning in the build log is the symptom.

Run:  python docs/enzyme-limitations/complex_float_constant.py {constant_part|computed_part|float_units}
"""
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

SOURCE = r"""
#include <complex>
typedef std::complex<float> cf;
void f(enzyme::tensor<double, 4>& out, const enzyme::tensor<double, 4>& a) {
  cf x[2];
  FILL
  for (int i = 0; i < 2; i++) x[i] = cf((float)a[2 * i], (float)a[2 * i + 1]);
  for (int i = 0; i < 2; i++) {     // x^2 by real arithmetic (no __mulsc3 call)
    float r = x[i].real(), m = x[i].imag();
    x[i] = cf(r * r - m * m, 2 * r * m);
  }
  for (int i = 0; i < 2; i++) { out[2 * i] = x[i].real(); out[2 * i + 1] = x[i].imag(); }
}"""
VARIANTS = {
    "constant_part": "for (int i = 0; i < 2; i++) x[i] = cf((float)i, -1.0f);",
    "computed_part": "for (int i = 0; i < 2; i++) x[i] = cf((float)i, -1.0f - i);",
    "float_units": "for (int i = 0; i < 2; i++) { ((float*)x)[2 * i] = (float)i; ((float*)x)[2 * i + 1] = -1.0f; }",
}
A = np.array([0.7, -0.4, 1.2, 0.3])     # x = (0.7 - 0.4i, 1.2 + 0.3i), interleaved (re, im)
W = np.array([1.0, 2.0, -1.0, 0.5])     # loss = W . [Re x0^2, Im x0^2, Re x1^2, Im x1^2]


def gradient(variant: str) -> np.ndarray:
    """jax.grad of the loss through a raw enzyme_ad.jax.cpp_call."""
    from enzyme_ad.jax import cpp_call

    # the embedded clang has its own C++ headers but needs gcc's for stddef.h
    inc = subprocess.run(["gcc", "-print-file-name=include"], capture_output=True, text=True, check=True).stdout
    src = SOURCE.replace("FILL", VARIANTS[variant])

    def f(a):
        return cpp_call(a, out_shapes=[jax.core.ShapedArray([4], jnp.float64)], source=src, fn="f",
                        argv=("-idirafter", inc.strip()))[0]

    return np.asarray(jax.jit(jax.grad(lambda a: jnp.sum(f(a) * W)))(A))


def expected() -> np.ndarray:
    """d loss / d(Re x_k, Im x_k): y = x^2 gives dRe y = 2(a da - b db), dIm y = 2(b da + a db)."""
    g = np.zeros(4)
    for k in range(2):
        a, b = A[2 * k], A[2 * k + 1]
        wr, wi = W[2 * k], W[2 * k + 1]
        g[2 * k] = 2 * (wr * a + wi * b)
        g[2 * k + 1] = 2 * (-wr * b + wi * a)
    return g


if __name__ == "__main__":
    variant = sys.argv[1] if len(sys.argv) > 1 else "constant_part"
    got = gradient(variant)
    print(variant, "gradient:", got, "expected:", expected(),
          "RIGHT" if np.allclose(got, expected(), atol=1e-5) else "WRONG")
