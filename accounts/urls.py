from django.urls import path

from . import views, views_signin

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
    path("people/<int:pk>/end-sessions/", views_signin.person_end_sessions, name="person-end-sessions"),
    path("people/<int:pk>/password-reset/", views_signin.person_password_reset, name="person-password-reset"),
    path("people/<int:pk>/second-factor-reset/", views_signin.person_second_factor_reset,
         name="person-second-factor-reset"),
    path("second-factor-resets/<int:pk>/decide/", views_signin.second_factor_reset_decide,
         name="second-factor-reset-decide"),
    path("me/security/", views_signin.my_security, name="my-security"),
    path("me/security/tokens/", views_signin.token_create, name="token-create"),
    path("me/security/tokens/<str:token_key>/revoke/", views_signin.token_revoke, name="token-revoke"),
    path("me/security/recovery-codes/", views_signin.recovery_codes, name="recovery-codes"),
    path("me/security/sign-out-everywhere/", views_signin.sign_out_everywhere, name="sign-out-everywhere"),
    path("memberships/add/", views.membership_add, name="membership-add"),
    path("memberships/<int:pk>/end/", views.membership_end, name="membership-end"),
]
