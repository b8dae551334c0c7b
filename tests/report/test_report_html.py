"""`gankit report` and `gankit compare`: the self-contained page, seed groups, errors, TensorBoard,
and a real headless browser rendering the page (``-m browser``; skipped without chromium)."""

from __future__ import annotations

import base64
import io
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from gankit import api, config
from gankit.cli import main
from gankit.report.groups import fmt_spread, group_stats, training_seconds
from gankit.report.run_page import write_report
from headless_chromium import chromium, require_chromium

TINY = [
    "log.eval_every=20",
    "log.eval_samples=500",
    "log.final_samples=1000",
    "train.checkpoint_every=20",
    "train.batch_size=64",
]
MAX_BYTES = 5 * 1024 * 1024


def train_tiny(out: Path, seed: int = 0, extra=()) -> Path:
    cfg = config.resolve(
        overrides=TINY + list(extra), shorthands={"train.steps": 40, "train.seed": seed}
    )
    return api.train(cfg, out, progress=False)


@pytest.fixture(scope="module")
def run1d(tmp_path_factory) -> Path:
    return train_tiny(tmp_path_factory.mktemp("report") / "run")


def run_cli(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def data_uris(text: str) -> list[bytes]:
    return [
        base64.b64decode(m)
        for m in re.findall(r'<img[^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    ]


def assert_offline(text: str) -> None:
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text, re.I)
    assert "http://" not in text and "https://" not in text
    assert "@import" not in text and "url(" not in text
    for tag in re.findall(r"<script[^>]*>", text):
        assert "src" not in tag


# ----------------------------------------------------------------------------- the run page


def test_train_writes_report_and_tensorboard(run1d):
    assert (run1d / "report.html").is_file()
    assert list((run1d / "tb").glob("events.out.tfevents.*"))


def test_report_has_every_section_and_is_self_contained(run1d, capsys):
    rc, out, err = run_cli(capsys, "report", run1d, "--no-tensorboard")
    assert rc == 0, err
    page = run1d / "report.html"
    assert str(page) in out
    text = page.read_text()
    assert page.stat().st_size < MAX_BYTES
    for section in ("diagnosis", "final", "curves", "density", "config"):
        assert f'id="{section}"' in text
    assert "no failure detected" in text or "failure(s) detected" in text  # finish() diagnoses
    assert f"gankit train --config {run1d / 'config.toml'} --out NEW" in text
    assert 'loss = "nonsaturating"' in text.replace("&quot;", '"')
    assert "jsd" in text and "kl_data_model" in text  # final metrics table
    assert 'class="player"' in text and text.count('class="frame') == 2  # snapshots 20 and 40
    assert_offline(text)
    from PIL import Image

    images = data_uris(text)
    assert len(images) >= 4  # curves, frames strip, two animation frames
    for raw in images:
        with Image.open(io.BytesIO(raw)) as im:
            im.verify()


def test_diagnosis_panel_and_shaded_failures(run1d, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(run1d, run)
    (run / "diagnosis.json").unlink(missing_ok=True)
    assert "diagnosis not run" in write_report(run, tensorboard=False).read_text()
    (run / "diagnosis.json").write_text(json.dumps({"failures": []}))
    assert "no failure detected" in write_report(run, tensorboard=False).read_text()
    failure = {
        "name": "mode_collapse",
        "first_step": 20,
        "last_step": 40,
        "evidence": {"std_ratio": 0.01},
        "explanation": "G puts its mass on one point",
        "advice": ["try game.loss=wgan-gp", "try game.pack=2"],
    }
    (run / "diagnosis.json").write_text(json.dumps({"failures": [failure]}))
    text = write_report(run, tensorboard=False).read_text()
    for part in (
        "mode_collapse",
        "steps 20&ndash;40",
        "G puts its mass on one point",
        "<li>try game.loss=wgan-gp</li>",
        "<li>try game.pack=2</li>",
        "std_ratio",
    ):
        assert part in text
    (run / "diagnosis.json").write_text("{not json")
    assert "diagnosis could not be read" in write_report(run, tensorboard=False).read_text()


def test_report_of_a_2d_run(tmp_path):
    run = train_tiny(tmp_path / "ring", extra=["data.name=ring-8", "model.noise_dim=2"])
    text = (run / "report.html").read_text()
    assert "contours of the true density" in text
    assert "modes_covered" in text
    assert_offline(text)


def test_long_run_report_is_small(run1d, tmp_path):
    """A 10,000-step run's files (1,000 log lines, 20 snapshots) give a bounded page: at most
    12 animation frames, under the size limit (what keeps it fast to write and to open; its
    time is a benchmark's business, not a unit test's)."""
    run = tmp_path / "long"
    shutil.copytree(run1d, run, ignore=shutil.ignore_patterns("tb", "snapshots"))
    rng = np.random.default_rng(0)
    lines = []
    for step in range(10, 10_001, 10):
        row = {
            "step": step,
            "d_loss": 1.3 + rng.normal() * 0.05,
            "g_loss": 0.7,
            "d_real": 0.5,
            "d_fake": 0.5,
            "grad_norm_d": 0.5,
            "grad_norm_g": 0.2,
            "lr_d": 1e-3,
            "lr_g": 1e-3,
            "time": step / 1000,
        }
        if step % 500 == 0:
            row.update(jsd=0.01 + 1 / step, w1=0.05, ks=0.02, kl_data_model=0.02)
        lines.append(json.dumps(row))
    (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    (run / "snapshots").mkdir()
    grid = np.linspace(-3.5, 11.5, 400, dtype=np.float32)
    for step in range(500, 10_001, 500):
        np.savez_compressed(
            run / "snapshots" / f"step-{step}.npz",
            samples=rng.normal(4, 1.25, (5000, 1)).astype(np.float32),
            grid=grid,
            d_grid=np.full(400, 0.5, np.float32),
            d_is_probability=np.array(True),
        )
    page = write_report(run, tensorboard=False)
    text = page.read_text()
    assert page.stat().st_size < MAX_BYTES
    assert text.count('class="frame') == 12  # frames are limited
    assert 'data-step="10000"' in text


def test_tensorboard_holds_scalars_and_histograms(run1d):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run1d / "tb"), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    tags = acc.Tags()
    assert {"train/d_loss", "train/g_loss", "eval/jsd"} <= set(tags["scalars"])
    assert [e.step for e in acc.Scalars("eval/jsd")] == [20, 40]
    assert "samples/x0" in tags["histograms"]


# ----------------------------------------------------------------------------- comparison


def test_group_stats_by_hand():
    s = group_stats([1.0, 2.0, 3.0, 4.0])
    std = math.sqrt(5 / 3)  # sum of squares 5 over n - 1 = 3
    half = 3.182446305284263 * std / 2  # t(0.975, 3) * std / sqrt(4)
    assert (s.n, s.mean) == (4, 2.5)
    assert s.std == pytest.approx(std, rel=1e-12)
    assert (s.ci_low, s.ci_high) == (pytest.approx(2.5 - half), pytest.approx(2.5 + half))
    one = group_stats([0.3])
    assert one.n == 1 and one.mean == 0.3 and math.isnan(one.std) and math.isnan(one.ci_low)
    inf = group_stats([1.0, 3.0, math.inf])
    assert (inf.n, inf.n_nonfinite, inf.mean) == (2, 1, 2.0)
    assert inf.ci_high - inf.mean == pytest.approx(12.706204736174698 * math.sqrt(2) / math.sqrt(2))


def _fake_seed(src: Path, dst: Path, seed: int, jsd: float, loss: str | None = None) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("tb"))
    text = (dst / "config.toml").read_text()
    text = re.sub(r"(?m)^seed = \d+$", f"seed = {seed}", text)
    if loss:
        text = re.sub(r'(?m)^loss = ".*"$', f'loss = "{loss}"', text)
    (dst / "config.toml").write_text(text)
    final = json.loads((dst / "final_metrics.json").read_text())
    final["jsd"] = jsd
    (dst / "final_metrics.json").write_text(json.dumps(final))
    return dst


@pytest.fixture
def seeds(run1d, tmp_path):
    a = [_fake_seed(run1d, tmp_path / f"ns{s}", s, v) for s, v in ((0, 0.1), (1, 0.2), (2, 0.6))]
    b = [_fake_seed(run1d, tmp_path / "hinge0", 0, 0.5, loss="hinge")]
    return a, b


def test_compare_json_groups_seeds(seeds, capsys):
    a, b = seeds
    rc, out, err = run_cli(capsys, "compare", *a, *b, "--json")
    assert rc == 0, err
    result = json.loads(out)
    assert len(result["runs"]) == 4
    groups = {g["group"]: g for g in result["groups"]}
    assert set(groups) == {"loss=nonsaturating", "loss=hinge"}
    ns = groups["loss=nonsaturating"]
    assert ns["seeds"] == [0, 1, 2] and ns["differs"] == {"game.loss": "nonsaturating"}
    jsd = ns["metrics"]["jsd"]
    mean, std = 0.3, math.sqrt(((0.2) ** 2 + 0.1**2 + 0.3**2) / 2)
    half = 4.302652729911275 * std / math.sqrt(3)  # t(0.975, 2)
    assert jsd["n"] == 3
    assert jsd["mean"] == pytest.approx(mean) and jsd["std"] == pytest.approx(std)
    assert jsd["ci95"] == [pytest.approx(mean - half), pytest.approx(mean + half)]
    hinge = groups["loss=hinge"]["metrics"]["jsd"]
    assert hinge["n"] == 1 and hinge["mean"] == 0.5 and hinge["std"] is None


def test_compare_text_and_comparison_page(seeds, tmp_path, capsys):
    a, b = seeds
    rc, out, err = run_cli(capsys, "compare", *a, *b)
    assert rc == 0, err
    assert "group loss=nonsaturating: 3 run(s), seeds 0, 1, 2" in out
    assert "95% CI" in out
    rc, out, err = run_cli(capsys, "report", *a, *b, "--out", tmp_path / "cmp")
    assert rc == 0, err
    page = tmp_path / "cmp" / "report.html"
    text = page.read_text()
    assert page.stat().st_size < MAX_BYTES
    assert 'class="sortable"' in text and "<script>" in text
    assert "0.3 &plusmn; 0.2646" in text  # mean +- std of 0.1, 0.2, 0.6
    for name in ("Curves", "Final samples", "Config differences"):
        assert f"<h2>{name}</h2>" in text
    assert_offline(text)
    assert len(data_uris(text)) == 2


def test_training_seconds_leave_out_evaluations_and_snapshots():
    rows = [
        {"step": 10, "time": 4.0, "eval_seconds": 1.5},
        {"step": 20, "time": 9.0, "snapshot_seconds": 0.5},
        {"step": 30, "time": 12.0, "eval_seconds": 2.0},
    ]
    assert training_seconds(rows) == pytest.approx(12.0 - 1.5 - 0.5 - 2.0)
    assert training_seconds([{"step": 1, "loss": 0.3}]) is None


def test_spread_to_two_digits_and_rounding_noise_to_zero():
    assert fmt_spread(0.26457, 0.3) == "0.26" and fmt_spread(1234.5, 9.0) == "1.2e+03"
    assert fmt_spread(6.4e-14, 463.9) == "0"  # five seeds of a deterministic fit


def _relabel(run: Path, preset: str) -> Path:
    text = (run / "config.toml").read_text()
    (run / "config.toml").write_text(re.sub(r'(?m)^preset = ".*"$', f'preset = "{preset}"', text))
    return run


def test_compare_markdown_selects_metrics_and_labels_groups_by_preset(seeds, capsys):
    a, b = seeds
    _relabel(b[0], "gaussian-1d-moments")  # another preset (and loss): its own group
    keys = "jsd,train_seconds"
    rc, out, err = run_cli(capsys, "compare", *a, *b, "--metrics", keys, "--markdown")
    assert rc == 0, err
    lines = out.strip().splitlines()
    assert lines[0] == "| model | seeds | jsd | train_seconds |"
    first, second = lines[2].split(" | "), lines[3].split(" | ")
    preset = config.to_dict(api.load_run(a[0]).config)["preset"]
    assert first[0] == f"| {preset}" and first[1] == "0,1,2"
    assert first[2] == "0.3 ± 0.26"  # mean +- std of 0.1, 0.2, 0.6
    assert second[0] == "| gaussian-1d-moments" and second[2] == "0.5"  # one seed: no std
    rc, out, err = run_cli(capsys, "compare", *a, "--metrics", "jsd,fid_nowhere", "--json")
    assert rc == 2 and "--metrics: no run has fid_nowhere" in err and err.count("\n") == 1


def test_compare_speed_times_each_model(run1d, capsys):
    rc, out, err = run_cli(capsys, "compare", run1d, "--speed", "200", "--threads", "1", "--json")
    assert rc == 0, err
    metrics = json.loads(out)["runs"][0]["metrics"]
    assert metrics["samples_per_second"] > 0 and metrics["train_seconds"] > 0
    assert f"{run1d}: " in err and "samples/s" in err
    rc, _, err = run_cli(capsys, "compare", run1d, "--speed", "0")
    assert rc == 2 and "--speed 0" in err and err.count("\n") == 1
    rc, out, err = run_cli(
        capsys, "compare", run1d, "--speed", "200", "--metrics", "samples_per_second,jsd", "--json"
    )
    assert rc == 0, err
    result = json.loads(out)
    assert result["keys"] == ["samples_per_second", "jsd"]
    assert sorted(result["runs"][0]["metrics"]) == ["jsd", "samples_per_second"]
    rc, _, err = run_cli(capsys, "compare", run1d, "--speed", "200", "--metrics", "jsd,fid_x")
    assert rc == 2 and "--metrics: no run has fid_x" in err
    assert "samples/s" not in err, "a bad key is refused before any model is timed"


# ----------------------------------------------------------------------------- bad input


def test_bad_runs_give_one_line_errors(run1d, tmp_path, capsys):
    missing = tmp_path / "missing"
    rc, _, err = run_cli(capsys, "report", missing)
    assert rc == 2 and f"{missing}: no such run directory" in err and err.count("\n") == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    rc, _, err = run_cli(capsys, "compare", run1d, empty)
    assert rc == 2 and f"{empty}: not a run directory" in err
    rc, _, err = run_cli(capsys, "report", run1d, run1d, "--out", tmp_path / "x")
    assert rc == 2 and "run given twice" in err
    rc, _, err = run_cli(capsys, "report", run1d, empty)
    assert rc == 2 and "needs --out DIR" in err
    broken = tmp_path / "broken"
    shutil.copytree(run1d, broken, ignore=shutil.ignore_patterns("tb"))
    (broken / "final_metrics.json").write_text("{oops")
    rc, _, err = run_cli(capsys, "report", broken)
    assert rc == 2 and "final_metrics.json: not readable JSON" in err
    (broken / "final_metrics.json").unlink()
    # (a name a registry owns, such as game.loss, is checked by the recipes, which a report
    # never imports: a key of the config's own choices stands for a bad config here)
    (broken / "config.toml").write_text('[optim]\nname = "nope"\n')
    rc, _, err = run_cli(capsys, "compare", broken)
    assert rc == 2 and f"{broken / 'config.toml'}: optim.name" in err and err.count("\n") == 1


# ----------------------------------------------------------------------------- a real browser


def chromium_screenshot(page: Path, png: Path, profile: Path, height: int = 3000) -> None:
    chromium(page, profile, f"--screenshot={png}", f"--window-size=1200,{height}")


@pytest.mark.browser
def test_page_renders_in_headless_chromium(run1d, tmp_path):
    require_chromium("render the report in a real headless browser")
    from PIL import Image

    text = (run1d / "report.html").read_text()
    for raw in data_uris(text):
        with Image.open(io.BytesIO(raw)) as im:
            im.load()
            assert im.size[0] > 50 and im.size[1] > 50
    png = tmp_path / "shot.png"
    chromium_screenshot(run1d / "report.html", png, tmp_path / "profile")
    with Image.open(png) as im:
        rgb = im.convert("RGB")
        assert rgb.size == (1200, 3000)
        colours = rgb.getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50  # text and plots, not a blank page


@pytest.mark.browser
def test_inline_scripts_run_in_headless_chromium(run1d, seeds, tmp_path):
    """The animation player steps and plays; the comparison table sorts (probes injected into
    copies of the pages, read back from the DOM after the scripts ran)."""
    require_chromium("run the report's scripts in a real headless browser")
    a, b = seeds
    compare_page = tmp_path / "cmp" / "report.html"
    assert main(["report", *map(str, a + b), "--out", str(compare_page.parent)]) == 0
    probes = {
        run1d / "report.html": """var p=document.querySelector('.player'),
            b=p.querySelector('button'),s=p.querySelector('input');s.value=0;s.oninput();
            var first=p.querySelector('.frame.on').dataset.step;b.click();var label=b.textContent;
            b.click();document.title='first='+first+' btn='+label+' on='+
            p.querySelectorAll('.frame.on').length;""",
        compare_page: """var t=document.querySelectorAll('table.sortable')[1];
            t.querySelectorAll('th')[3].click();document.title='sorted='+Array.from(
            t.tBodies[0].rows).map(function(r){return r.cells[3].textContent;}).join(',');""",
    }
    titles = []
    for i, (page, probe) in enumerate(probes.items()):
        copy = tmp_path / f"probe{i}.html"
        copy.write_text(page.read_text().replace("</body>", f"<script>{probe}</script></body>"))
        dom = chromium(copy, tmp_path / "profile", "--dump-dom")
        titles.append(re.search(r"<title>([^<]*)</title>", dom).group(1))
    assert titles[0] == "first=20 btn=pause on=1"
    assert titles[1] == "sorted=0.1,0.2,0.5,0.6"
