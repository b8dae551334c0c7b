"""Evaluation, one evaluator per kind of data, looked up by the data's kind.

``EVALUATORS`` maps a kind (``"toy"``, ``"images"``) to the class that evaluates it;
`evaluator_for` builds the one a run's data needs. Evaluators read an `EvalState` and return a
dict of floats (`gankit.eval.base`).
"""

from __future__ import annotations

from gankit.config import Config
from gankit.errors import GankitError
from gankit.eval.base import EvalState, Evaluator, eval_stream, evaluate_state
from gankit.eval.images import ImageEvaluator
from gankit.eval.toy import ToyEvaluator

EVALUATORS: dict[str, type] = {"toy": ToyEvaluator, "images": ImageEvaluator}


def register_evaluator(kind: str, cls: type) -> None:
    """Add the evaluator of a kind of data; a kind can be registered once."""
    if kind in EVALUATORS:
        raise GankitError(f"an evaluator for data kind '{kind}' is already registered")
    EVALUATORS[kind] = cls


def evaluator_for(config: Config, data, device="cpu") -> Evaluator:
    """The evaluator of ``data`` (a `gankit.data.sources.ToyData`, ...), by its ``kind``."""
    if data.kind not in EVALUATORS:
        known = ", ".join(sorted(EVALUATORS))
        raise GankitError(f"no evaluator for data of kind '{data.kind}' (known: {known})")
    return EVALUATORS[data.kind](config, data, device)


__all__ = [
    "EVALUATORS",
    "EvalState",
    "Evaluator",
    "eval_stream",
    "evaluate_state",
    "evaluator_for",
]
