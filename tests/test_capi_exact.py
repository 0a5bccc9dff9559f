"""The routines difflapack_enzyme.h interposes return exactly what the real libraries return:
LAPACKE_?getrf / getrs / gesv / getri / trtrs / potrf / potrs / posv (+ _work), cblas_?trsv /
trsm, and the Fortran ?trsv_ ... ?posv_,
compared with the real LAPACKE / OpenBLAS called on identical buffers in the same process: the
return value (INFO), what is printed, and every byte of every buffer, padding included, for
sweeps of valid and invalid calls in s/d/c/z and both layouts (the sweeps of the executable
model's own test, tests/_lapacke_cases.py).

This is the primal of a plain C build of the header (no Enzyme). The primal results under each
Enzyme mode are compared bit for bit in test_enzyme_capi.py.
"""
from __future__ import annotations

import ctypes
import os
import subprocess
import zlib

import numpy as np
import pytest

import _lapacke_oracle as lo
from _lapacke_cases import VARIANTS, assert_same, cblas_case, general, lapacke_case, rand, spd

pytestmark = pytest.mark.skipif(not lo.available(), reason="LAPACKE/OpenBLAS not loadable")

PREC = lo.PRECISIONS
I32 = np.int32

# A C library whose dlt_<name> calls <name> through difflapack_enzyme.h, with the real routine's
# signature, so the oracle can call it like the real one (library=, prefix="dlt_").
WRAPPERS = r"""
#include "difflapack_enzyme.h"
#define L int
#define WRAP(p, T, R, is_complex)                                                               \
  L dlt_LAPACKE_##p##getrf(L l, L m, L n, void *a, L lda, L *ipiv) {                           \
    return LAPACKE_##p##getrf(l, m, n, a, lda, ipiv); }                                         \
  L dlt_LAPACKE_##p##getrf_work(L l, L m, L n, void *a, L lda, L *ipiv) {                      \
    return LAPACKE_##p##getrf_work(l, m, n, a, lda, ipiv); }                                    \
  L dlt_LAPACKE_##p##getrs(L l, char t, L n, L k, const void *a, L lda, const L *ipiv, void *b, L ldb) { \
    return LAPACKE_##p##getrs(l, t, n, k, a, lda, ipiv, b, ldb); }                              \
  L dlt_LAPACKE_##p##getrs_work(L l, char t, L n, L k, const void *a, L lda, const L *ipiv, void *b, L ldb) { \
    return LAPACKE_##p##getrs_work(l, t, n, k, a, lda, ipiv, b, ldb); }                         \
  L dlt_LAPACKE_##p##gesv(L l, L n, L k, void *a, L lda, L *ipiv, void *b, L ldb) {            \
    return LAPACKE_##p##gesv(l, n, k, a, lda, ipiv, b, ldb); }                                  \
  L dlt_LAPACKE_##p##gesv_work(L l, L n, L k, void *a, L lda, L *ipiv, void *b, L ldb) {       \
    return LAPACKE_##p##gesv_work(l, n, k, a, lda, ipiv, b, ldb); }                             \
  L dlt_LAPACKE_##p##getri(L l, L n, void *a, L lda, const L *ipiv) {                         \
    return LAPACKE_##p##getri(l, n, a, lda, ipiv); }                                            \
  L dlt_LAPACKE_##p##getri_work(L l, L n, void *a, L lda, const L *ipiv, void *w, L lw) {      \
    return LAPACKE_##p##getri_work(l, n, a, lda, ipiv, w, lw); }                                \
  L dlt_LAPACKE_##p##trtrs(L l, char u, char t, char d, L n, L k, const void *a, L lda, void *b, L ldb) { \
    return LAPACKE_##p##trtrs(l, u, t, d, n, k, a, lda, b, ldb); }                              \
  L dlt_LAPACKE_##p##trtrs_work(L l, char u, char t, char d, L n, L k, const void *a, L lda, void *b, L ldb) { \
    return LAPACKE_##p##trtrs_work(l, u, t, d, n, k, a, lda, b, ldb); }                         \
  L dlt_LAPACKE_##p##potrf(L l, char u, L n, void *a, L lda) {                                 \
    return LAPACKE_##p##potrf(l, u, n, a, lda); }                                               \
  L dlt_LAPACKE_##p##potrf_work(L l, char u, L n, void *a, L lda) {                            \
    return LAPACKE_##p##potrf_work(l, u, n, a, lda); }                                          \
  L dlt_LAPACKE_##p##potrs(L l, char u, L n, L k, const void *a, L lda, void *b, L ldb) {      \
    return LAPACKE_##p##potrs(l, u, n, k, a, lda, b, ldb); }                                    \
  L dlt_LAPACKE_##p##potrs_work(L l, char u, L n, L k, const void *a, L lda, void *b, L ldb) { \
    return LAPACKE_##p##potrs_work(l, u, n, k, a, lda, b, ldb); }                               \
  L dlt_LAPACKE_##p##posv(L l, char u, L n, L k, void *a, L lda, void *b, L ldb) {             \
    return LAPACKE_##p##posv(l, u, n, k, a, lda, b, ldb); }                                     \
  L dlt_LAPACKE_##p##posv_work(L l, char u, L n, L k, void *a, L lda, void *b, L ldb) {        \
    return LAPACKE_##p##posv_work(l, u, n, k, a, lda, b, ldb); }                                \
  void dlt_cblas_##p##trsv(int o, int u, int t, int d, L n, const void *a, L lda, void *x, L incx) { \
    cblas_##p##trsv(o, u, t, d, n, a, lda, x, incx); }                                          \
  void dlt_cblas_##p##trsm(int o, int s, int u, int t, int d, L m, L n, ALPHA_##is_complex(R),  \
                           const void *a, L lda, void *b, L ldb) {                              \
    cblas_##p##trsm(o, s, u, t, d, m, n, alpha, a, lda, b, ldb); }                              \
  void dlt_##p##trsv_(const char *u, const char *t, const char *d, const L *n, const void *a,   \
                      const L *lda, void *x, const L *incx, size_t lu, size_t lt, size_t ld) {  \
    p##trsv_(u, t, d, n, a, lda, x, incx, lu, lt, ld); }                                        \
  void dlt_##p##trsm_(const char *s, const char *u, const char *t, const char *d, const L *m,   \
                      const L *n, const void *alpha, const void *a, const L *lda, void *b,      \
                      const L *ldb, size_t ls, size_t lu, size_t lt, size_t ld) {               \
    p##trsm_(s, u, t, d, m, n, alpha, a, lda, b, ldb, ls, lu, lt, ld); }                        \
  void dlt_##p##getrf_(const L *m, const L *n, void *a, const L *lda, L *ipiv, L *info) {      \
    p##getrf_(m, n, a, lda, ipiv, info); }                                                      \
  void dlt_##p##getrs_(const char *t, const L *n, const L *k, const void *a, const L *lda,      \
                       const L *ipiv, void *b, const L *ldb, L *info, size_t lt) {              \
    p##getrs_(t, n, k, a, lda, ipiv, b, ldb, info, lt); }                                       \
  void dlt_##p##gesv_(const L *n, const L *k, void *a, const L *lda, L *ipiv, void *b,         \
                      const L *ldb, L *info) {                                                  \
    p##gesv_(n, k, a, lda, ipiv, b, ldb, info); }                                               \
  void dlt_##p##getri_(const L *n, void *a, const L *lda, const L *ipiv, void *w, const L *lw,  \
                       L *info) {                                                               \
    p##getri_(n, a, lda, ipiv, w, lw, info); }                                                  \
  void dlt_##p##trtrs_(const char *u, const char *t, const char *d, const L *n, const L *k,     \
                       const void *a, const L *lda, void *b, const L *ldb, L *info, size_t lu,  \
                       size_t lt, size_t ld) {                                                  \
    p##trtrs_(u, t, d, n, k, a, lda, b, ldb, info, lu, lt, ld); }                               \
  void dlt_##p##potrf_(const char *u, const L *n, void *a, const L *lda, L *info, size_t lu) {  \
    p##potrf_(u, n, a, lda, info, lu); }                                                        \
  void dlt_##p##potrs_(const char *u, const L *n, const L *k, const void *a, const L *lda,      \
                       void *b, const L *ldb, L *info, size_t lu) {                             \
    p##potrs_(u, n, k, a, lda, b, ldb, info, lu); }                                             \
  void dlt_##p##posv_(const char *u, const L *n, const L *k, void *a, const L *lda, void *b,    \
                      const L *ldb, L *info, size_t lu) {                                       \
    p##posv_(u, n, k, a, lda, b, ldb, info, lu); }
#define ALPHA_0(R) R alpha
#define ALPHA_1(R) const void *alpha
#include <stddef.h>
DL_PRECISIONS(WRAP)
"""


