"""Wrong and right answers to notebook 04's exercises (see answer_kit.py)."""

from answer_kit import Mutant

# the right VAE loss, for mutants that change one line of it
_LOSS = """
def vae_loss(decoder, sprites, mean, log_var, eps, beta):
    codes = {codes}
    logits = decoder(codes)
    n, _k, h, w = logits.shape
    recon = F.cross_entropy(logits, sprites, reduction="sum") / n
    kl = {kl}
    per_pixel = {per_pixel}
    return {total} * per_pixel, recon * per_pixel, kl * per_pixel
"""
_RIGHT = {
    "codes": "mean + torch.exp(0.5 * log_var) * eps",
    "kl": "(0.5 * (torch.exp(log_var) - 1 - log_var + mean ** 2).sum(dim=1)).mean()",
    "per_pixel": "1 / (h * w * np.log(2))",
    "total": "(recon + beta * kl)",
}


def _loss(**change: str) -> str:
    return _LOSS.format(**{**_RIGHT, **change})


MUTANTS = {
    "nb04.reparameterize": [
        Mutant(
            "exp(log_var) as the standard deviation (the lecture's shorthand)",
            "def reparameterize(mean, log_var, eps):\n    return mean + torch.exp(log_var) * eps",
            ("exp(log_var / 2)",),
        ),
        Mutant(
            "log_var read as the standard deviation",
            "def reparameterize(mean, log_var, eps):\n    return mean + log_var * eps",
            ("log of the variance",),
        ),
        Mutant(
            "the sign of the exponent flipped",
            "def reparameterize(mean, log_var, eps):\n    return mean + torch.exp(-0.5 * log_var) * eps",
            ("sign",),
        ),
        Mutant(
            "the noise left out",
            "def reparameterize(mean, log_var, eps):\n    return mean + torch.exp(0.5 * log_var)",
            ("noise",),
        ),
        Mutant(
            "the mean left out",
            "def reparameterize(mean, log_var, eps):\n    return torch.exp(0.5 * log_var) * eps",
            ("mean is missing",),
        ),
    ],
    "nb04.kl_divergence": [
        Mutant(
            "the lecture's penalty (twice the KL)",
            "def kl_divergence(mean, log_var):\n"
            "    return (torch.exp(log_var) - (1 + log_var) + mean ** 2).sum(dim=-1)",
            ("twice",),
        ),
        Mutant(
            "the notes' sign",
            "def kl_divergence(mean, log_var):\n"
            "    return 0.5 * (1 + log_var - mean ** 2 - torch.exp(log_var)).sum(dim=-1)",
            ("sign",),
        ),
        Mutant(
            "mean over the dimensions instead of the sum",
            "def kl_divergence(mean, log_var):\n"
            "    return 0.5 * (torch.exp(log_var) - 1 - log_var + mean ** 2).mean(dim=-1)",
            ("averaged over the code dimensions",),
        ),
        Mutant(
            "summed over everything (one number)",
            "def kl_divergence(mean, log_var):\n    return 0.5 * (torch.exp(log_var) - 1 - log_var + mean ** 2).sum()",
            ("shape",),
        ),
        Mutant(
            "the -1 left out",
            "def kl_divergence(mean, log_var):\n"
            "    return 0.5 * (torch.exp(log_var) - log_var + mean ** 2).sum(dim=-1)",
            ("−1",),
        ),
    ],
    "nb04.vae_loss": [
        Mutant("nats, not bits", _loss(per_pixel="1 / (h * w)"), ("nats",)),
        Mutant("400 pixels hard-coded", _loss(per_pixel="1 / (400 * np.log(2))"), ("400",)),
        Mutant(
            "the KL term per sprite beside a per-pixel reconstruction",
            _loss(total="(recon + beta * kl * h * w)").replace(
                "recon * per_pixel, kl * per_pixel", "recon * per_pixel, kl * h * w * per_pixel"
            ),
            ("number of pixels",),
        ),
        Mutant(
            "the KL term summed over the batch",
            _loss(kl="0.5 * (torch.exp(log_var) - 1 - log_var + mean ** 2).sum()"),
            ("summed over the sprites",),
        ),
        Mutant(
            "the KL term with the notes' sign",
            _loss(kl="(0.5 * (1 + log_var - mean ** 2 - torch.exp(log_var)).sum(dim=1)).mean()"),
            ("wrong sign",),
        ),
        Mutant("the mean code decoded, not a sample", _loss(codes="mean"), ("mean code",)),
        Mutant(
            "exp(log_var) as the standard deviation of the sampled code",
            _loss(codes="mean + torch.exp(log_var) * eps"),
            ("exp(log_var / 2)",),
        ),
        Mutant("beta on the reconstruction", _loss(total="(beta * recon + kl)"), ("beta weighs the KL",)),
        Mutant("beta left out", _loss(total="(recon + kl)"), ("leaves out beta",)),
    ],
    "nb04.grid_codes": [
        Mutant(
            "dim_x and dim_y swapped",
            "def grid_codes(base, dim_x, dim_y, values):\n"
            "    n = len(values)\n"
            "    codes = base.repeat(n * n, 1)\n"
            "    codes[:, dim_x] = values.repeat_interleave(n)\n"
            "    codes[:, dim_y] = values.repeat(n)\n"
            "    return codes",
            ("swapped",),
        ),
        Mutant(
            "both dimensions from the column",
            "def grid_codes(base, dim_x, dim_y, values):\n"
            "    n = len(values)\n"
            "    codes = base.repeat(n * n, 1)\n"
            "    codes[:, dim_y] = values.repeat(n)\n"
            "    codes[:, dim_x] = values.repeat(n)\n"
            "    return codes",
            ("same value",),
        ),
        Mutant(
            "an (n, n, D) grid instead of (n², D) rows",
            "def grid_codes(base, dim_x, dim_y, values):\n"
            "    n = len(values)\n"
            "    codes = base.repeat(n, n, 1)\n"
            "    codes[:, :, dim_y] = values[:, None]\n"
            "    codes[:, :, dim_x] = values[None, :]\n"
            "    return codes",
            ("shape",),
        ),
        Mutant(
            "values run backwards",
            "def grid_codes(base, dim_x, dim_y, values):\n"
            "    n = len(values)\n"
            "    codes = base.repeat(n * n, 1)\n"
            "    codes[:, dim_y] = values.flip(0).repeat_interleave(n)\n"
            "    codes[:, dim_x] = values.flip(0).repeat(n)\n"
            "    return codes",
            ("backwards",),
        ),
    ],
}

