import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Where uploaded documents (claim photos, PDFs) live. Local disk by default; an object store (COS, S3, MinIO)
 * implements the same four calls. Keys are made by the caller from ids it generated, never from user input.
 */
export interface StoredDocument {
  bytes: Buffer;
  contentType: string;
}

export interface DocumentStorage {
  put(key: string, bytes: Buffer, contentType: string): Promise<void>;
  /** undefined when nothing is stored under the key. */
  get(key: string): Promise<StoredDocument | undefined>;
  delete(key: string): Promise<void>;
}

/** Path segments of lowercase letters, digits, '-', '_' and one '.' extension: nothing can climb out of the root. */
const KEY = /^[a-z0-9_-]+(?:\/[a-z0-9_-]+)*(?:\.[a-z0-9]+)?$/i;

export class InvalidStorageKeyError extends Error {
  constructor(key: string) {
    super(`invalid storage key "${key}"`);
    this.name = 'InvalidStorageKeyError';
  }
}

function checkKey(key: string): string {
  if (!KEY.test(key) || key.length > 300) throw new InvalidStorageKeyError(key);
  return key;
}

/**
 * Files under one directory, with the content type in a sidecar `.type` file. Writes go to a temporary name and are
 * renamed into place, so a reader never sees half a file.
 */
export class LocalDiskStorage implements DocumentStorage {
  constructor(readonly rootDir: string) {}

  private pathOf(key: string): string {
    return path.join(this.rootDir, ...checkKey(key).split('/'));
  }

  async put(key: string, bytes: Buffer, contentType: string): Promise<void> {
    const file = this.pathOf(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.writeFile(temp, bytes, { mode: 0o600 });
    await fs.writeFile(`${file}.type`, contentType, { mode: 0o600 });
    await fs.rename(temp, file);
  }

  async get(key: string): Promise<StoredDocument | undefined> {
    const file = this.pathOf(key);
    try {
      const [bytes, contentType] = await Promise.all([fs.readFile(file), fs.readFile(`${file}.type`, 'utf8')]);
      return { bytes, contentType };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    await Promise.all([fs.rm(file, { force: true }), fs.rm(`${file}.type`, { force: true })]);
  }
}

/** For tests and demos without a disk. */
export class MemoryStorage implements DocumentStorage {
  readonly documents = new Map<string, StoredDocument>();

  async put(key: string, bytes: Buffer, contentType: string): Promise<void> {
    this.documents.set(checkKey(key), { bytes: Buffer.from(bytes), contentType });
  }

  async get(key: string): Promise<StoredDocument | undefined> {
    return this.documents.get(checkKey(key));
  }

  async delete(key: string): Promise<void> {
    this.documents.delete(checkKey(key));
  }
}

/** The default: `<DATA_DIR>/documents`, or DOCUMENT_STORAGE_DIR when set (both relative to the repository root). */
export function defaultDocumentStorage(repoRoot: string, dataDir: string, override?: string): LocalDiskStorage {
  return new LocalDiskStorage(override ? path.resolve(repoRoot, override) : path.resolve(repoRoot, dataDir, 'documents'));
}
