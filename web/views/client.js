// One client, in tabs (the open one in the route: #/client/ID?tab=timeline, so a reload and Back
// keep it): Overview (profile, editable; rating with its factors; the client's manager; bank
// links with consent status and what to do about it), Transactions (filters and paging,
// views/transactions.js; exports), Analytics (charts, views/analytics.js; insights, income,
// recurring payments), Notes & tasks (views/client-tasks.js), Timeline (views/timeline.js),
// Products (accounts and balances, deposits and loans, cards, offers). The extra sections of
// views/client-sections.js name their tab. "Sync this client" and "Ask the assistant" sit under
// the heading.
import { h, replace, table, focusHeading } from '../dom.js';
import { label, lang, t } from '../i18n.js';
import { date, dateTime, dateTimeIn, integer, money, signedNumber } from '../format.js';
import { FEATURES } from '../features.js';
import { ADD_NOTE, clientQuery, DELETE_NOTE, LINK_BANK, RELINK_BANK, REQUEST_CONSENT_AGAIN, UNLINK_BANK, UPDATE_CLIENT } from '../queries.js';
import { OwnerSection } from './client-owner.js';
import { renderMarkdown } from '../markdown.js';
import { gradeBadge, moneyLines, preserveFocus, renderStatus, statusBadge } from './common.js';
import { AnalyticsSection } from './analytics.js';
import { TransactionsSection } from './transactions.js';
import { enabledSections } from './client-sections.js';
import { SyncControl } from './sync.js';
import { ClientTasksSection } from './client-tasks.js';
import { TimelineSection } from './timeline.js';
import { BriefPanel } from './brief.js';

const EXPIRY_WARNING_DAYS = 14;

/** The page's tabs, in order; the first is shown when the route names none. */
export const CLIENT_TABS = ['overview', 'transactions', 'analytics', 'notes', 'timeline', 'products'];

/** The route of a client's tab. */
export function clientHash(id, tab) {
  const base = `#/client/${encodeURIComponent(id)}`;
  return tab && tab !== CLIENT_TABS[0] ? `${base}?tab=${tab}` : base;
}

export class ClientView {
  /**
   * @param {import('../app.js').Context} ctx
   * @param {string} id  the client's id
   * @param {string} [tab]  the tab to show (CLIENT_TABS)
   */
  constructor(ctx, id, tab) {
    this.ctx = ctx;
    this.id = id;
    this.tab = CLIENT_TABS.includes(tab) ? tab : CLIENT_TABS[0];
    this.client = null;
    this.loading = false;
    this.error = '';
    this.editing = false;
    this.saving = false;
    this.formError = '';
    this.linkBusy = null; // id of the link whose consent is being requested
    this.linkError = '';
    this.sections = enabledSections();
    this.query = clientQuery(this.sections.map((s) => s.fields));
    this.transactions = new TransactionsSection(ctx, { clientId: id, onChanged: () => this.analytics.load() });
    this.analytics = new AnalyticsSection(ctx, { clientId: id });
    this.sync = new SyncControl(ctx, {
      id: 'sync-client', scope: { clientId: id }, buttonLabel: 'syncClient',
      clientName: () => (this.client ? this.client.displayName : t('clientTitle')),
      onFinished: () => { this.load(); this.transactions.load(); this.analytics.load(); },
    });
    this.owner = new OwnerSection(ctx, {
      onChange: (changed) => {
        Object.assign(this.client, changed);
        preserveFocus(() => this.update());
      },
    });
    const canEdit = () => Boolean(this.ctx.user() && this.ctx.user().role !== 'VIEWER');
    this.tasks = new ClientTasksSection(ctx, { clientId: id, canEdit });
    this.timeline = new TimelineSection(ctx, {
      clientId: id,
      timeZone: () => (this.ctx.user() ? this.ctx.user().timeZone : null),
      // A task changed by someone else shows in the task list too.
      onEntry: (entry) => { if (/^TASK_/.test(entry.kind)) this.tasks.refresh(); },
    });
    this.brief = new BriefPanel(ctx, {
      clientId: id,
      clientName: () => (this.client ? this.client.displayName : t('clientTitle')),
    });
    this.el = h('section', { class: 'view client', 'aria-labelledby': 'client-title' });
  }

  title() {
    return this.client ? this.client.displayName : t('clientTitle');
  }

