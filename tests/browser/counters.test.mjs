// The performance-counter panel when every event is counted. This machine has no PMU, so
// the daemon runs in its test mode (PW_TEST_SOFTWARE_EVENTS=1: software events stand in
// for the hardware ones, through the same code path): the derived ratios (IPC, cache-miss
// %, branch-miss %, MPKI) show and equal the snapshot's, their charts are drawn, all 17
// events are in the table, and the "not counted" line is gone.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, launchBrowser, watchErrors, watchSnapshots, waitFor, readShown, compareShown, blankCharts, paintedChartPixels } from './harness.mjs';

describe('performance counters, all counted', () => {
	let daemon;
	let browser;

	before(async () => {
		daemon = await new Daemon({ interval: 0.5, env: { PW_TEST_SOFTWARE_EVENTS: '1' } }).start();
		browser = await launchBrowser({ width: 1280, height: 2400 });
	});

	after(async () => {
		if (browser) await browser.close();
		if (daemon) await daemon.close();
	});

	it('shows the ratios and their charts', async () => {
		const page = await browser.context.newPage();
		const errors = watchErrors(page);
		const snaps = watchSnapshots(page);
		await page.goto(daemon.url('/', { range: 300 }));
		await waitFor(() => page.evaluate(() => {
			const s = window.__pw.latest;
			return s && s.perf.available && Object.keys(s.perf.events).length === 17 && s.perf.events.cycles.value !== null;
		}), { what: 'a snapshot with every event counted' });
		await waitFor(() => page.evaluate(() => [...window.__pw.charts].some((c) => c.spec && c.spec.id === 'perf-ipc' && c.hasData())), { what: 'the IPC chart' });
		await page.evaluate(() => document.getElementById('perf').scrollIntoView());
		await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

		const shown = await readShown(page);
		const snap = snaps.bySeq.get(Number(shown.seq));
		const { problems } = compareShown(shown.items, snap);
		assert.deepEqual(problems, []);
		const ratios = shown.items.filter((i) => i.path.startsWith('["bpf","ratios"') || i.path.includes('"perf","events"'));
		if (snap.bpf && snap.bpf.ratios) {
			for (const k of ['ipc', 'llc_miss_percent', 'branch_miss_percent', 'llc_mpki']) {
				assert.ok(ratios.some((i) => i.path === JSON.stringify(['bpf', 'ratios', k])), `${k} shown`);
			}
		} else {
			// the perf-stat source: the page derives the ratios from the events
			const ipc = await page.textContent('#perf .tile:first-child .value');
			assert.ok(Math.abs(Number(ipc) - snap.perf.events.instructions.value / snap.perf.events.cycles.value) < 0.006, `IPC ${ipc}`);
		}
		assert.equal((await page.textContent('#perf [data-calm]')).trim(), '', 'no "not counted" line');
		const counted = await page.evaluate(() => document.querySelectorAll('#perf tbody tr:not(.off)').length);
		assert.equal(counted, 17);

		const px = await paintedChartPixels(page, (c) => c.id.startsWith('perf-'));
		assert.deepEqual(px.map((c) => c.id).sort(), ['perf-ipc', 'perf-miss', 'perf-software']);
		assert.deepEqual(blankCharts(px), []);
		assert.ok(px.every((c) => c.hasData), JSON.stringify(px));
		assert.deepEqual(errors, []);
		await page.close();
	});
});
