// `npm run bench:plan`: plans a generated 200-table × 30-column schema onto a renamed copy, without an LLM; prints times.
import { performance } from 'node:perf_hooks';
import type { Catalog, ColumnDef, LogicalType, TableDef } from '../core/catalog.js';
import { allMappings, Thresholds } from '../core/plan.js';
import { buildPlan } from '../tools/planning/build-plan.js';

const TABLES = Number(process.env.BENCH_TABLES ?? 200);
const COLUMNS = Number(process.env.BENCH_COLUMNS ?? 30);

const NOUNS = ['customer', 'order', 'invoice', 'product', 'employee', 'department', 'address', 'payment', 'shipment', 'supplier', 'account', 'contract', 'region', 'store', 'item', 'category', 'vendor', 'ticket', 'project', 'asset'];
const ATTRS = ['name', 'code', 'date', 'amount', 'status', 'type', 'description', 'number', 'quantity', 'price', 'created', 'updated', 'city', 'country', 'phone', 'email', 'note', 'total', 'flag', 'level'];
const ABBR: Record<string, string> = { customer: 'CUST', order: 'ORD', invoice: 'INV', product: 'PROD', employee: 'EMP', department: 'DEPT', address: 'ADDR', payment: 'PMT', name: 'NM', code: 'CD', date: 'DT', amount: 'AMT', status: 'STAT', type: 'TYP', description: 'DESC', number: 'NO', quantity: 'QTY', price: 'PRC', flag: 'FLG', total: 'TOT' };
const TYPES: LogicalType[] = [{ kind: 'int32' }, { kind: 'varchar', length: 40 }, { kind: 'date' }, { kind: 'decimal', precision: 12, scale: 2 }, { kind: 'text' }];
const PG: Record<string, string> = { int32: 'integer', varchar: 'character varying(40)', date: 'date', decimal: 'numeric(12,2)', text: 'text' };

const legacy = (w: string): string => ABBR[w] ?? w.toUpperCase();

function schema(isSource: boolean): Catalog {
  const tables: TableDef[] = [];
  for (let t = 0; t < TABLES; t++) {
    const noun = NOUNS[t % NOUNS.length]!;
    const qualifier = `${NOUNS[Math.floor(t / NOUNS.length) % NOUNS.length]!}${Math.floor(t / (NOUNS.length * NOUNS.length)) || ''}`;
    const name = isSource ? `TBL_${legacy(qualifier)}_${legacy(noun)}` : `${qualifier}_${noun}s`;
    const columns: ColumnDef[] = [];
    for (let c = 0; c < COLUMNS; c++) {
      const a = ATTRS[c % ATTRS.length]!;
      const b = NOUNS[(c * 7 + t) % NOUNS.length]!;
      const logicalType = TYPES[c % TYPES.length]!;
      columns.push({
        name: isSource ? `${legacy(b)}_${legacy(a)}${c >= ATTRS.length ? '_2' : ''}` : `${b}_${a}${c >= ATTRS.length ? '_2' : ''}`,
        declaredType: PG[logicalType.kind]!,
        logicalType,
        nullable: true,
        defaultValue: null,
        ordinal: c + 1,
        isGenerated: false,
      });
    }
    const fk = t > 0 ? [{ name: `fk_${t}`, columns: [columns[0]!.name], refTable: tables[t - 1]!.name, refColumns: [tables[t - 1]!.columns[0]!.name] }] : [];
    tables.push({ schema: 'public', name, columns, primaryKey: [columns[0]!.name], foreignKeys: fk, uniques: [], rowCount: null });
  }
  return { dialect: isSource ? 'mysql' : 'postgres', database: isSource ? 'legacy' : 'modern', tables };
}

const source = schema(true);
const target = schema(false);
const thresholds = Thresholds.parse({});
// One warm-up run (JIT, dictionary caches), then the measured runs.
buildPlan({ source, target, targetSchemaSource: 'ddl-file', thresholds });
const times: number[] = [];
let plan = buildPlan({ source, target, targetSchemaSource: 'ddl-file', thresholds });
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  plan = buildPlan({ source, target, targetSchemaSource: 'ddl-file', thresholds });
  times.push(performance.now() - t0);
}
const mappings = allMappings(plan);
const rightTables = plan.tables.filter((t) => source.tables.findIndex((s) => s.name === t.source) === target.tables.findIndex((x) => x.name === t.target)).length;
const bands = { auto: 0, review: 0, explicit: 0 };
for (const m of mappings) bands[m.band]++;
console.log(`bench:plan  ${TABLES} tables × ${COLUMNS} columns (source and target), no LLM`);
console.log(`  planning time: median ${times.sort((a, b) => a - b)[1]!.toFixed(0)} ms (runs: ${times.map((t) => t.toFixed(0)).join(', ')} ms)`);
console.log(`  tables mapped: ${plan.tables.length} (${rightTables} to their generated counterpart); column mappings: ${mappings.length} (auto ${bands.auto}, review ${bands.review}, explicit ${bands.explicit})`);
console.log(`  phases: ${plan.phases.length}`);
