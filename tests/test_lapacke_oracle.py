"""The LAPACKE / CBLAS oracle (tests/_lapacke_oracle.py) and the evidence behind the VERIFIED
marks of docs/design/lapacke_cblas_semantics.md.

1. The oracle passes its arguments right: its results agree with SciPy / NumPy.
2. The executable model (tests/_lapacke_model.py: checks + transposes + the column-major
   Fortran routine) reproduces the real LAPACKE / CBLAS buffer-for-buffer and bit-for-bit,
   including the return value and what is printed, over sweeps of valid and invalid calls in
   s/d/c/z and both layouts.
3. Each documented edge case, one test each (names match the document's claim ids, [Vn]).
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zlib

import numpy as np
import pytest

import _lapacke_oracle as lo
from _lapacke_cases import (VARIANTS, assert_same, cblas_case, dt, general, lapacke_case, ld_of, rand,
                           spd, tri, untouched_outside)

pytestmark = pytest.mark.skipif(not lo.available(), reason=f"LAPACKE/OpenBLAS not loadable: "
                                f"{lo.unavailable_reason()} (apt-get install liblapacke-dev)")
if lo.available():
    import _lapacke_model as lm

HERE = os.path.dirname(os.path.abspath(__file__))
PREC = lo.PRECISIONS
LAYOUTS = ("R", "C")
I32 = np.int32


# =============================================================================================
# 1. the oracle agrees with SciPy / NumPy
@pytest.mark.parametrize("prec", PREC)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_oracle_getrf_matches_scipy(prec, layout):
    import scipy.linalg.lapack as sl
    r = np.random.default_rng(1)
    m, n = 5, 4
    A = general(r, n, prec, m)
    lda = ld_of(layout, m, n, 3)
    a, off = lo.place(A, layout, lda, before=2)
    res = lo.lapacke("getrf", prec, layout, m=m, n=n, a=(a, off), lda=lda, ipiv=np.zeros(4, I32))
    lu, piv, info = getattr(sl, prec + "getrf")(A)
    assert res.ret == info == 0
    tol = 1e-4 if prec in "sc" else 1e-12
    np.testing.assert_allclose(lo.take(res.out["a"], off, layout, m, n, lda), lu, rtol=tol, atol=tol)
    np.testing.assert_array_equal(res.out["ipiv"], piv + 1)
    assert untouched_outside(res.out["a"], a, off, layout, m, n, lda)


@pytest.mark.parametrize("prec", PREC)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_oracle_solvers_match_numpy(prec, layout):
    r = np.random.default_rng(2)
    n, k = 4, 3
    tol = 2e-4 if prec in "sc" else 1e-11
    A = general(r, n, prec)
    B = rand(r, (n, k), prec)
    lda, ldb = ld_of(layout, n, n, 2), ld_of(layout, n, k, 1)
    a, ao = lo.place(A, layout, lda, before=1)
    b, bo = lo.place(B, layout, ldb, before=3)
    X = np.linalg.solve(A.astype(complex), B)
    g = lo.lapacke("gesv", prec, layout, n=n, nrhs=k, a=(a, ao), lda=lda, ipiv=np.zeros(n, I32), b=(b, bo), ldb=ldb)
    assert g.ret == 0
    np.testing.assert_allclose(lo.take(g.out["b"], bo, layout, n, k, ldb), X, rtol=tol, atol=tol)
    for trans, op in (("N", lambda M: M), ("T", lambda M: M.T), ("C", lambda M: M.conj().T)):
        s = lo.lapacke("getrs", prec, layout, trans=trans, n=n, nrhs=k, a=(g.out["a"], ao), lda=lda,
                       ipiv=g.out["ipiv"], b=(b, bo), ldb=ldb)
        assert s.ret == 0
        np.testing.assert_allclose(lo.take(s.out["b"], bo, layout, n, k, ldb),
                                   np.linalg.solve(op(A).astype(complex), B), rtol=tol, atol=tol)
    inv = lo.lapacke("getri", prec, layout, n=n, a=(g.out["a"], ao), lda=lda, ipiv=g.out["ipiv"])
    assert inv.ret == 0
    np.testing.assert_allclose(lo.take(inv.out["a"], ao, layout, n, n, lda), np.linalg.inv(A.astype(complex)),
                               rtol=tol, atol=tol)
    for uplo in "UL":
        S = spd(r, n, prec, uplo=uplo)
        Sfull = np.triu(S) + np.triu(S, 1).conj().T if uplo == "U" else np.tril(S) + np.tril(S, -1).conj().T
        s, so = lo.place(S, layout, lda, before=2)
        c = lo.lapacke("potrf", prec, layout, uplo=uplo, n=n, a=(s, so), lda=lda)
        assert c.ret == 0
        F = lo.take(c.out["a"], so, layout, n, n, lda)
        L = np.tril(F) if uplo == "L" else np.triu(F).conj().T
        np.testing.assert_allclose(L @ L.conj().T, Sfull, rtol=tol * 10, atol=tol * 10)
        p = lo.lapacke("potrs", prec, layout, uplo=uplo, n=n, nrhs=k, a=(c.out["a"], so), lda=lda, b=(b, bo), ldb=ldb)
        pv = lo.lapacke("posv", prec, layout, uplo=uplo, n=n, nrhs=k, a=(s, so), lda=lda, b=(b, bo), ldb=ldb)
        for res in (p, pv):
            assert res.ret == 0
            np.testing.assert_allclose(lo.take(res.out["b"], bo, layout, n, k, ldb),
                                       np.linalg.solve(Sfull.astype(complex), B), rtol=tol * 10, atol=tol * 10)
        for trans, op in (("N", lambda M: M), ("T", lambda M: M.T), ("C", lambda M: M.conj().T)):
            for diag in "NU":
                T = tri(r, n, prec)
                Tref = (np.triu(T) if uplo == "U" else np.tril(T))
                if diag == "U":
                    np.fill_diagonal(Tref, 1)
                t, to = lo.place(T, layout, lda)
                res = lo.lapacke("trtrs", prec, layout, uplo=uplo, trans=trans, diag=diag, n=n, nrhs=k,
                                 a=(t, to), lda=lda, b=(b, bo), ldb=ldb)
                assert res.ret == 0
                np.testing.assert_allclose(lo.take(res.out["b"], bo, layout, n, k, ldb),
                                           np.linalg.solve(op(Tref).astype(complex), B), rtol=tol, atol=tol)


@pytest.mark.parametrize("prec", PREC)
@pytest.mark.parametrize("order", LAYOUTS)
def test_oracle_cblas_matches_numpy(prec, order):
    """Every side/uplo/trans/diag of cblas trsm and trsv, incl. ConjTrans and OpenBLAS's
    ConjNoTrans ('R'), against NumPy on the referenced triangle."""
    r = np.random.default_rng(3)
    n, k = 4, 3
    tol = 2e-4 if prec in "sc" else 1e-11
    ops = {"N": lambda M: M, "T": lambda M: M.T, "C": lambda M: M.conj().T, "R": lambda M: M.conj()}
    alpha = (1.5 - 0.5j) if prec in "cz" else 1.5
    for uplo in "UL":
        for diag in "NU":
            T = tri(r, n, prec)
            Tref = np.triu(T) if uplo == "U" else np.tril(T)
            if diag == "U":
                np.fill_diagonal(Tref, 1)
            lda = n + 2
            a, ao = lo.place(T, order, lda, before=1)
            for trans, op in ops.items():
                x = rand(r, n, prec)
                xb = np.full(2 * n, lo.SENTINEL, dtype=dt(prec))
                xb[::2] = x
                v = lo.cblas("trsv", prec, order, uplo=uplo, trans=trans, diag=diag, n=n, a=(a, ao), lda=lda, x=xb, incx=2)
                np.testing.assert_allclose(v.out["x"][::2], np.linalg.solve(op(Tref), x), rtol=tol, atol=tol)
                assert lo.same_bits(v.out["x"][1::2], xb[1::2])
                for side in "LR":
                    shape = (n, k) if side == "L" else (k, n)
                    B = rand(r, shape, prec)
                    ldb = ld_of(order, *shape, 1)
                    b, bo = lo.place(B, order, ldb, before=2)
                    res = lo.cblas("trsm", prec, order, side=side, uplo=uplo, trans=trans, diag=diag, m=shape[0],
                                   n=shape[1], alpha=alpha, a=(a, ao), lda=lda, b=(b, bo), ldb=ldb)
                    X = np.linalg.solve(op(Tref), alpha * B) if side == "L" else \
                        np.linalg.solve(op(Tref).T, (alpha * B).T).T
                    np.testing.assert_allclose(lo.take(res.out["b"], bo, order, *shape, ldb), X, rtol=tol, atol=tol)
                    assert untouched_outside(res.out["b"], b, bo, order, *shape, ldb)
                    assert res.stdout == ""


# =============================================================================================
# 2. the model reproduces the real libraries bit-for-bit

@pytest.mark.parametrize("routine", list(lo.LAPACKE_SIGS))
@pytest.mark.parametrize("prec", PREC)
def test_model_reproduces_lapacke(routine, prec):
    """[V0] LAPACKE = layout check; NaN check; row-major ld checks; transpose into
    max(1, rows)-ld temporaries (only the uplo triangle for tr/po); the Fortran routine; info<0
    shifted by one; transpose back (only outputs; only the triangle for potrf/posv); bit-exact."""
    r = np.random.default_rng(zlib.crc32(f"{routine}{prec}".encode()))
    nan_flag = lo.get_nancheck()
    count = 0
    for layout0 in LAYOUTS:
        for variant in VARIANTS:
            for form in (False, True):
                for _ in range(2):
                    layout, args = lapacke_case(routine, prec, layout0, r, variant)
                    if form and routine == "getri":
                        n = args["n"]
                        lwork = int(r.choice([-1, 0, max(n, 1), max(n, 1) * 64, n - 1]))
                        args["lwork"] = lwork
                        args["work"] = np.full(max(lwork, 1) + 3, lo.SENTINEL, dtype=dt(prec))
                    real = lo.lapacke(routine, prec, layout, work_form=form, **args)
                    model = lm.lapacke(routine, prec, layout, work_form=form, nancheck=bool(nan_flag), **args)
                    assert_same(real, model, f"{routine} {prec} {layout} {variant} work={form} {args}")
                    count += 1
    assert count == len(LAYOUTS) * len(VARIANTS) * 4


@pytest.mark.parametrize("routine", ["trsv", "trsm"])
@pytest.mark.parametrize("prec", PREC)
def test_model_reproduces_cblas(routine, prec):
    """[V20] cblas_?trsv / ?trsm (OpenBLAS): RowMajor = the column-major Fortran routine with
    uplo flipped and (trsv) N<->T, ConjTrans<->ConjNoTrans, (trsm) side flipped and m, n swapped;
    argument errors print xerbla with OpenBLAS's parameter numbers and touch nothing; bit-exact."""
    r = np.random.default_rng(zlib.crc32(f"cblas{routine}{prec}".encode()))
    for order in LAYOUTS:
        for variant in ("ok", "ok", "ok", "order", "flag", "dim", "dim"):
            for _ in range(4):
                o, args = cblas_case(routine, prec, order, r, variant)
                real = lo.cblas(routine, prec, o, **args)
                model = lm.cblas(routine, prec, o, **args)
                assert_same(real, model, f"{routine} {prec} {o} {variant} {args}")


