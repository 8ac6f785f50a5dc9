// A heatmap over time: rows (CPU cores, latency buckets) by time, one colour per cell.
// Drawn with one ImageData the size of the plot (one pixel per column and row) scaled up,
// so that it costs the same for 2 cores or 256.
//
// spec = {
//   id, title, unit (of a cell, a key of format.units), scale: 'pct' | 'log',
//   rowsOf(snap) -> [values] | null      the live column
//   historyNames(nrows) -> [names]         per-row metric names for /api/history ([] = none)
//   rowLabel(i, nrows) -> text, rowTitle(i) -> text for the tooltip
//   lowAtBottom: true                      row 0 drawn at the bottom (latency buckets)
// }
import { units, clock, timeTick, isNum } from './format.js';
import { h, setText } from './dom.js';
import { cssVar } from './chart.js';

const GUTTER = 52;
const AXIS_H = 16;

function lutFromStops(stops) {
	const rgb = stops.map((hex) => {
		const n = parseInt(hex.replace('#', ''), 16);
		return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
	});
	const lut = new Uint8ClampedArray(256 * 3);
	for (let i = 0; i < 256; i++) {
		const x = (i / 255) * (rgb.length - 1);
		const k = Math.min(rgb.length - 2, Math.floor(x));
		const f = x - k;
		for (let c = 0; c < 3; c++) lut[i * 3 + c] = rgb[k][c] + (rgb[k + 1][c] - rgb[k][c]) * f;
	}
	return lut;
}

export class HeatStrip {
	constructor(app, parent, spec) {
		this.app = app;
		this.spec = spec;
		this.t = [];
		this.cols = [];
		this.rows = 0;
		this.liveFrom = 0;
		this.dirty = true;
		this.visible = false;
		this.historyLoaded = false;
		this.canvas = h('canvas', { class: 'heat', role: 'img', 'aria-label': `Heatmap: ${spec.title}, over time` });
		this.tip = h('div', { class: 'tip', hidden: true });
		this.lo = h('span', { class: 'key' });
		this.hi = h('span', { class: 'key' });
		this.gradient = h('i', { style: 'width:60px' });
		this.plot = h('div', { class: 'plot' }, this.canvas, this.tip);
		this.el = h('figure', { class: 'chart heat', 'data-chart': spec.id || spec.title },
			h('figcaption', {}, h('span', { text: spec.title }), h('span', { class: 'legend' }, this.lo, h('span', { class: 'key' }, this.gradient), this.hi)),
			this.plot);
		parent.append(this.el);
		this.canvas.addEventListener('mousemove', (e) => this.hover(e));
		this.canvas.addEventListener('mouseleave', () => (this.tip.hidden = true));
		app.register(this);
	}

	historyNames() {
		return this.rows ? this.spec.historyNames(this.rows) : [];
	}

	push(ts, snap) {
		const col = this.spec.rowsOf(snap);
		if (!Array.isArray(col)) return;
		const n = this.t.length;
		if (n && ts <= this.t[n - 1]) return;
		this.rows = Math.max(this.rows, col.length);
		this.t.push(ts);
		this.cols.push(col.map((v) => (isNum(v) ? v : null)));
		this.trim();
		this.dirty = true;
	}

	// As TimeChart.loadHistory: history replaces what the page had up to its newest point.
	loadHistory(hist) {
		const names = this.historyNames();
		const lists = names.map((nm) => hist.series.get(nm) || []);
		const ht = [];
		const hc = [];
		for (let i = 0; i < hist.t.length; i++) {
			const ts = hist.t[i];
			if (!isNum(ts) || (ht.length && ts <= ht[ht.length - 1])) continue;
			ht.push(ts);
			hc.push(lists.map((l) => (isNum(l[i]) ? l[i] : null)));
		}
		const end = ht.length ? ht[ht.length - 1] : -Infinity;
		let keep = 0;
		while (keep < this.t.length && this.t[keep] <= end) keep++;
		this.t = ht.concat(this.t.slice(keep));
		this.cols = hc.concat(this.cols.slice(keep));
		this.liveFrom = ht.length;
		this.historyLoaded = true;
		this.trim();
		this.dirty = true;
	}

