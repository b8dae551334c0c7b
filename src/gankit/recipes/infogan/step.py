"""InfoGAN's side of the loop (Chen et al. 2016): Algorithm 1 of the GAN with latent codes and
the mutual-information term, as a `Trainable`.

The codes live here, not in `gankit.data.batch.Latent`: only this family reads them. Each
latent batch draws, from the ``noise`` stream, ``z`` (``model.noise``), then the categorical
code ``c`` uniform on ``infogan.categories`` values, then ``infogan.continuous`` codes uniform
on [-1, 1]; G reads ``[z, one-hot(c), c']`` (`gankit.nets.infogan.InfoGenerator`).

Phase ``D`` (``game.d_steps`` times): the `~gankit.game.game.Game`'s D loss (``game.loss``,
its penalties and remedies) on a real and a generated minibatch, plus the information term
``mi_weight * CE + continuous_weight * NLL`` of Q (`gankit.nets.infogan.QHead` on D's
``features``) on the generated images' codes: Q's parameters are trained with D's, by D's
optimizer (``opt_d`` holds both; checkpoints name Q ``Q``). Phase ``G``: the Game's G loss plus
the same information term, differentiated through G (Q is not stepped here). Q reads the
generated images as G made them (not through ``game.augment``'s transforms, which are D's
view for the adversarial loss), or, with ``infogan.q_augment`` set, through that DiffAugment
policy in both phases (its own ``q_augment`` stream; G's gradient flows through the
transforms, so G must draw codes that survive them, as Elastic-InfoGAN's invariance asks).
Logged: ``d_loss`` / ``g_loss`` (adversarial + information), ``q_categorical`` (Q's
cross-entropy in the D phase), ``q_continuous`` (the Gaussian NLL), and ``mi_bound`` (the
categorical part of ``L_I``, ``log K - CE``, in nats; at most ``log K``).
With ``infogan.real_cluster_weight > 0`` the D phase adds Q's clustering term on the real
minibatch (``H(c | x) - H(c)``, logged as ``q_real_entropy`` and ``q_real_marginal``); with
``infogan.mi_warmup = W > 0`` both phases weigh the information term by ``min(1, step / W)``.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain

import torch
from torch import Tensor, nn

from gankit.config import Config, ModelConfig
from gankit.data.batch import Batch
from gankit.eval import EvalState
from gankit.game.augment import DiffAugment
from gankit.game.mutual_info import (
    categorical_nll,
    clustering_loss,
    gaussian_nll,
    information_loss,
    mutual_info_bound,
)
from gankit.nets.infogan import InfoGenerator, QHead
from gankit.nets.latent import eval_mode, sample_noise
from gankit.recipes.gan.step import RNG_STREAMS, GanTrainable
from gankit.recipes.infogan.config import InfoGanConfig
from gankit.train.optim import make_optimizer
from gankit.train.trainable import Phase, Source, stream


def draw_codes(
    n: int, categories: int, continuous: int, rng: torch.Generator, device
) -> tuple[Tensor, Tensor]:
    """``(code (n,) int64, code_continuous (n, continuous))`` from ``rng`` (where it lives):
    uniform categories, then uniform on [-1, 1]; on ``device``."""
    where = rng.device
    code = torch.randint(categories, (n,), generator=rng, device=where)
    cont = torch.rand(n, continuous, generator=rng, device=where).mul_(2.0).sub_(1.0)
    return code.to(device), cont.to(device)


def info_latent(
    n: int, model: ModelConfig, section: InfoGanConfig, rng: torch.Generator, device
) -> tuple[Tensor, Tensor, Tensor]:
    """``(z, code, code_continuous)`` of ``n`` latents: z first, then the codes, from ``rng``."""
    z = sample_noise(n, model.noise_dim, model.noise, rng, device)
    return (z, *draw_codes(n, section.categories, section.continuous, rng, device))


@torch.no_grad()
def generate_codes(
    generator: InfoGenerator,
    model: ModelConfig,
    section: InfoGanConfig,
    n: int,
    rng: torch.Generator,
    device="cpu",
    code: Tensor | None = None,
    batch: int = 4096,
) -> Tensor:
    """``(n, C, H, W)`` float32 CPU images of G in eval mode; the latents drawn from ``rng`` in
    batches of ``batch`` (z, then the codes); ``code (n,)``: the categorical code of each image
    instead of the drawn one (what `gankit sample --code` and the code accuracy ask for)."""
    out = []
    with eval_mode(generator):
        for start in range(0, n, batch):
            m = min(batch, n - start)
            z, c, cont = info_latent(m, model, section, rng, device)
            if code is not None:
                c = code[start : start + m].to(c.device)
            out.append(generator(z, c, cont).float().cpu())
    return torch.cat(out)


def information_terms(
    discriminator: nn.Module, q: QHead, x: Tensor, code: Tensor, cont: Tensor
) -> tuple[Tensor, Tensor]:
    """``(CE, NLL)`` of the codes ``code``/``cont`` G was given under Q's posterior on its
    images ``x`` (`gankit.game.mutual_info`; unit std)."""
    logits, mean = q(discriminator.features(x))
    ce = categorical_nll(logits, code)
    if cont.shape[1] == 0:
        return ce, torch.zeros((), device=ce.device)
    return ce, gaussian_nll(mean, torch.zeros_like(mean), cont)


class InfoGanTrainable(GanTrainable):
    """G against D and Q on minibatches of ``source`` (see the module docstring)."""

    progress = (("d", "d_loss"), ("g", "g_loss"), ("mi", "mi_bound"))

    def __init__(
        self,
        config: Config,
        source: Source,
        generator: InfoGenerator,
        discriminator: nn.Module,
        q: QHead,
        device: torch.device,
        family_metrics: Callable[[InfoGanTrainable, int], dict] | None = None,
    ):
        super().__init__(config, source, generator, discriminator, device)
        self._family_metrics = family_metrics
        self.section: InfoGanConfig = config.section("infogan")
        self.Q = q.to(device)
        o = config.optim
        # Q trains with D: one optimizer over D's and Q's parameters (the base class's D-only
        # one is replaced before any step, so it never holds state)
        self.opt_d = make_optimizer(chain(self.D.parameters(), self.Q.parameters()), o.lr_d, o)
        self.info_scale = 1.0  # the information term's weights' share (infogan.mi_warmup)
        self.q_augment = None  # Q's view of G's images (infogan.q_augment); its stream only if set
        if self.section.q_augment:
            self.rngs["q_augment"] = stream(config.train.seed, len(RNG_STREAMS), device)
            self.q_augment = DiffAugment(self.section.q_augment, self.rngs["q_augment"])
        self._dq = nn.ModuleDict({"D": self.D, "Q": self.Q})  # the D phase's gradient norm
        self.phases = (
            Phase("D", self.opt_d, self._dq, o.lr_d, "lr_d", "grad_norm_d", config.game.d_steps),
            self.phases[1],
        )

    @property
    def modules(self) -> dict[str, nn.Module]:
        return {**super().modules, "Q": self.Q}

    def train(self, mode: bool = True) -> None:
        super().train(mode)
        self.Q.train(mode)

    def begin(self, step: int) -> None:
        super().begin(step)
        warmup = self.section.mi_warmup
        self.info_scale = min(1.0, step / warmup) if warmup > 0 else 1.0

    def codes(self, m: int) -> tuple[Tensor, Tensor, Tensor]:
        return info_latent(m, self.cfg.model, self.section, self.rngs["noise"], self.device)

    def _information(self, x: Tensor, code: Tensor, cont: Tensor):
        if self.q_augment is not None:
            x = self.q_augment(x)
        ce, nll = information_terms(self.D, self.Q, x, code, cont)
        s, scale = self.section, self.info_scale
        weights = (s.mi_weight * scale, s.continuous_weight * scale)
        return information_loss(ce, nll, *weights), ce, nll

    def discriminator_loss(self, m: int):
        """D's game loss on fresh real and generated minibatches, plus Q's information term
        on the generated ones (G not differentiated)."""
        real = self.real(m)
        with self.autocast():
            with torch.no_grad():
                z, code, cont = self.codes(m)
                fake = Batch(self.G(z, code, cont))
            loss, stats = self.game.discriminator_loss(self.D, real, fake, self.d_update)
            info, ce, nll = self._information(fake.x, code, cont)
            clustering, cluster_stats = self._real_clustering(real.x)
        self.d_update += 1
        total = loss + info + clustering
        s = self.section
        stats = {
            **stats,
            **cluster_stats,
            "d_loss": total.detach(),
            "d_adversarial": loss.detach(),
            "q_categorical": ce.detach(),
            "q_continuous": nll.detach(),
            "mi_bound": mutual_info_bound(ce.detach(), 0.0, s.categories, 0),
        }
        return total, stats

    def _real_clustering(self, x: Tensor) -> tuple[Tensor | float, dict]:
        """``infogan.real_cluster_weight * (H(c | x) - H(c))`` of Q on the real images ``x``
        (`gankit.game.mutual_info.clustering_loss`), and its two entropies to log; 0 and
        nothing where the weight is 0 (D's and Q's passes are then the paper's)."""
        weight = self.section.real_cluster_weight
        if weight == 0:
            return 0.0, {}
        logits, _ = self.Q(self.D.features(x))
        conditional, marginal = clustering_loss(logits)
        stats = {"q_real_entropy": conditional.detach(), "q_real_marginal": marginal.detach()}
        return weight * (conditional - marginal), stats

    def generator_loss(self, m: int):
        """G's game loss (a real minibatch only for feature matching) plus the information
        term of its codes, differentiated through G."""
        real = self.real(m) if self.game.needs_real_for_g else None
        z, code, cont = self.codes(m)
        fake = Batch(self.G(z, code, cont))
        loss, stats = self.game.generator_loss(self.D, fake, real=real)
        info, ce, nll = self._information(fake.x, code, cont)
        total = loss + info
        return total, {
            **stats,
            "g_loss": total.detach(),
            "g_adversarial": loss.detach(),
            "g_information": info.detach(),
        }

    def sample_images(self, n: int, rng: torch.Generator) -> Tensor:
        """G's (its EMA's) samples with codes drawn from their prior, for the evaluator."""
        return generate_codes(self.sampler, self.cfg.model, self.section, n, rng, self.device)

    def eval_state(self, step: int) -> EvalState:
        """G's samples, D read through the loss, and the family's metrics at ``step`` (the
        code metrics of `gankit.recipes.infogan.evaluation`, which the recipe passes)."""
        family = None
        if self._family_metrics is not None:

            def family() -> dict:
                return self._family_metrics(self, step)

        return EvalState(self.sample_images, step, self.D, self.cfg.game.loss, None, family)
