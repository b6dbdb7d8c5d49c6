"""System checks for the ``REFRESHAUTH`` setting.

What a setting's value alone must be (its kind, and a rule such as "positive" or "one
of") is written beside its default in ``refreshauth.conf.Settings`` and reported here;
what needs another setting, another module or the rest of the project is written here.

| id | what |
|---|---|
| E001 | ``REFRESHAUTH`` is not a dict |
| E002 | unknown key |
| E003 | a value of the wrong type |
| E004 | a lifetime that is not positive, or a negative ``LEEWAY`` |
| E005 | ``ACCESS_TOKEN_LIFETIME`` not shorter than ``REFRESH_TOKEN_LIFETIME`` |
| E006 | access and refresh secrets are equal |
| E007 | unsupported ``ALGORITHM`` |
| E008 | ``REFRESH_TOKEN_TRANSPORT`` is neither "body" nor "cookie" |
| E009 | a secret shorter than its algorithm needs |
| E010 | ``REUSE_GRACE_PERIOD`` negative, or not shorter than ``ACCESS_TOKEN_LIFETIME`` |
| E011 | asymmetric ``ALGORITHM`` without a usable ``ACCESS_TOKEN_PRIVATE_KEY`` |
| E012 | ``ACCESS_TOKEN_PRIVATE_KEY`` set with an HMAC ``ALGORITHM`` |
| E013 | a rate that django-ratelimit cannot read |
| E014 | cookie settings a browser would silently refuse (refresh or access cookie) |
| E015 | ``EXTRA_CLAIMS`` is not an importable callable |
| E016 | ``USER_ID_FIELD`` is not a field of the user model |
| E017 | ``CACHE_ALIAS`` is not in ``CACHES`` |
| E018 | ``MAX_SESSIONS_PER_USER`` is not a positive integer |
| E019 | cookie transport (setting or mount) without Django's ``CsrfViewMiddleware`` |
| E020 | ``DPOP`` is not "off", "allowed" or "required" |
| E021 | DPoP on without ``cryptography`` installed |
| E022 | ``DPOP_ALGORITHMS`` empty, or with an unknown or symmetric algorithm |
| E023 | ``DPOP_PROOF_MAX_AGE`` not positive, or longer than 5 minutes |
| E024 | ``ACCESS_TOKEN_TRANSPORT`` is neither "header" nor "cookie" |
| E025 | ``ACCESS_TOKEN_TRANSPORT = "cookie"`` without ``REFRESH_TOKEN_TRANSPORT = "cookie"`` |
| E026 | ``ACCESS_COOKIE_NAME`` equals ``REFRESH_COOKIE_NAME`` |
| W001 | ``REUSE_GRACE_PERIOD`` above 60 seconds |
| W002 | (deploy) the session-state cache ``CACHE_ALIAS`` is local to each process |
| W003 | (deploy) the rate-limit cache is not shared between processes |
| W004 | (deploy) asymmetric ``ALGORITHM`` without ``ISSUER`` or ``AUDIENCE`` |
| W005 | (deploy) cookie transport with ``REFRESH_COOKIE_SECURE = False`` |
| W006 | (deploy) ``CACHE_ALIAS`` is also the rate-limit cache |
| W007 | (deploy) ``CACHE_ALIAS`` is a backend that evicts entries early |
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings as django_settings
from django.core import checks
from django.core.exceptions import FieldDoesNotExist

from . import keys, mounts, tokens
from .conf import SETTINGS, Setting, Settings, urls_prefix

Messages = list[checks.CheckMessage]
LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)
CULLING_CACHES = (
    "django.core.cache.backends.filebased.FileBasedCache",
    "django.core.cache.backends.db.DatabaseCache",
)
GENEROUS_MAX_ENTRIES = 1_000_000
GRACE_WARNING = timedelta(seconds=60)
CSRF_MIDDLEWARE = "django.middleware.csrf.CsrfViewMiddleware"


def _error(id_: int, msg: str, hint: str | None = None) -> checks.Error:
    return checks.Error(msg, hint=hint, id=f"refreshauth.E{id_:03d}")


def _warning(id_: int, msg: str, hint: str | None = None) -> checks.Warning:
    return checks.Warning(msg, hint=hint, id=f"refreshauth.W{id_:03d}")


class Checked(Settings):
    """The settings as the checks across settings see them: a value that failed its own
    check (kind or rule) reads as its default and is not ``valid()``."""

    def __init__(self, values: dict[str, Any], invalid: Collection[str]) -> None:
        super().__init__(values)
        self.invalid = invalid

    def valid(self, *settings: Setting[Any]) -> bool:
        return not any(setting.name in self.invalid for setting in settings)


def _value_error(setting: Setting[Any], value: Any) -> checks.Error | None:
    """The first of ``setting``'s own checks that ``value`` fails: its kind, then its rules."""
    key = f"REFRESHAUTH[{setting.name!r}]"
    if not setting.kind.test(value):
        return _error(3, f"{key} must be {setting.kind.description}, not {value!r}.")
    for rule in setting.rules:
        if not rule.test(value):
            return _error(rule.error, f"{key} {rule.message}, not {value!r}.", rule.hint)
    return None


