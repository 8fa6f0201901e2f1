"""Plots speak Chinese: the CJK font subsets the kit ships draw every character of each Chinese edition, with
no system font, and matplotlib says nothing is missing; the subsets stay small and carry their licence."""

from __future__ import annotations

import io
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from lecturekit import fonts, i18n  # noqa: E402

SAMPLES = {
    "zh_CN": "每个像素的比特数：编码器、解码器与生成器（训练损失）",
    "zh_TW": "每個像素的位元數：編碼器、解碼器與生成器（訓練損失）",
}


def _draw(title: str, xlabel: str = "", legend: str = "") -> None:
    """Draw and render a figure; matplotlib warns "Glyph ... missing from font(s)" for a character it cannot draw."""
    fig, ax = plt.subplots(figsize=(6, 2))
    try:
        ax.plot([0, 1], [1, 0], label=legend or None)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        if legend:
            ax.legend()
        fig.savefig(io.BytesIO(), format="png", dpi=50)
    finally:
        plt.close(fig)


@pytest.mark.parametrize("lang", fonts.FACES)
def test_a_chinese_plot_draws_every_character_of_its_edition(lang: str) -> None:
    characters = "".join(sorted(c for c in fonts.edition_characters(lang) if fonts.CJK.match(c)))
    assert len(characters) > 500
    try:
        assert i18n.set_language(lang) == lang
        assert fonts.FACES[lang][2] in matplotlib.rcParams["font.family"]
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*missing from font")
            _draw(SAMPLES[lang], xlabel="迭代 (epoch) −1.5", legend=SAMPLES[lang][:6])
            for start in range(0, len(characters), 60):  # every character the edition uses, 60 to a title
                _draw(characters[start : start + 60])
    finally:
        i18n.set_language(None)
    assert not any(f in matplotlib.rcParams["font.family"] for f, _, _ in fonts.FACES.values())


def test_without_the_kits_font_a_chinese_title_is_missing_glyphs() -> None:
    """The check above can fail: in English, matplotlib's own fonts cannot draw the same title."""
    i18n.set_language("en")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*missing from font")
            with pytest.raises(UserWarning, match="missing from font"):
                _draw(SAMPLES["zh_CN"])
    finally:
        i18n.set_language(None)


@pytest.mark.parametrize("lang", fonts.FACES)
def test_the_shipped_subset_covers_every_cjk_character_of_the_edition(lang: str) -> None:
    """Translations, catalogue and setup cell: a new character means `python -m lecturekit fonts` again."""
    assert fonts.missing_characters(lang) == []
    have = fonts.font_characters(lang)
    assert "的" in have and "編" not in have if lang == "zh_CN" else "編" in have and "编" not in have


def test_the_subsets_are_small_renamed_and_licensed() -> None:
    from fontTools.ttLib import TTFont

    sizes = [fonts.font_path(lang).stat().st_size for lang in fonts.FACES]
    assert sum(sizes) < 2 * 1024 * 1024, sizes
    for lang, (source, _, family) in fonts.FACES.items():
        with TTFont(fonts.font_path(lang), lazy=True) as font:
            assert font["name"].getDebugName(1) == family != source  # a Modified Version gets its own name (OFL)
            assert "Adobe" in font["name"].getDebugName(0)
    licence = (fonts.FONT_DIR / fonts.LICENSE_FILE).read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence and "Reserved Font Name" in licence
