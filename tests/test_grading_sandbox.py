"""The grading sandbox under attack. Each submission below tries one thing from inside an answer
function the grader calls, or from a top-level cell, and is right only when the attack works: reading
the solutions (relative, absolute and /proc routes), reading another student's copy, writing into the
course folder, the package or the home folder, calling the kit's reference implementations (by import,
`get_exercise`, obfuscated attribute access, their source), opening a connection to a port this test
listens on, forking many processes, filling the disk, sleeping past the time limit, killing the
kernel. Every attack scores 0 and leaves no trace; the honest students in the same run get full marks.
Then one run without the sandbox: the changes are reported and the outputs carry the warning.
"""

from __future__ import annotations

import csv
import os
import socket
import threading
import uuid
from pathlib import Path

import nbformat
import pytest
from notebook_cells import code_cell, new_notebook, setup_cell, solution_cell
from test_grading import HIDDEN_MARKER, _graded, make_course, put, with_answers
from test_grading_adversarial import RIGHT

import lecturekit
from lecturekit.grading import bwrap
from lecturekit.grading.cli import main as grade_main
from lecturekit.notebooks import clean_notebook, student_notebook

pytestmark = pytest.mark.slow
if bwrap.sandbox_problem() and not os.environ.get("LECTUREKIT_REQUIRE_SANDBOX"):
    pytestmark = [pytestmark, pytest.mark.skip(reason=f"no sandbox here: {bwrap.sandbox_problem()}")]

PACKAGE = Path(lecturekit.__file__).resolve().parent
KIT_RIGHT = {
    "reparameterize": "def reparameterize(mean, log_var, eps):\n    return mean + torch.exp(0.5 * log_var) * eps",
    "kl_divergence": "def kl_divergence(mean, log_var):\n"
    "    return 0.5 * (log_var.exp() - 1 - log_var + mean ** 2).sum(-1)",
}
ALICE_SECRET = "ALICE-SECRET-93b0"


def kit_notebook():
    """A notebook graded with two of the kit's own exercises (their references live in the package)."""
    return new_notebook(
        [
            setup_cell(),
            code_cell("import torch\nfrom lecturekit.exercises import check"),
            solution_cell(
                "def reparameterize(mean, log_var, eps):\n    ### BEGIN SOLUTION\n"
                "    return mean + torch.exp(0.5 * log_var) * eps\n    ### END SOLUTION",
                "reparameterize",
            ),
            _graded('check("nb04.reparameterize", reparameterize)', "test_reparameterize", 2, ["nb04.reparameterize"]),
            solution_cell(
                "def kl_divergence(mean, log_var):\n    ### BEGIN SOLUTION\n"
                "    return 0.5 * (log_var.exp() - 1 - log_var + mean ** 2).sum(-1)\n    ### END SOLUTION",
                "kl_divergence",
            ),
            _graded('check("nb04.kl_divergence", kl_divergence)', "test_kl", 2, ["nb04.kl_divergence"]),
        ]
    )


def _search(found: str, places: str, mark: str) -> str:
    """Code that sets `found` when any file of `places` (an expression: a list of paths) holds `mark`,
    also walking the whole visible file system for notebooks."""
    return (
        f"import os\nMARK = {mark[:6]!r} + {mark[6:]!r}\n{found} = False\n"
        f"for _p in {places}:\n"
        "    try:\n"
        f"        {found} = {found} or MARK in open(_p, errors='ignore').read()\n"
        "    except OSError:\n        pass\n"
        "for _d, _dirs, _files in os.walk('/'):\n"
        "    if _d.startswith(('/proc', '/sys', '/usr', '/dev')):\n        _dirs[:] = []\n        continue\n"
        "    for _f in _files:\n"
        "        if _f.endswith('.ipynb'):\n"
        "            try:\n"
        f"                {found} = {found} or MARK in open(os.path.join(_d, _f), errors='ignore').read()\n"
        "            except OSError:\n                pass\n"
    )


def _solution_routes(solutions: Path) -> str:
    target = str(solutions / "01_demo.ipynb")
    up = "../" * 12 + target.lstrip("/")
    return (
        f"[{target!r}, {up!r}] + [f'/proc/{{p}}/{{link}}' + {target!r} for p in os.listdir('/proc') "
        "if p.isdigit() for link in ('root', 'cwd')] + [f'/proc/{p}/cwd/solutions/01_demo.ipynb' "
        "for p in os.listdir('/proc') if p.isdigit()] + [f'/proc/{p}/cwd/../solutions/01_demo.ipynb' "
        "for p in os.listdir('/proc') if p.isdigit()]"
    )


