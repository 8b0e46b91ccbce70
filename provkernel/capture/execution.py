"""The state of one execution while it runs, its two writes, and what listeners receive when it ends."""

from __future__ import annotations

from dataclasses import dataclass, field

from provkernel.capture.facts import CodeFacts
from provkernel.capture.objects import Snapshot
from provkernel.records import ExecutionRecord
from provkernel.store.writer import Writer


class PendingWrite:
    """The two writes of one execution. Both run on the writer thread, in order; when the cell ended
    before its start was written (most cells take milliseconds), the start writes the whole row and
    the finish does not update it again. The code's static facts may be computed while the cell
    runs: the start writes what is known then, the finish fills in the rest."""

    __slots__ = ("_facts_written", "_whole_row", "epoch_id", "record", "row", "running")

    def __init__(self, running: Running, epoch_id: int) -> None:
        self.running = running
        r = running
        self.row = (r.execution_id, epoch_id, r.count, r.cell_id, r.code_hash, r.code)
        self.record: ExecutionRecord | None = None
        self.epoch_id: int | None = None
        self._whole_row = False
        self._facts_written = False

    def _facts_json(self) -> dict | None:
        facts = self.running.facts
        return facts.to_json() if facts is not None else None

    def write_start(self, writer: Writer) -> None:
        record = self.record  # set by the main thread once the cell ends
        self._facts_written = self.running.facts is not None
        writer.start_execution(*self.row, self._facts_json, self.running.started, finished=record)
        self._whole_row = record is not None

    def write_finish(self, writer: Writer) -> None:
        if not self._facts_written:
            writer.complete_code_facts(self.running.code_hash, self._facts_json)
        writer.finish_execution(self.epoch_id, self.record, row_written=self._whole_row)


@dataclass
class Running:
    """The execution in progress (and any cells it runs itself, such as a ``%%capture`` body)."""

    info: object  # IPython's ExecutionInfo: post_run_cell hands the same object back
    execution_id: int
    code: str
    code_hash: str
    transformed: str
    facts: CodeFacts | None  # None until the code is parsed (IPython's own parse, see parsehook)
    started: float
    cell_id: str | None
    count: int | None
    pending: PendingWrite | None = None
    parsed: bool = False  # IPython's parse of this cell was seen
    cost: float = 0.0  # seconds spent in capture on the main thread so far
    snapshot: Snapshot | None = None  # fingerprints of the objects it may change, taken before it ran
    nested: list[CodeFacts] = field(default_factory=list)  # facts of cells run from inside this one


@dataclass
class Finished:
    """What listeners (crash diagnosis) receive after an execution is stored."""

    execution_id: int
    epoch_id: int
    record: ExecutionRecord
    facts: CodeFacts
    code: str
    cell_id: str | None
    count: int | None
    exception: BaseException | None = None
    extra: dict = field(default_factory=dict)
