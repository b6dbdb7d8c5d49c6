"""Run with the custom-user settings: the whole flow with another USERNAME_FIELD."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from refreshauth import sessions
from refreshauth.admin import RefreshTokenAdmin
from refreshauth.models import RefreshToken


def run() -> None:
    model = get_user_model()
    user = model.objects.create_user("ada@example.com", "password one 234", handle="ada")
    api = APIClient()
    answer = api.post(
        "/api/auth/login/",
        {"email": "ada@example.com", "password": "password one 234"},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    tokens = answer.json()
    me = api.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert me.json() == {"id": user.pk, "username": "ada@example.com"}, me.content
    assert sessions.tokens.decode_access(tokens["access_token"])["sub"] == "ada"
    refreshed = api.post(
        "/api/auth/refresh/", {"refresh_token": tokens["refresh_token"]}, format="json"
    )
    assert refreshed.status_code == 200, refreshed.content
    # A login with the default field name is a 400: the field is "email" here.
    bad = api.post("/api/auth/login/", {"username": "ada", "password": "x"}, format="json")
    assert bad.status_code == 400

    # Saving another field revokes nothing; a password change revokes everything.
    user.handle = "ada"
    user.save()
    assert RefreshToken.objects.live().count() == 1
    user.set_password("password two 234")
    user.save()
    assert RefreshToken.objects.live().count() == 0

    # The admin searches by the custom USERNAME_FIELD.
    sessions.open_session(user)
    admin_user = model.objects.create_superuser(
        "root@example.com", "root pass 1234", handle="root"
    )
    client = Client()
    client.force_login(admin_user)
    page = client.get("/admin/refreshauth/refreshtoken/?q=ada@example.com")
    assert page.status_code == 200
    assert page.context["cl"].result_count == 2  # the revoked session and the new one
    assert RefreshTokenAdmin(RefreshToken, None).get_search_fields(None) == ["user__email"]  # type: ignore[arg-type]
