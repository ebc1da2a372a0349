import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
const mb = () => Math.round(process.memoryUsage.rss()/2**20);
const db = await PGlite.create({ dataDir: process.argv[2], extensions: { vector }, ...(process.argv[3] ? { initialMemory: Number(process.argv[3]) * 2**20 } : {}) });
await db.query('select 1');
console.log('open existing', mb(), 'maxRSS', Math.round(process.resourceUsage().maxRSS/1024));
await db.close();
