// The eBPF section: run-queue and block latency as heatmaps over time (log2 buckets),
// per-CPU and per-interface counts, and what the collector could attach (capabilities).
// The section is absent when the eBPF collector is not in use and null when it failed.
import { makePanel, Tile, h, num, setText } from '../dom.js';
import { HeatStrip } from '../heat.js';
import { count, rate, ms, bytesRate, DASH } from '../format.js';

// Slot 0 is [0, 2) µs, slot i > 0 is [2^i, 2^(i+1)) µs.
function compactUs(v) {
	if (v < 1000) return `${v} µs`;
	if (v < 1e6) return `${+(v / 1000).toPrecision(3)} ms`;
	return `${+(v / 1e6).toPrecision(3)} s`;
}
export const slotLabel = (i) => (i === 0 ? '0' : compactUs(2 ** i));
const slotTitle = (i) => `${i === 0 ? '0' : compactUs(2 ** i)} – ${compactUs(2 ** (i + 1))}`;

function latencyHeat(app, parent, id, title, histOf) {
	return new HeatStrip(app, parent, {
		id,
		title,
		unit: 'count',
		scale: 'log',
		countLabel: 'events',
		lowAtBottom: true,
		rowsOf: (snap) => {
			const hist = histOf(snap);
			return hist && Array.isArray(hist.log2_us) ? hist.log2_us : null;
		},
		historyNames: () => [],
		rowLabel: slotLabel,
		rowTitle: slotTitle,
	});
}

const perSec = (v, s) => (typeof v === 'number' && s.interval_s > 0 ? v / s.interval_s : null);

