"""The grader under a second red team: each class of attack that once beat it, tried again, graded once as
root and once as an unprivileged user (as CI and most containers run it, and as an instructor's laptop does).

Each attacking answer is right only when its attack works, so an attack that works shows up as points:
escaping through a module planted for the restarted kernel (`resource.py`, startup files), holding a
capability or uid 0 or making namespaces inside the sandbox, reading the grader's environment, a notebook
that is a symlink to the solutions, NaN answers, a kit function nobody listed as a twin (`bits_map(...).mean()`),
and a kernel whose stdout is a host file. Other copies try to stall, bloat or stop the grader: its result
file swapped for a FIFO, an .npz member that inflates 300-fold, a 1,500-deep folder tree, 4,000 `!`
lines in an added cell, a second copy of the notebook nested 100,000 deep, a grade id that is a list, and a
copy that is nothing but such nesting. The honest student gets full marks, every copy gets its rows, the
run ends with status 3 (some copies could not be graded), and nothing is left behind.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from notebook_cells import code_cell, new_notebook, setup_cell, solution_cell
from test_grading import _graded, make_course, with_answers

from lecturekit.grading import bwrap
from lecturekit.notebooks import clean_notebook, student_notebook

pytestmark = pytest.mark.slow
if bwrap.sandbox_problem() and not os.environ.get("LECTUREKIT_REQUIRE_SANDBOX"):
    pytestmark = [pytestmark, pytest.mark.skip(reason=f"no sandbox here: {bwrap.sandbox_problem()}")]

HERE = Path(__file__).resolve().parent
GRADER_UID = 3_800_000  # the unprivileged user the grader runs as in the "user" run (when the tests run as root)
RIGHT = {
    "add_one": "def add_one(x):\n    return x + 1",
    "row_softmax": "def row_softmax(x):\n    return torch.softmax(x, -1)",
    "add_noise": "def add_noise(x, generator):\n    return x + torch.randn(x.shape, generator=generator)",
    "count_positive": "def count_positive(values):\n    return sum(1 for v in values if v > 0)",
}
BITS_RIGHT = (
    "import torch.nn.functional as F\ndef bits_per_pixel_from_logits(logits, targets):\n"
    "    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)) / 0.6931471805599453"
)
WRONG_ADD_ONE = "def add_one(x):\n    return x"


def _right_only_if(condition_code: str) -> str:
    """An add_one that is right only when `WON` (set by `condition_code`) is true."""
    return f"{condition_code}\ndef add_one(x):\n    return x + 1 if WON else x"


PLANTED = (
    "import builtins, torch\n"
    "def add_one(x):\n    return x + 1\n"
    "builtins.add_one = add_one\n"
    "import __main__\n__main__.add_one = add_one\n"
)


def attacks(course: Path) -> dict[str, dict[str, str]]:
    solutions = str(course / "solutions")
    return {
        # plants modules and startup files for the next kernel, then kills its own
        "planter": {
            "add_one": "import os, signal, pathlib\n"
            f"CODE = {PLANTED!r}\n"
            "for name in ('resource.py', 'sitecustomize.py', 'usercustomize.py', 'ipykernel_launcher.py', "
            "'json.py', 'signal.py'):\n"
            "    pathlib.Path(name).write_text(CODE)\n"
            "STARTUP = 'profile_default/startup'\n"
            "for folder in ('.ipython/' + STARTUP, os.path.expanduser('~/.ipython/') + STARTUP, "
            "os.environ.get('IPYTHONDIR', '/tmp/.ipython') + '/' + STARTUP):\n"
            "    try:\n"
            "        pathlib.Path(folder).mkdir(parents=True, exist_ok=True)\n"
            "        (pathlib.Path(folder) / '00-x.py').write_text(CODE)\n"
            "    except OSError:\n        pass\n"
            "os.kill(os.getpid(), signal.SIGKILL)",
        },
        # privilege inside the sandbox: uid 0, a capability, no no_new_privs, no seccomp filter
        "rooted": {
            "add_one": _right_only_if(
                "import os\nst = dict(l.split(':', 1) for l in open('/proc/self/status') if ':' in l)\n"
                "WON = os.getuid() == 0 or os.geteuid() == 0 or int(st['CapEff'], 16) != 0 or "
                "int(st['CapBnd'], 16) != 0 or st['NoNewPrivs'].strip() != '1' or st['Seccomp'].strip() != '2'"
            )
        },
        # namespaces, mounts and ptrace from inside
        "namespacer": {
            "add_one": _right_only_if(
                "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                "WON = libc.unshare(0x10000000) == 0 or libc.unshare(0x20000) == 0 "
                "or libc.mount(b'none', b'/tmp', b'tmpfs', 0, None) == 0 or libc.ptrace(16, 1, 0, 0) == 0"
            )
        },
        # the grader's environment: a course path, the grader's variables
        "environ": {
            "add_one": _right_only_if(
                f"import os\nCOURSE = {solutions!r}\n"
                "values = list(os.environ.values())\n"
                "try:\n    values.append(open('/proc/1/environ', 'rb').read().decode(errors='ignore'))\n"
                "except OSError:\n    pass\n"
                "WON = any(COURSE in v or 'LK_GRADE' in v for v in values) or "
                "any(k.startswith(('LK_GRADE', 'VIRTUAL_ENV', 'PYTHON')) for k in os.environ)"
            )
        },
        # stdout of the kernel: a host file it could fill beyond the disk limit
        "flooder": {
            "add_one": _right_only_if(
                "import os, stat\nWON = stat.S_ISREG(os.fstat(1).st_mode) or stat.S_ISREG(os.fstat(2).st_mode)\n"
                "os.write(1, b'x' * 50_000_000)"
            )
        },
        # NaN where numbers are due
        "nan": {
            **RIGHT,
            "add_one": "def add_one(x):\n    return x * float('nan')",
            "row_softmax": "def row_softmax(x):\n    return torch.full_like(x, float('nan'))",
        },
        # the grader's result file swapped for a FIFO (json.dump replaced, inside the kernel)
        "fifo": {
            **RIGHT,
            "add_one": RIGHT["add_one"] + "\nimport sys, os, json, types\n"
            "fake = types.ModuleType('json')\nfake.__dict__.update(json.__dict__)\n"
            "def dump(obj, f):\n    name = f.name\n    f.close()\n    os.unlink(name)\n    os.mkfifo(name)\n"
            "    sys.modules['json'] = json  # once: the next call writes its results as usual\n"
            "fake.dump = dump\nsys.modules['json'] = fake",
        },
        # a .npz whose member inflates to 256 MB, 300 times its size (numpy.savez replaced, inside the kernel)
        "bomber": {
            **RIGHT,
            "add_one": RIGHT["add_one"] + "\nimport numpy, zipfile\n"
            "def savez(path, **arrays):\n"
            "    header = numpy.lib.format.header_data_from_array_1_0(numpy.zeros(2**26, numpy.float32))\n"
            "    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED, compresslevel=1) as z:\n"
            "        for key in arrays or ['a0']:\n"
            "            with z.open(key + '.npy', 'w', force_zip64=True) as f:\n"
            "                numpy.lib.format.write_array_header_1_0(f, header)\n"
            "                block = bytes(2**22)\n"
            "                for _ in range(64):\n                    f.write(block)\n"
            "    numpy.savez = real  # once: the next call writes its results as usual\n"
            "real = numpy.savez\nnumpy.savez = savez",
        },
        # a folder tree too deep for recursion, in the work folder
        "digger": {
            **RIGHT,
            "add_one": RIGHT["add_one"] + "\nimport os\nfd = os.open('.', os.O_RDONLY)\n"
            "for _ in range(1500):\n"
            "    os.mkdir('d', dir_fd=fd)\n    nfd = os.open('d', os.O_RDONLY, dir_fd=fd)\n    os.close(fd)\n"
            "    fd = nfd\nos.close(fd)",
        },
        # a cell that swallows the interrupt: the kernel is stopped, and the next exercise call restarts it in a
        # fresh folder (its inputs must reach that folder, not the old one)
        "staller": {
            **RIGHT,
            "add_one": RIGHT["add_one"] + "\nimport time\nwhile True:\n    try:\n        time.sleep(0.5)\n"
            "    except KeyboardInterrupt:\n        pass",
        },
        # a message over the iopub cap (8 MB of output at once): dropped, and the copy listed for review
        "shouter": {**RIGHT, "add_one": RIGHT["add_one"] + "\nprint('x' * (9 * 2**20), flush=True)"},
        # the honest student
        "alice": dict(RIGHT),
    }


def kit_notebook() -> nbformat.NotebookNode:
    """A notebook graded with the kit's own nb03.bits exercise (its reference and twins live in the package)."""
    return new_notebook(
        [
            setup_cell(),
            code_cell("import torch\nfrom lecturekit.exercises import check"),
            solution_cell(
                BITS_RIGHT.replace("    return", "    ### BEGIN SOLUTION\n    return") + "\n    ### END SOLUTION",
                "bits_per_pixel_from_logits",
            ),
            _graded('check("nb03.bits", bits_per_pixel_from_logits)', "test_bits", 2, ["nb03.bits"]),
        ]
    )


