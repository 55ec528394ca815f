import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** The content of knowledge/ (or an operator's FAQ), validated and flattened into the four layers. */
export interface AuthoredScenario { id: string; name: string; description?: string; source: string }
export interface AuthoredIntent { id: string; scenarioId: string; name: string; source: string }
export interface AuthoredSubIntent {
  id: string; scenarioId: string; intentId: string; name: string; questions: string[]; sensitive: boolean; source: string;
  /** Answered from the user's own live data when the platform can (see LIVE_ANSWERS). */
  live?: LiveAnswerKind;
  /**
   * A topic's menu: full ids of the sub-intents its answer offers as numbered follow-ups (a bare "理赔" is answered
   * with 报案 · 材料 · 进度, and replying "2" answers the second).
   */
  menu?: string[];
  /**
   * The side of the cooling-off period its answer presumes ("过了犹豫期退保": after), and the sub-intent (full id) that
   * answers a user who says they are on the other side ("买了十天了"); see conversation/decide.ts.
   */
  coolingOff?: CoolingOffPresumption;
  /**
   * The ages its answer is written for ("给孩子买什么": 0–17). A stated age outside them gives the question to the
   * sub-intent of the same intent written for that age ("44岁买什么保险"); see conversation/decide.ts.
   */
  forAges?: AgeBand;
  /**
   * A general answer that a stated age makes less useful than the one written for that age: "39岁适合买哪种保险"
   * leaves "先买哪种保险" for the sub-intent of the same intent whose `forAges` hold 39.
   */
  deferToAge?: true;
  /** What its solutions vary by: answer selection builds the few candidate `_id`s from these, never a list of all. */
  solutionVariants: SolutionVariants;
}

export interface AgeBand {
  from: number;
  to: number;
}

export interface CoolingOffPresumption {
  presumes: 'within' | 'after';
  otherwise: string;
}

export interface SolutionVariants {
  hasGeneric: boolean;
  /** Distinct products / user states that some solution is conditioned on. */
  products: string[];
  userStates: string[];
  /** A solution to fall back on when none matches (the first authored). */
  fallbackKey: string;
}

/** Summarises a sub-intent's solutions for selection by `_id`. */
export function variantsOf(subIntentId: string, conditions: SolutionConditions[]): SolutionVariants {
  return {
    hasGeneric: conditions.some((c) => !c.product && !c.userState),
    products: [...new Set(conditions.flatMap((c) => (c.product ? [c.product] : [])))],
    userStates: [...new Set(conditions.flatMap((c) => (c.userState ? [c.userState] : [])))],
    fallbackKey: solutionKey(subIntentId, conditions[0] ?? {}),
  };
}
export interface SolutionLink { title: string; page: string }
export interface SolutionConditions { product?: string; userState?: string }

/**
 * What a solution may be conditioned on about the asking user, read from their own records when the platform can
 * (insurance/live-answers.ts): a policy still in its cooling-off period, a claim being handled, any policy at all.
 */
export const USER_STATES = ['in-cooling-off', 'claim-open', 'has-policy', 'no-policy'] as const;
export interface AuthoredSolution {
  id: string; subIntentId: string; name: string; text: string;
  rich?: { text?: string; links: SolutionLink[] }; conditions: SolutionConditions; source: string;
}
export interface KnowledgeSet {
  scenarios: AuthoredScenario[]; intents: AuthoredIntent[]; subIntents: AuthoredSubIntent[]; solutions: AuthoredSolution[];
}

export const OFFICIAL_ACCOUNT_TEXT_LIMIT = 600;
export const KNOWLEDGE_DIR = path.resolve(__dirname, '../../../knowledge');
/**
 * The scenario file the learning module exports its published knowledge to (approved candidates), for review in git
 * and to seed a new database. Its entries belong to the learning module (see importKnowledgeDirectory).
 */
export const LEARNED_KNOWLEDGE_FILE = 'learned.yaml';

export class KnowledgeValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Knowledge has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'KnowledgeValidationError';
  }
}

