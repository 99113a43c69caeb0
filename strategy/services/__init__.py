"""Every write to the strategy register: rights checked here, one audit
event each, and a version (django-simple-history) recording who changed
what and why. Pages and the API call these, never the models. Split by
domain; callers write ``services.strategy_create(...)``."""

from .parts import (
    campaign_create,
    campaign_spent,
    channel_plan_create,
    decision_add,
    kpi_value_add,
    objective_create,
    objective_update,
    segment_create,
    spend_add,
)
from .register import (
    STATUS_TRANSITIONS,
    brand_create,
    brand_update,
    owner_add,
    owner_end,
    review_complete,
    send_review_reminders,
    strategy_create,
    strategy_set_status,
    strategy_update,
)

__all__ = [
    "STATUS_TRANSITIONS", "brand_create", "brand_update", "campaign_create", "campaign_spent", "channel_plan_create",
    "decision_add", "kpi_value_add", "objective_create", "objective_update", "owner_add", "owner_end",
    "review_complete", "segment_create", "send_review_reminders", "spend_add", "strategy_create",
    "strategy_set_status", "strategy_update",
]
