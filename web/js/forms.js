// Forms: labelled fields with inline errors, and submission that shows the API's errors where
// they belong (next to the field the API names, or above the form).

import { ApiError } from './api.js';
import { h } from './dom.js';

let nextId = 0;

/** A labelled input (or `textarea`/`select` via `as`), with a hint and a slot for its error. */
export function field({ label, name, as = 'input', hint, options, ...attrs }) {
  const id = `f-${name}-${++nextId}`;
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const control = h(as, {
    id,
    name,
    'aria-describedby': [hintId, errorId].filter(Boolean).join(' '),
    ...attrs,
  }, (options || []).map(([value, text]) => h('option', { value }, text)));
  if (as === 'textarea' && attrs.value !== undefined) control.value = attrs.value;
  if (as === 'select' && attrs.value !== undefined) control.value = attrs.value;
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    control,
    hint && h('p', { class: 'hint', id: hintId }, hint),
    h('p', { class: 'field-error', id: errorId, hidden: true }));
}

/** Marks one field as wrong, with the message under it. */
export function showFieldError(form, name, message) {
  const control = form.elements.namedItem(name);
  if (!control || !control.id) return false;
  control.setAttribute('aria-invalid', 'true');
  const slot = document.getElementById(`${control.id}-error`);
  slot.textContent = message;
  slot.hidden = false;
  return true;
}

function clearErrors(form) {
  for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
  for (const slot of form.querySelectorAll('.field-error')) {
    slot.textContent = '';
    slot.hidden = true;
  }
  form.querySelector(':scope > .form-error')?.remove();
}

/** Shows an error above the form's fields. */
export function showFormError(form, message) {
  form.querySelector(':scope > .form-error')?.remove();
  form.prepend(h('p', { class: 'form-error', role: 'alert' }, message));
}

/**
 * Put first in a form with several decisions: pressing Enter in a field then picks none of
 * them (implicit submission does nothing when the default button is disabled).
 */
export const noDefaultDecision = () => h('button', { type: 'submit', disabled: true, hidden: true, 'aria-hidden': 'true', tabindex: '-1' });

/**
 * Runs `submit(values)` when the form is sent, with its button disabled meanwhile. An API error
 * that names a field is shown at that field (and focuses it); any other above the form.
 */
export function bindForm(form, submit) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const values = Object.fromEntries(new FormData(form).entries());
    if (event.submitter && event.submitter.name) values[event.submitter.name] = event.submitter.value;
    const buttons = form.querySelectorAll('button[type="submit"]');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await submit(values);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.field && showFieldError(form, error.field, error.message)) {
        form.elements.namedItem(error.field).focus();
      } else {
        showFormError(form, error.message);
      }
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
  return form;
}
