"""Minimal reproducer (no difflapack involved): under jax.grad, Enzyme-JAX 0.0.16 mishandles a
C++ function that writes its OUTPUT tensor and then reads or modifies it in place.

    loop    out[i] = b[i]; then out[i] *= A[i]  (plain loops)  -> WRONG gradient, no error
    helper  out[i] = b[i]; then a noinline helper scales &out[0] in place
            -> "LLVM ERROR: function failed verification": the process aborts
    local   the same computation in a local buffer, out written once at the end, built with
            -fno-builtin -> correct
    local_builtin  `local` without -fno-builtin: clang turns the copy loops into memcpy, and
            building the reverse pass SEGFAULTS most of the time (inside Enzyme's
            AdjointGenerator::handleKnownCallDerivatives), with no message
    checked the `loop` source through difflapack.enzyme.cpp_call -> EnzymeBuildError

Why `loop` is wrong: Enzyme-JAX's reverse pass re-runs the function with the stores to the
output tensor removed (it expects only zeroing stores there) and prints "SI: <store> C:
<value>" when it removes a non-zero one; the function then reads back values that were never
stored. difflapack.enzyme treats that line as a failure. The rule for users: use an output
tensor only as write-once storage at the end; compute in local or heap buffers; and build
with -fno-builtin (argv=("-fno-builtin",)) so that copy loops stay loops.

Run:  python docs/enzyme-limitations/output_in_place.py {loop|helper|local|local_builtin|checked}
(helper and local_builtin kill the process: run them in a subprocess).
"""
import sys

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

N = 4
A = np.array([2.0, 3.0, 4.0, 5.0])  # d loss / d b = w * A
W = np.array([1.0, 1.0, 1.0, 1.0])
B = np.array([0.5, -1.0, 2.0, 1.5])

SOURCES = {
    "loop": r"""
void f(enzyme::tensor<double, 4>& out, const enzyme::tensor<double, 4>& b) {
  const double A[4] = {2, 3, 4, 5};
  for (int i = 0; i < 4; ++i) out[i] = b[i];
  for (int i = 0; i < 4; ++i) out[i] *= A[i];
}""",
    "helper": r"""
__attribute__((noinline)) static void scale(double* y) {
  const double A[4] = {2, 3, 4, 5};
  for (int i = 0; i < 4; ++i) y[i] *= A[i];
}
void f(enzyme::tensor<double, 4>& out, const enzyme::tensor<double, 4>& b) {
  for (int i = 0; i < 4; ++i) out[i] = b[i];
  scale(&out[0]);
}""",
    "local": r"""
void f(enzyme::tensor<double, 4>& out, const enzyme::tensor<double, 4>& b) {
  const double A[4] = {2, 3, 4, 5};
  double y[4];
  for (int i = 0; i < 4; ++i) y[i] = b[i];
  for (int i = 0; i < 4; ++i) y[i] *= A[i];
  for (int i = 0; i < 4; ++i) out[i] = y[i];   /* the output, written once at the end */
}""",
}
SOURCES["local_builtin"] = SOURCES["local"]
SOURCES["checked"] = SOURCES["loop"]
ARGV = {"local": ("-fno-builtin",)}


def gradient(variant: str) -> np.ndarray:
    """jax.grad of w . f(b) for one variant ("checked" goes through difflapack.enzyme)."""
    if variant == "checked":
        from difflapack.enzyme import cpp_call
    else:
        from enzyme_ad.jax import cpp_call   # the raw call: no checks
    shapes = [jax.core.ShapedArray([N], jnp.float64)]

    def loss(b):
        out = cpp_call(b, out_shapes=shapes, source=SOURCES[variant], fn="f", argv=ARGV.get(variant, ()))
        return jnp.dot(out[0], W)

    return np.asarray(jax.jit(jax.grad(loss))(jnp.asarray(B)))


def main(variant):
    g = gradient(variant)
    print(variant, "enzyme:", g, "expected:", W * A)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "loop")
