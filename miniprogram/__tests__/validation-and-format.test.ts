import { messageOf, userMessage } from '../src/services/errors';
import { formatDateTime, formatFen, formatSumInsured } from '../src/services/format';
import { addDays, birthDateFromIdCard, checkDate, checkIdCard, checkName, checkPhone, chinaToday, isCalendarDate } from '../src/services/validation';

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

  it('speaks Chinese to the customer whatever the server said', () => {
    expect(userMessage(500, 'internal_error', 'internal error')).toBe('服务器开小差了，请稍后重试');
    expect(userMessage(404, 'whatever', 'no such thing')).toBe('没有找到相关内容');
    expect(userMessage(422, 'relation_not_allowed', 'insured.relation: 本产品的被保险人须为投保人的本人、配偶')).toBe('本产品的被保险人须为投保人的本人、配偶');
    expect(messageOf(new Error('boom'))).toBe('出了点问题，请重试');
    expect(messageOf({ errMsg: 'chooseImage:fail' })).toBe('操作未完成，请重试');
  });
});
