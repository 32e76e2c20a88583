"""The authors' released Torch 7 generators, imported by models.t7, against an independent
NumPy forward pass of the raw Torch module tree, and as stylizations a person can look at."""
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from models.generator import count_parameters
from models.t7 import import_t7

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / 'shared' / 'data'
NETS = DATA / 'texture_nets_v1'
NAMES = ('mosaic', 'starry', 'pleades', 'turner')
ARTIFACTS = REPO / 'artifacts' / 't7'

pytestmark = pytest.mark.skipif(
    not all((NETS / f'{n}.t7').is_file() for n in NAMES) or not (DATA / 'amber.jpg').is_file(),
    reason=f'needs the shared test data beside the repo ({DATA}): the .t7 networks and amber.jpg')


@pytest.fixture(scope='module')
def mosaic():
    return import_t7(NETS / 'mosaic.t7')


def photo(size, name='amber.jpg'):
    im = Image.open(DATA / name).convert('RGB').resize((size[1], size[0]), Image.BICUBIC)
    return np.asarray(im, np.float64).transpose(2, 0, 1) / 255


# ---- an independent forward pass: NumPy, straight from the torchfile module tree ----

def flat_parameters(root):
    """Torch's getParameters() vector (weight, bias of each module, depth first), which the
    authors trained and saved, and where each module's weight and bias start in it."""
    chunks, starts, n = [], {}, 0
    stack = [root]
    while stack:
        mod = stack.pop()
        o = mod._obj
        stack.extend(reversed(o.get(b'modules') or []))
        if isinstance(o.get(b'weight'), np.ndarray):
            starts[id(mod)] = (n, n + o[b'weight'].size)
            chunks += [o[b'weight'].ravel(), o[b'bias'].ravel()]
            n += o[b'weight'].size + o[b'bias'].size
    return np.concatenate(chunks).astype(np.float64), starts


def torch_forward(root, image, missing='torch'):
    """Run the Torch network on one RGB image in [0, 1] (noise factor 0), return RGB in [0, 1]."""
    flat, starts = flat_parameters(root)

    def run(mod, x):
        kind, o = mod._typename.decode(), mod._obj
        if kind == 'nn.Sequential':
            for child in o[b'modules']:
                x = run(child, x)
            return x
        if kind == 'nn.Concat':
            return np.concatenate([run(child, x) for child in o[b'modules']], axis=o[b'dimension'] - 1)
        if kind == 'nn.SpatialAveragePooling':
            k = int(o[b'kW'])
            n, c, h, w = x.shape
            return x.reshape(n, c, h // k, k, w // k, k).mean((3, 5))
        if kind == 'nn.GenNoise':  # the authors' stylization GenNoise: channels 4-6 := k * U[0,1)
            x = x.copy()
            x[:, 3:6] = 0.0
            return x
        if kind == 'nn.SpatialCircularPadding':
            t, b, l, r = (int(o[k]) for k in (b'pad_t', b'pad_b', b'pad_l', b'pad_r'))
            return np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), mode='wrap')
        if kind == 'nn.SpatialConvolution':
            w = o[b'weight'].astype(np.float64)
            win = np.lib.stride_tricks.sliding_window_view(x, w.shape[2:], axis=(2, 3))
            return np.einsum('nchwij,ocij->nohw', win, w, optimize=True) + o[b'bias'][None, :, None, None]
        if kind == 'nn.SpatialBatchNormalization':
            # Train mode on one image: its own statistics, biased variance. Plane c reads
            # weight[c], bias[c] unchecked, which for the short (buggy) norms runs on into the
            # flat parameter vector.
            c = x.shape[1]
            if missing == 'torch':
                w0, b0 = starts[id(mod)]
                gamma, beta = flat[w0:w0 + c], flat[b0:b0 + c]
            else:
                gamma = np.concatenate([o[b'weight'], np.ones(c - o[b'weight'].size)])
                beta = np.concatenate([o[b'bias'], np.zeros(c - o[b'bias'].size)])
            mean = x.mean((0, 2, 3), keepdims=True)
            var = x.var((0, 2, 3), keepdims=True)
            return (x - mean) / np.sqrt(var + o[b'eps']) * gamma[None, :, None, None] + beta[None, :, None, None]
        if kind == 'nn.LeakyReLU':
            return np.where(x > 0, x, o[b'negval'] * x)
        if kind == 'nn.SpatialUpSamplingNearest':
            s = int(o[b'scale_factor'])
            return x.repeat(s, axis=2).repeat(s, axis=3)
        raise AssertionError(f'unexpected module {kind}')

    out = run(root, np.concatenate([image, image])[None])[0]  # the authors fed [img, img]
    caffe_mean_bgr = np.array([103.939, 116.779, 123.68])
    return (out + caffe_mean_bgr[:, None, None])[::-1] / 255


def ours(g, image, noise=0.0, seed=0):
    with torch.no_grad():
        x = torch.from_numpy(image).to(g.to_rgb.weight.dtype)[None]
        return g(x, noise=noise, generator=torch.Generator().manual_seed(seed))[0].double().numpy()


# ---- tests ----

@pytest.mark.parametrize('name', NAMES)
def test_each_network_imports_with_the_paper_parameter_count(name):
    g = import_t7(NETS / f'{name}.t7')
    assert count_parameters(g) == 68_507
    assert not g.training


