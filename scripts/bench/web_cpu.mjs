// The tab's CPU with the daemon at a 1 s interval: the renderer process's CPU time (from
// /proc) over a steady window, as a share of one core; the main thread's busy time (CDP
// Performance.getMetrics TaskDuration) too, and the GPU/compositor and browser processes
// for the whole picture. Twice: a laptop viewport (1280x900, what is on screen is drawn)
// and every panel on screen at once. Target: the tab under 5 % of one core.
import { Daemon, launchBrowser, waitFor, sleep, chromiumProcesses, cpuByType, saveResult } from './web_common.mjs';

async function measure(browser, daemon, { seconds, tall }) {
	const page = await browser.context.newPage();
	const cdp = await browser.context.newCDPSession(page);
	await cdp.send('Performance.enable');
	await page.goto(daemon.url('/'));
	await waitFor(() => page.evaluate(() => window.__pw.historyLoads > 0), { what: 'history' });
	if (tall) {
		const h = await page.evaluate(() => document.documentElement.scrollHeight);
		await page.setViewportSize({ width: 1280, height: h });
	}
	await sleep(5000); // warm up: history drawn, JIT settled
	const marker = browser.profile;
	const metric = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
	const p0 = cpuByType(chromiumProcesses(marker));
	const m0 = await metric();
	const t0 = performance.now();
	await sleep(seconds * 1000);
	const wall = (performance.now() - t0) / 1000;
	const p1 = cpuByType(chromiumProcesses(marker));
	const m1 = await metric();
	await page.close();
	const share = (k) => (((p1[k] || 0) - (p0[k] || 0)) / wall) * 100;
	return {
		viewport: tall ? 'all panels on screen' : '1280x900',
		seconds: wall,
		renderer_pct: share('renderer'),
		gpu_pct: share('gpu-process'),
		browser_pct: share('browser'),
		main_thread_busy_pct: ((m1.TaskDuration - m0.TaskDuration) / wall) * 100,
		script_pct: ((m1.ScriptDuration - m0.ScriptDuration) / wall) * 100,
		js_heap_bytes: m1.JSHeapUsedSize,
	};
}

export async function tabCpu({ seconds = 30 } = {}) {
	const daemon = await new Daemon({ interval: 1 }).start();
	await sleep(3000);
	const browser = await launchBrowser();
	try {
		return {
			target_pct: 5,
			runs: [await measure(browser, daemon, { seconds, tall: false }), await measure(browser, daemon, { seconds, tall: true })],
		};
	} finally {
		await browser.close();
		await daemon.close();
	}
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const r = await tabCpu({ seconds: Number(process.env.PW_BENCH_SECONDS || 30) });
	saveResult('web_cpu', r);
	for (const x of r.runs) {
		console.log(`tab CPU at 1 s, ${x.viewport}: renderer ${x.renderer_pct.toFixed(2)} % of one core ` +
			`(main thread busy ${x.main_thread_busy_pct.toFixed(2)} %, GPU process ${x.gpu_pct.toFixed(2)} %, browser ${x.browser_pct.toFixed(2)} %) (target < 5 %)`);
	}
}
