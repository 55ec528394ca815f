import { ApiError } from './errors';
import type { Downloader, HttpMethod, HttpResponse, Transport } from './transport';
import { NetworkError } from './transport';
import type {
  ApiErrorBody, Claim, ClaimReport, DocumentUpload, ClaimDocument, ItemList, LoginResult, Order, OrderRequest,
  PaymentStart, PolicyDetail, PolicySummary, PollChatResult, ProductDetail, ProductSummary, Quote, QuoteRequest,
  SendChatResult, Ticket,
} from './types';

/** Where the client gets and renews its session token (services/session.ts). */
export interface TokenSource {
  /** A live token, logging in first when there is none. */
  token(): Promise<string>;
  /** The server said 401: forget this token, so the next token() logs in again. */
  invalidate(token: string): void;
}

export interface ApiClientOptions {
  /** '' = same origin (h5 served next to the API). No trailing slash. */
  baseUrl: string;
  transport: Transport;
  tokens?: TokenSource;
  timeoutMs?: number;
  /** For files the server keeps private (chat photos); needed only by downloadChatImage. */
  download?: Downloader;
}

interface CallOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** Send the session token, and on a 401 log in again and retry once. */
  auth?: boolean;
  /** Longer than the default for uploads. */
  timeoutMs?: number;
}

/** A photo upload is a few hundred KB of base64: give a slow mobile network time. */
const UPLOAD_TIMEOUT_MS = 60_000;

/** What went wrong while transport/downloader got no answer at all. */
function noAnswer(err: unknown): ApiError {
  const text = err instanceof NetworkError ? err.errMsg : String(err);
  return new ApiError(0, /timeout/i.test(text) ? 'timeout' : 'network', text);
}

const isErrorBody = (data: unknown): data is ApiErrorBody =>
  typeof data === 'object' && data !== null && typeof (data as ApiErrorBody).error?.code === 'string';

