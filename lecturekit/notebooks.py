"""`solutions/` is the one source of every notebook; `notebooks/` (student copies) is made from it.

The rules are nbgrader's: a region between `### BEGIN SOLUTION` and `### END SOLUTION` becomes
`# YOUR CODE HERE` + `raise NotImplementedError()` (markdown: `YOUR ANSWER HERE`), a region between
`### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS` is removed, outputs are cleared, and the cells
keep their nbgrader metadata so nbgrader can take the student copies as they are.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import nbformat

from lecturekit.colab import SETUP_CELL, colab_url

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
CODE_STUB = ["# YOUR CODE HERE", "raise NotImplementedError()"]
TEXT_STUB = "YOUR ANSWER HERE"


class NotebookSourceError(ValueError):
    """A solution notebook whose markers or metadata are wrong."""


# ---- solution -> student ----


def _replace_regions(lines: list[str], begin: str, end: str, stub: list[str] | None, where: str) -> list[str]:
    out: list[str] = []
    inside = False
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped == begin:
            if inside:
                raise NotebookSourceError(f"{where}, line {number}: {begin} inside another region")
            inside = True
            if stub is not None:
                indent = re.match(r"\s*", line).group(0)  # type: ignore[union-attr]
                out.extend(indent + s for s in stub)
        elif stripped == end:
            if not inside:
                raise NotebookSourceError(f"{where}, line {number}: {end} without {begin}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise NotebookSourceError(f"{where}: {begin} is never closed by {end}")
    return out


def student_cell(cell: Any, where: str) -> Any:
    """The student version of one solution cell."""
    cell = copy.deepcopy(cell)
    lines = cell.source.split("\n")
    if cell.cell_type == "code":
        lines = _replace_regions(lines, BEGIN_SOLUTION, END_SOLUTION, CODE_STUB, where)
        lines = _replace_regions(lines, BEGIN_HIDDEN, END_HIDDEN, None, where)
        cell.outputs = []
        cell.execution_count = None
    elif cell.cell_type == "markdown":
        lines = _replace_regions(lines, BEGIN_SOLUTION, END_SOLUTION, [TEXT_STUB], where)
    cell.source = "\n".join(lines)
    cell.pop("id", None)
    return cell


def student_notebook(solution: Any, name: str = "notebook") -> Any:
    """The student copy of a solution notebook (nbformat object in, nbformat object out)."""
    nb = copy.deepcopy(solution)
    nb.cells = [student_cell(c, f"{name}, cell {i}") for i, c in enumerate(nb.cells)]
    nb.nbformat_minor = 4  # no cell ids: stable files, and nbgrader 0.9 accepts them
    for cell in nb.cells:
        cell.pop("id", None)
    return nb


_ID_OK = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_KIND = {"markdown": "md", "code": "code", "raw": "raw"}


def _slug(text: str, words: int = 4) -> str:
    found = re.findall(r"[a-z0-9]+", text.lower().replace("'", ""))
    return "-".join(found[:words])[:40] or "cell"


def assign_cell_ids(nb: Any) -> None:
    """Give every cell that has none a stable, readable id (its grade id, else a slug of its first words).

    Cell ids are how translations (and reviewers) name a cell; once given, an id never changes, so a
    cell keeps its translation when cells are inserted or moved around it."""
    taken = {c.get("id") for c in nb.cells if c.get("id") and _ID_OK.match(c.get("id"))}
    for cell in nb.cells:
        if cell.get("id") and _ID_OK.match(cell.get("id")):
            continue
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
        kind = _KIND.get(cell.cell_type, "cell")
        base = grade_id if grade_id and _ID_OK.match(grade_id) else f"{kind}-{_slug(first)}"
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base}-{n}", n + 1
        cell["id"] = candidate
        taken.add(candidate)


def clean_notebook(nb: Any) -> Any:
    """A copy without outputs or execution counts, every cell with a stable id (how solutions are stored)."""
    nb = copy.deepcopy(nb)
    nb.nbformat_minor = 5
    assign_cell_ids(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def notebook_text(nb: Any) -> str:
    return nbformat.writes(nb) + "\n"


def check_solution(nb: Any, name: str) -> list[str]:
    """Problems with a solution notebook: missing setup cell, duplicate grade ids, bad markers."""
    problems = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or code[0].source.strip() != SETUP_CELL.strip():
        problems.append(f"{name}: the first code cell is not the standard setup cell (lecturekit.colab.SETUP_CELL)")
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    ids = [i for i in ids if i]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        problems.append(f"{name}: duplicate nbgrader grade_id {dupes}")
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        has_solution = BEGIN_SOLUTION in cell.source
        if has_solution and not meta.get("solution"):
            problems.append(f"{name}, cell {i}: has {BEGIN_SOLUTION} but is not an nbgrader solution cell")
        if BEGIN_HIDDEN in cell.source and not meta.get("grade"):
            problems.append(f"{name}, cell {i}: has hidden tests but is not a graded test cell")
    return problems


def refresh_setup_cell(nb: Any) -> None:
    """Rewrite an outdated setup cell (e.g. after REPO_URL changed) with lecturekit.colab.SETUP_CELL."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "setup" or "setup_notebook()" in cell.source:
                cell.source = SETUP_CELL
            return


