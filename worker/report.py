"""What a training run tells the world: its events (the record the service follows), the
progress bar or --verbose lines, and visdom with --viz. The losses of a GPU step are read
one step late, so the GPU never waits for the CPU to print them.
"""
from __future__ import annotations

import logging
import math
import sys
import time

import torch

from .errors import UsageError

log = logging.getLogger('tn.train')
# A weighted style term this small beside the content term at the start means the content term
# dominates the gradient: the net learns to copy the photo. Said once, as a warning event.
STYLE_TOO_WEAK = 0.01


class Visdom:
    """--viz: curves and previews mirrored to a visdom server (optional dependency)."""

    def __init__(self, env: str):
        try:
            import visdom
        except ImportError:
            raise UsageError('--viz needs visdom: `.venv/bin/pip install visdom`, then start the '
                             'server with `.venv/bin/python -m visdom.server`') from None
        self.vis = visdom.Visdom(env=env, raise_exceptions=False)
        if not self.vis.check_connection(timeout_seconds=3):
            raise UsageError('--viz: no visdom server answers at localhost:8097. Start one with '
                             '`.venv/bin/python -m visdom.server` (or leave out --viz).')

    def losses(self, it, style, content):
        self.vis.line(X=[[it, it]], Y=[[style, content]], win='loss', update='append',
                      opts=dict(title='losses', legend=['style', 'content'], ytype='log'))

    def preview(self, image: torch.Tensor):
        self.vis.image(image.clamp(0, 1), win='preview', opts=dict(title='preview'))


def download_progress(events, every_s: float = 1.0):
    """A progress(done, total) for load_vgg19 that says how far a download is, as `download`
    events (at most one a second, and the last), so the dashboard shows it."""
    last = [0.0]

    def progress(done, total):
        now = time.monotonic()
        if done >= total or now - last[0] >= every_s:
            last[0] = now
            events.emit('download', what='VGG-19 ImageNet weights (the first run only)', done=done, total=total)
    return progress


class Reporter:
    """Events, progress and rates of one run. On ranks other than 0 it only keeps time."""

    def __init__(self, events, config: dict, start: int, total: int, world: int, run_name: str):
        self.events, self.config, self.start, self.total, self.world = events, config, start, total, world
        self.on = events is not None
        self.viz = Visdom(env=run_name) if self.on and config['viz'] else None
        self.bar = None
        if self.on and not config['verbose']:
            from tqdm import tqdm
            self.bar = tqdm(total=total, initial=start, unit='it', dynamic_ncols=True, file=sys.stderr,
                            disable=None)  # no bar when stderr is a log file, not a terminal
        self.rate = None  # smoothed iterations per second
        self.t_last = time.perf_counter()
        self.pending = None  # a GPU step's losses, on their way to the CPU

    def begin(self, derived: dict, resumed: bool, warnings: list[str], run_dir):
        if not self.on:
            return
        for message in warnings:
            self.emit('warning', message=message)
        ratio = derived['calibration']['start_balance']
        if not resumed and ratio is not None and ratio < STYLE_TOO_WEAK:
            self.warn_unbalanced(derived['calibration'])
        self.emit('start', iteration=self.start + 1, iterations=self.total, device=derived['device_name'],
                  resumed=resumed, run_dir=str(run_dir), mode=self.config['mode'], **derived['calibration'])

    def warn_unbalanced(self, calibration):
        message = (f'the style term starts at {calibration["start_balance"]:.2g} times the content term (style scale '
                   f'{calibration["style_scale"]:.3g}): the network will learn little of the texture. Use '
                   f'--style_scale auto, or raise the balance or the style weights, and compare the previews.')
        log.warning(message)
        self.emit('warning', message=message)

    def emit(self, type: str, **fields):
        if self.on:
            self.events.emit(type, **fields)

    def step(self, it: int, style: torch.Tensor, second: torch.Tensor, watched: torch.Tensor | None, lr: float):
        """`second`: the content term (stylize) or the diversity term (synthesis); `watched`: the
        synthesis run's mean nearest-sample distance."""
        now = time.perf_counter()
        if it > self.start + 1:  # the first step also paid for DataLoader start-up: not a rate
            dt = now - self.t_last
            self.rate = 1 / dt if self.rate is None else 0.9 * self.rate + 0.1 / dt
        self.t_last = now
        if not self.on:
            return
        losses = torch.stack([style, second] + ([] if watched is None else [watched])).float()
        if losses.is_cuda:
            done = torch.cuda.Event()
            losses = losses.to('cpu', non_blocking=True)
            done.record()
            self.flush()
            self.pending = (it, losses, lr, self.rate, done)
        else:
            self._iteration(it, losses, lr, self.rate)
        if self.bar is not None:
            self.bar.update(1)

    def flush(self):
        """Report the step whose losses are still on their way from the GPU."""
        if self.pending:
            *args, done = self.pending
            done.synchronize()
            self.pending = None
            self._iteration(*args)

    def _iteration(self, it, losses, lr, rate):
        style, second, *watched = losses.tolist()
        if not math.isfinite(style + second):
            raise FloatingPointError(f'the loss became {style + second} at iteration {it}: '
                                     f'resume from the last checkpoint with a lower --lr')
        eta = (self.total - it) / rate if rate else None
        images_per_s = round(rate * self.config['batch_size'] * self.world, 2) if rate else None
        terms = dict(style=style, content=second) if self.config['mode'] != 'synthesis' else \
            dict(style=style, diversity=second, distance=watched[0] if watched else None)
        self.emit('iteration', iteration=it, **terms, total=style + second, lr=lr,
                  images_per_s=images_per_s, eta_s=round(eta, 1) if eta is not None else None)
        shown = {k: v for k, v in terms.items() if v is not None}
        if self.config['verbose']:
            print(f'iter {it}/{self.total}  ' + '  '.join(f'{k} {v:.4g}' for k, v in shown.items()) +
                  f'  total {style + second:.4g}', flush=True)
        elif self.bar is not None:
            self.bar.set_postfix({k: f'{v:.3g}' for k, v in shown.items()}, refresh=False)
        if self.viz:
            self.viz.losses(it, style, second)

    def preview(self, it: int, path: str, strip: torch.Tensor, **files):
        """`files`: other pictures of the same preview (synthesis: `tiled`, a sample tiled 2x2)."""
        self.emit('preview', iteration=it, path=path, **files)
        if self.viz:
            self.viz.preview(strip)

    def end(self, it: int):
        if self.bar is not None:
            self.bar.close()
        if self.on:
            self.flush()
            self.emit('done', iteration=it, stopped=it < self.total, model='model.pth')
            self.events.close()
