import { createHash } from 'node:crypto';
import type { Model } from 'mongoose';
import { Intent, KnowledgeChange, KnowledgeImportMark, KnowledgeRevision, KnowledgeRevisionNote, revisionNoteId, Scenario, Solution, SubIntent } from './models';
import path from 'node:path';
import { KnowledgeValidationError, LEARNED_KNOWLEDGE_FILE, readFaqFile, readKnowledgeDir, scenarioFilesFingerprint, type KnowledgeSet } from './source';
import { isDuplicateKey } from '../db/duplicate-key';
import { bulkWriteUnordered, type BulkWriteOperation } from '../db/bulk-write';
import { LeaseBusyError, withLease } from '../db/lease';

export type KnowledgeLayer = 'scenario' | 'intent' | 'subIntent' | 'solution';

export interface PlannedChange { layer: KnowledgeLayer; id: string; action: 'created' | 'updated' | 'retired'; source: string }
export interface ImportReport { changes: PlannedChange[]; unchanged: number; revision?: number }

export interface ImportOptions {
  /** Who is importing (recorded with every change). */
  by: string;
  /** Compute and return the diff without writing. */
  dryRun?: boolean;
  /** Which existing entries this import owns: those it does not mention any more are retired. */
  owns(entry: { layer: KnowledgeLayer; id: string; source: string }): boolean;
  /** Entries from these sources are created when missing and otherwise left as they are: another owner keeps them. */
  seedsOnlySource?(source: string): boolean;
  /**
   * Existing entries this import may file its own under but must not change (another file's scenario an operator's
   * FAQ names): left as they are.
   */
  leavesAlone?(existing: { layer: KnowledgeLayer; id: string; source: string }): boolean;
  /** Existing entries this import must not overwrite: the import stops, naming them, before writing anything. */
  mustNotReplace?(existing: { layer: KnowledgeLayer; id: string; source: string; status: string }): boolean;
  onProgress?(done: number, total: number): void;
  /**
   * Only entries under this id (the id itself, or ids continuing with '/' or '|') are read, compared and retired;
   * every entry of the set must be under it. Lets a small owner (the learning module) publish without reading the
   * whole store, which at an insurer's scale is 780,000 solutions.
   */
  idPrefix?: string;
}

const BATCH = 2_000;

interface ExistingEntry { contentHash: string; status: string; version: number; source: string }

/**
 * Imports take turns across every instance and CLI (several instances seeding an empty database at start, two
 * operators importing): each reads the store only once it holds the lease, so the later one sees what the earlier
 * wrote instead of inserting the same entries again and failing halfway. Held as long as an insurer-scale import
 * takes (minutes), renewed while it runs.
 */
const IMPORT_LEASE = { holdMs: 120_000, waitMs: 15 * 60_000, pollMs: 250 };

export class KnowledgeImportIncompleteError extends Error {
  constructor(cause: unknown) {
    super(`knowledge import stopped partway (${cause instanceof Error ? cause.message : String(cause)}); what it wrote is in service: run it again to finish`, { cause });
    this.name = 'KnowledgeImportIncompleteError';
  }
}

export class KnowledgeImportBusyError extends Error {
  constructor(waitedMs: number) {
    super(`another knowledge import is still running (waited ${Math.round(waitedMs / 1000)} s); try again when it has finished`);
    this.name = 'KnowledgeImportBusyError';
  }
}

