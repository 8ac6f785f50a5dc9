// Small DOM helpers: element building, tiles (one number with its label) and panels.
import { units, DASH } from './format.js';

export function h(tag, attrs = {}, ...kids) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs)) {
		if (v == null || v === false) continue;
		if (k === 'class') el.className = v;
		else if (k === 'text') el.textContent = v;
		else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
		else el.setAttribute(k, v === true ? '' : v);
	}
	for (const c of kids.flat()) if (c != null && c !== false) el.append(c);
	return el;
}

export function setText(el, text) {
	if (el.textContent !== text) el.textContent = text;
}

// A labelled number. `path` (an array of keys into the snapshot) is written on the element
// as data-path so that the browser test can check it against the snapshot the page got.
export class Tile {
	// scale: the shown value is the snapshot's times this (pgpgin KB/s shown as bytes/s).
	constructor(label, unit, path = null, { note = '', title = '', small = false, scale = null } = {}) {
		this.unit = units[unit] ? unit : 'count';
		this.valueEl = h('div', {
			class: small ? 'value small' : 'value',
			'data-path': path ? JSON.stringify(path) : null,
			'data-scale': scale,
			'data-unit': this.unit,
		});
		this.noteEl = h('div', { class: 'note' });
		this.el = h('div', { class: 'tile', title: title || null }, h('div', { class: 'label', text: label }), this.valueEl, this.noteEl);
		setText(this.noteEl, note);
		this.set(null);
	}

	set(value, note) {
		const u = units[this.unit];
		const v = typeof value === 'number' ? value : null;
		setText(this.valueEl, u.short(v));
		this.valueEl.dataset.value = v === null ? 'null' : String(v);
		const exact = u.exact(v);
		if (this.valueEl.title !== exact) this.valueEl.title = exact === DASH ? 'no value' : exact;
		if (note !== undefined) setText(this.noteEl, note);
	}

	// Where the value comes from, when that changes (derived here, or read from the snapshot).
	setPath(path) {
		const v = path ? JSON.stringify(path) : null;
		if (v === (this.valueEl.dataset.path || null)) return;
		if (v) this.valueEl.dataset.path = v;
		else delete this.valueEl.dataset.path;
	}

	warn(on) {
		this.el.classList.toggle('warn', !!on);
	}
}

// A panel: a <section> with a heading, a calm-message line, tiles and charts.
export function makePanel(id, title, { wide = false } = {}) {
	const headId = `${id}-title`;
	const sub = h('span', { class: 'sub' });
	const calm = h('p', { class: 'calm', 'data-calm': id });
	const tiles = h('div', { class: 'tiles' });
	const charts = h('div', { class: 'charts' });
	const el = h('section', { class: wide ? 'panel wide' : 'panel', id, 'aria-labelledby': headId },
		h('h2', { id: headId }, title, sub), calm, tiles, charts);
	return { el, sub, calm, tiles, charts };
}

export function getPath(obj, path) {
	let o = obj;
	for (const k of path) {
		if (o == null || typeof o !== 'object') return undefined;
		o = o[k];
	}
	return o;
}

export const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

// One sub-group per key of a snapshot object (network interfaces, block devices): made
// when the key appears, updated each snapshot, removed (with its charts) when it goes.
// Past `shown` groups the rest go into a closed <details>, so a host with a thousand
// interfaces stays a page.
export class KeyedGroups {
	constructor(container, create, { shown = 16, what = 'more' } = {}) {
		this.container = container;
		this.create = create; // (name, index) => { el, update(value, snap), destroy() }
		this.groups = new Map();
		this.shown = shown;
		this.moreList = h('div');
		this.moreSummary = h('summary');
		this.more = h('details', { class: 'group', hidden: true }, this.moreSummary, this.moreList);
		this.what = what;
		container.after(this.more);
	}

	sync(obj, snap) {
		const names = obj && typeof obj === 'object' ? Object.keys(obj) : [];
		const present = new Set(names);
		for (const [name, g] of this.groups) {
			if (!present.has(name)) {
				g.destroy();
				g.el.remove();
				this.groups.delete(name);
			}
		}
		for (const name of names) {
			let g = this.groups.get(name);
			if (!g) {
				g = this.create(name, this.groups.size);
				this.groups.set(name, g);
				(this.groups.size <= this.shown ? this.container : this.moreList).append(g.el);
			}
			g.update(obj[name], snap);
		}
		const extra = this.groups.size - this.shown;
		this.more.hidden = extra <= 0;
		if (extra > 0) setText(this.moreSummary, `${extra} ${this.what}`);
	}
}
