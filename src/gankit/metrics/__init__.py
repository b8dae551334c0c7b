"""Metrics: pure functions from features (or logits) to numbers, and streaming wrappers.

Feature arrays are ``(n_samples, n_features)``, numpy or torch; everything is computed in
float64. Every function refuses (`gankit.errors.GankitError`) input on which its value would
mean nothing. Feature extractors (Inception-v3 for FID, the shipped digits net, any
``nn.Module``) live in `gankit.metrics.features`.
"""

from gankit.metrics.divergences import (
    js_divergence_binned,
    ks_distance,
    moments,
    toy_metrics,
    wasserstein1_1d,
    wasserstein1_ot,
)
from gankit.metrics.features.streaming_fid import StreamingFID
from gankit.metrics.fid import fid, gaussian_stats
from gankit.metrics.frechet import frechet_distance
from gankit.metrics.inception_score import inception_score
from gankit.metrics.kid import KID_DEFAULTS, kid
from gankit.metrics.modes import mode_metrics
from gankit.metrics.nearest import nearest_neighbours
from gankit.metrics.one_nn import one_nn_accuracy
from gankit.metrics.prdc import precision_recall_density_coverage
from gankit.metrics.streaming import GaussianStats

__all__ = [
    "KID_DEFAULTS",
    "GaussianStats",
    "StreamingFID",
    "fid",
    "frechet_distance",
    "gaussian_stats",
    "inception_score",
    "js_divergence_binned",
    "ks_distance",
    "mode_metrics",
    "moments",
    "toy_metrics",
    "wasserstein1_1d",
    "wasserstein1_ot",
    "kid",
    "nearest_neighbours",
    "one_nn_accuracy",
    "precision_recall_density_coverage",
]
