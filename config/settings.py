"""Vigil settings. Every deployment value comes from the environment, with safe local defaults."""

import os
from datetime import timedelta
from pathlib import Path

import plotly
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from .database import parse_database_url
from .env import envbool, envfloat, envint, envlist

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", "False")
SECRET_KEY = os.getenv("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # A known key lets anyone forge sessions: never fall back to one silently.
        raise ImproperlyConfigured(
            "SECRET_KEY is not set and DEBUG is off. Set SECRET_KEY to a long random string, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'` (`make run`, `make test` and "
            "manage.py make one under var/ by themselves), or DEBUG=True for development."
        )
    SECRET_KEY = "dev-only-insecure-key"
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.getenv("SITE_URL", "http://127.0.0.1:8000")

# Behind a TLS-terminating proxy, name the header it sets (e.g. X-Forwarded-Proto) so Django
# knows the request was https: HSTS and Secure cookies then apply. Only set it when the proxy
# always sets (or strips) that header, or clients can claim https.
_PROXY_SSL_HEADER = os.getenv("SECURE_PROXY_SSL_HEADER", "").strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https") if _PROXY_SSL_HEADER else None
)
BEHIND_TLS = SITE_URL.startswith("https://") or SECURE_PROXY_SSL_HEADER is not None
# HSTS is sent on https requests only (SecurityMiddleware), so it is safe to default on.
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000")
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "False")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "False")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", str(BEHIND_TLS and not DEBUG))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # no page script reads the token: forms carry it
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# config.middleware.ContentSecurityPolicyMiddleware. Pages load scripts from /static/ only
# (figures travel as JSON in <script type="application/json">); plotly sets inline styles.
CONTENT_SECURITY_POLICY = os.getenv(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "core",
    "monitoring",
    "explain",
    "ops",
    "lifecycle",
    "alerts",
]

MIDDLEWARE = [
    "config.middleware.ServerTimingMiddleware",
    "config.middleware.BodyTimeoutMiddleware",
    "core.middleware.RejectNulMiddleware",  # issue 10 (H5): NUL in a URL is a 400, never a 500
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.roles.nav_context",
            ],
        },
    },
]

