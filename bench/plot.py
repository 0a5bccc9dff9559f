"""Redraw the ratio-vs-n plot and the tables from a saved run, without re-measuring:
    python bench/plot.py [bench/results/results.json] [out.png]
"""
import json
import os
import sys

from run import _bench_module  # bench/ is on sys.path when run as a script


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    bench = _bench_module()
    src = argv[0] if argv else os.path.join("bench", "results", "results.json")
    with open(src) as fh:
        results = json.load(fh)
    png = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(src), "ratios.png")
    print(bench.report(results, bench.check_targets(results)))
    print("plot:", bench.plot(results, png), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
