"""The language of what the kit prints and shows: English, 简体中文 (zh_CN) or 繁體中文 (zh_TW).

Messages are marked in the code with `_("...")` (translated when shown) or `N_("...")` (only marked,
e.g. an exercise hint defined at import time and translated when printed). The catalogues are
standard gettext files shipped in the package: `lecturekit/locale/LANG/LC_MESSAGES/lecturekit.po`
(the text people edit) and the `.mo` the standard library's `gettext` reads. The `.mo` files and the
whole zh_TW catalogue are generated (`python -m lecturekit student`), and `student --check` verifies
them, so no shipped binary is ever out of step with its source.

`_()` returns a `Message`: the text in the language in force, which remembers its msgid and its fields'
values, so the grader (which works in English) writes each student's feedback in the student's language.

The language in force: the last `set_language()` (the Chinese editions' setup cell calls it), else
the environment variable LECTUREKIT_LANG, else English.
"""

from __future__ import annotations

import ast
import gettext
import hashlib
import os
import re
from pathlib import Path

LANGUAGES = ("en", "zh_CN", "zh_TW")
LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文", "zh_TW": "繁體中文"}
DOMAIN = "lecturekit"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_language: str | None = None
_catalogues: dict[str, gettext.NullTranslations] = {}


def normalize_language(lang: str | None) -> str:
    """'zh-CN', 'zh_cn', 'zh_CN.UTF-8', 'zh-Hant'... as one of LANGUAGES; raises on an unknown language."""
    raw = (lang or "en").strip()
    key = raw.split(".")[0].replace("-", "_").lower()
    aliases = {
        "en": "en",
        "en_us": "en",
        "en_gb": "en",
        "c": "en",
        "posix": "en",
        "zh": "zh_CN",
        "zh_cn": "zh_CN",
        "zh_hans": "zh_CN",
        "zh_sg": "zh_CN",
        "zh_tw": "zh_TW",
        "zh_hant": "zh_TW",
        "zh_hk": "zh_TW",
    }
    if key not in aliases:
        raise ValueError(f"unknown language {raw!r}: use one of {', '.join(LANGUAGES)}")
    return aliases[key]


def set_language(lang: str | None) -> str:
    """Make the kit print and show its messages in `lang` (None: back to LECTUREKIT_LANG / English)."""
    global _language
    _language = None if lang is None else normalize_language(lang)
    _follow_in_plots(get_language())
    return get_language()


def _follow_in_plots(lang: str) -> None:
    """Plots follow the language too: a Chinese one registers the kit's CJK font with matplotlib (only when
    matplotlib is there; the grader's processes need not import it)."""
    import sys

    if lang != "en" or "matplotlib" in sys.modules:
        try:
            from lecturekit.fonts import use_language_font

            use_language_font(lang)
        except ImportError:  # no matplotlib: nothing draws
            pass


def get_language() -> str:
    """The language in force (see the module's docstring)."""
    if _language is not None:
        return _language
    try:
        return normalize_language(os.environ.get("LECTUREKIT_LANG") or "en")
    except ValueError:
        return "en"


def _catalogue(lang: str) -> gettext.NullTranslations:
    if lang not in _catalogues:
        _catalogues[lang] = (
            gettext.NullTranslations()
            if lang == "en"
            else gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)
        )
    return _catalogues[lang]


class Message(str):
    """A catalogued message as `_()` shows it (in the language in force, its fields filled in), which also
    remembers its msgid and its fields' values: the grader, which works in English, writes it again in each
    student's language (`in_language`). Only a msgid is ever used as a format string; a field's value is shown
    as it is (a kernel's text is never translated), unless it is itself a Message."""

    msgid: str
    fields: dict[str, object]
    lead: str

    def __new__(cls, msgid: str, fields: dict[str, object] | None = None, lead: str = "") -> Message:
        fields = fields or {}
        text = _catalogue(get_language()).gettext(msgid)
        self = super().__new__(cls, lead + (text.format(**fields) if fields else text))
        self.msgid, self.fields, self.lead = msgid, fields, lead
        return self

    def format(self, *args: object, **fields: object) -> str:  # type: ignore[override]
        """The message with its {fields} filled in, still a Message (positional fields: plain text)."""
        if args or not fields:
            return str.format(self, *args, **fields)
        return Message(self.msgid, {**self.fields, **fields}, self.lead)

    def indented(self, lead: str) -> Message:
        """The message after `lead` (an indentation, a bullet), which stays as it is in every language."""
        return Message(self.msgid, self.fields, lead + self.lead)

    def in_language(self, lang: str) -> str:
        """The message in `lang`, its fields' values too when they are Messages."""
        catalogue = _catalogue(normalize_language(lang))
        fields = {k: in_language(v, lang) for k, v in self.fields.items()}
        text = catalogue.gettext(self.msgid)
        return self.lead + (text.format(**fields) if fields else text)


def _(message: str) -> Message:
    """`message` in the language in force (itself when the catalogue has no translation), as a Message."""
    return Message(message)


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional name
    """Marks a message for extraction without translating it yet (translate it with `_()` when shown)."""
    return message


def translate(message: str, lang: str) -> str:
    """`message` in `lang`, whatever language is in force (e.g. feedback for one student)."""
    return _catalogue(normalize_language(lang)).gettext(message)


def in_language(text: object, lang: str) -> object:
    """A Message (what `_()` returns) written again in `lang`; anything else (a file's name, a number, text
    from a student's kernel) as it is."""
    return text.in_language(lang) if isinstance(text, Message) else text


def indented(lead: str, text: str) -> str:
    """`text` after `lead`, a Message still when `text` is one."""
    return text.indented(lead) if isinstance(text, Message) else lead + text


# ---- reading the catalogues (lecturekit/catalogues.py extracts, writes and checks them) ----


def _po_unquote(text: str) -> str:
    return ast.literal_eval(text) if text else ""


def read_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file (the header entry, msgid "", included)."""
    return read_po_text(Path(path).read_text(encoding="utf-8"), str(path))


def read_po_text(text: str, name: str = "catalogue") -> dict[str, str]:
    """msgid -> msgstr of the text of a .po file (the subset of the format `catalogues.po_text` writes)."""
    entries: dict[str, str] = {}
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    current: list[str] | None = None

    def flush() -> None:
        if msgid is not None and msgstr is not None:
            entries["".join(_po_unquote(s) for s in msgid)] = "".join(_po_unquote(s) for s in msgstr)

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("msgid "):
            flush()
            msgid, msgstr = [line[6:]], None
            current = msgid
        elif line.startswith("msgstr "):
            msgstr = [line[7:]]
            current = msgstr
        elif line.startswith('"') and current is not None:
            current.append(line)
        elif not line or line.startswith("#"):
            continue
        else:
            raise ValueError(f"{name}: cannot read the line {raw!r}")
    flush()
    return entries


_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def digest(text: str) -> str:
    """A short hash of an English source text: translations record the one they were made from."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
