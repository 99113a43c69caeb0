"""The post pages' forms. They only shape input: every write goes through ``strategy.services.posts``, which
checks rights and rules again and names the field it refuses (``apply_post_errors`` puts that message next to
the composer's field).

Times are typed in a zone (the author's for a new post, the post's own on edit) and turned into an aware
datetime here: at a daylight-saving change a time that does not exist is refused, and a time that happens twice
is taken as the first of the two (said in the help text and after saving)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from security.models import Capability, SocialAccount
from security.permissions import has_capability

from .models import Campaign, Objective, Post, PostMedia, Strategy
from .services.posts import validate_image

MEDIA_SLOTS = (1, 2, 3, 4)
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def zone_of(user) -> str:
    """The zone a person types times in: their own, else the portal's."""
    name = getattr(user, "time_zone", "") or settings.TIME_ZONE
    try:
        ZoneInfo(name)
    except (ValueError, KeyError):
        return settings.TIME_ZONE
    return name


def local_to_aware(day: date, at: time, zone: str) -> tuple[datetime, bool]:
    """``day`` at ``at`` on the wall clock of ``zone``, as an aware datetime, and whether that wall-clock time
    happened twice (a daylight-saving change back: the first of the two is taken). Raises ValidationError when
    the time does not exist there (the clocks jumped over it)."""
    tz = ZoneInfo(zone)
    naive = datetime.combine(day, at.replace(second=0, microsecond=0))
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    try:
        round_trip = first.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None)
    except OverflowError:  # year 1 or 9999 and an offset that leaves the calendar
        raise ValidationError(gettext("Choose a date in the next two years.")) from None
    if round_trip != naive:
        raise ValidationError(gettext(
            "%(time)s does not exist on %(day)s in %(zone)s: the clocks jump forward at that hour. Choose "
            "another time.") % {"time": at.strftime("%H:%M"), "day": day.isoformat(), "zone": zone})
    return first, first.utcoffset() != second.utcoffset()


def draftable_accounts(user) -> list[SocialAccount]:
    """The active accounts ``user`` may draft on now (the composer's checkboxes)."""
    active = SocialAccount.objects.filter(status=SocialAccount.Status.ACTIVE).order_by("platform", "handle")
    return [a for a in active if has_capability(user, Capability.DRAFT, a)]


def _campaigns(current: Campaign | None):
    keep = Q(pk=current.pk) if current else Q(pk__in=[])
    return (Campaign.objects.filter(keep | ~Q(strategy__status=Strategy.Status.RETIRED))
            .select_related("strategy__brand").order_by("strategy__brand__name", "starts_on", "pk"))


def _objectives(current: Objective | None):
    keep = Q(pk=current.pk) if current else Q(pk__in=[])
    return (Objective.objects.filter(keep | ~Q(strategy__status=Strategy.Status.RETIRED))
            .select_related("strategy__brand").order_by("strategy__brand__name", "deadline", "pk"))


class BrandChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.strategy.brand}: {obj}"


