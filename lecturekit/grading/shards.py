"""Grading a course in shards: `grade --shard K/N` grades one stable share of the students.

Every shard reads the whole list of students (the submissions' names, cheap) and orders it by a hash of
the ids; shard K takes the students at places K, K+N, K+2N...: shards differ by at most one student, and
every shard, on any machine and in any re-run over the same submissions, agrees on who is whose without
talking to the others (a hash of each id alone, also stable, left shards of 100 students 20 to 31 apart).
`--shard auto` takes K (and N) from the engine that started the process: a Kubernetes Indexed Job
(`JOB_COMPLETION_INDEX`; N from `--shards` or `LECTUREKIT_GRADE_SHARDS`) or a Slurm job array
(`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_MIN`, `SLURM_ARRAY_TASK_COUNT`).

Beside its CSV each shard writes a manifest (`OUT_run.json`) naming what makes two shards parts of one
run: the kit (version and a digest of its files), the solutions, the submissions, the secret seed and
the options. `grade-merge` (merge.py) joins shards only when these agree and every shard is there.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST_FORMAT = "lecturekit-grade-shard/1"
SHARDS_VAR = "LECTUREKIT_GRADE_SHARDS"
MAX_SHARDS = 10_000


class ShardError(ValueError):
    """A --shard value that names no shard (the message says what to write instead)."""


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (0-based, as Kubernetes and `--shard 0/4` count)."""

    index: int
    count: int
    source: str = "--shard"

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"


def shard_order(students: Iterable[str]) -> list[str]:
    """The students in the order shards are dealt from: by a hash of the id (the same on every machine; ties,
    which sha256 does not make, by the id), so no shard takes one end of the alphabet."""
    return sorted(set(students), key=lambda s: (hashlib.sha256(s.encode("utf-8")).digest(), s))


def shard_members(students: Iterable[str], shard: Shard) -> set[str]:
    """The students `shard` grades, out of all of them."""
    return {s for place, s in enumerate(shard_order(students)) if place % shard.count == shard.index}


def shard_filter(paths: list[Path], shard: Shard) -> Callable[[str], bool]:
    """grade()'s `students` filter for `shard`, over every student found in the submissions `paths`."""
    from lecturekit.grading.matching import gather

    return shard_members(gather([Path(p) for p in paths]), shard).__contains__


def _checked(index: int, count: int, source: str) -> Shard:
    if not 1 <= count <= MAX_SHARDS:
        raise ShardError(f"{source}: the number of shards must be between 1 and {MAX_SHARDS}, not {count}")
    if not 0 <= index < count:
        raise ShardError(f"{source}: shard {index} does not exist among {count} (they count from 0 to {count - 1})")
    return Shard(index, count, source)


