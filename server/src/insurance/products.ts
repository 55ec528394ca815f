import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { INSURED_RELATIONS } from './validation';

/** Our sample products, authored as YAML in knowledge/products (see its README for the fields). */
export const PRODUCTS_DIR = path.resolve(__dirname, '../../../knowledge/products');

export const PRODUCT_CATEGORIES = ['重疾险', '医疗险', '意外险', '旅行险', '少儿险'] as const;

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and "-"');
const text = z.string().trim().min(1, 'must not be empty');
const count = z.number().int().min(0);
const percent = z.number().int().min(1).max(1000).default(100);

const coverageSchema = z.union([
  z.object({ years: z.number().int().min(1).max(100) }).strict(),
  z.object({ toAge: z.number().int().min(1).max(110) }).strict(),
  z.object({ tripDays: z.object({ min: z.number().int().min(1), max: z.number().int().min(1).max(366) }).strict() }).strict(),
]);

const productSchema = z
  .object({
    id: slug,
    name: text,
    category: z.enum(PRODUCT_CATEGORIES),
    summary: text,
    insuredAge: z
      .object({ minDays: count.optional(), minYears: count.optional(), maxYears: z.number().int().min(0).max(110) })
      .strict()
      .refine((a) => (a.minDays === undefined) !== (a.minYears === undefined), 'needs exactly one of minDays or minYears'),
    policyholderMinAge: z.number().int().min(16).max(100).default(18),
    insuredRelations: z.array(z.enum(INSURED_RELATIONS)).min(1),
    coolingOffDays: count.max(60),
    waitingPeriodDays: count.max(365),
    renewable: z.boolean(),
    beneficiary: z.enum(['designatable', 'legal']),
    sumInsured: z
      .object({
        minYuan: z.number().int().positive(),
        maxYuan: z.number().int().positive(),
        stepYuan: z.number().int().positive(),
        maxByAge: z.array(z.object({ maxAge: count, maxYuan: z.number().int().positive() }).strict()).default([]),
      })
      .strict()
      .optional(),
    terms: z
      .array(z.object({ id: slug, label: text, coverage: coverageSchema, factorPercent: percent }).strict())
      .min(1),
    plans: z
      .array(
        z
          .object({
            id: slug,
            name: text,
            factorPercent: percent,
            /** A fixed sum insured (医疗险, 旅行险); otherwise the buyer chooses within `sumInsured`. */
            sumInsuredYuan: z.number().int().positive().optional(),
            benefits: z.array(text).min(1),
            /**
             * All a policy of this plan pays over its term, across claims: a share of the sum insured (180 for 重疾 100%
             * + 中症 50% + 轻症 30%) plus fixed limits. Without it, claims are capped one by one, not in total.
             */
            payoutLimit: z.object({ percentOfSumInsured: z.number().int().min(100).max(1000), plusYuan: z.number().int().nonnegative().optional() }).strict().optional(),
          })
          .strict(),
      )
      .min(1),
    options: z
      .array(
        z
          .object({
            id: z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/, 'must be a camelCase identifier'),
            label: text,
            default: text,
            choices: z.array(z.object({ id: text, label: text, factorPercent: percent }).strict()).min(2),
          })
          .strict(),
      )
      .default([]),
    premium: z
      .object({
        basis: z.enum(['flat', 'per-thousand', 'per-day']),
        minimumFen: count.default(0),
        bands: z.array(z.object({ maxAge: count, fen: z.number().int().positive() }).strict()).min(1),
      })
      .strict(),
    healthQuestions: z.array(z.object({ id: slug, text }).strict()),
    claimDocuments: z.array(text).min(1),
  })
  .strict();

export type Product = z.infer<typeof productSchema>;
export type ProductPlan = Product['plans'][number];
export type ProductTerm = Product['terms'][number];
export type Coverage = ProductTerm['coverage'];

export class ProductValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Products have ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ProductValidationError';
  }
}

