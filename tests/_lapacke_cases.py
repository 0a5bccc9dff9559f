"""Argument sweeps shared by the tests that compare an implementation of LAPACKE / CBLAS with
the real libraries: test_lapacke_oracle.py (the executable model vs LAPACKE) and
test_capi_exact.py (difflapack's interposed routines vs LAPACKE). lapacke_case / cblas_case
build one call's arguments, valid or wrong in the way `variant` names, in buffers with padding
and sentinels around the logical matrices."""
from __future__ import annotations

import numpy as np

import _lapacke_oracle as lo

I32 = np.int32

def dt(prec):
    return lo.DTYPES[prec]


def rand(r, shape, prec):
    x = r.standard_normal(shape)
    if prec in "cz":
        x = x + 1j * r.standard_normal(shape)
    return x.astype(dt(prec))


def general(r, n, prec, m=None):
    m = n if m is None else m
    a = rand(r, (m, n), prec)
    k = min(m, n)
    a[:k, :k] += 3 * np.sqrt(max(k, 1)) * np.eye(k)[::-1]  # forces row interchanges
    return a


def spd(r, n, prec, garbage=True, uplo="U"):
    """Hermitian positive definite; the triangle LAPACK must not read holds garbage."""
    g = rand(r, (n, n), prec)
    s = g @ g.conj().T + n * np.eye(n)
    np.fill_diagonal(s, s.diagonal().real)
    if garbage and n > 1:
        junk = rand(r, (n, n), prec) * 100
        mask = np.tril(np.ones((n, n), bool), -1) if uplo.upper() == "U" else np.triu(np.ones((n, n), bool), 1)
        s[mask] = junk[mask]
    return s.astype(dt(prec))


def tri(r, n, prec, uplo="U"):
    t = rand(r, (n, n), prec) / np.sqrt(max(n, 1))
    np.fill_diagonal(t, 2 + r.random(n))
    return t.astype(dt(prec))


def ld_of(layout, rows, cols, pad=0):
    return (cols if layout == "R" else rows) + pad


def assert_same(real, model, what=""):
    assert real.ret == model.ret, f"{what}: ret {real.ret} != model {model.ret}"
    assert real.stdout == model.stdout, f"{what}: printed {real.stdout!r} != model {model.stdout!r}"
    assert sorted(real.out) == sorted(model.out)
    for k in real.out:
        assert lo.same_bits(real.out[k], model.out[k]), f"{what}: buffer {k} differs:\n{real.out[k]}\n{model.out[k]}"


def untouched_outside(res_buf, orig_buf, off, layout, rows, cols, ld):
    outside = ~lo.mask(orig_buf.size, off, layout, rows, cols, ld)
    return lo.same_bits(res_buf[outside], orig_buf[outside])


# what a sweep varies
FLAGS = {"trans": "NTCntc", "uplo": "ULul", "diag": "NUnu"}
BAD = {"trans": "xR", "uplo": "x", "diag": "x"}


