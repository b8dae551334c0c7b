"""Leave-one-out 1-nearest-neighbour two-sample test (Lopez-Paz & Oquab 2017; used as a GAN
metric by Xu et al. 2018, "An empirical study on evaluation metrics of GANs").

Pool the real and fake samples, label each by its origin, and classify every sample by the label
of its nearest *other* sample. The accuracy is about 0.5 when the two sets come from one
distribution, tends to 1 when they are separable, and falls below 0.5 when fakes sit on top of
reals (memorisation: each real's nearest neighbour is its copy).
"""

from __future__ import annotations

import torch

from gankit.errors import GankitError
from gankit.metrics.checks import check_feature_pair
from gankit.metrics.nearest import knn


def one_nn_accuracy(real, fake) -> float:
    """Leave-one-out 1-NN accuracy of ``real (N, d)`` vs ``fake (M, d)``; 0.5 is ideal.

    Exact distance ties are broken arbitrarily.
    Raises `GankitError` with fewer than 2 samples on a side.
    """
    r, f = check_feature_pair(real, fake, ("real", "fake"))
    if r.shape[0] < 2 or f.shape[0] < 2:
        raise GankitError(
            f"1-NN accuracy needs at least 2 real and 2 fake samples, got {r.shape[0]} and "
            f"{f.shape[0]}"
        )
    x = torch.cat([torch.from_numpy(r), torch.from_numpy(f)])
    labels = torch.cat(
        [torch.ones(r.shape[0], dtype=torch.bool), torch.zeros(f.shape[0], dtype=torch.bool)]
    )
    _, idx = knn(x, x, 1, exclude_self=True)
    return float((labels[idx[:, 0]] == labels).double().mean())
