"""Human words for the audit log and the offboarding summary.

Every action code the portal writes has a sentence here, rendered from the
event's own data (names looked up in a fixed number of queries per page).
The sentences are plain text: templates escape them like any other value.
``tests/security/test_audit_words.py`` reads the source for every audit call
and fails when a code has no sentence here.
"""

import json
from collections.abc import Iterable

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Capability

L = gettext_lazy

# What each offboarding step did, from the numbers the step reports.
OFFBOARDING_STEPS = {
    "deactivate": L("Deactivated the account: they can no longer sign in."),
    "revoke_rights": L("Revoked their publishing rights (rights revoked: %(grants_revoked)s; object permissions "
                       "removed: %(object_permissions_deleted)s)."),
    "end_memberships": L("Ended their roles in workgroups and departments (roles ended: %(memberships_ended)s)."),
    "end_sessions": L("Signed them out everywhere (browser sessions ended: %(stored_sessions_deleted)s; API tokens "
                      "ended: %(tokens_deleted)s)."),
    "cancel_reveals": L("Cancelled their open requests to reveal a secret (requests cancelled: "
                        "%(reveal_requests_cancelled)s)."),
    "flag_revealed_credentials": L("Marked the credentials they had seen as due for rotation (credentials: "
                                   "%(credentials_due_for_rotation)s)."),
    "remove_custodianships": L("Removed them as custodian (accounts: %(custodianships_removed)s)%(at_risk_note)s."),
    "release_inbox_work": L("Returned their open conversations to their department's queue (conversations: "
                            "%(conversations_returned_to_queue)s)."),
}

