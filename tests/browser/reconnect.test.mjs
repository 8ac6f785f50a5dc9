// Stopping the daemon shows "disconnected" on the page; starting it again (same port,
// same history database) brings the page back to live by itself, without a reload.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, launchBrowser, watchErrors, waitFor } from './harness.mjs';

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
		const navigations = [];
		page.on('framenavigated', (f) => navigations.push(f.url()));
		const beforeStop = Number(await page.evaluate(() => document.body.dataset.seq));

		await daemon.stop();
		await waitFor(async () => (await connState(page)) === 'disconnected', { what: 'disconnected', timeout: 10000 });
		assert.match(await page.textContent('#conn'), /disconnected/);

		await daemon.start();
		await waitFor(async () => (await connState(page)) === 'live', { what: 'live again', timeout: 20000 });
		// a snapshot of the new daemon (its seq starts again at 0) reaches the page
		const ts0 = await page.evaluate(() => window.__pw.latest.timestamp);
		await waitFor(() => page.evaluate((t) => window.__pw.latest.timestamp > t, ts0), { what: 'a snapshot after the restart' });
		assert.match(await page.textContent('#conn'), /live/);
		assert.deepEqual(navigations, [], 'no page reload');
		assert.ok(beforeStop >= 0);

		// While the daemon was down, the browser logged its failed attempts; nothing else.
		const unexpected = errors.filter((e) => !/WebSocket connection to .* failed|Failed to load resource|ERR_CONNECTION_REFUSED/.test(e));
		assert.deepEqual(unexpected, []);
		await page.close();
	});
});
