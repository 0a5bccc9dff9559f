"""Minimal reproducer (no difflapack involved): in FORWARD mode (jax.jvp over a cpp_call,
__enzyme_fwddiff), memory written by a function registered as inactive keeps a shadow that
Enzyme 0.0.16 never initialises. A heap buffer's shadow is a fresh malloc that forward mode
does not zero, so when a constant array is copied into a heap buffer by an inactive function
(the usual way to keep a constant input constant under Enzyme-JAX, which makes every input of
a cpp_call active) and the buffer is then updated in place by active code, its tangent starts
from whatever the allocator handed out: a WRONG tangent, no message.

    inactive_heap   x = malloc(...); const_copy(x, b) (inactive); x[i] *= A[i]   -> WRONG tangent
    inactive_stack  the same with a local array                                   -> right
    loop_heap       the heap buffer filled by a plain loop from b                 -> right

The reproducer sets glibc's M_PERTURB (fresh heap memory reads as 0xBFBF...), so that the
uninitialised shadow is never zero by luck; without it the result depends on the allocator
(often right). difflapack's placement matrix meets this in the jax.jvp cells that hold a
constant array in a heap buffer filled by such a function, or in the output tensor (its tangent
buffer is not zeroed either): tests/test_enzyme_placement.py marks them, and their plain-loop
controls (no difflapack) are just as wrong. The rule for users: fill a heap buffer of constant
data with a plain loop (or keep it on the stack); the inactive-function idiom is safe for
stack arrays only.

Run:  python docs/enzyme-limitations/uninitialised_shadow.py {inactive_heap|inactive_stack|loop_heap}
"""
import ctypes
import sys

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

A = np.array([2.0, 3.0, 4.0, 5.0])
B = np.array([0.5, -1.0, 2.0, 1.5])
DA = np.array([1.0, -2.0, 0.5, 1.0])     # the tangent of A; b is constant (zero tangent)

PRELUDE = r"""
extern "C" { void* malloc(unsigned long); void free(void*); }
__attribute__((noinline)) static void const_copy(double* dst, const double* src, int n) {
  for (int i = 0; i < n; i++) dst[i] = src[i];
}
extern "C" { __attribute__((used)) void* __enzyme_inactivefn_repro_const_copy[1] = {(void*)const_copy}; }
"""
BODY = r"""
void f(enzyme::tensor<double, 4>& out, const enzyme::tensor<double, 4>& A, const enzyme::tensor<double, 4>& b) {
  ALLOC
  FILL
  for (int i = 0; i < 4; ++i) x[i] *= A[i];
  for (int i = 0; i < 4; ++i) out[i] = x[i];
  FREE
}"""
VARIANTS = {
    "inactive_heap": ("double* x = (double*)malloc(4 * sizeof(double));", "const_copy(x, &b[0], 4);", "free(x);"),
    "inactive_stack": ("double x[4];", "const_copy(x, &b[0], 4);", ""),
    "loop_heap": ("double* x = (double*)malloc(4 * sizeof(double));", "for (int i = 0; i < 4; ++i) x[i] = b[i];",
                  "free(x);"),
}


def source(variant: str) -> str:
    alloc, fill, free = VARIANTS[variant]
    return PRELUDE + BODY.replace("ALLOC", alloc).replace("FILL", fill).replace("FREE", free)


def tangent(variant: str) -> np.ndarray:
    """The tangent jax.jvp gives along dA (db = 0), raw enzyme_ad.jax.cpp_call."""
    from enzyme_ad.jax import cpp_call

    ctypes.CDLL(None).mallopt(-6, 0x40)      # M_PERTURB: fresh heap memory is 0xBFBF... (-0.125)
    shapes = [jax.core.ShapedArray([4], jnp.float64)]

    def f(a, b):
        return cpp_call(a, b, out_shapes=shapes, source=source(variant), fn="f")[0]

    _, t = jax.jit(lambda a, b, da: jax.jvp(f, (a, b), (da, jnp.zeros(4))))(A, B, DA)
    return np.asarray(t)


def expected() -> np.ndarray:
    return DA * B


if __name__ == "__main__":
    variant = sys.argv[1] if len(sys.argv) > 1 else "inactive_heap"
    got = tangent(variant)
    print(variant, "tangent:", got, "expected:", expected(), "RIGHT" if np.allclose(got, expected()) else "WRONG")
