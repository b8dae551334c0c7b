"""Diagnose a run from its ``metrics.jsonl``: which classic GAN failure happened, when, why, and
which preset or ``--set`` remedies it.

:func:`diagnose` reads the logged rows (a list of dicts, as :func:`gankit.runs.read_metrics`
returns them) and the run's config, and returns ``{"failures": [...]}``; each failure has a stable
``name``, the ``first_step`` and ``last_step`` where the evidence lies, the ``evidence`` (numbers),
an ``explanation`` and ``advice`` (remedies, each naming the preset or ``--set`` that applies it).

Detectors (stable names):

* ``vanishing_gradients``: the saturating ``minimax`` loss, D(G(z)) -> ~0 and G's gradient norm
  collapsed to a small fraction of its early value (Goodfellow et al. 2014, section 3).
* ``mode_collapse``: where the modes are known, ``modes_covered < n_modes`` or the mass on fewer
  than 80 % of the modes (``n_modes * exp(-reverse_kl)``) at most evaluations of the second half
  of the run, the last one included; in 1-D without modes, samples' ``std`` far
  below the data's.
* ``non_convergence``: in the second half, D's read-out (``d_real - d_fake`` for sigmoid losses,
  ``d_loss`` otherwise) swings back and forth with a large amplitude, well above minibatch noise,
  and does not settle (the last quarter swings as much as the third). A cycle of small amplitude
  counts too where it is free of noise (signal to noise >= 2.5) and the evaluated divergence
  (w1/jsd/ks, at least 6 evaluations in the second half) swings with it instead of decreasing:
  its minimum below half its maximum, crossing the middle of its range, and its last quarter's
  maximum at least half the third's (the Dirac-GAN's orbit, preset ``dirac-gan``).
* ``diverged``: a non-finite loss/gradient/D read-out, or a row with ``event = "diverged"``.
* ``discriminator_overfit``: only with a finite training set (``data.train_size``), whose
  evaluations log D's mean read-out on training points, fresh points of the density and
  generated points: Karras et al.'s (2020) ``r_v = (d_train - d_heldout) / (d_train - d_gen)``
  is >= 0.5 with ``d_train - d_heldout`` above noise at most evaluations of the second half, the
  last one included (D scores unseen real data like fakes: it has memorised its training set).

A detector is conservative: a healthy run (the remedied presets) must come out clean.
:func:`gankit.diagnose.writer.write_diagnosis` writes ``RUN/diagnosis.json`` atomically;
:func:`gankit.diagnose.writer.summary` is one paragraph. The advice: `gankit.diagnose.advice`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gankit.data.sources import build_toy
from gankit.diagnose import advice
from gankit.diagnose.common import (
    PROBABILITY_LOSSES,
    TRAIN_KEYS,
    cfg_value,
    failure,
    finite,
    num,
    total_steps,
    train_rows,
)
from gankit.errors import GankitError

# thresholds (documented in the evidence of each failure)
VG_D_FAKE = 0.05  # D(G(z)) below this: D rejects every fake
VG_GRAD_RATIO = 0.1  # G's gradient norm below this fraction of its early value
VG_MIN_FRACTION = 0.2  # ... on at least this fraction of the logged steps
EFFECTIVE_MODES = 0.8  # mass on fewer than this fraction of the modes (reverse_kl > 0.22)
STD_RATIO = 0.25  # 1-D: samples' std below this fraction of the data's
OSC_WINDOW = 5  # moving average (logged rows) that separates swings from minibatch noise
OSC_MIN_CROSSINGS = 4  # hysteresis crossings of the median in the second half
OSC_SIGNAL_TO_NOISE = 1.2  # std of the smoothed series over std of the residual noise
OSC_MIN_AMPLITUDE = 0.3  # sigmoid losses: 5-95 % range of the smoothed d_real - d_fake
OSC_SETTLED = 0.35  # last quarter's amplitude below this fraction of the third's: settling
# a small but clean cycle (no minibatch noise, e.g. the Dirac-GAN) counts where the evaluated
# divergence keeps swinging instead of decreasing:
OSC_CLEAN_SNR = 2.5  # signal to noise of the read-out far above what minibatch noise allows
OSC_METRIC_EVALS = 6  # at least this many evaluations of w1/jsd/ks in the second half
OSC_METRIC_SWING = 0.5  # ... whose minimum is below this fraction of their maximum
OVERFIT_RATIO = 0.5  # r_v at or above this: D scores unseen real data at least halfway to fakes
# d_train - d_heldout at least this (times the read-outs' scale for raw critic scores): a few
# standard errors of a mean over the evaluation's samples, so that noise does not count
OVERFIT_MIN_GAP = 0.005


def detect_diverged(rows: list[dict], config=None) -> dict | None:
    bad = []
    for r in rows:
        if "step" not in r:
            continue
        nonfinite = [k for k in TRAIN_KEYS if k in r and not finite(r[k])]
        if r.get("event") == "diverged" or nonfinite:
            bad.append((r["step"], nonfinite, r.get("event")))
    if not bad:
        return None
    keys = sorted({k for _, ks, _ in bad for k in ks})
    return failure(
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


def detect_vanishing_gradients(rows: list[dict], config=None) -> dict | None:
    if cfg_value(config, "game.loss", "") != "minimax":
        return None  # only the saturating loss loses G's gradient when D wins
    tr = [r for r in train_rows(rows) if finite(r.get("d_fake")) and finite(r.get("grad_norm_g"))]
    if len(tr) < 10:
        return None
    g = np.array([r["grad_norm_g"] for r in tr])
    early = float(np.median(g[: max(3, len(g) // 20)]))
    if early <= 0:
        return None
    d_fake = np.array([r["d_fake"] for r in tr])
    bad = (d_fake < VG_D_FAKE) & (g < VG_GRAD_RATIO * early)
    if bad.mean() < VG_MIN_FRACTION:
        return None
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
        return None
    seg = slice(i0, i1 + 1)
    return failure(
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
        "The discriminator rejects every generated sample (D(G(z)) ~ 0) and with the saturating "
        "minimax loss log(1 - D(G(z))) is flat there: the generator's gradient vanishes and it "
        "stops learning.",
        advice.vanishing_gradients(config),
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


def detect_mode_collapse(rows: list[dict], config=None) -> dict | None:
    total = total_steps(rows, config)
    if not total:
        return None
    half = total / 2
    evals = [
        r
        for r in rows
        if finite(r.get("step"))
        and r["step"] > half
        and finite(r.get("modes_covered"))
        and finite(r.get("n_modes"))
    ]
    if evals:
        short = [r for r in evals if _collapsed(r)]
        if not short or len(short) * 2 < len(evals) or not _collapsed(evals[-1]):
            return None
        covered = [r["modes_covered"] for r in evals]
        last, m = int(evals[-1]["modes_covered"]), int(evals[-1]["n_modes"])
        if last == m:
            why = (
                f"In the second half of training the generator reaches all {m} modes but "
                f"puts its mass on about {_effective_modes(evals[-1]):.1f} of them "
                "(n_modes * exp(-reverse_kl)): it is collapsing onto a few modes."
            )
        elif last == 0:
            why = (
                f"In the second half of training no generated sample lands within 3 standard "
                f"deviations of any of the {m} modes: the generator has not found the modes."
            )
        else:
            why = (
                f"In the second half of training the generator covers only {last} of {m} "
                "modes: it has collapsed onto a few modes that fool the current discriminator."
            )
        return failure(
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
            },
            why,
            advice.mode_collapse(config, int(evals[-1]["n_modes"])),
        )
    # no modes known: 1-D spread
    evals = [
        r
        for r in rows
        if finite(r.get("step")) and r["step"] > half and finite(r.get("std")) and "ks" in r
    ]
    if not evals:
        return None
    try:
        data_std = build_toy(config.data).mean_std()[1]
    except (AttributeError, GankitError):  # no config, or no exact std: nothing to compare
        return None
    ratios = [r["std"] / data_std for r in evals]
    low = [r for r, q in zip(evals, ratios) if q < STD_RATIO]
    if not low or len(low) * 2 < len(evals) or ratios[-1] >= STD_RATIO:
        return None
    return failure(
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
        advice.narrow_spread(config),
    )


def _smooth(x: np.ndarray, w: int) -> np.ndarray:
    if len(x) < w:
        return x.copy()
    kernel = np.ones(w) / w
    return np.convolve(x, kernel, mode="valid")


def _crossings(s: np.ndarray, centre: float, band: float) -> list[int]:
    """Indices where ``s`` crosses from below ``centre - band`` to above ``centre + band``
    or back."""
    out, state = [], 0
    for i, v in enumerate(s):
        new = 1 if v > centre + band else (-1 if v < centre - band else 0)
        if new and new != state:
            if state:
                out.append(i)
            state = new
    return out


def _amplitude(s: np.ndarray) -> float:
    return float(np.percentile(s, 95) - np.percentile(s, 5)) if len(s) else 0.0


def _metric_cycles(values: list[float]) -> bool:
    """The evaluated divergence of the second half swings instead of decreasing: enough
    evaluations, the minimum below ``OSC_METRIC_SWING`` of the maximum, at least two crossings
    of the middle of its 5-95 % range (a band of a quarter of that range), and the last
    quarter's maximum at least half the third quarter's."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) < OSC_METRIC_EVALS or v.max() <= 0:
        return False
    q = len(v) // 2
    swings = v.min() < OSC_METRIC_SWING * v.max()
    mid = 0.5 * float(np.percentile(v, 5) + np.percentile(v, 95))
    crosses = len(_crossings(v, mid, 0.25 * _amplitude(v))) >= 2
    return bool(swings and crosses and v[q:].max() >= 0.5 * v[:q].max())


