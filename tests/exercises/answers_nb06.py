"""Wrong and right answers to notebook 06's exercises (see answer_kit.py)."""

from answer_kit import Mutant

# the right beam search: mutants change one piece of it
_BEAM = """
def beam_search(next_log_probs, beam_size, max_len):
    beams = [(0.0, [1])]
    finished = []
    for _ in range(max_len):
        log_p = next_log_probs(torch.tensor([prefix for _, prefix in beams]))
        scores = torch.tensor([score for score, _ in beams])[:, None] + log_p
        top = torch.topk(scores.flatten(), {keep})
        live = []
        for score, index in zip(top.values.tolist(), top.indices.tolist()):
            b, word = divmod(index, log_p.shape[1])
            words = beams[b][1][1:]
            if word == 2:
                finished.append((score / {length}, words{end}))
            else:
                live.append((score, beams[b][1] + [word]))
        if not live or len(finished) >= {enough}:
            break
        beams = live
    if not finished:
        finished = [(score / max(len(prefix) - 1, 1), prefix[1:]) for score, prefix in beams]
    best = max(finished, key=lambda f: f[0])
    return torch.tensor(best[1], dtype=torch.long)
"""
_RIGHT = {"keep": "beam_size", "length": "(len(words) + 1)", "end": "", "enough": "beam_size"}


def _beam(**change: str) -> str:
    return _BEAM.format(**{**_RIGHT, **change})


MUTANTS = {
    "nb06.kl_weight": [
        Mutant(
            "no cap at 1",
            "def kl_weight(step, warmup_steps):\n"
            "    if warmup_steps <= 0:\n"
            "        return 1.0\n"
            "    return step / warmup_steps",
            ("min(1",),
        ),
        Mutant(
            "warm-up 0 gives weight 0",
            "def kl_weight(step, warmup_steps):\n"
            "    return min(1.0, step / max(warmup_steps, 1)) if warmup_steps else 0.0",
            ("no annealing",),
        ),
        Mutant(
            "integer division",
            "def kl_weight(step, warmup_steps):\n"
            "    if warmup_steps <= 0:\n"
            "        return 1.0\n"
            "    return float(min(1, step // warmup_steps))",
            ("integer division",),
        ),
        Mutant(
            "off by one",
            "def kl_weight(step, warmup_steps):\n"
            "    if warmup_steps <= 0:\n"
            "        return 1.0\n"
            "    return min(1.0, (step + 1) / warmup_steps)",
            ("off by one",),
        ),
    ],
    "nb06.greedy_next_tokens": [
        Mutant(
            "finished sentences not padded",
            "def greedy_next_tokens(logits, finished, pad_id=0):\n    return logits.argmax(dim=-1)",
            ("padding id",),
        ),
        Mutant(
            "padding where finished is False",
            "def greedy_next_tokens(logits, finished, pad_id=0):\n"
            "    nxt = logits.argmax(dim=-1)\n"
            "    return torch.where(finished, nxt, torch.full_like(nxt, pad_id))",
            ("where finished is True",),
        ),
        Mutant(
            "argmin",
            "def greedy_next_tokens(logits, finished, pad_id=0):\n"
            "    nxt = logits.argmin(dim=-1)\n"
            "    return torch.where(finished, torch.full_like(nxt, pad_id), nxt)",
            ("argmax",),
        ),
        Mutant(
            "floats instead of word ids",
            "def greedy_next_tokens(logits, finished, pad_id=0):\n"
            "    nxt = logits.argmax(dim=-1).float()\n"
            "    return torch.where(finished, torch.full_like(nxt, pad_id), nxt)",
            ("integers",),
        ),
    ],
    "nb06.beam_search": [
        Mutant("greedy: only the best candidate kept", _beam(keep="1", enough="1"), ("greedy",)),
        Mutant("no division by the length", _beam(length="1"), ("divided by their length",)),
        Mutant("divided by the words, not words + </s>", _beam(length="max(len(words), 1)"), ("plus one",)),
        Mutant("stops at the first finished sentence", _beam(enough="1"), ("search goes on",)),
        Mutant("</s> left in the sentence", _beam(end=" + [2]"), ("leave </s> out",)),
    ],
    "nb06.interpolate_codes": [
        Mutant(
            "the far end left out",
            "def interpolate_codes(z_a, z_b, n_steps):\n"
            "    t = torch.arange(n_steps)[:, None] / n_steps\n"
            "    return z_a[None] + t * (z_b - z_a)[None]",
            ("both ends",),
        ),
        Mutant(
            "from z_b to z_a",
            "def interpolate_codes(z_a, z_b, n_steps):\n"
            "    t = torch.linspace(0, 1, n_steps)[:, None]\n"
            "    return z_b[None] + t * (z_a - z_b)[None]",
            ("row 0 is z_a",),
        ),
        Mutant(
            "one column per step",
            "def interpolate_codes(z_a, z_b, n_steps):\n"
            "    t = torch.linspace(0, 1, n_steps)[None, :]\n"
            "    return z_a[:, None] + t * (z_b - z_a)[:, None]",
            ("transpose",),
        ),
        Mutant(
            "t * z_b instead of t * (z_b - z_a)",
            "def interpolate_codes(z_a, z_b, n_steps):\n"
            "    t = torch.linspace(0, 1, n_steps)[:, None]\n"
            "    return z_a[None] + t * z_b[None]",
            ("not t * z_b",),
        ),
    ],
}

