// The assistant panel: suggested questions, the answer streaming in over graphql-transport-ws
// (`assistantStream`), a stop button, the conversation so far, and errors said plainly.
// Answers are rendered with the safe Markdown subset of markdown.js: text nodes only.
//
// The conversation is kept per context (one client, or the whole portfolio) for this browser
// tab (sessionStorage) and forgotten at sign-out. The server stores every conversation too: a
// follow-up passes the conversation's id (from the answer's last event) so the model sees the
// earlier turns, "New conversation" starts another, and the client's earlier conversations
// (`Client.conversations`) are listed to read or continue.
import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { renderMarkdown } from '../markdown.js';
import { dateTime } from '../format.js';
import { ASK_STREAM, CONVERSATION, CONVERSATIONS, SUGGESTIONS } from '../queries.js';

const STORAGE_KEY = 'ai-crm.assistant';
const MAX_ENTRIES = 30;
const MAX_QUESTION = 2000;

function loadStored() {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    const parsed = raw ? JSON.parse(raw) : {};
    if (!parsed || typeof parsed !== 'object') return { history: {}, threads: {} };
    // Older tabs kept the history alone.
    if (!parsed.history) return { history: parsed, threads: {} };
    return { history: parsed.history || {}, threads: parsed.threads || {} };
  } catch (e) {
    return { history: {}, threads: {} };
  }
}

