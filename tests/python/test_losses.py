import pytest
import torch
from torchvision.models import vgg19

from models.losses import TextureLoss, calibrate, gram_matrix
from worker.config import DEFAULTS, STYLE_LAYERS, UsageError, by_layer, calibrate_with_defaults

DEFAULT_WEIGHTS = by_layer(DEFAULTS['style_weights'])
from models.vgg import LAYER_INDEX, VGGFeatures, VGGWeightsUnavailable, load_vgg19


def test_gram_matrix_by_hand():
    f = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2) / 10
    g = gram_matrix(f)
    a = f.numpy()
    for b in range(2):
        for i in range(3):
            for j in range(3):
                want = sum(a[b, i, y, x] * a[b, j, y, x] for y in range(2) for x in range(2)) / (3 * 2 * 2)
                assert g[b, i, j].item() == pytest.approx(want, rel=1e-6)
    # The same from channels-last maps (read through a view, not copied).
    assert torch.allclose(gram_matrix(f.contiguous(memory_format=torch.channels_last)), g, rtol=1e-6)


def test_gram_matrix_stays_float32_under_bf16_autocast():
    """The trainer's bf16 autocast would run bmm in bf16 (3 significant digits an entry)."""
    f = torch.rand(2, 16, 12, 12).to(torch.bfloat16)
    want = gram_matrix(f.float())
    with torch.autocast('cpu', torch.bfloat16):
        got = gram_matrix(f)
    assert got.dtype == torch.float32 and torch.allclose(got, want, rtol=1e-5)


@pytest.fixture(scope='module')
def vgg():
    return load_vgg19('random')


def test_random_vgg_is_seeded_and_leaves_the_global_rng_alone(vgg):
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    again = load_vgg19('random')
    after = torch.rand(3)
    torch.testing.assert_close(before, after)
    for p, q in zip(vgg.parameters(), again.parameters()):
        assert torch.equal(p, q)


def test_features_stop_at_the_deepest_layer_needed(vgg):
    feats = VGGFeatures(vgg, ('relu1_1', 'relu4_2'))
    assert len(feats.body) == LAYER_INDEX['relu4_2'] + 1
    calls = []
    hooks = [m.register_forward_hook(lambda *a, i=i: calls.append(i)) for i, m in enumerate(feats.body)]
    out = feats(torch.rand(1, 3, 32, 32), layers=('relu1_1',))
    assert set(out) == {'relu1_1'} and max(calls) == LAYER_INDEX['relu1_1']
    for h in hooks:
        h.remove()
    assert all(not p.requires_grad for p in feats.parameters())
    feats.train()
    assert not feats.training


def test_texture_loss_matches_a_direct_computation(vgg):
    torch.manual_seed(0)
    texture, photo, output = torch.rand(1, 3, 40, 40), torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    weights = [5, 6, 2, 2, 2]
    loss = TextureLoss(vgg, texture, dict(zip(['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'], weights)), 1e3,
                       style_scale=7.0)
    style, content = loss(output, photo)

    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def acts(x):
        out, x = {}, (x - mean) / std
        for i, m in enumerate(vgg[:30]):
            x = m(x)
            out[i] = x.clone()
        return out

    def gram(f):
        b, c, h, w = f.shape
        f = f.reshape(b, c, h * w)
        return f @ f.transpose(1, 2) / (c * h * w)

    with torch.no_grad():
        ta, oa, pa = acts(texture), acts(output), acts(photo)
    idx = [1, 6, 11, 20, 29]
    want_style = 7 * sum(w * ((gram(oa[i]) - gram(ta[i])) ** 2).mean() for w, i in zip(weights, idx))
    want_content = 1e3 * ((oa[22] - pa[22]) ** 2).mean()
    assert style.item() == pytest.approx(want_style.item(), rel=1e-4)
    assert content.item() == pytest.approx(want_content.item(), rel=1e-4)


def test_calibrated_scale_sets_the_balance_and_the_weights_act_on_top(vgg):
    torch.manual_seed(0)
    texture, photo, output = torch.rand(1, 3, 40, 40), torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    default = TextureLoss(vgg, texture, DEFAULT_WEIGHTS, DEFAULTS['content_weight'])
    s = calibrate_with_defaults(*default.terms(output, photo), balance=3.0)
    default.style_scale = s
    style, content = default(output, photo)
    assert style.item() == pytest.approx(3.0 * content.item(), rel=1e-5)
    # The scale is computed for the default weights; the user's weights keep their meaning.
    user = TextureLoss(vgg, texture, {k: 2 * w for k, w in DEFAULT_WEIGHTS.items()}, 2 * DEFAULTS['content_weight'], style_scale=s)
    style2, content2 = user(output, photo)
    assert style2.item() == pytest.approx(2 * style.item(), rel=1e-5)
    assert content2.item() == pytest.approx(2 * content.item(), rel=1e-5)
    with pytest.raises(ValueError, match='--style_scale'):
        calibrate([torch.tensor(0.0)] * 5, torch.tensor(1.0), 1.0, [1.0] * 5, 1.0)


def test_loss_gradients_flow_to_the_output_only(vgg):
    loss = TextureLoss(vgg, torch.rand(1, 3, 32, 32), DEFAULT_WEIGHTS, DEFAULTS['content_weight'])
    out = torch.rand(1, 3, 32, 32, requires_grad=True)
    photo = torch.rand(1, 3, 32, 32, requires_grad=True)
    style, content = loss(out, photo)
    (style + content).backward()
    assert out.grad.abs().sum() > 0
    assert photo.grad is None  # content targets are computed without a graph


