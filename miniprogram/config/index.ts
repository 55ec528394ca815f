import { defineConfig, type UserConfigExport } from '@tarojs/cli';
import TsconfigPathsPlugin from 'tsconfig-paths-webpack-plugin';
import devConfig from './dev';
import prodConfig from './prod';

/**
 * One source, two builds: `taro build --type weapp` → dist/ (opened by WeChat DevTools through the root
 * project.config.json) and `--type h5` → dist-h5/ (any static server; the Koa server or the e2e test serves it).
 *
 * API_BASE is inlined at build time. The weapp needs an absolute https URL in production (an allow-listed
 * request domain); the h5 build defaults to '' so it calls the origin that served it.
 */
const isH5 = process.env.TARO_ENV === 'h5';
const apiBase = process.env.TARO_APP_API_BASE ?? (isH5 ? '' : 'http://127.0.0.1:3000');

export default defineConfig<'webpack5'>(async (merge) => {
  const baseConfig: UserConfigExport<'webpack5'> = {
    projectName: 'anxin-miniprogram',
    date: '2026-11-23',
    designWidth: 750,
    deviceRatio: { 640: 2.34 / 2, 750: 1, 375: 2, 828: 1.81 / 2 },
    sourceRoot: 'src',
    outputRoot: isH5 ? 'dist-h5' : 'dist',
    plugins: [],
    defineConstants: {
      API_BASE: JSON.stringify(apiBase.replace(/\/+$/, '')),
      // Subscription-message template ids, the same as the server's WECHAT_MP_TEMPLATE_* (services/notices.ts).
      NOTICE_TEMPLATES: JSON.stringify({
        policyIssued: process.env.TARO_APP_TEMPLATE_POLICY_ISSUED || undefined,
        claimProgress: process.env.TARO_APP_TEMPLATE_CLAIM_PROGRESS || undefined,
        renewalDue: process.env.TARO_APP_TEMPLATE_RENEWAL || undefined,
      }),
    },
    copy: { patterns: [], options: {} },
    framework: 'react',
    compiler: 'webpack5',
    cache: { enable: false },
    mini: {
      postcss: {
        pxtransform: { enable: true, config: {} },
        cssModules: { enable: false, config: { namingPattern: 'module', generateScopedName: '[name]__[local]___[hash:base64:5]' } },
      },
      webpackChain(chain) {
        chain.resolve.plugin('tsconfig-paths').use(TsconfigPathsPlugin);
      },
    },
    h5: {
      // Relative, so the same build works at / (e2e static server) and under /h5/ (mounted by the Koa server).
      publicPath: './',
      staticDirectory: 'static',
      output: { filename: 'js/[name].[contenthash:8].js', chunkFilename: 'js/[name].[contenthash:8].js' },
      miniCssExtractPluginOption: { ignoreOrder: true, filename: 'css/[name].[contenthash:8].css', chunkFilename: 'css/[name].[contenthash:8].css' },
      router: { mode: 'hash' },
      postcss: {
        autoprefixer: { enable: true, config: {} },
        cssModules: { enable: false, config: { namingPattern: 'module', generateScopedName: '[name]__[local]___[hash:base64:5]' } },
      },
      webpackChain(chain) {
        chain.resolve.plugin('tsconfig-paths').use(TsconfigPathsPlugin);
        // React + the Taro h5 runtime are ~400 KiB minified before gzip; warn only above that.
        chain.performance.maxAssetSize(600 * 1024).maxEntrypointSize(900 * 1024);
      },
    },
  };
  if (process.env.NODE_ENV === 'development') return merge({}, baseConfig, devConfig);
  return merge({}, baseConfig, prodConfig);
});
