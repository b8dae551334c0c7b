"""`gankit fid` and `gankit features` end to end, offline, on the shipped digits net."""

import json

import numpy as np
import pytest

from gankit.cli import main
from gankit.data.images import load_digits_images
from gankit.metrics import fid


@pytest.fixture(scope="module")
def halves(tmp_path_factory):
    d = tmp_path_factory.mktemp("digits")
    x = load_digits_images()
    a, b = d / "a.npy", d / "b.npz"
    np.save(a, x[:900])
    np.savez(b, samples=np.round(x[900:] * 255).astype(np.uint8))
    return a, b, x


def run_cli(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_fid_json_matches_api_and_caches(halves, tmp_path, capsys):
    a, b, _ = halves
    rc, out, err = run_cli(capsys, "fid", a, b, "--json", "--cache-dir", tmp_path)
    assert rc == 0, err
    res = json.loads(out)
    assert res["features"] == "digits" and res["n_a"] == 900 and res["n_b"] == 897
    fa, _ = _features(a)
    fb, _ = _features(b)
    assert res["fid"] == pytest.approx(fid(fa, fb), rel=1e-6)
    assert (res["cached_a"], res["cached_b"]) == (False, False)
    rc, out, _ = run_cli(capsys, "fid", a, b, "--json", "--cache-dir", tmp_path)
    again = json.loads(out)
    assert (again["cached_a"], again["cached_b"]) == (True, True)
    assert again["fid"] == res["fid"]


def _features(path):
    from gankit.data.images import load_images
    from gankit.metrics.features import extract_features

    return extract_features(load_images(path), "digits")


def test_fid_text_output_and_identity(halves, capsys):
    a, _, _ = halves
    rc, out, _ = run_cli(capsys, "fid", a, a, "--features", "digits", "--no-cache")
    assert rc == 0 and float(out.split()[1]) < 1e-8 and "900 vs 900" in out


def test_fid_refusals(halves, tmp_path, capsys):
    a, _, x = halves
    small = tmp_path / "small.npy"
    np.save(small, x[:20])
    rc, _, err = run_cli(capsys, "fid", a, small, "--no-cache")
    assert rc == 2 and "at least 65 are needed" in err and "KID" in err
    tanh = tmp_path / "tanh.npy"
    np.save(tanh, x[:100] * 2 - 1)
    rc, _, err = run_cli(capsys, "fid", a, tanh, "--no-cache")
    assert rc == 2 and "found range [-1, 1]" in err
    rc, _, err = run_cli(capsys, "fid", a, a, "--features", "inception", "--no-cache")
    assert rc == 2 and "--inception-weights" in err
    rc, _, err = run_cli(capsys, "fid", a, tmp_path / "nope.npy")
    assert rc == 2 and "no such file" in err
    big = tmp_path / "big.npy"
    np.save(big, np.zeros((70, 3, 16, 16), np.uint8))
    rc, _, err = run_cli(capsys, "fid", a, big, "--no-cache")
    assert rc == 2 and "needs 1 x 8 x 8 images" in err
    assert all(err.count("\n") == 1 for err in [err])  # one line


def test_fid_kid_matches_the_metric_and_stands_alone_below_fids_minimum(halves, tmp_path, capsys):
    """`fid --kid`: KID on the digits features scaled by A's RMS entry, as a run's KID is;
    with too few images for FID, KID alone and the reason FID is missing (issue 22)."""
    from gankit.metrics.kid import kid, rms_scale

    a, b, x = halves
    rc, out, err = run_cli(capsys, "fid", a, b, "--kid", "--json", "--no-cache")
    assert rc == 0, err
    res = json.loads(out)
    fa, _ = _features(a)
    fb, _ = _features(b)
    scale = rms_scale(fa)
    assert res["kid_scale"] == pytest.approx(scale) and scale > 3
    assert (res["kid"], res["kid_std"]) == pytest.approx(
        kid(fa, fb, subset_size=897, generator=0, scale=scale)
    )
    assert abs(res["kid"]) < 0.05 and res["fid"] == pytest.approx(fid(fa, fb), rel=1e-6)
    small = tmp_path / "small.npy"
    np.save(small, x[:20])
    rc, out, err = run_cli(capsys, "fid", a, small, "--kid", "--no-cache")
    assert rc == 0, err
    assert out.startswith("KID ") and "FID" not in out and "900 vs 20 samples" in out
    assert err.startswith("note: no FID: FID needs more samples") and err.count("\n") == 1


def test_features_command(halves, tmp_path, capsys):
    a, _, _ = halves
    out_f, out_l = tmp_path / "f.npy", tmp_path / "sub" / "l.npy"
    rc, out, err = run_cli(
        capsys, "features", a, "--features", "digits", "--out", out_f, "--logits", out_l, "--json"
    )
    assert rc == 0, err
    summary = json.loads(out)
    assert summary["n"] == 900 and summary["feature_dim"] == 64
    f, lg = np.load(out_f), np.load(out_l)
    ref_f, ref_l = _features(a)
    np.testing.assert_array_equal(f, ref_f)
    np.testing.assert_array_equal(lg, ref_l)
    assert (lg.argmax(1) == np.arange(900) % 10).mean() < 1.01  # sanity: it is a (900, 10)
    rc, _, err = run_cli(capsys, "features", a, "--out", tmp_path / "f.txt")
    assert rc == 2 and "must end in .npy" in err
    rc, _, err = run_cli(capsys, "features", "digits", "--out", tmp_path / "d.npy")
    assert rc == 0 and np.load(tmp_path / "d.npy").shape == (1797, 64)


def test_a_run_directory_is_a_source(digits_run):
    """`gankit fid RUN digits`: the run samples its model (log.final_samples images), no
    `gankit sample` first; the output says why it differs from the run's own FID."""
    import json as json_mod

    from gankit import config as config_mod
    from image_cli_kit import gankit as run_gankit

    code, out, err = run_gankit("fid", digits_run, "digits", "--json")
    assert code == 0, err
    result = json_mod.loads(out)
    final = config_mod.resolve(config_file=digits_run / "config.toml").log.final_samples
    assert result["n_a"] == final and result["n_b"] == 1797 and result["fid"] >= 0
    code, out, err = run_gankit("fid", digits_run, "digits")
    assert code == 0 and out.startswith("FID ") and "held-out split" in err
