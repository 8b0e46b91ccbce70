"""The result of classifying one crash."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from provkernel.crashes.taxonomy import crash_type_summary, root_cause_summary


@dataclass
class Diagnosis:
    """A crash tagged with the taxonomy of Wang et al. (TSE 2025), with evidence and advice.

    Attributes:
        crash_type: Summary crash type (``"key error"``, ``"variable not found"`` …).
        crash_type_detail: Fine crash type (``"keyerror"``, ``"function not found "`` …), when known.
        root_cause: Summary root cause (``"NB specific"``, ``"data confusion"`` …).
        root_cause_detail: Fine root cause (``"nb specific - execution order"`` …).
        library: The ML library in use at the crash (one of the paper's 24, keras reported as
            tensorflow, or another well-known ML library by its module name, e.g. ``gensim``), or
            None; None by convention for NB-specific, undefined-name, did-not-import and typo crashes
            and for environment crashes other than library versions incompatible.
        evidence: Sentences saying what decided the labels (message, frames, notebook history).
        suggestion: What to do next.
        ename: The exception's name as raised.
        evalue: The cleaned message.
        execution_count: The ``In[n]`` of the crashing cell, when known.
        basis: ``"traceback"`` when only the error output was used, ``"history"`` when the notebook's
            execution history (provenance or a saved notebook) decided the root cause, ``"live"`` when the
            objects at the crash did.
    """

    crash_type: str
    crash_type_detail: str | None
    root_cause: str
    root_cause_detail: str
    library: str | None = None
    evidence: list[str] = field(default_factory=list)
    suggestion: str = ""
    ename: str = ""
    evalue: str = ""
    execution_count: int | None = None
    basis: str = "traceback"

    @classmethod
    def from_labels(cls, crash_type_detail: str, root_cause_detail: str, **kwargs: Any) -> Diagnosis:
        """A diagnosis from fine labels; the summary labels are looked up in the taxonomy."""
        return cls(
            crash_type=crash_type_summary(crash_type_detail),
            crash_type_detail=crash_type_detail,
            root_cause=root_cause_summary(root_cause_detail),
            root_cause_detail=root_cause_detail,
            **kwargs,
        )

    @property
    def headline(self) -> str:
        """``crash type · root cause (fine) · library`` on one line."""
        parts = [self.crash_type, f"{self.root_cause} ({self.root_cause_detail})"]
        if self.library:
            parts.append(self.library)
        return " · ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The fields as a JSON-compatible dict (``json.dumps(d.to_json())`` gives the text)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | str) -> Diagnosis:
        """Rebuild a diagnosis from :meth:`to_json` output (a dict or its JSON text); unknown keys are ignored."""
        if isinstance(data, str):
            data = json.loads(data)
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["evidence"] = list(values.get("evidence") or [])
        return cls(**values)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from provkernel.crashes.render import mimebundle

        return mimebundle(self)
