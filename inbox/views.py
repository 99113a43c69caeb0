"""The shared inbox pages: three panes (queues, the conversation list, the
conversation), the actions on a conversation, presence and saved replies.

Thin on purpose: reads go through ``selectors``, writes through ``services``;
a refused form comes back as a 400 with the reason next to the field."""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Department, User
from socialops.forms import apply_service_errors, submit
from socialops.text import is_number
from socialops.views import render_invalid

from . import services
from .customer import customer_panel
from .display import Clock, channel_time_zone, duration, sla_clock
from .forms import (
    DRILLDOWN_FIELDS,
    AssignForm,
    BulkActionForm,
    InboxFilterForm,
    IntentForm,
    NoteForm,
    ReplyForm,
    ReturnForm,
    RouteForm,
    SavedReplyForm,
    SavedReplyPickForm,
    StatusForm,
    TagForm,
    TagRemoveForm,
    drilldown_active,
    drilldown_filters,
)
from .limits import reply_limit
from .models import Conversation, ConversationTag, Intent, Reply, Sentiment
from .permissions import can_approve_reply, can_view_conversation, reply_mode
from .polls import signed_in_poll
from .selectors import (
    SORT_DUE,
    InboxFilters,
    after_cursor,
    conversations_visible_to,
    filter_conversations,
    inbox_fingerprint,
    keyset_cursor,
    queue_counts,
    saved_replies_for,
    sort_conversations,
    with_list_relations,
    with_unread,
)
from .services.bulk import MAX_BULK
from .services.conversations import ReplyOutstandingError
from .services.replies import reply_is_stuck

PAGE_SIZE = 50
STATUS_BUTTONS = (Conversation.Status.OPEN, Conversation.Status.WAITING, Conversation.Status.RESOLVED,
                  Conversation.Status.CLOSED)
EVENT_LABELS = {
    "assigned": "Assigned", "auto_assigned": "Assigned automatically", "status": "Status changed",
    "intent": "Intent corrected", "routed": "Moved to another queue", "note": "Note added",
    "tag_added": "Tag added", "tag_removed": "Tag removed", "reply_sending": "Reply sending",
    "reply_submitted": "Reply submitted for approval", "reply_approved": "Reply approved",
    "reply_returned": "Reply returned", "reply_sent": "Reply sent", "reply_failed": "Reply failed",
    "reply_retried": "Reply sent again by hand",
    "sla_warning": "SLA warning", "sla_breached": "SLA breached", "reopened": "Reopened by the customer",
    "customer_replied": "The customer replied", "unassigned_offboarding": "Returned to the queue (offboarding)",
    "taken_over": "Taken over", "reply_sent_by_hand": "Reply posted on the platform by hand",
}


@dataclass
class Row:
    conversation: Conversation
    first_line: str
    clock: Clock | None
    initials: str
    unread: bool = False


def _initials(user) -> str:
    if user is None:
        return ""
    parts = [p for p in (user.first_name, user.last_name) if p]
    return ("".join(p[0] for p in parts) or user.username[:2]).upper()


# --- the list (left and middle panes) ----------------------------------------

def _filters(form: InboxFilterForm) -> InboxFilters:
    data = form.cleaned_data
    queue = data.get("queue") or ""
    department = data.get("department")
    return InboxFilters(
        status=data.get("status") or "",
        queue=queue,
        account=data["account"].pk if data.get("account") else None,
        intent=data.get("intent") or "",
        sentiment=data.get("sentiment") or "",
        priority=data.get("priority"),
        overdue=bool(data.get("overdue")) or queue == "overdue",
        assigned_to_me=bool(data.get("mine")) or queue == "mine",
        unassigned=bool(data.get("unassigned")) or queue == "unassigned",
        department=department.pk if department else (int(queue) if is_number(queue) else None),
        **drilldown_filters(data),
    )


def _day(moment: datetime) -> str:
    return date_format(moment, "j M Y")


