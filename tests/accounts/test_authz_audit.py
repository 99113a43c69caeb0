"""Failed authorisation is audited: who, which path, which object, why;
rate-limited per person so a scan cannot flood the log."""

from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import include, path
from rest_framework.decorators import api_view

from accounts import authz_audit
from accounts.roles import Role
from accounts.twofactor import ReauthRequired
from security.audit import verify_chain
from security.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def _owner_only(request, pk):
    raise PermissionDenied("Only the draft's author may edit it.")


def _needs_reauth(request):
    raise ReauthRequired("Confirm your password and authenticator code first.")


def _reset_link(request, uidb64, token):
    raise PermissionDenied("This link is not for you.")


def _forbidden_response(request):
    return HttpResponse("no", status=403)


@api_view(["POST"])
def _api_needs_reauth(request):
    raise ReauthRequired("Confirm your password and authenticator code first.")


urlpatterns = [
    path("probe/drafts/<int:pk>/", _owner_only, name="probe-draft"),
    path("probe/reauth/", _needs_reauth, name="probe-reauth"),
    path("probe/reset/<uidb64>/<token>/", _reset_link, name="probe-reset"),
    path("probe/forbidden/", _forbidden_response, name="probe-forbidden"),
    path("api/probe/reauth/", _api_needs_reauth, name="probe-api-reauth"),
    path("", include("socialops.urls")),
]


def denied():
    return list(AuditEvent.objects.filter(action=authz_audit.DENIED_ACTION).order_by("id"))


@pytest.fixture
def representative(make_member):
    """Holds no right that requires a second factor: the pages answer them directly."""
    return make_member(Role.DEPARTMENT_REPRESENTATIVE)


def test_denied_page_leaves_one_event_naming_user_path_and_reason(representative, client_for):
    response = client_for(representative).get("/audit/")
    assert response.status_code == 403
    [event] = denied()
    assert event.actor == representative and event.actor_name == representative.username
    assert event.target_type == "security:audit"
    assert event.after == {"path": "/audit/", "method": "GET", "view": "security:audit", "object": {},
                           "reason": "permission denied (no reason given)"}
    assert verify_chain().intact


def test_denied_page_names_the_object_and_the_reason(representative, client_for):
    response = client_for(representative).post("/probe/drafts/42/")
    assert response.status_code == 403
    [event] = denied()
    assert event.target_type == "probe-draft" and event.target_id == "42"
    assert event.after["object"] == {"pk": "42"} and event.after["method"] == "POST"
    assert event.after["reason"] == "Only the draft's author may edit it."


def test_denied_api_call_leaves_one_event(representative, api_for):
    response = api_for(representative).get("/api/audit-events/7/")
    assert response.status_code == 403
    [event] = denied()
    assert event.actor == representative
    assert event.after["path"] == "/api/audit-events/7/" and event.after["method"] == "GET"
    assert event.target_id == "7" and event.after["object"] == {"pk": "7"}
    assert event.after["reason"] == response.json()["detail"]


def test_reauth_required_is_audited_on_pages_and_in_the_api(representative, client_for):
    client = client_for(representative)
    page = client.get("/probe/reauth/")
    assert page.status_code == 302 and "/confirm-access/" in page["Location"]
    api = client.post("/api/probe/reauth/", {}, content_type="application/json")
    assert api.status_code == 403
    assert api.json() == {"detail": "Confirm your password and authenticator code first.", "code": "reauth_required"}
    events = denied()
    assert [(e.after["path"], e.after["reason"]) for e in events] == [
        ("/probe/reauth/", "Confirm your password and authenticator code first."),
        ("/api/probe/reauth/", "Confirm your password and authenticator code first."),
    ]


def test_a_plain_403_response_is_audited_too(representative, client_for):
    assert client_for(representative).get("/probe/forbidden/").status_code == 403
    [event] = denied()
    assert event.after["path"] == "/probe/forbidden/" and "403" in event.after["reason"]


def test_secrets_in_the_path_do_not_reach_the_log(representative, client_for):
    token = "c9x-4f1e2a9b7d6c5e4f3a2b"
    assert client_for(representative).get(f"/probe/reset/MTIz/{token}/").status_code == 403
    [event] = denied()
    assert token not in str(event.after) and "MTIz" not in str(event.after)
    assert event.after["path"] == "/probe/reset/[redacted]/[redacted]/"


