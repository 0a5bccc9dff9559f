"""The same calls differentiated by Enzyme (optional, ``--enzyme``; double precision), through
Enzyme-JAX ``cpp_call`` and :mod:`difflapack.testing`: "rules" calls the Fortran routine with
``difflapack_enzyme.h`` included, so Enzyme uses our kernels; "loops" is a plain loop
implementation that Enzyme differentiates by itself (what it falls back to without rules). n is
baked into the source (one build per n)."""
from __future__ import annotations

_ENZYME_RULES = {
    "trsv": r"""#include "difflapack_enzyme.h"
void bench_trsv(double* x, const double* A, int n) {
  int one = 1;
  dtrsv_("U", "N", "N", &n, A, &n, x, &one);
}""",
    "trsm": r"""#include "difflapack_enzyme.h"
void bench_trsm(double* B, const double* A, int n) {
  double one = 1.0;
  dtrsm_("L", "U", "N", "N", &n, &n, &one, A, &n, B, &n);
}""",
    "getrf": r"""#include "difflapack_enzyme.h"
void bench_getrf(double* A, int n) {
  int info = 0;
  int* ipiv = (int*)__builtin_malloc(sizeof(int) * n);
  dgetrf_(&n, &n, A, &n, ipiv, &info);
  __builtin_free(ipiv);
}""",
    "getrs": r"""#include "difflapack_enzyme.h"
void bench_getrs(double* b, const double* LU, const int* ipiv, int n) {
  int one = 1, info = 0;
  dgetrs_("N", &n, &one, LU, &n, ipiv, b, &n, &info);
}""",
    "gesv": r"""#include "difflapack_enzyme.h"
void bench_gesv(double* x, const double* A, int n) {   /* x := A \ x; A itself is not changed */
  int one = 1, info = 0;
  double* W = (double*)__builtin_malloc(sizeof(double) * n * n);
  int* ipiv = (int*)__builtin_malloc(sizeof(int) * n);
  for (long k = 0; k < (long)n * n; ++k) W[k] = A[k];
  dgesv_(&n, &one, W, &n, ipiv, x, &n, &info);
  __builtin_free(ipiv);
  __builtin_free(W);
}""",
    "inv": r"""#include "difflapack_enzyme.h"
void bench_inv(double* A, int n) {   /* Julia's inv: getrf, getri's workspace query, getri */
  int info = 0, lwork = -1;
  double query = 0;
  int* ipiv = (int*)__builtin_malloc(sizeof(int) * n);
  dgetrf_(&n, &n, A, &n, ipiv, &info);
  dgetri_(&n, A, &n, ipiv, &query, &lwork, &info);
  lwork = (int)query;
  double* work = (double*)__builtin_malloc(sizeof(double) * lwork);
  dgetri_(&n, A, &n, ipiv, work, &lwork, &info);
  __builtin_free(work);
  __builtin_free(ipiv);
}""",
    "potrf": r"""#include "difflapack_enzyme.h"
void bench_potrf(double* A, int n) {
  int info = 0;
  dpotrf_("L", &n, A, &n, &info);
}""",
    "posv": r"""#include "difflapack_enzyme.h"
void bench_posv(double* x, const double* A, int n) {   /* x := A \ x; A itself is not changed */
  int one = 1, info = 0;
  double* W = (double*)__builtin_malloc(sizeof(double) * n * n);
  for (long k = 0; k < (long)n * n; ++k) W[k] = A[k];
  dposv_("L", &n, &one, W, &n, x, &n, &info);
  __builtin_free(W);
}""",
}
_LOOP_LU = r"""
static void loop_getrf(double* A, int* ipiv, int n) {
  for (int k = 0; k < n; ++k) {
    int p = k; double m = __builtin_fabs(A[k + (long)k * n]);
    for (int i = k + 1; i < n; ++i) { double v = __builtin_fabs(A[i + (long)k * n]); if (v > m) { m = v; p = i; } }
    ipiv[k] = p + 1;
    if (p != k) for (int j = 0; j < n; ++j) { double t = A[k + (long)j * n]; A[k + (long)j * n] = A[p + (long)j * n]; A[p + (long)j * n] = t; }
    double inv = 1.0 / A[k + (long)k * n];
    for (int i = k + 1; i < n; ++i) A[i + (long)k * n] *= inv;
    for (int j = k + 1; j < n; ++j) {
      double a = A[k + (long)j * n];
      for (int i = k + 1; i < n; ++i) A[i + (long)j * n] -= A[i + (long)k * n] * a;
    }
  }
}
static void loop_getrs(const double* LU, const int* ipiv, double* b, int n) {
  for (int k = 0; k < n; ++k) { int p = ipiv[k] - 1; double t = b[k]; b[k] = b[p]; b[p] = t; }
  for (int j = 0; j < n; ++j) for (int i = j + 1; i < n; ++i) b[i] -= LU[i + (long)j * n] * b[j];
  for (int j = n - 1; j >= 0; --j) { b[j] /= LU[j + (long)j * n]; for (int i = 0; i < j; ++i) b[i] -= LU[i + (long)j * n] * b[j]; }
}
static void loop_potrf(double* A, int n) {   /* lower Cholesky, in place (left-looking) */
  for (int j = 0; j < n; ++j) {
    double d = A[j + (long)j * n];
    for (int k = 0; k < j; ++k) d -= A[j + (long)k * n] * A[j + (long)k * n];
    d = __builtin_sqrt(d);
    A[j + (long)j * n] = d;
    for (int i = j + 1; i < n; ++i) {
      double s = A[i + (long)j * n];
      for (int k = 0; k < j; ++k) s -= A[i + (long)k * n] * A[j + (long)k * n];
      A[i + (long)j * n] = s / d;
    }
  }
}
static void loop_potrs(const double* L, double* b, int n) {
  for (int j = 0; j < n; ++j) { b[j] /= L[j + (long)j * n]; for (int i = j + 1; i < n; ++i) b[i] -= L[i + (long)j * n] * b[j]; }
  for (int j = n - 1; j >= 0; --j) { for (int i = j + 1; i < n; ++i) b[j] -= L[i + (long)j * n] * b[i]; b[j] /= L[j + (long)j * n]; }
}
static void loop_trsm_upper(const double* A, double* B, int n, int nrhs) {
  for (int c = 0; c < nrhs; ++c) {
    double* b = B + (long)c * n;
    for (int j = n - 1; j >= 0; --j) { b[j] /= A[j + (long)j * n]; for (int i = 0; i < j; ++i) b[i] -= A[i + (long)j * n] * b[j]; }
  }
}
"""
_ENZYME_LOOPS = {
    "trsv": _LOOP_LU + r"""
void bench_trsv(double* x, const double* A, int n) { loop_trsm_upper(A, x, n, 1); }""",
    "trsm": _LOOP_LU + r"""
void bench_trsm(double* B, const double* A, int n) { loop_trsm_upper(A, B, n, n); }""",
    "getrf": _LOOP_LU + r"""
void bench_getrf(double* A, int n) {
  int* ipiv = (int*)__builtin_malloc(sizeof(int) * n);
  loop_getrf(A, ipiv, n);
  __builtin_free(ipiv);
}""",
    "getrs": _LOOP_LU + r"""
void bench_getrs(double* b, const double* LU, const int* ipiv, int n) { loop_getrs(LU, ipiv, b, n); }""",
    "gesv": _LOOP_LU + r"""
void bench_gesv(double* x, const double* A, int n) {
  double* W = (double*)__builtin_malloc(sizeof(double) * n * n);
  int* ipiv = (int*)__builtin_malloc(sizeof(int) * n);
  for (long k = 0; k < (long)n * n; ++k) W[k] = A[k];
  loop_getrf(W, ipiv, n);
  loop_getrs(W, ipiv, x, n);
  __builtin_free(ipiv);
  __builtin_free(W);
}""",
    "inv": _LOOP_LU + r"""
void bench_inv(double* A, int n) {   /* A := A^{-1}: loop LU, then one loop solve per column */
  double* LU = (double*)__builtin_malloc(sizeof(double) * n * n);
  int* ipiv = (int*)__builtin_malloc(sizeof(int) * n);
  for (long k = 0; k < (long)n * n; ++k) LU[k] = A[k];
  loop_getrf(LU, ipiv, n);
  for (int j = 0; j < n; ++j) {
    double* x = A + (long)j * n;
    for (int i = 0; i < n; ++i) x[i] = i == j;
    loop_getrs(LU, ipiv, x, n);
  }
  __builtin_free(ipiv);
  __builtin_free(LU);
}""",
    "potrf": _LOOP_LU + r"""
void bench_potrf(double* A, int n) { loop_potrf(A, n); }""",
    "posv": _LOOP_LU + r"""
void bench_posv(double* x, const double* A, int n) {
  double* W = (double*)__builtin_malloc(sizeof(double) * n * n);
  for (long k = 0; k < (long)n * n; ++k) W[k] = A[k];
  loop_potrf(W, n);
  loop_potrs(W, x, n);
  __builtin_free(W);
}""",
}


