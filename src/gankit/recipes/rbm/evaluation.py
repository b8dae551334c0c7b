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
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from gankit import runs
from gankit.data.checks import from_net
from gankit.data.grid import make_grid, png_bytes
from gankit.game import rbm as rbm_math
from gankit.nets.rbm import RBM
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
