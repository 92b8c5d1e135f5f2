import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeResponse, encodeCall, XmlRpcFault } from '../../src/sources/xmlrpc.js';
import { parseProcessInfo } from '../../src/sources/supervisor.js';

const wrap = (v: string): string =>
  `<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n${v}\n</param>\n</params>\n</methodResponse>\n`;

describe('XML-RPC', () => {
  it('encodes a call with escaped strings and typed params', () => {
    const xml = encodeCall('supervisor.tailProcessLog', ['a<b&"c"', 0, true, 1.5, [1], { k: 'v' }]);
    assert.match(xml, /<methodName>supervisor\.tailProcessLog<\/methodName>/);
    assert.match(xml, /<string>a&lt;b&amp;&quot;c&quot;<\/string>/);
    assert.match(xml, /<int>0<\/int>/);
    assert.match(xml, /<boolean>1<\/boolean>/);
    assert.match(xml, /<double>1.5<\/double>/);
    assert.match(xml, /<array><data><value><int>1<\/int><\/value><\/data><\/array>/);
    assert.match(xml, /<struct><member><name>k<\/name><value><string>v<\/string><\/value><\/member><\/struct>/);
  });

  it('decodes typed and untyped values, structs and arrays as supervisord sends them', () => {
    const v = decodeResponse(
      wrap(`<value><array><data>
<value><struct>
<member><name>name</name><value><string>kalshi_account_sync</string></value></member>
<member><name>group</name><value><string>kalshi</string></value></member>
<member><name>description</name><value><string>pid 4242, uptime 0:20:01</string></value></member>
<member><name>state</name><value><int>20</int></value></member>
<member><name>statename</name><value><string>RUNNING</string></value></member>
<member><name>start</name><value><int>1753700000</int></value></member>
<member><name>stop</name><value><i4>0</i4></value></member>
<member><name>pid</name><value><int>4242</int></value></member>
<member><name>exitstatus</name><value><int>0</int></value></member>
<member><name>spawnerr</name><value>  spaced  </value></member>
<member><name>stdout_logfile</name><value><string>/var/log/a &amp; b.log</string></value></member>
<member><name>stderr_logfile</name><value><string></string></value></member>
<member><name>ok</name><value><boolean>1</boolean></value></member>
</struct></value>
</data></array></value>`),
    );
    assert.ok(Array.isArray(v));
    const p = (v as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
    assert.equal(p.name, 'kalshi_account_sync');
    assert.equal(p.state, 20);
    assert.equal(p.stop, 0);
    assert.equal(p.spawnerr, '  spaced  ');
    assert.equal(p.stdout_logfile, '/var/log/a & b.log');
    assert.equal(p.stderr_logfile, '');
    assert.equal(p.ok, true);
    const [proc] = parseProcessInfo(v);
    assert.deepEqual(proc, {
      group: 'kalshi',
      name: 'kalshi_account_sync',
      description: 'pid 4242, uptime 0:20:01',
      state: 'RUNNING',
      start: 1753700000,
      stop: 0,
      pid: 4242,
      exitStatus: 0,
      spawnErr: '  spaced  ',
      stdoutLogfile: '/var/log/a & b.log',
      stderrLogfile: '',
    });
  });

  it('maps unknown state codes to UNKNOWN-compatible names', () => {
    const [p] = parseProcessInfo([{ name: 'x', group: 'x', state: 1000, statename: 'UNKNOWN' }]);
    assert.equal(p?.state, 'UNKNOWN');
    const [q] = parseProcessInfo([{ name: 'x', group: 'x', state: 55, statename: 'NEWSTATE' }]);
    assert.equal(q?.state, 'UNKNOWN');
    const [r] = parseProcessInfo([{ name: 'x', group: 'x', state: 200, statename: 'FATAL' }]);
    assert.equal(r?.state, 'FATAL');
  });

  it('throws XmlRpcFault for a fault response', () => {
    const xml = `<?xml version='1.0'?><methodResponse><fault><value><struct>
<member><name>faultCode</name><value><int>10</int></value></member>
<member><name>faultString</name><value><string>BAD_NAME: nope</string></value></member>
</struct></value></fault></methodResponse>`;
    assert.throws(() => decodeResponse(xml), (e: unknown) => e instanceof XmlRpcFault && e.faultCode === 10 && /BAD_NAME/.test(e.faultString));
  });

  it('rejects malformed responses with a clear error', () => {
    assert.throws(() => decodeResponse('<html>502 Bad Gateway</html>'), /no <methodResponse>/);
    assert.throws(() => decodeResponse(wrap('<value><int>abc</int></value>')), /bad <int>/);
    assert.throws(() => decodeResponse('<methodResponse><params></params></methodResponse>'), /no <param>/);
  });

  it('round-trips an empty array and nil', () => {
    assert.deepEqual(decodeResponse(wrap('<value><array><data></data></array></value>')), []);
    assert.equal(decodeResponse(wrap('<value><nil/></value>')), null);
  });
});
