"""Install to serving from a fresh clone, as a newcomer runs it: each phase timed, the total against 3 minutes.

    python bench/install.py                       # cold caches (new PIP_CACHE_DIR and XDG_CACHE_HOME; the local
                                                  # index still serves), as on a new machine
    python bench/install.py --reuse-pip-cache     # pip's own cache: the wheel llama-cpp-python built last time
    python bench/install.py --env CMAKE_ARGS=-DGGML_NATIVE=OFF   # another llama.cpp build (lever comparisons)
    python bench/install.py --patch my.diff       # the clone with a change applied (measure it before committing)

The repository is cloned (``git clone``, i.e. the committed HEAD) into a temporary folder with ``../shared``
linked beside it, as a checkout has it; then the README's start command, ``bash scripts/start.sh``, runs there with
a fresh ``.venv`` and data folder on a free port until ``/healthz`` answers. The phases are read from the lines the
scripts and the server print as they stream (``==> [phase] ...`` of scripts/install.sh and scripts/start.sh, the
demo import's INFO lines), each timed from its line to the next one's:

    virtual environment, the model runtime's build started in the background (llama-cpp-python compiling
    llama.cpp), torch and the project's other dependencies beside it, the wait for the build and the project's
    install, first start (the server process until /healthz, without the demo import), demo import

Target (issue 20): the start command serving within 180 s on 2 cores.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

# the standard library only: this runs before any virtual environment exists
ROOT = Path(__file__).resolve().parents[1]

TARGET_S = 180.0
#: how long to wait after /healthz for the start's last lines (printed once the pages are built), untimed
BANNER_WAIT_S = 60.0
LAST_LOG = Path(tempfile.gettempdir()) / "concierge-install-last.log"  # the last run's output, each line timed

PHASE_LINE = re.compile(r"^==> \[([a-z ]+)\]")
DEMO_BEGIN = re.compile(r"importing the demo shop")
DEMO_END = re.compile(r"demo shop (catalog|policies|customers|offers|shop)\b")

#: (key, label) in the order printed; "first start" is the server process without the demo import
#: scripts/install.sh starts the model runtime's build in the background ("runtime"), installs torch and the other
#: dependencies meanwhile, then waits for the build and installs it with the project ("finish"); "runtime build"
#: is the build's whole span as the script shows it (its start to the end of "finish": an upper bound)
PHASES = [("venv", "virtual environment"), ("runtime", "model runtime build started (background)"),
          ("torch", "torch (beside the build)"), ("deps", "other dependencies (beside the build)"),
          ("finish", "waiting for the build, installing it and the project"),
          ("runtime build", "  model runtime build, start to installed"),
          ("first start", "first start (to /healthz, without the demo)"), ("demo import", "demo import")]


def cpu_times() -> tuple[int, int] | None:
    """The machine's (idle, all) CPU time so far, in clock ticks (Linux /proc/stat; None elsewhere)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    return fields[3] + fields[4], sum(fields[:8])  # idle + iowait; user .. steal


class Timeline:
    """When each marker was first seen, in seconds from the start command's launch, and the CPU times then."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.seen: dict[str, float] = {}
        self.cpu: dict[str, tuple[int, int] | None] = {"launch": cpu_times()}
        self.lock = threading.Lock()

    def mark(self, key: str) -> None:
        with self.lock:
            if key not in self.seen:
                self.seen[key] = time.perf_counter() - self.started
                self.cpu[key] = cpu_times()

    def idle(self, begin: str, end: str) -> float | None:
        """The share of the machine's CPU time left idle between two markers (room for more work beside)."""
        a, b = self.cpu.get(begin), self.cpu.get(end)
        if a is None or b is None or b[1] <= a[1]:
            return None
        return (b[0] - a[0]) / (b[1] - a[1])

    def phases(self) -> dict[str, float]:
        """Seconds per phase of ``PHASES`` (missing markers: the phase is left out), plus ``other``."""
        at = self.seen
        out: dict[str, float] = {}
        order = ["venv", "runtime", "torch", "deps", "finish", "done"]
        for key, end in zip(order, order[1:], strict=False):
            if key in at and end in at:
                out[key] = at[end] - at[key]
        span = 0.0
        if "start" in at and "healthy" in at:
            start = at["healthy"] - at["start"]
            if "demo begin" in at and "demo end" in at:
                out["demo import"] = at["demo end"] - at["demo begin"]
                start -= out["demo import"]
            out["first start"] = start
        if "runtime" in at and "done" in at:
            span = at["done"] - at["runtime"]
        if "healthy" in at:
            out["other"] = at["healthy"] - sum(out.values())  # the clone's own steps between phases, pip's start
        if span:
            out["runtime build"] = span  # after "other": it overlaps the phases above
        return out


def read_output(stream: IO[bytes], timeline: Timeline, log: Path, echo: bool) -> None:
    """Stream the start command's output to ``log`` (and the terminal with ``--echo``), marking phases."""
    with log.open("w", encoding="utf-8") as out:
        for raw in stream:
            line = raw.decode("utf-8", errors="replace")
            out.write(f"{time.perf_counter() - timeline.started:8.1f} {line}")
            out.flush()
            if echo:
                sys.stdout.write(line)
            if m := PHASE_LINE.match(line):
                timeline.mark(m.group(1))
            elif DEMO_BEGIN.search(line):
                timeline.mark("demo begin")
            elif DEMO_END.search(line):
                timeline.mark("demo end")
            elif "Concierge is ready." in line:
                timeline.mark("banner")


