"""The detectors of image runs (``data.name`` not a toy): mode collapse from the class histogram,
recall and coverage, non-convergence from the FID, read from the evaluation rows whose keys
``docs/image-runs.md`` specifies (``fid_S``, ``precision_S``, ``recall_S``, ``coverage_S``,
``class_histogram``, ``class_ratio_min``, ``classes_covered``, ``n_classes``; ``S`` names the
feature space). Divergence, vanishing gradients and D's overfitting read the same keys as toys
(`gankit.diagnose.detectors`). Each check returns a `Verdict`: a failure, ok, or why it could not
judge the run.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from gankit.diagnose import advice
from gankit.diagnose.common import (
    OK,
    Verdict,
    cfg_value,
    collapse_cause,
    failed,
    failure,
    finite,
    num,
    total_steps,
    unchecked,
)
from gankit.diagnose.signals import OSC_METRIC_EVALS, OSC_METRIC_SWING, metric_cycles

# Mode collapse of images. A healthy DCGAN on the digits reaches recall 0.5-0.8, coverage 0.6-0.9
# and a rarest class at 0.5-0.9 of its uniform share; a collapsed one has a class at ~0 and
# recall/coverage below 0.1. The thresholds sit between, far from the healthy values:
IMG_CLASS_RATIO = 0.25  # the rarest class below a quarter of its uniform share 1/K
# (``classes_covered < n_classes`` is not used to decide: it is the same as a rarest class below
# half its share, which a healthy run touches; it is reported in the evidence)
IMG_DROP = 0.25  # recall_S or coverage_S below a quarter of its best earlier value ...
IMG_DROP_MIN_BEST = 0.2  # ... where that best was at least this (early values are noise)
# ... or narrow from the start, which no drop shows: images that look real (precision_S at
# least IMG_NARROW_PRECISION) covering hardly any real image (coverage_S below
# IMG_NARROW_COVERAGE times that precision). A class-conditional G with a fully-connected
# layer on MNIST drew a few images per class from its first evaluation on: coverage
# 0.005-0.009 at precision 0.22-0.81, recall 0.000 (agreement 1.0, classes balanced);
# healthy MNIST and digits runs read coverage at 0.2-1.1 times their precision in the second
# half (0.07 at the lowest, a pix2pix run at a third of its steps)
IMG_NARROW_PRECISION = 0.3
IMG_NARROW_COVERAGE = 0.05
# ... read only where each evaluation generated at least this many samples (log.eval_samples):
# coverage needs generated images to land near the real ones at all. A perfect model's expected
# coverage is about 1 - exp(-k n_gen / n_real): 0.63 for 1,000 generated against the evaluator's
# at most 5,000 held-out images (k = 5), 0.01 for pixelcnn-mnist's 10, whose low coverage says
# nothing
IMG_NARROW_MIN_SAMPLES = 1000
# precision_S (the share of generated images inside the real images' manifold) below this at the
# last evaluation: the generator has not reached the data yet, its "classes" are the feature
# net's guesses on noise and its recall says nothing: mode collapse cannot be judged
IMG_MIN_PRECISION = 0.05
# a collapse is read from at least this many evaluations of the second half (one evaluation is
# a snapshot: a 100-step run read once is not "collapsed over steps 100-100")
IMG_COLLAPSE_EVALS = 2
# an FID swing counts only where its range in the second half exceeds this many times the
# median sampling std the evaluations logged (``fid_std_S``, a bootstrap over the generated
# images): at 1,000 digits FID's own noise is std ~3 at FID ~15 (draws of one model ranged
# 12.2-22.4), which a 0.5 ratio of minimum to maximum would call a swing
FID_SWING_NOISE = 4.0


def feature_space(rows: list[dict]) -> str | None:
    """``S`` of the ``fid_S`` keys the evaluations logged (the most frequent one), or None."""
    spaces = Counter(
        k[len("fid_") :]
        for r in rows
        for k, v in r.items()
        if k.startswith("fid_") and not k.startswith("fid_floor_") and finite(v)
    )
    return max(sorted(spaces), key=spaces.__getitem__) if spaces else None


def class_ratio(row: dict) -> float | None:
    """The rarest class's share over its uniform share: ``class_ratio_min``, else from the
    ``class_histogram``; None where the feature net has no classes."""
    if finite(row.get("class_ratio_min")):
        return float(row["class_ratio_min"])
    hist = row.get("class_histogram")
    if isinstance(hist, list) and hist and all(finite(h) for h in hist) and sum(hist) > 0:
        return min(hist) * len(hist) / sum(hist)
    return None


def _best_before(evals: list[dict], key: str) -> list[float | None]:
    """For each evaluation, the largest finite ``key`` of the evaluations before it."""
    out, best = [], None
    for r in evals:
        out.append(best)
        v = r.get(key)
        if finite(v):
            best = v if best is None else max(best, v)
    return out


def _dropped(value, best) -> bool:
    return (
        finite(value)
        and best is not None
        and best >= IMG_DROP_MIN_BEST
        and (value < IMG_DROP * best)
    )


def _sentence(clause: str) -> str:
    return clause[0].upper() + clause[1:] + "."


def _narrow(precision, coverage) -> bool:
    """Realistic images that come near hardly any real image (see `IMG_NARROW_COVERAGE`)."""
    return (
        finite(precision)
        and finite(coverage)
        and precision >= IMG_NARROW_PRECISION
        and coverage < IMG_NARROW_COVERAGE * precision
    )


def check_mode_collapse(rows: list[dict], config=None) -> Verdict:
    total = total_steps(rows, config)
    if not total:
        return unchecked("no step was logged")
    space = feature_space(rows)
    recall, coverage, precision = (f"{m}_{space}" for m in ("recall", "coverage", "precision"))
    evals = [
        r
        for r in rows
        if finite(r.get("step"))
        and (class_ratio(r) is not None or finite(r.get(recall)) or finite(r.get(coverage)))
    ]
    if not evals:
        return unchecked("no evaluation logged a class histogram, recall or coverage")
    best_recall, best_coverage = _best_before(evals, recall), _best_before(evals, coverage)
    second = [i for i, r in enumerate(evals) if r["step"] > total / 2]
    if len(second) < IMG_COLLAPSE_EVALS:
        return unchecked(
            f"{len(second)} evaluation(s) in the second half of training, after step "
            f"{total // 2}; a collapse is read only where it persists over "
            f"{IMG_COLLAPSE_EVALS}: lower log.eval_every"
        )
    last = evals[second[-1]]
    if finite(last.get(precision)) and last[precision] < IMG_MIN_PRECISION:
        return unchecked(
            f"the generator has not reached the data yet: hardly any image looks real at step "
            f"{last['step']}, {precision} = {last[precision]:.3f}"
        )

    enough = cfg_value(config, "log.eval_samples", 0) >= IMG_NARROW_MIN_SAMPLES

    def why(i: int) -> list[str]:
        r, out = evals[i], []
        ratio = class_ratio(r)
        if ratio is not None and ratio < IMG_CLASS_RATIO:
            out.append("class")
        if _dropped(r.get(recall), best_recall[i]):
            out.append("recall")
        if _dropped(r.get(coverage), best_coverage[i]):
            out.append("coverage")
        if enough and _narrow(r.get(precision), r.get(coverage)):
            out.append("narrow")
        return out

    reasons = {i: why(i) for i in second}
    hits = [i for i in second if reasons[i]]
    if not hits or len(hits) * 2 < len(second) or not reasons[second[-1]]:
        return OK
    sel = [evals[i] for i in second]
    ratio = class_ratio(last)
    said = []
    if "class" in reasons[second[-1]]:
        n = last.get("n_classes")
        covered = last.get("classes_covered")
        of = (
            f" (only {int(covered)} of {int(n)} classes get half their share)"
            if finite(n) and finite(covered)
            else ""
        )
        said.append(
            f"the rarest class gets {ratio:.0%} of its fair share of the generated images{of}"
        )
    fell = [
        (key, best[second[-1]], last[key])
        for key, best, word in (
            (recall, best_recall, "recall"),
            (coverage, best_coverage, "coverage"),
        )
        if word in reasons[second[-1]]
    ]
    if fell:
        said.append(
            " and ".join(f"{k} fell from {a:.2f} to {b:.2f}" for k, a, b in fell)
            + " (the share of real images the generated ones come near)"
        )
    if "narrow" in reasons[second[-1]]:
        rec = f", {recall} {last[recall]:.3f}" if finite(last.get(recall)) else ""
        said.append(
            f"its images look real ({precision} = {last[precision]:.2f}) but come near only "
            f"{last[coverage]:.1%} of the real images ({coverage}{rec}): a few images, drawn "
            "again and again"
        )
    evidence = {
        "feature_space": space,
        "steps": [int(r["step"]) for r in sel],
        "class_ratio_min": [num(class_ratio(r)) for r in sel],
        "classes_covered": [num(r.get("classes_covered")) for r in sel],
        "n_classes": num(last.get("n_classes")),
        recall: [num(r.get(recall)) for r in sel],
        coverage: [num(r.get(coverage)) for r in sel],
        f"best_earlier_{recall}": num(best_recall[second[-1]]),
        f"best_earlier_{coverage}": num(best_coverage[second[-1]]),
        precision: [num(r.get(precision)) for r in sel],
        "collapsed_by": [reasons[i] for i in second],  # per step: what fell below its threshold
        "thresholds": {
            "class_ratio_min": IMG_CLASS_RATIO,
            "drop_fraction": IMG_DROP,
            "drop_min_best": IMG_DROP_MIN_BEST,
            "narrow_precision": IMG_NARROW_PRECISION,
            "narrow_coverage_per_precision": IMG_NARROW_COVERAGE,
        },
    }
    if isinstance(last.get("class_histogram"), list):
        evidence["class_histogram"] = last["class_histogram"]
    return failed(
        failure(
            "mode_collapse",
            evals[hits[0]]["step"],
            last["step"],
            evidence,
            "In the second half of training the generator keeps producing fewer kinds of image: "
            + "; ".join(said)
            + ". "
            + _sentence(collapse_cause(config, "kinds of image")),
            advice.without_discriminator(config, advice.image_mode_collapse(config)),
        )
    )


def check_non_convergence(rows: list[dict], config=None) -> Verdict:
    """FID of the second half swinging up and down instead of decreasing (`metric_cycles`:
    at least ``OSC_METRIC_EVALS`` evaluations, its minimum below ``OSC_METRIC_SWING`` of its
    maximum, crossing the middle of its range twice, no lower in the later half), by more than
    ``FID_SWING_NOISE`` times its own sampling std where the evaluations logged it."""
    total = total_steps(rows, config)
    if not total:
        return unchecked("no step was logged")
    space = feature_space(rows)
    if space is None:
        return unchecked("no FID was logged")
    key = f"fid_{space}"
    vals = [
        (int(r["step"]), float(r[key]))
        for r in rows
        if finite(r.get("step")) and r["step"] > total / 2 and finite(r.get(key))
    ]
    if len(vals) < OSC_METRIC_EVALS:
        return unchecked(
            f"{len(vals)} FID evaluations in the second half of training, "
            f"{OSC_METRIC_EVALS} needed to tell a swing from a decrease: lower log.eval_every"
        )
    fids = [v for _, v in vals]
    if not metric_cycles(fids):
        return OK
    stds = [
        float(r[f"fid_std_{space}"])
        for r in rows
        if finite(r.get("step")) and r["step"] > total / 2 and finite(r.get(f"fid_std_{space}"))
    ]
    noise = float(np.median(stds)) if stds else 0.0
    if max(fids) - min(fids) <= FID_SWING_NOISE * noise:
        return OK  # ups and downs within the FID's own sampling noise
    floors = [r[f"fid_floor_{space}"] for r in rows if finite(r.get(f"fid_floor_{space}"))]
    floor = floors[-1] if floors else None
    return failed(
        failure(
            "non_convergence",
            vals[0][0],
            vals[-1][0],
            {
                "feature_space": space,
                key: [num(v) for v in fids],
                "steps": [s for s, _ in vals],
                f"fid_floor_{space}": num(floor),
                f"fid_std_{space}_median": num(noise) if stds else None,
                "thresholds": {
                    "evaluations": OSC_METRIC_EVALS,
                    "swing": OSC_METRIC_SWING,
                    "noise_multiple": FID_SWING_NOISE,
                },
            },
            f"The FID keeps swinging through the second half of training (between "
            f"{min(fids):.1f} and {max(fids):.1f}) instead of decreasing: the generator moves "
            "from one set of images to another as the discriminator chases it, and the two "
            "circle each other instead of converging.",
            advice.image_non_convergence(config),
        )
    )
