"""Safe by default (issue 14, items 1 and 7): no known token secret, no open demo sign-in, a capped token lifetime,
production-safe Docker defaults, and the signed-in principal as the actor of staff actions.

The web app is the real one (``create_app`` on the test profile's fakes), driven through its ASGI interface."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from assistant.components import Components, build_components
from assistant.config.loading import _merge, load_settings
from assistant.config.web_settings import EXAMPLE_TOKEN_SECRETS
from assistant.errors import ConfigError
from assistant.identity import SECRET_FILE, issue_token
from ui.server import create_app, prepare_security

ROOT = Path(__file__).resolve().parents[2]
UNLIMITED = {f"{k}": "10000/minute" for k in ("chat_rate_per_shopper", "chat_rate_per_ip", "login_rate_per_ip",
                                               "login_rate_per_username")}


def web_app(data: Path, overrides: dict[str, Any] | None = None) -> tuple[Components, FastAPI]:
    """The whole app on the test profile's fakes, the demo shop loaded at start, no configured token secret."""
    base: dict[str, Any] = {"app": {"data_dir": str(data), "load_demo": True},
                            "knowledge": {"collection_prefix": f"s{uuid.uuid4().hex[:8]}_"},
                            "embeddings": {"dimensions": 1024},
                            "security": {**UNLIMITED, "token_secret": "", "staff_api_key": "staff-test-key"}}
    components = build_components(load_settings(["test"], env={}, overrides=_merge(base, overrides or {})))
    return components, create_app(components)


def forged(customer_id: str, secret: str, lifetime_s: float) -> str:
    """A token made offline, as an attacker with a known secret would."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    payload = b64(json.dumps({"sub": customer_id, "exp": int(time.time() + lifetime_s)}).encode())
    signature = hmac.new(secret.encode(), f"v1.{payload}".encode(), hashlib.sha256).digest()
    return f"v1.{payload}.{b64(signature)}"


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Components, TestClient]]:
    """Demo sign-in asked for; an imported (non-demo) customer next to the demo shop's."""
    components, app = web_app(tmp_path_factory.mktemp("demo-on"), {"security": {"demo_sign_in": True}})
    record = json.loads((ROOT / "knowledge/demo/customers.jsonl").read_text().splitlines()[0])
    components.stores.customers.upsert_from_record({**record, "id": "A100", "email": "real@shop.example", "orders": []},
                                                   "northwind/customers")
    # an imported customer reusing a demo id, under another shop's import: not a demo customer either
    components.stores.customers.upsert_from_record({**record, "id": "C036", "email": "real2@shop.example",
                                                    "orders": []},
                                                   "northwind/customers")
    yield components, TestClient(app)
    components.stores.close()


@pytest.fixture(scope="module")
def default_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Components, TestClient]]:
    """The shipped defaults: no demo sign-in, no configured secret."""
    components, app = web_app(tmp_path_factory.mktemp("defaults"))
    yield components, TestClient(app)
    components.stores.close()


# the token secret -------------------------------------------------------------------------------------------
def test_the_shipped_defaults_have_no_secret_and_no_demo_sign_in() -> None:
    settings = load_settings([], env={})

    assert settings.security.token_secret.get_secret_value() == ""
    assert settings.security.demo_sign_in is False
    assert settings.security.max_token_lifetime_s == 24 * 3600


