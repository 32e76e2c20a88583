"""Stylize speed: milliseconds per image at 256, 512, 1024 px (the generator alone, inference), by
execution variant; with --peer, pytorch/examples' TransformerNet timed in the same process, on the
same threads, with the same allocator setting, and each variant's time as a ratio to the peer's
plain fp32 time.

    .venv/bin/python bench/stylize_speed.py [--device all|cpu|cuda] [--sizes 256,512,1024]
        [--variants fast,reference,channels_last,bf16,compile] [--allocators reuse,default]
        [--peer ../shared/peers/fast_neural_style] [--model M]

Variants: fast (models.fast: what the app runs), reference (Generator.forward, module by module),
channels_last (the reference on NHWC tensors and weights), bf16 (the reference under autocast; its
PSNR against fp32 on a photo is printed: speed is worth nothing if the picture changes), compile
(torch.compile of the reference; its compile time is printed, and it compiles again for every new
image size). Allocators: reuse (worker.malloc: freed memory kept for the next tensor, as the app's
stylize runs) and default (glibc's own thresholds); the peer is timed under each.
"""
import argparse
import importlib.util
import math
import time
from contextlib import nullcontext
from pathlib import Path

import torch

from common import devices, peak_mb, reset_peak, sync, table
from models.fast import forward_fast
from models.generator import Generator
from worker import malloc


def load_peer(folder):
    spec = importlib.util.spec_from_file_location('transformer_net', Path(folder) / 'transformer_net.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TransformerNet().eval()


def prepare(model, variant, device):
    """(a callable taking an fp32 NCHW image, seconds spent preparing it)."""
    model = model.to(device)
    t = time.perf_counter()
    if variant == 'fast':
        return (lambda x: forward_fast(model, x)), 0.0
    if variant == 'channels_last':
        model = model.to(memory_format=torch.channels_last)
        return (lambda x: model(x.contiguous(memory_format=torch.channels_last))), 0.0
    if variant == 'bf16':
        def run(x):
            with torch.autocast(device, dtype=torch.bfloat16):
                return model(x).float()
        return run, 0.0
    if variant == 'compile':
        compiled = torch.compile(model, dynamic=False)  # a graph per size: torch.rand with symbolic sizes fails
        return compiled, time.perf_counter() - t
    if variant == 'reference':
        return model, 0.0
    raise SystemExit(f'unknown variant {variant!r}')


def timed(run, x, device, reps):
    with torch.inference_mode():
        t = time.perf_counter()
        run(x)  # warm-up (and, compiled, the compilation for this size)
        first = time.perf_counter() - t
        sync(device)
        reset_peak(device)
        t = time.perf_counter()
        for _ in range(reps):
            run(x)
        sync(device)
    return (time.perf_counter() - t) / reps, first


def psnr(a, b) -> float:
    mse = ((a.clamp(0, 1) - b.clamp(0, 1)) ** 2).mean().item()
    return float('inf') if mse == 0 else 10 * math.log10(1 / mse)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--device', default='all')
    p.add_argument('--sizes', default='256,512,1024')
    p.add_argument('--variants', default='fast,reference,channels_last,bf16')
    p.add_argument('--allocators', default='reuse,default')
    p.add_argument('--peer', help="pytorch/examples' fast_neural_style folder (transformer_net.py)")
    p.add_argument('--model', help='a model.pth or .t7 for the bf16 PSNR (default: a random generator)')
    a = p.parse_args()
    rows = []
    for device in devices(a.device):
        g = Generator().eval()
        if a.model:
            from worker.checkpoint import load_generator
            g = load_generator(a.model)
        peer = load_peer(a.peer).to(device) if a.peer else None
        for allocator in a.allocators.split(','):
            with malloc.reusing_freed_memory() if allocator == 'reuse' else nullcontext():
                for size in map(int, a.sizes.split(',')):
                    rows += measure(g.to(device), peer, device, size, a.variants.split(','), allocator)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} CPU threads'
          + (f', {torch.cuda.get_device_name()}' if torch.cuda.is_available() else ''))
    table(('device', 'allocator', 'size', 'variant', 'ms/image', 'x peer', 'PSNR dB', 'compile s', 'peak MB'), rows)


def measure(g, peer, device, size, variants, allocator):
    reps = 3 if device == 'cpu' else 20
    x = torch.rand(1, 3, size, size, device=device)
    base = timed(peer, x * 255, device, reps)[0] if peer else None
    with torch.inference_mode():
        reference = g(x, generator=torch.Generator(device).manual_seed(0))
    rows = []
    for variant in variants:
        run, prep = prepare(g, variant, device)
        dt, first = timed(run, x, device, reps)
        quality = None
        if variant == 'bf16':  # the same noise as the fp32 reference
            with torch.inference_mode(), torch.autocast(device, dtype=torch.bfloat16):
                quality = psnr(g(x, generator=torch.Generator(device).manual_seed(0)).float(), reference)
        rows.append((device, allocator, size, variant, f'{dt * 1000:.0f}', f'{dt / base:.2f}' if base else '-',
                     f'{quality:.1f}' if quality else '-', f'{prep + first:.1f}' if variant == 'compile' else '-',
                     f'{peak_mb(device):.0f}'))
        g.to(memory_format=torch.contiguous_format)
    if peer:
        rows.append((device, allocator, size, 'peer fp32', f'{base * 1000:.0f}', '1.00', '-', '-', f'{peak_mb(device):.0f}'))
    return rows


if __name__ == '__main__':
    main()
