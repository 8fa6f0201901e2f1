"""`python -m lecturekit course-data`: make a course's own sprites a data set the whole kit can switch to.

It reads the lecture's files (`pixel_color.txt` + `colormap.txt`) or a folder of small PNG/GIF sprites,
checks them (a clear error naming the file, the line and the fix; nothing is written on an error),
fixes a seeded 5% held-out split, writes a folder with `data/`'s layout (`lecturekit.datasets`), then
trains every sprite model that notebooks 02-05 load, within one time budget, checkpointing every epoch
so that an interrupted run resumes where it stopped and a re-run skips the models already trained.
Notebook 01 works on its own 3x3 world and needs nothing from the sprites.

Select the result with `LECTUREKIT_DATA=NAME` (or `lecturekit.use_data("NAME")`).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lecturekit import datasets
from lecturekit.data import SPRITE_SIZE, DataFormatError, SpriteSet, read_lecture_files, split_indices

TEST_SHARE = 0.05
SPLIT_SEED = 0
MIN_COLORS = 8  # notebook 02 compares palettes of 2..128 colours; fewer than 8 is not colour sprite art
MIN_SPRITES = 100  # 5% held out must leave the notebooks a few held-out sprites (notebook 04 shows 10)
PALETTE_COLORS = 167  # a PNG folder is quantized the lecture's way: k-means, then merge rare colours
KMEANS_COLORS = 200
DEFAULT_MINUTES = 20.0
RECIPE_VERSION = 5  # bump when a trainer below changes: a re-run then retrains instead of skipping


# ----------------------------------------------------------------------------- reading and checking
@dataclass
class CourseInput:
    """Checked sprites, their RGB before quantization when they came from images, and where from."""

    sprites: SpriteSet
    rgb: np.ndarray | None
    source: str


def fit_lecture_palette(
    rgb: np.ndarray, n_colors: int = PALETTE_COLORS, kmeans_colors: int = KMEANS_COLORS, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The lecture's recipe on (N, 20, 20, 3) RGB sprites: k-means on the colours, then merge rarely used
    colours into their nearest frequent one until at most `n_colors` remain (white stays index 0).
    Returns (indices (N, 20, 20), palette (K, 3) uint8)."""
    from lecturekit.palette import fit_palette, merge_rare_colors, quantize

    palette = fit_palette(rgb, max(kmeans_colors, n_colors), seed=seed)
    indices = quantize(rgb, palette)
    min_count, new_idx, new_pal = 1, indices, palette
    while len(new_pal) > n_colors:
        min_count += 1
        new_idx, new_pal = merge_rare_colors(indices, palette, min_count)
    return new_idx, new_pal


def _read_image_folder(folder: Path, n_colors: int) -> CourseInput:
    from lecturekit.data import read_sprite_images

    rgb = read_sprite_images(folder)
    indices, palette = fit_lecture_palette(rgb, n_colors)
    return CourseInput(SpriteSet(indices, palette), rgb, f"{len(rgb)} images in {folder}")


def check_sprites(sprites: SpriteSet, where: str, colormap: str | None = None) -> list[str]:
    """Refuse sprites the notebooks cannot teach with; return warnings (printed, not fatal)."""
    if sprites.n_colors < MIN_COLORS:
        raise DataFormatError(
            f"{colormap or where}: only {sprites.n_colors} colours; the notebooks need sprite art with at least "
            f"{MIN_COLORS} (notebook 02 compares palettes of 2 to 128 colours). Is this the right colormap.txt? "
            "A PNG folder is quantized for you (--colors)."
        )
    if len(sprites) < MIN_SPRITES:
        raise DataFormatError(
            f"{where}: only {len(sprites)} sprites; at least {MIN_SPRITES} are needed ({TEST_SHARE:.0%} are held "
            "out for measuring, and the models need the rest to learn anything). Add sprites, or check the file."
        )
    warnings = []
    if not np.array_equal(sprites.palette[0], [255, 255, 255]):
        warnings.append(
            f"{colormap or where}: colour 0 is {tuple(int(v) for v in sprites.palette[0])}, not white "
            "(255 255 255) as in the lecture's files; the notebooks' text calls index 0 the white "
            "background."
        )
    used = np.unique(sprites.indices)
    if len(used) < sprites.n_colors:
        warnings.append(
            f"{colormap or where}: {sprites.n_colors - len(used)} of the {sprites.n_colors} colours are "
            "used by no pixel (the models still learn all of them)."
        )
    return warnings


