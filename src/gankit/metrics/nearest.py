"""Nearest neighbours in feature space: the chunked k-NN machinery PRDC and 1-NN share, and the
memorisation check `nearest_neighbours`.

Distances are Euclidean, computed in float64 as ``sqrt(max(|a|^2 + |b|^2 - 2 a.b, 0))`` in
row chunks, so two sets of 50,000 never need a 50,000 x 50,000 matrix at once.
"""

from __future__ import annotations

import numpy as np
import torch

from gankit.errors import GankitError
from gankit.metrics.checks import check_feature_pair, check_features, check_positive_int

CHUNK = 2048


def pairwise_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distances ``(n_a, n_b)`` between float64 rows of ``a`` and ``b``."""
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return sq.clamp_min_(0.0).sqrt_()


def iter_distance_chunks(query: torch.Tensor, ref: torch.Tensor, chunk: int | None = None):
    """Yield ``(start, distances (chunk, n_ref))`` over row chunks of ``query``."""
    chunk = chunk or CHUNK
    for start in range(0, query.shape[0], chunk):
        yield start, pairwise_distances(query[start : start + chunk], ref)


def knn(query, ref, k: int, exclude_self: bool = False, chunk: int | None = None):
    """The ``k`` nearest rows of ``ref`` for each row of ``query``: ``(distances, indices)``,
    each ``(n_query, k)``, sorted by distance. With ``exclude_self`` (query is ref) a point is
    never its own neighbour (leave-one-out)."""
    q = torch.as_tensor(query, dtype=torch.float64)
    r = torch.as_tensor(ref, dtype=torch.float64)
    n_avail = r.shape[0] - (1 if exclude_self else 0)
    if k > n_avail:
        raise GankitError(f"k = {k} nearest neighbours asked, but only {n_avail} are available")
    dists, idxs = [], []
    for start, d in iter_distance_chunks(q, r, chunk):
        if exclude_self:
            rows = torch.arange(d.shape[0])
            d[rows, rows + start] = float("inf")
        v, i = torch.topk(d, k, dim=1, largest=False, sorted=True)
        dists.append(v)
        idxs.append(i)
    return torch.cat(dists), torch.cat(idxs)


def nearest_neighbours(generated, train, k: int = 1, held_out=None, n_pairs: int = 16) -> dict:
    """Memorisation check: how close generated samples lie to the training set.

    A generator that copies its training data puts samples closer to the training set than
    fresh data from the same distribution would lie. ``held_out`` (samples of the data
    distribution the model never saw) gives that baseline: the distance of each held-out sample
    to its nearest training sample (the data-copying comparison of Meehan et al. 2020).

    Parameters
    ----------
    generated : (n_gen, d) features of generated samples.
    train : (n_train, d) features of the training set.
    k : neighbours kept per generated sample.
    held_out : optional (n_held, d) features of data not used for training.
    n_pairs : how many (generated, nearest training) pairs to return for an image grid, the
        closest first (the most suspicious).

    Returns
    -------
    dict with ``distances`` and ``indices`` (n_gen, k) numpy arrays (into ``train``),
    ``median_distance`` (median distance of generated samples to their nearest training sample),
    ``pairs`` (list of ``{"generated": i, "train": j, "distance": d}``), and with ``held_out``:
    ``held_out_median_distance`` and ``ratio`` = median_distance / held_out_median_distance
    (well below 1 suggests copying; about 1 is what a model that generalises gives) and
    ``fraction_closer`` = share of generated samples closer to the training set than the 5 %
    quantile of held-out distances (about 0.05 for a model that does not copy).
    """
    g, t = check_feature_pair(generated, train, ("generated", "train"))
    k = check_positive_int(k, "k")
    n_pairs = check_positive_int(n_pairs, "n_pairs", minimum=0)
    d, i = knn(g, t, k)
    d_np, i_np = d.numpy(), i.numpy()
    nearest = d_np[:, 0]
    order = np.argsort(nearest, kind="stable")[:n_pairs]
    out = {
        "distances": d_np,
        "indices": i_np,
        "median_distance": float(np.median(nearest)),
        "pairs": [
            {"generated": int(j), "train": int(i_np[j, 0]), "distance": float(nearest[j])}
            for j in order
        ],
    }
    if held_out is not None:
        h = check_features(held_out, "held_out")
        if h.shape[1] != t.shape[1]:
            raise GankitError(
                f"held_out has {h.shape[1]} feature dimensions but train has {t.shape[1]}"
            )
        hd = knn(h, t, 1)[0].numpy()[:, 0]
        h_med = float(np.median(hd))
        out["held_out_median_distance"] = h_med
        out["ratio"] = out["median_distance"] / h_med if h_med > 0 else float("inf")
        out["fraction_closer"] = float(np.mean(nearest < np.quantile(hd, 0.05)))
    return out
