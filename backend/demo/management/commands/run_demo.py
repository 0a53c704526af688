"""Starts the demo: web server, a real Celery worker and beat on the filesystem broker. Ctrl-C stops all three."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from backend.demo.management.commands.seed_demo import DEMO_PASSWORD
from backend.demo.seed import PERSONAS
from backend.organisation.models import Person


class Command(BaseCommand):
    help = "Run the demo (migrate, seed once, then web + worker + beat) until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("KEEL_DEMO_BIND", "127.0.0.1:8000"))
        parser.add_argument("--people", type=int, default=60)

    def handle(self, *args: Any, **options: Any) -> None:
        broker_dir = Path(settings.CELERY_BROKER_DIR)
        for folder in ("data", "processed", "control"):
            (broker_dir / folder).mkdir(parents=True, exist_ok=True)
        call_command("migrate", verbosity=0, interactive=False)
        if not Person.objects.exists():
            self.stdout.write("Seeding the synthetic organisation…")
            call_command("seed_demo", people=options["people"], days=90, seed=1)
        call_command("collectstatic", verbosity=0, interactive=False)

        python = sys.executable
        processes = {
            "web": [
                python,
                "-m",
                "gunicorn",
                "backend.wsgi",
                "--bind",
                options["bind"],
                "--workers",
                "2",
                "--threads",
                "4",
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "5",
            ],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "backend",
                "worker",
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "-n",
                "demo-worker@%h",
            ],
            "beat": [python, "-m", "celery", "-A", "backend", "beat", "--loglevel", "INFO"],
        }
        children = {name: subprocess.Popen(cmd) for name, cmd in processes.items()}  # noqa: S603

        host = options["bind"]
        self.stdout.write(self.style.SUCCESS(f"\nKeel demo at http://{host}/  (Ctrl-C stops web, worker and beat)"))
        self.stdout.write(f"Password for every demo login: {DEMO_PASSWORD}")
        for username, (display, roles) in PERSONAS.items():
            self.stdout.write(f"  {username:<18} {display:<22} {', '.join(r.label for r in roles)}")
        self.stdout.write("")

        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    self.stderr.write(f"The {name} process stopped (exit {child.returncode}); stopping the demo.")
                    stopping, exit_code = True, 1
            time.sleep(0.5)
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        self.stdout.write("Demo stopped.")
        if exit_code:
            sys.exit(exit_code)
