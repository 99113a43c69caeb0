"""django-q2 entry points of the strategy register."""

from django_q.models import Schedule

from socialops.schedules import ensure_schedule

REVIEW_REMINDERS_FUNC = "strategy.tasks.review_reminders_task"


def review_reminders_task() -> dict:
    """Reminds owners of reviews due within a week and of overdue ones
    (each reminder once; see ``services.send_review_reminders``)."""
    from .services import send_review_reminders

    return send_review_reminders()


def ensure_schedules() -> None:
    """Hourly: a reminder goes out within the hour a review falls due,
    whatever the time zone; the service sends each reminder once."""
    ensure_schedule(REVIEW_REMINDERS_FUNC, {"name": "strategy: review reminders",
                                            "schedule_type": Schedule.HOURLY, "repeats": -1})