/** Sub-intents whose answer comes from the user's own data, not only from the written solution. */
export const LIVE_ANSWERS = ['my-policies', 'claim-progress'] as const;
export type LiveAnswerKind = (typeof LIVE_ANSWERS)[number];

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and "-"');
const text = z.string().trim().min(1, 'must not be empty');

const solutionSchema = z.object({
  id: slug,
  text: text.max(OFFICIAL_ACCOUNT_TEXT_LIMIT, `must be at most ${OFFICIAL_ACCOUNT_TEXT_LIMIT} characters (Official Account text)`),
  rich: z
    .object({
      text: z.string().optional(),
      links: z.array(z.object({ title: text, page: z.string().regex(/^\/pages\//, 'must be a mini-program page (/pages/...)') })).default([]),
    })
    .optional(),
  conditions: z.object({ product: slug.optional(), userState: z.enum(USER_STATES).optional() }).strict().default({}),
});

const fullSubIntentId = z.string().regex(/^[a-z0-9][a-z0-9-]*\/[a-z0-9][a-z0-9-]*\/[a-z0-9][a-z0-9-]*$/, 'must be a full sub-intent id (scenario/intent/sub-intent)');

const subIntentSchema = z.object({
  id: slug,
  name: text,
  sensitive: z.boolean().default(false),
  live: z.enum(LIVE_ANSWERS).optional(),
  menu: z.array(fullSubIntentId).min(2, 'needs at least two choices').max(5, 'offers at most five choices').optional(),
  coolingOff: z.object({ presumes: z.enum(['within', 'after']), otherwise: fullSubIntentId }).strict().optional(),
  forAges: z
    .object({ from: z.number().int().min(0).max(120), to: z.number().int().min(0).max(120) })
    .strict()
    .refine((band) => band.from <= band.to, 'from must not be above to')
    .optional(),
  deferToAge: z.literal(true).optional(),
  questions: z.array(text).min(1, 'needs at least one question'),
  solutions: z.array(solutionSchema).min(1, 'needs at least one solution'),
});

const scenarioFileSchema = z.object({
  id: slug,
  name: text,
  description: z.string().optional(),
  intents: z
    .array(z.object({ id: slug, name: text, subIntents: z.array(subIntentSchema).min(1, 'needs at least one sub-intent') }))
    .min(1, 'needs at least one intent'),
});

/** Names the entry a zod issue points at: `intents[2].subIntents[0] (online-report).questions`. */
function describePath(data: unknown, issuePath: ReadonlyArray<PropertyKey>): string {
  let node: unknown = data;
  let described = '';
  for (const key of issuePath) {
    node = node && typeof node === 'object' ? (node as Record<string | number, unknown>)[key as string | number] : undefined;
    if (typeof key === 'number') {
      described += `[${key}]`;
      const id = node && typeof node === 'object' ? (node as { id?: unknown }).id : undefined;
      if (typeof id === 'string') described += ` (${id})`;
    } else {
      described += described ? `.${String(key)}` : String(key);
    }
  }
  return described || '(file)';
}

/** A solution's selection key: the sub-intent and the conditions it applies under. */
export function solutionKey(subIntentId: string, conditions: SolutionConditions): string {
  return `${subIntentId}|${conditions.product ?? '*'}|${conditions.userState ?? '*'}`;
}

function emptySet(): KnowledgeSet {
  return { scenarios: [], intents: [], subIntents: [], solutions: [] };
}

/**
 * A file's text, which must be UTF-8: one saved as GBK (Excel and Notepad on Chinese Windows do) would otherwise be
 * read as replacement characters and published as garbled answers. Undecodable: a problem naming the line, and ''.
 */
export function readUtf8(file: string, problems: string[]): string {
  const bytes = fs.readFileSync(file);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const decoded = new TextDecoder('utf-8').decode(bytes);
    const line = decoded.slice(0, decoded.indexOf('\uFFFD')).split('\n').length;
    problems.push(`${path.basename(file)}: line ${line}: not UTF-8 text (saved as GBK?); save the file as UTF-8`);
    return '';
  }
}

/** Lines holding U+FFFD: text already garbled by a wrong encoding on its way here. */
function damagedTextProblems(name: string, content: string): string[] {
  if (!content.includes('\uFFFD')) return [];
  const lines = content.split('\n').flatMap((text, i) => (text.includes('\uFFFD') ? [i + 1] : []));
  const shown = lines.slice(0, 5).join(', ') + (lines.length > 5 ? ` and ${lines.length - 5} more` : '');
  return [`${name}: line ${shown}: contains "\uFFFD", text garbled by a wrong encoding (GBK read as UTF-8?); fix it from the original`];
}

/** Parses one scenario file; problems name the file and the entry. */
export function parseScenarioFile(file: string, content: string, into: KnowledgeSet, problems: string[]): void {
  const source = path.basename(file);
  let data: unknown;
  try {
    data = parseYaml(content);
  } catch (err) {
    problems.push(`${source}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    return;
  }
  const parsed = scenarioFileSchema.safeParse(data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${source}: ${describePath(data, issue.path)}: ${issue.message}`);
    return;
  }
  const scenario = parsed.data;
  into.scenarios.push({ id: scenario.id, name: scenario.name, description: scenario.description, source });
  const seenIntents = new Set<string>();
  scenario.intents.forEach((intent, i) => {
    const intentId = `${scenario.id}/${intent.id}`;
    if (seenIntents.has(intentId)) problems.push(`${source}: intents[${i}] (${intent.id}): duplicate intent id`);
    seenIntents.add(intentId);
    into.intents.push({ id: intentId, scenarioId: scenario.id, name: intent.name, source });
    const seenSubIntents = new Set<string>();
    intent.subIntents.forEach((sub, j) => {
      const subIntentId = `${intentId}/${sub.id}`;
      const where = `${source}: intents[${i}] (${intent.id}).subIntents[${j}] (${sub.id})`;
      if (seenSubIntents.has(subIntentId)) problems.push(`${where}: duplicate sub-intent id`);
      seenSubIntents.add(subIntentId);
      into.subIntents.push({
        id: subIntentId, scenarioId: scenario.id, intentId, name: sub.name,
        questions: [...new Set(sub.questions)], sensitive: sub.sensitive, source, ...(sub.live ? { live: sub.live } : {}),
        ...(sub.menu ? { menu: sub.menu } : {}),
        ...(sub.coolingOff ? { coolingOff: sub.coolingOff } : {}),
        ...(sub.forAges ? { forAges: sub.forAges } : {}),
        ...(sub.deferToAge ? { deferToAge: true as const } : {}),
        solutionVariants: variantsOf(subIntentId, sub.solutions.map((solution) => solution.conditions)),
      });
      const seenKeys = new Set<string>();
      for (const solution of sub.solutions) {
        const key = solutionKey(subIntentId, solution.conditions);
        if (seenKeys.has(key)) problems.push(`${where}: solutions (${solution.id}): another solution has the same conditions`);
        seenKeys.add(key);
        into.solutions.push({
          id: key, subIntentId, name: solution.id, text: solution.text,
          rich: solution.rich, conditions: solution.conditions, source,
        });
      }
    });
  });
}

/** Within an intent, one age belongs to one sub-intent at most: a stated age must pick one answer. */
function ageBandProblems(subIntents: readonly AuthoredSubIntent[]): string[] {
  const problems: string[] = [];
  const banded = subIntents.filter((sub) => sub.forAges);
  banded.forEach((sub, i) => {
    for (const other of banded.slice(i + 1)) {
      if (other.intentId !== sub.intentId) continue;
      const [a, b] = [sub.forAges as AgeBand, other.forAges as AgeBand];
      if (a.from <= b.to && b.from <= a.to) problems.push(`${sub.source}: ${sub.id}: forAges: ${a.from}–${a.to} overlaps ${other.id} (${b.from}–${b.to})`);
    }
  });
  for (const sub of subIntents.filter((s) => s.deferToAge)) {
    if (sub.forAges) problems.push(`${sub.source}: ${sub.id}: deferToAge: an answer written for some ages (forAges) defers to none`);
    else if (!banded.some((other) => other.intentId === sub.intentId)) {
      problems.push(`${sub.source}: ${sub.id}: deferToAge: no sub-intent of ${sub.intentId} declares forAges`);
    }
  }
  return problems;
}

function scenarioFiles(scenariosDir: string): string[] {
  return fs.existsSync(scenariosDir) ? fs.readdirSync(scenariosDir).filter((f) => /\.ya?ml$/.test(f)).sort() : [];
}

/**
 * A hash of the scenario files a directory import reads (the learning module's file aside: an import only seeds it),
 * to tell whether knowledge/ changed since it was last imported.
 */
export function scenarioFilesFingerprint(dir: string = KNOWLEDGE_DIR): string {
  const scenariosDir = path.join(dir, 'scenarios');
  const hash = createHash('sha256');
  for (const file of scenarioFiles(scenariosDir).filter((f) => f !== LEARNED_KNOWLEDGE_FILE)) {
    hash.update(`${file}\n`).update(fs.readFileSync(path.join(scenariosDir, file))).update('\n');
  }
  return hash.digest('hex');
}

/** Reads every scenario file under `dir/scenarios`; throws one error listing every problem. */
export function readKnowledgeDir(dir: string = KNOWLEDGE_DIR): KnowledgeSet {
  const scenariosDir = path.join(dir, 'scenarios');
  const set = emptySet();
  const problems: string[] = [];
  const files = scenarioFiles(scenariosDir);
  for (const file of files) {
    const before = problems.length;
    const content = readUtf8(path.join(scenariosDir, file), problems);
    problems.push(...damagedTextProblems(file, content));
    if (problems.length === before) parseScenarioFile(file, content, set, problems);
  }
  const seenScenarios = new Set<string>();
  for (const scenario of set.scenarios) {
    if (seenScenarios.has(scenario.id)) problems.push(`${scenario.source}: scenario id "${scenario.id}" is used by another file too`);
    seenScenarios.add(scenario.id);
  }
  const subIntentsById = new Map(set.subIntents.map((sub) => [sub.id, sub]));
  for (const sub of set.subIntents) {
    for (const target of sub.menu ?? []) {
      if (target === sub.id || !subIntentsById.has(target)) problems.push(`${sub.source}: ${sub.id}: menu: "${target}" is ${target === sub.id ? 'the sub-intent itself' : 'no sub-intent'}`);
    }
    if (sub.coolingOff) {
      const other = subIntentsById.get(sub.coolingOff.otherwise);
      const opposite = sub.coolingOff.presumes === 'within' ? 'after' : 'within';
      if (!other) problems.push(`${sub.source}: ${sub.id}: coolingOff.otherwise: "${sub.coolingOff.otherwise}" is no sub-intent`);
      else if (other.coolingOff?.presumes !== opposite) {
        problems.push(`${sub.source}: ${sub.id}: coolingOff.otherwise: "${other.id}" must presume the other side (coolingOff: { presumes: ${opposite}, ... })`);
      }
    }
  }
  problems.push(...ageBandProblems(set.subIntents));
  problems.push(...productLinkProblems(set, path.join(dir, 'products')));
  if (problems.length) throw new KnowledgeValidationError(problems);
  return set;
}

/**
 * Links to a product page or its quote (`?product=…`, `detail?id=…`) must name a product the mini-program sells
 * (knowledge/products/); otherwise the user lands on 没有找到这个产品. Skipped for a folder without products.
 */
function productLinkProblems(set: KnowledgeSet, productsDir: string): string[] {
  if (!fs.existsSync(productsDir)) return [];
  // The catalog names each product file after its id (insurance/products.ts checks it), so the names suffice.
  const sold = new Set(fs.readdirSync(productsDir).filter((f) => /\.ya?ml$/.test(f)).map((f) => f.replace(/\.ya?ml$/, '')));
  const problems: string[] = [];
  for (const solution of set.solutions) {
    for (const link of solution.rich?.links ?? []) {
      const product = /[?&](?:product|id)=([^&]+)/.exec(link.page)?.[1];
      if (product !== undefined && link.page.startsWith('/pages/') && /\/(quote|products)\//.test(link.page) && !sold.has(product)) {
        problems.push(`${solution.source}: ${solution.id}: link "${link.title}" opens product "${product}", which knowledge/products/ does not sell`);
      }
    }
  }
  return problems;
}

// ---- Operator FAQ files: JSONL or CSV rows {question, answer, scenario?, intent?, id?} ----

const faqRowSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String).optional(),
  question: text,
  answer: text,
  scenario: z.string().trim().min(1).optional(),
  intent: z.string().trim().min(1).optional(),
});

