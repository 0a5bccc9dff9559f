"""Minimal reproducer (no difflapack involved): with `-fno-builtin` (the rule of section 8 for
copy loops), a C++ new-expression (`new double[n]` ... `delete[]`, or a std::vector) in a
function Enzyme 0.0.16 differentiates in REVERSE mode (jax.grad over a cpp_call,
__enzyme_autodiff) makes the build fail at link time: the JIT reports "Symbols not found:
[ __unnamed_1, __unnamed_2 ]" (globals Enzyme's reverse pass refers to and never defines once
operator new / delete are no builtins). Forward mode (jax.jvp, __enzyme_fwddiff) is right; so
is the same code built without -fno-builtin, or with only the copy builtins turned off
(-fno-builtin-memcpy -fno-builtin-memset -fno-builtin-memmove, which also keeps clang from
turning copy loops into memcpy: section 8), and malloc/free with any flags.

    python new_array.py new_array fno_builtin   -> the reverse build fails
    python new_array.py vector fno_builtin      -> the reverse build fails
    python new_array.py new_array narrow        -> right
    python new_array.py malloc fno_builtin      -> right

Found by an independent review of difflapack (new[] buffers around dgetrf_, built with
-fno-builtin as the docs advised).
"""
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

BODY = r"""
void f(enzyme::tensor<double, 4>& out, const enzyme::tensor<double, 4>& x) {
  ALLOC
  for (int i = 0; i < 4; ++i) a[i] = x[i] * x[i];
  for (int i = 0; i < 4; ++i) out[i] = a[i] * x[(i + 1) % 4];
  RELEASE
}"""
VARIANTS = {
    "new_array": ("", "double* a = new double[4];", "delete[] a;"),
    "vector": ("#include <vector>", "std::vector<double> a(4);", ""),
    "malloc": ('extern "C" { void* malloc(unsigned long); void free(void*); }',
               "double* a = (double*)malloc(4 * sizeof(double));", "free(a);"),
}
FLAGS = {
    "none": (),
    "fno_builtin": ("-fno-builtin",),
    "narrow": ("-fno-builtin-memcpy", "-fno-builtin-memset", "-fno-builtin-memmove"),
}
X = np.array([0.3, -0.4, 0.5, 0.7])
W = np.array([1.0, -2.0, 0.5, 3.0])   # loss = W . out


def source(variant: str) -> str:
    head, alloc, release = VARIANTS[variant]
    return head + BODY.replace("ALLOC", alloc).replace("RELEASE", release)


def gradient(variant: str, flags: str) -> np.ndarray:
    """jax.grad of the loss through a raw enzyme_ad.jax.cpp_call (libstdc++ loaded first)."""
    import ctypes
    import ctypes.util
    from enzyme_ad.jax import cpp_call

    ctypes.CDLL(ctypes.util.find_library("stdc++"), mode=ctypes.RTLD_GLOBAL)
    inc = subprocess.run(["gcc", "-print-file-name=include"], capture_output=True, text=True, check=True).stdout

    def f(x):
        return cpp_call(x, out_shapes=[jax.core.ShapedArray([4], jnp.float64)], source=source(variant), fn="f",
                        argv=("-idirafter", inc.strip()) + FLAGS[flags])[0]

    return np.asarray(jax.jit(jax.grad(lambda x: jnp.sum(f(x) * W)))(X))


def expected() -> np.ndarray:
    """d/dx of sum_i W_i x_i^2 x_{i+1}."""
    g = np.zeros(4)
    for i in range(4):
        j = (i + 1) % 4
        g[i] += 2 * W[i] * X[i] * X[j]
        g[j] += W[i] * X[i] ** 2
    return g


if __name__ == "__main__":
    variant = sys.argv[1] if len(sys.argv) > 1 else "new_array"
    flags = sys.argv[2] if len(sys.argv) > 2 else "fno_builtin"
    try:
        got = gradient(variant, flags)
    except Exception as exc:  # the failed build surfaces as an exception of the call
        print(variant, flags, "BUILD FAILED:", type(exc).__name__, str(exc)[:300])
        sys.exit(0)
    print(variant, flags, "gradient:", got, "expected:", expected(),
          "RIGHT" if np.allclose(got, expected(), atol=1e-12) else "WRONG")
