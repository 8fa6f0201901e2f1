"""One home per setting: each model family's config dataclass matches the shipped checkpoints, and the
pieces shared by several models (sizes, units, the sprite-input check, the reparameterization) are one."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from lecturekit.checkpoints import load_pretrained, pretrained_names, read_checkpoint
from lecturekit.datasets import weights_dir
from lecturekit.models import common, gan, pixelrnn, sentence_vae, vae


def _blob(name: str) -> dict:
    return read_checkpoint(weights_dir() / f"{name}.pt")


# ------------------------------------------------------------------------------- the shipped checkpoints
def test_every_shipped_checkpoint_still_loads() -> None:
    names = pretrained_names()
    assert {"pixelrnn", "pixelrnn_above", "ae", "vae", "gan", "sentence_vae"} <= set(names)
    for name in names:
        model = load_pretrained(name)
        assert not model.training, name
        assert model.config == model.checkpoint["meta"]["config"], name


@pytest.mark.parametrize("name", ["pixelrnn", "pixelrnn_above"])
def test_pixelrnn_config_defaults_are_the_shipped_recipes(name: str) -> None:
    blob = _blob(name)
    config = pixelrnn.PixelRNNConfig.from_checkpoint(blob)
    assert config == pixelrnn.SHIPPED_CONFIGS[name]  # retraining with the defaults gives the shipped recipe
    stored = blob["meta"]["config"]
    rebuilt = pixelrnn.PixelRNN(
        stored["n_colors"],
        height=stored["height"],
        width=stored["width"],
        **{k: v for k, v in config.train_args().items() if k in ("hidden", "embed", "see_above", "positions")},
    )
    assert rebuilt.config == stored
    assert config.batch_size == blob["extra"]["recipe"]["batch_size"] and config.lr == blob["extra"]["recipe"]["lr"]


@pytest.mark.parametrize("name", ["ae", "vae"])
def test_sprite_codec_config_defaults_are_the_shipped_recipe(name: str) -> None:
    blob = _blob(name)
    config = vae.SpriteCodecConfig.from_checkpoint(blob)
    assert config == vae.SpriteCodecConfig()
    assert config.recipe() == blob["extra"]["recipe"]
    assert {"n_colors": blob["meta"]["config"]["n_colors"], **config.model_args()} == blob["meta"]["config"]


def test_gan_config_defaults_are_the_shipped_recipe() -> None:
    blob = _blob("gan")
    config = gan.GANConfig.from_checkpoint(blob)
    assert config == gan.GANConfig()
    assert config.model_args() == blob["meta"]["config"]
    assert {k: list(v) if isinstance(v, tuple) else v for k, v in config.settings().items()} == blob["extra"][
        "settings"
    ]


def test_sentence_vae_config_defaults_are_the_shipped_recipe() -> None:
    blob = _blob("sentence_vae")
    config = sentence_vae.SentenceVAEConfig.from_checkpoint(blob)
    # the shipped model was trained with `--minutes 25` on the command line; every other setting is the default
    assert "--minutes 25" in blob["extra"]["train"]["command"]
    assert config == replace(sentence_vae.SentenceVAEConfig(), minutes=25.0)
    stored = blob["meta"]["config"]
    assert {k: getattr(config, k) for k in stored if k != "vocab_size"} == {
        k: v for k, v in stored.items() if k != "vocab_size"
    }


# ------------------------------------------------------------------------------- the old names, same values
def test_the_recipe_dicts_notebooks_use_come_from_the_configs_with_todays_values() -> None:
    assert gan.SHIPPED_TRAINING == {
        "epochs": 180,
        "batch_size": 32,
        "lr_g": 5e-4,
        "lr_d": 5e-4,
        "betas": (0.5, 0.999),
        "z_dim": 32,
        "width": 48,
        "d_width": 64,
        "ema": 0.999,
        "r1": 1.0,
    }
    assert vae.RECIPE == {"epochs": 100, "batch_size": 32, "lr": 2e-3, "warmup_epochs": 10, "seed": 0}
    assert sentence_vae.DEFAULTS == {
        "embed_dim": 128,
        "hidden_dim": 256,
        "latent_dim": 16,
        "max_len": 24,
        "word_dropout": 0.5,
        "warmup_steps": 1500,
        "epochs": 12,
        "batch_size": 64,
        "lr": 2e-3,
        "minutes": 10.0,
        "seed": 0,
    }
    for name, see_above, epochs in (("pixelrnn", False, 12), ("pixelrnn_above", True, 10)):
        recipe = pixelrnn.TRAINING_RECIPES[name]
        assert recipe == {
            "hidden": 512,
            "embed": 64,
            "see_above": see_above,
            "positions": False,
            "epochs": epochs,
            "batch_size": 32,
            "lr": 3e-3,
            "dropout": 0.0,
            "seed": 0,
        }


def test_cli_parsers_take_their_defaults_from_the_configs() -> None:
    for name, config in pixelrnn.SHIPPED_CONFIGS.items():
        args = pixelrnn._parser(name).parse_args([])
        assert (args.hidden, args.batch_size, args.lr, args.seed) == (
            config.hidden,
            config.batch_size,
            config.lr,
            config.seed,
        )
    args = vars(sentence_vae._parser().parse_args([]))
    default = sentence_vae.SentenceVAEConfig()
    for field, value in sentence_vae.DEFAULTS.items():
        assert args[field] == value == getattr(default, field), field


def test_rgb_config_defaults_are_the_shipped_recipe() -> None:
    from lecturekit.models import rgb

    config = rgb.RGBConfig()
    for name in ("rgb_regression", "rgb_palette"):
        blob = _blob(name)
        assert blob["meta"]["config"]["hidden"] == config.hidden == 256, name
        assert (blob["extra"]["epochs"], blob["extra"]["seed"]) == (config.epochs, config.seed), name
    assert rgb.WindowNextPixel("rgb").config["hidden"] == config.hidden  # the class and the CLI agree


def test_every_trainer_cli_takes_its_options_from_its_config() -> None:
    """`train MODEL`'s options are generated from the family's dataclass: one option per field, its default the
    field's, and the parsed options give back the config (a changed option changes just that field)."""
    import argparse

    from lecturekit.models import rgb, tiny
    from lecturekit.settings import add_config_options, config_from_args

    for config in (
        rgb.RGBConfig(),
        tiny.TinyConfig(),
        vae.SpriteCodecConfig(),
        gan.GANConfig(),
        sentence_vae.SentenceVAEConfig(),
        pixelrnn.PixelRNNConfig(),
    ):
        parser = argparse.ArgumentParser()
        add_config_options(parser, config)
        assert config_from_args(config, parser.parse_args([])) == config, type(config).__name__
    parser = argparse.ArgumentParser()
    add_config_options(parser, gan.GANConfig())
    args = parser.parse_args(["--betas", "0.1", "0.2", "--spectral", "--epochs", "3", "--ema", "0.5"])
    assert config_from_args(gan.GANConfig(), args) == replace(
        gan.GANConfig(), betas=(0.1, 0.2), spectral=True, epochs=3, ema=0.5
    )
    codec = config_from_args(vae.SpriteCodecConfig(), _parsed(vae.SpriteCodecConfig(), ["--no-flip", "--lr", "0.1"]))
    assert codec == replace(vae.SpriteCodecConfig(), flip=False, lr=0.1)
    with pytest.raises(SystemExit):
        _parsed(rgb.RGBConfig(), ["--hidden", "many"])


