// Network: per interface (bytes and packets per second, errors, drops) and TCP/UDP
// connection states.
import { makePanel, Tile, h, num, setText, KeyedGroups } from '../dom.js';
import { TimeChart } from '../chart.js';

const MAX_CHARTED = 8; // interfaces with charts; the others show their numbers

const CONN = [
	['tcp_established', 'established', '--s1'],
	['tcp_time_wait', 'time-wait', '--s3'],
	['tcp_close_wait', 'close-wait', '--s8'],
	['tcp_listen', 'listen', '--s5'],
	['udp_count', 'udp', '--s4'],
];

function interfaceGroup(app, name, charted) {
	const P = (k) => [['network', 'interfaces', name, k]];
	const tp = (k) => ['network', 'interfaces', name, k];
	const t = {
		rx: new Tile('Receive', 'bytesRate', tp('bytes_recv_per_sec')),
		tx: new Tile('Send', 'bytesRate', tp('bytes_sent_per_sec')),
		prx: new Tile('Packets in', 'rate', tp('packets_recv_per_sec'), { small: true }),
		ptx: new Tile('Packets out', 'rate', tp('packets_sent_per_sec'), { small: true }),
		ein: new Tile('Errors in', 'count', tp('errors_in'), { small: true, title: 'since boot' }),
		eout: new Tile('Errors out', 'count', tp('errors_out'), { small: true, title: 'since boot' }),
		din: new Tile('Drops in', 'count', tp('drops_in'), { small: true, title: 'since boot' }),
		dout: new Tile('Drops out', 'count', tp('drops_out'), { small: true, title: 'since boot' }),
		brx: new Tile('Received', 'bytes', tp('bytes_recv'), { small: true, title: 'since boot' }),
		btx: new Tile('Sent', 'bytes', tp('bytes_sent'), { small: true, title: 'since boot' }),
	};
	const charts = h('div', { class: 'charts' });
	const el = h('div', { class: 'group', 'data-group': `if:${name}` },
		h('h3', {}, name, h('span', { class: 'sub', text: 'interface' })),
		h('div', { class: 'tiles' }, Object.values(t).map((x) => x.el)), charts);
	// An interface that never moved a byte gets its numbers, and charts once it does.
	const idle = h('p', { class: 'calm', 'data-idle': 'No traffic since boot.' });
	charts.before(idle);
	let made = null;
	const makeCharts = () => [
		new TimeChart(app, charts, {
			id: `net-${name}-bytes`,
			title: `${name} throughput`,
			unit: 'bytesRate',
			series: [
				{ label: 'receive', color: '--s1', paths: P('bytes_recv_per_sec') },
				{ label: 'send', color: '--s2', paths: P('bytes_sent_per_sec') },
			],
		}),
		new TimeChart(app, charts, {
			id: `net-${name}-packets`,
			title: `${name} packets`,
			unit: 'rate',
			series: [
				{ label: 'in', color: '--s1', paths: P('packets_recv_per_sec') },
				{ label: 'out', color: '--s2', paths: P('packets_sent_per_sec') },
			],
		}),
	];
	return {
		el,
		update(f) {
			t.rx.set(num(f.bytes_recv_per_sec));
			t.tx.set(num(f.bytes_sent_per_sec));
			t.prx.set(num(f.packets_recv_per_sec));
			t.ptx.set(num(f.packets_sent_per_sec));
			for (const [k, key] of [['ein', 'errors_in'], ['eout', 'errors_out'], ['din', 'drops_in'], ['dout', 'drops_out']]) {
				t[k].set(num(f[key]));
				t[k].warn(f[key] > 0);
			}
			t.brx.set(num(f.bytes_recv));
			t.btx.set(num(f.bytes_sent));
			const moved = (f.bytes_recv || 0) + (f.bytes_sent || 0) > 0;
			if (moved && !made && charted.size < MAX_CHARTED) {
				made = makeCharts();
				charted.add(name);
			}
			setText(idle, moved ? (made ? '' : `Charts are drawn for the first ${MAX_CHARTED} active interfaces.`) : idle.dataset.idle);
			idle.hidden = moved && !!made;
		},
		destroy() {
			for (const c of made || []) c.destroy();
			charted.delete(name);
		},
	};
}

export function networkPanel(app) {
	const p = makePanel('network', 'Network');
	const conn = Object.fromEntries(CONN.map(([k, label]) => [k, new Tile(`TCP ${label}`.replace('TCP udp', 'UDP sockets'), 'count', ['network', 'connections', k], { small: true })]));
	p.tiles.append(...Object.values(conn).map((x) => x.el));
	new TimeChart(app, p.charts, {
		id: 'net-connections',
		title: 'Connections',
		unit: 'count',
		series: CONN.map(([k, label, color]) => ({ label, color, paths: [['network', 'connections', k]] })),
	});
	const list = h('div');
	const charted = new Set(); // names with charts, at most MAX_CHARTED
	p.el.append(list);
	const groups = new KeyedGroups(list, (name) => interfaceGroup(app, name, charted), { what: 'more interfaces' });
	const none = h('p', { class: 'calm' });
	p.el.append(none);

	function update(s) {
		const n = s.network;
		if (!n) {
			p.tiles.hidden = true;
			setText(p.calm, `No network data in this snapshot${s.errors && s.errors.network ? `: ${s.errors.network}` : ''}.`);
			for (const x of Object.values(conn)) x.set(null);
			return;
		}
		p.tiles.hidden = !n.connections;
		setText(p.calm, n.connections ? '' : 'Connection states are not available in this snapshot.');
		for (const [k] of CONN) conn[k].set(n.connections ? num(n.connections[k]) : null);
		groups.sync(n.interfaces, s);
		setText(none, n.interfaces && Object.keys(n.interfaces).length ? '' : 'No network interfaces other than loopback.');
	}

	return { el: p.el, update };
}
