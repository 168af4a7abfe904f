"""``make run``: the whole app on one machine, with a demo, stopped cleanly by Ctrl-C.

Starts embedded PostgreSQL/Redis unless DATABASE_URL/CELERY_BROKER_URL are set, migrates,
collects static files, starts gunicorn, a Celery worker and beat, waits for /healthz,
seeds the demo once, prints the URL and logins, then supervises until Ctrl-C or SIGTERM.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .embedded import VAR_DIR, embedded_env, stop
from .mailsink import start_mail_sink

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_TIMEOUT = 15.0
LOGINS = (("admin", "vigil-admin", "Admins"), ("scientist", "vigil-scientist", "Data scientists"),
          ("agent", "vigil-agent", "Support agents"))  # fmt: skip


class Stopped(Exception):
    """Raised in the main thread by SIGTERM/SIGINT so every exit path runs the same cleanup."""


def say(message: str) -> None:
    print(f"[vigil] {message}", flush=True)


def service_commands(python: str, host: str, port: int, workers: int) -> dict[str, list[str]]:
    return {
        "web": [python, "-m", "gunicorn", "config.wsgi", "--bind", f"{host}:{port}", "--workers", str(workers),
                "--timeout", "300", "--graceful-timeout", "10", "--no-control-socket", "--access-logfile", "-"],
        "worker": [python, "-m", "celery", "-A", "config", "worker", "-P", "threads", "-c", "2",
                   "--loglevel", "INFO"],
        "beat": [python, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
                 "-S", "django_celery_beat.schedulers:DatabaseScheduler", "--pidfile", ""],
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


def banner(url: str, seeded: bool) -> None:
    lines = [f"Vigil is running at {url}/", f"API docs: {url}/api/docs/"]
    if seeded:
        lines.append("Demo logins (local only):")
        lines += [f"  {user:<10} password {password:<16} ({role})" for user, password, role in LOGINS]
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

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    url = f"http://{args.host}:{args.port}"
    python = sys.executable
    handles: list = []
    children: dict[str, subprocess.Popen] = {}
    try:
        env, handles = embedded_env(VAR_DIR)
        if not env.get("EMAIL_HOST"):
            sink = start_mail_sink(VAR_DIR / "mail")
            handles.append(sink)
            env.update(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(sink.port))
            say(f"embedded mail sink at 127.0.0.1:{sink.port} (messages in {VAR_DIR / 'mail'} and the notification log)")
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        env.setdefault("SITE_URL", url)
        env.setdefault("PYTHONUNBUFFERED", "1")  # children's logs interleave in order
        manage = [python, str(BASE_DIR / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=BASE_DIR, check=True)
        subprocess.run([*manage, "collectstatic", "--noinput", "-v", "0"], env=env, cwd=BASE_DIR, check=True)
        for name, command in service_commands(python, args.host, args.port, args.workers).items():
            # Own session: Ctrl-C reaches only this supervisor, which then stops children in order.
            children[name] = subprocess.Popen(command, env=env, cwd=BASE_DIR, start_new_session=True)
            say(f"started {name} (pid {children[name].pid})")
        wait_healthy(url, children)
        if not args.no_seed:
            say("seeding the demo (first run only; a few minutes at full scale)")
            seeded = subprocess.run([*manage, "seed_demo", "--url", url, "--scale", str(args.scale)],
                                    env=env, cwd=BASE_DIR)  # fmt: skip
            if seeded.returncode != 0:
                # The app itself is up: keep it running and say why the demo may be incomplete.
                say(f"seed_demo failed (exit {seeded.returncode}, see above); Vigil keeps running")
        banner(url, seeded=not args.no_seed)
        while True:
            for name, child in children.items():
                if child.poll() is not None:
                    raise RuntimeError(f"{name} exited unexpectedly with code {child.returncode}")
            time.sleep(0.5)
    except Stopped as exc:
        say(f"{exc}: stopping")
        return 0
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        say(f"error: {exc}")
        return 1
    finally:
        # A second Ctrl-C while stopping must not leave orphans: ignore it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        terminate(children)
        stop(handles)
        say("stopped")


if __name__ == "__main__":
    sys.exit(main())
