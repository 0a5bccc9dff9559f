"""Minimal reproducer (no difflapack involved): a cpp_call's pullback may run only ONCE per
forward pass in Enzyme-JAX 0.0.16. Enzyme's reverse pass frees the heap memory its tape points
to, so running it twice on one tape is a double free ("free(): double free detected in
tcache 2"; the process aborts).

    once    jax.vjp, then the pullback once                              -> correct
    twice   jax.vjp, then the pullback twice (two cotangents)            -> abort
    map     jax.lax.map of the pullback over the rows of the identity: JAX hoists the forward
            pass out of the loop, so every iteration reuses one tape      -> abort
    jacfwd  the Jacobian with difflapack.enzyme.jacfwd (one jax.jvp per column) -> correct
    same_call  jax.grad of a loss that calls the same cpp_call twice on the same input
            (f(b) . w1 + f(b) . w2): XLA merges the two identical forward calls into one,
            whose tape then gets both pullbacks                         -> abort
    reuse   the same loss with f(b) computed once and used twice        -> correct

jax.jacrev / jax.vmap over a cpp_call fail anyway ("Batching rule for 'enzyme_rev' not
implemented"); use difflapack.enzyme.jacfwd, or one jax.vjp per cotangent.

Run:  python docs/enzyme-limitations/pullback_twice.py {once|twice|map|jacfwd|same_call|reuse}
(twice, map and same_call abort the process: run them in a subprocess).
"""
import sys

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

SOURCE = r"""
void f(enzyme::tensor<double, 3>& out, const enzyme::tensor<double, 3>& b) {
  for (int i = 0; i < 3; ++i) out[i] = b[i] * b[i] * b[(i + 1) % 3];
}
"""
B = np.array([1.0, 2.0, 3.0])


def jacobian_reference(b=B):
    J = np.zeros((3, 3))
    for i in range(3):
        j = (i + 1) % 3
        J[i, i] += 2 * b[i] * b[j]
        J[i, j] += b[i] * b[i]
    return J


def run(variant: str) -> np.ndarray:
    from enzyme_ad.jax import cpp_call

    def f(b):
        return cpp_call(b, out_shapes=[jax.core.ShapedArray([3], jnp.float64)], source=SOURCE, fn="f")[0]

    b = jnp.asarray(B)
    if variant == "once":
        return np.asarray(jax.jit(lambda b: jax.vjp(f, b)[1](jnp.array([1.0, 0, 0]))[0])(b))
    if variant == "twice":
        def two(b):
            _, pullback = jax.vjp(f, b)
            return pullback(jnp.array([1.0, 0, 0]))[0], pullback(jnp.array([0.0, 1, 0]))[0]
        return np.asarray(jax.jit(two)(b))
    if variant == "map":
        return np.asarray(jax.jit(lambda b: jax.lax.map(lambda e: jax.vjp(f, b)[1](e)[0], jnp.eye(3)))(b))
    if variant in ("same_call", "reuse"):  # the gradient of f(b) . (1, 0, 0) + f(b) . (0, 1, 0)
        def loss(b):
            y1 = f(b)
            y2 = f(b) if variant == "same_call" else y1
            return y1[0] + y2[1]
        return np.asarray(jax.jit(jax.grad(loss))(b))
    if variant == "jacfwd":
        from difflapack.enzyme import jacfwd

        return np.asarray(jax.jit(jacfwd(f))(b))
    raise ValueError(variant)


if __name__ == "__main__":
    v = sys.argv[1] if len(sys.argv) > 1 else "once"
    print(v, run(v), "\nJacobian:\n", jacobian_reference())