def read_input(inputs: list[str], n_colors: int = PALETTE_COLORS) -> CourseInput:
    """PIXELS COLORMAP (the lecture's format) or one FOLDER of PNG/GIF sprites, read and checked."""
    if len(inputs) == 2:
        sprites = read_lecture_files(inputs[0], inputs[1])
        return CourseInput(sprites, None, f"{inputs[0]} + {inputs[1]}")
    if len(inputs) == 1:
        path = Path(inputs[0])
        if path.is_file():
            raise DataFormatError(
                f"{path}: a single file; pass PIXELS COLORMAP (pixel_color.txt colormap.txt), "
                "or a folder of PNG sprites."
            )
        return _read_image_folder(path, n_colors)
    raise DataFormatError(
        "pass PIXELS COLORMAP (the lecture's pixel_color.txt and colormap.txt), or one folder of "
        f"PNG sprites; got {len(inputs)} arguments."
    )


# ----------------------------------------------------------------------------- the data folder
def course_split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) positions of a course's `n` sprites: a seeded 5% held out, at least one sprite. What
    course-data writes to split.json, and what `train MODEL --lecture-files` holds out."""
    train, test = split_indices(n, TEST_SHARE, seed=SPLIT_SEED)
    if len(test) == 0:
        test, train = train[:1], train[1:]
    return train, test


def _sheet_of_crops(rgb: np.ndarray) -> np.ndarray:
    """The 20x20 sprites centred in 40x40 white cells, 30 per row: the layout of the kit's sprites_rgb.png,
    so `rgb.load_rgb_crops` reads them back exactly."""
    from lecturekit.sprites import sprite_sheet

    cells = np.full((len(rgb), 2 * SPRITE_SIZE, 2 * SPRITE_SIZE, 3), 255, dtype=np.uint8)
    off = SPRITE_SIZE // 2
    cells[:, off : off + SPRITE_SIZE, off : off + SPRITE_SIZE] = rgb
    return sprite_sheet(cells, per_row=30)


def write_data_set(course: CourseInput, folder: Path, name: str) -> dict[str, Any]:
    """Write the data folder (sprites/, dataset.json, an empty weights/) atomically: into a temporary
    sibling first, renamed into place at the end, so an error or an interrupt leaves nothing behind."""
    from PIL import Image

    from lecturekit.data import write_lecture_files
    from lecturekit.splits import write_split

    sprites = course.sprites
    train, test = course_split(len(sprites))
    manifest = {
        "name": name,
        "source": course.source,
        "format": "lecturekit-course-data",
        "version": 1,
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "sprites": len(sprites),
        "train": len(train),
        "test": len(test),
        "colours": sprites.n_colors,
        "test_share": TEST_SHARE,
        "split_seed": SPLIT_SEED,
        "rgb_sheet": course.rgb is not None,
        "fingerprints": {"palette": sprites.palette_fingerprint(), "data": sprites.fingerprint()},
    }
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        write_lecture_files(sprites, tmp / "sprites" / "pixel_color.txt", tmp / "sprites" / "colormap.txt")
        write_split(tmp / "sprites" / "split.json", test)
        if course.rgb is not None:
            Image.fromarray(_sheet_of_crops(course.rgb)).save(tmp / "sprites" / "sprites_rgb.png", format="PNG")
        (tmp / "weights").mkdir()
        (tmp / datasets.MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        tmp.replace(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def load_data_set(folder: Path) -> tuple[SpriteSet, SpriteSet, SpriteSet]:
    """(all, train, test) of a data folder, read from its files (not through the switch)."""
    from lecturekit.data import read_sprite_split

    sprites = read_lecture_files(folder / "sprites" / "pixel_color.txt", folder / "sprites" / "colormap.txt")
    is_test = read_sprite_split(folder / "sprites" / "split.json", len(sprites))
    return sprites, sprites.subset(np.nonzero(~is_test)[0]), sprites.subset(np.nonzero(is_test)[0])


# ----------------------------------------------------------------------------- resumable training
@dataclass
class Context:
    """What every trainer gets: the data, the device, where it stands in its time budget."""

    sprites: SpriteSet
    train: SpriteSet
    test: SpriteSet
    device: torch.device
    seed: int = 0
    progress_bar: bool = True
    started: float = 0.0
    elapsed_before: float = 0.0
    budget: float = 1.0

    def progress(self) -> float:
        """Share of this model's time budget used so far (0..1): the learning-rate schedules follow it."""
        return min(1.0, (self.elapsed_before + time.perf_counter() - self.started) / self.budget)


