from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("notifications/", views.notifications, name="notifications"),
    path("workgroups/", views.workgroup_list, name="workgroup-list"),
    path("workgroups/new/", views.workgroup_form, name="workgroup-create"),
    path("workgroups/<slug:slug>/", views.workgroup_detail, name="workgroup-detail"),
    path("workgroups/<slug:slug>/edit/", views.workgroup_form, name="workgroup-edit"),
    path("departments/", views.department_list, name="department-list"),
    path("departments/new/", views.department_form, name="department-create"),
    path("departments/<slug:slug>/edit/", views.department_form, name="department-edit"),
    path("people/", views.people_list, name="people-list"),
    path("people/new/", views.person_create, name="person-create"),
    path("people/<int:pk>/", views.person_detail, name="person-detail"),
    path("people/unlock/", views.unlock, name="person-unlock"),
    path("memberships/add/", views.membership_add, name="membership-add"),
    path("memberships/<int:pk>/end/", views.membership_end, name="membership-end"),
]
