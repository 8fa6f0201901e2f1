"""Pieces that several model families share, written once: the check of sprite input and the
reparameterization of a Gaussian code (the VAE of notebook 04, the sentence VAE of notebook 06 and
the exercise's reference all sample their codes with the same function)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lecturekit.units import SPRITE_SIZE

__all__ = ["SpriteInput", "reparameterize"]


def reparameterize(
    mean: torch.Tensor, log_var: torch.Tensor, eps: torch.Tensor | None = None, generator: torch.Generator | None = None
) -> torch.Tensor:
    """c = mean + exp(log_var / 2) * eps, eps ~ N(0, I): a sample that gradients flow through.

    Without `eps` the noise is drawn here (from `generator`, else torch's global generator)."""
    if eps is None:
        eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return mean + torch.exp(0.5 * log_var) * eps


class SpriteInput:
    """For models that read sprites as palette indices: one input check, so every model refuses floats,
    wrong shapes and foreign palettes with the same words. The model sets `n_colors` (and `height`,
    `width` when it does not draw the kit's 20x20 sprites)."""

    n_colors: int
    height: int = SPRITE_SIZE
    width: int = SPRITE_SIZE

    def check_sprites(self, pixels: Any, what: str = "pixels") -> torch.Tensor:
        """(N, H, W), (N, H*W) or one (H, W) sprite of colour indices -> a long tensor (N, H, W) on the
        model's device, checked."""
        t = torch.as_tensor(np.asarray(pixels) if not isinstance(pixels, torch.Tensor) else pixels)
        if t.is_floating_point():
            raise ValueError(
                f"{what} must be integer colour indices (0..{self.n_colors - 1}), got floats: "
                "pass sprites.indices, not RGB values."
            )
        n_pixels = self.height * self.width
        if t.ndim == 2 and t.shape[-1] != n_pixels and t.shape == (self.height, self.width):
            t = t[None]
        if t.ndim == 2 and t.shape[-1] == n_pixels:
            t = t.reshape(t.shape[0], self.height, self.width)
        if t.ndim == 3:
            if tuple(t.shape[1:]) != (self.height, self.width):
                raise ValueError(
                    f"{what} have shape {tuple(t.shape)}, but this model draws "
                    f"{self.height}x{self.width} images: pass (N, {self.height}, {self.width})."
                )
        else:
            raise ValueError(
                f"{what} must be (N, {self.height}, {self.width}) colour indices, got shape {tuple(t.shape)}."
            )
        lo, hi = (int(t.min()), int(t.max())) if t.numel() else (0, 0)
        if lo < 0 or hi >= self.n_colors:
            raise ValueError(
                f"{what} hold colour index {hi if hi >= self.n_colors else lo}"
                f" but this model knows {self.n_colors} colours (0..{self.n_colors - 1}): "
                "was it trained on another palette?"
            )
        return t.long().to(self._input_device())

    def _input_device(self) -> torch.device:
        """Where the checked sprites go: the device of the model's weights."""
        return next(self.parameters()).device  # type: ignore[attr-defined]
