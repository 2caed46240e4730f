// The Circle session app: participant view and facilitator console, on the client library alone.
// Video is a WebRTC mesh between the participants (fine up to about 8); all signaling goes through Circle.
import { CircleClient } from './circle.js';

const $ = (id) => document.getElementById(id);
const VIDEO = { width: 640, height: 360 };
const FACILITATORS = new Set(['facilitator', 'cofacilitator']);
const RANK = { observer: 0, member: 1, cofacilitator: 2, facilitator: 3 };
const ROLE_LABEL = { facilitator: 'facilitator', cofacilitator: 'co-facilitator', member: '', observer: 'observer' };
const PHASE_LABEL = {
  intro: 'Introductions', sharing: 'Open sharing', silence: 'Silence', close: 'Closing round', ended: 'Session ended',
};
const REFUSALS = {
  4000: 'This session is now open in another window or tab.',
  4001: 'The facilitator has closed your place in this session.',
  4002: 'The room is locked for now. Please try again in a little while.',
  4003: 'The room is full right now. Please try again in a little while.',
  4004: 'This session has already ended.',
};
const REMOVED_TEXT = 'The facilitator has closed your place in this session. If this feels unexpected, you are '
  + 'welcome to reach out to them after the session.';
const GENTLE_ERRORS = {
  muted: 'Your microphone is held muted by the facilitator for now.',
  rate_limited: 'Let’s slow down a little — try again in a moment.',
  not_connected: 'Reconnecting… try again in a moment.',
  disconnected: 'The connection dropped; reconnecting.',
  not_found: 'That person is not connected right now.',
  reconnecting: 'They are reconnecting — try again in a moment.',
  wrong_phase: 'That is not available in this part of the session.',
  conflict: 'That has already happened.',
};

// ── link ─────────────────────────────────────────────────────────────────────────────────────────

/** The room and token from `?room=…&token=…` or `#room=…&token=…`, kept for this tab only, then hidden from the
 * address bar so it does not show on a shared screen. */
function readLink() {
  const fromURL = new URLSearchParams(location.hash.slice(1) || location.search.slice(1));
  let room = fromURL.get('room');
  let token = fromURL.get('token');
  if (room && token) {
    sessionStorage.setItem('circle.link', JSON.stringify({ room, token }));
    history.replaceState(null, '', '/');
  } else {
    try { ({ room, token } = JSON.parse(sessionStorage.getItem('circle.link') || '{}')); } catch { /* no link */ }
  }
  return room && token ? { room, token } : null;
}

// ── local media ──────────────────────────────────────────────────────────────────────────────────

class LocalMedia {
  constructor() {
    this.stream = new MediaStream();
    this.mic = null;
    this.camera = null;
  }

  async start() {
    try {
      const s = await navigator.mediaDevices.getUserMedia({ audio: true, video: VIDEO });
      this.stream = s;
      this.mic = s.getAudioTracks()[0] || null;
      this.camera = s.getVideoTracks()[0] || null;
      this.hadCamera = !!this.camera;
    } catch {
      // No devices or no permission: try the mic alone; the session works either way.
      try {
        this.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        this.mic = this.stream.getAudioTracks()[0] || null;
      } catch { /* others are still seen and heard */ }
    }
  }

  /** Turns the camera's light off: the track is stopped, not just withheld. */
  releaseCamera() {
    if (!this.camera) return;
    this.camera.stop();
    this.stream.removeTrack(this.camera);
    this.camera = null;
  }

  /** Gets the camera again after `releaseCamera()`; false when it cannot. */
  async reacquireCamera() {
    if (this.camera) return true;
    try {
      const s = await navigator.mediaDevices.getUserMedia({ video: VIDEO });
      this.camera = s.getVideoTracks()[0] || null;
      if (this.camera) this.stream.addTrack(this.camera);
    } catch { /* stays off */ }
    return !!this.camera;
  }

  get canCamera() { return !!this.camera || !!this.hadCamera; }

  stop() { for (const t of this.stream.getTracks()) t.stop(); }
}

// ── peers ────────────────────────────────────────────────────────────────────────────────────────

/**
 * One WebRTC connection to another participant. Of each pair, the participant with the smaller id makes the offer;
 * every payload carries the sender page's `instance`, so a reloaded page is told from a resumed one.
 */
class Peer {
  constructor(app, id, instance) {
    this.app = app;
    this.id = id;
    this.instance = instance;
    this.pc = new RTCPeerConnection({ iceServers: [] });
    this.remote = new MediaStream();
    this.pendingCandidates = [];
    this.outbox = [];
    this.flushTimer = null;
    /** The audio and video transceivers: made here by the offerer, taken from the offer by the answerer. */
    this.audio = null;
    this.video = null;
    this.pc.ontrack = (e) => {
      this.remote.addTrack(e.track);
      app.attachRemote(this);
    };
    this.pc.onicecandidate = (e) => { if (e.candidate) this.queueCandidate(e.candidate.toJSON()); };
    this.pc.onconnectionstatechange = () => app.render();
  }

  get state() { return this.pc.connectionState; }

  /** Sends or withholds the mic and camera: a track that is off sends no packets at all. */
  applyLocalMedia() {
    const { media, micOn, cameraOn } = this.app;
    this.audio?.sender.replaceTrack(micOn ? media.mic : null).catch(() => {});
    this.video?.sender.replaceTrack(cameraOn ? media.camera : null).catch(() => {});
  }

  async offer() {
    const stream = this.app.media.stream;
    this.audio = this.pc.addTransceiver('audio', { direction: 'sendrecv', streams: [stream] });
    this.video = this.pc.addTransceiver('video', { direction: 'sendrecv', streams: [stream] });
    this.applyLocalMedia();
    await this.pc.setLocalDescription(await this.pc.createOffer());
    this.send({ kind: 'offer', sdp: this.pc.localDescription.sdp });
  }

