/* difflapack_enzyme.h -- make the Enzyme AD engine differentiate BLAS/LAPACK calls with
 * difflapack's tangent/adjoint kernels:
 *
 *   ?trsv_ ?trsm_ ?getrf_ ?getrs_ ?gesv_ ?trtrs_ ?getri_ ?potrf_ ?potrs_ ?posv_
 *                                      ? = s, d, c, z  (LP64: int*)
 *   ?trsv_64_ ... ?posv_64_             (ILP64: 64-bit ints, the names Julia calls)
 *   cblas_?trsv cblas_?trsm             (difflapack_enzyme_capi.h)
 *   LAPACKE_?getrf ?getrs ?gesv ?getri ?trtrs ?potrf ?potrs ?posv and their _work forms
 *
 * in forward mode (__enzyme_fwddiff, jax.jvp), combined reverse mode (__enzyme_autodiff) and
 * split reverse mode (jax.grad over an Enzyme-JAX cpp_call), for any subset of active arrays.
 *
 * Usage: #include "difflapack_enzyme.h" (include dir: difflapack.get_include()) in ONE or more
 * translation units and link / load libdifflapack.so (difflapack.enzyme.load() does that for
 * cpp_call). Nothing else changes: call the routines exactly as before, with or without the
 * trailing Fortran hidden string-length arguments, declaring them yourself (before or after
 * this header, const or not, int / long / long long, any pointer type for the arrays: double*,
 * std::complex<double>*, double* holding (re, im) pairs, a struct of two doubles) or not at all.
 * Without Enzyme the calls simply run the primal.
 *
 * Complex data: Enzyme's shadow of a complex array holds the derivatives with respect to the
 * real and the imaginary parts; read as complex numbers that is zbar = dL/dRe z + i dL/dIm z in
 * reverse mode and the complex tangent dz in forward mode: the convention of the kernels.
 *
 * How: each routine name is a function-like macro that dispatches on the argument count to
 * difflapack_enzyme_<routine>_<count>. A user's own prototype of the routine thus becomes a
 * harmless declaration of that name; the extern "C" symbol of that name is defined here (via an
 * asm label, so any pointer types in the user's prototype match at the LLVM level), and in C++
 * a function template of that name serves calls when the user declared nothing. The shim
 * splits the call into kernels whose rules Enzyme accepts in every mode (see enzyme_glue.c):
 *  - an inactive setup call (flags, sizes, pivots by value; validates like BLAS/LAPACK);
 *  - dle_set_matrix(A) / dle_set_scalar(alpha) BEFORE the compute call: their forward rules
 *    record the read-only input's tangent (they fire only when it is active);
 *  - dle_compute(x) on the in/out array: its rules dispatch on the recorded routine;
 *  - dle_bind_matrix(A) / dle_bind_scalar(alpha) AFTER it: the reverse pass runs their rules
 *    just before the compute call's, and it is only there that Enzyme hands over the real
 *    shadow of a read-only input (in split mode, jax.grad, the shadow of a cpp_call input does
 *    not exist yet during the augmented forward pass).
 * trsm's alpha reaches the set/bind calls as the address of the shim's own local copy: the
 * caller's variable is only loaded, and Enzyme carries the local's derivative back to it (a
 * load and a store). Given the caller's address, Enzyme had to give that variable a shadow,
 * i.e. treat it as active; a `one` that is also the beta of Enzyme's own dgemm_ (a blocked LU)
 * then crashed the forward build ("cannot handle blas argument within gemm": Enzyme's forward
 * rule of gemm has no term for an active beta).
 * Each array is also announced to Enzyme's type analysis (__enzyme_double / __enzyme_float /
 * __enzyme_integer), so that a heap buffer whose only users are these calls (filled by memcpy,
 * say) has a known element type. Limitations: docs/enzyme-limitations/README.md.
 * The primal results are the library's own, bit for bit, in every mode: the handlers call the
 * routine the call names (?gesv_ for ?gesv), and argument errors are reported by that routine
 * (docs/design/c_interfaces.md).
 */
#ifndef DIFFLAPACK_ENZYME_H
#define DIFFLAPACK_ENZYME_H

#include "difflapack_table.h"

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

/* ---- kernels in libdifflapack.so (enzyme_glue.c). `prec` is the precision letter 's', 'd',
 * 'c' or 'z'. Integers travel as long long so the LP64 and ILP64 entry points share them.
 * Setup calls validate like BLAS/LAPACK and return 0 when the call may proceed; otherwise the
 * error is reported (LP64: by the library routine itself, which prints its message; ILP64:
 * xerbla) and they return the routine's INFO, -position for trsv/trsm, or
 * DLE_INFO_UNWRITTEN when the library leaves INFO unset (OpenBLAS's ?getrs_: the entry points
 * then leave the caller's INFO alone). They are inactive for Enzyme. */
#define DLE_INFO_UNWRITTEN (-2147483647 - 1)
DLE_NOFREE int dle_setup_trsv(int prec, char uplo, char trans, char diag, long long n, long long lda,
                              long long incx, int ilp64);
DLE_NOFREE int dle_setup_trsm(int prec, char side, char uplo, char transa, char diag, long long m,
                              long long n, long long lda, long long ldb, int ilp64);
