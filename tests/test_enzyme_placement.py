"""The placement matrix: every routine's BLAS/LAPACK call under Enzyme (trsv trsm getrf getrs gesv
trtrs getri (after the workspace query) inv (getrf + query + getri on one buffer, Julia's inv)
potrf potrs posv, uplo L and U) in every precision (d; s: float data converted from float64
tensors; z as std::complex<double>*, as double* (re, im) pairs and as a user struct of two
doubles; c) with each array argument held where real programs hold it (local stack array, heap
buffer filled by memcpy or by a loop, the cpp_call input tensor itself, the output tensor, an
offset sub-block of a bigger stack/heap buffer; getri's workspace on the stack or sized by the
query), in the four Enzyme modes (combined reverse and forward inside the source, jax.grad's
split reverse, jax.jvp) and activity patterns, against central differences of NumPy/SciPy.

Test ids: [elem:]routine-<slot>.<placement>-...-mode-<active inputs>  (tests/_placement.py lists
the generator's parts; each cell is built and run in its own process).

Which cells run (tests/_placement_design.py):
  * default: a covering design per routine -- every placement in every mode, every placement
    of every slot (also with complex data), every element type (and each in every mode across
    routines), every activity pattern: 173 cells (12 to 24 per routine), plus two jvp cells that
    keep the difflapack cause below live;
  * DIFFLAPACK_FULL_MATRIX=1: the one-factor-at-a-time design (every slot moved alone to every
    placement, every activity pattern on the stack, four all-slots-moved combinations) for
    every routine, element type and mode: 6912 cells.
Plain-loop controls (`ctl-` ids, no difflapack: reference loops Enzyme differentiates itself):
two per routine by default (modes and element types in turn), every routine x mode x element
type in the full matrix, plus one twin per (cause, routine, mode) of the marked cells.
Custom-rule controls (`rules_` ids): the positive control in every mode and the two upstream
proofs under jax.grad (every program in every mode in the full matrix).

Cells that fail against today's code (main at cefcde0) are marked xfail with the cause:
  * "difflapack:" -- the plain-loop CONTROL of the same program passes, so the fault is ours;
  * "upstream:"   -- Enzyme/Enzyme-JAX 0.0.16 itself: the plain-loop control of the same cell
    fails the same way, or (output tensor under jax.grad) so does a minimal program with its own
    custom Enzyme rules and no difflapack (`rules_` ids below). These controls are in this file,
    marked xfail(strict) too, so that the proof stays live.
Cost: every job (cell, control, program) is one Enzyme build in a forked process, ~2 CPU-seconds
(DIFFLAPACK_PLACEMENT_REPORT=file writes each job's seconds). Default, with
tests/test_enzyme_programs.py: 264 jobs, ~590 CPU-seconds; with tests/test_enzyme_wrapper.py
too, 6.6 to 9.2 min on 2 cores shared with other jobs (21 min at load average 10). Full: 7131
jobs here, ~4 CPU-hours (2 s a job), i.e. about 2 hours on 2 idle cores.

Remove a mark when its cause is fixed: strict xfail turns an unexpected pass into a failure
(except for the uninitialised-shadow causes, whose failures depend on the allocator).
"""
import numpy as np
import pytest

pytest.importorskip("enzyme_ad.jax")
pytest.importorskip("scipy")

import _placement as P  # noqa: E402

# ----------------------------------------------------------------------------- causes
DL_UNINIT = ("difflapack: jax.jvp with a CONSTANT read-only array (or trsm's alpha) in a heap buffer filled by an inactive "
             "function -- Enzyme cannot prove the buffer inactive once it reaches difflapack's opaque "
             "set-call, hands the forward rule a shadow it never initialised (forward mode does not zero "
             "a malloc's shadow) and the rule reads garbage as dA. Plain loops never read that shadow: "
             "their control passes")
UP_OUT_GRAD = ("upstream (Enzyme-JAX 0.0.16): an array held in the OUTPUT tensor under jax.grad, written "
               "and then read or modified in place -- the plain-loop control of this cell gives wrong "
               "gradients too (its ctl- twin), and so does a minimal program with its own custom rules "
               "and no difflapack (rules_x_output / rules_A_output)")
