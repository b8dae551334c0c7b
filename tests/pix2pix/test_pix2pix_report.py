"""The pix2pix report section reads RUN/translations.npz only: rows of (input, translation,
another translation, target), and a one-line note where the file is missing or broken."""

from __future__ import annotations

import types

import numpy as np
import pytest

from gankit.errors import GankitError
from gankit.report.pix2pix_section import TRANSLATIONS, pix2pix_sections, translation_rows


def _arrays(n=3):
    return {
        k: np.full((n, 1, 8, 8), i * 10, np.uint8)
        + np.arange(n, dtype=np.uint8)[:, None, None, None]
        for i, k in enumerate(("inputs", "translations", "translations_again", "targets"))
    }


def test_rows_put_each_example_s_four_images_side_by_side():
    rows = translation_rows(_arrays())
    assert rows.shape == (12, 1, 8, 8)
    # example 1: input 1, translations 11 and 21, target 31
    assert [int(rows[4 + j, 0, 0, 0]) for j in range(4)] == [1, 11, 21, 31]
    broken = _arrays()
    del broken["targets"]
    with pytest.raises(GankitError, match="lacks targets"):
        translation_rows(broken)
    broken = _arrays()
    broken["targets"] = broken["targets"][:2]
    with pytest.raises(GankitError, match="arrays of shapes"):
        translation_rows(broken)


def _run(path, final=None):
    config = types.SimpleNamespace(sections={"pix2pix": {"task": "edges"}})
    return types.SimpleNamespace(path=path, config=config, final=final)


def test_the_section_draws_the_file_and_names_the_metrics(tmp_path):
    np.savez(tmp_path / TRANSLATIONS, **_arrays())
    [(key, title, html)] = pix2pix_sections(_run(tmp_path, {"l1_error": 0.25, "fid_digits": 3.0}))
    assert key == "translations" and "data:image/png;base64," in html
    assert "edges task" in html and "l1_error 0.25" in html and "fid_digits 3" in html


def test_the_section_degrades_to_a_note(tmp_path):
    [(_, _, html)] = pix2pix_sections(_run(tmp_path))
    assert 'class="na"' in html and "no translations.npz" in html
    (tmp_path / TRANSLATIONS).write_bytes(b"junk")
    [(_, _, html)] = pix2pix_sections(_run(tmp_path))
    assert "could not be drawn" in html or "not a readable" in html