def test_anonymous_refusals_are_not_audited(client, api_for):
    assert client.get("/audit/").status_code == 302  # to the login page
    assert api_for().get("/api/audit-events/").status_code == 401
    assert denied() == []


def test_allowed_requests_write_nothing(make_member, client_for):
    executive = make_member(Role.EXECUTIVE)
    assert client_for(executive).get("/audit/").status_code == 200
    assert denied() == []


def test_a_scan_of_100_denied_requests_leaves_at_most_the_limit_plus_one(representative, client_for, monkeypatch):
    clock = [1_800_000_000.0]  # the start of a window: WINDOW divides it
    monkeypatch.setattr(authz_audit, "_now", lambda: clock[0])
    client = client_for(representative)
    for n in range(100):
        assert client.get(f"/probe/drafts/{n}/").status_code == 403
    scan = AuditEvent.objects.filter(action__startswith="authz.")
    assert scan.count() <= authz_audit.LIMIT + 1
    assert len(denied()) == authz_audit.LIMIT
    # The window ends; the next allowed write first says how many were dropped.
    clock[0] += authz_audit.WINDOW
    assert client.get("/probe/drafts/100/").status_code == 403
    [suppressed] = AuditEvent.objects.filter(action=authz_audit.SUPPRESSED_ACTION)
    assert suppressed.actor == representative
    assert suppressed.after["dropped"] == 100 - authz_audit.LIMIT and suppressed.after["limit"] == authz_audit.LIMIT
    window_end = datetime.fromtimestamp(1_800_000_000 + authz_audit.WINDOW, tz=UTC)
    assert suppressed.after["window_end"] == window_end.isoformat()
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="authz.").order_by("-id")[:2]] == [
        authz_audit.DENIED_ACTION, authz_audit.SUPPRESSED_ACTION]
    assert verify_chain().intact


def test_the_limit_is_per_person(make_member, client_for, monkeypatch):
    monkeypatch.setattr(authz_audit, "_now", lambda: 1_800_000_000.0)
    scanner, bystander = make_member(), make_member()
    scanning = client_for(scanner)
    for n in range(authz_audit.LIMIT + 5):
        scanning.get(f"/probe/drafts/{n}/")
    client_for(bystander).get("/probe/drafts/1/")
    assert AuditEvent.objects.filter(action=authz_audit.DENIED_ACTION, actor=bystander).count() == 1


def test_hourly_task_reports_a_finished_window_once(representative, client_for, monkeypatch):
    from security.tasks import audit_checkpoint_task

    clock = [1_800_000_000.0]
    monkeypatch.setattr(authz_audit, "_now", lambda: clock[0])
    client = client_for(representative)
    for n in range(authz_audit.LIMIT + 3):
        client.get(f"/probe/drafts/{n}/")
    audit_checkpoint_task()
    assert not AuditEvent.objects.filter(action=authz_audit.SUPPRESSED_ACTION).exists()  # window still open
    clock[0] += authz_audit.WINDOW + 1
    audit_checkpoint_task()
    audit_checkpoint_task()
    [suppressed] = AuditEvent.objects.filter(action=authz_audit.SUPPRESSED_ACTION)
    assert suppressed.after["dropped"] == 3


def test_a_cache_outage_never_fails_the_request(representative, client_for, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(cache, "incr", down)
    monkeypatch.setattr(cache, "get", down)
    response = client_for(representative).get("/probe/drafts/5/")
    assert response.status_code == 403
    assert len(denied()) == 1  # recorded without the limit rather than lost


def test_an_audit_failure_never_turns_a_403_into_a_500(representative, client_for, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(authz_audit.audit, "record", broken)
    assert client_for(representative).get("/probe/drafts/5/").status_code == 403


def test_a_cache_outage_is_logged_once_a_minute_not_once_per_denial(representative, client_for, monkeypatch,
                                                                      caplog):
    from socialops import cache as socialops_cache

    def down(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    socialops_cache.reset_outage_reports()
    monkeypatch.setattr(cache, "incr", down)
    monkeypatch.setattr(cache, "get", down)
    client = client_for(representative)
    with caplog.at_level("WARNING"):
        for _ in range(5):
            assert client.get("/probe/drafts/5/").status_code == 403
    outage_lines = [r for r in caplog.records if "cache is unavailable" in r.getMessage()]
    assert len(outage_lines) == 1
    assert outage_lines[0].exc_info is None  # one line, no traceback
    assert len(denied()) == 5  # every denial still recorded
    socialops_cache.reset_outage_reports()