def build_wrappers(workdir) -> ctypes.CDLL:
    """The wrappers built with the system C compiler against the installed difflapack; liblapacke
    is made global first, so that the interposed NaN check follows LAPACKE_set_nancheck."""
    import difflapack
    lo.lib("lapacke")
    ctypes.CDLL(lo.LAPACKE_LIB, mode=ctypes.RTLD_GLOBAL)
    src, so = os.path.join(workdir, "wrappers.c"), os.path.join(workdir, "libdlt.so")
    with open(src, "w") as f:
        f.write(WRAPPERS)
    libdir = os.path.dirname(difflapack.get_library())
    subprocess.run(["cc", "-std=c99", "-O1", "-shared", "-fPIC", "-Wall", "-Werror", "-I", difflapack.get_include(),
                    src, "-o", so, "-L", libdir, "-ldifflapack", f"-Wl,-rpath,{libdir}"], check=True)
    return ctypes.CDLL(so)


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    return build_wrappers(str(tmp_path_factory.mktemp("capi")))


def both(call, ours, what, **kw):
    """The same call on the real library and through difflapack; every result identical."""
    real = call(**kw)
    mine = call(library=ours, prefix="dlt_", **kw)
    assert_same(real, mine, what)
    assert real.info == mine.info, f"{what}: INFO {real.info} != {mine.info}"
    return mine


