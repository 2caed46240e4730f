// Circle client library: one WebSocket to a Circle room, a local copy of the room kept in step with the server's
// sequence numbers, automatic resume after a drop, and a promise-returning method for every command.
// Dependency-free ES module; the wire protocol is Docs/PROTOCOL.md, this API is Docs/CLIENT.md.

/** The WebSocket subprotocol Circle speaks; the token rides beside it as `bearer.<token>`. */
export const SUBPROTOCOL = 'circle';

/** The wire protocol version this library speaks (PROTOCOL.md §14); the welcome's `protocol` must match it. */
export const PROTOCOL_VERSION = 2;

/** Close codes after which the client does not reconnect by itself (PROTOCOL.md §10). */
const FINAL_CLOSE_CODES = new Set([1007, 1009, 4000, 4001, 4002, 4003, 4004]);

/** A command that failed: `code` is the protocol's error code, or one of the client's own
 * (`not_connected`, `disconnected`, `timeout`, `unsupported_protocol`). */
export class CircleError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = 'CircleError';
    this.code = code;
  }
}

/** The room as the server last described it, rebuilt from the welcome and every event since. */
export class RoomState {
  constructor() {
    this.phase = 'intro';
    this.silenceReturnsTo = undefined;
    /** @type {Map<string, object>} participant id → record, in join order. */
    this.participants = new Map();
    this.queue = [];
    this.queuePolicy = 'fifo';
    /** Who holds the floor, if anyone. */
    this.speaker = undefined;
    this.turnLengthMs = undefined;
    this.round = [];
    this.pacing = { turnLengthMs: undefined, nudgeBeforeMs: 0, autoAdvance: false };
    this.locked = false;
    this.ended = false;
    /** Local clock (`performance.now()`) when the silence ends; undefined outside silence. */
    this.silenceEndsAt = undefined;
    /** Local clock when the current turn started. */
    this.turnStartedAt = undefined;
  }

  static fromSnapshot(s, now) {
    const room = new RoomState();
    room.phase = s.phase;
    room.silenceReturnsTo = s.silence_returns_to;
    for (const p of s.participants) room.participants.set(p.participant, participantFromWire(p));
    room.queue = s.queue.slice();
    room.queuePolicy = s.queue_policy;
    room.speaker = s.speaker;
    room.turnLengthMs = s.turn_length_ms;
    room.round = s.round.map((r) => ({ participant: r.participant, status: r.status }));
    room.pacing = pacingFromWire(s.pacing);
    room.locked = s.locked;
    room.ended = s.phase === 'ended';
    if (s.speaker !== undefined) room.turnStartedAt = now;
    return room;
  }

  /** The speaker under its version 1 name; use `speaker`. */
  get floor() { return this.speaker; }

  /** Applies one sequenced event (already checked to be the next one). */
  apply(e, now) {
    switch (e.type) {
      case 'participant_joined': this.participants.set(e.participant, participantFromWire(e)); break;
      case 'participant_left': this.participants.delete(e.participant); break;
      case 'connection_changed': this.update(e.participant, { connection: e.connection }); break;
      case 'media_changed': this.update(e.participant, { mic: e.mic, camera: e.camera }); break;
      case 'mute_changed': for (const id of e.participants) this.update(id, { muted: e.muted }); break;
      case 'role_changed': this.update(e.participant, { role: e.role }); break;
      case 'queue_changed': this.queue = e.queue.slice(); this.queuePolicy = e.queue_policy; break;
      case 'floor_given':
        this.speaker = e.speaker;
        this.turnLengthMs = e.turn_length_ms;
        this.turnStartedAt = now;
        break;
      case 'turn_ended':
        this.speaker = undefined;
        this.turnLengthMs = undefined;
        this.turnStartedAt = undefined;
        break;
      case 'round_changed': this.round = e.round.map((r) => ({ participant: r.participant, status: r.status })); break;
      case 'phase_changed':
        if (e.phase === 'silence') {
          // The event says where the silence returns (absent only in a log a version 1 server wrote).
          this.silenceReturnsTo = e.silence_returns_to ?? this.phase;
          this.silenceEndsAt = now + e.silence_ms;
        } else {
          this.silenceReturnsTo = undefined;
          this.silenceEndsAt = undefined;
        }
        this.phase = e.phase;
        this.ended = e.phase === 'ended';
        break;
      case 'pacing_changed': this.pacing = pacingFromWire(e.pacing); break;
      case 'lock_changed': this.locked = e.locked; break;
      case 'session_ended': this.phase = 'ended'; this.ended = true; break;
      default: break; // an event type newer than this library: its seq still counts
    }
  }

