"""PixelRNN (notebook 03): the sampler agrees with training, completion, baselines, exercises, CLI, shipped weights."""

from __future__ import annotations

import math
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from lecturekit.baselines import (
    bits_per_pixel_under,
    colour_frequencies,
    position_bits_per_pixel,
    position_frequencies,
    sample_baseline,
    unigram_bits_per_pixel,
)
from lecturekit.models.pixelrnn import (
    PixelRNN,
    bits_per_pixel_from_logits,
    complete,
    lr_schedule,
    model_bits_per_pixel,
    sample,
    teacher_forcing_inputs,
    temperature_probabilities,
    train_pixelrnn,
)


def _model(
    see_above: bool = False,
    n_colors: int = 12,
    hidden: int = 32,
    seed: int = 0,
    size: int = 20,
    positions: bool = False,
) -> PixelRNN:
    torch.manual_seed(seed)
    model = PixelRNN(
        n_colors, hidden=hidden, embed=8, see_above=see_above, height=size, width=size, positions=positions
    )
    with torch.no_grad():  # sharper random predictions, so argmax and samples carry information
        for p in model.parameters():
            p.mul_(3)
    return model.eval()


def _striped_sprites(n: int, n_colors: int = 6, seed: int = 0) -> np.ndarray:
    """Sprites with structure a model can learn: each row one colour, the next row one colour higher."""
    rng = np.random.default_rng(seed)
    first = rng.integers(1, n_colors, size=n)
    rows = (first[:, None] + np.arange(20)[None, :]) % n_colors
    return np.repeat(rows[:, :, None], 20, axis=2).astype(np.int64)


@pytest.mark.parametrize(("see_above", "positions"), [(False, False), (True, False), (True, True)])
def test_greedy_sampling_matches_teacher_forcing(see_above: bool, positions: bool) -> None:
    # the step-by-step sampler and the whole-sequence forward pass must be the same model
    model = _model(see_above, positions=positions)
    drawn = sample(model, 4, temperature=0)
    logits = model(torch.as_tensor(drawn))
    assert drawn.shape == (4, 20, 20)
    assert np.array_equal(logits.argmax(-1).numpy(), drawn.reshape(4, -1))