const shortHash = (value: string) => createHash('sha1').update(value).digest('hex').slice(0, 10);
/** Operators name scenarios and intents in Chinese; ids must stay slugs, and stable. */
const slugFor = (name: string) => (/^[a-z0-9][a-z0-9-]*$/.test(name) ? name : `x${shortHash(name)}`);

/** Splits CSV text into rows (RFC 4180: quoted fields, doubled quotes, newlines inside quotes). */
export function parseCsv(content: string): string[][] {
  return parseCsvRows(content).rows.map((row) => row.cells);
}

/**
 * CSV rows with the line each starts on (a quoted field may span lines, so row numbers are not line numbers), and
 * the line of a quoted field that is never closed: from there on the file is one field, the operator's rows lost.
 */
function parseCsvRows(content: string): { rows: Array<{ line: number; cells: string[] }>; unclosedQuoteLine?: number } {
  const rows: Array<{ line: number; cells: string[] }> = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let quoteLine = 1;
  const endRow = () => {
    row.push(field); field = '';
    if (row.some((cell) => cell !== '')) rows.push({ line: rowLine, cells: row });
    row = [];
  };
  for (let i = 0; i < content.length; i++) {
    const ch = content[i];
    if (quoted) {
      if (ch === '"' && content[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else {
        if (ch === '\n' || (ch === '\r' && content[i + 1] !== '\n')) line++;
        field += ch;
      }
    } else if (ch === '"' && field === '') { quoted = true; quoteLine = line; }
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && content[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else field += ch;
  }
  if (quoted) return { rows, unclosedQuoteLine: quoteLine };
  endRow();
  return { rows };
}

/** Columns an empty cell may leave out; an empty question or answer is reported as such. */
const OPTIONAL_FAQ_COLUMNS = new Set(['id', 'scenario', 'intent']);

function faqRecords(file: string, content: string, problems: string[]): Array<{ line: number; value: unknown }> {
  const name = path.basename(file);
  content = content.replace(/^\uFEFF/, ''); // Excel and Notepad save UTF-8 with a byte-order mark
  if (/\.csv$/i.test(file)) {
    const { rows: [header, ...rows], unclosedQuoteLine } = parseCsvRows(content);
    if (unclosedQuoteLine !== undefined) {
      problems.push(`${name}: line ${unclosedQuoteLine}: a quoted field is never closed (a " is missing), so every row after it would be lost`);
      return [];
    }
    if (!header) return [];
    const columns = header.cells.map((h) => h.trim());
    if (!columns.includes('question') || !columns.includes('answer')) {
      problems.push(`${name}: line 1: the header must name "question" and "answer" columns`);
      return [];
    }
    const records: Array<{ line: number; value: unknown }> = [];
    for (const { line, cells } of rows) {
      // More cells than columns: an unquoted comma split an answer, whose rest would be dropped.
      if (cells.length > columns.length && cells.slice(columns.length).some((cell) => cell.trim() !== '')) {
        problems.push(`${name}: line ${line}: ${cells.length} fields but the header names ${columns.length}; put a field containing a comma in double quotes`);
        continue;
      }
      const value = Object.fromEntries(columns.map((c, k) => [c, cells[k]]).filter(([c, v]) => v !== undefined && (v !== '' || !OPTIONAL_FAQ_COLUMNS.has(c as string))));
      records.push({ line, value });
    }
    return records;
  }
  const records: Array<{ line: number; value: unknown }> = [];
  content.split('\n').forEach((lineText, i) => {
    if (!lineText.trim()) return;
    try {
      records.push({ line: i + 1, value: JSON.parse(lineText) as unknown });
    } catch {
      problems.push(`${name}: line ${i + 1}: not valid JSON`);
    }
  });
  return records;
}

/**
 * An operator's FAQ becomes one sub-intent (its question) with one solution (its answer) per row, under the
 * named scenario and intent (default `faq` / `general`). Ids come from the row's `id` or its question, so
 * re-importing the same file changes nothing.
 */
export function readFaqFile(file: string, content?: string): KnowledgeSet {
  const set = emptySet();
  const problems: string[] = [];
  const name = path.basename(file);
  content ??= readUtf8(file, problems);
  problems.push(...damagedTextProblems(name, content));
  const scenarios = new Map<string, AuthoredScenario>();
  const intents = new Map<string, AuthoredIntent>();
  const subIntents = new Map<string, AuthoredSubIntent>();
  const firstRows = new Map<string, { line: number; answer: string }>();
  for (const { line, value } of faqRecords(file, content, problems)) {
    const parsed = faqRowSchema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${name}: line ${line}: ${issue.path.join('.') || 'row'}: ${issue.message}`);
      continue;
    }
    const row = parsed.data;
    const scenarioId = row.scenario ? slugFor(row.scenario) : 'faq';
    const intentId = `${scenarioId}/${row.intent ? slugFor(row.intent) : 'general'}`;
    const subIntentId = `${intentId}/${row.id ? slugFor(row.id) : `q${shortHash(row.question)}`}`;
    if (!scenarios.has(scenarioId)) scenarios.set(scenarioId, { id: scenarioId, name: row.scenario ?? '常见问题', source: name });
    if (!intents.has(intentId)) intents.set(intentId, { id: intentId, scenarioId, name: row.intent ?? '综合', source: name });
    const existing = subIntents.get(subIntentId);
    if (existing) {
      // The same entry asked another way: one more phrasing of it. With another answer one of the two would be lost.
      const first = firstRows.get(subIntentId)!;
      if (first.answer !== row.answer) {
        problems.push(`${name}: line ${line}: ${row.id === undefined ? 'the same question as' : `the same id (${row.id}) as`} line ${first.line}, with another answer`);
      } else if (!existing.questions.includes(row.question)) existing.questions.push(row.question);
      continue;
    }
    firstRows.set(subIntentId, { line, answer: row.answer });
    subIntents.set(subIntentId, {
      id: subIntentId, scenarioId, intentId, name: row.question.slice(0, 40), questions: [row.question], sensitive: false, source: name,
      solutionVariants: variantsOf(subIntentId, [{}]),
    });
    set.solutions.push({ id: solutionKey(subIntentId, {}), subIntentId, name: 'answer', text: row.answer, conditions: {}, source: name });
  }
  if (problems.length) throw new KnowledgeValidationError(problems);
  set.scenarios = [...scenarios.values()];
  set.intents = [...intents.values()];
  set.subIntents = [...subIntents.values()];
  return set;
}
