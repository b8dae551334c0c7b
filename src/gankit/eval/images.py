"""Evaluation of image runs, in a named feature space (`gankit.eval.feature_space`).

At each evaluation (``log.eval_every``): ``log.eval_samples`` generated images against the
held-out split -- FID (float64 statistics; the held-out side computed once per run and cached on
disk under a hash of the images and the network), its real floor (as many training images
against the held-out split: what a perfect generator scores at this sample size), KID and its
floor (the same training images' KID; features divided by the held-out split's RMS entry
outside Inception, so that KID reads in Inception's range: `gankit.eval.feature_space.kid_scale`),
precision / recall / density / coverage (Naeem et al.
2020), IS where the network has logits, the class histogram of the generated images where its
logits are the dataset's classes, and D's read-outs on training, held-out and generated images
with Karras et al.'s r_v. Snapshots: a grid of ``log.grid`` images from one fixed latent batch
(the same noise at every step), a row per predicted class. The final evaluation adds the 1-NN
two-sample accuracy and the nearest-neighbour memorisation check, writes ``RUN/nearest.npz``,
and, with ``log.final_draws`` > 1, FID's mean and std over that many draws. Keys and files:
`docs/image-runs.md`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from gankit import runs
from gankit.config import Config
from gankit.data.checks import from_net, to_net
from gankit.data.grid import labelled_rows, png_bytes, sorted_grid, to_uint8
from gankit.data.sources import ImageData
from gankit.errors import GankitError
from gankit.eval.base import EvalState, Redraw, eval_stream
from gankit.eval.feature_space import kid_scale, planned_space, resolve_feature_space
from gankit.game.losses import d_readout, get_loss
from gankit.metrics.features import cache_key, cached_stats, data_hash, extract_features
from gankit.metrics.frechet import frechet_distance
from gankit.metrics.inception_score import inception_score
from gankit.metrics.kid import KID_DEFAULTS, kid
from gankit.metrics.nearest import nearest_neighbours
from gankit.metrics.one_nn import one_nn_accuracy
from gankit.metrics.overfit import overfit_ratio
from gankit.metrics.prdc import precision_recall_density_coverage
from gankit.metrics.streaming import GaussianStats
from gankit.nets.latent import eval_mode

#: PRDC, KID and the 1-NN test read at most this many images of each side (the first ones: the
#: samples are i.i.d., the held-out split in a fixed order), so that their cost stays bounded
NEIGHBOUR_MAX = 5000
PRDC_K = 5
#: D's read-outs average over at most this many images of each kind
READOUT_MAX = 1000
#: FID's sampling noise: its std over this many bootstrap resamples of the generated images
#: (the held-out side is fixed for the run), for feature spaces of at most FID_STD_MAX_DIM
#: dimensions (a resample costs a covariance and a matrix square root: milliseconds at 64 or
#: 128 dimensions, seconds at Inception's 2048)
FID_BOOTSTRAP = 20
FID_STD_MAX_DIM = 512
NEAREST_PAIRS = 16
REAL_SHOWN = 64
#: the fixed latent batch of the grids is drawn from this stream (the same at every step)
GRID_SEED_OFFSET = 2_000_003
SUBSET_SEED = 0


def _neighbour_sides(held: np.ndarray, generated: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first `NEIGHBOUR_MAX` rows of each side (views): what KID, PRDC and the 1-NN test
    read."""
    return held[:NEIGHBOUR_MAX], generated[:NEIGHBOUR_MAX]


