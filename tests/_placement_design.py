"""Which cells of the placement matrix run: a covering design (the default, sized for CI) and
the full matrix (DIFFLAPACK_FULL_MATRIX=1).

Default: per routine, a deterministic greedy covering array (AETG-style: rows built factor by
factor, each value chosen to cover the most requirements still uncovered, ties broken by a
seeded generator) over the factors slot placements x mode x element type x activity pattern,
with the constraint that float storage (s, c) cannot take the tensor's bytes (memcpy, in-place
input, output tensor). Sized for CI (~5 minutes on 2 cores with the rest of the Enzyme tests),
every routine's cells cover
  * every placement in every mode (held by one of the routine's slots),
  * every placement of every slot, and every placement of every slot with complex data,
  * every element type, and across routines every element type in every mode (routine k
    takes element type k + i in mode i),
  * every activity pattern.
Pairs of placements and per-slot placement x mode are left to the full matrix.
Full: the one-factor-at-a-time design the matrix started with, for every routine, element type
and mode: every slot on the stack with every activity pattern; each slot moved alone to each of
its other placements (everything active, and everything but the moved slot's input); every slot
moved at once (four combinations) with everything active and each input alone.
"""
from __future__ import annotations

import os
import random

from _placement_model import ELEMS, MODES, PLACEMENTS, ROUTINES, activity_patterns, make_cell

FULL = os.environ.get("DIFFLAPACK_FULL_MATRIX", "") not in ("", "0")


# ----------------------------------------------------------------------------- default
def _requirements(routine):
    """The requirement tuples of a routine, each a frozenset of (factor, value) items; ("place",
    p) is an item of every row that puts some slot in p, ("cplx", True) of every row with
    complex data."""
    R = ROUTINES[routine]
    k = list(ROUTINES).index(routine)
    reqs = set()
    for i, m in enumerate(MODES):
        for p in sorted({p for s in R.slots for p in PLACEMENTS[s.kind]}):
            reqs.add(frozenset({("mode", m), ("place", p)}))
        # the element types in every mode across routines: routine k takes element (k + i) in mode i
        reqs.add(frozenset({("mode", m), ("elem", list(ELEMS)[(k + i) % len(ELEMS)])}))
    for e in ELEMS:
        reqs.add(frozenset({("elem", e)}))
    for a in range(len(activity_patterns(routine))):
        reqs.add(frozenset({("act", a)}))
    for s in R.slots:
        for p in PLACEMENTS[s.kind]:
            reqs.add(frozenset({(s.name, p)}))
            if any(ELEMS[e].complex and p in ELEMS[e].placements(s.kind) for e in ELEMS):
                reqs.add(frozenset({("cplx", True), (s.name, p)}))
    return reqs


def _feasible(row, routine):
    e = row.get("elem")
    if e is None:
        return True
    return all(row[s.name] in ELEMS[e].placements(s.kind) for s in ROUTINES[routine].slots if s.name in row)


def _items(row, routine):
    items = set(row.items())
    if "elem" in row:
        items.add(("cplx", ELEMS[row["elem"]].complex))
    items |= {("place", row[s.name]) for s in ROUTINES[routine].slots if s.name in row}
    return items


