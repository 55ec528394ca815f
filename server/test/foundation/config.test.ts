import { ConfigError, loadConfig } from '../../src/config';

describe('configuration from the environment', () => {
  it('uses defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.MONGODB_URI).toBeUndefined();
    expect(config.DATA_DIR).toBe('.data');
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT: '', MONGODB_URI: '' }).PORT).toBe(3000);
  });

  it('names every invalid variable in one error', () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: 'eighty', MONGODB_URI: 'postgres://x', LOG_LEVEL: 'loud' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.problems).toHaveLength(3);
    expect(error.message).toMatch(/PORT: .*\(got "eighty"\)/);
    expect(error.message).toMatch(/MONGODB_URI: must start with mongodb:\/\//);
    expect(error.message).toMatch(/LOG_LEVEL/);
    expect(error.message).not.toMatch(/at .*\.ts:\d+/); // no stack trace in the message
  });

  it('rejects a port out of range', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
  });
});
