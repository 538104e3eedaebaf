"""The README's first command: the demo on the embedded default, with the bundled samples."""

import json
import re

from sportello.samples import sample_files
from tests.corpus.cases import build_case


def test_demo_reads_every_bundled_sample_right_and_answers_the_citizens(cli, tmp_path):
    proc = cli("demo", env={"SPORTELLO_TODAY": "2026-11-26"})
    out = proc.stdout.decode()
    assert "log in as demo / " in out
    # the call of one ready `direct` request is booked for now, to be tried at once (README "Trying the call")
    demo_call = re.search(r"The call of (SR-[A-Z]{2}-\d{4}-\d{6}) is booked for now", out).group(1)
    assert re.search(r"citizen's page: +http://127\.0\.0\.1:8000/videochiamata/\S+", out)
    # Issue 19, defect 7: nothing but our own output (no tesseract "Empty page!!").
    assert proc.stderr == b"" and "Empty page" not in out
    by_sample = {}
    for r in json.loads(cli("requests", "export", "--json").stdout):
        by_sample[r["message_ids"][0]] = r
    assert len(by_sample) == len(sample_files())
    for f in sample_files():
        case_id = re.sub(r"^[A-Z]{2}-\d\d-", "", f.name.removesuffix(".eml"))
        if case_id == "auto-reply":
            (rec,) = [r for r in by_sample.values() if r["status"] == "not_a_request"]
            continue
        case = build_case(case_id)
        rec = by_sample[case.message_id]
        if rec["reference"] == demo_call:
            assert (case.expected_status, rec["status"], rec["form_type"]) == ("ready", "booked", "direct")
        else:
            assert rec["status"] == case.expected_status, case_id
        blocking = {x["code"] for x in rec["findings"] if x["severity"] == "blocking"}
        assert blocking == set(case.expected_blocking_codes), case_id
        assert rec["holder"]["codice_fiscale"] == case.expected_holder_cf
    # Every citizen got one answer, the auto-reply none; the demo call's citizen its invitation too.
    outbox = list((tmp_path / "data" / "outbox").glob("*.eml"))
    assert len(outbox) == len(sample_files())
    # Running it again changes nothing.
    again = cli("demo", env={"SPORTELLO_TODAY": "2026-11-26"}).stdout.decode()
    assert f"0 new messages, {len(sample_files())} already stored" in again
    assert f"The call of {demo_call} is booked for now" in again  # the same demo call, not a second one