def covering(routine, candidates=8, seed=1):
    """[(placement dict, mode, elem, activity pattern)]: the default design of one routine."""
    R = ROUTINES[routine]
    pats = activity_patterns(routine)
    domains = {s.name: PLACEMENTS[s.kind] for s in R.slots}
    domains.update(mode=MODES, elem=tuple(ELEMS), act=tuple(range(len(pats))))
    factors = list(domains)
    uncovered = _requirements(routine)
    by_item = {}
    for r in uncovered:
        for it in r:
            by_item.setdefault(it, []).append(r)
    rng = random.Random(f"{routine}-{seed}")
    rows = []
    while uncovered:
        target = min(uncovered, key=lambda r: sorted(map(str, r)))     # the first uncovered, fixed
        best, best_n = None, -1
        for _ in range(candidates):
            row = {f: v for f, v in target if f in domains}
            order = [f for f in factors if f not in row]
            rng.shuffle(order)
            for f in order:
                scored = []
                have = _items(row, routine)
                for v in domains[f]:
                    trial = dict(row, **{f: v})
                    if not _feasible(trial, routine):
                        continue
                    items = _items(trial, routine)
                    new = {r for it in items - have for r in by_item.get(it, ()) if r in uncovered and r <= items}
                    scored.append((len(new), rng.random(), v))
                if not scored:
                    break
                row[f] = max(scored)[2]
            if len(row) < len(factors):
                continue
            n = sum(1 for r in uncovered if r <= _items(row, routine))
            if n > best_n:
                best, best_n = row, n
        if best_n <= 0:     # what is left cannot be covered (infeasible combination)
            break
        uncovered = {r for r in uncovered if not r <= _items(best, routine)}
        rows.append(best)
    return [({s.name: row[s.name] for s in R.slots}, row["mode"], row["elem"], pats[row["act"]]) for row in rows]


# ----------------------------------------------------------------------------- full
# Combinations with every slot away from the stack: {name: {slot kind: placement}}
COMBOS = {"heap": {"ro": "heaploop", "scalar": "heaploop", "inout": "heaploop", "ipiv_out": "heap",
                   "ipiv_in": "heap", "work": "heap"},
          "sub": {"ro": "substk", "scalar": "subheap", "inout": "subheap", "ipiv_out": "substk",
                  "ipiv_in": "substk", "work": "stack"},
          "inout": {"ro": "input", "scalar": "input", "inout": "output", "ipiv_out": "heap", "ipiv_in": "heap",
                    "work": "heap"},
          "memcpy": {"ro": "heapcpy", "scalar": "heapcpy", "inout": "heapcpy", "ipiv_out": "heap",
                     "ipiv_in": "heap", "work": "heap"}}


def full_design(routine, elem):
    """[(placement dict, activity patterns)]: the one-factor-at-a-time design (module doc)."""
    R, E = ROUTINES[routine], ELEMS[elem]
    everything = {n: True for n in R.inputs}
    out = [({}, activity_patterns(routine))]
    for s in R.slots:
        for p in E.placements(s.kind):
            if p == "stack":
                continue
            pats = [everything]
            if s.source and len(R.inputs) > 1:
                pats.append({n: n != s.source for n in R.inputs})
            out.append(({s.name: p}, pats))
    for combo in COMBOS.values():
        pl = {s.name: combo[s.kind] for s in R.slots}
        if not all(pl[s.name] in E.placements(s.kind) for s in R.slots):
            continue
        pats = [everything] + ([{n: n == m for n in R.inputs} for m in R.inputs] if len(R.inputs) > 1 else [])
        out.append((pl, pats))
    return out


# ----------------------------------------------------------------------------- the matrix
def matrix(routines=None, full=None):
    """The cells: the full matrix or the default covering design, in a fixed order."""
    full = FULL if full is None else full
    cells = []
    for r in routines or ROUTINES:
        if full:
            for e in ELEMS:
                for pl, pats in full_design(r, e):
                    for m in MODES:
                        for act in pats:
                            cells.append(make_cell(r, m, act, elem=e, **pl))
        else:
            for pl, m, e, act in covering(r):
                cells.append(make_cell(r, m, act, elem=e, **pl))
    # a routine with one array slot meets a combination of placements again as that slot's
    # single move (potrf's A in heapcpy): build each cell once
    return list(dict.fromkeys(cells))


def cover_patterns(cells_by_mode_pattern):
    """A covering of user-program jobs: every mode with everything active, and every other
    activity pattern once (modes taken in turn). Input: the jobs of one program."""
    jobs = list(cells_by_mode_pattern)
    everything = [c for c in jobs if all(a for _, a in c.active)]
    rest = [c for c in jobs if not all(a for _, a in c.active)]
    pats = list(dict.fromkeys(c.active for c in rest))
    picked = list(everything)
    for k, pat in enumerate(pats):
        want = MODES[(k + 1) % len(MODES)]
        picked += [c for c in rest if c.active == pat and c.mode == want]
    return picked
