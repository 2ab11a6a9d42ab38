"""`registry users …`: administrators create accounts, grant roles, issue tokens from a shell."""
from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry.accounts.services import (
    AccountError, add_grant, create_user, find_user, get_user, remove_grant, reset_password,
)
from registry.accounts.tokens import create_token
from registry.extensions import db
from registry.services.uow import unit_of_work
from registry.models.accounts import ROLES, User

users = AppGroup("users", help="Tài khoản: tạo, giao vai trò, mã truy cập API (users).")

# The role is checked by the service (a Vietnamese message), not by click.Choice.
ROLE_OPTION = click.option("--role", required=True, help=", ".join(ROLES) + ".")
UNIT_OPTION = click.option("--unit", required=True,
                           help="Mã xã (5 chữ số), mã tỉnh (2 chữ số) hoặc national.")

# Demo accounts made by `registry setup` when it also makes demo models (never with --demo 0:
# an install without demo data must not have accounts with a published password).
DEMO_PASSWORD = "thu-nghiem-2025"
DEMO_ACCOUNTS = (
    ("quantri@demo.vn", "Quản trị (trình diễn)", "admin", "national"),
    ("canbo@demo.vn", "Cán bộ Phường Hoàn Kiếm (trình diễn)", "officer", "00070"),
    ("bcd@demo.vn", "Ban Chỉ đạo Hà Nội (trình diễn)", "committee", "01"),
    ("thamdinh@demo.vn", "Thẩm định Hà Nội (trình diễn)", "reviewer", "01"),
    ("giangvien@demo.vn", "Giảng viên (trình diễn)", "trainer", "national"),
)


def fail(message: str) -> None:
    """Say why in Vietnamese (the unit of work undid the command's changes), exit 1."""
    click.echo(f"Lỗi: {message}", err=True)
    sys.exit(1)


def read_password(confirm: bool = True) -> str:
    """The password from standard input (one line), or asked twice without echo on a terminal."""
    stream = sys.stdin
    if stream.isatty():
        return click.prompt("Mật khẩu", hide_input=True, confirmation_prompt=confirm
                            and "Nhập lại mật khẩu")
    return stream.readline().rstrip("\r\n")


@users.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Họ và tên.")
@ROLE_OPTION
@UNIT_OPTION
def create_command(email: str, name: str, role: str, unit: str) -> None:
    """Create an account with one role on a unit; the password is read from standard input."""
    try:
        with unit_of_work(source="cli"):
            user = create_user(email, name, read_password())
            add_grant(user, role, unit)
    except AccountError as exc:
        fail(exc.message)
    click.echo(f"Đã tạo tài khoản {user.email} ({role} — {unit}).")


@users.command("grant")
@click.argument("email")
@ROLE_OPTION
@UNIT_OPTION
def grant_command(email: str, role: str, unit: str) -> None:
    """Give an account a role on a unit."""
    try:
        with unit_of_work(source="cli"):
            add_grant(get_user(email), role, unit)
    except AccountError as exc:
        fail(exc.message)
    click.echo(f"Đã giao vai trò {role} trên {unit} cho {email}.")


@users.command("revoke")
@click.argument("email")
@ROLE_OPTION
@UNIT_OPTION
def revoke_command(email: str, role: str, unit: str) -> None:
    """Take a role on a unit away from an account."""
    try:
        with unit_of_work(source="cli"):
            remove_grant(get_user(email), role, unit)
    except AccountError as exc:
        fail(exc.message)
    click.echo(f"Đã thu hồi vai trò {role} trên {unit} của {email}.")


@users.command("token")
@click.argument("email")
@click.option("--name", default="Dòng lệnh", show_default=True, help="Tên gợi nhớ của mã.")
def token_command(email: str, name: str) -> None:
    """Print a new API token for the account (shown only this once)."""
    try:
        with unit_of_work(source="cli"):
            _, plain = create_token(get_user(email), name)
    except AccountError as exc:
        fail(exc.message)
    click.echo("Mã truy cập mới (chỉ hiển thị một lần):", err=True)
    click.echo(plain)


@users.command("reset-password")
@click.argument("email")
def reset_password_command(email: str) -> None:
    """Set a temporary password (from standard input) to be changed at the next sign-in."""
    try:
        with unit_of_work(source="cli"):
            revoked = reset_password(get_user(email), read_password())
    except AccountError as exc:
        fail(exc.message)
    click.echo(f"Đã đặt mật khẩu tạm thời cho {email}; phải đổi ở lần đăng nhập tới. "
               f"Các phiên đăng nhập đã kết thúc; {revoked} mã truy cập API đã bị thu hồi.")


@users.command("list")
def list_command() -> None:
    """List accounts with their roles."""
    people = db.session.scalars(select(User).options(selectinload(User.grants))
                                .order_by(User.email)).all()
    if not people:
        click.echo("Chưa có tài khoản nào.")
    for user in people:
        grants = ", ".join(f"{g.role}:{g.unit}" for g in sorted(user.grants,
                                                               key=lambda g: (g.role, g.unit)))
        flags = ("" if user.active else " [đã khóa]") + (
            " [phải đổi mật khẩu]" if user.must_change_password else "")
        click.echo(f"{user.email}\t{user.name}\t{grants or '—'}{flags}")


def create_demo_accounts(demo_count: int) -> None:
    """Setup hook: the demo administrator and one demo user per role, with how to sign in."""
    if demo_count <= 0:
        click.echo("Không tạo tài khoản trình diễn (--demo 0). Tạo quản trị bằng: "
                   "registry users create EMAIL --name TÊN --role admin --unit national")
        return
    created = 0
    with unit_of_work(source="cli"):
        for email, name, role, unit in DEMO_ACCOUNTS:
            if find_user(email) is None:
                add_grant(create_user(email, name, DEMO_PASSWORD), role, unit)
                created += 1
    click.echo(f"Tài khoản trình diễn ({created} mới), mật khẩu chung: {DEMO_PASSWORD}")
    for email, _name, role, unit in DEMO_ACCOUNTS:
        click.echo(f"  {email:<20} {role} — {unit}")
    click.echo("Đăng nhập ở trang /login của máy chủ (địa chỉ in ra khi máy chủ sẵn sàng).")


def register(app: Flask) -> None:
    """Add this module's commands to app.cli."""
    from registry.cli import SETUP_HOOKS
    app.cli.add_command(users)
    if create_demo_accounts not in SETUP_HOOKS:
        SETUP_HOOKS.append(create_demo_accounts)