def test_wrong_number_of_style_weights(vgg):
    with pytest.raises(UsageError, match=f'5 style weights are needed \\(one per layer {", ".join(STYLE_LAYERS)}\\), got 3'):
        by_layer([1, 2, 3])


def test_vgg_weights_from_a_file(tmp_path, vgg):
    path = tmp_path / 'vgg.pth'
    full = vgg19(weights=None)  # a whole torchvision VGG-19 state dict, as downloaded
    full.features.load_state_dict(vgg.state_dict())
    torch.save(full.state_dict(), path)
    loaded = load_vgg19(str(path))
    assert all(torch.equal(p, q) for p, q in zip(vgg.parameters(), loaded.parameters()))
    torch.save(vgg.state_dict(), tmp_path / 'features.pth')  # features-only files work too
    loaded = load_vgg19(str(tmp_path / 'features.pth'))
    assert all(torch.equal(p, q) for p, q in zip(vgg.parameters(), loaded.parameters()))


def test_missing_or_bad_vgg_weights_say_how_to_provide_them(tmp_path):
    with pytest.raises(VGGWeightsUnavailable, match='--vgg_weights random') as e:
        load_vgg19(str(tmp_path / 'nope.pth'))
    assert 'vgg19-dcbb9e9d.pth' in str(e.value)
    bad = tmp_path / 'bad.pth'
    bad.write_text('not a model')
    with pytest.raises(VGGWeightsUnavailable, match='not a VGG-19 state dict'):
        load_vgg19(str(bad))


def test_without_cached_imagenet_weights_the_error_says_how_to_provide_them(tmp_path):
    """An empty torch cache and an unreachable network (every request goes to a proxy of ours that
    hangs up on each connection, so nothing is downloaded even where there is internet): the
    trainer's default must fail with instructions."""
    import socket
    import subprocess
    import sys
    import threading

    from conftest import REPO
    proxy = socket.create_server(('127.0.0.1', 0))
    hung_up = []

    def hang_up():
        while True:
            try:
                conn, _ = proxy.accept()
            except OSError:  # shut down: the test is over
                return
            hung_up.append(conn.getpeername())
            conn.close()
    listener = threading.Thread(target=hang_up, daemon=True)
    listener.start()
    url = f'http://127.0.0.1:{proxy.getsockname()[1]}'
    code = ('from models.vgg import load_vgg19, VGGWeightsUnavailable\n'
            'try:\n    load_vgg19("imagenet")\nexcept VGGWeightsUnavailable as e:\n    print(e)\n')
    env = {'PATH': '/usr/bin:/bin', 'TORCH_HOME': str(tmp_path), 'https_proxy': url, 'HTTPS_PROXY': url,
           'http_proxy': url, 'HTTP_PROXY': url}
    try:
        r = subprocess.run([sys.executable, '-c', code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    finally:
        proxy.shutdown(socket.SHUT_RDWR)  # wakes the accept() (Linux), so the thread ends
        listener.join(10)
        proxy.close()
    assert hung_up, 'the download never tried the proxy: it could have reached the internet'
    assert 'Could not load VGG-19 weights' in r.stdout, r.stdout + r.stderr
    assert str(tmp_path / 'hub' / 'checkpoints') in r.stdout and '--vgg_weights' in r.stdout


def test_a_first_run_downloads_the_imagenet_weights_and_says_how_far(photos, texture, tmp_path, vgg):
    """The trainer fetches the weights into the torch cache (from a local mirror here, as
    TN_VGG19_URL allows), writing `download` events the dashboard shows; a second run reads
    the cache. A file that arrives changed is refused, and nothing is left in the cache."""
    import hashlib
    import http.server
    import json
    import os
    import threading
    from functools import partial

    from conftest import TINY, events, train_cli
    served = tmp_path / 'served'
    served.mkdir()
    blob = served / 'weights.pth'
    torch.save(vgg.state_dict(), blob)
    name = f'vgg19-{hashlib.sha256(blob.read_bytes()).hexdigest()[:8]}.pth'
    blob.rename(served / name)
    (served / 'vgg19-00000000.pth').write_bytes((served / name).read_bytes())  # a wrong hash
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), partial(http.server.SimpleHTTPRequestHandler,
                                                                         directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f'http://127.0.0.1:{server.server_address[1]}'
        env = {**os.environ, 'TORCH_HOME': str(tmp_path / 'torch'), 'TN_VGG19_URL': f'{url}/{name}'}
        args = ['--data_dir', photos, '--texture', texture, '--iterations', 1, *TINY, '--vgg_weights', 'imagenet']
        train_cli(*args, '--out', tmp_path / 'first', env=env)
        downloads = events(tmp_path / 'first', 'download')
        size = (served / name).stat().st_size
        assert downloads and downloads[-1]['done'] == downloads[-1]['total'] == size, downloads
        assert (tmp_path / 'torch' / 'hub' / 'checkpoints' / name).stat().st_size == size
        train_cli(*args, '--out', tmp_path / 'second', env=env)
        assert not events(tmp_path / 'second', 'download')
        assert json.loads((tmp_path / 'second' / 'config.json').read_text())['vgg_weights'] == 'imagenet'
        r = train_cli(*args, '--out', tmp_path / 'bad', check=False, env={**env, 'TN_VGG19_URL': f'{url}/vgg19-00000000.pth'})
        assert r.returncode == 2 and 'did not download whole' in r.stderr
        assert not list((tmp_path / 'torch' / 'hub' / 'checkpoints').glob('vgg19-00000000*'))
    finally:
        server.shutdown()
