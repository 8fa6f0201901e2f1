"""A procedural generator of little creature sprites (license-clean stand-ins for game sprites).

Each creature is drawn on a 40x40 white canvas, like the lecture's sprites, at a scale where the
kit's 20x20 centre crop keeps it: body, head, eyes with a highlight, limbs / wings / tails /
ears / horns / spikes, a dark outline, shading (darker bottom-right, lighter top-left) and a little
per-pixel noise, so that the RGB set holds thousands of colours and k-means has real work to do.
Everything is drawn from `numpy.random.default_rng(seed)`: the same seed gives the same bytes.
"""

from __future__ import annotations

import numpy as np

from lecturekit.i18n import N_
from lecturekit.units import CANVAS_SIZE, SPRITE_SIZE

_AX = (CANVAS_SIZE - 1) / 2  # the mirror axis (x = 19.5)
_Y, _X = np.mgrid[0:CANVAS_SIZE, 0:CANVAS_SIZE].astype(np.float64)
_WHITE = np.array([255, 255, 255], dtype=np.uint8)

BODY_TYPES = ("blob", "biped", "quadruped", "bird", "fish", "serpent", "bug", "ghost", "mushroom", "bat")
_TYPE_WEIGHTS = np.array([14, 13, 12, 11, 8, 8, 10, 8, 8, 8], dtype=np.float64)


# ----------------------------------------------------------------------------- shapes
def _ellipse(cx: float, cy: float, rx: float, ry: float, angle: float = 0.0, p: float = 2.0) -> np.ndarray:
    dx, dy = _X - cx, _Y - cy
    if angle:
        ca, sa = np.cos(angle), np.sin(angle)
        dx, dy = dx * ca + dy * sa, -dx * sa + dy * ca
    return np.abs(dx / rx) ** p + np.abs(dy / ry) ** p <= 1.0


def _capsule(x0: float, y0: float, x1: float, y1: float, r: float) -> np.ndarray:
    vx, vy = x1 - x0, y1 - y0
    t = np.clip(((_X - x0) * vx + (_Y - y0) * vy) / max(vx * vx + vy * vy, 1e-9), 0.0, 1.0)
    return (_X - (x0 + t * vx)) ** 2 + (_Y - (y0 + t * vy)) ** 2 <= r * r


def _polygon(points: list[tuple[float, float]]) -> np.ndarray:
    inside = np.zeros((CANVAS_SIZE, CANVAS_SIZE), dtype=bool)
    n = len(points)
    for i in range(n):
        xi, yi = points[i]
        xj, yj = points[(i + 1) % n]
        if yi == yj:
            continue
        crosses = (yi > _Y) != (yj > _Y)
        xcross = (xj - xi) * (_Y - yi) / (yj - yi) + xi
        inside ^= crosses & (_X < xcross)
    return inside


