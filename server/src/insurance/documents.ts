import { fieldError } from './errors';

/**
 * What an uploaded file really is, from its first bytes; the name and the client's content type are not trusted.
 * Claim documents are photos (JPEG, PNG, WebP, HEIC from iPhones) or PDFs.
 */
export interface DocumentType {
  contentType: 'image/jpeg' | 'image/png' | 'image/webp' | 'image/heic' | 'application/pdf';
  extension: 'jpg' | 'png' | 'webp' | 'heic' | 'pdf';
}

const startsWith = (bytes: Buffer, signature: number[], offset = 0) =>
  bytes.length >= offset + signature.length && signature.every((b, i) => bytes[offset + i] === b);
const ascii = (bytes: Buffer, text: string, offset = 0) => startsWith(bytes, [...Buffer.from(text, 'ascii')], offset);

export function sniffDocumentType(bytes: Buffer): DocumentType | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { contentType: 'image/jpeg', extension: 'jpg' };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { contentType: 'image/png', extension: 'png' };
  if (ascii(bytes, 'RIFF') && ascii(bytes, 'WEBP', 8)) return { contentType: 'image/webp', extension: 'webp' };
  if (ascii(bytes, 'ftyp', 4) && ['heic', 'heix', 'mif1', 'heim', 'heis'].some((brand) => ascii(bytes, brand, 8))) {
    return { contentType: 'image/heic', extension: 'heic' };
  }
  if (ascii(bytes, '%PDF-')) return { contentType: 'application/pdf', extension: 'pdf' };
  return undefined;
}

export const ACCEPTED_DOCUMENT_TYPES = 'JPEG, PNG, WebP or HEIC photos, or PDF';

export interface UploadCheck {
  /** Largest file accepted, in bytes after base64 decoding. */
  maxBytes: number;
  /** The request field that carried the bytes, named in errors. */
  field: string;
  /** Narrower than every sniffable type, e.g. photos only; refused with the same code as an unknown type. */
  accept?: readonly DocumentType['contentType'][];
  /** What `accept` allows, in words for the error message. */
  acceptedDescription?: string;
}

/**
 * Decodes an uploaded base64 file and checks it the way every upload is checked (claim documents, chat photos):
 * 400 empty_document, 413 document_too_large, 415 unsupported_document_type.
 */
export function readUploadedDocument(contentBase64: string, check: UploadCheck): { bytes: Buffer; type: DocumentType } {
  const bytes = Buffer.from(contentBase64, 'base64');
  if (bytes.length === 0) throw fieldError(400, 'empty_document', check.field, 'the file is empty');
  if (bytes.length > check.maxBytes) {
    throw fieldError(413, 'document_too_large', check.field, `the file is ${bytes.length} bytes; at most ${check.maxBytes}`);
  }
  const type = sniffDocumentType(bytes);
  if (!type || (check.accept && !check.accept.includes(type.contentType))) {
    throw fieldError(415, 'unsupported_document_type', check.field, `the file is not a ${check.acceptedDescription ?? ACCEPTED_DOCUMENT_TYPES}`);
  }
  return { bytes, type };
}
