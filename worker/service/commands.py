"""What each socket.io command of the worker service does (the names are protocol.json's
`commands`). Each takes the command's data (a dict) and returns the ack's fields; a refusal is an
exception whose kind the service puts in the ack (worker/errors.py)."""
from __future__ import annotations

import io
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

from ..data import resolve_data_dir, scan_folder
from ..errors import UsageError
from ..images import open_rgb
from ..protocol import STYLIZE_NOISE, STYLIZE_SEED, STYLIZE_SIZE, SYNTHESIZE_COUNT, SYNTHESIZE_SIDE

THUMBNAILS = 6
VGG19_MB = 548  # torchvision's IMAGENET1K_V1 file
REACH_TIMEOUT_S = 3
REACH_CACHE_S = 300
_reach = {}  # url -> (checked at, None or why not)


def _reachable(url: str):
    """None when a HEAD request for `url` answers within a few seconds, else why not; remembered
    for a while (the wizard asks each time it opens its settings)."""
    import urllib.error
    import urllib.request
    now = time.monotonic()
    if url in _reach and now - _reach[url][0] < REACH_CACHE_S:
        return _reach[url][1]
    why = None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method='HEAD'), timeout=REACH_TIMEOUT_S):
            pass
    except urllib.error.HTTPError as e:  # a server that answers; 405: it takes GET only (a mirror)
        why = None if e.code == 405 else f'{url} answered {e.code} {e.reason}'
    except Exception as e:  # DNS, refused, timeout, proxy
        reason = getattr(e, 'reason', None) or e
        why = f'this machine cannot reach {url.split("/")[2]} ({reason})'
    _reach[url] = (now, why)
    return why


class GeneratorCache:
    """Generators kept in memory (least recently used out), so a second stylize is fast."""

    def __init__(self, size=4):
        self.size, self.cache, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, path: Path, mode: str):
        """The generator in `path`, which must be of `mode` (stylize or synthesis)."""
        import torch
        from ..checkpoint import load_generator, mode_of
        key = (str(path), path.stat().st_mtime_ns)
        with self.lock:
            if key not in self.cache:
                device = 'cuda' if torch.cuda.is_available() else 'cpu'
                self.cache[key] = load_generator(path).to(device)
                while len(self.cache) > self.size:
                    self.cache.popitem(last=False)
            self.cache.move_to_end(key)
            generator = self.cache[key]
        if mode_of(generator) != mode:
            load_generator(path, mode)  # raises, saying what the model is for
        return generator


def noise_and_seed(data) -> tuple[float, int]:
    """A stylize request's noise factor and seed, the protocol's defaults where it names none."""
    noise, seed = data.get('noise'), data.get('seed')
    return float(STYLIZE_NOISE if noise is None else noise), int(STYLIZE_SEED if seed is None else seed)


def stylize_size(data) -> int | None:
    """A stylize request's long side in pixels, within the protocol's bounds, or None (the photo's own)."""
    if not data.get('size'):
        return None
    size, (low, high) = int(data['size']), STYLIZE_SIZE
    if not low <= size <= high:
        raise UsageError(f'size must be {low} to {high} pixels')
    return size


def _png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, 'PNG')
    return buf.getvalue()


def _jpeg_thumbnail(path: Path, side: int = 96) -> bytes:
    im = open_rgb(path, min_side=side)
    im.thumbnail((side, side))
    buf = io.BytesIO()
    im.save(buf, 'JPEG', quality=80)
    return buf.getvalue()


