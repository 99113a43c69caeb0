"""Forms of the inbox pages: the list's filters (validated, so a bad value is
a 400 with the reason next to the field) and one small form per action."""

import re
import uuid
from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, Membership, User
from security.permissions import active_department_ids
from security.selectors import accounts_visible_to
from socialops.dates import check_range
from socialops.text import is_number

from .limits import REPLY_HARD_MAX, reply_length, reply_length_problem, reply_limit
from .models import Conversation, Intent, Priority, SavedReply, Sentiment
from .selectors import SORT_DUE, SORT_NEWEST, SORT_OLDEST, SORT_PRIORITY, parse_cursor

SORT_CHOICES = [
    (SORT_DUE, _("Due time (soonest first)")),
    (SORT_NEWEST, _("Newest message first")),
    (SORT_OLDEST, _("Oldest message first")),
    (SORT_PRIORITY, _("Priority (highest first)")),
]
STATUS_FILTER_CHOICES = [
    ("open", _("Open (new, open, waiting)")),
    (Conversation.Status.NEW, Conversation.Status.NEW.label),
    (Conversation.Status.WAITING, Conversation.Status.WAITING.label),
    (Conversation.Status.RESOLVED, Conversation.Status.RESOLVED.label),
    (Conversation.Status.CLOSED, Conversation.Status.CLOSED.label),
    ("all", _("All")),
]
QUEUE_KEYWORDS = ("all", "mine", "unassigned", "overdue")
FLAG_TRUE = ("1", "on", "true", "yes")
FLAG_FALSE = ("", "0", "off", "false", "no")


class FlagInput(forms.CheckboxInput):
    """A checkbox that hands the raw value to its field, so ``overdue=banana``
    is refused instead of being read as yes."""

    def __init__(self, attrs=None):
        super().__init__(attrs, check_test=lambda v: str(v).lower() in FLAG_TRUE or v is True)

    def value_from_datadict(self, data, files, name):
        return data.get(name)

    def format_value(self, value):
        return "1"


class FlagField(forms.Field):
    widget = FlagInput

    def to_python(self, value):
        if value is None or value is False:
            return False
        if value is True:
            return True
        text = str(value).strip().lower()
        if text in FLAG_TRUE:
            return True
        if text in FLAG_FALSE:
            return False
        raise ValidationError(_("Use 1 to turn this filter on, or leave it out."), code="invalid")


class InstantField(forms.Field):
    """An ISO 8601 instant with its offset (``2026-11-01T00:00:00+01:00``),
    as an aware datetime. A ``+`` left unencoded in a link arrives as a
    space and is read back as the offset's sign."""

    widget = forms.HiddenInput
    default_error_messages = {
        "invalid": _("Use an ISO 8601 time with its offset, e.g. 2026-11-01T00:00:00+01:00."),
        "naive": _("Add the time zone offset, e.g. 2026-11-01T00:00:00+01:00 or 2026-11-01T00:00:00Z."),
    }

    def to_python(self, value):
        text = str(value or "").strip()
        if not text:
            return None
        if len(text) > 40:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if re.fullmatch(r"\S+T\S+ \d\d:?\d\d", text):
            text = text[:-6] + "+" + text[-5:] if text[-3] == ":" else text[:-5] + "+" + text[-4:]
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if moment.tzinfo is None:
            raise ValidationError(self.error_messages["naive"], code="naive")
        return check_range(moment)


class YesNoField(forms.Field):
    """A filter with three states: 1 (yes), 0 (no), absent (either)."""

    widget = forms.HiddenInput

    def to_python(self, value):
        text = str(value if value is not None else "").strip().lower()
        if not text:
            return None
        if text in ("1", "true", "yes"):
            return True
        if text in ("0", "false", "no"):
            return False
        raise ValidationError(_("Use 1 for yes or 0 for no, or leave it out."), code="invalid")


FIRST_RESPONSE_LATE, FIRST_RESPONSE_ON_TIME, FIRST_RESPONSE_UNANSWERED = "late", "on_time", "unanswered"
FIRST_RESPONSE_ANSWERED = "answered"
FIRST_RESPONSE_CHOICES = [
    (FIRST_RESPONSE_ANSWERED, _("Answered")),
    (FIRST_RESPONSE_LATE, _("Answered after its first-response target")),
    (FIRST_RESPONSE_ON_TIME, _("Answered within its first-response target")),
    (FIRST_RESPONSE_UNANSWERED, _("Not answered yet")),
]
# The ranges of the report's drill-down links, each half-open: [from, to).
DRILLDOWN_RANGES = (("opened_from", "opened_to"), ("arrived_from", "arrived_to"))


