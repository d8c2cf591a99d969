"""What an import did, per file and in all, and progress spread over several imports (the admin's uploads)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from knowledge.importing import ImportNotice, ImportReport

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
    #: passages quarantined (they read as instructions to the assistant; not stored) and documents cut (caps)
    notices: tuple[ImportNotice, ...] = ()

    @classmethod
    def from_report(cls, report: ImportReport, source: str, label: Callable[[str], str]) -> ImportResult:
        return cls(source, report.kind, report.imported, report.updated, report.skipped, report.deleted,
                   report.failed, tuple(ImportProblem(label(e.file), e.line, e.message) for e in report.errors),
                   notices=tuple(report.notices))

    @property
    def quarantined(self) -> list[str]:
        """The suspect passages that were not stored, each as ``file: quarantined: passage``."""
        return [str(n) for n in self.notices if n.kind == "quarantined"]

    @property
    def cut(self) -> list[str]:
        """The documents cut short, each as ``file: cut: why``."""
        return [str(n) for n in self.notices if n.kind == "cut"]

    def summary(self) -> str:
        if self.rejected:
            return f"{self.source}: rejected, nothing imported (stored data unchanged)"
        line = (f"{self.source}: {self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.removed} removed, {self.failed} failed")
        return line + _notice_counts(len(self.quarantined), len(self.cut))


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
    def quarantined(self) -> list[str]:
        """Every suspect passage that was not stored (``file: quarantined: passage``), for the admin to read."""
        return [q for r in self.results for q in r.quarantined]

    @property
    def cut(self) -> list[str]:
        return [c for r in self.results for c in r.cut]

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
        return line + (f", {rejected} rejected" if rejected else "") + _notice_counts(len(self.quarantined),
                                                                                    len(self.cut))

    def to_dict(self) -> dict[str, Any]:
        """The summary for the admin API and view: ``quarantined`` lists the suspect passages that were not
        stored, ``cut`` the documents cut short (both also per file)."""
        return {"ok": self.ok, "summary": self.summary(), "totals": self.totals,
                "errors": [str(e) for e in self.errors], "quarantined": self.quarantined, "cut": self.cut,
                "files": [{**asdict(r), "summary": r.summary(), "errors": [str(e) for e in r.errors],
                           "notices": [str(n) for n in r.notices], "quarantined": r.quarantined, "cut": r.cut}
                          for r in self.results]}


def _notice_counts(quarantined: int, cut: int) -> str:
    parts = ([f"{quarantined} suspect passage(s) quarantined"] if quarantined else []) + \
        ([f"{cut} document(s) cut"] if cut else [])
    return f"; {', '.join(parts)}" if parts else ""



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

