"""The example project as the load scenarios serve it: its own settings, with the MD5
hasher for the clients' logins (as in bench/settings.py) and REFRESH_RATE raised so far
that no client reaches it, though every refresh is still counted against it."""

from example_project.settings import *  # noqa: F403
from example_project.settings import REFRESHAUTH

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REFRESHAUTH = {**REFRESHAUTH, "REFRESH_RATE": "1000000/m"}
