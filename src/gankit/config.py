"""Typed experiment configuration: dataclasses, TOML presets, `--set` overrides, validation.

Every key is declared once, here, with its type, default and accepted values; the CLI and the
API read the same defaults. Validation errors name the key path (``game.loss``), the accepted
values and, for a misspelt key, the closest known one; they are raised before anything is written.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from gankit.errors import GankitError

OPTIMIZERS = ("sgd", "adam", "rmsprop")
ACTIVATIONS = ("relu", "leaky_relu", "elu", "tanh", "silu", "gelu")
NOISES = ("uniform", "normal")
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("fp32", "bf16")
D_INPUTS = ("samples", "moments")
ARCHS = ("mlp", "dirac", "dcgan")
D_NORMS = ("batch", "none", "layer")
FEATURES = ("auto", "digits", "classifier", "inception")
RESIZE_FILTERS = ("nearest", "bilinear", "bicubic", "lanczos", "box")
# Names that a registry owns (model.family: `gankit.recipes.RECIPES`; game.loss:
# `gankit.game.losses.LOSSES`; optim.schedule: `gankit.train.schedules.SCHEDULES`) are strings
# here and are checked against their registry by `gankit.recipes.check_config`, before anything
# is written: whatever is registered is selectable, and nothing else.

# Upper bounds of sizes and counts: a typo such as 10**12 samples is refused with a line naming
# the key, not met with an out-of-memory failure or an overflow later.
#: samples in one evaluation, training points (as `gankit sample` draws at most)
MAX_SAMPLES = 10_000_000
#: hidden units, channels, latent dimensions
MAX_WIDTH = 16_384
#: hidden layers
MAX_DEPTH = 256
#: generators, kernels, packs, D steps, rounds, threads
MAX_COUNT = 4096
#: pixels per side
MAX_IMAGE_SIZE = 4096
#: a minibatch
MAX_BATCH = 1_000_000
#: steps (and the steps between logs, evaluations, checkpoints)
MAX_STEPS = 10**12
#: a seed (every stream's seed stays a 64-bit integer)
MAX_SEED = 2**32 - 1


def choice(default, choices, doc):
    """A key whose value is one of ``choices`` (a recipe's own section declares keys so too)."""
    return field(default=default, metadata={"choices": choices, "doc": doc})


def number(default, doc, lo=None, hi=None, lo_open=False):
    """A number in [``lo``, ``hi``] (``lo`` excluded where ``lo_open``)."""
    return field(default=default, metadata={"min": lo, "max": hi, "lo_open": lo_open, "doc": doc})


@dataclass
class DataConfig:
    name: str = field(
        default="gaussian",
        metadata={
            "doc": "a toy (gaussian, ring-8, ...) or an image dataset (digits, mnist, "
            "fashion-mnist, cifar10, image-folder, arrays)"
        },
    )
    params: dict = field(default_factory=dict, metadata={"doc": "parameters of the distribution"})
    train_size: int = number(
        0,
        "toys -- 0: every minibatch is fresh from the toy's density; N > 0: a fixed training set "
        "of N samples drawn once (seeded by train.seed), minibatches drawn from it with "
        "replacement (D can overfit it: logged as d_overfit); images -- 0: the whole training "
        "split; N > 0: a seeded subset of N of its images",
        lo=0,
        hi=MAX_SAMPLES,
    )
    path: str = field(
        default="",
        metadata={
            "doc": "images: the folder (mnist, fashion-mnist: IDX files; cifar10: its batches; "
            "image-folder: images, class sub-folders as labels) or file (arrays: .npy/.npz)"
        },
    )
    image_size: int = number(
        0, "images: resize to this side in pixels (0 = as stored)", lo=0, hi=MAX_IMAGE_SIZE
    )
    channels: int = number(0, "images: 1 (grey) or 3 (colour); 0 = as stored", lo=0, hi=3)
    resize_filter: str = choice(
        "bilinear", RESIZE_FILTERS, "images: the Pillow filter of data.image_size"
    )
    heldout_fraction: float = number(
        0.1,
        "images: the share held out of an image-folder or arrays (datasets published with a "
        "split keep theirs)",
        lo=0.0,
        hi=0.9,
        lo_open=True,
    )
    clusters: int = number(
        0,
        "images: the labels a conditional GAN reads -- 0: the dataset's classes; K >= 2: k-means "
        "clusters of the training images' pixels (held-out images by their nearest centre). With "
        "model.conditional this is the self-conditioned GAN (Liu et al. 2020): G(z, c) draws "
        "cluster c with its training share, D scores by projection, and no class label is read",
        lo=0,
        hi=MAX_COUNT,
    )


@dataclass
class ModelConfig:
    family: str = field(
        default="gan",
        metadata={
            "doc": "model family, a name of the recipe registry (gankit.recipes): gan (with "
            "game.boost_rounds > 0: AdaGAN's rounds), vae",
            "registry": "recipes",
        },
    )
    arch: str = choice(
        "mlp",
        ARCHS,
        "the nets: MLPs (toys), DCGAN (images: Radford et al. 2016; depth follows "
        "data.image_size, g_width/d_width are the last/first layer's channels), or the "
        "Dirac-GAN's one-parameter G(z) = theta and D(x) = psi * x (Mescheder et al. 2018)",
    )
    noise: str = choice("uniform", NOISES, "prior of the generator's input z")
    noise_dim: int = number(1, "dimension of z", lo=1, hi=MAX_WIDTH)
    g_width: int = number(64, "hidden units per layer of G", lo=1, hi=MAX_WIDTH)
    g_depth: int = number(
        2,
        "hidden layers of G (MLP); DCGAN: extra 3x3 convolutions at each resolution",
        lo=0,
        hi=MAX_DEPTH,
    )
    d_width: int = number(64, "hidden units per layer of D", lo=1, hi=MAX_WIDTH)
    d_depth: int = number(
        2,
        "hidden layers of D (MLP); DCGAN: extra 3x3 convolutions at each resolution",
        lo=0,
        hi=MAX_DEPTH,
    )
    activation: str = choice("leaky_relu", ACTIVATIONS, "hidden activation of G and D")
    standardize: bool = field(
        default=True,
        metadata={
            "doc": "G and D work in standard units fitted to the data (like pixels in [-1, 1])"
        },
    )
    ema: float = number(
        0.0,
        "EMA decay of G's weights and buffers for sampling (0 = off), bias-corrected: an "
        "average of G's iterates, never of its init",
        lo=0.0,
        hi=0.99999,
    )
    generators: int = number(
        1,
        "number of generators in a uniform mixture (MAD-GAN, Ghosh et al. 2018)",
        lo=1,
        hi=MAX_COUNT,
    )
    d_input: str = choice(
        "samples",
        D_INPUTS,
        "what D sees: each sample, or only its minibatch's moments (the moments trap)",
    )
    spectral_norm: bool = field(
        default=False,
        metadata={"doc": "spectral normalisation of D's linear layers (Miyato et al. 2018)"},
    )
    minibatch_std: bool = field(
        default=False,
        metadata={"doc": "append the minibatch standard deviation to D's features (Karras 2018)"},
    )
    minibatch_kernels: int = number(
        0,
        "minibatch discrimination kernels B in D (Salimans et al. 2016; 0 = off)",
        lo=0,
        hi=MAX_COUNT,
    )
    minibatch_kernel_dim: int = number(
        5, "dimension C of each minibatch discrimination kernel", lo=1, hi=MAX_COUNT
    )
    pack: int = number(
        1, "samples D judges jointly (PacGAN, Lin et al. 2018; 1 = off)", lo=1, hi=MAX_COUNT
    )
    conditional: bool = field(
        default=False,
        metadata={
            "doc": "images: a class-conditional GAN on labelled data (Mirza & Osindero 2014): "
            "G(z, y) reads the class one-hot beside z, D scores by projection (Miyato & Koyama "
            "2018); G is sampled with the training split's class shares"
        },
    )
    g_fc: int = number(
        0,
        "DCGAN: units of a fully-connected hidden layer (BN, ReLU) between z and G's "
        "projection (0 = none, DCGAN's; InfoGAN's MNIST G: 1024)",
        lo=0,
        hi=MAX_WIDTH,
    )
    d_fc: int = number(
        0,
        "DCGAN: units of a fully-connected hidden layer (d_norm, LeakyReLU) between D's "
        "convolutions and its score, read by its heads too (0 = none, DCGAN's; InfoGAN's "
        "MNIST D: 1024)",
        lo=0,
        hi=MAX_WIDTH,
    )
    d_norm: str = choice(
        "batch",
        D_NORMS,
        "DCGAN D's normalisation after its first layer (layer: per sample, for gradient "
        "penalties; spectral_norm replaces batch by none)",
    )


@dataclass
class GameConfig:
    loss: str = field(
        default="nonsaturating",
        metadata={
            "doc": "the adversarial objective, a name of gankit.game.losses: minimax, "
            "nonsaturating, wasserstein, hinge, least-squares",
            "registry": "losses",
        },
    )
    d_steps: int = number(
        1, "k: discriminator steps per generator step (Algorithm 1)", lo=1, hi=MAX_COUNT
    )
    clip: float = number(
        0.01, "weight clipping bound of the wasserstein critic (without gp)", lo=0.0, lo_open=True
    )
    penalties: dict = field(
        default_factory=dict,
        metadata={
            "doc": "regularisers of D and weights, e.g. { gp = 10.0 } (gankit.game.penalties)"
        },
    )
    penalty_every: int = number(
        1,
        "lazy regularisation (Karras et al. 2020): game.penalties apply on every N-th D "
        "update only, with their weights times N (1 = every update)",
        lo=1,
        hi=MAX_COUNT,
    )
    label_smoothing: float = number(
        0.0, "one-sided label smoothing: D's real target is 1 - this (sigmoid losses)", 0.0, 0.5
    )
    instance_noise: float = number(
        0.0, "std of Gaussian noise on D's inputs, in the data's standard units (0 = off)", lo=0.0
    )
    instance_noise_steps: int = number(
        0, "steps over which instance noise anneals linearly to 0 (0 = all of train.steps)", lo=0
    )
    feature_matching: float = number(
        0.0, "weight of feature matching in G's loss (Salimans et al. 2016; 0 = off)", lo=0.0
    )
    adversarial_g: bool = field(
        default=True,
        metadata={"doc": "G keeps its adversarial loss (false: feature matching alone)"},
    )
    boost_rounds: int = number(
        0,
        "AdaGAN boosting rounds, each a new generator on reweighted data (0 = off)",
        lo=0,
        hi=MAX_COUNT,
    )
    unroll: int = number(
        0, "unrolled D steps in G's loss (Metz et al. 2017; 0 = off)", lo=0, hi=MAX_COUNT
    )
    diversity: float = number(
        0.0, "weight of the which-generator classification term with model.generators > 1", lo=0.0
    )
    augment: str = field(
        default="",
        metadata={
            "doc": "images: DiffAugment policy applied to D's real and fake inputs alike (Zhao "
            "et al. 2020), a comma-separated subset of colour, translation, cutout ('' = off)"
        },
    )
    augment_p: float = number(
        1.0,
        "images: probability with which each game.augment transform reaches each image "
        "(Karras et al. 2020's p; 1 = DiffAugment as published; below about 0.8 they found "
        "augmentations kept from leaking into G)",
        lo=0.0,
        hi=1.0,
        lo_open=True,
    )


@dataclass
class OptimConfig:
    name: str = choice("adam", OPTIMIZERS, "optimizer of both players")
    lr_d: float = number(1e-3, "discriminator learning rate", lo=0.0, lo_open=True)
    lr_g: float = number(1e-3, "generator learning rate", lo=0.0, lo_open=True)
    momentum: float = number(0.9, "SGD momentum", lo=0.0, hi=1.0)
    beta1: float = number(0.5, "Adam beta1", lo=0.0, hi=1.0)
    beta2: float = number(0.999, "Adam beta2 / RMSprop alpha", lo=0.0, hi=1.0)
    schedule: str = field(
        default="constant",
        metadata={
            "doc": "learning-rate schedule over train.steps, a name of gankit.train.schedules: "
            "constant, linear, cosine",
            "registry": "schedules",
        },
    )
    warmup: int = number(0, "linear learning-rate warm-up steps", lo=0, hi=MAX_STEPS)


@dataclass
class TrainConfig:
    steps: int = number(2000, "generator steps", lo=1, hi=MAX_STEPS)
    batch_size: int = number(256, "minibatch size m", lo=1, hi=MAX_BATCH)
    seed: int = number(0, "seed of every random stream", lo=0, hi=MAX_SEED)
    device: str = choice("auto", DEVICES, "where to train (auto picks CUDA when present)")
    checkpoint_every: int = number(1000, "steps between checkpoints", lo=1, hi=MAX_STEPS)
    threads: int = number(0, "torch CPU threads (0 = torch's default)", lo=0, hi=MAX_COUNT)
    precision: str = choice(
        "fp32",
        PRECISIONS,
        "bf16: both players' forward passes under bfloat16 autocast (weights, optimizer "
        "state and losses' reductions stay float32); on a CPU, only one that computes bf16 "
        "natively (AVX-512 BF16, AMX): a digits step took 0.78x the time of fp32 on one, 12x "
        "under AVX2",
    )
    channels_last: bool = field(
        default=False,
        metadata={"doc": "images: nets and batches in channels-last memory (faster convolutions)"},
    )


@dataclass
class LogConfig:
    every: int = number(10, "steps between lines of metrics.jsonl", lo=1, hi=MAX_STEPS)
    eval_every: int = number(
        500,
        "steps between evaluations against the data; 0: no evaluation at all, during training "
        "or at its end (data too small for FID, or a quick look: the run has no final metrics)",
        lo=0,
        hi=MAX_STEPS,
    )
    eval_samples: int = number(20000, "generated samples per evaluation", lo=2, hi=MAX_SAMPLES)
    final_samples: int = number(
        100000, "generated samples for the final evaluation", lo=2, hi=MAX_SAMPLES
    )
    final_draws: int = number(
        1,
        "images: independent draws of log.final_samples whose FID mean and std the final "
        "metrics add (fid_mean_S, fid_draws_std_S; 1 = the one draw only)",
        lo=1,
        hi=1000,
    )
    progress: bool = field(default=True, metadata={"doc": "progress bar on a terminal"})
    fid: bool = field(
        default=True,
        metadata={
            "doc": "images: FID in every evaluation; false: the cheaper evaluation for image "
            "sets too small for FID (which needs more held-out images than the feature space "
            "has dimensions): KID (unbiased at any size), precision/recall/density/coverage, "
            "IS and the class histogram, with KID as the headline"
        },
    )
    features: str = choice(
        "auto",
        FEATURES,
        "images: the feature space of FID/KID/PRDC/IS; auto: digits for the digits, inception "
        "where log.inception_weights is given, else a classifier trained on the labelled "
        "training split",
    )
    inception_weights: str = field(
        default="",
        metadata={
            "doc": "images: a local FID Inception-v3 weights file (pt_inception-2015-12-05-"
            "6726825d.pth); never downloaded"
        },
    )
    grid: int = number(64, "images: generated images in RUN/samples/step-N.png", lo=1, hi=1024)


@dataclass
class Config:
    preset: str = field(default="", metadata={"doc": "name of the preset this config came from"})
    description: str = field(default="", metadata={"doc": "one line about the experiment"})
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    game: GameConfig = field(default_factory=GameConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    log: LogConfig = field(default_factory=LogConfig)
    #: the sections a model family's recipe owns (`register_section`), by name: ``[vae]``
    sections: dict = field(default_factory=dict, metadata={"section": True})

    def section(self, name: str):
        """The recipe-owned section ``name`` (its defaults where the config leaves it out)."""
        if name in self.sections:
            return self.sections[name]
        return SECTIONS[name][0]()


#: recipe-owned config sections: ``name -> (dataclass, model.family it belongs to)``
SECTIONS: dict[str, tuple[type, str]] = {}


def section_names_family(name: str, family: object) -> bool:
    """Whether ``[name]`` is named for ``model.family = family``: the family's name
    (``[vae]``) or its first word (``[semi]`` of ``semi-supervised``). The rule lets a config be
    read (by a report, without the recipes) with its family's section kept for later checks."""
    return isinstance(family, str) and (name == family or family.startswith(f"{name}-"))


def register_section(name: str, cls: type, family: str) -> None:
    """A model family's own config section ``[name]`` (a dataclass of keys declared like the
    sections here: type, default, range, doc), valid only with ``model.family = family`` and
    named for it (`section_names_family`); the recipe registers it when its module is
    imported."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"section '{name}' must be a dataclass")
    if not section_names_family(name, family):
        raise ValueError(f"section '{name}' must be named '{family}' or its first word")
    if name in {f.name for f in dataclasses.fields(Config)} or name in SECTIONS:
        raise ValueError(f"a config section named '{name}' already exists")
    SECTIONS[name] = (cls, family)


DEFAULT_PRESET = "gaussian-1d"


# ----------------------------------------------------------------------------- validation

#: the largest weight of a regulariser (``game.penalties.*``): beyond it one step's update is
#: the penalty's alone, and a loss of order one times it overflows float32 within a few steps
MAX_PENALTY_WEIGHT = 1e4
#: the longest list a table-valued key (``data.params.*``) may hold
MAX_LIST = MAX_COUNT
#: the deepest nesting of lists a table-valued key may hold (``data.params.centres``: points)
MAX_LIST_DEPTH = 2


def show(value: Any, limit: int = 60) -> str:
    """``repr(value)`` on one line, cut to ``limit`` characters: what an error line quotes."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def printable(text: str) -> str:
    """``text`` with every control character and lone surrogate escaped (``\\n``,
    ``\\x1b``, ``\\udcff``): a name quoted in a one-line error stays one line."""
    return "".join(
        ascii(ch)[1:-1] if _is_control(ch) or 0xD800 <= ord(ch) <= 0xDFFF else ch
        for ch in str(text)
    )


def _bound(x: float) -> str:
    return str(x)


def check_number(
    name: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
    integer: bool = False,
) -> int | float:
    """The one check of every number a user sets (a config key, a table-valued key such as
    ``data.params.std`` or ``game.penalties.r1``, a command-line flag such as ``--seed``):
    its type (an integer where ``integer``, else an integer or a float; never a bool, a
    string, a list or a table), finiteness and range [``lo``, ``hi``] (``lo``/``hi`` left out
    where ``lo_open``/``hi_open``). Returns the value (a float where not ``integer``); raises
    `GankitError` in one line naming ``name``."""
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GankitError(f"{name}: expected {kind}, got {show(value)}")
    if integer and not isinstance(value, int):
        raise GankitError(f"{name}: expected {kind}, got {show(value)}")
    if not integer:
        try:
            value = float(value)
        except OverflowError:
            raise GankitError(f"{name}: {show(value)} is out of range (too large)") from None
        if not math.isfinite(value):
            raise GankitError(f"{name}: expected a finite number, got {value!r}")
    if lo is not None and (value < lo or (lo_open and value == lo)):
        raise GankitError(
            f"{name}: {show(value)} is out of range (must be {'>' if lo_open else '>='} "
            f"{_bound(lo)})"
        )
    if hi is not None and (value > hi or (hi_open and value == hi)):
        raise GankitError(
            f"{name}: {show(value)} is out of range (must be {'<' if hi_open else '<='} "
            f"{_bound(hi)})"
        )
    return value


def parse_number(name: str, text: Any, lo=None, hi=None, **kwargs) -> int | float:
    """`check_number` of a command-line value given as text (``"-3"``, ``"1e3"``, ``"nan"``):
    parsed as an integer where ``integer=True`` (an integral float such as ``1e3`` is not one),
    else as a float; a value that is no text is checked as it is."""
    if isinstance(text, str):
        raw = text.strip()
        try:
            value: Any = int(raw, 10) if kwargs.get("integer") else float(raw)
        except ValueError:
            kind = "an integer" if kwargs.get("integer") else "a number"
            raise GankitError(f"{name}: expected {kind}, got {show(text)}") from None
        return check_number(name, value, lo, hi, **kwargs)
    return check_number(name, text, lo, hi, **kwargs)


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F


def check_text(name: str, value: Any) -> str:
    """A string a user sets: text that can be written to ``config.toml`` and read back, and
    shown in one line: no control character (a newline, a tab, ESC, NUL, ...) and no lone
    surrogate (what a command line of bytes that are not UTF-8 decodes to). `GankitError`
    naming ``name`` otherwise."""
    if not isinstance(value, str):
        raise GankitError(f"{name}: expected a string, got {show(value)}")
    for i, ch in enumerate(value):
        if _is_control(ch):
            raise GankitError(
                f"{name}: control character U+{ord(ch):04X} at position {i} of {show(value)} "
                "(not allowed in a setting)"
            )
        if 0xD800 <= ord(ch) <= 0xDFFF:
            raise GankitError(f"{name}: {show(value)} is not valid text (byte {i} is not UTF-8)")
    return value


def check_device(name: str, value: Any) -> str:
    """A torch device a user names (``--device`` of ``gankit fid``/``features``): ``cpu``,
    ``cuda``, ``cuda:N`` or ``mps``; `GankitError` naming ``name`` otherwise. Whether the
    device exists is for the caller to ask torch."""
    value = check_text(name, value)
    kind, _, index = value.partition(":")
    ok = kind in ("cpu", "cuda", "mps") and (
        not _ or (kind == "cuda" and index.isdigit() and len(index) <= 4)
    )
    if not ok:
        raise GankitError(f"{name}: {show(value)} is not a device (cpu, cuda, cuda:N or mps)")
    return value


@dataclass(frozen=True)
class Number:
    """The declaration of one number of a table-valued key (`check_table`): its range and
    whether it is an integer, as `check_number` checks it."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    integer: bool = False

    def check(self, name: str, value: Any) -> int | float:
        return check_number(
            name, value, self.lo, self.hi, lo_open=self.lo_open, integer=self.integer
        )


@dataclass(frozen=True)
class Numbers:
    """A list of ``item`` numbers, ``min_len`` to ``max_len`` long; with ``width``, a list of
    points, each a list of ``width[0]`` to ``width[1]`` numbers, all of one length."""

    item: Number
    min_len: int = 1
    max_len: int = MAX_LIST
    width: tuple[int, int] | None = None

    def check(self, name: str, value: Any) -> list:
        if not isinstance(value, (list, tuple)):
            raise GankitError(f"{name}: expected a list of numbers, got {show(value)}")
        if not self.min_len <= len(value) <= self.max_len:
            raise GankitError(
                f"{name}: holds {len(value)} entries (must hold {self.min_len} to {self.max_len})"
            )
        if self.width is None:
            return [self.item.check(f"{name}[{i}]", v) for i, v in enumerate(value)]
        points, lo, hi = [], *self.width
        for i, point in enumerate(value):
            if not isinstance(point, (list, tuple)) or not lo <= len(point) <= hi:
                raise GankitError(
                    f"{name}[{i}]: expected a point, a list of {lo} to {hi} numbers, got "
                    f"{show(point)}"
                )
            if points and len(point) != len(points[0]):
                raise GankitError(
                    f"{name}[{i}]: a point of {len(point)} numbers, but {name}[0] has "
                    f"{len(points[0])}"
                )
            points.append([self.item.check(f"{name}[{i}][{j}]", v) for j, v in enumerate(point)])
        return points


def check_table(path: str, table: Any, spec: dict[str, Number | Numbers], owner: str) -> dict:
    """A table-valued key (``data.params`` of a toy) checked against ``spec``, its declared
    keys: every key known to ``owner`` (what the error names: ``toy 'gaussian'``), every value
    as declared. Returns the checked table; `GankitError` naming ``path.key`` otherwise."""
    table = _check_table_shape(path, table)
    out = {}
    for key, value in table.items():
        if key not in spec:
            close = difflib.get_close_matches(key, list(spec), n=1)
            hint = f"; did you mean '{path}.{close[0]}'?" if close else ""
            known = ", ".join(spec) or "none"
            raise GankitError(f"{path}.{key}: not a parameter of {owner}{hint} (known: {known})")
        out[key] = spec[key].check(f"{path}.{key}", value)
    return out


def _check_table_shape(path: str, table: Any) -> dict:
    if not isinstance(table, dict):
        raise GankitError(f"{path}: expected a table, got {show(table)}")
    for key in table:
        check_text(f"{path}.{printable(key)[:40]}", key)
    return table


def _check_param_value(name: str, value: Any, depth: int = 0) -> Any:
    """What any ``data.params.*`` holds, whichever the toy: a finite number, or a list (of
    lists, `MAX_LIST_DEPTH` deep) of them; each toy declares its own ranges (`check_table`)."""
    if isinstance(value, list) and depth < MAX_LIST_DEPTH:
        if len(value) > MAX_LIST:
            raise GankitError(f"{name}: holds {len(value)} entries (at most {MAX_LIST})")
        return [_check_param_value(f"{name}[{i}]", v, depth + 1) for i, v in enumerate(value)]
    if isinstance(value, list):
        raise GankitError(f"{name}: lists nested more than {MAX_LIST_DEPTH} deep")
    if isinstance(value, int) and not isinstance(value, bool):
        return check_number(name, value, -(2**63), 2**63 - 1, integer=True)
    return check_number(name, value)


#: the table-valued keys: what every value they hold must be, whatever names its keys
TABLE_KEYS: dict[str, Callable[[str, Any], Any]] = {
    "data.params": _check_param_value,
    "game.penalties": lambda name, value: check_number(name, value, 0.0, MAX_PENALTY_WEIGHT),
}


def _type_of(cls, name):
    hints = typing.get_type_hints(cls)
    return hints[name]


def _check_value(path: str, value: Any, typ, meta) -> Any:
    origin = typing.get_origin(typ)
    if dataclasses.is_dataclass(typ):
        raise GankitError(f"{path}: is a table; set its keys, e.g. {path}.<key>=...")
    lo, hi, lo_open = meta.get("min"), meta.get("max"), bool(meta.get("lo_open"))
    if typ is bool:
        if not isinstance(value, bool):
            raise GankitError(f"{path}: expected true or false, got {show(value)}")
    elif typ is int or typ is float:
        value = check_number(path, value, lo, hi, lo_open=lo_open, integer=typ is int)
    elif typ is str:
        check_text(path, value)
    elif typ is dict or origin is dict:
        table = _check_table_shape(path, value)
        check = TABLE_KEYS.get(path)
        if check is not None:
            value = {key: check(f"{path}.{key}", v) for key, v in table.items()}
    elif typ is list or origin in (list, tuple) or isinstance(typ, types.GenericAlias):
        if not isinstance(value, list):
            raise GankitError(f"{path}: expected a list, got {show(value)}")
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise GankitError(f"{path}: {show(value)} is not one of {', '.join(map(str, choices))}")
    return value


def _unknown_key(path: str, key: str, known: list[str], value=None, cls=None) -> GankitError:
    """The error of an unknown key, naming its whole dotted path (``trian.steps`` for a
    ``[trian]`` table holding ``steps``) and the closest known one."""
    leaf, node = "", value
    while isinstance(node, dict) and node:
        first = next(iter(node))
        leaf, node = f"{leaf}.{first}", node[first]
    prefix = f"{path}." if path else ""
    full = printable(f"{prefix}{key}{leaf}")
    close = difflib.get_close_matches(key, known, n=1)
    hint = ""
    if close:
        guess = f"{prefix}{close[0]}"
        typ = _type_of(cls, close[0]) if cls is not None else None
        if leaf and dataclasses.is_dataclass(typ):
            inner = [f.name for f in dataclasses.fields(typ)]
            first = leaf[1:].split(".")[0]
            match = (
                first
                if first in inner
                else next(iter(difflib.get_close_matches(first, inner, n=1)), "")
            )
            guess += f".{match}" if match else ""
        hint = f"; did you mean '{guess}'?"
    return GankitError(f"unknown config key '{full}'{hint} (known: {', '.join(known)})")


def _build(cls, table: dict, path: str = ""):
    if not isinstance(table, dict):
        raise GankitError(f"{path or 'config'}: expected a table, got {table!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in table.items():
        if key not in fields:
            raise _unknown_key(path, key, list(fields), value, cls)
        sub = f"{path}.{key}" if path else key
        typ = _type_of(cls, key)
        if dataclasses.is_dataclass(typ):
            kwargs[key] = _build(typ, value, sub)
        else:
            kwargs[key] = _check_value(sub, value, typ, fields[key].metadata)
    return cls(**kwargs)


def _merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def from_dict(table: dict) -> Config:
    """Validate a nested dict (as read from TOML) into a `Config`; defaults fill what is absent.

    A recipe-owned section (`register_section`) is built from its own dataclass, and refused,
    naming its key, unless ``model.family`` is the family it belongs to."""
    if not isinstance(table, dict):
        raise GankitError(f"config: expected a table, got {table!r}")
    family = table.get("model", {}).get("family") if isinstance(table.get("model"), dict) else None
    own = {k: v for k, v in table.items() if k in SECTIONS}
    # the section of a family whose recipe is not imported here (a report reads any run's
    # config without the recipes): kept as read, and checked by `settle_sections` where the
    # family is trained or loaded (gankit.recipes.check_config)
    unsettled = {
        k: v
        for k, v in table.items()
        if section_names_family(k, family)
        and k not in SECTIONS
        and isinstance(v, dict)
        and k != "sections"
    }
    if "sections" in table:
        raise _unknown_key("", "sections", _top_level_keys(), table["sections"], Config)
    try:
        config = _build(Config, {k: v for k, v in table.items() if k not in own | unsettled})
    except GankitError as exc:
        if "unknown config key" in str(exc) and "(known: " in str(exc):
            message = str(exc).split(" (known: ")[0]
            raise GankitError(f"{message} (known: {', '.join(_top_level_keys())})") from None
        raise
    for name, value in own.items():
        cls, family = SECTIONS[name]
        if config.model.family != family:
            first = next(iter(value), "") if isinstance(value, dict) and value else ""
            key = f"{name}.{first}" if first else name
            raise GankitError(
                f"{key}: the [{name}] section is a setting of model.family = '{family}', "
                f"not '{config.model.family}'"
            )
        config.sections[name] = _build(cls, value, name)
    config.sections.update({k: dict(v) for k, v in unsettled.items()})
    return config


def settle_sections(config: Config) -> Config:
    """Build and check the sections `from_dict` kept as read because their recipe was not
    registered then (a section still unregistered is refused, naming it)."""
    for name, value in list(config.sections.items()):
        if isinstance(value, dict):
            if name not in SECTIONS:
                raise GankitError(
                    f"unknown config key '{name}' (known: {', '.join(_top_level_keys())})"
                )
            config.sections[name] = _build(SECTIONS[name][0], value, name)
    return config


def _top_level_keys() -> list[str]:
    return [f.name for f in dataclasses.fields(Config) if f.name != "sections"] + list(SECTIONS)


def to_dict(config: Config) -> dict:
    """The config as nested dicts, recipe-owned sections as top-level tables beside the
    others (as TOML writes them)."""
    table = dataclasses.asdict(config)
    sections = table.pop("sections", {})
    table.update(sections)
    return table


# ----------------------------------------------------------------------------- TOML


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            repr(value)
            if math.isfinite(value)
            else ("nan" if value != value else ("inf" if value > 0 else "-inf"))
        )
    if isinstance(value, str):
        return '"' + "".join(_toml_char(ch) for ch in value) + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


_TOML_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
_BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def _toml_char(ch: str) -> str:
    """One character of a TOML basic string: escaped where TOML requires it (a quote, a
    backslash, every control character), so that every string reads back as it was."""
    if ch in _TOML_ESCAPES:
        return _TOML_ESCAPES[ch]
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        raise ValueError(f"cannot write {ch!r} to TOML: a lone surrogate is not text")
    return f"\\u{code:04X}" if _is_control(ch) else ch


def _toml_key(key: str) -> str:
    return key if key and set(key) <= _BARE_KEY else _toml_value(key)


def dumps(config: Config) -> str:
    """The config as TOML: top-level keys, then one table per section."""
    table = to_dict(config)
    lines = []
    for key, value in table.items():
        if not isinstance(value, dict):
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in table.items():
        if isinstance(value, dict):
            lines.append(f"\n[{key}]")
            lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
    return "\n".join(lines) + "\n"


#: a config file larger than this is refused unread (a config is a few kilobytes)
MAX_CONFIG_BYTES = 1_000_000


def _read_toml(path: Path) -> dict:
    if path.is_dir():
        raise GankitError(f"{path}: is a folder, not a config file")
    if not path.is_file():
        raise GankitError(f"config file not found: {path}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GankitError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise GankitError(f"{path}: {len(data)} bytes is too large for a config file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GankitError(
            f"{path}: not a TOML config (not UTF-8 text: byte {exc.start} is not valid)"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GankitError(f"{path}: not valid TOML ({' '.join(str(exc).split())})") from None
    except RecursionError:
        raise GankitError(f"{path}: not valid TOML (nested too deeply)") from None


# ----------------------------------------------------------------------------- presets


def preset_names() -> list[str]:
    folder = resources.files("gankit") / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def preset_table(name: str) -> dict:
    names = preset_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise GankitError(f"unknown preset '{name}'{hint} (known: {', '.join(names)})")
    text = (resources.files("gankit") / "presets" / f"{name}.toml").read_text()
    table = tomllib.loads(text)
    table.setdefault("preset", name)
    return table


# ----------------------------------------------------------------------------- overrides


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"game.loss=hinge"`` -> (["game", "loss"], "hinge").

    Values are TOML literals, else plain strings."""
    if "=" not in text:
        raise GankitError(f"--set {text!r}: expected key.path=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise GankitError(f"--set {text!r}: empty key")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError):
        value = raw.strip()
    return key.split("."), value


def _set_path(table: dict, parts: list[str], value) -> None:
    node = table
    for part in parts[:-1]:
        nxt = node.get(part)
        if nxt is None:
            nxt = node[part] = {}
        elif not isinstance(nxt, dict):
            raise GankitError(
                f"--set {printable('.'.join(parts))}: '{printable(part)}' is not a table"
            )
        node = nxt
    node[parts[-1]] = value


def resolve(
    preset: str | None = None,
    config_file: str | Path | None = None,
    overrides: list[str] = (),
    shorthands: dict[str, Any] | None = None,
) -> Config:
    """The config of a run: a preset or a TOML file, then ``--set`` overrides, then shorthands
    (``{"train.seed": 3}``), validated as a whole. Raises `GankitError` naming the bad key."""
    if preset and config_file:
        raise GankitError("give either --preset or --config, not both")
    if config_file:
        table = _read_toml(Path(config_file))
        try:
            from_dict(table)  # the file's own errors name the file
        except GankitError as exc:
            raise GankitError(f"{config_file}: {exc}") from None
    else:
        table = preset_table(preset or DEFAULT_PRESET)
    table = _merge({}, table)
    for text in overrides:
        parts, value = parse_override(text)
        _set_path(table, parts, value)
    for key, value in (shorthands or {}).items():
        if value is not None:
            _set_path(table, key.split("."), value)
    return from_dict(table)


def _leaves(config: Config) -> Iterator[tuple[str, dataclasses.Field, Any]]:
    """``(key path, field, value)`` of every leaf key of ``config``, section by section (the
    recipe-owned sections last, with their defaults where ``config`` has none)."""

    def walk(cls, prefix, instance):
        for f in dataclasses.fields(cls):
            if f.metadata.get("section"):
                continue
            typ = _type_of(cls, f.name)
            value = getattr(instance, f.name)
            if dataclasses.is_dataclass(typ):
                yield from walk(typ, f"{prefix}{f.name}.", value)
            else:
                yield f"{prefix}{f.name}", f, value

    yield from walk(Config, "", config)
    for name, (cls, _) in SECTIONS.items():
        yield from walk(cls, f"{name}.", config.section(name))


#: the start of the doc of every key that only image data reads
IMAGE_ONLY_DOC = "images:"


def changed_settings(config: Config, keys) -> list[tuple[str, Any]]:
    """``(key, value)`` of every key of ``config`` that ``keys`` names (a key, or a prefix
    ending in "." or "_") and that is set away from its default, in the order of the sections:
    what a run that ignores those keys would otherwise ignore without a word."""
    keys = tuple(keys)
    defaults = {key: value for key, _, value in _leaves(Config())}
    return [
        (key, value)
        for key, _, value in _leaves(config)
        if any(key == k or (k[-1] in "._" and key.startswith(k)) for k in keys)
        and value != defaults[key]
    ]


def image_settings(config: Config) -> list[tuple[str, Any]]:
    """``(key, value)`` of every image-only key (its doc starts with `IMAGE_ONLY_DOC`) that
    ``config`` sets away from its default: what a toy run would otherwise ignore."""
    image_keys = [
        key
        for key, f, _ in _leaves(Config())
        if f.metadata.get("doc", "").startswith(IMAGE_ONLY_DOC)
    ]
    return changed_settings(config, image_keys)


def describe_keys() -> list[tuple[str, str, str]]:
    """(key path, default, doc) for every leaf key: the README's and `--help`'s table."""
    return [
        (key, _toml_value(value), f.metadata.get("doc", "")) for key, f, value in _leaves(Config())
    ]