# =============================================================================================
# 3. the documented edge cases, one claim per test ([Vn] = claim id in the design document)
def _eye_args(routine, prec, layout, n=2):
    """A valid small call of routine (all arrays 2x2 / 2x1), as keyword arguments."""
    A = (np.eye(n) * 4 + 1).astype(dt(prec))
    args = {"n": n, "a": A.ravel().copy(), "lda": n}
    if routine == "getrf":
        args.update(m=n, ipiv=np.zeros(n, I32))
    if routine in ("getrs", "getri"):
        args["ipiv"] = np.arange(1, n + 1, dtype=I32)
    if routine == "gesv":
        args["ipiv"] = np.zeros(n, I32)
    if routine in ("getrs", "gesv", "trtrs", "potrs", "posv"):
        args.update(nrhs=1, b=np.ones(n, dtype=dt(prec)), ldb=1 if layout == "R" else n)
    for f, v in (("trans", "N"), ("uplo", "U"), ("diag", "N")):
        if f in lo.FORTRAN_SIGS[routine]:
            args[f] = v
    return args


def _unchanged(res, args):
    return all(lo.same_bits(res.out[k], args[k][0] if isinstance(args[k], tuple) else args[k]) for k in res.out)


@pytest.mark.parametrize("routine", list(lo.LAPACKE_SIGS))
def test_V1_invalid_layout(routine):
    for prec in PREC:
        for form in (False, True):
            args = _eye_args(routine, prec, "C")
            if form and routine == "getri":
                args.update(work=np.zeros(4, dt(prec)), lwork=4)
            for layout in (0, 100, 103, -1):
                res = lo.lapacke(routine, prec, layout, work_form=form, **args)
                name = f"LAPACKE_{prec}{routine}" + ("_work" if form else "")
                assert res.ret == -1 and res.stdout == f"Wrong parameter 1 in {name}\n"
                assert _unchanged(res, args)


