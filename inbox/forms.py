"""Forms of the inbox pages: the list's filters (validated, so a bad value is
a 400 with the reason next to the field) and one small form per action."""

import uuid
from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, Membership, User
from security.permissions import active_department_ids
from security.selectors import accounts_visible_to
from socialops.dates import check_range

from .models import Conversation, Intent, Priority, SavedReply, Sentiment

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


class InboxFilterForm(forms.Form):
    """The list's filters, read from the query string."""

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
        if value.isdigit() and Department.objects.filter(pk=int(value)).exists():
            return value
        raise ValidationError(_("Unknown queue: use all, mine, unassigned, overdue or a department's number."))

    def clean_after(self):
        """The keyset cursor: ``<due ISO time or null>|<id>`` of the last row shown."""
        value = (self.cleaned_data.get("after") or "").strip()
        if not value:
            return None
        due_text, sep, id_text = value.rpartition("|")
        if not sep or not id_text.isdigit():
            raise ValidationError(_("This page link is broken: start again from the first page."))
        if due_text == "null":
            return None, int(id_text)
        try:
            due = datetime.fromisoformat(due_text)
        except ValueError:
            raise ValidationError(_("This page link is broken: start again from the first page."))
        if due.tzinfo is None:
            raise ValidationError(_("This page link is broken: start again from the first page."))
        check_range(due)
        return due, int(id_text)

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
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Never sent to the customer. Mention a colleague with @username."))


class TagForm(forms.Form):
    name = forms.CharField(label=_("Add a tag"), max_length=60)


class TagRemoveForm(forms.Form):
    name = forms.CharField(max_length=60)


class ReplyForm(forms.Form):
    """The composer. ``client_token`` is a fresh UUID each time the page
    renders the form (kept when a refused submit re-shows it): the key of
    one compose action, so a double click sends one reply."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_reply_%s")
        super().__init__(*args, **kwargs)

    body = forms.CharField(label=_("Your reply"), max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 5, "data-composer": "1"}))
    client_token = forms.UUIDField(required=False, initial=uuid.uuid4, widget=forms.HiddenInput)


class ReturnForm(forms.Form):
    comment = forms.CharField(label=_("What to change"), max_length=1000,
                              widget=forms.Textarea(attrs={"rows": 2}))


class SavedReplyPickForm(forms.Form):
    """The composer's no-JS fallback: ``?saved=<id>`` fills the reply in."""

    saved = forms.ModelChoiceField(label=_("Saved reply"), queryset=SavedReply.objects.none())

    def __init__(self, *args, queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["saved"].queryset = queryset


class SavedReplyForm(forms.Form):
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.none())
    title = forms.CharField(label=_("Title"), max_length=120)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 5}), max_length=5000)
    language = forms.CharField(label=_("Language"), max_length=8, required=False,
                               help_text=_("e.g. en, es, ro, id, da"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from accounts.selectors import is_admin

        departments = Department.objects.order_by("name")
        if not is_admin(user):
            departments = departments.filter(pk__in=active_department_ids(user))
        self.fields["department"].queryset = departments
