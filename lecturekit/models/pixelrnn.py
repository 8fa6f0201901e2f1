"""PixelRNN on the sprites (notebook 03): one LSTM layer reads the 400 pixels in raster order and
predicts a softmax over the palette for the next one.

Two models share this file, so they share the sampler and are compared on the same held-out
bits per pixel:
- `PixelRNN(n_colors)` (kind "pixelrnn"), the lecture's model: one LSTM with 512 cells; its input at
  pixel t is the previous pixel's colour (a 64-d embedding instead of a one-hot: cheaper, and on the
  kit's sprites no worse). `positions=True` adds a learned embedding of the position t; measured, it
  speeds up the first epochs but ends slightly worse, so the shipped models go without.
- `PixelRNN(n_colors, see_above=True)`, shipped as "pixelrnn_above": the same LSTM that also sees the
  three pixels of the row above (above-left, above, above-right), all drawn already in raster order.
  The plain LSTM must carry the row above for 20 steps in its state; this one reads it directly.

On a course's own sprites (`--lecture-files`, `course-data`) both train with `COURSE_CONFIGS` and
`COURSE_TRAINING` (bfloat16 on CPUs that do it natively, mirrored sprites, dropout; the see-above LSTM
with 256 cells), faster per CPU minute there.

Sampling keeps the LSTM state between pixels (one LSTM step per pixel, a whole batch at once), so
drawing costs time linear in the number of pixels; the prefix of a completion is read in one call.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lecturekit.checkpoints import register_model
from lecturekit.i18n import _
from lecturekit.models.common import SpriteInput
from lecturekit.settings import add_config_options
from lecturekit.units import LN2, SPRITE_SIZE

ProbabilitiesFn = Callable[[torch.Tensor, float], torch.Tensor]


# ----------------------------------------------------------------------------- the exercises' references
def teacher_forcing_inputs(pixels: torch.Tensor, start_token: int) -> torch.Tensor:
    """The input sequence for teacher forcing: `pixels` (N, L) shifted one step right, `start_token` first.

    The model at step t sees pixel t-1 and is trained to predict pixel t, so it never sees the answer.
    """
    start = torch.full_like(pixels[:, :1], start_token)
    return torch.cat([start, pixels[:, :-1]], dim=1)


def temperature_probabilities(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """softmax(logits / temperature) over the last axis: T < 1 sharpens, T > 1 flattens (T > 0)."""
    scaled = logits / temperature
    scaled = scaled - scaled.max(dim=-1, keepdim=True).values  # exp of a large number overflows
    weights = torch.exp(scaled)
    return weights / weights.sum(dim=-1, keepdim=True)


def bits_per_pixel_from_logits(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy in bits: -log2 p(true colour), averaged over every pixel.

    `logits` (..., K), `targets` (...) integer colours. log2(K) bits is a uniform guess; 0 is certainty.
    """
    nats = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    return nats / LN2


