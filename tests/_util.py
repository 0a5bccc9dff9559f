"""Shared test helpers: well-conditioned generators, central differences, dot-product tests,
tolerances scaled by the condition number."""
from __future__ import annotations

import ctypes

import numpy as np

EPS = np.finfo(np.float64).eps


def sc(value, ctype=ctypes.c_double):
    """A scalar passed by address to a C kernel (kept alive by the returned pointer object)."""
    return ctypes.pointer(ctype(value))


def rng(seed=0):
    return np.random.default_rng(seed)


def triangular(n, uplo="U", unit=False, seed=0, lda=None):
    """A well-conditioned n x n triangle (kappa ~ O(1)) stored in a full array whose other
    triangle holds GARBAGE, to prove the kernels never read it. With lda > n, returns the
    n x n view of an lda x n Fortran array."""
    r = rng(seed)
    full = r.standard_normal((lda or n, n))
    a = full[:n, :n] if lda else full
    a = np.asfortranarray(a) if not lda else a
    tri = np.triu if uplo.upper() == "U" else np.tril
    t = tri(r.standard_normal((n, n))) / np.sqrt(max(n, 1))
    np.fill_diagonal(t, np.sign(r.standard_normal(n)) * (1.5 + r.random(n)))
    mask = tri(np.ones((n, n), dtype=bool))
    a[mask] = t[mask]
    if unit:
        np.fill_diagonal(a, 7.0 + r.random(n))  # garbage the kernel must ignore
    return a


def referenced_triangle(a, uplo="U", unit=False):
    """The matrix BLAS actually uses: the uplo triangle, with ones on the diagonal if unit."""
    tri = np.triu if uplo.upper() == "U" else np.tril
    t = tri(np.asarray(a))
    if unit:
        np.fill_diagonal(t, 1.0)
    return t


def general(m, n, seed=0, pivoting=True):
    """A well-conditioned m x n matrix; with pivoting=True its first column is small so that
    partial pivoting must swap rows."""
    r = rng(seed)
    a = r.standard_normal((m, n))
    k = min(m, n)
    a[:k, :k] += 2.0 * np.sqrt(max(k, 1)) * np.eye(k)[:, ::-1] if pivoting and k > 1 else 3.0 * np.eye(k)
    if pivoting and m > 1 and n > 0:
        a[0, 0] = 1e-3
    return a


def cond(a):
    a = np.asarray(a, dtype=float)
    if a.size == 0:
        return 1.0
    return float(np.linalg.cond(a))


def tol(kappa, factor=1.0):
    """Relative tolerance for an exact derivative (dot-product tests, oracles)."""
    return factor * 1e3 * max(kappa, 1.0) * EPS


def fd_tol(kappa):
    """Relative tolerance for central differences with step ~ eps^(1/3): truncation ~ h^2
    and rounding ~ eps/h, both amplified by kappa^2 at most for a solve."""
    return 1e-6 * max(kappa, 1.0) ** 2


def central_difference(f, xs, dxs, h=None):
    """(f(x + h dx) - f(x - h dx)) / 2h for f returning an array or a tuple of arrays.
    `xs`/`dxs` are tuples; entries of dxs may be None (held constant)."""
    if h is None:
        h = EPS ** (1.0 / 3.0)
    plus = [x if d is None else x + h * d for x, d in zip(xs, dxs)]
    minus = [x if d is None else x - h * d for x, d in zip(xs, dxs)]
    fp, fm = f(*plus), f(*minus)
    if isinstance(fp, tuple):
        return tuple((np.asarray(p) - np.asarray(m)) / (2 * h) for p, m in zip(fp, fm))
    return (np.asarray(fp) - np.asarray(fm)) / (2 * h)


def inner(a, b):
    """Sum over a tuple of arrays of <a_i, b_i>; None entries contribute 0."""
    if not isinstance(a, tuple):
        a, b = (a,), (b,)
    return float(sum(np.vdot(np.asarray(x), np.asarray(y)) for x, y in zip(a, b) if x is not None and y is not None))


def relerr(got, want):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    scale = max(np.abs(want).max(initial=0.0), 1e-300)
    return float(np.abs(got - want).max(initial=0.0) / max(scale, 1.0 if scale < 1e-12 else scale))


def assert_close(got, want, rtol, what=""):
    err = relerr(got, want)
    assert err <= rtol, f"{what}: relative error {err:.3e} > {rtol:.3e}"


