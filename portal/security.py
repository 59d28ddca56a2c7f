"""Two-factor login in the customer portal: the contact's security page and the login's
second step. The mechanism is the back office's (organizations/two_factor.py); here it
only learns the portal's door, templates and URL names.

The portal's login view takes the code step by mixing in `PortalTwoFactorLoginMixin`.
"""

from __future__ import annotations

from organizations import two_factor

from .access import portal_view


class PortalTwoFactorLoginMixin(two_factor.TwoFactorLoginMixin):
    """Put before the portal's `LoginView`: portal users with two-factor login on go on
    to the code step instead of being logged in."""

    two_factor_code_url = "portal:login_code"


class PortalLoginCodeView(two_factor.TwoFactorCodeView):
    template_name = "portal/security_login_code.html"
    login_url = "portal:login"


@portal_view
def security(request):
    account = request.portal_account
    return two_factor.security_page(
        request,
        template="portal/security.html",
        issuer=account.organization.name,
        organization=account.organization,
        record=account,
        target=account.contact,
        action_prefix="portal_account",
    )
