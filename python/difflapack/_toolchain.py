"""Where the system's C headers are, for the clang that Enzyme-JAX embeds.

That clang has no resource directory of its own (no stddef.h, stdarg.h), which <cblas.h> and
<lapacke.h> include; the system compiler's directory provides them. They are added with
-idirafter, i.e. searched after everything clang searches by itself: -isystem would put the C
headers of /usr/include before libstdc++'s wrappers and break <complex> and friends.
"""
from __future__ import annotations

import functools
import glob
import os
import re
import shutil
import subprocess


def _ask_compiler(flag: str) -> str:
    for cc in ("gcc", "cc"):
        path = shutil.which(cc)
        if path:
            try:
                out = subprocess.run([path, flag], capture_output=True, text=True, timeout=30).stdout.strip()
            except (OSError, subprocess.SubprocessError):
                continue
            if out:
                return out
    return ""


def _version_key(path: str):
    return [int(v) for v in re.findall(r"\d+", path)]


@functools.lru_cache(maxsize=None)
def system_include_dirs() -> tuple[str, ...]:
    """The compiler's own header directory (stddef.h) and the system directories (multiarch
    first, where Debian keeps cblas.h), those that exist, in search order."""
    dirs = []
    own = _ask_compiler("-print-file-name=include")
    if not os.path.isfile(os.path.join(own, "stddef.h")):
        found = sorted(glob.glob("/usr/lib/gcc/*/*/include/stddef.h"), key=_version_key)
        own = os.path.dirname(found[-1]) if found else ""
    if own:
        dirs.append(own)
    triple = _ask_compiler("-print-multiarch")
    for d in ([os.path.join("/usr/include", triple)] if triple else []) + ["/usr/include"]:
        if os.path.isdir(d) and d not in dirs:
            dirs.append(d)
    return tuple(dirs)
