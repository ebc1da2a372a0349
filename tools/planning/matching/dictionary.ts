// The abbreviation and synonym dictionary that ships with Sensei: legacy short forms and business synonyms → one word.

/**
 * Short forms seen in legacy schemas, each expanded to the canonical word(s). Keys are lower case; a value may hold
 * several words (`fnm` → `first name`). Extend it freely: it is data, not logic.
 */
export const ABBREVIATIONS: Readonly<Record<string, string>> = {
  acct: 'account', acc: 'account', addr: 'address', adr: 'address', amt: 'amount', appt: 'appointment',
  attr: 'attribute', avg: 'average', bal: 'balance', bday: 'birth date', dob: 'birth date', bdate: 'birth date',
  bldg: 'building', cat: 'category', cd: 'code', cfg: 'config', chg: 'change', cnt: 'count', co: 'company',
  comp: 'company', corp: 'company', ctry: 'country', cntry: 'country', cty: 'city', cur: 'currency', curr: 'currency',
  cust: 'customer', cstmr: 'customer', clnt: 'client', dt: 'date', dte: 'date', dtm: 'timestamp', dttm: 'timestamp',
  ts: 'timestamp', tstamp: 'timestamp', tm: 'time', dept: 'department', dep: 'department', dpt: 'department',
  desc: 'description', descr: 'description', dscr: 'description', dist: 'district', div: 'division', doc: 'document',
  emp: 'employee', empl: 'employee', eml: 'email', mail: 'email', fax: 'fax', fnm: 'first name', fname: 'first name',
  fst: 'first', frst: 'first', lnm: 'last name', lname: 'last name', lst: 'last', mnm: 'middle name',
  mname: 'middle name', minit: 'middle initial', mi: 'middle initial', nm: 'name', nme: 'name', flg: 'flag',
  flag: 'flag', ind: 'flag', indicator: 'flag', grp: 'group', hdr: 'header', hr: 'hour', id: 'id', ident: 'id',
  img: 'image', info: 'information', inv: 'invoice', invc: 'invoice', itm: 'item', lang: 'language', lat: 'latitude',
  lng: 'longitude', lon: 'longitude', ln: 'line', loc: 'location', mgr: 'manager', mngr: 'manager', msg: 'message',
  mob: 'mobile', mth: 'month', mo: 'month', no: 'number', nbr: 'number', num: 'number', nr: 'number', nmbr: 'number',
  org: 'organization', ord: 'order', pct: 'percent', perc: 'percent', pmt: 'payment', pymt: 'payment', ph: 'phone',
  phn: 'phone', tel: 'phone', telephone: 'phone', pos: 'position', prc: 'price', prod: 'product', prd: 'product',
  pst: 'postal', post: 'postal', postcode: 'postal code', zip: 'postal code', zipcode: 'postal code', pwd: 'password',
  qty: 'quantity', qnty: 'quantity', ref: 'reference', reg: 'region', rgn: 'region', sal: 'salary', seq: 'sequence',
  st: 'state', stat: 'status', sts: 'status', str: 'street', stor: 'store', sup: 'supplier', supp: 'supplier',
  svc: 'service', tax: 'tax', term: 'terminated', tot: 'total', ttl: 'total', trx: 'transaction', txn: 'transaction',
  typ: 'type', tp: 'type', upd: 'updated', usr: 'user', val: 'value', ver: 'version', vol: 'volume', wk: 'week',
  yr: 'year', pub: 'publisher', au: 'author', lvl: 'level', lo: 'low', hi: 'high', max: 'maximum', min: 'minimum',
};

/** Words that mean the same thing in a schema; each maps to the canonical word it is compared as. */
export const SYNONYMS: Readonly<Record<string, string>> = {
  town: 'city', surname: 'last', family: 'last', forename: 'first', given: 'first', christian: 'first',
  mail: 'email', mobile: 'phone', cell: 'phone', zip: 'postal', postcode: 'postal', client: 'customer',
  staff: 'employee', worker: 'employee', personnel: 'employee', salary: 'salary', wage: 'salary', pay: 'salary',
  company: 'company', firm: 'company', begin: 'start', end: 'end', finish: 'end', amount: 'amount',
  sum: 'total', identifier: 'id', key: 'id', uid: 'id', uuid: 'id', dept: 'department', hired: 'hire',
  boss: 'manager', supervisor: 'manager', nation: 'country', line: 'line', created: 'create', modified: 'update',
  updated: 'update', changed: 'update', deleted: 'delete', genre: 'genre', comment: 'note', comments: 'note',
  notes: 'note', remark: 'note', remarks: 'note', children: 'child', kids: 'child', webpage: 'website', url: 'website',
  homepage: 'website', web: 'website', site: 'website', dob: 'birth', born: 'birth', birthday: 'birth',
};

/**
 * Words that carry little meaning on their own (`is_active` ~ `active_flg`, `TBL_CUST` ~ `customers`); they count
 * with a small weight. Single letters and digits are treated the same way.
 */
export const WEAK_WORDS: ReadonlySet<string> = new Set([
  'is', 'has', 'flag', 'tbl', 'tb', 't', 'the', 'of', 'on', 'at', 'in', 'by', 'to', 'a', 'an', 'src', 'source',
  'target', 'tgt', 'dst', 'dim', 'fact', 'stg', 'value', 'data', 'info', 'information', 'amount', 'x', 'y', 'z',
]);

/** Canonical words that are close but not equal (an identifier column named `no` vs `id`). Similarity 0.8. */
export const RELATED: ReadonlyArray<readonly [string, string]> = [
  ['number', 'id'], ['code', 'id'], ['date', 'timestamp'], ['time', 'timestamp'], ['name', 'title'],
  ['name', 'label'], ['code', 'type'], ['address', 'street'], ['total', 'amount'], ['price', 'amount'],
  ['salary', 'amount'], ['create', 'date'], ['region', 'state'], ['description', 'note'],
];
