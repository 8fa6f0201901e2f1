"""Wrong and right answers to notebook 03's exercises (see answer_kit.py)."""

from answer_kit import Mutant


def _step(forward: str, loss: str = "", update: str = "p -= lr * p.grad", result: str = "loss.detach()") -> str:
    """A training_step answer: `forward` sets `logits` (and `targets`), then the loss in bits and the SGD step."""
    loss = loss or "F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)) / np.log(2)"
    return (
        "def training_step(model, pixels, lr):\n"
        f"{forward}"
        f"    loss = {loss}\n"
        "    model.zero_grad()\n"
        "    loss.backward()\n"
        "    with torch.no_grad():\n"
        "        for p in model.parameters():\n"
        f"            {update}\n"
        f"    return {result}\n"
    )


_SHIFTED = (
    "    start = torch.full_like(pixels[:, :1], model.start_token)\n"
    "    inputs = torch.cat([start, pixels[:, :-1]], dim=1)\n"
    "    hidden, _ = model.lstm(model.embedding(inputs))\n"
    "    logits, targets = model.out(hidden), pixels\n"
)

MUTANTS = {
    "nb03.shift": [
        Mutant(
            "no start token (drops the last pixel only)",
            "def shift_right(pixels, start_token):\n    return pixels[:, :-1]",
            ("as long as the pixels",),
        ),
        Mutant(
            "no shift at all",
            "def shift_right(pixels, start_token):\n    return pixels.clone()",
            ("no shift",),
        ),
        Mutant(
            "shifted left",
            "def shift_right(pixels, start_token):\n"
            "    return torch.cat([pixels[:, 1:], torch.full_like(pixels[:, :1], start_token)], dim=1)",
            ("wrong way",),
        ),
        Mutant(
            "start token 0",
            "def shift_right(pixels, start_token):\n"
            "    return torch.cat([torch.zeros_like(pixels[:, :1]), pixels[:, :-1]], dim=1)",
            ("not 0",),
        ),
        Mutant(
            "floats",
            "def shift_right(pixels, start_token):\n"
            "    return torch.cat([torch.full((len(pixels), 1), float(start_token)), pixels[:, :-1].float()], dim=1)",
            ("not floats",),
        ),
    ],
    "nb03.temperature": [
        Mutant(
            "no max subtracted (exp overflows)",
            "def softmax_with_temperature(logits, temperature):\n"
            "    w = torch.exp(logits / temperature)\n"
            "    return w / w.sum(dim=-1, keepdim=True)",
            ("NaN",),
        ),
        Mutant(
            "multiplied by the temperature",
            "def softmax_with_temperature(logits, temperature):\n"
            "    return torch.softmax(logits * temperature, dim=-1)",
            ("multiplied",),
        ),
        Mutant(
            "softmax down the columns",
            "def softmax_with_temperature(logits, temperature):\n    return torch.softmax(logits / temperature, dim=0)",
            ("each row",),
        ),
        Mutant(
            "not normalised",
            "def softmax_with_temperature(logits, temperature):\n"
            "    s = logits / temperature\n"
            "    return torch.exp(s - s.max(dim=-1, keepdim=True).values)",
            ("sum to 1",),
        ),
    ],
    "nb03.bits": [
        Mutant(
            "nats instead of bits",
            "def bits_per_pixel_from_logits(logits, targets):\n"
            "    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))",
            ("nats",),
        ),
        Mutant(
            "log2 p without the minus",
            "def bits_per_pixel_from_logits(logits, targets):\n"
            "    return torch.log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).mean() / np.log(2)",
            ("sign",),
        ),
        Mutant(
            "a sum over the pixels",
            "def bits_per_pixel_from_logits(logits, targets):\n"
            "    return -torch.log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).sum() / np.log(2)",
            ("summed",),
        ),
        Mutant(
            "logits taken as log-probabilities",
            "def bits_per_pixel_from_logits(logits, targets):\n"
            "    return -logits.gather(-1, targets.unsqueeze(-1)).mean() / np.log(2)",
            ("log_softmax",),
        ),
        Mutant(
            "one number per pixel",
            "def bits_per_pixel_from_logits(logits, targets):\n"
            "    return -torch.log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1) / np.log(2)",
            ("one number",),
        ),
    ],
    "nb03.training_step": [
        Mutant("no update", _step(_SHIFTED, update="pass"), ("did not change",)),
        Mutant("gradient ascent", _step(_SHIFTED, update="p += lr * p.grad"), ("uphill",)),
        Mutant(
            "the loss in nats",
            _step(_SHIFTED, loss="F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))"),
            ("nats",),
        ),
        Mutant(
            "a sum over the pixels",
            _step(
                _SHIFTED,
                loss="F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction='sum')"
                " / np.log(2)",
            ),
            ("mean",),
        ),
        Mutant(
            "no teacher-forcing shift",
            _step("    logits, targets = model.out(model.lstm(model.embedding(pixels))[0]), pixels\n"),
            ("teacher-forcing",),
        ),
        Mutant(
            "no start token (pixel 0 never predicted)",
            _step(
                "    logits = model.out(model.lstm(model.embedding(pixels[:, :-1]))[0])\n    targets = pixels[:, 1:]\n"
            ),
            ("start token",),
        ),
        Mutant(
            "the loss after the step returned",
            _step(
                _SHIFTED,
                result="F.cross_entropy(model.out(model.lstm(model.embedding(inputs))[0]).reshape(-1, model.n_colors),"
                " pixels.reshape(-1)).detach() / np.log(2)",
            ),
            ("before the step",),
        ),
    ],
}

ALTERNATIVES = {
    "nb03.shift": [
        "def shift_right(pixels, start_token):\n"
        "    out = torch.empty_like(pixels)\n"
        "    out[:, 0] = start_token\n"
        "    out[:, 1:] = pixels[:, :-1]\n"
        "    return out",
        "def shift_right(pixels, start_token):\n    return F.pad(pixels, (1, 0), value=start_token)[:, :-1]",
    ],
    "nb03.temperature": [
        "def softmax_with_temperature(logits, temperature):\n    return torch.softmax(logits / temperature, dim=-1)",
        "def softmax_with_temperature(logits, temperature):\n"
        "    return torch.exp(torch.log_softmax(logits / temperature, dim=-1))",
    ],
    "nb03.bits": [
        "def bits_per_pixel_from_logits(logits, targets):\n"
        "    logp = torch.log_softmax(logits, dim=-1).gather(-1, targets.unsqueeze(-1))\n"
        "    return -logp.mean() / np.log(2)",
        "def bits_per_pixel_from_logits(logits, targets):\n"
        "    return float(F.cross_entropy(logits.flatten(0, -2), targets.flatten()) / np.log(2))",
    ],
    "nb03.training_step": [
        _step(_SHIFTED),
        # the shift written out, the loss from log_softmax, torch.autograd.grad instead of backward()
        "def training_step(model, pixels, lr):\n"
        "    inputs = F.pad(pixels, (1, 0), value=model.start_token)[:, :-1]\n"
        "    out, _ = model.lstm(model.embedding(inputs))\n"
        "    logp = torch.log_softmax(model.out(out), -1).gather(-1, pixels.unsqueeze(-1))\n"
        "    loss = -logp.mean() / np.log(2)\n"
        "    grads = torch.autograd.grad(loss, list(model.parameters()))\n"
        "    with torch.no_grad():\n"
        "        for p, g in zip(model.parameters(), grads):\n"
        "            p.sub_(lr * g)\n"
        "    return float(loss.detach())\n",
    ],
}
