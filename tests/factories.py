from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from refreshauth import tokens
from refreshauth.models import RefreshToken, RevokeReason

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    is_active = True

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])


class RefreshTokenFactory(factory.django.DjangoModelFactory):
    """A session row made directly, for admin and cleanup tests; tokens come from
    ``refreshauth.sessions.open_session``."""

    class Meta:
        model = RefreshToken

    id = factory.LazyFunction(uuid.uuid4)
    user = factory.SubFactory(UserFactory)
    jti_hash = factory.LazyFunction(lambda: tokens.digest(tokens.new_jti()))
    created_at = factory.LazyFunction(timezone.now)
    last_used_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    absolute_expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))

    class Params:
        # Expired a day ago: no access token of it can be live any more either.
        expired = factory.Trait(
            expires_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
        )
        revoked = factory.Trait(
            revoked_at=factory.LazyFunction(timezone.now), revoke_reason=RevokeReason.LOGOUT
        )
