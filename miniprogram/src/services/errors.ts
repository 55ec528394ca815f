/** A failed API call: HTTP status (0 = no answer), the server's stable code, and a message a customer can read. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    /** The server's own message (English or Chinese), kept for logs. */
    readonly serverMessage: string,
    /** Request fields at fault, e.g. `policyholder.idCard`. */
    readonly fields: string[] = [],
    readonly details: Record<string, unknown> = {},
  ) {
    super(userMessage(status, code, serverMessage));
    this.name = 'ApiError';
  }
}

/** Codes the customer may meet, in their words. */
const MESSAGES: Record<string, string> = {
  network: '网络连接失败，请检查网络后重试',
  timeout: '请求超时，请稍后重试',
  unauthorized: '登录已过期，请重新登录',
  invalid_login_code: '登录失败，请重新进入小程序',
  login_rate_limited: '登录过于频繁，请一分钟后再试',
  login_blocked: '当前账号存在风险，暂时无法登录',
  wechat_unavailable: '微信服务暂时不可用，请稍后重试',
  mini_program_not_configured: '服务暂未开通，请稍后再试',
  payments_not_configured: '支付暂未开通，请稍后再试',
  message_in_progress: '消息正在处理中，请稍候',
  invalid_input: '填写的信息有误，请检查后重试',
  health_answers_missing: '请回答全部健康告知问题',
  premium_changed: '保费已变化，请重新试算',
  not_eligible: '被保险人不符合投保条件',
  policy_not_found: '没有找到这张保单',
  claim_not_found: '没有找到这个理赔',
  ticket_not_found: '没有找到这个工单',
  order_not_found: '没有找到这个订单',
  unknown_product: '没有找到这个产品',
  cooling_off_period_over: '犹豫期已过，无法全额退保',
  no_cooling_off_period: '本产品没有犹豫期，无法全额退保',
  payload_too_large: '文件太大，请压缩后再上传',
  unsupported_document: '不支持的文件格式，请上传照片或 PDF',
  // The server's upload checks (claim documents and chat photos share them).
  unsupported_document_type: '不支持的文件格式，请上传照片或 PDF',
  document_too_large: '文件太大，请压缩后再上传',
  empty_document: '文件是空的，请重新选择',
  image_not_found: '图片不存在或已删除',
  images_unavailable: '暂时无法发送图片，请稍后再试',
  client_message_id_reused: '消息发送冲突，请重新发送',
  // Orders, payment and surrender (the server says these in English).
  order_not_cancellable: '订单已支付或已关闭，无法取消',
  order_already_paid: '订单刚刚已支付成功，正在出单，无法取消',
  order_not_payable: '订单已关闭或已支付，无法再次支付',
  order_expired: '订单已超过支付期限，请重新投保',
  order_busy: '该被保险人有订单正在提交，请稍后再试',
  payments_unavailable: '支付暂未开通，请稍后再试',
  payment_provider_unavailable: '微信支付暂时无响应，请稍后重试',
  payment_provider_error: '微信支付暂时无法下单，请稍后重试',
  not_surrenderable: '该保单当前无法退保，请联系客服',
  field_not_applicable: '填写的信息有误，请重新试算',
  // Claims.
  claim_closed_for_documents: '该理赔已进入处理结果阶段，不能再上传材料',
  too_many_documents: '材料数量已达上限，如需补充请联系客服',
  no_documents: '请先上传材料，再提交审核',
  internal_error: '服务器开小差了，请稍后重试',
};

const hasChinese = (text: string) => /[\u4e00-\u9fa5]/.test(text);

/** Chinese from the server (e.g. 事故日期不在保单保障期间内) is shown as is; otherwise our own words. */
export function userMessage(status: number, code: string, serverMessage: string): string {
  if (hasChinese(serverMessage)) return serverMessage.replace(/^[\w.]+:\s*/, '');
  if (MESSAGES[code]) return MESSAGES[code];
  if (status === 0) return MESSAGES.network;
  if (status === 404) return '没有找到相关内容';
  if (status === 429) return '操作太频繁，请稍后再试';
  if (status >= 500) return MESSAGES.internal_error;
  return '请求失败，请稍后重试';
}

/**
 * The message for one form field the server named: its own words when it wrote Chinese (e.g. 事故日期不在保单保障期间内),
 * otherwise "<label>有误" so the customer still sees which field, never the server's English.
 */
export function fieldMessage(err: ApiError, label: string): string {
  if (hasChinese(err.serverMessage)) return err.message;
  return `${label}有误，请核对`;
}

export const isApiError = (err: unknown): err is ApiError => err instanceof ApiError;

/** Any thrown value as one line for the UI. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err && typeof err === 'object' && 'errMsg' in err) return '操作未完成，请重试';
  return err instanceof Error && hasChinese(err.message) ? err.message : '出了点问题，请重试';
}
