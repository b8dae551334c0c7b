"""How well InfoGAN's categorical code found the classes it was never shown (Chen et al. 2016,
sec. 7.1), measured at every evaluation and at the end, and its latent traversals.

- ``code_class_accuracy``: ``infogan.eval_per_code`` images generated per code value (z and
  the continuous codes drawn), classified by the run's feature net (the image evaluator's
  space, `gankit.eval.feature_space`); the one-to-one matching of code values to classes that
  maximises agreement (Hungarian, `gankit.metrics.matching`) is ``code_class_matching``
  (code k -> class ``matching[k]``), and the accuracy is the share of images whose class is
  their code's matched class.
- ``q_heldout_accuracy``: Q's code (argmax of its logits, D and Q in eval mode) on every real
  held-out image, mapped to a class through ``code_class_matching``, the matching found on
  generated images with no label seen, against the image's true label: the honest number.
  ``q_heldout_accuracy_own_matching`` maps through the best matching on the held-out labels
  themselves (an upper bound: it reads the labels it is scored on, as clustering accuracy
  does).
- ``q_generated_accuracy``: the share of the generated images whose code Q reads back (no
  matching needed: how far Q and G agree).

`traversal_images`: rows = the categorical code's values, columns = one continuous code swept
from -2 to 2 (beyond the [-1, 1] of training, as the paper's fig. 2), the other codes at 0 and
one z for the whole grid; written at the end of a run as ``RUN/infogan/traversal-cJ.png``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from gankit import runs
from gankit.config import ModelConfig
from gankit.data.checks import from_net, to_net
from gankit.data.grid import labelled_rows, png_bytes
from gankit.errors import GankitError
from gankit.eval.feature_space import FeatureSpace
from gankit.metrics.features import extract_features
from gankit.metrics.matching import (
    apply_matching,
    best_matching,
    confusion_matrix,
    matched_accuracy,
)
from gankit.nets.infogan import InfoGenerator, QHead
from gankit.nets.latent import eval_mode, sample_noise
from gankit.recipes.infogan.config import InfoGanConfig
from gankit.recipes.infogan.step import generate_codes

#: the folder of a run's InfoGAN files (traversal grids)
INFOGAN_DIR = "infogan"
#: columns of a traversal: values of the swept code, evenly from -2 to 2
TRAVERSAL_STEPS = 9
TRAVERSAL_RANGE = 2.0
#: offset of the code metrics' stream from the evaluation's seed
CODE_SEED_OFFSET = 424_242


def traversal_file(j: int) -> str:
    """``infogan/traversal-cJ.png``: the traversal of continuous code ``j`` (0-based)."""
    return f"{INFOGAN_DIR}/traversal-c{j}.png"


def check_feature_space(space: FeatureSpace) -> None:
    """Refuse a feature space without class logits: the code cannot be matched to classes."""
    if not space.classes:
        raise GankitError(
            f"log.features: InfoGAN's code accuracy classifies generated images, and the "
            f"'{space.name}' space has no class logits; use log.features = digits or classifier"
        )


@torch.no_grad()
def q_codes(
    discriminator: nn.Module, q: QHead, images: Tensor, device="cpu", batch: int = 1024
) -> np.ndarray:
    """``(N,)`` int64: Q's categorical code (argmax of its logits) for images ``(N, C, H, W)``
    in [-1, 1], D and Q in eval mode."""
    out = []
    with eval_mode(discriminator), eval_mode(q):
        for start in range(0, images.shape[0], batch):
            x = images[start : start + batch].to(device)
            logits, _ = q(discriminator.features(x))
            out.append(logits.argmax(1).cpu())
    return torch.cat(out).numpy().astype(np.int64) if out else np.zeros(0, np.int64)


def classify(space: FeatureSpace, images: Tensor) -> tuple[np.ndarray, int]:
    """``(N,)`` int64: the feature net's class of images ``(N, C, H, W)`` in [-1, 1], and the
    number of classes its logits have."""
    _, logits = extract_features(from_net(images), space.extractor)
    return logits.argmax(1).astype(np.int64), int(logits.shape[1])


def code_matching(
    generator: InfoGenerator,
    model: ModelConfig,
    section: InfoGanConfig,
    space: FeatureSpace,
    rng: torch.Generator,
    device="cpu",
) -> tuple[dict, Tensor, Tensor]:
    """``code_class_accuracy`` and ``code_class_matching`` of images generated per code value
    (see the module docstring), and those images with their codes."""
    codes = torch.arange(section.categories).repeat_interleave(section.eval_per_code)
    images = generate_codes(generator, model, section, len(codes), rng, device, code=codes)
    predicted, classes = classify(space, images)
    confusion = confusion_matrix(codes.numpy(), predicted, section.categories, classes)
    matching = best_matching(confusion)
    metrics = {
        "code_class_accuracy": matched_accuracy(confusion, matching),
        "code_class_matching": [int(k) for k in matching],
    }
    return metrics, images, codes


def code_metrics(
    generator: InfoGenerator,
    discriminator: nn.Module,
    q: QHead,
    model: ModelConfig,
    section: InfoGanConfig,
    space: FeatureSpace,
    heldout_images,
    heldout_labels,
    rng: torch.Generator,
    device="cpu",
) -> dict:
    """Every key of the module docstring, one evaluation's worth (``heldout_images``: the
    held-out split as stored, ``(N, C, H, W)`` uint8 or float in [0, 1]; ``heldout_labels``:
    ``(N,)`` or None for unlabelled data, which has no Q accuracy)."""
    metrics, images, codes = code_matching(generator, model, section, space, rng, device)
    read = q_codes(discriminator, q, images, device)
    metrics["q_generated_accuracy"] = float((read == codes.numpy()).mean())
    if heldout_labels is not None and len(heldout_labels):
        labels = np.asarray(heldout_labels, dtype=np.int64)
        predicted = q_codes(discriminator, q, to_net(heldout_images), device)
        matching = np.asarray(metrics["code_class_matching"])
        metrics["q_heldout_accuracy"] = float(
            (apply_matching(predicted, matching) == labels).mean()
        )
        own = confusion_matrix(predicted, labels, section.categories, int(labels.max()) + 1)
        metrics["q_heldout_accuracy_own_matching"] = matched_accuracy(own, best_matching(own))
    return metrics


@torch.no_grad()
def traversal_images(
    generator: InfoGenerator,
    model: ModelConfig,
    section: InfoGanConfig,
    j: int,
    seed: int,
    steps: int = TRAVERSAL_STEPS,
) -> tuple[Tensor, Tensor]:
    """``(K * steps, C, H, W)`` float32 images in [-1, 1], row k (code value k) by column
    (continuous code ``j`` from -2 to 2, the others 0), one z from ``seed`` for all; and the
    ``(K * steps,)`` code of each."""
    k, m = section.categories, section.continuous
    rng = torch.Generator().manual_seed(seed)
    z = sample_noise(1, model.noise_dim, model.noise, rng).expand(k * steps, -1)
    code = torch.arange(k).repeat_interleave(steps)
    cont = torch.zeros(k * steps, m)
    cont[:, j] = torch.linspace(-TRAVERSAL_RANGE, TRAVERSAL_RANGE, steps).repeat(k)
    with eval_mode(generator):
        param = next(generator.parameters())
        images = generator(z.to(param.device), code.to(param.device), cont.to(param.device))
    return images.float().cpu(), code


def write_traversals(
    generator: InfoGenerator, model: ModelConfig, section: InfoGanConfig, run_dir: Path, seed: int
) -> list[Path]:
    """``RUN/infogan/traversal-cJ.png`` for every continuous code ``j`` (none without one);
    each row labelled with its code value."""
    written = []
    labels = [str(k) for k in range(section.categories)]
    for j in range(section.continuous):
        images, code = traversal_images(generator, model, section, j, seed)
        grid = labelled_rows(from_net(images), code.numpy(), labels)
        path = Path(run_dir) / traversal_file(j)
        runs.atomic_write_bytes(path, png_bytes(grid))
        written.append(path)
    return written