def _local_range(start: datetime | None, end: datetime | None) -> str:
    """A half-open range [start, end) in the viewer's time zone, in plain
    words: whole days as "1–30 Nov 2026", other instants with their time."""
    start = timezone.localtime(start) if start else None
    end = timezone.localtime(end) if end else None
    midnight = all(m is None or (m.hour, m.minute, m.second, m.microsecond) == (0, 0, 0, 0) for m in (start, end))
    if not midnight:
        def moment(m):
            return date_format(m, "j M Y H:i")
        if start and end:
            return f"{moment(start)} – {moment(end)}"
        return _("from %(when)s") % {"when": moment(start)} if start else _("before %(when)s") % {"when": moment(end)}
    if start and not end:
        return _("from %(day)s") % {"day": _day(start)}
    last = timezone.localtime(end - timedelta(microseconds=1))
    if not start:
        return _("until %(day)s") % {"day": _day(last)}
    if start.date() >= last.date():
        return _day(start)
    if (start.year, start.month) == (last.year, last.month):
        return f"{start.day}–{_day(last)}"
    if start.year == last.year:
        return f"{date_format(start, 'j M')} – {_day(last)}"
    return f"{_day(start)} – {_day(last)}"


def _channel_label(account) -> str:
    platform = account.get_platform_display() + (" " + _("sandbox") if account.sandbox else "")
    return f"{account.display_name or account.handle} ({platform})"


def _report_banner(form: InboxFilterForm) -> list[str]:
    """What the report's drill-down link filtered on, in plain words, or
    nothing when no filter of the report's own is on. Reads what the form
    already loaded, and the names of up to three ``accounts`` (one query)."""
    if not form.is_valid() or not drilldown_active(form.cleaned_data):
        return []
    data = form.cleaned_data
    parts = []
    if data.get("opened_from") or data.get("opened_to"):
        parts.append(_("opened %(range)s") % {"range": _local_range(data.get("opened_from"), data.get("opened_to"))})
    message = []
    if data.get("msg_sentiment"):
        message.append(_("a %(sentiment)s message") % {
            "sentiment": str(Sentiment(data["msg_sentiment"]).label).lower()})
    else:
        message.append(_("a customer message"))
    if data.get("arrived_from") or data.get("arrived_to"):
        message.append(_("arrived %(range)s") % {"range": _local_range(data.get("arrived_from"),
                                                                        data.get("arrived_to"))})
    if data.get("outside_hours"):
        message.append(_("outside service hours"))
    if len(message) > 1 or data.get("msg_sentiment"):
        parts.append(" ".join(message))
    if data.get("status") == "open":
        parts.append(_("still open"))
    elif data.get("status") not in (None, "", "all"):
        parts.append(_("status %(status)s") % {"status": str(Conversation.Status(data["status"]).label).lower()})
    if data.get("account"):
        parts.append(_("channel %(channel)s") % {"channel": _channel_label(data["account"])})
    if data.get("department"):
        parts.append(_("department %(name)s") % {"name": data["department"].name})
    if data.get("intent"):
        parts.append(_("intent %(intent)s") % {"intent": str(Intent(data["intent"]).label).lower()})
    if data.get("tag"):
        parts.append(_("tag “%(tag)s”") % {"tag": data["tag"].strip()})
    if data.get("influencer"):
        parts.append(_("influencers"))
    if data.get("sensitive"):
        parts.append(_("sensitive"))
    if data.get("overdue"):
        parts.append(_("overdue"))
    if data.get("breached"):
        parts.append(_("SLA breached"))
    if data.get("accounts"):
        count = len(data["accounts"])
        if count <= 3:  # named, as the report names them (one small query, only with this filter)
            from security.models import SocialAccount

            names = [_channel_label(a) for a in SocialAccount.objects.filter(pk__in=data["accounts"])
                     .order_by("display_name", "handle")]
            if names:
                parts.append(ngettext("channel %(names)s", "channels %(names)s", len(names))
                             % {"names": ", ".join(names)})
        else:
            parts.append(ngettext("%(n)s channel", "%(n)s channels", count) % {"n": count})
    first_response = {"answered": _("answered"), "late": _("late first response"),
                      "on_time": _("first response on time"),
                      "unanswered": _("not answered yet")}
    if data.get("first_response"):
        parts.append(first_response[data["first_response"]])
    if data.get("resolved") is not None:
        parts.append(_("resolved") if data["resolved"] else _("not resolved"))
    return parts


def _list_query(form: InboxFilterForm, exclude=("after",)) -> str:
    """The valid filters as a query string, to carry them along links."""
    query = QueryDict(mutable=True)
    for name in form.fields:
        if name in exclude:
            continue
        value = form.data.get(name)
        if value not in (None, ""):
            query[name] = value
    return query.urlencode()


def _live_query(form: InboxFilterForm, current: Conversation | None) -> str:
    """The list's own query (filters, sort and page) plus the conversation on
    screen: what the live fragment needs to render the same list."""
    query = _list_query(form, exclude=()) if form.is_valid() else ""
    if current is not None:
        query = "&".join(p for p in (query, f"current={current.pk}") if p)
    return query


