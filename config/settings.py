"""Vigil settings. Every deployment value comes from the environment, with safe local defaults."""

import os
from pathlib import Path

import plotly

from .database import parse_database_url
from .env import envbool, envfloat, envint, envlist

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.getenv("SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = envbool("DEBUG", "False")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.getenv("SITE_URL", "http://127.0.0.1:8000")

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
    "core",
    "monitoring",
    "explain",
    "ops",
]

MIDDLEWARE = [
    "config.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
VIGIL_RERANK_MAX_CANDIDATES = envint("VIGIL_RERANK_MAX_CANDIDATES", "10000")
VIGIL_RERANK_MAX_BYTES = envint("VIGIL_RERANK_MAX_BYTES", str(4 * 1024 * 1024))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["core.api.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
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
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# Each app adds its periodic tasks here (name -> {"task": ..., "schedule": seconds}).
CELERY_BEAT_SCHEDULE: dict = {}
CELERY_BEAT_SCHEDULE["ops-review-schedules"] = {"task": "ops.tasks.review_schedules_task", "schedule": 3600}
CELERY_BEAT_SCHEDULE["explain-importance-trends"] = {"task": "explain.tasks.importance_trends_task", "schedule": 3600}
# Compact appended sketches, then fan out analyses of versions whose windows changed.
CELERY_BEAT_SCHEDULE["monitoring-compact-analyse"] = {
    "task": "monitoring.tasks.compact_sketches_task",
    "schedule": envint("VIGIL_COMPACT_SECONDS", "60"),
}
# Rows received more than this after their timestamp count as late (data quality).
VIGIL_LATE_SECONDS = envint("VIGIL_LATE_SECONDS", "3600")
# Segments per version that get sketches of their own (monitoring.models.TrackedSegment).
VIGIL_MAX_SEGMENTS = envint("VIGIL_MAX_SEGMENTS", "20")

EMAIL_BACKEND = os.getenv("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.getenv("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = envint("EMAIL_PORT", "1025")
EMAIL_HOST_USER = os.getenv("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.getenv("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "False")
EMAIL_TIMEOUT = envfloat("EMAIL_TIMEOUT", "10")
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "Vigil <vigil@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
}