def detect_non_convergence(rows: list[dict], config=None) -> dict | None:
    loss = cfg_value(config, "game.loss", "")
    tr = [r for r in train_rows(rows) if all(finite(r.get(k)) for k in ("d_loss", "g_loss"))]
    total = total_steps(rows, config)
    second = [r for r in tr if r["step"] > total / 2]
    if len(second) < 4 * OSC_WINDOW:
        return None
    probs = loss in PROBABILITY_LOSSES and all(
        finite(r.get("d_real")) and finite(r.get("d_fake")) for r in second
    )
    if probs:
        signal, x = "d_real - d_fake", np.array([r["d_real"] - r["d_fake"] for r in second])
    else:
        signal, x = "d_loss", np.array([r["d_loss"] for r in second])
    s = _smooth(x, OSC_WINDOW)
    offset = OSC_WINDOW // 2
    noise = float(np.std(x[offset : offset + len(s)] - s)) + 1e-12
    snr = float(np.std(s)) / noise
    amp = _amplitude(s)
    band = 0.25 * amp
    cross = _crossings(s, float(np.median(s)), band)
    q = len(s) // 2
    amp_third, amp_last = _amplitude(s[:q]), _amplitude(s[q:])
    settling = amp_last < OSC_SETTLED * max(amp_third, 1e-12)
    big = amp >= OSC_MIN_AMPLITUDE if probs else amp >= 0.5 * max(abs(float(np.median(x))), noise)
    metric = next((k for k in ("w1", "jsd", "ks") if any(finite(r.get(k)) for r in rows)), None)
    if not big and snr >= OSC_CLEAN_SNR and metric:
        big = _metric_cycles(
            [r[metric] for r in rows if finite(r.get(metric)) and r.get("step", 0) > total / 2]
        )
    if len(cross) < OSC_MIN_CROSSINGS or snr < OSC_SIGNAL_TO_NOISE or not big or settling:
        return None
    evidence = {
        "signal": signal,
        "crossings": len(cross),
        "amplitude": num(amp),
        "signal_to_noise": num(snr),
        "amplitude_third_quarter": num(amp_third),
        "amplitude_last_quarter": num(amp_last),
        "g_loss_range": num(_amplitude(np.array([r["g_loss"] for r in second]))),
    }
    if metric:
        vals = [(r["step"], r[metric]) for r in rows if finite(r.get(metric))]
        evidence[metric] = [num(v) for _, v in vals]
        evidence[f"{metric}_steps"] = [int(s_) for s_, _ in vals]
    return failure(
        "non_convergence",
        second[cross[0] + offset]["step"],
        second[-1]["step"],
        evidence,
        f"The players keep circling each other: {signal} swings back and forth with a large "
        "amplitude through the second half of training and does not settle (simultaneous "
        "gradient play rotates around the equilibrium instead of converging to it).",
        advice.non_convergence(config),
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


def detect_discriminator_overfit(rows: list[dict], config=None) -> dict | None:
    total = total_steps(rows, config)
    evals = [r for r in rows if finite(r.get("step")) and r["step"] > total / 2 and "d_train" in r]
    if not evals:
        return None
    probs = cfg_value(config, "game.loss", "") in PROBABILITY_LOSSES
    ratios = [_overfit(r, probs) for r in evals]
    hits = [r for r, v in zip(evals, ratios) if v is not None and v >= OVERFIT_RATIO]
    if len(hits) * 2 < len(evals) or hits[-1] is not evals[-1]:
        return None
    size = cfg_value(config, "data.train_size", 0)
    return failure(
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
        f"The discriminator scores its {size} training points above fresh samples of the same "
        "density, and those fresh samples about as low as generated ones (r_v of Karras et al. "
        "2020 >= 0.5): it has memorised the training set instead of learning the density, and "
        "the generator is pulled onto the training points.",
        advice.discriminator_overfit(config),
    )


DETECTORS = {
    "diverged": detect_diverged,
    "vanishing_gradients": detect_vanishing_gradients,
    "mode_collapse": detect_mode_collapse,
    "non_convergence": detect_non_convergence,
    "discriminator_overfit": detect_discriminator_overfit,
}


def diagnose(rows: list[dict], config=None) -> dict[str, Any]:
    """``{"failures": [...], "steps": last logged step}`` for the rows of ``metrics.jsonl``."""
    failures = []
    diverged = detect_diverged(rows, config)
    for name, fn in DETECTORS.items():
        if name != "diverged" and diverged is not None:
            # after a blow-up the statistics of the other detectors are meaningless
            continue
        found = diverged if name == "diverged" else fn(rows, config)
        if found is not None:
            failures.append(found)
    steps = [r["step"] for r in rows if finite(r.get("step"))]
    result = {"failures": failures, "steps": int(max(steps)) if steps else 0}
    if any("d_train" in r for r in rows):  # only a finite training set can be overfit
        result["overfit_checked"] = True
    return result
