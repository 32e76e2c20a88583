"""Videos through a network, frame by frame, with the sound kept.

Every frame gets the same noise (one seed, so one draw for the frame size): the texture stays
where it is on the still parts of the scene. A fresh draw for each frame makes it boil: measured
by bench/video_flicker.py (BENCHMARKS.md, Video). ffmpeg is the imageio-ffmpeg wheel's own
binary (requirements.txt), or IMAGEIO_FFMPEG_EXE, or one on PATH (Debian: apt install ffmpeg).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

VIDEO_EXTENSIONS = ('.mp4', '.mov', '.m4v', '.mkv', '.webm', '.avi')


class VideoError(ValueError):
    pass


def is_video_name(path) -> bool:
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


NO_FFMPEG = ('no ffmpeg found{}: reinstall imageio-ffmpeg (.venv/bin/pip install -r requirements.txt; it ships '
             'one), or install ffmpeg (Debian: apt install ffmpeg), or set IMAGEIO_FFMPEG_EXE to one')


def _ffmpeg():
    """imageio_ffmpeg, pointed at a usable ffmpeg binary: its own, IMAGEIO_FFMPEG_EXE, or PATH's."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise VideoError('video needs the imageio-ffmpeg package: .venv/bin/pip install -r requirements.txt') from None
    try:
        exe = imageio_ffmpeg.get_ffmpeg_exe()  # IMAGEIO_FFMPEG_EXE as given, unchecked
    except RuntimeError:
        exe = shutil.which('ffmpeg')
        if not exe:
            raise VideoError(NO_FFMPEG.format('')) from None
        os.environ['IMAGEIO_FFMPEG_EXE'] = exe
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)) and not shutil.which(exe):
        raise VideoError(NO_FFMPEG.format(f' at {exe} (IMAGEIO_FFMPEG_EXE)'))
    return imageio_ffmpeg


def probe(path) -> dict:
    """{size, fps, frames (an estimate), audio}: what the video holds."""
    ff = _ffmpeg()
    reader = ff.read_frames(str(path))
    try:
        meta = next(reader)
    except (RuntimeError, OSError, StopIteration) as e:
        raise VideoError(f'{path} could not be read as a video ({str(e).strip().splitlines()[-1] if str(e) else e})') from None
    finally:
        reader.close()
    fps = meta.get('fps') or 25
    frames = int(round((meta.get('duration') or 0) * fps))
    return {'size': tuple(meta['size']), 'fps': fps, 'frames': frames, 'audio': bool(meta.get('audio_codec'))}


def frames(path):
    """The video's frames as RGB PIL images."""
    ff = _ffmpeg()
    reader = ff.read_frames(str(path))
    width, height = next(reader)['size']
    try:
        for data in reader:
            yield Image.frombuffer('RGB', (width, height), data, 'raw', 'RGB', 0, 1)
    finally:
        reader.close()


def stylize_video(render, src, dst, progress=None) -> dict:
    """Each frame of `src` through render(frame) -> PIL image, written to `dst` (H.264, the source's
    frame rate, its sound re-encoded as AAC). The file appears only when whole. `progress(done,
    total)` after each frame."""
    info = probe(src)
    result = write_video((render(frame) for frame in frames(src)), dst, info['fps'],
                         audio=src if info['audio'] else None,
                         progress=progress and (lambda done: progress(done, max(info['frames'], done))))
    if not result['frames']:
        raise VideoError(f'{src} has no frames')
    return {**result, 'audio': info['audio']}


def write_video(images, dst, fps: float, audio=None, progress=None) -> dict:
    """PIL images to `dst` (H.264 at `fps`; `audio`: a file whose sound is re-encoded as AAC beside
    them), atomically: the file appears only when whole. `progress(done)` after each frame."""
    ff = _ffmpeg()
    dst = Path(dst)
    tmp = dst.with_name(f'.tmp-{dst.stem}{dst.suffix}')  # ffmpeg picks the container by extension
    writer, done, size = None, 0, None
    try:
        for out in images:
            if writer is None:
                size = (out.width // 2 * 2, out.height // 2 * 2)  # H.264 in yuv420p wants even sides
                writer = ff.write_frames(str(tmp), size, fps=fps, codec='libx264', macro_block_size=1,
                                         quality=8, audio_path=str(audio) if audio else None,
                                         audio_codec='aac' if audio else None)
                writer.send(None)
            if out.size != size:
                out = out.crop((0, 0, *size))
            writer.send(np.ascontiguousarray(np.asarray(out, dtype=np.uint8)))
            done += 1
            if progress:
                progress(done)
        if writer is None:
            return {'frames': 0, 'size': None, 'fps': fps}
        writer.close()
        writer = None
        os.replace(tmp, dst)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    return {'frames': done, 'size': size, 'fps': fps}
