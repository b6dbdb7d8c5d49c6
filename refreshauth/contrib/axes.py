"""django-axes beside refreshauth: a lockout at refreshauth's ``login/`` answers in
refreshauth's shape.

refreshauth's ``login/`` goes through ``django.contrib.auth.authenticate(request=...)``,
so axes counts its failures and locks it out like any login form. axes' own middleware
then answers a lockout with its page (HTML, a template or a redirect). List this
middleware just before axes' own, and a lockout of refreshauth's endpoints answers
429 ``{"detail": ..., "code": "rate_limited"}`` with ``Retry-After`` instead; every
other page keeps axes' answer::

    MIDDLEWARE = [
        ...,
        "refreshauth.contrib.axes.LockoutMiddleware",
        "axes.middleware.AxesMiddleware",
    ]
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.utils.decorators import sync_and_async_middleware

from refreshauth.exceptions import RateLimited

__all__ = ["PERMANENT_LOCKOUT_RETRY_AFTER", "LockoutMiddleware", "lockout_response"]

# What Retry-After says when axes locks for good (no AXES_COOLOFF_TIME): until an
# administrator resets the lock, a retry is pointless; a day is as good as any.
PERMANENT_LOCKOUT_RETRY_AFTER = 24 * 3600


def is_refreshauth_request(request: HttpRequest) -> bool:
    """Whether the request was served by one of refreshauth's views."""
    from refreshauth.views import RefreshAuthAPIView

    match = getattr(request, "resolver_match", None)
    view = getattr(getattr(match, "func", None), "cls", None)
    return isinstance(view, type) and issubclass(view, RefreshAuthAPIView)


def retry_after(request: HttpRequest) -> int:
    """axes' cool-off in whole seconds (an upper bound of the time left)."""
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    if cool_off is None:
        return PERMANENT_LOCKOUT_RETRY_AFTER
    return max(1, int(cool_off.total_seconds()))


def lockout_response(request: HttpRequest) -> JsonResponse:
    """refreshauth's 429: ``{"detail", "code": "rate_limited"}`` with ``Retry-After``."""
    error = RateLimited(retry_after(request))
    return JsonResponse(
        {"detail": error.detail, "code": error.code},
        status=429,
        headers={"Retry-After": str(error.retry_after), "Cache-Control": "no-store"},
    )


def _answer(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    if getattr(request, "axes_locked_out", False) and is_refreshauth_request(request):
        return lockout_response(request)
    return response


@sync_and_async_middleware
def LockoutMiddleware(
    get_response: Callable[[HttpRequest], Any],
) -> Callable[[HttpRequest], Any]:
    """Replaces axes' lockout answer at refreshauth's endpoints with refreshauth's 429."""
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponseBase:
            response = await get_response(request)
            answer: Callable[..., Awaitable[HttpResponseBase]] = sync_to_async(_answer)
            return await answer(request, response)

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponseBase:
        return _answer(request, get_response(request))

    return middleware
