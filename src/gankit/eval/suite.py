"""Image sources in, metric values out: what `gankit fid`, `gankit features` and
`gankit evaluate` call.

`DEFAULTS` is the one source of defaults for this API and the CLI. Feature spaces: ``"auto"``
picks the shipped digits net for 1 x 8 x 8 images and the FID Inception-v3 otherwise (which
needs ``inception_weights``); a dataset's name (``"mnist"``, ``"fashion-mnist"``, ``"cifar10"``,
``"image-folder"``, with ``data_path``) is the classifier space a run of its preset measures in,
and a run directory the space that run's metrics are in (`gankit.eval.feature_space`): a
classifier is trained the first time (minutes on a CPU for MNIST), then read from the cache.
`image_metrics` computes every image metric that can mean something for the given samples and
lists the others under ``"refused"`` with the reason, instead of failing as a whole or printing
a meaningless number.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from gankit import runs
from gankit.data.checks import check_images
from gankit.data.images import load_images
from gankit.errors import GankitError
from gankit.eval.feature_space import (
    CLASSIFIER_DATASETS,
    dataset_setting,
    kid_scale,
    planned_space,
    resolve_feature_space,
    run_setting,
)
from gankit.metrics.features import (
    cache_key,
    cached_stats,
    data_hash,
    extract_features,
    get_extractor,
)
from gankit.metrics.fid import check_fid_sample_count, fid
from gankit.metrics.frechet import frechet_distance
from gankit.metrics.inception_score import inception_score
from gankit.metrics.kid import KID_DEFAULTS, kid
from gankit.metrics.nearest import nearest_neighbours
from gankit.metrics.one_nn import one_nn_accuracy
from gankit.metrics.prdc import precision_recall_density_coverage
from gankit.metrics.streaming import GaussianStats

DEFAULTS = {
    "features": "auto",
    "resize": "tf1",
    "batch_size": None,  # None: the extractor's own (50 for Inception)
    "kid_subsets": KID_DEFAULTS["subsets"],
    "kid_subset_size": KID_DEFAULTS["subset_size"],
    "prdc_k": 5,
    "is_splits": 10,
    "seed": 0,
}
#: the named feature spaces (besides a run directory: the space of that run's metrics)
FEATURE_CHOICES = ("auto", "inception", "digits", *CLASSIFIER_DATASETS)


def as_images(source, name: str = "images") -> np.ndarray:
    """An image source (path, ``"digits"``, array or tensor) as checked ``(N, C, H, W)``."""
    if isinstance(source, (str, Path)):
        return load_images(source, name=str(source))
    return check_images(source, name).numpy()


def _is_run(features) -> bool:
    return (
        isinstance(features, (str, Path))
        and str(features) not in FEATURE_CHOICES
        and runs.is_run_dir(Path(features))
    )


def resolve_extractor(
    features,
    images: np.ndarray | None = None,
    inception_weights=None,
    resize: str = DEFAULTS["resize"],
    device="cpu",
    data_path=None,
    before: Callable[[int], None] | None = None,
):
    """``"auto"`` -> digits for 1 x 8 x 8 images, else inception; a dataset of
    `CLASSIFIER_DATASETS` (its data at ``data_path``) -> the classifier space a run of its
    preset measures in; a run directory -> the space its metrics are in (``data_path``: where
    its data is now, if moved); otherwise names and modules as `get_extractor` takes them.

    For a dataset or a run, ``images`` are checked against the space's image shape and
    ``before(dimensions)`` is called before any network is trained or loaded (a classifier
    trains for minutes the first time): the place to refuse too few samples first. The
    extractor is named as the run's metric keys are (``mnist``, ``fashion_mnist``...)."""
    if isinstance(features, str) and features in CLASSIFIER_DATASETS:
        config, data = dataset_setting(features, data_path)
    elif _is_run(features):
        config, data = run_setting(features, data_path, inception_weights)
    else:
        if data_path is not None:
            raise GankitError(
                f"--data-path: only with --features {'/'.join(CLASSIFIER_DATASETS)} or a run "
                f"directory (where a classifier space's data is), not with {features!r}"
            )
        if isinstance(features, str) and features == "auto":
            digits_like = images is not None and tuple(images.shape[1:]) == (1, 8, 8)
            features = "digits" if digits_like else "inception"
        return get_extractor(
            features, inception_weights=inception_weights, resize=resize, device=device
        )
    name, dim = planned_space(config, data)
    if name not in ("inception", "digits") and images is not None:
        if tuple(images.shape[1:]) != tuple(data.shape):
            raise GankitError(
                f"the {name} feature network needs {' x '.join(map(str, data.shape))} images "
                f"(C x H x W, as its training data), got {' x '.join(map(str, images.shape[1:]))}"
            )
    if before is not None:
        before(dim)
    return resolve_feature_space(config, data, device).extractor


