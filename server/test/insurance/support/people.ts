import { idCardCheckChar } from '../../../src/insurance/validation';

/** A valid resident ID for a birth date (YYYY-MM-DD); `sequence` odd for men, even for women (3 digits). */
export function idCardFor(birthDate: string, sequence = '123', region = '110105'): string {
  const first17 = `${region}${birthDate.replace(/-/g, '')}${sequence}`;
  return `${first17}${idCardCheckChar(first17)}`;
}

/** The same number with a wrong check character. */
export function withWrongCheckChar(idCard: string): string {
  const good = idCard[17];
  const wrong = good === '1' ? '2' : '1';
  return `${idCard.slice(0, 17)}${wrong}`;
}

export const MOTHER = { name: '李安心', idCard: idCardFor('1990-05-12', '124'), phone: '13800138000' };
export const FATHER = { name: '王守护', idCard: idCardFor('1988-11-03', '135'), phone: '13900139000' };

/** A one-year standard 百万医疗险 for the person themself, with a clean health declaration. */
export const medicalOrderFor = (person: { name: string; idCard: string; phone: string }) => ({
  productId: 'medical',
  planId: 'standard',
  termId: 'one-year',
  policyholder: person,
  insured: { relation: 'self' },
  healthAnswers: { 'hospitalized-2y': false, 'serious-illness': false, 'ongoing-treatment': false, 'declined-before': false },
});
