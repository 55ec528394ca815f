import Taro from '@tarojs/taro';

/** Faster than anyone reads a dialog: the second tap of a double tap landing on the dialog's confirm button. */
export const MIN_CONFIRM_MS = 600;

/**
 * Asks before an action that cannot be undone (cancel an order, surrender a policy). A confirm that comes within
 * MIN_CONFIRM_MS of the dialog opening is the rest of a double tap on the button that opened it (the dialog's
 * confirm button can sit right under it), not a decision: it counts as "no", and the customer can tap again.
 */
export async function confirmDeliberately(options: Taro.showModal.Option, now: () => number = Date.now): Promise<boolean> {
  const opened = now();
  const { confirm } = await Taro.showModal(options);
  return Boolean(confirm) && now() - opened >= MIN_CONFIRM_MS;
}
