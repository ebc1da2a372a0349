// Stakeholder bearer tokens in the Sensei store: only a SHA-256 hash of each token is stored, never the token.
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';

export const Role = z.enum(['viewer', 'approver', 'admin']);
export type Role = z.infer<typeof Role>;

/** A stakeholder as a token identifies them. `tables` null: every table. */
export interface Stakeholder {
  id: string;
  name: string;
  role: Role;
  tables: string[] | null;
  createdAt: string;
  revokedAt: string | null;
}

const RANK: Record<Role, number> = { viewer: 0, approver: 1, admin: 2 };

/** Whether `role` includes the rights of `needed` (admin ⊃ approver ⊃ viewer). */
export function hasRole(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

interface TokenRow {
  id: string;
  name: string;
  role: Role;
  tables: string[] | null;
  created_at: Date;
  revoked_at: Date | null;
}

const toStakeholder = (r: TokenRow): Stakeholder => ({
  id: r.id,
  name: r.name,
  role: r.role,
  tables: r.tables,
  createdAt: r.created_at.toISOString(),
  revokedAt: r.revoked_at ? r.revoked_at.toISOString() : null,
});

const COLUMNS = 'id, name, role, tables, created_at, revoked_at';

export const NewToken = z
  .object({
    name: z.string().trim().min(1).max(200),
    role: Role,
    /** Approvers act only on these tables (source or target names). Default: every table. */
    tables: z.array(z.string().trim().min(1).max(200)).min(1).max(1000).optional(),
  })
  .strict();
export type NewToken = z.infer<typeof NewToken>;

export interface TokenStore {
  /** Issues a token: the clear token is returned once and never stored. */
  create(input: NewToken): Promise<{ token: string; stakeholder: Stakeholder }>;
  list(): Promise<Stakeholder[]>;
  /** Revokes by id; false when there is no such token (or it was revoked already). */
  revoke(id: string): Promise<boolean>;
  /** The stakeholder a live token belongs to, or null (unknown or revoked). */
  verify(token: string): Promise<Stakeholder | null>;
}

export function createTokenStore(pool: pg.Pool): TokenStore {
  return {
    async create(input) {
      const parsed = NewToken.safeParse(input);
      if (!parsed.success) {
        throw new ConfigError(`invalid token request: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`, {
          hint: 'a token needs a name and a role: viewer, approver or admin',
        });
      }
      const token = `snsi_${randomBytes(24).toString('base64url')}`;
      const id = `tok_${randomBytes(6).toString('hex')}`;
      const r = await pool.query<TokenRow>(
        `INSERT INTO sensei_tokens (id, name, role, tables, token_hash) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
        [id, parsed.data.name, parsed.data.role, parsed.data.tables ?? null, hashToken(token)],
      );
      return { token, stakeholder: toStakeholder(r.rows[0] as TokenRow) };
    },
    async list() {
      const r = await pool.query<TokenRow>(`SELECT ${COLUMNS} FROM sensei_tokens ORDER BY created_at, id`);
      return r.rows.map(toStakeholder);
    },
    async revoke(id) {
      const r = await pool.query('UPDATE sensei_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
      return (r.rowCount ?? 0) > 0;
    },
    async verify(token) {
      if (!token.startsWith('snsi_') || token.length > 200) return null;
      const r = await pool.query<TokenRow>(`SELECT ${COLUMNS} FROM sensei_tokens WHERE token_hash = $1 AND revoked_at IS NULL`, [hashToken(token)]);
      return r.rows[0] ? toStakeholder(r.rows[0]) : null;
    },
  };
}
