// The hand-written XML-RPC decoder on the XML forms a conforming server may send beyond
// supervisord's own habits: entities, CDATA, comments, self-closing elements, member order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeResponse } from '../../src/sources/xmlrpc.js';

const wrap = (v: string): string => `<?xml version="1.0" encoding="UTF-8"?>\n<!-- c -->\n<methodResponse><params><param>${v}</param></params></methodResponse>`;

describe('XML-RPC decoder', () => {
  it('decodes named and numeric entities and CDATA, keeping whitespace', () => {
    assert.equal(decodeResponse(wrap('<value><string>&lt;a&gt; &amp; &quot;b&quot; &apos;c&apos; &#65;&#x42; &#x2603; &bogus;</string></value>')), `<a> & "b" 'c' AB ☃ &bogus;`);
    assert.equal(decodeResponse(wrap('<value><string>x<![CDATA[<not a tag> & ]]>y</string></value>')), 'x<not a tag> & y');
    assert.equal(decodeResponse(wrap('<value><string>\n  line one\n  line two\n</string></value>')), '\n  line one\n  line two\n');
    assert.equal(decodeResponse(wrap('<value>  untyped &amp; spaced  </value>')), '  untyped & spaced  ');
  });

  it('accepts self-closing and empty elements', () => {
    assert.equal(decodeResponse(wrap('<value><string/></value>')), '');
    assert.equal(decodeResponse(wrap('<value/>')), '');
    assert.equal(decodeResponse(wrap('<value></value>')), '');
    assert.deepEqual(decodeResponse(wrap('<value><array><data/></array></value>')), []);
    assert.deepEqual(decodeResponse(wrap('<value><struct/></value>')), {});
    assert.equal(decodeResponse(wrap('<value><nil></nil></value>')), null);
  });

  it('decodes nested arrays and structs, members with value before name, comments between elements', () => {
    const v = decodeResponse(
      wrap(`<value><array><data>
        <!-- first -->
        <value><array><data><value><i8>9007199254740991</i8></value><value><double>-1.5e3</double></value></data></array></value>
        <value><struct>
          <member><value><boolean>0</boolean></value><name>flag</name></member>
          <member ><name>when</name><value><dateTime.iso8601>20250728T12:00:00</dateTime.iso8601></value></member>
          <member><name>blob</name><value><base64> aGk= </base64></value></member>
        </struct></value>
      </data></array></value>`),
    );
    assert.deepEqual(v, [[9007199254740991, -1500], { flag: false, when: '20250728T12:00:00', blob: 'aGk=' }]);
  });

  it('rejects truncated and malformed documents with an error, never a wrong value', () => {
    const bad = [
      wrap('<value><string>abc'),
      wrap('<value><int>1</int>'),
      wrap('<value><array><data><value><int>1</int></value>'),
      wrap('<value><struct><member><name>a</name></member></struct></value>'),
      wrap('<value>text<int>1</int></value>'),
      wrap('<value><int></int></value>'),
      wrap('<value><double>x</double></value>'),
      wrap('<value><date>1</date></value>'),
      wrap('<value><string>a</strin></value>'),
      '<methodResponse/>',
      '<methodResponse><params><param/></params></methodResponse>',
    ];
    for (const xml of bad) assert.throws(() => decodeResponse(xml), Error, xml);
  });

  it('decodes a 500-process getAllProcessInfo answer field by field', () => {
    const member = (n: string, v: string): string => `<member><name>${n}</name><value>${v}</value></member>`;
    const procs = Array.from({ length: 500 }, (_, i) =>
      `<value><struct>${member('name', `<string>worker_${i}</string>`)}${member('group', '<string>worker</string>')}${member('pid', `<int>${1000 + i}</int>`)}${member('description', `<string>pid ${1000 + i}, uptime 0:0${i % 10}:00</string>`)}</struct></value>`,
    ).join('\n');
    const v = decodeResponse(wrap(`<value><array><data>${procs}</data></array></value>`)) as Array<Record<string, unknown>>;
    assert.equal(v.length, 500);
    assert.deepEqual(v[499], { name: 'worker_499', group: 'worker', pid: 1499, description: 'pid 1499, uptime 0:09:00' });
  });
});
