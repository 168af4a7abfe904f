"""`make run` as a new user meets it (issue 10 items 1, 2 and 15), in subprocesses.

- manage.py and `python -m config.embedded` use the running instance's servers and never
  stop a server they did not start;
- a second run on the same var/ (or the same port) is refused with what to do; one whose
  predecessor was killed names the processes left behind;
- SIGHUP (the terminal closed) stops everything like Ctrl-C;
- gunicorn answers /healthz while clients hold half-sent bodies.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from .test_run import BASE_DIR, alive, database_url_of_test_db, free_port, get, redis_answers


def base_env(var: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    env["DATABASE_URL"] = database_url_of_test_db()
    env["VIGIL_VAR_DIR"] = str(var)
    return env


def helper_env(var: Path) -> dict:
    """What a new user's shell has: no DATABASE_URL, no broker, no SECRET_KEY."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY")}
    env["VIGIL_VAR_DIR"] = str(var)
    return env


class Run:
    """One `python -m config.run --no-seed` with its output collected."""

    def __init__(self, var: Path, port: int):
        self.var, self.port, self.url = var, port, f"http://127.0.0.1:{port}"
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "config.run", "--no-seed", "--port", str(port), "--workers", "1"],
            cwd=BASE_DIR, env=base_env(var), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self.reader.start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_ready(self) -> dict[str, int]:
        deadline = time.monotonic() + 240
        while not any("Press Ctrl-C" in line for line in self.lines):
            assert self.proc.poll() is None, "config.run exited early:\n" + self.output[-4000:]
            assert time.monotonic() < deadline, self.output[-4000:]
            time.sleep(0.3)
        return self.pids()

    def pids(self) -> dict[str, int]:
        return {m[1]: int(m[2]) for m in re.finditer(r"started (\w+) \(pid (\d+)\)", self.output)}

    def redis_socket(self) -> str:
        return re.search(r"embedded Redis at redis\+socket://(\S+)", self.output)[1]

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        info_path = self.var / "instance.json"
        leftovers = list(self.pids().values())
        if info_path.exists():
            leftovers += json.loads(info_path.read_text()).get("processes", {}).values()
        for pid in leftovers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def var():
    path = Path(tempfile.mkdtemp(prefix="vigil-life-"))
    yield path
    postmaster = path / "pgdata" / "postmaster.pid"
    if postmaster.exists():  # a failed test must not leave its PostgreSQL behind
        pid = int(postmaster.read_text().split()[0])
        if alive(pid):
            os.kill(pid, signal.SIGINT)
            for _ in range(50):
                if not alive(pid):
                    break
                time.sleep(0.1)
    subprocess.run(["rm", "-rf", str(path)], check=False)


def test_embedded_helper_leaves_a_redis_it_did_not_start_running(var):
    from config.embedded import start_redis, stop

    owner = start_redis(var / "redis")  # this test plays the running app
    socket_path = owner.server.socket_file
    try:
        env = helper_env(var)
        env["DATABASE_URL"] = database_url_of_test_db()  # only Redis is at stake here
        result = subprocess.run(
            [sys.executable, "-m", "config.embedded", sys.executable, "-c", "print('hello')"],
            cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "hello"
        assert redis_answers(socket_path), "the helper stopped the app's Redis"
    finally:
        stop([owner])
    assert not redis_answers(socket_path)


def test_manage_py_with_nothing_running_starts_and_stops_the_embedded_servers(var, tmp_path):
    env = helper_env(var)
    # A first run made var/pgdata (here: a helper that just initialises the servers).
    made = subprocess.run([sys.executable, "-m", "config.embedded", sys.executable, "-c", "pass"],
                          cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=180)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert (var / "pgdata" / "PG_VERSION").exists()
    # A user of the server killed outright (kill -9) stays in pgserver's list of its users.
    gone = subprocess.Popen(["true"])
    gone.wait()
    (var / "pgdata" / ".handle_pids.json").write_text(json.dumps([gone.pid]))
    # From another directory, with no DATABASE_URL: manage.py starts the servers for itself.
    checked = subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), "check", "--database", "default"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert "embedded PostgreSQL at" in checked.stderr and "no issues" in checked.stdout
    time.sleep(0.5)
    postmaster = var / "pgdata" / "postmaster.pid"
    assert not postmaster.exists(), "the embedded PostgreSQL was left running"
    redis_socket = re.search(r"embedded Redis at redis\+socket://(\S+)", checked.stderr)[1]
    assert not redis_answers(redis_socket)


def test_run_refuses_a_port_in_use(var):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "config.run", "--no-seed", "--port", str(port)],
            cwd=BASE_DIR, env=base_env(var), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert result.returncode == 1
    assert f"Something already answers on 127.0.0.1:{port}" in result.stdout
    assert f"PORT={port + 1} make run" in result.stdout
    assert "started web" not in result.stdout


