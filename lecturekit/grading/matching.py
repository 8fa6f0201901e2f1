"""Which student handed in which notebook: folders and files -> (student, assignment, cells).

A submission folder is named by the student id and holds that student's copies of any of the
notebooks; a single file is `STUDENT__NOTEBOOK.ipynb` (e.g. `alice__03_pixelrnn.ipynb`) or
`STUDENT.ipynb`. A file is matched to a solution notebook by its name, and when the name does not
fit (renamed, "Copy1"...), by the nbgrader grade ids its cells carry. Nothing here runs student code.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lecturekit.grading.course import Assignment, cell_source, distinctive_ids, nbgrader_meta
from lecturekit.grading.untrusted import UntrustedFileError, read_json, walk_files
from lecturekit.i18n import _

MAX_NOTEBOOK_BYTES = 32 * 2**20
MAX_STUDENT_BYTES = 64 * 2**20  # all of one student's notebooks together
MAX_STUDENT_FILES = 20  # notebooks read per student; the others are listed as not graded
MAX_LISTED = 50  # files named one by one in a student's notes; the others counted
MAX_NOTEBOOK_DEPTH = 64  # a notebook nests about 6 levels; metadata a few more
MAX_NOTEBOOK_VALUES = 400_000
MAX_CELLS = 5_000
MAX_CELL_CHARS = 400_000
MAX_ID_BYTES = 100
_ID_PUNCTUATION = frozenset("._@+-")
_CELL_TYPES = ("code", "markdown", "raw")
_SUFFIX = ".ipynb"


@dataclass
class Submission:
    """One student's copy of one notebook (or the lack of it)."""

    student: str
    assignment: str
    path: Path | None = None
    cells: list[dict[str, Any]] | None = None
    problem: str | None = None  # why the file could not be read, when it could not
    notes: list[str] = field(default_factory=list)
    language: str | None = None  # the edition it comes from (its metadata's lecturekit.lang)


@dataclass
class StudentFiles:
    """What one student handed in: the notebooks to read, and the files that will not be read (with why)."""

    student: str
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: list[tuple[Path, str]] = field(default_factory=list)  # (file, why): a link, a FIFO, one too many
    unlisted: int = 0  # refused files beyond MAX_LISTED, only counted
    review: list[str] = field(default_factory=list)  # for the instructor's review file (an id two names share)
    names: list[str] = field(default_factory=list)  # the folder and file names the student id comes from
    _seen: dict[tuple[int, int], Path] = field(default_factory=dict, repr=False)  # (device, inode) -> path

    def add(self, path: Path, problem: str = "") -> None:
        """One file found for the student: kept to be read, or refused with `problem`; a second name of a file
        already kept (a hard link) is read once, and past MAX_STUDENT_FILES nothing more is read."""
        if not problem:
            try:
                info = path.lstat()
            except OSError:
                info, problem = None, "it cannot be read"
            if info is not None and (info.st_dev, info.st_ino) in self._seen:
                first = self._seen[(info.st_dev, info.st_ino)]
                if first != path:
                    self.notes.append(f"{path.name[:80]!r} was not graded: it is the same file as {first.name[:80]!r}")
                return
            if info is not None and len(self.files) >= MAX_STUDENT_FILES:
                problem = f"only {MAX_STUDENT_FILES} notebooks of a student are read, and more were handed in"
            elif info is not None:
                self._seen[(info.st_dev, info.st_ino)] = path
                self.files.append(path)
                return
        if len(self.refused) < MAX_LISTED:
            self.refused.append((path, problem))
        else:
            self.unlisted += 1


def safe_student_id(name: str) -> str:
    """A student id from a folder or file name, safe as a file name (the feedback file is called after it) and
    as a spreadsheet cell: the name in NFC with its letters, digits and marks in any script, `._@+-` inside it,
    any other run of characters as one `_`; starting with a letter or digit (never a hidden file, an option,
    or a formula: `=`, `+`, `-`, `@`), at most 100 bytes of UTF-8. Distinct names can give one id: gather keeps
    them apart."""
    kept: list[str] = []
    gap = False  # the last character was replaced: a run of them is one `_`
    for ch in unicodedata.normalize("NFC", name[:1000]):
        keep = ch.isalnum() or ch in _ID_PUNCTUATION or unicodedata.category(ch).startswith("M")
        if keep or not gap:
            kept.append(ch if keep else "_")
        gap = not keep
    first = next((i for i, ch in enumerate(kept) if ch.isalnum()), len(kept))  # never `.`, `-`, `+`, `@` first
    cleaned = "".join(kept[first:]).rstrip("._") or "student"
    return cleaned.encode()[:MAX_ID_BYTES].decode("utf-8", "ignore")


