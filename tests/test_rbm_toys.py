"""The RBM on the 2-D toys: the plane as Gray-coded bits (`gankit.data.discretize`) against
hand-computed codes and cells; the exact density of an RBM over the grid (a probability per
cell that sums to 1, a log-density that integrates to 1 over the box); and end to end,
`gankit train --preset rbm-ring-8` on a tiny budget, then `sample`, `evaluate`, and the
refusals, each one line."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import torch

from gankit import api
from gankit.data.discretize import PointGrid, gray_code, gray_decode, grid_for
from gankit.data.toy import make_toy
from gankit.game import rbm as rbm_math
from gankit.nets.rbm import RBM
from gankit.recipes.fit_set import heldout_points
from gankit.recipes.rbm.evaluation import TOY_HELDOUT_POINTS, toy_log_density
from gankit.recipes.rbm.step import gibbs_points
from image_cli_kit import gankit, resumed_like_straight, rows_of, train_tiny

# --- the grid of bits ---------------------------------------------------------------------


def _hamming(a: int, b: int) -> int:
    return bin(a ^ b).count("1")


@pytest.mark.parametrize("bits", [1, 3, 6, 10])
def test_gray_code_is_a_bijection_whose_neighbours_differ_in_one_bit(bits):
    index = torch.arange(2**bits)
    code = gray_code(index)
    assert sorted(code.tolist()) == list(range(2**bits))  # a permutation of the codes
    assert torch.equal(gray_decode(code, bits), index)
    assert all(_hamming(int(a), int(b)) == 1 for a, b in zip(code[:-1], code[1:]))


def test_gray_code_by_hand():
    # the reflected binary code of 0..7: 000 001 011 010 110 111 101 100
    assert gray_code(torch.arange(8)).tolist() == [0, 1, 3, 2, 6, 7, 5, 4]


def test_encode_writes_each_coordinate_msb_first_in_gray_code():
    grid = PointGrid([0.0, 0.0], [8.0, 8.0], 3)  # bins of width 1
    bits = grid.encode(torch.tensor([[2.5, 4.0], [0.0, 7.99]]))
    # x bin 2 -> gray 3 = 011, y bin 4 -> gray 6 = 110; x bin 0 -> 000, y bin 7 -> gray 4 = 100
    assert bits.tolist() == [[0, 1, 1, 1, 1, 0], [0, 0, 0, 1, 0, 0]]
    assert bits.dtype == torch.float32


def test_neighbouring_cells_have_codes_one_bit_apart():
    grid = PointGrid([-1.0, -2.0], [1.0, 2.0], 5)
    i = torch.arange(grid.bins - 1)
    for axis in (0, 1):
        a = torch.zeros(len(i), 2, dtype=torch.long)
        a[:, axis] = i
        b = a.clone()
        b[:, axis] += 1
        flips = (grid.index_bits(a) != grid.index_bits(b)).sum(1)
        assert torch.equal(flips, torch.ones_like(flips))


def test_decode_reads_back_the_cell_and_lands_inside_it():
    grid = PointGrid([-1.5, 0.0], [2.5, 1.0], 6)
    x = torch.rand(5000, 2, dtype=torch.float64) * (grid.high - grid.low) + grid.low
    bits = grid.encode(x)
    back = grid.decode(bits, torch.Generator().manual_seed(0))
    assert back.shape == (5000, 2) and back.dtype == torch.float32
    assert torch.equal(grid.bin_index(back), grid.bin_index(x))  # the same cell
    lo = grid.low + grid.bin_index(x) * grid.width
    assert bool(((back.double() >= lo - 1e-6) & (back.double() <= lo + grid.width + 1e-6)).all())
    # uniform inside the cell: the offsets fill it, mean 1/2
    offset = (back.double() - lo) / grid.width
    assert float(offset.mean()) == pytest.approx(0.5, abs=0.02)
    assert float(offset.min()) < 0.01 and float(offset.max()) > 0.99


def test_decode_of_means_reads_them_as_bits():
    grid = PointGrid([0.0, 0.0], [4.0, 4.0], 2)
    means = torch.tensor([[0.9, 0.2, 0.1, 0.7]])  # bits 1 0 | 0 1: gray 2 -> 3, gray 1 -> 1
    assert grid.bits_index(means).tolist() == [[3, 1]]


def test_points_outside_the_box_are_clamped_to_the_edge_cells():
    grid = PointGrid([0.0, 0.0], [1.0, 1.0], 4)
    x = torch.tensor([[-5.0, 0.5], [3.0, 2.0], [0.5, -0.01], [1.0, 1.0]])
    index = grid.bin_index(x)
    assert index.tolist() == [[0, 8], [15, 15], [8, 0], [15, 15]]
    assert grid.inside(x).tolist() == [False, False, False, True]


def test_the_box_of_a_toy_is_its_centres_padded_by_six_mode_stds():
    ring = make_toy("ring-8")  # centres in [-1, 1]^2, std 0.01
    grid = grid_for(ring, 6)
    assert grid.low.tolist() == pytest.approx([-1.06, -1.06])
    assert grid.high.tolist() == pytest.approx([1.06, 1.06])
    assert grid.log_cell_area == pytest.approx(2 * math.log(2.12 / 64))
    grid25 = grid_for(make_toy("grid-25"), 7)  # centres {-4..4}, std 0.05
    assert grid25.high.tolist() == pytest.approx([4.3, 4.3]) and grid25.bins == 128


def test_the_grid_refuses_a_one_dimensional_toy_and_bad_bits():
    with pytest.raises(ValueError, match="2-D"):
        grid_for(make_toy("gaussian"), 6)
    with pytest.raises(ValueError, match="bits"):
        PointGrid([0, 0], [1, 1], 0)
    with pytest.raises(ValueError, match="empty"):
        PointGrid([0, 0], [1, -1], 3)


# --- the RBM's exact density on the grid --------------------------------------------------


def _rbm(visible, hidden=5, seed=0, scale=1.0):
    torch.manual_seed(seed)
    model = RBM((visible,), hidden)
    with torch.no_grad():
        model.weight.normal_(0, scale)
        model.visible_bias.normal_(0, 0.5)
        model.hidden_bias.normal_(0, 0.5)
    return model


def test_the_cell_probabilities_sum_to_one_and_the_density_integrates_to_one():
    grid = PointGrid([-1.0, 0.5], [2.0, 1.5], 3)
    model = _rbm(grid.visible, seed=1)
    W, b, c = (t.detach().double() for t in model.params)
    log_z = rbm_math.exact_log_partition(W, b, c)
    ii, jj = torch.meshgrid(torch.arange(grid.bins), torch.arange(grid.bins), indexing="ij")
    index = torch.stack([ii.reshape(-1), jj.reshape(-1)], 1)
    cells = grid.index_bits(index).double()
    assert cells.unique(dim=0).shape[0] == grid.bins**2  # every state of the bits is a cell
    p_cell = rbm_math.log_likelihood(cells, W, b, c, log_z).exp()
    assert float(p_cell.sum()) == pytest.approx(1.0, abs=1e-12)
    # the density at each cell's centre times the cell's area, summed over the box
    log_p = toy_log_density(model, grid, grid.cell_centres(index))
    area = math.exp(grid.log_cell_area)
    assert float(log_p.exp().sum() * area) == pytest.approx(1.0, abs=1e-9)
    # the density is constant in a cell: log P(cell) - log(area)
    assert torch.allclose(log_p, p_cell.log() - grid.log_cell_area, atol=1e-10)


def test_the_density_is_zero_outside_the_box():
    grid = PointGrid([0.0, 0.0], [1.0, 1.0], 2)
    model = _rbm(grid.visible)
    log_p = toy_log_density(model, grid, torch.tensor([[0.5, 0.5], [1.2, 0.5], [0.5, -0.1]]))
    assert math.isfinite(float(log_p[0])) and log_p[1:].tolist() == [-math.inf, -math.inf]


# --- end to end ---------------------------------------------------------------------------

#: a few seconds: 40 updates, short chains, few samples
TOY_TINY = [
    "--steps",
    "40",
    "--set",
    "log.every=10",
    "--set",
    "log.eval_every=20",
    "--set",
    "log.eval_samples=300",
    "--set",
    "log.final_samples=500",
    "--set",
    "rbm.sample_steps=10",
    "--set",
    "rbm.grid_bits=5",
    "--set",
    "rbm.hidden=16",
]


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    return train_tiny(tmp_path_factory, "rbm-ring-8", budget=TOY_TINY)


def test_a_toy_run_writes_the_toy_metrics_and_the_exact_likelihood(toy_run):
    evaluations = [r for r in rows_of(toy_run) if "modes_covered" in r]
    assert [r["step"] for r in evaluations] == [20, 40]
    for r in evaluations:
        assert math.isfinite(r["log_likelihood"]) and "data_log_likelihood" in r
    final = json.loads((toy_run / "final_metrics.json").read_text())
    for key in ("modes_covered", "high_quality", "kl_data_model", "w1", "log_z"):
        assert key in final, key
    assert final["log_likelihood"] < final["data_log_likelihood"]  # the ring's own is the top
    assert not (toy_run / "rbm" / "chain.png").exists()  # image strips only
    page = (toy_run / "report.html").read_text()
    assert "RBM likelihoods and Gibbs chains" in page and "data_log_likelihood" in page
    assert "no chain strip" not in page and "has not finished" not in page


def test_the_final_log_likelihood_is_the_cell_probability_over_the_cell_area(toy_run):
    """Recomputed here by listing every cell's probability (the RBM's 2^10 states)."""
    loaded = api.load_run(toy_run)
    final = json.loads((toy_run / "final_metrics.json").read_text())
    grid = loaded.grid
    assert grid.bits == 5 and grid.visible == 10
    W, b, c = (t.detach().double() for t in loaded.generator.params)
    states = torch.from_numpy(np.array(list(itertools.product([0.0, 1.0], repeat=10))))
    neg_f = -rbm_math.free_energy(states, W, b, c)
    log_z = float(torch.logsumexp(neg_f, 0))
    assert final["log_z"] == pytest.approx(log_z, abs=1e-9)
    x = heldout_points(loaded.data, TOY_HELDOUT_POINTS)
    assert bool(grid.inside(x).all())  # the box holds every held-out point
    code = (grid.encode(x).long() * (2 ** torch.arange(9, -1, -1))).sum(1)  # the state's number
    want = float((neg_f[code] - log_z).mean()) - grid.log_cell_area
    assert final["log_likelihood"] == pytest.approx(want, abs=1e-9)
    want_data = float(loaded.data.distribution.log_prob(x).mean())
    assert final["data_log_likelihood"] == pytest.approx(want_data, abs=1e-9)


def test_sample_gives_points_decoded_from_the_chains_bits(toy_run, tmp_path):
    out = tmp_path / "s.npy"
    code, _, err = gankit("sample", toy_run, "-n", 7, "--seed", 3, "--out", out)
    assert code == 0, err
    got = np.load(out)
    assert got.shape == (7, 2) and got.dtype == np.float32
    loaded = api.load_run(toy_run)
    assert bool(loaded.grid.inside(torch.from_numpy(got)).all())
    want = gibbs_points(loaded.generator, loaded.grid, 7, 10, torch.Generator().manual_seed(3))
    np.testing.assert_allclose(got, want.numpy())


def test_evaluate_after_reload_reads_the_toy_metrics(toy_run):
    code, out, err = gankit("evaluate", toy_run, "-n", 400, "--json")
    assert code == 0, err
    metrics = json.loads(out)
    metrics = metrics.get("metrics", metrics)
    assert {"modes_covered", "w1", "log_likelihood", "data_log_likelihood"} <= set(metrics)


def test_a_resumed_toy_run_ends_as_the_straight_one(toy_run, tmp_path):
    """The persistent chains and the streams (the toy's points, the chains) are restored."""
    _, tensors = resumed_like_straight(toy_run, tmp_path, stop_after=23)
    assert "chains.chains" in tensors


def test_the_rbm_learns_the_ring_on_the_grid():
    """Trained a little longer in the test: the model's bits put most of their mass near the
    modes (far above a uniform grid's share)."""
    torch.manual_seed(0)
    ring = make_toy("ring-8")
    grid = grid_for(ring, 5)
    model = RBM((grid.visible,), 32)
    g = torch.Generator().manual_seed(0)
    chains = torch.zeros(64, 32, dtype=torch.float32)
    W, b, c = model.params
    for _ in range(600):
        v = grid.encode(ring.sample(64, g))
        (dW, db, dc), end = rbm_math.cd_estimate(
            v, W.detach(), b.detach(), c.detach(), 1, g, chains
        )
        chains = end.h
        with torch.no_grad():
            W += 0.1 * dW
            b += 0.1 * db
            c += 0.1 * dc
    points = gibbs_points(model, grid, 2000, 100, torch.Generator().manual_seed(1))
    near = (torch.cdist(points.double(), ring.modes.double()).min(1).values < 0.1).double().mean()
    assert float(near) > 0.5
