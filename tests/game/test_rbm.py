"""The RBM's math (`gankit.game.rbm`) against its formulas, written out independently here
(numpy, loops and enumeration of every state of RBMs small enough to list): the energy, the
free energy and the conditionals; the CD-1 gradient's expectation summed over every state of
its chains; annealed importance sampling against the exact partition function; the
pseudo-likelihood, exact and scikit-learn's one-bit estimate."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from gankit.game import rbm


def _model(v_dim=4, h_dim=3, scale=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(h_dim, v_dim, generator=g, dtype=torch.float64) * scale
    b = torch.randn(v_dim, generator=g, dtype=torch.float64) * 0.5
    c = torch.randn(h_dim, generator=g, dtype=torch.float64) * 0.5
    return W, b, c


def _states(dim):
    return np.array(list(itertools.product([0.0, 1.0], repeat=dim)))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _np_energy(v, h, W, b, c):
    return (
        -sum(b[i] * v[i] for i in range(len(v)))
        - sum(c[j] * h[j] for j in range(len(h)))
        - sum(h[j] * W[j, i] * v[i] for j in range(len(h)) for i in range(len(v)))
    )


def _exact_log_z(W, b, c):
    """log of the sum of exp(-E(v, h)) over every (v, h): the definition, no free energy."""
    W, b, c = (t.numpy() for t in (W, b, c))
    terms = [-_np_energy(v, h, W, b, c) for v in _states(len(b)) for h in _states(len(c))]
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


def test_energy_and_free_energy_against_their_definitions():
    W, b, c = _model()
    vs, hs = _states(4), _states(3)
    v = torch.tensor(vs[np.arange(24) % 16])
    h = torch.tensor(hs[np.arange(24) % 8])
    want = [
        _np_energy(v[i].numpy(), h[i].numpy(), W.numpy(), b.numpy(), c.numpy()) for i in range(24)
    ]
    assert np.allclose(rbm.energy(v, h, W, b, c).numpy(), want, rtol=1e-12, atol=1e-12)
    # F(v) = -log sum_h exp(-E(v, h)), by enumerating h
    v = torch.tensor(vs)
    fe = rbm.free_energy(v, W, b, c).numpy()
    for k, vk in enumerate(vs):
        terms = [-_np_energy(vk, hk, W.numpy(), b.numpy(), c.numpy()) for hk in hs]
        assert fe[k] == pytest.approx(-math.log(sum(math.exp(t) for t in terms)), rel=1e-12)


def test_conditionals_are_the_joint_normalised():
    """p(h_j = 1 | v) and p(v_i = 1 | h) equal the marginals of p(h | v) = exp(-E) / sum_h."""
    W, b, c = _model(seed=3)
    Wn, bn, cn = W.numpy(), b.numpy(), c.numpy()
    vs, hs = _states(4), _states(3)
    ph = rbm.hidden_probs(torch.tensor(vs), W, c).numpy()
    for k, v in enumerate(vs):
        weights = np.array([math.exp(-_np_energy(v, h, Wn, bn, cn)) for h in hs])
        weights /= weights.sum()
        assert np.allclose(ph[k], weights @ hs, atol=1e-12)
    pv = rbm.visible_probs(torch.tensor(hs), W, b).numpy()
    for k, h in enumerate(hs):
        weights = np.array([math.exp(-_np_energy(v, h, Wn, bn, cn)) for v in vs])
        weights /= weights.sum()
        assert np.allclose(pv[k], weights @ vs, atol=1e-12)


def test_a_gibbs_step_draws_from_its_conditionals():
    W, b, c = _model(seed=1)
    v0 = torch.tensor([[1.0, 0.0, 1.0, 1.0]], dtype=torch.float64).expand(200_000, -1).contiguous()
    v1, mean = rbm.gibbs_step(v0, W, b, c, torch.Generator().manual_seed(0))
    assert set(v1.unique().tolist()) <= {0.0, 1.0}
    # E[v1] = sum_h p(h | v0) p(v = 1 | h)
    hs = _states(3)
    ph = rbm.hidden_probs(v0[:1], W, c).numpy()[0]
    p_h = np.prod(np.where(hs == 1, ph, 1 - ph), axis=1)
    want = p_h @ _sigmoid(b.numpy() + hs @ W.numpy())
    assert np.allclose(v1.mean(0).numpy(), want, atol=5e-3)
    assert np.allclose(mean.mean(0).numpy(), want, atol=5e-3)


def _exact_expected_cd1(v_data, W, b, c):
    """E[CD-1 update] on the minibatch ``v_data`` summed over every chain state: for each data
    row, every h0 (weight p(h0 | v)) and every v1 (weight p(v1 | h0)), the update
    p(h|v) v^T - p(h|v1) v1^T (and the biases'), averaged over rows."""
    Wn, bn, cn = W.numpy(), b.numpy(), c.numpy()
    hs, vs = _states(len(cn)), _states(len(bn))
    dW, db, dc = np.zeros_like(Wn), np.zeros_like(bn), np.zeros_like(cn)
    for v in v_data:
        ph = _sigmoid(cn + Wn @ v)
        for h0 in hs:
            w_h = np.prod(np.where(h0 == 1, ph, 1 - ph))
            pv = _sigmoid(bn + h0 @ Wn)
            for v1 in vs:
                w = w_h * np.prod(np.where(v1 == 1, pv, 1 - pv))
                ph1 = _sigmoid(cn + Wn @ v1)
                dW += w * (np.outer(ph, v) - np.outer(ph1, v1))
                db += w * (v - v1)
                dc += w * (ph - ph1)
    n = len(v_data)
    return dW / n, db / n, dc / n


def test_the_cd1_gradient_is_its_brute_force_expectation():
    """The mean of many CD-1 estimates (one chain per copy of the minibatch) is within 4
    standard errors of the exact expectation over every state of the chain."""
    W, b, c = _model(scale=0.8, seed=2)
    data = np.array([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 0, 0]], dtype=np.float64)
    want = _exact_expected_cd1(data, W, b, c)
    copies = 40_000
    v = torch.tensor(data).repeat(copies, 1)
    g = torch.Generator().manual_seed(5)
    (dW, db, dc), end = rbm.cd_estimate(v, W, b, c, 1, g)
    assert end.v.shape == v.shape and end.h.shape == (v.shape[0], 3)
    # per-copy estimates, for a standard error: recompute the update of each copy
    h_data = rbm.hidden_probs(v, W, c)
    per_w = h_data.unsqueeze(2) * v.unsqueeze(1) - end.h_probs.unsqueeze(2) * end.v.unsqueeze(1)
    per_w = per_w.reshape(copies, 3, 3, 4).mean(1)
    assert np.allclose(dW.numpy(), per_w.mean(0).numpy(), atol=1e-10)
    se = per_w.std(0).numpy() / math.sqrt(copies)
    assert np.all(np.abs(dW.numpy() - want[0]) < 4 * se + 1e-9)
    per_b = (v - end.v).reshape(copies, 3, 4).mean(1)
    se_b = per_b.std(0).numpy() / math.sqrt(copies)
    assert np.all(np.abs(db.numpy() - want[1]) < 4 * se_b + 1e-9)
    per_c = (h_data - end.h_probs).reshape(copies, 3, 3).mean(1)
    se_c = per_c.std(0).numpy() / math.sqrt(copies)
    assert np.all(np.abs(dc.numpy() - want[2]) < 4 * se_c + 1e-9)
    # and the test can fail: CD-1 is not the exact gradient, whose negative phase is p(v)
    assert np.abs(dW.numpy() - want[0]).max() < 0.02


