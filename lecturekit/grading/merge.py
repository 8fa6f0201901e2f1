"""`python -m lecturekit grade-merge SHARD... --out grades.csv`: join the outputs of `grade --shard K/N`.

The merged grades CSV, review file and feedback folder are what one `grade` run over every student
writes: the same rows in the same order, the same feedback files. Only the shards of one run are joined:
each shard's manifest (`OUT_run.json`, shards.py) names the kit, the solutions, the submissions, the
seed and the options it graded with, and a shard whose run differs, a shard given twice, a missing
shard, or a shard whose files do not match its manifest is refused (exit status 2) with what differs,
never with the secret seed itself.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lecturekit.grading.shards import MANIFEST_FORMAT

MAX_MANIFEST_BYTES = 64 * 2**20
HELP = """\
Join the outputs of `lecturekit grade --shard K/N` (N shards of one run) into one grades CSV, one review
file and one feedback folder, the same as one `grade` run over every student would have written.

SHARD is a shard's manifest (OUT_run.json, written beside its grades CSV) or a folder holding exactly one.
Refused (exit status 2): a missing shard, a shard given twice, shards of different runs (the seed, the
solutions, the submissions, the kit or an option differ), a shard whose CSV or feedback does not match
its manifest. Exit status: 0 merged; 1 a shard's run changed files of the course or the package (the
alarm: see the review file); 3 some copies could not be graded; 2 refused or a usage error.
"""


class MergeError(ValueError):
    """Shards that cannot be joined; the message says which and why."""


@dataclass
class ShardOutput:
    """One shard's manifest and where its files are."""

    manifest: Path
    doc: dict[str, Any]
    csv: Path
    review: Path
    feedback: Path

    @property
    def label(self) -> str:
        shard = self.doc["shard"]
        return f"shard {shard['index']}/{shard['count']} ({self.manifest})"


def _manifest_in(path: Path) -> Path:
    if path.is_file():
        return path
    if path.is_dir():
        found = sorted(path.glob("*_run.json"))
        if len(found) == 1:
            return found[0]
        if found:
            names = ", ".join(p.name for p in found)
            raise MergeError(f"{path} holds {len(found)} shard manifests ({names}): name one")
        raise MergeError(f"{path} holds no shard manifest (*_run.json): was it written by `grade --shard K/N`?")
    raise MergeError(f"{path}: no such file or folder")


