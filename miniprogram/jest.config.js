/**
 * Unit tests of the app's logic (services/: API client, session, chat, store, validation). Taro is replaced by
 * a mock (jest/taro-mock.js) so these run in plain node; the compiled pages have their own suite (jest.mp.config.js).
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.[jt]sx?$': ['babel-jest', { configFile: './babel.config.js' }] },
  moduleNameMapper: {
    '^@tarojs/taro$': '<rootDir>/jest/taro-mock.js',
    '\\.css$': '<rootDir>/jest/style-stub.js',
  },
  setupFiles: ['<rootDir>/jest/setup.js'],
};
