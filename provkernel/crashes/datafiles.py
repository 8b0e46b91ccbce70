"""The crash rules' TOML data files, read fast: parsed once per content into a JSON cache.

The rules stay in TOML (readable, commented, data-driven), but importing ``tomllib`` compiles its
regular expressions, which alone took tens of milliseconds of the first crash's diagnosis. The
parsed tables are kept as JSON under the user's cache directory, named by the file's content hash,
so a changed rule file is parsed again and a cache that cannot be written only costs the parse.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

log = logging.getLogger("provkernel")


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/provkernel`` (default ``~/.cache/provkernel``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "provkernel"


def load_table(name: str) -> dict[str, Any]:
    """The parsed TOML file ``name`` of this package (``signals.toml``, ``libraries.toml``)."""
    text = resources.files("provkernel.crashes").joinpath(name).read_text(encoding="utf-8")
    digest = hashlib.blake2b(text.encode(), digest_size=10).hexdigest()
    cached = cache_dir() / f"{Path(name).stem}-{digest}.json"
    try:
        return json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    import tomllib

    table = tomllib.loads(text)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=cached.parent, delete=False, encoding="utf-8") as out:
            json.dump(table, out)
        os.replace(out.name, cached)  # atomic: kernels crashing at once never read half a file
    except (OSError, TypeError, ValueError):
        log.debug("provkernel: could not cache %s", name, exc_info=True)
    return table
