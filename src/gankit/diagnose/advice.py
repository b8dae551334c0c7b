"""What to try: the remedies each detector suggests, and which preset fixes which failure.

Each piece of advice names the ``--set`` switch or the ``--preset`` that applies it; a run is
never sent to the preset it already runs. Image runs (DCGAN) get their own remedies
(`image_mode_collapse`, `image_non_convergence`, `image_overfit`): no preset remedies them yet.
"""

from __future__ import annotations

from gankit.diagnose.common import FAMILIES_WITHOUT_D, cfg_value

# failure preset -> its remedied preset; otherwise the toy's best preset
REMEDIED_PRESETS = {
    "oscillation": "oscillation-fixed",
    "dirac-gan": "dirac-gan-r1",
    "vanishing-gradients": "vanishing-gradients-fixed",
    "gaussian-1d-moments": "gaussian-1d-moments-fixed",
    "gaussian-1d-small-data": "gaussian-1d-small-data-r1",
}
BEST_PRESETS = {"ring-8": "ring-8-best", "grid-25": "grid-25-best"}


def own_fix(config) -> str | None:
    """The remedied preset of the failure preset this run came from, if any (never the run's own
    preset)."""
    preset = cfg_value(config, "preset", "")
    fix = REMEDIED_PRESETS.get(preset)
    return fix if fix != preset else None


def best_preset(config) -> str | None:
    """The preset that remedies this run: the failure preset's own fix, else its toy's best;
    None where that is the preset being run (a failing ``ring-8-best`` is not sent to itself)."""
    preset = cfg_value(config, "preset", "")
    best = own_fix(config) or BEST_PRESETS.get(cfg_value(config, "data.name", ""))
    return best if best != preset else None


def diverged(config) -> list[str]:
    advice = [
        "lower both learning rates, e.g. --set optim.lr_d=2e-4 --set optim.lr_g=2e-4",
        "add a gradient penalty on D: --set game.penalties.r1=1.0",
    ]
    if cfg_value(config, "game.loss", "") == "wasserstein":
        advice.append("for the critic, use --set game.penalties.gp=10.0 instead of clipping")
    advice.append("warm the learning rate up: --set optim.warmup=200")
    return advice


def vanishing_gradients(config) -> list[str]:
    return [
        "use the non-saturating loss: --set game.loss=nonsaturating "
        "(--preset vanishing-gradients-fixed)",
        "weaken D: --set game.d_steps=1 and a lower --set optim.lr_d",
        "smooth D's slope: --set game.penalties.r1=1.0",
        "blur both distributions so they overlap: --set game.instance_noise=1.0",
    ]


def without_discriminator(config, remedies: list[str]) -> list[str]:
    """``remedies`` (a GAN's switches) where the run is a GAN; for a family with no
    discriminator, whose config refuses those switches, the one comparison that says what a GAN
    does on the same data instead."""
    family = cfg_value(config, "model.family", "gan")
    if family not in FAMILIES_WITHOUT_D:
        return remedies
    return [
        f"model.family = {family} has no discriminator, so none of a GAN's remedies applies: "
        "train a GAN preset on the same data and set the two side by side (gankit compare RUN "
        "GAN_RUN)"
    ]


def mode_collapse(config, n_modes: int) -> list[str]:
    """Remedies of a collapse onto a few of ``n_modes`` known modes (0: unknown)."""
    best = best_preset(config)
    mixture = f"--set model.generators={n_modes}" if n_modes else "--set model.generators=N"
    return ([f"the remedied preset: --preset {best}"] if best else []) + [
        f"a mixture of generators, one per mode: {mixture} "
        "(MAD-GAN; add --set game.diversity=1.0 to keep them apart)",
        "blur both distributions early on: --set game.instance_noise=0.5 (annealed to 0)",
        "let D judge samples in pairs: --set model.pack=2 (PacGAN)",
        "penalise D's slope on the data: --set game.penalties.r1=0.05",
        "decay the learning rate: --set optim.schedule=linear",
    ]


def narrow_spread(config) -> list[str]:
    """Remedies of 1-D samples that spread far less than the data (no modes known)."""
    best = best_preset(config)
    return mode_collapse(config, 0)[1 if best else 0 :] + [
        "use normal noise: --set model.noise=normal"
    ]


