/** The parts of @tarojs/taro the services use, as jest mocks (tests set their behaviour). */
const storage = new Map();
const Taro = {
  request: jest.fn(),
  login: jest.fn(async () => ({ code: 'mock-code', errMsg: 'login:ok' })),
  getStorageSync: jest.fn((key) => (storage.has(key) ? storage.get(key) : '')),
  setStorageSync: jest.fn((key, value) => void storage.set(key, value)),
  removeStorageSync: jest.fn((key) => void storage.delete(key)),
  chooseImage: jest.fn(),
  getFileSystemManager: jest.fn(() => ({ readFileSync: jest.fn(() => 'AAAA') })),
  switchTab: jest.fn(async () => ({})),
  navigateTo: jest.fn(async () => ({})),
  showModal: jest.fn(async () => ({ confirm: true, cancel: false })),
  requestSubscribeMessage: jest.fn(async () => ({ errMsg: 'requestSubscribeMessage:ok' })),
  __storage: storage,
};
module.exports = Taro;
module.exports.default = Taro;
