"""The game: the objective (loss + penalties + clipping + remedies) of both players, no schedule.

`Game` computes each player's loss from the nets it is handed; the GAN's trainable
(`gankit.recipes.gan.step`) decides when to call it and backpropagates, and the loop
(`gankit.train.loop`) steps the optimizers. Every loss takes the discriminator as a callable
(a module, or a `~gankit.game.unrolled.FunctionalDiscriminator` whose parameters are tensors) so
that it can run functionally, which unrolled GANs differentiate through.

The objective-side remedies are switches of ``game.*`` in the config, validated here against the
loss and the model (errors name the key):

* ``penalties`` (gp, r1, r2, roth, ...: `gankit.game.penalties`), weight clipping for WGAN;
* ``label_smoothing``: one-sided, real target ``1 - s`` (Salimans et al. 2016), sigmoid losses;
* ``instance_noise`` / ``instance_noise_steps``: Gaussian noise on all of D's inputs, annealed
  (Sønderby et al. 2017; Arjovsky & Bottou 2017), `gankit.game.noise`; the trainer tells the
  game the step with :meth:`Game.set_step`;
* ``feature_matching`` / ``adversarial_g``: G matches the mean of D's features on real data
  (Salimans et al. 2016, sec. 3.1), `gankit.game.terms`;
* ``unroll``: G's loss against D after k differentiable D steps (Metz et al. 2017),
  `gankit.game.unrolled`, via :meth:`Game.unrolled`;
* ``diversity``: both players minimise D's which-generator cross-entropy on generated samples
  (MAD-GAN, Ghosh et al. 2018, in MGAN's loss-agnostic form, Hoang et al. 2018);
* ``augment``: DiffAugment (Zhao et al. 2020), `gankit.game.augment`: D reads every image,
  real or generated, in its losses and its penalties, through the same random differentiable
  transforms (inside D, as StyleGAN2-ADA's ``run_D``: penalties differentiate through them);
  ``augment_p`` < 1 applies each transform to each image with that probability (ADA's p).

What flows in: the real minibatch is a `~gankit.data.batch.Batch` as the source returned it,
the generated one a `Batch` made by :meth:`Game.fake` from a `~gankit.data.batch.Latent` (its
class ``y`` attached); labels, codes and paired inputs ride along untouched, so families that
need them add terms here, not code paths in the trainer. Plain tensors are accepted as
``Batch(x)``.

The discriminator contract the remedies read: ``D(x) -> (n', 1)`` raw scores, and where feature
matching or the diversity term is on ``D.features(x) -> (n', F)``, ``D.score(f) -> (n', 1)`` with
``D(x) = D.score(D.features(x))``, ``D.identity(f) -> (n', n_generators)``; ``D.standardize.scale``
(the data's standard scale) where present sets the units of instance noise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from gankit.config import GameConfig, ModelConfig
from gankit.data.batch import Batch, Latent
from gankit.errors import GankitError
from gankit.game import terms
from gankit.game.augment import DiffAugment, check_probability
from gankit.game.losses import Loss, d_readout, get_loss, label_smoothed_d_loss
from gankit.game.noise import add_instance_noise, instance_noise_std
from gankit.game.penalties import Penalty, check_weight, clip_weights, get_penalty
from gankit.game.unrolled import FunctionalDiscriminator, rule_from_optimizer, unroll
from gankit.nets.latent import run_generator

ScoreFn = Callable[[Tensor], Tensor]


def as_batch(examples: Tensor | Batch) -> Batch:
    """``examples`` as a `Batch` (a bare tensor is ``Batch(x)``)."""
    return examples if isinstance(examples, Batch) else Batch(examples)


class LabelledDiscriminator:
    """A class-conditional D with the classes ``y (n,)`` of the images it will read bound:
    ``D(x, y)``, ``score(f, y)``; ``features`` and ``identity`` do not read the class."""

    def __init__(self, discriminator, y: Tensor | None):
        if y is None:
            raise ValueError("model.conditional: a minibatch came without its class labels y")
        self.discriminator = discriminator
        self.y = y
        self.standardize = getattr(discriminator, "standardize", None)

    def __call__(self, x: Tensor) -> Tensor:
        return self.discriminator(x, self.y)

    def features(self, x: Tensor) -> Tensor:
        return self.discriminator.features(x)

    def score(self, f: Tensor) -> Tensor:
        return self.discriminator.score(f, self.y)

    def identity(self, f: Tensor) -> Tensor:
        return self.discriminator.identity(f)


class AugmentedDiscriminator:
    """D reading its inputs through DiffAugment: ``D(T(x))``, ``features(T(x))``; the heads
    that read features (``score``, ``identity``) are D's own."""

    def __init__(self, discriminator, augment: DiffAugment):
        self.discriminator = discriminator
        self.augment = augment
        self.standardize = getattr(discriminator, "standardize", None)

    def __call__(self, x: Tensor) -> Tensor:
        return self.discriminator(self.augment(x))

    def features(self, x: Tensor) -> Tensor:
        return self.discriminator.features(self.augment(x))

    def score(self, f: Tensor) -> Tensor:
        return self.discriminator.score(f)

    def identity(self, f: Tensor) -> Tensor:
        return self.discriminator.identity(f)


