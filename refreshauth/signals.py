"""Signals refreshauth sends. Each is sent with ``sender`` set to the RefreshToken model."""

from django.dispatch import Signal

# A login opened a new session. kwargs: user, session, request (None outside a request).
session_opened = Signal()

# A session was revoked. kwargs: user, session, reason (a RevokeReason value), request.
# Sent once per session, after the revocation is written, for every path: logout,
# logout-all, the sessions endpoint, reuse, password change, deactivation, the admin.
session_revoked = Signal()

# A rotated refresh token was presented again: likely theft. The session has been
# revoked (session_revoked is sent too). kwargs: user, session, request.
refresh_token_reused = Signal()
