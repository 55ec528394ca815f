import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import type { BucketStore } from '../analytics/buckets';
import { isAffirmation, isRejection, pickedNumber } from '../conversation/decide';
import { agentRepliesAfter, type TranscriptTurn } from '../conversation/transcripts';
import type { EventBus } from '../events/bus';
import type { DomainEvents } from '../events/types';
import { badRequest, conflict, HttpError, notFound } from '../http/errors';
import { importKnowledge, type ImportReport } from '../knowledge/importer';
import { SubIntent } from '../knowledge/models';
import { LEARNED_KNOWLEDGE_FILE, OFFICIAL_ACCOUNT_TEXT_LIMIT, parseScenarioFile, type KnowledgeSet } from '../knowledge/source';
import { clusterQuestions, createQuestionAnalyzer, phrasingKey } from './clustering';
import {
  KnowledgeCandidate, UnansweredQuestion,
  type CandidateState, type KnowledgeCandidateRecord, type SuggestedAnswer, type UnansweredQuestionRecord,
} from './models';
import { insertedOnce, isDuplicateKey } from '../db/duplicate-key';
import { LeaseBusyError, withLease } from '../db/lease';

/**
 * The knowledge base that learns: questions the bot missed are collected, clustered into candidate sub-intents,
 * paired with what agents answered, reviewed by a manager, and published as ordinary knowledge (scenario
 * `learned`, file `knowledge/scenarios/learned.yaml`). Publishing goes through the importer, whose revision bump
 * makes every instance reload its index and retrain.
 */

export const LEARNED_SCENARIO_ID = 'learned';
export const LEARNED_INTENT = 'general';
/** Serialises publishing of learned knowledge across instances. */
const PUBLISH_LEASE = 'learning:publish';
/**
 * One clustering pass at a time across instances: two passes at once read the same open questions and both
 * counted them (questionCount and the cluster's hot-issue buckets doubled, and so did suggested answers).
 */
const REFRESH_LEASE = 'learning:refresh';

export interface LearningOptions {
  events: EventBus;
  now: () => Date;
  /** The published knowledge: new phrasings the bot already answers are not proposed again. */
  knowledge: {
    search(question: string, options?: { k?: number }): Array<{ id: string; name: string; confidence: number }>;
    /** Published sub-intents: their questions are the background that tells topic words from common ones. */
    allSubIntents?(): Array<{ questions: string[] }>;
  };
  /** Counts per cluster for hot issues. */
  buckets?: BucketStore;
  segment: (text: string) => string[];
  /** The confidence at which the bot answers (handoff-rules answer.minConfidence). */
  answerConfidence: number;
  /** The knowledge/ folder to export to. */
  knowledgeDir: string;
  similarity?: number;
  minClusterSize?: number;
  lookbackDays?: number;
  /** An agent message this soon after a question is its answer. */
  agentReplyWithinMs?: number;
}

export interface CandidateEdits {
  name?: string;
  questions?: string[];
  answer?: string;
}

export interface RefreshReport {
  joined: number;
  formed: string[];
  answersFound: number;
}

const MAX_QUESTIONS_KEPT = 30;
/** Pleasantries agents open and close with: not an answer to anything. */
const PLEASANTRIES = /您好|你好|我是[^，。,.!！]{0,12}|很高兴为您服务|请稍等|稍等|正在为您查询|马上为您查询|感谢您的耐心|不客气|还有其他问题[^。]*|随时联系|再见|祝您[^。]*|[，。,.!！~\s]/g;

/** The agent's answer among their replies: the first that says something beyond greetings and thanks. */
function substantiveReply(replies: readonly TranscriptTurn[]): TranscriptTurn | undefined {
  return replies.find((turn) => turn.text.replace(PLEASANTRIES, '').length >= 8);
}
const MAX_POOL = 3_000;

export class LearningService {
  private readonly analyse: (text: string) => string[];
  private readonly recentTexts = new Map<string, { conversationId: string; text: string; confidence: number; at: Date }>();
  private refreshing: Promise<RefreshReport> | undefined;
  private backgroundCache: { signature: string; terms: string[][] } | undefined;
  /** Open questions found to be gaps, with the knowledge signature they were checked against. */
  private stillGapAt = new Map<string, string>();