def _list_context(request, form: InboxFilterForm, current: Conversation | None = None, *,
                  live_etag: str | None = None) -> dict:
    """The queues and the conversation list. A fixed number of queries
    whatever the page size: the live tag (2), the counts (3), the rows with
    their unread mark (1), the bulk bar's people and queues (2)."""
    user = request.user
    live_query = _live_query(form, current)
    # Taken before the rows are read: a change made while this renders gives the next poll a new tag.
    live_etag = live_etag or inbox_fingerprint(user, live_query)
    counts = queue_counts(user)
    rows, next_cursor, has_any = [], None, True
    sort = (form.cleaned_data.get("sort") if form.is_valid() else "") or SORT_DUE
    if form.is_valid():
        qs = filter_conversations(with_list_relations(conversations_visible_to(user)), _filters(form), user)
        qs = with_unread(qs, user)
        after = form.cleaned_data.get("after")
        if after:
            qs = after_cursor(qs, after, sort)
        qs = sort_conversations(qs.select_related("account__service_window"), sort)
        conversations = list(qs[: PAGE_SIZE + 1])
        if len(conversations) > PAGE_SIZE:
            conversations = conversations[:PAGE_SIZE]
            next_cursor = keyset_cursor(conversations[-1], sort)
        now = timezone.now()
        for c in conversations:
            preview = (c.last_message_preview or c.subject or "").strip()
            rows.append(Row(c, preview.splitlines()[0] if preview else "", sla_clock(c, now), _initials(c.assignee),
                            unread=c.is_unread and (current is None or c.pk != current.pk)))
        if not rows and not after:
            has_any = conversations_visible_to(user).exists()
    query = _list_query(form) if form.is_valid() else ""
    data = form.cleaned_data if form.is_valid() else {}
    active_queue = "all"
    if data.get("mine") or data.get("queue") == "mine":
        active_queue = "mine"
    elif data.get("unassigned") or data.get("queue") == "unassigned":
        active_queue = "unassigned"
    elif data.get("overdue") or data.get("queue") == "overdue":
        active_queue = "overdue"
    elif data.get("department"):
        active_queue = str(data["department"].pk)
    elif is_number(data.get("queue") or ""):
        active_queue = data["queue"]
    here = request.get_full_path() if request.resolver_match and request.resolver_match.url_name in (
        "list", "conversation") else reverse("inbox:list") + (f"?{query}" if query else "")
    return {
        "filter_form": form, "counts": counts, "rows": rows, "has_any": has_any, "list_query": query,
        "next_query": "&".join(p for p in (query, "after=" + _quote(next_cursor)) if p) if next_cursor else "",
        "current": current, "active_queue": active_queue,
        "filters_open": bool(form.errors) or (form.is_valid() and form.is_filtered()),
        "sort": sort, "sort_params": [(k, v) for k, v in QueryDict(query).items() if k not in ("sort", "after")],
        "live_url": f"{reverse('inbox:live')}?{live_query}" if live_query else reverse("inbox:live"),
        "live_etag": live_etag, "live_on": not form.errors,
        "bulk_form": BulkActionForm(user=user), "bulk_next": here, "bulk_max": MAX_BULK,
        "report_filters": _report_banner(form),
        # The report's filters ride along when the filter panel is applied again (their fields are hidden).
        "drilldown_params": [(k, v) for k, v in QueryDict(query).items() if k in DRILLDOWN_FIELDS],
    }


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _filter_form(request) -> InboxFilterForm:
    data = request.GET.copy()
    data.pop("saved", None)
    return InboxFilterForm(data, user=request.user)


@login_required
@require_GET
def inbox_list(request):
    form = _filter_form(request)
    context = _list_context(request, form)
    if form.errors:
        return render_invalid(request, "inbox/list.html", context)
    return render(request, "inbox/list.html", context)


# --- one conversation (the right pane) ------------------------------------

def _visible(request, pk) -> Conversation:
    return get_object_or_404(with_list_relations(conversations_visible_to(request.user))
                             .select_related("account__service_window"), pk=pk)


def _here(request, conversation) -> str:
    """The conversation's address with the list's filters (without ?saved=)."""
    query = request.GET.copy()
    query.pop("saved", None)
    base = reverse("inbox:conversation", args=[conversation.pk])
    return f"{base}?{query.urlencode()}" if query else base


