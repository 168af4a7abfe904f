# Vigil's one image: web (gunicorn), Celery worker and beat all run from it (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings

# libgomp1: OpenMP runtime needed by lightgbm and xgboost wheels.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 vigil

WORKDIR /app
COPY requirements.txt .
RUN pip install --upgrade pip && pip install -r requirements.txt

COPY . .
# Static files are collected into the image; whitenoise serves them.
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /app/var/media && chown -R vigil:vigil /app/var

USER vigil
EXPOSE 8000
# gthread: a client stalling mid-body holds one thread, not a worker; bodies have their own
# read timeout (VIGIL_BODY_TIMEOUT_SECONDS); --timeout only restarts a hung worker.
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--worker-class", "gthread", \
     "--threads", "8", "--timeout", "30", "--access-logfile", "-"]
