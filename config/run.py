"""``make run``: the whole app on one machine, with a demo, stopped cleanly by Ctrl-C.

Starts embedded PostgreSQL/Redis unless DATABASE_URL/CELERY_BROKER_URL are set, migrates,
collects static files, starts gunicorn, a Celery worker and beat, waits for /healthz,
seeds the demo once, starts the demo's live feed (``manage.py demo_feed``: the demo models'
traffic keeps coming; VIGIL_DEMO_FEED=0 turns it off), prints the URL and logins, then
supervises until Ctrl-C, SIGTERM or SIGHUP (the terminal closed).

While it runs it holds ``var/instance.lock`` and records itself in ``var/instance.json``
(its pid, URL, servers and children): ``manage.py`` finds the servers through it, and the
next ``make run`` tells a running or half-dead instance from a clean start.
"""

import argparse
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .embedded import INSTANCE_FILE, LOCK_FILE, VAR_DIR, Handle, embedded_env, read_instance, stop
from .env import envbool
from .mailsink import start_mail_sink

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_TIMEOUT = 15.0
LOGINS = (("admin", "vigil-admin", "Admins"), ("scientist", "vigil-scientist", "Data scientists"),
          ("agent", "vigil-agent", "Support agents"))  # fmt: skip


# settings.VIGIL_QUEUES (this module runs before Django is set up; tests/test_queues.py compares them).
QUEUES = ("engine", "explain", "notify", "maintenance")


class Stopped(Exception):
    """Raised in the main thread by SIGTERM/SIGINT/SIGHUP so every exit path runs the same cleanup."""


class Refused(Exception):
    """This run cannot start: the message says why and what to do."""


def say(message: str) -> None:
    try:
        print(f"[vigil] {message}", flush=True)
    except OSError:  # the terminal closed (SIGHUP): keep stopping, silently
        pass


