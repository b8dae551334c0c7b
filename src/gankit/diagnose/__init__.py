"""Diagnosis of a run from its plain files: which classic GAN failure happened, when, why, and
what remedies it (`gankit.diagnose.detectors`, `advice`, `writer`)."""

from gankit.diagnose.detectors import (
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
    "DETECTORS",
    "DIAGNOSIS",
    "detect_discriminator_overfit",
    "detect_diverged",
    "detect_mode_collapse",
    "detect_non_convergence",
    "detect_vanishing_gradients",
    "diagnose",
    "summary",
    "write_diagnosis",
]
