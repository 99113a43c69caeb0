from django.urls import path

from . import views_custody

urlpatterns = [
    path("custody/", views_custody.custody_overview, name="custody"),
]
