"""AdaGAN: boosting GANs into a mixture (Tolstikhin et al. 2017, "AdaGAN: Boosting Generative
Models", NeurIPS; reference code github.com/tolstikhin/adagan).

With ``game.boost_rounds = T > 0`` a run trains T generators in sequence. Round 1 is an ordinary
GAN on a finite *pool* of N points drawn once from the toy. After round t a fresh classifier C_t
separates the pool from the current mixture P_t = sum_j alpha_j G_j; its logit estimates
``log p_data/p_model``, so ``h(x) = exp(-logit(x))`` estimates ``dP_t/dP_data``. Round t+1 trains a
fresh G (and D) on the pool reweighted by the paper's optimal weights (Section 3.1, eq. 17-18):

    w_i = (lambda* - (1 - beta) h(x_i))_+ / (N beta),   lambda* such that sum_i w_i = 1,

where ``beta`` is the mixture weight the *new* component will get, P_{t+1} = (1-beta) P_t + beta
G_{t+1}. (Written with the old mixture's share ``b = 1 - beta`` this is the
``(lambda* - b h)_+ / (N (1 - b))`` form.) Limits: ``beta = 1`` (the new component replaces the
model) gives uniform weights; ``beta -> 0`` puts all the mass, uniformly, on the points the model
misses most (the smallest h). Points with h = 0 (never generated) always get the largest weight.

Mixture weights: ``beta_t = 1/t``, the paper's simple choice (and the reference code's
``beta_heur = 'uniform'``): the final mixture is uniform over the T components. The paper's
"optimal" beta needs the unknown divergence of each component and is not implemented.

Pure functions on tensors (float64): :func:`optimal_lambda`, :func:`data_weights`,
:func:`density_ratio`, :func:`round_beta`, :func:`mixture_weights`. On top of them:
:class:`WeightedPool` (a data source that plugs into `gankit.game.trainer.Trainer` as its
``sample_data``), :class:`Mixture` (sampling the mixture reproducibly from a ``torch.Generator``),
:func:`fit_ratio_classifier`, and the driver :func:`train` / :func:`load_run`.

Run directory of a boosted run::

    RUN/config.toml             the resolved config (game.boost_rounds = T)
    RUN/metrics.jsonl           one line per finished round: round, beta, the mixture's toy metrics
    RUN/mixture.json            finished rounds and mixture weights (a round's commit point)
    RUN/snapshots/step-N.npz    the mixture's samples after each round (N = t * train.steps)
    RUN/rounds/round-t/         an ordinary sub-run of G_t: config.toml (boost_rounds = 0, its own
                                seed), metrics.jsonl, checkpoints/, snapshots/, plus
                                pool_weights.safetensors (the weights it trained on) and
                                classifier.safetensors (C_t: pool vs the mixture of rounds 1..t)
    RUN/final_metrics.json, diagnosis.json, report.html, *.png   of the mixture, as for any run

``--resume`` continues at the first unfinished round, from its newest checkpoint where it has one.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn

from gankit import api, runs
from gankit import config as config_mod
from gankit.config import Config
from gankit.errors import GankitError

#: Size N of the training pool. The paper's AdaGAN reweights a *finite* sample; 20,000 points give
#: ring-8 2,500 points per mode, so that a round whose weights sit on one or two missed modes still
#: trains on thousands of distinct points (no memorisation of a handful), while the whole pool
#: is classified in one pass in milliseconds. A 3,000-step round with batches of 256 sees each
#: point about 38 times, as a GAN on a finite dataset would.
POOL_SIZE = 20_000
#: Steps of the per-round density-ratio classifier (at most ``train.steps``, so tiny debug runs
#: stay tiny), with D's architecture, Adam at ``optim.lr_d``, batches of ``train.batch_size``.
CLASSIFIER_STEPS = 1000
#: Logits are clipped to +-this before ``exp(-logit)``: h stays in [1e-13, 1e13], finite.
LOGIT_CLIP = 30.0
#: Round t trains with ``train.seed + ROUND_SEED_STRIDE * (t - 1)``: fresh weights and streams.
ROUND_SEED_STRIDE = 1000
POOL_SEED_OFFSET = 15_485_863
CLASSIFIER_SEED_OFFSET = 32_452_843
SNAPSHOT_SAMPLES = 5000

ROUNDS = "rounds"
MIXTURE = "mixture.json"
POOL_WEIGHTS = "pool_weights.safetensors"
CLASSIFIER = "classifier.safetensors"
FORMAT = "gankit-adagan-1"


# ----------------------------------------------------------------------------- the math


def optimal_lambda(h: torch.Tensor, beta: float) -> float:
    """lambda* of AdaGAN's optimal weights: the unique root of
    ``sum_i (lambda - (1 - beta) h_i)_+ = N beta`` (paper eq. 18), in closed form by sorting.

    ``h``: ``(N,)`` finite, nonnegative estimates of ``dP_model/dP_data`` at the pool points;
    ``beta`` in (0, 1]. With h sorted ascending and c = 1 - beta, if exactly the k smallest
    points are active then ``lambda_k = (N beta + c sum_{i<=k} h_i) / k``; lambda* is ``lambda_k``
    for the largest k with ``c h_k < lambda_k`` (water filling). Raises `ValueError` on bad input.
    """
    h = _check_h(h)
    beta = _check_beta(beta)
    n = h.numel()
    c = 1.0 - beta
    hs, _ = torch.sort(h)
    lam = (n * beta + c * torch.cumsum(hs, 0)) / torch.arange(1, n + 1, dtype=torch.float64)
    active = c * hs < lam
    k = int(torch.nonzero(active).max())  # active[0] always holds since n * beta > 0
    return float(lam[k])


def data_weights(h: torch.Tensor, beta: float) -> torch.Tensor:
    """``(N,)`` float64 weights of the pool for the next round (paper Section 3.1, eq. 17):
    ``w_i = (lambda* - (1 - beta) h_i)_+ / (N beta)``; nonnegative, summing to 1, decreasing in h.

    ``beta`` is the weight the next component gets in the mixture; ``beta = 1`` gives 1/N."""
    h = _check_h(h)
    beta = _check_beta(beta)
    lam = optimal_lambda(h, beta)
    w = torch.clamp(lam - (1.0 - beta) * h, min=0.0) / (h.numel() * beta)
    return w / w.sum()  # exact in theory; this removes the rounding of the sums


def density_ratio(logits: torch.Tensor) -> torch.Tensor:
    """``h = exp(-logit)``, float64: a logistic classifier of data (label 1) against model
    (label 0) has at its optimum ``logit = log p_data/p_model``, so h estimates
    ``p_model/p_data`` (the reference code's ``(1 - D)/D``). Logits clipped to +-`LOGIT_CLIP`."""
    return torch.exp(-logits.detach().double().reshape(-1).clamp(-LOGIT_CLIP, LOGIT_CLIP))


def round_beta(t: int) -> float:
    """Mixture weight of the component of round ``t`` (1-based) when it joins: ``1/t``."""
    if t < 1:
        raise ValueError(f"round must be >= 1, got {t}")
    return 1.0 / t


def mixture_weights(betas: list[float]) -> torch.Tensor:
    """``(T,)`` float64 weights alpha of the mixture built by ``P_t = (1 - b_t) P_{t-1} + b_t G_t``:
    ``alpha_t = b_t prod_{s > t} (1 - b_s)``. ``betas[0]`` must be 1 (the first component is the
    whole model); with ``b_t = 1/t`` every alpha is 1/T."""
    if not betas or abs(betas[0] - 1.0) > 1e-12:
        raise ValueError(f"betas must start with 1.0, got {list(betas)[:1]}")
    alpha = torch.zeros(len(betas), dtype=torch.float64)
    for t, b in enumerate(betas):
        _check_beta(b)
        alpha *= 1.0 - b
        alpha[t] = b
    return alpha


def _check_h(h: torch.Tensor) -> torch.Tensor:
    h = torch.as_tensor(h, dtype=torch.float64).reshape(-1)
    if h.numel() == 0:
        raise ValueError("h: needs at least one point")
    if not bool(torch.isfinite(h).all()) or bool((h < 0).any()):
        raise ValueError("h: density ratios must be finite and nonnegative")
    return h


def _check_beta(beta: float) -> float:
    beta = float(beta)
    if not 0.0 < beta <= 1.0:
        raise ValueError(f"beta must be in (0, 1], got {beta}")
    return beta


# ----------------------------------------------------------------------------- data and mixture


class WeightedPool:
    """A finite pool ``(N, dim)`` with sampling weights ``(N,)``: a data source with ``dim`` and
    ``sample(n, generator)`` (draws with replacement), the Trainer's ``sample_data``."""

    def __init__(self, points: torch.Tensor, weights: torch.Tensor | None = None):
        self.points = points.float()
        self.dim = points.shape[1]
        n = points.shape[0]
        self.weights = (
            torch.full((n,), 1.0 / n, dtype=torch.float64) if weights is None else weights.double()
        )
        if self.weights.shape != (n,) or bool((self.weights < 0).any()):
            raise ValueError("weights: expected (N,) nonnegative values")
        self._on: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        device = generator.device if generator is not None else torch.device("cpu")
        key = str(device)
        if key not in self._on:
            self._on[key] = (self.points.to(device), self.weights.to(device))
        points, weights = self._on[key]
        idx = torch.multinomial(weights, n, replacement=True, generator=generator)
        return points[idx]


class Mixture(nn.Module):
    """``sum_t alpha_t G_t``: each sample picks component t with probability alpha_t, then runs
    G_t on its own noise; both draws come from the given ``torch.Generator``."""

    def __init__(self, components: list[nn.Module], weights: torch.Tensor, noise_dim: int, noise):
        super().__init__()
        if len(components) != len(weights) or not components:
            raise ValueError("a mixture needs one weight per component, and a component")
        self.components = nn.ModuleList(components)
        self.register_buffer("weights", torch.as_tensor(weights, dtype=torch.float64))
        self.noise_dim, self.noise = noise_dim, noise

    @torch.no_grad()
    def sample(
        self, n: int, rng: torch.Generator, device: torch.device | str = "cpu", batch: int = 65536
    ) -> torch.Tensor:
        """``(n, dim)`` float32 CPU samples of the mixture, components in eval mode."""
        from gankit.nets.build import sample_noise

        modes = [g.training for g in self.components]
        self.eval()
        out = []
        for start in range(0, n, batch):
            m = min(batch, n - start)
            which = torch.multinomial(self.weights.to(rng.device), m, True, generator=rng)
            z = sample_noise(m, self.noise_dim, self.noise, rng, device)
            which = which.to(device)
            x = None
            for t, g in enumerate(self.components):
                mask = which == t
                if bool(mask.any()):
                    y = g(z[mask]).float()
                    x = y.new_empty(m, y.shape[1]) if x is None else x
                    x[mask] = y
            out.append(x.cpu())
        for g, mode in zip(self.components, modes):
            g.train(mode)
        return torch.cat(out)


def draw_pool(data, seed: int, n: int = POOL_SIZE) -> torch.Tensor:
    """The training pool: ``(n, dim)`` points of the toy, drawn once from their own stream."""
    return data.sample(n, torch.Generator().manual_seed(seed + POOL_SEED_OFFSET)).float()


# ----------------------------------------------------------------------------- density ratio


def fit_ratio_classifier(
    config: Config,
    pool: torch.Tensor,
    mixture: Mixture,
    seed: int,
    device: torch.device,
    steps: int | None = None,
) -> nn.Module:
    """A fresh classifier of the pool (uniformly, label 1) against the mixture (label 0), trained
    with the logistic loss, as the paper does each round. Returns it in eval mode.

    Why fresh rather than the round's own D: that D separated the *reweighted* pool from G_t
    alone, not the data from the whole mixture, and under the hinge or Wasserstein losses its
    output is no log density ratio at all. It has D's width, depth and activation but is a plain
    per-sample MLP (packing, minibatch features or moment inputs would not give a ratio per point).
    """
    from gankit.game.trainer import make_optimizer
    from gankit.nets.mlp import discriminator_mlp

    m = config.model
    torch.manual_seed(seed + CLASSIFIER_SEED_OFFSET)
    clf = discriminator_mlp(pool.shape[1], m.d_width, m.d_depth, m.activation)
    if m.standardize:
        clf.standardize.fit(pool)
    clf = clf.to(device).train()
    opt = make_optimizer(clf.parameters(), config.optim.lr_d, config.optim)
    rng = torch.Generator(device=device).manual_seed(seed + CLASSIFIER_SEED_OFFSET)
    source = WeightedPool(pool)
    batch = config.train.batch_size
    steps = steps if steps is not None else max(1, min(CLASSIFIER_STEPS, config.train.steps))
    for _ in range(steps):
        real = source.sample(batch, rng).to(device)
        fake = mixture.sample(batch, rng, device).to(device)
        lr, lf = clf(real).reshape(-1), clf(fake).reshape(-1)
        loss = F.binary_cross_entropy_with_logits(
            lr, torch.ones_like(lr)
        ) + F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return clf.eval()


@torch.no_grad()
def classifier_logits(clf: nn.Module, points: torch.Tensor, device, batch: int = 65536):
    """``(N,)`` float32 CPU logits of ``clf`` on ``points``."""
    return torch.cat(
        [
            clf(points[i : i + batch].to(device)).float().reshape(-1).cpu()
            for i in range(0, len(points), batch)
        ]
    )


# ----------------------------------------------------------------------------- files


def check_config(config: Config) -> None:
    """Refuse what boosting cannot be combined with (before anything is written)."""
    if config.game.boost_rounds > 0 and config.model.generators > 1:
        raise GankitError(
            f"game.boost_rounds = {config.game.boost_rounds}: AdaGAN adds one generator per round "
            f"and cannot be combined with model.generators = {config.model.generators} "
            "(set one of them back)"
        )
    if config.game.boost_rounds > 0 and config.data.train_size > 0:
        raise GankitError(
            f"data.train_size = {config.data.train_size}: AdaGAN trains each round on its own "
            f"reweighted pool of {POOL_SIZE} points; leave data.train_size at 0"
        )


def is_boosted(config: Config) -> bool:
    return config.game.boost_rounds > 0


def round_dir(run: Path, t: int) -> Path:
    return Path(run) / ROUNDS / f"round-{t}"


def round_config(config: Config, t: int) -> Config:
    """The sub-run of round t: an ordinary run (boost_rounds = 0) with its own seed."""
    seed = config.train.seed + ROUND_SEED_STRIDE * (t - 1)
    return dataclasses.replace(
        config,
        description=f"AdaGAN round {t} of {config.game.boost_rounds}: one component, trained on "
        f"the reweighted pool of {POOL_SIZE} points",
        game=dataclasses.replace(config.game, boost_rounds=0),
        train=dataclasses.replace(config.train, seed=seed),
    )


def read_mixture(run: Path) -> dict:
    path = Path(run) / MIXTURE
    if not path.is_file():
        return {"format": FORMAT, "pool_size": POOL_SIZE, "rounds": [], "weights": []}
    try:
        state = json.loads(path.read_text())
        if state.get("format") != FORMAT or not isinstance(state.get("rounds"), list):
            raise ValueError("unknown format")
        return state
    except ValueError as exc:
        raise GankitError(f"{path}: not a readable AdaGAN mixture ({exc})") from None


def _write_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    runs.atomic_write_bytes(path, save_tensors(tensors, metadata={"format": FORMAT}))


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_tensors(Path(path).read_bytes())
    except Exception as exc:  # safetensors raises several types on a damaged file
        raise GankitError(f"{path}: not readable ({exc})") from None


def load_component(run: Path, t: int, config: Config, data) -> tuple[nn.Module, nn.Module, int]:
    """(G_t for sampling -- its EMA where kept --, D_t, step) from round t's newest checkpoint."""

    sub = round_dir(run, t)
    sub_config = config_mod.resolve(config_file=sub / runs.CONFIG)
    g, d = api.build_models_for(sub_config, data)
    step, tensors, _ = runs.load_checkpoint(runs.latest_checkpoint(sub))
    name = "G_ema" if any(k.startswith("G_ema.") for k in tensors) else "G"
    runs.restore(tensors, {}, {name: g, "D": d}, {}, {})
    return g.eval(), d.eval(), step


# ----------------------------------------------------------------------------- the driver


def _row_metrics(data, mixture: Mixture, config: Config, step: int, device) -> dict[str, float]:
    from gankit.metrics.divergences import toy_metrics

    rng = api.eval_generator(config.train.seed, step)
    return toy_metrics(data, mixture.sample(config.log.eval_samples, rng, device))


@torch.no_grad()
def _write_snapshot(out: Path, step: int, mixture: Mixture, clf, config, data, device) -> None:
    """``RUN/snapshots/step-N.npz`` of the mixture (in 1-D with the ratio classifier on a grid)."""
    import io

    rng = api.eval_generator(config.train.seed + 1, step)
    arrays = {"samples": mixture.sample(SNAPSHOT_SAMPLES, rng, device).numpy().astype(np.float32)}
    if data.dim == 1:
        lo, hi = data.support()
        grid = torch.linspace(lo, hi, api.GRID_POINTS)
        arrays["grid"] = grid.numpy()
        arrays["d_grid"] = torch.sigmoid(classifier_logits(clf, grid[:, None], device)).numpy()
        arrays["d_is_probability"] = np.array(True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    runs.atomic_write_bytes(out / runs.SNAPSHOTS / f"step-{step}.npz", buffer.getvalue())


def train(
    config: Config,
    out: Path,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    on_log=None,
) -> Path:
    """Train a boosted run (``game.boost_rounds = T``) into ``out`` and return it.

    ``resume`` continues ``out`` with the config stored there, at its first unfinished round;
    ``stop_after`` stops after that many generator steps in all (rounds of ``train.steps``
    each), as an interruption would, for tests. Validation happens before anything is written.
    """

    out = Path(out)
    if resume:
        if not runs.is_run_dir(out):
            raise GankitError(f"--resume: {out} is not a run directory (no {runs.CONFIG})")
        config = config_mod.resolve(config_file=out / runs.CONFIG)
    else:
        api._prepare_dir(out, resume=False, force=force)
    check_config(config)
    data = api.build_data(config)
    device = api.pick_device(config.train.device)
    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    api.build_checked_models(round_config(config, 1), data)  # refusals before any write
    if not resume:
        api.start_run_dir(out, config, force)

    total_rounds, steps = config.game.boost_rounds, config.train.steps
    pool = draw_pool(data, config.train.seed)
    state = read_mixture(out)
    state["pool_size"] = len(pool)
    done = len(state["rounds"])
    runs.truncate_metrics(out, done * steps)  # a row written after the last commit is redone
    components = [load_component(out, t, config, data)[0].to(device) for t in range(1, done + 1)]
    betas = [r["beta"] for r in state["rounds"]]

    for t in range(done + 1, total_rounds + 1):
        sub, sub_config = round_dir(out, t), round_config(config, t)
        budget = None if stop_after is None else stop_after - (t - 1) * steps
        if budget is not None and budget <= 0:
            return out
        weights = _round_weights(out, t, config, pool, components, betas, device)
        source = WeightedPool(pool, weights)
        sub_resume = (sub / runs.CHECKPOINTS).is_dir() and any(
            (sub / runs.CHECKPOINTS).glob("step-*.safetensors")
        )
        if not sub_resume:
            runs.atomic_write_text(sub / runs.CONFIG, config_mod.dumps(sub_config))
            runs.atomic_write_text(sub / runs.METRICS, "")
        torch.manual_seed(sub_config.train.seed)  # initial weights, as api.train
        generator, discriminator = api.build_models_for(sub_config, source)

        trainer = api.make_trainer(
            sub_config, source.sample, generator, discriminator, sub, data, device, progress, on_log
        )
        if sub_resume:
            trainer.resume()
        trainer.fit(stop_after=budget)
        if trainer.stopped_reason:
            with open(out / runs.METRICS, "a") as fh:
                row = {"step": (t - 1) * steps + trainer.step, "round": t, "event": "diverged"}
                fh.write(json.dumps({**row, "reason": trainer.stopped_reason}) + "\n")
            from gankit.diagnose import write_diagnosis

            write_diagnosis(sub)
            api.finish(out, diverged=True)
            return out
        if trainer.step < steps:
            return out  # stopped early (stop_after): --resume continues here

        # The round is trained: add G_t, fit the ratio classifier against the new mixture.
        components.append(trainer.sampler.eval())
        betas.append(round_beta(t))
        mixture = Mixture(
            components, mixture_weights(betas), config.model.noise_dim, config.model.noise
        ).to(device)
        clf = fit_ratio_classifier(config, pool, mixture, sub_config.train.seed, device)
        _write_tensors(sub / CLASSIFIER, clf.state_dict())
        step = t * steps
        row = {"step": step, "round": t, "beta": betas[-1], "components": t}
        row.update(_pool_stats(weights))
        if t < total_rounds:
            h = density_ratio(classifier_logits(clf, pool, device))
            nxt = data_weights(h, round_beta(t + 1))
            _write_tensors(round_dir(out, t + 1) / POOL_WEIGHTS, {"weights": nxt})
        row.update(_row_metrics(data, mixture, config, step, device))
        _write_snapshot(out, step, mixture, clf, config, data, device)
        with open(out / runs.METRICS, "a") as fh:
            fh.write(json.dumps(row) + "\n")
        if on_log is not None:
            on_log(row)
        state["rounds"].append(
            {"round": t, "beta": betas[-1], "steps": steps, "seed": sub_config.train.seed}
        )
        state["weights"] = mixture.weights.tolist()
        runs.atomic_write_text(out / MIXTURE, json.dumps(state, indent=2) + "\n")
        components = list(mixture.components)

    api.finish(out)
    return out


def _pool_stats(weights: torch.Tensor) -> dict[str, float]:
    """How far the round's pool weights are from uniform: effective sample size / N (1 =
    uniform) and the fraction of points with nonzero weight."""
    n = weights.numel()
    return {
        "pool_ess": float(1.0 / (n * (weights**2).sum())),
        "pool_support": float((weights > 0).double().mean()),
    }


def _round_weights(out, t, config, pool, components, betas, device) -> torch.Tensor:
    """Pool weights of round t: uniform for round 1; else stored when round t-1 finished, or
    recomputed (deterministically) from a fresh classifier against the mixture of rounds < t."""
    n = len(pool)
    if t == 1:
        return torch.full((n,), 1.0 / n, dtype=torch.float64)
    path = round_dir(out, t) / POOL_WEIGHTS
    if path.is_file():
        weights = _read_tensors(path).get("weights")
        if weights is None or weights.shape != (n,):
            raise GankitError(f"{path}: expected {n} pool weights")
        return weights.double()
    mixture = Mixture(
        components, mixture_weights(betas), config.model.noise_dim, config.model.noise
    ).to(device)
    seed = round_config(config, t - 1).train.seed
    clf = fit_ratio_classifier(config, pool, mixture, seed, device)
    weights = data_weights(density_ratio(classifier_logits(clf, pool, device)), round_beta(t))
    _write_tensors(path, {"weights": weights})
    return weights


# ----------------------------------------------------------------------------- loading


def load_run(path: Path, config: Config, data):
    """The `gankit.api.Run` of a boosted run: its generator is the `Mixture` of the finished
    rounds, its discriminator the last round's ratio classifier (data vs the whole mixture)."""
    from gankit.nets.mlp import discriminator_mlp

    path = Path(path)
    state = read_mixture(path)
    if not state["rounds"]:
        raise GankitError(
            f"{path}: no checkpoint of a finished AdaGAN round in {path / ROUNDS} "
            "(was the run started?)"
        )
    components, step = [], 0
    for entry in state["rounds"]:
        g, _, s = load_component(path, entry["round"], config, data)
        components.append(g)
        step += s
    weights = mixture_weights([r["beta"] for r in state["rounds"]])
    mixture = Mixture(components, weights, config.model.noise_dim, config.model.noise).eval()
    m = config.model
    clf = discriminator_mlp(data.dim, m.d_width, m.d_depth, m.activation)
    clf_path = round_dir(path, state["rounds"][-1]["round"]) / CLASSIFIER
    clf.load_state_dict(_read_tensors(clf_path), strict=True)
    return MixtureRun(path, config, data, mixture, clf.eval(), step)


@dataclass
class MixtureRun(api.Run):
    """A boosted run: ``generator`` is a `Mixture`, sampled with its own component draws."""

    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        """``(n, dim)`` float32 samples of the mixture, reproducible from ``seed``."""
        if n < 1:
            raise GankitError(f"-n: number of samples must be >= 1, got {n}")
        return self.generator.sample(n, torch.Generator().manual_seed(seed))


__all__ = [
    "Mixture",
    "MixtureRun",
    "WeightedPool",
    "data_weights",
    "density_ratio",
    "fit_ratio_classifier",
    "load_run",
    "mixture_weights",
    "optimal_lambda",
    "round_beta",
    "train",
]
