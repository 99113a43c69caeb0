"""The strategy register's page forms. They only shape input: every write
goes through ``strategy.services`` (via ``socialops.forms.submit``), which
checks rights and the rules and names the field it refuses."""

from datetime import UTC

from django import forms
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, Membership, User
from accounts.roles import Role
from security.models import SocialAccount
from socialops.dates import BoundedDateField, check_range

from . import kpis
from . import permissions as perms
from .models import Brand, ChannelPlan, Objective, Segment, Strategy, StrategyOwner
from .services import STATUS_TRANSITIONS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
CHECKBOXES = forms.CheckboxSelectMultiple


def _date(label, **kwargs):
    return BoundedDateField(label=label, widget=DATE, **kwargs)


def _members():
    """People with a role now: whom a strategy may name."""
    return User.objects.filter(is_active=True, memberships__in=Membership.objects.active()).distinct()


def _planners():
    return _members().filter(memberships__role__in=[Role.SOCIAL_MEDIA_MANAGER, Role.ADMIN]).distinct()


class RegisterFilterForm(forms.Form):
    brand = forms.ModelChoiceField(label=_("Brand"), queryset=Brand.objects.all(), required=False,
                                   empty_label=_("All brands"))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *Strategy.Status.choices])
    department = forms.ModelChoiceField(label=_("Owning department"), queryset=Department.objects.all(),
                                        required=False, empty_label=_("Any department"))
    review_due = forms.BooleanField(label=_("Review due"), required=False)


# --- the strategy itself ---------------------------------------------------------------

class StrategyCreateForm(forms.Form):
    brand = forms.ModelChoiceField(label=_("Brand"), queryset=Brand.objects.none())
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 4,
                                                                                           "dir": "auto"}))
    accountable = forms.ModelChoiceField(label=_("Accountable social media manager"), queryset=User.objects.none(),
                                         required=False, help_text=_("You, when left empty."))
    review_cadence_months = forms.IntegerField(label=_("Review every (months)"), min_value=1, max_value=24,
                                               initial=3, help_text=_("Quarterly by default."))

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        brands = Brand.objects.all()
        if Role.ADMIN not in perms._roles(actor):
            brands = brands.filter(managers=actor)
        self.fields["brand"].queryset = brands
        self.fields["accountable"].queryset = _planners()
        self.fields["title"].widget.attrs["dir"] = "auto"


class StrategyEditForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 4,
                                                                                           "dir": "auto"}))
    accountable = forms.ModelChoiceField(label=_("Accountable social media manager"), queryset=User.objects.none())
    review_cadence_months = forms.IntegerField(label=_("Review every (months)"), min_value=1, max_value=24)
    next_review_on = _date(_("Next review"), required=False)
    reason = forms.CharField(label=_("Why (kept with this version)"), max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["accountable"].queryset = _planners()
        self.fields["title"].widget.attrs["dir"] = "auto"


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"))
    reason = forms.CharField(label=_("Why (kept with this version)"), max_length=100)

    def __init__(self, *args, strategy, **kwargs):
        kwargs.setdefault("auto_id", "id_status_%s")
        super().__init__(*args, **kwargs)
        allowed = STATUS_TRANSITIONS[Strategy.Status(strategy.status)]
        self.fields["status"].choices = [(value, label) for value, label in Strategy.Status.choices
                                         if value in allowed]


class OwnerForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    department = forms.ModelChoiceField(label=_("For the department"), queryset=Department.objects.all())
    responsibility = forms.CharField(label=_("Answers for"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_owner_%s")
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _members().order_by("username")


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Why (kept with this version)"), max_length=100)


class ReviewForm(forms.Form):
    changes = forms.CharField(label=_("What the review changed"), widget=forms.Textarea(attrs={"rows": 3,
                                                                                            "dir": "auto"}),
                              help_text=_("Or why nothing needed to."))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_review_%s")
        super().__init__(*args, **kwargs)


class DecisionForm(forms.Form):
    title = forms.CharField(label=_("Decision"), max_length=200)
    decided_on = _date(_("Decided on"))
    decided_by = forms.ModelChoiceField(label=_("Decided by"), queryset=User.objects.none())
    rationale = forms.CharField(label=_("Why"), widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}))
    alternatives = forms.CharField(label=_("Alternatives considered, and why not"), required=False,
                                   widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_decision_%s")
        super().__init__(*args, **kwargs)
        self.fields["decided_by"].queryset = _members().order_by("username")


# --- parts: objectives, KPI values, segments, channel plans, campaigns, spend --------------

class _PartForm(forms.Form):
    """A part is owned: its owner is one of the strategy's current owners,
    any of them for the accountable SMM and admins, one's own otherwise."""

    owner = forms.ModelChoiceField(label=_("Owned by"), queryset=StrategyOwner.objects.none())
    key = "part"

    def __init__(self, *args, strategy: Strategy, actor, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.key}_%s")
        super().__init__(*args, **kwargs)
        self.strategy = strategy
        owners = strategy.owners.filter(ended_at__isnull=True).select_related("user", "department")
        if not perms.can_edit_strategy(actor, strategy):
            owners = owners.filter(user=actor)
        self.fields["owner"].queryset = owners
        if "accounts" in self.fields:
            self.fields["accounts"].queryset = strategy.brand.accounts.all()
        for name in ("title", "name"):
            if name in self.fields:
                self.fields[name].widget.attrs["dir"] = "auto"


class _ObjectiveFields(forms.Form):
    title = forms.CharField(label=_("Objective"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Objective.Kind.choices)
    category = forms.ChoiceField(label=_("Category"), choices=Objective.Category.choices)
    kpi = forms.ChoiceField(label=_("KPI"), choices=[("", _("Choose what it measures")), *kpis.CHOICES],
                            required=False, help_text=_("The portal computes inbox KPIs; others are entered by hand."))
    baseline = forms.DecimalField(label=_("Baseline"), max_digits=14, decimal_places=2, required=False)
    target = forms.DecimalField(label=_("Target"), max_digits=14, decimal_places=2, required=False)
    direction = forms.ChoiceField(label=_("Direction"), choices=Objective.Direction.choices)
    starts_on = _date(_("Starts on"))
    deadline = _date(_("Deadline"))
    accounts = forms.ModelMultipleChoiceField(label=_("Channels it covers"), queryset=SocialAccount.objects.none(),
                                              required=False, widget=CHECKBOXES,
                                              help_text=_("All the brand's channels when none is ticked."))


class ObjectiveForm(_PartForm, _ObjectiveFields):
    key = "objective"
    field_order = ["owner", "title", "kind", "category", "kpi", "baseline", "target", "direction", "starts_on",
                   "deadline", "accounts"]


class ObjectiveEditForm(_ObjectiveFields):
    reason = forms.CharField(label=_("Why (kept with this version)"), max_length=100)

    def __init__(self, *args, objective: Objective, **kwargs):
        kwargs.setdefault("auto_id", "id_objective_%s")
        super().__init__(*args, **kwargs)
        self.fields["accounts"].queryset = objective.strategy.brand.accounts.all()
        self.fields["title"].widget.attrs["dir"] = "auto"


class KpiValueForm(forms.Form):
    value = forms.DecimalField(label=_("Value"), max_digits=14, decimal_places=2)
    measured_on = _date(_("Measured on"))
    source = forms.CharField(label=_("Source"), max_length=200, help_text=_("e.g. Google Analytics"))


class SegmentForm(_PartForm):
    key = "segment"
    name = forms.CharField(label=_("Segment"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=Segment.Kind.choices)
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}))
    accounts = forms.ModelMultipleChoiceField(label=_("Channels that reach them"), required=False,
                                              queryset=SocialAccount.objects.none(), widget=CHECKBOXES)


class ChannelPlanForm(_PartForm):
    key = "plan"
    account = forms.ModelChoiceField(label=_("Channel"), queryset=SocialAccount.objects.none())
    rationale = forms.CharField(label=_("Why this channel for these segments"),
                                widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}))
    segments = forms.ModelMultipleChoiceField(label=_("Segments"), queryset=Segment.objects.none(), required=False,
                                              widget=CHECKBOXES)
    tone = forms.CharField(label=_("Tone, and the network's norms"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}))
    posts_per_week = forms.IntegerField(label=_("Posts per week"), min_value=0, max_value=200, initial=3)
    promised_coverage = forms.ChoiceField(label=_("Service it promises"), choices=ChannelPlan.Coverage.choices,
                                          initial=ChannelPlan.Coverage.BUSINESS_HOURS)
    budget = forms.DecimalField(label=_("Budget"), max_digits=14, decimal_places=2, min_value=0, initial=0)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="EUR")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = self.strategy.brand.accounts.all()
        self.fields["segments"].queryset = self.strategy.segments.all()

    def clean_currency(self):
        return self.cleaned_data["currency"].strip().upper()