def test_V2_row_major_leading_dimension_checks():
    expect = {"getrf": ("lda", -5), "getrs": ("lda", -6), "gesv": ("lda", -5), "getri": ("lda", -4),
              "trtrs": ("lda", -8), "potrf": ("lda", -5), "potrs": ("lda", -6), "posv": ("lda", -6)}
    expect_b = {"getrs": -9, "gesv": -8, "trtrs": -10, "potrs": -8, "posv": -8}
    for routine, (ld, pos) in expect.items():
        for prec in PREC:
            for form in (False, True):
                args = _eye_args(routine, prec, "R", n=2)
                if form and routine == "getri":
                    args.update(work=np.zeros(4, dt(prec)), lwork=4)
                args["lda"] = 1
                if "ldb" in args:
                    args["ldb"] = 0  # both bad: lda reported
                res = lo.lapacke(routine, prec, "R", work_form=form, **args)
                assert res.ret == pos and res.stdout == f"Wrong parameter {-pos} in LAPACKE_{prec}{routine}_work\n"
                assert _unchanged(res, args)
                if routine in expect_b:
                    args["lda"] = 2
                    res = lo.lapacke(routine, prec, "R", work_form=form, **args)
                    assert res.ret == expect_b[routine]
                    assert res.stdout == f"Wrong parameter {-expect_b[routine]} in LAPACKE_{prec}{routine}_work\n"
                    assert _unchanged(res, args)
    # the bound is the row length itself, not max(1, .): n = 0 with lda = ldb = 0 is fine in
    # row-major, while in column-major Fortran rejects lda = 0 (position + 1, printed)
    e = np.zeros(4)
    assert lo.lapacke("gesv", "d", "R", n=0, nrhs=0, a=e, lda=0, ipiv=np.zeros(1, I32), b=e, ldb=0).ret == 0
    r = lo.lapacke("gesv", "d", "C", n=0, nrhs=0, a=e, lda=0, ipiv=np.zeros(1, I32), b=e, ldb=0)
    assert r.ret == -5 and r.stdout == " ** On entry to  DGESV parameter number  4 had an illegal value\n"
    # row-major getrf checks lda against n (the row length), whatever m
    r = lo.lapacke("getrf", "d", "R", m=0, n=2, a=e, lda=1, ipiv=np.zeros(1, I32))
    assert r.ret == -5
    assert lo.lapacke("getrf", "d", "C", m=0, n=2, a=e, lda=1, ipiv=np.zeros(1, I32)).ret == 0
    # row-major, lda >= n, but ldb checked against nrhs only: ldb = 1 with n = 3, nrhs = 1 is fine
    assert lo.lapacke("getrs", "d", "R", trans="N", n=3, nrhs=1, a=np.eye(3).ravel(), lda=3,
                      ipiv=np.arange(1, 4, dtype=I32), b=np.ones(3), ldb=1).ret == 0


def test_V3_fortran_errors_are_shifted_and_printed_by_openblas_xerbla():
    e = np.zeros(16)
    cases = [  # (routine, layout, args, ret, printed)
        ("getrf", "C", dict(m=3, n=3, a=e, lda=2, ipiv=np.zeros(3, I32)), -5, "DGETRF parameter number  4"),
        ("getrf", "R", dict(m=-1, n=2, a=e, lda=2, ipiv=np.zeros(3, I32)), -2, "DGETRF parameter number  1"),
        ("getrf", "R", dict(m=2, n=-1, a=e, lda=2, ipiv=np.zeros(3, I32)), -3, "DGETRF parameter number  2"),
        ("gesv", "C", dict(n=2, nrhs=1, a=e, lda=2, ipiv=np.zeros(2, I32), b=e, ldb=1), -8, " DGESV parameter number  7"),
        ("potrf", "R", dict(uplo="X", n=2, a=e, lda=2), -2, "DPOTRF parameter number  1"),
        ("potrs", "C", dict(uplo="U", n=2, nrhs=-1, a=e, lda=2, b=e, ldb=2), -4, "DPOTRS parameter number  3"),
        ("posv", "R", dict(uplo="U", n=2, nrhs=-1, a=e, lda=2, b=e, ldb=2), -4, "DPOSV  parameter number  3"),
        ("getri", "C", dict(n=3, a=e, lda=2, ipiv=np.ones(3, I32)), -4, "DGETRI parameter number  3"),
        ("trtrs", "C", dict(uplo="U", trans="N", diag="N", n=2, nrhs=1, a=e, lda=2, b=e, ldb=1), -10,
         "DTRTRS parameter number  9"),
    ]
    for routine, layout, args, ret, msg in cases:
        r = lo.lapacke(routine, "d", layout, **args)
        assert r.ret == ret, (routine, r.ret)
        assert r.stdout == f" ** On entry to {msg} had an illegal value\n", (routine, r.stdout)
        assert _unchanged(r, args)


