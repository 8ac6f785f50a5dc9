// On a non-loopback listen the daemon wants a token. The page takes it from ?token= on
// its URL and passes it on: ?token= on the WebSocket URL, Authorization: Bearer on
// fetches. Without it (or with a wrong one) nothing of the data is served. The daemon
// listens on 0.0.0.0 and the browser talks to it over 127.0.0.1 only.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Daemon, launchBrowser, watchErrors, watchSnapshots, waitFor, readShown, compareShown } from './harness.mjs';

const connState = (page) => page.evaluate(() => document.getElementById('conn').dataset.state);

describe('token on a non-loopback listen', () => {
	const token = randomBytes(24).toString('hex');
	let daemon;
	let browser;

	before(async () => {
		daemon = await new Daemon({ host: '0.0.0.0', interval: 0.5, token }).start();
		browser = await launchBrowser();
	});

	after(async () => {
		if (browser) await browser.close();
		if (daemon) await daemon.close();
	});

	it('refuses the data without the token', async () => {
		for (const path of ['/api/snapshot', '/api/history?from=0&to=1&metrics=cpu.usage_percent&points=10']) {
			const r = await daemon.fetch(path, { headers: { Authorization: '' } });
			assert.ok([401, 403].includes(r.status), `${path} without a token: ${r.status}`);
		}
	});

	it('works with ?token= on the page URL', async () => {
		const page = await browser.context.newPage();
		const errors = watchErrors(page);
		const snaps = watchSnapshots(page);
		const fetches = [];
		page.on('request', (r) => {
			const u = new URL(r.url());
			if (u.pathname.startsWith('/api/') || u.pathname === '/healthz') fetches.push({ path: u.pathname, auth: r.headers().authorization || '' });
		});
		await page.goto(daemon.url('/', { token, range: 300 }));
		await waitFor(async () => (await connState(page)) === 'live' && (await page.evaluate(() => document.body.dataset.seq)) !== undefined, { what: 'live with the token' });
		await waitFor(() => page.evaluate(() => window.__pw.historyLoads > 0), { what: 'history with the token' });
		assert.ok(snaps.sockets.length > 0 && snaps.sockets.every((u) => new URL(u).searchParams.get('token') === token), `WebSocket URLs carry the token: ${snaps.sockets}`);
		assert.ok(fetches.length > 0 && fetches.every((f) => f.auth === `Bearer ${token}`), `fetches carry the bearer token: ${JSON.stringify(fetches)}`);
		const shown = await readShown(page);
		const { problems } = compareShown(shown.items, snaps.bySeq.get(Number(shown.seq)));
		assert.deepEqual(problems, []);
		assert.deepEqual(errors, []);
		await page.close();
	});

	for (const [what, query] of [['no token', {}], ['a wrong token', { token: `x${token.slice(1)}` }]]) {
		it(`shows no data with ${what}`, async () => {
			// the profile must not carry the cookie the good page got
			await browser.context.clearCookies();
			const page = await browser.context.newPage();
			const snaps = watchSnapshots(page);
			const resp = await page.goto(daemon.url('/', { ...query, range: 300 }));
			if (resp.status() === 200) {
				// the page itself is public: it must say it is refused, and get no snapshot
				await waitFor(async () => (await connState(page)) === 'unauthorized', { what: 'unauthorized', timeout: 10000 });
				assert.match(await page.textContent('#conn'), /unauthorized/);
			} else {
				assert.ok([401, 403].includes(resp.status()), `page answered ${resp.status()}`);
			}
			assert.equal(snaps.bySeq.size, 0, 'no snapshot reached the page');
			await page.close();
		});
	}
});
