// Stopping the daemon shows "disconnected" on the page; starting it again (same port,
// same history database) brings the page back to live by itself, without a reload.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, launchBrowser, watchErrors, waitFor, sleep } from './harness.mjs';

const connState = (page) => page.evaluate(() => document.getElementById('conn').dataset.state);

describe('reconnect', () => {
	let daemon;
	let browser;

	before(async () => {
		daemon = await new Daemon({ interval: 0.5 }).start();
		browser = await launchBrowser();
	});

	after(async () => {
		if (browser) await browser.close();
		if (daemon) await daemon.close();
	});

	it('shows disconnected while the daemon is down and recovers by itself', async () => {
		const page = await browser.context.newPage();
		const errors = watchErrors(page);
		await page.goto(daemon.url('/', { range: 300 }));
		await waitFor(async () => (await connState(page)) === 'live', { what: 'live' });
		// "live" is the socket open; the first snapshot may come a moment later
		await waitFor(() => page.evaluate(() => document.body.dataset.seq !== undefined), { what: 'a snapshot drawn' });
		const navigations = [];
		page.on('framenavigated', (f) => navigations.push(f.url()));
		const beforeStop = Number(await page.evaluate(() => document.body.dataset.seq));

		await sleep(3000); // a few snapshots drawn before the stop
		const stoppedAt = await page.evaluate(() => window.__pw.latest.timestamp);
		await daemon.stop();
		await waitFor(async () => (await connState(page)) === 'disconnected', { what: 'disconnected', timeout: 10000 });
		assert.match(await page.textContent('#conn'), /disconnected/);

		await sleep(3000); // down for several intervals: a gap worth showing
		const loads = await page.evaluate(() => window.__pw.historyLoads);
		await daemon.start();
		await waitFor(async () => (await connState(page)) === 'live', { what: 'live again', timeout: 20000 });
		// a snapshot of the new daemon (its seq starts again at 0) reaches the page
		const ts0 = await page.evaluate(() => window.__pw.latest.timestamp);
		await waitFor(() => page.evaluate((t) => window.__pw.latest.timestamp > t, ts0), { what: 'a snapshot after the restart' });
		assert.match(await page.textContent('#conn'), /live/);
		// back live, the page reloads history: the time before the stop is still drawn, and
		// the outage is a gap (a null), not a line bridging it
		await waitFor(() => page.evaluate((n) => window.__pw.historyLoads > n, loads), { what: 'history reloaded after the restart' });
		const rss = await waitFor(() => page.evaluate((t) => {
			const c = [...window.__pw.charts].find((x) => x.spec && x.spec.id === 'self-rss');
			const next = c.t.findIndex((x) => x > t);
			if (next < 0 || c.t[0] > t - 1) return null;
			// RSS is never null: a null after the stop is the outage
			return { gap: c.cols[0].some((v, i) => v === null && c.t[i] > t - 0.01) };
		}, stoppedAt), { what: 'history from before the stop', timeout: 10000 });
		assert.ok(rss.gap, 'the outage shows as a gap');
		assert.deepEqual(navigations, [], 'no page reload');
		assert.ok(beforeStop >= 0);

		// While the daemon was down, the browser logged its failed attempts; nothing else.
		const unexpected = errors.filter((e) => !/WebSocket connection to .* failed|Failed to load resource|ERR_CONNECTION_REFUSED/.test(e));
		assert.deepEqual(unexpected, []);
		await page.close();
	});
});
