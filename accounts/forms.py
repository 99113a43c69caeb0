from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Department, User, Workgroup, validate_time_zone
from .roles import Role


class DepartmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    is_specialist_team = forms.BooleanField(label=_("Specialist team"), required=False)
    lead = forms.ModelChoiceField(label=_("Lead"), queryset=User.objects.filter(is_active=True), required=False)


class WorkgroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    supervisors = forms.ModelMultipleChoiceField(
        label=_("Supervisors (executives)"),
        queryset=User.objects.filter(
            is_active=True, memberships__role=Role.EXECUTIVE, memberships__ended_at__isnull=True
        ).distinct(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class MembershipForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.filter(is_active=True))
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.all())
    workgroup = forms.ModelChoiceField(
        label=_("Workgroup"), queryset=Workgroup.objects.all(), required=False,
        help_text=_("Leave empty only for organisation-wide roles (admin, executive)."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    ended_at = forms.DateTimeField(label=_("Ends at (optional)"), required=False,
                                   widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class PersonForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), help_text=_(
        "They get a one-time link here to choose their own password: nobody sets it for them."))
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, required=False,
                                validators=[validate_time_zone], help_text=_("IANA name, e.g. Europe/Madrid"))


class UnlockForm(forms.Form):
    # Sent by the "Unlock" button of a lockout row.
    username = forms.CharField(label=_("Username"), max_length=150, widget=forms.HiddenInput)

