from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from accounts.forms import LoginForm
from accounts.throttle import throttled

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", throttled("signup", "SIGNUP_LIMIT")(views.signup), name="signup"),
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html", authentication_form=LoginForm,
                                                redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", throttled("password-reset", "PASSWORD_RESET_LIMIT")(auth_views.PasswordResetView.as_view()),
         name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/",
         throttled("password-reset-confirm", "PASSWORD_RESET_LIMIT")(auth_views.PasswordResetConfirmView.as_view()),
         name="password_reset_confirm"),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("verify-email/resend/", views.resend_verification, name="verify-email-resend"),
    path("verify-email/<str:token>/", views.verify_email, name="verify-email"),
    path("orgs/switch/", views.org_switch, name="org-switch"),
    path("orgs/new/", views.org_new, name="org-new"),
    path("team/", views.team, name="team"),
    path("team/invite/", views.team_invite, name="team-invite"),
    path("team/<int:pk>/role/", views.member_role, name="member-role"),
    path("team/<int:pk>/remove/", views.member_remove, name="member-remove"),
    path("team/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("invite/<str:token>/", views.invite_accept, name="invite-accept"),
    path("keys/", views.keys, name="keys"),
    path("keys/create/", views.key_create, name="key-create"),
    path("keys/<int:pk>/revoke/", views.key_revoke, name="key-revoke"),
    path("keys/webhook-secret/rotate/", views.webhook_rotate, name="webhook-rotate"),
]
