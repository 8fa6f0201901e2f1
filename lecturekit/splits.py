"""`split.json`, a data set's held-out part: `{"test": [0-based line numbers]}`, everything else is train.

Read and written here only, for the kit's sprites, a course data set's and the corpus, so that the format
and its checks live in one place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np


def write_split(path: Path, test: Iterable[int]) -> None:
    """Write the held-out line numbers as bytes (the same file on every platform, so rebuilds compare)."""
    path.write_bytes((json.dumps({"test": [int(i) for i in test]}) + "\n").encode("utf-8"))


def read_test_mask(path: Path, n: int, error: type[ValueError] = ValueError, rebuild: str = "") -> np.ndarray:
    """Which of the `n` items are held out (a bool array), read from `path`; a malformed file or a line number
    outside 0..n-1 raises `error` naming the file, the format and `rebuild`, the fix."""
    try:
        test = np.asarray(json.loads(path.read_text(encoding="utf-8"))["test"], dtype=np.int64).reshape(-1)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise error(
            f'{path}: cannot read the test split ({err}); it must be {{"test": [0-based line numbers]}}; {rebuild}.'
        ) from None
    if test.size and (test.min() < 0 or test.max() >= n):
        bad = int(test.max()) if test.max() >= n else int(test.min())
        raise error(f"{path}: test line {bad} is outside 0..{n - 1}; the split does not belong to its data, {rebuild}.")
    is_test = np.zeros(n, dtype=bool)
    is_test[test] = True
    return is_test