/** The id itself and the ids below it (path segments '/', solution variants '|'), RE2-compatible. */
function idsUnder(prefix: string): RegExp {
  return new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[/|])`);
}

interface LayerSpec {
  layer: KnowledgeLayer;
  model: Model<any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- the four layer models differ only in fields
  entries: Array<{ id: string; source: string; fields: Record<string, unknown> }>;
}

/** Fields the importer keeps for itself; every other top-level field of a layer comes from the authored files. */
const BOOKKEEPING_FIELDS = new Set(['_id', '__v', 'status', 'version', 'contentHash', 'updatedBy', 'source', 'createdAt', 'updatedAt']);

/** The top-level fields of a layer that come from the authored files. */
function authoredFieldsOf(model: LayerSpec['model']): string[] {
  return [...new Set(Object.keys(model.schema.paths).map((p) => p.split('.')[0]))].filter((f) => !BOOKKEEPING_FIELDS.has(f));
}

/**
 * The authored fields a changed entry no longer has: `$set` alone would keep their old values (an age band or a menu
 * deleted from a file would go on working), so they are unset.
 */
function droppedFields(authored: readonly string[], fields: Record<string, unknown>): Record<string, ''> {
  return Object.fromEntries(authored.filter((f) => fields[f] === undefined).map((f) => [f, ''] as const));
}

function hashOf(fields: Record<string, unknown>): string {
  return createHash('sha1').update(JSON.stringify(fields)).digest('hex');
}

function layersOf(set: KnowledgeSet): LayerSpec[] {
  return [
    { layer: 'scenario', model: Scenario, entries: set.scenarios.map(({ id, source, ...fields }) => ({ id, source, fields })) },
    { layer: 'intent', model: Intent, entries: set.intents.map(({ id, source, ...fields }) => ({ id, source, fields })) },
    { layer: 'subIntent', model: SubIntent, entries: set.subIntents.map(({ id, source, ...fields }) => ({ id, source, fields })) },
    { layer: 'solution', model: Solution, entries: set.solutions.map(({ id, source, ...fields }) => ({ id, source, fields })) },
  ];
}

/**
 * Brings the store in line with an authored set: creates what is new, updates what changed (version + 1),
 * retires what this import owns but no longer mentions, and leaves everything else untouched, so running the
 * same import twice writes nothing. Every change is logged; the revision bump tells every instance to refresh.
 */
export async function importKnowledge(set: KnowledgeSet, options: ImportOptions): Promise<ImportReport> {
  if (options.dryRun) return applyKnowledgeSet(set, options);
  // Scoped imports (the learning module's) take turns among themselves; they never touch another scope's entries.
  const lease = options.idPrefix === undefined ? 'knowledge:import' : `knowledge:import:${options.idPrefix}`;
  const started = Date.now();
  try {
    return await withLease(lease, () => applyKnowledgeSet(set, options), IMPORT_LEASE);
  } catch (err) {
    if (err instanceof LeaseBusyError) throw new KnowledgeImportBusyError(Date.now() - started);
    throw err;
  }
}

async function applyKnowledgeSet(set: KnowledgeSet, options: ImportOptions): Promise<ImportReport> {
  const layers = layersOf(set);
  const total = layers.reduce((sum, l) => sum + l.entries.length, 0);
  let done = 0;
  const changes: PlannedChange[] = [];
  let unchanged = 0;

  const scope = options.idPrefix === undefined ? undefined : idsUnder(options.idPrefix);
  if (scope) {
    const outside = layers.flatMap((l) => l.entries).find((entry) => !scope.test(entry.id));
    if (outside) throw new Error(`import scoped to "${options.idPrefix}" was given ${outside.id}`);
  }
  // Every layer is read before any is written, so an entry this import may not replace stops it with nothing written.
  const existingByLayer = new Map<KnowledgeLayer, Map<string, ExistingEntry>>();
  const refused: string[] = [];
  const refusedIds = new Set<string>();
  for (const { layer, model, entries } of layers) {
    const existing = new Map<string, ExistingEntry>();
    for await (const doc of model.find(scope ? { _id: { $regex: scope.source } } : {}, { contentHash: 1, status: 1, version: 1, source: 1 }).lean().cursor()) {
      const row = doc as ExistingEntry & { _id: string };
      existing.set(row._id, row);
    }
    existingByLayer.set(layer, existing);
    if (!options.mustNotReplace) continue;
    for (const entry of entries) {
      const before = existing.get(entry.id);
      if (refusedIds.has(entry.id.split('|')[0])) continue; // a refused sub-intent's answers: named once, with it
      if (before && options.mustNotReplace({ layer, id: entry.id, source: before.source, status: before.status })) {
        refusedIds.add(entry.id);
        refused.push(`${entry.source}: ${entry.id}: is an entry of ${before.source}; give it an id of its own`);
      }
    }
  }
  if (refused.length) throw new KnowledgeValidationError(refused);

  let wroteAny = false;
  try {
    for (const { layer, model, entries } of layers) {
      const existing = existingByLayer.get(layer)!;
      existingByLayer.delete(layer);
      const authored = authoredFieldsOf(model);
      const writes: BulkWriteOperation[] = [];
      const log: Array<{ entity: KnowledgeLayer; entityId: string; action: string; version: number; by: string; at: Date; content?: Record<string, unknown> }> = [];
      const now = new Date();
      const flush = async () => {
        if (options.dryRun || writes.length === 0) return;
        wroteAny = true;
        await bulkWriteUnordered(model, writes.splice(0));
        await KnowledgeChange.insertMany(log.splice(0), { ordered: false });
      };

      const mentioned = new Set<string>();
      for (const entry of entries) {
        mentioned.add(entry.id);
        const contentHash = hashOf(entry.fields);
        const before = existing.get(entry.id);
        if (!before) {
          changes.push({ layer, id: entry.id, action: 'created', source: entry.source });
          writes.push({
            insertOne: {
              document: { _id: entry.id, ...entry.fields, contentHash, status: 'published', version: 1, updatedBy: options.by, source: entry.source },
            },
          });
          log.push({ entity: layer, entityId: entry.id, action: 'created', version: 1, by: options.by, at: now, content: entry.fields });
        } else if (options.seedsOnlySource?.(entry.source) || options.leavesAlone?.({ layer, id: entry.id, source: before.source })) {
          unchanged++;
        } else if (before.contentHash !== contentHash || before.status !== 'published') {
          const version = before.version + 1;
          const dropped = droppedFields(authored, entry.fields);
          changes.push({ layer, id: entry.id, action: 'updated', source: entry.source });
          writes.push({
            updateOne: {
              filter: { _id: entry.id },
              update: {
                $set: { ...entry.fields, contentHash, status: 'published', version, updatedBy: options.by, source: entry.source },
                ...(Object.keys(dropped).length ? { $unset: dropped } : {}),
              },
            },
          });
          log.push({ entity: layer, entityId: entry.id, action: 'updated', version, by: options.by, at: now, content: entry.fields });
        } else {
          unchanged++;
        }
        done++;
        if (writes.length >= BATCH) await flush();
        if (done % 1000 === 0 || done === total) options.onProgress?.(done, total);
      }

      for (const [id, before] of existing) {
        if (mentioned.has(id) || before.status === 'retired' || !options.owns({ layer, id, source: before.source })) continue;
        const version = before.version + 1;
        changes.push({ layer, id, action: 'retired', source: before.source });
        writes.push({ updateOne: { filter: { _id: id }, update: { $set: { status: 'retired', version, updatedBy: options.by } } } });
        log.push({ entity: layer, entityId: id, action: 'retired', version, by: options.by, at: now });
        if (writes.length >= BATCH) await flush();
      }
      await flush();
    }
  } catch (err) {
    if (!wroteAny) throw err;
    // Without transactions part of it is stored: every instance serves the store as it now is (not some of them
    // the old and some the new answers), and running the import again finishes it (it writes only what differs).
    await publishKnowledgeRevision('many').catch(() => undefined);
    throw new KnowledgeImportIncompleteError(err);
  }
  options.onProgress?.(total, total);

  if (options.dryRun || changes.length === 0) return { changes, unchanged };
  const solutionIds = changes.filter((c) => c.layer === 'solution').map((c) => c.id);
  return { changes, unchanged, revision: await publishKnowledgeRevision(solutionIds.length <= MAX_LISTED_SOLUTIONS ? solutionIds : 'many') };
}

export const KNOWLEDGE_REVISION_ID = 'knowledge';

/** Changes to more solutions than this are not listed: instances reload every solution instead. */
export const MAX_LISTED_SOLUTIONS = 1_000;

/**
 * Tells every server instance that the published knowledge changed, and which solutions did. The note is inserted
 * first — the insert allocates the number, so concurrent publishers take different ones — and only then is the
 * revision raised, so an instance that sees a revision finds the notes of everything up to it.
 */
export async function publishKnowledgeRevision(changedSolutionIds: readonly string[] | 'many'): Promise<number> {
  const solutionIds = changedSolutionIds === 'many' ? undefined : [...changedSolutionIds];
  for (let revision = (await currentKnowledgeRevision()) + 1; ; revision++) {
    try {
      await KnowledgeRevisionNote.create({ _id: revisionNoteId(revision), solutionIds, at: new Date() });
    } catch (err) {
      if (isDuplicateKey(err)) continue; // taken by another publisher (or not yet visible)
      throw err;
    }
    const raise = () => KnowledgeRevision.updateOne(
      { _id: KNOWLEDGE_REVISION_ID }, { $max: { revision }, $set: { changedAt: new Date() } }, { upsert: true },
    );
    await raise().catch(() => raise()); // two first publishers creating the document at once: the retry updates it
    return revision;
  }
}

/**
 * The newest published revision. Raising the stored number is a read-modify-write on FerretDB/SQLite, so of two
 * publishers at once one raise can be lost; their notes cannot (each is an insert of its own number), so notes
 * past the stored number count too.
 */
export async function currentKnowledgeRevision(): Promise<number> {
  let revision = (await KnowledgeRevision.findById(KNOWLEDGE_REVISION_ID).lean())?.revision ?? 0;
  while (await KnowledgeRevisionNote.exists({ _id: revisionNoteId(revision + 1) })) revision++;
  return revision;
}

/** Human-readable diff for `--dry-run`. */
export function describeChanges(report: ImportReport, limit = 50): string {
  const counts = new Map<string, number>();
  for (const c of report.changes) counts.set(`${c.action} ${c.layer}`, (counts.get(`${c.action} ${c.layer}`) ?? 0) + 1);
  const lines = [...counts].map(([k, n]) => `${n} ${k}`);
  lines.push(`${report.unchanged} unchanged`);
  for (const c of report.changes.slice(0, limit)) {
    lines.push(`${c.action === 'created' ? '+' : c.action === 'retired' ? '-' : '~'} ${c.layer} ${c.id} (${c.source})`);
  }
  if (report.changes.length > limit) lines.push(`… and ${report.changes.length - limit} more`);
  return lines.join('\n');
}

/**
 * knowledge/scenarios/*.yaml → the store; entries from scenario files no longer present are retired. The learning
 * module's file (LEARNED_KNOWLEDGE_FILE) only seeds a database that lacks its entries: once published, the learning
 * module keeps them (approvals after the last export are not in the file, nor are retirements).
 */
export async function importKnowledgeDirectory(
  dir: string,
  options: Omit<ImportOptions, 'owns' | 'seedsOnlySource'>,
): Promise<ImportReport> {
  const fingerprint = scenarioFilesFingerprint(dir);
  const report = await importKnowledge(readKnowledgeDir(dir), {
    ...options,
    owns: ({ source }) => /\.ya?ml$/.test(source) && source !== LEARNED_KNOWLEDGE_FILE,
    seedsOnlySource: (source) => source === LEARNED_KNOWLEDGE_FILE,
  });
  if (!options.dryRun) {
    await KnowledgeImportMark.updateOne({ _id: path.resolve(dir) }, { $set: { fingerprint, by: options.by, at: new Date() } }, { upsert: true });
  }
  return report;
}

/** Whether a knowledge/ folder's scenario files changed since it was last imported; undefined if it never was. */
export async function knowledgeDirChangedSinceImport(dir: string): Promise<boolean | undefined> {
  const mark = await KnowledgeImportMark.findById(path.resolve(dir)).lean();
  return mark ? mark.fingerprint !== scenarioFilesFingerprint(dir) : undefined;
}

/** An operator's FAQ (JSONL or CSV) → the store; rows removed from that same file are retired. */
export async function importFaqFile(file: string, options: Omit<ImportOptions, 'owns' | 'leavesAlone' | 'mustNotReplace'>): Promise<ImportReport> {
  const source = path.basename(file);
  const container = (layer: KnowledgeLayer) => layer === 'scenario' || layer === 'intent';
  return importKnowledge(readFaqFile(file), {
    ...options,
    owns: (entry) => entry.source === source,
    // A row naming an existing scenario or intent ("invoice") files its question there; it must not rename that
    // scenario after itself (the next directory import would rename it back), nor replace another file's answer.
    leavesAlone: (existing) => container(existing.layer) && existing.source !== source,
    mustNotReplace: (existing) => !container(existing.layer) && existing.source !== source && existing.status !== 'retired',
  });
}