class DrilldownFilterForm(forms.Form):
    """The filters the reputation report's links add to the inbox list. The
    page (``InboxFilterForm``) and the API (``ConversationFilter``) read them
    with these fields and this ``clean``, so both accept the same values."""

    opened_from = InstantField(required=False, help_text=_("Opened at or after this instant."))
    opened_to = InstantField(required=False, help_text=_("Opened before this instant."))
    arrived_from = InstantField(required=False, help_text=_("A customer message arrived at or after this instant."))
    arrived_to = InstantField(required=False, help_text=_("A customer message arrived before this instant."))
    msg_sentiment = forms.ChoiceField(choices=Sentiment.choices, required=False, widget=forms.HiddenInput,
                                      help_text=_("A customer message with this sentiment."))
    outside_hours = FlagField(required=False, widget=forms.HiddenInput,
                              help_text=_("A customer message that arrived outside the channel's service hours."))
    tag = forms.CharField(required=False, max_length=60, widget=forms.HiddenInput,
                          help_text=_("Tagged with this tag (any case)."))
    influencer = FlagField(required=False, widget=forms.HiddenInput, help_text=_("Influencers only."))
    sensitive = FlagField(required=False, widget=forms.HiddenInput, help_text=_("Sensitive conversations only."))
    first_response = forms.ChoiceField(choices=FIRST_RESPONSE_CHOICES, required=False, widget=forms.HiddenInput)
    resolved = YesNoField(required=False, help_text=_("1: resolved; 0: not resolved."))
    breached = FlagField(required=False, widget=forms.HiddenInput,
                         help_text=_("1: an SLA target was missed (first response late, or a target passed)."))
    accounts = forms.CharField(required=False, max_length=600, widget=forms.HiddenInput,
                               help_text=_("Comma-separated channel ids: conversations on any of them "
                                           "(a brand's channels)."))

    def clean_accounts(self):
        value = (self.cleaned_data.get("accounts") or "").strip()
        if not value:
            return []
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if len(parts) > 100 or not all(is_number(p, max_digits=12) for p in parts):
            raise ValidationError(_("Give channel ids separated by commas (at most 100)."), code="invalid")
        return sorted({int(p) for p in parts})

    def clean(self):
        data = super().clean()
        for start, end in DRILLDOWN_RANGES:
            if data.get(start) and data.get(end) and data[start] >= data[end]:
                self.add_error(end, ValidationError(_("%(end)s must be later than %(start)s.")
                                                    % {"end": end, "start": start}, code="range"))
        return data


DRILLDOWN_FIELDS = tuple(DrilldownFilterForm.base_fields)


def drilldown_filters(data: dict) -> dict:
    """The cleaned drill-down values as ``selectors.InboxFilters`` arguments."""
    return {
        "opened_from": data.get("opened_from"), "opened_to": data.get("opened_to"),
        "arrived_from": data.get("arrived_from"), "arrived_to": data.get("arrived_to"),
        "msg_sentiment": data.get("msg_sentiment") or "", "outside_hours": bool(data.get("outside_hours")),
        "tag": (data.get("tag") or "").strip(), "influencer": bool(data.get("influencer")),
        "sensitive": bool(data.get("sensitive")), "first_response": data.get("first_response") or "",
        "resolved": data.get("resolved"), "breached": bool(data.get("breached")),
        "accounts": tuple(data.get("accounts") or ()),
    }


def drilldown_active(data: dict) -> bool:
    """Whether any of the report's own filters is on."""
    values = drilldown_filters(data)
    return any(v not in (None, "", False, ()) for v in values.values())


