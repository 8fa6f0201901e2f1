"""Which student handed in which notebook: folders and files -> (student, assignment, cells).

A submission folder is named by the student id and holds that student's copies of any of the
notebooks; a single file is `STUDENT__NOTEBOOK.ipynb` (e.g. `alice__03_pixelrnn.ipynb`) or
`STUDENT.ipynb`. A file is matched to a solution notebook by its name, and when the name does not
fit (renamed, "Copy1"...), by the nbgrader grade ids its cells carry. Nothing here runs student code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lecturekit.grading.course import Assignment, cell_source, distinctive_ids, nbgrader_meta
from lecturekit.grading.untrusted import UntrustedFileError, read_json, walk_files

MAX_NOTEBOOK_BYTES = 32 * 2**20
MAX_NOTEBOOK_DEPTH = 64  # a notebook nests about 6 levels; metadata a few more
MAX_NOTEBOOK_VALUES = 400_000
MAX_CELLS = 5_000
MAX_CELL_CHARS = 400_000
_SAFE = re.compile(r"[^A-Za-z0-9._@+-]+")
_CELL_TYPES = ("code", "markdown", "raw")


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


def read_notebook(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """A handed-in notebook as hostile data: read without following a link, size and shape capped before
    parsing (untrusted.py), or why it cannot be read. Never raises."""
    try:
        nb = read_json(path, MAX_NOTEBOOK_BYTES, MAX_NOTEBOOK_DEPTH, MAX_NOTEBOOK_VALUES)
    except UntrustedFileError as exc:
        return None, f"the file is not a notebook the grader can read ({exc}); hand in the .ipynb file itself"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return None, "the file is not a Jupyter notebook (no list of cells)"
    return nb, None


def read_cells(path: Path) -> tuple[list[dict[str, Any]] | None, str | None]:
    """The cells of a submitted notebook, kept to what the grader uses and each field of the type it expects
    (a grade id is a short string, or the cell has none), or why they cannot be read. Never raises."""
    nb, problem = read_notebook(path)
    if nb is None:
        return None, problem
    return [_plain_cell(raw) for raw in nb["cells"][:MAX_CELLS] if isinstance(raw, dict)], None


def _plain_cell(raw: dict[str, Any]) -> dict[str, Any]:
    """One cell as plain data: its type, its source (a huge one replaced by code that says so) and its
    nbgrader grade id, nothing else of its metadata."""
    kind = raw.get("cell_type") if raw.get("cell_type") in _CELL_TYPES else "raw"
    source = cell_source(raw)
    if len(source) > MAX_CELL_CHARS:
        source = (
            f"raise RuntimeError('this cell holds {len(source)} characters: over the grader limit of {MAX_CELL_CHARS}')"
        )
    meta = raw.get("metadata")
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    plain_meta = {"nbgrader": {"grade_id": grade_id}} if isinstance(grade_id, str) and 0 < len(grade_id) <= 200 else {}
    return {"cell_type": kind, "source": source, "metadata": plain_meta}


def notebook_language(path: Path) -> str | None:
    """The edition a handed-in notebook comes from (its metadata's lecturekit.lang), None if not marked."""
    from lecturekit.i18n import normalize_language

    nb, _problem = read_notebook(path)
    meta = nb.get("metadata") if nb else None
    kit = meta.get("lecturekit") if isinstance(meta, dict) else None
    lang = kit.get("lang") if isinstance(kit, dict) else None
    try:
        return normalize_language(lang) if isinstance(lang, str) and len(lang) < 20 else None
    except ValueError:
        return None


def gather(paths: list[Path]) -> dict[str, StudentFiles]:
    """Students and their notebook files, from folders (one per student) and single files. Folders are
    walked without following links; a file that is a link, not a regular file, or oddly named is listed
    as not graded, with the reason."""
    students: dict[str, StudentFiles] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir() and not path.is_symlink():
            entry = students.setdefault(safe_student_id(path.name), StudentFiles(safe_student_id(path.name)))
            found = list(walk_files(path, ".ipynb"))
            for file, problem in found:
                if problem:
                    entry.notes.append(f"{file.name[:80]!r} was not graded: {problem}")
                else:
                    entry.files.append(file)
            if not found:
                entry.notes.append(f"the folder {path.name}/ holds no .ipynb file")
        elif path.suffix == ".ipynb" and (path.is_file() or path.is_symlink()):
            stem = path.stem
            student = safe_student_id(stem.split("__", 1)[0] if "__" in stem else stem)
            entry = students.setdefault(student, StudentFiles(student))
            if path.is_symlink() or not path.is_file():
                entry.notes.append(f"{path.name} was not graded: it is a symbolic link, not a file")
            else:
                entry.files.append(path)
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
    chosen: dict[str, list[tuple[tuple[bool, int, int, float], Submission]]] = {}
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
        chosen.setdefault(name, []).append(((cells is not None, exact, scores.get(name, 0), mtime), sub))
    result = {}
    for name, options in chosen.items():
        options.sort(key=lambda o: o[0], reverse=True)  # a readable copy first, then the best named
        sub = options[0][1]
        for _, other in options[1:]:
            why = other.problem or f"{sub.path.name if sub.path else '?'} is the copy of {name} that was graded"
            sub.notes.append(f"{other.path.name if other.path else '?'} was not graded: {why}")
        result[name] = sub
    return result, notes
