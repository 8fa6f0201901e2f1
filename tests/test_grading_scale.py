"""Grading where large courses grade: shards (`grade --shard`, `grade-merge`) and Gradescope (`gradescope`,
`run_autograder`).

The fast tests check the shard arithmetic, the merge's refusals, the merge of real report outputs and
results.json's format without a kernel. The slow ones grade copies of the real notebook 01 as separate
processes, started the way the recipes start them (the Slurm script, the Kubernetes Job's command, a plain
`--shard K/N`), and run `run_autograder` in a folder laid out like Gradescope's /autograder.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lecturekit.grading import gradescope_run
from lecturekit.grading.course import Assignment, GradedCell
from lecturekit.grading.grader import GradeReport, Row, SubmissionReport
from lecturekit.grading.gradescope import (
    ALARM_MESSAGE,
    Visibility,
    failure_document,
    results_document,
    results_problems,
)
from lecturekit.grading.merge import MergeError, merge
from lecturekit.grading.merge import main as merge_main
from lecturekit.grading.report import csv_text, review_text, status_text, write_csv, write_feedback, write_review
from lecturekit.grading.shards import Shard, ShardError, parse_shard, shard_members, write_manifest
from lecturekit.i18n import _, translate

ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "docs" / "instructors" / "recipes"
NOTEBOOK = "01_autoregressive_pixels"

# ---- shards: which student is whose ----


def test_a_shard_is_read_from_the_command_line_kubernetes_or_slurm():
    assert parse_shard("1/4") == Shard(1, 4, "--shard 1/4")
    for bad in ("4/4", "-1/4", "1", "a/4", "0/0", "1/x"):
        with pytest.raises(ShardError):
            parse_shard(bad, env={})
    k8s = parse_shard("auto", env={"JOB_COMPLETION_INDEX": "2", "LECTUREKIT_GRADE_SHARDS": "3"})
    assert (k8s.index, k8s.count) == (2, 3)
    assert parse_shard("auto", 5, env={"JOB_COMPLETION_INDEX": "2"}).count == 5  # --shards wins
    with pytest.raises(ShardError, match="--shards N"):
        parse_shard("auto", env={"JOB_COMPLETION_INDEX": "2"})  # the Job's completions are not in the pod
    slurm = {"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "4"}
    assert (parse_shard("auto", env=slurm).index, parse_shard("auto", env=slurm).count) == (2, 4)  # --array=1-4
    with pytest.raises(ShardError, match="steps"):
        parse_shard("auto", env={**slurm, "SLURM_ARRAY_TASK_STEP": "2"})
    with pytest.raises(ShardError, match="does not exist"):
        parse_shard("auto", env={**slurm, "SLURM_ARRAY_TASK_ID": "9"})
    with pytest.raises(ShardError, match="neither"):
        parse_shard("auto", env={})
    with pytest.raises(ShardError, match="both"):
        parse_shard("auto", env={**slurm, "JOB_COMPLETION_INDEX": "0", "LECTUREKIT_GRADE_SHARDS": "4"})


def test_every_student_is_in_one_shard_the_same_in_every_run():
    students = [f"student{i:03d}" for i in range(103)]
    shards = [shard_members(students, Shard(k, 4)) for k in range(4)]
    assert set().union(*shards) == set(students) and sum(map(len, shards)) == len(students)
    assert sorted(map(len, shards)) == [25, 26, 26, 26]  # at most one apart
    assert shards[0] != set(students[0::4]), "dealt in a hashed order, not by name"
    assert shard_members(list(reversed(students)) + students[:5], Shard(0, 4)) == shards[0]  # order, repeats
    # another process (another Python hash salt) deals the same shares
    code = (
        "from lecturekit.grading.shards import Shard, shard_members; "
        "print(sorted(shard_members([f'student{i:03d}' for i in range(103)], Shard(2, 4))))"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert set(json.loads(other.replace("'", '"'))) == shards[2]


def test_grade_refuses_a_shard_without_a_shared_seed(tmp_path):
    from lecturekit.grading.cli import main as grade_main

    (tmp_path / "alice").mkdir()
    for argv in (["--shard", "0/2"], ["--shards", "2"], ["--shard", "2/2", "--seed", "1"], ["--shard", "auto"]):
        with pytest.raises(SystemExit) as exc:
            grade_main([str(tmp_path / "alice"), "-q", *argv])
        assert exc.value.code == 2


# ---- the merge, on outputs written by the grader's own report code ----


def _report(students: list[str], changed: list[str] | None = None) -> GradeReport:
    """A graded run over `students` as the grader reports it: rows, notes, review flags, no sandbox."""
    reports = []
    for s in students:
        i = int(s.lstrip("s"))  # what each student did depends on the student, not on who else is in the run
        rows = [
            Row(s, "01_demo", "test_a", 2.0 * (i % 2), 2.0, "passed" if i % 2 else "failed", [f"f(): {i} of 3 right"]),
            Row(s, "01_demo", "test_b", 0.0, 1.0, "missing", ["f() is not defined in your notebook"]),
        ]
        flags = [f"a: calls the reference ({s})"] if i % 3 == 0 else []
        reports.append(SubmissionReport(s, "01_demo", rows, [f"note for {s}"], flags, 1.0))
    notes = {s: [] for s in students}
    return GradeReport(reports, notes, list(changed or []), 7, 1.0, sandboxed=False)


def _identity(students: list[str], **changes: object) -> dict:
    run = {
        "kit_version": "0.1.0",
        "kit_digest": "k" * 8,
        "solutions_digest": "s" * 8,
        "seed": 123456789,
        "options": {"timeout": 60.0, "no_sandbox": True},
        "notebooks": [],
        "data": "kit",
        "students_digest": hashlib.sha256("\n".join(sorted(students)).encode()).hexdigest(),
        "students_count": len(students),
        "submissions_digest": "x" * 8,
    }
    run.update(changes)
    return run


def _write_shard(folder: Path, shard: Shard, report: GradeReport, run: dict, status: int = 0) -> Path:
    """A shard's outputs as `grade --shard` writes them: CSV, review, feedback, manifest."""
    out = folder / "grades.csv"
    write_csv(report, out)
    write_review(report, folder / "grades_review.csv")
    write_feedback(report, folder / "feedback")
    students = sorted({r.student for r in report.reports})
    return write_manifest(out, shard, run, students, folder / "feedback", folder / "grades_review.csv", status)