  async show() {
    this.build();
    await this.load();
    focusHeading(this.el.querySelector('h1'));
    if (this.client) {
      this.ctx.assistantContext({ clientId: this.id, name: this.client.displayName });
      await Promise.all([this.transactions.start(), this.analytics.load(), this.tasks.load()]);
      if (this.tab === 'timeline') this.timeline.start();
    }
  }

  /** Shows `tab` (from the route, or the keyboard); `focus` puts the focus on its tab. */
  selectTab(tab, { focus = false } = {}) {
    this.tab = CLIENT_TABS.includes(tab) ? tab : CLIENT_TABS[0];
    if (this.tab === 'timeline' && this.client) this.timeline.start();
    if (!this.parts) return;
    for (const k of CLIENT_TABS) {
      const button = this.el.querySelector(`#tab-${k}`);
      const panel = this.el.querySelector(`#panel-${k}`);
      if (!button || !panel) continue;
      const on = k === this.tab;
      button.setAttribute('aria-selected', String(on));
      button.tabIndex = on ? 0 : -1;
      panel.hidden = !on;
    }
    if (focus) this.el.querySelector(`#tab-${this.tab}`)?.focus();
  }

  /** A click or Enter opens a tab as a new history entry; arrow keys replace the entry. */
  openTab(tab, { replaceEntry = false } = {}) {
    const hash = clientHash(this.id, tab);
    if (replaceEntry) {
      history.replaceState(null, '', hash);
      this.selectTab(tab, { focus: true });
    } else if (location.hash !== hash) {
      location.hash = hash; // the route selects it (see app.js)
    }
  }

  tabKey(ev) {
    const k = CLIENT_TABS.indexOf(this.tab);
    const last = CLIENT_TABS.length - 1;
    const to = { ArrowRight: k + 1, ArrowLeft: k - 1, Home: 0, End: last }[ev.key];
    if (to === undefined) return;
    ev.preventDefault();
    this.openTab(CLIENT_TABS[(to + CLIENT_TABS.length) % CLIENT_TABS.length], { replaceEntry: true });
  }

  render() {
    this.build();
    // The server's texts (insights, offers) are in the language they were asked in.
    if (this.client && this.clientLang !== lang()) this.load();
    if (this.client) {
      this.transactions.render();
      this.analytics.render();
      this.tasks.render();
      this.timeline.relocalise();
      this.brief.render();
    }
  }

  build() {
    preserveFocus(() => {
      this.parts = {
        heading: h('h1', { id: 'client-title' }),
        status: h('p', { class: 'status', 'aria-live': 'polite' }),
        body: h('div', { class: 'client-body' }),
      };
      replace(this.el,
        h('p', { class: 'back' }, h('a', { href: '#/clients', id: 'client-back' }, t('backToClients'))),
        this.parts.heading,
        this.parts.status,
        this.parts.body);
      this.update();
    });
  }

  async load() {
    this.loading = true;
    this.error = '';
    this.updateStatus();
    try {
      const asked = lang();
      const data = await this.ctx.request(this.query, { id: this.id, lang: asked.toUpperCase() });
      const firstLoad = !this.client;
      this.client = data.client;
      this.clientLang = asked;
      if (firstLoad) this.brief.show((this.client.briefs || [])[0]);
      this.transactions.setAccounts(this.client.accounts);
      this.ctx.setTitle(this.title());
    } catch (e) {
      if (e.handled) return;
      this.error = this.ctx.errorMessage(e);
    }
    this.loading = false;
    const first = !this.parts.body.childElementCount;
    if (first) this.update();
    else preserveFocus(() => this.update());
  }

  updateStatus() {
    if (!this.parts) return;
    renderStatus(this.parts.status, {
      loading: this.loading, error: this.error, onRetry: () => this.show(), retryId: 'client-retry',
    });
  }

