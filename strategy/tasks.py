"""django-q2 entry points of the strategy register."""

from django_q.models import Schedule

from socialops.schedules import ensure_schedule

REVIEW_REMINDERS_FUNC = "strategy.tasks.review_reminders_task"
DIGEST_FUNC = "strategy.tasks.digest_task"
DIGEST_SEND_FUNC = "strategy.tasks.digest_send_task"
PUBLISH_DUE_FUNC = "strategy.tasks.publish_due_task"


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


def publish_post_task(post_id: int) -> str:
    """Publishes one post now if it is due (publish now, or a worker handed the post at its time)."""
    from .publishing import publish_post

    return publish_post(post_id)


def publish_due_task() -> dict:
    """The every-minute publisher sweep: every post whose time has come, every target nobody holds
    (``strategy.publishing``)."""
    from .publishing import publish_due

    return publish_due()


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
    # Every minute: a scheduled post leaves within a minute of its time, and a post a worker dropped (killed,
    # broker down) is picked up by the next sweep.
    ensure_schedule(PUBLISH_DUE_FUNC, {"name": "strategy: publish due posts",
                                       "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1})
