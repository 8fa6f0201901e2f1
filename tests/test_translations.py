"""The Chinese editions stay in step with the English one: every cell translated from the current English
text, no English sentence left in a Chinese markdown cell, the same code in every edition, zh_TW made
from zh_CN by OpenCC, the message catalogues complete, and a changed English cell named as stale."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from lecturekit import catalogues, i18n
from lecturekit.colab import setup_cell_source
from lecturekit.translations import (
    EDITIONS,
    accept,
    cell_issues,
    code_skeleton,
    load_table,
    report_issues,
    sync_editions,
    traditional_converter,
    traditional_table,
    translation_path,
    unused_entries,
)

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
CJK = re.compile(r"[\u4e00-\u9fff]")


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.v4.reads(path.read_text())


# ---- the English-sentence heuristic ----


def glossary_words() -> set[str]:
    """Every word of the first column of the glossary's "Kept in English" table, lower case."""
    text = (ROOT / "translations" / "GLOSSARY.md").read_text(encoding="utf-8")
    text = text.split("## Kept in English", 1)[1].split("\n## ", 1)[0]
    words: set[str] = set()
    for line in text.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            first = line.split("|")[1]
            words |= {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9'-]*", first)}
    return words


# Names and units, not English prose: people, tools, papers' names, symbols.
NAMES = {
    "bowman",
    "goodfellow",
    "feynman",
    "pillow",
    "adam",
    "colab",
    "python",
    "readme",
    "troubleshooting",
    "penn",
    "treebank",
    "jupyterlab",
    "row",
    "ms",
    "nats",
    "bits",
    "ln",
    "log",
    "exp",
    "mean",
    "std",
    "max",
    "min",
    "i",
    "x",
    "z",
    "t",
    "k",
    "n",
    "d",
    "l",
    "p",
    "m",
    "c",
    "e",
    "r",
    "g",
    "b",
    "a",
    "s",
    "v",
    "et",
    "al",
    "start",
    "targets",
    "inputs",
    "none",
    "true",
    "false",
    "nvidia",
    "openai",
    "pip",
    "install",
}
FUNCTION_WORDS = {
    "the",
    "and",
    "of",
    "to",
    "is",
    "are",
    "with",
    "for",
    "from",
    "that",
    "this",
    "we",
    "you",
    "it",
    "in",
    "on",
    "an",
    "be",
    "as",
    "by",
    "or",
    "not",
    "its",
    "their",
    "which",
    "when",
    "what",
    "how",
}


def english_left(markdown: str, allowed: set[str]) -> list[str]:
    """English phrases left in a Chinese markdown cell: runs of 3+ words outside the glossary, or any English
    function word (the, is, of...). Code, formulas, links, file names and quoted text are not prose."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.S)
    text = re.sub(r"https?://\S+|\]\([^)]*\)", " ", text)
    text = re.sub(r"\"[^\"]*\"|“[^”]*”|'[^']*'", " ", text)  # quoted examples (the lecture's sentences)
    text = re.sub(r"(?<![*\w])\*[A-Za-z][A-Za-z ,:'-]*\*(?!\*)", " ", text)  # an *English Title* in italics
    text = re.sub(r"（[A-Za-z][\x20-\x7e]*）", " ", text)  # a term's English, in brackets at its first use
    problems = []
    for run in re.findall(r"[A-Za-z][A-Za-z'-]*(?:[ ,.;:!?-]+[A-Za-z][A-Za-z'-]*)*", text):
        words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'-]*", run)]
        unknown = [w for w in words if w not in allowed and w not in NAMES]
        if len(unknown) >= 3 or any(w in FUNCTION_WORDS for w in words):
            problems.append(run)
    return problems


def test_the_heuristic_finds_english_and_accepts_glossary_terms() -> None:
    allowed = glossary_words()
    assert {"softmax", "pixelrnn", "kl", "vae"} <= allowed and "pixel" not in allowed
    assert english_left("This is an English sentence that nobody translated.", allowed)
    assert english_left("我们用 softmax，then sample a colour。", allowed)
    assert english_left("三个词 grey colours remain 在这里", allowed)
    assert not english_left("编码器（the encoder of a VAE）用 softmax 输出 RGB 向量；PixelRNN 的 KL。", allowed)
    assert not english_left('把 "i went to the store to buy some groceries" 编码；`torch.cat` 和 $p(x_t)$。', allowed)


# ---- every cell, both editions ----


@pytest.mark.parametrize("lang", EDITIONS)
def test_every_cell_has_a_current_translation(lang: str) -> None:
    problems = []
    for path in SOLUTIONS:
        table = load_table(ROOT, lang, path.name)
        solution = _read(path)
        problems += [i.line(lang) for i in cell_issues(solution, table, path.name)]
        problems += [f"{lang}/{path.name}: unused {cid}" for cid in unused_entries(solution, table)]
        markdown = [c for c in solution.cells if c.cell_type == "markdown"]
        assert all(c.get("id") in table["cells"] for c in markdown), path.name
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", EDITIONS)
def test_no_english_sentence_left_in_chinese_markdown(lang: str) -> None:
    allowed = glossary_words()
    found = []
    for path in sorted((ROOT / "solutions" / lang).glob("*.ipynb")):
        for cell in _read(path).cells:
            if cell.cell_type == "markdown":
                assert CJK.search(cell.source), f"{lang}/{path.name}, cell {cell.get('id')}: no Chinese at all"
                found += [f"{path.name} {cell.get('id')}: {p!r}" for p in english_left(cell.source, allowed)]
    assert not found, "English left in Chinese markdown:\n" + "\n".join(found)


def translated_terms() -> dict[str, str]:
    """The English of every term in the glossary's "Translated" table -> its zh_CN term."""
    text = (ROOT / "translations" / "GLOSSARY.md").read_text(encoding="utf-8")
    text = text.split("## Translated", 1)[1].split("\n## ", 1)[0]
    terms = {}
    for line in text.splitlines():
        cols = [c.strip() for c in line.split("|")[1:-1]]
        if len(cols) >= 2 and cols[0] not in ("English", "") and not cols[0].startswith("---"):
            english = re.split(r" / ", re.sub(r"\(.*?\)", "", cols[0]))
            chinese = re.split(r" / ", cols[1])
            for i, en in enumerate(english):
                if en.strip() and not en.strip().startswith("the "):
                    terms[en.strip().lower()] = chinese[min(i, len(chinese) - 1)].strip()
    return terms


def terms_left_in_english(markdown: str, terms: dict[str, str]) -> list[str]:
    """Glossary terms written in English in a Chinese markdown cell, outside code, formulas, quoted examples
    and the brackets that give a term's English at its first use (d2l-zh's 编码器（encoder）)."""
    text = re.sub(r"```.*?```|`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|https?://\S+|\]\([^)]*\)", " ", markdown, flags=re.S)
    text = re.sub(r"\"[^\"]*\"|“[^”]*”|'[^']*'|（[^（）]*[A-Za-z][^（）]*）|[\w-]+(?:[./_][\w-]+)+", " ", text)
    text = re.sub(r"(?<![*\w])\*[A-Z][A-Za-z ,:'-]*\*(?!\*)", " ", text)
    found = []
    for en in terms:
        found += re.findall(r"(?<![\w-])" + re.escape(en) + r"(?:e?s)?(?![\w-])", text, flags=re.I)
    return found


def test_translated_terms_are_written_in_chinese() -> None:
    terms = translated_terms()
    assert terms["encoder"] == "编码器" and terms["teacher forcing"] == "强制教学" and terms["token"] == "词元"
    assert terms_left_in_english("把 decoder 的输出（decoder）最小化", terms) == ["decoder"]
    assert not terms_left_in_english("解码器（decoder）的 `decoder(code)`，见 model.pt", terms)
    found = []
    for path in SOLUTIONS:
        table = load_table(ROOT, "zh_CN", path.name)
        for cid, entry in table["cells"].items():
            if "text" in entry:
                left = terms_left_in_english("\n".join(entry["text"]), terms)
                found += [f"{path.name} {cid}: {w}" for w in left]
    assert not found, "terms left in English (the glossary translates them):\n" + "\n".join(found)


@pytest.mark.parametrize("lang", EDITIONS)
def test_the_chinese_editions_run_the_same_code(lang: str) -> None:
    for path in SOLUTIONS:
        english = [c for c in _read(path).cells if c.cell_type == "code"]
        chinese = [c for c in _read(ROOT / "solutions" / lang / path.name).cells if c.cell_type == "code"]
        assert [c.get("id") for c in english] == [c.get("id") for c in chinese]
        for en, zh in zip(english, chinese):
            if en.get("id") == "setup":
                assert zh.source == setup_cell_source(lang)
                continue
            assert code_skeleton(en.source) == code_skeleton(zh.source), f"{lang}/{path.name}, cell {en.get('id')}"
            assert en.metadata.get("nbgrader") == zh.metadata.get("nbgrader")
        translated = sum(en.source != zh.source for en, zh in zip(english, chinese))
        assert translated >= 2, f"{lang}/{path.name}: comments and printed text should be translated"


def test_notebook_00_of_each_edition_sets_and_reports_its_language(capsys: pytest.CaptureFixture[str]) -> None:
    from lecturekit.colab import setup_notebook

    for lang in EDITIONS:
        first = next(c for c in _read(ROOT / "solutions" / lang / "00_start_here.ipynb").cells if c.cell_type == "code")
        assert f'setup_notebook(lang="{lang}")' in first.source and CJK.search(first.source)
        meta = json.loads((ROOT / "notebooks" / lang / "00_start_here.ipynb").read_text())["metadata"]
        assert meta["lecturekit"]["lang"] == lang
    # the report line's labels follow the edition; the English edition's stay English
    lines = {
        "zh_CN": ("设备：", "语言：zh_CN（简体中文）", "数据：本套件自带的精灵图"),
        "zh_TW": ("裝置：", "語言：zh_TW（繁體中文）", "資料：本套件自帶的精靈圖"),
        "en": ("device: ", "language: en (English)", "data: the kit's sprites"),
    }
    try:
        for lang, expected in lines.items():
            setup_notebook(lang=lang)
            out = capsys.readouterr().out
            assert all(part in out for part in expected), (lang, out)
            assert i18n.get_language() == lang
            if lang != "en":
                assert not re.search(r"\b(device|language|data):", out), out
    finally:
        i18n.set_language(None)


def test_zh_tw_is_opencc_of_zh_cn_with_the_overrides() -> None:
    convert = traditional_converter(ROOT)
    assert convert("调色板和参数") == "調色盤和參數"  # OpenCC alone writes 引數 for 参数: an override
    for path in SOLUTIONS:
        made = traditional_table(load_table(ROOT, "zh_CN", path.name), convert)
        assert json.loads(translation_path(ROOT, "zh_TW", path.name).read_text(encoding="utf-8")) == made
        text = json.dumps(made["cells"], ensure_ascii=False)
        assert not re.search("[这个们说么变测样]", text), f"simplified characters left in zh_TW {path.name}"


# Mainland-only terms and OpenCC's mistakes, as they would appear in the zh_TW edition -> the Taiwan term that
# translations/zh_TW/overrides.json puts there.
MAINLAND_OR_BROKEN = {
    "字首": "前綴 (prefix)",
    "方差": "變異數",
    "正態": "常態 (常態分布)",
    "實現": "實作",
    "丟擲": "拋出",
    "文本": "文字 / 文字檔 / 純文字",
    "拖動": "拖曳",
    "返回": "回傳",
    "重新整理": "更新 (a screen refresh)",
    "控制元件": "控制項",
    "單元格": "儲存格",
    "畫素": "像素",
    "引數": "參數",
    "噪聲": "雜訊",
    "質量": "品質",
    "反饋": "回饋",
    "列印": "印出",
    "信息": "資訊",
    "默認": "預設",
    "數據": "資料",
    "網絡": "網路",
    "軟件": "軟體",
    "內存": "記憶體",
    "視頻": "影片",
    "筆記本里": "筆記本裡",
    "缺交": "未提交",
}


def zh_tw_texts() -> dict[str, str]:
    """Every text of the zh_TW edition: translation tables, generated notebooks (student and solution) and the
    message catalogue."""
    paths = sorted((ROOT / "translations" / "zh_TW").glob("[0-9][0-9]_*.json"))
    paths += sorted((ROOT / "solutions" / "zh_TW").glob("*.ipynb")) + sorted(
        (ROOT / "notebooks" / "zh_TW").glob("*.ipynb")
    )
    texts = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in paths}
    texts["zh_TW catalogue"] = "\n".join(i18n.read_po(i18n.po_path("zh_TW")).values())
    return texts


