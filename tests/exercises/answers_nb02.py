"""Wrong and right answers to notebook 02's exercises (see answer_kit.py)."""

from answer_kit import Mutant


def _merge(keep_line: str = "    frequent[0] = True\n", dist: str = "palette.astype(float)", tail: str = "") -> str:
    """A merge_rare_colors answer, with one of its lines changed."""
    return (
        "def merge_rare_colors(indices, palette, min_count):\n"
        "    counts = np.bincount(indices.ravel(), minlength=len(palette))\n"
        "    frequent = counts >= min_count\n" + keep_line + "    keep = np.flatnonzero(frequent)\n"
        f"    pal = {dist}\n"
        "    d = ((pal[:, None, :] - pal[None, keep, :]) ** 2).sum(-1)\n"
        "    nearest = d.argmin(axis=1)\n" + (tail or "    return nearest[indices], palette[keep]\n")
    )


MUTANTS = {
    "nb02.pixel_saturation": [
        Mutant(
            "no guard for black (0 / 0)",
            "def pixel_saturation(rgb):\n"
            "    hi, lo = rgb.max(dim=-1).values, rgb.min(dim=-1).values\n"
            "    return (hi - lo) / hi",
            ("NaN",),
        ),
        Mutant(
            "max - min, not divided",
            "def pixel_saturation(rgb):\n    return rgb.max(dim=-1).values - rgb.min(dim=-1).values",
            ("divide it by max",),
        ),
        Mutant(
            "min - max (the sign)",
            "def pixel_saturation(rgb):\n"
            "    hi, lo = rgb.max(dim=-1).values, rgb.min(dim=-1).values\n"
            "    return torch.where(hi > 0, (lo - hi) / hi.clamp_min(1e-12), torch.zeros_like(hi))",
            ("sign",),
        ),
        Mutant(
            "divided by max + min (HSL-like)",
            "def pixel_saturation(rgb):\n"
            "    hi, lo = rgb.max(dim=-1).values, rgb.min(dim=-1).values\n"
            "    return torch.where(hi + lo > 0, (hi - lo) / (hi + lo).clamp_min(1e-12), torch.zeros_like(hi))",
            ("max + min",),
        ),
    ],
    "nb02.one_hot": [
        Mutant(
            "integers, not floats",
            "def one_hot(indices, n_colors):\n    return F.one_hot(indices, n_colors)",
            ("floating-point",),
        ),
        Mutant(
            "booleans",
            "def one_hot(indices, n_colors):\n    return indices[..., None] == torch.arange(n_colors)",
            ("floating-point",),
        ),
        Mutant(
            "one column too many",
            "def one_hot(indices, n_colors):\n    return F.one_hot(indices, n_colors + 1).float()",
            ("shape",),
        ),
        Mutant(
            "the colour axis first",
            "def one_hot(indices, n_colors):\n    return F.one_hot(indices, n_colors).float().movedim(-1, 0)",
            ("must come last",),
        ),
    ],
    "nb02.nearest_palette_index": [
        Mutant(
            "argmax",
            "def nearest_palette_index(pixels, palette):\n"
            "    return ((pixels[:, None] - palette[None]) ** 2).sum(-1).argmax(dim=1)",
            ("farthest",),
        ),
        Mutant(
            "sum of absolute differences",
            "def nearest_palette_index(pixels, palette):\n"
            "    return (pixels[:, None] - palette[None]).abs().sum(-1).argmin(dim=1)",
            ("absolute differences",),
        ),
        Mutant(
            "the distance, not the index",
            "def nearest_palette_index(pixels, palette):\n"
            "    return ((pixels[:, None] - palette[None]) ** 2).sum(-1).min(dim=1).values",
            ("not its distance",),
        ),
        Mutant(
            "brightness only",
            "def nearest_palette_index(pixels, palette):\n"
            "    return (pixels.sum(-1)[:, None] - palette.sum(-1)[None]).abs().argmin(dim=1)",
            ("brightness",),
        ),
        Mutant(
            "argmin over the pixels",
            "def nearest_palette_index(pixels, palette):\n"
            "    return ((pixels[:, None] - palette[None]) ** 2).sum(-1).argmin(dim=0)",
            ("over the pixels",),
        ),
    ],
    "nb02.merge_rare_colors": [
        Mutant(
            "white merged away when rare",
            _merge(keep_line=""),
            ("background",),
        ),
        Mutant(
            "> instead of >= (a colour used exactly min_count times merged)",
            _merge().replace("counts >= min_count", "counts > min_count"),
            ("exactly min_count",),
        ),
        Mutant(
            "distances in uint8 (they wrap around)",
            _merge(dist="palette"),
            ("wrap around",),
        ),
        Mutant(
            "the old palette returned",
            _merge(tail="    return nearest[indices], palette\n"),
            ("lose the rare colours",),
        ),
        Mutant(
            "pixels keep their old indices",
            _merge(tail="    return keep[nearest][indices], palette[keep]\n"),
            ("renumber",),
        ),
        Mutant(
            "kept colours sorted by use",
            "def merge_rare_colors(indices, palette, min_count):\n"
            "    counts = np.bincount(indices.ravel(), minlength=len(palette))\n"
            "    frequent = counts >= min_count\n"
            "    frequent[0] = True\n"
            "    keep = np.flatnonzero(frequent)\n"
            "    keep = keep[np.argsort(-counts[keep], kind='stable')]\n"
            "    pal = palette.astype(float)\n"
            "    nearest = ((pal[:, None, :] - pal[None, keep, :]) ** 2).sum(-1).argmin(axis=1)\n"
            "    return nearest[indices], palette[keep]\n",
            ("old order",),
        ),
    ],
}

ALTERNATIVES = {
    "nb02.pixel_saturation": [
        "def pixel_saturation(rgb):\n"
        "    hi, lo = rgb.amax(-1), rgb.amin(-1)\n"
        "    out = torch.zeros_like(hi)\n"
        "    out[hi > 0] = ((hi - lo) / hi)[hi > 0]\n"
        "    return out",
        "def pixel_saturation(rgb):\n"
        "    hi, lo = rgb.max(-1).values, rgb.min(-1).values\n"
        "    return torch.nan_to_num((hi - lo) / hi, nan=0.0)",
    ],
    "nb02.one_hot": [
        "def one_hot(indices, n_colors):\n    return torch.eye(n_colors)[indices]",
        "def one_hot(indices, n_colors):\n"
        "    return (indices.unsqueeze(-1) == torch.arange(n_colors)).to(torch.float32)",
    ],
    "nb02.nearest_palette_index": [
        "def nearest_palette_index(pixels, palette):\n    return torch.cdist(pixels, palette).argmin(dim=1)",
        "def nearest_palette_index(pixels, palette):\n"
        "    return torch.stack([((palette - p) ** 2).sum(1).argmin() for p in pixels])",
    ],
    "nb02.merge_rare_colors": [
        _merge(),
        "def merge_rare_colors(indices, palette, min_count):\n"
        "    counts = np.bincount(indices.ravel(), minlength=len(palette))\n"
        "    keep = [k for k in range(len(palette)) if k == 0 or counts[k] >= min_count]\n"
        "    new_index = {}\n"
        "    for k in range(len(palette)):\n"
        "        d = [np.sum((palette[k].astype(int) - palette[j].astype(int)) ** 2) for j in keep]\n"
        "        new_index[k] = int(np.argmin(d))\n"
        "    lookup = np.array([new_index[k] for k in range(len(palette))])\n"
        "    return lookup[indices], palette[keep]",
    ],
}
