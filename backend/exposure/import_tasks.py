"""The worker side of an uploaded CSV import."""

import logging
from pathlib import Path

from celery import shared_task
from django.utils import timezone

from backend.common.errors import NotPermitted
from backend.exposure.imports import (
    ImportRejected,
    Problem,
    count_rows,
    exposure_import,
    fail_job,
    import_file_path,
    job_for_task,
    job_state,
    text_stream,
)
from backend.exposure.models import ImportState

logger = logging.getLogger(__name__)

# Well below the broker's visibility timeout (an hour), so a running import is never delivered again while it
# runs; a worker that dies mid-import gets the job back, and the job's attempt count stops endless retries.
SOFT_TIME_LIMIT = 1500
TIME_LIMIT = 1800


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def run_import(job_id: str, path: str) -> str:
    """Imports one uploaded file. Safe to run twice: a finished job does nothing, and a second delivery of a
    running job either takes it over or finds it done; the records are stored at most once."""
    job = job_for_task(job_id)
    if job is None:
        return "missing"  # erased with its person, say; their file went with it
    expected = import_file_path(job)
    try:
        if job.state in (ImportState.DONE, ImportState.FAILED):
            return str(job.state)
        if Path(path).name != expected.name:  # the file is always read from this worker's import directory
            logger.warning("import task for job %s named an unexpected file; refused", job_id)
            fail_job(job, [Problem(None, "file", "The upload could not be found; nothing was stored.")])
            return "failed"
        if not expected.exists():
            fail_job(job, [Problem(None, "file", "The upload could not be found; send the file again.")])
            return "failed"
        with text_stream(expected) as stream:
            job = exposure_import(
                person=job.person, stream=stream, now=timezone.now(), job=job, total_rows=count_rows(expected)
            )
        return str(job.state)
    except (ImportRejected, NotPermitted):
        return "failed"  # the job holds the reasons
    finally:
        state = job_state(job)
        if state in (None, ImportState.DONE, ImportState.FAILED):
            expected.unlink(missing_ok=True)  # kept only while another delivery may still need it
