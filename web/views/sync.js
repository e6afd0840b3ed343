// "Sync now" with live progress. The progress comes from the `syncProgress` subscription over
// graphql-transport-ws; the run itself is started with the `syncNow` mutation.
//
// Order matters: the subscription is opened first and confirmed with a ping round trip, then the
// run is started, so the run's STARTED event is not missed. Events that arrive before the
// mutation's answer names the run are kept and replayed. Should the socket fail or an event be
// missed, `syncRuns` is polled every few seconds until the run is no longer RUNNING.
import { h, replace } from '../dom.js';
import { label, t } from '../i18n.js';
import { dateTime, integer } from '../format.js';
import { SYNC_NOW, SYNC_PROGRESS, SYNC_RUNS } from '../queries.js';

const POLL_MS = 3000;

export class SyncControl {
  /**
   * @param {import('../app.js').Context} ctx
   * @param {{id: string, scope?: {bank?: string, clientId?: string}, buttonLabel?: string,
   *          clientName?: (id: string) => string, onFinished?: (run: object) => void}} options
   */
  constructor(ctx, { id, scope = {}, buttonLabel, clientName, onFinished }) {
    this.ctx = ctx;
    this.id = id;
    this.scope = scope;
    this.buttonLabel = buttonLabel || 'syncNow';
    this.clientName = clientName || ((cid) => t('clientNumber', cid));
    this.onFinished = onFinished;
    this.state = 'idle'; // idle | starting | running | done | failed
    this.runId = null;
    this.total = null;
    this.done = 0;
    this.steps = [];
    this.run = null;
    this.error = '';
    this.buffer = [];
    this.stopSub = null;
    this.poll = 0;
    this.el = h('div', { class: 'sync' });
    this.render();
  }

  get busy() {
    return this.state === 'starting' || this.state === 'running';
  }

  render() {
    const button = h('button', {
      type: 'button', id: `${this.id}-button`, class: 'secondary', disabled: this.busy,
      'aria-describedby': `${this.id}-status`,
      on: { click: () => this.start() },
    }, this.busy ? t('syncRunning') : t(this.buttonLabel));
    this.parts = {
      button,
      status: h('div', { id: `${this.id}-status`, class: 'sync-status', role: 'status', 'aria-live': 'polite' }),
      detail: h('div', { class: 'sync-detail' }),
    };
    replace(this.el, h('div', { class: 'sync-bar' }, button, this.parts.status), this.parts.detail);
    this.update();
  }

  update() {
    if (!this.parts) return;
    const { button, status, detail } = this.parts;
    button.disabled = this.busy;
    replace(button, this.busy ? t('syncRunning') : t(this.buttonLabel));
    this.el.dataset.state = this.state;
    if (this.state === 'idle') {
      replace(status);
      replace(detail);
      return;
    }
    if (this.state === 'failed') {
      replace(status, h('span', { class: 'error' }, this.error));
      replace(detail);
      return;
    }
    if (this.busy) {
      const known = this.total !== null;
      replace(status, h('span', { class: 'spinner', 'aria-hidden': 'true' }),
        known ? t('syncProgress', integer(this.done), integer(this.total)) : t('syncStarting'));
      replace(detail,
        known
          ? h('progress', { id: `${this.id}-progress`, max: Math.max(1, this.total), value: this.total ? this.done : 0, 'aria-label': t('syncProgressLabel') })
          : null,
        this.stepList());
      return;
    }
    const run = this.run || {};
    const errors = run.errors || [];
    // Every link the run did not sync completely, with the reason (skipped links are no errors,
    // but the run is not a success because of them).
    const notDone = (run.links || []).filter((l) => l.result !== 'SUCCEEDED');
    replace(status,
      h('span', { class: ['badge', runClass(run.status)] }, label('SyncRunStatus', run.status)), ' ',
      h('span', {}, t('syncFinished', dateTime(run.finishedAt || run.startedAt))));
    replace(detail,
      h('p', { class: 'sync-summary' },
        t('syncCounts', integer(run.accounts || 0), integer(run.added || 0), integer(run.updated || 0), integer(run.unchanged || 0)),
        run.message ? h('span', { class: 'muted' }, ` · ${run.message}`) : null),
      this.stepList(),
      notDone.length
        ? h('details', { class: 'sync-links', open: notDone.length <= 5 },
          h('summary', {}, t('syncLinksNotDone', integer(notDone.length))),
          h('ul', {}, notDone.map((l) => h('li', { class: 'wrap-any', dataset: { result: l.result, code: l.code || '' } },
            h('span', { class: 'nowrap' }, `${l.bank} · ${this.clientName(l.clientId)}`), ': ',
            h('span', { class: ['badge', l.result === 'FAILED' ? 'bad' : 'warn'] }, label('SyncLinkResult', l.result)), ' ',
            l.message || l.code || ''))))
        : null,
      errors.length
        ? h('details', { class: 'sync-errors' },
          h('summary', {}, t('syncErrors', integer(errors.length))),
          h('ul', {}, errors.map((e) => h('li', { class: 'wrap-any' }, e))))
        : null);
  }