def _when(value) -> str:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return str(value)
    if not isinstance(moment, datetime):
        return str(value)
    return date_format(timezone.localtime(moment) if timezone.is_aware(moment) else moment, "Y-m-d H:i")


def _describe_events(events) -> list[dict]:
    """Each event of the history as a sentence (names, not ids). Two queries
    whatever the number of events: the people and the departments named."""
    user_ids, department_ids = set(), set()
    for event in events:
        data = event.data or {}
        for key in ("assignee", "before", "user") if event.kind in ("assigned", "auto_assigned", "taken_over",
                                                                     "unassigned_offboarding") else ("user",):
            if isinstance(data.get(key), int):
                user_ids.add(data[key])
        if event.kind == "routed":
            department_ids.update(v for v in (data.get("before"), data.get("after")) if isinstance(v, int))
    users = {u.pk: str(u) for u in User.objects.filter(pk__in=user_ids)} if user_ids else {}
    departments = dict(Department.objects.filter(pk__in=department_ids).values_list("pk", "name")) \
        if department_ids else {}
    statuses, intents = dict(Conversation.Status.choices), dict(Intent.choices)
    nobody = _("nobody")
    described = []
    for event in events:
        data, kind = event.data or {}, event.kind
        if kind in ("assigned", "auto_assigned", "taken_over"):
            text = _("to %(who)s") % {"who": users.get(data.get("assignee"), nobody)}
            if isinstance(data.get("before"), int):
                text = _("from %(before)s to %(who)s") % {"before": users.get(data["before"], nobody),
                                                          "who": users.get(data.get("assignee"), nobody)}
        elif kind in ("status", "intent"):
            labels = statuses if kind == "status" else intents
            before, after = data.get("before"), data.get("after")
            text = f"{labels.get(before, before)} → {labels.get(after, after)}"
        elif kind == "routed":
            text = f"{departments.get(data.get('before'), '—')} → {departments.get(data.get('after'), '—')}"
            if data.get("reason"):
                text += f": {data['reason']}"
        elif kind in ("tag_added", "tag_removed"):
            text = str(data.get("tag", ""))
        elif kind == "reply_returned":
            text = str(data.get("comment", ""))
        elif kind == "reply_failed":
            text = str(data.get("error", "")) + (" " + _("(will retry)") if data.get("will_retry") else "")
        elif kind == "reply_submitted":
            text = _("a specialist must approve it") if data.get("needs_specialist") else ""
        elif kind in ("sla_warning", "sla_breached"):
            text = _("%(target)s due %(when)s") % {"target": str(data.get("target", "")).capitalize(),
                                                   "when": _when(data.get("due"))}
        elif kind == "reply_sent_by_hand":
            text = _("at %(url)s") % {"url": str(data.get("url", ""))}
        elif kind == "reopened":
            text = _("was %(status)s") % {"status": statuses.get(data.get("from"), data.get("from"))}
        elif kind == "note" and data.get("mentions"):
            text = _("mentions %(n)s colleague(s)") % {"n": len(data["mentions"])}
        elif kind in ("note", "reply_sending", "reply_approved", "reply_sent", "reply_retried", "customer_replied",
                      "unassigned_offboarding"):
            text = ""
        else:
            text = "; ".join(f"{k}: {v}" for k, v in sorted(data.items()) if v not in (None, "", []))
        described.append({"event": event, "label": _(EVENT_LABELS.get(kind, kind)), "text": text})
    return described


LIVE_REPLY_STATUSES = (Reply.Status.PENDING_APPROVAL, Reply.Status.APPROVED, Reply.Status.SENDING)


def _replies_in_progress(user, conversation: Conversation, *, since: datetime | None = None, now=None,
                         **forms) -> list[Reply]:
    """The conversation's replies not sent yet (and, with ``since``, those
    sent since then, so the live block can say "Sent"), each with what the
    page shows about it. Two queries (the replies; the viewer's rights, once)."""
    sent_lately = Q(status=Reply.Status.SENT, sent_at__gte=since) if since is not None else Q(pk__in=[])
    replies = list(conversation.replies.filter(~Q(status=Reply.Status.SENT) | sent_lately)
                   .select_related("author", "approved_by", "sent_by_hand").order_by("created_at", "pk"))
    reply_errors = forms.get("reply_errors") or {}
    now = now or timezone.now()
    for reply in replies:
        reply.conversation = conversation
        reply.is_stuck = reply_is_stuck(reply, now=now)
        reply.can_review = reply.status == Reply.Status.PENDING_APPROVAL and can_approve_reply(user, reply)
        reply.is_mine = reply.author_id == user.pk
        reply.errors = reply_errors.get(reply.pk, [])
        if forms.get("return_reply_id") == reply.pk:
            reply.return_form = forms["return_form"]
        else:
            reply.return_form = ReturnForm(auto_id=f"id_return{reply.pk}_%s")
    return replies


