/*
 * tests/ui/dashboard.mjs — the dashboard in a real browser: Debian's chromium, headless,
 * driven by playwright-core (ui/package.json), against the real lxcscaled that
 * tests/integration/ui_browser.sh started with test cgroups and the stand-in pct.
 *
 * Prints one "ok - ..." or "FAIL - ..." line per check (the shell counts them) and
 * "info - ..." lines with figures. Environment (set by ui_browser.sh):
 *   UI_URL        the open daemon's base URL (authentication off)
 *   UI_AUTH_URL   a second daemon with authentication on, and UI_KEY its key
 *   UI_CG         the test cgroup root (containers 101.. below it)
 *   UI_PVE        the stand-in pct's folder (<vmid>.conf)
 *   UI_BURNER     tests/tools/cpu_burner
 *   UI_REPORT     a `lxcscale replay --html` file, UI_REPORT_TRACES its number of traces
 *   UI_SHOTS      where to write the screenshots (host.png, container.png, report.png)
 */
import { chromium } from '../../ui/node_modules/playwright-core/index.mjs';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const env = process.env;
const ok = (m) => console.log('ok - ' + m);
const bad = (m) => console.log('FAIL - ' + m);
const info = (m) => console.log('info - ' + m);
const check = (cond, m, why) => (cond ? ok(m) : bad(m + (why ? ': ' + why : '')));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const conf = (vmid, key) => {
  const m = readFileSync(`${env.UI_PVE}/${vmid}.conf`, 'utf8').match(new RegExp('^' + key + ': (.*)$', 'm'));
  return m ? m[1] : null;
};
async function until(fn, ms) {
  const end = Date.now() + ms;
  for (;;) {
    try { const v = await fn(); if (v) return v; } catch (e) { /* not yet */ }
    if (Date.now() > end) return null;
    await sleep(100);
  }
}

const browser = await chromium.launch({ executablePath: env.UI_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });

/* Every console error and uncaught exception fails the page it happened on (a CSP
 * violation is a console error too). */
function watch(page, name) {
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  return () => check(errors.length === 0, `${name}: no console errors or exceptions`, errors.slice(0, 3).join(' | '));
}