def test_sampler_never_reruns_the_prefix_through_forward(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model(see_above=True, positions=True)
    sprites = sample(model, 2, seed=1)

    def forbidden(*args, **kwargs):
        raise AssertionError("sampling called the whole-sequence forward pass")

    monkeypatch.setattr(model, "forward", forbidden)
    out = complete(model, sprites, keep=0.5, samples=2, seed=0)
    assert out.shape == (2, 2, 20, 20)


def test_completion_keeps_the_top_and_samples_differ() -> None:
    model = _model()
    sprites = sample(model, 3, seed=5)
    out = complete(model, sprites, keep=0.25, samples=3, temperature=1.0, seed=0)
    assert np.array_equal(out[:, :, :5], np.repeat(sprites[:, None, :5], 3, axis=1))
    assert len({s.tobytes() for s in out.reshape(9, 20, 20)}) > 1
    greedy = complete(model, sprites, keep=0.5, samples=2, temperature=0)
    assert np.array_equal(greedy[:, 0], greedy[:, 1])  # argmax: the same completion every time


def test_sampling_is_seeded_and_temperature_changes_variety() -> None:
    model = _model()
    a, b, c = sample(model, 6, seed=3), sample(model, 6, seed=3), sample(model, 6, seed=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    argmax = sample(model, 5, temperature=0)
    assert len({s.tobytes() for s in argmax}) == 1
    cold, hot = sample(model, 8, temperature=0.2, seed=0), sample(model, 8, temperature=10.0, seed=0)
    # a cold sampler stays close to the argmax drawing, a hot one wanders off
    assert (cold == argmax[0]).mean() > (hot == argmax[0]).mean() + 0.2


def test_sampling_other_sizes_and_student_probabilities() -> None:
    small = _model(size=10)
    assert sample(small, 2).shape == (2, 10, 10)
    model = _model()
    mine = lambda logits, t: torch.softmax(logits / t, dim=-1)
    assert np.array_equal(sample(model, 3, seed=2, probabilities_fn=mine), sample(model, 3, seed=2))


def test_bad_input_is_refused_with_a_clear_message() -> None:
    model = _model()
    with pytest.raises(ValueError, match="integer colour indices"):
        model(torch.rand(2, 20, 20))
    with pytest.raises(ValueError, match="knows 12 colours"):
        model(torch.full((1, 20, 20), 40))
    with pytest.raises(ValueError, match="draws 20x20"):
        model(torch.zeros(1, 10, 10, dtype=torch.long))
    with pytest.raises(ValueError, match="temperature"):
        sample(model, 2, temperature=-1)
    with pytest.raises(ValueError, match="keep"):
        complete(model, np.zeros((1, 20, 20), dtype=np.int64), keep=1.5)


def test_training_learns_structure_and_bits_fall() -> None:
    train, test = _striped_sprites(48), _striped_sprites(8, seed=1)
    model, history = train_pixelrnn(
        train, 6, test=test, hidden=32, embed=8, epochs=6, batch_size=8, lr=3e-2, progress_bar=False, device="cpu"
    )
    bpp = history.epoch_values("test_bpp")
    assert bpp[-1] < bpp[0] and bpp[-1] < 0.25 * math.log2(6)
    assert model_bits_per_pixel(model, test) == pytest.approx(bpp[-1], abs=1e-6)


def test_lr_schedule_warms_up_holds_then_decays() -> None:
    values = [lr_schedule(p / 100) for p in range(101)]
    assert values[0] < 0.1 and values[10] == values[50] == 1.0
    assert all(a >= b for a, b in zip(values[60:], values[61:])) and values[100] == pytest.approx(0.1)


def test_exercise_references() -> None:
    x = torch.tensor([[3, 4, 5]])
    assert teacher_forcing_inputs(x, 9).tolist() == [[9, 3, 4]]
    logits = torch.tensor([[1.0, 2.0, 3.0], [500.0, 0.0, -500.0]])
    p = temperature_probabilities(logits, 1.0)
    assert torch.allclose(p.sum(-1), torch.ones(2)) and torch.isfinite(p).all()
    assert temperature_probabilities(logits, 0.1)[0, 2] > p[0, 2] > temperature_probabilities(logits, 10)[0, 2]
    uniform = bits_per_pixel_from_logits(torch.zeros(2, 5, 8), torch.zeros(2, 5, dtype=torch.long))
    assert float(uniform) == pytest.approx(3.0)


def test_baselines() -> None:
    train, test = _striped_sprites(40), _striped_sprites(10, seed=1)
    assert bits_per_pixel_under(np.full(6, 1 / 6), test) == pytest.approx(math.log2(6))
    assert colour_frequencies(train, 6).sum() == pytest.approx(1.0)
    probs = position_frequencies(train, 6)
    assert probs.shape == (20, 20, 6) and np.allclose(probs.sum(-1), 1.0)
    # unseen colour 5 at a corner still costs finite bits (smoothing)
    assert np.isfinite(unigram_bits_per_pixel(train, test, 8))
    assert position_bits_per_pixel(train, test, 6) <= unigram_bits_per_pixel(train, test, 6) + 1e-9
    drawn = sample_baseline(colour_frequencies(train, 6), 3, seed=0)
    assert drawn.shape == (3, 20, 20) and drawn.max() < 6
    with pytest.raises(ValueError, match="integer colour indices"):
        colour_frequencies(np.zeros((1, 20, 20)), 6)


@pytest.mark.slow
def test_cli_trains_on_lecture_files_and_prints_test_bits_last(tmp_path) -> None:
    from lecturekit.checkpoints import load_checkpoint
    from lecturekit.data import SpriteSet, write_lecture_files

    palette = np.array(
        [[255, 255, 255], [0, 0, 0], [200, 30, 30], [30, 200, 30], [30, 30, 200], [90, 90, 90]], dtype=np.uint8
    )
    pixels, colormap, out = tmp_path / "pixel_color.txt", tmp_path / "colormap.txt", tmp_path / "m.pt"
    write_lecture_files(SpriteSet(_striped_sprites(40), palette), pixels, colormap)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lecturekit",
            "train",
            "pixelrnn",
            "--lecture-files",
            str(pixels),
            str(colormap),
            "--minutes",
            "0.05",
            "--hidden",
            "64",
            "--out",
            str(out),
            "--no-progress",
            "--threads",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"test_bits_per_pixel \d+\.\d{3}", last), last
    model, blob = load_checkpoint(out, kind="pixelrnn")
    assert model.n_colors == 6
    assert blob["meta"]["metrics"]["test_bits_per_pixel"] == pytest.approx(float(last.split()[1]), abs=1e-3)


def test_cli_refuses_a_bad_file(tmp_path, capsys) -> None:
    from lecturekit.models.pixelrnn import train_main

    (tmp_path / "p.txt").write_text("1 2 3\n")
    (tmp_path / "c.txt").write_text("255 255 255\n0 0 0\n")
    assert train_main(["--lecture-files", str(tmp_path / "p.txt"), str(tmp_path / "c.txt"), "--minutes", "0.01"]) == 2
    assert "expected 400 values" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["pixelrnn", "pixelrnn_above"])
