// Forms: labelled fields with inline errors, and submission that shows the API's errors where
// they belong (next to the field the API names, or above the form).

import { ApiError } from './api.js';
import { h } from './dom.js';

let nextId = 0;

/**
 * A labelled input (or `textarea`/`select` via `as`), with a hint and a slot for its error.
 * `missing`: what to say when it is left empty (otherwise said from its label and type).
 */
export function field({ label, name, as = 'input', hint, options, missing, ...attrs }) {
  const id = `f-${name}-${++nextId}`;
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const control = h(as, {
    id,
    name,
    'aria-describedby': [hintId, errorId].filter(Boolean).join(' '),
    'data-missing': missing,
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

/** What the API says about a field, in plain words where it is one people often get wrong. */
const PLAIN = {
  email: 'Enter an e-mail like name@example.com',
  phone: 'Enter a phone number with its country code, like +91 98765 43210',
};
const IN_THE_FUTURE = 'Choose a time in the future';

/** The API's word on a field ("price_per_lead must be …") as the form names it. */
function plainly(form, error) {
  if (error.status === 422 && PLAIN[error.field]) return PLAIN[error.field];
  const control = form.elements.namedItem(error.field);
  const label = control?.id && document.querySelector(`label[for="${control.id}"]`)?.textContent;
  const rest = error.message.startsWith(`${error.field} `) ? error.message.slice(error.field.length + 1) : null;
  return label && rest ? `${label} ${rest}` : error.message;
}

/** Why a control's value cannot be sent, in plain words; '' if it can. */
function problem(control) {
  const v = control.validity;
  const label = document.querySelector(`label[for="${control.id}"]`)?.textContent || control.name;
  const type = control.type;
  if (v.valueMissing) {
    if (control.dataset.missing) return control.dataset.missing;
    if (type === 'email') return PLAIN.email;
    if (type === 'tel') return PLAIN.phone;
    if (type === 'datetime-local' || type === 'date') return `Choose the ${label.toLowerCase()}`;
    return `Enter ${label.toLowerCase().replace(/ \(.*\)$/, '')}`;
  }
  if (v.typeMismatch && type === 'email') return PLAIN.email;
  if (v.badInput || v.typeMismatch) return type === 'number' ? 'Enter a whole number' : `Check the ${label.toLowerCase()}`;
  if (v.tooShort) return `Use at least ${control.minLength} characters`;
  if (v.tooLong) return `Use at most ${control.maxLength} characters`;
  if (v.rangeUnderflow) return `Enter ${control.min} or more`;
  if (v.rangeOverflow) return `Enter ${control.max} or less`;
  if (v.stepMismatch) return 'Enter a whole number';
  if (v.patternMismatch) return control.title || `Check the ${label.toLowerCase()}`;
  if (control.dataset.future !== undefined && control.value && new Date(control.value).getTime() <= Date.now()) {
    return IN_THE_FUTURE;
  }
  return '';
}

/**
 * Marks every field that cannot be sent, each with its reason under it, and focuses the
 * first; answers whether all can be sent.
 */
function validate(form) {
  let first = null;
  for (const control of form.elements) {
    if (!control.name || control.disabled || !control.validity) continue;
    const reason = problem(control);
    if (!reason) continue;
    showFieldError(form, control.name, reason);
    first ??= control;
  }
  first?.focus();
  return first === null;
}

/**
 * A filter form's `from`/`to` dates: a To before From is refused under To. Answers whether
 * they are out of order.
 */
export function datesOutOfOrder(form) {
  const { from, to } = Object.fromEntries(new FormData(form).entries());
  const toField = form.elements.namedItem('to');
  toField.removeAttribute('aria-invalid');
  const slot = document.getElementById(`${toField.id}-error`);
  if (slot) slot.hidden = true;
  if (!(from && to && to < from)) return false;
  showFieldError(form, 'to', 'Choose a To date on or after the From date');
  return true;
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
  // The browser's own bubbles show one field at a time in its own words: say it here.
  form.noValidate = true;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!validate(form)) return;
    const values = Object.fromEntries(new FormData(form).entries());
    if (event.submitter && event.submitter.name) values[event.submitter.name] = event.submitter.value;
    const buttons = form.querySelectorAll('button[type="submit"]');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await submit(values);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.field && showFieldError(form, error.field, plainly(form, error))) {
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
