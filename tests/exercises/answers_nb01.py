"""Wrong and right answers to notebook 01's exercises (see answer_kit.py)."""

from answer_kit import Mutant

# a correct draw_colour, for the drawing loops below (the notebook's own cell defines it before draw_pictures)
_DRAW_COLOUR = (
    "def draw_colour(probs, u):\n"
    "    cdf = torch.cumsum(probs, dim=-1)\n"
    "    return (cdf <= u.unsqueeze(-1)).sum(dim=-1).clamp(max=probs.shape[-1] - 1)\n\n"
)


def _loop(body: str) -> str:
    """A draw_pictures answer whose loop body is `body` (indented 12 spaces), with draw_colour defined."""
    return (
        _DRAW_COLOUR + "def draw_pictures(model, prefix, temperature, generator):\n"
        "    drawn = prefix.clone()\n"
        "    with torch.no_grad():\n"
        "        while drawn.shape[1] < 9:\n" + body + "    return drawn\n"
    )


_RIGHT_BODY = (
    "            probs = torch.softmax(model.next_pixel_logits(drawn) / temperature, dim=-1)\n"
    "            u = torch.rand(len(drawn), generator=generator)\n"
    "            drawn = torch.cat([drawn, draw_colour(probs, u)[:, None]], dim=1)\n"
)

MUTANTS = {
    "nb01.pad_prefix": [
        Mutant(
            "zeros before the pixels",
            "def pad_prefix(prefix_rgb, n_slots=8):\n"
            "    b, t, _ = prefix_rgb.shape\n"
            "    return torch.cat([prefix_rgb.new_zeros(b, (n_slots - t) * 3), prefix_rgb.reshape(b, -1)], dim=1)",
            ("zeros come after",),
        ),
        Mutant(
            "channels first (a transpose)",
            "def pad_prefix(prefix_rgb, n_slots=8):\n"
            "    b, t, _ = prefix_rgb.shape\n"
            "    flat = prefix_rgb.transpose(1, 2).reshape(b, -1)\n"
            "    return torch.cat([flat, prefix_rgb.new_zeros(b, (n_slots - t) * 3)], dim=1)",
            ("wrong order",),
        ),
        Mutant(
            "always 8 slots",
            "def pad_prefix(prefix_rgb, n_slots=8):\n"
            "    b, t, _ = prefix_rgb.shape\n"
            "    return torch.cat([prefix_rgb.reshape(b, -1), prefix_rgb.new_zeros(b, (8 - t) * 3)], dim=1)",
            ("use n_slots",),
        ),
        Mutant(
            "pads with ones",
            "def pad_prefix(prefix_rgb, n_slots=8):\n"
            "    b, t, _ = prefix_rgb.shape\n"
            "    return torch.cat([prefix_rgb.reshape(b, -1), prefix_rgb.new_ones(b, (n_slots - t) * 3)], dim=1)",
            ("hold zeros",),
        ),
    ],
    "nb01.image_log_prob": [
        Mutant(
            "a mean over the steps instead of the sum",
            "def image_log_prob(step_probs, images):\n"
            "    return torch.log(step_probs.gather(-1, images.unsqueeze(-1)).squeeze(-1)).mean(dim=1)",
            ("averaged",),
        ),
        Mutant(
            "log base 2",
            "def image_log_prob(step_probs, images):\n"
            "    return torch.log2(step_probs.gather(-1, images.unsqueeze(-1)).squeeze(-1)).sum(dim=1)",
            ("base 2",),
        ),
        Mutant(
            "the negative log (the loss) instead of the log",
            "def image_log_prob(step_probs, images):\n"
            "    return -torch.log(step_probs.gather(-1, images.unsqueeze(-1)).squeeze(-1)).sum(dim=1)",
            ("sign",),
        ),
        Mutant(
            "the probability, not its log",
            "def image_log_prob(step_probs, images):\n"
            "    return step_probs.gather(-1, images.unsqueeze(-1)).squeeze(-1).prod(dim=1)",
            ("p(picture)",),
        ),
        Mutant(
            "every colour's log added, not the true colour's",
            "def image_log_prob(step_probs, images):\n    return torch.log(step_probs).sum(dim=(1, 2))",
            ("every colour",),
        ),
    ],
    "nb01.draw_colour": [
        Mutant(
            "no final clamp (float rounding gives index K)",
            "def draw_colour(probs, u):\n    return (torch.cumsum(probs, dim=-1) <= u[:, None]).sum(dim=-1)",
            ("does not exist",),
        ),
        Mutant(
            "< instead of <= (u on a cumulative probability)",
            "def draw_colour(probs, u):\n"
            "    return (torch.cumsum(probs, -1) < u[:, None]).sum(-1).clamp(max=probs.shape[-1] - 1)",
            ("exactly on",),
        ),
        Mutant(
            "the most likely colour, u ignored",
            "def draw_colour(probs, u):\n    return probs.argmax(dim=-1)",
            ("most likely",),
        ),
        Mutant(
            "minus one (the last colour below u)",
            "def draw_colour(probs, u):\n    return (torch.cumsum(probs, -1) <= u[:, None]).sum(-1) - 1",
            ("negative index",),
        ),
        Mutant(
            "cumulative sum down the batch",
            "def draw_colour(probs, u):\n"
            "    return (torch.cumsum(probs, dim=0) <= u[:, None]).sum(-1).clamp(max=probs.shape[-1] - 1)",
            ("last axis",),
        ),
        Mutant(
            "float indices",
            "def draw_colour(probs, u):\n"
            "    return (torch.cumsum(probs, -1) <= u[:, None]).float().sum(-1).clamp(max=probs.shape[-1] - 1)",
            ("integers", "dtype"),
        ),
    ],
    "nb01.draw_pictures": [
        Mutant(
            "argmax instead of sampling",
            _loop(
                "            probs = torch.softmax(model.next_pixel_logits(drawn) / temperature, dim=-1)\n"
                "            drawn = torch.cat([drawn, probs.argmax(-1)[:, None]], dim=1)\n"
            ),
            ("argmax",),
        ),
        Mutant(
            "the drawn pixel is not fed back (always the prefix)",
            _loop(
                "            probs = torch.softmax(model.next_pixel_logits(prefix) / temperature, dim=-1)\n"
                "            u = torch.rand(len(drawn), generator=generator)\n"
                "            drawn = torch.cat([drawn, draw_colour(probs, u)[:, None]], dim=1)\n"
            ),
            ("drawn so far",),
        ),
        Mutant(
            "one u for the whole picture",
            _DRAW_COLOUR + "def draw_pictures(model, prefix, temperature, generator):\n"
            "    drawn = prefix.clone()\n"
            "    u = torch.rand(len(drawn), generator=generator)\n"
            "    with torch.no_grad():\n"
            "        while drawn.shape[1] < 9:\n"
            "            probs = torch.softmax(model.next_pixel_logits(drawn) / temperature, dim=-1)\n"
            "            drawn = torch.cat([drawn, draw_colour(probs, u)[:, None]], dim=1)\n"
            "    return drawn\n",
            ("new u at every step",),
        ),
        Mutant(
            "temperature multiplies the logits",
            _loop(_RIGHT_BODY.replace("/ temperature", "* temperature")),
            ("multiplied",),
        ),
        Mutant(
            "temperature forgotten",
            _loop(_RIGHT_BODY.replace(" / temperature", "")),
            ("temperature was not used",),
        ),
        Mutant(
            "nine new pixels after the prefix (the prefix not counted)",
            _DRAW_COLOUR + "def draw_pictures(model, prefix, temperature, generator):\n"
            "    drawn = prefix.clone()\n"
            "    with torch.no_grad():\n"
            "        for _ in range(9):\n" + _RIGHT_BODY + "    return drawn\n",
            ("longer than 9",),
        ),
        Mutant(
            "only the drawn pixels returned",
            _loop(_RIGHT_BODY).replace("    return drawn\n", "    return drawn[:, prefix.shape[1]:]\n"),
            ("whole pictures",),
        ),
    ],
}

