"""The Chinese editions' rows: how much English is left in the zh_CN markdown (ASCII words outside code
spans, inline code and maths, against the Chinese characters), and the CJK font the kit ships (its size and
whether it covers every Chinese character of both editions).

`python benchmarks/bench_translations.py` prints them without touching results.json; `benchmarks/run.py
--only zh_CN english words` stores them."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def prose(markdown: str) -> str:
    """A markdown cell without what is not prose: fenced and inline code, maths, links' targets, HTML tags."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.S)
    text = re.sub(r"https?://\S+|\]\([^)]*\)|<[^>]+>", " ", text)
    return text


def _markdown(lang: str) -> list[str]:
    cells = []
    for path in sorted((ROOT / "translations" / lang).glob("[0-9][0-9]_*.json")):
        for entry in json.loads(path.read_text(encoding="utf-8"))["cells"].values():
            if "text" in entry:
                text = entry["text"]
                cells.append("\n".join(text) if isinstance(text, list) else text)
    return cells


def english_words(lang: str = "zh_CN") -> tuple[int, int, int, Counter[str]]:
    """(ASCII words, of which outside brackets (a first use's English is in brackets), Chinese characters,
    each word's count) over the `lang` markdown cells."""
    words, unbracketed, chinese, counts = 0, 0, 0, Counter()
    for cell in _markdown(lang):
        text = prose(cell)
        chinese += len(CJK.findall(text))
        found = re.findall(r"[A-Za-z][A-Za-z'-]*", text)
        counts.update(w.lower() for w in found)
        words += len(found)
        outside = re.sub(r"（[^（）]*）|\([^()]*\)", " ", text)
        unbracketed += len(re.findall(r"[A-Za-z][A-Za-z'-]*", outside))
    return words, unbracketed, chinese, counts


def _rows() -> dict[str, tuple[float, str]]:
    words, unbracketed, chinese, _ = english_words()
    rows = {
        "zh_CN english words": (float(words), "words"),
        "zh_CN english words outside brackets": (float(unbracketed), "words"),
        "zh_CN chinese characters": (float(chinese), "characters"),
    }
    font_dir = ROOT / "lecturekit" / "fonts"
    fonts = sorted(font_dir.glob("*.otf")) if font_dir.is_dir() else []
    if fonts:
        from lecturekit.fonts import missing_characters

        rows["cjk font subset size"] = (sum(f.stat().st_size for f in fonts) / 1024, "KiB")
        rows["cjk characters the fonts miss"] = (
            float(sum(len(missing_characters(lang)) for lang in ("zh_CN", "zh_TW"))),
            "characters",
        )
    return rows


BENCHMARKS = [
    (
        (
            "zh_CN english words",
            "zh_CN english words outside brackets",
            "zh_CN chinese characters",
            "cjk font subset size",
            "cjk characters the fonts miss",
        ),
        _rows,
    )
]

if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    for name, (value, unit) in _rows().items():
        print(f"{name}: {value:.0f} {unit}")
    if "--words" in sys.argv:
        print(" ".join(f"{w}x{n}" for w, n in english_words()[3].most_common()))
