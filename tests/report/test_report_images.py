"""The report of image runs (`docs/image-runs.md`): the run page's sections, the curves table
(FID with its floor), escaping, graceful degradation, the comparison page beside a toy run,
TensorBoard images and ``curves.png``. The image runs are fabricated by hand (no training)."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from image_run_files import GRID_EVERY, STEPS, make_image_run

from gankit import api, config
from gankit.errors import GankitError
from gankit.report import compare_page, image_sections, run_page
from gankit.report.compare_page import write_comparison
from gankit.report.figures import (
    CURVE_PANELS,
    curve_panels,
    key_panels,
    logged_keys,
    split_spaced,
)
from gankit.report.groups import comparison
from gankit.report.htmlkit import PLAYER_JS
from gankit.report.image_sections import MAX_FRAMES
from gankit.report.imagegrid import png_uri, tile
from gankit.report.plots import write_run_plots
from gankit.report.readers import read_run
from gankit.report.run_page import write_report
from gankit.report.tensorboard import write_tensorboard

SECTIONS = ("diagnosis", "final", "curves", "samples", "classes", "nearest", "real", "config")
N_GRIDS = STEPS // GRID_EVERY


@pytest.fixture(scope="module")
def image_run(tmp_path_factory) -> Path:
    return make_image_run(tmp_path_factory.mktemp("images") / "digits-run")


@pytest.fixture(scope="module")
def image_page(image_run) -> str:
    return write_report(image_run, tensorboard=False).read_text()


@pytest.fixture
def no_curves(monkeypatch):
    """Pages without their curves figures (a second each), for the tests of everything else."""
    monkeypatch.setattr(run_page, "curves_figure", lambda rows, failures: None)
    monkeypatch.setattr(compare_page, "_curves_figure", lambda groups: None)


@pytest.fixture
def copy_run(image_run, tmp_path):
    def copy(name: str = "copy") -> Path:
        return Path(shutil.copytree(image_run, tmp_path / name))

    return copy


def assert_self_contained(text: str) -> None:
    assert "http://" not in text and "https://" not in text
    assert "url(" not in text and "@import" not in text
    for src in re.findall(r"""\bsrc\s*=\s*["']?([^"'\s>]*)""", text):
        assert src.startswith("data:image/png;base64,"), src[:40]
    for tag in re.findall(r"<script[^>]*>", text):
        assert tag == "<script>"


def section(text: str, key: str) -> str:
    return re.search(rf'<section id="{key}">(.*?)</section>', text, re.S).group(1)


# ----------------------------------------------------------------------------- the run page


def test_image_run_is_read_as_images(image_run):
    run = read_run(image_run)
    assert run.kind == "images" and run.data is None
    assert [s for s, _ in run.grids] == list(range(GRID_EVERY, STEPS + 1, GRID_EVERY))
    assert len(run.snapshots) == N_GRIDS


def test_image_page_has_every_section_in_order(image_page):
    text = image_page
    starts = [text.index(f'<section id="{key}">') for key in SECTIONS]
    assert starts == sorted(starts)
    assert "density" not in re.findall(r'<section id="(\w+)"', text)
    header = re.search(r'<p class="sub">(.*?)</p>', text).group(1)
    for part in ("data digits", "loss nonsaturating", f"{STEPS} steps", "seed 0"):
        assert part in header
    assert "digits, by hand" in header and "feature space digits" in header
    assert "no failure detected" in section(text, "diagnosis")
    final = section(text, "final")
    assert "fid_digits" in final and "nn_ratio_digits" in final
    assert "[" in final and "class_histogram" in final  # the list, as a list
    assert "training curves" in section(text, "curves")
    assert 'loss = "nonsaturating"' in section(text, "config").replace("&quot;", '"')
    assert_self_contained(text)


def test_samples_over_time_animation_and_strip(image_page):
    samples = section(image_page, "samples")
    assert f"{N_GRIDS} grid(s) from samples/step-N.png" in samples
    assert 'class="player pix"' in samples
    frames = re.findall(r'class="frame(?: on)?" data-step="(\d+)"', samples)
    assert len(frames) == min(N_GRIDS, MAX_FRAMES) == 12  # capped, evenly spread
    assert frames[0] == str(GRID_EVERY) and frames[-1] == str(STEPS)
    assert samples.count('class="frame on"') == 1
    strip = re.search(r'<div class="strip">(.*?)</div>', samples).group(1)
    assert 2 <= strip.count("<figure>") <= 6 and f"step {STEPS}" in strip
    assert PLAYER_JS in image_page


def test_class_histogram_nearest_pairs_and_real(image_page, image_run):
    final = json.loads((image_run / "final_metrics.json").read_text())
    classes = section(image_page, "classes")
    assert 'alt="class histogram of generated images"' in classes
    assert "uniform share" in classes
    assert f"{sum(final['class_histogram'])} generated images (final evaluation, step 100)" in (
        classes
    )
    assert f"classes covered: {final['classes_covered']} of 10" in classes
    nearest = section(image_page, "nearest")
    assert "nn_ratio_S" in nearest and "nn_ratio_digits = 0.9" in nearest
    assert "memorisation" in nearest
    distances = [float(d) for d in re.findall(r"<figcaption>d = ([0-9.]+)</figcaption>", nearest)]
    assert len(distances) == 16 and distances == sorted(distances)  # closest first
    with np.load(image_run / "nearest.npz") as npz:
        assert distances[0] == pytest.approx(npz["distances"].min(), rel=1e-3)
    real = section(image_page, "real")
    assert "held-out real images (64)" in real and f"generated, step {STEPS}" in real


def test_curve_table_builds_image_panels_with_the_fid_floor(image_run):
    assert split_spaced("fid_floor_digits") == ("fid_floor", "digits")
    assert split_spaced("kid_std_fashion_mnist") == ("kid_std", "fashion_mnist")
    assert split_spaced("is_digits") == ("is", "digits")
    assert split_spaced("d_loss") is None and split_spaced("fid") is None
    rows = read_run(image_run).rows
    panels = {panel.title: drawn for panel, drawn in curve_panels(rows)}
    fid = next(d for title, d in panels.items() if title.startswith("FID"))
    assert [(c.key, key, c.reference) for c, key, *_ in fid] == [
        ("fid", "fid_digits", False),
        ("fid_floor", "fid_floor_digits", True),
    ]
    assert [steps for *_, steps, _ in fid] == [[50, 100], [50, 100]]
    keys = {key for drawn in panels.values() for _, key, *_ in drawn}
    assert {"d_loss", "kid_digits", "precision_digits", "recall_digits", "density_digits"} <= keys
    assert {"coverage_digits", "is_digits", "class_ratio_min", "class_ratio_max"} <= keys
    assert "class_histogram" not in keys and "kid_std_digits" not in keys  # a band, not a curve
    assert not any(t.startswith(("divergences", "modes")) for t in panels)
    # the comparison page's per-key panels derive from the same table
    per_key = {key: (refs, log) for key, refs, log in key_panels(logged_keys(rows))}
    assert per_key["fid_digits"] == (["fid_floor_digits"], True)
    assert "fid_floor_digits" not in per_key
    assert per_key["d_loss"] == ([], False)
    # a reference alone draws no panel
    alone = [{"step": 10, "fid_floor_digits": 2.0}]
    assert curve_panels(alone) == []
    toy_keys = {k for p in CURVE_PANELS for c in p.curves if not c.spaced for k in [c.key]}
    assert {"jsd", "w1", "modes_covered", "d_loss"} <= toy_keys
    # an unconditional run logs no class agreement, so draws no panel of it; a conditional one
    assert not any(t.startswith("class agreement") for t in panels)
    agreed = [{"step": 10, "class_agreement": 0.9}, {"step": 20, "class_agreement": 0.97}]
    [(panel, drawn)] = curve_panels(agreed)
    assert panel.title.startswith("class agreement") and panel.level == 1.0
    assert [(key, steps, values) for _, key, _, steps, values in drawn] == [
        ("class_agreement", [10, 20], [0.9, 0.97])
    ]


def test_hostile_names_are_escaped(tmp_path, no_curves):
    hostile = '</p><script>alert("desc")</script>'
    failure = {
        "name": "<script>alert('name')</script>",
        "first_step": 50,
        "last_step": 100,
        "explanation": "<script>alert('why')</script>",
        "advice": ["<script>alert('try')</script>"],
        "evidence": {"<script>": "x"},
    }
    run = make_image_run(
        tmp_path / "<script>alert('dir')<", description=hostile, diagnosis={"failures": [failure]}
    )
    text = write_report(run, tensorboard=False).read_text()
    assert text.count("<script") == 1  # the player's own
    assert "<script>alert" not in text and "</script><" not in text.split("<script>")[0]
    assert "&lt;script&gt;alert(&quot;desc&quot;)" in text
    assert "&lt;script&gt;alert(&#x27;dir&#x27;)&lt;" in text
    cmp_text = write_comparison([run], tmp_path / "cmp").read_text()
    assert cmp_text.count("<script") == 1  # the sorter's own
    assert "&lt;script&gt;alert(&#x27;dir&#x27;)&lt;" in cmp_text


# ----------------------------------------------------------------------------- degrading


def test_missing_files_give_notes(copy_run, no_curves):
    run = copy_run("bare")
    (run / "nearest.npz").unlink()
    shutil.rmtree(run / "snapshots")
    shutil.rmtree(run / "samples")
    final = json.loads((run / "final_metrics.json").read_text())
    del final["class_histogram"]
    (run / "final_metrics.json").write_text(json.dumps(final))
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for row in rows:
        row.pop("class_histogram", None)
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    text = write_report(run, tensorboard=False).read_text()
    for key in SECTIONS:
        assert f'<section id="{key}">' in text
    assert '<p class="na">no sample grids' in section(text, "samples")
    assert '<p class="na">no class histogram' in section(text, "classes")
    assert '<p class="na">no nearest.npz' in section(text, "nearest")
    assert "nn_ratio_digits = 0.9" in section(text, "nearest")  # the final metrics are there
    real = section(text, "real")
    assert '<p class="na">no nearest.npz' in real and "no readable sample grid" in real
    assert 'class="frame' not in text
    assert_self_contained(text)


def test_a_run_killed_early(copy_run):
    """No final metrics, no diagnosis, no nearest.npz, no metrics line: every section a note."""
    run = copy_run("killed")
    for name in ("final_metrics.json", "diagnosis.json", "nearest.npz"):
        (run / name).unlink()
    (run / "metrics.jsonl").write_text("")
    shutil.rmtree(run / "samples")
    text = write_report(run, tensorboard=False).read_text()
    assert "no final_metrics.json" in section(text, "final")
    assert "diagnosis not run" in section(text, "diagnosis")
    assert "holds no logged step" in section(text, "curves")
    assert "feature space auto (no evaluation yet)" in text
    # the snapshots stand in for the missing grids
    samples = section(text, "samples")
    assert "the snapshots&#x27; images" in samples
    assert len(re.findall(r'class="frame', samples)) == 12
    assert "nn_ratio" in section(text, "nearest") and "no nearest.npz" in text


def test_unreadable_files_give_notes(copy_run, no_curves):
    run = copy_run("broken")
    (run / "nearest.npz").write_bytes(b"not a zip")
    (run / "samples" / f"step-{STEPS}.png").write_bytes(b"not a png")
    final = json.loads((run / "final_metrics.json").read_text())
    final["class_histogram"] = ["a", None]
    (run / "final_metrics.json").write_text(json.dumps(final))
    text = write_report(run, tensorboard=False).read_text()
    assert "not a readable nearest-neighbour file" in section(text, "nearest")
    samples = section(text, "samples")
    assert "not a readable PNG image" in samples and 'class="frame on"' in samples
    # the histogram falls back to the last evaluation in metrics.jsonl
    assert "(last evaluation, step 100 (not finished))" in section(text, "classes")
    assert f"generated, step {STEPS - GRID_EVERY}" in section(text, "real")


# ----------------------------------------------------------------------------- comparison


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory) -> Path:
    cfg = config.resolve(
        preset="gaussian-1d",
        overrides=[
            "train.steps=20",
            "log.every=5",
            "log.eval_every=10",
            "log.eval_samples=200",
            "log.final_samples=500",
            "train.checkpoint_every=10",
        ],
    )
    return api.train(cfg, tmp_path_factory.mktemp("toy") / "toy", progress=False)


