/* difflapack_enzyme.h -- make the Enzyme AD engine differentiate BLAS/LAPACK calls
 * dtrsv_, dtrsm_, dgetrf_, dgetrs_, dgesv_ (LP64, int*) and dtrsv_64_ ... dgesv_64_ (ILP64,
 * 64-bit integers, the names Julia calls) with difflapack's tangent/adjoint kernels, in forward
 * mode (__enzyme_fwddiff, jax.jvp), combined reverse mode (__enzyme_autodiff) and split
 * reverse mode (jax.grad over an Enzyme-JAX cpp_call), for any subset of active arrays.
 *
 * Usage: #include "difflapack_enzyme.h" (include dir: difflapack.get_include()) and link /
 * load libdifflapack.so (difflapack.enzyme.load() does that for cpp_call). Nothing else
 * changes: call the routines exactly as before, with or without the trailing Fortran hidden
 * string-length arguments, declaring them yourself (before or after this header, const or
 * not, int / long / long long) or not at all. Without Enzyme the calls simply run the primal.
 *
 * How: each routine name is a function-like macro that dispatches on the argument count to
 * difflapack_enzyme_<routine>_<count>. A user's own prototype of the routine thus becomes a
 * harmless declaration of that name; the extern "C" symbol of that name is defined here (via an
 * asm label, so any pointer types in the user's prototype match at the LLVM level), and in C++
 * a function template of that name serves calls when the user declared nothing. The shim
 * splits the call into kernels whose rules Enzyme accepts in every mode (see enzyme_glue.c):
 * an inactive setup call, one-argument "set" calls for the read-only double inputs, and a
 * compute call on the in/out array. Limitations: docs/enzyme-limitations/README.md.
 */
#ifndef DIFFLAPACK_ENZYME_H
#define DIFFLAPACK_ENZYME_H

#if defined(__has_attribute)
#if __has_attribute(enzyme_nofree)
#define DLE_NOFREE __attribute__((enzyme_nofree))
#endif
#endif
#ifndef DLE_NOFREE
#define DLE_NOFREE
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- kernels in libdifflapack.so (enzyme_glue.c). Integers travel as long long so the
 * LP64 and ILP64 entry points share them. Setup calls validate like BLAS/LAPACK (xerbla,
 * return -position) and return 0 when the call may proceed. */
DLE_NOFREE int dle_setup_trsv(char uplo, char trans, char diag, long long n, long long lda, long long incx);
DLE_NOFREE int dle_setup_trsm(char side, char uplo, char transa, char diag, long long m, long long n,
                   long long lda, long long ldb);
DLE_NOFREE int dle_setup_getrf(long long m, long long n, long long lda);
DLE_NOFREE int dle_setup_getrs(char trans, long long n, long long nrhs, long long lda, const void *ipiv,
                    int ipiv64, long long ldb);
DLE_NOFREE int dle_check_gesv(long long n, long long nrhs, long long lda, long long ldb);
DLE_NOFREE int dle_setup_gesv_solve(long long n, long long nrhs, long long lda, long long ldb);
DLE_NOFREE int dle_fetch_getrf(void *ipiv, int ipiv64);
/* bytes copied into reverse-mode tapes so far (diagnostics) */
unsigned long long dle_taped_bytes(void);

/* The kernels with Enzyme rules, one table: (name, parameter type of the primal). Each has a
 * primal dle_<name>(a), a forward rule dle_<name>_fwd(a, da), and an augmented forward and a
 * reverse rule dle_<name>_aug(a, da) -> tape, dle_<name>_rev(a, da, tape); the rules take
 * non-const pointers (one signature for all) and never write a read-only input.
 * set_matrix / set_alpha record a read-only input and its shadow (their rules fire only when
 * it is active); the others compute on the in/out array. gesv_factor / gesv_solve are
 * dgesv's own factorization and solve: their primal and forward rules are getrf's and getrs',
 * but the augmented factorization tapes LU and pivots once and links its tape to the solve
 * that follows, whose reverse is then done by the factorization's as one dl_dgesv_rev. */
#define DLE_RULE_KERNELS(X)                                                                      \
    X(set_matrix, const double *) X(set_alpha, const double *) X(trsv, double *)                \
    X(trsm, double *) X(getrf, double *) X(getrs, double *) X(gesv_factor, double *)            \
    X(gesv_solve, double *)
#define DLE_DECLARE_KERNEL(name, T)                                                              \
    DLE_NOFREE void dle_##name(T a);                                                             \
    void dle_##name##_fwd(double *a, double *da);                                                \
    void *dle_##name##_aug(double *a, double *da);                                               \
    void dle_##name##_rev(double *a, double *da, void *tape);