def _writes(root: Path, solutions: Path, home: Path, tag: str) -> str:
    """Code that tries to write into the course, the solutions, the package and the home folder. WROTE is set
    when a write into the course or the package worked (the kernel's own home is a throwaway tmpfs, so a
    write there works; the test checks that the real home folder got nothing)."""
    targets = [root / f"course-{tag}.txt", solutions / f"new-{tag}.ipynb", PACKAGE / f"pwned_{tag}.py"]
    homes = [str(home / f".lk-{tag}"), f"~/.lk-{tag}"]
    demo = str(solutions / "01_demo.ipynb")
    return (
        "WROTE = False\n"
        f"for _t in {homes!r}:\n"
        "    try:\n        open(os.path.expanduser(_t), 'w').write('pwned')\n    except OSError:\n        pass\n"
        f"for _t in {[str(t) for t in targets]!r}:\n"
        "    try:\n        open(_t, 'w').write('pwned')\n        WROTE = True\n    except OSError:\n        pass\n"
        f"try:\n    _s = open({demo!r}).read()\n"
        f"    open({demo!r}, 'w').write(_s.replace('\"points\": 2', '\"points\": 0'))\n"
        "    WROTE = True\nexcept OSError:\n    pass\n"
    )


def attacks(root: Path, solutions: Path, subs: Path, port: int, fill_tag: str) -> dict[str, tuple[str, dict]]:
    home = Path(os.environ.get("HOME", "/root"))
    alice = str(subs / "alice" / "01_demo.ipynb")
    routes = _solution_routes(solutions)
    kit = "03_kit"
    borrow = {
        "get_exercise": "from lecturekit.exercises import get_exercise\n"
        "def reparameterize(m, lv, e):\n    return get_exercise('nb04.reparameterize').reference(m, lv, e)",
        "import": "from lecturekit.exercises.nb04 import reference_reparameterize\n"
        "def reparameterize(m, lv, e):\n    return reference_reparameterize(m, lv, e)",
        "getattr": "def reparameterize(m, lv, e):\n"
        "    mod = __import__('lecturekit.exer' + 'cises.nb0' + str(2 + 2), fromlist=['x'])\n"
        "    return getattr(mod, 'refer' + 'ence_' + 'reparameterize')(m, lv, e)",
        "source": "import inspect, lecturekit.exercises.nb04 as _m\n"
        "_ns = {'torch': torch}\nexec(inspect.getsource(_m.reference_reparameterize), _ns)\n"
        f"try:\n    exec(open({str(PACKAGE / 'exercises' / 'nb04.py')!r}).read(), _ns)\nexcept OSError:\n"
        "    pass\ndef reparameterize(m, lv, e):\n    return _ns['reference_reparameterize'](m, lv, e)",
        "common": "from lecturekit.models.common import reparameterize as kit_reparameterize\n"
        "def reparameterize(m, lv, e):\n    return kit_reparameterize(m, lv, e)",
    }
    out: dict[str, tuple[str, dict]] = {
        "alice": ("01_demo", {**RIGHT, "count_positive": RIGHT["count_positive"] + f"\n# {ALICE_SECRET}"}),
        "kitright": (kit, KIT_RIGHT),
        # the solutions, from a top-level cell and from inside the function the grader calls
        "reader_cell": (
            "01_demo",
            {
                **RIGHT,
                "add_one": _search("FOUND", routes, HIDDEN_MARKER)
                + "def add_one(x):\n    return x + 1 if FOUND else x",
            },
        ),
        "reader_call": (
            "01_demo",
            {
                **RIGHT,
                "add_one": "def add_one(x):\n"
                + "\n".join(
                    "    " + ln
                    for ln in (_search("FOUND", routes, HIDDEN_MARKER) + "return x + 1 if FOUND else x").split("\n")
                ),
            },
        ),
        # another student's copy
        "peeker": (
            "01_demo",
            {
                **RIGHT,
                "add_one": _search("FOUND", f"[{alice!r}]", ALICE_SECRET)
                + "def add_one(x):\n    return x + 1 if FOUND else x",
            },
        ),
        # writes, from the cell and from the call
        "writer_cell": (
            "01_demo",
            {
                **RIGHT,
                "add_one": "import os\n"
                + _writes(root, solutions, home, "cell")
                + "def add_one(x):\n    return x + 1 if WROTE else x",
            },
        ),
        "writer_call": (
            "01_demo",
            {
                **RIGHT,
                "add_one": "def add_one(x):\n    import os\n"
                + "\n".join(
                    "    " + ln
                    for ln in (_writes(root, solutions, home, "call") + "return x + 1 if WROTE else x").split("\n")
                ),
            },
        ),
        # the network: a port this test listens on
        "networker": (
            "01_demo",
            {
                **RIGHT,
                "add_one": "import socket\ndef add_one(x):\n    try:\n"
                f"        s = socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
                "        s.sendall(b'leak')\n        return x + 1\n    except OSError:\n"
                "        return x",
            },
        ),
        # many processes (bounded, so that a broken limit cannot take the machine down)
        "forker": (
            "01_demo",
            {
                **RIGHT,
                "add_one": "import subprocess, sys\nKIDS = []\nfor _ in range(400):\n"
                "    try:\n        KIDS.append(subprocess.Popen([sys.executable, '-c', "
                "'import time; time.sleep(90)', 'lk-forker-mark']))\n"
                "    except OSError:\n        break\n"
                "def add_one(x):\n    return x + 1 if len(KIDS) >= 400 else x",
            },
        ),
        # the disk: the tmpfs, then the work folder
        "filler": (
            "01_demo",
            {
                **RIGHT,
                "add_one": "def add_one(x):\n    import os\n    block = b'0' * 2**24\n"
                "    for where in ('/tmp', '.'):\n        try:\n            for i in range(400):\n"
                f"                with open(os.path.join(where, f'{fill_tag}-{{i}}'), 'wb') as f:\n"
                "                    f.write(block)\n        except OSError:\n            pass\n"
                "    return x + 1 if os.path.getsize('.') < 0 else x",
            },
        ),
        # disk and memory that no folder walk and no RSS shows: files kept open and unlinked, memfds, and a
        # folder whose read right its owner removed; each is right only if the kernel survives holding it
        "unlinker": (
            "01_demo",
            {
                **RIGHT,
                "add_one": "import os, time\nHELD = []\nfor i in range(24):\n"
                "    f = open(f'held-{i}', 'wb')\n    f.write(b'1' * 2**24)\n    f.flush()\n"
                "    os.unlink(f'held-{i}')\n    HELD.append(f)\ntime.sleep(4)\n"
                "def add_one(x):\n    return x + 1",
            },
        ),
        "memfder": (
            "01_demo",
            {
                **RIGHT,
                "add_one": "import os, time\nHELD = []\nfor i in range(4):\n"
                "    fd = os.memfd_create(f'held-{i}')\n    for _ in range(56):\n"
                "        os.write(fd, b'1' * 2**24)\n    HELD.append(fd)\ntime.sleep(4)\n"
                "def add_one(x):\n    return x + 1",
            },
        ),
        "hider": (
            "01_demo",
            {
                **RIGHT,
                "add_one": "import os, time\nos.mkdir('hidden')\nfor i in range(24):\n"
                "    with open(f'hidden/{i}', 'wb') as f:\n        f.write(b'1' * 2**24)\n"
                "os.chmod('hidden', 0o300)\ntime.sleep(4)\n"
                "def add_one(x):\n    return x + 1",
            },
        ),
        "sleeper": (
            "01_demo",
            {**RIGHT, "add_one": "import time\ndef add_one(x):\n    time.sleep(1000)\n    return x + 1"},
        ),
        # every process it can see (only its own pid namespace: it checks it is pid 2 there first)
        "killer": (
            "01_demo",
            {
                **RIGHT,
                "add_one": RIGHT["add_one"] + "\nimport os, signal\n"
                "if os.getpid() < 10:\n    for target in (-1, 1, os.getppid()):\n        try:\n"
                "            os.kill(target, signal.SIGKILL)\n        except OSError:\n            pass\n"
                "os.kill(os.getpid(), signal.SIGKILL)",
            },
        ),
    }
    for name, answer in borrow.items():
        out[f"borrow_{name}"] = (kit, {**KIT_RIGHT, "reparameterize": answer})
    out["borrow_twin"] = (
        kit,
        {
            **KIT_RIGHT,
            "kl_divergence": "from lecturekit.models.sentence_vae import gaussian_kl\n"
            "def kl_divergence(m, lv):\n    return gaussian_kl(m, lv)",
        },
    )
    return out