  constructor(private readonly options: LearningOptions) {
    this.analyse = createQuestionAnalyzer(options.segment);
  }

  listen(): void {
    const { events } = this.options;
    events.on('question.unanswered', async (e) => { await this.collect({ messageId: e.messageId, conversationId: e.conversationId, text: e.text, confidence: e.confidence, at: new Date(e.at) }); });
    // A hand-off for repeated misses is also a miss; its text comes with the message.received just before.
    events.on('message.received', (e) => { this.remember(e); });
    events.on('message.answered', async (e) => {
      if (e.decision.action !== 'handoff' || !e.decision.reasons.includes('repeated_low_confidence')) return;
      const seen = this.recentTexts.get(e.messageId);
      if (seen) await this.collect({ messageId: e.messageId, ...seen });
    });
  }

  private remember(event: DomainEvents['message.received']): void {
    if (!event.text || event.state !== 'bot') return;
    this.recentTexts.set(event.messageId, { conversationId: event.conversationId, text: event.text, confidence: event.confidence ?? 0, at: new Date(event.at) });
    if (this.recentTexts.size > 1_000) this.recentTexts.delete(this.recentTexts.keys().next().value!);
  }

  /**
   * Keeps a missed question (once per message). Choice numbers, one-character messages and replies to the choices
   * offered ("都不是", "是的": the question they answer was collected when it was asked) are not questions: every
   * user rejecting choices said nearly the same thing, and they clustered into a "都不是" candidate.
   */
  async collect(question: { messageId: string; conversationId: string; text: string; confidence: number; at: Date }): Promise<boolean> {
    const text = question.text.trim();
    if (phrasingKey(text).length < 3 || /^[\d\s第选个.。]+$/.test(text)) return false;
    if (isRejection(text) || isAffirmation(text) || pickedNumber(text) !== undefined) return false;
    return insertedOnce(() => UnansweredQuestion.create({
      _id: question.messageId, conversationId: question.conversationId, text: text.slice(0, 500), at: question.at,
      confidence: question.confidence, agentReplyChecked: false,
    }));
  }

  /** The knowledge base's questions, analysed once per change of the published set. */
  private background(): ReadonlyArray<readonly string[]> {
    const subIntents = this.options.knowledge.allSubIntents?.() ?? [];
    const signature = `${subIntents.length}:${subIntents.reduce((n, s) => n + s.questions.length, 0)}`;
    if (this.backgroundCache?.signature !== signature) {
      this.backgroundCache = { signature, terms: subIntents.flatMap((s) => s.questions.map((q) => this.analyse(q))) };
    }
    return this.backgroundCache.terms;
  }

  /** One clustering pass at a time; while another instance runs one, this one has nothing to do. */
  refreshCandidates(): Promise<RefreshReport> {
    this.refreshing ??= withLease(REFRESH_LEASE, () => this.refresh(), { waitMs: 0 })
      .catch((err: unknown) => {
        if (err instanceof LeaseBusyError) return { joined: 0, formed: [], answersFound: 0 };
        throw err;
      })
      .finally(() => { this.refreshing = undefined; });
    return this.refreshing;
  }

