// Readings more than one collector needs, read once per collection through the context memo.
import { readProcessTable, type ProcessTable } from '../sources/proc-tree.js';
import type { CollectContext } from './collector.js';

const PROCESS_TABLE = 'process-table';

/** The /proc process table of this collection: the first collector to ask reads it. */
export function processTable(ctx: Pick<CollectContext, 'memo'>): ProcessTable {
  const hit = ctx.memo?.get(PROCESS_TABLE) as ProcessTable | undefined;
  if (hit) return hit;
  const table = readProcessTable();
  ctx.memo?.set(PROCESS_TABLE, table);
  return table;
}
