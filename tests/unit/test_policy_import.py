"""Policy import: documents chunked with headings; re-import touches only what changed."""

from pathlib import Path

from knowledge.knowledge_store import KnowledgeStore
from knowledge.policy_import import import_policies


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_folder_import_cites_source_heading_and_position(tmp_path: Path, knowledge_store: KnowledgeStore) -> None:
    write(tmp_path / "p", "returns.md", "# Returns\n\n## Window\n\nReturn items within 30 days of delivery.\n")
    write(tmp_path / "p", "shipping.md", "# Shipping\n\n## Costs\n\nStandard shipping costs $5.99.\n")

    report = import_policies(knowledge_store, tmp_path / "p")

    assert (report.imported, report.failed) == (2, 0)
    hit = knowledge_store.search("how many days to return", "policies", 1)[0]
    assert hit.citation["source"] == "returns.md"
    assert hit.citation["heading"] == "Returns > Window" and hit.citation["position"] == 0


def test_reimport_skips_unchanged_updates_changed_and_deletes_removed(tmp_path: Path,
                                                                       knowledge_store: KnowledgeStore) -> None:
    folder = tmp_path / "p"
    write(folder, "a.md", "# A\n\nAlpha rules.\n")
    write(folder, "b.md", "# B\n\nBeta rules.\n")
    write(folder, "c.md", "# C\n\nGamma rules.\n")
    import_policies(knowledge_store, folder)
    write(folder, "b.md", "# B\n\nBeta rules changed.\n")
    (folder / "c.md").unlink()

    report = import_policies(knowledge_store, folder)

    assert (report.imported, report.updated, report.skipped, report.deleted) == (0, 1, 1, 1)
    sources = {h.metadata["source"] for h in knowledge_store.search("rules", "policies", 10)}
    assert sources == {"a.md", "b.md"}


def test_a_shorter_document_loses_its_surplus_chunks(tmp_path: Path, knowledge_store: KnowledgeStore) -> None:
    folder = tmp_path / "p"
    write(folder, "a.md", "# A\n\n" + "\n\n".join(f"## S{i}\n\nRule {i}." for i in range(5)))
    import_policies(knowledge_store, folder)
    write(folder, "a.md", "# A\n\n## S0\n\nRule 0.\n")

    import_policies(knowledge_store, folder)

    assert knowledge_store.count("policies") == 1


def test_bad_files_are_reported_and_good_ones_import(tmp_path: Path, knowledge_store: KnowledgeStore) -> None:
    folder = tmp_path / "p"
    write(folder, "good.md", "# Good\n\nFine.\n")
    write(folder, "empty.md", "")
    (folder / "latin1.txt").write_bytes("Caf\xe9 rules".encode("latin-1"))
    write(folder, "huge.md", "# Huge\n\n" + "x" * 3000)

    report = import_policies(knowledge_store, folder, max_bytes=2000)

    assert (report.imported, report.failed) == (1, 3)
    by_file = {Path(e.file).name: e.message for e in report.errors}
    assert "no text" in by_file["empty.md"]
    assert "UTF-8" in by_file["latin1.txt"]
    assert "limit" in by_file["huge.md"]


def test_empty_folder_fails_clearly(tmp_path: Path, knowledge_store: KnowledgeStore) -> None:
    (tmp_path / "empty").mkdir()

    report = import_policies(knowledge_store, tmp_path / "empty")

    assert not report.ok and "no importable files" in report.errors[0].message
