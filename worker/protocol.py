"""The names and limits shared with Node and the browser, read from protocol.json (defined
there once; docs/PROTOCOL.md says what each means)."""
import json
import os
import re
from pathlib import Path

PROTOCOL = json.loads(Path(__file__).with_name('protocol.json').read_text())
EVENT_FIELDS = {k: tuple(v) for k, v in PROTOCOL['events'].items()}
ACTIVE = tuple(PROTOCOL['states']['active'])  # states in which a run's folder is still being written
UPLOAD_BYTES = PROTOCOL['limits']['upload_mb'] * 2**20
RUN_ID = re.compile(PROTOCOL['limits']['run_id'])
# A web request's texture samples: how many at once, and their largest side (the CLI has no such limit).
SYNTHESIZE_COUNT, SYNTHESIZE_SIDE = PROTOCOL['limits']['synthesize_count'], PROTOCOL['limits']['synthesize_side']
# How long a trainer may take to checkpoint after a stop before it is killed (TN_STOP_TIMEOUT: tests).
STOP_TIMEOUT = float(os.environ.get('TN_STOP_TIMEOUT', PROTOCOL['limits']['stop_timeout_s']))