DLE_RULE_KERNELS(DLE_DECLARE_KERNEL)

#ifdef __cplusplus
}
#endif

#ifndef DIFFLAPACK_ENZYME_GLUE_ONLY

/* ---- Enzyme registrations: {primal, forward rule} and {primal, augmented, reverse}. The rules
 * must have bodies in this module (Enzyme crashes on a rule that is a bare declaration), so
 * each is a static forwarder to the library's implementation. */
#define DLE_RULES(kernel, T)                                                                      \
    static void dle_rule_##kernel##_fwd(double *a, double *da) { dle_##kernel##_fwd(a, da); }    \
    static void *dle_rule_##kernel##_aug(double *a, double *da) { return dle_##kernel##_aug(a, da); } \
    static void dle_rule_##kernel##_rev(double *a, double *da, void *tape) {                     \
        dle_##kernel##_rev(a, da, tape);                                                         \
    }                                                                                            \
    DLE_EXTERN_C_BEGIN                                                                           \
    __attribute__((used)) void *__enzyme_register_derivative_difflapack_##kernel[2] = {          \
        (void *)dle_##kernel, (void *)dle_rule_##kernel##_fwd};                                  \
    __attribute__((used)) void *__enzyme_register_gradient_difflapack_##kernel[3] = {            \
        (void *)dle_##kernel, (void *)dle_rule_##kernel##_aug, (void *)dle_rule_##kernel##_rev}; \
    DLE_EXTERN_C_END
#define DLE_INACTIVE(fn)                                                                         \
    DLE_EXTERN_C_BEGIN __attribute__((used)) void *__enzyme_inactivefn_difflapack_##fn[1] = {(void *)fn}; DLE_EXTERN_C_END
#ifdef __cplusplus
#define DLE_EXTERN_C_BEGIN extern "C" {
#define DLE_EXTERN_C_END }
#else
#define DLE_EXTERN_C_BEGIN
#define DLE_EXTERN_C_END
#endif

DLE_RULE_KERNELS(DLE_RULES)
DLE_INACTIVE(dle_setup_trsv)
DLE_INACTIVE(dle_setup_trsm)
DLE_INACTIVE(dle_setup_getrf)
DLE_INACTIVE(dle_setup_getrs)
DLE_INACTIVE(dle_check_gesv)
DLE_INACTIVE(dle_setup_gesv_solve)
DLE_INACTIVE(dle_fetch_getrf)

/* ---- the shims, written once over 64-bit integer values. Not noinline, no rule of their own:
 * Enzyme differentiates through them into the kernels above. */
static inline void dle_dtrsv_body(char uplo, char trans, char diag, long long n, const double *A,
                                  long long lda, double *x, long long incx) {
    if (dle_setup_trsv(uplo, trans, diag, n, lda, incx) != 0) return;
    dle_set_matrix(A);
    dle_trsv(x);
}

static inline void dle_dtrsm_body(char side, char uplo, char transa, char diag, long long m,
                                  long long n, const double *alpha, const double *A, long long lda,
                                  double *B, long long ldb) {
    if (dle_setup_trsm(side, uplo, transa, diag, m, n, lda, ldb) != 0) return;
    dle_set_alpha(alpha);
    dle_set_matrix(A);
    dle_trsm(B);
}

static inline long long dle_dgetrf_body(long long m, long long n, double *A, long long lda,
                                        void *ipiv, int ipiv64) {
    long long info = dle_setup_getrf(m, n, lda);
    if (info != 0) return info;
    dle_getrf(A);
    return dle_fetch_getrf(ipiv, ipiv64);
}

static inline long long dle_dgetrs_body(char trans, long long n, long long nrhs, const double *LU,
                                        long long lda, const void *ipiv, int ipiv64, double *B,
                                        long long ldb) {
    long long info = dle_setup_getrs(trans, n, nrhs, lda, ipiv, ipiv64, ldb);
    if (info != 0) return info;
    dle_set_matrix(LU);
    dle_getrs(B);
    return 0;
}

/* dgesv is dgetrf followed by dgetrs('N'), exactly as LAPACK computes it, but through
 * gesv's own kernels: their reverse is that of A X = B (one transposed solve and a rank-nrhs
 * update; the getrf adjoint only for a nonzero cotangent of the factors left in A) instead of
 * getrs' adjoint chained into the full getrf adjoint, and the tape holds one copy of LU. */
