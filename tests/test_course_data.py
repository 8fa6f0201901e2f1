"""`course-data` and the data switch (`LECTUREKIT_DATA`, `lecturekit.use_data`): a course's own sprites
become a data set the whole kit follows, bad files are refused before anything is written, checkpoints
of one data set are refused under the other with a message naming the switch, an interrupted run
resumes, and notebooks 01-05 run top to bottom on the course's sprites."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from lecturekit import course_data, datasets
from lecturekit.checkpoints import CheckpointError, load_checkpoint, load_pretrained, save_checkpoint
from lecturekit.data import SpriteSet, load_sprites, write_lecture_files
from lecturekit.lecture_like import lecture_like_files, lecture_like_sprites
from lecturekit.paths import kit_weights_dir

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_switch(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test starts on the kit's sprites, with a user data folder of its own."""
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)
    monkeypatch.setenv(datasets.HOME_ENV_VAR, str(tmp_path_factory.mktemp("data_home")))
    datasets.reset()
    yield
    datasets.reset()


@pytest.fixture(scope="module")
def small_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Lecture-format files unlike the kit's: 120 sprites on a 40-colour palette."""
    return lecture_like_files(tmp_path_factory.mktemp("course_files"), n=120, n_colors=40, start=500)


@pytest.fixture(scope="module")
def course_folder(small_files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data set of `small_files`, written without training (fast)."""
    folder = tmp_path_factory.mktemp("sets") / "small"
    assert (
        course_data.main(
            [str(small_files[0]), str(small_files[1]), "--name", "small", "--into", str(folder), "--no-train"]
        )
        == 0
    )
    return folder


def _main_fails(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert course_data.main(args) == 2
    return capsys.readouterr().err


def _nothing_written(parent: Path) -> bool:
    return not parent.exists() or not any(parent.iterdir())


# ----------------------------------------------------------------------------- bad inputs: clear error, nothing written
def _write_pixels(path: Path, rows: list[list[int]]) -> Path:
    path.write_text("".join(" ".join(map(str, r)) + "\n" for r in rows), encoding="utf-8")
    return path


def _write_colormap(path: Path, n: int) -> Path:
    rng = np.random.default_rng(0)
    rows = [[255, 255, 255]] + rng.integers(0, 255, size=(n - 1, 3)).tolist()
    path.write_text("".join(f"{r} {g} {b}\n" for r, g, b in rows), encoding="utf-8")
    return path


def test_ragged_pixel_lines_are_refused_naming_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = np.random.default_rng(1).integers(0, 40, size=(120, 400)).tolist()
    rows[6] = rows[6][:399]
    pixels = _write_pixels(tmp_path / "pixel_color.txt", rows)
    colormap = _write_colormap(tmp_path / "colormap.txt", 40)
    out = tmp_path / "out"
    err = _main_fails([str(pixels), str(colormap), "--name", "bad", "--into", str(out / "bad")], capsys)
    assert "pixel_color.txt, line 7" in err and "expected 400 values" in err and "found 399" in err
    assert _nothing_written(out) and _nothing_written(datasets.user_data_home())


def test_an_index_beyond_the_colormap_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = np.random.default_rng(2).integers(0, 40, size=(120, 400)).tolist()
    rows[2][17] = 60
    pixels = _write_pixels(tmp_path / "pixel_color.txt", rows)
    colormap = _write_colormap(tmp_path / "colormap.txt", 40)
    err = _main_fails([str(pixels), str(colormap), "--name", "bad"], capsys)
    assert "line 3" in err and "colour index 60" in err and "only 40 colours" in err
    assert _nothing_written(datasets.user_data_home())


def test_a_colormap_of_two_colours_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = np.random.default_rng(3).integers(0, 2, size=(120, 400)).tolist()
    pixels = _write_pixels(tmp_path / "pixel_color.txt", rows)
    colormap = _write_colormap(tmp_path / "colormap.txt", 2)
    err = _main_fails([str(pixels), str(colormap), "--name", "bad"], capsys)
    assert "colormap.txt" in err and "only 2 colours" in err and f"at least {course_data.MIN_COLORS}" in err
    assert _nothing_written(datasets.user_data_home())


def test_an_empty_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    err = _main_fails([str(tmp_path / "empty"), "--name", "bad"], capsys)
    assert "empty" in err and "no .png or .gif files" in err
    assert _nothing_written(datasets.user_data_home())


def test_a_folder_of_64x64_images_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    folder = tmp_path / "big"
    folder.mkdir()
    rng = np.random.default_rng(4)
    for i in range(120):
        Image.fromarray(rng.integers(0, 255, size=(64, 64, 3), dtype=np.uint8)).save(folder / f"s{i:03d}.png")
    err = _main_fails([str(folder), "--name", "bad"], capsys)
    assert "s000.png" in err and "64x64" in err and "20x20" in err
    assert _nothing_written(datasets.user_data_home())


def test_a_name_in_use_by_other_data_is_refused(
    course_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sorted(p.name for p in course_folder.rglob("*"))
    other = lecture_like_files(tmp_path, n=110, n_colors=30, start=100)
    err = _main_fails([str(other[0]), str(other[1]), "--name", "small", "--into", str(course_folder)], capsys)
    assert "already holds another data set" in err and "nothing was written" in err
    assert sorted(p.name for p in course_folder.rglob("*")) == before


# ----------------------------------------------------------------------------- the data folder and the switch
def test_the_data_set_has_datas_layout_and_a_seeded_5_percent_split(
    course_folder: Path, small_files: tuple[Path, Path]
) -> None:
    for part in ("sprites/pixel_color.txt", "sprites/colormap.txt", "sprites/split.json", "dataset.json", "weights"):
        assert (course_folder / part).exists(), part
    assert (course_folder / "sprites" / "pixel_color.txt").read_bytes() == small_files[0].read_bytes()
    manifest = datasets.read_manifest(course_folder)
    assert (manifest["sprites"], manifest["test"], manifest["colours"]) == (120, 6, 40)
    sprites, train, test = course_data.load_data_set(course_folder)
    assert len(train) + len(test) == len(sprites) and len(test) == 6


def test_the_switch_moves_sprites_and_weights(course_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lecturekit.datasets import weights_dir

    kit = load_sprites()
    monkeypatch.setenv(datasets.ENV_VAR, str(course_folder))
    course = load_sprites()
    assert (len(course), course.n_colors) == (120, 40) and course.palette_fingerprint() != kit.palette_fingerprint()
    assert (len(load_sprites("train")), len(load_sprites("test"))) == (114, 6)
    assert weights_dir() == course_folder / "weights"
    datasets.use_data(None)  # Python wins over the environment
    assert len(load_sprites()) == len(kit)
    import lecturekit

    lecturekit.use_data(course_folder)
    assert load_sprites().n_colors == 40


def test_a_name_is_looked_up_in_the_user_data_folder(
    small_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert course_data.main([str(small_files[0]), str(small_files[1]), "--name", "byname", "--no-train"]) == 0
    assert (datasets.user_data_home() / "byname" / "sprites" / "pixel_color.txt").is_file()
    monkeypatch.setenv(datasets.ENV_VAR, "byname")
    assert load_sprites().n_colors == 40 and datasets.active().name == "byname"


def test_a_switch_to_nothing_says_how_to_make_the_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(datasets.ENV_VAR, "nosuchcourse")
    with pytest.raises(datasets.DataSetError, match="course-data"):
        load_sprites()
    with pytest.raises(datasets.DataSetError, match="LECTUREKIT_DATA"):
        datasets.use_data("nosuchcourse")


def test_the_setup_cell_reports_the_data(
    course_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lecturekit.colab import setup_notebook
    from lecturekit.i18n import set_language

    setup_notebook()
    assert "data: the kit's sprites" in capsys.readouterr().out
    monkeypatch.setenv(datasets.ENV_VAR, str(course_folder))
    setup_notebook()
    assert "data: course set 'small' (LECTUREKIT_DATA=" in capsys.readouterr().out
    datasets.reset()
    monkeypatch.delenv(datasets.ENV_VAR)
    setup_notebook(data=str(course_folder))
    assert "data: course set 'small' (lecturekit.use_data(" in capsys.readouterr().out
    try:  # a Chinese edition's line says the same in its language
        setup_notebook(lang="zh_CN")
        assert "数据：课程数据集 'small'（lecturekit.use_data(" in capsys.readouterr().out
        setup_notebook(lang="zh_TW")
        assert "資料：課程資料集 'small'（lecturekit.use_data(" in capsys.readouterr().out
    finally:
        set_language(None)


def test_a_png_folder_keeps_its_rgb_for_notebook_02(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    from lecturekit.models.rgb import load_rgb_crops, load_sprite_data

    crops = load_rgb_crops(110)
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i, img in enumerate(crops):
        Image.fromarray(img).save(folder / f"sprite_{i:03d}.png")
    out = tmp_path / "set"
    assert course_data.main([str(folder), "--name", "pngs", "--into", str(out), "--no-train", "--colors", "60"]) == 0
    monkeypatch.setenv(datasets.ENV_VAR, str(out))
    data = load_sprite_data()
    assert data.sprites.n_colors <= 60 and np.array_equal(data.rgb, crops) and data.original_rgb
    assert "course data set 'pngs'" in data.source


def test_lecture_files_give_notebook_02_the_palettes_colours(
    course_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lecturekit.models.rgb import load_sprite_data

    monkeypatch.setenv(datasets.ENV_VAR, str(course_folder))
    data = load_sprite_data()
    assert np.array_equal(data.rgb, data.sprites.rgb()) and len(data.test) == 6 and not data.original_rgb


# ----------------------------------------------------------------------------- checkpoints: each data set its own
def _tiny_course_checkpoint(folder: Path) -> Path:
    from lecturekit.models.pixelrnn import PixelRNN

    sprites, _, _ = course_data.load_data_set(folder)
    path = folder / "weights" / "pixelrnn.pt"
    save_checkpoint(
        path,
        PixelRNN(sprites.n_colors, hidden=8, embed=4),
        fingerprints={"palette": sprites.palette_fingerprint(), "data": sprites.fingerprint(), "dataset": "small"},
    )
    return path


def test_kit_checkpoints_are_refused_under_the_switch(course_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(datasets.ENV_VAR, str(course_folder))
    with pytest.raises(CheckpointError, match="LECTUREKIT_DATA") as err:
        load_pretrained("gan")  # not trained on this data set (yet): the kit's GAN belongs to the kit's sprites
    assert "course-data" in str(err.value) and "use_data(None)" in str(err.value)
    with pytest.raises(CheckpointError, match="LECTUREKIT_DATA=") as err:
        load_checkpoint(kit_weights_dir() / "vae.pt", fingerprints={"palette": load_sprites().palette_fingerprint()})
    assert "kit's own sprites" in str(err.value) and "'small'" in str(err.value)


def test_course_checkpoints_are_refused_without_the_switch(
    course_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _tiny_course_checkpoint(course_folder)
    try:
        with pytest.raises(CheckpointError, match="LECTUREKIT_DATA=small") as err:
            load_checkpoint(path, fingerprints={"palette": load_sprites().palette_fingerprint()})
        assert "use_data('small')" in str(err.value)
        monkeypatch.setenv(datasets.ENV_VAR, str(course_folder))
        model = load_pretrained("pixelrnn")
        assert model.n_colors == 40
    finally:
        path.unlink()


def test_models_that_need_no_sprites_still_load_under_the_switch(
    course_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (kit_weights_dir() / "sentence_vae.pt").is_file():
        pytest.skip("no shipped sentence VAE")
    monkeypatch.setenv(datasets.ENV_VAR, str(course_folder))
    assert load_pretrained("sentence_vae").kind == "sentence_vae"


def test_lecture_like_files_match_the_course_files_shape() -> None:
    sprites = lecture_like_sprites(150, 60, start=0)
    assert isinstance(sprites, SpriteSet) and len(sprites) == 150 and sprites.n_colors == 60
    assert np.array_equal(sprites.palette[0], [255, 255, 255])


def test_lecture_like_sprites_are_seeded_and_textured() -> None:
    from lecturekit.lecture_like import shade_sprites

    a, b = lecture_like_sprites(60, 30, start=10), lecture_like_sprites(60, 30, start=10)
    assert np.array_equal(a.indices, b.indices) and np.array_equal(a.palette, b.palette)
    assert not np.array_equal(lecture_like_sprites(60, 30, start=10, seed=1).indices, a.indices)
    cells = np.full((2, 40, 40, 3), 255, dtype=np.uint8)
    cells[:, 12:28, 12:28] = (200, 80, 40)  # one flat colour
    shaded = shade_sprites(cells, seed=0)
    assert shaded.shape == (2, 20, 20, 3) and len(np.unique(shaded.reshape(-1, 3), axis=0)) > 20
    plain = shade_sprites(cells, seed=0, scale=(1.0, 1.0), hue=0, light=0, blotches=0, dither=0, shift=0)
    assert np.array_equal(plain, cells[:, 10:30, 10:30])  # no texture: the lecture's centre crop
    turned = shade_sprites(cells, seed=0, scale=(1.0, 1.0), light=0, blotches=0, dither=0, shift=0)
    assert np.all(turned[plain == 255] == 255)  # white stays white
    assert not np.array_equal(turned[0, 5, 5], turned[1, 5, 5])  # each sprite its own hue


def test_lecture_like_sprites_keep_the_row_above_telling() -> None:
    """The calibration's point: shading with crisp regions, not pixel noise, so a pixel often repeats the
    one above it (on the course's files the see-above model gains 16% over the plain LSTM; a set of
    independent per-pixel noise hid that gain)."""

    def same_as_above(indices: np.ndarray) -> float:  # over the creature's pixels (colour 0 is the white)
        ink = indices[:, 1:] != 0
        return float((indices[:, 1:] == indices[:, :-1])[ink].mean())

    shaded = same_as_above(lecture_like_sprites(120, 60, start=0).indices)
    assert shaded > 0.3 and shaded > 2 * same_as_above(lecture_like_sprites(120, 60, start=0, dither=0.45).indices)


def test_write_then_read_round_trip_is_what_course_data_stores(tmp_path: Path) -> None:
    sprites = lecture_like_sprites(100, 20, start=50)
    write_lecture_files(sprites, tmp_path / "p.txt", tmp_path / "c.txt")
    course = course_data.read_input([str(tmp_path / "p.txt"), str(tmp_path / "c.txt")])
    assert course.rgb is None and np.array_equal(course.sprites.indices, sprites.indices)


# ----------------------------------------------------------------------------- training: resume, skip, notebooks
def _course_data_cmd(files: tuple[Path, Path], folder: Path, minutes: float) -> list[str]:
    return [
        sys.executable,
        "-m",
        "lecturekit",
        "course-data",
        str(files[0]),
        str(files[1]),
        "--name",
        "trained",
        "--into",
        str(folder),
        "--minutes",
        str(minutes),
        "--no-progress",
        "--threads",
        "1",
    ]


@pytest.fixture(scope="module")
def trained_set(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A 160-sprite, 48-colour data set through `course-data --minutes 0.6`, killed (SIGKILL) while the
    GAN trains, then run again to the end, then once more."""
    files = lecture_like_files(tmp_path_factory.mktemp("trained_files"), n=160, n_colors=48, start=200)
    folder = tmp_path_factory.mktemp("trained") / "trained"
    env = {**os.environ, "LECTUREKIT_PROGRESS": "off"}
    env.pop(datasets.ENV_VAR, None)
    cmd = _course_data_cmd(files, folder, 0.6)
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    resume = folder / "training" / "gan.resume.pt"
    deadline = time.monotonic() + 600
    while not resume.is_file() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first_out = first.communicate()[0]
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    third = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    return {"folder": folder, "first": first_out, "second": second, "third": third}


@pytest.mark.slow
def test_an_interrupted_run_resumes_where_it_stopped(trained_set: dict[str, object]) -> None:
    second = trained_set["second"]
    assert second.returncode == 0, second.stdout + second.stderr
    assert "gan: resuming after epoch" in second.stdout, trained_set["first"] + second.stdout
    for name in ("rgb_regression", "rgb_palette", "pixelrnn", "pixelrnn_above", "ae", "vae"):
        assert f"{name}: already trained to this recipe" in second.stdout
    folder = trained_set["folder"]
    assert not list((folder / "training").glob("*.resume.pt"))
    assert sorted(p.stem for p in (folder / "weights").glob("*.pt")) == sorted(p.name for p in course_data.plans())


@pytest.mark.slow
def test_a_rerun_skips_every_finished_model(trained_set: dict[str, object]) -> None:
    third = trained_set["third"]
    assert third.returncode == 0, third.stdout + third.stderr
    assert third.stdout.count("already trained to this recipe") == len(course_data.plans())
    assert "training budget: 0.6 minutes" in third.stdout and "pixelrnn_above   22%" in third.stdout


#: lines the notebooks print on the course set (160 lecture-format sprites, 48 colours): the figures
#: their text points to are computed from this data, not the kit's
COURSE_FIGURES = {
    "02": (
        "160 sprites",
        "48 palette colours",
        "they carry no RGB originals",
        "48 colours found)",
        "the kit's own recipe replays the kit's RGB sprites only",
    ),
    "03": (
        "held-out sprites, two completions each",
        "the best baseline by",
        "on this data set, the LSTM + row above is",
        "course-data run",
    ),
    "04": ("reconstructs better, by", "training sprites): the AE's own-width codes score", "dimensions are used"),
    "05": ("easiest to tell from real sprites (highest 1-NN)", "for this generator:"),
}
#: what only holds for the kit's own sprites and must not be printed on a course's
KIT_ONLY_FIGURES = {
    "02": ("identical to the shipped colormap.txt",),
    "03": ("busy 2-core machine",),
    "04": ("every dimension is used",),
    "05": ("busy 2-core machine",),
}


@pytest.mark.slow
def test_notebooks_01_to_05_run_on_the_course_data(
    trained_set: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv(datasets.ENV_VAR, str(trained_set["folder"]))
    monkeypatch.setenv("LECTUREKIT_PROGRESS", "off")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for path in sorted((ROOT / "solutions").glob("0[1-5]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        ).execute()
        setup_out = "".join(o.get("text", "") for o in nb.cells[1].get("outputs", []))
        assert "data: course set 'trained'" in setup_out, (path.name, setup_out)
        printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
        for line in COURSE_FIGURES.get(path.name[:2], ()):
            assert line in printed, (path.name, line)
        for line in KIT_ONLY_FIGURES.get(path.name[:2], ()):
            assert line not in printed, (path.name, line)


# ----------------------------------------------------------------------------- grading under the switch
def _data_probe_notebook(folder: str, n_colors: int):
    """A course notebook whose --full run reads the sprites and tries to write into the data set; its plain
    graded cell passes only when the kernel saw the course set, read-only, at `folder`."""
    from notebook_cells import code_cell, new_notebook, setup_cell, solution_cell
    from test_grading import _graded

    probe = (
        "import errno, os\nfrom lecturekit import datasets\nfrom lecturekit.data import load_sprites\n"
        "PALETTE_SIZE = len(load_sprites().palette)\nDATA_FOLDER = str(datasets.root())\nWRITES = []\n"
        "for _path, _mode in ((os.path.join(DATA_FOLDER, 'sprites', 'planted.txt'), 'w'),\n"
        "                     (os.path.join(DATA_FOLDER, 'sprites', 'pixel_color.txt'), 'a')):\n"
        "    try:\n        open(_path, _mode).write('pwned')\n        WRITES.append('written')\n"
        "    except OSError as _err:\n        WRITES.append(errno.errorcode.get(_err.errno, str(_err.errno)))\n"
    )
    test = (
        f"assert PALETTE_SIZE == {n_colors}, PALETTE_SIZE\nassert DATA_FOLDER == {folder!r}, DATA_FOLDER\n"
        "assert WRITES == ['EROFS', 'EROFS'], WRITES"
    )
    return new_notebook(
        [
            setup_cell(),
            code_cell(probe),
            solution_cell("def answer():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", "answer"),
            _graded(test, "test_data", 1),
        ]
    )


def _graded_under_the_switch(
    course_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *options: str
) -> tuple[int, Path, Path]:
    """Grade the probe notebook with `grade --full` under the switch to a writable copy of the course set:
    (exit status, the grades CSV, the data set's folder)."""
    import shutil

    import nbformat
    from test_grading import put

    from lecturekit.grading import bwrap
    from lecturekit.grading.cli import main as grade_main
    from lecturekit.notebooks import clean_notebook, student_notebook

    folder = tmp_path / "datasets" / "course_set"  # beside the course folder (which is watched anyway)
    shutil.copytree(course_folder, folder)
    for path in [folder, *folder.rglob("*")]:  # writable by anyone: only the sandbox's read-only bind stops a write
        path.chmod(0o777 if path.is_dir() else 0o666)
    kit_colors = load_sprites().n_colors
    monkeypatch.setenv(datasets.ENV_VAR, str(folder))
    n_colors = load_sprites().n_colors
    assert (n_colors, kit_colors) == (40, 168)
    # a sandboxed kernel sees the set at a fixed path (the host's folder names stay outside); without it, in place
    inside = str(folder) if "--no-sandbox" in options else bwrap.COURSE_DATA_MOUNT
    nb = _data_probe_notebook(inside, n_colors)
    solutions = tmp_path / "course" / "solutions"
    solutions.mkdir(parents=True)
    nbformat.write(clean_notebook(nb), solutions / "01_data.ipynb")
    put(tmp_path / "subs" / "alice", nbformat.writes(student_notebook(nb, "01_data")), name="01_data.ipynb")
    out = tmp_path / "out" / "grades.csv"
    args = [str(tmp_path / "subs" / "alice"), "--solutions", str(solutions), "--out", str(out)]
    code = grade_main([*args, "--full", "--timeout", "60", "-q", "--seed", "1", *options])
    return code, out, folder


@pytest.mark.slow
def test_grade_full_runs_the_course_cells_on_the_course_data_read_only(
    course_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`grade --full` under the switch: the sandboxed kernel loads the course set (not the kit's 168 colours)
    from the folder the instructor selected, and cannot write into it even where its files allow it."""
    import csv

    from lecturekit.grading import bwrap

    if bwrap.sandbox_problem():
        pytest.skip(f"no sandbox here: {bwrap.sandbox_problem()}")
    before = sorted((p.relative_to(course_folder), p.stat().st_size) for p in course_folder.rglob("*"))
    code, out, folder = _graded_under_the_switch(course_folder, tmp_path, monkeypatch)
    rows = {r["grade_id"]: r for r in csv.DictReader(out.open())}
    feedback = (out.parent / "feedback" / "alice.md").read_text()
    assert float(rows["test_data"]["points"]) == 1, feedback
    assert code == 0
    assert sorted((p.relative_to(folder), p.stat().st_size) for p in folder.rglob("*")) == before


@pytest.mark.slow
def test_files_changed_in_the_course_data_raise_the_alarm(
    course_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the sandbox the probe's writes into the course set work: the run says so (exit status 1)."""
    code, out, folder = _graded_under_the_switch(course_folder, tmp_path, monkeypatch, "--no-sandbox")
    review = (out.parent / "grades_review.csv").read_text()
    assert code == 1
    assert "planted.txt (created)" in review and "pixel_color.txt (changed)" in review, review


def test_a_course_set_other_users_cannot_read_is_refused_before_grading_as_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root each grading kernel runs under a uid of its own: a data set it could not read is refused up
    front, naming the chmod that fixes it (not a kernel that silently fails to load the sprites)."""
    from types import SimpleNamespace

    from lecturekit.grading import bwrap, sandbox

    folder = tmp_path / "course_set"
    (folder / "weights").mkdir(parents=True)
    (folder / "weights" / "vae.pt").write_bytes(b"x")
    (folder / "dataset.json").write_text("{}")
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    monkeypatch.setattr(datasets, "active", lambda: SimpleNamespace(is_kit=False, folder=folder))
    monkeypatch.setattr(bwrap, "is_root", lambda: True)
    assert sandbox.unreadable_by_others(folder) == []
    assert sandbox.course_data_folder() == folder.resolve()

    (folder / "weights" / "vae.pt").chmod(0o600)
    (folder / "weights").chmod(0o700)
    assert sandbox.unreadable_by_others(folder) == [folder / "weights", folder / "weights" / "vae.pt"]
    with pytest.raises(ValueError, match=r"chmod -R o\+rX"):
        sandbox.course_data_folder()
    assert sandbox.course_data_folder(own_uid=False) == folder.resolve()  # a kernel that keeps the grader's uid
    monkeypatch.setattr(bwrap, "is_root", lambda: False)  # not root: the kernel is the grader's own user
    assert sandbox.course_data_folder() == folder.resolve()