DLE_NOFREE int dle_setup_getrf(int prec, long long m, long long n, long long lda, int ilp64);
DLE_NOFREE int dle_setup_getrs(int prec, char trans, long long n, long long nrhs, long long lda,
                               const void *ipiv, int ipiv64, long long ldb);
DLE_NOFREE int dle_setup_gesv(int prec, long long n, long long nrhs, long long lda, void *B, long long ldb,
                              int ilp64);
DLE_NOFREE int dle_setup_gesv_solve(void);
DLE_NOFREE int dle_fetch_getrf(void *ipiv, int ipiv64);
/* *info := value (int or 64-bit), unless value is DLE_INFO_UNWRITTEN (the library left INFO as
 * it was). An opaque store: if the caller's info were written by a plain store of the setup
 * call's result, Enzyme could forward that result to a later use of info in floating-point code
 * and then ask for an augmented pass of the setup call to recompute it (measured: "No augmented
 * forward pass found for dle_setup_gesv"). */
DLE_NOFREE void dle_store_info(void *info, int info64, long long value);
DLE_NOFREE int dle_setup_potrf(int prec, char uplo, long long n, long long lda, int ilp64);
DLE_NOFREE int dle_setup_potrs(int prec, char uplo, long long n, long long nrhs, long long lda,
                               long long ldb, int ilp64);
DLE_NOFREE int dle_setup_posv(int prec, char uplo, long long n, long long nrhs, long long lda, void *B,
                              long long ldb, int ilp64);
DLE_NOFREE int dle_setup_posv_solve(void);
DLE_NOFREE int dle_setup_trtrs(int prec, char uplo, char trans, char diag, long long n, long long nrhs,
                               long long lda, long long ldb, int ilp64);
/* also answers ?getri's workspace query (lwork = -1: the library's own answer in work[0]);
 * returns 1: nothing to compute. work NULL: LAPACKE's own workspace of lwork elements. */
DLE_NOFREE int dle_setup_getri(int prec, long long n, long long lda, const void *ipiv, int ipiv64,
                               void *work, long long lwork);
/* LAPACK's info of the last computation (potrf, posv, getri, trtrs) */
DLE_NOFREE int dle_fetch_info(void);
/* bytes copied into reverse-mode tapes so far (diagnostics) */
unsigned long long dle_taped_bytes(void);
/* Type annotations for Enzyme's type analysis (no-ops in libdifflapack for builds without
 * Enzyme; Enzyme removes them). The size must be a constant. */
void __enzyme_double(void *, unsigned long);
void __enzyme_float(void *, unsigned long);
void __enzyme_integer(void *, unsigned long);

/* The kernels with Enzyme rules, one table: (name, parameter type of the primal). Each has a
 * primal dle_<name>(a), a forward rule dle_<name>_fwd(a, da), and an augmented forward and a
 * reverse rule dle_<name>_aug(a, da) -> tape, dle_<name>_rev(a, da, tape); the rules take
 * non-const pointers (one signature for all) and never write a read-only input. */
#define DLE_RULE_KERNELS(X)                                                                      \
    X(set_matrix, const void *) X(set_scalar, const void *) X(bind_matrix, const void *)         \
    X(bind_scalar, const void *) X(compute, void *) X(workspace_out, void *)
#define DLE_DECLARE_KERNEL(name, T)                                                              \
    DLE_NOFREE void dle_##name(T a);                                                             \
    void dle_##name##_fwd(void *a, void *da);                                                    \
    void *dle_##name##_aug(void *a, void *da);                                                   \
    void dle_##name##_rev(void *a, void *da, void *tape);
DLE_RULE_KERNELS(DLE_DECLARE_KERNEL)

#ifdef __cplusplus
}
#endif

#ifndef DIFFLAPACK_ENZYME_GLUE_ONLY

#ifdef __cplusplus
#define DLE_EXTERN_C_BEGIN extern "C" {
#define DLE_EXTERN_C_END }
#else
#define DLE_EXTERN_C_BEGIN
#define DLE_EXTERN_C_END
#endif

/* ---- Enzyme registrations: {primal, forward rule} and {primal, augmented, reverse}. The rules
 * must have bodies in this module (Enzyme crashes on a rule that is a bare declaration), so
 * each is a static forwarder to the library's implementation. The registration globals are
 * weak: several translation units of one program may include this header. */
#define DLE_RULES(kernel, T)                                                                      \
    static void dle_rule_##kernel##_fwd(void *a, void *da) { dle_##kernel##_fwd(a, da); }        \
    static void *dle_rule_##kernel##_aug(void *a, void *da) { return dle_##kernel##_aug(a, da); } \
    static void dle_rule_##kernel##_rev(void *a, void *da, void *tape) {                         \
        dle_##kernel##_rev(a, da, tape);                                                         \
    }                                                                                            \
    DLE_EXTERN_C_BEGIN                                                                           \
    __attribute__((used, weak)) void *__enzyme_register_derivative_difflapack_##kernel[2] = {    \
        (void *)dle_##kernel, (void *)dle_rule_##kernel##_fwd};                                  \
    __attribute__((used, weak)) void *__enzyme_register_gradient_difflapack_##kernel[3] = {      \
        (void *)dle_##kernel, (void *)dle_rule_##kernel##_aug, (void *)dle_rule_##kernel##_rev}; \
    DLE_EXTERN_C_END
DLE_RULE_KERNELS(DLE_RULES)

