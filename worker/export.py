"""Export a generator to run without this project:

    python -m worker.export --model M --format onnx|pt2|torchscript --out PATH

M: a model.pth, a checkpoint, a run folder (its model.pth) or one of the authors' .t7 networks.
The exported model is models.portable.Portable: inputs image (B,3,H,W) in [0, 1], noise
(B,3,H,W) uniform in [0, 1) drawn by the caller, noise_factor (a scalar); output (B,3,H,W) in
[0, 1]. Height and width are free (at least 16 px for the usual 5 scales, 17 px for pt2: see
_pt2_bytes); the README shows how to call it from onnxruntime in Python and onnxruntime-web in a
browser. pt2 is a torch.export program (torch.export.load in Python, AOTInductor for C++); the
TorchScript export stays for libtorch users although torch.jit is deprecated upstream.

Each export is checked as it is made: the exported bytes, loaded by their own runtime
(onnxruntime, torch.export.load, torch.jit.load), run photos of odd sizes at noise factors 0 and 1 against PyTorch
with the same noise. The largest difference must be within TOLERANCE, or the export fails and
no file is written.
"""
from __future__ import annotations

import argparse
import io
import logging
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.export import Dim

from models.portable import Portable, PortableSynthesis, branch_noise
from models.synthesis import SynthesisGenerator

from .atomic import atomic_write
from .checkpoint import load_generator, resolve_model
from .errors import UsageError
from .protocol import PROTOCOL

log = logging.getLogger('tn.export')
FORMATS = PROTOCOL['export_formats']  # format -> file extension
TOLERANCE = 1e-3  # of the output's [0, 1] range: float32 op orders differ between runtimes (~1e-5)
CHECK_SIZES = ((1, 37, 53), (2, 64, 41))  # (batch, height, width): odd sizes, padded inside
ONNX_OPSET = 17


class ExportMismatch(Exception):
    """The exported model does not compute what the PyTorch one does."""


def noise_names(g) -> list[str]:
    """The ONNX input names of a synthesis model's noises, coarsest first: noise_32 .. noise_1."""
    return [f'noise_{r}' for r in g.ratios]