/** Rules zod cannot say: ids unique, bands ascending and covering every insurable age, sums insured consistent. */
function consistencyProblems(product: Product): string[] {
  const problems: string[] = [];
  const unique = (what: string, ids: string[]) => {
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) problems.push(`${what} "${id}" appears twice`);
      seen.add(id);
    }
  };
  unique('plan', product.plans.map((p) => p.id));
  unique('term', product.terms.map((t) => t.id));
  unique('option', product.options.map((o) => o.id));
  unique('health question', product.healthQuestions.map((q) => q.id));
  const bands = product.premium.bands;
  if (bands.some((band, i) => i > 0 && band.maxAge <= bands[i - 1].maxAge)) problems.push('premium.bands: maxAge must ascend');
  if (bands[bands.length - 1].maxAge < product.insuredAge.maxYears) {
    problems.push(`premium.bands: no band for ages up to insuredAge.maxYears ${product.insuredAge.maxYears}`);
  }
  for (const plan of product.plans) {
    if (plan.sumInsuredYuan === undefined && !product.sumInsured) {
      problems.push(`plan "${plan.id}": needs sumInsuredYuan, or the product needs sumInsured`);
    }
  }
  const range = product.sumInsured;
  if (range) {
    if (range.minYuan > range.maxYuan) problems.push('sumInsured: minYuan is above maxYuan');
    if ((range.maxYuan - range.minYuan) % range.stepYuan !== 0) problems.push('sumInsured: maxYuan is not reachable in steps');
  }
  for (const option of product.options) {
    if (!option.choices.some((c) => c.id === option.default)) problems.push(`option "${option.id}": default is not a choice`);
  }
  const tripTerms = product.terms.filter((t) => 'tripDays' in t.coverage).length;
  if ((product.premium.basis === 'per-day') !== (tripTerms === product.terms.length)) {
    problems.push('premium.basis per-day goes with trip terms only (and trip terms with per-day)');
  }
  if (product.insuredRelations.includes('child') && product.policyholderMinAge < 18) {
    problems.push('policyholderMinAge: a parent buying for a child must be an adult');
  }
  return problems;
}

/** The products on sale, by id. Immutable once loaded; policies copy what they need at issue. */
export class ProductCatalog {
  private readonly byId: ReadonlyMap<string, Product>;

  constructor(products: Product[]) {
    this.byId = new Map(products.map((p) => [p.id, p]));
  }

  get(id: string): Product | undefined {
    return this.byId.get(id);
  }

  list(): Product[] {
    return [...this.byId.values()];
  }
}

/** Parses one product file's text; problems are prefixed with the file name. */
export function parseProduct(fileName: string, source: string): { product?: Product; problems: string[] } {
  let raw: unknown;
  try {
    raw = parseYaml(source);
  } catch (err) {
    return { problems: [`${fileName}: not valid YAML (${(err as Error).message.split('\n')[0]})`] };
  }
  const result = productSchema.safeParse(raw);
  if (!result.success) {
    return { problems: result.error.issues.map((i) => `${fileName}: ${i.path.join('.') || '(file)'}: ${i.message}`) };
  }
  const problems = consistencyProblems(result.data).map((p) => `${fileName}: ${p}`);
  const expectedName = `${result.data.id}.yaml`;
  if (fileName !== expectedName) problems.push(`${fileName}: file must be named ${expectedName}`);
  return problems.length ? { problems } : { product: result.data, problems };
}

/** Reads every `*.yaml` in the directory; throws one error naming every problem. */
export function loadProductCatalog(dir: string = PRODUCTS_DIR): ProductCatalog {
  if (!fs.existsSync(dir)) throw new ProductValidationError([`${dir}: products directory not found`]);
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  const products: Product[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const parsed = parseProduct(file, fs.readFileSync(path.join(dir, file), 'utf8'));
    problems.push(...parsed.problems);
    if (parsed.product) products.push(parsed.product);
  }
  if (!files.length) problems.push(`${dir}: no product files`);
  if (problems.length) throw new ProductValidationError(problems);
  return new ProductCatalog(products);
}
