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
