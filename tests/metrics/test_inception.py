"""The FID Inception-v3: loading the two published weight layouts (random values here: gankit
never downloads the real file), the TF1 resize against an independent reimplementation of
TensorFlow's formula, shapes, determinism and batch-size independence."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from gankit.errors import GankitError
from gankit.metrics.features import extract_features, get_extractor
from gankit.metrics.features.inception import (
    InceptionV3FID,
    load_inception,
    resize_bilinear_tf1,
)


def random_fid_state_dict(seed=0):
    """Real key names and shapes (those of pt_inception-2015-12-05-6726825d.pth), He-scaled
    random values, BatchNorm statistics near identity; no num_batches_tracked keys."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for k, v in InceptionV3FID().state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        if k.endswith("conv.weight"):
            fan_in = v[0].numel()
            state[k] = torch.randn(v.shape, generator=g) * (2.0 / fan_in) ** 0.5
        elif k.endswith("running_var"):
            state[k] = 1.0 + 0.1 * torch.rand(v.shape, generator=g)
        elif k.endswith("running_mean") or k.endswith("bn.bias"):
            state[k] = 0.05 * torch.randn(v.shape, generator=g)
        elif k.endswith("bn.weight"):
            state[k] = 1.0 + 0.05 * torch.randn(v.shape, generator=g)
        else:  # fc
            state[k] = 0.02 * torch.randn(v.shape, generator=g)
    return state


@pytest.fixture(scope="module")
def weight_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("inception")
    state = random_fid_state_dict()
    pth = d / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(state, pth)
    st = d / "weights.safetensors"
    save_file(state, str(st))
    return pth, st, state


def reference_tf1_resize(img, out_h, out_w):
    """TensorFlow 1.x resize_bilinear(align_corners=False), written from its kernel's formula:
    in = out_index * (in_size / out_size); top/left = floor(in); bottom/right = min(top + 1,
    in_size - 1); lerp rows then columns."""
    h, w = img.shape[-2:]
    out = np.zeros(img.shape[:-2] + (out_h, out_w))
    sy, sx = np.float32(h / out_h), np.float32(w / out_w)
    for i in range(out_h):
        y = np.float32(i) * sy
        top = int(np.floor(y))
        bottom = min(top + 1, h - 1)
        ly = y - top
        for j in range(out_w):
            x = np.float32(j) * sx
            left = int(np.floor(x))
            right = min(left + 1, w - 1)
            lx = x - left
            tl, tr = img[..., top, left], img[..., top, right]
            bl, br = img[..., bottom, left], img[..., bottom, right]
            t = tl + (tr - tl) * lx
            b = bl + (br - bl) * lx
            out[..., i, j] = t + (b - t) * ly
    return out


def test_tf1_resize_by_hand():
    x = torch.tensor([[[[0.0, 10.0], [20.0, 30.0]]]])
    expected = torch.tensor(
        [[0, 5, 10, 10], [10, 15, 20, 20], [20, 25, 30, 30], [20, 25, 30, 30]], dtype=torch.float32
    )
    assert torch.equal(resize_bilinear_tf1(x, (4, 4))[0, 0], expected)


@pytest.mark.parametrize("shape", [(8, 8), (13, 7), (40, 35)])
def test_tf1_resize_matches_tensorflow_formula(shape):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(2, *shape)).astype(np.float32)
    ours = resize_bilinear_tf1(torch.from_numpy(img)[None], (29, 31))[0].numpy()
    np.testing.assert_allclose(ours, reference_tf1_resize(img, 29, 31), rtol=1e-6, atol=1e-4)
    # identity at equal sizes
    same = resize_bilinear_tf1(torch.from_numpy(img)[None], shape)[0].numpy()
    np.testing.assert_array_equal(same, img)


def test_pytorch_fid_preprocessing():
    m = InceptionV3FID(resize="pytorch-fid")
    x = torch.rand(2, 3, 20, 24)
    expected = 2 * F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False) - 1
    assert torch.allclose(m.preprocess(x), expected)
    tf = InceptionV3FID()
    u = torch.randint(0, 256, (1, 3, 299, 299), dtype=torch.uint8)
    assert torch.equal(tf.preprocess(u), (u.float() - 128) / 128)


def test_inception_features_shapes_determinism_batch_independence(weight_files):
    pth, st, _ = weight_files
    ext_pth = get_extractor("inception", inception_weights=pth)
    ext_st = get_extractor("inception", inception_weights=st)
    imgs = torch.randint(0, 256, (2, 3, 16, 16), dtype=torch.uint8)
    f2, l2 = extract_features(imgs, ext_pth, batch_size=2)
    assert f2.shape == (2, 2048) and l2.shape == (2, 1008)
    assert f2.dtype == np.float32 and np.isfinite(f2).all() and f2.std() > 0
    fs, ls = extract_features(imgs, ext_st, batch_size=2)
    np.testing.assert_array_equal(f2, fs)  # same weights, same input: identical
    f1, l1 = extract_features(imgs, ext_pth, batch_size=1)
    np.testing.assert_allclose(f1, f2, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(l1, l2, rtol=1e-4, atol=1e-6)
    # the cache identity names the weights (file hash) and the preprocessing
    assert ext_pth.identity != ext_st.identity and "resize=tf1" in ext_pth.identity


def test_inception_logits_bias_option(weight_files):
    pth, _, _ = weight_files
    m = load_inception(pth, logits_bias=True)
    assert m.logits_bias
    f = torch.randn(3, 2048)
    assert torch.allclose(f @ m.fc.weight.T + m.fc.bias, m.fc(f), atol=1e-5)


def test_inception_refusals(tmp_path, weight_files):
    _, _, state = weight_files
    with pytest.raises(GankitError, match="--inception-weights FILE.*never downloads"):
        get_extractor("inception")
    with pytest.raises(GankitError, match="not found"):
        load_inception(tmp_path / "nope.pth")
    bad = dict(state)
    bad.pop("Mixed_7c.branch_pool.conv.weight")
    bad["AuxLogits.fc.weight"] = torch.zeros(3)
    torch.save(bad, tmp_path / "bad.pth")
    with pytest.raises(GankitError, match="1 missing.*1 unexpected"):
        load_inception(tmp_path / "bad.pth")
    wrong = dict(state)
    wrong["fc.weight"] = torch.zeros(1000, 2048)
    torch.save(wrong, tmp_path / "wrong.pth")
    with pytest.raises(GankitError, match=r"fc.weight has shape \(1000, 2048\)"):
        load_inception(tmp_path / "wrong.pth")

    class Evil:
        def __reduce__(self):
            return (print, ("pickle code ran",))

    torch.save({"x": Evil()}, tmp_path / "evil.pth")
    with pytest.raises(GankitError, match="cannot read"):
        load_inception(tmp_path / "evil.pth")
