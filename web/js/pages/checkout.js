// Paying for a lead. In simulated mode this page stands in for Razorpay's checkout and
// completes the payment with the same signature Razorpay would send; in razorpay mode the
// real checkout.js opens over the dashboard.

import { api } from '../api.js';
import { append, h, money } from '../dom.js';
import { bindForm } from '../forms.js';

const CHECKOUT_JS = 'https://checkout.razorpay.com/v1/checkout.js';

/** Starts the purchase of `lead` and takes the mentor through the payment. */
export async function buy(ctx, lead) {
  const order = await api.post(`/api/mentor/leads/${encodeURIComponent(lead.lead_id)}/purchase`);
  if (ctx.config.payments === 'simulated') {
    const query = new URLSearchParams({
      lead: order.lead_id,
      amount: String(order.amount),
      currency: order.currency,
      title: lead.event_title || '',
    });
    ctx.navigate(`/checkout/${encodeURIComponent(order.order_id)}?${query}`);
    return;
  }
  await loadScript(CHECKOUT_JS);
  await new Promise((resolve, reject) => {
    const razorpay = new window.Razorpay({
      key: order.key,
      amount: order.amount,
      currency: order.currency,
      order_id: order.order_id,
      name: 'LeadBridge',
      description: `Lead for ${lead.event_title}`,
      handler: (response) => verify(response).then(resolve, reject),
      modal: { ondismiss: () => resolve(null) },
    });
    razorpay.on('payment.failed', (response) => reject(new Error(response.error?.description || 'The payment failed.')));
    razorpay.open();
  });
}

async function verify(response) {
  return api.post('/api/payments/verify', {
    razorpay_order_id: response.razorpay_order_id,
    razorpay_payment_id: response.razorpay_payment_id,
    razorpay_signature: response.razorpay_signature,
  });
}

function loadScript(src) {
  if (document.querySelector(`script[src="${src}"]`)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const script = h('script', { src, async: true });
    script.addEventListener('load', resolve);
    script.addEventListener('error', () => reject(new Error('Razorpay checkout could not be loaded.')));
    document.head.append(script);
  });
}

/** `/checkout/{order_id}`: the simulated gateway page. */
export async function render(ctx) {
  ctx.title('Checkout');
  const orderId = ctx.params.orderId;
  const paise = Number(ctx.query.get('amount'));
  const title = ctx.query.get('title');
  if (ctx.config.payments !== 'simulated') {
    append(ctx.main, h('h1', {}, 'Checkout'), h('p', {}, 'Payments open in Razorpay\u2019s window from your dashboard.'),
      h('p', {}, h('a', { href: '/mentor/dashboard' }, 'Back to the dashboard')));
    return;
  }
  const form = h('form', { class: 'stack', id: 'checkout-form' },
    h('div', { class: 'row' },
      h('button', { type: 'submit' }, Number.isFinite(paise) && paise > 0 ? `Pay ${money(paise / 100)}` : 'Pay'),
      h('a', { href: '/mentor/dashboard', class: 'button secondary' }, 'Cancel')));
  bindForm(form, async () => {
    const signed = await api.post('/api/payments/simulated-checkout', { order_id: orderId });
    await verify(signed);
    ctx.flash('Payment received. The lead\u2019s contact details are unlocked.');
    ctx.navigate('/mentor/dashboard');
  });
  append(ctx.main, h('section', { class: 'card checkout stack', 'aria-labelledby': 'checkout-title' },
    h('p', { class: 'tag' }, 'Test mode · simulated Razorpay'),
    h('h1', { id: 'checkout-title' }, 'Unlock this lead'),
    title && h('p', {}, `Lead for “${title}”`),
    Number.isFinite(paise) && paise > 0 && h('p', { class: 'amount' }, money(paise / 100)),
    h('p', { class: 'muted small' }, `Order ${orderId}. No real money moves: this server runs with simulated payments.`),
    form));
}
