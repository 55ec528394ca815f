import { ApiError, fieldMessage, messageOf, userMessage } from '../src/services/errors';
import { formatDateTime, formatDeadline, formatFen, formatSumInsured } from '../src/services/format';
import { addDays, birthDateFromIdCard, checkDate, checkIdCard, checkName, checkPhone, chinaToday, isCalendarDate } from '../src/services/validation';

/** 17 digits + the GB 11643 check character. */
function withCheckChar(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, digit, i) => acc + Number(digit) * weights[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

describe('form checks (mirroring the server)', () => {
  it('accepts a valid resident ID and names what is wrong with a bad one', () => {
    expect(checkIdCard('11010519491231002X')).toBeUndefined();
    expect(checkIdCard('11010519491231002x')).toBeUndefined();
    expect(birthDateFromIdCard('11010519491231002X')).toBe('1949-12-31');
    expect(checkIdCard('')).toBe('请填写身份证号');
    expect(checkIdCard('1101051949123100')).toBe('身份证号应为18位');
    expect(checkIdCard('99010519491231002X')).toBe('身份证号地区码有误');
    expect(checkIdCard('110105194913310021')).toBe('身份证号中的出生日期有误');
    expect(checkIdCard('110105194912310021')).toBe('身份证号校验位不正确，请核对');
  });

  it('refuses an ID number whose birth date is after today (China time), as the server does', () => {
    const future = withCheckChar('11010120300101123');
    expect(checkIdCard(future, '2026-11-25')).toBe('身份证号中的出生日期晚于今天，请核对');
    expect(birthDateFromIdCard(future, '2026-11-25')).toBeUndefined();
    const today = withCheckChar('11010120261125123');
    expect(checkIdCard(today, '2026-11-25')).toBeUndefined();
    expect(checkIdCard(today, '2026-11-24')).toBe('身份证号中的出生日期晚于今天，请核对');
    expect(birthDateFromIdCard(today, '2026-11-25')).toBe('2026-11-25');
  });

  it('checks mobile numbers, names and dates', () => {
    expect(checkPhone('13800138000')).toBeUndefined();
    expect(checkPhone('12800138000')).toBe('请填写11位手机号');
    expect(checkName('张三')).toBeUndefined();
    expect(checkName('阿依古丽·买买提')).toBeUndefined();
    expect(checkName('John Smith')).toBeUndefined();
    expect(checkName('张')).toBe('请填写真实姓名（2–20个汉字）');
    expect(checkDate('', '出险日期')).toBe('请选择出险日期');
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2023-02-29')).toBe(false);
  });

  it('counts days in China time', () => {
    expect(chinaToday(new Date('2026-11-23T16:30:00Z'))).toBe('2026-11-24');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  });
});

describe('formatting', () => {
  it('shows money from fen and sums insured in 万', () => {
    expect(formatFen(18000)).toBe('¥180');
    expect(formatFen(123456789)).toBe('¥1,234,567.89');
    expect(formatFen(null)).toBe('—');
    expect(formatSumInsured(30000000)).toBe('30万元');
    expect(formatSumInsured(500000)).toBe('5,000元');
    expect(formatDateTime('2026-11-23T06:05:00.000Z')).toBe('2026-11-23 14:05');
  });

  it('shows a deadline at China midnight as 24:00 of the last day it covers', () => {
    // 犹豫期 of a policy issued on 2026-11-25 ends at 2026-12-11 00:00 China time: the 10th is its last day.
    expect(formatDeadline('2026-12-10T16:00:00.000Z')).toBe('2026-12-10 24:00');
    expect(formatDeadline('2027-01-01T16:00:00.000Z')).toBe('2027-01-01 24:00');
    expect(formatDeadline('2026-12-31T16:00:00.000Z')).toBe('2026-12-31 24:00');
    expect(formatDeadline('2026-12-10T06:30:00.000Z')).toBe('2026-12-10 14:30');
    expect(formatDeadline(undefined)).toBe('');
  });

  it('speaks Chinese to the customer whatever the server said', () => {
    expect(userMessage(500, 'internal_error', 'internal error')).toBe('服务器开小差了，请稍后重试');
    expect(userMessage(404, 'whatever', 'no such thing')).toBe('没有找到相关内容');
    expect(userMessage(422, 'relation_not_allowed', 'insured.relation: 本产品的被保险人须为投保人的本人、配偶')).toBe('本产品的被保险人须为投保人的本人、配偶');
    expect(messageOf(new Error('boom'))).toBe('出了点问题，请重试');
    expect(messageOf({ errMsg: 'chooseImage:fail' })).toBe('操作未完成，请重试');
  });

  it('never shows the server\'s English for orders, payment, surrender and claim documents', () => {
    for (const [status, code, message] of [
      [409, 'order_not_cancellable', 'order AXO1 is issued'],
      [409, 'order_already_paid', 'order AXO1 has just been paid; the policy is being issued'],
      [409, 'order_expired', 'order AXO1 was not paid in time; please order again'],
      [503, 'order_busy', 'another order for this insured person is being placed; please try again'],
      [409, 'not_surrenderable', 'order AXO1 is refunding'],
      [409, 'claim_closed_for_documents', 'claim AXC1 is paid; documents can no longer be added'],
      [409, 'no_documents', 'upload the documents first'],
    ] as const) {
      const text = userMessage(status, code, message);
      expect(text).toMatch(/[\u4e00-\u9fa5]/);
      expect(text).not.toMatch(/[A-Za-z]{3,}/);
    }
  });

  it('names the form field when the server explains a field in English', () => {
    const english = new ApiError(400, 'invalid_input', 'insured.idCard: contains a birth date in the future', ['insured.idCard']);
    expect(english.message).toBe('填写的信息有误，请检查后重试');
    expect(fieldMessage(english, '身份证号')).toBe('身份证号有误，请核对');
    const chinese = new ApiError(422, 'not_covered', 'incident.occurredOn: 事故日期不在保单保障期间内', ['incident.occurredOn']);
    expect(fieldMessage(chinese, '出险日期')).toBe('事故日期不在保单保障期间内');
  });
});
