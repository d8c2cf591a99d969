"""Catalogue import: validated, incremental, idempotent; bad records are reported and the rest imports."""

import json
from pathlib import Path

from knowledge.catalog_import import from_csv_row, import_catalog
from knowledge.knowledge_store import KnowledgeStore


def product(pid: str, **over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": pid, "name": f"Trail shoe {pid}", "brand": "Stridewell", "category": "running-shoes",
        "description": "A light trail running shoe with a grippy outsole.", "price": 89.0, "currency": "USD",
        "variants": [{"id": f"{pid}-1", "options": {"size": "9"}, "stock": 3}], "tags": ["Trail", "new"],
    }
    base.update(over)
    return base


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_first_import_stores_every_product_with_filters_metadata(tmp_path: Path,
                                                                  knowledge_store: KnowledgeStore) -> None:
    f = write_jsonl(tmp_path / "products.jsonl", [product("a"), product("b", variants=[], stock=0)])

    report = import_catalog(knowledge_store, f)

    assert (report.imported, report.failed) == (2, 0)
    hits = knowledge_store.search("trail shoe", "products", 5, {"in_stock": True})
    assert [h.id for h in hits] == ["a"]
    assert hits[0].metadata["tag_trail"] is True and hits[0].record is not None


def test_reimport_unchanged_is_skipped_changed_updated_removed_deleted(tmp_path: Path,
                                                                         knowledge_store: KnowledgeStore) -> None:
    f = write_jsonl(tmp_path / "products.jsonl", [product("a"), product("b"), product("c")])
    import_catalog(knowledge_store, f)
    write_jsonl(f, [product("a"), product("b", price=79.0)])

    report = import_catalog(knowledge_store, f)

    assert (report.imported, report.updated, report.skipped, report.deleted) == (0, 1, 1, 1)
    assert knowledge_store.count("products") == 2
    assert knowledge_store.get("products", ["b"])[0].metadata["price"] == 79.0


def test_unchanged_products_are_not_embedded_again(tmp_path: Path, knowledge_store: KnowledgeStore) -> None:
    f = write_jsonl(tmp_path / "products.jsonl", [product("a"), product("b")])
    import_catalog(knowledge_store, f)
    calls: list[int] = []
    original = knowledge_store.embedder.embed_documents
    knowledge_store.embedder.embed_documents = lambda texts: calls.append(len(texts)) or original(texts)  # type: ignore[method-assign]

    import_catalog(knowledge_store, f)

    assert calls == []


def test_bad_records_are_reported_with_line_and_the_rest_imports(tmp_path: Path,
                                                                 knowledge_store: KnowledgeStore) -> None:
    bad = product("b")
    del bad["price"]
    f = tmp_path / "products.jsonl"
    f.write_text("\n".join([json.dumps(product("a")), json.dumps(bad), "{oops", json.dumps(product("a")),
                            json.dumps(product("c"))]) + "\n", encoding="utf-8")

    report = import_catalog(knowledge_store, f)

    assert (report.imported, report.failed) == (2, 3)
    messages = {e.line: e.message for e in report.errors}
    assert "missing required field 'price'" in messages[2]
    assert "invalid JSON" in messages[3]
    assert "duplicate id 'a'" in messages[4]
    assert all(e.file == str(f) for e in report.errors)


def test_a_record_that_fails_validation_keeps_its_previous_version(tmp_path: Path,
                                                                   knowledge_store: KnowledgeStore) -> None:
    f = write_jsonl(tmp_path / "products.jsonl", [product("a"), product("b")])
    import_catalog(knowledge_store, f)
    write_jsonl(f, [product("a"), product("b", price="free")])

    report = import_catalog(knowledge_store, f)

    assert report.failed == 1 and report.deleted == 0
    assert knowledge_store.get("products", ["b"])[0].metadata["price"] == 89.0


def test_unreadable_file_deletes_nothing(tmp_path: Path, knowledge_store: KnowledgeStore) -> None:
    f = write_jsonl(tmp_path / "products.jsonl", [product("a")])
    import_catalog(knowledge_store, f)
    f.write_bytes(b"\xff\xfe garbage")

    report = import_catalog(knowledge_store, f)

    assert not report.ok and report.deleted == 0 and knowledge_store.count("products") == 1


def test_csv_catalogue_with_attribute_columns_and_json_variants(tmp_path: Path,
                                                                knowledge_store: KnowledgeStore) -> None:
    f = tmp_path / "products.csv"
    f.write_text(
        "id,name,category,description,price,currency,tags,attributes.material,variants\n"
        'k1,Steel kettle,kitchen,A 1.7 l kettle.,39.5,USD,gift|steel,steel,"[{""id"": ""k1-1"", '
        '""options"": {""colour"": ""silver""}, ""stock"": 4}]"\n'
        "k2,Broken,kitchen,Price missing.,,USD,,,\n",
        encoding="utf-8",
    )

    report = import_catalog(knowledge_store, f)

    assert (report.imported, report.failed) == (1, 1) and report.errors[0].line == 3
    record = knowledge_store.get("products", ["k1"])[0].record
    assert record is not None and record["attributes"] == {"material": "steel"} and record["in_stock"] is True


def test_csv_row_conversion_reports_bad_numbers() -> None:
    try:
        from_csv_row({"id": "x", "price": "ten"})
    except ValueError as e:
        assert "price" in str(e)
    else:  # pragma: no cover
        raise AssertionError("expected ValueError")


def test_missing_path_is_one_clear_failure(tmp_path: Path, knowledge_store: KnowledgeStore) -> None:
    report = import_catalog(knowledge_store, tmp_path / "nope.jsonl")

    assert report.failed == 1 and "no such file" in report.errors[0].message
