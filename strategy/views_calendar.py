"""The content calendar's pages: month, week and list views of the posts the viewer may see, and the move
endpoint the drag and drop and its keyboard alternative post to. Thin: the grid is ``strategy.calendar_view``,
every move goes through ``services.posts.post_reschedule``."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import ExtractHour, RowNumber, TruncDate
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Department
from security.models import SocialAccount
from socialops.api import DENIED_REASON_ATTR

from . import calendar_view as cal
from .models import Brand, Campaign, ChannelPlan, Post, PostTarget, Strategy
from .reports import viewer_tz
from .selectors_posts import post_account_ids, posts_visible_to, sees_all_posts, with_related
from .services.posts import post_reschedule

NAV = {"nav_current": "strategy:calendar"}
PAGE = "strategy/calendar/page.html"
FRAGMENT = "strategy/calendar/_calendar.html"
FILTERS = ("brand", "account", "campaign", "department", "state")


def can_use_calendar(user) -> bool:
    """The navigation entry: people who see every post, and people holding a post right on some account."""
    return bool(user.is_authenticated and (sees_all_posts(user) or post_account_ids(user)))


def _visible_accounts(user) -> QuerySet:
    accounts = SocialAccount.objects.exclude(status=SocialAccount.Status.RETIRED)
    if not sees_all_posts(user):
        accounts = accounts.filter(pk__in=post_account_ids(user))
    return accounts


def _reasonable_year(value):
    """Years the calendar can show (the grid steps weeks either side of the date): a 400, not an overflow."""
    if value is not None and not 2000 <= value.year <= 2100:
        raise ValidationError(_("Choose a date between the years 2000 and 2100."))


class CalendarFilterForm(forms.Form):
    view = forms.ChoiceField(label=_lazy("View"), required=False,
                             choices=[("month", _lazy("Month")), ("week", _lazy("Week")), ("list", _lazy("List"))])
    date = forms.DateField(label=_lazy("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                           input_formats=["%Y-%m-%d"], validators=[_reasonable_year])
    brand = forms.ModelChoiceField(label=_lazy("Brand"), queryset=Brand.objects.all(), required=False,
                                   empty_label=_lazy("All brands"),
                                   help_text=_lazy("Posts for any of the brand's accounts."))
    account = forms.ModelChoiceField(label=_lazy("Account"), queryset=SocialAccount.objects.none(), required=False,
                                     empty_label=_lazy("All accounts"))
    campaign = forms.ModelChoiceField(label=_lazy("Campaign"), queryset=Campaign.objects.none(), required=False,
                                      empty_label=_lazy("All campaigns"))
    department = forms.ModelChoiceField(
        label=_lazy("Department"), queryset=Department.objects.order_by("name"), required=False,
        empty_label=_lazy("All departments"),
        help_text=_lazy("Posts for the accounts linked to the department (its channels), whoever wrote them."))
    state = forms.ChoiceField(label=_lazy("State"), required=False,
                              choices=[("", _lazy("Any state")), *Post.State.choices])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        accounts = _visible_accounts(user)
        self.fields["account"].queryset = accounts
        campaigns = Campaign.objects.order_by("name")
        if not sees_all_posts(user):
            campaigns = campaigns.filter(Q(accounts__in=accounts) | Q(posts__author=user)).distinct()
        self.fields["campaign"].queryset = campaigns

    def query_string(self, **overrides) -> str:
        """The filters as chosen (valid ones), for the links to the previous and next month or week."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        params = {}
        for name in ("view", "date", *FILTERS):
            value = overrides.get(name, data.get(name))
            if value in (None, ""):
                continue
            params[name] = value.isoformat() if name == "date" else getattr(value, "pk", value)
        return urlencode(params)


def _in_range(user, rng: cal.Range, data: dict) -> QuerySet:
    posts = posts_visible_to(user).filter(scheduled_at__gte=rng.start_at, scheduled_at__lt=rng.end_at)
    if data.get("brand"):
        posts = posts.filter(pk__in=PostTarget.objects.filter(account__brands=data["brand"]).values("post_id"))
    if data.get("account"):
        posts = posts.filter(pk__in=PostTarget.objects.filter(account=data["account"]).values("post_id"))
    if data.get("department"):
        posts = posts.filter(pk__in=PostTarget.objects.filter(
            account__departments=data["department"]).values("post_id"))
    if data.get("campaign"):
        posts = posts.filter(campaign=data["campaign"])
    if data.get("state"):
        posts = posts.filter(state=data["state"])
    return posts


