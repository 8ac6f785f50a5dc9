// `make bench-web`: page weight, time to first chart, tab CPU. Results also go to
// build/bench/web_*.json.
import { pageWeight } from './web_weight.mjs';
import { firstChart } from './web_first_chart.mjs';
import { tabCpu } from './web_cpu.mjs';
import { saveResult } from './web_common.mjs';

const w = await pageWeight();
saveResult('web_weight', w);
console.log(`page weight: ${(w.total_bytes / 1000).toFixed(1)} KB in ${w.assets.length} files (target < 250 KB)`);
const f = await firstChart();
saveResult('web_first_chart', f);
console.log(`first chart drawn: median ${f.median_ms.toFixed(0)} ms, max ${f.max_ms.toFixed(0)} ms over ${f.runs} loads (target < 1000 ms)`);
const c = await tabCpu({ seconds: Number(process.env.PW_BENCH_SECONDS || 30) });
saveResult('web_cpu', c);
for (const x of c.runs) {
	console.log(`tab CPU at 1 s, ${x.viewport}: renderer ${x.renderer_pct.toFixed(2)} % of one core ` +
		`(main thread busy ${x.main_thread_busy_pct.toFixed(2)} %, GPU process ${x.gpu_pct.toFixed(2)} %) (target < 5 %)`);
}