def test_persistent_chains_continue_from_their_hidden_states():
    W, b, c = _model(seed=4)
    v = torch.tensor(_states(4)[[3, 9]])
    chains = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    g1, g2 = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    _, end = rbm.cd_estimate(v, W, b, c, 2, g1, chains=chains)
    # the same draws by hand: v ~ p(v|h), h ~ p(h|v), twice, from the given chains
    h = chains
    for _ in range(2):
        vv = torch.bernoulli(rbm.visible_probs(h, W, b), generator=g2)
        h = torch.bernoulli(rbm.hidden_probs(vv, W, c), generator=g2)
    assert torch.equal(end.v, vv) and torch.equal(end.h, h)


def test_the_exact_log_likelihood_gradient_is_cd_with_the_model_as_negative_phase():
    """cd_gradient with the negative phase weighted by the exact p(v) equals the autograd
    gradient of the mean exact log-likelihood -F(v) - log Z: the estimator's formula is right."""
    W, b, c = _model(seed=6)
    data = torch.tensor(_states(4)[[1, 6, 11, 15]])
    params = [t.clone().requires_grad_(True) for t in (W, b, c)]
    vs = torch.tensor(_states(4))
    log_z = torch.logsumexp(-rbm.free_energy(vs, *params), 0)
    ll = (-rbm.free_energy(data, *params) - log_z).mean()
    grads = torch.autograd.grad(ll, params)
    p_v = torch.softmax(-rbm.free_energy(vs, W, b, c), 0)
    ph = rbm.hidden_probs(vs, W, c)
    ph_d = rbm.hidden_probs(data, W, c)
    dW = ph_d.t() @ data / 4 - (ph * p_v[:, None]).t() @ vs
    db = data.mean(0) - p_v @ vs
    dc = ph_d.mean(0) - p_v @ ph
    for got, want in zip(grads, (dW, db, dc)):
        assert torch.allclose(got, want, atol=1e-12)


