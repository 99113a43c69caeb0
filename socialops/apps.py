from django.apps import AppConfig, apps


class SocialopsConfig(AppConfig):
    name = "socialops"
    verbose_name = "SocialOps core"

    def ready(self):
        # Every app's admin module is imported by the time any ready() after
        # django.contrib.admin's runs; lock them all down at the very end.
        if apps.is_installed("django.contrib.admin"):
            from .admin import lock_down

            lock_down()
