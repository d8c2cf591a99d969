"""What a newcomer sees when installing and starting: one line per install phase, a failing phase named with what
to try, start-up progress at INFO (no WARNING on a normal start), and a last word saying where the shopper chat
and the staff views are and how to make the first staff account.

The install script runs for real against a stand-in Python (a shell script that records what pip was asked),
so nothing is downloaded or compiled."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import socket
import stat
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from assistant.components import build_components
from assistant.config.loading import load_settings
from ui.cli.serving import AnnouncingServer, staff_command, start_banner
from ui.server import create_app

ROOT = Path(__file__).resolve().parents[2]
PHASE = re.compile(r"^==> \[([a-z ]+)\] (.+)$", re.MULTILINE)

# the stand-in for python3 and for .venv/bin/python: records each call (and CMAKE_ARGS), fails when asked to
FAKE_PYTHON = """#!/bin/sh
echo "$* | CMAKE_ARGS=$CMAKE_ARGS | LEVEL=$CMAKE_BUILD_PARALLEL_LEVEL" >> "$FAKE_LOG"
case "$*" in *"$FAKE_FAIL"*) [ -n "$FAKE_FAIL" ] && exit 1 ;; esac
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin" && cp "$0" "$3/bin/python"
fi
exit 0
"""


def run_install(tmp_path: Path, fail_on: str = "", *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "scripts").mkdir(exist_ok=True)
    shutil.copy(ROOT / "scripts/install.sh", tmp_path / "scripts/install.sh")
    shutil.copy(ROOT / "scripts/llama_flags.sh", tmp_path / "scripts/llama_flags.sh")
    if not (tmp_path / "pyproject.toml").exists():
        (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    fake = tmp_path / "fake-python3"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {k: v for k, v in os.environ.items() if k not in ("CMAKE_ARGS", "CMAKE_BUILD_PARALLEL_LEVEL")}
    env.update(PYTHON=str(fake), FAKE_LOG=str(tmp_path / "calls.log"), FAKE_FAIL=fail_on)
    return subprocess.run(["bash", str(tmp_path / "scripts/install.sh"), *args], env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("script", ["scripts/install.sh", "scripts/start.sh"])
def test_the_scripts_parse(script: str) -> None:
    assert subprocess.run(["bash", "-n", str(ROOT / script)], capture_output=True).returncode == 0


def test_the_start_script_announces_its_phases() -> None:
    start = (ROOT / "scripts/start.sh").read_text()

    assert [m for m in ("install", "start") if f"==> [{m}]" in start] == ["install", "start"]


def test_each_install_phase_prints_one_plain_line_in_order(tmp_path: Path) -> None:
    done = run_install(tmp_path)

    assert done.returncode == 0, done.stderr
    phases = PHASE.findall(done.stdout)
    assert [key for key, _ in phases] == ["venv", "runtime", "torch", "deps", "embeddings", "finish", "done"]
    runtime = dict(phases)["runtime"]
    assert "once" in runtime and "cache" in runtime  # the compile happens once, pip keeps the wheel
    assert done.stdout.count("\n") == len(phases)  # nothing else on stdout: pip runs quietly


def test_the_model_runtime_is_built_lean_in_its_own_phase(tmp_path: Path) -> None:
    run_install(tmp_path, "", "dev")

    calls = (tmp_path / "calls.log").read_text().splitlines()
    runtime = next(c for c in calls if "llama-cpp-python" in c)
    assert "-DLLAMA_BUILD_TOOLS=OFF" in runtime and "-DLLAVA_BUILD=OFF" in runtime
    assert f"LEVEL={os.cpu_count()}" in runtime
    assert calls.index(runtime) < calls.index(next(c for c in calls if "-e .[dev]" in c))  # before the rest


def test_a_later_install_is_skipped_until_pyproject_changes(tmp_path: Path) -> None:
    run_install(tmp_path, "", "dev")
    calls = tmp_path / "calls.log"
    first_calls = calls.read_text()

    plain = run_install(tmp_path)  # scripts/start.sh after scripts/test.sh: the dev install covers it
    skipped_calls = calls.read_text()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["y"]\n')
    changed = run_install(tmp_path)

    assert [key for key, _ in PHASE.findall(plain.stdout)] == ["done"] and "Already installed" in plain.stdout
    assert skipped_calls == first_calls  # pip was not run at all
    assert [key for key, _ in PHASE.findall(changed.stdout)] == ["venv", "runtime", "torch", "deps", "embeddings",
                                                              "finish", "done"]


def test_the_embedding_model_is_prepared_beside_the_build_and_its_failure_does_not_stop_the_install(
        tmp_path: Path) -> None:
    done = run_install(tmp_path)
    calls = (tmp_path / "calls.log").read_text().splitlines()
    prepare = next(c for c in calls if "knowledge.onnx_embedder prepare" in c)
    assert calls.index(prepare) < calls.index(next(c for c in calls if "-e ." in c))  # before the project's install
    assert "note:" not in done.stderr

    again = tmp_path / "again"
    again.mkdir()
    failed = run_install(again, "onnx_embedder prepare")
    assert failed.returncode == 0, failed.stderr
    assert "the first start tries again" in failed.stderr
    assert PHASE.findall(failed.stdout)[-1][0] == "done"


@pytest.mark.parametrize(("fail_on", "phase", "advice"), [
    ("import sys", "venv", "Python 3.11"),
    ("torch==", "torch", "package index"),
    ("llama-cpp-python", "runtime", "compiler"),  # the background build: named when the install waits for it
    ("-r ", "deps", "package index"),
    ("-e .", "finish", "package index"),
])
def test_a_failing_install_phase_is_named_with_what_to_try(tmp_path: Path, fail_on: str, phase: str,
                                                           advice: str) -> None:
    done = run_install(tmp_path, fail_on)

    assert done.returncode != 0
    assert f'install failed in phase "{phase}"' in done.stderr
    tried = done.stderr.split("Try:", 1)[1]
    assert advice in tried
    # it stopped there (the runtime builds in the background: its failure shows when the install waits for it)
    assert PHASE.findall(done.stdout)[-1][0] == ("finish" if phase == "runtime" else phase)


def test_the_start_banner_says_where_the_chat_and_the_staff_views_are_and_how_to_make_an_account() -> None:
    settings = load_settings(["test"], env={}, overrides={"app": {"host": "127.0.0.1", "port": 7861}})
    command = staff_command(["test"], None)

    lines = "\n".join(start_banner(settings, command, staff_accounts=0))

    assert "Shopper chat:  http://127.0.0.1:7861/\n" in lines
    assert "Staff views:   http://127.0.0.1:7861/staff/" in lines
    assert re.search(r"First staff account:  \S*concierge --profile test users add \w+ --role admin", lines)
    assert lines.rstrip().splitlines()[-1].startswith("Stop it")


def test_the_banner_shows_a_reachable_address_for_a_wildcard_bind() -> None:
    settings = load_settings(["test"], env={}, overrides={"app": {"host": "0.0.0.0", "port": 8000}})

    lines = start_banner(settings, "concierge users add YOUR_NAME --role admin", staff_accounts=2)

    assert "  Shopper chat:  http://127.0.0.1:8000/" in lines
    assert any(line.startswith("  Staff accounts: 2;") for line in lines)


def test_the_banner_is_printed_only_once_the_port_is_open() -> None:
    async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

    opened: list[bool] = []
    config = uvicorn.Config(hello, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = AnnouncingServer(config, on_ready=lambda: opened.append(bool(server.servers[0].sockets)))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not opened and time.monotonic() < deadline:
        time.sleep(0.02)
    server.should_exit = True
    thread.join(10)

    assert opened == [True]


def test_a_normal_first_start_logs_its_progress_at_info_and_no_warning(tmp_path: Path,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(["test"], env={}, overrides={
        "app": {"data_dir": str(tmp_path), "load_demo": True}, "security": {"token_secret": ""},
        "knowledge": {"collection_prefix": f"w{uuid.uuid4().hex[:8]}_"}, "embeddings": {"dimensions": 1024}})
    components = build_components(settings)
    try:
        with caplog.at_level(logging.INFO):
            create_app(components)  # the first start: the demo shop is imported, a token secret is made
    finally:
        components.stores.close()

    ours = [r for r in caplog.records if r.name.split(".")[0] in ("assistant", "knowledge", "ui")]
    messages = [r.getMessage() for r in ours]
    assert any(m.startswith("importing the demo shop") for m in messages)
    assert any(m.startswith("demo shop catalog:") for m in messages)
    assert any("token secret" in m for m in messages)
    assert [f"{r.levelname} {r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.WARNING] == []



def test_a_start_on_a_port_in_use_says_which_phase_failed_and_what_to_try(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ui.cli.main import app

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["--profile", "test", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                    env={"CONCIERGE_APP__DATA_DIR": str(tmp_path)})

    assert result.exit_code != 0
    assert 'start failed in phase "start" (listening on 127.0.0.1:' in result.stderr
    assert "--port" in result.stderr.split("Try:", 1)[1]
    assert "Concierge is ready." not in result.output
