"""The semi-supervised GAN (``model.family = "semi-supervised"``) end to end on a tiny budget:
it trains from its preset, evaluates D's held-out accuracy beside G's image metrics, the
supervised baseline (``semi.adversarial = false``) trains with no G and D's accuracy alone,
`gankit classify` writes D's labels, and the refusals (keys of other families, toy data, a
plain GAN run, images of another shape or range) come in one line with nothing written."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors import safe_open

from gankit import api, config, runs
from gankit.data.datasets import ImageSource
from gankit.data.images import load_digits_images
from gankit.data.sources import build_data
from gankit.errors import GankitError
from gankit.recipes.semisupervised.labelled import labelled_indices
from gankit.recipes.semisupervised.recipe import build_nets
from gankit.report.semisupervised_section import class_rows
from image_cli_kit import TINY, gankit, rows_of

PRESET = ["--preset", "semi-supervised-digits"]
SMALL = [*TINY, "--set", "semi.labelled_batch_size=16"]


@pytest.fixture(scope="module")
def semi_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("semi") / "run"
    code, _, err = gankit("train", *PRESET, "--out", run, *SMALL)
    assert code == 0, err
    return run


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("semi-baseline") / "run"
    code, _, err = gankit(
        "train", *PRESET, "--out", run, *SMALL, "--set", "semi.adversarial=false"
    )  # fmt: skip
    assert code == 0, err
    return run


@pytest.mark.parametrize("with_replacement", [False, True])
def test_labelled_minibatches_follow_semi_labelled_replacement(
    tmp_path, monkeypatch, with_replacement
):
    """Without replacement, a labelled minibatch as large as the labelled set (10 per class)
    holds every labelled image once, as Salimans et al.'s code; with it, some repeat."""
    drawn, batch = [], ImageSource.batch

    def recording(self, n, generator=None, replacement=True):
        out = batch(self, n, generator, replacement)
        if len(self) == 100:  # the labelled source: 10 labelled digits of each of 10 classes
            drawn.append((replacement, out.x.flatten(1), out.y))
        return out

    monkeypatch.setattr(ImageSource, "batch", recording)
    sets = [
        "semi.labelled_batch_size=100",
        f"semi.labelled_replacement={str(with_replacement).lower()}",
    ]
    cfg = config.resolve(
        "semi-supervised-digits", overrides=[*sets, "train.steps=3", "log.eval_every=3"]
    )
    api.train(cfg, tmp_path / "run", progress=False)
    assert len(drawn) == 3 and all(r is with_replacement for r, _, _ in drawn)
    for _, images, labels in drawn:
        distinct = torch.unique(images, dim=0).shape[0]
        if with_replacement:
            assert distinct < 100  # 100 draws with replacement: about 63 distinct
        else:
            assert distinct == 100 and torch.bincount(labels, minlength=10).tolist() == [10] * 10


#: D's optional terms: (key, the logged term, its range); the baseline ignores each
D_TERMS = [
    ("semi.entropy_weight", "class_entropy", (0.0, float(np.log(10)) + 1e-6)),
    ("semi.manifold_weight", "manifold_penalty", (0.0, float("inf"))),
]


@pytest.mark.parametrize("adversarial", [True, False])
@pytest.mark.parametrize(("key", "term", "bounds"), D_TERMS)
def test_d_terms_add_their_weighted_value_to_d_loss_and_the_baseline_ignores_them(
    tmp_path, adversarial, key, term, bounds
):
    """``semi.entropy_weight`` (the entropy of D's class posterior on the unlabelled
    minibatch) and ``semi.manifold_weight`` (the manifold regulariser along G): every logged D
    loss is the sum of its terms with the term weighted in; the baseline reads no unlabelled
    image and has no G, so it logs no such term."""
    run = tmp_path / "run"
    sets = ["--set", f"{key}=0.5", "--set", f"semi.adversarial={adversarial}".lower()]
    code, _, err = gankit("train", *PRESET, "--out", run, *SMALL, *sets)
    assert code == 0, err
    trained = [r for r in rows_of(run) if "d_loss" in r]
    assert trained
    for r in trained:
        if adversarial:
            assert bounds[0] <= r[term] <= bounds[1]
            terms = r["supervised_loss"] + r["unsupervised_loss"] + 0.5 * r[term]
            assert r["d_loss"] == pytest.approx(terms, rel=1e-5)
        else:
            assert term not in r
            assert r["d_loss"] == pytest.approx(r["supervised_loss"], rel=1e-6)