def test_ais_matches_the_exact_partition_function():
    """log Z by AIS within 3 of its reported standard errors of the sum over every state, for a
    model with real structure (weights of scale 1.5) and the paper's schedule shape."""
    W, b, c = _model(v_dim=8, h_dim=5, scale=1.5, seed=8)
    exact = _exact_log_z(W, b, c)
    vs = torch.tensor(_states(8))
    assert float(torch.logsumexp(-rbm.free_energy(vs, W, b, c), 0)) == pytest.approx(exact)
    data = torch.bernoulli(
        torch.full((50, 8), 0.3, dtype=torch.float64), generator=torch.Generator().manual_seed(1)
    )
    base = rbm.base_rate_biases(data)
    result = rbm.ais_log_partition(
        W, b, c, base, rbm.ais_betas(1000), 400, torch.Generator().manual_seed(0)
    )
    assert 0 < result.log_z_stderr < 0.05
    assert abs(result.log_z - exact) < 3 * result.log_z_stderr, (result, exact)
    # the base model's log Z is exact: independent bits and H free hidden units
    want_base = float(torch.log1p(torch.exp(base)).sum()) + 5 * math.log(2)
    assert result.log_z_base == pytest.approx(want_base)
    # with too few temperatures the estimate is off by more: the test can fail
    poor = rbm.ais_log_partition(
        W, b, c, base, rbm.ais_betas(3), 5, torch.Generator().manual_seed(0)
    )
    assert abs(poor.log_z - exact) > abs(result.log_z - exact)


def test_ais_betas_follow_the_papers_pieces():
    betas = rbm.ais_betas(14_500)
    assert len(betas) == 14_501 and betas[0] == 0.0 and betas[-1] == 1.0
    assert bool((betas[1:] > betas[:-1]).all())
    assert int((betas < 0.5).sum()) == 500 and int(((betas >= 0.5) & (betas < 0.9)).sum()) == 4000
    with pytest.raises(ValueError):
        rbm.ais_betas(2)