	trim() {
		const cutoff = this.app.now - this.app.range;
		let i = 0;
		while (i < this.t.length && this.t[i] < cutoff) i++;
		if (i > 0) {
			this.t.splice(0, i);
			this.cols.splice(0, i);
			this.liveFrom = Math.max(0, this.liveFrom - i);
		}
	}

	clear() {
		this.t = [];
		this.cols = [];
		this.liveFrom = 0;
		this.dirty = true;
	}

	hasData() {
		return this.cols.some((c) => c.some((v) => v !== null));
	}

	build() {
		const stops = [0, 1, 2, 3, 4].map((i) => cssVar(`--heat-${i}`));
		this.lut = lutFromStops(stops);
		this.axis = cssVar('--axis');
		this.gradient.style.background = `linear-gradient(90deg, ${stops.join(',')})`;
		this.gradient.style.display = 'inline-block';
		this.gradient.style.height = '9px';
		this.dirty = true;
	}

	restyle() {
		this.lut = null;
		this.dirty = true;
	}

	// The colour level (0..255) of a cell; log scale for counts.
	levelFn() {
		if (this.spec.scale === 'pct') return (v) => Math.round(Math.min(100, Math.max(0, v)) * 2.55);
		let max = 0;
		for (const c of this.cols) for (const v of c) if (v > max) max = v;
		this.max = max;
		const lm = Math.log1p(max) || 1;
		return (v) => (v <= 0 ? 0 : Math.max(24, Math.round((Math.log1p(v) / lm) * 255)));
	}

	// Where the sample at index j begins: at the sample before it (a rate or a histogram
	// covers the interval since the previous one), unless that one is a gap away.
	coverStart(j) {
		const t = this.t;
		if (j > 0) {
			const d = t[j] - t[j - 1];
			// history from a coarser tier is as far apart as its neighbours: not a gap
			const local = j > 1 ? (t[j - 1] - t[j - 2]) * 2.5 : 0;
			if (d <= Math.max(this.app.gapLimit(), local)) return t[j - 1];
		}
		return t[j] - this.app.interval;
	}

	geometry() {
		const rows = Math.max(1, this.rows);
		// 128 px for a few rows, at least 3 px a row, at most 256 px (1024 CPUs share pixels)
		const plotH = Math.min(256, Math.max(rows * 3, Math.min(rows * 40, 128)));
		const cssW = Math.max(120, this.plot.clientWidth);
		return { rows, rowH: plotH / rows, plotH, cssW, cssH: plotH + AXIS_H, plotW: cssW - GUTTER - 8 };
	}