@pytest.mark.parametrize("prec", PREC)
def test_V4_nan_check_positions_and_regions(prec):
    nan = np.nan if prec in "sd" else complex(0.0, np.nan)  # a NaN only in the imaginary part counts
    pos = {"getrf": -4, "getrs": -5, "gesv": -4, "getri": -3, "trtrs": -7, "potrf": -4, "potrs": -5, "posv": -5}
    pos_b = {"getrs": -8, "gesv": -7, "trtrs": -9, "potrs": -7, "posv": -7}
    for routine in lo.LAPACKE_SIGS:
        for layout in LAYOUTS:
            args = _eye_args(routine, prec, layout, n=2)
            a = args["a"].copy()
            a[0] = nan
            res = lo.lapacke(routine, prec, layout, **dict(args, a=a))
            assert res.ret == pos[routine] and res.stdout == "" and _unchanged(res, dict(args, a=a))
            # the _work form never checks: no NaN return
            form = {"work": np.zeros(8, dt(prec)), "lwork": 8} if routine == "getri" else {}
            assert lo.lapacke(routine, prec, layout, work_form=True, **dict(args, a=a, **form)).ret >= 0
            # Inf is not a NaN
            a[0] = np.inf
            assert lo.lapacke(routine, prec, layout, **dict(args, a=a)).ret >= 0
            if routine in pos_b:
                b = args["b"].copy()
                b[1] = nan
                res = lo.lapacke(routine, prec, layout, **dict(args, b=b))
                assert res.ret == pos_b[routine] and res.stdout == "" and _unchanged(res, dict(args, b=b))
            with lo.nancheck(0):
                a[0] = nan
                assert lo.lapacke(routine, prec, layout, **dict(args, a=a)).ret >= 0
    # regions: the other triangle and (diag = 'U') the diagonal are not scanned; padding never is
    M = (np.eye(3) * 4).astype(dt(prec))
    for layout in LAYOUTS:
        for uplo in "UL":
            for diag in "NU":
                for (i, j) in [(0, 0), (0, 2), (2, 0)]:
                    T = M.copy()
                    T[i, j] = nan
                    a, ao = lo.place(T, layout, 5, before=1)
                    a[ao + 3] = nan  # padding (row-major: gap after row 0; col-major: gap below column 0)
                    b = np.ones(3, dt(prec))
                    r1 = lo.lapacke("trtrs", prec, layout, uplo=uplo, trans="N", diag=diag, n=3, nrhs=1, a=(a, ao),
                                    lda=5, b=b, ldb=1 if layout == "R" else 3)
                    referenced = (i <= j if uplo == "U" else i >= j) and not (diag == "U" and i == j)
                    assert r1.ret == (-7 if referenced else 0)
                    if diag == "N":
                        r2 = lo.lapacke("potrf", prec, layout, uplo=uplo, n=3, a=(a, ao), lda=5)
                        assert (r2.ret == -4) == referenced
    # the NaN check runs before (and with) the leading dimension: NaN + bad lda -> NaN position
    a = np.ones(9, dt(prec))
    a[5] = nan
    for layout in LAYOUTS:
        r = lo.lapacke("getrf", prec, layout, m=3, n=3, a=a, lda=2, ipiv=np.zeros(3, I32))
        assert r.ret == -4 and r.stdout == ""  # scanned a[0 .. 5] with lda = 2
    assert lo.lapacke("getrf", prec, "R", m=3, n=3, a=np.ones(9, dt(prec)), lda=2, ipiv=np.zeros(3, I32)).ret == -5


def test_V4_nancheck_environment_variable():
    """LAPACKE_NANCHECK=0 in the environment disables the check (read on first use); the
    default (unset) is on; LAPACKE_set_nancheck overrides."""
    code = textwrap.dedent("""
        import numpy as np, _lapacke_oracle as lo
        a = np.array([np.nan, 0, 0, 1.0])
        r1 = lo.lapacke("getrf", "d", "C", m=2, n=2, a=a, lda=2, ipiv=np.zeros(2, np.int32)).ret
        flag = lo.get_nancheck()
        lo.set_nancheck(1 - flag)
        r2 = lo.lapacke("getrf", "d", "C", m=2, n=2, a=a, lda=2, ipiv=np.zeros(2, np.int32)).ret
        print(r1, flag, r2)
    """)
    outs = {}
    for value in (None, "0", "1", "abc", "7"):
        env = dict(os.environ, PYTHONPATH=HERE)
        env.pop("LAPACKE_NANCHECK", None)
        if value is not None:
            env["LAPACKE_NANCHECK"] = value
        p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        outs[value] = p.stdout.split()
    assert outs[None] == ["-4", "1", "0"]
    assert outs["0"] == ["0", "0", "-4"]
    assert outs["1"] == ["-4", "1", "0"]
    assert outs["abc"] == ["0", "0", "-4"]  # atoi("abc") == 0
    assert outs["7"] == ["-4", "1", "0"]


