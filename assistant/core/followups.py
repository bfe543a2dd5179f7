"""The request state machine: from what the mailbox shows to a new record and actions.

waiting ──wait passed──> drafted ──resident sends──> followed_up ──wait──> drafted …
   │                        │  └──resident deletes the draft──> dismissed
   └──────── a human reply (any state) ──> replied        every round used ──> closed

Exactly one draft per request and round: the draft's Message-ID is derived from both,
and a draft already in Drafts (found by that Message-ID) is never written again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from assistant.core import draft as drafts
from assistant.core.classify import AUTOMATIC, BOUNCE, DELAYED, HUMAN
from assistant.core.durations import add_wait, add_workdays
from assistant.core.mime import plain_text
from assistant.core.model import FLAG_KEYWORD, Address, MailMessage
from assistant.core.plan import Action, AddFlags, AppendDraft, DeleteDraft, RemoveFlags
from assistant.core.referrals import suggestions
from assistant.core.replies import Match
from assistant.core.requests import Thread
from assistant.core.settings import Settings
from assistant.core.state import FINAL_STATES, DraftRecord, RequestRecord
from assistant.core.state import RequestState as S

# How long a vanished draft must stay gone before we conclude it was deleted, not sent:
# a mail client removes the draft before the sent copy reaches Sent.
DISMISS_GRACE = timedelta(minutes=10)
FLAGGED = "\\Flagged"
RESUME_AT = time(9, 0)  # a paused request resumes at 09:00 local time


@dataclass(frozen=True)
class RequestInputs:
    """Everything the machine needs about one request in this cycle."""

    record: RequestRecord
    thread: Thread | None
    matches: tuple[Match, ...]
    our_drafts: tuple[MailMessage, ...]  # in Drafts, carrying our header for this request


@dataclass(frozen=True)
class MailContext:
    settings: Settings
    templates: dict[str, str]
    now: datetime
    drafts_folder: str
    keywords_allowed: bool


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


def step(inputs: RequestInputs, ctx: MailContext) -> Outcome:
    """Advance one request by one cycle."""
    record = _refresh(inputs.record, inputs.thread)
    record = replace(record, round=max(record.round, _rounds_evidenced(record, inputs)))
    if record.untracked:
        return Outcome(replace(record, state=S.CLOSED, next_action_at=None, why="Untracked by hand."), ())
    humans = [m for m in inputs.matches if m.verdict.kind == HUMAN]
    if humans:
        return _replied(record, inputs, humans[0], ctx)
    if record.state in FINAL_STATES:
        return Outcome(record, ())
    bounces = [m for m in inputs.matches if m.verdict.kind == BOUNCE]
    if bounces:
        return _bounced(record, inputs, bounces[0], ctx)
    note, resume = _automatic_notes(inputs, ctx)
    if record.draft is None and inputs.our_drafts:
        record = replace(record, draft=_adopt(record, inputs.our_drafts, ctx))
    if record.draft is not None:
        return _with_draft(record, inputs, ctx, note, resume)
    return _without_draft(record, inputs, ctx, note, resume)


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
    last = max(thread.messages, key=lambda m: m.date)
    last_sent = max(record.last_sent_at, last.date)
    root = thread.root
    if root is None:
        return replace(record, thread=ids, last_sent_at=last_sent)
    return replace(
        record,
        subject=root.subject,
        sent_at=root.date,
        recipients=tuple(a.email for a in root.recipients),
        thread=ids,
        last_sent_at=last_sent,
    )


def _adopt(record: RequestRecord, found: tuple[MailMessage, ...], ctx: MailContext) -> DraftRecord:
    """A draft of ours found in Drafts with no record of it (the state was lost).

    We cannot tell whether the resident edited it, so its empty fingerprint keeps it from
    ever being deleted automatically.
    """

    def round_of(message: MailMessage) -> int:
        parsed = drafts.parse_draft_header(message.header("x-mentor-assistant"))
        return parsed[1] if parsed else 0

    newest = max(found, key=round_of)
    return DraftRecord(max(round_of(newest), 1), newest.message_id, ctx.now, newest.uid, "", None)


def _rounds_evidenced(record: RequestRecord, inputs: RequestInputs) -> int:
    """The highest round whose draft of ours is in Drafts or was sent (survives lost state)."""
    seen = 0
    messages = (*inputs.our_drafts, *(inputs.thread.messages if inputs.thread else ()))
    for message in messages:
        parsed = drafts.parse_draft_header(message.header("x-mentor-assistant"))
        if parsed and parsed[0] == record.id:
            seen = max(seen, parsed[1])
        elif message.message_id.startswith("<mentor-assistant."):
            for round_no in range(1, 8):
                domain = message.message_id.rsplit("@", 1)[-1].rstrip(">")
                if drafts.draft_message_id(record.id, round_no, domain) == message.message_id:
                    seen = max(seen, round_no)
    return seen


def _root_flag_actions(inputs: RequestInputs, ctx: MailContext, *, add: bool) -> tuple[list[Action], bool | None]:
    """Flag (or unflag) the request message; returns actions and the new flagged_by_us."""
    thread = inputs.thread
    root = thread.root if thread else None
    if root is None:
        return [], None
    record = inputs.record
    if add:
        if FLAGGED in root.flags:
            return [], record.flagged_by_us
        flags = (FLAGGED, FLAG_KEYWORD) if ctx.keywords_allowed else (FLAGGED,)
        return [AddFlags(root.folder, root.uid, root.message_id, flags, record.id)], True
    ours = record.flagged_by_us or FLAG_KEYWORD in root.flags
    present = tuple(f for f in (FLAGGED, FLAG_KEYWORD) if f in root.flags)
    if not ours or not present:
        return [], False if not present else record.flagged_by_us
    return [RemoveFlags(root.folder, root.uid, root.message_id, present, record.id)], False


def _cleanup_drafts(record: RequestRecord, inputs: RequestInputs, reason: str) -> tuple[list[Action], list[str], bool]:
    """Delete our pending drafts that are untouched; report the ones the resident edited."""
    actions: list[Action] = []
    notes: list[str] = []
    edited = False
    expected = {record.draft.message_id: record.draft.fingerprint} if record.draft else {}
    for message in inputs.our_drafts:
        fingerprint = expected.get(message.message_id)
        if fingerprint and message.fingerprint == fingerprint:
            actions.append(DeleteDraft(record.id, message.folder, message.uid, message.message_id, fingerprint, reason))
        else:
            edited = True
            if not record.reported_edited:
                notes.append(
                    f"Your draft to {record.mentor} about {record.subject!r} was edited (or cannot be "
                    f"verified), so it was left in Drafts although {reason}."
                )
    return actions, notes, edited


def _replied(record: RequestRecord, inputs: RequestInputs, match: Match, ctx: MailContext) -> Outcome:
    reply = match.message
    actions, flagged = _root_flag_actions(inputs, ctx, add=False)
    cleanup, notes, edited = _cleanup_drafts(record, inputs, f"{_who(reply)} replied")
    why = (
        f"{_who(reply)} replied on {_day(reply.date, ctx)} (message {reply.message_id or '(no id)'}, "
        f"matched by {match.rung}); no follow-up needed."
    )
    new = replace(
        record,
        state=S.REPLIED,
        next_action_at=None,
        why=why,
        suggested=_suggested(record, inputs, ctx) or record.suggested,
        reply_message_id=reply.message_id or record.reply_message_id,
        flagged_by_us=bool(flagged) if flagged is not None else record.flagged_by_us,
        reported_edited=record.reported_edited or edited,
    )
    return Outcome(new, (*actions, *cleanup), tuple(notes))


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
    actions, flagged = _root_flag_actions(inputs, ctx, add=True)
    cleanup, notes, edited = _cleanup_drafts(record, inputs, "the request bounced")
    why = (
        f"Delivery failed: {match.verdict.rule} from {_who(report)} on {_day(report.date, ctx)}; "
        "flagged, and no follow-up will be drafted. Check the address."
    )
    new = replace(
        record,
        state=S.BOUNCED,
        next_action_at=None,
        why=why,
        flagged_by_us=bool(flagged) if flagged is not None else record.flagged_by_us,
        reported_edited=record.reported_edited or edited,
    )
    return Outcome(new, (*actions, *cleanup), tuple(notes))


def _with_draft(
    record: RequestRecord, inputs: RequestInputs, ctx: MailContext, note: str, resume: datetime | None
) -> Outcome:
    draft = record.draft
    assert draft is not None
    created = draft.created_at
    present = next((m for m in inputs.our_drafts if m.message_id == draft.message_id), None)
    thread_messages = inputs.thread.messages if inputs.thread else ()
    sent_copy = next((m for m in thread_messages if m.message_id == draft.message_id or m.date > created), None)
    if sent_copy is not None:
        # The resident sent our draft or wrote their own follow-up: the clock restarts from it.
        others = RequestInputs(
            record, inputs.thread, inputs.matches, tuple(m for m in inputs.our_drafts if m is present)
        )
        cleanup, notes, edited = _cleanup_drafts(record, others, "you already sent a follow-up")
        restarted = replace(
            record,
            state=S.FOLLOWED_UP,
            draft=None,
            last_sent_at=max(record.last_sent_at, sent_copy.date),
            reported_edited=record.reported_edited or edited,
        )
        outcome = _without_draft(restarted, inputs, ctx, note, resume)
        return Outcome(outcome.record, (*cleanup, *outcome.actions), (*notes, *outcome.notes))
    if present is not None:
        flag_actions, flagged = _root_flag_actions(inputs, ctx, add=True)
        kept = replace(
            record,
            state=S.DRAFTED,
            draft=replace(draft, uid=present.uid, missing_since=None),
            next_action_at=None,
            flagged_by_us=bool(flagged) if flagged is not None else record.flagged_by_us,
            why=(
                f"No answer from {record.mentor} since {_day(record.last_sent_at, ctx)}; the round "
                f"{draft.round} follow-up draft is waiting in Drafts for you to review and send.{note}"
            ),
        )
        return Outcome(kept, tuple(flag_actions))
    if draft.uid is None:
        # We recorded the intent but the APPEND never happened: write it now, same Message-ID.
        return _new_round(record, inputs, ctx, draft.round, note)
    missing_since = draft.missing_since or ctx.now
    if ctx.now - missing_since >= DISMISS_GRACE or record.state == S.DISMISSED:
        why = (
            f"You deleted the round {draft.round} draft to {record.mentor} without sending it; "
            "no more nudges unless you write in the thread again."
        )
        return Outcome(
            replace(
                record,
                state=S.DISMISSED,
                next_action_at=None,
                why=why,
                draft=replace(draft, missing_since=missing_since),
            ),
            (),
        )
    return Outcome(
        replace(
            record,
            draft=replace(draft, missing_since=missing_since),
            why=f"The round {draft.round} draft left Drafts; waiting a few minutes to see whether it was sent.",
        ),
        (),
    )


def _without_draft(
    record: RequestRecord, inputs: RequestInputs, ctx: MailContext, note: str, resume: datetime | None
) -> Outcome:
    follow = ctx.settings.followup
    last_sent = record.last_sent_at
    due = add_wait(last_sent, follow.wait, business_days=follow.business_days)
    if resume is not None and resume > due and ctx.now < resume:
        why = (
            f"{record.mentor} is away (automatic reply); the follow-up is paused until "
            f"{_day(resume, ctx)}, one workday after their return.{note}"
        )
        return Outcome(replace(record, state=S.PAUSED, next_action_at=resume, why=why), ())
    max_rounds = follow.rounds + (1 if follow.closing_note else 0)
    state = S.FOLLOWED_UP if record.round > 0 else S.WAITING
    if record.round >= max_rounds:
        if ctx.now >= due:
            why = f"Every follow-up round was used and {record.mentor} has not answered; no more nudges."
            return Outcome(replace(record, state=S.CLOSED, next_action_at=None, why=why), ())
        why = f"Final note sent {_day(last_sent, ctx)}; closing the request on {_day(due, ctx)} without an answer."
        return Outcome(replace(record, state=state, next_action_at=due, why=why + note), ())
    if ctx.now >= due:
        return _new_round(record, inputs, ctx, record.round + 1, note)
    if record.round == 0:
        why = f"Sent to {record.mentor} on {_day(last_sent, ctx)}; no answer yet. A follow-up draft is due "
        since = "your request"
    else:
        why = f"You followed up with {record.mentor} on {_day(last_sent, ctx)}; no answer yet. The next draft is due "
        since = "your last follow-up"
    why += f"{_day(due, ctx)}, {follow.wait.days} days after {since}.{note}"
    return Outcome(replace(record, state=state, next_action_at=due, why=why), ())


def _new_round(record: RequestRecord, inputs: RequestInputs, ctx: MailContext, round_no: int, note: str) -> Outcome:
    """Write the draft for `round_no` (or adopt it if it is already in Drafts)."""
    thread = inputs.thread
    message_id = drafts.draft_message_id(record.id, round_no, ctx.settings.me.domain)
    already = next((m for m in inputs.our_drafts if m.message_id == message_id), None)
    last = max(thread.messages, key=lambda m: m.date) if thread else None
    kind = "closing note" if round_no > ctx.settings.followup.rounds else f"follow-up {round_no}"
    flag_actions, flagged = _root_flag_actions(inputs, ctx, add=True)
    base = replace(
        record,
        state=S.DRAFTED,
        round=max(record.round, round_no),
        next_action_at=None,
        flagged_by_us=bool(flagged) if flagged is not None else record.flagged_by_us,
        why=(
            f"No answer from {record.mentor} since {_day(record.last_sent_at, ctx)} "
            f"({ctx.settings.followup.wait.days} days or more): flagged, and a {kind} draft was written to "
            f"Drafts for you to review and send.{note}"
        ),
    )
    if already is not None:
        # Found without a record of ours (the state was lost): we cannot tell whether the
        # resident edited it, so an empty fingerprint keeps it from ever being auto-deleted.
        adopted = DraftRecord(round_no, message_id, ctx.now, already.uid, "", None)
        return Outcome(replace(base, draft=record.draft if _same(record, message_id) else adopted), tuple(flag_actions))
    if last is None:
        why = "Due for a follow-up, but the sent message is no longer in the Sent folder; nothing drafted."
        return Outcome(replace(record, why=why), ())
    mentor = ctx.settings.mentor_for(record.mentor)
    recipient = next((a for a in last.recipients if a.email == record.mentor), Address("", record.mentor))
    root = thread.root if thread else None
    source = root or last
    mine = ctx.settings.me.addresses | ({ctx.settings.tracking.bcc.lower()} if ctx.settings.tracking.bcc else set())
    to = tuple(a for a in source.to if a.email not in mine) or (recipient,)
    cc = tuple(a for a in source.cc if a.email not in mine)
    context = drafts.DraftContext(
        me=ctx.settings.me,
        mentor=mentor,
        recipient=recipient,
        subject=record.subject or last.subject,
        sent_at=record.sent_at.astimezone(ctx.settings.tz),
        round=round_no,
        rounds=ctx.settings.followup.rounds,
        closing=round_no > ctx.settings.followup.rounds,
    )
    raw = drafts.compose_followup(
        templates=ctx.templates,
        ctx=context,
        request_id=record.id,
        last_sent=last,
        to=to,
        cc=cc,
        message_id=message_id,
        now=ctx.now,
    )
    fingerprint = drafts.draft_fingerprint(raw)
    created = record.draft.created_at if _same(record, message_id) and record.draft else ctx.now
    intent = DraftRecord(round_no, message_id, created, None, fingerprint, None)
    append = AppendDraft(
        record.id, round_no, ctx.drafts_folder, message_id, raw, fingerprint, f"{kind} to {record.mentor}"
    )
    return Outcome(replace(base, draft=intent), (*flag_actions, append))


def _same(record: RequestRecord, message_id: str) -> bool:
    return record.draft is not None and record.draft.message_id == message_id
