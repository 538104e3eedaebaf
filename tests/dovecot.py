"""A real Dovecot IMAP server for tests, run from its own config in a temp dir.

Nothing here touches /etc/dovecot or the system's Dovecot: the server reads
only the config file written below, keeps its sockets, state, log, TLS
certificate and every mailbox under one temporary directory, and listens on
127.0.0.1 only, on free ports picked at start.

    server = Dovecot(tmp_path)
    server.start()
    server.add_user("spazioregione.mi", "secret")
    server.append("spazioregione.mi", "INBOX", raw_bytes)
    ...
    server.stop()

Ports:
    ``port``      plain IMAP (``security = "none"`` and ``"starttls"``)
    ``ssl_port``  implicit TLS (``security = "ssl"``)

TLS uses a self-signed certificate for 127.0.0.1/localhost generated at start;
``ssl_context()`` returns a verifying context that trusts it.

XOAUTH2/OAUTHBEARER work too: Dovecot's ``oauth2`` passdb asks a tiny token
introspection server (a thread in this process, 127.0.0.1 only) about the
bearer token; register tokens with ``add_oauth2_token(user, token)``.

When the tests run as root, Dovecot runs its own way: master as root, login
processes as ``dovenull``, internal ones as ``dovecot`` (both created by the
Debian package), mail processes as the unprivileged uid/gid ``MAIL_UID``
(no passwd entry needed), which owns the maildirs. As any other user
everything runs as that user, without chroot.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pwd
import grp
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from imapclient import IMAPClient

DOVECOT_BIN = os.environ.get("SPORTELLO_TEST_DOVECOT", shutil.which("dovecot") or "/usr/sbin/dovecot")
HOST = "127.0.0.1"
MAIL_UID = 5000  # unprivileged owner of the maildirs when the tests run as root
MAIL_GID = 5000


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` different TCP ports on 127.0.0.1 that nobody listens on now.

    The sockets are held open together while the ports are picked: picked one
    after the other, the kernel may hand out the same port twice.
    """
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for s in sockets:
            s.bind((HOST, 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def dovecot_available() -> bool:
    return os.path.exists(DOVECOT_BIN) and os.access(DOVECOT_BIN, os.X_OK)


def _make_self_signed_cert(cert_path: Path, key_path: Path) -> None:
    # cryptography comes with pdfminer.six; no openssl binary needed.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sportello test dovecot")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


class _TokenServer:
    """OAuth2 token introspection for Dovecot's oauth2 passdb (RFC 7662 style)."""

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}  # token -> username
        tokens = self.tokens

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, token: str) -> None:
                user = tokens.get(token)
                body = {"active": True, "username": user} if user else {"active": False}
                data = json.dumps(body).encode()
                self.send_response(200 if user else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                self._answer((form.get("token") or [""])[0])

            def do_GET(self) -> None:  # noqa: N802
                auth = self.headers.get("Authorization", "")
                token = auth.removeprefix("Bearer ").strip()
                if not token:
                    token = (parse_qs(urlparse(self.path).query).get("access_token") or [""])[0]
                self._answer(token)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer((HOST, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="dovecot-oauth2", daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Dovecot:
    """One unprivileged Dovecot instance living in ``root`` (a temp dir by default)."""

    def __init__(self, root: str | os.PathLike | None = None, *, start_timeout: float = 10.0) -> None:
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="dovecot-")) if root is None else Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.start_timeout = start_timeout
        self.port = 0
        self.ssl_port = 0
        self.users: dict[str, str] = {}
        self.proc: subprocess.Popen | None = None
        self._tokens: _TokenServer | None = None
        self._as_root = os.geteuid() == 0

        self.run_dir = self.root / "run"          # base_dir: sockets, master.pid
        self.state_dir = self.root / "state"
        self.mail_dir = self.root / "mail"        # one home per user: mail/<user>/Maildir
        self.config_path = self.root / "dovecot.conf"
        self.passwd_path = self.root / "passwd"
        self.oauth2_config_path = self.root / "oauth2.conf.ext"
        self.log_path = self.root / "dovecot.log"
        self.cert_path = self.root / "cert.pem"
        self.key_path = self.root / "key.pem"

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> "Dovecot":
        if self.proc is not None and self.proc.poll() is None:
            return self
        first = not self.config_path.exists()
        if first:
            self._prepare()
        for attempt in range(5):
            if first or attempt:
                # a free port may be taken between picking and binding: pick again
                self.port, self.ssl_port = free_ports(2)
                self._write_config()
            try:
                self._spawn()
                return self
            except _PortTaken:
                continue
        raise RuntimeError(f"dovecot could not bind a free port; log:\n{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful shutdown (SIGTERM): clients get ``* BYE`` and are disconnected."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        self._killpg()  # stragglers of this instance only (its own process group)
        self.proc = None
        self._wait_port_closed(self.port)

    def kill(self) -> None:
        """SIGKILL every Dovecot process at once, as a crash (or power cut) would.

        Dovecot runs in a process group of its own (start_new_session), so the
        group id is the master's pid: nothing but this instance is signalled.
        """
        if self.proc is None:
            return
        self._killpg()
        self.proc.wait(10)
        self.proc = None
        self._wait_port_closed(self.port)
        (self.run_dir / "master.pid").unlink(missing_ok=True)

    def _killpg(self) -> None:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def restart(self) -> None:
        """Stop and start again on the same ports, with the same mail."""
        self.stop()
        try:
            self._spawn()
        except _PortTaken:
            raise RuntimeError(f"dovecot: port {self.port} or {self.ssl_port} was taken during restart") from None

    def close(self) -> None:
        """Tear down fast (SIGKILL) and delete everything it had (when we made the dir)."""
        self.kill()
        if self._tokens is not None:
            self._tokens.close()
            self._tokens = None
        if self._own_root and not os.environ.get("SPORTELLO_TEST_KEEP_DOVECOT"):
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "Dovecot":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- users ---------------------------------------------------------------

    def add_user(self, user: str, password: str) -> None:
        """Add (or change the password of) a user; one mailbox each, under mail/<user>.

        The passwd-file is re-read by Dovecot on change: no restart needed.
        """
        if any(c in user for c in ":/\n") or ":" in password or "\n" in password:
            raise ValueError("user and password may not contain ':', '/' or newlines")
        self.users[user] = password
        home = self.mail_dir / user
        (home / "Maildir").mkdir(parents=True, exist_ok=True)
        if self._as_root:
            for path in (home, home / "Maildir"):
                os.chown(path, MAIL_UID, MAIL_GID)
        lines = [f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.users.items()]
        tmp = self.passwd_path.with_suffix(".tmp")
        tmp.write_text("".join(lines), encoding="utf-8")
        tmp.chmod(0o644)
        os.replace(tmp, self.passwd_path)  # atomic: Dovecot never reads half a file

    def add_oauth2_token(self, user: str, token: str) -> None:
        """Make ``token`` a valid XOAUTH2/OAUTHBEARER bearer token for ``user``."""
        assert self._tokens is not None, "call start() first"
        self._tokens.tokens[token] = user

    def revoke_oauth2_token(self, token: str) -> None:
        assert self._tokens is not None
        self._tokens.tokens.pop(token, None)

    # -- client side helpers (a separate connection each, as that user) -----

    def ssl_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this server's certificate."""
        return ssl.create_default_context(cafile=str(self.cert_path))

    def client(self, user: str) -> IMAPClient:
        """A logged-in plain-text IMAPClient; close it with ``logout()``."""
        c = IMAPClient(HOST, self.port, ssl=False, timeout=10)
        c.login(user, self.users[user])
        return c

    def append(self, user: str, folder: str, raw: bytes, flags: tuple = ()) -> int:
        """APPEND one message (creating the folder if needed); returns its UID."""
        with self.client(user) as c:
            if not c.folder_exists(folder):
                c.create_folder(folder)
            resp = c.append(folder, raw, flags=flags)
        # APPENDUID (RFC 4315): b"[APPENDUID <uidvalidity> <uid>] Append completed."
        text = resp.decode() if isinstance(resp, bytes) else str(resp)
        if "APPENDUID" in text:
            return int(text.split("APPENDUID", 1)[1].split("]", 1)[0].split()[1])
        return self.uids(user, folder)[-1]

    def uids(self, user: str, folder: str) -> list[int]:
        with self.client(user) as c:
            if not c.folder_exists(folder):
                return []
            c.select_folder(folder, readonly=True)
            return sorted(c.search("ALL"))

    def fetch_all(self, user: str, folder: str) -> list[bytes]:
        """Every message of the folder in UID order, without marking any \\Seen."""
        with self.client(user) as c:
            if not c.folder_exists(folder):
                return []
            c.select_folder(folder, readonly=True)
            uids = sorted(c.search("ALL"))
            data = c.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
            return [data[u][b"BODY[]"] for u in uids]

    def flags(self, user: str, folder: str) -> dict[int, tuple[bytes, ...]]:
        with self.client(user) as c:
            c.select_folder(folder, readonly=True)
            uids = c.search("ALL")
            return dict(c.get_flags(uids)) if uids else {}

    def folders(self, user: str) -> list[str]:
        with self.client(user) as c:
            return sorted(name for _flags, _delim, name in c.list_folders())

    def uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        with self.client(user) as c:
            return c.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"]

    def mailbox_settings(
        self,
        user: str,
        *,
        security: str = "none",
        province: str = "MI",
        oauth2_token: str | None = None,
        **overrides,
    ):
        """A ``config.settings.MailboxSettings`` pointing at this server as ``user``.

        The secret goes to a file under the server's dir (``password_file`` /
        ``oauth2_token_file``), never into the settings themselves.
        """
        from config.settings import MailboxSettings

        secrets = self.root / "secrets"
        secrets.mkdir(exist_ok=True)
        secret_file = secrets / (f"{user}.token" if oauth2_token else f"{user}.password")
        secret_file.write_text(oauth2_token or self.users[user], encoding="utf-8")
        fields = dict(
            province=province,
            host=HOST,
            port=self.ssl_port if security == "ssl" else self.port,
            security=security,
            username=user,
        )
        if oauth2_token:
            fields["oauth2_token_file"] = str(secret_file)
        else:
            fields["password_file"] = str(secret_file)
        fields.update(overrides)
        return MailboxSettings(**fields)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "<no log>"

    # -- internals -----------------------------------------------------------

    def _prepare(self) -> None:
        for d in (self.run_dir, self.state_dir, self.mail_dir):
            d.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            # The auth process (user dovecot) reads the passwd-file and mail
            # processes (uid MAIL_UID) reach mail/: every ancestor must be
            # traversable by others. pytest's tmp_path (0700) is not.
            self.root.chmod(0o755)
            self.mail_dir.chmod(0o755)
            for parent in self.root.parents:
                if not parent.stat().st_mode & 0o001:
                    raise ValueError(
                        f"{self.root}: {parent} is not traversable by other users; "
                        "Dovecot's unprivileged processes could not reach their files. "
                        "Use Dovecot() without a root (a temp dir of its own)."
                    )
        _make_self_signed_cert(self.cert_path, self.key_path)
        self.passwd_path.write_text("", encoding="utf-8")
        self.passwd_path.chmod(0o644)
        self._tokens = _TokenServer()
        self.oauth2_config_path.write_text(
            "introspection_mode = post\n"
            f"introspection_url = http://{HOST}:{self._tokens.port}/introspect\n"
            "username_attribute = username\n"
            "active_attribute = active\n"
            "active_value = true\n"
            "force_introspection = yes\n",
            encoding="utf-8",
        )
        self.oauth2_config_path.chmod(0o644)

    def _write_config(self) -> None:
        if self._as_root:
            users = (
                "default_internal_user = dovecot\n"
                "default_internal_group = dovecot\n"
                "default_login_user = dovenull\n"
                f"first_valid_uid = {MAIL_UID}\n"
                f"first_valid_gid = {MAIL_GID}\n"
            )
            mail_ids = f"uid={MAIL_UID} gid={MAIL_GID}"
            chroot = ""
        else:
            # Unprivileged: every process runs as us; chroot needs root.
            me = pwd.getpwuid(os.getuid()).pw_name
            group = grp.getgrgid(os.getgid()).gr_name
            users = (
                f"default_internal_user = {me}\n"
                f"default_internal_group = {group}\n"
                f"default_login_user = {me}\n"
                f"first_valid_uid = {os.getuid()}\n"
                f"first_valid_gid = {os.getgid()}\n"
            )
            mail_ids = f"uid={os.getuid()} gid={os.getgid()}"
            chroot = "  chroot =\n"
        dh = "/usr/share/dovecot/dh.pem"
        ssl_dh = f"ssl_dh = <{dh}\n" if os.path.exists(dh) else ""
        config = f"""\
# Written by tests/dovecot.py; nothing is read from /etc/dovecot.
protocols = imap
listen = {HOST}
base_dir = {self.run_dir}
state_dir = {self.state_dir}
instance_name = sportello-test-{self.root.name}
log_path = {self.log_path}
info_log_path = {self.log_path}
{users}
# Plain-text LOGIN is allowed so that security = "none" can be tested.
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
auth_cache_size = 0
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {self.passwd_path}
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {self.oauth2_config_path}
}}
userdb {{
  driver = static
  args = {mail_ids} home={self.mail_dir}/%u allow_all_users=yes
}}
mail_location = maildir:~/Maildir
mail_privileged_group =
namespace inbox {{
  inbox = yes
  separator = /
}}

ssl = yes
ssl_cert = <{self.cert_path}
ssl_key = <{self.key_path}
{ssl_dh}ssl_min_protocol = TLSv1.2

# IDLE is always on; notice new mail within a second (inotify does it at once).
mailbox_idle_check_interval = 1 secs
imap_idle_notify_interval = 2 mins
shutdown_clients = yes

service imap-login {{
{chroot}  inet_listener imap {{
    address = {HOST}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {self.ssl_port}
    ssl = yes
  }}
}}
# No growing delay after failed logins from 127.0.0.1 (Dovecot's
# documented way: the auth process finds no penalty socket).
service anvil {{
{chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""
        self.config_path.write_text(config, encoding="utf-8")
        self.config_path.chmod(0o644)

    def _spawn(self) -> None:
        (self.run_dir / "master.pid").unlink(missing_ok=True)
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
        # -F: stay in the foreground, so Popen owns the master. No pipes: a
        # captured stdout nobody reads would block Dovecot once it fills up.
        with open(self.root / "dovecot.stderr", "ab") as err:
            self.proc = subprocess.Popen(
                [DOVECOT_BIN, "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                env=env,
                start_new_session=True,  # Ctrl-C on pytest must not hit it first
            )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                text = self._new_log(log_offset)
                self.proc = None
                if "Address already in use" in text:
                    raise _PortTaken()
                raise RuntimeError(f"dovecot exited at start:\n{text}")
            if _port_open(self.port) and _port_open(self.ssl_port):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"dovecot did not open its ports in {self.start_timeout}s:\n{self._new_log(log_offset)}")

    def _new_log(self, offset: int) -> str:
        parts = []
        for path, start in ((self.log_path, offset), (self.root / "dovecot.stderr", 0)):
            try:
                with open(path, "rb") as f:
                    f.seek(start)
                    parts.append(f.read().decode(errors="replace")[-4000:])
            except OSError:
                pass
        return "\n".join(p for p in parts if p)

    def _wait_port_closed(self, port: int, timeout: float = 5.0) -> None:
        # Login processes hold the listening socket a moment after the master.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _port_open(port):
            time.sleep(0.02)


class _PortTaken(Exception):
    pass


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False
