"""The batch profile build: every shopper's category and brand affinity from a whole event file, in SQL.

Two parts, kept apart on purpose:

- **loading** is the engine's own business (here DuckDB reads the JSON Lines or CSV file straight into a
  typed table ``events(event_id, event_type, customer_id, at_s, product_id, category, brand, rating)``, with
  ``at_s`` the event's time in Unix seconds, and the catalogue into ``products(product_id, category,
  brand)``);
- **the build** (:func:`affinity_sql`) is plain standard SQL over those two tables: CASE, COALESCE, a LEFT
  JOIN, UNION ALL, aggregates (SUM, COUNT, MAX), the window functions FIRST_VALUE and ROW_NUMBER, and LN /
  EXP / POWER. No engine's own functions, so the same text runs on Spark SQL or Trino over the same two
  tables (README, "Scaling out"; ``concierge profiles build --print-sql``). A test runs it on PostgreSQL too.

The affinity is what per-event learning (``event_learning``) would reach: each event's weight by type
(``EVENT_CONFIDENCE``; a review only when rated 4 or 5), halved every ``half_life_days`` of age, combined by
noisy-or (``1 - EXP(SUM(LN(1 - w)))``, the product of the misses); the top ``top_n`` per shopper and kind
are kept, with the latest event behind each as its provenance.
"""

from __future__ import annotations

import csv
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import ValidationError
from assistant.personalization.event_learning import EVENT_CONFIDENCE, LIKED_RATING
from assistant.store.affinity_writes import Affinity, AffinityWriteCounts
from knowledge.event_records import EVENT_SUFFIXES, count_lines

if TYPE_CHECKING:
    import duckdb

    from assistant.components import Components

EVENT_FIELDS = ("id", "type", "customer_id", "at", "product_id", "category", "brand", "rating")


def affinity_sql(as_of_s: float, half_life_days: float, top_n: int = 5, min_confidence: float = 0.01) -> str:
    """The build as one standard SQL query over ``events`` and ``products`` (see the module's doc); the
    numbers are written into the text, so it runs as is on any engine."""
    weights = " ".join(f"WHEN '{kind}' THEN {weight!r}" for kind, weight in EVENT_CONFIDENCE.items()
                       if kind != "review")
    review = EVENT_CONFIDENCE["review"]
    return f"""
WITH signals AS (
  SELECT e.customer_id, e.event_id, e.at_s,
         COALESCE(e.category, p.category) AS category,
         COALESCE(e.brand, p.brand) AS brand,
         (CASE e.event_type {weights}
               WHEN 'review' THEN (CASE WHEN e.rating >= {LIKED_RATING} THEN {review!r} ELSE 0.0 END)
               ELSE 0.0 END)
         * POWER(0.5, (CASE WHEN e.at_s < {as_of_s!r} THEN {as_of_s!r} - e.at_s ELSE 0.0 END)
                      / (86400.0 * {half_life_days!r})) AS weight
  FROM events e
  LEFT JOIN products p ON p.product_id = e.product_id
),
pairs AS (
  SELECT customer_id, 'category' AS pref_kind, category AS pref_value, event_id, at_s, weight
  FROM signals WHERE category IS NOT NULL AND weight > 0
  UNION ALL
  SELECT customer_id, 'brand' AS pref_kind, brand AS pref_value, event_id, at_s, weight
  FROM signals WHERE brand IS NOT NULL AND weight > 0
),
latest AS (
  SELECT customer_id, pref_kind, pref_value, weight,
         FIRST_VALUE(event_id) OVER (PARTITION BY customer_id, pref_kind, pref_value
                                     ORDER BY at_s DESC, event_id DESC) AS last_event
  FROM pairs
),
affinity AS (
  SELECT customer_id, pref_kind, pref_value, MAX(last_event) AS last_event, COUNT(*) AS evidence,
         1.0 - EXP(SUM(LN(1.0 - weight))) AS confidence
  FROM latest
  GROUP BY customer_id, pref_kind, pref_value
),
ranked AS (
  SELECT customer_id, pref_kind, pref_value, last_event, evidence, confidence,
         ROW_NUMBER() OVER (PARTITION BY customer_id, pref_kind ORDER BY confidence DESC, pref_value) AS place
  FROM affinity
)
SELECT customer_id, pref_kind, pref_value, confidence, evidence, last_event
FROM ranked
WHERE place <= {int(top_n)} AND confidence >= {min_confidence!r}
ORDER BY customer_id, pref_kind, place
""".strip()


