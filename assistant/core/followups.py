"""The request state machine: from what the mailbox shows to a new record and actions.

waiting ──wait passed──> drafted ──resident sends──> followed_up ──wait──> drafted …
   │                        │  └──resident deletes the draft──> dismissed
   └──────── any evidence of an answer (any state) ──> replied     every round used ──> closed

Doubt means silence: a new draft is written only when every folder was searched for an
answer this cycle and none was found; anything that may be an answer makes the request
`replied`. Exactly one draft per request and round: its Message-ID is derived from both,
and any draft pending in Drafts for the request (ours, ours edited, or the resident's
own) stands for it. Only a pending draft that disappears with no new message in Sent is
a dismissal. A state rebuilt from the servers writes no draft that the old state would
not have: rounds are counted from what was sent, a dismissal from its keyword.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace as _replace
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from assistant.core import draft as drafts
from assistant.core.answers import human_answer, mentor_addresses, own_reply, split_bounces
from assistant.core.classify import AUTOMATIC, DELAYED, HUMAN
from assistant.core.durations import add_wait, add_workdays
from assistant.core.flags import (
    ANSWERED_KEYWORD,
    UNTRACKED_KEYWORD,
    flag_off,
    flag_on,
    mark,
    marked_round,
    round_keyword,
)
from assistant.core.mime import plain_text
from assistant.core.model import DISMISSED_KEYWORD, Address, MailMessage, flags_untouched
from assistant.core.pending import our_round
from assistant.core.plan import Action, AddFlags, AppendDraft, DeleteDraft, RemoveFlags
from assistant.core.referrals import suggestions
from assistant.core.replies import Match
from assistant.core.requests import Thread
from assistant.core.settings import Settings
from assistant.core.state import FINAL_STATES, DraftRecord, RequestRecord
from assistant.core.state import RequestState as S

# How long a vanished draft must have been unseen before it counts as deleted, not sent:
# a mail client removes the draft before the sent copy reaches Sent.
DISMISS_GRACE = timedelta(minutes=10)
RESUME_AT = time(9, 0)  # a paused request resumes at 09:00 local time


_T = TypeVar("_T")


def replace(record: _T, **changes: Any) -> _T:
    """`dataclasses.replace`, but the same record when nothing changes (most requests, most cycles)."""
    if all(getattr(record, name) == value for name, value in changes.items()):
        return record
    return _replace(record, **changes)  # type: ignore[type-var]


@dataclass(frozen=True)
class RequestInputs:
    """Everything the machine needs about one request in this cycle."""

    record: RequestRecord
    thread: Thread | None
    matches: tuple[Match, ...]  # inbound messages tied to it, classified
    pending: tuple[MailMessage, ...]  # its drafts in Drafts: ours, ours edited, or the resident's
    own: tuple[MailMessage, ...] = ()  # the resident's messages in the thread found outside Sent
    new: bool = False  # first seen this cycle (also: rebuilt after a lost state)


@dataclass(frozen=True)
class MailContext:
    settings: Settings
    templates: dict[str, str]
    now: datetime
    drafts_folder: str
    keywords_allowed: bool
    evidence_for: frozenset[str] = frozenset()  # requests every folder was searched for this cycle


@dataclass(frozen=True)
class Outcome:
    record: RequestRecord
    actions: tuple[Action, ...]
    notes: tuple[str, ...] = ()


def _day(moment: datetime, ctx: MailContext) -> str:
    local = moment.astimezone(ctx.settings.tz)
    return f"{local:%a %b} {local.day}"


def _who(message: MailMessage) -> str:
    return message.sender.email if message.sender else "an unknown sender"


def _root(inputs: RequestInputs) -> MailMessage | None:
    return inputs.thread.root if inputs.thread else None


def _once(record: RequestRecord, key: str, note: str) -> tuple[RequestRecord, list[str]]:
    """A note given once per request (its key remembered in the record)."""
    if key in record.reported:
        return record, []
    return replace(record, reported=(*record.reported, key)), [note]


def step(inputs: RequestInputs, ctx: MailContext) -> Outcome:
    """Advance one request by one cycle."""
    record = _refresh(inputs.record, inputs.thread)
    record = replace(record, round=max(record.round, _rounds_evidenced(record, inputs, ctx)))
    root = _root(inputs)
    keywords = ctx.keywords_allowed
    if record.draft is None and inputs.pending and record.state not in FINAL_STATES:
        record = replace(record, draft=_adopt(record, inputs, ctx))  # ours from before a lost state, or theirs
    if root is not None and UNTRACKED_KEYWORD in root.flags and not record.untracked:
        record = replace(record, untracked=True)  # untracked before the state was lost or restored
    if record.untracked:
        actions, record = flag_off(record, root, keywords=keywords)
        actions += mark(record, root, UNTRACKED_KEYWORD, keywords=keywords)
        cleanup, said, record = _cleanup(record, inputs, "you untracked the request")
        closed = replace(record, state=S.CLOSED, next_action_at=None, why="Untracked by hand.")
        return Outcome(closed, (*actions, *cleanup), tuple(said))
    answer = human_answer(inputs.matches)
    if answer is not None:
        why = (
            f"{_who(answer.message)} replied on {_day(answer.message.date, ctx)} "
            f"(message {answer.message.message_id or '(no id)'} in {answer.message.folder}, matched by "
            f"{answer.rung}); no follow-up needed."
        )
        return _replied(record, inputs, ctx, why, answer.message.message_id)
    mine = own_reply(record, (*(inputs.thread.messages if inputs.thread else ()), *inputs.own), inputs.matches)
    if mine is not None:
        why = (
            f"You replied on {_day(mine.message.date, ctx)} to a message that is not yours "
            f"({mine.replied_to}): {record.mentor} must have answered; no follow-up needed."
        )
        return _replied(record, inputs, ctx, why, mine.replied_to)
    # The marks on the server only ever move a request forward: an older state (a backup
    # restored, a file copied back) must not undo an answer, a dismissal or a round.
    if root is not None and ANSWERED_KEYWORD in root.flags:
        why = f"{record.mentor} answered before (remembered on your request message); no follow-up needed."
        return _replied(record, inputs, ctx, why, "")
    if record.state in FINAL_STATES:
        return Outcome(record, ())
    ending = ctx.settings.contract_of(record.mentor)
    if ending is not None and ending.ended is not None:  # decided: from then on, no nudges
        return _alumni(record, inputs, ctx, ending.ended)
    mentor = ctx.settings.mentor_for(record.mentor)
    bounce, others = split_bounces(inputs.matches, mentor_addresses(record, mentor.emails if mentor else ()))
    notes: list[str] = []
    for other in others:
        failed = ", ".join(other.verdict.report.recipients) if other.verdict.report else "an address"
        record, said = _once(record, f"bounce:{failed}", (
            f"Delivery to {failed} failed ({other.verdict.rule}); your request to {record.mentor} about "
            f"{record.subject!r} was delivered and stands. Check that address."
        ))  # fmt: skip
        notes += said
    if bounce is not None:
        outcome = _bounced(record, inputs, bounce, ctx)
        return Outcome(outcome.record, outcome.actions, (*notes, *outcome.notes))
    note, resume = _automatic_notes(inputs, ctx)
    if record.draft is None and marked_round(root) > record.round:
        record = _drafted_before(record, inputs, ctx, marked_round(root))
    if record.draft is not None:
        outcome = _with_draft(record, inputs, ctx, note, resume)
    elif root is not None and DISMISSED_KEYWORD in root.flags:
        outcome = _dismissed_before(record, inputs, ctx)
    elif record.state == S.DISMISSED:
        outcome = Outcome(record, ())
    else:
        outcome = _without_draft(record, inputs, ctx, note, resume)
    return Outcome(outcome.record, outcome.actions, (*notes, *outcome.notes))


def _automatic_notes(inputs: RequestInputs, ctx: MailContext) -> tuple[str, datetime | None]:
    """What auto-replies and delay notices said, and when a stated absence ends."""
    note = ""
    resume: datetime | None = None
    autos = [m for m in inputs.matches if m.verdict.kind == AUTOMATIC]
    if autos:
        last = autos[-1]
        note = f" An automatic reply from {_who(last.message)} ({last.verdict.rule}) does not count as an answer."
        back = max((m.verdict.returns for m in autos if m.verdict.returns), default=None)
        if back is not None:
            resume = datetime.combine(add_workdays(back, 1), RESUME_AT, tzinfo=ctx.settings.tz)
            note += f" It says they are back on {back:%a %b} {back.day}."
    delays = [m for m in inputs.matches if m.verdict.kind == DELAYED]
    if delays:
        note += f" Delivery was delayed ({delays[-1].verdict.rule}); the mail server is still trying."
    return note, resume


def _refresh(record: RequestRecord, thread: Thread | None) -> RequestRecord:
    """Fold what the scan saw of the resident's thread into the record."""
    if thread is None:
        return record
    ids = tuple(dict.fromkeys((*record.thread, *(m.message_id for m in thread.messages))))
    root = thread.root
    if root is None:
        return replace(record, thread=ids, last_sent_at=max(record.last_sent_at, *(_sent(m) for m in thread.messages)))
    return replace(
        record,
        subject=root.subject,
        sent_at=root.date,
        recipients=tuple(a.email for a in root.recipients),
        thread=ids,
        arrived=root.internaldate or record.arrived,
        last_sent_at=max(record.last_sent_at, *(_sent(m) for m in thread.messages)),
    )