ALTERNATIVES = {
    "nb01.pad_prefix": [
        "def pad_prefix(prefix_rgb, n_slots=8):\n"
        "    return F.pad(prefix_rgb, (0, 0, 0, n_slots - prefix_rgb.shape[1])).reshape(len(prefix_rgb), -1)",
        "def pad_prefix(prefix_rgb, n_slots=8):\n"
        "    out = torch.zeros(prefix_rgb.shape[0], n_slots * 3, dtype=prefix_rgb.dtype)\n"
        "    out[:, : prefix_rgb.shape[1] * 3] = prefix_rgb.flatten(1)\n"
        "    return out",
    ],
    "nb01.image_log_prob": [
        "def image_log_prob(step_probs, images):\n"
        "    b, t = images.shape\n"
        "    return torch.log(step_probs[torch.arange(b)[:, None], torch.arange(t), images]).sum(1)",
        "def image_log_prob(step_probs, images):\n"
        "    return (F.one_hot(images, step_probs.shape[-1]) * torch.log(step_probs)).sum(dim=(1, 2))",
    ],
    "nb01.draw_colour": [
        "def draw_colour(probs, u):\n"
        "    cdf = torch.cumsum(probs, -1)\n"
        "    return torch.searchsorted(cdf, u[:, None], right=True)[:, 0].clamp(max=probs.shape[-1] - 1)",
        "def draw_colour(probs, u):\n"
        "    out = []\n"
        "    for row, x in zip(probs.tolist(), u.tolist()):\n"
        "        cdf = np.cumsum(np.array(row, dtype=np.float32))\n"
        "        out.append(min(int((cdf <= np.float32(x)).sum()), len(row) - 1))\n"
        "    return torch.tensor(out)",
    ],
    "nb01.draw_pictures": [
        _loop(_RIGHT_BODY),
        _DRAW_COLOUR + "def draw_pictures(model, prefix, temperature, generator):\n"
        "    pictures = [row for row in prefix.T]\n"
        "    for _ in range(9 - prefix.shape[1]):\n"
        "        with torch.no_grad():\n"
        "            logits = model.next_pixel_logits(torch.stack(pictures, 1) if pictures else prefix)\n"
        "        p = F.softmax(logits / temperature, dim=1)\n"
        "        pictures.append(draw_colour(p, torch.rand(p.shape[0], generator=generator)))\n"
        "    return torch.stack(pictures, 1) if pictures else prefix.clone()",
    ],
}
