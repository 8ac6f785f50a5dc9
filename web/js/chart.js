// A time chart: one uPlot instance fed from history and then from each live snapshot.
//
// spec = {
//   title, unit,                      unit: a key of format.units (the y axis and tooltips)
//   series: [{ label, color: '--s1', paths: [[...keys]], calc?(vals, ctx), stack?, scale?,
//              hist?: false (live only: history does not keep it) }],
//   stacked?: true                    stack the series (areas); a series with stack:false is a line on top
//   yMax?: number | (snap) => number  the y axis reaches at least this
//   full?: true                       the y axis is always 0..100 (percent of a whole)
//   unit2?: unit of the series with scale:'y2' (drawn on a right-hand axis)
// }
// A series' value is calc(values at its paths, ctx) (default: the first value), where ctx
// is the snapshot (live) or { interval_s } (history), so derived values (rates from
// per-interval counts, ratios) chart the same from both sources.
import { units, axisLabel, byteIncrs, clock, timeTick, isNum } from './format.js';
import { h, getPath, setText, num } from './dom.js';

export function cssVar(name) {
	return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function hexRgb(hex) {
	const m = /^#?([0-9a-f]{6})$/i.exec(hex);
	if (!m) return [128, 128, 128];
	const n = parseInt(m[1], 16);
	return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
export function mix(hexA, hexB, t) {
	const a = hexRgb(hexA);
	const b = hexRgb(hexB);
	const c = a.map((x, i) => Math.round(x * t + b[i] * (1 - t)));
	return `rgb(${c[0]},${c[1]},${c[2]})`;
}
export function rgba(hex, alpha) {
	const [r, g, b] = hexRgb(hex);
	return `rgba(${r},${g},${b},${alpha})`;
}

const AXIS_FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

function axisSize(u, values, axisIdx, cycleNum) {
	const axis = u.axes[axisIdx];
	if (cycleNum > 1) return axis._size;
	let size = 12;
	let longest = '';
	for (const v of values || []) if (v.length > longest.length) longest = v;
	if (longest) {
		u.ctx.font = axis.font[0];
		size += u.ctx.measureText(longest).width / devicePixelRatio;
	}
	return Math.max(40, Math.ceil(size));
}

// Tick steps of the time axis, in seconds: one more step between 1 and 5 minutes than uPlot has.
const TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 259200, 604800];

export const defaultCalc = (vals) => num(vals[0]);

export class TimeChart {
	constructor(app, parent, spec) {
		this.app = app;
		this.spec = spec;
		this.series = spec.series.map((s) => ({ calc: defaultCalc, stack: !!spec.stacked, ...s }));
		this.t = [];
		this.cols = this.series.map(() => []);
		this.liveFrom = 0; // index of the first point that came live (not from history)
		this.bucketStart = -Infinity;
		this.bucketN = 1;
		this.dirty = true;
		this.visible = false;
		this.u = null;
		this.historyLoaded = false;

		this.keys = this.series.map((s) => {
			const val = h('b');
			const sw = h('i');
			return { el: h('span', { class: 'key' }, sw, s.label, val), sw, val };
		});
		this.plot = h('div', { class: 'plot', role: 'img', 'aria-label': this.ariaLabel() });
		this.el = h('figure', { class: 'chart', 'data-chart': spec.id || spec.title },
			h('figcaption', {}, h('span', { text: spec.title }), h('span', { class: 'legend' }, this.keys.map((k) => k.el))),
			this.plot);
		parent.append(this.el);
		app.register(this);
	}

	ariaLabel() {
		const unitName = { bytes: 'bytes', bytesRate: 'bytes per second', pct: 'percent', rate: 'per second', ms: 'milliseconds', mhz: 'megahertz', celsius: 'degrees Celsius' }[this.spec.unit] || '';
		return `Chart: ${this.spec.title}${unitName ? ` (${unitName})` : ''}, over time: ${this.series.map((s) => s.label).join(', ')}`;
	}

	// Metric names this chart wants from /api/history.
	historyNames() {
		const out = [];
		for (const s of this.series) if (s.hist !== false) for (const p of s.paths) out.push(p.join('.'));
		return out;
	}

	valuesOf(snap) {
		return this.series.map((s) => {
			const v = s.calc(s.paths.map((p) => getPath(snap, p)), snap);
			return isNum(v) ? v : null;
		});
	}

	// A live snapshot. Points closer together than the range allows (app.minGap) are
	// averaged into one, so a week-long view stays a bounded number of points.
	push(ts, snap) {
		const vals = this.valuesOf(snap);
		for (let i = 0; i < vals.length; i++) {
			const u = units[this.series[i].unit || (this.series[i].scale === 'y2' ? this.spec.unit2 : this.spec.unit)] || units.count;
			setText(this.keys[i].val, u.short(vals[i]));
		}
		const n = this.t.length;
		if (n && ts <= this.t[n - 1]) return; // replayed on reconnect
		if (n > this.liveFrom && ts - this.bucketStart < this.app.minGap()) {
			const k = this.bucketN++;
			for (let i = 0; i < vals.length; i++) {
				const old = this.cols[i][n - 1];
				const v = vals[i];
				if (v === null) continue;
				this.cols[i][n - 1] = old === null ? v : (old * k + v) / (k + 1);
			}
			this.t[n - 1] = ts;
		} else {
			// A gap (the daemon was down): a null point so the line breaks instead of
			// bridging it.
			if (n && ts - this.t[n - 1] > this.app.gapLimit()) {
				this.t.push(this.t[n - 1] + this.app.interval);
				for (const c of this.cols) c.push(null);
			}
			this.t.push(ts);
			for (let i = 0; i < vals.length; i++) this.cols[i].push(vals[i]);
			this.bucketStart = ts;
			this.bucketN = 1;
		}
		this.trim();
		this.dirty = true;
	}

	// History: { t: [seconds], series: Map(name -> [values]) }, oldest first. It is what
	// the daemon stored, so it replaces what the page had up to its newest point (live
	// points averaged for another range, a gap while the connection was down); the live
	// points after it stay.
	loadHistory(hist) {
		const ctx = { interval_s: this.app.interval };
		const ht = [];
		const hcols = this.series.map(() => []);
		const lists = this.series.map((s) => s.paths.map((p) => hist.series.get(p.join('.')) || []));
		for (let i = 0; i < hist.t.length; i++) {
			const ts = hist.t[i];
			if (!isNum(ts) || (ht.length && ts <= ht[ht.length - 1])) continue;
			ht.push(ts);
			for (let j = 0; j < this.series.length; j++) {
				const v = this.series[j].calc(lists[j].map((l) => l[i]), ctx);
				hcols[j].push(isNum(v) ? v : null);
			}
		}
		const end = ht.length ? ht[ht.length - 1] : -Infinity;
		let keep = 0;
		while (keep < this.t.length && this.t[keep] <= end) keep++;
		this.t = ht.concat(this.t.slice(keep));
		this.cols = hcols.map((c, j) => c.concat(this.cols[j].slice(keep)));
		this.liveFrom = ht.length;
		this.bucketStart = -Infinity;
		this.historyLoaded = true;
		this.trim();
		this.dirty = true;
	}

	// Drops what the range no longer shows (keeping one point before it, for the line).
	trim() {
		const cutoff = this.app.now - this.app.range;
		let i = 0;
		while (i + 1 < this.t.length && this.t[i + 1] < cutoff) i++;
		if (i > 0) {
			this.t.splice(0, i);
			for (const c of this.cols) c.splice(0, i);
			this.liveFrom = Math.max(0, this.liveFrom - i);
		}
	}

	clear() {
		this.t = [];
		this.cols = this.series.map(() => []);
		this.liveFrom = 0;
		this.dirty = true;
	}

	// True when some series has two neighbouring values: a line to draw.
	hasData() {
		return this.cols.some((c) => c.some((v, i) => v !== null && i > 0 && c[i - 1] !== null));
	}

	// uPlot's data: for stacked charts, cumulative sums drawn top-down with opaque fills so
	// that each layer covers the ones above it.
	plotData() {
		if (!this.spec.stacked) return [this.t, ...this.cols];
		const n = this.t.length;
		const acc = new Array(n).fill(0);
		const layers = [];
		this.series.forEach((s, j) => {
			if (!s.stack) return;
			const col = this.cols[j];
			const out = new Array(n);
			for (let i = 0; i < n; i++) {
				const v = col[i];
				out[i] = v === null || acc[i] === null ? null : (acc[i] += v);
				if (v === null) acc[i] = null;
			}
			layers.push(out);
		});
		const lines = this.series.map((s, j) => (s.stack ? null : this.cols[j])).filter(Boolean);
		return [this.t, ...layers.reverse(), ...lines];
	}

	// The series in uPlot's order, matching plotData().
	plotSeries() {
		if (!this.spec.stacked) return this.series;
		const stacked = this.series.filter((s) => s.stack).reverse();
		return [...stacked, ...this.series.filter((s) => !s.stack)];
	}

	yRange(min, max, scale) {
		const spec = this.spec;
		if (spec.full && scale === 'y') return [0, 100];
		let top = isNum(max) ? max : 0;
		const floor = typeof spec.yMax === 'function' ? spec.yMax(this.app.latest) : spec.yMax;
		if (scale === 'y' && isNum(floor)) top = Math.max(top, floor);
		if (top <= 0) top = spec.unit === 'pct' ? 1 : 1;
		let hi = uPlot.rangeNum(0, top, 0.08, true)[1];
		if (spec.unit === 'pct' && scale === 'y') hi = Math.min(hi, 100);
		// a little room under zero, so that a line at 0 shows above the axis
		return [Math.min(0, isNum(min) ? min : 0) - hi * 0.03, hi];
	}

	build() {
		if (this.u) this.u.destroy();
		const c = {
			axis: cssVar('--axis'),
			grid: cssVar('--grid'),
			panel: cssVar('--panel'),
		};
		const spec = this.spec;
		this.colors = this.series.map((s) => cssVar(s.color) || '#888888');
		this.keys.forEach((k, i) => (k.sw.style.background = this.colors[i]));
		const order = this.plotSeries();
		const single = this.series.length === 1;
		const useY2 = this.series.some((s) => s.scale === 'y2');
		const yAxis = (scale, unit, side) => ({
			scale,
			side,
			stroke: c.axis,
			font: AXIS_FONT,
			grid: { show: side === 3, stroke: c.grid, width: 1 },
			ticks: { show: false },
			gap: 4,
			size: axisSize,
			incrs: unit === 'bytes' || unit === 'bytesRate' ? byteIncrs : undefined,
			values: (u, splits, ax, space, incr) => splits.map((v) => axisLabel(unit, v, incr)),
		});
		const opts = {
			width: Math.max(100, this.plot.clientWidth || 300),
			height: this.plot.clientHeight || 150,
			padding: [6, useY2 ? 0 : 16, 0, 0],
			legend: { show: false },
			cursor: { y: false, drag: { x: false, y: false, setScale: false }, points: { size: 5 } },
			scales: {
				x: { time: true, range: () => this.app.xRange() },
				y: { range: (u, min, max) => this.yRange(min, max, 'y') },
				y2: { range: (u, min, max) => this.yRange(min, max, 'y2') },
			},
			axes: [
				{
					stroke: c.axis,
					font: AXIS_FONT,
					grid: { stroke: c.grid, width: 1 },
					ticks: { show: false },
					size: 22,
					space: 60,
					incrs: TIME_INCRS,
					gap: 4,
					values: (u, splits, ax, space, incr) => splits.map((v) => timeTick(v, incr)),
				},
				yAxis('y', spec.unit, 3),
				...(useY2 ? [yAxis('y2', spec.unit2 || spec.unit, 1)] : []),
			],
			series: [{}, ...order.map((s) => {
				const color = this.colors[this.series.indexOf(s)];
				return {
					label: s.label,
					scale: s.scale || 'y',
					stroke: color,
					width: s.stack && spec.stacked ? 1 : 1.5,
					fill: spec.stacked && s.stack ? mix(color, c.panel, 0.55) : single ? rgba(color, 0.1) : undefined,
					dash: s.dash,
					points: { show: false },
					spanGaps: false,
				};
			})],
			plugins: [tooltipPlugin(this)],
			hooks: { draw: [() => this.app.chartDrawn(this)] },
		};
		this.u = new uPlot(opts, this.plotData(), this.plot);
		this.el.dataset.colors = this.colors.join(',');
		this.dirty = false;
	}

	// New colours (theme switch): built again at the next draw.
	restyle() {
		if (this.u) this.u.destroy();
		this.u = null;
		this.dirty = true;
	}

	draw() {
		if (!this.visible || !this.dirty) return;
		if (!this.u) {
			this.build();
			return;
		}
		this.u.setData(this.plotData());
		this.dirty = false;
	}

	resize() {
		if (!this.u) return;
		const w = Math.max(100, this.plot.clientWidth);
		if (w !== this.u.width) this.u.setSize({ width: w, height: this.u.height });
	}

	// Where the series are drawn, in canvas pixels (the browser test reads it).
	plotRect() {
		if (!this.u) return null;
		const b = this.u.bbox;
		return [b.left, b.top, b.width, b.height].map(Math.round);
	}

	tooltipRows(idx) {
		const rows = [];
		for (let j = 0; j < this.series.length; j++) {
			const s = this.series[j];
			const u = units[s.unit || (s.scale === 'y2' ? this.spec.unit2 : this.spec.unit)] || units.count;
			rows.push([this.colors[j], s.label, u.exact(this.cols[j][idx])]);
		}
		return rows;
	}

	destroy() {
		if (this.u) this.u.destroy();
		this.u = null;
		this.el.remove();
		this.app.unregister(this);
	}
}

// Exact values under the cursor, in a box that follows it.
export function tooltipPlugin(chart) {
	let tip = null;
	return {
		hooks: {
			init: (u) => {
				tip = h('div', { class: 'tip', hidden: true });
				u.over.appendChild(tip);
				u.over.addEventListener('mouseleave', () => (tip.hidden = true));
			},
			setCursor: (u) => {
				const idx = u.cursor.idx;
				if (idx == null || u.cursor.left < 0 || chart.t[idx] === undefined) {
					tip.hidden = true;
					return;
				}
				tip.replaceChildren(h('div', { class: 't', text: clock(chart.t[idx], chart.app.range > 86400) }),
					...chart.tooltipRows(idx).map(([color, label, value]) =>
						h('div', {}, h('i', { style: `background:${color}` }), `${label}: `, h('span', { text: value }))));
				tip.hidden = false;
				const w = tip.offsetWidth;
				const ow = u.over.clientWidth;
				let x = u.cursor.left + 14;
				if (x + w > ow) x = u.cursor.left - w - 14;
				tip.style.left = `${Math.max(0, x)}px`;
				tip.style.top = '4px';
			},
		},
	};
}