def _sent(message: MailMessage) -> datetime:
    """When a message of the resident's counts from: when it appeared in Sent, whatever its Date."""
    return max(message.date, message.arrived)


def _rounds_evidenced(record: RequestRecord, inputs: RequestInputs, ctx: MailContext) -> int:
    """The highest round shown by the mailbox: our drafts there or sent, and every follow-up
    the resident sent (which also covers a state older than the mailbox)."""
    messages = (*inputs.pending, *(inputs.thread.messages if inputs.thread else ()))
    seen = max((our_round(m, record, ctx.settings.me.domain) for m in messages), default=0)
    if inputs.thread is not None:
        seen = max(seen, sum(1 for m in inputs.thread.messages if m.message_id != record.message_id))
    return seen


def _adopt(record: RequestRecord, inputs: RequestInputs, ctx: MailContext) -> DraftRecord:
    """A pending draft with no record of ours (a lost state, or the resident's own draft).

    We cannot vouch for its content, so its empty fingerprint keeps it from ever being
    removed automatically.
    """
    domain = ctx.settings.me.domain
    newest = max(inputs.pending, key=lambda m: (our_round(m, record, domain), m.uid))
    round_no = our_round(newest, record, domain) or max(record.round, marked_round(_root(inputs)))
    thread = tuple(m.message_id for m in inputs.thread.messages) if inputs.thread else record.thread
    # Ours, sealed and untouched (its seal checked by the scan), with only our flags: we can
    # vouch for it, so it may be removed when an answer comes.
    sealed = round_no and newest.fingerprint and not newest.fingerprint.startswith("changed:")
    vouched = newest.fingerprint if sealed and flags_untouched(newest.flags) and newest.fingerprint else ""
    return DraftRecord(round_no, newest.message_id, ctx.now, newest.uid, vouched, None, ctx.now, thread)