@pytest.mark.parametrize("prec", PREC)
def test_V5_row_major_triangular_routines_write_only_their_triangle(prec):
    r = np.random.default_rng(5)
    n, lda = 4, 6
    for uplo in "UL":
        S = spd(r, n, prec, uplo=uplo)  # other triangle holds garbage
        s, so = lo.place(S, "R", lda, before=2)
        tri_mask = np.triu(np.ones((n, n), bool)) if uplo == "U" else np.tril(np.ones((n, n), bool))
        for routine in ("potrf", "posv"):
            kw = dict(nrhs=1, b=np.ones(n, dt(prec)), ldb=1) if routine == "posv" else {}
            res = lo.lapacke(routine, prec, "R", uplo=uplo, n=n, a=(s, so), lda=lda, **kw)
            assert res.ret == 0
            after = lo.take(res.out["a"], so, "R", n, n, lda)
            assert lo.same_bits(after[~tri_mask], S[~tri_mask])  # the other triangle: untouched
            assert not lo.same_bits(after[tri_mask], S[tri_mask])
            assert untouched_outside(res.out["a"], s, so, "R", n, n, lda)
        f = lo.lapacke("potrf", prec, "R", uplo=uplo, n=n, a=(s, so), lda=lda)
        res = lo.lapacke("potrs", prec, "R", uplo=uplo, n=n, nrhs=2, a=(f.out["a"], so), lda=lda,
                         b=np.ones(2 * n, dt(prec)), ldb=2)
        assert res.ret == 0 and lo.same_bits(res.out["a"], f.out["a"])  # A is input only
        for diag in "NU":
            t, to = lo.place(tri(r, n, prec), "R", lda)
            res = lo.lapacke("trtrs", prec, "R", uplo=uplo, trans="C", diag=diag, n=n, nrhs=1, a=(t, to), lda=lda,
                             b=np.ones(n, dt(prec)), ldb=1)
            assert res.ret == 0 and lo.same_bits(res.out["a"], t)


@pytest.mark.parametrize("prec", PREC)
def test_V6_layout_does_not_change_the_factorization_or_pivots(prec):
    """Row-major = the same logical factorization: same LU (as a logical matrix) and the same
    ipiv as the column-major call, bit for bit; the whole m x n block is written back."""
    r = np.random.default_rng(6)
    for (m, n) in ((5, 3), (3, 5), (4, 4)):
        A = general(r, n, prec, m)
        outs = {}
        for layout in LAYOUTS:
            lda = ld_of(layout, m, n, 2)
            a, ao = lo.place(A, layout, lda, before=1)
            res = lo.lapacke("getrf", prec, layout, m=m, n=n, a=(a, ao), lda=lda, ipiv=np.zeros(min(m, n), I32))
            assert res.ret == 0 and untouched_outside(res.out["a"], a, ao, layout, m, n, lda)
            outs[layout] = (lo.take(res.out["a"], ao, layout, m, n, lda), res.out["ipiv"])
        assert lo.same_bits(outs["R"][0], outs["C"][0]) and np.array_equal(outs["R"][1], outs["C"][1])


@pytest.mark.parametrize("prec", PREC)
def test_V6_singular_gesv_returns_factors_and_leaves_b(prec):
    S = np.array([[1, 2, 3], [2, 4, 6], [1, 0, 1]]).astype(dt(prec))
    for layout in LAYOUTS:
        a, ao = lo.place(S, layout, 4)
        b, bo = lo.place(np.arange(6).reshape(3, 2), layout, ld_of(layout, 3, 2, 1), dtype=dt(prec))
        g = lo.lapacke("gesv", prec, layout, n=3, nrhs=2, a=(a, ao), lda=4, ipiv=np.zeros(3, I32), b=(b, bo),
                       ldb=ld_of(layout, 3, 2, 1))
        f = lo.lapacke("getrf", prec, layout, m=3, n=3, a=(a, ao), lda=4, ipiv=np.zeros(3, I32))
        assert g.ret == f.ret == 3
        assert lo.same_bits(g.out["a"], f.out["a"]) and np.array_equal(g.out["ipiv"], f.out["ipiv"])
        assert lo.same_bits(g.out["b"], b)  # transposed out and back: bit-identical


@pytest.mark.parametrize("prec", PREC)
def test_V7_not_positive_definite(prec):
    NP = np.array([[4, 2, 1], [2, 1, 3], [1, 3, 9]]).astype(dt(prec))
    for layout in LAYOUTS:
        for uplo in "UL":
            a, ao = lo.place(NP, layout, 3)
            res = lo.lapacke("potrf", prec, layout, uplo=uplo, n=3, a=a, lda=3)
            assert res.ret == 2
            F = lo.take(res.out["a"], 0, layout, 3, 3, 3)
            k = (0, 0)
            assert F[k] == 2 and F[1, 1] == 0  # 1 - (2/2)^2: the non-positive pivot is stored
            assert lo.same_bits(F[2, 2], NP[2, 2])  # the rest of the triangle: not reached
            b = np.arange(6).astype(dt(prec))
            pv = lo.lapacke("posv", prec, layout, uplo=uplo, n=3, nrhs=2, a=a, lda=3, b=b, ldb=2 if layout == "R" else 3)
            assert pv.ret == 2 and lo.same_bits(pv.out["b"], b) and lo.same_bits(pv.out["a"], res.out["a"])