  update() {
    if (!this.parts) return;
    const { heading, body } = this.parts;
    this.updateStatus();
    const c = this.client;
    if (!c) {
      replace(heading, t('clientTitle'));
      replace(body);
      return;
    }
    const canEdit = this.ctx.user() && this.ctx.user().role !== 'VIEWER';
    replace(heading, h('span', {}, c.displayName), ' ', statusBadge(c.status));
    this.sync.render();
    const sections = (tab) => this.sections.filter((s) => s.tab === tab).map((s) => {
      const content = s.render(c, this.ctx);
      return content ? h('section', { id: s.id, class: 'client-section', 'aria-labelledby': `${s.id}-title` },
        h('h2', { id: `${s.id}-title` }, s.title()), content) : null;
    });
    const panels = {
      overview: [
        h('div', { class: 'client-grid' },
          this.profileCard(c, canEdit),
          this.ratingCard(c)),
        this.owner.render(c),
        this.linksSection(c, canEdit),
      ],
      transactions: [this.transactions.el, FEATURES.exports ? this.exportsSection(c) : null],
      analytics: [this.analytics.el, sections('analytics')],
      notes: [this.notesSection(c, canEdit), this.tasks.el],
      timeline: [this.timeline.el],
      products: [
        h('section', { 'aria-labelledby': 'accounts-title' },
          h('h2', { id: 'accounts-title' }, t('accountsTitle')),
          this.accountsTable(c.accounts)),
        h('section', { 'aria-labelledby': 'agreements-title', class: 'agreements-section' },
          h('h2', { id: 'agreements-title' }, t('agreementsTitle')),
          this.agreementsTable(c.agreements || [])),
        h('section', { 'aria-labelledby': 'cards-title', class: 'cards-section' },
          h('h2', { id: 'cards-title' }, t('cardsTitle')),
          this.cardsTable(c.cards || [])),
        sections('products'),
      ],
    };
    const tablist = h('div', { class: 'tabs', role: 'tablist', 'aria-label': t('clientTabs'), on: { keydown: (ev) => this.tabKey(ev) } },
      CLIENT_TABS.map((k) => h('button', {
        type: 'button', role: 'tab', id: `tab-${k}`, class: 'tab',
        'aria-controls': `panel-${k}`, 'aria-selected': String(k === this.tab), tabindex: k === this.tab ? '0' : '-1',
        on: { click: () => this.openTab(k) },
      }, t(`clientTab_${k}`))));
    replace(body,
      h('div', { class: 'client-actions' },
        canEdit ? this.sync.el : null,
        canEdit ? this.brief.button : null,
        FEATURES.assistant
          ? h('button', { type: 'button', class: 'secondary', id: 'ask-about-client', on: { click: () => this.ctx.openAssistant() } }, t('askAboutClient'))
          : null),
      this.brief.el,
      tablist,
      CLIENT_TABS.map((k) => h('div', {
        role: 'tabpanel', id: `panel-${k}`, class: 'tab-panel', 'aria-labelledby': `tab-${k}`, tabindex: '0', hidden: k !== this.tab,
      }, panels[k])));
  }

  // ---- notes --------------------------------------------------------------------------------

  notesSection(c, canEdit) {
    const me = this.ctx.user();
    const notes = c.notes || [];
    const item = (n) => h('li', { class: 'note', 'data-note-id': n.id },
      h('p', { class: 'note-head' },
        h('span', { class: 'badge' }, label('NoteKind', n.kind)), ' ',
        h('time', { datetime: n.occurredAt }, dateTimeIn(n.occurredAt, me && me.timeZone)), ' · ',
        n.author ? n.author.username : t('none'),
        canEdit && me && (me.role === 'ADMIN' || (n.author && n.author.id === me.id))
          ? h('button', {
            type: 'button', class: 'link small', id: `note-delete-${n.id}`,
            'aria-label': t('deleteNoteLabel', dateTimeIn(n.occurredAt, me && me.timeZone)),
            on: { click: () => this.deleteNote(c, n) },
          }, t('deleteNote'))
          : null),
      h('div', { class: 'note-body' }, renderMarkdown(n.body)));
    const form = canEdit ? h('form', { class: 'stack note-form', id: 'note-form', novalidate: true, on: { submit: (ev) => this.addNote(ev, c) } },
      h('label', { for: 'note-kind' }, t('noteKind')),
      h('select', { id: 'note-kind', name: 'kind' },
        ['NOTE', 'CALL', 'MEETING', 'EMAIL'].map((k) => h('option', { value: k }, label('NoteKind', k)))),
      h('label', { for: 'note-body' }, t('noteBody')),
      h('textarea', { id: 'note-body', name: 'body', rows: 3, maxlength: 20000, required: true }),
      h('button', { type: 'submit', id: 'note-submit', disabled: this.noteBusy }, t('addNote')),
      h('p', { id: 'note-message', class: this.noteError ? 'error' : 'notice', role: this.noteError ? 'alert' : 'status' }, this.noteError || null))
      : null;
    return h('section', { 'aria-labelledby': 'notes-title', class: 'notes-section' },
      h('h2', { id: 'notes-title' }, t('notesTitle')),
      notes.length ? h('ul', { class: 'notes', id: 'notes-list' }, notes.map(item)) : h('p', { class: 'muted', id: 'notes-empty' }, t('noNotes')),
      form);
  }

