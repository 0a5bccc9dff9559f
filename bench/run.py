"""Run the difflapack benchmark: the same as ``python -m difflapack bench [options]``.

From a source checkout without installing, point it at a development build:
    DIFFLAPACK_LIBRARY=/path/to/libdifflapack.so python bench/run.py --quick
"""
import os
import sys


def _bench_module():
    """The installed difflapack.bench, or with DIFFLAPACK_LIBRARY set (a development build) or
    nothing installed, the one in this source checkout."""
    checkout = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python")
    if not os.environ.get("DIFFLAPACK_LIBRARY"):
        try:
            from difflapack import bench
            return bench
        except ImportError:
            for name in [m for m in sys.modules if m.split(".")[0] == "difflapack"]:
                del sys.modules[name]
    sys.path.insert(0, os.path.normpath(checkout))
    from difflapack import bench
    return bench


if __name__ == "__main__":
    sys.exit(_bench_module().main())
