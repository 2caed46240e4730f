// TypeScript declarations for circle.js, the Circle client library. Wire shapes are Docs/PROTOCOL.md.

export type Role = 'facilitator' | 'cofacilitator' | 'member' | 'observer';
export type Phase = 'intro' | 'sharing' | 'silence' | 'close' | 'ended';
export type Connection = 'connected' | 'reconnecting';
export type QueuePolicy = 'fifo' | 'least_spoken';
export type ReactionKind = 'nod' | 'heart' | 'wave' | 'clap' | 'smile';
export type RoundStatus = 'waiting' | 'done' | 'passed';
export type ClientState = 'idle' | 'connecting' | 'waiting' | 'open' | 'reconnecting' | 'closed';
/** The protocol's error codes (PROTOCOL.md §9) and the client's own. */
export type ErrorCode =
  | 'forbidden' | 'invalid' | 'not_found' | 'reconnecting' | 'conflict' | 'wrong_phase' | 'muted' | 'too_large'
  | 'rate_limited'
  | 'room_locked' | 'room_full' | 'removed' | 'session_ended'
  | 'session_not_open'
  | 'not_connected' | 'disconnected' | 'timeout' | 'unauthorized' | 'unsupported_protocol';

/** A participant as the room knows them. */
export interface Participant {
  id: string;
  name: string;
  role: Role;
  connection: Connection;
  mic: boolean;
  camera: boolean;
  /** Held muted by a facilitator. */
  muted: boolean;
}

export interface Pacing {
  /** Undefined for unpaced turns. */
  turnLengthMs?: number;
  nudgeBeforeMs: number;
  autoAdvance: boolean;
}

export interface RoundEntry {
  participant: string;
  status: RoundStatus;
}

/** The local copy of the room: the welcome's snapshot plus every event since, applied in `seq` order. */
export class RoomState {
  phase: Phase;
  /** During a silence: the phase it returns to. */
  silenceReturnsTo?: Phase;
  /** By participant id, in join order. */
  participants: Map<string, Participant>;
  /** Participant ids, head first; a raised hand is a place in it. */
  queue: string[];
  queuePolicy: QueuePolicy;
  /** Who holds the floor, if anyone. */
  speaker?: string;
  /** @deprecated The version 1 name of `speaker`. */
  readonly floor?: string;
  /** The current turn's length, when paced. */
  turnLengthMs?: number;
  round: RoundEntry[];
  pacing: Pacing;
  locked: boolean;
  ended: boolean;
  /** `performance.now()` when the silence ends (local clock). */
  silenceEndsAt?: number;
  /** `performance.now()` when the current turn started (local clock). */
  turnStartedAt?: number;
  /** The 0-based place of `id` in the queue, or -1. */
  queuePosition(id: string): number;
  silenceLeftMs(now?: number): number | undefined;
  turnLeftMs(now?: number): number | undefined;
}

/** A command that failed. `message` is for humans; match on `code`. */
export class CircleError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message?: string);
}

export interface ReconnectOptions {
  /** First retry after about this long (a random delay in [d/2, d]). Default 500. */
  initialDelayMs?: number;
  /** Cap of the delay. Default 15000. */
  maxDelayMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
  /** Give up after this many attempts in a row. Default Infinity. */
  maxAttempts?: number;
}

export interface CircleClientOptions {
  room: string;
  token: string;
  /** `ws(s)://host[:port]`; default: this page's origin. */
  url?: string;
  reconnect?: ReconnectOptions;
  /** How long a command waits for its ack before rejecting with `timeout`. Default 10000. */
  requestTimeoutMs?: number;
  /** A WebSocket implementation (default: the global one). */
  WebSocket?: typeof WebSocket;
  /**
   * How the token travels when the socket opens: `'protocol'` (default) in the `Sec-WebSocket-Protocol` header as
   * `circle, bearer.<token>`, out of URLs and the browser's console; `'query'` in the URL's `access_token`.
   */
  tokenIn?: 'protocol' | 'query';
}

/** The WebSocket subprotocol Circle speaks (`circle`). */
export const SUBPROTOCOL: string;
/** The wire protocol version this library speaks (2); a welcome with another `protocol` stops the client. */
export const PROTOCOL_VERSION: 2;

/** Why the server would refuse this client's token or room. */
export interface Refusal {
  code: 'unauthorized' | 'not_found';
  /** The server's reason, e.g. `token expired`. */
  message: string;
}

/** A sequenced room event, as sent by the server (snake_case fields, `seq`). */
export interface RoomEvent {
  type: string;
  seq: number;
  [field: string]: unknown;
}

export interface StatsEntry {
  participant: string;
  turns: number;
  passes: number;
  spoken_ms: number;
}