LAPACKE_ROUTINES = ["getrf", "getrs", "gesv", "getri", "trtrs", "potrf", "potrs", "posv"]


def getri_work(r, prec, args):
    """getri_work's workspace: a query, too small, n, 64 n (what LAPACKE_?getri uses) or n - 1."""
    n = args["n"]
    lwork = int(r.choice([-1, 0, max(n, 1), max(n, 1) * 64, n - 1]))
    args["lwork"] = lwork
    args["work"] = np.full(max(lwork, 1) + 3, lo.SENTINEL, dtype=lo.DTYPES[prec])


@pytest.mark.parametrize("routine", LAPACKE_ROUTINES)
@pytest.mark.parametrize("prec", PREC)
def test_lapacke_sweep(ours, routine, prec):
    """Valid calls, singular / not positive definite ones, a bad layout, negative sizes, bad
    leading dimensions, bad and lower-case flags, NaNs (with LAPACKE's NaN check on and off), in
    both forms and both layouts (getri_work: with every kind of lwork, the query included)."""
    r = np.random.default_rng(zlib.crc32(f"capi{routine}{prec}".encode()))
    for nancheck in (1, 0):
        with lo.nancheck(nancheck):
            for layout0 in ("R", "C"):
                for variant in VARIANTS:
                    for form in (False, True):
                        layout, args = lapacke_case(routine, prec, layout0, r, variant)
                        if form and routine == "getri":
                            getri_work(r, prec, args)
                        both(lambda **kw: lo.lapacke(routine, prec, layout, work_form=form, **args, **kw), ours,
                             f"{routine} {prec} {layout} {variant} work={form} nancheck={nancheck} {args}")


@pytest.mark.parametrize("routine", ["trsv", "trsm"])
@pytest.mark.parametrize("prec", PREC)
def test_cblas_sweep(ours, routine, prec):
    """Every flag combination at random (ConjNoTrans included), strides, alpha 0, a bad order,
    bad flags, negative sizes and bad leading dimensions, in both orders."""
    r = np.random.default_rng(zlib.crc32(f"capicblas{routine}{prec}".encode()))
    for order in ("R", "C"):
        for variant in ("ok", "ok", "ok", "ok", "order", "flag", "dim", "dim"):
            for _ in range(4):
                o, args = cblas_case(routine, prec, order, r, variant)
                both(lambda **kw: lo.cblas(routine, prec, o, **args, **kw), ours, f"{routine} {prec} {o} {variant} {args}")