class ComposerForm(forms.Form):
    """A new post, or a change to one (``post``): the text, where it goes, when, what it serves, its images."""

    text = forms.CharField(label=_("Text"), required=False, strip=False,
                           widget=forms.Textarea(attrs={"rows": 7, "dir": "auto", "data-composer-text": ""}))
    # Any account is accepted here so that a forged choice gets a clear refusal naming the account (clean_accounts)
    # rather than "not one of the choices"; the page lists only the accounts the person may draft on.
    accounts = forms.ModelMultipleChoiceField(label=_("Post on"), required=False,
                                              queryset=SocialAccount.objects.all(),
                                              widget=forms.CheckboxSelectMultiple)
    scheduled_date = forms.DateField(label=_("Date"), required=False, widget=DATE)
    scheduled_time = forms.TimeField(label=_("Time"), required=False, widget=TIME)
    campaign = BrandChoiceField(label=_("Campaign"), required=False, queryset=Campaign.objects.none(),
                                empty_label=_("No campaign"))
    objective = BrandChoiceField(label=_("Objective"), required=False, queryset=Objective.objects.none(),
                                 empty_label=_("No objective (or the campaign's)"))
    labels = forms.CharField(label=_("Labels"), required=False, max_length=500,
                             help_text=_("Separated by commas, e.g. winter, opening hours."))
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Post.Visibility.choices, required=False,
                                   initial=Post.Visibility.PUBLIC,
                                   help_text=_("Who sees it where the platform offers a choice (Mastodon)."))
    sensitive = forms.BooleanField(label=_("Sensitive: needs a second approval from the specialist team or an "
                                           "executive"), required=False)
    remove_media = forms.ModelMultipleChoiceField(label=_("Remove images"), required=False,
                                                  queryset=PostMedia.objects.none(),
                                                  widget=forms.CheckboxSelectMultiple)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput, label=_("Version"))

    def __init__(self, *args, user, post: Post | None = None, zone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.post, self.zone = user, post, zone
        self.ambiguous_time = False
        self.fields["campaign"].queryset = _campaigns(post.campaign if post else None)
        self.fields["objective"].queryset = _objectives(post.objective if post else None)
        self.fields["scheduled_time"].help_text = _(
            "In %(zone)s. At a daylight-saving change, a time that does not exist is refused and a time that "
            "happens twice is taken as the first of the two.") % {"zone": zone}
        for n in MEDIA_SLOTS:
            self.fields[f"media_{n}"] = forms.FileField(
                label=_("Image %(n)s") % {"n": n}, required=False,
                widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"}),
                help_text=_("JPEG, PNG, GIF or WebP, at most 8 MB.") if n == 1 else "")
            self.fields[f"alt_{n}"] = forms.CharField(
                label=_("Alt text for image %(n)s") % {"n": n}, required=False, max_length=1500,
                widget=forms.TextInput(attrs={"dir": "auto"}),
                help_text=_("What the image shows, for people who cannot see it.") if n == 1 else "")
        if post is not None:
            self.fields["remove_media"].queryset = post.media.order_by("position", "pk")
        else:
            del self.fields["remove_media"]
            del self.fields["version"]

    # --- shaping ---------------------------------------------------------------------------------------------

    def clean_accounts(self):
        accounts = list(self.cleaned_data.get("accounts") or [])
        kept = {a.pk for a in self.post.accounts.all()} if self.post else set()
        lacking = [a for a in accounts if a.pk not in kept and not has_capability(self.user, Capability.DRAFT, a)]
        if lacking:
            raise ValidationError(gettext("You may not draft posts for %(accounts)s.")
                                  % {"accounts": ", ".join(str(a) for a in lacking)})
        return accounts

    def clean_labels(self):
        return [label.strip() for label in (self.cleaned_data.get("labels") or "").split(",") if label.strip()]

    def clean(self):
        data = super().clean()
        day, at = data.get("scheduled_date"), data.get("scheduled_time")
        data["scheduled_at"] = None
        if "scheduled_date" in self.errors or "scheduled_time" in self.errors:
            return data
        if day and not at:
            self.add_error("scheduled_time", gettext("Give the time too, or leave both empty to schedule later."))
        elif at and not day:
            self.add_error("scheduled_date", gettext("Give the date too, or leave both empty to schedule later."))
        elif day and at:
            try:
                data["scheduled_at"], self.ambiguous_time = local_to_aware(day, at, self.zone)
            except ValidationError as exc:
                self.add_error("scheduled_time", exc)
        media = []
        for n in MEDIA_SLOTS:
            upload, alt = data.get(f"media_{n}"), data.get(f"alt_{n}") or ""
            if not upload:
                if alt.strip():
                    self.add_error(f"media_{n}", gettext("Choose the image this alt text describes."))
                continue
            try:
                validate_image(upload, alt)  # the service checks again when it stores the image
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    self.add_error(f"alt_{n}" if key == "alt_text" else f"media_{n}", messages)
                continue
            media.append((upload, alt))
        data["media"] = media
        return data

    # --- what the service gets -------------------------------------------------------------------------------

    def create_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"text": data["text"], "accounts": data["accounts"], "scheduled_at": data["scheduled_at"],
                "time_zone": self.zone, "campaign": data["campaign"], "objective": data["objective"],
                "labels": data["labels"], "sensitive": data["sensitive"], "media": data["media"],
                **({"visibility": data["visibility"]} if data.get("visibility") else {})}

    def update_kwargs(self) -> dict:
        """The changes for ``post_update``: the time only when it moved (an unchanged time that has passed, on a
        failed post, is not refused for having passed)."""
        data, post = self.cleaned_data, self.post
        changes = {"text": data["text"], "accounts": data["accounts"], "campaign": data["campaign"],
                   "objective": data["objective"], "labels": data["labels"], "sensitive": data["sensitive"]}
        if data["scheduled_at"] != _minute(post.scheduled_at):
            changes["scheduled_at"] = data["scheduled_at"]
        if data.get("visibility") and data["visibility"] != post.visibility:
            changes["visibility"] = data["visibility"]
        if data["media"]:
            changes["media"] = data["media"]
        if data.get("remove_media"):
            changes["remove_media"] = [m.pk for m in data["remove_media"]]
        return changes

    def media_field_with_upload(self) -> str:
        for n in MEDIA_SLOTS:
            if self.cleaned_data.get(f"media_{n}"):
                return f"media_{n}"
        return "media_1"


def _minute(value: datetime | None) -> datetime | None:
    return value.replace(second=0, microsecond=0) if value else None


# The service names these fields; the composer shows them here.
SERVICE_FIELDS = {"scheduled_at": "scheduled_time", "time_zone": "scheduled_time", "reason": None,
                  "state": None, "version": None}


def apply_post_errors(form: ComposerForm, exc: ValidationError) -> None:
    """Puts a post service's refusal next to the composer's field it is about."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, messages in exc.message_dict.items():
        if key == "media":
            field = form.media_field_with_upload()
        elif key == "alt_text":
            field = "alt_1"
        else:
            field = SERVICE_FIELDS.get(key, key)
        form.add_error(field if field in form.fields else None, messages)


def initial_for(post: Post, zone: str) -> dict:
    """The composer's values for an existing post, its time on the wall clock of ``zone``."""
    initial = {"text": post.text, "accounts": [t.account_id for t in post.targets.all()],
               "campaign": post.campaign_id, "objective": post.objective_id, "labels": ", ".join(post.labels),
               "visibility": post.visibility, "sensitive": post.marked_sensitive, "version": post.version}
    if post.scheduled_at:
        local = post.scheduled_at.astimezone(ZoneInfo(zone))
        initial.update(scheduled_date=local.date(), scheduled_time=local.time().replace(second=0, microsecond=0))
    return initial


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("What to change"), max_length=500, required=False,
                             widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}))


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Comment"), max_length=2000, required=False,
                           widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}))


class ByHandForm(forms.Form):
    url = forms.CharField(label=_("Address of the post on the platform"), max_length=1000, required=False,
                          widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}))