  async addNote(ev, c) {
    ev.preventDefault();
    const body = this.el.querySelector('#note-body').value.trim();
    const kind = this.el.querySelector('#note-kind').value;
    if (!body) {
      this.noteError = t('noteRequired');
      this.update();
      document.getElementById('note-body')?.focus();
      return;
    }
    this.noteBusy = true;
    this.noteError = '';
    try {
      const data = await this.ctx.request(ADD_NOTE, { clientId: c.id, kind, body });
      this.client.notes = [data.addNote, ...(this.client.notes || [])];
      this.noteBusy = false;
      this.update();
      this.ctx.announce(t('noteAdded'));
      document.getElementById('note-body')?.focus();
    } catch (e) {
      this.noteBusy = false;
      if (e.handled) return;
      this.noteError = this.ctx.errorMessage(e);
      this.update();
    }
  }

  async deleteNote(c, n) {
    try {
      await this.ctx.request(DELETE_NOTE, { id: n.id });
      this.client.notes = (this.client.notes || []).filter((x) => x.id !== n.id);
      this.update();
      this.ctx.announce(t('noteDeleted'));
      document.getElementById('note-body')?.focus();
    } catch (e) {
      if (e.handled) return;
      this.noteError = this.ctx.errorMessage(e);
      this.update();
    }
  }

  // ---- profile ------------------------------------------------------------------------------

  profileCard(c, canEdit) {
    const head = h('div', { class: 'card-head' },
      h('h2', { id: 'profile-title' }, t('profile')),
      canEdit && !this.editing
        ? h('button', { type: 'button', class: 'secondary small', id: 'profile-edit', on: { click: () => this.startEdit() } }, t('edit'))
        : null);
    if (this.editing) return h('section', { class: 'card', 'aria-labelledby': 'profile-title' }, head, this.profileForm(c));
    const row = (key, value) => [h('dt', {}, t(key)), h('dd', {}, value || t('none'))];
    return h('section', { class: 'card', 'aria-labelledby': 'profile-title' },
      head,
      h('dl', { class: 'profile' },
        row('displayName', c.displayName),
        row('email', c.email),
        row('phone', c.phone),
        row('status', label('ClientStatus', c.status)),
        row('totalBalance', h('span', { class: 'num', id: 'client-assets' }, moneyLines(c.totalBalance))),
        row('totalDebts', h('span', { class: 'num debit', id: 'client-debts' },
          moneyLines((c.position || []).filter((p) => Number(p.debts) !== 0).map((p) => ({ amount: p.debts, currency: p.currency }))))),
        row('netPosition', h('span', { class: 'num', id: 'client-net' },
          moneyLines((c.position || []).map((p) => ({ amount: p.net, currency: p.currency }))))),
        row('clientOwner', c.owner ? h('span', { id: 'client-owner' }, c.owner.username) : null),
        row('clientTeam', c.team ? h('span', { id: 'client-team' }, c.team.name) : null),
        row('clientSince', date(c.createdAt))));
  }

  profileForm(c) {
    const input = (id, name, value, attrs = {}) => {
      const el = h('input', { id, name, ...attrs });
      el.value = value || '';
      return el;
    };
    const fields = {
      displayName: input('profile-name', 'displayName', c.displayName, { required: true, autocomplete: 'off', maxlength: 200 }),
      email: input('profile-email', 'email', c.email, { type: 'email', autocomplete: 'off', maxlength: 254 }),
      phone: input('profile-phone', 'phone', c.phone, { type: 'tel', autocomplete: 'off', maxlength: 40 }),
      status: h('select', { id: 'profile-status', name: 'status' },
        ['ACTIVE', 'INACTIVE'].map((s) => h('option', { value: s }, label('ClientStatus', s)))),
    };
    fields.status.value = c.status;
    return h('form', {
      class: 'stack profile-form', novalidate: true,
      on: {
        submit: (ev) => { ev.preventDefault(); this.saveProfile(c, fields); },
        keydown: (ev) => { if (ev.key === 'Escape') { ev.preventDefault(); this.cancelEdit(); } },
      },
    },
    h('label', { for: 'profile-name' }, t('displayName')), fields.displayName,
    h('label', { for: 'profile-email' }, t('email')), fields.email,
    h('label', { for: 'profile-phone' }, t('phone')), fields.phone,
    h('label', { for: 'profile-status' }, t('status')), fields.status,
    h('p', { id: 'profile-message', class: this.formError ? 'error' : 'notice', role: this.formError ? 'alert' : 'status' }, this.formError || null),
    h('div', { class: 'inline' },
      h('button', { type: 'submit', id: 'profile-save', disabled: this.saving }, this.saving ? t('saving') : t('save')),
      h('button', { type: 'button', class: 'secondary', id: 'profile-cancel', disabled: this.saving, on: { click: () => this.cancelEdit() } }, t('cancel'))));
  }

