from django.apps import AppConfig


class SocialopsConfig(AppConfig):
    name = "socialops"
    verbose_name = "SocialOps core"
