"""`python -m lecturekit grade` for the red-team tests, with the demo course's exercises registered (they live
in tests/test_grading.py, as a course's own exercises would live outside the kit)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import test_grading  # noqa: E402,F401 - registers demo.add_one, demo.softmax, demo.noise, demo.other

from lecturekit.grading.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
