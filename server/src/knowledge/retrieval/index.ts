/** In-memory retrieval over sub-intents / FAQ entries: see retrieval-index.ts for the ranking. */
export {
  buildRetrievalIndex,
  RetrievalIndex,
  DEFAULT_BM25,
  DEFAULT_CALIBRATION,
  DEFAULT_RANKING_WEIGHTS,
  type RankingWeights,
  type RetrievalDocument,
  type RetrievalHit,
  type RetrievalIndexOptions,
  type RetrievalIndexSnapshot,
  type RetrievalSearchOptions,
} from './retrieval-index';
export { FILLER_WORDS, INSURANCE_SYNONYMS, TextAnalyzer, normaliseText, type AnalysedText, type WordSegmenter } from './analyzer';
export {
  applyCalibration,
  fitConfidenceCalibration,
  reliabilityTable,
  type ConfidenceCalibration,
  type ConfidenceFeatures,
  type LabelledFeatures,
  type ReliabilityBin,
  type ReliabilityReport,
} from './calibration';
export type { Bm25Parameters } from './term-channel';