def _drafted_before(record: RequestRecord, inputs: RequestInputs, ctx: MailContext, round_no: int) -> RequestRecord:
    """Rebuilt after a lost state: a keyword on the request message says a draft was
    written for `round_no`, more rounds than the resident sent follow-ups, and it is not
    in Drafts: it was deleted unsent. That round is used; doubt means silence."""
    message_id = drafts.draft_message_id(record.id, round_no, ctx.settings.me.domain)
    thread = tuple(m.message_id for m in inputs.thread.messages) if inputs.thread else record.thread
    gone = DraftRecord(round_no, message_id, ctx.now, 0, "", ctx.now, None, thread)
    return replace(record, round=round_no, draft=gone, state=S.DRAFTED)


def _cleanup(
    record: RequestRecord, inputs: RequestInputs, reason: str
) -> tuple[list[Action], list[str], RequestRecord]:
    """Remove our pending draft when it is exactly what we wrote; report any other once."""
    actions: list[Action] = []
    notes: list[str] = []
    draft = record.draft
    for message in inputs.pending:
        ours = draft is not None and draft.fingerprint and message.message_id == draft.message_id
        if ours and draft is not None and message.fingerprint == draft.fingerprint:
            actions.append(
                DeleteDraft(record.id, message.folder, message.uid, message.message_id, draft.fingerprint, reason)
            )
            continue
        record, said = _once(record, f"kept:{message.message_id}", (
            f"A draft to {record.mentor} about {record.subject!r} is in Drafts ({message.message_id}); "
            f"it was left there because it is yours (edited, or not ours), although {reason}."
        ))  # fmt: skip
        notes += said
    return actions, notes, record


