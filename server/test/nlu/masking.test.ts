import { maskBankCard, maskEntity, maskIdCard, maskMentions, maskPersonalData, maskPhone } from '../../src/nlu/masking';

describe('masking', () => {
  it('masks the single values', () => {
    expect(maskIdCard('11010519491231002X')).toBe('1101**********002X');
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhone('+86 138-1234-5678')).toBe('138****5678');
    expect(maskBankCard('6222 0202 0011 2233 445')).toBe('6222***********3445');
  });

  it('masks every ID, phone and card inside free text, valid checksum or not', () => {
    const text = '身份证11010519491231002X，错号110105194912310021，手机138 1234 5678，卡4111111111111111，保额3000元';
    const masked = maskPersonalData(text);
    expect(masked).toBe('身份证1101**********002X，错号1101**********0021，手机138****5678，卡4111********1111，保额3000元');
    for (const secret of ['11010519491231002X', '110105194912310021', '13812345678', '4111111111111111']) expect(masked).not.toContain(secret);
  });

  it('leaves text without personal numbers alone', () => {
    expect(maskPersonalData('3月5日住院，花了三千五')).toBe('3月5日住院，花了三千五');
  });

  it('masks entities by type, keeping just enough of personal values', () => {
    expect(maskEntity({ type: 'policy_number', value: 'P2024110012345678' })).toBe('P2***********5678');
    expect(maskEntity({ type: 'phone', value: '13812345678' })).toBe('138****5678');
    expect(maskEntity({ type: 'id_card', value: '11010519491231002X' })).toBe('1101**********002X');
    expect(maskEntity({ type: 'name', value: '欧阳娜娜' })).toBe('欧**娜');
    expect(maskEntity({ type: 'email', value: 'zhang.san@example.com' })).toBe('z***@example.com');
    expect(maskEntity({ type: 'amount', value: 50000 })).toBe('50000');
  });

  it('masks e-mail addresses and known mentions in free text too', () => {
    expect(maskPersonalData('身份证11010519491231002X，卡号6222 0212 3456 7890 123，电话138-1234-5678，邮箱zhang.san@example.com')).toBe(
      '身份证1101**********002X，卡号6222***********0123，电话138****5678，邮箱z***@example.com',
    );
    expect(maskMentions('保单P2024110012345678没到账', [{ type: 'policy_number', value: 'P2024110012345678' }])).toBe('保单P2***********5678没到账');
  });
});