class Game:
    """Goodfellow's two-player game with a chosen objective, regularisers and remedies.

    ``config``: the ``game`` section; ``generator``: the game's random stream (penalties'
    interpolates, instance noise); ``model``: the ``model`` section (number of generators and
    packing, for the diversity term; defaults when omitted); ``total_steps``: ``train.steps``,
    over which instance noise anneals when ``game.instance_noise_steps`` is 0 (0 or omitted:
    no annealing). Raises `GankitError` naming the key of a switch that does not fit."""

    def __init__(
        self,
        config: GameConfig,
        generator: torch.Generator | None = None,
        model: ModelConfig | None = None,
        total_steps: int = 0,
    ):
        model = model if model is not None else ModelConfig()
        self.config = config
        try:
            self.loss: Loss = get_loss(config.loss)
        except ValueError as exc:
            raise GankitError(f"game.loss: {exc}") from None
        sigmoid_only = f"only for the sigmoid losses (minimax, nonsaturating), not '{config.loss}'"
        self.penalties: list[tuple[Penalty, float]] = []
        for name, weight in config.penalties.items():
            try:
                penalty = get_penalty(name)
            except ValueError as exc:
                raise GankitError(f"game.penalties.{name}: {exc}") from None
            weight = check_weight(name, weight)  # finite, in [0, MAX_PENALTY_WEIGHT]
            if penalty.probabilities and not self.loss.probabilities:
                raise GankitError(
                    f"game.penalties.{name}: reads D as a probability; {sigmoid_only}"
                )
            if weight > 0:
                self.penalties.append((penalty, float(weight)))
        names = {p.name for p, _ in self.penalties}
        # WGAN keeps its critic Lipschitz by clipping unless a gradient penalty does it instead.
        self.clip = config.clip if self.loss.lipschitz and "gp" not in names else None
        if config.label_smoothing > 0 and not self.loss.probabilities:
            raise GankitError(f"game.label_smoothing: one-sided label smoothing is {sigmoid_only}")
        if not config.adversarial_g and config.feature_matching <= 0:
            raise GankitError(
                "game.adversarial_g: false leaves G without a loss; "
                "set game.feature_matching > 0 as well"
            )
        self.n_generators = model.generators
        if config.diversity > 0:
            if model.generators < 2:
                raise GankitError(
                    "game.diversity: the which-generator term needs model.generators > 1"
                )
            if model.pack > 1:
                raise GankitError(
                    "game.diversity: D judges packed samples (model.pack > 1), which mix "
                    "generators; use model.pack = 1"
                )
            if model.d_input != "samples":
                raise GankitError(
                    "game.diversity: D judges minibatch moments (model.d_input = "
                    f"'{model.d_input}'), not single samples; use model.d_input = 'samples'"
                )
        self.conditional = model.conditional
        if self.conditional:
            self._check_conditional(config)
        self.anneal_steps = config.instance_noise_steps or total_steps
        self.rng = generator
        self.step = 0
        try:
            probability = check_probability(config.augment_p)
        except ValueError as exc:
            raise GankitError(f"game.augment_p: {exc}") from None
        try:
            augment = DiffAugment(config.augment, generator, probability)
        except ValueError as exc:
            raise GankitError(f"game.augment: {exc}") from None
        if not augment and probability < 1.0:
            raise GankitError(
                f"game.augment_p = {probability} has no transform to apply: set game.augment "
                "(e.g. translation) or leave game.augment_p at 1"
            )
        self.augment = augment if augment else None

    def _check_conditional(self, config: GameConfig) -> None:
        """A conditional D scores an image with its class: refuse what reads D elsewhere."""
        for penalty, _ in self.penalties:
            if penalty.reads not in ("real", "fake"):
                raise GankitError(
                    f"game.penalties.{penalty.name}: reads D at points between (or of both) real "
                    "and generated images, whose classes differ; with model.conditional use r1 "
                    "or r2"
                )
        if config.unroll > 0:
            raise GankitError(
                "game.unroll: the unrolled D does not read classes; model.conditional needs "
                "game.unroll = 0"
            )

    # -------------------------------------------------------------------- schedule and checks

    def set_step(self, step: int) -> None:
        """Tell the game the trainer's step (0-based); schedules are pure functions of it."""
        self.step = step

    def penalties_due(self, d_update: int) -> bool:
        """Whether D's ``d_update``-th update (0-based, over the whole run) carries the
        penalties: every one, or every ``game.penalty_every``-th (lazy regularisation)."""
        return d_update % self.config.penalty_every == 0

    @property
    def noise_std(self) -> float:
        """Instance noise std (standard units) at the current step: 0 when off."""
        return instance_noise_std(self.step, self.config.instance_noise, self.anneal_steps)

    @property
    def needs_features(self) -> bool:
        return self.config.feature_matching > 0 or self.config.diversity > 0

    @property
    def needs_real_for_g(self) -> bool:
        """Whether :meth:`generator_loss` needs a real minibatch (feature matching)."""
        return self.config.feature_matching > 0

    def check_discriminator(self, discriminator: nn.Module) -> None:
        """Refuse a discriminator that lacks what the switched-on remedies read."""
        wanted = []
        if self.config.feature_matching > 0:
            wanted.append(("game.feature_matching", ("features", "score")))
        if self.config.diversity > 0:
            wanted.append(("game.diversity", ("features", "score", "identity")))
        for key, methods in wanted:
            missing = [m for m in methods if not callable(getattr(discriminator, m, None))]
            if missing:
                raise GankitError(
                    f"{key}: the discriminator ({type(discriminator).__name__}) has no "
                    f"{', '.join(missing)}(); this remedy reads D's features"
                )

    # -------------------------------------------------------------------- the players' moves

    def fake(self, generator: nn.Module, latent: Latent) -> Batch:
        """G's move: the generated minibatch ``Batch(G(latent), y=latent.y)``."""
        return Batch(run_generator(generator, latent), y=latent.y)

    def _noisy(self, d: ScoreFn, batch: Batch) -> Batch:
        std = self.noise_std
        if std <= 0:
            return batch
        standardize = getattr(d, "standardize", None)
        scale = getattr(standardize, "scale", 1.0) if standardize is not None else 1.0
        return batch.with_x(add_instance_noise(batch.x, std, scale, self.rng))

    def _view(self, d, y: Tensor | None = None):
        """D as the losses read it: with the images' classes ``y`` bound where D is
        conditional, through DiffAugment where ``game.augment`` is set."""
        if self.conditional:
            d = LabelledDiscriminator(d, y)
        return AugmentedDiscriminator(d, self.augment) if self.augment is not None else d

    def _d_objective(
        self, d, real: Batch, fake: Batch, penalize: bool = True
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """D's loss without detaching ``fake`` (the unrolled steps differentiate through it);
        ``penalize``: with the penalties (lazy regularisation leaves them out on most updates,
        and scales them by ``game.penalty_every`` where they apply)."""
        cfg = self.config
        penalties = self.penalties if penalize else []
        scale = float(cfg.penalty_every)
        d_fake = self._view(d, fake.y)
        d = self._view(d, real.y) if self.conditional else d_fake
        if cfg.instance_noise > 0:
            real, fake = self._noisy(d, real), self._noisy(d, fake)
        if penalties:
            # Penalties that differentiate D at the real points reuse these scores (R1's
            # double backward then costs one forward pass less).
            real = real.with_x(real.x.detach().requires_grad_(True))
        real_scores = d(real.x)
        fake_features = None
        if cfg.diversity > 0:
            fake_features = d_fake.features(fake.x)
            fake_scores = d_fake.score(fake_features)
        else:
            fake_scores = d_fake(fake.x)
        if cfg.label_smoothing > 0:
            d_loss = label_smoothed_d_loss(real_scores, fake_scores, cfg.label_smoothing)
        else:
            d_loss, _ = self.loss(real_scores, fake_scores)
        stats = {
            "d_real": d_readout(self.loss, real_scores.detach()).mean(),
            "d_fake": d_readout(self.loss, fake_scores.detach()).mean(),
        }
        if cfg.instance_noise > 0:
            stats["instance_noise"] = torch.tensor(self.noise_std)
        total = d_loss
        scored_real = real.x

        def d_cached(x: Tensor) -> Tensor:
            return real_scores if x is scored_real else d(x)

        for penalty, weight in penalties:
            # a conditional game keeps only penalties that read D at one side's own images
            d_penalty = d_fake if penalty.reads == "fake" and self.conditional else d_cached
            value = penalty.fn(d_penalty, real.x, fake.x, self.rng)
            stats[f"penalty_{penalty.name}"] = value.detach()
            total = total + (weight * scale) * value
        if fake_features is not None:
            ce = terms.identity_loss(d.identity(fake_features), self.n_generators)
            stats["diversity_d"] = ce.detach()
            total = total + cfg.diversity * ce
        stats["d_loss"] = total.detach()
        return total, stats

    def discriminator_loss(
        self,
        d_fn: ScoreFn,
        real: Batch | Tensor,
        fake: Batch | Tensor,
        d_update: int = 0,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """D's loss on a real and a generated minibatch (``fake`` is detached here).

        ``real``/``fake``: batches (or tensors) of ``(n, ...)`` in data units. Returns the
        scalar loss and detached statistics: ``d_real``/``d_fake`` (probabilities for sigmoid
        losses, raw scores otherwise), each penalty's value, and the remedies' terms where on.
        With instance noise the losses and the penalties all see the noisy samples.
        ``d_update``: the update's index over the run (0-based), for lazy regularisation."""
        fake = as_batch(fake)
        penalize = self.penalties_due(d_update)
        return self._d_objective(d_fn, as_batch(real), fake.with_x(fake.x.detach()), penalize)

    def generator_loss(
        self, d_fn: ScoreFn, fake: Batch | Tensor, real: Batch | Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """G's loss on a generated minibatch (gradients flow through ``fake`` into G).

        ``d_fn``: D, or the unrolled D of :meth:`unrolled`; ``real``: a real minibatch, needed
        (only) with feature matching. The loss is the adversarial term (unless
        ``game.adversarial_g`` is false) + ``feature_matching`` * the squared distance of D's
        mean features + ``diversity`` * the which-generator cross-entropy."""
        cfg = self.config
        fake = as_batch(fake)
        d_fn = self._view(d_fn, fake.y)
        if cfg.instance_noise > 0:
            fake = self._noisy(d_fn, fake)
        if not self.needs_features:
            fake_scores = d_fn(fake.x)
            # The losses' g term reads only the fake scores; the real slot is never used for it.
            _, g_loss = self.loss(fake_scores.detach(), fake_scores)
            return g_loss, {"g_loss": g_loss.detach()}
        fake_features = d_fn.features(fake.x)
        stats: dict[str, Tensor] = {}
        total = torch.zeros((), device=fake.x.device, dtype=fake.x.dtype)
        if cfg.adversarial_g:
            fake_scores = d_fn.score(fake_features)
            _, adversarial = self.loss(fake_scores.detach(), fake_scores)
            stats["g_adversarial"] = adversarial.detach()
            total = adversarial
        if cfg.feature_matching > 0:
            if real is None:
                raise ValueError("feature matching needs a real minibatch (generator_loss real=)")
            real = as_batch(real)
            if cfg.instance_noise > 0:
                real = self._noisy(d_fn, real)
            fm = terms.feature_matching(d_fn.features(real.x), fake_features)
            stats["feature_matching"] = fm.detach()
            total = total + cfg.feature_matching * fm
        if cfg.diversity > 0:
            ce = terms.identity_loss(d_fn.identity(fake_features), self.n_generators)
            stats["diversity_g"] = ce.detach()
            total = total + cfg.diversity * ce
        stats["g_loss"] = total.detach()
        return total, stats

    def unrolled(
        self,
        discriminator: nn.Module,
        batches: Sequence[tuple[Batch, Batch]],
        optimizer: torch.optim.Optimizer,
    ) -> FunctionalDiscriminator:
        """D after ``len(batches)`` unrolled steps of its own loss (Metz et al. 2017), for
        :meth:`generator_loss`. ``batches``: fresh ``(real, fake)`` pairs with ``fake`` still
        attached to G; ``optimizer``: D's, whose rule (Adam with its state, else SGD) and
        current learning rate the unrolled steps follow. D and the optimizer are not changed."""
        rule = rule_from_optimizer(optimizer, discriminator)

        def d_loss(view, real, fake):
            return self._d_objective(view, as_batch(real), as_batch(fake))[0]

        return unroll(d_loss, discriminator, batches, rule, clip=self.clip)

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        if self.clip is not None:
            clip_weights(discriminator, self.clip)