@dataclass
class ProfileBuildSummary:
    """What a build read, found and wrote."""

    lines: int  # records in the file
    events: int  # kept (the others: not JSON, a field missing, no readable time)
    affinities: int = 0
    load_s: float = 0.0
    build_s: float = 0.0  # the query, and writing its rows when there is a writer
    written: AffinityWriteCounts | None = None

    @property
    def rejected(self) -> int:
        return max(self.lines - self.events, 0)

    def summary(self) -> str:
        line = (f"profiles: {self.events} events read ({self.rejected} rejected), {self.affinities} affinities "
                f"in {self.load_s + self.build_s:.1f} s")
        w = self.written
        if w is not None:
            line += (f"; {w.written} preferences written, {w.unchanged} unchanged, {w.refused} refused (removed or "
                     f"stated), shoppers skipped: {w.unknown_customers} unknown, {w.no_consent} without consent")
        return line


def _source(path: Path) -> str:
    """The DuckDB table function reading ``path`` with every field as text (missing ones NULL)."""
    quoted = "'" + str(path).replace("'", "''") + "'"
    if path.suffix.lower() == ".csv":
        with path.open("r", encoding="utf-8-sig", newline="") as f:
            header = {h.strip() for h in next(csv.reader(f), [])}
        if not {"id", "type", "customer_id", "at"} <= header:
            raise ValidationError(f"{path}: the CSV header lacks id, type, customer_id or at",
                                  user_message="An event CSV needs the columns id, type, customer_id and at.")
        columns = ", ".join(f'"{c}"' if c in header else f'CAST(NULL AS VARCHAR) AS "{c}"'
                            for c in EVENT_FIELDS)
        return f"(SELECT {columns} FROM read_csv({quoted}, header=true, all_varchar=true, ignore_errors=true))"
    typed = ", ".join(f"\"{c}\": 'VARCHAR'" for c in EVENT_FIELDS)
    return f"read_json({quoted}, format='newline_delimited', ignore_errors=true, columns={{{typed}}})"


def load_events(con: duckdb.DuckDBPyConnection, path: Path,
                products: Iterable[tuple[str, str | None, str | None]]) -> tuple[int, int]:
    """DuckDB's loading step: ``events`` and ``products`` tables. Returns (lines read, events kept); a line
    that is not JSON, lacks a field or has no readable time is not kept."""
    if path.suffix.lower() not in EVENT_SUFFIXES or not path.is_file():
        raise ValidationError(f"{path}: not an event file", user_message=(
            f"{path}: give a .jsonl, .ndjson or .csv event file (docs/formats.md, Shop events)."))
    con.execute(f"""
        CREATE TABLE events AS
        SELECT id AS event_id, type AS event_type, customer_id,
               epoch(TRY_CAST("at" AS TIMESTAMPTZ)) AS at_s, product_id, category, brand,
               TRY_CAST(rating AS INTEGER) AS rating
        FROM {_source(path)}
        WHERE id IS NOT NULL AND customer_id IS NOT NULL AND type IS NOT NULL
          AND TRY_CAST("at" AS TIMESTAMPTZ) IS NOT NULL""")
    con.execute("CREATE TABLE products (product_id VARCHAR, category VARCHAR, brand VARCHAR)")
    with tempfile.TemporaryDirectory(prefix="concierge-products-") as folder:  # one bulk read, not row by row
        listing = Path(folder) / "products.csv"
        with listing.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(products)
        if listing.stat().st_size:
            con.execute(f"INSERT INTO products SELECT * FROM read_csv('{listing}', header=false, all_varchar=true, "
                        "columns={'product_id': 'VARCHAR', 'category': 'VARCHAR', 'brand': 'VARCHAR'})")
    kept = con.execute("SELECT COUNT(*) FROM events").fetchone()
    lines = count_lines(path) - (1 if path.suffix.lower() == ".csv" else 0)
    return lines, int(kept[0]) if kept else 0


