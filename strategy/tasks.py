"""django-q2 entry points of the strategy register."""

from django_q.models import Schedule

from socialops.schedules import ensure_schedule

REVIEW_REMINDERS_FUNC = "strategy.tasks.review_reminders_task"
DIGEST_FUNC = "strategy.tasks.digest_task"
DIGEST_SEND_FUNC = "strategy.tasks.digest_send_task"


def review_reminders_task() -> dict:
    """Reminds owners of reviews due within a week and of overdue ones
    (each reminder once; see ``services.send_review_reminders``)."""
    from .services import send_review_reminders

    return send_review_reminders()


def digest_task() -> dict:
    """The weekly reputation digest's sweep: creates the deliveries that
    have come due (each executive's day and hour in their own time zone),
    then sends every delivery that is due, each on its own, so one failure
    does not stop the rest (see ``strategy.digest``)."""
    from .digest import due_deliveries, send_due

    created = due_deliveries()
    return {"created": created, **send_due()}


def digest_send_task(delivery_id: int) -> str:
    """Sends one delivery now if it is due (an admin's "send again")."""
    from .digest import send_delivery

    return send_delivery(delivery_id)


def ensure_schedules() -> None:
    """Review reminders hourly: a reminder goes out within the hour a review
    falls due, whatever the time zone; the service sends each reminder once.
    The weekly digest's sweep every 15 minutes."""
    ensure_schedule(REVIEW_REMINDERS_FUNC, {"name": "strategy: review reminders",
                                            "schedule_type": Schedule.HOURLY, "repeats": -1})
    # Every 15 minutes: each executive's digest leaves within 15 minutes of their hour, whatever their time
    # zone (including those a quarter or half an hour off UTC); a failed send is retried by the same sweep.
    ensure_schedule(DIGEST_FUNC, {"name": "strategy: weekly reputation digest",
                                  "schedule_type": Schedule.MINUTES, "minutes": 15, "repeats": -1})
