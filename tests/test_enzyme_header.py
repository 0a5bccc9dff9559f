"""The Enzyme header's interposed names are exactly its entry-point table times the precision
table: the preprocessor cannot generate #defines, so the list of routine macros is written out
and checked here against DLE_ENTRY_POINTS x DL_PRECISIONS. Which entry points a C++ build emits
by itself depends on the compiler (test_entry_points_emitted_by_each_compiler)."""
import os
import re
import shutil
import subprocess

import pytest

from difflapack import get_include
from difflapack._core import _macro_body


def _read(name):
    with open(os.path.join(get_include(), name)) as f:
        return f.read()


def test_routine_macros_match_the_entry_point_table():
    header = _read("difflapack_enzyme.h")
    precisions = re.findall(r"X\((\w),", _macro_body(_read("difflapack_table.h"), "DL_PRECISIONS"))
    routines = set(re.findall(r"X\(p,\s*(\w+),\s*SFX", _macro_body(header, "DLE_ENTRY_POINTS")))
    expected = {f"{p}{r}{sfx}" for p in precisions for r in routines for sfx in ("", "_64")}
    defined = dict(re.findall(r"^#define (\w+)_\(\.\.\.\) DLE_DISPATCH\((\w+), __VA_ARGS__\)", header, re.M))
    assert set(defined) == expected
    assert all(k == v for k, v in defined.items())


def test_c_interface_macros_match_their_entry_point_table():
    header = _read("difflapack_enzyme_capi.h")
    precisions = re.findall(r"X\((\w),", _macro_body(_read("difflapack_table.h"), "DL_PRECISIONS"))
    table = re.findall(r"X\(\w+,\s*(\w+)##p##(\w+)\)", _macro_body(header, "DLE_CAPI_ENTRY_POINTS"))
    expected = {f"{prefix}{p}{routine}" for p in precisions for prefix, routine in table}
    defined = dict(re.findall(r"^#define (\w+)\(\.\.\.\) difflapack_enzyme_(\w+)\(__VA_ARGS__\)", header, re.M))
    assert len(table) == 18 and set(defined) == expected
    assert all(k == v for k, v in defined.items())
    # every entry point of the table is defined by DLE_DEFINE_CAPI
    body = _macro_body(header, "DLE_DEFINE_CAPI")
    defined_entries = set(re.findall(r"DLE_ENTRY(?:_RETURNING)?\((?:\w+,\s*)?(\w+)##p##(\w+),", body))
    assert defined_entries == set(table)


EMPTY_TU = '#include "difflapack_enzyme.h"\nint unrelated(int x) { return 2 * x; }\n'


def _emitted_entries(compiler, tmp_path, *flags):
    src = tmp_path / "tu.cpp"
    src.write_text(EMPTY_TU)
    obj = tmp_path / "tu.o"
    subprocess.run([compiler, "-std=c++11", "-O0", "-c", "-I", get_include(), *flags, str(src), "-o", str(obj)],
                   check=True, capture_output=True, text=True)
    symbols = subprocess.run(["nm", "--defined-only", str(obj)], check=True, capture_output=True, text=True).stdout
    return set(re.findall(r"\b(difflapack_enzyme_\w+)", symbols))


@pytest.mark.skipif(not (shutil.which("clang++") and shutil.which("g++") and shutil.which("nm")),
                    reason="needs clang++, g++ and nm")
def test_entry_points_emitted_by_each_compiler(tmp_path):
    """clang emits an inline entry point only when a call reaches it (through its template or a
    user prototype of its symbol, which test_enzyme_decls / test_enzyme_capi_decls build): a
    file that calls none emits none, which saves Enzyme builds 2-4 s each.
    DIFFLAPACK_ENZYME_EMIT_ALL_ENTRIES, and GCC (which would not emit one reached through a
    user prototype), emit every one."""
    header = _read("difflapack_enzyme.h")
    precisions = re.findall(r"X\((\w),", _macro_body(_read("difflapack_table.h"), "DL_PRECISIONS"))
    fortran = {(r, c) for r, c in re.findall(r"X\(p,\s*(\w+),\s*SFX,\s*(\d+)\)", _macro_body(header, "DLE_ENTRY_POINTS"))}
    capi = re.findall(r"X\(\w+,\s*(\w+)##p##(\w+)\)", _macro_body(_read("difflapack_enzyme_capi.h"), "DLE_CAPI_ENTRY_POINTS"))
    every = ({f"difflapack_enzyme_{p}{r}{sfx}_{c}" for p in precisions for r, c in fortran for sfx in ("", "_64")}
             | {f"difflapack_enzyme_{prefix}{p}{r}" for p in precisions for prefix, r in capi})
    assert _emitted_entries("clang++", tmp_path) == set()
    assert _emitted_entries("clang++", tmp_path, "-DDIFFLAPACK_ENZYME_EMIT_ALL_ENTRIES") == every
    assert _emitted_entries("g++", tmp_path) == every
