"""Panels of the "My work" landing page. Higher apps register a panel with
a template, a context function and a visibility test, so the lowest layer's
page shows what the higher ones know (assigned conversations, approvals,
custody at risk) without importing them."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    order: int
    context: Callable[[object], dict]
    visible: Callable[[object], bool]


_panels: list[Panel] = []


def register(key: str, template: str, *, order: int, context: Callable, visible: Callable = lambda u: True) -> None:
    if any(p.key == key for p in _panels):
        return
    _panels.append(Panel(key, template, order, context, visible))
    _panels.sort(key=lambda p: p.order)


def panels_for(user) -> list[dict]:
    return [{"key": p.key, "template": p.template, "context": p.context(user)} for p in _panels if p.visible(user)]
