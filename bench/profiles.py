"""The batch profile build (``concierge profiles build``) on generated event files of 1M and 10M events.

    python bench/profiles.py                      # 1M events
    python bench/profiles.py --sizes 1000000 10000000
    python bench/profiles.py --save-baseline      # store this run's figures in bench/profiles_baseline.json

For each size it streams a generated event file to disk (never held in memory: one line written at a time;
views 70%, searches 10%, add-to-cart 10%, purchases 7%, reviews 3%, over 180 days; one shopper per 50
events, 5,000 products in 40 neutral categories and 60 brands, popularity skewed), then runs the build twice,
each time in a child process so that its peak memory is the build's own:

- build: DuckDB loads the JSON Lines file into its typed ``events`` table and runs the standard SQL of
  ``assistant.personalization.profile_build.affinity_sql`` (top 5 categories and 5 brands per shopper), its
  rows streamed out and counted;
- build + write: the same, its rows written as inferred preferences into a fresh SQLite profile store
  holding the generated shoppers (``AffinityWriter``, 500 shoppers per transaction), what
  ``concierge profiles build`` does.

Prints events/s and the peak resident memory of each child (``resource.getrusage``: DuckDB's native memory
included; ``--tracemalloc`` adds the peak of Python's own allocations), against references measured in the
same run: DuckDB only counting the file's rows (``SELECT COUNT(*) FROM read_json(...)``, the floor of any
build over that file) and learning event by event (``EventLearner``, what ``concierge import events`` does)
on the first 5,000 events; and against the figures stored in ``bench/profiles_baseline.json`` (ratio = this
run / stored: events/s above 1 is faster, memory below 1 is smaller).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from bisect import bisect_left
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from common import machine  # noqa: E402

BASELINE = Path(__file__).with_name("profiles_baseline.json")
NOW = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
TYPES = ("product_view",) * 70 + ("search",) * 10 + ("add_to_cart",) * 10 + ("purchase",) * 7 + ("review",) * 3
WORDS = "light sturdy compact quiet soft warm bright small large classic".split()


def products(n: int = 5000, seed: int = 3) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    return [(f"P{i:05d}", f"category-{rng.randrange(40):02d}", f"brand-{rng.randrange(60):02d}") for i in range(n)]


def generate(path: Path, events: int, catalog: list[tuple[str, str, str]], seed: int = 1) -> None:
    """Write ``events`` JSON lines to ``path``, one at a time (memory stays flat whatever the size)."""
    rng = random.Random(seed)
    customers = max(events // 50, 1)
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(catalog))]  # a few products are most of the traffic
    cumulative = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    with path.open("w", encoding="utf-8") as out:
        for i in range(events):
            kind = rng.choice(TYPES)
            at = datetime.fromtimestamp(NOW - rng.random() * 180 * 86400, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            record: dict[str, object] = {"id": f"e{i}", "type": kind, "customer_id": f"C{rng.randrange(customers)}",
                                         "at": at}
            if kind == "search":
                record["query"] = f"{rng.choice(WORDS)} {catalog[rng.randrange(len(catalog))][1]}"
            else:
                record["product_id"] = catalog[min(bisect_left(cumulative, rng.random() * total),
                                                   len(catalog) - 1)][0]
                if kind == "purchase":
                    record["quantity"] = 1
                if kind == "review":
                    record["rating"] = rng.choice((1, 2, 3, 4, 4, 5, 5, 5))
                    record["text"] = f"{rng.choice(WORDS)} and {rng.choice(WORDS)}"
            out.write(json.dumps(record, separators=(",", ":")) + "\n")


def _store(customers: int) -> tuple[object, Path]:
    """A fresh SQLite profile store holding the generated shoppers C0..C<customers-1> (bulk inserted)."""
    from sqlalchemy import insert

    from assistant.store import build_engine, migrate
    from assistant.store import models as m

    folder = Path(tempfile.mkdtemp(prefix="bench-profiles-"))
    engine = build_engine(f"sqlite:///{folder / 'store.db'}")
    migrate(engine)
    now = datetime.now(UTC)
    with engine.begin() as db:
        for start in range(0, customers, 10_000):
            db.execute(insert(m.CustomerRow), [
                {"id": f"C{i}", "name": f"Shopper {i}", "tier": "standard", "points": 0, "attributes": {},
                 "created_at": now, "updated_at": now} for i in range(start, min(start + 10_000, customers))])
    return engine, folder


def per_event_rate(path: Path, engine: object, sample: int) -> float:
    """The reference: events/s of learning event by event (what ``concierge import events`` does) on the
    file's first ``sample`` events, into the same kind of store."""
    from itertools import islice

    from assistant.personalization.event_learning import EventLearner
    from assistant.personalization.preference_learning import PreferenceLearner
    from assistant.shop.shop_vocabulary import ShopVocabulary
    from assistant.store import build_stores
    from knowledge.event_records import ShopEvent, read_events

    catalog = {pid: (category, brand) for pid, category, brand in products()}
    vocabulary = ShopVocabulary.from_labels({c for c, _ in catalog.values()}, {b for _, b in catalog.values()})
    stores = build_stores(engine)  # type: ignore[arg-type]
    learner = EventLearner(PreferenceLearner(stores.customers, lambda: datetime.fromtimestamp(NOW, UTC)),
                           stores.customers.exists, lambda pid: catalog.get(pid, (None, None)), lambda: vocabulary)
    events = [e for e in islice(read_events(path), sample) if isinstance(e, ShopEvent)]
    started = time.perf_counter()
    learner.apply(events)
    return len(events) / (time.perf_counter() - started)


