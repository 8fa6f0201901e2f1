"""The kit's message catalogues as files: extracting `_()`/`N_()` messages from the package, writing the
.po and .mo files, checking translations (`python -m lecturekit student` and `--check`). Tools for
developers and translators; what the kit needs at run time to show a message (reading a catalogue,
translating) stays in i18n.py.
"""

from __future__ import annotations

import ast
import struct
from pathlib import Path

from lecturekit import i18n
from lecturekit.i18n import _PLACEHOLDER, po_path, read_po, read_po_text


def extract_messages(package: Path | None = None) -> dict[str, list[str]]:
    """Every string literal passed to `_()` or `N_()` in the package, with the files that use it."""
    package = Path(package or i18n.LOCALE_DIR.parent)
    found: dict[str, list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"_", "N_"}
                and len(node.args) == 1
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                # the file, not the line: an edit that moves a message must not make the catalogue stale
                where = path.relative_to(package.parent).as_posix()
                places = found.setdefault(node.args[0].value, [])
                if where not in places:
                    places.append(where)
    return found


def _po_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    parts = escaped.split("\n")
    if len(parts) == 1:
        return f'"{escaped}"'
    lines = [p + "\\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    return '""\n' + "\n".join(f'"{ln}"' for ln in lines)


def po_text(entries: dict[str, str], where: dict[str, list[str]] | None = None) -> str:
    """A .po file for `entries` (msgid -> msgstr), in a stable order, with `#:` source references."""
    header = entries.get("", "Content-Type: text/plain; charset=UTF-8\n")
    out = ['msgid ""', "msgstr " + _po_quote(header), ""]
    for msgid in sorted(k for k in entries if k):
        for ref in (where or {}).get(msgid, [])[:3]:
            out.append(f"#: {ref}")
        out += ["msgid " + _po_quote(msgid), "msgstr " + _po_quote(entries[msgid]), ""]
    return "\n".join(out)


def mo_bytes(entries: dict[str, str]) -> bytes:
    """The GNU .mo encoding of `entries` (what `msgfmt` would write), read by `gettext.GNUTranslations`."""
    keys = sorted(entries)
    ids = [k.encode("utf-8") for k in keys]
    strs = [entries[k].encode("utf-8") for k in keys]
    n = len(keys)
    key_start = 7 * 4 + 16 * n
    value_start = key_start + sum(len(i) + 1 for i in ids)
    offsets, koff, voff = [], key_start, value_start
    for i, s in zip(ids, strs):
        offsets.append((len(i), koff, len(s), voff))
        koff += len(i) + 1
        voff += len(s) + 1
    out = struct.pack("Iiiiiii", 0x950412DE, 0, n, 7 * 4, 7 * 4 + 8 * n, 0, 0)
    out += b"".join(struct.pack("ii", ln, off) for ln, off, _, _ in offsets)
    out += b"".join(struct.pack("ii", ln, off) for _, _, ln, off in offsets)
    out += b"".join(i + b"\0" for i in ids) + b"".join(s + b"\0" for s in strs)
    return out


def placeholders(text: str) -> list[str]:
    """The str.format fields of a message, which a translation must keep."""
    return sorted(_PLACEHOLDER.findall(text))


def catalogue_problems(lang: str) -> list[str]:
    """What is wrong with a catalogue: untranslated or obsolete messages, lost placeholders."""
    path = po_path(lang)
    if not path.is_file():
        return [f"{path} is missing"]
    entries = read_po(path)
    wanted = extract_messages()
    problems = []
    for msgid in sorted(wanted):
        if not entries.get(msgid):
            problems.append(f"{lang}: no translation for {msgid!r} ({wanted[msgid][0]})")
        elif placeholders(entries[msgid]) != placeholders(msgid):
            problems.append(f"{lang}: the translation of {msgid!r} changes its {{fields}}")
    for msgid in sorted(set(entries) - set(wanted) - {""}):
        problems.append(f"{lang}: {msgid!r} is translated but no longer used (remove it)")
    return problems


def sync_catalogues(check: bool = False, convert: object = None) -> list[str]:
    """Regenerate (or compare) the zh_TW catalogue from zh_CN and every .mo from its .po.

    `convert` turns Simplified into Traditional text (lecturekit.translations.to_traditional);
    the zh_CN .po is the one people edit, everything else here is made from it."""
    differences: list[str] = []
    cn = po_path("zh_CN")
    if not cn.is_file():
        return [f"{cn} is missing"]
    entries = read_po(cn)
    where = extract_messages()
    # rewrite zh_CN itself in the canonical order (new messages get an empty msgstr to fill in)
    canonical = {"": entries.get("", "")} | {m: entries.get(m, "") for m in where}
    files: dict[Path, bytes] = {cn: po_text(canonical, where).encode("utf-8")}
    if convert is not None:
        tw = {k: (convert(v) if k else v.replace("zh_CN", "zh_TW")) for k, v in canonical.items()}  # type: ignore[operator]
        files[po_path("zh_TW")] = po_text(tw, where).encode("utf-8")
    for lang in ("zh_CN", "zh_TW"):
        po = po_path(lang)
        text = files.get(po) or (po.read_bytes() if po.is_file() else b"")
        if not text:
            continue
        mo_entries = {k: v for k, v in read_po_text(text.decode("utf-8")).items() if v}
        files[po.with_suffix(".mo")] = mo_bytes(mo_entries)
    for path, data in files.items():
        if path.is_file() and path.read_bytes() == data:
            continue
        rel = path.relative_to(i18n.LOCALE_DIR.parent.parent)
        if check:
            differences.append(f"{rel} is out of date (run `python -m lecturekit student`)")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            differences.append(f"{rel} written")
    i18n._catalogues.clear()
    return differences
