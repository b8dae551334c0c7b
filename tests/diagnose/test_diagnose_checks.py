"""Issue 12: the diagnosis never claims a health it cannot know. Every detector reports "ok",
"failed" or "not checked: <reason>" in ``diagnosis.json``'s ``checks``, the summary names what
could not be checked, and the advice never sends a run to the preset it already runs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from gankit import api, runs
from gankit import config as config_mod
from gankit.diagnose import CHECKS, DIAGNOSIS, Verdict, diagnose, summary, write_diagnosis
from gankit.diagnose.advice import best_preset, mode_collapse, non_convergence, own_fix
from gankit.diagnose.detectors import MC_MIN_HIGH_QUALITY

STEPS = 2000
NAMES = ["diverged", "vanishing_gradients", "mode_collapse", "non_convergence"]
NAMES += ["discriminator_overfit"]


def cfg(loss="nonsaturating", data="ring-8", steps=STEPS, **sets):
    table = {"data": {"name": data}, "game": {"loss": loss}, "train": {"steps": steps}}
    for key, value in sets.items():
        section, name = key.split(".")
        table.setdefault(section, {})[name] = value
    return config_mod.from_dict(table)


def rows_of(steps=STEPS, every=10, evals=500, seed=0, hq=0.9, train_set=False):
    """Noisy read-outs near the equilibrium, every mode covered at each evaluation."""
    rng = np.random.default_rng(seed)
    rows = []
    for step in range(every, steps + 1, every):
        row = {
            "step": step,
            "d_real": 0.5 + 0.05 * rng.standard_normal(),
            "d_fake": 0.5 + 0.05 * rng.standard_normal(),
            "d_loss": 1.386 + 0.05 * rng.standard_normal(),
            "g_loss": 0.69 + 0.05 * rng.standard_normal(),
            "grad_norm_d": 1.0 + 0.2 * rng.random(),
            "grad_norm_g": 1.0 + 0.2 * rng.random(),
        }
        if step % evals == 0 or step == steps:
            row.update(w1=0.05, modes_covered=8.0, n_modes=8.0, high_quality=hq, reverse_kl=0.01)
            if train_set:
                row.update(d_train=0.5, d_heldout=0.5, d_gen=0.49)
        rows.append(row)
    return rows


def test_verdict_status():
    assert Verdict().status == "ok"
    assert Verdict(failure={"name": "x"}).status == "failed"
    assert Verdict(reason="too short").status == "not checked: too short"


def test_checks_name_every_detector_and_a_fully_checked_run_says_so():
    result = diagnose(rows_of(train_set=True), cfg("minimax", **{"data.train_size": 64}))
    assert list(result["checks"]) == list(CHECKS) == NAMES
    assert set(result["checks"].values()) == {"ok"}
    assert summary(result) == (
        "diagnosis: no failure detected (checked: divergence, vanishing gradients, mode "
        "collapse, non-convergence, discriminator overfit)."
    )


def test_a_run_too_short_to_judge_is_not_called_healthy():
    """ring-8 for 300 steps (the case of issue 12): 4 % of the samples near a mode, every mode
    'covered' by stray samples, 15 training rows in the second half."""
    rows = rows_of(steps=300, evals=500, hq=0.04)
    result = diagnose(rows, cfg(steps=300))
    checks = result["checks"]
    assert result["failures"] == [] and checks["diverged"] == "ok"
    assert checks["mode_collapse"].startswith("not checked: the generator has not reached the data")
    assert "4.0% of its samples lie near a mode at step 300" in checks["mode_collapse"]
    assert 0.04 < MC_MIN_HIGH_QUALITY
    assert checks["non_convergence"] == (
        "not checked: 15 training rows logged in the second half of training, 20 needed to tell "
        "swings from minibatch noise"
    )
    assert checks["vanishing_gradients"].startswith("not checked: read only for the saturating")
    assert checks["discriminator_overfit"] == (
        "not checked: no finite training set to memorise, data.train_size = 0"
    )
    text = summary(result)
    assert text.startswith("diagnosis: no failure detected (checked: divergence; could not check: ")
    for label in ("vanishing gradients (", "mode collapse (", "non-convergence (", "overfit ("):
        assert label in text
    assert "\n" not in text


def test_no_evaluation_in_the_second_half():
    rows = [r for r in rows_of(evals=500) if "w1" not in r or r["step"] <= 1000]
    rows[-1] = {k: v for k, v in rows[-1].items() if k not in ("w1", "modes_covered")}
    checks = diagnose(rows, cfg())["checks"]
    assert checks["mode_collapse"] == (
        "not checked: no evaluation in the second half of training, after step 1000: "
        "lower log.eval_every"
    )
    assert checks["non_convergence"] == "ok"  # the training rows suffice


def test_no_evaluation_at_all_and_no_modes():
    rows = [
        {k: v for k, v in r.items() if k not in ("w1", "modes_covered", "n_modes")}
        for r in rows_of()
    ]
    assert diagnose(rows, cfg())["checks"]["mode_collapse"] == (
        "not checked: no evaluation was logged"
    )
    spiral = rows_of()
    for r in spiral:
        for k in ("modes_covered", "n_modes", "high_quality", "reverse_kl"):
            r.pop(k, None)
    assert diagnose(spiral, cfg(data="spiral"))["checks"]["mode_collapse"] == (
        "not checked: no modes known for spiral and no 1-D spread to compare"
    )


def test_empty_rows_check_nothing():
    result = diagnose([], cfg())
    assert result["failures"] == [] and result["steps"] == 0
    assert all(s.startswith("not checked: ") for s in result["checks"].values())
    assert summary(result).startswith("diagnosis: no failure detected (checked: nothing; could not")


def test_a_diverged_run_checks_nothing_else():
    rows = rows_of()[:60]
    rows.append({"step": 610, "d_loss": math.nan, "g_loss": math.nan, "event": "diverged"})
    result = diagnose(rows, cfg())
    assert result["checks"]["diverged"] == "failed"
    for name in NAMES[1:]:
        assert result["checks"][name] == (
            "not checked: the run diverged: what follows a blow-up cannot be read"
        )
    text = summary(result)
    assert text.startswith("diagnosis: diverged (steps 610-610)")
    assert "Could not check: vanishing gradients (the run diverged" in text


def test_a_failure_summary_also_names_what_could_not_be_checked():
    rows = rows_of()
    for r in rows:
        if "modes_covered" in r:
            r["modes_covered"] = 3.0
    result = diagnose(rows, cfg())
    text = summary(result)
    assert text.startswith("diagnosis: mode collapse (steps 1500-2000)")
    assert "Could not check: vanishing gradients (" in text


def test_the_1d_spread_needs_a_generator_on_the_data():
    rows = rows_of()
    for r in rows:
        for k in ("modes_covered", "n_modes", "high_quality", "reverse_kl"):
            r.pop(k, None)
        if "w1" in r:
            r.update(ks=0.99, std=0.05, mean=0.5)  # G stuck at 0.5, the data at 4
    status = diagnose(rows, cfg(data="gaussian"))["checks"]["mode_collapse"]
    assert status.startswith("not checked: the generator has not reached the data yet")
    for r in rows:
        if "w1" in r:
            r["ks"] = 0.5  # narrow, on the data: a collapse
    assert diagnose(rows, cfg(data="gaussian"))["checks"]["mode_collapse"] == "failed"
    for r in rows:
        r.pop("ks", None)  # the point mass logs w1, mean and std only
    point = diagnose(rows, cfg(data="dirac"))["checks"]["mode_collapse"]
    assert point == "not checked: the data is a single point: there is no spread or mode to lose"


def _clean_cycle(evals_every):
    """The Dirac-GAN's orbit: D's read-out cycles without noise at a small amplitude."""
    rows = []
    for step in range(5, STEPS + 1, 5):
        a = 2 * math.pi * step / 125
        row = {
            "step": step,
            "d_real": 0.5,
            "d_fake": 0.5 - 0.05 * math.sin(a),
            "d_loss": 1.386 + 0.05 * math.sin(a),
            "g_loss": 0.69,
            "grad_norm_d": 1.0,
            "grad_norm_g": 1.0,
        }
        if step % evals_every == 0:
            row["w1"] = abs(1.4 * math.cos(a))
        rows.append(row)
    return rows


def test_a_clean_small_cycle_needs_evaluations_to_be_judged():
    config = cfg("minimax", data="dirac")
    assert diagnose(_clean_cycle(50), config)["checks"]["non_convergence"] == "failed"
    status = diagnose(_clean_cycle(1000), config)["checks"]["non_convergence"]
    assert status.startswith("not checked: D's read-out cycles cleanly with a small amplitude")
    assert "1 evaluations of the divergence in the second half" in status


def test_legacy_diagnosis_without_checks_still_summarises():
    assert summary({"failures": []}) == (
        "diagnosis: no failure detected (vanishing gradients, mode collapse, non-convergence, "
        "divergence)."
    )


# ----------------------------------------------------------------------------- advice


def test_advice_never_recommends_the_preset_being_run():
    best = config_mod.resolve("ring-8-best")
    assert best_preset(best) is None and own_fix(best) is None
    assert not any("--preset" in a for a in mode_collapse(best, 8) + non_convergence(best))
    assert best_preset(config_mod.resolve("grid-25-best")) is None
    assert best_preset(config_mod.resolve("ring-8")) == "ring-8-best"
    assert best_preset(config_mod.resolve("oscillation")) == "oscillation-fixed"
    assert best_preset(config_mod.resolve("oscillation-fixed")) == "ring-8-best"
    assert best_preset(config_mod.resolve("dirac-gan-r1")) is None
    rows = rows_of()
    for r in rows:
        if "modes_covered" in r:
            r["modes_covered"] = 5.0
    f = diagnose(rows, best)["failures"][0]
    assert f["name"] == "mode_collapse"
    assert not any("ring-8-best" in a for a in f["advice"])


# ----------------------------------------------------------------------------- end to end


def test_short_ring8_run_is_reported_honestly(tmp_path):
    """``gankit train --preset ring-8 --steps 300`` (issue 12): reported 'no failure detected'
    before; now mode collapse and non-convergence could not be checked, and the summary says so."""
    config = config_mod.resolve(
        "ring-8", overrides=["train.steps=300", "train.threads=1", "log.final_samples=5000"]
    )
    out = api.train(config, tmp_path / "r8", progress=False)
    stored = json.loads((out / DIAGNOSIS).read_text())
    assert stored["failures"] == []
    assert list(stored["checks"]) == NAMES
    assert stored["checks"]["mode_collapse"].startswith(
        "not checked: the generator has not reached the data yet"
    )
    assert stored["checks"]["non_convergence"].startswith("not checked: 15 training rows")
    assert "could not check: " in stored["summary"]
    assert stored["summary"] == summary(stored)
    assert stored["summary"] in api.summary_lines(out)
    # rewriting reads the same files to the same result
    assert write_diagnosis(out)["checks"] == stored["checks"]
    assert runs.read_metrics(out)[-1]["step"] == 300


@pytest.mark.parametrize(
    "family, says",
    [
        ("vae", "not checked: model.family = vae has no discriminator"),
        ("pix2pix", "not checked: the adversarial checks are calibrated on the plain GAN's logs"),
        ("semi-supervised", "calibrated on the plain GAN's logs"),
    ],
)
def test_the_adversarial_checks_say_why_they_skip_a_family(family, says):
    rows = [{"step": s, "d_loss": 1.0, "g_loss": 1.0} for s in range(0, 1000, 50)]
    checks = diagnose(rows, {"model": {"family": family}})["checks"]
    for name in ("vanishing_gradients", "non_convergence", "discriminator_overfit"):
        assert says in checks[name], checks[name]
        assert checks[name].count("not checked") == 1, checks[name]
