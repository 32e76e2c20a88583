"""The worker service wired: `TN_WORKER_TOKEN=... python -m worker.service --runs DIR --uploads DIR --port 0`.

Flask-SocketIO (threading mode) on 127.0.0.1. Node (or any socket.io client with the token)
sends commands and receives every run's events as the trainers write them. The protocol is in
docs/PROTOCOL.md; the names in protocol.json.
"""
from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import signal
import sys
import threading

from flask import Flask, abort, request, send_file, send_from_directory
from flask_socketio import SocketIO

from ..atomic import DISK_FULL
from ..errors import NotFound, UsageError
from ..protocol import MESSAGE, MESSAGE_BYTES, PROTOCOL, RUN_ID, UPLOAD_BYTES
from .commands import Commands, GeneratorCache
from .jobs import VideoJobs
from .runs import RunManager
from .textures import Textures

log = logging.getLogger('tn.service')


def _send_whole_packets(server):
    """python-socketio sends a binary packet as its header, then each attachment, as separate
    engine.io messages. Two threads sending to one client at once (the run monitor relaying an
    event, a command answering with a stylized image) could interleave those, and the client
    would pair an image with the wrong message or drop it. One lock around both ways a packet
    leaves (emits go through the client manager, acks through _send_packet) keeps each whole."""
    lock = threading.RLock()

    def whole(send):
        def locked(*args, **kwargs):
            with lock:
                return send(*args, **kwargs)
        return locked
    server.manager.emit = whole(server.manager.emit)
    server._send_packet = whole(server._send_packet)


def refusal(name: str, e: Exception) -> dict:
    """The ack of a command that raised: {ok: False, kind, error} (kinds: protocol.json `errors`)."""
    if isinstance(e, UsageError):
        return {'ok': False, 'kind': e.kind, 'error': str(e)}
    if isinstance(e, ValueError):  # a bad dataset or image (DatasetError, ImageError), a bad number
        return {'ok': False, 'kind': 'invalid', 'error': str(e)}
    if isinstance(e, OSError) and e.errno in DISK_FULL:
        return {'ok': False, 'kind': 'disk_full',
                'error': f'no room to write {e.filename or "a file"}: the disk is full. Free some space, then try again.'}
    log.exception('%s failed', name)
    return {'ok': False, 'kind': 'failed', 'error': f'{name} failed: {type(e).__name__}: {e}'}


def create_service(runs_dir, uploads_dir, token: str):
    """The Flask app and its socket.io server, wired to the runs, the textures and the commands."""
    app = Flask(__name__)
    app.config['MAX_CONTENT_LENGTH'] = UPLOAD_BYTES
    socketio = SocketIO(app, async_mode='threading', max_http_buffer_size=MESSAGE_BYTES,
                        cors_allowed_origins=[])
    _send_whole_packets(socketio.server)
    textures = Textures(os.path.join(uploads_dir, 'textures'))
    manager = RunManager(
        runs_dir, textures,
        on_event=lambda run_id, seq, event: socketio.emit(MESSAGE.run_event, {'run': run_id, 'seq': seq, 'event': event}),
        on_state=lambda info: socketio.emit(MESSAGE.run_state, {'run': info}),
        on_deleted=lambda run_id: socketio.emit(MESSAGE.run_deleted, {'run': run_id}),
        on_reset=lambda run_id: socketio.emit(MESSAGE.run_reset, {'run': run_id}))
    videos = VideoJobs(os.path.join(uploads_dir, 'videos'))
    commands = Commands(manager, textures, GeneratorCache(), videos)

    def authorised(given) -> bool:
        return isinstance(given, str) and hmac.compare_digest(given.encode(), token.encode())

    @socketio.on('connect')
    def connect(auth=None):
        if not authorised((auth or {}).get('token') if isinstance(auth, dict) else None):
            raise ConnectionRefusedError('a valid token is required')

    def answer(name, fn):
        def handler(data=None):
            try:
                return {'ok': True, **fn(data if isinstance(data, dict) else {})}
            except Exception as e:
                return refusal(name, e)
        return handler

    for name in PROTOCOL['commands']:
        socketio.on_event(name, answer(name, getattr(commands, name)))

    # -- files over HTTP (Node proxies downloads; the token is a Bearer header) -------------

    def require_token():
        given = request.headers.get('Authorization', '')
        if not authorised(given[7:] if given.startswith('Bearer ') else None):
            abort(401)

    @app.get('/files/<run_id>/<path:sub>')
    def run_file(run_id, sub):
        require_token()
        run = manager.runs.get(run_id) if RUN_ID.match(run_id) else None
        if run is None:
            abort(404)
        # send_from_directory refuses anything that resolves outside the run folder
        return send_from_directory(run.folder, sub, as_attachment=sub.endswith('.pth'))

    @app.get('/videos/<job_id>')
    def video_file(job_id):
        require_token()
        try:
            return send_file(videos.output(job_id), mimetype='video/mp4')
        except NotFound:
            abort(404)

    @app.get('/textures/<name>')
    def texture_file(name):
        require_token()
        try:
            return send_file(textures.path(name))
        except NotFound:
            abort(404)

    return app, socketio, manager


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format='worker %(levelname)s %(message)s', stream=sys.stderr)
    werkzeug_log = logging.getLogger('werkzeug')
    werkzeug_log.setLevel(logging.WARNING)
    # A closed websocket's last frame reaches Werkzeug's request parser: harmless, but noisy.
    werkzeug_log.addFilter(lambda record: 'Bad request syntax' not in record.getMessage())
    p = argparse.ArgumentParser(prog='python -m worker.service')
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=0, help='0: any free port (printed on the first line)')
    # Node names both (app/index.js holds the defaults and TN_RUNS_DIR, TN_UPLOADS_DIR)
    p.add_argument('--runs', required=True, help='the runs folder: every run folder in it is listed')
    p.add_argument('--uploads', required=True, help='where uploaded textures and video jobs go')
    p.add_argument('--exit-with-stdin', action='store_true',
                   help='exit when stdin closes (the parent process died)')
    args = p.parse_args(argv)
    token = os.environ.get('TN_WORKER_TOKEN')
    if not token:
        print('set TN_WORKER_TOKEN: clients must present it to connect', file=sys.stderr)
        return 2
    from werkzeug.serving import make_server
    app, socketio, manager = create_service(args.runs, args.uploads, token)
    server = make_server(args.host, args.port, app, threaded=True)
    print(json.dumps({'port': server.server_port, 'pid': os.getpid()}), flush=True)

    stopping = threading.Event()

    def shutdown(*_):
        if stopping.is_set():
            return
        stopping.set()
        log.info('shutting down: stopping trainers gracefully')
        manager.shutdown()
        os._exit(0)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: threading.Thread(target=shutdown).start())
    if args.exit_with_stdin:
        threading.Thread(target=lambda: (sys.stdin.read(), shutdown()), daemon=True).start()
    server.serve_forever()
    return 0