  startEdit() {
    this.editing = true;
    this.formError = '';
    this.update();
    document.getElementById('profile-name')?.focus();
  }

  cancelEdit() {
    this.editing = false;
    this.formError = '';
    this.update();
    document.getElementById('profile-edit')?.focus();
  }

  async saveProfile(c, fields) {
    const v = Object.fromEntries(Object.entries(fields).map(([k, el]) => [k, el.value.trim()]));
    if (!v.displayName) {
      this.formError = t('nameRequired');
      this.update();
      document.getElementById('profile-name')?.focus();
      return;
    }
    const input = {};
    if (v.displayName !== c.displayName) input.displayName = v.displayName;
    if (v.email !== (c.email || '')) input.email = v.email; // empty clears it
    if (v.phone !== (c.phone || '')) input.phone = v.phone;
    if (v.status !== c.status) input.status = v.status;
    if (!Object.keys(input).length) { this.cancelEdit(); return; }
    this.saving = true;
    this.formError = '';
    this.update();
    try {
      const data = await this.ctx.request(UPDATE_CLIENT, { id: c.id, input });
      Object.assign(this.client, data.updateClient);
      this.saving = false;
      this.editing = false;
      this.ctx.setTitle(this.title());
      this.update();
      document.getElementById('profile-edit')?.focus();
      this.ctx.announce(t('profileSaved'));
    } catch (e) {
      this.saving = false;
      if (e.handled) return;
      this.formError = this.ctx.errorMessage(e);
      this.update();
      document.getElementById('profile-name')?.focus();
    }
  }

  // ---- rating -------------------------------------------------------------------------------

  ratingCard(c) {
    const r = c.rating;
    const head = h('h2', { id: 'rating-title' }, t('rating'));
    if (!r) {
      return h('section', { class: 'card', 'aria-labelledby': 'rating-title' }, head, h('p', { class: 'muted' }, t('ratingNone')));
    }
    const columns = [
      { title: t('factor') },
      { title: t('factorValue') },
      { title: t('factorImpact'), class: 'num' },
    ];
    const en = lang() === 'en';
    const rows = (r.factors || []).map((f) => [
      en && f.nameEn ? f.nameEn : f.name,
      en && f.valueEn ? f.valueEn : f.value,
      {
        content: [h('span', { 'aria-hidden': 'true', class: 'impact-mark' }, Number(f.impact) < 0 ? '▼ ' : Number(f.impact) > 0 ? '▲ ' : ''), signedNumber(f.impact)],
        class: Number(f.impact) < 0 ? 'debit' : Number(f.impact) > 0 ? 'credit' : '',
      },
    ]);
    return h('section', { class: 'card', 'aria-labelledby': 'rating-title' },
      head,
      h('p', { class: 'rating-line' }, gradeBadge(r, true), ' ', h('span', {}, t('scoreOf', integer(r.score)))),
      h('p', { class: 'muted small' }, t('ratedAt', dateTime(r.computedAt))),
      rows.length ? table({ caption: t('factorsTitle'), columns, rows, className: 'factors compact cards' }) : null);
  }

  // ---- bank links ---------------------------------------------------------------------------