def load_shard(path: Path) -> ShardOutput:
    """A shard's manifest (the file, or the folder holding it) and the paths it names."""
    manifest = _manifest_in(Path(path))
    try:
        if manifest.stat().st_size > MAX_MANIFEST_BYTES:
            raise MergeError(f"{manifest}: too large for a shard manifest")
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MergeError(f"{manifest}: not a readable shard manifest ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT:
        raise MergeError(f"{manifest}: not a shard manifest of this kit (format {MANIFEST_FORMAT!r} expected)")
    try:
        files = doc["files"]
        base = manifest.parent
        shard = ShardOutput(manifest, doc, base / files["csv"], base / files["review"], base / files["feedback"])
        doc["shard"] = {"index": int(doc["shard"]["index"]), "count": int(doc["shard"]["count"])}
        doc["exit_status"] = int(doc["exit_status"])
        if not isinstance(doc["run"], dict) or not all(isinstance(s, str) for s in doc["students"]):
            raise TypeError("run or students")
    except (KeyError, TypeError, ValueError) as exc:
        raise MergeError(f"{manifest}: an incomplete shard manifest ({exc!r} is missing or wrong)") from None
    return shard


def _differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Names of the run's parts that differ (an option by its name), never their values."""
    out = []
    for key in sorted(set(a) | set(b)):
        if key == "options" and isinstance(a.get(key), dict) and isinstance(b.get(key), dict):
            out += [f"option --{k}" for k in sorted(set(a[key]) | set(b[key])) if a[key].get(k) != b[key].get(k)]
        elif a.get(key) != b.get(key):
            out.append(key)
    return out


_WHAT = {
    "seed": "the seed (each was graded on other secret inputs)",
    "solutions_digest": "the solutions",
    "kit_version": "the kit's version",
    "kit_digest": "the kit's files",
    "submissions_digest": "the submissions (a file was added, removed or changed between the shards)",
    "students_digest": "the students",
    "data_digest": "the data (sprites, weights) the notebooks load",
}


def check_shards(shards: list[ShardOutput]) -> None:
    """Refuse shards that are not all the parts of one run (MergeError says what is wrong)."""
    if not shards:
        raise MergeError("no shard given")
    first = shards[0]
    for other in shards[1:]:
        diff = _differences(first.doc["run"], other.doc["run"])
        if diff:
            what = ", ".join(_WHAT.get(d, d) for d in diff)
            raise MergeError(f"{first.label} and {other.label} are not shards of one run: {what} differ")
    counts = {s.doc["shard"]["count"] for s in shards}
    if len(counts) > 1:
        raise MergeError(f"the shards were cut in different numbers of shards: {sorted(counts)}")
    count = counts.pop()
    seen: dict[int, ShardOutput] = {}
    for s in shards:
        index = s.doc["shard"]["index"]
        if index in seen:
            raise MergeError(f"shard {index}/{count} is given twice: {seen[index].manifest} and {s.manifest}")
        seen[index] = s
    missing = [k for k in range(count) if k not in seen]
    if missing:
        raise MergeError(
            f"missing shard(s) {', '.join(f'{k}/{count}' for k in missing)}: grade them (the same command with "
            f"--shard K/{count}) and merge again"
        )
    for s in shards:
        if s.doc["exit_status"] == 2:
            raise MergeError(f"{s.label} did not grade (exit status 2): run it again")
    _check_students(shards)


def _check_students(shards: list[ShardOutput]) -> None:
    import hashlib

    owner: dict[str, str] = {}
    for s in shards:
        for student in s.doc["students"]:
            if student in owner:
                raise MergeError(f"student {student!r} is in two shards: {owner[student]} and {s.label}")
            owner[student] = s.label
    run = shards[0].doc["run"]
    if hashlib.sha256("\n".join(sorted(owner)).encode()).hexdigest() != run.get("students_digest"):
        raise MergeError(
            f"the shards together hold {len(owner)} student(s), not the {run.get('students_count')} of their run "
            "(was a shard cut with a changed list of students?)"
        )


def _read_csv(path: Path, what: str) -> list[list[str]]:
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return list(csv.reader(f))
    except OSError as exc:
        raise MergeError(f"{what} {path} cannot be read ({exc.strerror or exc})") from None


def merged_grades(shards: list[ShardOutput]) -> str:
    """The grades CSV of all shards: each student's rows (and TOTAL row) together, students in order."""
    from lecturekit.grading.report import CSV_FIELDS

    blocks: dict[str, list[list[str]]] = {}
    for s in shards:
        rows = _read_csv(s.csv, f"{s.label}: its grades CSV")
        if not rows or rows[0] != CSV_FIELDS:
            raise MergeError(f"{s.csv} is not a grades CSV of this kit (header {CSV_FIELDS})")
        mine: dict[str, list[list[str]]] = {}
        for row in rows[1:]:
            mine.setdefault(row[0], []).append(row)
        if sorted(mine) != sorted(s.doc["students"]):
            raise MergeError(f"{s.csv} does not hold the students its manifest names (was it written by another run?)")
        blocks.update(mine)
    return _csv([CSV_FIELDS, *[row for student in sorted(blocks) for row in blocks[student]]])


def merged_review(shards: list[ShardOutput]) -> str:
    """The review file of all shards: run-wide lines first (once), each student's lines in order, then
    the files changed during any shard's run."""
    header: list[str] | None = None
    before: list[list[str]] = []
    after: list[list[str]] = []
    by_student: list[list[str]] = []
    for s in shards:
        rows = _read_csv(s.review, f"{s.label}: its review file")
        if not rows:
            continue
        header = header or rows[0]
        for row in rows[1:]:
            if row and row[0]:
                by_student.append(row)
            elif row and row[-1].startswith("during grading"):
                after += [row] if row not in after else []
            elif row not in before:
                before.append(row)
    by_student.sort(key=lambda r: (r[0], r[1] if len(r) > 1 else ""))  # stable: a shard's own order is kept
    return _csv([header or ["student", "notebook", "what"], *before, *by_student, *sorted(after)])


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _write(path: Path, data: bytes) -> None:
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def merged_feedback(shards: list[ShardOutput]) -> dict[str, bytes]:
    """Each student's feedback file, from the shard that graded the student."""
    out = {}
    for s in shards:
        for student in s.doc["students"]:
            path = s.feedback / f"{student}.md"
            try:
                out[path.name] = path.read_bytes()
            except OSError:
                raise MergeError(f"{s.label}: the feedback file {path} is missing") from None
    return out


def merge(paths: list[Path], out: Path, feedback: Path) -> int:
    """Check and join the shards; write the merged CSV, review file and feedback folder; the exit status."""
    shards = [load_shard(p) for p in paths]
    check_shards(shards)
    sources = {s.feedback.resolve() for s in shards}
    if Path(feedback).resolve() in sources:
        raise MergeError(f"--feedback {feedback} is a shard's own feedback folder: merge into another folder")
    grades, review, files = merged_grades(shards), merged_review(shards), merged_feedback(shards)
    _write(Path(out), grades.encode("utf-8"))
    _write(Path(out).with_name(f"{Path(out).stem}_review.csv"), review.encode("utf-8"))
    for name, data in files.items():
        _write(Path(feedback) / name, data)
    statuses = {s.doc["exit_status"] for s in shards}
    return 1 if 1 in statuses else 3 if 3 in statuses else 0


def main(argv: list[str] | None = None) -> int:
    """`lecturekit grade-merge`: the exit status (see HELP)."""
    parser = argparse.ArgumentParser(
        prog="lecturekit grade-merge", description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("shards", nargs="+", type=Path, help="each shard's manifest (OUT_run.json) or its folder")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"), help="the merged grades CSV")
    parser.add_argument("--feedback", type=Path, default=None, help="the merged feedback folder (default: --out's)")
    args = parser.parse_args(argv)
    feedback = args.feedback or args.out.parent / "feedback"
    try:
        status = merge(args.shards, args.out, feedback)
    except MergeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    review = args.out.with_name(f"{args.out.stem}_review.csv")
    print(f"merged {len(args.shards)} shard(s): {args.out}, {feedback}/, {review}", file=sys.stderr)
    if status == 1:
        print(f"WARNING: files changed during a shard's run (the alarm): see {review}", file=sys.stderr)
    elif status == 3:
        print(f"some copies could not be graded: see {review}", file=sys.stderr)
    return status
