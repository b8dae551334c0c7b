"""Diagnose a run from its ``metrics.jsonl``: which classic GAN failure happened, when, why, and
which preset or ``--set`` remedies it -- and what could not be judged, and why.

:func:`diagnose` reads the logged rows (a list of dicts, as :func:`gankit.runs.read_metrics`
returns them) and the run's config, and returns ``{"failures": [...], "checks": {...}, "steps"}``;
each failure has a stable ``name``, the ``first_step`` and ``last_step`` where the evidence lies,
the ``evidence`` (numbers), an ``explanation`` and ``advice`` (remedies, each naming the preset
or ``--set`` that applies it). ``checks`` holds every detector's verdict, by name, in the order
below: ``"failed"``, ``"ok"`` (it judged the run and found nothing) or ``"not checked: <reason>"``
(a run too short or evaluated too rarely, a generator that has not reached the data yet, a
statistic that was not logged, a failure this run cannot have...): the diagnosis never claims a
health it cannot know. Each detector is a ``check_*`` function returning a
`gankit.diagnose.common.Verdict`; ``detect_*`` returns only its failure (or None).

Detectors (stable names):

* ``diverged``: a non-finite loss/gradient/D read-out, or a row with ``event = "diverged"``.
  After a divergence no other detector is run (``not checked: the run diverged ...``).
* ``vanishing_gradients``: the saturating ``minimax`` loss, D(G(z)) -> ~0 and G's gradient norm
  collapsed to a small fraction of its early value (Goodfellow et al. 2014, section 3). Other
  losses are not read (not checked); at least ``VG_MIN_ROWS`` training rows.
* ``mode_collapse``: toys -- where the modes are known, ``modes_covered < n_modes`` or the mass on
  fewer than 80 % of the modes (``n_modes * exp(-reverse_kl)``) at most evaluations of the second
  half of the run, the last one included; in 1-D without modes, samples' ``std`` far below the
  data's. Not checked without an evaluation in the second half, or while the generator has not
  reached the data at the last one (no sample near any mode, ``high_quality`` below
  ``MC_MIN_HQ_EVIDENCE``, or below ``MC_MIN_HIGH_QUALITY`` without a collapse to show; 1-D:
  ``ks >= KS_DISJOINT``), without modes and a 1-D spread (``spiral``), or on a point mass
  (``dirac``).
  Images (`gankit.diagnose.images`) -- at most evaluations of the second half, the last one
  included: the rarest class below a quarter of its uniform share, or ``recall_S``/``coverage_S``
  below a quarter of their best earlier value; not checked while ``precision_S`` < 0.05.
* ``non_convergence``: toys -- in the second half, D's read-out (``d_real - d_fake`` for sigmoid
  losses, ``d_loss`` otherwise) swings back and forth with a large amplitude, well above
  minibatch noise, and does not settle (the last quarter swings as much as the third); read over
  5 logged rows against the residual's std, and again over 3 rows against its robust scale for
  faster swings that come in bursts (``OSC_FAST_*``: the ``oscillation`` preset's seed 3). A
  cycle of small amplitude counts too where it is free of noise (signal to noise >= 2.5) and the
  evaluated divergence (w1/jsd/ks, at least 6 evaluations in the second half) swings with it
  instead of decreasing: its minimum below half its maximum, crossing the middle of its range,
  and its later half's maximum at least half the earlier half's (the Dirac-GAN's orbit, preset
  ``dirac-gan``; with fewer evaluations: not checked). Not checked with fewer than 20 training
  rows in the second half. Images -- the FID ``fid_S`` of the second half swings the same way
  (at least 6 evaluations, else not checked); DCGAN's noisy read-outs are not used.
* ``discriminator_overfit``: only with a finite training set (toys: ``data.train_size``; images:
  always), whose evaluations log D's mean read-out on training points/images, fresh points of the
  density or held-out images, and generated ones: Karras et al.'s (2020)
  ``r_v = (d_train - d_heldout) / (d_train - d_gen)`` is >= 0.6 with ``d_train - d_heldout``
  above noise at most evaluations of the second half, the last one included (D scores unseen
  real data like fakes: it has memorised its training set). Not checked without those read-outs
  or without an evaluation in the second half.

An image run is one whose ``data.name`` is not a toy (`gankit.data.toy.toy_names`); the keys it
logs are specified in ``docs/image-runs.md``. A detector is conservative: a healthy run (the
remedied presets) must come out clean, and judged where its checks apply.
:func:`gankit.diagnose.writer.write_diagnosis` writes ``RUN/diagnosis.json`` atomically;
:func:`gankit.diagnose.writer.summary` is one paragraph. The advice: `gankit.diagnose.advice`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gankit.data.sources import build_toy
from gankit.diagnose import advice, images
from gankit.diagnose.common import (
    ADVERSARIAL_CHECKS,
    OK,
    PROBABILITY_LOSSES,
    TRAIN_KEYS,
    Verdict,
    adversarial,
    cfg_value,
    collapse_cause,
    failed,
    failure,
    finite,
    is_image_run,
    not_adversarial_reason,
    num,
    second_half,
    total_steps,
    train_rows,
    unchecked,
)
from gankit.diagnose.signals import OSC_METRIC_EVALS, amplitude, crossings, metric_cycles, smooth
from gankit.errors import GankitError

# thresholds (documented in the evidence of each failure)
VG_D_FAKE = 0.05  # D(G(z)) below this: D rejects every fake
VG_GRAD_RATIO = 0.1  # G's gradient norm below this fraction of its early value
VG_MIN_FRACTION = 0.2  # ... on at least this fraction of the logged steps
VG_MIN_ROWS = 10  # fewer logged training rows: too few to compare G's gradient with its start
EFFECTIVE_MODES = 0.8  # mass on fewer than this fraction of the modes (reverse_kl > 0.22)
# high_quality (share of samples within 3 stds of a mode) at the last evaluation below
# MC_MIN_HIGH_QUALITY: the generator has not reached the data yet, and that its few samples near
# modes touch every mode says nothing: the run is not judged ok. Measured (seeds 0-4): `ring-8`
# after 300 steps 0.034 (every mode "covered" by stray samples), the remedied presets 0.94-0.99.
# A collapse is still reported down to MC_MIN_HQ_EVIDENCE (25 of the 2,500 samples the PacGAN
# metrics read): the vanilla `ring-8` and `grid-25` end collapsed at 0.039-0.153 (a broad blob
# with a few modes on it), the swinging `oscillation` at 0-0.004, which shows nothing.
MC_MIN_HIGH_QUALITY = 0.05
MC_MIN_HQ_EVIDENCE = 0.01
STD_RATIO = 0.25  # 1-D: samples' std below this fraction of the data's
# 1-D: KS at the last evaluation at or above this: samples and data barely overlap (G has not
# reached the data), so their spread cannot be compared. A G of a quarter of the data's std has
# KS ~0.3 centred on the data, ~0.7 a data std off it; 0.95 takes it over ~2 stds away. Measured:
# `vanishing-gradients` (G stuck near 0, the data at 12): KS = 1.0 on seeds 0-4 (its narrow
# spread was reported as mode collapse before); the remedied 1-D presets end at <= 0.33
KS_DISJOINT = 0.95
OSC_WINDOW = 5  # moving average (logged rows) that separates swings from minibatch noise
OSC_MIN_CROSSINGS = 4  # hysteresis crossings of the median in the second half
OSC_SIGNAL_TO_NOISE = 1.2  # std of the smoothed series over std of the residual noise
OSC_MIN_AMPLITUDE = 0.3  # sigmoid losses: 5-95 % range of the smoothed d_real - d_fake
OSC_SETTLED = 0.35  # last quarter's amplitude below this fraction of the third's: settling
# Swings faster than OSC_WINDOW (a period of 3-6 logged rows, often in bursts) are averaged away
# there and their residual counted as noise: they are read a second time over 3 rows, against
# the residual's robust scale (1.4826 x its median absolute deviation, which a burst of swings in
# fewer than half the rows does not inflate), with the same crossings, amplitude and settling
# tests. White noise scores 0.71 on that scale. Measured, seeds 0-4: `oscillation` 5.7-10.3 (its
# seed 3, 0.63 at OSC_WINDOW and 2 crossings, swings through zero every 2-3 rows between steps
# 1450 and 1800: 10.3, 6 crossings); at equilibrium `ring-8-best` 0.81-1.11, `grid-25-best`
# 0.81-1.13, `oscillation-fixed` 0.87-1.08, `gaussian-1d` 0.98-1.68, `gaussian-1d-small-data-r1`
# 0.97-1.23; runs that drift to their equilibrium score high but cross their median 0-1 times
# (`vanishing-gradients-fixed` 2.4-10.2).
OSC_FAST_WINDOW = 3
OSC_FAST_SNR = 3.0
# a small but clean cycle (no minibatch noise, e.g. the Dirac-GAN) counts where the evaluated
# divergence keeps swinging instead of decreasing (`gankit.diagnose.signals.metric_cycles`:
# at least OSC_METRIC_EVALS evaluations of w1/jsd/ks in the second half):
OSC_CLEAN_SNR = 2.5  # signal to noise of the read-out far above what minibatch noise allows
# r_v at or above this: D scores unseen real data well past halfway to fakes. 0.6 is the target
# of Karras et al.'s (2020) adaptive augmentation, the level they hold D at; a healthy augmented
# DCGAN on digits hovers around 0.4-0.58, a memorising one (no augmentation) climbs to 0.85.
OVERFIT_RATIO = 0.6
# d_train - d_heldout at least this (times the read-outs' scale for raw critic scores): a few
# standard errors of a mean over the evaluation's samples, so that noise does not count
OVERFIT_MIN_GAP = 0.005


def check_diverged(rows: list[dict], config=None) -> Verdict:
    if not train_rows(rows):
        return unchecked("no training row was logged")
    bad = []
    for r in rows:
        if "step" not in r:
            continue
        nonfinite = [k for k in TRAIN_KEYS if k in r and not finite(r[k])]
        if r.get("event") == "diverged" or nonfinite:
            bad.append((r["step"], nonfinite, r.get("event")))
    if not bad:
        return OK
    keys = sorted({k for _, ks, _ in bad for k in ks})
    return failed(
        failure(
            "diverged",
            bad[0][0],
            bad[-1][0],
            {
                "rows": len(bad),
                "non_finite_keys": keys,
                "event": "diverged" if any(e == "diverged" for *_, e in bad) else None,
            },
            "Training produced non-finite losses or gradients (NaN/inf): the parameters blew up, "
            "usually from too large a learning rate or an unbounded critic.",
            advice.diverged(config),
        )
    )


def check_vanishing_gradients(rows: list[dict], config=None) -> Verdict:
    loss = cfg_value(config, "game.loss", "")
    if loss != "minimax":
        # only the saturating loss loses G's gradient when D wins; the others are not read
        return unchecked(
            "read only for the saturating minimax loss, this run's game.loss is "
            f"{loss or 'unknown'}"
        )
    tr = [r for r in train_rows(rows) if finite(r.get("d_fake")) and finite(r.get("grad_norm_g"))]
    if len(tr) < VG_MIN_ROWS:
        return unchecked(
            f"{len(tr)} training rows with D(G(z)) and G's gradient norm, {VG_MIN_ROWS} needed"
        )
    g = np.array([r["grad_norm_g"] for r in tr])
    early = float(np.median(g[: max(3, len(g) // 20)]))
    if early <= 0:
        return unchecked("G's gradient norm was 0 from the start: nothing to compare with")
    d_fake = np.array([r["d_fake"] for r in tr])
    bad = (d_fake < VG_D_FAKE) & (g < VG_GRAD_RATIO * early)
    if bad.mean() < VG_MIN_FRACTION:
        return OK
    # the longest stretch where it holds (allowing single-row blips)
    best, start, gap = (0, 0, -1), None, 0
    for i, b in enumerate(bad):
        if b:
            if start is None:
                start = i
            gap = 0
            end = i
            if end - start + 1 > best[0]:
                best = (end - start + 1, start, end)
        elif start is not None:
            gap += 1
            if gap > 1:
                start, gap = None, 0
    _, i0, i1 = best
    if i1 < i0:
        return OK
    seg = slice(i0, i1 + 1)
    return failed(
        failure(
            "vanishing_gradients",
            tr[i0]["step"],
            tr[i1]["step"],
            {
                "loss": "minimax",
                "d_fake_median": num(np.median(d_fake[seg])),
                "grad_norm_g_early": num(early),
                "grad_norm_g_median": num(np.median(g[seg])),
                "grad_ratio": num(np.median(g[seg]) / early),
                "fraction_of_steps": num(bad.mean()),
                "thresholds": {"d_fake": VG_D_FAKE, "grad_ratio": VG_GRAD_RATIO},
            },
            "The discriminator rejects every generated sample (D(G(z)) ~ 0) and with the "
            "saturating minimax loss log(1 - D(G(z))) is flat there: the generator's gradient "
            "vanishes and it stops learning.",
            advice.vanishing_gradients(config),
        )
    )


def _effective_modes(row) -> float:
    """``n_modes * exp(-reverse_kl)``: the number of equally used modes with the same entropy."""
    rkl = row.get("reverse_kl")
    return row["n_modes"] * math.exp(-rkl) if finite(rkl) else float(row["modes_covered"])


def _collapsed(row) -> bool:
    return (
        row["modes_covered"] < row["n_modes"]
        or _effective_modes(row) < EFFECTIVE_MODES * row["n_modes"]
    )


def _no_second_half(total: int) -> Verdict:
    return unchecked(
        f"no evaluation in the second half of training, after step {total // 2}: "
        "lower log.eval_every"
    )


def check_mode_collapse(rows: list[dict], config=None) -> Verdict:
    if is_image_run(rows, config):
        return images.check_mode_collapse(rows, config)
    total = total_steps(rows, config)
    if not total:
        return unchecked("no step was logged")
    if any(finite(r.get("n_modes")) for r in rows):
        return _check_modes(rows, config, total)
    if any(finite(r.get("std")) for r in rows):  # 1-D
        return _check_spread(rows, config, total)
    if not any(finite(r.get(k)) for r in rows for k in ("w1", "jsd", "ks", "std")):
        return unchecked("no evaluation was logged")
    return unchecked(
        f"no modes known for {cfg_value(config, 'data.name', 'the data')} and no 1-D spread "
        "to compare"
    )


def _not_reached(last: dict) -> Verdict:
    hq = last.get("high_quality")
    near = f"{hq:.1%} of its samples lie" if finite(hq) else "no sample lies"
    return unchecked(
        f"the generator has not reached the data yet: {near} near a mode at step "
        f"{last['step']}, high_quality < {MC_MIN_HIGH_QUALITY}"
    )


def _check_modes(rows: list[dict], config, total: int) -> Verdict:
    """Where the modes are known: too few modes reached, or the mass on too few of them."""
    evals = second_half(rows, total, "modes_covered", "n_modes")
    if not evals:
        return _no_second_half(total)
    hq = evals[-1].get("high_quality")
    if not evals[-1]["modes_covered"] or (finite(hq) and hq < MC_MIN_HQ_EVIDENCE):
        return _not_reached(evals[-1])
    short = [r for r in evals if _collapsed(r)]
    if not short or len(short) * 2 < len(evals) or not _collapsed(evals[-1]):
        if finite(hq) and hq < MC_MIN_HIGH_QUALITY:
            return _not_reached(evals[-1])
        return OK
    covered = [r["modes_covered"] for r in evals]
    last, m = int(evals[-1]["modes_covered"]), int(evals[-1]["n_modes"])
    if last == m:
        why = (
            f"In the second half of training the generator reaches all {m} modes but "
            f"puts its mass on about {_effective_modes(evals[-1]):.1f} of them "
            "(n_modes * exp(-reverse_kl)): it is collapsing onto a few modes."
        )
    else:
        why = (
            f"In the second half of training the generator covers only {last} of {m} "
            f"modes: {collapse_cause(config, 'modes')}."
        )
    return failed(
        failure(
            "mode_collapse",
            short[0]["step"],
            evals[-1]["step"],
            {
                "modes_covered": [int(c) for c in covered],
                "n_modes": int(evals[-1]["n_modes"]),
                "effective_modes": [num(_effective_modes(r)) for r in evals],
                "steps": [int(r["step"]) for r in evals],
                "high_quality": [num(r.get("high_quality")) for r in evals],
                "reverse_kl": [num(r.get("reverse_kl")) for r in evals],
                "thresholds": {
                    "effective_modes": EFFECTIVE_MODES,
                    "min_high_quality": MC_MIN_HQ_EVIDENCE,
                },
            },
            why,
            advice.without_discriminator(
                config, advice.mode_collapse(config, int(evals[-1]["n_modes"]))
            ),
        )
    )


def _check_spread(rows: list[dict], config, total: int) -> Verdict:
    """1-D without modes: the samples' spread far below the data's."""
    evals = second_half(rows, total, "std")
    if not evals:
        return _no_second_half(total)
    try:
        data_std = build_toy(config.data).mean_std()[1]
    except (AttributeError, GankitError):  # no config, or no exact std: nothing to compare
        return unchecked("the data's exact standard deviation is not known")
    if not data_std > 0:
        return unchecked("the data is a single point: there is no spread or mode to lose")
    ks = evals[-1].get("ks")
    if finite(ks) and ks >= KS_DISJOINT:
        return unchecked(
            f"the generator has not reached the data yet: its samples and the data barely "
            f"overlap at step {evals[-1]['step']}, KS = {ks:.3f}"
        )
    ratios = [r["std"] / data_std for r in evals]
    low = [r for r, q in zip(evals, ratios) if q < STD_RATIO]
    if not low or len(low) * 2 < len(evals) or ratios[-1] >= STD_RATIO:
        return OK
    return failed(
        failure(
            "mode_collapse",
            low[0]["step"],
            evals[-1]["step"],
            {
                "std": [num(r["std"]) for r in evals],
                "data_std": num(data_std),
                "std_ratio": [num(q) for q in ratios],
                "threshold": STD_RATIO,
            },
            "The generated samples spread far less than the data: the generator maps most of its "
            "noise to nearly the same output.",
            advice.without_discriminator(config, advice.narrow_spread(config)),
        )
    )


def _swings(x: np.ndarray, window: int, probs: bool, robust: bool) -> dict[str, Any]:
    """The swing statistics of D's read-out ``x`` smoothed over ``window`` logged rows: the
    crossings of its median, signal to noise (noise: the residual's std, or with ``robust`` its
    median absolute value scaled to a std, which bursts of swings in fewer than half the rows do
    not inflate), the amplitudes of the third and last quarter, whether it is big and cycling."""
    s = smooth(x, window)
    offset = window // 2
    residual = x[offset : offset + len(s)] - s
    if robust:
        noise = 1.4826 * float(np.median(np.abs(residual - np.median(residual)))) + 1e-12
    else:
        noise = float(np.std(residual)) + 1e-12
    snr = float(np.std(s)) / noise
    amp = amplitude(s)
    cross = crossings(s, float(np.median(s)), 0.25 * amp)
    q = len(s) // 2
    amp_third, amp_last = amplitude(s[:q]), amplitude(s[q:])
    big = amp >= OSC_MIN_AMPLITUDE if probs else amp >= 0.5 * max(abs(float(np.median(x))), noise)
    return {
        "window": window,
        "offset": offset,
        "cross": cross,
        "snr": snr,
        "amp": amp,
        "amp_third": amp_third,
        "amp_last": amp_last,
        "big": big,
        "settling": amp_last < OSC_SETTLED * max(amp_third, 1e-12),
    }


def check_non_convergence(rows: list[dict], config=None) -> Verdict:
    if is_image_run(rows, config):
        return images.check_non_convergence(rows, config)
    loss = cfg_value(config, "game.loss", "")
    tr = [r for r in train_rows(rows) if all(finite(r.get(k)) for k in ("d_loss", "g_loss"))]
    total = total_steps(rows, config)
    second = [r for r in tr if r["step"] > total / 2]
    if len(second) < 4 * OSC_WINDOW:
        return unchecked(
            f"{len(second)} training rows logged in the second half of training, "
            f"{4 * OSC_WINDOW} needed to tell swings from minibatch noise"
        )
    probs = loss in PROBABILITY_LOSSES and all(
        finite(r.get("d_real")) and finite(r.get("d_fake")) for r in second
    )
    if probs:
        signal, x = "d_real - d_fake", np.array([r["d_real"] - r["d_fake"] for r in second])
    else:
        signal, x = "d_loss", np.array([r["d_loss"] for r in second])
    # the swings of a period of ~10 logged rows and more, against the residual's std
    sw = _swings(x, OSC_WINDOW, probs, robust=False)
    big, snr = sw["big"], sw["snr"]
    cycling = len(sw["cross"]) >= OSC_MIN_CROSSINGS and snr >= OSC_SIGNAL_TO_NOISE
    cycling = cycling and not sw["settling"]
    metric = next((k for k in ("w1", "jsd", "ks") if any(finite(r.get(k)) for r in rows)), None)
    if not big and snr >= OSC_CLEAN_SNR:
        values = [r[metric] for r in second_half(rows, total, metric)] if metric else []
        if cycling and len(values) < OSC_METRIC_EVALS:
            return unchecked(
                f"D's read-out cycles cleanly with a small amplitude, but {len(values)} "
                f"evaluations of the divergence in the second half are too few to tell an "
                f"orbit from a settling, {OSC_METRIC_EVALS} needed: lower log.eval_every"
            )
        big = metric_cycles(values)
    if not (cycling and big):
        # faster swings (a period of 3-6 logged rows), which the 5-row average turns into
        # "noise", often in bursts: at 3 rows against the residual's robust scale
        sw = _swings(x, OSC_FAST_WINDOW, probs, robust=True)
        cycling = len(sw["cross"]) >= OSC_MIN_CROSSINGS and sw["snr"] >= OSC_FAST_SNR
        if not (cycling and sw["big"] and not sw["settling"]):
            return OK
    evidence = {
        "signal": signal,
        "window_rows": sw["window"],
        "crossings": len(sw["cross"]),
        "amplitude": num(sw["amp"]),
        "signal_to_noise": num(sw["snr"]),
        "noise": "robust" if sw["window"] == OSC_FAST_WINDOW else "std",
        "amplitude_third_quarter": num(sw["amp_third"]),
        "amplitude_last_quarter": num(sw["amp_last"]),
        "g_loss_range": num(amplitude(np.array([r["g_loss"] for r in second]))),
        "thresholds": {
            "crossings": OSC_MIN_CROSSINGS,
            "signal_to_noise": (
                OSC_FAST_SNR if sw["window"] == OSC_FAST_WINDOW else OSC_SIGNAL_TO_NOISE
            ),
            "settled": OSC_SETTLED,
        },
    }
    if metric:
        vals = [(r["step"], r[metric]) for r in rows if finite(r.get(metric))]
        evidence[metric] = [num(v) for _, v in vals]
        evidence[f"{metric}_steps"] = [int(s_) for s_, _ in vals]
    return failed(
        failure(
            "non_convergence",
            second[sw["cross"][0] + sw["offset"]]["step"],
            second[-1]["step"],
            evidence,
            f"The players keep circling each other: {signal} swings back and forth with a large "
            "amplitude through the second half of training and does not settle (simultaneous "
            "gradient play rotates around the equilibrium instead of converging to it).",
            advice.non_convergence(config),
        )
    )


def _overfit(row: dict, probs: bool) -> float | None:
    """r_v of one evaluation row where its training/held-out gap is above noise, else None."""
    train, held, gen = (row.get(k) for k in ("d_train", "d_heldout", "d_gen"))
    if not (finite(train) and finite(held) and finite(gen)) or train == gen:
        return None
    scale = 1.0 if probs else max(1.0, abs(train), abs(gen))
    if train - held < OVERFIT_MIN_GAP * scale:
        return None
    return (train - held) / (train - gen)


def check_discriminator_overfit(rows: list[dict], config=None) -> Verdict:
    image = is_image_run(rows, config)
    if not any("d_train" in r for r in rows):
        if not image and not cfg_value(config, "data.train_size", 0):
            return unchecked("no finite training set to memorise, data.train_size = 0")
        return unchecked("D's read-outs on training and held-out data were not logged")
    total = total_steps(rows, config)
    evals = [r for r in rows if finite(r.get("step")) and r["step"] > total / 2 and "d_train" in r]
    if not evals:
        return _no_second_half(total)
    probs = cfg_value(config, "game.loss", "") in PROBABILITY_LOSSES
    ratios = [_overfit(r, probs) for r in evals]
    hits = [r for r, v in zip(evals, ratios) if v is not None and v >= OVERFIT_RATIO]
    if not hits or len(hits) * 2 < len(evals) or hits[-1] is not evals[-1]:
        return OK
    size = cfg_value(config, "data.train_size", 0)
    if image:
        images_ = f"its {size} training images" if size else "its training images"
        explanation = (
            f"The discriminator scores {images_} above held-out images of the same dataset, and "
            "the held-out images about as low as generated ones (r_v of Karras et al. 2020 >= "
            f"{OVERFIT_RATIO}): it has memorised the training images instead of learning what "
            "real images look like, so its feedback no longer teaches the generator anything that "
            "generalises."
        )
        remedies = advice.image_overfit(config)
    else:
        explanation = (
            f"The discriminator scores its {size} training points above fresh samples of the "
            "same density, and those fresh samples about as low as generated ones (r_v of "
            f"Karras et al. 2020 >= {OVERFIT_RATIO}): it has memorised the training set instead "
            "of learning the density, and the generator is pulled onto the training points."
        )
        remedies = advice.discriminator_overfit(config)
    return failed(
        failure(
            "discriminator_overfit",
            hits[0]["step"],
            evals[-1]["step"],
            {
                "train_size": size,
                "steps": [int(r["step"]) for r in evals],
                "r_v": [num(v) for v in ratios],
                "d_train": [num(r["d_train"]) for r in evals],
                "d_heldout": [num(r["d_heldout"]) for r in evals],
                "d_gen": [num(r["d_gen"]) for r in evals],
                "thresholds": {"r_v": OVERFIT_RATIO, "gap": OVERFIT_MIN_GAP},
            },
            explanation,
            remedies,
        )
    )


#: every detector's check, in the order of ``diagnosis.json``'s ``checks``
CHECKS = {
    "diverged": check_diverged,
    "vanishing_gradients": check_vanishing_gradients,
    "mode_collapse": check_mode_collapse,
    "non_convergence": check_non_convergence,
    "discriminator_overfit": check_discriminator_overfit,
}


def _detector(check):
    def detect(rows: list[dict], config=None) -> dict | None:
        return check(rows, config).failure

    detect.__name__ = check.__name__.replace("check_", "detect_")
    detect.__doc__ = f"The failure `{check.__name__}` found, or None (ok or not checked)."
    return detect


detect_diverged = _detector(check_diverged)
detect_vanishing_gradients = _detector(check_vanishing_gradients)
detect_mode_collapse = _detector(check_mode_collapse)
detect_non_convergence = _detector(check_non_convergence)
detect_discriminator_overfit = _detector(check_discriminator_overfit)

DETECTORS = {
    "diverged": detect_diverged,
    "vanishing_gradients": detect_vanishing_gradients,
    "mode_collapse": detect_mode_collapse,
    "non_convergence": detect_non_convergence,
    "discriminator_overfit": detect_discriminator_overfit,
}


def diagnose(rows: list[dict], config=None) -> dict[str, Any]:
    """``{"failures": [...], "checks": {name: status}, "steps": last logged step}`` for the rows
    of ``metrics.jsonl``; ``overfit_checked`` where D's read-outs on a training set were logged.
    A status is ``"failed"``, ``"ok"`` or ``"not checked: <reason>"`` (`Verdict.status`)."""
    failures, checks = [], {}
    diverged = check_diverged(rows, config)
    for name, check in CHECKS.items():
        if name == "diverged":
            verdict = diverged
        elif diverged.failure is not None:
            # after a blow-up the statistics of the other detectors are meaningless
            verdict = unchecked("the run diverged: what follows a blow-up cannot be read")
        elif name in ADVERSARIAL_CHECKS and not adversarial(config):
            verdict = unchecked(not_adversarial_reason(config))
        else:
            verdict = check(rows, config)
        checks[name] = verdict.status
        if verdict.failure is not None:
            failures.append(verdict.failure)
    steps = [r["step"] for r in rows if finite(r.get("step"))]
    result = {"failures": failures, "checks": checks, "steps": int(max(steps)) if steps else 0}
    if any("d_train" in r for r in rows):  # only a finite training set can be overfit
        result["overfit_checked"] = True
    return result
