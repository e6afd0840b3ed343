// Category rules (#/rules): the user rules in the order they apply, a form to add one (managers
// and administrators), deleting one, and the background re-categorisation a change starts,
// polled until it ends.
import { h, replace, table, focusHeading } from '../dom.js';
import { label, t } from '../i18n.js';
import { dateTime, integer } from '../format.js';
import { CATEGORY_RULES, CREATE_RULE, DELETE_RULE, RECATEGORISATION } from '../queries.js';
import { canChange, preserveFocus, renderStatus } from './common.js';

export const RULE_FIELDS = ['ANY', 'DESCRIPTION', 'MERCHANT', 'COUNTERPARTY', 'MCC'];
const POLL_MS = 500;

export class RulesView {
  /**
   * @param {import('../app.js').Context} ctx
   * @param {{pattern?: string, field?: string, category?: string}} [prefill]  the new rule's
   *   form filled in (from `#/rules?pattern=…&field=…&category=…`, the review list's "rule"),
   *   for the user to check and edit before adding it
   */
  constructor(ctx, prefill = {}) {
    this.ctx = ctx;
    this.prefill = prefill;
    this.rules = null;
    this.run = null; // the latest re-categorisation
    this.categories = [];
    this.loading = false;
    this.error = '';
    this.formError = '';
    this.busy = false;
    this.timer = 0;
    this.el = h('section', { class: 'view rules', 'aria-labelledby': 'rules-title' });
  }

  title() {
    return t('rulesTitle');
  }

  async show() {
    this.build();
    await Promise.all([this.load(), this.loadCategories()]);
    focusHeading(this.el.querySelector('h1'));
  }

  render() {
    this.build();
  }

  canEdit() {
    return canChange(this.ctx);
  }

  async loadCategories() {
    try {
      this.categories = await this.ctx.categories();
    } catch (e) {
      this.categories = [];
    }
    preserveFocus(() => this.update());
  }

  async load() {
    this.loading = true;
    this.error = '';
    this.updateStatus();
    try {
      const data = await this.ctx.request(CATEGORY_RULES);
      this.rules = data.categoryRules;
      this.run = data.recategorisation;
    } catch (e) {
      if (e.handled) return;
      this.error = this.ctx.errorMessage(e);
    }
    this.loading = false;
    preserveFocus(() => this.update());
    this.pollSoon();
  }

  build() {
    this.parts = {
      status: h('p', { class: 'status', 'aria-live': 'polite' }),
      run: h('div', { class: 'recat', id: 'recat', 'aria-live': 'polite' }),
      list: h('div', { class: 'list' }),
      form: h('div', {}),
    };
    replace(this.el,
      h('p', { class: 'back' }, h('a', { href: '#/clients', id: 'rules-back' }, t('backToClients'))),
      h('h1', { id: 'rules-title' }, t('rulesTitle')),
      h('p', { class: 'muted' }, t('rulesIntro')),
      this.parts.status,
      this.parts.form,
      this.parts.run,
      this.parts.list);
    this.update();
  }

  updateStatus() {
    if (!this.parts) return;
    renderStatus(this.parts.status, { loading: this.loading, error: this.error, onRetry: () => this.load(), retryId: 'rules-retry' });
  }

  update() {
    if (!this.parts) return;
    this.updateStatus();
    replace(this.parts.form, this.canEdit() ? this.ruleForm() : h('p', { class: 'muted' }, t('rulesViewerNote')));
    this.renderRun();
    if (!this.rules) { replace(this.parts.list); return; }
    const columns = [
      { title: t('colPattern') },
      { title: t('colField') },
      { title: t('colCategory') },
      { title: t('colPriority'), class: 'num' },
      { title: t('colCreated') },
      { title: t('colActions') },
    ];
    const rows = this.rules.map((r) => [
      { content: h('code', { class: 'rule-pattern' }, r.pattern), class: 'wrap-any' },
      label('RuleField', r.field),
      label('Category', r.category),
      integer(r.priority),
      [dateTime(r.createdAt), r.createdBy ? h('span', { class: 'sub' }, r.createdBy) : null],
      this.canEdit()
        ? h('button', {
          type: 'button', class: 'secondary small', id: `rule-delete-${r.id}`, disabled: this.busy,
          'aria-label': t('ruleDeleteFor', r.pattern), on: { click: () => this.remove(r) },
        }, t('ruleDelete'))
        : t('none'),
    ]);
    const tbl = table({ caption: t('rulesTitle'), columns, rows, empty: t('rulesNone'), className: 'rules-table cards' });
    tbl.querySelectorAll('tbody tr').forEach((tr, k) => { if (this.rules[k]) tr.dataset.ruleId = this.rules[k].id; });
    replace(this.parts.list, tbl);
  }

