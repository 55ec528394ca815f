/**
 * A stand-in for the server behind wx.request: records every call and answers from a route table. Replies come
 * asynchronously, as wx.request's do.
 */
function fakeBackend(routes) {
  const calls = [];
  const request = jest.fn((options) => {
    const url = new URL(options.url);
    const call = { method: (options.method || 'GET').toUpperCase(), path: url.pathname, query: Object.fromEntries(url.searchParams), data: options.data, header: options.header || {} };
    calls.push(call);
    const handler = routes[`${call.method} ${call.path}`];
    setTimeout(() => {
      if (!handler) {
        options.success?.({ statusCode: 404, data: { error: { code: 'not_found', message: 'no route' } }, header: {} });
      } else {
        const [statusCode, data] = handler(call);
        options.success?.({ statusCode, data, header: { 'Content-Type': 'application/json' } });
      }
      options.complete?.({});
    }, 0);
    return { abort() {}, onHeadersReceived() {}, offHeadersReceived() {} };
  });
  return { request, calls };
}

/** A product as GET /api/mp/products/:id returns it: the pages' tests buy and quote it. */
const accident = {
  id: 'accident', name: '安心保·综合意外险', category: '意外险', summary: '一年期意外保障',
  insuredAge: { minYears: 18, maxYears: 65 }, policyholderMinAge: 18, insuredRelations: ['self', 'spouse', 'parent'],
  coolingOffDays: 0, waitingPeriodDays: 0, renewable: true, beneficiary: 'designatable',
  sumInsured: { minFen: 10000000, maxFen: 100000000, stepFen: 10000000, maxByAge: [] },
  terms: [{ id: 'one-year', label: '1年', coverage: { years: 1 } }],
  plans: [{ id: 'basic', name: '基础版', benefits: ['意外身故，赔付100%保额'] }],
  options: [],
  healthQuestions: [{ id: 'high-risk-occupation', text: '被保险人是否从事高风险职业？' }],
  claimDocuments: ['被保险人身份证'],
};

module.exports = { fakeBackend, accident };