class ImageEvaluator:
    """The metrics of an image run (see the module docstring)."""

    kind = "images"

    def __init__(self, config: Config, data: ImageData, device: torch.device | str = "cpu"):
        self.config = config
        self.data = data
        self.device = device
        self.suffix, dim = planned_space(config, data)
        self._check_sizes(dim)  # before any feature network is trained (minutes) or loaded
        self.space = resolve_feature_space(config, data, device)
        self.suffix = self.space.name
        self.with_fid = config.log.fid
        self.headline = f"{'fid' if self.with_fid else 'kid'}_{self.suffix}"
        extractor = self.space.extractor
        self.heldout_features, _ = extract_features(data.heldout.images, extractor)
        self._check_sizes(self.heldout_features.shape[1])
        self.heldout_stats: GaussianStats | None = None  # FID's reference side
        if self.with_fid:
            key = cache_key(
                kind="heldout-stats",
                data=data_hash(data.heldout.images),
                extractor=extractor.identity,
            )
            self.heldout_stats, _ = cached_stats(key, lambda: self._stats(self.heldout_features))
        self.kid_scale = kid_scale(self.suffix, self.heldout_features)
        self._train_features: np.ndarray | None = None
        self._floors: dict[int, float] = {}
        self._kid_floors: dict[int, float] = {}

    def _check_sizes(self, dim: int) -> None:
        """Refuse sample sizes on which FID (a full-rank covariance: more samples than the
        feature space has dimensions) or PRDC would mean nothing, before training starts;
        without FID (``log.fid = false``), PRDC's k + 1 alone."""
        if self.config.log.fid:
            need = max(dim + 1, PRDC_K + 1)
            where = f"FID in the {self.suffix} feature space ({dim} dimensions)"
            cheaper = (
                "; or evaluate without FID (--set log.fid=false: KID, PRDC and the class "
                f"histogram, from {PRDC_K + 1} images) or not at all (log.eval_every=0)"
            )
        else:
            need, cheaper = PRDC_K + 1, ""
            where = f"precision/recall (k = {PRDC_K} nearest neighbours)"
        for key, n in (
            ("log.eval_samples", self.config.log.eval_samples),
            ("log.final_samples", self.config.log.final_samples),
        ):
            if n < need:
                raise GankitError(f"{key} = {n}: {where} needs at least {need} samples{cheaper}")
        held = len(self.data.heldout)
        if held < need:
            total = held + len(self.data.train)
            raise GankitError(
                f"data.heldout_fraction: the held-out split of {self.data.name} has {held} of "
                f"its {total} images; {where} needs at least {need} held-out images (checked "
                "before any feature network trains; docs/image-runs.md lists the minimum "
                f"counts){cheaper}"
            )

    # -------------------------------------------------------------------- features

    def features(self, images01) -> tuple[np.ndarray, np.ndarray | None]:
        return extract_features(images01, self.space.extractor)

    @staticmethod
    def _stats(features: np.ndarray) -> GaussianStats:
        stats = GaussianStats()
        stats.update(features)
        return stats

    @property
    def train_features(self) -> np.ndarray:
        """Features of the whole training split (for the floor and the memorisation check)."""
        if self._train_features is None:
            self._train_features, _ = self.features(self.data.train.images)
        return self._train_features

    def _subset(self, n: int, size: int) -> np.ndarray:
        """A fixed, seeded choice of ``min(n, size)`` of ``size`` indices, sorted."""
        keep = np.random.default_rng(SUBSET_SEED).permutation(size)[: min(n, size)]
        return np.sort(keep)

    def fid(self, features: np.ndarray) -> float:
        """FID of ``(n, F)`` features (of `features`' network) against the held-out split."""
        mine, held = self._stats(features), self.heldout_stats
        return frechet_distance(held.mean, held.cov, mine.mean, mine.cov)

    def fid_std(self, features: np.ndarray) -> float:
        """The std of FID over `FID_BOOTSTRAP` resamples (with replacement, seeded) of the
        generated ``features``: the scale of its sampling noise at this sample size, which an
        FID curve must exceed before its ups and downs mean anything (bootstrap resamples hold
        duplicates, so their FIDs sit higher; only their spread is used)."""
        rng = np.random.default_rng(SUBSET_SEED)
        n = len(features)
        values = [self.fid(features[rng.integers(0, n, n)]) for _ in range(FID_BOOTSTRAP)]
        return float(np.std(values, ddof=1))

    def _floor_features(self, n: int) -> np.ndarray:
        """Features of the floors' ``n`` training images (fewer where the split is smaller):
        one seeded subset per size, which the FID and the KID floor both read."""
        return self.train_features[self._subset(n, len(self.data.train))]

    def floor(self, n: int) -> float:
        """FID of ``n`` training images (fewer where the split is smaller) against the
        held-out split: the score of a perfect generator at this sample size."""
        if n not in self._floors:
            self._floors[n] = self.fid(self._floor_features(n))
        return self._floors[n]

    def _kid(self, features: np.ndarray) -> tuple[float, float]:
        """KID (mean, std over subsets) of ``features`` against the held-out split, on at
        most `NEIGHBOUR_MAX` of each side, with the same seeded subsets for every caller, on
        features divided by the held-out split's `kid_scale` (one unit for the whole run)."""
        held, mine = _neighbour_sides(self.heldout_features, features)
        size = min(KID_DEFAULTS["subset_size"], len(held), len(mine))
        return kid(held, mine, subset_size=size, generator=0, scale=self.kid_scale)

    def kid_floor(self, n: int) -> float:
        """KID of the floor's ``n`` training images against the held-out split. Every KID of
        a run shares one held-out draw, whose own deviation shifts them all alike (on digits'
        297 held-out images its std over subsets is as large as a weak generator's KID): a KID
        reads against this floor, not against 0."""
        if n not in self._kid_floors:
            self._kid_floors[n] = self._kid(self._floor_features(n))[0]
        return self._kid_floors[n]

    # -------------------------------------------------------------------- metrics

    def metrics(
        self, samples: Tensor, classes: Tensor | None = None
    ) -> tuple[dict, np.ndarray, np.ndarray | None]:
        """The metrics of generated ``samples`` (``(n, C, H, W)`` in [-1, 1]) and their
        features and logits; with ``classes`` (``(n,)``, what a conditional G was asked for)
        also ``class_agreement``: the share of samples the feature net labels as asked."""
        s = self.suffix
        feats, logits = self.features(from_net(samples))
        n = feats.shape[0]
        out = {}
        if self.with_fid:
            out = {f"fid_{s}": self.fid(feats), f"fid_floor_{s}": self.floor(n)}
            if feats.shape[1] <= FID_STD_MAX_DIM:
                out[f"fid_std_{s}"] = self.fid_std(feats)
        out[f"kid_{s}"], out[f"kid_std_{s}"] = self._kid(feats)
        out[f"kid_floor_{s}"] = self.kid_floor(n)
        held, gen = _neighbour_sides(self.heldout_features, feats)
        prdc = precision_recall_density_coverage(held, gen, k=PRDC_K)
        out.update({f"{k}_{s}": v for k, v in prdc.items()})
        if logits is not None and n >= 10:
            out[f"is_{s}"], out[f"is_std_{s}"] = inception_score(logits, splits=10)
        if logits is not None and self.space.classes:
            predicted = logits.argmax(1)
            out.update(class_balance(predicted, logits.shape[1]))
            if classes is not None and self.data.label_kind == "class":
                out.update(class_agreement(predicted, classes.numpy(), self.data.num_classes))
        return out, feats, logits

    def __call__(self, state: EvalState) -> dict:
        stream = eval_stream(self.config.train.seed, state.step)
        n = self.config.log.eval_samples
        samples = state.sample(n, stream)
        classes = state.sample_classes(n) if state.sample_classes is not None else None
        out, _, _ = self.metrics(samples, classes)
        if state.discriminator is not None:
            out.update(self.overfit(state, samples, classes))
        return out

    @torch.no_grad()
    def overfit(self, state: EvalState, samples: Tensor, classes: Tensor | None = None) -> dict:
        """D's mean read-out on training, held-out and generated images and r_v (Karras et al.
        2020); empty for a D that judges sets (packing, minibatch layers). A conditional D
        reads each image with its class: the data's labels, and ``classes`` (what G was
        asked for) for ``samples``."""
        d = state.discriminator
        if self.config.model.pack > 1 or not getattr(d, "pointwise", True):
            return {}
        n = min(READOUT_MAX, samples.shape[0], len(self.data.train), len(self.data.heldout))
        subset = self._subset(n, len(self.data.train))
        sides = [
            (to_net(self.data.train.images[subset]), self.data.condition_labels("train"), subset),
            (
                to_net(self.data.heldout.images[:n]),
                self.data.condition_labels("heldout"),
                slice(0, n),
            ),
        ]
        conditional = getattr(d, "classes", 0) > 0
        loss = get_loss(state.readout_loss)
        reads = []
        with eval_mode(d):
            for x, labels, rows in [*sides, (samples[:n], classes, slice(0, n))]:
                x = x.to(self.device)
                scores = (
                    d(x, torch.as_tensor(labels[rows]).to(self.device)) if conditional else d(x)
                )
                reads.append(d_readout(loss, scores.float().cpu().reshape(-1)))
        return overfit_ratio(*reads)

    def final(
        self,
        samples: Tensor,
        run_dir: Path | None = None,
        redraw: Redraw | None = None,
        classes: Tensor | None = None,
    ) -> dict:
        """The final metrics of ``samples``, with the 1-NN test and the memorisation check;
        with ``run_dir``, also ``RUN/nearest.npz``; with ``redraw`` and ``log.final_draws`` =
        k > 1, FID's mean and std over ``samples`` and ``redraw(1) .. redraw(k - 1)``;
        ``classes``: what a conditional G was asked for (``class_agreement``)."""
        s = self.suffix
        out, feats, _ = self.metrics(samples, classes)
        if classes is not None and self.with_fid and self.data.label_kind == "class":
            out.update(self.intra_class_fid(feats, classes.numpy()))
        held, gen = _neighbour_sides(self.heldout_features, feats)
        out[f"one_nn_accuracy_{s}"] = one_nn_accuracy(held, gen)
        near = nearest_neighbours(gen, self.train_features, held_out=held, n_pairs=NEAREST_PAIRS)
        out[f"nn_train_distance_{s}"] = near["median_distance"]
        out[f"nn_heldout_distance_{s}"] = near["held_out_median_distance"]
        out[f"nn_ratio_{s}"] = near["ratio"]
        draws = self.config.log.final_draws
        if redraw is not None and draws > 1 and self.with_fid:
            more = [self.fid(self.features(from_net(redraw(i)))[0]) for i in range(1, draws)]
            out.update(self.expected_fid([out[f"fid_{s}"], *more]))
        if run_dir is not None:
            self._write_nearest(samples, near["pairs"], Path(run_dir))
        return out

    def intra_class_fid(self, features: np.ndarray, classes: np.ndarray) -> dict:
        """FID within each class (Miyato & Koyama 2018's intra-FID): the features of the
        samples G was asked to draw of class k against the held-out images of class k, each
        beside its own real floor (as many training images of class k against the same
        held-out ones: the score of a perfect generator of that class at these sizes, which
        the held-out split's few images per class make far from 0 on small datasets).
        ``fid_per_class_S`` and ``fid_floor_per_class_S`` (lists indexed by class; None for a
        class with fewer than 2 images on a side) and their means ``intra_fid_S`` and
        ``intra_fid_floor_S`` over the classes that have both."""
        s = self.suffix
        train_labels = np.asarray(self.data.train.labels)
        held_labels = np.asarray(self.data.heldout.labels)
        fids: list[float | None] = []
        floors: list[float | None] = []
        for k in range(self.data.num_classes):
            mine = features[classes == k]
            held = self.heldout_features[held_labels == k]
            train_rows = np.flatnonzero(train_labels == k)
            if min(len(mine), len(held), len(train_rows)) < 2:
                fids.append(None)
                floors.append(None)
                continue
            rows = train_rows[self._subset(len(mine), len(train_rows))]
            held_stats = self._stats(held)
            fids.append(_fid_between(held_stats, self._stats(mine)))
            floors.append(_fid_between(held_stats, self._stats(self.train_features[rows])))
        both = [(f, g) for f, g in zip(fids, floors, strict=True) if f is not None]
        out: dict = {f"fid_per_class_{s}": fids, f"fid_floor_per_class_{s}": floors}
        if both:
            out[f"intra_fid_{s}"] = float(np.mean([f for f, _ in both]))
            out[f"intra_fid_floor_{s}"] = float(np.mean([g for _, g in both]))
        return out

    def expected_fid(self, fids: list[float]) -> dict:
        """FID's expectation at one sample size from the FIDs of independent draws of that
        size, for where a single draw is too noisy to judge a generator by (digits, 1,500
        images: std 2-3 around 13, mostly the class shares' multinomial noise), to be read
        beside the floor at that size: ``fid_mean_S``, ``fid_draws_std_S``, ``fid_draws``."""
        s = self.suffix
        return {
            f"fid_mean_{s}": float(np.mean(fids)),
            f"fid_draws_std_{s}": float(np.std(fids, ddof=1)) if len(fids) > 1 else 0.0,
            "fid_draws": len(fids),
        }

    def _write_nearest(self, samples: Tensor, pairs: list[dict], run_dir: Path) -> None:
        generated = to_uint8(from_net(samples[[p["generated"] for p in pairs]]))
        train = to_uint8(self.data.train.images[[p["train"] for p in pairs]])
        arrays = {
            "generated": generated,
            "nearest_train": train,
            "distances": np.array([p["distance"] for p in pairs], dtype=np.float64),
            "real": to_uint8(self.data.heldout.images[:REAL_SHOWN]),
        }
        runs.atomic_write_npz(run_dir / runs.NEAREST, arrays)

    # -------------------------------------------------------------------- snapshots

    def snapshot(self, state: EvalState, run_dir: Path) -> None:
        """``RUN/samples/step-N.png`` and ``RUN/snapshots/step-N.npz`` of the fixed latents."""
        grid_rng = torch.Generator().manual_seed(self.config.train.seed + GRID_SEED_OFFSET)
        n = self.config.log.grid
        images = to_uint8(from_net(state.sample(n, grid_rng)))
        arrays = {"samples": images}
        classes = None
        if self.space.classes:
            _, logits = self.features(images)
            classes = logits.argmax(1).astype(np.int64)
            arrays["classes"] = classes
        asked = state.sample_classes(n) if state.sample_classes is not None else None
        if asked is not None:  # a conditional G: a row per class asked for, labelled
            asked = asked.cpu().numpy()
            labels = [str(k) for k in range(max(self.data.num_classes, int(asked.max()) + 1))]
            grid = labelled_rows(images, asked, labels)
        else:  # every sample, sorted by the class the feature net reads
            grid = sorted_grid(images, classes)
        run_dir = Path(run_dir)
        runs.atomic_write_bytes(run_dir / runs.SAMPLES / f"step-{state.step}.png", png_bytes(grid))
        runs.atomic_write_npz(run_dir / runs.SNAPSHOTS / f"step-{state.step}.npz", arrays)