class CampaignForm(_PartForm):
    key = "campaign"
    name = forms.CharField(label=_("Campaign"), max_length=200)
    objective = forms.ModelChoiceField(label=_("For the objective"), queryset=Objective.objects.none(),
                                       required=False)
    accounts = forms.ModelMultipleChoiceField(label=_("Channels"), required=False,
                                              queryset=SocialAccount.objects.none(), widget=CHECKBOXES)
    starts_on = _date(_("Starts on"))
    ends_on = _date(_("Ends on"))
    budget = forms.DecimalField(label=_("Budget"), max_digits=14, decimal_places=2, min_value=0)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="EUR")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["objective"].queryset = self.strategy.objectives.all()

    def clean_currency(self):
        return self.cleaned_data["currency"].strip().upper()


class SpendForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=2)
    currency = forms.CharField(label=_("Currency"), max_length=3)
    spent_on = _date(_("Spent on"))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def clean_currency(self):
        return self.cleaned_data["currency"].strip().upper()


# --- versions --------------------------------------------------------------------------

class CompareForm(forms.Form):
    """Two moments of the document, as ISO 8601 instants; ``to`` after ``from``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword: the fields are added by name.
        self.fields["from"] = forms.CharField(label=_("From"))
        self.fields["to"] = forms.CharField(label=_("To"))

    def _moment(self, name):
        try:
            value = parse_datetime((self.cleaned_data.get(name) or "").strip())
        except ValueError:
            value = None
        if value is None:
            self.add_error(name, _("An ISO 8601 date and time, e.g. 2026-11-30T10:00:00+00:00."))
            return None
        try:
            return check_range(value if value.tzinfo else value.replace(tzinfo=UTC))
        except forms.ValidationError as exc:
            self.add_error(name, exc)
            return None

    def clean(self):
        super().clean()
        moments = {name: self._moment(name) for name in ("from", "to") if name not in self.errors}
        if moments.get("from") and moments.get("to") and moments["to"] <= moments["from"]:
            self.add_error("to", _("Must come after “from”: choose the earlier version on the left."))
        self.moments = moments
        return self.cleaned_data



# --- brands ------------------------------------------------------------------------------

def _active_accounts():
    return SocialAccount.objects.filter(status=SocialAccount.Status.ACTIVE)


def _social_media_managers():
    """Active people holding the social media manager role now."""
    return User.objects.filter(
        is_active=True, memberships__in=Membership.objects.active().filter(role=Role.SOCIAL_MEDIA_MANAGER)).distinct()


class BrandForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    slug = forms.SlugField(label=_("Slug"), max_length=50, help_text=_("Letters, digits and hyphens, e.g. acme."))
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}))
    accounts = forms.ModelMultipleChoiceField(label=_("Social accounts"), queryset=SocialAccount.objects.none(),
                                              required=False, widget=CHECKBOXES,
                                              help_text=_("The organisation's active channels."))
    managers = forms.ModelMultipleChoiceField(label=_("Managers"), queryset=User.objects.none(), required=False,
                                              widget=CHECKBOXES,
                                              help_text=_("Social media managers who plan this brand's strategies; "
                                                          "a social media manager who creates a brand manages it."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["accounts"].queryset = _active_accounts()
        self.fields["managers"].queryset = _social_media_managers().order_by("username")
        self.fields["name"].widget.attrs["dir"] = "auto"


class BrandEditForm(forms.Form):
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}))
    accounts = forms.ModelMultipleChoiceField(label=_("Social accounts"), queryset=SocialAccount.objects.none(),
                                              required=False, widget=CHECKBOXES,
                                              help_text=_("The organisation's active channels."))
    managers = forms.ModelMultipleChoiceField(label=_("Managers"), queryset=User.objects.none(), required=False,
                                              widget=CHECKBOXES)
    reason = forms.CharField(label=_("Why (kept with this version)"), max_length=100)

    def __init__(self, *args, brand: Brand, **kwargs):
        super().__init__(*args, **kwargs)
        # The brand's own accounts and managers stay listed (ticked) even when no longer active, so an edit
        # never drops them unseen; the service refuses adding inactive ones.
        self.fields["accounts"].queryset = SocialAccount.objects.filter(
            Q(status=SocialAccount.Status.ACTIVE) | Q(pk__in=brand.accounts.values("pk"))).distinct()
        self.fields["managers"].queryset = User.objects.filter(
            Q(pk__in=_social_media_managers().values("pk")) | Q(pk__in=brand.managers.values("pk"))
        ).order_by("username")