def assert_dot_product(jv, v_w, rtol, what=""):
    """<J v, w> == <v, J^T w>: pass the two scalars."""
    lhs, rhs = jv, v_w
    scale = max(abs(lhs), abs(rhs), 1e-300)
    assert abs(lhs - rhs) <= rtol * max(scale, 1.0), f"{what}: <Jv,w>={lhs!r} vs <v,J^T w>={rhs!r}"


# ------------------------------------------------------------------ precisions (s, d, c, z)
PRECISIONS = (np.float32, np.float64, np.complex64, np.complex128)
PREC_IDS = ("s", "d", "c", "z")


def is_complex(dtype):
    return np.dtype(dtype).kind == "c"


def eps_of(dtype):
    """Unit roundoff of a precision (of its real type for complex)."""
    return float(np.finfo(np.dtype(dtype)).eps)


def double_of(dtype):
    """The double precision of the same kind: float32 -> float64, complex64 -> complex128."""
    return np.dtype(np.complex128 if is_complex(dtype) else np.float64)


def randn(r, shape, dtype):
    """Standard normal entries of the given precision (complex: independent real and
    imaginary parts, each N(0, 1/2))."""
    if is_complex(dtype):
        z = (r.standard_normal(shape) + 1j * r.standard_normal(shape)) / np.sqrt(2.0)
        return np.asarray(z, dtype=dtype)
    return np.asarray(r.standard_normal(shape), dtype=dtype)


def triangular_of(n, uplo="U", unit=False, seed=0, dtype=np.float64):
    """:func:`triangular` in any precision: complex adds an imaginary part (a second
    triangle, half as large), so the diagonal stays bounded away from zero; the other triangle
    (and a unit diagonal) keep their garbage."""
    a = triangular(n, uplo, unit, seed=seed)
    if is_complex(dtype):
        a = a + 0.5j * triangular(n, uplo, unit, seed=seed + 1000)
    return np.asarray(a, dtype=dtype)


def general_of(m, n, seed=0, dtype=np.float64):
    """:func:`general` in any precision (forces row swaps; complex: a random imaginary part)."""
    if m * n == 0:
        return np.zeros((m, n), dtype=dtype)
    a = general(m, n, seed=seed).astype(complex if is_complex(dtype) else float)
    if is_complex(dtype):
        a += 0.5j * rng(seed + 1000).standard_normal((m, n))
        if m > 1:
            a[0, 0] = 1e-3 * (1 + 1j)
    return np.asarray(a, dtype=dtype)


def directions(r, shape, dtype):
    """The finite-difference directions of an input: one random real direction, and for a
    complex precision also one random purely imaginary direction (a rule that is only
    R-linear, e.g. through conj(A) for trans='C', can be right along one and wrong along the
    other)."""
    out = [("real", np.asarray(r.standard_normal(shape), dtype=dtype))]
    if is_complex(dtype):
        out.append(("imag", np.asarray(1j * r.standard_normal(shape), dtype=dtype)))
    return out


def to_double(v):
    """An input cast to the double precision of its kind (None and Python scalars kept)."""
    if v is None or isinstance(v, (int, float, complex)):
        return v
    v = np.asarray(v)
    return v.astype(double_of(v.dtype)) if v.dtype.kind in "fc" else v


def central_difference_double(f, xs, dxs, h=None):
    """Fourth-order central difference (-f(2h) + 8 f(h) - 8 f(-h) + f(-2h)) / 12h of f with
    every input and direction cast to double precision: the reference derivative of a float32
    / complex64 rule is the same routine evaluated in float64 / complex128. Truncation ~ h^4,
    rounding ~ eps/h: measured <= 4e-11 kappa^2 relative for the well-conditioned test data."""
    if h is None:
        h = EPS ** (1.0 / 5.0)
    xs = [to_double(x) for x in xs]
    dxs = [to_double(d) for d in dxs]

    def at(t):
        return f(*[x if d is None else x + t * d for x, d in zip(xs, dxs)])

    vals = [at(t) for t in (2 * h, h, -h, -2 * h)]
    if isinstance(vals[0], tuple):
        return tuple((-np.asarray(p2) + 8 * np.asarray(p1) - 8 * np.asarray(m1) + np.asarray(m2)) / (12 * h)
                     for p2, p1, m1, m2 in zip(*vals))
    p2, p1, m1, m2 = (np.asarray(v) for v in vals)
    return (-p2 + 8 * p1 - 8 * m1 + m2) / (12 * h)


