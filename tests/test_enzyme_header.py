"""The Enzyme header's interposed names are exactly its entry-point table times the precision
table: the preprocessor cannot generate #defines, so the list of routine macros is written out
and checked here against DLE_ENTRY_POINTS x DL_PRECISIONS."""
import os
import re

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
