"""A sentence VAE (Bowman et al. 2016): a GRU encoder reads a sentence into a Gaussian code, a GRU
decoder writes a sentence from a code.

Two tricks keep the decoder from ignoring the code (posterior collapse):
- KL annealing: the KL term's weight grows from 0 to 1 over the first steps (`kl_weight`), so the
  encoder learns to put information into the code before the KL term pushes it out;
- word dropout: some of the decoder's input words are replaced by <unk>, so the decoder cannot
  guess every next word from the words before it and has to read the code.
The code also enters the decoder at every step (concatenated to the word embedding), not only as its
first hidden state as in the paper: the decoder then cannot "forget" it after a few words.

Decoding is greedy by default; beam search and sampling (with a temperature) are options.
`train_main` trains on the kit's corpus or on any one-sentence-per-line text file (`--text FILE`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from lecturekit.checkpoints import register_model
from lecturekit.i18n import _
from lecturekit.models.common import reparameterize
from lecturekit.settings import add_config_options

PAD, BOS, EOS, UNK = 0, 1, 2, 3


@dataclass(frozen=True)
class SentenceVAEConfig:
    """One home for the sentence VAE's settings: its shape and its training recipe (the vocabulary size
    comes from the data). `train_sentence_vae`'s defaults and the CLI's read them from here; a test holds
    them to what the shipped checkpoint stores (its config, `extra["train"]` and the command it was run with)."""

    # architecture (SentenceVAE's constructor arguments besides vocab_size)
    embed_dim: int = 128
    hidden_dim: int = 256
    latent_dim: int = 16
    max_len: int = 24
    # training recipe
    word_dropout: float = 0.5
    warmup_steps: int = 1500
    epochs: int | None = 12
    batch_size: int = 64
    lr: float = 2e-3
    minutes: float | None = 10.0
    seed: int = 0

    @classmethod
    def from_checkpoint(cls, blob: dict[str, Any]) -> SentenceVAEConfig:
        """The settings a sentence VAE checkpoint was trained with: its stored config, `extra["train"]`, and
        the options of the command it was trained with (read with the CLI's own parser)."""
        train = blob["extra"].get("train", {})
        command = str(train.get("command", "")).split("train sentence_vae", 1)[-1].split()
        args = vars(_parser().parse_args(command))
        stored = {**args, **{k: v for k, v in train.items() if k != "command"}, **blob["meta"]["config"]}
        return cls(**{f.name: stored[f.name] for f in fields(cls) if f.name in stored})


DEFAULTS: dict[str, Any] = asdict(SentenceVAEConfig())  # the same settings as a dict (notebook 06 reads it)
LECTURE_SENTENCES = ("i went to the store to buy some groceries", "don't worry about it, she said")


class SentenceError(ValueError):
    """Input the sentence VAE cannot use (empty sentence, empty file); the message says what to do."""


# ----------------------------------------------------------------------------------------------- model
@register_model("sentence_vae")
class SentenceVAE(nn.Module):
    """GRU encoder -> (mean, log-variance) of a `latent_dim` Gaussian code -> GRU decoder.

    Token ids follow the kit's Vocab: <pad>=0, <s>=1, </s>=2, <unk>=3.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = SentenceVAEConfig.embed_dim,
        hidden_dim: int = SentenceVAEConfig.hidden_dim,
        latent_dim: int = SentenceVAEConfig.latent_dim,
        max_len: int = SentenceVAEConfig.max_len,
    ) -> None:
        super().__init__()
        self.config = {
            "vocab_size": int(vocab_size),
            "embed_dim": int(embed_dim),
            "hidden_dim": int(hidden_dim),
            "latent_dim": int(latent_dim),
            "max_len": int(max_len),
        }
        self.latent_dim = latent_dim
        self.max_len = max_len
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        # bidirectional encoder, half the width each way: its two last states together are hidden_dim wide
        self.encoder = nn.GRU(embed_dim, hidden_dim // 2, batch_first=True, bidirectional=True)
        self.to_mean = nn.Linear(2 * (hidden_dim // 2), latent_dim)
        self.to_log_var = nn.Linear(2 * (hidden_dim // 2), latent_dim)
        self.code_to_hidden = nn.Linear(latent_dim, hidden_dim)
        self.decoder = nn.GRU(embed_dim + latent_dim, hidden_dim, batch_first=True)
        self.out = nn.Linear(hidden_dim, vocab_size)
        self._vocab: Any = None

    # -- the vocabulary travels with the shipped checkpoint (extra["vocab"])
    @property
    def vocab(self) -> Any:
        """The Vocab this model was trained with (from the checkpoint it was loaded from)."""
        if self._vocab is None:
            blob = getattr(self, "checkpoint", None)
            if blob is None or "vocab" not in blob.get("extra", {}):
                raise SentenceError(
                    "this model has no vocabulary attached: load it with "
                    "lecturekit.load_pretrained('sentence_vae') or set model.vocab = vocab."
                )
            from lecturekit.corpus import Vocab

            self._vocab = Vocab.from_dict(blob["extra"]["vocab"])
        return self._vocab

    @vocab.setter
    def vocab(self, value: Any) -> None:
        self._vocab = value

    def encode(self, ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, log_var), each (N, latent_dim), of q(z | sentence) for padded `ids` (N, T)."""
        packed = pack_padded_sequence(
            self.embedding(ids), lengths.cpu().clamp(min=1), batch_first=True, enforce_sorted=False
        )
        _, h = self.encoder(packed)  # (2, N, H): last state of each direction
        h = torch.cat([h[0], h[1]], dim=-1)
        return self.to_mean(h), self.to_log_var(h)

    def initial_hidden(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.code_to_hidden(z)).unsqueeze(0)

    def decoder_logits(
        self, inputs: torch.Tensor, z: torch.Tensor, hidden: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Next-word logits (N, T, V) for decoder input ids (N, T) and codes (N, latent), and the last hidden."""
        if hidden is None:
            hidden = self.initial_hidden(z)
        emb = self.embedding(inputs)
        x = torch.cat([emb, z.unsqueeze(1).expand(-1, inputs.shape[1], -1)], dim=-1)
        output, hidden = self.decoder(x, hidden)
        return self.out(output), hidden

    def forward(
        self, ids: torch.Tensor, lengths: torch.Tensor, word_dropout: float = 0.0, sample: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Teacher-forced pass: (logits (N, T, V), mean, log_var). `ids` hold w1..wn </s> then <pad>."""
        mean, log_var = self.encode(ids, lengths)
        z = reparameterize(mean, log_var) if sample else mean
        inputs = decoder_inputs(ids)
        if word_dropout > 0:
            inputs = apply_word_dropout(inputs, word_dropout)
        logits, _ = self.decoder_logits(inputs, z)
        return logits, mean, log_var

    # -- decoding
    @torch.inference_mode()
    def decode(
        self,
        z: torch.Tensor,
        method: str = "greedy",
        max_len: int | None = None,
        beam_size: int = 5,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
        choose: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    ) -> list[list[int]]:
        """Token ids (without <s>/</s>) decoded from codes `z` (N, latent_dim).

        method: "greedy" (the most likely next word each step; `choose(logits, finished)` replaces
        the argmax rule, e.g. with a student's function), "beam" (`beam_size` hypotheses), or
        "sample" (draw each word from softmax(logits / temperature), seeded by `generator`).
        """
        z = torch.as_tensor(z, dtype=torch.float32, device=self.out.weight.device)
        if z.ndim == 1:
            z = z.unsqueeze(0)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise SentenceError(f"codes must have shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        max_len = max_len or self.max_len
        if method == "greedy":
            return self._decode_stepwise(z, max_len, choose or greedy_next_tokens)
        if method == "sample":
            if temperature <= 0:
                raise SentenceError(f"temperature must be > 0, got {temperature}; use method='greedy' for argmax.")

            def draw(logits: torch.Tensor, finished: torch.Tensor) -> torch.Tensor:
                probs = torch.softmax(logits.float() / temperature, dim=-1).cpu()
                nxt = torch.multinomial(probs, 1, generator=generator).squeeze(1).to(logits.device)
                return torch.where(finished, torch.full_like(nxt, PAD), nxt)

            return self._decode_stepwise(z, max_len, draw)
        if method == "beam":
            return [beam_search(NextWords(self, z[i : i + 1]), beam_size, max_len).tolist() for i in range(z.shape[0])]
        raise SentenceError(f"unknown decoding method {method!r}: use 'greedy', 'beam' or 'sample'.")

    def _decode_stepwise(
        self, z: torch.Tensor, max_len: int, choose: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    ) -> list[list[int]]:
        n = z.shape[0]
        hidden = self.initial_hidden(z)
        token = torch.full((n, 1), BOS, dtype=torch.long, device=z.device)
        finished = torch.zeros(n, dtype=torch.bool, device=z.device)
        steps: list[torch.Tensor] = []
        for _i in range(max_len):
            logits, hidden = self.decoder_logits(token, z, hidden)
            logits = logits[:, -1].clone()
            logits[:, PAD] = -math.inf  # never write padding or a new <s>
            logits[:, BOS] = -math.inf
            nxt = torch.as_tensor(choose(logits, finished.clone()), device=z.device).long().reshape(n)
            nxt = torch.where(finished, torch.full_like(nxt, PAD), nxt)
            steps.append(nxt)
            finished = finished | (nxt == EOS)
            token = nxt.clamp(min=0).unsqueeze(1)
            if bool(finished.all()):
                break
        ids = torch.stack(steps, dim=1).tolist()
        return [_strip(row) for row in ids]


def _strip(row: list[int]) -> list[int]:
    out = []
    for t in row:
        if t in (EOS, PAD):
            break
        out.append(t)
    return out


# ------------------------------------------------------------------------------- the pieces, one by one
def gaussian_kl(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(log_var)) || N(0, I)) per sentence, in nats: 1/2 sum(exp(s) - 1 - s + m^2)."""
    return 0.5 * (log_var.exp() - 1.0 - log_var + mean.pow(2)).sum(dim=-1)


def kl_weight(step: int, warmup_steps: int) -> float:
    """The KL annealing schedule: the KL term's weight rises linearly from 0 (step 0) to 1 (step
    `warmup_steps`) and stays 1; with `warmup_steps <= 0` there is no annealing (always 1)."""
    if warmup_steps <= 0:
        return 1.0
    return float(min(1.0, max(0.0, step / warmup_steps)))


def interpolate_codes(z_a: torch.Tensor, z_b: torch.Tensor, n_steps: int) -> torch.Tensor:
    """`n_steps` equally spaced points on the line from `z_a` to `z_b`, both ends included: (n_steps, d)."""
    t = torch.linspace(0.0, 1.0, n_steps, dtype=z_a.dtype).unsqueeze(1)
    return z_a.unsqueeze(0) + t * (z_b - z_a).unsqueeze(0)


def greedy_next_tokens(logits: torch.Tensor, finished: torch.Tensor, pad_id: int = PAD) -> torch.Tensor:
    """One greedy decoding step: the most likely next word of each sentence (N,), int64, and `pad_id`
    for sentences that have already ended (`finished` is True)."""
    nxt = logits.argmax(dim=-1)
    return torch.where(finished, torch.full_like(nxt, pad_id), nxt)


def beam_search(
    next_log_probs: Callable[[torch.Tensor], torch.Tensor], beam_size: int = 5, max_len: int = SentenceVAEConfig.max_len
) -> torch.Tensor:
    """The most likely sentence by beam search: its word ids, without <s> and </s>, as a long tensor.

    `next_log_probs(prefixes)` gives the next word's log-probabilities (B, V) of prefixes (B, T) that start with
    <s>. Each step extends every live hypothesis by every word and keeps the `beam_size` best candidates of all
    together, by their summed log-probability. A kept candidate ending in </s> is finished and leaves the beam,
    with its score divided by its length (its words and </s>: otherwise every extra word, which can only lower
    the sum, would count against long sentences). The search stops when `beam_size` sentences have finished,
    when no hypothesis is live, or after `max_len` steps; the finished sentence with the best divided score
    wins (if none finished: the live one with the best score per word)."""
    beams: list[tuple[float, list[int]]] = [(0.0, [BOS])]
    finished: list[tuple[float, list[int]]] = []
    for _step in range(max_len):
        log_p = next_log_probs(torch.tensor([prefix for _score, prefix in beams], dtype=torch.long)).float()
        scores = torch.tensor([score for score, _prefix in beams]).unsqueeze(1) + log_p.cpu()
        top = torch.topk(scores.flatten(), min(beam_size, scores.numel()))
        live = []
        for score, flat in zip(top.values.tolist(), top.indices.tolist()):
            b, word = divmod(flat, log_p.shape[1])
            if word == EOS:
                finished.append((score / len(beams[b][1]), beams[b][1][1:]))  # words + </s> = prefix length
            else:
                live.append((score, beams[b][1] + [word]))
        if not live or len(finished) >= beam_size:
            break
        beams = live
    if not finished:
        finished = [(score / max(len(prefix) - 1, 1), prefix[1:]) for score, prefix in beams]
    return torch.tensor(max(finished, key=lambda f: f[0])[1], dtype=torch.long)


class NextWords:
    """The decoder of `model` for one code `z` (1, latent_dim), as beam search asks for it: the next word's
    log-probabilities (B, V) of prefixes (B, T) that start with <s> (padding and <s> itself impossible). The
    decoder's state after every prefix it has read is kept, so a call reads only each prefix's last word."""

    def __init__(self, model: SentenceVAE, z: torch.Tensor) -> None:
        self.model, self.z = model, z.reshape(1, -1)
        self.states: dict[tuple[int, ...], torch.Tensor] = {}

    def _state(self, prefix: tuple[int, ...]) -> torch.Tensor:
        """The decoder's hidden state after reading `prefix` (read now if it was never read)."""
        if prefix not in self.states:
            if not prefix:
                self.states[prefix] = self.model.initial_hidden(self.z)
            else:
                word = torch.tensor([[prefix[-1]]], device=self.z.device)
                self.states[prefix] = self.model.decoder_logits(word, self.z, self._state(prefix[:-1]))[1]
        return self.states[prefix]

    @torch.inference_mode()
    def __call__(self, prefixes: torch.Tensor) -> torch.Tensor:
        rows = torch.as_tensor(prefixes, dtype=torch.long).tolist()
        hidden = torch.cat([self._state(tuple(row[:-1])) for row in rows], dim=1)
        last = torch.tensor([[row[-1]] for row in rows], device=self.z.device)
        logits, hidden = self.model.decoder_logits(last, self.z.expand(len(rows), -1), hidden)
        for i, row in enumerate(rows):
            self.states[tuple(row)] = hidden[:, i : i + 1]
        log_p = torch.log_softmax(logits[:, -1].float(), dim=-1)
        log_p[:, PAD] = -math.inf
        log_p[:, BOS] = -math.inf
        return log_p.cpu()


def decoder_inputs(ids: torch.Tensor) -> torch.Tensor:
    """Teacher forcing: the decoder reads <s> w1 .. wn while it should write w1 .. wn </s>."""
    bos = torch.full_like(ids[:, :1], BOS)
    return torch.cat([bos, ids[:, :-1]], dim=1)


def apply_word_dropout(inputs: torch.Tensor, rate: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Replace each input word (not <s>, not padding) by <unk> with probability `rate`."""
    if not 0.0 <= rate <= 1.0:
        raise SentenceError(f"word dropout rate must be in [0, 1], got {rate}")
    drop = torch.rand(inputs.shape, generator=generator, device="cpu").to(inputs.device) < rate
    drop &= (inputs != PAD) & (inputs != BOS)
    return torch.where(drop, torch.full_like(inputs, UNK), inputs)


def sentence_losses(
    model: SentenceVAE, ids: torch.Tensor, lengths: torch.Tensor, word_dropout: float = 0.0, sample: bool = True
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(reconstruction NLL, KL, logits) per sentence in nats: the two terms of the negative ELBO."""
    logits, mean, log_var = model(ids, lengths, word_dropout=word_dropout, sample=sample)
    nll = F.cross_entropy(logits.transpose(1, 2), ids, ignore_index=PAD, reduction="none").sum(dim=1)
    return nll, gaussian_kl(mean, log_var), logits


# --------------------------------------------------------------------------------------------- text <-> ids
def _tokens(sentence: str) -> list[str]:
    from lecturekit.corpus import tokenize

    return tokenize(sentence)


def encode_batch(sentences: Sequence[str], vocab: Any, max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded ids (N, T) holding w1..wn </s> <pad>.. and lengths (N,) counting </s>; longer sentences are cut."""
    rows = []
    for s in sentences:
        words = _tokens(s)[: max_len - 1]
        rows.append(vocab.encode(words) + [EOS])
    return _pad(rows)


def _pad(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    if not rows:
        raise SentenceError("no sentences given: pass at least one non-empty sentence.")
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), PAD, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
    return ids, torch.tensor([len(r) for r in rows], dtype=torch.long)


def ids_to_text(ids: list[int], vocab: Any) -> str:
    """A decoded id list as a sentence (the corpus's detokenizer puts "don't" and commas back)."""
    from lecturekit.corpus import detokenize

    return detokenize(vocab.decode(ids))


def check_sentence(sentence: str, vocab: Any) -> list[str]:
    """The words of `sentence` that the vocabulary does not know (they become <unk>).

    Raises SentenceError for an empty sentence."""
    if not isinstance(sentence, str) or not _tokens(sentence):
        raise SentenceError("the sentence is empty: type a few words (e.g. 'i went to the store').")
    return vocab.unknown_words(sentence)


# ------------------------------------------------------------------------------------------------ helpers
def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.inference_mode()
def encode_sentences(
    model: SentenceVAE, sentences: Sequence[str], vocab: Any | None = None, batch_size: int = 512
) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, log_var) of the codes of `sentences` (each (N, latent_dim)), model in eval mode."""
    vocab = vocab if vocab is not None else model.vocab
    model.eval()
    means, log_vars = [], []
    for start in range(0, len(sentences), batch_size):
        for s in sentences[start : start + batch_size]:
            check_sentence(s, vocab)
        ids, lengths = encode_batch(sentences[start : start + batch_size], vocab, model.max_len)
        m, lv = model.encode(ids.to(_device(model)), lengths)
        means.append(m)
        log_vars.append(lv)
    if not means:
        raise SentenceError("no sentences given: pass at least one non-empty sentence.")
    return torch.cat(means), torch.cat(log_vars)


def decode_codes(model: SentenceVAE, z: torch.Tensor, vocab: Any | None = None, **decode_kwargs: Any) -> list[str]:
    """Sentences decoded from codes `z` (N, latent_dim); keyword arguments go to `SentenceVAE.decode`."""
    vocab = vocab if vocab is not None else model.vocab
    model.eval()
    return [ids_to_text(row, vocab) for row in model.decode(z, **decode_kwargs)]


def reconstruct(
    model: SentenceVAE, sentences: Sequence[str], vocab: Any | None = None, **decode_kwargs: Any
) -> list[str]:
    """Encode each sentence (posterior mean) and decode it again."""
    mean, _ = encode_sentences(model, sentences, vocab)
    return decode_codes(model, mean, vocab, **decode_kwargs)


def sample_prior(
    model: SentenceVAE, n: int, seed: int = 0, vocab: Any | None = None, **decode_kwargs: Any
) -> list[str]:
    """`n` sentences decoded from codes drawn from the prior N(0, I) (seeded)."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, model.latent_dim, generator=g)
    if decode_kwargs.get("method") == "sample" and "generator" not in decode_kwargs:
        decode_kwargs["generator"] = g
    return decode_codes(model, z, vocab, **decode_kwargs)


def interpolate(
    model: SentenceVAE,
    sentence_a: str,
    sentence_b: str,
    n_steps: int = 7,
    vocab: Any | None = None,
    interpolate_fn: Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor] | None = None,
    **decode_kwargs: Any,
) -> list[str]:
    """The lecture's demo: encode both sentences (posterior means), take `n_steps` equally spaced codes
    on the line between them (both ends included), decode each."""
    if n_steps < 2:
        raise SentenceError(f"n_steps must be at least 2 (both ends), got {n_steps}")
    mean, _ = encode_sentences(model, [sentence_a, sentence_b], vocab)
    codes = (interpolate_fn or interpolate_codes)(mean[0], mean[1], n_steps)
    return decode_codes(model, codes, vocab, **decode_kwargs)


# ------------------------------------------------------------------------------------------------ metrics
@torch.inference_mode()
def evaluate(
    model: SentenceVAE,
    sentences: Sequence[str],
    vocab: Any | None = None,
    batch_size: int = 256,
    seed: int = 0,
    decode: bool = True,
) -> dict[str, float]:
    """Held-out figures, in nats:
    nll_per_sentence: the negative ELBO (reconstruction NLL with a sampled code + KL), an upper bound
      on -log p(sentence); nll_per_word divides by the word count (</s> included);
    kl: mean KL(q(z|x) || p(z)) per sentence; recon: reconstruction NLL;
    active_units: latent dims whose posterior mean has variance > 0.01 across sentences;
    token_accuracy: greedy decoding from the posterior mean, compared position by position with the
      sentence (</s> included, a shorter output counts as wrong from where it stops)."""
    vocab = vocab if vocab is not None else model.vocab
    model.eval()
    device = _device(model)
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    nll_sum = kl_sum = recon_sum = 0.0
    words = correct = 0
    means = []
    for start in range(0, len(sentences), batch_size):
        ids, lengths = encode_batch(sentences[start : start + batch_size], vocab, model.max_len)
        ids = ids.to(device)
        recon, kl, _ = sentence_losses(model, ids, lengths)
        recon_sum += float(recon.sum())
        kl_sum += float(kl.sum())
        nll_sum += float((recon + kl).sum())
        words += int(lengths.sum())
        mean, _ = model.encode(ids, lengths)
        means.append(mean)
        if decode:
            out = model.decode(mean, max_len=ids.shape[1])
            for row, target, n in zip(out, ids.tolist(), lengths.tolist()):
                pred = (row + [EOS])[:n]
                correct += sum(int(p == t) for p, t in zip(pred, target[:n]))
    torch.random.set_rng_state(state)
    n = len(sentences)
    variance = torch.cat(means).var(dim=0)
    result = {
        "nll_per_sentence": nll_sum / n,
        "nll_per_word": nll_sum / words,
        "kl": kl_sum / n,
        "recon": recon_sum / n,
        "active_units": float((variance > 0.01).sum()),
    }
    if decode:
        result["token_accuracy"] = correct / words
    return result


@torch.inference_mode()
def log_prob_per_word(
    model: SentenceVAE, codes: torch.Tensor, sentences: Sequence[str], vocab: Any | None = None
) -> torch.Tensor:
    """The decoder's log-probability of each sentence given its code (N, latent_dim), divided by its length
    (its words and </s>), in nats, shape (N,): the score by which beam search ranks finished sentences.
    Greedy decoding does not look at it."""
    vocab = vocab if vocab is not None else model.vocab
    model.eval()
    ids, lengths = _pad([vocab.encode(_tokens(s)) + [EOS] for s in sentences])  # whole sentences, none cut
    ids = ids.to(_device(model))
    z = torch.as_tensor(codes, dtype=torch.float32, device=ids.device).reshape(len(sentences), -1)
    logits, _hidden = model.decoder_logits(decoder_inputs(ids), z)
    nll = F.cross_entropy(logits.transpose(1, 2).float(), ids, ignore_index=PAD, reduction="none").sum(dim=1)
    return (-nll / lengths.to(nll.device)).cpu()


def grammatical_share(sentences: Sequence[str]) -> float:
    """Share of `sentences` the kit's grammar can produce (lecturekit.corpus.is_grammar_sentence)."""
    from lecturekit.corpus import is_grammar_sentence

    if not sentences:
        return float("nan")
    return sum(bool(is_grammar_sentence(s)) for s in sentences) / len(sentences)


def interpolation_sentences(
    model: SentenceVAE,
    sentences: Sequence[str],
    n_pairs: int = 50,
    n_steps: int = 7,
    seed: int = 0,
    vocab: Any | None = None,
) -> list[list[str]]:
    """Greedy interpolation paths between `n_pairs` seeded random pairs of `sentences`, plus the lecture pair."""
    g = torch.Generator().manual_seed(seed)
    pairs = [LECTURE_SENTENCES]
    for _i in range(n_pairs):
        i, j = torch.randperm(len(sentences), generator=g)[:2].tolist()
        pairs.append((sentences[i], sentences[j]))
    vocab = vocab if vocab is not None else model.vocab
    return [interpolate(model, a, b, n_steps, vocab) for a, b in pairs]


# ----------------------------------------------------------------------------------------------- training
def build_vocab(sentences: Sequence[str], min_count: int = 1) -> Any:
    """A Vocab of the words of `sentences` (specials first: <pad>=0, <s>=1, </s>=2, <unk>=3)."""
    from lecturekit.corpus import Vocab

    token_lists = [_tokens(s) for s in sentences]
    return Vocab.build(token_lists, min_count=min_count)


def load_sentences(
    text: str | Path | None = None, test_share: float = 0.05, seed: int = 0
) -> tuple[list[str], list[str]]:
    """(train, test) sentences: the kit's corpus and its split, or a one-sentence-per-line file split
    here with a seeded `test_share`."""
    from lecturekit import corpus

    if text is None:
        return list(corpus.load_corpus("train")), list(corpus.load_corpus("test"))
    sentences = [s for s in corpus.read_sentence_file(text) if _tokens(s)]
    if len(sentences) < 2:
        raise SentenceError(
            f"{text}: found {len(sentences)} sentence(s); the file needs one sentence per line, "
            "at least 2 (a few thousand to learn anything)."
        )
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(sentences), generator=g).tolist()
    n_test = max(1, int(round(len(sentences) * test_share)))
    return [sentences[i] for i in sorted(order[n_test:])], [sentences[i] for i in sorted(order[:n_test])]


def train_sentence_vae(
    train: Sequence[str],
    test: Sequence[str] | None = None,
    vocab: Any | None = None,
    *,
    embed_dim: int = SentenceVAEConfig.embed_dim,
    hidden_dim: int = SentenceVAEConfig.hidden_dim,
    latent_dim: int = SentenceVAEConfig.latent_dim,
    max_len: int = SentenceVAEConfig.max_len,
    word_dropout: float = SentenceVAEConfig.word_dropout,
    warmup_steps: int = SentenceVAEConfig.warmup_steps,
    epochs: int | None = SentenceVAEConfig.epochs,
    minutes: float | None = SentenceVAEConfig.minutes,
    batch_size: int = SentenceVAEConfig.batch_size,
    lr: float = SentenceVAEConfig.lr,
    seed: int = SentenceVAEConfig.seed,
    max_steps: int | None = None,
    device: Any = None,
    progress_bar: bool = True,
    log_every: int = 1,
) -> tuple[SentenceVAE, Any, Any]:
    """Train a sentence VAE with KL annealing (`warmup_steps`, 0: none) and word dropout; return
    (model, vocab, History). History steps log loss, recon, kl and kl_weight (every `log_every` steps)."""
    from lecturekit.device import seed_everything
    from lecturekit.training import fit

    seed_everything(seed)
    vocab = vocab if vocab is not None else build_vocab(train)
    model = SentenceVAE(len(vocab), embed_dim, hidden_dim, latent_dim, max_len)
    model.vocab = vocab
    data = encode_batch(train, vocab, max_len)
    if max_steps is not None:
        epochs = 1
    batches = LengthBatches(data, batch_size, seed=seed, max_steps=max_steps)
    history = fit(
        model,
        batches,
        _AnnealedLoss(word_dropout, warmup_steps),
        epochs=epochs,
        max_minutes=minutes,
        batch_size=batch_size,
        lr=lr,
        clip_grad=5.0,
        device=device,
        seed=seed,
        eval_fn=_held_out_eval(test, vocab),
        progress_bar=progress_bar,
        desc=_("sentence VAE"),
        schedule=_late_linear_decay(len(batches) * (epochs or 1)),
    )
    if log_every > 1:
        history.steps = [s for s in history.steps if s["step"] % log_every == 0]
    model.cpu().eval()
    return model, vocab, history


class _AnnealedLoss:
    """`train_sentence_vae`'s loss: reconstruction (with word dropout) plus the KL term at a weight that grows
    over the warm-up steps. A class, so the step it has reached is a plain attribute."""

    def __init__(self, word_dropout: float, warmup_steps: int) -> None:
        self.word_dropout, self.warmup_steps = word_dropout, warmup_steps
        self.steps = 0

    def __call__(self, m: SentenceVAE, batch: tuple[torch.Tensor, torch.Tensor]) -> Any:
        ids, lengths = batch
        recon, kl, _codes = sentence_losses(m, ids, lengths, word_dropout=self.word_dropout)
        beta = kl_weight(self.steps, self.warmup_steps)
        self.steps += 1
        loss = (recon + beta * kl).mean()
        return loss, {"recon": float(recon.detach().mean()), "kl": float(kl.detach().mean()), "kl_weight": beta}


def _held_out_eval(test: Sequence[str] | None, vocab: Any) -> Callable[[SentenceVAE], dict[str, float]] | None:
    """`fit`'s eval_fn: held-out NLL, KL and active units on up to 1000 test sentences (None without any)."""
    if not test:
        return None

    def eval_fn(m: SentenceVAE) -> dict[str, float]:
        r = evaluate(m, list(test)[:1000], vocab, decode=False)
        return {"test_nll": r["nll_per_sentence"], "test_kl": r["kl"], "test_active_units": r["active_units"]}

    return eval_fn


def _late_linear_decay(total: int) -> Callable[[int], float]:
    """The learning-rate schedule over `total` steps: full rate for 60% of them, then down linearly to a tenth."""

    def lr_decay(s: int) -> float:
        return 1.0 if s < 0.6 * total else max(0.1, 1.0 - 0.9 * (s - 0.6 * total) / (0.4 * total))

    return lr_decay


class LengthBatches:
    """Seeded batches of similar-length sentences, reshuffled on every pass (one pass = one epoch).

    Sentences are shuffled, cut into pools of 20 batches, sorted by length inside each pool and
    batched, so a batch pads to its own longest sentence (about twice as fast as random batches).
    `max_steps` limits one pass to that many batches (quick runs and tests)."""

    def __init__(
        self, data: tuple[torch.Tensor, torch.Tensor], batch_size: int, seed: int = 0, max_steps: int | None = None
    ) -> None:
        self.ids, self.lengths = data
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.max_steps = max_steps

    def __len__(self) -> int:
        n = -(-len(self.ids) // self.batch_size)
        return n if self.max_steps is None else self.max_steps

    def _one_pass(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        order = torch.randperm(len(self.ids), generator=self.generator)
        pool = self.batch_size * 20
        batches = []
        for start in range(0, len(order), pool):
            chunk = order[start : start + pool]
            chunk = chunk[torch.argsort(self.lengths[chunk], stable=True)]
            for b in range(0, len(chunk), self.batch_size):
                idx = chunk[b : b + self.batch_size]
                width = int(self.lengths[idx].max())
                batches.append((self.ids[idx, :width], self.lengths[idx]))
        shuffled = torch.randperm(len(batches), generator=self.generator).tolist()
        return [batches[i] for i in shuffled]

    def __iter__(self):  # noqa: ANN204
        if self.max_steps is None:
            return iter(self._one_pass())
        batches: list[tuple[torch.Tensor, torch.Tensor]] = []
        while len(batches) < self.max_steps:
            batches += self._one_pass()
        return iter(batches[: self.max_steps])


def kl_curves(
    train: Sequence[str],
    test: Sequence[str],
    vocab: Any,
    *,
    steps: int = 1500,
    seed: int = 0,
    examples: Sequence[str] = (),
    progress_bar: bool = True,
    **kwargs: Any,
) -> dict[str, Any]:
    """Posterior collapse, measured: train the same model twice for `steps` steps, with KL annealing
    and word dropout, and without either; return each run's KL/reconstruction curves, its held-out
    figures and its greedy reconstructions of `examples`."""
    runs = {
        "annealed": {
            "warmup_steps": kwargs.get("warmup_steps", SentenceVAEConfig.warmup_steps),
            "word_dropout": kwargs.get("word_dropout", SentenceVAEConfig.word_dropout),
        },
        "no_annealing": {"warmup_steps": 0, "word_dropout": 0.0},
    }
    out: dict[str, Any] = {"steps": steps, "seed": seed, "runs": {}}
    for name, settings in runs.items():
        params = {k: v for k, v in kwargs.items() if k not in settings}
        model, _, history = train_sentence_vae(
            train,
            None,
            vocab,
            max_steps=steps,
            epochs=None,
            minutes=None,
            seed=seed,
            progress_bar=progress_bar,
            **settings,
            **params,
        )
        figures = evaluate(model, list(test)[:1000], vocab)
        every = max(1, steps // 300)
        out["runs"][name] = {
            "settings": settings,
            "step": [s["step"] for s in history.steps][::every],
            "kl": [round(s["kl"], 4) for s in history.steps][::every],
            "recon": [round(s["recon"], 4) for s in history.steps][::every],
            "kl_weight": [round(s["kl_weight"], 4) for s in history.steps][::every],
            "test": {k: round(v, 4) for k, v in figures.items()},
            "reconstructions": [[s, r] for s, r in zip(examples, reconstruct(model, list(examples), vocab))]
            if examples
            else [],
        }
    return out


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lecturekit train sentence_vae",
        description="Train the sentence VAE (KL annealing + word dropout), save a checkpoint.",
    )
    p.add_argument("--out", default=None, help="checkpoint path (default: data/weights/sentence_vae.pt)")
    p.add_argument(
        "--text",
        default=None,
        help="train on this one-sentence-per-line text file (e.g. Penn Treebank), not the kit's corpus",
    )
    p.add_argument("--steps", type=int, default=None, help="stop after this many batches (quick runs, tests)")
    add_config_options(
        p,
        SentenceVAEConfig(),
        helps={
            "minutes": "wall-clock limit",
            "max_len": "longer sentences are cut (words)",
            "warmup_steps": "KL annealing: steps for the KL weight to reach 1 (0: no annealing)",
        },
    )
    p.add_argument("--min-count", type=int, default=1, help="words seen fewer times become <unk> (--text)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument(
        "--kl-curves",
        metavar="JSON",
        default=None,
        help="instead of a checkpoint, write KL curves with and without annealing (posterior collapse)",
    )
    p.add_argument("--curve-steps", type=int, default=1500, help="training steps of each --kl-curves run")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def _compact_json(data: Any) -> str:
    """Indented JSON with each list of numbers or strings on one line (readable, diff-friendly)."""
    import re

    text = json.dumps(data, indent=1)
    return re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text) + "\n"


def train_main(argv: list[str]) -> int:
    """`python -m lecturekit train sentence_vae [--out PATH] [--minutes M] [--text FILE] [--kl-curves JSON]`."""
    args = _parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        train, test = load_sentences(args.text, seed=args.seed)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    vocab = build_vocab(train, min_count=args.min_count)
    print(f"{len(train)} training sentences, {len(test)} held out, {len(vocab)} words in the vocabulary")
    if args.kl_curves:
        return _write_kl_curves(args, argv, train, test, vocab)
    return _train_and_save(args, argv, train, test, vocab)


def _model_sizes(args: argparse.Namespace) -> dict[str, Any]:
    """The command line's sizes and optimiser settings, as keyword arguments of `train_sentence_vae`."""
    return {
        "embed_dim": args.embed_dim,
        "hidden_dim": args.hidden_dim,
        "latent_dim": args.latent_dim,
        "max_len": args.max_len,
        "batch_size": args.batch_size,
        "lr": args.lr,
    }


def _write_kl_curves(args: argparse.Namespace, argv: list[str], train: list[str], test: list[str], vocab: Any) -> int:
    """`train_main --kl-curves JSON`: the two runs of `kl_curves` written to the JSON file, no checkpoint."""
    examples = [s for s in test[:6]]
    start = time.perf_counter()
    curves = kl_curves(
        train,
        test,
        vocab,
        steps=args.curve_steps,
        seed=args.seed,
        examples=examples,
        progress_bar=not args.quiet,
        warmup_steps=args.warmup_steps,
        word_dropout=args.word_dropout,
        **_model_sizes(args),
    )
    curves["command"] = "python -m lecturekit train sentence_vae " + " ".join(argv)
    curves["seconds"] = round(time.perf_counter() - start, 1)
    Path(args.kl_curves).parent.mkdir(parents=True, exist_ok=True)
    Path(args.kl_curves).write_text(_compact_json(curves))
    for name, run in curves["runs"].items():
        print(
            f"{name:13s} final held-out KL {run['test']['kl']:.2f} nats, active units {run['test']['active_units']:.0f}"
        )
    print(f"wrote {args.kl_curves}")
    return 0


def _train_and_save(args: argparse.Namespace, argv: list[str], train: list[str], test: list[str], vocab: Any) -> int:
    """`train_main` without --kl-curves: train, measure on the held-out sentences, save the checkpoint."""
    model, vocab, history = train_sentence_vae(
        train,
        test,
        vocab,
        word_dropout=args.word_dropout,
        warmup_steps=args.warmup_steps,
        epochs=args.epochs,
        minutes=args.minutes,
        seed=args.seed,
        max_steps=args.steps,
        progress_bar=not args.quiet,
        **_model_sizes(args),
    )
    figures = evaluate(model, test, vocab)
    from lecturekit.checkpoints import save_checkpoint
    from lecturekit.datasets import weights_dir

    out = Path(args.out) if args.out else weights_dir() / "sentence_vae.pt"
    every = max(1, len(history.steps) // 400)
    save_checkpoint(
        out,
        model,
        fingerprints={"vocab": vocab.fingerprint()},
        metrics=figures,
        half=True,
        extra={
            "vocab": vocab.to_dict(),
            "history": {"steps": history.steps[::every], "epochs": history.epochs, "seconds": history.seconds},
            "train": {
                "word_dropout": args.word_dropout,
                "warmup_steps": args.warmup_steps,
                "text": str(args.text) if args.text else None,
                "seed": args.seed,
                "command": "python -m lecturekit train sentence_vae " + " ".join(argv),
            },
        },
    )
    print(
        f"held-out: {figures['nll_per_sentence']:.2f} nats/sentence, KL {figures['kl']:.2f} nats, "
        f"{figures['active_units']:.0f} active units, token accuracy {figures['token_accuracy']:.3f} "
        f"({history.seconds:.0f} s)"
    )
    print(f"wrote {out}")
    return 0


# ----------------------------------------------------------------------------------------------- figures
def kl_curves_path() -> Path:
    """Where the stored KL curves live (made by `lecturekit train sentence_vae --kl-curves ...`)."""
    from lecturekit.paths import data_dir

    return data_dir() / "sentence_vae_kl_curves.json"


def load_kl_curves(path: str | Path | None = None) -> dict[str, Any]:
    """The stored KL curves with and without annealing (see `kl_curves`)."""
    path = Path(path) if path is not None else kl_curves_path()
    if not path.is_file():
        raise SentenceError(
            f"no KL curves at {path}: make them with `python -m lecturekit train sentence_vae --kl-curves {path}`."
        )
    return json.loads(path.read_text())


def _smooth(values: Sequence[float], window: int) -> list[float]:
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def plot_kl_curves(curves: dict[str, Any], smooth: int = 10) -> Any:
    """Two panels: the KL term and the reconstruction term per training step, one line per run."""
    import matplotlib.pyplot as plt

    labels = {"annealed": "KL annealing + word dropout", "no_annealing": "neither (plain VAE loss)"}
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for name, run in curves["runs"].items():
        label = labels.get(name, name)
        axes[0].plot(run["step"], _smooth(run["kl"], smooth), label=label)
        axes[1].plot(run["step"], _smooth(run["recon"], smooth), label=label)
        if any(w < 1 for w in run["kl_weight"]):
            ax2 = axes[0].twinx()
            ax2.plot(run["step"], run["kl_weight"], color="grey", lw=1, ls=":")
            ax2.set_ylim(0, 1.05)
            ax2.set_ylabel("KL weight (dotted)", color="grey")
    axes[0].set(xlabel="training step", ylabel="KL term (nats / sentence)", title="KL term: the code's information")
    axes[1].set(xlabel="training step", ylabel="reconstruction NLL (nats)", title="reconstruction NLL per sentence")
    axes[0].legend(fontsize=8, loc="center right")
    fig.tight_layout()
    return fig


def plot_history(steps: Sequence[dict[str, float]], smooth: int = 10) -> Any:
    """KL, KL weight and reconstruction over one training run (a History's steps)."""
    import matplotlib.pyplot as plt

    x = [s["step"] for s in steps]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    axes[0].plot(x, _smooth([s["kl"] for s in steps], smooth), label="KL term")
    ax2 = axes[0].twinx()
    ax2.plot(x, [s["kl_weight"] for s in steps], color="grey", ls=":", label="KL weight")
    ax2.set_ylim(0, 1.05)
    ax2.set_ylabel("KL weight (dotted)", color="grey")
    axes[0].set(xlabel="training step", ylabel="nats / sentence", title="KL term while the weight anneals")
    axes[1].plot(x, _smooth([s["recon"] for s in steps], smooth), color="C1")
    axes[1].set(xlabel="training step", ylabel="nats / sentence", title="reconstruction NLL")
    fig.tight_layout()
    return fig