class Trainer:
    """One model trained epoch by epoch; its whole state (weights, optimiser, random streams, history)
    goes into a resume file after every epoch."""

    name = ""
    min_epochs = 1

    def __init__(self, ctx: Context, recipe: dict[str, Any]) -> None:
        self.ctx, self.recipe = ctx, recipe
        self.history: dict[str, Any] = {"steps": [], "epochs": [], "seconds": 0.0}

    def run_epoch(self, epoch: int, max_seconds: float | None) -> dict[str, float]:
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        raise NotImplementedError

    def load_state(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def finish(self) -> tuple[nn.Module, dict[str, float], dict[str, Any]]:
        """(the model to save, its metrics, plain data for the checkpoint's extra)."""
        raise NotImplementedError


class FitTrainer(Trainer):
    """A model trained by `lecturekit.training.fit`, one epoch per call, with a schedule that follows the
    share of the time budget used (so a budget, not an epoch count, shapes the decay)."""

    clip: float | None = 1.0

    def __init__(self, ctx: Context, recipe: dict[str, Any]) -> None:
        super().__init__(ctx, recipe)
        self.lr, self.batch_size = recipe["lr"], recipe["batch_size"]
        self.model = self.build().to(ctx.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        self.step = 0

    def build(self) -> nn.Module:
        raise NotImplementedError

    def data(self) -> Any:
        raise NotImplementedError

    def loss(self, model: nn.Module, batch: Any) -> Any:
        raise NotImplementedError

    def lr_multiplier(self, progress: float) -> float:
        return 1.0

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        return {}

    def run_epoch(self, epoch: int, max_seconds: float | None) -> dict[str, float]:
        from lecturekit.training import fit

        for g in self.optimizer.param_groups:
            g["lr"] = self.lr  # fit scales the rate it finds: give it the base rate every epoch
        hist = fit(
            self.model,
            self.data(),
            self.loss,
            epochs=1,
            max_minutes=None if max_seconds is None else max(max_seconds, 1e-3) / 60,
            batch_size=self.batch_size,
            lr=self.lr,
            optimizer=self.optimizer,
            schedule=lambda _s: self.lr_multiplier(self.ctx.progress()),
            clip_grad=self.clip,
            device=self.ctx.device,
            seed=self.ctx.seed + epoch,
            eval_fn=self.evaluate,
            progress_bar=self.ctx.progress_bar,
            desc=self.name,
        )
        for s in hist.steps:
            self.history["steps"].append({**s, "step": self.step, "epoch": epoch})
            self.step += 1
        record = {**hist.epochs[-1], "epoch": epoch}
        self.history["epochs"].append(record)
        return record

    def extra_state(self) -> dict[str, Any]:
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        pass

    def state(self) -> dict[str, Any]:
        return {
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "history": self.history,
            **self.extra_state(),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.model.to(self.ctx.device)
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.history = int(state["step"]), state["history"]
        self.load_extra_state(state)


class PixelRNNTrainer(FitTrainer):
    """The lecture's LSTM-512 PixelRNN (and, with see_above, the kit's variant) on the course's sprites."""

    name = "pixelrnn"

    def build(self) -> nn.Module:
        from lecturekit.models.pixelrnn import PixelRNN

        r = self.recipe
        return PixelRNN(
            self.ctx.sprites.n_colors,
            hidden=r["hidden"],
            embed=r["embed"],
            see_above=r["see_above"],
            positions=r.get("positions", False),
        )

    def __init__(self, ctx: Context, recipe: dict[str, Any]) -> None:
        from lecturekit.models.pixelrnn import _use_bf16, training_loss

        super().__init__(ctx, recipe)
        self.flips = torch.Generator().manual_seed(ctx.seed + 1)
        bf16 = _use_bf16(recipe.get("precision", "fp32"), ctx.device)
        self._loss = training_loss(self.flips if recipe.get("flip") else None, bf16, recipe.get("dropout", 0.0))

    def data(self) -> torch.Tensor:
        return torch.as_tensor(self.ctx.train.indices, dtype=torch.long)

    def loss(self, model: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        return self._loss(model, batch)

    def extra_state(self) -> dict[str, Any]:
        return {"flips": self.flips.get_state()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if "flips" in state:
            self.flips.set_state(state["flips"])

    def lr_multiplier(self, progress: float) -> float:
        from lecturekit.models.pixelrnn import lr_schedule

        r = self.recipe
        return lr_schedule(progress, decay_start=r.get("decay_start", 0.6), floor=r.get("floor", 0.1))

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        from lecturekit.models.pixelrnn import _held_out_eval

        return _held_out_eval(self.ctx.test.indices)(model)

    def finish(self) -> tuple[nn.Module, dict[str, float], dict[str, Any]]:
        from lecturekit.models.pixelrnn import saved_model_metrics

        epochs = self.history["epochs"]
        model, metrics = saved_model_metrics(self.model.eval(), epochs, self.ctx.test.indices)
        metrics.update(train_seconds=self.history["seconds"], epochs=len(epochs))
        return model, metrics, {"history": self.history}


class PixelRNNAboveTrainer(PixelRNNTrainer):
    name = "pixelrnn_above"


class CodecTrainer(FitTrainer):
    """The AE or the VAE of notebook 04 (`lecturekit.models.vae`): the shipped recipe (Adam 2e-3, batch 32,
    mirrored sprites, cosine decay, the VAE's KL weight warmed up over the first 10%), timed by the budget."""

    clip = 5.0
    kind = "ae"

    def __init__(self, ctx: Context, recipe: dict[str, Any]) -> None:
        super().__init__(ctx, recipe)
        self.flips = torch.Generator().manual_seed(ctx.seed + 1)

    def build(self) -> nn.Module:
        from lecturekit.models.vae import build_model

        model = build_model(self.kind, self.ctx.sprites.n_colors)
        model.set_palette(self.ctx.sprites.palette)
        return model

    def data(self) -> torch.Tensor:
        return torch.as_tensor(self.ctx.train.indices, dtype=torch.long)

    def loss(self, model: nn.Module, batch: torch.Tensor) -> Any:
        mask = torch.rand(len(batch), generator=self.flips) < 0.5
        batch = torch.where(mask.to(batch.device)[:, None, None], batch.flip(-1), batch)
        if self.kind == "vae":
            return model.loss(batch, beta=min(1.0, self.ctx.progress() / self.recipe["warmup"]))
        return model.loss(batch)

    def lr_multiplier(self, progress: float) -> float:
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        from lecturekit.models.vae import _held_out_bits

        return _held_out_bits(self.ctx.test)(model)

    def extra_state(self) -> dict[str, Any]:
        return {"flips": self.flips.get_state()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.flips.set_state(state["flips"])

    def finish(self) -> tuple[nn.Module, dict[str, float], dict[str, Any]]:
        from lecturekit.models.vae import held_out_metrics

        model = self.model.cpu().eval()
        if self.kind == "ae":
            model.fit_code_statistics(self.ctx.train.indices)
        metrics = held_out_metrics(model, self.ctx.test.indices)
        metrics.update(train_seconds=self.history["seconds"], epochs=len(self.history["epochs"]))
        return model, metrics, {"history": {**self.history, "steps": []}}


class AETrainer(CodecTrainer):
    name = kind = "ae"


class VAETrainer(CodecTrainer):
    name = kind = "vae"


class WindowTrainer(FitTrainer):
    """Notebook 02's next-pixel models from the causal window: RGB regression and 1-of-N (palette)."""

    clip = 1.0
    output = "rgb"

    def build(self) -> nn.Module:
        from lecturekit.models.rgb import WindowNextPixel

        n = self.ctx.sprites.n_colors if self.output == "palette" else 0
        return WindowNextPixel(self.output, n_colors=n, hidden=self.recipe["hidden"]).set_palette(
            self.ctx.sprites.palette
        )

    def data(self) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.as_tensor(self.ctx.train.indices, dtype=torch.int64)
        return torch.as_tensor(self.ctx.sprites.palette.astype(np.float32) / 255.0)[idx], idx

    def loss(self, model: nn.Module, batch: Any) -> torch.Tensor:
        return model.loss(batch[0], batch[1])

    def lr_multiplier(self, progress: float) -> float:
        return max(0.02, 1.0 - progress)

    def finish(self) -> tuple[nn.Module, dict[str, float], dict[str, Any]]:
        from lecturekit.models.rgb import held_out_metrics

        model = self.model.cpu().eval()
        metrics = held_out_metrics(model, self.ctx.test, self.ctx.seed)
        return (
            model,
            metrics,
            {"history": self.history["epochs"], "epochs": len(self.history["epochs"]), "seed": self.ctx.seed},
        )


class RGBRegressionTrainer(WindowTrainer):
    name, output = "rgb_regression", "rgb"


class RGBPaletteTrainer(WindowTrainer):
    name, output = "rgb_palette", "palette"


class GANTrainer(Trainer):
    """Notebook 05's GAN with the shipped settings (`gan.GANConfig`: R1 penalty, EMA generator), trained by
    `train_gan`'s own steps (`gan._GANTraining`) one epoch at a time, so it can be saved and resumed. At least
    6 epochs: the notebook's collapse check looks at the epochs after the fifth."""

    name = "gan"
    min_epochs = 6

    def __init__(self, ctx: Context, recipe: dict[str, Any]) -> None:
        from dataclasses import fields

        from lecturekit.models.gan import GAN, GANConfig, _fixed_codes, _GANTraining, rgb_to_tensor

        super().__init__(ctx, recipe)
        names = {f.name for f in fields(GANConfig)} - {"epochs", "seed"}
        self.cfg = GANConfig(**{k: v for k, v in recipe.items() if k in names}, epochs=None, seed=ctx.seed)
        torch.manual_seed(ctx.seed)
        self.run = _GANTraining.start(self.cfg, GAN(**self.cfg.model_args()).to(ctx.device), ctx.device)
        self.data = rgb_to_tensor(ctx.train.rgb())
        self.fixed_z, self.variety_z = _fixed_codes(self.cfg, self.cfg.z_dim, ctx.device)
        self.strips: list[np.ndarray] = []
        self.strip_epochs: list[int] = []

    def run_epoch(self, epoch: int, max_seconds: float | None) -> dict[str, float]:
        from lecturekit.models.gan import _gan_epoch_record, _generate_rgb
        from lecturekit.progress import progress
        from lecturekit.training import History

        n_batches = max(1, len(self.data) // self.cfg.batch_size)
        deadline = time.perf_counter() + max_seconds if max_seconds is not None else math.inf
        off = None if self.ctx.progress_bar else True
        bar = progress(total=n_batches, desc=f"gan epoch {epoch + 1}", leave=False, disable=off)
        history = History(self.history["steps"], self.history["epochs"])
        means = self.run.run_epoch(self.data, n_batches, history, epoch, deadline, bar)
        if hasattr(bar, "close"):
            bar.close()
        record = _gan_epoch_record(self.run, means, epoch, 0.0, self.variety_z)
        self.history["epochs"].append(record)
        if epoch % self.cfg.strip_every == 0:
            self.strips.append(_generate_rgb(self.run.G_avg, self.fixed_z))
            self.strip_epochs.append(epoch)
        return record

    def state(self) -> dict[str, Any]:
        return {
            **self.run.state(),
            "history": self.history,
            "strips": [torch.from_numpy(s) for s in self.strips],
            "strip_epochs": list(self.strip_epochs),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.run.load_state(state)
        self.history = state["history"]
        self.strips = [np.asarray(s) for s in state["strips"]]
        self.strip_epochs = [int(e) for e in state["strip_epochs"]]

    def finish(self) -> tuple[nn.Module, dict[str, float], dict[str, Any]]:
        from lecturekit.models.gan import _generate_rgb, quality_scores

        last = len(self.history["epochs"]) - 1
        if not self.strip_epochs or self.strip_epochs[-1] != last:
            self.strips.append(_generate_rgb(self.run.G_avg, self.fixed_z))
            self.strip_epochs.append(last)
        self.run.finish()
        model = self.run.model.cpu()
        metrics = quality_scores(model, self.ctx.sprites, self.ctx.train, self.ctx.test)
        metrics.update(
            train_seconds=self.history["seconds"], epochs=len(self.history["epochs"]), steps=len(self.history["steps"])
        )
        settings = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.recipe.items()}
        extra = {
            "history": self.history,
            "strips": torch.from_numpy(np.stack(self.strips)),
            "strip_epochs": self.strip_epochs,
            "stopped_early": False,
            "settings": settings,
        }
        return model, metrics, extra


@dataclass
class Plan:
    """One model to train: its trainer, its share of the budget, its settings (the recipe)."""

    name: str
    trainer: type[Trainer]
    share: float
    settings: dict[str, Any] = field(default_factory=dict)
    threads: int | None = None  # CPU threads while it trains (None: torch's choice)
    notebook: str = ""


def _pixelrnn_settings(name: str) -> dict[str, Any]:
    """The course recipe of `pixelrnn.COURSE_CONFIGS[name]` and `COURSE_TRAINING` (measured there), the decay
    following the clock. (A learned position embedding, tried here, overfits before a 5-minute budget ends.)"""
    from lecturekit.models.pixelrnn import COURSE_CONFIGS, COURSE_TRAINING

    names = ("hidden", "embed", "see_above", "positions", "lr", "batch_size", "dropout")
    return {**_config_values(COURSE_CONFIGS[name], *names), **COURSE_TRAINING}


def _gan_settings() -> dict[str, Any]:
    from lecturekit.models.gan import GANConfig

    settings = GANConfig().settings()
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in settings.items() if k != "epochs"}


def _config_values(config: Any, *names: str) -> dict[str, Any]:
    return {name: getattr(config, name) for name in names}


def plans() -> list[Plan]:
    """Every sprite model notebooks 02-05 load, with its share of the budget (about the time each
    takes to train well on 2 CPU cores; the PixelRNNs and the GAN learn the most per extra minute).
    Their settings are the shipped recipes' (each family's config dataclass); epochs give way to the budget,
    so the VAE's KL warm-up is the share of the run the shipped recipe spends on it."""
    from lecturekit.models.rgb import RGBConfig
    from lecturekit.models.vae import SpriteCodecConfig

    window = _config_values(RGBConfig(), "hidden", "batch_size", "lr")
    codec = SpriteCodecConfig()
    ae = _config_values(codec, "batch_size", "lr")
    vae = {**ae, "warmup": codec.warmup_epochs / codec.epochs}
    return [
        Plan("rgb_regression", RGBRegressionTrainer, 0.04, window, notebook="02"),
        Plan("rgb_palette", RGBPaletteTrainer, 0.04, window, notebook="02"),
        Plan("pixelrnn", PixelRNNTrainer, 0.22, _pixelrnn_settings("pixelrnn"), notebook="03, 04, 05"),
        Plan("pixelrnn_above", PixelRNNAboveTrainer, 0.22, _pixelrnn_settings("pixelrnn_above"), notebook="03"),
        Plan("ae", AETrainer, 0.12, ae, notebook="04"),
        Plan("vae", VAETrainer, 0.14, vae, notebook="04, 05"),
        Plan("gan", GANTrainer, 0.22, _gan_settings(), threads=1, notebook="05"),
    ]


def recipe_of(plan: Plan, minutes: float, seed: int) -> dict[str, Any]:
    """What a finished checkpoint must match to be skipped on a re-run (and a resume file to be resumed)."""
    return {**plan.settings, "minutes": round(minutes * plan.share, 4), "seed": seed, "version": RECIPE_VERSION}


def _same_recipe(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _trained_to(final: Path, recipe: dict[str, Any]) -> dict[str, Any] | None:
    """The checkpoint at `final` when it was trained to `recipe` (a re-run skips that model), else None."""
    from lecturekit.checkpoints import CheckpointError, read_checkpoint

    if not final.is_file():
        return None
    try:
        done = read_checkpoint(final)
    except CheckpointError:
        return None
    return done if _same_recipe(done["extra"].get("course_recipe", {}), recipe) else None


def _resume(resume: Path, recipe: dict[str, Any], trainer: Any) -> tuple[int, float]:
    """Load the trainer's state from its resume file when that was made for `recipe`: (epochs done, seconds
    spent), else (0, 0.0)."""
    if not resume.is_file():
        return 0, 0.0
    try:
        blob = torch.load(resume, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - a resume file cut short by a kill: start over
        return 0, 0.0
    if not _same_recipe(blob.get("recipe", {}), recipe):
        return 0, 0.0
    trainer.load_state(blob["state"])
    return int(blob["epoch"]), float(blob["elapsed"])


def _train_epochs(
    trainer: Trainer, ctx: Context, recipe: dict[str, Any], resume: Path, bar: Any, epoch: int, elapsed: float
) -> tuple[int, float]:
    """Epochs until the budget is spent (at least `min_epochs`), the resume file rewritten after each so an
    interrupt loses one epoch at most. Returns (epochs done, seconds spent)."""
    while epoch < trainer.min_epochs or elapsed < ctx.budget:
        ctx.started, ctx.elapsed_before = time.perf_counter(), elapsed
        left = ctx.budget - elapsed if epoch >= trainer.min_epochs - 1 else None
        record = trainer.run_epoch(epoch, None if left is None else max(left, 0.0))
        elapsed += time.perf_counter() - ctx.started
        record["seconds"] = elapsed
        trainer.history["seconds"] = elapsed
        epoch += 1
        resume.parent.mkdir(exist_ok=True)
        tmp = resume.with_suffix(".tmp")
        torch.save({"recipe": recipe, "epoch": epoch, "elapsed": elapsed, "state": trainer.state()}, tmp)
        tmp.replace(resume)  # never a half-written resume file
        bar.update(min(round(elapsed), round(ctx.budget)) - bar.n)
        shown = {k: v for k, v in record.items() if k.startswith("test_") or k in ("loss", "variety")}
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(epoch=epoch, **{k: f"{v:.3f}" for k, v in shown.items()})
    return epoch, elapsed


def train_model(plan: Plan, folder: Path, name: str, ctx: Context, minutes: float) -> dict[str, Any]:
    """Train one model to its recipe, resuming from its resume file; skip it if already trained."""
    from lecturekit.checkpoints import save_checkpoint
    from lecturekit.progress import progress

    recipe = recipe_of(plan, minutes, ctx.seed)
    final = folder / "weights" / f"{plan.name}.pt"
    # outside weights/: pretrained_names() lists weights/*.pt, and a resume file is no model to load
    resume = folder / "training" / f"{plan.name}.resume.pt"
    done = _trained_to(final, recipe)
    if done is not None:
        print(f"{plan.name}: already trained to this recipe ({final.name}); skipped", flush=True)
        return {"name": plan.name, "skipped": True, "metrics": done["meta"]["metrics"]}
    ctx.budget = max(recipe["minutes"] * 60, 1e-3)
    trainer = plan.trainer(ctx, recipe)
    epoch, elapsed = _resume(resume, recipe, trainer)
    if epoch:
        print(f"{plan.name}: resuming after epoch {epoch} ({elapsed:.0f} s of {ctx.budget:.0f} s done)", flush=True)
    bar = progress(
        total=round(ctx.budget),
        desc=f"{plan.name} (s of budget)",
        unit="s",
        disable=None if ctx.progress_bar else True,
        initial=min(round(elapsed), round(ctx.budget)),
    )
    threads = torch.get_num_threads()
    if plan.threads and ctx.device.type == "cpu":
        torch.set_num_threads(plan.threads)
    try:
        epoch, elapsed = _train_epochs(trainer, ctx, recipe, resume, bar, epoch, elapsed)
    finally:
        torch.set_num_threads(threads)
        if hasattr(bar, "close"):
            bar.close()
    model, metrics, extra = trainer.finish()
    sprites = ctx.sprites
    save_checkpoint(
        final,
        model,
        half=True,
        fingerprints={"palette": sprites.palette_fingerprint(), "data": sprites.fingerprint(), "dataset": name},
        metrics=metrics,
        extra={**extra, "course_recipe": recipe},
    )
    resume.unlink(missing_ok=True)
    print(
        f"{plan.name}: {epoch} epochs in {elapsed:.0f} s; "
        + ", ".join(f"{k} {v:.3f}" for k, v in metrics.items() if k not in ("epochs", "train_seconds", "steps")),
        flush=True,
    )
    return {"name": plan.name, "skipped": False, "metrics": metrics, "seconds": elapsed, "epochs": epoch}


def train_all(
    folder: Path,
    minutes: float,
    *,
    seed: int = 0,
    device: Any = None,
    progress_bar: bool = True,
    only: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Train every model of `plans()` (or those named in `only`) on the data folder, in order."""
    from lecturekit.device import get_device, seed_everything

    sprites, train, test = load_data_set(folder)
    name = datasets.read_manifest(folder).get("name") or folder.name
    ctx = Context(
        sprites,
        train,
        test,
        torch.device(device) if device is not None else get_device(),
        seed=seed,
        progress_bar=progress_bar,
    )
    results = []
    for plan in plans():
        if only and plan.name not in only:
            continue
        seed_everything(seed)
        results.append(train_model(plan, folder, name, ctx, minutes))
    return results


def print_plan(minutes: float, device: torch.device, only: list[str] | None = None) -> None:
    print(f"training budget: {minutes:g} minutes in all on {device} (--minutes); each model's share:")
    for plan in plans():
        if only and plan.name not in only:
            continue
        print(f"  {plan.name:15s} {plan.share:4.0%}  {minutes * plan.share:6.2f} min   (notebook {plan.notebook})")
    sys.stdout.flush()


# ----------------------------------------------------------------------------- command line
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lecturekit course-data",
        description="Make the course's own sprites a data set the kit can switch to (LECTUREKIT_DATA=NAME), and "
        "train every sprite model notebooks 02-05 load on it. Interrupted? Run the same command again: "
        "it resumes, and skips the models already trained.",
    )
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="PIXELS COLORMAP | FOLDER",
        help="the lecture's pixel_color.txt and colormap.txt, or one folder of 20x20 (or 40x40) PNG sprites",
    )
    p.add_argument("--name", required=True, help="the data set's name (LECTUREKIT_DATA=NAME selects it)")
    p.add_argument("--into", default=None, help=f"the folder to write (default: {datasets.user_data_home()}/NAME)")
    p.add_argument(
        "--minutes",
        type=float,
        default=DEFAULT_MINUTES,
        help=f"total training budget for all models (default {DEFAULT_MINUTES:g}); shares are printed first",
    )
    p.add_argument(
        "--colors",
        type=int,
        default=PALETTE_COLORS,
        help=f"palette size for a PNG folder (k-means + rare-colour merge; default {PALETTE_COLORS})",
    )
    p.add_argument(
        "--only",
        action="append",
        default=None,
        metavar="MODEL",
        help="train only this model (repeatable): " + ", ".join(p.name for p in plans()),
    )
    p.add_argument("--no-train", action="store_true", help="write the data set only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def prepare(inputs: list[str], name: str, into: str | None, colors: int) -> tuple[Path, bool]:
    """Check the inputs and write the data folder (or find it already written from the same data).
    Returns (folder, written now). Raises DataFormatError / DataSetError before writing anything."""
    datasets.check_name(name)
    folder = Path(into).expanduser().resolve() if into else datasets.user_data_home() / name
    course = read_input(inputs, colors)
    colormap = inputs[1] if len(inputs) == 2 else None
    for line in check_sprites(course.sprites, inputs[0], colormap):
        print(f"warning: {line}", file=sys.stderr)
    if folder.exists():
        manifest = datasets.read_manifest(folder)
        have = manifest.get("fingerprints", {}).get("data")
        if have == course.sprites.fingerprint():
            return folder, False
        what = "another data set" if have else "files that are not a course data set"
        raise datasets.DataSetError(
            f"{folder} already holds {what}; nothing was written. Pass another --name (or --into), or delete "
            "that folder first if you mean to replace it."
        )
    write_data_set(course, folder, name)
    return folder, True


def main(argv: list[str] | None = None) -> int:
    """`python -m lecturekit course-data PIXELS COLORMAP --name NAME [--minutes M] [--into DIR]`."""
    from lecturekit.device import get_device

    args = _parser().parse_args(argv)
    if args.minutes <= 0:
        print("error: --minutes must be positive.", file=sys.stderr)
        return 2
    known = [p.name for p in plans()]
    bad = [m for m in args.only or [] if m not in known]
    if bad:
        print(f"error: unknown model(s) {', '.join(bad)}: choose from {', '.join(known)}.", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        folder, written = prepare(args.inputs, args.name, args.into, args.colors)
    except (DataFormatError, datasets.DataSetError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    manifest = datasets.read_manifest(folder)
    print(
        f"{'wrote' if written else 'found'} the data set {args.name!r} in {folder}: {manifest['sprites']} sprites "
        f"({manifest['train']} train, {manifest['test']} held out), {manifest['colours']} colours",
        flush=True,
    )
    start = time.perf_counter()
    if not args.no_train:
        device = get_device()
        print_plan(args.minutes, device, args.only)
        train_all(
            folder, args.minutes, seed=args.seed, device=device, progress_bar=not args.no_progress, only=args.only
        )
    select = args.name if not args.into else str(folder)
    print(
        f"done in {(time.perf_counter() - start) / 60:.1f} min. Teach on it: LECTUREKIT_DATA={select} make lab "
        f"(or lecturekit.use_data({select!r}) in a notebook's setup cell)"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
