"""What an import did, per file and in all, and progress spread over several imports (the admin's uploads)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from knowledge.importing import ImportReport

#: ``progress(fraction 0..1, description)``; a ``gr.Progress`` fits
ProgressCallback = Callable[[float, str], object]


@dataclass(frozen=True)
class ImportProblem:
    """One record (``line``) or a whole file (``line`` None) that was not imported, and why."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line is not None else f"{self.file}: {self.message}"


@dataclass(frozen=True)
class ImportResult:
    """What importing one file (or one part of a shop folder) did."""

    source: str  # the import set: uploads/<kind>/<name>, demo/catalog ...
    kind: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    errors: tuple[ImportProblem, ...] = ()
    rejected: bool = False  # nothing in the file could be imported: nothing was stored, replaced or removed

    @classmethod
    def from_report(cls, report: ImportReport, source: str, label: Callable[[str], str]) -> ImportResult:
        return cls(source, report.kind, report.imported, report.updated, report.skipped, report.deleted,
                   report.failed, tuple(ImportProblem(label(e.file), e.line, e.message) for e in report.errors))

    def summary(self) -> str:
        if self.rejected:
            return f"{self.source}: rejected, nothing imported (stored data unchanged)"
        return (f"{self.source}: {self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.removed} removed, {self.failed} failed")


@dataclass(frozen=True)
class ImportSummary:
    results: tuple[ImportResult, ...]

    @property
    def totals(self) -> dict[str, int]:
        keys = ("added", "updated", "unchanged", "removed", "failed")
        return {k: sum(getattr(r, k) for r in self.results) for k in keys}

    @property
    def errors(self) -> list[ImportProblem]:
        return [e for r in self.results for e in r.errors]

    @property
    def ok(self) -> bool:
        return not any(r.failed or r.rejected for r in self.results)

    @property
    def changed(self) -> bool:
        t = self.totals
        return bool(t["added"] or t["updated"] or t["removed"])

    def summary(self) -> str:
        t = self.totals
        rejected = sum(r.rejected for r in self.results)
        line = (f"{len(self.results)} file(s): {t['added']} added, {t['updated']} updated, {t['unchanged']} "
                f"unchanged, {t['removed']} removed, {t['failed']} failed")
        return line + (f", {rejected} rejected" if rejected else "")

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "summary": self.summary(), "totals": self.totals,
                "errors": [str(e) for e in self.errors],
                "files": [{**asdict(r), "summary": r.summary(), "errors": [str(e) for e in r.errors]}
                          for r in self.results]}



# ---- progress --------------------------------------------------------------------------------------------------
class ProgressSteps:
    """Spreads ``units`` pieces of work (files, parts of a shop) over one 0..1 progress."""

    def __init__(self, progress: ProgressCallback | None, units: int) -> None:
        self._progress, self._units = progress, max(units, 1)

    def emit(self, fraction: float, desc: str) -> None:
        if self._progress is not None:
            self._progress(min(max(fraction, 0.0), 1.0), desc)

    def unit(self, index: int, label: str) -> Callable[[int, int], None]:
        self.emit(index / self._units, label)

        def update(done: int, total: int) -> None:
            self.emit((index + (done / total if total else 1.0)) / self._units, f"{label}: {done}/{total}")

        return update