  update(id, fields) {
    const p = this.participants.get(id);
    if (p) Object.assign(p, fields);
  }

  /** The 0-based place of `id` in the queue, or -1. */
  queuePosition(id) { return this.queue.indexOf(id); }

  /** Milliseconds left in the silence by the local clock, or undefined. */
  silenceLeftMs(now = performance.now()) {
    return this.silenceEndsAt === undefined ? undefined : Math.max(0, this.silenceEndsAt - now);
  }

  /** Milliseconds left in a paced turn by the local clock, or undefined when unpaced or free. */
  turnLeftMs(now = performance.now()) {
    if (this.turnLengthMs === undefined || this.turnStartedAt === undefined) return undefined;
    return Math.max(0, this.turnStartedAt + this.turnLengthMs - now);
  }
}

function participantFromWire(p) {
  return {
    id: p.participant, name: p.name, role: p.role, connection: p.connection,
    mic: p.mic, camera: p.camera, muted: p.muted,
  };
}

function pacingFromWire(p) {
  return { turnLengthMs: p.turn_length_ms, nudgeBeforeMs: p.nudge_before_ms, autoAdvance: p.auto_advance };
}

/**
 * One participant's connection to one room.
 *
 * Events (`client.on(type, listener)` returns an unsubscribe function):
 * - `state` `{state, previous}` — `idle` → `connecting` → (`waiting` →) `open` → `reconnecting` → … → `closed`
 * - `waiting` `{participant, role}` — early: the session has not opened; `welcome` follows when a facilitator opens it
 * - `welcome` `{participant, role, resumed, fresh}` — joined or resumed (`fresh`: a new snapshot replaced the room)
 * - `room` `{room, event?}` — after the welcome and after every event; `room` is `client.room`
 * - `event` `{event}` and the event's own `type` (`participant_joined`, `queue_changed`, …) with the raw event
 * - direct messages by type: `signal`, `reaction`, `private_word`, `private_word_seen`, `turn_nudge`, `turn_time_up`,
 *   `mute_request`, `stats`
 * - `removed` `{message}` — a facilitator removed you from this session (or a rejoin was refused because of it);
 *   the close 4001 follows and the client does not reconnect
 * - `error` `{code, message}` — an error with no pending request (a refused join, a command sent without waiting,
 *   a server that speaks another protocol version: `unsupported_protocol`)
 * - `closed` `{code, reason, willReconnect, delayMs?}` — every socket close
 */