def test_zh_tw_reads_as_taiwan_usage() -> None:
    found = [
        f"{where}: {wrong!r} (write {right}) in ...{text[max(0, i - 12) : i + 12]!r}..."
        for where, text in zh_tw_texts().items()
        for wrong, right in MAINLAND_OR_BROKEN.items()
        for i in [text.find(wrong)]
        if i >= 0
    ]
    assert not found, "mainland or OpenCC-broken terms in zh_TW (add an override):\n" + "\n".join(found)
    convert = traditional_converter(ROOT)
    assert convert("前缀的方差，正态分布；返回它") == "前綴的變異數，常態分布；回傳它"


# ---- a changed English cell is named ----


@pytest.fixture()
def small_root(tmp_path: Path) -> Path:
    """A checkout with one notebook (03), its translations and built editions."""
    root = tmp_path / "kit"
    (root / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / "03_pixelrnn.ipynb", root / "solutions")
    for lang in EDITIONS:
        (root / "translations" / lang).mkdir(parents=True)
        shutil.copy(translation_path(ROOT, lang, "03_pixelrnn.ipynb"), root / "translations" / lang)
    shutil.copy(ROOT / "translations" / "zh_TW" / "overrides.json", root / "translations" / "zh_TW")
    sync_editions(root)
    assert sync_editions(root, check=True) == ([], [])
    return root