  async receive(p) {
    if (p.kind === 'offer') {
      await this.pc.setRemoteDescription({ type: 'offer', sdp: p.sdp });
      for (const t of this.pc.getTransceivers()) {
        if (t.receiver.track.kind === 'audio') this.audio ??= t; else this.video ??= t;
        t.direction = 'sendrecv';
        t.sender.setStreams(this.app.media.stream);
      }
      this.applyLocalMedia();
      await this.drainCandidates();
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      this.send({ kind: 'answer', sdp: this.pc.localDescription.sdp });
    } else if (p.kind === 'answer') {
      if (this.pc.signalingState !== 'have-local-offer') return;
      await this.pc.setRemoteDescription({ type: 'answer', sdp: p.sdp });
      await this.drainCandidates();
    } else if (p.kind === 'candidates' && Array.isArray(p.list)) {
      this.pendingCandidates.push(...p.list);
      if (this.pc.remoteDescription) await this.drainCandidates();
    }
  }

  async drainCandidates() {
    const list = this.pendingCandidates.splice(0);
    for (const c of list) await this.pc.addIceCandidate(c).catch(() => {});
  }

  /** Candidates go out in small batches, to stay well inside the server's message rate. */
  queueCandidate(candidate) {
    this.outbox.push(candidate);
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.send({ kind: 'candidates', list: this.outbox.splice(0) });
      }, 60);
    }
  }

  send(payload) {
    this.app.client.signal(this.id, { ...payload, instance: this.app.instance }).catch(() => {});
  }

  close() {
    clearTimeout(this.flushTimer);
    this.pc.close();
  }
}

// ── the app ──────────────────────────────────────────────────────────────────────────────────────

class SessionApp {
  constructor(link) {
    this.client = new CircleClient({ room: link.room, token: link.token });
    this.media = new LocalMedia();
    this.instance = crypto.getRandomValues(new Uint32Array(2)).join('-');
    /** @type {Map<string, Peer>} */
    this.peers = new Map();
    this.micOn = true;
    this.cameraOn = true;
    this.spoken = new Map();
    this.privateWords = [];
    this.tiles = new Map();
    this.renderQueued = false;
    this.greeted = false;
    /** Private words the facilitator has not yet marked as seen, newest first. */
    this.unseen = [];
  }

  get room() { return this.client.room; }
  get me() { return this.room.participants.get(this.client.participant); }
  get isFacilitator() { return FACILITATORS.has(this.client.role); }
  name(id) { return this.room.participants.get(id)?.name ?? 'Someone'; }

  /** Checks the link, then offers the pre-join step; joining connects. */
  async start() {
    this.bindControls();
    // A link that looks expired by this device's clock is confirmed with the server (clocks can be wrong), so the
    // person learns it before getting ready, not after. Other refusals show when joining.
    if (tokenClaim(this.client.token, 'exp') * 1000 < Date.now()) {
      const refusal = await this.client.checkAccess();
      if (refusal) return this.refused(refusal);
    }
    await this.prejoin();
  }

  /** A preview of the camera, the mic's level, and the choice to join with either off. */
  async prejoin() {
    $('prejoin').hidden = false;
    $('join').disabled = true;  // until the devices have answered
    const name = tokenClaim(this.client.token, 'name');
    if (name) $('prejoin-hello').textContent = `Hello, ${name}. Take a moment to get comfortable.`;
    await this.media.start();
    this.micOn = !!this.media.mic;
    this.cameraOn = !!this.media.camera;
    const video = $('preview-video');
    video.srcObject = this.media.stream;
    const stopMeter = levelMeter(this.media.stream, (level) => {
      $('level').value = level;
    });
    const show = () => {
      setToggle($('pre-mic'), this.micOn, this.micOn ? 'on' : 'off', !this.media.mic);
      setToggle($('pre-camera'), this.cameraOn, this.cameraOn ? 'on' : 'off', !this.media.camera);
      $('preview-off').hidden = this.cameraOn;
      if (!this.media.camera) $('preview-off').textContent = 'No camera found. Others will see your initial.';
    };
    show();
    $('join').disabled = false;
    $('pre-mic').addEventListener('click', () => { this.micOn = !this.micOn && !!this.media.mic; show(); });
    $('pre-camera').addEventListener('click', () => { this.cameraOn = !this.cameraOn && !!this.media.camera; show(); });
    await new Promise((resolve) => $('join').addEventListener('click', resolve, { once: true }));
    stopMeter();
    video.srcObject = null;
    if (!this.cameraOn) this.media.releaseCamera();
    $('prejoin').hidden = true;
    this.join();
  }

  join() {
    const c = this.client;
    c.on('state', ({ state }) => this.showConnection(state));
    c.on('welcome', (w) => this.welcomed(w));
    c.on('room', () => this.roomChanged());
    c.on('participant_left', (e) => this.dropPeer(e.participant));
    c.on('mute_request', (m) => this.muteRequested(m.reason));
    c.on('mute_changed', (e) => { if (e.participants.includes(c.participant) && !e.muted) this.say('Your microphone is yours again.'); });
    c.on('floor_given', (e) => { if (e.speaker === c.participant) this.say('You have the floor. Take your time.'); });
    c.on('turn_nudge', (m) => this.nudged(m));
    c.on('signal', (m) => this.signaled(m.from, m.payload));
    c.on('reaction', (m) => this.reacted(m.from, m.kind));
    c.on('private_word', (m) => this.privateWord(m));
    c.on('private_word_seen', (m) => this.privateWordSeen(m));
    c.on('stats', (m) => { for (const s of m.stats) this.spoken.set(s.participant, s.spoken_ms); this.render(); });
    c.on('error', (e) => {
      if (e.code === 'unauthorized' || e.code === 'not_found') return this.refused(e);
      this.say(GENTLE_ERRORS[e.code] || 'Something did not work.');
    });
    c.on('removed', () => this.showGate('You are no longer in this session', REMOVED_TEXT));
    c.on('closed', (e) => this.closed(e));
    c.connect();
    setInterval(() => this.tick(), 1000);
  }

  // ── server → page ──

  welcomed(w) {
    if (this.me?.muted || (!this.greeted && this.room.phase === 'silence')) this.micOn = false;
    for (const peer of this.peers.values()) peer.applyLocalMedia();
    this.reportMedia();
    if (w.fresh && w.resumed) for (const id of [...this.peers.keys()]) this.dropPeer(id);
    if (!this.greeted || w.fresh) {
      this.greeted = true;
      this.client.signalAll({ kind: 'hello', instance: this.instance }).catch(() => {});
    }
  }