@pytest.mark.parametrize("routine", LAPACKE_ROUTINES + ["trsv", "trsm"])
@pytest.mark.parametrize("prec", PREC)
def test_fortran_sweep(ours, routine, prec):
    """The Fortran names: the same (column-major) sweeps; INFO starts at -99, so an INFO the
    library leaves unset (OpenBLAS's ?getrs_ on an argument error) must stay -99."""
    r = np.random.default_rng(zlib.crc32(f"capifortran{routine}{prec}".encode()))
    for variant in ("ok", "ok", "ok", "neg", "lda", "ldb", "flag", "singular", "dim"):
        for _ in range(3):
            if routine in ("trsv", "trsm"):
                if variant not in ("ok", "dim"):
                    continue
                _, args = cblas_case(routine, prec, "C", r, variant)
                call = lambda **kw: lo.fortran(routine, prec, **args, **kw)  # noqa: E731
            else:
                if variant == "dim":
                    continue
                _, args = lapacke_case(routine, prec, "C", r, variant)
                if routine == "getri":
                    getri_work(r, prec, args)
                call = lambda **kw: lo.fortran(routine, prec, info=-99, **args, **kw)  # noqa: E731
            both(call, ours, f"{prec}{routine}_ {variant} {args}")


@pytest.mark.parametrize("prec", PREC)
@pytest.mark.parametrize("layout", ["R", "C"])
def test_gesv_bits_are_gesv_not_getrf_plus_getrs(ours, prec, layout):
    """With more than one OpenBLAS thread, ?gesv_'s factors differ from ?getrf_'s for
    8 <= n < 100 (V16 of the design note): the interposed ?gesv (LAPACKE and Fortran) is ?gesv_
    itself. Also nrhs = 0: OpenBLAS's ?gesv_ does not factor."""
    r = np.random.default_rng(5)
    for n, nrhs in ((40, 1), (70, 3), (9, 0)):
        A, B = general(r, n, prec), rand(r, (n, nrhs), prec)
        a, ao = lo.place(A, layout, n + 1, before=1)
        b, bo = lo.place(B, layout, (nrhs if layout == "R" else n) + 2, before=2) if nrhs else (np.zeros(3, A.dtype), 1)
        ldb = (nrhs if layout == "R" else n) + 2
        both(lambda **kw: lo.lapacke("gesv", prec, layout, n=n, nrhs=nrhs, a=(a, ao), lda=n + 1,
                                     ipiv=np.full(n, -3, I32), b=(b, bo), ldb=ldb, **kw), ours, f"gesv n={n}")
        if layout == "C":
            both(lambda **kw: lo.fortran("gesv", prec, n=n, nrhs=nrhs, a=(a, ao), lda=n + 1, ipiv=np.full(n, -3, I32),
                                         b=(b, bo), ldb=ldb, **kw), ours, f"gesv_ n={n}")


NANCHECK_PROGRAM = r"""
#include <stdio.h>
%(include)s
int main(void) {
    double a[4] = {1, 2, 3, 0.0 / 0.0}, b[2] = {1, 1};
    int ipiv[2] = {-1, -1};
    int ret = LAPACKE_dgesv(LAPACK_COL_MAJOR, 2, 1, a, 2, ipiv, b, 2);
    printf("%%d %%d %%d\n", ret, ipiv[0], ipiv[1]);
    return 0;
}
"""


