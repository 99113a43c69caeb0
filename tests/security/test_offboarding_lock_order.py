"""Offboarding takes its locks in the order every other writer does: the
other apps' rows (the inbox's conversations) first, the audit chain's lock
after. A take-over locks the conversation, then audits; if offboarding took
the chain lock first, the two could deadlock on PostgreSQL."""

import pytest
from django.utils import timezone

from accounts.roles import Role
from security import services
from security.hooks import OFFBOARDING_HOOKS
from security.models import AuditEvent


@pytest.mark.django_db
def test_other_apps_steps_run_before_the_first_audit_write_and_are_still_recorded(admin_user, make_member,
                                                                                 monkeypatch):
    leaver = make_member(Role.COMMUNITY_MANAGER, username="leaver")
    seen = {}

    def probe_hook(*, actor, user, reason):
        seen["audit_events_at_call"] = AuditEvent.objects.count()
        seen["user_active_at_call"] = type(user).objects.get(pk=user.pk).is_active
        return "probe_step", {"rows": 3}

    monkeypatch.setattr("security.services.offboarding.OFFBOARDING_HOOKS", [*OFFBOARDING_HOOKS, probe_hook])
    before = AuditEvent.objects.count()

    report = services.offboard_user(actor=admin_user, user=leaver, reason="contract ended",
                                    reauthenticated_at=timezone.now())

    assert seen["audit_events_at_call"] == before  # nothing audited (no chain lock) before the hooks ran
    assert seen["user_active_at_call"] is False  # access already ended when they run
    assert report["probe_step"] == {"rows": 3}
    last = AuditEvent.objects.order_by("-pk").first()
    assert last.action == "offboard.probe_step"
    assert last.after["rows"] == 3
    assert report["release_inbox_work"] == {"conversations_returned_to_queue": 0}
