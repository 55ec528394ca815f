import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** The seven emotions of NLPCC 2014, in a fixed order (feature layout and reports depend on it). */
export const SEVEN_EMOTIONS = ['like', 'happiness', 'sadness', 'anger', 'disgust', 'fear', 'surprise'] as const;
export type Emotion = (typeof SEVEN_EMOTIONS)[number];
export type EmotionOrNone = Emotion | 'none';
export const EMOTION_LABELS: readonly EmotionOrNone[] = [...SEVEN_EMOTIONS, 'none'];

export const EMOTION_KNOWLEDGE_DIR = path.resolve(__dirname, '../../../knowledge/emotion');
export const LEXICON_FILE = path.join(EMOTION_KNOWLEDGE_DIR, 'lexicon.yaml');

const emotion = z.enum(SEVEN_EMOTIONS);
const wordEntry = z.union([z.number(), z.object({ weight: z.number(), negated: emotion.optional() })]);
const lexiconSchema = z.object({
  words: z.record(emotion, z.record(z.string(), wordEntry)),
  degree: z.record(z.string(), z.number()),
  negators: z.array(z.string()),
  emoji: z.record(z.string(), z.object({ emotion, weight: z.number() })),
  punctuation: z.object({ exclamation: z.number(), question: z.number(), maxBoost: z.number() }),
});
export type LexiconSource = z.infer<typeof lexiconSchema>;

type Entry =
  | { kind: 'word'; emotion: Emotion; weight: number; negated?: Emotion }
  | { kind: 'degree'; factor: number }
  | { kind: 'negator' };

/** What the lexicon stage read in one text. */
export interface LexiconReading {
  /** Evidence per emotion (SEVEN_EMOTIONS order), after degree, negation and punctuation. */
  scores: Float64Array;
  /** Evidence that was cancelled by a negator ("不生气" → anger here, not in scores). */
  negated: Float64Array;
  exclamations: number;
  questions: number;
}

const emotionIndex = new Map<string, number>(SEVEN_EMOTIONS.map((e, i) => [e, i]));
/** How far (in characters) a degree adverb or negator still reaches the emotion word. */
const MODIFIER_REACH = 3;
const BREAK = /[\s\p{P}]/u;

/**
 * The rule stage of emotion: lexicon words scaled by degree adverbs (非常, 太, 有点), cancelled or flipped by
 * negators (不, 没, 别), plus emoji / WeChat codes and repeated ！ or ？.
 */
export class EmotionLexicon {
  private readonly entries = new Map<string, Entry>();
  private readonly maxLength: number;
  private readonly emoji: Array<[string, Emotion, number]>;

  constructor(readonly source: LexiconSource) {
    for (const negator of source.negators) this.entries.set(negator, { kind: 'negator' });
    for (const [word, factor] of Object.entries(source.degree)) this.entries.set(word, { kind: 'degree', factor });
    for (const [name, words] of Object.entries(source.words)) {
      for (const [word, entry] of Object.entries(words ?? {})) {
        const weight = typeof entry === 'number' ? entry : entry.weight;
        const negated = typeof entry === 'number' ? undefined : entry.negated;
        this.entries.set(word.toLowerCase(), { kind: 'word', emotion: name as Emotion, weight, negated });
      }
    }
    this.maxLength = Math.max(1, ...[...this.entries.keys()].map((w) => w.length));
    this.emoji = Object.entries(source.emoji).map(([code, e]) => [code.toLowerCase(), e.emotion, e.weight]);
  }

  static load(file: string = LEXICON_FILE): EmotionLexicon {
    return new EmotionLexicon(lexiconSchema.parse(parseYaml(fs.readFileSync(file, 'utf8'))));
  }

  read(rawText: string): LexiconReading {
    const text = rawText.toLowerCase();
    const scores = new Float64Array(SEVEN_EMOTIONS.length);
    const negated = new Float64Array(SEVEN_EMOTIONS.length);
    for (const [code, name, weight] of this.emoji) {
      let count = 0;
      for (let at = text.indexOf(code); at >= 0; at = text.indexOf(code, at + code.length)) count++;
      // Repeating an emoji adds less each time.
      if (count) scores[emotionIndex.get(name) as number] += weight * (1 + Math.log(count));
    }

    let degree = 1;
    let negate = false;
    let sinceModifier = 0;
    const reset = () => {
      degree = 1;
      negate = false;
      sinceModifier = 0;
    };
    let i = 0;
    while (i < text.length) {
      let matched: Entry | undefined;
      let length = Math.min(this.maxLength, text.length - i);
      for (; length > 0; length--) {
        matched = this.entries.get(text.slice(i, i + length));
        if (matched) break;
      }
      if (!matched) {
        if (BREAK.test(text[i])) reset();
        else if (++sinceModifier > MODIFIER_REACH) reset();
        i++;
        continue;
      }
      i += length;
      if (matched.kind === 'degree') {
        degree *= matched.factor;
        sinceModifier = 0;
      } else if (matched.kind === 'negator') {
        negate = !negate;
        sinceModifier = 0;
      } else {
        const strength = matched.weight * degree;
        if (negate) {
          negated[emotionIndex.get(matched.emotion) as number] += strength;
          // "不开心" is sadness, "不喜欢" disgust; others ("不生气") mean no emotion.
          if (matched.negated) scores[emotionIndex.get(matched.negated) as number] += strength * 0.7;
        } else {
          scores[emotionIndex.get(matched.emotion) as number] += strength;
        }
        reset();
      }
    }

    const exclamations = (text.match(/[!！]/g) ?? []).length;
    const questions = (text.match(/[?？]/g) ?? []).length;
    const { exclamation, question, maxBoost } = this.source.punctuation;
    const boost = Math.min(maxBoost, Math.max(0, exclamations - 1) * exclamation + Math.max(0, questions - 1) * question);
    if (boost > 0) {
      let strongest = 0;
      for (let e = 1; e < scores.length; e++) if (scores[e] > scores[strongest]) strongest = e;
      if (scores[strongest] > 0) scores[strongest] *= 1 + boost;
    }
    // "？？" alone reads as surprise (or impatience, which the classifier can tell from the words).
    if (questions >= 2) scores[emotionIndex.get('surprise') as number] += Math.min(maxBoost, (questions - 1) * question);
    return { scores, negated, exclamations, questions };
  }
}