STUDENTS = [f"s{i:02d}" for i in range(9)]


def _shards(tmp_path: Path, count: int = 3, runs: dict[int, dict] | None = None, status: dict[int, int] | None = None):
    paths = []
    for k in range(count):
        mine = sorted(shard_members(STUDENTS, Shard(k, count)))
        report = _report(mine, changed=["/course/solutions/x.ipynb (changed)"] if k == 1 else [])
        run = (runs or {}).get(k) or _identity(STUDENTS)
        paths.append(_write_shard(tmp_path / f"shard-{k}", Shard(k, count), report, run, (status or {}).get(k, 0)))
    return paths


def test_merged_shards_are_one_run(tmp_path):
    paths = _shards(tmp_path)
    assert merge([p.parent for p in paths], tmp_path / "merged" / "grades.csv", tmp_path / "merged" / "fb") == 0
    whole = _report(STUDENTS, changed=["/course/solutions/x.ipynb (changed)"])
    assert (tmp_path / "merged" / "grades.csv").read_text() == csv_text(whole.rows())
    assert (tmp_path / "merged" / "grades_review.csv").read_text() == review_text(whole)
    write_feedback(whole, tmp_path / "single_fb")
    single = {p.name: p.read_bytes() for p in (tmp_path / "single_fb").iterdir()}
    assert {p.name: p.read_bytes() for p in (tmp_path / "merged" / "fb").iterdir()} == single


