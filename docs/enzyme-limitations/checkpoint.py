"""Minimal reproducer (no difflapack involved): jax.checkpoint (rematerialisation) around a
cpp_call fails under jax.grad in Enzyme-JAX 0.0.16, with any policy: "ValueError: Linearization
failed to produce known values for all output primals". The cpp_call's reverse pass keeps its
own tape (Enzyme's), so there is nothing to rematerialise; leave cpp_calls outside the
checkpointed function (checkpointing the JAX code around them works).

    python checkpoint.py checkpoint   -> ValueError (jax.checkpoint(f))
    python checkpoint.py saveable     -> ValueError (policy=everything_saveable)
    python checkpoint.py outside      -> RIGHT: jax.checkpoint on the JAX code after the call

Found by an independent review of difflapack.
"""
import sys

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

SOURCE = r"""
void f(enzyme::tensor<double, 3>& out, const enzyme::tensor<double, 3>& b) {
  for (int i = 0; i < 3; ++i) out[i] = b[i] * b[i] * b[(i + 1) % 3];
}"""
B = np.array([1.0, 2.0, 3.0])


def reference(b=B):
    """The gradient of sum(sin(y) y) for y = f(b), by hand."""
    y = b * b * np.roll(b, -1)
    ybar = np.sin(y) + y * np.cos(y)
    J = np.zeros((3, 3))
    for i in range(3):
        j = (i + 1) % 3
        J[i, i] += 2 * b[i] * b[j]
        J[i, j] += b[i] * b[i]
    return J.T @ ybar


def main(variant: str) -> None:
    from enzyme_ad.jax import cpp_call

    f = lambda b: cpp_call(b, out_shapes=[jax.core.ShapedArray([3], jnp.float64)], source=SOURCE, fn="f")[0]  # noqa: E731
    g = lambda y: jnp.sin(y) * y  # noqa: E731
    if variant == "checkpoint":
        loss = lambda b: jnp.sum(g(jax.checkpoint(f)(b)))  # noqa: E731
    elif variant == "saveable":
        policy = jax.checkpoint_policies.everything_saveable
        loss = lambda b: jnp.sum(g(jax.checkpoint(f, policy=policy)(b)))  # noqa: E731
    else:
        loss = lambda b: jnp.sum(jax.checkpoint(g)(f(b)))  # noqa: E731
    try:
        grad = np.asarray(jax.jit(jax.grad(loss))(jnp.asarray(B)))
    except ValueError as e:
        print("ValueError:", str(e).splitlines()[0])
        return
    print(variant, grad, "RIGHT" if np.allclose(grad, reference(), rtol=1e-12) else "WRONG")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "checkpoint")
