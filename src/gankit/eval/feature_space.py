"""Which network image metrics are computed in, named in every metric key (``fid_<space>``),
so that numbers from different networks are never confused (`docs/image-runs.md`).

``log.features``: ``digits`` (the shipped 8x8 digits net), ``inception`` (FID Inception-v3 from
``log.inception_weights``, never downloaded), ``classifier`` (a small CNN gankit trains once on
the labelled training split, held-out accuracy reported, cached under a hash of the data:
`gankit.metrics.features.classifier`), or ``auto``: digits for the digits, inception where
weights are given, else the classifier. An unlabelled dataset without Inception weights has no
feature space, and is refused with the two ways out.

`gankit fid` and `gankit features` reach the same spaces (`gankit.eval.suite`): `dataset_setting`
builds the config and data a run of a dataset's preset evaluates on, `run_setting` a run's own,
and `resolve_feature_space` then gives exactly the network that run's metrics are in (a
classifier: the same cache entry, the same ``fid_<space>`` name).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

from gankit import config as config_mod
from gankit import runs
from gankit.config import Config
from gankit.data.sources import ImageData, data_kind, load_image_data
from gankit.errors import GankitError
from gankit.metrics.features import Extractor, get_extractor
from gankit.metrics.features.classifier import DEFAULT_FEATURE_DIM, classifier_extractor
from gankit.metrics.features.digits import FEATURE_DIM as DIGITS_FEATURE_DIM
from gankit.metrics.features.inception import FEATURE_DIM as INCEPTION_FEATURE_DIM
from gankit.metrics.kid import rms_scale


@dataclass
class FeatureSpace:
    """An extractor and the name its metrics carry; ``classes``: whether its logits are the
    dataset's classes (a class histogram means something); ``info``: how it was made."""

    extractor: Extractor
    name: str
    classes: bool
    info: dict = field(default_factory=dict)


def space_name(data_name: str) -> str:
    """A dataset's name as a metric-key suffix (``fashion-mnist`` -> ``fashion_mnist``)."""
    return data_name.replace("-", "_")


def _choice(config: Config, data: ImageData) -> str:
    choice = config.log.features
    if choice != "auto":
        return choice
    if data.name == "digits" and data.shape == (1, 8, 8):
        return "digits"
    if config.log.inception_weights:
        return "inception"
    if data.num_classes >= 2:
        return "classifier"
    raise GankitError(
        f"log.features: {data.name} at {config.data.path or '(no path)'} has no labels, so "
        "gankit cannot train its feature space; give Inception weights (--set "
        "log.inception_weights=FILE) or sort the images into one sub-folder per class"
    )


#: seconds between two progress lines of a feature network's training
PROGRESS_SECONDS = 10.0


def epoch_lines(name: str, every: float = PROGRESS_SECONDS):
    """A classifier's per-epoch report as a line on stderr at most every ``every`` seconds (and
    at its last epoch): its minutes of training are never silent, and a short one says
    nothing."""
    last = [time.monotonic()]

    def report(info: dict) -> None:
        now = time.monotonic()
        if now - last[0] < every and info["epoch"] < info["epochs"]:
            return
        if info["epoch"] == info["epochs"] and info["seconds"] < every:
            return
        last[0] = now
        print(
            f"gankit: feature space '{name}': epoch {info['epoch']}/{info['epochs']}, "
            f"loss {info['loss']:.4f}, {info['seconds']:.0f} s",
            file=sys.stderr,
            flush=True,
        )

    return report


#: the space whose KID is reported unscaled, as torch-fidelity and clean-fid report it
UNSCALED_KID_SPACE = "inception"


def kid_scale(space: str, reference) -> float:
    """What KID's features are divided by in ``space``: 1 for Inception (its pool features'
    entries are already of order 1, and its KID stays comparable with the peers'), else the
    root-mean-square entry of the ``reference`` features (the held-out split of a run, the
    real or first source of `gankit fid`), so that a classifier space's KID reads in
    Inception's range instead of thousands (`gankit.metrics.kid`)."""
    return 1.0 if space == UNSCALED_KID_SPACE else rms_scale(reference)


def planned_space(config: Config, data: ImageData) -> tuple[str, int]:
    """``(name, dimensions)`` of the feature space `resolve_feature_space` will give, known
    before any network is trained or loaded: the size checks run first (a folder too small
    for FID is refused before a classifier trains on it)."""
    choice = _choice(config, data)
    if choice == "digits":
        return "digits", DIGITS_FEATURE_DIM
    if choice == "inception":
        return "inception", INCEPTION_FEATURE_DIM
    return space_name(data.name), DEFAULT_FEATURE_DIM