UP_OUT_GRAD_RULES = ("upstream (Enzyme-JAX 0.0.16): an array held in the OUTPUT tensor under jax.grad and passed "
                     "to a call with custom Enzyme rules -- the build raises (nanobind: 'exception could not be "
                     "translated' from create_enzyme_kernel). Plain loops happen to survive this placement (the "
                     "array stays constant or is a scalar read once), but a minimal program with its own custom "
                     "rules and no difflapack crashes (rules_A_output) or is wrong (rules_x_output) the same way")
UP_UNINIT = ("upstream (Enzyme 0.0.16 forward mode): jax.jvp with a CONSTANT array written by an inactive "
             "function into a heap buffer or the output tensor that the routine then modifies or that is "
             "an output -- Enzyme never initialises that shadow (a malloc's shadow is not zeroed in "
             "forward mode; the output tangent buffer is not either); the plain-loop control is just as "
             "wrong")


def causes(cell):
    """The known causes that make `cell` fail against today's code (empty: it must pass)."""
    found = []
    m, act = cell.mode, cell.act
    for s in cell.R.slots:
        p = cell.place[s.name]
        on = bool(act.get(s.source)) if s.source else None
        # trsm's alpha (a scalar) is only loaded by the shim since c26138d: no custom-rule call
        # receives the output tensor's address, and its cells pass
        if p == "output" and m == "grad" and s.kind != "scalar":
            found.append(UP_OUT_GRAD if plain_loops_fail_in_output(cell) else UP_OUT_GRAD_RULES)
        # a complex alpha held as two doubles in the output tensor is read back as two units:
        # under jax.grad its gradient is wrong for plain loops too (measured: ctl twin, no difflapack)
        if p == "output" and m == "grad" and s.kind == "scalar" and cell.E.pairs and act.get(s.source):
            found.append(UP_OUT_GRAD)
        # (float storage is filled from the float64 tensor by a plain conversion loop, which
        # writes the shadow: only double storage is filled by the inactive copy itself)
        if m == "jvp" and p in ("heaploop", "output") and on is False and cell.E.same_bytes:
            found.append(UP_UNINIT if (s.kind == "inout" or p == "output") else DL_UNINIT)
    return list(dict.fromkeys(found))


def _depends(cell, slot):
    """The inputs an array depends on after the call."""
    if slot.kind in ("ro", "scalar"):
        return {slot.source}
    return {"A"} if slot.segment == "lu" else set(cell.R.inputs)


def plain_loops_fail_in_output(cell):
    """Under jax.grad, plain loops get an array in the output tensor wrong (Enzyme-JAX 0.0.16)
    when it carries a derivative: a matrix whose input is active, or an in/out array that depends
    on an active input (a scalar read once survives)."""
    return any(cell.place[s.name] == "output" and s.kind != "scalar"
               and any(cell.act[n] for n in _depends(cell, s)) for s in cell.R.slots)


# ----------------------------------------------------------------------------- the matrix
MATRIX = P.matrix()
if not P.FULL:      # keep the difflapack cause live: the covering design need not meet it
    MATRIX += [c for c in (P.make_cell("trsv", "jvp", {"A": False, "b": True}, A="heaploop"),
                           P.make_cell("trsm", "jvp", {"A": True, "b": True, "alpha": False}, alpha="heaploop"))
               if c not in MATRIX]


# These causes read memory nobody initialised: despite glibc's M_PERTURB (see _placement_run) a cell
# now and then gets a zeroed buffer and passes (seen once: getrs-A.heaploop-ipiv.heap-B.heaploop-
# jvp-b), so their marks cannot be strict.



def _param(cell, reasons):
    strict = not any(r in (DL_UNINIT, UP_UNINIT) for r in reasons)
    marks = [pytest.mark.xfail(strict=strict, reason=" | ".join(reasons))] if reasons else []
    return pytest.param(cell, id=cell.id, marks=marks)