  linksSection(c, canEdit) {
    const columns = [
      { title: t('colBank') },
      { title: t('colExternalId') },
      { title: t('colConsent') },
      { title: t('colLastSync') },
      { title: t('colWhatToDo') },
    ];
    const rows = (c.links || []).map((l) => [
      { content: l.bank.name, class: 'nowrap' },
      { content: l.externalClientId, class: 'wrap-any' },
      [h('span', { class: ['badge', stateClass(l)], dataset: { state: l.state || '' } }, label('LinkState', l.state)),
        l.consentExpiresAt && l.consentStatus === 'AUTHORIZED' ? h('span', { class: 'sub' }, t('consentUntil', date(l.consentExpiresAt))) : null,
        l.consentRequestedAt ? h('span', { class: 'sub' }, t('consentAsked', date(l.consentRequestedAt))) : null],
      { content: l.lastSyncedAt ? dateTime(l.lastSyncedAt) : t('never'), class: 'nowrap' },
      { content: this.linkAdvice(l, canEdit), class: 'wrap-any' },
    ]);
    return h('section', { 'aria-labelledby': 'links-title', class: 'links' },
      h('h2', { id: 'links-title' }, t('bankLinks')),
      this.linkError ? h('p', { class: 'error', role: 'alert' }, this.linkError) : null,
      table({ caption: t('bankLinks'), columns, rows, empty: t('noLinks'), className: 'links-table cards' }),
      canEdit ? this.linkForm(c) : null);
  }

  linkAdvice(l, canEdit) {
    const soon = l.consentExpiresAt && new Date(l.consentExpiresAt).getTime() - Date.now() < EXPIRY_WARNING_DAYS * 86400000;
    let advice = null;
    // 'relink' asks through linkBank (the same request as linking); 'again' through
    // requestConsentAgain, for a consent that does not work.
    let action = null;
    switch (l.state) {
      case 'CONSENT_WAITING':
        advice = t('adviceAwaiting', l.bank.name);
        action = ['relink', 'consentCheck'];
        break;
      case 'CONSENT_NO_ANSWER':
        advice = t('adviceNoAnswer', l.bank.name, l.consentRequestedAt ? date(l.consentRequestedAt) : t('none'));
        action = ['again', 'consentRequestAgain'];
        break;
      case 'CONSENT_MISSING':
        advice = t('adviceNone');
        action = ['again', 'consentRequest'];
        break;
      case 'CONSENT_EXPIRED':
        advice = t('adviceExpired');
        action = ['again', 'consentRequest'];
        break;
      case 'CONSENT_REJECTED':
        advice = t('adviceRejected', l.bank.name);
        action = ['again', 'consentRequestAgain'];
        break;
      case 'CONSENT_REVOKED':
        advice = t('adviceRevoked', l.bank.name);
        action = ['again', 'consentRequestAgain'];
        break;
      case 'FAILING':
        advice = l.nextAttemptAt
          ? t('adviceFailing', integer(l.failureCount || 0), dateTime(l.nextAttemptAt))
          : t('adviceFailingNow', integer(l.failureCount || 0));
        break;
      case 'INCOMPLETE':
        advice = t('adviceIncomplete');
        break;
      case 'UNLINKED':
        advice = t('adviceUnlinked', l.bank.name);
        action = ['relinkUnlinked', 'relinkBank'];
        break;
      default:
        if (soon) { advice = t('adviceExpiring', date(l.consentExpiresAt)); action = ['relink', 'consentRequest']; }
    }
    const busy = this.linkBusy === l.id;
    const error = l.lastError;
    // The server's words on the link when no advice says it in the page's language (and the
    // last error does not say them already), e.g. a renewal waiting for the client.
    const note = !advice && l.statusMessage && (!error || error.message !== l.statusMessage) ? l.statusMessage : null;
    return [
      advice ? h('span', {}, advice) : (note || error ? null : h('span', { class: 'muted' }, t('adviceOk'))),
      error
        ? h('span', { class: 'sub link-error', dataset: { code: error.code } }, t('lastError', error.message, dateTime(error.at)))
        : null,
      note ? h('span', { class: 'sub' }, note) : null,
      action && canEdit
        ? h('button', {
          type: 'button', class: 'secondary small', id: `link-action-${l.id}`, disabled: busy,
          on: { click: () => this.linkButton(action[0], l) },
        }, busy ? t('working') : t(action[1]))
        : null,
      // Unlinking revokes the consent at the bank: a second click confirms.
      canEdit && l.state !== 'UNLINKED'
        ? h('button', {
          type: 'button', class: 'secondary small danger', id: `link-unlink-${l.id}`, disabled: busy,
          on: { click: () => this.unlink(l) },
        }, this.unlinkArmed === l.id ? t('unlinkConfirm', l.bank.name) : t('unlinkBank'))
        : null,
    ];
  }

  linkButton(kind, l) {
    if (kind === 'again') return this.requestAgain(l);
    if (kind === 'relinkUnlinked') return this.linkAction(l, () => this.ctx.request(RELINK_BANK, { linkId: l.id }).then((d) => d.relinkBank));
    return this.refreshConsent(l);
  }