def child(path: Path, customers: int, write: bool, trace: bool, sample: int,
          memory_limit: str | None = None) -> dict[str, float]:
    """One build in this (child) process, so that its peak memory is its own: figures as a dict."""
    import duckdb

    from assistant.personalization.profile_build import run_profile_build
    from assistant.store.affinity_writes import AffinityWriter

    if trace:
        tracemalloc.start()
    figures: dict[str, float] = {}
    if not write:  # the floor: DuckDB only counting the rows
        started = time.perf_counter()
        count = duckdb.connect().execute(
            "SELECT COUNT(*) FROM read_json(?, format='newline_delimited')", [str(path)]).fetchone()
        figures["scan_rate"] = (count[0] if count else 0) / (time.perf_counter() - started)
    writer = None
    folders: list[Path] = []
    if write:
        engine, folder = _store(customers)
        folders.append(folder)
        writer = AffinityWriter(engine, 30.0)  # type: ignore[arg-type]
    summary = run_profile_build(path, products(), as_of_s=NOW, half_life_days=30.0, memory_limit=memory_limit,
                                write=writer.write if writer else None)
    figures.update({"events": summary.events, "load_s": summary.load_s, "build_s": summary.build_s,
                    "affinities": summary.affinities,
                    "written": float(summary.written.written) if summary.written else 0.0,
                    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                    "python_peak_mb": tracemalloc.get_traced_memory()[1] / 1e6 if trace else float("nan")})
    if write and sample:
        engine, folder = _store(customers)
        folders.append(folder)
        figures["per_event_rate"] = per_event_rate(path, engine, sample)
    for folder in folders:  # the generated stores (2M preferences at 10M events: hundreds of MB)
        shutil.rmtree(folder, ignore_errors=True)
    return figures


