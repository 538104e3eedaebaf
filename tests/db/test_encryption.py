"""Issue 19, item 8: with a storage key, nothing on disk is in clear; rotation keeps every request readable."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from db.blobs import BlobStore
from db.crypto import Keyring, StorageKeyError, key_id
from db.models import Request
from sportello.pipeline import ingest
from sportello.verify import verify_pending
from tests.conftest import write_config
from tests.corpus.cases import build_case, to_email

KEY_A, KEY_B = "a1" * 32, "b2" * 32
# Long enough that random ciphertext never holds one by chance (a 3-byte JPEG marker turns up in one
# megabyte of random bytes in six of a hundred files): the JFIF/Exif markers, PDF and PNG headers, MIME.
MAGICS = (b"\xff\xd8\xff\xe0\x00\x10JFIF", b"\xff\xd8\xff\xe1", b"%PDF-1.", b"\x89PNG\r\n\x1a\n",
          b"From: ", b"Content-Type: ")


@pytest.fixture
def keyed_app(tmp_path, db_url, monkeypatch):
    from db.migrate import upgrade
    from db.app import App

    monkeypatch.setenv("SPORTELLO_STORAGE_KEY", KEY_A)
    monkeypatch.setenv("SPORTELLO_TODAY", "2026-11-26")
    path = write_config(tmp_path / "sportello.toml", tmp_path / "data", db_url,
                        '\n[storage]\nkey_env = "SPORTELLO_STORAGE_KEY"\n')
    app = App.from_config(str(path))
    upgrade(app.db.engine)
    yield app, path
    app.close()


def _files(app) -> list[bytes]:
    return [p.read_bytes() for p in app.settings.blob_dir.rglob("*") if p.is_file()]


def test_no_blob_on_disk_holds_a_picture_a_pdf_or_a_codice_fiscale_in_clear(keyed_app):
    app, _ = keyed_app
    case = build_case("delegate-ready-phone")
    out = ingest(app, to_email(case), case.province)
    verify_pending(app)
    with app.db.session() as s:
        assert s.scalar(select(Request.status).where(Request.reference == out.reference)) == "ready"
    files = _files(app)
    assert len(files) >= 1 + len(case.attachments)
    cfs = [case.expected_holder_cf.encode(), case.expected_declarant_cf.encode()]
    for data in files:
        assert data.startswith(b"SPB1") and data[4:12] == key_id(bytes.fromhex(KEY_A))
        assert not any(m in data for m in MAGICS) and not any(cf in data for cf in cfs)


def test_rotation_keeps_every_request_readable(keyed_app, monkeypatch, tmp_path, db_url, cli):
    app, path = keyed_app
    case = build_case("direct-ready-phone")
    ingest(app, to_email(case), case.province)
    before = {d: app.blobs.get(d) for d in app.blobs.digests()}
    # The new key is current, the old one retired: everything still reads, then rotate.
    monkeypatch.setenv("SPORTELLO_STORAGE_KEY_NEW", KEY_B)
    write_config(path, tmp_path / "data", db_url, '\n[storage]\nkey_env = "SPORTELLO_STORAGE_KEY_NEW"\n'
                 'retired_key_envs = ["SPORTELLO_STORAGE_KEY"]\n')
    out = cli("keys", "rotate", env={"SPORTELLO_STORAGE_KEY_NEW": KEY_B, "SPORTELLO_STORAGE_KEY": KEY_A,
                                     "SPORTELLO_CONFIG": str(path)})
    assert f"re-encrypted {len(before)} files".encode() in out.stdout
    new_only = BlobStore(app.settings.blob_dir, Keyring(bytes.fromhex(KEY_B)))
    assert {d: new_only.get(d) for d in new_only.digests()} == before
    assert all(data[4:12] == key_id(bytes.fromhex(KEY_B)) for data in _files(app))


def test_a_wrong_key_is_a_clear_error(keyed_app, tmp_path, db_url):
    app, _ = keyed_app
    digest = app.blobs.put(b"%PDF-1.7 documento")
    wrong = BlobStore(app.settings.blob_dir, Keyring(bytes.fromhex(KEY_B)))
    with pytest.raises(StorageKeyError, match="encrypted with key .*, which is not configured"):
        wrong.get(digest)
    # Same key id, other bytes: a damaged or moved blob.
    target = app.blobs.path(digest)
    data = bytearray(target.read_bytes())
    data[-1] ^= 1
    target.write_bytes(bytes(data))
    with pytest.raises(StorageKeyError, match="does not decrypt"):
        app.blobs.get(digest)


def test_a_malformed_key_is_refused_at_start(tmp_path, db_url, cli):
    path = write_config(tmp_path / "bad.toml", tmp_path / "data", db_url, '\n[storage]\nkey_env = "K"\n')
    proc = cli("status", env={"K": "1234", "SPORTELLO_CONFIG": str(path)}, check=False)
    assert proc.returncode != 0 and b"storage key: 2 bytes, 32 expected" in proc.stderr


def test_without_a_key_blobs_are_written_as_they_are_and_sealed_by_a_later_rotation(tmp_path):
    plain = BlobStore(tmp_path / "blobs")
    digest = plain.put(b"\xff\xd8\xff foto")
    keyed = BlobStore(tmp_path / "blobs", Keyring(os.urandom(32)))
    assert keyed.get(digest) == b"\xff\xd8\xff foto"
    assert keyed.rotate() == (1, 0) and keyed.rotate() == (0, 1)
    assert not keyed.path(digest).read_bytes().startswith(b"\xff\xd8") and keyed.get(digest) == b"\xff\xd8\xff foto"
