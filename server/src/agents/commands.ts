import { parseChineseNumber } from '../nlu/chinese-numbers';

/**
 * What an agent types in WeCom: a command (`/end`, or its Chinese alias `结束`) or a reply for the customer.
 * `#1024` anywhere at the start or among a command's words names the session; without it the agent's current one.
 */
export type AgentCommand =
  | { kind: 'accept'; session?: string }
  | { kind: 'end'; session?: string }
  | { kind: 'transfer'; target: string; session?: string }
  | { kind: 'ticket'; description: string; session?: string }
  | { kind: 'kb'; query: string }
  | { kind: 'claim'; claimId: string; change?: ClaimChange }
  | { kind: 'set_status'; status: 'on_duty' | 'busy' | 'off' }
  | { kind: 'status' }
  | { kind: 'help' }
  | { kind: 'reply'; text: string; session?: string }
  | { kind: 'invalid'; message: string };

type CommandName = 'accept' | 'end' | 'transfer' | 'ticket' | 'kb' | 'claim' | 'busy' | 'free' | 'off' | 'status' | 'help';

/** A move of a claim an agent may make from WeCom (the insurance domain checks it like the staff API does). */
export type ClaimChange =
  | { to: 'documents_needed'; neededDocuments: string[] }
  | { to: 'under_review' }
  | { to: 'approved'; approvedAmountFen: number }
  | { to: 'rejected'; rejectionReason: string }
  | { to: 'paid'; paymentReference: string };

// Maps, not object literals: an agent's message is the key, and "toString" or "constructor" must find nothing.
const CLAIM_ACTIONS = new Map<string, ClaimChange['to']>(Object.entries({
  补材料: 'documents_needed', docs: 'documents_needed', 审核: 'under_review', review: 'under_review', 通过: 'approved',
  approve: 'approved', 拒赔: 'rejected', reject: 'rejected', 赔付: 'paid', paid: 'paid',
} satisfies Record<string, ClaimChange['to']>));
const CLAIM_USAGE = [
  '理赔指令：/claim <报案号> 查看案件；/claim <报案号> 补材料 <材料1> <材料2>…；/claim <报案号> 审核；',
  '/claim <报案号> 通过 <金额，如 12000 或 1.2万>；/claim <报案号> 拒赔 <原因>；/claim <报案号> 赔付 <付款流水号>',
].join('\n');

/** "12000", "12000元", "1.2万", "一万二" → 分 (the NLU's numeral reader); undefined when it is not an amount. */
function amountFen(text: string): number | undefined {
  const value = parseChineseNumber(text.replace(/[元¥￥]/g, '').replace(/，/g, ','));
  const fen = value === undefined ? undefined : Math.round(value * 100);
  return fen !== undefined && Number.isSafeInteger(fen) && fen > 0 && Math.abs(value! * 100 - fen) < 1e-6 ? fen : undefined;
}

function claimCommand(words: string[]): AgentCommand {
  const [claimId, action, ...rest] = words;
  if (!claimId) return { kind: 'invalid', message: CLAIM_USAGE };
  if (!action) return { kind: 'claim', claimId };
  const to = CLAIM_ACTIONS.get(action.toLowerCase());
  const argument = rest.join(' ').trim();
  switch (to) {
    case 'documents_needed': {
      const documents = rest.flatMap((w) => w.split(/[、,，]/)).map((w) => w.trim()).filter(Boolean);
      return documents.length ? { kind: 'claim', claimId, change: { to, neededDocuments: documents } } : { kind: 'invalid', message: '请写明需要补充的材料，例如：/claim <报案号> 补材料 费用清单 出院小结' };
    }
    case 'under_review':
      return { kind: 'claim', claimId, change: { to } };
    case 'approved': {
      const fen = amountFen(argument);
      return fen ? { kind: 'claim', claimId, change: { to, approvedAmountFen: fen } } : { kind: 'invalid', message: '请写明核定金额（元），例如：/claim <报案号> 通过 12000' };
    }
    case 'rejected':
      return argument ? { kind: 'claim', claimId, change: { to, rejectionReason: argument } } : { kind: 'invalid', message: '请写明拒赔原因（客户会看到），例如：/claim <报案号> 拒赔 等待期内发病，不属于保险责任' };
    case 'paid':
      return argument ? { kind: 'claim', claimId, change: { to, paymentReference: argument } } : { kind: 'invalid', message: '请写明付款流水号，例如：/claim <报案号> 赔付 BANK-20260302-001' };
    default:
      return { kind: 'invalid', message: `未知的理赔操作「${action}」。\n${CLAIM_USAGE}` };
  }
}

const SLASH = new Map<string, CommandName>(Object.entries({
  accept: 'accept', a: 'accept', end: 'end', close: 'end', transfer: 'transfer', t: 'transfer', ticket: 'ticket',
  kb: 'kb', search: 'kb', claim: 'claim', busy: 'busy', free: 'free', ready: 'free', on: 'free', off: 'off', status: 'status',
  help: 'help', '?': 'help',
  // The Chinese words work after a slash too.
  接入: 'accept', 结束: 'end', 转接: 'transfer', 工单: 'ticket', 搜索: 'kb', 理赔: 'claim', 忙碌: 'busy', 空闲: 'free', 上线: 'free',
  下班: 'off', 状态: 'status', 帮助: 'help',
} satisfies Record<string, CommandName>));

