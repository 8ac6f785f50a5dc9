// Page weight: every asset the dashboard loads (HTML, CSS, JS, the chart library),
// uncompressed, as the browser received it. Target: under 250 KB in all.
import { Daemon, launchBrowser, waitFor, saveResult } from './web_common.mjs';

export async function pageWeight() {
	const daemon = await new Daemon({ interval: 1 }).start();
	const browser = await launchBrowser();
	try {
		const page = await browser.context.newPage();
		const assets = [];
		page.on('response', async (r) => {
			const u = new URL(r.url());
			if (u.protocol !== 'http:' || u.pathname.startsWith('/api/') || u.pathname === '/healthz') return;
			assets.push(r.body().then((b) => ({ path: u.pathname, bytes: b.length, type: r.headers()['content-type'] || '' }), () => null));
		});
		await page.goto(daemon.url('/'));
		await waitFor(() => page.evaluate(() => window.__pw && window.__pw.latest !== null), { what: 'a snapshot' });
		await page.waitForLoadState('networkidle');
		const list = (await Promise.all(assets)).filter(Boolean).sort((a, b) => b.bytes - a.bytes);
		const total = list.reduce((s, a) => s + a.bytes, 0);
		return { total_bytes: total, target_bytes: 250 * 1000, assets: list };
	} finally {
		await browser.close();
		await daemon.close();
	}
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const r = await pageWeight();
	saveResult('web_weight', r);
	for (const a of r.assets) console.log(`  ${String(a.bytes).padStart(7)}  ${a.path}`);
	console.log(`page weight: ${(r.total_bytes / 1000).toFixed(1)} KB in ${r.assets.length} files (target < 250 KB)`);
}
