from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

USERNAME = "demo"
PASSWORD = "demo-password-123"


class Command(BaseCommand):
    help = "Create (or reset) the demo user of the example project and print its credentials."

    def handle(self, *args: Any, **options: Any) -> None:
        user, _ = get_user_model()._default_manager.get_or_create(username=USERNAME)
        if not user.check_password(PASSWORD):
            user.set_password(PASSWORD)
            user.save()
        self.stdout.write(f"Demo user: username={USERNAME} password={PASSWORD}")