export class AssistantPanel {
  /**
   * @param {import('../app.js').Context} ctx
   * @param {{toggle: HTMLElement}} options  the header button that opens and closes the panel
   */
  constructor(ctx, { toggle }) {
    this.ctx = ctx;
    this.toggleButton = toggle;
    this.context = null; // { clientId, name } or null for the portfolio
    const stored = loadStored();
    this.history = stored.history; // key → entries
    this.threads = stored.threads; // key → the server's conversation id being continued
    this.past = new Map(); // client id → {list} | {loading} | {error}
    this.suggestions = new Map(); // key → string[] | {error}
    this.active = null; // { entry, stop }
    this.isOpen = false;
    this.pending = 0; // requestAnimationFrame handle for the streaming answer
    this.el = h('aside', { id: 'assistant', class: 'assistant', 'aria-labelledby': 'assistant-title', hidden: true });
    this.el.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && this.isOpen) { ev.preventDefault(); this.close(); }
    });
    this.render();
  }

  key() {
    return this.context ? `client:${this.context.clientId}` : 'portfolio';
  }

  entries() {
    const k = this.key();
    if (!this.history[k]) this.history[k] = [];
    return this.history[k];
  }

  save() {
    try {
      const slim = {};
      for (const [k, list] of Object.entries(this.history)) {
        slim[k] = list.slice(-MAX_ENTRIES).map((e) => ({
          question: e.question, answer: e.answer, state: e.state === 'streaming' ? 'stopped' : e.state, error: e.error, model: e.model,
        }));
      }
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ history: slim, threads: this.threads }));
    } catch (e) { /* storage full or off: the history lasts for this page */ }
  }

  /** Sets what the questions are about: a client ({clientId, name}) or the portfolio (null). */
  setContext(context) {
    const next = context && context.clientId ? { clientId: String(context.clientId), name: context.name || '' } : null;
    const same = (next && this.context && next.clientId === this.context.clientId) || (!next && !this.context);
    if (same) {
      if (next && this.context) this.context.name = next.name;
      if (this.isOpen) this.renderHead();
      return;
    }
    this.context = next;
    if (!this.active) {
      this.render();
      if (this.isOpen) { this.loadSuggestions(); this.loadPast(); }
    }
  }

  open() {
    this.isOpen = true;
    this.el.hidden = false;
    document.body.classList.add('assistant-open');
    this.toggleButton.setAttribute('aria-expanded', 'true');
    this.render();
    this.loadSuggestions();
    this.loadPast();
    document.getElementById('assistant-question')?.focus();
  }

  close() {
    this.isOpen = false;
    this.el.hidden = true;
    document.body.classList.remove('assistant-open');
    this.toggleButton.setAttribute('aria-expanded', 'false');
    this.toggleButton.focus();
  }

  toggle() {
    if (this.isOpen) this.close();
    else this.open();
  }

  /** Signed out: stop, forget the conversation and close. */
  reset() {
    this.stopAnswer({ reload: false });
    this.history = {};
    this.threads = {};
    this.past.clear();
    this.suggestions.clear();
    try { sessionStorage.removeItem(STORAGE_KEY); } catch (e) { /* nothing kept */ }
    if (this.isOpen) {
      this.isOpen = false;
      this.el.hidden = true;
      document.body.classList.remove('assistant-open');
      this.toggleButton.setAttribute('aria-expanded', 'false');
    }
    this.context = null;
    this.render();
  }

  async loadSuggestions() {
    const k = this.key();
    if (this.suggestions.has(k)) return;
    this.suggestions.set(k, { loading: true });
    this.renderSuggestions();
    try {
      const data = await this.ctx.request(SUGGESTIONS, { clientId: this.context ? this.context.clientId : null });
      this.suggestions.set(k, { list: (data.assistantSuggestions || []).slice(0, 8) });
    } catch (e) {
      this.suggestions.set(k, { error: e.handled ? '' : this.ctx.errorMessage(e) });
      if (!e.handled) setTimeout(() => this.suggestions.delete(k), 30000);
    }
    if (this.key() === k) this.renderSuggestions();
  }

  /** The client's earlier conversations from the server (none for the portfolio). */
  async loadPast(force = false) {
    if (!this.context) return;
    const id = this.context.clientId;
    if (this.past.has(id) && !force) return;
    if (!this.past.has(id)) this.past.set(id, { loading: true });
    this.renderPast();
    try {
      const data = await this.ctx.request(CONVERSATIONS, { clientId: id });
      this.past.set(id, { list: data.client.conversations || [] });
    } catch (e) {
      this.past.set(id, { error: e.handled ? '' : this.ctx.errorMessage(e) });
    }
    if (this.context && this.context.clientId === id) this.renderPast();
  }

  /** Shows an earlier conversation in the log (its turns as stored now); the next question continues it. */
  async resume(listed) {
    if (this.active) return;
    const key = this.key();
    let conversation = listed;
    try {
      conversation = (await this.ctx.request(CONVERSATION, { id: listed.id })).conversation;
    } catch (e) {
      if (e.handled) return;
      // The list's copy will do.
    }
    if (this.active || this.key() !== key) return;
    this.history[key] = conversation.turns.map((turn) => ({
      question: turn.question, answer: turn.answer, state: 'done', error: '', model: turn.model || '',
    }));
    this.threads[key] = conversation.id;
    this.save();
    this.render();
    this.parts.question.focus();
    this.ctx.announce(t('assistantResumed', conversation.title));
  }

  // ---- rendering ----------------------------------------------------------------------------

  render() {
    const question = h('textarea', {
      id: 'assistant-question', name: 'question', rows: 3, maxlength: MAX_QUESTION, required: true,
      'aria-describedby': 'assistant-hint',
      on: {
        keydown: (ev) => {
          if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit(); }
        },
      },
    });
    const form = h('form', {
      class: 'assistant-form',
      on: { submit: (ev) => { ev.preventDefault(); this.ask(question.value); } },
    },
    h('label', { for: 'assistant-question' }, t('assistantQuestion')),
    question,
    h('p', { id: 'assistant-hint', class: 'muted small' }, t('assistantHint')),
    h('div', { class: 'inline' },
      h('button', { type: 'submit', id: 'assistant-send', disabled: Boolean(this.active) }, t('assistantSend')),
      h('button', {
        type: 'button', id: 'assistant-stop', class: 'secondary', hidden: !this.active,
        on: { click: () => { this.stopAnswer(); question.focus(); } },
      }, t('assistantStop'))));
    this.parts = {
      head: h('div', { class: 'assistant-head' }),
      suggestions: h('div', { class: 'assistant-suggestions' }),
      past: h('div', { class: 'assistant-past', id: 'assistant-past' }),
      log: h('ol', { class: 'assistant-log', 'aria-label': t('assistantHistory'), tabindex: '0' }),
      form,
      question,
    };
    replace(this.el, this.parts.head, this.parts.suggestions, this.parts.past, this.parts.log, form);
    this.renderHead();
    this.renderSuggestions();
    this.renderPast();
    this.renderLog();
  }

  renderHead() {
    const entries = this.entries();
    replace(this.parts.head,
      h('div', { class: 'card-head' },
        h('h2', { id: 'assistant-title' }, t('assistantTitle')),
        h('button', { type: 'button', class: 'secondary small', id: 'assistant-close', on: { click: () => this.close() } }, t('close'))),
      h('p', { class: 'muted small', id: 'assistant-context' },
        this.context ? t('assistantAboutClient', this.context.name) : t('assistantAboutPortfolio')),
      entries.length && !this.active
        ? h('button', { type: 'button', class: 'link small', id: 'assistant-clear', on: { click: () => this.clear() } }, t('assistantClear'))
        : null);
  }

  renderPast() {
    const el = this.parts && this.parts.past;
    if (!el) return;
    const p = this.context ? this.past.get(this.context.clientId) : null;
    if (!p || p.loading || (p.list && !p.list.length)) { replace(el); return; }
    if (p.error) { replace(el, h('p', { class: 'error small' }, p.error)); return; }
    const current = this.threads[this.key()];
    replace(el, h('details', { class: 'past-list' },
      h('summary', { id: 'assistant-past-summary' }, t('assistantPast', p.list.length)),
      h('ul', { class: 'plain' }, p.list.map((c) => h('li', { class: 'past', dataset: { conversationId: c.id } },
        h('button', {
          type: 'button', class: 'link small', disabled: Boolean(this.active), 'aria-current': c.id === current ? 'true' : null,
          on: { click: () => this.resume(c) },
        }, c.title),
        h('span', { class: 'sub' }, t('assistantPastLine', dateTime(c.updatedAt), c.turns.length, c.user.username)))))));
  }

  renderSuggestions() {
    const s = this.suggestions.get(this.key());
    if (!s || s.loading) {
      replace(this.parts.suggestions, s ? h('p', { class: 'muted small' }, t('loading')) : null);
      return;
    }
    if (s.error) {
      replace(this.parts.suggestions, h('p', { class: 'error small' }, s.error));
      return;
    }
    replace(this.parts.suggestions,
      s.list.length ? h('h3', { class: 'small-title', id: 'assistant-suggestions-title' }, t('assistantSuggestions')) : null,
      s.list.length
        ? h('ul', { class: 'chips', 'aria-labelledby': 'assistant-suggestions-title' }, s.list.map((q) => h('li', {},
          h('button', { type: 'button', class: 'chip', disabled: Boolean(this.active), on: { click: () => this.ask(q) } }, q))))
        : null);
  }

  renderLog() {
    const entries = this.entries();
    replace(this.parts.log, entries.map((e) => this.entryNode(e)));
    if (!entries.length) this.parts.log.append(h('li', { class: 'muted small empty' }, t('assistantEmpty')));
    this.scrollDown();
  }

  entryNode(e) {
    const answer = h('div', { class: 'assistant-answer md', 'aria-busy': String(e.state === 'streaming') });
    answer.append(renderMarkdown(e.answer));
    const state = this.stateNode(e);
    e.node = { answer, state };
    return h('li', { class: ['qa', `qa-${e.state}`] },
      h('p', { class: 'assistant-q' }, h('span', { class: 'sr-only' }, t('assistantYou')), e.question),
      h('div', { class: 'assistant-a' }, h('span', { class: 'sr-only' }, t('assistantThem')), answer),
      state);
  }

  stateNode(e) {
    switch (e.state) {
      case 'streaming':
        return h('p', { class: 'assistant-state muted small' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('assistantAnswering'));
      case 'stopped':
        return h('p', { class: 'assistant-state muted small' }, t('assistantStopped'));
      case 'error':
        return h('p', { class: 'assistant-state error', role: 'alert' }, e.error);
      default:
        return e.model ? h('p', { class: 'assistant-state muted small' }, t('assistantModel', e.model)) : null;
    }
  }

  /** Redraws the streaming answer at most once a frame. */
  drawSoon(e) {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      if (!e.node) return;
      replace(e.node.answer, renderMarkdown(e.answer));
      this.scrollDown();
    });
  }

  scrollDown() {
    const log = this.parts.log;
    log.scrollTop = log.scrollHeight;
  }

  // ---- asking -------------------------------------------------------------------------------

  ask(text) {
    const question = String(text || '').trim().slice(0, MAX_QUESTION);
    if (!question || this.active) {
      if (!question) this.parts.question.focus();
      return;
    }
    const entry = { question, answer: '', state: 'streaming', error: '', model: '' };
    this.entries().push(entry);
    const key = this.key();
    const variables = { question, clientId: this.context ? this.context.clientId : null, conversationId: this.threads[key] || null };
    this.active = { entry, stop: null };
    this.render();
    this.parts.question.value = '';
    this.parts.question.focus();
    let finished = false;
    const finish = (state, error) => {
      if (finished || entry.state !== 'streaming') return;
      finished = true;
      if (this.active && this.active.entry === entry) this.active = null;
      entry.state = state;
      if (error) entry.error = error;
      if (this.pending) { cancelAnimationFrame(this.pending); this.pending = 0; }
      this.save();
      const focusWasInForm = this.el.contains(document.activeElement);
      this.render();
      if (focusWasInForm) this.parts.question.focus();
      this.ctx.announce(state === 'error' ? error : state === 'done' ? t('assistantAnswered') : t('assistantStopped'));
    };
    this.active.stop = this.ctx.subscribe({ query: ASK_STREAM, variables }, {
      next: (data) => {
        const part = data && data.assistantStream;
        if (!part || entry.state !== 'streaming') return;
        if (part.delta) entry.answer += part.delta;
        if (part.model) entry.model = part.model;
        if (part.conversationId) {
          this.threads[key] = String(part.conversationId);
          if (this.context) this.past.delete(this.context.clientId); // listed anew next time
        }
        if (part.done) { finish('done'); this.loadPast(); }
        else this.drawSoon(entry);
      },
      error: (e) => finish('error', e.handled ? t('sessionExpired') : this.ctx.errorMessage(e)),
      complete: () => finish('done'),
    });
  }

  stopAnswer({ reload = true } = {}) {
    const a = this.active;
    if (!a) return;
    this.active = null;
    if (a.stop) a.stop();
    a.entry.state = 'stopped';
    if (this.context) this.past.delete(this.context.clientId); // the server may keep what was said
    this.save();
    this.render();
    if (reload && this.isOpen) this.loadPast();
    this.ctx.announce(t('assistantStopped'));
  }

  clear() {
    this.history[this.key()] = [];
    delete this.threads[this.key()];
    this.save();
    this.render();
    this.parts.question.focus();
  }
}
