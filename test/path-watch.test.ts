// A tree kept current from inotify, against du and find on a real tree under churn: after each
// burst of changes the figures equal `du -sb` and `find -type f`, with nothing walked again.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  linkSync,
  mkdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WatchBudget } from '../src/sources/watch/watch-budget.js';
import { WatchedTree } from '../src/sources/watch/watched-tree.js';
import { Exporter } from './helpers/exporter.js';
import { value } from './helpers/metrics.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const HOUR = 3600_000;

function du(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}
function findFiles(dir: string, newerThanMs?: number): number {
  const args = [dir, '-type', 'f'];
  if (newerThanMs !== undefined) args.push('-newermt', `@${(newerThanMs / 1000).toFixed(3)}`);
  return execFileSync('find', [...args, '-printf', 'x'], { encoding: 'latin1' }).length;
}

async function until(what: string | (() => string), cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a watched tree', () => {
  let top: string;
  let root: string;
  let outside: string;
  let tree: WatchedTree;
  const lost: string[] = [];
  const cutoff = (): number => Date.now() - HOUR;

  before(async () => {
    top = makeTmpDir('hostaudit-watch-');
    root = path.join(top, 'tree');
    outside = path.join(top, 'outside');
    mkdirSync(outside);
    mkdirSync(path.join(root, 'a', 'b'), { recursive: true });
    for (let i = 0; i < 50; i++) writeFileSync(path.join(root, 'a', `f${i}`), 'x'.repeat(i * 10));
    writeFileSync(path.join(root, 'a', 'b', 'old.log'), 'old');
    utimesSync(path.join(root, 'a', 'b', 'old.log'), new Date(Date.now() - 3 * HOUR), new Date(Date.now() - 3 * HOUR));
    tree = new WatchedTree(root, { maxWindowMs: HOUR, budget: new WatchBudget(1000), overflowAt: 8192, onLost: (r) => lost.push(r) });
    await tree.start();
  });
  after(() => {
    tree.stop();
    removeTmpDir(top);
  });

  async function matches(label: string): Promise<void> {
    let last = '';
    await until(() => `${label}: figures equal du and find (last: ${last})`, () => {
      if (!tree.idle) return false;
      const c = cutoff();
      const f = tree.figures([c]);
      const want = { bytes: du(root), files: findFiles(root), recent: findFiles(root, c) };
      last = JSON.stringify({ got: { bytes: f.bytes, files: f.files, recent: f.filesModified[0] }, want });
      return f.bytes === want.bytes && f.files === want.files && f.filesModified[0] === want.recent;
    });
    assert.deepEqual(lost, [], 'no events lost');
  }

  it('starts equal to du and find, watching every directory', async () => {
    assert.equal(tree.state, 'watching');
    assert.equal(tree.watches, 3);
    await matches('after the walk');
  });

  it('follows appends, truncation, creation and deletion', async () => {
    appendFileSync(path.join(root, 'a', 'f1'), 'more bytes');
    truncateSync(path.join(root, 'a', 'f2'), 0);
    writeFileSync(path.join(root, 'a', 'b', 'new.txt'), 'hello');
    unlinkSync(path.join(root, 'a', 'f3'));
    await matches('appends, truncation, create, delete');
  });

  it('follows renames within, into and out of the tree', async () => {
    renameSync(path.join(root, 'a', 'f4'), path.join(root, 'a', 'b', 'f4-moved'));
    writeFileSync(path.join(outside, 'in.dat'), 'y'.repeat(1234));
    renameSync(path.join(outside, 'in.dat'), path.join(root, 'in.dat'));
    renameSync(path.join(root, 'a', 'f5'), path.join(outside, 'f5-out'));
    await matches('renames');
  });

  it('walks a directory moved in with content, and forgets one moved out', async () => {
    const d = path.join(outside, 'batch');
    mkdirSync(path.join(d, 'deep', 'er'), { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(path.join(d, 'deep', 'er', `g${i}`), 'z'.repeat(100 + i));
    renameSync(d, path.join(root, 'batch'));
    await matches('a directory moved in');
    assert.equal(tree.watches, 6);
    renameSync(path.join(root, 'a', 'b'), path.join(outside, 'b-out'));
    await matches('a directory moved out');
    assert.equal(tree.watches, 5);
    // A file written into the moved-in directory after the move: its watch exists.
    writeFileSync(path.join(root, 'batch', 'deep', 'er', 'later'), 'later');
    await matches('a file in the moved-in directory');
  });

  it('counts a hardlinked inode once, as du, while links appear and disappear', async () => {
    writeFileSync(path.join(root, 'a', 'big'), 'L'.repeat(5000));
    await matches('a file to link');
    linkSync(path.join(root, 'a', 'big'), path.join(root, 'batch', 'big-link'));
    await matches('a second link in the tree');
    linkSync(path.join(root, 'a', 'big'), path.join(outside, 'big-outside'));
    await matches('a third link outside');
    unlinkSync(path.join(root, 'a', 'big'));
    await matches('the first link removed');
    appendFileSync(path.join(root, 'batch', 'big-link'), 'M'.repeat(100));
    await matches('the linked inode grown');
  });

  it('creates a directory with content faster than its watch, and a symlink loop', async () => {
    // mkdir then write at once: the files may exist before the watch does; the walk of the new
    // directory finds them.
    const d = path.join(root, 'fast');
    mkdirSync(path.join(d, 'x', 'y'), { recursive: true });
    for (let i = 0; i < 30; i++) writeFileSync(path.join(d, 'x', 'y', `h${i}`), 'q'.repeat(i));
    symlinkSync('.', path.join(d, 'loop'));
    symlinkSync(path.join(d, 'loop2'), path.join(d, 'loop1'));
    symlinkSync(path.join(d, 'loop1'), path.join(d, 'loop2'));
    await matches('a fast directory and symlink loops');
  });

  it('follows names that are not UTF-8, and their subtrees', async () => {
    const bad = Buffer.concat([Buffer.from(root + '/'), Buffer.from([0x6e, 0xff, 0xfe])]);
    mkdirSync(bad);
    writeFileSync(Buffer.concat([bad, Buffer.from('/inner.log')]), 'i'.repeat(321));
    writeFileSync(Buffer.concat([Buffer.from(root + '/a/'), Buffer.from([0xc3, 0x28])]), 'j'.repeat(12));
    await matches('non-UTF-8 names');
    rmSync(bad, { recursive: true });
    await matches('a non-UTF-8 directory removed');
  });

  it('ages files out of a window with no event', async () => {
    const f = path.join(root, 'a', 'aging');
    writeFileSync(f, 'a');
    // An mtime that leaves the one-hour window two seconds from now.
    const m = new Date(Date.now() - HOUR + 2000);
    utimesSync(f, m, m);
    await matches('inside the window');
    const before = tree.figures([cutoff()]).filesModified[0] as number;
    await until('the file to age out', () => (tree.figures([cutoff()]).filesModified[0] as number) === before - 1, 20_000);
    await matches('after ageing out');
  });

  it('removes a whole subtree with its watches', async () => {
    rmSync(path.join(root, 'batch'), { recursive: true });
    rmSync(path.join(root, 'fast'), { recursive: true });
    await matches('subtrees removed');
    assert.equal(tree.watches, 2);
  });
});

describe('a watched tree that cannot keep up', () => {
  it('stops watching at the configured watch limit and says so', async () => {
    const top = makeTmpDir('hostaudit-watch-limit-');
    try {
      for (let i = 0; i < 5; i++) mkdirSync(path.join(top, `d${i}`));
      const lost: string[] = [];
      const budget = new WatchBudget(3);
      const tree = new WatchedTree(top, { maxWindowMs: HOUR, budget, overflowAt: 8192, onLost: (r) => lost.push(r) });
      await tree.start();
      assert.equal(tree.state, 'lost');
      assert.equal(lost.length, 1);
      assert.match(lost[0] as string, /watch limit \(3\)/);
      assert.equal(budget.used, 0, 'every watch given back');
      assert.equal(tree.watches, 0);
    } finally {
      removeTmpDir(top);
    }
  });

  it('takes a burst as large as the kernel queue as lost events', async () => {
    const top = makeTmpDir('hostaudit-watch-burst-');
    try {
      const lost: string[] = [];
      const tree = new WatchedTree(top, { maxWindowMs: HOUR, budget: new WatchBudget(10), overflowAt: 500, onLost: (r) => lost.push(r) });
      await tree.start();
      assert.equal(tree.state, 'watching');
      // The event loop is held while the kernel queues the events, as a stalled exporter would be.
      execFileSync('sh', ['-c', `cd "${top}" && for i in $(seq 1 800); do : > "f$i"; done`]);
      await until('the burst to be judged', () => lost.length > 0, 20_000);
      assert.equal(tree.state, 'lost');
      assert.match(lost[0] as string, /events at once/);
      tree.stop();
    } finally {
      removeTmpDir(top);
    }
  });
});

describe('the exporter keeping paths current', () => {
  it('serves a change long before scan_interval, watch_active 1; past watch_limit it walks and says so once', async () => {
    const top = makeTmpDir('hostaudit-watch-exp-');
    const watched = path.join(top, 'watched');
    const capped = path.join(top, 'capped');
    for (const d of [watched, capped]) {
      mkdirSync(path.join(d, 'sub'), { recursive: true });
      writeFileSync(path.join(d, 'sub', 'a.log'), 'a'.repeat(100));
    }
    // One exporter watches (walks once, then events only: scan_interval is an hour); the
    // other has room for one watch and so walks every scan_interval.
    const watching = await Exporter.start({ config: { paths: [{ name: 'logs', path: watched }], scan_interval: '1h' } });
    const walking = await Exporter.start({ config: { paths: [{ name: 'logs', path: capped }], scan_interval: '1s', watch_limit: 1 } });
    try {
      const figure = async (e: Exporter, name: string): Promise<number | undefined> => value(await e.scrape(), name, { name: 'logs' });
      await until('the first walk', () => watching.output.includes('path kept current from filesystem events'));
      await untilAsync('bytes equal du', async () => (await figure(watching, 'hostaudit_path_bytes')) === du(watched));
      assert.equal(await figure(watching, 'hostaudit_path_watch_active'), 1);
      writeFileSync(path.join(watched, 'sub', 'b.log'), 'b'.repeat(777));
      mkdirSync(path.join(watched, 'new', 'deeper'), { recursive: true });
      writeFileSync(path.join(watched, 'new', 'deeper', 'c.log'), 'c'.repeat(55));
      await untilAsync('the change served', async () => (await figure(watching, 'hostaudit_path_bytes')) === du(watched));
      assert.equal(await figure(watching, 'hostaudit_path_files'), findFiles(watched));

      await untilAsync('the capped exporter to walk', async () => (await figure(walking, 'hostaudit_path_bytes')) === du(capped));
      assert.equal(await figure(walking, 'hostaudit_path_watch_active'), 0);
      writeFileSync(path.join(capped, 'sub', 'b.log'), 'b'.repeat(333));
      await untilAsync('the walk to see the change', async () => (await figure(walking, 'hostaudit_path_bytes')) === du(capped));
      const warnings = walking.output.split('\n').filter((l) => l.includes('path no longer kept current from events'));
      assert.equal(warnings.length, 1, walking.output);
      assert.match(warnings[0] as string, /watch limit \(1\)/);
    } finally {
      await watching.cleanup();
      await walking.cleanup();
      removeTmpDir(top);
    }
  });
});

async function untilAsync(what: string, cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