def test_shipped_weights_beat_the_baselines_by_a_wide_margin(name: str) -> None:
    from lecturekit import load_pretrained
    from lecturekit.data import load_sprites

    train, test = load_sprites("train"), load_sprites("test")
    model = load_pretrained(name)
    bpp = model_bits_per_pixel(model, test.indices)
    position = position_bits_per_pixel(train.indices, test.indices, train.n_colors)
    assert bpp < position - 1.0 < unigram_bits_per_pixel(train.indices, test.indices, train.n_colors)
    assert bpp == pytest.approx(model.checkpoint["meta"]["metrics"]["test_bits_per_pixel"], abs=1e-3)


def test_lecture_files_default_to_the_course_recipe_and_options_still_win() -> None:
    from lecturekit.models import pixelrnn

    for name in ("pixelrnn", "pixelrnn_above"):
        course = pixelrnn.COURSE_CONFIGS[name]
        args = pixelrnn._parse_args(name, ["--lecture-files", "p.txt", "c.txt", "--minutes", "5"])
        config, extra = pixelrnn._cli_config(name, args)
        assert (config.hidden, config.batch_size, config.lr, config.dropout, config.epochs) == (
            course.hidden,
            course.batch_size,
            course.lr,
            course.dropout,
            None,
        )
        assert config.see_above == (name == "pixelrnn_above") and extra == pixelrnn.COURSE_TRAINING
        given = ["--lecture-files", "p.txt", "c.txt", "--lr", "0.01", "--hidden", "64", "--dropout", "0.1"]
        args = pixelrnn._parse_args(name, given)
        assert (args.lr, args.hidden) == (0.01, 64) and pixelrnn._cli_config(name, args)[0].dropout == 0.1
        config, extra = pixelrnn._cli_config(name, pixelrnn._parse_args(name, []))
        assert config == pixelrnn.SHIPPED_CONFIGS[name] and extra == {}  # the kit's data: the shipped recipe
    assert pixelrnn.COURSE_CONFIGS["pixelrnn"].hidden == 512 and not pixelrnn.COURSE_CONFIGS["pixelrnn"].see_above


def test_flipped_loss_mirrors_about_half_the_batch_from_its_own_stream() -> None:
    from lecturekit.models.pixelrnn import training_loss

    model = PixelRNN(6, hidden=8, embed=4)
    batch = torch.randint(0, 6, (16, 400), generator=torch.Generator().manual_seed(0))
    seen: list[torch.Tensor] = []
    model.loss = lambda pixels: seen.append(pixels) or torch.zeros(())  # type: ignore[method-assign]
    state = torch.get_rng_state()
    training_loss(torch.Generator().manual_seed(3))(model, batch)
    assert torch.equal(state, torch.get_rng_state())  # the global stream (and so the shipped recipe) is untouched
    flat = batch.reshape(16, 20, 20)
    flipped = [not torch.equal(s, b) for s, b in zip(seen[0], flat)]
    assert all(torch.equal(s, b.flip(-1)) for s, b, f in zip(seen[0], flat, flipped) if f)
    assert 0 < sum(flipped) < 16


def test_bf16_training_loss_is_close_to_float32() -> None:
    """Where the CPU runs a bfloat16 LSTM the loss is close to float32's; elsewhere asking for it says what to do."""
    from lecturekit.models.pixelrnn import bf16_lstm_runs, training_loss

    model = PixelRNN(6, hidden=16, embed=4)
    batch = torch.as_tensor(_striped_sprites(4)).reshape(4, -1)
    if not bf16_lstm_runs():
        with pytest.raises(ValueError, match="float32 instead"):
            training_loss(bf16=True)
        return
    exact, half = training_loss()(model, batch).detach(), training_loss(bf16=True)(model, batch)
    assert half.dtype == torch.float32 and half.detach().item() == pytest.approx(exact.item(), rel=0.02)
    half.backward()
    assert all(p.grad is None or p.grad.dtype == torch.float32 for p in model.parameters())


def test_dropout_regularises_training_only_and_leaves_the_model_as_it_was() -> None:
    """The course recipe's dropout acts on the training loss alone: two draws differ in training, none in
    eval mode, and the model keeps its parameters (its checkpoints and sampling know no dropout)."""
    from lecturekit.models.pixelrnn import training_loss

    torch.manual_seed(0)
    model = PixelRNN(6, hidden=16, embed=4, see_above=True)
    names = sorted(n for n, _ in model.named_parameters())
    batch = torch.as_tensor(_striped_sprites(4)).reshape(4, -1)
    plain, dropped = training_loss(), training_loss(dropout=0.5)
    model.train()
    first, second = dropped(model, batch), dropped(model, batch)
    assert first.item() != second.item() and first.item() != plain(model, batch).item()
    first.backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    assert dropped(model, batch).item() == pytest.approx(plain(model, batch).item(), abs=1e-6)
    assert sorted(n for n, _ in model.named_parameters()) == names
