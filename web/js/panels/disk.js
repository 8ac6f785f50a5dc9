// Disk: partition usage bars, and per block device throughput, IOPS and latency.
import { makePanel, Tile, h, num, setText, KeyedGroups } from '../dom.js';
import { TimeChart } from '../chart.js';

const MAX_CHARTED = 8; // devices with charts; the others show their numbers
import { bytes, pct, units } from '../format.js';

function deviceGroup(app, name, charted) {
	const P = (k) => [['disk', 'devices', name, k]];
	const tp = (k) => ['disk', 'devices', name, k];
	const t = {
		rb: new Tile('Read', 'bytesRate', tp('read_bytes_per_sec')),
		wb: new Tile('Write', 'bytesRate', tp('write_bytes_per_sec')),
		ri: new Tile('Read IOPS', 'rate', tp('read_iops'), { small: true }),
		wi: new Tile('Write IOPS', 'rate', tp('write_iops'), { small: true }),
		rl: new Tile('Read latency', 'ms', tp('read_latency_ms'), { small: true, title: 'mean per completed read' }),
		wl: new Tile('Write latency', 'ms', tp('write_latency_ms'), { small: true, title: 'mean per completed write' }),
		rt: new Tile('Read', 'bytes', tp('read_bytes'), { small: true, title: 'since boot' }),
		wt: new Tile('Written', 'bytes', tp('write_bytes'), { small: true, title: 'since boot' }),
	};
	const charts = h('div', { class: 'charts' });
	const el = h('div', { class: 'group', 'data-group': `dev:${name}` },
		h('h3', {}, name, h('span', { class: 'sub', text: 'block device' })),
		h('div', { class: 'tiles' }, Object.values(t).map((x) => x.el)), charts);
	const rw = (k) => [
		{ label: 'read', color: '--s1', paths: P(`read_${k}`) },
		{ label: 'write', color: '--s2', paths: P(`write_${k}`) },
	];
	// A device that never did I/O gets its numbers, and charts once it does.
	const idle = h('p', { class: 'calm', 'data-idle': 'No I/O since boot.' });
	charts.before(idle);
	let made = null;
	const makeCharts = () => [
		new TimeChart(app, charts, { id: `disk-${name}-throughput`, title: `${name} throughput`, unit: 'bytesRate', series: rw('bytes_per_sec') }),
		new TimeChart(app, charts, { id: `disk-${name}-iops`, title: `${name} IOPS`, unit: 'rate', series: rw('iops') }),
		new TimeChart(app, charts, { id: `disk-${name}-latency`, title: `${name} latency`, unit: 'ms', series: rw('latency_ms') }),
	];
	return {
		el,
		update(d) {
			t.rb.set(num(d.read_bytes_per_sec));
			t.wb.set(num(d.write_bytes_per_sec));
			t.ri.set(num(d.read_iops));
			t.wi.set(num(d.write_iops));
			t.rl.set(num(d.read_latency_ms));
			t.wl.set(num(d.write_latency_ms));
			t.rt.set(num(d.read_bytes));
			t.wt.set(num(d.write_bytes));
			const moved = (d.read_count || 0) + (d.write_count || 0) > 0;
			if (moved && !made && charted.size < MAX_CHARTED) {
				made = makeCharts();
				charted.add(name);
			}
			setText(idle, moved ? (made ? '' : `Charts are drawn for the first ${MAX_CHARTED} active devices.`) : idle.dataset.idle);
			idle.hidden = moved && !!made;
		},
		destroy() {
			for (const c of made || []) c.destroy();
			charted.delete(name);
		},
	};
}

function partitionRow(mount) {
	const fill = h('span');
	const bar = h('div', { class: 'bar', role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-label': `${mount} usage` }, fill);
	const sub = h('small');
	const used = h('b', { 'data-path': JSON.stringify(['disk', 'partitions', mount, 'usage_percent']), 'data-unit': 'pct' });
	const of = h('span');
	const name = h('div', { class: 'name' }, mount, sub);
	const numEl = h('div', { class: 'num' }, used, of);
	return {
		els: [name, bar, numEl],
		update(part) {
			const u = num(part.usage_percent);
			fill.style.width = `${Math.min(100, Math.max(0, u || 0))}%`;
			bar.classList.toggle('warn', u >= 80 && u < 90);
			bar.classList.toggle('bad', u >= 90);
			bar.setAttribute('aria-valuenow', u === null ? '0' : String(u));
			setText(sub, `${part.device} · ${part.fstype}`);
			setText(used, pct(u));
			used.dataset.value = u === null ? 'null' : String(u);
			used.title = units.pct.exact(u);
			setText(of, ` · ${bytes(part.used_bytes)} of ${bytes(part.total_bytes)} · ${bytes(part.free_bytes)} free`);
			name.title = `${part.mountpoint}: ${part.device} (${part.fstype}), ${units.bytes.exact(part.used_bytes)} used of ${units.bytes.exact(part.total_bytes)}`;
		},
	};
}

export function diskPanel(app) {
	const p = makePanel('disk', 'Disk');
	const partTitle = h('h3', { text: 'Partitions' });
	const bars = h('div', { class: 'bars', role: 'list', 'aria-label': 'Partition usage' });
	p.tiles.replaceWith(partTitle, bars);
	p.charts.remove();
	const rows = new Map();
	const list = h('div');
	const charted = new Set(); // names with charts, at most MAX_CHARTED
	p.el.append(list);
	const groups = new KeyedGroups(list, (name) => deviceGroup(app, name, charted), { what: 'more devices' });
	const none = h('p', { class: 'calm' });
	p.el.append(none);

	function update(s) {
		const d = s.disk;
		if (!d) {
			setText(p.calm, `No disk data in this snapshot${s.errors && s.errors.disk ? `: ${s.errors.disk}` : ''}.`);
			partTitle.hidden = true;
			return;
		}
		setText(p.calm, '');
		const parts = d.partitions || {};
		const names = Object.keys(parts);
		for (const [m, r] of rows) {
			if (!names.includes(m)) {
				for (const e of r.els) e.remove();
				rows.delete(m);
			}
		}
		for (const m of names) {
			let r = rows.get(m);
			if (!r) {
				r = partitionRow(m);
				rows.set(m, r);
				bars.append(...r.els);
			}
			r.update(parts[m]);
		}
		partTitle.hidden = names.length === 0;
		groups.sync(d.devices, s);
		setText(none, d.devices && Object.keys(d.devices).length ? '' : 'No block devices (loop and ram devices are left out).');
	}

	return { el: p.el, update };
}
