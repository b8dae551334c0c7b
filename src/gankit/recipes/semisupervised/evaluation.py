"""What the semi-supervised family measures: D's class predictions on the held-out split.

``heldout_accuracy``: the share of held-out images (``data.heldout``, never trained on) whose
class D predicts (the argmax of its K class logits) as their label. ``unlabelled_accuracy``:
the same on the training images D read without their labels (the unlabelled pool): a
validation signal that chooses settings without reading the held-out split (transductive, as
the pool is trained on, and as large as the training split). Both are joined to every
evaluation row (`gankit.eval.EvalState.family_metrics`) and to ``final_metrics.json``
(`LoadedRun.family_metrics`). The final evaluation also writes ``RUN/classes.npz`` (the
held-out confusion matrix and a few images per predicted class) for the report's section.
The supervised baseline has no G: its evaluator (`ClassifierEvaluator`) measures nothing of
samples, so its rows and final metrics are D's accuracy alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from gankit import runs
from gankit.data.checks import to_net
from gankit.data.grid import to_uint8
from gankit.eval import EvalState
from gankit.game.semisupervised import predicted_classes
from gankit.nets.latent import eval_mode

#: the file of the final evaluation's held-out predictions (read by the report)
CLASSES_FILE = "classes.npz"
#: images of each predicted class kept in ``classes.npz`` for the report's grid
SHOWN_PER_CLASS = 10
#: images D classifies per forward pass
CLASSIFY_BATCH = 1000


@torch.no_grad()
def classify(discriminator: nn.Module, images, device: torch.device | str = "cpu") -> np.ndarray:
    """``(N,)`` int64 class predictions of D (eval mode) for ``images`` ``(N, C, H, W)``
    (uint8, or float in [0, 1]), in batches of `CLASSIFY_BATCH`."""
    out = []
    with eval_mode(discriminator):
        for start in range(0, len(images), CLASSIFY_BATCH):
            x = to_net(images[start : start + CLASSIFY_BATCH]).to(device)
            out.append(predicted_classes(discriminator(x).float()).cpu())
    return torch.cat(out).numpy().astype(np.int64) if out else np.zeros(0, np.int64)


def confusion(labels: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    """``(k, k)`` int64 counts: row = true class, column = predicted class."""
    return np.bincount(labels * k + predicted, minlength=k * k).reshape(k, k).astype(np.int64)


def accuracy(discriminator: nn.Module, dataset, device="cpu") -> float:
    """The share of ``dataset``'s images (an `ImageDataset` with labels) D classifies right."""
    predicted = classify(discriminator, dataset.images, device)
    return float((predicted == dataset.labels).mean())


def accuracy_metrics(discriminator: nn.Module, data, unlabelled, device="cpu") -> dict[str, float]:
    """``heldout_accuracy`` of D on ``data.heldout`` and ``unlabelled_accuracy`` on
    ``unlabelled`` (the `ImageDataset` of the unlabelled pool, its labels never trained on)."""
    return {
        "heldout_accuracy": accuracy(discriminator, data.heldout, device),
        "unlabelled_accuracy": accuracy(discriminator, unlabelled, device),
    }


def write_classes(discriminator: nn.Module, data, run_dir: Path) -> None:
    """``RUN/classes.npz``: ``confusion (K, K)`` on the held-out split, ``shown`` uint8 images
    (up to `SHOWN_PER_CLASS` per predicted class, in the held-out order) with their
    ``shown_predicted`` and ``shown_labels``."""
    held = data.heldout
    predicted = classify(discriminator, held.images)
    k = int(data.num_classes)
    picks = np.concatenate(
        [np.flatnonzero(predicted == c)[:SHOWN_PER_CLASS] for c in range(k)]
    ).astype(np.int64)
    shown = to_uint8(held.images[picks]) if len(picks) else np.zeros((0, *data.shape), np.uint8)
    arrays = {
        "confusion": confusion(held.labels, predicted, k),
        "shown": np.asarray(shown, dtype=np.uint8),
        "shown_predicted": predicted[picks],
        "shown_labels": held.labels[picks],
    }
    runs.atomic_write_npz(Path(run_dir) / CLASSES_FILE, arrays)


class ClassifierEvaluator:
    """The supervised baseline's evaluator: nothing of samples (it has no G); its rows are the
    family's metrics alone (`gankit.eval.evaluate_state` adds them), its headline D's
    held-out accuracy."""

    kind = "images"
    headline = "heldout_accuracy"

    def __call__(self, state: EvalState) -> dict[str, float]:
        return {}

    def snapshot(self, state: EvalState, run_dir: Path) -> None:
        pass

    def final(self, samples: Tensor, run_dir=None, redraw=None, classes=None) -> dict[str, float]:
        return {}
