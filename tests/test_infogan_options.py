"""InfoGAN's options beyond the paper, each 0 (off) by default:

- ``infogan.real_cluster_weight``: the D phase's loss is the paper's plus ``weight * (H(c | x)
  - H(c))`` of Q on the same real minibatch, worked out here from Q's logits with torch's own
  entropies; its gradient reaches D and Q, never G; at weight 0 nothing extra is logged.
- ``infogan.mi_warmup``: the information term's weights ramp linearly from 0 at step 0 to
  their full values at the warm-up's end.
- ``infogan.q_augment``: Q reads G's images through the DiffAugment policy, its shifts drawn
  from a stream of its own that only such a run has; worked out here with
  `gankit.game.augment`'s translation and `gankit.game.mutual_info`'s terms."""

from __future__ import annotations

import pytest
import torch

from gankit import config as config_mod
from gankit.data.sources import load_image_data
from gankit.game.augment import translation
from gankit.game.mutual_info import information_loss
from gankit.recipes.infogan.recipe import build_infogan_for
from gankit.recipes.infogan.step import InfoGanTrainable, information_terms

TINY = ["train.batch_size=32", "model.g_width=8", "model.d_width=8", "log.eval_every=0"]


def _trainable(weight: float, *overrides: str) -> InfoGanTrainable:
    torch.manual_seed(0)
    cfg = config_mod.resolve(
        "infogan-digits", overrides=[*TINY, f"infogan.real_cluster_weight={weight}", *overrides]
    )
    data = load_image_data(cfg.data)
    g, d, q = build_infogan_for(cfg, data)
    with torch.no_grad():  # confident, uneven posteriors: at init both entropies are ~log K
        q.net[-1].weight.mul_(50.0)
    return InfoGanTrainable(cfg, data.source, g, d, q, torch.device("cpu"))


def test_the_d_loss_adds_the_weighted_entropies_of_q_on_the_real_minibatch():
    weight = 0.7
    plain, clustered = _trainable(0.0), _trainable(weight)  # the same nets and streams
    for a, b in zip(plain.D.parameters(), clustered.D.parameters(), strict=True):
        assert torch.equal(a, b)
    stream = clustered.rngs["data"]
    before = stream.get_state()
    real = clustered.real(32).x  # the real minibatch the D phase draws first
    stream.set_state(before)
    with torch.no_grad():
        logits, _ = clustered.Q(clustered.D.features(real))
    posterior = torch.distributions.Categorical(logits=logits)
    conditional = posterior.entropy().mean()
    marginal = torch.distributions.Categorical(probs=posterior.probs.mean(0)).entropy()

    loss_plain, stats_plain = plain.discriminator_loss(32)
    loss_clustered, stats = clustered.discriminator_loss(32)
    assert "q_real_entropy" not in stats_plain
    assert stats["q_real_entropy"].item() == pytest.approx(conditional.item(), rel=1e-4)
    assert stats["q_real_marginal"].item() == pytest.approx(marginal.item(), rel=1e-4)
    expected = loss_plain.item() + weight * (conditional - marginal).item()
    assert loss_clustered.item() == pytest.approx(expected, rel=1e-4, abs=1e-5)
    assert abs(loss_clustered.item() - loss_plain.item()) > 0.05  # the term is not ~0 here


def test_the_term_trains_d_and_q_never_g():
    t = _trainable(1.0)
    torch.manual_seed(1)
    real = t.real(32).x
    clustering, _ = t._real_clustering(real)
    clustering.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in t.Q.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in t.D.parameters())
    assert all(p.grad is None for p in t.G.parameters())


@pytest.mark.parametrize("step, share", [(0, 0.0), (4, 0.4), (10, 1.0), (25, 1.0)])
def test_the_warm_up_ramps_the_information_term_linearly(step, share):
    information = {}
    for name, t in (("warm", _trainable(0.0, "infogan.mi_warmup=10")), ("plain", _trainable(0.0))):
        t.begin(step)  # the same nets and streams: the same codes and images in both
        _, stats = t.generator_loss(32)
        information[name] = stats["g_information"].item()
    assert information["plain"] > 0.1
    assert information["warm"] == pytest.approx(share * information["plain"], rel=1e-5, abs=1e-7)


def test_q_reads_g_images_through_the_augmentation_policy_from_its_own_stream():
    """The G phase's information term with ``q_augment = translation`` is Q's on the
    translated images (the shifts drawn from the ``q_augment`` stream), not on G's own; the
    paper's run has no such stream, so its streams and checkpoints are as before."""
    plain, shifted = _trainable(0.0), _trainable(0.0, "infogan.q_augment=translation")
    assert "q_augment" not in plain.rngs and plain.q_augment is None
    noise, augment = shifted.rngs["noise"].get_state(), shifted.rngs["q_augment"].get_state()
    _, stats = shifted.generator_loss(32)
    _, stats_plain = plain.generator_loss(32)
    shifted.rngs["noise"].set_state(noise)
    shifted.rngs["q_augment"].set_state(augment)
    s = shifted.section
    with torch.no_grad():
        z, code, cont = shifted.codes(32)
        images = shifted.G(z, code, cont)
        moved = translation(images, shifted.rngs["q_augment"])
        assert not torch.equal(moved, images)
        ce, nll = information_terms(shifted.D, shifted.Q, moved, code, cont)
        expected = information_loss(ce, nll, s.mi_weight, s.continuous_weight)
    assert stats["g_information"].item() == pytest.approx(expected.item(), rel=1e-5)
    assert abs(stats["g_information"].item() - stats_plain["g_information"].item()) > 1e-4
