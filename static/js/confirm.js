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