export class CircleClient {
  /**
   * @param {object} options
   * @param {string} options.room room id
   * @param {string} options.token the participant's access token (JWT)
   * @param {string} [options.url] base URL of the server, `ws(s)://host[:port]`; default: this page's origin
   * @param {object} [options.reconnect] `{initialDelayMs = 500, maxDelayMs = 15000, factor = 2, maxAttempts = Infinity}`
   * @param {number} [options.requestTimeoutMs = 10000] how long a command waits for its ack
   * @param {typeof WebSocket} [options.WebSocket] a WebSocket implementation (default: the global one)
   * @param {'protocol'|'query'} [options.tokenIn = 'protocol'] how the token travels when the socket opens: in the
   *   `Sec-WebSocket-Protocol` header (`circle, bearer.<token>`, kept out of URLs and the browser's console), or
   *   in the URL's `access_token` query parameter (for servers or proxies that do not pass the header)
   */
  constructor(options) {
    if (!options || !options.room || !options.token) throw new TypeError('CircleClient needs a room and a token');
    this.roomId = options.room;
    this.token = options.token;
    this.baseURL = options.url || defaultBaseURL();
    this.reconnectOptions = { initialDelayMs: 500, maxDelayMs: 15000, factor: 2, maxAttempts: Infinity,
      ...(options.reconnect || {}) };
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10000;
    this.WebSocketImpl = options.WebSocket || globalThis.WebSocket;
    this.tokenIn = options.tokenIn ?? 'protocol';
    if (this.tokenIn !== 'protocol' && this.tokenIn !== 'query') throw new TypeError('tokenIn: protocol or query');

    /** @type {RoomState} */
    this.room = new RoomState();
    /** The last sequence number applied; 0 before the first welcome. */
    this.seq = 0;
    /** The room's epoch from the last welcome (a restored room that lost events has a new one); sent on resume. */
    this.epoch = undefined;
    /** Your participant id and role, from the welcome. */
    this.participant = undefined;
    this.role = undefined;
    this.state = 'idle';

    this.listeners = new Map();
    this.socket = null;
    this.pending = new Map();
    this.nextRequest = 1;
    this.attempt = 0;
    this.timer = null;
    this.welcomed = false;
    this.finished = false;
    this.leaving = false;
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────────────────────────

  /** Opens the connection (and keeps it open, reconnecting after drops) until `leave()` or `close()`. */
  connect() {
    if (this.state !== 'idle') return;
    this.open();
  }

  /** Leaves the session for good (others see `participant_left`). Resolves once the server acknowledges. */
  leave() {
    this.leaving = true;
    return this.send({ type: 'leave' });
  }

  /** Stops without leaving: the socket closes, the seat is kept for the server's grace period, no reconnect. */
  close() {
    this.finish();
    if (this.socket) this.socket.close(1000, 'closed');
  }

  /**
   * Drops the socket as a network failure would — the server keeps the seat for its grace period — and reconnects
   * after `reconnectAfterMs` (default: the usual backoff), resuming from the last sequence number.
   */
  dropConnection(reconnectAfterMs) {
    if (!this.socket || this.finished) return;
    this.forcedDelayMs = reconnectAfterMs;
    this.socket.close(4100, 'dropped by client');
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on(type, listener) {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  emit(type, detail) {
    const set = this.listeners.get(type);
    if (!set) return;
    for (const listener of [...set]) {
      try { listener(detail); } catch (err) { queueMicrotask(() => { throw err; }); }
    }
  }

  setState(state) {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this.emit('state', { state, previous });
  }

  /** The room's URL; with the query form, the token is in it. */
  socketURL() {
    const params = new URLSearchParams();
    if (this.tokenIn === 'query') params.set('access_token', this.token);
    if (this.welcomed && this.seq > 0) params.set('since', String(this.seq));
    if (this.welcomed && this.seq > 0 && this.epoch !== undefined) params.set('epoch', String(this.epoch));
    const query = params.toString();
    return `${this.baseURL}/rooms/${encodeURIComponent(this.roomId)}${query ? '?' + query : ''}`;
  }

  open() {
    clearTimeout(this.timer);
    this.timer = null;
    this.setState(this.welcomed ? 'reconnecting' : 'connecting');
    const socket = this.tokenIn === 'protocol'
      ? new this.WebSocketImpl(this.socketURL(), [SUBPROTOCOL, `bearer.${this.token}`])
      : new this.WebSocketImpl(this.socketURL());
    this.socket = socket;
    let opened = false;
    socket.onopen = () => { opened = true; };
    socket.onmessage = (m) => { if (socket === this.socket) this.receive(m.data); };
    socket.onclose = (e) => { if (socket === this.socket) this.closed(e.code, e.reason, opened); };
  }

  closed(code, reason, opened) {
    this.socket = null;
    this.failPending('disconnected', 'the connection closed before an answer');
    const ended = this.leaving || this.room.ended;
    let willReconnect = !this.finished && !ended && !FINAL_CLOSE_CODES.has(code)
      && this.attempt < this.reconnectOptions.maxAttempts;
    if (!willReconnect) {
      this.emit('closed', { code, reason, willReconnect: false });
      this.finish();
      return;
    }
    const delayMs = this.forcedDelayMs ?? this.backoff();
    this.forcedDelayMs = undefined;
    this.attempt += 1;
    this.setState('reconnecting');
    this.emit('closed', { code, reason, willReconnect: true, delayMs });
    if (!opened) {
      // The upgrade was refused; a plain GET of the same URL tells a bad token (401) from a network failure.
      this.probe().then((refusal) => {
        if (!refusal || this.finished) return;
        clearTimeout(this.timer);
        this.emit('error', refusal);
        this.finish();
      });
    }
    this.timer = setTimeout(() => { if (!this.finished) this.open(); }, delayMs);
  }

  /** Jittered exponential backoff: a random delay in [d/2, d], d = initial × factor^attempt, capped. */
  backoff() {
    const { initialDelayMs, maxDelayMs, factor } = this.reconnectOptions;
    const d = Math.min(maxDelayMs, initialDelayMs * factor ** this.attempt);
    return Math.round(d / 2 + Math.random() * d / 2);
  }

  /**
   * Asks the server, without joining, whether it would refuse this token: resolves `{code, message}` with code
   * `unauthorized` (bad, expired or wrong-room token) or `not_found`, or null when it would not refuse or could
   * not be asked (network, or a page on an origin the server's CORS does not allow).
   */
  checkAccess() { return this.probe(); }

  /** A plain GET of the room URL with the token as `Authorization: Bearer`: 401 and 404 say why a join fails. */
  async probe() {
    if (typeof fetch !== 'function') return null;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 5000);
    try {
      const url = `${this.baseURL}/rooms/${encodeURIComponent(this.roomId)}`.replace(/^ws/, 'http');
      const response = await fetch(url, {
        cache: 'no-store', signal: controller.signal, credentials: 'omit', referrerPolicy: 'no-referrer',
        headers: { Authorization: `Bearer ${this.token}` },
      });
      if (response.status !== 401 && response.status !== 404) return null;
      const reason = (await response.text()).trim().slice(0, 200);
      return { code: response.status === 401 ? 'unauthorized' : 'not_found', message: reason };
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  finish() {
    this.finished = true;
    clearTimeout(this.timer);
    this.timer = null;
    this.failPending('disconnected', 'the client closed');
    this.setState('closed');
  }

  // ── receiving ─────────────────────────────────────────────────────────────────────────────────

  receive(text) {
    let m;
    try { m = JSON.parse(text); } catch { return; }
    if (!m || typeof m.type !== 'string') return;
    if (m.type === 'welcome') return this.welcome(m);
    if (m.type === 'ack') return this.settle(m.id, null);
    if (m.type === 'error') {
      if (m.id !== undefined && this.pending.has(m.id)) return this.settle(m.id, new CircleError(m.code, m.message));
      if (m.code === 'removed') return this.emit('removed', { message: m.message });
      return this.emit('error', { code: m.code, message: m.message });
    }
    if (typeof m.seq === 'number') return this.event(m);
    this.emit(m.type, m); // direct messages: signal, reaction, private_word(_seen), turn_nudge, mute_request, …
  }

  welcome(w) {
    if (w.protocol !== PROTOCOL_VERSION) {
      // Another version's names would be misread: stop, and say why (a welcome without `protocol` is version 1).
      this.emit('error', { code: 'unsupported_protocol',
        message: `the server speaks protocol ${w.protocol ?? 1}; this client speaks ${PROTOCOL_VERSION}` });
      const socket = this.socket;
      this.finish();
      if (socket) socket.close(1000, 'unsupported protocol');
      return;
    }
    if (w.state === 'waiting_for_facilitator') {
      // Early: the group's session has not opened. The full welcome follows on this socket when it does.
      this.participant = w.participant;
      this.role = w.role;
      this.attempt = 0;
      this.setState('waiting');
      this.emit('waiting', { participant: w.participant, role: w.role });
      return;
    }
    const now = performance.now();
    // A snapshot replaces the room whole: a new join, a resume whose events left the log, or a room restored
    // after a crash (another epoch) — the server never leaves a silent gap.
    const fresh = w.snapshot !== undefined;
    if (w.epoch !== undefined) this.epoch = w.epoch;
    if (fresh) {
      this.room = RoomState.fromSnapshot(w.snapshot, now);
    } else {
      for (const e of w.replay) {
        if (e.seq !== this.seq + 1) return this.resync();
        this.room.apply(e, now);
        this.seq = e.seq;
      }
    }
    if (w.time_left.silence_ms !== undefined) this.room.silenceEndsAt = now + w.time_left.silence_ms;
    if (w.time_left.turn_ms !== undefined && this.room.turnLengthMs !== undefined) {
      this.room.turnStartedAt = now - (this.room.turnLengthMs - w.time_left.turn_ms);
    }
    this.seq = w.seq;
    this.participant = w.participant;
    this.role = w.role;
    this.welcomed = true;
    this.attempt = 0;
    this.setState('open');
    this.emit('welcome', { participant: w.participant, role: w.role, resumed: w.resumed, fresh });
    if (!fresh) for (const e of w.replay) this.emitEvent(e);
    this.emit('room', { room: this.room });
  }

  event(e) {
    if (e.seq <= this.seq) return;                   // already applied (cannot happen on one socket; harmless)
    if (e.seq !== this.seq + 1) return this.resync(); // a gap: resume from what we have and let the server replay
    this.room.apply(e, performance.now());
    this.seq = e.seq;
    this.emitEvent(e);
    this.emit('room', { room: this.room, event: e });
  }

  emitEvent(e) {
    this.emit('event', { event: e });
    this.emit(e.type, e);
  }

  /** Out of step with the server: reconnect at once with the last good `seq`; the welcome replays the rest. */
  resync() {
    this.forcedDelayMs = 0;
    if (this.socket) this.socket.close(4101, 'resync');
  }

  // ── commands ──────────────────────────────────────────────────────────────────────────────────

  /** Sends any command object; resolves on its `ack`, rejects with a `CircleError`. */
  send(command) {
    const socket = this.socket;
    if (!socket || socket.readyState !== 1 || this.state !== 'open') {
      return Promise.reject(new CircleError('not_connected', 'not connected'));
    }
    const id = `c${this.nextRequest++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, new CircleError('timeout', 'no answer in time')),
        this.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      socket.send(JSON.stringify({ ...command, id }));
    });
  }

  settle(id, error) {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (error) p.reject(error); else p.resolve();
  }

  failPending(code, message) {
    for (const id of [...this.pending.keys()]) this.settle(id, new CircleError(code, message));
  }

  /** Reports your devices. */
  media({ mic, camera }) {
    const c = { type: 'media' };
    if (mic !== undefined) c.mic = mic;
    if (camera !== undefined) c.camera = camera;
    return this.send(c);
  }
  raiseHand() { return this.send({ type: 'raise_hand' }); }
  lowerHand() { return this.send({ type: 'lower_hand' }); }
  pass() { return this.send({ type: 'pass' }); }
  endTurn() { return this.send({ type: 'end_turn' }); }
  reaction(kind) { return this.send({ type: 'reaction', kind }); }
  /** "I need a moment", to the facilitators only. */
  privateWord(text) { return this.send(text ? { type: 'private_word', text } : { type: 'private_word' }); }
  /** Relays `payload` (any JSON value) to one participant. */
  signal(to, payload) { return this.send({ type: 'signal', to, payload }); }
  /** Relays `payload` to every other connected participant. */
  signalAll(payload) { return this.send({ type: 'signal', to_all: true, payload }); }

  setPhase(phase) { return this.send({ type: 'set_phase', phase }); }
  advanceRound() { return this.send({ type: 'advance_round' }); }
  startSilence(silenceMs) { return this.send({ type: 'start_silence', silence_ms: silenceMs }); }
  endSilence() { return this.send({ type: 'end_silence' }); }
  /** To `participant`, or with none to the head of the queue. */
  giveFloor(participant) {
    return this.send(participant === undefined ? { type: 'give_floor' } : { type: 'give_floor', participant });
  }
  moveInQueue(participant, position) { return this.send({ type: 'move_in_queue', participant, position }); }
  removeFromQueue(participant) { return this.send({ type: 'remove_from_queue', participant }); }
  clearQueue() { return this.send({ type: 'clear_queue' }); }
  setQueuePolicy(queuePolicy) { return this.send({ type: 'set_queue_policy', queue_policy: queuePolicy }); }
  setPacing({ turnLengthMs, nudgeBeforeMs, autoAdvance }) {
    const c = { type: 'set_pacing', nudge_before_ms: nudgeBeforeMs, auto_advance: autoAdvance };
    if (turnLengthMs !== undefined) c.turn_length_ms = turnLengthMs;
    return this.send(c);
  }
  mute(participant) { return this.send({ type: 'mute', participant }); }
  unmute(participant) { return this.send({ type: 'unmute', participant }); }
  muteAllButSpeaker() { return this.send({ type: 'mute_all_but_speaker' }); }
  lock() { return this.send({ type: 'lock' }); }
  unlock() { return this.send({ type: 'unlock' }); }
  remove(participant) { return this.send({ type: 'remove', participant }); }
  promote(participant) { return this.send({ type: 'promote', participant }); }
  endSession() { return this.send({ type: 'end_session' }); }

  /** Speaking time per participant: resolves with the `stats` array (`participant`, `turns`, `passes`, `spoken_ms`). */
  /** Tells a member their private word was seen (they and the other facilitators get `private_word_seen`). */
  privateWordSeen(participant) { return this.send({ type: 'private_word_seen', participant }); }

  requestStats() {
    return new Promise((resolve, reject) => {
      const off = this.on('stats', (m) => { off(); resolve(m.stats); });
      this.send({ type: 'request_stats' }).catch((err) => { off(); reject(err); });
    });
  }
}

function defaultBaseURL() {
  if (typeof location === 'undefined') throw new TypeError('CircleClient needs options.url outside a browser');
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
}
