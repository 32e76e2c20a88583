"""The worker service: `TN_WORKER_TOKEN=... python -m worker.service --port 0`.

Flask-SocketIO (threading mode) on 127.0.0.1. Node (or any socket.io client with the token)
sends commands and receives every run's events as the trainers write them. The protocol is in
docs/PROTOCOL.md; the names in protocol.json.
"""
from __future__ import annotations

import argparse
import hmac
import io
import json
import logging
import os
import re
import signal
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path

from flask import Flask, abort, request, send_from_directory
from flask_socketio import SocketIO
from PIL import Image

from .atomic import DISK_FULL
from .data import SAMPLES, DatasetError, resolve_data_dir, scan_folder
from .images import EXTENSIONS, ImageError, check_image, open_rgb
from .runs import REPO, RUN_ID, RunManager
from .train import UsageError

log = logging.getLogger('tn.service')
MAX_UPLOAD = 20 * 2**20
THUMBNAILS = 6


class Models:
    """Generators kept in memory (least recently used out), so a second stylize is fast."""

    def __init__(self, size=4):
        self.size, self.cache, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, path: Path):
        import torch
        from .checkpoint import load_generator
        key = (str(path), path.stat().st_mtime_ns)
        with self.lock:
            if key not in self.cache:
                device = 'cuda' if torch.cuda.is_available() else 'cpu'
                self.cache[key] = load_generator(path).to(device)
                while len(self.cache) > self.size:
                    self.cache.popitem(last=False)
            self.cache.move_to_end(key)
            return self.cache[key]