ALTERNATIVES = {
    "nb04.reparameterize": [
        "def reparameterize(mean, log_var, eps):\n    return mean + torch.sqrt(torch.exp(log_var)) * eps",
        "def reparameterize(mean, log_var, eps):\n    return torch.addcmul(mean, eps, (log_var / 2).exp())",
    ],
    "nb04.kl_divergence": [
        "def kl_divergence(mean, log_var):\n"
        "    var = log_var.exp()\n"
        "    return (var + mean.pow(2) - 1 - log_var).sum(-1) / 2",
        "def kl_divergence(mean, log_var):\n"
        "    q = torch.distributions.Normal(mean, torch.exp(0.5 * log_var))\n"
        "    p = torch.distributions.Normal(torch.zeros_like(mean), torch.ones_like(mean))\n"
        "    return torch.distributions.kl_divergence(q, p).sum(dim=1)",
    ],
    "nb04.vae_loss": [
        # the per-pixel mean cross-entropy, and the KL divided by the pixels too
        "import math\n"
        "def vae_loss(decoder, sprites, mean, log_var, eps, beta):\n"
        "    logits = decoder(mean + torch.exp(log_var / 2) * eps)\n"
        "    pixels = sprites.shape[1] * sprites.shape[2]\n"
        "    recon = F.cross_entropy(logits, sprites) / math.log(2)\n"
        "    kl = 0.5 * (log_var.exp() - 1 - log_var + mean ** 2).sum(1).mean() / (pixels * math.log(2))\n"
        "    return recon + beta * kl, recon, kl",
        # log-probabilities gathered by hand, bits with log2
        "def vae_loss(decoder, sprites, mean, log_var, eps, beta):\n"
        "    logits = decoder(mean + (0.5 * log_var).exp() * eps)\n"
        "    logp = torch.log_softmax(logits, dim=1).gather(1, sprites[:, None]).squeeze(1)\n"
        "    recon = -logp.mean() / np.log(2)\n"
        "    q = torch.distributions.Normal(mean, (0.5 * log_var).exp())\n"
        "    p = torch.distributions.Normal(0.0, 1.0)\n"
        "    kl = torch.distributions.kl_divergence(q, p).sum(1).mean() / (sprites[0].numel() * np.log(2))\n"
        "    loss = recon + beta * kl\n"
        "    return loss, recon, kl",
    ],
    "nb04.grid_codes": [
        "def grid_codes(base, dim_x, dim_y, values):\n"
        "    rows = []\n"
        "    for vy in values:\n"
        "        for vx in values:\n"
        "            code = base.clone()\n"
        "            code[dim_y], code[dim_x] = vy, vx\n"
        "            rows.append(code)\n"
        "    return torch.stack(rows)",
        "def grid_codes(base, dim_x, dim_y, values):\n"
        "    yy, xx = torch.meshgrid(values, values, indexing='ij')\n"
        "    codes = base.expand(yy.numel(), -1).clone()\n"
        "    codes[:, dim_y], codes[:, dim_x] = yy.reshape(-1), xx.reshape(-1)\n"
        "    return codes",
    ],
}
