"""What an RBM measures beyond its samples, through the family hook (`EvalState.family_metrics`
during training, `LoadedRun.family_metrics` in the final metrics), and the chain strip its
report shows.

Each evaluation: ``pseudo_likelihood``, the mean over the held-out split's bits of
scikit-learn's one-bit estimate (`gankit.game.rbm.pseudo_likelihood_stochastic`, comparable
with its ``score_samples``), nats per image. The final metrics add ``pseudo_likelihood_exact``
(the sum over every bit), the partition function by annealed importance sampling
(Salakhutdinov & Murray 2008; ``log_z``, ``log_z_stderr``, from the base-rate model of the
training bits), the held-out ``log_likelihood_ais`` = mean ``-F(v) - log Z`` (nats per image;
its standard error is ``log_z_stderr``: every image shares the one estimate of log Z), the
same on the training split (``log_likelihood_ais_train``: the gap is overfitting) and
``bits_per_dim``.

On a 2-D toy (the plane as Gray-coded bits, `gankit.data.discretize.PointGrid`) the 2^V
visible states are few enough to sum: log Z is exact (`gankit.game.rbm.exact_log_partition`)
and so is the model's density, ``log p(x) = -F(bits of x) - log Z - log(cell area)`` inside
the grid's box (`toy_log_density`). Each evaluation and the final metrics write the held-out
``log_likelihood`` and ``data_log_likelihood`` as the other toy families do
(`gankit.recipes.fit_set.heldout_log_likelihood`); the final metrics add ``log_z``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from gankit import runs
from gankit.data.checks import from_net
from gankit.data.discretize import PointGrid
from gankit.data.grid import make_grid, png_bytes
from gankit.game import rbm as rbm_math
from gankit.nets.rbm import RBM
from gankit.recipes.fit_set import heldout_log_likelihood
from gankit.recipes.rbm.config import RbmConfig
from gankit.recipes.rbm.step import gibbs_samples
from gankit.report.rbm_section import CHAIN_INFO, CHAIN_PNG

#: the seed offset of the pseudo-likelihood's flipped bits (evaluation streams are apart from
#: training's) and of the final AIS chains
PL_SEED_OFFSET = 31_337
AIS_SEED_OFFSET = 271_828
#: chains in the report's strip, and the sweep counts it shows (those <= rbm.sample_steps, and
#: rbm.sample_steps itself)
STRIP_CHAINS = 8
STRIP_STEPS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)


@torch.no_grad()
def mean_pseudo_likelihood(model: RBM, bits: Tensor, rng: torch.Generator) -> float:
    """The mean of scikit-learn's one-bit pseudo-likelihood estimate over ``bits`` ``(N, V)``."""
    W, b, c = (t.detach().cpu().double() for t in model.params)
    return float(rbm_math.pseudo_likelihood_stochastic(bits.double(), W, b, c, rng).mean())


@torch.no_grad()
def final_rbm_metrics(
    model: RBM, heldout: Tensor, train: Tensor, section: RbmConfig, seed: int
) -> dict[str, float]:
    """The final metrics of the module docstring, for held-out and training bits ``(N, V)``
    (the training bits' marginals make the base-rate model of AIS)."""
    W, b, c = (t.detach().cpu().double() for t in model.params)
    heldout, train = heldout.double(), train.double()
    pl_rng = torch.Generator().manual_seed(seed + PL_SEED_OFFSET)
    ais = rbm_math.ais_log_partition(
        W,
        b,
        c,
        rbm_math.base_rate_biases(train),
        rbm_math.ais_betas(section.ais_betas),
        section.ais_chains,
        torch.Generator().manual_seed(seed + AIS_SEED_OFFSET),
    )
    ll = float(rbm_math.log_likelihood(heldout, W, b, c, ais.log_z).mean())
    ll_train = float(rbm_math.log_likelihood(train, W, b, c, ais.log_z).mean())
    return {
        "pseudo_likelihood": float(
            rbm_math.pseudo_likelihood_stochastic(heldout, W, b, c, pl_rng).mean()
        ),
        "pseudo_likelihood_exact": float(rbm_math.pseudo_likelihood(heldout, W, b, c).mean()),
        "log_z": ais.log_z,
        "log_z_stderr": ais.log_z_stderr,
        "log_likelihood_ais": ll,
        "log_likelihood_ais_train": ll_train,
        "bits_per_dim": rbm_math.bits_per_dim(ll, heldout.shape[1]),
    }


#: the toy's held-out points of ``log_likelihood`` (the GMM's and PCA's default count)
TOY_HELDOUT_POINTS = 10_000


@torch.no_grad()
def toy_log_density(
    model: RBM, grid: PointGrid, points: Tensor, log_z: float | None = None
) -> Tensor:
    """``(n, 2)`` points -> ``(n,)`` float64 exact log-density of the RBM over ``grid``:
    ``-F(v) - log Z - log(cell area)`` for the point's cell's bits ``v``, ``-inf`` outside
    the box; ``log_z``: the model's exact log Z where already computed."""
    W, b, c = (t.detach().cpu().double() for t in model.params)
    if log_z is None:
        log_z = rbm_math.exact_log_partition(W, b, c)
    bits = grid.encode(points).double()
    log_p = rbm_math.log_likelihood(bits, W, b, c, log_z) - grid.log_cell_area
    return torch.where(grid.inside(points), log_p, torch.full_like(log_p, -torch.inf))


@torch.no_grad()
def toy_rbm_metrics(model: RBM, grid: PointGrid, data, final: bool = False) -> dict[str, float]:
    """The held-out ``log_likelihood`` and ``data_log_likelihood`` of a toy (nats per point,
    `TOY_HELDOUT_POINTS` fixed points); with ``final``, also the exact ``log_z``."""
    W, b, c = (t.detach().cpu().double() for t in model.params)
    log_z = rbm_math.exact_log_partition(W, b, c)
    out = heldout_log_likelihood(
        lambda x: toy_log_density(model, grid, x, log_z), data, TOY_HELDOUT_POINTS
    )
    if final:
        out["log_z"] = log_z
    return out


def strip_steps(sample_steps: int) -> tuple[int, ...]:
    """The sweep counts of the report's strip: `STRIP_STEPS` up to ``sample_steps``, and it."""
    return tuple(sorted({s for s in STRIP_STEPS if s < sample_steps} | {sample_steps}))


def write_chain_strip(model: RBM, sample_steps: int, run_dir: Path, seed: int) -> Path:
    """``RUN/rbm/chain.png``: `STRIP_CHAINS` rows, one Gibbs chain each, its means
    ``p(v|h)`` at the sweep counts of `strip_steps` left to right (``RUN/rbm/chain.json`` lists
    them); the last column is what `gankit sample` returns."""
    steps = strip_steps(sample_steps)
    rng = torch.Generator().manual_seed(seed)
    _, strips = gibbs_samples(model, STRIP_CHAINS, sample_steps, rng, record=steps)
    order = torch.stack(strips, 1).reshape(-1, *model.shape)  # chain-major
    grid = make_grid(from_net(order), cols=len(steps))
    path = Path(run_dir) / CHAIN_PNG
    path.parent.mkdir(parents=True, exist_ok=True)
    runs.atomic_write_bytes(path, png_bytes(grid))
    info = {"steps": list(steps), "chains": STRIP_CHAINS}
    runs.write_json(Path(run_dir) / CHAIN_INFO, info)
    return path
