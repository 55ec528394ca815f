import { extractEntities, isValidIdCard, passesLuhn, type Entity } from '../../src/nlu/entities';
import { parseChineseNumber } from '../../src/nlu/chinese-numbers';

// Wednesday 18 March 2026, 10:00 local time.
const NOW = new Date(2026, 2, 18, 10);
const of = (text: string, type: Entity['type']) => extractEntities(text, { now: NOW }).filter((e) => e.type === type);

describe('Chinese numerals', () => {
  it.each([
    ['三千五', 3500], ['1万2', 12000], ['两万', 20000], ['5.5万', 55000], ['一千零五', 1005], ['十二', 12],
    ['一百二十万', 1_200_000], ['三千五百', 3500], ['1,200', 1200], ['十万', 100_000],
  ])('%s = %d', (text, value) => expect(parseChineseNumber(text)).toBe(value));
});

describe('identifiers', () => {
  it('accepts an ID card number with a valid checksum, normalising x to X', () => {
    expect(of('身份证号11010519491231002x', 'id_card')).toEqual([
      { type: 'id_card', value: '11010519491231002X', text: '11010519491231002x', start: 4, end: 22 },
    ]);
  });

  it('rejects an ID card number whose checksum fails', () => {
    expect(isValidIdCard('110105194912310021')).toBe(false);
    expect(of('身份证110105194912310021', 'id_card')).toEqual([]);
  });

  it('rejects an ID card number with an impossible birth date', () => {
    expect(isValidIdCard('110105194913310023')).toBe(false);
  });

  it('finds mobile numbers, also spaced or with +86', () => {
    expect(of('电话13812345678', 'phone').map((e) => e.value)).toEqual(['13812345678']);
    expect(of('打 138 1234 5678 或 +86 139-0000-1111', 'phone').map((e) => e.value)).toEqual(['13812345678', '13900001111']);
    expect(of('12812345678', 'phone')).toEqual([]);
  });

  it('accepts bank cards passing Luhn and rejects those failing it', () => {
    expect(passesLuhn('4111111111111111')).toBe(true);
    expect(of('卡号4111 1111 1111 1111', 'bank_card').map((e) => e.value)).toEqual(['4111111111111111']);
    expect(passesLuhn('4111111111111112')).toBe(false);
    expect(of('卡号4111111111111112', 'bank_card')).toEqual([]);
  });

  it('finds policy numbers in our P + digits format and after 保单号', () => {
    expect(of('保单P202403150001234出险了', 'policy_number').map((e) => e.value)).toEqual(['P202403150001234']);
    expect(of('保单号是ax20240315001', 'policy_number').map((e) => e.value)).toEqual(['AX20240315001']);
  });

  it('finds licence plates, including 8-character new-energy plates', () => {
    expect(of('车牌粤B12345，还有京AD12345和沪A·F1234', 'licence_plate').map((e) => e.value)).toEqual(['粤B12345', '京AD12345', '沪AF1234']);
  });
});

describe('amounts', () => {
  it('reads colloquial Chinese amounts', () => {
    const amounts = of('保额1万2，花了三千五，报销两万，还有5.5万和¥1,200.50以及3000元', 'amount');
    expect(amounts.map((e) => e.value)).toEqual([12000, 3500, 20000, 55000, 1200.5, 3000]);
    expect(amounts[0]).toMatchObject({ text: '1万2', start: 2, end: 5 });
  });

  it('does not read adverbs, counts or product names as money', () => {
    expect(of('千万别说一百遍，万一呢', 'amount')).toEqual([]);
    expect(of('我买的百万医疗', 'amount')).toEqual([]);
    expect(of('3500', 'amount')).toEqual([]);
  });
});

describe('dates relative to now', () => {
  it.each([
    ['今天', '2026-03-18'], ['昨天', '2026-03-17'], ['前天', '2026-03-16'], ['大前天', '2026-03-15'],
    ['上周五', '2026-03-13'], ['下周一', '2026-03-23'], ['3月5日', '2026-03-05'], ['2026年3月5日', '2026-03-05'],
    ['三月五号', '2026-03-05'], ['3天前', '2026-03-15'], ['2025-12-31', '2025-12-31'],
  ])('%s → %s', (text, iso) => {
    expect(of(`我${text}住的院`, 'date').map((e) => e.value)).toEqual([iso]);
  });

  it('reads 大前天 whole, not as 前天', () => {
    expect(of('大前天', 'date')).toEqual([{ type: 'date', value: '2026-03-15', text: '大前天', start: 0, end: 3 }]);
  });
});

