"""Accounts: the functions and the `users` click group the main CLI registers."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from backoffice import users as accounts
from backoffice.cli import users
from backoffice.passwords import verify_password
from db.models import Event, User


def user(app, name: str) -> User:
    with app.db.session() as s:
        return s.scalar(select(User).where(User.username == name))


def test_add_disable_reset(app):
    accounts.add_user(app, "Laura.Ferri", "una-password-lunga", "operator", ["mi", "BG"], "Laura Ferri")
    u = user(app, "laura.ferri")
    assert u.role == "operator" and u.provinces == ["BG", "MI"] and u.active
    assert u.password_hash.startswith("$argon2id$") and verify_password(u.password_hash, "una-password-lunga")
    epoch = u.session_epoch

    accounts.reset_password(app, "laura.ferri", "un-altra-password")
    u = user(app, "laura.ferri")
    assert verify_password(u.password_hash, "un-altra-password") and u.session_epoch == epoch + 1

    accounts.disable_user(app, "laura.ferri")
    u = user(app, "laura.ferri")
    assert not u.active and u.session_epoch == epoch + 2
    with app.db.session() as s:
        kinds = s.scalars(select(Event.kind).where(Event.request_id.is_(None)).order_by(Event.id)).all()
        details = " ".join(str(e.detail) for e in s.scalars(select(Event)))
    assert kinds == ["user_added", "password_reset", "user_disabled"]
    assert "password" not in details.replace("password_reset", "")


@pytest.mark.parametrize("args, problem", [
    (("x", "una-password-lunga", "operator", ["MI"]), "username"),
    (("ok.user", "corta", "operator", ["MI"]), "almeno"),
    (("ok.user", "una-password-lunga", "boss", ["MI"]), "role"),
    (("ok.user", "una-password-lunga", "operator", ["XX"]), "province"),
    (("ok.user", "una-password-lunga", "operator", []), "province"),
])
def test_bad_accounts_are_refused(app, args, problem):
    with pytest.raises(accounts.UserError, match=problem):
        accounts.add_user(app, *args)


def test_duplicate_and_unknown_users(app):
    accounts.add_user(app, "anna", "una-password-lunga", "admin", ["MI"])
    with pytest.raises(accounts.UserError, match="already exists"):
        accounts.add_user(app, "ANNA", "una-password-lunga", "admin", ["MI"])
    with pytest.raises(accounts.UserError, match="no user"):
        accounts.disable_user(app, "nessuno")


def test_demo_operator_is_created_once(app):
    name, password = accounts.ensure_demo_operator(app)
    assert (name, password) == ("demo", "demo-sportello")
    u = user(app, "demo")
    assert sorted(u.provinces) == sorted(["BG", "BS", "CO", "CR", "LC", "LO", "MB", "MI", "MN", "PV", "SO", "VA"])
    accounts.reset_password(app, "demo", "cambiata-dal-capo")
    assert accounts.ensure_demo_operator(app) == ("demo", "demo-sportello")
    assert verify_password(user(app, "demo").password_hash, "cambiata-dal-capo")  # left alone


def test_cli_add_with_password_on_stdin(app, config_file):
    r = CliRunner().invoke(users, ["add", "mario", "--role", "supervisor", "--province", "MI", "--province", "co",
                                   "--password-stdin", "--config", str(config_file)],
                           input="segreta-lunghissima\n")
    assert r.exit_code == 0, r.output
    assert "segreta-lunghissima" not in r.output
    assert "mario added (supervisor; CO, MI)" in r.output
    u = user(app, "mario")
    assert u.provinces == ["CO", "MI"] and verify_password(u.password_hash, "segreta-lunghissima")


def test_cli_prompts_twice_without_echo(app, config_file):
    runner = CliRunner()
    r = runner.invoke(users, ["add", "lucia", "--province", "BG", "--config", str(config_file)],
                      input="prima-password\nseconda-password\nprima-password\nprima-password\n")
    assert r.exit_code == 0, r.output
    assert "prima-password" not in r.output and "seconda-password" not in r.output
    assert verify_password(user(app, "lucia").password_hash, "prima-password")

    r = runner.invoke(users, ["reset-password", "lucia", "--config", str(config_file)],
                      input="nuova-password-1\nnuova-password-1\n")
    assert r.exit_code == 0 and "nuova-password-1" not in r.output
    assert verify_password(user(app, "lucia").password_hash, "nuova-password-1")

    r = runner.invoke(users, ["disable", "lucia", "--config", str(config_file)])
    assert r.exit_code == 0 and not user(app, "lucia").active


def test_cli_errors_are_one_line(app, config_file):
    r = CliRunner().invoke(users, ["disable", "nessuno", "--config", str(config_file)])
    assert r.exit_code == 1 and "no user 'nessuno'" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(users, ["add", "bob", "--province", "MI", "--password-stdin", "--config", str(config_file)],
                           input="corta\n")
    assert r.exit_code == 1 and "almeno" in r.output and "corta" not in r.output.replace("almeno", "")


def test_cli_list_shows_accounts_never_their_hashes(app, config_file):
    runner = CliRunner()
    r = runner.invoke(users, ["list", "--config", str(config_file)])
    assert r.exit_code == 0 and "no users" in r.output
    accounts.add_user(app, "laura.ferri", "una-password-lunga", "operator", ["BG", "MI"], "Laura Ferri")
    accounts.add_user(app, "capo", "un-altra-password", "supervisor", ["MI"])
    accounts.disable_user(app, "capo")
    r = runner.invoke(users, ["list", "--config", str(config_file)])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].split() == ["capo", "supervisor", "MI", "disabled"]
    assert lines[1].split() == ["laura.ferri", "operator", "BG,MI", "active", "Laura", "Ferri"]
    assert "$argon2" not in r.output and "password" not in r.output
    r = runner.invoke(users, ["list", "--json", "--config", str(config_file)])
    import json

    assert json.loads(r.output)[1] == {"username": "laura.ferri", "full_name": "Laura Ferri", "role": "operator",
                                       "provinces": ["BG", "MI"], "active": True}
