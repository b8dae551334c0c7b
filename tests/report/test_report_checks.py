"""The diagnosis section never shows a health the diagnosis could not know."""

from __future__ import annotations

from types import SimpleNamespace

from gankit.report.run_page import diagnosis_html


def page_of(diagnosis: dict) -> str:
    return diagnosis_html(SimpleNamespace(diagnosis=diagnosis, diagnosis_error=None))


def test_unchecked_checks_are_named_and_not_green():
    html = page_of(
        {
            "failures": [],
            "summary": "diagnosis: no failure detected (checked: divergence; could not ...)",
            "checks": {
                "diverged": "ok",
                "mode_collapse": "not checked: the generator has not reached the data <yet>",
            },
        }
    )
    assert "among the checks that could be made" in html and 'class="ok"' not in html
    assert "mode collapse" in html and "&lt;yet&gt;" in html and "<yet>" not in html


def test_a_fully_checked_clean_run_is_green():
    html = page_of({"failures": [], "summary": "s", "checks": {"diverged": "ok"}})
    assert 'class="ok"' in html and "among the checks" not in html


def test_failures_keep_their_checks_table():
    html = page_of(
        {
            "failures": [{"name": "mode_collapse", "first_step": 5, "last_step": 9}],
            "checks": {"mode_collapse": "failed", "non_convergence": "not checked: too short"},
        }
    )
    assert "1 failure(s) detected" in html and "not checked: too short" in html
