"""The ONNX exports of the shipped models compute what the kit computes in torch (checked here with
onnxruntime in Python; the browser tests check the pages, which run the same files with ONNX Runtime Web),
and they stay small: weights stored as the checkpoints' own float16."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import lecturekit
from lecturekit.data import load_sprites
from lecturekit.models import gan as gan_lib
from lecturekit.models import sentence_vae as sv
from lecturekit.site import onnx_export as ox

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")


def session(data: bytes) -> Any:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def float16_share(data: bytes) -> float:
    """The share of the weights' numbers stored as float16."""
    model = onnx.load_from_string(data)
    sizes = {t: 0 for t in (onnx.TensorProto.FLOAT16, onnx.TensorProto.FLOAT)}
    for init in model.graph.initializer:
        if init.data_type in sizes:
            sizes[init.data_type] += int(np.prod(init.dims))
    return sizes[onnx.TensorProto.FLOAT16] / max(1, sum(sizes.values()))


@pytest.fixture(scope="module")
def palette() -> np.ndarray:
    return load_sprites().palette


def test_vae_decoder_export_draws_the_kernels_pictures() -> None:
    vae = lecturekit.load_pretrained("vae")
    data = ox.export_vae_decoder(vae)
    codes = np.random.default_rng(0).standard_normal((64, vae.latent_dim)).astype(np.float32) * 1.5
    (rgb,) = session(data).run(None, {"codes": codes})
    assert rgb.dtype == np.uint8 and rgb.shape == (64, 20, 20, 3)
    assert np.array_equal(rgb, vae.decode_rgb(codes))
    assert float16_share(data) > 0.95 and len(data) < 1.3e6


def test_pixelrnn_step_export_matches_the_lstm() -> None:
    model = lecturekit.load_pretrained("pixelrnn").eval()
    data = ox.export_pixelrnn_step(model)
    run = session(data)
    sprites = torch.as_tensor(load_sprites("test").indices[:3]).reshape(3, -1)
    with torch.inference_mode():
        logits = model(sprites)  # teacher forcing over whole sprites
    tokens = model.input_tokens(sprites).numpy()
    h = np.zeros((3, model.lstm.hidden_size), np.float32)
    c = np.zeros_like(h)
    for t in range(0, 60):
        out, h, c = run.run(None, {"tokens": tokens[:, t], "t": np.array([t]), "h": h, "c": c})
        np.testing.assert_allclose(out, logits[:, t].numpy(), atol=2e-4, rtol=1e-4)
    assert float16_share(data) > 0.95 and len(data) < 3e6


def test_gan_path_export_draws_the_kernels_sprites(palette: np.ndarray) -> None:
    model = lecturekit.load_pretrained("gan")
    run = session(ox.export_gan_path(model, palette))
    z_a, z_b = model.codes(1, seed=3)[0], model.codes(1, seed=4)[0]
    for spherical in (True, False):
        t = torch.linspace(0, 1, 9)
        raw, snapped = run.run(
            None, {"z0": z_a.numpy(), "z1": z_b.numpy(), "t": t.numpy(), "spherical": np.array([spherical])}
        )
        expected = model.decode_rgb(gan_lib.interpolate_codes(z_a, z_b, 9, spherical=spherical))
        assert np.abs(raw.astype(int) - expected).max() <= 1
        assert np.array_equal(snapped, gan_lib.snap_rgb(raw, palette))
        assert np.any(raw[0] != raw[-1])
    same, _ = run.run(
        None, {"z0": z_a.numpy(), "z1": z_a.numpy(), "t": np.array([0.5], np.float32), "spherical": np.array([True])}
    )
    assert np.abs(same[0].astype(int) - model.decode_rgb(z_a[None])[0]).max() <= 1  # no NaN from a zero angle


def test_sentence_exports_encode_and_decode_like_the_model() -> None:
    model = lecturekit.load_pretrained("sentence_vae").eval()
    encoder, decoder = session(ox.export_sentence_encoder(model)), session(ox.export_sentence_decoder_step(model))
    sentences = ["i went to the store to buy some groceries", "don't worry about it, she said"]
    mean, _ = sv.encode_sentences(model, sentences)
    for i, s in enumerate(sentences):
        ids, _ = sv.encode_batch([s], model.vocab, model.max_len)
        (got,) = encoder.run(None, {"ids": ids.numpy()})
        np.testing.assert_allclose(got[0], mean[i].numpy(), atol=1e-4)
    z = mean.numpy()
    with torch.inference_mode():
        h0 = model.initial_hidden(mean)
        expected, _ = model.decoder_logits(torch.full((2, 1), sv.BOS), mean, h0)
    logits, h = decoder.run(
        None, {"tokens": np.full(2, sv.BOS), "z": z, "h": np.zeros((2, 256), np.float32), "first": np.array([True])}
    )
    np.testing.assert_allclose(logits, expected[:, 0].numpy(), atol=1e-4)
    logits2, _ = decoder.run(None, {"tokens": logits.argmax(1), "z": z, "h": h, "first": np.array([False])})
    with torch.inference_mode():
        _, h1 = model.decoder_logits(torch.full((2, 1), sv.BOS), mean, h0)
        expected2, _ = model.decoder_logits(torch.as_tensor(logits.argmax(1))[:, None], mean, h1)
    np.testing.assert_allclose(logits2, expected2[:, 0].numpy(), atol=1e-4)


def test_fingerprint_tells_models_apart() -> None:
    a, b = lecturekit.load_pretrained("vae"), lecturekit.load_pretrained("ae")
    assert ox.weights_fingerprint(a) == ox.weights_fingerprint(lecturekit.load_pretrained("vae"))
    assert ox.weights_fingerprint(a) != ox.weights_fingerprint(b)
    with torch.no_grad():
        a.decoder.fc[0].bias[0] += 1e-3
    assert ox.weights_fingerprint(a) != ox.weights_fingerprint(lecturekit.load_pretrained("vae"))
