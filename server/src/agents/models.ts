import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const STAFF_ROLES = ['agent', 'manager'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];
export const AGENT_STATES = ['on_duty', 'busy', 'off'] as const;

/** A human agent or manager, keyed by their WeCom userid. */
const agentSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    role: { type: String, enum: STAFF_ROLES, required: true, default: 'agent' },
    team: { type: String, default: 'default' },
    /** Scenario or intent ids this agent handles (`claim-progress`, `claim-progress/why-slow`). */
    skills: { type: [String], default: [] },
    capacity: { type: Number, default: 3 },
    status: { type: String, enum: AGENT_STATES, default: 'off' },
  },
  { timestamps: true },
);

/** API tokens for the agent console, stored only as a SHA-256 hash (the `_id`, so lookup is a key read). */
const agentTokenSchema = new Schema({
  _id: { type: String, required: true },
  agentId: { type: String, required: true, index: true },
  createdAt: { type: Date, default: () => new Date() },
});

export const Agent = mongoose.model('Agent', agentSchema);
export const AgentToken = mongoose.model('AgentToken', agentTokenSchema);
export type AgentDoc = InferSchemaType<typeof agentSchema> & { _id: string };