  roomChanged() {
    const me = this.me;
    if (this.lastPhase === 'silence' && this.room.phase !== 'silence' && !this.room.ended) {
      this.say('The silence has ended. Your microphone is yours again whenever you are ready.');
    }
    this.lastPhase = this.room.phase;
    if (me?.muted && this.micOn) this.setMic(false);
    for (const id of [...this.peers.keys()]) if (!this.room.participants.has(id)) this.dropPeer(id);
    if (this.room.phase !== 'silence') $('silence').hidden = true;
    if (this.room.ended) this.ended();
    this.render();
  }

  muteRequested(reason) {
    this.setMic(false);
    this.say(reason === 'silence'
      ? 'A moment of silence. Your microphone is off; it is yours again when the silence ends.'
      : 'The facilitator has muted your microphone for now.');
  }

  nudged(m) {
    const mine = m.speaker === this.client.participant;
    const text = `${formatDuration(m.time_left_ms)} left${mine ? ' — no rush, begin to bring it to a close when you are ready.' : ` for ${this.name(m.speaker)}.`}`;
    const el = $('nudge');
    el.textContent = text;
    el.hidden = false;
    setTimeout(() => { el.hidden = true; }, 20000);
  }

  signaled(from, p) {
    if (!p || typeof p !== 'object' || typeof p.instance !== 'string') return;
    let peer = this.peers.get(from);
    if (p.kind === 'hello') {
      if (peer && peer.instance === p.instance) return;
      this.dropPeer(from);
      peer = this.addPeer(from, p.instance);
      if (!peer) return;
      if (this.client.participant < from) peer.offer().catch(() => {});
      else this.client.signal(from, { kind: 'hello', instance: this.instance }).catch(() => {});
      return;
    }
    if (p.kind === 'offer' && (!peer || peer.instance !== p.instance)) {
      this.dropPeer(from);
      peer = this.addPeer(from, p.instance);
    }
    if (!peer || peer.instance !== p.instance) return;
    peer.receive(p).catch(() => {});
  }

  addPeer(id, instance) {
    if (!this.room.participants.has(id)) return null;
    const peer = new Peer(this, id, instance);
    this.peers.set(id, peer);
    this.render();
    return peer;
  }

  dropPeer(id) {
    const peer = this.peers.get(id);
    if (!peer) return;
    peer.close();
    this.peers.delete(id);
    const tile = this.tiles.get(id);
    if (tile) tile.video.srcObject = null;
    this.render();
  }

  reacted(from, kind) {
    const feed = $('reactions-feed');
    feed.textContent = `${from === this.client.participant ? 'You' : this.name(from)}: ${kind}`;
    const tile = this.tiles.get(from);
    if (tile) {
      tile.reaction.textContent = kind;
      tile.reaction.hidden = false;
      clearTimeout(tile.reactionTimer);
      tile.reactionTimer = setTimeout(() => { tile.reaction.hidden = true; }, 4000);
    }
  }

  privateWord(m) {
    const word = { from: m.from, name: this.name(m.from), text: m.text, at: new Date() };
    this.privateWords.unshift(word);
    this.unseen = this.unseen.filter((w) => w.from !== m.from);
    this.unseen.unshift(word);
    this.renderPrivate();
    this.renderAlert();
    softChime();
  }

  /** Marks a member's private word as seen: the notice at the top goes, the list below keeps it. */
  markSeen(from) {
    this.unseen = this.unseen.filter((w) => w.from !== from);
    this.renderAlert();
    this.client.privateWordSeen(from).catch(() => {});  // they may have left; the notice goes either way
  }

  /** A facilitator saw a private word: the member is told, gently; the other facilitators' notices clear. */
  privateWordSeen(m) {
    if (m.participant === this.client.participant) {
      this.say(`${this.name(m.by)} has seen your message. Take the time you need.`);
    } else if (this.unseen.some((w) => w.from === m.participant)) {
      this.unseen = this.unseen.filter((w) => w.from !== m.participant);
      this.renderAlert();
    }
  }

