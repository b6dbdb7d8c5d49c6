"""The test project with a custom user model (email as USERNAME_FIELD)."""

from tests.settings import *  # noqa: F403
from tests.settings import BASE_DIR, DATABASES, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.customuser"]
AUTH_USER_MODEL = "customuser.EmailUser"
REFRESHAUTH = {"USER_ID_FIELD": "handle"}

# A test database of its own: the main test run has its own open.
DATABASES = {"default": {**DATABASES["default"]}}
DATABASES["default"]["TEST"] = {
    "NAME": str(BASE_DIR / ".test-db-customuser.sqlite3")
    if DATABASES["default"]["ENGINE"].endswith("sqlite3")
    else "test_refreshauth_customuser"
}
