"""The semi-supervised GAN's side of the loop (Salimans et al. 2016, sec. 5), as a `Trainable`.

Phase ``D`` (once per step): a labelled minibatch (``semi.labelled_batch_size``, the
``labelled`` stream; with or without replacement, ``semi.labelled_replacement``), an
unlabelled one (``train.batch_size``, the ``data`` stream) and as many generated images (the
``noise`` stream, G not differentiated), read by D in ONE forward pass (so that batch norm
normalises them together); the loss is ``w_s * L_supervised + w_u *
L_unsupervised`` (`gankit.game.semisupervised`), plus ``semi.entropy_weight`` times the
entropy of D's class posterior on the unlabelled minibatch, plus ``semi.manifold_weight``
times the manifold regulariser (`gankit.game.semisupervised.manifold_penalty`: D's class
logits on ``G(z)`` against ``G(z + eps * r)``, both images from one pass of G, not
differentiated, read by D in a second pass without input noise; z from the ``noise`` stream,
r from the ``game`` stream). Phase ``G``: a fresh unlabelled
minibatch and generated images, one forward pass of D's body (D's weights not
differentiated), and feature matching (`gankit.game.terms.feature_matching`) of their mean
features. With ``semi.input_noise`` every image D reads in training gets Gaussian noise,
with ``semi.hidden_noise`` every hidden activation of D (both from the ``game`` stream).

The supervised baseline (``semi.adversarial = false``): phase ``D`` alone on the labelled
minibatch, ``w_s * L_supervised``; no G. Logged: ``d_loss``, ``supervised_loss``,
``unsupervised_loss``, ``class_entropy`` (where ``semi.entropy_weight > 0``),
``manifold_penalty`` (where ``semi.manifold_weight > 0``),
``labelled_accuracy`` (D's accuracy on the labelled minibatch) and ``g_loss`` (feature
matching).

With ``semi.classifier_ema`` an average of D's iterates (`IterateEma`, moved after each
D-update) is the classifier every evaluation reads; it is checkpointed as `CLASSIFIER_EMA`.
The live D still plays the game and is the one G's evaluation reads as a score.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gankit.config import Config
from gankit.data.datasets import ImageSource
from gankit.errors import GankitError
from gankit.eval import EvalState
from gankit.game.semisupervised import (
    discriminator_loss,
    manifold_penalty,
    predicted_classes,
)
from gankit.game.terms import feature_matching
from gankit.nets.ema import IterateEma
from gankit.nets.latent import generate, run_generator, sample_latent
from gankit.nets.semisupervised import RealScore, SemiSupervisedDiscriminator
from gankit.recipes.semisupervised.evaluation import accuracy_metrics
from gankit.runs import GENERATOR_EMA
from gankit.train.optim import make_optimizer
from gankit.train.trainable import Phase, source_device, stream

#: the family's random streams, in the order their seeds are derived
RNG_STREAMS = ("data", "noise", "labelled", "game")
#: the checkpoint's module name of D's average (``semi.classifier_ema``)
CLASSIFIER_EMA = "D_ema"


def no_generator(n: int, rng: torch.Generator) -> Tensor:
    """The baseline's sampler: it has no G (its evaluator never samples)."""
    raise GankitError("semi.adversarial = false trains no generator: there is nothing to sample")


