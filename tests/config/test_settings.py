import pytest

from config.settings import ConfigError, load_settings

MAILBOX = """
[[mailboxes]]
province = "mi"
host = "imap.example.org"
username = "spazioregione.mi"
password_env = "TEST_MI_PASSWORD"
"""


def test_embedded_default_needs_nothing(monkeypatch):
    monkeypatch.delenv("SPORTELLO_CONFIG", raising=False)
    s = load_settings()
    assert s.source == "<embedded default>"
    assert s.database_url == "sqlite:///var/sportello.db"
    assert s.mailboxes == [] and s.smtp is None
    described = s.describe()
    assert {m["province"] for m in described["mailboxes"]} == {
        "BG", "BS", "CO", "CR", "LC", "LO", "MB", "MI", "MN", "PV", "SO", "VA"}
    assert described["smtp"] == {"outbox": "var/outbox"}


def test_config_file_from_environment(tmp_path, monkeypatch):
    f = tmp_path / "s.toml"
    f.write_text(MAILBOX)
    monkeypatch.setenv("SPORTELLO_CONFIG", str(f))
    s = load_settings()
    assert s.mailboxes[0].province == "MI"
    assert s.mailboxes[0].key == "imap:spazioregione.mi@imap.example.org:993/INBOX"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("databse = 1\n", "unknown key 'databse'"),
        ("[database]\nurl = 'mysql://x'\n", "bad value for 'database.url'"),
        (MAILBOX.replace('"mi"', '"XX"'), "unknown province 'XX'"),
        (MAILBOX.replace('security', 'x') + 'security = "tls"\n', "bad value for 'mailboxes.0.security'"),
        (MAILBOX.replace('password_env = "TEST_MI_PASSWORD"', ''), "give exactly one of"),
        ("[limits]\nmax_attachments = 'many'\n", "bad value for 'limits.max_attachments'"),
        ("this is = not toml [", "not valid TOML"),
        ('[call]\nchannel = "email"\n', '[call] channel = "email" needs an [smtp] section'),
    ],
)
def test_bad_config_gives_one_line_reason(tmp_path, text, reason):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_settings(f)
    assert reason in str(e.value)
    assert "\n" not in str(e.value)


def test_secrets_from_env_and_file(tmp_path, monkeypatch):
    f = tmp_path / "s.toml"
    f.write_text(MAILBOX)
    s = load_settings(f)
    with pytest.raises(ConfigError, match="TEST_MI_PASSWORD is not set"):
        s.mailboxes[0].password()
    monkeypatch.setenv("TEST_MI_PASSWORD", "s3cret")
    assert s.mailboxes[0].password() == "s3cret"

    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    f.write_text(MAILBOX.replace('password_env = "TEST_MI_PASSWORD"', f'password_file = "{secret}"'))
    assert load_settings(f).mailboxes[0].password() == "from-file"


def test_environment_overrides_file_and_describe_hides_passwords(tmp_path, monkeypatch):
    f = tmp_path / "s.toml"
    f.write_text('[database]\nurl = "sqlite:///a.db"\n')
    monkeypatch.setenv("SPORTELLO_DATABASE_URL", "postgresql+psycopg://sportello:hunter2@db/sportello")
    monkeypatch.setenv("SPORTELLO_DATA_DIR", str(tmp_path / "d"))
    s = load_settings(f)
    assert s.database_url.endswith("@db/sportello")
    assert s.data_dir == tmp_path / "d"
    assert "hunter2" not in str(s.describe())
    assert "***" in s.describe()["database"]["url"]


def test_sqlite_follows_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SPORTELLO_DATA_DIR", str(tmp_path))
    assert load_settings().database_url == f"sqlite:///{tmp_path}/sportello.db"


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "nope.toml")