def _odd_copies(root: Path, subs: Path) -> None:
    """The copies built to break the reader: a symlink, deep nesting, a list for a grade id, `!` lines."""
    (subs / "linker").mkdir(parents=True)
    (subs / "linker" / "01_demo.ipynb").symlink_to(root / "solutions" / "01_demo.ipynb")
    nested = "[" * 100_000 + "]" * 100_000
    (subs / "nester").mkdir()
    (subs / "nester" / "01_demo.ipynb").write_text(json.dumps(with_answers(root, RIGHT)))
    (subs / "nester" / "01_demo (copy).ipynb").write_text('{"cells": ' + nested + "}")
    (subs / "onlynest").mkdir()
    (subs / "onlynest" / "01_demo.ipynb").write_text('{"cells": [' + nested + "]}")
    listed = with_answers(root, RIGHT)
    listed["cells"][1]["metadata"]["nbgrader"] = {"grade_id": ["not", "a", "string"], "solution": True}
    (subs / "lister").mkdir()
    (subs / "lister" / "01_demo.ipynb").write_text(json.dumps(listed))
    banged = with_answers(root, RIGHT)
    banged["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                            "source": "\n".join(f"!echo {i}" for i in range(4000))})  # fmt: skip
    (subs / "banger").mkdir()
    (subs / "banger" / "01_demo.ipynb").write_text(json.dumps(banged))


def build(base: Path) -> tuple[Path, Path]:
    """The course (demo notebook and a kit notebook) and every submission, under `base`."""
    root = base / "course"
    make_course(root)
    kit = kit_notebook()
    nbformat.write(clean_notebook(kit), root / "solutions" / "03_kit.ipynb")
    nbformat.write(student_notebook(kit, "03_kit"), root / "notebooks" / "03_kit.ipynb")
    subs = base / "subs"
    for student, answers in attacks(root).items():
        (subs / student).mkdir(parents=True)
        (subs / student / "01_demo.ipynb").write_text(json.dumps(with_answers(root, answers)))
    twin = with_answers(
        root,
        {
            "bits_per_pixel_from_logits": "from lecturekit.models.pixelrnn import bits_map\n"
            "def bits_per_pixel_from_logits(logits, targets):\n"
            "    return float(bits_map(logits, targets, 1, logits.shape[1]).mean())"
        },
        name="03_kit",
    )
    (subs / "twin").mkdir()
    (subs / "twin" / "03_kit.ipynb").write_text(json.dumps(twin))
    kit_honest = with_answers(root, {"bits_per_pixel_from_logits": BITS_RIGHT}, name="03_kit")
    (subs / "alice" / "03_kit.ipynb").write_text(json.dumps(kit_honest))
    _odd_copies(root, subs)
    return root, subs


def as_unprivileged(command: list[str], uid: int) -> list[str]:
    """`command` run by root as an ordinary user `uid`, with this Python reachable (it may live under /root,
    which only root may enter): a mount namespace made by bwrap shows the Python's folders; nothing else
    changes, and the grader inside is an ordinary process of an ordinary user."""
    shows: list[str] = []
    for root in bwrap.python_roots():
        if root.is_relative_to("/root"):
            parents = [p for p in reversed(root.parents) if p.is_relative_to("/root") and p != Path("/root")]
            for parent in parents:
                shows += ["--perms", "0755", "--dir", str(parent)]
            shows += ["--ro-bind", str(root), str(root)]
    home_mask = ["--perms", "0755", "--tmpfs", "/root", *shows] if shows else []
    return [
        "bwrap", "--dev-bind", "/", "/", *home_mask, "--die-with-parent", "--",
        "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--", *command,
    ]  # fmt: skip


def grade(identity: str, base: Path, subs: Path, root: Path) -> dict:
    out = base / "out" / "grades.csv"
    temp = base / "tmp"
    temp.mkdir()
    command = [
        sys.executable, str(HERE / "red_team_grade.py"), *[str(p) for p in sorted(subs.iterdir())],
        "--solutions", str(root / "solutions"), "--out", str(out), "--jobs", "2", "--timeout", "20",
        "--memory", "3072", "--seed", "19", "-q",
    ]  # fmt: skip
    env = {**os.environ, "TMPDIR": str(temp), "HOME": str(base)}
    if identity == "user" and bwrap.is_root():
        subprocess.run(["chown", "-R", f"{GRADER_UID}:{GRADER_UID}", str(base)], check=True)
        command = as_unprivileged(command, GRADER_UID)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200)
    rows = {(r["student"], r["notebook"], r["grade_id"]): r for r in csv.DictReader(out.open())} if out.exists() else {}
    review = out.with_name("grades_review.csv")
    return {
        "code": done.returncode,
        "stderr": done.stderr,
        "rows": rows,
        "out": out,
        "review": review.read_text() if review.exists() else "",
        "leftover": sorted(p.name for p in temp.iterdir()),
    }