# ----------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class PixelRNNConfig:
    """One home for a PixelRNN's settings: its shape and its training recipe (the palette size and the
    sprite size come from the data). `train_pixelrnn`'s defaults, the CLI's defaults and the two shipped
    checkpoints (`SHIPPED_CONFIGS`) read them from here; a test holds them to the checkpoints' metadata."""

    # architecture (PixelRNN's constructor arguments besides n_colors, height and width)
    hidden: int = 512
    embed: int = 64
    see_above: bool = False
    positions: bool = False
    # training recipe
    epochs: int | None = 12
    batch_size: int = 32
    lr: float = 3e-3
    dropout: float = 0.0  # on the LSTM's inputs and outputs while training (`training_loss`)
    seed: int = 0

    def train_args(self) -> dict[str, Any]:
        """The keyword arguments of `train_pixelrnn` that this config sets."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_checkpoint(cls, blob: dict[str, Any]) -> PixelRNNConfig:
        """The settings a PixelRNN checkpoint was trained with: its stored config, its CLI recipe, and the
        number of epochs it ran (the recipe stores `epochs: None` when the CLI used its default)."""
        recipe = blob["extra"].get("recipe", {})
        stored = {**recipe, **blob["meta"]["config"]}
        if stored.get("epochs") is None:
            stored["epochs"] = int(blob["meta"]["metrics"]["epochs"])
        return cls(**{f.name: stored[f.name] for f in fields(cls) if f.name in stored})


# name -> the settings of the shipped checkpoint (the CLI's defaults reproduce it)
SHIPPED_CONFIGS: dict[str, PixelRNNConfig] = {
    "pixelrnn": PixelRNNConfig(),
    "pixelrnn_above": PixelRNNConfig(see_above=True, epochs=10),
}


# name -> the recipe for a course's own sprites (`train NAME --lecture-files`, `course-data`); the shipped
# checkpoints keep SHIPPED_CONFIGS. The plain model stays the lecture's LSTM 512 over raster order (Adam at
# 4e-3); the see-above one has 256 cells. Both add COURSE_TRAINING and dropout:
# - precision "auto": bfloat16 autocast where the CPU does bf16 matmuls natively (AVX512-BF16 or AMX; see
#   `bf16_helps`): about 1.7x more steps per minute; per step it learns about as well (held-out figures in float32);
# - flip: each training sprite mirrored left-right with probability 1/2 (-0.06 / -0.04 bits/pixel);
# - dropout on the LSTM's inputs and outputs while training (`training_loss`): a course-sized set (~750
#   training sprites) is memorised within minutes otherwise (5 minutes with bf16 are 40-70 epochs).
# On the lecture-like set (`lecturekit.lecture_like`, 792 x 167), in 5 minutes on 2 idle threads, this recipe
# ends at 2.35 (plain) and 1.96 (see-above) held-out bits/pixel, where the shipped models' recipe ends at
# 2.77 / 2.57 (its best epochs 2.60 / 2.14, before it memorises); the benchmarks' `course_pixelrnn_*` rows
# measure it, and CHANGELOG.md lists the variants it was chosen over.
COURSE_CONFIGS: dict[str, PixelRNNConfig] = {
    "pixelrnn": PixelRNNConfig(epochs=None, lr=4e-3, dropout=0.5),
    "pixelrnn_above": PixelRNNConfig(see_above=True, hidden=256, epochs=None, dropout=0.3),
}
COURSE_TRAINING: dict[str, Any] = {
    "flip": True,
    "decay_start": 0.6,
    "floor": 0.1,
    "precision": "auto",
}


# ----------------------------------------------------------------------------- the model
@register_model("pixelrnn")
class PixelRNN(nn.Module, SpriteInput):
    """One LSTM layer over the pixels in raster order, a softmax over the palette at every pixel."""

    def __init__(
        self,
        n_colors: int,
        hidden: int = PixelRNNConfig.hidden,
        embed: int = PixelRNNConfig.embed,
        height: int = SPRITE_SIZE,
        width: int = SPRITE_SIZE,
        see_above: bool = PixelRNNConfig.see_above,
        positions: bool = PixelRNNConfig.positions,
    ) -> None:
        super().__init__()
        if n_colors < 2:
            raise ValueError(f"a palette of {n_colors} colour(s) leaves nothing to predict: use 2 or more.")
        self.config = {
            "n_colors": int(n_colors),
            "hidden": int(hidden),
            "embed": int(embed),
            "height": int(height),
            "width": int(width),
            "see_above": bool(see_above),
            "positions": bool(positions),
        }
        self.n_colors, self.height, self.width = int(n_colors), int(height), int(width)
        self.n_pixels = self.height * self.width
        self.start_token, self.pad_token = self.n_colors, self.n_colors + 1
        self.slots = 4 if see_above else 1  # previous pixel (+ above-left, above, above-right)
        self.embedding = nn.Embedding(self.n_colors + 2, embed)
        self.position = nn.Embedding(self.n_pixels, embed * self.slots) if positions else None
        self.lstm = nn.LSTM(embed * self.slots, hidden, batch_first=True)
        self.out = nn.Linear(hidden, self.n_colors)

    # -- inputs
    def check_pixels(self, pixels: Any, what: str = "pixels") -> torch.Tensor:
        """(N, H, W) or (N, H*W) colour indices as a long tensor (N, H*W) on the model's device, checked
        (`SpriteInput.check_sprites`, the check every sprite model shares)."""
        t = self.check_sprites(pixels, what)
        return t.reshape(t.shape[0], -1)

    def input_tokens(self, pixels: torch.Tensor) -> torch.Tensor:
        """Token ids (N, L, slots) fed at each step: the previous pixel (and, with see_above, the three above)."""
        prev = teacher_forcing_inputs(pixels, self.start_token)
        if self.slots == 1:
            return prev[..., None]
        n, length = pixels.shape
        padded = torch.full((n, self.width + 1), self.pad_token, dtype=pixels.dtype, device=pixels.device)
        seq = torch.cat([padded, pixels], dim=1)  # seq[:, t + W + 1] is pixel t
        t = torch.arange(length, device=pixels.device)
        cols = t % self.width
        slots = [prev]
        for dx in (-1, 0, 1):
            src = t - self.width + dx
            ok = (t >= self.width) & (cols + dx >= 0) & (cols + dx < self.width)
            tok = seq[:, (src + self.width + 1).clamp(min=0)]
            slots.append(torch.where(ok[None, :], tok, torch.full_like(tok, self.pad_token)))
        return torch.stack(slots, dim=-1)

    def _lstm_inputs(self, tokens: torch.Tensor, start: int = 0) -> torch.Tensor:
        n, length, _ = tokens.shape
        x = self.embedding(tokens).reshape(n, length, -1)
        if self.position is not None:
            x = x + self.position.weight[start : start + length]
        return x

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Logits (N, L, K) for every pixel given the ones before it (teacher forcing)."""
        pixels = self.check_pixels(pixels)
        hidden, _ = self.lstm(self._lstm_inputs(self.input_tokens(pixels)))
        return self.out(hidden)

    def loss(self, pixels: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy (nats per pixel) of the true colours."""
        pixels = self.check_pixels(pixels)
        logits = self(pixels)
        return F.cross_entropy(logits.reshape(-1, self.n_colors), pixels.reshape(-1))

    # -- one step at a time (sampling)
    def _step_tables(self) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
        """Input-to-gate tables precomputed once per sampling call: a step is then one matmul."""
        w_ih, w_hh = self.lstm.weight_ih_l0, self.lstm.weight_hh_l0
        e = self.embedding.embedding_dim
        tables = [self.embedding.weight @ w_ih[:, i * e : (i + 1) * e].T for i in range(self.slots)]
        bias = self.lstm.bias_ih_l0 + self.lstm.bias_hh_l0
        pos = (self.position.weight @ w_ih.T + bias) if self.position is not None else bias.expand(self.n_pixels, -1)
        return tables, pos, w_hh.T.contiguous()

    def _step_tokens(self, canvas: torch.Tensor, t: int) -> list[torch.Tensor]:
        n = canvas.shape[0]
        pad = torch.full((n,), self.pad_token, dtype=torch.long, device=canvas.device)
        toks = [canvas[:, t - 1] if t > 0 else torch.full_like(pad, self.start_token)]
        if self.slots > 1:
            row, col = divmod(t, self.width)
            for dx in (-1, 0, 1):
                ok = row > 0 and 0 <= col + dx < self.width
                toks.append(canvas[:, t - self.width + dx] if ok else pad)
        return toks


# ----------------------------------------------------------------------------- drawing
def _model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _check_temperature(temperature: float) -> float:
    t = float(temperature)
    if not math.isfinite(t) or t < 0:
        raise ValueError(f"temperature must be 0 (argmax) or a positive number, got {temperature}.")
    return t


def _start_canvas(model: PixelRNN, n: int, prefix: Any, prefix_pixels: int) -> torch.Tensor:
    """The (n, H*W) canvas the sampler fills, its first `prefix_pixels` copied from `prefix` (checked here,
    so a bad call fails before any drawing)."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}.")
    length = model.n_pixels
    if not 0 <= prefix_pixels <= length:
        raise ValueError(f"prefix_pixels must be in 0..{length}, got {prefix_pixels}.")
    canvas = torch.zeros((n, length), dtype=torch.long, device=_model_device(model))
    if prefix_pixels:
        if prefix is None:
            raise ValueError("prefix_pixels > 0 needs the prefix sprites: pass prefix=(n, H, W) indices.")
        given = model.check_pixels(prefix, "prefix")
        if given.shape[0] != n:
            raise ValueError(f"prefix holds {given.shape[0]} sprites but n={n}: they must match.")
        canvas[:, :prefix_pixels] = given[:, :prefix_pixels]
    return canvas


