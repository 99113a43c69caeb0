from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, User
from socialops.dates import BoundedDateField

from .models import Capability, Platform


class SocialAccountForm(forms.Form):
    platform = forms.ChoiceField(label=_("Platform"), choices=Platform.choices)
    handle = forms.CharField(label=_("Handle"), max_length=200)
    display_name = forms.CharField(label=_("Display name"), max_length=200, required=False)
    departments = forms.ModelMultipleChoiceField(label=_("Departments that use it"), queryset=Department.objects.all(),
                                                 required=False, widget=forms.CheckboxSelectMultiple)
    max_publishers = forms.IntegerField(label=_("Maximum publishers"), min_value=1, max_value=50, initial=3)
    rotation_days = forms.IntegerField(label=_("Rotate credentials every (days)"), min_value=1, max_value=3650,
                                       initial=90)


class SocialAccountEditForm(SocialAccountForm):
    status = forms.ChoiceField(label=_("Status"), choices=[("active", _("Active")), ("suspended", _("Suspended")),
                                                           ("retired", _("Retired"))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["platform"]
        del self.fields["handle"]


class GrantForm(forms.Form):
    capability = forms.ChoiceField(label=_("Right"), choices=Capability.choices)
    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.filter(is_active=True), required=False)
    department = forms.ModelChoiceField(label=_("or department (draft only)"), queryset=Department.objects.all(),
                                        required=False)
    expires_at = forms.DateTimeField(label=_("Until (optional)"), required=False,
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    allows_own_posts = forms.BooleanField(
        label=_("May publish their own posts without a second approval (publish only)"), required=False,
        help_text=_("Off by default: every post is approved by someone other than its author (four eyes)."))
    reason = forms.CharField(label=_("Reason (on record)"), max_length=500)

    def __init__(self, *args, actor=None, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        from accounts.models import Membership
        from accounts.selectors import workgroups_visible_to

        from .permissions import is_security_admin
        from .services.rights import grantable_capabilities

        if actor is not None and account is not None:
            # Offer only what the actor may grant here (grant_create enforces the same rule).
            grantable = {c.value for c in grantable_capabilities(actor, account)}
            self.fields["capability"].choices = [(v, label) for v, label in Capability.choices if v in grantable]
        if actor is not None and not is_security_admin(actor):
            # A channel's `manage` holder chooses among the people and departments of their own workgroups.
            members = Membership.objects.active().filter(workgroup__in=workgroups_visible_to(actor))
            self.fields["user"].queryset = User.objects.filter(is_active=True, pk__in=members.values("user_id"))
            self.fields["department"].queryset = Department.objects.filter(pk__in=members.values("department_id"))

    def clean(self):
        data = super().clean()
        if not data.get("user") and not data.get("department"):
            self.add_error("user", _("Choose a person or a department."))
        if data.get("user") and data.get("department"):
            self.add_error("department", _("Choose a person or a department, not both."))
        return data


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason (on record)"), max_length=500)


class TrainingRecordForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.filter(is_active=True))
    course = forms.CharField(label=_("Course"), max_length=200, initial="Social media training")
    completed_on = forms.DateField(label=_("Completed on"), widget=forms.DateInput(attrs={"type": "date"}))
    notes = forms.CharField(label=_("Notes"), max_length=500, required=False)


class OffboardForm(forms.Form):
    reason = forms.CharField(label=_("Reason (on record)"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(label=_("I understand this ends all of this person's access now."))


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("Actor"), required=False)
    action = forms.CharField(label=_("Action"), required=False)
    account = forms.IntegerField(label=_("Account id"), required=False, min_value=1)
    since = BoundedDateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = BoundedDateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            # An empty list would read as "nothing happened"; the range itself is what is wrong.
            self.add_error("until", _("The range ends (%(until)s) before it starts (%(since)s): choose an end "
                                      "date on or after the start date.") % {"until": until, "since": since})
        return data
