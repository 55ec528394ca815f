/**
 * miniprogram-simulate tests against the compiled weapp build (dist/). Run `npm run build:weapp` first.
 * Plain JS, no transform: the dist files must run exactly as built.
 */
module.exports = {
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/mp-tests'],
  testMatch: ['**/*.test.js'],
  transform: {},
  testTimeout: 20000,
};