  stepList() {
    if (!this.steps.length) return null;
    return h('ol', { class: 'sync-steps' }, this.steps.map((s) => h('li', { class: s.error ? 'error' : null },
      h('span', { class: 'nowrap' }, `${s.bank || t('none')} · ${this.clientName(s.clientId)}`), ': ',
      s.error ? s.error : t('syncLinkCounts', integer(s.added || 0), integer(s.updated || 0), integer(s.unchanged || 0)))));
  }

  async start() {
    if (this.busy) return;
    Object.assign(this, { state: 'starting', runId: null, total: null, done: 0, steps: [], run: null, error: '', buffer: [] });
    this.update();
    this.ctx.announce(t('syncStarting'));
    // 1. Listen first.
    this.stopSub = this.ctx.subscribe({ query: SYNC_PROGRESS }, {
      next: (data) => this.event(data && data.syncProgress),
      error: () => { this.stopSub = null; this.pollSoon(); },
      complete: () => { this.stopSub = null; this.pollSoon(); },
    });
    try {
      await this.ctx.wsRoundTrip();
    } catch (e) {
      // No live progress (the socket is refused or gone); polling still reports the outcome.
    }
    // 2. Start the run.
    try {
      const data = await this.ctx.request(SYNC_NOW, this.scope);
      this.runId = data.syncNow.id;
      this.state = 'running';
      for (const ev of this.buffer.splice(0)) this.event(ev);
      if (this.state === 'running') this.update();
      this.pollSoon();
    } catch (e) {
      this.cleanup();
      if (e.handled) { this.state = 'idle'; return; }
      this.state = 'failed';
      this.error = this.ctx.errorMessage(e);
      this.update();
    }
  }

  event(ev) {
    if (!ev) return;
    if (!this.runId) { this.buffer.push(ev); return; }
    if (String(ev.runId) !== String(this.runId) || !this.busy) return;
    if (ev.kind === 'STARTED') {
      this.total = ev.links || 0;
    } else if (ev.kind === 'LINK_DONE') {
      this.done += 1;
      if (this.total !== null && this.done > this.total) this.total = this.done;
      this.steps.push(ev);
    } else if (ev.kind === 'FINISHED') {
      this.finish(ev.run);
      return;
    }
    this.update();
  }

  pollSoon() {
    clearTimeout(this.poll);
    if (!this.busy) return;
    this.poll = setTimeout(() => this.checkRun(), POLL_MS);
  }

  async checkRun() {
    if (!this.busy || !this.runId) { this.pollSoon(); return; }
    try {
      const data = await this.ctx.request(SYNC_RUNS, { first: 20 });
      const run = data.syncRuns.find((r) => String(r.id) === String(this.runId));
      if (run && run.status !== 'RUNNING') { this.finish(run); return; }
    } catch (e) {
      if (e.handled) { this.cleanup(); this.state = 'idle'; return; }
    }
    this.pollSoon();
  }

  finish(run) {
    this.cleanup();
    this.state = 'done';
    this.run = run || { status: 'SUCCEEDED' };
    if (this.total === null) this.total = this.done;
    this.update();
    this.ctx.announce(t('syncAnnounceDone', label('SyncRunStatus', this.run.status)));
    if (this.onFinished) this.onFinished(this.run);
  }

  cleanup() {
    clearTimeout(this.poll);
    if (this.stopSub) { this.stopSub(); this.stopSub = null; }
  }

  /** The view is going away. */
  destroy() {
    this.cleanup();
  }
}

function runClass(status) {
  return status === 'SUCCEEDED' ? 'ok' : status === 'FAILED' ? 'bad' : 'warn';
}
