"""Display one diagnosis: ``text/plain``, ``text/html`` and ``application/vnd.provkernel.diagnosis+json``."""

from __future__ import annotations

import html
import re
from typing import Any

from provkernel.crashes.diagnosis import Diagnosis
from provkernel.theme import WARN

MIME_TYPE = "application/vnd.provkernel.diagnosis+json"
# The theme's warning colour as the accent (fallback for frontends without JupyterLab's variables);
# everything else inherits the theme's colours.
_ACCENT = WARN
_CODE = re.compile(r"`([^`]+)`")
BASIS = {"history": "decided from the notebook's history", "live": "decided from the objects at the crash"}


def text(diagnosis: Diagnosis) -> str:
    """Two lines: the labels and the evidence, then what to do."""
    evidence = "; ".join(diagnosis.evidence)
    first = f"Diagnosis: {diagnosis.headline}" + (f" — {evidence}" if evidence else "")
    return f"{first}\nWhat to do: {diagnosis.suggestion}" if diagnosis.suggestion else first


def _inline(sentence: str) -> str:
    """Escape a sentence and render its `backticked` parts as code."""
    return _CODE.sub(r"<code>\1</code>", html.escape(sentence, quote=False))


def to_html(diagnosis: Diagnosis) -> str:
    """A compact block with no external CSS, readable in JupyterLab's light and dark themes."""
    library = f" · <code>{html.escape(diagnosis.library)}</code>" if diagnosis.library else ""
    basis = BASIS.get(diagnosis.basis, "from the traceback")
    evidence = "".join(f"<li>{_inline(item)}</li>" for item in diagnosis.evidence)
    advice = (
        f'<div style="margin-top:2px">→ {_inline(diagnosis.suggestion)}</div>' if diagnosis.suggestion else ""
    )
    return (
        f'<div class="provkernel-report provkernel-diagnosis" style="border-left:3px solid {_ACCENT};padding:3px 10px;'
        f'margin:4px 0;background:rgba(224,138,30,0.08);color:inherit;font-size:0.92em;line-height:1.45">'
        f"<div><b>{html.escape(diagnosis.crash_type)}</b> · {html.escape(diagnosis.root_cause)} "
        f'<span style="opacity:0.7">({html.escape(diagnosis.root_cause_detail)})</span>{library} '
        f'<span style="opacity:0.55;font-size:0.85em">{basis}</span></div>'
        f'<ul style="margin:2px 0 0 0;padding-left:1.3em;opacity:0.9">{evidence}</ul>{advice}</div>'
    )


def mimebundle(diagnosis: Diagnosis) -> dict[str, Any]:
    """The display bundle for one diagnosis."""
    return {"text/plain": text(diagnosis), "text/html": to_html(diagnosis), MIME_TYPE: diagnosis.to_json()}
