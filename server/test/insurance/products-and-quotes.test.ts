import fs from 'node:fs';
import path from 'node:path';
import { addYears, ageOn } from '../../src/insurance/dates';
import { loadProductCatalog, parseProduct, PRODUCTS_DIR } from '../../src/insurance/products';
import { quote, QuoteInputError, type QuoteRequest } from '../../src/insurance/quote';
import { readIdCard } from '../../src/insurance/validation';
import { idCardFor, withWrongCheckChar } from './support/people';

const catalog = loadProductCatalog();
const TODAY = '2025-03-10';
const product = (id: string) => {
  const found = catalog.get(id);
  if (!found) throw new Error(`no product ${id}`);
  return found;
};
const priced = (id: string, request: Omit<QuoteRequest, 'productId'>) => quote(product(id), { productId: id, ...request }, TODAY);

describe('product catalog (knowledge/products)', () => {
  it('has the five sample products, each valid', () => {
    expect(catalog.list().map((p) => p.id).sort()).toEqual(['accident', 'children', 'critical-illness', 'medical', 'travel']);
    expect(new Set(catalog.list().map((p) => p.category))).toEqual(new Set(['重疾险', '医疗险', '意外险', '旅行险', '少儿险']));
  });

  it('names every problem of a broken product file', () => {
    const { problems } = parseProduct('bad.yaml', 'id: bad\nname: 坏产品\ncategory: 车险\ncoolingOffDays: -1\n');
    expect(problems.some((p) => p.startsWith('bad.yaml: category'))).toBe(true);
    expect(problems.some((p) => p.startsWith('bad.yaml: coolingOffDays'))).toBe(true);
    expect(problems.some((p) => p.startsWith('bad.yaml: plans'))).toBe(true);
  });

  it('refuses a plan payout limit below the sum insured, naming the plan field', () => {
    const source = fs.readFileSync(path.join(PRODUCTS_DIR, 'critical-illness.yaml'), 'utf8').replace('percentOfSumInsured: 180', 'percentOfSumInsured: 50');
    const { problems } = parseProduct('critical-illness.yaml', source);
    expect(problems.some((p) => /^critical-illness\.yaml: plans\.0\.payoutLimit\.percentOfSumInsured/.test(p))).toBe(true);
  });
});

describe('quote: premiums in integer fen', () => {
  it('prices per 1,000 yuan of sum insured by age band, times plan and term factors', () => {
    const base = priced('critical-illness', { planId: 'basic', termId: 'to-70', sumInsuredFen: 50_000_000, insuredBirthDate: '1994-06-01' });
    expect(base).toMatchObject({ premiumFen: 375_000, eligible: true, reasons: [], insuredAge: { years: 30 }, coolingOffDays: 15 });
    expect(base.cover).toEqual({ startsOn: '2025-03-11', endsOn: '2064-05-31' });
    const richer = priced('critical-illness', { planId: 'multi', termId: 'lifetime', sumInsuredFen: 50_000_000, insuredBirthDate: '1994-06-01' });
    expect(richer.premiumFen).toBe(750_000);
  });

  it('prices flat premiums with options (no social insurance × 180%)', () => {
    const q = priced('medical', { planId: 'standard', termId: 'one-year', options: { socialInsurance: 'no' }, insuredBirthDate: '1990-01-01' });
    expect(q).toMatchObject({ premiumFen: 59_400, sumInsuredFen: 300_000_000, options: { socialInsurance: 'no' } });
    expect(q.cover).toEqual({ startsOn: '2025-03-11', endsOn: '2026-03-10' });
  });

  it('prices trips per day, with a minimum premium', () => {
    expect(priced('travel', { planId: 'schengen', termId: 'trip', startDate: '2025-04-01', tripDays: 10, insuredBirthDate: '1985-01-01' })).toMatchObject({
      premiumFen: 7_800,
      cover: { startsOn: '2025-04-01', endsOn: '2025-04-10' },
    });
    expect(priced('travel', { planId: 'asia', termId: 'trip', startDate: '2025-04-01', tripDays: 1, insuredBirthDate: '1985-01-01' }).premiumFen).toBe(2_000);
  });

  it('prices a newborn\'s children cover from 28 days old', () => {
    const q = priced('children', { planId: 'basic', termId: '20-years', sumInsuredFen: 30_000_000, insuredBirthDate: '2025-01-09' });
    expect(q).toMatchObject({ premiumFen: 84_000, eligible: true, insuredAge: { years: 0, days: 60 } });
  });
});