def read_notebook(path: Path, limit: int = MAX_NOTEBOOK_BYTES) -> tuple[dict[str, Any] | None, str | None]:
    """A handed-in notebook as hostile data: read without following a link or blocking on a FIFO, size and
    shape capped before parsing (untrusted.py), or why it cannot be read. Never raises."""
    try:
        nb = read_json(path, limit, MAX_NOTEBOOK_DEPTH, MAX_NOTEBOOK_VALUES)
    except UntrustedFileError as exc:
        return None, f"the file is not a notebook the grader can read ({exc}); hand in the .ipynb file itself"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return None, "the file is not a Jupyter notebook (no list of cells)"
    return nb, None


def read_cells(path: Path) -> tuple[list[dict[str, Any]] | None, str | None]:
    """The cells of a submitted notebook, kept to what the grader uses and each field of the type it expects
    (a grade id is a short string, or the cell has none), or why they cannot be read. Never raises."""
    nb, problem = read_notebook(path)
    return (None, problem) if nb is None else (plain_cells(nb), None)


def plain_cells(nb: dict[str, Any]) -> list[dict[str, Any]]:
    """The cells of a notebook read by read_notebook, as plain data (see _plain_cell)."""
    return [_plain_cell(raw) for raw in nb["cells"][:MAX_CELLS] if isinstance(raw, dict)]


def oversized_cell(chars: int, what: str = "this cell holds") -> str:
    """The code that stands for a cell (or an answer's cells together) over MAX_CELL_CHARS: it says so."""
    return f"raise RuntimeError('{what} {chars} characters: over the grader limit of {MAX_CELL_CHARS}')"


def _plain_cell(raw: dict[str, Any]) -> dict[str, Any]:
    """One cell as plain data: its type, its source (a huge one replaced by code that says so) and its
    nbgrader grade id, nothing else of its metadata."""
    kind = raw.get("cell_type") if raw.get("cell_type") in _CELL_TYPES else "raw"
    source = cell_source(raw)
    if len(source) > MAX_CELL_CHARS:
        source = oversized_cell(len(source))
    meta = raw.get("metadata")
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    plain_meta = {"nbgrader": {"grade_id": grade_id}} if isinstance(grade_id, str) and 0 < len(grade_id) <= 200 else {}
    return {"cell_type": kind, "source": source, "metadata": plain_meta}


def language_of(nb: dict[str, Any] | None) -> str | None:
    """The edition a notebook read by read_notebook comes from (its metadata's lecturekit.lang), None if not
    marked."""
    from lecturekit.i18n import normalize_language

    meta = nb.get("metadata") if nb else None
    kit = meta.get("lecturekit") if isinstance(meta, dict) else None
    lang = kit.get("lang") if isinstance(kit, dict) else None
    try:
        return normalize_language(lang) if isinstance(lang, str) and len(lang) < 20 else None
    except ValueError:
        return None


def notebook_language(path: Path) -> str | None:
    """The edition a handed-in notebook comes from (its metadata's lecturekit.lang), None if not marked."""
    return language_of(read_notebook(path)[0])


def gather(paths: list[Path]) -> dict[str, StudentFiles]:
    """Students and their notebook files, from folders (one per student) and single files
    (STUDENT__NOTEBOOK.ipynb, any case of the suffix). Folders are walked without following links; a file that
    is a link, not a regular file (a FIFO...), not a notebook, or one too many is refused, with the reason, for
    the student its name gives. Names that give one id stay distinct students (see distinct_ids). Raises
    FileNotFoundError only for a path that does not exist at all (the instructor mistyped it)."""
    by_name: dict[str, StudentFiles] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir() and not path.is_symlink():
            entry = _student(by_name, path.name)
            found = list(walk_files(path, _SUFFIX))
            for file, problem in found:
                entry.add(file, problem)
            if not found:
                entry.notes.append(f"the folder {path.name[:80]}/ holds no .ipynb file")
        elif os.path.lexists(path):
            stem = path.name[: -len(_SUFFIX)] if path.name.lower().endswith(_SUFFIX) else path.stem
            _student(by_name, stem.split("__", 1)[0] if "__" in stem else stem).add(path, _file_problem(path))
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return distinct_ids(by_name)