def test_comparison_of_image_and_toy_runs(image_run, toy_run, tmp_path):
    second = make_image_run(tmp_path / "digits-seed1", seed=1)
    page = write_comparison([image_run, second, toy_run], tmp_path / "cmp")
    text = page.read_text()
    assert_self_contained(text)
    final = text[text.index("<h2>Final samples</h2>") :]
    captions = re.findall(r"<figcaption>([^<]*)</figcaption>", final)
    assert captions == [f"digits-run, step {STEPS}", f"digits-seed1, step {STEPS}"]
    assert 'alt="final samples of each run"' in final  # the toy run's density plot
    assert 'alt="curves overlaid"' in text
    assert "fid_digits" in text and "jsd" in text
    groups = {g["group"]: g for g in comparison([image_run, second, toy_run])["groups"]}
    digits = next(g for g in groups.values() if len(g["runs"]) == 2)
    assert digits["seeds"] == [0, 1]
    assert digits["metrics"]["fid_digits"]["n"] == 2
    assert "class_histogram" not in digits["metrics"] and "n_classes" not in digits["metrics"]


# ----------------------------------------------------------------------------- files beside


def test_tensorboard_holds_image_grids(copy_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = copy_run("tb")
    tb = write_tensorboard(run)
    acc = EventAccumulator(str(tb), size_guidance={"images": 0, "scalars": 0, "histograms": 0})
    acc.Reload()
    tags = acc.Tags()
    assert tags["images"] == ["samples/grid"]
    assert [e.step for e in acc.Images("samples/grid")] == list(
        range(GRID_EVERY, STEPS + 1, GRID_EVERY)
    )
    assert tags["histograms"] == []
    assert {"train/d_loss", "eval/fid_digits", "eval/class_ratio_min"} <= set(tags["scalars"])
    assert not any("class_histogram" in t for t in tags["scalars"])
    # without snapshots, the run's own grid files
    shutil.rmtree(run / "snapshots")
    acc = EventAccumulator(str(write_tensorboard(run)), size_guidance={"images": 0})
    acc.Reload()
    assert len(acc.Images("samples/grid")) == N_GRIDS


def test_curves_png_of_an_image_run(copy_run):
    from PIL import Image

    run = copy_run("plots")
    assert write_run_plots(run) == [run / "curves.png"]
    with Image.open(run / "curves.png") as im:
        assert im.size[0] > 500 and im.size[1] > 1000  # 11 panels: 6 rows


def test_large_grids_get_fewer_frames(image_run, monkeypatch):
    run = read_run(image_run)
    monkeypatch.setattr(image_sections, "FRAME_BYTES", 1)
    html = image_sections.samples_html(run)
    assert re.findall(r'data-step="(\d+)"', html) == [str(GRID_EVERY), str(STEPS)]


@pytest.mark.parametrize(
    "images",
    [
        np.zeros((5, 1, 4, 6), np.uint8),
        np.full((5, 3, 4, 6), 0.5, np.float32),
    ],
)
def test_tile_and_png_uri(images):
    from PIL import Image

    grid = tile(images, cols=3, pad=1)
    channels = 1 if images.shape[1] == 1 else 3
    assert grid.shape == (2 * 4 + 1, 3 * 6 + 2, channels) and grid.dtype == np.uint8
    raw = base64.b64decode(png_uri(grid).split(",", 1)[1])
    with Image.open(io.BytesIO(raw)) as im:
        assert im.size == (20, 9)
    with pytest.raises(GankitError, match="4-D"):
        tile(np.zeros((4, 4)))
    with pytest.raises(GankitError, match="1 or 3 channels"):
        tile(np.zeros((5, 4, 4, 6), np.uint8))  # RGBA is not an image gankit writes
