"""The models behind the course's widgets, exported to ONNX for the site's live figures.

Each export wraps the part of a shipped model that a widget runs, so the page computes what the
kernel computes, with the same float32 arithmetic and the same rules (argmax over the palette,
rounding, snapping to the palette, the spherical path):
- `vae_decoder`: codes (N, D) -> RGB sprites (N, 20, 20, 3) uint8, each pixel its most likely colour
  (`_SpriteCodec.decode_rgb`, what notebook 04's grid and sliders show);
- `pixelrnn_step`: one step of the PixelRNN's LSTM, (tokens, h, c) -> (logits, h, c); the page samples
  pixel by pixel with `temperature_probabilities`'s rule (notebook 03's temperature sampler);
- `gan_path`: two codes, positions t on the straight or spherical path between them -> the generator's
  sprites, raw and snapped to the palette (notebook 05's interpolation);
- `sentence_encoder` (a sentence's ids -> the posterior mean) and `sentence_decoder_step` (one GRU
  step, the code fed at every step: notebook 06's interpolation, greedy, beam search or sampling).

The shipped checkpoints hold float16 weights, so the files store every weight that is exactly a float16
as float16 (a Cast to float32 runs once, when the page loads the model): files half the size, the same
numbers. Exported with torch.onnx (the TorchScript exporter: plain ONNX ops that ONNX Runtime Web runs).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

OPSET = 17


def weights_fingerprint(model: nn.Module) -> str:
    """A short hash of a model's weights and buffers (float32 on the CPU): a widget's model and a shipped
    checkpoint are the same model exactly when their fingerprints agree."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        tensor = tensor.detach().cpu()
        digest.update((tensor.float() if tensor.is_floating_point() else tensor).numpy().tobytes())
    return digest.hexdigest()[:16]


