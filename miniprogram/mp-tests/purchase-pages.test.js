/**
 * Buying in the compiled weapp pages: the quote prices the preview on the insured's ID number (so an age outside
 * the product shows before submitting), a server refusal in English lands next to its field in Chinese, an unpaid
 * order can be cancelled (once, after a deliberate confirmation), and a cooling-off deadline reads as a last day.
 */
const path = require('path');
const { loadTaroPage, deepQuery, textOf, waitFor } = require('./taro-simulate');
const { fakeBackend, accident } = require('./fake-backend');

const DIST = path.resolve(__dirname, '../dist');


function residentId(birthDate, sequence = '123') {
  const first17 = `110101${birthDate.replace(/-/g, '')}${sequence}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, digit, i) => acc + Number(digit) * weights[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

/** The server's quote, by age in 2026 (the fake needs no clock). */
function quoteFor(call) {
  const { insured } = call.data;
  const birth = insured.birthDate ?? `${insured.idCard.slice(6, 10)}-${insured.idCard.slice(10, 12)}-${insured.idCard.slice(12, 14)}`;
  const age = 2026 - Number(birth.slice(0, 4));
  const base = { productId: 'accident', planId: 'basic', termId: 'one-year', sumInsuredFen: 30000000, options: {}, cover: { startsOn: '2026-11-26', endsOn: '2027-11-25' } };
  if (age > 65) {
    return [200, { ...base, premiumFen: null, eligible: false, reasons: [{ field: 'insured', code: 'insured_too_old', message: `被保险人${age}周岁，超出本产品投保年龄（18周岁至65周岁）` }] }];
  }
  return [200, { ...base, premiumFen: age < 40 ? 18000 : 24000, eligible: true, reasons: [] }];
}

let orderStatus = 'created';
const order = () => ({
  orderNumber: 'AXO1', status: orderStatus, statusLabel: orderStatus === 'closed' ? '已关闭' : '待支付', productId: 'accident',
  productName: '安心保·综合意外险', planName: '基础版', termLabel: '1年', sumInsuredFen: 30000000, premiumFen: 18000,
  policyholder: { name: '张三', idCard: '1101**********1234' }, insured: { name: '张三', idCard: '1101**********1234', relation: 'self', relationLabel: '本人' },
  payBy: new Date(Date.now() + 2 * 3_600_000).toISOString(), createdAt: new Date().toISOString(),
});

const policy = {
  policyNumber: 'AXP1', orderNumber: 'AXO9', productId: 'critical-illness', productName: '安心保·守护重疾险', category: '重疾险',
  planName: '基础版', termLabel: '保至70周岁', insuredName: '张三', sumInsuredFen: 30000000, premiumFen: 375000,
  startsOn: '2026-11-26', endsOn: '2058-05-19', status: 'pending', statusLabel: '待生效', benefits: ['重大疾病，赔付100%保额'],
  policyholder: { name: '张三', idCard: '1101**********1234' }, insured: { name: '张三', idCard: '1101**********1234', relation: 'self', relationLabel: '本人' },
  beneficiary: { type: 'legal', label: '法定受益人' }, issuedAt: '2026-11-25T01:24:47.000Z', waitingPeriodDays: 90,
  coolingOff: { endsAt: '2026-12-10T16:00:00.000Z', canSurrender: true }, renewable: false, claimDocuments: ['被保险人身份证'],
};

/** wx.showModal answered after `afterMs` (a person reading the dialog takes a while). */
function modalAnswering(confirm, afterMs) {
  return jest.fn((options) => setTimeout(() => {
    options.success?.({ confirm, cancel: !confirm, errMsg: 'showModal:ok' });
    options.complete?.({});
  }, afterMs));
}

const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

describe('buying in the compiled weapp pages', () => {
  let backend;

  beforeAll(() => {
    backend = fakeBackend({
      'POST /api/mp/session': () => [201, { token: 'mps_buy', expiresIn: 604800, customer: { id: 'C3' } }],
      'GET /api/mp/products/accident': () => [200, accident],
      'POST /api/mp/quotes': quoteFor,
      'POST /api/mp/orders': () => [400, { error: { code: 'invalid_input', message: 'policyholder.phone: must be a mainland mobile number', details: { fields: ['policyholder.phone'] } } }],
      'GET /api/mp/orders/AXO1': () => [200, order()],
      'POST /api/mp/orders/AXO1/cancel': () => {
        orderStatus = 'closed';
        return [200, order()];
      },
      'GET /api/mp/policies/AXP1': () => [200, policy],
      'GET /api/mp/policies': () => [200, { items: [] }],
      'GET /api/mp/orders': () => [200, { items: [order(), { ...order(), orderNumber: 'AXO0', status: 'issued', statusLabel: '已出单' }] }],
    });
    wx.request = backend.request;
    wx.showToast = jest.fn((options) => setTimeout(() => options.success?.({ errMsg: 'showToast:ok' }), 0));
  });

  it('quote: prices the preview on the birth date in the ID number, and says at once when the age is outside the product', async () => {
    const page = loadTaroPage(DIST, 'pages/quote/index', { productId: 'accident' });
    await waitFor(() => textOf(page).includes('¥180'));
    deepQuery(page, '.input--holderIdCard').dispatchEvent('input', { detail: { value: residentId('1950-03-01') } });
    await waitFor(() => textOf(page).includes('不可投保'), { timeout: 4000 });
    const previews = backend.calls.filter((c) => c.path === '/api/mp/quotes');
    expect(previews[previews.length - 1].data.insured).toEqual({ birthDate: '1950-03-01' });
    const text = textOf(page);
    expect(text).toContain('1950-03-01');
    expect(text).toContain('已按被保险人身份证号填写');
    expect(text).toContain('被保险人76周岁，超出本产品投保年龄');
    expect(text).not.toContain('¥180');

    // A younger insured: the preview follows the ID number again.
    deepQuery(page, '.input--holderIdCard').dispatchEvent('input', { detail: { value: residentId('1980-05-05') } });
    await waitFor(() => textOf(page).includes('¥240'), { timeout: 4000 });
    expect(textOf(page)).not.toContain('76周岁');
  });

  it('quote: an ID number born in the future is refused next to the field; an English refusal from the server is named in Chinese', async () => {
    const page = loadTaroPage(DIST, 'pages/quote/index', { productId: 'accident' });
    await waitFor(() => textOf(page).includes('¥180'));
    deepQuery(page, '.input--holderName').dispatchEvent('input', { detail: { value: '张三' } });
    deepQuery(page, '.input--holderPhone').dispatchEvent('input', { detail: { value: '13800138000' } });
    deepQuery(page, '.chips--health-high-risk-occupation .chip').dispatchEvent('tap'); // 否
    deepQuery(page, '.input--holderIdCard').dispatchEvent('input', { detail: { value: residentId('2030-01-01') } });
    await tick();
    const submit = () => deepQuery(page, '.bottom-bar .btn--primary').dispatchEvent('tap');
    submit();
    await waitFor(() => textOf(page).includes('身份证号中的出生日期晚于今天，请核对'));
    expect(backend.calls.some((c) => c.path === '/api/mp/orders')).toBe(false);

    deepQuery(page, '.input--holderIdCard').dispatchEvent('input', { detail: { value: residentId('1990-01-01') } });
    await tick();
    submit();
    await waitFor(() => textOf(page).includes('手机号有误，请核对'));
    expect(textOf(page)).not.toMatch(/must be|mainland/);
    // The reason is also said where the customer is looking (the line under the form may be below the fold).
    expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '手机号有误，请核对', icon: 'none' }));
  });

  it('pay: an unpaid order can be cancelled, once, after the customer confirms', async () => {
    orderStatus = 'created';
    wx.showModal = modalAnswering(true, 700);
    const page = loadTaroPage(DIST, 'pages/pay/index', { no: 'AXO1' });
    await waitFor(() => textOf(page).includes('取消订单'));
    const cancel = deepQuery(page, '.pay__cancel');
    cancel.dispatchEvent('tap');
    cancel.dispatchEvent('tap'); // a double tap
    await waitFor(() => textOf(page).includes('订单已关闭，不能再支付'), { timeout: 4000 });
    expect(wx.showModal).toHaveBeenCalledTimes(1);
    expect(backend.calls.filter((c) => c.path === '/api/mp/orders/AXO1/cancel')).toHaveLength(1);
    expect(textOf(page)).toContain('重新投保');
    expect(textOf(page)).not.toContain('微信支付');
  });

  it('pay: a confirmation as fast as the second tap of a double tap does not cancel', async () => {
    orderStatus = 'created';
    const before = backend.calls.filter((c) => c.path === '/api/mp/orders/AXO1/cancel').length;
    wx.showModal = modalAnswering(true, 0);
    const page = loadTaroPage(DIST, 'pages/pay/index', { no: 'AXO1' });
    await waitFor(() => textOf(page).includes('取消订单'));
    deepQuery(page, '.pay__cancel').dispatchEvent('tap');
    await waitFor(() => wx.showModal.mock.calls.length === 1);
    await tick(100);
    expect(backend.calls.filter((c) => c.path === '/api/mp/orders/AXO1/cancel')).toHaveLength(before);
    expect(textOf(page)).toContain('待支付');
  });

  it('my policies: an unpaid order left behind is listed, with the way back to pay or cancel it', async () => {
    orderStatus = 'created';
    const page = loadTaroPage(DIST, 'pages/policies/index');
    await waitFor(() => textOf(page).includes('待支付订单'));
    const text = textOf(page);
    expect(text).toContain('去支付');
    expect(text).toContain('应付 ¥180');
    expect(text).toContain('您还没有保单');
    expect(text.match(/去支付/g)).toHaveLength(1); // the issued order is not listed
  });

  it('policy: the cooling-off period reads as its last day (24:00), not midnight of the day after', async () => {
    const page = loadTaroPage(DIST, 'pages/policies/detail', { id: 'AXP1' });
    await waitFor(() => textOf(page).includes('犹豫期至'));
    expect(textOf(page)).toContain('2026-12-10 24:00');
    expect(textOf(page)).not.toContain('2026-12-11 00:00');
  });
});