def _replied(record: RequestRecord, inputs: RequestInputs, ctx: MailContext, why: str, reply_id: str) -> Outcome:
    actions, record = flag_off(record, _root(inputs), keywords=ctx.keywords_allowed)
    actions += mark(record, _root(inputs), ANSWERED_KEYWORD, keywords=ctx.keywords_allowed)
    cleanup, notes, record = _cleanup(record, inputs, f"{record.mentor} answered")
    new = replace(
        record,
        state=S.REPLIED,
        next_action_at=None,
        why=why,
        suggested=_suggested(record, inputs, ctx) or record.suggested,
        reply_message_id=reply_id or record.reply_message_id,
    )
    return Outcome(new, (*actions, *cleanup), tuple(notes))


def _alumni(record: RequestRecord, inputs: RequestInputs, ctx: MailContext, ended: date | None) -> Outcome:
    """The mentorship ends (or ended): a mentor on the way to alumni is never nudged."""
    actions, record = flag_off(record, _root(inputs), keywords=ctx.keywords_allowed)
    cleanup, notes, record = _cleanup(record, inputs, "the mentorship ended")
    why = f"The mentorship with {ctx.settings.mentor_label(record.mentor)} ends on {ended}; no follow-ups."
    closed = replace(record, state=S.CLOSED, next_action_at=None, why=why)
    return Outcome(closed, (*actions, *cleanup), tuple(notes))


def _suggested(record: RequestRecord, inputs: RequestInputs, ctx: MailContext) -> tuple[str, ...]:
    """Colleagues the mentor's replies point to (their own text only)."""
    mentor = ctx.settings.mentor_for(record.mentor)
    exclude = set(ctx.settings.me.addresses) | set(record.recipients) | {record.mentor}
    if mentor is not None:
        exclude |= {e.lower() for e in mentor.emails}
    found: dict[str, str] = {}
    for match in inputs.matches:
        message = match.message
        if match.verdict.kind != HUMAN or message.raw is None:
            continue
        sender = {message.sender.email} if message.sender else set()
        for address, name in suggestions(plain_text(message.raw), exclude=frozenset(exclude | sender)):
            found.setdefault(address, name)
    return tuple(f"{name} <{address}>" if name else address for address, name in found.items())


def _bounced(record: RequestRecord, inputs: RequestInputs, match: Match, ctx: MailContext) -> Outcome:
    report = match.message
    actions, record = flag_on(record, _root(inputs), keywords=ctx.keywords_allowed)
    cleanup, notes, record = _cleanup(record, inputs, "the request bounced")
    why = (
        f"Delivery failed: {match.verdict.rule} from {_who(report)} on {_day(report.date, ctx)}; "
        "flagged, and no follow-up will be drafted. Check the address."
    )
    return Outcome(replace(record, state=S.BOUNCED, next_action_at=None, why=why), (*actions, *cleanup), tuple(notes))


def _dismissed_before(record: RequestRecord, inputs: RequestInputs, ctx: MailContext) -> Outcome:
    """Rebuilt after a lost state: the request message carries our dismissal keyword."""
    actions, record = flag_off(record, _root(inputs), keywords=ctx.keywords_allowed)
    why = "You deleted a follow-up draft for this request before; no more nudges unless you write in the thread."
    return Outcome(replace(record, state=S.DISMISSED, next_action_at=None, why=why), tuple(actions))


def _new_in_thread(record: RequestRecord, inputs: RequestInputs, draft: DraftRecord) -> list[MailMessage]:
    """Messages the resident sent in the thread since the draft was written (in whatever
    order their copies reached Sent, whatever their Date)."""
    messages = inputs.thread.messages if inputs.thread else ()
    if draft.thread_then:
        before = set(draft.thread_then)
        return [m for m in messages if m.message_id not in before and m.message_id != record.message_id]
    return [m for m in messages if m.message_id == draft.message_id or m.arrived > draft.created_at]