def test_trains_and_evaluates_heldout_accuracy_beside_the_image_metrics(semi_run):
    rows = rows_of(semi_run)
    trained = [r for r in rows if "d_loss" in r]
    assert trained and all(
        {"supervised_loss", "unsupervised_loss", "g_loss", "labelled_accuracy"} <= set(r)
        for r in trained
    )
    evaluations = [r for r in rows if "heldout_accuracy" in r]
    assert [r["step"] for r in evaluations] == [15, 30]
    for r in evaluations:
        assert 0.0 <= r["heldout_accuracy"] <= 1.0 and "fid_digits" in r
        assert 0.0 <= r["d_train"] <= 1.0  # D read as D(x) = Z / (Z + 1)
    final = json.loads((semi_run / "final_metrics.json").read_text())
    assert 0.0 <= final["heldout_accuracy"] <= 1.0 and "fid_digits" in final
    classes = np.load(semi_run / "classes.npz")
    assert classes["confusion"].shape == (10, 10) and classes["confusion"].sum() == 297
    assert np.trace(classes["confusion"]) / 297 == pytest.approx(final["heldout_accuracy"])
    loaded = api.load_run(semi_run)
    assert loaded.family_metrics() == {
        "heldout_accuracy": final["heldout_accuracy"],
        "unlabelled_accuracy": final["unlabelled_accuracy"],
    }
    assert loaded.sample(4).shape == (4, 1, 8, 8)


def test_unlabelled_accuracy_is_d_on_the_pool_it_read_without_labels(semi_run, baseline_run):
    """``unlabelled_accuracy``: D's accuracy on the training images outside the labelled draw
    (worked out here from the draw's indices, not the recipe's split), in each evaluation row
    and in the final metrics; the baseline measures it too."""
    for run in (semi_run, baseline_run):
        loaded = api.load_run(run)
        train = build_data(loaded.config).train
        drawn = labelled_indices(train.labels, 10, 10, loaded.config.train.seed)
        pool = np.setdiff1d(np.arange(len(train)), drawn)
        assert len(pool) == len(train) - 100
        predicted, _ = loaded.classify(train.images[pool])
        final = json.loads((run / "final_metrics.json").read_text())
        expected = float((predicted == train.labels[pool]).mean())
        assert final["unlabelled_accuracy"] == pytest.approx(expected)
        evaluations = [r for r in rows_of(run) if "heldout_accuracy" in r]
        assert evaluations and all(0.0 <= r["unlabelled_accuracy"] <= 1.0 for r in evaluations)
        assert evaluations[-1]["unlabelled_accuracy"] == pytest.approx(expected)


def test_baseline_trains_d_alone_and_measures_its_accuracy_only(baseline_run):
    rows = rows_of(baseline_run)
    trained = [r for r in rows if "d_loss" in r]
    assert trained and all("g_loss" not in r and "unsupervised_loss" not in r for r in trained)
    final = json.loads((baseline_run / "final_metrics.json").read_text())
    assert set(final) == {"step", "heldout_accuracy", "unlabelled_accuracy"}
    assert final["step"] == 30
    assert not any(k.startswith("fid") for r in rows for k in r)
    checkpoint = sorted((baseline_run / "checkpoints").glob("*.safetensors"))[-1]
    with safe_open(str(checkpoint), "pt") as f:
        assert not any(k.startswith("G") for k in f.keys())
    code, _, err = gankit("sample", baseline_run, "-n", "4", "--out", baseline_run / "x.npy")
    assert code == 2 and "no generator" in err and not (baseline_run / "x.npy").exists()


