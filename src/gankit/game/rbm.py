"""The Bernoulli-Bernoulli restricted Boltzmann machine as pure functions: energy, free energy,
conditionals, Gibbs steps, the contrastive-divergence gradient (Hinton 2002; persistent CD,
Tieleman 2008), pseudo-likelihood, and the partition function by annealed importance sampling
(Salakhutdinov & Murray 2008, "On the quantitative analysis of deep belief networks").

Conventions (scikit-learn's `BernoulliRBM`): visible units ``v`` ``(n, V)`` and hidden units
``h`` ``(n, H)`` in {0, 1} (visible means in [0, 1] are read as they are); weights ``W``
``(H, V)``; visible biases ``b`` ``(V,)``; hidden biases ``c`` ``(H,)``. The energy is

    E(v, h) = -b.v - c.h - h.W.v,    p(v, h) = exp(-E(v, h)) / Z,

so ``p(h_j = 1 | v) = sigmoid(c_j + W_j.v)``, ``p(v_i = 1 | h) = sigmoid(b_i + h.W[:, i])``, and
the free energy ``F(v) = -b.v - sum_j softplus(c_j + W_j.v)`` gives ``p(v) = exp(-F(v)) / Z``.
Every log-density is in nats, per example. Randomness comes from a passed `torch.Generator`
only; nothing here writes in place into its arguments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

#: Salakhutdinov & Murray (2008)'s schedule: 500 betas in [0, 0.5), 4,000 in [0.5, 0.9),
#: 10,000 in [0.9, 1]: the shares of `ais_betas`' three pieces
AIS_PIECES = ((0.0, 0.5, 500), (0.5, 0.9, 4000), (0.9, 1.0, 10000))
#: the pseudo-count that keeps the base-rate model's visible biases finite (a pixel always off
#: in the data gets log(eps / (1 - eps)))
BASE_RATE_SMOOTHING = 1e-3


def energy(v: Tensor, h: Tensor, W: Tensor, b: Tensor, c: Tensor) -> Tensor:
    """``E(v, h) = -b.v - c.h - h.W.v``: ``(n, V), (n, H) -> (n,)``."""
    return -(v @ b) - (h @ c) - ((h @ W) * v).sum(-1)


def hidden_preactivation(v: Tensor, W: Tensor, c: Tensor) -> Tensor:
    """``c + v W^T``: ``(n, V) -> (n, H)``, the hidden units' log-odds given ``v``."""
    return torch.addmm(c, v, W.t())


def free_energy(v: Tensor, W: Tensor, b: Tensor, c: Tensor) -> Tensor:
    """``F(v) = -b.v - sum_j softplus(c_j + W_j.v)``: ``(n, V) -> (n,)``, with
    ``log p(v) = -F(v) - log Z``."""
    return -(v @ b) - F.softplus(hidden_preactivation(v, W, c)).sum(-1)


def hidden_probs(v: Tensor, W: Tensor, c: Tensor) -> Tensor:
    """``p(h_j = 1 | v) = sigmoid(c_j + W_j.v)``: ``(n, V) -> (n, H)``."""
    return torch.sigmoid(hidden_preactivation(v, W, c))


def visible_probs(h: Tensor, W: Tensor, b: Tensor) -> Tensor:
    """``p(v_i = 1 | h) = sigmoid(b_i + h.W[:, i])``: ``(n, H) -> (n, V)``."""
    return torch.sigmoid(torch.addmm(b, h, W))


def bernoulli(p: Tensor, generator: torch.Generator | None) -> Tensor:
    """{0, 1} draws of the same shape and dtype as ``p``, each 1 with its probability (as
    ``u < p``, ``u`` uniform: three times as fast as ``torch.bernoulli`` on a CPU)."""
    u = torch.rand(p.shape, generator=generator, dtype=p.dtype, device=p.device)
    return (u < p).to(p.dtype)


def gibbs_step(
    v: Tensor, W: Tensor, b: Tensor, c: Tensor, generator: torch.Generator | None
) -> tuple[Tensor, Tensor]:
    """One block Gibbs sweep ``h ~ p(h|v)``, ``v' ~ p(v|h)``: returns ``(v', p(v'|h))``, both
    ``(n, V)`` (the means are what samples show)."""
    h = bernoulli(hidden_probs(v, W, c), generator)
    mean = visible_probs(h, W, b)
    return bernoulli(mean, generator), mean


@dataclass
class NegativePhase:
    """The end of a chain of the CD estimator: ``v`` ``(m, V)`` its visible state, ``h_probs``
    ``(m, H)`` = ``p(h|v)`` (what the gradient reads), ``h`` ``(m, H)`` a draw of them (where
    a persistent chain continues), ``v_mean`` ``(m, V)`` = ``p(v|h)`` of the last sweep."""

    v: Tensor
    h_probs: Tensor
    h: Tensor
    v_mean: Tensor


