import { createHash } from 'node:crypto';
import mongoose, { Schema } from 'mongoose';
import { notFound } from '../../http/errors';
import { readUploadedDocument, type DocumentType } from '../../insurance/documents';
import type { DocumentStorage, StoredDocument } from '../../storage';
import { isDuplicateKey } from '../../db/duplicate-key';

/** Photos only: what every `<Image>` can show (HEIC and PDF are claim documents, not chat pictures). */
const CHAT_IMAGE_TYPES: readonly DocumentType['contentType'][] = ['image/jpeg', 'image/png', 'image/webp'];
const CHAT_IMAGE_TYPES_IN_WORDS = 'JPEG, PNG or WebP photo';

/** A photo a mini-program user sent in the chat; the bytes are in the document storage under `storageKey`. */
export interface ChatImageRecord {
  _id: string;
  /** The mini-program user who sent it: the only customer who may read it. */
  userId: string;
  storageKey: string;
  contentType: string;
  bytes: number;
  createdAt: Date;
}

const chatImageSchema = new Schema<ChatImageRecord>({
  _id: { type: String, required: true },
  userId: { type: String, required: true },
  storageKey: { type: String, required: true },
  contentType: { type: String, required: true },
  bytes: { type: Number, required: true },
  createdAt: { type: Date, required: true },
});

export const ChatImage = mongoose.model<ChatImageRecord>('ChatImage', chatImageSchema);

/**
 * One id per (user, client message id): a retried upload lands on the same record and storage key, so it stores
 * nothing twice. Hashed, so storage keys are made from our ids and never from user input.
 */
export function chatImageId(userId: string, clientMessageId: string): string {
  return `img_${createHash('sha256').update(`${userId}\n${clientMessageId}`).digest('hex').slice(0, 32)}`;
}

/** Where the owner reads the picture: relative to the API origin, with the session token (not a public URL). */
export const chatImagePath = (imageId: string) => `/api/mp/chat/images/${imageId}`;

const extensionOf = (storageKey: string) => storageKey.slice(storageKey.lastIndexOf('.') + 1);

const IMAGE_ID = /^img_[0-9a-f]{32}$/;

export interface ChatImagesDeps {
  storage: DocumentStorage;
  /** Largest photo accepted, in bytes after base64 decoding. */
  maxBytes: number;
  clock?: () => Date;
}

/** Chat photos: checked like claim documents, kept in the same storage, readable by their sender and by staff. */
export class ChatImages {
  private readonly clock: () => Date;

  constructor(private readonly deps: ChatImagesDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /** Checks and stores a photo; the same user and client message id always give the same image. */
  async store(userId: string, clientMessageId: string, contentBase64: string): Promise<{ imageId: string; format: string }> {
    const { bytes, type } = readUploadedDocument(contentBase64, {
      maxBytes: this.deps.maxBytes, field: 'contentBase64', accept: CHAT_IMAGE_TYPES, acceptedDescription: CHAT_IMAGE_TYPES_IN_WORDS,
    });
    const imageId = chatImageId(userId, clientMessageId);
    const existing = await ChatImage.findById(imageId).lean<ChatImageRecord>();
    if (existing) return { imageId, format: extensionOf(existing.storageKey) };
    const storageKey = `chat-images/${imageId}.${type.extension}`;
    await this.deps.storage.put(storageKey, bytes, type.contentType);
    // A concurrent retry may have written the record first; the first one stays (same bytes from the same send).
    await ChatImage.updateOne(
      { _id: imageId },
      { $setOnInsert: { userId, storageKey, contentType: type.contentType, bytes: bytes.length, createdAt: this.clock() } },
      { upsert: true },
    ).catch((err: unknown) => {
      // Two upserts of the same new _id can both try to insert (FerretDB): the loser's duplicate key is that case.
      if (!isDuplicateKey(err)) throw err;
    });
    const stored = await ChatImage.findById(imageId).lean<ChatImageRecord>();
    return { imageId, format: extensionOf(stored?.storageKey ?? storageKey) };
  }

  /** The photo for its sender; anyone else's, or an unknown id, is 404 (no hint that it exists). */
  async readForOwner(userId: string, imageId: string): Promise<StoredDocument> {
    const record = IMAGE_ID.test(imageId) ? await ChatImage.findById(imageId).lean<ChatImageRecord>() : null;
    return this.read(record && record.userId === userId ? record : null, imageId);
  }

  /** The photo for signed-in staff (agents and managers serve every customer). */
  async readForStaff(imageId: string): Promise<StoredDocument> {
    const record = IMAGE_ID.test(imageId) ? await ChatImage.findById(imageId).lean<ChatImageRecord>() : null;
    return this.read(record, imageId);
  }

  private async read(record: ChatImageRecord | null, imageId: string): Promise<StoredDocument> {
    const file = record ? await this.deps.storage.get(record.storageKey) : undefined;
    if (!file) throw notFound('image_not_found', `no image ${imageId}`);
    return file;
  }
}