function parse(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  if (data === '') return undefined;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

function toQuery(query: CallOptions['query']): string {
  const parts = Object.entries(query ?? {})
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

const seg = (value: string) => encodeURIComponent(value);

/**
 * The typed client of the server's mini-program API. One instance per app (services/app.ts); tests build their
 * own with a fake transport.
 */
export class ApiClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  async call<T>(method: HttpMethod, path: string, options: CallOptions = {}): Promise<T> {
    if (!options.auth) return this.send<T>(method, path, options);
    return this.withSession((token) => this.send<T>(method, path, options, token));
  }

  /** Runs `request` with the session token; on a 401 logs in again and runs it once more. */
  private async withSession<T>(request: (token: string) => Promise<T>): Promise<T> {
    const tokens = this.options.tokens;
    if (!tokens) throw new Error('ApiClient: this call needs a session, but no TokenSource was given');
    const token = await tokens.token();
    try {
      return await request(token);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      tokens.invalidate(token);
      return request(await tokens.token());
    }
  }

  private async send<T>(method: HttpMethod, path: string, options: CallOptions, token?: string): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    let response: HttpResponse;
    try {
      response = await this.options.transport({
        method,
        url: this.url(path + toQuery(options.query)),
        data: options.body,
        headers,
        timeoutMs: options.timeoutMs ?? this.timeoutMs,
      });
    } catch (err) {
      throw noAnswer(err);
    }
    const data = parse(response.data);
    if (response.status >= 200 && response.status < 300) return data as T;
    if (isErrorBody(data)) {
      const { code, message, details } = data.error;
      throw new ApiError(response.status, code, message, details?.fields ?? [], details ?? {});
    }
    throw new ApiError(response.status, `http_${response.status}`, `HTTP ${response.status}`);
  }

  // ---- Session ----
  login(code: string) {
    return this.call<LoginResult>('POST', '/api/mp/session', { body: { code } });
  }
  logout() {
    return this.call<void>('DELETE', '/api/mp/session', { auth: true });
  }

  // ---- Chat ----
  sendChat(text: string, clientMessageId: string) {
    return this.call<SendChatResult>('POST', '/api/mp/chat/messages', { body: { text, clientMessageId }, auth: true });
  }
  pollChat(after?: string | null) {
    return this.call<PollChatResult>('GET', '/api/mp/chat/messages', { query: { after: after ?? undefined }, auth: true });
  }
  /** A photo, as JSON like a claim document; the same clientMessageId on a resend is answered once. */
  sendChatImage(contentBase64: string, clientMessageId: string) {
    return this.call<SendChatResult>('POST', '/api/mp/chat/images', {
      body: { clientMessageId, contentBase64 },
      auth: true,
      timeoutMs: UPLOAD_TIMEOUT_MS,
    });
  }
  /**
   * A chat photo kept by this server (an imageUrl like `/api/mp/chat/images/…`), fetched with the session token
   * (an `<Image src>` cannot send it). Resolves to a local path to show.
   */
  async downloadChatImage(path: string): Promise<string> {
    const download = this.options.download;
    if (!download) throw new Error('ApiClient: downloadChatImage needs a Downloader');
    return this.withSession(async (token) => {
      let response;
      try {
        response = await download({ url: this.url(path), headers: { Authorization: `Bearer ${token}` }, timeoutMs: this.timeoutMs });
      } catch (err) {
        throw noAnswer(err);
      }
      if (response.status >= 200 && response.status < 300) return response.tempFilePath;
      // The error body went to a file; the status says enough.
      if (response.status === 401) throw new ApiError(401, 'unauthorized', 'HTTP 401');
      if (response.status === 404) throw new ApiError(404, 'image_not_found', 'HTTP 404');
      throw new ApiError(response.status, `http_${response.status}`, `HTTP ${response.status}`);
    });
  }

  // ---- Products, quotes, orders ----
  products() {
    return this.call<ItemList<ProductSummary>>('GET', '/api/mp/products');
  }
  product(id: string) {
    return this.call<ProductDetail>('GET', `/api/mp/products/${seg(id)}`);
  }
  quote(body: QuoteRequest) {
    return this.call<Quote>('POST', '/api/mp/quotes', { body });
  }
  createOrder(body: OrderRequest) {
    return this.call<Order>('POST', '/api/mp/orders', { body, auth: true });
  }
  orders() {
    return this.call<ItemList<Order>>('GET', '/api/mp/orders', { auth: true });
  }
  order(orderNumber: string) {
    return this.call<Order>('GET', `/api/mp/orders/${seg(orderNumber)}`, { auth: true });
  }
  startPayment(orderNumber: string) {
    return this.call<PaymentStart>('POST', `/api/mp/orders/${seg(orderNumber)}/payment`, { auth: true });
  }
  cancelOrder(orderNumber: string) {
    return this.call<Order>('POST', `/api/mp/orders/${seg(orderNumber)}/cancel`, { auth: true });
  }

  // ---- Policies ----
  policies() {
    return this.call<ItemList<PolicySummary>>('GET', '/api/mp/policies', { auth: true });
  }
  policy(policyNumber: string) {
    return this.call<PolicyDetail>('GET', `/api/mp/policies/${seg(policyNumber)}`, { auth: true });
  }
  surrender(policyNumber: string, reason?: string) {
    return this.call<{ policy: PolicyDetail; order: Order }>('POST', `/api/mp/policies/${seg(policyNumber)}/surrender`, {
      body: reason ? { reason } : {},
      auth: true,
    });
  }

  // ---- Claims ----
  claims() {
    return this.call<ItemList<Claim>>('GET', '/api/mp/claims', { auth: true });
  }
  claim(claimNumber: string) {
    return this.call<Claim>('GET', `/api/mp/claims/${seg(claimNumber)}`, { auth: true });
  }
  reportClaim(body: ClaimReport) {
    return this.call<Claim>('POST', '/api/mp/claims', { body, auth: true });
  }
  uploadClaimDocument(claimNumber: string, body: DocumentUpload) {
    return this.call<ClaimDocument>('POST', `/api/mp/claims/${seg(claimNumber)}/documents`, { body, auth: true });
  }
  submitClaimDocuments(claimNumber: string) {
    return this.call<Claim>('POST', `/api/mp/claims/${seg(claimNumber)}/submit`, { auth: true });
  }

  // ---- Tickets ----
  tickets() {
    return this.call<ItemList<Ticket>>('GET', '/api/me/tickets', { auth: true });
  }
  ticket(ticketNumber: string) {
    return this.call<Ticket>('GET', `/api/me/tickets/${seg(ticketNumber)}`, { auth: true });
  }
}
