"""What BiGAN / ALI's encoder learned, measured at every evaluation and at the end of a run
(Donahue et al. 2017, sec. 4: reconstructions and the features of E on a supervised task).

Images, on the held-out split (the first ``bigan.eval_heldout`` images during training, all of
them at the end):

- ``reconstruction_l2``: the mean squared error per pixel (in [0, 1]) of ``G(E(x))`` against
  ``x``; E's mean for ALI's stochastic encoder.
- ``reconstruction_agreement``: the share of held-out images whose reconstruction the run's
  feature net (the image evaluator's space, `gankit.eval.feature_space`) labels as x's label;
  beside it ``reconstruction_agreement_real``, the share of the real x it labels right: the
  ceiling (an identity ``G(E(x)) = x`` scores exactly that).
- ``linear_probe_accuracy_encoder`` and ``linear_probe_accuracy_pixels``: held-out accuracy of a
  multinomial logistic regression (scikit-learn, features standardised) fitted on ``E(x)``, and
  on the raw pixels, of the same ``bigan.probe_train`` training images (the first of a fixed
  shuffle, the same for every seed).

Points (the toys): ``reconstruction_l2``, the mean squared error per coordinate in the data's
units of ``G(E(x))`` against `TOY_POINTS` fixed draws of the distribution.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import Tensor, nn

from gankit.data.checks import from_net, to_net
from gankit.eval.feature_space import FeatureSpace
from gankit.game.bigan import reconstruction_l2
from gankit.metrics.features import extract_features
from gankit.nets.latent import eval_mode

#: images (or points) per forward pass
BATCH = 1024
#: held-out points of a toy's reconstruction error, and their seed
TOY_POINTS = 2000
TOY_SEED = 2_718_281
#: the seed of the fixed shuffle of the training split the probes are fitted on
PROBE_SEED = 0
#: the logistic regression's iterations (lbfgs) and inverse regularisation
PROBE_MAX_ITER = 500
PROBE_C = 1.0


@torch.no_grad()
def encode(encoder: nn.Module, x: Tensor, batch: int = BATCH) -> Tensor:
    """``(N, z_dim)`` float32 CPU codes ``E(x)`` (the mean of a stochastic E) of ``x`` in the
    nets' units (images in [-1, 1]), E in eval mode."""
    device = next(encoder.parameters()).device
    out = []
    with eval_mode(encoder):
        for start in range(0, x.shape[0], batch):
            out.append(encoder(x[start : start + batch].to(device)).float().cpu())
    return torch.cat(out) if out else torch.zeros(0, encoder.z_dim)


@torch.no_grad()
def reconstruct(generator: nn.Module, encoder: nn.Module, x: Tensor, batch: int = BATCH) -> Tensor:
    """``G(E(x))``: float32 CPU reconstructions of ``x`` in the nets' units, both in eval
    mode."""
    device = next(generator.parameters()).device
    codes = encode(encoder, x, batch)
    out = []
    with eval_mode(generator):
        for start in range(0, codes.shape[0], batch):
            out.append(generator(codes[start : start + batch].to(device)).float().cpu())
    return torch.cat(out) if out else x[:0].float()


def classifier_agreement(space: FeatureSpace, images: Tensor, labels: np.ndarray) -> float:
    """The share of ``images`` (``(N, C, H, W)`` float in [0, 1]) that ``space``'s classifier
    labels as ``labels`` ``(N,)``."""
    _, logits = extract_features(images, space.extractor)
    return float((logits.argmax(1) == np.asarray(labels)).mean())