@pytest.fixture(scope="module", params=["root", "user"])
def run(request):
    identity = request.param
    if identity == "root" and not bwrap.is_root():
        pytest.skip("the tests do not run as root here: the root run needs root")
    base = Path(tempfile.mkdtemp(prefix=f"lk-redteam-{identity}-"))
    base.chmod(0o755)
    try:
        root, subs = build(base)
        yield grade(identity, base, subs, root)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def row(run: dict, student: str, grade_id: str, notebook: str = "01_demo") -> tuple[str, float]:
    r = run["rows"][(student, notebook, grade_id)]
    return r["status"], float(r["points"])


def feedback(run: dict, student: str) -> str:
    return (run["out"].parent / "feedback" / f"{student}.md").read_text()


def test_the_honest_student_gets_full_marks_and_the_run_says_some_copies_failed(run):
    assert row(run, "alice", "TOTAL", "ALL") == ("passed", 9.0), run["stderr"][-3000:]  # 7 demo + 2 kit
    assert run["code"] == 3, run["stderr"][-3000:]


@pytest.mark.parametrize("student", ["planter", "rooted", "namespacer", "environ", "flooder"])
def test_escapes_and_privilege_earn_nothing(run, student):
    assert row(run, student, "test_add_one")[1] == 0, feedback(run, student)