@pytest.mark.parametrize("env", [None, "0", "1", "abc", "7"])
def test_nancheck_flag_without_liblapacke(env, tmp_path):
    """A program that no longer links liblapacke gets LAPACKE's own default for the NaN check:
    the environment variable LAPACKE_NANCHECK (atoi != 0; unset: on), as the real library."""
    import difflapack
    libdir = os.path.dirname(difflapack.get_library())
    results = []
    for include, link in ((f'#include "difflapack_enzyme.h"\n#include <lapacke.h>', ["-L", libdir, "-ldifflapack",
                                                                                    f"-Wl,-rpath,{libdir}"]),
                          ("#include <lapacke.h>", ["-llapacke"])):
        src, exe = tmp_path / "nan.c", tmp_path / "nan"
        src.write_text(NANCHECK_PROGRAM % dict(include=include))
        subprocess.run(["cc", "-std=c99", "-Wall", "-I", difflapack.get_include(), str(src), "-o", str(exe), *link],
                       check=True)
        needed = subprocess.run(["readelf", "-d", str(exe)], capture_output=True, text=True).stdout
        environment = {k: v for k, v in os.environ.items() if k != "LAPACKE_NANCHECK"}
        if env is not None:
            environment["LAPACKE_NANCHECK"] = env
        out = subprocess.run([str(exe)], capture_output=True, text=True, env=environment, check=True).stdout
        results.append((out, "lapacke" in needed))
    (ours, ours_links_lapacke), (real, _) = results
    assert not ours_links_lapacke and ours == real, (ours, real)
    assert ours.startswith("-4 ") == (env is None or env not in ("0", "abc"))


@pytest.mark.parametrize("layout", ["R", "C"])
def test_getrs_pivots_out_of_range_are_an_argument_error(ours, layout):
    """Where the libraries would follow a pivot out of bounds, difflapack reports it as
    ?GETRS parameter 6 (LAPACKE: -7) and touches nothing."""
    n = 3
    a = np.eye(n).ravel()
    b = np.arange(1.0, 4.0)
    res = lo.lapacke("getrs", "d", layout, trans="N", n=n, nrhs=1, a=a, lda=n, ipiv=np.array([1, 4, 3], I32), b=b,
                     ldb=1 if layout == "R" else n, library=ours, prefix="dlt_")
    assert res.ret == -7 and res.stdout == " ** On entry to DGETRS parameter number  6 had an illegal value\n"
    assert lo.same_bits(res.out["b"], b)
    f = lo.fortran("getrs", "d", trans="N", n=n, nrhs=1, a=a, lda=n, ipiv=np.array([0, 2, 3], I32), b=b, ldb=n,
                   library=ours, prefix="dlt_")
    assert f.info == -6 and lo.same_bits(f.out["b"], b)


def test_conjugated_n_solve_is_not_the_r_solve():
    """Why op(A) = conj(A) keeps the library's 'R' routine for its primal: conj(solve_N(conj b))
    is not bitwise solve_R(b) (here ctrsv, n = 65; the interposed 'R' calls are checked against
    the library by the sweeps above)."""
    r = np.random.default_rng(0)
    n = 65
    A = (r.standard_normal((n, n)) + 1j * r.standard_normal((n, n)) + 3 * np.sqrt(n) * np.eye(n)).astype(np.complex64)
    a = A.ravel(order="F").copy()
    b = (r.standard_normal(n) + 1j * r.standard_normal(n)).astype(np.complex64)
    differ = 0
    for uplo in "UL":
        x_r = lo.fortran("trsv", "c", uplo=uplo, trans="R", diag="N", n=n, a=a, lda=n, x=b, incx=1).out["x"]
        x_n = np.conj(lo.fortran("trsv", "c", uplo=uplo, trans="N", diag="N", n=n, a=a, lda=n, x=np.conj(b),
                                 incx=1).out["x"])
        assert np.allclose(x_r, x_n, rtol=1e-4)
        differ += not lo.same_bits(x_r, x_n)
    assert differ


