"""`just bench [--out FILE] [FILTER]`: run the benchmark entries whose name starts with FILTER."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path

from benchmarks.harness import REGISTRY, run_entry


def load_entries() -> None:
    package_dir = Path(__file__).resolve().parent
    for info in pkgutil.iter_modules([str(package_dir)]):
        if info.name.startswith("bench_"):
            importlib.import_module(f"benchmarks.{info.name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just bench", description=__doc__)
    parser.add_argument("filter", nargs="?", default="", help="run entries whose name starts with this")
    parser.add_argument("--out", default="bench-results.json", help="JSON output file")
    parser.add_argument("--list", action="store_true", help="list entry names and exit")
    args = parser.parse_args(argv)
    load_entries()
    names = sorted(n for n in REGISTRY if n.startswith(args.filter))
    if args.list:
        print("\n".join(names))
        return 0
    if not names:
        print(f"no benchmark entry starts with {args.filter!r}", file=sys.stderr)
        return 2
    results: dict[str, dict[str, object]] = {}
    print(f"{'entry':40} {'median_ms':>12} {'p99_ms':>12} {'runs':>6} {'ops/s':>10}")
    for name in names:
        res = run_entry(REGISTRY[name])
        results[name] = res.as_json()
        ops = "-" if res.ops_per_s is None else f"{res.ops_per_s:.1f}"
        print(f"{name:40} {res.median_ms:12.3f} {res.p99_ms:12.3f} {res.runs:6d} {ops:>10}", flush=True)
    Path(args.out).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
