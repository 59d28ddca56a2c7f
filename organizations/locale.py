from __future__ import annotations

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class DefaultLanguageMiddleware(LocaleMiddleware):
    """German unless the user picked another language.

    The browser's Accept-Language is ignored on purpose: the back office is a German
    product and its users expect German even on an English browser; the language menu
    (stored in the language cookie) is the only way to switch.
    """

    def process_request(self, request):
        supported = {code for code, _ in settings.LANGUAGES}
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in supported:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
