"""Video through the stylize CLI: a generated 20-frame, 12.5 fps clip with sound comes back with its
frame count, frame rate, size and sound, each frame the generator's stylization of the clip's; the
same noise every frame keeps a still scene still."""
import math
import os
import struct
import subprocess
import sys
import wave

import numpy as np
import pytest
import torch

from conftest import REPO
from models.generator import Generator
from worker.video import VideoError, frames, probe


def make_clip(path, count=20, size=(72, 48), still=False, sound=True, fps=20):
    """A clip that pans across a gradient, a bar crossing it (or stands still, no bar), with a second
    of a 440 Hz tone."""
    import imageio_ffmpeg
    w, h = size
    audio = None
    if sound:
        audio = path.with_suffix('.wav')
        with wave.open(str(audio), 'wb') as f:
            f.setnchannels(1), f.setsampwidth(2), f.setframerate(16000)
            f.writeframes(b''.join(struct.pack('<h', int(8000 * math.sin(2 * math.pi * 440 * t / 16000))) for t in range(16000)))
    writer = imageio_ffmpeg.write_frames(str(path), size, fps=fps, codec='libx264', macro_block_size=1, quality=9,
                                         audio_path=str(audio) if audio else None, audio_codec='aac' if audio else None)
    writer.send(None)
    ys, xs = np.mgrid[0:h, 0:w]
    for i in range(count):
        shift = 0 if still else 2 * i
        frame = np.stack([(xs + shift) * 3 % 256, ys * 5 % 256, (xs + ys + shift) * 2 % 256], -1).astype(np.uint8)
        if not still:  # and a dark bar crossing it, 3 px a frame: each frame's stylization differs
            frame[:, 4 + 3 * i:8 + 3 * i] = 20
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    return path


@pytest.fixture
def model(tmp_path):
    torch.manual_seed(0)
    g = Generator()
    path = tmp_path / 'model.pth'
    torch.save({'format': 'tn-studio-generator', 'version': 1, 'generator': g.config, 'iteration': 0,
                'texture': 't', 'train': {}, 'state_dict': g.state_dict()}, path)
    return path


def stylize_cli(*args, env=None):
    return subprocess.run([sys.executable, '-m', 'worker.stylize', *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env=env)


def test_a_clip_round_trips_with_its_frames_rate_size_and_sound(tmp_path, model):
    clip = make_clip(tmp_path / 'clip.mp4', fps=12.5)  # not a whole number: a rounded or default rate shows
    assert probe(clip)['audio'] and probe(clip)['fps'] == 12.5
    out = tmp_path / 'out.mp4'
    r = stylize_cli('--model', model, '--input', clip, '--output', out, '--noise', 1)
    assert r.returncode == 0, r.stderr[-2000:]
    info = probe(out)
    # The clip's frame rate and length: 20 frames over 1.6 s (probe's count is duration x fps).
    assert info['fps'] == 12.5 and info['frames'] == 20, info
    assert info['audio'], 'the sound is kept'
    got = [np.asarray(f, dtype=np.float32) for f in frames(out)]
    assert len(got) == 20 and got[0].shape == (48, 72, 3)
    # Each frame is the generator's stylization of the clip's frame at that place (the noise of
    # seed 0, as the CLI draws it), within H.264's loss: the right frames, in order, none dropped
    # or repeated. Compared in 4x4 means (H.264 smooths the noise's fine grain away). Measured:
    # 1.0-1.2 grey levels from the right frame's reference, 1.9 or more from any other's.
    record = torch.load(model, weights_only=True)
    g = Generator(**record['generator'])
    g.load_state_dict(record['state_dict'])
    g.eval()
    want = []
    with torch.no_grad():
        for frame in frames(clip):
            x = torch.from_numpy(np.asarray(frame, dtype=np.float32) / 255).permute(2, 0, 1)[None]
            y = g(x, 1.0, torch.Generator().manual_seed(0))[0].clamp(0, 1).permute(1, 2, 0).numpy()
            want.append((y * 255).round())
    assert len(want) == 20

    def means(a):  # 4x4 block means of an (H, W, 3) image
        h, w, c = a.shape
        return a.reshape(h // 4, 4, w // 4, 4, c).mean((1, 3))
    err = np.array([[np.abs(means(a) - means(b)).mean() for b in want] for a in got])  # frame i vs reference j
    assert err.diagonal().max() < 1.6, err.diagonal()
    assert (err.argmin(1) == np.arange(20)).all(), err.argmin(1)
    assert not list(tmp_path.glob('.tmp-*'))


def test_the_same_noise_every_frame_keeps_a_still_scene_still(tmp_path, model):
    clip = make_clip(tmp_path / 'still.mp4', count=6, still=True, sound=False)
    change = {}
    for name, extra in (('fixed', []), ('fresh', ['--fresh_noise'])):
        out = tmp_path / f'{name}.mp4'
        r = stylize_cli('--model', model, '--input', clip, '--output', out, *extra)
        assert r.returncode == 0, r.stderr[-2000:]
        arrays = [np.asarray(f, dtype=np.float32) for f in frames(out)]
        change[name] = np.mean([np.abs(a - b).mean() for a, b in zip(arrays, arrays[1:])])
    assert change['fixed'] < 1.0 < change['fresh'], change  # grey levels: codec noise only, vs boiling


def test_bad_videos_say_what_is_wrong(tmp_path, model):
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'not a video at all')
    r = stylize_cli('--model', model, '--input', broken, '--output', tmp_path / 'out.mp4')
    assert r.returncode == 2 and 'could not be read as a video' in r.stderr, r.stderr
    clip = make_clip(tmp_path / 'clip.mp4', count=2, sound=False)
    r = stylize_cli('--model', model, '--input', clip, '--output', tmp_path / 'out.png')
    assert r.returncode == 2 and 'needs a video extension' in r.stderr
    with pytest.raises(VideoError):
        probe(broken)


def test_without_ffmpeg_the_error_says_how_to_get_one(tmp_path, model):
    clip = make_clip(tmp_path / 'clip.mp4', count=2, sound=False)
    env = dict(os.environ, IMAGEIO_FFMPEG_EXE=str(tmp_path / 'no-ffmpeg-here'))
    r = stylize_cli('--model', model, '--input', clip, '--output', tmp_path / 'out.mp4', env=env)
    assert r.returncode == 2, r.stderr
    assert 'no ffmpeg found' in r.stderr and 'apt install ffmpeg' in r.stderr and 'IMAGEIO_FFMPEG_EXE' in r.stderr
    assert not (tmp_path / 'out.mp4').exists()
