"""The figures a notebook's text relies on, recorded where they are computed, so a test can check them.

A notebook's markdown says things like "the VAE's decodes score better than the AE's" or "around 100
colours carry 90% of the pixels". The cell that measures such a figure also calls `record(...)`;
`tests/test_notebook_claims.py` executes every solution notebook, reads back what was recorded and
asserts the direction the text states. A retrained model or a rebuilt data set that makes a sentence
false then fails a test instead of silently teaching something untrue. Recording prints nothing:
students see only the cell's own output.
"""

from __future__ import annotations

from typing import Any

#: everything recorded in this kernel so far, {name: value}; the test reads it as JSON
RECORDED: dict[str, Any] = {}


def _plain(value: Any) -> Any:
    """Numbers, strings, lists and dicts that json can write (numpy and torch scalars become floats)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    return float(value)


def record(**figures: Any) -> None:
    """Remember named figures of this notebook (`record(ae_score=0.9, vae_score=0.7)`)."""
    RECORDED.update({name: _plain(v) for name, v in figures.items()})
