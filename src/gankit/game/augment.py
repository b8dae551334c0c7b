"""Differentiable Augmentation (DiffAugment; Zhao et al. 2020, "Differentiable augmentation for
data-efficient GAN training").

With little data, D memorises the training images and its feedback to G degrades. Augmenting
only the real images would teach G to produce augmented images; DiffAugment applies the same
random, differentiable transformations T to the real *and* the generated images wherever D sees
them, in D's loss and in G's: ``D(T(x))`` and ``D(T(G(z)))``, G's gradient flowing back
through T. The transforms are random per sample, the policy shared by both batches.

Pure functions of an image batch ``(n, C, H, W)`` with pixels in [-1, 1] (the nets' range) and
a ``torch.Generator``: every random draw comes from it (never the global RNG), so the same
generator state gives the same output. They follow the authors' ``DiffAugment_pytorch.py``
(mit-han-lab/data-efficient-gans), written anew; each random transform is a draw of its
parameters followed by a deterministic function of them (`translate`, `cut_out`,
`adjust_colour`), which the tests check by hand.

- ``colour``: brightness, saturation (3-channel images only), contrast, per image.
- ``translation``: an integer shift of up to ``ratio`` of the side per axis, zero padded.
- ``cutout``: a square of half the side zeroed at a random centre.

Each transform reaches every image (``p = 1``, the authors' DiffAugment) or, with ``p < 1``,
each image independently with probability ``p`` (Karras et al. 2020, "Training generative
adversarial networks with limited data", sec. 2.2): an augmentation applied to every image can
leak into G (G may match the augmented distribution with images that are not the data's); one
applied with probability ``p`` keeps a share of un-augmented images in what D sees, and Karras
et al. found their transforms, translations included, non-leaking for ``p`` below about 0.8.

Zero, the fill of both translation and cutout, is the authors' choice, made in the nets' range:
mid-grey in [-1, 1], the range's centre, not black. It keeps their published settings (and
results) and adds no mean shift to images centred on 0.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def _uniform(n: int, gen: torch.Generator, x: Tensor) -> Tensor:
    """``(n,)`` draws of U[0, 1) from ``gen`` (on its device), moved to ``x``'s device/dtype."""
    u = torch.rand(n, generator=gen, device=gen.device, dtype=torch.float32)
    return u.to(device=x.device, dtype=x.dtype)


def _integers(low: int, high: int, n: int, gen: torch.Generator, x: Tensor) -> Tensor:
    """``(n,)`` integers uniform in ``[low, high)`` from ``gen``, on ``x``'s device."""
    return torch.randint(low, high, (n,), generator=gen, device=gen.device).to(x.device)


def _check_images(x: Tensor, name: str) -> None:
    if x.dim() != 4:
        raise ValueError(f"{name} expects images (n, C, H, W), got shape {tuple(x.shape)}")


# ----------------------------------------------------------------------------- colour


def adjust_colour(
    x: Tensor, brightness: Tensor, saturation: Tensor | None, contrast: Tensor
) -> Tensor:
    """The colour transform with explicit per-image factors, each ``(n,)``, in the authors'
    order:

    - brightness: ``x + brightness``;
    - saturation: ``(x - m) * saturation + m``, ``m`` the mean over the channels of each pixel
      (skipped when ``saturation`` is None);
    - contrast: ``(x - m) * contrast + m``, ``m`` the mean of each image over all its channels
      and pixels."""
    x = x + brightness.view(-1, 1, 1, 1)
    if saturation is not None:
        mean = x.mean(1, keepdim=True)
        x = (x - mean) * saturation.view(-1, 1, 1, 1) + mean
    mean = x.mean((1, 2, 3), keepdim=True)
    return (x - mean) * contrast.view(-1, 1, 1, 1) + mean


def colour(x: Tensor, gen: torch.Generator) -> Tensor:
    """Random colour (the authors' ``color``) per image: brightness ``+ U(-0.5, 0.5)``,
    saturation ``* U(0, 2)``, contrast ``* U(0.5, 1.5)``, drawn in that order.

    Saturation scales the spread of the channels around their mean at each pixel, which means
    something for RGB only: it is applied to 3-channel images and skipped (nothing drawn) for
    any other channel count (on one channel the authors' formula is the identity anyway)."""
    _check_images(x, "colour")
    n = x.shape[0]
    brightness = _uniform(n, gen, x) - 0.5
    saturation = _uniform(n, gen, x) * 2.0 if x.shape[1] == 3 else None
    contrast = _uniform(n, gen, x) + 0.5
    return adjust_colour(x, brightness, saturation, contrast)