def enzyme_times(routine: str, p: dict, variant: str) -> dict:
    """{"primal", "fwd", "rev_full"} seconds per call of one Enzyme build ("rules" or "loops"),
    measured in-process by difflapack.testing (cycle counter loops in the generated code),
    after its derivatives passed the finite-difference checks (forward: __enzyme_fwddiff;
    reverse: __enzyme_autodiff, the combined primal + pullback)."""
    from ..testing import Const, Duplicated, check_rule

    n = p["n"]
    source = (_ENZYME_RULES if variant == "rules" else _ENZYME_LOOPS)[routine]
    D, C = Duplicated, Const
    if routine in ("trsv", "trsm"):
        B = p["B"][:, 0].copy() if routine == "trsv" else p["B"].copy(order="F")
        args, acts, names = [B, p["A"].copy(order="F"), n], [D, D, C], ["B", "A", "n"]
    elif routine in ("getrf", "potrf", "inv"):
        args, acts, names = [p["A"].copy(order="F"), n], [D, C], ["A", "n"]
    elif routine == "getrs":
        args = [p["B"][:, 0].copy(), p["LU"].copy(order="F"), p["ipiv"].copy(), n]
        acts, names = [D, D, C, C], ["b", "LU", "ipiv", "n"]
    else:
        args, acts, names = [p["B"][:, 0].copy(), p["A"].copy(order="F"), n], [D, D, C], ["x", "A", "n"]
    report = check_rule(source, f"bench_{routine}", args, acts, modes=("forward", "reverse"), timing=True,
                        names=names, timing_budget_cycles=200_000_000)
    if not report.ok:
        raise RuntimeError(f"Enzyme {variant}: derivative check failed: {str(report)[:400]}")
    timing = report.patterns[0].timing or {}
    if "error" in timing:
        raise RuntimeError(f"Enzyme {variant}: timing build failed: {timing['error'][:300]}")
    return {"primal": float(timing["primal_seconds"]), "fwd": float(timing["forward_seconds"]),
            "rev_full": float(timing["reverse_seconds"])}