class Listener:
    """A TCP port on 127.0.0.1 that records whether anybody connected."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                continue

    def close(self) -> None:
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def _course(root: Path) -> Path:
    solutions = make_course(root)
    nb = kit_notebook()
    nbformat.write(clean_notebook(nb), solutions / "03_kit.ipynb")
    nbformat.write(student_notebook(nb, "03_kit"), root / "notebooks" / "03_kit.ipynb")
    return solutions


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sandboxed")
    root = tmp / "course"
    solutions = _course(root)
    subs = tmp / "subs"
    listener = Listener()
    fill_tag = f"lkfill-{uuid.uuid4().hex[:8]}"
    for student, (notebook, answers) in attacks(root, solutions, subs, listener.port, fill_tag).items():
        put(subs / student, with_answers(root, answers, name=notebook), name=f"{notebook}.ipynb")
    out = tmp / "out" / "grades.csv"
    try:
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
                "20",
                "--memory",
                "3072",
                "--disk",
                "300",
                "--processes",
                "96",
                "--seed",
                "5",
                "-q",
                "--notebook",
                "01_demo",
                "--notebook",
                "03_kit",
            ]
        )
    finally:
        listener.close()
    rows = {(r["student"], r["grade_id"]): r for r in csv.DictReader(out.open())}
    return {
        "code": code,
        "rows": rows,
        "out": out,
        "root": root,
        "solutions": solutions,
        "subs": subs,
        "connections": listener.connections,
        "fill_tag": fill_tag,
    }


def points(run, student, grade_id):
    return float(run["rows"][(student, grade_id)]["points"])


def feedback(run, student):
    return (run["out"].parent / "feedback" / f"{student}.md").read_text()


def test_honest_students_get_full_marks_in_the_sandbox(run):
    assert float(run["rows"][("alice", "TOTAL")]["points"]) == 7  # 01_demo: 2 + 3 + 1 + 1
    assert float(run["rows"][("kitright", "TOTAL")]["points"]) == 4  # 03_kit: the kit's own exercises


def test_solutions_and_other_students_cannot_be_read(run):
    for student in ("reader_cell", "reader_call", "peeker"):
        assert points(run, student, "test_add_one") == 0, student
        assert points(run, student, "test_softmax") == 3, student  # the rest of their work still counts


def test_writes_outside_the_work_folder_fail_and_leave_no_trace(run):
    home = Path(os.environ.get("HOME", "/root"))
    for student, tag in (("writer_cell", "cell"), ("writer_call", "call")):
        assert points(run, student, "test_add_one") == 0, student
        for path in (
            run["root"] / f"course-{tag}.txt",
            run["solutions"] / f"new-{tag}.ipynb",
            PACKAGE / f"pwned_{tag}.py",
            home / f".lk-{tag}",
        ):
            assert not path.exists(), path
    assert '"points": 2' in (run["solutions"] / "01_demo.ipynb").read_text()
    assert run["code"] == 0  # nothing of the course or the package changed
    assert "during grading" not in (run["out"].parent / "grades_review.csv").read_text()


def test_the_kits_references_cannot_be_the_answer(run):
    for student in ("borrow_get_exercise", "borrow_import", "borrow_getattr", "borrow_source", "borrow_common"):
        assert points(run, student, "test_reparameterize") == 0, student
        assert points(run, student, "test_kl") == 2, student  # their own KL still counts
        assert "cannot be the answer" in feedback(run, student), student
    assert points(run, "borrow_twin", "test_kl") == 0  # a kit function computing the same answer
    assert points(run, "borrow_twin", "test_reparameterize") == 2


def test_no_network(run):
    assert points(run, "networker", "test_add_one") == 0
    assert run["connections"] == 0


def test_process_disk_and_time_limits(run):
    psutil = pytest.importorskip("psutil")
    assert points(run, "forker", "test_add_one") == 0
    assert points(run, "forker", "test_softmax") == 3
    left = [p for p in psutil.process_iter(["cmdline"]) if "lk-forker-mark" in " ".join(p.info["cmdline"] or [])]
    assert [p for p in left if p.status() != psutil.STATUS_ZOMBIE] == []
    assert points(run, "filler", "test_add_one") == 0
    assert "MB to disk" in feedback(run, "filler") or "No space" in feedback(run, "filler")
    leftovers = [p for p in Path("/tmp").glob(f"*/{run['fill_tag']}-*")] + list(
        Path("/tmp").glob(f"{run['fill_tag']}*")
    )
    assert leftovers == []
    assert run["rows"][("sleeper", "test_add_one")]["status"] == "timeout"
    assert points(run, "sleeper", "test_count") == 1


def test_disk_and_memory_out_of_sight_are_counted(run):
    """384 MB in unlinked open files, or in a folder the kernel hid from the grader, break the 300 MB disk
    limit; 3.5 GB in memfds breaks the 3072 MB memory limit: each kernel is stopped, its answer gets nothing."""
    assert points(run, "unlinker", "test_add_one") == 0
    assert "300 MB to disk" in feedback(run, "unlinker")
    assert points(run, "memfder", "test_add_one") == 0
    assert "3072 MB of memory" in feedback(run, "memfder")
    assert points(run, "hider", "test_add_one") == 0
    assert "300 MB to disk" in feedback(run, "hider") or "may not read" in feedback(run, "hider")
    for student in ("unlinker", "memfder", "hider"):
        assert points(run, student, "test_softmax") == 3  # the rest of the copy is graded after the restart


def test_a_kernel_that_kills_everything_it_sees_hurts_only_itself(run):
    assert points(run, "killer", "test_add_one") == 0
    assert points(run, "killer", "test_softmax") == 3
    assert points(run, "killer", "test_count") == 1


def test_without_the_sandbox_changes_are_reported_and_outputs_warn(tmp_path):
    root = tmp_path / "course"
    solutions = make_course(root)
    answer = (
        "from pathlib import Path\n"
        f"Path({str(root / 'planted.py')!r}).write_text('x = 1')\n"
        f"p = Path({str(solutions / '01_demo.ipynb')!r})\n"
        "p.write_text(p.read_text().replace('\"points\": 2', '\"points\": 0'))\n"
        "Path.cwd().parents[1].joinpath('lurking.txt').write_text('for the next kernel')\n"  # the grader's temp
        "def add_one(x):\n    return x + 1"
    )
    put(tmp_path / "subs" / "mallory", with_answers(root, {**RIGHT, "add_one": answer}))
    out = tmp_path / "out" / "grades.csv"
    code = grade_main(
        [
            str(tmp_path / "subs" / "mallory"),
            "--solutions",
            str(solutions),
            "--out",
            str(out),
            "--no-sandbox",
            "-q",
            "--seed",
            "1",
            "--notebook",
            "01_demo",
        ]
    )
    assert code == 1
    review = (out.parent / "grades_review.csv").read_text()
    assert "planted.py (created)" in review and "01_demo.ipynb (changed)" in review
    assert "lurking.txt (created)" in review  # the alarm watches the grader's own temporary folder too
    assert "WITHOUT the sandbox" in review
    assert "WITHOUT the sandbox" in (out.parent / "feedback" / "mallory.md").read_text()
    rows = {r["grade_id"]: r for r in csv.DictReader(out.open())}
    assert float(rows["test_add_one"]["max_points"]) == 2  # the solutions were read before any student code


def test_without_bwrap_grading_stops_with_the_fix(tmp_path, monkeypatch, capsys):
    root = tmp_path / "course"
    solutions = make_course(root)
    put(tmp_path / "subs" / "bob", with_answers(root, RIGHT))
    monkeypatch.setattr(bwrap, "bwrap_path", lambda: None)
    bwrap.sandbox_problem.cache_clear()
    try:
        code = grade_main(
            [str(tmp_path / "subs" / "bob"), "--solutions", str(solutions), "--out", str(tmp_path / "g.csv"), "-q"]
        )
    finally:
        bwrap.sandbox_problem.cache_clear()
    err = capsys.readouterr().err
    assert code == 2 and "apt-get install bubblewrap" in err and "--no-sandbox" in err
    assert not (tmp_path / "g.csv").exists()