  private async refresh(): Promise<RefreshReport> {
    const now = this.options.now();
    const since = new Date(now.getTime() - (this.options.lookbackDays ?? 14) * 86_400_000);
    const open = (await UnansweredQuestion.find({ at: { $gte: since }, candidateId: { $exists: false } }).sort({ at: -1 }).limit(MAX_POOL).lean<UnansweredQuestionRecord[]>())
      .reverse();
    const candidates = await KnowledgeCandidate.find({}).lean<KnowledgeCandidateRecord[]>();
    // The pipeline judged each of these a miss when it was asked; what changed since is what we published: a phrasing
    // a learned sub-intent now answers confidently is no gap any more. (Authored knowledge is not re-checked: its
    // retrieval may be confidently wrong on exactly these questions, and the reviewer sees the nearest match anyway.)
    const background = this.background();
    const signature = this.backgroundCache?.signature ?? '';
    const checked = new Map<string, string>();
    const gaps = open.filter((q) => {
      // Searching is the costly part: a question is searched again only when the published knowledge changed.
      checked.set(q._id, signature);
      if (this.stillGapAt.get(q._id) === signature) return true;
      const [best] = this.options.knowledge.search(q.text, { k: 1 });
      return !(best && best.id.startsWith(`${LEARNED_SCENARIO_ID}/`) && best.confidence >= this.options.answerConfidence);
    });
    this.stillGapAt = new Map(gaps.map((q) => [q._id, checked.get(q._id)!]));
    const result = clusterQuestions(
      gaps.map((q) => ({ id: q._id, text: q.text })),
      candidates.map((c) => ({ id: c._id, texts: c.questions })),
      this.analyse,
      { similarity: this.options.similarity ?? 0.25, minClusterSize: this.options.minClusterSize ?? 3 },
      background,
    );
    const byId = new Map(gaps.map((q) => [q._id, q]));
    const assigned: Array<{ question: UnansweredQuestionRecord; candidateId: string }> = [];
    for (const [questionId, candidateId] of result.joined) assigned.push({ question: byId.get(questionId)!, candidateId });
    const formed: string[] = [];
    for (const cluster of result.formed) {
      const members = cluster.memberIds.map((id) => byId.get(id)!);
      const candidateId = `c${createHash('sha1').update(members.map((m) => m._id).sort()[0]).digest('hex').slice(0, 10)}`;
      const typical = members[0].text;
      const nearest = this.options.knowledge.search(typical, { k: 1 })[0];
      try {
        await KnowledgeCandidate.create({
          _id: candidateId, status: 'pending', name: typical.slice(0, 40), questions: [], questionCount: 0,
          firstSeenAt: members.reduce((min, m) => (m.at < min ? m.at : min), members[0].at), lastSeenAt: members[0].at,
          suggestedAnswers: [], nearestExisting: nearest ? { subIntentId: nearest.id, name: nearest.name, confidence: nearest.confidence } : undefined,
        });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err; // another instance formed it first: join it
      }
      formed.push(candidateId);
      for (const question of members) assigned.push({ question, candidateId });
    }
    await this.assign(assigned);
    const answersFound = await this.collectAgentAnswers(now);
    return { joined: result.joined.size, formed, answersFound };
  }

  /** Records memberships, adds new phrasings to their candidates and counts them in the cluster buckets. */
  private async assign(assigned: Array<{ question: UnansweredQuestionRecord; candidateId: string }>): Promise<void> {
    const byCandidate = new Map<string, UnansweredQuestionRecord[]>();
    for (const { question, candidateId } of assigned) byCandidate.set(candidateId, [...(byCandidate.get(candidateId) ?? []), question]);
    for (const [candidateId, questions] of byCandidate) {
      await UnansweredQuestion.updateMany({ _id: { $in: questions.map((q) => q._id) } }, { $set: { candidateId } });
      const candidate = await KnowledgeCandidate.findById(candidateId).lean<KnowledgeCandidateRecord>();
      if (!candidate) continue;
      const phrasings = [...candidate.questions];
      const seen = new Set(phrasings.map(phrasingKey));
      for (const q of questions) {
        if (phrasings.length >= MAX_QUESTIONS_KEPT || seen.has(phrasingKey(q.text))) continue;
        seen.add(phrasingKey(q.text));
        phrasings.push(q.text);
      }
      const latest = questions.reduce((max, q) => (q.at > max ? q.at : max), new Date(candidate.lastSeenAt));
      const earliest = questions.reduce((min, q) => (q.at < min ? q.at : min), new Date(candidate.firstSeenAt));
      // Reviewed candidates keep their reviewed phrasings: new ones only count.
      const update = candidate.status === 'pending' ? { questions: phrasings } : {};
      await KnowledgeCandidate.updateOne(
        { _id: candidateId },
        { $set: { ...update, lastSeenAt: latest, firstSeenAt: earliest }, $inc: { questionCount: questions.length } },
      );
      await this.options.buckets?.add(questions.map((q) => ({ metric: 'unanswered_cluster' as const, key: candidateId, at: new Date(q.at) })));
    }
  }