ALTERNATIVES = {
    "nb06.kl_weight": [
        "def kl_weight(step, warmup_steps):\n    return 1.0 if warmup_steps <= 0 else min(step / warmup_steps, 1.0)",
        "def kl_weight(step, warmup_steps):\n"
        "    if warmup_steps > 0 and step < warmup_steps:\n"
        "        return step / warmup_steps\n"
        "    return 1.0",
    ],
    "nb06.greedy_next_tokens": [
        "def greedy_next_tokens(logits, finished, pad_id=0):\n"
        "    return logits.max(dim=-1).indices.masked_fill(finished, pad_id)",
        "def greedy_next_tokens(logits, finished, pad_id=0):\n"
        "    nxt = torch.topk(logits, 1, dim=1).indices[:, 0]\n"
        "    nxt[finished] = pad_id\n"
        "    return nxt",
    ],
    "nb06.beam_search": [
        _beam(),
        # hypotheses as dicts, candidates sorted in Python
        "def beam_search(next_log_probs, beam_size, max_len):\n"
        "    beams = [{'score': 0.0, 'ids': [1]}]\n"
        "    done = []\n"
        "    for step in range(max_len):\n"
        "        log_p = next_log_probs(torch.tensor([b['ids'] for b in beams])).tolist()\n"
        "        candidates = [(b['score'] + lp, i, w) for i, b in enumerate(beams) for w, lp in enumerate(log_p[i])]\n"
        "        candidates.sort(key=lambda c: -c[0])\n"
        "        beams_next = []\n"
        "        for score, i, w in candidates[:beam_size]:\n"
        "            words = beams[i]['ids'][1:]\n"
        "            if w == 2:\n"
        "                done.append((score / (len(words) + 1), words))\n"
        "            else:\n"
        "                beams_next.append({'score': score, 'ids': beams[i]['ids'] + [w]})\n"
        "        if len(done) >= beam_size or not beams_next:\n"
        "            break\n"
        "        beams = beams_next\n"
        "    if not done:\n"
        "        done = [(b['score'] / max(len(b['ids']) - 1, 1), b['ids'][1:]) for b in beams]\n"
        "    return torch.tensor(max(done, key=lambda d: d[0])[1], dtype=torch.long)",
    ],
    "nb06.interpolate_codes": [
        "def interpolate_codes(z_a, z_b, n_steps):\n"
        "    return torch.stack([torch.lerp(z_a, z_b, float(t)) for t in torch.linspace(0, 1, n_steps)])",
        "def interpolate_codes(z_a, z_b, n_steps):\n"
        "    t = torch.linspace(0.0, 1.0, n_steps).unsqueeze(1)\n"
        "    return (1 - t) * z_a + t * z_b",
    ],
}