def _prefix_state(model: PixelRNN, canvas: torch.Tensor, prefix_pixels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The LSTM state (h, c) after the known pixels, read in one fused LSTM call (zeros without a prefix)."""
    if prefix_pixels:
        tokens = model.input_tokens(canvas)[:, :prefix_pixels]
        _, (h, c) = model.lstm(model._lstm_inputs(tokens))
        return h[0], c[0]
    h = torch.zeros((len(canvas), model.lstm.hidden_size), device=canvas.device)
    return h, torch.zeros_like(h)


def sample(
    model: PixelRNN,
    n: int = 16,
    *,
    temperature: float = 1.0,
    seed: int = 0,
    prefix: Any = None,
    prefix_pixels: int = 0,
    greedy: bool = False,
    probabilities_fn: ProbabilitiesFn | None = None,
) -> np.ndarray:
    """Draw `n` sprites pixel by pixel; returns colour indices (n, H, W).

    temperature 0 or greedy=True picks the most likely colour at each pixel (argmax: always the same
    image); otherwise the colour is drawn from softmax(logits / temperature). With `prefix` (n, H, W)
    the first `prefix_pixels` pixels are copied from it and the model draws the rest (completion).
    `probabilities_fn(logits, temperature)` replaces the package's temperature softmax (for the exercise).
    The LSTM state is carried from pixel to pixel: the cost grows linearly with the number of pixels.
    """
    temperature = _check_temperature(temperature)
    greedy = greedy or temperature == 0
    probabilities_fn = probabilities_fn or temperature_probabilities
    canvas = _start_canvas(model, n, prefix, prefix_pixels)
    generator = torch.Generator(device=canvas.device).manual_seed(int(seed))
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        tables, pos, w_hh_t = model._step_tables()
        h, c = _prefix_state(model, canvas, prefix_pixels)
        w_out, b_out = model.out.weight.T.contiguous(), model.out.bias
        for t in range(prefix_pixels, model.n_pixels):
            gates = pos[t].expand(n, -1)
            for table, tok in zip(tables, model._step_tokens(canvas, t)):
                gates = gates + table[tok]
            gates = torch.addmm(gates, h, w_hh_t)
            i, f, g, o = gates.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            logits = torch.addmm(b_out, h, w_out)
            if greedy:
                canvas[:, t] = logits.argmax(dim=1)
            else:
                probs = probabilities_fn(logits, temperature)
                canvas[:, t] = torch.multinomial(probs, 1, generator=generator)[:, 0]
    model.train(was_training)
    return canvas.reshape(n, model.height, model.width).cpu().numpy()


def complete(
    model: PixelRNN, sprites: Any, *, keep: float = 0.5, samples: int = 4, temperature: float = 1.0, seed: int = 0
) -> np.ndarray:
    """Show the model the top `keep` share of each sprite's rows and let it draw the rest, `samples`
    times each; returns (N, samples, H, W) colour indices (the kept rows copied from the sprite)."""
    if not 0 <= keep <= 1:
        raise ValueError(f"keep is the share of rows shown to the model, in 0..1; got {keep}.")
    given = model.check_pixels(sprites, "sprites")
    rows = int(round(keep * model.height))
    repeated = given.repeat_interleave(samples, dim=0)
    out = sample(
        model, len(repeated), temperature=temperature, seed=seed, prefix=repeated, prefix_pixels=rows * model.width
    )
    return out.reshape(len(given), samples, model.height, model.width)


def completion_images(
    real: Any,
    completions: np.ndarray,
    palette: np.ndarray,
    keep: float,
    hidden_colour: tuple[int, int, int] = (140, 140, 140),
) -> np.ndarray:
    """RGB rows for a figure: per sprite, the real one, what the model was shown (the rest grey), then
    its completions; returns (N * (2 + samples), H, W, 3) uint8, to show with `columns=2 + samples`."""
    real = np.asarray(real)
    palette = np.asarray(palette, dtype=np.uint8)
    n, samples, height = completions.shape[:3]
    rows = int(round(keep * height))
    shown = palette[real].copy()
    shown[:, rows:] = np.asarray(hidden_colour, dtype=np.uint8)
    parts = [palette[real][:, None], shown[:, None], palette[completions]]
    return np.concatenate(parts, axis=1).reshape(n * (2 + samples), *shown.shape[1:])


# ----------------------------------------------------------------------------- evaluation
def seen_colour_share(drawn: np.ndarray, shown: np.ndarray) -> float:
    """Of the creature (non-white) pixels in `drawn` (N, S, h, W: S drawings of a region of N sprites), the
    share whose colour occurs among the creature pixels of the rows `shown` (N, h', W) of the same sprite:
    does a completion keep the colour scheme it was shown? (The real sprites' own rest, or another sprite's,
    set the scale.)"""
    drawn, shown = np.asarray(drawn), np.asarray(shown)
    hits = total = 0
    for region, seen in zip(drawn, shown):
        colours = region[region != 0]
        hits += int(np.isin(colours, seen[seen != 0]).sum())
        total += colours.size
    return hits / max(total, 1)


def bits_map(logits: torch.Tensor, pixels: Any, height: int = SPRITE_SIZE, width: int = SPRITE_SIZE) -> np.ndarray:
    """Bits spent on each position (H, W), averaged over the sprites, from logits (N, H*W, K) already computed."""
    targets = torch.as_tensor(np.asarray(pixels) if not isinstance(pixels, torch.Tensor) else pixels)
    targets = targets.reshape(len(logits), -1).long().to(logits.device)
    nats = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    return (nats.double().mean(dim=0) / LN2).reshape(height, width).cpu().numpy()


def bits_per_position(model: PixelRNN, indices: Any, batch_size: int = 256) -> np.ndarray:
    """Bits spent on each pixel position, averaged over the sprites: (H, W); where is the model unsure?"""
    device = _model_device(model)
    pixels = model.check_pixels(indices).to(device)
    total = torch.zeros(model.n_pixels, dtype=torch.float64, device=device)
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(pixels), batch_size):
            batch = pixels[start : start + batch_size]
            logits = model(batch)
            nats = F.cross_entropy(logits.transpose(1, 2), batch, reduction="none")
            total += nats.double().sum(dim=0)
    model.train(was_training)
    return (total / max(len(pixels), 1) / LN2).reshape(model.height, model.width).cpu().numpy()


def model_bits_per_pixel(model: PixelRNN, indices: Any, batch_size: int = 256) -> float:
    """A model's bits per pixel on sprites: -log2 p(sprite) / 400 averaged over them (lower is better)."""
    return float(bits_per_position(model, indices, batch_size).mean())


# ----------------------------------------------------------------------------- training
def lr_schedule(progress: float, warmup: float = 0.03, decay_start: float = 0.6, floor: float = 0.1) -> float:
    """Learning-rate multiplier at `progress` in 0..1 of the run: a short warm-up, the full rate until
    `decay_start`, then a cosine decay to `floor`. (A cosine from the start decays too early: with a few
    minutes of training the model is still far from fitting, and a high rate for longer wins.)"""
    progress = min(max(progress, 0.0), 1.0)
    if progress < warmup:
        return max(progress / warmup, 0.02)
    if progress < decay_start:
        return 1.0
    x = (progress - decay_start) / (1 - decay_start)
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * x))