  /** The calm notice at the top of a facilitator's view, and the page title, while a word is unseen. */
  renderAlert() {
    const box = $('moment-alert');
    const list = $('moment-alert-list');
    list.replaceChildren();
    for (const w of this.unseen) {
      const li = el('li', '', '');
      li.dataset.participant = w.from;
      const words = el('span', 'words', '');
      words.append(el('strong', '', `${w.name} needs a moment`), w.text ? ` — “${w.text}”` : '');
      const seen = button('Seen', 'seen', w.from, `Mark ${w.name}'s message as seen`);
      li.append(words, el('time', '', w.at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })), seen);
      list.append(li);
    }
    box.hidden = this.unseen.length === 0;
    const first = this.unseen[0];
    document.title = first ? (this.unseen.length > 1 ? `(${this.unseen.length}) ` : '')
      + `${first.name} needs a moment · Circle` : 'Circle';
  }

  closed(e) {
    if (e.willReconnect) return;
    if (this.room.ended) return this.ended();
    // A refused token is told by the `error` that follows; anything else gets a calm word now.
    setTimeout(() => {
      if (this.gateShown) return;
      this.showGate('Not connected', REFUSALS[e.code] || 'The connection to the session closed. '
        + 'Reload this page to join again, or ask your facilitator for help.');
    }, REFUSALS[e.code] ? 0 : 300);
  }

  /** The link was refused: say what happened and what to do, never a blank page. */
  refused(e) {
    const expired = /expired/.test(e.message || '');
    if (e.code === 'not_found') {
      return this.showGate('This link does not lead to a group',
        'Please check the link, or ask your facilitator to send it again.');
    }
    this.showGate(expired ? 'This link has expired' : 'This link is not valid',
      expired ? 'Please ask your facilitator for a new one. Links only work for a limited time, to keep your group private.'
        : 'It may be incomplete or out of date. Please ask your facilitator for a new one.');
  }

  ended() {
    for (const id of [...this.peers.keys()]) this.dropPeer(id);
    this.media.stop();
    $('session').hidden = true;
    $('moment-alert').hidden = true;
    document.title = 'Circle';
    $('ended').hidden = false;
    $('phase').textContent = PHASE_LABEL.ended;
    $('connection').textContent = '';
  }

  showGate(title, text) {
    this.gateShown = true;
    this.media.stop();
    for (const id of ['session', 'prejoin', 'moment-alert']) $(id).hidden = true;
    $('gate-title').textContent = title;
    $('gate-text').textContent = text;
    $('gate').hidden = false;
    $('phase').textContent = '';
    $('connection').textContent = '';
    document.title = `${title} · Circle`;
  }

  showConnection(state) {
    const text = { connecting: 'Connecting…', open: 'Connected', reconnecting: 'Reconnecting… your place is kept',
      waiting: 'You’re early — the session hasn’t started. You’ll join as soon as your facilitator opens it.',
      closed: 'Not connected', idle: '' }[state];
    const el = $('connection');
    el.textContent = this.room.ended ? '' : text;
    el.dataset.state = state;
    if (state === 'open' && !this.room.ended && !this.gateShown) $('session').hidden = false;
  }

  say(text) {
    const el = $('notice');
    el.textContent = text;
    el.hidden = false;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => { el.hidden = true; }, 12000);
  }

  // ── page → server ──

  setMic(on) {
    if (on && !this.media.mic) return;
    this.micOn = on;
    for (const peer of this.peers.values()) peer.applyLocalMedia();
    this.reportMedia();
    this.render();
  }

  async setCamera(on) {
    if (on && !(await this.media.reacquireCamera())) return;
    this.cameraOn = on;
    for (const peer of this.peers.values()) peer.applyLocalMedia();
    this.reportMedia();
    this.render();
  }

  reportMedia() {
    if (this.client.role === 'observer') return;
    this.client.media({ mic: this.micOn, camera: this.cameraOn }).catch((e) => {
      if (e.code === 'muted') this.setMic(false);
    });
  }

  act(promise) { promise.catch((e) => this.say(GENTLE_ERRORS[e.code] || 'That did not work just now.')); }

  async confirm(text) {
    const dialog = $('confirm');
    $('confirm-text').textContent = text;
    dialog.returnValue = '';
    dialog.showModal();
    await new Promise((resolve) => dialog.addEventListener('close', resolve, { once: true }));
    return dialog.returnValue === 'ok';
  }

  bindControls() {
    const c = this.client;
    $('mic').addEventListener('click', () => this.setMic(!this.micOn));
    $('camera').addEventListener('click', () => this.setCamera(!this.cameraOn));
    $('hand').addEventListener('click', () => {
      this.act(this.room.queuePosition(c.participant) >= 0 ? c.lowerHand() : c.raiseHand());
    });
    $('pass').addEventListener('click', () => this.act(c.pass()));
    $('end-turn').addEventListener('click', () => this.act(c.endTurn()));
    for (const b of document.querySelectorAll('[data-reaction]')) {
      b.addEventListener('click', () => this.act(c.reaction(b.dataset.reaction)));
    }
    $('moment').addEventListener('submit', (e) => {
      e.preventDefault();
      const text = $('moment-text').value.trim();
      c.privateWord(text || undefined).then(() => {
        $('moment-text').value = '';
        this.say('Your message is with the facilitator. Take the time you need.');
      }, (err) => this.say(err.code === 'reconnecting'
        ? 'Your facilitator is reconnecting — please try again in a moment.'
        : err.code === 'not_found'
          ? 'No facilitator is connected right now.' : 'That did not reach the facilitator; please try again.'));
    });

    for (const b of document.querySelectorAll('[data-phase]')) {
      b.addEventListener('click', () => this.act(c.setPhase(b.dataset.phase)));
    }
    $('advance').addEventListener('click', () => this.act(c.advanceRound()));
    $('silence-start').addEventListener('click', () => this.act(c.startSilence(Math.round(Number($('silence-seconds').value) * 1000))));
    $('silence-end').addEventListener('click', () => this.act(c.endSilence()));
    $('floor-next').addEventListener('click', () => this.act(c.giveFloor()));
    $('floor-end').addEventListener('click', () => this.act(c.endTurn()));
    $('queue-clear').addEventListener('click', () => this.act(c.clearQueue()));
    $('policy').addEventListener('change', (e) => this.act(c.setQueuePolicy(e.target.value)));
    $('pacing').addEventListener('submit', (e) => {
      e.preventDefault();
      const minutes = Number($('turn-minutes').value);
      const nudge = Math.round(Number($('nudge-seconds').value) * 1000);
      const turnLengthMs = minutes > 0 ? Math.round(minutes * 60000) : undefined;
      this.act(c.setPacing({ turnLengthMs, nudgeBeforeMs: turnLengthMs ? Math.min(nudge, turnLengthMs - 1000) : 0,
        autoAdvance: $('auto-advance').checked }).then(() => this.say('Pacing applies from the next turn.')));
    });
    $('mute-all').addEventListener('click', () => this.act(c.muteAllButSpeaker()));
    $('lock').addEventListener('click', () => this.act(this.room.locked ? c.unlock() : c.lock()));
    $('stats-refresh').addEventListener('click', () => this.act(c.requestStats()));
    $('end-session').addEventListener('click', async () => {
      if (await this.confirm('End the session for everyone?')) this.act(c.endSession());
    });
    $('queue').addEventListener('click', (e) => this.queueAction(e));
    $('moment-alert-list').addEventListener('click', (e) => {
      const b = e.target.closest('button[data-act="seen"]');
      if (b) this.markSeen(b.dataset.id);
    });
    $('people').addEventListener('click', (e) => this.personAction(e));
  }

  queueAction(e) {
    const b = e.target.closest('button[data-act]');
    if (!b) return;
    const id = b.dataset.id;
    const c = this.client;
    const at = this.room.queuePosition(id);
    switch (b.dataset.act) {
      case 'floor': return this.act(c.giveFloor(id));
      case 'up': return this.act(c.moveInQueue(id, Math.max(0, at - 1)));
      case 'down': return this.act(c.moveInQueue(id, Math.min(this.room.queue.length - 1, at + 1)));
      case 'remove': return this.act(c.removeFromQueue(id));
    }
  }

  async personAction(e) {
    const b = e.target.closest('button[data-act]');
    if (!b) return;
    const id = b.dataset.id;
    const c = this.client;
    switch (b.dataset.act) {
      case 'mute': return this.act(c.mute(id));
      case 'unmute': return this.act(c.unmute(id));
      case 'floor': return this.act(c.giveFloor(id));
      case 'promote': return this.act(c.promote(id));
      case 'remove':
        if (await this.confirm(`Remove ${this.name(id)} from this session? They will not be able to rejoin.`)) {
          this.act(c.remove(id));
        }
    }
  }

  // ── rendering ──

  tick() {
    const room = this.room;
    const silence = $('silence');
    if (room.phase === 'silence') {
      const left = room.silenceLeftMs();
      silence.textContent = `Silence · ${formatClock(left ?? 0)} remaining`;
      silence.hidden = false;
    }
    this.renderFloor();
  }

  render() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.renderNow();
    });
  }

  renderNow() {
    const room = this.room;
    const me = this.me;
    const id = this.client.participant;
    document.body.dataset.phase = room.phase;
    document.body.classList.toggle('facilitating', this.isFacilitator);
    $('phase').textContent = PHASE_LABEL[room.phase] + (room.locked ? ' · room locked' : '');
    this.renderTiles();
    this.renderFloor();
    if (room.phase === 'silence') this.tick();

    const held = !!me?.muted;
    setToggle($('mic'), this.micOn, held ? 'muted by facilitator' : this.micOn ? 'on' : 'off', held || !this.media.mic);
    $('mic-held').hidden = !held;
    setToggle($('camera'), this.cameraOn, this.cameraOn ? 'on' : 'off', !this.media.canCamera);

    const place = room.queuePosition(id);
    const hand = $('hand');
    hand.textContent = place >= 0 ? `Lower hand (${ordinal(place + 1)} in line)` : 'Raise hand';
    hand.disabled = room.speaker === id;
    this.renderOrder();
    const waiting = room.round.some((r) => r.participant === id && r.status === 'waiting');
    $('pass').hidden = !(waiting && (room.phase === 'intro' || room.phase === 'close'));
    $('end-turn').hidden = room.speaker !== id;

    $('console').hidden = !this.isFacilitator;
    if (this.isFacilitator) this.renderConsole();
  }

  /** The round's order (intro and close) and your place in it; in open sharing, your place in the queue. */
  renderOrder() {
    const room = this.room;
    const id = this.client.participant;
    const box = $('order');
    const round = room.round;
    if (!round.length) { box.hidden = true; return; }
    box.hidden = false;
    const list = $('order-list');
    list.replaceChildren();
    let ahead = 0;
    let mine;
    for (const r of round) {
      const speaking = room.speaker === r.participant;
      const status = speaking ? 'speaking' : r.status === 'done' ? 'done' : r.status === 'passed' ? 'passed' : '';
      const li = el('li', r.participant === id ? 'me' : '', r.participant === id ? 'You' : this.name(r.participant));
      if (status) li.append(el('span', 'st', ` (${status})`));
      list.append(li);
      if (r.participant === id) mine = { status, ahead };
      else if (r.status === 'waiting' && !speaking && mine === undefined) ahead += 1;
    }
    let text = '';
    if (mine?.status === 'speaking') text = 'It is your turn. Take your time, or pass.';
    else if (mine?.status === 'done' || mine?.status === 'passed') text = 'You have had your turn in this round.';
    else if (mine) text = mine.ahead === 0 ? 'You are next. You can pass if you prefer.'
      : `You are ${ordinal(mine.ahead + 1)} in line: ${mine.ahead} ${mine.ahead === 1 ? 'person' : 'people'} before you.`;
    $('my-place').textContent = text;
    $('my-place').hidden = !text;
  }

  renderFloor() {
    const room = this.room;
    const el = $('floor');
    if (room.speaker === undefined) {
      el.textContent = room.phase === 'sharing' && room.queue.length ? `${room.queue.length} waiting to speak`
        : room.phase === 'silence' ? '' : 'The floor is open';
      return;
    }
    const mine = room.speaker === this.client.participant;
    let text = mine ? 'You have the floor' : `${this.name(room.speaker)} has the floor`;
    const left = room.turnLeftMs();
    if (left !== undefined && (mine || this.isFacilitator)) text += ` · about ${formatDuration(left)} left`;
    el.textContent = text;
  }

  renderTiles() {
    const list = $('tiles');
    const room = this.room;
    const seen = new Set();
    for (const p of room.participants.values()) {
      if (p.role === 'observer') continue;
      seen.add(p.id);
      let tile = this.tiles.get(p.id);
      if (!tile) {
        tile = this.makeTile(p.id);
        this.tiles.set(p.id, tile);
      }
      list.appendChild(tile.li); // keeps join order
      const self = p.id === this.client.participant;
      const peer = this.peers.get(p.id);
      const bits = [];
      if (ROLE_LABEL[p.role]) bits.push(ROLE_LABEL[p.role]);
      if (p.connection === 'reconnecting') bits.push('reconnecting');
      if (p.muted) bits.push('muted by facilitator');
      else if (!p.mic) bits.push('mic off');
      if (!p.camera) bits.push('camera off');
      const place = room.queuePosition(p.id);
      if (place >= 0) bits.push(`hand raised · ${ordinal(place + 1)}`);
      if (!self && peer && peer.state !== 'connected') bits.push('video connecting…');
      tile.name.textContent = self ? `${p.name} (you)` : p.name;
      tile.status.textContent = bits.join(' · ');
      tile.li.classList.toggle('speaking', room.speaker === p.id);
      tile.li.classList.toggle('away', p.connection === 'reconnecting');
      tile.li.classList.toggle('no-video', self ? !this.cameraOn : !p.camera || !peer);
      tile.li.dataset.peer = self ? 'self' : peer ? peer.state : 'none';
      tile.li.setAttribute('aria-label', `${tile.name.textContent}${bits.length ? ', ' + bits.join(', ') : ''}`);
      if (self && tile.video.srcObject !== this.media.stream) {
        tile.video.muted = true;
        tile.video.srcObject = this.media.stream;
      }
    }
    for (const [id, tile] of this.tiles) {
      if (!seen.has(id)) { tile.li.remove(); this.tiles.delete(id); }
    }
  }

  makeTile(id) {
    const li = document.createElement('li');
    li.className = 'tile';
    li.dataset.participant = id;
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    const initials = document.createElement('span');
    initials.className = 'initials';
    initials.setAttribute('aria-hidden', 'true');
    initials.textContent = (this.room.participants.get(id)?.name || '?').trim().slice(0, 1).toUpperCase();
    const caption = document.createElement('div');
    caption.className = 'caption';
    const name = document.createElement('span');
    name.className = 'name';
    const status = document.createElement('span');
    status.className = 'status';
    const reaction = document.createElement('span');
    reaction.className = 'reaction';
    reaction.hidden = true;
    caption.append(name, status);
    li.append(video, initials, caption, reaction);
    return { li, video, name, status, reaction };
  }

  attachRemote(peer) {
    const tile = this.tiles.get(peer.id);
    if (!tile) return this.render();
    if (tile.video.srcObject !== peer.remote) tile.video.srcObject = peer.remote;
    tile.video.play().catch(() => this.offerSound());
  }

  /** Browsers may refuse to play sound before the page is touched: one calm button then starts it. */
  offerSound() {
    if ($('sound')) return;
    const b = document.createElement('button');
    b.id = 'sound';
    b.type = 'button';
    b.textContent = 'Turn on sound';
    b.addEventListener('click', () => {
      for (const t of this.tiles.values()) t.video.play().catch(() => {});
      b.remove();
    });
    document.querySelector('.top').append(b);
  }

  renderConsole() {
    const room = this.room;
    const c = this.client;
    for (const b of document.querySelectorAll('button[data-phase]')) {
      b.setAttribute('aria-pressed', String(room.phase === b.dataset.phase));
    }
    const inRound = room.phase === 'intro' || room.phase === 'close';
    $('advance').disabled = !inRound;
    $('silence-start').disabled = room.phase === 'silence' || room.ended;
    $('silence-end').disabled = room.phase !== 'silence';
    $('floor-next').disabled = room.queue.length === 0 || room.phase === 'silence';
    $('floor-end').disabled = room.speaker === undefined;
    $('queue-clear').disabled = room.queue.length === 0;
    $('policy').value = room.queuePolicy;
    const lock = $('lock');
    lock.textContent = room.locked ? 'Unlock room' : 'Lock room';

    const queue = $('queue');
    const hands = room.queue.map((id, i) => {
      const who = this.name(id);
      const last = i === room.queue.length - 1;
      return {
        key: id, sig: `${i}|${who}|${last}`,
        build: () => {
          const li = el('li', '', '');
          li.dataset.participant = id;
          li.append(el('span', 'who', `${i + 1}. ${who}`),
            button('Give floor', 'floor', id, `Give the floor to ${who}`),
            button('Up', 'up', id, `Move ${who} up`, i === 0),
            button('Down', 'down', id, `Move ${who} down`, last),
            button('Lower', 'remove', id, `Lower ${who}'s hand`));
          return li;
        },
      };
    });
    if (!hands.length) hands.push({ key: '', sig: 'empty', build: () => el('li', 'empty', 'No hands raised.') });
    reconcile(queue, hands);

    const myRank = RANK[c.role] ?? 0;
    const rows = [...room.participants.values()].map((p) => {
      const canMute = p.id !== c.participant && RANK[p.role] < myRank && p.role !== 'observer';
      const canFloor = p.role !== 'observer' && room.speaker !== p.id && p.connection === 'connected';
      const canRemove = p.id !== c.participant && RANK[p.role] < myRank;
      return {
        key: p.id, sig: [p.name, p.role, canMute && p.muted, canMute, canFloor, canRemove].join('|'),
        build: () => {
          const tr = document.createElement('tr');
          tr.dataset.participant = p.id;
          const who = el('th', '', p.name);
          who.scope = 'row';
          if (ROLE_LABEL[p.role]) who.append(el('span', 'role', ` ${ROLE_LABEL[p.role]}`));
          const actions = document.createElement('td');
          actions.className = 'actions';
          if (canMute) {
            actions.append(p.muted ? button('Unmute', 'unmute', p.id, `Let ${p.name} unmute`)
              : button('Mute', 'mute', p.id, `Mute ${p.name}`));
          }
          if (canFloor) actions.append(button('Floor', 'floor', p.id, `Give the floor to ${p.name}`));
          if (p.role === 'member') actions.append(button('Co-facilitate', 'promote', p.id, `Make ${p.name} a co-facilitator`));
          if (canRemove) actions.append(button('Remove', 'remove', p.id, `Remove ${p.name} from the session`));
          tr.append(who, el('td', 'spoken', ''), actions);
          return tr;
        },
      };
    });
    const people = $('people');
    reconcile(people, rows);
    for (const tr of people.children) {  // the speaking time ticks; only its cell changes
      const id = tr.dataset.participant;
      const spoken = this.spoken.has(id) ? formatClock(this.spoken.get(id)) : '—';
      const cell = tr.querySelector('.spoken');
      if (cell.textContent !== spoken) cell.textContent = spoken;
    }
  }

  renderPrivate() {
    const list = $('private');
    list.replaceChildren();
    if (!this.privateWords.length) list.append(el('li', 'empty', 'None yet.'));
    for (const w of this.privateWords.slice(0, 20)) {
      const li = el('li', '', '');
      li.append(el('time', '', w.at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })),
        el('strong', '', ` ${w.name} needs a moment`), w.text ? el('span', 'text', ` — ${w.text}`) : '');
      list.append(li);
    }
  }

  // ── diagnostics (read by the browser tests; nothing private) ──

  /** Per peer: connection state, video frames decoded and audio packets received, from `getStats()`. */
  async peerStats() {
    const out = {};
    for (const [id, peer] of this.peers) {
      const s = { state: peer.state, framesDecoded: 0, audioPacketsReceived: 0, audioPacketsSent: 0 };
      (await peer.pc.getStats()).forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') s.framesDecoded += r.framesDecoded || 0;
        if (r.type === 'inbound-rtp' && r.kind === 'audio') s.audioPacketsReceived += r.packetsReceived || 0;
        if (r.type === 'outbound-rtp' && r.kind === 'audio') s.audioPacketsSent += r.packetsSent || 0;
      });
      out[id] = s;
    }
    return out;
  }
}

