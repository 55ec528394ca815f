import { ApiClient } from './api';
import { ChatController } from './chat';
import { ChatImageLoader } from './chat-images';
import { loginCodeProvider, taroStorage } from './platform';
import { Session } from './session';
import { taroDownloader, taroTransport } from './transport';

/** API_BASE is inlined by config/index.ts; '' means the origin that served the page (h5). */
const baseUrl = typeof API_BASE === 'string' ? API_BASE : '';

let apiRef: ApiClient;

export const session = new Session({
  login: (code) => apiRef.login(code),
  codeProvider: loginCodeProvider,
  storage: taroStorage,
});

export const api = new ApiClient({ baseUrl, transport: taroTransport, download: taroDownloader, tokens: session });
apiRef = api;

export const chatImages = new ChatImageLoader((path) => api.downloadChatImage(path));
export const chat = new ChatController(api, { images: chatImages });
