"""Discriminator overfitting: does D tell its training data from fresh data of the same density?

Karras et al. (2020), "Training generative adversarial networks with limited data", sec. 2.3,
measure it with a validation set: ``r_v = (E[D_train] - E[D_val]) / (E[D_train] - E[D_gen])``,
0 when D scores unseen real data like its training data, 1 when it scores it like generated
data (it has memorised the training set rather than learned the density). On a toy the
validation set is free: fresh samples of the true density.
"""

from __future__ import annotations

import torch
from torch import Tensor

#: below this gap between training and generated read-outs r_v is noise, and is not reported
MIN_SEPARATION = 1e-3


def overfit_ratio(d_train: Tensor, d_heldout: Tensor, d_gen: Tensor) -> dict[str, float]:
    """D's mean read-outs on training, held-out and generated samples (each ``(n,)``, any n) and
    ``r_v``; ``d_overfit`` is left out where D does not separate training from generated data
    (``|E[D_train] - E[D_gen]| < MIN_SEPARATION``), since the ratio is then undefined."""
    train, held, gen = (
        float(torch.as_tensor(x).double().mean()) for x in (d_train, d_heldout, d_gen)
    )
    out = {"d_train": train, "d_heldout": held, "d_gen": gen}
    if abs(train - gen) >= MIN_SEPARATION:
        out["d_overfit"] = (train - held) / (train - gen)
    return out
