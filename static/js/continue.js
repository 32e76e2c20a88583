// "Continue training": a modal that starts a new run from one of an ended run's checkpoints.
// The ended run is left as it is; the new run begins with its curve and previews.
import { h, icon } from './dom.js';
import { api } from './api.js';
import { int } from './format.js';

// Resolves with the new run's RunInfo, or null when cancelled.
export function continueDialog(run) {
  const checkpoints = [...(run.checkpoints || [])].sort((a, b) => b.iteration - a.iteration);
  return new Promise((resolve) => {
    let result = null;
    const from = h('select', { id: 'continue-from', name: 'iteration', class: 'input' },
      checkpoints.map((c) => h('option', { value: c.iteration }, `Iteration ${int(c.iteration)}`)));
    const to = h('input', {
      id: 'continue-iterations', name: 'iterations', type: 'text', inputmode: 'numeric', class: 'input input-num',
      'aria-describedby': 'continue-iterations-hint continue-error',
    });
    const error = h('p', { class: 'field-error', id: 'continue-error', role: 'alert' });
    // The service's default for each checkpoint (RunInfo): the run's own end if it stopped early, else
    // as many iterations again.
    const setDefault = () => { to.value = String(checkpoints.find((c) => c.iteration === Number(from.value)).continue_to); };
    from.addEventListener('change', setDefault);
    to.addEventListener('input', () => {
      error.textContent = '';
      to.removeAttribute('aria-invalid');
    });
    setDefault();

    const start = h('button', { type: 'submit', value: 'ok', class: 'btn btn-primary', id: 'continue-start' }, icon('play', 16), 'Start');
    const cancel = h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => dialog.close() }, 'Cancel');
    const form = h('form', { method: 'dialog', novalidate: true },
      h('h2', { id: 'dialog-title' }, 'Continue training'),
      h('p', {}, 'A new run starts from the checkpoint you choose, with the same settings. This run stays as it is.'),
      h('div', { class: 'field' }, h('label', { for: from.id, class: 'label' }, 'From checkpoint'), from),
      h('div', { class: 'field' }, h('label', { for: to.id, class: 'label' }, 'Train to iteration'), to,
        h('p', { class: 'hint', id: 'continue-iterations-hint' }, 'Counted from the start of this run.')),
      error,
      h('div', { class: 'dialog-actions' }, cancel, start));
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'dialog-title', id: 'continue-dialog' }, form);

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const iteration = Number(from.value);
      const iterations = Number(to.value.replace(/[,_\s]/g, ''));
      if (!Number.isSafeInteger(iterations) || iterations <= iteration) {
        error.textContent = `Give a whole number above ${int(iteration)}.`;
        to.setAttribute('aria-invalid', 'true');
        to.focus();
        return;
      }
      start.disabled = true;
      error.textContent = '';
      try {
        result = (await api.continueRun(run.id, { iteration, iterations })).run;
        dialog.close();
      } catch (err) {
        error.textContent = `Could not continue: ${err.message}`;
        start.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    dialog.showModal();
    to.focus();
  });
}