def _integer(value: str, what: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise ShardError(f"{what} is {value!r}, not a whole number") from None


def parse_shard(text: str, count: int | None = None, env: Mapping[str, str] | None = None) -> Shard:
    """`K/N`, or `auto` (from a Kubernetes Indexed Job or a Slurm job array); `count` is `--shards`."""
    env = os.environ if env is None else env
    text = text.strip()
    if text != "auto":
        index, slash, total = text.partition("/")
        if not slash:
            raise ShardError(f"--shard {text!r}: write K/N (e.g. --shard 0/4, the first of 4 shards) or --shard auto")
        return _checked(_integer(index, "--shard's K"), _integer(total, "--shard's N"), f"--shard {text}")
    in_k8s, in_slurm = "JOB_COMPLETION_INDEX" in env, "SLURM_ARRAY_TASK_ID" in env
    if in_k8s and in_slurm:
        raise ShardError("--shard auto: both JOB_COMPLETION_INDEX and SLURM_ARRAY_TASK_ID are set; write --shard K/N")
    if in_k8s:
        return _kubernetes(env, count)
    if in_slurm:
        return _slurm(env, count)
    raise ShardError(
        "--shard auto reads the shard from a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or a Slurm job array "
        "(SLURM_ARRAY_TASK_ID), and neither is set here; write --shard K/N instead"
    )


def _kubernetes(env: Mapping[str, str], count: int | None) -> Shard:
    index = _integer(env["JOB_COMPLETION_INDEX"], "JOB_COMPLETION_INDEX")
    if count is None and env.get(SHARDS_VAR):
        count = _integer(env[SHARDS_VAR], SHARDS_VAR)
    if count is None:
        raise ShardError(
            f"--shard auto in a Kubernetes Indexed Job needs the number of shards (the Job's completions): "
            f"pass --shards N or set {SHARDS_VAR}=N"
        )
    return _checked(index, count, f"JOB_COMPLETION_INDEX={index}")


def _slurm(env: Mapping[str, str], count: int | None) -> Shard:
    task = _integer(env["SLURM_ARRAY_TASK_ID"], "SLURM_ARRAY_TASK_ID")
    low = _integer(env.get("SLURM_ARRAY_TASK_MIN", "0"), "SLURM_ARRAY_TASK_MIN")
    step = _integer(env.get("SLURM_ARRAY_TASK_STEP", "1"), "SLURM_ARRAY_TASK_STEP")
    if step != 1:
        raise ShardError(f"--shard auto: the Slurm array steps by {step}; use a plain range (#SBATCH --array=0-N)")
    if count is None:
        if "SLURM_ARRAY_TASK_COUNT" not in env:
            raise ShardError("--shard auto in a Slurm array needs SLURM_ARRAY_TASK_COUNT (Slurm 17.11+) or --shards N")
        count = _integer(env["SLURM_ARRAY_TASK_COUNT"], "SLURM_ARRAY_TASK_COUNT")
    return _checked(task - low, count, f"SLURM_ARRAY_TASK_ID={task}")


# ---- what makes shards parts of one run ----


def _files_digest(paths: list[tuple[str, Path]], limit: int | None = None) -> str:
    """One digest of named files' contents (names included, so a renamed file counts); with `limit`, of each
    file's size and first `limit` bytes (students' files: see _head)."""
    h = hashlib.sha256()
    for name, path in sorted(paths):
        h.update(name.encode("utf-8", "surrogateescape") + b"\0")
        try:
            if limit is not None:
                h.update(_head(path, limit))
            else:
                with open(path, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)
        except OSError as exc:
            h.update(f"unreadable: {exc.strerror}".encode())
        h.update(b"\0")
    return h.hexdigest()


def _head(path: Path, limit: int) -> bytes:
    """A student's file as the digest counts it: its size and its first `limit` bytes (the grader reads no more),
    opened without following a link or blocking on a FIFO; a sparse file of a terabyte costs no more."""
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC), "rb") as f:
        info = os.fstat(f.fileno())
        return f"{info.st_size}:".encode() + f.read(limit) if stat.S_ISREG(info.st_mode) else b"not a regular file"


def kit_digest() -> str:
    """The kit's own files (code, messages): two installs grade alike only if this agrees."""
    import lecturekit

    package = Path(lecturekit.__file__).resolve().parent
    files = [
        (p.relative_to(package).as_posix(), p)
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and "_data" not in p.parts and p.suffix != ".pyc"
    ]
    return _files_digest(files)


def solutions_digest(solutions_dir: Path) -> str:
    return _files_digest([(p.name, p) for p in Path(solutions_dir).glob("*.ipynb")])


def submissions_digest(paths: list[Path]) -> tuple[list[str], str]:
    """Every student id in the submissions and one digest of all their notebook files."""
    from lecturekit.grading.matching import MAX_NOTEBOOK_BYTES, gather

    students = gather([Path(p) for p in paths])
    files = [(f"{s}/{f.name}", f) for s, entry in students.items() for f in entry.files]
    return sorted(students), _files_digest(files, limit=MAX_NOTEBOOK_BYTES + 1)