// ── attendance (facilitators) ────────────────────────────────────────────────────────────────────

/**
 * The facilitator's Attendance view: `GET /groups/{room}/attendance` from the server the app's WebSocket uses, with
 * the token in the `Authorization` header (never in a URL). Sessions are columns, members rows; a modal dialog with
 * its own scroll, so the live console stays as it is underneath. The server gives a member only their own rows.
 */
class AttendanceView {
  constructor(app) {
    this.app = app;
    this.dialog = $('attendance');
    this.opener = null;
    this.loading = null;
    $('attendance-open').addEventListener('click', (e) => this.open(e.currentTarget));
    $('attendance-after-open').addEventListener('click', (e) => this.open(e.currentTarget));
    $('attendance-close').addEventListener('click', () => this.dialog.close());
    $('attendance-reload').addEventListener('click', () => this.load());
    $('attendance-csv').addEventListener('click', () => this.downloadCSV());
    this.dialog.addEventListener('close', () => this.opener?.focus());
    // After the end, a facilitator can still look back at who came.
    app.client.on('room', () => {
      $('attendance-after').hidden = !(app.client.room.ended && app.isFacilitator);
    });
  }

  /** `http(s)://host[:port]/groups/{room}/attendance`, from the same base as the WebSocket. */
  url(csv) {
    const c = this.app.client;
    const base = c.baseURL.replace(/^ws/, 'http');
    return `${base}/groups/${encodeURIComponent(c.roomId)}/attendance${csv ? '?format=csv' : ''}`;
  }

