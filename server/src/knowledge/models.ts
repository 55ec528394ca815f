import mongoose, { Schema, type InferSchemaType } from 'mongoose';

/**
 * The four layers: Scenario > Intent > SubIntent > Solution. Ids are the stable paths from knowledge/
 * (`claim-report`, `claim-report/how-to-report`, `claim-report/how-to-report/online-report`), so re-imports upsert
 * and every hot lookup is by `_id` (the only filter FerretDB pushes down).
 */
export const PUBLISH_STATES = ['draft', 'published', 'retired'] as const;
export type PublishState = (typeof PUBLISH_STATES)[number];

const versioned = {
  status: { type: String, enum: PUBLISH_STATES, required: true, default: 'published' },
  version: { type: Number, required: true, default: 1 },
  /** Hash of the authored content; an import that would not change it writes nothing. */
  contentHash: { type: String, required: true },
  updatedBy: { type: String, required: true },
  source: { type: String, required: true }, // file path or `api`
} as const;

const scenarioSchema = new Schema(
  { _id: { type: String, required: true }, name: { type: String, required: true }, description: String, ...versioned },
  { timestamps: true },
);

const intentSchema = new Schema(
  {
    _id: { type: String, required: true },
    scenarioId: { type: String, required: true, index: true },
    name: { type: String, required: true },
    ...versioned,
  },
  { timestamps: true },
);

const subIntentSchema = new Schema(
  {
    _id: { type: String, required: true },
    scenarioId: { type: String, required: true },
    intentId: { type: String, required: true, index: true },
    name: { type: String, required: true },
    /** Example user phrasings: the training data of the intent model and the similar-question index. */
    questions: { type: [String], required: true },
    /** Always offer a human for these (large claims, surrender ...). */
    sensitive: { type: Boolean, default: false },
    /** Answered from the user's live data (their policies, their claims) when possible. */
    live: { type: String, required: false },
    /** Sub-intents its answer offers as numbered follow-ups (a topic's menu). */
    menu: { type: [String], default: undefined },
    /** The side of the cooling-off period its answer presumes, and the sub-intent for the other side. */
    coolingOff: { type: new Schema({ presumes: String, otherwise: String }, { _id: false }), required: false },
    /** The ages its answer is written for; a stated age outside them goes to the sibling written for it. */
    forAges: { type: new Schema({ from: Number, to: Number }, { _id: false }), required: false },
    /** A general answer that gives way to the sibling written for a stated age. */
    deferToAge: { type: Boolean, required: false },
    solutionVariants: {
      type: new Schema(
        { hasGeneric: Boolean, products: [String], userStates: [String], fallbackKey: String },
        { _id: false },
      ),
      required: true,
    },
    ...versioned,
  },
  { timestamps: true },
);

const linkSchema = new Schema({ title: { type: String, required: true }, page: { type: String, required: true } }, { _id: false });

/**
 * A solution's `_id` is its selection key: sub-intent + the conditions it applies under
 * (`…/online-report|critical-illness|*`). Answer selection is then a handful of `_id` lookups, from the most
 * specific key to the generic one, however many solutions the store holds.
 */
const solutionSchema = new Schema(
  {
    _id: { type: String, required: true },
    subIntentId: { type: String, required: true, index: true },
    name: { type: String, required: true },
    text: { type: String, required: true },
    rich: {
      type: new Schema({ text: String, links: { type: [linkSchema], default: [] } }, { _id: false }),
      required: false,
    },
    conditions: {
      type: new Schema({ product: String, userState: String }, { _id: false }),
      default: {},
    },
    ...versioned,
  },
  { timestamps: true },
);

/** Who changed what and when: one row per create / update / retire / publish. */
const knowledgeChangeSchema = new Schema({
  entity: { type: String, enum: ['scenario', 'intent', 'subIntent', 'solution'], required: true },
  entityId: { type: String, required: true, index: true },
  action: { type: String, enum: ['created', 'updated', 'retired', 'published'], required: true },
  version: { type: Number, required: true },
  by: { type: String, required: true },
  at: { type: Date, required: true, default: () => new Date() },
  /**
   * The authored content of the entry as of this version (created / updated): the entry itself keeps only its
   * latest, so this is where an earlier answer can be read again ("what did the bot say last month?").
   */
  content: { type: Schema.Types.Mixed, required: false },
}, { minimize: false });

/** One document per store; every instance polls its revision to refresh its in-memory index. */
const knowledgeRevisionSchema = new Schema({
  _id: { type: String, required: true },
  revision: { type: Number, required: true, default: 0 },
  changedAt: { type: Date, required: true, default: () => new Date() },
});

/**
 * What one revision changed, written by whoever publishes it before the revision becomes visible: instances that
 * served the previous revision re-read only these solutions instead of all of them. Inserting the note is what
 * allocates the revision number (two publishers cannot take the same one).
 */
const knowledgeRevisionNoteSchema = new Schema(
  {
    _id: { type: String, required: true }, // revisionNoteId(revision)
    /** The solutions created, updated or retired; absent when there were too many to list (instances reload all). */
    solutionIds: { type: [String], default: undefined },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);

/** Which knowledge/ folder was last imported, as what (see scenarioFilesFingerprint): one document per folder path. */
const knowledgeImportMarkSchema = new Schema(
  {
    _id: { type: String, required: true },
    fingerprint: { type: String, required: true },
    by: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);

export const Scenario = mongoose.model('Scenario', scenarioSchema);
export const Intent = mongoose.model('Intent', intentSchema);
export const SubIntent = mongoose.model('SubIntent', subIntentSchema);
export const Solution = mongoose.model('Solution', solutionSchema);
export const KnowledgeChange = mongoose.model('KnowledgeChange', knowledgeChangeSchema);
export const KnowledgeRevision = mongoose.model('KnowledgeRevision', knowledgeRevisionSchema);
export const KnowledgeRevisionNote = mongoose.model('KnowledgeRevisionNote', knowledgeRevisionNoteSchema);
export const KnowledgeImportMark = mongoose.model('KnowledgeImportMark', knowledgeImportMarkSchema);
export const revisionNoteId = (revision: number) => String(revision).padStart(12, '0');

export type ScenarioDoc = InferSchemaType<typeof scenarioSchema>;
export type IntentDoc = InferSchemaType<typeof intentSchema>;
export type SubIntentDoc = InferSchemaType<typeof subIntentSchema>;
export type SolutionDoc = InferSchemaType<typeof solutionSchema>;
