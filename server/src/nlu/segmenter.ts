import fs from 'node:fs';
import path from 'node:path';
import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict';

/** The insurance terms we add to jieba's general dictionary live with the rest of the content. */
export const USER_DICTIONARY_PATH = path.resolve(__dirname, '../../../knowledge/dictionary/insurance.txt');

/** Reads a "term frequency" list, ignoring comments and blank lines; returns jieba's dictionary format. */
export function readUserDictionary(file: string = USER_DICTIONARY_PATH): string {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .join('\n');
}

let shared: Jieba | undefined;

function jieba(): Jieba {
  if (!shared) {
    shared = Jieba.withDict(dict);
    shared.loadDict(Buffer.from(readUserDictionary()));
  }
  return shared;
}

const PUNCTUATION_OR_SPACE = /^[\s\p{P}\p{S}]+$/u;

/** Words of a Chinese (or mixed) sentence, lower-cased, without punctuation. */
export function segment(text: string): string[] {
  return jieba()
    .cut(text.toLowerCase(), true)
    .filter((token) => !PUNCTUATION_OR_SPACE.test(token));
}