def _schedule(
    epochs: int | None, minutes: float | None, steps_per_epoch: int, decay_start: float, floor: float
) -> Callable[[int], float]:
    """`lr_schedule` over the run: with `epochs` it follows the steps (repeatable), else the clock."""
    if epochs is None and minutes is None:
        raise ValueError("give epochs or minutes (or both), or training would never stop.")
    started = time.perf_counter()

    def schedule(step: int) -> float:
        if epochs is not None:
            progress = step / (epochs * steps_per_epoch)
        else:
            progress = (time.perf_counter() - started) / (minutes * 60)  # type: ignore[operator]
        return lr_schedule(progress, decay_start=decay_start, floor=floor)

    return schedule


def bf16_helps(device: Any) -> bool:
    """Whether bfloat16 autocast speeds the LSTM up on `device`: a CPU with AVX512-BF16 or AMX does its
    matmuls natively (measured: about 1.7x faster steps); elsewhere the CPU would emulate them, slower."""
    if torch.device(device).type != "cpu":
        return False
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # private: absent in some torch releases
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


@functools.lru_cache(maxsize=1)
def bf16_lstm_runs() -> bool:
    """Whether this CPU's torch can run an LSTM under bfloat16 autocast at all (oneDNN has no bfloat16 LSTM
    for CPUs without native bfloat16: it fails with an opaque "primitive descriptor" error)."""
    lstm = torch.nn.LSTM(2, 2, batch_first=True)
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            lstm(torch.zeros(1, 2, 2))
    except RuntimeError:
        return False
    return True


