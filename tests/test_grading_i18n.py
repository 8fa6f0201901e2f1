"""A Chinese-edition submission is graded like the English one (same grade ids, same points for the same
answers), and its feedback is written in the student's language, read from the notebook's metadata."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from lecturekit import i18n
from lecturekit.grading.cli import main as grade_main
from lecturekit.grading.matching import notebook_language

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "01_autoregressive_pixels"
ANSWERS = {  # pad_prefix right, image_log_prob wrong (a mean instead of a sum), draw_colour and draw_pictures unwritten
    "pad_prefix": "def pad_prefix(prefix_rgb, n_slots=8):\n    batch, t, _ = prefix_rgb.shape\n"
    "    zeros = prefix_rgb.new_zeros(batch, (n_slots - t) * 3)\n"
    "    return torch.cat([prefix_rgb.reshape(batch, t * 3), zeros], dim=1)",
    "image_log_prob": "def image_log_prob(step_probs, images):\n"
    "    picked = step_probs.gather(-1, images.unsqueeze(-1)).squeeze(-1)\n"
    "    return torch.log(picked).mean(dim=1)",
}


def _submission(student_copy: Path, folder: Path) -> Path:
    nb = json.loads(student_copy.read_text())
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in ANSWERS:
            cell["source"] = ANSWERS[gid]
    folder.mkdir(parents=True)
    (folder / f"{NOTEBOOK}.ipynb").write_text(json.dumps(nb, ensure_ascii=False))
    return folder


def _grade(submission: Path, out: Path, *extra: str) -> tuple[dict[str, tuple[str, str]], str]:
    code = grade_main(
        [
            str(submission),
            "--solutions",
            str(ROOT / "solutions"),
            "--notebook",
            NOTEBOOK,
            "--out",
            str(out / "grades.csv"),
            "--feedback",
            str(out / "feedback"),
            "--seed",
            "11",
            "--timeout",
            "120",
            "--quiet",
            *extra,
        ]
    )
    assert code == 0
    with open(out / "grades.csv") as f:
        rows = {r["grade_id"]: (r["points"], r["status"]) for r in csv.DictReader(f)}
    return rows, (out / "feedback" / f"{submission.name}.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_chinese_submission_gets_the_same_points_and_chinese_feedback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LECTUREKIT_LANG", raising=False)
    english = _submission(ROOT / "notebooks" / f"{NOTEBOOK}.ipynb", tmp_path / "en" / "alice")
    chinese = _submission(ROOT / "notebooks" / "zh_CN" / f"{NOTEBOOK}.ipynb", tmp_path / "zh" / "alice")
    assert notebook_language(english / f"{NOTEBOOK}.ipynb") is None
    assert notebook_language(chinese / f"{NOTEBOOK}.ipynb") == "zh_CN"
    en_rows, en_feedback = _grade(english, tmp_path / "out_en")
    zh_rows, zh_feedback = _grade(chinese, tmp_path / "out_zh")
    assert i18n.get_language() == "en"  # the grader itself works in English; only the feedback is translated
    assert en_rows == zh_rows
    assert en_rows["test_pad_prefix"] == ("2", "passed") and en_rows["test_image_log_prob"][0] == "0"
    assert en_rows["TOTAL"][0] == "2"
    assert en_feedback.startswith("# Feedback for alice") and "you averaged over the steps" in en_feedback
    assert zh_feedback.startswith("# alice 的反馈") and "**总分：2 / 11 分**" in zh_feedback
    assert "| 练习 | 得分 | 结果 |" in zh_feedback and "| test_pad_prefix | 2 / 2 | 通过 |" in zh_feedback
    assert "你在各步之间取了平均" in zh_feedback and "you averaged" not in zh_feedback  # the mistake, named
    assert "image_log_prob()：9 组隐藏测试输入中答对 0 组" in zh_feedback
    assert "提示：在每一步取出真实颜色的概率" in zh_feedback
    assert "hidden cases" not in zh_feedback and "hint:" not in zh_feedback
    assert "Each exercise was called" not in zh_feedback and "评分程序随机抽取" in zh_feedback
    # --lang overrides what the notebook says
    _, tw_feedback = _grade(chinese, tmp_path / "out_tw", "--lang", "zh_TW")
    assert tw_feedback.startswith("# alice 的回饋") and "你在各步之間取了平均" in tw_feedback
