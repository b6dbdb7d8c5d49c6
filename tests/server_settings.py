"""The example project as the server tests run it: its own settings, plus the knobs the
tests turn through the environment (a grace period, a short access-token lifetime, a
refresh rate)."""

import os
from datetime import timedelta

from example_project.settings import *  # noqa: F403
from example_project.settings import LOGGING, REFRESHAUTH

if os.environ.get("REFRESHAUTH_TEST_GRACE_SECONDS"):
    REFRESHAUTH = {
        **REFRESHAUTH,
        "REUSE_GRACE_PERIOD": timedelta(seconds=int(os.environ["REFRESHAUTH_TEST_GRACE_SECONDS"])),
    }
if os.environ.get("REFRESHAUTH_TEST_ACCESS_SECONDS"):
    REFRESHAUTH = {
        **REFRESHAUTH,
        "ACCESS_TOKEN_LIFETIME": timedelta(
            seconds=int(os.environ["REFRESHAUTH_TEST_ACCESS_SECONDS"])
        ),
    }
if os.environ.get("REFRESHAUTH_TEST_REFRESH_RATE"):
    REFRESHAUTH = {**REFRESHAUTH, "REFRESH_RATE": os.environ["REFRESHAUTH_TEST_REFRESH_RATE"]}

# A request that fails with a 500 leaves its traceback in the server's log, where the
# server fixture looks for it.
LOGGING = {
    **LOGGING,
    "loggers": {
        **LOGGING["loggers"],
        "django.request": {"handlers": ["console"], "level": "ERROR"},
    },
}
