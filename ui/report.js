/*
 * ui/report.js — draws the page `lxcscale replay --html FILE` writes.
 *
 * The page is one file: uPlot (window.uPlot), this script, and the replay's results as JSON
 * in <script type="application/json" id="data"> (written by user/sim/report_data.c). This
 * script reads that JSON and builds everything else with DOM calls (text is always set as
 * text, never parsed as HTML: trace names come from recordings). It needs no network and
 * no other file, so it works from a file:// URL on an offline machine.
 *
 * The data (times in seconds; a trace's `start` is a Unix time, every other time is seconds
 * since that start; a null value is undefined):
 *   { generator, version, input, policies: ["lxcscale", "reference"],
 *     rows: [scorecard row labels, as the text scorecard prints them],
 *     max_points: the most points any chart was given,
 *     total: { title, cells: [per policy: [one string per row]] },
 *     traces: [{ name, vmid, start, step, steps, bucket_steps, init_cpu, init_mem,
 *                incidents: [{ kind, start, end, relievable }],
 *                t: [point times], cpu_demand: [cores], mem_demand: [MiB],
 *                runs: [per policy: { policy, cpu_limit: [cores], mem_limit: [MiB],
 *                                     cpu_throttled: [[start, end]], mem_pressure: [[start, end]],
 *                                     oom: [times], oom_total }],
 *                cells: [per policy: [one string per row]] }] }
 * A trace longer than max_points steps comes as the lowest and highest value of each bucket
 * of bucket_steps steps (two points per bucket, in the order they happened), so spikes stay.
 *
 * What it draws: the total scorecard, an overview of the traces, then per trace one
 * <div class="chart" data-trace="NAME"> holding two plots (CPU cores, memory MiB): the demand
 * against each policy's limit (a stepped line), the labelled incidents shaded behind, the
 * ranges where a policy's limit hurt as strips along the bottom (one lane per policy), OOM
 * kills as dashed lines with a cross; then the trace's scorecard. The two plots of a trace
 * share their cursor and their zoom (drag to zoom, double-click to reset).
 *
 * When every plot has drawn once: document.body.dataset.ready = "1", data-charts = the
 * number of traces drawn (one .chart each), data-plots = the number of plots; a problem
 * (bad data, a plot that failed) is shown on the page and put in data-error as well.
 */