def _replies_live_context(conversation: Conversation, replies: list[Reply], *, since: datetime, here: str) -> dict:
    """What the replies block needs to update itself: whether to keep asking
    (a reply waits for approval or is on its way), and a version of what it
    shows, so an unchanged state costs a 204 and no re-render."""
    state = "|".join(f"{r.pk}:{r.status}:{r.attempts}:{r.is_stuck}:{r.can_review}:{r.last_error}" for r in replies)
    version = hashlib.blake2s(state.encode(), digest_size=8).hexdigest()
    query = urlencode({"since": int(since.timestamp()), "v": version, "next": here})
    return {
        "replies_live": any(r.status in LIVE_REPLY_STATUSES and not r.is_stuck for r in replies),
        "replies_version": version,
        "replies_poll_url": f"{reverse('inbox:reply-states', args=[conversation.pk])}?{query}",
    }


def _conversation_context(request, conversation: Conversation, **forms) -> dict:
    user = request.user
    mode = reply_mode(user, conversation)
    now = timezone.now()
    replies = _replies_in_progress(user, conversation, now=now, **forms)
    saved = list(saved_replies_for(user, conversation))
    now = timezone.now()
    events = _describe_events(list(conversation.events.select_related("actor")))
    context = {
        "conversation": conversation,
        "thread": conversation.messages.select_related("author", "sent_by").order_by("sent_at", "id"),
        "routing": conversation.routing_decisions.select_related("department", "decided_by"),
        "events": events,
        "notes": conversation.notes.select_related("author").prefetch_related("mentions"),
        "tags": [t.tag.name for t in ConversationTag.objects.filter(conversation=conversation)
                 .select_related("tag").order_by("tag__name")],
        "replies": replies,
        "reply_mode": mode,
        "saved_replies": saved,
        "clock": sla_clock(conversation, now),
        "first_response_took": duration(conversation.first_response_service_minutes * 60)
        if conversation.first_response_service_minutes is not None else "",
        "channel_time_zone": channel_time_zone(conversation.account),
        "status_buttons": [(s.value, s.label) for s in STATUS_BUTTONS if s != conversation.status],
        "is_mine": conversation.assignee_id == user.pk,
        "here": _here(request, conversation),
        "status_form": forms.get("status_form") or StatusForm(),
        "intent_form": forms.get("intent_form") or IntentForm(initial={"intent": conversation.intent}),
        "assign_form": forms.get("assign_form") or AssignForm(conversation=conversation,
                                                              initial={"assignee": conversation.assignee_id}),
        "route_form": forms.get("route_form") or RouteForm(initial={"department": conversation.department_id}),
        "note_form": forms.get("note_form") or NoteForm(),
        "tag_form": forms.get("tag_form") or TagForm(),
        "reply_form": forms.get("reply_form") or ReplyForm(account=conversation.account),  # a fresh token per render
        "reply_limit": reply_limit(conversation.account),
        "customer": customer_panel(user, conversation),
        "resolve_confirm": forms.get("resolve_confirm"),
        "pick_form": forms.get("pick_form") or SavedReplyPickForm(queryset=saved_replies_for(user, conversation)),
        "here_params": [(k, v) for k, v in request.GET.items() if k != "saved"],
        "claim_errors": forms.get("claim_errors") or [],
        "take_over_from": forms.get("take_over_from"),
    }
    context.update(_replies_live_context(conversation, replies, since=now, here=context["here"]))
    return context


def _render_conversation(request, conversation, status=200, **forms):
    context = _list_context(request, InboxFilterForm({}, user=request.user), current=conversation)
    context.update(_conversation_context(request, conversation, **forms))
    if status == 400:
        return render_invalid(request, "inbox/conversation.html", context)
    return render(request, "inbox/conversation.html", context, status=status)