def linear_probe_accuracy(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    test_features: np.ndarray,
    test_labels: np.ndarray,
) -> float:
    """Held-out accuracy of a multinomial logistic regression (lbfgs, L2 with ``C = 1``) fitted
    on ``train_features (n, d)`` standardised by their own mean and std, with ``train_labels
    (n,)``; scored on ``test_features (m, d)`` (the same standardisation) against
    ``test_labels (m,)``."""
    from sklearn.exceptions import ConvergenceWarning  # heavy import (~1 s): only the probes
    from sklearn.linear_model import LogisticRegression  # heavy import (~1 s): only the probes

    train = np.asarray(train_features, dtype=np.float64).reshape(len(train_features), -1)
    test = np.asarray(test_features, dtype=np.float64).reshape(len(test_features), -1)
    mean, std = train.mean(0), train.std(0)
    std[std < 1e-8] = 1.0
    probe = LogisticRegression(C=PROBE_C, max_iter=PROBE_MAX_ITER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        probe.fit((train - mean) / std, np.asarray(train_labels))
    predicted = probe.predict((test - mean) / std)
    return float((predicted == np.asarray(test_labels)).mean())


class ImageMeasures:
    """The image metrics of the module docstring for one run's ``data`` (its splits read at
    the first call), ``space()`` giving the feature space (resolved when first asked), with
    the probe's training images and the pixel probe's accuracy kept between calls."""

    def __init__(self, data, space, probe_train: int):
        self.data, self.space, self.probe_train = data, space, probe_train
        self._train: tuple[Tensor, np.ndarray] | None = None
        self._pixels: dict[int, float] = {}
        self._real: dict[int, float] = {}

    def _probe_set(self) -> tuple[Tensor, np.ndarray] | None:
        """The first ``probe_train`` training images of a fixed shuffle, in the nets' units,
        and their labels; None for unlabelled data."""
        train = self.data.train
        if train.labels is None:
            return None
        if self._train is None:
            order = np.random.default_rng(PROBE_SEED).permutation(len(train.labels))
            keep = np.sort(order[: self.probe_train])
            self._train = (to_net(train.images[keep]), np.asarray(train.labels)[keep])
        return self._train

    def __call__(self, generator: nn.Module, encoder: nn.Module, limit: int | None) -> dict:
        heldout = self.data.heldout
        m = len(heldout.images) if limit is None else min(limit, len(heldout.images))
        x = to_net(heldout.images[:m])
        recon = from_net(reconstruct(generator, encoder, x))
        real = from_net(x)
        out = {"reconstruction_l2": float(reconstruction_l2(real, recon))}
        labels = None if heldout.labels is None else np.asarray(heldout.labels[:m])
        if labels is None:
            return out
        space = self.space()
        if space is not None and space.classes:
            out["reconstruction_agreement"] = classifier_agreement(space, recon, labels)
            if m not in self._real:
                self._real[m] = classifier_agreement(space, real, labels)
            out["reconstruction_agreement_real"] = self._real[m]
        probe = self._probe_set()
        if probe is not None:
            train_x, train_y = probe
            codes = encode(encoder, train_x).numpy()
            out["linear_probe_accuracy_encoder"] = linear_probe_accuracy(
                codes, train_y, encode(encoder, x).numpy(), labels
            )
            if m not in self._pixels:
                self._pixels[m] = linear_probe_accuracy(
                    from_net(train_x).numpy(), train_y, real.numpy(), labels
                )
            out["linear_probe_accuracy_pixels"] = self._pixels[m]
        return out


class ToyMeasures:
    """``reconstruction_l2`` of a toy run (see the module docstring) on `TOY_POINTS` fixed
    draws of ``data.distribution``."""

    def __init__(self, data):
        rng = torch.Generator().manual_seed(TOY_SEED)
        self.points = data.distribution.sample(TOY_POINTS, rng).float()

    def __call__(self, generator: nn.Module, encoder: nn.Module, limit: int | None) -> dict:
        recon = reconstruct(generator, encoder, self.points)
        return {"reconstruction_l2": float(reconstruction_l2(self.points, recon))}


def measures_for(data, space, probe_train: int):
    """`ImageMeasures` or `ToyMeasures` for ``data``'s kind."""
    if getattr(data, "kind", "toy") == "images":
        return ImageMeasures(data, space, probe_train)
    return ToyMeasures(data)
