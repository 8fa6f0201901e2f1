"""Which student handed in which notebook: folders and files -> (student, assignment, cells).

A submission folder is named by the student id and holds that student's copies of any of the
notebooks; a single file is `STUDENT__NOTEBOOK.ipynb` (e.g. `alice__03_pixelrnn.ipynb`) or
`STUDENT.ipynb`. A file is matched to a solution notebook by its name, and when the name does not
fit (renamed, "Copy1"...), by the nbgrader grade ids its cells carry. Nothing here runs student code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lecturekit.grading.course import Assignment, cell_source, distinctive_ids, nbgrader_meta

MAX_NOTEBOOK_BYTES = 100 * 2**20
_SAFE = re.compile(r"[^A-Za-z0-9._@+-]+")


@dataclass
class Submission:
    """One student's copy of one notebook (or the lack of it)."""

    student: str
    assignment: str
    path: Path | None = None
    cells: list[dict[str, Any]] | None = None
    problem: str | None = None  # why the file could not be read, when it could not
    notes: list[str] = field(default_factory=list)


@dataclass
class StudentFiles:
    student: str
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def safe_student_id(name: str) -> str:
    """A student id usable as a file name (the feedback file is called after it)."""
    cleaned = _SAFE.sub("_", name).strip("._") or "student"
    return cleaned[:100]


def read_cells(path: Path) -> tuple[list[dict[str, Any]] | None, str | None]:
    """The cells of a submitted notebook, or why they cannot be read. Never raises."""
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            return None, f"the file is {size / 2**20:.0f} MB: too large (clear the outputs and hand it in again)"
        nb = json.loads(path.read_bytes())
    except OSError as exc:
        return None, f"the file cannot be read ({exc.strerror or exc})"
    except (ValueError, RecursionError) as exc:
        return None, f"the file is not a valid notebook: it is not valid JSON ({str(exc)[:120]})"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return None, "the file is not a Jupyter notebook (no list of cells)"
    cells = []
    for raw in nb["cells"]:
        if not isinstance(raw, dict):
            continue
        meta = raw.get("metadata")
        cells.append(
            {
                "cell_type": raw.get("cell_type") if isinstance(raw.get("cell_type"), str) else "raw",
                "source": cell_source(raw),
                "metadata": meta if isinstance(meta, dict) else {},
            }
        )
    return cells, None


def gather(paths: list[Path]) -> dict[str, StudentFiles]:
    """Students and their notebook files, from folders (one per student) and single files."""
    students: dict[str, StudentFiles] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            student = safe_student_id(path.name)
            files = sorted(
                p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and not p.name.startswith(".")
            )
            entry = students.setdefault(student, StudentFiles(student))
            entry.files += files
            if not files:
                entry.notes.append(f"the folder {path.name}/ holds no .ipynb file")
        elif path.suffix == ".ipynb":
            stem = path.stem
            student = safe_student_id(stem.split("__", 1)[0] if "__" in stem else stem)
            students.setdefault(student, StudentFiles(student)).files.append(path)
        else:
            raise FileNotFoundError(f"{path}: not a folder of notebooks nor an .ipynb file")
    return students


def _name_match(stem: str, names: list[str]) -> str | None:
    """The solution whose file name the stem contains (longest first), else one with the same NN_ prefix."""
    low = stem.lower()
    for name in sorted(names, key=len, reverse=True):
        if name.lower() in low:
            return name
    prefix = re.match(r"(\d\d)[_\- ]", stem)
    if prefix:
        same = [n for n in names if n.startswith(prefix.group(1) + "_")]
        if len(same) == 1:
            return same[0]
    return None


def match_student(
    entry: StudentFiles, course: dict[str, Assignment], ungraded: set[str] | frozenset[str] = frozenset()
) -> tuple[dict[str, Submission], list[str]]:
    """The student's submission per assignment name, and notes about files that fit none (a copy of a
    notebook without graded cells, named in `ungraded`, is passed over silently)."""
    ids = distinctive_ids(course)
    notes = list(entry.notes)
    chosen: dict[str, list[tuple[tuple[int, int, float], Submission]]] = {}
    for path in entry.files:
        stem = path.stem.split("__", 1)[1] if "__" in path.stem else path.stem
        cells, problem = read_cells(path)
        by_name = _name_match(stem, list(course))
        file_ids = {g for c in cells or [] if (g := nbgrader_meta(c).get("grade_id"))}
        scores = {name: len(file_ids & ids[name]) for name in course}
        best = max(scores, key=lambda n: scores[n]) if scores else None
        sub_notes = []
        if by_name and (scores.get(by_name, 0) > 0 or not best or scores[best] == 0):
            name = by_name
        elif best and scores[best] > 0:
            name = best
            sub_notes.append(
                f"{path.name} was graded as {best}.ipynb: its cells belong to that notebook"
                + (f" (its name suggests {by_name})" if by_name else "")
            )
        elif any(name.lower() in stem.lower() for name in ungraded):
            continue
        else:
            why = problem or "neither its name nor its cells match a notebook of the course"
            notes.append(f"{path.name} was not graded: {why}")
            continue
        exact = int(stem == name)
        try:
            mtime = path.stat().st_mtime
        except OSError:
            mtime = 0.0
        sub = Submission(entry.student, name, path, cells, problem, sub_notes)
        chosen.setdefault(name, []).append(((exact, scores.get(name, 0), mtime), sub))
    result = {}
    for name, options in chosen.items():
        options.sort(key=lambda o: o[0], reverse=True)
        sub = options[0][1]
        for _, other in options[1:]:
            sub.notes.append(
                f"{other.path.name if other.path else '?'} was not graded: "
                f"{sub.path.name if sub.path else '?'} is the copy of {name} that was graded"
            )
        result[name] = sub
    return result, notes