def source_stats(
    images: np.ndarray,
    extractor,
    batch_size: int | None = DEFAULTS["batch_size"],
    cache_dir=None,
    use_cache: bool = True,
) -> tuple[GaussianStats, bool]:
    """Float64 Gaussian statistics of a source's features, streamed batch by batch (features
    are never all held at once) and cached under a hash of data + extractor identity."""

    batch_size = batch_size or extractor.batch_size

    def compute() -> GaussianStats:
        stats = GaussianStats()
        for start in range(0, images.shape[0], batch_size):
            feats, _ = extractor(images[start : start + batch_size])
            stats.update(feats)
        return stats

    if not use_cache:
        return compute(), False
    key = cache_key(data=data_hash(images), extractor=extractor.identity)
    return cached_stats(key, compute, cache_dir)


#: `fid_between`'s KID reads at most this many images of each side (the first ones)
KID_MAX = 5000


def fid_between(
    a,
    b,
    features=DEFAULTS["features"],
    inception_weights=None,
    resize: str = DEFAULTS["resize"],
    batch_size: int | None = DEFAULTS["batch_size"],
    cache_dir=None,
    use_cache: bool = True,
    device="cpu",
    data_path=None,
    with_kid: bool = False,
) -> dict:
    """FID between two image sources, in the feature space ``features`` names (see
    `resolve_extractor`; ``data_path``: a dataset's or a moved run's data). Returns ``{"fid",
    "features", "n_a", "n_b", "feature_dim", "cached_a", "cached_b"}``; raises `GankitError`
    when FID cannot mean anything (too few samples for the feature dimension, mismatched
    images...). ``with_kid``: also ``kid``, ``kid_std``, ``kid_subset_size`` and ``kid_scale``
    (on the first `KID_MAX` images of each side, A's `kid_scale`), and too few samples for FID
    give ``fid`` None and the reason as ``fid_refused`` instead of an error."""
    img_a, img_b = as_images(a, "A"), as_images(b, "B")

    def enough(dim: int) -> None:
        check_fid_sample_count(img_a.shape[0], dim, "A")
        check_fid_sample_count(img_b.shape[0], dim, "B")

    extractor = resolve_extractor(
        features,
        img_a,
        inception_weights,
        resize,
        device,
        data_path,
        before=None if with_kid else enough,
    )
    out: dict = {"fid": None, "features": extractor.name, "n_a": len(img_a), "n_b": len(img_b)}
    stats_a, hit_a = source_stats(img_a, extractor, batch_size, cache_dir, use_cache)
    stats_b, hit_b = source_stats(img_b, extractor, batch_size, cache_dir, use_cache)
    out.update(feature_dim=stats_a.n_features, cached_a=hit_a, cached_b=hit_b)
    try:
        check_fid_sample_count(stats_a.n, stats_a.n_features, "A")
        check_fid_sample_count(stats_b.n, stats_b.n_features, "B")
    except GankitError as exc:
        if not with_kid:
            raise
        out["fid_refused"] = str(exc)
    else:
        out["fid"] = frechet_distance(stats_a.mean, stats_a.cov, stats_b.mean, stats_b.cov)
    if with_kid:
        fa, _ = extract_features(img_a[:KID_MAX], extractor, batch_size)
        fb, _ = extract_features(img_b[:KID_MAX], extractor, batch_size)
        size = min(KID_DEFAULTS["subset_size"], len(fa), len(fb))
        scale = kid_scale(extractor.name, fa)
        out["kid"], out["kid_std"] = kid(fa, fb, subset_size=size, generator=0, scale=scale)
        out.update(kid_subset_size=size, kid_scale=scale)
    return out