  async request(csv) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 10000);
    try {
      return await fetch(this.url(csv), {
        cache: 'no-store', signal: controller.signal, credentials: 'omit', referrerPolicy: 'no-referrer',
        headers: { Authorization: `Bearer ${this.app.client.token}` },
      });
    } finally {
      clearTimeout(timer);
    }
  }

  open(opener) {
    this.opener = opener;
    if (!this.dialog.open) this.dialog.showModal();
    $('attendance-title').focus();  // a steady place to start: the buttons below change while it loads
    this.load();
  }

  async load() {
    this.show(null);  // never last time's table under "Reading…": the records may have changed since
    this.status('Reading the records…');
    const loading = (this.loading = Symbol('load'));
    let data;
    try {
      const response = await this.request(false);
      if (!response.ok) throw new AttendanceRefusal(response.status);
      data = await response.json();
      if (!data || !Array.isArray(data.sessions)) throw new AttendanceRefusal(0);
    } catch (e) {
      if (loading !== this.loading) return;
      this.show(null);
      return this.status(attendanceTrouble(e));
    }
    if (loading !== this.loading) return;
    this.show(data);
  }

  status(text) {
    const el = $('attendance-status');
    el.textContent = text;
    el.hidden = !text;
  }

  /** Builds the table from the report (null: hides it). */
  show(data) {
    const columns = $('attendance-columns');
    const rows = $('attendance-rows');
    columns.replaceChildren();
    rows.replaceChildren();
    const sessions = data ? data.sessions : [];
    const members = data ? attendanceMembers(sessions) : [];
    const shown = members.length > 0;
    $('attendance-scroll').hidden = !shown;
    $('attendance-note').hidden = !shown;
    $('attendance-csv').disabled = !data || sessions.length === 0;
    if (!data) return;
    if (!sessions.length) return this.status('No sessions are recorded for this group yet.');
    const n = sessions.length;
    this.status(shown ? `Who came: ${members.length} ${members.length === 1 ? 'member' : 'members'} over ${n} `
      + `${n === 1 ? 'session' : 'sessions'}${n > 1 ? ', oldest first' : ''}.`
      : `No members have joined yet (${n} ${n === 1 ? 'session' : 'sessions'}).`);
    if (!shown) return;

    const head = (text, className) => {
      const th = el('th', className, text);
      th.scope = 'col';
      return th;
    };
    columns.append(head('Member', 'who'), head('Sessions attended', 'sum'), head('Speaking share', 'sum'));
    for (const s of sessions) {
      const th = head('', 'meeting');
      th.dataset.session = String(s.number);
      th.append(el('span', 'number', `Session ${s.number}`), el('span', 'date', sessionDate(s)));
      if (s.closed_at === null) th.append(el('span', 'date', 'open now'));
      columns.append(th);
    }

    const total = members.reduce((sum, m) => sum + m.spokenMs, 0);
    for (const m of members) {
      const tr = document.createElement('tr');
      tr.dataset.participant = m.id;
      const who = el('th', 'who', m.name);
      who.scope = 'row';
      if (m.role !== 'member' && ROLE_LABEL[m.role]) who.append(el('span', 'role', ` ${ROLE_LABEL[m.role]}`));
      const share = el('td', 'sum', '');
      if (total > 0) {
        share.append(`${Math.round((m.spokenMs / total) * 100)}%`,
          el('span', 'detail', m.spokenMs > 0 ? formatMinutes(m.spokenMs) : 'no turns'));
      } else {
        share.append(el('span', 'quiet', 'no turns yet'));
      }
      tr.append(who, el('td', 'sum', `${m.came} of ${n}`), share);
      for (const s of sessions) {
        const row = m.bySession.get(s.number);
        const td = el('td', row ? 'came' : 'missed', '');
        td.dataset.session = String(s.number);
        if (row) {
          td.append(el('span', 'mark', 'Came'));
          const here = row.last_leave === null && s.closed_at === null;
          td.append(el('span', 'detail', here ? 'here now' : formatMinutes(row.connected_ms)));
        } else {
          const dash = el('span', 'dash', '—');
          dash.setAttribute('aria-hidden', 'true');
          td.append(dash, el('span', 'visually-hidden', 'Not here'));
        }
        tr.append(td);
      }
      rows.append(tr);
    }
    // The newest sessions sit at the right end: show them first.
    const scroll = $('attendance-scroll');
    scroll.scrollLeft = scroll.scrollWidth;
  }

  /** The CSV, fetched with the token in a header and saved from a blob: the token never goes in a URL. */
  async downloadCSV() {
    if (this.downloading) return;
    this.downloading = true;  // the button stays enabled, so that keyboard focus stays on it
    try {
      const response = await this.request(true);
      if (!response.ok) throw new AttendanceRefusal(response.status);
      const blob = await response.blob();
      const named = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '');
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = named ? named[1] : `attendance-${this.app.client.roomId}.csv`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60000);
    } catch (e) {
      this.status(`The file could not be made. ${attendanceTrouble(e)}`);
    } finally {
      this.downloading = false;
    }
  }
}

