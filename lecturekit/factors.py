"""Reading a code against the truth: which generator factor does each code dimension follow?

The kit draws its own creatures, so every sprite comes with the factors it was drawn from
(`lecturekit.data.load_sprite_factors`). The VAE never sees them. Here we measure, over the data
set, how much of each code dimension's variation each factor explains (R², the share of variance
of a least-squares fit of the dimension on the factor), so that a reading of the latent grid
("this axis changes the body type") can be checked with a number instead of taken on trust.
"""

from __future__ import annotations

import numpy as np

#: a dimension "follows" a factor when the factor explains at least this share of its variance
#: and clearly more than any other factor (see `read_dimensions`)
CLEAR_R2 = 0.5


def factor_features(values: np.ndarray) -> np.ndarray:
    """The columns a linear fit may use for one factor.

    Categories (body type) become one-hot columns, so the fit can give each type its own mean code
    (R² is then the correlation ratio, eta²); a hue is an angle, so it becomes (cos, sin) and red at
    0.01 counts as close to red at 0.99; numbers and booleans are one column.
    """
    values = np.asarray(values)
    if values.dtype.kind in "USO":
        cats = sorted(set(values.tolist()))
        return np.stack([(values == c).astype(np.float64) for c in cats], axis=1)
    return values.astype(np.float64).reshape(len(values), -1)


def _hue_features(hue: np.ndarray) -> np.ndarray:
    angle = 2 * np.pi * np.asarray(hue, dtype=np.float64)
    return np.stack([np.cos(angle), np.sin(angle)], axis=1)


def explained_variance(codes: np.ndarray, factors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """R² of every code dimension (columns of `codes`, (N, D)) explained by each factor: {name: (D,)}.

    0 means the factor tells nothing about the dimension; 1 means the dimension is a function of
    the factor (linear in its features). One factor at a time, with an intercept.
    """
    z = np.asarray(codes, dtype=np.float64)
    z = z - z.mean(0)
    total = (z**2).sum(0)
    out: dict[str, np.ndarray] = {}
    for name, values in factors.items():
        x = _hue_features(values) if name == "hue" else factor_features(values)
        x = np.concatenate([np.ones((len(x), 1)), x], axis=1)
        coef, *_ = np.linalg.lstsq(x, z, rcond=None)
        resid = z - x @ coef
        out[name] = np.clip(1.0 - (resid**2).sum(0) / np.maximum(total, 1e-12), 0.0, 1.0)
    return out


def read_dimensions(r2: dict[str, np.ndarray], clear: float = CLEAR_R2) -> list[dict]:
    """For every dimension: the factor that explains it best, its R², the runner-up, and a verdict.

    `clean` is True only when the best factor explains at least `clear` of the variance and at least
    twice the runner-up: then the dimension can honestly be named after one factor.
    """
    names = list(r2)
    table = np.stack([r2[n] for n in names])  # (factors, D)
    rows = []
    for d in range(table.shape[1]):
        order = np.argsort(-table[:, d])
        best, second = names[order[0]], names[order[1]]
        b, s = float(table[order[0], d]), float(table[order[1], d])
        rows.append(
            {
                "dim": d,
                "factor": best,
                "r2": b,
                "runner_up": second,
                "runner_up_r2": s,
                "clean": b >= clear and b >= 2 * s,
            }
        )
    return rows


def check_reading(reading: dict[str, list[int]], r2: dict[str, np.ndarray]) -> list[str]:
    """Confirm or correct a student's reading {factor: [dimensions]} against the measured R².

    A named dimension is confirmed when the named factor explains more of it than any other factor;
    otherwise the answer says which factor does, and how much of the dimension each explains.
    Returns the sentences (the notebook prints them).
    """
    from lecturekit.i18n import _

    lines = []
    for factor, dims in reading.items():
        if factor not in r2:
            lines.append(
                _("{factor} is not one of the factors: {names}").format(factor=repr(factor), names=", ".join(r2))
            )
            continue
        for d in dims:
            d = int(d)
            best = max(r2, key=lambda name: r2[name][d])
            mine = f"{float(r2[factor][d]):.0%}"
            if best == factor:
                lines.append(
                    _(
                        "z[{dim}] follows {factor}: confirmed ({factor} explains {share} of it, "
                        "more than any other factor)"
                    ).format(dim=d, factor=_(factor), share=mine)
                )
            else:
                lines.append(
                    _(
                        "z[{dim}] and {factor}: corrected: {factor} explains {share} of z[{dim}], "
                        "{best} explains {best_share}"
                    ).format(dim=d, factor=_(factor), share=mine, best=_(best), best_share=f"{float(r2[best][d]):.0%}")
                )
    if not lines:
        lines.append(_("You named no dimension yet: write your reading in `my_reading` and run again."))
    return lines


def image_hue(rgb: np.ndarray) -> np.ndarray:
    """The main hue (0..1) of each RGB sprite (N, H, W, 3): the circular mean of its pixels' hues,
    weighted by saturation, so white background, grey outlines and highlights hardly count.

    Used to read a decoded grid: a factor the generator knows for real sprites (hue), measured on
    pictures that have no factors (decodes)."""
    x = np.asarray(rgb, dtype=np.float64).reshape(len(rgb), -1, 3) / 255.0
    mx, mn = x.max(-1), x.min(-1)
    chroma = mx - mn
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    safe = np.where(chroma > 0, chroma, 1.0)
    h = np.where(mx == r, ((g - b) / safe) % 6, np.where(mx == g, (b - r) / safe + 2, (r - g) / safe + 4)) / 6.0
    w = np.where(chroma > 0, chroma / np.maximum(mx, 1e-9), 0.0)
    angle = 2 * np.pi * h
    c, s = (w * np.cos(angle)).sum(1), (w * np.sin(angle)).sum(1)
    return (np.arctan2(s, c) / (2 * np.pi)) % 1.0


def hue_difference(rgb_a: np.ndarray, rgb_b: np.ndarray) -> np.ndarray:
    """For each pair of RGB sprites (two (N, H, W, 3) arrays), the angle in degrees (0..180) between their main
    hues (`image_hue`): how far a reconstruction's colour turned from the original's."""
    turn = (image_hue(rgb_a) - image_hue(rgb_b)) % 1.0
    return np.minimum(turn, 1.0 - turn) * 360.0