# ----------------------------------------------------------------------------- translation


def translate(x: Tensor, shift_h: Tensor, shift_w: Tensor) -> Tensor:
    """Shift image ``i`` by ``shift_h[i]`` rows (down when positive) and ``shift_w[i]``
    columns (right when positive), integers ``(n,)``: ``out[i, :, r, c] = x[i, :, r - dh,
    c - dw]``, 0 where that falls outside the image. A gather, so differentiable in ``x``."""
    n, _, h, w = x.shape
    rows = torch.arange(h, device=x.device)[None, :] - shift_h.to(x.device).long()[:, None]
    cols = torch.arange(w, device=x.device)[None, :] - shift_w.to(x.device).long()[:, None]
    # Index into x padded by one zero pixel on each side: anything outside lands on the pad.
    rows = (rows + 1).clamp(0, h + 1)
    cols = (cols + 1).clamp(0, w + 1)
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1))
    batch = torch.arange(n, device=x.device)[:, None, None]
    return padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def translation_offsets(
    x: Tensor, gen: torch.Generator, ratio: float = 0.125
) -> tuple[Tensor, Tensor]:
    """The random shifts of :func:`translation`: ``(shift_h, shift_w)``, each ``(n,)`` integers
    uniform in ``[-round(ratio * H), round(ratio * H)]`` (resp. W), drawn in that order
    (rounding half up, as the authors' ``int(size * ratio + 0.5)``)."""
    n, _, h, w = x.shape
    max_h, max_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    shift_h = _integers(-max_h, max_h + 1, n, gen, x)
    shift_w = _integers(-max_w, max_w + 1, n, gen, x)
    return shift_h, shift_w


def translation(x: Tensor, gen: torch.Generator, ratio: float = 0.125) -> Tensor:
    """Random translation: each image shifted by its own integer offset of at most
    ``ratio`` of the side along each axis (:func:`translation_offsets`), zero padded
    (:func:`translate`); the authors' default ratio is 1/8."""
    _check_images(x, "translation")
    return translate(x, *translation_offsets(x, gen, ratio))


# ----------------------------------------------------------------------------- cutout