class AttendanceRefusal extends Error {
  constructor(status) {
    super(`attendance: HTTP ${status}`);
    this.status = status;
  }
}

/** A calm line for a records request that did not work. */
function attendanceTrouble(e) {
  switch (e instanceof AttendanceRefusal ? e.status : -1) {
    case 404: return 'This server does not keep attendance records.';
    case 401: return 'Your link no longer opens the records (it may have expired). A new link will.';
    case 403: return 'This link opens another group’s records, not this one’s.';
    default: return 'The records could not be read just now. Please try again in a moment.';
  }
}

/**
 * One entry per person who joined any session as a member or observer (facilitators are not listed): their name
 * and role as last seen, the sessions they came to, and their time holding the floor over all sessions.
 */
function attendanceMembers(sessions) {
  const people = new Map();
  for (const s of sessions) {
    for (const p of Array.isArray(s.participants) ? s.participants : []) {
      let m = people.get(p.participant);
      if (!m) people.set(p.participant, (m = { id: p.participant, listed: false, bySession: new Map(), spokenMs: 0 }));
      m.name = p.name;
      m.role = p.role;
      m.listed ||= p.role === 'member' || p.role === 'observer';
      m.bySession.set(s.number, p);
      m.spokenMs += Number(p.spoken_ms) || 0;
    }
  }
  return [...people.values()].filter((m) => m.listed).map((m) => ({ ...m, came: m.bySession.size }))
    .sort((a, b) => a.name.localeCompare(b.name) || (a.id < b.id ? -1 : 1));
}

