"""VGG-19, the loss network: torchvision's ImageNet weights, a local file, or seeded random.

torchvision's VGG-19 takes RGB in [0, 1] normalised by the ImageNet mean and std (not the
Caffe BGR 0-255 convention of the paper's code); `VGGFeatures` does that normalisation, so
everything around it stays RGB in [0, 1].
"""
from __future__ import annotations

import logging
import os

import torch
import torch.nn as nn
from torchvision.models import VGG19_Weights, vgg19
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


def _how_to_provide() -> str:
    url = VGG19_Weights.IMAGENET1K_V1.url
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


def load_vgg19(spec: str = 'imagenet') -> nn.Sequential:
    """VGG-19 features from `imagenet` (torchvision's IMAGENET1K_V1, via the torch cache),
    `random` (seeded), or a file path (a torchvision VGG-19 state dict, or its features alone)."""
    if spec == 'random':
        log.warning('VGG-19 has RANDOM weights (seed %d): the network learns the texture\'s colours and '
                    'local structure only. Use this for tests only.', RANDOM_SEED)
        features = _features(RANDOM_SEED)
    elif spec == 'imagenet':
        try:
            features = vgg19(weights=VGG19_Weights.IMAGENET1K_V1).features
        except Exception as e:  # no network, proxy, partial download...
            raise VGGWeightsUnavailable(f'Could not load VGG-19 weights ({e}).\n{_how_to_provide()}') from e
    else:
        if not os.path.isfile(spec):
            raise VGGWeightsUnavailable(f'--vgg_weights {spec!r} is not a file.\n{_how_to_provide()}')
        try:
            state = torch.load(spec, map_location='cpu', weights_only=True)
            if isinstance(state, dict) and 'state_dict' in state:
                state = state['state_dict']
            if any(k.startswith('features.') for k in state):
                state = {k[len('features.'):]: v for k, v in state.items() if k.startswith('features.')}
            features = _features()
            features.load_state_dict(state)
        except Exception as e:
            raise VGGWeightsUnavailable(f'{spec} is not a VGG-19 state dict ({e}).\n{_how_to_provide()}') from e
    return features.eval()


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
