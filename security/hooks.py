"""Seams for higher layers.

``OFFBOARDING_HOOKS``: callables ``(actor, user, reason) -> (step_name,
result_dict)`` that the inbox and strategy apps register so that offboarding
hands a leaver's open work to their department's queue."""

OFFBOARDING_HOOKS: list = []