def test_the_merge_refuses_what_is_not_one_whole_run(tmp_path, capsys):
    paths = _shards(tmp_path)
    out, fb = tmp_path / "m.csv", tmp_path / "mfb"
    with pytest.raises(MergeError, match=r"missing shard\(s\) 2/3"):
        merge(paths[:2], out, fb)
    with pytest.raises(MergeError, match="given twice"):
        merge([*paths, paths[0]], out, fb)
    for field, value, what in (
        ("seed", 42, "the seed"),
        ("solutions_digest", "other", "the solutions"),
        ("kit_version", "0.2.0", "the kit's version"),
        ("submissions_digest", "other", "the submissions"),
        ("options", {"timeout": 30.0, "no_sandbox": True}, "option --timeout"),
    ):
        odd = _shards(tmp_path / field, runs={2: _identity(STUDENTS, **{field: value})})
        with pytest.raises(MergeError, match="not shards of one run") as exc:
            merge(odd, out, fb)
        assert what in str(exc.value) and "123456789" not in str(exc.value)  # never the secret seed
    # a shard cut from another list of students, and a CSV that is not its manifest's
    fewer = _shards(tmp_path / "fewer", runs={k: _identity(STUDENTS[:-1]) for k in range(3)})
    with pytest.raises(MergeError, match="hold 9 student"):
        merge(fewer, out, fb)
    shutil.copy(paths[0].parent / "grades.csv", paths[1].parent / "grades.csv")
    with pytest.raises(MergeError, match="does not hold the students"):
        merge(paths, out, fb)
    assert merge_main([str(p) for p in paths[:2]] + ["--out", str(out)]) == 2
    assert "missing shard" in capsys.readouterr().err
    assert not out.exists()


def test_the_merge_passes_on_a_shard_alarm_or_copies_not_graded(tmp_path):
    assert merge(_shards(tmp_path / "a", status={1: 3}), tmp_path / "a.csv", tmp_path / "afb") == 3
    assert merge(_shards(tmp_path / "b", status={0: 3, 2: 1}), tmp_path / "b.csv", tmp_path / "bfb") == 1
    with pytest.raises(MergeError, match="exit status 2"):
        merge(_shards(tmp_path / "c", status={2: 2}), tmp_path / "c.csv", tmp_path / "cfb")


# ---- Gradescope: results.json ----

CELLS = [
    GradedCell("test_exercise", 2.0, 3, 'check("demo.add_one", add_one)', ["demo.add_one"], False),
    GradedCell("test_plain", 1.0, 5, "assert count([1]) == 1", [], False),
    GradedCell(
        "test_hidden", 1.0, 7, "assert f(1)\n### BEGIN HIDDEN TESTS\nassert f(2)\n### END HIDDEN TESTS", [], False
    ),
]


# what the grader writes (as Messages, which the feedback writes again in each student's language)
HIDDEN_RIGHT = _("{fn}(): {right} of {n} hidden cases right").format(fn="add_one", right=5, n=12)


def _one_copy(statuses: tuple[str, str, str], points: tuple[float, float, float]) -> tuple[GradeReport, Assignment]:
    assignment = Assignment("01_demo", Path("01_demo.ipynb"), [], "d", graded=list(CELLS))
    rows = [
        Row(
            "gs1",
            "01_demo",
            c.grade_id,
            p,
            c.points,
            s,
            [_("{fn}(): {right} of {n} hidden cases right").format(fn="add_one", right=5, n=12)]
            if s != "passed"
            else [],
        )
        for c, s, p in zip(CELLS, statuses, points)
    ]
    sub = SubmissionReport(
        "gs1",
        "01_demo",
        rows,
        [
            _("{file} was graded as {best}.ipynb: its cells belong to that notebook").format(
                file="my.ipynb", best="01_demo"
            )
        ],
    )
    return GradeReport([sub], {"gs1": []}, [], 1, 3.2), assignment


