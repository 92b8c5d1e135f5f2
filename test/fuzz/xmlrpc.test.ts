// Fuzz target: the XML-RPC decoder and the client's reading of its values. Inputs: answers
// captured from a real supervisord (corpus/xmlrpc/*.xml, made by capture.ts there), their
// mutations, generated well-formed answers, and random text. Intact inputs must decode to
// what Python's xmlrpc.client.loads gives (run once per batch); anything may be refused, but
// only with the typed errors, and each run stays within its budget.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { parseProcessInfo } from '../../src/sources/supervisor.js';
import { SupervisorError } from '../../src/sources/supervisor-error.js';
import { decodeResponse, decodeResponseSliced, MAX_DEPTH, XmlRpcFault, XmlRpcFormatError, type XmlRpcValue } from '../../src/sources/xmlrpc.js';
import { fuzzParams, mutate, textEdit } from '../helpers/fuzz.js';
import { PYTHON } from '../helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from '../helpers/tmp.js';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const CORPUS = path.join(HERE, 'corpus', 'xmlrpc');
const REGRESSIONS = path.join(CORPUS, 'regressions');
const read = (dir: string): Array<[string, string]> =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.xml'))
    .sort()
    .map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]);
const captured = read(CORPUS);
const regressions = read(REGRESSIONS);

/** Work allowed per decode, as wall time on a loaded machine: the decoder is linear, these inputs are < 100 kB. */
const BUDGET_MS = 1000;

const tmp = makeTmpDir('hostaudit-fuzz-xmlrpc-');
after(() => removeTmpDir(tmp));
let slowest = 0;
after(() => process.stdout.write(`# xmlrpc: slowest run ${slowest.toFixed(1)} ms (budget ${BUDGET_MS} ms)\n`));

type Outcome = { value: XmlRpcValue } | { fault: [number, string] } | { error: string };

const PY = String.raw`
import json, sys, xmlrpc.client
docs = json.load(open(sys.argv[1], encoding='utf-8'))
out = []
for d in docs:
    try:
        (v,), _ = xmlrpc.client.loads(d)
        out.append({'value': v})
    except xmlrpc.client.Fault as f:
        out.append({'fault': [f.faultCode, f.faultString]})
    except Exception as e:
        out.append({'error': type(e).__name__ + ': ' + str(e)})
json.dump(out, open(sys.argv[2], 'w', encoding='utf-8'))
`;

