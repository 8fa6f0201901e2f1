"""The 3x3 world and the two tiny next-pixel models of notebook 01."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lecturekit.checkpoints import load_checkpoint, save_checkpoint
from lecturekit.models import tiny


def test_world_is_a_distribution_with_structure() -> None:
    images, probs = tiny.world_distribution()
    assert images.shape == (len(probs), 9)
    assert math.isclose(probs.sum(), 1.0, rel_tol=1e-9)
    assert len({r.tobytes() for r in images}) == len(images)  # distinct
    assert images.min() >= 0 and images.max() < tiny.N_COLORS
    assert not np.any(np.all(tiny.TINY_PALETTE == 0, axis=1)), "black would collide with zero padding"
    entropy = tiny.world_entropy_bits()
    assert 5 < entropy < math.log2(len(images)) + 1e-9


def test_world_samples_are_seeded_and_follow_the_patterns() -> None:
    a, b, c = tiny.make_tiny_world(300, seed=4), tiny.make_tiny_world(300, seed=4), tiny.make_tiny_world(300, seed=5)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert tiny.is_world_image(a).all()
    broken = a[:5].copy()
    broken[:, 4] = (broken[:, 4] + 1) % tiny.N_COLORS
    broken[:, 0] = (broken[:, 0] + 5) % tiny.N_COLORS
    assert not tiny.is_world_image(broken).any()


def test_pad_prefix_puts_pixels_first_and_zeros_after() -> None:
    prefix = torch.rand(2, 3, 3) + 0.1
    out = tiny.pad_prefix(prefix, 8)
    assert out.shape == (2, 24)
    assert torch.equal(out[:, :9], prefix.reshape(2, 9))
    assert torch.all(out[:, 9:] == 0)
    assert torch.all(tiny.pad_prefix(torch.zeros(4, 0, 3), 8) == 0)
    with pytest.raises(ValueError, match="do not fit"):
        tiny.pad_prefix(torch.rand(1, 9, 3), 8)
    with pytest.raises(ValueError, match="batch, pixels drawn, 3"):
        tiny.pad_prefix(torch.rand(9, 3), 8)


@pytest.mark.parametrize("cls", [tiny.TinyMLP, tiny.TinyRNN])
def test_all_step_logits_match_one_step_at_a_time(cls: type) -> None:
    torch.manual_seed(0)
    model = cls().eval()
    images = torch.as_tensor(tiny.make_tiny_world(5, seed=1))
    with torch.no_grad():
        together = model.all_step_logits(images)
        one_by_one = torch.stack([model.next_pixel_logits(images[:, :t]) for t in range(9)], dim=1)
    assert together.shape == (5, 9, tiny.N_COLORS)
    assert torch.allclose(together, one_by_one, atol=1e-5)


def test_draw_colour_inverts_the_cdf() -> None:
    probs = torch.tensor([[0.2, 0.5, 0.3]] * 4)
    u = torch.tensor([0.0, 0.19, 0.2, 0.95])
    assert tiny.draw_colour(probs, u).tolist() == [0, 0, 1, 2]
    g = torch.Generator().manual_seed(0)
    draws = tiny.draw_colour(probs[:1].expand(20000, 3), torch.rand(20000, generator=g))
    freq = torch.bincount(draws, minlength=3).float() / 20000
    assert torch.allclose(freq, probs[0], atol=0.02)


@pytest.mark.slow
def test_both_models_learn_the_world_and_draw_valid_pictures(tmp_path) -> None:
    train, test = tiny.make_tiny_world(4000, seed=0), tiny.make_tiny_world(300, seed=1)
    baseline = tiny.independent_pixels_bits(train, test)
    for model in (tiny.TinyMLP(), tiny.TinyRNN()):
        before = tiny.test_bits_per_image(model, test)
        history = tiny.train_tiny(model, train, epochs=10, test_images=test, progress_bar=False)
        after = tiny.test_bits_per_image(model, test)
        assert after < before - 10 and after < baseline / 2, (type(model).__name__, before, after, baseline)
        assert after > tiny.world_entropy_bits() - 0.5  # nothing beats the world's own entropy (up to noise)
        assert history.epoch_values("test_bits_per_image")[-1] == pytest.approx(after, rel=1e-4)
        samples = tiny.sample_images(model, 300, seed=0)
        assert tiny.is_world_image(samples).mean() > 0.3
        assert len({s.tobytes() for s in samples}) > 50  # sampling, not always the same picture
        again = tiny.sample_images(model, 300, seed=0)
        assert np.array_equal(samples, again)
        # completion keeps the given pixels
        done = tiny.sample_images(model, 6, prefix=test[0, :3], seed=1)
        assert np.all(done[:, :3] == test[0, :3])
        path = save_checkpoint(tmp_path / f"{model.kind}.pt", model)
        loaded, _ = load_checkpoint(path, kind=model.kind)
        assert tiny.test_bits_per_image(loaded, test) == pytest.approx(after, rel=1e-5)


def test_frames_strip_shows_one_more_pixel_each_frame() -> None:
    strip = tiny.pixel_by_pixel_frames(np.arange(9) % tiny.N_COLORS, scale=4, gap=2)
    assert strip.shape == (16, 10 * 18 - 2, 3)  # frames of 12 pixels with a border of 2, gaps of 2
    assert strip.dtype == np.uint8
    last = strip[2:14, 9 * 18 + 2 : 9 * 18 + 14]
    assert np.array_equal(last[::4, ::4], tiny.to_rgb(np.arange(9) % tiny.N_COLORS))
    first = strip[2:14, 2:14]
    assert not (first == 255).all(axis=-1).any()  # nothing drawn: no white, so a drawn white pixel stands out


def test_world_patterns_names_the_kind_of_each_picture() -> None:
    world, _ = tiny.world_distribution()
    kinds = tiny.world_patterns(world)
    assert set(kinds) == set(tiny.PATTERNS) and None not in kinds
    assert tiny.world_patterns(np.zeros((2, 9), dtype=np.int64)) == [None, None]  # all white: not a picture
    stripes = np.array([[2, 2, 2, 0, 0, 0, 2, 2, 2]])
    assert tiny.world_patterns(stripes) == ["horizontal stripes"]


def test_draw_pictures_keeps_the_prefix_and_follows_the_temperature() -> None:
    """The drawing loop (notebook 01's exercise): the prefix comes back first; a cold temperature draws the
    model's likeliest picture every time, a hot one many different pictures."""
    torch.manual_seed(0)
    model = tiny.TinyMLP(hidden=16).eval()
    with torch.no_grad():
        model.net[-1].weight.mul_(20)  # untrained logits lie close together: spread them
    prefix = torch.tensor([[2, 2, 2]]).expand(50, 3)
    drawn = tiny.draw_pictures(model, prefix, 1.0, torch.Generator().manual_seed(0))
    assert drawn.shape == (50, 9) and (drawn[:, :3] == 2).all()
    cold = tiny.draw_pictures(model, prefix, 0.001, torch.Generator().manual_seed(0))
    hot = tiny.draw_pictures(model, prefix, 5.0, torch.Generator().manual_seed(0))
    assert len({tuple(r) for r in cold.tolist()}) == 1 < len({tuple(r) for r in hot.tolist()})


def test_bad_prefix_is_refused_with_a_message() -> None:
    with pytest.raises(ValueError, match="prefix must be"):
        tiny.sample_images(tiny.TinyMLP(), 3, prefix=np.zeros((2, 3), dtype=np.int64))