static inline long long dle_dgesv_body(long long n, long long nrhs, double *A, long long lda,
                                       void *ipiv, int ipiv64, double *B, long long ldb) {
    long long info = dle_check_gesv(n, nrhs, lda, ldb);
    if (info != 0) return info;
    info = dle_setup_getrf(n, n, lda);
    if (info != 0) return info;
    dle_gesv_factor(A);
    info = dle_fetch_getrf(ipiv, ipiv64);
    if (info != 0) return info;
    dle_setup_gesv_solve(n, nrhs, lda, ldb);
    dle_set_matrix(A);
    dle_gesv_solve(B);
    return 0;
}

/* ---- entry points: extern "C" symbols difflapack_enzyme_<routine>_<argument count>.
 * DLE_ENTRY declares the C-level name dle_entry_<...> bound to that symbol; a user prototype
 * of the symbol's own name (what the routine macro turns their declaration into) is then a
 * separate declaration of the same LLVM function, whatever pointer types it spells. */
#ifdef __cplusplus
#define DLE_LINKAGE extern "C" inline __attribute__((used))
#else
#define DLE_LINKAGE __attribute__((used, weak))
#endif
#define DLE_ENTRY(name, params)                                                                  \
    DLE_LINKAGE void dle_entry_##name params __asm__("difflapack_enzyme_" #name);               \
    DLE_LINKAGE void dle_entry_##name params

#define DLE_CHAR const char *
#define DLE_LEN __attribute__((unused)) unsigned long /* Fortran hidden string length (flags are 1 character) */

#define DLE_DEFINE_ENTRIES(INT, SFX, IPIV64)                                                     \
    DLE_ENTRY(dtrsv##SFX##_8, (DLE_CHAR uplo, DLE_CHAR trans, DLE_CHAR diag, const INT *n,       \
                               const double *A, const INT *lda, double *x, const INT *incx)) {   \
        dle_dtrsv_body(*uplo, *trans, *diag, *n, A, *lda, x, *incx);                            \
    }                                                                                            \
    DLE_ENTRY(dtrsv##SFX##_11, (DLE_CHAR uplo, DLE_CHAR trans, DLE_CHAR diag, const INT *n,      \
                                const double *A, const INT *lda, double *x, const INT *incx,     \
                                DLE_LEN l1, DLE_LEN l2, DLE_LEN l3)) {                           \
        dle_dtrsv_body(*uplo, *trans, *diag, *n, A, *lda, x, *incx);                            \
    }                                                                                            \
    DLE_ENTRY(dtrsm##SFX##_11, (DLE_CHAR side, DLE_CHAR uplo, DLE_CHAR transa, DLE_CHAR diag,    \
                                const INT *m, const INT *n, const double *alpha, const double *A, \
                                const INT *lda, double *B, const INT *ldb)) {                    \
        dle_dtrsm_body(*side, *uplo, *transa, *diag, *m, *n, alpha, A, *lda, B, *ldb);          \
    }                                                                                            \
    DLE_ENTRY(dtrsm##SFX##_15, (DLE_CHAR side, DLE_CHAR uplo, DLE_CHAR transa, DLE_CHAR diag,    \
                                const INT *m, const INT *n, const double *alpha, const double *A, \
                                const INT *lda, double *B, const INT *ldb, DLE_LEN l1,           \
                                DLE_LEN l2, DLE_LEN l3, DLE_LEN l4)) {                           \
        dle_dtrsm_body(*side, *uplo, *transa, *diag, *m, *n, alpha, A, *lda, B, *ldb);          \
    }                                                                                            \
    DLE_ENTRY(dgetrf##SFX##_6, (const INT *m, const INT *n, double *A, const INT *lda, INT *ipiv, \
                                INT *info)) {                                                    \
        *info = (INT)dle_dgetrf_body(*m, *n, A, *lda, ipiv, IPIV64);                            \
    }                                                                                            \
    DLE_ENTRY(dgetrs##SFX##_9, (DLE_CHAR trans, const INT *n, const INT *nrhs, const double *A,  \
                                const INT *lda, const INT *ipiv, double *B, const INT *ldb,      \
                                INT *info)) {                                                    \
        *info = (INT)dle_dgetrs_body(*trans, *n, *nrhs, A, *lda, ipiv, IPIV64, B, *ldb);        \
    }                                                                                            \
    DLE_ENTRY(dgetrs##SFX##_10, (DLE_CHAR trans, const INT *n, const INT *nrhs, const double *A, \
                                 const INT *lda, const INT *ipiv, double *B, const INT *ldb,     \
                                 INT *info, DLE_LEN l1)) {                                       \
        *info = (INT)dle_dgetrs_body(*trans, *n, *nrhs, A, *lda, ipiv, IPIV64, B, *ldb);        \
    }                                                                                            \
    DLE_ENTRY(dgesv##SFX##_8, (const INT *n, const INT *nrhs, double *A, const INT *lda,         \
                               INT *ipiv, double *B, const INT *ldb, INT *info)) {               \
        *info = (INT)dle_dgesv_body(*n, *nrhs, A, *lda, ipiv, IPIV64, B, *ldb);                 \
    }

