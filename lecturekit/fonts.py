"""The font that lets plots speak Chinese: a subset of Noto Sans CJK (SIL Open Font License 1.1) shipped in
`lecturekit/fonts/`, one file per edition (SC glyph forms for zh_CN, TC for zh_TW), holding exactly the
characters of the kit's Chinese strings (notebook translations, message catalogue, setup cell).

matplotlib's own fonts have no CJK glyphs, and Colab or a bare Linux machine may have no system font that
does: a Chinese title would be drawn as empty boxes. So the kit brings its own and, when a Chinese language is
in force (`use_language_font`, called by `set_language` and when lecturekit.plotting is imported), registers
it as the fallback family after matplotlib's sans-serif (DejaVu Sans): Latin letters, digits and maths keep
matplotlib's font, CJK characters come from ours.

The subsets are made at development time, never downloaded at run time:

    apt-get download fonts-noto-cjk && dpkg-deb -x fonts-noto-cjk_*.deb /tmp/noto
    python -m lecturekit fonts --source /tmp/noto/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

(any Noto Sans CJK Regular .ttc/.otf with the SC and TC faces works). `tests/test_fonts.py` fails when a
Chinese string uses a character the shipped subset lacks: run the command again then.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from lecturekit.i18n import normalize_language, po_path, read_po

FONT_DIR = Path(__file__).resolve().parent / "fonts"
# edition -> (the face of Noto Sans CJK it is cut from, the shipped file, the family name it is registered as)
FACES = {
    "zh_CN": ("Noto Sans CJK SC", "LectureKitSansCJKsc-Regular.otf", "LectureKit Sans CJK SC"),
    "zh_TW": ("Noto Sans CJK TC", "LectureKitSansCJKtc-Regular.otf", "LectureKit Sans CJK TC"),
}
LICENSE_FILE = "OFL.txt"
# what the fallback must draw: CJK ideographs and punctuation, full-width forms, and any other non-ASCII
# character of the Chinese strings that DejaVu Sans may lack (“”…—·× are there too, drawn by DejaVu first)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
CJK = re.compile(r"[\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")


def font_path(lang: str) -> Path:
    """The shipped font file of a Chinese edition."""
    return FONT_DIR / FACES[normalize_language(lang)][1]


def _repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def edition_strings(lang: str, root: Path | None = None) -> list[str]:
    """Every Chinese string of an edition: its notebook translations (markdown and the code cells' replaced
    fragments), its message catalogue and its setup cell."""
    from lecturekit.colab import setup_cell_source

    lang = normalize_language(lang)
    root = root or _repo_root()
    out = [msgstr for msgstr in read_po(po_path(lang)).values()]
    out.append(setup_cell_source(lang))
    for path in sorted((root / "translations" / lang).glob("[0-9][0-9]_*.json")):
        for entry in json.loads(path.read_text(encoding="utf-8"))["cells"].values():
            text = entry.get("text", "")
            out.append("\n".join(text) if isinstance(text, list) else text)
            out += [new for _, new in entry.get("replace", [])]
    return out


def edition_characters(lang: str, root: Path | None = None) -> set[str]:
    """The non-ASCII characters an edition's strings use (what its font subset must hold)."""
    return {ch for text in edition_strings(lang, root) for ch in _NON_ASCII.findall(text)}


def font_characters(lang: str) -> set[str]:
    """The characters the shipped font of `lang` has a glyph for."""
    from fontTools.ttLib import TTFont

    with TTFont(font_path(lang), lazy=True) as font:
        return {chr(code) for code in font.getBestCmap()}


def missing_characters(lang: str, root: Path | None = None) -> list[str]:
    """CJK characters (ideographs, CJK and full-width punctuation) of `lang`'s strings that its font lacks."""
    if not font_path(lang).is_file():
        return sorted(c for c in edition_characters(lang, root) if CJK.match(c))
    have = font_characters(lang)
    return sorted(c for c in edition_characters(lang, root) if CJK.match(c) and c not in have)


