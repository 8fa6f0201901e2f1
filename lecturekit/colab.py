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


def in_colab() -> bool:
    return "google.colab" in sys.modules


def setup_notebook(verbose: bool = True, data: str | None = None) -> Any:
    """Prepare a notebook: in Colab enable its widget manager and use plain-text progress bars;
    everywhere pick the device (the GPU when there is one), seed, and report versions and the data in
    force. `data="NAME"` switches to a course data set first (the same as `lecturekit.use_data`)."""
    import torch

    from lecturekit import __version__
    from lecturekit.datasets import active as active_data
    from lecturekit.device import get_device, seed_everything
    from lecturekit.progress import set_progress_bars

    if in_colab():
        try:
            from google.colab import output  # type: ignore[import-not-found]

            output.enable_custom_widget_manager()
        except Exception as exc:  # noqa: BLE001 - an older Colab without it still runs the kit
            print(f"note: Colab's widget manager could not be enabled ({exc}); sliders may not show.")
        set_progress_bars("text")  # notebook bars break under Colab's widget manager
    if data is not None:
        from lecturekit.datasets import use_data

        use_data(data)
    device = get_device()
    seed_everything(0)
    if verbose:
        import ipywidgets

        gpu = f" ({torch.cuda.get_device_name(0)})" if device.type == "cuda" else ""
        print(
            f"lecturekit {__version__} | torch {torch.__version__} | ipywidgets {ipywidgets.__version__} | "
            f"python {platform.python_version()} | device: {device}{gpu}" + (" | Colab" if in_colab() else "")
            + f" | data: {active_data().describe()}"
        )
    return device
