"""Imported once by the placement tests' forkserver (see _placement.Runner): JAX with x64,
Enzyme-JAX and the libraries difflapack's Enzyme layer needs, so that every forked child starts
ready to build. Nothing here starts XLA (forking a process with XLA's threads is unsafe)."""
import jax

jax.config.update("jax_enable_x64", True)

import enzyme_ad.jax  # noqa: E402,F401
import numpy  # noqa: E402,F401
import scipy.linalg  # noqa: E402,F401

from difflapack import enzyme  # noqa: E402

enzyme.load()

import _placement  # noqa: E402,F401