@pytest.mark.django_db(transaction=True)
def test_manage_py_and_helpers_use_the_running_instance_and_sighup_stops_everything(var):
    run = Run(var, free_port())
    try:
        pids = run.wait_ready()
        assert set(pids) == {"web", "worker", "beat"}
        redis_socket = run.redis_socket()

        # The README's command, from a plain shell: no DATABASE_URL, found through var/.
        made = subprocess.run(
            [sys.executable, "manage.py", "create_api_token", "serving", "--scopes", "ingest,read"],
            cwd=BASE_DIR, env=helper_env(var), capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        key = made.stdout.strip()
        request = urllib.request.Request(f"{run.url}/api/v1/models/", headers={"Authorization": f"Token {key}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200  # the running app knows the new token

        # A helper through config.embedded: uses the same servers, stops none of them.
        helper = subprocess.run(
            [sys.executable, "-m", "config.embedded", sys.executable, "-c", "print('hello')"],
            cwd=BASE_DIR, env=helper_env(var), capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert helper.returncode == 0, helper.stderr
        assert "using the servers of the running Vigil" in helper.stderr
        assert redis_answers(redis_socket)
        assert get(f"{run.url}/healthz") == 200
        assert all(alive(pid) for pid in pids.values())

        # A second `make run` on the same var/ says what to do instead of taking over.
        second = subprocess.run(
            [sys.executable, "-m", "config.run", "--no-seed", "--port", str(free_port())],
            cwd=BASE_DIR, env=base_env(var), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert second.returncode == 1
        assert f"Vigil is already running from {var} (pid {run.proc.pid}" in second.stdout
        assert redis_answers(redis_socket) and get(f"{run.url}/healthz") == 200

        # The terminal closes: SIGHUP stops everything, as Ctrl-C does.
        run.proc.send_signal(signal.SIGHUP)
        assert run.proc.wait(timeout=60) == 0, run.output[-4000:]
        run.reader.join(timeout=5)
        assert "SIGHUP: stopping" in run.output and "[vigil] stopped" in run.output
        time.sleep(0.5)
        assert [name for name, pid in pids.items() if alive(pid)] == []
        assert not redis_answers(redis_socket)
        assert get(f"{run.url}/healthz") == 0
        assert not (var / "instance.json").exists()
    finally:
        run.cleanup()


@pytest.mark.django_db(transaction=True)
def test_a_run_killed_outright_is_reported_with_its_leftover_processes(var):
    run = Run(var, free_port())
    try:
        pids = run.wait_ready()
        run.proc.kill()  # kill -9: no cleanup; the children live on in their own sessions
        run.proc.wait()
        info = json.loads((var / "instance.json").read_text())
        assert {"web", "worker", "beat", "redis"} <= set(info["processes"])

        again = subprocess.run(
            [sys.executable, "-m", "config.run", "--no-seed", "--port", str(free_port())],
            cwd=BASE_DIR, env=base_env(var), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert again.returncode == 1
        assert f"A previous Vigil run (pid {run.proc.pid}) was killed" in again.stdout
        for name in ("web", "worker", "beat"):
            assert f"{name} pid {pids[name]}" in again.stdout
        kill_line = re.search(r"Stop them with: kill ([\d ]+)", again.stdout)[1]
        assert set(map(int, kill_line.split())) == set(info["processes"].values())
        assert all(alive(pid) for pid in pids.values())  # reported, not touched
    finally:
        run.cleanup()


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_while_two_clients_hold_half_sent_bodies(var):
    from config.run import service_commands
    from core.services.tokens import api_token_create

    _, key = api_token_create(name="slow-client", scopes=["admin"])
    port = free_port()
    env = base_env(var)
    env["VIGIL_BODY_TIMEOUT_SECONDS"] = "4"
    # The web command make run uses, with one worker: the worst case for stalls.
    command = service_commands(sys.executable, "127.0.0.1", port, workers=1)["web"]
    web = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)  # fmt: skip
    stalled: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 120
        while get(f"http://127.0.0.1:{port}/healthz") != 200:
            assert web.poll() is None and time.monotonic() < deadline
            time.sleep(0.3)
        head = (f"POST /api/v1/models/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {key}\r\n"
                "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n")  # fmt: skip
        for _ in range(2):
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            sock.sendall(head.encode() + b'{"slug": "half-')  # ... and then nothing more
            stalled.append(sock)
        time.sleep(1)  # both requests are now inside the app, reading their bodies

        started = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert response.status == 200
        assert time.monotonic() - started < 5

        # The stalled clients are cut off after the body timeout, with an answer saying so.
        for sock in stalled:
            sock.settimeout(20)
            # The head and the body may arrive in separate segments: read until the body is in.
            answer = ""
            while "did not arrive in time" not in answer and (chunk := sock.recv(4096)):
                answer += chunk.decode(errors="replace")
            assert answer.startswith("HTTP/1.1 408"), answer[:200]
            assert "did not arrive in time" in answer
    finally:
        for sock in stalled:
            sock.close()
        web.terminate()
        try:
            web.wait(timeout=20)
        except subprocess.TimeoutExpired:
            web.kill()
            web.wait()