DLE_DEFINE_ENTRIES(int, , 0)
DLE_DEFINE_ENTRIES(long long, _64, 1)

/* ---- the names user code calls. In C++, a function template per entry point makes the call
 * compile when the user declared nothing (a user's own extern "C" prototype of the entry name
 * is a distinct, non-template overload that reaches the same symbol). In C, an unprototyped
 * declaration is compatible with any later user prototype. */

/* Every entry point, (routine + symbol suffix, argument count): the table the C++ templates and
 * the C declarations below are generated from (DLE_DEFINE_ENTRIES defines the same set). */
#define DLE_ENTRY_POINTS(X, SFX)                                                                 \
    X(dtrsv##SFX, 8) X(dtrsv##SFX, 11) X(dtrsm##SFX, 11) X(dtrsm##SFX, 15) X(dgetrf##SFX, 6)     \
    X(dgetrs##SFX, 9) X(dgetrs##SFX, 10) X(dgesv##SFX, 8)

#define DLE_NARGS(...) DLE_NARGS_(__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define DLE_NARGS_(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, N, ...) N
#define DLE_CAT(a, b) DLE_CAT_(a, b)
#define DLE_CAT_(a, b) a##b
#define DLE_DISPATCH(name, ...) DLE_CAT(difflapack_enzyme_##name##_, DLE_NARGS(__VA_ARGS__))(__VA_ARGS__)

#ifdef __cplusplus
/* reinterpret each argument as the entry point's parameter (int / 64-bit integer pointers of
 * any spelling, const or not, string literals, size_t or int hidden lengths) */
struct dle_arg {
    const void *p;
    unsigned long v;
    template <class T> dle_arg(T *q) : p((const void *)q), v(0) {}
    dle_arg(int x) : p(0), v((unsigned long)x) {}
    dle_arg(unsigned x) : p(0), v(x) {}
    dle_arg(long x) : p(0), v((unsigned long)x) {}
    dle_arg(unsigned long x) : p(0), v(x) {}
    dle_arg(long long x) : p(0), v((unsigned long)x) {}
    dle_arg(unsigned long long x) : p(0), v((unsigned long)x) {}
    template <class T> operator T *() const { return (T *)p; }
    operator unsigned long() const { return v; }
};
#define DLE_TEMPLATE(name, count)                                                                \
    template <class... T> inline void difflapack_enzyme_##name##_##count(T... a) {               \
        dle_entry_##name##_##count(dle_arg(a)...);                                               \
    }
DLE_ENTRY_POINTS(DLE_TEMPLATE, )
DLE_ENTRY_POINTS(DLE_TEMPLATE, _64)
#else
#define DLE_UNPROTOTYPED(name, count) void difflapack_enzyme_##name##_##count();
DLE_ENTRY_POINTS(DLE_UNPROTOTYPED, )
DLE_ENTRY_POINTS(DLE_UNPROTOTYPED, _64)
#endif

#define dtrsv_(...) DLE_DISPATCH(dtrsv, __VA_ARGS__)
#define dtrsm_(...) DLE_DISPATCH(dtrsm, __VA_ARGS__)
#define dgetrf_(...) DLE_DISPATCH(dgetrf, __VA_ARGS__)
#define dgetrs_(...) DLE_DISPATCH(dgetrs, __VA_ARGS__)
#define dgesv_(...) DLE_DISPATCH(dgesv, __VA_ARGS__)
#define dtrsv_64_(...) DLE_DISPATCH(dtrsv_64, __VA_ARGS__)
#define dtrsm_64_(...) DLE_DISPATCH(dtrsm_64, __VA_ARGS__)
#define dgetrf_64_(...) DLE_DISPATCH(dgetrf_64, __VA_ARGS__)
#define dgetrs_64_(...) DLE_DISPATCH(dgetrs_64, __VA_ARGS__)
#define dgesv_64_(...) DLE_DISPATCH(dgesv_64, __VA_ARGS__)

#endif /* DIFFLAPACK_ENZYME_GLUE_ONLY */
#endif /* DIFFLAPACK_ENZYME_H */