# ----------------------------------------------------------------------------- controls
# Plain-loop twins (no difflapack): every routine's default placement in every mode, which must
# pass (the reference loops and the oracle agree); for each cause, routine and mode one twin of
# a marked cell: it passes for a difflapack cause (plain loops are fine there) and fails -- an
# xfail(strict) of its own -- for an upstream cause (the proof).
def _controls():
    out = []
    for i, r in enumerate(P.ROUTINES):
        everything = {n: True for n in P.ROUTINES[r].inputs}
        if P.FULL:
            picks = [(m, e) for m in P.MODES for e in P.ELEMS]
        else:       # two per routine: modes and element types in turn
            picks = [(P.MODES[(2 * i + k) % 4], list(P.ELEMS)[(2 * i + k) % len(P.ELEMS)]) for k in range(2)]
        out += [(P.make_cell(r, m, everything, impl="ref", elem=e), None) for m, e in picks]
    seen = set()
    for c in MATRIX:
        why = causes(c)
        if len(why) != 1 or why[0] == UP_OUT_GRAD_RULES or (why[0], c.routine, c.mode) in seen:
            continue
        seen.add((why[0], c.routine, c.mode))
        up = why[0].startswith("upstream")
        out.append((c.control(), f"the proof that this is upstream: {why[0]}" if up else None))
    return out


# A minimal program with its own custom Enzyme rules, shaped like difflapack's layer (a one-
# argument set-call records a read-only array and its shadow, a one-argument kernel computes
# x := A .* x on the in/out array) and no difflapack: which placements Enzyme-JAX supports for
# a call with custom rules.
RULES = r"""
extern "C" { void* malloc(unsigned long); void free(void*); }
static const double* rec_A;
static double* rec_dA;
extern "C" __attribute__((noinline)) void k_set(const double* A) { rec_A = A; rec_dA = 0; }
extern "C" __attribute__((noinline)) void k_mul(double* x) { for (int i = 0; i < 4; i++) x[i] *= rec_A[i]; }
static void k_set_fwd(double* A, double* dA) { rec_A = A; rec_dA = dA; }
static void* k_set_aug(double* A, double* dA) { rec_A = A; rec_dA = dA == A ? 0 : dA; return 0; }
static void k_set_rev(double* A, double* dA, void* t) {}
struct k_tape { double A[4], x[4]; double* dA; };
static void k_mul_fwd(double* x, double* dx) {
    for (int i = 0; i < 4; i++) { dx[i] = dx[i] * rec_A[i] + (rec_dA ? x[i] * rec_dA[i] : 0.0); x[i] *= rec_A[i]; }
}
static void* k_mul_aug(double* x, double* dx) {
    k_tape* t = (k_tape*)malloc(sizeof(k_tape));
    for (int i = 0; i < 4; i++) { t->A[i] = rec_A[i]; t->x[i] = x[i]; x[i] *= rec_A[i]; }
    t->dA = rec_dA;
    return t;
}
static void k_mul_rev(double* x, double* dx, void* tp) {
    k_tape* t = (k_tape*)tp;
    for (int i = 0; i < 4; i++) { if (t->dA) t->dA[i] += dx[i] * t->x[i]; dx[i] *= t->A[i]; }
    free(t);
}
extern "C" {
__attribute__((used)) void* __enzyme_register_derivative_k_set[2] = {(void*)k_set, (void*)k_set_fwd};
__attribute__((used)) void* __enzyme_register_gradient_k_set[3] = {(void*)k_set, (void*)k_set_aug, (void*)k_set_rev};
__attribute__((used)) void* __enzyme_register_derivative_k_mul[2] = {(void*)k_mul, (void*)k_mul_fwd};
__attribute__((used)) void* __enzyme_register_gradient_k_mul[3] = {(void*)k_mul, (void*)k_mul_aug, (void*)k_mul_rev};
}
"""
RULE_PROGRAMS = {
    # out = [A .* b, A]; A and x on the stack: the positive control
    "rules_stack": r"""
void rules_stack(const double* A_in, const double* b, double* out) {
    double A[4], x[4];
    for (int i = 0; i < 4; i++) { A[i] = A_in[i]; x[i] = b[i]; }
    k_set(A); k_mul(x);
    for (int i = 0; i < 4; i++) { out[i] = x[i]; out[4 + i] = A[i]; }
}""",
    # the read-only A held in the output tensor
    "rules_A_output": r"""
void rules_A_output(const double* A_in, const double* b, double* out) {
    double* A = out + 4;
    double x[4];
    for (int i = 0; i < 4; i++) { A[i] = A_in[i]; x[i] = b[i]; }
    k_set(A); k_mul(x);
    for (int i = 0; i < 4; i++) out[i] = x[i];
}""",
    # the in/out x held in the output tensor
    "rules_x_output": r"""
void rules_x_output(const double* A_in, const double* b, double* out) {
    double A[4];
    double* x = out;
    for (int i = 0; i < 4; i++) { A[i] = A_in[i]; x[i] = b[i]; }
    k_set(A); k_mul(x);
    for (int i = 0; i < 4; i++) out[4 + i] = A[i];
}""",
}
RULES_UPSTREAM = {"rules_A_output-grad-A_in+b_in": "upstream proof: Enzyme-JAX 0.0.16 crashes building a call with "
                  "custom rules on an array held in the output tensor under jax.grad (no difflapack)",
                  "rules_x_output-grad-A_in+b_in": "upstream proof: Enzyme-JAX 0.0.16 gives wrong gradients when "
                  "a call with custom rules modifies the output tensor in place under jax.grad (no difflapack)"}