def machine() -> str:
    """Cores and the load right now (the figures are noisy on a shared machine)."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} cores, load average {load:.1f} at start"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(port: int) -> bool:
    """``/healthz`` answers 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def clone(into: Path, patch: Path | None) -> Path:
    """A fresh clone of this repository with ``../shared`` beside it; ``patch`` applied if given."""
    target = into / ROOT.name
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(target)], check=True)
    shared = ROOT.parent / "shared"
    if shared.exists():
        (into / "shared").symlink_to(shared)
    if patch is not None:
        subprocess.run(["git", "apply", str(patch.resolve())], cwd=target, check=True)
    return target


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT to the start command's process group (the server shuts down), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGINT, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse-pip-cache", action="store_true",
                        help="use pip's own cache and XDG_CACHE_HOME (default: new, empty ones)")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment for the start command, e.g. CMAKE_ARGS=...")
    parser.add_argument("--patch", type=Path, help="a git diff applied to the clone")
    parser.add_argument("--timeout", type=float, default=1800, help="give up after this many seconds")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    parser.add_argument("--echo", action="store_true", help="show the start command's output as it streams")
    args = parser.parse_args()

    print(f"machine: {machine()}")
    tmp = Path(tempfile.mkdtemp(prefix="concierge-install-"))
    process: subprocess.Popen[bytes] | None = None
    try:
        began = time.perf_counter()
        checkout = clone(tmp, args.patch)
        cloned = time.perf_counter() - began
        print(f"clone: {cloned:.1f} s ({checkout}, ../shared linked)")

        env = {k: v for k, v in os.environ.items() if not k.startswith(("CONCIERGE_", "VIRTUAL_ENV", "CMAKE_"))}
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if "/.venv/" not in p)
        if not args.reuse_pip_cache:
            # a new machine: no wheel pip built before, and no embedding model exported to ONNX before (its export,
            # once, lives under XDG_CACHE_HOME: knowledge/onnx_embedder.py)
            env["PIP_CACHE_DIR"] = str(tmp / "pip-cache")
            env["XDG_CACHE_HOME"] = str(tmp / "xdg-cache")
        env.update(dict(item.split("=", 1) for item in args.env))
        cache = ("reused (pip's cache dir and the ONNX export's)" if args.reuse_pip_cache
                 else f"cold ({env['PIP_CACHE_DIR']}, XDG_CACHE_HOME {env['XDG_CACHE_HOME']})")
        print(f"pip cache: {cache}" + "".join(f"; {item}" for item in args.env))
        port = free_port()
        log = tmp / "start.log"
        started = time.perf_counter()
        timeline = Timeline(started)
        process = subprocess.Popen(["bash", "scripts/start.sh", "--port", str(port)], cwd=checkout, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        reader = threading.Thread(target=read_output, args=(process.stdout, timeline, log, args.echo), daemon=True)
        reader.start()
        while not healthy(port):
            if process.poll() is not None:
                reader.join(5)
                raise SystemExit(f"the start command exited with {process.returncode}; its output:\n"
                                 + log.read_text(errors="replace")[-4000:])
            if time.perf_counter() - started > args.timeout:
                raise SystemExit(f"no /healthz within {args.timeout:.0f} s; output in {log}")
            time.sleep(0.25)
        timeline.mark("healthy")
        total = timeline.seen["healthy"]
        # the banner comes once the Gradio pages are built, after /healthz (ui.pages_gate): wait for it, untimed
        waited = time.perf_counter()
        while "banner" not in timeline.seen and time.perf_counter() - waited < BANNER_WAIT_S:
            time.sleep(0.25)
        phases = timeline.phases()
    finally:
        if process is not None:
            stop(process)
        if (tmp / "start.log").exists():
            shutil.copy(tmp / "start.log", LAST_LOG)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    # CPU idle: the share of all cores' time nobody used during the phase (the build beside included)
    bounds = {"venv": ("venv", "runtime"), "torch": ("torch", "deps"), "deps": ("deps", "finish"),
              "finish": ("finish", "done"), "runtime build": ("runtime", "done"),
              "first start": ("start", "demo begin"), "demo import": ("demo begin", "demo end")}
    print(f"\n{'phase':<46}{'seconds':>9}{'CPU idle':>10}")
    for key, label in PHASES:
        idle = timeline.idle(*bounds[key]) if key in bounds else None
        shown = f"{idle:>9.0%}" if idle is not None else ""
        print(f"{label:<46}{phases[key]:>9.1f} {shown}" if key in phases else f"{label:<46}{'-':>9}")
    print(f"{'(between phases: script start, pip start-up)':<46}{phases.get('other', float('nan')):>9.1f}")
    whole = timeline.idle("launch", "healthy")
    print(f"{'total: start command to /healthz':<46}{total:>9.1f} "
          f"{f'{whole:>9.0%}' if whole is not None else ''}   target <= {TARGET_S:.0f} s   "
          f"ratio {total / TARGET_S:.2f}x   {'met' if total <= TARGET_S else 'NOT met'}")
    banner = timeline.seen.get("banner")
    print(f"banner printed: {f'yes, {banner:.1f} s from the start' if banner is not None else 'no'} (the pages "
          f"open after /healthz); the output, timed: {LAST_LOG}"
          + (f"; the clone: {checkout}" if args.keep else ""))


if __name__ == "__main__":
    main()
