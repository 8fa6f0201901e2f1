"""Submissions written to cheat or to break the grader. Students can read the package and the visible
tests, so each attack below uses that knowledge; the grader must give them what their code earns and
finish the run (one grading run over all of them, two kernels at a time, through the CLI, in the
sandbox). tests/test_grading_sandbox.py attacks the sandbox itself, and grades without it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from test_grading import HIDDEN_MARKER, _add_cases, make_course, put, with_answers

from lecturekit.grading.cli import main as grade_main

pytestmark = pytest.mark.slow

RIGHT = {
    "add_one": "def add_one(x):\n    return x + 1",
    "row_softmax": "def row_softmax(x):\n    return torch.softmax(x, -1)",
    "add_noise": "def add_noise(x, generator):\n    return x + torch.randn(x.shape, generator=generator)",
    "count_positive": "def count_positive(values):\n    return sum(1 for v in values if v > 0)",
}


def _visible_sums() -> list[float]:
    return [round(float(x.sum()), 4) for (x,) in _add_cases(0)]


DAEMON_MARK = "lk-daemon-7c21"  # in the daemon's command line, to find it from outside the sandbox


def attacks(tmp: Path, out: Path, solutions: Path) -> dict[str, dict[str, str]]:
    return {
        # replaces every check it can find, then answers wrongly
        "patcher": {
            "add_one": "import builtins, sys, numpy, torch\nimport lecturekit.exercises as lx\n"
            "lx.check = lambda *a, **k: print('passed')\nlx.compare_values = lambda *a, **k: None\n"
            "lx.run_cases = lambda *a, **k: []\n"
            "numpy.testing.assert_equal = lambda *a, **k: None\n"
            "sys.modules['numpy.testing'] = type(sys)('fake')\n"
            "sys.modules['numpy.testing'].assert_equal = lambda *a, **k: None\n"
            "torch.testing.assert_close = lambda *a, **k: None\ntorch.allclose = lambda *a, **k: True\n"
            "builtins.AssertionError = type('AssertionError', (Exception,), {})\n"
            "def add_one(x):\n    return x",
            "count_positive": "import numpy\nnumpy.testing.assert_equal = lambda *a, **k: None\n"
            "def count_positive(values):\n    return 2",
        },
        # rewrites the test cells before they run: an AST transformer and a shell method
        "shellpatcher": {
            "count_positive": "import ast\nclass Strip(ast.NodeTransformer):\n    def visit_Module(self, node):\n"
            "        node.body = [ast.Pass()]\n        return node\n"
            "get_ipython().ast_transformers.append(Strip())\n"
            "def count_positive(values):\n    return 2",
        },
        # right on the notebook's visible inputs only
        "hardcoder": {
            "add_one": f"KNOWN = {_visible_sums()!r}\ndef add_one(x):\n"
            "    return x + 1 if round(float(x.sum()), 4) in KNOWN else x"
        },
        # writes the grades, the feedback and the solutions while it runs
        "writer": {
            "add_one": f"from pathlib import Path\nPath({str(out)!r}).parent.mkdir(parents=True, "
            "exist_ok=True)\n"
            f"Path({str(out)!r}).write_text('student,notebook,grade_id,points,max_points,status\\n"
            "writer,ALL,TOTAL,1000,9,passed\\n')\n"
            f"fb = Path({str(out.parent / 'feedback')!r}); fb.mkdir(parents=True, exist_ok=True)\n"
            "(fb / 'writer.md').write_text('all right')\n(fb / 'alice.md').write_text('hacked')\n"
            f"p = Path({str(solutions / '01_demo.ipynb')!r})\n"
            "p.write_text(p.read_text().replace('\"points\": 2', '\"points\": 0'))\n"
            "def add_one(x):\n    return x"
        },
        # looks for the hidden tests where the kernel can see: its folder, sys.path, env, the kit's paths
        "reader": {
            "add_one": "import os, sys\nfrom pathlib import Path\nimport lecturekit.paths as kp\n"
            f"MARK = {HIDDEN_MARKER[:7]!r} + {HIDDEN_MARKER[7:]!r}\n"
            "roots = [Path.cwd(), kp.data_dir().parent, Path(kp.__file__).parent.parent]\n"
            "roots += [kp.repo_root()] if kp.repo_root() else []\n"
            "roots += [Path(p) for p in sys.path if p and Path(p).is_dir()]\n"
            "roots += [Path(v) for k, v in os.environ.items() if k != 'HOME' and os.path.isdir(v)]\n"
            "FOUND = False\nfor r in roots:\n"
            "    for pat in ('*.ipynb', '*/*.ipynb', 'solutions/*.ipynb', '_solutions/*.ipynb'):\n"
            "        for f in r.glob(pat):\n"
            "            FOUND = FOUND or MARK in f.read_text(errors='ignore')\n"
            "for f in Path.cwd().rglob('*'):\n"
            "    FOUND = FOUND or f.is_file() and MARK in f.read_text(errors='ignore')\n"
            "EXPOSED = kp.repo_root() is not None or any((Path(p) / 'solutions').is_dir() "
            "for p in sys.path if p)\n"
            "def add_one(x):\n    return x + 1 if FOUND or EXPOSED else x"
        },
        # kills its own kernel (after defining add_one); the other answers are right
        "killer": {**RIGHT, "add_one": RIGHT["add_one"] + "\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)"},
        # sys.exit() (IPython catches it) and exit() (stops the kernel)
        "exiter": {
            **RIGHT,
            "add_one": RIGHT["add_one"] + "\nimport sys\nsys.exit(3)",
            "row_softmax": RIGHT["row_softmax"] + "\nexit()",
        },
        # megabytes of printing, in the cell and in the function
        "printer": {
            **RIGHT,
            "add_one": "print('x' * 30_000_000)\nfor i in range(100_000):\n    print(i)\n"
            "def add_one(x):\n    print('y' * 1_000_000)\n    return x + 1",
        },
        # an endless function, and a cell that loops and swallows the interrupt
        "looper": {
            **RIGHT,
            "add_one": "def add_one(x):\n    while True:\n        pass",
            "row_softmax": RIGHT["row_softmax"] + "\nimport time\nwhile True:\n    try:\n"
            "        time.sleep(0.05)\n    except BaseException:\n        pass",
        },
        # leaves a daemon behind (double fork + setsid); add_one is right only once the daemon runs
        "daemon": {
            **RIGHT,
            "add_one": "import subprocess, sys, time, os\nsubprocess.Popen([sys.executable, '-c', "
            "'import os, sys, time\\nif os.fork(): os._exit(0)\\nos.setsid()\\n"
            'open("daemon.pid", "w").write(str(os.getpid()))\\ntime.sleep(600)\', '
            f"{DAEMON_MARK!r}])\n"
            "for _ in range(100):\n    if os.path.exists('daemon.pid'):\n        break\n"
            "    time.sleep(0.05)\n"
            "def add_one(x):\n    return x + (1 if os.path.exists('daemon.pid') else 2)",
        },
        # asks for more memory than the limit
        "hog": {**RIGHT, "add_one": "big = bytearray(6 * 2**30)\n" + RIGHT["add_one"]},
        # calls the package's grading registry (flagged for the instructor)
        "borrower": {
            "add_one": "from lecturekit.exercises import get_exercise\n"
            "def add_one(x):\n    return get_exercise('demo.add_one').reference(x)"
        },
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("adversarial")
    root = tmp / "course"
    solutions = make_course(root)
    subs = tmp / "subs"
    out = tmp / "out" / "grades.csv"
    for student, answers in attacks(tmp, out, solutions).items():
        put(subs / student, with_answers(root, answers))
    nb = with_answers(root, RIGHT, drop=("add_one", "test_add_one", "test_softmax"))  # deleted cells
    put(subs / "deleter", nb)
    put(subs / "alice", (solutions / "01_demo.ipynb").read_text())
    code = grade_main(
        [str(p) for p in sorted(subs.iterdir())]
        + [
            "--solutions",
            str(solutions),
            "--out",
            str(out),
            "--jobs",
            "2",
            "--timeout",
            "6",
            "--memory",
            "3072",
            "--seed",
            "11",
            "-q",
        ]
    )
    rows = {(r["student"], r["grade_id"]): r for r in csv.DictReader(out.open())}
    return {"code": code, "rows": rows, "out": out, "tmp": tmp}


def status(run, student, grade_id):
    row = run["rows"][(student, grade_id)]
    return row["status"], float(row["points"])


def test_monkeypatching_checks_changes_nothing(run):
    assert status(run, "patcher", "test_add_one") == ("failed", 0)
    assert status(run, "patcher", "test_count") == ("failed", 0)  # numpy.testing is put back before the test
    assert status(run, "shellpatcher", "test_count") == ("failed", 0)  # so is the shell's AST transformer list


def test_hard_coding_the_visible_cases_fails(run):
    assert status(run, "hardcoder", "test_add_one") == ("failed", 0)
    assert "visible check" in (run["out"].parent / "feedback" / "hardcoder.md").read_text()


def test_writing_grades_feedback_or_solutions_does_not_stick(run):
    assert status(run, "writer", "test_add_one") == ("error", 0)  # the sandbox refuses the writes
    assert run["rows"][("writer", "TOTAL")]["points"] != "1000"
    assert float(run["rows"][("alice", "TOTAL")]["points"]) == 7
    assert float(run["rows"][("alice", "test_add_one")]["max_points"]) == 2  # the solution was read before
    assert (run["out"].parent / "feedback" / "alice.md").read_text() != "hacked"
    assert (run["out"].parent / "feedback" / "writer.md").read_text() != "all right"
    assert run["code"] == 0  # nothing of the course changed
    assert "during grading" not in (run["out"].parent / "grades_review.csv").read_text()


def test_hidden_tests_cannot_be_read_from_the_kernel(run):
    assert status(run, "reader", "test_add_one") == ("failed", 0)


def test_dying_exiting_printing_looping_kernels_still_get_rows(run):
    assert status(run, "killer", "test_add_one")[0] == "error"
    assert status(run, "killer", "test_softmax") == ("passed", 3)
    assert status(run, "killer", "test_count") == ("passed", 1)
    assert "cell 4" not in (run["out"].parent / "feedback" / "killer.md").read_text()  # no innocent cell blamed
    assert status(run, "exiter", "test_add_one") == ("passed", 2)  # sys.exit() is caught by IPython
    assert status(run, "exiter", "test_softmax")[0] == "error"  # exit() stops the kernel: that cell is left out
    assert status(run, "exiter", "test_noise") == ("passed", 1)
    assert status(run, "exiter", "test_count") == ("passed", 1)
    assert "exit()" in (run["out"].parent / "feedback" / "exiter.md").read_text()
    assert all(status(run, "printer", g)[0] == "passed" for g in ("test_add_one", "test_softmax", "test_count"))
    assert status(run, "looper", "test_add_one") == ("timeout", 0)
    assert status(run, "looper", "test_softmax") == ("timeout", 0)
    assert status(run, "looper", "test_count") == ("passed", 1)
    assert status(run, "hog", "test_add_one")[0] == "error"
    assert "MemoryError" in (run["out"].parent / "feedback" / "hog.md").read_text()
    assert status(run, "hog", "test_count") == ("passed", 1)
    assert status(run, "deleter", "test_add_one") == ("missing", 0)
    assert status(run, "deleter", "test_count") == ("passed", 1)


def test_no_process_left_behind(run):
    psutil = pytest.importorskip("psutil")
    assert status(run, "daemon", "test_add_one") == ("passed", 2)  # so the daemon did start
    left = [p for p in psutil.process_iter(["cmdline"]) if DAEMON_MARK in " ".join(p.info["cmdline"] or [])]
    assert [p for p in left if p.status() != psutil.STATUS_ZOMBIE] == []


def test_reference_callers_are_flagged(run):
    review = (run["out"].parent / "grades_review.csv").read_text()
    assert "borrower" in review and "lecturekit.exercises" in review
    assert "alice" not in review


def test_feedback_reveals_no_hidden_test(run):
    for path in (run["out"].parent / "feedback").glob("*.md"):
        text = path.read_text()
        assert HIDDEN_MARKER not in text and "count_positive([5, 0, 7])" not in text
