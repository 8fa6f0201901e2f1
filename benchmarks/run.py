"""Print the kit's figures and write benchmarks/results.json ({"name": {"value": x, "unit": "..."}}).

Rows come from the `bench_*.py` modules beside this file: each defines
`BENCHMARKS = [((row names...), function), ...]`, the function returning {row: (value, unit)}.
`--only NAME` runs the group that makes that row (others keep their stored values).
No row asserts anything: these are measurements, read them.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
RESULTS = HERE / "results.json"

Group = tuple[tuple[str, ...], Callable[[], dict[str, tuple[float, str]]]]


def load_groups() -> list[Group]:
    groups: list[Group] = []
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        groups.extend(module.BENCHMARKS)
    return groups


def _torch_threads(restore: int | None = None) -> int:
    """torch's CPU thread count; set back to `restore` when given."""
    import torch

    if restore is not None:
        torch.set_num_threads(restore)
    return torch.get_num_threads()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", default=[], help="run only the group making this row")
    parser.add_argument("--list", action="store_true", help="list the row names and exit")
    args = parser.parse_args(argv)
    groups = load_groups()
    if args.list:
        for names, _ in groups:
            print("\n".join(names))
        return 0
    known = {n for names, _ in groups for n in names}
    unknown = [n for n in args.only if n not in known]
    if unknown:
        print(f"unknown row(s) {unknown}; run with --list to see them", file=sys.stderr)
        return 2
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    new: dict[str, dict[str, object]] = {}
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}")
    from lecturekit.datasets import active

    print(f"data: {active().describe()} (rows that load sprites or weights follow LECTUREKIT_DATA)")
    print(f"{'row':44s} {'value':>12s}  unit")
    for names, fn in groups:
        if args.only and not set(names) & set(args.only):
            continue
        start = time.perf_counter()
        threads = _torch_threads()
        try:
            rows = fn()
        finally:
            _torch_threads(threads)  # a trainer that sets its own thread count (the GAN's 1) must not leak
        for name, (value, unit) in rows.items():
            results[name] = new[name] = {"value": round(float(value), 4), "unit": unit}
            print(f"{name:44s} {float(value):12.4f}  {unit}", flush=True)
        print(f"  ({', '.join(names)}: {time.perf_counter() - start:.1f} s)", file=sys.stderr)
    # re-read before writing: rows another run wrote meanwhile (a long benchmark) are kept
    results = {**(json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}), **new}
    RESULTS.write_text(json.dumps(dict(sorted(results.items())), indent=1) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
