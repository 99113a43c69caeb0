"""The left navigation. Each app registers its entries in ``ready()`` with a
test of who may see them, so the menu shows only what the roles allow."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    order: int
    visible: Callable[[object], bool]


_entries: list[NavEntry] = []


def register(label, url_name: str, *, order: int, visible: Callable[[object], bool]) -> None:
    if any(e.url_name == url_name for e in _entries):
        return
    _entries.append(NavEntry(label=label, url_name=url_name, order=order, visible=visible))
    _entries.sort(key=lambda e: e.order)


def entries_for(user) -> list[dict]:
    if not user.is_authenticated:
        return []
    return [{"label": e.label, "url": reverse(e.url_name), "url_name": e.url_name}
            for e in _entries if e.visible(user)]
