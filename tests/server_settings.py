"""The example project as the server tests run it: its own settings, plus a grace period
when REFRESHAUTH_TEST_GRACE_SECONDS is set."""

import os
from datetime import timedelta

from example_project.settings import *  # noqa: F403
from example_project.settings import REFRESHAUTH

if os.environ.get("REFRESHAUTH_TEST_GRACE_SECONDS"):
    REFRESHAUTH = {
        **REFRESHAUTH,
        "REUSE_GRACE_PERIOD": timedelta(seconds=int(os.environ["REFRESHAUTH_TEST_GRACE_SECONDS"])),
    }