function sessionDate(s) {
  const d = new Date(s.opened_at);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short' })}, `
    + d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** A stretch of time for the records: "under a minute", "12 min", "1 h 05 min". */
function formatMinutes(ms) {
  const m = Math.round((Number(ms) || 0) / 60000);
  if (m < 1) return 'under a minute';
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

// ── small helpers ────────────────────────────────────────────────────────────────────────────────

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text) e.textContent = text;
  return e;
}

/**
 * Brings `list`'s children to `rows` ({key, sig, build}) in order, rebuilding only a row whose signature changed.
 * A row that did not change keeps its element, so a button under the pointer or holding keyboard focus survives
 * the updates that arrive while a facilitator reaches for it; a rebuilt row hands focus to its matching button.
 */
function reconcile(list, rows) {
  const old = new Map([...list.children].map((n) => [n.dataset.key, n]));
  const focused = document.activeElement;
  rows.forEach((row, i) => {
    let node = old.get(row.key);
    old.delete(row.key);
    if (!node || node.dataset.sig !== row.sig) {
      const fresh = row.build();
      fresh.dataset.key = row.key;
      fresh.dataset.sig = row.sig;
      const act = node && node.contains(focused) ? focused.dataset.act : undefined;
      if (node) node.replaceWith(fresh);
      node = fresh;
      if (act) node.querySelector(`[data-act="${act}"]:not([disabled])`)?.focus();
    }
    if (list.children[i] !== node) list.insertBefore(node, list.children[i] ?? null);
  });
  for (const n of old.values()) n.remove();
}

function button(text, act, id, label, disabled = false) {
  const b = el('button', '', text);
  b.type = 'button';
  b.dataset.act = act;
  b.dataset.id = id;
  b.setAttribute('aria-label', label);
  b.disabled = disabled;
  return b;
}

/** A toggle button: its name stays; `aria-pressed` and the visible state word say whether it is on. */
function setToggle(b, on, state, disabled) {
  b.setAttribute('aria-pressed', String(on));
  b.querySelector('.state').textContent = state;
  b.disabled = disabled;
}

/** A claim of a token (`name`, `exp`), for the greeting and an early word on expiry; the server checks the token. */
function tokenClaim(token, claim) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = new TextDecoder().decode(Uint8Array.from(atob(payload), (ch) => ch.charCodeAt(0)));
    const value = JSON.parse(json)[claim];
    return claim === 'name' ? (typeof value === 'string' ? value : '') : value;
  } catch {
    return undefined;
  }
}

/** Calls `onLevel(0…100)` with the stream's audio level a few times a second; returns a function that stops. */
function levelMeter(stream, onLevel) {
  if (!stream.getAudioTracks().length || typeof AudioContext !== 'function') return () => {};
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {
    if (context.state === 'suspended') context.resume().catch(() => {});
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const v of samples) sum += v * v;
    onLevel(Math.min(100, Math.round(Math.sqrt(sum / samples.length) * 400)));
  }, 120);
  return () => { clearInterval(timer); context.close().catch(() => {}); };
}

/** A soft, low two-note chime for a private word: a cue, never an alarm. Silent where sound is not allowed. */
function softChime() {
  try {
    const context = new AudioContext();
    const now = context.currentTime;
    [523.25, 659.25].forEach((freq, i) => {
      const osc = context.createOscillator();
      const gain = context.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0, now + i * 0.28);
      gain.gain.linearRampToValueAtTime(0.05, now + i * 0.28 + 0.05);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.28 + 0.9);
      osc.connect(gain).connect(context.destination);
      osc.start(now + i * 0.28);
      osc.stop(now + i * 0.28 + 1);
    });
    setTimeout(() => context.close().catch(() => {}), 1600);
  } catch { /* no sound: the notice and the title still show */ }
}

function ordinal(n) {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] || 'th');
  return `${n}${s}`;
}

function formatClock(ms) {
  const total = Math.round(ms / 1000);
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}

function formatDuration(ms) {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} seconds`;
  const m = Math.round(s / 60);
  return m === 1 ? 'a minute' : `${m} minutes`;
}

// ── start ────────────────────────────────────────────────────────────────────────────────────────

// A link pasted into a tab that already shows the app changes only the fragment: start again with it.
window.addEventListener('hashchange', () => { if (/token=/.test(location.hash)) location.reload(); });

const link = readLink();
if (!link) {
  $('gate').hidden = false;
} else {
  const app = new SessionApp(link);
  window.circleApp = app;
  app.attendance = new AttendanceView(app);
  app.start();
}
