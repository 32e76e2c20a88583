import pytest
import torch

from models.generator import Generator, count_parameters


def test_parameter_count_of_the_papers_generator():
    assert count_parameters(Generator()) == 68_507
    assert count_parameters(Generator(norm='batch')) == 68_507


@pytest.mark.parametrize('h,w', [(16, 16), (37, 53), (5, 7), (100, 31), (64, 48)])
def test_any_size_gives_the_same_size_back(h, w):
    g = Generator()
    for mode in (g.train, g.eval):
        mode()
        assert g(torch.rand(2, 3, h, w)).shape == (2, 3, h, w)


def test_fewer_scales():
    g = Generator(scales=3)
    assert len(g.branches) == 3 and g.multiple == 4
    assert g(torch.rand(1, 3, 10, 13)).shape == (1, 3, 10, 13)


def test_inference_uses_each_images_own_statistics():
    """At inference, an image's output must not depend on what else is in the batch (the paper's
    batch norm with running statistics gives flat images)."""
    torch.manual_seed(0)
    for norm in ('batch', 'instance'):
        g = Generator(norm=norm).eval()
        a, b = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
        alone = g(a, noise=0)
        batched = g(torch.cat([a, b]), noise=0)[:1]
        torch.testing.assert_close(alone, batched, atol=1e-4, rtol=1e-3)


def test_batch_norm_trains_on_batch_statistics():
    torch.manual_seed(0)
    g = Generator(norm='batch').train()
    a, b = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    assert not torch.allclose(g(a, noise=0), g(torch.cat([a, b]), noise=0)[:1], atol=1e-4)


def test_noise_factor_and_seed():
    g = Generator().eval()
    x = torch.rand(1, 3, 32, 32)
    torch.testing.assert_close(g(x, noise=0), g(x, noise=0))
    seeded = [g(x, generator=torch.Generator().manual_seed(7)) for _ in range(2)]
    torch.testing.assert_close(*seeded)
    other = g(x, generator=torch.Generator().manual_seed(8))
    assert not torch.allclose(seeded[0], other)
    # More noise moves the output further from the noiseless one.
    base = g(x, noise=0)
    d1 = (g(x, noise=1, generator=torch.Generator().manual_seed(1)) - base).abs().mean()
    d8 = (g(x, noise=8, generator=torch.Generator().manual_seed(1)) - base).abs().mean()
    assert d8 > d1 > 0


def test_gradients_reach_every_parameter():
    g = Generator()
    g(torch.rand(2, 3, 32, 32)).square().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())