#define DLE_INACTIVE_KERNELS(X)                                                                  \
    X(dle_setup_trsv) X(dle_setup_trsm) X(dle_setup_getrf) X(dle_setup_getrs) X(dle_setup_gesv)  \
    X(dle_setup_gesv_solve) X(dle_fetch_getrf) X(dle_setup_potrf) X(dle_setup_potrs)          \
    X(dle_setup_posv) X(dle_setup_posv_solve) X(dle_setup_trtrs) X(dle_setup_getri)           \
    X(dle_fetch_info) X(dle_store_info)
#define DLE_INACTIVE(fn)                                                                         \
    DLE_EXTERN_C_BEGIN                                                                           \
    __attribute__((used, weak)) void *__enzyme_inactivefn_difflapack_##fn[1] = {(void *)fn};      \
    DLE_EXTERN_C_END
DLE_INACTIVE_KERNELS(DLE_INACTIVE)

/* ---- the shims, written once over 64-bit integer values and instantiated per precision (the
 * element type matters only to the type annotations). Not noinline, no rule of their own:
 * Enzyme differentiates through them into the kernels above. */
#define DLE_ANNOTATE_float(p) __enzyme_float((void *)(p), 4)
#define DLE_ANNOTATE_double(p) __enzyme_double((void *)(p), 8)
#define DLE_ANNOTATE_PIVOTS(p, ipiv64) __enzyme_integer((void *)(p), (ipiv64) ? 8 : 4)

