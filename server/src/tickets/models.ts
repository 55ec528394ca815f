import mongoose, { Schema } from 'mongoose';
import { TICKET_PRIORITIES, TICKET_SOURCES, TICKET_STATUSES, type TicketRecord } from './types';

/**
 * Tickets, keyed by their display number (`T000123`) so an agent typing the number is a key read.
 * Numbers come from a counter document; the insert is the real guard (a duplicate number collides on `_id`).
 */
const ticketSchema = new Schema<TicketRecord>(
  {
    _id: { type: String, required: true },
    channel: { type: String, required: true },
    userId: { type: String, required: true },
    conversationId: { type: String, required: true },
    sessionId: String,
    source: { type: String, enum: TICKET_SOURCES, required: true },
    openedBy: { type: String, required: true },
    status: { type: String, enum: TICKET_STATUSES, required: true, default: 'open' },
    priority: { type: String, enum: TICKET_PRIORITIES, required: true, default: 'normal' },
    subject: { type: String, required: true },
    description: String,
    summary: { type: String, default: '' },
    intent: { type: new Schema({ scenarioId: String, intentId: String, subIntentId: String, name: String }, { _id: false }), default: {} },
    entities: { type: [new Schema({ type: String, value: String, display: String }, { _id: false })], default: [] },
    emotion: { type: new Schema({ label: String, intensity: Number, polarity: String }, { _id: false }), required: false },
    handoffReasons: { type: [String], default: [] },
    vip: { type: Boolean, default: false },
    team: String,
    assigneeId: String,
    sla: {
      type: new Schema(
        {
          firstResponseDueAt: { type: Date, required: true },
          resolutionDueAt: { type: Date, required: true },
          firstRespondedAt: Date,
          resolvedAt: Date,
          pausedAt: Date,
          firstResponseBreachedAt: Date,
          resolutionBreachedAt: Date,
        },
        { _id: false },
      ),
      required: true,
    },
    history: {
      type: [new Schema({ at: Date, by: String, action: String, from: String, to: String, note: String }, { _id: false })],
      default: [],
    },
    notes: { type: [new Schema({ at: Date, by: String, text: String, toUser: Boolean, delivered: Boolean }, { _id: false })], default: [] },
    openedAt: { type: Date, required: true },
    closedAt: Date,
  },
  { timestamps: true },
);
ticketSchema.index({ channel: 1, userId: 1, createdAt: -1 });
ticketSchema.index({ status: 1, priority: 1, createdAt: -1 });
ticketSchema.index({ assigneeId: 1, status: 1 });
ticketSchema.index({ conversationId: 1 });

/** Per-name sequence for ticket numbers. */
const ticketCounterSchema = new Schema<{ _id: string; seq: number }>({
  _id: { type: String, required: true },
  seq: { type: Number, required: true, default: 0 },
});

export const Ticket = mongoose.model<TicketRecord>('Ticket', ticketSchema);
export const TicketCounter = mongoose.model('TicketCounter', ticketCounterSchema);