def _line(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """A one-pixel line (for antennae, thin legs, whiskers)."""
    mask = np.zeros((CANVAS_SIZE, CANVAS_SIZE), dtype=bool)
    n = int(max(abs(x1 - x0), abs(y1 - y0)) * 2) + 2
    xs = np.clip(np.round(np.linspace(x0, x1, n)).astype(int), 0, CANVAS_SIZE - 1)
    ys = np.clip(np.round(np.linspace(y0, y1, n)).astype(int), 0, CANVAS_SIZE - 1)
    mask[ys, xs] = True
    return mask


def _mirror(mask: np.ndarray) -> np.ndarray:
    return mask[:, ::-1]


# ----------------------------------------------------------------------------- colour
def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    h = np.mod(h, 1.0) * 6.0
    s = np.clip(s, 0.0, 1.0)
    v = np.clip(v, 0.0, 1.0)
    i = np.floor(h).astype(int) % 6
    f = h - np.floor(h)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    r = np.choose(i, [v, q, p, p, t, v])
    g = np.choose(i, [t, v, v, q, p, p])
    b = np.choose(i, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=-1)


def _hue_toward(h: np.ndarray | float, target: float, amount: np.ndarray | float) -> np.ndarray:
    d = (target - h + 0.5) % 1.0 - 0.5
    return h + d * amount


class _Scheme:
    """The colour roles of one creature, as (h, s, v) triples."""

    def __init__(self, rng: np.random.Generator, kind: str) -> None:
        hue = rng.random()
        mood = rng.choice(["normal", "pastel", "vivid", "dark", "earthy"], p=[0.4, 0.2, 0.2, 0.08, 0.12])
        if kind == "serpent" and (mood == "earthy" or 0.03 < hue < 0.14):  # brown coils look like something else
            mood, hue = "vivid", float(rng.uniform(0.2, 0.95))
        hue, sat, val = _base_colour(rng, hue, mood)
        if kind == "ghost":
            sat, val = rng.uniform(0.08, 0.3), rng.uniform(0.88, 0.97)
        self.base = (hue, sat, val)
        self.accent = _accent_colour(rng, hue, sat, val)
        if mood == "dark":
            self.accent = (self.accent[0], max(self.accent[1], 0.6), max(self.accent[2], 0.85))
        self._parts(rng, hue, sat, val, mood)

    def _parts(self, rng: np.random.Generator, h: float, s: float, v: float, mood: str) -> None:
        """The colours of belly, horns, beak, limbs, wings, outline and face, from the base colour (h, s, v)."""
        self.belly = (
            (h + rng.uniform(-0.03, 0.03), s * rng.uniform(0.25, 0.5), min(0.98, v + rng.uniform(0.12, 0.3)))
            if rng.random() < 0.6
            else self.accent
        )
        horn = rng.choice(["ivory", "grey", "gold", "dark", "accent"])
        self.horn = {
            "ivory": (0.12, 0.15, 0.95),
            "grey": (0.6, 0.08, 0.75),
            "gold": (0.13, 0.7, 0.95),
            "dark": (h, 0.4, 0.35),
            "accent": self.accent,
        }[str(horn)]
        self.beak = (rng.uniform(0.07, 0.14), rng.uniform(0.75, 0.95), rng.uniform(0.9, 1.0))
        self.limb = (h + rng.uniform(-0.02, 0.02), min(1.0, s * 1.1), v * 0.85)
        self.wing = self.accent if rng.random() < 0.6 else (h + rng.uniform(-0.1, 0.1), s * 0.8, v * 0.8)
        out_v = rng.uniform(0.1, 0.28) if mood != "dark" else rng.uniform(0.06, 0.14)
        self.outline = (h + rng.uniform(-0.05, 0.05), rng.uniform(0.4, 0.75), out_v)
        self.pupil = (h, rng.uniform(0.3, 0.7), rng.uniform(0.08, 0.16))
        self.iris = (rng.random(), rng.uniform(0.6, 0.9), rng.uniform(0.55, 0.8))
        self.blush = (rng.uniform(0.93, 1.0), rng.uniform(0.3, 0.5), 1.0)
        self.mouth = (0.98, 0.65, rng.uniform(0.45, 0.7))
        self.glossy = rng.random() < 0.45


def _base_colour(rng: np.random.Generator, hue: float, mood: str) -> tuple[float, float, float]:
    """The body colour: a mood sets saturation and value (earthy also picks a brown hue)."""
    if mood == "pastel":
        return hue, rng.uniform(0.25, 0.45), rng.uniform(0.85, 0.97)
    if mood == "vivid":
        return hue, rng.uniform(0.7, 0.92), rng.uniform(0.8, 0.95)
    if mood == "dark":
        return hue, rng.uniform(0.3, 0.6), rng.uniform(0.38, 0.52)
    if mood == "earthy":
        hue = rng.uniform(0.03, 0.14)
        return hue, rng.uniform(0.4, 0.7), rng.uniform(0.5, 0.8)
    return hue, rng.uniform(0.45, 0.75), rng.uniform(0.65, 0.92)


def _accent_colour(rng: np.random.Generator, h: float, s: float, v: float) -> tuple[float, float, float]:
    """A second colour that goes with the body's (h, s, v): its complement, a neighbour, a triad, cream or a tint."""
    harmony = rng.choice(["complement", "analogous", "triad", "cream", "light"], p=[0.25, 0.25, 0.15, 0.2, 0.15])
    if harmony == "complement":
        return h + 0.5 + rng.uniform(-0.06, 0.06), rng.uniform(0.5, 0.85), rng.uniform(0.75, 0.95)
    if harmony == "analogous":
        return h + rng.choice([-1, 1]) * rng.uniform(0.07, 0.15), min(1.0, s + 0.15), min(1.0, v + 0.05)
    if harmony == "triad":
        return h + rng.choice([-1, 1]) / 3, rng.uniform(0.5, 0.8), rng.uniform(0.75, 0.95)
    if harmony == "cream":
        return rng.uniform(0.1, 0.15), rng.uniform(0.12, 0.3), rng.uniform(0.93, 0.99)
    return h, s * 0.4, min(1.0, v + 0.2) * 0.98


# ----------------------------------------------------------------------------- canvas
class _Canvas:
    """Parts drawn back to front; each is shaded as a lit 3-D blob, then outlined, then inked."""

    def __init__(self, rng: np.random.Generator, scheme: _Scheme) -> None:
        self.rng = rng
        self.scheme = scheme
        self.label = np.full((CANVAS_SIZE, CANVAS_SIZE), -1, dtype=int)
        self.parts: list[dict] = []
        self.ink: list[tuple[np.ndarray, tuple[float, float, float]]] = []
        self.eyes: list[tuple[int, int, str, tuple]] = []  # (x, y, what, colour) single pixels

    def add(
        self,
        mask: np.ndarray,
        role: str,
        geom: tuple | None = None,
        sep: bool = True,
        clip: np.ndarray | None = None,
        glossy: bool = False,
    ) -> np.ndarray:
        if clip is not None:
            mask = mask & clip
        if not mask.any():
            return mask
        if geom is None:
            ys, xs = np.nonzero(mask)
            geom = (
                (xs.min() + xs.max()) / 2,
                (ys.min() + ys.max()) / 2,
                max((xs.max() - xs.min() + 1) / 2, 1.0),
                max((ys.max() - ys.min() + 1) / 2, 1.0),
            )
        self.label[mask] = len(self.parts)
        self.parts.append({"role": role, "geom": geom, "sep": sep, "glossy": glossy})
        return mask

    def add_pair(self, mask: np.ndarray, role: str, sep: bool = True, clip: np.ndarray | None = None) -> None:
        self.add(mask, role, sep=sep, clip=clip)
        self.add(_mirror(mask), role, sep=sep, clip=None if clip is None else clip)

    def line(self, mask: np.ndarray, colour: tuple | None = None) -> None:
        self.ink.append((mask, colour if colour is not None else self.scheme.outline))

    def filled(self) -> np.ndarray:
        return self.label >= 0

    def render(self) -> np.ndarray:
        """The finished 40x40 RGB creature: shaded parts, seams, an outline, ink and eyes on white."""
        shade = self._shading()
        self._darken_seams(shade["level"])
        fill = self.label >= 0
        out = np.ones((CANVAS_SIZE, CANVAS_SIZE, 3))
        out[fill] = self._shaded_rgb(shade)[fill]
        edge = self._outline(fill, out)
        self._ink_and_eyes(out)
        return self._on_white(np.clip(np.round(out * 255), 0, 255).astype(np.uint8), fill | edge)

    def _shading(self) -> dict[str, np.ndarray]:
        """Per pixel: the part's base hue, saturation, value, and a light level (a lit 3-D blob: light
        from the upper left, shadow at the lower right, a specular spot on glossy parts)."""
        planes = {name: np.zeros((CANVAS_SIZE, CANVAS_SIZE)) for name in ("hue", "sat", "base_sat", "level", "slope")}
        planes["val"] = np.ones((CANVAS_SIZE, CANVAS_SIZE))
        for k, part in enumerate(self.parts):
            m = self.label == k
            if not m.any():
                continue
            hue, sat, val = getattr(self.scheme, part["role"])
            cx, cy, rx, ry = part["geom"]
            nx, ny = (_X[m] - cx) / rx, (_Y[m] - cy) / ry
            slope = 0.5 * nx + 0.75 * ny  # how far the pixel lies towards the shadow side
            level = np.zeros_like(slope)
            level[slope > 0.3] = 1.0
            level[(slope > 0.85) & (nx * nx + ny * ny > 0.45)] = 2.0
            level[(slope < -0.55) & (nx * nx + ny * ny > 0.15)] = -1.0
            if part["glossy"]:
                spot = ((nx + 0.4) / 0.28) ** 2 + ((ny + 0.45) / 0.22) ** 2 <= 1.0
                level[spot] = -2.0
            planes["level"][m] = level
            planes["slope"][m] = slope
            planes["hue"][m], planes["sat"][m], planes["val"][m], planes["base_sat"][m] = hue, sat, val, sat
        return planes

    def _darken_seams(self, level: np.ndarray) -> None:
        """A darker seam where a part meets a part drawn in front of it (so overlapping limbs read apart)."""
        lab = self.label
        seam = np.zeros((CANVAS_SIZE, CANVAS_SIZE), dtype=bool)
        for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
            neighbour = np.full((CANVAS_SIZE, CANVAS_SIZE), -1, dtype=int)
            ys = slice(max(dy, 0), CANVAS_SIZE + min(dy, 0))
            yd = slice(max(-dy, 0), CANVAS_SIZE + min(-dy, 0))
            xs = slice(max(dx, 0), CANVAS_SIZE + min(dx, 0))
            xd = slice(max(-dx, 0), CANVAS_SIZE + min(-dx, 0))
            neighbour[yd, xd] = lab[ys, xs]
            front = (lab >= 0) & (neighbour > lab)
            if front.any():
                seps = np.array([p["sep"] for p in self.parts] + [False])
                seam |= front & seps[np.where(neighbour >= 0, neighbour, len(self.parts))]
        level[seam] = np.maximum(level[seam], 1.0) + 0.8

    def _shaded_rgb(self, shade: dict[str, np.ndarray]) -> np.ndarray:
        """Light levels turned into colour: shadows shift hue to violet and darken, lights to yellow and
        brighten, with a little noise so flat areas do not look printed."""
        noise_v = self.rng.normal(0.0, 0.01, (CANVAS_SIZE, CANVAS_SIZE))
        noise_s = self.rng.normal(0.0, 0.012, (CANVAS_SIZE, CANVAS_SIZE))
        shadow = np.maximum(shade["level"], 0)
        light = np.maximum(-shade["level"], 0)
        hue = _hue_toward(shade["hue"], 0.72, 0.045 * shadow)
        hue = _hue_toward(hue, 0.15, 0.05 * light)
        sat = shade["sat"] * (1 + 0.1 * shadow) - shade["base_sat"] * 0.22 * light + noise_s
        val = shade["val"]
        val = val * (1 - 0.15 * shadow) + 0.09 * light * (1.05 - val + 0.4) - 0.035 * shade["slope"] + noise_v
        return _hsv_to_rgb(hue, sat, val)

    def _outline(self, fill: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Colour the empty pixels touching the creature (4-neighbours) with the outline; returns them."""
        grow = np.zeros_like(fill)
        grow[1:, :] |= fill[:-1, :]
        grow[:-1, :] |= fill[1:, :]
        grow[:, 1:] |= fill[:, :-1]
        grow[:, :-1] |= fill[:, 1:]
        edge = grow & ~fill
        hue, sat, val = self.scheme.outline
        n = int(edge.sum())
        out[edge] = _hsv_to_rgb(np.full(n, hue), np.full(n, sat), val + self.rng.normal(0, 0.012, n))
        return edge

    def _ink_and_eyes(self, out: np.ndarray) -> None:
        """Drawn last, over everything: ink lines (mouths, stripes) and single-pixel eyes."""
        for mask, (hue, sat, val) in self.ink:
            n = int(mask.sum())
            out[mask] = _hsv_to_rgb(np.full(n, hue), np.full(n, sat), val + self.rng.normal(0, 0.012, n))
        for x, y, (hue, sat, val) in self.eyes:
            if 0 <= x < CANVAS_SIZE and 0 <= y < CANVAS_SIZE:
                out[y, x] = _hsv_to_rgb(np.array(hue), np.array(sat), np.array(val + self.rng.normal(0, 0.01)))

    def _on_white(self, img: np.ndarray, drawn: np.ndarray) -> np.ndarray:
        """Pure white for the background only: untouched pixels become white, and creature pixels that came
        out white become a touch off-white (so "white" in the palette always means background)."""
        untouched = ~drawn
        for mask, _ in self.ink:
            untouched &= ~mask
        for x, y, _ in self.eyes:
            if 0 <= x < CANVAS_SIZE and 0 <= y < CANVAS_SIZE:
                untouched[y, x] = False
        img[untouched] = _WHITE
        is_white = ~untouched & np.all(img == 255, axis=-1)
        img[is_white] = (250, 250, 246)
        return img


# ----------------------------------------------------------------------------- faces
def _face(
    cv: _Canvas,
    rng: np.random.Generator,
    ey: float,
    gap: float,
    size: float,
    single: bool = False,
    side: int = 0,
) -> None:
    """Eyes (with a highlight), sometimes a mouth, fangs and blush. `side`!=0 draws one profile eye."""
    ey = int(round(ey))
    style = rng.choice(["bean", "dot", "big", "sclera", "happy"], p=[0.36, 0.14, 0.22, 0.18, 0.1])
    if size < 0.9 and style in ("big", "sclera"):
        style = "bean"
    if cv.scheme.base[2] < 0.58 and style != "happy":  # dark pupils vanish on a dark body: give them whites
        style = "sclera"
    eye_px, width = _eye_pixels(rng, cv.scheme, style)
    _place_eyes(cv, eye_px, width, style, ey, gap, single, side)
    if side or single:
        mouth_x = [19, 20] if not side else [int(round(_AX + side * (gap + 3)))]
    else:
        mouth_x = [19, 20]
    mouth_y = ey + (3 if style in ("big", "sclera") or (style == "bean" and len(eye_px) > 4) else 2)
    _mouth(cv, rng, mouth_x, mouth_y, side)
    if not side and not single and rng.random() < 0.35:
        blush_x = 19 - int(round(gap)) - width
        cv.eyes += [(blush_x, mouth_y, cv.scheme.blush), (CANVAS_SIZE - 1 - blush_x, mouth_y, cv.scheme.blush)]


_SCLERA, _HIGHLIGHT = (0.6, 0.04, 0.97), (0.6, 0.03, 0.99)


def _eye_pixels(rng: np.random.Generator, scheme: _Scheme, style: str) -> tuple[list[tuple[int, int, tuple]], int]:
    """One (left) eye of `style` as pixels relative to its top-left corner, and its width."""
    pupil = scheme.pupil
    if style == "dot":
        return [(0, 0, pupil), (0, 1, pupil)], 1
    if style == "bean":
        eye_px = [(0, 0, _HIGHLIGHT), (1, 0, pupil), (0, 1, pupil), (1, 1, pupil)]
        if rng.random() < 0.5:
            eye_px += [(0, 2, pupil), (1, 2, pupil)]
        return eye_px, 2
    if style == "big":
        eye_px = [(x, y, pupil) for x in range(3) for y in range(3)]
        eye_px[0] = (0, 0, _HIGHLIGHT)
        if rng.random() < 0.3:
            eye_px.append((1, 1, _HIGHLIGHT))
        return eye_px, 3
    if style == "sclera":
        iris = scheme.iris if rng.random() < 0.5 else pupil
        eye_px = [(x, y, _SCLERA) for x in range(3) for y in range(3)]
        return eye_px + [(1, 1, iris), (2, 1, iris), (1, 2, iris), (2, 2, iris), (1, 1, _HIGHLIGHT)], 3
    return [(0, 1, pupil), (1, 0, pupil), (2, 1, pupil)], 3  # happy ^ ^


def _place_eyes(
    cv: _Canvas,
    eye_px: list[tuple[int, int, tuple]],
    width: int,
    style: str,
    ey: int,
    gap: float,
    single: bool,
    side: int,
) -> None:
    """One centred eye, one profile eye (`side`), or a pair `gap` apart."""
    if single or side:
        x0 = 20 - (width + 1) // 2 if single else int(round(_AX + side * gap)) - width // 2
        cv.eyes += [(x0 + dx, ey + dy, colour) for dx, dy, colour in eye_px]
        return
    left = 19 - int(round(gap)) - (width - 1)
    right = CANVAS_SIZE - 1 - (left + width - 1)
    for dx, dy, colour in eye_px:
        cv.eyes.append((left + dx, ey + dy, colour))
        if style == "sclera":  # mirrored: both irises look inward
            cv.eyes.append((CANVAS_SIZE - 1 - (left + dx), ey + dy, colour))
        else:  # translated: both highlights on the upper left, as the light falls
            cv.eyes.append((right + dx, ey + dy, colour))


def _mouth(cv: _Canvas, rng: np.random.Generator, mouth_x: list[int], mouth_y: int, side: int) -> None:
    """No mouth, a line, a cat's mouth, an open one or a fang, at row `mouth_y`."""
    outline = cv.scheme.outline
    mouth = rng.choice(["none", "line", "cat", "open", "fang"], p=[0.3, 0.25, 0.15, 0.15, 0.15])
    if mouth == "line":
        cv.eyes += [(x, mouth_y, outline) for x in mouth_x]
    elif mouth == "cat" and not side:
        cv.eyes += [(x, y, outline) for x, y in ((18, mouth_y), (19, mouth_y + 1), (20, mouth_y + 1), (21, mouth_y))]
    elif mouth == "open":
        for x in mouth_x:
            cv.eyes += [(x, mouth_y, outline), (x, mouth_y + 1, cv.scheme.mouth)]
    elif mouth == "fang":
        cv.eyes += [(x, mouth_y, outline) for x in mouth_x]
        cv.eyes.append((mouth_x[0], mouth_y + 1, _SCLERA))
        if not side and rng.random() < 0.5:
            cv.eyes.append((mouth_x[-1], mouth_y + 1, _SCLERA))


# ----------------------------------------------------------------------------- decorations
def _top_decor(
    cv: _Canvas,
    rng: np.random.Generator,
    cx: float,
    top: float,
    rx: float,
    kind: str | None = None,
    behind: bool = False,
) -> None:
    """Ears, horns, antennae, spikes, a sprout or a tuft on top of a head at (cx, top) of half-width rx."""
    kind = kind or str(
        rng.choice(
            ["ears", "round_ears", "horns", "antenna", "spikes", "sprout", "tuft", "none"],
            p=[0.2, 0.14, 0.16, 0.12, 0.1, 0.08, 0.08, 0.12],
        )
    )
    offset = rx * rng.uniform(0.45, 0.7)  # how far from the middle the pair sits
    draw = _TOP_DECOR.get(kind)
    if draw is not None:
        draw(cv, rng, cx, top, rx, offset)


def _ears(cv: _Canvas, rng: np.random.Generator, cx: float, top: float, rx: float, off: float) -> None:
    """Pointed ears, sometimes with a lighter inside."""
    h = rng.uniform(3.0, 5.0)
    w = rng.uniform(1.6, 2.6)
    lean = rng.uniform(0.0, 2.0)
    cv.add_pair(_polygon([(cx - off - w, top + 2.5), (cx - off - lean, top - h), (cx - off + w, top + 2.0)]), "base")
    if rng.random() < 0.6:
        inner = [(cx - off - w + 1.2, top + 2.0), (cx - off - lean * 0.8, top - h + 1.8), (cx - off + w - 1.0, top + 2)]
        cv.add_pair(_polygon(inner), "belly", sep=False)


def _round_ears(cv: _Canvas, rng: np.random.Generator, cx: float, top: float, rx: float, off: float) -> None:
    """Round ears, sometimes with a lighter inside."""
    r = rng.uniform(1.8, 2.8)
    ear = _ellipse(cx - off - 0.5, top + 0.2, r, r)
    cv.add_pair(ear, "base")
    if rng.random() < 0.5:
        cv.add_pair(_ellipse(cx - off - 0.5, top + 0.2, r - 1.0, r - 1.0) & ear, "belly", sep=False)


def _horns(cv: _Canvas, rng: np.random.Generator, cx: float, top: float, rx: float, off: float) -> None:
    """A pair of horns, straight or curved outward."""
    h = rng.uniform(2.5, 4.5)
    curve = rng.uniform(-1.5, 2.5)
    cv.add_pair(
        _polygon([(cx - off - 1.4, top + 2.0), (cx - off - curve, top - h), (cx - off + 1.4, top + 2.0)]), "horn"
    )


def _antenna(cv: _Canvas, rng: np.random.Generator, cx: float, top: float, rx: float, off: float) -> None:
    """Two inked antennae with a round tip each (short on a small head)."""
    h = rng.uniform(1.8, 3.0) if rx < 4.5 else rng.uniform(3.0, 5.0)
    spread = rng.uniform(0.5, 3.5)
    x0 = cx - off * 0.6
    stalk = _line(x0, top + 1, x0 - spread, top - h)
    cv.line(stalk | _mirror(stalk))
    cv.add_pair(_ellipse(x0 - spread, top - h - 0.3, 1.1, 1.1), "accent")


def _spikes(cv: _Canvas, rng: np.random.Generator, cx: float, top: float, rx: float, off: float) -> None:
    """Two or three spikes on each side of the crown."""
    n = int(rng.integers(2, 4))
    h = rng.uniform(2.0, 3.5)
    for i in range(n):
        x = cx - (i + 0.5) * rx * 0.8 / n
        cv.add_pair(_polygon([(x - 1.5, top + 2.5), (x, top - h + 0.3 * i), (x + 1.5, top + 2.5)]), "accent")


def _sprout(cv: _Canvas, rng: np.random.Generator, cx: float, top: float, rx: float, off: float) -> None:
    """A stem with one or two leaves of their own green."""
    cv.line(_line(cx - 0.5, top, cx - 0.5, top - 2.0), (0.3, 0.6, 0.35))
    leaf = _ellipse(cx - 2.3, top - 2.6, 1.9, 1.0, angle=0.5)
    cv.scheme.leaf = (rng.uniform(0.25, 0.38), 0.7, 0.75)  # type: ignore[attr-defined]
    cv.add(leaf, "leaf")
    if rng.random() < 0.6:
        cv.add(_mirror(leaf), "leaf")


def _tuft(cv: _Canvas, rng: np.random.Generator, cx: float, top: float, rx: float, off: float) -> None:
    """Three locks of hair, the middle one tallest."""
    for i, dx in enumerate((-1.5, 0.0, 1.5)):
        cv.add(
            _polygon(
                [(cx + dx - 1.2, top + 1.5), (cx + dx * 1.6, top - 2.5 - (i == 1) * 1.0), (cx + dx + 1.2, top + 1.5)]
            ),
            "base",
        )


_TOP_DECOR = {
    "ears": _ears,
    "round_ears": _round_ears,
    "horns": _horns,
    "antenna": _antenna,
    "spikes": _spikes,
    "sprout": _sprout,
    "tuft": _tuft,
}


def _pattern(cv: _Canvas, rng: np.random.Generator, body: np.ndarray, geom: tuple, kind: str | None = None) -> None:
    """Belly patch, spots or stripes, clipped to the body and shaded with it."""
    cx, cy, rx, ry = geom
    kind = kind or str(rng.choice(["belly", "spots", "stripes", "none"], p=[0.45, 0.18, 0.14, 0.23]))
    if kind == "belly":
        m = _ellipse(cx, cy + ry * rng.uniform(0.25, 0.45), rx * rng.uniform(0.5, 0.7), ry * rng.uniform(0.5, 0.7))
        cv.add(m, "belly", geom=geom, sep=False, clip=body)
    elif kind == "spots":
        for _ in range(int(rng.integers(2, 5))):
            x = cx + rng.uniform(-0.7, 0.0) * rx
            y = cy + rng.uniform(-0.7, 0.6) * ry
            r = rng.uniform(0.8, 1.5)
            m = _ellipse(x, y, r, r)
            cv.add(m | _mirror(m), "accent", geom=geom, sep=False, clip=body)
    elif kind == "stripes":
        n = int(rng.integers(2, 4))
        for i in range(n):
            y = cy - ry * 0.6 + i * ry * 1.3 / n
            m = (np.abs(_Y - y) < 0.6) & (np.abs(_X - cx) > rx * 0.25)
            cv.add(m, "accent", geom=geom, sep=False, clip=body)


# ----------------------------------------------------------------------------- body plans
def _blob(cv: _Canvas, rng: np.random.Generator, k: float, asym: bool) -> None:
    rx, ry = rng.uniform(6.5, 8.5) * k, rng.uniform(5.5, 7.5) * k
    cy = 20.5 + rng.uniform(-0.5, 1.0)
    p = rng.uniform(2.0, 2.7)
    if rng.random() < 0.5:  # feet
        fr = rng.uniform(1.5, 2.2)
        f = _ellipse(_AX - rx * 0.5, cy + ry - 0.6, fr, fr * 0.75)
        cv.add_pair(f, "limb")
    if asym and rng.random() < 0.6:
        side = rng.choice([-1, 1])
        t = _capsule(_AX + side * rx * 0.6, cy + ry * 0.4, _AX + side * (rx + 3.5), cy - 1.5, 1.2)
        cv.add(t, "base")
        cv.add(_ellipse(_AX + side * (rx + 3.5), cy - 2.5, 1.8, 1.8), "accent")
        asym = False
    body = cv.add(_ellipse(_AX, cy, rx, ry, p=p), "base", geom=(_AX, cy, rx, ry), glossy=cv.scheme.glossy)
    _pattern(cv, rng, body, (_AX, cy, rx, ry))
    if rng.random() < 0.45:
        ay = cy + rng.uniform(0.0, 2.0)
        arm = _ellipse(_AX - rx + 0.3, ay, 1.6, 2.2, angle=0.5)
        if asym:
            cv.add(arm, "base")
            cv.add(_mirror(_ellipse(_AX - rx + 0.2, ay - 3.0, 1.5, 2.3, angle=-0.5)), "base")
            asym = False
        else:
            cv.add_pair(arm, "base")
    _top_decor(cv, rng, _AX, cy - ry + 0.8, rx)
    big = k * min(rx, ry)
    _face(
        cv,
        rng,
        cy - ry * rng.uniform(0.1, 0.35),
        rx * rng.uniform(0.22, 0.38),
        big / 6.5,
        single=rng.random() < 0.08,
    )


def _biped(cv: _Canvas, rng: np.random.Generator, k: float, asym: bool) -> None:
    hrx, hry = rng.uniform(5.0, 6.5) * k, rng.uniform(4.0, 4.9) * k
    hy = 15.8 + rng.uniform(-0.3, 0.7)
    brx, bry = rng.uniform(3.5, 4.8) * k, rng.uniform(3.0, 4.2) * k
    by = hy + hry + bry - 2.0
    leg_len = rng.uniform(1.5, 2.8)
    lx = brx * 0.5
    leg = _capsule(_AX - lx, by + bry - 1, _AX - lx - 0.3, by + bry + leg_len, 1.3)
    cv.add_pair(leg, "limb")
    if rng.random() < 0.4 or asym:
        side = rng.choice([-1, 1]) if asym else 0
        if side:
            t = _capsule(_AX + side * brx * 0.5, by + 1.5, _AX + side * (brx + 4.0), by - 2.5, 1.1)
            cv.add(t, "base")
            cv.add(_ellipse(_AX + side * (brx + 4.0), by - 3.0, 1.6, 1.6), "accent")
    body = cv.add(_ellipse(_AX, by, brx, bry), "base", geom=(_AX, by, brx, bry))
    _pattern(cv, rng, body, (_AX, by, brx, bry), kind=str(rng.choice(["belly", "belly", "none", "stripes"])))
    arm_len = rng.uniform(2.5, 3.5)
    arm = _capsule(_AX - brx * 0.8, by - 1.0, _AX - brx - arm_len * 0.7, by + arm_len * 0.6, 1.1)
    if asym and rng.random() < 0.5:
        cv.add(arm, "base")
        cv.add(_mirror(_capsule(_AX - brx * 0.8, by - 1.0, _AX - brx - 2.0, by - arm_len - 0.5, 1.1)), "base")
    else:
        cv.add_pair(arm, "base")
    _top_decor(cv, rng, _AX, hy - hry + 0.8, hrx, behind=True)
    cv.add(
        _ellipse(_AX, hy, hrx, hry, p=rng.uniform(2.0, 2.4)),
        "base",
        geom=(_AX, hy, hrx, hry),
        glossy=cv.scheme.glossy,
    )
    _face(cv, rng, hy - hry * 0.15, hrx * rng.uniform(0.25, 0.4), k * hrx / 5.5)


def _quadruped(cv: _Canvas, rng: np.random.Generator, k: float, asym: bool) -> None:
    brx, bry = rng.uniform(6.5, 8.3) * k, rng.uniform(4.0, 5.0) * k
    by = 23.5 + rng.uniform(-0.5, 0.5)
    hrx, hry = rng.uniform(4.5, 5.8) * k, rng.uniform(4.0, 4.8) * k
    hy = by - bry - hry + 3.5
    # back legs, behind the body
    back = _capsule(_AX - brx + 1.8, by + 1, _AX - brx + 1.5, by + bry + 1.3, 1.4)
    cv.add_pair(back, "limb")
    if rng.random() < 0.6:
        side = rng.choice([-1, 1]) if asym else 0
        if side:
            t = _capsule(_AX + side * brx * 0.7, by, _AX + side * (brx + 3.0), by - 4.0, 1.2)
            cv.add(t, "base")
            cv.add(_ellipse(_AX + side * (brx + 3.0), by - 4.5, 1.7, 1.7), "belly")
        else:
            cv.add(_ellipse(_AX, by - bry + 0.5, 2.0, 2.0), "belly")
    body = cv.add(_ellipse(_AX, by, brx, bry), "base", geom=(_AX, by, brx, bry))
    _pattern(cv, rng, body, (_AX, by, brx, bry), kind=str(rng.choice(["belly", "spots", "stripes", "none"])))
    front = _capsule(_AX - 2.6, by + bry - 1.8, _AX - 2.6, by + bry + 1.6, 1.35)
    cv.add_pair(front, "base")
    kind = str(rng.choice(["ears", "round_ears", "horns", "none", "spikes"], p=[0.35, 0.25, 0.25, 0.1, 0.05]))
    _top_decor(cv, rng, _AX, hy - hry + 0.8, hrx, kind=kind)
    cv.add(_ellipse(_AX, hy, hrx, hry), "base", geom=(_AX, hy, hrx, hry), glossy=cv.scheme.glossy)
    if rng.random() < 0.5:  # snout
        cv.add(
            _ellipse(_AX, hy + hry * 0.45, hrx * 0.45, hry * 0.35),
            "belly",
            geom=(_AX, hy, hrx, hry),
            sep=False,
        )
    _face(cv, rng, hy - hry * 0.3, hrx * rng.uniform(0.3, 0.45), k * hrx / 5.0)


def _bird(cv: _Canvas, rng: np.random.Generator, k: float, asym: bool) -> None:
    rx, ry = rng.uniform(5.5, 7.0) * k, rng.uniform(6.0, 7.5) * k
    cy = 20.0 + rng.uniform(-0.5, 0.8)
    # tail feathers behind
    tail = _polygon(
        [
            (_AX - 2.5, cy + ry - 2),
            (_AX - 3.5, cy + ry + 2.5),
            (_AX + 3.5, cy + ry + 2.5),
            (_AX + 2.5, cy + ry - 2),
        ]
    )
    cv.add(tail, "wing")
    spread = rng.random() < 0.45
    if spread:
        up = 1 if (not asym) else 0
        w = _polygon(
            [
                (_AX - rx + 1.5, cy - 1),
                (_AX - rx - 3.8, cy - 4 * up - 2),
                (_AX - rx - 3.0, cy + 1),
                (_AX - rx - 2.0, cy + 3.0),
                (_AX - rx + 1.0, cy + 3),
            ]
        )
        if asym:
            cv.add(w, "wing")
            cv.add(_mirror(_ellipse(_AX - rx + 0.8, cy + 1.5, 2.2, 4.3, angle=0.3)), "wing")
        else:
            cv.add_pair(w, "wing")
    # legs
    ly = cy + ry - 0.5
    leg = _line(_AX - 2, ly, _AX - 2, ly + 2.0) | _line(_AX - 3, ly + 2, _AX - 1, ly + 2)
    cv.line(leg | _mirror(leg), cv.scheme.beak)
    body = cv.add(_ellipse(_AX, cy, rx, ry), "base", geom=(_AX, cy, rx, ry), glossy=cv.scheme.glossy)
    _pattern(cv, rng, body, (_AX, cy, rx, ry), kind="belly" if rng.random() < 0.7 else "none")
    if not spread:
        fold = _ellipse(_AX - rx + 1.0, cy + 1.8, 2.0, 4.0, angle=0.35)
        cv.add_pair(fold, "wing")
    crest = rng.choice(["tuft", "none", "spikes", "horns"], p=[0.45, 0.3, 0.15, 0.1])
    if crest != "none":
        _top_decor(cv, rng, _AX, cy - ry + 0.8, rx, kind=str(crest))
    ey = cy - ry * rng.uniform(0.2, 0.4)
    gap = rx * rng.uniform(0.3, 0.45)
    _face_no_mouth = rng.random()
    _face(cv, rng, ey, gap, k * rx / 6.0)
    # the beak sits over any mouth
    byy = int(round(ey)) + 2
    beak = _polygon([(_AX - 1.6, byy - 0.5), (_AX + 1.6, byy - 0.5), (_AX, byy + 2.4 + (_face_no_mouth < 0.4))])
    cv.eyes = [
        (x, y, c) for (x, y, c) in cv.eyes if not beak[min(max(y, 0), CANVAS_SIZE - 1), min(max(x, 0), CANVAS_SIZE - 1)]
    ]
    bh, bs, bv = cv.scheme.beak
    ys, xs = np.nonzero(beak)
    for x, y in zip(xs, ys):
        shade = 0.85 if (x > _AX or y > byy + 1) else 1.0
        cv.eyes.append((int(x), int(y), (bh, bs, bv * shade)))


def _fish(cv: _Canvas, rng: np.random.Generator, k: float, asym: bool) -> None:
    if rng.random() < 0.35:  # puffer: round, spiky, symmetric
        _puffer(cv, rng, k)
        return
    flip = rng.random() < 0.5
    rx, ry = rng.uniform(6.5, 8.0) * k, rng.uniform(4.3, 5.5) * k
    cx, cy = _AX - 1.8, 20.0 + rng.uniform(-0.5, 0.5)
    tail = _polygon(
        [
            (cx + rx - 1.5, cy),
            (cx + rx + 3.5, cy - ry * 0.9),
            (cx + rx + 2.3, cy),
            (cx + rx + 3.5, cy + ry * 0.9),
        ]
    )
    dorsal = _polygon([(cx - rx * 0.4, cy - ry + 1), (cx + rx * 0.1, cy - ry - 2.8), (cx + rx * 0.5, cy - ry + 1.2)])
    cv.add(tail, "wing")
    cv.add(dorsal, "wing")
    body = cv.add(_ellipse(cx, cy, rx, ry), "base", geom=(cx, cy, rx, ry), glossy=cv.scheme.glossy)
    _fish_pattern(cv, rng, body, (cx, cy, rx, ry))
    fin = _ellipse(cx + 1.0, cy + 1.5, 2.2, 1.2, angle=-0.5)
    cv.add(fin, "wing")
    _fish_face(cv, cx, cy, rx, ry)
    if flip:
        _flip_canvas(cv)


def _puffer(cv: _Canvas, rng: np.random.Generator, k: float) -> None:
    """The round fish: a ring of spikes, side fins, a front-facing face (drawn symmetric, never flipped)."""
    r = rng.uniform(6.0, 7.5) * k
    cy = 20.0
    for a in np.linspace(0, 2 * np.pi, 10, endpoint=False) + np.pi / 10:
        x, y = _AX + np.cos(a) * r, cy + np.sin(a) * r
        nx, ny = np.cos(a), np.sin(a)
        pts = [(x - ny * 1.3, y + nx * 1.3), (x + nx * 2.2, y + ny * 2.2), (x + ny * 1.3, y - nx * 1.3)]
        cv.add(_polygon(pts), "horn")
    fin = _polygon([(_AX - r + 1, cy), (_AX - r - 2.5, cy - 2.5), (_AX - r - 2.5, cy + 2.5)])
    cv.add_pair(fin, "wing")
    body = cv.add(_ellipse(_AX, cy, r, r), "base", geom=(_AX, cy, r, r), glossy=cv.scheme.glossy)
    _pattern(cv, rng, body, (_AX, cy, r, r), kind=str(rng.choice(["belly", "spots"])))
    _face(cv, rng, cy - r * 0.3, r * 0.35, k * r / 6.0)


def _fish_pattern(cv: _Canvas, rng: np.random.Generator, body: np.ndarray, geom: tuple) -> None:
    """A side-view fish's markings, clipped to its body (vertical stripes, not `_pattern`'s front-view ones)."""
    cx, cy, rx, ry = geom
    kind = str(rng.choice(["belly", "stripes_v", "spots", "none"]))
    if kind == "stripes_v":
        for x in (cx - 1.0, cx + 2.5):
            cv.add(np.abs(_X - x) < 0.7, "accent", geom=(cx, cy, rx, ry), sep=False, clip=body)
    elif kind == "belly":
        cv.add(
            _ellipse(cx, cy + ry * 0.6, rx * 0.9, ry * 0.5),
            "belly",
            geom=(cx, cy, rx, ry),
            sep=False,
            clip=body,
        )
    elif kind == "spots":
        for _ in range(3):
            cv.add(
                _ellipse(cx + rng.uniform(-2, 4), cy + rng.uniform(-2, 2), 1.0, 1.0),
                "accent",
                geom=(cx, cy, rx, ry),
                sep=False,
                clip=body,
            )


def _fish_face(cv: _Canvas, cx: float, cy: float, rx: float, ry: float) -> None:
    """A side-view fish's one eye (2x2, with a highlight) and its mouth at the front of the body."""
    ex = int(round(cx - rx * 0.5)) - 1
    ey = int(round(cy - ry * 0.35)) - 1
    sc = cv.scheme
    hi = (0.6, 0.03, 0.99)
    cv.eyes += [(ex, ey, hi), (ex + 1, ey, sc.pupil), (ex, ey + 1, sc.pupil), (ex + 1, ey + 1, sc.pupil)]
    mx = int(round(cx - rx)) + 1
    cv.eyes += [(mx, int(round(cy)) + 1, sc.outline), (mx + 1, int(round(cy)) + 1, sc.outline)]


def _flip_canvas(cv: _Canvas) -> None:
    """Mirror everything drawn so far left to right (a fish swims either way)."""
    cv.label = cv.label[:, ::-1].copy()
    cv.parts = [dict(p, geom=(CANVAS_SIZE - 1 - p["geom"][0],) + tuple(p["geom"][1:])) for p in cv.parts]
    cv.eyes = [(CANVAS_SIZE - 1 - x, y, c) for x, y, c in cv.eyes]
    cv.ink = [(m[:, ::-1], c) for m, c in cv.ink]


def _serpent(cv: _Canvas, rng: np.random.Generator, k: float, asym: bool) -> None:
    tiers = [(8.0, 3.0, 26.0), (6.6, 2.8, 23.2), (5.2, 2.6, 20.6)]
    alt = rng.random() < 0.75
    for i, (rx, ry, y) in enumerate(tiers):
        dx = rng.uniform(-0.6, 0.6) if asym else 0.0
        role = "accent" if (alt and i == 1) else "base"
        cv.add(_ellipse(_AX + dx, y, rx * k, ry), role, geom=(_AX + dx, y, rx * k, ry))
    hood = rng.random() < 0.3
    hy = 15.5 + rng.uniform(-0.3, 0.5)
    hrx, hry = rng.uniform(4.0, 5.0) * k, rng.uniform(3.2, 3.9)
    neck = _capsule(_AX, 20.0, _AX, hy + 1, 2.3)
    cv.add(neck, "base", geom=(_AX, 18, 2.5, 3))
    if hood:
        cv.add(_ellipse(_AX, hy + 1.5, hrx + 2.5, hry + 2.0), "accent")
    elif rng.random() < 0.35:
        _top_decor(cv, rng, _AX, hy - hry + 0.8, hrx, kind=str(rng.choice(["horns", "spikes"])))
    cv.add(_ellipse(_AX, hy, hrx, hry), "base", geom=(_AX, hy, hrx, hry), glossy=cv.scheme.glossy)
    cv.add(
        _ellipse(_AX, hy + hry * 0.6, hrx * 0.7, hry * 0.45),
        "belly",
        geom=(_AX, hy, hrx, hry),
        sep=False,
        clip=cv.label == len(cv.parts) - 1,
    )
    _face(cv, rng, hy - hry * 0.45, hrx * 0.38, k * hrx / 5.5)
    if rng.random() < 0.4:  # forked tongue
        ty = int(round(hy + hry)) + 1
        cv.eyes += [
            (19, ty, cv.scheme.mouth),
            (20, ty, cv.scheme.mouth),
            (18, ty + 1, cv.scheme.mouth),
            (21, ty + 1, cv.scheme.mouth),
        ]


def _bug(cv: _Canvas, rng: np.random.Generator, k: float, asym: bool) -> None:
    arx, ary = rng.uniform(4.8, 6.0) * k, rng.uniform(4.3, 5.3) * k
    ay = 23.0 + rng.uniform(-0.5, 0.5)
    ty = ay - ary - 0.5
    hr = rng.uniform(3.0, 3.8) * k
    hy = ty - hr + 0.5
    hy = max(hy, 10.5 + hr)
    wings = rng.random() < 0.45
    # legs (ink), from the body sides
    legs = np.zeros((CANVAS_SIZE, CANVAS_SIZE), dtype=bool)
    for i, y in enumerate((ty + 1.0, ay - 1.5, ay + 1.5)):
        x0 = _AX - arx * 0.6
        x1 = _AX - arx - 2.5
        y1 = y + (i - 1) * 2.0 + 1.0
        legs |= _line(x0, y, x1, y1 - 1) | _line(x1, y1 - 1, x1 - 0.5, y1 + 0.5)
    cv.line(legs | _mirror(legs))
    if wings:
        w = _ellipse(_AX - 4.5, ay - 2.5, 2.8, 5.0, angle=-0.6)
        cv.scheme.wing = (cv.scheme.accent[0], 0.15, 0.97)
        cv.add_pair(w, "wing")
    shell = rng.random() < 0.35
    body = cv.add(_ellipse(_AX, ay, arx, ary), "base", geom=(_AX, ay, arx, ary), glossy=cv.scheme.glossy)
    if shell:  # ladybug: a seam and spots
        cv.line((np.abs(_X - _AX) < 0.6) & body & (_Y > ay - ary + 1))
        _pattern(cv, rng, body, (_AX, ay, arx, ary), kind="spots")
    else:
        _pattern(cv, rng, body, (_AX, ay, arx, ary), kind=str(rng.choice(["stripes", "stripes", "belly"])))
    cv.add(_ellipse(_AX, ty + 0.5, arx * 0.55, 1.8), "limb")
    _top_decor(cv, rng, _AX, hy - hr + 0.8, hr, kind="antenna" if rng.random() < 0.8 else "horns")
    cv.add(_ellipse(_AX, hy, hr + 0.5, hr), "limb" if rng.random() < 0.4 else "base", geom=(_AX, hy, hr, hr))
    _face(cv, rng, hy - hr * 0.3, hr * 0.35, 0.8)


def _ghost(cv: _Canvas, rng: np.random.Generator, k: float, asym: bool) -> None:
    rx = rng.uniform(5.5, 7.0) * k
    cy = 17.5 + rng.uniform(-0.5, 0.5)
    h = rng.uniform(6.0, 8.5)
    freq = rng.choice([0.9, 1.2, 1.6])
    phase = rng.uniform(0, np.pi)
    wave = cy + h + 1.1 * np.sin(np.abs(_X - _AX) * freq + phase)
    if asym:
        wave = cy + h + 1.1 * np.sin(_X * freq + phase) - 0.25 * (_X - _AX)
    skirt = (np.abs(_X - _AX) <= rx) & (_Y >= cy) & (_Y <= wave)
    body = _ellipse(_AX, cy, rx, rx * rng.uniform(0.9, 1.1)) & (_Y <= cy + 0.5) | skirt
    if rng.random() < 0.6:
        arm = _ellipse(_AX - rx - 0.3, cy + 2.5, 1.3, 2.0, angle=-0.6 if not asym else 0.6)
        cv.add(
            arm | (_mirror(arm) if not asym else _mirror(_ellipse(_AX - rx, cy + 0.5, 1.3, 2.0, angle=0.6))),
            "base",
        )
    cv.add(body, "base", geom=(_AX, cy + h / 2 - 2, rx, (h + rx) / 2), glossy=True)
    if rng.random() < 0.35:
        _top_decor(cv, rng, _AX, cy - rx + 0.8, rx, kind=str(rng.choice(["horns", "tuft", "round_ears"])))
    _face(cv, rng, cy - 1.0, rx * rng.uniform(0.25, 0.4), k * rx / 5.5, single=rng.random() < 0.15)


def _mushroom(cv: _Canvas, rng: np.random.Generator, k: float, asym: bool) -> None:
    crx, cry = rng.uniform(7.5, 9.2) * k, rng.uniform(4.5, 6.0) * k
    cy = 17.0 + rng.uniform(-0.3, 0.6)
    srx, sry = rng.uniform(4.0, 5.2) * k, rng.uniform(4.5, 5.5)
    sy = cy + sry - 0.5
    sc = cv.scheme
    sc.stem = (rng.uniform(0.08, 0.14), rng.uniform(0.1, 0.3), rng.uniform(0.9, 0.98))  # type: ignore[attr-defined]
    feet = _ellipse(_AX - srx * 0.55, sy + sry - 0.3, 1.8, 1.2)
    cv.add_pair(feet, "stem")
    cv.add(_ellipse(_AX, sy, srx, sry, p=2.4), "stem", geom=(_AX, sy, srx, sry))
    if rng.random() < 0.5:
        arm = _ellipse(_AX - srx - 0.2, sy + 1.0, 1.2, 1.8, angle=0.5)
        cv.add_pair(arm, "stem")
    tilt = rng.uniform(-0.12, 0.12) if asym else 0.0
    cap = _ellipse(_AX, cy + 1.0, crx, cry + 1.0, angle=tilt) & (_Y <= cy + 1.5 + tilt * (_X - _AX))
    capm = cv.add(cap, "base", geom=(_AX, cy - 1.0, crx, cry), glossy=sc.glossy)
    sc.dots = (sc.accent[0], min(sc.accent[1], 0.3), 0.97)  # type: ignore[attr-defined]
    for _ in range(int(rng.integers(2, 4))):
        x = _AX - rng.uniform(1.0, crx * 0.75)
        y = cy + rng.uniform(-cry * 0.6, 0.3)
        r = rng.uniform(0.9, 1.6)
        m = _ellipse(x, y, r, r * 0.9)
        cv.add(m | _mirror(m), "dots", geom=(_AX, cy - 1.0, crx, cry), sep=False, clip=capm)
    _face(cv, rng, sy - 1.5, srx * 0.35, 0.85)


def _bat(cv: _Canvas, rng: np.random.Generator, k: float, asym: bool) -> None:
    r = rng.uniform(4.3, 5.5) * k
    cy = 20.0 + rng.uniform(-0.5, 0.5)
    span = rng.uniform(7.5, 9.2)
    up = rng.uniform(2.0, 5.0)
    wing = _polygon(
        [
            (_AX - r + 1.5, cy - 2.5),
            (_AX - span, cy - up),
            (_AX - span + 0.2, cy + 2.5),
            (_AX - span + 2.0, cy + 1.2),
            (_AX - span + 3.5, cy + 3.5),
            (_AX - r + 0.5, cy + 2.0),
        ]
    )
    if asym:
        cv.add(wing, "wing")
        cv.add(
            _mirror(
                _polygon(
                    [
                        (_AX - r + 1.5, cy - 1.5),
                        (_AX - span + 1, cy + 3),
                        (_AX - span + 2.5, cy + 5.5),
                        (_AX - r + 0.5, cy + 3.5),
                    ]
                )
            ),
            "wing",
        )
    else:
        cv.add_pair(wing, "wing")
    feet = _ellipse(_AX - 1.8, cy + r + 0.2, 1.0, 1.3)
    cv.add_pair(feet, "limb")
    body = cv.add(
        _ellipse(_AX, cy, r, r * rng.uniform(0.95, 1.15)),
        "base",
        geom=(_AX, cy, r, r),
        glossy=cv.scheme.glossy,
    )
    _pattern(cv, rng, body, (_AX, cy, r, r), kind=str(rng.choice(["belly", "none"])))
    _top_decor(cv, rng, _AX, cy - r + 0.8, r, kind=str(rng.choice(["ears", "ears", "horns"])))
    _face(cv, rng, cy - r * 0.3, r * 0.38, k * r / 5.0)


_BUILDERS = {
    "blob": _blob,
    "biped": _biped,
    "quadruped": _quadruped,
    "bird": _bird,
    "fish": _fish,
    "serpent": _serpent,
    "bug": _bug,
    "ghost": _ghost,
    "mushroom": _mushroom,
    "bat": _bat,
}


# ----------------------------------------------------------------------------- public API
# the factors' names: keys of factors.json, marked N_() so that what shows them can translate them
FACTOR_NAMES = (N_("body type"), N_("hue"), N_("saturation"), N_("brightness"), N_("size"), N_("asymmetric"))


def generate_creature_with_factors(seed: int) -> tuple[np.ndarray, dict]:
    """One creature and the factors it was drawn from (the truth behind the sprite).

    The factors are the generator's own choices, recorded as it makes them (no extra draws from
    the random stream, so the pixels are the same bytes as `generate_creature(seed)`): body type,
    the body's base colour as hue / saturation / brightness (HSV, each 0..1; hue is an angle, 0 and 1
    are the same red), size (the scale k, 0.78..1.0) and whether the creature is drawn asymmetric.
    Notebook 04 measures which factor each VAE code dimension follows; the VAE never sees them.
    """
    rng = np.random.default_rng(seed)
    kind = str(rng.choice(BODY_TYPES, p=_TYPE_WEIGHTS / _TYPE_WEIGHTS.sum()))
    scheme = _Scheme(rng, kind)
    cv = _Canvas(rng, scheme)
    k = rng.uniform(0.78, 1.0)
    asym = rng.random() < 0.12
    _BUILDERS[kind](cv, rng, k, asym)
    h, s, v = scheme.base
    factors = {
        "body type": kind,
        "hue": round(float(h) % 1.0, 4),
        "saturation": round(float(s), 4),
        "brightness": round(float(v), 4),
        "size": round(float(k), 4),
        "asymmetric": bool(asym),
    }
    return _recentre(cv.render()), factors


def generate_creature(seed: int) -> np.ndarray:
    """One creature, (40, 40, 3) uint8 RGB on white, drawn only from `seed` (same seed, same bytes)."""
    return generate_creature_with_factors(seed)[0]


def _recentre(img: np.ndarray) -> np.ndarray:
    """Shift the creature (by whole pixels) so its bounding box sits in the middle of the canvas."""
    ys, xs = np.nonzero(np.any(img != 255, axis=-1))
    if len(ys) == 0:
        return img
    dy = int(np.floor(_AX - (ys.min() + ys.max()) / 2 + 0.5))
    dx = int(np.floor(_AX - (xs.min() + xs.max()) / 2 + 0.5))
    if dx == 0 and dy == 0:
        return img
    out = np.full_like(img, 255)
    h, w = img.shape[:2]
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = img[
        max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def creature_seed(seed: int, i: int, attempt: int = 0) -> int:
    """The seed of the i-th creature of a set drawn with `seed` (independent streams per creature)."""
    return int(np.random.SeedSequence([seed, i, attempt]).generate_state(1, dtype=np.uint32)[0])


def generate_sprites(n: int, seed: int = 0) -> np.ndarray:
    """`n` distinct creatures, (n, 40, 40, 3) uint8; distinct also after the 20x20 centre crop."""
    return generate_sprites_with_factors(n, seed)[0]


def generate_sprites_with_factors(n: int, seed: int = 0) -> tuple[np.ndarray, list[dict]]:
    """`generate_sprites(n, seed)` and, for each creature, the factors it was drawn from."""
    out = np.empty((n, CANVAS_SIZE, CANVAS_SIZE, 3), dtype=np.uint8)
    factors: list[dict] = []
    seen: set[bytes] = set()
    for i in range(n):
        attempt = 0
        while True:
            img, f = generate_creature_with_factors(creature_seed(seed, i, attempt))
            key = center_crop(img).tobytes()
            if key not in seen:
                break
            attempt += 1
        seen.add(key)
        out[i] = img
        factors.append(f)
    return out, factors


def center_crop(images: np.ndarray, size: int = SPRITE_SIZE) -> np.ndarray:
    """The central `size` x `size` pixels of (..., H, W, C) or (H, W) images (the lecture's 40 -> 20 crop)."""
    arr = np.asarray(images)
    if arr.ndim == 2 or (arr.ndim >= 3 and arr.shape[-1] not in (1, 3, 4)):
        h, w = arr.shape[-2], arr.shape[-1]
        top, left = (h - size) // 2, (w - size) // 2
        return arr[..., top : top + size, left : left + size]
    h, w = arr.shape[-3], arr.shape[-2]
    if h < size or w < size:
        raise ValueError(f"cannot crop {size}x{size} out of {h}x{w} images: the images are too small")
    top, left = (h - size) // 2, (w - size) // 2
    return arr[..., top : top + size, left : left + size, :]


def sprite_sheet(images: np.ndarray, per_row: int = 10, scale: int = 1, gap: int = 0) -> np.ndarray:
    """Tile (N, H, W, 3) images into one RGB sheet (white between cells), optionally upscaled."""
    imgs = np.asarray(images, dtype=np.uint8)
    n, h, w = imgs.shape[:3]
    rows = (n + per_row - 1) // per_row
    sheet = np.full((rows * (h + gap) - gap if rows else 0, per_row * (w + gap) - gap, 3), 255, dtype=np.uint8)
    for i, img in enumerate(imgs):
        r, c = divmod(i, per_row)
        sheet[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = img
    if scale > 1:
        sheet = sheet.repeat(scale, axis=0).repeat(scale, axis=1)
    return sheet