def _parsed(config: object, argv: list[str]) -> object:
    import argparse

    from lecturekit.settings import add_config_options

    parser = argparse.ArgumentParser()
    add_config_options(parser, config)
    return parser.parse_args(argv)


def test_train_gan_takes_a_config_and_refuses_unknown_settings() -> None:
    rgb = np.zeros((4, 20, 20, 3), dtype=np.uint8)
    with pytest.raises(TypeError, match="lr_gen"):
        gan.train_gan(rgb, lr_gen=1e-3)
    small = gan.GANConfig(z_dim=4, width=4, d_width=4, epochs=1, batch_size=4, n_strip=2, ema=None)
    run = gan.train_gan(rgb, small, device="cpu", progress_bar=False)
    assert run.model.config == small.model_args()
    assert len(run.history.epochs) == 1 and run.strips.shape == (1, 2, 20, 20, 3)
    again = gan.train_gan(rgb, device="cpu", progress_bar=False, **{**small.settings(), "n_strip": 2, "ema": None})
    assert again.history.steps == run.history.steps  # keyword overrides and a config are the same recipe


# ------------------------------------------------------------------------------- one meaning per name
def test_one_reparameterization_for_every_model_and_the_exercise() -> None:
    from lecturekit.exercises.nb04 import reference_reparameterize

    assert vae.reparameterize is common.reparameterize is sentence_vae.reparameterize
    g = torch.Generator().manual_seed(0)
    mean, log_var, eps = (torch.randn(3, 5, generator=g) for _ in range(3))
    want = mean + torch.exp(0.5 * log_var) * eps
    assert torch.equal(common.reparameterize(mean, log_var, eps), want)
    assert torch.equal(reference_reparameterize(mean, log_var, eps), want)
    torch.manual_seed(1)
    drawn = common.reparameterize(mean, log_var)
    torch.manual_seed(1)
    assert torch.equal(drawn, mean + torch.exp(0.5 * log_var) * torch.randn_like(mean))


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((2, 20, 20), dtype=np.float32), "must be integer colour indices"),
        (np.full((2, 20, 20), 9), "knows 6 colours"),
        (np.zeros((2, 10, 10), dtype=np.int64), "draws 20x20 images"),
        (np.zeros((2, 3, 20, 20), dtype=np.int64), "must be \\(N, 20, 20\\) colour indices"),
    ],
)
def test_sprite_models_refuse_bad_sprites_with_the_same_words(bad: np.ndarray, message: str) -> None:
    models = [
        pixelrnn.PixelRNN(6, hidden=8, embed=4),
        vae.SpriteVAE(6, width=4, hidden=8),
        vae.SpriteAutoencoder(6, width=4, hidden=8),
    ]
    errors = []
    for model in models:
        with pytest.raises(ValueError, match=message) as caught:
            model.check_sprites(bad, "sprites")
        errors.append(str(caught.value))
    assert len(set(errors)) == 1
    with pytest.raises(ValueError, match=message):
        models[1].codes_of(bad)