def _student(by_name: dict[str, StudentFiles], name: str) -> StudentFiles:
    """The entry of the student called `name` (one name, in NFC, is one student, as a folder or as files)."""
    name = unicodedata.normalize("NFC", name)
    if name not in by_name:
        by_name[name] = StudentFiles(safe_student_id(name), names=[name])
    return by_name[name]


def _file_problem(path: Path) -> str:
    """Why a file named on the command line will not be read ("" when it is a regular notebook file)."""
    if not path.name.lower().endswith(_SUFFIX):
        return "it is not a Jupyter notebook (.ipynb)"
    try:
        mode = path.lstat().st_mode
    except OSError:
        return "it cannot be read"
    if stat.S_ISLNK(mode):
        return "it is a symbolic link, not a file"
    if stat.S_ISFIFO(mode):
        return "it is a FIFO, not a file"
    return "" if stat.S_ISREG(mode) else "it is not a regular file"


def distinct_ids(by_name: dict[str, StudentFiles]) -> dict[str, StudentFiles]:
    """The students by id, no two merged: when names give one id (张伟 and 李娜 were both `student` once;
    `x` and `x_` are both `x`; `Alice` and `alice` are one file on a case-blind disk), the first name in sorted
    order keeps the id and the others get `ID-2`, `ID-3`... (stable across runs over the same names), each
    told in the student's notes and listed for the instructor's review."""
    groups: dict[str, list[str]] = {}
    for name in sorted(by_name):
        groups.setdefault(by_name[name].student.casefold(), []).append(name)
    taken = set(groups)
    students: dict[str, StudentFiles] = {}
    for key in sorted(groups):
        names = groups[key]
        for place, name in enumerate(names):
            entry = by_name[name]
            if place:
                number = 2
                while f"{entry.student}-{number}".casefold() in taken:
                    number += 1
                entry.student = f"{entry.student}-{number}"
                taken.add(entry.student.casefold())
                entry.notes.append(
                    f"your submission {name[:80]!r} is graded as student {entry.student!r}: another submission's "
                    f"name gives the id {by_name[names[0]].student!r}"
                )
            students[entry.student] = entry
        if len(names) > 1:
            ids = ", ".join(f"{n[:80]!r} as {by_name[n].student!r}" for n in names)
            for name in names:
                by_name[name].review.append(f"these names give one student id, graded as separate students: {ids}")
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


def _stem(path: Path) -> str:
    """The notebook part of a file's name: `alice__03_pixelrnn.IPYNB` -> `03_pixelrnn`."""
    stem = path.name[: -len(_SUFFIX)] if path.name.lower().endswith(_SUFFIX) else path.stem
    return stem.split("__", 1)[1] if "__" in stem else stem


Candidate = tuple[tuple[bool, int, int, float], Submission]  # (readable, exact name, grade ids, mtime), the copy


def match_student(
    entry: StudentFiles, course: dict[str, Assignment], ungraded: set[str] | frozenset[str] = frozenset()
) -> tuple[dict[str, Submission], list[str]]:
    """The student's submission per assignment name, and notes about files that fit none (a copy of a
    notebook without graded cells, named in `ungraded`, is passed over silently). Each file is read once
    (its cells and its language), files named like a notebook first, all within MAX_STUDENT_BYTES; a refused
    file named like a notebook stands for it (its rows say error, with the reason) unless a readable copy
    is there too."""
    notes = list(entry.notes)
    names = list(course)
    chosen: dict[str, list[Candidate]] = {}
    budget = MAX_STUDENT_BYTES
    solutions = {_inode(a.path) for a in course.values()} - {None}
    own = [p for p in entry.files if _inode(p) not in solutions]
    refused = [(p, "it is the course's solution file itself (a hard link to it)") for p in entry.files if p not in own]
    for path in sorted(own, key=lambda p: _name_match(_stem(p), names) is None):  # junk cannot starve them
        nb, problem, budget = _read_within(path, budget)
        candidate, note = _place(entry.student, path, nb, problem, course, ungraded)
        if candidate:
            chosen.setdefault(candidate[1].assignment, []).append(candidate)
        if note:
            notes.append(note)
    for path, why in [*refused, *entry.refused]:
        name = _name_match(_stem(path), names)
        if name is None:
            notes.append(f"{path.name[:80]!r} was not graded: {why}")
        else:
            sub = Submission(entry.student, name, path, problem=why)
            chosen.setdefault(name, []).append(((False, int(_stem(path) == name), 0, 0.0), sub))
    if entry.unlisted:
        notes.append(f"{entry.unlisted} more files were not graded (links, FIFOs or notebooks beyond the first ones)")
    return _choose(chosen), notes


