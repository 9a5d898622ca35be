// The ablate report page: renders the bundle in #ablate-data (framework/src/report/bundle.cpp)
// with plain DOM for tables and text and uPlot for every chart. No build step, no modules, no
// network: `ablate report` inlines this file after uPlot's iife build; `ablate dashboard` serves
// the same page and bundle.live says where to poll for a newer bundle.
//
// The test contract is window.ablateReport = {ready, summary()} (tests/browser/page.mjs).
(function () {
  'use strict';

  // ---------------------------------------------------------------------------------------------
  // Small helpers

  const PALETTE = ['#3b6ea8', '#e07b39', '#4a9a5b', '#c8474d', '#7a5aa6', '#3a9c9c', '#b0892b',
                   '#d16ba5', '#6b7b8c', '#8c6d4f'];
  const ROLE_COLORS = { train: '#3b6ea8', val: '#e07b39', test: '#4a9a5b' };
  const STATE_CLASS = {
    ok: 'good', holds: 'good', running: 'live', queued: 'muted', incomplete: 'warn', empty: 'muted',
    failed: 'bad', diverged: 'bad', killed: 'bad', interrupted: 'warn', fails: 'bad',
  };
  const NOT_METRICS = new Set(['kind', 'epoch', 'task', 'stage']);

  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v == null || v === false) continue;
        if (k === 'class') node.className = v;
        else if (k === 'text') node.textContent = v;
        else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
        else if (k === 'open') node.open = !!v;
        else node.setAttribute(k, v === true ? '' : String(v));
      }
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const c of children) {
      if (c == null || c === false) continue;
      if (Array.isArray(c)) append(node, c);
      else node.append(c instanceof Node ? c : String(c));
    }
    return node;
  }

  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
  const isObj = (v) => v != null && typeof v === 'object' && !Array.isArray(v);

  function alpha(hex, a) {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
  }

  function fmtNum(v, digits = 4) {
    if (v == null) return '–';
    if (typeof v !== 'number') return String(v);
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e7)) return v.toExponential(2).replace('e+', 'e');
    if (a >= 1000) return v.toFixed(1);
    return String(Number(v.toPrecision(digits)));
  }

  const pct = (v, d = 2) => (isNum(v) ? (v * 100).toFixed(d) + '%' : '–');
  const isAccuracyKey = (k) => /accuracy|(^|_)acc(_|$)/.test(k);
  const isLossKey = (k) => /loss/.test(k);
  const isTimeKey = (k) => /^(time|wall|seconds|epoch_seconds|duration)$|(_seconds|_time|_wall)$/.test(k);

  function fmtFigure(key, v) {
    if (isNum(v) && isAccuracyKey(key) && v >= 0 && v <= 1) return pct(v);
    if (isNum(v) && /seconds$|^duration$/.test(key)) return fmtDuration(v);
    if (isNum(v) && /bytes$/.test(key)) return fmtBytes(v);
    return isObj(v) || Array.isArray(v) ? JSON.stringify(v) : fmtNum(v);
  }

  function fmtDuration(s) {
    if (!isNum(s)) return '–';
    if (s < 60) return (s < 10 ? s.toFixed(2) : s.toFixed(1)) + ' s';
    const m = Math.floor(s / 60), r = Math.round(s - 60 * m);
    if (m < 60) return `${m}m${String(r).padStart(2, '0')}s`;
    return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
  }

  function fmtBytes(b) {
    if (!isNum(b)) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
    return (i ? b.toFixed(1) : String(b)) + ' ' + units[i];
  }

  function fmtTime(iso) {
    if (!iso) return '–';
    const d = new Date(iso);
    if (isNaN(d)) return String(iso);
    return d.toISOString().replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
  }

  const human = (k) => String(k).replace(/_/g, ' ');

  function truncate(s, n) {
    s = String(s);
    return s.length > n ? s.slice(0, n - 1) + '…' : s;
  }

  function mean(xs) { return xs.reduce((a, b) => a + b, 0) / xs.length; }
  function std(xs) {
    if (xs.length < 2) return 0;
    const m = mean(xs);
    return Math.sqrt(xs.reduce((a, b) => a + (b - m) * (b - m), 0) / (xs.length - 1));
  }

  function quantile(sorted, q) {
    if (!sorted.length) return null;
    const pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  }

  function slug(s) { return String(s).replace(/[^A-Za-z0-9_-]+/g, '-'); }

  function parseSetting(v) {
    if (typeof v !== 'string') return v;
    try { return JSON.parse(v); } catch (e) { return v; }
  }

  function badge(state, text) {
    const cls = STATE_CLASS[String(state).toLowerCase()] || 'muted';
    return h('span', { class: 'badge ' + cls, text: text || state });
  }

  // ---------------------------------------------------------------------------------------------
  // Parsing

  /// metrics.jsonl, line by line: rows by kind, and every line that is not a JSON object.
  function parseMetrics(text) {
    const out = { epochs: [], stages: [], tasks: [], alerts: [], rows: 0, malformed: [] };
    if (typeof text !== 'string') return out;
    const lines = text.split('\n');
    let lastNonEmpty = -1;
    lines.forEach((l, i) => { if (l.trim()) lastNonEmpty = i; });
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      let row;
      try {
        row = JSON.parse(line);
      } catch (e) {
        out.malformed.push({ line: i + 1, text: line, error: e.message, last: i === lastNonEmpty,
                             complete: i !== lines.length - 1 });
        return;
      }
      if (!isObj(row)) {
        out.malformed.push({ line: i + 1, text: line, error: 'not a JSON object', last: false, notObject: true });
        return;
      }
      out.rows++;
      Object.defineProperty(row, '__line', { value: i + 1, enumerable: false });
      if (row.kind === 'epoch') out.epochs.push(row);
      else if (row.kind === 'stage') out.stages.push(row);
      else if (row.kind === 'task') out.tasks.push(row);
      else if (row.kind === 'alert') out.alerts.push(row);
    });
    return out;
  }

  function malformedMessage(b) {
    const excerpt = truncate(b.text.trim(), 90);
    if (b.notObject) return `metrics.jsonl line ${b.line} is not a JSON object (a metrics row is one): ${excerpt}`;
    const killed = b.last ? ' (the run may have been killed while writing it)' : '';
    return `metrics.jsonl line ${b.line} is not valid JSON${killed}: ${excerpt} (${b.error})`;
  }

  /// RFC 4180 CSV: quoted fields, doubled quotes, newlines inside quotes.
  function parseCSV(text) {
    const rows = [];
    let row = [], field = '', quoted = false, i = 0;
    while (i < text.length) {
      const c = text[i];
      if (quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
          quoted = false; i++; continue;
        }
        field += c; i++; continue;
      }
      if (c === '"') { quoted = true; i++; continue; }
      if (c === ',') { row.push(field); field = ''; i++; continue; }
      if (c === '\r') { i++; continue; }
      if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; continue; }
      field += c; i++;
    }
    if (field !== '' || row.length) { row.push(field); rows.push(row); }
    const header = rows.shift() || [];
    return { header, rows: rows.filter((r) => r.length > 1 || r[0] !== '') };
  }

  function csvValue(s) {
    if (s === '' || s == null) return null;
    const n = Number(s);
    if (s.trim() !== '' && Number.isFinite(n)) return n;
    return s;
  }

  // ---------------------------------------------------------------------------------------------
  // Chart specs: what a chart shows, independent of drawing (summary() counts their points)

  /// spec: {title, xLabel, yLabel, x, series: [{label, data, color, dash, width, scatter, aux,
  ///        band: {lo, hi}, whiskers: {lo, hi}}], yFormat: 'pct'|'num', xTicks, yTicks, xLog,
  ///        shade: [{x0, x1, label}], vlines: [{x, color, label, dash}], note}
  function curveSummary(spec) {
    return {
      title: spec.title,
      series: spec.series.map((s) => ({
        label: s.label, points: s.data.reduce((n, v) => n + (v == null || !Number.isFinite(v) ? 0 : 1), 0),
      })),
    };
  }

  const OTHER_COLORS = ['#7a5aa6', '#3a9c9c', '#b0892b', '#d16ba5', '#6b7b8c', '#8c6d4f', '#c8474d'];
  const isRoleKey = (k) => /^(train|val|test)(_|$)/.test(k);

  /// Train, val and test keep their colours wherever they appear; the other keys of a chart with
  /// one of them take colours apart from theirs.
  function seriesColor(keys, k, i) {
    if (isRoleKey(k)) return colorFor(k, i);
    if (!keys.some(isRoleKey)) return PALETTE[i % PALETTE.length];
    const others = keys.filter((x) => !isRoleKey(x));
    return OTHER_COLORS[others.indexOf(k) % OTHER_COLORS.length];
  }

  function colorFor(key, i) {
    if (/^train_|^train$/.test(key)) return ROLE_COLORS.train;
    if (/^val_|^val$/.test(key)) return ROLE_COLORS.val;
    if (/^test_|^test$/.test(key)) return ROLE_COLORS.test;
    return PALETTE[(i + 4) % PALETTE.length];
  }

  /// The epoch rows' x: their epoch numbers, or the row's ordinal when epochs do not increase
  /// (one point per row, always).
  function epochAxis(rows) {
    const xs = rows.map((r) => r.epoch);
    let ok = xs.every(isNum);
    for (let i = 1; ok && i < xs.length; i++) if (!(xs[i] > xs[i - 1])) ok = false;
    return ok ? { x: xs, label: 'epoch' } : { x: rows.map((_, i) => i + 1), label: 'epoch row' };
  }

  /// Groups the numeric keys of epoch rows into charts: losses, accuracies, learning rate, time,
  /// then every other key (families such as expert_share_0.._7 together).
  function groupEpochKeys(keys) {
    const groups = [];
    const taken = new Set();
    const take = (title, yLabel, yFormat, ks) => {
      ks = ks.filter((k) => !taken.has(k));
      if (!ks.length) return;
      ks.forEach((k) => taken.add(k));
      groups.push({ title, yLabel, yFormat, keys: ks });
    };
    const order = (ks) => ks.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    const rank = (k) => (/^train_/.test(k) ? 0 : /^val_/.test(k) ? 1 : /^test_/.test(k) ? 2 : 3);
    take('Loss', 'loss', 'num', order(keys.filter(isLossKey)));
    const core = keys.filter((k) => /^(train|val|test)_accuracy$/.test(k));
    take('Accuracy', 'accuracy', 'pct', order(core));
    const extraAcc = keys.filter((k) => isAccuracyKey(k) && !taken.has(k));
    if (extraAcc.length) {
      const ref = keys.includes('val_accuracy') ? ['val_accuracy'] : [];
      groups.push({ title: 'Accuracy: ' + extraAcc.map(human).join(', '), yLabel: 'accuracy', yFormat: 'pct',
                    keys: [...extraAcc.sort(), ...ref] });
      extraAcc.forEach((k) => taken.add(k));
    }
    take('Learning rate', 'learning rate', 'num', keys.filter((k) => k === 'lr' || /(^|_)lr$/.test(k)));
    const times = keys.filter(isTimeKey);
    take(times.length === 1 && times[0] === 'time' ? 'Time per epoch' : 'Time: ' + times.map(human).join(', '), 'seconds', 'num', times);
    const rest = keys.filter((k) => !taken.has(k)).sort();
    // Numbered families: chains_span_1, chains_span_2 -> "chains span *".
    const fam = new Map();
    for (const k of rest) {
      const m = /^(.*?)_?(\d+)$/.exec(k);
      if (m && m[1]) { if (!fam.has(m[1])) fam.set(m[1], []); fam.get(m[1]).push(k); }
    }
    for (const [prefix, ks] of fam) {
      if (ks.length < 2) continue;
      ks.sort((a, b) => Number(/(\d+)$/.exec(a)[1]) - Number(/(\d+)$/.exec(b)[1]));
      take(human(prefix) + ' (per index)', human(prefix), 'num', ks);
    }
    // Others: keys sharing a stem (train_/val_ stripped, first word) share a chart.
    const stemOf = (k) => k.replace(/^(train|val|test)_/, '').split('_')[0];
    const stems = new Map();
    for (const k of rest.filter((k) => !taken.has(k))) {
      const s = stemOf(k);
      if (!stems.has(s)) stems.set(s, []);
      stems.get(s).push(k);
    }
    for (const ks of stems.values()) {
      take(ks.length === 1 ? capital(human(ks[0])) : ks.map(human).join(', '), ks.length === 1 ? human(ks[0]) : 'value', 'num', order(ks));
    }
    return groups;
  }

  const capital = (s) => s.charAt(0).toUpperCase() + s.slice(1);

  /// Stage spans over the epoch axis (shaded alternately) and task boundaries.
  function stageMarks(rows, xs) {
    const shade = [], vlines = [];
    let start = 0;
    const stages = new Set(rows.map((r) => `${r.task}/${r.stage}`));
    for (let i = 1; i <= rows.length; i++) {
      const end = i === rows.length || rows[i].stage !== rows[start].stage || rows[i].task !== rows[start].task;
      if (!end) continue;
      if (stages.size > 1) shade.push({ x0: xs[start] - 0.5, x1: xs[i - 1] + 0.5, label: 's' + rows[start].stage, odd: shade.length % 2 === 1 });
      if (i < rows.length && rows[i].task !== rows[start].task)
        vlines.push({ x: (xs[i - 1] + xs[i]) / 2, color: '#555', label: 'task ' + rows[i].task, dash: [] });
      start = i;
    }
    return { shade, vlines };
  }

  // ---------------------------------------------------------------------------------------------
  // Models: a source, parsed, with its chart specs

  function runState(files, trialState) {
    const p = files['progress.json'];
    if (isObj(p) && p.alive !== false) return 'running';
    if (isObj(p) && p.alive === false) return 'killed';
    const s = files['summary.json'];
    if (isObj(s) && s.status) return String(s.status);
    if (trialState && trialState !== 'ok') return trialState;
    if (typeof files['metrics.jsonl'] === 'string') return 'incomplete';
    return 'empty';
  }

  function buildRun(src, trial) {
    const files = src.files || {};
    const metrics = parseMetrics(files['metrics.jsonl']);
    const errors = [];
    for (const e of src.errors || []) errors.push(String(e));
    for (const b of metrics.malformed) errors.push(malformedMessage(b));
    const model = {
      type: 'run', src, files, metrics, errors, trial: trial || null,
      name: src.name || 'run', id: src.id || (src.path || '').split('/').pop(),
      state: runState(files, trial && trial.state),
      key: 'run:' + (src.path || src.id),
      charts: { training: [], stages: [], units: [], sums: [], tasks: [] },
      notes: [],
    };
    const ep = metrics.epochs;
    if (ep.length) {
      const axis = epochAxis(ep);
      model.epochAxis = axis;
      const keys = new Set();
      for (const r of ep) for (const [k, v] of Object.entries(r)) if (!NOT_METRICS.has(k) && isNum(v)) keys.add(k);
      const zero = [...keys].filter((k) => ep.every((r) => r[k] == null || r[k] === 0));
      if (zero.length) model.notes.push(`Not plotted: ${zero.join(', ')} (0 in every epoch row).`);
      const marks = stageMarks(ep, axis.x);
      const alertLines = metrics.alerts.map((a) => {
        let x = null;
        if (isNum(a.epoch)) {
          const idx = ep.findIndex((r) => r.epoch === a.epoch);
          x = idx >= 0 ? axis.x[idx] : (axis.label === 'epoch' ? a.epoch : null);
        }
        return x == null ? null : { x, color: '#c8474d', label: '⚠ ' + (a.alert || 'alert'), dash: [4, 3] };
      }).filter(Boolean);
      for (const g of groupEpochKeys([...keys].filter((k) => !zero.includes(k)))) {
        model.charts.training.push({
          title: g.title, xLabel: axis.label, yLabel: g.yLabel, yFormat: g.yFormat, x: axis.x,
          series: g.keys.map((k, i) => ({
            label: k, data: ep.map((r) => (isNum(r[k]) ? r[k] : null)),
            color: seriesColor(g.keys, k, i),
            dash: g.title.startsWith('Accuracy:') && k === 'val_accuracy' ? [5, 4] : null,
          })),
          shade: marks.shade, vlines: [...marks.vlines, ...alertLines],
        });
      }
    }
    buildStageCharts(model);
    buildSumCacheCharts(model);
    buildTaskCharts(model);
    return model;
  }

  function stageAxis(stages) {
    const tasks = new Set(stages.map((s) => s.task));
    const labels = stages.map((s) => (tasks.size > 1 ? `${s.task}.${s.stage}` : String(s.stage)));
    return { x: stages.map((_, i) => i), labels, label: tasks.size > 1 ? 'stage (task.stage)' : 'stage' };
  }

  function buildStageCharts(model) {
    const st = model.metrics.stages;
    if (!st.length) return;
    const axis = stageAxis(st);
    model.stageAxis = axis;
    const xTicks = { values: axis.x, labels: axis.labels };
    const layerNames = [];
    for (const s of st) (s.layers || []).forEach((l, i) => { if (!layerNames[i]) layerNames[i] = l.name || 'layer ' + i; });
    model.layerNames = layerNames;
    if (st.length >= 2) {
      model.charts.stages.push({
        title: 'Accuracy at the end of each stage', xLabel: axis.label, yLabel: 'accuracy', yFormat: 'pct',
        x: axis.x, xTicks,
        // Labelled apart from the epoch curves' train_accuracy / val_accuracy: one point per stage.
        series: ['train_accuracy', 'val_accuracy'].filter((k) => st.some((s) => isNum(s[k])))
          .map((k, i) => ({ label: k.replace('_accuracy', '') + ' at stage end', data: st.map((s) => (isNum(s[k]) ? s[k] : null)), color: colorFor(k, i), points: true })),
      });
    }
    // The training order: every unit a stage trained, at (stage, layer + position in layer).
    const sizes = layerNames.map((_, li) => {
      for (const s of st) { const l = (s.layers || [])[li]; if (l && isNum(l.units)) return l.units; }
      return null;
    });
    if (layerNames.length && st.length >= 2 && st.some((s) => s.units != null)) {
      const pts = layerNames.map(() => []);
      const cap = 200000;
      let total = 0;
      st.forEach((s, si) => {
        let list = s.units;
        if (list === 'all') {
          sizes.forEach((n, li) => { for (let i = 0; i < (n || 0); i++) pts[li].push([si, li + (i + 0.5) / n]); });
          return;
        }
        if (!Array.isArray(list)) return;
        for (const u of list) {
          const m = /^(\d+)\.(\d+)$/.exec(String(u));
          if (!m) continue;
          const li = Number(m[1]), i = Number(m[2]);
          if (!pts[li]) continue;
          const n = sizes[li] || 1;
          pts[li].push([si, li + (i + 0.5) / n]);
        }
      });
      total = pts.reduce((a, p) => a + p.length, 0);
      if (total > 0 && total <= cap) {
        const all = [];
        pts.forEach((p, li) => p.forEach(([x, y]) => all.push([x, y, li])));
        all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        model.charts.units.push({
          title: 'Training order: the units each stage trained', xLabel: axis.label, yLabel: 'layer (units spread within)',
          yFormat: 'num', x: all.map((p) => p[0]), xTicks, scatter: true, height: Math.max(220, 70 * layerNames.length + 90),
          yRange: [0, layerNames.length],
          yTicks: { values: layerNames.map((_, i) => i + 0.5), labels: layerNames },
          ygrid: layerNames.map((_, i) => i),
          series: layerNames.map((name, li) => ({
            label: `${name} (${sizes[li] == null ? '?' : sizes[li]} units)`,
            data: all.map((p) => (p[2] === li ? p[1] : null)), color: PALETTE[li % PALETTE.length], scatter: true,
            pointSize: total > 4000 ? 3 : 5,
          })),
        });
      } else if (total > cap) {
        model.notes.push(`Training order not drawn: ${total} unit trainings are too many to plot.`);
      }
    }
    if (st.length < 2) return;
    // Margin distribution, zones and capacity, per layer, over stages.
    layerNames.forEach((name, li) => {
      const L = st.map((s) => (s.layers || [])[li] || null);
      const q = (f, k) => L.map((l) => (l && isObj(l[f]) && isNum(l[f][k]) ? l[f][k] : null));
      if (L.some((l) => l && isObj(l.margin))) {
        model.charts.units.push(distributionSpec(`Margin of layer ${name}`, 'margin', axis, xTicks, q, 'margin', PALETTE[li % PALETTE.length]));
      }
    });
    layerNames.forEach((name, li) => {
      const L = st.map((s) => (s.layers || [])[li] || null);
      const zones = ['gold', 'noisy', 'collapsed'].filter((k) => L.some((l) => l && isNum(l[k])));
      if (!zones.length) return;
      const colors = { gold: '#b0892b', noisy: '#7a5aa6', collapsed: '#6b7b8c' };
      model.charts.units.push({
        title: `Units by zone in layer ${name}`, xLabel: axis.label, yLabel: 'units', yFormat: 'num', x: axis.x, xTicks,
        series: zones.map((k) => ({ label: k, data: L.map((l) => (l && isNum(l[k]) ? l[k] : null)), color: colors[k], points: true })),
      });
    });
    layerNames.forEach((name, li) => {
      const L = st.map((s) => (s.layers || [])[li] || null);
      const q = (f, k) => L.map((l) => (l && isObj(l[f]) && isNum(l[f][k]) ? l[f][k] : null));
      if (L.some((l) => l && isObj(l.capacity))) {
        model.charts.units.push(distributionSpec(`Capacity of layer ${name}`, 'capacity (premodulo)', axis, xTicks, q, 'capacity', PALETTE[li % PALETTE.length]));
      }
    });
  }

  /// median line, q25–q75 band, min–max band, mean dashed.
  function distributionSpec(title, yLabel, axis, xTicks, q, field, color) {
    return {
      title, xLabel: axis.label, yLabel, yFormat: 'num', x: axis.x, xTicks,
      series: [
        { label: 'median', data: q(field, 'median'), color, width: 2, points: true,
          band: { lo: q(field, 'q25'), hi: q(field, 'q75'), fill: alpha(color, 0.22), label: 'q25–q75' } },
        { label: 'min', data: q(field, 'min'), color: alpha(color, 0.55), width: 1, dash: [2, 3] },
        { label: 'max', data: q(field, 'max'), color: alpha(color, 0.55), width: 1, dash: [2, 3] },
        { label: 'mean', data: q(field, 'mean'), color: '#333333', width: 1, dash: [6, 4] },
      ],
      bandBetween: [2, 1, alpha(color, 0.07)],  // max–min, indices among the series above (from 0)
    };
  }

  /// Positive values spread over two decades or more read better on a log scale.
  function logWorthy(values) {
    const v = values.filter(isNum);
    if (!v.length || v.some((x) => x <= 0)) return false;
    return Math.max(...v) / Math.min(...v) >= 100;
  }

  function buildSumCacheCharts(model) {
    const sc = model.src.sum_cache;
    if (!isObj(sc)) return;
    const layers = Array.isArray(sc.layers) ? sc.layers : [];
    const units = Array.isArray(sc.units) ? sc.units : [];
    const stageNums = new Set();
    for (const u of units) for (const r of u.records || []) if (isNum(r.stage)) stageNums.add(r.stage);
    const stageList = [...stageNums].sort((a, b) => a - b);
    const lname = (li) => (layers[li] && layers[li].name) || 'layer ' + li;
    const layerIdx = [...new Set(units.map((u) => u.layer))].filter(isNum).sort((a, b) => a - b);
    if (stageList.length) {
      // Capacity per layer over stages: median over the layer's units, band q25–q75.
      const series = [];
      layerIdx.forEach((li) => {
        const per = stageList.map((s) => {
          const v = [];
          for (const u of units) if (u.layer === li) for (const r of u.records || []) if (r.stage === s && isNum(r.capacity)) v.push(r.capacity);
          return v.sort((a, b) => a - b);
        });
        const color = PALETTE[li % PALETTE.length];
        series.push({ label: `${lname(li)} median`, data: per.map((v) => quantile(v, 0.5)), color, width: 2, points: true,
                      band: { lo: per.map((v) => quantile(v, 0.25)), hi: per.map((v) => quantile(v, 0.75)), fill: alpha(color, 0.18), label: 'q25–q75' } });
      });
      if (series.some((s) => s.data.some((v) => v != null && v !== 0))) {
        model.charts.sums.push({ title: 'Capacity per layer (sum cache records)', xLabel: 'stage', yLabel: 'capacity (premodulo)',
                                 yFormat: 'num', x: stageList, series });
      }
      // Margin against capacity at each unit's latest record.
      const pts = [];
      for (const u of units) {
        const rs = (u.records || []).filter((r) => isNum(r.s) && isNum(r.n) && r.n > 0);
        if (!rs.length) continue;
        const r = rs.reduce((a, b) => (b.stage >= a.stage ? b : a));
        if (isNum(r.capacity) && r.capacity !== 0) pts.push([Math.abs(r.s) / r.n, r.capacity, u.layer]);
      }
      if (pts.length >= 2) {
        pts.sort((a, b) => a[0] - b[0]);
        model.charts.sums.push({
          title: 'Capacity against margin |S|/N (latest record per unit)', xLabel: 'margin |S|/N', yLabel: 'capacity (premodulo)',
          yFormat: 'num', x: pts.map((p) => p[0]), scatter: true, yLog: logWorthy(pts.map((p) => p[1])),
          series: layerIdx.filter((li) => pts.some((p) => p[2] === li)).map((li) => ({
            label: lname(li), data: pts.map((p) => (p[2] === li ? p[1] : null)), color: PALETTE[li % PALETTE.length], scatter: true,
          })),
        });
      }
    }
    // The margins |S|/N of every unit at its latest record, per layer, as a histogram.
    const bins = 20;
    const hist = layerIdx.map((li) => {
      const counts = new Array(bins).fill(0);
      let n = 0;
      for (const u of units) {
        if (u.layer !== li) continue;
        const rs = (u.records || []).filter((r) => isNum(r.s) && isNum(r.n) && r.n > 0);
        if (!rs.length) continue;
        const r = rs.reduce((a, b) => (b.stage >= a.stage ? b : a));
        counts[Math.min(bins - 1, Math.floor((Math.abs(r.s) / r.n) * bins))]++;
        n++;
      }
      return { li, counts, n };
    }).filter((hh) => hh.n > 0);
    if (hist.length) {
      const x = Array.from({ length: bins + 1 }, (_, i) => i / bins);
      model.charts.sums.push({
        title: 'Unit margins |S|/N at their latest record', xLabel: 'margin |S|/N', yLabel: 'share of the layer\'s units', yFormat: 'pct', x,
        series: hist.map((hh) => ({ label: `${lname(hh.li)} (${hh.n} units)`, data: [...hh.counts, hh.counts[bins - 1]].map((c) => c / hh.n),
                                    color: PALETTE[hh.li % PALETTE.length], stepped: true })),
        note: `${bins} bins of width ${1 / bins}; each line is one layer's share of units per bin.`,
      });
    }
    const stages = Array.isArray(sc.stages) ? sc.stages : [];
    if (stages.length >= 2 && stages.some((s) => isNum(s.duration) && s.duration > 0)) {
      model.charts.sums.push({ title: 'Seconds per stage', xLabel: 'stage', yLabel: 'seconds', yFormat: 'num',
                               x: stages.map((_, i) => i), xTicks: { values: stages.map((_, i) => i), labels: stages.map((s) => String(s.stage)) },
                               series: [{ label: 'duration', data: stages.map((s) => (isNum(s.duration) ? s.duration : null)), color: PALETTE[6], points: true }] });
    }
  }

  /// The continual-learning matrix R[i][j]: accuracy on task j's test split after task i.
  function taskMatrix(tasks) {
    const rows = tasks.filter((t) => Array.isArray(t.test_accuracy));
    if (!rows.length) return null;
    const T = Math.max(...rows.map((t) => t.test_accuracy.length));
    const R = rows.map((t) => Array.from({ length: T }, (_, j) => (isNum(t.test_accuracy[j]) ? t.test_accuracy[j] : null)));
    const last = R[R.length - 1];
    let bwt = null;
    const forgetting = [];
    if (R.length >= 2 && R.length === T) {
      const d = [];
      for (let j = 0; j < T - 1; j++) if (last[j] != null && R[j][j] != null) d.push(last[j] - R[j][j]);
      bwt = d.length ? mean(d) : null;
      for (let j = 0; j < T - 1; j++) {
        const earlier = R.slice(j, T - 1).map((r) => r[j]).filter(isNum);
        forgetting.push(earlier.length && last[j] != null ? Math.max(...earlier) - last[j] : null);
      }
    }
    const finals = last.filter(isNum);
    return { R, T, names: rows.map((t, i) => t.name || 'task ' + (isNum(t.task) ? t.task : i)), bwt, forgetting,
             average: finals.length ? mean(finals) : null };
  }

  function buildTaskCharts(model) {
    const m = taskMatrix(model.metrics.tasks);
    model.taskMatrix = m;
    if (!m || m.R.length < 2) return;
    const x = m.R.map((_, i) => i);
    model.charts.tasks.push({
      title: 'Test accuracy on each task, after each task', xLabel: 'after task', yLabel: 'test accuracy', yFormat: 'pct', x,
      xTicks: { values: x, labels: x.map((i) => String(i)) },
      series: Array.from({ length: m.T }, (_, j) => ({ label: `task ${j}` + (m.names[j] ? ` (${m.names[j]})` : ''),
                                                      data: m.R.map((r) => r[j]), color: PALETTE[j % PALETTE.length], points: true })),
    });
  }

  // Studies -------------------------------------------------------------------------------------

  function studyState(trials) {
    const states = trials.map((t) => t.state);
    if (!states.length) return 'empty';
    if (states.includes('running')) return 'running';
    if (states.every((s) => s === 'ok')) return 'ok';
    if (states.some((s) => ['failed', 'diverged', 'killed', 'interrupted'].includes(s))) return 'failed';
    return 'queued';
  }

  function buildStudy(src) {
    const files = src.files || {};
    const manifest = isObj(files['manifest.json']) ? files['manifest.json'] : {};
    const trials = Array.isArray(src.trials) ? src.trials : [];
    const model = {
      type: 'study', src, files, manifest, errors: (src.errors || []).map(String),
      name: src.name || manifest.name || 'study',
      id: src.id || (src.path || '').split('/').pop(),
      kind: src.kind || manifest.kind || null,
      key: 'study:' + (src.path || src.id),
      trials, state: studyState(trials), charts: { arms: [], armsMore: [], sweep: [] }, notes: [],
      findings: Array.isArray(files['findings.json']) ? files['findings.json'] : [],
    };
    model.runs = trials.filter((t) => isObj(t.run)).map((t) => {
      const r = buildRun(t.run, t);
      r.key = model.key + '/trial:' + t.id;
      return r;
    });
    model.csv = typeof files['results.csv'] === 'string' ? parseCSV(files['results.csv']) : null;
    buildArmCharts(model);
    return model;
  }

  const CORE_ARM_KEYS = ['val_accuracy', 'train_accuracy', 'test_accuracy', 'val_loss', 'train_loss'];

  function buildArmCharts(model) {
    const groups = new Map();
    for (const r of model.runs) {
      const g = (r.trial && r.trial.group) || r.trial.id;
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(r);
    }
    if (!groups.size) return;
    const keys = new Set();
    for (const r of model.runs) for (const e of r.metrics.epochs) for (const [k, v] of Object.entries(e)) if (!NOT_METRICS.has(k) && isNum(v)) keys.add(k);
    const all = model.runs.flatMap((r) => r.metrics.epochs);
    const useful = [...keys].filter((k) => all.some((e) => isNum(e[k]) && e[k] !== 0));
    const rank = (k) => CORE_ARM_KEYS.indexOf(k);
    useful.sort((a, b) => ((rank(a) + 1 || 99) - (rank(b) + 1 || 99)) || a.localeCompare(b));
    const xs = [...new Set(all.map((e) => e.epoch).filter(isNum))].sort((a, b) => a - b);
    if (!xs.length) return;
    const seeds = [...groups.values()].map((g) => g.length);
    for (const k of useful) {
      const series = [];
      [...groups.entries()].forEach(([g, runs], gi) => {
        const stats = xs.map((x) => {
          const v = runs.map((r) => r.metrics.epochs.find((e) => e.epoch === x)).filter((e) => e && isNum(e[k])).map((e) => e[k]);
          return v.length ? { m: mean(v), s: std(v), n: v.length } : null;
        });
        const color = PALETTE[gi % PALETTE.length];
        series.push({
          label: `${g} (${runs.length} seed${runs.length === 1 ? '' : 's'})`, data: stats.map((s) => (s ? s.m : null)), color, width: 2, points: true,
          band: { lo: stats.map((s) => (s ? s.m - s.s : null)), hi: stats.map((s) => (s ? s.m + s.s : null)), fill: alpha(color, 0.16), label: '± std' },
        });
      });
      (CORE_ARM_KEYS.includes(k) ? model.charts.arms : model.charts.armsMore).push({
        title: `${capital(human(k))} by arm: mean ± std over seeds`, xLabel: 'epoch', yLabel: human(k),
        yFormat: isAccuracyKey(k) ? 'pct' : 'num', x: xs, series,
      });
    }
    model.armSeeds = seeds;
  }

  /// The sweep view: `metric` against each swept key, mean ± std over the trials with that value.
  function buildSweepCharts(model, metric) {
    const csv = model.csv;
    model.charts.sweep = [];
    if (!csv || !csv.rows.length) return [];
    const params = (Array.isArray(model.manifest.parameters) ? model.manifest.parameters : []).filter((p) => csv.header.includes(p));
    const col = (name) => csv.header.indexOf(name);
    const mi = col(metric), si = col('status');
    if (mi < 0) return [];
    const rows = csv.rows.filter((r) => si < 0 || r[si] === 'ok' || r[si] === '');
    params.forEach((p, pi) => {
      const ci = col(p);
      const values = rows.map((r) => parseSetting(r[ci]));
      const distinct = [...new Set(values.map((v) => JSON.stringify(v)))].map((s) => JSON.parse(s));
      if (!distinct.length) return;
      const numeric = distinct.every(isNum);
      distinct.sort(numeric ? (a, b) => a - b : (a, b) => String(a).localeCompare(String(b), undefined, { numeric: true }));
      const x = numeric ? distinct : distinct.map((_, i) => i);
      const xLog = numeric && distinct.length >= 2 && distinct[0] > 0 && distinct[distinct.length - 1] / distinct[0] >= 10;
      const others = params.filter((q) => q !== p);
      let splits = [{ label: others.length ? 'mean over the other settings' : human(metric), filter: () => true }];
      if (others.length === 1) {
        const oi = col(others[0]);
        const ov = [...new Set(rows.map((r) => r[oi]))];
        if (ov.length >= 2 && ov.length <= 6)
          splits = ov.map((v) => ({ label: `${others[0]} = ${String(parseSetting(v))}`, filter: (r) => r[oi] === v }));
      }
      const series = splits.map((sp, k) => {
        const stats = distinct.map((dv) => {
          const v = rows.filter((r) => sp.filter(r) && JSON.stringify(parseSetting(r[ci])) === JSON.stringify(dv)).map((r) => csvValue(r[mi])).filter(isNum);
          return v.length ? { m: mean(v), s: std(v), n: v.length } : null;
        });
        return { label: sp.label, data: stats.map((s) => (s ? s.m : null)), color: PALETTE[k % PALETTE.length], width: 1.5, points: true,
                 whiskers: { lo: stats.map((s) => (s ? s.m - s.s : null)), hi: stats.map((s) => (s ? s.m + s.s : null)) } };
      });
      model.charts.sweep.push({
        title: `${human(metric)} against ${p}`, xLabel: p, yLabel: human(metric), yFormat: isAccuracyKey(metric) ? 'pct' : 'num',
        x, xLog, series,
        xTicks: !numeric ? { values: x, labels: distinct.map((v) => truncate(String(v), 18)) }
              : distinct.length <= 12 ? { values: x, labels: distinct.map((v) => fmtNum(v)), numeric: true } : null,
        note: 'Points: mean over the trials with each value (status ok); bars: ± one standard deviation.',
      });
    });
    return model.charts.sweep;
  }

  function sweepMetrics(model) {
    const csv = model.csv;
    if (!csv) return [];
    const skip = new Set(['id', 'group', 'seed', 'status', 'reason', ...(model.manifest.parameters || [])]);
    return csv.header.filter((c, i) => !skip.has(c) && csv.rows.some((r) => isNum(csvValue(r[i]))));
  }

  // ---------------------------------------------------------------------------------------------
  // Drawing charts with uPlot

  const INT_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 1e5, 2e5, 5e5, 1e6];
  let measureCtx = null;
  function textWidth(s) {
    if (!measureCtx) measureCtx = document.createElement('canvas').getContext('2d');
    measureCtx.font = '11px ' + getComputedStyle(document.body).fontFamily;
    return measureCtx.measureText(String(s)).width;
  }

  function tickFormatter(fmt) {
    return (u, splits, axisIdx, space, incr) => {
      if (fmt === 'pct') {
        const d = Math.max(0, Math.min(4, -Math.floor(Math.log10((incr || 0.01) * 100) + 1e-9)));
        return splits.map((v) => (v == null ? '' : (v * 100).toFixed(d) + '%'));
      }
      const d = Math.max(0, Math.min(8, -Math.floor(Math.log10(incr || 1) + 1e-9)));
      return splits.map((v) => {
        if (v == null) return '';
        const a = Math.abs(v);
        if (a !== 0 && (a >= 1e6 || a < 1e-4)) return v.toExponential(1).replace('e+', 'e');
        return v.toFixed(d);
      });
    };
  }

  function legendValue(fmt) {
    return (u, v) => (v == null ? '–' : fmt === 'pct' ? pct(v) : fmtNum(v));
  }

  function mountChart(fig) {
    const spec = fig.__spec;
    const width = Math.max(260, Math.floor(fig.clientWidth));
    const height = spec.height || 230;
    const series = [{ label: spec.xLabel, value: spec.xTicks ? (u, v) => (v == null ? '–' : labelAt(spec.xTicks, v)) : (u, v) => (v == null ? '–' : fmtNum(v)) }];
    const data = [spec.x];
    const bands = [];
    const aux = new Set();
    const whiskers = [];
    const index = [];  // spec series index -> uPlot series index
    for (const s of spec.series) {
      if (s.band) {
        data.push(s.band.lo); series.push({ label: s.band.label + ' low', stroke: 'transparent', width: 0, points: { show: false }, value: legendValue(spec.yFormat) });
        const lo = series.length - 1; aux.add(lo);
        data.push(s.band.hi); series.push({ label: s.band.label + ' high', stroke: 'transparent', width: 0, points: { show: false }, value: legendValue(spec.yFormat) });
        const hi = series.length - 1; aux.add(hi);
        bands.push({ series: [hi, lo], fill: s.band.fill });
      }
      data.push(s.data);
      const scatter = s.scatter || spec.scatter;
      const pointsShow = s.stepped ? false : scatter || s.points || spec.x.length <= 30 ? true : undefined;
      series.push({
        label: s.label, stroke: s.color, width: scatter ? 0 : (s.width || 1.75), dash: s.dash || undefined,
        spanGaps: !scatter,
        paths: scatter ? () => null : s.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
        fill: s.stepped ? alpha(s.color, 0.12) : undefined,
        points: scatter ? { show: true, size: s.pointSize || 5, width: 0, fill: alpha(s.color.startsWith('#') ? s.color : '#555555', 0.75), stroke: s.color, space: 0 }
                        : { show: pointsShow, size: 5, fill: '#fff', stroke: s.color, width: 1.25 },
        value: legendValue(spec.yFormat),
      });
      index.push(series.length - 1);
      if (s.whiskers) whiskers.push({ si: series.length - 1, lo: s.whiskers.lo, hi: s.whiskers.hi, color: s.color });
    }
    if (spec.bandBetween) {
      const [a, b, fill] = spec.bandBetween;
      bands.push({ series: [index[a], index[b]], fill });
    }
    const xRange = (u, min, max) => {
      if (min == null) return [0, 1];
      if (spec.xTicks && !spec.xTicks.numeric && spec.xTicks.values.length) {
        const vs = spec.xTicks.values;  // categories (stages, tasks, setting values) at 0, 1, 2...
        return [Math.min(...vs) - 0.5, Math.max(...vs) + 0.5];
      }
      if (min === max) return spec.xLog ? [min / 2, max * 2] : [min - 1, max + 1];
      if (spec.xLog) return [min / 1.25, max * 1.25];
      if (whiskers.length || spec.scatter || spec.xTicks) { const pad = (max - min) * 0.04; return [min - pad, max + pad]; }
      return [min, max];
    };
    const yAxis = {
      label: spec.yLabel, labelSize: 18, labelFont: '11px ' + fontStack(), font: '11px ' + fontStack(),
      stroke: '#555', grid: { stroke: '#ececec', width: 1 }, ticks: { stroke: '#ddd', width: 1, size: 4 },
      values: spec.yTicks ? (u, splits) => splits.map((v) => labelAt(spec.yTicks, v)) : tickFormatter(spec.yFormat),
      splits: spec.yTicks ? () => spec.yTicks.values : undefined,
      size: (u, values) => (values && values.length ? Math.ceil(Math.max(...values.map((v) => textWidth(v)))) + 14 : 40),
    };
    const yScale = { auto: true };
    if (spec.yLog) { yScale.distr = 3; yScale.log = 10; }
    if (spec.yLog) yAxis.values = (u, splits) => splits.map((v) => (v == null ? '' : fmtNum(v, 3)));
    if (spec.yRange) yScale.range = () => spec.yRange;
    else if (whiskers.length) {
      yScale.range = (u, min, max) => {
        for (const w of whiskers) for (let i = 0; i < w.lo.length; i++) {
          if (w.lo[i] != null) min = Math.min(min, w.lo[i]);
          if (w.hi[i] != null) max = Math.max(max, w.hi[i]);
        }
        return uPlot.rangeNum(min, max, 0.1, true);
      };
    }
    const xScale = { time: false, range: xRange };
    if (spec.xLog) { xScale.distr = 3; xScale.log = 10; }
    const opts = {
      title: spec.title, width, height,
      scales: { x: xScale, y: yScale },
      series, bands,
      legend: { live: true },
      cursor: {
        points: { show: (u, si) => { const d = document.createElement('div'); if (aux.has(si) || u.series[si].width === 0) d.style.display = 'none'; return d; } },
        drag: { x: true, y: false, setScale: true },
      },
      axes: [
        {
          label: spec.xLabel, labelSize: 18, labelFont: '11px ' + fontStack(), font: '11px ' + fontStack(),
          stroke: '#555', grid: { stroke: '#f0f0f0', width: 1 }, ticks: { stroke: '#ddd', width: 1, size: 4 },
          values: spec.xTicks ? (u, splits) => splits.map((v) => labelAt(spec.xTicks, v)) : tickFormatter('num'),
          splits: spec.xTicks ? () => spec.xTicks.values : undefined,
          incrs: !spec.xTicks && !spec.xLog && spec.x.every(Number.isInteger) ? INT_INCRS : undefined,
          size: 30,
        },
        yAxis,
      ],
      hooks: {
        ready: [(u) => { if (spec.x.length && !spec.scatter) u.setLegend({ idx: spec.x.length - 1 }); }],
        drawClear: [(u) => drawShade(u, spec)],
        draw: [(u) => { drawWhiskers(u, whiskers); drawVlines(u, spec); drawYGrid(u, spec); }],
      },
    };
    const u = new uPlot(opts, data, fig.querySelector('.chart-box'));
    // The band edges are not series of their own in the legend.
    const rows = u.root.querySelectorAll('.u-legend .u-series');
    aux.forEach((i) => { if (rows[i]) rows[i].style.display = 'none'; });
    const lastIdx = spec.x.length - 1;
    const showLast = () => { if (lastIdx >= 0 && !spec.scatter) u.setLegend({ idx: lastIdx }); };
    u.over.addEventListener('mouseleave', () => setTimeout(showLast, 0));
    fig.__u = u;
    fig.__width = width;
    return u;
  }

  let fontCache = null;
  function fontStack() {
    if (!fontCache) fontCache = getComputedStyle(document.body).fontFamily || 'sans-serif';
    return fontCache;
  }

  function labelAt(ticks, v) {
    const i = ticks.values.indexOf(v);
    if (i >= 0) return ticks.labels[i];
    const j = ticks.values.findIndex((t) => Math.abs(t - v) < 1e-9);
    return j >= 0 ? ticks.labels[j] : '';
  }

  function drawShade(u, spec) {
    if (!spec.shade || !spec.shade.length) return;
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.beginPath(); ctx.rect(left, top, width, height); ctx.clip();
    for (const s of spec.shade) {
      if (!s.odd) continue;
      const x0 = u.valToPos(s.x0, 'x', true), x1 = u.valToPos(s.x1, 'x', true);
      ctx.fillStyle = 'rgba(60, 80, 110, 0.06)';
      ctx.fillRect(x0, top, x1 - x0, height);
    }
    ctx.restore();
  }

  function drawVlines(u, spec) {
    if (!spec.vlines || !spec.vlines.length) return;
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    const pr = uPlot.pxRatio || 1;
    ctx.save();
    ctx.beginPath(); ctx.rect(left, top, width, height); ctx.clip();
    ctx.font = `${10 * pr}px ${fontStack()}`;
    ctx.textBaseline = 'top';
    const used = [];
    for (const l of spec.vlines) {
      const x = u.valToPos(l.x, 'x', true);
      if (x < left - 1 || x > left + width + 1) continue;
      ctx.strokeStyle = l.color; ctx.lineWidth = 1.25 * pr;
      ctx.setLineDash((l.dash || []).map((d) => d * pr));
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke();
      ctx.setLineDash([]);
      let y = top + 3 * pr;
      while (used.some((p) => Math.abs(p[0] - x) < 60 * pr && p[1] === y)) y += 12 * pr;
      used.push([x, y]);
      ctx.fillStyle = l.color;
      ctx.fillText(l.label, Math.min(x + 3 * pr, left + width - ctx.measureText(l.label).width - 2), y);
    }
    ctx.restore();
  }

  function drawYGrid(u, spec) {
    if (!spec.ygrid) return;
    const { ctx } = u;
    const { left, width } = u.bbox;
    ctx.save();
    ctx.strokeStyle = '#c9c9c9'; ctx.lineWidth = uPlot.pxRatio || 1;
    for (const v of spec.ygrid) {
      const y = u.valToPos(v, 'y', true);
      ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + width, y); ctx.stroke();
    }
    ctx.restore();
  }

  function drawWhiskers(u, whiskers) {
    if (!whiskers.length) return;
    const { ctx } = u;
    const pr = uPlot.pxRatio || 1;
    ctx.save();
    for (const w of whiskers) {
      if (!u.series[w.si].show) continue;
      ctx.strokeStyle = w.color; ctx.lineWidth = 1.25 * pr;
      for (let i = 0; i < w.lo.length; i++) {
        if (w.lo[i] == null || w.hi[i] == null) continue;
        const x = u.valToPos(u.data[0][i], 'x', true);
        const y0 = u.valToPos(w.lo[i], 'y', true), y1 = u.valToPos(w.hi[i], 'y', true);
        const c = 4 * pr;
        ctx.beginPath();
        ctx.moveTo(x, y0); ctx.lineTo(x, y1);
        ctx.moveTo(x - c, y0); ctx.lineTo(x + c, y0);
        ctx.moveTo(x - c, y1); ctx.lineTo(x + c, y1);
        ctx.stroke();
      }
    }
    ctx.restore();
  }

  function chartFigure(spec) {
    const fig = h('figure', { class: 'chart' + (spec.wide ? ' wide' : '') }, h('div', { class: 'chart-box' }),
                  spec.note ? h('figcaption', { text: spec.note }) : null);
    fig.__spec = spec;
    return fig;
  }

  function chartGrid(specs, extraClass) {
    if (!specs.length) return null;
    return h('div', { class: 'grid' + (extraClass ? ' ' + extraClass : '') }, specs.map(chartFigure));
  }

  function isHidden(node) {
    for (let n = node.parentElement; n; n = n.parentElement) {
      if (n.tagName === 'DETAILS' && !n.open) {
        // The <summary> of a closed details is shown; its other children are not.
        return true;
      }
    }
    return false;
  }

  /// Draws every chart in `root` that is shown and not drawn yet (charts inside a closed
  /// <details> wait until it opens).
  function mountCharts(root) {
    for (const fig of root.querySelectorAll('figure.chart')) {
      if (fig.__u || isHidden(fig)) continue;
      try {
        mountChart(fig);
      } catch (e) {
        fig.querySelector('.chart-box').replaceWith(h('p', { class: 'error', text: `could not draw “${fig.__spec.title}”: ${e.message}` }));
        fig.__u = 'failed';
        addPageError(`chart “${fig.__spec.title}” could not be drawn: ${e.message}`);
      }
      observeSize(fig);
    }
  }

  function destroyCharts(root) {
    for (const fig of root.querySelectorAll('figure.chart')) {
      if (fig.__u && fig.__u !== 'failed') fig.__u.destroy();
      fig.__u = null;
      if (resizer) resizer.unobserve(fig);
    }
  }

  let resizer = null;
  function observeSize(fig) {
    if (typeof ResizeObserver === 'undefined') return;
    if (!resizer) {
      resizer = new ResizeObserver((entries) => {
        for (const e of entries) {
          const f = e.target;
          if (!f.__u || f.__u === 'failed') continue;
          const w = Math.max(260, Math.floor(f.clientWidth));
          if (Math.abs(w - f.__width) >= 2) {
            f.__width = w;
            f.__u.setSize({ width: w, height: f.__spec.height || 230 });
          }
        }
      });
    }
    resizer.observe(fig);
  }

  // ---------------------------------------------------------------------------------------------
  // Page pieces

  function kvTable(pairs, cls) {
    const rows = pairs.filter((p) => p && p[1] !== undefined);
    if (!rows.length) return null;
    return h('table', { class: 'kv ' + (cls || '') }, h('tbody', null, rows.map(([k, v]) =>
      h('tr', null, h('th', { text: k }), h('td', null, v instanceof Node ? v : v == null ? '–' : String(v))))));
  }

  function dataTable(header, rows, opts = {}) {
    const table = h('table', { class: 'data' + (opts.cls ? ' ' + opts.cls : '') });
    const thead = h('thead', null, h('tr', null, header.map((c, i) => h('th', {
      class: opts.numeric && opts.numeric[i] ? 'num' : null, title: opts.sortable ? 'sort by ' + c : null,
      onclick: opts.sortable ? () => sortBy(i) : null, text: c,
    }))));
    const tbody = h('tbody');
    const fill = (list) => {
      tbody.replaceChildren(...list.map((r) => h('tr', r.attrs || null, r.cells.map((c, i) =>
        h('td', { class: opts.numeric && opts.numeric[i] ? 'num' : null }, c instanceof Node ? c : c == null ? '–' : String(c))))));
    };
    let sorted = { col: -1, dir: 1 };
    function sortBy(i) {
      sorted = { col: i, dir: sorted.col === i ? -sorted.dir : 1 };
      const list = rows.slice().sort((a, b) => {
        const x = a.sort ? a.sort[i] : a.cells[i], y = b.sort ? b.sort[i] : b.cells[i];
        if (isNum(x) && isNum(y)) return (x - y) * sorted.dir;
        if (x == null) return 1;
        if (y == null) return -1;
        return String(x instanceof Node ? x.textContent : x).localeCompare(String(y instanceof Node ? y.textContent : y), undefined, { numeric: true }) * sorted.dir;
      });
      thead.querySelectorAll('th').forEach((th, j) => th.setAttribute('data-sort', j === i ? (sorted.dir > 0 ? 'asc' : 'desc') : ''));
      fill(list);
    }
    fill(rows);
    table.append(thead, tbody);
    return h('div', { class: 'table-wrap' }, table);
  }

  function details(key, summary, body, open) {
    return h('details', { 'data-key': key, open: !!open }, h('summary', null, summary), body);
  }

  /// errors: strings, or {text, where} (the page's list says which source each is from).
  function errorBox(errors) {
    if (!errors.length) return null;
    return h('div', { class: 'problems', role: 'alert' }, h('strong', { text: errors.length === 1 ? 'Problem' : `${errors.length} problems` }),
             h('ul', null, errors.map((e) => (typeof e === 'string' ? h('li', { text: e })
                                                                   : h('li', null, e.where ? h('span', { class: 'where', text: e.where + ': ' }) : null, e.text)))));
  }

  function tile(label, value, cls) {
    return h('div', { class: 'tile' + (cls ? ' ' + cls : '') }, h('div', { class: 'tile-value', text: value }), h('div', { class: 'tile-label', text: label }));
  }

  const MAIN_FIGURES = ['test_accuracy', 'val_accuracy', 'train_accuracy', 'val_loss', 'train_loss', 'epochs', 'seconds'];

  function summaryFigures(summary) {
    if (!isObj(summary)) return null;
    const tiles = MAIN_FIGURES.filter((k) => isNum(summary[k])).map((k) => tile(human(k), fmtFigure(k, summary[k]), k === 'test_accuracy' ? 'primary' : null));
    const skip = new Set([...MAIN_FIGURES, 'status', 'reason', 'experiment']);
    const rest = Object.entries(summary).filter(([k]) => !skip.has(k));
    return h('div', { class: 'figures' },
      tiles.length ? h('div', { class: 'tiles' }, tiles) : null,
      rest.length ? kvTable(rest.map(([k, v]) => [human(k), fmtFigure(k, v)]), 'compact figures-table') : null);
  }

  function progressBox(p, state) {
    if (!isObj(p)) return null;
    const parts = [];
    if (isNum(p.epoch)) parts.push(`epoch ${p.epoch}${isNum(p.epochs) ? ' / ' + p.epochs : ''}`);
    if (isNum(p.step)) parts.push(`step ${p.step}${isNum(p.steps) ? ' / ' + p.steps : ''}`);
    if (p.layer != null && p.layer !== '') parts.push(`layer ${p.layer}`);
    if (p.unit != null) parts.push(`unit ${p.unit}`);
    if (isNum(p.units_done)) parts.push(`${p.units_done}${isNum(p.units_total) ? ' / ' + p.units_total : ''} units fitted`);
    let frac = null;
    if (isNum(p.units_done) && isNum(p.units_total) && p.units_total > 0) frac = p.units_done / p.units_total;
    else if (isNum(p.step) && isNum(p.steps) && p.steps > 0) frac = p.step / p.steps;
    const dead = p.alive === false;
    return h('div', { class: 'progress' + (dead ? ' dead' : '') },
      h('span', { class: 'progress-label', text: dead ? 'Stopped (its process is gone):' : 'Training now:' }), ' ', parts.join(' · '),
      p.host ? h('span', { class: 'muted-text', text: `  (pid ${p.pid} on ${p.host})` }) : null,
      frac != null ? h('div', { class: 'bar' }, h('div', { class: 'bar-fill', style: `width:${(100 * Math.min(1, frac)).toFixed(1)}%` })) : null);
  }

  function manifestView(m) {
    if (!isObj(m)) return null;
    const known = ['experiment', 'source', 'seed', 'commit', 'dirty', 'hostname', 'cpu', 'cores', 'os', 'compiler', 'isa', 'blas_core', 'threads', 'gemm_threading', 'plugins'];
    const gt = isObj(m.gemm_threading) ? m.gemm_threading : null;
    const pairs = [
      ['experiment', m.experiment], ['source', m.source], ['seed', m.seed],
      ['commit', m.commit != null ? h('code', { text: String(m.commit) + (m.dirty ? ' (dirty: uncommitted changes)' : '') }) : undefined],
      ['host', m.hostname], ['CPU', m.cpu != null ? `${m.cpu}${m.cores != null ? ` (${m.cores} cores)` : ''}` : undefined],
      ['OS', m.os], ['compiler', m.compiler], ['instruction set', m.isa], ['BLAS kernel', m.blas_core], ['threads', m.threads],
      ['GEMM threading', gt ? `${gt.threading || '?'} (${gt.source || '?'}${isNum(gt.host_step_us) ? `; host ${gt.host_step_us.toFixed(0)} µs, BLAS ${fmtNum(gt.blas_step_us, 4)} µs per step` : ''})` : (m.gemm_threading == null ? undefined : String(m.gemm_threading))],
    ];
    for (const [k, v] of Object.entries(m)) if (!known.includes(k)) pairs.push([human(k), isObj(v) || Array.isArray(v) ? h('code', { class: 'json', text: JSON.stringify(v) }) : v]);
    const plugins = Array.isArray(m.plugins) ? m.plugins : [];
    return h('div', { class: 'manifest' },
      kvTable(pairs.filter((p) => p[1] !== undefined && p[1] !== null), 'compact'),
      plugins.length ? h('div', null, h('h4', { text: 'Plugins' }), dataTable(['name', 'kind', 'version', 'sha256', 'file'],
        plugins.map((p) => ({ cells: [p.name, p.kind, p.version, h('code', { class: 'hash', text: p.sha256 || '–' }), h('code', { class: 'path', text: p.file || '–' })] })))) : null);
  }

  function alertsTable(alerts, layerNames) {
    if (!alerts.length) return null;
    return dataTable(['stage', 'epoch', 'alert', 'layer', 'units', 'message'], alerts.map((a) => ({
      cells: [a.stage, a.epoch, h('span', { class: 'badge bad', text: a.alert || 'alert' }),
              isNum(a.layer) ? (a.layer < 0 ? 'all' : (layerNames && layerNames[a.layer]) || a.layer) : a.layer,
              Array.isArray(a.units) ? truncate(a.units.join(', '), 60) : '–', a.message],
    })), { numeric: [true, true] });
  }

  function stagesTable(stages, layerNames) {
    return dataTable(['stage', 'task', 'epoch', 'layer', 'units', 'train', 'val', 'label'], stages.map((s) => ({
      cells: [s.stage, s.task, s.epoch, isNum(s.layer) ? (s.layer < 0 ? 'all' : (layerNames[s.layer] || s.layer)) : '–',
              s.units === 'all' ? 'all' : Array.isArray(s.units) ? s.units.length : '–', pct(s.train_accuracy), pct(s.val_accuracy),
              h('span', { class: 'label-text', title: s.label || '', text: truncate(s.label || '', 110) })],
      sort: [s.stage, s.task, s.epoch, s.layer, Array.isArray(s.units) ? s.units.length : 0, s.train_accuracy, s.val_accuracy, s.label],
    })), { numeric: [true, true, true, false, true, true, true], sortable: true });
  }

  function layersTable(stage) {
    const layers = stage && Array.isArray(stage.layers) ? stage.layers : [];
    if (!layers.length) return null;
    const m = (l, k) => (isObj(l.margin) && isNum(l.margin[k]) ? fmtNum(l.margin[k], 3) : '–');
    const hasCap = layers.some((l) => isObj(l.capacity));
    const header = ['layer', 'units', 'gold', 'noisy', 'collapsed', 'margin min', 'q25', 'median', 'q75', 'max', 'mean'];
    if (hasCap) header.push('capacity median');
    return dataTable(header, layers.map((l) => ({
      cells: [l.name, l.units, l.gold, l.noisy, l.collapsed, m(l, 'min'), m(l, 'q25'), m(l, 'median'), m(l, 'q75'), m(l, 'max'), m(l, 'mean'),
              ...(hasCap ? [isObj(l.capacity) ? fmtNum(l.capacity.median) : '–'] : [])],
    })), { numeric: [false, true, true, true, true, true, true, true, true, true, true, true] });
  }

  function sumCacheTable(sc, summary) {
    if (!isObj(sc)) return null;
    const layers = Array.isArray(sc.layers) ? sc.layers : [];
    const units = Array.isArray(sc.units) ? sc.units : [];
    const records = units.reduce((a, u) => a + ((u.records || []).length), 0);
    const bytes = isNum(sc.bytes) ? sc.bytes : isObj(summary) && isNum(summary.sumcache_bytes) ? summary.sumcache_bytes : null;
    return kvTable([
      ['layers', layers.map((l) => `${l.name} (${l.size})`).join(', ') || '–'],
      ['units', isNum(sc.units_total) ? sc.units_total : units.length],
      ['records', isNum(sc.records_total) ? sc.records_total : records],
      ['kept per unit', sc.keep], ['stages', Array.isArray(sc.stages) ? sc.stages.length : '–'],
      ['size', bytes != null ? fmtBytes(bytes) : '–'],
      isNum(sc.unit_stride) && sc.unit_stride > 1 ? ['shown', `every ${sc.unit_stride}th unit of each layer (${units.length} units, ${records} records)`] : null,
    ], 'compact');
  }

  function taskView(m) {
    if (!m || m.R.length < 2) return null;
    const header = ['after task', ...Array.from({ length: m.T }, (_, j) => `task ${j}` + (m.names[j] ? ` ${m.names[j]}` : ''))];
    const cell = (v, i, j) => {
      if (v == null) return h('span', { class: 'muted-text', text: '–' });
      const s = h('span', { class: 'cell' + (j > i ? ' future' : ''), text: pct(v, 1) });
      s.style.background = `rgba(59,110,168,${(0.08 + 0.5 * v).toFixed(3)})`;
      return s;
    };
    const rows = m.R.map((r, i) => ({ cells: [`${i} ${m.names[i] || ''}`, ...r.map((v, j) => cell(v, i, j))] }));
    return h('div', { class: 'task-matrix' },
      dataTable(header, rows, { numeric: header.map((_, i) => i > 0), cls: 'matrix' }),
      h('p', { class: 'note' },
        `Accuracy on each task's test split after training on the row's task (cells right of the diagonal: tasks not trained yet). `,
        m.average != null ? `Average final accuracy ${pct(m.average)}. ` : '',
        m.bwt != null ? h('strong', { text: `Backward transfer ${(m.bwt * 100).toFixed(2)} points` }) : '',
        m.bwt != null ? ' (mean over the earlier tasks of final − just-trained accuracy; negative is forgetting). ' : '',
        m.forgetting.length ? `Forgetting per task: ${m.forgetting.map((f, j) => `task ${j} ${f == null ? '–' : (f * 100).toFixed(2)}`).join(', ')} points.` : ''));
  }

  function section(title, ...body) {
    const content = body.flat().filter(Boolean);
    if (!content.length) return null;
    return h('div', { class: 'block' }, h('h3', { text: title }), content);
  }

  function runBody(model, inTrial) {
    const f = model.files;
    const mt = model.metrics;
    const summary = isObj(f['summary.json']) ? f['summary.json'] : null;
    const lastStage = mt.stages[mt.stages.length - 1];
    const pieces = [];
    pieces.push(errorBox(model.errors));
    pieces.push(progressBox(f['progress.json'], model.state));
    if (summary && summary.reason) pieces.push(h('p', { class: 'reason' }, h('strong', { text: 'Reason: ' }), String(summary.reason)));
    pieces.push(summaryFigures(summary));
    if (!mt.epochs.length && !mt.malformed.length)
      pieces.push(h('p', { class: 'note', text: typeof f['metrics.jsonl'] === 'string' ? 'metrics.jsonl has no epoch rows yet.' : 'This run has no metrics.jsonl yet.' }));
    const tr = model.charts.training;
    pieces.push(section('Training',
      chartGrid(tr),
      model.notes.filter((n) => n.startsWith('Not plotted')).map((n) => h('p', { class: 'note', text: n })),
      mt.stages.length > 1 && tr.length ? h('p', { class: 'note', text: 'Shaded bands on the epoch charts mark alternate stages; dashed red lines mark alerts.' }) : null));
    const layerNames = model.layerNames || [];
    pieces.push(section('Stages and units',
      chartGrid(model.charts.stages.concat(model.charts.units)),
      model.notes.filter((n) => n.startsWith('Training order')).map((n) => h('p', { class: 'note', text: n })),
      lastStage ? h('h4', { text: `Layers after the last stage (stage ${lastStage.stage}${isNum(lastStage.epoch) ? ', epoch ' + lastStage.epoch : ''})` }) : null,
      layersTable(lastStage),
      mt.stages.length ? (mt.stages.length > 8 ? details(model.key + '/stages', `All ${mt.stages.length} stages`, stagesTable(mt.stages, layerNames), false)
                                              : h('div', null, h('h4', { text: 'Stages' }), stagesTable(mt.stages, layerNames))) : null));
    if (isObj(model.src.sum_cache)) {
      pieces.push(section('Sum cache', sumCacheTable(model.src.sum_cache, summary), chartGrid(model.charts.sums)));
    }
    pieces.push(section('Tasks', taskView(model.taskMatrix), chartGrid(model.charts.tasks)));
    pieces.push(section('Alerts', alertsTable(mt.alerts, layerNames)));
    const cfg = f['config.toml'];
    const log = f['log.txt'];
    pieces.push(section('Run',
      manifestView(f['manifest.json']),
      !isObj(f['manifest.json']) ? h('p', { class: 'note', text: 'No manifest.json.' }) : null,
      typeof cfg === 'string' ? details(model.key + '/config', 'Resolved configuration (config.toml)', h('pre', { class: 'code', text: cfg }), false) : null,
      summary ? details(model.key + '/summary', 'summary.json', h('pre', { class: 'code', text: JSON.stringify(summary, null, 2) }), false) : null,
      typeof log === 'string' ? details(model.key + '/log', `Log (log.txt, last ${Math.min(200, log.split('\n').filter(Boolean).length)} lines)`, h('pre', { class: 'code log', text: log }), false) : null));
    return pieces.filter(Boolean);
  }

  function runHeadline(model) {
    const s = isObj(model.files['summary.json']) ? model.files['summary.json'] : {};
    const bits = [`${model.metrics.epochs.length} epoch${model.metrics.epochs.length === 1 ? '' : 's'}`];
    if (isNum(s.test_accuracy)) bits.push('test ' + pct(s.test_accuracy));
    else if (model.metrics.epochs.length) {
      const last = model.metrics.epochs[model.metrics.epochs.length - 1];
      if (isNum(last.val_accuracy)) bits.push('val ' + pct(last.val_accuracy));
    }
    if (isNum(s.seconds)) bits.push(fmtDuration(s.seconds));
    return bits.join(' · ');
  }

  function runSection(model) {
    const m = isObj(model.files['manifest.json']) ? model.files['manifest.json'] : {};
    return h('section', { class: 'source run', id: model.anchor },
      h('header', { class: 'source-head' },
        h('div', { class: 'title-row' }, h('span', { class: 'kind', text: 'run' }), h('h2', null, model.name, ' ', h('span', { class: 'id', text: model.id })), badge(model.state)),
        h('p', { class: 'meta' }, h('code', { class: 'path', text: model.src.path || '' }),
          isNum(m.seed) ? ` · seed ${m.seed}` : '', ' · ', runHeadline(model))),
      runBody(model, false));
  }

  function findingsView(findings) {
    if (!findings.length) return null;
    return h('div', { class: 'findings' }, findings.map((f) => {
      const verdict = String(f.verdict || '?');
      const figures = isObj(f.figures) ? Object.entries(f.figures) : [];
      return h('div', { class: 'finding ' + (STATE_CLASS[verdict.toLowerCase()] || 'muted') },
        h('div', { class: 'finding-head' }, badge(verdict), h('span', { class: 'finding-text', text: f.finding || '' })),
        f.check ? h('code', { class: 'check', text: f.check }) : null,
        figures.length ? h('table', { class: 'kv compact figures-of' }, h('tbody', null, figures.map(([k, v]) => h('tr', null,
          h('th', null, h('code', { text: k })),
          h('td', { text: isObj(v) ? `${fmtFigure(k.split('.').pop(), v.mean)} ± ${fmtFigure(k.split('.').pop(), v.std)}` : fmtNum(v) }),
          h('td', { class: 'muted-text', text: isObj(v) && v.n != null ? `n = ${v.n}` : '' }))))) : null,
        comparisonsView(f.comparisons),
        regimesView(f));
    }));
  }

  // findings.json of a study with a [regime]: where the finding was claimed and found to hold,
  // and at each value its verdict and comparisons.
  function regimesView(f) {
    if (!Array.isArray(f.regimes) || !f.regimes.length) return null;
    const names = isObj(f.regimes[0].comparisons) ? Object.keys(f.regimes[0].comparisons) : [];
    const cell = (c) => {
      if (!isObj(c) || typeof c.diff !== 'number') return '-';
      const ci = Array.isArray(c.ci95) ? c.ci95 : [];
      const num = (v) => (typeof v === 'number' ? fmtNum(v) : '-');
      const p = typeof c.welch_p !== 'number' ? '-' : c.welch_p < 0.001 ? c.welch_p.toExponential(1) : c.welch_p.toFixed(3);
      return `${c.diff > 0 ? '+' : ''}${num(c.diff)} [${num(ci[0])}, ${num(ci[1])}] p = ${p}`;
    };
    return h('div', { class: 'regimes' },
      h('div', { class: 'regime-where', text: `claimed: ${f.claimed || '-'}` }),
      f.found ? h('div', { class: 'regime-where', text: `found: ${f.found}` }) : null,
      h('table', { class: 'kv compact regime-table' },
        h('thead', null, h('tr', null, h('th', null, h('code', { text: f.regime_key || 'at' })), h('th', { text: 'verdict' }),
          names.map((n) => h('th', null, h('code', { text: n }))))),
        h('tbody', null, f.regimes.map((r) => h('tr', { class: 'regime-row' },
          h('td', null, h('code', { text: String(r.value) })),
          h('td', null, badge(String(r.verdict || '?'))),
          names.map((n) => h('td', { text: cell(isObj(r.comparisons) ? r.comparisons[n] : null) })))))));
  }

  // findings.json `comparisons`: per pair of figures the check compares, the difference with
  // its 95% interval (Welch), Welch's p and Cohen's d. null where undefined (under 2 seeds).
  function comparisonsView(comparisons) {
    const rows = isObj(comparisons) ? Object.entries(comparisons) : [];
    if (!rows.length) return null;
    const num = (v, d) => (typeof v === 'number' ? fmtNum(v, d) : '-');
    const p = (v) => (typeof v !== 'number' ? '-' : v < 0.001 ? v.toExponential(1) : v.toFixed(3));
    return h('div', { class: 'comparisons' }, rows.map(([name, c]) => {
      const ci = Array.isArray(c.ci95) ? c.ci95 : [];
      const sign = typeof c.diff === 'number' && c.diff > 0 ? '+' : '';
      return h('div', { class: 'comparison' },
        h('code', { text: name }),
        h('span', { text: ` = ${sign}${num(c.diff)} [${num(ci[0])}, ${num(ci[1])}] 95% CI` }),
        h('span', { class: 'muted-text', text: ` · Welch p = ${p(c.welch_p)} · d = ${num(c.cohen_d, 2)}` }));
    }));
  }

  function trialsTable(model) {
    const trials = model.trials;
    if (!trials.length) return null;
    const runsById = new Map(model.runs.map((r) => [r.trial.id, r]));
    return dataTable(['trial', 'group', 'seed', 'settings', 'state', 'reason', 'epochs', 'test acc', 'time'], trials.map((t) => {
      const r = runsById.get(t.id);
      const st = isObj(t.status) ? t.status : {};
      const sum = r && isObj(r.files['summary.json']) ? r.files['summary.json'] : {};
      const settings = isObj(t.settings) ? Object.entries(t.settings) : [];
      const prog = r && isObj(r.files['progress.json']) ? r.files['progress.json'] : null;
      let reason = st.reason || (st.exit_code ? `exit code ${st.exit_code}` : '') || (st.signal ? `signal ${st.signal}` : '');
      if (prog && t.state === 'running') reason = [isNum(prog.epoch) ? `epoch ${prog.epoch}/${prog.epochs}` : '', prog.layer != null ? `layer ${prog.layer}` : '', prog.unit != null ? `unit ${prog.unit}` : ''].filter(Boolean).join(' · ');
      return {
        cells: [r ? h('a', { href: '#' + model.anchor + '-trial-' + slug(t.id), text: t.id, onclick: () => openTrial(model, t.id) }) : t.id, t.group, t.seed,
                settings.length ? h('span', { class: 'settings' }, settings.map(([k, v]) => h('code', { text: `${k}=${String(parseSetting(v))}` }))) : h('span', { class: 'muted-text', text: 'defaults' }),
                badge(t.state), reason || '', r ? r.metrics.epochs.length : '–', isNum(sum.test_accuracy) ? pct(sum.test_accuracy) : '–',
                isNum(st.seconds) ? fmtDuration(st.seconds) : isNum(sum.seconds) ? fmtDuration(sum.seconds) : '–'],
        sort: [t.id, t.group, t.seed, null, t.state, reason, r ? r.metrics.epochs.length : -1, sum.test_accuracy, st.seconds],
      };
    }), { numeric: [false, false, true, false, false, false, true, true, true], sortable: true });
  }

  function openTrial(model, id) {
    const d = document.getElementById(model.anchor + '-trial-' + slug(id));
    if (d) d.open = true;
  }

  function resultsTable(csv) {
    if (!csv || !csv.header.length) return null;
    const si = csv.header.indexOf('status');
    const numeric = csv.header.map((_, i) => csv.rows.some((r) => isNum(csvValue(r[i]))) && i !== csv.header.indexOf('id'));
    return dataTable(csv.header, csv.rows.map((r) => ({
      cells: r.map((c, i) => {
        if (i === si) return badge(c || '–');
        const v = csvValue(c);
        if (isNum(v)) return fmtFigure(csv.header[i], v);
        return v == null ? '' : String(parseSetting(v));
      }),
      sort: r.map((c) => csvValue(c)),
    })), { numeric, sortable: true, cls: 'results' });
  }

  function stateChips(trials) {
    const counts = new Map();
    for (const t of trials) counts.set(t.state, (counts.get(t.state) || 0) + 1);
    return h('span', { class: 'chips' }, [...counts.entries()].map(([s, n]) => badge(s, `${n} ${s}`)));
  }

  function studySection(model) {
    const m = model.manifest;
    const head = h('header', { class: 'source-head' },
      h('div', { class: 'title-row' }, h('span', { class: 'kind', text: model.kind ? `study · ${model.kind}` : 'study' }),
        h('h2', null, model.name, ' ', h('span', { class: 'id', text: model.id })), badge(model.state)),
      h('p', { class: 'meta' }, h('code', { class: 'path', text: model.src.path || '' }), m.created ? ` · created ${fmtTime(m.created)}` : '',
        ` · ${model.trials.length} trial${model.trials.length === 1 ? '' : 's'} `, stateChips(model.trials)));
    const holds = model.findings.filter((f) => String(f.verdict).toUpperCase() === 'HOLDS').length;
    const body = [];
    body.push(errorBox(model.errors));
    if (model.findings.length)
      body.push(section(`Findings: ${holds} of ${model.findings.length} hold`, findingsView(model.findings)));
    if (model.charts.arms.length || model.charts.armsMore.length)
      body.push(section('Arms', h('p', { class: 'note', text: `Each arm's epoch rows aligned by epoch: the line is the mean over its seeds, the band ± one standard deviation.` }), chartGrid(model.charts.arms),
        model.charts.armsMore.length ? details(model.key + '/arms-more', `Every other epoch figure by arm (${model.charts.armsMore.length} charts)`, chartGrid(model.charts.armsMore), false) : null));
    if (model.kind === 'sweep' && model.csv) {
      const metrics = sweepMetrics(model);
      if (metrics.length && (m.parameters || []).length) {
        const pref = prefs.get(model.key + '/metric');
        const chosen = metrics.includes(pref) ? pref : ['test_accuracy', 'val_accuracy'].find((k) => metrics.includes(k)) || metrics[0];
        buildSweepCharts(model, chosen);
        const holder = h('div', { class: 'sweep-charts' }, chartGrid(model.charts.sweep));
        const select = h('select', { 'data-key': model.key + '/metric', onchange: (e) => {
          prefs.set(model.key + '/metric', e.target.value);
          destroyCharts(holder);
          buildSweepCharts(model, e.target.value);
          holder.replaceChildren(chartGrid(model.charts.sweep) || '');
          mountCharts(holder);
        } }, metrics.map((k) => h('option', { value: k, selected: k === chosen ? true : null, text: k })));
        body.push(section('Sweep', h('p', { class: 'controls' }, h('label', null, 'metric ', select), ' against each swept key: ', (m.parameters || []).map((p) => h('code', { text: p })).reduce((a, c, i) => (i ? [...a, ', ', c] : [c]), [])), holder));
      }
    }
    body.push(section('Results', resultsTable(model.csv),
      typeof model.files['table.txt'] === 'string' ? details(model.key + '/table', 'Mean ± std per group (table.txt)', h('pre', { class: 'code', text: model.files['table.txt'] }), false) : null,
      !model.csv ? h('p', { class: 'note', text: 'No results.csv yet (written when the study ends).' }) : null));
    body.push(section('Trials', trialsTable(model)));
    if (model.runs.length) {
      body.push(section('Trial runs', model.runs.map((r) => h('details', { class: 'trial-run', 'data-key': r.key, id: model.anchor + '-trial-' + slug(r.trial.id) },
        h('summary', null, h('span', { class: 'trial-id', text: r.trial.id }), ' ', badge(r.state), ' ', h('span', { class: 'muted-text', text: `${r.name} ${r.id} · ${runHeadline(r)}` }),
          r.errors.length ? h('span', { class: 'badge bad', text: `${r.errors.length} problem${r.errors.length === 1 ? '' : 's'}` }) : null),
        h('div', { class: 'trial-body' }, h('p', { class: 'meta' }, h('code', { class: 'path', text: r.src.path || '' })), runBody(r, true))))));
    }
    body.push(section('Study', kvTable([
      ['kind', m.kind], ['source', m.source ? h('code', { text: m.source }) : undefined], ['source sha256', m.source_sha256 ? h('code', { class: 'hash', text: m.source_sha256 }) : undefined],
      ['created', m.created ? fmtTime(m.created) : undefined], ['command', Array.isArray(m.command) ? h('code', { text: m.command.join(' ') }) : undefined],
      ['backend', m.backend], ['swept keys', Array.isArray(m.parameters) ? m.parameters.join(', ') : undefined],
    ].filter((p) => p[1] !== undefined), 'compact')));
    return h('section', { class: 'source study', id: model.anchor }, head, body.filter(Boolean));
  }

  // Overview ------------------------------------------------------------------------------------

  function overview(models) {
    const problems = (n) => (n ? h('span', { class: 'badge bad', text: `${n} problem${n === 1 ? '' : 's'}` }) : '');
    const rows = models.map((m) => {
      const link = h('a', { href: '#' + m.anchor, text: m.name });
      if (m.type === 'run') {
        return { cells: ['run', link, h('code', { text: m.id }), badge(m.state), runHeadline(m), problems(m.errors.length)] };
      }
      if (m.type !== 'study') return { cells: ['?', link, h('code', { text: m.id }), badge(m.state), '', problems(m.errors.length)] };
      const holds = m.findings.filter((f) => String(f.verdict).toUpperCase() === 'HOLDS').length;
      const done = m.trials.filter((t) => t.state === 'ok').length;
      const bits = [`${done} of ${m.trials.length} trials ok`];
      if (m.findings.length) bits.push(`${holds} of ${m.findings.length} findings hold`);
      return { cells: [m.kind ? `study (${m.kind})` : 'study', link, h('code', { text: m.id }), badge(m.state), bits.join(' · '),
                       problems(m.errors.length + m.runs.reduce((a, r) => a + r.errors.length, 0))] };
    });
    const table = dataTable(['type', 'name', 'id', 'state', 'result', ''], rows);
    const runs = models.filter((m) => m.type === 'run' && m.metrics.epochs.length);
    let compare = null;
    if (runs.length >= 2) {
      const specs = [];
      for (const [k, fmt] of [['val_accuracy', 'pct'], ['train_accuracy', 'pct'], ['train_loss', 'num'], ['val_loss', 'num']]) {
        const has = runs.filter((r) => r.metrics.epochs.some((e) => isNum(e[k]) && e[k] !== 0));
        if (!has.length) continue;
        const xs = [...new Set(has.flatMap((r) => r.epochAxis.x))].sort((a, b) => a - b);
        specs.push({
          title: `${capital(human(k))}: the runs side by side`, xLabel: 'epoch', yLabel: human(k), yFormat: fmt, x: xs,
          series: has.map((r, i) => {
            const byX = new Map(r.metrics.epochs.map((e, j) => [r.epochAxis.x[j], e[k]]));
            return { label: `${r.name} ${r.id}`, data: xs.map((x) => (isNum(byX.get(x)) ? byX.get(x) : null)), color: PALETTE[i % PALETTE.length] };
          }),
        });
      }
      compare = chartGrid(specs);
    }
    return h('section', { class: 'overview', 'data-key': 'overview' }, h('h2', { class: 'visually-small', text: 'Overview' }), table, compare);
  }

  // ---------------------------------------------------------------------------------------------
  // The page, and updating it in place

  const prefs = new Map();
  let models = [];
  let pageErrors = [];
  let bundle = null;
  let lastUpdate = null;
  let liveStatus = null;

  function addPageError(msg) {
    if (!pageErrors.includes(msg)) pageErrors.push(msg);
    const box = document.getElementById('page-problems');
    if (box) box.replaceChildren(errorBox(allErrors()) || '');
  }

  function allErrors() {
    const out = [];
    for (const m of models) {
      for (const e of m.errors) out.push({ text: e, where: `${m.name} ${m.id}` });
      if (m.type === 'study') for (const r of m.runs) for (const e of r.errors) out.push({ text: e, where: `${m.name} / trial ${r.trial.id}` });
    }
    for (const e of pageErrors) out.push({ text: e, where: '' });
    return out;
  }

  function buildModel(src, i, hash) {
    const m = buildSource(src, i);
    m.anchor = `src-${i + 1}-${slug(m.id)}`;
    m.index = i;
    m.hash = hash || JSON.stringify(src);
    return m;
  }

  function buildSource(src, i) {
    try {
      if (isObj(src) && src.type === 'study') return buildStudy(src);
      if (isObj(src) && src.type === 'run') return buildRun(src, null);
      throw new Error(`source ${i + 1} has an unknown type ${JSON.stringify(isObj(src) ? src.type : src)}`);
    } catch (e) {
      return { type: 'broken', src, name: (isObj(src) && src.name) || `source ${i + 1}`, id: (isObj(src) && (src.id || src.path)) || String(i + 1),
               key: 'broken:' + i, state: 'failed', errors: [`this source could not be read: ${e.message}`], metrics: parseMetrics(null),
               files: {}, charts: { training: [] }, trials: [], runs: [], findings: [] };
    }
  }

  function renderSource(model) {
    try {
      if (model.type === 'run') return runSection(model);
      if (model.type === 'study') return studySection(model);
    } catch (e) {
      model.errors.push(`this source could not be shown: ${e.message}`);
    }
    return h('section', { class: 'source broken', id: model.anchor },
      h('header', { class: 'source-head' }, h('div', { class: 'title-row' }, h('h2', { text: model.name }), badge('failed', 'unreadable'))), errorBox(model.errors));
  }

  function headerView(b) {
    const runs = models.filter((m) => m.type === 'run').length, studies = models.filter((m) => m.type === 'study').length;
    const what = [runs ? `${runs} run${runs === 1 ? '' : 's'}` : '', studies ? `${studies} stud${studies === 1 ? 'y' : 'ies'}` : ''].filter(Boolean).join(', ') || 'nothing';
    return h('header', { class: 'page-head', id: 'page-head' },
      h('div', { class: 'brand' }, h('h1', { text: 'ablate report' }), b.live ? h('span', { id: 'live', class: 'live-indicator' }) : null),
      h('p', { class: 'meta' }, `${what} · generated ${fmtTime(b.generated)}`, b.ablate_version ? ` · ablate ${b.ablate_version}` : ''),
      h('nav', { class: 'toc' }, models.map((m) => h('a', { href: '#' + m.anchor }, h('span', { class: 'kind', text: m.type === 'study' ? 'study' : 'run' }), ` ${m.name} `, h('span', { class: 'id', text: m.id })))));
  }

  const clock = (d) => [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');

  function updateLive() {
    const el = document.getElementById('live');
    if (!el || !bundle || !bundle.live) return;
    const t = lastUpdate ? clock(lastUpdate) : '–';
    if (liveStatus && liveStatus.down) {
      el.className = 'live-indicator down';
      el.textContent = `disconnected (${liveStatus.down}) · last update ${t}`;
    } else {
      el.className = 'live-indicator';
      el.textContent = `live · updated ${t}`;
    }
    el.title = liveStatus && liveStatus.checked ? `last checked ${clock(liveStatus.checked)}` : '';
  }

  function render(b) {
    bundle = b;
    const app = document.getElementById('app');
    const sources = Array.isArray(b.sources) ? b.sources : [];
    models = sources.map((src, i) => buildModel(src, i));
    const sections = models.map((m) => {
      const el = renderSource(m);
      el.__key = m.key;
      return el;
    });
    app.replaceChildren(
      headerView(b),
      h('div', { id: 'page-problems' }, errorBox(allErrors())),
      overview(models),
      ...(sections.length ? sections : [h('p', { class: 'note', text: 'The bundle names no runs or studies.' })]),
      h('footer', { class: 'page-foot', text: `ablate report · ${fmtTime(b.generated)} · charts by uPlot` }));
    mountCharts(app);
    lastUpdate = new Date();
    updateLive();
  }

  /// A newer bundle from the dashboard: only the sources that changed are rebuilt, in place;
  /// scroll position, open <details> and chosen metrics stay.
  function update(b) {
    const app = document.getElementById('app');
    const y = window.scrollY;
    const old = new Map();
    for (const el of app.querySelectorAll(':scope > section.source')) old.set(el.__key, el);
    const sources = Array.isArray(b.sources) ? b.sources : [];
    const before = new Map(models.map((m) => [m.hash, m]));
    const fresh = sources.map((src, i) => {
      const hash = JSON.stringify(src);
      const same = before.get(hash);
      return same && same.index === i ? same : buildModel(src, i, hash);
    });
    const structural = fresh.length !== models.length || fresh.some((m, i) => m.key !== models[i].key);
    const changed = [];
    fresh.forEach((m, i) => {
      const el = old.get(m.key);
      if (!structural && el && m === models[i]) return;
      changed.push([m, el]);
    });
    bundle = b;
    models = fresh;
    for (const [m, el] of changed) {
      const next = renderSource(m);
      next.__key = m.key;
      if (el) {
        keepOpenState(el, next);
        destroyCharts(el);
        el.replaceWith(next);
      } else {
        app.querySelector('footer.page-foot').before(next);
      }
    }
    if (structural) {
      const keep = new Set(models.map((m) => m.key));
      for (const [k, el] of old) if (!keep.has(k)) { destroyCharts(el); el.remove(); }
      // Order the sections as the bundle does.
      const foot = app.querySelector('footer.page-foot');
      for (const m of models) { const el = [...app.querySelectorAll(':scope > section.source')].find((e) => e.__key === m.key); if (el) foot.before(el); }
    }
    const head = document.getElementById('page-head');
    head.replaceWith(headerView(b));
    document.getElementById('page-problems').replaceChildren(errorBox(allErrors()) || '');
    const ov = app.querySelector('section.overview');
    const nov = overview(models);
    destroyCharts(ov);
    ov.replaceWith(nov);
    app.querySelector('footer.page-foot').textContent = `ablate report · ${fmtTime(b.generated)} · charts by uPlot`;
    mountCharts(app);
    window.scrollTo(0, y);
    if (changed.length) lastUpdate = new Date();
    updateLive();
  }

  function keepOpenState(from, to) {
    const state = new Map();
    for (const d of from.querySelectorAll('details[data-key]')) state.set(d.getAttribute('data-key'), d.open);
    for (const d of to.querySelectorAll('details[data-key]')) {
      const k = d.getAttribute('data-key');
      if (state.has(k)) d.open = state.get(k);
    }
  }

  function poll() {
    const live = bundle && bundle.live;
    if (!live || !live.poll) return;
    const interval = isNum(live.interval_ms) && live.interval_ms >= 100 ? live.interval_ms : 1000;
    let etag = null;
    const tick = async () => {
      try {
        const r = await fetch(live.poll, { headers: etag ? { 'If-None-Match': etag } : {}, cache: 'no-store' });
        liveStatus = { checked: new Date() };
        if (r.status === 200) {
          etag = r.headers.get('ETag') || null;
          const b = await r.json();
          update(b);
        } else if (r.status !== 304) {
          liveStatus.down = `HTTP ${r.status}`;
        }
      } catch (e) {
        liveStatus = { checked: new Date(), down: 'the dashboard does not answer' };
      }
      updateLive();
      setTimeout(tick, interval);
    };
    setTimeout(tick, interval);
  }

  function runSummary(m) {
    const curves = [...m.charts.training, ...(m.charts.stages || []), ...(m.charts.units || []), ...(m.charts.sums || []), ...(m.charts.tasks || [])].map(curveSummary);
    const out = { type: 'run', name: m.name, id: m.id, state: m.state, epochs: m.metrics.epochs.length, metrics_rows: m.metrics.rows,
                  malformed_lines: m.metrics.malformed.map((b) => b.line), curves };
    if (m.trial) { out.trial = m.trial.id; out.trial_state = m.trial.state; }
    return out;
  }

  function summary() {
    const sources = [];
    const findings = [];
    const trials = [];
    for (const m of models) {
      if (m.type === 'run') sources.push(runSummary(m));
      else if (m.type === 'study') {
        sources.push({ type: 'study', name: m.name, id: m.id, kind: m.kind, state: m.state, epochs: 0, metrics_rows: 0, malformed_lines: [],
                       curves: [...m.charts.arms, ...m.charts.armsMore, ...m.charts.sweep].map(curveSummary) });
        for (const r of m.runs) sources.push(runSummary(r));
        for (const f of m.findings) findings.push({ finding: f.finding, verdict: f.verdict });
        for (const t of m.trials) trials.push({ id: t.id, state: t.state });
      } else {
        sources.push({ type: 'broken', name: m.name, id: m.id, state: m.state, epochs: 0, metrics_rows: 0, malformed_lines: [], curves: [] });
      }
    }
    // What the page drew of the findings' statistics (one line per compared pair).
    const comparisons = [...document.querySelectorAll('.comparison')].map((e) => e.textContent);
    const regime_rows = [...document.querySelectorAll('.regime-row')].map((e) => e.textContent);
    return { sources, findings, trials, comparisons, regime_rows, errors: allErrors().map((e) => e.text) };
  }

  function start() {
    const holder = document.getElementById('ablate-data');
    let b;
    try {
      if (!holder) throw new Error('the page has no #ablate-data element');
      b = JSON.parse(holder.textContent);
      if (!isObj(b)) throw new Error('the data is not a JSON object');
    } catch (e) {
      b = { sources: [], live: null };
      pageErrors.push(`the report's data could not be read: ${e.message}`);
    }
    try {
      render(b);
    } catch (e) {
      pageErrors.push(`the report could not be drawn: ${e.message}`);
      document.getElementById('app').replaceChildren(errorBox(pageErrors));
    }
    document.addEventListener('toggle', (e) => { if (e.target.tagName === 'DETAILS' && e.target.open) mountCharts(e.target); }, true);
    window.ablateReport = { ready: false, summary, bundle: () => bundle };
    // uPlot draws on a microtask after construction: ready once that has happened.
    setTimeout(() => { window.ablateReport.ready = true; }, 0);
    if (b.live) poll();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
