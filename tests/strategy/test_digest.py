"""The executives' weekly reputation digest: when it goes out (each
person's day and hour in their own time zone, across daylight-saving
changes), who gets it (executives who did not opt out), that a week's digest
goes out once whatever runs twice, and what happens when a send fails or a
worker dies mid-send.

The dates are in 2027 (fixed weekdays and daylight-saving changes); every
membership made here starts in 2020 (``_members_since_2020``), so the people
hold their roles at those moments whatever day the suite runs."""

import smtplib
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.models import Membership
from accounts.roles import Role
from security.models import AuditEvent
from strategy import digest
from strategy.digest import due_deliveries, send_delivery, send_due
from strategy.models import DigestDelivery, DigestPreference

Status = DigestDelivery.Status
FAKE_PDF = b"%PDF-1.7 digest test"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _members_since_2020():
    """The factories start a membership yesterday; the 2027 moments below
    would fall before it once the real date passes them."""
    from django.db.models.signals import pre_save

    def backdate(sender, instance, **kwargs):
        if instance.started_at is None or instance.started_at > LONG_AGO:
            instance.started_at = LONG_AGO

    pre_save.connect(backdate, sender=Membership, dispatch_uid="digest-tests-backdate")
    yield
    pre_save.disconnect(sender=Membership, dispatch_uid="digest-tests-backdate")


@pytest.fixture
def fast_pdf(monkeypatch):
    """The report is built for real; only WeasyPrint's rendering is skipped
    (tests/strategy/test_pdf.py covers it, and one test below runs it)."""
    rendered = []

    def fake(html):
        rendered.append(html)
        return FAKE_PDF

    monkeypatch.setattr(digest, "render_report_pdf", fake)
    return rendered


@pytest.fixture
def executive(make_member):
    def _make(time_zone="Europe/Madrid", **kwargs):
        return make_member(Role.EXECUTIVE, time_zone=time_zone, **kwargs)

    return _make


def rows_for(user):
    return list(DigestDelivery.objects.filter(user=user).values_list("week_of", flat=True))


def outbox_to(user):
    return [m for m in mail.outbox if m.to == [user.email]]


