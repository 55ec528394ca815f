import Taro from '@tarojs/taro';
import { askForNotices } from '../src/services/notices';

const request = Taro.requestSubscribeMessage as unknown as jest.Mock;
const templates = { policyIssued: 'TPL_ISSUED', claimProgress: 'TPL_CLAIM', renewalDue: 'TPL_RENEW' };

describe('asking for subscription messages (订阅消息)', () => {
  const env = process.env.TARO_ENV;
  afterEach(() => {
    request.mockReset();
    process.env.TARO_ENV = env;
  });

  it('asks with the template ids the server sends with (WeChat delivers only what was accepted)', async () => {
    request.mockResolvedValue({ errMsg: 'requestSubscribeMessage:ok', TPL_ISSUED: 'accept' });
    await askForNotices(['policyIssued', 'renewalDue'], templates);
    expect(request).toHaveBeenCalledWith({ tmplIds: ['TPL_ISSUED', 'TPL_RENEW'] });
  });

  it('never blocks the action: a refusal or a failing WeChat is just no notice', async () => {
    request.mockRejectedValue({ errMsg: 'requestSubscribeMessage:fail can only be invoked by user TAP gesture.' });
    await expect(askForNotices(['claimProgress'], templates)).resolves.toBeUndefined();
    request.mockImplementation(() => {
      throw new Error('not supported');
    });
    await expect(askForNotices(['claimProgress'], templates)).resolves.toBeUndefined();
  });

  it('asks nothing without configured templates, or in the browser build', async () => {
    await askForNotices(['policyIssued', 'claimProgress'], {});
    process.env.TARO_ENV = 'h5';
    await askForNotices(['claimProgress'], templates);
    expect(request).not.toHaveBeenCalled();
  });
});