@login_required
@require_GET
def conversation_detail(request, pk):
    conversation = _visible(request, pk)
    services.conversation_mark_seen(user=request.user, conversation=conversation)  # read up to what is shown
    form = _filter_form(request)
    forms, invalid = {}, bool(form.errors) if form.is_bound else False
    if request.GET.get("saved"):
        saved_qs = saved_replies_for(request.user, conversation)
        pick = SavedReplyPickForm(request.GET, queryset=saved_qs)
        if pick.is_valid():
            forms["reply_form"] = ReplyForm(initial={"body": pick.cleaned_data["saved"].body},
                                            account=conversation.account)
            forms["pick_form"] = pick
        else:
            forms["pick_form"] = pick
            invalid = True
    context = _list_context(request, form, current=conversation)
    invalid = invalid or bool(form.errors)
    context.update(_conversation_context(request, conversation, **forms))
    if invalid:
        return render_invalid(request, "inbox/conversation.html", context)
    return render(request, "inbox/conversation.html", context)


def _back(request, conversation):
    next_url = request.POST.get("next", "")
    if next_url.startswith("/inbox/") and url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(next_url)
    return redirect("inbox:conversation", pk=conversation.pk)


def _act(request, conversation, form, form_key, action, success: str):
    """Runs ``action(cleaned_data)`` for a valid form; a refusal re-shows the
    conversation with the reason next to the field (400)."""
    if submit(form, action).ok:
        if success:
            messages.success(request, success)
        return _back(request, conversation)
    return _render_conversation(request, conversation, status=400, **{form_key: form})


@login_required
@require_POST
def conversation_claim(request, pk):
    """Claims a conversation nobody holds. One someone else holds is refused
    (409) with a confirmation step: "Take over from Ana? They will be told.",
    whose button posts again with ``take_over`` and the holder confirmed."""
    conversation = _visible(request, pk)
    confirmed = request.POST.get("take_over") == "1"
    holder = request.POST.get("holder", "")
    try:
        claimed = services.conversation_claim(actor=request.user, conversation=conversation, take_over=confirmed,
                                              expected_holder_id=int(holder) if is_number(holder) else None)
    except services.ConversationHeldError as exc:
        return _render_conversation(request, _visible(request, pk), status=409, take_over_from=exc.holder)
    except ValidationError as exc:
        return _render_conversation(request, conversation, status=400, claim_errors=exc.messages)
    previous = getattr(claimed, "previous_assignee", None)
    if previous is not None:
        messages.success(request, _("The conversation is yours; %(holder)s has been told.") % {"holder": previous})
    else:
        messages.success(request, _("The conversation is yours."))
    return _back(request, conversation)


@login_required
@require_POST
def conversation_assign(request, pk):
    """Assigning someone else reassigns (the previous assignee is told);
    assigning oneself is a claim, with the same take-over confirmation."""
    conversation = _visible(request, pk)
    form = AssignForm(request.POST, conversation=conversation)
    held = []

    def assign(data):
        try:
            return services.conversation_assign(actor=request.user, conversation=conversation,
                                                assignee=data["assignee"])
        except services.ConversationHeldError as exc:
            held.append(exc.holder)
            raise

    if submit(form, assign).ok:
        messages.success(request, _("Assignment saved."))
        return _back(request, conversation)
    if held:
        return _render_conversation(request, _visible(request, pk), status=409, assign_form=form,
                                    take_over_from=held[0])
    return _render_conversation(request, conversation, status=400, assign_form=form)


@login_required
@require_POST
def conversation_status(request, pk):
    """Resolving or closing with a reply pending, on its way or failed asks
    first (409, the replies named, a "Resolve anyway" button posting again
    with ``confirm=1``); no JavaScript needed."""
    conversation = _visible(request, pk)
    form = StatusForm(request.POST)
    outstanding = []

    def change(data):
        try:
            return services.conversation_set_status(actor=request.user, conversation=conversation,
                                                    status=data["status"], confirm=data["confirm"])
        except ReplyOutstandingError as exc:
            outstanding.append(exc.replies)
            raise

    if submit(form, change).ok:
        messages.success(request, _("Status changed."))
        return _back(request, conversation)
    if outstanding:
        status = form.cleaned_data["status"]
        return _render_conversation(request, _visible(request, pk), status=409, resolve_confirm={
            "status": status, "label": Conversation.Status(status).label, "replies": outstanding[0]})
    return _render_conversation(request, conversation, status=400, status_form=form)


@login_required
@require_POST
def conversation_intent(request, pk):
    conversation = _visible(request, pk)
    form = IntentForm(request.POST)
    return _act(request, conversation, form, "intent_form", lambda d: services.conversation_set_intent(
        actor=request.user, conversation=conversation, intent=d["intent"]),
        _("Intent corrected: thank you, the triage learns from it."))


