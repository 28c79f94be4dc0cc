"""Settings for AlbumArt, read from the environment; the defaults are the embedded ones (SQLite, local files)."""

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url

from albumart.env import envbool, envint, envpeppers, envstr, load_dotenv, s3_storage

BASE_DIR = Path(__file__).resolve().parent.parent
TESTING = "pytest" in sys.modules or envbool("ALBUMART_TESTING", False)
if not TESTING:  # tests never depend on a developer's local .env
    load_dotenv(BASE_DIR / ".env")
DEBUG = envbool("DEBUG", False)

_DEV_SECRET = "dev-only-insecure-secret-key-change-me"
SECRET_KEY = envstr("SECRET_KEY") or (_DEV_SECRET if (DEBUG or TESTING) else None)
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY is not set (make run writes one into .env; set it in production)")

# Peppers for API key digests are separate from SECRET_KEY so that rotating one does not void the other.
API_KEY_PEPPERS = envpeppers("API_KEY_PEPPERS", "1:dev-only-insecure-pepper" if (DEBUG or TESTING) else None)

ALLOWED_HOSTS = [h.strip() for h in envstr("ALLOWED_HOSTS", "*").split(",") if h.strip()]
PUBLIC_BASE_URL = envstr("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = [PUBLIC_BASE_URL] if PUBLIC_BASE_URL.startswith("http") else []

# Local development only: lets callbacks and source-image URLs point at 127.0.0.1 and private networks.
ALLOW_PRIVATE_CALLBACKS = envbool("ALLOW_PRIVATE_CALLBACKS", False)
# Operator switch: the API answers 455 while it is on, with Retry-After: MAINTENANCE_RETRY_AFTER_SECONDS.
MAINTENANCE_MODE = envbool("MAINTENANCE_MODE", False)
MAINTENANCE_RETRY_AFTER_SECONDS = envint("MAINTENANCE_RETRY_AFTER_SECONDS", 300, minimum=1)
# Requests per API key per window (albumart/ratelimit.py, in Redis): generate-type POSTs (generate in every dialect,
# variations) and every other API call count in separate buckets; an organisation's own limits (admin) override
# these. Tests and benches (ALBUMART_TESTING) send bursts from one key, so their defaults are out of reach.
RATE_LIMIT_WINDOW_SECONDS = envint("RATE_LIMIT_WINDOW_SECONDS", 10, minimum=1, maximum=3600)
RATE_LIMIT_GENERATE = envint("RATE_LIMIT_GENERATE", 1_000_000 if TESTING else 20, minimum=1)
RATE_LIMIT_READ = envint("RATE_LIMIT_READ", 1_000_000 if TESTING else 100, minimum=1)
# Generate-type requests per sandbox key (aa_test_) per window, instead of the two above: free test traffic.
RATE_LIMIT_SANDBOX_GENERATE = envint("RATE_LIMIT_SANDBOX_GENERATE", 1_000_000 if TESTING else 5, minimum=1)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc's files, served by whitenoise (no CDN)
    "django_rq",
    "health_check",
    "django_prometheus",
    "axes",
    "accounts",
    "billing",
    "generation",
]

# No CORS middleware, on purpose: API keys are server-to-server secrets and must never sit in a browser, so no other
# origin is allowed to call the API (README.md, "CORS"; tests/test_api_names.py).
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "albumart.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "albumart.middleware.MaintenanceModeMiddleware",
    "albumart.ratelimit.RateLimitMiddleware",
    "albumart.middleware.UploadLimitMiddleware",
    "albumart.inputguard.InputGuardMiddleware",
    "albumart.idempotency.IdempotencyMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# /metrics (Prometheus): for `Authorization: Bearer $METRICS_TOKEN`, or from the addresses in METRICS_ALLOW
# (comma-separated networks; loopback by default); anyone else gets a 404.
METRICS_TOKEN = envstr("METRICS_TOKEN", "")
METRICS_ALLOW = [n.strip() for n in envstr("METRICS_ALLOW", "127.0.0.1/32,::1/128").split(",") if n.strip()]

# Sign-in brute force (django-axes): AXES_FAILURE_LIMIT wrong passwords for one user name from one address pause
# its sign-ins for AXES_COOLOFF_MINUTES. Behind a proxy, set AXES_IPWARE_PROXY_COUNT to the number of proxies.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.throttle.locked_out"
AXES_IPWARE_PROXY_COUNT = envint("AXES_IPWARE_PROXY_COUNT", 0, minimum=0) or None
# Sign-up and password-reset requests per address per window (accounts/throttle.py, in Redis).
THROTTLE_WINDOW_SECONDS = 600
SIGNUP_LIMIT = envint("SIGNUP_LIMIT", 10, minimum=1)
PASSWORD_RESET_LIMIT = envint("PASSWORD_RESET_LIMIT", 5, minimum=1)