  async unlink(l) {
    if (this.unlinkArmed !== l.id) {
      this.unlinkArmed = l.id;
      preserveFocus(() => this.update());
      return;
    }
    this.unlinkArmed = null;
    await this.linkAction(l, () => this.ctx.request(UNLINK_BANK, { linkId: l.id }).then((d) => d.unlinkBank));
  }

  async refreshConsent(l) {
    await this.linkAction(l, () => this.ctx.request(LINK_BANK, { clientId: this.id, bank: l.bank.code, externalClientId: l.externalClientId }).then((d) => d.linkBank));
  }

  async requestAgain(l) {
    await this.linkAction(l, () => this.ctx.request(REQUEST_CONSENT_AGAIN, { linkId: l.id }).then((d) => d.requestConsentAgain));
  }

  async linkAction(l, call) {
    this.linkBusy = l.id;
    this.linkError = '';
    preserveFocus(() => this.update());
    try {
      Object.assign(l, await call());
      this.ctx.announce(t('consentNow', l.bank.name, label('LinkState', l.state)));
    } catch (e) {
      if (e.handled) return;
      this.linkError = this.ctx.errorMessage(e);
    }
    this.linkBusy = null;
    preserveFocus(() => this.update());
  }

  linkForm(c) {
    const banks = this.ctx.banksCached() || [];
    if (!banks.length) {
      this.ctx.banks().then((list) => { if (list.length && this.client === c) preserveFocus(() => this.update()); }).catch(() => {});
      return h('p', { class: 'muted small' }, t('noBanksConfigured'));
    }
    const bank = h('select', { id: 'link-bank', name: 'bank', required: true }, banks.map((b) => h('option', { value: b.code }, b.name)));
    const external = h('input', { id: 'link-external', name: 'externalClientId', required: true, autocomplete: 'off', placeholder: 'team200-1' });
    return h('form', {
      class: 'filters link-form', 'aria-labelledby': 'link-form-title',
      on: { submit: (ev) => { ev.preventDefault(); this.addLink(bank.value, external.value.trim()); } },
    },
    h('h3', { id: 'link-form-title', class: 'form-title' }, t('linkBankTitle')),
    h('div', { class: 'field' }, h('label', { for: 'link-bank' }, t('colBank')), bank),
    h('div', { class: 'field grow' }, h('label', { for: 'link-external' }, t('colExternalId')), external),
    h('div', { class: 'field end' }, h('button', { type: 'submit', id: 'link-submit' }, t('linkBank'))));
  }

  async addLink(bank, externalClientId) {
    if (!externalClientId) { document.getElementById('link-external')?.focus(); return; }
    this.linkError = '';
    try {
      const data = await this.ctx.request(LINK_BANK, { clientId: this.id, bank, externalClientId });
      this.client.links = [...this.client.links.filter((l) => l.id !== data.linkBank.id), data.linkBank];
      this.ctx.announce(t('linkAdded', data.linkBank.bank.name, label('LinkState', data.linkBank.state)));
    } catch (e) {
      if (e.handled) return;
      this.linkError = this.ctx.errorMessage(e);
    }
    preserveFocus(() => this.update());
  }

  // ---- accounts and exports -----------------------------------------------------------------

  accountsTable(accounts) {
    const columns = [
      { title: t('colBank') },
      { title: t('colAccount') },
      { title: t('colType') },
      { title: t('colAccountStatus') },
      { title: t('colBalance'), class: 'num' },
    ];
    const isDebt = (a) => a.kind === 'LOAN' || a.kind === 'CREDIT_CARD';
    const balance = (a) => {
      if (!a.balance) return t('none');
      // A debt is shown as what is owed (positive, whatever sign the bank used).
      if (isDebt(a)) return h('span', { class: 'debit debt' }, t('debtAmount', money(String(a.balance.amount).replace(/^-/, ''), a.balance.currency)));
      return money(a.balance.amount, a.balance.currency);
    };
    const rows = accounts.map((a) => [
      { content: a.bank.name, class: 'nowrap' },
      { content: [h('span', {}, a.name), a.numberMasked ? h('span', { class: 'sub' }, a.numberMasked) : null], class: 'wrap-any' },
      [a.kind ? label('AccountKind', a.kind) : a.type, h('span', { class: 'sub' }, a.currency),
        a.openedAt ? h('span', { class: 'sub' }, t('accountOpenedOn', date(a.openedAt))) : null],
      { content: [label('AccountStatus', a.status),
        a.closedAt ? h('span', { class: 'sub' }, t('accountClosedSince', date(a.closedAt))) : null],
      class: a.status === 'CLOSED' ? 'account-closed' : null },
      { content: [balance(a),
        a.balanceAt ? h('span', { class: 'sub' }, t('balanceAt', dateTime(a.balanceAt))) : null],
      class: a.status === 'CLOSED' ? 'muted' : null },
    ]);
    const tbl = table({ caption: t('accountsTitle'), columns, rows, empty: t('noAccounts'), className: 'accounts cards' });
    // Each row says what the account is and whether it is closed, for styling and the tests.
    tbl.querySelectorAll('tbody tr').forEach((tr, k) => {
      const a = accounts[k];
      if (!a) return;
      tr.dataset.status = a.status;
      if (a.kind) tr.dataset.kind = a.kind;
      if (a.status === 'CLOSED') tr.classList.add('closed');
    });
    return tbl;
  }