def _send_whole_packets(server):
    """python-socketio sends a binary packet as its header, then each attachment, as separate
    engine.io messages. Two threads sending to one client at once (the run monitor relaying a
    preview, a command answering with a stylized image) could interleave those, and the client
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


def create_service(runs_dir, uploads_dir, token: str):
    app = Flask(__name__)
    app.config['MAX_CONTENT_LENGTH'] = MAX_UPLOAD
    socketio = SocketIO(app, async_mode='threading', max_http_buffer_size=MAX_UPLOAD + 2**20,
                        cors_allowed_origins=[])
    _send_whole_packets(socketio.server)
    uploads_dir = Path(uploads_dir)
    textures_dir = uploads_dir / 'textures'
    textures_dir.mkdir(parents=True, exist_ok=True)
    models = Models()

    def on_event(run_id, seq, event):
        payload = {'run': run_id, 'seq': seq, 'event': event}
        if event['type'] == 'preview':
            try:  # previews go as binary, not base64: socket.io sends bytes as attachments
                payload['image'] = (manager.runs_dir / run_id / event['path']).read_bytes()
            except OSError:
                pass
        socketio.emit('run_event', payload)

    def on_state(info):
        socketio.emit('run_state', {'run': info})

    def on_deleted(run_id):
        socketio.emit('run_deleted', {'run': run_id})

    manager = RunManager(runs_dir, uploads_dir, on_event, on_state, on_deleted)

    def authorised(given) -> bool:
        return isinstance(given, str) and hmac.compare_digest(given.encode(), token.encode())

    @socketio.on('connect')
    def connect(auth=None):
        if not authorised((auth or {}).get('token') if isinstance(auth, dict) else None):
            raise ConnectionRefusedError('a valid token is required')

    def command(name):
        """A socket.io command whose ack is {ok: True, ...} or {ok: False, error}."""
        def register(fn):
            def handler(data=None):
                try:
                    return {'ok': True, **fn(data if isinstance(data, dict) else {})}
                except (UsageError, DatasetError, ImageError, KeyError, ValueError) as e:
                    message = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
                    return {'ok': False, 'error': message}
                except OSError as e:
                    if e.errno not in DISK_FULL:
                        log.exception('%s failed', name)
                        return {'ok': False, 'error': f'{name} failed: {e}'}
                    return {'ok': False, 'error': f'no room to write {e.filename or "a file"}: the disk is full. '
                                                  'Free some space, then try again.'}
                except Exception as e:
                    log.exception('%s failed', name)
                    return {'ok': False, 'error': f'{name} failed: {type(e).__name__}: {e}'}
            socketio.on_event(name, handler)
            return fn
        return register

    @command('start_run')
    def start_run(data):
        if not isinstance(data.get('config'), dict):
            raise UsageError('start_run needs {config: {...}}')
        return {'run': manager.create(data['config'])}

    @command('continue_run')
    def continue_run(data):
        return {'run': manager.continue_run(data.get('run'), data.get('iteration'), data.get('iterations'))}

    @command('delete_run')
    def delete_run(data):
        manager.delete(data.get('run'))
        return {}

    @command('stop_run')
    def stop_run(data):
        return {'run': manager.stop(data.get('run'))}

    @command('list_runs')
    def list_runs(data):
        return manager.list()

    @command('get_run')
    def get_run(data):
        return {'run': manager.info(data.get('run'))}

    @command('history')
    def history(data):
        return {'events': manager.history(data.get('run'), int(data.get('after') or 0))}

    @command('scan_dataset')
    def scan_dataset(data):
        path = str(data.get('path') or '').strip()
        if not path:
            raise UsageError('give the path of a folder of photos, or `sample` for the built-in set')
        scan = scan_folder(resolve_data_dir(path))
        thumbs = []
        for path in scan.usable[:THUMBNAILS]:
            im = open_rgb(path, min_side=96)
            im.thumbnail((96, 96))
            buf = io.BytesIO()
            im.save(buf, 'JPEG', quality=80)
            thumbs.append(buf.getvalue())
        return {'folder': scan.folder, 'usable': len(scan.usable), 'skipped': len(scan.skipped),
                'reasons': scan.reasons(), 'examples': [list(x) for x in scan.skipped[:10]], 'thumbnails': thumbs}

    @command('device')
    def device(data):
        import torch
        gpus = [{'index': i, 'name': torch.cuda.get_device_name(i),
                 'memory_gb': round(torch.cuda.get_device_properties(i).total_memory / 2**30, 1)}
                for i in range(torch.cuda.device_count())]
        return {'device': {'kind': 'cuda' if gpus else 'cpu', 'gpus': gpus, 'cpus': os.cpu_count()}}

    def texture_info(path: Path, builtin: bool):
        with Image.open(path) as im:
            return {'name': path.stem, 'builtin': builtin, 'width': im.width, 'height': im.height}

    @command('list_textures')
    def list_textures(data):
        found = [texture_info(p, True) for p in sorted((SAMPLES / 'textures').iterdir()) if p.suffix in EXTENSIONS]
        found += [texture_info(p, False) for p in sorted(textures_dir.iterdir()) if p.suffix in EXTENSIONS]
        return {'textures': found}

    @command('save_texture')
    def save_texture(data):
        blob, filename = data.get('data'), str(data.get('filename') or 'texture.png')
        if not isinstance(blob, (bytes, bytearray)) or not blob:
            raise ValueError('no image data was sent')
        if len(blob) > MAX_UPLOAD:
            raise ValueError(f'the image is over {MAX_UPLOAD // 2**20} MB; use a smaller one')
        stem = re.sub(r'[^A-Za-z0-9_-]+', '-', Path(filename).stem).strip('-')[:40] or 'texture'
        ext = Path(filename).suffix.lower() if Path(filename).suffix.lower() in EXTENSIONS else '.png'
        builtin = {p.stem for p in (SAMPLES / 'textures').iterdir()}
        name, n = stem, 1
        while name in builtin or any(p.stem == name for p in textures_dir.iterdir()):
            n += 1
            name = f'{stem}-{n}'
        tmp, final = textures_dir / f'.upload-{name}{ext}', textures_dir / f'{name}{ext}'
        try:
            tmp.write_bytes(blob)
            check_image(tmp)
            open_rgb(tmp)  # a full decode: a truncated upload is refused now, not mid-training
            os.replace(tmp, final)
        except ImageError as e:
            raise ValueError(f'{filename} is not a usable image: {e}') from None
        finally:
            tmp.unlink(missing_ok=True)  # nothing half-written stays behind (a full disk, a bad image)
        return {'texture': texture_info(final, False)}

    @command('stylize')
    def stylize_command(data):
        from .stylize import stylize
        run = manager.get_run(data.get('run'))
        if data.get('checkpoint'):
            name = Path(str(data['checkpoint'])).name
            path = run.folder / 'checkpoints' / name
        else:
            path = run.folder / 'model.pth'
            if not path.exists():
                found = sorted((run.folder / 'checkpoints').glob('iter_*.pth'))
                if not found:
                    raise ValueError(f'run {run.id} has no model or checkpoint yet')
                path = found[-1]
        if not path.is_file():
            raise ValueError(f'run {run.id} has no checkpoint {data["checkpoint"]!r}')
        blob = data.get('image')
        if not isinstance(blob, (bytes, bytearray)) or not blob:
            raise ValueError('no image was sent')
        photo = open_rgb(bytes(blob))
        t = time.perf_counter()
        size = int(data['size']) if data.get('size') else None
        seed = int(data['seed']) if data.get('seed') is not None else 0
        out = stylize(models.get(path), photo, float(data.get('noise', 1.0)), seed, size)
        buf = io.BytesIO()
        out.save(buf, 'PNG')
        return {'image': buf.getvalue(), 'width': out.width, 'height': out.height,
                'ms': round((time.perf_counter() - t) * 1000, 1)}

    # -- files over HTTP (Node proxies downloads; the token is a Bearer header) -------------

    def require_token():
        given = request.headers.get('Authorization', '')
        if not authorised(given[7:] if given.startswith('Bearer ') else None):
            abort(401)

    @app.get('/files/<run_id>/<path:sub>')
    def run_file(run_id, sub):
        require_token()
        if not RUN_ID.match(run_id) or run_id not in manager.runs:
            abort(404)
        # send_from_directory refuses anything that resolves outside the run folder
        return send_from_directory(manager.runs_dir / run_id, sub, as_attachment=sub.endswith('.pth'))

    @app.get('/textures/<name>')
    def texture_file(name):
        require_token()
        for folder in (SAMPLES / 'textures', textures_dir):
            for p in folder.iterdir():
                if p.stem == name and p.suffix in EXTENSIONS:
                    return send_from_directory(folder, p.name)
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
    p.add_argument('--runs', default=os.environ.get('TN_RUNS_DIR', str(REPO / 'runs')))
    p.add_argument('--uploads', default=os.environ.get('TN_UPLOADS_DIR', str(REPO / 'uploads')))
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


if __name__ == '__main__':
    sys.exit(main())
