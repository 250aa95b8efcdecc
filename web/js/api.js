// The HTTP API as the pages use it: JSON in and out, errors in the API's own shape.

/** An API error: `{"error": {"code", "message", "field"?}}`, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || null;
  }
}

async function request(method, path, body) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'NETWORK', 'Cannot reach LeadBridge. Check your connection and try again.');
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = data && data.error;
    throw new ApiError(
      response.status,
      error ? error.code : 'HTTP_' + response.status,
      error ? error.message : `The server answered ${response.status}.`,
      error && error.field,
    );
  }
  return { data, next: response.headers.get('X-Next-Cursor') };
}

export const api = {
  get: async (path) => (await request('GET', path)).data,
  post: async (path, body) => (await request('POST', path, body)).data,
  put: async (path, body) => (await request('PUT', path, body)).data,
  delete: async (path, body) => (await request('DELETE', path, body)).data,
  /** One page of a listing: its items and the cursor of the next page (or null). */
  page: async (path) => {
    const { data, next } = await request('GET', path);
    return { items: data || [], next };
  },
};

/** `path?key=value…`, leaving out empty values. */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.set(key, value);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
