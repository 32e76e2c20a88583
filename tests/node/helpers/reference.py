"""What the Node tests check the app's files and pictures against, computed here from the model
files with the worker's own functions (one process per test file: torch is imported once).

Reads one JSON request a line on stdin, answers one JSON line on stdout: {"ok": result} or
{"error": traceback}. A request is {"kind": ..., ...}; see KINDS below. Pictures are compared
as 8-bit RGB: {"size": [w, h], "mode": the file's PIL mode, "max": the largest difference of a
channel (0-255), "mean": the mean difference}; max and mean are null when the sizes differ.

Networks run where the worker runs them (CUDA when there is one, as worker.service.commands.GeneratorCache and the
trainer do): a seed draws its noise on that device, so the same device gives the same picture.
"""
import json
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from models.fast import forward_fast  # noqa: E402
from models.portable import branch_noise  # noqa: E402
from worker.checkpoint import load_generator, load_record  # noqa: E402
from worker.data import load_crop  # noqa: E402
from worker.images import open_rgb, to_image  # noqa: E402
from worker.stylize import stylize  # noqa: E402
from worker.synthesize import synthesize, tiled  # noqa: E402
from worker.data import load_texture  # noqa: E402
from worker.train import MEMORY_FORMAT  # noqa: E402

DEVICE = torch.device('cuda' if torch.cuda.is_available() else 'cpu')


def generator(path, mode):
    return load_generator(path, mode).to(DEVICE)


def compare(got_path, reference: Image.Image) -> dict:
    with Image.open(got_path) as im:
        mode, size = im.mode, list(im.size)
        got = np.asarray(im.convert('RGB'), dtype=np.int16)
    if size != list(reference.size):
        return {'size': size, 'mode': mode, 'max': None, 'mean': None}
    d = np.abs(got - np.asarray(reference.convert('RGB'), dtype=np.int16))
    return {'size': size, 'mode': mode, 'max': int(d.max()), 'mean': float(d.mean())}


def k_stylize(r):
    """The photo through the model (a model.pth or checkpoint) as POST /api/stylize renders it."""
    g = generator(r['model'], 'stylize')
    return compare(r['got'], stylize(g, open_rgb(r['photo']), r['noise'], r['seed'], r.get('size')))


def k_synthesize(r):
    g = generator(r['model'], 'synthesis')
    return compare(r['got'], synthesize(g, r['width'], r['height'], r['seed']))


def k_tiled(r):
    """`got` is `image` laid n x n."""
    with Image.open(r['image']) as im:
        return compare(r['got'], tiled(im.convert('RGB'), r['n']))


def k_texture(r):
    """`got` is the texture at its style size (a run's previews/exemplar.png)."""
    return compare(r['got'], to_image(load_texture(r['texture'], r['size'])[0]))


def k_preview(r):
    """A stylization run's preview: the preview photos (centre crops) through the checkpoint, side
    by side, with the noise of seed 0; the weights in the trainer's memory format."""
    g = generator(r['model'], 'stylize').to(memory_format=MEMORY_FORMAT)
    photos = torch.stack([load_crop(p, r['image_size']) for p in r['photos']]).to(DEVICE)
    with torch.inference_mode():
        out = forward_fast(g, photos, generator=torch.Generator(DEVICE).manual_seed(0))
    return compare(r['got'], to_image(torch.cat(list(out), 2)))


def k_record(r):
    """A model file or checkpoint as loaded: its iteration, keys, and how far its weights are
    from those of each of `against` (the largest difference of any parameter; null when the
    parameters do not match by name and shape)."""
    rec = load_record(r['path'])
    out = {'iteration': rec.get('iteration'), 'keys': sorted(rec), 'mode': rec.get('mode'), 'differences': []}
    for other in r.get('against', []):
        o = load_record(other)['state_dict']
        s = rec['state_dict']
        same = sorted(s) == sorted(o) and all(s[k].shape == o[k].shape for k in s)
        out['differences'].append(
            max(float((s[k].float() - o[k].float()).abs().max()) if s[k].numel() else 0.0 for k in s) if same else None)
    return out


def k_export(r):
    """Runs an exported stylization model (its own runtime) on a random photo and noise, and gives
    the largest difference from each of `models` (PyTorch on the CPU, as worker.export checks, the
    same noise)."""
    rng = torch.Generator().manual_seed(7)
    image, noise, k = torch.rand(1, 3, 45, 61, generator=rng), torch.rand(1, 3, 45, 61, generator=rng), 1.0
    data = Path(r['file']).read_bytes()
    if r['format'] == 'onnx':
        import onnxruntime
        session = onnxruntime.InferenceSession(data, providers=['CPUExecutionProvider'])
        got = session.run(None, {'image': image.numpy(), 'noise': noise.numpy(), 'noise_factor': np.array(k, dtype=np.float32)})[0]
    else:
        module = torch.export.load(r['file']).module() if r['format'] == 'pt2' else torch.jit.load(r['file'], map_location='cpu')
        with torch.no_grad():
            got = module(image, noise, torch.tensor(k)).numpy()
    diffs = []
    for path in r['models']:
        g = load_generator(path, 'stylize')
        with torch.no_grad():
            expected = g(image, noise=k, noises=branch_noise(g, noise)).numpy()
        diffs.append(float(np.abs(got - expected).max()) if got.shape == expected.shape else None)
    return {'shape': list(got.shape), 'differences': diffs}


KINDS = {'stylize': k_stylize, 'synthesize': k_synthesize, 'tiled': k_tiled, 'texture': k_texture,
         'preview': k_preview, 'record': k_record, 'export': k_export}


def main():
    torch.set_num_threads(1)
    print(json.dumps({'ok': 'ready'}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            answer = {'ok': KINDS[request['kind']](request)}
        except Exception:  # noqa: BLE001 - the test reports it
            answer = {'error': traceback.format_exc()}
        print(json.dumps(answer), flush=True)


if __name__ == '__main__':
    main()
