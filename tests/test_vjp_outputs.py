"""The primal outputs of every ``_vjp`` are read-only views of the arrays its pullback keeps.

Writing into one must raise (never silently change a later gradient); a writable copy
(``np.array``) is the caller's own; the pullback gives the same result before and after.
The table covers every public ``_vjp`` (a new one fails ``test_every_vjp_is_listed``)."""
import numpy as np
import pytest

import difflapack as dl

N = 5


def _spd(rng):
    m = rng.standard_normal((N, N))
    return m @ m.T + N * np.eye(N)


def _problems():
    rng = np.random.default_rng(7)
    a = rng.standard_normal((N, N)) + N * np.eye(N)
    b, bv = rng.standard_normal((N, 2)), rng.standard_normal(N)
    lu, piv = dl.getrf(a)[:2]
    spd = _spd(rng)
    c = dl.potrf(spd)[0]
    return {
        "trsv_vjp": (lambda: dl.trsv_vjp(np.triu(a), bv), (bv,)),
        "trsm_vjp": (lambda: dl.trsm_vjp(np.triu(a), b), (b,)),
        "trtrs_vjp": (lambda: dl.trtrs_vjp(np.triu(a), b), (b,)),
        "getrf_vjp": (lambda: dl.getrf_vjp(a), (a,)),
        "getrs_vjp": (lambda: dl.getrs_vjp(lu, piv, bv), (bv,)),
        "gesv_vjp": (lambda: dl.gesv_vjp(a, b), (b,)),
        "solve_vjp": (lambda: dl.solve_vjp(a, bv), (bv,)),
        "potrf_vjp": (lambda: dl.potrf_vjp(spd), (spd,)),
        "potrs_vjp": (lambda: dl.potrs_vjp(c, b), (b,)),
        "posv_vjp": (lambda: dl.posv_vjp(spd, bv), (bv,)),
        "getri_vjp": (lambda: dl.getri_vjp(lu, piv), (a,)),
        "inv_vjp": (lambda: dl.inv_vjp(a), (a,)),
        "det_vjp": (lambda: dl.det_vjp(a), (1.0,)),
        "slogdet_vjp": (lambda: dl.slogdet_vjp(a), (None, 1.0)),
    }


def _arrays(out):
    if isinstance(out, np.ndarray):
        return [out] if out.ndim else []
    if isinstance(out, tuple):
        return [x for o in out for x in _arrays(o)]
    return []


def test_every_vjp_is_listed():
    from difflapack import cholesky, inverse, lu, triangular
    public = {n for m in (triangular, lu, cholesky, inverse) for n in m.__all__}
    assert {n for n in public if n.endswith("_vjp")} == set(_problems())


@pytest.mark.parametrize("name", sorted(_problems()))
def test_outputs_read_only_and_pullback_unchanged(name):
    make, cot = _problems()[name]
    out, pullback = make()
    cot = tuple(np.ones_like(c) if isinstance(c, np.ndarray) else c for c in cot)
    # one cotangent per output kind the pullback takes: the first one is enough here
    first = pullback(*cot)
    for arr in _arrays(out):
        if arr.dtype.kind in "fc":  # factors and solutions (pivots are fresh integer arrays)
            assert not arr.flags.writeable, name
            with pytest.raises(ValueError, match="read-only"):
                arr[...] = 0
            with pytest.raises(ValueError):  # nor can the flag be set back
                arr.flags.writeable = True
            mine = np.array(arr)
            mine[...] = 0
        else:
            arr[...] = 0
    again = pullback(*cot)
    for x, y in zip(_arrays(first) or [first], _arrays(again) or [again]):
        np.testing.assert_array_equal(x, y)
