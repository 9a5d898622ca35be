#!/usr/bin/env node
// Opens an ablate report (a file, or a dashboard's URL) in headless Chromium and says what it saw.
//
//   node tests/browser/page.mjs URL_OR_FILE --screenshot OUT.png [--wait-for-epochs RUN_ID=N]
//                               [--timeout MS]
//
// Prints one JSON object on stdout:
//   {"console_errors": [...], "external_requests": [...], "report": window.ablateReport.summary(),
//    "screenshot": path, "screenshot_bytes": N,
//    "initial": summary() as soon as the page was ready (before --wait-for-epochs waited),
//    "navigations": how many times the page loaded (1 unless something reloaded it)}
// plus "error" when something went wrong on the way (the page never became ready, a wait timed
// out). Exits 0 whenever it printed that object: the caller judges. Exits 2 on a usage error,
// 1 when the browser cannot be started at all.
//
// An "external request" is any request whose URL is not file:, data:, blob: or
// http://127.0.0.1:<port>: a report must open from disk with no network. They are recorded and
// aborted. Uses playwright-core (tools/web, `npm ci` there) driving /usr/bin/chromium (Debian's
// chromium package), or $ABLATE_CHROMIUM.
import { createRequire } from 'node:module';
import { statSync, existsSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const webDir = process.env.ABLATE_WEB_DIR || resolve(here, '../../tools/web');
const CHROMIUM = process.env.ABLATE_CHROMIUM || '/usr/bin/chromium';

function usage(message) {
  process.stderr.write(`page.mjs: ${message}\n` +
    'usage: node tests/browser/page.mjs URL_OR_FILE --screenshot OUT.png ' +
    '[--wait-for-epochs RUN_ID=N] [--timeout MS]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const out = { target: null, screenshot: null, waitFor: null, timeout: 60000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--screenshot') out.screenshot = value();
    else if (a === '--timeout') {
      out.timeout = Number(value());
      if (!Number.isFinite(out.timeout) || out.timeout <= 0) usage('--timeout takes milliseconds');
    } else if (a === '--wait-for-epochs') {
      const m = /^(.+)=(\d+)$/.exec(value());
      if (!m) usage('--wait-for-epochs takes RUN_ID=N');
      out.waitFor = { id: m[1], epochs: Number(m[2]) };
    } else if (a === '-h' || a === '--help') usage('help');
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else if (out.target == null) out.target = a;
    else usage(`unexpected argument ${a}`);
  }
  if (!out.target) usage('give a report file or a URL');
  if (!out.screenshot) usage('--screenshot OUT.png is required');
  return out;
}

function targetUrl(target) {
  if (/^(https?|file):\/\//.test(target)) return target;
  const path = resolve(target);
  if (!existsSync(path)) usage(`${target} does not exist`);
  return pathToFileURL(path).href;
}

function isLocal(url) {
  return /^(file|data|blob):/.test(url) || /^http:\/\/127\.0\.0\.1(:\d+)?(\/|$)/.test(url) ||
         url === 'about:blank';
}

const args = parseArgs(process.argv.slice(2));
const url = targetUrl(args.target);
const result = {
  console_errors: [], external_requests: [], report: null,
  screenshot: resolve(args.screenshot), screenshot_bytes: 0, initial: null, navigations: 0,
};
const problems = [];

let chromium;
try {
  ({ chromium } = createRequire(resolve(webDir, 'package.json'))('playwright-core'));
} catch (e) {
  result.error = `cannot load playwright-core from ${webDir} (run npm ci there): ${e.message}`;
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(1);
}

let browser;
try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
} catch (e) {
  result.error = `cannot start ${CHROMIUM}: ${e.message.split('\n')[0]}`;
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(1);
}

const deadline = Date.now() + args.timeout;
const left = () => Math.max(1000, deadline - Date.now());

try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') result.console_errors.push(m.text()); });
  page.on('pageerror', (e) => result.console_errors.push(`page error: ${e.message}`));
  page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) result.navigations++; });
  page.on('request', (r) => {
    const u = r.url();
    if (!isLocal(u) && !result.external_requests.includes(u)) result.external_requests.push(u);
  });
  // Nothing leaves the machine: external requests are recorded above and aborted here.
  await context.route((u) => !isLocal(u.href), (route) => route.abort('blockedbyclient'));

  await page.goto(url, { waitUntil: 'load', timeout: left() });
  try {
    await page.waitForFunction(() => window.ablateReport && window.ablateReport.ready === true, null,
                               { timeout: left(), polling: 100 });
  } catch (e) {
    problems.push(`the page never set window.ablateReport.ready (${e.message.split('\n')[0]})`);
  }
  const summarize = () => page.evaluate(() =>
    window.ablateReport && typeof window.ablateReport.summary === 'function' ? window.ablateReport.summary() : null);
  if (!problems.length) {
    try {
      result.initial = await summarize();
    } catch (e) {
      problems.push(`summary() failed: ${e.message.split('\n')[0]}`);
    }
  }
  if (args.waitFor && !problems.length) {
    try {
      // The dashboard updates in place: poll the summary, never reload.
      await page.waitForFunction(({ id, epochs }) => {
        const s = window.ablateReport.summary();
        return s.sources.some((src) => src.type === 'run' && src.id === id && src.epochs >= epochs);
      }, args.waitFor, { timeout: left(), polling: 250 });
    } catch (e) {
      problems.push(`run ${args.waitFor.id} did not reach ${args.waitFor.epochs} epochs in time ` +
                    `(${e.message.split('\n')[0]})`);
    }
  }
  try {
    result.report = await summarize();
  } catch (e) {
    problems.push(`summary() failed: ${e.message.split('\n')[0]}`);
  }
  // Let uPlot finish any redraw (a live update, a resize) before the picture.
  await page.evaluate(() => new Promise((r) => { requestAnimationFrame(() => requestAnimationFrame(r)); setTimeout(r, 500); }));
  await page.screenshot({ path: result.screenshot, fullPage: true, timeout: Math.max(left(), 30000) });
  result.screenshot_bytes = statSync(result.screenshot).size;
} catch (e) {
  problems.push(e.message.split('\n')[0]);
} finally {
  await browser.close().catch(() => {});
}

if (problems.length) result.error = problems.join('; ');
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(0);
