/* global document, location, fetch, setTimeout, clearTimeout, confirm, URLSearchParams, Node */
// The dashboard's page script: plain browser JavaScript, inline in the page (its hash is in
// the page's policy), no framework and no build step. It reads the JSON API beside the page
// every few seconds and draws with DOM calls only: every value from the API (queue names,
// task names, arguments, errors) goes in as text or an attribute value, never as HTML.
'use strict';

(() => {
  /** How often the page reads the API again (ms). */
  const POLL_INTERVAL = 3000;
  /** Entries per page of a listing. */
  const PAGE_SIZE = 25;
  const SVG = 'http://www.w3.org/2000/svg';
  const TABS = [
    { id: 'running', label: 'Running', count: 'running' },
    { id: 'waiting', label: 'Waiting', count: 'waiting' },
    { id: 'scheduled', label: 'Scheduled', count: 'scheduled' },
    { id: 'schedules', label: 'Schedules', count: 'schedules' },
    { id: 'dead', label: 'Dead letters', count: 'dead' },
  ];

  // The API lives under the page's own path, wherever the app mounted it.
  const base = location.pathname.replace(/\/+$/, '');
  const app = document.getElementById('app');
  const statusLine = document.getElementById('status');
  const modeBadge = document.getElementById('mode');
  const notice = document.getElementById('notice');

  let timer;
  /** Bumped by every refresh: an answer for an older one is dropped. */
  let generation = 0;
  /** True while an action runs: polls wait, so the buttons stay where the user clicks. */
  let busy = false;
  /** Redis' clock minus this browser's, from the last answer: "in 5 s" counts on Redis' time. */
  let skew = 0;

  // ---- small helpers ---------------------------------------------------------------------

  /** An element with attributes (from code) and children (text or elements). */
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function svg(tag, attributes) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
    return node;
  }

  const number = (value) => Number(value).toLocaleString('en-US');

  function duration(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return `${s}s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
    const h = Math.floor(m / 60);
    if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
    return `${Math.floor(h / 24)}d ${h % 24}h`;
  }

  function clock(ms) {
    const d = new Date(ms);
    const two = (n) => String(n).padStart(2, '0');
    return (
      `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
      `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
    );
  }

  /** "in 5m 02s" or "3s ago", on Redis' clock. */
  function fromNow(ms) {
    const delta = ms - (Date.now() + skew);
    return delta >= 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`;
  }

  function timing(value) {
    if (value && typeof value.every === 'number') return `every ${duration(value.every)}`;
    if (value && typeof value.cron === 'string') {
      return `cron ${value.cron}${value.timeZone ? ` (${value.timeZone})` : ''}`;
    }
    return '?';
  }

  const api = (path) => `${base}/api/${path}`;
  const queuePath = (queue, rest) => `queues/${encodeURIComponent(queue)}/${rest}`;

  async function answer(response) {
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const message = body && body.message ? [].concat(body.message).join('; ') : '';
      throw new Error(`${response.status} ${message || response.statusText}`);
    }
    return body;
  }

  async function read(path) {
    return answer(
      await fetch(api(path), {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' },
      }),
    );
  }

  function say(text, kind) {
    notice.textContent = text;
    notice.className = kind === 'error' ? 'notice error' : 'notice';
    notice.hidden = false;
  }

  // ---- where we are: the address' hash ---------------------------------------------------

  function route() {
    const params = new URLSearchParams(location.hash.slice(1));
    const tab = params.get('tab');
    const offset = Number(params.get('offset'));
    const cursor = params.get('cursor');
    return {
      queue: params.get('queue'),
      tab: TABS.some((known) => known.id === tab) ? tab : 'running',
      offset: Number.isSafeInteger(offset) && offset > 0 ? offset : 0,
      cursor: cursor && /^\d+$/.test(cursor) ? cursor : null,
    };
  }

  function link(to) {
    const params = new URLSearchParams();
    if (to.queue !== undefined && to.queue !== null) params.set('queue', to.queue);
    if (to.tab) params.set('tab', to.tab);
    if (to.offset) params.set('offset', String(to.offset));
    if (to.cursor) params.set('cursor', to.cursor);
    return `#${params.toString()}`;
  }

  // ---- charts ------------------------------------------------------------------------------

  /** A line of `values` over `at` (their times), as an inline SVG; `kind` picks its colour. */
  function chart(at, values, kind, width, height, className) {
    const node = svg('svg', {
      class: `${className} ${kind}`,
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      preserveAspectRatio: 'none',
      role: 'img',
    });
    if (values.length < 2) {
      const text = svg('text', { x: 2, y: height / 2 + 3, class: 'empty' });
      text.textContent = 'sampling…';
      node.append(text);
      return node;
    }
    let max = 1;
    for (const value of values) if (value > max) max = value;
    const first = at[0];
    const span = Math.max(1, at[at.length - 1] - first);
    const points = values.map((value, i) => {
      const x = ((at[i] - first) / span) * width;
      const y = height - 1 - (value / max) * (height - 3);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    node.append(
      svg('polygon', {
        class: 'area',
        points: `0,${height} ${points.join(' ')} ${width},${height}`,
      }),
      svg('polyline', { class: 'line', points: points.join(' ') }),
    );
    node.setAttribute('aria-label', `${kind}: up to ${max} over the last ${duration(span)}`);
    return node;
  }

  // ---- views -------------------------------------------------------------------------------

  function taskCell(task) {
    if (!task) return el('td', { class: 'muted' }, '—');
    const badges = [];
    if (task.kind === 'go') badges.push(el('span', { class: 'badge go' }, 'go'));
    if (task.kind === 'unreadable') {
      badges.push(
        el('span', { class: 'badge unreadable', title: task.problem || '' }, 'unreadable'),
      );
    }
    return el(
      'td',
      {},
      el('span', { class: 'mono' }, task.name || `${number(task.bytes)} bytes`),
      badges.length ? ' ' : null,
      badges,
      task.id ? el('div', { class: 'muted mono' }, `id ${task.id}`) : null,
    );
  }

  function argsCell(task) {
    if (!task || task.args === null) return el('td', { class: 'muted' }, '—');
    return el('td', { class: 'args' }, task.args, task.kwargs ? el('div', {}, task.kwargs) : null);
  }

  function table(name, headers, rows, emptyText) {
    return el(
      'table',
      { 'data-list': name },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          headers.map((header) => el('th', { class: header.class }, header.text)),
        ),
      ),
      el(
        'tbody',
        {},
        rows.length > 0
          ? rows
          : el('tr', {}, el('td', { class: 'empty-row', colspan: headers.length }, emptyText)),
      ),
    );
  }

  function overviewView(data) {
    const rows = data.queues.map((queue) => {
      const counts = queue.counts;
      const to = link({ queue: queue.name });
      const cell = (key) =>
        el('td', { class: 'num', 'data-count': key }, counts ? number(counts[key]) : '—');
      return el(
        'tr',
        { class: 'link', 'data-queue': queue.name, onclick: () => (location.hash = to) },
        el(
          'td',
          {},
          el('a', { href: to }, queue.name),
          counts && counts.paused ? [' ', el('span', { class: 'badge paused' }, 'paused')] : null,
          queue.error ? el('div', { class: 'error' }, queue.error) : null,
        ),
        cell('waiting'),
        cell('running'),
        cell('scheduled'),
        cell('dead'),
        cell('schedules'),
        el(
          'td',
          { class: 'num', 'data-count': 'lateness' },
          counts && counts.lateness > 0 ? duration(counts.lateness) : '—',
        ),
        el('td', {}, chart(queue.history.at, queue.history.waiting, 'waiting', 140, 26, 'spark')),
        el('td', {}, chart(queue.history.at, queue.history.running, 'running', 140, 26, 'spark')),
      );
    });
    return [
      el('h1', {}, 'Queues'),
      el(
        'div',
        { class: 'panel' },
        table(
          'queues',
          [
            { text: 'Queue' },
            { text: 'Waiting', class: 'num' },
            { text: 'Running', class: 'num' },
            { text: 'Scheduled', class: 'num' },
            { text: 'Dead', class: 'num' },
            { text: 'Schedules', class: 'num' },
            { text: 'Late', class: 'num' },
            { text: 'Waiting, recent' },
            { text: 'Running, recent' },
          ],
          rows,
          'No queues.',
        ),
      ),
    ];
  }

  function card(queue, key, label, sub) {
    const value = queue.counts ? number(queue.counts[key]) : '—';
    const { at } = queue.history;
    const values = queue.history[key];
    let peak = 0;
    for (const sample of values) if (sample > peak) peak = sample;
    const span =
      at.length > 1 ? `peak ${number(peak)} in ${duration(at[at.length - 1] - at[0])}` : '';
    return el(
      'div',
      { class: 'card', 'data-card': key },
      el('div', { class: 'label' }, label, el('span', { class: 'peak' }, span)),
      el('div', { class: 'value' }, value),
      chart(at, values, key, 260, 48, 'chart'),
      el('div', { class: 'sub' }, sub),
    );
  }

  function pager(here, page, shown, total) {
    const parts = [];
    if (here.tab === 'running' || here.tab === 'schedules') {
      // HSCAN pages: a cursor goes forward only; the browser's Back goes back.
      parts.push(
        el(
          'button',
          {
            disabled: !here.cursor,
            onclick: () => (location.hash = link({ ...here, cursor: null })),
          },
          'First page',
        ),
        el(
          'button',
          {
            disabled: !page.next,
            onclick: () => (location.hash = link({ ...here, cursor: page.next })),
          },
          'Next page',
        ),
      );
    } else {
      const from = shown === 0 ? here.offset : here.offset + 1;
      parts.push(
        el(
          'span',
          { 'data-range': true },
          `${number(from)}–${number(here.offset + shown)}`,
          typeof total === 'number' ? ` of ${number(total)}` : '',
        ),
        el(
          'button',
          {
            disabled: here.offset === 0,
            onclick: () =>
              (location.hash = link({ ...here, offset: Math.max(0, here.offset - PAGE_SIZE) })),
          },
          'Previous',
        ),
        el(
          'button',
          {
            disabled: !page.next,
            onclick: () => (location.hash = link({ ...here, offset: here.offset + PAGE_SIZE })),
          },
          'Next',
        ),
      );
    }
    return parts;
  }

  function listing(queue, here, page, actions) {
    const name = queue.name;
    const toolbar = [];
    let body;
    if (here.tab === 'running') {
      const rows = page.items.map((item) =>
        el(
          'tr',
          { 'data-worker': item.workerId },
          el('td', { class: 'mono' }, item.workerId),
          el(
            'td',
            {},
            item.alive
              ? el('span', { class: 'badge alive' }, 'alive')
              : el(
                  'span',
                  {
                    class: 'badge gone',
                    title: 'Its worker is gone: a sweeper will requeue the task',
                  },
                  'gone',
                ),
            item.expiresIn !== null
              ? el('div', { class: 'muted' }, `expires in ${duration(item.expiresIn)}`)
              : null,
          ),
          taskCell(item.task),
          argsCell(item.task),
        ),
      );
      body = table(
        'running',
        [{ text: 'Worker' }, { text: 'Liveness' }, { text: 'Task' }, { text: 'Arguments' }],
        rows,
        'No task is running.',
      );
    } else if (here.tab === 'waiting') {
      const rows = page.items.map((task, i) =>
        el(
          'tr',
          {},
          el('td', { class: 'num muted' }, number(here.offset + i + 1)),
          taskCell(task),
          argsCell(task),
          el(
            'td',
            { class: 'num' },
            task.retry === null ? '—' : task.retry < 0 ? '∞' : String(task.retry),
          ),
          el('td', { class: 'num muted' }, `${number(task.bytes)} B`),
        ),
      );
      body = table(
        'waiting',
        [
          { text: '#', class: 'num' },
          { text: 'Task' },
          { text: 'Arguments' },
          { text: 'Retries', class: 'num' },
          { text: 'Size', class: 'num' },
        ],
        rows,
        'Nothing is waiting.',
      );
    } else if (here.tab === 'scheduled') {
      const rows = page.items.map((item) =>
        el(
          'tr',
          { 'data-scheduled': item.id },
          el(
            'td',
            { class: 'when' },
            clock(item.dueAt),
            el('div', { class: 'muted' }, fromNow(item.dueAt)),
          ),
          taskCell(item.task),
          argsCell(item.task),
          actions
            ? el(
                'td',
                { class: 'actions' },
                el(
                  'button',
                  {
                    class: 'danger',
                    'data-action': 'cancel',
                    onclick: () => {
                      if (!confirm(`Cancel this scheduled ${item.task.name || 'task'}?`)) return;
                      act(
                        queuePath(name, 'scheduled/cancel'),
                        { id: item.id },
                        () => 'Scheduled task cancelled',
                      );
                    },
                  },
                  'Cancel',
                ),
              )
            : null,
        ),
      );
      const headers = [{ text: 'Due' }, { text: 'Task' }, { text: 'Arguments' }];
      if (actions) headers.push({ text: '' });
      body = table('scheduled', headers, rows, 'Nothing is scheduled.');
    } else if (here.tab === 'schedules') {
      const rows = page.items.map((item) =>
        el(
          'tr',
          { 'data-schedule': item.name },
          el(
            'td',
            { class: 'mono' },
            item.name,
            item.declared ? el('div', { class: 'muted' }, 'declared in code') : null,
          ),
          el(
            'td',
            {},
            timing(item.timing),
            item.neverSkip ? el('div', { class: 'muted' }, 'never skips') : null,
          ),
          el(
            'td',
            { class: 'when' },
            item.nextTick === null
              ? '—'
              : [clock(item.nextTick), el('div', { class: 'muted' }, fromNow(item.nextTick))],
          ),
          el(
            'td',
            { class: 'mono' },
            item.task || '—',
            item.problem ? el('div', { class: 'error' }, item.problem) : null,
          ),
          el('td', { class: 'args' }, item.args),
        ),
      );
      body = table(
        'schedules',
        [
          { text: 'Name' },
          { text: 'Timing' },
          { text: 'Next tick' },
          { text: 'Task' },
          { text: 'Arguments' },
        ],
        rows,
        'No schedules.',
      );
    } else {
      if (actions) {
        toolbar.push(
          el(
            'button',
            {
              'data-action': 'requeue-all',
              disabled: !queue.counts || queue.counts.dead === 0,
              onclick: () => {
                if (!confirm(`Requeue every dead letter of ${name}?`)) return;
                act(
                  queuePath(name, 'dead/requeue-all'),
                  {},
                  (done) => `${number(done.requeued)} dead letter(s) requeued`,
                );
              },
            },
            'Requeue all',
          ),
        );
      }
      const rows = page.items.map((item) =>
        el(
          'tr',
          { 'data-dead': item.offset },
          el('td', { class: 'num muted' }, number(item.offset + 1)),
          el(
            'td',
            { class: 'when' },
            item.failedAt === null
              ? '—'
              : [clock(item.failedAt), el('div', { class: 'muted' }, fromNow(item.failedAt))],
          ),
          el(
            'td',
            {},
            el(
              'span',
              { class: `badge ${item.reason === 'unreadable' ? 'unreadable' : ''}` },
              item.reason,
            ),
          ),
          el('td', { class: 'errtext' }, item.error),
          taskCell(item.task),
          argsCell(item.task),
          actions
            ? el(
                'td',
                { class: 'actions' },
                el(
                  'button',
                  {
                    class: 'primary',
                    'data-action': 'requeue',
                    disabled: item.task === null,
                    onclick: () =>
                      act(
                        queuePath(name, 'dead/requeue'),
                        { offset: item.offset, ref: item.ref },
                        () => 'Dead letter requeued',
                      ),
                  },
                  'Requeue',
                ),
                el(
                  'button',
                  {
                    class: 'danger',
                    'data-action': 'remove',
                    onclick: () => {
                      if (!confirm('Remove this dead letter for good?')) return;
                      act(
                        queuePath(name, 'dead/remove'),
                        { offset: item.offset, ref: item.ref },
                        () => 'Dead letter removed',
                      );
                    },
                  },
                  'Remove',
                ),
              )
            : null,
        ),
      );
      const headers = [
        { text: '#', class: 'num' },
        { text: 'Failed' },
        { text: 'Reason' },
        { text: 'Error' },
        { text: 'Task' },
        { text: 'Arguments' },
      ];
      if (actions) headers.push({ text: '' });
      body = table('dead', headers, rows, 'No dead letters.');
    }
    return el(
      'div',
      { class: 'panel' },
      el(
        'div',
        { class: 'toolbar' },
        pager(here, page, page.items.length, queue.counts ? queue.counts[here.tab] : undefined),
        el('span', { class: 'spacer' }),
        toolbar,
      ),
      body,
    );
  }

  function queueView(data, queue, here, page) {
    const counts = queue.counts;
    const head = el(
      'div',
      { class: 'crumbs' },
      el('a', { href: '#' }, 'All queues'),
      el('span', { class: 'muted' }, '/'),
      el(
        'h1',
        { 'data-queue-title': queue.name },
        queue.name,
        counts && counts.paused ? el('span', { class: 'badge paused' }, 'paused') : null,
      ),
      el('span', { class: 'spacer' }),
      data.actions && counts
        ? el(
            'button',
            {
              'data-action': counts.paused ? 'resume' : 'pause',
              onclick: () =>
                act(queuePath(queue.name, counts.paused ? 'resume' : 'pause'), {}, () =>
                  counts.paused
                    ? `${queue.name} resumed`
                    : `${queue.name} paused: workers of this library take nothing from it`,
                ),
            },
            counts.paused ? 'Resume' : 'Pause',
          )
        : null,
    );
    const late =
      counts && counts.lateness > 0
        ? `the most overdue is ${duration(counts.lateness)} late`
        : 'none overdue';
    const next =
      counts && counts.nextDueAt !== null
        ? `next ${fromNow(counts.nextDueAt)}, ${late}`
        : 'none due';
    const cards = el(
      'div',
      { class: 'cards' },
      card(
        queue,
        'waiting',
        'Waiting',
        counts && counts.paused ? 'paused: not taken by workers' : 'in the queue',
      ),
      card(queue, 'running', 'Running', 'held by worker slots'),
      card(queue, 'scheduled', 'Scheduled', next),
      card(queue, 'dead', 'Dead letters', 'failed, unknown or unreadable'),
    );
    const tabs = el(
      'nav',
      { class: 'tabs' },
      TABS.map((tab) =>
        el(
          'a',
          {
            href: link({ queue: queue.name, tab: tab.id }),
            class: tab.id === here.tab ? 'current' : '',
            'data-tab': tab.id,
          },
          tab.label,
          el('span', { class: 'count' }, counts ? number(counts[tab.count]) : ''),
        ),
      ),
    );
    return [
      head,
      queue.error ? el('p', { class: 'error' }, queue.error) : null,
      cards,
      tabs,
      listing(queue, here, page, data.actions),
    ];
  }

  // ---- the loop ------------------------------------------------------------------------------

  async function load(here) {
    const overview = await read('queues');
    let page = null;
    if (here.queue !== null && overview.queues.some((queue) => queue.name === here.queue)) {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (here.tab === 'running' || here.tab === 'schedules') {
        if (here.cursor) query.set('cursor', here.cursor);
      } else {
        query.set('offset', String(here.offset));
      }
      page = await read(queuePath(here.queue, `${here.tab}?${query.toString()}`));
    }
    return { overview, page };
  }

  function draw(here, overview, page) {
    modeBadge.textContent = overview.actions ? 'actions on' : 'read-only';
    modeBadge.className = overview.actions ? 'badge on' : 'badge';
    const sample = overview.queues.find((queue) => queue.counts);
    if (sample) skew = sample.counts.at - Date.now();
    let content;
    if (here.queue === null) {
      content = overviewView(overview);
    } else {
      const queue = overview.queues.find((known) => known.name === here.queue);
      content = queue
        ? queueView(overview, queue, here, page)
        : [
            el('p', { class: 'error' }, 'No such queue on this dashboard. '),
            el('a', { href: '#' }, 'All queues'),
          ];
    }
    app.replaceChildren(...[].concat(content).filter(Boolean));
  }

  async function refresh() {
    clearTimeout(timer);
    const mine = ++generation;
    const here = route();
    try {
      const { overview, page } = await load(here);
      if (mine !== generation) return;
      draw(here, overview, page);
      statusLine.textContent = `Updated ${clock(Date.now())}`;
      statusLine.className = 'status';
    } catch (error) {
      if (mine !== generation) return;
      statusLine.textContent = `Could not read the queues: ${error.message}`;
      statusLine.className = 'status bad';
    } finally {
      if (mine === generation) timer = setTimeout(poll, POLL_INTERVAL);
    }
  }

  function poll() {
    // Hidden tabs and running actions skip a turn rather than pile reads up.
    if (busy || document.hidden) timer = setTimeout(poll, POLL_INTERVAL);
    else refresh();
  }

  async function act(path, body, describe) {
    busy = true;
    try {
      const done = await answer(
        await fetch(api(path), {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify(body),
        }),
      );
      say(describe(done), 'ok');
    } catch (error) {
      say(error.message, 'error');
    } finally {
      busy = false;
      refresh();
    }
  }

  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) refresh();
  });
  // A new address (a click on a queue, a tab, a page) reads at once.
  globalThis.addEventListener('hashchange', () => {
    notice.hidden = true;
    refresh();
  });
  refresh();
})();
