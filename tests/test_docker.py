"""The container build: Dockerfile lint, Compose schema and structure, entrypoint, .env.example."""

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
DOCKERFILE = DOCKER / "Dockerfile"
COMPOSE = DOCKER / "compose.yml"
ENV_EXAMPLE = DOCKER / ".env.example"
ENTRYPOINT = DOCKER / "entrypoint.sh"
BIN = Path(sys.executable).parent

APP_SERVICES = ("migrate", "web", "worker", "beat")
ALL_SERVICES = (*APP_SERVICES, "postgres", "redis")
ROOT_USERS = {"root", "0"}


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    logical: list[str] = []
    current = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    if current:
        logical.append(current)
    pairs = []
    for line in logical:
        instruction, _, rest = line.partition(" ")
        pairs.append((instruction.upper(), rest.strip()))
    return pairs


def _env_example_assignments() -> dict[str, str]:
    assignments = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            assignments[match.group(1)] = match.group(2)
    return assignments


def test_compose_file_matches_the_compose_specification() -> None:
    result = _run(BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", COMPOSE)
    assert result.returncode == 0, f"check-jsonschema failed:\n{result.stdout}\n{result.stderr}"


def test_dockerfile_passes_hadolint() -> None:
    result = _run(BIN / "hadolint", DOCKERFILE)
    assert result.returncode == 0, f"hadolint found problems:\n{result.stdout}\n{result.stderr}"


def test_compose_has_every_service_with_healthchecks() -> None:
    services = _compose()["services"]
    assert set(ALL_SERVICES) <= set(services), f"missing services: {set(ALL_SERVICES) - set(services)}"
    for name in ALL_SERVICES:
        if name == "migrate":
            assert "healthcheck" not in services[name], "migrate is a one-off job"
            continue
        check = services[name].get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_compose_has_no_top_level_version_key() -> None:
    assert "version" not in _compose()


def test_app_services_share_one_image_and_wait_for_migrations() -> None:
    services = _compose()["services"]
    for name in APP_SERVICES:
        service = services[name]
        assert service["image"] == "keel:latest", name
        assert service["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}, name
        assert service["env_file"] == ".env" or service["env_file"] == [".env"], name
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name
        assert services[name]["command"] == [name]
    assert services["web"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("worker", "beat"):
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy", name


def test_web_port_is_bound_to_loopback_only() -> None:
    ports = _compose()["services"]["web"]["ports"]
    assert ports == ["127.0.0.1:8000:8000"]


def test_beat_is_never_replicated() -> None:
    beat = _compose()["services"]["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    assert "scale" not in beat or beat["scale"] == 1


def test_our_image_never_runs_as_root() -> None:
    users = [args for instruction, args in _dockerfile_instructions() if instruction == "USER"]
    assert users, "the Dockerfile has no USER line"
    last_user = users[-1].split(":")[0].strip()
    assert last_user not in ROOT_USERS, f"the image runs as {users[-1]!r}"
    for name, service in _compose()["services"].items():
        if service.get("image") == "keel:latest" or "build" in service:
            user = str(service.get("user", last_user)).split(":")[0].strip()
            assert user not in ROOT_USERS, f"{name} overrides the image's user with root"


def test_dockerfile_is_multi_stage_on_one_pinned_base() -> None:
    # A digest may be added to the tag (image:tag@sha256:...).
    bases = [args.split()[0].split("@")[0] for instruction, args in _dockerfile_instructions() if instruction == "FROM"]
    assert len(bases) >= 2, "expected a builder stage and a runtime stage"
    assert set(bases) == {"python:3.11-slim-bookworm"}, bases


def test_dockerfile_copies_only_the_application() -> None:
    copied = set()
    for instruction, args in _dockerfile_instructions():
        if instruction != "COPY" or "--from=" in args:
            continue
        sources = [part for part in args.split() if not part.startswith("--")][:-1]
        copied.update(sources)
    allowed = {"manage.py", "backend", "frontend", "requirements-prod.lock", "docker/entrypoint.sh"}
    assert copied <= allowed, f"unexpected files copied into the image: {copied - allowed}"
    assert {"manage.py", "backend", "frontend"} <= copied
    assert "." not in copied and "requirements.lock" not in copied


def test_dockerfile_keeps_the_build_secret_out_of_the_image_environment() -> None:
    instructions = _dockerfile_instructions()
    for instruction, args in instructions:
        if instruction in {"ENV", "ARG"}:
            assert "DJANGO_SECRET_KEY" not in args, f"{instruction} {args}"
    collectstatic = [args for instruction, args in instructions if instruction == "RUN" and "collectstatic" in args]
    assert collectstatic, "static files are not collected at build time"
    assert "DJANGO_SECRET_KEY=" in collectstatic[0] and "KEEL_ENV=production" in collectstatic[0]
    installs = [args for instruction, args in instructions if instruction == "RUN" and "pip install" in args]
    assert installs and all("--require-hashes" in args and "requirements-prod.lock" in args for args in installs)


def test_env_example_names_every_production_setting() -> None:
    assignments = _env_example_assignments()
    for name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL", "KEEL_ENV"):
        assert assignments.get(name), f".env.example does not set {name}"
    assert assignments["KEEL_ENV"] == "production"
    assert assignments["DATABASE_URL"].startswith("postgres://")
    assert assignments["CELERY_BROKER_URL"].startswith("redis://")
    assert "KEEL_DEMO" not in assignments, "KEEL_DEMO must not be set in production"


def _fake_bin(tmp_path: Path) -> Path:
    """Stand-ins for gunicorn, celery and python that print how they were called."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("gunicorn", "celery", "python"):
        stub = bin_dir / name
        stub.write_text(f'#!/bin/sh\necho {name} "$@"\n', encoding="utf-8")
        stub.chmod(0o755)
    return bin_dir


def _entrypoint(tmp_path: Path, *args: str, **env: str) -> str:
    environment = {"PATH": f"{_fake_bin(tmp_path)}{os.pathsep}{os.environ['PATH']}", **env}
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), *args], cwd=ROOT, env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_entrypoint_dispatches_on_its_first_argument(tmp_path: Path) -> None:
    web = _entrypoint(tmp_path, "web", WEB_CONCURRENCY="5", FORWARDED_ALLOW_IPS="10.0.0.2")
    assert web.startswith("gunicorn backend.wsgi:application")
    assert "--bind 0.0.0.0:8000" in web and "--workers 5" in web and "--forwarded-allow-ips 10.0.0.2" in web

    default = _entrypoint(tmp_path / "default")
    assert default.startswith("gunicorn ") and "--workers 3" in default

    worker = _entrypoint(tmp_path / "worker", "worker", WORKER_CONCURRENCY="4")
    assert worker.startswith("celery -A backend worker") and "--concurrency 4" in worker

    assert _entrypoint(tmp_path / "beat", "beat").startswith("celery -A backend beat")
    assert _entrypoint(tmp_path / "migrate", "migrate") == "python manage.py migrate --noinput"
    assert _entrypoint(tmp_path / "other", "python", "manage.py", "check") == "python manage.py check"


def test_entrypoint_is_strict_posix_sh() -> None:
    text = ENTRYPOINT.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/sh\n")
    assert re.search(r"^set -eu$", text, re.MULTILINE)
    result = subprocess.run(["sh", "-n", str(ENTRYPOINT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
