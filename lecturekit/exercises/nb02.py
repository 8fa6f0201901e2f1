"""Exercises of notebook 02 (colour quantization): saturation, 1-of-N encoding, nearest palette colour."""

from __future__ import annotations

import torch

from lecturekit.exercises import Args, Exercise, register
from lecturekit.i18n import N_, _


def pixel_saturation(rgb: torch.Tensor) -> torch.Tensor:
    """HSV saturation (max - min) / max of each pixel of an (..., 3) float tensor in 0..1; 0 where max is 0."""
    hi = rgb.max(dim=-1).values
    lo = rgb.min(dim=-1).values
    return torch.where(hi > 0, (hi - lo) / hi.clamp_min(1e-12), torch.zeros_like(hi))


def one_hot(indices: torch.Tensor, n_colors: int) -> torch.Tensor:
    """1-of-N encoding: (...) colour indices -> (..., n_colors) floats, 1 at the pixel's colour, 0 elsewhere."""
    return torch.nn.functional.one_hot(indices, n_colors).to(torch.float32)


def nearest_palette_index(pixels: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """The index of the palette colour nearest (Euclidean RGB distance) to each pixel: (N, 3), (K, 3) -> (N,)."""
    d = ((pixels[:, None, :] - palette[None, :, :]) ** 2).sum(dim=-1)
    return d.argmin(dim=1)


def _saturation_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed)
    shapes = [(7, 3), (2, 4, 4, 3), (int(torch.randint(1, 30, (1,), generator=g)), 3)]
    cases: list[Args] = [(torch.rand(*s, generator=g),) for s in shapes]
    special = torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.5, 0.5, 0.5], [1.0, 0.0, 0.0], [0.2, 0.1, 0.0]])
    cases.append((special[torch.randperm(5, generator=g)],))  # black must give 0, not NaN
    return cases


def _one_hot_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed)
    cases: list[Args] = []
    for shape in [(6,), (2, 3, 3), (int(torch.randint(1, 9, (1,), generator=g)), 4)]:
        k = int(torch.randint(2, 20, (1,), generator=g))
        cases.append((torch.randint(0, k, shape, generator=g), k))
    return cases


def _nearest_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed)
    cases: list[Args] = []
    for _i in range(3):
        n = int(torch.randint(1, 50, (1,), generator=g))
        k = int(torch.randint(2, 30, (1,), generator=g))
        palette = torch.rand(k, 3, generator=g, dtype=torch.float64) * 255
        pixels = torch.rand(n, 3, generator=g, dtype=torch.float64) * 255
        cases.append((pixels, palette))
    # a pixel nearest to a colour that is not the one with the closest brightness or red value
    palette = torch.tensor(
        [[255.0, 255.0, 255.0], [200.0, 30.0, 30.0], [30.0, 30.0, 200.0], [128.0, 128.0, 128.0]], dtype=torch.float64
    )
    pixels = torch.tensor(
        [[40.0, 40.0, 180.0], [190.0, 60.0, 20.0], [250.0, 240.0, 250.0], [120.0, 140.0, 130.0]], dtype=torch.float64
    )
    cases.append((pixels, palette))
    return cases


def _compare_saturation(got: object, want: torch.Tensor, args: Args) -> str | None:
    import numpy as np

    from lecturekit.exercises import compare_values, to_numpy

    arr = to_numpy(got)
    if isinstance(arr, np.ndarray) and arr.dtype.kind == "f" and np.isnan(arr).any():
        return _("your result has NaN: a black pixel (max = 0) must get saturation 0, not 0/0")
    return compare_values(got, want)


register(
    Exercise(
        name="nb02.pixel_saturation",
        function="pixel_saturation",
        reference=pixel_saturation,
        cases=_saturation_cases,
        compare=_compare_saturation,
        hint=N_(
            "hi = rgb.max(dim=-1).values, lo = rgb.min(dim=-1).values; saturation = (hi - lo) / hi, and 0 where "
            "hi == 0 (torch.where, with hi.clamp_min(1e-12) in the division so that nothing divides by zero)."
        ),
    )
)

register(
    Exercise(
        name="nb02.one_hot",
        function="one_hot",
        reference=one_hot,
        cases=_one_hot_cases,
        hint=N_("torch.nn.functional.one_hot(indices, n_colors) and .float(); the new axis goes last."),
    )
)

register(
    Exercise(
        name="nb02.nearest_palette_index",
        function="nearest_palette_index",
        reference=nearest_palette_index,
        cases=_nearest_cases,
        hint=N_(
            "squared distances of every pixel to every colour: ((pixels[:, None, :] - palette[None]) ** 2).sum(-1), "
            "shape (N, K); then argmin over the colours (dim=1)."
        ),
    )
)
