"""Reporting: the markdown tables, the targets (PASS/MISS with margins, C kernels and NumPy API
side by side) and the ratio-vs-n plot, all from a results dict (a run's, or a saved
results.json)."""
from __future__ import annotations

import numpy as np

from . import spec


def _fmt(x, digits=2):
    return "-" if x is None else f"{x:.{digits}f}"


def _pct(x):
    return "-" if x is None else f"{100 * x:+.1f}%" + (" **!**" if abs(x) > spec.API_TOLERANCE else "")


def _key(row):
    return row["routine"], row["precision"], row.get("nrhs")


def _label(row):
    return [row["routine"], spec.PRECISION_NAMES[row["precision"]], str(row.get("nrhs", "")), str(row["n"])]


def _lapack_ms(row):
    t = row["times"].get("kernels", {}).get("primal")
    return _fmt(None if t is None else 1e3 * t, 3)


def _table(head, lines):
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                     + ["| " + " | ".join(cells) + " |" for cells in lines])


def progress_line(row) -> str:
    r, a = row["ratios"].get("kernels", {}), row["ratios_lapack"].get("api", {})
    t = row["times"].get("kernels", {})
    nrhs = f" nrhs={row['nrhs']}" if "nrhs" in row else ""
    parts = [f"{row['routine']:7s} {row['precision']}{nrhs} n={row['n']:5d} primal "
             f"{1e3 * t.get('primal', float('nan')):9.3f} ms | C"]
    parts += [f"{k} {_fmt(r.get(k))}x" for k in spec.RATIO_KEYS]
    parts += ["| API"] + [f"{k} {_fmt(a.get(k))}x" for k in spec.RATIO_KEYS]
    for fw in ("jax", "torch", "enzyme_rules", "enzyme_loops"):
        rr = row["ratios_lapack"].get(fw) or row["ratios"].get(fw)
        if rr:
            parts.append(f"| {fw} " + " ".join(f"{k} {_fmt(rr.get(k))}x" for k in spec.RATIO_KEYS))
    m = row.get("memory_kib", {})
    if "rev_pb" in m:
        parts.append(f"| rev mem {m['rev_pb'] / 1024:.2f} MiB")
    for e in row.get("errors", []):
        parts.append(f"| ! {e[:80]}")
    return " ".join(parts)


def ours_markdown(results) -> str:
    head = ["routine", "precision", "nrhs", "n", "LAPACK primal ms", "C fwd", "C rev pb", "C rev p+pb",
            "API fwd", "API rev pb", "API rev p+pb", "API/C-1 fwd", "API/C-1 pb", "API/C-1 p+pb",
            "API primal / LAPACK"]
    lines = []
    for row in results["rows"]:
        k, a, d = row["ratios"].get("kernels", {}), row["ratios_lapack"].get("api", {}), row.get("api_vs_kernels", {})
        lines.append(_label(row) + [_lapack_ms(row)] + [_fmt(k.get(x)) for x in spec.RATIO_KEYS]
                     + [_fmt(a.get(x)) for x in spec.RATIO_KEYS] + [_pct(d.get(x)) for x in spec.RATIO_KEYS]
                     + [_fmt(a.get("primal"))])
    return _table(head, lines)


def peers_markdown(results) -> str:
    fws = [fw for fw in spec.PEERS if any(fw in row["times"] for row in results["rows"])]
    if not fws:
        return ""
    head = ["routine", "precision", "nrhs", "n", "LAPACK primal ms"]
    for fw in fws:
        name = spec.LABELS[fw]
        head += [f"{name} primal ms", f"{name} fwd", f"{name} rev pb", f"{name} rev p+pb",
                 f"{name} fwd ÷ LAPACK", f"{name} pb ÷ LAPACK", f"{name} p+pb ÷ LAPACK"]
    lines = []
    for row in results["rows"]:
        cells = _label(row) + [_lapack_ms(row)]
        for fw in fws:
            t, own, lap = row["times"].get(fw, {}), row["ratios"].get(fw, {}), row["ratios_lapack"].get(fw, {})
            cells += [_fmt(1e3 * t["primal"], 3) if "primal" in t else "-"]
            cells += [_fmt(own.get(x)) for x in spec.RATIO_KEYS] + [_fmt(lap.get(x)) for x in spec.RATIO_KEYS]
        lines.append(cells)
    return _table(head, lines)


def memory_markdown(results) -> str:
    rows = [row for row in results["rows"] if row.get("memory_kib")]
    if not rows:
        return ""
    lines = []
    for row in rows:
        m = row["memory_kib"]
        rev = (f"{m['rev_pb'] / 1024:.2f} ({row['memory_budget_kib'] / 1024:.2f})" if "rev_pb" in m
               else m.get("error", "-")[:40])
        lines.append(_label(row) + [rev, f"{m['fwd'] / 1024:.2f}" if "fwd" in m else "-",
                                    f"{m['primal'] / 1024:.2f}" if "primal" in m else "-"])
    return _table(["routine", "precision", "nrhs", "n", "C rev extra MiB (budget)", "C fwd extra MiB",
                   "LAPACK primal extra MiB"], lines)


