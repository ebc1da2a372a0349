// Quoting and naming of SQL identifiers: every identifier Sensei writes into SQL goes through here.

/** A PostgreSQL identifier, always quoted (embedded quotes doubled). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."table"`. */
export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/** A PostgreSQL string literal (standard_conforming_strings on). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Words of an identifier: snake_case, camelCase, PascalCase, UPPER_CASE and digits split, lower-cased. */
export function nameTokens(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase());
}

/** `AlbumId` → `album_id`, `TBL_CUST` → `tbl_cust`: how generated target schemas name things. */
export function snakeCase(name: string): string {
  const tokens = nameTokens(name);
  return tokens.length > 0 ? tokens.join('_') : name;
}
