"""``--vary-package NAME==V1,V2``: package versions as parameters of a notebook pipeline.

A varied package is a parameter named after its distribution whose values are :class:`Version` strings;
no cell assigns it (its value chooses the environment an instance runs in, see ``environments``). Its value
in the notebook's own runs is the version the provenance recorded for that epoch, else the version
installed here.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Iterable, Mapping
from typing import Any

from provkernel.bugdoc.engine.space import Version
from provkernel.bugdoc.notebook.environments import canonical
from provkernel.errors import UsageError

SPEC = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^=\s].*)$")


def parse_spec(text: str) -> tuple[str, list[Version]]:
    """``"scikit-learn==1.5.2,1.6.1"`` → (``"scikit-learn"``, versions)."""
    match = SPEC.match(text)
    versions = [v.strip() for v in match[2].split(",")] if match else []
    if not match or not all(versions):
        raise UsageError(
            f"--vary-package {text!r}: write NAME==VERSION[,VERSION…], e.g. scikit-learn==1.5.2,1.6.1"
        )
    return match[1], [Version(v) for v in versions]


def from_yaml(value: Any) -> dict[str, list[Version]]:
    """The ``packages:`` mapping of a ``%%bugdoc`` YAML space: ``{name: [versions] | "v1,v2"}``."""
    if not isinstance(value, Mapping):
        raise UsageError("packages: give a mapping such as  packages: {scikit-learn: ['1.5.2', '1.6.1']}")
    out: dict[str, list[Version]] = {}
    for name, versions in value.items():
        items = versions if isinstance(versions, list) else str(versions).split(",")
        out[str(name)] = [Version(str(v).strip()) for v in items]
        parse_spec(f"{name}=={','.join(out[str(name)])}")  # same rules as the option
    return out


def installed(name: str) -> Version | None:
    """The version of distribution ``name`` installed in this process's environment."""
    try:
        return Version(importlib.metadata.version(name))
    except importlib.metadata.PackageNotFoundError:
        return None


def recorded(libraries: Iterable[Mapping[str, Any]], name: str) -> dict[int, Version]:
    """Epoch number → the version of ``name`` the provenance recorded (``Queries.libraries`` rows)."""
    want = canonical(name)
    return {
        row["epoch"]: Version(row["version"])
        for row in libraries
        if row["distribution"] and row["version"] and canonical(row["distribution"]) == want
    }


def add_packages(
    pipeline: Any,
    packages: Mapping[str, list[Version]],
    libraries: list[Mapping[str, Any]],
    epoch_number: int,
) -> dict[str, dict[int, Version]]:
    """Make each varied package a parameter of ``pipeline``, before the notebook's own (the version the
    target ran with first); returns, per package, the version each epoch recorded (the target's epoch: the
    version it used)."""
    per_epoch = {}
    for name, versions in packages.items():
        seen = recorded(libraries, name)
        current = seen.get(epoch_number) or installed(name)
        if current is None:
            raise UsageError(f"--vary-package {name}: not installed in the kernel's environment")
        seen[epoch_number] = current
        values = list(dict.fromkeys([current, *versions]))
        pipeline.space = {
            **{p: pipeline.space[p] for p in pipeline.packages},
            name: values,
            **{k: v for k, v in pipeline.space.items() if k not in pipeline.packages},
        }
        pipeline.current[name] = current
        pipeline.packages.append(name)
        per_epoch[name] = seen
    return per_epoch


def routes(space: Mapping[str, list[Any]], packages: list[str]) -> list[dict[str, Version]]:
    """Every combination of the varied packages' versions."""
    import itertools

    return [
        dict(zip(packages, combo, strict=True)) for combo in itertools.product(*(space[p] for p in packages))
    ]
