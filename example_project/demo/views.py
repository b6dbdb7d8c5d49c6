from typing import Any

from django.conf import settings
from django.urls import reverse
from django.views.generic import TemplateView
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


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
        context["me_url"] = reverse("me")
        return context
