"""pix2pix's side of the loop (Isola et al. 2017): the PatchGAN D, then the U-Net G, on the same
paired minibatch; or G alone on L1 (``pix2pix.adversarial = false``, the paper's ablation).

Per step: a paired minibatch ``(s, x)`` (the ``data`` stream, `gankit.data.paired.PairedSource`)
and its translation ``G(s)`` (dropout masks from the ``noise`` stream) are made once, in the
first phase. Phase ``D``: halved ``d_loss`` of ``game.loss`` on the patch scores of ``(s, x)``
against ``(s, G(s))`` (G not differentiated). Phase ``G``: ``g_loss`` of the same translation
against the updated D plus ``pix2pix.l1_weight`` x L1 (`gankit.game.pix2pix`). Logged:
``d_loss``, ``g_loss`` (G's whole loss), ``g_adv`` and ``l1`` (mean |x - G(s)| in [-1, 1]).
With ``model.ema > 0`` an EMA of G's weights and buffers (bias-corrected,
`gankit.nets.ema.debiased_decay`) moves after each G-update, and is what the evaluator reads
and the run's checkpoints keep as ``G_ema`` (Yazici et al. 2019 for GANs).

What the evaluator reads (`pix2pix_eval_state`): G's "samples" are its translations, in eval
mode with dropout on, of the held-out inputs (cycling through the held-out split when more
are asked for than it holds), so FID against the real held-out images comes from the image
evaluator unchanged; the family's own metrics (`translation_metrics`) are ``l1_error`` (mean
absolute error in [0, 1] pixels on held-out pairs) and ``translation_agreement`` (the share of
translations the feature space's classifier labels as the original's label).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor, nn

from gankit.config import Config
from gankit.data.batch import Batch
from gankit.data.checks import from_net, to_net
from gankit.data.paired import PairedSource, task_input
from gankit.eval import EvalState, eval_stream
from gankit.eval.feature_space import FeatureSpace
from gankit.game.losses import get_loss
from gankit.game.pix2pix import discriminator_objective, generator_objective
from gankit.metrics.features import extract_features
from gankit.nets.ema import IterateEma
from gankit.nets.latent import eval_mode
from gankit.runs import GENERATOR_EMA
from gankit.train.optim import make_optimizer
from gankit.train.trainable import Phase, source_device, source_inputs, stream

#: pix2pix's random streams, in the order their seeds are derived
RNG_STREAMS = ("data", "noise")
#: held-out pairs the family's metrics read at each evaluation (the first ones, a fixed order)
FAMILY_EVAL_MAX = 2000
#: images translated per forward pass when sampling
TRANSLATE_BATCH = 1024
#: offset of the family metrics' dropout stream from the evaluator's (same seed and step)
FAMILY_STREAM_OFFSET = 7


@torch.no_grad()
def translate(generator: nn.Module, sources: Tensor, rng: torch.Generator | None) -> Tensor:
    """``(n, C, H, W)`` float32 CPU translations (in [-1, 1]) of ``sources`` (in [-1, 1]) by G
    in eval mode, its dropout masks drawn from ``rng``."""
    device = next(generator.parameters()).device
    out = []
    with eval_mode(generator):
        for start in range(0, sources.shape[0], TRANSLATE_BATCH):
            chunk = sources[start : start + TRANSLATE_BATCH].to(device)
            out.append(generator(chunk, rng).float().cpu())
    return torch.cat(out) if out else sources[:0].float()


class HeldoutPairs:
    """The held-out split as pairs: ``targets`` and ``sources`` ``(N, C, H, W)`` in [-1, 1] on
    the CPU, ``labels`` ``(N,)`` int64 numpy or None."""

    def __init__(self, heldout, task: str):
        self.targets = to_net(heldout.images)
        self.sources = task_input(task, self.targets)
        self.labels = heldout.labels

    def __len__(self) -> int:
        return self.targets.shape[0]

    def cycled(self, n: int) -> Tensor:
        """``(n,)`` indices ``0, 1, ..., N - 1, 0, 1, ...``: the inputs of ``n`` samples."""
        return torch.arange(n) % len(self)


def translation_metrics(
    generator: nn.Module,
    pairs: HeldoutPairs,
    space: FeatureSpace | None,
    rng: torch.Generator,
    limit: int = FAMILY_EVAL_MAX,
    draws: int = 1,
) -> dict[str, float]:
    """``l1_error`` (mean |target - G(input)| in [0, 1] pixels) on the first ``limit`` held-out
    pairs and, where ``space`` classifies the dataset's classes and the split has labels,
    ``translation_agreement``: the share of translations it labels as their original; each
    over ``draws`` translations of every input (dropout masks drawn in turn from ``rng``)."""
    m = min(limit, len(pairs))
    translated = translate_draws(generator, pairs, rng, m, draws)
    return summarize_translations(
        translated, pairs, m, agreement_by_input(translated, pairs, space, m)
    )


def summarize_translations(
    translated: Tensor, pairs: HeldoutPairs, m: int, by_input: np.ndarray | None
) -> dict[str, float]:
    """``l1_error`` of ``translated`` (the first ``m`` held-out inputs' translations, as
    `translate_draws` stacks them) against their targets and, where ``by_input`` is given
    (`agreement_by_input` of the same translations), ``translation_agreement``: its mean."""
    targets = from_net(pairs.targets[:m]).repeat(translated.shape[0] // m, 1, 1, 1)
    out = {"l1_error": float((translated - targets).abs().mean())}
    if by_input is not None:
        out["translation_agreement"] = float(by_input.mean())
    return out


def translate_draws(
    generator: nn.Module, pairs: HeldoutPairs, rng: torch.Generator, m: int, draws: int
) -> Tensor:
    """``(draws * m, C, H, W)`` translations in [0, 1] of the first ``m`` held-out inputs,
    draw by draw (all ``m`` inputs once, then again), dropout masks from ``rng`` in turn."""
    return from_net(translate(generator, pairs.sources[:m].repeat(draws, 1, 1, 1), rng))


def agreement_by_input(
    translated: Tensor, pairs: HeldoutPairs, space: FeatureSpace | None, m: int
) -> np.ndarray | None:
    """``(m,)``: for each of the first ``m`` held-out inputs, the share of its translations
    (``translated``, as `translate_draws` stacks them) that ``space``'s classifier labels as
    the original's label; None where the space has no classes or the split no labels."""
    if space is None or not space.classes or pairs.labels is None:
        return None
    _, logits = extract_features(translated, space.extractor)
    if logits is None:
        return None
    draws = translated.shape[0] // m
    agree = logits.argmax(1) == np.tile(np.asarray(pairs.labels[:m]), draws)
    return np.asarray(agree, dtype=np.float64).reshape(draws, m).mean(0)


