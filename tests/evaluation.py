"""Run corpus cases through the real reading and verification code, and score them.

Shared by the accuracy test (tests/verification/test_corpus_accuracy.py) and
the benchmark (bench/verification_bench.py). A case goes through the same
steps as a stored e-mail: MIME parsing with the default limits, reading of
every accepted attachment, slot assignment, the rules, the verdict. Only the
database is left out, as it decides nothing here.

CPU time counts this process and its children (tesseract runs as a child).
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass, field

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from intake.mime import Limits, parse_message  # noqa: E402
from verification.assemble import assemble  # noqa: E402
from verification.evidence import RejectedAttachment  # noqa: E402
from verification.attachment import read_attachment  # noqa: E402
from verification.verdict import decide  # noqa: E402

from tests.corpus.cases import Case, build_case, to_email  # noqa: E402


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@dataclass
class CaseResult:
    case: Case
    status: str
    codes: frozenset[str]
    blocking: frozenset[str]
    slots: dict[str, str]  # slot -> doc_type as read
    cpu: float
    styles: tuple[str, ...] = field(default_factory=tuple)

    @property
    def status_ok(self) -> bool:
        return self.status == self.case.expected_status

    @property
    def blocking_ok(self) -> bool:
        return self.blocking == self.case.expected_blocking_codes

    @property
    def wrongly_ready(self) -> bool:
        return self.status == "ready" and self.case.expected_status != "ready"


def evaluate(case: Case) -> CaseResult:
    raw = to_email(case)
    start = cpu_seconds()
    parsed = parse_message(raw, Limits())
    forms, cards, rejected = [], [], []
    for att in parsed.attachments:
        if att.rejected:
            rejected.append(RejectedAttachment(att.filename, att.rejected))
            continue
        reading = read_attachment(att.filename, att.content_type, att.data, today=case.today,
                                  signer_certificate=att.signer_certificate)
        forms += reading.forms
        cards += reading.cards
    evidence, placed, _ = assemble(forms, cards, rejected, case.today, evidence_paper_cutoff())
    verdict = decide(evidence)
    cpu = cpu_seconds() - start
    codes = frozenset(verdict.codes)
    blocking = frozenset(f.code for f in verdict.findings if f.severity == "blocking")
    slots = {p.slot: p.reading.doc_type or "?" for p in placed}
    return CaseResult(case, verdict.status, codes, blocking, slots, cpu)


def evidence_paper_cutoff():
    from config.settings import VerificationSettings

    return VerificationSettings().paper_id_invalid_from


def evaluate_ids(ids: list[str]) -> list[CaseResult]:
    return [evaluate(build_case(i)) for i in ids]


@dataclass
class Score:
    cases: int
    status_exact: float
    blocking_exact: float
    wrongly_ready: list[str]

    def line(self) -> str:
        return (f"{self.cases} cases: statuses exact {self.status_exact:.1%}, blocking-code sets exact "
                f"{self.blocking_exact:.1%}, wrongly ready {len(self.wrongly_ready)}")


def score(results: list[CaseResult]) -> Score:
    n = len(results) or 1
    return Score(
        cases=len(results),
        status_exact=sum(r.status_ok for r in results) / n,
        blocking_exact=sum(r.blocking_ok for r in results) / n,
        wrongly_ready=[r.case.id for r in results if r.wrongly_ready],
    )


def describe_failure(r: CaseResult) -> str:
    missing = sorted(r.case.expected_blocking_codes - r.blocking)
    extra = sorted(r.blocking - r.case.expected_blocking_codes)
    return (f"{r.case.id}: status {r.status} (expected {r.case.expected_status}); "
            f"blocking missing {missing} extra {extra}; all codes {sorted(r.codes)}; slots {r.slots}")


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0
