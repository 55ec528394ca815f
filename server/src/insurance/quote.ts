import { addDays, addYears, ageOn, daysBetween, type Age, type CalendarDate } from './dates';
import type { Product, ProductPlan, ProductTerm } from './products';

/**
 * Pricing and eligibility for one insured person, as a pure function of the product rules and the purchase date.
 * Money is integer 分 throughout; the product files say yuan only where a person reads them.
 */

export interface QuoteRequest {
  productId: string;
  planId: string;
  termId: string;
  /** Required when the product lets the buyer choose; must be on a step of the product's range. */
  sumInsuredFen?: number;
  /** Option id → choice id; missing options take their default. */
  options?: Record<string, string>;
  insuredBirthDate: CalendarDate;
  /** Trip products: first day of cover and number of days. */
  startDate?: CalendarDate;
  tripDays?: number;
  /** Evaluated when given; an order needs every question answered. */
  healthAnswers?: Record<string, boolean>;
}

/** Why a quote cannot be bought as asked: the request field to change and a sentence the buyer can read. */
export interface EligibilityReason {
  field: string;
  code:
    | 'insured_too_young'
    | 'insured_too_old'
    | 'sum_insured_above_age_limit'
    | 'term_too_short'
    | 'start_date_not_allowed'
    | 'health_not_acceptable';
  message: string;
}

export interface CoverPeriod {
  /** First day of cover (00:00 China time). */
  startsOn: CalendarDate;
  /** Last day of cover, inclusive (cover ends at 24:00 China time). */
  endsOn: CalendarDate;
}

export interface Quote {
  productId: string;
  productName: string;
  category: Product['category'];
  planId: string;
  planName: string;
  termId: string;
  termLabel: string;
  options: Record<string, string>;
  sumInsuredFen: number;
  /** null when the insured's age is outside every premium band. */
  premiumFen: number | null;
  currency: 'CNY';
  cover: CoverPeriod | null;
  tripDays?: number;
  insuredAge: Age;
  coolingOffDays: number;
  waitingPeriodDays: number;
  eligible: boolean;
  reasons: EligibilityReason[];
}

/** The request itself is wrong (not the person): unknown plan, a sum insured off the steps … → 400 naming `field`. */
export class QuoteInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'QuoteInputError';
  }
}

const YUAN = 100;
const MAX_DAYS_AHEAD = 180;

function pick<T extends { id: string }>(items: T[], id: string, field: string, what: string): T {
  const found = items.find((item) => item.id === id);
  if (!found) throw new QuoteInputError(field, `unknown ${what} "${id}" (one of: ${items.map((i) => i.id).join(', ')})`);
  return found;
}

function resolveOptions(product: Product, given: Record<string, string> = {}): Record<string, string> {
  for (const key of Object.keys(given)) {
    if (!product.options.some((o) => o.id === key)) throw new QuoteInputError(`options.${key}`, 'is not an option of this product');
  }
  const resolved: Record<string, string> = {};
  for (const option of product.options) {
    const choice = given[option.id] ?? option.default;
    pick(option.choices, choice, `options.${option.id}`, 'choice');
    resolved[option.id] = choice;
  }
  return resolved;
}

function resolveSumInsuredFen(product: Product, plan: ProductPlan, given: number | undefined): number {
  if (plan.sumInsuredYuan !== undefined) {
    if (given !== undefined && given !== plan.sumInsuredYuan * YUAN) {
      throw new QuoteInputError('sumInsuredFen', `is fixed at ${plan.sumInsuredYuan * YUAN} for plan "${plan.id}"`);
    }
    return plan.sumInsuredYuan * YUAN;
  }
  const range = product.sumInsured;
  if (!range) throw new QuoteInputError('planId', 'plan has no sum insured');
  if (given === undefined) throw new QuoteInputError('sumInsuredFen', 'is required for this product');
  const min = range.minYuan * YUAN;
  const max = range.maxYuan * YUAN;
  const step = range.stepYuan * YUAN;
  if (!Number.isInteger(given) || given < min || given > max || (given - min) % step !== 0) {
    throw new QuoteInputError('sumInsuredFen', `must be ${min}–${max} in steps of ${step}`);
  }
  return given;
}

function ageText(product: Product): string {
  const { minDays, minYears, maxYears } = product.insuredAge;
  return `${minDays !== undefined ? `出生满${minDays}天` : `${minYears}周岁`}至${maxYears}周岁`;
}

