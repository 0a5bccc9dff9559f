"""Minimal reproducer (no difflapack involved): Enzyme 0.0.16 prints an IR dump,

     aug: todiff: <the differentiated function>
    aug foundcalled: <its custom augmented forward pass>

to stderr each time it uses a custom augmented-forward rule (reverse mode: jax.grad / jax.vjp,
or __enzyme_autodiff), even though the build succeeds and the gradient is right. This is debug
output of Enzyme itself: here the rule is a plain __enzyme_register_gradient_sq registration.
difflapack's header registers such rules on its kernels, so the same dumps appear for every
dtrsv_/dtrsm_/dgetrf_/dgetrs_/dgesv_ call under jax.grad; difflapack.enzyme.cpp_call removes
them from the build log it re-emits.

Run:  python docs/enzyme-limitations/aug_todiff_dump.py   (watch stderr)
"""
import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

SOURCE = r"""
extern "C" { void* malloc(unsigned long); void free(void*); }
__attribute__((noinline)) void sq(double* y, const double* x) { for (int i = 0; i < 3; ++i) y[i] = x[i] * x[i]; }
static void* sq_aug(double* y, double* dy, const double* x, const double* dx) {
  double* t = (double*)malloc(3 * sizeof(double));
  for (int i = 0; i < 3; ++i) { y[i] = x[i] * x[i]; t[i] = x[i]; }
  return t;
}
static void sq_rev(double* y, double* dy, const double* x, double* dx, void* tape) {
  double* t = (double*)tape;
  for (int i = 0; i < 3; ++i) { dx[i] += 2 * t[i] * dy[i]; dy[i] = 0; }
  free(t);
}
extern "C" __attribute__((used)) void* __enzyme_register_gradient_sq[3] = {(void*)sq, (void*)sq_aug, (void*)sq_rev};
void f(enzyme::tensor<double, 3>& out, const enzyme::tensor<double, 3>& b) {
  double x[3], y[3];
  for (int i = 0; i < 3; ++i) x[i] = b[i];
  sq(y, x);
  for (int i = 0; i < 3; ++i) out[i] = y[i];
}
"""
B = np.array([1.0, 2.0, 3.0])
W = np.array([1.0, 2.0, 3.0])


def gradient(cpp_call=None) -> np.ndarray:
    """jax.grad of w . f(b) (f(b) = b * b) with the raw enzyme_ad cpp_call, or the one given."""
    if cpp_call is None:
        from enzyme_ad.jax import cpp_call
    shapes = [jax.core.ShapedArray([3], jnp.float64)]

    def loss(b):
        return jnp.dot(cpp_call(b, out_shapes=shapes, source=SOURCE, fn="f")[0], W)

    return np.asarray(jax.jit(jax.grad(loss))(jnp.asarray(B)))


if __name__ == "__main__":
    print("gradient:", gradient(), "expected:", 2 * B * W)
