import mongoose, { Schema } from 'mongoose';

/**
 * What the bot could not answer, kept by message id (a retried delivery is one question), and the candidate
 * sub-intents clustered from it, waiting for a manager's review.
 */
export interface UnansweredQuestionRecord {
  _id: string;
  conversationId: string;
  text: string;
  at: Date;
  confidence: number;
  /** The knowledge candidate it was clustered into. */
  candidateId?: string;
  /** Looked for the agent's reply that followed (done once the reply window has passed). */
  agentReplyChecked: boolean;
}

const unansweredQuestionSchema = new Schema<UnansweredQuestionRecord>({
  _id: { type: String, required: true },
  conversationId: { type: String, required: true },
  text: { type: String, required: true },
  at: { type: Date, required: true },
  confidence: { type: Number, default: 0 },
  candidateId: String,
  agentReplyChecked: { type: Boolean, default: false },
});
unansweredQuestionSchema.index({ at: -1 });
unansweredQuestionSchema.index({ candidateId: 1, at: -1 });

export const CANDIDATE_STATES = ['pending', 'approved', 'rejected'] as const;
export type CandidateState = (typeof CANDIDATE_STATES)[number];

export interface SuggestedAnswer {
  text: string;
  agentId?: string;
  /** The agent message it was taken from (evidence). */
  messageId: string;
  /** How many questions of the cluster got this same answer. */
  count: number;
}

export interface KnowledgeCandidateRecord {
  _id: string;
  status: CandidateState;
  /** Proposed sub-intent name: the most typical question, until a reviewer renames it. */
  name: string;
  /** Distinct phrasings (the sub-intent's example questions once approved). */
  questions: string[];
  questionCount: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  suggestedAnswers: SuggestedAnswer[];
  /** The reviewed answer (set on edit or approval). */
  answer?: string;
  /** The closest existing sub-intent when the cluster formed: maybe a phrasing gap rather than a new topic. */
  nearestExisting?: { subIntentId: string; name: string; confidence: number };
  subIntentId?: string;
  reviewedBy?: string;
  reviewedAt?: Date;
  rejectReason?: string;
  publishedRevision?: number;
  createdAt: Date;
  updatedAt: Date;
}

const candidateSchema = new Schema<KnowledgeCandidateRecord>(
  {
    _id: { type: String, required: true },
    status: { type: String, enum: CANDIDATE_STATES, required: true, default: 'pending' },
    name: { type: String, required: true },
    questions: { type: [String], default: [] },
    questionCount: { type: Number, default: 0 },
    firstSeenAt: { type: Date, required: true },
    lastSeenAt: { type: Date, required: true },
    suggestedAnswers: { type: [new Schema({ text: String, agentId: String, messageId: String, count: Number }, { _id: false })], default: [] },
    answer: String,
    nearestExisting: { type: new Schema({ subIntentId: String, name: String, confidence: Number }, { _id: false }), required: false },
    subIntentId: String,
    reviewedBy: String,
    reviewedAt: Date,
    rejectReason: String,
    publishedRevision: Number,
  },
  { timestamps: true },
);
candidateSchema.index({ status: 1, lastSeenAt: -1 });

export const UnansweredQuestion = mongoose.model<UnansweredQuestionRecord>('LearningUnansweredQuestion', unansweredQuestionSchema);
export const KnowledgeCandidate = mongoose.model<KnowledgeCandidateRecord>('LearningKnowledgeCandidate', candidateSchema);