def test_results_json_has_a_test_per_graded_cell_in_the_students_language():
    report, assignment = _one_copy(("failed", "passed", "missing"), (0.83, 1.0, 0.0))
    vis = Visibility(tests="visible", hidden_tests="after_published", stdout="hidden")
    doc = results_document(report, assignment, "zh_CN", vis)
    assert results_problems(doc) == []
    tests = doc["tests"]
    assert [t["name"] for t in tests] == ["test_exercise", "test_plain", "test_hidden"]
    assert [(t["score"], t["max_score"], t["status"]) for t in tests] == [
        (0.83, 2.0, "failed"),
        (1.0, 1.0, "passed"),
        (0.0, 1.0, "failed"),
    ]
    # graded on hidden inputs (an exercise, hidden tests): the instructor's choice; a plain visible test: visible
    assert [t["visibility"] for t in tests] == ["after_published", "visible", "after_published"]
    assert doc["stdout_visibility"] == "hidden" and doc["score"] == pytest.approx(1.83) and doc["execution_time"] == 4
    assert status_text("passed", "zh_CN") != "passed" and status_text("passed", "zh_CN") in tests[1]["output"]
    assert "5 of 12" not in tests[0]["output"] and "12" in tests[0]["output"]  # the grader's line, translated
    assert "注意" in doc["output"] and "my.ipynb" in doc["output"]
    english = results_document(report, assignment, "en", vis)
    assert "add_one(): 5 of 12 hidden cases right" in english["tests"][0]["output"]


def test_an_alarm_withholds_the_grade_and_a_broken_grader_says_it_is_not_the_students_doing():
    report, assignment = _one_copy(("passed", "passed", "passed"), (2.0, 1.0, 1.0))
    doc = results_document(report, assignment, "zh_CN", Visibility(), alarm=["/autograder/source/kit/x.py (changed)"])
    assert results_problems(doc) == [] and doc["score"] == 0
    assert all(t["score"] == 0 and t["status"] == "failed" for t in doc["tests"])
    assert doc["output"] == translate(ALARM_MESSAGE, "zh_CN") != ALARM_MESSAGE
    assert doc["extra_data"]["lecturekit_changed_files"] == ["/autograder/source/kit/x.py (changed)"]
    failed = failure_document("en", Visibility(), 1.2)
    assert results_problems(failed) == [] and failed["score"] == 0 and "not in your notebook" in failed["output"]


def test_the_format_check_rejects_what_gradescope_would_refuse():
    report, assignment = _one_copy(("passed", "passed", "passed"), (2.0, 1.0, 1.0))
    good = results_document(report, assignment, "en", Visibility())
    assert results_problems(good) == []
    breakages = {
        "visibility": lambda d: d.update(visibility="students_only"),
        "stdout_visibility": lambda d: d.update(stdout_visibility=True),
        "output_format": lambda d: d.update(output_format="markdown"),
        "score": lambda d: d["tests"][0].update(score=float("nan")),
        "max_score": lambda d: d["tests"][0].update(score=3.0),
        "status": lambda d: d["tests"][0].update(status="ok"),
        "tags": lambda d: d["tests"][0].update(tags="01_demo"),
        "number": lambda d: d["tests"][0].update(number=1),
        "hints": lambda d: d["tests"][0].update(hints="?"),
        "no score": lambda d: [d.pop("score"), d["tests"][1].pop("score"), d["tests"][1].pop("status")],
        "not an object": lambda d: d["tests"].append("passed"),
    }
    for what, breaking in breakages.items():
        doc = json.loads(json.dumps(good))
        breaking(doc)
        assert results_problems(doc), what
    assert results_problems([]) and results_problems({"output": "x"})


def test_run_autograder_writes_results_even_when_the_grader_cannot_start(tmp_path, capsys):
    (tmp_path / "source").mkdir()
    settings = {"assignment": "99_not_there", "seed": 1, "visibility": {"stdout": "hidden"}, "lang": "zh_CN"}
    (tmp_path / "source" / "lecturekit-gradescope.json").write_text(json.dumps(settings))
    assert gradescope_run.run(tmp_path) == 2
    doc = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results_problems(doc) == [] and doc["score"] == 0 and doc["tests"] == []
    assert "could not grade" in capsys.readouterr().out  # the instructor's log says why