/** Chinese aliases without a slash. Those taking no argument must be the whole message ("结束了吗" is a reply). */
const BARE_NO_ARGS = new Map<string, CommandName>(Object.entries({
  接入: 'accept', 结束: 'end', 忙碌: 'busy', 空闲: 'free', 上线: 'free', 下班: 'off', 状态: 'status', 帮助: 'help',
} satisfies Record<string, CommandName>));
const BARE_WITH_ARGS = new Map<string, CommandName>(Object.entries({ 转接: 'transfer', 工单: 'ticket', 搜索: 'kb' } satisfies Record<string, CommandName>));

// Agents type the ref with a full-width ＃ from a Chinese keyboard as often as with #.
const SESSION_REF = /^[#＃](\d{1,9})$/;
/** `#1024` opening a message, ended by a space or the punctuation agents put after it ("#1024，您好"). */
const LEADING_SESSION_REF = /^[#＃](\d{1,9})(?:[\s,，:：、]+|$)/;
/** A no-argument alias naming its session after it: "接入 #1024", "结束#1024". */
const BARE_WITH_SESSION_REF = /^(\S+?)\s*[#＃](\d{1,9})$/;

function splitSessionRef(words: string[]): { session?: string; rest: string[] } {
  const index = words.findIndex((w) => SESSION_REF.test(w));
  if (index === -1) return { rest: words };
  return { session: SESSION_REF.exec(words[index])![1], rest: words.filter((_, i) => i !== index) };
}

function build(name: CommandName, args: string, leadingSession?: string): AgentCommand {
  const { session: argSession, rest } = splitSessionRef(args.split(/\s+/).filter(Boolean));
  const session = leadingSession ?? argSession;
  const text = rest.join(' ');
  switch (name) {
    case 'accept':
      return { kind: 'accept', session };
    case 'end':
      return { kind: 'end', session };
    case 'transfer':
      return text ? { kind: 'transfer', target: text, session } : { kind: 'invalid', message: '请写明转接给谁，例如：/transfer 张三 或 /transfer 理赔组' };
    case 'ticket':
      return text ? { kind: 'ticket', description: text, session } : { kind: 'invalid', message: '请写明工单描述，例如：/ticket 客户要求书面答复理赔时效' };
    case 'kb':
      return text ? { kind: 'kb', query: text } : { kind: 'invalid', message: '请写明关键词，例如：/kb 理赔进度' };
    case 'claim':
      return claimCommand(args.split(/\s+/).filter(Boolean));
    case 'busy':
      return { kind: 'set_status', status: 'busy' };
    case 'free':
      return { kind: 'set_status', status: 'on_duty' };
    case 'off':
      return { kind: 'set_status', status: 'off' };
    case 'status':
      return { kind: 'status' };
    case 'help':
      return { kind: 'help' };
  }
}

export function parseAgentCommand(input: string): AgentCommand {
  let text = input.trim();
  let session: string | undefined;
  const leading = LEADING_SESSION_REF.exec(text);
  if (leading) {
    session = leading[1];
    text = text.slice(leading[0].length).trim();
  }
  if (!text) return { kind: 'invalid', message: '消息为空' };

  if (text.startsWith('/') || text.startsWith('／')) {
    // The name ends at a space or a session ref ("/end#1024"); a slash with no name is a slip, not a reply.
    const match = /^[/／]([^\s#＃]+)\s*([\s\S]*)$/.exec(text);
    if (!match) return { kind: 'invalid', message: '指令名应紧跟在 / 之后，例如 /end；发送 /help 查看可用指令' };
    const name = SLASH.get(match[1].toLowerCase());
    if (!name) return { kind: 'invalid', message: `未知指令 /${match[1]}，发送 /help 查看可用指令` };
    return build(name, match[2], session);
  }
  const bare = BARE_NO_ARGS.get(text);
  if (bare) return build(bare, '', session);
  // Without this, "接入 #1024" was a reply: sent to the customer in focus, and another offer accepted.
  const bareWithRef = BARE_WITH_SESSION_REF.exec(text);
  const bareNamed = bareWithRef && BARE_NO_ARGS.get(bareWithRef[1]);
  if (bareNamed) return build(bareNamed, '', session ?? bareWithRef[2]);
  const withArgs = /^(转接|工单|搜索)[\s:：]+([\s\S]+)$/.exec(text);
  if (withArgs) return build(BARE_WITH_ARGS.get(withArgs[1])!, withArgs[2], session);
  return { kind: 'reply', text, session };
}

export const AGENT_HELP = [
  '可用指令（中英文均可）：',
  '/accept 接入 —— 接入推送给您的会话',
  '/end 结束 —— 结束当前会话，交回机器人',
  '/transfer 转接 <姓名或组名> —— 转给其他客服或小组',
  '/ticket 工单 <描述> —— 为当前会话登记工单',
  '/kb 搜索 <关键词> —— 查知识库与话术',
  '/claim 理赔 <报案号> [补材料 … | 审核 | 通过 <金额> | 拒赔 <原因> | 赔付 <流水号>] —— 查看或推进理赔案件',
  '/busy 忙碌、/free 空闲、/off 下班 —— 设置接单状态',
  '/status 状态 —— 查看我的会话',
  '直接输入文字即回复客户；多个会话时在开头加 #编号 指定。',
].join('\n');
