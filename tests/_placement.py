"""The placement matrix: C++ programs that call one BLAS/LAPACK routine through
difflapack_enzyme.h with every array argument held where real programs hold it, built by Enzyme
in four modes, run on several flag/shape cases, and compared with central differences of an
independent NumPy/SciPy oracle. This module gathers its parts:

_placement_model    ELEMS (element types: d; s as float converted from float64 tensors; z as
                    std::complex<double>, as (re, im) double pairs and as a user struct of two
                    doubles; c), ROUTINES (trsv trsm getrf getrs gesv trtrs getri inv potrf
                    potrs posv: differentiable inputs, parameters carried by a parameter vector
                    so that one build serves every case, array SLOTS, the call template, the
                    cases), PLACEMENTS (where a slot lives: a local stack array, a heap buffer
                    filled by memcpy or by a loop, the cpp_call input tensor itself (read-only
                    slots), the output tensor, an offset sub-block of a bigger stack/heap
                    buffer; getri's workspace on the stack or sized by the query on the heap),
                    MODES and the Cell (routine, placement of every slot, mode, activity,
                    element type, impl).
_placement_cpp      the C++ of a cell; impl 'ref' is the CONTROL: the same program over
                    plain-loop reference routines instead of difflapack, which tells an
                    Enzyme/Enzyme-JAX limitation from a difflapack bug.
_placement_oracle   cases (real and complex data), the NumPy/SciPy oracle over the float64
                    tensors, central-difference Jacobians, the judge.
_placement_design   the covering design (default) and the full matrix (DIFFLAPACK_FULL_MATRIX=1).
_placement_run      each job built and run in its own forked process; builds scanned.
_placement_user     composite programs written as users write them.

MODES   rev   __enzyme_autodiff inside the source (combined reverse)
        fwd   __enzyme_fwddiff inside the source
        grad  jax.jit(jax.value_and_grad(...)) over the cpp_call (Enzyme's split reverse)
        jvp   jax.jit(jax.jvp(...)) over the cpp_call (Enzyme's forward mode)

Every program computes the same function: outputs = [in/out slots after the call (x / lu),
pivots (as doubles), copies of the read-only slots held in the output tensor], of the inputs
(A, b, alpha). In the jax modes the outputs ARE the output tensor; in rev/fwd mode the
differentiated function `user(A_in, b_in, alpha_in, res, w)` writes them into `res` (a region
of the output tensor) and returns w.res. So one oracle Jacobian per (routine, case, input)
serves every cell.
"""
from _placement_design import FULL, cover_patterns, covering, full_design, matrix  # noqa: F401
from _placement_model import (CAP, DEFAULT, ELEMS, MODES, NPIV, NPRM, PLACEMENTS, ROUTINES, Cell,  # noqa: F401
                              activity_patterns, make_cell)
from _placement_oracle import cases, expected, oracle  # noqa: F401
from _placement_run import Outcome, Runner, child_main  # noqa: F401
from _placement_user import UserProgram, register_user_program  # noqa: F401