class Commands:
    def __init__(self, runs, textures, generators: GeneratorCache, videos):
        self.runs, self.textures, self.generators, self.videos = runs, textures, generators, videos

    # -- runs --------------------------------------------------------------------------------

    def start_run(self, data):
        if not isinstance(data.get('config'), dict):
            raise UsageError('start_run needs {config: {...}}')
        return {'run': self.runs.create(data['config'])}

    def start_sweep(self, data):
        if not isinstance(data.get('config'), dict):
            raise UsageError('start_sweep needs {config: {...}, setting, values: [...], name?}')
        return self.runs.create_sweep(data['config'], data.get('setting'), data.get('values'), data.get('name'))

    def use_checkpoint(self, data):
        return self.runs.use_checkpoint(data.get('run'), data.get('iteration'))

    def continue_run(self, data):
        return {'run': self.runs.continue_run(data.get('run'), data.get('iteration'), data.get('iterations'))}

    def rename_run(self, data):
        return {'run': self.runs.rename(data.get('run'), data.get('name'))}

    def stop_run(self, data):
        return {'run': self.runs.stop(data.get('run'))}

    def delete_run(self, data):
        self.runs.delete(data.get('run'))
        return {}

    def list_runs(self, data):
        return self.runs.list()

    def get_run(self, data):
        return {'run': self.runs.info(data.get('run'))}

    def history(self, data):
        return {'events': self.runs.history(data.get('run'), int(data.get('after') or 0))}

    def stylize(self, data):
        from ..stylize import stylize
        path = self.runs.get_run(data.get('run')).model_path(data.get('checkpoint'))
        blob = data.get('image')
        if not isinstance(blob, (bytes, bytearray)) or not blob:
            raise UsageError('no image was sent')
        photo = open_rgb(bytes(blob))
        t = time.perf_counter()
        noise, seed = noise_and_seed(data)
        out = stylize(self.generators.get(path, 'stylize'), photo, noise, seed, stylize_size(data))
        return {'image': _png(out), 'width': out.width, 'height': out.height,
                'ms': round((time.perf_counter() - t) * 1000, 1)}

    def stylize_video(self, data):
        """A video job: every frame through the network with one noise draw (the same seed)."""
        from ..stylize import stylize
        generator = self.generators.get(self.runs.get_run(data.get('run')).model_path(data.get('checkpoint')), 'stylize')
        noise, seed = noise_and_seed(data)
        job = self.videos.start(data.get('data'), str(data.get('filename') or 'video.mp4'),
                                lambda frame: stylize(generator, frame, noise, seed))
        return {'job': job}

    def synthesize(self, data):
        """Samples of a synthesis run's model, saved in its folder (samples/): {run, checkpoint?, width,
        height, seed?, count?, tile?} -> {samples: [{seed, path, tiled?}], width, height, ms}; the paths
        are the run folder's, fetched as its other files are."""
        from ..images import save_image
        from ..synthesize import check_size, synthesize, tiled
        run = self.runs.get_run(data.get('run'))
        generator = self.generators.get(run.model_path(data.get('checkpoint')), 'synthesis')
        try:
            width, height = int(data.get('width') or 512), int(data.get('height') or data.get('width') or 512)
            seed, count, n = int(data.get('seed') or 0), int(data.get('count') or 1), int(data.get('tile') or 0)
            check_size(width, height)
        except (TypeError, ValueError) as e:
            raise UsageError(f'synthesize: {e}') from None
        if max(width, height) > SYNTHESIZE_SIDE or not 1 <= count <= SYNTHESIZE_COUNT or not 0 <= n <= 4 or seed < 0:
            raise UsageError(f'synthesize makes 1 to {SYNTHESIZE_COUNT} samples at a time, each at most '
                             f'{SYNTHESIZE_SIDE} px a side (the command line has no such limit), from a seed of '
                             '0 or more, tiled at most 4x4')
        t = time.perf_counter()
        samples = []
        (run.folder / 'samples').mkdir(exist_ok=True)
        for s in range(seed, seed + count):
            image = synthesize(generator, width, height, s)
            name = f'samples/seed{s}-{width}x{height}' + (f'-{Path(str(data["checkpoint"])).stem}' if data.get('checkpoint') else '')
            save_image(image, run.folder / f'{name}.png')
            samples.append({'seed': s, 'path': f'{name}.png'})
            if n > 1:
                save_image(tiled(image, n), run.folder / f'{name}-tiled{n}.png')
                samples[-1]['tiled'] = f'{name}-tiled{n}.png'
        return {'samples': samples, 'width': width, 'height': height, 'ms': round((time.perf_counter() - t) * 1000, 1)}

    def video_job(self, data):
        return {'job': self.videos.get(data.get('job'))}

    def export_model(self, data):
        from ..checkpoint import load_generator
        from ..export import export
        path = self.runs.get_run(data.get('run')).model_path(data.get('checkpoint'))
        exported, worst = export(load_generator(path), str(data.get('format')))
        return {'data': exported, 'max_difference': worst}

    # -- inputs ------------------------------------------------------------------------------

    def scan_dataset(self, data):
        """What a folder holds, for the wizard: the absolute folder searched (a relative path starts
        from the folder the service runs in, as the trainer's does), its usable photos counted per
        subfolder, the files skipped (with why) and the other files ignored (not images by name)."""
        from ..data import DatasetError
        path = str(data.get('path') or '').strip()
        if not path:
            raise UsageError('Give the path of a folder of photos, or choose the built-in sample photos.')
        given = resolve_data_dir(path)
        try:
            scan = scan_folder(given)
        except DatasetError as e:
            raise UsageError(str(e)) from None
        return {'folder': scan.folder, 'given': path, 'relative_to': None if given.is_absolute() else os.getcwd(),
                'usable': len(scan.usable), 'skipped': len(scan.skipped), 'subfolders': scan.subfolders(),
                'others': len(scan.others), 'other_examples': [scan.relative(p) for p in scan.others[:5]],
                'reasons': scan.reasons(), 'examples': [[scan.relative(p), r] for p, r in scan.skipped[:10]],
                'thumbnails': [_jpeg_thumbnail(p) for p in scan.usable[:THUMBNAILS]]}

    def vgg_weights(self, data):
        """What a run's `vgg_weights` setting will get, before it starts: {spec} -> {weights: {kind:
        'imagenet', found, file, mb, url, reachable, why?} | {kind: 'random'} | {kind: 'path', ok, file,
        why?}}. imagenet: whether the file is in the torch cache, else whether the download could start
        (nothing is downloaded); a path: whether it loads as a VGG-19 state dict (as the trainer loads it)."""
        import torch
        from models.vgg import from_file, imagenet_url
        spec = str(data.get('spec') or 'imagenet').strip()
        if spec == 'random':
            return {'weights': {'kind': 'random'}}
        if spec == 'imagenet':
            url = imagenet_url()
            file = os.path.join(torch.hub.get_dir(), 'checkpoints', url.rsplit('/', 1)[-1])
            if os.path.isfile(file):
                return {'weights': {'kind': 'imagenet', 'found': True, 'file': file, 'mb': VGG19_MB, 'url': url}}
            why = _reachable(url)
            return {'weights': {'kind': 'imagenet', 'found': False, 'file': file, 'mb': VGG19_MB, 'url': url,
                                'reachable': why is None, **({'why': why} if why else {})}}
        file = os.path.abspath(os.path.expanduser(spec))
        if not os.path.exists(file):
            return {'weights': {'kind': 'path', 'ok': False, 'file': file,
                                'why': f'{file} does not exist (relative paths start from {os.getcwd()})'}}
        if not os.path.isfile(file):
            return {'weights': {'kind': 'path', 'ok': False, 'file': file, 'why': f'{file} is a folder, not a file'}}
        try:
            from_file(file)
        except Exception as e:
            return {'weights': {'kind': 'path', 'ok': False, 'file': file,
                                'why': f'{file} is not a VGG-19 state dict ({type(e).__name__}: {str(e)[:300]})'}}
        return {'weights': {'kind': 'path', 'ok': True, 'file': file}}

    def device(self, data):
        import torch
        gpus = [{'index': i, 'name': torch.cuda.get_device_name(i),
                 'memory_gb': round(torch.cuda.get_device_properties(i).total_memory / 2**30, 1)}
                for i in range(torch.cuda.device_count())]
        from ..hardware import cpu_has_bf16
        return {'device': {'kind': 'cuda' if gpus else 'cpu', 'gpus': gpus, 'cpus': os.cpu_count(),
                           'cpu_bf16': cpu_has_bf16()}}

    def list_textures(self, data):
        return {'textures': self.textures.list()}

    def save_texture(self, data):
        return {'texture': self.textures.save(data.get('data'), str(data.get('filename') or 'texture.png'))}
