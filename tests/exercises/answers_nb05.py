"""Wrong and right answers to notebook 05's exercises (see answer_kit.py).

The GAN step's answers use their own losses (written with softplus), as a student's step may use the
discriminator_loss and generator_loss of the notebook's first two exercises."""

from answer_kit import Mutant

# the right step with .backward(), plain SGD by hand: mutants change one piece of it
_STEP = """
def gan_step(generator, discriminator, real, z, lr):
    fake = generator(z)
    d_loss = {d_loss}
    discriminator.zero_grad()
    generator.zero_grad()
    d_loss.backward({retain})
    with torch.no_grad():
        for p in discriminator.parameters():
            p {d_move} lr * p.grad
    g_loss = {g_loss}
    discriminator.zero_grad()
    {clear_g}
    g_loss.backward()
    with torch.no_grad():
        for p in {g_params}:
            p -= lr * p.grad
    return d_loss.detach(), g_loss.detach()
"""
_RIGHT = {
    "d_loss": "F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake.detach())).mean()",
    "retain": "",
    "d_move": "-=",
    "g_loss": "F.softplus(-discriminator(fake)).mean()",
    "clear_g": "generator.zero_grad()",
    "g_params": "generator.parameters()",
}


def _step(**change: str) -> str:
    return _STEP.format(**{**_RIGHT, **change})


MUTANTS = {
    "nb05.discriminator_loss": [
        Mutant(
            "labels swapped",
            "def discriminator_loss(real_logits, fake_logits):\n"
            "    return F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()",
            ("labels are swapped",),
        ),
        Mutant(
            "one mean over real and generated together",
            "def discriminator_loss(real_logits, fake_logits):\n"
            "    return torch.cat([F.softplus(-real_logits), F.softplus(fake_logits)]).mean()",
            ("one mean",),
        ),
        Mutant(
            "sum over the batch",
            "def discriminator_loss(real_logits, fake_logits):\n"
            "    return F.softplus(-real_logits).sum() + F.softplus(fake_logits).sum()",
            ("summed",),
        ),
        Mutant(
            "log of sigmoid, which overflows for large logits",
            "def discriminator_loss(real_logits, fake_logits):\n"
            "    real = -torch.log(torch.sigmoid(real_logits)).mean()\n"
            "    return real - torch.log(1 - torch.sigmoid(fake_logits)).mean()",
            ("NaN",),
        ),
        Mutant(
            "the fake term forgotten",
            "def discriminator_loss(real_logits, fake_logits):\n    return F.softplus(-real_logits).mean()",
            ("generated sprites is missing",),
        ),
    ],
    "nb05.generator_loss": [
        Mutant(
            "the saturating (minimax) loss",
            "def generator_loss(fake_logits):\n    return -F.softplus(fake_logits).mean()",
            ("saturating",),
        ),
        Mutant(
            "D's loss on the fakes (label 0)",
            "def generator_loss(fake_logits):\n    return F.softplus(fake_logits).mean()",
            ("label 0",),
        ),
        Mutant(
            "sum over the batch",
            "def generator_loss(fake_logits):\n    return F.softplus(-fake_logits).sum()",
            ("summed",),
        ),
        Mutant(
            "log of sigmoid, which overflows for large negative logits",
            "def generator_loss(fake_logits):\n    return -torch.log(torch.sigmoid(fake_logits)).mean()",
            ("NaN",),
        ),
    ],
    "nb05.gan_step": [
        Mutant(
            "no detach in D's step, and G's gradients not cleared before G's step",
            _step(
                d_loss="F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake)).mean()",
                retain="retain_graph=True",
                clear_g="pass",
            ),
            ("detach",),
        ),
        Mutant(
            "the saturating generator loss",
            _step(g_loss="-F.softplus(discriminator(fake)).mean()"),
            ("saturating",),
        ),
        Mutant("D moved uphill", _step(d_move="+="), ("uphill",)),
        Mutant(
            "G's step moves D too",
            _step(g_params="[*generator.parameters(), *discriminator.parameters()]"),
            ("changed the discriminator too",),
        ),
        Mutant(
            "labels swapped in D's loss",
            _step(d_loss="F.softplus(discriminator(real)).mean() + F.softplus(-discriminator(fake.detach())).mean()"),
            ("labels swapped",),
        ),
        Mutant(
            "G never updated",
            _step(g_params="[]"),
            ("generator's parameters did not change",),
        ),
    ],
}

ALTERNATIVES = {
    "nb05.discriminator_loss": [
        "def discriminator_loss(real_logits, fake_logits):\n"
        "    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))\n"
        "    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))\n"
        "    return real + fake",
        "def discriminator_loss(real_logits, fake_logits):\n"
        "    return -F.logsigmoid(real_logits).mean() - F.logsigmoid(-fake_logits).mean()",
    ],
    "nb05.generator_loss": [
        "def generator_loss(fake_logits):\n"
        "    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))",
        "def generator_loss(fake_logits):\n    return -F.logsigmoid(fake_logits).mean()",
    ],
    "nb05.gan_step": [
        _step(),
        # an optimiser per network, built inside the step (plain SGD is p -= lr * grad)
        "def gan_step(generator, discriminator, real, z, lr):\n"
        "    opt_d = torch.optim.SGD(discriminator.parameters(), lr=lr)\n"
        "    opt_g = torch.optim.SGD(generator.parameters(), lr=lr)\n"
        "    fake = generator(z)\n"
        "    real_logits, fake_logits = discriminator(real), discriminator(fake.detach())\n"
        "    d_loss = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)) + \\\n"
        "        F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))\n"
        "    opt_d.zero_grad()\n"
        "    d_loss.backward()\n"
        "    opt_d.step()\n"
        "    g_loss = -F.logsigmoid(discriminator(fake)).mean()\n"
        "    opt_g.zero_grad()\n"
        "    g_loss.backward()\n"
        "    opt_g.step()\n"
        "    return d_loss.detach(), g_loss.detach()",
        # gradients of each network's own parameters only, with autograd.grad
        "def gan_step(generator, discriminator, real, z, lr):\n"
        "    fake = generator(z)\n"
        "    d_loss = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake.detach())).mean()\n"
        "    d_params = list(discriminator.parameters())\n"
        "    with torch.no_grad():\n"
        "        for p, g in zip(d_params, torch.autograd.grad(d_loss, d_params)):\n"
        "            p.sub_(lr * g)\n"
        "    g_loss = F.softplus(-discriminator(fake)).mean()\n"
        "    g_params = list(generator.parameters())\n"
        "    with torch.no_grad():\n"
        "        for p, g in zip(g_params, torch.autograd.grad(g_loss, g_params)):\n"
        "            p.sub_(lr * g)\n"
        "    return d_loss.detach(), g_loss.detach()",
    ],
}