def resolve_feature_space(config: Config, data: ImageData, device="cpu") -> FeatureSpace:
    """The feature space of an image run (see the module docstring); the classifier is trained
    here the first time (a few CPU minutes for MNIST), then loaded from the cache."""
    choice = _choice(config, data)
    if choice == "digits":
        if data.shape != (1, 8, 8):
            raise GankitError(
                f"log.features = 'digits': the digits net reads 1x8x8 images, these are "
                f"{'x'.join(map(str, data.shape))}"
            )
        return FeatureSpace(get_extractor("digits", device=device), "digits", True)
    if choice == "inception":
        if not config.log.inception_weights:
            raise GankitError(
                "log.features = 'inception' needs log.inception_weights (a local "
                "pt_inception-2015-12-05-6726825d.pth; gankit never downloads it)"
            )
        extractor = get_extractor(
            "inception", inception_weights=config.log.inception_weights, device=device
        )
        return FeatureSpace(extractor, "inception", False)
    if data.num_classes < 2:
        raise GankitError(
            f"log.features = 'classifier': {data.name} has no labels to train a classifier on"
        )
    name = space_name(data.name)
    print(
        f"gankit: feature space '{name}': a classifier of the training split (trained once, "
        "then read from the cache: a few CPU minutes for MNIST)",
        file=sys.stderr,
    )
    extractor, info = classifier_extractor(
        data.train.images,
        data.train.labels,
        data.heldout.images,
        data.heldout.labels,
        name=name,
        device=device,
        progress=epoch_lines(name),
    )
    print(
        f"gankit: feature space '{name}': held-out accuracy {info['heldout_accuracy']:.4f}"
        + (" (cached)" if info["cached"] else f" (trained in {info['seconds']:.0f} s)"),
        file=sys.stderr,
    )
    return FeatureSpace(extractor, name, True, info)


def lazy_feature_space(config: Config, data: ImageData, device="cpu"):
    """``space()``: `resolve_feature_space` of ``data``, resolved at the first call and kept
    (a family whose classifier judges its outputs pays for it only where it evaluates)."""
    held: list[FeatureSpace] = []

    def space() -> FeatureSpace:
        if not held:
            held.append(resolve_feature_space(config, data, device))
        return held[0]

    return space


#: the datasets whose classifier feature space `gankit fid --features NAME` takes by name: the
#: one a run of the dataset's preset (``gankit train --preset NAME``) evaluates in
CLASSIFIER_DATASETS = ("mnist", "fashion-mnist", "cifar10", "image-folder")


def dataset_setting(name: str, data_path) -> tuple[Config, ImageData]:
    """The config and data of ``gankit train --preset NAME --set data.path=DATA_PATH``, with
    ``log.features = classifier``: `resolve_feature_space` of them is the classifier space that
    run's metrics (``fid_<name>``) are in, read from the same cache entry (the key is a hash of
    the splits, which the preset's data settings make). Nothing of the preset but its data
    matters; ``name`` is one of `CLASSIFIER_DATASETS` (each has a preset of that name)."""
    if name not in CLASSIFIER_DATASETS:
        raise GankitError(
            f"--features {name!r}: not a dataset with a classifier feature space; known: "
            f"{', '.join(CLASSIFIER_DATASETS)}"
        )
    if data_path is None or not str(data_path).strip():
        raise GankitError(
            f"--features {name} needs --data-path DIR: where the {name} data is (the data.path "
            "its runs train on); none is assumed"
        )
    config = config_mod.resolve(
        preset=name, shorthands={"data.path": str(data_path), "log.features": "classifier"}
    )
    data = load_image_data(config.data)
    if data.num_classes < 2:
        raise GankitError(
            f"--features {name}: {data_path} has no labels (class sub-folders), so no classifier "
            "feature space; use --features inception with --inception-weights FILE"
        )
    return config, data


def run_setting(run, data_path=None, inception_weights=None) -> tuple[Config, ImageData]:
    """A run's config (``RUN/config.toml``) and image data: `resolve_feature_space` of them is
    the space its metrics are in. ``data_path``: where its data is now (else its
    ``data.path``); ``inception_weights``: where its Inception weights are now (used only if the
    run measured with Inception). A model family's own config section needs its recipe
    imported (`gankit.api` does)."""
    path = runs.require_run_dir(run, "--features")
    shorthands = {"data.path": None if data_path is None else str(data_path)}
    config = config_mod.resolve(config_file=path / runs.CONFIG, shorthands=shorthands)
    if data_kind(config.data) != "images":
        raise GankitError(
            f"--features {runs.shown(path)}: a run of toy data ({config.data.name}) has no "
            "image feature space"
        )
    if inception_weights and (config.log.features == "inception" or config.log.inception_weights):
        config.log.inception_weights = str(inception_weights)
    try:
        data = load_image_data(config.data)
    except GankitError as exc:
        if data_path is not None:
            raise
        raise GankitError(
            f"--features {runs.shown(path)}: its data ({config.data.name}): {exc} (moved? give "
            "--data-path DIR where it is now)"
        ) from None
    return config, data
