"""Print a graded result's score and time per part: `python benchmarks/part_times.py results.json`."""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def main(path: str) -> None:
    """Read `path` (a results.json) and print score, wall time and per-part test time."""
    with open(path, encoding="utf-8") as f:
        result = json.load(f)
    per_part: dict[str, float] = defaultdict(float)
    for test in result["tests"]:
        per_part[test.get("part") or "?"] += float(test.get("duration") or 0.0)
    print(f"{result['assignment']}: {result['score']:g}/{result['max_score']:g} in {result['duration']:.1f} s wall")
    for part in result["parts"]:
        name = part["name"]
        print(f"  {name:<20} {part['points']:>5g}/{part['max_points']:<5g} {per_part.get(name, 0.0):6.1f} s")
    for error in result.get("errors", []):
        print(f"  error: {error[:300]}")


if __name__ == "__main__":
    main(sys.argv[1])
