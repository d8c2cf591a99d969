"""``concierge users ...``: the shop's staff accounts (add, list, remove, passwd, roles).

Passwords are read from standard input (``--password-stdin``, one line) or typed at a hidden prompt, never
taken as an argument (arguments end up in shell history and process lists). Registered on the ``concierge``
app by ``ui.cli.main``.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from ui.cli.marketing_commands import user_errors

users_app = typer.Typer(help="Staff accounts: roles agent, reviewer, admin (admin is all three).",
                        no_args_is_help=True)

_components: Callable[[], Any] = lambda: None  # noqa: E731 - set by register()

Roles = Annotated[list[str], typer.Option("--role", "-r", help="agent, reviewer or admin; repeat for several.")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input "
                                                                       "(one line) instead of a prompt.")]
Username = Annotated[str, typer.Argument(help="The staff member's username (stored in lower case).")]


def register(app: typer.Typer, components: Callable[[], Any]) -> None:
    """Add ``users`` to ``app``; ``components`` returns the command's ``Components`` when called."""
    global _components
    _components = components
    app.add_typer(users_app, name="users")


def read_password(from_stdin: bool) -> str:
    """The new password: one line of standard input, or typed twice at a hidden prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        typer.echo("error: no terminal to ask for the password: pipe it in with --password-stdin", err=True)
        raise typer.Exit(2)
    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        typer.echo("error: the passwords differ; nothing changed", err=True)
        raise typer.Exit(2)
    return password


def _staff() -> Any:
    return _components().stores.staff


@users_app.command("add")
def add_cmd(username: Username, role: Roles, password_stdin: PasswordStdin = False) -> None:
    """Create a staff account with one or more roles."""
    password = read_password(password_stdin)
    with user_errors():
        account = _staff().add_user(username, password, role)
    typer.echo(f"added {account.username} ({', '.join(sorted(account.roles))})")


@users_app.command("list")
def list_cmd() -> None:
    """Every staff account with its roles."""
    accounts = _staff().list_users()
    for account in accounts:
        state = " (disabled)" if account.disabled_at else ""
        typer.echo(f"{account.username}\t{','.join(sorted(account.roles))}\t"
                   f"created {account.created_at:%Y-%m-%d %H:%M}{state}")
    typer.echo(f"{len(accounts)} staff account(s)", err=True)


@users_app.command("remove")
def remove_cmd(username: Username) -> None:
    """Delete a staff account; its sessions end at once."""
    with user_errors():
        removed = _staff().remove_user(username)
    if not removed:
        typer.echo(f"error: there is no staff account {username!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"removed {username.strip().lower()}")


@users_app.command("passwd")
def passwd_cmd(username: Username, password_stdin: PasswordStdin = False) -> None:
    """Set a new password; the account is signed out everywhere."""
    staff = _staff()
    if staff.get_user(username) is None:
        typer.echo(f"error: there is no staff account {username!r}", err=True)
        raise typer.Exit(1)
    password = read_password(password_stdin)
    with user_errors():
        account = staff.set_password(username, password)
    typer.echo(f"changed the password of {account.username}; its sessions ended")


@users_app.command("roles")
def roles_cmd(username: Username, role: Roles) -> None:
    """Replace the roles of a staff account (effective at its next request)."""
    with user_errors():
        account = _staff().set_roles(username, role)
    typer.echo(f"{account.username} now has {', '.join(sorted(account.roles))}")