def run_profile_build(path: Path, products: Iterable[tuple[str, str | None, str | None]], *, as_of_s: float,
                      half_life_days: float, write: Callable[[Iterator[Affinity]], AffinityWriteCounts] | None = None,
                      top_n: int = 5, min_confidence: float = 0.01,
                      memory_limit: str | None = None) -> ProfileBuildSummary:
    """Load ``path`` into an embedded DuckDB (spilling to a temporary folder when memory runs short), run
    :func:`affinity_sql`, and hand its rows (grouped by shopper, read in batches) to ``write``; without a
    writer the rows are only counted."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix="concierge-build-") as spill:
        con = duckdb.connect(config={"temp_directory": spill, "preserve_insertion_order": False,
                                     **({"memory_limit": memory_limit} if memory_limit else {})})
        try:
            started = time.perf_counter()
            lines, kept = load_events(con, path, products)
            summary = ProfileBuildSummary(lines, kept, load_s=time.perf_counter() - started)
            started = time.perf_counter()
            cursor = con.execute(affinity_sql(as_of_s, half_life_days, top_n, min_confidence))

            def rows() -> Iterator[Affinity]:
                while batch := cursor.fetchmany(10_000):
                    for customer_id, kind, value, confidence, _evidence, last_event in batch:
                        summary.affinities += 1
                        yield Affinity(str(customer_id), str(kind), str(value), float(confidence), str(last_event))

            if write is None:
                for _ in rows():
                    pass
            else:
                summary.written = write(rows())
            summary.build_s = time.perf_counter() - started
            return summary
        finally:
            con.close()


def build_profiles(components: Components, path: Path, *, top_n: int = 5, memory_limit: str | None = None,
                   progress: Callable[[int], None] | None = None) -> ProfileBuildSummary:
    """``concierge profiles build``: the build over ``path`` with the imported catalogue, written into the
    profile store as inferred preferences (provenance ``event:<latest event id>``), decayed to now."""
    from assistant.store.affinity_writes import AffinityWriter

    half_life = components.settings.profile.half_life_days
    products = [(pid, p.get("category"), p.get("brand")) for pid, p in components.catalog.get().products.items()]
    writer = AffinityWriter(components.stores.engine, half_life)
    return run_profile_build(path, products, as_of_s=time.time(), half_life_days=half_life, top_n=top_n,
                             memory_limit=memory_limit, write=lambda rows: writer.write(rows, progress))


def load_affinities(components: Components, path: Path,
                    progress: Callable[[int], None] | None = None) -> AffinityWriteCounts:
    """``concierge profiles load``: the rows of a build run elsewhere (Spark SQL, Trino: :func:`affinity_sql`'s
    columns as JSON Lines, in any order, any number of files' worth concatenated) written like a local build."""
    import duckdb

    from assistant.store.affinity_writes import AffinityWriter

    if not path.is_file():
        raise ValidationError(f"{path}: no such file", user_message=f"{path}: give the build's JSON Lines output.")
    quoted = "'" + str(path).replace("'", "''") + "'"
    con = duckdb.connect()
    try:
        cursor = con.execute(f"""
            SELECT customer_id, pref_kind, pref_value, CAST(confidence AS DOUBLE), last_event
            FROM read_json({quoted}, format='newline_delimited', columns={{customer_id: 'VARCHAR',
                 pref_kind: 'VARCHAR', pref_value: 'VARCHAR', confidence: 'DOUBLE', last_event: 'VARCHAR'}})
            WHERE customer_id IS NOT NULL AND pref_kind IN ('category', 'brand') AND pref_value IS NOT NULL
              AND confidence > 0 AND confidence <= 1
            ORDER BY customer_id""")

        def rows() -> Iterator[Affinity]:
            while batch := cursor.fetchmany(10_000):
                for customer_id, kind, value, confidence, last_event in batch:
                    yield Affinity(customer_id, kind, value, confidence, last_event or "unknown")

        writer = AffinityWriter(components.stores.engine, components.settings.profile.half_life_days)
        return writer.write(rows(), progress)
    finally:
        con.close()