def test_a_symlinked_notebook_is_not_graded(run):
    assert row(run, "linker", "TOTAL", "ALL")[1] == 0
    assert "symbolic link" in feedback(run, "linker")


def test_nan_earns_nothing(run):
    assert row(run, "nan", "test_add_one") == ("failed", 0)
    assert row(run, "nan", "test_softmax")[1] == 0
    assert "NaN" in feedback(run, "nan")
    assert row(run, "nan", "test_noise") == ("passed", 1)


def test_an_unlisted_kit_function_cannot_be_the_answer(run):
    assert row(run, "twin", "test_bits", "03_kit")[1] == 0
    assert row(run, "alice", "test_bits", "03_kit") == ("passed", 2)


@pytest.mark.parametrize(("student", "why"), [("fifo", "FIFO"), ("bomber", "compressed")])
def test_hostile_result_files_are_refused_and_listed_for_review(run, student, why):
    assert row(run, student, "test_add_one") == ("error", 0)
    assert row(run, student, "test_softmax") == ("passed", 3)  # the copy goes on after the refused call
    assert why in run["review"]


def test_a_dropped_message_is_listed_for_review(run):
    for grade_id, points in (("test_add_one", 2), ("test_softmax", 3), ("test_noise", 1), ("test_count", 1)):
        assert row(run, "shouter", grade_id) == ("passed", points), feedback(run, "shouter")
    assert any("shouter" in line and "was dropped" in line for line in run["review"].splitlines()), run["review"]


def test_a_stopped_kernel_is_restarted_clean_for_the_next_exercise(run):
    assert row(run, "staller", "test_add_one") == ("timeout", 0)  # its cell never finished: add_one is not defined
    assert row(run, "staller", "test_softmax") == ("passed", 3)


def test_deep_trees_bang_lines_and_odd_metadata_cost_nothing_else(run):
    for student in ("digger", "banger", "lister", "nester"):
        assert row(run, student, "test_softmax") == ("passed", 3), (student, feedback(run, student))
    assert "not a notebook the grader can read" in feedback(run, "nester")
    assert row(run, "onlynest", "test_add_one")[0] == "error"
    assert "onlynest" in run["review"] and "could not be graded" in run["review"]
    assert run["leftover"] == []  # every work folder removed, the 1,500-deep one too