def _rule_programs():
    r = np.random.default_rng(3)
    sets = [dict(A_in=r.standard_normal(4), b_in=r.standard_normal(4)) for _ in range(2)]
    cells = []
    for name, body in RULE_PROGRAMS.items():
        code = RULES + body.replace("const double* b,", "const double* b_in,").replace("b[i]", "b_in[i]")
        cells += [c for c in P.register_user_program(name, code, name, lambda A_in, b_in: np.r_[A_in * b_in, A_in],
                                                     sets) if len(c.active) == sum(a for _, a in c.active)]
    # default: the positive control in every mode, the output-tensor programs where they are the
    # proof (jax.grad); the full matrix: every program in every mode
    return [c for c in cells if P.FULL or c.name == "rules_stack" or c.mode == "grad"]


CONTROLS = _controls()
RULE_CELLS = _rule_programs()

PARAMS = ([_param(c, causes(c)) for c in MATRIX]
          + [_param(c, [why] if why else []) for c, why in CONTROLS]
          + [_param(c, [RULES_UPSTREAM[c.id]] if c.id in RULES_UPSTREAM else []) for c in RULE_CELLS])


@pytest.fixture(scope="module")
def runner(request):
    """One runner for the module: the SELECTED cells are queued in test order and run ahead,
    DIFFLAPACK_PLACEMENT_JOBS (default 2) processes at a time."""
    r = P.Runner()
    r.submit([it.callspec.params["cell"] for it in request.session.items
              if getattr(it, "module", None) is request.module and hasattr(it, "callspec")])
    yield r
    r.close()


@pytest.mark.parametrize("cell", PARAMS)
def test_placement(runner, cell):
    out = runner.result(cell)
    assert out.ok, str(out)


def test_the_full_matrix_holds_the_default_design():
    """DIFFLAPACK_FULL_MATRIX=1 (README: the full matrix, ~2 h) builds every cell once, and
    covers every (routine, precision, mode) and every slot placement the default design runs."""
    full, default = P.matrix(full=True), P.matrix(full=False)
    assert len({c.id for c in full}) == len(full) > 20 * len(default)
    assert {(c.routine, c.elem, c.mode) for c in default} <= {(c.routine, c.elem, c.mode) for c in full}
    placed = lambda cells: {(c.routine, c.elem, s, p) for c in cells for s, p in c.placement}  # noqa: E731
    assert placed(default) <= placed(full)