def pix2pix_eval_state(
    generator: nn.Module,
    pairs: HeldoutPairs,
    step: int,
    seed: int,
    space: Callable[[], FeatureSpace | None],
) -> EvalState:
    """What the evaluator reads of pix2pix at ``step`` (see the module docstring); ``space()``
    gives the feature space whose classifier judges agreement (resolved once, when asked)."""

    def sample(n: int, rng: torch.Generator) -> Tensor:
        return translate(generator, pairs.sources[pairs.cycled(n)], rng)

    def family_metrics() -> dict[str, float]:
        rng = eval_stream(seed + FAMILY_STREAM_OFFSET, step)
        return translation_metrics(generator, pairs, space(), rng)

    return EvalState(sample, step, family_metrics=family_metrics)


class Pix2pixTrainable:
    """The U-Net ``generator`` (and the PatchGAN ``discriminator``, None for the L1-only
    ablation) on paired minibatches of ``source`` (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        source: PairedSource,
        generator: nn.Module,
        discriminator: nn.Module | None,
        device: torch.device,
        pairs: HeldoutPairs,
        space: Callable[[], FeatureSpace | None],
    ):
        self.cfg = config
        self.section = config.section("pix2pix")
        self.source = source
        self.inputs = source_inputs(source)
        self.device = device
        self.pairs, self.space = pairs, space
        self.G = generator.to(device)
        self.D = None if discriminator is None else discriminator.to(device)
        self.ema = IterateEma.of(self.G, config.model.ema)
        seed = config.train.seed
        devices = {"data": source_device(source), "noise": device}
        self.rngs = {name: stream(seed, i, devices[name]) for i, name in enumerate(RNG_STREAMS)}
        o = config.optim
        self.opt_g = make_optimizer(self.G.parameters(), o.lr_g, o)
        g_phase = Phase("G", self.opt_g, self.G, o.lr_g, "lr_g", "grad_norm_g")
        if self.D is None:
            self.loss = None
            self.opt_d = None
            self.phases = (g_phase,)
            self.progress = (("g", "g_loss"), ("l1", "l1"))
            self.loss_keys = ("g_loss",)
        else:
            self.loss = get_loss(config.game.loss)
            self.opt_d = make_optimizer(self.D.parameters(), o.lr_d, o)
            d_phase = Phase("D", self.opt_d, self.D, o.lr_d, "lr_d", "grad_norm_d")
            self.phases = (d_phase, g_phase)
            self.progress = (("d", "d_loss"), ("g", "g_loss"), ("l1", "l1"))
            self.loss_keys = ("d_loss", "g_loss")
        self._pending: tuple[Batch, Tensor] | None = None

    @property
    def modules(self) -> dict[str, nn.Module]:
        modules = {"G": self.G} if self.D is None else {"G": self.G, "D": self.D}
        if self.ema is not None:
            modules[GENERATOR_EMA] = self.ema.module
        return modules

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        if self.opt_d is None:
            return {"opt_g": self.opt_g}
        return {"opt_d": self.opt_d, "opt_g": self.opt_g}

    def train(self, mode: bool = True) -> None:
        for net in self.modules.values():
            net.train(mode)

    def begin(self, step: int) -> None:
        self._pending = None

    def _translated_batch(self) -> tuple[Batch, Tensor]:
        """A paired minibatch from the data stream and G's translation of it (with grad)."""
        m = self.cfg.train.batch_size
        batch = self.source.batch(m, self.rngs["data"]).to(self.device, non_blocking=True)
        return batch, self.G(batch.source_x, self.rngs["noise"])

    def accumulate_gradients(self, phase: str, log: bool) -> dict[str, Tensor]:
        if phase == "D":
            batch, fake = self._pending = self._translated_batch()
            real_scores = self.D(batch.source_x, batch.x)
            fake_scores = self.D(batch.source_x, fake.detach())
            loss = discriminator_objective(self.loss, real_scores, fake_scores)
            loss.backward()
            return {"d_loss": loss.detach()}
        batch, fake = self._pending if self._pending is not None else self._translated_batch()
        self._pending = None
        fake_scores = None if self.D is None else self.D(batch.source_x, fake)
        loss, parts = generator_objective(
            self.loss, fake_scores, fake, batch.x, self.section.l1_weight
        )
        loss.backward()
        return {"g_loss": loss.detach(), **parts}

    def after_update(self, phase: str, step: int) -> None:
        if phase == "G" and self.ema is not None:
            self.ema.after_update(step)

    def extra_row(self) -> dict[str, float]:
        return {}

    @property
    def translator(self) -> nn.Module:
        """The U-Net the evaluator reads: G's EMA where kept, else G."""
        return self.G if self.ema is None else self.ema.module

    def eval_state(self, step: int) -> EvalState:
        return pix2pix_eval_state(
            self.translator, self.pairs, step, self.cfg.train.seed, self.space
        )
