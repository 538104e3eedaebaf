"""HttpsIssuer against a local HTTPS server that wants a client certificate (mutual TLS); HttpSmsGateway over TLS."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from calls.channels import GatewayError, HttpSmsGateway
from calls.issuer import HttpsIssuer, IssuerError


def _cert(name, issuer_key, issuer_name, *, ca=False, ip=None):
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name or subject)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ip:
        b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
    cert = b.sign(issuer_key or key, hashes.SHA256())
    return key, cert


def _write(folder, stem, key, cert):
    (folder / f"{stem}.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
    (folder / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(folder / f"{stem}.pem"), str(folder / f"{stem}.key")


@pytest.fixture
def pki(tmp_path):
    ca_key, ca = _cert("test CA", None, None, ca=True)
    paths = {"ca": _write(tmp_path, "ca", ca_key, ca)[0]}
    paths["server"] = _write(tmp_path, "server", *_cert("127.0.0.1", ca_key, ca.subject, ip="127.0.0.1"))
    paths["client"] = _write(tmp_path, "client", *_cert("sportello", ca_key, ca.subject))
    other_key, other_ca = _cert("other CA", None, None, ca=True)
    paths["stranger"] = _write(tmp_path, "stranger", *_cert("sportello", other_key, other_ca.subject))
    return paths


@pytest.fixture
def server(pki):
    answer = {"body": b"", "status": 200}
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            seen.append((json.loads(self.rfile.read(int(self.headers["Content-Length"]))),
                         self.connection.getpeercert()["subject"], self.headers.get("Authorization")))
            self.send_response(answer["status"])
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer["body"])

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*pki["server"])
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(pki["ca"])
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}/codes", answer, seen
    httpd.shutdown()
    httpd.server_close()


def test_codes_over_mutual_tls(pki, server):
    url, answer, seen = server
    answer["body"] = json.dumps({"pin": "12345", "puk": "12345678"}).encode()
    codes = HttpsIssuer(url, *pki["client"], ca_file=pki["ca"]).issue("SR-MI-2026-000001", "80380001234567890123")
    assert (codes.pin, codes.puk) == ("12345", "12345678")
    body, subject, _ = seen[0]
    assert body == {"reference": "SR-MI-2026-000001", "card_number": "80380001234567890123"}
    assert subject == ((("commonName", "sportello"),),)


def test_a_wrong_answer_or_a_stranger_certificate_is_an_issuer_error(pki, server):
    url, answer, _ = server
    answer["body"] = json.dumps({"pin": "1234", "puk": "12345678"}).encode()
    with pytest.raises(IssuerError) as e:
        HttpsIssuer(url, *pki["client"], ca_file=pki["ca"]).issue("R", None)
    assert "1234" not in str(e.value)
    answer["body"] = json.dumps({"pin": "12345", "puk": "12345678"}).encode()
    with pytest.raises(IssuerError):
        HttpsIssuer(url, *pki["stranger"], ca_file=pki["ca"]).issue("R", None)
    with pytest.raises(IssuerError):  # the server's certificate is not trusted without the CA
        HttpsIssuer(url, *pki["client"]).issue("R", None)
    with pytest.raises(ValueError):
        HttpsIssuer(url.replace("https", "http"), *pki["client"])


def test_the_sms_gateway_posts_the_text_with_its_token(pki, server, monkeypatch):
    url, answer, seen = server
    # the test server wants a client certificate: give the gateway's context one
    monkeypatch.setenv("TEST_SMS_TOKEN", "tok")
    gw = HttpSmsGateway(url, token_env="TEST_SMS_TOKEN", sender="spazioRegione", ca_file=pki["ca"])
    gw._ctx.load_cert_chain(*pki["client"])
    gw.send("+393331234567", "PIN 999")
    body, _, auth = seen[-1]
    assert body == {"to": "+393331234567", "text": "PIN 999", "from": "spazioRegione"} and auth == "Bearer tok"
    answer["status"] = 500
    with pytest.raises(GatewayError) as e:
        gw.send("+393331234567", "PIN 999")
    assert "999" not in str(e.value)
