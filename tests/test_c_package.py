"""difflapack from C without Python: the CMake package (find_package(difflapack)) and
difflapack.pc, in both installed layouts:

* "wheel":  the installed Python package (difflapack.get_cmake_dir(), get_pkgconfig_dir());
* "prefix": a `cmake --install build --prefix` of this repository, moved to another folder
  afterwards, so it passes only if the installed files locate each other relatively.

Each layout is consumed by examples/c (CMake, LAPACKE + dgesv_ through difflapack_enzyme.h, no
LAPACKE library linked) and
by a one-file C program built with `cc $(pkg-config --cflags --libs difflapack)`.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import difflapack

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "c"

# A x = b with A = [[2, 1], [1, 3]] (column-major) and x = (1, 1), through the core API.
PKG_CONFIG_CONSUMER = r"""
#include <stdio.h>
#include "difflapack.h"
int main(void) {
    double a[4] = {2, 1, 1, 3}, b[2] = {3, 4};
    int ipiv[2];
    int info = dl_dgesv(2, 1, a, 2, ipiv, b, 2);
    double err0 = b[0] - 1, err1 = b[1] - 1;
    printf("%s info=%d x=(%g, %g)\n", dl_version(), info, b[0], b[1]);
    return info != 0 || err0 * err0 + err1 * err1 > 1e-28;
}
"""


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (./dev.sh installs it)")
    return path


def run(cmd, env=None) -> str:
    """Run a build step or program; on failure, fail with its full output."""
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def cmake_build(source: Path, build: Path, *configure_args: str) -> None:
    cmake = tool("cmake")
    run([cmake, "-S", source, "-B", build, "-DCMAKE_BUILD_TYPE=Release", *configure_args])
    run([cmake, "--build", build, "--parallel", "2"])


@pytest.fixture(scope="module")
def moved_prefix(tmp_path_factory) -> Path:
    """This repository built and installed with plain CMake, then moved elsewhere."""
    work = tmp_path_factory.mktemp("cmake_install")
    cmake_build(REPO, work / "build")
    run([tool("cmake"), "--install", work / "build", "--prefix", work / "installed"])
    return Path(shutil.move(work / "installed", work / "moved"))


@pytest.fixture(params=["wheel", "prefix"])
def layout(request):
    """(where CMake must find difflapackConfig.cmake, cmake arguments, folder of difflapack.pc)"""
    if request.param == "wheel":
        cmake_dir = Path(difflapack.get_cmake_dir())
        return cmake_dir, [f"-Ddifflapack_DIR={cmake_dir}"], Path(difflapack.get_pkgconfig_dir())
    prefix = request.getfixturevalue("moved_prefix")
    (config,) = prefix.rglob("difflapackConfig.cmake")
    (pc,) = prefix.rglob("difflapack.pc")
    return config.parent, [f"-DCMAKE_PREFIX_PATH={prefix}"], pc.parent


def test_example_with_find_package(layout, tmp_path):
    cmake_dir, cmake_args, _ = layout
    cmake_build(EXAMPLE, tmp_path, *cmake_args)
    # the package under test, not another one
    (found,) = re.findall(r"^difflapack_DIR:\w+=(.*)$", (tmp_path / "CMakeCache.txt").read_text(), re.M)
    assert Path(found) == cmake_dir
    out = run([tmp_path / "solve"])
    assert out.count(": ok") == 2, out
    # LAPACKE_dgesv is difflapack's: no LAPACKE library is linked
    needed = run([tool("readelf"), "-d", tmp_path / "solve"])
    assert "libdifflapack.so" in needed and "lapacke" not in needed, needed


def test_pkg_config_consumer(layout, tmp_path):
    _, _, pkgconfig_dir = layout
    pkg_config, cc = tool("pkg-config"), tool("cc")
    env = {**os.environ, "PKG_CONFIG_PATH": str(pkgconfig_dir)}
    assert run([pkg_config, "--modversion", "difflapack"], env).strip() == difflapack.__version__
    flags = run([pkg_config, "--cflags", "--libs", "difflapack"], env).split()
    libdir = run([pkg_config, "--variable=libdir", "difflapack"], env).strip()
    assert Path(libdir, "libdifflapack.so").is_file()
    source, exe = tmp_path / "consumer.c", tmp_path / "consumer"
    source.write_text(PKG_CONFIG_CONSUMER)
    # the library is not on the loader's default path in either layout: record it in the program
    run([cc, "-std=c99", "-Wall", "-Werror", source, "-o", exe, *flags, f"-Wl,-rpath,{libdir}"])
    out = run([exe])
    assert out.startswith(difflapack.__version__ + " info=0 x=(1, 1)"), out


# Two translation units of one program include the Enzyme header (the registration globals and
# entry points are weak / inline, so they link), one of them C++; real and complex calls.
TWO_UNITS_C = r"""
#include <complex.h>
#include "difflapack_enzyme.h"
double solve_real(void);
int main(void) {
    double complex a[4] = {2, 1 + 1 * I, 0, 4}, x[2] = {3 + 1 * I, 8};   /* column-major */
    int n = 2, inc = 1;
    ztrsv_("L", "N", "N", &n, a, &n, x, &inc);   /* lower: 2 x0 = 3+i, (1+i) x0 + 4 x1 = 8 */
    double complex x0 = (3 + 1 * I) / 2, x1 = (8 - (1 + 1 * I) * x0) / 4;
    double e = cabs(x[0] - x0) + cabs(x[1] - x1) + (solve_real() - 1.0 > 1e-14 || solve_real() - 1.0 < -1e-14);
    return e > 1e-14;
}
"""
TWO_UNITS_CXX = r"""
#include "difflapack_enzyme.h"
extern "C" double solve_real() {
    double a[4] = {2, 1, 1, 3}, b[2] = {3, 4};
    int n = 2, one = 1, info, ipiv[2];
    dgesv_(&n, &one, a, &n, ipiv, b, &n, &info);
    return info == 0 ? b[1] : -1.0;   /* x = (1, 1) */
}
"""


def test_header_in_two_translation_units(tmp_path):
    cc, cxx = tool("cc"), tool("c++")
    pkg_config = tool("pkg-config")
    env = {**os.environ, "PKG_CONFIG_PATH": difflapack.get_pkgconfig_dir()}
    flags = run([pkg_config, "--cflags", "--libs", "difflapack"], env).split()
    libdir = run([pkg_config, "--variable=libdir", "difflapack"], env).strip()
    (tmp_path / "main.c").write_text(TWO_UNITS_C)
    (tmp_path / "real.cpp").write_text(TWO_UNITS_CXX)
    run([cxx, "-c", "-Wall", "-Werror", tmp_path / "real.cpp", "-o", tmp_path / "real.o", *flags])
    run([cc, "-std=c99", "-Wall", "-Werror", tmp_path / "main.c", tmp_path / "real.o", "-o", tmp_path / "app",
         *flags, f"-Wl,-rpath,{libdir}", "-lm"])
    run([tmp_path / "app"])
