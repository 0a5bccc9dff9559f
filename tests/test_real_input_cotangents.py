"""A real input of a complex computation gets a REAL cotangent: the derivative with respect to a
real variable, i.e. the real part of the complex cotangent (convention zbar = dL/dRe z +
i dL/dIm z), as JAX and PyTorch return. Checked for every ``_vjp`` that takes several inputs,
in each mix of real and complex inputs, against the same call with every input complex, and for
trsv/solve against jax.grad directly. Complex inputs keep their complex cotangents."""
import itertools

import numpy as np
import pytest

import difflapack as dl

N = 4


def _data():
    r = np.random.default_rng(17)
    cplx = lambda *s: r.standard_normal(s) + 1j * r.standard_normal(s)  # noqa: E731
    a = cplx(N, N) + 2 * N * np.eye(N)
    spd = a @ a.conj().T
    lu, piv = dl.getrf(a.real)[:2]
    return {
        # name: (call(inputs...), {input: complex value}, cotangent of the output(s))
        "trsv_vjp": (lambda a, b: dl.trsv_vjp(a, b), {"a": np.triu(a), "b": cplx(N)}, (cplx(N),)),
        "trsm_vjp": (lambda a, b, alpha: dl.trsm_vjp(a, b, alpha), {"a": np.triu(a), "b": cplx(N, 2),
                                                                   "alpha": np.complex128(1.5 - 0.5j)}, (cplx(N, 2),)),
        "trtrs_vjp": (lambda a, b: dl.trtrs_vjp(a, b, trans="C"), {"a": np.triu(a), "b": cplx(N, 2)}, (cplx(N, 2),)),
        "getrs_vjp": (lambda lu, b: dl.getrs_vjp(lu, piv, b, trans="T"), {"lu": lu + 0.1j * np.eye(N), "b": cplx(N)},
                      (cplx(N),)),
        "gesv_vjp": (lambda a, b: dl.gesv_vjp(a, b), {"a": a, "b": cplx(N, 3)}, (cplx(N, 3), cplx(N, N))),
        "solve_vjp": (lambda a, b: dl.solve_vjp(a, b), {"a": a, "b": cplx(N)}, (cplx(N),)),
        "potrs_vjp": (lambda c, b: dl.potrs_vjp(c, b), {"c": np.tril(a), "b": cplx(N, 2)}, (cplx(N, 2),)),
        "posv_vjp": (lambda a, b: dl.posv_vjp(a, b), {"a": spd, "b": cplx(N)}, (cplx(N), cplx(N, N))),
    }


CASES = [(name, mask) for name, (_, values, _) in _data().items()
         for mask in itertools.product((False, True), repeat=len(values)) if any(mask) and not all(mask)]


@pytest.mark.parametrize("name,complex_mask", CASES)
def test_real_inputs_get_the_real_part(name, complex_mask):
    call, values, cots = _data()[name]
    names = list(values)
    mixed = {k: (v if c else np.real(v)) for (k, v), c in zip(values.items(), complex_mask)}
    # the same point as an all-complex computation: the real inputs with a zero imaginary part
    all_complex = {k: np.asarray(v, dtype=complex) for k, v in mixed.items()}
    got = call(**mixed)[1](*cots)
    want = call(**all_complex)[1](*cots)
    for k, g, w, c in zip(names, got, want, complex_mask):
        if c:
            assert np.iscomplexobj(g), (k, g)
            np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-13)
        else:
            assert not np.iscomplexobj(g), (k, np.asarray(g).dtype)
            np.testing.assert_allclose(g, np.real(w), rtol=1e-13, atol=1e-13)
            assert np.shape(g) == np.shape(w)


def test_matches_jax_grad_of_real_inputs():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    r = np.random.default_rng(3)
    a = np.triu(r.standard_normal((N, N))) + 3 * np.eye(N)
    b = r.standard_normal(N) + 1j * r.standard_normal(N)
    w = r.standard_normal(N) + 1j * r.standard_normal(N)
    for ours, theirs in ((dl.trsv_vjp, lambda a, b: jax.scipy.linalg.solve_triangular(a, b)),
                         (dl.solve_vjp, jnp.linalg.solve)):
        # L = Re <w, x>: its cotangent of x is w under our convention
        abar, bbar = ours(a, b)[1](w)
        ga, gb = jax.grad(lambda a, b: jnp.real(jnp.vdot(w, theirs(a, b))), argnums=(0, 1))(a, b)
        assert abar.dtype == np.float64 and np.allclose(abar, ga)
        assert np.allclose(bbar, np.conj(gb))      # JAX's complex gradient is the conjugate


def test_python_scalars_are_weak():
    """alpha=0.5 (a Python float) takes the complex computation's dtype, and so does its cotangent;
    np.float64(0.5) is a real input, with a real cotangent."""
    r = np.random.default_rng(8)
    a = np.triu(r.standard_normal((N, N)) + 1j * r.standard_normal((N, N))) + 3 * np.eye(N)
    b = r.standard_normal((N, 2)) + 1j * r.standard_normal((N, 2))
    w = r.standard_normal((N, 2)) + 1j * r.standard_normal((N, 2))
    weak = dl.trsm_vjp(a, b, 0.5)[1](w)[2]
    strong = dl.trsm_vjp(a, b, np.float64(0.5))[1](w)[2]
    assert np.iscomplexobj(weak) and not np.iscomplexobj(strong) and strong == np.real(weak)
