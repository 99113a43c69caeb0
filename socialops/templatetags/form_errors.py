"""The error summary every refused form shows at the top of its page.

``{% form_error_summary %}`` (in base.html) finds the refused forms in the
page's context by itself, so a view only has to re-render the page with the
bound form, as every view here does; ``{% form_error_summary form %}`` names
the forms explicitly, for a fragment that does not extend base.html. Each item
links to the field it is about; errors that belong to no visible field link to
the box at the top of their form (see includes/form_fields.html).
"""

from django import template
from django.db.models import Model
from django.forms import BaseForm
from django.forms.formsets import BaseFormSet

register = template.Library()


@register.filter
def form_errors_anchor(form) -> str:
    """The id of the box at the top of a form that holds its errors about no
    visible field (the form as a whole, or a hidden field)."""
    first = next(iter(form.visible_fields()), None) if isinstance(form, BaseForm) else None
    base = first.auto_id if first is not None and first.auto_id else (getattr(form, "prefix", None) or "form")
    return f"{base}_form_errors"


@register.filter
def hidden_field_errors(form) -> list[tuple[str, str]]:
    return [(str(f.label or f.name), str(e)) for f in form.hidden_fields() for e in f.errors]


def field_anchor(bound_field) -> str:
    # A multi-input widget (checkboxes, radios) has no id_for_label but wraps its inputs in an element
    # carrying the field's id.
    return bound_field.id_for_label or bound_field.auto_id or ""


def summary_items(form: BaseForm) -> list[dict]:
    anchor = form_errors_anchor(form)
    items = [{"href": anchor, "label": "", "message": str(e)} for e in form.non_field_errors()]
    items += [{"href": anchor, "label": label, "message": message} for label, message in hidden_field_errors(form)]
    for field in form.visible_fields():
        items += [{"href": field_anchor(field) or anchor, "label": str(field.label or field.name), "message": str(e)}
                  for e in field.errors]
    return items


def _is_refused(form: BaseForm) -> bool:
    # Only forms the view already validated: reading ``errors`` would validate a bound form as a side effect.
    return form.is_bound and bool(getattr(form, "_errors", None))


def refused_forms(values) -> list[BaseForm]:
    """Forms with errors among the context's values, their lists and dicts,
    and forms hung on objects in a list (``reply.return_form``). Querysets and
    other lazy values are never iterated."""
    found: list[BaseForm] = []
    seen: set[int] = set()

    def visit(value, depth: int) -> None:
        # type(), not isinstance(): isinstance() would evaluate lazy context values (SimpleLazyObject).
        kind = type(value)
        if issubclass(kind, BaseForm):
            if id(value) not in seen and _is_refused(value):
                seen.add(id(value))
                found.append(value)
        elif issubclass(kind, BaseFormSet):
            if value.is_bound:
                for form in value.forms:
                    visit(form, depth)
        elif depth >= 2:
            return
        elif issubclass(kind, (list, tuple)):
            for item in value:
                visit(item, depth + 1)
        elif issubclass(kind, dict):
            for item in value.values():
                visit(item, depth + 1)
        elif depth >= 1 and issubclass(kind, Model):
            for item in vars(value).values():
                if issubclass(type(item), BaseForm):
                    visit(item, depth + 1)

    for value in values:
        visit(value, 0)
    return found


@register.inclusion_tag("includes/form_errors.html", takes_context=True)
def form_error_summary(context, *forms):
    chosen = [f for f in forms if isinstance(f, BaseForm) and _is_refused(f)] if forms \
        else refused_forms(context.flatten().values())
    items = [item for form in chosen for item in summary_items(form)]
    return {"error_items": items}
