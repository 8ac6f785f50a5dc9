// PerfWatch's own cost (the "self" section): CPU per cycle, memory, late snapshots.
import { makePanel, Tile, num, setText } from '../dom.js';
import { TimeChart } from '../chart.js';

const S = (k) => ['self', k];
// CPU time of one cycle as a percentage of one core over the interval.
export const cpuPct = (ns, ctx) => (typeof ns === 'number' && ctx && ctx.interval_s > 0 ? (ns / (ctx.interval_s * 1e9)) * 100 : null);

export function selfPanel(app) {
	const p = makePanel('self', 'PerfWatch itself');
	const t = {
		cpu: new Tile('CPU', 'pct', null, { title: 'process CPU time of the last cycle, as a share of one core over the interval' }),
		collect: new Tile('Collect', 'ms', null, { small: true, title: 'all collectors, per cycle (CPU time)' }),
		json: new Tile('JSON', 'ms', null, { small: true, title: 'serializing the snapshot once, per cycle' }),
		outputs: new Tile('Outputs', 'ms', null, { small: true, title: 'history, broadcast and stdout, per cycle' }),
		rss: new Tile('Memory (RSS)', 'bytes', S('rss_bytes'), { small: true }),
		late: new Tile('Late snapshots', 'count', S('snapshots_late'), { small: true }),
		up: new Tile('Uptime', 'duration', S('uptime_s'), { small: true }),
	};
	p.tiles.append(...Object.values(t).map((x) => x.el));
	new TimeChart(app, p.charts, {
		id: 'self-cpu',
		title: 'CPU (share of one core)',
		unit: 'pct',
		series: [
			{ label: 'whole cycle', color: '--s1', paths: [S('cycle_cpu_ns')], calc: (v, c) => cpuPct(v[0], c) },
			// the breakdown is live only: history keeps the total
			{ label: 'collectors', color: '--s5', paths: [S('collect_cpu_ns')], calc: (v, c) => cpuPct(v[0], c), hist: false },
			{ label: 'outputs', color: '--s3', paths: [S('outputs_cpu_ns')], calc: (v, c) => cpuPct(v[0], c), hist: false },
		],
	});
	new TimeChart(app, p.charts, {
		id: 'self-rss',
		title: 'Memory (RSS)',
		unit: 'bytes',
		series: [{ label: 'rss', color: '--s4', paths: [S('rss_bytes')] }],
	});

	function update(s) {
		const me = s.self;
		if (!me) {
			setText(p.calm, 'This daemon does not report its own cost.');
			return;
		}
		setText(p.calm, '');
		t.cpu.set(cpuPct(num(me.cycle_cpu_ns), s));
		t.collect.set(num(me.collect_cpu_ns) === null ? null : me.collect_cpu_ns / 1e6);
		t.json.set(num(me.json_cpu_ns) === null ? null : me.json_cpu_ns / 1e6);
		t.outputs.set(num(me.outputs_cpu_ns) === null ? null : me.outputs_cpu_ns / 1e6);
		t.rss.set(num(me.rss_bytes));
		t.late.set(num(me.snapshots_late));
		t.late.warn(me.snapshots_late > 0);
		t.up.set(num(me.uptime_s));
	}

	return { el: p.el, update };
}
