/// <reference types="@tarojs/taro" />

declare module '*.png';
declare module '*.jpg';
declare module '*.svg';
declare module '*.css';

/** The server's base URL, inlined by config/index.ts (defineConstants). '' = the origin that served the h5 build. */
declare const API_BASE: string;
/** Subscription-message template ids (config/index.ts, from TARO_APP_TEMPLATE_*): the server's WECHAT_MP_TEMPLATE_*. */
declare const NOTICE_TEMPLATES: { policyIssued?: string; claimProgress?: string; renewalDue?: string };

declare namespace NodeJS {
  interface ProcessEnv {
    NODE_ENV: 'development' | 'production' | 'test';
    TARO_ENV: 'weapp' | 'h5' | 'swan' | 'alipay' | 'rn' | 'tt' | 'qq' | 'jd' | 'harmony' | 'jdrn';
    TARO_APP_ID: string;
    TARO_APP_API_BASE?: string;
    TARO_APP_TEMPLATE_POLICY_ISSUED?: string;
    TARO_APP_TEMPLATE_CLAIM_PROGRESS?: string;
    TARO_APP_TEMPLATE_RENEWAL?: string;
  }
}