ROOT_URLCONF = "albumart.urls"
WSGI_APPLICATION = "albumart.wsgi.application"

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
            ]
        },
    }
]

VAR_DIR = Path(envstr("ALBUMART_VAR_DIR", str(BASE_DIR / "var")))
DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'albumart.sqlite3'}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions make concurrent writers queue instead of failing to upgrade a read lock.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not :memory:, so that test threads and an RQ worker process see the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_albumart.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = envstr("REDIS_URL") or "redis://127.0.0.1:6379/0"
RQ_QUEUES = {
    "render": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": envint("RENDER_JOB_TIMEOUT", 600, minimum=10)},
    "callbacks": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60},
}
RQ = {"JOB_CLASS": "rq.job.Job", "WORKER_CLASS": "albumart.worker.Worker"}
# A render worker loads its models and fonts before it forks its first work horse (albumart/worker.py), ~10 s.
WORKER_WARM_UP = envbool("WORKER_WARM_UP", True)
# OpenCV threads per render worker (albumart/worker.py). One: render_workers runs a worker per core, and a worker
# that also spread its text detector and filters over every core only made the workers wait for each other.
RENDER_THREADS = envint("RENDER_THREADS", 1, minimum=1, maximum=64)
# `manage.py render_workers` (the Procfile's render process) runs this many render workers; 0: one per core.
RENDER_WORKERS = envint("RENDER_WORKERS", 0, minimum=0, maximum=256)
RENDER_JOB_RETRIES = envint("RENDER_JOB_RETRIES", 2, minimum=0, maximum=10)
# A task still PENDING or GENERATING this long after it was created is failed by the sweep and its credits released.
TASK_DEADLINE_SECONDS = envint("TASK_DEADLINE_SECONDS", 1800, minimum=30)
# The reconciler (every 30 s) queues again what Redis lost: a task or a due callback attempt with no live job
# for this long.
RECONCILE_GRACE_SECONDS = envint("RECONCILE_GRACE_SECONDS", 20, minimum=0)

# The Sentinel (QA): how many times a failing image is regenerated with a new seed (2 -> at most 3 renders),
# how long a "review" image may wait for staff, what happens then ("reject" releases, "approve" charges),
# and whether Tesseract checks the text (off only where the binary can't be installed).
QA_MAX_ATTEMPTS = envint("QA_MAX_ATTEMPTS", 2, minimum=0, maximum=5)
REVIEW_TIMEOUT_SECONDS = envint("REVIEW_TIMEOUT_SECONDS", 24 * 3600, minimum=60)
REVIEW_TIMEOUT_RULE = envstr("REVIEW_TIMEOUT_RULE", "reject")
if REVIEW_TIMEOUT_RULE not in ("reject", "approve"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"REVIEW_TIMEOUT_RULE must be 'reject' or 'approve', not {REVIEW_TIMEOUT_RULE!r}")
QA_OCR = envbool("QA_OCR", True)

# Seconds between callback attempts (API.md): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 24 h.
CALLBACK_RETRY_SCHEDULE = [
    int(s) for s in envstr("CALLBACK_RETRY_SCHEDULE", "5,300,1800,7200,18000,36000,86400").split(",")
]
CALLBACK_TIMEOUT_SECONDS = envint("CALLBACK_TIMEOUT_SECONDS", 15, minimum=1, maximum=60)  # per attempt, in all
# A source_image or style_reference URL is fetched in at most this long, connecting and reading included.
FETCH_DEADLINE_SECONDS = envint("FETCH_DEADLINE_SECONDS", 10, minimum=1, maximum=60)

MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Static files (the admin's) are served by the web process itself (whitenoise), compressed; `collectstatic` runs
# in the release step (and in `make run`); until it has, whitenoise finds them in the apps.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Covers and uploaded photos in S3 or any S3-compatible store when S3_BUCKET is set (workers on many machines
# then share them over HTTP, with no shared folder); served through presigned URLs. Local files otherwise.
if (S3_STORAGE := s3_storage()) is not None:
    STORAGES["default"] = S3_STORAGE
# Signed image URLs stay valid this long; record-info always issues fresh ones.
IMAGE_URL_MAX_AGE_SECONDS = envint("IMAGE_URL_MAX_AGE_DAYS", 30, minimum=14) * 86400
# An artist's photo is personal data kept only for the work: `manage.py purge_sources` (daily, generation/cron.py)
# deletes the photos of tasks that ended more than this many days ago.
SOURCE_RETENTION_DAYS = envint("SOURCE_RETENTION_DAYS", 30, minimum=1)

# Uploads: bounded in bytes (413 past this) and in pixels (422).
MAX_UPLOAD_BYTES = envint("MAX_UPLOAD_BYTES", 25 * 1024 * 1024, minimum=1024)
MAX_SOURCE_PIXELS = envint("MAX_SOURCE_PIXELS", 50_000_000, minimum=1_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES * 4 // 3 + 256 * 1024  # base64 data URIs are 4/3 of the file
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# The engine's backends. Workers on GPU machines switch to rembg and diffusion with models the operator puts in
# local directories; nothing is ever downloaded from a model hub at run time.
ALBUMART_MODEL_DIR = envstr("ALBUMART_MODEL_DIR", str(BASE_DIR / "var" / "models"))
ALBUMART_SEGMENTATION = envstr("ALBUMART_SEGMENTATION", "selfie")
ALBUMART_BACKGROUND = envstr("ALBUMART_BACKGROUND", "procedural")
ALBUMART_DIFFUSION_MODEL = envstr("ALBUMART_DIFFUSION_MODEL", "")
if ALBUMART_SEGMENTATION not in ("selfie", "rembg", "none"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"ALBUMART_SEGMENTATION={ALBUMART_SEGMENTATION!r}; use selfie, rembg or none")
if ALBUMART_BACKGROUND not in ("procedural", "diffusion"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"ALBUMART_BACKGROUND={ALBUMART_BACKGROUND!r}; use procedural or diffusion")
if ALBUMART_BACKGROUND == "diffusion" and not ALBUMART_DIFFUSION_MODEL:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("ALBUMART_BACKGROUND=diffusion needs ALBUMART_DIFFUSION_MODEL: the directory of a "
                               "diffusers pipeline saved with save_pretrained()")

# Stripe: credit top-ups. Without these keys the purchase page explains how to configure Stripe.
STRIPE_SECRET_KEY = envstr("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = envstr("STRIPE_WEBHOOK_SECRET", "")
# Only for tests and local stand-ins of the Stripe API (e.g. http://127.0.0.1:12111); unset in production.
STRIPE_API_BASE = envstr("STRIPE_API_BASE", "")
# Credit packs: "credits:price_in_cents:stripe_price_id" separated by commas; the price id may be empty.
CREDIT_PACKS = [
    {"credits": int(c), "amount_cents": int(a), "price_id": pid}
    for c, a, pid in (p.split(":") for p in envstr("CREDIT_PACKS", "100:1500:,1000:12000:,10000:90000:").split(","))
]
CURRENCY = envstr("CURRENCY", "usd")

EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "AlbumArt <no-reply@albumart.local>")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.authentication.HasApiKey"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "albumart.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AlbumArt API",
    "DESCRIPTION": "Genre-true 3000x3000 album covers from an artist photo and release metadata.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "OAS_VERSION": "3.1.0",
    # The envelope, errors, headers and data components (albumart/openapi.py, generation/schema.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "albumart.openapi.postprocess"],
    # /api/docs/ (Swagger UI, with try-it) and /api/redoc/ serve their scripts from drf-spectacular-sidecar: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": True, "displayOperationId": True,
                            "tryItOutEnabled": True, "validatorUrl": None},
}

# One JSON object per line with the request id and the task id (albumart/logs.py); LOG_FORMAT=text for people.
LOG_FORMAT = envstr("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "albumart.logs.ContextFilter"}},
    "formatters": {
        "json": {"()": "pythonjsonlogger.json.JsonFormatter",
                 "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(task_id)s",
                 "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(task_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["context"],
                             "formatter": "json" if LOG_FORMAT == "json" else "text"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Errors to Sentry when SENTRY_DSN is set (no personal data is sent).
SENTRY_DSN = envstr("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(dsn=SENTRY_DSN, environment=envstr("SENTRY_ENVIRONMENT", "production"), send_default_pii=False,
                    traces_sample_rate=float(envstr("SENTRY_TRACES_SAMPLE_RATE", "0") or 0))

VAR_DIR.mkdir(parents=True, exist_ok=True)
os.makedirs(MEDIA_ROOT, exist_ok=True)
