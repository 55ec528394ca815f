/**
 * The parts of node-nlp 4 (which ships no types) that the NLU uses. Kept minimal on purpose: only what
 * src/nlu calls, with the shapes node-nlp's source actually has.
 */
declare module 'node-nlp' {
  /** node-nlp's training row: feature → value in, label → 1 out. */
  export interface NlpjsCorpusRow {
    input: Record<string, number>;
    output: Record<string, number>;
  }

  export interface NlpjsLookup {
    dict: Record<string, number>;
    items: string[];
  }

  export interface NlpjsPerceptron {
    name: string;
    id: number;
    weights: Float32Array;
    changes: Float32Array;
    bias: number;
  }

  export interface NlpjsNeuralSettings {
    iterations?: number;
    errorThresh?: number;
    deltaErrorThresh?: number;
    learningRate?: number;
    momentum?: number;
    alpha?: number;
    log?: boolean;
  }

  export interface NlpjsNeuralJSON {
    settings: NlpjsNeuralSettings;
    features?: string[];
    intents?: string[];
    perceptrons?: number[][];
  }

  /** One leaky-ReLU perceptron per label over sparse features (node-nlp's intent classifier). */
  export class NeuralNetwork {
    constructor(settings?: NlpjsNeuralSettings);
    settings: Required<Omit<NlpjsNeuralSettings, 'log'>> & { log?: boolean };
    perceptrons: NlpjsPerceptron[];
    numPerceptrons: number;
    lookup: { inputLookup: NlpjsLookup; outputLookup: NlpjsLookup; numInputs: number; numOutputs: number };
    status: { error: number; deltaError: number; iterations: number };
    decayLearningRate: number;
    initialize(numInputs: number, outputNames: string[]): void;
    prepareCorpus(corpus: NlpjsCorpusRow[]): Array<{ input: { keys: number[]; data: Record<number, number> }; output: { keys: number[]; data: Record<number, number> } }>;
    verifyIsInitialized(): void;
    train(corpus: NlpjsCorpusRow[]): { error: number; deltaError: number; iterations: number };
    run(input: Record<string, number>): Record<string, number> | undefined;
    toJSON(): NlpjsNeuralJSON;
    fromJSON(json: NlpjsNeuralJSON): void;
  }

  export interface NlpjsClassification {
    intent: string;
    score: number;
  }

  export interface NlpjsProcessResult {
    intent: string;
    score: number;
    classifications: NlpjsClassification[];
  }

  export interface NlpjsContainer {
    register(name: string, instance: unknown, isSingleton?: boolean): void;
    get(name: string): unknown;
  }

  export class NlpManager {
    constructor(settings?: Record<string, unknown>);
    container: NlpjsContainer;
    addDocument(locale: string, utterance: string, intent: string): void;
    train(): Promise<void>;
    process(locale: string, utterance: string): Promise<NlpjsProcessResult>;
    export(minified?: boolean): string;
    import(data: string): void;
  }
}
