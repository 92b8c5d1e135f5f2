// Captures real supervisord answers for the XML-RPC fuzz target: run it with
// `node --import tsx test/fuzz/corpus/xmlrpc/capture.ts` (Debian's supervisor installed);
// it rewrites the *.xml files beside it. Programs cover groups, numprocs, a stopped, an
// exited and a fatal process, non-ASCII and XML-special characters in names and commands.
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeCall, type XmlRpcValue } from '../../../../src/sources/xmlrpc.js';
import { programs, sleep, Supervisord } from '../../../helpers/supervisord.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const ROOT = path.resolve(here, '..', '..', '..', '..');

function post(socketPath: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: '/RPC2', method: 'POST', headers: { 'content-type': 'text/xml' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sv = await Supervisord.start({
  programs: [
    { name: 'kalshi_account_sync', command: programs.sleep() },
    { name: 'main_app', command: programs.sleep() },
    { name: 'worker', command: programs.sleep(), options: { numprocs: '3' } },
    { name: 'late', command: programs.sleep(), options: { autostart: 'false' } },
    { name: 'quitter', command: programs.exitAfter(0, 3), options: { startsecs: '0' } },
    { name: 'crasher', command: programs.exitAfter(0, 1), options: { startsecs: '5', startretries: '0' } },
    { name: 'caf\u00e9_\u6f22\u5b57', command: `${programs.sleep()} --tag=a&b<c>"d'`, options: { environment: 'A="x&y"' } },
  ],
  groups: { kalshi: ['kalshi_account_sync'] },
});
try {
  await sv.waitFor((s) => s.get('quitter')?.state === 'EXITED' && s.get('crasher')?.state === 'FATAL');
  await sleep(500);
  const calls: Array<[string, string, XmlRpcValue[]]> = [
    ['getAllProcessInfo', 'supervisor.getAllProcessInfo', []],
    ['getAllConfigInfo', 'supervisor.getAllConfigInfo', []],
    ['getState', 'supervisor.getState', []],
    ['getProcessInfo-missing', 'supervisor.getProcessInfo', ['no_such_program']],
    [
      'multicall-snapshot',
      'system.multicall',
      [['supervisor.getSupervisorVersion', 'supervisor.getIdentification', 'supervisor.getState', 'supervisor.getPID', 'supervisor.getAllProcessInfo'].map((methodName) => ({ methodName, params: [] }))],
    ],
  ];
  for (const [file, method, params] of calls) {
    const answer = await post(sv.socket, encodeCall(method, params));
    // Machine-specific parts (the temporary folder, the checkout's path) made stable.
    const stable = answer.split(sv.dir).join('/tmp/hostaudit-sv').split(path.basename(sv.dir)).join('hostaudit-sv').split(ROOT).join('/srv/hostaudit');
    writeFileSync(path.join(here, `${file}.xml`), stable);
  }
} finally {
  await sv.cleanup();
}
