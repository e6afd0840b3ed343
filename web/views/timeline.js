// A client's timeline (the "Timeline" tab of the client's page): what happened, newest first,
// with the time on the user's clock, who did it and the server's one-line summary in the
// interface language; chips narrow it to a group of kinds; "Load more" follows the cursor; new
// entries arrive live from `clientEvents`.
import { h, replace } from '../dom.js';
import { label, lang, t } from '../i18n.js';
import { dateTimeIn } from '../format.js';
import { CLIENT_EVENTS, CLIENT_TIMELINE } from '../queries.js';
import { preserveFocus } from './common.js';

/** The filter chips: a group of kinds each (`all`: no filter). */
export const TIMELINE_GROUPS = {
  all: [],
  notes: ['NOTE'],
  tasks: ['TASK_CREATED', 'TASK_COMPLETED', 'TASK_CANCELLED', 'TASK_REOPENED'],
  banks: ['BANK_LINKED', 'BANK_UNLINKED', 'CONSENT_CHANGED', 'SYNC_IMPORTED'],
  money: ['LARGE_TRANSACTION', 'RATING_CHANGED'],
  client: ['CLIENT_CREATED', 'CLIENT_EDITED', 'CLIENT_ASSIGNED', 'CLIENT_SHARED', 'CLIENT_UNSHARED'],
  assistant: ['ASSISTANT_CONVERSATION', 'BRIEF_GENERATED'],
};

/** A sign per kind, beside its name (decoration: the name says it in words). */
const ICONS = {
  NOTE: '✎',
  TASK_CREATED: '☐',
  TASK_COMPLETED: '☑',
  TASK_CANCELLED: '☒',
  TASK_REOPENED: '↺',
  BANK_LINKED: '⇄',
  BANK_UNLINKED: '⇸',
  CONSENT_CHANGED: '§',
  SYNC_IMPORTED: '⟳',
  LARGE_TRANSACTION: '₽',
  RATING_CHANGED: '★',
  CLIENT_CREATED: '✦',
  CLIENT_EDITED: '✐',
  CLIENT_ASSIGNED: '→',
  CLIENT_SHARED: '⊕',
  CLIENT_UNSHARED: '⊖',
  ASSISTANT_CONVERSATION: '✉',
  BRIEF_GENERATED: '▤',
};

export class TimelineSection {
  /**
   * @param {import('../app.js').Context} ctx
   * @param {{clientId: string, timeZone: () => (string|null), onEntry?: (entry: object) => void}} o
   */
  constructor(ctx, { clientId, timeZone, onEntry }) {
    this.ctx = ctx;
    this.clientId = clientId;
    this.timeZone = timeZone;
    this.onEntry = onEntry || (() => {});
    this.group = 'all';
    this.entries = null;
    this.pageInfo = null;
    this.loading = false;
    this.error = '';
    this.liveError = '';
    this.started = false;
    this.el = h('section', { class: 'timeline-section', 'aria-labelledby': 'timeline-title' });
  }

  /** The first page and the live entries, once (when the tab is first shown). */
  start() {
    if (this.started) return;
    this.started = true;
    this.listen();
    this.load();
  }

  listen() {
    if (this.stopSub) this.stopSub();
    delete this.el.dataset.live;
    this.liveLang = lang();
    this.stopSub = this.ctx.subscribe({ query: CLIENT_EVENTS, variables: { clientId: this.clientId, lang: this.liveLang.toUpperCase() } }, {
      next: (data) => this.arrived(data && data.clientEvents),
      error: (e) => {
        this.stopSub = null;
        delete this.el.dataset.live;
        if (!e.handled) { this.liveError = this.ctx.errorMessage(e); this.render(); }
      },
      complete: () => { this.stopSub = null; delete this.el.dataset.live; },
    });
    // Once the server has read the subscription, new entries reach this list (`data-live`).
    const stop = this.stopSub;
    this.ctx.wsRoundTrip().then(() => { if (this.stopSub === stop) this.el.dataset.live = 'on'; }).catch(() => {});
  }

