"""The content calendar's posts pages (included by strategy.urls under /strategy/posts/)."""

from django.urls import path

from . import views_posts

urlpatterns: list = [
    path("", views_posts.mine, name="post-mine"),
    path("new/", views_posts.post_new, name="post-new"),
    path("review/", views_posts.review_queue, name="post-review-queue"),
    path("by-hand/", views_posts.by_hand, name="post-by-hand"),
    path("<int:pk>/", views_posts.post_detail, name="post-detail"),
    path("<int:pk>/edit/", views_posts.post_edit, name="post-edit"),
    path("<int:pk>/action/", views_posts.post_action, name="post-action"),
    path("<int:pk>/media/<int:media_pk>/", views_posts.post_media, name="post-media"),
]