def _with_draft(
    record: RequestRecord, inputs: RequestInputs, ctx: MailContext, note: str, resume: datetime | None
) -> Outcome:
    draft = record.draft
    assert draft is not None
    root = _root(inputs)
    sent = _new_in_thread(record, inputs, draft)
    if sent:
        # The resident sent a follow-up (ours or their own): the clock restarts from it.
        latest = max(sent, key=lambda m: m.arrived)
        cleanup, said, record = _cleanup(record, inputs, "you already sent a follow-up")
        flags: list[Action] = []  # our flag comes off in _without_draft
        if root is not None and DISMISSED_KEYWORD in root.flags:
            flags.append(RemoveFlags(root.folder, root.uid, root.message_id, (DISMISSED_KEYWORD,), record.id))
        restarted = replace(
            record,
            state=S.FOLLOWED_UP,
            draft=None,
            last_sent_at=max(record.last_sent_at, latest.date, latest.arrived, draft.created_at),
        )
        outcome = _without_draft(restarted, inputs, ctx, note, resume)
        return Outcome(outcome.record, (*cleanup, *flags, *outcome.actions), (*said, *outcome.notes))
    if inputs.pending:
        ours = [m for m in inputs.pending if m.message_id == draft.message_id]
        notes: list[str] = []
        edited_as = draft.edited_as
        if not ours:
            edited_as = inputs.pending[-1].message_id
            record, notes = _once(record, f"edited:{draft.round}", (
                f"Your follow-up to {record.mentor} about {record.subject!r} is in Drafts as you edited it; "
                "it stays until you send or delete it."
            ))  # fmt: skip
        flags, record = flag_on(record, root, keywords=ctx.keywords_allowed)
        seen = replace(draft, missing_since=None, last_seen_at=ctx.now, edited_as=edited_as,
                       uid=ours[0].uid if ours else draft.uid)  # fmt: skip
        why = (
            f"No answer from {record.mentor} since {_day(record.last_sent_at, ctx)}; the round {draft.round} "
            f"follow-up draft is waiting in Drafts for you to review and send.{note}"
        )
        kept = replace(record, state=S.DRAFTED, draft=seen, next_action_at=None, why=why)
        return Outcome(kept, tuple(flags), tuple(notes))
    appended = root is not None and round_keyword(draft.round) in root.flags  # marked only after the APPEND
    if draft.uid is None and draft.last_seen_at is None and record.state != S.DISMISSED and not appended:
        # We recorded the intent but the APPEND never happened: write it now, same Message-ID.
        return _new_round(record, inputs, ctx, draft.round, note)
    last_seen = draft.last_seen_at or draft.created_at
    if ctx.now - last_seen >= DISMISS_GRACE or record.state == S.DISMISSED:
        actions, record = flag_off(record, root, keywords=ctx.keywords_allowed)
        if root is not None and ctx.keywords_allowed and record.state != S.DISMISSED:
            actions.append(AddFlags(root.folder, root.uid, root.message_id, (DISMISSED_KEYWORD,), record.id))
        why = (
            f"You deleted the round {draft.round} draft to {record.mentor} without sending it; "
            "no more nudges unless you write in the thread again."
        )
        gone = replace(draft, missing_since=draft.missing_since or ctx.now)
        return Outcome(replace(record, state=S.DISMISSED, next_action_at=None, why=why, draft=gone), tuple(actions))
    waiting = replace(draft, missing_since=draft.missing_since or ctx.now)
    why = f"The round {draft.round} draft left Drafts; waiting a few minutes to see whether it was sent."
    return Outcome(replace(record, draft=waiting, why=why), ())


