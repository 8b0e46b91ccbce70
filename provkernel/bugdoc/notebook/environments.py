"""Package versions as a parameter: one cached environment per version set, built beside the database.

An environment is an *overlay*: a virtual environment of the kernel's own interpreter whose site-packages
holds only the varied distributions (installed without dependencies) and a ``.pth`` file that adds, after
them, every directory of the kernel's ``sys.path`` (``site.addsitedir``, so editable installs and other
``.pth`` files there work too). Everything else is the kernel's, at the kernel's versions, without copying
or downloading it; the varied distribution shadows the kernel's copy, so both its module and
``importlib.metadata.version`` report the varied version. A requirement of the varied version that the
kernel's packages do not satisfy stops the build with a one-line message (the other packages stay pinned).
``uv`` builds the environment when it is on ``PATH``; otherwise ``venv`` and the kernel's ``pip``.
Environments are reused across runs; one is built in a temporary folder and renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from provkernel.errors import UsageError
from provkernel.store.database import BUGDOC_ENVS, beside

READY = "provkernel-env.json"
BUILD_TIMEOUT_S = 900

# Run by the environment's interpreter: which requirements of the varied distributions are not met.
CHECK = """
import importlib.metadata as md, json, sys
from packaging.requirements import Requirement
from packaging.version import Version
names = json.loads(sys.argv[1])
bad = []
for name in names:
    for text in md.requires(name) or []:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        try:
            have = md.version(req.name)
        except md.PackageNotFoundError:
            bad.append(f"{name} needs {req}, which is not installed")
            continue
        if req.specifier and not req.specifier.contains(Version(have), prereleases=True):
            bad.append(f"{name} needs {req}, the kernel has {req.name} {have}")
versions = {n: md.version(n) for n in names}
print(json.dumps({"unmet": bad, "versions": versions}))
"""


@dataclass(frozen=True)
class Built:
    """An environment ready to run instances: its interpreter, and how it came to be."""

    python: str
    reused: bool
    seconds: float


def canonical(name: str) -> str:
    """PEP 503 name: ``Scikit_Learn`` → ``scikit-learn``."""
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def kernel_paths() -> list[str]:
    """The kernel's import path without the standard library (which the overlay's interpreter has) and the
    working directory: site-packages, PYTHONPATH entries, editable installs."""
    bases = {os.path.realpath(p) for p in (sys.base_prefix, sys.base_exec_prefix)}
    out = []
    for entry in sys.path:
        if not entry or not os.path.isdir(entry):
            continue
        real = os.path.realpath(entry)
        in_base = any(real == b or real.startswith(b + os.sep) for b in bases)
        packages = "site-packages" in real.split(os.sep) or "dist-packages" in real.split(os.sep)
        if (in_base and not packages) or real == os.path.realpath(os.getcwd()):
            continue
        out.append(entry)
    return list(dict.fromkeys(out))


def environment_root(database: str | os.PathLike) -> Path:
    """Where environments are kept: ``bugdoc-envs`` beside the database."""
    return beside(database, BUGDOC_ENVS)


def key_of(versions: dict[str, str], index_args: list[str]) -> str:
    """Identity of an environment: interpreter, kernel path, version set and where packages come from."""
    doc = [sys.executable, sys.version, kernel_paths(), sorted(versions.items()), index_args]
    return hashlib.blake2b(json.dumps(doc).encode(), digest_size=8).hexdigest()


def ensure(versions: dict[str, str], root: Path, index_args: list[str]) -> Built:
    """The environment for ``versions`` ({distribution: version}), built if it is not cached yet.

    Raises:
        UsageError: it cannot be built (no network, no such version, an unmet requirement).
    """
    began = time.perf_counter()
    target = root / key_of(versions, index_args)
    python = _python(target)
    if (target / READY).exists() and python.exists():
        return Built(str(python), True, time.perf_counter() - began)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
    spec = ", ".join(f"{n}=={v}" for n, v in sorted(versions.items()))
    try:
        _create(work)
        site = _site_packages(work)
        (site / "provkernel-overlay.pth").write_text(
            "import site; " + "; ".join(f"site.addsitedir({p!r})" for p in kernel_paths()) + "\n"
        )
        _install(work, site, [f"{n}=={v}" for n, v in versions.items()], index_args, spec)
        report = _run([str(_python(work)), "-c", CHECK, json.dumps(list(versions))], spec, "check it")
        found = json.loads(report.stdout)
        if found["unmet"]:
            raise UsageError(
                f"cannot use {spec}: {found['unmet'][0]} (the kernel's other packages stay as they are)"
            )
        wrong = {n: v for n, v in found["versions"].items() if v != versions[n]}
        if wrong:
            raise UsageError(f"cannot use {spec}: the environment reports {wrong}")
        (work / READY).write_text(json.dumps({"versions": versions, "index": index_args}))
        try:
            work.rename(target)  # atomic; another run may have won the race, then its copy is used
        except OSError:
            if not (target / READY).exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Built(str(python), False, time.perf_counter() - began)


def _python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _site_packages(env: Path) -> Path:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    found = list(env.glob(f"lib/{version}/site-packages")) or list(env.glob("Lib/site-packages"))
    if not found:
        raise UsageError(f"the new environment {env} has no site-packages folder")
    return found[0]


def _create(env: Path) -> None:
    uv = shutil.which("uv")
    if uv:
        _run([uv, "venv", "--quiet", "--python", sys.executable, str(env)], "", "create an environment")
    else:
        _run(
            [sys.executable, "-m", "venv", "--without-pip", "--clear", str(env)], "", "create an environment"
        )


def _install(env: Path, site: Path, requirements: list[str], index_args: list[str], spec: str) -> None:
    uv = shutil.which("uv")
    if uv:
        cmd = [uv, "pip", "install", "--quiet", "--python", str(_python(env)), "--no-deps"]
    else:
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input"]
        cmd += ["--no-deps", "--no-warn-script-location", "--target", str(site)]
    _run([*cmd, *index_args, *requirements], spec, "install it")


def _run(cmd: list[str], spec: str, what: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    try:
        done = subprocess.run(
            cmd,
            check=False,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"cannot build an environment for {spec}: {exc}") from None
    if done.returncode != 0:
        # the most telling line: uv's "Because …" explanation, else pip's last error, else the last line
        lines = [line.strip().lstrip("╰─▶ ") for line in (done.stderr or done.stdout).splitlines()]
        lines = [line.removeprefix("cause: ") for line in lines if line]
        because = [line for line in lines if line.lower().startswith("because")]
        errors = because or [line for line in lines if "error" in line.lower()] or lines or ["no message"]
        raise UsageError(f"cannot build an environment for {spec or 'packages'} ({what}): {errors[-1]}")
    return done