def _edit_cell(root: Path, cell_id: str, change) -> None:
    path = root / "solutions" / "03_pixelrnn.ipynb"
    nb = _read(path)
    cell = next(c for c in nb.cells if c.get("id") == cell_id)
    cell.source = change(cell.source)
    path.write_text(nbformat.writes(nb) + "\n")


def test_a_changed_english_cell_is_named_stale_until_retranslated(small_root: Path) -> None:
    _edit_cell(small_root, "md-the-model", lambda s: s.replace("512 cells", "512 memory cells"))
    _edit_cell(small_root, "code-if-retrain", lambda s: s.replace("model.to(DEVICE)", "model.to(DEVICE).float()"))
    differences, stale = sync_editions(small_root, check=True)
    for lang in EDITIONS:
        assert f"{lang}/03_pixelrnn.ipynb: cell 'md-the-model' (stale translation)" in stale
        assert f"{lang}/03_pixelrnn.ipynb: cell 'code-if-retrain' (stale translation)" in stale
    assert len(stale) == 4 and any("solutions/zh_CN/03_pixelrnn.ipynb" in d for d in differences)
    listing = report_issues(small_root)
    assert "512 memory cells" in listing and "=== zh_CN/03_pixelrnn.ipynb: cell 'md-the-model'" in listing
    assert "一层有 512 个单元的 LSTM" in listing  # the old translation, to update from
    # the Chinese edition shows the new English text meanwhile, never an outdated translation
    sync_editions(small_root)
    built = {c.get("id"): c.source for c in _read(small_root / "solutions" / "zh_CN" / "03_pixelrnn.ipynb").cells}
    assert "512 memory cells" in built["md-the-model"] and "model.to(DEVICE).float()" in built["code-if-retrain"]
    # a reviewed code change is accepted; its comment translations still apply
    accept(small_root, "03", "code-if-retrain")
    table = load_table(small_root, "zh_CN", "03_pixelrnn.ipynb")
    table["cells"]["md-the-model"]["text"][0] = "## model（更新过）"
    translation_path(small_root, "zh_CN", "03_pixelrnn.ipynb").write_text(json.dumps(table, ensure_ascii=False))
    accept(small_root, "03", "md-the-model")
    sync_editions(small_root)
    assert sync_editions(small_root, check=True) == ([], [])
    built = {c.get("id"): c.source for c in _read(small_root / "solutions" / "zh_TW" / "03_pixelrnn.ipynb").cells}
    assert built["md-the-model"].startswith("## model（更新過）") and "個參數" in built["code-if-retrain"]