  /** For clustered questions whose reply window has passed: the agent's reply becomes a suggested answer. */
  private async collectAgentAnswers(now: Date): Promise<number> {
    const within = this.options.agentReplyWithinMs ?? 30 * 60_000;
    // Clustered questions only: one still waiting for its cluster to form keeps its agent reply for then (marking it
    // checked lost the answers to a wave's first questions, the ones asked before it was recognised).
    const clustered = await UnansweredQuestion.find({ agentReplyChecked: false, candidateId: { $exists: true }, at: { $lte: new Date(now.getTime() - within) } })
      .limit(MAX_POOL)
      .lean<UnansweredQuestionRecord[]>();
    if (!clustered.length) return 0;
    const replies = await agentRepliesAfter(clustered.map((q) => ({ messageId: q._id, conversationId: q.conversationId, at: new Date(q.at) })), within);
    const byCandidate = new Map<string, Array<{ text: string; agentId?: string; messageId: string }>>();
    for (const q of clustered) {
      const reply = substantiveReply(replies.get(q._id) ?? []);
      if (reply) byCandidate.set(q.candidateId!, [...(byCandidate.get(q.candidateId!) ?? []), { text: reply.text, agentId: reply.agentId, messageId: reply.messageId }]);
    }
    for (const [candidateId, found] of byCandidate) {
      const candidate = await KnowledgeCandidate.findById(candidateId).lean<KnowledgeCandidateRecord>();
      if (!candidate) continue;
      const suggestions = new Map<string, SuggestedAnswer>(candidate.suggestedAnswers.map((s) => [phrasingKey(s.text), { ...s }]));
      for (const reply of found) {
        const key = phrasingKey(reply.text);
        const existing = suggestions.get(key);
        if (existing) existing.count += 1;
        else suggestions.set(key, { text: reply.text.slice(0, OFFICIAL_ACCOUNT_TEXT_LIMIT), agentId: reply.agentId, messageId: reply.messageId, count: 1 });
      }
      const ranked = [...suggestions.values()].sort((a, b) => b.count - a.count).slice(0, 5);
      await KnowledgeCandidate.updateOne({ _id: candidateId }, { $set: { suggestedAnswers: ranked } });
    }
    await UnansweredQuestion.updateMany({ _id: { $in: clustered.map((q) => q._id) } }, { $set: { agentReplyChecked: true } });
    return [...byCandidate.values()].reduce((sum, list) => sum + list.length, 0);
  }

  // ---- Review ----

  async candidates(status?: CandidateState, limit = 50): Promise<KnowledgeCandidateRecord[]> {
    const filter = status ? { status } : {};
    return KnowledgeCandidate.find(filter).sort({ questionCount: -1, lastSeenAt: -1 }).limit(limit).lean<KnowledgeCandidateRecord[]>();
  }

  async candidate(id: string): Promise<KnowledgeCandidateRecord> {
    const found = await KnowledgeCandidate.findById(id).lean<KnowledgeCandidateRecord>();
    if (!found) throw notFound('candidate_not_found', `no knowledge candidate ${id}`);
    return found;
  }

  async candidateName(id: string): Promise<string | undefined> {
    return (await KnowledgeCandidate.findById(id, { name: 1 }).lean<Pick<KnowledgeCandidateRecord, 'name'>>())?.name;
  }

  /** Example questions of a candidate (for alerts and the dashboard). */
  async examples(id: string, limit = 3): Promise<string[]> {
    const found = await KnowledgeCandidate.findById(id, { questions: 1 }).lean<Pick<KnowledgeCandidateRecord, 'questions'>>();
    return found?.questions.slice(0, limit) ?? [];
  }

