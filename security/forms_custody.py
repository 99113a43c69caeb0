"""Forms of the custody pages: custodians, credentials, reveals, break-glass
and TOTP setup. Secret inputs never render their value back."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from .models import Credential


def _password_input(autocomplete: str = "off") -> forms.PasswordInput:
    # render_value=False: a re-shown form never carries the secret back to the browser.
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": autocomplete})


def _otp_field() -> forms.CharField:
    return forms.CharField(
        label=_("Authenticator code (TOTP)"), max_length=8, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "pattern": "[0-9]*", "size": "8"}),
    )


class CustodianAddForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.filter(is_active=True).order_by("username"))


class CredentialSetForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Credential.Kind.choices)
    label = forms.CharField(label=_("Label (optional)"), max_length=200, required=False,
                            help_text=_("Tells apart two credentials of the same kind, e.g. 'primary'."))
    # strip=False: the vault must hold exactly what the platform expects.
    secret = forms.CharField(label=_("Secret"), strip=False, widget=_password_input())
    secret_confirm = forms.CharField(label=_("Secret again"), strip=False, widget=_password_input(),
                                     help_text=_("The secret is never shown again here: type or paste it twice."))

    def clean(self):
        data = super().clean()
        if data.get("secret") and data.get("secret_confirm") is not None and \
                data.get("secret") != data.get("secret_confirm"):
            self.add_error("secret_confirm", _("The two entries differ."))
        return data


class RevealRequestForm(forms.Form):
    reason = forms.CharField(label=_("Why is the secret needed? (on record)"), max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class RevealDecisionForm(forms.Form):
    # Sent by the button pressed: <button name="decision" value="approve">.
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    note = forms.CharField(label=_("Note (optional, on record)"), max_length=500, required=False)


class RevealCancelForm(forms.Form):
    reason = forms.CharField(label=_("Why cancel? (optional)"), max_length=500, required=False)


class RevealPerformForm(forms.Form):
    password = forms.CharField(label=_("Your password"), strip=False, widget=_password_input("current-password"))
    otp_token = _otp_field()


class BreakGlassForm(forms.Form):
    reason = forms.CharField(label=_("The emergency (on record, sent to every custodian and admin)"),
                             max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
    password = forms.CharField(label=_("Your password"), strip=False, widget=_password_input("current-password"))
    otp_token = _otp_field()


class TOTPConfirmForm(forms.Form):
    """Enrolling an authenticator asks for the password as well: a stolen
    session alone cannot attach the thief's phone."""

    password = forms.CharField(label=_("Your password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    otp_token = _otp_field()
