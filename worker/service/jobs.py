"""Videos stylized in the background for the web app: a job per upload, its progress asked for by
id (the browser polls it), its output under uploads/videos/<job>/ until the service restarts.

One job at a time: a video is hundreds of stylizations, and two would only halve each other's
speed. Jobs are kept in memory (the last JOBS_KEPT): a restarted service has none, and clears
the old outputs when it starts.
"""
from __future__ import annotations

import logging
import re
import secrets
import shutil
import threading
from pathlib import Path

from ..errors import NotFound, UsageError
from ..protocol import JOB_ID_HEX, STATE, UPLOAD_BYTES
from ..video import VIDEO_EXTENSIONS, is_video_name, stylize_video

log = logging.getLogger('tn.jobs')
JOBS_KEPT = 20


class VideoJobs:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        shutil.rmtree(self.folder, ignore_errors=True)  # what a previous service made, nobody can ask for
        self.folder.mkdir(parents=True, exist_ok=True)
        self.jobs: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.turn = threading.Lock()  # one video renders at a time

    def start(self, data: bytes, filename: str, render) -> dict:
        """Queue `data` (a video file's bytes) for render(frame) -> image, in a thread of its own."""
        if not isinstance(data, (bytes, bytearray)) or not data:
            raise UsageError('no video was sent')
        if len(data) > UPLOAD_BYTES:
            raise UsageError(f'the video is over {UPLOAD_BYTES // 2**20} MB; stylize longer clips from the command '
                             'line (python -m worker.stylize --input clip.mp4 --output out.mp4)')
        if not is_video_name(filename):
            raise UsageError(f'{filename}: send a video ({", ".join(VIDEO_EXTENSIONS)})')
        job_id = secrets.token_hex(JOB_ID_HEX // 2)
        folder = self.folder / job_id
        folder.mkdir()
        stem = re.sub(r'[^A-Za-z0-9_-]+', '-', Path(filename).stem).strip('-')[:40] or 'video'
        source = folder / f'source{Path(filename).suffix.lower()}'
        source.write_bytes(data)
        job = {'id': job_id, 'state': STATE.queued, 'done': 0, 'total': None, 'error': None,
               'file': f'{stem}-stylized.mp4'}
        with self.lock:
            self.jobs[job_id] = job
            for old in list(self.jobs)[:-JOBS_KEPT]:
                shutil.rmtree(self.folder / old, ignore_errors=True)
                del self.jobs[old]
        threading.Thread(target=self._run, args=(job, source, render), daemon=True, name=f'video-{job_id}').start()
        return dict(job)

    def _run(self, job, source: Path, render):
        with self.turn:
            job['state'] = STATE.running

            def progress(done, total):
                job['done'], job['total'] = done, total
            try:
                stylize_video(render, source, source.with_name(job['file']), progress)
                job['total'] = job['done']
                job['state'] = STATE.done
            except Exception as e:  # the job's own error, for the page that asks
                log.warning('video job %s failed: %s', job['id'], e)
                job['state'], job['error'] = STATE.failed, str(e)
            finally:
                source.unlink(missing_ok=True)

    def get(self, job_id) -> dict:
        with self.lock:
            if job_id not in self.jobs:
                raise NotFound(f'no video job {job_id!r} (jobs end with the worker service)')
            return dict(self.jobs[job_id])

    def output(self, job_id) -> Path:
        job = self.get(job_id)
        if job['state'] != STATE.done:
            raise NotFound(f'video job {job_id} has no output yet ({job["state"]})')
        return self.folder / job_id / job['file']