export interface CircleEvents {
  state: { state: ClientState; previous: ClientState };
  welcome: { participant: string; role: Role; resumed: boolean; fresh: boolean };
  waiting: { participant: string; role: Role };
  room: { room: RoomState; event?: RoomEvent };
  event: { event: RoomEvent };
  error: { code: ErrorCode; message: string };
  /** A facilitator removed you from this session (or a rejoin was refused for it); the close 4001 follows. */
  removed: { message: string };
  closed: { code: number; reason: string; willReconnect: boolean; delayMs?: number };
  signal: { type: 'signal'; from: string; payload: unknown };
  reaction: { type: 'reaction'; from: string; kind: ReactionKind };
  private_word: { type: 'private_word'; from: string; text?: string };
  private_word_seen: { type: 'private_word_seen'; participant: string; by: string };
  turn_nudge: { type: 'turn_nudge'; speaker: string; time_left_ms: number };
  turn_time_up: { type: 'turn_time_up'; speaker: string };
  mute_request: { type: 'mute_request'; reason: 'facilitator' | 'silence' };
  stats: { type: 'stats'; stats: StatsEntry[] };
  participant_joined: RoomEvent & { participant: string; name: string; role: Role; connection: Connection; mic: boolean; camera: boolean; muted: boolean };
  participant_left: RoomEvent & { participant: string; reason: 'left' | 'timed_out' | 'removed' };
  connection_changed: RoomEvent & { participant: string; connection: Connection };
  media_changed: RoomEvent & { participant: string; mic: boolean; camera: boolean };
  mute_changed: RoomEvent & { participants: string[]; muted: boolean };
  role_changed: RoomEvent & { participant: string; role: Role };
  queue_changed: RoomEvent & { queue: string[]; queue_policy: QueuePolicy };
  floor_given: RoomEvent & { speaker: string; turn_length_ms?: number };
  turn_ended: RoomEvent & {
    speaker: string; reason: 'finished' | 'passed' | 'facilitator' | 'time_up' | 'phase' | 'left';
  };
  round_changed: RoomEvent & { round: RoundEntry[] };
  /** Entering silence: its length and the phase it returns to. */
  phase_changed: RoomEvent & { phase: Phase; silence_ms?: number; silence_returns_to?: 'intro' | 'sharing' | 'close' };
  pacing_changed: RoomEvent & { pacing: { turn_length_ms?: number; nudge_before_ms: number; auto_advance: boolean } };
  lock_changed: RoomEvent & { locked: boolean };
  session_ended: RoomEvent;
}

/** One participant's connection to one room. Every command resolves on its ack or rejects with a `CircleError`. */
export class CircleClient {
  constructor(options: CircleClientOptions);
  readonly roomId: string;
  /** The local copy of the room (replaced wholesale when a fresh snapshot arrives). */
  readonly room: RoomState;
  /** The last sequence number applied. */
  readonly seq: number;
  /** Your participant id and role, from the welcome. */
  readonly participant?: string;
  readonly role?: Role;
  readonly state: ClientState;
  /** Failed reconnect attempts in a row (0 once welcomed). */
  readonly attempt: number;
  readonly tokenIn: 'protocol' | 'query';

  connect(): void;
  /** Asks the server, without joining, whether it would refuse the token; null when not (or when it can't tell). */
  checkAccess(): Promise<Refusal | null>;
  leave(): Promise<void>;
  close(): void;
  dropConnection(reconnectAfterMs?: number): void;
  on<K extends keyof CircleEvents>(type: K, listener: (detail: CircleEvents[K]) => void): () => void;

  send(command: { type: string; [field: string]: unknown }): Promise<void>;
  media(devices: { mic?: boolean; camera?: boolean }): Promise<void>;
  raiseHand(): Promise<void>;
  lowerHand(): Promise<void>;
  pass(): Promise<void>;
  endTurn(): Promise<void>;
  reaction(kind: ReactionKind): Promise<void>;
  privateWord(text?: string): Promise<void>;
  signal(to: string, payload: unknown): Promise<void>;
  signalAll(payload: unknown): Promise<void>;

  /** Intro, sharing or close; a session ends with `endSession()`. */
  setPhase(phase: 'intro' | 'sharing' | 'close'): Promise<void>;
  advanceRound(): Promise<void>;
  startSilence(silenceMs: number): Promise<void>;
  endSilence(): Promise<void>;
  giveFloor(participant?: string): Promise<void>;
  moveInQueue(participant: string, position: number): Promise<void>;
  removeFromQueue(participant: string): Promise<void>;
  clearQueue(): Promise<void>;
  setQueuePolicy(queuePolicy: QueuePolicy): Promise<void>;
  setPacing(pacing: Pacing): Promise<void>;
  mute(participant: string): Promise<void>;
  unmute(participant: string): Promise<void>;
  muteAllButSpeaker(): Promise<void>;
  lock(): Promise<void>;
  unlock(): Promise<void>;
  remove(participant: string): Promise<void>;
  promote(participant: string): Promise<void>;
  endSession(): Promise<void>;
  requestStats(): Promise<StatsEntry[]>;
  /** Tells a member their private word was seen; they and the other facilitators get `private_word_seen`. */
  privateWordSeen(participant: string): Promise<void>;
}