def _inode(path: Path | None) -> tuple[int, int] | None:
    """(device, inode) of a file, not following a link; None when there is none."""
    try:
        info = Path(path).lstat() if path is not None else None
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if info is not None else None


def unread_problem(entry: StudentFiles, course: dict[str, Assignment]) -> str | None:
    """Why a notebook this student has no copy of may still have been handed in: files that were not read
    (links, FIFOs, too many) and whose names match no notebook of the course; None when there are none."""
    odd = [p.name[:80] for p, _ in entry.refused if _name_match(_stem(p), list(course)) is None]
    if not odd and not entry.unlisted:
        return None
    more = len(odd) - 3 + entry.unlisted
    listed = ", ".join(odd[:3]) + (f" and {more} more" if more > 0 else "")
    return f"no readable copy of this notebook; files that could not be read may hold it: {listed} (see the notes)"


def _read_within(path: Path, budget: int) -> tuple[dict[str, Any] | None, str | None, int]:
    """The notebook at `path` (or why not) read within `budget`, what is left of the student's bytes, and
    what is left after it."""
    try:
        size = path.lstat().st_size
    except OSError:
        size = 0
    if MAX_NOTEBOOK_BYTES >= size > budget:
        why = f"it was not read: this student's notebooks together are over {MAX_STUDENT_BYTES // 2**20} MB"
        return None, why, budget
    nb, problem = read_notebook(path, min(MAX_NOTEBOOK_BYTES, budget))
    return nb, problem, budget - (size if size <= MAX_NOTEBOOK_BYTES else 0)


def _place(
    student: str,
    path: Path,
    nb: dict[str, Any] | None,
    problem: str | None,
    course: dict[str, Assignment],
    ungraded: set[str] | frozenset[str],
) -> tuple[Candidate | None, str | None]:
    """The notebook a read file is a copy of (by its name, else by its cells' grade ids), as a candidate copy;
    or a note saying why it is none."""
    stem = _stem(path)
    cells = plain_cells(nb) if nb is not None else None
    by_name = _name_match(stem, list(course))
    ids = distinctive_ids(course)
    file_ids = {g for c in cells or [] if (g := nbgrader_meta(c).get("grade_id"))}
    scores = {name: len(file_ids & ids[name]) for name in course}
    best = max(scores, key=lambda n: scores[n]) if scores else None
    sub_notes = []
    if by_name and (scores.get(by_name, 0) > 0 or not best or scores[best] == 0):
        name = by_name
    elif best and scores[best] > 0:
        name = best
        graded_as = (
            _("{file} was graded as {best}.ipynb: its cells belong to that notebook (its name suggests {name})")
            if by_name
            else _("{file} was graded as {best}.ipynb: its cells belong to that notebook")
        )
        sub_notes.append(graded_as.format(file=path.name, best=best, name=by_name))
    elif any(n.lower() in stem.lower() for n in ungraded):
        return None, None
    else:
        why = problem or "neither its name nor its cells match a notebook of the course"
        return None, f"{path.name} was not graded: {why}"
    try:
        mtime = path.lstat().st_mtime
    except OSError:
        mtime = 0.0
    sub = Submission(student, name, path, cells, problem, sub_notes, language_of(nb))
    return ((cells is not None, int(stem == name), scores.get(name, 0), mtime), sub), None


def _choose(chosen: dict[str, list[Candidate]]) -> dict[str, Submission]:
    """One copy per notebook: a readable copy first, then the best named, the best matched, the newest; the
    others noted as not graded."""
    result = {}
    for name, options in chosen.items():
        options.sort(key=lambda o: o[0], reverse=True)
        sub = options[0][1]
        for _score, other in options[1:]:
            graded = sub.path.name if sub.path else "?"
            why = other.problem or _("{file} is the copy of {name} that was graded").format(file=graded, name=name)
            not_graded = other.path.name if other.path else "?"
            sub.notes.append(_("{file} was not graded: {why}").format(file=not_graded, why=why))
        result[name] = sub
    return result
