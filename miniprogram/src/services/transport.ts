import Taro from '@tarojs/taro';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  url: string;
  data?: unknown;
  headers: Record<string, string>;
  timeoutMs: number;
}

export interface HttpResponse {
  status: number;
  data: unknown;
}

/** Sends one HTTP request. Resolves for every HTTP status; rejects only when nothing came back. */
export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

export class NetworkError extends Error {
  constructor(readonly errMsg: string) {
    super(errMsg);
    this.name = 'NetworkError';
  }
}

/** wx.request in the mini-program, fetch in h5: both through Taro.request. */
export const taroTransport: Transport = async (request) => {
  try {
    const response = await Taro.request({
      url: request.url,
      method: request.method,
      data: request.data as Record<string, unknown> | undefined,
      header: request.headers,
      timeout: request.timeoutMs,
      dataType: 'json',
      responseType: 'text',
    });
    return { status: response.statusCode, data: response.data };
  } catch (err) {
    const errMsg = (err as { errMsg?: string })?.errMsg ?? String(err);
    throw new NetworkError(errMsg);
  }
};

export interface DownloadRequest {
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

export interface DownloadResponse {
  status: number;
  /** A local path `<Image>` and previewImage can show (a temp file in the mini-program, a blob: URL in h5). */
  tempFilePath: string;
}

/** Fetches a file to a local path. Resolves for every HTTP status; rejects only when nothing came back. */
export type Downloader = (request: DownloadRequest) => Promise<DownloadResponse>;

/** wx.downloadFile in the mini-program, XHR in h5: unlike `<Image src>`, both can send the session header. */
export const taroDownloader: Downloader = async (request) => {
  try {
    const response = await Taro.downloadFile({ url: request.url, header: request.headers, timeout: request.timeoutMs });
    return { status: response.statusCode, tempFilePath: response.tempFilePath };
  } catch (err) {
    const errMsg = (err as { errMsg?: string })?.errMsg ?? String(err);
    throw new NetworkError(errMsg);
  }
};