def lapacke_case(routine, prec, layout, r, variant):
    """One call's arguments (LAPACKE naming) for a sweep; variant picks what is wrong with it."""
    n = int(r.choice([0, 1, 3, 5]))
    m = int(r.choice([0, 2, 4, 6])) if routine == "getrf" else n
    nrhs = int(r.choice([0, 1, 3]))
    args = {"n": n}
    if routine == "getrf":
        args["m"] = m
    if routine in ("getrs", "gesv", "trtrs", "potrs", "posv"):
        args["nrhs"] = nrhs
    for f in ("trans", "uplo", "diag"):
        if f in lo.FORTRAN_SIGS[routine]:
            args[f] = str(r.choice(list(FLAGS[f] if routine != "trtrs" or f == "trans" else FLAGS[f][:2])))
    rows = m if routine == "getrf" else n
    cols = n
    lda = ld_of(layout, rows, cols, int(r.choice([0, 2])))
    ldb = ld_of(layout, n, nrhs, int(r.choice([0, 1])))
    uplo = args.get("uplo", "U")
    # matrices
    if routine in ("potrf", "posv"):
        A = spd(r, n, prec, uplo=uplo)
    elif routine == "potrs":
        A = np.triu(spd(r, n, prec, garbage=False)) if uplo in "Uu" else np.tril(spd(r, n, prec, garbage=False))
        A = A + np.diag(np.full(n, 3.0)).astype(dt(prec))
    elif routine == "trtrs":
        A = tri(r, n, prec)
    else:
        A = general(r, cols, prec, rows)
    B = rand(r, (n, nrhs), prec)
    ipiv = np.zeros(max(n, 1), dtype=I32)
    if routine in ("getrs", "getri") and n:
        # a real factorization (pivots valid: invalid pivots make getri/getrs write out of bounds)
        f = lo.fortran("getrf", prec, m=n, n=n, a=np.asfortranarray(A).ravel(order="F"), lda=n, ipiv=ipiv)
        A, ipiv = f.out["a"].reshape((n, n), order="F"), f.out["ipiv"]
    # what goes wrong
    if variant == "layout":
        layout = int(r.choice([0, 1, 103]))
    elif variant == "neg":
        key = str(r.choice([k for k in ("m", "n", "nrhs") if k in args]))
        args[key] = -1
    elif variant == "lda" and rows * cols:
        lda = int(r.choice([ld_of(layout, rows, cols) - 1, 0, -1]))
    elif variant == "ldb" and "nrhs" in args and n * nrhs:
        ldb = int(r.choice([ld_of(layout, n, nrhs) - 1, 0]))
    elif variant == "flag":
        fs = [f for f in ("trans", "uplo", "diag") if f in args]
        if fs:
            f = str(r.choice(fs))
            args[f] = str(r.choice(list(BAD[f] + ("lu" if routine == "trtrs" and f != "trans" else ""))))
    elif variant == "nan" and A.size:
        i, j = int(r.integers(A.shape[0])), int(r.integers(A.shape[1]))
        A[i, j] = np.nan if prec in "sd" else complex(r.choice([0.0, np.nan]), np.nan)
        if B.size and r.random() < 0.5:
            B[int(r.integers(n)), int(r.integers(nrhs))] = np.nan
    elif variant == "singular" and n:
        k = int(r.integers(n))
        if routine in ("getrf", "gesv"):
            A[:, k] = 0
        elif routine in ("getri", "getrs"):
            A[k, k] = 0  # an exactly zero pivot of U
        elif routine == "trtrs":
            A[k, k] = 0
        else:  # potrf / posv: not positive definite at k
            A[k, k] = -abs(A[k, k])
    # buffers (generous, so that checks reading with a bad ld stay inside)
    big = max(lda, ld_of(layout, rows, cols), 1)
    okld = ld_of(layout, rows, cols)
    a, ao = lo.place(A, layout if isinstance(layout, str) else "C", max(okld, 1) if okld else 1,
                     before=1, after=big * (max(rows, cols) + 2)) if A.size else (np.full(big * 8 + 8, lo.SENTINEL, dt(prec)), 1)
    # re-place with the leading dimension actually used when it is valid
    if A.size and isinstance(layout, str) and lda >= okld:
        a, ao = lo.place(A, layout, lda, before=1, after=big * 2 + 4)
    bld = max(ldb, ld_of(layout if isinstance(layout, str) else "C", n, nrhs), 1)
    b, bo = (lo.place(B, layout if isinstance(layout, str) else "C", bld, before=2, after=bld * 3 + 5)
             if B.size else (np.full(bld * 8 + 8, lo.SENTINEL, dt(prec)), 2))
    args.update(lda=lda, a=(a, ao))
    if routine in ("getrf", "gesv"):
        args["ipiv"] = np.full(max(min(rows, cols), 1) + 2, -5, dtype=I32)
    if routine in ("getrs", "getri"):
        args["ipiv"] = ipiv
    if "nrhs" in args:
        args.update(ldb=ldb, b=(b, bo))
    return layout, args


VARIANTS = ("ok", "ok", "ok", "layout", "neg", "lda", "ldb", "flag", "nan", "singular")


def cblas_case(routine, prec, order0, r, variant):
    n = int(r.choice([0, 1, 3, 4]))
    m = int(r.choice([0, 2, 3]))
    order = order0
    flags = {"uplo": str(r.choice(list("UL"))), "trans": str(r.choice(list("NTCR"))), "diag": str(r.choice(list("NU")))}
    if routine == "trsm":
        flags["side"] = str(r.choice(list("LR")))
    args = dict(flags)
    na = n if routine == "trsv" else (m if flags["side"] == "L" else n)  # order of A
    T = tri(r, na, prec)
    lda = na + int(r.choice([0, 2]))
    incx = int(r.choice([1, 2, -1, -3]))
    if routine == "trsm":
        shape = (m, n)
        ldb = ld_of(order0, m, n, int(r.choice([0, 1])))
    if variant == "order":
        order = int(r.choice([0, 100, 103]))
    elif variant == "flag":
        f = str(r.choice(list(flags)))
        args[f] = int(r.choice([0, 111 if f != "trans" else 120, 999]))
    elif variant == "dim":
        if routine == "trsv":
            n2 = int(r.choice([-1, n]))
            lda = int(r.choice([lda, max(n2, 1) - 1, 0]))
            incx = int(r.choice([incx, 0]))
            n = n2
        else:
            which = str(r.choice(["m", "n", "lda", "ldb"]))
            if which == "m":
                shape = (-1, n)
            elif which == "n":
                shape = (m, -1)
            elif which == "lda":
                lda = max(na, 1) - 1
            else:
                ldb = max(ld_of(order0, m, n), 1) - 1
    a, ao = lo.place(T, "C", max(lda, na, 1), before=1, after=8) if na else (np.full(12, lo.SENTINEL, dt(prec)), 1)
    if routine == "trsv":
        nn = max(n, 0)
        x = np.full(1 + max(nn - 1, 0) * abs(incx) + 4, lo.SENTINEL, dtype=dt(prec))
        if nn:
            v = rand(r, nn, prec)
            idx = np.arange(nn) * abs(incx)
            x[idx] = v
        args.update(n=n, a=(a, ao), lda=lda, x=x, incx=incx)
    else:
        B = rand(r, (m, n), prec)
        bld = max(ldb, ld_of(order0, m, n), 1)
        b, bo = lo.place(B, order0, bld, before=2, after=bld + 4) if B.size else (np.full(20, lo.SENTINEL, dt(prec)), 2)
        alpha = complex(r.choice([1.0, 0.0, -2.5]), r.choice([0.0, 0.5])) if prec in "cz" else float(r.choice([1.0, 0.0, -2.5]))
        args.update(m=shape[0], n=shape[1], alpha=alpha, a=(a, ao), lda=lda, b=(b, bo), ldb=ldb)
    return order, args
