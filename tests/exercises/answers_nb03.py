"""Wrong and right answers to notebook 03's exercises (see answer_kit.py)."""

from answer_kit import Mutant

MUTANTS = {
    "nb03.bits": [
        Mutant(
            "nats instead of bits",
            "def bits_per_pixel_from_logits(logits, targets):\n"
            "    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))",
            ("nats",),
        ),
    ],
}

ALTERNATIVES = {
    "nb03.bits": [
        "def bits_per_pixel_from_logits(logits, targets):\n"
        "    logp = torch.log_softmax(logits, dim=-1).gather(-1, targets.unsqueeze(-1))\n"
        "    return -logp.mean() / np.log(2)",
    ],
}
