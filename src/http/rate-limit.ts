// exporter-toolkit's rate_limit: a token bucket over all requests (one token per interval, up
// to `burst` saved), checked before authentication; past it the answer is 429.
import type { NextFunction, Request, Response } from 'express';
import type { RateLimit } from './web-config.js';

export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = () => performance.now(),
  ) {
    // Like Go's rate.Limiter, it starts full.
    this.tokens = limit.burst;
    this.last = this.now();
  }

  allow(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + (t - this.last) / this.limit.intervalMs);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  middleware(): (req: Request, res: Response, next: NextFunction) => void {
    return (_req, res, next) => {
      if (this.allow()) next();
      else res.status(429).type('text/plain').send('Too Many Requests\n');
    };
  }
}
