// What the Taro build inlines (config/index.ts defineConstants, TARO_ENV).
global.API_BASE = 'http://api.test';
process.env.TARO_ENV = process.env.TARO_ENV || 'weapp';
global.NOTICE_TEMPLATES = {};