def _posts(user, rng: cal.Range, data: dict, view: str) -> tuple[list[Post], cal.Counts]:
    """Only the posts the page draws, with how many there are per day and per hour slot: a day cell's first
    ``MAX_PER_DAY`` and an hour slot's first ``MAX_PER_SLOT`` (picked in SQL with ``ROW_NUMBER()``), and the
    first ``LIST_LIMIT`` of the range for the list. A month of 10,000 posts loads a few hundred, in a fixed
    number of queries."""
    posts = _in_range(user, rng, data).order_by()
    day = TruncDate("scheduled_at", tzinfo=rng.tz)
    hour = ExtractHour("scheduled_at", tzinfo=rng.tz)
    by_day = dict(posts.annotate(d=day).values("d").annotate(n=Count("pk")).values_list("d", "n"))
    order = [F("scheduled_at").asc(), F("pk").asc()]
    ranked = posts.annotate(rank=Window(RowNumber(), partition_by=[day], order_by=order))
    wanted = set(ranked.filter(rank__lte=cal.MAX_PER_DAY).values_list("pk", flat=True))
    by_slot: dict = {}
    if view == "week":
        by_slot = {(d, h): n for d, h, n in posts.annotate(d=day, h=hour).values("d", "h").annotate(
            n=Count("pk")).values_list("d", "h", "n")}
        slots = posts.annotate(rank=Window(RowNumber(), partition_by=[day, hour], order_by=order))
        wanted |= set(slots.filter(rank__lte=cal.MAX_PER_SLOT).values_list("pk", flat=True))
    wanted |= set(posts.order_by("scheduled_at", "pk").values_list("pk", flat=True)[:cal.LIST_LIMIT])
    loaded = list(with_related(Post.objects.filter(pk__in=wanted)).order_by("scheduled_at", "id"))
    return loaded, cal.Counts(by_day=by_day, by_slot=by_slot, total=sum(by_day.values()))


def _shown_accounts(user, data: dict, posts: QuerySet, planned: dict[int, int]) -> QuerySet:
    """The channels the cadence guide and the service-hours marks are about: those the filters name, else those
    with a plan or a post in the range, among the accounts the viewer may see."""
    accounts = _visible_accounts(user)
    if data.get("account"):
        accounts = accounts.filter(pk=data["account"].pk)
    if data.get("brand"):
        accounts = accounts.filter(brands=data["brand"])
    if data.get("department"):
        accounts = accounts.filter(departments=data["department"])
    if not any(data.get(name) for name in ("account", "brand", "department")):
        accounts = accounts.filter(Q(pk__in=set(planned)) | Q(pk__in=PostTarget.objects.filter(
            post__in=posts.values("pk")).values("account_id")))
    return accounts


def _with_windows(accounts: QuerySet) -> list[SocialAccount]:
    return list(accounts.select_related("service_window").prefetch_related(
        "service_window__periods", "service_window__closures").order_by("platform", "handle").distinct())


def _planned() -> dict[int, int]:
    """Posts a week planned per account, from the channel plans of the active strategies."""
    planned: dict[int, int] = {}
    for account_id, per_week in ChannelPlan.objects.filter(strategy__status=Strategy.Status.ACTIVE).values_list(
            "account_id", "posts_per_week"):
        planned[account_id] = planned.get(account_id, 0) + per_week
    return planned


def _counted(user, rng: cal.Range, account_ids: list[int]) -> list[tuple]:
    """(account, time) of the posts that count toward the cadence, whatever the state or campaign filter."""
    if not account_ids:
        return []
    return list(PostTarget.objects.filter(
        account_id__in=account_ids, post__in=posts_visible_to(user), post__state__in=cal.COUNTED,
        post__scheduled_at__gte=rng.start_at, post__scheduled_at__lt=rng.end_at,
    ).values_list("account_id", "post__scheduled_at"))


def _detail_url_maker():
    """The post page's address for an id; empty while the posts pages are not installed."""
    try:
        sample = reverse("strategy:post-detail", args=[987654321])
    except NoReverseMatch:
        return lambda pk: ""
    return lambda pk: sample.replace("987654321", str(pk))


def _new_post_url(user) -> str:
    """The composer, for someone who may draft on some account (others would only meet a 403 there)."""
    from security.models import Capability
    from security.permissions import current_grants_for

    if not current_grants_for(user).filter(capability=Capability.DRAFT).exists():
        return ""
    try:
        return reverse("strategy:post-new")
    except NoReverseMatch:
        return ""


def _review_queue_url(user) -> str:
    """What waits for my approval, for someone who may approve on some account or reviews sensitive posts."""
    from security.models import Capability
    from security.permissions import current_grants_for

    from .services.posts import is_sensitive_reviewer

    if not (current_grants_for(user).filter(capability=Capability.APPROVE).exists() or is_sensitive_reviewer(user)):
        return ""
    try:
        return reverse("strategy:post-review-queue")
    except NoReverseMatch:
        return ""