def _config() -> tuple[Checked | None, Messages]:
    """The settings for the checks across settings, after each value's own checks."""
    raw = getattr(django_settings, "REFRESHAUTH", {})
    if not isinstance(raw, dict):
        return None, [_error(1, "REFRESHAUTH must be a dict.")]
    errors: Messages = [
        _error(2, f"REFRESHAUTH has an unknown key {key!r}.", hint="Check its spelling.")
        for key in sorted(set(raw) - set(SETTINGS))
    ]
    values: dict[str, Any] = {}
    invalid: set[str] = set()
    for name, setting in SETTINGS.items():
        values[name] = raw.get(name, setting.default)
        error = _value_error(setting, values[name])
        if error is not None:
            errors.append(error)
            invalid.add(name)
            values[name] = setting.default
    return Checked(values, invalid), errors


def check_settings(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> Messages:
    config, errors = _config()
    if config is None:
        return errors
    errors += _check_lifetimes(config)
    errors += _check_keys(config)
    errors += _check_cookies(config)
    errors += _check_references(config)
    errors += _check_dpop(config)
    return errors


def _has_cryptography() -> bool:
    try:
        import cryptography  # noqa: F401
    except ImportError:
        return False
    return True


def _check_dpop(c: Checked) -> Messages:
    from . import dpop

    errors: Messages = []
    if c.DPOP != "off" and not _has_cryptography():
        errors.append(
            _error(
                21,
                "DPoP needs the cryptography package to verify proofs.",
                hint="pip install refreshauth[crypto]",
            )
        )
    refused = [a for a in c.DPOP_ALGORITHMS if a not in dpop.SUPPORTED_ALGORITHMS]
    if refused or not c.DPOP_ALGORITHMS:
        errors.append(
            _error(
                22,
                f"DPOP_ALGORITHMS must name asymmetric algorithms of "
                f"{sorted(dpop.SUPPORTED_ALGORITHMS)}; refused: {refused or 'an empty list'}.",
            )
        )
    return errors


def _check_lifetimes(c: Checked) -> Messages:
    errors: Messages = []
    if not c.valid(Settings.ACCESS_TOKEN_LIFETIME):
        return errors
    if c.valid(Settings.REFRESH_TOKEN_LIFETIME) and (
        c.ACCESS_TOKEN_LIFETIME >= c.REFRESH_TOKEN_LIFETIME
    ):
        errors.append(
            _error(5, "ACCESS_TOKEN_LIFETIME must be shorter than REFRESH_TOKEN_LIFETIME.")
        )
    grace = c.REUSE_GRACE_PERIOD
    if grace < timedelta(0) or grace >= c.ACCESS_TOKEN_LIFETIME:
        errors.append(
            _error(
                10,
                "REUSE_GRACE_PERIOD must be at least 0 and shorter than ACCESS_TOKEN_LIFETIME.",
                hint="A few seconds is enough for racing browser tabs.",
            )
        )
    elif grace > GRACE_WARNING:
        errors.append(
            _warning(
                1,
                "REUSE_GRACE_PERIOD is above 60 seconds: a stolen refresh token stays "
                "usable for that long after its owner refreshed.",
            )
        )
    return errors


def _secret_length_errors(name: str, value: Any, algorithm: str) -> Messages:
    need = tokens.HMAC_KEY_BYTES[algorithm]
    values = value if isinstance(value, list | tuple) else [value]
    if any(v is not None and len(keys.as_bytes(v)) < need for v in values):
        return [
            _error(
                9,
                f"REFRESHAUTH[{name!r}] is shorter than {need} bytes, which {algorithm} needs.",
                hint="Leave it unset to derive it from SECRET_KEY, "
                "or use secrets.token_urlsafe(64).",
            )
        ]
    return []


def _check_keys(c: Checked) -> Messages:
    algorithm = c.ALGORITHM
    if algorithm not in tokens.SUPPORTED_ALGORITHMS:
        return [
            _error(
                7,
                f"REFRESHAUTH['ALGORITHM'] {algorithm!r} is not supported.",
                hint="Use one of " + ", ".join(sorted(tokens.SUPPORTED_ALGORITHMS)) + ".",
            )
        ]
    errors: Messages = []
    refresh_alg = tokens.refresh_algorithm(algorithm)
    if algorithm in tokens.HMAC_ALGORITHMS:
        errors += _secret_length_errors("ACCESS_TOKEN_SECRET", c.ACCESS_TOKEN_SECRET, algorithm)
        errors += _secret_length_errors(
            "ACCESS_TOKEN_SECRET_FALLBACKS", c.ACCESS_TOKEN_SECRET_FALLBACKS or [], algorithm
        )
        if c.ACCESS_TOKEN_PRIVATE_KEY or c.ACCESS_TOKEN_PRIVATE_KEY_FALLBACKS:
            errors.append(
                _error(
                    12,
                    "ACCESS_TOKEN_PRIVATE_KEY is set but ALGORITHM is an HMAC algorithm.",
                    hint="Set ALGORITHM to the key's algorithm (RS256, ES256, EdDSA, ...).",
                )
            )
    else:
        errors += _check_private_keys(c, algorithm)
    errors += _secret_length_errors("REFRESH_TOKEN_SECRET", c.REFRESH_TOKEN_SECRET, refresh_alg)
    errors += _secret_length_errors(
        "REFRESH_TOKEN_SECRET_FALLBACKS", c.REFRESH_TOKEN_SECRET_FALLBACKS or [], refresh_alg
    )
    access, refresh = c.ACCESS_TOKEN_SECRET, c.REFRESH_TOKEN_SECRET
    if access is not None and refresh is not None:
        if keys.as_bytes(access) == keys.as_bytes(refresh):
            errors.append(_error(6, "ACCESS_TOKEN_SECRET and REFRESH_TOKEN_SECRET must differ."))
    return errors


def _check_private_keys(c: Checked, algorithm: str) -> Messages:
    if not c.ACCESS_TOKEN_PRIVATE_KEY:
        return [
            _error(
                11,
                f"ALGORITHM {algorithm} needs REFRESHAUTH['ACCESS_TOKEN_PRIVATE_KEY'].",
                hint="A PEM private key for that algorithm.",
            )
        ]
    for pem in [c.ACCESS_TOKEN_PRIVATE_KEY, *c.ACCESS_TOKEN_PRIVATE_KEY_FALLBACKS]:
        try:
            keys.asymmetric_key(pem, algorithm)
        except Exception as exc:  # PyJWT and cryptography raise many kinds
            return [
                _error(
                    11,
                    f"ACCESS_TOKEN_PRIVATE_KEY cannot be used with {algorithm}: {exc}",
                    hint="Install refreshauth[crypto] and give a PEM private key of that type.",
                )
            ]
    return []


def _prefix_errors(
    cookie: str, name: str, path: str | None, path_key: str, c: Checked
) -> Messages:
    """Errors for a ``__Host-`` or ``__Secure-`` cookie name that browsers would refuse with
    the shared ``REFRESH_COOKIE_SECURE`` and ``REFRESH_COOKIE_DOMAIN`` (RFC 6265bis 4.1.3)."""
    errors: Messages = []
    secure, domain = c.REFRESH_COOKIE_SECURE, c.REFRESH_COOKIE_DOMAIN
    prefix = name.lower()  # browsers match the prefixes in any letter case
    if prefix.startswith("__host-") and (not secure or path != "/" or domain):
        errors.append(
            _error(
                14,
                f"Browsers refuse the {cookie} cookie {name!r}: a __Host- cookie must be "
                f"Secure, have Path=/ and no Domain (here Path={path!r}, Domain={domain!r}, "
                f"Secure={secure}).",
                hint=f"Set {path_key} to '/', REFRESH_COOKIE_DOMAIN to None and "
                "REFRESH_COOKIE_SECURE to True.",
            )
        )
    if prefix.startswith("__secure-") and not secure:
        errors.append(
            _error(
                14,
                f"Browsers refuse the {cookie} cookie {name!r}: a __Secure- cookie must be "
                "Secure.",
                hint="Set REFRESH_COOKIE_SECURE to True.",
            )
        )
    return errors


def _check_cookies(c: Checked) -> Messages:
    errors: Messages = []
    if c.REFRESH_COOKIE_SAMESITE == "None" and not c.REFRESH_COOKIE_SECURE:
        errors.append(_error(14, "Browsers refuse a SameSite=None cookie without Secure."))
    refresh_path = c.REFRESH_COOKIE_PATH
    if refresh_path is None:
        refresh_path = urls_prefix()
    errors += _prefix_errors(
        "refresh", c.REFRESH_COOKIE_NAME, refresh_path, "REFRESH_COOKIE_PATH", c
    )
    errors += _prefix_errors(
        "access", c.ACCESS_COOKIE_NAME, c.ACCESS_COOKIE_PATH, "ACCESS_COOKIE_PATH", c
    )
    if (
        c.ACCESS_TOKEN_TRANSPORT == "cookie"
        and c.valid(Settings.REFRESH_TOKEN_TRANSPORT)
        and c.REFRESH_TOKEN_TRANSPORT != "cookie"
    ):
        errors.append(
            _error(
                25,
                "ACCESS_TOKEN_TRANSPORT 'cookie' needs REFRESH_TOKEN_TRANSPORT 'cookie': the "
                "access cookie is renewed by refresh/, which then needs the refresh cookie.",
                hint="Set REFRESH_TOKEN_TRANSPORT to 'cookie', or ACCESS_TOKEN_TRANSPORT to "
                "'header'.",
            )
        )
    if c.ACCESS_COOKIE_NAME == c.REFRESH_COOKIE_NAME:
        errors.append(
            _error(
                26,
                f"ACCESS_COOKIE_NAME and REFRESH_COOKIE_NAME are both "
                f"{c.ACCESS_COOKIE_NAME!r}: each cookie would overwrite or shadow the other.",
            )
        )
    uses_cookie = (
        c.REFRESH_TOKEN_TRANSPORT == "cookie"
        or c.ACCESS_TOKEN_TRANSPORT == "cookie"
        or _cookie_mount()
    )
    if uses_cookie and CSRF_MIDDLEWARE not in django_settings.MIDDLEWARE:
        errors.append(
            _error(
                19,
                "Cookie transport (REFRESH_TOKEN_TRANSPORT, or a patterns('cookie') mount) "
                "needs Django's CsrfViewMiddleware: it sets the CSRF cookie that login/, "
                "refresh/ and logout/ check.",
                hint=f"Add {CSRF_MIDDLEWARE!r} to MIDDLEWARE.",
            )
        )
    return errors


def _cookie_mount() -> bool:
    """Whether the URLconf serves a view with ``transport="cookie"`` (``patterns("cookie")``)."""
    try:
        return mounts.serves("transport", "cookie")
    except Exception:  # a broken URLconf is reported by Django's own checks
        return False


def _check_references(c: Checked) -> Messages:
    from django.contrib.auth import get_user_model
    from django.utils.module_loading import import_string

    errors: Messages = []
    if c.EXTRA_CLAIMS:
        try:
            ok = callable(import_string(c.EXTRA_CLAIMS))
        except ImportError:
            ok = False
        if not ok:
            errors.append(
                _error(15, f"EXTRA_CLAIMS {c.EXTRA_CLAIMS!r} is not an importable callable.")
            )
    field = c.USER_ID_FIELD
    if field != "pk":
        try:
            get_user_model()._meta.get_field(field)
        except FieldDoesNotExist:
            errors.append(_error(16, f"USER_ID_FIELD {field!r} is not a field of the user model."))
    if c.CACHE_ALIAS not in django_settings.CACHES:
        errors.append(_error(17, f"CACHE_ALIAS {c.CACHE_ALIAS!r} is not in CACHES."))
    return errors


def _is_local(alias: str) -> bool:
    backend = django_settings.CACHES.get(alias, {}).get("BACKEND", "")
    return backend in LOCAL_CACHES


def _evicts_early(alias: str) -> bool:
    """A backend that drops entries before their timeout when it fills up: memcached
    (LRU), and the culling backends (file, database) below a generous ``MAX_ENTRIES``."""
    config = django_settings.CACHES.get(alias, {})
    backend = config.get("BACKEND", "")
    if "memcached" in backend.lower():
        return True
    if backend in CULLING_CACHES or any(_is_subclass(backend, base) for base in CULLING_CACHES):
        options = config.get("OPTIONS", {})
        max_entries = options.get("MAX_ENTRIES", config.get("MAX_ENTRIES", 300))
        return not isinstance(max_entries, int) or max_entries < GENEROUS_MAX_ENTRIES
    return False


def _is_subclass(path: str, base: str) -> bool:
    from django.utils.module_loading import import_string

    try:
        return issubclass(import_string(path), import_string(base))
    except (ImportError, TypeError):
        return False


def _check_state_cache(alias: str, rate_alias: str | None) -> Messages:
    warnings: Messages = []
    if _is_local(alias):
        warnings.append(
            _warning(
                2,
                f"The session-state cache {alias!r} is local to each process: a session "
                "revoked in one worker keeps its access tokens alive in the others for up "
                "to SESSION_CACHE_TTL.",
                hint="Point CACHE_ALIAS at a cache shared by every process (Django's Redis "
                "backend).",
            )
        )
    if rate_alias is not None and alias == rate_alias:
        warnings.append(
            _warning(
                6,
                f"CACHE_ALIAS {alias!r} is also the rate-limit cache: a flood of rate-limit "
                "counters competes with sessions' revocation state for memory.",
                hint="Give CACHE_ALIAS a cache alias of its own (another Redis database).",
            )
        )
    if _evicts_early(alias):
        warnings.append(
            _warning(
                7,
                f"The session-state cache {alias!r} evicts entries when it fills up: every "
                "evicted entry costs a database read, and revocation marks written while "
                "the cache was unreachable are not retried.",
                hint="Use Redis with maxmemory-policy noeviction or volatile-lru with room, "
                f"or raise MAX_ENTRIES to at least {GENEROUS_MAX_ENTRIES}.",
            )
        )
    return warnings


def check_deploy(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> Messages:
    config, errors = _config()
    if errors or config is None:
        return []
    warnings: Messages = []
    alias = config.CACHE_ALIAS
    rate_alias = getattr(django_settings, "RATELIMIT_USE_CACHE", "default")
    uses_rates = any((config.LOGIN_RATE, config.LOGIN_ACCOUNT_RATE, config.REFRESH_RATE))
    if config.REVOKE_ACCESS_TOKENS and alias in django_settings.CACHES:
        warnings += _check_state_cache(alias, rate_alias if uses_rates else None)
    if uses_rates and rate_alias in django_settings.CACHES and _is_local(rate_alias):
        warnings.append(
            _warning(
                3,
                f"The rate-limit cache {rate_alias!r} is local to each process: every worker "
                "counts on its own, so the limits are multiplied by the number of workers.",
                hint="Set RATELIMIT_USE_CACHE to a shared cache such as Redis.",
            )
        )
    if config.ALGORITHM in tokens.ASYMMETRIC_ALGORITHMS and not (
        config.ISSUER and config.AUDIENCE
    ):
        warnings.append(
            _warning(
                4,
                "Access tokens are verified by other services through jwks/, but ISSUER or "
                "AUDIENCE is not set: a token meant for one service is accepted by another.",
            )
        )
    if config.REFRESH_TOKEN_TRANSPORT == "cookie" and not config.REFRESH_COOKIE_SECURE:
        cookies = (
            "The refresh and access cookies are"
            if config.ACCESS_TOKEN_TRANSPORT == "cookie"
            else "The refresh cookie is"
        )
        warnings.append(
            _warning(5, f"{cookies} sent over plain HTTP: REFRESH_COOKIE_SECURE is False.")
        )
    return warnings


def register() -> None:
    checks.register(check_settings, checks.Tags.security)
    checks.register(check_deploy, checks.Tags.security, deploy=True)
