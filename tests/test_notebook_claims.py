"""The sentences the solution notebooks say about their outputs, checked against those outputs.

Each solution notebook records the figures its markdown relies on (`lecturekit.claims.record`, in the
cell that measures them). Every notebook is executed once, top to bottom with the shipped weights (by
nbval in `make test`, see nbval_claims.py; here when nbval did not), the recorded figures are read
back, and each claim the text makes (who beats whom, which way a number moves, counts the text states)
is asserted. A retrained model or a rebuilt data set that makes a sentence false fails here, naming
the notebook and the sentence.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbval_claims import figures_path, locked, save_from_kernel

ROOT = Path(__file__).resolve().parent.parent
_EXECUTED: dict[str, dict[str, Any]] = {}


def recorded(stem: str) -> dict[str, Any]:
    """What the cells of solutions/<stem>.ipynb recorded: from nbval's run of it in this `make test`
    (tests/nbval_claims.py), else from a run of its own, once per session."""
    if stem not in _EXECUTED:
        path = figures_path(stem)
        with locked(path):  # nbval running it on the other worker: wait for its figures
            if not path.is_file():
                save_from_kernel(path, functools.partial(_execute_with_last_cell, stem))
            _EXECUTED[stem] = json.loads(path.read_text())
    return _EXECUTED[stem]


def _execute_with_last_cell(stem: str, code: str) -> None:
    """Execute solutions/<stem>.ipynb top to bottom with the shipped weights, then `code` in the same kernel."""
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "solutions" / f"{stem}.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(code))
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("LECTUREKIT_PROGRESS", "text")
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "solutions")}}
    ).execute()


def claim(condition: bool, notebook: str, sentence: str, figures: Any) -> None:
    """Assert one sentence of a notebook; the failure names the sentence and the figures behind it."""
    assert condition, f"{notebook}: the text says {sentence!r}, but the outputs show {figures}"


@pytest.mark.slow
def test_nb04_claims() -> None:
    nb = "04_autoencoder_vs_vae"
    r = recorded(nb)
    knn = r["knn"]
    ae_n01, ae_wide, vae = knn["AE, codes ~ N(0, I)"], knn["AE, codes as wide as its own"], knn["VAE, codes ~ N(0, I)"]
    claim(
        min(ae_wide) > max(vae),
        nb,
        "[AE codes as wide as its own] are still measurably worse than the VAE's, draw after draw",
        {"AE": ae_wide, "VAE": vae},
    )
    claim(
        min(ae_n01) > max(ae_wide),
        nb,
        "drawn as wide as its own codes, they look better",
        {"N(0,I)": ae_n01, "wide": ae_wide},
    )
    claim(
        7 < r["ae_spread"] / r["vae_spread"] < 14,
        nb,
        "on the kit's sprites its own codes spread about ten times wider",
        (r["ae_spread"], r["vae_spread"]),
    )
    claim(
        r["recon"]["AE"] < r["recon"]["VAE"], nb, "On the kit's sprites the AE reconstructs a little better", r["recon"]
    )
    bits = r["bits"]
    claim(
        bits["PixelRNN (notebook 03), exact"] < bits["VAE: -ELBO (upper bound)"],
        nb,
        "[the negative ELBO is] (on the kit's sprites) worse than PixelRNN's",
        bits,
    )
    claim(
        bits["VAE: -ELBO (upper bound)"] < bits["per-position colour frequencies"],
        nb,
        "the VAE beats the per-position baseline",
        bits,
    )
    sharp = r["sharpness"]
    real = sharp["real held-out sprites"]
    mean_rgb, argmax = sharp["VAE, average colour (the decoder's mean)"], sharp["VAE, most likely colour"]
    independent, rnn = sharp["VAE, pixels drawn independently"], sharp["PixelRNN samples"]
    claim(
        0.25 < 1 - mean_rgb["in palette"] < 0.45 and mean_rgb["edge contrast"] < 0.85 * real["edge contrast"],
        nb,
        "the average colour: about a third of its pixels are mixed colours, and its edges are softer",
        sharp,
    )
    claim(
        argmax["in palette"] == 1.0
        and argmax["edge contrast"] > 0.9 * real["edge contrast"]
        and real["speckle"] < argmax["speckle"] < 1.5 * real["speckle"],
        nb,
        "The most likely colour comes close to the real sprites by all three numbers (... a little more speckle)",
        sharp,
    )
    claim(
        independent["edge contrast"] > 0.95 * real["edge contrast"] and independent["speckle"] > 4 * real["speckle"],
        nb,
        "Pixels drawn independently have the real sprites' edge contrast; their speckle, over four times the real",
        sharp,
    )
    claim(
        rnn["in palette"] == 1.0
        and rnn["edge contrast"] > 0.95 * real["edge contrast"]
        and 1.5 < rnn["speckle"] / real["speckle"] < 2.5,
        nb,
        "PixelRNN's samples are all palette colours with edges as strong as the real ones, and about twice the "
        "real speckle",
        sharp,
    )
    curves = r["loss_curves"]
    claim(
        all(c["train_best"] >= c["epochs"] - 5 for c in curves.values()),
        nb,
        "Both training losses fall to the end",
        curves,
    )
    claim(
        all(0.3 * c["epochs"] < c["best"] < 0.7 * c["epochs"] and 0.05 < c["rise"] < 0.2 for c in curves.values()),
        nb,
        "The held-out losses stop falling about halfway ... and then rise a little (about 0.1 bits per pixel)",
        curves,
    )
    claim(
        all(0.8 < c["gap"] < 1.2 for c in curves.values()),
        nb,
        "the gap between training and held-out loss (about 1 bit per pixel)",
        curves,
    )
    claim(
        min(r["hue_kept"].values()) > 0.9 and all(0.4 < v < 0.6 for v in r["exact_pixels"].values()),
        nb,
        "[both keep] the main hue of almost every sprite ... only about half of the pixels come back in exactly "
        "their colour",
        (r["hue_kept"], r["exact_pixels"]),
    )
    claim(
        abs(r["my_vae_loss"] - bits["VAE: -ELBO (upper bound)"]) < 0.05,
        nb,
        "your vae_loss of the held-out sprites, beside the package's -ELBO further below",
        (r["my_vae_loss"], bits),
    )
    sigma = {row["sigma"]: row for row in r["kl_rows"]}
    claim(
        abs(sigma[-2.0]["kl_of_lecture_sampling"] - 1.5) < 0.05 and abs(sigma[-2.0]["kl_log_variance"] - 0.57) < 0.01,
        nb,
        "for σ = −2 ... whose true KL is about 1.5 nats, while half the penalty says 0.57",
        sigma[-2.0],
    )
    claim(
        all(abs(v) < 1e-3 for v in r["minimise_good"]) and r["minimise_bad_steps"] < 100,
        nb,
        "Minimise [the written form], and it runs away",
        (r["minimise_good"], r["minimise_bad"]),
    )
    checked = r["reading_checked"]
    claim(
        any("confirmed" in line for line in checked) and any("corrected" in line for line in checked),
        nb,
        "run the cell after: it ... confirms or corrects your reading",
        checked,
    )
    claim(
        min(r["kl_per_dim"]) > 1.0 and r["used_dims"] == 10,
        nb,
        "On the kit's sprites ... every one of the ten carries information (the smallest KL far from 0)",
        (r["kl_per_dim"], r["used_dims"]),
    )
    r2 = r["r2"]
    claim(
        len(r["clean_dims"]) <= 2,
        nb,
        "At most one or two dimensions follow it (or anything else) cleanly",
        r["clean_dims"],
    )
    claim(
        sum(v > 0.2 for v in r2["body type"]) >= 7 and max(r2["body type"]) < 0.9,
        nb,
        "Body type explains part of almost every dimension and all of none",
        r2["body type"],
    )
    hue = sorted(r2["hue"], reverse=True)
    claim(
        0.25 < hue[1] and hue[0] < 0.5, nb, "Hue is shared by two dimensions, each explaining less than half", r2["hue"]
    )
    others = [v for name in ("saturation", "brightness", "size", "asymmetric") for v in r2[name]]
    claim(max(others) < 0.2, nb, "Saturation, brightness, size and asymmetry hardly move any single dimension", others)
    claim(
        r["hue_sectors_on_ring"] == 3,
        nb,
        "around the border of the left grid ... covers only part of the six colour sectors (3 of 6 on the kit's "
        "sprites)",
        r["hue_sectors_on_ring"],
    )


@pytest.mark.slow
def test_nb02_claims() -> None:
    nb = "02_colour_quantization"
    r = recorded(nb)
    claim(
        r["n_rgb_colours"] > 10_000 and r["original_rgb"],
        nb,
        "The kit's sprites have them (tens of thousands of different RGB values)",
        r["n_rgb_colours"],
    )
    red, pink, grey, mixed = r["example_saturation"]
    claim(red == 1.0 and grey == 0.0 and 0 < mixed < pink < 1, nb, "0 for ... greys ..., 1 for a pure colour", r)
    claim(r["scratch_same"], nb, "From nothing it can only draw one picture (... nothing is random)", r)
    claim(r["sat_regression"] < 0.7 * r["sat_real"], nb, "Predicting RGB with squared error draws grey sprites", r)
    claim(abs(r["sat_1n"] - r["sat_real"]) < 0.2 * r["sat_real"], nb, "its drawings keep the data's saturation", r)
    claim(r["in_palette_1n"] == 1.0, nb, "every drawn pixel is a real palette colour, never an average", r)
    claim(0.4 < r["white_share"] < 0.6, nb, "[white is] about half of all pixels", r["white_share"])
    found = {int(k): v for k, v in r["kmeans_found"].items()}
    claim(all(found[k] <= k for k in found), nb, "[k-means] finds at most as many colours as [K]", found)
    n90 = {int(k): v for k, v in r["kmeans_90"].items()}
    claim(
        all(0.55 < n90[k] / k < 0.75 for k in n90 if k >= 32) and 0.55 < r["palette_90"] / 168 < 0.75,
        nb,
        "On the kit's sprites, from K = 32 on it is about two thirds of the palette ... the kit's own palette is no "
        "different",
        (n90, r["palette_90"]),
    )
    claim(n90[16] == 12, nb, "at K = 16, 12 of the 16 colours are needed for 90%", n90)
    claim(all(n90[k] <= 8 for k in (2, 4, 8)), nb, "a palette of 8 or fewer colours *is* a handful", n90)
    errors = [r["kmeans_error"][k] for k in sorted(r["kmeans_error"], key=int)]
    claim(errors == sorted(errors, reverse=True), nb, "the error falls as K grows", errors)
    claim(
        all(merged >= direct - 0.1 for merged, direct in r["merge_vs_kmeans"]),
        nb,
        "[k-means fitted directly at each merged size is as good or better] at all of them on the kit's sprites",
        r["merge_vs_kmeans"],
    )
    claim(
        r["direct_wins"] == sum(merged >= direct - 0.1 for merged, direct in r["merge_vs_kmeans"]),
        nb,
        "[the cell prints] at how many sizes that is as good or better",
        (r["direct_wins"], r["merge_vs_kmeans"]),
    )
    claim(
        all(rarest >= m for rarest, m in zip(r["merged_rarest"], r["merged_min_counts"])),
        nb,
        "every colour left has enough pixels for the model to learn it",
        (r["merged_rarest"], r["merged_min_counts"]),
    )
    sizes, merged_errors = r["merged_sizes"], r["merged_errors"]
    claim(
        sizes[:3] == [128, 125, 112] and 0.4 < merged_errors[2] - merged_errors[0] < 0.8,
        nb,
        "Merging the rarest colours shrinks the palette at a small cost in error (128 to 112 colours: +0.6)",
        (sizes, merged_errors),
    )
    claim(merged_errors == sorted(merged_errors), nb, "merging more costs more", merged_errors)
    claim(r["recipe_same"], nb, "[with your merge] it lands exactly on the shipped palette and sprite file", r)
    claim(r["recipe_sizes"][1:] == [200, 168], nb, "k-means with K = 200 ... at most 168 colours", r["recipe_sizes"])
    claim(
        r["recipe_errors"][2] - r["recipe_errors"][1] < 2.0,
        nb,
        "merging ... at a small cost in error",
        r["recipe_errors"],
    )
    by_target = {int(k): v for k, v in r["recipe_by_target"].items()}
    target_errors = [v["error"] for v in by_target.values()]
    claim(
        all(v["colours"] <= t for t, v in by_target.items()) and max(target_errors) - min(target_errors) < 0.5,
        nb,
        "merge until at most 176, 168 and 167 colours ... the errors differ by less than half a unit",
        by_target,
    )
    median = {int(k): v for k, v in r["median_errors"].items()}
    kmeans_error = {int(k): v for k, v in r["kmeans_error"].items()}
    claim(
        all(median[k] > kmeans_error[k] for k in median),
        nb,
        "Pillow's median cut ..., with a higher error than k-means at every size tried",
        (median, kmeans_error),
    )
    claim(r["export_identical"], nb, "read them back with the same function ...: identical", r["export_identical"])


@pytest.mark.slow
def test_nb06_claims() -> None:
    nb = "06_sentence_vae"
    r = recorded(nb)
    from lecturekit.corpus import LECTURE_SENTENCES, is_grammar_sentence

    a, b = LECTURE_SENTENCES
    claim(
        r["pair_back"][0] != a and r["lecture_pair_path"][0] != a,
        nb,
        "At t = 0 the decoder does not give back sentence A",
        r["pair_back"],
    )
    claim(
        r["pair_back"][1] == b and r["lecture_pair_path"][-1] == b,
        nb,
        "At t = 1 sentence B comes back word for word",
        r["pair_back"],
    )
    claim(
        r["kl_start"] < r["kl_small_beta"] and r["kl_full_beta"] < r["kl_small_beta"],
        nb,
        "While β is small the KL term grows; as β reaches 1 the model trades some of it away again",
        (r["kl_start"], r["kl_small_beta"], r["kl_full_beta"]),
    )
    claim(
        all(v > 0.85 for v in r["grammatical_reconstruction"].values()),
        nb,
        "almost every reconstruction is a grammatical sentence",
        r["grammatical_reconstruction"],
    )
    exact = r["exact_reconstruction"]
    claim(
        exact["held-out"] < exact["training"] < 0.5,
        nb,
        "Exact reconstruction is rare, rarer still for sentences the model has not seen",
        exact,
    )
    claim(
        all(is_grammar_sentence(s) for s in r["lecture_pair_path"]) and r["kit_inner_grammatical"] == 1.0,
        nb,
        "The kit's [decoder] writes a sentence of the grammar at every point of its path",
        r["lecture_pair_path"],
    )
    mixtures = [(ok, from_a) for ok, from_a, _from_b in r["lecture_inner"] if not ok]
    claim(
        len(mixtures) == 2 and len(r["lecture_inner"]) == 3 and all(from_a > 0.5 for _ok, from_a in mixtures),
        nb,
        "The lecture's decoder wrote mixtures: two of its three middle sentences break the grammar and keep most of "
        "sentence A's words",
        r["lecture_inner"],
    )
    claim(all(r["beam_same"]), nb, "[your beam search] should find the same sentences as the package's", r)
    dec = r["decoding"]
    claim(
        dec["beam"]["seconds"] > 3 * dec["greedy"]["seconds"]
        and dec["beam"]["log_prob_per_word"] > dec["greedy"]["log_prob_per_word"]
        and dec["beam"]["grammatical"] > dec["greedy"]["grammatical"],
        nb,
        "Beam search takes several times as long as greedy decoding, and finds sentences with a better "
        "log-probability per word; more of them are in the grammar, too",
        dec,
    )
    claim(
        dec["sample"]["log_prob_per_word"] < min(dec["greedy"]["log_prob_per_word"], dec["beam"]["log_prob_per_word"])
        and dec["sample"]["grammatical"] < min(dec["greedy"]["grammatical"], dec["beam"]["grammatical"]),
        nb,
        "Sampling at temperature 0.7 has the worst score per word and the fewest sentences in the grammar",
        dec,
    )
    claim(
        r["paths_grammatical"] > 0.7,
        nb,
        "the line between two codes passes through (mostly) grammatical sentences",
        r["paths_grammatical"],
    )
    runs = r["kl_curves"]
    claim(
        runs["no_annealing"]["kl"] < 1 < runs["annealed"]["kl"],
        nb,
        "posterior collapse (KL -> 0) without the fixes",
        runs,
    )
    claim(
        runs["no_annealing"]["nll_per_sentence"] < runs["annealed"]["nll_per_sentence"],
        nb,
        "the collapsed run can even have the lower held-out NLL",
        runs,
    )
    claim(
        runs["no_annealing"]["token_accuracy"] < runs["annealed"]["token_accuracy"],
        nb,
        "The reconstruction accuracy does [say whether the code is useful]",
        runs,
    )
    claim(
        runs["no_annealing"]["active_units"] == 15 and runs["annealed"]["active_units"] == 16,
        nb,
        "the number of active dimensions does not [show whether they worked] (the collapsed run above still has "
        "15 of 16)",
        runs,
    )


@pytest.mark.slow
def test_nb03_claims() -> None:
    nb = "03_pixelrnn"
    r = recorded(nb)
    claim(
        r["lstm_cells"] == 512 and r["embedding"] == 64,
        nb,
        "a learned 64-number embedding ... one LSTM layer with 512 cells",
        (r["lstm_cells"], r["embedding"]),
    )
    losses = r["step_losses"]
    uniform = r["bits"]["uniform"]
    claim(
        abs(losses[0] - uniform) < 0.3 and sum(losses[-5:]) / 5 < uniform - 2.5,
        nb,
        "its loss falls from the uniform guess, log2 K bits per pixel, to about the colour-frequency baselines",
        (losses, uniform),
    )
    claim(
        abs(r["small_bits"] - r["bits"]["position"]) < 0.6,
        nb,
        "[after 30 steps, held out:] about the colour-frequency baselines",
        (r["small_bits"], r["bits"]),
    )
    bits = r["bits"]
    claim(
        bits["pixelrnn"] < bits["position"] < bits["unigram"] < bits["uniform"],
        nb,
        "the LSTM beats colour statistics by far",
        bits,
    )
    claim(bits["pixelrnn"] < 0.5 * bits["position"], nb, "its bits per pixel are far below the baselines'", bits)
    claim(r["corner_white"] > 0.95, nb, "corners are almost always white", r["corner_white"])
    claim(
        r["background_bits"] < 0.2 * r["creature_bits"],
        nb,
        "on the kit's sprites the white background around a creature costs almost nothing",
        (r["background_bits"], r["creature_bits"]),
    )
    agree = {float(k): v for k, v in r["completion_agreement"].items()}
    scheme = {float(k): v for k, v in r["completion_scheme"].items()}
    half = scheme[0.5]
    claim(agree[0.25] < 0.7 * agree[0.5], nb, "From the top 25% they are much weaker", agree)
    claim(r["completion_chance"] < agree[0.25], nb, "more of the sprite shown, more of its own pixels drawn back", r)
    claim(
        half["completions"] > 0.5
        and abs(half["completions"] - half["the real bottom half"])
        < abs(half["completions"] - half["another sprite's"]),
        nb,
        "From the top 50%, most creature pixels a completion draws are in colours it was shown, a share much closer "
        "to the real sprite's own bottom half than to another sprite's",
        scheme,
    )
    claim(agree[0.5] < 0.1, nb, "Yet it colours well under a tenth of the real creature pixels exactly", agree)
    claim(
        scheme[0.25]["completions"] < half["completions"] and agree[0.25] < agree[0.5],
        nb,
        "Both numbers fall when only 25% is shown",
        (scheme, agree),
    )
    claim(
        r["argmax_distinct"] == 1 and r["argmax_nonwhite"] == 0.0,
        nb,
        "Argmax draws the same sprite every time ... On the kit's sprites it is empty",
        r,
    )
    claim(r["first_pixel_argmax"] == 0, nb, "at the first pixel white is the single most likely colour", r)
    claim(r["sampled_distinct"] == 16, nb, "Sampling ... makes every drawing different", r["sampled_distinct"])
    temps = {float(k): v for k, v in r["by_temperature"].items()}
    claim(temps[0.3]["nonwhite"] < 0.05, nb, "On the kit's sprites, at T = 0.3 the sprites are (nearly) empty", temps)
    own = [temps[t]["own_bits"] for t in sorted(temps)]
    claim(own == sorted(own), nb, "few bits at low T ... above 1 the drawings turn to noise", own)
    claim(temps[1.4]["nonwhite"] > temps[1.0]["nonwhite"], nb, "above 1 every colour becomes likely", temps)
    s = r["sample_scores"]
    claim(
        s["LSTM + row above"] < s["LSTM"] and r["above_bits"] < bits["pixelrnn"],
        nb,
        "On the kit's sprites the row above helps in both numbers",
        (s, r["above_bits"]),
    )
    claim(r["above_cells"] == 512, nb, "on the kit's sprites an LSTM with 512 cells", r["above_cells"])
    claim(
        r["above_verdict"] == ("better" if r["above_bits"] < bits["pixelrnn"] else "worse"),
        nb,
        "on this data set, the LSTM + row above is better/worse [as printed]",
        (r["above_verdict"], r["above_bits"], bits["pixelrnn"]),
    )
    claim(
        s["real held-out sprites"] + 0.2 < s["LSTM + row above"], nb, "still far from real held-out sprites' score", s
    )
    claim(
        s["LSTM"] > 0.75 and abs(s["real held-out sprites"] - 0.5) < 0.1,
        nb,
        "[the 1-NN score:] 0.5 if indistinguishable ... PixelRNN's samples (on the kit's sprites far from 0.5)",
        s,
    )


@pytest.mark.slow
def test_nb05_claims() -> None:
    nb = "05_gan"
    r = recorded(nb)
    claim(r["p_train"] - r["p_test"] > 0.05, nb, "verdict: D ... has partly memorised them", r)
    claim(r["p_fake"] < r["p_test"], nb, "D calls generated sprites less real than held-out ones", r)
    claim(not r["collapsed"] and r["last_variety"] > r["real_variety"] / 3, nb, "this run did not collapse", r)
    claim(
        r["mid_gap"] < r["step_gap"],
        nb,
        "For the kit's generator ... the midpoints differ less than two neighbouring steps of one path do",
        r,
    )
    claim(
        r["real_mid_spherical"] <= r["real_mid_straight"] + 0.05,
        nb,
        "D does not find the spherical midpoints more real",
        r,
    )
    rows = r["comparison"]
    models = {k: v for k, v in rows.items() if not k.startswith("real")}
    knn = {k: v["1-NN real vs drawn"] for k, v in models.items()}
    claim(
        r["easiest"] == max(knn, key=knn.get), nb, "easiest to tell from real sprites [as printed]", (r["easiest"], knn)
    )
    claim(
        max(knn, key=knn.get) == "PixelRNN",
        nb,
        "on the kit's sprites PixelRNN is ... the easiest to tell from real sprites",
        knn,
    )
    claim(
        all(v["copies"] == 0 for v in rows.values()) and "copies" in r["constant_columns"],
        nb,
        "no row draws a single near copy, so copies is 0 in every row and named under the table",
        (rows, r["constant_columns"]),
    )
    _nb05_sharpness_claims(nb, rows)
    bpp = {k: v["bits/pixel"] for k, v in models.items() if v.get("bits/pixel") is not None}
    knn_min = min(knn, key=knn.get)
    seconds = {k: v["seconds"] for k, v in models.items()}
    claim(
        min(bpp, key=bpp.get) == "PixelRNN, sees the row above"
        and knn_min.startswith("GAN")
        and min(seconds, key=seconds.get) == "GAN: raw RGB",
        nb,
        "PixelRNN (the see-above model) on likelihood ... the GAN on samples that are the hardest to tell from real "
        "training sprites (the lowest 1-NN) and on speed",
        (bpp, knn, seconds),
    )
    ns, minimax = r["grad_non_saturating"], r["grad_minimax"]
    claim(
        abs(ns[0] - 1) < 0.01 and abs(minimax[0] - 0.001) < 0.0005,
        nb,
        "When D is sure a sprite is fake (0.001), the minimax loss passes back about 0.001, the non-saturating about 1",
        (ns, minimax),
    )
    late = r["loss_last_tenth"]
    claim(
        min(late.values()) > 0.2,
        nb,
        "GAN losses do not fall to zero the way a classifier's does",
        late,
    )
    straight = r["straight_lengths"]
    claim(
        all(abs(n - 32**0.5) < 1.5 for n in (straight[0], straight[-1]))
        and 0.55 < straight[len(straight) // 2] / ((straight[0] + straight[-1]) / 2) < 0.85
        and max(r["spherical_lengths"]) - min(r["spherical_lengths"]) < 0.5,
        nb,
        "codes have length close to √32 ≈ 5.7; the straight line's midpoint is about 0.7 times as long; the "
        "spherical path keeps the length",
        (straight, r["spherical_lengths"]),
    )
    step = r["step_losses"]
    claim(
        step["d_after"] < step["d_before"] and step["g_after"] < step["g_before"],
        nb,
        "D's step should lower D's loss on this batch, G's step G's loss",
        step,
    )
    sat = r["saturation"]
    real_sat, gan_sat = sat["real held-out sprites"], sat["GAN samples (raw RGB)"]
    claim(abs(gan_sat - real_sat) < 0.1 * real_sat, nb, "The GAN's colours are as saturated as the real sprites'", sat)
    claim(
        0 < r["ramp_end"] < r["lowest_epoch"]
        and r["variety_at_ramp_end"] >= 0.9 * r["real_variety"]
        and r["lowest_after_ramp"] > r["real_variety"] / 3,
        nb,
        "the variety first rises over a few epochs (a warm-up ramp); from the first epoch that reached 90% on, "
        "the lowest [is printed]; this run did not collapse",
        r,
    )


def _nb05_sharpness_claims(nb: str, rows: dict[str, Any]) -> None:
    """Notebook 05's reading of the sharpness columns (speckle, edges, palette) against the real sprites."""
    real = rows["real sprites (held-out)"]
    models = {k: v for k, v in rows.items() if not k.startswith("real")}
    sharp = {k: v["sharpness"] for k, v in models.items()}
    claim(
        max(sharp, key=sharp.get) == "VAE: most likely colour",
        nb,
        "[the VAE's] most likely colour is the sharpest row",
        sharp,
    )
    expected, likely = models["VAE: expected colour"], models["VAE: most likely colour"]
    claim(
        expected["in palette"] < 0.9 and expected["edge contrast"] < 0.85 * real["edge contrast"],
        nb,
        "the VAE's expected colour is the blurry picture (mixed colours, soft edges)",
        rows,
    )
    claim(
        likely["in palette"] == 1.0
        and likely["edge contrast"] > 0.9 * real["edge contrast"]
        and likely["speckle"] < 1.25 * real["speckle"],
        nb,
        "[most likely colour] close to the real sprites by all three numbers",
        rows,
    )
    plain, above = models["PixelRNN"], models["PixelRNN, sees the row above"]
    claim(
        all(
            m["in palette"] == 1.0
            and 0.9 < m["edge contrast"] / real["edge contrast"] < 1.1
            and m["speckle"] > 1.25 * real["speckle"]
            for m in (plain, above)
        )
        and above["speckle"] < plain["speckle"],
        nb,
        "Both PixelRNNs draw palette colours with edges like the real ones, but more speckle (the see-above model "
        "less than the plain one)",
        rows,
    )
    gan_speckle = min(models["GAN: raw RGB"]["speckle"], models["GAN: snapped to palette"]["speckle"])
    claim(
        all(v["speckle"] < gan_speckle for k, v in models.items() if not k.startswith("GAN")),
        nb,
        "The GAN's samples carry the most speckle, raw or snapped",
        rows,
    )
    claim(
        sharp["PixelRNN"] > sharp["VAE: expected colour"] and sharp["PixelRNN"] < sharp["VAE: most likely colour"],
        nb,
        "PixelRNN is crisper than the VAE's blurry picture, not than every picture the VAE can draw",
        sharp,
    )