def sync_notebooks(root: Path, check: bool = False) -> list[str]:
    """Write (or, with check=True, compare) every student notebook; return the differences."""
    solutions = sorted((root / "solutions").glob("*.ipynb"))
    if not solutions:
        raise NotebookSourceError(f"no notebooks in {root / 'solutions'}")
    out_dir = root / "notebooks"
    out_dir.mkdir(exist_ok=True)
    differences: list[str] = []
    for path in solutions:
        differences += _sync_student_copy(path, out_dir, check)
    differences += sync_readme_links(root, [p.name for p in solutions], check=check)
    differences += _stray_student_copies(out_dir, {p.name for p in solutions}, check)
    return differences


def _sync_student_copy(path: Path, out_dir: Path, check: bool) -> list[str]:
    """One solution's differences: the stored solution must be clean, its student copy up to date."""
    # the v4 reader, not nbformat.read: that one fills a missing cell id with a random one
    solution = nbformat.v4.reads(path.read_text())
    if not check:
        refresh_setup_cell(solution)
    problems = check_solution(solution, path.name)
    if problems:
        raise NotebookSourceError("; ".join(problems))
    clean = notebook_text(clean_notebook(solution))
    student = notebook_text(student_notebook(solution, path.name))
    target = out_dir / path.name
    differences = []
    if check:
        if path.read_text() != clean:
            differences.append(f"solutions/{path.name} is stored with outputs or without cell ids")
        if not target.is_file() or target.read_text() != student:
            differences.append(f"notebooks/{path.name} differs from its solution")
    else:
        if path.read_text() != clean:
            path.write_text(clean)
        if not target.is_file() or target.read_text() != student:
            target.write_text(student)
            differences.append(f"notebooks/{path.name} written")
    return differences


def _stray_student_copies(out_dir: Path, names: set[str], check: bool) -> list[str]:
    """Student notebooks whose solution is gone (deleted unless checking): a renamed notebook leaves one."""
    differences = []
    for extra in sorted(out_dir.glob("*.ipynb")):
        if extra.name not in names:
            differences.append(f"notebooks/{extra.name} has no solution")
            if not check:
                extra.unlink()
    return differences


LINKS_BEGIN, LINKS_END = "<!-- colab-links: made by `python -m lecturekit student` -->", "<!-- /colab-links -->"


_EDITION_LINKS = {"zh_CN": ("简体中文", "学生版", "答案"), "zh_TW": ("繁體中文", "學生版", "解答")}


def colab_links_markdown(names: list[str], editions: tuple[str, ...] = ()) -> str:
    """The README's table of "Open in Colab" links, made from lecturekit.colab.REPO_URL, one column per edition."""
    head = "| notebook | English | " + " | ".join(_EDITION_LINKS[e][0] for e in editions)
    rows = [head.rstrip(" |") + " |", "|---|---|" + "---|" * len(editions)]
    for name in names:
        stem = name.removesuffix(".ipynb")
        row = (
            f"| {stem} | [Open in Colab]({colab_url('notebooks/' + name)}) "
            f"· [solution]({colab_url('solutions/' + name)}) |"
        )
        for lang in editions:
            _, student, answer = _EDITION_LINKS[lang]
            row += (
                f" [{student}]({colab_url(f'notebooks/{lang}/{name}')}) "
                f"· [{answer}]({colab_url(f'solutions/{lang}/{name}')}) |"
            )
        rows.append(row)
    return "\n".join(rows)


def editions_of(root: Path) -> tuple[str, ...]:
    """The translated editions a checkout has (a folder per language under translations/)."""
    return tuple(lang for lang in _EDITION_LINKS if (root / "translations" / lang).is_dir())


def sync_readme_links(root: Path, names: list[str], check: bool = False) -> list[str]:
    """Rewrite (or compare) the README block between the colab-links markers."""
    readme = root / "README.md"
    if not readme.is_file():
        return []
    text = readme.read_text()
    if LINKS_BEGIN not in text or LINKS_END not in text:
        return [] if not check else ["README.md has no colab-links block"]
    head, rest = text.split(LINKS_BEGIN, 1)
    _, tail = rest.split(LINKS_END, 1)
    new = f"{head}{LINKS_BEGIN}\n{colab_links_markdown(names, editions_of(root))}\n{LINKS_END}{tail}"
    if new == text:
        return []
    if not check:
        readme.write_text(new)
        return ["README.md colab links written"]
    return ["README.md colab links differ from lecturekit.colab.REPO_URL"]
