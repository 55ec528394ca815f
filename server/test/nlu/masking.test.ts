import { maskBankCard, maskIdCard, maskPersonalData, maskPhone } from '../../src/nlu/masking';

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
});