# ---- Gradescope: the autograder zip ----


def test_the_autograder_zip_is_in_gradescopes_layout(tmp_path):
    from lecturekit.grading.gradescope_build import main as build_main

    out = tmp_path / "autograder.zip"
    code = build_main([NOTEBOOK[:2], "--out", str(out), "--seed", "77", "--hidden-tests-visibility", "hidden"])
    assert code == 0
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        settings = json.loads(zf.read("lecturekit-gradescope.json"))
        scripts = {name: zf.read(name).decode() for name in ("setup.sh", "run_autograder")}
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111  # at the root, executable
    assert [n for n in names if n.startswith("course/")] == [f"course/solutions/{NOTEBOOK}.ipynb"]  # this one only
    for needed in ("kit/pyproject.toml", "kit/README.md", "kit/lecturekit/grading/gradescope_run.py"):
        assert needed in names
    assert any(n.startswith("kit/data/weights/") for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert settings["assignment"] == NOTEBOOK and settings["seed"] == 77
    assert settings["visibility"]["hidden_tests"] == "hidden" and settings["sandbox"] == "auto"
    assert settings["data"] is None  # the kit's own data, in kit/data
    import torch

    assert f"torch=={torch.__version__.split('+')[0]}" in scripts["setup.sh"]
    for name, text in scripts.items():
        (tmp_path / name).write_text(text)
        subprocess.run(["bash", "-n", str(tmp_path / name)], check=True)


def test_the_zip_carries_the_course_data_set_in_force(tmp_path, monkeypatch):
    from lecturekit import datasets
    from lecturekit.grading.gradescope_build import course_data_files

    folder = tmp_path / "course2026"
    for name in ("dataset.json", "sprites/pixel_color.txt", "weights/vae.pt", "training/vae.resume"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(name)
    monkeypatch.setattr(datasets, "active", lambda: datasets.ActiveData("course2026", folder, False, "test"))
    where, files = course_data_files()
    assert where == "course/data/course2026"
    assert sorted(n for n, _size in files) == [
        "course/data/course2026/dataset.json",
        "course/data/course2026/sprites/pixel_color.txt",
        "course/data/course2026/weights/vae.pt",
    ]  # not the resume files of an unfinished training


# ---- the recipes ----


def test_the_recipes_agree_with_the_grader():
    yaml = pytest.importorskip("yaml")
    job = yaml.safe_load((RECIPES / "k8s-grade-job.yaml").read_text())
    spec = job["spec"]
    container = spec["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert spec["completionMode"] == "Indexed" and env["LECTUREKIT_GRADE_SHARDS"] == str(spec["completions"])
    assert "--shard auto" in container["args"][0] and "$GRADE_SEED" in container["args"][0]
    workflow = yaml.safe_load((RECIPES / "github-actions-grade.yml").read_text())
    shards = workflow["jobs"]["grade"]["strategy"]["matrix"]["shard"]
    grade_step = next(s for s in workflow["jobs"]["grade"]["steps"] if "lecturekit grade " in s.get("run", ""))
    assert shards == list(range(len(shards))) and f"/{len(shards)}" in grade_step["run"]
    assert workflow["jobs"]["merge"]["needs"] == "grade"
    subprocess.run(["bash", "-n", str(RECIPES / "slurm-grade-array.sh")], check=True)
    containerfile = (RECIPES / "Containerfile").read_text()
    for line in containerfile.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source  # the image builds from the kit's checkout


# ---- slow: real grading, in separate processes ----


def _real_notebook() -> Path | None:
    path = ROOT / "solutions" / f"{NOTEBOOK}.ipynb"
    return path if path.is_file() else None


def _copies(solution: Path, student_copy: Path) -> dict[str, str]:
    """Texts of copies of notebook 01: solved, untouched, first answer only (as benchmarks/bench_grading.py)."""
    nb = json.loads(student_copy.read_text())
    first = next(
        c for c in json.loads(solution.read_text())["cells"] if c["metadata"].get("nbgrader", {}).get("solution")
    )
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == first["metadata"]["nbgrader"]["grade_id"]:
            cell["source"] = first["source"]
    return {"solved": solution.read_text(), "untouched": student_copy.read_text(), "half": json.dumps(nb)}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "JOB_COMPLETION", "LECTUREKIT_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **extra}


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="") as f:
        return [r for r in csv.reader(f) if not (r and r[-1].startswith("during grading"))]


@pytest.mark.slow
@pytest.mark.skipif(_real_notebook() is None, reason="no notebook 01 in solutions/")
def test_shards_run_as_separate_processes_merge_to_the_same_grades_and_feedback(tmp_path):
    """Three shards, started as the Slurm script, the Kubernetes Job and a plain --shard start them, merged,
    give the CSV, review and feedback files of one run over the same copies."""
    from lecturekit.grading.cli import main as grade_main

    yaml = pytest.importorskip("yaml")
    solution = _real_notebook()
    course = tmp_path / "course" / "solutions"
    course.mkdir(parents=True)
    shutil.copy(solution, course)
    texts = _copies(solution, ROOT / "notebooks" / solution.name)
    # three students and one more whose file is not a notebook: four over three shards
    chosen = ["ada", "bo", "chen"]
    subs = tmp_path / "subs"
    for student, kind in zip(chosen, ["solved", "untouched", "half"]):
        (subs / student).mkdir(parents=True)
        (subs / student / solution.name).write_text(texts[kind])
    (subs / "broken__01_autoregressive_pixels.ipynb").write_text('{"cells": [')
    args = [*map(str, sorted(subs.iterdir())), "--solutions", str(course), "--seed", "11", "-q"]
    # one run, here: status 3, one copy could not be graded (the broken file)
    assert grade_main([*args, "--out", str(tmp_path / "single" / "grades.csv")]) == 3

    out = tmp_path / "shards"
    paths = {"COURSE": str(tmp_path / "course"), "SUBMISSIONS": str(subs), "OUT": str(out), "GRADE_SEED": "11"}
    slurm = {"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "5", "SLURM_ARRAY_TASK_COUNT": "3"}  # --array=5-7
    recipe = RECIPES / "slurm-grade-array.sh"
    ran = subprocess.run(["bash", str(recipe)], env=_env(**paths, **slurm, PYTHON=sys.executable))  # shard 0
    codes = [ran.returncode]
    pod = yaml.safe_load((RECIPES / "k8s-grade-job.yaml").read_text())["spec"]["template"]["spec"]["containers"][0]
    pod_env = {e["name"]: e["value"] for e in pod["env"] if "value" in e}
    pod_env.update(paths, LECTUREKIT_GRADE_SHARDS="3", JOB_COMPLETION_INDEX="1")
    ran = subprocess.run([*pod["command"], pod["args"][0]], env=_env(**pod_env))  # shard 1, as in the pod
    codes.append(ran.returncode)
    grade = [sys.executable, "-m", "lecturekit", "grade", *args, "--shard", "2/3"]
    third = subprocess.run([*grade, "--out", str(out / "third" / "grades.csv")], env=_env())
    codes.append(third.returncode)
    assert sorted(codes) == [0, 0, 3], codes  # the shard with the broken copy says so, the others are clean
    manifests = sorted(out.glob("*/grades_run.json"))
    assert sorted(json.loads(p.read_text())["shard"]["index"] for p in manifests) == [0, 1, 2]

    merged = tmp_path / "merged"
    assert merge_main([*map(str, manifests), "--out", str(merged / "grades.csv")]) == 3  # the broken copy, merged
    assert (merged / "grades.csv").read_bytes() == (tmp_path / "single" / "grades.csv").read_bytes()
    assert _rows(merged / "grades_review.csv") == _rows(tmp_path / "single" / "grades_review.csv")
    feedback = {p.name: p.read_bytes() for p in (merged / "feedback").iterdir()}
    assert feedback == {p.name: p.read_bytes() for p in (tmp_path / "single" / "feedback").iterdir()}
    assert len(feedback) == 4
    totals = {r[0]: r for r in _rows(merged / "grades.csv") if r[2] == "TOTAL"}
    assert totals[chosen[0]][3] == totals[chosen[0]][4] != "0" and totals[chosen[1]][3] == "0"


def _gradescope_root(tmp_path: Path, hidden_tests_visibility: str) -> Path:
    from lecturekit.grading.gradescope_build import main as build_main

    root = tmp_path / "autograder"
    assert (
        build_main([NOTEBOOK, "--out", str(tmp_path / "ag.zip"), "--hidden-tests-visibility", hidden_tests_visibility])
        == 0
    )
    with zipfile.ZipFile(tmp_path / "ag.zip") as zf:
        zf.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")  # as Gradescope's image build does
    (root / "submission_metadata.json").write_text(json.dumps({"users": [{"id": 90210, "name": "A Student"}]}))
    return root


def _submit(root: Path, files: dict[str, str], **env: str) -> tuple[dict, str]:
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    for name, text in files.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_text(text)
    (root / "submission" / "notes.ipynb").symlink_to("/etc/hostname")  # never followed
    done = subprocess.run(
        ["bash", str(root / "run_autograder")],
        env=_env(LECTUREKIT_GRADESCOPE_ROOT=str(root), LECTUREKIT_PYTHON=sys.executable, **env),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((root / "results" / "results.json").read_text()), done.stdout + done.stderr


def _hidden_lines(solution: Path) -> list[str]:
    """The hidden tests' lines of the solution notebook (none may reach a student)."""
    lines, inside = [], False
    for cell in json.loads(solution.read_text())["cells"]:
        for line in "".join(cell["source"]).splitlines():
            if line.strip() in ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"):
                inside = line.strip().startswith("### BEGIN")
            elif inside and len(line.strip()) > 8:
                lines.append(line.strip())
    return lines


@pytest.mark.slow
@pytest.mark.skipif(_real_notebook() is None, reason="no notebook 01 in solutions/")
def test_run_autograder_grades_a_submission_in_gradescopes_layout(tmp_path):
    solution = _real_notebook()
    root = _gradescope_root(tmp_path, "after_published")
    doc, log = _submit(root, {f"hw/{solution.name}": solution.read_text()})
    assert results_problems(doc) == []
    assert doc["tests"] and all(t["status"] == "passed" and t["score"] == t["max_score"] > 0 for t in doc["tests"])
    assert {t["visibility"] for t in doc["tests"]} == {"after_published"} and doc["stdout_visibility"] == "hidden"
    assert doc["extra_data"]["lecturekit_sandboxed"] is True and "bubblewrap sandbox" in log
    assert "student gs90210" in log and "1 notebook(s)" in log  # the link was not taken for a notebook
    text = json.dumps(doc, ensure_ascii=False)
    assert not [line for line in _hidden_lines(solution) if line in text]

    # a Chinese half-done copy in a container that forbids namespaces (a bwrap that cannot make one)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    (fake / "bwrap").chmod(0o755)
    half = _copies(solution, ROOT / "notebooks" / "zh_CN" / solution.name)["half"]
    doc, log = _submit(root, {"作业.ipynb": half}, PATH=f"{fake}{os.pathsep}{os.environ['PATH']}")
    assert results_problems(doc) == []
    assert "cannot make a sandbox in this container" in log and doc["extra_data"]["lecturekit_sandboxed"] is False
    statuses = [t["status"] for t in doc["tests"]]
    assert statuses[0] == "passed" and set(statuses[1:]) == {"failed"}
    assert status_text("passed", "zh_CN") in doc["tests"][0]["output"]
    assert "注意" in doc["output"]  # the note that the renamed file was graded as notebook 01, in Chinese
    assert not [line for line in _hidden_lines(solution) if line in json.dumps(doc, ensure_ascii=False)]
