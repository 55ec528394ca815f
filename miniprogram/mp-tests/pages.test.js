/**
 * More compiled weapp pages in miniprogram-simulate: the products list (and its error state with retry), the
 * quote form's validation, and a claim's timeline. Routes come from the page query, as WeChat passes them.
 */
const path = require('path');
const { loadTaroPage, deepQuery, textOf, waitFor } = require('./taro-simulate');
const { fakeBackend, accident } = require('./fake-backend');

const DIST = path.resolve(__dirname, '../dist');


describe('compiled weapp pages', () => {
  let backend;
  let productsFail = true;

  beforeAll(() => {
    backend = fakeBackend({
      'POST /api/mp/session': () => [201, { token: 'mps_pages', expiresIn: 604800, customer: { id: 'C2' } }],
      'GET /api/mp/products': () => (productsFail
        ? [503, { error: { code: 'internal_error', message: 'internal error' } }]
        : [200, { items: [accident] }]),
      'GET /api/mp/products/accident': () => [200, accident],
      'POST /api/mp/quotes': () => [200, {
        productId: 'accident', planId: 'basic', termId: 'one-year', premiumFen: 18000, eligible: true, reasons: [],
        cover: { startsOn: '2026-11-24', endsOn: '2027-11-23' }, sumInsuredFen: 30000000, options: {},
      }],
      'GET /api/mp/policies': () => [200, { items: [] }],
      'GET /api/mp/claims/AXC1': () => [200, {
        claimNumber: 'AXC1', policyNumber: 'AXP1', productName: '安心保·综合意外险', insuredName: '张三',
        incident: { kind: 'accident', occurredOn: '2026-11-20', description: '下楼梯摔倒，右脚踝骨折' },
        contactPhone: '138****8000', status: 'documents_needed', statusLabel: '待补材料', neededDocuments: ['医疗费用发票'],
        documents: [], createdAt: '2026-11-20T02:00:00.000Z', updatedAt: '2026-11-21T02:00:00.000Z',
        timeline: [
          { at: '2026-11-20T02:00:00.000Z', status: 'reported', statusLabel: '已报案', note: '已收到报案', by: { kind: 'customer' } },
          { at: '2026-11-21T02:00:00.000Z', status: 'documents_needed', statusLabel: '待补材料', note: '请补充发票', by: { kind: 'staff', name: '安心保理赔' } },
        ],
      }],
    });
    wx.request = backend.request;
  });

  it('products: shows the error state with 重试, and the list after retrying', async () => {
    const page = loadTaroPage(DIST, 'pages/products/index');
    await waitFor(() => textOf(page).includes('服务器开小差了'));
    productsFail = false;
    deepQuery(page, '.status__action').dispatchEvent('tap');
    await waitFor(() => textOf(page).includes('安心保·综合意外险'));
    expect(textOf(page)).toContain('投保年龄 18周岁–65周岁');
  });

  it('quote: refuses to submit an empty form and says what is missing, next to each field', async () => {
    const page = loadTaroPage(DIST, 'pages/quote/index', { productId: 'accident' });
    await waitFor(() => textOf(page).includes('¥180'));
    const quote = backend.calls.find((c) => c.path === '/api/mp/quotes');
    expect(quote.data).toMatchObject({ productId: 'accident', planId: 'basic', termId: 'one-year', insured: { birthDate: '1990-01-01' } });

    const submit = () => deepQuery(page, '.bottom-bar .btn--primary').dispatchEvent('tap');
    submit();
    await waitFor(() => textOf(page).includes('请按提示修改标红的信息'));
    expect(textOf(page)).toContain('请填写姓名');
    expect(textOf(page)).toContain('请填写身份证号');
    expect(textOf(page)).toContain('请逐项回答健康告知');
    expect(backend.calls.some((c) => c.path === '/api/mp/orders')).toBe(false);

    deepQuery(page, '.input--holderIdCard').dispatchEvent('input', { detail: { value: '110101199003071234' } });
    await simulateTick();
    submit();
    await waitFor(() => textOf(page).includes('身份证号校验位不正确'));
  });

  it('empty states: no policies yet (with a way to the products), no tickets when the server has no ticket routes', async () => {
    const policies = loadTaroPage(DIST, 'pages/policies/index');
    await waitFor(() => textOf(policies).includes('您还没有保单'));
    expect(textOf(policies)).toContain('去看看保险');
    const tickets = loadTaroPage(DIST, 'pages/tickets/index');
    await waitFor(() => textOf(tickets).includes('没有工单'));
  });

  it('claim detail: shows the status, what to send, and the timeline newest first', async () => {
    const page = loadTaroPage(DIST, 'pages/claims/detail', { id: 'AXC1' });
    await waitFor(() => textOf(page).includes('理赔进度'));
    const text = textOf(page);
    expect(text).toContain('请补充以下材料：医疗费用发票');
    expect(text.indexOf('请补充发票')).toBeLessThan(text.indexOf('已收到报案'));
    expect(text).toContain('安心保理赔');
    expect(text).toContain('材料已补齐，提交审核');
  });
});

function simulateTick() {
  return new Promise((resolve) => setTimeout(resolve, 20));
}
