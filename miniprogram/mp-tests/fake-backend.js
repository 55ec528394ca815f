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

module.exports = { fakeBackend };