class InboxFilterForm(DrilldownFilterForm):
    """The list's filters, read from the query string (the report's drill-down ones included)."""

    status = forms.ChoiceField(label=_("Status"), choices=STATUS_FILTER_CHOICES, required=False)
    department = forms.ModelChoiceField(label=_("Queue"), queryset=Department.objects.order_by("name"),
                                        required=False, empty_label=_("Every queue I may see"))
    account = forms.ModelChoiceField(label=_("Channel"), queryset=None, required=False,
                                     empty_label=_("Every channel"))
    intent = forms.ChoiceField(label=_("Intent"), choices=[("", _("Any intent")), *Intent.choices], required=False)
    sentiment = forms.ChoiceField(label=_("Sentiment"), choices=[("", _("Any sentiment")), *Sentiment.choices],
                                  required=False)
    priority = forms.TypedChoiceField(label=_("Priority"), choices=[("", _("Any priority")), *Priority.choices],
                                      coerce=int, empty_value=None, required=False)
    overdue = FlagField(label=_("Overdue only"), required=False)
    mine = FlagField(label=_("Assigned to me"), required=False)
    unassigned = FlagField(label=_("Unassigned"), required=False)
    # The list's order; each one has an index (selectors.sort_conversations). Cleaned before ``after``.
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)
    queue = forms.CharField(required=False, widget=forms.HiddenInput, max_length=20)
    after = forms.CharField(required=False, widget=forms.HiddenInput, max_length=80)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts_visible_to(user).order_by("display_name", "handle")

    def clean_queue(self):
        """``queue`` is a shortcut: all, mine, unassigned, overdue or a department id."""
        value = (self.cleaned_data.get("queue") or "").strip()
        if not value or value in QUEUE_KEYWORDS:
            return value
        if is_number(value) and Department.objects.filter(pk=int(value)).exists():
            return value
        raise ValidationError(_("Unknown queue: use all, mine, unassigned, overdue or a department's number."))

    def clean_sort(self):
        return self.cleaned_data.get("sort") or SORT_DUE

    def clean_after(self):
        """The keyset cursor of the last row shown, in the form of the sort
        order (``selectors.keyset_cursor``), e.g. ``<due ISO time or null>|<id>``."""
        value = (self.cleaned_data.get("after") or "").strip()
        if not value:
            return None
        try:
            cursor = parse_cursor(value, self.cleaned_data.get("sort") or SORT_DUE)
        except ValueError:
            raise ValidationError(_("This page link is broken: start again from the first page."))
        for part in cursor:
            if isinstance(part, datetime):
                check_range(part)
        return cursor

    def is_filtered(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return any(data.get(name) for name in ("department", "account", "intent", "sentiment", "priority",
                                               "overdue", "mine", "unassigned", "queue")) or (
            data.get("status") not in (None, "", "open"))


def cursor_for(conversation) -> str:
    due = conversation.first_response_due_at
    return f"{due.isoformat() if due else 'null'}|{conversation.pk}"


# --- actions on a conversation ---------------------------------------------

class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Conversation.Status.choices)
    # "Resolve anyway": set by the confirmation shown when a reply is still pending, on its way or failed.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class IntentForm(forms.Form):
    intent = forms.ChoiceField(label=_("Correct the intent"), choices=Intent.choices)


def queue_members(conversation):
    """Active people of the conversation's department: whom it may be assigned to."""
    if not conversation.department_id:
        return User.objects.none()
    members = Membership.objects.active().filter(department_id=conversation.department_id).values("user_id")
    return User.objects.filter(is_active=True, pk__in=members).order_by("first_name", "last_name", "username")


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=User.objects.none(), required=False,
                                      empty_label=_("Nobody (back to the queue)"))

    def __init__(self, *args, conversation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = queue_members(conversation)


class RouteForm(forms.Form):
    department = forms.ModelChoiceField(label=_("Move to the queue of"), queryset=Department.objects.order_by("name"))
    reason = forms.CharField(label=_("Why (on record)"), max_length=300, required=False)


class NoteForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_note_%s")
        super().__init__(*args, **kwargs)

    body = forms.CharField(label=_("Internal note"), max_length=10_000,
                           widget=forms.Textarea(attrs={"rows": 3, "dir": "auto", "data-shortcut": "n",
                                                        "data-shortcut-label": _("Write an internal note")}),
                           help_text=_("Never sent to the customer. Mention a colleague with @username."))


class TagForm(forms.Form):
    name = forms.CharField(label=_("Add a tag"), max_length=60)


class TagRemoveForm(forms.Form):
    name = forms.CharField(max_length=60)


class ReplyForm(forms.Form):
    """The composer. ``client_token`` is a fresh UUID each time the page
    renders the form (kept when a refused submit re-shows it): the key of
    one compose action, so a double click sends one reply."""

    def __init__(self, *args, account=None, **kwargs):
        kwargs.setdefault("auto_id", "id_reply_%s")
        super().__init__(*args, **kwargs)
        self.account = account
        if account is not None:
            # No maxlength: the browser would cut typing silently. The counter warns, the server refuses.
            self.fields["body"].widget.attrs.update({
                "data-limit": str(reply_limit(account)), "data-platform": account.get_platform_display(),
                "aria-describedby": "reply-counter"})

    body = forms.CharField(label=_("Your reply"), widget=forms.Textarea(attrs={"dir": "auto",
        "rows": 5, "data-composer": "1", "data-shortcut": "r", "data-shortcut-label": _("Write a reply")}))
    client_token = forms.UUIDField(required=False, initial=uuid.uuid4, widget=forms.HiddenInput)

    def clean_body(self):
        body = self.cleaned_data["body"]
        problem = reply_length_problem(self.account, body) if self.account is not None else (
            _("A reply can have at most %(n)s characters.") % {"n": REPLY_HARD_MAX}
            if reply_length(body) > REPLY_HARD_MAX else "")
        if problem:
            raise ValidationError(problem, code="max_length")
        return body


class ReturnForm(forms.Form):
    comment = forms.CharField(label=_("What to change"), max_length=1000,
                              widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}))


