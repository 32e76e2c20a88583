"""The trainer CLI end to end: real processes, a real run folder, random VGG, tiny images."""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import REPO, TINY, events, file_size_limit, train_cli
from worker.checkpoint import list_checkpoints, load_generator, load_record
from worker.events import EVENT_FIELDS


def test_loss_falls_and_the_run_folder_is_complete(photos, texture, tmp_path):
    run = tmp_path / 'run'
    r = train_cli('--data_dir', photos, '--texture', texture, '--out', run, '--iterations', 30, *TINY,
                  '--image_size', 64, '--checkpoint_every', 10, '--preview_every', 10)
    its = events(run, 'iteration')
    assert [e['iteration'] for e in its] == list(range(1, 31))
    first, last = sum(e['total'] for e in its[:5]) / 5, sum(e['total'] for e in its[-5:]) / 5
    assert last < 0.7 * first, (first, last)
    for e in events(run):  # every event carries its schema's fields
        assert set(EVENT_FIELDS[e['type']]) <= set(e), e
    assert events(run)[-1]['type'] == 'done' and events(run)[-1]['stopped'] is False
    assert [e['iteration'] for e in events(run, 'checkpoint')] == [10, 20, 30]
    assert [e['iteration'] for e in events(run, 'preview')] == [10, 20, 30]
    assert all((run / e['path']).is_file() for e in events(run, 'preview') + events(run, 'checkpoint'))
    config = json.loads((run / 'config.json').read_text())
    assert config['vgg_weights'] == 'random' and config['style_weights'] == [5, 6, 2, 2, 2]
    derived = config['derived']  # what the trainer found, apart from what was asked
    assert derived['dataset']['usable'] == 12 and derived['dataset']['held_out'] and 'dataset' not in config
    assert derived['versions']['torch'] == str(torch.__version__)
    rec = load_record(run / 'checkpoints' / 'iter_0000030.pth')
    assert {'optimizer', 'scheduler', 'rng', 'config', 'state_dict'} <= set(rec)
    model = load_record(run / 'model.pth')['state_dict']  # the model is the last checkpoint's network
    assert model.keys() == rec['state_dict'].keys() and all(torch.equal(model[k], rec['state_dict'][k]) for k in model)
    assert load_generator(run / 'model.pth')(torch.rand(1, 3, 50, 70)).shape == (1, 3, 50, 70)
    assert not list(run.rglob('.tmp-*'))  # no temporary files left behind
    # previews/photos.png: the preview photos side by side, as the network sees them
    from worker.data import load_crop
    want = torch.cat([load_crop(p, 64) for p in derived['dataset']['preview_photos']], 2)
    got = torch.from_numpy(np.asarray(Image.open(run / 'previews' / 'photos.png'), dtype=np.float32)).permute(2, 0, 1)
    assert got.shape == want.shape and (got - want * 255).abs().max() <= 1
    assert 'it/s' not in r.stderr and '30/30' not in r.stderr  # no progress bar in a log file


