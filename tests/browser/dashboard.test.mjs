// The dashboard in real headless Chromium against a real perfwatch daemon: loads without
// console errors, draws the history on load, every panel renders, the numbers shown are
// the latest snapshot's, a new snapshot updates them, the controls work from the
// keyboard; screenshots (light and dark) go to build/browser/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
	Daemon, launchBrowser, watchErrors, watchSnapshots, waitFor, sleep, readShown, compareShown,
	readChartPixels, blankCharts, paintedChartPixels, artifactPath,
} from './harness.mjs';

const HISTORY_SECONDS = 10; // the daemon runs this long before the page opens
const RANGE = 300;

const state = (page) => page.evaluate(() => document.getElementById('conn').dataset.state);
const seq = (page) => page.evaluate(() => document.body.dataset.seq);

async function nextSnapshot(page) {
	const before = await seq(page);
	await waitFor(async () => (await seq(page)) !== before, { what: 'a new snapshot on the page' });
	// let the frame that draws it run
	await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

async function showEverything(page) {
	const height = await page.evaluate(() => document.documentElement.scrollHeight);
	await page.setViewportSize({ width: page.viewportSize().width, height });
	await nextSnapshot(page);
}

describe('dashboard against a running daemon', () => {
	let daemon;
	let browser;
	let page;
	let errors;
	let snaps;
	const historyStatus = [];

	before(async () => {
		daemon = await new Daemon({ interval: 0.5 }).start();
		await sleep(HISTORY_SECONDS * 1000);
		browser = await launchBrowser({ width: 1280, height: 900 });
		page = await browser.context.newPage();
		errors = watchErrors(page);
		snaps = watchSnapshots(page);
		page.on('response', (r) => {
			if (new URL(r.url()).pathname === '/api/history') historyStatus.push(r.status());
		});
		await page.goto(daemon.url('/', { range: RANGE, theme: 'light' }));
		await waitFor(async () => (await state(page)) === 'live' && (await seq(page)) !== undefined, { what: 'the page to go live' });
	});

	after(async () => {
		if (browser) await browser.close();
		if (daemon) await daemon.close();
	});

	it('draws the history on load', async () => {
		await waitFor(() => page.evaluate(() => window.__pw.historyLoads > 0), { what: 'history to load' });
		assert.ok(historyStatus.length > 0 && historyStatus.every((s) => s === 200), `history answers: ${historyStatus}`);
		await showEverything(page);
		const charts = await page.evaluate(() => [...window.__pw.charts]
			.filter((c) => ['cpu-states', 'memory-use'].includes(c.spec && c.spec.id))
			.map((c) => ({ id: c.spec.id, fromHistory: c.liveFrom, oldest: c.t[0], firstLive: c.t[c.liveFrom] })));
		assert.equal(charts.length, 2, 'the CPU and memory charts exist');
		for (const c of charts) {
			// 0.5 s snapshots for HISTORY_SECONDS before the page opened
			assert.ok(c.fromHistory >= HISTORY_SECONDS, `${c.id}: ${c.fromHistory} points came from history`);
			assert.ok(c.firstLive - c.oldest >= HISTORY_SECONDS * 0.7, `${c.id}: history reaches back ${c.firstLive - c.oldest} s`);
		}
		const px = await readChartPixels(page);
		for (const id of ['cpu-states', 'memory-use']) {
			const c = px.find((p) => p.id === id);
			const expected = (HISTORY_SECONDS / RANGE) * c.plotWidth;
			assert.ok(c.width >= expected * 0.7, `${id}: drawn over ${c.width} px, history alone spans ${expected.toFixed(0)} px`);
		}
	});

	it('renders every panel', async () => {
		await showEverything(page);
		const latest = await page.evaluate(() => window.__pw.latest);
		const panels = await page.evaluate(() => [...document.querySelectorAll('#panels > section')].map((s) => ({
			id: s.id,
			calm: (s.querySelector('[data-calm]') || {}).textContent || '',
			charts: [...s.querySelectorAll('figure.chart')].map((f) => f.dataset.chart),
		})));
		assert.deepEqual(panels.map((p) => p.id), ['cpu', 'memory', 'network', 'disk', 'perf', 'bpf', 'self']);
		const px = await paintedChartPixels(page);
		assert.deepEqual(blankCharts(px), [], 'charts with data have their series drawn');
		for (const p of panels) {
			const section = latest[p.id];
			if (p.id === 'perf') {
				assert.ok(p.charts.length > 0);
				continue;
			}
			if (section === null || (p.id === 'bpf' && section === undefined)) {
				assert.notEqual(p.calm.trim(), '', `${p.id} is null and says why`);
				continue;
			}
			const drawn = px.filter((c) => p.charts.includes(c.id) && c.hasData && c.drawn > 0);
			assert.ok(drawn.length > 0, `${p.id}: at least one chart drawn (${JSON.stringify(px.filter((c) => p.charts.includes(c.id)))})`);
		}
		// the per-core heat strip, whenever the snapshot has cores
		if (latest.cpu && latest.cpu.per_core.length) {
			const heat = px.find((c) => c.id === 'cpu-per-core');
			assert.ok(heat && heat.drawn >= latest.cpu.per_core.length, 'per-core heat strip painted');
		}
	});

	it('shows the numbers of the latest snapshot', async () => {
		const shown = await readShown(page);
		const snap = snaps.bySeq.get(Number(shown.seq));
		assert.ok(snap, `snapshot ${shown.seq} was received on the WebSocket`);
		const { problems, checked } = compareShown(shown.items, snap);
		assert.deepEqual(problems, []);
		assert.ok(checked >= 20, `${checked} numbers checked`);
		const host = await page.textContent('#host');
		assert.equal(host, snap.hostname);
	});

	it('updates the numbers on a new snapshot', async () => {
		const first = await readShown(page);
		await nextSnapshot(page);
		const second = await readShown(page);
		assert.ok(Number(second.seq) > Number(first.seq));
		const snap = snaps.bySeq.get(Number(second.seq));
		const { problems } = compareShown(second.items, snap);
		assert.deepEqual(problems, []);
		const changed = second.items.filter((it, i) => first.items[i] && first.items[i].value !== it.value);
		assert.ok(changed.length > 0, 'some values changed between snapshots');
		const age = await page.textContent('#age');
		assert.match(age, /^updated [\d.]+ s ago/);
	});

	it('shows exact values under the cursor', async () => {
		await page.setViewportSize({ width: 1280, height: 900 });
		const over = page.locator('[data-chart="cpu-states"] .u-over');
		await over.scrollIntoViewIfNeeded();
		const box = await over.boundingBox();
		await page.mouse.move(box.x + box.width - 3, box.y + box.height / 2);
		const tip = page.locator('[data-chart="cpu-states"] .tip');
		await waitFor(() => tip.isVisible(), { what: 'the tooltip' });
		const text = await tip.textContent();
		for (const state of ['user', 'system', 'iowait', 'irq', 'softirq']) assert.match(text, new RegExp(`${state}: ([\\d.,]+ %|—)`));
		await page.mouse.move(0, 0);
	});

	it('switches range and theme from the keyboard', async () => {
		await page.setViewportSize({ width: 1280, height: 900 });
		await page.evaluate(() => window.scrollTo(0, 0));
		await page.focus('[data-range="3600"]');
		await page.keyboard.press('Enter');
		await waitFor(() => page.evaluate(() => window.__pw.range === 3600), { what: 'range 1 h' });
		assert.equal(await page.getAttribute('[data-range="3600"]', 'aria-pressed'), 'true');
		assert.equal(await page.getAttribute('[data-range="300"]', 'aria-pressed'), 'false');
		assert.match(page.url(), /range=3600/);
		// Tab order: the range buttons, then the theme switch
		await page.focus('[data-range="604800"]');
		await page.keyboard.press('Tab');
		assert.equal(await page.evaluate(() => document.activeElement.id), 'theme');
		await page.focus('[data-range="300"]');
		await page.keyboard.press('Space');
		await waitFor(() => page.evaluate(() => window.__pw.range === 300), { what: 'range 5 m' });
		// charts and heatmaps carry labels
		const unlabelled = await page.evaluate(() => [...document.querySelectorAll('#panels [role="img"]')].filter((e) => !e.getAttribute('aria-label')).length);
		assert.equal(unlabelled, 0);
	});

	it('saves screenshots, light and dark', async () => {
		await showEverything(page);
		await page.screenshot({ path: artifactPath('dashboard-light.png'), fullPage: true });
		const lightBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
		await page.focus('#theme');
		await page.keyboard.press('Enter');
		await waitFor(() => page.evaluate(() => document.documentElement.dataset.theme === 'dark'), { what: 'dark theme' });
		assert.equal(await page.getAttribute('#theme', 'aria-pressed'), 'true');
		await showEverything(page);
		const darkBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
		assert.notEqual(darkBg, lightBg);
		const px = await paintedChartPixels(page);
		assert.deepEqual(blankCharts(px), [], 'charts drawn again in the dark theme');
		await page.screenshot({ path: artifactPath('dashboard-dark.png'), fullPage: true });
		await page.setViewportSize({ width: 2200, height: 1200 });
		await showEverything(page);
		await page.screenshot({ path: artifactPath('dashboard-wide-dark.png'), fullPage: true });
	});

	it('had no console errors', () => {
		assert.deepEqual(errors, []);
	});
});
