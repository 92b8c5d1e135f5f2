// supervisord's XML-RPC API over a unix socket or HTTP (with basic auth). I/O only: returns
// plain readings and never imports the Prometheus client.
import http from 'node:http';
import https from 'node:https';
import { readSupervisorPassword, type SupervisorConfig } from '../config.js';
import { SourceError, describeError } from '../errors.js';
import { clip, decodeResponseSliced, encodeCall, XmlRpcFault, XmlRpcFormatError, type XmlRpcValue } from './xmlrpc.js';
import { WorkSlicer } from './work-slicer.js';
import { exchange } from './supervisor-exchange.js';
import { SupervisorError } from './supervisor-error.js';

/** supervisord's process states (supervisor/states.py), code → name. */
export const PROCESS_STATES: Readonly<Record<number, string>> = {
  0: 'STOPPED',
  10: 'STARTING',
  20: 'RUNNING',
  30: 'BACKOFF',
  40: 'STOPPING',
  100: 'EXITED',
  200: 'FATAL',
  1000: 'UNKNOWN',
};
export const STATE_NAMES: readonly string[] = Object.values(PROCESS_STATES);

export interface SupervisorProcess {
  group: string;
  name: string;
  description: string;
  /** One of STATE_NAMES. */
  state: string;
  /** Unix seconds the current (or last) process started; 0 when never started. */
  start: number;
  stop: number;
  pid: number;
  exitStatus: number;
  spawnErr: string;
  stdoutLogfile: string;
  stderrLogfile: string;
}

export interface SupervisorHead {
  url: string;
  version: string;
  identification: string;
  /** supervisord's own state: RUNNING, RESTARTING, SHUTDOWN, FATAL. */
  state: string;
  /** supervisord's pid (as its own pid namespace numbers it). */
  pid: number;
}

export interface SupervisorSnapshot extends SupervisorHead {
  processes: SupervisorProcess[];
}

const HEAD_CALLS = ['supervisor.getSupervisorVersion', 'supervisor.getIdentification', 'supervisor.getState', 'supervisor.getPID'] as const;

/**
 * How long a call no scrape waits on (the background poll's process list, the log rotation
 * settings) may take: supervisord writes a list of thousands of processes in seconds of its
 * own CPU, past `supervisor.timeout`; given up on at each scrape's timeout it would be asked
 * again and again and never heard.
 */
export function backgroundTimeoutMs(timeoutMs: number): number {
  return Math.max(timeoutMs, 60_000);
}

/**
 * The bound of the next background process list: twice what the last list took, at least
 * `supervisor.timeout`, doubled by each of the last two lists in a row that ran out of time,
 * at most backgroundTimeoutMs. A supervisord that lists slowly is waited for as long as it
 * needs; a silent or trickling peer is given up on at `supervisor.timeout` first, and asked
 * again at least every 4 × `supervisor.timeout`. Pure.
 */
export function listTimeoutMs(timeoutMs: number, lastListMs: number, timeoutsInARow: number): number {
  return Math.min(backgroundTimeoutMs(timeoutMs), listExpectedMs(timeoutMs, lastListMs) * 2 ** Math.min(timeoutsInARow, 2));
}

/** How long a full list is expected to take: twice what the last one took, at least `supervisor.timeout`. Pure. */
export function listExpectedMs(timeoutMs: number, lastListMs: number): number {
  return Math.max(timeoutMs, 2 * lastListMs);
}

export class SupervisorClient {
  /** The URL that answered last; tried first next time. */
  private preferred: string | undefined;