# One sentence per audit action code; the actor is shown beside it. Placeholders come from the event:
# target, account, holder, user, department, assignee, capability and the keys of its data.
ACTION_SENTENCES = {
    # people and structure
    "department.create": L("Created the department %(target)s."),
    "department.update": L("Changed the department %(target)s: %(changes)s."),
    "workgroup.create": L("Created the workgroup %(target)s."),
    "workgroup.update": L("Changed the workgroup %(target)s: %(changes)s."),
    "membership.create": L("Gave a role: %(target)s."),
    "membership.end": L("Ended a role: %(target)s."),
    "user.create": L("Added %(target)s to the portal."),
    "user.unlock": L("Unlocked sign-in for %(target)s after too many failed attempts."),
    "admin.add": L("Added %(target)s in the Django admin."),
    "admin.change": L("Changed %(target)s in the Django admin."),
    "admin.delete": L("Deleted %(target)s in the Django admin."),
    # sign-in and sessions
    "auth.login": L("Signed in."),
    "auth.logout": L("Signed out."),
    "auth.login_failed": L("Failed to sign in as %(target)s."),
    "auth.second_factor": L("Confirmed the second sign-in factor."),
    "auth.second_factor_failed": L("Entered a wrong second-factor code."),
    "auth.password_change": L("Changed their password."),
    "auth.password_reset": L("Chose a new password with a reset link."),
    "auth.password_reset_sent": L("Sent a password reset link to %(target)s."),
    "auth.reauth": L("Confirmed their identity again for a sensitive action."),
    "auth.reauth_failed": L("Failed to confirm their identity again (%(reason_code)s)."),
    "auth.sessions_end": L("Ended every session and API token of %(target)s."),
    "authz.denied": L("Was refused access to %(target_type)s %(target_id)s."),
    "authz.denied_suppressed": L("Was refused access %(count)s more times (not logged one by one)."),
    "token.create": L("Created the API token %(target)s."),
    "token.revoke": L("Revoked the API token %(target)s."),
    "second_factor.recovery_codes": L("Made %(count)s new recovery codes."),
    "second_factor.reset_request": L("Asked to remove the second factor of %(target)s."),
    "second_factor.reset_approve": L("Approved removing the second factor of %(target)s."),
    "second_factor.reset_reject": L("Rejected removing the second factor of %(target)s."),
    "totp.confirm": L("Set up an authenticator app (%(target)s)."),
    # channels and rights
    "account.create": L("Added the channel %(target)s."),
    "account.update": L("Changed the channel %(target)s: %(changes)s."),
    "grant.create": L("Granted %(capability)s on %(account)s to %(holder)s."),
    "grant.revoke": L("Revoked %(target)s."),
    "training.record": L("Recorded a training: %(target)s."),
    # custody
    "custodian.add": L("Made %(user)s a custodian of %(account)s."),
    "custodian.remove": L("Removed a custodian: %(target)s."),
    "credential.create": L("Stored a new credential: %(target)s."),
    "credential.rotate": L("Rotated the credential %(target)s."),
    "reveal.request": L("Asked to reveal a secret: %(target)s."),
    "reveal.approve": L("Approved a reveal: %(target)s."),
    "reveal.reject": L("Rejected a reveal: %(target)s."),
    "reveal.cancel": L("Cancelled a reveal request: %(target)s."),
    "reveal.expire": L("A reveal request expired: %(target)s."),
    "reveal.perform": L("Saw a secret once: %(target)s."),
    "reveal.break_glass": L("Broke the glass to see a secret alone: %(target)s."),
    "vault.rotate_keys": L("Re-encrypted %(credentials)s credentials with the current vault key."),
    "audit.checkpoint_refused": L("Refused an audit checkpoint: %(problem)s."),
    # offboarding, one event per step
    **{f"offboard.{step}": L("Offboarding %(target)s: %(step)s") for step in OFFBOARDING_STEPS},
    # inbox configuration
    "service_window.create": L("Set the service hours of %(target)s."),
    "service_window.save": L("Changed the service hours of %(target)s."),
    "service_window.closure": L("Added a closure: %(target)s."),
    "sla_policy.save": L("Changed the SLA targets: %(target)s."),
    "triage_settings.change": L("Changed the triage settings."),
    "triage_settings.save": L("Changed the triage settings: %(changes)s."),
    "sensitive_term.add": L("Added the sensitive term %(target)s."),
    "queue.auto_assign": L("Changed automatic assignment for %(target)s: %(changes)s."),
    "queue_settings.create": L("Set up the queue of %(target)s."),
    "routing_rule.create": L("Created the routing rule %(target)s."),
    "routing_rule.save": L("Saved the routing rule %(target)s."),
    "routing_rule.update": L("Changed the routing rule %(target)s."),
    "routing_rule.delete": L("Deleted the routing rule %(target)s."),
    "saved_reply.create": L("Added the saved reply %(target)s."),
    "demo.inbox_loaded": L("Loaded the demo conversations."),
    # strategy (the strategy app's register and reviews)
    "strategy.brand_created": L("Created the brand %(target)s."),
    "strategy.brand_updated": L("Changed the brand %(target)s: %(changes)s."),
    "strategy.created": L("Created the strategy %(target)s."),
    "strategy.updated": L("Changed the strategy %(target)s: %(changes)s."),
    "strategy.status_changed": L("Set the strategy %(target)s to %(status)s."),
    "strategy.owner_added": L("Made %(user)s an owner of %(target)s for %(department)s."),
    "strategy.owner_ended": L("Ended %(user)s's ownership of %(target)s."),
    "strategy.objective_added": L("Added the objective %(target)s."),
    "strategy.objective_updated": L("Changed the objective %(target)s: %(changes)s."),
    "strategy.kpi_value_added": L("Recorded %(value)s for %(target)s (measured on %(measured_on)s)."),
    "strategy.segment_added": L("Added the segment %(target)s."),
    "strategy.channel_plan_added": L("Added the channel plan %(target)s."),
    "strategy.campaign_added": L("Added the campaign %(target)s."),
    "strategy.spend_added": L("Recorded a spend of %(amount)s %(currency)s on %(target)s."),
    "strategy.decision_added": L("Recorded the decision %(title)s on %(target)s."),
    "strategy.reviewed": L("Reviewed %(target)s; next review on %(next_review_on)s."),
    "strategy.digest_sent": L("Emailed the weekly reputation digest to %(user)s (week of %(week_of)s)."),
    "strategy.digest_failed": L("The weekly reputation digest to %(user)s (week of %(week_of)s) failed: %(error)s."),
    "strategy.digest_retried": L("Sent the weekly reputation digest to %(user)s again (week of %(week_of)s)."),
    "strategy.digest_preference_changed": L("Changed when they get the weekly reputation digest: %(changes)s."),
    # posts (the content calendar)
    "strategy.post_created": L("Drafted the post “%(target)s”."),
    "strategy.post_updated": L("Changed the post “%(target)s”: %(changes)s."),
    "strategy.post_submitted": L("Sent the post “%(target)s” to review."),
    "strategy.post_approved": L("Approved version %(version)s of the post “%(target)s”."),
    "strategy.post_review_complete": L("The post “%(target)s” has every approval it needs (%(state)s)."),
    "strategy.post_returned": L("Returned the post “%(target)s”: %(reason)s."),
    "strategy.post_back_to_review": L("The post “%(target)s” went back to review: %(reason)s."),
    "strategy.post_scheduled": L("Scheduled the post “%(target)s” for %(scheduled_at)s."),
    "strategy.post_cancelled": L("Cancelled the post “%(target)s”."),
    "strategy.post_publish_requested": L("Asked to publish the post “%(target)s” now."),
    "strategy.post_publishing": L("Started publishing the post “%(target)s”."),
    "strategy.post_target_published": L("Published the post “%(target)s” on account %(account)s: %(url)s."),
    "strategy.post_published_by_hand": L("Marked the post “%(target)s” published by hand on account %(account)s: "
                                         "%(url)s."),
    "strategy.post_published": L("The post “%(target)s” is published on every account."),
    "strategy.post_failed": L("The post “%(target)s” could not be published: %(error)s."),
    "strategy.post_retried": L("Tried publishing the post “%(target)s” again."),
    "strategy.calendar_feed_created": L("Created a calendar feed address."),
    "strategy.calendar_feed_revoked": L("Revoked a calendar feed address."),
    # conversations
    "conversation.assigned": L("Assigned %(target)s to %(assignee)s."),
    "conversation.taken_over": L("Took over %(target)s from %(previous)s."),
    "conversation.status": L("Set %(target)s from %(before)s to %(after)s."),
    "conversation.intent": L("Changed the intent of %(target)s from %(before)s to %(after)s."),
    "conversation.routed": L("Moved %(target)s to the queue of %(department)s."),
    "conversation.note": L("Wrote a note on %(target)s."),
    "conversation.tag_added": L("Tagged %(target)s with %(tag)s."),
    "conversation.tag_removed": L("Removed the tag %(tag)s from %(target)s."),
    "conversation.reply_submitted": L("Sent a reply on %(target)s for approval."),
    "conversation.reply_sending": L("Sent a reply on %(target)s."),
    "conversation.reply_approved": L("Approved a reply on %(target)s."),
    "conversation.reply_returned": L("Returned a reply on %(target)s to its author: %(comment)s"),
    "conversation.reply_sent": L("A reply on %(target)s reached the platform."),
    "conversation.reply_failed": L("A reply on %(target)s failed: %(error)s"),
    "conversation.reply_retried": L("Sent a reply on %(target)s again."),
    "conversation.reply_sent_by_hand": L("Marked a reply on %(target)s as posted by hand: %(url)s"),
}