def _without_draft(
    record: RequestRecord, inputs: RequestInputs, ctx: MailContext, note: str, resume: datetime | None
) -> Outcome:
    follow = ctx.settings.followup
    flags, record = flag_off(record, _root(inputs), keywords=ctx.keywords_allowed)
    last_sent = record.last_sent_at
    due = add_wait(last_sent, follow.wait, business_days=follow.business_days)
    if resume is not None and resume > due and ctx.now < resume:
        why = (
            f"{record.mentor} is away (automatic reply); the follow-up is paused until "
            f"{_day(resume, ctx)}, one workday after their return.{note}"
        )
        return Outcome(replace(record, state=S.PAUSED, next_action_at=resume, why=why), tuple(flags))
    max_rounds = follow.rounds + (1 if follow.closing_note else 0)
    state = S.FOLLOWED_UP if record.round > 0 else S.WAITING
    if record.round >= max_rounds:
        if ctx.now >= due:
            why = f"Every follow-up round was used and {record.mentor} has not answered; no more nudges."
            return Outcome(replace(record, state=S.CLOSED, next_action_at=None, why=why), tuple(flags))
        why = f"Final note sent {_day(last_sent, ctx)}; closing the request on {_day(due, ctx)} without an answer."
        return Outcome(replace(record, state=state, next_action_at=due, why=why + note), tuple(flags))
    if ctx.now >= due:
        outcome = _new_round(record, inputs, ctx, record.round + 1, note)
        return Outcome(outcome.record, (*flags, *outcome.actions), outcome.notes)
    if record.round == 0:
        why = f"Sent to {record.mentor} on {_day(last_sent, ctx)}; no answer yet. A follow-up draft is due "
        since = "your request"
    else:
        why = f"You followed up with {record.mentor} on {_day(last_sent, ctx)}; no answer yet. The next draft is due "
        since = "your last follow-up"
    why += f"{_day(due, ctx)}, {follow.wait.days} days after {since}.{note}"
    return Outcome(replace(record, state=state, next_action_at=due, why=why), tuple(flags))


def _new_round(record: RequestRecord, inputs: RequestInputs, ctx: MailContext, round_no: int, note: str) -> Outcome:
    """Write the draft for `round_no`, once every folder was searched for an answer."""
    settings = ctx.settings
    thread = inputs.thread
    if record.message_id not in ctx.evidence_for:
        why = (
            f"A follow-up to {record.mentor} is due, but not every folder could be searched for an answer "
            "yet; nothing is drafted until it can (doubt means silence)."
        )
        return Outcome(replace(record, next_action_at=ctx.now + timedelta(minutes=15), why=why), ())
    last = max(thread.messages, key=lambda m: (m.date, m.uid)) if thread else None
    if last is None:
        why = "Due for a follow-up, but the sent message is no longer in the Sent folder; nothing drafted."
        return Outcome(replace(record, why=why), ())
    message_id = drafts.draft_message_id(record.id, round_no, settings.me.domain)
    kind = "closing note" if round_no > settings.followup.rounds else f"follow-up {round_no}"
    flag_actions, record = flag_on(record, _root(inputs), keywords=ctx.keywords_allowed)
    flag_actions += mark(record, _root(inputs), round_keyword(round_no), keywords=ctx.keywords_allowed)
    why = (
        f"No answer from {record.mentor} since {_day(record.last_sent_at, ctx)} "
        f"({settings.followup.wait.days} days or more, nothing in any folder): flagged, and a {kind} draft "
        f"was written to Drafts for you to review and send.{note}"
    )
    base = replace(record, state=S.DRAFTED, round=max(record.round, round_no), next_action_at=None, why=why)
    mentor = settings.mentor_for(record.mentor)
    recipient = next((a for a in last.recipients if a.email == record.mentor), Address("", record.mentor))
    source = (thread.root if thread else None) or last
    mine = settings.tracking_addresses
    to = tuple(a for a in source.to if a.email not in mine) or (recipient,)
    cc = tuple(a for a in source.cc if a.email not in mine)
    context = drafts.DraftContext(
        me=settings.me,
        mentor=mentor,
        recipient=recipient,
        subject=record.subject or last.subject,
        sent_at=record.sent_at.astimezone(settings.tz),
        round=round_no,
        rounds=settings.followup.rounds,
        closing=round_no > settings.followup.rounds,
        minutes=drafts.meeting_minutes(source.body),
    )
    raw = drafts.compose_followup(
        templates=ctx.templates, ctx=context, request_id=record.id, last_sent=last, to=to, cc=cc,
        message_id=message_id, now=ctx.now,
    )  # fmt: skip
    fingerprint = drafts.draft_fingerprint(raw)
    same = record.draft is not None and record.draft.message_id == message_id
    created = record.draft.created_at if same and record.draft is not None else ctx.now
    thread_then = tuple(m.message_id for m in thread.messages) if thread else record.thread
    intent = DraftRecord(round_no, message_id, created, None, fingerprint, None, None, thread_then)
    append = AppendDraft(
        record.id, round_no, ctx.drafts_folder, message_id, raw, fingerprint, f"{kind} to {record.mentor}"
    )
    # The draft first, then the marks: a round keyword on the request means the APPEND was made.
    return Outcome(replace(base, draft=intent), (append, *flag_actions))
