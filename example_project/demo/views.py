import base64
import json
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import NoReverseMatch, reverse
from django.views import View
from django.views.generic import TemplateView
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from refreshauth.conf import settings as refreshauth_settings


class MeSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    username = serializers.CharField()


class MeView(APIView):
    """GET /api/me/: who the access token belongs to."""

    permission_classes = [IsAuthenticated]
    serializer_class = MeSerializer

    def get(self, request: Request) -> Response:
        return Response({"id": request.user.pk, "username": request.user.get_username()})


if settings.OPENAPI:
    from drf_spectacular.utils import OpenApiResponse, extend_schema

    from refreshauth.openapi import Error

    MeView = extend_schema(
        methods=["GET"],
        responses={
            200: MeSerializer,
            401: OpenApiResponse(Error, description="No valid access token."),
            503: OpenApiResponse(Error, description="Cache unavailable."),
        },
    )(MeView)


class DemoPage(TemplateView):
    """GET /: the browser demo, a client of the cookie-transport mount."""

    template_name = "demo/index.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["auth_prefix"] = reverse("refreshauth_cookie:login")[: -len("login/")]
        try:  # a mount with both tokens in cookies, where the project has one
            context["bff_prefix"] = reverse("refreshauth_bff:login")[: -len("login/")]
        except NoReverseMatch:
            context["bff_prefix"] = ""
        context["me_url"] = reverse("me")
        context["steal_url"] = reverse("demo-steal") if settings.DEMO_THEFT else ""
        lifetime = refreshauth_settings.ACCESS_TOKEN_LIFETIME
        context["access_seconds"] = int(lifetime.total_seconds())
        context["grace_seconds"] = int(refreshauth_settings.REUSE_GRACE_PERIOD.total_seconds())
        # DPoP's setting, once this refreshauth has it.
        context["dpop_mode"] = getattr(refreshauth_settings, "DPOP", "off")
        return context


def _session_id(token: str) -> str:
    """The ``sid`` claim of a refresh token, read without verifying it: only a cache key."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims["sid"])
    except (IndexError, ValueError, KeyError, TypeError):
        return "unknown"


class StealView(View):
    """POST /demo/auth/steal/: the demo's thief, on when ``REFRESHAUTH_DEMO_THEFT=1``
    (``make demo`` sets it). Never in a real project.

    It sits under the cookie mount's path so that the browser sends it the HttpOnly
    refresh cookie, which no script on the page can read. It then plays a thief who
    copied that cookie: an HTTP client of its own, with no cookies, presents the token
    to the body mount's ``refresh/`` before the browser does. The browser's next
    refresh presents the token the thief already spent, and reuse detection ends the
    session. With ``?again=1`` the thief tries the refresh token it got, to show that
    it died with the session. No token goes back to the page.
    """

    def post(self, request: HttpRequest) -> JsonResponse:
        if not settings.DEMO_THEFT:
            raise Http404
        copied = request.COOKIES.get(refreshauth_settings.REFRESH_COOKIE_NAME, "")
        if not copied:
            return JsonResponse(
                {"detail": "No refresh cookie came with this request."}, status=400
            )
        key = "demo-thief:" + _session_id(copied)
        token = cache.get(key) if request.GET.get("again") else copied
        if not token:
            return JsonResponse({"detail": "The thief has no token of this session."}, status=400)
        status, answer = self._present(request, token)
        if status == 200 and "refresh_token" in answer:
            cache.set(key, answer["refresh_token"], 600)
        return JsonResponse(
            {
                "status": status,
                "code": answer.get("code", ""),
                "detail": answer.get("detail", ""),
                "token_type": answer.get("token_type", ""),
            }
        )

    def _present(self, request: HttpRequest, token: str) -> tuple[int, dict[str, Any]]:
        url = request.build_absolute_uri(reverse("refreshauth:refresh"))
        thief = urllib.request.Request(
            url,
            data=json.dumps({"refresh_token": token}).encode(),
            headers={"Content-Type": "application/json", "User-Agent": "thief/1.0"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(thief, timeout=15) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            try:
                return error.code, json.loads(error.read() or b"{}")
            except ValueError:
                return error.code, {}
