import { XMLParser } from 'fast-xml-parser';
import { WeChatXmlError, buildWeChatXml, cdata, parseWeChatXml } from '../../src/wechat/xml';
import { messages, spec } from '../fixtures/wechat';

function xmlErrorCode(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof WeChatXmlError) return error.code;
    throw error;
  }
  return undefined;
}

describe('parseWeChatXml', () => {
  it('parses the T1 plaintext (LF between elements) into strings, MsgId exact', () => {
    const record = parseWeChatXml(spec.T1.plaintext);
    expect({ ...record }).toEqual({
      ToUserName: 'gh_10f6c3c3ac5a',
      FromUserName: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs',
      CreateTime: '1409735668',
      MsgType: 'text',
      Content: 'abcdteT',
      MsgId: '6054768590064713728',
    });
  });

  it('parses plain-text values without CDATA (T4 plaintext) and decodes UTF-8 buffers', () => {
    const record = parseWeChatXml(Buffer.from(spec.T4.push.plaintext, 'utf8'));
    expect(record.FromUserName).toBe('ChenJiaShun');
    expect(record.Content).toBe('你好');
    expect(record.AgentID).toBe('1000002');
  });

  it('keeps spaces and newlines inside CDATA and decodes the predefined entities', () => {
    const record = parseWeChatXml('<xml><Content><![CDATA[  two  spaces\n]]></Content><A>a &amp; &lt;b&gt;</A></xml>');
    expect(record.Content).toBe('  two  spaces\n');
    expect(record.A).toBe('a & <b>');
  });

  it('accepts a user typing markup declarations inside CDATA', () => {
    const record = parseWeChatXml('<xml><Content><![CDATA[<!DOCTYPE x [<!ENTITY a "b">]> &a;]]></Content></xml>');
    expect(record.Content).toBe('<!DOCTYPE x [<!ENTITY a "b">]> &a;');
  });

  it('accepts an XML declaration, comments and empty elements', () => {
    const record = parseWeChatXml('<?xml version="1.0" encoding="UTF-8"?><xml><!-- note --><Empty></Empty><Self/></xml>');
    expect({ ...record }).toEqual({ Empty: '', Self: '' });
  });

  it('flattens nested elements to dotted paths, indexing repeats', () => {
    const record = parseWeChatXml(
      '<xml><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo>' +
        '<PicList><item><PicMd5Sum>a</PicMd5Sum></item><item><PicMd5Sum>b</PicMd5Sum></item></PicList></xml>',
    );
    expect(record['ScanCodeInfo.ScanType']).toBe('qrcode');
    expect(record['ScanCodeInfo.ScanResult']).toBe('1');
    expect(record['PicList.item.0.PicMd5Sum']).toBe('a');
    expect(record['PicList.item.1.PicMd5Sum']).toBe('b');
  });

  it('returns a record without a prototype, so field names cannot reach Object.prototype', () => {
    const record = parseWeChatXml('<xml><toString>x</toString></xml>');
    expect(Object.getPrototypeOf(record)).toBeNull();
  });

  describe('refuses, with a typed error and without expanding anything', () => {
    it('a billion-laughs DTD', () => {
      const laughs =
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><xml><Content>&lol3;</Content></xml>';
      expect(xmlErrorCode(() => parseWeChatXml(laughs))).toBe('xml_forbidden_declaration');
    });

    it('an external entity (XXE)', () => {
      const xxe = '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Content>&xxe;</Content></xml>';
      expect(xmlErrorCode(() => parseWeChatXml(xxe))).toBe('xml_forbidden_declaration');
    });

    it('a DOCTYPE in lower case, or any other markup declaration', () => {
      expect(xmlErrorCode(() => parseWeChatXml('<!doctype xml><xml/>'))).toBe('xml_forbidden_declaration');
      expect(xmlErrorCode(() => parseWeChatXml('<xml><!ELEMENT a ANY></xml>'))).toBe('xml_forbidden_declaration');
      expect(xmlErrorCode(() => parseWeChatXml('<xml><![CDATA[ok]]><!ENTITY a "b"></xml>'))).toBe('xml_forbidden_declaration');
    });

    it('(an undeclared entity reference is left as literal text, never resolved)', () => {
      expect(parseWeChatXml('<xml><A>&undefined;</A></xml>').A).toBe('&undefined;');
    });

    it('a body over the size limit, measured in UTF-8 bytes', () => {
      const big = `<xml><Content><![CDATA[${'中'.repeat(400)}]]></Content></xml>`;
      expect(xmlErrorCode(() => parseWeChatXml(big, { maxBytes: 1000 }))).toBe('xml_too_large');
      expect(xmlErrorCode(() => parseWeChatXml(Buffer.from(big), { maxBytes: 1000 }))).toBe('xml_too_large');
      expect(parseWeChatXml(big, { maxBytes: 2000 }).Content).toHaveLength(400);
    });

    it('the default limit of 1 MiB', () => {
      const big = `<xml><Content><![CDATA[${'a'.repeat(1024 * 1024)}]]></Content></xml>`;
      expect(xmlErrorCode(() => parseWeChatXml(big))).toBe('xml_too_large');
    });

    it('invalid UTF-8 bytes', () => {
      const bytes = Buffer.concat([Buffer.from('<xml><A>'), Buffer.from([0xff, 0xfe]), Buffer.from('</A></xml>')]);
      expect(xmlErrorCode(() => parseWeChatXml(bytes))).toBe('xml_invalid_utf8');
    });

    it.each([
      ['unclosed root', '<xml><A>1</A>'],
      ['mismatched tags', '<xml><A>1</B></xml>'],
      ['unterminated CDATA', '<xml><A><![CDATA[1</A></xml>'],
      ['text only', 'success'],
      ['empty', ''],
      ['mixed content', '<xml>text<A>1</A></xml>'],
      ['prototype-polluting tag names', '<xml><__proto__><polluted>1</polluted></__proto__></xml>'],
      ['constructor tag', '<xml><constructor>1</constructor></xml>'],
      ['absurd nesting', `<xml>${'<a>'.repeat(50)}${'</a>'.repeat(50)}</xml>`],
    ])('%s → xml_malformed', (_label, input) => {
      expect(xmlErrorCode(() => parseWeChatXml(input))).toBe('xml_malformed');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('a root other than <xml>, or two roots', () => {
      expect(xmlErrorCode(() => parseWeChatXml('<root><A>1</A></root>'))).toBe('xml_unexpected_root');
      expect(xmlErrorCode(() => parseWeChatXml('<xml><A>1</A></xml><xml><A>2</A></xml>'))).not.toBeUndefined();
      expect(xmlErrorCode(() => parseWeChatXml('<xml></xml><other/>'))).toBe('xml_unexpected_root');
    });

    it('a duplicated top-level field (which one would we trust?)', () => {
      const twice = '<xml><FromUserName>a</FromUserName><FromUserName>b</FromUserName></xml>';
      expect(xmlErrorCode(() => parseWeChatXml(twice))).toBe('xml_duplicate_field');
    });

    it('with a message that never echoes the input', () => {
      try {
        parseWeChatXml('<!DOCTYPE secret-marker><xml/>');
      } catch (error) {
        expect((error as Error).message).not.toContain('secret-marker');
      }
      expect.assertions(1);
    });
  });
});

describe('cdata and buildWeChatXml', () => {
  const reparse = (xml: string) =>
    new XMLParser({ parseTagValue: false, trimValues: false }).parse(xml) as { xml: Record<string, unknown> };

  it('escapes "]]>" by splitting the section, and a parser reads the original text back', () => {
    expect(cdata('a]]>b')).toBe('<![CDATA[a]]]]><![CDATA[>b]]>');
    const text = 'x]]>y]]]>z<![CDATA[w]]>';
    expect(reparse(buildWeChatXml({ Content: text })).xml.Content).toBe(text);
    expect(parseWeChatXml(buildWeChatXml({ Content: text })).Content).toBe(text);
  });

  it('drops characters XML 1.0 forbids, keeps tab/LF/CR and astral characters', () => {
    expect(cdata('a\u0000b\u0008c\td\ne\rf\uFFFEg😀')).toBe('<![CDATA[abc\td\ne\rfg😀]]>');
    expect(cdata('lone \uD800 surrogate')).toBe('<![CDATA[lone  surrogate]]>');
  });

  it('writes strings as CDATA, numbers as text, nested objects and arrays in key order, no whitespace', () => {
    expect(
      buildWeChatXml({ ToUserName: 'o1', CreateTime: 1409735669, Articles: { item: [{ Title: 't1' }, { Title: 't2' }] } }),
    ).toBe(
      '<xml><ToUserName><![CDATA[o1]]></ToUserName><CreateTime>1409735669</CreateTime>' +
        '<Articles><item><Title><![CDATA[t1]]></Title></item><item><Title><![CDATA[t2]]></Title></item></Articles></xml>',
    );
  });

  it('refuses invalid tag names and non-finite numbers', () => {
    expect(() => buildWeChatXml({ 'bad tag': 'x' })).toThrow(TypeError);
    expect(() => buildWeChatXml({ '<x>': 'x' })).toThrow(TypeError);
    expect(() => buildWeChatXml({ N: Number.NaN })).toThrow(TypeError);
  });

  it('round-trips the canonical OA pushes', () => {
    for (const xml of Object.values(messages.oa)) {
      const record = parseWeChatXml(xml);
      expect({ ...parseWeChatXml(buildWeChatXml({ ...record })) }).toEqual({ ...record });
    }
  });
});