def test_a_hand_edited_chinese_copy_and_a_lost_fragment_are_caught(small_root: Path) -> None:
    student = small_root / "notebooks" / "zh_CN" / "03_pixelrnn.ipynb"
    student.write_text(student.read_text().replace("练习 1", "练习一"))
    differences, _ = sync_editions(small_root, check=True)
    assert any("notebooks/zh_CN/03_pixelrnn.ipynb differs" in d for d in differences)
    _edit_cell(small_root, "code-bits-fn-yours-or", lambda s: s.replace("colour frequencies", "colour counts"))
    with pytest.raises(ValueError, match="colour frequencies"):
        accept(small_root, "03", "code-bits-fn-yours-or")  # its translated fragment is gone: retranslate


# ---- package messages ----


@pytest.mark.parametrize("lang", EDITIONS)
def test_message_catalogues_are_complete_and_compiled(lang: str) -> None:
    assert catalogues.catalogue_problems(lang) == []
    entries = i18n.read_po(i18n.po_path(lang))
    mo = i18n.po_path(lang).with_suffix(".mo")
    assert mo.read_bytes() == catalogues.mo_bytes({k: v for k, v in entries.items() if v})
    assert len(catalogues.extract_messages()) > 100
    for msgid, msgstr in entries.items():
        if msgid:
            assert i18n.translate(msgid, lang) == msgstr and i18n.translate(msgid, "en") == msgid


