// The meeting brief on a client's page: "Meeting brief" writes one (generateBrief, in the
// interface language) and shows the latest, rendered from its markdown, with a link to its PDF
// and a Print button. The print stylesheet (style.css, @media print) prints the brief alone:
// while one is shown the page carries `has-brief`, and everything but `.brief` is hidden.
import { h, replace } from '../dom.js';
import { lang, t } from '../i18n.js';
import { dateTime } from '../format.js';
import { GENERATE_BRIEF } from '../queries.js';
import { renderMarkdown } from '../markdown.js';

export class BriefPanel {
  /**
   * @param {import('../app.js').Context} ctx
   * @param {{clientId: string, clientName: () => string}} o
   */
  constructor(ctx, { clientId, clientName }) {
    this.ctx = ctx;
    this.clientId = clientId;
    this.clientName = clientName;
    this.brief = null;
    this.busy = false;
    this.error = '';
    this.button = h('button', {
      type: 'button', class: 'secondary', id: 'brief-generate', on: { click: () => this.generate() },
    }, t('briefGenerate'));
    this.el = h('div', { class: 'brief-slot', id: 'brief-slot' });
  }

  /** Shows `brief` (the latest of the client, when the page loads). */
  show(brief) {
    this.brief = brief || null;
    this.render();
  }

  async generate() {
    if (this.busy) return;
    this.busy = true;
    this.error = '';
    this.render();
    try {
      const data = await this.ctx.request(GENERATE_BRIEF, { clientId: this.clientId, lang: lang().toUpperCase() });
      this.brief = data.generateBrief;
      this.ctx.announce(t('briefReady'));
    } catch (e) {
      if (!e.handled) this.error = this.ctx.errorMessage(e);
    }
    this.busy = false;
    this.render();
    document.getElementById('brief')?.focus();
  }

  render() {
    replace(this.button, this.busy ? t('briefWorking') : t('briefGenerate'));
    this.button.disabled = this.busy;
    document.body.classList.toggle('has-brief', Boolean(this.brief));
    const b = this.brief;
    replace(this.el,
      this.error ? h('p', { class: 'error', role: 'alert', id: 'brief-error' }, this.error) : null,
      b ? h('article', { class: 'brief card', id: 'brief', tabindex: '-1', 'aria-labelledby': 'brief-client', dataset: { briefId: b.id } },
        h('div', { class: 'brief-head' },
          h('p', { class: 'brief-client', id: 'brief-client' }, this.clientName()),
          h('p', { class: 'muted brief-meta' },
            t('briefMeta', dateTime(b.createdAt), b.author || t('none')),
            b.polished ? ` · ${t('briefPolished')}` : '')),
        h('div', { class: 'brief-text' }, renderMarkdown(b.text, { headingBase: 2 })),
        h('p', { class: 'brief-actions' },
          h('a', { href: b.pdfUrl, id: 'brief-pdf', class: 'button secondary', download: '' }, t('briefPdf')),
          ' ',
          h('button', { type: 'button', class: 'secondary', id: 'brief-print', on: { click: () => window.print() } }, t('briefPrint')),
          ' ',
          h('button', { type: 'button', class: 'link', id: 'brief-close', on: { click: () => this.show(null) } }, t('briefClose'))))
        : null);
  }

  /** Leaving the page: nothing of the brief stays for printing other pages. */
  stop() {
    document.body.classList.remove('has-brief');
  }
}