@pytest.mark.slow
def test_nb01_claims() -> None:
    nb = "01_autoregressive_pixels"
    r = recorded(nb)
    claim(
        r["n_colours"] == 13 and r["n_kinds"] == 6 and r["world_size"] == 200,
        nb,
        "six kinds ... 13 colours in all; the world can make 200 [pictures]",
        r,
    )
    claim(not r["has_black"], nb, "The world has no pure black", r["has_black"])
    bits = r["bits"]
    mlp, rnn = bits["MLP, zero-padded input"], bits["RNN, variable-length input"]
    floor, base = bits["the world's entropy (floor)"], bits["independent pixels (baseline)"]
    claim(floor <= mlp < base and floor <= rnn < base, nb, "both work: between the floor and the baseline", bits)
    chain = r["chain"]
    claim(
        abs(chain["product_bits"] - chain["log_prob_bits"]) < 1e-3
        and abs(chain["model_bits"] - chain["log_prob_bits"]) < 1e-3,
        nb,
        "multiplied together, is the probability of the whole picture, and your image_log_prob gives the same number "
        "as the model's loss",
        chain,
    )
    drawn = r["drawings"]
    claim(
        mlp < rnn and drawn["MLP, zero-padded"]["valid"] > drawn["RNN"]["valid"],
        nb,
        "the zero-padded MLP is the better model: fewer held-out bits per picture and more valid drawings",
        r,
    )
    claim(
        all(0 < d["distinct_valid"] <= r["world_size"] for d in drawn.values()),
        nb,
        "how many different valid pictures there are (the world can make 200)",
        drawn,
    )
    temps = r["by_temperature"]
    for model in ("MLP, zero-padded", "RNN"):
        cold, warm, hot = (temps[f"{model}, T = {t}"] for t in (0.5, 1.0, 2.0))
        claim(
            cold["valid"] > warm["valid"] > hot["valid"] and cold["distinct_valid"] < warm["distinct_valid"],
            nb,
            "a low T plays safe (more valid drawings, but fewer different ones), a high T ... breaks the world's rules",
            temps,
        )
    claim(
        sum(r["completion_valid"]) / len(r["completion_valid"]) > 0.5,
        nb,
        "most [completions] are pictures the world could make",
        r["completion_valid"],
    )
    claim(
        min(r["completion_distinct"]) >= 2,
        nb,
        "The completions differ from one another (the model samples)",
        r["completion_distinct"],
    )
    claim(
        r["first_layer"]["400"] > 10 * r["rnn_size"] and r["first_layer"]["9"] < r["rnn_size"],
        nb,
        "The padded input grows with the picture ... The RNN's size does not depend on the picture",
        r,
    )


@pytest.mark.slow
def test_nb00_claims() -> None:
    """Notebook 00 states few figures beyond what it prints (how fast each notebook runs is a benchmark row,
    `notebook_seconds_0N`: a timed assertion here would flake on a busy machine); it must run, and say true."""
    nb = "00_start_here"
    r = recorded(nb)  # a cell that raises fails here
    claim(r["index0"] == [255, 255, 255], nb, "Index 0 is white, the background", r["index0"])
    claim(r["most_used"] == 0, nb, "[the swatches are] sorted by how many pixels use them [white first]", r)


def test_every_solution_notebook_has_a_claims_test() -> None:
    """A new notebook gets its claims checked too: one test here per solution notebook."""
    names = {p.stem for p in (ROOT / "solutions").glob("*.ipynb")}
    tested = {name.split("_")[1] for name in globals() if name.startswith("test_nb")}
    assert {n.split("_")[0] for n in names} == {t.removeprefix("nb") for t in tested}


def test_claim_failure_names_the_notebook_and_sentence() -> None:
    with pytest.raises(AssertionError, match="04_x: the text says 'A beats B'"):
        claim(False, "04_x", "A beats B", {"A": 1, "B": 0})