def re_inner(a, b):
    """Re <a, b> = Re sum conj(a) b, summed over a tuple of arrays (None entries contribute 0),
    accumulated in double precision: the real inner product of C^n seen as R^2n, for which the
    adjoint of J under our cotangent convention (z_bar = dL/dRe z + i dL/dIm z) is J^H."""
    if not isinstance(a, tuple):
        a, b = (a,), (b,)
    total = 0.0
    for x, y in zip(a, b):
        if x is None or y is None:
            continue
        # elementwise: np.vdot of complex arrays took 25 ms for 130 x 130 on this (loaded) machine, this 0.03 ms
        total += float(np.real(np.sum(np.conj(np.asarray(x, dtype=complex)) * np.asarray(y, dtype=complex))))
    return total


def rel_err(got, want, scale=0.0):
    """max |got - want| / max(max |want|, scale), in double precision, complex-aware. `scale`
    is the size of the terms `want` is a sum of (e.g. the tangent from each input alone), so that
    cancellation between them does not inflate the relative error."""
    got, want = np.asarray(got, dtype=complex), np.asarray(want, dtype=complex)
    scale = max(np.abs(want).max(initial=0.0), scale)
    diff = np.abs(got - want).max(initial=0.0)
    if scale == 0.0:
        return float(diff)
    return float(diff / scale)


def assert_re_dot(jv, w, v, jtw, rtol, what=""):
    """The dot-product test Re<J v, w> == Re<v, J^H w> for tuples of arrays (None entries
    skipped). The rounding of either side is bounded by rtol times ||Jv|| ||w|| + ||v|| ||J^H w||
    (Cauchy-Schwarz), which is the scale used, so cancellation in the sums cannot hide an error
    nor fail a correct rule."""
    as_t = lambda t: t if isinstance(t, tuple) else (t,)  # noqa: E731
    jv, w, v, jtw = as_t(jv), as_t(w), as_t(v), as_t(jtw)

    def norm(t):   # 2-norm of the concatenation, scaled so that |x| ~ 1e150 cannot overflow
        mags = [np.abs(np.asarray(x, dtype=complex)).ravel() for x in t if x is not None]
        big = max((float(m.max(initial=0.0)) for m in mags), default=0.0)
        if big == 0.0 or not np.isfinite(big):
            return big
        return big * float(np.sqrt(sum(np.sum((m / big) ** 2) for m in mags)))

    lhs, rhs = re_inner(jv, w), re_inner(v, jtw)
    pairs_j = tuple(x for x, y in zip(jv, w) if x is not None and y is not None)
    pairs_w = tuple(y for x, y in zip(jv, w) if x is not None and y is not None)
    pairs_v = tuple(x for x, y in zip(v, jtw) if x is not None and y is not None)
    pairs_t = tuple(y for x, y in zip(v, jtw) if x is not None and y is not None)
    scale = norm(pairs_j) * norm(pairs_w) + norm(pairs_v) * norm(pairs_t)
    ratio = abs(lhs - rhs) / max(scale, 1e-300)
    assert abs(lhs - rhs) <= rtol * max(scale, 1e-300), \
        f"{what}: Re<Jv,w>={lhs!r} vs Re<v,J^H w>={rhs!r} (|diff|/scale = {abs(lhs - rhs) / max(scale, 1e-300):.3e} > {rtol:.3e})"
    return ratio


class single_threaded_blas:
    """Context manager: every OpenBLAS in the process (difflapack's, NumPy's, SciPy's) runs one
    thread, then gets its thread count back. For tests made of many small solves, where
    OpenBLAS's threads only spin against each other (and against other jobs on a shared
    machine): 2-4x less wall time. Uses threadpoolctl (test extra); without it, only
    difflapack's OpenBLAS is limited."""

    def __enter__(self):
        import difflapack
        from difflapack import _core
        _core.lib.load()
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            threadpool_limits = None
        if threadpool_limits is not None:
            self.limits = threadpool_limits(limits=1, user_api="blas")
            return self
        self.limits = None
        get = _core.lib.load().openblas_get_num_threads
        get.restype = ctypes.c_int
        self.before = int(get())
        difflapack.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        if self.limits is not None:
            self.limits.restore_original_limits()
        else:
            import difflapack
            difflapack.set_num_threads(self.before)
        return False