#define DLE_DEFINE_BODIES(p, T, R, is_complex)                                                   \
    static inline long long dle_##p##trsv_body(char uplo, char trans, char diag, long long n,    \
                                               const void *A, long long lda, void *x,            \
                                               long long incx, int ilp64) {                      \
        DLE_ANNOTATE_##R(A);                                                                     \
        DLE_ANNOTATE_##R(x);                                                                     \
        long long rc = dle_setup_trsv(#p[0], uplo, trans, diag, n, lda, incx, ilp64);            \
        if (rc != 0) return rc;                                                                  \
        dle_set_matrix(A);                                                                       \
        dle_compute(x);                                                                          \
        dle_bind_matrix(A);                                                                      \
        return 0;                                                                                \
    }                                                                                            \
    static inline long long dle_##p##trsm_body(char side, char uplo, char transa, char diag,     \
                                               long long m, long long n, const void *alpha,      \
                                               const void *A, long long lda, void *B,            \
                                               long long ldb, int ilp64) {                       \
        DLE_ANNOTATE_##R(A);                                                                     \
        DLE_ANNOTATE_##R(B);                                                                     \
        long long rc = dle_setup_trsm(#p[0], side, uplo, transa, diag, m, n, lda, ldb, ilp64);   \
        if (rc != 0) return rc;                                                                  \
        /* alpha's value in a local: the caller's variable is only loaded (see the top) */        \
        R alpha_local[1 + is_complex];                                                           \
        alpha_local[0] = ((const R *)alpha)[0];                                                  \
        if (is_complex) alpha_local[is_complex] = ((const R *)alpha)[is_complex];                \
        DLE_ANNOTATE_##R(alpha_local);                                                           \
        dle_set_scalar(alpha_local);                                                             \
        dle_set_matrix(A);                                                                       \
        dle_compute(B);                                                                          \
        dle_bind_matrix(A);                                                                      \
        dle_bind_scalar(alpha_local);                                                            \
        return 0;                                                                                \
    }                                                                                            \
    static inline long long dle_##p##getrf_body(long long m, long long n, void *A, long long lda, \
                                                void *ipiv, int ipiv64) {                        \
        DLE_ANNOTATE_##R(A);                                                                     \
        DLE_ANNOTATE_PIVOTS(ipiv, ipiv64);                                                       \
        long long info = dle_setup_getrf(#p[0], m, n, lda, ipiv64);                              \
        if (info != 0) return info;                                                              \
        dle_compute(A);                                                                          \
        return dle_fetch_getrf(ipiv, ipiv64);                                                    \
    }                                                                                            \
    static inline long long dle_##p##getrs_body(char trans, long long n, long long nrhs,         \
                                                const void *LU, long long lda, const void *ipiv, \
                                                int ipiv64, void *B, long long ldb) {            \
        DLE_ANNOTATE_##R(LU);                                                                    \
        DLE_ANNOTATE_PIVOTS(ipiv, ipiv64);                                                       \
        DLE_ANNOTATE_##R(B);                                                                     \
        long long info = dle_setup_getrs(#p[0], trans, n, nrhs, lda, ipiv, ipiv64, ldb);         \
        if (info != 0) return info;                                                              \
        dle_set_matrix(LU);                                                                      \
        dle_compute(B);                                                                          \
        dle_bind_matrix(LU);                                                                     \
        return 0;                                                                                \
    }                                                                                            \
    /* ?gesv: the factorization's compute call runs ?gesv_ itself (it also solves for B, which  \
     * the setup records), so the results are the library's bits; the solve's compute call     \
     * then carries the rules of X = A^{-1} B: its reverse is one transposed solve and a        \
     * rank-nrhs update (plus the getrf adjoint only for a nonzero cotangent of the factors     \
     * left in A), and the tape holds one copy of LU. The solve needs no bind call: the         \
     * factorization's reverse rule receives A's shadow itself. */                             \
    static inline long long dle_##p##gesv_body(long long n, long long nrhs, void *A, long long lda, \
                                               void *ipiv, int ipiv64, void *B, long long ldb) { \
        DLE_ANNOTATE_##R(A);                                                                     \
        DLE_ANNOTATE_PIVOTS(ipiv, ipiv64);                                                       \
        DLE_ANNOTATE_##R(B);                                                                     \
        long long info = dle_setup_gesv(#p[0], n, nrhs, lda, B, ldb, ipiv64);                    \
        if (info != 0) return info;                                                              \
        dle_compute(A);                                                                          \
        info = dle_fetch_getrf(ipiv, ipiv64);                                                    \
        if (info != 0) return info;                                                              \
        dle_setup_gesv_solve();                                                                  \
        dle_set_matrix(A);                                                                       \
        dle_compute(B);                                                                          \
        return 0;                                                                                \
    }                                                                                            \
    static inline long long dle_##p##potrf_body(char uplo, long long n, void *A, long long lda,  \
                                                int ilp64) {                                     \
        DLE_ANNOTATE_##R(A);                                                                     \
        long long info = dle_setup_potrf(#p[0], uplo, n, lda, ilp64);                            \
        if (info != 0) return info;                                                              \
        dle_compute(A);                                                                          \
        return dle_fetch_info();                                                                 \
    }                                                                                            \
    static inline long long dle_##p##potrs_body(char uplo, long long n, long long nrhs,          \
                                                const void *C, long long lda, void *B,           \
                                                long long ldb, int ilp64) {                      \
        DLE_ANNOTATE_##R(C);                                                                     \
        DLE_ANNOTATE_##R(B);                                                                     \
        long long info = dle_setup_potrs(#p[0], uplo, n, nrhs, lda, ldb, ilp64);                 \
        if (info != 0) return info;                                                              \
        dle_set_matrix(C);                                                                       \
        dle_compute(B);                                                                          \
        dle_bind_matrix(C);                                                                      \
        return 0;                                                                                \
    }                                                                                            \
    /* ?posv, linked like ?gesv: the factorization's compute call runs ?posv_ itself (on A and \
     * the B the setup records); the solve's carries the rules of A X = B: its reverse is one    \
     * solve and a rank-2 nrhs update (the potrf adjoint only for a nonzero cotangent of the    \
     * factor left in A). The solve's compute call runs also when A is not positive definite   \
     * (LAPACK then leaves B alone, and B's derivative is the identity). No bind call, as in    \
     * gesv. */                                                                                 \
    static inline long long dle_##p##posv_body(char uplo, long long n, long long nrhs, void *A,  \
                                               long long lda, void *B, long long ldb, int ilp64) { \
        DLE_ANNOTATE_##R(A);                                                                     \
        DLE_ANNOTATE_##R(B);                                                                     \
        long long info = dle_setup_posv(#p[0], uplo, n, nrhs, lda, B, ldb, ilp64);               \
        if (info != 0) return info;                                                              \
        dle_compute(A);                                                                          \
        info = dle_fetch_info();                                                                 \
        dle_setup_posv_solve();                                                                  \
        dle_set_matrix(A);                                                                       \
        dle_compute(B);                                                                          \
        return info;                                                                             \
    }                                                                                         \
    static inline long long dle_##p##trtrs_body(char uplo, char trans, char diag, long long n,   \
                                                long long nrhs, const void *A, long long lda,    \
                                                void *B, long long ldb, int ilp64) {             \
        DLE_ANNOTATE_##R(A);                                                                     \
        DLE_ANNOTATE_##R(B);                                                                     \
        long long info = dle_setup_trtrs(#p[0], uplo, trans, diag, n, nrhs, lda, ldb, ilp64);    \
        if (info != 0) return info;                                                              \
        dle_set_matrix(A);                                                                       \
        dle_compute(B);                                                                          \
        dle_bind_matrix(A);                                                                      \
        return dle_fetch_info();                                                                 \
    }                                                                                            \
    /* ?getri: the work array is the caller's scratch (and the query's answer), never an input  \
     * of the computation (the library's ?getri_ runs with it and lwork: its bits depend on     \
     * lwork); what the library writes there gets a zero derivative (dle_workspace_out). The    \
     * reverse pass chains getri's adjoint into a linked ?getrf's (dle_factor_tape). */         \
    static inline long long dle_##p##getri_body(long long n, void *A, long long lda,             \
                                                const void *ipiv, int ipiv64, void *work,        \
                                                long long lwork) {                               \
        DLE_ANNOTATE_##R(A);                                                                     \
        DLE_ANNOTATE_PIVOTS(ipiv, ipiv64);                                                       \
        long long rc = dle_setup_getri(#p[0], n, lda, ipiv, ipiv64, work, lwork);                \
        if (rc == 0) dle_compute(A);                                                             \
        if (work) { /* what the library wrote in work (work[0]: lwork) has no derivative */      \
            DLE_ANNOTATE_##R(work);                                                              \
            dle_workspace_out(work);                                                             \
        }                                                                                        \
        if (rc != 0) return rc < 0 ? rc : 0;                                                     \
        return dle_fetch_info();                                                                 \
    }
DL_PRECISIONS(DLE_DEFINE_BODIES)

/* ---- entry points: extern "C" symbols difflapack_enzyme_<routine>_<argument count>.
 * DLE_ENTRY declares the C-level name dle_entry_<...> bound to that symbol; a user prototype
 * of the symbol's own name (what the routine macro turns their declaration into) is then a
 * separate declaration of the same LLVM function, whatever pointer types it spells. */
#ifdef __cplusplus
/* A call through an entry's template makes the compiler emit that entry point. A user's own
 * prototype (or <lapacke.h>) declared after this header declares the entry's symbol itself;
 * clang then still emits the inline definition, as it keys deferred definitions by symbol name,
 * but GCC does not: there every entry point is forced out (`used`), which costs clang 2-4 s
 * per build for the ~400 entry points (measured under enzyme-ad's clang), hence not with clang.
 * -DDIFFLAPACK_ENZYME_EMIT_ALL_ENTRIES forces them out with clang too. */
#if defined(__clang__) && !defined(DIFFLAPACK_ENZYME_EMIT_ALL_ENTRIES)
#define DLE_LINKAGE extern "C" inline
#else
#define DLE_LINKAGE extern "C" inline __attribute__((used))
#endif
#else
#define DLE_LINKAGE __attribute__((used, weak))
#endif
#define DLE_ENTRY_RETURNING(type, name, params)                                                   \
    DLE_LINKAGE type dle_entry_##name params __asm__("difflapack_enzyme_" #name);               \
    DLE_LINKAGE type dle_entry_##name params
#define DLE_ENTRY(name, params) DLE_ENTRY_RETURNING(void, name, params)

#define DLE_CHAR const char *
#define DLE_LEN __attribute__((unused)) unsigned long /* Fortran hidden string length (flags are 1 character) */

/* One precision p, one integer type INT, symbol suffix SFX ("" or _64). Arrays are void*: the
 * caller may hold them as any pointer type. */
#define DLE_DEFINE_ENTRIES(p, INT, SFX, IPIV64)                                                  \
    DLE_ENTRY(p##trsv##SFX##_8, (DLE_CHAR uplo, DLE_CHAR trans, DLE_CHAR diag, const INT *n,     \
                                 const void *A, const INT *lda, void *x, const INT *incx)) {     \
        (void)dle_##p##trsv_body(*uplo, *trans, *diag, *n, A, *lda, x, *incx, IPIV64);          \
    }                                                                                            \
    DLE_ENTRY(p##trsv##SFX##_11, (DLE_CHAR uplo, DLE_CHAR trans, DLE_CHAR diag, const INT *n,    \
                                  const void *A, const INT *lda, void *x, const INT *incx,       \
                                  DLE_LEN l1, DLE_LEN l2, DLE_LEN l3)) {                         \
        (void)dle_##p##trsv_body(*uplo, *trans, *diag, *n, A, *lda, x, *incx, IPIV64);          \
    }                                                                                            \
    DLE_ENTRY(p##trsm##SFX##_11, (DLE_CHAR side, DLE_CHAR uplo, DLE_CHAR transa, DLE_CHAR diag,  \
                                  const INT *m, const INT *n, const void *alpha, const void *A,  \
                                  const INT *lda, void *B, const INT *ldb)) {                    \
        (void)dle_##p##trsm_body(*side, *uplo, *transa, *diag, *m, *n, alpha, A, *lda, B, *ldb, \
                                 IPIV64);                                                        \
    }                                                                                            \
    DLE_ENTRY(p##trsm##SFX##_15, (DLE_CHAR side, DLE_CHAR uplo, DLE_CHAR transa, DLE_CHAR diag,  \
                                  const INT *m, const INT *n, const void *alpha, const void *A,  \
                                  const INT *lda, void *B, const INT *ldb, DLE_LEN l1,           \
                                  DLE_LEN l2, DLE_LEN l3, DLE_LEN l4)) {                         \
        (void)dle_##p##trsm_body(*side, *uplo, *transa, *diag, *m, *n, alpha, A, *lda, B, *ldb, \
                                 IPIV64);                                                        \
    }                                                                                            \
    DLE_ENTRY(p##getrf##SFX##_6, (const INT *m, const INT *n, void *A, const INT *lda,           \
                                  INT *ipiv, INT *info)) {                                       \
        dle_store_info(info, IPIV64, dle_##p##getrf_body(*m, *n, A, *lda, ipiv, IPIV64));            \
    }                                                                                            \
    DLE_ENTRY(p##getrs##SFX##_9, (DLE_CHAR trans, const INT *n, const INT *nrhs, const void *A,  \
                                  const INT *lda, const INT *ipiv, void *B, const INT *ldb,      \
                                  INT *info)) {                                                  \
        dle_store_info(info, IPIV64, dle_##p##getrs_body(*trans, *n, *nrhs, A, *lda, ipiv, IPIV64, B, *ldb)); \
    }                                                                                            \
    DLE_ENTRY(p##getrs##SFX##_10, (DLE_CHAR trans, const INT *n, const INT *nrhs, const void *A, \
                                   const INT *lda, const INT *ipiv, void *B, const INT *ldb,     \
                                   INT *info, DLE_LEN l1)) {                                     \
        dle_store_info(info, IPIV64, dle_##p##getrs_body(*trans, *n, *nrhs, A, *lda, ipiv, IPIV64, B, *ldb)); \
    }                                                                                            \
    DLE_ENTRY(p##gesv##SFX##_8, (const INT *n, const INT *nrhs, void *A, const INT *lda,         \
                                 INT *ipiv, void *B, const INT *ldb, INT *info)) {               \
        dle_store_info(info, IPIV64, dle_##p##gesv_body(*n, *nrhs, A, *lda, ipiv, IPIV64, B, *ldb)); \
    }                                                                                            \
    DLE_ENTRY(p##potrf##SFX##_5, (DLE_CHAR uplo, const INT *n, void *A, const INT *lda,          \
                                  INT *info)) {                                                  \
        dle_store_info(info, IPIV64, dle_##p##potrf_body(*uplo, *n, A, *lda, IPIV64));               \
    }                                                                                            \
    DLE_ENTRY(p##potrf##SFX##_6, (DLE_CHAR uplo, const INT *n, void *A, const INT *lda,          \
                                  INT *info, DLE_LEN l1)) {                                      \
        dle_store_info(info, IPIV64, dle_##p##potrf_body(*uplo, *n, A, *lda, IPIV64));               \
    }                                                                                            \
    DLE_ENTRY(p##potrs##SFX##_8, (DLE_CHAR uplo, const INT *n, const INT *nrhs, const void *A,   \
                                  const INT *lda, void *B, const INT *ldb, INT *info)) {         \
        dle_store_info(info, IPIV64, dle_##p##potrs_body(*uplo, *n, *nrhs, A, *lda, B, *ldb, IPIV64)); \
    }                                                                                            \
    DLE_ENTRY(p##potrs##SFX##_9, (DLE_CHAR uplo, const INT *n, const INT *nrhs, const void *A,   \
                                  const INT *lda, void *B, const INT *ldb, INT *info,            \
                                  DLE_LEN l1)) {                                                 \
        dle_store_info(info, IPIV64, dle_##p##potrs_body(*uplo, *n, *nrhs, A, *lda, B, *ldb, IPIV64)); \
    }                                                                                            \
    DLE_ENTRY(p##posv##SFX##_8, (DLE_CHAR uplo, const INT *n, const INT *nrhs, void *A,          \
                                 const INT *lda, void *B, const INT *ldb, INT *info)) {          \
        dle_store_info(info, IPIV64, dle_##p##posv_body(*uplo, *n, *nrhs, A, *lda, B, *ldb, IPIV64)); \
    }                                                                                            \
    DLE_ENTRY(p##posv##SFX##_9, (DLE_CHAR uplo, const INT *n, const INT *nrhs, void *A,          \
                                 const INT *lda, void *B, const INT *ldb, INT *info,             \
                                 DLE_LEN l1)) {                                                  \
        dle_store_info(info, IPIV64, dle_##p##posv_body(*uplo, *n, *nrhs, A, *lda, B, *ldb, IPIV64)); \
    }                                                                                         \
    DLE_ENTRY(p##trtrs##SFX##_10, (DLE_CHAR uplo, DLE_CHAR trans, DLE_CHAR diag, const INT *n,   \
                                   const INT *nrhs, const void *A, const INT *lda, void *B,      \
                                   const INT *ldb, INT *info)) {                                 \
        dle_store_info(info, IPIV64, dle_##p##trtrs_body(*uplo, *trans, *diag, *n, *nrhs, A, *lda, B, *ldb, IPIV64)); \
    }                                                                                            \
    DLE_ENTRY(p##trtrs##SFX##_13, (DLE_CHAR uplo, DLE_CHAR trans, DLE_CHAR diag, const INT *n,   \
                                   const INT *nrhs, const void *A, const INT *lda, void *B,      \
                                   const INT *ldb, INT *info, DLE_LEN l1, DLE_LEN l2,            \
                                   DLE_LEN l3)) {                                                \
        dle_store_info(info, IPIV64, dle_##p##trtrs_body(*uplo, *trans, *diag, *n, *nrhs, A, *lda, B, *ldb, IPIV64)); \
    }                                                                                            \
    DLE_ENTRY(p##getri##SFX##_7, (const INT *n, void *A, const INT *lda, const INT *ipiv,        \
                                  void *work, const INT *lwork, INT *info)) {                    \
        dle_store_info(info, IPIV64, dle_##p##getri_body(*n, A, *lda, ipiv, IPIV64, work, *lwork));  \
    }

#define DLE_DEFINE_PRECISION_ENTRIES(p, T, R, is_complex)                                        \
    DLE_DEFINE_ENTRIES(p, int, , 0) DLE_DEFINE_ENTRIES(p, long long, _64, 1)
DL_PRECISIONS(DLE_DEFINE_PRECISION_ENTRIES)

/* ---- the names user code calls. In C++, a function template per entry point makes the call
 * compile when the user declared nothing (a user's own extern "C" prototype of the entry name
 * is a distinct, non-template overload that reaches the same symbol). In C, an unprototyped
 * declaration is compatible with any later user prototype. */

/* Every entry point, (precision, routine, symbol suffix, argument count): the table the C++
 * templates and the C declarations below are generated from (DLE_DEFINE_ENTRIES defines the
 * same set; tests/test_enzyme_header.py checks that the routine macros below match it). */
#define DLE_ENTRY_POINTS(X, p, SFX)                                                              \
    X(p, trsv, SFX, 8) X(p, trsv, SFX, 11) X(p, trsm, SFX, 11) X(p, trsm, SFX, 15)               \
    X(p, getrf, SFX, 6) X(p, getrs, SFX, 9) X(p, getrs, SFX, 10) X(p, gesv, SFX, 8)              \
    X(p, potrf, SFX, 5) X(p, potrf, SFX, 6) X(p, potrs, SFX, 8) X(p, potrs, SFX, 9)              \
    X(p, posv, SFX, 8) X(p, posv, SFX, 9) X(p, trtrs, SFX, 10) X(p, trtrs, SFX, 13)            \
    X(p, getri, SFX, 7)

#define DLE_NARGS(...) DLE_NARGS_(__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define DLE_NARGS_(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, N, ...) N
#define DLE_CAT(a, b) DLE_CAT_(a, b)
#define DLE_CAT_(a, b) a##b
#define DLE_DISPATCH(name, ...) DLE_CAT(difflapack_enzyme_##name##_, DLE_NARGS(__VA_ARGS__))(__VA_ARGS__)

#ifdef __cplusplus
/* reinterpret each argument as the entry point's parameter (int / 64-bit integer pointers of
 * any spelling, const or not, string literals, array element pointers of any type, size_t or
 * int hidden lengths) */
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
#define DLE_TEMPLATE(p, name, SFX, count)                                                        \
    template <class... T> inline void difflapack_enzyme_##p##name##SFX##_##count(T... a) {       \
        dle_entry_##p##name##SFX##_##count(dle_arg(a)...);                                       \
    }
