"""The run folder is the record: the worker service lists and follows every run folder under its
runs directory, however it was made (a command line, a copy), and says what it knows of a
trainer it did not see end. Real service, real trainer processes."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from conftest import REPO, TINY, events, train_cli
from test_service import RUN, Service, service, state  # noqa: F401 (service: the fixture)
from worker import trainer_lock

CLI = ['--iterations', 6, '--checkpoint_every', 3, '--preview_every', 3, '--device', 'cpu', *TINY]
# What differs between two summaries of the same run, by construction: when each was made.
MADE = ('rev',)
# What a RunInfo sent for progress alone changes.
PROGRESS = ('rev', 'iteration', 'losses', 'images_per_s', 'eta_s', 'latest_preview')


def cli_trainer(photos, texture, out, *extra):
    """`python -m worker.train` in the background, as a user's terminal runs it."""
    args = ['--data_dir', photos, '--texture', texture, '--out', out, *CLI, *extra]
    return subprocess.Popen([sys.executable, '-m', 'worker.train', *map(str, args)], cwd=REPO,
                            env=dict(os.environ, OMP_NUM_THREADS='1'), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def summary(info):
    return {k: v for k, v in info.items() if k not in MADE}


def test_command_line_runs_are_listed_followed_live_and_usable(service, photos, texture, request):
    done = service.runs / 'cli-done'
    train_cli('--data_dir', photos, '--texture', texture, '--out', done, *CLI)
    arrivals = []  # (when, RunInfo): the run_state messages
    service.sio.on('run_state', lambda d: arrivals.append((time.monotonic(), d['run'])))
    live = service.runs / 'cli-live'
    # Checkpoints (facts) rarely, so that RunInfos between them are for its progress alone.
    proc = cli_trainer(photos, texture, live, '--iterations', 100000, '--checkpoint_every', 1000)
    request.addfinalizer(proc.kill)

    # Both appear without a restart: the service looks for run folders as it runs.
    service.wait(lambda: {'cli-done', 'cli-live'} <= {r['id'] for r in service.call('list_runs')['runs']})
    info = state(service, 'cli-done')
    assert info['state'] == 'done' and info['origin'] == 'cli' and info['iteration'] == 6
    assert info['texture'] == texture.stem and info['texture_image'] == 'previews/exemplar.png'
    assert [c['iteration'] for c in info['checkpoints']] == [3, 6] and info['model'] == 'model.pth'
    assert info['config']['data_dir'] == str(photos) and 'derived' not in info['config']

    # The live one streams its iterations as the service's own runs do, and can be stopped.
    service.wait(lambda: any(e['run'] == 'cli-live' and e['event']['type'] == 'iteration' for e in service.events))
    assert state(service, 'cli-live')['state'] == 'running'
    # Its progress reaches pages that list runs as RunInfos, at most about once a second.
    facts = lambda info: {k: v for k, v in info.items() if k not in PROGRESS}  # noqa: E731

    def progress_only():  # the gaps before each RunInfo sent for its progress alone
        infos = [(t, i) for t, i in arrivals if i['id'] == 'cli-live']
        assert [i['iteration'] for t, i in infos] == sorted(i['iteration'] for t, i in infos)
        return [b[0] - a[0] for a, b in zip(infos, infos[1:]) if facts(a[1]) == facts(b[1])]
    service.wait(lambda: len(progress_only()) >= 3, timeout=120)
    assert min(progress_only()) > 0.8, progress_only()
    assert not service.call('delete_run', {'run': 'cli-live'})['ok']
    # The terminal's trainer has the device (here the CPU): a run asked of the app waits for it.
    more = service.call('continue_run', {'run': 'cli-done', 'iterations': 8})
    assert more['ok'], more
    time.sleep(2)
    waiting = state(service, more['run']['id'])
    assert waiting['state'] == 'queued' and waiting['queue_position'] == 1, waiting
    assert service.call('stop_run', {'run': 'cli-live'})['ok']
    assert proc.wait(timeout=120) == 0, proc.stderr.read()[-2000:]
    service.wait(lambda: state(service, 'cli-live')['state'] == 'stopped')
    seqs = [e['seq'] for e in service.events if e['run'] == 'cli-live']
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # none lost, none twice
    history = [h['event'] for h in service.call('history', {'run': 'cli-live'})['events']]
    assert history[-1]['type'] == 'done' and history[-1]['stopped']

    # Used from the app: stylized, continued (it starts once the terminal's trainer has ended), deleted.
    out = service.call('stylize', {'run': 'cli-done', 'image': (photos / 'photo_00.jpg').read_bytes(), 'noise': 0})
    assert out['ok'], out
    service.wait(lambda: state(service, more['run']['id'])['state'] == 'done', timeout=180)
    assert state(service, more['run']['id'])['texture'] == texture.stem
    assert service.call('delete_run', {'run': 'cli-done'})['ok'] and not done.exists()

    # A folder removed by hand leaves the list.
    shutil.rmtree(live)
    service.wait(lambda: 'cli-live' in service.deleted)


def test_a_folder_that_cannot_be_read_is_listed_with_its_reason_and_hides_nothing(tmp_path, photos, texture):
    runs = tmp_path / 'runs'
    train_cli('--data_dir', photos, '--texture', texture, '--out', runs / 'good', *CLI)
    shutil.copytree(runs / 'good', runs / 'broken')
    (runs / 'broken' / 'config.json').write_text('{"texture": ')  # cut off mid-write by hand
    (runs / 'notes').mkdir()  # not a run: ignored
    shutil.copytree(runs / 'good', runs / 'edited')  # lines that are JSON but not our events
    with open(runs / 'edited' / 'events.jsonl', 'a') as f:
        f.write('["not", "an", "event"]\n{"no": "type"}\n{"type": "iteration"}\n')
    service = Service(tmp_path)
    try:
        listed = {r['id']: r for r in service.call('list_runs')['runs']}
        assert set(listed) == {'good', 'broken', 'edited'}
        assert listed['edited']['state'] == 'done' and listed['edited']['iteration'] == 6
        assert listed['good']['state'] == 'done'
        assert listed['broken']['state'] == 'failed'
        assert listed['broken']['error'].startswith('This run folder cannot be read: its config.json cannot be read')
    finally:
        service.close()


def test_a_summary_folded_from_the_log_equals_the_one_followed_live(tmp_path, photos):
    service = Service(tmp_path)
    try:
        rid = service.call('start_run', {'config': {**RUN, 'data_dir': str(photos), 'iterations': 12}})['run']['id']
        service.wait(lambda: state(service, rid)['state'] == 'done', timeout=180)
        followed = summary(state(service, rid))
    finally:
        service.close()
    again = Service(tmp_path)
    try:
        folded = summary(state(again, rid))
        assert folded == followed
        assert folded['iteration'] == 12 and len(folded['checkpoints']) == 2 and folded['finished']
    finally:
        again.close()


def test_a_trainer_killed_after_a_service_restart_is_reported_as_what_is_known(tmp_path, photos):
    service = Service(tmp_path)
    rid = service.call('start_run', {'config': {**RUN, 'data_dir': str(photos), 'iterations': 100000}})['run']['id']
    service.wait(lambda: sum(e['event']['type'] == 'iteration' for e in service.events) >= 2)
    service.close(signal.SIGKILL)
    pid = int((service.runs / rid / 'trainer.pid').read_text())
    again = Service(tmp_path)
    try:
        assert state(again, rid)['state'] == 'running'
        again.wait(lambda: any(e['event']['type'] == 'iteration' for e in again.events))
        os.kill(pid, signal.SIGKILL)
        again.wait(lambda: state(again, rid)['state'] == 'failed')
        error = state(again, rid)['error']
        assert f'pid {pid}' in error and 'started before the worker service restarted' in error, error
        assert 'followed it from' in error and 'not observed' in error, error
        assert 'while the worker service was restarting' not in error
        last = events(again.runs / rid, 'iteration')[-1]['iteration']
        assert f'(iteration {last})' in error, error
    finally:
        again.close()


def test_a_second_trainer_cannot_take_a_folder_a_trainer_is_writing(tmp_path, photos, texture, request):
    run = tmp_path / 'run'
    proc = cli_trainer(photos, texture, run, '--iterations', 100000)
    request.addfinalizer(proc.kill)
    deadline = time.time() + 120
    while not events(run, 'checkpoint'):  # a --resume needs one
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read()
        time.sleep(0.1)
    assert trainer_lock.holder(run) == proc.pid
    before = (run / 'events.jsonl').read_bytes()
    # --resume of the same folder: allowed for an ended run, refused while one writes it.
    r = train_cli('--resume', run, '--iterations', 100001, check=False)
    assert r.returncode == 2 and f'another trainer (pid {proc.pid}) is writing to {run}' in r.stderr, r.stderr[-2000:]
    after = events(run)
    assert not any(e['type'] == 'error' for e in after), after[-3:]  # not a word in the other run's log
    assert (run / 'events.jsonl').read_bytes().startswith(before)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 0
    assert trainer_lock.holder(run) is None  # the kernel let go with the process
    assert json.loads((run / 'config.json').read_text())['iterations'] == 100000


def test_a_sweep_from_the_command_line_is_listed_as_a_sweep(service, photos, texture):
    folder = service.runs / 'sweep-cli'
    r = subprocess.run([sys.executable, '-m', 'worker.sweep', '--set', 'content_weight=250,4000', '--sweep_dir', folder,
                        '--data_dir', photos, '--texture', texture, *map(str, CLI), '--iterations', '3'],
                       cwd=REPO, capture_output=True, text=True, timeout=600, env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert r.returncode == 0, r.stderr[-2000:]
    ids = ['sweep-cli.content_weight-250', 'sweep-cli.content_weight-4000']
    service.wait(lambda: set(ids) <= {i['id'] for i in service.call('list_runs')['runs']})
    infos = [state(service, i) for i in ids]
    assert [i['state'] for i in infos] == ['done', 'done']
    assert [i['config']['content_weight'] for i in infos] == [250, 4000]
    assert [i['sweep'] for i in infos] == [{'id': 'sweep-cli', 'name': 'content_weight', 'setting': 'content_weight',
                                            'values': [250.0, 4000.0], 'value': v, 'index': n}
                                           for n, v in enumerate([250.0, 4000.0])]
    out = service.call('stylize', {'run': ids[1], 'image': (photos / 'photo_00.jpg').read_bytes(), 'noise': 0})
    assert out['ok'], out
    assert service.call('delete_run', {'run': ids[0]})['ok'] and not (folder / 'content_weight=250').exists()


def test_a_command_line_resume_of_a_listed_run_is_followed_in_its_own_folder(service, photos, texture):
    """`--resume RUN_DIR` rewrites the run's log (what followed the checkpoint goes): the service
    says so (run_reset), then relays the new log from its first line, and its record of the run
    is the file's."""
    service.sio.on('run_reset', lambda d: service.events.append({'run': d['run'], 'reset': True}))
    run = service.runs / 'resumed'
    train_cli('--data_dir', photos, '--texture', texture, '--out', run, *CLI)
    # Found while its trainer wrote it, or after: done once the service has seen the trainer end.
    service.wait(lambda: 'resumed' in {r['id'] for r in service.call('list_runs')['runs']})
    service.wait(lambda: state(service, 'resumed')['state'] == 'done')
    first = list(enumerate(events(run), 1))
    train_cli('--resume', run, '--iterations', 9)
    service.wait(lambda: state(service, 'resumed')['iteration'] == 9 and state(service, 'resumed')['state'] == 'done')
    history = [h['event'] for h in service.call('history', {'run': 'resumed'})['events']]
    assert history == events(run)
    # Relayed: one reset, then the whole new log, line for line (seq: its line number). The run's
    # state can be read before its last events reach this client: they are waited for.
    def since_reset():
        relayed = [e for e in service.events if e['run'] == 'resumed']
        resets = [i for i, e in enumerate(relayed) if e.get('reset')]
        return resets, [(e['seq'], e['event']) for e in relayed[resets[-1] + 1:]] if resets else []
    service.wait(lambda: len(since_reset()[1]) >= len(history))
    resets, after = since_reset()
    assert len(resets) == 1 and after == list(enumerate(history, 1)), (resets, after[:3])
    # Before the reset, the first log as far as it was followed (nothing if it was found ended), to its end.
    relayed = [e for e in service.events if e['run'] == 'resumed']
    before = [(e['seq'], e['event']) for e in relayed[:resets[0]]]
    assert before == first[len(first) - len(before):], before[-3:]
    assert [e['iteration'] for e in history if e['type'] == 'iteration'] == list(range(1, 10))
    assert [e['type'] for e in history].count('done') == 1
    info = state(service, 'resumed')
    assert [c['iteration'] for c in info['checkpoints']] == [3, 6, 9] and info['iteration'] == 9
    # A log replaced with no trainer to see (a folder copied over, a resume over before the next
    # look): read anew all the same.
    copy = run / 'events.copy'
    copy.write_bytes((run / 'events.jsonl').read_bytes())
    os.replace(copy, run / 'events.jsonl')
    service.wait(lambda: len(since_reset()[0]) == 2 and len(since_reset()[1]) >= len(history))
    assert since_reset()[1] == list(enumerate(history, 1))
    assert state(service, 'resumed')['state'] == 'done' and state(service, 'resumed')['iteration'] == 9
