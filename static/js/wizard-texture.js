// Wizard step 2: the texture. A gallery of the built-in (and uploaded) textures as a radio
// group, or an upload (drag and drop or file picker), and the chosen one at training size.
import { h, icon, newId, replace } from './dom.js';
import { api, textureImage } from './api.js';
import { title } from './format.js';
import { field, parseField } from './settings.js';
import { imageExtensions, uploadBytes } from './protocol.js';
import { networkView } from './texture-view.js';

// For a file the browser gives no type: the picture files the worker reads (protocol.json).
const hasImageExt = (name) => imageExtensions().some((ext) => name.toLowerCase().endsWith(ext));

// A reason the browser can already give for refusing a file, or null.
export function refuseFile(file) {
  const looksImage = (file.type && file.type.startsWith('image/')) || (!file.type && hasImageExt(file.name));
  if (!looksImage) return `${file.name} is not an image. Choose a PNG, JPEG, WebP, GIF, BMP or TIFF file.`;
  if (file.size > uploadBytes()) return `${file.name} is ${(file.size / 2 ** 20).toFixed(1)} MB; the limit is ${uploadBytes() / 2 ** 20} MB. Use a smaller image.`;
  if (file.size === 0) return `${file.name} is empty.`;
  return null;
}

export function textureStep(el, { state, changed }) {
  let textures = null;
  let loadError = null;
  let uploading = false;
  let uploadError = null;

  const gallery = h('div', { class: 'texture-grid', role: 'radiogroup', 'aria-labelledby': 'texture-legend' });
  const galleryBox = h('section', { class: 'texture-section' },
    h('h3', { id: 'texture-legend', class: 'section-title' }, 'Built-in and uploaded textures'), gallery);

  const fileInput = h('input', { type: 'file', id: 'texture-file', class: 'sr-only-input', accept: 'image/*' });
  const drop = h('label', { class: 'dropzone', for: 'texture-file', id: 'texture-drop' },
    fileInput,
    icon('upload', 26),
    h('span', { class: 'drop-main' }, h('strong', {}, 'Drop an image here'), ' or ', h('span', { class: 'link' }, 'choose a file')),
    h('span', { class: 'muted small' }, `Your own texture or painting: PNG, JPEG, WebP, GIF, BMP or TIFF, up to ${uploadBytes() / 2 ** 20} MB.`));
  const uploadStatus = h('div', { class: 'upload-status', 'aria-live': 'polite' });

  const sizeId = newId('style-size');
  const sizeInput = h('input', { id: sizeId, type: 'number', class: 'input input-num', min: field('style_size').min, max: field('style_size').max, step: 1, value: state.settings.style_size, inputmode: 'numeric' });
  const sizeError = h('span', { class: 'field-error', 'aria-live': 'polite' });
  const view = networkView();
  const previewBox = h('section', { class: 'network-box' },
    h('div', { class: 'network-head' },
      h('div', {}, h('h3', { class: 'section-title' }, 'As the network sees it'),
        h('p', { class: 'muted small' }, 'The texture is scaled so that its long side is the style size. Larger means bigger strokes and motifs.')),
      h('div', { class: 'field inline-field' }, h('label', { for: sizeId, class: 'label' }, 'Style size (px)'), sizeInput, sizeError)),
    view.el);

  el.append(galleryBox, h('section', { class: 'upload-section' }, h('h3', { class: 'section-title' }, 'Or upload your own'), drop, uploadStatus), previewBox);

  function renderGallery() {
    if (loadError) {
      replace(gallery, h('div', { class: 'callout callout-error', role: 'alert' }, icon('alert'), h('span', {}, `Cannot list the textures: ${loadError}`)));
      return;
    }
    if (!textures) {
      replace(gallery, h('div', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading textures…'));
      return;
    }
    replace(gallery, textures.map((t) => {
      const id = `texture-${t.name}`;
      const input = h('input', { type: 'radio', name: 'texture', value: t.name, id, class: 'sr-only-input', checked: state.texture === t.name });
      input.addEventListener('change', () => select(t.name));
      return h('label', { class: 'texture-card', for: id, dataset: { texture: t.name } },
        input,
        h('img', { src: textureImage(t.name), alt: '', width: 160, height: 160, loading: 'lazy', decoding: 'async' }),
        h('span', { class: 'texture-name' }, title(t.name)),
        h('span', { class: 'texture-meta muted small' }, `${t.width}×${t.height}${t.builtin ? '' : ' · uploaded'}`));
    }));
  }

  function renderUpload() {
    if (uploading) {
      replace(uploadStatus, h('div', { class: 'callout' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Uploading…'));
    } else if (uploadError) {
      replace(uploadStatus, h('div', { class: 'callout callout-error', role: 'alert', id: 'upload-error' }, icon('alert'), h('span', {}, uploadError)));
    } else {
      uploadStatus.replaceChildren();
    }
  }

  function select(name) {
    state.texture = name;
    if (uploadError) { // a refused upload is history once a texture is chosen
      uploadError = null;
      renderUpload();
    }
    for (const card of gallery.querySelectorAll('.texture-card')) {
      const on = card.dataset.texture === name;
      card.classList.toggle('selected', on);
      card.querySelector('input[type="radio"]').checked = on; // a selection made by upload, not by a click
    }
    updatePreview();
    changed();
  }

  function updatePreview() {
    previewBox.hidden = !state.texture;
    if (state.texture) view.update(state.texture, state.settings.style_size);
  }

  async function upload(file) {
    uploadError = refuseFile(file);
    if (uploadError) return renderUpload();
    uploading = true;
    renderUpload();
    try {
      const { texture } = await api.uploadTexture(file);
      textures = [...(textures || []).filter((t) => t.name !== texture.name), texture];
      renderGallery();
      select(texture.name);
      gallery.querySelector(`[data-texture="${CSS.escape(texture.name)}"]`)?.scrollIntoView({ block: 'nearest' });
    } catch (err) {
      uploadError = `The server refused ${file.name}: ${err.message}`;
    }
    uploading = false;
    renderUpload();
    changed(); // Next waits while uploading
  }

  fileInput.addEventListener('change', () => {
    if (fileInput.files[0]) upload(fileInput.files[0]);
    fileInput.value = '';
  });
  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (e) => {
      e.preventDefault();
      drop.classList.add('dragging');
    });
  }
  for (const type of ['dragleave', 'drop']) drop.addEventListener(type, () => drop.classList.remove('dragging'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    const file = e.dataTransfer?.files?.[0];
    if (file) upload(file);
  });

  sizeInput.addEventListener('input', () => {
    const r = parseField('style_size', sizeInput.value);
    sizeError.textContent = r.error || '';
    sizeInput.setAttribute('aria-invalid', String(!!r.error));
    if (!r.error) {
      state.settings.style_size = r.value;
      updatePreview();
    }
    changed();
  });
  sizeInput.title = field('style_size').help;

  api.textures().then((res) => {
    textures = res.textures || [];
    if (state.texture && !textures.some((t) => t.name === state.texture)) state.texture = null;
    renderGallery();
    if (state.texture) select(state.texture);
    changed();
  }).catch((err) => {
    loadError = err.message;
    renderGallery();
  });
  renderGallery();
  renderUpload();
  updatePreview();

  return {
    valid: () => !!state.texture && !!textures?.some((t) => t.name === state.texture) && !parseField('style_size', sizeInput.value).error,
    busy: () => uploading,
    why: () => (uploading ? 'Uploading…' : 'Choose or upload a texture.'),
  };
}