def enzyme_markdown(results) -> str:
    head = ["routine", "n", "LAPACK primal ms",
            "Enzyme+ours primal ms", "Enzyme+ours fwd", "Enzyme+ours rev p+pb",
            "Enzyme loops primal ms", "Enzyme loops fwd", "Enzyme loops rev p+pb",
            "Enzyme loops rev / LAPACK primal"]
    lines = []
    for row in results["rows"]:
        t, r = row["times"], row["ratios"]
        if "enzyme_rules" not in t and "enzyme_loops" not in t:
            continue
        cells = [row["routine"], str(row["n"]), _lapack_ms(row)]
        for fw in ("enzyme_rules", "enzyme_loops"):
            tf, rf = t.get(fw, {}), r.get(fw, {})
            cells += [_fmt(1e3 * tf["primal"], 3) if "primal" in tf else "-", _fmt(rf.get("fwd")),
                      _fmt(rf.get("p+pb"))]
        cells.append(_fmt(r.get("enzyme_loops", {}).get("rev/LAPACK"), 1))
        lines.append(cells)
    if not lines:
        return ""
    return ("Through Enzyme (combined modes: fwd = __enzyme_fwddiff, rev = __enzyme_autodiff = primal + "
            "pullback; ratios to the primal of the same build):\n\n" + _table(head, lines))


def _verdict(value, limit):
    if value is None:
        return "n/a", "n/a"
    pct = 100.0 * (value / limit - 1.0)
    if value <= limit:
        return "PASS", f"PASS ({-pct:.0f}% under)"
    return "MISS", f"MISS (by {value - limit:.2f}x, {pct:.0f}% over)"


def check_targets(results) -> list[dict]:
    """One check per target and (precision, nrhs) measured, at n = TARGET_N (else the largest
    n); then the reverse-pass memory of every (routine, precision, nrhs) at its largest n."""
    rows = {(_key(r), r["n"]): r for r in results["rows"]}
    checks = []
    for routine, mode, definition, limit, nrhs in spec.TARGETS:
        keys = sorted({k for (k, _) in rows if k[0] == routine and (nrhs is None or k[2] == nrhs)},
                      key=lambda k: (spec.PRECISIONS.index(k[1]), k[2] or 0))
        for key in keys:
            sizes = sorted(n for (k, n) in rows if k == key)
            n = spec.TARGET_N if spec.TARGET_N in sizes else max(sizes)
            row = rows[(key, n)]
            kern = row["ratios"].get("kernels", {}).get(definition)
            api = row["ratios_lapack"].get("api", {}).get(definition)
            peers = {fw: row["ratios_lapack"].get(fw, {}).get(definition) for fw in spec.PEERS}
            # the C/C++ program through Enzyme, against the primal of the same build (its LAPACK calls)
            enzyme = row["ratios"].get("enzyme_rules", {}).get(definition)
            checks.append({"enzyme": enzyme, "routine": routine, "precision": key[1], "nrhs": key[2], "mode": mode,
                           "definition": definition, "limit": limit, "n": n, "kernels": kern, "api": api,
                           "api_vs_kernels": row.get("api_vs_kernels", {}).get(definition),
                           "api_vs_kernels_best": row.get("api_vs_kernels_best", {}).get(definition), "peers": peers,
                           "status_kernels": _verdict(kern, limit)[0], "status_api": _verdict(api, limit)[0]})
    for key in sorted({k for (k, _) in rows}, key=lambda k: (k[0], spec.PRECISIONS.index(k[1]), k[2] or 0)):
        n = max(nn for (k, nn) in rows if k == key)
        row = rows[(key, n)]
        m = row.get("memory_kib", {})
        if "rev_pb" not in m:
            continue
        budget = row["memory_budget_kib"]
        checks.append({"routine": key[0], "precision": key[1], "nrhs": key[2], "mode": "rev memory",
                       "definition": "extra KiB", "limit": budget, "n": n, "kernels": m["rev_pb"],
                       "status_kernels": "PASS" if m["rev_pb"] <= budget + spec.MEMORY_SLACK_KIB else "MISS"})
    return checks


def _enzyme_cell(c) -> str:
    """The target's ratio through Enzyme (our rules inside a C/C++ program), where measured."""
    if c.get("enzyme") is None:
        return "-"
    return f"{c['enzyme']:.2f}x {_verdict(c['enzyme'], c['limit'])[1]}"


