// Fuzz target: the web config (YAML text → loadWebConfig, mutations of toolkit's cases in
// test/fixtures/web-config), the Authorization header and /proc/self/limits parsers. Only a
// ConfigError may escape the web config; the header and limits parsers never throw.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../../src/errors.js';
import { BasicAuth } from '../../src/http/basic-auth.js';
import { connectionCap, readNofileLimit } from '../../src/http/fd-limit.js';
import { loadWebConfig, parseWebConfig } from '../../src/http/web-config.js';
import { ROOT } from '../helpers/exporter.js';
import { fuzzParams } from '../helpers/fuzz.js';
import { makeTmpDir, removeTmpDir } from '../helpers/tmp.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'web-config');
const seeds = readdirSync(FIXTURES).map((f) => readFileSync(path.join(FIXTURES, f), 'utf8'));
const dir = makeTmpDir('hostaudit-fuzz-web-');
after(() => removeTmpDir(dir));

const onlyConfigError = (fn: () => unknown): void => {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    assert.ok(!err.message.includes('\n'), `a multi-line error: ${err.message}`);
  }
};

/** A seed with a slice replaced by random text: keys, values and indentation change. */
const mutated = fc
  .tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat(40), fc.string({ maxLength: 40 }))
  .map(([s, at, len, ins]) => {
    const i = s.length === 0 ? 0 : at % s.length;
    return s.slice(0, i) + ins + s.slice(i + len);
  });

describe('fuzz: web config', () => {
  it('inputs that once failed: an alias with no anchor (toJS threw a ReferenceError)', () => {
    const f = path.join(ROOT, 'test', 'fuzz', 'corpus', 'web-config-unresolved-alias.yml');
    assert.throws(() => loadWebConfig(f), (e: unknown) => e instanceof ConfigError && /invalid YAML: unresolved alias/.test(e.message));
  });

  it('inputs that once failed: a path with a newline folded into it (the error was two lines)', () => {
    const f = path.join(ROOT, 'test', 'fuzz', 'corpus', 'web-config-folded-path.yml');
    assert.throws(
      () => loadWebConfig(f),
      (e: unknown) => e instanceof ConfigError && !e.message.includes('\n') && /cert_file: cannot read .*server\.crt\\n- TLS_/.test(e.message),
    );
  });

  it('a mutated toolkit case is a valid config or one ConfigError line', () => {
    const file = path.join(dir, 'web.yml');
    fc.assert(
      fc.property(mutated, (text) => {
        writeFileSync(file, text);
        onlyConfigError(() => loadWebConfig(file));
      }),
      fuzzParams(2000),
    );
  });

  it('any JSON value as the parsed document is a valid config or one ConfigError line', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (doc) => onlyConfigError(() => parseWebConfig(doc, path.join(dir, 'w.yml'), dir))),
      fuzzParams(3000),
    );
  });
});

describe('fuzz: Authorization header and /proc/self/limits', () => {
  it('credentials() never throws and round-trips what it accepts', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string().map((s) => `Basic ${Buffer.from(s).toString('base64')}`)), (h) => {
        const c = BasicAuth.credentials(h);
        if (c) assert.ok(!c.user.includes(':'));
      }),
      fuzzParams(3000),
    );
  });

  it('readNofileLimit() never throws; the cap stays between 16 and 4096 and below the limit when it can', () => {
    const real = readFileSync('/proc/self/limits', 'utf8');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.tuple(fc.nat(real.length), fc.string()).map(([i, s]) => real.slice(0, i) + s + real.slice(i))), (text) => {
        const n = readNofileLimit(text);
        if (n !== undefined) assert.ok(Number.isInteger(n) && n >= 0);
        const cap = connectionCap(n);
        assert.ok(cap >= 16 && cap <= 4096);
        if (n !== undefined && n >= 128) assert.ok(cap < n);
      }),
      fuzzParams(3000),
    );
  });
});