def test_first_start_makes_a_secret_in_the_data_folder_0600_and_says_where(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    first = load_settings(["test"], env={}, overrides={"app": {"data_dir": str(tmp_path)},
                                                       "security": {"token_secret": ""}})
    with caplog.at_level(logging.INFO, logger="assistant.identity"):
        prepare_security(first)
    again = load_settings(["test"], env={}, overrides={"app": {"data_dir": str(tmp_path)},
                                                       "security": {"token_secret": ""}})
    prepare_security(again)

    path = tmp_path / SECRET_FILE
    secret = first.security.token_secret.get_secret_value()
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(secret) >= 40 and path.read_text().strip() == secret
    assert str(path.resolve()) in caplog.text
    assert again.security.token_secret.get_secret_value() == secret  # later starts reuse it


def test_two_fresh_installs_get_different_secrets(tmp_path: Path) -> None:
    made = []
    for name in ("a", "b"):
        settings = load_settings(["test"], env={}, overrides={"app": {"data_dir": str(tmp_path / name)},
                                                              "security": {"token_secret": ""}})
        prepare_security(settings)
        made.append(settings.security.token_secret.get_secret_value())

    assert made[0] != made[1]


def documented_secrets() -> set[str]:
    """Every token secret value the docs, the README, the Dockerfile and the shipped settings show."""
    found = set()
    texts = [ROOT / "README.md", ROOT / "Dockerfile", *sorted((ROOT / "docs").glob("*.md")),
             *sorted((ROOT / "assistant/config").glob("settings*.yaml")), *sorted(ROOT.glob("*.env*"))]
    for path in texts:
        text = path.read_text(encoding="utf-8")
        found.update(re.findall(r"TOKEN_SECRET[=:][ \t]*['\"]?([^\s'\"}`]+)", text))
        found.update(re.findall(r"token_secret:[ \t]*['\"]?([^\s'\"$#]+)", text))
    return found - {"test-secret"}  # the unit-test profile's, which never serves


@pytest.mark.parametrize("example", sorted(EXAMPLE_TOKEN_SECRETS | {"change-me-in-production"}))
def test_a_documented_example_secret_stops_the_start_with_a_clear_message(tmp_path: Path, example: str) -> None:
    settings = load_settings(["test"], env={}, overrides={"app": {"data_dir": str(tmp_path)},
                                                          "security": {"token_secret": example}})
    with pytest.raises(ConfigError) as refused:
        prepare_security(settings)

    assert "example" in str(refused.value) and "security.token_secret" in refused.value.user_message


def test_every_secret_the_docs_show_is_an_example_the_server_refuses() -> None:
    assert documented_secrets() <= EXAMPLE_TOKEN_SECRETS


def test_a_token_signed_with_an_example_secret_is_refused(default_app: tuple[Components, TestClient]) -> None:
    _, client = default_app
    for secret in sorted(EXAMPLE_TOKEN_SECRETS):
        token = forged("C001", secret, 600)
        assert client.get("/api/v1/me/export", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_ten_year_token_is_refused_even_with_the_right_signature(default_app: tuple[Components, TestClient]
                                                                   ) -> None:
    components, client = default_app
    secret = components.settings.security.token_secret.get_secret_value()

    ten_years, a_day = forged("C001", secret, 3650 * 86400), forged("C001", secret, 23 * 3600)
    long_lived = client.get("/api/v1/me/export", headers={"Authorization": f"Bearer {ten_years}"})
    a_day_long = client.get("/api/v1/me/export", headers={"Authorization": f"Bearer {a_day}"})

    assert long_lived.status_code == 401 and "max_token_lifetime_s" in long_lived.json()["detail"]
    assert a_day_long.status_code == 200


# the demo sign-in -------------------------------------------------------------------------------------------
def test_by_default_the_demo_sign_in_is_off(default_app: tuple[Components, TestClient]) -> None:
    _, client = default_app

    assert client.get("/api/v1/demo/customers").status_code == 404
    assert client.post("/api/v1/demo/token", json={"customer_id": "C001"}).status_code == 404


def test_the_demo_sign_in_lists_and_signs_in_only_the_demo_shops_customers(
        demo_app: tuple[Components, TestClient]) -> None:
    components, client = demo_app

    listed = {c["id"] for c in client.get("/api/v1/demo/customers").json()}
    demo = client.post("/api/v1/demo/token", json={"customer_id": "C001"})
    imported = client.post("/api/v1/demo/token", json={"customer_id": "A100"})
    reused_id = client.post("/api/v1/demo/token", json={"customer_id": "C036"})

    assert "C001" in listed and "A100" not in listed and "C036" not in listed and len(listed) == 35
    assert demo.status_code == 200
    assert imported.status_code == 404 and reused_id.status_code == 404
    assert components.stores.customers.get("A100") is not None  # it exists; the demo just never acts as it


def test_the_chat_pages_demo_sign_in_refuses_imported_customers(demo_app: tuple[Components, TestClient]) -> None:
    from assistant.errors import NotFoundError
    from ui.shopper_access import ShopperAccess

    components, _ = demo_app
    access = ShopperAccess(components.settings.security, components.privacy)  # as ui.chat_page builds it

    assert access.identity_of(access.issue("C002")) is not None
    assert "A100" not in {p.id for p in access.demo_customers(100)}
    with pytest.raises(NotFoundError):
        access.issue("A100")


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "shop.example"])
def test_the_server_refuses_demo_sign_in_beyond_loopback(tmp_path: Path, host: str) -> None:
    settings = load_settings(["test"], env={}, overrides={"app": {"data_dir": str(tmp_path), "host": host},
                                                          "security": {"demo_sign_in": True}})
    with pytest.raises(ConfigError) as refused:
        prepare_security(settings)

    assert "security.demo_sign_in" in refused.value.user_message
    assert "CONCIERGE_SECURITY__DEMO_SIGN_IN=false" in refused.value.user_message


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_demo_sign_in_runs_on_loopback(tmp_path: Path, host: str) -> None:
    settings = load_settings(["test"], env={}, overrides={"app": {"data_dir": str(tmp_path), "host": host},
                                                          "security": {"demo_sign_in": True}})
    prepare_security(settings)