  agreementsTable(agreements) {
    const columns = [
      { title: t('colBank') },
      { title: t('colProduct') },
      { title: t('colAmount'), class: 'num' },
      { title: t('colRate'), class: 'num' },
      { title: t('colTerm') },
      { title: t('colStatus') },
    ];
    const rows = agreements.map((g) => [
      { content: g.bank.name, class: 'nowrap' },
      [h('span', {}, g.productName), h('span', { class: 'sub' }, label('AgreementKind', g.kind)),
        g.accountNumberMasked ? h('span', { class: 'sub' }, g.accountNumberMasked) : null],
      { content: money(g.amount.amount, g.amount.currency), class: g.kind === 'DEPOSIT' ? null : 'debit' },
      g.interestRate != null ? t('ratePerYear', g.interestRate) : t('none'),
      { content: t('termRange', g.openedAt ? date(g.openedAt) : t('none'), g.endsAt ? date(g.endsAt) : t('none')), class: 'nowrap' },
      label('AgreementStatus', g.status),
    ]);
    const tbl = table({ caption: t('agreementsTitle'), columns, rows, empty: t('noAgreements'), className: 'agreements cards' });
    tbl.querySelectorAll('tbody tr').forEach((tr, k) => {
      if (agreements[k]) tr.dataset.kind = agreements[k].kind;
    });
    return tbl;
  }

  cardsTable(cards) {
    const columns = [
      { title: t('colBank') },
      { title: t('colCard') },
      { title: t('colExpiry') },
      { title: t('colLimits') },
      { title: t('colStatus') },
    ];
    const two = (n) => String(n).padStart(2, '0');
    const limit = (m) => (m ? money(m.amount, m.currency) : t('none'));
    const rows = cards.map((c) => [
      { content: c.bank.name, class: 'nowrap' },
      [h('span', { class: 'card-number' }, c.numberMasked),
        h('span', { class: 'sub' }, [label('CardKind', c.kind), c.name].filter(Boolean).join(' · '))],
      [c.expiryYear ? `${two(c.expiryMonth || 0)}/${c.expiryYear}` : t('none'),
        c.expired ? h('span', { class: 'sub debit' }, t('cardExpired')) : null],
      t('cardLimits', limit(c.dailyLimit), limit(c.monthlyLimit)),
      label('CardStatus', c.status),
    ]);
    return table({ caption: t('cardsTitle'), columns, rows, empty: t('noCards'), className: 'bank-cards cards' });
  }

  exportsSection(c) {
    const base = `/export/clients/${encodeURIComponent(c.id)}/transactions`;
    return h('section', { 'aria-labelledby': 'exports-title', class: 'exports' },
      h('h2', { id: 'exports-title' }, t('exportsTitle')),
      h('p', { class: 'inline' },
        h('a', { class: 'button secondary', href: `${base}.csv`, download: '', id: 'export-csv' }, t('exportCsv')),
        h('a', { class: 'button secondary', href: `${base}.xlsx`, download: '', id: 'export-xlsx' }, t('exportXlsx'))));
  }

  destroy() {
    this.brief.stop();
    this.sync.destroy();
    this.timeline.destroy();
  }
}

function stateClass(l) {
  switch (l.state) {
    case 'OK':
    case 'NOT_SYNCED_YET': return 'ok';
    case 'CONSENT_WAITING':
    case 'INCOMPLETE': return 'warn';
    default: return 'bad';
  }
}
