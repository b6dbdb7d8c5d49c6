from typing import Any

from allauth.headless.contrib.rest_framework.authentication import JWTTokenAuthentication
from django.urls import include, path
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from example_project.demo.views import MeView


class AllauthJWTMeView(APIView):
    """The same answer as /api/me/, authenticated by allauth's own JWT strategy."""

    authentication_classes = [JWTTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        user: Any = request.user
        return Response({"id": user.pk, "username": user.get_username()})


urlpatterns = [
    path("_allauth/", include("allauth.headless.urls")),
    path("api/auth/", include("refreshauth.urls")),
    path("api/me/", MeView.as_view(), name="me"),
    path("api/allauth-jwt-me/", AllauthJWTMeView.as_view()),
]