def test_one_column_complex_solves_stay_inside_the_callers_vector(ours):
    """OpenBLAS 0.3.21's complex ?trsv 'U' 'N' / 'U' 'R' read one element past the vector for
    n > 64, n = 2 mod 4, and so do its one-column ?trtrs_ and, with more than one thread,
    ?getrs_ / ?gesv_ (they run that ?trsv): the interposed routines run those on a padded copy.
    Here every right-hand side ends where a PROT_NONE page begins (2 OpenBLAS threads; the
    real routines fault there), and the results are still the library's bits (computed on
    ordinary buffers)."""
    from _memguard import run_isolated
    out = run_isolated(f"""
        import ctypes
        import numpy as np
        import _lapacke_oracle as lo
        from _memguard import at_page_end
        lo.lib("blas").openblas_set_num_threads(2)
        ours = ctypes.CDLL({ours._name!r})
        n = 66
        r = np.random.default_rng(0)
        I, P, C = ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p
        ref = lambda v: ctypes.byref(I(v))
        for p, dt in (("c", np.complex64), ("z", np.complex128)):
            U = (np.triu(r.standard_normal((n, n)) + 1j * r.standard_normal((n, n))) / n + 2 * np.eye(n)).astype(dt)
            a = U.ravel(order="F").copy()
            b = (r.standard_normal(n) + 1j * r.standard_normal(n)).astype(dt)
            ipiv = np.arange(1, n + 1, dtype=np.int32)

            def run(call):
                x = at_page_end(n * np.dtype(dt).itemsize, dt)
                x[:] = b
                info = I(-99)
                call(P(x.ctypes.data), ctypes.byref(info))
                return x.copy(), info.value

            def same(what, got, want):
                assert lo.same_bits(got[0], want.out[want.vec]), (p, what)
                assert want.info is None or got[1] == want.info, (p, what, got[1], want.info)

            for t in "NR":
                tb = t.encode()
                got = run(lambda x, info: getattr(ours, f"dlt_{{p}}trsv_")(C(b"U"), C(tb), C(b"N"), ref(n), P(a.ctypes.data),
                                                                           ref(n), x, ref(1), 1, 1, 1))
                want = lo.fortran("trsv", p, uplo="U", trans=t, diag="N", n=n, a=a, lda=n, x=b, incx=1); want.vec = "x"
                got = (got[0], None); same("trsv " + t, got, want)
                got = run(lambda x, info: getattr(ours, f"dlt_{{p}}trtrs_")(C(b"U"), C(tb), C(b"N"), ref(n), ref(1),
                                                                            P(a.ctypes.data), ref(n), x, ref(n), info,
                                                                            1, 1, 1))
                want = lo.fortran("trtrs", p, uplo="U", trans=t, diag="N", n=n, nrhs=1, a=a, lda=n, b=b, ldb=n)
                want.vec = "b"; same("trtrs " + t, got, want)
                got = run(lambda x, info: getattr(ours, f"dlt_{{p}}getrs_")(C(tb), ref(n), ref(1), P(a.ctypes.data),
                                                                            ref(n), P(ipiv.ctypes.data), x, ref(n),
                                                                            info, 1))
                want = lo.fortran("getrs", p, trans=t, n=n, nrhs=1, a=a, lda=n, ipiv=ipiv, b=b, ldb=n); want.vec = "b"
                same("getrs " + t, got, want)
            lu, piv = a.copy(), np.zeros(n, np.int32)
            got = run(lambda x, info: getattr(ours, f"dlt_{{p}}gesv_")(ref(n), ref(1), P(lu.ctypes.data), ref(n),
                                                                       P(piv.ctypes.data), x, ref(n), info))
            want = lo.fortran("gesv", p, n=n, nrhs=1, a=a, lda=n, ipiv=np.zeros(n, np.int32), b=b, ldb=n)
            want.vec = "b"; same("gesv", got, want)
            for routine, head, tail in (("trtrs", (I(102), ctypes.c_char(b"U"), ctypes.c_char(b"N"), ctypes.c_char(b"N"),
                                                   I(n), I(1), P(a.ctypes.data), I(n)), ()),
                                        ("getrs", (I(102), ctypes.c_char(b"N"), I(n), I(1), P(a.ctypes.data), I(n),
                                                   P(ipiv.ctypes.data)), ())):
                fn = getattr(ours, f"dlt_LAPACKE_{{p}}{{routine}}")
                got = run(lambda x, info: info._obj.__setattr__("value", fn(*head, x, I(n))))
                kw = dict(trtrs=dict(uplo="U", trans="N", diag="N"), getrs=dict(trans="N", ipiv=ipiv))[routine]
                want = lo.lapacke(routine, p, "C", n=n, nrhs=1, a=a, lda=n, b=b, ldb=n, **kw)
                want.vec, want.info = "b", want.ret
                same("LAPACKE_" + routine, got, want)
            got = run(lambda x, info: getattr(ours, f"dlt_cblas_{{p}}trsv")(101, 122, 113, 131, n, P(a.ctypes.data), n,
                                                                            x, 1))
            want = lo.cblas("trsv", p, "R", uplo="L", trans="C", diag="N", n=n, a=a, lda=n, x=b, incx=1)
            want.vec, want.info = "x", None
            same("cblas_trsv RowMajor Lower ConjTrans", (got[0], None), want)
            print(p, "ok", flush=True)
        print("done")
    """)
    assert out.strip().endswith("done")


