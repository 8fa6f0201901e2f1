"""The kit's sizes and units, defined once: how big a sprite is and how nats become bits.

A sprite is SPRITE_SIZE x SPRITE_SIZE pixels (the lecture's file format); `lecturekit.sprites` draws
each creature on a CANVAS_SIZE x CANVAS_SIZE canvas first and crops it. Likelihoods are computed in
nats (natural log) and reported in bits (log2), per pixel, so that every model of the course is on
notebook 03's scale.
"""

from __future__ import annotations

import math
from typing import TypeVar

__all__ = ["CANVAS_SIZE", "LN2", "SPRITE_PIXELS", "SPRITE_SIZE", "nats_per_sprite_to_bits_per_pixel", "nats_to_bits"]

SPRITE_SIZE = 20  # pixels per side of a sprite (the lecture's 20x20 format)
SPRITE_PIXELS = SPRITE_SIZE * SPRITE_SIZE
CANVAS_SIZE = 40  # pixels per side of the canvas a creature is drawn on before it is cropped to a sprite
LN2 = math.log(2.0)  # nats in one bit

Number = TypeVar("Number")  # a float or a tensor: the conversions are plain arithmetic


def nats_to_bits(nats: Number) -> Number:
    """A negative log-likelihood in nats, in bits (per pixel in, per pixel out): divide by ln 2."""
    return nats / LN2  # type: ignore[operator]


def nats_per_sprite_to_bits_per_pixel(nats_per_sprite: Number, pixels: int = SPRITE_PIXELS) -> Number:
    """A negative log-likelihood of a whole sprite in nats, as bits per pixel (notebook 03's unit)."""
    return nats_per_sprite / (pixels * LN2)  # type: ignore[operator]
