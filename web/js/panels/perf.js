// Performance counters: the 17 events (raw values over the interval and per second),
// IPC / cache-miss % / branch-miss % / MPKI where the hardware events are counted, and
// where they are not, one calm line saying why and which source is in use.
import { makePanel, Tile, h, num, setText } from '../dom.js';
import { TimeChart } from '../chart.js';
import { units, count, rate, pct, DASH } from '../format.js';

export const EVENTS = [
	'cpu-clock', 'context-switches', 'cpu-migrations', 'page-faults', 'cycles', 'instructions', 'branches', 'branch-misses',
	'L1-dcache-loads', 'L1-dcache-load-misses', 'LLC-loads', 'LLC-load-misses', 'L1-icache-loads',
	'dTLB-loads', 'dTLB-load-misses', 'iTLB-loads', 'iTLB-load-misses',
];

const ev = (name) => ['perf', 'events', name, 'value'];
const div = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null);

// Derived ratios from the events of one interval (values in the order of the paths).
export const DERIVED = [
	{ key: 'ipc', bpfKey: 'ipc', label: 'IPC', unit: 'ratio', paths: [ev('instructions'), ev('cycles')], calc: ([i, c]) => div(i, c), why: 'instructions per cycle' },
	{ key: 'cache_miss', bpfKey: 'llc_miss_percent', label: 'Cache miss', unit: 'pct', paths: [ev('LLC-load-misses'), ev('LLC-loads')], calc: ([m, l]) => (div(m, l) === null ? null : div(m, l) * 100), why: 'LLC load misses / LLC loads' },
	{ key: 'branch_miss', bpfKey: 'branch_miss_percent', label: 'Branch miss', unit: 'pct', paths: [ev('branch-misses'), ev('branches')], calc: ([m, b]) => (div(m, b) === null ? null : div(m, b) * 100), why: 'branch misses / branches' },
	{ key: 'mpki', bpfKey: 'llc_mpki', label: 'LLC MPKI', unit: 'ratio', paths: [ev('LLC-load-misses'), ev('instructions')], calc: ([m, i]) => (div(m, i) === null ? null : div(m, i) * 1000), why: 'LLC load misses per 1000 instructions' },
];

const perSec = (v, ctx) => (typeof v === 'number' && ctx && ctx.interval_s > 0 ? v / ctx.interval_s : null);

export function perfPanel(app) {
	const p = makePanel('perf', 'Performance counters');
	const derived = Object.fromEntries(DERIVED.map((d) => [d.key, new Tile(d.label, d.unit, null, { title: d.why })]));
	p.tiles.append(...Object.values(derived).map((x) => x.el));

	const rows = new Map();
	const tbody = h('tbody');
	for (const name of EVENTS) {
		const val = h('td', { 'data-path': JSON.stringify(ev(name)), 'data-unit': 'count' });
		const ps = h('td');
		const run = h('td');
		const tr = h('tr', { class: 'off' }, h('td', { text: name }), val, ps, run);
		rows.set(name, { tr, val, ps, run });
		tbody.append(tr);
	}
	const table = h('table', { class: 'data', 'aria-label': 'Performance counter values' },
		h('thead', {}, h('tr', {}, h('th', { text: 'event' }), h('th', { text: 'this interval' }), h('th', { text: 'per second' }), h('th', { text: 'counted' }))),
		tbody);
	const details = h('details', {}, h('summary', { text: 'All 17 events' }), table);
	p.charts.before(details);

	new TimeChart(app, p.charts, {
		id: 'perf-software',
		title: 'Software events',
		unit: 'rate',
		series: [
			{ label: 'context switches', color: '--s1', paths: [ev('context-switches')], calc: (v, c) => perSec(v[0], c) },
			{ label: 'page faults', color: '--s2', paths: [ev('page-faults')], calc: (v, c) => perSec(v[0], c) },
			{ label: 'migrations', color: '--s5', paths: [ev('cpu-migrations')], calc: (v, c) => perSec(v[0], c) },
		],
	});
	let hwCharts = null;

	function update(s) {
		const pf = s.perf || {};
		const events = pf.events || {};
		const counted = EVENTS.filter((n) => events[n]);
		const src = pf.source || 'none';
		setText(p.sub, `source: ${src}`);
		if (pf.available) {
			setText(p.calm, '');
		} else {
			const why = pf.error || 'not every event can be counted';
			const sentence = why.charAt(0).toUpperCase() + why.slice(1);
			setText(p.calm, `Source in use: ${src}, ${counted.length} of 17 events counted. ${sentence.endsWith('.') ? sentence : sentence + '.'}`);
		}
		// The eBPF collector computes the same ratios; prefer its numbers when it has them.
		const fromBpf = s.bpf && s.bpf.ratios && typeof s.bpf.ratios === 'object' ? s.bpf.ratios : null;
		for (const d of DERIVED) {
			const b = fromBpf ? num(fromBpf[d.bpfKey]) : null;
			const v = b !== null ? b : d.calc(d.paths.map((pp) => num(events[pp[2]] && events[pp[2]].value)));
			derived[d.key].setPath(b !== null ? ['bpf', 'ratios', d.bpfKey] : null);
			derived[d.key].set(v);
			derived[d.key].el.hidden = v === null;
		}
		for (const name of EVENTS) {
			const r = rows.get(name);
			const e = events[name];
			r.tr.className = e ? '' : 'off';
			const v = e ? num(e.value) : null;
			const unit = e && e.unit ? ` ${e.unit}` : '';
			const cap = s.bpf && s.bpf.events ? s.bpf.events[name] : null;
			setText(r.val, e ? `${count(v)}${unit}` : 'not counted');
			r.tr.title = !e && cap && cap.error ? cap.error : cap && cap.standin ? `counted as ${cap.standin} (test mode)` : '';
			r.val.dataset.value = v === null ? 'null' : String(v);
			r.val.title = e ? `${units.count.exact(v)}${unit}` : '';
			setText(r.ps, e ? (e.unit ? `${units.count.short(perSec(v, s))}${unit}/s` : rate(perSec(v, s))) : DASH);
			const rr = e ? num(e.running_ratio) : null;
			setText(r.run, rr === null ? (e ? '100 %' : DASH) : pct(rr * 100));
			r.run.title = rr !== null && rr < 1 ? 'multiplexed: scaled by time enabled / time running' : '';
		}
		const hw = DERIVED.filter((d) => d.calc(d.paths.map((pp) => num(events[pp[2]] && events[pp[2]].value))) !== null);
		if (hw.length && !hwCharts) {
			hwCharts = [
				new TimeChart(app, p.charts, { id: 'perf-ipc', title: 'Instructions per cycle', unit: 'ratio', series: [{ label: 'IPC', color: '--s1', paths: DERIVED[0].paths, calc: DERIVED[0].calc }] }),
				new TimeChart(app, p.charts, {
					id: 'perf-miss',
					title: 'Miss rates',
					unit: 'pct',
					series: [
						{ label: 'cache miss', color: '--s2', paths: DERIVED[1].paths, calc: DERIVED[1].calc },
						{ label: 'branch miss', color: '--s3', paths: DERIVED[2].paths, calc: DERIVED[2].calc },
					],
				}),
			];
		}
	}

	return { el: p.el, update };
}