def class_histogram(logits: np.ndarray) -> list[int]:
    """Counts of the arg-max class of each row of ``logits (N, K)``."""
    return np.bincount(np.asarray(logits).argmax(1), minlength=logits.shape[1]).tolist()


def image_metrics(
    real,
    fake,
    features=DEFAULTS["features"],
    inception_weights=None,
    train=None,
    resize: str = DEFAULTS["resize"],
    batch_size: int | None = DEFAULTS["batch_size"],
    kid_subsets: int = DEFAULTS["kid_subsets"],
    kid_subset_size: int | None = None,
    prdc_k: int = DEFAULTS["prdc_k"],
    is_splits: int = DEFAULTS["is_splits"],
    seed: int = DEFAULTS["seed"],
    device="cpu",
    data_path=None,
) -> dict:
    """FID, KID, IS, PRDC, 1-NN accuracy (and nearest neighbours when ``train`` is given)
    of generated images ``fake`` against reference images ``real``, in one feature space.

    ``real`` plays the held-out role for the memorisation check: pass the *training* images as
    ``train`` and images the model never saw as ``real``. ``kid_subset_size`` None means
    ``min(1000, n_real, n_fake)`` (the value used is reported); KID's features are divided by
    ``kid_scale`` (`gankit.eval.feature_space.kid_scale` of ``real``, reported). Metrics that
    cannot be computed appear under ``"refused"`` as ``{name: reason}``. ``features``,
    ``data_path``: as `resolve_extractor` takes them.
    """
    img_r, img_f = as_images(real, "real"), as_images(fake, "fake")
    extractor = resolve_extractor(features, img_r, inception_weights, resize, device, data_path)
    fr, lr = extract_features(img_r, extractor, batch_size)
    ff, lf = extract_features(img_f, extractor, batch_size)
    out: dict = {
        "features": extractor.name,
        "feature_dim": int(fr.shape[1]),
        "n_real": int(fr.shape[0]),
        "n_fake": int(ff.shape[0]),
        "refused": {},
    }

    def attempt(name, fn):
        try:
            fn()
        except GankitError as exc:
            out["refused"][name] = str(exc)

    def do_fid():
        out["fid"] = fid(fr, ff)

    def do_kid():
        size = kid_subset_size or min(KID_DEFAULTS["subset_size"], len(fr), len(ff))
        scale = kid_scale(extractor.name, fr)
        out["kid_mean"], out["kid_std"] = kid(
            fr, ff, subsets=kid_subsets, subset_size=size, generator=seed, scale=scale
        )
        out["kid_subset_size"], out["kid_scale"] = size, scale

    def do_is():
        out["is_mean"], out["is_std"] = inception_score(lf, splits=is_splits)

    def do_prdc():
        out.update(precision_recall_density_coverage(fr, ff, k=prdc_k))

    def do_one_nn():
        out["one_nn_accuracy"] = one_nn_accuracy(fr, ff)

    for name, fn in (
        ("fid", do_fid),
        ("kid", do_kid),
        ("inception_score", do_is),
        ("prdc", do_prdc),
        ("one_nn_accuracy", do_one_nn),
    ):
        attempt(name, fn)
    if lf is not None:
        out["class_histogram_fake"] = class_histogram(lf)
        out["class_histogram_real"] = class_histogram(lr)
    if train is not None:
        img_t = as_images(train, "train")
        ft, _ = extract_features(img_t, extractor, batch_size)

        def do_nn():
            nn_out = nearest_neighbours(ff, ft, k=1, held_out=fr)
            out["nearest"] = {k: v for k, v in nn_out.items() if k not in ("distances", "indices")}

        attempt("nearest_neighbours", do_nn)
    return out