function coverFor(
  term: ProductTerm,
  request: QuoteRequest,
  today: CalendarDate,
  reasons: EligibilityReason[],
): { cover: CoverPeriod | null; tripDays?: number } {
  const coverage = term.coverage;
  // Cover starts at 00:00 the day after purchase ("支付成功后的次日零时生效"), except trips, which start on the chosen day.
  const tomorrow = addDays(today, 1);
  if ('years' in coverage) return { cover: { startsOn: tomorrow, endsOn: addDays(addYears(tomorrow, coverage.years), -1) } };
  if ('toAge' in coverage) {
    const birthday = addYears(request.insuredBirthDate, coverage.toAge);
    if (birthday <= addYears(tomorrow, 1)) {
      reasons.push({ field: 'termId', code: 'term_too_short', message: `被保险人年龄已接近${coverage.toAge}周岁，请选择其他保障期限` });
      return { cover: null };
    }
    return { cover: { startsOn: tomorrow, endsOn: addDays(birthday, -1) } };
  }
  const { min, max } = coverage.tripDays;
  if (request.tripDays === undefined) throw new QuoteInputError('tripDays', 'is required for this product');
  if (!Number.isInteger(request.tripDays) || request.tripDays < min || request.tripDays > max) {
    throw new QuoteInputError('tripDays', `must be ${min}–${max}`);
  }
  if (request.startDate === undefined) throw new QuoteInputError('startDate', 'is required for this product');
  const ahead = daysBetween(today, request.startDate);
  if (ahead < 1 || ahead > MAX_DAYS_AHEAD) {
    reasons.push({
      field: 'startDate',
      code: 'start_date_not_allowed',
      message: `起保日期须在明天至${MAX_DAYS_AHEAD}天内，请在出发前投保`,
    });
  }
  return {
    cover: { startsOn: request.startDate, endsOn: addDays(request.startDate, request.tripDays - 1) },
    tripDays: request.tripDays,
  };
}

/** base × plan% × term% × option%…, rounded half up to the fen; BigInt so no factor combination loses a fen. */
function premiumFen(product: Product, plan: ProductPlan, term: ProductTerm, options: Record<string, string>, age: Age, sumInsuredFen: number, tripDays?: number): number | null {
  const band = product.premium.bands.find((b) => b.maxAge >= age.years);
  if (!band || age.years < 0) return null;
  let numerator = BigInt(band.fen);
  let denominator = 1n;
  switch (product.premium.basis) {
    case 'per-thousand':
      numerator *= BigInt(sumInsuredFen);
      denominator *= BigInt(1000 * YUAN);
      break;
    case 'per-day':
      numerator *= BigInt(tripDays ?? 0);
      break;
    case 'flat':
      break;
  }
  const factors = [plan.factorPercent, term.factorPercent];
  for (const option of product.options) {
    const choice = option.choices.find((c) => c.id === options[option.id]);
    if (choice) factors.push(choice.factorPercent);
  }
  for (const factor of factors) {
    numerator *= BigInt(factor);
    denominator *= 100n;
  }
  const rounded = Number((numerator * 2n + denominator) / (denominator * 2n));
  return Math.max(rounded, product.premium.minimumFen);
}

/** Prices one request on `today` (China calendar date). Throws QuoteInputError for a malformed request only. */
export function quote(product: Product, request: QuoteRequest, today: CalendarDate): Quote {
  const plan = pick(product.plans, request.planId, 'planId', 'plan');
  const term = pick(product.terms, request.termId, 'termId', 'term');
  const options = resolveOptions(product, request.options);
  const sumInsuredFen = resolveSumInsuredFen(product, plan, request.sumInsuredFen);
  const reasons: EligibilityReason[] = [];

  // A wrong date, not a person too young to insure: the buyer must correct it.
  if (request.insuredBirthDate > today) throw new QuoteInputError('insured.birthDate', `is in the future (${request.insuredBirthDate})`);
  const age = ageOn(request.insuredBirthDate, today);
  const { minDays, minYears, maxYears } = product.insuredAge;
  const tooYoung = minDays !== undefined ? age.days < minDays : age.years < (minYears ?? 0);
  if (tooYoung) {
    reasons.push({ field: 'insured', code: 'insured_too_young', message: `被保险人年龄不符合投保要求（${ageText(product)}）` });
  } else if (age.years > maxYears) {
    reasons.push({
      field: 'insured',
      code: 'insured_too_old',
      message: `被保险人${age.years}周岁，超出本产品投保年龄（${ageText(product)}）`,
    });
  }
  const ageCap = product.sumInsured?.maxByAge.find((cap) => cap.maxAge >= age.years);
  if (plan.sumInsuredYuan === undefined && ageCap && sumInsuredFen > ageCap.maxYuan * YUAN) {
    reasons.push({
      field: 'sumInsuredFen',
      code: 'sum_insured_above_age_limit',
      message: `${age.years}周岁最高可投保额${ageCap.maxYuan / 10_000}万元`,
    });
  }
  const { cover, tripDays } = coverFor(term, request, today, reasons);
  for (const question of product.healthQuestions) {
    if (request.healthAnswers?.[question.id] === true) {
      reasons.push({
        field: `healthAnswers.${question.id}`,
        code: 'health_not_acceptable',
        message: `健康告知“${question.text}”回答为“是”，暂不能在线投保，可联系人工客服人工核保`,
      });
    }
  }
  if (request.healthAnswers) {
    for (const key of Object.keys(request.healthAnswers)) {
      if (!product.healthQuestions.some((q) => q.id === key)) {
        throw new QuoteInputError(`healthAnswers.${key}`, 'is not a health question of this product');
      }
    }
  }

  return {
    productId: product.id,
    productName: product.name,
    category: product.category,
    planId: plan.id,
    planName: plan.name,
    termId: term.id,
    termLabel: term.label,
    options,
    sumInsuredFen,
    premiumFen: premiumFen(product, plan, term, options, age, sumInsuredFen, tripDays),
    currency: 'CNY',
    cover,
    ...(tripDays !== undefined && { tripDays }),
    insuredAge: age,
    coolingOffDays: product.coolingOffDays,
    waitingPeriodDays: product.waitingPeriodDays,
    eligible: reasons.length === 0,
    reasons,
  };
}