USER_KEYS = {"user", "assignee", "lead", "requester", "previous"}
DEPARTMENT_KEYS = {"department"}
# Keys whose values are names for the "changes" summary rather than shown as they are.
_QUIET_KEYS = {"reason", "via", "message"}


class _Values(dict):
    def __missing__(self, key):
        return "—"


def _text(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


def offboarding_step_sentence(step: str, result: dict) -> str:
    template = OFFBOARDING_STEPS.get(step)
    # The audit log redacts token-looking keys: there the number of API tokens is not known, only that all ended.
    values = _Values({k: (_("all") if v == "[redacted]" else _text(v)) for k, v in (result or {}).items()})
    at_risk = (result or {}).get("accounts_at_risk") or []
    values["at_risk_note"] = (_("; now at risk: %(accounts)s") % {"accounts": _text(at_risk)}) if at_risk else ""
    if template is None:
        # A step added by a hook that has no words yet: say what it reported rather than nothing.
        return _("%(step)s: %(result)s") % {"step": step.replace("_", " ").capitalize(), "result": _text(result)}
    return str(template) % values


def offboarding_summary(report: dict) -> list[dict]:
    """The offboarding report as sentences, in the order the steps ran."""
    return [{"step": step, "sentence": offboarding_step_sentence(step, result), "result": result}
            for step, result in report.items()]


def _changes(before: dict, after: dict) -> str:
    parts = []
    for key in sorted(set(before) | set(after)):
        if key in _QUIET_KEYS:
            continue
        if key in before:
            parts.append(_("%(field)s %(old)s → %(new)s") % {
                "field": key.replace("_", " "), "old": _text(before.get(key)), "new": _text(after.get(key))})
        else:
            parts.append(f"{key.replace('_', ' ')} {_text(after.get(key))}")
    return "; ".join(parts) or _("no change recorded")


def _lookups(events: list) -> tuple[dict, dict, dict]:
    from accounts.models import Department, User

    from .models import SocialAccount

    user_ids, department_ids, account_ids = set(), set(), set()
    for event in events:
        data = {**(event.before or {}), **(event.after or {})}
        for key, value in data.items():
            if key in USER_KEYS and isinstance(value, int):
                user_ids.add(value)
            if key in DEPARTMENT_KEYS and isinstance(value, int):
                department_ids.add(value)
        if event.action == "conversation.taken_over" and isinstance((event.after or {}).get("before"), int):
            user_ids.add(event.after["before"])
        if event.action == "conversation.routed" and isinstance((event.after or {}).get("after"), int):
            department_ids.add(event.after["after"])
        if event.account_id:
            account_ids.add(event.account_id)
    users = {u.pk: str(u) for u in User.objects.filter(pk__in=user_ids)} if user_ids else {}
    departments = ({d.pk: d.name for d in Department.objects.filter(pk__in=department_ids)}
                   if department_ids else {})
    accounts = {a.pk: str(a) for a in SocialAccount.objects.filter(pk__in=account_ids)} if account_ids else {}
    return users, departments, accounts


def _sentence(event, users: dict, departments: dict, accounts: dict) -> str:
    before, after = event.before or {}, event.after or {}
    values = _Values({k: _text(v) for k, v in {**before, **after}.items()})
    values["target"] = event.target_repr or (f"{event.target_type} {event.target_id}".strip() or "—")
    values["target_type"] = event.target_type or "—"
    values["target_id"] = event.target_id or "—"
    values["account"] = accounts.get(event.account_id, "") or values["target"]
    for key in USER_KEYS:
        if isinstance(after.get(key), int):
            values[key] = users.get(after[key], f"#{after[key]}")
    for key in DEPARTMENT_KEYS:
        if isinstance(after.get(key), int):
            values[key] = departments.get(after[key], f"#{after[key]}")
    if event.action == "conversation.taken_over":
        values["previous"] = users.get(after.get("before"), _text(after.get("before")))
    if event.action == "conversation.routed":
        values["department"] = departments.get(after.get("after"), _text(after.get("after")))
    if "capability" in after:
        try:
            values["capability"] = str(Capability(after["capability"]).label).lower()
        except ValueError:
            pass
    values["holder"] = values["user"] if after.get("user") else values["department"]
    values["changes"] = _changes(before, after)
    values["reason_code"] = _text(after.get("reason"))
    if event.action.startswith("offboard."):
        step = event.action.split(".", 1)[1]
        values["step"] = offboarding_step_sentence(step, {k: v for k, v in after.items() if k != "reason"})
    template = ACTION_SENTENCES.get(event.action)
    if template is None:
        sentence = _("%(action)s on %(target)s.") % {"action": event.action, "target": values["target"]}
    else:
        sentence = str(template) % values
    reason = after.get("reason")
    if reason and isinstance(reason, str) and event.action not in {"auth.reauth_failed"}:
        sentence = _("%(sentence)s (reason: %(reason)s)") % {"sentence": sentence.rstrip("."), "reason": reason}
    return sentence


def describe_events(events: Iterable) -> list[dict]:
    """Each event with its sentence, for the audit log page. Three queries
    at most, whatever the number of events."""
    events = list(events)
    users, departments, accounts = _lookups(events)
    return [{"event": e, "sentence": _sentence(e, users, departments, accounts), "raw": raw_data(e)} for e in events]


def raw_data(event) -> list[tuple[str, str]]:
    """What the event recorded, field by field (values as JSON), for the
    admins' "Recorded data"."""
    fields = {
        "action": event.action, "target": f"{event.target_type} {event.target_id} · {event.target_repr}".strip(" ·"),
        "account_id": event.account_id, "before": event.before or {}, "after": event.after or {},
        "request_id": event.request_id, "ip_address": event.ip_address,
    }
    return [(key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True,
                                                                     cls=DjangoJSONEncoder))
            for key, value in fields.items() if value not in (None, "", {})]
