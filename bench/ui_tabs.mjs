/*
 * bench/ui_tabs.mjs — opens UI_TABS headless chromium tabs on the dashboard at UI_URL, on
 * the host view (UI_MODE=host) or on container views (UI_MODE=ct, containers 1000..), keeps
 * them open UI_SECONDS and prints "heap START -> END" (the tabs' mean JS heap, MiB). For
 * bench/ui.sh.
 */
import { chromium } from '../ui/node_modules/playwright-core/index.mjs';

const env = process.env;
const tabs = Number(env.UI_TABS || 5), seconds = Number(env.UI_SECONDS || 60);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--enable-precise-memory-info'] });
const pages = [];
for (let i = 0; i < tabs; i++) {
  const p = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await p.goto(env.UI_URL + '/ui/' + (env.UI_MODE === 'ct' ? '#/ct/' + (1000 + i) : '#/'));
  pages.push(p);
}
const heap = async () => {
  let s = 0;
  for (const p of pages) s += await p.evaluate(() => performance.memory.usedJSHeapSize);
  return s / pages.length / 1048576;
};
await new Promise((r) => setTimeout(r, 8000));
const h0 = await heap();
await new Promise((r) => setTimeout(r, Math.max(0, seconds - 12) * 1000));
const h1 = await heap();
console.log('heap ' + h0.toFixed(1) + ' -> ' + h1.toFixed(1));
await browser.close();
