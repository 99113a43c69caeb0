from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from security.models import SocialAccount

from .models import Intent, Priority, RoutingRule, SensitiveTerm, Sentiment
from .settings_services import WEEKDAYS, routing_rule_name_check


class ServiceWindowForm(forms.Form):
    time_zone = forms.CharField(label=_("Time zone (IANA)"), max_length=64)
    always_open = forms.BooleanField(label=_("Answered 24/7"), required=False)
    holiday_country = forms.CharField(label=_("Public holidays of (country code)"), max_length=8, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for day in WEEKDAYS:
            self.fields[day] = forms.CharField(label=_(day.capitalize()), required=False, max_length=200,
                                               help_text=_("e.g. 09:00-13:00, 14:00-18:00; empty = closed"))


class ClosureForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("Closed from"),
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(label=_("until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        # Its own ids: the page also shows the service-hours form, and the error summary links by id.
        kwargs.setdefault("auto_id", "id_closure_%s")
        super().__init__(*args, **kwargs)


class SlaPolicyForm(forms.Form):
    intent = forms.ChoiceField(label=_("Intent"), choices=Intent.choices)
    account = forms.ModelChoiceField(label=_("Only for channel (optional)"), queryset=SocialAccount.objects.all(),
                                     required=False)
    first_response_minutes = forms.IntegerField(label=_("First response (service minutes)"), min_value=1,
                                                max_value=60 * 24 * 60)
    resolution_minutes = forms.IntegerField(label=_("Resolution (service minutes)"), min_value=1,
                                            max_value=60 * 24 * 365)


class TriageSettingsForm(forms.Form):
    influencer_followers = forms.IntegerField(label=_("Influencer from (followers)"), min_value=1)
    verified_is_influencer = forms.BooleanField(label=_("Verified authors are influencers"), required=False)
    default_department = forms.ModelChoiceField(label=_("Queue for unmatched conversations"),
                                                queryset=Department.objects.all(), required=False)


class SensitiveTermForm(forms.Form):
    language = forms.CharField(label=_("Language"), max_length=8, initial="en")
    category = forms.ChoiceField(label=_("Category"), choices=SensitiveTerm.Category.choices)
    term = forms.CharField(label=_("Term"), max_length=100)


class RoutingRuleForm(forms.ModelForm):
    intent = forms.ChoiceField(choices=[("", _("any"))] + list(Intent.choices), required=False)
    sentiment = forms.ChoiceField(choices=[("", _("any"))] + list(Sentiment.choices), required=False)
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int, initial=Priority.NORMAL)

    class Meta:
        model = RoutingRule
        fields = ["name", "position", "is_active", "intent", "keywords", "account", "language", "sentiment",
                  "department", "priority"]

    def clean_name(self):
        # On the field, in words; a name with an error is left out of the model's constraint check, so the
        # refusal is not repeated on top of the form.
        name = self.cleaned_data["name"]
        try:
            routing_rule_name_check(name, rule=self.instance)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["name"]) from None
        return name


class QueueAutoAssignForm(forms.Form):
    """One queue's round robin switch (a row of the triage page)."""

    department = forms.ModelChoiceField(label=_("Queue"), queryset=Department.objects.all(),
                                        widget=forms.HiddenInput)
    auto_assign = forms.BooleanField(label=_("round robin"), required=False)