(function () {
	'use strict';

	var COLORS = ['#1f6fd1', '#e07000', '#2e9d3a', '#9b3fc0']; /* one per policy, in order */
	var DEMAND_COLOR = '#222';
	var INCIDENT_FILL = 'rgba(255, 196, 0, 0.20)';
	var UNRELIEVABLE_FILL = 'rgba(120, 120, 140, 0.16)';
	var INCIDENT_TEXT = '#7a5a00';
	var PLOT_HEIGHT = 230;
	var LANE_PX = 5, LANE_GAP_PX = 2; /* a strip lane's height, and the gap under each */
	var DRAW_TIMEOUT_MS = 10000;

	var errors = [];
	var plots = [];       /* every uPlot, for resizing */
	var pending = 0;      /* plots not drawn yet */
	var built = false;    /* every plot has been constructed */
	var finished = false;
	var charts = 0;

	function problem(msg) {
		errors.push(msg);
		var box = document.getElementById('report-errors');
		if (box) {
			box.hidden = false;
			box.appendChild(el('li', null, msg));
		}
	}

	/* <tag attrs...>children</tag>; children: strings (as text), nodes, or arrays of them */
	function el(tag, attrs, children) {
		var e = document.createElement(tag);
		if (attrs)
			Object.keys(attrs).forEach(function (k) {
				if (attrs[k] === null || attrs[k] === undefined)
					return;
				if (k === 'class')
					e.className = attrs[k];
				else if (k.slice(0, 5) === 'data-')
					e.setAttribute(k, String(attrs[k]));
				else
					e[k] = attrs[k];
			});
		(function add(c) {
			if (c === null || c === undefined)
				return;
			if (Array.isArray(c))
				c.forEach(add);
			else
				e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
		})(children);
		return e;
	}

	/* ---- numbers and times ---------------------------------------------------------- */

	function isNum(v) {
		return typeof v === 'number' && isFinite(v);
	}

	function fmtDuration(s) {
		if (!isNum(s))
			return '-';
		var neg = s < 0;
		s = Math.abs(s);
		if (s < 1 && s > 0)
			return (neg ? '-' : '') + Math.round(s * 1000) + ' ms';
		if (s < 60 && s !== Math.round(s))
			return (neg ? '-' : '') + s.toFixed(1) + 's';
		s = Math.round(s);
		var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
		var m = Math.floor(s % 3600 / 60), sec = s % 60;
		var pad = function (n) { return (n < 10 ? '0' : '') + n; };
		var out;
		if (d > 0)
			out = d + 'd ' + h + 'h' + (m ? ' ' + pad(m) + 'm' : '');
		else if (h > 0)
			out = h + 'h ' + pad(m) + 'm' + (sec ? ' ' + pad(sec) + 's' : '');
		else if (m > 0)
			out = m + 'm' + (sec ? ' ' + pad(sec) + 's' : '');
		else
			out = sec + 's';
		return (neg ? '-' : '') + out;
	}

	function fmtUTC(unix) {
		if (!isNum(unix))
			return '-';
		var d = new Date(unix * 1000);
		return isNaN(d.getTime()) ? '-' : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
	}

	function fmtCores(v) {
		return isNum(v) ? v.toFixed(v >= 100 ? 1 : 3) : '-';
	}

	function fmtMiB(v) {
		return isNum(v) ? Math.round(v).toLocaleString('en-US') + ' MiB' : '-';
	}

	/* ---- the data, checked before anything is drawn ---------------------------------- */

	function numArray(v, n) {
		if (!Array.isArray(v) || (n !== undefined && v.length !== n))
			return false;
		for (var i = 0; i < v.length; i++)
			if (v[i] !== null && !isNum(v[i]))
				return false;
		return true;
	}

	function rangeArray(v) {
		return Array.isArray(v) && v.every(function (r) {
			return Array.isArray(r) && r.length === 2 && isNum(r[0]) && isNum(r[1]);
		});
	}

	function cellsOk(cells, nPolicies, nRows) {
		return Array.isArray(cells) && cells.length === nPolicies && cells.every(function (c) {
			return Array.isArray(c) && c.length === nRows;
		});
	}

	/* '' when the trace can be drawn, else what is wrong with it */
	function traceProblem(tr, data) {
		if (!tr || typeof tr !== 'object')
			return 'not an object';
		if (typeof tr.name !== 'string')
			return 'no name';
		if (!isNum(tr.start) || !isNum(tr.step))
			return 'no start or step';
		var n = Array.isArray(tr.t) ? tr.t.length : -1;
		if (!numArray(tr.t) || n === 0)
			return 'no points';
		for (var i = 1; i < n; i++)
			if (!(tr.t[i] > tr.t[i - 1]))
				return 'point times not increasing';
		if (!numArray(tr.cpu_demand, n) || !numArray(tr.mem_demand, n))
			return 'demand series of the wrong length';
		if (!Array.isArray(tr.runs) || tr.runs.length !== data.policies.length)
			return 'not one run per policy';
		for (var k = 0; k < tr.runs.length; k++) {
			var r = tr.runs[k];
			if (!r || !numArray(r.cpu_limit, n) || !numArray(r.mem_limit, n))
				return 'limit series of the wrong length';
			if (!rangeArray(r.cpu_throttled) || !rangeArray(r.mem_pressure) || !numArray(r.oom))
				return 'bad ranges or OOM kills';
		}
		if (!Array.isArray(tr.incidents))
			return 'no incident list';
		if (!cellsOk(tr.cells, data.policies.length, data.rows.length))
			return 'bad scorecard';
		return '';
	}

	function dataProblem(data) {
		if (!data || typeof data !== 'object')
			return 'the data is not an object';
		if (!Array.isArray(data.policies) || data.policies.length === 0)
			return 'no policies';
		if (!Array.isArray(data.rows))
			return 'no scorecard rows';
		if (!data.total || !cellsOk(data.total.cells, data.policies.length, data.rows.length))
			return 'no total scorecard';
		if (!Array.isArray(data.traces))
			return 'no traces';
		return '';
	}

	/* ---- tables ---------------------------------------------------------------------- */

	function scorecardTable(title, rows, policies, cells) {
		var head = el('tr', null, [el('th', { scope: 'col' }, title)].concat(policies.map(function (p, k) {
			return el('th', { scope: 'col' }, [swatch(k), p]);
		})));
		var body = rows.map(function (label, i) {
			var indented = /^\s/.test(label);
			return el('tr', { 'class': indented ? 'sub' : null }, [el('th', { scope: 'row' }, label.trim())]
				.concat(policies.map(function (p, k) { return el('td', null, String(cells[k][i])); })));
		});
		return el('table', { 'class': 'scorecard' }, [el('thead', null, head), el('tbody', null, body)]);
	}

	function swatch(k) {
		var s = el('span', { 'class': 'swatch' });
		s.style.background = COLORS[k % COLORS.length];
		return s;
	}

	function rowIndex(rows, label) {
		for (var i = 0; i < rows.length; i++)
			if (rows[i].trim() === label)
				return i;
		return -1;
	}

	function traceId(i) {
		return 'trace-' + i;
	}

	/* One line per trace: its length, its incidents and a few of its figures per policy. */
	function overview(data, usable) {
		var picks = ['incidents relieved %', 'OOM kills', 'throttled CPU-s']
			.map(function (l) { return { label: l, row: rowIndex(data.rows, l) }; })
			.filter(function (p) { return p.row >= 0; });
		var head = [el('th', { scope: 'col', rowSpan: 2 }, 'trace'), el('th', { scope: 'col', rowSpan: 2 }, 'length'),
			el('th', { scope: 'col', rowSpan: 2 }, 'incidents')];
		var head2 = [];
		picks.forEach(function (p) {
			head.push(el('th', { scope: 'colgroup', colSpan: data.policies.length }, p.label));
			data.policies.forEach(function (name, k) { head2.push(el('th', { scope: 'col' }, [swatch(k), name])); });
		});
		var body = data.traces.map(function (tr, i) {
			if (!usable[i])
				return el('tr', null, [el('td', null, tr && typeof tr.name === 'string' ? tr.name : '#' + i),
					el('td', { colSpan: 2 + picks.length * data.policies.length }, 'not drawn: bad data')]);
			var cellsRow = [
				el('td', null, el('a', { href: '#' + traceId(i) }, tr.name)),
				el('td', null, fmtDuration(tr.steps * tr.step)),
				el('td', null, String(tr.incidents.length)),
			];
			picks.forEach(function (p) {
				data.policies.forEach(function (name, k) { cellsRow.push(el('td', null, String(tr.cells[k][p.row]))); });
			});
			return el('tr', null, cellsRow);
		});
		return el('table', { 'class': 'overview' }, [el('thead', null, [el('tr', null, head), el('tr', null, head2)]),
			el('tbody', null, body)]);
	}

	/* ---- charts ---------------------------------------------------------------------- */

	/* Behind the series: the labelled incidents, full height, with their kind. */
	function drawIncidents(u, tr) {
		var ctx = u.ctx, b = u.bbox, dpr = window.devicePixelRatio || 1;
		ctx.save();
		ctx.beginPath();
		ctx.rect(b.left, b.top, b.width, b.height);
		ctx.clip();
		ctx.font = Math.round(10 * dpr) + 'px sans-serif';
		ctx.textAlign = 'left'; /* uPlot leaves the axes' alignment in the context */
		ctx.textBaseline = 'top';
		tr.incidents.forEach(function (inc) {
			if (!inc || !isNum(inc.start) || !isNum(inc.end))
				return;
			var x0 = u.valToPos(tr.start + inc.start, 'x', true);
			var x1 = u.valToPos(tr.start + inc.end, 'x', true);
			if (x1 < b.left || x0 > b.left + b.width)
				return;
			ctx.fillStyle = inc.relievable ? INCIDENT_FILL : UNRELIEVABLE_FILL;
			ctx.fillRect(x0, b.top, Math.max(dpr, x1 - x0), b.height);
			ctx.fillStyle = INCIDENT_TEXT;
			ctx.fillText(String(inc.kind) + (inc.relievable ? '' : ' (a resize cannot help)'),
				Math.max(x0, b.left) + 3 * dpr, b.top + 3 * dpr);
		});
		ctx.restore();
	}

	/* Over the series: per policy a lane of strips along the bottom where its limit hurt,
	 * and (memory) its OOM kills as dashed lines with a cross at the top. */
	function drawMarks(u, tr, resource) {
		var ctx = u.ctx, b = u.bbox, dpr = window.devicePixelRatio || 1;
		var lane = LANE_PX * dpr, gap = LANE_GAP_PX * dpr;
		ctx.save();
		ctx.beginPath();
		ctx.rect(b.left, b.top, b.width, b.height);
		ctx.clip();
		tr.runs.forEach(function (run, k) {
			var color = COLORS[k % COLORS.length];
			var y = b.top + b.height - (k + 1) * (lane + gap);
			var ranges = resource === 'cpu' ? run.cpu_throttled : run.mem_pressure;
			ctx.globalAlpha = 0.85;
			ctx.fillStyle = color;
			ranges.forEach(function (r) {
				var x0 = u.valToPos(tr.start + r[0], 'x', true);
				var x1 = u.valToPos(tr.start + r[1], 'x', true);
				if (x1 < b.left || x0 > b.left + b.width)
					return;
				ctx.fillRect(x0, y, Math.max(2 * dpr, x1 - x0), lane);
			});
			ctx.globalAlpha = 1;
			if (resource !== 'memory')
				return;
			ctx.strokeStyle = color;
			ctx.lineWidth = 1.5 * dpr;
			run.oom.forEach(function (t) {
				var x = u.valToPos(tr.start + t, 'x', true);
				if (x < b.left || x > b.left + b.width)
					return;
				ctx.setLineDash([4 * dpr, 3 * dpr]);
				ctx.beginPath();
				ctx.moveTo(x, b.top);
				ctx.lineTo(x, b.top + b.height);
				ctx.stroke();
				ctx.setLineDash([]);
				var c = 4 * dpr, cy = b.top + 6 * dpr + k * 10 * dpr;
				ctx.beginPath();
				ctx.moveTo(x - c, cy - c);
				ctx.lineTo(x + c, cy + c);
				ctx.moveTo(x + c, cy - c);
				ctx.lineTo(x - c, cy + c);
				ctx.stroke();
			});
		});
		ctx.restore();
	}

	/* Time axis labels in UTC, 24-hour: "HH:MM" (with seconds, or milliseconds, when the
	 * labels are closer than that), the date under the first label of a day (only the date
	 * at midnight). */
	function timeAxisValues(u, splits, axisIdx, foundSpace, foundIncr) {
		var lastDay = '';
		var end = foundIncr < 1 ? 23 : foundIncr < 60 ? 19 : 16;
		return splits.map(function (v) {
			if (!isNum(v))
				return '';
			var iso = new Date(v * 1000).toISOString(); /* 2026-01-01T03:20:00.000Z */
			var day = iso.slice(0, 10), hm = iso.slice(11, end);
			var label = day === lastDay ? hm : /^00:00(:00(\.000)?)?$/.test(hm) ? day : hm + '\n' + day;
			lastDay = day;
			return label;
		});
	}

	function plotWidth(container) {
		var w = container.clientWidth || 900;
		return Math.max(320, Math.floor(w));
	}

	function nonNegative(u, splits) {
		return splits.map(function (v) { return v < 0 ? null : v; });
	}

	function plotOptions(data, tr, resource, width, group, onDrawn) {
		var cpu = resource === 'cpu';
		var fmt = cpu ? fmtCores : fmtMiB;
		var series = [{
			label: 'time',
			value: function (u, v) { return isNum(v) ? fmtUTC(v) + ' (+' + fmtDuration(v - tr.start) + ')' : '-'; },
		}, {
			label: cpu ? 'CPU demand' : 'memory demand',
			stroke: DEMAND_COLOR,
			width: 1,
			points: { show: false },
			value: function (u, v) { return fmt(v); },
		}];
		data.policies.forEach(function (name, k) {
			series.push({
				label: name + ' limit',
				stroke: COLORS[k % COLORS.length],
				width: 2,
				dash: k > 0 ? [7, 4] : undefined, /* a limit another policy's hides stays visible */
				points: { show: false },
				paths: uPlot.paths.stepped({ align: 1 }),
				value: function (u, v) { return fmt(v); },
			});
		});
		var drawn = false;
		var lanesPx = tr.runs.length * (LANE_PX + LANE_GAP_PX) + LANE_GAP_PX;
		var lanesShare = lanesPx / Math.max(60, PLOT_HEIGHT - 90); /* the plot area: the height less title and axis */
		return {
			title: cpu ? 'CPU (cores)' : 'memory (MiB)',
			width: width,
			height: PLOT_HEIGHT,
			tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'); },
			cursor: { sync: { key: group.key, scales: ['x', null] }, drag: { x: true, y: false } },
			scales: {
				x: { time: true },
				y: {
					/* from a little below 0, so the lanes of strips sit under the zero line */
					range: function (u, min, max) {
						var top = isNum(max) && max > 0 ? max * 1.12 : 1;
						return [-top * lanesShare, top];
					},
				},
			},
			/* the same y-axis width on both plots, so their time axes line up */
			axes: [{ label: 'UTC', values: timeAxisValues, space: 60 }, {
				label: cpu ? 'cores' : 'MiB', size: 70,
				filter: nonNegative, ticks: { filter: nonNegative }, grid: { filter: nonNegative },
			}],
			series: series,
			hooks: {
				drawClear: [function (u) { drawIncidents(u, tr); }],
				draw: [function (u) {
					drawMarks(u, tr, resource);
					if (!drawn) {
						drawn = true;
						onDrawn();
					}
				}],
				setScale: [function (u, key) {
					if (key !== 'x' || group.syncing)
						return;
					group.syncing = true;
					group.plots.forEach(function (o) {
						if (o !== u)
							o.setScale('x', { min: u.scales.x.min, max: u.scales.x.max });
					});
					group.syncing = false;
				}],
			},
		};
	}

	/* What each lane and line means for this trace, with the counts. */
	function marksLegend(data, tr) {
		var items = [];
		tr.runs.forEach(function (run, k) {
			var oomKept = run.oom.length, oomTotal = isNum(run.oom_total) ? run.oom_total : oomKept;
			items.push(el('li', null, [swatch(k), data.policies[k] + ': CPU throttled in ' + run.cpu_throttled.length +
				' range' + (run.cpu_throttled.length === 1 ? '' : 's') + ', memory pressure in ' +
				run.mem_pressure.length + ' range' + (run.mem_pressure.length === 1 ? '' : 's') + ', ' +
				oomTotal + ' OOM kill' + (oomTotal === 1 ? '' : 's') +
				(oomTotal > oomKept ? ' (the first ' + oomKept + ' marked)' : '')]));
		});
		return el('ul', { 'class': 'marks' }, items);
	}

	function traceSection(data, tr, i) {
		var section = el('section', { 'class': 'trace', id: traceId(i) });
		var meta = [
			'vmid ' + tr.vmid,
			tr.steps + ' steps of ' + fmtDuration(tr.step) + ' (' + fmtDuration(tr.steps * tr.step) + ')',
			'from ' + fmtUTC(tr.start),
			'initial allocation ' + fmtCores(tr.init_cpu) + ' cores, ' + fmtMiB(tr.init_mem),
			tr.incidents.length + ' labelled incident' + (tr.incidents.length === 1 ? '' : 's'),
		];
		section.appendChild(el('h2', null, tr.name));
		section.appendChild(el('p', { 'class': 'meta' }, meta.join(' · ')));
		if (tr.bucket_steps > 1)
			section.appendChild(el('p', { 'class': 'meta downsampled' },
				'Drawn from the highest and lowest value of every ' + tr.bucket_steps + ' steps (' +
				fmtDuration(tr.bucket_steps * tr.step) + '), so spikes are kept; ranges and OOM kills are exact.'));
		var chart = el('div', { 'class': 'chart', 'data-trace': tr.name, 'data-index': i });
		section.appendChild(chart);
		section.appendChild(marksLegend(data, tr));
		section.appendChild(el('details', { 'class': 'trace-scorecard', open: true }, [
			el('summary', null, 'scorecard of ' + tr.name),
			scorecardTable(tr.name, data.rows, data.policies, tr.cells),
		]));
		return { section: section, chart: chart };
	}

	function drawTrace(data, tr, chart, onDrawn) {
		var x = tr.t.map(function (v) { return tr.start + v; });
		var group = { key: 'trace-' + chart.getAttribute('data-index'), plots: [], syncing: false };
		var width = plotWidth(chart);
		var made = 0;
		[['cpu', tr.cpu_demand, 'cpu_limit'], ['memory', tr.mem_demand, 'mem_limit']].forEach(function (spec) {
			var holder = el('div', { 'class': 'plot', 'data-resource': spec[0] });
			chart.appendChild(holder);
			var d = [x, spec[1]].concat(tr.runs.map(function (r) { return r[spec[2]]; }));
			pending++;
			try {
				var u = new uPlot(plotOptions(data, tr, spec[0], width, group, onDrawn), d, holder);
				group.plots.push(u);
				plots.push({ u: u, holder: chart });
				made++;
			} catch (e) {
				pending--;
				problem(tr.name + ': the ' + spec[0] + ' chart failed: ' + (e && e.message ? e.message : e));
			}
		});
		return made === 2;
	}

	/* ---- the page -------------------------------------------------------------------- */

	function finish() {
		if (finished)
			return;
		finished = true;
		document.body.dataset.charts = String(charts);
		document.body.dataset.plots = String(plots.length);
		if (errors.length)
			document.body.dataset.error = errors.join('; ');
		document.body.dataset.ready = '1';
	}

	function plotDrawn() {
		pending--;
		if (built && pending <= 0)
			finish();
	}

	function resizeAll() {
		plots.forEach(function (p) {
			p.u.setSize({ width: plotWidth(p.holder), height: PLOT_HEIGHT });
		});
	}

	function render(root, data) {
		var why = dataProblem(data);
		if (why) {
			problem('cannot draw the report: ' + why);
			return;
		}
		var title = 'lxcscale replay: ' + (typeof data.input === 'string' ? data.input : '');
		document.title = title;
		root.appendChild(el('h1', null, title));
		root.appendChild(el('p', { 'class': 'meta' }, [
			(data.generator || 'lxcscale replay') + (data.version ? ' ' + data.version : '') + ' · ',
			data.traces.length + ' trace' + (data.traces.length === 1 ? '' : 's') + ' · policies: ',
			data.policies.map(function (p, k) { return [swatch(k), p + ' ']; }),
		]));
		root.appendChild(el('div', { 'class': 'key' }, [
			el('p', null, 'Each trace has two charts: what the workload wanted (the demand, black) against each ' +
				'policy\u2019s limit (a stepped line in the policy\u2019s colour), for CPU in cores and memory in MiB.'),
			el('ul', null, [
				el('li', null, [el('span', { 'class': 'box incident' }), 'a labelled incident (grey: one a resize ' +
					'cannot help, such as a noisy neighbour)']),
				el('li', null, [el('span', { 'class': 'box lane' }), 'strips along the bottom, one lane per policy: ' +
					'where its limit hurt \u2014 CPU: demand above the limit (throttled); memory: demand above ' +
					'memory.high (reclaim, swap), or killed and restarting']),
				el('li', null, [el('span', { 'class': 'box oom' }, '\u00d7'), 'a dashed line with a cross: an OOM kill ' +
					'under that policy']),
			]),
			el('p', null, 'Traces longer than ' + data.max_points + ' steps are drawn from the highest and lowest ' +
				'value of each bucket of consecutive steps (two points per bucket), so short spikes are not lost. ' +
				'Drag across a chart to zoom (both charts of a trace follow), double-click to zoom out. Times are UTC.'),
		]));

		root.appendChild(el('h2', null, 'Scorecard'));
		root.appendChild(scorecardTable(String(data.total.title || 'total'), data.rows, data.policies, data.total.cells));

		var usable = data.traces.map(function (tr, i) {
			var p = traceProblem(tr, data);
			if (p)
				problem('trace ' + (tr && typeof tr.name === 'string' ? tr.name : '#' + i) + ': ' + p);
			return !p;
		});
		if (data.traces.length) {
			root.appendChild(el('h2', null, 'Traces'));
			root.appendChild(overview(data, usable));
		}
		var made = [];
		data.traces.forEach(function (tr, i) {
			if (!usable[i])
				return;
			var s = traceSection(data, tr, i);
			root.appendChild(s.section);
			made.push({ tr: tr, chart: s.chart });
		});
		/* drawn once all are in the page, so each chart's width is the laid-out one */
		made.forEach(function (m) {
			if (drawTrace(data, m.tr, m.chart, plotDrawn))
				charts++;
		});
	}

	function main() {
		var root = document.getElementById('report') || document.body.appendChild(el('div', { id: 'report' }));
		root.appendChild(el('ul', { 'class': 'errors', id: 'report-errors', hidden: true })); /* problem() fills it */
		var data = null;
		try {
			var holder = document.getElementById('data');
			if (!holder)
				throw new Error('the page has no data element');
			data = JSON.parse(holder.textContent);
		} catch (e) {
			problem('cannot read the report\u2019s data: ' + (e && e.message ? e.message : e));
			finish();
			return;
		}
		if (typeof window.uPlot !== 'function') {
			problem('the chart library is missing from this page');
			finish();
			return;
		}
		try {
			render(root, data);
		} catch (e) {
			problem('cannot draw the report: ' + (e && e.message ? e.message : e));
		}
		built = true;
		if (pending <= 0)
			finish();
		else
			setTimeout(function () {
				if (!finished) {
					problem(pending + ' chart(s) did not draw');
					finish();
				}
			}, DRAW_TIMEOUT_MS);
		var timer = null;
		window.addEventListener('resize', function () {
			clearTimeout(timer);
			timer = setTimeout(resizeAll, 150);
		});
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', main);
	else
		main();
})();
