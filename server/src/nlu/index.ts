/** The NLU's public surface: segment → features → classify (intent) → entities → emotion. */
export { segment } from './segmenter';
export { normalizeText } from './normalize';
export { extractFeatures, FeatureSpace, DEFAULT_FEATURE_OPTIONS, type FeatureOptions } from './features';
export {
  IntentClassifier, contentHash, DEFAULT_INTENT_OPTIONS,
  type IntentClassifierJSON, type IntentPrediction, type IntentTrainOptions, type LabelledText,
} from './intent-classifier';
export { IntentModelHolder, type IntentModelHolderOptions, type IntentModelState, type IntentTrainer } from './intent-model-holder';
export { readKnowledgeIntents, type KnowledgeIntents } from './knowledge-intents';
export { extractEntities, isValidIdCard, passesLuhn, DEFAULT_PRODUCTS, type Entity, type EntityType, type ProductDefinition, type Relation } from './entities';
export { parseChineseNumber } from './chinese-numbers';
export { isPersonalEntity, maskBankCard, maskEmail, maskEntity, maskIdCard, maskMentions, maskName, maskPersonalData, maskPhone, maskPolicyNumber } from './masking';
export { EmotionLexicon, SEVEN_EMOTIONS, EMOTION_LABELS, type Emotion, type EmotionOrNone } from './emotion-lexicon';
export { EmotionClassifier, buildShippedEmotionModel, type EmotionResult, type EmotionClassifierJSON, type Polarity } from './emotion-classifier';
export { createNlpjsEngine, useJieba, type NlpjsEngine } from './nlpjs-baseline';
export { evaluate, readLabelledJsonl, type EvaluationReport } from './evaluation';
export { createNluUnderstander, type NluUnderstanderDeps } from './understander';
