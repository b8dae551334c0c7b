"""Loading a run for sampling reads only what the model needs: an image run's checkpoints say
what its nets were built for (shape, classes), so `gankit sample` reads no image; an evaluation
still reads the splits, once, when it asks for them."""

from __future__ import annotations

import shutil

import pytest
import torch

from gankit import api, runs
from gankit.data import sources
from gankit.data.datasets import registry


@pytest.fixture
def no_image_reads(monkeypatch):
    """Any read of an image dataset fails the test (every loader goes through load_splits)."""
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise AssertionError("an image dataset was read")

    monkeypatch.setattr(sources, "load_splits", refuse)
    monkeypatch.setattr(registry, "load_splits", refuse, raising=False)
    return calls


def test_the_checkpoint_says_what_the_nets_were_built_for(digits_run):
    assert runs.checkpoint_inputs(digits_run) == {"shape": [1, 8, 8], "num_classes": 10}


def test_sampling_an_image_run_reads_no_image(digits_run, no_image_reads):
    run = api.load_run(digits_run)
    samples = run.export(12, seed=3)
    assert samples.shape == (12, 1, 8, 8) and not no_image_reads
    per_class = run.export(4, seed=3, label=7)
    assert per_class.shape == (4, 1, 8, 8) and not no_image_reads


def test_a_loaded_run_samples_as_one_loaded_with_its_data(digits_run, monkeypatch):
    """The uniform prior the deferred data builds is replaced by the checkpoint's: the same
    samples as a run loaded with the whole dataset."""
    deferred = api.load_run(digits_run).export(50, seed=1)
    monkeypatch.setattr(runs, "checkpoint_inputs", lambda path: {})  # as an older run
    full = api.load_run(digits_run).export(50, seed=1)
    assert torch.equal(deferred, full)


def test_evaluating_reads_the_data_when_it_needs_it(digits_run, tmp_path):
    run = shutil.copytree(digits_run, tmp_path / "run")
    loaded = api.load_run(run)
    assert getattr(loaded.data, "deferred", False)
    metrics = loaded.evaluate(n=200)
    assert metrics["samples"] == 200 and "fid_digits" in metrics