class BrokenBackend(BaseEmailBackend):
    """A mail server that refuses the portal's sign-in, quoting a secret."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPAuthenticationError(535, b"5.7.8 bad credentials for relay password hunter2")


# --- when --------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_monday_0800_in_each_persons_own_time_zone(executive):
    madrid = executive("Europe/Madrid")
    new_york = executive("America/New_York")
    # Monday 11 January 2027: 08:00 in Madrid is 07:00 UTC; in New York 13:00 UTC (EST).
    assert due_deliveries(utc(2027, 1, 11, 6, 59)) == 0
    assert rows_for(madrid) == rows_for(new_york) == []
    due_deliveries(utc(2027, 1, 11, 7, 0))
    assert rows_for(madrid) == [date(2027, 1, 11)]
    assert rows_for(new_york) == []
    due_deliveries(utc(2027, 1, 11, 12, 59))
    assert rows_for(new_york) == []
    due_deliveries(utc(2027, 1, 11, 13, 0))
    assert rows_for(new_york) == [date(2027, 1, 11)]
    assert rows_for(madrid) == [date(2027, 1, 11)]  # not twice


@pytest.mark.django_db
def test_the_week_of_is_the_persons_local_date(executive):
    # Monday 08:00 in Auckland (UTC+13 in January) is Sunday 19:00 UTC.
    auckland = executive("Pacific/Auckland")
    due_deliveries(utc(2027, 1, 10, 18, 59))
    assert rows_for(auckland) == []
    due_deliveries(utc(2027, 1, 10, 19, 0))
    assert rows_for(auckland) == [date(2027, 1, 11)]


@pytest.mark.django_db
def test_no_time_zone_of_ones_own_falls_back_to_the_portals(executive, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    person = executive("")
    due_deliveries(utc(2027, 1, 10, 22, 59))
    assert rows_for(person) == []
    due_deliveries(utc(2027, 1, 10, 23, 0))  # Monday 08:00 in Tokyo
    assert rows_for(person) == [date(2027, 1, 11)]


@pytest.mark.django_db
def test_the_daylight_saving_weeks(executive):
    new_york = executive("America/New_York")
    madrid = executive("Europe/Madrid")
    # New York moved to EDT on Sunday 14 March 2027: Monday 15 March 08:00 there is 12:00 UTC, not 13:00.
    due_deliveries(utc(2027, 3, 15, 11, 59))
    assert rows_for(new_york) == []
    due_deliveries(utc(2027, 3, 15, 12, 0))
    assert rows_for(new_york) == [date(2027, 3, 15)]
    # Madrid moved to CEST on Sunday 28 March: Monday 29 March 08:00 there is 06:00 UTC, not 07:00.
    due_deliveries(utc(2027, 3, 29, 5, 59))
    assert date(2027, 3, 29) not in rows_for(madrid)
    due_deliveries(utc(2027, 3, 29, 6, 0))
    assert date(2027, 3, 29) in rows_for(madrid)


@pytest.mark.django_db
def test_an_hour_skipped_by_the_clock_change_sends_just_after_the_skip(executive):
    # Sunday 28 March 2027 in Madrid: 02:00 never happens (01:59 CET -> 03:00 CEST, i.e. 01:00 UTC).
    early = executive("Europe/Madrid")
    DigestPreference.objects.create(user=early, weekday=DigestPreference.Weekday.SUNDAY, hour=2)
    due_deliveries(utc(2027, 3, 28, 0, 59))
    assert rows_for(early) == []
    due_deliveries(utc(2027, 3, 28, 1, 0))
    assert rows_for(early) == [date(2027, 3, 28)]


@pytest.mark.django_db
def test_a_changed_day_and_hour(executive):
    friday = executive("Europe/Madrid")
    monday = executive("Europe/Madrid")
    DigestPreference.objects.create(user=friday, weekday=DigestPreference.Weekday.FRIDAY, hour=17)
    due_deliveries(utc(2027, 1, 11, 7, 0))
    assert rows_for(friday) == [] and rows_for(monday) == [date(2027, 1, 11)]
    due_deliveries(utc(2027, 1, 15, 15, 59))  # Friday 16:59 in Madrid
    assert rows_for(friday) == []
    due_deliveries(utc(2027, 1, 15, 16, 0))
    assert rows_for(friday) == [date(2027, 1, 15)]


@pytest.mark.django_db
def test_moving_the_day_after_this_weeks_digest_does_not_send_a_second(executive, fast_pdf):
    person = executive("Europe/Madrid")
    due_deliveries(utc(2027, 1, 11, 7, 0))
    send_due(utc(2027, 1, 11, 7, 0))
    assert len(outbox_to(person)) == 1
    DigestPreference.objects.create(user=person, weekday=DigestPreference.Weekday.THURSDAY, hour=9)
    due_deliveries(utc(2027, 1, 14, 9, 0))
    send_due(utc(2027, 1, 14, 9, 0))
    assert rows_for(person) == [date(2027, 1, 11)]
    assert len(outbox_to(person)) == 1
    # The next week it comes on the new day.
    due_deliveries(utc(2027, 1, 18, 7, 0))
    assert date(2027, 1, 18) not in rows_for(person)
    due_deliveries(utc(2027, 1, 21, 8, 0))  # Thursday 09:00 in Madrid
    assert date(2027, 1, 21) in rows_for(person)


# --- who ----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_opting_out_means_no_digest(executive, fast_pdf):
    out = executive()
    DigestPreference.objects.create(user=out, enabled=False)
    for day in range(11, 18):
        due_deliveries(utc(2027, 1, day, 23, 0))
    send_due(utc(2027, 1, 17, 23, 0))
    assert rows_for(out) == []
    assert outbox_to(out) == []


@pytest.mark.django_db
def test_opting_out_after_the_digest_fell_due_stops_it(executive, fast_pdf):
    person = executive()
    due_deliveries(utc(2027, 1, 11, 7, 0))
    DigestPreference.objects.create(user=person, enabled=False)
    assert send_due(utc(2027, 1, 11, 7, 1))["skipped"] == 1
    assert outbox_to(person) == []
    assert DigestDelivery.objects.get(user=person).status == Status.SKIPPED


@pytest.mark.django_db
def test_only_active_executives_get_a_digest(executive, make_member, fast_pdf):
    others = [make_member(role) for role in Role.values if role != Role.EXECUTIVE]
    gone = executive()
    gone.is_active = False
    gone.save()
    former = executive()
    Membership.objects.filter(user=former).update(ended_at=timezone.now())
    hybrid = make_member(Role.SOCIAL_MEDIA_MANAGER, time_zone="Europe/Madrid")
    make_member(Role.EXECUTIVE, user=hybrid)  # also an executive: gets it
    due_deliveries(utc(2027, 1, 12, 12, 0))
    send_due(utc(2027, 1, 12, 12, 0))
    assert set(DigestDelivery.objects.values_list("user_id", flat=True)) == {hybrid.pk}
    assert [m.to for m in mail.outbox] == [[hybrid.email]]
    assert all(rows_for(person) == [] for person in [*others, gone, former])


# --- once a week, whatever runs twice -------------------------------------------------------------

@pytest.mark.django_db
def test_the_same_week_never_twice(executive, fast_pdf):
    person = executive()
    now = utc(2027, 1, 11, 7, 5)
    due_deliveries(now)
    due_deliveries(now)
    due_deliveries(now + timedelta(hours=5))
    assert DigestDelivery.objects.filter(user=person).count() == 1
    first, second = send_due(now), send_due(now)
    assert (first["sent"], second["sent"]) == (1, 0)
    delivery = DigestDelivery.objects.get(user=person)
    assert send_delivery(delivery.pk, now + timedelta(minutes=1)) == "not_due"
    assert len(outbox_to(person)) == 1
    assert (delivery.status, delivery.attempts) == (Status.SENT, 1)


@pytest.mark.django_db
def test_two_workers_sending_at_once_send_one_email(executive, fast_pdf, monkeypatch):
    """The second worker arrives while the first is handing the mail to the
    server (between its claim and its outcome)."""
    person = executive()
    now = utc(2027, 1, 11, 7, 0)
    due_deliveries(now)
    delivery = DigestDelivery.objects.get(user=person)
    original = digest.EmailMultiAlternatives.send
    second_worker = []

    def send_while_another_worker_tries(message, *args, **kwargs):
        second_worker.append(send_delivery(delivery.pk, now + timedelta(seconds=30)))
        second_worker.append(send_due(now + timedelta(seconds=30))["sent"])
        return original(message, *args, **kwargs)

    monkeypatch.setattr(digest.EmailMultiAlternatives, "send", send_while_another_worker_tries)
    assert send_delivery(delivery.pk, now) == "sent"
    assert second_worker == ["not_due", 0]
    assert len(outbox_to(person)) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_schedule_runs_in_threads_make_and_send_one_digest_each(executive, fast_pdf):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite in memory does not share one database between threads")
    people = [executive() for _ in range(4)]
    now = utc(2027, 1, 11, 7, 0)
    barrier = threading.Barrier(3)
    errors = []

    def sweep():
        from django.db import connections

        try:
            barrier.wait()
            due_deliveries(now)
            send_due(now)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    assert DigestDelivery.objects.count() == len(people)
    assert set(DigestDelivery.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}


# --- failures and retries ------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_failed_send_is_retried_with_back_off_and_shown_to_admins(executive, admin_user, client_for, settings,
                                                                     fast_pdf, django_capture_on_commit_callbacks,
                                                                     caplog):
    person = executive(first_name="Irene", last_name="Vidal")
    settings.EMAIL_BACKEND = "tests.strategy.test_digest.BrokenBackend"
    now = utc(2027, 1, 11, 7, 0)
    due_deliveries(now)
    delivery = DigestDelivery.objects.get(user=person)

    assert send_due(now)["failed"] == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 1)
    assert delivery.next_attempt_at == now + timedelta(minutes=5)
    assert "mail server refused" in delivery.last_error and "hunter2" not in delivery.last_error
    assert "SMTPAuthenticationError" in caplog.text and "hunter2" not in caplog.text

    # The back-off: nothing before its time, then 5, 15, 60 and 60 minutes apart.
    assert send_due(now + timedelta(minutes=4, seconds=59))["failed"] == 0
    at = now + timedelta(minutes=5)
    for attempt, wait in ((2, 15), (3, 60), (4, 60)):
        assert send_due(at)["failed"] == 1
        delivery.refresh_from_db()
        assert delivery.attempts == attempt
        assert delivery.next_attempt_at == at + timedelta(minutes=wait)
        at = delivery.next_attempt_at
    assert send_due(at)["failed"] == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (Status.FAILED, 5, None)
    assert send_due(at + timedelta(days=1))["failed"] == 0  # stays failed, visible
    assert mail.outbox == []
    failures = AuditEvent.objects.filter(action="strategy.digest_failed")
    assert failures.count() == 5 and [e.after["will_retry"] for e in failures.order_by("id")][-1] is False

    # The admins' page shows it, with the reason and a button to send it again.
    page = client_for(admin_user).get(reverse("strategy:digest-deliveries"), {"status": "failed"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Irene Vidal" in html and "the mail server refused the portal" in html and "hunter2" not in html
    assert reverse("strategy:digest-retry", args=[delivery.pk]) in html

    # The mail server works again; an admin sends it now.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin_user).post(reverse("strategy:digest-retry", args=[delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT and delivery.sent_at is not None
    assert len(outbox_to(person)) == 1
    assert AuditEvent.objects.filter(action="strategy.digest_retried", actor=admin_user).count() == 1
    assert AuditEvent.objects.filter(action="strategy.digest_sent").count() == 1


@pytest.mark.django_db
def test_one_failure_does_not_stop_the_others(executive, fast_pdf):
    good, no_address, also_good = executive(), executive(email=""), executive()
    now = utc(2027, 1, 11, 7, 0)
    due_deliveries(now)
    outcome = send_due(now)
    assert (outcome["sent"], outcome["failed"]) == (2, 1)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([good.email, also_good.email])
    failed = DigestDelivery.objects.get(user=no_address)
    # Nothing to retry until someone adds an address: no further attempts.
    assert failed.status == Status.FAILED and failed.next_attempt_at is None and "no email address" in failed.last_error


@pytest.mark.django_db
def test_a_killed_workers_claim_is_taken_again_when_its_lease_runs_out(executive, fast_pdf):
    person = executive()
    now = utc(2027, 1, 11, 7, 0)
    due_deliveries(now)
    delivery = DigestDelivery.objects.get(user=person)
    assert digest._claim(delivery.pk, now)  # a worker claims it, then dies before any outcome
    assert send_due(now + timedelta(minutes=5))["sent"] == 0  # its lease still runs
    assert outbox_to(person) == []
    assert send_due(now + digest.LEASE)["sent"] == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SENT, 2)
    assert len(outbox_to(person)) == 1


@pytest.mark.django_db
def test_a_last_attempt_that_never_finished_ends_failed_and_visible(executive, fast_pdf):
    person = executive()
    now = utc(2027, 1, 11, 7, 0)
    due_deliveries(now)
    DigestDelivery.objects.filter(user=person).update(status=Status.SENDING, attempts=digest.MAX_ATTEMPTS,
                                                      lease_until=now)
    outcome = send_due(now + timedelta(seconds=1))
    assert outcome["gave_up"] == 1 and outcome["sent"] == 0
    delivery = DigestDelivery.objects.get(user=person)
    assert delivery.status == Status.FAILED and "never finished" in delivery.last_error


@pytest.mark.django_db
def test_the_schedule_task_creates_and_sends(executive, fast_pdf, monkeypatch):
    from strategy.tasks import digest_task

    person = executive()
    monkeypatch.setattr(timezone, "now", lambda: utc(2027, 1, 11, 7, 3))
    result = digest_task()
    assert (result["created"], result["sent"]) == (1, 1)
    assert digest_task()["sent"] == 0
    assert len(outbox_to(person)) == 1


# --- the email --------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_email_has_the_summary_and_the_pdf(executive):
    from inbox.ingest import ingest_messages
    from strategy import reports
    from tests.security.factories import SocialAccountFactory

    person = executive("UTC", first_name="Marta", last_name="Soler")
    # Real dates here: the portal takes no message dated in the future. Monday 00:00 has always passed.
    DigestPreference.objects.create(user=person, weekday=DigestPreference.Weekday.MONDAY, hour=0)
    now = timezone.now()
    # A week with customers writing in, so the summary has figures to speak of.
    texts = ["My parcel never arrived, terrible service", "Thanks, great help!", "Where is my refund?",
             "Awful delivery again", "Love the new shop"]
    result = ingest_messages(account=SocialAccountFactory(), items=[
        {"platform_message_id": f"digest-{n}", "text": text, "kind": "mention",
         "sent_at": (now - timedelta(days=n + 1)).isoformat(), "author": {"id": f"c{n}", "handle": f"@c{n}"}}
        for n, text in enumerate(texts)])
    assert not result.errors
    due_deliveries(now)
    assert send_due(now)["sent"] == 1
    [message] = outbox_to(person)
    report = reports.build_report(person, reports.digest_request(person, now=now), now=now)
    assert report.figures and report.summary, "the week has figures and the summary speaks of them"
    assert any("5" in sentence for sentence in report.summary), report.summary
    for sentence in report.summary:
        assert sentence in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    for sentence in report.summary:
        assert escape(sentence) in html
    [(filename, content, attachment_type)] = message.attachments
    assert filename == f"reputation-report-{report.request.days[0]:%Y-%m-%d}.pdf"
    assert attachment_type == "application/pdf" and content.startswith(b"%PDF")
    assert "Marta Soler" in message.body
    assert report.request.period_label in message.subject


@pytest.mark.django_db
def test_the_email_speaks_the_persons_time(executive, fast_pdf):
    person = executive("America/New_York")
    now = utc(2027, 1, 11, 13, 0)
    due_deliveries(now)
    send_due(now)
    [message] = outbox_to(person)
    assert "Generated Monday 11 January 2027, 08:00 (America/New_York)" in message.body
    assert "Generated Monday 11 January 2027, 08:00 (America/New_York)" in message.alternatives[0][0]
    assert message.attachments[0][1] == FAKE_PDF
    # The PDF's footer is told the same moment and the person's name.
    assert "Generated 11 Jan 2027, 08:00 EST for" in fast_pdf[0] and escape(person.get_full_name()) in fast_pdf[0]


# --- the person's own page ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_an_executive_sets_their_own_day_and_hour(executive, client_for):
    person, colleague = executive(), executive()
    client = client_for(person)
    page = client.get(reverse("digest-settings"))
    assert page.status_code == 200 and 'data-testid="digest-form"' in page.content.decode()
    assert 'data-testid="digest-settings-link"' in page.content.decode()  # linked from the user menu
    assert 'data-testid="digest-deliveries-link"' not in page.content.decode()
    response = client.post(reverse("digest-settings"), {"enabled": "on", "weekday": "2", "hour": "18"})
    assert response.status_code == 302
    pref = DigestPreference.objects.get(user=person)
    assert (pref.weekday, pref.hour, pref.enabled) == (2, 18, True)
    assert not DigestPreference.objects.filter(user=colleague).exists()
    assert '<option value="2" selected>Wednesday</option>' in client.get(reverse("digest-settings")).content.decode()
    # Opting out
    client.post(reverse("digest-settings"), {"weekday": "2", "hour": "18"})
    assert DigestPreference.objects.get(user=person).enabled is False
    assert "You do not get the weekly digest" in client.get(reverse("digest-settings")).content.decode()
    assert AuditEvent.objects.filter(action="strategy.digest_preference_changed", actor=person).count() == 2


@pytest.mark.django_db
def test_the_settings_form_names_the_wrong_field(executive, client_for):
    person = executive()
    response = client_for(person).post(reverse("digest-settings"), {"enabled": "on", "weekday": "9", "hour": "24"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-field="weekday"' in html and 'data-field="hour"' in html
    assert "Choose an hour from 00:00 to 23:00" in html
    assert not DigestPreference.objects.filter(user=person).exists()


@pytest.mark.django_db
def test_the_settings_form_needs_its_csrf_token(executive):
    from tests.conftest import sign_in

    person = executive()
    client = sign_in(Client(enforce_csrf_checks=True), person)
    assert client.post(reverse("digest-settings"), {"weekday": "3", "hour": "9"}).status_code == 403
    assert not DigestPreference.objects.filter(user=person).exists()


@pytest.mark.django_db
def test_others_see_the_digest_is_for_executives(make_member, client_for):
    manager = make_member(Role.SOCIAL_MEDIA_MANAGER)
    client = client_for(manager)
    page = client.get(reverse("digest-settings"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "for executives" in html and 'data-testid="digest-form"' not in html
    assert client.post(reverse("digest-settings"), {"weekday": "3", "hour": "9"}).status_code == 403
    assert not DigestPreference.objects.exists()
    anonymous = Client().get(reverse("digest-settings"))
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


# --- the admins' page --------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_only_admins_see_the_deliveries(executive, make_member, admin_user, client_for):
    url = reverse("strategy:digest-deliveries")
    assert url == "/strategy/reports/deliveries/"
    for person in (executive(), make_member(Role.SOCIAL_MEDIA_MANAGER), make_member(Role.COMMUNITY_MANAGER)):
        assert client_for(person).get(url).status_code == 403
    assert Client().get(url).status_code == 302
    assert client_for(admin_user).get(url).status_code == 200
    assert url in client_for(admin_user).get(reverse("digest-settings")).content.decode()


@pytest.mark.django_db
def test_retry_is_for_admins_and_failed_deliveries_only(executive, admin_user, client_for, fast_pdf):
    person = executive()
    now = utc(2027, 1, 11, 7, 0)
    due_deliveries(now)
    send_due(now)
    delivery = DigestDelivery.objects.get(user=person)
    url = reverse("strategy:digest-retry", args=[delivery.pk])
    assert client_for(person).post(url).status_code == 403
    refused = client_for(admin_user).post(url)
    assert refused.status_code == 400 and "Only a failed digest can be sent again" in refused.content.decode()
    assert client_for(admin_user).get(url).status_code == 405
    assert client_for(admin_user).post(reverse("strategy:digest-retry", args=[delivery.pk + 100])).status_code == 404
    assert len(outbox_to(person)) == 1


@pytest.mark.django_db
def test_bad_filters_on_the_deliveries_page_are_a_400(admin_user, client_for):
    client = client_for(admin_user)
    url = reverse("strategy:digest-deliveries")
    response = client.get(url, {"status": "lost"})
    assert response.status_code == 400 and "status: choose one of" in response.content.decode()
    assert client.get(url, {"before": "x1"}).status_code == 400


@pytest.mark.django_db
def test_the_deliveries_page_runs_a_fixed_number_of_queries(executive, admin_user, client_for):
    client = client_for(admin_user)
    client.get(reverse("strategy:digest-deliveries"))
    for _ in range(3):
        executive()
    due_deliveries(utc(2027, 1, 11, 7, 0))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("strategy:digest-deliveries"))
    for _ in range(6):
        executive()
    due_deliveries(utc(2027, 1, 11, 7, 0))
    with CaptureQueriesContext(connection) as more:
        page = client.get(reverse("strategy:digest-deliveries"))
    assert page.content.decode().count('data-testid="delivery-row"') == 9
    assert len(more.captured_queries) == len(few.captured_queries)