describe('how long the policy has been held, as the user states it', () => {
  it.each([
    ['买了重疾险十天了，不想要了', 10], ['重疾险买了十天', 10], ['保险生效十三天可退保吗', 13], ['投保才一个礼拜想退', 7],
    ['买了两个月了想退', 60], ['买了半年多的医疗险', 183], ['买了一年半了', 548], ['交了四年分红险', 1460], ['买了三年的保险不想要了', 1095],
    ['十天前买的重疾险', 10], ['昨天投保的能退吗', 1], ['3月5日买的', 13],
  ])('%s → %i days', (text, days) => {
    expect(of(text, 'held_for').map((e) => e.value)).toEqual([days]);
  });

  it('does not read a term, a window or a plain purchase as time held', () => {
    for (const text of ['买了十年期的定期寿险', '买三年期的', '想买三年的', '买了保险三年内出险能赔吗', '我买了两万块的']) expect(of(text, 'held_for')).toEqual([]);
  });

  it('keeps the date of "十天前买的" too, and "买了两个月" is no amount', () => {
    expect(of('十天前买的', 'date').map((e) => e.value)).toEqual(['2026-03-08']);
    expect(of('买了两个月了', 'amount')).toEqual([]);
  });
});

describe('ages', () => {
  it.each([
    ['44岁的人上什么保险好', 44], ['我妈六十五周岁了', 65], ['三十多岁的人买什么', 35], ['十几岁的孩子', 15], ['给我爸买，他60多岁', 65],
    ['快50岁了', 50], ['孩子3岁半', 3], ['一岁多的宝宝', 1], ['8个月大的宝宝', 0], ['宝宝刚满月能买啥', 0], ['0-5岁的孩子', 5],
  ])('%s → %i', (text, age) => {
    expect(of(text, 'age').map((e) => e.value)).toEqual([age]);
  });

  it('does not read an age reached later, a term or 岁月 as how old someone is', () => {
    for (const text of ['保到70岁', '交到60周岁', '60岁以后还能续保吗', '65岁退休能领多少', '18岁前买', '岁月静好', '买了三年了', '2019年买的']) {
      expect(of(text, 'age')).toEqual([]);
    }
  });
});

describe('other insurers', () => {
  it.each([
    ['国寿鸿盈两全保险分红多少', '中国人寿'], ['平安福怎么样', '中国平安'], ['我在中国人寿买的重疾险想退', '中国人寿'],
    ['太平洋车险理赔', '太平洋保险'], ['泰康的保险好吗', '泰康'],
  ])('%s → %s', (text, insurer) => {
    expect(of(text, 'insurer').map((e) => e.value)).toEqual([insurer]);
  });

  it('reads no insurer in words that only contain one (学生平安险, 太平间, 投保人保费, 太保守) or in our own name', () => {
    for (const text of ['学生平安险有必要吗', '太平间', '投保人保费怎么交', '这个方案太保守了', '安心保好不好']) expect(of(text, 'insurer')).toEqual([]);
  });
});

describe('products and relations', () => {
  it('maps product aliases to product ids, longest alias first', () => {
    expect(of('我有重疾险和百万医疗，还想买学平险', 'product').map((e) => e.value)).toEqual(['critical-illness', 'medical', 'children']);
  });

  it('reads a car accident as car insurance when no product is named, and a named product wins', () => {
    expect(of('我的车被追尾了，理赔要什么材料', 'product').map((e) => e.value)).toEqual(['auto']);
    expect(of('停车时被人刮蹭了', 'product').map((e) => e.value)).toEqual(['auto']);
    expect(of('开车追尾受伤了意外险赔吗', 'product').map((e) => e.value)).toEqual(['accident']);
    expect(of('出车祸了意外险能赔吗', 'product').map((e) => e.value)).toEqual(['accident']);
    expect(of('理赔要什么材料', 'product')).toEqual([]);
  });

  it('reads products from a list passed in', () => {
    const products = [{ id: 'pet', name: '宠物险', aliases: ['猫狗险'] }];
    expect(extractEntities('猫狗险怎么赔', { products }).map((e) => e.value)).toEqual(['pet']);
  });

  it('maps relations to self / spouse / child / parent', () => {
    expect(of('给老婆、儿子、爸妈和我本人投保', 'relation').map((e) => e.value)).toEqual(['spouse', 'child', 'parent', 'self']);
  });
});