def test_a_terminal_gets_a_progress_bar(photos, texture, tmp_path):
    import fcntl
    import os
    import pty
    import struct
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 120, 0, 0))  # a terminal's size
    proc = subprocess.Popen([sys.executable, '-m', 'worker.train', *map(str, [
        '--data_dir', photos, '--texture', texture, '--out', tmp_path / 'run', '--iterations', 3, *TINY])],
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    shown = b''
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the trainer closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    assert proc.wait(timeout=60) == 0
    os.close(master)
    text = shown.decode(errors='replace')
    assert '3/3' in text and ('it/s' in text or 's/it' in text) and 'style=' in text, text[-2000:]


def test_the_other_generator_options_and_verbose_lines(photos, texture, tmp_path):
    """--norm batch (the paper's), --scales 3 and --verbose (a line per iteration, no bar); at most
    32 --eval_dir photos are held out."""
    evals = tmp_path / 'evals'
    evals.mkdir()
    for i in range(34):
        Image.new('RGB', (40, 36), (7 * i, 255 - 7 * i, 90)).save(evals / f'e{i:02d}.png')
    run = tmp_path / 'run'
    r = train_cli('--data_dir', photos, '--texture', texture, '--out', run, '--iterations', 2, *TINY,
                  '--norm', 'batch', '--scales', 3, '--verbose', '--eval_dir', evals)
    assert [line.split()[:2] for line in r.stdout.splitlines() if line.startswith('iter ')] == [['iter', '1/2'], ['iter', '2/2']]
    assert 'style' in r.stdout and 'content' in r.stdout and 'it/s' not in r.stderr
    record = load_record(run / 'model.pth')
    assert record['generator']['norm'] == 'batch' and record['generator']['scales'] == 3
    g = load_generator(run / 'model.pth')
    assert len(g.branches) == 3
    two = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():  # batch norm while training: an image's output depends on the batch
        alone, together = g.train()(two[:1], noise=0), g(two, noise=0)[:1]
        assert (alone - together).abs().max() > 1e-3
        alone, together = g.eval()(two[:1], noise=0), g(two, noise=0)[:1]  # not at inference
        assert (alone - together).abs().max() < 1e-5
    assert json.loads((run / 'config.json').read_text())['derived']['dataset']['eval_photos'] == 32


def test_resume_reproduces_the_uninterrupted_run(photos, texture, tmp_path):
    """Across learning-rate steps (every 4 iterations, halved): the scheduler's state is restored
    with the rest, so every iteration's lr and losses match the run that was never stopped."""
    common = ['--data_dir', photos, '--texture', texture, *TINY, '--seed', 3, '--checkpoint_every', 6,
              '--preview_every', 100, '--lr_step', 4, '--lr_decay', 0.5]
    whole, part = tmp_path / 'whole', tmp_path / 'part'
    train_cli(*common, '--out', whole, '--iterations', 14)
    train_cli(*common, '--out', part, '--iterations', 8)  # checkpoints at 6 and 8 (the end)
    # Resume from iteration 6, as if the run had been killed after that checkpoint.
    train_cli('--resume', part / 'checkpoints' / 'iter_0000006.pth', '--iterations', 14)
    a = [(e['iteration'], e['style'], e['content'], e['lr']) for e in events(whole, 'iteration')]
    b = [(e['iteration'], e['style'], e['content'], e['lr']) for e in events(part, 'iteration')]
    assert [i for i, *_ in b] == list(range(1, 15))  # events after 6 dropped: one curve
    assert [lr for *_, lr in b] == [0.01] * 4 + [0.005] * 4 + [0.0025] * 4 + [0.00125] * 2
    for (i, s1, c1, lr1), (j, s2, c2, lr2) in zip(a, b):
        assert i == j and lr1 == lr2 and s1 == pytest.approx(s2, rel=1e-5) and c1 == pytest.approx(c2, rel=1e-5), i
    assert [e['resumed'] for e in events(part, 'start')] == [False, True]
    assert sum(e['type'] == 'done' for e in events(part)) == 1
    # --resume RUN_DIR: the folder's latest checkpoint (14), with more iterations allowed.
    train_cli('--resume', part, '--iterations', 16)
    assert [e['iteration'] for e in events(part, 'start')] == [1, 7, 15]
    assert [e['iteration'] for e in events(part, 'iteration')] == list(range(1, 17))
    assert events(part, 'iteration')[-1]['lr'] == 0.00125


def test_continuing_into_a_new_folder_keeps_the_source_and_starts_with_its_curve(photos, texture, tmp_path):
    src, cont = tmp_path / 'src', tmp_path / 'cont'
    train_cli('--data_dir', photos, '--texture', texture, *TINY, '--out', src, '--iterations', 8,
              '--checkpoint_every', 4, '--preview_every', 2)
    before = (src / 'events.jsonl').read_bytes()
    train_cli('--resume', src / 'checkpoints' / 'iter_0000004.pth', '--out', cont, '--iterations', 10)
    assert (src / 'events.jsonl').read_bytes() == before  # the source run is untouched
    assert [e['iteration'] for e in events(cont, 'iteration')] == list(range(1, 11))
    assert [e['iteration'] for e in events(cont, 'preview')] == [2, 4, 6, 8, 10]
    assert all((cont / e['path']).is_file() for e in events(cont, 'preview'))
    assert [e['iteration'] for e in events(cont, 'checkpoint')] == [8, 10]  # its own only
    assert [e['resumed'] for e in events(cont, 'start')] == [False, True]
    config = json.loads((cont / 'config.json').read_text())
    assert config['out'] == str(cont) and config['resume'].endswith('iter_0000004.pth')


def start_training(photos, texture, run, *extra):
    """A long CPU run in the background, returned once it has done 3 iterations."""
    args = ['--data_dir', photos, '--texture', texture, '--out', run, '--iterations', 100000,
            '--checkpoint_every', 100000, '--device', 'cpu', *TINY, *extra]
    proc = subprocess.Popen([sys.executable, '-m', 'worker.train', *map(str, args)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while len(events(run, 'iteration')) < 3:
        assert proc.poll() is None, proc.stderr.read()
        assert time.time() < deadline, 'no 3 iterations in 120 s'
        time.sleep(0.1)
    return proc


def children(pid):
    return [int(p) for p in Path(f'/proc/{pid}/task/{pid}/children').read_text().split()]


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_finishes_the_iteration_and_leaves_a_loadable_model(photos, texture, tmp_path, sig, request):
    """With two DataLoader worker processes alive, as a real run has them."""
    run = tmp_path / 'run'
    proc = start_training(photos, texture, run, '--workers', 2)
    request.addfinalizer(proc.kill)  # a failed check leaves no trainer behind
    workers = children(proc.pid)
    assert len(workers) == 2
    proc.send_signal(sig)
    assert proc.wait(timeout=60) == 0, proc.stderr.read()
    done = events(run)[-1]
    assert done['type'] == 'done' and done['stopped'] is True
    (ckpt,) = list_checkpoints(run)
    assert load_record(ckpt)['iteration'] == done['iteration']
    load_generator(run / 'model.pth')
    load_generator(ckpt)
    deadline = time.time() + 10
    while [p for p in workers if Path(f'/proc/{p}').exists()]:
        assert time.time() < deadline, 'DataLoader workers outlived the trainer by 10 s'
        time.sleep(0.05)


def test_a_second_trainer_given_the_same_out_is_refused_and_the_first_goes_on(photos, texture, tmp_path, request):
    run = tmp_path / 'run'
    proc = start_training(photos, texture, run)
    request.addfinalizer(proc.kill)  # a failed check leaves no trainer behind
    before, config = (run / 'events.jsonl').read_bytes(), (run / 'config.json').read_bytes()
    r = train_cli('--data_dir', photos, '--texture', texture, '--out', run, '--iterations', 2, *TINY, check=False)
    # Refused by the first's claim on the folder (trainer.lock), which names it.
    assert r.returncode == 2 and f'another trainer (pid {proc.pid}) is writing to {run}' in r.stderr, r.stderr[-2000:]
    assert (run / 'events.jsonl').read_bytes().startswith(before)  # nothing rewritten
    assert not events(run, 'error')  # not a word in the first run's log
    assert (run / 'config.json').read_bytes() == config
    n = len(events(run, 'iteration'))
    deadline = time.time() + 60
    while len(events(run, 'iteration')) <= n:  # the first trainer goes on
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read()
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, proc.stderr.read()
    assert [e['type'] for e in events(run, 'start')] == ['start'] and events(run)[-1]['type'] == 'done'
    load_generator(run / 'model.pth')


def test_a_finished_run_given_as_out_again_is_refused_and_kept_whole(photos, texture, tmp_path):
    """--out names a folder that already holds a run (no trainer now): refused before anything is
    written there, saying how to continue it instead."""
    run = tmp_path / 'run'
    train_cli('--data_dir', photos, '--texture', texture, '--out', run, '--iterations', 2, *TINY)
    before = {p.relative_to(run): p.read_bytes() for p in run.rglob('*') if p.is_file() and p.name != 'trainer.lock'}
    r = train_cli('--data_dir', photos, '--texture', texture, '--out', run, '--iterations', 2, *TINY, check=False)
    assert r.returncode == 2, r.stderr[-2000:]
    assert f'{run} already holds a run. Continue it with --resume {run}, or give another --out.' in r.stderr
    after = {p.relative_to(run): p.read_bytes() for p in run.rglob('*') if p.is_file() and p.name != 'trainer.lock'}
    assert after == before  # not a byte changed, not a file added
    assert events(run)[-1]['type'] == 'done'


def test_a_second_stop_signal_aborts_at_once():
    """The first SIGINT or SIGTERM asks for a clean stop; a second one, for a user who cannot
    wait for the checkpoint, aborts. (In-process: two signals sent to a trainer at once can
    reach Python's handler as one.)"""
    import os
    from worker.train import StopRequest
    stop = StopRequest()
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # the handler runs between two bytecodes of this thread
        assert stop.requested
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def test_bad_inputs_give_clear_errors(photos, texture, tmp_path):
    bad_texture = tmp_path / 'texture.png'
    bad_texture.write_text('not an image')
    r = train_cli('--data_dir', photos, '--texture', bad_texture, *TINY, '--out', tmp_path / 'a', check=False)
    assert r.returncode == 2 and 'cannot be used' in r.stderr and 'not a readable image' in r.stderr
    r = train_cli('--data_dir', tmp_path / 'nowhere', '--texture', texture, *TINY, check=False)
    assert r.returncode == 2 and 'does not exist' in r.stderr
    r = train_cli('--texture', texture, check=False)
    assert r.returncode == 2 and '--data_dir' in r.stderr
    r = train_cli('--data_dir', photos, '--texture', texture, '--style_weights', '1,2', *TINY, check=False)
    assert r.returncode == 2 and 'needs 5 numbers' in r.stderr
    if not torch.cuda.is_available():
        r = train_cli('--data_dir', photos, '--texture', texture, '--cuda', *TINY, check=False)
        assert r.returncode == 2 and 'no CUDA GPU' in r.stderr
    try:
        import visdom  # noqa: F401
    except ImportError:
        r = train_cli('--data_dir', photos, '--texture', texture, '--viz', *TINY, '--out', tmp_path / 'v', check=False)
        assert r.returncode == 2 and 'pip install visdom' in r.stderr


def test_torchrun_trains_with_ddp_on_two_processes(photos, texture, tmp_path):
    """Two CPU ranks (gloo) under torchrun, batch 2 each: DDP averages their gradients, so rank 0
    ends with the network of one process trained on the union of their batches (batch 4; the
    sampler gives rank r the r-th half of each global batch). Noise factor 0, since each rank
    draws its own noise. Compared as functions (outputs on fixed images): a conv bias before a
    norm has no gradient but float noise, which Adam turns into steps of the learning rate.
    Measured after 4 steps: outputs at most 0.02 apart (mean 0.0015); with the DDP wrapper
    removed, 1.4 (mean 0.16). Rank 0 writes the one run folder. In fp32: on a CPU with bf16 'auto'
    would round a batch of 2 and one of 4 differently (0.54 apart), which is not what this tests."""
    args = ['--data_dir', photos, '--texture', texture, '--iterations', 4, '--checkpoint_every', 2,
            '--preview_every', 100, *TINY, '--noise', 0, '--precision', 'fp32']
    run, single = tmp_path / 'ddp', tmp_path / 'single'
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '-m', 'worker.train',
                        *map(str, [*args, '--out', run])],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads((run / 'config.json').read_text())['derived']['world_size'] == 2
    assert [e['iteration'] for e in events(run, 'iteration')] == list(range(1, 5))
    assert [e['iteration'] for e in events(run, 'checkpoint')] == [2, 4]
    train_cli(*args, '--batch_size', 4, '--out', single)
    images = torch.rand(3, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ddp, one, earlier = (load_generator(p)(images) for p in (
            run / 'model.pth', single / 'model.pth', run / 'checkpoints' / 'iter_0000002.pth'))
    assert (ddp - one).abs().max() < 0.1, (ddp - one).abs().max()
    assert (ddp - earlier).abs().max() > 0.5  # it trained


def test_a_full_disk_keeps_every_file_whole_and_says_how_to_continue(photos, texture, tmp_path):
    """RLIMIT_FSIZE makes any write past 400 kB fail, as a full disk does: the checkpoint (about
    800 kB with Adam's state) cannot be written; no partial file may be left, and the run says
    how to continue."""
    run = tmp_path / 'full'
    r = train_cli('--data_dir', photos, '--texture', texture, '--out', run, '--iterations', 3, *TINY,
                  check=False, preexec_fn=file_size_limit(400_000))
    assert r.returncode == 1, r.stderr[-2000:]
    assert 'no room to write' in r.stderr and f'--resume {run}' in r.stderr
    assert not list(run.rglob('*.pth')) and not list(run.rglob('.tmp-*'))
    assert events(run)[-1]['type'] == 'error' and 'free some disk space' in events(run)[-1]['message']


def test_a_style_term_too_weak_to_learn_is_warned_about(photos, texture, tmp_path):
    """Raw units (--style_scale 1: with this VGG the style term is a millionth of the content
    term) get the balance warning, on the dashboard and on stderr; the calibrated default does not."""
    args = ['--data_dir', photos, '--texture', texture, '--iterations', 1, *TINY]
    r = train_cli(*args, '--out', tmp_path / 'weak', '--style_scale', 1)
    warnings = [e['message'] for e in events(tmp_path / 'weak', 'warning')]
    assert any('learn little of the texture' in m for m in warnings), warnings
    assert 'learn little of the texture' in r.stderr
    train_cli(*args, '--out', tmp_path / 'balanced')
    assert not any('learn little' in e['message'] for e in events(tmp_path / 'balanced', 'warning'))


def test_a_cpu_run_uses_every_core_unless_omp_num_threads_says(photos, texture, tmp_path):
    """On the CPU, loading a photo in the trainer itself costs less than a DataLoader worker's
    competition for the cores (bench/cpu_plan.py): no worker on a small machine, every core for
    torch."""
    import os
    from worker.config import default_workers
    args = ['--data_dir', photos, '--texture', texture, '--iterations', 1, '--device', 'cpu',
            *[a for a in TINY if a not in ('--workers', '0')]]
    env = {k: v for k, v in os.environ.items() if k != 'OMP_NUM_THREADS'}
    train_cli(*args, '--out', tmp_path / 'auto', env=env)
    config = json.loads((tmp_path / 'auto' / 'config.json').read_text())
    cores = os.cpu_count()
    assert config['derived']['device_name'] == f'cpu ({cores} thread{"s" if cores > 1 else ""})'
    assert config['workers'] is None and config['derived']['workers'] == default_workers(False, cores) == (0 if cores <= 4 else 1)
    assert default_workers(True, 16) == 8 and default_workers(True, 2) == 1
    train_cli(*args, '--out', tmp_path / 'omp', env={**env, 'OMP_NUM_THREADS': '1'})
    assert json.loads((tmp_path / 'omp' / 'config.json').read_text())['derived']['device_name'] == 'cpu (1 thread)'


def test_precision_auto_is_bf16_where_the_cpu_has_it_and_previews_are_rendered_in_fp32(photos, texture, tmp_path):
    """--precision auto trains in bf16 on a CPU with bf16 instructions (fp32 on others), fp32 when
    asked. Either way the preview is the checkpoint's fp32 output, as stylize renders it: the
    picture chosen by eye is the one the model gives (within a grey level of PNG rounding)."""
    import numpy as np
    from PIL import Image
    from worker.data import load_crop
    from worker.hardware import cpu_has_bf16
    args = ['--data_dir', photos, '--texture', texture, '--iterations', 4, '--device', 'cpu', *TINY,
            '--checkpoint_every', 4, '--preview_every', 4]
    for choice, amp in (('auto', 'bfloat16' if cpu_has_bf16() else 'fp32'), ('fp32', 'fp32')):
        run = tmp_path / choice
        train_cli(*args, '--precision', choice, '--out', run)
        config = json.loads((run / 'config.json').read_text())
        assert config['precision'] == choice and config['derived']['amp'] == amp
        g = load_generator(run / 'checkpoints' / 'iter_0000004.pth')
        photos_in = torch.stack([load_crop(p, 32) for p in config['derived']['dataset']['preview_photos']])
        with torch.no_grad():
            want = g(photos_in, generator=torch.Generator().manual_seed(0)).clamp(0, 1)
        want = torch.cat(list(want), 2).permute(1, 2, 0).mul(255).round().numpy()
        got = np.asarray(Image.open(run / events(run, 'preview')[-1]['path']), dtype=float)
        assert np.abs(got - want).max() <= 1, choice
