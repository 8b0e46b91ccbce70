"""The rich outputs of an execution: MIME types and a content hash of each entry.

Observes ipykernel's display publisher and display hook through their ``register_hook`` API
(hooks see the outgoing message and return it unchanged), so nothing is re-rendered.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from provkernel.records import OutputRecord

log = logging.getLogger("provkernel")

OUTPUT_MESSAGES = frozenset({"display_data", "update_display_data", "execute_result"})


def content_hash(value: object) -> str:
    """Stable short hash of one MIME entry (base64 text for images, JSON for structured data)."""
    if isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
    elif isinstance(value, bytes):
        data = value
    else:
        data = json.dumps(value, sort_keys=True, default=str).encode()
    return hashlib.blake2b(data, digest_size=12).hexdigest()


class OutputCollector:
    """Records the outputs a cell sends; installed once per shell."""

    def __init__(self) -> None:
        self.records: list[OutputRecord] = []
        self._seq = 0
        self._muted = False
        self._targets: list[object] = []

    def install(self, shell) -> bool:
        """Hook the shell's display publisher and display hook; False if they offer no hook API."""
        for target in (getattr(shell, "display_pub", None), getattr(shell, "displayhook", None)):
            if target is not None and hasattr(target, "register_hook"):
                target.register_hook(self._observe)
                self._targets.append(target)
        return bool(self._targets)

    def uninstall(self) -> None:
        """Remove the hooks again."""
        for target in self._targets:
            unregister = getattr(target, "unregister_hook", None)
            if unregister is not None:
                unregister(self._observe)
        self._targets.clear()

    def start(self) -> None:
        """Begin a new execution."""
        self.records = []
        self._seq = 0

    @contextmanager
    def muted(self) -> Iterator[None]:
        """Outputs published by provkernel itself (diagnoses) are not the cell's outputs."""
        self._muted = True
        try:
            yield
        finally:
            self._muted = False

    def _observe(self, msg: dict) -> dict:
        try:
            if not self._muted and msg.get("header", {}).get("msg_type") in OUTPUT_MESSAGES:
                data = msg.get("content", {}).get("data") or {}
                self._seq += 1
                self.records.extend(
                    OutputRecord(self._seq, mime, content_hash(value)) for mime, value in data.items()
                )
        except Exception:  # an observer must never stop an output
            log.debug("provkernel: could not record an output", exc_info=True)
        return msg
