"""The Django admin cannot be a back door.

Every write that matters goes through a service (permission check, the
organisation's rules, the audit log). The admin would bypass all three, so
after every app has registered its admin classes, ``lock_down`` turns every
registration into a read-only view of the data:

- no add, change or delete, no bulk delete; the portal's pages (which call
  the services) are where things change;
- secrets never shown: password hashes, session stamps, token digests, TOTP
  seeds, recovery codes, ciphertexts are left out of every form and list;
- the admin actions that remain call a service (sending a password reset
  link, ending sessions), and anything the admin still logs is written into
  the audit hash chain as well.

The admin's own login is not used: /admin/login/ leads to the portal's
sign-in, which asks for the second factor."""

from django.contrib import admin

# Field names never rendered by the admin, on any model.
SECRET_FIELDS = frozenset({
    "password", "session_stamp", "digest", "key", "bin_key", "ciphertext", "token", "pipeline", "secret",
    "throttling_failure_count", "throttling_failure_timestamp",
})


class AuditedAdminMixin:
    """Whatever the admin logs in its own LogEntry also goes into the
    tamper-evident audit log."""

    def _audit(self, request, action: str, obj, message) -> None:
        from accounts import audit

        audit.record(actor=request.user, action=f"admin.{action}", target=obj,
                     after={"message": str(message)[:500], "via": "django-admin"})

    def log_addition(self, request, obj, message):
        self._audit(request, "add", obj, message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, "change", obj, message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, "delete", obj, "deleted")
        return super().log_deletions(request, queryset)


def _strip_fieldsets(fieldsets):
    cleaned = []
    for name, options in fieldsets or []:
        fields = [f for f in options.get("fields", ()) if not (isinstance(f, str) and f in SECRET_FIELDS)]
        if fields:
            cleaned.append((name, {**options, "fields": fields}))
    return cleaned


class ReadOnlyAdminMixin(AuditedAdminMixin):
    """View only, with secrets left out."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fieldsets(self, request, obj=None):
        return _strip_fieldsets(super().get_fieldsets(request, obj))

    def get_fields(self, request, obj=None):
        return [f for f in super().get_fields(request, obj) if f not in SECRET_FIELDS]

    def get_readonly_fields(self, request, obj=None):
        return [f for f in super().get_readonly_fields(request, obj) if f not in SECRET_FIELDS]

    def get_list_display(self, request):
        return [f for f in super().get_list_display(request) if f not in SECRET_FIELDS and f != "qrcode_link"]

    def get_inline_instances(self, request, obj=None):
        # Inlines (recovery codes under a device, roles under a person) are for editing; the portal does that.
        return []

    def get_urls(self):
        # Only the list, the read-only view and history: no custom views (a TOTP device's QR code page...).
        from django.urls import path

        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("", wrap(self.changelist_view), name=f"{prefix}_changelist"),
            path("<path:object_id>/history/", wrap(self.history_view), name=f"{prefix}_history"),
            path("<path:object_id>/change/", wrap(self.change_view), name=f"{prefix}_change"),
            path("<path:object_id>/", wrap(self.change_view)),
        ]


def lock_down(site=None) -> None:
    """Re-registers every model admin of ``site`` as a read-only, audited
    view (idempotent)."""
    site = site or admin.site
    site._actions.pop("delete_selected", None)
    site._global_actions.pop("delete_selected", None)
    for model, model_admin in list(site._registry.items()):
        cls = type(model_admin)
        if issubclass(cls, ReadOnlyAdminMixin):
            continue
        locked = type(f"ReadOnly{cls.__name__}", (ReadOnlyAdminMixin, cls), {"__module__": cls.__module__})
        site.unregister(model)
        site.register(model, locked)
