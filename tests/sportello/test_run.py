"""`sportello run` as a sysadmin starts it: scheduler and back office in one process."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests import mailfactory as mf


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_serves_the_back_office_and_polls_the_local_maildir(cli, config_file, tmp_path):
    config_file.write_text("maildir_poll_interval = 1\n" + config_file.read_text())
    cli("init")
    port = _free_port()
    exe = Path(sys.executable).with_name("sportello")
    env = {**os.environ, "SPORTELLO_CONFIG": str(config_file)}
    proc = subprocess.Popen([str(exe), "run", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        page = None
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accesso", timeout=2) as r:
                    page = r.read().decode()
                    headers = r.headers
                break
            except OSError:
                time.sleep(0.25)
        assert page is not None, "the back office never answered"
        assert "Accedi" in page or "accesso" in page.lower()
        assert "default-src 'self'" in headers["Content-Security-Policy"]

        # A mail dropped into the local Maildir is picked up by the first poll.
        new = tmp_path / "data" / "maildir" / "MI" / "new"
        new.mkdir(parents=True, exist_ok=True)
        (new / "1.eml").write_bytes(mf.simple(seed=77))
        for _ in range(120):
            if not any(new.iterdir()):
                break
            time.sleep(0.25)
        assert not any(new.iterdir()), "the Maildir was not polled"
    finally:
        proc.send_signal(signal.SIGTERM)
        err = proc.communicate(timeout=30)[1].decode()
    assert proc.returncode == 0, f"exit {proc.returncode}: {err[-1500:]}"
    assert "Traceback" not in err