def cut_out(x: Tensor, centre_h: Tensor, centre_w: Tensor, size_h: int, size_w: int) -> Tensor:
    """Zero, in image ``i``, the rectangle of ``size_h x size_w`` pixels whose rows run from
    ``centre_h[i] - size_h // 2`` (and columns likewise), clipped to the image: ``x * mask``,
    differentiable in ``x`` (gradient 0 inside the rectangle, 1 outside)."""
    _, _, h, w = x.shape
    top = (centre_h.to(x.device).long() - size_h // 2)[:, None]
    left = (centre_w.to(x.device).long() - size_w // 2)[:, None]
    rows = torch.arange(h, device=x.device)[None, :]
    cols = torch.arange(w, device=x.device)[None, :]
    in_rows = (rows >= top) & (rows < top + size_h)  # (n, H)
    in_cols = (cols >= left) & (cols < left + size_w)  # (n, W)
    keep = ~(in_rows[:, :, None] & in_cols[:, None, :])  # (n, H, W)
    return x * keep[:, None].to(x.dtype)


def cutout_size(x: Tensor, ratio: float = 0.5) -> tuple[int, int]:
    """The side of :func:`cutout`'s square (rectangle for non-square images):
    ``round(ratio * H) x round(ratio * W)``, rounding half up as the authors."""
    return int(x.shape[2] * ratio + 0.5), int(x.shape[3] * ratio + 0.5)


def cutout_centres(x: Tensor, gen: torch.Generator, ratio: float = 0.5) -> tuple[Tensor, Tensor]:
    """The random centres of :func:`cutout`, ``(centre_h, centre_w)``, each ``(n,)``, drawn in
    that order as the authors: uniform in ``[0, H]`` for an even side, ``[0, H - 1]`` for an odd
    one (so that the square, clipped, can reach every border equally)."""
    n, _, h, w = x.shape
    size_h, size_w = cutout_size(x, ratio)
    centre_h = _integers(0, h + 1 - size_h % 2, n, gen, x)
    centre_w = _integers(0, w + 1 - size_w % 2, n, gen, x)
    return centre_h, centre_w


def cutout(x: Tensor, gen: torch.Generator, ratio: float = 0.5) -> Tensor:
    """Random cutout (DeVries & Taylor 2017, as the DiffAugment authors): in each image, a
    square of side ``ratio`` of the image's (half, by default) at a random centre
    (:func:`cutout_centres`) set to 0, clipped where it crosses the border."""
    _check_images(x, "cutout")
    return cut_out(x, *cutout_centres(x, gen, ratio), *cutout_size(x, ratio))


# ----------------------------------------------------------------------------- policies

POLICIES: dict[str, Callable[[Tensor, torch.Generator], Tensor]] = {
    "colour": colour,
    "translation": translation,
    "cutout": cutout,
}
"""The transforms by name, in the order :func:`diff_augment` applies them (the authors')."""

ALIASES = {"color": "colour"}


def parse_policy(policy: str) -> tuple[str, ...]:
    """The transforms a comma-separated ``policy`` names, in :data:`POLICIES`' order, each once
    (``"color"`` is read as ``"colour"``; spaces and empty items are ignored, so ``""`` is
    ``()``). Raises `ValueError` listing the known names for an unknown one."""
    names = set()
    for item in policy.split(","):
        name = item.strip().lower()
        if not name:
            continue
        name = ALIASES.get(name, name)
        if name not in POLICIES:
            raise ValueError(
                f"unknown augmentation '{item.strip()}'; known: {', '.join(POLICIES)} "
                "(and 'color'), comma-separated"
            )
        names.add(name)
    return tuple(name for name in POLICIES if name in names)


def check_probability(p: float) -> float:
    """``p`` as a float in (0, 1]; `ValueError` otherwise."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 < p <= 1.0:
        raise ValueError(f"the probability of each augmentation must be in (0, 1], got {p!r}")
    return float(p)


def diff_augment(x: Tensor, policy: str, gen: torch.Generator, p: float = 1.0) -> Tensor:
    """``x`` through the transforms named by ``policy`` (:func:`parse_policy`), in the order
    colour, translation, cutout whatever the order in the string, with every random draw from
    ``gen``. With ``p < 1`` each transform reaches each image with probability ``p``: the
    transform's own draws, then ``(n,)`` U[0, 1) draws choosing the images it reaches (``u <
    p``); ``p = 1`` draws nothing more. An empty policy returns ``x`` itself (the same object,
    nothing drawn)."""
    names = parse_policy(policy)
    p = check_probability(p)
    if names:
        _check_images(x, "diff_augment")
    for name in names:
        augmented = POLICIES[name](x, gen)
        if p < 1.0:
            reached = _uniform(x.shape[0], gen, x) < p
            augmented = torch.where(reached.view(-1, 1, 1, 1), augmented, x)
        x = augmented
    return x


class DiffAugment:
    """A policy and the random stream it draws from, for a game to apply to every batch D
    sees: ``augment(real)`` and ``augment(fake)`` use the same policy with independent draws
    (each call advances ``generator``), the transforms random per sample, as Zhao et al.

    ``policy`` and ``p``: as :func:`diff_augment`, checked here (`ValueError` for an unknown
    name or a probability outside (0, 1]); ``generator``: the stream (save
    ``generator.get_state()`` with a checkpoint for an exact resume). ``bool(augment)`` is
    False for an empty policy."""

    def __init__(self, policy: str, generator: torch.Generator, p: float = 1.0):
        self.names = parse_policy(policy)
        self.policy = ",".join(self.names)
        self.p = check_probability(p)
        self.generator = generator

    def __bool__(self) -> bool:
        return bool(self.names)

    def __call__(self, x: Tensor) -> Tensor:
        return diff_augment(x, self.policy, self.generator, self.p)

    def __repr__(self) -> str:
        return f"DiffAugment(policy={self.policy!r}, p={self.p})"