@pytest.mark.parametrize("prec", PREC)
def test_V8_singular_getri_and_trtrs_leave_outputs(prec):
    for layout in LAYOUTS:
        LU = np.array([[2, 1, 1], [0.5, 0, 1], [0.5, 1, 3]]).astype(dt(prec))  # U(2,2) == 0
        a, ao = lo.place(LU, layout, 3)
        res = lo.lapacke("getri", prec, layout, n=3, a=a, lda=3, ipiv=np.array([1, 2, 3], I32))
        assert res.ret == 2 and lo.same_bits(res.out["a"], a)
        T = np.array([[1, 2, 3], [0, -0.0, 5], [0, 0, 0]]).astype(dt(prec))  # -0.0 is a zero pivot
        t, to = lo.place(T, layout, 3)
        b = np.ones(3, dt(prec))
        res = lo.lapacke("trtrs", prec, layout, uplo="U", trans="N", diag="N", n=3, nrhs=1, a=t, lda=3, b=b,
                         ldb=1 if layout == "R" else 3)
        assert res.ret == 2 and lo.same_bits(res.out["b"], b)
        # diag = 'U': the stored zeros are not pivots
        assert lo.lapacke("trtrs", prec, layout, uplo="U", trans="N", diag="U", n=3, nrhs=1, a=t, lda=3, b=b,
                          ldb=1 if layout == "R" else 3).ret == 0
        # OpenBLAS finds the zero with I?AMIN over the diagonal: a NaN before the first zero is
        # reported instead (reference LAPACK would return 3). Only reachable without the NaN check.
        T[1, 1] = np.nan
        t, to = lo.place(T, layout, 3)
        res = lo.lapacke("trtrs", prec, layout, work_form=True, uplo="U", trans="N", diag="N", n=3, nrhs=1, a=t,
                         lda=3, b=b, ldb=1 if layout == "R" else 3)
        assert res.ret == 2 and lo.same_bits(res.out["b"], b)


@pytest.mark.parametrize("prec", PREC)
def test_V9_getri_n0_fails_with_lwork_error(prec):
    """The bundled ?GETRI answers a workspace query for n = 0 with WORK(1) = 0 (N*NB), LAPACKE
    allocates 0 elements and calls again with LWORK = 0 < MAX(1, N) -> INFO = -6 -> -7."""
    for layout in LAYOUTS:
        r = lo.lapacke("getri", prec, layout, n=0, a=np.zeros(1, dt(prec)), lda=1, ipiv=np.zeros(1, I32))
        assert r.ret == -7
        assert r.stdout == f" ** On entry to {prec.upper()}GETRI parameter number  6 had an illegal value\n"


@pytest.mark.parametrize("prec", PREC)
def test_V10_getri_work_query(prec):
    for layout in LAYOUTS:
        for n in (0, 1, 3, 100):
            w = np.full(2, -1, dt(prec))
            a = np.full(max(n, 1) ** 2, 3, dt(prec))
            r = lo.lapacke("getri", prec, layout, work_form=True, n=n, a=a, lda=max(n, 1), ipiv=np.ones(max(n, 1), I32),
                           work=w, lwork=-1)
            assert r.ret == 0 and r.stdout == "" and lo.same_bits(r.out["a"], a)
            assert r.out["work"][0] == 64 * n and r.out["work"][1] == -1  # WORK(1) = N*NB, NB = 64
        w = np.zeros(2, dt(prec))
        r = lo.lapacke("getri", prec, layout, work_form=True, n=-1, a=np.zeros(1, dt(prec)), lda=1, ipiv=np.ones(1, I32),
                       work=w, lwork=-1)
        assert r.ret == -2 and r.out["work"][0] == -64  # written before the argument check
        r = lo.lapacke("getri", prec, layout, work_form=True, n=3, a=np.zeros(9, dt(prec)), lda=2, ipiv=np.ones(3, I32),
                       work=w, lwork=-1)
        assert r.ret == -4
        if layout == "R":  # LAPACKE's own check: Fortran never called, WORK untouched
            assert r.stdout == f"Wrong parameter 4 in LAPACKE_{prec}getri_work\n" and r.out["work"][0] == 0
        else:
            assert "parameter number  3" in r.stdout and r.out["work"][0] == 192


def test_V11_getri_bits_depend_on_lwork():
    """The high-level LAPACKE_?getri uses lwork = the query's n*64; for n > 64 any other lwork
    changes the blocking and the bits, so an emulation must pass exactly that lwork."""
    r = np.random.default_rng(11)
    n = 70
    A = r.standard_normal((n, n)) + 9 * np.eye(n)
    f = lo.fortran("getrf", "d", m=n, n=n, a=np.asfortranarray(A).ravel(order="F"), lda=n, ipiv=np.zeros(n, I32))
    hi = lo.lapacke("getri", "d", "C", n=n, a=f.out["a"], lda=n, ipiv=f.out["ipiv"])
    for lwork, same in ((64 * n, True), (n, False)):
        w = lo.lapacke("getri", "d", "C", work_form=True, n=n, a=f.out["a"], lda=n, ipiv=f.out["ipiv"],
                       work=np.zeros(lwork), lwork=lwork)
        assert lo.same_bits(w.out["a"], hi.out["a"]) == same


@pytest.mark.parametrize("prec", PREC)
def test_V12_openblas_getrs_never_sets_info_on_argument_errors(prec):
    """OpenBLAS interface/lapack/getrs.c calls xerbla and returns WITHOUT writing INFO; LAPACKE's
    local info (0) is returned: the error is printed but the return value says success."""
    a = np.eye(2).astype(dt(prec)).ravel()
    base = dict(trans="N", n=2, nrhs=1, a=a, lda=2, ipiv=np.array([1, 2], I32), b=np.ones(2, dt(prec)), ldb=2)
    N = prec.upper() + "GETRS"
    for bad, num in ((dict(trans="X"), 1), (dict(n=-1), 2), (dict(nrhs=-1), 3), (dict(lda=1), 5), (dict(ldb=1), 8)):
        r = lo.lapacke("getrs", prec, "C", **dict(base, **bad))
        assert r.ret == 0 and r.stdout == f" ** On entry to {N} parameter number {num:2d} had an illegal value\n"
        assert lo.same_bits(r.out["b"], base["b"])
    r = lo.lapacke("getrs", prec, "R", **dict(base, trans="X", ldb=1))
    assert r.ret == 0 and "parameter number  1" in r.stdout and lo.same_bits(r.out["b"], base["b"])


