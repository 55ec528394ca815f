import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { WECHAT_CONFIG_DIR } from '../config/wechat-config';

/** wechat-config/qa-rules.yaml: what the automatic inspection checks and when an agent's behaviour is alerted on. */

const phrases = z.array(z.string().min(1)).min(1);
const deduction = z.number().min(0).max(100);
const positive = z.number().positive();

const anomalyMetric = z.object({ direction: z.enum(['lower', 'higher']), minScale: positive });

export const qaRulesSchema = z.object({
  scoring: z.object({ passMark: z.number().min(0).max(100) }),
  rules: z.object({
    forbiddenPhrases: z.object({ deduction, phrases }),
    rudeness: z.object({ deduction, phrases }),
    sellingDisclosure: z.object({ deduction, saleWords: phrases, required: z.record(z.string().min(1), phrases) }),
    greeting: z.object({ deduction, phrases }),
    closing: z.object({ deduction, phrases }),
    firstResponse: z.object({ deduction, maxSeconds: positive }),
    turnResponse: z.object({ maxSeconds: positive, deductionPerTurn: deduction, maxDeduction: deduction }),
    emotionWorse: z.object({ deduction, minDrop: z.number().min(0).max(2) }),
    unresolved: z.object({ deduction }),
    repeatContact: z.object({ deduction, withinHours: positive }),
    /** An ID card or bank card number written out in full by our side (it belongs masked). On unless configured. */
    personalData: z.object({ deduction }).default({ deduction: 20 }),
  }),
  anomaly: z.object({
    windowHours: positive,
    baselineDays: z.number().int().min(1),
    minInspections: z.number().int().min(1),
    minBaselineDays: z.number().int().min(1),
    minTeamAgents: z.number().int().min(1),
    minZ: positive,
    teamOnlyMinZ: positive,
    cooldownHours: positive,
    metrics: z.object({
      score: anomalyMetric,
      rudeness: anomalyMetric,
      forbiddenPhrases: anomalyMetric,
      slowResponse: anomalyMetric,
      emotionWorse: anomalyMetric,
    }),
  }),
});

export type QaRules = z.infer<typeof qaRulesSchema>;
export type AnomalyMetricName = keyof QaRules['anomaly']['metrics'];

export class QaRulesError extends Error {
  constructor(readonly problems: string[]) {
    super(`wechat-config/qa-rules.yaml has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'QaRulesError';
  }
}

export function parseQaRules(text: string): QaRules {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new QaRulesError([`not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  const result = qaRulesSchema.safeParse(data);
  if (!result.success) throw new QaRulesError(result.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`));
  return result.data;
}

export function loadQaRules(dir: string = WECHAT_CONFIG_DIR): QaRules {
  return parseQaRules(fs.readFileSync(path.join(dir, 'qa-rules.yaml'), 'utf8'));
}
