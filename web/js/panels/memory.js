// Memory: where RAM goes (stacked to the total), swap, hugepages, paging and faults.
import { makePanel, Tile, h, num, setText } from '../dom.js';
import { TimeChart } from '../chart.js';
import { bytes, pct } from '../format.js';

const M = (k) => [['memory', k]];
const KIB = (v) => (typeof v === 'number' && Number.isFinite(v) ? v * 1024 : null);

export function memoryPanel(app) {
	const p = makePanel('memory', 'Memory');
	const t = {
		used: new Tile('Used', 'bytes', ['memory', 'used_bytes']),
		usage: new Tile('Usage', 'pct', ['memory', 'usage_percent']),
		avail: new Tile('Available', 'bytes', ['memory', 'available_bytes'], { small: true }),
		cached: new Tile('Cached', 'bytes', ['memory', 'cached_bytes'], { small: true }),
		buffers: new Tile('Buffers', 'bytes', ['memory', 'buffers_bytes'], { small: true }),
		free: new Tile('Free', 'bytes', ['memory', 'free_bytes'], { small: true }),
		total: new Tile('Total', 'bytes', ['memory', 'total_bytes'], { small: true }),
		swapUsed: new Tile('Swap used', 'bytes', ['memory', 'swap_used_bytes'], { small: true }),
		swapFree: new Tile('Swap free', 'bytes', ['memory', 'swap_free_bytes'], { small: true }),
		swapTotal: new Tile('Swap total', 'bytes', ['memory', 'swap_total_bytes'], { small: true }),
	};
	const hp = {
		total: new Tile('Hugepages', 'count', ['memory', 'hugepages_total'], { small: true }),
		free: new Tile('free', 'count', ['memory', 'hugepages_free'], { small: true }),
		reserved: new Tile('reserved', 'count', ['memory', 'hugepages_reserved'], { small: true }),
		size: new Tile('page size', 'bytes', ['memory', 'hugepage_size_bytes'], { small: true }),
	};
	const rates = {
		pgin: new Tile('Page in', 'bytesRate', ['memory', 'pgpgin_per_sec'], { small: true, title: 'pgpgin', scale: 1024 }),
		pgout: new Tile('Page out', 'bytesRate', ['memory', 'pgpgout_per_sec'], { small: true, title: 'pgpgout', scale: 1024 }),
		swin: new Tile('Swap in', 'rate', ['memory', 'pswpin_per_sec'], { small: true, note: 'pages' }),
		swout: new Tile('Swap out', 'rate', ['memory', 'pswpout_per_sec'], { small: true, note: 'pages' }),
		faults: new Tile('Faults', 'rate', ['memory', 'pgfault_per_sec'], { small: true }),
		major: new Tile('Major faults', 'rate', ['memory', 'pgmajfault_per_sec'], { small: true }),
	};
	const hpRow = h('div', { class: 'tiles' }, Object.values(hp).map((x) => x.el));
	const rateRow = h('div', { class: 'tiles' }, Object.values(rates).map((x) => x.el));
	p.tiles.after(hpRow, rateRow);
	p.tiles.append(...Object.values(t).map((x) => x.el));

	new TimeChart(app, p.charts, {
		id: 'memory-use',
		title: 'RAM',
		unit: 'bytes',
		stacked: true,
		yMax: (s) => (s && s.memory ? s.memory.total_bytes : null),
		series: [
			{ label: 'used', color: '--s1', paths: M('used_bytes') },
			{ label: 'buffers', color: '--s4', paths: M('buffers_bytes') },
			{ label: 'cached', color: '--s5', paths: M('cached_bytes') },
			{ label: 'free', color: '--s7', paths: M('free_bytes') },
			{ label: 'available', color: '--s3', paths: M('available_bytes'), stack: false, dash: [4, 3] },
		],
	});
	new TimeChart(app, p.charts, {
		id: 'memory-swap',
		title: 'Swap',
		unit: 'bytes',
		yMax: (s) => (s && s.memory ? s.memory.swap_total_bytes : null),
		series: [{ label: 'used', color: '--s2', paths: M('swap_used_bytes') }],
	});
	new TimeChart(app, p.charts, {
		id: 'memory-paging',
		title: 'Paging',
		unit: 'bytesRate',
		series: [
			{ label: 'in', color: '--s1', paths: M('pgpgin_per_sec'), calc: (v) => KIB(v[0]) },
			{ label: 'out', color: '--s2', paths: M('pgpgout_per_sec'), calc: (v) => KIB(v[0]) },
			{ label: 'swap I/O', color: '--s3', paths: M('swap_io_bytes_per_sec') },
		],
	});
	new TimeChart(app, p.charts, {
		id: 'memory-faults',
		title: 'Page faults',
		unit: 'rate',
		unit2: 'rate',
		series: [
			{ label: 'faults/s', color: '--s5', paths: M('pgfault_per_sec') },
			{ label: 'major/s (right)', color: '--s8', paths: M('pgmajfault_per_sec'), scale: 'y2' },
		],
	});

	function update(s) {
		const m = s.memory;
		if (!m) {
			p.tiles.hidden = hpRow.hidden = rateRow.hidden = true;
			setText(p.calm, `No memory data in this snapshot${s.errors && s.errors.memory ? `: ${s.errors.memory}` : ''}.`);
			for (const x of [...Object.values(t), ...Object.values(hp), ...Object.values(rates)]) x.set(null);
			return;
		}
		setText(p.calm, '');
		p.tiles.hidden = hpRow.hidden = rateRow.hidden = false;
		t.used.set(num(m.used_bytes));
		t.usage.set(num(m.usage_percent));
		t.avail.set(num(m.available_bytes));
		t.cached.set(num(m.cached_bytes));
		t.buffers.set(num(m.buffers_bytes));
		t.free.set(num(m.free_bytes));
		t.total.set(num(m.total_bytes));
		t.swapUsed.set(num(m.swap_used_bytes), m.swap_total_bytes ? pct((m.swap_used_bytes / m.swap_total_bytes) * 100) : 'no swap');
		t.swapFree.set(num(m.swap_free_bytes));
		t.swapTotal.set(num(m.swap_total_bytes));
		hp.total.set(num(m.hugepages_total), m.hugepages_total ? `${bytes((m.hugepages_total - m.hugepages_free) * (m.hugepage_size_bytes || 0))} in use` : 'none reserved');
		hp.free.set(num(m.hugepages_free));
		hp.reserved.set(num(m.hugepages_reserved));
		hp.size.set(num(m.hugepage_size_bytes));
		hp.size.el.hidden = m.hugepage_size_bytes === undefined;
		rates.pgin.set(KIB(m.pgpgin_per_sec));
		rates.pgout.set(KIB(m.pgpgout_per_sec));
		rates.swin.set(num(m.pswpin_per_sec));
		rates.swout.set(num(m.pswpout_per_sec));
		rates.faults.set(num(m.pgfault_per_sec));
		rates.major.set(num(m.pgmajfault_per_sec));
	}

	return { el: p.el, update };
}
