// A GraphQL-over-websocket client speaking the graphql-transport-ws protocol
// (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md) to /graphql/ws.
//
//   client                                 server
//   connection_init {payload}      ─────>
//                                  <─────  connection_ack
//   subscribe {id, payload}        ─────>
//                                  <─────  next {id, payload: ExecutionResult} (0..n)
//                                  <─────  error {id, payload: GraphQLError[]} | complete {id}
//   complete {id}  (stop early)    ─────>
//   ping / pong either way; a ping is answered with a pong at once.
//
// One socket is shared by all subscriptions. It opens on the first subscribe and closes a little
// after the last one ends. While open it pings every `pingIntervalMs`: the server closes a socket
// that sends nothing for 30 s. The session cookie goes with the upgrade (same origin).
//
// A closed socket ends every running subscription with an ApiError:
//   4401 (session ended)                  → UNAUTHENTICATED
//   4403 (forbidden)                      → FORBIDDEN
//   closed before connection_ack          → WS_UNAVAILABLE (refused upgrade, e.g. no session, or no server)
//   any other close                       → WS_CLOSED (`closeCode` and `reason` kept)
import { ApiError, errorFromGraphQL, operationName } from './api.js';

export const PROTOCOL = 'graphql-transport-ws';

/** ws(s)://<this host>/graphql/ws */
export function defaultUrl(loc = window.location) {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/graphql/ws`;
}

export class GraphQLWsClient {
  /**
   * @param {object} [options]
   * @param {string} [options.url]
   * @param {typeof WebSocket} [options.WebSocketImpl]  for tests
   * @param {number} [options.ackTimeoutMs]   give up when connection_ack takes longer
   * @param {number} [options.pingIntervalMs] keep-alive ping period
   * @param {number} [options.lazyCloseMs]    keep an idle socket this long for the next subscription
   * @param {object} [options.connectionParams] the `connection_init` payload
   */
  constructor({
    url, WebSocketImpl, ackTimeoutMs = 10000, pingIntervalMs = 15000, lazyCloseMs = 5000,
    connectionParams = {},
  } = {}) {
    this.url = url || defaultUrl();
    this.WebSocketImpl = WebSocketImpl || WebSocket;
    this.ackTimeoutMs = ackTimeoutMs;
    this.pingIntervalMs = pingIntervalMs;
    this.lazyCloseMs = lazyCloseMs;
    this.connectionParams = connectionParams;
    this.socket = null;
    this.acked = false;
    this.nextId = 1;
    /** @type {Map<string, {payload: object, sink: object, sent: boolean}>} */
    this.subs = new Map();
    this.timers = { ack: 0, ping: 0, idle: 0 };
    /** Pings sent and not answered yet, oldest first: null for keep-alives, else a waiter. */
    this.pings = [];
    this.afterAck = [];
    /** Called with every message received, for diagnostics and tests. */
    this.onMessage = null;
  }

  /**
   * Starts a subscription. `sink.next(data)` gets each result's `data`; `sink.error(ApiError)`
   * or `sink.complete()` ends it (exactly one of them, once). Returns a function that stops it
   * (sends `complete`); after stopping, the sink hears nothing more.
   * @param {{query: string, variables?: object}} request
   * @param {{next?: Function, error?: Function, complete?: Function}} sink
   */
  subscribe({ query, variables = {} }, sink) {
    const id = String(this.nextId++);
    const payload = { query, variables, operationName: operationName(query) };
    this.subs.set(id, { payload, sink, sent: false });
    clearTimeout(this.timers.idle);
    this.connect();
    if (this.acked) this.sendSubscribe(id);
    return () => this.stop(id);
  }

  /**
   * Resolves when the server has answered a ping sent after everything sent so far: the server
   * reads a connection's messages in order, so by then it has read our subscribe messages.
   * Servers need not echo a ping's payload (async-graphql does not), so pongs are matched to
   * pings in order; a pong that carries our marker is matched by it.
   */
  roundTrip() {
    return new Promise((resolve, reject) => {
      if (!this.socket) { reject(new ApiError('not connected', 'WS_CLOSED')); return; }
      const marker = `rt-${this.nextId++}`;
      const send = () => {
        this.pings.push({ marker, resolve, reject });
        this.send({ type: 'ping', payload: { marker } });
      };
      if (this.acked) send();
      else this.afterAck.push(send);
    });
  }

  /** Closes the socket now, ending every subscription (as WS_CLOSED with code 1000). */
  close() {
    if (this.socket) this.socket.close(1000, 'Normal Closure');
    this.closed(1000, 'closed by the client');
  }

  // ---- internals --------------------------------------------------------------------------

  connect() {
    if (this.socket) return;
    let socket;
    try {
      socket = new this.WebSocketImpl(this.url, PROTOCOL);
    } catch (e) {
      this.closed(1006, e && e.message ? e.message : String(e), false);
      return;
    }
    this.socket = socket;
    this.acked = false;
    socket.onopen = () => {
      if (socket.protocol && socket.protocol !== PROTOCOL) {
        socket.close(4400, 'Unsupported subprotocol');
        return;
      }
      this.send({ type: 'connection_init', payload: this.connectionParams });
    };
    socket.onmessage = (ev) => this.receive(socket, ev.data);
    socket.onclose = (ev) => {
      if (this.socket === socket) this.closed(ev.code, ev.reason);
    };
    socket.onerror = () => { /* onclose follows with the code */ };
    this.timers.ack = setTimeout(() => {
      if (this.socket === socket && !this.acked) {
        socket.close(4408, 'Connection acknowledgement timeout');
        this.closed(4408, 'no connection_ack from the server');
      }
    }, this.ackTimeoutMs);
  }

  send(message) {
    if (this.socket && this.socket.readyState === 1) this.socket.send(JSON.stringify(message));
  }

  sendSubscribe(id) {
    const sub = this.subs.get(id);
    if (!sub || sub.sent) return;
    sub.sent = true;
    this.send({ id, type: 'subscribe', payload: sub.payload });
  }

  receive(socket, raw) {
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch (e) {
      msg = null;
    }
    if (!msg || typeof msg.type !== 'string') {
      socket.close(4400, 'Invalid message received');
      this.closed(4400, 'the server sent a message that is not graphql-transport-ws');
      return;
    }
    if (this.onMessage) this.onMessage(msg);
    switch (msg.type) {
      case 'connection_ack':
        this.acked = true;
        clearTimeout(this.timers.ack);
        this.startPinging();
        for (const id of this.subs.keys()) this.sendSubscribe(id);
        for (const fn of this.afterAck.splice(0)) fn();
        break;
      case 'ping':
        this.send(msg.payload !== undefined ? { type: 'pong', payload: msg.payload } : { type: 'pong' });
        break;
      case 'pong': {
        const marker = msg.payload && msg.payload.marker;
        const at = marker ? this.pings.findIndex((p) => p && p.marker === marker) : 0;
        const [answered] = at >= 0 ? this.pings.splice(at, 1) : [];
        if (answered) answered.resolve();
        break;
      }
      case 'next': {
        const sub = this.subs.get(msg.id);
        if (!sub) break;
        const result = msg.payload || {};
        if (Array.isArray(result.errors) && result.errors.length && !result.data) {
          this.finish(msg.id, 'error', errorFromGraphQL(result.errors));
          this.send({ id: msg.id, type: 'complete' });
        } else if (sub.sink.next) {
          sub.sink.next(result.data, result);
        }
        break;
      }
      case 'error':
        this.finish(msg.id, 'error', errorFromGraphQL(Array.isArray(msg.payload) ? msg.payload : [msg.payload]));
        break;
      case 'complete':
        this.finish(msg.id, 'complete');
        break;
      default:
        socket.close(4400, `Unexpected message type ${msg.type}`);
        this.closed(4400, `unexpected message type ${msg.type}`);
    }
  }

  /** Ends one subscription and tells its sink (once). */
  finish(id, how, error) {
    const sub = this.subs.get(id);
    if (!sub) return;
    this.subs.delete(id);
    if (how === 'error') {
      if (sub.sink.error) sub.sink.error(error);
    } else if (sub.sink.complete) {
      sub.sink.complete();
    }
    this.idleSoon();
  }

  stop(id) {
    const sub = this.subs.get(id);
    if (!sub) return;
    this.subs.delete(id);
    if (sub.sent) this.send({ id, type: 'complete' });
    this.idleSoon();
  }

  idleSoon() {
    if (this.subs.size || !this.socket) return;
    clearTimeout(this.timers.idle);
    this.timers.idle = setTimeout(() => {
      if (!this.subs.size && this.socket) {
        const socket = this.socket;
        this.reset();
        socket.close(1000, 'Normal Closure');
      }
    }, this.lazyCloseMs);
  }

  startPinging() {
    clearInterval(this.timers.ping);
    this.timers.ping = setInterval(() => {
      this.pings.push(null);
      this.send({ type: 'ping' });
    }, this.pingIntervalMs);
  }

  reset() {
    clearTimeout(this.timers.ack);
    clearInterval(this.timers.ping);
    clearTimeout(this.timers.idle);
    if (this.socket) {
      this.socket.onopen = null;
      this.socket.onmessage = null;
      this.socket.onclose = null;
      this.socket.onerror = null;
    }
    this.socket = null;
    this.acked = false;
  }

  /** The socket is gone: every subscription ends with an error that says why. */
  closed(code, reason) {
    const wasAcked = this.acked;
    this.reset();
    const error = closeError(code, reason, wasAcked);
    const subs = [...this.subs.keys()];
    for (const id of subs) this.finish(id, 'error', error);
    for (const p of this.pings.splice(0)) if (p) p.reject(error);
    this.afterAck = [];
  }
}

/** The ApiError for a socket closed with `code`. */
export function closeError(code, reason, acked) {
  const extra = (e) => Object.assign(e, { closeCode: code, reason: reason || '' });
  if (code === 4401) return extra(new ApiError(reason || 'session ended', 'UNAUTHENTICATED'));
  if (code === 4403) return extra(new ApiError(reason || 'forbidden', 'FORBIDDEN'));
  if (!acked) return extra(new ApiError(reason || `websocket closed (${code})`, 'WS_UNAVAILABLE'));
  return extra(new ApiError(reason || `websocket closed (${code})`, 'WS_CLOSED'));
}
