"""Which sprite data set the kit uses: its own sprites, or a course data set made by `course-data`.

One setting switches the whole kit (sprites, splits, shipped/trained weights, benchmarks): the
environment variable `LECTUREKIT_DATA=NAME-or-path`, or `lecturekit.use_data(...)` from Python (the
setup cell). A NAME is looked up in the user data folder (`user_data_home()`); a path is used as is.
The switch lives here, in one place, so that `load_sprites`, `weights_dir` and `load_pretrained`
cannot disagree about which data is in force.

A course data set is a folder with the layout of the kit's `data/`: `sprites/` (the lecture's
`pixel_color.txt` + `colormap.txt`, `split.json`, and `sprites_rgb.png` when it came from PNGs),
`weights/` (the models trained on it) and `dataset.json` (what it is, its fingerprints).
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lecturekit import paths

ENV_VAR = "LECTUREKIT_DATA"
HOME_ENV_VAR = "LECTUREKIT_DATA_HOME"
MANIFEST = "dataset.json"
KIT_NAMES = ("", "kit", "default", "none")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

_override: str | None = None  # set by use_data(); None: read the environment
_override_set = False


@dataclass(frozen=True)
class ActiveData:
    """The data set in force: `name` ("kit" for the kit's own sprites), its folder, and how it was chosen."""

    name: str
    folder: Path
    is_kit: bool
    chosen_by: str  # "default", "LECTUREKIT_DATA=..." or "lecturekit.use_data(...)"

    def describe(self) -> str:
        """One short phrase for the setup cell's report line."""
        from lecturekit.i18n import _

        if self.is_kit:
            return _("the kit's sprites")
        return _("course set {name} ({chosen_by})").format(name=repr(self.name), chosen_by=self.chosen_by)


class DataSetError(ValueError):
    """A course data set that cannot be used; the message says how to make or choose one."""


def user_data_home() -> Path:
    """Where `course-data` puts data sets by default: `$LECTUREKIT_DATA_HOME`, else the user's data
    folder (`$XDG_DATA_HOME` or `~/.local/share` on Linux, `~/Library/Application Support` on macOS,
    `%LOCALAPPDATA%` on Windows) + `lecturekit/datasets`. Outside the checkout, so that a course's
    files are never committed or shipped with the kit."""
    explicit = os.environ.get(HOME_ENV_VAR, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "lecturekit" / "datasets"


def check_name(name: str) -> str:
    """A data set name: letters, digits, `_.-` (it becomes a folder name); "kit" is the kit's own."""
    if not _NAME_RE.match(name or "") or name.lower() in KIT_NAMES:
        raise DataSetError(
            f"{name!r} cannot name a data set: use letters, digits, '_', '.' or '-' (e.g. --name course2026), "
            "and not 'kit', which means the kit's own sprites."
        )
    return name


def _looks_like_path(value: str) -> bool:
    return any(sep in value for sep in ("/", "\\")) or value.startswith((".", "~"))


def resolve(value: str | os.PathLike[str]) -> Path:
    """The folder a NAME or a path stands for (a NAME lives in `user_data_home()`)."""
    text = os.fspath(value)
    if _looks_like_path(text) or Path(text).is_absolute():
        return Path(text).expanduser().resolve()
    return user_data_home() / text


def read_manifest(folder: Path) -> dict[str, Any]:
    """`dataset.json` of a course data set folder ({} when it has none)."""
    path = Path(folder) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def check_folder(folder: Path, given: str, how: str) -> None:
    """Refuse a folder that holds no data set, naming how to make one."""
    if not (folder / "sprites" / "pixel_color.txt").is_file():
        raise DataSetError(
            f"{how} selects {given!r}, but {folder} holds no course data set (no sprites/pixel_color.txt). "
            "Make it with `python -m lecturekit course-data PIXELS COLORMAP --name NAME` (or a folder of PNGs), "
            f"pass the folder it printed, or unset {ENV_VAR} to use the kit's own sprites."
        )


def _from_value(value: str | None, how: str) -> ActiveData:
    if value is None or value.strip().lower() in KIT_NAMES:
        return ActiveData("kit", paths.data_dir(), True, how if value else "default")
    value = value.strip()
    folder = resolve(value)
    check_folder(folder, value, how)
    name = read_manifest(folder).get("name") or folder.name
    return ActiveData(str(name), folder, False, how)


def active() -> ActiveData:
    """The data set in force: `use_data(...)` if called, else `LECTUREKIT_DATA`, else the kit's sprites."""
    if _override_set:
        return _from_value(_override, f"lecturekit.use_data({_override!r})")
    value = os.environ.get(ENV_VAR)
    return _from_value(value, f"{ENV_VAR}={value}")


def use_data(name_or_path: str | os.PathLike[str] | None) -> ActiveData:
    """Switch the whole kit to a course data set (a NAME made by `course-data`, or its folder), or back
    to the kit's own sprites with None / "kit". Checked at once, so a typo fails here, not in a later cell."""
    global _override, _override_set
    value = None if name_or_path is None else os.fspath(name_or_path)
    chosen = _from_value(value, f"lecturekit.use_data({value!r})")
    _override, _override_set = value, True
    return chosen


def reset() -> None:
    """Forget `use_data(...)`: the environment variable decides again (for tests)."""
    global _override, _override_set
    _override, _override_set = None, False


def root() -> Path:
    """The folder with `data/`'s layout in force (the kit's `data/`, or the course data set's folder)."""
    return active().folder


def weights_dir() -> Path:
    """The folder of the checkpoints in force: the shipped ones (`data/weights`), or, when
    `LECTUREKIT_DATA` / `lecturekit.use_data(...)` selects a course data set, that set's `weights/`."""
    return root() / "weights"


def how_to_switch(name: str) -> str:
    return f"{ENV_VAR}={name} (or lecturekit.use_data({name!r}) in the setup cell)"


def checkpoint_hint(meta: dict[str, Any]) -> str:
    """A sentence added to a refused checkpoint's message: which data set it belongs to and the switch
    that selects it (empty when the switch has nothing to do with it)."""
    try:
        current = active()
    except DataSetError:
        return ""
    trained_on = meta.get("fingerprints", {}).get("dataset")
    if trained_on and (current.is_kit or current.name != trained_on):
        return (
            f" It was trained on the course data set {trained_on!r} (`python -m lecturekit course-data`): "
            f"select that data with {how_to_switch(trained_on)}."
        )
    if not trained_on and not current.is_kit:
        return (
            f" It belongs to the kit's own sprites, but {current.chosen_by} selects the course data set "
            f"{current.name!r}: use the models trained on it (load_pretrained(name), made by course-data), "
            f"or switch back with lecturekit.use_data(None) / unset {ENV_VAR}."
        )
    return ""
