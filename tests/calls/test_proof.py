"""The one-time code that proves the channel: right once, wrong, late, too many tries."""

import re

from calls.channels import MemoryGateway
from calls.proof import ChannelProof


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def _code(gw):
    return re.search(r"\b(\d{6})\b", gw.sent[-1][1]).group(1)


def test_the_code_sent_is_accepted_once():
    gw = MemoryGateway()
    proof = ChannelProof(gw, "+393331234567")
    proof.send()
    code = _code(gw)
    assert gw.sent[-1][0] == "+393331234567" and code not in repr(proof) and proof.masked == "+39 333 *** **67"
    assert proof.check(f"{code[:3]} {code[3:]}")  # read out with a pause
    assert not proof.check(code)


def test_a_wrong_code_then_too_many_tries():
    gw = MemoryGateway()
    proof = ChannelProof(gw, "+393331234567", max_attempts=2)
    proof.send()
    code = _code(gw)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert not proof.check(wrong)
    assert not proof.check(wrong)
    assert not proof.check(code)  # the attempts are spent


def test_a_late_code_fails_and_a_resend_replaces_it():
    gw, clock = MemoryGateway(), Clock()
    proof = ChannelProof(gw, "+393331234567", valid_seconds=300, clock=clock)
    proof.send()
    first = _code(gw)
    clock.t += 301
    assert not proof.check(first)
    proof.send()
    second = _code(gw)
    assert proof.check(second)
