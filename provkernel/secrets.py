"""Secrets by value, not by spelling: what must never be stored or shown.

A secret reaches a cell through many spellings (``os.environ["DB_PASSWORD"]``, ``from os import
environ as ENV``, a helper returning ``os.getenv(name)``, a URL built from it). So instead of
looking at how a value was obtained, provkernel looks at the value: text that contains the value
of an environment variable whose name looks secret, or of any variable a cell read from
``os.environ`` in this session, is redacted; and the password of a URL (``scheme://user:pw@host``)
is masked wherever it appears.

>>> mask_url_credentials("postgresql://ana:s3cr3t@db.example.org:5432/sales")
'postgresql://ana:***@db.example.org:5432/sales'
>>> Secrets({"API_TOKEN": "tok-1234567"}).scrub("header: Bearer tok-1234567")
'header: Bearer <redacted>'
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import ClassVar

REDACTED = "<redacted>"
# Python variables whose names say they hold a secret (narrower than for the environment: `author`,
# `private_data` are ordinary variables)
SECRET_VARIABLE = re.compile(r"key|token|secret|passw(or)?d|credential", re.IGNORECASE)
SECRET_NAME = re.compile(
    r"key|token|secret|passw|pwd|credential|dsn|auth|cookie|session_?id|private|^aws_", re.IGNORECASE
)
# Variables every process has and that never hold secrets (their values are paths and settings that
# would otherwise be redacted wherever a cell mentions them).
NOT_SECRET_NAME = re.compile(
    r"^(home|path|pwd|oldpwd|user|logname|shell|lang|language|term|tmpdir|tmp|temp|hostname|editor|pager"
    r"|lc_\w+|xdg_\w+|python\w*|jupyter\w*|jpy_\w+|ipythondir|conda\w*|virtual_env|mplbackend|display"
    r"|omp_num_threads|mkl_\w+|openblas_\w+|cuda_visible_devices|ld_library_path|shlvl|_|provkernel_db"
    r"|ssh_auth_sock|pip_\w+|uv_\w+)$",
    re.IGNORECASE,
)
MIN_NAMED_SECRET = 6  # shorter values of secret-named variables ("1", "true") would redact everything
MIN_READ_SECRET = 8  # values read from os.environ at least this long are treated as secrets
MAX_TRACKED_READS = 1000
URL_CREDENTIALS = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@'\"]*):(?P<password>[^\s/@'\"]+)@"
)


def mask_url_credentials(text: str) -> str:
    """``scheme://user:password@host`` → ``scheme://user:***@host`` everywhere in ``text``."""
    if "://" not in text or "@" not in text:
        return text
    return URL_CREDENTIALS.sub(r"\g<head>:***@", text)


def looks_secret(name: str) -> bool:
    """Whether an environment variable's name suggests it holds a secret."""
    return bool(SECRET_NAME.search(name)) and not NOT_SECRET_NAME.match(name)


class EnvironmentReads:
    """The names of environment variables read through ``os.environ`` (any alias or helper) so far.

    ``os.environ.get``, ``os.getenv``, ``environ[...]`` and copies of the mapping all go through
    ``os._Environ.__getitem__``; it is wrapped once per process, and the wrapper only adds the key
    to a bounded set. Writes bump a version so the set of secret values is recomputed only then.
    """

    _installed = False
    _lock = threading.Lock()
    names: ClassVar[set[str]] = set()
    version = 0

    @classmethod
    def install(cls) -> None:
        """Wrap ``os._Environ`` (idempotent)."""
        with cls._lock:
            if cls._installed:
                return
            environ_class = type(os.environ)
            original_get = environ_class.__getitem__
            original_set = environ_class.__setitem__
            original_del = environ_class.__delitem__
            names = cls.names

            def __getitem__(self, key):
                value = original_get(self, key)
                if self is os.environ and len(names) < MAX_TRACKED_READS and key not in names:
                    names.add(key)
                    cls.version += 1
                return value

            def __setitem__(self, key, value):
                original_set(self, key, value)
                cls.version += 1

            def __delitem__(self, key):
                original_del(self, key)
                cls.version += 1

            environ_class.__getitem__ = __getitem__
            environ_class.__setitem__ = __setitem__
            environ_class.__delitem__ = __delitem__
            cls._installed = True


class Secrets:
    """The secret values known now, and text scrubbed of them.

    Args:
        environ: the environment (``os.environ`` in a kernel).
        read: names read from it so far (:class:`EnvironmentReads` in a kernel).
    """

    def __init__(self, environ: Mapping[str, str] | None = None, read: set[str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ
        self.read = read
        self._version: object = None
        self._values: tuple[str, ...] = ()

    def values(self) -> tuple[str, ...]:
        """The secret values, longest first (so a secret that contains another is replaced whole)."""
        version = (EnvironmentReads.version, len(self.environ)) if self.environ is os.environ else None
        if version is not None and version == self._version:
            return self._values
        environ = dict(self.environ) if self.environ is not os.environ else _raw_environ()
        found = {v for k, v in environ.items() if len(v) >= MIN_NAMED_SECRET and looks_secret(k)}
        for name in list(self.read or ()):
            value = environ.get(name)
            if value and len(value) >= MIN_READ_SECRET and not NOT_SECRET_NAME.match(name):
                found.add(value)
        # a path (a key file's location, a CA bundle) names where a secret is, it is not one
        found = {v for v in found if not (v.startswith(("/", "~")) and os.path.exists(os.path.expanduser(v)))}
        self._values = tuple(sorted(found, key=len, reverse=True))
        self._version = version
        return self._values

    def contains_secret(self, text: str) -> bool:
        """Whether ``text`` contains a secret value or a URL password."""
        return any(value in text for value in self.values()) or mask_url_credentials(text) != text

    def scrub(self, text: str) -> str:
        """``text`` with secret values replaced by ``<redacted>`` and URL passwords masked."""
        return _redact_values(text, self.values())

    def scrubber(self, extra: Iterable[str] = ()) -> Callable[[str], str]:
        """A :meth:`scrub` that also redacts the ``extra`` values (``provkernel redact --value``); all
        are replaced longest first, so a given value inside a secret cannot leave the secret's rest."""
        values = tuple(sorted({*self.values(), *(v for v in extra if v)}, key=len, reverse=True))
        return lambda text: _redact_values(text, values)

    def scrub_json(self, data: object) -> object:
        """A JSON-like structure with every string scrubbed."""
        if isinstance(data, str):
            return self.scrub(data)
        if isinstance(data, list):
            return [self.scrub_json(x) for x in data]
        if isinstance(data, dict):
            return {k: self.scrub_json(v) for k, v in data.items()}
        return data


def _redact_values(text: str, values: tuple[str, ...]) -> str:
    for value in values:
        if value in text:
            text = text.replace(value, REDACTED)
    return mask_url_credentials(text)


def _raw_environ() -> dict[str, str]:
    """``os.environ`` as a dict without going through ``__getitem__`` (which would mark every name read)."""
    data = getattr(os.environ, "_data", None)
    if data is None:
        return {}
    decode = getattr(os.environ, "decodevalue", None) or (lambda v: v)
    decodekey = getattr(os.environ, "decodekey", None) or (lambda k: k)
    return {decodekey(k): decode(v) for k, v in data.items()}