@pytest.mark.parametrize("prec", PREC)
def test_getri_bits_follow_lwork(ours, prec):
    """?getri's result depends on lwork for n > 64 (V11): the interposed ?getri_ runs with the
    caller's lwork, LAPACKE_?getri with the 64 n of its workspace query, in both layouts."""
    r = np.random.default_rng(11)
    n = 70
    A = general(r, n, prec)
    f = lo.fortran("getrf", prec, m=n, n=n, a=A.ravel(order="F").copy(), lda=n, ipiv=np.zeros(n, I32))
    lu, ipiv = f.out["a"], f.out["ipiv"]
    for lwork in (n, 64 * n, 200):
        work = np.full(lwork + 2, lo.SENTINEL, dtype=lo.DTYPES[prec])
        both(lambda **kw: lo.fortran("getri", prec, n=n, a=lu, lda=n, ipiv=ipiv, work=work, lwork=lwork, **kw),
             ours, f"getri_ lwork={lwork}")
        for layout in ("R", "C"):
            a, ao = lo.place(lu.reshape((n, n), order="F"), layout, n + 1, before=1)
            both(lambda **kw: lo.lapacke("getri", prec, layout, work_form=True, n=n, a=(a, ao), lda=n + 1, ipiv=ipiv,
                                         work=work, lwork=lwork, **kw), ours, f"getri_work {layout} lwork={lwork}")
    for layout in ("R", "C"):
        a, ao = lo.place(lu.reshape((n, n), order="F"), layout, n + 2, before=3)
        both(lambda **kw: lo.lapacke("getri", prec, layout, n=n, a=(a, ao), lda=n + 2, ipiv=ipiv, **kw), ours,
             f"getri {layout}")


@pytest.mark.parametrize("prec", PREC)
@pytest.mark.parametrize("uplo", ["U", "L", "u", "l"])
def test_row_major_cholesky_copies_only_the_triangle(ours, prec, uplo):
    """Row-major LAPACKE_?potrf / ?posv copy the uplo triangle in and out (po copies), ?potrs
    the factor's triangle in only: the other triangle and the padding, NaN included (which the
    NaN check does not scan either), come back bit for bit; also not positive definite."""
    r = np.random.default_rng(7)
    n, nrhs = 6, 2
    for definite in (True, False):
        S = spd(r, n, prec, uplo=uplo)
        other = np.tril(np.ones((n, n), bool), -1) if uplo in "Uu" else np.triu(np.ones((n, n), bool), 1)
        S[other] = np.nan
        if not definite:
            S[3, 3] = -abs(S[3, 3])
        for form in (False, True):
            a, ao = lo.place(S, "R", n + 2, before=1)
            a[ao + n] = np.nan  # padding
            both(lambda **kw: lo.lapacke("potrf", prec, "R", work_form=form, uplo=uplo, n=n, a=(a, ao), lda=n + 2,
                                         **kw), ours, f"potrf {uplo} {definite} {form}")
            B = rand(r, (n, nrhs), prec)
            b, bo = lo.place(B, "R", nrhs + 1, before=2)
            both(lambda **kw: lo.lapacke("posv", prec, "R", work_form=form, uplo=uplo, n=n, nrhs=nrhs, a=(a, ao),
                                         lda=n + 2, b=(b, bo), ldb=nrhs + 1, **kw), ours, f"posv {uplo} {definite}")
            if definite:
                c = lo.lapacke("potrf", prec, "R", uplo=uplo, n=n, a=(a, ao), lda=n + 2).out["a"]
                both(lambda **kw: lo.lapacke("potrs", prec, "R", work_form=form, uplo=uplo, n=n, nrhs=nrhs, a=(c, ao),
                                             lda=n + 2, b=(b, bo), ldb=nrhs + 1, **kw), ours, f"potrs {uplo}")


