import { loadProductCatalog, type ProductCatalog } from './products';

/**
 * Cooling-off days by product line, for the conversation's decisions (a user who says "买了十天了" is inside a 15-day
 * period): for no product named, the longest of the products on sale; undefined for a product without one or one we
 * do not sell (车险), where the period settles nothing.
 */
export function coolingOffPeriods(catalog: ProductCatalog = loadProductCatalog()): (product: string | undefined) => number | undefined {
  const longest = Math.max(0, ...catalog.list().map((product) => product.coolingOffDays));
  return (product) => (product === undefined ? longest : catalog.get(product)?.coolingOffDays) || undefined;
}
