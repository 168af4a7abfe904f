import os
import warnings

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

if os.getenv("VIGIL_LOCAL_RUN"):
    # `make run` as root (containers, fresh VMs) explains this once itself; the worker accepts
    # JSON only, so the warning's pickle risk does not apply. Deployments still see it.
    warnings.filterwarnings("ignore", message="You're running the worker with superuser privileges")

app = Celery("vigil")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
