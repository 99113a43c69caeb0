from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from socialops import dashboard as dashboard_panels
from socialops.forms import submit
from socialops.views import render_invalid

from . import hooks, selectors, services
from .forms import DepartmentForm, MembershipForm, PersonForm, UnlockForm, WorkgroupForm
from .models import Department, Membership, User
from .permissions import can_manage_people


def _safe_next(request, fallback: str) -> str:
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return next_url
    return reverse(fallback)


def _require_admin(request):
    if not can_manage_people(request.user):
        raise PermissionDenied


@login_required
def dashboard(request):
    context = selectors.dashboard_for(request.user)
    context["panels"] = dashboard_panels.panels_for(request.user)
    return render(request, "accounts/dashboard.html", context)


@login_required
def notifications(request):
    if request.method == "POST":
        request.user.notifications.filter(read_at__isnull=True).update(read_at=timezone.now())
        return redirect("notifications")
    items = request.user.notifications.all()[:100]
    return render(request, "accounts/notifications.html", {"items": items})


@login_required
def workgroup_list(request):
    workgroups = selectors.workgroups_with_supervisors(selectors.workgroups_visible_to(request.user))
    return render(request, "accounts/workgroup_list.html", {"workgroups": workgroups,
                                                            "can_manage": can_manage_people(request.user)})


@login_required
def workgroup_detail(request, slug):
    workgroup = get_object_or_404(selectors.workgroups_visible_to(request.user), slug=slug)
    context = {
        "workgroup": workgroup,
        "supervisors": workgroup.supervisors.order_by("username"),
        "members_by_department": selectors.workgroup_members_by_department(workgroup),
        "single_department": selectors.workgroup_is_single_department(workgroup),
        "can_manage": can_manage_people(request.user),
        "membership_form": MembershipForm(initial={"workgroup": workgroup}),
    }
    return render(request, "accounts/workgroup_detail.html", context)


@login_required
def workgroup_form(request, slug=None):
    _require_admin(request)
    workgroup = None
    if slug:
        workgroup = get_object_or_404(selectors.workgroups_visible_to(request.user), slug=slug)
    if request.method == "POST":
        form = WorkgroupForm(request.POST)
        outcome = submit(form, lambda d: services.workgroup_update(actor=request.user, workgroup=workgroup, **d)
                         if workgroup else services.workgroup_create(actor=request.user, **d))
        if outcome.ok:
            messages.success(request, _("Workgroup saved."))
            return redirect("workgroup-detail", slug=outcome.value.slug)
        return render_invalid(request, "accounts/workgroup_form.html", {"form": form, "workgroup": workgroup})
    initial = {}
    if workgroup:
        initial = {"name": workgroup.name, "description": workgroup.description,
                   "supervisors": list(workgroup.supervisors.all())}
    return render(request, "accounts/workgroup_form.html", {"form": WorkgroupForm(initial=initial),
                                                            "workgroup": workgroup})


@login_required
def department_list(request):
    departments = selectors.departments_visible_to(request.user)
    return render(request, "accounts/department_list.html", {"departments": departments,
                                                             "can_manage": can_manage_people(request.user)})


@login_required
def department_form(request, slug=None):
    _require_admin(request)
    department = get_object_or_404(Department, slug=slug) if slug else None
    if request.method == "POST":
        form = DepartmentForm(request.POST)
        outcome = submit(form, lambda d: services.department_update(actor=request.user, department=department, **d)
                         if department else services.department_create(actor=request.user, **d))
        if outcome.ok:
            messages.success(request, _("Department saved."))
            return redirect("department-list")
        return render_invalid(request, "accounts/department_form.html", {"form": form, "department": department})
    initial = {}
    if department:
        initial = {"name": department.name, "description": department.description,
                   "is_specialist_team": department.is_specialist_team, "lead": department.lead}
    return render(request, "accounts/department_form.html", {"form": DepartmentForm(initial=initial),
                                                             "department": department})


def _people_context(**extra) -> dict:
    people = User.objects.prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.active().select_related("department", "workgroup"),
                 to_attr="active_memberships")
    ).order_by("-is_active", "first_name", "username")
    from axes.models import AccessAttempt

    lockouts = AccessAttempt.objects.order_by("-attempt_time")
    return {"people": people, "lockouts": lockouts, "form": PersonForm(), **extra}


@login_required
def people_list(request):
    _require_admin(request)
    return render(request, "accounts/people_list.html", _people_context())


@login_required
def person_create(request):
    _require_admin(request)
    form = PersonForm(request.POST or None)
    if request.method == "POST":
        outcome = submit(form, lambda d: services.user_create(actor=request.user, **d))
        if outcome.ok:
            from .signin import password_reset_send

            password_reset_send(actor=request.user, user=outcome.value, request=request)
            messages.success(request, _("%(user)s added and emailed a link to choose their password. Give them a "
                                        "role next.") % {"user": outcome.value})
            return redirect("person-detail", pk=outcome.value.pk)
        return render_invalid(request, "accounts/person_form.html", {"form": form})
    return render(request, "accounts/person_form.html", {"form": form})


@login_required
def person_detail(request, pk):
    _require_admin(request)
    person = get_object_or_404(User, pk=pk)
    memberships = person.memberships.select_related("department", "workgroup").order_by("-ended_at", "role")
    actions = [(label, reverse(url_name, args=[person.pk]), css) for label, url_name, css in hooks.PERSON_ACTIONS]
    from . import twofactor
    from .models import SecondFactorReset

    return render(request, "accounts/person_detail.html", {
        "person": person, "memberships": memberships, "actions": actions,
        "membership_form": MembershipForm(initial={"user": person}),
        "has_second_factor": twofactor.has_confirmed_device(person),
        "second_factor_reason": twofactor.requirement_reason(person),
        "resets": SecondFactorReset.objects.filter(user=person).select_related("requested_by", "decided_by")[:5],
    })


@login_required
@require_POST
def membership_add(request):
    _require_admin(request)
    form = MembershipForm(request.POST)
    outcome = submit(form, lambda d: services.membership_create(actor=request.user, **d))
    if outcome.ok:
        messages.success(request, _("Role given to %(user)s.") % {"user": outcome.value.user})
        return redirect(_safe_next(request, "people-list"))
    return render_invalid(request, "accounts/membership_form.html", {"form": form})


@login_required
@require_POST
def membership_end(request, pk):
    _require_admin(request)
    membership = get_object_or_404(Membership, pk=pk)
    services.membership_end(actor=request.user, membership=membership)
    messages.success(request, _("Role ended."))
    return redirect("person-detail", pk=membership.user_id)


@login_required
@require_POST
def unlock(request):
    _require_admin(request)
    form = UnlockForm(request.POST)
    if not form.is_valid():
        # The people page again, with the refusal in its error summary.
        return render_invalid(request, "accounts/people_list.html", _people_context(unlock_form=form))
    removed = services.user_unlock(actor=request.user, username=form.cleaned_data["username"])
    messages.success(request, _("Unlocked %(username)s (%(n)s lockout records cleared).")
                     % {"username": form.cleaned_data["username"], "n": removed})
    return redirect("people-list")