def test_the_language_follows_set_language_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from lecturekit.exercises import ExerciseNotDone, check

    def unwritten(*args: object) -> None:
        raise NotImplementedError()

    monkeypatch.delenv("LECTUREKIT_LANG", raising=False)
    assert i18n.get_language() == "en" and i18n._("reset") == "reset"
    monkeypatch.setenv("LECTUREKIT_LANG", "zh-TW")
    assert i18n.get_language() == "zh_TW" and i18n._("reset") == "歸零"
    try:
        i18n.set_language("zh_CN")
        with pytest.raises(ExerciseNotDone, match="还没有写"):
            check("nb01.pad_prefix", unwritten)
        with pytest.raises(AssertionError, match="第 1 组输入.*\n[\\s\\S]*提示"):
            check("nb01.pad_prefix", lambda prefix, n_slots=8: prefix.reshape(len(prefix), -1))
    finally:
        i18n.set_language(None)
    with pytest.raises(ValueError):
        i18n.set_language("fr")


def test_widgets_show_chinese_labels() -> None:
    from lecturekit.widgets.sentences import table_html

    try:
        i18n.set_language("zh_CN")
        assert "解码结果" in table_html(["a b"], [True]) and "语法" in table_html(["a b"], [True])
    finally:
        i18n.set_language(None)
    assert "decoded" in table_html(["a b"], [True])


def test_messages_made_in_english_are_written_again_in_another_language_with_their_values() -> None:
    """The grader works in English; its messages remember their msgid and fields, so the feedback is written in
    the student's language, a field that is itself a message too, and text that is no message as it is."""
    hint = i18n._("hint: {hint}").format(
        hint=i18n._("std = exp(log_var / 2); the code is mean + std * eps, element by element, same shape as mean.")
    )
    assert hint.startswith("hint: std") and i18n.in_language(hint, "zh_CN").startswith(
        "提示：std = exp(log_var / 2)；编码是 mean + std * eps"
    )
    shape = i18n._("expected shape {want}, got shape {got}").format(want=(3, 4), got=(3,))
    case = i18n._("case {n}: {problem}").format(n=2, problem=shape).indented("  - ")
    assert case == "  - case 2: expected shape (3, 4), got shape (3,)"
    assert i18n.in_language(case, "zh_TW") == "  - 第 2 組輸入：應為形狀 (3, 4)，得到的形狀是 (3,)"
    kernel_text = "hint: {hint} the values are wrong"  # a kernel's text: never translated, never a format string
    wrapped = i18n._("case {n}: {problem}").format(n=1, problem=kernel_text)
    assert i18n.in_language(wrapped, "zh_CN") == "第 1 组输入：hint: {hint} the values are wrong"
    assert i18n.in_language(kernel_text, "zh_CN") == kernel_text
    assert i18n.in_language(i18n._("the values are wrong"), "en") == "the values are wrong"


def test_a_grader_running_in_chinese_still_finds_what_kind_of_value_was_wrong() -> None:
    """A hidden case's wrong value is shown as its kind, read from the compare message's English text."""
    from lecturekit.grading.compare import _category

    try:
        i18n.set_language("zh_CN")
        shape = i18n._("expected shape {want}, got shape {got}").format(want=(3, 4), got=(3,))
        assert shape.startswith("应为形状")
        kind = _category(shape)
    finally:
        i18n.set_language(None)
    assert kind == "结果的形状不对" and i18n.in_language(kind, "en") == "the shape of the result is wrong"


def test_no_function_shadows_the_message_function() -> None:
    """A function that calls `_()` (gettext) and also binds `_` (`_, ax = plt.subplots()`) breaks in every
    language: the call finds the local name (a Figure, or nothing yet)."""
    import ast

    import lecturekit

    package = Path(lecturekit.__file__).resolve().parent
    found = []
    for path in sorted(package.rglob("*.py")):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            nodes = list(ast.walk(fn))
            calls = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_" for n in nodes)
            binds = any(isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store) for n in nodes)
            if calls and binds:
                found.append(f"{path.relative_to(package)}: {fn.name}")
    assert not found, found
