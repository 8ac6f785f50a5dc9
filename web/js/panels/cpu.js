// CPU: time by state (stacked), a per-core heat strip, frequency, temperature, interrupts.
import { makePanel, Tile, h, num, setText } from '../dom.js';
import { TimeChart } from '../chart.js';
import { HeatStrip } from '../heat.js';

const STATES = [
	['user', '--s1'],
	['system', '--s2'],
	['iowait', '--s3'],
	['irq', '--s4'],
	['softirq', '--s5'],
];

const mean = (a) => {
	const v = (a || []).filter((x) => typeof x === 'number' && Number.isFinite(x));
	return v.length ? v.reduce((s, x) => s + x, 0) / v.length : null;
};
const maxOf = (a) => {
	const v = (a || []).filter((x) => typeof x === 'number' && Number.isFinite(x));
	return v.length ? Math.max(...v) : null;
};
const minOf = (a) => {
	const v = (a || []).filter((x) => typeof x === 'number' && Number.isFinite(x));
	return v.length ? Math.min(...v) : null;
};

// Per-CPU arrays chart as one line per CPU up to this many, else min / mean / max.
const MAX_LINES = 8;

function perCpuSeries(key, n) {
	if (n <= MAX_LINES) {
		return Array.from({ length: n }, (_, i) => ({ label: `cpu${i}`, color: `--s${(i % 8) + 1}`, paths: [['cpu', key, i]] }));
	}
	const all = Array.from({ length: n }, (_, i) => ['cpu', key, i]);
	return [
		{ label: 'max', color: '--s2', paths: all, calc: (v) => maxOf(v) },
		{ label: 'mean', color: '--s1', paths: all, calc: (v) => mean(v) },
		{ label: 'min', color: '--s5', paths: all, calc: (v) => minOf(v) },
	];
}

export function cpuPanel(app) {
	const p = makePanel('cpu', 'CPU', { wide: true });
	const t = {
		usage: new Tile('Usage', 'pct', ['cpu', 'usage_percent']),
		user: new Tile('User', 'pct', ['cpu', 'user'], { small: true }),
		system: new Tile('System', 'pct', ['cpu', 'system'], { small: true }),
		iowait: new Tile('I/O wait', 'pct', ['cpu', 'iowait'], { small: true }),
		irq: new Tile('IRQ', 'pct', ['cpu', 'irq'], { small: true }),
		softirq: new Tile('SoftIRQ', 'pct', ['cpu', 'softirq'], { small: true }),
		idle: new Tile('Idle', 'pct', ['cpu', 'idle'], { small: true }),
		cpus: new Tile('CPUs online', 'count', ['cpu', 'cpus_online'], { small: true }),
		freq: new Tile('Frequency', 'mhz', null, { small: true, title: 'mean over CPUs' }),
		temp: new Tile('Temperature', 'celsius', null, { small: true, title: 'hottest sensor' }),
		irqs: new Tile('Interrupts', 'rate', ['cpu', 'interrupts_per_sec'], { small: true }),
		irqTotal: new Tile('Interrupts total', 'count', ['cpu', 'interrupts'], { small: true }),
		ctx: new Tile('Context switches', 'count', ['cpu', 'ctx_switches'], { small: true, title: 'since boot' }),
	};
	p.tiles.append(...Object.values(t).map((x) => x.el));

	new TimeChart(app, p.charts, {
		id: 'cpu-states',
		title: 'CPU time by state',
		unit: 'pct',
		stacked: true,
		full: true,
		series: STATES.map(([k, color]) => ({ label: k, color, paths: [['cpu', k]] })),
	});
	let heat = null;
	let freq = null;
	let freqN = -1;
	let temp = null;
	let tempN = -1;
	const tempNote = h('p', { class: 'calm' });
	new TimeChart(app, p.charts, {
		id: 'cpu-interrupts',
		title: 'Interrupts',
		unit: 'rate',
		series: [{ label: 'interrupts/s', color: '--s4', paths: [['cpu', 'interrupts_per_sec']] }],
	});

	function update(s) {
		const c = s.cpu;
		if (!c) {
			p.tiles.hidden = true;
			setText(p.calm, `No CPU data in this snapshot${s.errors && s.errors.cpu ? `: ${s.errors.cpu}` : ''}.`);
			for (const x of Object.values(t)) x.set(null);
			return;
		}
		setText(p.calm, '');
		p.tiles.hidden = false;
		for (const k of ['usage', 'user', 'system', 'iowait', 'irq', 'softirq', 'idle']) {
			t[k].set(num(c[k === 'usage' ? 'usage_percent' : k]));
		}
		t.cpus.set(num(c.cpus_online) ?? (c.per_core || []).length);
		t.freq.set(mean(c.frequency_mhz));
		t.irqs.set(num(c.interrupts_per_sec));
		t.irqTotal.set(num(c.interrupts));
		t.ctx.set(num(c.ctx_switches));
		const temps = c.temperature_celsius || [];
		t.temp.el.hidden = temps.length === 0;
		t.temp.set(maxOf(temps));

		const cores = (c.per_core || []).length;
		if (!heat && cores) {
			heat = new HeatStrip(app, p.charts, {
				id: 'cpu-per-core',
				title: 'Per-core usage',
				unit: 'pct',
				scale: 'pct',
				rowsOf: (snap) => (snap.cpu ? snap.cpu.per_core : null),
				historyNames: (n) => Array.from({ length: n }, (_, i) => `cpu.per_core.${i}`),
				rowLabel: (i) => `cpu${i}`,
				rowTitle: (i) => `cpu${i}`,
			});
			p.charts.insertBefore(heat.el, p.charts.children[1]);
		}
		const nf = (c.frequency_mhz || []).length;
		if (nf !== freqN) {
			freqN = nf;
			if (freq) freq.destroy();
			freq = nf ? new TimeChart(app, p.charts, { id: 'cpu-frequency', title: 'Frequency', unit: 'mhz', series: perCpuSeries('frequency_mhz', nf) }) : null;
		}
		const nt = temps.length;
		if (nt !== tempN) {
			tempN = nt;
			if (temp) temp.destroy();
			temp = nt ? new TimeChart(app, p.charts, { id: 'cpu-temperature', title: 'Temperature', unit: 'celsius', series: perCpuSeries('temperature_celsius', nt) }) : null;
			setText(tempNote, nt ? '' : 'No temperature sensors are exposed on this machine.');
			if (!nt) p.charts.after(tempNote);
		}
	}

	return { el: p.el, update };
}