class SemiSupervisedTrainable:
    """D (and G, unless the baseline) on the labelled and unlabelled training images (see the
    module docstring); ``data``: the run's image data, whose held-out split evaluation reads."""

    def __init__(
        self,
        config: Config,
        data,
        labelled: ImageSource,
        unlabelled: ImageSource,
        discriminator: SemiSupervisedDiscriminator,
        generator: nn.Module | None,
        device: torch.device,
        inputs: dict,
    ):
        self.cfg = config
        self.semi = config.section("semi")
        self.data = data
        self.inputs = inputs
        self.device = device
        if device.type != "cpu":
            labelled.to(device)
            unlabelled.to(device)
        self.labelled, self.unlabelled = labelled, unlabelled
        self.D = discriminator.to(device)
        self.G = None if generator is None else generator.to(device)
        self.adversarial = self.G is not None
        self.ema = IterateEma.of(self.G, config.model.ema)
        seed = config.train.seed
        devices = {
            "data": source_device(unlabelled),
            "labelled": source_device(labelled),
            "noise": device,
            "game": device,
        }
        self.rngs = {name: stream(seed, i, devices[name]) for i, name in enumerate(RNG_STREAMS)}
        # copied before the hidden noise is set: the average classifies, it never trains
        self.d_ema = IterateEma.of(self.D, self.semi.classifier_ema)
        self.D.set_hidden_noise(self.semi.hidden_noise, self.rngs["game"])
        o = config.optim
        self.opt_d = make_optimizer(self.D.parameters(), o.lr_d, o)
        phases = [Phase("D", self.opt_d, self.D, o.lr_d, "lr_d", "grad_norm_d")]
        if self.adversarial:
            self.opt_g = make_optimizer(self.G.parameters(), o.lr_g, o)
            phases.append(Phase("G", self.opt_g, self.G, o.lr_g, "lr_g", "grad_norm_g"))
        self.phases = tuple(phases)
        self.loss_keys = ("d_loss", "g_loss") if self.adversarial else ("d_loss",)
        self.progress = (("sup", "supervised_loss"), ("acc", "labelled_accuracy"))
        if self.adversarial:
            self.progress += (("g", "g_loss"),)
        self.labelled_batch = self.semi.labelled_batch_size or config.train.batch_size

    # -------------------------------------------------------------------- state

    @property
    def modules(self) -> dict[str, nn.Module]:
        modules = {"D": self.D}
        if self.adversarial:
            modules["G"] = self.G
        if self.ema is not None:
            modules[GENERATOR_EMA] = self.ema.module
        if self.d_ema is not None:
            modules[CLASSIFIER_EMA] = self.d_ema.module
        return modules

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        if not self.adversarial:
            return {"opt_d": self.opt_d}
        return {"opt_d": self.opt_d, "opt_g": self.opt_g}

    @property
    def classifier(self) -> SemiSupervisedDiscriminator:
        """The D that classifies: its average where ``semi.classifier_ema`` keeps one, else D."""
        return self.d_ema.module if self.d_ema is not None else self.D

    @property
    def sampler(self) -> nn.Module | None:
        """G's EMA where kept, else G; None for the baseline."""
        return self.ema.module if self.ema is not None else self.G

    def train(self, mode: bool = True) -> None:
        for module in (self.D, self.G):
            if module is not None:
                module.train(mode)

    def eval_state(self, step: int) -> EvalState:
        """G's samples and D read as ``D(x) = Z / (Z + 1)`` (`RealScore`), with D's held-out
        and unlabelled accuracies as the family's metrics; the baseline: those alone."""

        def family_metrics() -> dict[str, float]:
            return accuracy_metrics(
                self.classifier, self.data, self.unlabelled.dataset, self.device
            )

        if not self.adversarial:
            return EvalState(no_generator, step, family_metrics=family_metrics)
        sampler, model, device = self.sampler, self.cfg.model, self.device

        def sample(n: int, rng: torch.Generator) -> Tensor:
            return generate(sampler, model, n, rng, device)

        return EvalState(
            sample, step, RealScore(self.D), "nonsaturating", family_metrics=family_metrics
        )

    # -------------------------------------------------------------------- the step

    def begin(self, step: int) -> None:
        pass

    def _noisy(self, x: Tensor) -> Tensor:
        std = self.semi.input_noise
        if std <= 0:
            return x
        noise = torch.randn(x.shape, generator=self.rngs["game"], device=x.device)
        return x + std * noise.to(x.dtype)

    def _generated(self, m: int) -> Tensor:
        latent = sample_latent(m, self.cfg.model, self.rngs["noise"], self.device)
        return run_generator(self.G, latent)

    def accumulate_gradients(self, phase: str, log: bool) -> dict[str, Tensor]:
        if phase == "D":
            loss, stats = self.discriminator_loss()
        else:
            loss, stats = self.generator_loss()
        loss.backward()
        return stats

    def discriminator_loss(self) -> tuple[Tensor, dict[str, Tensor]]:
        """D's loss on labelled, unlabelled and generated minibatches (one forward pass)."""
        s = self.semi
        lab = self.labelled.batch(
            self.labelled_batch, self.rngs["labelled"], replacement=s.labelled_replacement
        ).to(self.device)
        n_lab = len(lab)
        parts = [lab.x]
        if self.adversarial:
            m = self.cfg.train.batch_size
            parts.append(self.unlabelled.batch(m, self.rngs["data"]).x.to(self.device))
            with torch.no_grad():
                parts.append(self._generated(m))
        logits = self.D(self._noisy(torch.cat(parts)))
        unlabelled = fake = None
        if self.adversarial:
            unlabelled, fake = logits[n_lab : n_lab + m], logits[n_lab + m :]
        loss, stats = discriminator_loss(
            logits[:n_lab],
            lab.y,
            unlabelled,
            fake,
            s.supervised_weight,
            s.unsupervised_weight if self.adversarial else 0.0,
            s.entropy_weight if self.adversarial else 0.0,
        )
        if self.adversarial and s.manifold_weight > 0:
            penalty = self._manifold_penalty(m)
            stats["manifold_penalty"] = penalty.detach()
            loss = loss + s.manifold_weight * penalty
            stats["d_loss"] = loss.detach()
        hits = predicted_classes(logits[:n_lab].detach()) == lab.y
        stats["labelled_accuracy"] = hits.float().mean()
        return loss, stats

    def _manifold_pair(self, m: int) -> Tensor:
        """``(2m, C, H, W)``: ``G(z)`` then ``G(z + eps * r)`` for ``m`` latents, in one pass of
        G (batch norm sees both halves), G not differentiated."""
        latent = sample_latent(m, self.cfg.model, self.rngs["noise"], self.device)
        r = torch.randn(latent.z.shape, generator=self.rngs["game"], device=latent.z.device)
        r = r / r.norm(dim=1, keepdim=True)
        z = torch.cat([latent.z, latent.z + self.semi.manifold_epsilon * r])
        with torch.no_grad():
            return self.G(z)

    def _manifold_penalty(self, m: int) -> Tensor:
        """The manifold regulariser of ``m`` latents (`manifold_penalty`), D differentiated."""
        logits = self.D(self._manifold_pair(m))
        return manifold_penalty(logits[:m], logits[m:])

    def generator_loss(self) -> tuple[Tensor, dict[str, Tensor]]:
        """Feature matching of D's body on a fresh unlabelled minibatch and generated images."""
        m = self.cfg.train.batch_size
        real = self.unlabelled.batch(m, self.rngs["data"]).x.to(self.device)
        fake = self._generated(m)
        self.D.requires_grad_(False)  # G's phase: no gradient into D's weights
        try:
            features = self.D.features(self._noisy(torch.cat([real, fake])))
        finally:
            self.D.requires_grad_(True)
        loss = feature_matching(features[:m].detach(), features[m:])
        return loss, {"g_loss": loss.detach()}

    def after_update(self, phase: str, step: int) -> None:
        if phase == "G" and self.ema is not None:
            self.ema.after_update(step)
        if phase == "D" and self.d_ema is not None:
            self.d_ema.after_update(step)

    def extra_row(self) -> dict[str, float]:
        return {}
