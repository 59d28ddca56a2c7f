from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from dashboard.views import dashboard
from organizations.views import StaffLoginCodeView, StaffLoginView
from portal.forms import StaffLoginForm

urlpatterns = [
    path("", dashboard, name="dashboard"),
    # A customer's portal account typed in here is sent to the portal, not to a 403 page.
    path("accounts/login/", StaffLoginView.as_view(authentication_form=StaffLoginForm), name="login"),
    path("accounts/login/code/", StaffLoginCodeView.as_view(), name="login_code"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("organization/", include("organizations.urls")),
    path("customers/", include("customers.urls")),
    path("catalog/", include("catalog.urls")),
    path("folders/", include("folders.urls")),
    path("financing/", include("financing.urls")),
    path("documents/", include("documents.urls")),
    path("billing/", include("billing.urls")),
    path("payments/", include("payments.urls")),
    path("reports/", include("reports.urls")),
    path("tickets/", include("tickets.urls")),
    path("portal/", include("portal.urls")),
    # The back office's side of the portal (invitations), under the staff session.
    path("portal-access/", include("portal.staff_urls")),
    path("dev/", include("devtools.urls")),
]

handler400 = "organizations.errors.error_400"
handler403 = "organizations.errors.error_403"
handler404 = "organizations.errors.error_404"
handler500 = "organizations.errors.error_500"
