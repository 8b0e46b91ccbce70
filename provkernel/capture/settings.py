"""Recording settings: traitlets configuration of the ``ProvKernel`` section, plus ``PROVKERNEL_DB``."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from traitlets.config import Config


@dataclass(frozen=True)
class Settings:
    """What the recorder does. Set them as ``c.ProvKernel.<name>`` in a Jupyter/IPython config file."""

    db_path: str = ""  # empty: the Jupyter data directory ($PROVKERNEL_DB overrides both)
    record: bool = True  # False: the kernel behaves like plain IPython
    hash_limit_bytes: int = 64 << 20  # files up to this size get a full sha256, larger ones size+mtime
    value_max_length: int = 200  # longest string value recorded
    diagnose_crashes: bool = True  # show a crash diagnosis under each traceback
    stale_notice: bool = False  # after a cell that made others stale, say which (one line)

    @classmethod
    def from_config(cls, config: Config | None) -> Settings:
        """Read the ``ProvKernel`` section of a traitlets config (missing keys keep their defaults)."""
        section = (config or Config()).get("ProvKernel", {})
        defaults = cls()
        values = {
            f.name: _coerce(section[f.name], type(getattr(defaults, f.name)))
            for f in fields(cls)
            if f.name in section
        }
        return cls(**values)

    def database(self) -> str | None:
        """``$PROVKERNEL_DB`` (so a test or a job can redirect any kernel), else ``db_path``, else None."""
        return os.environ.get("PROVKERNEL_DB") or self.db_path or None


def _coerce(value: object, kind: type) -> object:
    """Command-line config values arrive as strings (``--ProvKernel.record=False``)."""
    if kind is bool and isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    if kind is int and isinstance(value, str):
        return int(value)
    return kind(value) if kind in (str, int) else value
