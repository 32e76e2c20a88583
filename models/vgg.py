"""VGG-19, the loss network: torchvision's ImageNet weights, a local file, or seeded random.

torchvision's VGG-19 takes RGB in [0, 1] normalised by the ImageNet mean and std (not the
Caffe BGR 0-255 convention of the paper's code); `VGGFeatures` does that normalisation, so
everything around it stays RGB in [0, 1].
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import urllib.request

import torch
import torch.nn as nn
from torchvision.models import VGG19_Weights
from torchvision.models.vgg import cfgs, make_layers

log = logging.getLogger(__name__)

# Index of each named ReLU in torchvision's vgg19().features.
LAYER_INDEX = {
    'relu1_1': 1, 'relu1_2': 3,
    'relu2_1': 6, 'relu2_2': 8,
    'relu3_1': 11, 'relu3_2': 13, 'relu3_3': 15, 'relu3_4': 17,
    'relu4_1': 20, 'relu4_2': 22, 'relu4_3': 24, 'relu4_4': 26,
    'relu5_1': 29, 'relu5_2': 31, 'relu5_3': 33, 'relu5_4': 35,
}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
RANDOM_SEED = 0

HOW_TO_PROVIDE = (
    'TN Studio needs ImageNet VGG-19 weights (torchvision IMAGENET1K_V1, file {filename}, 548 MB) '
    'for its losses. Either:\n'
    '  - run once on a machine with internet access: it is downloaded to {cache_dir};\n'
    '  - or copy {filename} there by hand (from {url});\n'
    '  - or pass --vgg_weights /path/to/{filename} (a torchvision VGG-19 state dict);\n'
    '  - or, for tests only, --vgg_weights random (a seeded random network: a network trained '
    'with it learns only colours and local structure).'
)


class VGGWeightsUnavailable(RuntimeError):
    pass


def imagenet_url() -> str:
    """torchvision's IMAGENET1K_V1 file, or a mirror of it (TN_VGG19_URL)."""
    return os.environ.get('TN_VGG19_URL') or VGG19_Weights.IMAGENET1K_V1.url


def _how_to_provide() -> str:
    url = imagenet_url()
    filename = url.rsplit('/', 1)[-1]
    cache_dir = os.path.join(torch.hub.get_dir(), 'checkpoints')
    return HOW_TO_PROVIDE.format(filename=filename, cache_dir=cache_dir, url=url)


def _features(seed: int | None = None) -> nn.Sequential:
    """VGG-19's convolutional part alone: the classifier (120M parameters) is never needed."""
    # fork_rng: building the loss network must not move the training run's RNG stream.
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        features = make_layers(cfgs['E'])
        for m in features:
            if isinstance(m, nn.Conv2d):  # torchvision's VGG init
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                nn.init.zeros_(m.bias)
    return features


def download(url: str, path: str, progress=None):
    """url to path, atomically (a partial download never sits in the cache), checking the sha256
    prefix the file name carries (vgg19-dcbb9e9d.pth), as torch.hub does. `progress(done, total)`
    is called as the bytes arrive: the first run shows the 548 MB coming in."""
    expected = re.search(r'-([a-f0-9]{6,})\.', os.path.basename(path))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = f'{path}.partial'
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=60) as response, open(partial, 'wb') as out:
        total, done = int(response.headers.get('Content-Length') or 0), 0
        while chunk := response.read(1 << 20):
            out.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total or done)
    if expected and not digest.hexdigest().startswith(expected.group(1)):
        os.remove(partial)
        raise ValueError(f'{url} did not download whole (its sha256 does not start with {expected.group(1)})')
    os.replace(partial, path)


def from_file(path: str) -> nn.Sequential:
    """VGG-19 features from a file: a torchvision VGG-19 state dict, or its features alone."""
    state = torch.load(path, map_location='cpu', weights_only=True)
    if isinstance(state, dict) and 'state_dict' in state:
        state = state['state_dict']
    if any(k.startswith('features.') for k in state):
        state = {k[len('features.'):]: v for k, v in state.items() if k.startswith('features.')}
    features = _features()
    features.load_state_dict(state)
    return features


def load_vgg19(spec: str = 'imagenet', progress=None) -> nn.Sequential:
    """VGG-19 features from `imagenet` (torchvision's IMAGENET1K_V1, from the torch cache, where
    it is downloaded the first time, `progress(done, total)` telling how far), `random` (seeded),
    or a file path (a torchvision VGG-19 state dict, or its features alone)."""
    if spec == 'random':
        log.warning('VGG-19 has RANDOM weights (seed %d): the network learns the texture\'s colours and '
                    'local structure only. Use this for tests only.', RANDOM_SEED)
        return _features(RANDOM_SEED).eval()
    if spec == 'imagenet':
        url = imagenet_url()
        path = os.path.join(torch.hub.get_dir(), 'checkpoints', url.rsplit('/', 1)[-1])
        try:
            if not os.path.isfile(path):
                log.info('downloading the VGG-19 weights (once) from %s to %s', url, path)
                download(url, path, progress)
            return from_file(path).eval()
        except Exception as e:  # no network, proxy, partial download...
            raise VGGWeightsUnavailable(f'Could not load VGG-19 weights ({e}).\n{_how_to_provide()}') from e
    if not os.path.isfile(spec):
        raise VGGWeightsUnavailable(f'--vgg_weights {spec!r} is not a file.\n{_how_to_provide()}')
    try:
        return from_file(spec).eval()
    except Exception as e:
        raise VGGWeightsUnavailable(f'{spec} is not a VGG-19 state dict ({e}).\n{_how_to_provide()}') from e


class VGGFeatures(nn.Module):
    """Frozen VGG-19 features, cut after the deepest layer any loss needs.

    `forward(x, layers)` returns {name: activation} and stops at the deepest layer asked for.
    """

    def __init__(self, vgg: nn.Sequential, layers):
        super().__init__()
        unknown = set(layers) - set(LAYER_INDEX)
        if unknown:
            raise ValueError(f'unknown VGG-19 layers {sorted(unknown)}; known: {list(LAYER_INDEX)}')
        self.layers = tuple(layers)
        self.body = vgg[: max(LAYER_INDEX[l] for l in layers) + 1]
        self.body.requires_grad_(False)
        self.register_buffer('mean', torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.eval()

    def train(self, mode: bool = True):
        return super().train(False)  # always eval: the loss network is fixed

    def forward(self, x, layers=None):
        layers = self.layers if layers is None else layers
        wanted = {LAYER_INDEX[l]: l for l in layers}
        last = max(wanted)
        x = (x - self.mean) / self.std
        out = {}
        for i, module in enumerate(self.body):
            x = module(x)
            if i in wanted:
                out[wanted[i]] = x
            if i == last:
                break
        return out
