"""Diagnosis of a run from its plain files: which classic GAN failure happened, when, why, and
what remedies it, and which checks could not be made and why (`gankit.diagnose.detectors`; image
runs: `images`; shared swing statistics: `signals`; `advice`, `writer`)."""

from gankit.diagnose.common import Verdict
from gankit.diagnose.detectors import (
    CHECKS,
    DETECTORS,
    detect_discriminator_overfit,
    detect_diverged,
    detect_mode_collapse,
    detect_non_convergence,
    detect_vanishing_gradients,
    diagnose,
)
from gankit.diagnose.writer import summary, write_diagnosis
from gankit.runs import DIAGNOSIS

__all__ = [
    "CHECKS",
    "DETECTORS",
    "DIAGNOSIS",
    "Verdict",
    "detect_discriminator_overfit",
    "detect_diverged",
    "detect_mode_collapse",
    "detect_non_convergence",
    "detect_vanishing_gradients",
    "diagnose",
    "summary",
    "write_diagnosis",
]
