"""``concierge users``: add with roles (password from stdin, never an argument), list, passwd, roles, remove."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.store import open_stores
from ui.cli.main import app


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"CONCIERGE_PROFILES": "test", "CONCIERGE_APP__DATA_DIR": str(tmp_path / "data"),
            "CONCIERGE_KNOWLEDGE__COLLECTION_PREFIX": f"c{uuid.uuid4().hex[:8]}_"}


def invoke(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def verify(env: dict[str, str], username: str, password: str) -> bool:
    stores = open_stores(f"sqlite:///{env['CONCIERGE_APP__DATA_DIR']}/concierge.db")
    try:
        return stores.staff.verify_password(username, password) is not None
    finally:
        stores.close()


def test_add_reads_the_password_from_stdin_and_list_shows_the_roles(env: dict[str, str]) -> None:
    code, out, _ = invoke(env, "users", "add", "Ana", "--role", "agent", "--role", "reviewer", "--password-stdin",
                          stdin="correct horse\n")

    assert code == 0 and out.strip() == "added ana (agent, reviewer)"
    assert verify(env, "ana", "correct horse")
    code, out, err = invoke(env, "users", "list")
    assert code == 0 and out.startswith("ana\tagent,reviewer\t-\tcreated ") and "1 staff account(s)" in err


def test_a_display_name_is_what_shoppers_see_and_can_be_changed(env: dict[str, str]) -> None:
    code, out, _ = invoke(env, "users", "add", "ana.lima", "--role", "agent", "--display-name", " Ana ",
                          "--password-stdin", stdin="correct horse\n")
    assert code == 0 and out.strip() == "added ana.lima (agent), shown to shoppers as 'Ana'"

    code, out, _ = invoke(env, "users", "name", "ana.lima", "Ana L.")
    assert code == 0 and out.strip() == "ana.lima is shown to shoppers as 'Ana L.'"
    code, out, _ = invoke(env, "users", "list")
    assert out.startswith("ana.lima\tagent\tAna L.\tcreated ")

    code, _, err = invoke(env, "users", "name", "ana.lima", "<script>")
    assert code == 2 and "without '<' or '>'" in err
    code, out, _ = invoke(env, "users", "name", "ana.lima", "")
    assert code == 0 and out.strip() == "ana.lima is shown to shoppers as 'our team'"


def test_a_bad_role_or_a_short_password_is_refused_with_a_message(env: dict[str, str]) -> None:
    code, _, err = invoke(env, "users", "add", "ana", "--role", "boss", "--password-stdin", stdin="correct horse\n")
    assert code == 2 and "agent, reviewer, admin" in err

    code, _, err = invoke(env, "users", "add", "ana", "--role", "agent", "--password-stdin", stdin="short\n")
    assert code == 2 and "8 to 1024 characters" in err


def test_without_a_terminal_the_password_must_come_from_stdin(env: dict[str, str]) -> None:
    code, _, err = invoke(env, "users", "add", "ana", "--role", "agent", stdin="")

    assert code == 2 and "--password-stdin" in err


def test_passwd_roles_and_remove(env: dict[str, str]) -> None:
    invoke(env, "users", "add", "ana", "--role", "agent", "--password-stdin", stdin="correct horse\n")

    assert invoke(env, "users", "passwd", "ana", "--password-stdin", stdin="battery staple\n")[0] == 0
    assert verify(env, "ana", "battery staple") and not verify(env, "ana", "correct horse")
    code, out, _ = invoke(env, "users", "roles", "ana", "--role", "admin")
    assert code == 0 and "now has admin" in out
    assert invoke(env, "users", "remove", "ana")[0] == 0
    code, _, err = invoke(env, "users", "remove", "ana")
    assert code == 1 and "no staff account" in err