def _child(path: Path, size: int, write: bool, trace: bool, sample: int, memory_limit: str | None) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--child", str(path), "--customers", str(max(size // 50, 1)),
                           "--sample", str(sample), *([] if write else ["--no-write"]),
                           *(["--memory-limit", memory_limit] if memory_limit else []),
                           *(["--tracemalloc"] if trace else [])], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the build failed:\n{done.stderr[-3000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def run(size: int, folder: Path, keep: bool, trace: bool, sample: int,
        memory_limit: str | None) -> dict[str, dict[str, float]]:
    path = folder / f"events-{size}.jsonl"
    started = time.perf_counter()
    generate(path, size, products())
    generated = {"generate_s": time.perf_counter() - started, "file_mb": path.stat().st_size / 1e6}
    try:
        return {"file": generated, "build": _child(path, size, False, trace, 0, memory_limit),
                "write": _child(path, size, True, trace, sample, memory_limit)}
    finally:
        if not keep:
            path.unlink()


def report(size: int, r: dict[str, dict[str, float]], baseline: dict[str, dict[str, float]]) -> dict[str, float]:
    b, w, f = r["build"], r["write"], r["file"]
    out = {"build_events_per_s": b["events"] / (b["load_s"] + b["build_s"]),
           "build_peak_rss_mb": b["peak_rss_mb"],
           "write_events_per_s": w["events"] / (w["load_s"] + w["build_s"]),
           "write_peak_rss_mb": w["peak_rss_mb"]}
    stored = baseline.get(str(size), {})
    print(f"\n{size:,} events ({f['file_mb']:.0f} MB of JSON Lines, generated in {f['generate_s']:.0f} s): "
          f"{b['affinities']:,.0f} affinities, {w['written']:,.0f} preferences written")
    print(f"  build only: load {b['load_s']:.1f} s + query {b['build_s']:.1f} s; with the write: load "
          f"{w['load_s']:.1f} s + query and write {w['build_s']:.1f} s")
    print(f"  {'figure':<40}{'this run':>12}{'reference':>12}{'ratio':>8}{'stored':>12}{'ratio':>8}")
    rows = [("events/s, load + build", "build_events_per_s", b["scan_rate"]),
            ("events/s, load + build + write", "write_events_per_s", w.get("per_event_rate")),
            ("peak RSS MB, load + build", "build_peak_rss_mb", None),
            ("peak RSS MB, load + build + write", "write_peak_rss_mb", None)]
    for label, key, reference in rows:
        value = out[key]
        ref = f"{reference:>12,.0f}{value / reference:>8.2f}" if reference else f"{'':>20}"
        old = stored.get(key)
        was = f"{old:>12,.0f}{value / old:>8.2f}" if old else f"{'(none)':>12}"
        print(f"  {label:<40}{value:>12,.0f}{ref}{was}")
    if b["python_peak_mb"] == b["python_peak_mb"]:  # not NaN: traced
        print(f"  peak Python allocations (tracemalloc): {b['python_peak_mb']:.0f} MB build, "
              f"{w['python_peak_mb']:.0f} MB with the write")
    print("  references: DuckDB only counting the file's rows (build); learning event by event as "
          "`concierge import events` does, on the first events of the file (write); stored: " + BASELINE.name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--folder", type=Path, default=None, help="where the event files go (default: a temp dir)")
    parser.add_argument("--sample", type=int, default=5000,
                        help="events learned one by one for the reference (default 5,000)")
    parser.add_argument("--memory-limit", help="DuckDB's memory cap, e.g. 1GB (it spills beyond it)")
    parser.add_argument("--no-write", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also trace Python's allocations (their peak; slows the Python part down)")
    parser.add_argument("--keep", action="store_true", help="keep the generated event files")
    parser.add_argument("--save-baseline", action="store_true", help=f"store this run's figures in {BASELINE.name}")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--customers", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.customers, not args.no_write, args.tracemalloc, args.sample,
                               args.memory_limit)))
        return
    print(f"profile build bench: {machine()}")
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    folder = args.folder or Path(tempfile.mkdtemp(prefix="bench-profiles-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        results = {str(size): report(size, run(size, folder, args.keep, args.tracemalloc, args.sample,
                                                args.memory_limit), baseline)
                   for size in args.sizes}
    finally:
        if args.folder is None and not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    if args.save_baseline:
        BASELINE.write_text(json.dumps({**baseline, **results}, indent=2) + "\n")
        print(f"\nstored in {BASELINE}")


if __name__ == "__main__":
    main()
