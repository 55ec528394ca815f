import Taro from '@tarojs/taro';
import { confirmDeliberately, MIN_CONFIRM_MS } from '../src/services/confirm';

const showModal = Taro.showModal as unknown as jest.Mock;

describe('confirming an action that cannot be undone', () => {
  afterEach(() => showModal.mockReset());

  it('goes ahead when the customer confirms after reading the dialog', async () => {
    let t = 1_000;
    showModal.mockImplementation(async () => {
      t += 1_500;
      return { confirm: true, cancel: false };
    });
    await expect(confirmDeliberately({ title: '取消订单', content: '确定取消吗？' }, () => t)).resolves.toBe(true);
    expect(showModal).toHaveBeenCalledWith({ title: '取消订单', content: '确定取消吗？' });
  });

  it('does not take the second tap of a double tap on the button as a confirmation', async () => {
    let t = 1_000;
    showModal.mockImplementation(async () => {
      t += MIN_CONFIRM_MS - 450; // the dialog's confirm button sat under the finger
      return { confirm: true, cancel: false };
    });
    await expect(confirmDeliberately({ title: '犹豫期退保' }, () => t)).resolves.toBe(false);
  });

  it('is "no" when the customer cancels', async () => {
    let t = 0;
    showModal.mockImplementation(async () => {
      t += 5_000;
      return { confirm: false, cancel: true };
    });
    await expect(confirmDeliberately({ title: '取消订单' }, () => t)).resolves.toBe(false);
  });
});