describe('quote: eligibility with the reason', () => {
  it('refuses the too old, the too young and a sum insured above the age cap, naming the field', () => {
    const old = priced('critical-illness', { planId: 'basic', termId: 'to-70', sumInsuredFen: 10_000_000, insuredBirthDate: '1968-01-01' });
    expect(old.eligible).toBe(false);
    expect(old.reasons).toEqual([expect.objectContaining({ field: 'insured', code: 'insured_too_old' })]);
    expect(old.reasons[0].message).toContain('57周岁');

    const newborn = priced('children', { planId: 'basic', termId: '20-years', sumInsuredFen: 10_000_000, insuredBirthDate: '2025-03-01' });
    expect(newborn.reasons).toEqual([expect.objectContaining({ field: 'insured', code: 'insured_too_young' })]);
    expect(newborn.reasons[0].message).toContain('出生满28天');

    const teen = priced('accident', { planId: 'basic', termId: 'one-year', sumInsuredFen: 10_000_000, insuredBirthDate: '2008-01-01' });
    expect(teen.reasons.map((r) => r.code)).toEqual(['insured_too_young']);

    const capped = priced('critical-illness', { planId: 'basic', termId: 'to-70', sumInsuredFen: 50_000_000, insuredBirthDate: '1980-01-01' });
    expect(capped.reasons).toEqual([expect.objectContaining({ field: 'sumInsuredFen', code: 'sum_insured_above_age_limit' })]);
  });

  it('refuses a "yes" health answer and a trip starting today', () => {
    const sick = priced('medical', { planId: 'standard', termId: 'one-year', insuredBirthDate: '1990-01-01', healthAnswers: { 'hospitalized-2y': true } });
    expect(sick.reasons).toEqual([expect.objectContaining({ field: 'healthAnswers.hospitalized-2y', code: 'health_not_acceptable' })]);
    const late = priced('travel', { planId: 'asia', termId: 'trip', startDate: TODAY, tripDays: 3, insuredBirthDate: '1990-01-01' });
    expect(late.reasons).toEqual([expect.objectContaining({ field: 'startDate', code: 'start_date_not_allowed' })]);
  });

  it('throws QuoteInputError naming the field for a malformed request', () => {
    const field = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        if (err instanceof QuoteInputError) return err.field;
        throw err;
      }
      return undefined;
    };
    const ci = { termId: 'to-70', insuredBirthDate: '1990-01-01' };
    expect(field(() => priced('critical-illness', { ...ci, planId: 'gold', sumInsuredFen: 10_000_000 }))).toBe('planId');
    expect(field(() => priced('critical-illness', { ...ci, planId: 'basic', sumInsuredFen: 12_345_600 }))).toBe('sumInsuredFen');
    expect(field(() => priced('critical-illness', { ...ci, planId: 'basic' }))).toBe('sumInsuredFen');
    expect(field(() => priced('medical', { planId: 'standard', termId: 'one-year', insuredBirthDate: '1990-01-01', options: { socialInsurance: 'maybe' } }))).toBe('options.socialInsurance');
    expect(field(() => priced('travel', { planId: 'asia', termId: 'trip', startDate: '2025-04-01', insuredBirthDate: '1990-01-01' }))).toBe('tripDays');
  });
});

describe('people checks', () => {
  it('reads a resident ID: check character, birth date, gender', () => {
    expect(readIdCard('11010519491231002X')).toEqual({ ok: true, info: { number: '11010519491231002X', birthDate: '1949-12-31', gender: 'female' } });
    expect(readIdCard('11010519491231002x').ok).toBe(true);
    const mine = idCardFor('1990-05-12', '123');
    expect(readIdCard(mine)).toMatchObject({ ok: true, info: { birthDate: '1990-05-12', gender: 'male' } });
    expect(readIdCard(withWrongCheckChar(mine))).toMatchObject({ ok: false, problem: 'checksum' });
    expect(readIdCard('110105199002301234')).toMatchObject({ ok: false, problem: 'birth_date' });
    expect(readIdCard('990105199001011234')).toMatchObject({ ok: false, problem: 'region' });
    expect(readIdCard('1101051990')).toMatchObject({ ok: false, problem: 'format' });
  });

  it('counts ages in full years (周岁) and days, and leap birthdays', () => {
    expect(ageOn('1990-03-11', '2025-03-10').years).toBe(34);
    expect(ageOn('1990-03-10', '2025-03-10').years).toBe(35);
    expect(ageOn('2025-02-10', '2025-03-10').days).toBe(28);
    expect(addYears('2024-02-29', 1)).toBe('2025-02-28');
  });
});