# ----------------------------------------------------------------------------- the wrapped pieces
class VAEDecoder(nn.Module):
    """codes (N, D) float32 -> (N, 20, 20, 3) uint8: each pixel the palette colour with the highest logit."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.decoder = model.decoder
        self.register_buffer("palette", model.palette.clone())

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        logits = self.decoder(codes, self.palette)
        return self.palette[logits.argmax(dim=1)]


class PixelRNNStep(nn.Module):
    """One LSTM step of `pixelrnn.sample`: token ids (N, slots) of the previous pixel (and, with see_above,
    the three above), the step's position t (1,) and the state (h, c) -> (logits (N, K), h, c)."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.embedding = model.embedding
        self.position = model.position
        self.lstm = model.lstm
        self.out = model.out

    def forward(
        self, tokens: torch.Tensor, t: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.embedding(tokens).reshape(tokens.shape[0], -1)
        if self.position is not None:
            x = x + self.position(t)
        else:
            x = x + 0.0 * t.to(x.dtype)  # t is an input of every export (the page feeds it always)
        lstm = self.lstm
        gates = x @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h @ lstm.weight_hh_l0.T + lstm.bias_hh_l0
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return self.out(h), h, c


class GANPath(nn.Module):
    """Codes z0, z1 (z_dim,), positions t (S,) and `spherical` (1,) bool -> the sprites at those points
    of the path, raw (S, 20, 20, 3) uint8 and snapped to the palette (gan.path_point, snap_rgb)."""

    def __init__(self, model: Any, palette: np.ndarray) -> None:
        super().__init__()
        self.generator = model.generator
        self.register_buffer("palette", torch.as_tensor(np.asarray(palette, dtype=np.float32)))
        self.register_buffer("palette_rgb", torch.as_tensor(np.asarray(palette, dtype=np.uint8)))

    def forward(
        self, z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor, spherical: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        t = t[:, None]
        line = (1 - t) * z0 + t * z1
        cos = torch.clamp((z0 @ z1) / (z0.norm() * z1.norm() + 1e-12), -1.0, 1.0)
        omega = torch.arccos(cos)
        slerp = (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)
        z = torch.where(spherical & (omega >= 1e-4), slerp, line)
        x = self.generator(z).clamp(-1, 1)
        rgb = ((x + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1)
        flat = rgb.reshape(-1, 3).to(torch.float32)
        nearest = (flat[:, None, :] - self.palette[None, :, :]).pow(2).sum(-1).argmin(dim=1)
        return rgb, self.palette_rgb[nearest].reshape(rgb.shape)


class SentenceEncoder(nn.Module):
    """One sentence's ids (1, T) (w1..wn </s>, no padding) -> the posterior mean (1, latent_dim)."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.embedding, self.encoder, self.to_mean = model.embedding, model.encoder, model.to_mean

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        _, h = self.encoder(self.embedding(ids))
        return self.to_mean(torch.cat([h[0], h[1]], dim=-1))


class SentenceDecoderStep(nn.Module):
    """One decoder step: tokens (N,), codes (N, latent), state (N, H), `first` (1,) bool (the state is then
    the code's initial state) -> (next-word logits (N, V), state)."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.embedding, self.decoder, self.out = model.embedding, model.decoder, model.out
        self.code_to_hidden = model.code_to_hidden

    def forward(
        self, tokens: torch.Tensor, z: torch.Tensor, h: torch.Tensor, first: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.where(first, torch.tanh(self.code_to_hidden(z)), h)
        x = torch.cat([self.embedding(tokens), z], dim=-1)[:, None, :]
        output, h_new = self.decoder(x, h[None])
        return self.out(output[:, 0]), h_new[0]


# ----------------------------------------------------------------------------- exporting
def _onnx_bytes(module: nn.Module, args: tuple, inputs: list[str], outputs: list[str], dynamic: dict) -> bytes:
    module.eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            module,
            args,
            buffer,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=dynamic,
            opset_version=OPSET,
            dynamo=False,
            do_constant_folding=True,
        )
    return _float16_weights(buffer.getvalue())


def _float16_weights(model_bytes: bytes) -> bytes:
    """Store each float32 weight that is exactly a float16 as float16, with a Cast back to float32."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    casts = []
    for init in list(graph.initializer):
        if init.data_type != onnx.TensorProto.FLOAT:
            continue
        value = numpy_helper.to_array(init)
        if value.size < 64 or not np.array_equal(value.astype(np.float16).astype(np.float32), value):
            continue
        half = numpy_helper.from_array(value.astype(np.float16), init.name + "__fp16")
        graph.initializer.remove(init)
        graph.initializer.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=onnx.TensorProto.FLOAT))
    for node in reversed(casts):
        graph.node.insert(0, node)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def export_vae_decoder(model: Any) -> bytes:
    codes = torch.zeros(2, model.latent_dim)
    return _onnx_bytes(VAEDecoder(model), (codes,), ["codes"], ["rgb"], {"codes": {0: "n"}, "rgb": {0: "n"}})


def export_pixelrnn_step(model: Any) -> bytes:
    n, hidden = 2, model.lstm.hidden_size
    args = (
        torch.zeros(n, model.slots, dtype=torch.long),
        torch.zeros(1, dtype=torch.long),
        torch.zeros(n, hidden),
        torch.zeros(n, hidden),
    )
    batch = {0: "n"}
    dynamic = {"tokens": batch, "h": batch, "c": batch, "logits": batch, "h_out": batch, "c_out": batch}
    return _onnx_bytes(PixelRNNStep(model), args, ["tokens", "t", "h", "c"], ["logits", "h_out", "c_out"], dynamic)


def export_gan_path(model: Any, palette: np.ndarray) -> bytes:
    z = model.codes(2, seed=0)
    args = (z[0], z[1], torch.linspace(0, 1, 3), torch.ones(1, dtype=torch.bool))
    dynamic = {"t": {0: "s"}, "rgb": {0: "s"}, "snapped": {0: "s"}}
    return _onnx_bytes(GANPath(model, palette), args, ["z0", "z1", "t", "spherical"], ["rgb", "snapped"], dynamic)


def export_sentence_encoder(model: Any) -> bytes:
    ids = torch.tensor([[5, 6, 7, 2]], dtype=torch.long)
    return _onnx_bytes(SentenceEncoder(model), (ids,), ["ids"], ["mean"], {"ids": {1: "t"}})


def export_sentence_decoder_step(model: Any) -> bytes:
    n = 2
    hidden = model.decoder.hidden_size
    args = (
        torch.ones(n, dtype=torch.long),
        torch.zeros(n, model.latent_dim),
        torch.zeros(n, hidden),
        torch.ones(1, dtype=torch.bool),
    )
    batch = {0: "n"}
    dynamic = {"tokens": batch, "z": batch, "h": batch, "logits": batch, "h_out": batch}
    return _onnx_bytes(SentenceDecoderStep(model), args, ["tokens", "z", "h", "first"], ["logits", "h_out"], dynamic)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
