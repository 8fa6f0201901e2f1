"""Notebook 04's models: the KL term, the AE and the VAE, their shipped weights, the random-decode score."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lecturekit import scores
from lecturekit.checkpoints import load_checkpoint, pretrained_names, save_checkpoint
from lecturekit.exercises import WrongAnswer, check, get_exercise
from lecturekit.models import vae as V

K = 12  # a small palette for the fast tests


def _toy_sprites(n: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 20, 20), dtype=np.int64)
    for i in range(n):
        top, left, size = rng.integers(2, 8), rng.integers(2, 8), rng.integers(6, 11)
        x[i, top : top + size, left : left + size] = rng.integers(1, K)
    return x


def _palette() -> np.ndarray:
    pal = np.random.default_rng(0).integers(0, 255, size=(K, 3)).astype(np.uint8)
    pal[0] = 255
    return pal


def _model(kind: str) -> V._SpriteCodec:
    torch.manual_seed(0)
    model = V.build_model(kind, K, width=16, hidden=32)
    model.set_palette(_palette())
    return model.eval()


# ---------------------------------------------------------------- the KL term
def test_kl_divergence_matches_torch_distributions() -> None:
    g = torch.Generator().manual_seed(0)
    mean, log_var = torch.randn(5, 10, generator=g), torch.randn(5, 10, generator=g)
    q = torch.distributions.Normal(mean, torch.exp(0.5 * log_var))
    p = torch.distributions.Normal(torch.zeros_like(mean), torch.ones_like(mean))
    want = torch.distributions.kl_divergence(q, p).sum(-1)
    assert torch.allclose(V.kl_divergence(mean, log_var), want, atol=1e-5)
    assert torch.allclose(V.gaussian_kl(mean, torch.exp(0.5 * log_var)), want, atol=1e-5)


def test_lecture_penalty_is_twice_the_kl_and_the_written_sign_is_flipped() -> None:
    g = torch.Generator().manual_seed(1)
    m, sigma = torch.randn(4, 10, generator=g), torch.randn(4, 10, generator=g)
    assert torch.allclose(V.lecture_penalty(m, sigma), 2 * V.kl_divergence(m, sigma), atol=1e-5)
    assert torch.allclose(V.lecture_penalty_as_written(m, sigma), -V.lecture_penalty(m, sigma), atol=1e-5)
    rows = V.kl_table([-2.0, 0.0, 1.0])
    zero = rows[1]
    assert zero["lecture_penalty"] == 0 and zero["kl_log_variance"] == 0 and zero["kl_of_lecture_sampling"] == 0
    # away from 0 the KL of what the lecture samples (std = exp(sigma)) is not the lecture's penalty
    assert abs(rows[0]["kl_of_lecture_sampling"] - rows[0]["lecture_penalty"]) > 0.1


def test_descending_the_penalty_reaches_the_prior_but_the_written_sign_runs_away() -> None:
    good = V.minimise_penalty(V.lecture_penalty, steps=200)
    assert abs(good[-1][0]) < 1e-3 and abs(good[-1][1]) < 1e-2
    bad = V.minimise_penalty(V.lecture_penalty_as_written, steps=30)
    assert len(bad) < 30 and bad[-1][2] < -1e6 and abs(bad[-1][0]) > 5  # stopped early: it ran away


def test_reparameterize_is_the_mean_plus_std_times_noise_and_passes_gradients() -> None:
    mean = torch.zeros(3, 10, requires_grad=True)
    log_var = torch.full((3, 10), math.log(4.0), requires_grad=True)
    eps = torch.ones(3, 10)
    z = V.reparameterize(mean, log_var, eps)
    assert torch.allclose(z, torch.full((3, 10), 2.0))
    z.sum().backward()
    assert mean.grad is not None and log_var.grad is not None and float(log_var.grad.abs().sum()) > 0
    many = V.reparameterize(
        torch.zeros(20000, 1), torch.full((20000, 1), math.log(9.0)), generator=torch.Generator().manual_seed(0)
    )
    assert abs(float(many.std()) - 3.0) < 0.1
    assert torch.allclose(V.lecture_sample(mean, log_var, eps), torch.full((3, 10), 4.0))


def test_latent_grid_codes_vary_two_dimensions_only() -> None:
    base = torch.arange(10.0)
    values = torch.tensor([-1.0, 0.0, 1.0])
    codes = V.latent_grid_codes(base, 2, 5, values)
    assert codes.shape == (9, 10)
    assert torch.equal(codes[:, 2], torch.tensor([-1.0, 0, 1] * 3))
    assert torch.equal(codes[:, 5], torch.tensor([-1.0, -1, -1, 0, 0, 0, 1, 1, 1]))
    others = [i for i in range(10) if i not in (2, 5)]
    assert torch.equal(codes[:, others], base[others].repeat(9, 1))


# ---------------------------------------------------------------- the models
@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_models_decode_to_palette_pictures_and_refuse_bad_input(kind: str) -> None:
    model = _model(kind)
    x = torch.as_tensor(_toy_sprites(4))
    codes = model.codes_of(x)
    assert codes.shape == (4, V.LATENT_DIM)
    assert model.decode_logits(codes).shape == (4, K, 20, 20)
    rgb = model.decode_rgb(codes)
    assert rgb.shape == (4, 20, 20, 3) and rgb.dtype == np.uint8
    colours = {tuple(c) for c in _palette().tolist()}
    assert {tuple(c) for c in rgb.reshape(-1, 3).tolist()} <= colours
    mean_rgb = model.decode_mean_rgb(codes)
    assert mean_rgb.shape == (4, 20, 20, 3) and mean_rgb.dtype == np.uint8
    drawn = model.sample_indices(codes, seed=0)
    assert drawn.shape == (4, 20, 20) and 0 <= drawn.min() and drawn.max() < K
    assert np.array_equal(drawn, model.sample_indices(codes, seed=0))
    assert not np.array_equal(drawn, model.sample_indices(codes, seed=1))
    with pytest.raises(ValueError, match="shape \\(N, 10\\)"):
        model.decode_rgb(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="another palette"):
        model.codes_of(torch.full((1, 20, 20), K + 3))
    with pytest.raises(ValueError, match="integer colour indices"):
        model.codes_of(torch.zeros(1, 20, 20))
    with pytest.raises(ValueError, match="palette must be"):
        model.set_palette(np.zeros((K + 1, 3), dtype=np.uint8))


def test_vae_loss_is_the_elbo_in_bits_per_pixel_and_training_lowers_it() -> None:
    class Toy:
        indices = _toy_sprites(48)
        palette = _palette()
        n_colors = K

    model = _model("vae")
    x = torch.as_tensor(Toy.indices)
    before = V.elbo_bits_per_pixel(model, x, samples=2)
    assert before["elbo_bpp"] == pytest.approx(before["recon_bpp"] + before["kl_bpp"], rel=1e-5)
    assert before["recon_bpp"] > 0.8 * math.log2(K)  # untrained: no better than a uniform guess
    trained, history = V.train_sprite_model(
        "vae",
        Toy,
        Toy,
        epochs=8,
        batch_size=16,
        lr=3e-3,
        warmup_epochs=1,
        width=16,
        hidden=32,
        device="cpu",
        progress_bar=False,
    )
    after = V.elbo_bits_per_pixel(trained, x, samples=2)
    assert after["elbo_bpp"] < 0.6 * before["elbo_bpp"]
    assert history.epochs[-1]["test_elbo_bpp"] < history.epochs[0]["test_elbo_bpp"]
    assert after["kl_bpp"] > 0


def test_ae_keeps_its_code_statistics_and_matched_random_codes_use_them(tmp_path) -> None:
    class Toy:
        indices = _toy_sprites(32)
        palette = _palette()
        n_colors = K

    model, _ = V.train_sprite_model(
        "ae", Toy, None, epochs=2, batch_size=16, width=16, hidden=32, device="cpu", progress_bar=False
    )
    codes = model.codes_of(Toy.indices)
    assert torch.allclose(model.code_mean, codes.mean(0), atol=1e-5)
    matched = model.random_codes(4000, seed=0, matched=True)
    assert torch.allclose(matched.std(0), codes.std(0), rtol=0.1)
    assert not torch.equal(model.random_codes(3, seed=0), model.random_codes(3, seed=1))
    path = save_checkpoint(tmp_path / "ae.pt", model)
    loaded, _ = load_checkpoint(path, kind="ae")
    assert torch.equal(loaded.code_std, model.code_std) and torch.equal(loaded.palette, model.palette)


def test_latent_grid_refuses_bad_dimensions() -> None:
    model = _model("vae")
    grid = V.latent_grid(model, 0, 3, steps=4)
    assert grid.shape == (4, 4, 20, 20, 3)
    with pytest.raises(ValueError, match="two different dimensions"):
        V.latent_grid(model, 2, 2)
    with pytest.raises(ValueError, match="choose 0..9"):
        V.latent_grid(model, 0, 10)
    with pytest.raises(ValueError, match="one per code dimension"):
        V.latent_grid(model, 0, 1, base=np.zeros(3))


# ---------------------------------------------------------------- the score
def test_random_decode_score_tells_noise_from_real_sprites() -> None:
    rng = np.random.default_rng(0)
    real = _palette()[_toy_sprites(60, seed=1)]
    more_real = _palette()[_toy_sprites(60, seed=2)]
    noise = rng.integers(0, 256, size=(60, 20, 20, 3)).astype(np.uint8)
    assert scores.random_decode_score(noise, real) > 0.95
    assert scores.random_decode_score(more_real, real) < 0.75
    assert scores.nearest_real_ratio(noise, real, more_real) > 2
    with pytest.raises(ValueError, match="RGB sprites"):
        scores.random_decode_score(np.zeros((5, 20, 20)), real)


# ---------------------------------------------------------------- exercises
def test_nb04_exercises_accept_the_reference_and_explain_common_mistakes() -> None:
    for name in ("nb04.reparameterize", "nb04.kl_divergence", "nb04.grid_codes"):
        ex = get_exercise(name)
        check(name, ex.reference)
        check(name, ex.reference, hidden=True)
    with pytest.raises(WrongAnswer, match="exp\\(log_var / 2\\)"):
        check("nb04.reparameterize", lambda m, lv, e: m + torch.exp(lv) * e)
    with pytest.raises(WrongAnswer, match="twice the KL"):
        check("nb04.kl_divergence", lambda m, lv: V.lecture_penalty(m, lv))
    with pytest.raises(WrongAnswer, match="wrong sign"):
        check("nb04.kl_divergence", lambda m, lv: -V.kl_divergence(m, lv))
    with pytest.raises(WrongAnswer, match="swapped"):
        check("nb04.grid_codes", lambda b, dx, dy, v: V.latent_grid_codes(b, dy, dx, v))


# ---------------------------------------------------------------- shipped weights
needs_weights = pytest.mark.skipif(
    not {"ae", "vae"} <= set(pretrained_names()), reason="the AE/VAE weights are not shipped yet"
)


@needs_weights
@pytest.mark.slow
def test_shipped_vae_beats_the_ae_on_random_codes_and_bounds_its_bits_per_pixel() -> None:
    from lecturekit import load_pretrained
    from lecturekit.data import load_sprites

    train, test = load_sprites("train"), load_sprites("test")
    ae, vae = load_pretrained("ae"), load_pretrained("vae")
    elbo = V.elbo_bits_per_pixel(vae, test.indices, samples=4)
    assert elbo["elbo_bpp"] < math.log2(train.n_colors) - 1  # far better than a uniform guess
    assert elbo["kl_bpp"] > 0.01  # the code is used
    real = train.rgb()
    ae_lecture = scores.random_decode_score(ae.decode_rgb(ae.random_codes(400, seed=1)), real, seed=1)
    ae_matched = scores.random_decode_score(ae.decode_rgb(ae.random_codes(400, seed=1, matched=True)), real, seed=1)
    vae_score = scores.random_decode_score(vae.decode_rgb(vae.random_codes(400, seed=1)), real, seed=1)
    assert vae_score < ae_matched - 0.03 and ae_matched < ae_lecture


@pytest.mark.slow
def test_train_command_writes_a_checkpoint_that_loads(tmp_path) -> None:
    from lecturekit.cli import main

    out = tmp_path / "vae.pt"
    assert main(["train", "vae", "--epochs", "1", "--out", str(out)]) == 0
    model, blob = load_checkpoint(out, kind="vae")
    metrics = blob["meta"]["metrics"]
    assert metrics["epochs"] == 1 and metrics["test_elbo_bpp"] > metrics["test_kl_bpp"] > 0
    assert blob["extra"]["recipe"]["epochs"] == 1 and len(blob["extra"]["history"]["epochs"]) == 1
    assert model.decode_rgb(model.random_codes(2)).shape == (2, 20, 20, 3)