def _use_bf16(precision: str, device: Any) -> bool:
    """`precision` "bf16", or "auto" on a device where `bf16_helps`; "fp32" never."""
    from lecturekit.device import get_device

    if precision not in ("fp32", "bf16", "auto"):
        raise ValueError(f'precision must be "fp32", "bf16" or "auto", got {precision!r}.')
    auto = precision == "auto" and bf16_helps(device if device is not None else get_device()) and bf16_lstm_runs()
    return precision == "bf16" or auto


def training_loss(
    flips: torch.Generator | None = None, bf16: bool = False, dropout: float = 0.0
) -> Callable[[PixelRNN, torch.Tensor], torch.Tensor]:
    """The training loss (mean nats per pixel). With `flips`, each sprite of a batch is mirrored left-right
    with probability 1/2, drawn from that generator (not the global stream): a creature facing the other
    way is as likely a sprite. With `bf16`, the LSTM runs under CPU bfloat16 autocast (the cross-entropy
    in float32); held-out figures are always computed in float32. With `dropout`, the LSTM's inputs and
    outputs (not its recurrence) are dropped at that rate while training: a course-sized set is memorised
    within minutes otherwise. The model itself is unchanged (its checkpoints and sampling know no dropout)."""
    if bf16 and not bf16_lstm_runs():
        raise ValueError(
            "this CPU cannot run the PixelRNN's LSTM in bfloat16 (no native bfloat16: torch's oneDNN has no such "
            "LSTM for it); train in float32 instead (precision 'fp32', or 'auto', which chooses it here)"
        )

    def loss(model: PixelRNN, batch: torch.Tensor) -> torch.Tensor:
        if flips is not None:
            flat = batch.reshape(len(batch), model.height, model.width)
            mask = (torch.rand(len(batch), generator=flips) < 0.5).to(batch.device)
            batch = torch.where(mask[:, None, None], flat.flip(-1), flat)
        if not bf16 and not dropout:
            return model.loss(batch)
        pixels = model.check_pixels(batch)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = _dropped_out_logits(model, pixels, dropout) if dropout else model(pixels)
        return F.cross_entropy(logits.float().reshape(-1, model.n_colors), pixels.reshape(-1))

    return loss