  async edit(id: string, edits: CandidateEdits, by: string): Promise<KnowledgeCandidateRecord> {
    const candidate = await this.candidate(id);
    if (candidate.status !== 'pending') throw conflict('candidate_reviewed', `candidate ${id} is already ${candidate.status}`);
    await KnowledgeCandidate.updateOne({ _id: id }, { $set: { ...this.cleanEdits(edits), reviewedBy: by } });
    return this.candidate(id);
  }

  /** Rejects a candidate; a published one is taken out of service (its knowledge retired). */
  async reject(id: string, reason: string | undefined, by: string): Promise<KnowledgeCandidateRecord> {
    const candidate = await this.candidate(id);
    // Kept (as rejected) so the same topic is absorbed by it instead of being proposed again.
    await KnowledgeCandidate.updateOne({ _id: id }, { $set: { status: 'rejected', rejectReason: reason, reviewedBy: by, reviewedAt: this.options.now() } });
    if (candidate.status === 'approved') await this.publishAll(by);
    return this.candidate(id);
  }

  /** Approves (with the reviewer's edits) and publishes every approved candidate. */
  async approve(id: string, edits: CandidateEdits, by: string): Promise<{ candidate: KnowledgeCandidateRecord; report: ImportReport }> {
    const candidate = await this.candidate(id);
    if (candidate.status === 'rejected') throw conflict('candidate_rejected', `candidate ${id} was rejected`);
    const cleaned = this.cleanEdits(edits);
    const reviewed = { ...candidate, ...cleaned };
    const answer = reviewed.answer ?? candidate.suggestedAnswers[0]?.text;
    if (!answer) throw badRequest('answer_required', 'an answer is required: no agent answer was found for these questions');
    const approved: KnowledgeCandidateRecord = {
      ...reviewed, answer, status: 'approved', subIntentId: `${LEARNED_SCENARIO_ID}/${LEARNED_INTENT}/${id}`,
    };
    // Validate the whole published set before changing anything.
    const others = (await KnowledgeCandidate.find({ status: 'approved' }).lean<KnowledgeCandidateRecord[]>()).filter((c) => c._id !== id);
    this.knowledgeSetOf([...others, approved]);
    await KnowledgeCandidate.updateOne(
      { _id: id },
      { $set: { status: 'approved', name: approved.name, questions: approved.questions, answer, subIntentId: approved.subIntentId, reviewedBy: by, reviewedAt: this.options.now() } },
    );
    const report = await this.publishAll(by);
    await KnowledgeCandidate.updateOne({ _id: id }, { $set: { publishedRevision: report.revision } });
    this.options.events.publish('knowledge.learned_published', {
      candidateIds: [id], subIntentIds: [approved.subIntentId!], revision: report.revision, by, at: this.options.now(),
    });
    return { candidate: await this.candidate(id), report };
  }

  private cleanEdits(edits: CandidateEdits): CandidateEdits {
    const cleaned: CandidateEdits = {};
    if (edits.name !== undefined) cleaned.name = edits.name.trim();
    if (edits.answer !== undefined) cleaned.answer = edits.answer.trim();
    if (edits.questions !== undefined) {
      const seen = new Set<string>();
      cleaned.questions = [];
      for (const question of edits.questions.map((q) => q.trim())) {
        if (!question || seen.has(phrasingKey(question))) continue;
        seen.add(phrasingKey(question));
        cleaned.questions.push(question);
      }
    }
    return cleaned;
  }

  /**
   * Publishes every approved candidate (after each review, or after restoring the database). Reviews on several
   * instances at once take turns: each reads the approved set only once it holds the lease, so the last to publish
   * sees every review before it, and no stale set (one with a candidate rejected meanwhile) lands after it.
   */
  async publishAll(by: string): Promise<ImportReport> {
    try {
      return await withLease(PUBLISH_LEASE, async () => {
        const approved = await KnowledgeCandidate.find({ status: 'approved' }).lean<KnowledgeCandidateRecord[]>();
        return this.publishSet(this.knowledgeSetOf(approved), by);
      });
    } catch (err) {
      if (err instanceof LeaseBusyError) throw new HttpError(503, 'publishing_busy', 'learned knowledge is being published by another review; try again shortly');
      throw err;
    }
  }

