/* The manager dashboard: reads /api/dashboard/overview and draws it with ECharts (served from node_modules). */
(function () {
  'use strict';

  var REFRESH_MS = 30000;
  var charts = {};
  var REASONS = {
    explicit_request: '要求人工', complaint: '投诉', regulator: '提及监管', negative_emotion: '负面情绪', emotion_worsening: '情绪恶化',
    repeated_low_confidence: '多次未识别', sensitive_intent: '敏感意图', large_claim: '大额理赔', vip: 'VIP',
  };
  var EMOTIONS = { like: '喜爱', happiness: '高兴', sadness: '难过', anger: '愤怒', disgust: '厌恶', fear: '担忧', surprise: '惊讶', none: '平静' };
  var RULES = {
    forbidden_phrase: '违规用语', rudeness: '态度', selling_disclosure: '销售告知', greeting: '问候', closing: '结束语',
    first_response: '首响超时', turn_response: '回复超时', emotion_worse: '情绪变差', unresolved: '未解决', repeat_contact: '重复来访',
    personal_data: '泄露个人信息',
  };
  var METRICS = { scenario: '场景', intent: '意图', unanswered_cluster: '未解答聚类' };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'className') node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return node;
  }
  function pct(v) { return v === null || v === undefined ? '—' : (v * 100).toFixed(1) + '%'; }
  // Times in China's zone, whatever zone the manager's computer is set to (a PC on UTC drew the charts 8 hours off).
  var TIME_ZONE = 'Asia/Shanghai';
  var PARTS = new Intl.DateTimeFormat('en-GB', { timeZone: TIME_ZONE, month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  function partsOf(iso) {
    var parts = {};
    PARTS.formatToParts(new Date(iso)).forEach(function (p) { parts[p.type] = p.value; });
    return parts;
  }
  function hhmm(iso) { var p = partsOf(iso); return p.hour + ':' + p.minute; }
  function mdhh(iso) { var p = partsOf(iso); return Number(p.month) + '/' + Number(p.day) + ' ' + p.hour + '时'; }
  function dateTime(iso) { return new Date(iso).toLocaleString('zh-CN', { timeZone: TIME_ZONE }); }
  function dateOnly(iso) { return new Date(iso).toLocaleDateString('zh-CN', { timeZone: TIME_ZONE }); }
  function chart(id) {
    if (!charts[id]) charts[id] = echarts.init(document.getElementById(id), null, { renderer: 'canvas' });
    return charts[id];
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function renderKpis(o) {
    var box = document.getElementById('kpis');
    clear(box);
    var items = [
      ['消息量', o.totals.messages, '近 ' + o.window.hours + ' 小时'],
      ['会话数', o.totals.sessions, '30 分钟无消息即新会话'],
      ['机器人解决率', pct(o.botResolutionRate), o.totals.botAnswered + ' / ' + o.totals.botQuestions + ' 个问题'],
      ['转人工率', pct(o.handoffRate), o.totals.handoffs + ' 次转人工'],
      ['未解答', o.totals.unanswered, '待学习 ' + o.reviewQueue.length + ' 组'],
      ['告警', o.alerts.length, '最近 20 条'],
    ];
    items.forEach(function (i) {
      box.appendChild(el('div', { className: 'kpi' }, [el('div', { className: 'label', text: i[0] }), el('div', { className: 'value', text: String(i[1]) }), el('div', { className: 'sub', text: i[2] })]));
    });
  }

  function renderVolume(o) {
    chart('chart-volume').setOption({
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { data: ['消息', '转人工', '未解答'], top: 0 },
      grid: { left: 40, right: 16, top: 30, bottom: 24 },
      xAxis: { type: 'category', data: o.volume.map(function (p) { return hhmm(p.start); }) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        { name: '消息', type: 'line', showSymbol: false, areaStyle: { opacity: 0.15 }, data: o.volume.map(function (p) { return p.messages; }) },
        { name: '转人工', type: 'line', showSymbol: false, data: o.volume.map(function (p) { return p.handoffs; }) },
        { name: '未解答', type: 'line', showSymbol: false, data: o.volume.map(function (p) { return p.unanswered; }) },
      ],
    });
  }

  function renderEmotions(o) {
    chart('chart-emotions').setOption({
      animation: false,
      tooltip: { trigger: 'item' },
      series: [{ type: 'pie', radius: ['35%', '70%'], data: o.emotions.map(function (e) { return { name: EMOTIONS[e.label] || e.label, value: e.count }; }) }],
    });
  }

  function renderHandoffs(o) {
    var rows = o.handoffReasons.slice().reverse();
    chart('chart-handoffs').setOption({
      animation: false,
      tooltip: { trigger: 'axis' },
      grid: { left: 80, right: 16, top: 8, bottom: 24 },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', data: rows.map(function (r) { return REASONS[r.reason] || r.reason; }) },
      series: [{ type: 'bar', data: rows.map(function (r) { return r.count; }), itemStyle: { color: '#e67e22' } }],
    });
  }

  function renderQa(o) {
    var rows = o.qaByAgent;
    chart('chart-qa').setOption({
      animation: false,
      tooltip: { trigger: 'axis', formatter: function (p) { var r = rows[p[0].dataIndex]; return (r.name || r.agentId) + '<br>均分 ' + r.averageScore.toFixed(1) + '，' + r.inspections + ' 通，不合格 ' + r.failed; } },
      grid: { left: 40, right: 16, top: 8, bottom: 40 },
      xAxis: { type: 'category', data: rows.map(function (r) { return r.name || r.agentId; }), axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: 'value', min: 0, max: 100 },
      series: [{ type: 'bar', data: rows.map(function (r) { return { value: Number(r.averageScore.toFixed(1)), itemStyle: { color: r.averageScore < 80 ? '#c0392b' : '#27ae60' } }; }),
        markLine: { silent: true, symbol: 'none', data: [{ yAxis: 80 }], lineStyle: { type: 'dashed', color: '#999' } } }],
    });
  }

  function renderForecast(o) {
    var f = o.forecast;
    var history = f.history.slice(-72);
    var labels = history.map(function (p) { return mdhh(p.start); }).concat(f.forecast.map(function (p) { return mdhh(p.start); }));
    var pad = function (n) { var a = []; for (var i = 0; i < n; i++) a.push(null); return a; };
    var note = document.getElementById('forecast-note');
    // WAPE is null when the held-back day had no traffic at all (no percentage of zero).
    var wape = f.backtest && f.backtest.wape !== null ? (f.backtest.wape * 100).toFixed(1) + '%' : '—';
    note.textContent = f.reason ? f.reason : f.backtest ? '回测（前一日）：WAPE ' + wape + '，MAE ' + f.backtest.mae.toFixed(1) + ' 条/小时' : '';
    chart('chart-forecast').setOption({
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { data: ['实际', '预测', '95% 区间'], top: 0 },
      grid: { left: 40, right: 16, top: 30, bottom: 24 },
      xAxis: { type: 'category', data: labels, boundaryGap: false },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        { name: '实际', type: 'line', showSymbol: false, data: history.map(function (p) { return p.count; }) },
        { name: '95% 区间', type: 'line', stack: 'band', symbol: 'none', lineStyle: { opacity: 0 }, data: pad(history.length).concat(f.forecast.map(function (p) { return Number(p.low.toFixed(1)); })) },
        { name: '95% 区间', type: 'line', stack: 'band', symbol: 'none', lineStyle: { opacity: 0 }, areaStyle: { color: 'rgba(52,152,219,0.2)' },
          data: pad(history.length).concat(f.forecast.map(function (p) { return Number((p.high - p.low).toFixed(1)); })) },
        { name: '预测', type: 'line', showSymbol: false, lineStyle: { type: 'dashed' }, data: pad(history.length).concat(f.forecast.map(function (p) { return Number(p.value.toFixed(1)); })) },
      ],
    });
  }

  function renderHotIssues(o) {
    var body = document.querySelector('#hot-issues tbody');
    clear(body);
    if (!o.hotIssues.length) body.appendChild(el('tr', {}, [el('td', { colspan: '5', className: 'empty', text: '暂无数据' })]));
    o.hotIssues.forEach(function (h) {
      var kind = h.verdict.spike ? h.verdict.kind : '';
      var status = kind === 'emerging' ? '新热点' : kind === 'spike' ? '激增' : '正常';
      body.appendChild(el('tr', {}, [
        el('td', { className: 'topic', text: (METRICS[h.metric] || h.metric) + '：' + (h.name || h.key) }),
        el('td', { className: 'num', text: String(h.windowCount) }),
        el('td', { className: 'num', text: h.verdict.expected.toFixed(1) }),
        el('td', { className: 'num', text: h.lastHour + (h.previousHour ? '（前 ' + h.previousHour + '）' : '') }),
        el('td', {}, [el('span', { className: 'badge ' + kind, text: status })]),
      ]));
    });
  }

  function renderAlerts(o) {
    var list = document.getElementById('alerts');
    clear(list);
    if (!o.alerts.length) list.appendChild(el('li', { className: 'empty', text: '暂无告警' }));
    o.alerts.forEach(function (a) {
      list.appendChild(el('li', {}, [
        el('span', { className: 'badge ' + a.severity, text: a.severity === 'critical' ? '紧急' : a.severity === 'warning' ? '警告' : '提示' }), ' ',
        el('strong', { text: a.title }), el('div', { text: a.summary }), el('div', { className: 'when', text: dateTime(a.at) + (a.notified.length ? ' · 已通知 ' + a.notified.join('、') : '') }),
      ]));
    });
  }

  function renderInspections(o) {
    var body = document.querySelector('#inspections tbody');
    clear(body);
    if (!o.lowestInspections.length) body.appendChild(el('tr', {}, [el('td', { colspan: '4', className: 'empty', text: '暂无质检' })]));
    o.lowestInspections.forEach(function (i) {
      body.appendChild(el('tr', {}, [
        el('td', { text: i.conversationId.split(':').pop(), title: i._id }), el('td', { text: i.agentIds.join('、') || '机器人' }),
        el('td', { text: String(i.score) }), el('td', { text: i.rules.map(function (r) { return RULES[r] || r; }).join('、') }),
      ]));
    });
  }

  function review(id, action, payload) {
    return fetch('/api/learning/candidates/' + encodeURIComponent(id) + '/' + action, {
      method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload),
    }).then(function (res) { return res.json().then(function (body) { if (!res.ok) throw new Error(body.error ? body.error.message : res.status); return body; }); });
  }

  function renderReviewQueue(o) {
    var box = document.getElementById('review-queue');
    clear(box);
    if (!o.reviewQueue.length) box.appendChild(el('div', { className: 'empty', text: '没有待审核的知识' }));
    o.reviewQueue.forEach(function (c) {
      var answer = el('textarea', { placeholder: '回答（将发布为知识库解决方案）' });
      answer.value = c.suggestedAnswers.length ? c.suggestedAnswers[0].text : '';
      var status = el('span', { className: 'empty' });
      var approve = el('button', { type: 'button', text: '通过并发布' });
      var reject = el('button', { type: 'button', text: '驳回' });
      approve.addEventListener('click', function () {
        review(c._id, 'approve', { answer: answer.value }).then(function () { status.textContent = '已发布'; load(); }, function (e) { status.textContent = '失败：' + e.message; });
      });
      reject.addEventListener('click', function () {
        review(c._id, 'reject', {}).then(function () { status.textContent = '已驳回'; load(); }, function (e) { status.textContent = '失败：' + e.message; });
      });
      box.appendChild(el('div', { className: 'candidate', 'data-candidate': c._id }, [
        el('div', { className: 'head' }, [el('strong', { text: c.name }), el('span', { className: 'badge', text: c.questionCount + ' 次提问' })]),
        el('div', { className: 'questions', text: '示例：' + c.questions.join(' / ') }),
        c.suggestedAnswers.length ? el('div', { className: 'questions', text: '坐席答复 ' + c.suggestedAnswers[0].count + ' 次采用' }) : el('div', { className: 'questions', text: '暂无坐席答复，请填写回答' }),
        answer, approve, reject, status,
      ]));
    });
  }

  function renderLearnedKnowledge(o) {
    var box = document.getElementById('learned-knowledge');
    clear(box);
    if (!o.learnedKnowledge.length) box.appendChild(el('div', { className: 'empty', text: '还没有发布新学知识' }));
    o.learnedKnowledge.forEach(function (c) {
      var status = el('span', { className: 'empty' });
      var retire = el('button', { type: 'button', text: '下线' });
      retire.addEventListener('click', function () {
        retire.disabled = true;
        review(c._id, 'reject', { reason: '主管下线' }).then(function () { status.textContent = '已下线'; load(); }, function (e) { retire.disabled = false; status.textContent = '失败：' + e.message; });
      });
      box.appendChild(el('div', { className: 'candidate', 'data-learned': c._id }, [
        el('div', { className: 'head' }, [
          el('strong', { text: c.name }),
          el('span', { className: 'badge', text: (c.reviewedBy || '') + (c.reviewedAt ? ' ' + dateOnly(c.reviewedAt) + ' 发布' : '') }),
        ]),
        el('div', { className: 'questions', text: '示例：' + c.questions.join(' / ') }),
        el('div', { text: c.answer || '' }),
        retire, status,
      ]));
    });
  }

  function load() {
    return fetch('/api/dashboard/overview?hours=24', { credentials: 'same-origin' })
      .then(function (res) { if (res.status === 401) { location.href = '/dashboard/login'; throw new Error('signed out'); } return res.json(); })
      .then(function (o) {
        renderKpis(o); renderVolume(o); renderEmotions(o); renderHandoffs(o); renderQa(o); renderForecast(o);
        renderHotIssues(o); renderAlerts(o); renderInspections(o); renderReviewQueue(o); renderLearnedKnowledge(o);
        document.getElementById('updated').textContent = dateTime(o.generatedAt);
        document.body.setAttribute('data-ready', 'true');
      })
      .catch(function (err) { document.body.setAttribute('data-error', String(err && err.message)); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var who = document.querySelector('meta[name="signed-in"]');
    document.getElementById('signed-in').textContent = who ? who.content : '';
    load();
    setInterval(load, REFRESH_MS);
    window.addEventListener('resize', function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  });
})();