DATABASES = {
    "default": parse_database_url(os.getenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vigil"))
}
# Each concurrent test run (e.g. two developers on one machine) can pick its own test database.
DATABASES["default"]["TEST"] = {"NAME": os.getenv("VIGIL_TEST_DB", "test_vigil")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Login throttling (django-axes): after VIGIL_LOGIN_FAILURE_LIMIT wrong passwords for one
# username from one address, that pair is locked out for VIGIL_LOGIN_LOCKOUT_MINUTES.
AUTHENTICATION_BACKENDS = [
    "core.auth_backends.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("VIGIL_LOGIN_FAILURE_LIMIT", "10")
AXES_COOLOFF_TIME = timedelta(minutes=envint("VIGIL_LOGIN_LOCKOUT_MINUTES", "15"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/home/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# plotly.js ships inside the plotly package: serve it from there, no CDN.
STATICFILES_DIRS = [BASE_DIR / "static", Path(plotly.__file__).parent / "package_data"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(os.getenv("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"

# Ingestion bodies are read by our own parser with its own limits (413), not Django's.
DATA_UPLOAD_MAX_MEMORY_SIZE = None
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
VIGIL_MAX_BATCH_ROWS = envint("VIGIL_MAX_BATCH_ROWS", "50000")
VIGIL_MAX_BODY_BYTES = envint("VIGIL_MAX_BODY_BYTES", str(100 * 1024 * 1024))
VIGIL_MAX_ARTIFACT_BYTES = envint("VIGIL_MAX_ARTIFACT_BYTES", str(200 * 1024 * 1024))
VIGIL_MAX_FUTURE_SECONDS = envint("VIGIL_MAX_FUTURE_SECONDS", "86400")
# A client that stops sending its body is cut off after this long (config.middleware).
VIGIL_BODY_TIMEOUT_SECONDS = envfloat("VIGIL_BODY_TIMEOUT_SECONDS", "30")
# How long a process may reuse a token lookup: a revoked token is refused within this time.
VIGIL_TOKEN_CACHE_SECONDS = envint("VIGIL_TOKEN_CACHE_SECONDS", "5")
# Explanations: background rows for linear/permutation explainers, trend sample per UTC day,
# and the share change (absolute) that flags a feature's importance jump.
VIGIL_SHAP_BACKGROUND = envint("VIGIL_SHAP_BACKGROUND", "100")
VIGIL_IMPORTANCE_SAMPLE_PER_DAY = envint("VIGIL_IMPORTANCE_SAMPLE_PER_DAY", "2000")
VIGIL_IMPORTANCE_SHARE_JUMP = envfloat("VIGIL_IMPORTANCE_SHARE_JUMP", "0.05")
# Ops console: boosts are temporary by default and can never outlast the maximum.
VIGIL_BOOST_MAX_DAYS = envint("VIGIL_BOOST_MAX_DAYS", "30")
VIGIL_BOOST_DEFAULT_DAYS = envint("VIGIL_BOOST_DEFAULT_DAYS", "7")
# Review queue: the largest sample one batch may draw, and the score band around the threshold
# that counts as "near the threshold" (a stratum of its own).
VIGIL_REVIEW_MAX_SIZE = envint("VIGIL_REVIEW_MAX_SIZE", "5000")
VIGIL_REVIEW_NEAR_THRESHOLD = envfloat("VIGIL_REVIEW_NEAR_THRESHOLD", "0.05")
# First retry delay of a lifecycle webhook call (doubling after each failure, capped at 10 minutes).
VIGIL_WEBHOOK_BACKOFF_SECONDS = envfloat("VIGIL_WEBHOOK_BACKOFF_SECONDS", "2")
VIGIL_RERANK_MAX_CANDIDATES = envint("VIGIL_RERANK_MAX_CANDIDATES", "10000")
VIGIL_RERANK_MAX_BYTES = envint("VIGIL_RERANK_MAX_BYTES", str(4 * 1024 * 1024))
# --- Input bounds against hostile clients (issue 10, H5). A value past a bound rejects its
# row (with the index and reason) or the request, never a 500 and never stored.
VIGIL_MAX_OBJECT_BODY_BYTES = envint("VIGIL_MAX_OBJECT_BODY_BYTES", str(1024 * 1024))  # registry, overrides
VIGIL_MAX_CATEGORY_CHARS = envint("VIGIL_MAX_CATEGORY_CHARS", "200")  # a categorical value, a CSV text cell
VIGIL_MAX_UNKNOWN_KEYS = envint("VIGIL_MAX_UNKNOWN_KEYS", "20")  # feature keys not in the schema, per row
VIGIL_MAX_FEATURE_KEY_CHARS = envint("VIGIL_MAX_FEATURE_KEY_CHARS", "200")
VIGIL_MAX_FEATURES_BYTES = envint("VIGIL_MAX_FEATURES_BYTES", str(16 * 1024))  # one row's features as JSON
VIGIL_MAX_PREDICTION_BYTES = envint("VIGIL_MAX_PREDICTION_BYTES", str(8 * 1024))  # one row's prediction as JSON
VIGIL_MAX_METADATA_BYTES = envint("VIGIL_MAX_METADATA_BYTES", str(64 * 1024))  # a version's metadata as JSON
VIGIL_MAX_METADATA_DEPTH = envint("VIGIL_MAX_METADATA_DEPTH", "20")
VIGIL_MAX_UNSEEN_CATEGORIES = envint("VIGIL_MAX_UNSEEN_CATEGORIES", "50")  # kept per feature in a sketch, rest "other"
# --- end of issue 10 (H5) bounds

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["core.api.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.JSONParser"],  # orjson: deep nesting is a 400
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Vigil API",
    "DESCRIPTION": "Monitoring, explanations and overrides for machine-learning models.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # issue 10 (H5): every operation documents the 4xx answers it can give.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "core.api.schema.add_error_responses"],
}

CELERY_BROKER_URL = os.getenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = os.getenv("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Tasks are acked when they finish (acks_late), so a worker killed mid-task leaves its message
# unacked; the Redis transport hands it out again only after this long. Its default (1 h)
# left a killed profile re-fold waiting an hour. 15 min should outlast our longest task (a
# whole version's re-fold), and one still running then and delivered twice is harmless:
# re-folds and analyses take a per-version lock and skip, compaction claims with SKIP LOCKED.
# The beat also resumes unfinished re-folds every minute (monitoring.tasks).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": envint("VIGIL_BROKER_VISIBILITY_SECONDS", "900")}
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", "False")
# One queue per workload, so a backlog of one kind never waits in front of another (a SHAP
# backlog must not delay an alert): deployments run workers per queue (docker-compose.yml),
# `make run` one worker consuming all four. Every task of ours has a route (tests/test_queues.py):
# exact names first, then name patterns, so housekeeping tasks added later (partitions,
# retention) land on "maintenance" without an edit here.
VIGIL_QUEUES = ("engine", "explain", "notify", "maintenance")
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in VIGIL_QUEUES]
CELERY_TASK_DEFAULT_QUEUE = "maintenance"  # a consumed queue all the same, should a route be missing
CELERY_TASK_ROUTES = {
    # engine: compaction, analyses and reference-profile re-folds (CPU on numpy, minutes at most).
    "monitoring.tasks.compact_sketches_task": {"queue": "engine"},
    "monitoring.tasks.analyse_version_task": {"queue": "engine"},
    "monitoring.tasks.build_reference_profile_task": {"queue": "engine"},
    # explain: SHAP (importance trends per version): the costliest work, seconds to minutes per task.
    "explain.tasks.*": {"queue": "explain"},
    # notify: alert evaluation and delivery (email, webhooks, lifecycle webhook calls): short, latency-bound.
    "alerts.tasks.*": {"queue": "notify"},
    "lifecycle.tasks.deliver_webhook_task": {"queue": "notify"},
    # maintenance: slow housekeeping that nobody waits for.
    "lifecycle.tasks.lifecycle_watch_task": {"queue": "maintenance"},
    "ops.tasks.*": {"queue": "maintenance"},
    "*.tasks.*partition*": {"queue": "maintenance"},
    "*.tasks.*retention*": {"queue": "maintenance"},
}
CELERY_BEAT_SCHEDULER = "core.beat:GuardedScheduler"
# Only one beat sends even if several run (core.beat): a standby tries the lock this often,
# so it takes over at most this long after the leader dies.
VIGIL_BEAT_STANDBY_SECONDS = envfloat("VIGIL_BEAT_STANDBY_SECONDS", "5")
CELERY_TIMEZONE = "UTC"
# Each app adds its periodic tasks here (name -> {"task": ..., "schedule": seconds}).
CELERY_BEAT_SCHEDULE: dict = {}
CELERY_BEAT_SCHEDULE["ops-review-schedules"] = {"task": "ops.tasks.review_schedules_task", "schedule": 3600}
CELERY_BEAT_SCHEDULE["explain-importance-trends"] = {"task": "explain.tasks.importance_trends_task", "schedule": 3600}
# Compact appended sketches, then fan out analyses of versions whose windows changed.
CELERY_BEAT_SCHEDULE["lifecycle-watch"] = {"task": "lifecycle.tasks.lifecycle_watch_task", "schedule": 3600}
CELERY_BEAT_SCHEDULE["monitoring-compact-analyse"] = {
    "task": "monitoring.tasks.compact_sketches_task",
    "schedule": envint("VIGIL_COMPACT_SECONDS", "60"),
}
# The model page says analyses are late when data waits longer than this to be analysed.
VIGIL_ANALYSIS_LATE_SECONDS = envint("VIGIL_ANALYSIS_LATE_SECONDS", "300")
# Rows received more than this after their timestamp count as late (data quality).
VIGIL_LATE_SECONDS = envint("VIGIL_LATE_SECONDS", "3600")
# Segments per version that get sketches of their own (monitoring.models.TrackedSegment).
VIGIL_MAX_SEGMENTS = envint("VIGIL_MAX_SEGMENTS", "20")
# Raw storage (monitoring.services.partitions, .retention): weekly partitions created this many
# weeks ahead; rows of a model past its retention in a partition that other models still need
# are deleted in batches of this many rows.
VIGIL_PARTITION_WEEKS_AHEAD = envint("VIGIL_PARTITION_WEEKS_AHEAD", "4")
VIGIL_RETENTION_DELETE_BATCH = envint("VIGIL_RETENTION_DELETE_BATCH", "50000")
# Rows of past weeks the DEFAULT partition caught (a backfill) move to week partitions of their
# own, at most about this many per beat run (each week's move locks the default while it copies).
VIGIL_PARTITION_SPLIT_ROWS = envint("VIGIL_PARTITION_SPLIT_ROWS", "2000000")
# Slow maintenance (queue "maintenance"): partitions ahead (and out of the default), then
# retention, both idempotent. Hourly, so a backfill leaves the default within the hour.
CELERY_BEAT_SCHEDULE["monitoring-partitions-ahead"] = {"task": "monitoring.tasks.partitions_ahead_task",
                                                       "schedule": 3600}
CELERY_BEAT_SCHEDULE["monitoring-retention"] = {"task": "monitoring.tasks.retention_task", "schedule": 3600}

EMAIL_BACKEND = os.getenv("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.getenv("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = envint("EMAIL_PORT", "1025")
EMAIL_HOST_USER = os.getenv("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.getenv("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "False")
EMAIL_TIMEOUT = envfloat("EMAIL_TIMEOUT", "10")
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "Vigil <vigil@localhost>")

# Alerts: the outbox sender runs this often; a claim older than the lease is taken to be a dead
# sender's and is sent again. Webhook bodies are signed with HMAC-SHA256 of this secret.
VIGIL_ALERT_SEND_SECONDS = envint("VIGIL_ALERT_SEND_SECONDS", "10")
VIGIL_ALERT_SEND_LEASE_SECONDS = envint("VIGIL_ALERT_SEND_LEASE_SECONDS", "120")
VIGIL_WEBHOOK_SECRET = os.getenv("VIGIL_WEBHOOK_SECRET") or SECRET_KEY
VIGIL_WEBHOOK_TIMEOUT = envfloat("VIGIL_WEBHOOK_TIMEOUT", "10")
VIGIL_DIGEST_HOUR = envint("VIGIL_DIGEST_HOUR", "8")
# A critical alert still firing, unacknowledged, is mailed again this long after readers were last
# told (0: never).
VIGIL_ALERT_REMINDER_HOURS = envint("VIGIL_ALERT_REMINDER_HOURS", "24")
CELERY_BEAT_SCHEDULE["alerts-send"] = {"task": "alerts.tasks.send_notifications_task", "schedule": VIGIL_ALERT_SEND_SECONDS}
CELERY_BEAT_SCHEDULE["alerts-silences"] = {"task": "alerts.tasks.silences_ended_task", "schedule": 60}
# Live versions are evaluated on beat too: a model that stopped sending data gets no analysis.
CELERY_BEAT_SCHEDULE["alerts-evaluate"] = {"task": "alerts.tasks.evaluate_live_versions_task", "schedule": 300}
CELERY_BEAT_SCHEDULE["alerts-reminders"] = {"task": "alerts.tasks.reminders_task", "schedule": 600}
CELERY_BEAT_SCHEDULE["alerts-digest"] = {"task": "alerts.tasks.daily_digest_task", "schedule": 3600}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
}
