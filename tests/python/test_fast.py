"""models.fast computes what Generator.forward computes, for every kind of generator and size."""
import numpy as np
import pytest
import torch

from conftest import SHARED, smooth_image
from models.fast import forward_fast
from models.generator import Generator
from worker.checkpoint import load_generator
from worker.images import to_image, to_tensor
from worker.stylize import stylize

T7 = SHARED / 'texture_nets_v1' / 'starry.t7'


def generators():
    torch.manual_seed(0)
    yield 'paper default, instance norm', Generator().eval()
    yield '3 scales, 16 channels, batch norm', Generator(scales=3, channels=16, norm='batch').eval()
    yield '1 scale', Generator(scales=1).eval()
    if T7.exists():
        yield "the authors' starry.t7", load_generator(T7)


@pytest.mark.parametrize('shape', [(1, 3, 37, 53), (2, 3, 64, 41), (1, 3, 16, 16), (1, 3, 5, 7), (1, 3, 96, 160)])
def test_same_output_as_the_reference_forward(shape):
    """Odd sizes (padded to the pooling multiple), a batch of two (instance norm per image), an
    image whose coarsest scale is 1x1 px, noise 0 and 2."""
    x = torch.rand(shape)
    for name, g in generators():
        for k in (0.0, 2.0):
            with torch.inference_mode():
                want = g(x, k, torch.Generator().manual_seed(3))
                got = forward_fast(g, x, k, torch.Generator().manual_seed(3))
            assert got.shape == want.shape and got.is_contiguous(), name
            assert (got - want).abs().max() < 2e-4, (name, k)


def test_passed_in_noise_and_the_default_factor():
    g = Generator(noise=0.5).eval()
    x = torch.rand(1, 3, 48, 48)
    noises = g.draw_noise(x, torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(forward_fast(g, x, noises=noises), g(x, noises=noises), atol=2e-4)


def test_refuses_a_generator_in_training_mode():
    with pytest.raises(ValueError, match='eval'):
        forward_fast(Generator().train(), torch.rand(1, 3, 32, 32))


def test_stylize_runs_it():
    """The app's stylize gives the reference forward's picture (to a grey level)."""
    torch.manual_seed(0)
    g = Generator().eval()
    photo = smooth_image(np.random.default_rng(2), 70, 90)
    got = np.asarray(stylize(g, photo, noise=1.0, seed=5), dtype=int)
    with torch.inference_mode():
        want = np.asarray(to_image(g(to_tensor(photo)[None], 1.0, torch.Generator().manual_seed(5))), dtype=int)
    assert np.abs(got - want).max() <= 1