/** Python's decode of every document, in one python3 run. */
function pythonDecode(docs: readonly string[]): Outcome[] {
  const inFile = path.join(tmp, 'docs.json');
  const outFile = path.join(tmp, 'out.json');
  writeFileSync(inFile, JSON.stringify(docs));
  const r = spawnSync(PYTHON, ['-c', PY, inFile, outFile], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(readFileSync(outFile, 'utf8')) as Outcome[];
}

function ours(doc: string): Outcome {
  try {
    return { value: decodeResponse(doc) };
  } catch (err) {
    if (err instanceof XmlRpcFault) return { fault: [err.faultCode, err.faultString] };
    if (err instanceof XmlRpcFormatError) return { error: err.message };
    throw err;
  }
}

/** The sliced decoder's outcome, run to its end (its pauses resolve at once). */
async function oursSliced(doc: string): Promise<Outcome> {
  try {
    return { value: await decodeResponseSliced(doc, async () => undefined) };
  } catch (err) {
    if (err instanceof XmlRpcFault) return { fault: [err.faultCode, err.faultString] };
    if (err instanceof XmlRpcFormatError) return { error: err.message };
    throw err;
  }
}

/** Decodes and reads as the client does; fails the property on any untyped exception or a blown budget. */
function survives(doc: string): void {
  const t0 = performance.now();
  let v: XmlRpcValue | undefined;
  try {
    v = decodeResponse(doc);
  } catch (err) {
    if (!(err instanceof XmlRpcFormatError || err instanceof XmlRpcFault)) throw err;
    // The message goes into a log line: the peer's text in it is clipped.
    assert.ok(err.message.length < 400, `a message of ${err.message.length} chars`);
  }
  if (v !== undefined) {
    // The client reads a list of processes, or a multicall whose fifth value is one.
    for (const list of [v, Array.isArray(v) ? v[4] : undefined]) {
      try {
        for (const p of parseProcessInfo(list ?? null)) {
          assert.equal(typeof p.name, 'string');
          assert.equal(typeof p.pid, 'number');
        }
      } catch (err) {
        if (!(err instanceof SupervisorError)) throw err;
      }
    }
  }
  const ms = performance.now() - t0;
  slowest = Math.max(slowest, ms);
  assert.ok(ms < BUDGET_MS, `${doc.length} chars took ${ms.toFixed(0)} ms`);
}

// Well-formed answers, encoded as supervisord (Python's xmlrpc) would, with the liberties
// both decoders accept: untyped strings, i4/i8, empty elements, whitespace between elements.
const xmlChar = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 24 }),
    fc.string({ unit: fc.constantFrom('<', '>', '&', '"', "'", '\r', '\n', '\t', ' ', ';', '#', 'a', 'Z', '0', '\u00e9', '\u6f22', '\u{1f600}'), maxLength: 24 }),
  )
  .map((s) => [...s].filter((ch) => /[\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u.test(ch)).join(''));
const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
const ws = fc.constantFrom('', '', '\n', ' ', '\n  ');

const { value: arbValue } = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    xmlChar.map((s) => `<value><string>${escape(s)}</string></value>`),
    xmlChar.filter((s) => s.trim() !== '' || s === '').map((s) => `<value>${escape(s)}</value>`),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).chain((n) => fc.constantFrom('int', 'i4', 'i8').map((t) => `<value><${t}>${n}</${t}></value>`)),
    fc.boolean().map((b) => `<value><boolean>${b ? 1 : 0}</boolean></value>`),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => `<value><double>${String(d)}</double></value>`),
    fc.constant('<value><nil/></value>'),
    fc.tuple(fc.array(tie('value'), { maxLength: 5 }), ws).map(([vs, w]) => `<value><array><data>${w}${vs.join(w)}${w}</data></array></value>`),
    fc
      .tuple(fc.array(fc.tuple(fc.oneof(xmlChar, fc.constantFrom('__proto__', 'toString', 'valueOf', 'constructor')), tie('value')), { maxLength: 5 }), ws)
      .map(([ms, w]) => `<value><struct>${w}${ms.map(([k, v]) => `<member>${w}<name>${escape(k)}</name>${w}${v}${w}</member>`).join(w)}${w}</struct></value>`),
  ),
}));
const arbAnswer = fc.oneof(
  arbValue.map((v) => `<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n${v}\n</param>\n</params>\n</methodResponse>\n`),
  fc
    .tuple(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), xmlChar)
    .map(
      ([code, s]) =>
        `<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>${code}</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>${escape(s)}</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n`,
    ),
);

const fragments = fc.constantFrom(
  '<',
  '>',
  '/',
  '&',
  '&amp;',
  '&#x110000;',
  '&#0;',
  '&#xD800;',
  '&bogus;',
  '<![CDATA[',
  ']]>',
  '<!--',
  '-->',
  '<?',
  '?>',
  '<value>',
  '</value>',
  '<value/>',
  '<array><data>',
  '</data></array>',
  '<struct>',
  '</struct>',
  '<member>',
  '<name>__proto__</name>',
  '<name>toString</name>',
  '<name>valueOf</name>',
  '<int>',
  '</int>',
  '<int>1e999</int>',
  '<double>NaN</double>',
  '<boolean>',
  '<nil/>',
  '<fault>',
  '<params>',
  '<methodResponse>',
  '\u0000',
  '\ud800',
);
const edit = textEdit({ maxLen: 200, text: fc.oneof(fragments, fc.string({ maxLength: 16 }), fc.string({ unit: 'binary', maxLength: 8 })) });

