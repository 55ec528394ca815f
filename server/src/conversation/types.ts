/**
 * The one message shape every channel turns its transport into, and the shapes the pipeline answers with.
 * Nothing here knows XML, HTTP or Wechaty.
 */
export const CHANNELS = ['official-account', 'miniprogram', 'wechaty', 'wecom'] as const;
export type ChannelName = (typeof CHANNELS)[number];

export type InboundEvent =
  | { type: 'subscribe'; key?: string }
  | { type: 'unsubscribe' }
  | { type: 'menu_click'; key: string }
  | { type: 'menu_view'; url: string }
  | { type: 'scan'; key: string };

export interface InboundMessage {
  channel: ChannelName;
  /** The user as the channel knows them (Official Account openid, mini-program user id, Wechaty contact id). */
  userId: string;
  /** Unique per delivery from the channel; a retry carries the same key. */
  dedupeKey: string;
  kind: 'text' | 'voice' | 'image' | 'video' | 'location' | 'link' | 'event';
  /** Typed text, or the speech recognition of a voice message. */
  text?: string;
  media?: { id?: string; url?: string; format?: string };
  location?: { latitude: number; longitude: number; label?: string };
  link?: { title: string; description?: string; url: string };
  event?: InboundEvent;
  receivedAt: Date;
  /** What the channel knows about the user that can change handling (VIP flag from the CRM, unionid). */
  profile?: { vip?: boolean; unionId?: string; nickname?: string };
}

export interface Choice {
  /** 1-based number the user can reply with. */
  number: number;
  label: string;
  subIntentId: string;
}

export type OutboundMessage =
  | { kind: 'text'; text: string; links?: Array<{ title: string; page: string }> }
  | { kind: 'choices'; text: string; choices: Choice[] }
  | { kind: 'news'; title: string; description: string; url: string; picUrl?: string };

export const EMOTIONS = ['like', 'happiness', 'sadness', 'anger', 'disgust', 'fear', 'surprise', 'none'] as const;
export type EmotionLabel = (typeof EMOTIONS)[number];

export interface EmotionReading {
  label: EmotionLabel;
  intensity: number;
  polarity: 'positive' | 'negative' | 'neutral';
}

export interface EntityMention {
  type: string;
  value: string | number;
  text: string;
}

export interface RankedCandidate {
  subIntentId: string;
  name: string;
  confidence: number;
}

/** What the pipeline understood of one message. */
export interface Understanding {
  candidates: RankedCandidate[];
  entities: EntityMention[];
  emotion: EmotionReading;
}

export const HANDOFF_REASONS = [
  'explicit_request',
  'complaint',
  'regulator',
  'negative_emotion',
  'emotion_worsening',
  'repeated_low_confidence',
  'sensitive_intent',
  'large_claim',
  'vip',
] as const;
export type HandoffReason = (typeof HANDOFF_REASONS)[number];

export type Decision =
  | { action: 'answer'; subIntentId: string; solutionId: string; confidence: number; reason: string; choices?: Choice[] }
  | { action: 'clarify'; choices: Choice[]; reason: string }
  | { action: 'ask_slot'; slot: string; subIntentId: string; reason: string }
  /** `subIntentId`: the question, when it was understood (answered anyway where no agent can take over). */
  | { action: 'handoff'; reasons: HandoffReason[]; reason: string; subIntentId?: string; solutionId?: string }
  | { action: 'welcome' | 'fallback' | 'acknowledge' | 'relay_to_agent'; reason: string };

export interface PipelineResult {
  conversationId: string;
  messageId: string;
  decision: Decision;
  replies: OutboundMessage[];
  /** True when this delivery was seen before: the stored replies are returned and nothing ran again. */
  duplicate: boolean;
}