export function bpfPanel(app) {
	const p = makePanel('bpf', 'eBPF', { wide: true });
	const t = {
		runq: new Tile('Run-queue waits', 'rate', null, { title: 'wakeups and preemptions that waited for a CPU, per second' }),
		runqMean: new Tile('Mean run-queue latency', 'ms', null, { small: true }),
		progs: new Tile('Programs attached', 'count', null, { small: true }),
		maps: new Tile('Maps', 'count', ['bpf', 'maps', 'count'], { small: true }),
		mapMem: new Tile('Map memory', 'bytes', ['bpf', 'maps', 'memory_bytes'], { small: true }),
		cost: new Tile('BPF CPU', 'pct', null, { small: true, title: 'run time of the BPF programs, as a share of one core' }),
	};
	p.tiles.append(...Object.values(t).map((x) => x.el));
	latencyHeat(app, p.charts, 'bpf-runq', 'Run-queue latency', (s) => s.bpf && s.bpf.runq_latency);
	const blockHeats = new Map();

	const caps = h('div', { class: 'caps', 'aria-label': 'Programs' });
	const cpuBody = h('tbody');
	const netBody = h('tbody');
	const cpuTable = h('table', { class: 'data', 'aria-label': 'Per-CPU counters from eBPF' },
		h('thead', {}, h('tr', {}, ...['CPU', 'context switches/s', 'migrations/s', 'page faults/s', 'cpu-clock'].map((x) => h('th', { text: x })))), cpuBody);
	const netTable = h('table', { class: 'data', 'aria-label': 'Per-interface counts from eBPF' },
		h('thead', {}, h('tr', {}, ...['interface', 'receive', 'send', 'packets in/s', 'packets out/s'].map((x) => h('th', { text: x })))), netBody);
	const drops = h('p', { class: 'calm' });
	const more = h('div', { class: 'more' },
		h('div', {}, h('h3', { text: 'Per CPU' }), cpuTable),
		h('div', {}, h('h3', { text: 'Per interface (own network namespace and others)' }), netTable),
		h('div', {}, h('h3', { text: 'Programs' }), caps, drops));
	p.el.append(more);

	function rowsInto(body, rows) {
		while (body.rows.length > rows.length) body.deleteRow(-1);
		rows.forEach((cells, i) => {
			const tr = body.rows[i] || body.insertRow();
			while (tr.cells.length < cells.length) tr.insertCell();
			cells.forEach((c, j) => setText(tr.cells[j], c));
		});
	}

	function update(s) {
		const b = s.bpf;
		const show = b !== undefined;
		if (!b) {
			const why = (s.errors && s.errors.bpf) || (show ? 'the eBPF collector failed' : `not in use; performance counters come from ${(s.perf && s.perf.source) || 'none'}`);
			setText(p.calm, `No eBPF data: ${why}.`);
			// absent: nothing to show; null: the charts keep what came before
			more.hidden = p.tiles.hidden = true;
			p.charts.hidden = !show;
			for (const x of Object.values(t)) x.set(null);
			return;
		}
		setText(p.calm, b.test_software_events ? 'Test mode: software events stand in for the hardware ones.' : '');
		more.hidden = p.tiles.hidden = p.charts.hidden = false;
		const rq = b.runq_latency || {};
		const notes = [b.runq_latency_error ? `Run-queue latency: ${b.runq_latency_error}.` : ''];
		t.runq.set(perSec(num(rq.count), b));
		t.runqMean.set(typeof rq.mean_us === 'number' ? rq.mean_us / 1000 : null);
		const progs = Object.entries(b.programs || {});
		t.progs.set(progs.filter(([, pr]) => pr.attached).length, `of ${progs.length}`);
		t.maps.set(b.maps ? num(b.maps.count) : null);
		t.mapMem.set(b.maps ? num(b.maps.memory_bytes) : null);
		const runNs = progs.reduce((a, [, pr]) => a + (num(pr.run_time_ns) || 0), 0);
		t.cost.set(b.stats && b.stats.enabled ? perSec(runNs, b) / 1e7 : null, b.stats && !b.stats.enabled ? 'stats off' : '');

		// One block-latency heatmap per device.
		const block = b.block || {};
		for (const [name, heat] of blockHeats) {
			if (!block[name]) {
				heat.destroy();
				blockHeats.delete(name);
			}
		}
		for (const name of Object.keys(block)) {
			if (!blockHeats.has(name)) {
				blockHeats.set(name, latencyHeat(app, p.charts, `bpf-block-${name}`, `${name} block I/O latency`,
					(snap) => snap.bpf && snap.bpf.block && snap.bpf.block[name] && snap.bpf.block[name].latency));
			}
		}

		rowsInto(cpuBody, (b.cpus || []).map((c) => [
			`cpu${c.cpu}`, rate(perSec(c.context_switches, b)), rate(perSec(c.cpu_migrations, b)), rate(perSec(c.page_faults, b)),
			typeof c.cpu_clock_ms === 'number' ? ms(c.cpu_clock_ms) : DASH,
		]));
		rowsInto(netBody, Object.entries(b.net || {}).map(([name, n]) => [
			name, bytesRate(perSec(n.bytes_recv, b)), bytesRate(perSec(n.bytes_sent, b)), rate(perSec(n.packets_recv, b)), rate(perSec(n.packets_sent, b)),
		]));
		caps.replaceChildren(...progs.map(([name, pr]) => h('span', {
			class: pr.attached ? 'on' : 'off',
			title: pr.attached ? `${pr.attach}${typeof pr.ns_per_run === 'number' ? `, ${count(pr.ns_per_run)} ns per run` : ''}` : `${pr.attach}: ${pr.error || 'not attached'}`,
		}, name)));
		const d = b.drops || {};
		const lost = Object.entries(d).filter(([, v]) => v > 0);
		setText(drops, [
			...notes,
			b.stats && !b.stats.enabled ? `Run-time stats off${b.stats.error ? ` (${b.stats.error})` : ''}.` : '',
			b.pmu_read_error ? `PMU reader: ${b.pmu_read_error}.` : '',
			lost.length ? `Dropped: ${lost.map(([k, v]) => `${k.replace(/_/g, ' ')} ${count(v)}`).join(', ')}.` : '',
		].filter(Boolean).join(' '));
	}

	return { el: p.el, update };
}
