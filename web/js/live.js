// The realtime connection (`/api/ws`, protocol v1 in protocol/README.md): one socket per page,
// topics subscribed by the pages, and recovery after a drop. For every topic it remembers the
// last offset and epoch it applied; on reconnect it subscribes with `since`, so the server
// replays exactly what was missed, or answers with a fresh snapshot when it cannot.

const MAX_BACKOFF_MS = 10_000;
/** After close 4002 (session renewed): long enough for the answer with the new cookie. */
const RENEWED_DELAY_MS = 1_000;

export class Live {
  /**
   * @param {object} hooks `onState(state)` with 'connecting' | 'live' | 'reconnecting' | 'offline';
   *   `onSessionEnded()` on close 4001; `onRevoked()` on close 4003. Close 4002 (session
   *   renewed) reconnects after a moment, with the browser's new cookie.
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.topics = new Map(); // topic → { handlers, position: {offset, epoch} | null }
    this.socket = null;
    this.attempts = 0;
    this.timer = null;
    window.addEventListener('online', () => this.reconnectNow());
    window.addEventListener('offline', () => this.setState('offline'));
  }

  start() {
    if (!this.socket && !this.timer) this.open();
  }

  /**
   * Follows `topic`: `snapshot(state)` whenever the page must (re)build from scratch,
   * `event(event)` for each change, in order, once; `error(code, message)` if refused.
   * Returns the function that stops following it.
   */
  subscribe(topic, handlers) {
    if (this.topics.has(topic)) this.send({ type: 'unsubscribe', topic });
    const entry = { handlers, position: null };
    this.topics.set(topic, entry);
    this.sendSubscribe(topic, entry);
    return () => {
      if (this.topics.get(topic) !== entry) return;
      this.topics.delete(topic);
      this.send({ type: 'unsubscribe', topic });
    };
  }

  /** Reopens the socket, e.g. after signing in or out (the cookie decides what it may see). */
  restart() {
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, 'credentials changed');
    }
    this.reconnectNow();
  }

  reconnectNow() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.socket) {
      // The network blinked but this socket survived it.
      if (this.socket.readyState === WebSocket.OPEN) this.setState('live');
      return;
    }
    this.attempts = 0;
    this.open();
  }

  open() {
    this.timer = null;
    this.setState(this.attempts === 0 ? 'connecting' : 'reconnecting');
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/api/ws`, 'leadbridge.v1');
    this.socket = socket;
    socket.onopen = () => {
      this.attempts = 0;
      this.everOpened = true;
      this.setState('live');
      for (const [topic, entry] of this.topics) this.sendSubscribe(topic, entry);
    };
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = (close) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.closed(close.code);
    };
  }

  closed(code) {
    if (code === 4001) this.hooks.onSessionEnded?.();
    if (code === 4003) this.hooks.onRevoked?.();
    // A hook may already have reopened the socket (signing out restarts it).
    if (this.socket || this.timer) return;
    if (!navigator.onLine) {
      this.setState('offline');
      return;
    }
    this.setState('reconnecting');
    // Session ends reconnect at once (as an anonymous socket); a renewed session in a moment,
    // once the answer that carries the new cookie has landed; anything else backs off with
    // jitter so a restarted server is not stampeded.
    const immediate = code === 4001 || code === 4003;
    const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempts);
    this.attempts += 1;
    const delay = immediate ? 0 : code === 4002 ? RENEWED_DELAY_MS : base * (0.5 + Math.random() / 2);
    this.timer = setTimeout(() => this.open(), delay);
  }

  receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    const entry = message.topic ? this.topics.get(message.topic) : null;
    switch (message.type) {
      case 'subscribed':
        if (!entry) return;
        entry.position = { offset: message.offset, epoch: message.epoch };
        if ('snapshot' in message) entry.handlers.snapshot?.(message.snapshot);
        break;
      case 'message':
        if (!entry || !entry.position || message.offset <= entry.position.offset) return;
        entry.position.offset = message.offset;
        entry.handlers.event?.(message.event);
        break;
      case 'error':
        if (!entry) return;
        if (message.code === 'UNAVAILABLE') {
          const socket = this.socket;
          const retry = () => {
            const same = this.topics.get(message.topic) === entry && this.socket === socket;
            if (same && entry.position === null) this.sendSubscribe(message.topic, entry);
          };
          setTimeout(retry, 2000);
        } else {
          entry.handlers.error?.(message.code, message.message);
        }
        break;
      default:
        break;
    }
  }

  sendSubscribe(topic, entry) {
    const message = { type: 'subscribe', topic };
    if (entry.position) message.since = entry.position;
    this.send(message);
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
    }
  }

  setState(state) {
    this.state = state;
    this.hooks.onState?.(state);
  }
}