def test_concierge_serve_on_all_addresses_with_demo_sign_in_stops_with_the_setting_to_change(tmp_path: Path) -> None:
    from ui.cli.main import app

    result = CliRunner().invoke(app, ["--profile", "test", "serve", "--host", "0.0.0.0"],
                                env={"CONCIERGE_SECURITY__DEMO_SIGN_IN": "true",
                                     "CONCIERGE_APP__DATA_DIR": str(tmp_path)})

    assert isinstance(result.exception, ConfigError)
    assert "CONCIERGE_SECURITY__DEMO_SIGN_IN=false" in result.exception.user_message
    assert not (tmp_path / SECRET_FILE).exists()  # refused before anything was made


def test_the_dockerfile_and_the_start_script_defaults() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    start = (ROOT / "scripts/start.sh").read_text()

    assert "CONCIERGE_SECURITY__DEMO_SIGN_IN=false" in dockerfile
    assert "CONCIERGE_TOKEN_SECRET" not in re.sub(r"#.*", "", dockerfile)  # made in the /data volume on first start
    assert "CONCIERGE_DATA_DIR=/data" in dockerfile and 'VOLUME ["/data"]' in dockerfile
    assert 'CONCIERGE_SECURITY__DEMO_SIGN_IN="${CONCIERGE_SECURITY__DEMO_SIGN_IN:-true}"' in start


def test_issue_token_refuses_to_sign_with_an_example_secret() -> None:
    from assistant.errors import AuthError

    with pytest.raises(AuthError):
        issue_token("C001", "change-me-in-production")


# the actor is the signed-in principal -------------------------------------------------------------------------
def test_copy_review_records_the_principal_not_the_body(demo_app: tuple[Components, TestClient]) -> None:
    components, client = demo_app
    facts = {"lines": ["Audience: gold members."], "products": [], "offers": []}
    draft = components.stores.copy.add(kind="banner", text="Gold week", facts=facts, verdict={"ok": True},
                                       segment="gold/any")

    done = client.post(f"/api/v1/copy/{draft.id}/approve", json={"reviewer": "mallory"},
                       headers={"X-API-Key": "staff-test-key"})

    assert done.status_code == 200 and done.json()["reviewer"] == "service"
