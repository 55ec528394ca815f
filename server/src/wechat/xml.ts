import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * The one place where WeChat XML is read and written. Pushes are untrusted input: no DTD is ever processed, the
 * size is capped, and values stay strings (MsgId is larger than 2^53, §0).
 */

export type WeChatXmlErrorCode =
  | 'xml_too_large'
  | 'xml_invalid_utf8'
  | 'xml_forbidden_declaration'
  | 'xml_malformed'
  | 'xml_unexpected_root'
  | 'xml_duplicate_field';

/** Malformed or refused XML. The message is fixed per code: the offending input is never echoed. */
export class WeChatXmlError extends Error {
  constructor(readonly code: WeChatXmlErrorCode) {
    super(`WeChat XML refused: ${code}`);
    this.name = 'WeChatXmlError';
  }
}

/**
 * Top-level fields of a WeChat `<xml>` document as strings. Nested elements (e.g. ScanCodeInfo) are flattened
 * to dotted paths ("ScanCodeInfo.ScanType"); repeated nested elements get an index ("PicList.item.0.PicMd5Sum").
 */
export type XmlRecord = Readonly<Record<string, string>>;

export const DEFAULT_MAX_XML_BYTES = 1024 * 1024; // the same 1 MB the webhook body reader allows (§2.3)

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false, // keep "6054768590064713728" exact
  parseAttributeValue: false,
  trimValues: false, // user text in CDATA keeps its spaces
  processEntities: true, // only the five predefined entities: DTDs never reach the parser
  htmlEntities: false,
  maxNestedTags: 16,
});

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Refuses every markup declaration outside CDATA sections and comments: `<!DOCTYPE`, `<!ENTITY`, `<!ELEMENT`…
 * Checked before any parser sees the text, so nothing is ever expanded (XXE, billion laughs). A user typing
 * "<!DOCTYPE" inside a CDATA message is still accepted.
 */
function assertNoMarkupDeclarations(xml: string): void {
  let index = xml.indexOf('<!');
  while (index !== -1) {
    if (xml.startsWith('<![CDATA[', index)) {
      const end = xml.indexOf(']]>', index + 9);
      if (end === -1) throw new WeChatXmlError('xml_malformed');
      index = xml.indexOf('<!', end + 3);
    } else if (xml.startsWith('<!--', index)) {
      const end = xml.indexOf('-->', index + 4);
      if (end === -1) throw new WeChatXmlError('xml_malformed');
      index = xml.indexOf('<!', end + 3);
    } else {
      throw new WeChatXmlError('xml_forbidden_declaration');
    }
  }
}

function decodeInput(input: string | Uint8Array, maxBytes: number): string {
  if (typeof input === 'string') {
    // Every UTF-16 unit is at least one UTF-8 byte, so an over-long string fails before its bytes are counted.
    if (input.length > maxBytes || Buffer.byteLength(input, 'utf8') > maxBytes) {
      throw new WeChatXmlError('xml_too_large');
    }
    return input;
  }
  if (input.byteLength > maxBytes) throw new WeChatXmlError('xml_too_large');
  try {
    return utf8.decode(input);
  } catch {
    throw new WeChatXmlError('xml_invalid_utf8');
  }
}

type ParsedNode = string | ParsedElement | ParsedNode[];
interface ParsedElement {
  [name: string]: ParsedNode;
}

const isWhitespace = (text: string) => /^[\s]*$/.test(text);

function flattenInto(record: Record<string, string>, path: string, node: ParsedNode): void {
  if (typeof node === 'string') {
    record[path] = node;
  } else if (Array.isArray(node)) {
    node.forEach((item, index) => flattenInto(record, `${path}.${index}`, item));
  } else {
    for (const [name, child] of Object.entries(node)) {
      if (name === '#text') {
        // Mixed content (text beside child elements) never occurs in WeChat pushes.
        if (typeof child !== 'string' || !isWhitespace(child)) throw new WeChatXmlError('xml_malformed');
        continue;
      }
      flattenInto(record, `${path}.${name}`, child);
    }
  }
}

/** Parses a WeChat push (`<xml>…</xml>`, CDATA or plain text values) into a flat record of strings. */
export function parseWeChatXml(input: string | Uint8Array, options: { maxBytes?: number } = {}): XmlRecord {
  const xml = decodeInput(input, options.maxBytes ?? DEFAULT_MAX_XML_BYTES);
  assertNoMarkupDeclarations(xml);
  if (XMLValidator.validate(xml) !== true) throw new WeChatXmlError('xml_malformed');

  let document: ParsedElement;
  try {
    document = parser.parse(xml) as ParsedElement;
  } catch {
    // Includes fast-xml-parser's refusal of prototype-polluting names and over-deep nesting.
    throw new WeChatXmlError('xml_malformed');
  }

  const roots = Object.keys(document).filter((name) => !name.startsWith('?')); // ignore <?xml …?>
  if (roots.length !== 1 || roots[0] !== 'xml') throw new WeChatXmlError('xml_unexpected_root');
  const root = document.xml;
  const record: Record<string, string> = Object.create(null) as Record<string, string>;
  if (typeof root === 'string') {
    if (!isWhitespace(root)) throw new WeChatXmlError('xml_malformed');
    return record;
  }
  if (Array.isArray(root)) throw new WeChatXmlError('xml_unexpected_root');

  for (const [name, value] of Object.entries(root)) {
    if (name === '#text') {
      if (typeof value !== 'string' || !isWhitespace(value)) throw new WeChatXmlError('xml_malformed');
      continue;
    }
    // Two <FromUserName> elements would leave it unclear which one to trust.
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
      throw new WeChatXmlError('xml_duplicate_field');
    }
    flattenInto(record, name, value);
  }
  return record;
}

/**
 * Wraps text in CDATA. A literal "]]>" cannot appear inside one section, so it is split across two:
 * "]]" ends the first section and ">" starts the next (§2.5).
 */
export function cdata(text: string): string {
  return `<![CDATA[${stripInvalidXmlChars(text).replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}

/**
 * XML 1.0 forbids most control characters even inside CDATA; WeChat would reject the whole reply, so drop them.
 * Also drops lone surrogates, which cannot be encoded as UTF-8.
 */
function stripInvalidXmlChars(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '');
}

/** Content of a reply element: strings become CDATA, numbers plain text, objects nested elements, arrays repeats. */
export type XmlValue = string | number | XmlFields | readonly XmlFields[];
export interface XmlFields {
  readonly [tag: string]: XmlValue;
}

const TAG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function renderElement(tag: string, value: XmlValue): string {
  if (!TAG_NAME.test(tag)) throw new TypeError(`invalid XML tag name: ${tag}`);
  if (typeof value === 'string') return `<${tag}>${cdata(value)}</${tag}>`;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`non-finite number for <${tag}>`);
    return `<${tag}>${String(value)}</${tag}>`;
  }
  if (Array.isArray(value)) return (value as readonly XmlFields[]).map((item) => renderElement(tag, item)).join('');
  return `<${tag}>${renderFields(value as XmlFields)}</${tag}>`;
}

function renderFields(fields: XmlFields): string {
  return Object.entries(fields)
    .map(([tag, value]) => renderElement(tag, value))
    .join('');
}

/**
 * Builds a reply document with no whitespace between elements, in the key order given: the canonical passive
 * reply shape of §2.5.
 */
export function buildWeChatXml(fields: XmlFields): string {
  return `<xml>${renderFields(fields)}</xml>`;
}
