from django.urls import include, path

app_name = "inbox"

urlpatterns = [
    path("", include("inbox.urls_settings")),
    path("", include("inbox.urls_pages")),
]
