"""Minimal reproducer (no difflapack involved): a function marked __attribute__((noinline)) (or
[[gnu::noinline]]) that the differentiated code calls with active data makes Enzyme-JAX 0.0.16
abort the process when it builds any derivative (jax.jvp, jax.grad): it marks the functions it
differentiates alwaysinline, the LLVM verifier rejects the pair ("Attributes 'noinline and
alwaysinline' are incompatible!") and "LLVM ERROR: function failed verification" follows. The
primal build is right; so is the same source without the attribute, and a noinline function
that handles only inactive data (an int count) or is never called.

    python noinline.py called     -> the process aborts while building jax.jvp
    python noinline.py gnu        -> the same with [[gnu::noinline]]
    python noinline.py inline     -> RIGHT (the attribute removed)
    python noinline.py inactive   -> RIGHT (noinline on a function of ints only)

Found by an independent review of difflapack (a noinline helper around dpotrf_).
"""
import sys

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

HELPERS = {
    "called": "__attribute__((noinline)) static void square(const double* s, double* f) "
              "{ for (int k = 0; k < 4; ++k) f[k] = s[k] * s[k]; }",
    "gnu": "[[gnu::noinline]] static void square(const double* s, double* f) "
           "{ for (int k = 0; k < 4; ++k) f[k] = s[k] * s[k]; }",
    "inline": "static void square(const double* s, double* f) { for (int k = 0; k < 4; ++k) f[k] = s[k] * s[k]; }",
    "inactive": "__attribute__((noinline)) static int count(int n) { return n + 1; }\n"
                "static void square(const double* s, double* f) { for (int k = 0; k < count(3); ++k) f[k] = s[k] * s[k]; }",
}
BODY = r"""
void f(enzyme::tensor<double, 4>& out, const enzyme::tensor<double, 4>& x) {
  double s[4], q[4];
  for (int k = 0; k < 4; ++k) s[k] = x[k];
  square(s, q);
  for (int k = 0; k < 4; ++k) out[k] = q[k];
}"""
X = np.array([0.3, -0.4, 0.5, 0.7])


def main(variant: str) -> None:
    from enzyme_ad.jax import cpp_call

    src = HELPERS[variant] + BODY
    f = lambda x: cpp_call(x, out_shapes=[jax.core.ShapedArray([4], jnp.float64)], source=src, fn="f")[0]  # noqa: E731
    print("primal", np.asarray(jax.jit(f)(X)), flush=True)
    tangent = np.asarray(jax.jit(lambda x: jax.jvp(f, (x,), (jnp.ones(4),))[1])(X))
    grad = np.asarray(jax.jit(jax.grad(lambda x: jnp.sum(f(x))))(X))
    ok = np.allclose(tangent, 2 * X) and np.allclose(grad, 2 * X)
    print("RIGHT" if ok else f"WRONG tangent {tangent} gradient {grad}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "called")
