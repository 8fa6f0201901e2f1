"""The instructor's side of grading: the solution notebooks, read once into memory.

Tests, locked cells and points always come from here, never from a submission, so a student who
edits, moves or deletes a test cell, or changes its metadata, changes nothing. The files are read
before any student code runs; `changed_files` tells afterwards whether anything in the course
folder or the package was created, changed or deleted during the run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lecturekit.exercises import all_exercises
from lecturekit.notebooks import BEGIN_HIDDEN, END_HIDDEN, student_cell


class CourseError(ValueError):
    """The solutions folder cannot be graded from (missing, or a notebook with bad grading metadata)."""


@dataclass
class GradedCell:
    """One graded test cell of a solution notebook: one row of the grades table."""

    grade_id: str
    points: float
    index: int
    source: str
    exercises: list[str]
    partial: bool

    @property
    def has_hidden(self) -> bool:
        return BEGIN_HIDDEN in self.source and END_HIDDEN in self.source


@dataclass
class Assignment:
    """One solution notebook, with what grading needs from it."""

    name: str
    path: Path
    cells: list[dict[str, Any]]
    digest: str
    graded: list[GradedCell] = field(default_factory=list)

    @property
    def max_points(self) -> float:
        return float(sum(g.points for g in self.graded))

    def grade_ids(self) -> set[str]:
        return {gid for c in self.cells if (gid := nbgrader_meta(c).get("grade_id"))}

    def solution_ids(self) -> list[str]:
        metas = [nbgrader_meta(c) for c in self.cells if c.get("cell_type") == "code"]
        return [m["grade_id"] for m in metas if m.get("solution") and m.get("grade_id")]

    def stub_source(self, index: int) -> str:
        """What the student copy of cell `index` holds (solution regions replaced by the stub)."""
        from nbformat import from_dict

        return student_cell(from_dict(self.cells[index]), f"{self.name}, cell {index}").source


def cell_source(cell: dict[str, Any]) -> str:
    """A cell's source as one string (nbformat allows a list of lines)."""
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(str(s) for s in source)
    return source if isinstance(source, str) else ""


def nbgrader_meta(cell: dict[str, Any]) -> dict[str, Any]:
    meta = cell.get("metadata")
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def lecturekit_meta(cell: dict[str, Any]) -> dict[str, Any]:
    meta = cell.get("metadata")
    meta = meta.get("lecturekit") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def load_assignment(path: Path) -> Assignment:
    """Read one solution notebook and its graded cells (exercise names are checked against the registry)."""
    raw = path.read_bytes()
    try:
        nb = json.loads(raw)
        cells = [dict(c) for c in nb["cells"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise CourseError(f"{path}: not a readable notebook ({exc})") from None
    for cell in cells:
        cell["source"] = cell_source(cell)
    assignment = Assignment(path.stem, path, cells, hashlib.sha256(raw).hexdigest())
    known = all_exercises()
    seen: set[str] = set()
    for index, cell in enumerate(cells):
        meta = nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if gid in seen:
            raise CourseError(f"{path.name}: grade_id {gid!r} is used twice; grade ids must be unique")
        if gid:
            seen.add(gid)
        if cell.get("cell_type") != "code" or not meta.get("grade"):
            continue
        if not gid:
            raise CourseError(f"{path.name}, cell {index}: a graded cell without an nbgrader grade_id")
        extra = lecturekit_meta(cell)
        names = extra.get("exercises") or []
        if isinstance(names, str):
            names = [names]
        missing = [n for n in names if n not in known]
        if missing:
            raise CourseError(
                f"{path.name}, test cell {gid!r}: exercise(s) {missing} are not registered in lecturekit.exercises "
                "(add them to lecturekit/exercises/nbNN.py, or fix the cell's metadata['lecturekit']['exercises'])"
            )
        assignment.graded.append(
            GradedCell(
                grade_id=gid,
                points=float(meta.get("points", 0) or 0),
                index=index,
                source=cell["source"],
                exercises=list(names),
                partial=bool(extra.get("partial", False)),
            )
        )
    return assignment


def load_course(solutions_dir: Path) -> dict[str, Assignment]:
    """Every solution notebook of the folder that has at least one graded cell, by file stem."""
    solutions_dir = Path(solutions_dir)
    if not solutions_dir.is_dir():
        raise CourseError(f"no solutions folder at {solutions_dir}: pass --solutions DIR")
    course = {}
    for path in sorted(solutions_dir.glob("*.ipynb")):
        assignment = load_assignment(path)
        if assignment.graded:
            course[assignment.name] = assignment
    if not course:
        raise CourseError(f"{solutions_dir} holds no notebook with graded (nbgrader 'grade': true) cells")
    return course


def default_solutions_dir() -> Path:
    """The checkout's solutions/, else ./solutions. The wheel carries no solutions (students install it),
    so an instructor grading with an installed kit passes --solutions or runs in the course checkout."""
    from lecturekit.paths import repo_root

    root = repo_root()
    if root is not None:
        return root / "solutions"
    return Path.cwd() / "solutions"


def distinctive_ids(course: dict[str, Assignment]) -> dict[str, set[str]]:
    """Each notebook's grade ids that no other notebook uses (e.g. not "setup"): they tell a renamed file apart."""
    counts: dict[str, int] = {}
    for a in course.values():
        for gid in a.grade_ids():
            counts[gid] = counts.get(gid, 0) + 1
    return {name: {g for g in a.grade_ids() if counts[g] == 1} for name, a in course.items()}


def tree_snapshot(roots: list[Path], limit: int = 500_000) -> dict[str, tuple[int, ...]]:
    """Every file and folder under `roots` with what any write changes (size, mtime, ctime, inode, mode):
    ctime moves on every write, even one that puts the old mtime back. Taken before and after a run, it
    shows files that were created, changed or deleted while student code ran."""
    out: dict[str, tuple[int, ...]] = {}
    stack = [Path(r) for r in roots]
    while stack and len(out) < limit:
        path = stack.pop()
        try:
            st = path.lstat()
        except OSError:
            continue
        out[str(path)] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode)
        if path.is_dir() and not path.is_symlink():
            try:
                stack.extend(path.iterdir())
            except OSError:
                pass
    return out


def changed_files(before: dict[str, tuple[int, ...]], roots: list[Path]) -> list[str]:
    """What was created, changed or deleted under `roots` since `before` was taken (folders whose only
    change is an entry created or deleted inside them are left out: that entry is named)."""
    after = tree_snapshot(roots)
    out = []
    for path in sorted(set(before) | set(after)):
        if path not in after:
            out.append(f"{path} (deleted)")
        elif path not in before:
            out.append(f"{path} (created)")
        elif before[path] != after[path] and not (Path(path).is_dir() and before[path][3:] == after[path][3:]):
            out.append(f"{path} (changed)")
    return out