  ruleForm() {
    const pattern = h('input', { id: 'rule-pattern', name: 'pattern', required: true, autocomplete: 'off', maxlength: 200, placeholder: t('rulePatternPlaceholder') });
    const field = h('select', { id: 'rule-field', name: 'field' }, RULE_FIELDS.map((f) => h('option', { value: f }, label('RuleField', f))));
    const category = h('select', { id: 'rule-category', name: 'category', required: true },
      this.categories.map((c) => h('option', { value: c.code }, `${label('Category', c.code)} · ${label('Direction', c.direction)}`)));
    const priority = h('input', { id: 'rule-priority', name: 'priority', type: 'number', min: -1000, max: 1000, step: 1, inputmode: 'numeric' });
    priority.value = '0';
    const { pattern: p, field: f, category: c } = this.prefill;
    if (p) pattern.value = p;
    if (RULE_FIELDS.includes(f)) field.value = f;
    if (c && this.categories.some((x) => x.code === c)) category.value = c;
    return h('form', {
      class: 'filters rule-form', 'aria-labelledby': 'rule-form-title', novalidate: true,
      on: { submit: (ev) => { ev.preventDefault(); this.create({ pattern, field, category, priority }); } },
    },
    h('h2', { id: 'rule-form-title', class: 'form-title' }, t('ruleAddTitle')),
    h('div', { class: 'field grow' }, h('label', { for: 'rule-pattern' }, t('colPattern')), pattern),
    h('div', { class: 'field' }, h('label', { for: 'rule-field' }, t('colField')), field),
    h('div', { class: 'field' }, h('label', { for: 'rule-category' }, t('colCategory')), category),
    h('div', { class: 'field' }, h('label', { for: 'rule-priority' }, t('colPriority')), priority),
    h('div', { class: 'field end' }, h('button', { type: 'submit', id: 'rule-submit', disabled: this.busy }, this.busy ? t('working') : t('ruleAdd'))),
    h('p', { id: 'rule-message', class: ['form-message', this.formError ? 'error' : 'notice'], role: this.formError ? 'alert' : 'status' }, this.formError || null));
  }

  async create({ pattern, field, category, priority }) {
    const p = pattern.value.trim();
    if (!p) {
      this.formError = t('rulePatternRequired');
      preserveFocus(() => this.update());
      document.getElementById('rule-pattern')?.focus();
      return;
    }
    const prio = priority.value.trim() === '' ? 0 : Number(priority.value);
    this.busy = true;
    this.formError = '';
    preserveFocus(() => this.update());
    try {
      const data = await this.ctx.request(CREATE_RULE, { pattern: p, field: field.value, category: category.value, priority: prio });
      const created = data.createCategoryRule;
      this.run = created.recategorisation;
      this.prefill = {};
      this.busy = false;
      await this.load();
      this.ctx.announce(t('ruleAdded', created.rule.pattern, label('Category', created.rule.category)));
      document.getElementById('rule-pattern')?.focus();
    } catch (e) {
      this.busy = false;
      if (e.handled) return;
      this.formError = this.ctx.errorMessage(e);
      preserveFocus(() => this.update());
      // The form was rebuilt: put back what was typed.
      const again = document.getElementById('rule-pattern');
      if (again) { again.value = p; again.focus(); }
    }
  }

  async remove(rule) {
    this.busy = true;
    this.error = '';
    preserveFocus(() => this.update());
    try {
      const data = await this.ctx.request(DELETE_RULE, { id: rule.id });
      this.run = data.deleteCategoryRule.recategorisation;
      this.busy = false;
      await this.load();
      this.ctx.announce(t('ruleDeleted', rule.pattern));
      document.getElementById('rule-pattern')?.focus();
    } catch (e) {
      this.busy = false;
      if (e.handled) return;
      this.error = this.ctx.errorMessage(e);
      preserveFocus(() => this.update());
    }
  }

  renderRun() {
    const r = this.run;
    if (!r) { replace(this.parts.run); return; }
    const running = r.status === 'QUEUED' || r.status === 'RUNNING';
    this.parts.run.dataset.status = r.status;
    replace(this.parts.run,
      h('p', { class: ['recat-line', r.status === 'FAILED' ? 'error' : 'muted'] },
        running ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
        t('recatLine', label('RecategorisationTrigger', r.trigger), label('RecategorisationStatus', r.status),
          integer(r.rowsScanned), integer(r.rowsChanged)),
        r.finishedAt ? ` · ${dateTime(r.finishedAt)}` : null,
        r.message ? h('span', { class: 'sub' }, r.message) : null));
  }

  pollSoon() {
    clearTimeout(this.timer);
    const r = this.run;
    if (!r || !(r.status === 'QUEUED' || r.status === 'RUNNING')) return;
    this.timer = setTimeout(async () => {
      try {
        const data = await this.ctx.request(RECATEGORISATION, { id: r.id });
        this.run = data.recategorisation;
        this.renderRun();
        this.pollSoon();
      } catch (e) { /* the next visit shows it */ }
    }, POLL_MS);
  }

  destroy() {
    clearTimeout(this.timer);
  }
}
