"""Training speed and memory: images/s and peak memory of `worker.train.training_step`, by device,
precision, image size and batch size, with the FLOP/s it reaches. Random VGG weights (speed does
not depend on them). With --peer, pytorch/examples' fast_neural_style training step (TransformerNet
through its VGG-16 loss, random weights) timed in the same process at the same size and batch.

    .venv/bin/python bench/train_speed.py [--device all|cpu|cuda] [--sizes 128,256] [--batches 1,4]
        [--precisions auto|fp32,bf16] [--peer ../shared/peers/fast_neural_style] [--peak_tflops F]
"""
import argparse
import importlib.util
import sys
import time
from pathlib import Path

import torch
import torchvision
from torch.utils.flop_counter import FlopCounterMode

from common import devices, peak_mb, reset_peak, sync, table
from models.generator import Generator
from models.losses import TextureLoss
from models.vgg import load_vgg19
from worker.train import training_step

AMP = {'fp32': None, 'bf16': torch.bfloat16, 'fp16': torch.float16}
VGG16 = torchvision.models.vgg16


def ours(device, size, batch, amp):
    """A training step of this project, as worker.train runs it on this device."""
    cuda = device == 'cuda'
    fmt = torch.channels_last if cuda else torch.contiguous_format
    g = Generator().to(device, memory_format=fmt)
    loss = TextureLoss(load_vgg19('random'), torch.rand(1, 3, 256, 256)).to(device, memory_format=fmt)
    opt = torch.optim.Adam(g.parameters(), 1e-3)
    scaler = torch.amp.GradScaler('cuda', enabled=amp == torch.float16)
    photos = torch.rand(batch, 3, size, size, device=device).contiguous(memory_format=fmt)
    return lambda: training_step(g, loss, opt, scaler, photos, amp)


def peer(folder, device, size, batch, amp):
    """fast_neural_style's training step (neural_style.py's loop body), its VGG-16 with random weights."""
    sys.path.insert(0, str(folder))
    load = lambda name: importlib.util.spec_from_file_location(name, Path(folder) / f'{name}.py')  # noqa: E731
    modules = {}
    for name in ('transformer_net', 'vgg', 'utils'):
        spec = load(name)
        modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(modules[name])
    modules['vgg'].models.vgg16 = lambda weights=None: VGG16(weights=None)  # offline: speed needs no weights
    net, vgg = modules['transformer_net'].TransformerNet().to(device), modules['vgg'].Vgg16().to(device)
    utils = modules['utils']
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    style = utils.normalize_batch(torch.rand(1, 3, 256, 256, device=device) * 255)
    grams = [utils.gram_matrix(f).repeat(batch, 1, 1) for f in vgg(style)]
    x = torch.rand(batch, 3, size, size, device=device) * 255

    def step():
        with torch.autocast(device, amp) if amp else torch.autocast(device, enabled=False):
            y = utils.normalize_batch(net(x))
            fy, fx = vgg(y), vgg(utils.normalize_batch(x.clone()))
            content = 1e5 * torch.nn.functional.mse_loss(fy.relu2_2, fx.relu2_2)
            style_loss = 1e10 * sum(torch.nn.functional.mse_loss(utils.gram_matrix(a), g) for a, g in zip(fy, grams))
        opt.zero_grad()
        (content + style_loss).backward()
        opt.step()
    return step


def measure(step, device, steps):
    for _ in range(3):  # warm-up: cudnn autotuning, allocator
        step()
    with FlopCounterMode(display=False) as counter:
        step()
    sync(device)
    reset_peak(device)
    t = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return (time.perf_counter() - t) / steps, counter.get_total_flops(), peak_mb(device)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--device', default='all')
    p.add_argument('--sizes', default='128,256')
    p.add_argument('--batches', default='1,4')
    p.add_argument('--precisions', default='auto', help='auto: bf16 (fp16 without it) on CUDA, fp32 on the CPU')
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--peer', help="pytorch/examples' fast_neural_style folder")
    p.add_argument('--peak_tflops', type=float, help='the device\'s peak, for the fraction reached')
    a = p.parse_args()
    rows = []
    for device in devices(a.device):
        cuda = device == 'cuda'
        if cuda:
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        precisions = a.precisions.split(',') if a.precisions != 'auto' else \
            [('bf16' if torch.cuda.is_bf16_supported() else 'fp16') if cuda else 'fp32']
        steps = a.steps if device == 'cpu' else a.steps * 10
        for precision in precisions:
            for size in map(int, a.sizes.split(',')):
                for batch in map(int, a.batches.split(',')):
                    makers = [('ours', lambda: ours(device, size, batch, AMP[precision]))]
                    if a.peer:
                        makers.append(('peer', lambda: peer(a.peer, device, size, batch, AMP[precision])))
                    speeds = {}
                    for who, make in makers:
                        dt, flops, mb = measure(make(), device, steps)
                        speeds[who] = batch / dt
                        tflops = flops / dt / 1e12
                        rows.append((who, device, precision, size, batch, f'{dt * 1000:.0f}', f'{batch / dt:.1f}',
                                     f'{speeds["ours"] / speeds[who]:.2f}' if who == 'peer' else '-',
                                     f'{tflops:.2f}', f'{tflops / a.peak_tflops:.1%}' if a.peak_tflops else '-', f'{mb:.0f}'))
    print(f'torch {torch.__version__}, {torch.get_num_threads()} CPU threads'
          + (f', {torch.cuda.get_device_name()}' if torch.cuda.is_available() else ''))
    table(('net', 'device', 'precision', 'size', 'batch', 'ms/step', 'img/s', 'ours/peer', 'TFLOP/s', 'of peak', 'peak MB'), rows)


if __name__ == '__main__':
    main()
