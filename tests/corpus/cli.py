"""Write corpus cases to disk, to look at them or feed them to `sportello ingest`.

    python -m tests.corpus.cli list
    python -m tests.corpus.cli write DIR [--case ID ...]

`write` puts, for each case, DIR/<id>.eml, its attachments under DIR/<id>/
and DIR/<id>/expected.json; DIR/manifest.json lists every case written.
Check them with SPORTELLO_TODAY=2026-11-26.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tests.corpus.cases import Case, all_case_ids, build_case, to_email


def expected(case: Case) -> dict:
    """What the verdict on this case must say, JSON-ready."""
    return {
        "id": case.id,
        "description": case.description,
        "form_type": case.form_type,
        "expected_status": case.expected_status,
        "expected_codes": sorted(case.expected_codes),
        "expected_blocking_codes": sorted(case.expected_blocking_codes),
        "province": case.province,
        "message_id": case.message_id,
        "sender": case.sender,
        "holder_codice_fiscale": case.expected_holder_cf,
        "declarant_codice_fiscale": case.expected_declarant_cf,
        "relationship": case.relationship,
        "documents": case.expected_documents,
        "attachments": [{"filename": name, "content_type": kind, "bytes": len(data)}
                        for name, data, kind in case.attachments],
        "today": case.today.isoformat(),
    }


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "attachment"


def write(folder: Path, case_ids: list[str]) -> list[dict]:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = []
    for case_id in case_ids:
        case = build_case(case_id)
        (folder / f"{case_id}.eml").write_bytes(to_email(case))
        files = folder / case_id
        files.mkdir(exist_ok=True)
        for name, data, _ in case.attachments:
            (files / _safe(name)).write_bytes(data)
        record = expected(case)
        (files / "expected.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        manifest.append(record)
        print(f"{case_id}: {case.expected_status} {sorted(case.expected_codes)}", file=sys.stderr)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.corpus.cli", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="print every case id with its expected status and codes")
    writer = commands.add_parser("write", help="write cases as .eml files and attachments")
    writer.add_argument("folder", type=Path)
    writer.add_argument("--case", action="append", dest="cases", metavar="ID", help="only this case (repeatable)")
    args = parser.parse_args(argv)
    if args.command == "list":
        from tests.corpus.cases import expected_status
        from tests.corpus.catalogue import CATALOGUE

        for case_id, spec in CATALOGUE.items():
            print(f"{case_id}\t{expected_status(spec.codes)}\t{','.join(sorted(spec.codes))}")
        return 0
    unknown = [c for c in args.cases or [] if c not in all_case_ids()]
    if unknown:
        parser.error(f"unknown case id(s): {', '.join(unknown)}")
    write(args.folder, args.cases or all_case_ids())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