def _dropped_out_logits(model: PixelRNN, pixels: torch.Tensor, rate: float) -> torch.Tensor:
    """`model(pixels)` with dropout on the LSTM's inputs and outputs (the training-time regulariser)."""
    inputs = F.dropout(model._lstm_inputs(model.input_tokens(pixels)), rate, model.training)
    hidden, _ = model.lstm(inputs)
    return model.out(F.dropout(hidden, rate, model.training))


def _model_for(train_t: torch.Tensor, n_colors: int, **architecture: Any) -> PixelRNN:
    """A fresh PixelRNN the size of the training sprites ((N, H, W), else 20x20), which it checks."""
    height, width = (int(train_t.shape[1]), int(train_t.shape[2])) if train_t.ndim == 3 else (SPRITE_SIZE, SPRITE_SIZE)
    model = PixelRNN(n_colors, height=height, width=width, **architecture)
    model.check_pixels(train_t, "training sprites")
    return model


def _held_out_eval(test: Any) -> Callable[[PixelRNN], dict[str, float]] | None:
    """fit's eval_fn recording held-out bits per pixel ("test_bpp") after every epoch; None without `test`."""
    if test is None:
        return None
    test_t = torch.as_tensor(np.asarray(test), dtype=torch.long)
    return lambda m: {"test_bpp": model_bits_per_pixel(m, test_t)}


def train_pixelrnn(
    train: Any,
    n_colors: int,
    *,
    test: Any = None,
    hidden: int = PixelRNNConfig.hidden,
    embed: int = PixelRNNConfig.embed,
    see_above: bool = PixelRNNConfig.see_above,
    positions: bool = PixelRNNConfig.positions,
    epochs: int | None = PixelRNNConfig.epochs,
    minutes: float | None = None,
    batch_size: int = PixelRNNConfig.batch_size,
    lr: float = PixelRNNConfig.lr,
    seed: int = PixelRNNConfig.seed,
    device: Any = None,
    progress_bar: bool = True,
    flip: bool = False,
    decay_start: float = 0.6,
    floor: float = 0.1,
    precision: str = "fp32",
    dropout: float = PixelRNNConfig.dropout,
) -> tuple[PixelRNN, Any]:
    """Train a PixelRNN on `train` (N, 20, 20) indices; returns (model in eval mode, History).

    The defaults are `PixelRNNConfig()`'s; `train_pixelrnn(x, k, **config.train_args())` trains a config.

    Adam at a high learning rate (3e-3) held for 60% of the run then decayed, gradient clipping,
    batch 32: measured on the kit's sprites, it ends 0.1 bits/pixel below the lecture's recipe (one-hot
    input, lr 1e-3 fixed, batch 64) after the same 12 epochs. With `epochs` the decay follows the steps
    (repeatable); with only `minutes`, it follows the clock.
    With `test`, every epoch records held-out bits per pixel ("test_bpp") in the history.
    `flip`, `decay_start`, `floor`, `precision` ("fp32", "bf16", or "auto": bf16 where `bf16_helps`): the
    course recipe's mirrored sprites, schedule and arithmetic (`COURSE_TRAINING`); `dropout`: its regulariser,
    per model (`COURSE_CONFIGS`).
    """
    from lecturekit.device import seed_everything
    from lecturekit.training import fit

    seed_everything(seed)
    train_t = torch.as_tensor(np.asarray(train), dtype=torch.long)
    model = _model_for(train_t, n_colors, hidden=hidden, embed=embed, see_above=see_above, positions=positions)
    schedule = _schedule(epochs, minutes, math.ceil(len(train_t) / batch_size), decay_start, floor)
    flips = torch.Generator().manual_seed(seed + 1) if flip else None
    loss_fn = training_loss(flips, _use_bf16(precision, device), dropout)
    history = fit(
        model,
        train_t,
        loss_fn,
        epochs=epochs,
        max_minutes=minutes,
        batch_size=batch_size,
        lr=lr,
        schedule=schedule,
        clip_grad=1.0,
        device=device,
        seed=seed,
        eval_fn=_held_out_eval(test),
        progress_bar=progress_bar,
        desc="PixelRNN" + (_(" (above)") if see_above else ""),
    )
    model.eval()
    return model, history


