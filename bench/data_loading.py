"""Data loading throughput: photos/s the trainer's DataLoader delivers at a crop size, by
number of workers. Compare with train_speed's img/s: loading must outpace the step.

    .venv/bin/python bench/data_loading.py [--data_dir sample] [--size 256] [--workers 0,1,2]
"""
import argparse
import time

import torch
from torch.utils.data import DataLoader

from common import table
from worker.data import ContentDataset, IterationSampler, resolve_data_dir, scan_folder


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data_dir', default='sample')
    p.add_argument('--size', type=int, default=256)
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--workers', default='0,1,2')
    p.add_argument('--batches', type=int, default=40)
    a = p.parse_args()
    paths = scan_folder(resolve_data_dir(a.data_dir)).usable
    rows = []
    for w in map(int, a.workers.split(',')):
        loader = DataLoader(ContentDataset(paths, a.size), batch_size=a.batch, num_workers=w,
                            sampler=IterationSampler(len(paths), a.batch, 0, 0, a.batches),
                            generator=torch.Generator(), prefetch_factor=4 if w else None)
        it = iter(loader)
        next(it)  # worker start-up is not throughput
        t = time.perf_counter()
        n = sum(x.shape[0] for x in it)
        rows.append((w, a.size, f'{n / (time.perf_counter() - t):.0f}'))
    print(f'{len(paths)} photos from {a.data_dir}')
    table(('workers', 'size', 'photos/s'), rows)


if __name__ == '__main__':
    main()