def non_convergence(config) -> list[str]:
    advice = [
        "penalise D's slope on the data (damps the rotation, Mescheder et al. 2018): "
        "--set game.penalties.r1=1.0",
        "use Adam with a smaller step: --set optim.name=adam --set optim.lr_d=2e-4 "
        "--set optim.lr_g=2e-4",
        "decay the learning rate: --set optim.schedule=linear",
        "average G's weights: --set model.ema=0.999",
    ]
    if cfg_value(config, "game.loss", "") == "wasserstein":
        advice.insert(0, "replace clipping by a gradient penalty: --set game.penalties.gp=10.0")
    best = best_preset(config)
    if best:
        advice.append(f"the remedied preset: --preset {best}")
    return advice


def discriminator_overfit(config) -> list[str]:
    fix = own_fix(config)
    return [
        "penalise D's slope on the data, so it cannot put a bump on each training point: "
        "--set game.penalties.r1=3.0",
        "blur both distributions early on: --set game.instance_noise=0.5",
        "more training data: --set data.train_size=N (0: fresh samples every step)",
        "a smaller discriminator: --set model.d_width=32",
    ] + ([f"the remedied preset: --preset {fix}"] if fix else [])


# images: R1 per sample needs a D without batch norm (batch statistics mix the samples)
IMAGE_R1 = "--set game.penalties.r1=0.1 --set model.d_norm=layer (try 0.01-1)"


def image_mode_collapse(config) -> list[str]:
    """Remedies of a DCGAN whose images collapse onto a few classes or lose their variety;
    only switches the run can still take (a conditional D judges no packs; an EMA kept)."""
    conditional = bool(cfg_value(config, "model.conditional", False))
    g_fc = cfg_value(config, "model.g_fc", 0) or 0
    remedies = [
        (
            conditional and g_fc > 0,
            f"drop G's fully-connected layer of {g_fc} units: --set model.g_fc=0 (the one-hot "
            "class switches whole units on and off there; on MNIST a conditional G with 256 "
            "drew a few images per class, recall 0, issue 24)",
        ),
        (
            not conditional,
            "where the images have labels, ask G for every class in its share: "
            "--set model.conditional=true (a class-conditional GAN, as the digits preset)",
        ),
        (
            not cfg_value(config, "model.spectral_norm", False),
            "train D as SNGAN: --set model.spectral_norm=true --set game.loss=hinge --set "
            "optim.beta1=0 --set optim.beta2=0.9 (Miyato et al. 2018; on MNIST it took the "
            "rarest class from 4 % to 8 % of the samples, issue 23)",
        ),
        (
            True,
            "let D see each minibatch's variety: --set model.minibatch_std=true "
            "(Karras et al. 2018)",
        ),
        (not conditional, "let D judge images in pairs: --set model.pack=2 (PacGAN)"),
        (True, f"penalise D's slope on the real images: {IMAGE_R1}"),
        (
            True,
            "augment D's real and fake images alike: --set game.augment='translation,cutout' "
            "(DiffAugment)",
        ),
        (
            not cfg_value(config, "model.ema", 0.0),
            "average G's weights for sampling: --set model.ema=0.999",
        ),
        (True, "slow D down: --set optim.lr_d=1e-4"),
    ]
    return [text for fits, text in remedies if fits]


def image_non_convergence(config) -> list[str]:
    """Remedies of a DCGAN whose FID keeps swinging instead of decreasing."""
    return [
        f"penalise D's slope on the real images (damps the rotation): {IMAGE_R1}",
        "average G's weights for sampling: --set model.ema=0.999",
        "smaller steps: --set optim.lr_d=1e-4 --set optim.lr_g=1e-4",
        "decay the learning rate: --set optim.schedule=linear",
    ]


def image_overfit(config) -> list[str]:
    """Remedies of a DCGAN discriminator that memorised its training images."""
    return [
        "augment D's real and fake images alike, so it cannot memorise them: "
        "--set game.augment='colour,translation,cutout' (DiffAugment, Zhao et al. 2020)",
        f"penalise D's slope on the real images: {IMAGE_R1}",
        "train on every training image: --set data.train_size=0",
        "a smaller discriminator: --set model.d_width=32",
    ]