def run_identity(
    paths: list[Path], solutions_dir: Path, seed: int, options: dict[str, Any], notebooks: list[str]
) -> dict[str, Any]:
    """What every shard of one run shares; `grade-merge` refuses shards whose identities differ."""
    import lecturekit
    from lecturekit.datasets import active
    from lecturekit.paths import data_dir

    students, submissions = submissions_digest(paths)
    data = active()
    folder = data_dir() if data.is_kit else data.folder
    data_files = [(p.relative_to(folder).as_posix(), p) for p in folder.rglob("*") if p.is_file()]
    return {
        "kit_version": lecturekit.__version__,
        "kit_digest": kit_digest(),
        "solutions_digest": solutions_digest(solutions_dir),
        "seed": seed,
        "options": dict(sorted(options.items())),
        "notebooks": sorted(notebooks),
        "data": "kit" if data.is_kit else data.name,
        "data_digest": _files_digest([(n, p) for n, p in data_files if not n.startswith("training/")]),
        "students_digest": hashlib.sha256("\n".join(students).encode()).hexdigest(),
        "students_count": len(students),
        "submissions_digest": submissions,
    }


def manifest_path(out_csv: Path) -> Path:
    """The shard manifest beside its grades CSV: grades.csv -> grades_run.json."""
    return Path(out_csv).with_name(f"{Path(out_csv).stem}_run.json")


def _relative(path: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(Path(path).resolve(), base.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return str(Path(path).resolve())


def write_manifest(
    out_csv: Path,
    shard: Shard,
    identity: dict[str, Any],
    students: list[str],
    feedback: Path,
    review: Path,
    exit_status: int,
) -> Path:
    """Write the shard's manifest (after its CSV, review and feedback files), atomically."""
    path = manifest_path(out_csv)
    base = path.parent
    doc = {
        "format": MANIFEST_FORMAT,
        "shard": {"index": shard.index, "count": shard.count, "from": shard.source},
        "run": identity,
        "students": sorted(students),
        "exit_status": exit_status,
        "files": {
            "csv": _relative(out_csv, base),
            "review": _relative(review, base),
            "feedback": _relative(feedback, base),
        },
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


# ---- the grade command's side ----

# grade's options that do not change a grade (where files go, how many kernels at once, the shard itself)
_NOT_IDENTITY = frozenset(
    {"submissions", "out", "feedback", "jobs", "quiet", "shard", "shards", "solutions", "seed", "notebook"}
)


def shard_from_args(parser: Any, args: Any) -> Shard | None:
    """The shard asked for on grade's command line (None: all students); a usage error exits with status 2.
    A shard's old manifest is removed first, so a shard that fails now leaves none for grade-merge to take."""
    if args.shard is None:
        if args.shards is not None:
            parser.error("--shards is the number of shards for --shard auto; pass --shard too")
        return None
    try:
        shard = parse_shard(args.shard, args.shards)
    except ShardError as exc:
        parser.error(str(exc))
    if args.seed is None:
        parser.error(
            "--shard needs --seed N, the same for every shard (each shard would draw its own secret inputs "
            "otherwise): pick a number, keep it secret, pass it to every shard"
        )
    manifest_path(args.out).unlink(missing_ok=True)
    return shard


def _csv_students(path: Path) -> list[str]:
    import csv

    with open(path, encoding="utf-8", newline="") as f:
        return sorted({row["student"] for row in csv.DictReader(f) if row.get("grade_id") == "TOTAL"})


def finish_shard(args: Any, shard: Shard, status: int) -> Path:
    """Write the shard's manifest beside its CSV, once its CSV, review and feedback files are written."""
    import sys

    from lecturekit.grading.course import default_solutions_dir

    solutions = args.solutions or default_solutions_dir()
    options = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k not in _NOT_IDENTITY}
    identity = run_identity(args.submissions, solutions, args.seed, options, list(args.notebook or []))
    feedback = args.feedback or args.out.parent / "feedback"
    review = args.out.with_name(f"{args.out.stem}_review.csv")
    students = _csv_students(args.out)
    path = write_manifest(args.out, shard, identity, students, feedback, review, status)
    print(
        f"shard {shard.label} ({shard.source}): {len(students)} of {identity['students_count']} student(s); "
        f"merge the shards with `python -m lecturekit grade-merge` ({path})",
        file=sys.stderr,
    )
    return path
