// A modal confirmation (<dialog>): resolves true when confirmed. Escape or Cancel: false.
import { h } from './dom.js';

export function confirmDialog({ title, body, confirm = 'OK', cancel = 'Cancel', danger = false }) {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'submit', value: 'ok', class: `btn ${danger ? 'btn-danger' : 'btn-primary'}` }, confirm);
    const no = h('button', { type: 'submit', value: 'cancel', class: 'btn btn-ghost' }, cancel);
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'dialog-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'dialog-title' }, title),
        h('p', {}, body),
        h('div', { class: 'dialog-actions' }, no, ok)));
    document.body.append(dialog);
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok');
      dialog.remove();
    });
    dialog.showModal();
    no.focus();
  });
}

// A modal asking for one line of text (<dialog>): resolves the text, or null on Escape or Cancel.
export function promptDialog({ title, body, label, value = '', placeholder = '', maxLength = 80, confirm = 'Save', cancel = 'Cancel' }) {
  return new Promise((resolve) => {
    const input = h('input', { type: 'text', class: 'input', id: 'prompt-input', value, placeholder, maxlength: String(maxLength), autocomplete: 'off' });
    const ok = h('button', { type: 'submit', value: 'ok', class: 'btn btn-primary', id: 'prompt-ok' }, confirm);
    const no = h('button', { type: 'submit', value: 'cancel', class: 'btn btn-ghost', formnovalidate: true }, cancel);
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'dialog-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'dialog-title' }, title),
        body ? h('p', {}, body) : null,
        h('label', { class: 'label', for: 'prompt-input' }, label), input,
        h('div', { class: 'dialog-actions' }, no, ok)));
    document.body.append(dialog);
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok' ? input.value : null);
      dialog.remove();
    });
    dialog.showModal();
    input.focus();
    input.select();
  });
}
