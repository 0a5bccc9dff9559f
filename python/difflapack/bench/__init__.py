"""``python -m difflapack bench``: speed and memory of difflapack's derivatives.

For trsv, trsm, getrf, getrs, gesv, potrf, posv, inv (getrf + getri) and slogdet, forward and
reverse, in float32/float64/complex64/complex128, at n in {100, 250, 500, 1000} (2000 with
``--large``), single-threaded unless ``--threads`` says otherwise, it times in ONE interleaved
run per row: the LAPACK primal (the system OpenBLAS Fortran routine through ctypes), our C
kernels through ctypes, the same derivatives through the NumPy API, and JAX and PyTorch; it
reports every derivative as a ratio to that LAPACK primal (the peers also to their own primal),
checks the targets, and measures the reverse kernels' peak extra memory in a fresh process.
The method is bench/README.md. Modules:

* :mod:`.spec`      routines, precisions, sizes, targets, definitions (data);
* :mod:`.problems`  the problems (inputs, tangents, cotangents) in each precision;
* :mod:`.kernels`   the LAPACK primal and our C kernels through ctypes;
* :mod:`.api`       the NumPy API cases;
* :mod:`.peers`     JAX and PyTorch;
* :mod:`.enzyme_cases` the optional Enzyme columns;
* :mod:`.timing`    thread environment, interleaved best-of timing, memory subprocess;
* :mod:`.report`    tables, targets, plot;
* :mod:`.cli`       the driver (``run``) and ``main``.
"""
from .api import api_cases  # noqa: F401
from .cli import main, measure_row, run  # noqa: F401
from .kernels import check_our_kernels, openblas, our_cases  # noqa: F401
from .peers import jax_cases, torch_cases  # noqa: F401
from .problems import problem  # noqa: F401
from .report import check_targets, plot, report  # noqa: F401
from .spec import ROUTINES, TARGETS  # noqa: F401
from .timing import measure  # noqa: F401

# the names earlier versions exported (tests, scripts)
_check_our_kernels = check_our_kernels
_openblas = openblas