  constructor(
    private readonly cfg: SupervisorConfig,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The URL in use (the last that answered), fit for logs. */
  get url(): string {
    return safeUrl(this.preferred ?? this.cfg.urls[0] ?? '');
  }

  /** How long one call waits for supervisord's answer unless told otherwise (`supervisor.timeout`). */
  get timeoutMs(): number {
    return this.cfg.timeoutMs;
  }

  /** The URLs to try, the last one that worked first. */
  private order(): string[] {
    const urls = this.cfg.urls;
    return this.preferred ? [this.preferred, ...urls.filter((u) => u !== this.preferred)] : urls;
  }

  /** `timeoutMs`: how long to wait for the answer (`supervisor.timeout` unless given). */
  async call(method: string, params: XmlRpcValue[] = [], signal?: AbortSignal, timeoutMs = this.cfg.timeoutMs): Promise<XmlRpcValue> {
    const missed: SupervisorError[] = [];
    for (const url of this.order()) {
      try {
        const value = await this.callAt(url, method, params, signal, timeoutMs);
        this.preferred = url;
        return value;
      } catch (err) {
        // Only "nobody there" (or "not ours to open") moves on to the next default socket; a
        // real answer (401, fault, garbage) does not.
        if (!(err instanceof SupervisorError) || (err.failure !== 'unreachable' && err.failure !== 'permission')) throw err;
        missed.push(err);
      }
    }
    // A socket we may not open says more than a missing one beside it.
    const failure = missed.some((e) => e.failure === 'permission') ? 'permission' : 'unreachable';
    throw new SupervisorError(failure, missed.map((e) => e.message.replace(/^supervisor: /, '')).join('; ') || 'no supervisor URL configured');
  }

  /**
   * supervisord itself: version, identification, state and pid, in one round trip. Each is
   * answered in constant time, however many processes supervisord runs.
   */
  async head(signal?: AbortSignal): Promise<SupervisorHead> {
    return this.headOf(await this.multicall(HEAD_CALLS, signal));
  }

  /** Everything the exporter needs in one round trip: head() plus getAllProcessInfo. */
  async snapshot(signal?: AbortSignal, timeoutMs = this.cfg.timeoutMs): Promise<SupervisorSnapshot> {
    const values = await this.multicall([...HEAD_CALLS, 'supervisor.getAllProcessInfo'], signal, timeoutMs);
    return { ...this.headOf(values), processes: parseProcessInfo(values[HEAD_CALLS.length] as XmlRpcValue) };
  }

  private headOf(values: XmlRpcValue[]): SupervisorHead {
    const state = values[2] as Record<string, XmlRpcValue> | null | undefined;
    return {
      url: this.preferred ?? this.cfg.urls[0] ?? '',
      version: str(values[0]),
      identification: str(values[1]),
      state: str(state !== null && typeof state === 'object' && !Array.isArray(state) ? state.statename : undefined) || 'UNKNOWN',
      pid: num(values[3]),
    };
  }

  /** Calls methods without parameters in one system.multicall; a failed call fails the whole. */
  private async multicall(calls: readonly string[], signal?: AbortSignal, timeoutMs = this.cfg.timeoutMs): Promise<XmlRpcValue[]> {
    const result = await this.call('system.multicall', [calls.map((methodName) => ({ methodName, params: [] }))], signal, timeoutMs);
    if (!Array.isArray(result) || result.length !== calls.length) {
      throw new SupervisorError('protocol', 'unexpected system.multicall answer');
    }
    // supervisord's multicall returns each result bare (not wrapped in a one-element array as
    // the XML-RPC multicall convention has it); a failed call is a {faultCode, faultString} struct.
    return result.map((r, i) => {
      if (r !== null && typeof r === 'object' && !Array.isArray(r) && 'faultCode' in r) {
        throw new SupervisorError('protocol', `${calls[i]} failed: ${typeof r.faultString === 'string' ? clip(r.faultString) : 'fault'}`);
      }
      return r;
    });
  }

  private async callAt(url: string, method: string, params: XmlRpcValue[], signal: AbortSignal | undefined, timeoutMs: number): Promise<XmlRpcValue> {
    let password: string | undefined;
    try {
      // Without a username the password is never sent; an unreadable password_file still fails.
      if (this.cfg.username !== undefined || this.cfg.passwordFile) password = readSupervisorPassword(this.cfg, this.env);
    } catch (err) {
      throw new SourceError('supervisor', `cannot read password_file: ${describeError(err)}`);
    }
    const body = encodeCall(method, params);
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'text/xml',
      'content-length': Buffer.byteLength(body),
    };
    if (this.cfg.username !== undefined) {
      const token = Buffer.from(`${this.cfg.username}:${password ?? ''}`).toString('base64');
      headers.authorization = `Basic ${token}`;
    }
    let options: http.RequestOptions;
    let mod: typeof http | typeof https = http;
    if (url.startsWith('unix://')) {
      options = { socketPath: url.slice('unix://'.length), path: '/RPC2', method: 'POST', headers };
    } else {
      const u = new URL(url);
      mod = u.protocol === 'https:' ? https : http;
      options = {
        hostname: u.hostname.replace(/^\[|\]$/g, ''),
        port: u.port || (u.protocol === 'https:' ? 443 : 80),
        path: u.pathname && u.pathname !== '/' ? u.pathname + u.search : '/RPC2',
        method: 'POST',
        headers,
      };
    }
    const xml = await exchange(mod, options, body, safeUrl(url), timeoutMs, signal);
    // A large answer (thousands of processes) is decoded in slices.
    const slicer = new WorkSlicer(signal ?? new AbortController().signal);
    try {
      return await decodeResponseSliced(xml, () => slicer.next());
    } catch (err) {
      if (err instanceof XmlRpcFault) throw new SupervisorError('protocol', `${method}: ${err.message}`);
      if (err instanceof XmlRpcFormatError) throw new SupervisorError('protocol', `${safeUrl(url)}: ${err.message}`);
      if (signal?.aborted) throw new SupervisorError('timeout', `${safeUrl(url)}: aborted while decoding the answer (collector deadline or shutdown)`);
      throw err;
    }
  }
}

/** A URL fit for logs and labels: credentials removed. */
export function safeUrl(url: string): string {
  if (url.startsWith('unix://')) return url;
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

// typeof first: a struct where a scalar belongs must not reach Number()/String(), which call
// its members (a member named valueOf or toString throws).
function num(v: XmlRpcValue | undefined): number {
  return typeof v === 'number' ? v : typeof v === 'string' ? Number(v) || 0 : 0;
}

function str(v: XmlRpcValue | undefined): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

/** getAllProcessInfo's structs → typed processes. Exported for unit tests. */
export function parseProcessInfo(v: XmlRpcValue): SupervisorProcess[] {
  if (!Array.isArray(v)) throw new SupervisorError('protocol', 'getAllProcessInfo did not return a list');
  return v.map((item) => {
    const p = (item !== null && typeof item === 'object' && !Array.isArray(item) ? item : {}) as Record<string, XmlRpcValue>;
    const code = num(p.state);
    return {
      group: str(p.group),
      name: str(p.name),
      description: str(p.description),
      // A code this exporter does not know (a future supervisor) is UNKNOWN, so the state set keeps exactly one 1.
      state: PROCESS_STATES[code] ?? 'UNKNOWN',
      start: num(p.start),
      stop: num(p.stop),
      pid: num(p.pid),
      exitStatus: num(p.exitstatus),
      spawnErr: str(p.spawnerr),
      stdoutLogfile: str(p.stdout_logfile ?? p.logfile),
      stderrLogfile: str(p.stderr_logfile),
    };
  });
}