@login_required
@require_POST
def conversation_route(request, pk):
    conversation = _visible(request, pk)
    form = RouteForm(request.POST)
    outcome = submit(form, lambda d: services.conversation_route(
        actor=request.user, conversation=conversation, department=d["department"], reason=d["reason"]))
    if not outcome.ok:
        return _render_conversation(request, conversation, status=400, route_form=form)
    previous = getattr(outcome.value, "previous_assignee", None)
    if previous is not None and previous.pk != request.user.pk:
        messages.success(request, _("Moved to another queue. %(who)s is not in it, so it is no longer theirs; "
                                    "they have been told.") % {"who": previous})
    else:
        messages.success(request, _("Moved to another queue."))
    if not can_view_conversation(request.user, conversation):
        return redirect("inbox:list")  # it left the queues I see
    return _back(request, conversation)


@login_required
@require_POST
def note_add(request, pk):
    conversation = _visible(request, pk)
    form = NoteForm(request.POST)
    outcome = submit(form, lambda d: services.note_add(actor=request.user, conversation=conversation,
                                                       body=d["body"]))
    if not outcome.ok:
        return _render_conversation(request, conversation, status=400, note_form=form)
    note = outcome.value
    messages.success(request, _("Note added."))
    if note.not_notified:
        messages.warning(request, _("%(names)s cannot see this conversation and %(verb)s not notified.") % {
            "names": ", ".join(f"@{name}" for name in note.not_notified),
            "verb": _("was") if len(note.not_notified) == 1 else _("were")})
    if note.unknown_mentions:
        messages.warning(request, _("Nobody was notified for %(names)s: no active colleague has that username.")
                         % {"names": ", ".join(f"@{name}" for name in note.unknown_mentions)})
    return _back(request, conversation)


@login_required
@require_POST
def tag_add(request, pk):
    conversation = _visible(request, pk)
    form = TagForm(request.POST)
    return _act(request, conversation, form, "tag_form", lambda d: services.tag_add(
        actor=request.user, conversation=conversation, name=d["name"]), "")


@login_required
@require_POST
def tag_remove(request, pk):
    conversation = _visible(request, pk)
    form = TagRemoveForm(request.POST)
    if not form.is_valid():
        tag_form = TagForm(request.POST)
        tag_form.is_valid()
        tag_form.add_error(None, _("Say which tag to remove."))
        return _render_conversation(request, conversation, status=400, tag_form=tag_form)
    services.tag_remove(actor=request.user, conversation=conversation, name=form.cleaned_data["name"])
    return _back(request, conversation)


QUEUED_WHILE_RUNNER_DOWN = _lazy("Reply saved and queued: the task runner cannot be reached right now. It is sent "
                                  "automatically as soon as the runner is back.")


@login_required
@require_POST
def reply_submit(request, pk):
    conversation = _visible(request, pk)
    mode = reply_mode(request.user, conversation)
    if mode == "none":
        raise PermissionDenied(_("You have no right to draft or send replies on %(account)s.")
                               % {"account": conversation.account})
    form = ReplyForm(request.POST, account=conversation.account)
    outcome = submit(form, lambda d: services.reply_submit(
        actor=request.user, conversation=conversation, body=d["body"], client_token=d.get("client_token")))
    if not outcome.ok:
        token_errors = form.errors.get("client_token")
        if token_errors:
            # The token is a hidden field: say why at the top, and hand out a fresh one with the text kept,
            # so sending again makes a new reply.
            form = ReplyForm({"body": request.POST.get("body", ""), "client_token": str(uuid.uuid4())},
                             account=conversation.account)
            form.is_valid()
            form.add_error(None, list(token_errors))
        return _render_conversation(request, conversation, status=400, reply_form=form)
    reply = outcome.value
    if reply.replayed:
        messages.info(request, _("This reply was already sent: it was not sent twice.") if mode == "send" else _(
            "This reply was already submitted for approval: it was not submitted twice."))
    elif mode != "send" and (reply.needs_specialist or conversation.is_sensitive):
        messages.success(request, _("Sent for approval: this conversation is sensitive, so a specialist (%(team)s) "
                                    "must review it before it is sent.") % {"team": _specialist_team_names()})
    elif mode != "send":
        messages.success(request, _("Sent for approval: a colleague with the reply or approve right will review it."))
    elif reply.enqueue_failed:
        messages.warning(request, QUEUED_WHILE_RUNNER_DOWN)
    else:
        messages.success(request, _("Reply on its way to the channel."))
    return _back(request, conversation)


