"""Exercises of notebook 02 (colour quantization): saturation, 1-of-N encoding, nearest palette colour, and
merging rare colours into a smaller palette (`merge_rare_colors`, the substantial one). Each compare names
the typical mistakes."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lecturekit.exercises import Args, Exercise, Mistake, compare_values, named_mistake, register, to_numpy
from lecturekit.i18n import N_, _
from lecturekit.palette import merge_rare_colors


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


def reference_merge_rare_colors(
    indices: np.ndarray, palette: np.ndarray, min_count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fold every colour used fewer than `min_count` times into its nearest frequent colour: the package's
    `palette.merge_rare_colors`, which made the kit's palette (notebook 02 replays it)."""
    return merge_rare_colors(indices, palette, min_count)


# ----------------------------------------------------------------------------- cases
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
        n = int(torch.randint(5, 50, (1,), generator=g))
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


def _merge_cases(seed: int) -> list[Args]:
    """Sprites as palette indices with a few frequent colours, rare ones, one used exactly `min_count` times,
    rare colours nearer to each other than to any frequent one, and (in some cases) a rare white."""
    rng = np.random.default_rng(seed)
    cases: list[Args] = []
    for k, rare_white in ((8, False), (13, True), (int(rng.integers(9, 20)), bool(seed % 2))):
        palette = _merge_palette(rng, k)
        counts = rng.integers(30, 90, size=k)
        rare = rng.choice(np.arange(1, k), size=k // 3, replace=False)
        counts[rare] = rng.integers(1, 12, size=len(rare))
        min_count = 12
        counts[rng.choice(np.setdiff1d(np.arange(1, k), rare))] = min_count  # exactly at the threshold: kept
        counts[0] = 5 if rare_white else 120
        flat = rng.permutation(np.repeat(np.arange(k), counts))
        side = int(np.ceil(np.sqrt(len(flat) / 2)))
        flat = np.concatenate([flat, np.zeros(2 * side * side - len(flat), dtype=flat.dtype)])
        if rare_white:  # the padding above is white: keep white rare by padding with the commonest colour
            flat[len(flat) - (2 * side * side - counts.sum()) :] = int(np.argmax(counts))
        cases.append((flat.reshape(2, side, side).astype(np.int64), palette, min_count))
    return cases


def _merge_palette(rng: np.random.Generator, k: int) -> np.ndarray:
    """White first, then distinct colours, with pairs of near neighbours (a rare colour's nearest colour may
    be another rare one) and channels near 0 and 255 (where uint8 differences wrap around)."""
    colours = {(255, 255, 255)}
    while len(colours) < k:
        base = rng.integers(0, 256, size=3)
        base[rng.integers(0, 3)] = rng.choice([3, 250])
        colours.add(tuple(int(v) for v in base))
        if len(colours) < k:
            colours.add(tuple(int(v) for v in np.clip(base + rng.integers(-25, 26, size=3), 0, 255)))
    rest = sorted(colours - {(255, 255, 255)})
    rng.shuffle(rest)
    return np.array([(255, 255, 255), *rest], dtype=np.uint8)


# ----------------------------------------------------------------------------- compares (naming the mistakes)
def _compare_saturation(got: Any, want: Any, args: Args) -> str | None:
    arr = to_numpy(got)
    if isinstance(arr, np.ndarray) and arr.dtype.kind == "f" and np.isnan(arr).any():
        return Mistake(_("your result has NaN: a black pixel (max = 0) must get saturation 0, not 0/0"))
    problem = compare_values(got, want)
    if problem is None:
        return None
    (rgb,) = args
    hi, lo = rgb.max(dim=-1).values, rgb.min(dim=-1).values
    known = [
        (lambda: hi - lo, N_("that is max - min: divide it by max")),
        (lambda: -want, N_("the sign is flipped: saturation is (max - min) / max, between 0 and 1")),
        (
            lambda: torch.where(hi + lo > 0, (hi - lo) / (hi + lo).clamp_min(1e-12), 0.0),
            N_("you divided by max + min: HSV saturation divides by max"),
        ),
    ]
    return named_mistake(got, known) or problem


def _compare_one_hot(got: Any, want: Any, args: Args) -> str | None:
    problem = compare_values(got, want)
    if problem is None:
        return None
    indices, n_colors = args
    arr = to_numpy(got)
    if isinstance(arr, np.ndarray) and arr.shape == (n_colors, *indices.shape) and indices.ndim:
        return Mistake(_("the colour axis must come last: (..., n_colors)"))
    return problem


def _compare_nearest(got: Any, want: Any, args: Args) -> str | None:
    problem = compare_values(got, want)
    if problem is None:
        return None
    pixels, palette = args
    arr = to_numpy(got)
    if isinstance(arr, np.ndarray) and arr.shape == (len(palette),) != (len(pixels),):
        return Mistake(_("one index per pixel: take the argmin over the colours (dim=1), not over the pixels"))
    diff = pixels[:, None, :] - palette[None, :, :]
    known = [
        (lambda: (diff**2).sum(-1).argmax(dim=1), N_("you picked the farthest colour: argmin, not argmax")),
        (
            lambda: diff.abs().sum(-1).argmin(dim=1),
            N_("that is the sum of absolute differences: use the Euclidean (squared) distance"),
        ),
        (lambda: (diff**2).sum(-1).min(dim=1).values, N_("return the index of the nearest colour, not its distance")),
        (
            lambda: (pixels.sum(-1)[:, None] - palette.sum(-1)[None]).abs().argmin(dim=1),
            N_("you compared brightness (R + G + B) only: compare all three channels"),
        ),
    ]
    return named_mistake(got, known) or problem


def _wrong_merge(indices: np.ndarray, palette: np.ndarray, min_count: int, mistake: str) -> tuple[Any, Any]:
    """What a merge with one typical mistake returns (for naming it; withheld in grading kernels)."""
    counts = np.bincount(indices.ravel(), minlength=len(palette))
    frequent = counts > min_count if mistake == "threshold" else counts >= min_count
    if mistake != "white":
        frequent[0] = True
    keep = np.nonzero(frequent)[0]
    if mistake == "order":
        keep = keep[np.argsort(-counts[keep], kind="stable")]
    pal = palette if mistake == "uint8" else palette.astype(np.float64)
    among = np.arange(len(palette)) if mistake == "nearest of all" else keep
    distances = ((pal[:, None, :] - pal[None, among, :]) ** 2).sum(-1)
    if mistake == "nearest of all":
        distances[np.arange(len(palette)), np.arange(len(palette))] = np.inf
        distances[keep, keep] = -1
    target = among[np.argmin(distances, axis=1)]
    position = np.full(len(palette), -1)
    position[keep] = np.arange(len(keep))
    if mistake == "not renumbered":
        return target[indices], palette[keep]
    return position[target][indices], palette[keep]


def _compare_merge(got: Any, want: Any, args: Args) -> str | None:
    problem = compare_values(got, want)
    if problem is None:
        return None
    indices, palette, min_count = args
    arr = to_numpy(got)
    if isinstance(arr, tuple) and len(arr) == 2 and getattr(arr[1], "shape", None) == palette.shape:
        return Mistake(_("the palette must lose the rare colours: return the palette of the kept colours only"))

    def wrong(mistake: str) -> Any:
        return lambda: _wrong_merge(indices, palette, min_count, mistake)

    known = [
        (wrong("white"), N_("white (index 0) is the background: it stays, however few pixels use it")),
        (wrong("threshold"), N_("a colour used exactly min_count times is frequent: rare means fewer than min_count")),
        (wrong("uint8"), N_("uint8 differences wrap around (3 - 250 = 9): compute the distances in floats")),
        (wrong("nearest of all"), N_("a rare colour must go to its nearest FREQUENT colour, not to another rare one")),
        (wrong("not renumbered"), N_("renumber the pixels: new index = the kept colour's position in the new palette")),
        (wrong("order"), N_("keep the kept colours in their old order (white stays 0)")),
    ]
    return named_mistake(got, known) or problem


# ----------------------------------------------------------------------------- the exercises
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
        compare=_compare_one_hot,
        hint=N_("torch.nn.functional.one_hot(indices, n_colors) and .float(); the new axis goes last."),
    )
)

register(
    Exercise(
        name="nb02.nearest_palette_index",
        function="nearest_palette_index",
        reference=nearest_palette_index,
        cases=_nearest_cases,
        compare=_compare_nearest,
        hint=N_(
            "squared distances of every pixel to every colour: ((pixels[:, None, :] - palette[None]) ** 2).sum(-1), "
            "shape (N, K); then argmin over the colours (dim=1)."
        ),
    )
)

register(
    Exercise(
        name="nb02.merge_rare_colors",
        function="merge_rare_colors",
        reference=reference_merge_rare_colors,
        twins=(merge_rare_colors, _wrong_merge),
        cases=_merge_cases,
        compare=_compare_merge,
        hint=N_(
            "counts = np.bincount(indices.ravel(), minlength=len(palette)); keep = the colours with counts >= "
            "min_count, and white (index 0) always; for every colour, the nearest kept colour (squared distances "
            "in floats, argmin); new index of a pixel = the position of its target among the kept colours; "
            "return (new indices, palette[keep])."
        ),
    )
)
