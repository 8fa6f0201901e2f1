"""The Chinese editions of the notebooks, made from solutions/ and the translation files.

`solutions/*.ipynb` (English) stays the one source. `translations/zh_CN/NN_name.json` holds, for
every cell id of that notebook, the Chinese text and the hash of the English source it translates:

    {"notebook": "03_pixelrnn.ipynb", "language": "zh_CN", "cells": {
        "md-the-sprites": {"en": "<hash of the English source>", "text": ["第一行", "第二行"]},
        "code-if-retrain": {"en": "<hash>", "replace": [["# English comment", "# 中文注释"]]}}}

A markdown cell's translation is its whole text. A code cell keeps the English code: its entry only
lists (English fragment, Chinese fragment) pairs, comments and printed strings, replaced where they
occur; the hash covers the whole cell, so any change to the English code makes the entry stale too.
The setup cell is made by lecturekit.colab for each language and needs no entry.

`translations/zh_TW/*.json` is generated from zh_CN with OpenCC ('s2twp', Taiwan phrases) and
the corrections in `translations/zh_TW/overrides.json`. `python -m lecturekit student` writes
`solutions/LANG/` and `notebooks/LANG/` for each language; `student --check` fails on a stale or
missing translation (naming the notebook and cell), on a zh_TW file out of step with zh_CN, and on a
generated notebook edited by hand. `python -m lecturekit translations` lists what needs work.
"""

from __future__ import annotations

import copy
import io
import json
import tokenize
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from lecturekit.colab import setup_cell_source
from lecturekit.i18n import digest
from lecturekit.notebooks import clean_notebook, notebook_text, student_notebook

EDITIONS = ("zh_CN", "zh_TW")
SOURCE_LANGUAGE = "zh_CN"  # translated by people; zh_TW is converted from it
OPENCC_CONFIG = "s2twp"


@dataclass
class CellIssue:
    """A cell whose translation is missing or made from an older English source."""

    notebook: str
    cell_id: str
    kind: str  # "missing" | "stale"
    english: str
    current: str | None = None  # the translation there is, for a stale cell

    def line(self, lang: str) -> str:
        return f"{lang}/{self.notebook}: cell {self.cell_id!r} ({self.kind} translation)"


def translation_path(root: Path, lang: str, notebook: str) -> Path:
    return root / "translations" / lang / (Path(notebook).stem + ".json")