def targets_markdown(checks) -> str:
    ratio = [c for c in checks if c["mode"] != "rev memory"]
    lines = []
    for c in ratio:
        note = "" if c["n"] == spec.TARGET_N else f" (target is at n={spec.TARGET_N})"
        lines.append([f"{c['routine']} {c['mode']}", spec.PRECISION_NAMES[c["precision"]],
                      "" if c["nrhs"] is None else str(c["nrhs"]), spec.DEFINITIONS[c["definition"]],
                      f"{c['n']}{note}", _fmt(c["kernels"]) + "x", _fmt(c["api"]) + "x", _pct(c["api_vs_kernels"]),
                      _pct(c.get("api_vs_kernels_best")),
                      f"<= {c['limit']:.2f}x", _verdict(c["kernels"], c["limit"])[1],
                      _verdict(c["api"], c["limit"])[1]]
                     + [_fmt(c["peers"].get(fw)) + "x" if c["peers"].get(fw) is not None else "-"
                        for fw in spec.PEERS]
                     + [_enzyme_cell(c)])
    out = _table(["target", "precision", "nrhs", "definition", "n", "C kernels", "NumPy API", "API/C-1 (paired)",
                  "API/C-1 (best/best)", "limit",
                  "C kernels", "NumPy API", "JAX ÷ LAPACK", "PyTorch ÷ LAPACK", "Enzyme+ours (C/C++)"], lines)
    mem = [c for c in checks if c["mode"] == "rev memory"]
    if mem:
        lines = []
        for c in mem:
            verdict = c["status_kernels"] + (f" (by {c['kernels'] - c['limit']:.0f} KiB)"
                                             if c["status_kernels"] == "MISS" else "")
            lines.append([f"{c['routine']} rev memory", spec.PRECISION_NAMES[c["precision"]],
                          "" if c["nrhs"] is None else str(c["nrhs"]), str(c["n"]), f"{c['kernels']:.0f} KiB",
                          f"{c['limit']:.0f} KiB (+{spec.MEMORY_SLACK_KIB} KiB slack)", verdict])
        out += "\n\n" + _table(["target", "precision", "nrhs", "n", "measured", "limit", "result"], lines)
    return out


def report(results, checks) -> str:
    meta = results["meta"]
    out = [f"# difflapack benchmark ({meta['threads']} thread(s); timing: {meta['timing']}, "
           f">= {meta['min_time']} s per measurement; clock: {meta.get('clock', 'wall')})", ""]
    out += ["## Our derivatives: C kernels and NumPy API, ratios to the LAPACK primal", "", ours_markdown(results), "",
            "`fwd` = (primal+tangent)/primal, `rev pb` = pullback/primal, `rev p+pb` = (primal+pullback)/primal, "
            "every one divided by the LAPACK primal (the OpenBLAS Fortran routine through ctypes, its copy-in "
            "timed as for ours). C = our kernels through ctypes on preallocated buffers; API = the NumPy "
            "functions a user calls. API/C-1: how much more the API's call costs than the kernels' (its ratio "
            "relative to theirs), as the median over the interleaved rounds of (API time / C time) - 1, so "
            f"that a load change cancels out (**!**: beyond {spec.API_TOLERANCE:.0%}); the targets table also "
            "gives best against best. API primal / LAPACK: the API's primal function against the LAPACK call.", ""]
    peers = peers_markdown(results)
    if peers:
        out += ["## Peers", "", peers, "",
                "Each peer's ratios to ITS OWN primal (left) and its derivative's time divided by the same LAPACK "
                "primal as ours (÷ LAPACK).", ""]
    enzyme = enzyme_markdown(results)
    if enzyme:
        out += [enzyme, ""]
    mem = memory_markdown(results)
    if mem:
        out += ["## Memory", "", mem, "",
                "Peak extra resident memory of our kernels (fresh process, VmHWM - VmRSS); budget = one copy of "
                "each input the caller may overwrite; the primal's figure is the measurement's noise floor.", ""]
    out.append("Problems: " + "; ".join(f"{r}: {spec.SHAPES[r]}" for r in spec.ROUTINES
                                         if any(row["routine"] == r for row in results["rows"])))
    out += ["", f"## Targets (n = {spec.TARGET_N}, one thread)", "", targets_markdown(checks)]
    errors = [(row["routine"], row["precision"], row["n"], e) for row in results["rows"] for e in row.get("errors", [])]
    if errors:
        out += ["", "## Not measured", ""]
        seen = set()
        for routine, precision, n, e in errors:
            key = (routine, precision, e.split(":")[0])
            if key not in seen:
                seen.add(key)
                out.append(f"- {routine} {precision} (n={n}): {e}")
    out.append("")
    out.append("Machine: " + ", ".join(f"{k} {v}" for k, v in meta.items()
                                        if k in ("cpu", "cpus", "openblas", "jax", "torch", "numpy")))
    loads = [row["load_avg"][0] for row in results["rows"] if "load_avg" in row]
    if loads:
        out.append(f"Load average (1 min) after each row: min {min(loads):.2f}, median {float(np.median(loads)):.2f}, "
                   f"max {max(loads):.2f} ({meta.get('cpus', '?')} CPUs)")
    load = ", ".join(f"{v:.2f}" for v in meta.get("load_avg", ()))
    end = ", ".join(f"{v:.2f}" for v in meta.get("load_avg_end", ()))
    out.append(f"Load average (1, 5, 15 min) at the start: {load}" + (f"; at the end: {end}" if end else "")
               + (f"; started {meta['started']}" if "started" in meta else "")
               + (f"; {meta['seconds']:.0f} s" if "seconds" in meta else ""))
    if meta.get("call_overhead_us") is not None:
        out.append(f"Call overhead (ctypes call + copy-in, n = 0): {meta['call_overhead_us']:.2f} us per "
                   "call; it is part of every C-kernel time (LAPACK primal too), and dominates trsv at small n.")
    return "\n".join(out)