def use_language_font(lang: str | None = None) -> str | None:
    """Make matplotlib draw `lang`'s characters (default: the language in force): for a Chinese edition its
    shipped CJK font becomes the fallback family after matplotlib's sans-serif (DejaVu Sans draws Latin
    letters, digits and maths; ours what DejaVu lacks); for English the kit's families leave the list.
    Returns the family name used, or None for English."""
    import matplotlib as mpl
    from matplotlib import font_manager

    from lecturekit.i18n import get_language

    lang = normalize_language(lang or get_language())
    ours = {face[2] for face in FACES.values()}
    families = [f for f in mpl.rcParams["font.family"] if f not in ours] or ["sans-serif"]
    if lang not in FACES:
        mpl.rcParams["font.family"] = families
        return None
    family = FACES[lang][2]
    if family not in {f.name for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(font_path(lang)))
    mpl.rcParams["font.family"] = [*families, family]
    return family


# ---- development time: cutting the subsets ----


def _face(source: Path, name: str):  # noqa: ANN202 - fontTools' TTFont
    """The face called `name` in a .ttc collection (or the .otf itself)."""
    from fontTools.ttLib import TTCollection, TTFont

    if source.suffix.lower() in (".ttc", ".otc"):
        for font in TTCollection(str(source)).fonts:
            if font["name"].getDebugName(1) == name:
                return font
        raise SystemExit(f"{source} has no face {name!r}: use Noto Sans CJK Regular (fonts-noto-cjk)")
    font = TTFont(str(source))
    if font["name"].getDebugName(1) != name:
        raise SystemExit(f"{source} is {font['name'].getDebugName(1)!r}, not {name!r}")
    return font


def _rename(font, family: str) -> None:  # noqa: ANN001
    """A subset is a Modified Version under the OFL: it gets its own name (the copyright notice stays)."""
    postscript = family.replace(" ", "") + "-Regular"
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = family
        elif record.nameID in (3, 4):
            record.string = f"{family} Regular" if record.nameID == 4 else f"{postscript};subset"
        elif record.nameID == 6:
            record.string = postscript
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [postscript]
        top = cff.topDictIndex[0]
        top.FullName, top.FamilyName = f"{family} Regular", family


def subset_fonts(source: Path, out_dir: Path = FONT_DIR, root: Path | None = None) -> dict[str, tuple[int, int]]:
    """Cut one subset per edition from Noto Sans CJK `source` into `out_dir`; returns lang -> (characters,
    bytes). Characters the face lacks (e.g. an emoji) are left out and said."""
    from fontTools import subset

    out_dir.mkdir(parents=True, exist_ok=True)
    made = {}
    for lang, (face, filename, family) in FACES.items():
        font = _face(Path(source), face)
        have = set(font.getBestCmap())
        wanted = sorted(ord(c) for c in edition_characters(lang, root))
        lacking = [chr(c) for c in wanted if c not in have]
        if lacking:
            print(f"{lang}: {face} has no glyph for {''.join(lacking)!r} (left out)", file=sys.stderr)
        options = subset.Options()
        options.layout_features = ["*"]  # keep vertical forms and locl substitutions
        options.name_IDs = ["*"]
        options.name_languages = ["*"]
        options.notdef_outline = True
        options.hinting = False  # matplotlib renders small text without the CFF hints well enough
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=[c for c in wanted if c in have])
        subsetter.subset(font)
        _rename(font, family)
        target = out_dir / filename
        font.recalcTimestamp = False  # the same strings give the same file
        font.save(str(target))
        made[lang] = (len(wanted) - len(lacking), target.stat().st_size)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lecturekit fonts",
        description="cut the CJK font subsets the kit ships (lecturekit/fonts/) from Noto Sans CJK Regular",
    )
    parser.add_argument("--source", required=True, help="NotoSansCJK-Regular.ttc (Debian's fonts-noto-cjk)")
    parser.add_argument("--out", default=str(FONT_DIR), help="where the subsets go (default: the package's)")
    args = parser.parse_args(argv)
    if not Path(args.source).is_file():
        print(f"error: no font at {args.source}: see `python -m lecturekit fonts --help`", file=sys.stderr)
        return 2
    for lang, (chars, size) in subset_fonts(Path(args.source), Path(args.out)).items():
        print(f"{lang}: {chars} characters, {size / 1024:.0f} KiB -> {Path(args.out) / FACES[lang][1]}")
    license_path = Path(args.out) / LICENSE_FILE
    if not license_path.is_file():
        print(f"warning: put the SIL Open Font License 1.1 text at {license_path}", file=sys.stderr)
    return 0
