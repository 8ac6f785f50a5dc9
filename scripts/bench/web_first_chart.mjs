// Time from navigation to the first chart drawn with data (performance mark
// "pw-first-chart", relative to navigation start), on loopback, with a history to load.
// Each run is a fresh page with an empty cache. Target: under 1 s.
import { Daemon, launchBrowser, waitFor, sleep, median, saveResult } from './web_common.mjs';

export async function firstChart({ runs = 7 } = {}) {
	const daemon = await new Daemon({ interval: 1 }).start();
	await sleep(5000); // some history to load
	const browser = await launchBrowser();
	const times = [];
	try {
		for (let i = 0; i < runs; i++) {
			const page = await browser.context.newPage();
			const cdp = await browser.context.newCDPSession(page);
			await cdp.send('Network.clearBrowserCache');
			await page.goto(daemon.url('/'));
			await waitFor(() => page.evaluate(() => performance.getEntriesByName('pw-first-chart').length > 0), { what: 'first chart' });
			times.push(await page.evaluate(() => performance.getEntriesByName('pw-first-chart')[0].startTime));
			await page.close();
		}
	} finally {
		await browser.close();
		await daemon.close();
	}
	return { runs: times.length, median_ms: median(times), max_ms: Math.max(...times), min_ms: Math.min(...times), target_ms: 1000, times_ms: times };
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const r = await firstChart();
	saveResult('web_first_chart', r);
	console.log(`first chart drawn: median ${r.median_ms.toFixed(0)} ms, max ${r.max_ms.toFixed(0)} ms over ${r.runs} loads (target < 1000 ms)`);
}