@pytest.mark.parametrize("prec", PREC)
def test_zero_diagonal_is_the_librarys_verdict(ours, prec):
    """Whether ?trtrs / ?getri find a zero diagonal entry is OpenBLAS's own test (the ?amin of
    the diagonal, then ?iamin): with a NaN before the zero it reports the NaN's position, where
    reference LAPACK reports the zero (V8). Through the _work forms and the Fortran names (no
    NaN check), the interposed routines report what the library reports."""
    n = 4
    for diag in ([1, np.nan, 0, 2], [np.nan, 0, 1, 2], [1, 2, 0, np.nan], [1, np.nan, 3, 2]):
        T = (np.triu(np.ones((n, n))) + np.diag(np.array(diag) - 1)).astype(lo.DTYPES[prec])
        a = T.ravel(order="F").copy()
        b = np.arange(1.0, 2 * n + 1).astype(lo.DTYPES[prec])
        for uplo in "UL":
            both(lambda **kw: lo.fortran("trtrs", prec, uplo=uplo, trans="N", diag="N", n=n, nrhs=2, a=a, lda=n, b=b,
                                         ldb=n, **kw), ours, f"trtrs_ {diag}")
            both(lambda **kw: lo.lapacke("trtrs", prec, "R", work_form=True, uplo=uplo, trans="T", diag="N", n=n,
                                         nrhs=2, a=a, lda=n, b=b, ldb=2, **kw), ours, f"trtrs_work {diag}")
        work = np.zeros(64 * n, lo.DTYPES[prec])
        both(lambda **kw: lo.fortran("getri", prec, n=n, a=a, lda=n, ipiv=np.arange(1, n + 1, dtype=I32), work=work,
                                     lwork=64 * n, **kw), ours, f"getri_ {diag}")


@pytest.mark.parametrize("prec", PREC)
def test_nan_check_scans_the_triangle(ours, prec):
    """LAPACKE's NaN check of trtrs (tr: the uplo triangle, not a unit diagonal) and of potrf /
    potrs / posv (po: the triangle with its diagonal), with case-insensitive flags; the other
    triangle and the padding are never scanned; a bad flag scans nothing (V4)."""
    nan = np.nan if prec in "sd" else complex(0.0, np.nan)
    M = (np.eye(3) * 4).astype(lo.DTYPES[prec])
    for layout in ("R", "C"):
        for uplo in "ULulx":
            for (i, j) in [(0, 0), (0, 2), (2, 0), (1, 1)]:
                T = M.copy()
                T[i, j] = nan
                a, ao = lo.place(T, layout, 5, before=1)
                a[ao + 3] = nan  # padding
                b = np.ones(3, lo.DTYPES[prec])
                ldb = 1 if layout == "R" else 3
                for diag in "NUnu":
                    both(lambda **kw: lo.lapacke("trtrs", prec, layout, uplo=uplo, trans="N", diag=diag, n=3, nrhs=1,
                                                 a=(a, ao), lda=5, b=b, ldb=ldb, **kw), ours, f"trtrs {uplo}{diag}{i}{j}")
                both(lambda **kw: lo.lapacke("potrf", prec, layout, uplo=uplo, n=3, a=(a, ao), lda=5, **kw), ours,
                     f"potrf {uplo} {i}{j}")
                for routine in ("potrs", "posv"):
                    both(lambda **kw: lo.lapacke(routine, prec, layout, uplo=uplo, n=3, nrhs=1, a=(a, ao), lda=5, b=b,
                                                 ldb=ldb, **kw), ours, f"{routine} {uplo} {i}{j}")
