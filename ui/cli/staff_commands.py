"""``concierge users ...``: the shop's staff accounts (add, list, remove, passwd, roles, name).

Passwords are read from standard input (``--password-stdin``, one line) or typed at a hidden prompt, never
taken as an argument (arguments end up in shell history and process lists). Added to the ``concierge``
app by ``ui.cli.main``.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from ui.cli.cli_context import cli_context, user_errors

users_app = typer.Typer(help="Staff accounts: roles agent, reviewer, admin, marketer (admin is all).",
                        no_args_is_help=True)

Roles = Annotated[list[str], typer.Option("--role", "-r", help="agent, reviewer, admin or marketer; repeat.")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input "
                                                                       "(one line) instead of a prompt.")]
Username = Annotated[str, typer.Argument(help="The staff member's username (stored in lower case).")]


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


DisplayName = Annotated[str | None, typer.Option("--display-name", help="What shoppers see beside this person's "
                                                                       "replies, e.g. a first name (default: "
                                                                       "'our team'; the username is for staff).")]


@users_app.command("add")
def add_cmd(ctx: typer.Context, username: Username, role: Roles, password_stdin: PasswordStdin = False,
            display_name: DisplayName = None) -> None:
    """Create a staff account with one or more roles."""
    password = read_password(password_stdin)
    with user_errors():
        account = cli_context(ctx).components.stores.staff.add_user(username, password, role, display_name)
    shown = f", shown to shoppers as {account.display_name!r}" if account.display_name else ""
    typer.echo(f"added {account.username} ({', '.join(sorted(account.roles))}){shown}")


@users_app.command("name")
def name_cmd(ctx: typer.Context, username: Username,
             display_name: Annotated[str, typer.Argument(help="What shoppers see beside this person's replies "
                                                               "(\"\" for none: 'our team').")]) -> None:
    """Set the name shoppers see beside a staff member's replies."""
    with user_errors():
        account = cli_context(ctx).components.stores.staff.set_display_name(username, display_name)
    typer.echo(f"{account.username} is shown to shoppers as {account.display_name or 'our team'!r}")


@users_app.command("list")
def list_cmd(ctx: typer.Context) -> None:
    """Every staff account with its roles."""
    accounts = cli_context(ctx).components.stores.staff.list_users()
    for account in accounts:
        state = " (disabled)" if account.disabled_at else ""
        typer.echo(f"{account.username}\t{','.join(sorted(account.roles))}\t{account.display_name or '-'}\t"
                   f"created {account.created_at:%Y-%m-%d %H:%M}{state}")
    typer.echo(f"{len(accounts)} staff account(s)", err=True)


@users_app.command("remove")
def remove_cmd(ctx: typer.Context, username: Username) -> None:
    """Delete a staff account; its sessions end at once."""
    with user_errors():
        removed = cli_context(ctx).components.stores.staff.remove_user(username)
    if not removed:
        typer.echo(f"error: there is no staff account {username!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"removed {username.strip().lower()}")


@users_app.command("passwd")
def passwd_cmd(ctx: typer.Context, username: Username, password_stdin: PasswordStdin = False) -> None:
    """Set a new password; the account is signed out everywhere."""
    staff = cli_context(ctx).components.stores.staff
    if staff.get_user(username) is None:
        typer.echo(f"error: there is no staff account {username!r}", err=True)
        raise typer.Exit(1)
    password = read_password(password_stdin)
    with user_errors():
        account = staff.set_password(username, password)
    typer.echo(f"changed the password of {account.username}; its sessions ended")


@users_app.command("roles")
def roles_cmd(ctx: typer.Context, username: Username, role: Roles) -> None:
    """Replace the roles of a staff account (effective at its next request)."""
    with user_errors():
        account = cli_context(ctx).components.stores.staff.set_roles(username, role)
    typer.echo(f"{account.username} now has {', '.join(sorted(account.roles))}")
