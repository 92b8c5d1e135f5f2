// The worker thread bcrypt comparisons run in: tens of milliseconds of CPU each, which on the
// main thread would delay every other request by as much.
import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';

export interface CompareRequest {
  id: number;
  password: string;
  hash: string;
}

export interface CompareAnswer {
  id: number;
  ok: boolean;
}

parentPort?.on('message', (m: CompareRequest) => {
  let ok: boolean;
  try {
    ok = bcrypt.compareSync(m.password, m.hash);
  } catch {
    // bcryptjs throws on a hash it cannot parse; the config check admits none, so this is a no.
    ok = false;
  }
  parentPort?.postMessage({ id: m.id, ok } satisfies CompareAnswer);
});