describe('fuzz: XML-RPC', () => {
  it('decodes every captured supervisord answer as Python does', () => {
    assert.ok(captured.length >= 5, 'the captured corpus is there');
    const py = pythonDecode(captured.map(([, d]) => d));
    captured.forEach(([file, doc], i) => {
      const expected = py[i] as Outcome;
      assert.ok(!('error' in expected), `${file}: Python refused it: ${JSON.stringify(expected)}`);
      assert.deepStrictEqual(ours(doc), expected, file);
    });
    // The snapshot the collector asks for: every process read.
    const snap = decodeResponse(captured.find(([f]) => f === 'multicall-snapshot.xml')?.[1] ?? '');
    assert.ok(Array.isArray(snap));
    assert.equal(parseProcessInfo(snap[4] as XmlRpcValue).length, 9);
  });

  it('decodes generated well-formed answers as Python does', () => {
    const docs = fc.sample(arbAnswer, fuzzParams(1500) as fc.Parameters<string>);
    for (const needle of ['<member>', '<array>', '<fault>', '&lt;', '<nil/>', '<i8>', '<name>__proto__</name>']) {
      assert.ok(docs.some((d) => d.includes(needle)), `the generator makes ${needle}`);
    }
    const py = pythonDecode(docs);
    docs.forEach((doc, i) => {
      const expected = py[i] as Outcome;
      assert.ok(!('error' in expected), `Python refused a generated answer: ${JSON.stringify(expected)}\n${doc}`);
      assert.deepStrictEqual(ours(doc), expected, doc);
    });
  });

  it('survives mutations of the captured answers', () => {
    fc.assert(
      fc.property(fc.constantFrom(...captured.map(([, d]) => d)), fc.array(edit, { minLength: 1, maxLength: 8 }), (doc, edits) => survives(mutate(doc, edits))),
      fuzzParams(3000),
    );
  });

  it('decodes in slices exactly as in one go, intact or mutated', async () => {
    for (const [file, doc] of captured) assert.deepStrictEqual(await oursSliced(doc), ours(doc), file);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom(...captured.map(([, d]) => d)), arbAnswer),
        fc.array(edit, { maxLength: 6 }),
        async (doc, edits) => {
          const d = mutate(doc, edits);
          assert.deepStrictEqual(await oursSliced(d), ours(d));
        },
      ),
      fuzzParams(2000),
    );
  });

  it('survives random text and mutated generated answers', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.tuple(arbAnswer, fc.array(edit, { maxLength: 4 })).map(([d, e]) => mutate(d, e))),
        survives,
      ),
      fuzzParams(3000),
    );
  });

  it(`refuses nesting deeper than ${MAX_DEPTH}, however deep, as a format error`, () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_DEPTH + 1, max: 200_000 }), fc.constantFrom('array', 'struct'), (depth, kind) => {
        const open = kind === 'array' ? '<value><array><data>' : '<value><struct><member><name>k</name>';
        const close = kind === 'array' ? '</data></array></value>' : '</member></struct></value>';
        const doc = `<methodResponse><params><param>${open.repeat(depth)}<value/>${close.repeat(depth)}</param></params></methodResponse>`;
        assert.throws(() => decodeResponse(doc), XmlRpcFormatError);
      }),
      fuzzParams(50),
    );
  });

  it('keeps peer text in error messages short', () => {
    const long = 'x'.repeat(1_000_000);
    for (const doc of [
      `<methodResponse><params><param><value><${long}>1</${long}></value></param></params></methodResponse>`,
      `<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value>${long}</value></member></struct></value></fault></methodResponse>`,
    ]) {
      assert.throws(() => decodeResponse(doc), (e: Error) => (e instanceof XmlRpcFormatError || e instanceof XmlRpcFault) && e.message.length < 400);
    }
  });

  it('keeps the inputs that once failed as regressions', () => {
    assert.ok(regressions.length >= 3);
    const py = pythonDecode(regressions.map(([, d]) => d));
    regressions.forEach(([file, doc], i) => {
      survives(doc);
      const expected = py[i] as Outcome;
      if ('value' in expected) assert.deepStrictEqual(ours(doc), expected, file);
    });
  });
});
