"""`python -m lecturekit gradescope ASSIGNMENT --out autograder.zip`: a Gradescope autograder for one notebook.

Gradescope unpacks the zip into /autograder/source, runs `setup.sh` once when it builds the image, then
`run_autograder` once per submission, in a fresh container each time. The zip holds, at its root:
- `setup.sh`: Python, bubblewrap, a virtual environment with CPU torch and the kit's dependencies;
- `run_autograder`: grades /autograder/submission and writes /autograder/results/results.json
  (`lecturekit gradescope-run`, gradescope_run.py);
- `lecturekit-gradescope.json`: the assignment, the secret seed, the limits, the visibilities, the
  language and the sandbox choice;
- `course/solutions/ASSIGNMENT.ipynb`: the one solution notebook graded;
- `kit/`: this kit's package, data, pyproject.toml and README, so the container grades with the code
  that was tested here;
- `course/data/NAME/`: the course data set in force (`LECTUREKIT_DATA`), when there is one, so that the
  notebooks load the same sprites and weights there as here.
The zip holds the solutions and the seed: keep it private (upload it to Gradescope only).
"""

from __future__ import annotations

import argparse
import io
import json
import secrets
import sys
import zipfile
from pathlib import Path

from lecturekit.grading.gradescope import SANDBOX_CHOICES, SETTINGS_FILE, VISIBILITIES, Settings, Visibility
from lecturekit.grading.sandbox import LIMIT_RULES, add_limit_options, limit_options_possible

ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed, so that the same course and settings give the same zip
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (an Ubuntu base image).
# Written by `python -m lecturekit gradescope` (lecturekit {version}).
set -euo pipefail
ROOT="${{LECTUREKIT_GRADESCOPE_ROOT:-/autograder}}"
SOURCE="$ROOT/source"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# bubblewrap: the grading sandbox, used when the container allows namespaces (else the container is the sandbox)
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap
python3 -m venv "$ROOT/lecturekit-venv"
PIP="$ROOT/lecturekit-venv/bin/pip"
"$PIP" install --upgrade pip
"$PIP" install {torch} --index-url {torch_index}
"$PIP" install "$SOURCE/kit[instructor]"
# the kit runs from source/kit (run_autograder puts it first on PYTHONPATH): only its dependencies stay installed
"$PIP" uninstall -y lecturekit
PYTHONPATH="$SOURCE/kit" PYTHONDONTWRITEBYTECODE=1 "$ROOT/lecturekit-venv/bin/python" -m lecturekit \\
    gradescope-run --root "$ROOT" --check
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this once per submission, as root, in /autograder (a fresh container each time).
# Written by `python -m lecturekit gradescope` (lecturekit {version}). To try it elsewhere, lay out a folder like
# /autograder (source/ = this zip, submission/ = a student's files) and set LECTUREKIT_GRADESCOPE_ROOT to it;
# LECTUREKIT_PYTHON picks the Python (default: the one setup.sh made).
ROOT="${{LECTUREKIT_GRADESCOPE_ROOT:-/autograder}}"
PY="${{LECTUREKIT_PYTHON:-$ROOT/lecturekit-venv/bin/python}}"
export PYTHONPATH="$ROOT/source/kit"
export PYTHONDONTWRITEBYTECODE=1
cd "$ROOT" || exit 2
"$PY" -m lecturekit gradescope-run --root "$ROOT"
status=$?
echo "lecturekit gradescope-run: exit status $status (0 graded, 1 files changed during the run, 2 not graded, \
3 some cells could not be graded)"
# results.json (written in every case the grader could start) is what Gradescope shows; fail only without it
if [ -s "$ROOT/results/results.json" ]; then exit 0; fi
exit "$status"
"""


def torch_requirement() -> str:
    """The torch this kit was tested with here, for the container (a CPU build: Gradescope has no GPU)."""
    try:
        import torch

        return f"torch=={torch.__version__.split('+')[0]}"
    except ImportError:
        return "torch"


def kit_files() -> list[tuple[str, Path]]:
    """(name in the zip, file) for the kit: its package, data, pyproject.toml and README (a checkout's)."""
    import lecturekit
    from lecturekit.paths import data_dir

    package = Path(lecturekit.__file__).resolve().parent
    root = package.parent
    if not (root / "pyproject.toml").is_file():
        raise FileNotFoundError(
            f"{package} is an installed copy of the kit, without its pyproject.toml: run `lecturekit gradescope` "
            "in the kit's checkout (where solutions/ is)"
        )
    skip = {"__pycache__", "_solutions", "_data"}
    out = [
        (f"kit/lecturekit/{p.relative_to(package).as_posix()}", p)
        for p in sorted(package.rglob("*"))
        if p.is_file() and not skip & set(p.relative_to(package).parts) and p.suffix != ".pyc"
    ]
    data = data_dir().resolve()
    out += [(f"kit/data/{p.relative_to(data).as_posix()}", p) for p in sorted(data.rglob("*")) if p.is_file()]
    names = ("pyproject.toml", "README.md", "LICENSE")
    out += [(f"kit/{name}", root / name) for name in names if (root / name).is_file()]
    return out


def course_data_files() -> tuple[str | None, list[tuple[str, Path]]]:
    """The course data set in force (under the data switch): its folder in the zip and its files (no resume files)."""
    from lecturekit.datasets import active

    data = active()
    if data.is_kit:
        return None, []
    where = f"course/data/{data.folder.name}"
    files = [(p.relative_to(data.folder).as_posix(), p) for p in sorted(data.folder.rglob("*")) if p.is_file()]
    return where, [(f"{where}/{name}", p) for name, p in files if not name.startswith("training/")]


def _add(zf: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    zf.writestr(info, data)


def find_assignment(name: str, solutions: Path) -> Path:
    """The solution notebook ASSIGNMENT names: its file stem, or a part of it that only one notebook has ("03")."""
    from lecturekit.grading.course import load_course

    course = load_course(solutions)
    if name in course:
        return course[name].path
    found = [a for a in course if name.lower() in a.lower()]
    if len(found) == 1:
        return course[found[0]].path
    known = ", ".join(sorted(course))
    raise ValueError(f"{name!r} names {'several' if found else 'no'} graded notebook(s) of {solutions}; known: {known}")


def build_autograder(solution: Path, out: Path, settings: Settings, torch: str | None = None) -> Path:
    """Write the autograder zip for `solution` (one graded notebook) with `settings`; returns `out`."""
    import lecturekit

    version = lecturekit.__version__
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        setup = SETUP_SH.format(version=version, torch=torch or torch_requirement(), torch_index=TORCH_INDEX)
        _add(zf, "setup.sh", setup.encode(), executable=True)
        _add(zf, "run_autograder", RUN_AUTOGRADER.format(version=version).encode(), executable=True)
        _add(zf, SETTINGS_FILE, (json.dumps(settings.to_json(), indent=1) + "\n").encode())
        _add(zf, f"course/solutions/{solution.name}", solution.read_bytes())
        for name, path in kit_files() + course_data_files()[1]:
            _add(zf, name, path.read_bytes(), executable=bool(path.stat().st_mode & 0o111))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(out)
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lecturekit gradescope",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("assignment", help="the notebook to grade: its file stem (03_pixelrnn) or a unique part (03)")
    parser.add_argument("--out", type=Path, default=Path("autograder.zip"), help="the zip (default autograder.zip)")
    parser.add_argument("--solutions", type=Path, default=None, help="the solution notebooks (default: solutions/)")
    parser.add_argument(
        "--seed", type=int, default=None, help="the secret seed of the hidden inputs (default: a new random one)"
    )
    vis = ", ".join(VISIBILITIES)
    parser.add_argument(
        "--hidden-tests-visibility",
        default="after_due_date",
        choices=VISIBILITIES,
        help=f"when students see the cells graded on hidden inputs: {vis} (default after_due_date)",
    )
    parser.add_argument(
        "--visibility", default="visible", choices=VISIBILITIES, help="when students see the other cells"
    )
    parser.add_argument(
        "--stdout-visibility",
        default="hidden",
        choices=VISIBILITIES,
        help="when students see the grader's log (default hidden: it is for you)",
    )
    add_limit_options(parser)
    parser.add_argument("--full", action="store_true", help="run every cell up to the last graded one")
    parser.add_argument("--lang", default=None, help="feedback language for everyone (default: each student's edition)")
    parser.add_argument(
        "--sandbox",
        default="auto",
        choices=SANDBOX_CHOICES,
        help="auto (default): bubblewrap where the container allows it, else the container is the sandbox; "
        "require: no grading without bubblewrap; off: never",
    )
    parser.add_argument("--torch", default=None, help="the torch requirement for setup.sh (default: this one's)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Write the autograder zip; exit status 0, or 2 for a usage error."""
    import lecturekit
    from lecturekit.grading.course import CourseError, default_solutions_dir
    from lecturekit.i18n import normalize_language

    parser = build_parser()
    args = parser.parse_args(argv)
    if not limit_options_possible(args):
        parser.error(f"out of range: {LIMIT_RULES}")
    try:
        lang = normalize_language(args.lang) if args.lang else None
        solution = find_assignment(args.assignment, args.solutions or default_solutions_dir())
        settings = Settings(
            assignment=solution.stem,
            seed=args.seed if args.seed is not None else secrets.randbelow(2**31),
            visibility=Visibility(args.visibility, args.hidden_tests_visibility, args.stdout_visibility),
            timeout=args.timeout,
            memory_mb=args.memory,
            processes=args.processes,
            disk_mb=args.disk,
            full=args.full,
            lang=lang,
            sandbox=args.sandbox,
            kit_version=lecturekit.__version__,
            data=course_data_files()[0],
        )
        out = build_autograder(solution, args.out, settings, args.torch)
    except (CourseError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {out} ({out.stat().st_size / 2**20:.1f} MB): the Gradescope autograder for {solution.name}. "
        "It holds the solution and the secret seed: upload it to Gradescope (Configure Autograder -> zip file) "
        "and keep it private.",
        file=sys.stderr,
    )
    return 0