def test_sprite_models_accept_one_sprite_a_batch_or_flat_rows() -> None:
    model = vae.SpriteVAE(6, width=4, hidden=8)
    sprites = np.random.default_rng(0).integers(0, 6, size=(3, 20, 20))
    assert model.check_sprites(sprites[0]).shape == (1, 20, 20)
    assert torch.equal(model.check_sprites(sprites.reshape(3, 400)), torch.as_tensor(sprites))
    rnn = pixelrnn.PixelRNN(6, hidden=8, embed=4)
    assert torch.equal(rnn.check_pixels(sprites), torch.as_tensor(sprites).reshape(3, 400))


def test_units_and_sizes_have_one_home() -> None:
    from lecturekit import data, metrics, units

    assert units.SPRITE_SIZE == data.SPRITE_SIZE == 20 and units.SPRITE_PIXELS == 400
    assert units.nats_to_bits(math.log(2.0)) == pytest.approx(1.0)
    assert float(units.nats_per_sprite_to_bits_per_pixel(torch.tensor(400 * math.log(2.0)))) == pytest.approx(1.0)
    for module in (pixelrnn, vae, gan):
        assert not hasattr(module, "SIZE"), module.__name__
    for module in (metrics, vae, pixelrnn):  # one meaning per name: each says what it takes and returns
        assert not hasattr(module, "bits_per_pixel"), module.__name__


def test_one_import_path_for_yours_or_reference() -> None:
    from lecturekit.exercises import nb03, nb04, nb06

    for module in (nb03, nb04, nb06):  # no second import path (and no old alias) for the one helper
        assert not hasattr(module, "yours_or_reference") and not hasattr(module, "use_if_correct")
    for path in sorted((Path(__file__).resolve().parent.parent / "solutions").glob("*.ipynb")):
        text = path.read_text()
        assert "exercises.nb0" not in text and "use_if_correct" not in text, path.name