def run_chain(
    h: Tensor, W: Tensor, b: Tensor, c: Tensor, k: int, generator: torch.Generator | None
) -> NegativePhase:
    """``k`` >= 1 Gibbs sweeps from hidden states ``h`` ``(m, H)``: each ``v ~ p(v|h)`` then
    ``h ~ p(h|v)``. CD-k starts at a draw of ``p(h|v_data)`` (Hinton 2002); persistent CD at
    the chains' last hidden states (Tieleman 2008; scikit-learn's `BernoulliRBM`, k = 1)."""
    if k < 1:
        raise ValueError(f"a chain needs k >= 1 Gibbs sweeps, got {k}")
    for _ in range(k):
        v_mean = visible_probs(h, W, b)
        v = bernoulli(v_mean, generator)
        h_probs = hidden_probs(v, W, c)
        h = bernoulli(h_probs, generator)
    return NegativePhase(v, h_probs, h, v_mean)


def cd_gradient(
    v_data: Tensor, h_data_probs: Tensor, v_model: Tensor, h_model_probs: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """The contrastive-divergence estimate of the mean log-likelihood gradient
    ``(dW (H, V), db (V,), dc (H,))``: ``<h v^T>_data - <h v^T>_model`` with the hidden units'
    probabilities in both phases (the data ``(m, V)``, their ``p(h|v)`` ``(m, H)``; the
    chains' ends, ``(m', V)`` and ``(m', H)``), each term a mean over its own rows. Ascending
    it raises the data's likelihood; the minimised loss's gradient is its negative."""
    return cd_loss_gradient(v_data, h_data_probs, v_model, h_model_probs, sign=1.0)


def cd_loss_gradient(
    v_data: Tensor,
    h_data_probs: Tensor,
    v_model: Tensor,
    h_model_probs: Tensor,
    sign: float = -1.0,
) -> tuple[Tensor, Tensor, Tensor]:
    """``sign`` times `cd_gradient` (default -1: the gradient of the free-energy gap that a
    training step minimises, ready for ``.grad``), in five fused operations (a step on tiny
    minibatches is bound by the number of operations, not by their arithmetic)."""
    a, a_model = sign / v_data.shape[0], sign / v_model.shape[0]
    dW = torch.addmm(
        torch.mm(h_model_probs.t(), v_model), h_data_probs.t(), v_data, beta=-a_model, alpha=a
    )
    db = torch.add(v_data.sum(0).mul_(a), v_model.sum(0), alpha=-a_model)
    dc = torch.add(h_data_probs.sum(0).mul_(a), h_model_probs.sum(0), alpha=-a_model)
    return dW, db, dc


def cd_estimate(
    v_data: Tensor,
    W: Tensor,
    b: Tensor,
    c: Tensor,
    k: int,
    generator: torch.Generator | None,
    chains: Tensor | None = None,
    sign: float = 1.0,
) -> tuple[tuple[Tensor, Tensor, Tensor], NegativePhase]:
    """CD-k (``chains`` None: each chain starts at ``h ~ p(h|v_data)``) or persistent CD-k
    (``chains``: the persistent hidden states ``(m', H)``) on the minibatch ``v_data``
    ``(m, V)``: returns ``((dW, db, dc), the chains' ends)`` (`cd_gradient`, `run_chain`),
    the estimate times ``sign`` (-1: a loss's gradient, `cd_loss_gradient`)."""
    h_data_probs = hidden_probs(v_data, W, c)
    start = bernoulli(h_data_probs, generator) if chains is None else chains
    end = run_chain(start, W, b, c, k, generator)
    return cd_loss_gradient(v_data, h_data_probs, end.v, end.h_probs, sign), end


def log_sigmoid_flip_gain(v: Tensor, W: Tensor, b: Tensor, c: Tensor, i: Tensor) -> Tensor:
    """``log p(v_i | v_-i) = log sigmoid(F(v with bit i flipped) - F(v))`` for one bit
    ``i`` ``(n,)`` (int64) of each row of ``v`` ``(n, V)``: ``(n,)``."""
    rows = torch.arange(v.shape[0], device=v.device)
    flipped = v.clone()
    flipped[rows, i] = 1.0 - flipped[rows, i]
    return F.logsigmoid(free_energy(flipped, W, b, c) - free_energy(v, W, b, c))


def pseudo_likelihood_stochastic(
    v: Tensor, W: Tensor, b: Tensor, c: Tensor, generator: torch.Generator | None
) -> Tensor:
    """scikit-learn's `BernoulliRBM.score_samples`: ``V * log p(v_i | v_-i)`` at one bit ``i``
    per row drawn uniformly from ``generator``, an unbiased estimate of the pseudo-likelihood
    ``sum_i log p(v_i | v_-i)``: ``(n, V) -> (n,)`` (nats)."""
    i = torch.randint(v.shape[1], (v.shape[0],), generator=generator, device=v.device)
    return v.shape[1] * log_sigmoid_flip_gain(v, W, b, c, i)


def pseudo_likelihood(v: Tensor, W: Tensor, b: Tensor, c: Tensor, chunk: int = 2**24) -> Tensor:
    """The exact pseudo-likelihood ``sum_i log p(v_i | v_-i)`` (Besag 1975): ``(n, V) -> (n,)``
    (nats). Flipping bit ``i`` moves the hidden log-odds by ``(1 - 2 v_i) W[:, i]`` and the
    visible term by ``(1 - 2 v_i) b_i``; rows are taken ``chunk // (V * H)`` at a time."""
    n, dims = v.shape
    rows = max(1, chunk // max(1, dims * W.shape[0]))
    out = []
    for start in range(0, n, rows):
        x = v[start : start + rows]
        pre = hidden_preactivation(x, W, c)  # (r, H)
        sign = 1.0 - 2.0 * x  # (r, V): +1 turns a bit on, -1 off
        flipped = pre.unsqueeze(1) + sign.unsqueeze(2) * W.t().unsqueeze(0)  # (r, V, H)
        gain = sign * b + (F.softplus(flipped).sum(-1) - F.softplus(pre).sum(-1, keepdim=True))
        out.append(F.logsigmoid(-gain).sum(-1))  # F(flipped) - F(x) = -gain
    return torch.cat(out)


def ais_betas(count: int) -> Tensor:
    """``count`` + 1 inverse temperatures from 0 to 1 (float64), spaced as Salakhutdinov &
    Murray (2008): the shares of 500 in [0, 0.5), 4,000 in [0.5, 0.9), 10,000 in [0.9, 1]
    (`AIS_PIECES`), at least one step in each piece."""
    if count < len(AIS_PIECES):
        raise ValueError(f"AIS needs at least {len(AIS_PIECES)} intermediate temperatures")
    total = sum(p[2] for p in AIS_PIECES)
    sizes = [max(1, round(count * p[2] / total)) for p in AIS_PIECES]
    sizes[-1] = count - sum(sizes[:-1])
    parts = [
        torch.linspace(lo, hi, size + 1, dtype=torch.float64)[:-1]
        for (lo, hi, _), size in zip(AIS_PIECES, sizes)
    ]
    return torch.cat([*parts, torch.ones(1, dtype=torch.float64)])


def base_rate_biases(v_data: Tensor, smoothing: float = BASE_RATE_SMOOTHING) -> Tensor:
    """The base-rate model's visible biases ``log(p / (1 - p))`` ``(V,)`` with ``p`` each
    visible unit's mean in ``v_data`` ``(n, V)``, kept inside ``[smoothing, 1 - smoothing]``."""
    p = v_data.double().mean(0).clamp(smoothing, 1.0 - smoothing)
    return torch.log(p) - torch.log1p(-p)


@dataclass
class AisResult:
    """An AIS estimate: ``log_z`` (nats), ``log_z_stderr`` (the standard error of ``log Z``'s
    estimate, by the delta method: ``std(w) / (mean(w) sqrt(M))`` over the ``M`` chains'
    importance weights), ``log_weights`` ``(M,)`` (each chain's ``log w``, float64) and
    ``log_z_base`` (the base-rate model's exact ``log Z``)."""

    log_z: float
    log_z_stderr: float
    log_weights: Tensor
    log_z_base: float


@torch.no_grad()
def ais_log_partition(
    W: Tensor,
    b: Tensor,
    c: Tensor,
    base_biases: Tensor,
    betas: Tensor,
    chains: int,
    generator: torch.Generator | None,
    matmul_dtype: torch.dtype = torch.float32,
) -> AisResult:
    """``log Z`` of the RBM ``(W, b, c)`` by annealed importance sampling (Salakhutdinov &
    Murray 2008, sections 3-4): ``chains`` independent runs from the base-rate model ``p_0(v)``
    (independent visible units of log-odds ``base_biases`` ``(V,)``, exactly sampled) through
    ``p*_beta(v) = exp((1 - beta) b_A.v + beta b.v) prod_j (1 + exp(beta (c_j + W_j.v)))`` at
    ``betas`` (increasing from 0 to 1, `ais_betas`), one Gibbs transition at each; ``log Z_0 =
    sum_i softplus(b_A_i) + H log 2``. The products with ``W`` run in ``matmul_dtype``; every
    log-weight increment is computed in float64 from the one ``x = c + W v`` both of its
    temperatures share (no cancellation between them)."""
    b, b_base = b.double(), base_biases.double()
    Wm, cm = W.to(matmul_dtype), c.to(matmul_dtype)
    betas = [float(x) for x in betas]
    if betas[0] != 0.0 or betas[-1] != 1.0 or any(y <= x for x, y in zip(betas, betas[1:])):
        raise ValueError("AIS betas must increase strictly from 0 to 1")
    n_hidden = W.shape[0]
    base_p = torch.sigmoid(b_base).to(matmul_dtype).expand(chains, -1).contiguous()
    v = bernoulli(base_p, generator)
    bias_gap = (b - b_base).to(matmul_dtype)  # log p*_beta's visible term: b_A.v + beta (b - b_A).v
    log_w = torch.zeros(chains, dtype=torch.float64, device=W.device)
    for prev, beta in zip(betas, betas[1:]):
        x = torch.addmm(cm, v, Wm.t()).double()
        log_w += (beta - prev) * (v @ bias_gap).double()
        log_w += F.softplus(beta * x).sum(-1) - F.softplus(prev * x).sum(-1)
        if beta < 1.0:  # a transition leaving p_beta invariant (none needed after the last)
            h = bernoulli(torch.sigmoid(beta * x).to(matmul_dtype), generator)
            logits = (1.0 - beta) * b_base + beta * (b + (h @ Wm).double())
            v = bernoulli(torch.sigmoid(logits).to(matmul_dtype), generator)
    log_z_base = float(F.softplus(b_base).sum()) + n_hidden * math.log(2.0)
    log_mean_w = torch.logsumexp(log_w, 0) - math.log(chains)
    w = torch.exp(log_w - log_w.max())
    stderr = float(w.std(unbiased=True) / w.mean() / math.sqrt(chains)) if chains > 1 else math.inf
    return AisResult(log_z_base + float(log_mean_w), stderr, log_w.cpu(), log_z_base)


def log_likelihood(v: Tensor, W: Tensor, b: Tensor, c: Tensor, log_z: float) -> Tensor:
    """``log p(v) = -F(v) - log Z``: ``(n, V) -> (n,)`` (nats), in float64."""
    return -free_energy(v.double(), W.double(), b.double(), c.double()) - log_z


def bits_per_dim(log_likelihood_nats: float, dims: int) -> float:
    """A mean log-likelihood in nats per example as bits per dimension: ``-ll / (dims ln 2)``."""
    return -log_likelihood_nats / (dims * math.log(2.0))


#: the most visible units whose 2^V states `exact_log_partition` enumerates (16.8 million)
MAX_EXACT_VISIBLE = 24


def binary_states(visible: int, start: int = 0, stop: int | None = None, dtype=torch.float64):
    """``(stop - start, V)`` the visible states numbered ``start`` .. ``stop - 1`` (default: all
    ``2^V``), state ``k``'s bit ``i`` = bit ``V - 1 - i`` of ``k`` (most significant first)."""
    stop = 2**visible if stop is None else stop
    k = torch.arange(start, stop, dtype=torch.int64)
    shifts = torch.arange(visible - 1, -1, -1, dtype=torch.int64)
    return ((k.unsqueeze(1) >> shifts) & 1).to(dtype)


def exact_log_partition(W: Tensor, b: Tensor, c: Tensor, chunk: int = 2**16) -> float:
    """``log Z = logsumexp_v -F(v)`` over every one of the ``2^V`` visible states (the hidden
    units summed out in closed form by the free energy), in float64, ``chunk`` states at a time;
    ``ValueError`` above `MAX_EXACT_VISIBLE` visible units (use `ais_log_partition` there)."""
    visible = W.shape[1]
    if visible > MAX_EXACT_VISIBLE:
        raise ValueError(
            f"exact log Z enumerates 2^V states: V = {visible} > {MAX_EXACT_VISIBLE} is too many"
        )
    W, b, c = (t.detach().double() for t in (W, b, c))
    parts = []
    for start in range(0, 2**visible, chunk):
        v = binary_states(visible, start, min(start + chunk, 2**visible)).to(W.device)
        parts.append(torch.logsumexp(-free_energy(v, W, b, c), 0))
    return float(torch.logsumexp(torch.stack(parts), 0))


__all__ = [
    "AIS_PIECES",
    "AisResult",
    "NegativePhase",
    "ais_betas",
    "ais_log_partition",
    "base_rate_biases",
    "bernoulli",
    "MAX_EXACT_VISIBLE",
    "binary_states",
    "bits_per_dim",
    "cd_estimate",
    "cd_gradient",
    "cd_loss_gradient",
    "energy",
    "exact_log_partition",
    "free_energy",
    "gibbs_step",
    "hidden_preactivation",
    "hidden_probs",
    "log_likelihood",
    "pseudo_likelihood",
    "pseudo_likelihood_stochastic",
    "run_chain",
    "visible_probs",
]