def plot(results, path) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib import ticker
    except ImportError:
        return None
    routines = [r for r in spec.ROUTINES if any(row["routine"] == r for row in results["rows"])]
    fig, axes = plt.subplots(2, len(routines), figsize=(3.8 * len(routines), 7.0), squeeze=False)
    colors = {"kernels": "C0", "api": "C4", "jax": "C1", "torch": "C2"}
    styles = {"d": "-", "s": ":", "z": "-.", "c": "--"}
    markers = {"kernels": "o", "api": "+", "jax": "s", "torch": "^"}
    shown_fw, shown_prec = set(), set()
    for j, routine in enumerate(routines):
        rows = [row for row in results["rows"] if row["routine"] == routine and row.get("nrhs", 1) == 1]
        series = sorted({(row["precision"]) for row in rows}, key=spec.PRECISIONS.index)
        for i, (mode, definition) in enumerate((("fwd", "fwd"), ("rev", spec.REV_DEFINITION[routine]))):
            ax = axes[i][j]
            ns_all = sorted({row["n"] for row in rows})
            for prec in series:
                pr = sorted((row for row in rows if row["precision"] == prec), key=lambda r: r["n"])
                ns = [row["n"] for row in pr]
                for fw, color in colors.items():
                    src = "ratios" if fw == "kernels" else "ratios_lapack"
                    ys = [row[src].get(fw, {}).get(definition) for row in pr]
                    if any(y is not None for y in ys):
                        ax.plot(ns, [np.nan if y is None else y for y in ys], color=color, ls=styles[prec],
                                marker=markers[fw], ms=4, lw=1)
                        shown_fw.add(fw)
                        shown_prec.add(prec)
            for routine_t, mode_t, _, limit, _ in spec.TARGETS:
                if routine_t == routine and mode_t == mode:
                    ax.axhline(limit, color="k", ls="--", lw=0.9)
                    ax.annotate(f"target {limit}x", (0.02, limit), xycoords=("axes fraction", "data"),
                                fontsize=7, va="bottom")
            ax.set_xscale("log")
            ax.set_yscale("log")
            if ns_all:
                ax.set_xticks(ns_all)
                ax.set_xticklabels([str(n) for n in ns_all])
            ax.xaxis.set_minor_formatter(ticker.NullFormatter())
            ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
            ax.yaxis.set_minor_locator(ticker.LogLocator(subs=(1.5, 2, 3, 5, 7)))
            ax.yaxis.set_minor_formatter(ticker.FormatStrFormatter("%g"))
            ax.tick_params(axis="y", which="both", labelsize=7)
            ax.set_title(f"{routine} {mode}" + (" (nrhs 1)" if routine in spec.NRHS_ROUTINES else ""), fontsize=10)
            ax.set_ylabel(spec.DEFINITIONS[definition] + " (LAPACK primal)", fontsize=8)
            ax.set_xlabel("n", fontsize=8)
            ax.grid(True, which="both", alpha=0.3)
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], color=colors[fw], marker=markers[fw], label=spec.LABELS[fw])
               for fw in colors if fw in shown_fw]
    handles += [Line2D([], [], color="gray", ls=styles[p], label=spec.PRECISION_NAMES[p])
                for p in spec.PRECISIONS if p in shown_prec]
    handles.append(Line2D([], [], color="k", ls="--", lw=0.9, label="target"))
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), fontsize=9, bbox_to_anchor=(0.5, 0.965))
    threads = results["meta"]["threads"]
    fig.suptitle(f"derivative time / LAPACK primal time ({threads} BLAS thread{'s' if threads > 1 else ''}): "
                 "our C kernels, our NumPy API, JAX and PyTorch; every one divided by the same LAPACK call", y=0.995)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
