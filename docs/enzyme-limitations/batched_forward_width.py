"""Minimal reproducer: batched forward mode (enzyme_width 2) over a call that goes through
difflapack_enzyme.h fails in enzyme-ad 0.0.16 with
    Call parameter type does not match function signature!
    LLVM ERROR: function failed verification
(Enzyme passes a [2 x ptr] shadow to the width-1 custom forward rule; there is no way to
register a width-2 rule in this version). The same source with one direction per
__enzyme_fwddiff call works: that is the workaround.

Run:  python docs/enzyme-limitations/batched_forward_width.py {width2|loop}
(needs libdifflapack: DIFFLAPACK_LIBRARY=... PYTHONPATH=python in a source checkout).
The LLVM ERROR aborts the process: run the width2 variant in a subprocess.
"""
import sys

import jax
import jax.numpy as jnp
import numpy as np

from difflapack import enzyme

jax.config.update("jax_enable_x64", True)

SOURCE = r"""
#include "difflapack_enzyme.h"
extern "C" { double __enzyme_fwddiff(void*, ...); extern int enzyme_dup, enzyme_const, enzyme_width; }
struct two { double a, b; };
extern "C" two __enzyme_fwddiff_w2(void*, ...);
static double f(double* U, double* x) {
    int n = 3, one = 1;
    dtrsv_("U", "N", "N", &n, U, &n, x, &one);
    return x[0] + 2 * x[1] + 3 * x[2];
}
void myfn(enzyme::tensor<double, 2>& out, const enzyme::tensor<double, 3>& b) {
    double U[9] = {2, 0, 0, 1, 3, 0, 1, 1, 4}, x[3] = {b[0], b[1], b[2]};
    double dU1[9] = {0, 0, 0, 1, 0, 0, 0, 0, 0}, dU2[9] = {0};
    double dx1[3] = {1, 0, 0}, dx2[3] = {0, 1, 0};
#ifdef WIDTH2
    two r = __enzyme_fwddiff_w2((void*)f, enzyme_width, 2, enzyme_dup, U, dU1, dU2, enzyme_dup, x, dx1, dx2);
    out[0] = r.a; out[1] = r.b;
#else
    double x1[3] = {x[0], x[1], x[2]}, x2[3] = {x[0], x[1], x[2]};   /* one direction per call */
    out[0] = __enzyme_fwddiff((void*)f, enzyme_dup, U, dU1, enzyme_dup, x1, dx1);
    out[1] = __enzyme_fwddiff((void*)f, enzyme_dup, U, dU2, enzyme_dup, x2, dx2);
#endif
}
"""


def run(variant):
    """(Enzyme's two directional derivatives, the expected ones)."""
    argv = ("-DWIDTH2",) if variant == "width2" else ()
    b = jnp.array([1.0, 2.0, 3.0])
    from enzyme_ad.jax import cpp_call   # the raw call: Enzyme's messages go straight to stderr

    enzyme.load()
    out = jax.jit(lambda b: cpp_call(b, out_shapes=[jax.core.ShapedArray([2], jnp.float64)],
                                     source=SOURCE, fn="myfn", argv=enzyme.cflags() + argv))(b)[0]
    U = np.array([[2.0, 1, 1], [0, 3, 1], [0, 0, 4]])
    w = np.array([1.0, 2, 3])
    x = np.linalg.solve(U, np.array(b))
    E = np.zeros((3, 3))
    E[0, 1] = 1
    want = [w @ np.linalg.solve(U, np.array([1.0, 0, 0]) - E @ x), w @ np.linalg.solve(U, np.array([0.0, 1, 0]))]
    return np.asarray(out), np.array(want)


def main(variant):
    out, want = run(variant)
    print(variant, "enzyme:", out, "expected:", want)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "loop")