def round_to_half(model: PixelRNN) -> PixelRNN:
    """Round the weights to float16 precision (kept as float32), as a checkpoint saved with half=True loads."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    return model


def saved_model_metrics(model: PixelRNN, epochs: list[dict[str, Any]], test: Any) -> tuple[PixelRNN, dict[str, Any]]:
    """The model as its float16 checkpoint will load (measure what will be loaded), and the metrics every
    PixelRNN checkpoint stores: that model's held-out bits per pixel, and the last epoch's mean training loss
    in bits (`epochs`: the History's epoch records)."""
    model = round_to_half(model.cpu())
    return model, {
        "test_bits_per_pixel": model_bits_per_pixel(model, test),
        "train_loss_bits_last_epoch": epochs[-1]["loss"] / LN2,
    }


# ----------------------------------------------------------------------------- command line
# name -> train_pixelrnn's keyword arguments for the shipped checkpoint (notebook 03 passes them)
TRAINING_RECIPES: dict[str, dict[str, Any]] = {name: c.train_args() for name, c in SHIPPED_CONFIGS.items()}


def _parser(name: str) -> argparse.ArgumentParser:
    """The CLI of one shipped PixelRNN, its defaults from SHIPPED_CONFIGS[name]."""
    config = SHIPPED_CONFIGS[name]
    p = argparse.ArgumentParser(
        prog=f"lecturekit train {name}",
        description=f"Train the {name} model. Without --lecture-files it trains on the kit's sprites (their "
        f"train/test split) and reproduces data/weights/{name}.pt; with them, on any files in the "
        "lecture's format, holding out a fixed seeded 5% of the sprites, with the course recipe (COURSE_CONFIGS: "
        "bfloat16 where the CPU does it natively, mirrored sprites). The last line printed is "
        "`test_bits_per_pixel X`.",
    )
    p.add_argument(
        "--lecture-files",
        nargs=2,
        metavar=("PIXELS", "COLORMAP"),
        help="pixel_color.txt and colormap.txt in the lecture's format",
    )
    p.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="wall-time limit; alone (no --epochs) the learning-rate decay follows the clock",
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        help=f"number of epochs (default {config.epochs} on the kit's data; none with --lecture-files and --minutes)",
    )
    p.add_argument("--out", default=f"{name}.pt", help=f"where to write the checkpoint (default ./{name}.pt)")
    add_config_options(
        p,
        config,
        skip=("embed", "see_above", "positions", "epochs"),
        helps={"hidden": "LSTM cells (the lecture: 512)", "dropout": "on the LSTM's inputs and outputs while training"},
    )
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def _parse_args(name: str, argv: Sequence[str]) -> argparse.Namespace:
    """The CLI's arguments; with --lecture-files, the options not given default to the course recipe
    (`COURSE_CONFIGS`) instead of the shipped one."""
    p = _parser(name)
    known, _rest = p.parse_known_args(list(argv))
    if known.lecture_files:
        course = COURSE_CONFIGS[name]
        p.set_defaults(hidden=course.hidden, batch_size=course.batch_size, lr=course.lr, dropout=course.dropout)
    return p.parse_args(list(argv))