def calendar_context(request, form: CalendarFilterForm, *, alert: str = "", notice: str = "") -> dict:
    """Everything the calendar region shows, for the valid ``form``."""
    user, tz = request.user, viewer_tz(request.user)
    data = form.cleaned_data
    today = timezone.localtime(timezone.now(), tz).date()
    view = data.get("view") or "month"
    rng = cal.range_for(view, data.get("date") or today, tz)
    posts, counts = _posts(user, rng, data, view)
    planned = _planned()
    shown_ids = set(_shown_accounts(user, data, _in_range(user, rng, data), planned).values_list("pk", flat=True))
    # One read for the shown channels and those of the posts (a post's chip warns about each of its channels).
    every = _with_windows(SocialAccount.objects.filter(
        pk__in=shown_ids | {t.account_id for p in posts for t in p.targets.all()}))
    accounts = [a for a in every if a.pk in shown_ids]
    shown_ids = [a.pk for a in accounts]
    hours = cal.OpenHours(every, rng.start_at, rng.end_at)
    detail_url = _detail_url_maker()
    chips = [cal.chip_for(p, tz, hours, detail_url(p.pk)) for p in posts]
    weeks = [rng.days[i] for i in range(0, len(rng.days), 7)]
    cadence = cal.cadence_by_week(accounts, planned, _counted(user, rng, shown_ids), weeks, tz)
    month_label = formats.date_format(rng.anchor, "F Y")
    context = {
        **NAV, "form": form, "view": view, "range": rng, "today": today, "chips": chips, "alert": alert,
        "notice": notice,
        "title": month_label if view != "week" else _("Week of %(day)s") % {
            "day": formats.date_format(rng.start, "j F Y")},
        "time_zone": str(tz), "accounts": accounts, "new_post_url": _new_post_url(user),
        "review_queue_url": _review_queue_url(user),
        "prev_query": form.query_string(date=rng.previous), "next_query": form.query_string(date=rng.next),
        "today_query": form.query_string(date=today), "query": form.query_string(),
        "move_url": reverse("strategy:calendar-move") + (f"?{form.query_string()}" if form.query_string() else ""),
        "view_queries": {v: form.query_string(view=v) for v in cal.VIEWS},
        "list_days": cal.list_days(chips, today), "list_hidden": max(0, counts.total - cal.LIST_LIMIT),
        "list_limit": cal.LIST_LIMIT,
        "weekday_names": [formats.date_format(d, "l") for d in rng.days[:7]],
    }
    if view == "month":
        context["rows"] = cal.month_rows(rng, chips, today, cadence, counts)
        for row in context["rows"]:
            for day in row.days:
                if day.more:
                    day.more_query = form.query_string(view="week", date=day.day)
    elif view == "week":
        context["days"] = cal.week_days(rng, chips, today, counts)
        context["hours"] = cal.week_hours(rng, chips, hours, shown_ids, counts)
        context["cadence"] = cadence.get(rng.start, [])
    else:
        context["rows"] = cal.month_rows(rng, [], today, cadence)
    return context


@login_required
@require_GET
def calendar_page(request):
    form = CalendarFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, PAGE, {**NAV, "form": form, "invalid": True}, status=400)
    return render(request, PAGE, calendar_context(request, form))


class MoveForm(forms.Form):
    post = forms.IntegerField(min_value=1)
    date = forms.DateField(label=_lazy("New date"), input_formats=["%Y-%m-%d"], validators=[_reasonable_year])
    time = forms.TimeField(label=_lazy("New time"), required=False, input_formats=["%H:%M", "%H:%M:%S"])


def _first_message(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return " ".join(m for messages_ in error.message_dict.values() for m in messages_)
    return " ".join(error.messages)


@login_required
@require_POST
def calendar_move(request):
    """Moves a post to another day (keeping its time of day for the viewer) or another day and time. Answers
    the calendar region again (htmx), or a redirect to the calendar; a refusal is a 400 or a 403 whose message
    is shown in the calendar's alert region."""
    filters = CalendarFilterForm(request.GET, user=request.user)
    if not filters.is_valid():
        return render(request, PAGE, {**NAV, "form": filters, "invalid": True}, status=400)
    form = MoveForm(request.POST)
    status, alert = 200, ""
    if not form.is_valid():
        status = 400
        alert = " ".join(f"{form.fields[name].label or name}: {' '.join(errors)}"
                         for name, errors in form.errors.items())
    else:
        post = posts_visible_to(request.user).filter(pk=form.cleaned_data["post"]).first()
        if post is None:
            raise Http404(_("No such post."))
        tz = viewer_tz(request.user)
        try:
            when = cal.moved_time(post, form.cleaned_data["date"], form.cleaned_data["time"], tz)
            post_reschedule(actor=request.user, post=post, scheduled_at=when)
        except ValidationError as error:
            status, alert = 400, _first_message(error)
        except PermissionDenied as error:
            status, alert = 403, str(error) or _("You may not move this post.")
            setattr(request, DENIED_REASON_ATTR, alert[:300])  # the refusal's reason, in the audit log
    notice = "" if status != 200 else _("Post moved to %(when)s.") % {
        "when": formats.date_format(when.astimezone(tz), "j F Y, H:i")}
    if request.headers.get("HX-Request"):
        return render(request, FRAGMENT, calendar_context(request, filters, alert=alert, notice=notice),
                      status=status)
    if status != 200:
        return render(request, PAGE, calendar_context(request, filters, alert=alert), status=status)
    messages.success(request, notice)
    query = filters.query_string()
    return redirect(reverse("strategy:calendar") + (f"?{query}" if query else ""))
