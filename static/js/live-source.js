// What the Live view paints: the webcam, a photo or a video file, each as
// {kind, element (drawImage takes it), size() -> [w, h] or null while it has no frame, stop()}.
// Failures are thrown as errors whose message says what happened and what to do instead.

// The webcam (getUserMedia), in a playing <video>.
export async function cameraSource() {
  if (!isSecureContext) {
    throw new Error(`Browsers give a camera only to secure pages (served over https, or from localhost), and ${location.origin} is not one. Choose a photo or a video instead.`);
  }
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new Error('This browser gives this page no camera (no getUserMedia). Choose a photo or a video instead.');
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false });
  } catch (err) {
    throw new Error(cameraRefusal(err));
  }
  const video = await playing(stream);
  return {
    kind: 'camera',
    label: stream.getVideoTracks()[0]?.label || 'Webcam',
    element: video,
    size: () => (video.videoWidth ? [video.videoWidth, video.videoHeight] : null),
    stop: () => stream.getTracks().forEach((track) => track.stop()),
  };
}

function cameraRefusal(err) {
  if (err.name === 'NotAllowedError' || err.name === 'SecurityError') {
    return 'The camera was refused. Allow it in the browser’s site settings and try again, or choose a photo or a video.';
  }
  if (err.name === 'NotFoundError' || err.name === 'OverconstrainedError') return 'No camera was found. Choose a photo or a video instead.';
  if (err.name === 'NotReadableError') return 'The camera is in use by another program. Close it and try again, or choose a photo or a video.';
  return `The camera could not start (${err.name}: ${err.message}). Choose a photo or a video instead.`;
}

// A muted, looping, inline <video> playing `src` (a MediaStream or a URL).
async function playing(src) {
  const video = document.createElement('video');
  Object.assign(video, { muted: true, playsInline: true, loop: true });
  if (typeof src === 'string') video.src = src;
  else video.srcObject = src;
  await new Promise((resolve, reject) => {
    video.onloadeddata = resolve;
    video.onerror = () => reject(new Error('This video cannot be played by this browser. Try another file (WebM or MP4).'));
  });
  await video.play();
  return video;
}

export async function videoSource(file) {
  const url = URL.createObjectURL(file);
  try {
    const video = await playing(url);
    return {
      kind: 'video',
      label: file.name,
      element: video,
      size: () => [video.videoWidth, video.videoHeight],
      stop: () => {
        video.pause();
        URL.revokeObjectURL(url);
      },
    };
  } catch (err) {
    URL.revokeObjectURL(url);
    throw err;
  }
}

// A photo: a File, or the URL of an image of the app (the run's preview photos).
export async function photoSource(fileOrUrl, label) {
  let bitmap;
  try {
    const blob = typeof fileOrUrl === 'string' ? await (await fetch(fileOrUrl)).blob() : fileOrUrl;
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new Error('This file is not an image this browser can read. Choose another photo (JPEG, PNG, WebP).');
  }
  return {
    kind: 'photo',
    label: label || fileOrUrl.name,
    element: bitmap,
    size: () => [bitmap.width, bitmap.height],
    stop: () => bitmap.close(),
  };
}
