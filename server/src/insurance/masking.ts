/** How personal data is shown outside the policyholder's own detail views and staff tools (chat answers, lists). */
// ID and phone masking have one home (nlu/masking); names are masked the insurance way (first and last character).
export { maskIdCard, maskPhone } from '../nlu/masking';

/** 张三 → 张*, 欧阳娜娜 → 欧**娜; Latin names keep the first letter. */
export function maskName(name: string): string {
  const chars = [...name];
  if (chars.length <= 1) return '*';
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}
