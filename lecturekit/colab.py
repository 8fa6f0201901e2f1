"""The setup cell that opens every notebook, and what it does in Colab and elsewhere.

The repository URL is set here, in one place: notebooks' setup cells and the README's
"Open in Colab" links are generated from it (`python -m lecturekit student`).
"""

from __future__ import annotations

import platform
import sys
from typing import Any

# Change this (and run `python -m lecturekit student`) when you fork the kit.
REPO_URL = "https://github.com/lecturekit/lecturekit"
BRANCH = "main"


def install_spec(repo_url: str = REPO_URL, branch: str = BRANCH) -> str:
    """What pip installs in Colab: the kit straight from its Git repository."""
    return f"lecturekit @ git+{repo_url}@{branch}"


def colab_url(notebook_path: str, repo_url: str = REPO_URL, branch: str = BRANCH) -> str:
    """The "Open in Colab" address of a notebook in the repository."""
    github = repo_url.removeprefix("https://github.com/").removesuffix(".git")
    return f"https://colab.research.google.com/github/{github}/blob/{branch}/{notebook_path}"


SETUP_CELL = f'''# Setup (the same first cell in every notebook). In Colab it installs lecturekit from
# {REPO_URL} (a fork? set REPO_URL in lecturekit/colab.py and run `python -m lecturekit student`);
# elsewhere it only imports the kit and reports the device.
import sys
if "google.colab" in sys.modules:
    import importlib.util
    import subprocess
    if importlib.util.find_spec("lecturekit") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "{install_spec()}"], check=True)
from lecturekit.colab import setup_notebook
DEVICE = setup_notebook()'''

# The Chinese editions' setup cell: the same code, comments in Chinese, and the language set.
_SETUP_COMMENTS = {
    "zh_CN": (
        "# 设置（每个 notebook 的第一个 cell 都一样）。在 Colab 里它从\n"
        f"# {REPO_URL} 安装 lecturekit（fork 过？在 lecturekit/colab.py 里改 REPO_URL，"
        "再运行 `python -m lecturekit student`）；\n"
        "# 在其他地方它只导入本套件，并报告所用的设备和语言。"
    ),
    "zh_TW": (
        "# 設定（每個 notebook 的第一個 cell 都一樣）。在 Colab 裡它從\n"
        f"# {REPO_URL} 安裝 lecturekit（fork 過？在 lecturekit/colab.py 裡改 REPO_URL，"
        "再執行 `python -m lecturekit student`）；\n"
        "# 在其他地方它只匯入本套件，並回報所用的裝置和語言。"
    ),
}


def setup_cell_source(lang: str = "en") -> str:
    """The setup cell of an edition: English as SETUP_CELL; a Chinese edition also sets the kit's language."""
    if lang == "en":
        return SETUP_CELL
    code = SETUP_CELL.split("\n", 3)[3]  # without the three English comment lines
    code = code.replace("DEVICE = setup_notebook()", f'DEVICE = setup_notebook(lang="{lang}")')
    return f"{_SETUP_COMMENTS[lang]}\n{code}"


def in_colab() -> bool:
    return "google.colab" in sys.modules


def setup_notebook(verbose: bool = True, lang: str | None = None, data: str | None = None) -> Any:
    """Prepare a notebook: in Colab enable its widget manager and use plain-text progress bars;
    everywhere pick the device (the GPU when there is one), seed, set the language of the kit's
    messages (`lang`, from a Chinese edition's setup cell; else LECTUREKIT_LANG), switch to a course
    data set when `data="NAME"` is given (the same as `lecturekit.use_data`) and report all that."""
    from lecturekit.device import get_device, seed_everything
    from lecturekit.i18n import _, set_language
    from lecturekit.progress import set_progress_bars

    if lang is not None:
        set_language(lang)  # first: the notes below are in the edition's language
    if in_colab():
        try:
            from google.colab import output  # type: ignore[import-not-found]

            output.enable_custom_widget_manager()
        except Exception as exc:  # noqa: BLE001 - an older Colab without it still runs the kit
            print(
                _("note: Colab's widget manager could not be enabled ({error}); sliders may not show.").format(
                    error=exc
                )
            )
        set_progress_bars("text")  # notebook bars break under Colab's widget manager
    if data is not None:
        from lecturekit.datasets import use_data

        use_data(data)
    device = get_device()
    seed_everything(0)
    if verbose:
        print(report_line(device))
    return device


def report_line(device: Any) -> str:
    """The setup cell's one line: versions, device, language, Colab and data set, its labels in the language
    in force (a student of a Chinese edition reads 设备 / 语言 / 数据 where the English edition says device,
    language, data)."""
    import ipywidgets
    import torch

    from lecturekit import __version__
    from lecturekit.datasets import active as active_data
    from lecturekit.i18n import LANGUAGE_NAMES, _, get_language

    gpu = f" ({torch.cuda.get_device_name(0)})" if device.type == "cuda" else ""
    lang = get_language()
    parts = [
        f"lecturekit {__version__}",
        f"torch {torch.__version__}",
        f"ipywidgets {ipywidgets.__version__}",
        f"python {platform.python_version()}",
        _("device: {device}").format(device=f"{device}{gpu}"),
        _("language: {code} ({name})").format(code=lang, name=LANGUAGE_NAMES[lang]),
        *(["Colab"] if in_colab() else []),
        _("data: {data}").format(data=active_data().describe()),
    ]
    return " | ".join(parts)
