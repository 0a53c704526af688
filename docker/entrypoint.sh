#!/bin/sh
# Keel container entrypoint. The first argument names the process to run:
#
#   web           gunicorn on 0.0.0.0:${PORT:-8000} (the default command)
#   worker        a Celery worker
#   beat          Celery beat (run exactly one)
#   migrate       apply database migrations, then exit
#   healthcheck   healthcheck web|worker|beat: exit 0 when that process is healthy
#
# Anything else is run as given, e.g. `python manage.py createsuperuser`.
# Extra arguments after web, worker, beat or migrate are passed on to the process.
set -eu

if [ "$#" -eq 0 ]; then
    set -- web
fi

command="$1"
shift

case "${command}" in
    web)
        # --no-control-socket: gunicorn would otherwise create a control socket under $HOME,
        # which a read-only container filesystem does not allow; nothing here uses it.
        exec gunicorn backend.wsgi:application \
            --bind "0.0.0.0:${PORT:-8000}" \
            --workers "${WEB_CONCURRENCY:-3}" \
            --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1,::1}" \
            --timeout "${GUNICORN_TIMEOUT:-30}" \
            --graceful-timeout "${GUNICORN_GRACEFUL_TIMEOUT:-30}" \
            --worker-tmp-dir /dev/shm \
            --no-control-socket \
            --access-logfile - \
            --error-logfile - \
            "$@"
        ;;
    worker)
        # Prefetch, acks and time limits come from settings (CELERY_*).
        exec celery -A backend worker \
            --loglevel "${KEEL_LOG_LEVEL:-INFO}" \
            --concurrency "${WORKER_CONCURRENCY:-2}" \
            "$@"
        ;;
    beat)
        # The scheduler (database-backed, with a heartbeat) is set in settings.
        exec celery -A backend beat \
            --loglevel "${KEEL_LOG_LEVEL:-INFO}" \
            "$@"
        ;;
    migrate)
        exec python manage.py migrate --noinput "$@"
        ;;
    healthcheck)
        role="${1:-web}"
        case "${role}" in
            web)
                # The slim image has no curl. The Host header must be one Django allows.
                exec python - <<'PYTHON'
import os
import sys
import urllib.request

hosts = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
host = hosts[0].lstrip(".") if hosts and hosts[0] != "*" else "localhost"
url = "http://127.0.0.1:{}/healthz".format(os.environ.get("PORT", "8000"))
request = urllib.request.Request(url, headers={"Host": host})
try:
    with urllib.request.urlopen(request, timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:
    print("web unhealthy: {}".format(exc), file=sys.stderr)
    sys.exit(1)
PYTHON
                ;;
            worker)
                # Ping this container's worker only. Celery names it celery@<hostname>, the
                # hostname as Python reports it.
                host="$(python -c 'import socket; print(socket.gethostname())')"
                exec celery -A backend inspect ping \
                    --destination "celery@${host}" \
                    --timeout "${HEALTHCHECK_TIMEOUT:-5}"
                ;;
            beat)
                # Beat writes a heartbeat row every 10 s; healthy when it is younger than 60 s.
                exec python - <<'PYTHON'
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
django.setup()

from django.utils import timezone

from backend.ops.selectors import heartbeat_age

try:
    age = heartbeat_age("beat", now=timezone.now())
except Exception as exc:
    print("beat unhealthy: {}".format(exc), file=sys.stderr)
    sys.exit(1)
if age is None or age >= 60:
    print("beat unhealthy: heartbeat age {}".format(age), file=sys.stderr)
    sys.exit(1)
PYTHON
                ;;
            *)
                echo "healthcheck: unknown role '${role}' (use web, worker or beat)" >&2
                exit 64
                ;;
        esac
        ;;
    *)
        exec "${command}" "$@"
        ;;
esac
