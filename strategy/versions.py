"""A strategy as a living document: its versions and their comparison.

Each model of a strategy keeps its own history (django-simple-history). A
*version* of the whole document is a moment: the state of the strategy and
of every part it held at that instant. ``timeline`` lists the changes (who,
when, why, what); ``compare`` puts two moments side by side, field by field,
with parts added and removed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext_lazy as _

from .models import Campaign, ChannelPlan, Decision, Objective, Segment, Strategy, StrategyOwner

# The parts compared, in the order a strategy page shows them.
SECTIONS = [
    ("owners", _("Owners"), StrategyOwner),
    ("objectives", _("Objectives"), Objective),
    ("segments", _("Segments"), Segment),
    ("channel_plans", _("Channel plans"), ChannelPlan),
    ("campaigns", _("Campaigns"), Campaign),
    ("decisions", _("Decisions"), Decision),
]
# Bookkeeping that is not part of the document's content.
_SKIP = {"id", "strategy", "history_id", "history_date", "history_change_reason", "history_type", "history_user",
         "created_at", "updated_at", "created_by", "recorded_at", "entered_at"}
_NAMED_BY = {"strategy": ("brand",), "owners": ("user", "department"), "channel_plans": ("account",)}
CHANGE_TYPES = {"+": _("added"), "~": _("changed"), "-": _("removed")}


@dataclass
class Change:
    at: datetime
    who: str
    why: str
    what: str
    label: str
    kind: str
    history_id: int
    model: str


def _fields(model) -> list:
    return [f for f in model._meta.concrete_fields if f.name not in _SKIP and not f.name.startswith("review_")
            and not f.name.startswith("alerted_")]


def _label(key: str, record) -> str:
    """A part's name from its historical row and the rows selected with it (no query each)."""
    if key == "strategy":
        return f"{record.brand}: {record.title}"
    if key == "owners":
        return f"{record.user} ({record.department})"
    if key == "channel_plans":
        return str(_("Plan for %(account)s") % {"account": record.account})
    return str(getattr(record, "title", None) or getattr(record, "name", "") or f"#{record.id}")


def timeline(strategy: Strategy, *, limit: int = 200) -> list[Change]:
    """Every recorded change to the strategy and its parts, newest first."""
    changes: list[Change] = []
    sources = [("strategy", _("Strategy"), Strategy.history.filter(id=strategy.pk))]
    sources += [(key, label, model.history.filter(strategy_id=strategy.pk)) for key, label, model in SECTIONS]
    for key, label, records in sources:
        # What each part's name reads (a strategy names its brand, an owner their person and department...).
        related = _NAMED_BY.get(key, ())
        for record in records.select_related("history_user", *related).order_by("-history_date")[:limit]:
            changes.append(Change(
                at=record.history_date, who=str(record.history_user or _("the portal")),
                why=record.history_change_reason or "", what=str(label), label=_label(key, record)[:120],
                kind=str(CHANGE_TYPES.get(record.history_type, record.history_type)), history_id=record.history_id,
                model=key))
    changes.sort(key=lambda change: change.at, reverse=True)
    return changes[:limit]


def _display(instance, field) -> str:
    if field.is_relation:
        related_id = getattr(instance, field.attname)
        if related_id is None:
            return ""
        try:
            return str(getattr(instance, field.name))
        except Exception:  # the related row is gone; show its id
            return f"#{related_id}"
    value = getattr(instance, field.attname)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return "" if value is None else str(value)


def snapshot(strategy: Strategy, at: datetime) -> dict:
    """The document as it stood at ``at``: {section: {pk: {field label: text}}}."""
    state: dict[str, dict] = {}
    try:
        head = Strategy.history.as_of(at).get(pk=strategy.pk)
    except ObjectDoesNotExist:  # the strategy did not exist yet at that moment
        head = None
    state["strategy"] = ({strategy.pk: {str(f.verbose_name): _display(head, f) for f in _fields(Strategy)}}
                         if head else {})
    for key, _label, model in SECTIONS:
        rows = model.history.as_of(at).filter(strategy_id=strategy.pk)
        state[key] = {row.pk: {str(f.verbose_name): _display(row, f) for f in _fields(model)} for row in rows}
    return state


@dataclass
class Difference:
    section: str
    item: str
    field: str
    before: str
    after: str


# Only those who may see money (``permissions.can_see_money``) see these fields compared.
MONEY_FIELDS = {"budget"}


def compare(strategy: Strategy, earlier: datetime, later: datetime, *, include_money: bool = True
            ) -> list[Difference]:
    """Field-by-field differences between two moments of the document;
    without ``include_money``, budgets are left out (pages and API alike)."""
    a, b = snapshot(strategy, earlier), snapshot(strategy, later)
    labels = {"strategy": str(_("Strategy")), **{key: str(label) for key, label, _m in SECTIONS}}
    out: list[Difference] = []
    for section in ["strategy", *(key for key, _l, _m in SECTIONS)]:
        before_rows, after_rows = a.get(section, {}), b.get(section, {})
        for pk in sorted(set(before_rows) | set(after_rows)):
            old, new = before_rows.get(pk), after_rows.get(pk)
            item = (new or old or {}).get("title") or (new or old or {}).get("name") or f"#{pk}"
            if old is None:
                out.append(Difference(labels[section], item, str(_("(added)")), "", ""))
            elif new is None:
                out.append(Difference(labels[section], item, str(_("(removed)")), "", ""))
            for field in (new or old).keys():
                before, after = (old or {}).get(field, ""), (new or {}).get(field, "")
                if before != after and (include_money or field not in MONEY_FIELDS):
                    out.append(Difference(labels[section], item, field, before, after))
    return out
