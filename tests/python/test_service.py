"""The worker service over a real socket.io connection, with real trainer processes."""
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests
import socketio
import torch
from PIL import Image

from conftest import REPO, file_size_limit
from worker.checkpoint import load_generator
from worker.images import open_rgb
from worker.stylize import stylize

TOKEN = 'test-token'
RUN = {'iterations': 40, 'image_size': 32, 'style_size': 32, 'batch_size': 2, 'vgg_weights': 'random',
       'workers': 0, 'preview_every': 10, 'checkpoint_every': 10, 'lr': 0.01, 'texture': 'stained_glass'}


class InOrderClient(socketio.Client):
    """python-socketio's client handles each incoming message in a thread of its own, so events can
    be handled out of order and a binary packet's attachment before its header (python-socketio
    #436). The service's real client is Node's, which handles them in order; so does this one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        trigger = self.eio._trigger_event

        def in_order(event, *a, **kw):
            if event == 'message':
                kw['run_async'] = False
            return trigger(event, *a, **kw)
        self.eio._trigger_event = in_order


class Service:
    def __init__(self, tmp, preexec_fn=None):
        self.runs = tmp / 'runs'
        # One torch thread per trainer: the test process and the service share the machine.
        env = dict(os.environ, TN_WORKER_TOKEN=TOKEN, TN_STOP_TIMEOUT='30', OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '1'))
        self.proc = subprocess.Popen([sys.executable, '-m', 'worker.service', '--runs', self.runs,
                                      '--uploads', tmp / 'uploads'], cwd=REPO, env=env,
                                     stdout=subprocess.PIPE, text=True, preexec_fn=preexec_fn)
        self.port = json.loads(self.proc.stdout.readline())['port']
        self.url = f'http://127.0.0.1:{self.port}'
        self.events, self.states = [], []
        self.sio = InOrderClient()
        self.sio.on('run_event', self.events.append)
        self.sio.on('run_state', lambda d: self.states.append(d['run']))
        self.deleted = []
        self.sio.on('run_deleted', lambda d: self.deleted.append(d['run']))
        self.sio.connect(self.url, auth={'token': TOKEN}, transports=['websocket'])

    def call(self, name, data=None):
        return self.sio.call(name, data or {}, timeout=60)

    def wait(self, predicate, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError('timed out')

    def close(self, sig=signal.SIGTERM):
        self.sio.disconnect()
        self.proc.send_signal(sig)
        self.proc.wait(60)


@pytest.fixture
def service(tmp_path):
    s = Service(tmp_path)
    yield s
    if s.proc.poll() is None:
        s.close()


def state(service, run_id):
    return service.call('get_run', {'run': run_id})['run']


def test_a_token_is_required(service):
    bad = socketio.Client()
    for auth in (None, {'token': 'wrong'}):
        with pytest.raises(socketio.exceptions.ConnectionError):
            bad.connect(service.url, auth=auth, transports=['websocket'])
    assert requests.get(f'{service.url}/textures/stained_glass').status_code == 401
    ok = requests.get(f'{service.url}/textures/stained_glass', headers={'Authorization': f'Bearer {TOKEN}'})
    assert ok.status_code == 200 and ok.content[:2] == b'\xff\xd8'


def test_a_run_streams_every_event_and_files_stay_inside_the_run(service, photos):
    run = service.call('start_run', {'config': {**RUN, 'data_dir': str(photos)}})
    assert run['ok'], run
    rid = run['run']['id']
    service.wait(lambda: any(e['event']['type'] == 'done' for e in service.events))
    seqs = [e['seq'] for e in service.events]
    assert seqs == list(range(1, len(seqs) + 1))
    its = [e['event']['iteration'] for e in service.events if e['event']['type'] == 'iteration']
    assert its == list(range(1, 41))
    previews = [e for e in service.events if e['event']['type'] == 'preview']
    assert len(previews) == 4 and all('image' not in e for e in previews)  # a file, fetched by who shows it
    history = service.call('history', {'run': rid, 'after': 0})['events']
    assert [h['event'] for h in history] == [e['event'] for e in service.events]
    service.wait(lambda: state(service, rid)['state'] == 'done')
    auth = {'Authorization': f'Bearer {TOKEN}'}
    assert requests.get(f'{service.url}/files/{rid}/model.pth', headers=auth).status_code == 200
    for bad in (f'/files/{rid}/../../../package.json', f'/files/{rid}/..%2F..%2F..%2Fpackage.json',
                '/files/..%2F..%2Fetc/passwd', f'/files/{rid}/%2Fetc%2Fpasswd'):
        r = requests.get(service.url + bad, headers=auth)
        assert r.status_code in (400, 404), bad


def test_bad_settings_are_refused_with_a_reason(service, photos, tmp_path):
    cases = [({'data_dir': str(tmp_path / 'nope')}, 'does not exist'),
             ({'data_dir': str(photos), 'iterations': 0}, 'must be between 1 and'),
             ({'data_dir': str(photos), 'texture': '../../etc/passwd'}, 'built-in texture'),
             ({'data_dir': str(photos), 'norm': 'group'}, "--norm must be one of instance, batch, not 'group'"),
             ({'data_dir': str(photos), 'rm -rf': 1}, 'unknown setting')]
    for change, message in cases:
        r = service.call('start_run', {'config': {**RUN, **change}})
        assert not r['ok'] and r['kind'] == 'invalid' and message in r['error'], (change, r)


def test_creating_a_run_does_not_rescan_its_folder(service, photos, tmp_path):
    """The wizard has scanned the folder and the trainer scans it again: start_run checks only
    that there is a photo, so a big folder on a slow disk cannot outlast the request. A named
    pipe after the first photo would block a full scan for ever."""
    import shutil
    folder = tmp_path / 'slow'
    folder.mkdir()
    shutil.copy(sorted(photos.iterdir())[0], folder / 'a.jpg')
    os.mkfifo(folder / 'z.jpg')
    r = service.call('start_run', {'config': {**RUN, 'data_dir': str(folder)}})
    assert r['ok'], r
    service.call('stop_run', {'run': r['run']['id']})  # its trainer's own scan waits on the pipe
    service.wait(lambda: state(service, r['run']['id'])['state'] in ('stopped', 'failed'))


def test_a_killed_trainer_is_a_failed_run_whose_checkpoint_still_works(service, photos, tmp_path):
    # verbose: a line an iteration, so its log is longer than the 20 lines kept
    rid = service.call('start_run', {'config': {**RUN, 'data_dir': str(photos), 'iterations': 100000, 'device': 'cpu',
                                                'verbose': True}})['run']['id']
    service.wait(lambda: any(e['event']['type'] == 'checkpoint' for e in service.events) and
                 any(e['event'].get('iteration', 0) >= 25 for e in service.events if e['event']['type'] == 'iteration'))
    pid = int((service.runs / rid / 'trainer.pid').read_text())
    os.kill(pid, signal.SIGKILL)
    service.wait(lambda: state(service, rid)['state'] == 'failed')
    info = state(service, rid)
    assert info['exit_code'] == -9 and 'SIGKILL' in info['error'] and 'checkpoint' in info['error']
    # Why it failed, in the trainer's own words: the last 20 lines of its log.
    log = (service.runs / rid / 'trainer.log').read_text().splitlines()
    assert len(log) > 20 and any('run folder' in line for line in log), log
    assert info['stderr_tail'] == '\n'.join(log[-20:])
    photo = (Path(photos) / 'photo_00.jpg').read_bytes()
    out = service.call('stylize', {'run': rid, 'image': photo, 'noise': 0})
    assert out['ok'], out.get('error')
    # The checkpoint's own stylization of the photo, pixel for pixel.
    got = Image.open(io.BytesIO(out['image']))
    want = stylize(load_generator(service.runs / rid / info['checkpoints'][-1]['path']), open_rgb(photo), noise=0)
    assert got.size == want.size == open_rgb(photo).size
    assert np.abs(np.asarray(got, dtype=int) - np.asarray(want, dtype=int)).max() <= 1


def test_a_run_stopped_while_its_trainer_starts_up_ends_stopped_not_failed(service, photos):
    rid = service.call('start_run', {'config': {**RUN, 'data_dir': str(photos), 'iterations': 100000, 'device': 'cpu'}})['run']['id']
    service.wait(lambda: state(service, rid)['state'] == 'running')  # the trainer is still importing torch
    assert service.call('stop_run', {'run': rid})['ok']
    service.wait(lambda: state(service, rid)['state'] not in ('running', 'stopping'))
    info = state(service, rid)
    assert info['state'] == 'stopped' and info['error'] is None, info


def test_runs_queue_in_order_and_a_queued_run_can_be_cancelled(service, photos):
    cfg = {**RUN, 'data_dir': str(photos), 'iterations': 15}
    ids = [service.call('start_run', {'config': cfg})['run']['id'] for _ in range(3)]
    listing = service.call('list_runs')
    assert listing['queue'] == ids[1:] or listing['queue'] == ids  # the first may have started
    assert service.call('stop_run', {'run': ids[2]})['run']['state'] == 'stopped'
    service.wait(lambda: state(service, ids[1])['state'] == 'done')
    first_done = next(e['event']['time'] for e in service.events if e['run'] == ids[0] and e['event']['type'] == 'done')
    second_start = next(e['event']['time'] for e in service.events if e['run'] == ids[1] and e['event']['type'] == 'start')
    assert second_start >= first_done
    assert state(service, ids[2])['state'] == 'stopped' and state(service, ids[2])['iteration'] == 0


def test_training_survives_a_killed_service_and_a_new_one_follows_it(service, photos, tmp_path):
    rid = service.call('start_run', {'config': {**RUN, 'data_dir': str(photos), 'iterations': 100000, 'device': 'cpu'}})['run']['id']
    service.wait(lambda: sum(e['event']['type'] == 'iteration' for e in service.events) >= 3)
    old_rev = state(service, rid)['rev']
    service.close(signal.SIGKILL)
    pid = int((service.runs / rid / 'trainer.pid').read_text())
    os.kill(pid, 0)  # still training
    again = Service(tmp_path)
    try:
        info = state(again, rid)
        assert info['state'] == 'running'
        # Clients keep the info with the higher rev: the new service's must win over the old one's.
        assert info['rev'] > old_rev and state(again, rid)['rev'] > info['rev']
        seen = max(e['event']['iteration'] for e in service.events if e['event']['type'] == 'iteration')
        again.wait(lambda: any(e['event']['type'] == 'iteration' and e['event']['iteration'] > seen for e in again.events))
        assert again.call('stop_run', {'run': rid})['ok']
        again.wait(lambda: state(again, rid)['state'] == 'stopped')
        # The model is where the trainer stopped: past what the first service saw, its final
        # checkpoint's weights.
        again.wait(lambda: any(e['event']['type'] == 'done' for e in again.events))
        stopped = next(e['event'] for e in again.events if e['event']['type'] == 'done')
        model = torch.load(again.runs / rid / 'model.pth', weights_only=True)
        last = torch.load(again.runs / rid / 'checkpoints' / f'iter_{stopped["iteration"]:07d}.pth', weights_only=True)
        assert stopped.get('stopped') and model['iteration'] == stopped['iteration'] > seen
        assert all(torch.equal(model['state_dict'][k], v) for k, v in last['state_dict'].items())
    finally:
        again.close()


def test_an_ended_run_can_be_continued_as_a_new_run_and_deleted(service, photos):
    cfg = {**RUN, 'data_dir': str(photos), 'iterations': 12, 'checkpoint_every': 4, 'preview_every': 4}
    src = service.call('start_run', {'config': cfg})['run']['id']
    refused = service.call('continue_run', {'run': src})
    assert not refused['ok'] and refused['kind'] == 'conflict' and 'stop it' in refused['error']
    service.wait(lambda: state(service, src)['state'] == 'done')
    for bad, kind, message in (({'iteration': 5}, 'not_found', 'no checkpoint at iteration 5'),
                               ({'iterations': 8}, 'invalid', 'above'), ({'run': 'nope'}, 'not_found', 'no run')):
        r = service.call('continue_run', {'run': src, **bad})
        assert not r['ok'] and r['kind'] == kind and message in r['error'], (bad, r)
    r = service.call('continue_run', {'run': src, 'iteration': 8, 'iterations': 16})
    assert r['ok'], r
    new = r['run']
    assert new['id'] != src and new['resumed_from'] == {'run': src, 'iteration': 8}
    assert new['texture'] == 'stained_glass' and new['iterations'] == 16
    service.wait(lambda: state(service, new['id'])['state'] == 'done')
    history = [h['event'] for h in service.call('history', {'run': new['id']})['events']]
    assert [e['iteration'] for e in history if e['type'] == 'iteration'] == list(range(1, 17))
    assert state(service, new['id'])['model'] == 'model.pth'
    assert state(service, src)['iteration'] == 12  # the source is untouched
    # A finished run continues by default to twice its length.
    again = service.call('continue_run', {'run': src})
    assert again['ok'] and again['run']['iterations'] == 24 and again['run']['resumed_from']['iteration'] == 12
    # Neither it nor its source can be deleted while it waits or trains.
    for rid, message in ((again['run']['id'], 'stop it'), (src, 'continues from this run')):
        r = service.call('delete_run', {'run': rid})
        assert not r['ok'] and r['kind'] == 'conflict' and message in r['error'], r
    # Nor can its model be chosen: the trainer writes model.pth as it ends.
    r = service.call('use_checkpoint', {'run': again['run']['id'], 'iteration': 12})
    assert not r['ok'] and r['kind'] == 'conflict' and 'writes model.pth' in r['error'], r
    service.call('stop_run', {'run': again['run']['id']})
    service.wait(lambda: state(service, again['run']['id'])['state'] == 'stopped')
    assert service.call('delete_run', {'run': src})['ok']
    assert not (service.runs / src).exists()
    service.wait(lambda: src in service.deleted)
    gone = service.call('get_run', {'run': src})
    assert gone['kind'] == 'not_found' and 'no run' in gone['error']
    assert src not in [r['id'] for r in service.call('list_runs')['runs']]
    # What continued from it stays whole.
    assert service.call('history', {'run': new['id']})['ok'] and state(service, new['id'])['model'] == 'model.pth'


def test_binary_messages_sent_from_several_threads_arrive_whole(service, photos):
    """Events relayed by the run monitor and stylized images answered by command threads, all at
    once: every event arrives, and every image with the answer it belongs to."""
    import io
    import threading
    from PIL import Image
    first = service.call('start_run', {'config': {**RUN, 'data_dir': str(photos), 'iterations': 2}})['run']['id']
    service.wait(lambda: state(service, first)['state'] == 'done')
    rid = service.call('start_run', {'config': {**RUN, 'data_dir': str(photos), 'iterations': 24,
                                                'preview_every': 1}})['run']['id']
    photo = (Path(photos) / 'photo_00.jpg').read_bytes()
    answers = []

    def stylize(size):
        for _ in range(4):
            answers.append((size, service.call('stylize', {'run': first, 'image': photo, 'noise': 0, 'size': size})))
    threads = [threading.Thread(target=stylize, args=(size,)) for size in (40, 48, 56, 64)]
    service.wait(lambda: any(e['run'] == rid and e['event']['type'] == 'preview' for e in service.events))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    service.wait(lambda: any(e['run'] == rid and e['event']['type'] == 'done' for e in service.events))
    previews = [e for e in service.events if e['run'] == rid and e['event']['type'] == 'preview']
    assert len(previews) == 24
    assert len(answers) == 16
    for size, answer in answers:
        assert answer['ok'], answer
        assert Image.open(io.BytesIO(answer['image'])).size == (answer['width'], answer['height'])
        assert max(answer['width'], answer['height']) == size


def test_an_upload_on_a_full_disk_is_refused_clearly_and_leaves_nothing(tmp_path):
    """RLIMIT_FSIZE makes writes past 100 kB fail, as a full disk does."""
    import io

    import numpy as np
    from PIL import Image

    service = Service(tmp_path, preexec_fn=file_size_limit(100_000))
    try:
        noise = np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)
        buf = io.BytesIO()
        Image.fromarray(noise).save(buf, 'PNG')  # about 120 kB: incompressible
        assert len(buf.getvalue()) > 100_000
        r = service.call('save_texture', {'filename': 'big.png', 'data': buf.getvalue()})
        assert not r['ok'] and r['kind'] == 'disk_full' and 'the disk is full' in r['error'], r
        assert 'Free some space' in r['error']
        assert list((tmp_path / 'uploads' / 'textures').iterdir()) == []  # no partial file
        small = io.BytesIO()
        Image.fromarray(noise[:40, :40]).save(small, 'PNG')
        assert service.call('save_texture', {'filename': 'small.png', 'data': small.getvalue()})['ok']
    finally:
        service.close()


def test_a_binary_packet_is_never_interleaved_with_another():
    """The real socket.io server, emitting (as the run monitor does) and answering commands (acks)
    from several threads at once, with a transport that yields between the parts of a packet (as
    a busy machine may): each header is followed by its own attachment."""
    import threading
    from socketio import packet
    from worker.service.app import _send_whole_packets
    server = socketio.Server(async_mode='threading')
    server.manager.initialize()
    server.manager.connect('eio-sid', '/')
    sent = []

    def slow_send(sid, part):
        sent.append(part.data if hasattr(part, 'data') else part)
        time.sleep(0.002)  # let another thread in, as a preempted one would
    server.eio.send = server.eio.send_packet = slow_send
    _send_whole_packets(server)

    def emit(tag):
        for i in range(10):
            server.emit('run_event', {'tag': f'{tag}{i}', 'image': f'{tag}{i}'.encode()})

    def answer(tag):
        for i in range(10):
            server._send_packet('eio-sid', packet.Packet(packet.ACK, data=[{'tag': f'{tag}{i}', 'image': f'{tag}{i}'.encode()}], id=i))
    threads = [threading.Thread(target=f, args=(tag,)) for f, tag in ((emit, 'a'), (emit, 'b'), (answer, 'c'), (answer, 'd'))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sent) == 80
    for header, attachment in zip(sent[::2], sent[1::2]):
        assert isinstance(header, str) and isinstance(attachment, bytes), (header, attachment)
        assert json.loads(header[header.index('['):])[-1]['tag'] == attachment.decode()