def test_pseudo_likelihood_is_the_sum_of_exact_conditionals():
    W, b, c = _model(v_dim=5, h_dim=3, seed=9)
    vs = torch.tensor(_states(5))
    log_p = -rbm.free_energy(vs, W, b, c)  # unnormalised log p(v)
    index = {tuple(v.tolist()): k for k, v in enumerate(vs)}
    want = []
    for v in vs:
        total = 0.0
        for i in range(5):
            other = v.clone()
            other[i] = 1 - other[i]
            a, o = log_p[index[tuple(v.tolist())]], log_p[index[tuple(other.tolist())]]
            total += float(a - torch.logaddexp(a, o))
        want.append(total)
    got = rbm.pseudo_likelihood(vs, W, b, c)
    assert np.allclose(got.numpy(), want, atol=1e-10)
    # chunking changes nothing
    assert torch.allclose(rbm.pseudo_likelihood(vs, W, b, c, chunk=1), got)
    # scikit-learn's one-bit estimate is unbiased for it: V * mean over bits = the sum
    many = vs.repeat(4000, 1)
    est = rbm.pseudo_likelihood_stochastic(many, W, b, c, torch.Generator().manual_seed(0))
    est = est.reshape(4000, 32).mean(0)
    assert np.allclose(est.numpy(), want, atol=0.15)


def test_pseudo_likelihood_stochastic_is_scikit_learns_score_samples():
    """The same flipped bits give scikit-learn's BernoulliRBM.score_samples."""
    sklearn_rbm = pytest.importorskip("sklearn.neural_network").BernoulliRBM
    W, b, c = _model(v_dim=6, h_dim=4, seed=10)
    model = sklearn_rbm(n_components=4)
    model.components_, model.intercept_visible_, model.intercept_hidden_ = (
        W.numpy(),
        b.numpy(),
        c.numpy(),
    )
    v = _states(6)
    model.random_state = 3
    want = model.score_samples(v)
    # scikit-learn flips bit rng.randint(0, V, n) of each row
    bits = np.random.RandomState(3).randint(0, 6, len(v))
    got = 6 * rbm.log_sigmoid_flip_gain(torch.tensor(v), W, b, c, torch.tensor(bits))
    assert np.allclose(got.numpy(), want, atol=1e-10)


def test_log_likelihood_and_bits_per_dim():
    W, b, c = _model(seed=11)
    vs = torch.tensor(_states(4))
    log_z = _exact_log_z(W, b, c)
    ll = rbm.log_likelihood(vs, W, b, c, log_z)
    assert float(torch.logsumexp(ll, 0)) == pytest.approx(0.0, abs=1e-12)  # sums to one
    assert rbm.bits_per_dim(-4 * math.log(2), 4) == pytest.approx(1.0)


# --- the exact partition function (the 2-D toys' likelihood) -------------------------------


def _brute_log_z(W, b, c):
    """log Z = log sum over every (v, h) of exp(-E(v, h)), E from its formula (numpy)."""
    W, b, c = (t.numpy() for t in (W, b, c))
    terms = [-_np_energy(v, h, W, b, c) for v in _states(len(b)) for h in _states(len(c))]
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


@pytest.mark.parametrize("v_dim,h_dim,scale", [(3, 2, 1.0), (5, 4, 2.0), (6, 3, 0.3)])
def test_exact_log_partition_equals_the_sum_over_every_visible_and_hidden_state(
    v_dim, h_dim, scale
):
    W, b, c = _model(v_dim, h_dim, scale, seed=v_dim)
    assert rbm.exact_log_partition(W, b, c) == pytest.approx(_brute_log_z(W, b, c), abs=1e-10)
    # chunked or not: the same number
    assert rbm.exact_log_partition(W, b, c, chunk=3) == pytest.approx(
        rbm.exact_log_partition(W, b, c), abs=1e-12
    )


def test_the_exact_probabilities_of_every_visible_state_sum_to_one():
    W, b, c = _model(8, 5, 1.5, seed=3)
    log_z = rbm.exact_log_partition(W, b, c)
    states = rbm.binary_states(8)
    assert states.shape == (256, 8)
    assert torch.equal(states, torch.from_numpy(_states(8)))  # itertools' order: MSB first
    total = rbm.log_likelihood(states, W, b, c, log_z).exp().sum()
    assert float(total) == pytest.approx(1.0, abs=1e-12)


def test_exact_log_partition_refuses_too_many_visible_units():
    W = torch.zeros(2, rbm.MAX_EXACT_VISIBLE + 1, dtype=torch.float64)
    with pytest.raises(ValueError, match="2\\^V"):
        rbm.exact_log_partition(W, torch.zeros(W.shape[1]), torch.zeros(2))