def _specialist_team_names() -> str:
    names = list(Department.objects.filter(is_specialist_team=True).order_by("name").values_list("name", flat=True))
    return ", ".join(names) or _("the specialist team")


@signed_in_poll
@require_GET
def reply_states(request, pk):
    """The replies block alone, for its live update: 204 when nothing
    changed since the version the page shows (``v``), else the block, which
    carries on asking only while a reply is pending or on its way. A fixed
    number of queries whatever the conversation's size."""
    conversation = get_object_or_404(conversations_visible_to(request.user).select_related("account"), pk=pk)
    since_text = request.GET.get("since", "")
    if not is_number(since_text):
        return HttpResponseBadRequest(_("since: a Unix time in seconds is needed."), content_type="text/plain")
    try:
        since = datetime.fromtimestamp(int(since_text), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return HttpResponseBadRequest(_("since: a Unix time in seconds is needed."), content_type="text/plain")
    next_url = request.GET.get("next", "")
    here = next_url if next_url.startswith("/inbox/") and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}) else reverse("inbox:conversation", args=[conversation.pk])
    replies = _replies_in_progress(request.user, conversation, since=since)
    live = _replies_live_context(conversation, replies, since=since, here=here)
    if request.GET.get("v") == live["replies_version"]:
        return HttpResponse(status=204)
    context = {"conversation": conversation, "c": conversation, "replies": replies, "here": here,
               "reply_mode": reply_mode(request.user, conversation), **live}
    return render(request, "inbox/_replies.html", context)


def _visible_reply(request, pk) -> Reply:
    return get_object_or_404(
        Reply.objects.select_related("conversation__account", "conversation__author", "conversation__assignee",
                                     "conversation__department", "conversation__account__service_window"),
        pk=pk, conversation__in=conversations_visible_to(request.user))


def _reply_action(request, reply, action, success):
    try:
        done = action()
    except ValidationError as exc:
        return _render_conversation(request, reply.conversation, status=400,
                                    reply_errors={reply.pk: exc.messages})
    if getattr(done, "enqueue_failed", False):
        messages.warning(request, QUEUED_WHILE_RUNNER_DOWN)
    else:
        messages.success(request, success)
    return _back(request, reply.conversation)


@login_required
@require_POST
def reply_approve(request, pk):
    reply = _visible_reply(request, pk)
    return _reply_action(request, reply, lambda: services.reply_approve(actor=request.user, reply=reply),
                         _("Reply approved and on its way."))


@login_required
@require_POST
def reply_return(request, pk):
    reply = _visible_reply(request, pk)
    form = ReturnForm(request.POST, auto_id=f"id_return{reply.pk}_%s")
    if form.is_valid():
        try:
            services.reply_return(actor=request.user, reply=reply, comment=form.cleaned_data["comment"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Reply returned to its author with your comment."))
            return _back(request, reply.conversation)
    elif not (can_view_conversation(request.user, reply.conversation) and can_approve_reply(request.user, reply)):
        raise PermissionDenied
    return _render_conversation(request, reply.conversation, status=400, return_form=form, return_reply_id=reply.pk)


@login_required
@require_POST
def reply_retry(request, pk):
    reply = _visible_reply(request, pk)
    return _reply_action(request, reply, lambda: services.reply_retry(actor=request.user, reply=reply),
                         _("Sending the reply again now."))


@signed_in_poll
@require_GET
def presence(request, pk):
    conversation = _visible(request, pk)
    state = "replying" if request.GET.get("state") == "replying" else "viewing"
    # Someone typing a reply is at work: their session must not run out under them.
    request._poll_keeps_session = state == "replying"
    services.presence_touch(user=request.user, conversation=conversation, state=state)
    others = services.presence_others(user=request.user, conversation=conversation)
    return render(request, "inbox/_presence.html", {"others": others, "conversation": conversation})


# --- saved replies ---------------------------------------------------------

@login_required
def saved_replies(request):
    form = SavedReplyForm(request.POST or None, user=request.user)
    if request.method == "POST" and submit(form, lambda d: services.saved_reply_create(
            actor=request.user, **d)).ok:
        messages.success(request, _("Saved reply added."))
        return redirect("inbox:saved-replies")
    context = {"form": form, "saved_replies": saved_replies_for(request.user)}
    if request.method == "POST":
        return render_invalid(request, "inbox/saved_replies.html", context)
    return render(request, "inbox/saved_replies.html", context)
