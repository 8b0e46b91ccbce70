"""W3C PROV export of a notebook's recorded provenance, through the ``prov`` package.

Optional: ``pip install "provkernel[export]"`` (and ``prov[rdf]`` for PROV-RDF). The mapping:

- activities: one per execution (``nb:exec-<epoch>-<seq>``), with start and end times, linked
  in order by ``wasInformedBy`` and associated with the kernel of their epoch;
- agents: the user (``prov:Person``) and one kernel per epoch (``prov:SoftwareAgent``, with
  its interpreter and versions), the kernel acting on behalf of the user;
- entities: each version of a variable (with its value when one was recorded), each version
  of a data file or URL (by content hash, a ``specializationOf`` the file), each code text,
  rich output, exception and package; ``used`` / ``wasGeneratedBy`` tie them to executions and
  an in-place update is a ``wasDerivedFrom`` revision of the version it changed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from provkernel.lineage.model import DEF, UPDATE, USE, Access, Event, Execution, Library

VOCABULARY = "urn:provkernel:vocab#"
FORMATS = ("prov-json", "prov-n", "prov-rdf")
SEQ_MASK = (1 << 20) - 1  # execution ids are epoch_id << 20 | seq (store.writer)


class ExportUnavailable(RuntimeError):
    """An optional package the chosen format needs is missing; the message says what to install."""


@dataclass
class NotebookRecord:
    """Everything recorded about one notebook, as plain records (what the exporters need)."""

    path: str
    epochs: list[dict[str, Any]]
    executions: list[Execution]
    events: list[Event] = field(default_factory=list)
    accesses: list[Access] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)  # execution_id, seq, mime, hash
    libraries: Mapping[int, Sequence[Library]] = field(default_factory=dict)  # by epoch number


def _local(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def _short(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=5).hexdigest()


def _time(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, tz=UTC)


class _Builder:
    """Builds one ProvDocument; ids are derived from recorded ids, so re-exports are identical."""

    def __init__(self, record: NotebookRecord) -> None:
        try:
            from prov.model import PROV, PROV_LABEL, PROV_ROLE, PROV_TYPE, PROV_VALUE, ProvDocument
        except ImportError:
            raise ExportUnavailable(
                'W3C PROV export needs the prov package: pip install "provkernel[export]" '
                "(or use --format json, which needs nothing)"
            ) from None
        self.PROV, self.TYPE, self.LABEL, self.VALUE, self.ROLE = (
            PROV,
            PROV_TYPE,
            PROV_LABEL,
            PROV_VALUE,
            PROV_ROLE,
        )
        self.record = record
        self.doc = ProvDocument()
        self.pk = self.doc.add_namespace("pk", VOCABULARY)
        self.nb = self.doc.add_namespace("nb", Path(record.path).as_uri() + "#")
        self.epoch_of = {e["number"]: e for e in record.epochs}
        self.declared: set[str] = set()

    def _id(self, local: str) -> str:
        return f"nb:{_local(local)}"

    def _entity(self, local: str, attributes: dict) -> str:
        identifier = self._id(local)
        if identifier not in self.declared:
            self.declared.add(identifier)
            self.doc.entity(identifier, attributes)
        return identifier

    def run_id(self, run: Execution) -> str:
        return self._id(f"exec-{run.epoch}-{run.id & SEQ_MASK}")

    def version(self, name: str, writer: int, attributes: dict | None = None) -> str:
        """The entity of ``name`` as execution ``writer`` left it."""
        attributes = attributes or {self.TYPE: self.pk["Variable"], self.LABEL: name}
        return self._entity(f"var-{name}-{writer >> 20}-{writer & SEQ_MASK}", attributes)

    def agents(self) -> None:
        users = {e["user"] or "user" for e in self.record.epochs}
        for user in sorted(users):
            self.doc.agent(self._id(f"user-{user}"), {self.TYPE: self.PROV["Person"], self.LABEL: user})
        for e in self.record.epochs:
            kernel = self.doc.agent(
                self._id(f"kernel-{e['number']}"),
                {
                    self.TYPE: self.PROV["SoftwareAgent"],
                    self.LABEL: f"{e['kernel']} kernel, epoch {e['number']}",
                    self.pk["python"]: f"{e['implementation']} {e['python']}",
                    self.pk["ipykernel"]: e["ipykernel"] or "",
                    self.pk["ipython"]: e["ipython"] or "",
                    self.pk["provkernel"]: e["provkernel"] or "",
                    self.pk["os"]: e["os"] or "",
                    self.pk["hostname"]: e["hostname"] or "",
                    self.pk["executable"]: e["executable"] or "",
                },
            )
            self.doc.actedOnBehalfOf(kernel, self._id(f"user-{e['user'] or 'user'}"))

    def activities(self) -> None:
        previous: dict[int, str] = {}
        for run in self.record.executions:
            activity = self.doc.activity(
                self.run_id(run),
                _time(run.started),
                _time(run.ended),
                {
                    self.TYPE: self.pk["CellExecution"],
                    self.LABEL: f"{run.tag} {run.first_line}",
                    self.pk["epoch"]: run.epoch,
                    self.pk["executionCount"]: run.count if run.count is not None else -1,
                    self.pk["cellId"]: run.cell_id or "",
                    self.pk["status"]: run.status,
                },
            )
            self.doc.wasAssociatedWith(activity, self._id(f"kernel-{run.epoch}"))
            if run.epoch in previous:
                self.doc.wasInformedBy(activity, previous[run.epoch])
            previous[run.epoch] = self.run_id(run)
            code = self._entity(
                f"code-{run.code_hash}",
                {self.TYPE: self.pk["Code"], self.VALUE: run.shown_code, self.LABEL: run.first_line},
            )
            self.doc.used(activity, code, None, None, {self.ROLE: self.pk["code"]})
            if run.ename:
                error = self._entity(
                    f"error-{run.epoch}-{run.id & SEQ_MASK}",
                    {self.TYPE: self.pk["Exception"], self.LABEL: run.ename, self.VALUE: run.evalue or ""},
                )
                self.doc.wasGeneratedBy(error, activity)

    def variables(self) -> None:
        runs = {run.id: run for run in self.record.executions}
        for event in self.record.events:
            run = runs.get(event.execution_id)
            if run is None:
                continue
            activity = self.run_id(run)
            if event.kind in (DEF, UPDATE):
                attributes = {self.TYPE: self.pk["Variable"], self.LABEL: event.name}
                if event.value is not None:
                    attributes[self.VALUE] = event.value
                version = self.version(event.name, run.id, attributes)
                self.doc.wasGeneratedBy(version, activity)
                if event.kind == UPDATE and event.source is not None:
                    older = self.version(event.name, event.source)
                    self.doc.wasDerivedFrom(
                        version, older, None, None, None, {self.TYPE: self.PROV["Revision"]}
                    )
            elif event.kind == USE and event.source is not None:
                self.doc.used(activity, self.version(event.name, event.source))

    def data(self) -> None:
        runs = {run.id: run for run in self.record.executions}
        for access in self.record.accesses:
            run = runs.get(access.execution_id)
            if run is None:
                continue
            place = _short(access.location)
            whole = self._entity(
                f"{access.kind}-{place}",
                {self.TYPE: self.pk["DataSource"], self.PROV["atLocation"]: access.location},
            )
            attributes = {self.TYPE: self.pk["DataVersion"], self.PROV["atLocation"]: access.location}
            if access.hash:
                attributes[self.pk["contentHash"]] = access.hash
            if access.size is not None:
                attributes[self.pk["size"]] = access.size
            version_id = f"{access.kind}-{place}-{_short(access.hash or str(access.execution_id))}"
            new = self._id(version_id) not in self.declared
            version = self._entity(version_id, attributes)
            if new:
                self.doc.specializationOf(version, whole)
            if access.reads:
                self.doc.used(self.run_id(run), version)
            if access.writes:
                self.doc.wasGeneratedBy(version, self.run_id(run))

    def outputs(self) -> None:
        runs = {run.id: run for run in self.record.executions}
        grouped: dict[tuple[int, int], dict[str, str]] = {}
        for row in self.record.outputs:
            grouped.setdefault((row["execution_id"], row["seq"]), {})[row["mime"]] = row["hash"]
        for (execution_id, seq), mimes in grouped.items():
            run = runs.get(execution_id)
            if run is None:
                continue
            output = self._entity(
                f"output-{run.epoch}-{execution_id & SEQ_MASK}-{seq}",
                {
                    self.TYPE: self.pk["Output"],
                    self.pk["mimeTypes"]: " ".join(sorted(mimes)),
                    self.pk["contentHash"]: " ".join(f"{m}={h}" for m, h in sorted(mimes.items())),
                },
            )
            self.doc.wasGeneratedBy(output, self.run_id(run))

    def packages(self) -> None:
        runs = {run.id: run for run in self.record.executions}
        for libraries in self.record.libraries.values():
            for lib in libraries:
                package = self._entity(
                    f"package-{lib.name}-{lib.version or 'unknown'}",
                    {
                        self.TYPE: self.pk["Package"],
                        self.LABEL: lib.name,
                        self.pk["version"]: lib.version or "",
                        self.pk["distribution"]: lib.distribution or "",
                    },
                )
                run = runs.get(lib.first_execution_id or -1)
                if run is not None and lib.kind != "indirect":
                    self.doc.used(self.run_id(run), package, None, None, {self.ROLE: self.pk["import"]})

    def build(self):
        self.agents()
        self.activities()
        self.variables()
        self.data()
        self.outputs()
        self.packages()
        return self.doc


def prov_document(record: NotebookRecord):
    """The :class:`prov.model.ProvDocument` of a notebook's provenance.

    Raises:
        ExportUnavailable: the ``prov`` package is not installed.
    """
    return _Builder(record).build()


def serialize(document, fmt: str) -> str:
    """``document`` as PROV-JSON, PROV-N or PROV-RDF (Turtle).

    Raises:
        ExportUnavailable: PROV-RDF without rdflib.
    """
    if fmt == "prov-json":
        return document.serialize(format="json", indent=2)
    if fmt == "prov-n":
        return document.get_provn()
    if fmt == "prov-rdf":
        try:
            import rdflib  # noqa: F401 - only to give a clear message when it is missing
        except ImportError:
            raise ExportUnavailable('PROV-RDF needs rdflib: pip install "provkernel[export]"') from None
        return document.serialize(format="rdf", rdf_format="turtle")
    raise ValueError(f"unknown PROV format {fmt!r}")


def counts(document) -> dict[str, int]:
    """How many records of each kind a document holds (activity, entity, agent, relations)."""
    from prov.model import ProvActivity, ProvAgent, ProvEntity

    found = {"activities": 0, "entities": 0, "agents": 0, "relations": 0}
    for record in document.get_records():
        if isinstance(record, ProvActivity):
            found["activities"] += 1
        elif isinstance(record, ProvAgent):
            found["agents"] += 1
        elif isinstance(record, ProvEntity):
            found["entities"] += 1
        else:
            found["relations"] += 1
    return found


def to_plain_json(record: NotebookRecord) -> dict[str, Any]:
    """The recorded provenance as provkernel's own JSON (no dependencies)."""
    by_run: dict[int, dict[str, list]] = {
        run.id: {"symbols": [], "data": [], "outputs": []} for run in record.executions
    }
    kinds = {USE: "use", DEF: "def", UPDATE: "update"}
    for event in record.events:
        if event.execution_id in by_run:
            by_run[event.execution_id]["symbols"].append(
                {
                    "name": event.name,
                    "kind": kinds.get(event.kind, "delete"),
                    "source": event.source,
                    "value": event.value,
                }
            )
    for access in record.accesses:
        if access.execution_id in by_run:
            by_run[access.execution_id]["data"].append(
                {
                    "kind": access.kind,
                    "location": access.location,
                    "mode": access.mode,
                    "hash": access.hash,
                    "size": access.size,
                }
            )
    for row in record.outputs:
        if row["execution_id"] in by_run:
            by_run[row["execution_id"]]["outputs"].append(
                {"seq": row["seq"], "mime": row["mime"], "hash": row["hash"]}
            )
    return {
        "notebook": record.path,
        "epochs": [
            {**e, "libraries": [lib.__dict__ for lib in record.libraries.get(e["number"], ())]}
            for e in record.epochs
        ],
        "executions": [
            {
                "id": run.id,
                "epoch": run.epoch,
                "count": run.count,
                "cell_id": run.cell_id,
                "code_hash": run.code_hash,
                "code": run.shown_code,
                "started": run.started,
                "ended": run.ended,
                "status": run.status,
                "ename": run.ename,
                "evalue": run.evalue,
                **by_run[run.id],
            }
            for run in record.executions
        ],
    }