  arrived(entry) {
    if (!entry) return;
    this.onEntry(entry);
    if (!this.entries || this.entries.some((e) => e.id === entry.id)) return;
    const kinds = TIMELINE_GROUPS[this.group];
    if (kinds.length && !kinds.includes(entry.kind)) return;
    this.entries = [entry, ...this.entries].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
    this.render();
    this.ctx.announce(t('timelineNew', label('TimelineKind', entry.kind)));
  }

  async load({ more = false } = {}) {
    this.loading = true;
    this.error = '';
    this.render();
    const asked = { group: this.group, lang: lang() };
    try {
      const kinds = TIMELINE_GROUPS[this.group];
      const data = await this.ctx.request(CLIENT_TIMELINE, {
        id: this.clientId,
        after: more && this.pageInfo ? this.pageInfo.endCursor : null,
        kinds: kinds.length ? kinds : null,
        lang: asked.lang.toUpperCase(),
      });
      // A newer choice was made meanwhile: its answer counts, not this one.
      if (asked.group !== this.group || asked.lang !== lang()) return;
      const page = data.client.timeline;
      const fresh = page.edges.map((e) => e.node);
      const known = more ? this.entries : [];
      this.entries = [...known, ...fresh.filter((n) => !known.some((k) => k.id === n.id))];
      this.pageInfo = page.pageInfo;
    } catch (e) {
      if (e.handled) return;
      this.error = this.ctx.errorMessage(e);
    }
    this.loading = false;
    this.render();
  }

  /** After a language switch the summaries are asked for again, and the live ones too. */
  relocalise() {
    if (!this.started) return;
    if (this.liveLang !== lang()) {
      this.listen();
      this.load();
    } else {
      this.render();
    }
  }

  choose(group) {
    if (group === this.group) return;
    this.group = group;
    this.entries = null;
    this.pageInfo = null;
    this.load();
  }

  render() {
    preserveFocus(() => {
      const zone = this.timeZone();
      const chips = h('div', { class: 'chips', role: 'group', 'aria-label': t('timelineFilter') },
        Object.keys(TIMELINE_GROUPS).map((g) => h('button', {
          type: 'button', class: 'chip', id: `timeline-chip-${g}`, 'aria-pressed': String(this.group === g),
          on: { click: () => this.choose(g) },
        }, t(`timelineGroup_${g}`))));
      const entries = this.entries || [];
      const item = (e) => h('li', { class: 'timeline-entry', dataset: { kind: e.kind, entryId: e.id } },
        h('span', { class: 'timeline-icon', 'aria-hidden': 'true' }, ICONS[e.kind] || '•'),
        h('div', { class: 'timeline-body' },
          h('p', { class: 'timeline-head small' },
            h('span', { class: 'badge off timeline-kind' }, label('TimelineKind', e.kind)), ' ',
            h('time', { datetime: e.at }, dateTimeIn(e.at, zone)), ' · ',
            h('span', { class: 'timeline-actor' }, e.actor ? e.actor.username : t('timelineSystem'))),
          h('p', { class: 'timeline-summary' }, e.summary)));
      replace(this.el,
        h('h2', { id: 'timeline-title' }, t('timelineTitle')),
        chips,
        this.liveError ? h('p', { class: 'muted small', id: 'timeline-live-error' }, this.liveError) : null,
        this.error ? h('p', { class: 'error', role: 'alert' }, this.error, ' ',
          h('button', { type: 'button', class: 'link', id: 'timeline-retry', on: { click: () => this.load() } }, t('retry'))) : null,
        entries.length
          ? h('ol', { class: 'timeline plain', id: 'timeline-list', 'aria-label': t('timelineTitle') }, entries.map(item))
          : (this.loading || this.error ? null : h('p', { class: 'muted', id: 'timeline-empty' }, t('timelineNone'))),
        h('p', { class: 'status', role: 'status' }, this.loading ? t('loading') : null),
        this.pageInfo && this.pageInfo.hasNextPage
          ? h('button', { type: 'button', class: 'secondary', id: 'timeline-more', disabled: this.loading, on: { click: () => this.load({ more: true }) } }, t('timelineMore'))
          : null);
    });
  }

  destroy() {
    if (this.stopSub) this.stopSub();
    this.stopSub = null;
  }
}
