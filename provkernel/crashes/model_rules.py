"""Model objects at a crash: an estimator used before it was fitted, a network whose input layer does not fit
the data.

*Unfitted*: who created the estimator, and whether the cell that fits it ran, failed, ran before the
estimator was re-created, or does not exist (then it is the API misuse of using ``predict`` before ``fit``).
*Shapes*: when a network's first layer and its input disagree, the object made last is the one that does
not fit the other: a model built after the data (*ML model confusion*), or data changed after the model
(*data confusion*).
"""

from __future__ import annotations

import itertools
import re

from provkernel.capture.fingerprint import is_fitted
from provkernel.crashes.context import CREATING_KINDS, OK, UPDATE, Binding, CrashContext, LiveObject
from provkernel.crashes.diagnosis import Diagnosis
from provkernel.crashes.history import (
    add_evidence,
    blame_producer,
    describe,
    last_binding,
    ran_before_crash,
    relabel,
    snippet,
)
from provkernel.crashes.traceback import ParsedTraceback

_USE_CALL = re.compile(
    r"(?<![\w.])(\w+)\.(?:predict|predict_proba|predict_log_proba|transform|score|decision_function|"
    r"inverse_transform|kneighbors|get_feature_names_out)\("
)
_MATMUL = re.compile(r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)")
_CHANNELS = re.compile(r"expected input\[([\d, ]+)\] to have (\d+) channels, but got (\d+) channels")
_UNFITTED = re.compile(r"not fitted|has not been fitted|must be fitted|call 'fit'", re.IGNORECASE)


def _fits(model: str, code: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(model)}\.fit(?:_transform|_predict)?\(", code) is not None


def _unfitted_objects(context: CrashContext) -> list[LiveObject]:
    if context.live is None:
        return []
    return [o for o in context.live.objects.values() if o.fingerprint and is_fitted(o.fingerprint) is False]


def unfitted_model(diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext) -> Diagnosis | None:
    """An estimator used before it was fitted: why it is unfitted now."""
    if diagnosis.crash_type != "model initialization error" and not _UNFITTED.search(parsed.evalue):
        return None
    live = _unfitted_objects(context)
    match = _USE_CALL.search(parsed.crash_code)
    model = live[0].name if live else (match.group(1) if match else None)
    if model is None:
        return None
    kind = live[0].type_name.rsplit(".", 1)[-1] if live else None
    creator = last_binding(context, model, CREATING_KINDS)
    created = f", created by {describe(creator.execution, context)}" if creator else ""
    facts = [f"`{model}` is an unfitted {kind}{created}"] if kind else []
    refitted = _recreated_after_fit(model, creator, context)
    if refitted is not None:
        return relabel(
            diagnosis,
            "nb specific - execution order",
            [*facts, refitted],
            f"Run the cell that fits `{model}` again, after the one that creates it.",
        )
    fits = [e for e in context.history if _fits(model, e.code)]
    blamed = blame_producer(diagnosis, context, fits, f"`{model}` is fitted in")
    if blamed is not None:
        return add_evidence(blamed, *facts)
    if not fits and not _fits(model, parsed.crash_code):
        scope = "no cell of this notebook" if context.source == "notebook" else "no recorded execution"
        return relabel(
            diagnosis,
            diagnosis.root_cause_detail,
            [*facts, f"{scope} fits `{model}`"],
            f"Call `{model}.fit(X, y)` before `{model}.predict(…)`.",
            basis="live" if live else "history",
        )
    return add_evidence(diagnosis, *facts) if facts else None


def _recreated_after_fit(model: str, creator, context: CrashContext) -> str | None:
    """``model`` was fitted, then re-created (states, else the order of fit and assignment)."""
    states = context.states_of(model)
    for before, after in itertools.pairwise(states):
        if is_fitted(before.fingerprint) and is_fitted(after.fingerprint) is False:
            return (
                f"`{model}` was fitted after {describe(before.execution, context)} and reset by "
                f"{describe(after.execution, context)}"
                f"{f' (`{snippet(after.execution.code)}`)' if after.execution.code else ''}"
            )
    if creator is None:
        return None
    fitted = [
        e
        for e in context.history
        if e.status == OK
        and _fits(model, e.code)
        and ran_before_crash(e, context)
        and (e.count or 0) < (creator.execution.count or 0)
    ]
    if not fitted:
        return None
    return (
        f"{describe(fitted[-1], context)} fitted `{model}`, but {describe(creator.execution, context)} re-created it "
        f"afterwards (`{snippet(creator.execution.code, creator.line)}`)"
    )


def _model_and_input(context: CrashContext) -> tuple[LiveObject, LiveObject] | None:
    if context.live is None:
        return None
    objects = list(context.live.objects.values())
    models = [o for o in objects if o.fingerprint and o.fingerprint[0] == "Module"]
    tensors = [o for o in objects if o.fingerprint and o.fingerprint[0] in {"Tensor", "ndarray"}]
    return (models[0], tensors[0]) if models and tensors else None


def layer_mismatch(diagnosis: Diagnosis, parsed: ParsedTraceback, context: CrashContext) -> Diagnosis | None:
    """A torch model's first layer and its input disagree: the one made last does not fit the other."""
    pair = _model_and_input(context)
    matmul = _MATMUL.search(parsed.evalue)
    channels = _CHANNELS.search(parsed.evalue)
    if pair is None or not (matmul or channels):
        return None
    model, data = pair
    width_key = "in_features" if matmul else "in_channels"
    expected = model.facts.get(width_key)
    layer = f"{model.facts.get('layer_type', 'layer')} `{model.facts.get('first_layer', '?')}`"
    shape = list(data.fingerprint[2])
    got = int(matmul.group(2)) if matmul else int(channels.group(3))
    if expected is None:
        return None
    what = "features" if matmul else "channels"
    facts = [
        (
            f"`{model.name}`'s first layer ({layer}) takes {expected} input {what}; `{data.name}` has shape {shape} "
            f"({got} {what})"
        )
    ]
    made_model = last_binding(context, model.name, CREATING_KINDS)
    made_data = last_binding(context, data.name, CREATING_KINDS | {UPDATE})
    if made_model and made_data and _later(made_model, made_data):
        return relabel(
            diagnosis,
            "misunderstanding of ML model",
            [
                *facts,
                (
                    f"`{model.name}` was built by {describe(made_model.execution, context)}, after `{data.name}` was "
                    f"made by {describe(made_data.execution, context)}: the model does not fit the data"
                ),
            ],
            f"Build `{model.name}` for inputs of {got} {what} (or derive the width from the data, e.g. "
            f"`{data.name}.shape[1]`).",
            basis="live",
        )
    if made_model and made_data:
        facts.append(
            f"`{data.name}` was last changed by {describe(made_data.execution, context)}, after `{model.name}` was built "
            f"by {describe(made_model.execution, context)}: the data no longer fits the model"
        )
    return relabel(
        diagnosis,
        "misunderstanding of data structure",
        facts,
        f"Give `{model.name}` inputs with {expected} {what} (check how `{data.name}` was prepared), or rebuild the model.",
        basis="live",
    )


def _later(a: Binding, b: Binding) -> bool:
    """Whether binding ``a`` happened after binding ``b``."""
    if a.execution == b.execution:
        return (a.line or 0) > (b.line or 0)
    return (a.execution.count or 0) > (b.execution.count or 0)