@pytest.mark.parametrize('name', NAMES)
def test_matches_an_independent_numpy_forward_of_the_torch_network(name):
    import torchfile
    root = torchfile.load(str(NETS / f'{name}.t7'))
    g = import_t7(NETS / f'{name}.t7')
    rng = np.random.default_rng(0)
    for image in (photo((64, 64)), rng.random((3, 48, 64))):
        ref = torch_forward(root, image)
        # float64 isolates the import (weights are float32, so ~1e-8 remains); float32 is how
        # it runs, its rounding amplified where a channel is nearly constant (up to ~1e-4).
        for dtype, tol in ((torch.float64, 1e-6), (torch.float32, 2e-4)):
            diff = np.abs(ours(g.to(dtype), image) - ref).max()
            assert diff < tol, f'{name} {image.shape} {dtype}: max abs diff {diff:.2e}'


@pytest.mark.parametrize('name', NAMES)
def test_saved_running_means_after_each_join_fit_the_imported_norms(name):
    # The evidence for reading the short norms' missing channels from the flat storage: a join
    # concatenates two normalised paths, so each channel's mean over an image is its norm's
    # bias, and a circular conv maps means linearly. The mean entering the norm after the
    # join's first conv is then image-independent, and the .t7's running mean (an average over
    # the last training batches) must be close to it. Weight 1, bias 0 misses by 1-9 sigma.
    import torchfile
    seq, saved = torchfile.load(str(NETS / f'{name}.t7')), []
    for _ in range(4):  # outermost join first: [Concat(deeper, new), pad+conv, norm, ...]
        saved.insert(0, seq._obj[b'modules'][2]._obj)
        seq = seq._obj[b'modules'][0]._obj[b'modules'][0]
    g = import_t7(NETS / f'{name}.t7')
    for join, bn in zip(g.joins, saved):
        conv = join.convs[0][0]
        beta = torch.cat([join.norm_deep.bias, join.norm_branch.bias]).detach().double()
        mean = conv.bias.detach().double() + conv.weight.detach().double().sum((2, 3)) @ beta
        z = np.abs(mean.numpy() - bn[b'running_mean']) / np.sqrt(bn[b'running_var'])
        assert z.mean() < 1.0, f'{name}: join of {conv.in_channels} channels is {z.mean():.2f} sigma off'


def test_identity_fill_of_the_short_norms_puts_the_saved_channels_first():
    import torchfile
    root = torchfile.load(str(NETS / 'mosaic.t7'))
    g = import_t7(NETS / 'mosaic.t7', missing='identity')
    for join in g.joins[1:]:
        assert torch.equal(join.norm_deep.weight[8:], torch.ones_like(join.norm_deep.weight[8:]))
        assert torch.equal(join.norm_deep.bias[8:], torch.zeros_like(join.norm_deep.bias[8:]))
    image = photo((64, 64))
    ref = torch_forward(root, image, missing='identity')
    assert np.abs(ours(g.double(), image) - ref).max() < 1e-6


def test_rejects_files_that_are_not_such_a_network(tmp_path):
    number = tmp_path / 'number.t7'
    number.write_bytes(struct.pack('<id', 1, 42.0))  # a valid Torch 7 file holding the number 42
    junk = tmp_path / 'junk.t7'
    junk.write_bytes(bytes(range(256)) * 4)
    for path in (number, junk):
        with pytest.raises(ValueError, match='expected a Texture Networks v1') as e:
            import_t7(path)
        assert str(path) in str(e.value)
    with pytest.raises(ValueError, match='missing'):
        import_t7(NETS / 'mosaic.t7', missing='zeros')


def luminance(rgb):
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def high_frequency(lum):
    return np.abs(4 * lum[1:-1, 1:-1] - lum[:-2, 1:-1] - lum[2:, 1:-1] - lum[1:-1, :-2] - lum[1:-1, 2:]).mean()


def save(rgb, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    Image.fromarray((rgb.transpose(1, 2, 0) * 255).round().astype(np.uint8)).save(ARTIFACTS / name)


def test_mosaic_stylizes_a_photo(mosaic):
    # The shared mosaic.jpg is pytorch/examples' stained glass, not the stone mosaic this
    # network was trained on, so its colours are no target; the texture and structure are.
    content = photo((256, 256))
    out = ours(mosaic, content, noise=1.0).clip(0, 1)
    save(np.concatenate([content, out], axis=2), 'amber_mosaic.png')
    lum_in, lum_out = luminance(content), luminance(out)
    corr = np.corrcoef(lum_in.ravel(), lum_out.ravel())[0, 1]
    assert out.std() > 0.1, 'flat output'
    assert np.abs(out - content).mean() > 0.1, 'barely changed the photo'
    assert 0.2 < corr < 0.9, f'luminance correlation with the photo {corr:.2f}'
    assert high_frequency(lum_out) > 2 * high_frequency(lum_in), 'no fine texture added'


def test_starry_paints_a_warm_photo_blue():
    # Also checks the BGR -> RGB fold: swapped channels would make this orange.
    content = photo((128, 128))
    out = ours(import_t7(NETS / 'starry.t7'), content, noise=1.0).clip(0, 1)
    save(np.concatenate([content, out], axis=2), 'amber_starry.png')
    r, g, b = content.mean((1, 2))
    assert r > b
    r, g, b = out.mean((1, 2))
    assert b > r + 0.1 and b > g
