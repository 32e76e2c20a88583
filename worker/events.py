"""The event log of a run: `events.jsonl` in the run folder, one JSON object a line.

The event types and their fields are defined once, in protocol.json (read by worker/protocol.py
and by Node); README.md, *Events*, says what each means. The worker service and Node relay
events unchanged. Every event has `type` and `time` (Unix seconds); paths are relative to the run
folder; `iteration` counts completed optimiser steps, from 1.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from .atomic import atomic_write
from .protocol import EVENT_FIELDS

FILENAME = 'events.jsonl'


def read_events(path):
    """All complete events of a log; a torn last line (a crash mid-write) is ignored."""
    events = []
    try:
        with open(path, encoding='utf-8') as f:
            for line in f:
                if line.endswith('\n'):
                    try:
                        events.append(json.loads(line))
                    except json.JSONDecodeError:
                        pass
    except FileNotFoundError:
        pass
    return events


def write_events(path, events):
    """Replace a log with these events, atomically (a follower sees the old log or the new one)."""
    atomic_write(path, lambda f: f.writelines(json.dumps(e) + '\n' for e in events), mode='w')


def copy_history(source_dir, run_dir, until: int):
    """Start a run continued from another run's checkpoint with that run's record up to the
    checkpoint (its starts, iterations and previews, the preview images copied), so the new run's
    curve is one line from iteration 1 (the held-out curve too). Checkpoints, warnings and the end
    stay with the source."""
    source_dir, run_dir = Path(source_dir), Path(run_dir)
    kept = []
    for e in read_events(source_dir / FILENAME):
        if e['type'] not in ('start', 'iteration', 'preview', 'eval') or e.get('iteration', 0) > until:
            continue
        if e['type'] == 'preview':
            e = _copy_preview(e, source_dir, run_dir)
            if e is None:
                continue
        kept.append(e)
    write_events(run_dir / FILENAME, kept)


PREVIEW_FILES = ('path', 'tiled')  # a preview event's pictures (tiled: a synthesis run's 2x2 tiling)


def _copy_preview(e: dict, source_dir: Path, run_dir: Path) -> dict | None:
    """A preview event with its pictures copied into run_dir (None when its main picture is gone)."""
    copied = {}
    for key in PREVIEW_FILES:
        if key not in e:
            continue
        name = Path(e[key]).name  # our own previews/iter_*.png; only the name is trusted
        src, dst = source_dir / 'previews' / name, run_dir / 'previews' / name
        if not src.is_file():
            if key == 'path':
                return None
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        with open(src, 'rb') as image:
            atomic_write(dst, lambda f: shutil.copyfileobj(image, f))
        copied[key] = f'previews/{name}'
    return {**{k: v for k, v in e.items() if k not in PREVIEW_FILES}, **copied}


class EventLog:
    """Appends events to `run_dir/events.jsonl`. Each event is one write() of one line on an
    O_APPEND file, so a follower never sees two events interleaved."""

    def __init__(self, run_dir, keep_until: int | None = None):
        self.path = os.path.join(run_dir, FILENAME)
        if keep_until is not None:
            self._truncate(keep_until)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _truncate(self, iteration: int):
        """On resume: drop what came after the checkpoint, so the curve stays one line."""
        write_events(self.path, [e for e in read_events(self.path)
                                 if e['type'] not in ('done', 'error') and e.get('iteration', 0) <= iteration])

    def emit(self, type: str, **fields):
        missing = set(EVENT_FIELDS[type]) - set(fields)
        if missing:
            raise ValueError(f'event {type!r} is missing {sorted(missing)}')
        event = {'type': type, 'time': round(time.time(), 3), **fields}
        os.write(self._fd, (json.dumps(event) + '\n').encode())
        return event

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
