"""ONNX and TorchScript exports: loaded by their own runtimes, they compute what PyTorch does at
sizes the export never saw; a mismatch writes nothing."""
import subprocess
import sys

import numpy as np
import onnxruntime
import pytest
import torch

from conftest import REPO
from models.generator import Generator
from models.portable import branch_noise
from worker import export as export_module
from worker.checkpoint import load_generator

SHARED_T7 = REPO.parent / 'shared' / 'data' / 'texture_nets_v1' / 'starry.t7'


def reference(g, image, noise, k):
    with torch.no_grad():
        return g(image, noise=k, noises=branch_noise(g, noise)).numpy()


def run_exported(fmt, path, image, noise, k):
    if fmt == 'onnx':
        session = onnxruntime.InferenceSession(str(path), providers=['CPUExecutionProvider'])
        return session.run(None, {'image': image.numpy(), 'noise': noise.numpy(),
                                  'noise_factor': np.array(k, dtype=np.float32)})[0]
    with torch.no_grad():
        return torch.jit.load(str(path))(image, noise, torch.tensor(k)).numpy()


def generators():
    torch.manual_seed(0)
    out = {'5 scales': Generator(), '3 scales, batch norm': Generator(scales=3, norm='batch')}
    if SHARED_T7.exists():
        out['starry.t7'] = load_generator(SHARED_T7)
    return out


@pytest.mark.parametrize('fmt', ['onnx', 'torchscript'])
def test_an_export_computes_what_pytorch_does_at_any_size(fmt, tmp_path):
    if not SHARED_T7.exists():
        print(f'{SHARED_T7} is missing (a clone without ../shared): the authors\' network is not checked')
    for name, g in generators().items():
        model = tmp_path / 'model.pth'
        torch.save({'format': 'tn-studio-generator', 'version': 1, 'generator': g.config, 'iteration': 0,
                    'texture': name, 'train': {}, 'state_dict': g.state_dict()}, model)
        out = tmp_path / f'{name}{export_module.FORMATS[fmt]}'
        r = subprocess.run([sys.executable, '-m', 'worker.export', '--model', SHARED_T7 if name == 'starry.t7' else model,
                            '--format', fmt, '--out', out], cwd=REPO, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        assert 'matches PyTorch' in r.stderr
        rng = torch.Generator().manual_seed(1)
        for b, h, w in ((1, 31, 45), (1, 100, 16), (3, 57, 83)):  # sizes the check at export did not use
            image, noise = torch.rand(b, 3, h, w, generator=rng), torch.rand(b, 3, h, w, generator=rng)
            for k in (0.0, 1.0):
                got = run_exported(fmt, out, image, noise, k)
                assert got.shape == (b, 3, h, w)
                assert np.abs(got - reference(g.eval(), image, noise, k)).max() < export_module.TOLERANCE, (name, h, w, k)


def test_the_noise_input_drives_the_output():
    """Same noise, same picture (a video's frames do not boil); other noise, another picture."""
    g = Generator().eval()
    data, _ = export_module.export(g, 'onnx')
    session = onnxruntime.InferenceSession(data, providers=['CPUExecutionProvider'])
    image = np.random.default_rng(0).random((1, 3, 40, 40), dtype=np.float32)
    noises = [np.random.default_rng(s).random((1, 3, 40, 40), dtype=np.float32) for s in (1, 1, 2)]
    outs = [session.run(None, {'image': image, 'noise': z, 'noise_factor': np.array(1.0, np.float32)})[0] for z in noises]
    assert np.array_equal(outs[0], outs[1]) and np.abs(outs[0] - outs[2]).max() > 1e-3


def test_an_export_that_does_not_match_writes_nothing(tmp_path, monkeypatch, caplog):
    model = tmp_path / 'model.pth'
    g = Generator()
    torch.save({'format': 'tn-studio-generator', 'version': 1, 'generator': g.config, 'iteration': 0,
                'texture': 't', 'train': {}, 'state_dict': g.state_dict()}, model)
    monkeypatch.setattr(export_module, 'TOLERANCE', 0.0)  # float32 runtimes differ by ~1e-5: a mismatch
    out = tmp_path / 'out' / 'model.onnx'
    out.parent.mkdir()
    assert export_module.main(['--model', str(model), '--format', 'onnx', '--out', str(out)]) == 1
    assert 'differs from PyTorch' in caplog.text
    assert list(out.parent.iterdir()) == []  # no file, no temporary file
    assert export_module.main(['--model', str(tmp_path / 'nothing'), '--format', 'onnx', '--out', str(out)]) == 2
    assert 'does not exist' in caplog.text