	draw() {
		if (!this.visible || !this.dirty) return;
		if (!this.lut) this.build();
		this.dirty = false;
		const g = this.geometry();
		const dpr = devicePixelRatio || 1;
		const cv = this.canvas;
		const W = Math.max(1, Math.round(g.plotW * dpr));
		if (cv.width !== Math.round(g.cssW * dpr) || cv.height !== Math.round(g.cssH * dpr)) {
			cv.width = Math.round(g.cssW * dpr);
			cv.height = Math.round(g.cssH * dpr);
			cv.style.height = `${g.cssH}px`;
		}
		const ctx = cv.getContext('2d');
		ctx.clearRect(0, 0, cv.width, cv.height);
		const [x0, x1] = this.app.xRange();
		const img = new ImageData(W, g.rows);
		const px = img.data;
		const level = this.levelFn();
		const lut = this.lut;
		let j = 0;
		const n = this.t.length;
		for (let x = 0; x < W; x++) {
			const tx = x0 + ((x + 0.5) / W) * (x1 - x0);
			while (j < n && this.t[j] < tx) j++;
			if (j >= n || tx <= this.coverStart(j)) continue;
			const col = this.cols[j];
			for (let r = 0; r < g.rows; r++) {
				const v = col[r];
				if (v === null || v === undefined) continue;
				const y = this.spec.lowAtBottom ? g.rows - 1 - r : r;
				const o = (y * W + x) * 4;
				const l = level(v) * 3;
				px[o] = lut[l];
				px[o + 1] = lut[l + 1];
				px[o + 2] = lut[l + 2];
				px[o + 3] = 255;
			}
		}
		if (!this.off) this.off = document.createElement('canvas');
		this.off.width = W;
		this.off.height = g.rows;
		this.off.getContext('2d').putImageData(img, 0, 0);
		ctx.imageSmoothingEnabled = false;
		const plotX = Math.round(GUTTER * dpr);
		const plotH = Math.round(g.plotH * dpr);
		ctx.drawImage(this.off, 0, 0, W, g.rows, plotX, 0, W, plotH);
		this.rect = [plotX, 0, W, plotH];

		// Row labels and a few time ticks.
		ctx.fillStyle = this.axis;
		ctx.font = `${11 * dpr}px system-ui, sans-serif`;
		ctx.textBaseline = 'middle';
		ctx.textAlign = 'right';
		const every = Math.ceil(12 / g.rowH);
		for (let r = 0; r < g.rows; r += every) {
			const y = this.spec.lowAtBottom ? g.rows - 1 - r : r;
			ctx.fillText(this.spec.rowLabel(r, g.rows), plotX - 6 * dpr, (y + 0.5) * g.rowH * dpr);
		}
		ctx.textBaseline = 'bottom';
		ctx.textAlign = 'center';
		const ticks = Math.max(2, Math.floor(g.plotW / 110));
		for (let i = 0; i <= ticks; i++) {
			const ts = x0 + ((x1 - x0) * i) / ticks;
			const x = plotX + (W * i) / ticks;
			ctx.textAlign = i === 0 ? 'left' : i === ticks ? 'right' : 'center';
			ctx.fillText(timeTick(ts, (x1 - x0) / ticks), x, cv.height);
		}
		setText(this.lo, this.spec.scale === 'pct' ? '0 %' : '0');
		setText(this.hi, this.spec.scale === 'pct' ? '100 %' : `${units.count.short(this.max || 0)} ${this.spec.countLabel || ''}`.trim());
		this.el.dataset.plot = this.rect.join(',');
		this.app.chartDrawn(this);
	}

	resize() {
		this.dirty = true;
		this.draw();
	}

	plotRect() {
		return this.rect || null;
	}

	hover(e) {
		const g = this.geometry();
		const bx = e.offsetX - GUTTER;
		if (bx < 0 || bx > g.plotW || e.offsetY >= g.plotH) {
			this.tip.hidden = true;
			return;
		}
		const [x0, x1] = this.app.xRange();
		const tx = x0 + (bx / g.plotW) * (x1 - x0);
		let j = 0;
		while (j < this.t.length && this.t[j] < tx) j++;
		const y = Math.min(g.rows - 1, Math.floor(e.offsetY / g.rowH));
		const r = this.spec.lowAtBottom ? g.rows - 1 - y : y;
		if (j >= this.t.length || tx <= this.coverStart(j)) {
			this.tip.hidden = true;
			return;
		}
		const v = this.cols[j][r];
		const u = units[this.spec.unit] || units.count;
		this.tip.replaceChildren(h('div', { class: 't', text: clock(this.t[j], this.app.range > 86400) }),
			h('div', { text: `${this.spec.rowTitle(r)}: ${this.spec.scale === 'pct' ? u.exact(v) : units.count.exact(v)}${this.spec.scale === 'pct' ? '' : ' ' + (this.spec.countLabel || '')}` }));
		this.tip.hidden = false;
		const w = this.tip.offsetWidth;
		let x = e.offsetX + 14;
		if (x + w > g.cssW) x = e.offsetX - w - 14;
		this.tip.style.left = `${Math.max(0, x)}px`;
		this.tip.style.top = `${Math.max(0, e.offsetY - 40)}px`;
	}

	destroy() {
		this.el.remove();
		this.app.unregister(this);
	}
}