def _fid_between(a: GaussianStats, b: GaussianStats) -> float:
    return frechet_distance(a.mean, a.cov, b.mean, b.cov)


def class_agreement(predicted: np.ndarray, asked: np.ndarray, n_classes: int) -> dict:
    """How often generated images are read as the class G was asked for: ``class_agreement``
    over all of them, ``class_agreement_per_class`` (a list indexed by the class asked for;
    None for a class not asked for) and its smallest entry ``class_agreement_min``."""
    predicted, asked = np.asarray(predicted), np.asarray(asked)
    per_class = [
        float((predicted[asked == k] == k).mean()) if (asked == k).any() else None
        for k in range(max(n_classes, int(asked.max(initial=-1)) + 1))
    ]
    present = [a for a in per_class if a is not None]
    out = {
        "class_agreement": float((predicted == asked).mean()),
        "class_agreement_per_class": per_class,
    }
    if present:
        out["class_agreement_min"] = min(present)
    return out


def class_balance(predicted: np.ndarray, n_classes: int) -> dict:
    """The class histogram of generated images and how far it is from uniform: classes that
    get at least half their uniform share, and the smallest and largest share over 1/K."""
    counts = np.bincount(np.asarray(predicted), minlength=n_classes)
    share = counts / max(counts.sum(), 1) * n_classes
    return {
        "class_histogram": counts.tolist(),
        "n_classes": n_classes,
        "classes_covered": int((share >= 0.5).sum()),
        "class_ratio_min": float(share.min()),
        "class_ratio_max": float(share.max()),
    }
