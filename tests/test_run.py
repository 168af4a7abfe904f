"""`make run` end to end: embedded services, gunicorn, Celery worker and beat, clean Ctrl-C."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def redis_answers(path: str) -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(2)
            sock.connect(path)
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def get(url: str) -> int:
    """The HTTP status, or 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def database_url_of_test_db() -> str:
    """The (already migrated) test database as a DATABASE_URL, so `migrate` in config.run is quick."""
    from django.db import connection

    db = connection.settings_dict
    auth = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    if db["HOST"].startswith("/"):
        return f"postgres://{auth}@/{quote(db['NAME'])}?host={db['HOST']}"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}{port}/{quote(db['NAME'])}"


@pytest.mark.django_db(transaction=True)
def test_run_starts_everything_and_stops_on_ctrl_c():
    # Embedded Redis under a fresh directory; PostgreSQL is the test database (embedded
    # PostgreSQL startup is what `make test` itself goes through).
    var = Path(tempfile.mkdtemp(prefix="vigil-run-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    env["DATABASE_URL"] = database_url_of_test_db()
    env["VIGIL_VAR_DIR"] = str(var)
    proc = subprocess.Popen(
        [sys.executable, "-m", "config.run", "--no-seed", "--port", str(port), "--workers", "1"],
        cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        url = f"http://127.0.0.1:{port}"
        # Generous: on a busy 2-core machine the web, worker and beat processes each take a
        # while to import everything (seen: over a minute under a load of 9).
        deadline = time.monotonic() + 240
        while (status := get(f"{url}/healthz")) != 200:
            assert proc.poll() is None, "config.run exited early:\n" + "".join(lines[-40:])
            assert time.monotonic() < deadline, f"/healthz: {status} after 240 s:\n" + "".join(lines[-40:])
            time.sleep(0.5)
        assert get(f"{url}/accounts/login/") == 200
        assert get(f"{url}/static/plotly.min.js") == 200  # collectstatic + whitenoise, no CDN
        while not any("Press Ctrl-C" in line for line in lines):
            assert time.monotonic() < deadline, "".join(lines[-40:])
            time.sleep(0.2)
        pids = {m[1]: int(m[2]) for line in lines if (m := re.search(r"started (\w+) \(pid (\d+)\)", line))}
        assert set(pids) == {"web", "worker", "beat"}
        assert all(alive(pid) for pid in pids.values())
        redis_socket = re.search(r"embedded Redis at redis\+socket://(\S+)", "".join(lines))[1]
        assert redis_answers(redis_socket)

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=40) == 0, "".join(lines[-40:])
        reader.join(timeout=5)
        assert "[vigil] stopped" in "".join(lines)
        time.sleep(0.5)
        assert [name for name, pid in pids.items() if alive(pid)] == []
        assert not redis_answers(redis_socket)
        assert get(f"{url}/healthz") == 0
    finally:
        # Children run in their own sessions: stop them through the supervisor, or one by one.
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for line in lines:
            if (m := re.search(r"started \w+ \(pid (\d+)\)", line)) and alive(int(m[1])):
                os.kill(int(m[1]), signal.SIGKILL)
        shutil.rmtree(var, ignore_errors=True)
