"""Input shapes only: every field a JSON string of bounded size, used exactly as sent."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from . import devices

MAX_FIELD_LENGTH = 4096


class StrictCharField(serializers.CharField):
    """A string and only a string: no coercion of numbers, no trimming, at most 4096."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_FIELD_LENGTH)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON ``true`` or ``false``, not ``"yes"`` or ``1``."""

    default_error_messages = {"invalid": _("Must be a boolean.")}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class LoginSerializer(serializers.Serializer[Any]):
    password = StrictCharField()
    device_name = StrictCharField(required=False, max_length=64)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields[get_user_model().USERNAME_FIELD] = StrictCharField()
        return fields


class RefreshSerializer(serializers.Serializer[Any]):
    refresh_token = StrictCharField()
    grant_type = StrictCharField(required=False)


class LogoutSerializer(serializers.Serializer[Any]):
    refresh_token = StrictCharField()


class LogoutAllSerializer(serializers.Serializer[Any]):
    keep_current = StrictBooleanField(required=False, default=False)


class SessionSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(source="pk")
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    ip_address = serializers.CharField(allow_null=True)
    user_agent = serializers.CharField()
    device = serializers.SerializerMethodField()
    dpop = serializers.SerializerMethodField()
    current = serializers.SerializerMethodField()

    def get_device(self, session: Any) -> str:
        return str(session.device_name or devices.describe(session.user_agent))

    def get_dpop(self, session: Any) -> bool:
        return bool(session.dpop_jkt)

    def get_current(self, session: Any) -> bool:
        return str(session.pk) == self.context.get("current_sid")
