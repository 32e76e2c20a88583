"""The names and limits shared with Node and the browser, read from protocol.json (defined
there once; docs/PROTOCOL.md says what each means)."""
import json
import os
import re
from pathlib import Path
from types import SimpleNamespace

PROTOCOL = json.loads(Path(__file__).with_name('protocol.json').read_text())
EVENT_FIELDS = {k: tuple(v) for k, v in PROTOCOL['events'].items()}
ACTIVE = tuple(PROTOCOL['states']['active'])  # states in which a run's folder is still being written
# Names as protocol.json spells them: STATE.running == 'running'; a misspelt STATE.runing raises.
STATE = SimpleNamespace(**{name: name for name in ACTIVE + tuple(PROTOCOL['states']['ended'])})
MESSAGE = SimpleNamespace(**{name: name for name in PROTOCOL['messages']})
UPLOAD_BYTES = PROTOCOL['limits']['upload_mb'] * 2**20
MESSAGE_BYTES = PROTOCOL['limits']['message_mb'] * 2**20  # the largest socket.io message: an upload, framed
RUN_ID = re.compile(PROTOCOL['limits']['run_id'])
# A web request's texture samples: how many at once, and their largest side (the CLI has no such limit).
SYNTHESIZE_COUNT, SYNTHESIZE_SIDE = PROTOCOL['limits']['synthesize_count'], PROTOCOL['limits']['synthesize_side']
# A stylize request's long side, when it gives one: [smallest, largest] pixels.
STYLIZE_SIZE = tuple(PROTOCOL['limits']['stylize_size'])
# How long a trainer may take to checkpoint after a stop before it is killed (TN_STOP_TIMEOUT: tests).
STOP_TIMEOUT = float(os.environ.get('TN_STOP_TIMEOUT', PROTOCOL['limits']['stop_timeout_s']))
PREVIEW_PHOTOS = PROTOCOL['limits']['preview_photos']  # held-out photos in every stylization preview
IMAGE_EXTENSIONS = tuple(PROTOCOL['image_extensions'])
# A video job's id: this many random hex digits.
JOB_ID_HEX = PROTOCOL['limits']['job_id_hex']
STYLIZE_NOISE, STYLIZE_SEED = PROTOCOL['stylize_defaults']['noise'], PROTOCOL['stylize_defaults']['seed']