def load_table(root: Path, lang: str, notebook: str) -> dict[str, Any]:
    path = translation_path(root, lang, notebook)
    if not path.is_file():
        return {"notebook": notebook, "language": lang, "cells": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def table_text(table: dict[str, Any]) -> str:
    return json.dumps(table, ensure_ascii=False, indent=1) + "\n"


def _text(entry: dict[str, Any]) -> str:
    text = entry.get("text", "")
    return "\n".join(text) if isinstance(text, list) else str(text)


def _is_setup(cell: Any) -> bool:
    return cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade_id") == "setup"


def translate_cell(cell: Any, entry: dict[str, Any], where: str) -> str:
    """The translated source of one cell from its (current) entry."""
    if cell.cell_type == "markdown":
        return _text(entry)
    source = cell.source
    for pair in entry.get("replace", []):
        old, new = pair
        if old not in source:
            raise ValueError(f"{where}: the fragment {old!r} is not in the English cell")
        source = source.replace(old, new)
    return source


def cell_issues(solution: Any, table: dict[str, Any], notebook: str) -> list[CellIssue]:
    """The cells of `solution` whose translation is missing or stale."""
    cells = table.get("cells", {})
    issues = []
    for cell in solution.cells:
        if _is_setup(cell) or cell.cell_type == "raw":
            continue
        entry = cells.get(cell.get("id"))
        if entry is None:
            issues.append(CellIssue(notebook, cell.get("id"), "missing", cell.source))
        elif entry.get("en") != digest(cell.source):
            current = (
                _text(entry)
                if cell.cell_type == "markdown"
                else json.dumps(entry.get("replace", []), ensure_ascii=False)
            )
            issues.append(CellIssue(notebook, cell.get("id"), "stale", cell.source, current))
    return issues


def translated_notebook(solution: Any, table: dict[str, Any], lang: str, notebook: str) -> Any:
    """The `lang` edition of a solution notebook; a missing or stale cell stays English (and is reported)."""
    nb = copy.deepcopy(solution)
    nb.metadata["lecturekit"] = {"lang": lang}
    nb.metadata["language_info"] = {"name": "python"}
    cells = table.get("cells", {})
    for cell in nb.cells:
        if _is_setup(cell):
            cell.source = setup_cell_source(lang)
            continue
        entry = cells.get(cell.get("id"))
        if entry is not None and entry.get("en") == digest(cell.source):
            cell.source = translate_cell(cell, entry, f"translations/{lang}/{notebook}, cell {cell.get('id')}")
    return nb


def unused_entries(solution: Any, table: dict[str, Any]) -> list[str]:
    ids = {c.get("id") for c in solution.cells}
    return sorted(set(table.get("cells", {})) - ids)


# ---- zh_TW from zh_CN ----


def traditional_converter(root: Path) -> Callable[[str], str]:
    """Simplified -> Traditional (Taiwan phrases), then the project's corrections, longest first."""
    import opencc  # the test/instructor extra; students never need it

    converter = opencc.OpenCC(OPENCC_CONFIG)
    path = root / "translations" / "zh_TW" / "overrides.json"
    overrides: dict[str, str] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    overrides.pop("_comment", None)
    ordered = sorted(overrides.items(), key=lambda kv: -len(kv[0]))

    def convert(text: str) -> str:
        out = converter.convert(text)
        for wrong, right in ordered:
            out = out.replace(wrong, right)
        return out

    return convert


def traditional_table(table: dict[str, Any], convert: Callable[[str], str]) -> dict[str, Any]:
    """The zh_TW table made from a zh_CN one: same hashes, converted text and replacement fragments."""
    out = {
        "notebook": table["notebook"],
        "language": "zh_TW",
        "generated": "from translations/zh_CN by OpenCC s2twp + translations/zh_TW/overrides.json; do not edit",
        "cells": {},
    }
    for cid, entry in table.get("cells", {}).items():
        new = {"en": entry.get("en")}
        if "text" in entry:
            text = entry["text"]
            new["text"] = [convert(t) for t in text] if isinstance(text, list) else convert(text)
        if "replace" in entry:
            new["replace"] = [[old, convert(tr)] for old, tr in entry["replace"]]
        out["cells"][cid] = new
    return out


# ---- building and checking every edition ----


def _write_or_compare(path: Path, text: str, check: bool, differences: list[str], what: str) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    rel = path.as_posix()
    if check:
        differences.append(f"{rel} {what}")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        differences.append(f"{rel} written")


def sync_editions(
    root: Path,
    check: bool = False,
    converter: Callable[[str], str] | None = None,
) -> tuple[list[str], list[str]]:
    """Write (or compare) zh_TW tables and every edition's solution and student copies.

    Returns (differences, stale): generated files that differ or were written, and one line per
    missing or stale translation. Paths in the lines are relative to `root`."""
    from lecturekit.catalogues import catalogue_problems, sync_catalogues

    root = Path(root)
    if converter is None:
        converter = _traditional_converter_if_installed(root)
    differences: list[str] = []
    stale: list[str] = []
    if converter is None:
        differences.append("zh_TW cannot be made or checked: `pip install opencc` (in the test extra)")
    differences += sync_catalogues(check=check, convert=converter)
    stale += catalogue_problems(SOURCE_LANGUAGE)
    solutions = sorted((root / "solutions").glob("*.ipynb"))
    for lang in EDITIONS:
        expected: set[Path] = set()
        for path in solutions:
            table = _edition_table(root, lang, path.name, converter, check, differences)
            stale += _sync_edition_copies(root, lang, path, table, check, differences, expected)
        differences += _stray_edition_copies(root, lang, expected, check)
    rel = str(root) + "/"
    return [d.replace(rel, "") for d in differences], stale


def _traditional_converter_if_installed(root: Path) -> Callable[[str], str] | None:
    """The zh_TW converter, or None without opencc (students never install it; the check then says so)."""
    try:
        return traditional_converter(root)
    except ImportError:
        return None


def _edition_table(
    root: Path, lang: str, name: str, converter: Callable[[str], str] | None, check: bool, differences: list[str]
) -> dict[str, Any]:
    """The translation table of one notebook in `lang`; zh_TW's is made from zh_CN (and written or compared)."""
    if lang == SOURCE_LANGUAGE:
        return load_table(root, lang, name)
    source = load_table(root, SOURCE_LANGUAGE, name)
    if not converter:
        return load_table(root, lang, name)
    table = traditional_table(source, converter)
    _write_or_compare(
        translation_path(root, lang, name),
        table_text(table),
        check,
        differences,
        "is out of step with translations/zh_CN (run `python -m lecturekit student`)",
    )
    return table


def _sync_edition_copies(
    root: Path,
    lang: str,
    path: Path,
    table: dict[str, Any],
    check: bool,
    differences: list[str],
    expected: set[Path],
) -> list[str]:
    """Write (or compare) one notebook's solution and student copies in `lang`; return its stale-translation
    lines. The copies' paths go into `expected`, so that strays can be found afterwards."""
    solution = nbformat.v4.reads(path.read_text())
    name = path.name
    stale = [i.line(lang) for i in cell_issues(solution, table, name)]
    stale += [
        f"{lang}/{name}: translation of cell {cid!r}, which the English notebook no longer has"
        for cid in unused_entries(solution, table)
    ]
    nb = translated_notebook(solution, table, lang, name)
    for folder, made in (("solutions", clean_notebook(nb)), ("notebooks", student_notebook(nb, name))):
        target = root / folder / lang / name
        expected.add(target)
        _write_or_compare(
            target,
            notebook_text(made),
            check,
            differences,
            "differs from what solutions/ and translations/ make (edited by hand?)",
        )
    return stale


def _stray_edition_copies(root: Path, lang: str, expected: set[Path], check: bool) -> list[str]:
    """Copies in `lang` with no English notebook behind them (deleted unless checking)."""
    differences = []
    for folder in ("solutions", "notebooks"):
        for extra in sorted((root / folder / lang).glob("*.ipynb")):
            if extra not in expected:
                differences.append(f"{folder}/{lang}/{extra.name} has no English source")
                if not check:
                    extra.unlink()
    return differences


def report_issues(root: Path, lang: str = SOURCE_LANGUAGE, notebook: str | None = None) -> str:
    """Every missing or stale cell of `lang` with its English source (and the old translation), to work from."""
    root = Path(root)
    out = []
    for path in sorted((root / "solutions").glob("*.ipynb")):
        if notebook and notebook not in path.name:
            continue
        solution = nbformat.v4.reads(path.read_text())
        table = load_table(root, lang, path.name)
        for issue in cell_issues(solution, table, path.name):
            out += [f"=== {issue.line(lang)}", f"hash: {digest(issue.english)}", "--- English:", issue.english]
            if issue.current is not None:
                out += ["--- translation (made from an older English text):", issue.current]
            out.append("")
    return "\n".join(out) if out else f"{lang}: every cell has a current translation"


def accept(root: Path, notebook: str, cell_id: str, lang: str = SOURCE_LANGUAGE) -> str:
    """Stamp a reviewed translation with the current English hash (after checking it still fits)."""
    root = Path(root)
    matches = [p for p in sorted((root / "solutions").glob("*.ipynb")) if notebook in p.name]
    if len(matches) != 1:
        raise ValueError(f"{notebook!r} names {len(matches)} notebooks")
    path = matches[0]
    solution = nbformat.v4.reads(path.read_text())
    cell = next((c for c in solution.cells if c.get("id") == cell_id), None)
    table = load_table(root, lang, path.name)
    if cell is None or cell_id not in table["cells"]:
        raise ValueError(f"{path.name}: no cell {cell_id!r} in the notebook and the translation both")
    entry = table["cells"][cell_id]
    translate_cell(cell, entry, f"{path.name}, cell {cell_id}")  # the code fragments must still be there
    entry["en"] = digest(cell.source)
    translation_path(root, lang, path.name).write_text(table_text(table), encoding="utf-8")
    return f"translations/{lang}/{path.stem}.json: cell {cell_id!r} marked current"


_LAYOUT = {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
_TRANSLATED = {tokenize.COMMENT, tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", -1)}


def code_skeleton(source: str) -> tuple[tuple[int, str], ...] | None:
    """A code cell without its comments and the text of its strings, which the Chinese editions translate:
    equal for a cell in every edition (the translations change nothing else). IPython's `%` and `!` lines
    are left out; None when the cell is not Python that tokenizes."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    return tuple((t.type, "" if t.type in _TRANSLATED else t.string) for t in tokens if t.type not in _LAYOUT)
