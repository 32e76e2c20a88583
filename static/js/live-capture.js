// The Live view's captures of its canvas: a PNG snapshot at the size shown, and a WebM recording
// (MediaRecorder on the canvas's stream), each handed to the browser as a download.

function save(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000); // the download has its bytes by then
}

export function snapshot(canvas, stem) {
  return new Promise((resolve, reject) => canvas.toBlob((blob) => {
    if (!blob) return reject(new Error('The browser could not encode the picture.'));
    save(blob, `${stem}-${canvas.width}x${canvas.height}.png`);
    resolve();
  }, 'image/png'));
}

const WEBM = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm'];

// Why this browser cannot record the canvas, or null when it can.
export function recordingRefusal(canvas) {
  if (typeof MediaRecorder !== 'function' || !canvas.captureStream) return 'This browser cannot record a canvas (no MediaRecorder).';
  if (!WEBM.some((t) => MediaRecorder.isTypeSupported(t))) return 'This browser cannot record WebM video.';
  return null;
}

// Starts recording; the returned stop() ends it and downloads the clip.
export function record(canvas, stem, fps = 30) {
  const stream = canvas.captureStream(fps);
  const mimeType = WEBM.find((t) => MediaRecorder.isTypeSupported(t));
  const recorder = new MediaRecorder(stream, { mimeType, videoBitsPerSecond: 8e6 });
  const chunks = [];
  recorder.ondataavailable = (e) => e.data.size && chunks.push(e.data);
  const done = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start(1000); // a chunk a second: a long recording is not one huge buffer at the end
  return {
    async stop() {
      if (recorder.state !== 'inactive') recorder.stop();
      await done;
      stream.getTracks().forEach((track) => track.stop());
      if (chunks.length) save(new Blob(chunks, { type: 'video/webm' }), `${stem}.webm`);
    },
    discard() {
      chunks.length = 0;
      if (recorder.state !== 'inactive') recorder.stop();
      stream.getTracks().forEach((track) => track.stop());
    },
  };
}
