"""Keel's own settings plus one baseline route for bench/logging_bench.py; nothing else changes."""

from backend.settings import *  # noqa: F403

ROOT_URLCONF = "bench.plain_urls"