  /**
   * Publishes the approved candidates' knowledge and retires that of the others this module knows. Learned entries
   * of no candidate here (seeded from learned.yaml into a new database) are left in service. The shared scenario and
   * intent are retired only when no learned sub-intent is left in them, so agents do not browse an empty branch.
   */
  private async publishSet(set: KnowledgeSet, by: string): Promise<ImportReport> {
    const known = new Set((await KnowledgeCandidate.find({}, { _id: 1 }).lean<Array<{ _id: string }>>()).map((c) => c._id));
    const candidateOf = (entryId: string) => entryId.split('|')[0].slice(`${LEARNED_SCENARIO_ID}/${LEARNED_INTENT}/`.length);
    const seededOnly = (await SubIntent.find({ source: LEARNED_KNOWLEDGE_FILE, status: 'published' }, { _id: 1 }).lean<Array<{ _id: string }>>())
      .filter((s) => !known.has(candidateOf(s._id)));
    const branchEmpty = set.subIntents.length === 0 && seededOnly.length === 0;
    return importKnowledge(set, {
      by: `learning:${by}`,
      idPrefix: LEARNED_SCENARIO_ID,
      owns: ({ layer, id, source }) => {
        if (source !== LEARNED_KNOWLEDGE_FILE) return false;
        if (layer === 'scenario' || layer === 'intent') return branchEmpty;
        return known.has(candidateOf(id));
      },
    });
  }

  /** The YAML of `knowledge/scenarios/learned.yaml` for the given approved candidates. */
  learnedYaml(approved: readonly KnowledgeCandidateRecord[]): string {
    const sorted = [...approved].sort((a, b) => a._id.localeCompare(b._id));
    const document = {
      id: LEARNED_SCENARIO_ID,
      name: '新学知识',
      description: '由未解答问题聚类、主管审核后发布的知识（由看板导出，只在新数据库中导入；下线请在看板「已发布的新学知识」中操作。移入其他场景文件后，请在那里下线原条目）',
      intents: [{
        id: LEARNED_INTENT,
        name: '新学问题',
        subIntents: sorted.map((c) => ({
          id: c._id, name: c.name, questions: c.questions.length ? c.questions : [c.name],
          solutions: [{ id: 'default', text: c.answer ?? '' }],
        })),
      }],
    };
    return `# Generated by the learning knowledge base (npm start → dashboard → review queue). Reviewed in git like any scenario.\n${stringifyYaml(document, { lineWidth: 0 })}`;
  }

  /**
   * The set exactly as importing the exported file would read it (parsed through the same validator), so
   * publishing and a later `knowledge:import` of the exported file agree and the second changes nothing.
   */
  private knowledgeSetOf(approved: readonly KnowledgeCandidateRecord[]): KnowledgeSet {
    const set: KnowledgeSet = { scenarios: [], intents: [], subIntents: [], solutions: [] };
    if (!approved.length) return set;
    const problems: string[] = [];
    parseScenarioFile(LEARNED_KNOWLEDGE_FILE, this.learnedYaml(approved), set, problems);
    if (problems.length) throw badRequest('invalid_knowledge', problems.join('; '), { problems });
    return set;
  }

  /** Writes knowledge/scenarios/learned.yaml (or removes it when nothing is approved). */
  async exportToKnowledgeDir(): Promise<{ file: string; subIntents: number }> {
    const approved = await KnowledgeCandidate.find({ status: 'approved' }).lean<KnowledgeCandidateRecord[]>();
    const file = path.join(this.options.knowledgeDir, 'scenarios', LEARNED_KNOWLEDGE_FILE);
    if (!approved.length) {
      await fs.rm(file, { force: true });
      return { file, subIntents: 0 };
    }
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, this.learnedYaml(approved));
    return { file, subIntents: approved.length };
  }

  async exportYaml(): Promise<string> {
    return this.learnedYaml(await KnowledgeCandidate.find({ status: 'approved' }).lean<KnowledgeCandidateRecord[]>());
  }
}
