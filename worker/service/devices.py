"""The device slots trainers run on, and the runs waiting for one: one run per GPU (a multi-GPU
run takes several), one at a time on the CPU. A trainer holds its run's slots (`run.slots`)
from its start to its end; a command-line trainer the service follows holds its own too."""
from __future__ import annotations

from .run_folder import Run


def visible_slots() -> list[str]:
    """The GPUs torch sees, by index, or ['cpu'] without one."""
    import torch
    return [str(i) for i in range(torch.cuda.device_count())] or ['cpu']


class Devices:
    def __init__(self, slots: list[str] | None = None):
        self.free = list(slots if slots is not None else visible_slots())
        self.cpu_only = self.free == ['cpu']
        self.queue: list[str] = []  # run ids waiting for a slot, oldest first

    def count(self, runs) -> int:
        """Every slot of the machine: the free ones and those held by running trainers."""
        return len(self.free) + sum(len(r.slots) for r in runs if r.running)

    def hold(self, run: Run, slots: list[str]):
        """Give `run` those of `slots` that are free (a command-line trainer may share one)."""
        run.slots = [s for s in slots if s in self.free]
        self.free = [s for s in self.free if s not in run.slots]

    def release(self, run: Run):
        self.free += run.slots
        run.slots = []

    def next_to_start(self, runs: dict[str, Run]) -> Run | None:
        """The oldest queued run, taken off the queue and given its slots, if there are enough."""
        if not self.queue:
            return None
        run = runs[self.queue[0]]
        want = 1 if self.cpu_only else run.request.get('gpus', 1)
        if len(self.free) < want:
            return None
        self.queue.pop(0)
        self.hold(run, self.free[:want])
        return run