def test_classify_writes_d_labels(semi_run, tmp_path):
    images, labels = load_digits_images(return_labels=True)
    source = tmp_path / "digits.npy"
    np.save(source, images[:40])
    out = tmp_path / "labels.npy"
    code, _, err = gankit("classify", semi_run, source, "--out", out)
    assert code == 0, err
    predicted = np.load(out)
    assert predicted.dtype == np.int64 and predicted.shape == (40,)
    assert "D's classes 0..9 of 40 images" in err
    expected, _ = api.load_run(semi_run).classify(images[:40])
    assert np.array_equal(predicted, expected)
    # uint8 images read as the same picture
    np.save(tmp_path / "u8.npy", np.round(images[:40] * 255).astype(np.uint8))
    code, _, err = gankit("classify", semi_run, tmp_path / "u8.npy", "--out", tmp_path / "u.npy")
    assert code == 0 and np.array_equal(np.load(tmp_path / "u.npy"), predicted), err


def checkpoint_tensors(run, prefix: str) -> dict[str, torch.Tensor]:
    """``{name without the prefix: tensor}`` of the run's newest checkpoint's module ``prefix``."""
    _, tensors, _ = runs.load_checkpoint(runs.latest_checkpoint(run))
    return {k[len(prefix) + 1 :]: t for k, t in tensors.items() if k.startswith(prefix + ".")}


def train_with_average(out, decay: str) -> tuple[dict, dict]:
    """Train the tiny preset with ``semi.classifier_ema = decay`` into ``out``; the newest
    checkpoint's (D's average, D)."""
    code, _, err = gankit(
        "train", *PRESET, "--out", out, *SMALL, "--set", f"semi.classifier_ema={decay}"
    )  # fmt: skip
    assert code == 0, err
    return checkpoint_tensors(out, "D_ema"), checkpoint_tensors(out, "D")


def test_classifier_ema_is_what_classifies_and_is_checkpointed(tmp_path):
    """``semi.classifier_ema``: D's average is checkpointed as ``D_ema`` and is the loaded
    run's classifier (held-out accuracy, classify) while D stays the score; its decay is
    frozen on resume."""
    run = tmp_path / "run"
    averaged, live = train_with_average(run, "0.9")
    assert averaged.keys() == live.keys()
    assert any(not torch.equal(averaged[k], live[k]) for k in live)
    loaded = api.load_run(run)
    assert loaded.classifier is not loaded.discriminator.discriminator
    for name, tensor in loaded.classifier.state_dict().items():
        assert torch.equal(tensor, averaged[name])
    images, labels = loaded.data.heldout.images, loaded.data.heldout.labels
    expected = float((loaded.classify(images)[0] == labels).mean())
    final = json.loads((run / "final_metrics.json").read_text())
    assert final["heldout_accuracy"] == pytest.approx(expected)
    # a resume that changes the decay is refused, nothing written
    code, _, err = gankit(
        "train", "--out", run, "--resume", "--steps", "40", "--set", "semi.classifier_ema=0.5"
    )  # fmt: skip
    assert code == 2 and "semi.classifier_ema" in err, err
    assert runs.latest_checkpoint(run).name == "step-30.safetensors"


def test_classifier_ema_moves_after_every_d_update(tmp_path):
    """A decay near 0 (debiased: each update all but copies D) ends equal to the last D."""
    averaged, live = train_with_average(tmp_path / "copying", "1e-9")
    for name, tensor in live.items():
        torch.testing.assert_close(averaged[name], tensor, rtol=0, atol=1e-6)


