// HTTP basic auth against bcrypt hashes, as exporter-toolkit's basic_auth_users. bcrypt runs
// in a worker thread (bcrypt-pool.ts) with a bounded queue; verdicts are cached under an HMAC
// with a key made at start, so the cache never holds a password nor anything that can be
// checked against one outside this process; an unknown user costs a comparison against a
// made-up hash of a configured cost, so it answers no faster than a known one.
import { createHmac, randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { BcryptWorker } from './bcrypt-pool.js';

export interface BasicAuthOptions {
  /** Comparisons queued or running beyond which a request is refused at once. */
  maxQueued?: number;
  /** Verdicts remembered: successes and failures apart, so guesses never evict the real scraper. */
  grantedCacheSize?: number;
  deniedCacheSize?: number;
  log?: Logger;
}

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A well-formed bcrypt hash of the given cost that no password was hashed into. */
function madeUpHash(cost: number): string {
  const chars = [...randomBytes(53)].map((b) => BCRYPT_ALPHABET[b & 63]).join('');
  return `$2b$${String(cost).padStart(2, '0')}$${chars}`;
}

function costOf(hash: string): number {
  return Number(/^\$2[aby]\$(\d\d)\$/.exec(hash)?.[1] ?? 10);
}

/** Insertion-ordered set that forgets its oldest entries past a size. */
class BoundedSet {
  private readonly items = new Set<string>();
  constructor(private readonly size: number) {}
  has(k: string): boolean {
    return this.items.has(k);
  }
  add(k: string): void {
    if (this.items.has(k)) return;
    if (this.items.size >= this.size) {
      const oldest = this.items.values().next().value;
      if (oldest !== undefined) this.items.delete(oldest);
    }
    this.items.add(k);
  }
}

export type Verdict = boolean | 'busy';

export class BasicAuth {
  private readonly key = randomBytes(32);
  private readonly granted: BoundedSet;
  private readonly denied: BoundedSet;
  private readonly pending = new Map<string, Promise<boolean>>();
  private readonly pool: BcryptWorker;
  /** One made-up hash per cost in use, for unknown users. */
  private readonly decoys: string[];
  /** bcrypt comparisons actually started, and their costs (tests assert caching and decoy cost with them). */
  comparisons = 0;
  readonly comparisonsByCost = new Map<number, number>();

  constructor(
    private readonly users: ReadonlyMap<string, string>,
    private readonly opts: BasicAuthOptions = {},
  ) {
    this.pool = new BcryptWorker(opts.maxQueued ?? 32);
    this.granted = new BoundedSet(opts.grantedCacheSize ?? 64);
    this.denied = new BoundedSet(opts.deniedCacheSize ?? 1024);
    const costs = [...new Set([...users.values()].map(costOf))].sort((a, b) => a - b);
    this.decoys = (costs.length > 0 ? costs : [10]).map(madeUpHash);
  }

  /** Parses an Authorization header; undefined when absent or not Basic. */
  static credentials(header: string | undefined): { user: string; password: string } | undefined {
    if (!header) return undefined;
    const m = /^basic[ ]+([A-Za-z0-9+/=]+)[ ]*$/i.exec(header);
    if (!m) return undefined;
    const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) return undefined;
    return { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
  }

  /** true: authenticated; false: wrong or missing; 'busy': too many comparisons waiting. */
  async verify(header: string | undefined): Promise<Verdict> {
    const c = BasicAuth.credentials(header);
    if (!c) return false;
    const digest = createHmac('sha256', this.key).update(c.user).update('\0').update(c.password).digest('base64');
    if (this.granted.has(digest)) return true;
    if (this.denied.has(digest)) return false;
    // Concurrent requests with the same credentials share one comparison.
    let p = this.pending.get(digest);
    if (!p) {
      const known = this.users.get(c.user);
      const hash = known ?? this.decoyFor(c.user);
      const started = this.pool.compare(c.password, hash);
      if (started === 'busy') return 'busy';
      this.comparisons++;
      const cost = costOf(hash);
      this.comparisonsByCost.set(cost, (this.comparisonsByCost.get(cost) ?? 0) + 1);
      p = started
        .then((ok) => {
          const verdict = ok && known !== undefined;
          (verdict ? this.granted : this.denied).add(digest);
          return verdict;
        })
        .finally(() => this.pending.delete(digest));
      this.pending.set(digest, p);
    }
    return p;
  }

  /** Unknown users are spread over the configured costs by a keyed hash of the name. */
  private decoyFor(user: string): string {
    const h = createHmac('sha256', this.key).update('decoy\0').update(user).digest();
    return this.decoys[h.readUInt32BE(0) % this.decoys.length] as string;
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  middleware(): (req: Request, res: Response, next: NextFunction) => void {
    const deny = (res: Response): void => {
      res.status(401).set('WWW-Authenticate', 'Basic').type('text/plain').send('Unauthorized\n');
    };
    return (req, res, next) => {
      this.verify(req.get('authorization')).then(
        (verdict) => {
          // A full queue is a refusal like any other: guessers learn nothing and wait for nothing.
          if (verdict === true) next();
          else deny(res);
        },
        (err: unknown) => {
          this.opts.log?.error('basic auth comparison failed', { err: describeError(err) });
          res.status(500).type('text/plain').send('Internal Server Error\n');
        },
      );
    };
  }
}
