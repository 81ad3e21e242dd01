"""Encoding an engine `Answer` within the size limit the client allows.

`render_answer` enforces the size rules of docs/dns-behaviour.md: drop additional records first;
then shorten a steered selection (it is a choice, so fewer addresses is still a correct answer);
a static RRset is never cut, so as a last resort the reply goes out with TC=1 and no records,
and the client retries over TCP. A signed selection that is shortened is signed again as sent.
"""

from __future__ import annotations

from gslb.engine.answer import Answer
from gslb.wire.message import Header, Question
from gslb.wire.records import RRset
from gslb.wire.writer import Writer, finish, render_error, response_flags


def render_answer(
    header: Header, question: Question, answer: Answer, limit: int, opt: bytes | None
) -> bytes:
    """Encode the answer within `limit` bytes (see the module docstring for how it is fitted)."""
    reply = _encode(header, question, answer, answer.additional, None, opt)
    if len(reply) <= limit:
        return reply
    reply = _encode(header, question, answer, (), None, opt)
    if len(reply) <= limit:
        return reply
    if answer.trim_index is not None:
        selection = answer.answer[answer.trim_index]
        for count in range(len(selection.rdatas) - 1, 0, -1):
            reply = _encode(header, question, answer, (), count, opt)
            if len(reply) <= limit:
                return reply
    return render_error(header, question, answer.rcode, opt, answer.authoritative, truncated=True)


def _encode(
    header: Header,
    question: Question,
    answer: Answer,
    additional: tuple[RRset, ...] | list[RRset],
    trim_to: int | None,
    opt: bytes | None,
) -> bytes:
    writer = Writer(question)
    ancount = 0
    resign = getattr(answer, "resign", None)  # a signed answer: the shortened selection gets its own RRSIG
    signature_at = answer.trim_index + 1 if trim_to is not None and resign is not None else -1  # type: ignore[operator]
    for index, rrset in enumerate(answer.answer):
        if index == signature_at:
            selection = answer.answer[index - 1]
            rrset = resign(selection.with_rdatas(selection.rdatas[:trim_to]))  # type: ignore[misc]
        ancount += writer.rrset(rrset, trim_to if index == answer.trim_index else None)
    nscount = sum(writer.rrset(rrset) for rrset in answer.authority)
    arcount = sum(writer.rrset(rrset) for rrset in additional)
    flags = response_flags(header, answer.rcode, answer.authoritative)
    return finish(writer, header, flags, (ancount, nscount, arcount), opt)