def _onnx_bytes(portable) -> bytes:
    if isinstance(portable, PortableSynthesis):
        args = ([torch.rand(1, 3, -(-37 // r), -(-53 // r)) for r in portable.ratios],)
        names = noise_names(portable)
    else:
        args, names = (torch.rand(1, 3, 37, 53), torch.rand(1, 3, 37, 53), torch.tensor(1.0)), ['image', 'noise', 'noise_factor']
    axes = {'batch': 0, 'height': 2, 'width': 3}
    dynamic = {name: {i: f'{a}_{name}' if name.startswith('noise_') else a for a, i in axes.items()}
               for name in names + ['output'] if name != 'noise_factor'}
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the TorchScript-based exporter's notices about its future
        warnings.simplefilter('ignore')
        torch.onnx.export(portable, args, buffer, dynamo=False, input_names=names, output_names=['output'],
                          dynamic_axes=dynamic, opset_version=ONNX_OPSET)
    return buffer.getvalue()


def _torchscript_bytes(portable: Portable) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # TorchScript is deprecated in favour of torch.export, and still the
        warnings.simplefilter('ignore', FutureWarning)  # format C++ (libtorch) and mobile runtimes load
        torch.jit.save(torch.jit.script(portable), buffer)
    return buffer.getvalue()


class _Cropped(nn.Module):
    """Portable for torch.export: the photo padded to the generator's multiple before it and cropped
    after it by a copy (index_select), not a view. Portable's own crop is a view, and torch.export
    decides whether that view is contiguous, which holds only when there was padding: a program
    traced from it refuses every side that is a multiple of 16 (256x256 included). Padded here,
    Portable's pad and crop do nothing for any size. The pad is Portable's (reflection, bottom and
    right, to the next multiple)."""

    def __init__(self, portable: Portable):
        super().__init__()
        self.portable = portable

    def forward(self, image: torch.Tensor, noise: torch.Tensor, noise_factor: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[-2], image.shape[-1]
        m = self.portable.multiple
        pad = [0, (w + m - 1) // m * m - w, 0, (h + m - 1) // m * m - h]
        out = self.portable(F.pad(image, pad, mode='reflect'), F.pad(noise, pad, mode='reflect'), noise_factor)
        return out.index_select(2, torch.arange(h)).index_select(3, torch.arange(w))


def _pt2_bytes(portable) -> bytes:
    """A torch.export program, saved (torch.export.save): only aten ops and the weights, so
    torch.export.load needs nothing from this project. Batch, height and width are dynamic; each
    synthesis noise has its own height and width (ceil(H/r) is not a shape torch.export can relate).

    The example batch is 2: a batch of 1 would be traced as the constant 1. Sides of at least
    multiple + 1 (17 px for 5 scales): at exactly the multiple the coarsest scale is 1x1 and the
    trace's contiguity checks specialise on it, so torch.export cannot keep that size with the others
    (measured: 16 is refused, 17 to 1000+ and multiples of 16 run). The pad's bound (pad < side,
    true for every allowed side, but not provable by torch.export's solver) is kept as a check
    inside the program (prefer_deferred_runtime_asserts_over_guards), not an export error."""
    batch = Dim('batch', min=1)
    if isinstance(portable, PortableSynthesis):
        args = ([torch.rand(2, 3, -(-37 // r), -(-53 // r)) for r in portable.ratios],)
        shapes = ([{0: batch, 2: Dim(f'height_{name}', min=1), 3: Dim(f'width_{name}', min=1)}
                   for name in noise_names(portable)],)
        module = portable
    else:
        height, width = (Dim(name, min=portable.multiple + 1) for name in ('height', 'width'))
        args = (torch.rand(2, 3, 37, 53), torch.rand(2, 3, 37, 53), torch.tensor(1.0))
        shapes = ({0: batch, 2: height, 3: width}, {0: batch, 2: height, 3: width}, None)
        module = _Cropped(portable)
    program = torch.export.export(module, args, dynamic_shapes=shapes, prefer_deferred_runtime_asserts_over_guards=True)
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    return buffer.getvalue()


def _runner(fmt: str, data: bytes, names: list[str]):
    """The exported model, loaded by its own runtime, as (*inputs) -> numpy output."""
    if fmt == 'onnx':
        import onnxruntime
        session = onnxruntime.InferenceSession(data, providers=['CPUExecutionProvider'])
        return lambda *inputs: session.run(None, {
            name: np.asarray(x, dtype=np.float32) for name, x in zip(names, inputs)})[0]
    if fmt == 'pt2':
        module = torch.export.load(io.BytesIO(data)).module()
    else:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', FutureWarning)
            module = torch.jit.load(io.BytesIO(data), map_location='cpu')

    def run(*inputs):
        with torch.no_grad():
            if names[0] != 'image':
                return module(list(inputs)).numpy()
            image, noise, k = inputs
            return module(image, noise, torch.tensor(k)).numpy()
    return run


def _run_checked(run, h: int, w: int, *inputs):
    """run(*inputs); an exported model that refuses a check size (a pt2 program's shape checks) is a
    mismatch, reported as one, not a traceback."""
    try:
        return run(*inputs)
    except Exception as e:  # each runtime raises its own kind
        raise ExportMismatch(f'the exported model failed on a {h}x{w} input ({str(e)[:300]}): not written. '
                             'Please report this with the model.') from e


def worst_difference(generator, fmt: str, data: bytes) -> float:
    """The largest difference between the exported model and PyTorch on the check images."""
    if isinstance(generator, SynthesisGenerator):
        return _worst_synthesis(generator, _runner(fmt, data, noise_names(generator)))
    run = _runner(fmt, data, ['image', 'noise', 'noise_factor'])
    rng = torch.Generator().manual_seed(0)
    worst = 0.0
    for b, h, w in CHECK_SIZES:
        image, noise = torch.rand(b, 3, h, w, generator=rng), torch.rand(b, 3, h, w, generator=rng)
        for k in (0.0, 1.0):
            with torch.no_grad():
                expected = generator(image, noise=k, noises=branch_noise(generator, noise)).numpy()
            got = _run_checked(run, h, w, image, noise, k)
            if got.shape != expected.shape:
                raise ExportMismatch(f'the exported model gave shape {got.shape} for {expected.shape}')
            worst = max(worst, float(np.abs(got - expected).max()))
    return worst


def _worst_synthesis(generator, run) -> float:
    """The same for a synthesis model, on samples of the check sizes (odd ones included)."""
    rng = torch.Generator().manual_seed(0)
    worst = 0.0
    for b, h, w in CHECK_SIZES:
        noises = generator.draw_noise(b, h, w, rng, device='cpu')
        with torch.no_grad():
            expected = generator(noises).numpy()
        got = _run_checked(run, h, w, *noises)
        if got.shape != expected.shape:
            raise ExportMismatch(f'the exported model gave shape {got.shape} for {expected.shape}')
        worst = max(worst, float(np.abs(got - expected).max()))
    return worst


def export(generator, fmt: str) -> tuple[bytes, float]:
    """(the exported model's bytes, the largest difference from PyTorch); ExportMismatch when it
    is over TOLERANCE."""
    if fmt not in FORMATS:
        raise UsageError(f'format must be one of {", ".join(FORMATS)}, not {fmt!r}')
    generator = generator.cpu().eval()
    portable = PortableSynthesis(generator) if isinstance(generator, SynthesisGenerator) else Portable(generator)
    data = {'onnx': _onnx_bytes, 'pt2': _pt2_bytes, 'torchscript': _torchscript_bytes}[fmt](portable.eval())
    worst = worst_difference(generator, fmt, data)
    if not worst <= TOLERANCE:
        raise ExportMismatch(f'the {fmt} export differs from PyTorch by {worst:.2g} (more than {TOLERANCE:g}): '
                             'not written. Please report this with the model.')
    return data, worst


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format='%(levelname)s %(message)s')
    p = argparse.ArgumentParser(prog='python -m worker.export', description=__doc__.split('\n\n')[0])
    p.add_argument('--model', required=True, help="model.pth, a checkpoint, a run folder or an authors' .t7")
    p.add_argument('--format', required=True, choices=sorted(FORMATS))
    p.add_argument('--out', required=True, help='the file to write (' + ', '.join(FORMATS.values()) + ')')
    args = p.parse_args(argv)
    try:
        generator = load_generator(resolve_model(args.model))
        data, worst = export(generator, args.format)
        atomic_write(args.out, lambda f: f.write(data))
    except (UsageError, ExportMismatch, ValueError, OSError) as e:
        log.error('%s', e)
        return 2 if isinstance(e, (UsageError, FileNotFoundError)) else 1
    log.info('%s: %s, %d kB; matches PyTorch to %.1e (checked at %s, %s)', args.out, args.format, len(data) // 1024,
             worst, ', '.join(f'{h}x{w}' for _, h, w in CHECK_SIZES),
             'on random noise' if isinstance(generator, SynthesisGenerator) else 'noise factors 0 and 1')
    return 0


if __name__ == '__main__':
    sys.exit(main())
