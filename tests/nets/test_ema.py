"""The EMA of a net's parameters and buffers against hand computations."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gankit.nets.dcgan import DCGANGenerator
from gankit.nets.ema import IterateEma, debiased_decay, make_ema, update_ema


class WithConstant(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.register_buffer("constant", torch.tensor([0.1, 1 / 3, 2.7, -1e-7]))

    def forward(self, x):
        return self.bn(self.linear(x))


def train_a_little(net: nn.Module, seed: int, steps: int = 2) -> None:
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(steps):
        opt.zero_grad()
        net(torch.randn(8, 3, generator=g)).pow(2).mean().backward()
        opt.step()


def state(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def test_make_ema_is_a_frozen_copy_in_the_same_mode():
    torch.manual_seed(0)
    live = WithConstant()
    ema = make_ema(live)
    assert ema is not live and all(not p.requires_grad for p in ema.parameters())
    assert all(p.requires_grad for p in live.parameters())
    assert ema.training and ema.bn.training
    for k, v in live.state_dict().items():
        assert torch.equal(ema.state_dict()[k], v)
        assert ema.state_dict()[k].data_ptr() != v.data_ptr()
    live.eval()
    assert not make_ema(live).training and not make_ema(live).bn.training


def test_ema_matches_a_hand_computation_on_weights_and_running_stats():
    torch.manual_seed(0)
    live = WithConstant()
    ema = make_ema(live)
    decay = 0.9
    expected = {k: v.double() for k, v in state(ema).items() if v.is_floating_point()}
    for step in range(4):
        train_a_little(live, seed=step)  # moves the weights and the BN running statistics
        update_ema(ema, live, decay)
        now = state(live)
        for k in expected:
            expected[k] = decay * expected[k] + (1 - decay) * now[k].double()
    got = state(ema)
    assert not torch.allclose(got["bn.running_mean"], now["bn.running_mean"])
    for k, v in expected.items():
        torch.testing.assert_close(got[k].double(), v, rtol=1e-5, atol=1e-6)
    assert got["bn.running_var"].ne(1).all() and got["bn.running_mean"].ne(0).all()


def test_decay_zero_copies_exactly_and_decay_one_keeps():
    torch.manual_seed(0)
    live = WithConstant()
    ema = make_ema(live)
    train_a_little(live, seed=1)
    before = state(ema)
    update_ema(ema, live, 1.0)
    for k, v in state(ema).items():
        if v.is_floating_point():
            assert torch.equal(v, before[k])
    update_ema(ema, live, 0.0)
    for k, v in state(ema).items():
        assert torch.equal(v, live.state_dict()[k]), k


def test_constant_buffer_bit_identical_and_counter_copied():
    torch.manual_seed(0)
    live = WithConstant()
    ema = make_ema(live)
    constant = live.constant.clone()
    for step in range(5):
        train_a_little(live, seed=step, steps=1)
        update_ema(ema, live, 0.9)
    assert torch.equal(ema.constant, constant)
    # the test has teeth: the same average as a weighted sum moves some bits
    naive = constant.clone()
    for _ in range(5):
        naive = 0.9 * naive + (1 - 0.9) * constant
    assert not torch.equal(naive, constant)
    assert ema.bn.num_batches_tracked.item() == live.bn.num_batches_tracked.item() == 5
    assert ema.bn.num_batches_tracked.dtype == torch.long


def test_mismatched_modules_refused():
    a = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    with pytest.raises(ValueError, match=r"parameters differ.*'1\.weight'.*'2\.weight'"):
        update_ema(a, nn.Sequential(nn.Linear(3, 4), nn.Identity(), nn.BatchNorm1d(4)), 0.9)
    with pytest.raises(ValueError, match=r"'0\.weight'.*\(4, 3\).*\(5, 3\)"):
        update_ema(a, nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(4)), 0.9)
    with pytest.raises(ValueError, match="buffers differ"):
        update_ema(
            a, nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, track_running_stats=False)), 0.9
        )
    with pytest.raises(ValueError, match="decay"):
        update_ema(a, make_ema(a), 1.5)


def test_works_for_a_dcgan_generator():
    torch.manual_seed(0)
    live = DCGANGenerator(8, 3, 16, width=4)
    ema = make_ema(live)
    opt = torch.optim.Adam(live.parameters(), lr=1e-2)
    for _ in range(3):
        opt.zero_grad()
        live(torch.randn(8, 8)).pow(2).mean().backward()
        opt.step()
        update_ema(ema, live, 0.5)
    bn = "net.1.running_mean"
    assert not torch.equal(ema.state_dict()[bn], torch.zeros_like(ema.state_dict()[bn]))
    assert not torch.equal(ema.state_dict()[bn], live.state_dict()[bn])
    ema.eval()
    assert ema(torch.randn(2, 8)).shape == (2, 3, 16, 16)


@pytest.mark.parametrize("decay", [0.0, 0.5, 0.9, 0.999])
def test_debiased_ema_is_the_normalised_weighted_average_of_the_iterates(decay):
    """After t updates with `debiased_decay`, the EMA is sum_s decay^(t-s) x_s / sum_s
    decay^(t-s) over the iterates x_1..x_t (written from that formula), whatever it started as."""
    torch.manual_seed(0)
    live = WithConstant()
    ema = make_ema(live)
    with torch.no_grad():
        for p in ema.parameters():
            p.fill_(123.0)  # a start far from every iterate: it must leave no trace
    iterates = []
    for t in range(1, 7):
        train_a_little(live, seed=t)
        iterates.append(state(live))
        update_ema(ema, live, debiased_decay(decay, t))
    weights = [decay ** (len(iterates) - s) for s in range(1, len(iterates) + 1)]
    for name, value in state(ema).items():
        if not value.is_floating_point():
            continue
        expected = sum(w * it[name].double() for w, it in zip(weights, iterates)) / sum(weights)
        assert torch.allclose(value.double(), expected, rtol=1e-5, atol=1e-6), name


def test_debiased_decay_by_hand():
    assert debiased_decay(0.9, 1) == 0.0  # the first update copies
    assert debiased_decay(0.9, 2) == pytest.approx(1 - 0.1 / 0.19)  # = 0.9 / 1.9
    assert debiased_decay(0.999, 10**6) == pytest.approx(0.999, abs=1e-15)
    assert debiased_decay(1.0, 5) == 1.0
    with pytest.raises(ValueError, match="updates"):
        debiased_decay(0.9, 0)
    with pytest.raises(ValueError, match="decay"):
        debiased_decay(1.5, 3)


def test_iterate_ema_moves_at_the_debiased_decay_of_each_update():
    """Loop step 0's update copies the net (the first debiased update); step 1's is the average at
    the decay of a second update: the convention every family's loop uses."""
    torch.manual_seed(0)
    live = nn.Linear(3, 2)
    assert IterateEma.of(live, 0.0) is None and IterateEma.of(None, 0.9) is None
    ema = IterateEma.of(live, 0.9)
    train_a_little(nn.Sequential(live, nn.Linear(2, 3)), seed=1)
    first = state(live)
    ema.after_update(0)
    assert all(torch.equal(ema.module.state_dict()[k], v) for k, v in first.items())
    train_a_little(nn.Sequential(live, nn.Linear(2, 3)), seed=2)
    d = debiased_decay(0.9, 2)
    ema.after_update(1)
    for k, v in state(live).items():
        torch.testing.assert_close(ema.module.state_dict()[k], d * first[k] + (1 - d) * v)
    with pytest.raises(ValueError, match="decay"):
        IterateEma(live, 1.5)
