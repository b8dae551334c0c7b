"""What the detectors share: reading config values and logged rows, the failure record and the
`Verdict` of one check (failed, ok, or not checked and why)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gankit.data.toy import toy_names

TRAIN_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g", "loss")
#: the checks that read a discriminator: not applicable to a family without one (a VAE)
ADVERSARIAL_CHECKS = ("vanishing_gradients", "non_convergence", "discriminator_overfit")
PROBABILITY_LOSSES = ("minimax", "nonsaturating")


def cfg_value(config, path: str, default=None):
    """``config`` value at ``a.b`` for a `Config`, a nested dict or None."""
    node = config
    for part in path.split("."):
        if node is None:
            return default
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
    return default if node is None else node


def finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def train_rows(rows: list[dict]) -> list[dict]:
    """The rows logged by training (not the evaluations `gankit evaluate` appends): a GAN's
    (``d_loss``) or another family's (``loss``)."""
    return [
        r
        for r in rows
        if "step" in r and ("d_loss" in r or "loss" in r) and r.get("event") != "evaluate"
    ]


#: the families without a discriminator (the adversarial checks have nothing to read)
FAMILIES_WITHOUT_D = ("vae", "autoencoder", "rbm", "pca", "gmm", "pixelcnn")


def collapse_cause(config, kinds: str) -> str:
    """The clause that ends a mode collapse onto a few ``kinds`` ("modes", "kinds of image"),
    lower case, no full stop: a GAN's fool its discriminator; a family with no discriminator
    has none to fool, it under-draws the rest."""
    family = cfg_value(config, "model.family", "gan")
    if family in FAMILIES_WITHOUT_D:
        return (
            f"the model (model.family = {family}, no discriminator) draws some {kinds} far less "
            "often than the data holds them"
        )
    return f"it has collapsed onto a few {kinds} that fool the current discriminator"


def not_adversarial_reason(config) -> str:
    """Why the adversarial checks do not read a run that is not a plain GAN: it has no D, or
    its D logs other read-outs than those the checks are calibrated on (InfoGAN, pix2pix, the
    semi-supervised GAN)."""
    family = cfg_value(config, "model.family", "gan")
    if family in FAMILIES_WITHOUT_D:
        return f"model.family = {family} has no discriminator"
    return (
        f"the adversarial checks are calibrated on the plain GAN's logs "
        f"(model.family = gan), not on model.family = {family}'s"
    )


def adversarial(config) -> bool:
    """Whether the run is a GAN (``model.family`` gan, the default), whose D the adversarial
    checks read."""
    return cfg_value(config, "model.family", "gan") == "gan"


def total_steps(rows: list[dict], config) -> int:
    """The run's length: ``train.steps`` (or the last logged step, if beyond); 0 for no rows."""
    steps = [r["step"] for r in rows if finite(r.get("step"))]
    last = int(max(steps)) if steps else 0
    return max(last, int(cfg_value(config, "train.steps", 0) or 0)) if last else 0


def num(x) -> float | None:
    """``x`` rounded for the evidence, or None where it is not a finite number."""
    return round(float(x), 6) if finite(x) else None


def failure(name, first, last, evidence, explanation, advice) -> dict[str, Any]:
    """One detected failure, as ``diagnosis.json`` lists it."""
    return {
        "name": name,
        "first_step": int(first),
        "last_step": int(last),
        "evidence": evidence,
        "explanation": explanation,
        "advice": advice,
    }


def is_image_run(rows: list[dict], config) -> bool:
    """Whether the run trained on images: ``data.name`` is not a toy (digits, mnist, ...); with
    no data name (no config), whether its evaluations logged an FID (``fid_S``)."""
    name = cfg_value(config, "data.name", "")
    if name:
        return name not in toy_names()
    return any(k.startswith("fid_") for r in rows for k in r)


def second_half(rows: list[dict], total: int, *keys: str) -> list[dict]:
    """The rows after step ``total / 2`` where every one of ``keys`` is a finite number."""
    return [
        r
        for r in rows
        if finite(r.get("step")) and r["step"] > total / 2 and all(finite(r.get(k)) for k in keys)
    ]


@dataclass(frozen=True)
class Verdict:
    """What one detector concluded: a ``failure`` it found, or that it could not judge the run
    (``reason``, one phrase), or neither: it judged the run and found no failure ("ok")."""

    failure: dict[str, Any] | None = None
    reason: str | None = None

    @property
    def status(self) -> str:
        """``"failed"``, ``"ok"`` or ``"not checked: <reason>"`` (``diagnosis.json``'s checks)."""
        if self.failure is not None:
            return "failed"
        return f"not checked: {self.reason}" if self.reason else "ok"


OK = Verdict()


def failed(found: dict[str, Any]) -> Verdict:
    return Verdict(failure=found)


def unchecked(reason: str) -> Verdict:
    """The detector could not judge the run, for ``reason`` (a phrase without a final stop)."""
    return Verdict(reason=reason)
