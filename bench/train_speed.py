"""Training speed and memory: images/s and peak memory of `worker.train.training_step`, by device,
precision, image size and batch size, with the FLOP/s it reaches. Random VGG weights (speed does
not depend on them). With --peer, pytorch/examples' fast_neural_style training step (TransformerNet
through its VGG-16 loss, random weights) timed in the same process at the same size and batch, in
fp32 (as its own script trains) and in each precision measured; `x peer fp32` is our img/s over its.

    .venv/bin/python bench/train_speed.py [--device all|cpu|cuda] [--sizes 128,256] [--batches 1,4]
        [--precisions auto|fp32,bf16] [--peer ../shared/peers/fast_neural_style] [--peak_tflops F]

auto: what the trainer chooses on the device (worker.train.precision). The allocator setting is the
trainer's (worker.malloc), for the whole process: the peer runs with it too.
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
from worker import malloc
from worker.config import DEFAULTS, by_layer
from worker.train import MEMORY_FORMAT, precision, training_step

AMP = {'fp32': None, 'bf16': torch.bfloat16, 'fp16': torch.float16}
VGG16 = torchvision.models.vgg16


def ours(device, size, batch, amp):
    """A training step of this project, as worker.train runs it on this device."""
    g = Generator().to(device, memory_format=MEMORY_FORMAT)
    loss = TextureLoss(load_vgg19('random'), torch.rand(1, 3, 256, 256), by_layer(DEFAULTS['style_weights']),
                       DEFAULTS['content_weight']).to(device, memory_format=MEMORY_FORMAT)
    opt = torch.optim.Adam(g.parameters(), 1e-3)
    scaler = torch.amp.GradScaler('cuda', enabled=amp == torch.float16)
    photos = torch.rand(batch, 3, size, size, device=device).contiguous(memory_format=MEMORY_FORMAT)
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
    p.add_argument('--precisions', default='auto', help="auto: the trainer's choice on the device")
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--peer', help="pytorch/examples' fast_neural_style folder")
    p.add_argument('--peak_tflops', type=float, help='the device\'s peak, for the fraction reached')
    a = p.parse_args()
    malloc.reuse_freed_memory()
    rows = []
    for device in devices(a.device):
        if device == 'cuda':
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        auto = precision(torch.device(device))
        names = [n if n != 'auto' else next(k for k, v in AMP.items() if v == auto) for n in a.precisions.split(',')]
        steps = a.steps if device == 'cpu' else a.steps * 10
        for size in map(int, a.sizes.split(',')):
            for batch in map(int, a.batches.split(',')):
                runs = [('peer', name) for name in dict.fromkeys(['fp32'] + names)] if a.peer else []
                runs += [('ours', name) for name in names]
                speeds = {}
                for who, name in runs:
                    make = ours if who == 'ours' else lambda *args: peer(a.peer, *args)
                    dt, flops, mb = measure(make(device, size, batch, AMP[name]), device, steps)
                    speeds[who, name] = batch / dt
                    tflops = flops / dt / 1e12
                    rows.append((who, device, name, size, batch, f'{dt * 1000:.0f}', f'{batch / dt:.1f}',
                                 f'{batch / dt / speeds["peer", "fp32"]:.2f}' if ('peer', 'fp32') in speeds else '-',
                                 f'{tflops:.2f}', f'{tflops / a.peak_tflops:.1%}' if a.peak_tflops else '-', f'{mb:.0f}'))
    print(f'torch {torch.__version__}, {torch.get_num_threads()} CPU threads'
          + (f', {torch.cuda.get_device_name()}' if torch.cuda.is_available() else ''))
    table(('net', 'device', 'precision', 'size', 'batch', 'ms/step', 'img/s', 'x peer fp32', 'TFLOP/s', 'of peak',
           'peak MB'), rows)


if __name__ == '__main__':
    main()