def _cli_sprites(lecture_files: Sequence[str] | None) -> tuple[Any, Any, Any]:
    """(all, train, test) sprites: the lecture files with course-data's held-out 5%, else the kit's own split."""
    from lecturekit.course_data import course_split
    from lecturekit.data import DataFormatError, load_sprites, read_lecture_files

    if not lecture_files:
        return load_sprites(), load_sprites("train"), load_sprites("test")
    sprites = read_lecture_files(*lecture_files)
    train_pos, test_pos = course_split(len(sprites))
    if len(train_pos) == 0:
        raise DataFormatError(
            f"{lecture_files[0]}: only {len(sprites)} sprite(s); training needs at least 2 (one is held out)."
        )
    return sprites, sprites.subset(train_pos), sprites.subset(test_pos)


def _cli_config(name: str, args: argparse.Namespace) -> tuple[PixelRNNConfig, dict[str, Any]]:
    """The settings the CLI trains with: the shipped recipe on the kit's data, the course recipe (and its
    schedule and mirroring, `COURSE_TRAINING`) on lecture files; the options given replace theirs."""
    base = COURSE_CONFIGS[name] if args.lecture_files else SHIPPED_CONFIGS[name]
    epochs = args.epochs
    if epochs is None and (args.minutes is None or not args.lecture_files):
        epochs = SHIPPED_CONFIGS[name].epochs
    config = replace(
        base,
        hidden=args.hidden,
        epochs=epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        dropout=args.dropout,
        seed=args.seed,
    )
    return config, (dict(COURSE_TRAINING) if args.lecture_files else {})


def _save_cli_checkpoint(
    args: argparse.Namespace, model: PixelRNN, history: Any, sprites: Any, test: Any, cpu_seconds: float
) -> float:
    """Write the checkpoint (float16, as shipped) and return the held-out bits per pixel of what was saved. The
    threads and the CPU time go into the record too: `checkpoints.retraining_estimate` reads how busy the machine
    was from them."""
    from lecturekit.checkpoints import save_checkpoint

    model, metrics = saved_model_metrics(model, history.epochs, test.indices)
    test_bpp, train_bpp = metrics["test_bits_per_pixel"], metrics["train_loss_bits_last_epoch"]
    save_checkpoint(
        Path(args.out),
        model,
        half=True,
        fingerprints={"palette": sprites.palette_fingerprint(), "data": sprites.fingerprint()},
        metrics={
            **metrics,
            "train_seconds": history.seconds,
            "train_cpu_seconds": cpu_seconds,
            "threads": torch.get_num_threads(),
            "epochs": len(history.epochs),
        },
        extra={"history": history.to_dict(), "recipe": {**vars(args), "lecture_files": args.lecture_files}},
    )
    print(
        f"{len(history.epochs)} epoch(s) in {history.seconds:.0f} s; last epoch's training loss "
        f"{train_bpp:.3f} bits/pixel; wrote {args.out}"
    )
    return test_bpp


def _train_cli(name: str, argv: Sequence[str]) -> int:
    """`train pixelrnn` / `train pixelrnn_above`: read, train, save, print `test_bits_per_pixel X` last."""
    from lecturekit.data import DataFormatError

    args = _parse_args(name, argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        sprites, train, test = _cli_sprites(args.lecture_files)
    except (DataFormatError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.minutes is not None and args.minutes <= 0:
        print("error: --minutes must be positive.", file=sys.stderr)
        return 2
    config, course = _cli_config(name, args)
    print(
        f"training {name} on {len(train)} sprites ({sprites.n_colors} colours), holding out {len(test)}; "
        f"epochs={config.epochs}, minutes={args.minutes}",
        flush=True,
    )
    cpu_start = time.process_time()
    model, history = train_pixelrnn(
        train.indices,
        sprites.n_colors,
        test=test.indices,
        minutes=args.minutes,
        progress_bar=not args.no_progress,
        **config.train_args(),
        **course,
    )
    test_bpp = _save_cli_checkpoint(args, model, history, sprites, test, time.process_time() - cpu_start)
    print(f"test_bits_per_pixel {test_bpp:.3f}")
    return 0


def train_main(argv: Sequence[str]) -> int:
    """`python -m lecturekit train pixelrnn [--lecture-files PIXELS COLORMAP] [--minutes M] [--out CKPT]`."""
    return _train_cli("pixelrnn", argv)


def train_above_main(argv: Sequence[str]) -> int:
    """`python -m lecturekit train pixelrnn_above ...`: the LSTM that also sees the row above."""
    return _train_cli("pixelrnn_above", argv)