@pytest.mark.parametrize("prec", PREC)
def test_V13_openblas_trtrs_flag_quirks(prec):
    """OpenBLAS 0.3.21 ?trtrs: uplo and diag are case-SENSITIVE (upper-case only; OpenBLAS PR
    #4598, fixed in 0.3.27), diag is checked before uplo, trans also accepts 'R' (conj(A) X = B;
    = 'N' for real data) and lower-case trans."""
    T = np.array([[2, 1j if prec in "cz" else 1], [0, 4]]).astype(dt(prec))
    for layout in LAYOUTS:
        t, _ = lo.place(T, layout, 2)
        base = dict(uplo="U", trans="N", diag="N", n=2, nrhs=1, a=t, lda=2, b=np.ones(2, dt(prec)),
                    ldb=1 if layout == "R" else 2)
        N = prec.upper() + "TRTRS"
        for bad, ret, num in ((dict(uplo="u"), -2, 1), (dict(diag="n"), -4, 3), (dict(diag="u"), -4, 3),
                              (dict(uplo="x", diag="x"), -4, 3), (dict(uplo="x", trans="x"), -2, 1)):
            r = lo.lapacke("trtrs", prec, layout, **dict(base, **bad))
            assert r.ret == ret and r.stdout == f" ** On entry to {N} parameter number {num:2d} had an illegal value\n"
            assert lo.same_bits(r.out["b"], base["b"])
        ok = {t_: lo.lapacke("trtrs", prec, layout, **dict(base, trans=t_)) for t_ in "NRnrTtCc"}
        assert all(v.ret == 0 and v.stdout == "" for v in ok.values())
        X = np.linalg.solve(T.conj(), np.ones(2))
        np.testing.assert_allclose(ok["R"].out["b"], X, rtol=1e-5)
        assert lo.same_bits(ok["r"].out["b"], ok["R"].out["b"]) and lo.same_bits(ok["t"].out["b"], ok["T"].out["b"])
        # the same in ?getrs: 'R' = conj(A) X = B, 'C' = 'T' for real data
        g = lo.lapacke("getrs", prec, layout, trans="R", n=2, nrhs=1, a=t, lda=2, ipiv=np.array([1, 2], I32),
                       b=base["b"], ldb=base["ldb"])
        assert g.ret == 0 and g.stdout == ""


@pytest.mark.parametrize("prec", PREC)
def test_V14_openblas_gesv_with_nrhs_0_does_not_factor(prec):
    """OpenBLAS 0.3.21 ?gesv returns before factoring when nrhs = 0 (OpenBLAS issue #5662):
    A and ipiv untouched, info 0 -- reference LAPACK would factor A."""
    A = np.array([[0, 1], [2, 3]]).astype(dt(prec))
    for layout in LAYOUTS:
        a, _ = lo.place(A, layout, 2)
        ipiv = np.array([-9, -9], I32)
        r = lo.lapacke("gesv", prec, layout, n=2, nrhs=0, a=a, lda=2, ipiv=ipiv, b=np.ones(2, dt(prec)), ldb=2)
        assert r.ret == 0 and lo.same_bits(r.out["a"], a) and np.array_equal(r.out["ipiv"], ipiv)


def test_V16_bits_depend_on_openblas_threads_and_entry_point():
    """With more than one OpenBLAS thread, ?gesv_ factors small matrices differently from
    ?getrf_ (8 <= n < 100 here): LAPACKE_?gesv must be reproduced with ?gesv_, not getrf+getrs.
    Within one process and thread setting everything is deterministic."""
    code = textwrap.dedent("""
        import numpy as np, _lapacke_oracle as lo
        r = np.random.default_rng(16)
        n = 40
        A = np.asfortranarray(r.standard_normal((n, n))).ravel(order="F")
        B = r.standard_normal(n)
        g = lo.fortran("gesv", "d", n=n, nrhs=1, a=A, lda=n, ipiv=np.zeros(n, np.int32), b=B, ldb=n)
        f = lo.fortran("getrf", "d", m=n, n=n, a=A, lda=n, ipiv=np.zeros(n, np.int32))
        s = lo.fortran("getrs", "d", trans="N", n=n, nrhs=1, a=f.out["a"], lda=n, ipiv=f.out["ipiv"], b=B, ldb=n)
        l = lo.lapacke("gesv", "d", "R", n=n, nrhs=1, a=np.ascontiguousarray(A.reshape((n, n), order="F")).ravel(),
                       lda=n, ipiv=np.zeros(n, np.int32), b=B, ldb=1)
        print(lo.same_bits(g.out["a"], f.out["a"]), lo.same_bits(g.out["b"], s.out["b"]),
              lo.same_bits(l.out["b"], g.out["b"]), g.out["a"][:4].tobytes().hex())
    """)
    outs = {}
    for threads in ("1", "2"):
        env = dict(os.environ, PYTHONPATH=HERE, OPENBLAS_NUM_THREADS=threads)
        p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        outs[threads] = p.stdout.split()
    assert outs["1"][:3] == ["True", "True", "True"]
    assert outs["2"][:3] == ["False", "False", "True"]  # LAPACKE row-major still == ?gesv_


