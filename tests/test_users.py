"""The token user's lookup: one query, compiled once, the ORM's answer."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from refreshauth import queries, users

pytestmark = pytest.mark.django_db


def test_loads_the_same_user_as_the_orm(user: Any, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        loaded = users.load_user(str(user.pk))
    orm = get_user_model().objects.get(pk=user.pk)
    assert loaded == orm
    assert {f.attname: getattr(loaded, f.attname) for f in orm._meta.concrete_fields} == {
        f.attname: getattr(orm, f.attname) for f in orm._meta.concrete_fields
    }
    assert loaded._state.adding is False and loaded._state.db == "default"


@pytest.mark.parametrize("sub", ["999999", "abc", "", "1.5", "99999999999999999999999", "-1"])
def test_no_user_is_none(user: Any, sub: str) -> None:
    assert users.load_user(sub) is None


def test_by_another_unique_field(user: Any, settings: Any) -> None:
    settings.REFRESHAUTH = {"USER_ID_FIELD": "username"}
    assert users.load_user("alice") == user
    assert users.load_user("nobody") is None


def test_a_non_unique_field_goes_through_the_orm(user: Any, settings: Any) -> None:
    from .factories import UserFactory

    settings.REFRESHAUTH = {"USER_ID_FIELD": "first_name"}
    assert not users._unique(get_user_model(), "first_name")
    UserFactory(username="bo", first_name="Bo")
    UserFactory(username="al1", first_name="Al")
    UserFactory(username="al2", first_name="Al")
    assert users.load_user("Bo").username == "bo"
    assert users.load_user("Al") is None  # two users: no one is picked


def test_a_manager_that_filters_goes_through_the_orm(
    user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager_class = type(get_user_model()._default_manager)
    original = manager_class.get_queryset

    def only_staff(self: Any) -> Any:
        return original(self).filter(is_staff=True)

    monkeypatch.setattr(manager_class, "get_queryset", only_staff)
    assert not queries.plain(get_user_model()._default_manager)
    assert users.load_user(str(user.pk)) is None
    user.is_staff = True
    user.save()
    assert users.load_user(str(user.pk)) == user


def test_loading_fires_post_init(user: Any) -> None:
    from refreshauth.receivers import STATE

    loaded = users.load_user(str(user.pk))
    assert getattr(loaded, STATE) == (user.password, True)