let burner = null;
try {
  /* ---- the host view ---- */
  const page = await context.newPage();
  const noErrors = watch(page, 'dashboard');
  const resp = await page.goto(env.UI_URL + '/ui/');
  check(resp.status() === 200, 'GET /ui/ answers 200', 'HTTP ' + resp.status());
  const csp = resp.headers()['content-security-policy'] || '';
  check(/script-src 'self'/.test(csp) && /default-src 'none'/.test(csp) && !/unsafe-inline/.test(csp),
    'the page comes with a strict Content-Security-Policy', csp);
  const rows = await until(async () => {
    const ids = await page.$$eval('#cts tbody tr', (trs) => trs.map((t) => t.dataset.vmid));
    return ['101', '102', '103'].every((i) => ids.includes(i)) && ids;
  }, 15000);
  check(rows, 'the host view lists the test containers 101, 102, 103', rows ? '' : 'rows missing');
  const budget = await until(async () => (await page.textContent('#bar-cpu-text')).includes('granted') &&
    (await page.textContent('#bar-cpu-text')), 10000);
  check(budget, 'the host budget bar says what is granted of the total', budget || 'no text');
  await page.fill('#filter', '102');
  const filtered = await until(async () => {
    const ids = await page.$$eval('#cts tbody tr', (trs) => trs.map((t) => t.dataset.vmid));
    return ids.length === 1 && ids[0] === '102';
  }, 5000);
  check(filtered, 'the filter keeps only the matching container');
  await page.fill('#filter', '');
  await page.click('#cts th[data-sort="vmid"]'); // again: reversed
  const rev = await until(async () => (await page.$$eval('#cts tbody tr', (t) => t.map((x) => x.dataset.vmid)))[0] === '103', 5000);
  check(rev, 'sorting by VMID twice reverses the order');

  /* ---- a CPU burner in 101: a decision mark on its chart ---- */
  await page.goto(env.UI_URL + '/ui/#/ct/101');
  await until(() => page.$('#chart-cpu canvas'), 10000);
  const t0 = Date.now();
  burner = spawn(env.UI_BURNER, ['-c', `${env.UI_CG}/101`, '-t', '1', '-s', '60'], { stdio: 'ignore' });
  const marked = await until(async () => Number(await page.getAttribute('#chart-cpu', 'data-markers')) >= 1, 30000);
  check(marked, 'a CPU burner in 101 puts a decision mark on its CPU chart', 'no mark within 30 s');
  if (marked) info(`burner start -> mark on the chart: ${Date.now() - t0} ms`);
  burner.kill();
  burner = null;
  const feed = await page.textContent('#ct-decisions');
  check(/cores 1 → 2/.test(feed), "the container's decision list shows the scale-up (cores 1 → 2)", feed.slice(0, 200));
  /* hover along the chart until the tooltip shows the mark's decision */
  const box = await (await page.$('#chart-cpu .u-over')).boundingBox();
  let tip = null;
  for (let x = box.x + box.width - 2; x > box.x && !tip; x -= 3) {
    await page.mouse.move(x, box.y + box.height / 2);
    if (await page.isVisible('#tip')) tip = await page.textContent('#tip');
  }
  check(tip && /reason: /.test(tip) && /cores 1 → 2/.test(tip), "hovering the mark shows the decision's reason, change and outcome",
    tip || 'no tooltip');
  if (env.UI_SHOTS) await page.screenshot({ path: `${env.UI_SHOTS}/container.png`, fullPage: true });

  /* ---- manual scale and undo from the page ---- */
  const memBefore = conf(101, 'memory');
  await page.fill('#scale-mem', '2048');
  await page.fill('#scale-cores', '');
  await page.click('#scale-go');
  const said = await until(async () => { const t = await page.textContent('#scale-result'); return /^scale: /.test(t) && t; }, 15000);
  check(said && /memory \d+ → 2048 MiB/.test(said), 'scale from the page: the daemon\'s outcome is shown', said || 'nothing shown');
  const persisted = await until(() => conf(101, 'memory') === '2048', 10000);
  check(persisted, 'scale from the page reaches the stand-in pct (101.conf memory: 2048)', 'memory: ' + conf(101, 'memory'));
  await sleep(1200); // the container view polls its limits every second
  await page.click('#undo-go');
  const undone = await until(async () => { const t = await page.textContent('#scale-result'); return /^undo of decision \d+: /.test(t) && t; }, 15000);
  check(undone, 'undo from the page: the outcome is shown', undone || (await page.textContent('#scale-result')));
  const back = await until(() => conf(101, 'memory') === memBefore, 10000);
  check(back, `undo from the page puts 101.conf back to memory: ${memBefore}`, 'memory: ' + conf(101, 'memory'));

  await page.goto(env.UI_URL + '/ui/#/');
  await until(() => page.$$eval('#feed li', (l) => l.length >= 2), 10000);
  const live = await page.$$eval('#feed li', (l) => l.length);
  check(live >= 2, 'the host view\'s decision feed lists the decisions', live + ' entries');
  await sleep(2500); // a sparkline needs two polls
  if (env.UI_SHOTS) await page.screenshot({ path: `${env.UI_SHOTS}/host.png`, fullPage: true });
  noErrors();
  await page.close();

  /* ---- authentication on: the page asks for the key, the API refuses without it ---- */
  const ap = await context.newPage(); // its refused requests are console errors here: not watched
  const r401 = await fetch(env.UI_AUTH_URL + '/api/v1/containers');
  check(r401.status === 401, 'with authentication on, the API refuses a request without the key (401)', 'HTTP ' + r401.status);
  const asked = await ap.goto(env.UI_AUTH_URL + '/ui/').then(() => until(() => ap.isVisible('#login-form'), 10000));
  check(asked, 'without a key the page asks for it');
  await ap.fill('#login-key', 'wrong-key-0123456789');
  await ap.click('#login-form button');
  const refused = await until(async () => /refused/.test(await ap.textContent('#login-error')), 10000);
  check(refused, 'a wrong key is refused and the page says so');
  await ap.fill('#login-key', env.UI_KEY);
  await ap.click('#login-form button');
  const opened = await until(async () => (await ap.$$eval('#cts tbody tr', (t) => t.map((x) => x.dataset.vmid))).includes('201'), 15000);
  check(opened, 'with the right key the host view opens (its container 201 listed)');
  await ap.close();

  /* ---- the replay report, offline ---- */
  if (env.UI_REPORT) {
    const rp = await context.newPage();
    const noErrorsReport = watch(rp, 'replay report');
    const external = [];
    rp.on('request', (q) => { if (!q.url().startsWith('file:')) external.push(q.url()); });
    await rp.goto('file://' + env.UI_REPORT);
    const ready = await until(async () => (await rp.getAttribute('body', 'data-ready')) === '1', 20000);
    check(ready, 'the replay report draws (file://, no server)');
    const charts = Number(await rp.getAttribute('body', 'data-charts'));
    const traces = Number(env.UI_REPORT_TRACES);
    const drawn = await rp.$$eval('.chart canvas', (c) => c.length);
    check(charts >= traces && drawn >= traces, `the report draws every trace (${traces} traces, ${charts} charts)`,
      `data-charts=${charts}, canvases=${drawn}`);
    check(external.length === 0, 'the report asks for nothing from the network', external.slice(0, 3).join(' '));
    if (env.UI_SHOTS) {
      await rp.locator('.chart').nth(3).scrollIntoViewIfNeeded(); // cpu_burst: a trace with incidents
      await rp.screenshot({ path: `${env.UI_SHOTS}/report.png`, fullPage: false });
    }
    noErrorsReport();
    await rp.close();
  }
} catch (e) {
  bad('the browser test stopped: ' + (e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e));
} finally {
  if (burner) burner.kill();
  await browser.close();
}