@pytest.mark.parametrize("prec", PREC)
def test_V17_bits_independent_of_leading_dimension_and_offset(prec):
    """The same Fortran routine on the same logical matrix gives the same bits whatever the
    leading dimension / alignment of the buffer: the row-major temporaries (ld = max(1, n))
    need not be reproduced exactly, only the entry point and its other arguments."""
    r = np.random.default_rng(17)
    n, k = 70, 3
    A, B = general(r, n, prec), rand(r, (n, k), prec)
    res = []
    for ld, before in ((n, 0), (n + 5, 1), (n + 1, 3)):
        a, ao = lo.place(A, "C", ld, before=before)
        b, bo = lo.place(B, "C", ld + 2, before=before + 1)
        g = lo.fortran("gesv", prec, n=n, nrhs=k, a=(a, ao), lda=ld, ipiv=np.zeros(n, I32), b=(b, bo), ldb=ld + 2)
        res.append((lo.take(g.out["a"], ao, "C", n, n, ld), lo.take(g.out["b"], bo, "C", n, k, ld + 2)))
    assert all(lo.same_bits(x[0], res[0][0]) and lo.same_bits(x[1], res[0][1]) for x in res)
    # but the entry point matters: ?trtrs with one right-hand side == ?trsv, != ?trsm
    T = np.triu(general(r, n, prec)) + 9 * np.eye(n, dtype=dt(prec))
    F = lambda M: np.asfortranarray(M).ravel(order="F")
    t = lo.fortran("trtrs", prec, uplo="U", trans="N", diag="N", n=n, nrhs=1, a=F(T), lda=n, b=F(B[:, :1]), ldb=n)
    v = lo.fortran("trsv", prec, uplo="U", trans="N", diag="N", n=n, a=F(T), lda=n, x=F(B[:, 0]), incx=1)
    m = lo.fortran("trsm", prec, side="L", uplo="U", trans="N", diag="N", m=n, n=1, alpha=1, a=F(T), lda=n,
                   b=F(B[:, :1]), ldb=n)
    assert lo.same_bits(t.out["b"], v.out["x"]) and not lo.same_bits(t.out["b"], m.out["b"])


# ---------------------------------------------------------------------------------------------
# CBLAS
@pytest.mark.parametrize("prec", PREC)
def test_V21_cblas_argument_errors(prec):
    Z = lambda k: np.full(k, lo.SENTINEL, dt(prec))
    P = prec.upper()
    msg = lambda name, k: f" ** On entry to {P}{name} parameter number {k:2d} had an illegal value\n"
    v = dict(uplo="U", trans="N", diag="N", n=2, a=Z(4), lda=2, x=Z(2), incx=1)
    m = dict(side="L", uplo="U", trans="N", diag="N", m=2, n=3, alpha=1, a=Z(9), lda=2, b=Z(9), ldb=3)
    cases = [
        ("trsv", 0, {}, 0), ("trsv", "R", dict(incx=0), 8), ("trsv", "C", dict(lda=1), 6),
        ("trsv", "R", dict(n=0, lda=0), 6),  # n = 0 still needs lda >= 1
        ("trsv", "R", dict(n=-1), 4), ("trsv", "C", dict(diag=0), 3), ("trsv", "R", dict(trans=0), 2),
        ("trsv", "R", dict(uplo=0, diag=0, n=-1, incx=0), 1),  # the lowest number wins
        ("trsm", 103, {}, 0), ("trsm", "C", dict(ldb=1), 11), ("trsm", "R", dict(ldb=2), 11),
        ("trsm", "C", dict(lda=1), 9), ("trsm", "R", dict(side="R", lda=2), 9),
        ("trsm", "C", dict(m=-1), 5), ("trsm", "C", dict(n=-1), 6),
        ("trsm", "R", dict(m=-1), 6), ("trsm", "R", dict(n=-1), 5),  # RowMajor swaps m and n
        ("trsm", "R", dict(m=0, lda=0), 9), ("trsm", "C", dict(side=0, uplo=0), 1),
    ]
    for routine, order, bad, num in cases:
        base = v if routine == "trsv" else m
        r = lo.cblas(routine, prec, order, **dict(base, **bad))
        assert r.stdout == msg("TRSV " if routine == "trsv" else "TRSM ", num), (routine, order, bad, r.stdout)
        assert all(lo.same_bits(r.out[k], base[k]) for k in r.out)  # nothing touched


@pytest.mark.parametrize("prec", PREC)
def test_V22_cblas_quick_returns_and_alpha_zero(prec):
    nanbuf = np.full(9, np.nan, dt(prec))
    for order in LAYOUTS:
        x = np.array([1, np.nan, 3]).astype(dt(prec))
        r = lo.cblas("trsv", prec, order, uplo="U", trans="N", diag="N", n=0, a=nanbuf, lda=1, x=x, incx=1)
        assert r.stdout == "" and lo.same_bits(r.out["x"], x)
        for mn in ((0, 2), (2, 0)):
            r = lo.cblas("trsm", prec, order, side="L", uplo="U", trans="N", diag="N", m=mn[0], n=mn[1], alpha=0,
                         a=nanbuf, lda=2, b=x, ldb=3)
            assert r.stdout == "" and lo.same_bits(r.out["b"], x)
        # alpha = 0: B := 0 without reading A (NaN in A and B alike)
        b = np.array([1, np.nan, 3, 4]).astype(dt(prec))
        r = lo.cblas("trsm", prec, order, side="R", uplo="L", trans="T", diag="U", m=2, n=2, alpha=0, a=nanbuf,
                     lda=2, b=b, ldb=2)
        assert lo.same_bits(r.out["b"], np.zeros(4, dt(prec)))


def test_V23_cblas_row_major_conj_trans_trsv_is_conj_no_trans_of_the_storage():
    """RowMajor ConjTrans solve = OpenBLAS's column-major 'R' (conj, no transpose) kernel on
    the same storage with uplo flipped: bit-identical to ztrsv_('L', 'R', ...)."""
    r = np.random.default_rng(23)
    n = 5
    T = tri(r, n, "z")
    a, _ = lo.place(T, "R", n)
    x = rand(r, n, "z")
    c = lo.cblas("trsv", "z", "R", uplo="U", trans="C", diag="N", n=n, a=a, lda=n, x=x, incx=1)
    f = lo.fortran("trsv", "z", uplo="L", trans="R", diag="N", n=n, a=a, lda=n, x=x, incx=1)
    assert lo.same_bits(c.out["x"], f.out["x"])
    np.testing.assert_allclose(c.out["x"], np.linalg.solve(np.triu(T).conj().T, x), rtol=1e-12)
