/*
 * ui/app.js — the dashboard: the host view (every container, its sparklines and last
 * decision, the host budget, a live decision feed) and a container view (uPlot charts of
 * the last minutes with each decision as a mark, scale and undo).
 *
 * Data: the REST API only. The host view polls /api/v1/host and /api/v1/containers every
 * HOST_POLL_MS and keeps, per container, the last SPARK_POINTS samples for its sparklines
 * (filled once from each container's history when the page opens). The container view
 * polls /api/v1/containers/ID (its last 5 minutes at 1 s) and its decisions. Decisions
 * also arrive live from /api/v1/events, read with fetch() because EventSource cannot send
 * the X-API-Key header. Every buffer here is bounded (points per container, feed entries,
 * decisions per container), and containers that left are dropped, so a page left open
 * for days stays the same size; polling stops while the tab is hidden or paused.
 *
 * The key: asked for when the API answers 401/403, kept in sessionStorage (this tab only),
 * sent as X-API-Key. With authentication off the page just opens.
 */
'use strict';
(function () {
  const KEY_STORE = 'lxcscale-api-key';
  const HOST_POLL_MS = 2000, CT_POLL_MS = 1000, CT_DECISIONS_POLL_MS = 5000;
  const SPARK_POINTS = 150, FEED_MAX = 50, CT_DECISIONS_MAX = 200, BACKFILL_MAX = 100;
  const $ = (id) => document.getElementById(id);

  /* ---- the API ---------------------------------------------------------------------- */

  class AuthError extends Error {}

  async function api(path, opts) {
    opts = opts || {};
    const headers = {};
    const key = sessionStorage.getItem(KEY_STORE);
    if (key) headers['X-API-Key'] = key;
    let body;
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    let r;
    try {
      r = await fetch(path, { method: opts.method || 'GET', headers, body, cache: 'no-store' });
    } catch (e) {
      setConn(false, 'daemon unreachable');
      throw e;
    }
    let json = null;
    try { json = await r.json(); } catch (e) { /* not JSON: json stays null */ }
    if (r.status === 401 || r.status === 403) {
      showLogin(json && json.message ? json.message : 'HTTP ' + r.status);
      throw new AuthError('HTTP ' + r.status);
    }
    setConn(true);
    return { status: r.status, ok: r.ok, json };
  }

  function setConn(ok, why) {
    const c = $('conn');
    c.textContent = ok ? 'live' : (why || 'down');
    c.className = 'conn ' + (ok ? 'live' : 'down');
  }

  /* ---- small helpers ---------------------------------------------------------------- */

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  const fmt = (v, d) => (typeof v === 'number' && isFinite(v) ? v.toFixed(d) : '–');
  const ago = (ms) => {
    const s = Math.max(0, (Date.now() - ms) / 1000);
    return s < 90 ? Math.round(s) + ' s ago' : s < 5400 ? Math.round(s / 60) + ' min ago' :
      s < 172800 ? Math.round(s / 3600) + ' h ago' : Math.round(s / 86400) + ' d ago';
  };
  function pushBounded(arr, v, max) {
    arr.push(v);
    if (arr.length > max) arr.splice(0, arr.length - max);
  }

  /* What a decision changed, in words: "cores 1 → 2, memory 1024 → 2048 MiB". */
  function change(d) {
    const parts = [];
    if (d.cpu && d.cpu.change !== 'none') parts.push('cores ' + d.cpu.from + ' → ' + d.cpu.to);
    if (d.memory && d.memory.change !== 'none') parts.push('memory ' + d.memory.from_mb + ' → ' + d.memory.to_mb + ' MiB');
    return parts.join(', ') || 'no change';
  }
  function outcomeSpan(outcome) {
    return el('span', 'outcome ' + (outcome || 'none'), outcome || '?');
  }
  const OUTCOME_COLOUR = {
    applied: '#1a9850', shrinking: '#1a9850', 'persist-only': '#d98e04',
    'dry-run': '#888888', refused: '#c0392b', failed: '#c0392b',
  };

  /* ---- login ------------------------------------------------------------------------ */

  function showLogin(why) {
    stopPolling();
    for (const v of ['host-view', 'ct-view']) $(v).hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = sessionStorage.getItem(KEY_STORE) ? 'The key was refused: ' + why : '';
    $('login-key').focus();
  }

  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(KEY_STORE, $('login-key').value);
    $('login-key').value = '';
    $('login').hidden = true;
    route();
    loadFeed();
    startEvents();
  });

  /* ---- polling ---------------------------------------------------------------------- */

  let pollTimer = null, pollFn = null, pollEvery = 0;

  function startPolling(fn, every) {
    stopPolling();
    pollFn = fn;
    pollEvery = every;
    const tick = async () => {
      if (!$('paused').checked && !document.hidden) {
        try { await fn(); } catch (e) { if (e instanceof AuthError) return; }
      }
      if (pollFn === fn) pollTimer = setTimeout(tick, pollEvery);
    };
    tick();
  }
  function stopPolling() {
    clearTimeout(pollTimer);
    pollTimer = null;
    pollFn = null;
  }

  /* ---- host view -------------------------------------------------------------------- */

  const spark = new Map();     // vmid -> {t: last updated_ms, cpu: [], mem: [], psi: []}
  const rows = new Map();      // vmid -> <tr>
  let containers = [];
  let sortKey = 'vmid', sortRev = false, backfilled = false;

  function sortValue(c, k) {
    switch (k) {
      case 'vmid': return c.vmid;
      case 'name': return c.name || '';
      case 'cpu': return c.usage.cpu_pct;
      case 'mem': return c.usage.memory_pct;
      case 'psi': return Math.max(c.pressure.cpu_some_avg10, c.pressure.memory_some_avg10);
      case 'cores': return c.limits.cores;
      case 'memmb': return c.limits.memory_mb;
      case 'score': return c.score.anomaly_score;
      case 'last': return c.last_decision ? c.last_decision.time_ms : 0;
    }
    return 0;
  }

  for (const th of document.querySelectorAll('#cts th[data-sort]')) {
    th.addEventListener('click', () => {
      const k = th.dataset.sort;
      sortRev = sortKey === k ? !sortRev : false;
      sortKey = k;
      renderTable();
    });
  }
  $('filter').addEventListener('input', () => renderTable());

  function drawSpark(canvas, values, max, colour) {
    const dpr = window.devicePixelRatio || 1;
    const w = 90, h = 22;
    if (canvas.width !== w * dpr) {
      canvas.width = w * dpr;
      canvas.height = h * dpr;
      canvas.style.width = w + 'px';
      canvas.style.height = h + 'px';
    }
    const g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    g.fillStyle = '#f0f0ec'; // the sparkline's frame: a flat zero line still shows
    g.fillRect(0, 0, w, h);
    if (values.length < 2) return;
    const top = Math.max(max, ...values, 1e-9);
    g.beginPath();
    values.forEach((v, i) => {
      const x = (i / (SPARK_POINTS - 1)) * w + (w - ((values.length - 1) / (SPARK_POINTS - 1)) * w);
      const y = h - 1 - (Math.max(0, v) / top) * (h - 2);
      if (i) g.lineTo(x, y); else g.moveTo(x, y);
    });
    g.strokeStyle = colour;
    g.lineWidth = 1.25;
    g.stroke();
  }

  function rowFor(c) {
    let tr = rows.get(c.vmid);
    if (tr) return tr;
    tr = el('tr');
    tr.dataset.vmid = c.vmid;
    const cells = ['vmid', 'name', 'cpu', 'cpuspark', 'mem', 'memspark', 'psi', 'psispark', 'cores', 'memmb', 'score', 'last'];
    for (const k of cells) {
      const td = el('td');
      td.dataset.k = k;
      if (k.endsWith('spark')) td.appendChild(el('canvas', 'spark'));
      tr.appendChild(td);
    }
    tr.addEventListener('click', () => { location.hash = '#/ct/' + c.vmid; });
    rows.set(c.vmid, tr);
    return tr;
  }

  function fillRow(tr, c) {
    const td = (k) => tr.querySelector('td[data-k="' + k + '"]');
    td('vmid').textContent = c.vmid;
    const name = td('name');
    name.textContent = c.name || '';
    if (c.tier) name.appendChild(el('span', 'tag', c.tier));
    if (c.ignored) name.appendChild(el('span', 'tag', c.ignored_by === 'tag' ? 'ignored (tag)' : 'ignored'));
    tr.classList.toggle('ignored', !!c.ignored);
    td('cpu').textContent = fmt(c.usage.cpu_pct, 1);
    td('mem').textContent = fmt(c.usage.memory_pct, 1);
    td('psi').textContent = fmt(c.pressure.cpu_some_avg10, 2) + ' / ' + fmt(c.pressure.memory_some_avg10, 2);
    td('cores').textContent = fmt(c.limits.cores, 2);
    td('memmb').textContent = c.limits.memory_mb;
    td('score').textContent = fmt(c.score.anomaly_score, 3) + (c.score.anomaly ? ' !' : '');
    const last = td('last');
    last.textContent = '';
    if (c.last_decision) {
      const d = c.last_decision;
      last.appendChild(outcomeSpan(d.outcome));
      last.appendChild(document.createTextNode(' ' + change(d) + ' · ' + ago(d.time_ms)));
      last.title = d.reason + ': ' + d.detail;
    }
    const s = spark.get(c.vmid);
    if (s) {
      drawSpark(td('cpuspark').firstChild, s.cpu, 100, '#2166ac');
      drawSpark(td('memspark').firstChild, s.mem, 100, '#7b3294');
      drawSpark(td('psispark').firstChild, s.psi, 10, '#e66101');
    }
  }

  function renderTable() {
    const q = $('filter').value.trim().toLowerCase();
    const shown = containers.filter((c) => !q || String(c.vmid).includes(q) || (c.name || '').toLowerCase().includes(q));
    shown.sort((a, b) => {
      const x = sortValue(a, sortKey), y = sortValue(b, sortKey);
      const r = typeof x === 'string' ? x.localeCompare(y) : x - y;
      return (sortRev ? -r : r) || a.vmid - b.vmid;
    });
    for (const th of document.querySelectorAll('#cts th[data-sort]')) {
      th.classList.toggle('sorted', th.dataset.sort === sortKey);
      th.classList.toggle('rev', th.dataset.sort === sortKey && sortRev);
    }
    const body = document.querySelector('#cts tbody');
    const want = shown.map((c) => { const tr = rowFor(c); fillRow(tr, c); return tr; });
    // put rows in order, moving only what moved
    want.forEach((tr, i) => { if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null); });
    while (body.children.length > want.length) body.removeChild(body.lastChild);
    $('count').textContent = shown.length === containers.length ? containers.length + ' containers'
      : shown.length + ' of ' + containers.length + ' containers';
  }

  function addPoint(vmid, t, cpu, mem, psi) {
    let s = spark.get(vmid);
    if (!s) spark.set(vmid, s = { t: 0, cpu: [], mem: [], psi: [] });
    if (t && t <= s.t) return;
    s.t = t;
    pushBounded(s.cpu, cpu, SPARK_POINTS);
    pushBounded(s.mem, mem, SPARK_POINTS);
    pushBounded(s.psi, psi, SPARK_POINTS);
  }

  /* Once: each container's last minutes from its history, a few requests at a time. */
  async function backfill(list) {
    backfilled = true;
    const todo = list.slice(0, BACKFILL_MAX).map((c) => c.vmid);
    const worker = async () => {
      while (todo.length) {
        const vmid = todo.shift();
        const r = await api('/api/v1/containers/' + vmid);
        if (!r.ok || !r.json || !r.json.history || spark.has(vmid) && spark.get(vmid).cpu.length > 2) continue;
        const h = r.json.history.slice(-SPARK_POINTS);
        spark.delete(vmid);
        for (const p of h) addPoint(vmid, p.time_ms, p.cpu_pct, p.mem_pct, Math.max(p.cpu_psi_some_avg10, p.mem_psi_some_avg10));
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    renderTable();
  }

  function renderBudget(h) {
    const b = h.budget;
    const bar = (id, used, total, reserve, unit, digits) => {
      const fill = $(id).querySelector('.fill');
      const cap = total > 0 ? total + reserve : Math.max(used, 1);
      fill.style.width = Math.min(100, (used / cap) * 100) + '%';
      let r = $(id).querySelector('.reserve');
      if (reserve > 0 && total > 0) {
        if (!r) $(id).appendChild(r = el('div', 'reserve'));
        r.style.width = (reserve / cap) * 100 + '%';
      } else if (r) r.remove();
      $(id + '-text').textContent = fmt(used, digits) + ' of ' + (total > 0 ? fmt(total, digits) : 'unlimited') + ' ' + unit +
        ' granted' + (reserve > 0 ? ', ' + fmt(reserve, digits) + ' ' + unit + ' reserved for the host' : '');
    };
    bar('bar-cpu', b.cores_allocated, b.cores_total, b.reserve_cores, 'cores', 2);
    bar('bar-mem', b.memory_allocated_mb, b.memory_total_mb, b.reserve_memory_mb, 'MiB', 0);
    $('host-text').textContent = 'host: ' + h.cpus + ' CPUs, ' + fmt(h.memory_mb, 0) + ' MiB · ' + h.containers +
      ' containers · ' + (h.dry_run ? 'dry run: decisions are only logged' : 'live') +
      ' · BPF ' + (h.bpf ? 'on' : 'off');
  }

  async function pollHost() {
    const [h, l] = await Promise.all([api('/api/v1/host'), api('/api/v1/containers')]);
    if (h.ok && h.json) renderBudget(h.json);
    if (!l.ok || !l.json) {
      setConn(false, (l.json && l.json.message) || 'HTTP ' + l.status);
      return;
    }
    containers = l.json.containers || [];
    const present = new Set();
    for (const c of containers) {
      present.add(c.vmid);
      addPoint(c.vmid, c.updated_ms, c.usage.cpu_pct, c.usage.memory_pct,
        Math.max(c.pressure.cpu_some_avg10, c.pressure.memory_some_avg10));
    }
    for (const vmid of [...spark.keys()]) if (!present.has(vmid)) { spark.delete(vmid); rows.delete(vmid); }
    renderTable();
    if (!backfilled) backfill(containers);
  }

  /* ---- the decision feed (host view) and live events -------------------------------- */

  function feedItem(d) {
    const li = el('li');
    li.dataset.seq = d.seq;
    li.appendChild(el('b', '', new Date(d.time_ms).toLocaleTimeString() + ' · ' + d.vmid + ' '));
    li.appendChild(outcomeSpan(d.outcome));
    li.appendChild(document.createTextNode(' ' + change(d) + ' · ' + d.reason + ' · confidence ' + fmt(d.confidence, 1) + ' %'));
    li.appendChild(el('span', 'detail', d.detail));
    return li;
  }
  function addFeed(list, d, max) {
    if (list.querySelector('li[data-seq="' + d.seq + '"]')) return;
    list.insertBefore(feedItem(d), list.firstChild);
    while (list.children.length > max) list.removeChild(list.lastChild);
  }

  let eventsAbort = null;
  async function startEvents() {
    if (eventsAbort) eventsAbort.abort();
    const ac = eventsAbort = new AbortController();
    const headers = {};
    const key = sessionStorage.getItem(KEY_STORE);
    if (key) headers['X-API-Key'] = key;
    try {
      const r = await fetch('/api/v1/events', { headers, signal: ac.signal, cache: 'no-store' });
      if (r.status === 401 || r.status === 403) return; // the polls ask for the key
      if (!r.ok || !r.body) throw new Error('HTTP ' + r.status);
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let at;
        while ((at = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, at);
          buf = buf.slice(at + 2);
          onEventBlock(block);
        }
        if (buf.length > 65536) buf = ''; // never a real event: drop it rather than grow
      }
    } catch (e) {
      if (ac.signal.aborted) return;
    }
    if (!ac.signal.aborted) setTimeout(startEvents, 3000);
  }

  function onEventBlock(block) {
    let type = 'message', data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) type = line.slice(6).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trim();
    }
    if (type !== 'decision' || !data) return;
    let ev;
    try { ev = JSON.parse(data); } catch (e) { return; }
    const d = ev.decision;
    if (!d) return;
    addFeed($('feed'), d, FEED_MAX);
    if (ct.vmid === d.vmid) {
      addCtDecision(d);
      redrawCharts();
    }
  }

  /* ---- container view --------------------------------------------------------------- */

  const ct = { vmid: 0, history: [], decisions: [], plots: [], threshold: null, lastDecPoll: 0, info: null };

  function addCtDecision(d) {
    if (ct.decisions.some((x) => x.seq === d.seq)) return;
    ct.decisions.push(d);
    ct.decisions.sort((a, b) => a.seq - b.seq);
    if (ct.decisions.length > CT_DECISIONS_MAX) ct.decisions.splice(0, ct.decisions.length - CT_DECISIONS_MAX);
    addFeed($('ct-decisions'), d, CT_DECISIONS_MAX);
  }

  /* Which charts a decision belongs on: CPU changes on the CPU chart, memory on memory,
   * every decision on pressure and score (it was decided from those). */
  function touches(d, chart) {
    if (chart === 'cpu' || chart === 'runq') return d.cpu.change !== 'none';
    if (chart === 'memory') return d.memory.change !== 'none';
    return true;
  }

  function tipHtml(d) {
    const t = el('div');
    t.appendChild(el('b', '', 'decision ' + d.seq + ' · ' + new Date(d.time_ms).toLocaleTimeString()));
    t.appendChild(el('div', '', d.outcome + (d.enforced ? ' (in force)' : ' (not in force)')));
    t.appendChild(el('div', '', change(d)));
    t.appendChild(el('div', '', 'reason: ' + d.reason + ' · confidence ' + fmt(d.confidence, 1) + ' %'));
    if (d.top_features && d.top_features.length)
      t.appendChild(el('div', '', 'top features: ' + d.top_features.map((f) => f.name + ' ' + fmt(f.share * 100, 0) + ' %').join(', ')));
    t.appendChild(el('div', '', d.detail));
    return t;
  }

  function markersPlugin(chart, node) {
    return {
      hooks: {
        draw: [(u) => {
          const g = u.ctx, x0 = u.scales.x.min, x1 = u.scales.x.max;
          let n = 0;
          g.save();
          for (const d of ct.decisions) {
            const t = d.time_ms / 1000;
            if (t < x0 || t > x1 || !touches(d, chart)) continue;
            const x = Math.round(u.valToPos(t, 'x', true));
            g.strokeStyle = g.fillStyle = OUTCOME_COLOUR[d.outcome] || '#444';
            g.lineWidth = 2;
            g.setLineDash([5, 4]);
            g.beginPath();
            g.moveTo(x, u.bbox.top);
            g.lineTo(x, u.bbox.top + u.bbox.height);
            g.stroke();
            g.setLineDash([]);
            g.beginPath();
            g.moveTo(x - 6, u.bbox.top);
            g.lineTo(x + 6, u.bbox.top);
            g.lineTo(x, u.bbox.top + 10);
            g.closePath();
            g.fill();
            n++;
          }
          g.restore();
          node.dataset.markers = n;
        }],
        setCursor: [(u) => {
          const tip = $('tip');
          if (u.cursor.left == null || u.cursor.left < 0) { tip.hidden = true; return; }
          let best = null, bestDx = 9;
          for (const d of ct.decisions) {
            if (!touches(d, chart)) continue;
            const dx = Math.abs(u.valToPos(d.time_ms / 1000, 'x') - u.cursor.left);
            if (dx < bestDx) { best = d; bestDx = dx; }
          }
          if (!best) { tip.hidden = true; return; }
          tip.textContent = '';
          tip.appendChild(tipHtml(best));
          const r = u.over.getBoundingClientRect();
          tip.style.left = (window.scrollX + r.left + u.cursor.left + 12) + 'px';
          tip.style.top = (window.scrollY + r.top + 8) + 'px';
          tip.hidden = false;
        }],
      },
    };
  }

  const CHARTS = [
    { id: 'chart-cpu', chart: 'cpu', title: 'CPU: used vs limit (cores)',
      series: [{ label: 'used', stroke: '#2166ac', fill: 'rgba(33,102,172,.12)' }, { label: 'limit (cpu.max)', stroke: '#777', dash: [6, 3] }],
      data: (h) => [h.map((p) => p.cores * p.cpu_pct / 100), h.map((p) => p.cores)] },
    { id: 'chart-mem', chart: 'memory', title: 'Memory: used vs limit (MiB)',
      series: [{ label: 'used', stroke: '#7b3294', fill: 'rgba(123,50,148,.12)' }, { label: 'limit (memory.max)', stroke: '#777', dash: [6, 3] },
        { label: 'memory.high', stroke: '#d98e04', dash: [2, 3] }],
      data: (h) => [h.map((p) => p.memory_mb * p.mem_pct / 100), h.map((p) => p.memory_mb),
        h.map((p) => (p.memory_high_mb > 0 ? p.memory_high_mb : null))] },
    { id: 'chart-psi', chart: 'pressure', title: 'Pressure: PSI avg10 (%)',
      series: [{ label: 'cpu some', stroke: '#e66101' }, { label: 'cpu full', stroke: '#e66101', dash: [3, 3] },
        { label: 'memory some', stroke: '#5e3c99' }, { label: 'memory full', stroke: '#5e3c99', dash: [3, 3] }],
      data: (h) => [h.map((p) => p.cpu_psi_some_avg10), h.map((p) => p.cpu_psi_full_avg10),
        h.map((p) => p.mem_psi_some_avg10), h.map((p) => p.mem_psi_full_avg10)] },
    { id: 'chart-runq', chart: 'runq', title: 'Run-queue wait p99 (µs, from BPF; 0 when BPF is off)',
      series: [{ label: 'p99 of each second', stroke: '#b2182b' }],
      data: (h) => [h.map((p) => p.runq_p99_us)] },
    { id: 'chart-score', chart: 'score', title: 'Anomaly score (lower: more unusual)',
      series: [{ label: 'score', stroke: '#1b7837' }, { label: 'model threshold', stroke: '#c0392b', dash: [4, 4] }],
      data: (h) => [h.map((p) => p.anomaly_score), h.map(() => ct.threshold)] },
  ];

  function chartData(spec) {
    const h = ct.history;
    return [h.map((p) => p.time_ms / 1000), ...spec.data(h)];
  }

  function buildCharts() {
    for (const p of ct.plots) p.destroy();
    ct.plots = [];
    for (const spec of CHARTS) {
      const node = $(spec.id);
      node.textContent = '';
      const width = Math.max(300, node.clientWidth - 16);
      const opts = {
        title: spec.title, width, height: 200,
        series: [{}, ...spec.series.map((s) => Object.assign({ width: 1.5, points: { show: false } }, s))],
        scales: { x: { time: true } },
        axes: [{}, { size: 60 }],
        plugins: [markersPlugin(spec.chart, node)],
        legend: { live: false },
      };
      ct.plots.push(new uPlot(opts, chartData(spec), node));
    }
  }

  function redrawCharts() {
    if (!ct.plots.length) return;
    CHARTS.forEach((spec, i) => ct.plots[i].setData(chartData(spec)));
  }

  function renderFacts(c) {
    $('ct-title').textContent = c.vmid + (c.name ? ' · ' + c.name : '');
    $('crumb').textContent = '› container ' + c.vmid;
    const parts = ['limits ' + fmt(c.limits.cores, 2) + ' cores, ' + c.limits.memory_mb + ' MiB',
      'CPU ' + fmt(c.usage.cpu_pct, 1) + ' %', 'memory ' + fmt(c.usage.memory_pct, 1) + ' %',
      'PSI cpu ' + fmt(c.pressure.cpu_some_avg10, 2) + ' / memory ' + fmt(c.pressure.memory_some_avg10, 2),
      'run-queue p99 ' + fmt(c.pressure.runq_p99_us, 0) + ' µs',
      c.tier ? 'tier ' + c.tier : 'global scaling'];
    if (c.ignored) parts.push(c.ignored_by === 'tag' ? 'ignored: its Proxmox tag' : 'ignored: ignore_lxc');
    $('ct-facts').textContent = parts.join(' · ');
  }

  async function pollCt() {
    const vmid = ct.vmid;
    const r = await api('/api/v1/containers/' + vmid);
    if (vmid !== ct.vmid) return;
    if (!r.ok || !r.json) {
      $('ct-title').textContent = vmid;
      $('ct-facts').textContent = (r.json && r.json.message) || 'HTTP ' + r.status;
      return;
    }
    ct.info = r.json;
    ct.history = r.json.history || [];
    renderFacts(r.json);
    const now = Date.now();
    if (now - ct.lastDecPoll >= CT_DECISIONS_POLL_MS) {
      ct.lastDecPoll = now;
      const d = await api('/api/v1/decisions?vmid=' + vmid + '&limit=' + CT_DECISIONS_MAX + '&newest=true');
      if (d.ok && d.json && vmid === ct.vmid) for (const x of d.json.decisions || []) addCtDecision(x);
    }
    if (ct.threshold === null) {
      const m = await api('/api/v1/model');
      ct.threshold = m.ok && m.json && typeof m.json.threshold === 'number' ? m.json.threshold : NaN;
    }
    if (!ct.plots.length) buildCharts(); else redrawCharts();
  }

  function showResult(text, kind) {
    const p = $('scale-result');
    p.textContent = text;
    p.className = 'result ' + kind;
  }

  /* The daemon's answer to a change, in the CLI's words: outcome, change, in force or not. */
  function reportAnswer(r, what) {
    if (r.ok && r.json && r.json.decision) {
      const d = r.json.decision;
      addCtDecision(d);
      redrawCharts();
      showResult(what + ': ' + d.outcome + ': ' + change(d) + (d.enforced ? ' (in force)' : ' (NOT in force)') +
        (d.detail ? ' — ' + d.detail : ''), d.outcome === 'applied' || d.outcome === 'shrinking' ? 'ok' : 'warn');
    } else {
      const j = r.json || {};
      const why = j.message || 'HTTP ' + r.status;
      const errs = Array.isArray(j.errors) ? ': ' + j.errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('; ') : '';
      showResult(what + ' refused (HTTP ' + r.status + (j.error ? ', ' + j.error : '') + '): ' + why + errs, 'bad');
    }
  }

  $('scale-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { persist: $('scale-persist').checked };
    if ($('scale-force').checked) body.force = true;
    const cores = parseFloat($('scale-cores').value), mem = parseInt($('scale-mem').value, 10);
    if (isFinite(cores)) body.cores = cores;
    if (isFinite(mem)) body.memory_mb = mem;
    if (body.cores === undefined && body.memory_mb === undefined) {
      showResult('give cores, memory or both', 'bad');
      return;
    }
    showResult('…', '');
    try { reportAnswer(await api('/api/v1/containers/' + ct.vmid + '/limits', { method: 'POST', body }), 'scale'); } catch (e) { /* login shown */ }
  });

  /* Undo the container's last decision that changed something, as `lxcscale undo
   * --container ID` does: refused when the container no longer has what it set. */
  $('undo-go').addEventListener('click', async () => {
    const took = (d) => d.outcome === 'applied' || d.outcome === 'shrinking' || d.outcome === 'persist-only';
    const last = [...ct.decisions].reverse().find(took);
    if (!last) { showResult('undo: no decision of this container changed anything', 'bad'); return; }
    const c = ct.info;
    const cpu = last.cpu.change !== 'none', mem = last.memory.change !== 'none';
    if (c && ((cpu && Math.abs(c.limits.cores - last.cpu.to) > 0.005) || (mem && Math.abs(c.limits.memory_mb - last.memory.to_mb) > 0.5))) {
      showResult('undo refused: the container changed since decision ' + last.seq + ' (it has ' + c.limits.cores +
        ' cores, ' + c.limits.memory_mb + ' MiB; the decision set ' + last.cpu.to + ' cores, ' + last.memory.to_mb + ' MiB)', 'bad');
      return;
    }
    const body = { note: 'undo of decision ' + last.seq, persist: true };
    if (cpu) body.cores = last.cpu.from;
    if (mem) body.memory_mb = last.memory.from_mb;
    try { reportAnswer(await api('/api/v1/containers/' + ct.vmid + '/limits', { method: 'POST', body }), 'undo of decision ' + last.seq); } catch (e) { /* login shown */ }
  });

  /* ---- routing ---------------------------------------------------------------------- */

  function route() {
    const m = location.hash.match(/^#\/ct\/(\d{3,9})$/);
    $('login').hidden = true;
    $('tip').hidden = true;
    if (m) {
      $('host-view').hidden = true;
      $('ct-view').hidden = false;
      const vmid = parseInt(m[1], 10);
      if (vmid !== ct.vmid) {
        for (const p of ct.plots) p.destroy();
        Object.assign(ct, { vmid, history: [], decisions: [], plots: [], lastDecPoll: 0, info: null });
        $('ct-decisions').textContent = '';
        $('scale-result').textContent = '';
      }
      startPolling(pollCt, CT_POLL_MS);
    } else {
      ct.vmid = 0;
      $('crumb').textContent = '';
      $('ct-view').hidden = true;
      $('host-view').hidden = false;
      startPolling(pollHost, HOST_POLL_MS);
    }
  }

  window.addEventListener('hashchange', route);
  window.addEventListener('resize', () => { if (ct.vmid && ct.plots.length) buildCharts(); });

  async function loadFeed() {
    try {
      const r = await api('/api/v1/decisions?limit=20&newest=true');
      if (r.ok && r.json) for (const d of r.json.decisions || []) addFeed($('feed'), d, FEED_MAX);
    } catch (e) { /* login shown */ }
  }

  route();
  loadFeed();
  startEvents();
})();
