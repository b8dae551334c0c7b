"""Feature spaces for the metrics: the FID Inception-v3 (user-supplied weights), the shipped
digits net, or any ``nn.Module``; plus the reference-statistics cache."""

from gankit.metrics.features.cache import cache_key, cached_stats, data_hash
from gankit.metrics.features.registry import (
    DEFAULT_BATCH_SIZE,
    EXTRACTORS,
    Extractor,
    extract_features,
    get_extractor,
    register_extractor,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "EXTRACTORS",
    "Extractor",
    "cache_key",
    "cached_stats",
    "data_hash",
    "extract_features",
    "get_extractor",
    "register_extractor",
]