#define DLE_PRECISION_DECLARATIONS(p, T, R, is_complex)                                          \
    DLE_ENTRY_POINTS(DLE_TEMPLATE, p, ) DLE_ENTRY_POINTS(DLE_TEMPLATE, p, _64)
#else
#define DLE_UNPROTOTYPED(p, name, SFX, count) void difflapack_enzyme_##p##name##SFX##_##count();
#define DLE_PRECISION_DECLARATIONS(p, T, R, is_complex)                                          \
    DLE_ENTRY_POINTS(DLE_UNPROTOTYPED, p, ) DLE_ENTRY_POINTS(DLE_UNPROTOTYPED, p, _64)
#endif
DL_PRECISIONS(DLE_PRECISION_DECLARATIONS)

/* The interposed names (the preprocessor cannot generate #defines: this list is checked against
 * DLE_ENTRY_POINTS x DL_PRECISIONS by the test suite). */
#define strsv_(...) DLE_DISPATCH(strsv, __VA_ARGS__)
#define dtrsv_(...) DLE_DISPATCH(dtrsv, __VA_ARGS__)
#define ctrsv_(...) DLE_DISPATCH(ctrsv, __VA_ARGS__)
#define ztrsv_(...) DLE_DISPATCH(ztrsv, __VA_ARGS__)
#define strsm_(...) DLE_DISPATCH(strsm, __VA_ARGS__)
#define dtrsm_(...) DLE_DISPATCH(dtrsm, __VA_ARGS__)
#define ctrsm_(...) DLE_DISPATCH(ctrsm, __VA_ARGS__)
#define ztrsm_(...) DLE_DISPATCH(ztrsm, __VA_ARGS__)
#define sgetrf_(...) DLE_DISPATCH(sgetrf, __VA_ARGS__)
#define dgetrf_(...) DLE_DISPATCH(dgetrf, __VA_ARGS__)
#define cgetrf_(...) DLE_DISPATCH(cgetrf, __VA_ARGS__)
#define zgetrf_(...) DLE_DISPATCH(zgetrf, __VA_ARGS__)
#define sgetrs_(...) DLE_DISPATCH(sgetrs, __VA_ARGS__)
#define dgetrs_(...) DLE_DISPATCH(dgetrs, __VA_ARGS__)
#define cgetrs_(...) DLE_DISPATCH(cgetrs, __VA_ARGS__)
#define zgetrs_(...) DLE_DISPATCH(zgetrs, __VA_ARGS__)
#define sgesv_(...) DLE_DISPATCH(sgesv, __VA_ARGS__)
#define dgesv_(...) DLE_DISPATCH(dgesv, __VA_ARGS__)
#define cgesv_(...) DLE_DISPATCH(cgesv, __VA_ARGS__)
#define zgesv_(...) DLE_DISPATCH(zgesv, __VA_ARGS__)
#define spotrf_(...) DLE_DISPATCH(spotrf, __VA_ARGS__)
#define dpotrf_(...) DLE_DISPATCH(dpotrf, __VA_ARGS__)
#define cpotrf_(...) DLE_DISPATCH(cpotrf, __VA_ARGS__)
#define zpotrf_(...) DLE_DISPATCH(zpotrf, __VA_ARGS__)
#define spotrs_(...) DLE_DISPATCH(spotrs, __VA_ARGS__)
#define dpotrs_(...) DLE_DISPATCH(dpotrs, __VA_ARGS__)
#define cpotrs_(...) DLE_DISPATCH(cpotrs, __VA_ARGS__)
#define zpotrs_(...) DLE_DISPATCH(zpotrs, __VA_ARGS__)
#define sposv_(...) DLE_DISPATCH(sposv, __VA_ARGS__)
#define dposv_(...) DLE_DISPATCH(dposv, __VA_ARGS__)
#define cposv_(...) DLE_DISPATCH(cposv, __VA_ARGS__)
#define zposv_(...) DLE_DISPATCH(zposv, __VA_ARGS__)
#define strsv_64_(...) DLE_DISPATCH(strsv_64, __VA_ARGS__)
#define dtrsv_64_(...) DLE_DISPATCH(dtrsv_64, __VA_ARGS__)
#define ctrsv_64_(...) DLE_DISPATCH(ctrsv_64, __VA_ARGS__)
#define ztrsv_64_(...) DLE_DISPATCH(ztrsv_64, __VA_ARGS__)
#define strsm_64_(...) DLE_DISPATCH(strsm_64, __VA_ARGS__)
#define dtrsm_64_(...) DLE_DISPATCH(dtrsm_64, __VA_ARGS__)
#define ctrsm_64_(...) DLE_DISPATCH(ctrsm_64, __VA_ARGS__)
#define ztrsm_64_(...) DLE_DISPATCH(ztrsm_64, __VA_ARGS__)
#define sgetrf_64_(...) DLE_DISPATCH(sgetrf_64, __VA_ARGS__)
#define dgetrf_64_(...) DLE_DISPATCH(dgetrf_64, __VA_ARGS__)
#define cgetrf_64_(...) DLE_DISPATCH(cgetrf_64, __VA_ARGS__)
#define zgetrf_64_(...) DLE_DISPATCH(zgetrf_64, __VA_ARGS__)
#define sgetrs_64_(...) DLE_DISPATCH(sgetrs_64, __VA_ARGS__)
#define dgetrs_64_(...) DLE_DISPATCH(dgetrs_64, __VA_ARGS__)
#define cgetrs_64_(...) DLE_DISPATCH(cgetrs_64, __VA_ARGS__)
#define zgetrs_64_(...) DLE_DISPATCH(zgetrs_64, __VA_ARGS__)
#define sgesv_64_(...) DLE_DISPATCH(sgesv_64, __VA_ARGS__)
#define dgesv_64_(...) DLE_DISPATCH(dgesv_64, __VA_ARGS__)
#define cgesv_64_(...) DLE_DISPATCH(cgesv_64, __VA_ARGS__)
#define zgesv_64_(...) DLE_DISPATCH(zgesv_64, __VA_ARGS__)
#define spotrf_64_(...) DLE_DISPATCH(spotrf_64, __VA_ARGS__)
#define dpotrf_64_(...) DLE_DISPATCH(dpotrf_64, __VA_ARGS__)
#define cpotrf_64_(...) DLE_DISPATCH(cpotrf_64, __VA_ARGS__)
#define zpotrf_64_(...) DLE_DISPATCH(zpotrf_64, __VA_ARGS__)
#define spotrs_64_(...) DLE_DISPATCH(spotrs_64, __VA_ARGS__)
#define dpotrs_64_(...) DLE_DISPATCH(dpotrs_64, __VA_ARGS__)
#define cpotrs_64_(...) DLE_DISPATCH(cpotrs_64, __VA_ARGS__)
#define zpotrs_64_(...) DLE_DISPATCH(zpotrs_64, __VA_ARGS__)
#define sposv_64_(...) DLE_DISPATCH(sposv_64, __VA_ARGS__)
#define dposv_64_(...) DLE_DISPATCH(dposv_64, __VA_ARGS__)
#define cposv_64_(...) DLE_DISPATCH(cposv_64, __VA_ARGS__)
#define zposv_64_(...) DLE_DISPATCH(zposv_64, __VA_ARGS__)
#define strtrs_(...) DLE_DISPATCH(strtrs, __VA_ARGS__)
#define dtrtrs_(...) DLE_DISPATCH(dtrtrs, __VA_ARGS__)
#define ctrtrs_(...) DLE_DISPATCH(ctrtrs, __VA_ARGS__)
#define ztrtrs_(...) DLE_DISPATCH(ztrtrs, __VA_ARGS__)
#define sgetri_(...) DLE_DISPATCH(sgetri, __VA_ARGS__)
#define dgetri_(...) DLE_DISPATCH(dgetri, __VA_ARGS__)
#define cgetri_(...) DLE_DISPATCH(cgetri, __VA_ARGS__)
#define zgetri_(...) DLE_DISPATCH(zgetri, __VA_ARGS__)
#define strtrs_64_(...) DLE_DISPATCH(strtrs_64, __VA_ARGS__)
#define dtrtrs_64_(...) DLE_DISPATCH(dtrtrs_64, __VA_ARGS__)
#define ctrtrs_64_(...) DLE_DISPATCH(ctrtrs_64, __VA_ARGS__)
#define ztrtrs_64_(...) DLE_DISPATCH(ztrtrs_64, __VA_ARGS__)
#define sgetri_64_(...) DLE_DISPATCH(sgetri_64, __VA_ARGS__)
#define dgetri_64_(...) DLE_DISPATCH(dgetri_64, __VA_ARGS__)
#define cgetri_64_(...) DLE_DISPATCH(cgetri_64, __VA_ARGS__)
#define zgetri_64_(...) DLE_DISPATCH(zgetri_64, __VA_ARGS__)

#endif /* DIFFLAPACK_ENZYME_GLUE_ONLY */

/* cblas_?trsv, cblas_?trsm, LAPACKE_?getrf / getrs / gesv (+ _work) */
#include "difflapack_enzyme_capi.h"

#endif /* DIFFLAPACK_ENZYME_H */
