"""Training speed and memory: images/s and peak memory of `worker.train.training_step`,
by device, image size and batch size. Random VGG weights (speed does not depend on them).

    .venv/bin/python bench/train_speed.py [--device all|cpu|cuda] [--sizes 128,256] [--batches 1,4]
"""
import argparse
import time

import torch

from common import devices, peak_mb, reset_peak, sync, table
from models.generator import Generator
from models.losses import TextureLoss
from models.vgg import load_vgg19
from worker.train import training_step


def measure(device, size, batch, steps):
    cuda = device == 'cuda'
    fmt = torch.channels_last if cuda else torch.contiguous_format
    amp = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if cuda else None
    if cuda:
        torch.backends.cudnn.benchmark = True
    g = Generator().to(device, memory_format=fmt)
    loss = TextureLoss(load_vgg19('random'), torch.rand(1, 3, 256, 256)).to(device, memory_format=fmt)
    opt = torch.optim.Adam(g.parameters(), 1e-3)
    scaler = torch.amp.GradScaler('cuda', enabled=amp == torch.float16)
    photos = torch.rand(batch, 3, size, size, device=device).contiguous(memory_format=fmt)
    for _ in range(3):  # warm-up: cudnn autotuning, allocator
        training_step(g, loss, opt, scaler, photos, amp)
    sync(device)
    reset_peak(device)
    t = time.perf_counter()
    for _ in range(steps):
        training_step(g, loss, opt, scaler, photos, amp)
    sync(device)
    dt = (time.perf_counter() - t) / steps
    return dt, peak_mb(device), str(amp).replace('torch.', '') if amp else 'fp32'


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--device', default='all')
    p.add_argument('--sizes', default='128,256')
    p.add_argument('--batches', default='1,4')
    p.add_argument('--steps', type=int, default=5)
    a = p.parse_args()
    rows = []
    for device in devices(a.device):
        steps = a.steps if device == 'cpu' else a.steps * 10
        for size in map(int, a.sizes.split(',')):
            for batch in map(int, a.batches.split(',')):
                dt, mb, precision = measure(device, size, batch, steps)
                rows.append((device, precision, size, batch, f'{dt * 1000:.0f}', f'{batch / dt:.1f}', f'{mb:.0f}'))
    print(f'torch {torch.__version__}, {torch.get_num_threads()} CPU threads'
          + (f', {torch.cuda.get_device_name()}' if torch.cuda.is_available() else ''))
    table(('device', 'precision', 'size', 'batch', 'ms/step', 'img/s', 'peak MB'), rows)


if __name__ == '__main__':
    main()
