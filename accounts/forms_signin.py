"""Forms of the sign-in pages: the second-factor step, confirm access,
API tokens, password reset with the second factor, admin actions on a
person's sign-in."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext_lazy as _

from . import twofactor


def otp_field(required=True):
    return forms.CharField(
        label=_("Authenticator code"), max_length=32, required=required,
        help_text=_("The 6 digits your authenticator app shows now, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}))


def password_field():
    return forms.CharField(label=_("Your password"), strip=False,
                           widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class SecondFactorForm(forms.Form):
    otp_token = otp_field()


class ConfirmAccessForm(forms.Form):
    password = password_field()
    otp_token = otp_field(required=False)


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("Where it is used, e.g. 'reporting script'."))
    expires_in_days = forms.IntegerField(label=_("Expires in (days)"), min_value=1,
                                         max_value=settings.SOCIALOPS_TOKEN_MAX_DAYS,
                                         initial=settings.SOCIALOPS_TOKEN_DEFAULT_DAYS)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])


class SetPasswordWithSecondFactorForm(SetPasswordForm):
    """The reset link proves the mailbox; the second factor still proves the
    person, when they have or need one."""

    otp_token = otp_field()

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        if not twofactor.second_factor_needed(user) or not twofactor.has_confirmed_device(user):
            del self.fields["otp_token"]

    def clean_otp_token(self):
        code = self.cleaned_data.get("otp_token", "")
        if twofactor.verify_code(self.user, code) is None:
            raise forms.ValidationError(_("The authenticator code is not correct or has been used."))
        return code