def service_commands(python: str, host: str, port: int, workers: int) -> dict[str, list[str]]:
    # gthread: a client that stalls mid-body holds one thread, not a whole worker (sync workers
    # let two such clients block every request, /healthz included). --timeout only restarts a
    # worker whose main loop hangs; bodies get their own read timeout (config.wsgi).
    return {
        "web": [python, "-m", "gunicorn", "config.wsgi", "--bind", f"{host}:{port}", "--workers", str(workers),
                "--worker-class", "gthread", "--threads", "8", "--timeout", "30", "--graceful-timeout", "10",
                "--no-control-socket", "--access-logfile", "-"],
        # One worker for every queue on a laptop: two threads, and the broker takes the queues
        # in turn, so an alert waits for at most one running task, not for a whole backlog.
        "worker": [python, "-m", "celery", "-A", "config", "worker", "-Q", ",".join(QUEUES), "-P", "threads",
                   "-c", "2", "--loglevel", "INFO"],
        # The scheduler is settings.CELERY_BEAT_SCHEDULER (core.beat: one leader among beats).
        "beat": [python, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO", "--pidfile", ""],
    }  # fmt: skip


def wait_healthy(url: str, children: dict[str, subprocess.Popen], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        for name, child in children.items():
            if child.poll() is not None:
                raise RuntimeError(f"{name} exited with code {child.returncode} while starting")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code} (see the web log above)"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.3)
    raise RuntimeError(f"{url}/healthz did not answer 200 within {timeout:.0f}s: {last}")


def terminate(children: dict[str, subprocess.Popen], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM every child, wait up to ``timeout`` seconds in all, then SIGKILL the stragglers."""
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + timeout
    for name, child in children.items():
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop in time: killing it")
            child.kill()
            child.wait()


def process_alive(pid: int, names: tuple[str, ...]) -> bool:
    """True when ``pid`` runs and its command line mentions one of ``names`` (a reused pid does not count)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status and any(name in cmdline for name in names)


PROCESS_NAMES = {"web": ("gunicorn",), "worker": ("celery",), "beat": ("celery",), "feed": ("demo_feed",),
                 "postgres": ("postgres",), "redis": ("redis-server",)}  # fmt: skip


def take_var_dir(var_dir: Path):
    """Lock ``var_dir`` for this run, or say why another run (live or half-dead) is in the way."""
    var_dir.mkdir(parents=True, exist_ok=True)
    lock = open(var_dir / LOCK_FILE, "a")  # noqa: SIM115 - held open for the whole run
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        info = read_instance(var_dir) or {}
        raise Refused(
            f"Vigil is already running from {var_dir} (pid {info.get('pid', '?')}, {info.get('url', '?')}).\n"
            f"  Use that one, or stop it (Ctrl-C in its terminal, or: kill {info.get('pid', '<pid>')}),\n"
            "  or run a second one on other data: VIGIL_VAR_DIR=/some/dir PORT=8001 make run"
        ) from None
    info = read_instance(var_dir)
    if info:
        # The previous run died without cleaning up (kill -9, power loss): its processes may live on.
        left = {name: pid for name, pid in info.get("processes", {}).items()
                if process_alive(pid, PROCESS_NAMES.get(name, (name,)))}  # fmt: skip
        if left:
            lock.close()
            listing = ", ".join(f"{name} pid {pid}" for name, pid in left.items())
            raise Refused(
                f"A previous Vigil run (pid {info.get('pid')}) was killed before it could stop its processes;\n"
                f"  these still run from {var_dir}: {listing}.\n"
                f"  Stop them with: kill {' '.join(str(pid) for pid in left.values())}\n"
                "  then run `make run` again."
            )
        (var_dir / INSTANCE_FILE).unlink(missing_ok=True)
    return lock


def check_port_free(host: str, port: int) -> None:
    try:
        with socket.create_connection((host, port), timeout=1):
            pass
    except OSError:
        return
    raise Refused(
        f"Something already answers on {host}:{port} (another Vigil, or another program).\n"
        f"  Stop it, or pick another port: PORT={port + 1} make run"
    )


def record_instance(var_dir: Path, url: str, env: dict, handles: list, children: dict) -> None:
    processes = {name: child.pid for name, child in children.items()}
    for handle in handles:
        if handle.owned and handle.name == "redis" and handle.server.pid:
            processes["redis"] = handle.server.pid
        elif handle.name == "postgres":
            processes["postgres"] = handle.server.get_pid()
    info = {"pid": os.getpid(), "url": url, "database_url": env["DATABASE_URL"],
            "broker_url": env["CELERY_BROKER_URL"], "processes": processes}  # fmt: skip
    tmp = var_dir / f".{INSTANCE_FILE}.tmp"
    tmp.unlink(missing_ok=True)
    # 0600: a DATABASE_URL of your own may carry a password.
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
        fh.write(json.dumps(info, indent=1))
    tmp.replace(var_dir / INSTANCE_FILE)


def banner(url: str, seeded: bool, feed: bool = False) -> None:
    lines = [f"Vigil is running at {url}/", f"API docs: {url}/api/docs/"]
    if seeded:
        lines.append("Demo logins (local only):")
        lines += [f"  {user:<10} password {password:<16} ({role})" for user, password, role in LOGINS]
    if feed:
        lines.append("Demo traffic keeps arriving, a batch a minute (VIGIL_DEMO_FEED=0 make run: no live feed).")
    lines.append("Press Ctrl-C to stop.")
    print("\n" + "\n".join(lines) + "\n", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.run", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.getenv("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.getenv("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.getenv("WEB_CONCURRENCY", "2")))
    parser.add_argument("--no-seed", action="store_true", help="do not seed the demo")
    parser.add_argument("--scale", default=os.getenv("VIGIL_DEMO_SCALE", "1.0"), help="demo traffic multiplier")
    args = parser.parse_args(argv)

    def on_signal(signum, frame):
        raise Stopped(signal.Signals(signum).name)

    stop_signals = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    for signum in stop_signals:
        signal.signal(signum, on_signal)
    url = f"http://{args.host}:{args.port}"
    python = sys.executable
    handles: list = []
    children: dict[str, subprocess.Popen] = {}
    lock = None
    try:
        try:
            # Read here (the feed is this supervisor's child, not a Django setting); a typo stops the start.
            feed = envbool("VIGIL_DEMO_FEED", "True")
        except ImproperlyConfigured as exc:
            raise Refused(str(exc)) from None
        lock = take_var_dir(VAR_DIR)
        check_port_free(args.host, args.port)
        env, handles = embedded_env(VAR_DIR, attach=False)
        if not env.get("EMAIL_HOST"):
            sink = start_mail_sink(VAR_DIR / "mail")
            handles.append(Handle("mail", sink, owned=True))
            env.update(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(sink.port))
            say(f"embedded mail sink at 127.0.0.1:{sink.port} (messages in {VAR_DIR / 'mail'} and the notification log)")
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        env.setdefault("SITE_URL", url)
        env.setdefault("PYTHONUNBUFFERED", "1")  # children's logs interleave in order
        env["VIGIL_LOCAL_RUN"] = "1"
        if os.geteuid() == 0:
            say("running as root: fine for a local demo; Celery's warning about it is silenced here "
                "(the worker accepts JSON messages only; the Docker image runs as an unprivileged user)")
        manage = [python, str(BASE_DIR / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=BASE_DIR, check=True)
        subprocess.run([*manage, "collectstatic", "--noinput", "-v", "0"], env=env, cwd=BASE_DIR, check=True)
        for name, command in service_commands(python, args.host, args.port, args.workers).items():
            # Own session: Ctrl-C reaches only this supervisor, which then stops children in order.
            children[name] = subprocess.Popen(command, env=env, cwd=BASE_DIR, start_new_session=True)
            say(f"started {name} (pid {children[name].pid})")
        record_instance(VAR_DIR, url, env, handles, children)
        wait_healthy(url, children)
        if not args.no_seed:
            say("seeding the demo (first run only; a few minutes at full scale)")
            seeded = subprocess.run([*manage, "seed_demo", "--url", url, "--scale", str(args.scale)],
                                    env=env, cwd=BASE_DIR)  # fmt: skip
            if seeded.returncode != 0:
                # The app itself is up: keep it running and say why the demo may be incomplete.
                say(f"seed_demo failed (exit {seeded.returncode}, see above); Vigil keeps running")
            if feed:
                # After the seed, not beside it: the feed continues from where the seed ended.
                children["feed"] = subprocess.Popen([*manage, "demo_feed", "--url", url], env=env, cwd=BASE_DIR,
                                                    start_new_session=True)  # fmt: skip
                say(f"started feed (pid {children['feed'].pid})")
                record_instance(VAR_DIR, url, env, handles, children)
        banner(url, seeded=not args.no_seed, feed="feed" in children)
        while True:
            for name, child in children.items():
                if child.poll() is not None:
                    raise RuntimeError(f"{name} exited unexpectedly with code {child.returncode}")
            time.sleep(0.5)
    except Stopped as exc:
        say(f"{exc}: stopping")
        return 0
    except Refused as exc:
        say(str(exc))
        return 1
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        say(f"error: {exc}")
        return 1
    finally:
        # A second Ctrl-C while stopping must not leave orphans: ignore it.
        for signum in stop_signals:
            signal.signal(signum, signal.SIG_IGN)
        if lock is not None:
            terminate(children)
            stop(handles)
            (VAR_DIR / INSTANCE_FILE).unlink(missing_ok=True)
            lock.close()
            say("stopped")


if __name__ == "__main__":
    sys.exit(main())