class SavedReplyPickForm(forms.Form):
    """The composer's no-JS fallback: ``?saved=<id>`` fills the reply in."""

    saved = forms.ModelChoiceField(label=_("Saved reply"), queryset=SavedReply.objects.none())

    def __init__(self, *args, queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["saved"].queryset = queryset


class SavedReplyForm(forms.Form):
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.none())
    title = forms.CharField(label=_("Title"), max_length=120)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 5, "dir": "auto"}), max_length=5000)
    language = forms.CharField(label=_("Language"), max_length=8, required=False,
                               help_text=_("e.g. en, es, ro, id, da"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from accounts.selectors import is_admin

        departments = Department.objects.order_by("name")
        if not is_admin(user):
            departments = departments.filter(pk__in=active_department_ids(user))
        self.fields["department"].queryset = departments


# --- bulk actions on the list ---------------------------------------------

class BulkActionForm(forms.Form):
    """The list's bulk bar. ``ids`` are the checked rows; whom to assign to,
    which tag or queue go with their action. Rights are checked per
    conversation by the service, not here."""

    ACTION_CHOICES = [("resolve", _("Resolve")), ("assign", _("Assign to")), ("tag", _("Add tag")),
                      ("move", _("Move to queue"))]

    ids = forms.CharField(required=False)  # read from the list of checked rows in clean_ids
    action = forms.ChoiceField(label=_("Action"), choices=ACTION_CHOICES)
    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=User.objects.none(), required=False,
                                      empty_label=_("Nobody (back to the queue)"))
    tag = forms.CharField(label=_("Tag"), max_length=60, required=False)
    department = forms.ModelChoiceField(label=_("Queue"), queryset=Department.objects.order_by("name"),
                                        required=False, empty_label=_("Choose a queue"))

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("auto_id", "id_bulk_%s")
        super().__init__(*args, **kwargs)
        from accounts.selectors import is_admin

        # Whom to offer: the active members of the queues the user works in (every queue for those who see all).
        # The assign service still checks, per conversation, that the person is in that conversation's queue.
        members = Membership.objects.active()
        from .permissions import can_view_all

        if not (can_view_all(user) or is_admin(user)):
            members = members.filter(department_id__in=active_department_ids(user))
        self.fields["assignee"].queryset = User.objects.filter(
            is_active=True, pk__in=members.values("user_id")).order_by("first_name", "last_name", "username")

    def clean_ids(self):
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else self.data.get("ids") or []
        if isinstance(raw, str):
            raw = [raw]
        ids = []
        for value in raw:
            for part in str(value).replace(",", " ").split():
                if not is_number(part):
                    raise ValidationError(_("%(value)s is not a conversation number.") % {"value": part[:20]})
                ids.append(int(part))
        if not ids:
            raise ValidationError(_("Select at least one conversation."))
        return list(dict.fromkeys(ids))

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "tag" and not (data.get("tag") or "").strip():
            self.add_error("tag", _("Say which tag to add."))
        if action == "move" and not data.get("department"):
            self.add_error("department", _("Choose the queue to move them to."))
        return data