def test_classify_refusals(semi_run, digits_run, tmp_path):
    def refused(*args, expect):
        out = tmp_path / "out.npy"
        code, _, err = gankit("classify", *args, "--out", out)
        assert code == 2 and expect in err, err
        assert len(err.strip().splitlines()) == 1 and not out.exists()

    good = tmp_path / "good.npy"
    np.save(good, load_digits_images()[:5])
    refused(digits_run, good, expect="is a gan run: gankit classify reads semi-supervised")
    np.save(tmp_path / "big.npy", np.zeros((3, 1, 16, 16), np.float32))
    refused(semi_run, tmp_path / "big.npy", expect="classifies images of shape (1, 8, 8)")
    np.save(tmp_path / "range.npy", np.full((3, 1, 8, 8), 2.0, np.float32))
    refused(semi_run, tmp_path / "range.npy", expect="must lie in [0, 1]")
    np.save(tmp_path / "flat.npy", np.zeros((3, 64), np.float32))
    refused(semi_run, tmp_path / "flat.npy", expect="flat.npy")
    refused(semi_run, tmp_path / "missing.npy", expect="no such file")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["game.loss=hinge"], "game.loss = 'hinge' means nothing for model.family"),
        (["model.pack=2"], "model.pack = 2 means nothing"),
        (["model.minibatch_std=true"], "model.minibatch_std = True means nothing"),
        (["data.name=ring-8"], "needs labelled image data"),
        (["semi.labels_per_class=500"], "semi.labels_per_class = 500: class 0 has"),
        (["vae.latent_dim=3"], "vae"),
    ],
)
def test_misfits_are_refused_before_anything_is_written(tmp_path, overrides, expected):
    sets = [a for o in overrides for a in ("--set", o)]
    run = tmp_path / "run"
    code, _, err = gankit("train", *PRESET, "--out", run, *TINY, *sets)
    assert code == 2 and expected in err, err
    assert len(err.strip().splitlines()) == 1 and not run.exists()


def test_nets_read_the_fully_connected_layers():
    cfg = config.resolve(
        "semi-supervised-digits", overrides=["model.d_fc=12", "model.g_fc=10"]
    )  # fmt: skip
    d, g = build_nets(cfg, build_data(cfg))
    assert d.feature_dim == 12 and d.score_head.in_features == 12
    assert g.hidden[0].out_features == 10
    baseline = config.resolve("semi-supervised-digits", overrides=["semi.adversarial=false"])
    d, g = build_nets(baseline, build_data(baseline))
    assert g is None and d.feature_dim == 128  # the baseline's D is the preset's, layer included
    plain = config.resolve("semi-supervised-digits", overrides=["model.d_fc=0"])
    d, _ = build_nets(plain, build_data(plain))
    assert isinstance(d.hidden, torch.nn.Identity)


def test_labelled_draw_is_per_class_seeded_and_disjoint_from_the_rest():
    labels = np.repeat(np.arange(4), [5, 6, 7, 8])
    a = labelled_indices(labels, 3, 4, seed=0)
    assert np.array_equal(np.bincount(labels[a], minlength=4), [3, 3, 3, 3])
    assert np.array_equal(a, labelled_indices(labels, 3, 4, seed=0))
    assert not np.array_equal(a, labelled_indices(labels, 3, 4, seed=1))
    assert len(np.unique(a)) == 12


def test_report_has_the_family_section_in_a_process_without_the_recipes(
    semi_run, baseline_run, tmp_path
):
    """`gankit report` reads the run's ``[semi]`` section without importing the recipes (a
    fresh process: the section is kept as read), and draws the family's section."""
    for run, what in ((semi_run, "feature matching"), (baseline_run, "supervised baseline")):
        out = tmp_path / run.parent.name
        done = subprocess.run(
            [sys.executable, "-m", "gankit", "report", str(run), "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        page = (out / "report.html").read_text()
        assert "Classes (semi-supervised D)" in page and what in page
        assert "Held-out confusion matrix" in page
        final = json.loads((run / "final_metrics.json").read_text())
        unlabelled = f"on the unlabelled training images {final['unlabelled_accuracy']:.4g}"
        assert unlabelled in page


def test_class_rows_put_each_image_in_its_predicted_row_and_tint_the_wrong_ones():
    shown = np.full((3, 1, 2, 2), 200, np.uint8)
    arrays = {
        "shown": shown,
        "shown_predicted": np.array([0, 2, 2]),
        "shown_labels": np.array([0, 2, 1]),
    }
    grid, cols = class_rows(arrays, 3)
    assert cols == 2 and grid.shape == (6, 3, 2, 2)
    assert (grid[0] == 200).all() and (grid[1] == 255).all()  # row 0: one image, one blank
    assert (grid[2:4] == 255).all()  # nothing predicted as 1
    assert (grid[4] == 200).all()  # right: grey
    assert (grid[5, 0] == 200).all() and (grid[5, 1:] == 66).all()  # wrong: red
    with pytest.raises(GankitError, match="outside"):
        class_rows({**arrays, "shown_predicted": np.array([0, 3, 2])}, 3)
