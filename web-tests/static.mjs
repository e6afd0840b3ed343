// Checks that need no browser: every GraphQL operation the app can send validates against
// schema.graphql (operations of features that are off are checked only when on), and the
// rules of web/README.md hold in the source: no HTML-string APIs, no inline script or style,
// every string in both languages.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { assert, env, log, run } from './lib/harness.mjs';

const WEB = process.env.AICRM_WEB || join(process.cwd(), '..', 'web');
const SCHEMA = process.env.AICRM_SCHEMA || join(process.cwd(), '..', 'schema.graphql');

function files(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'vendor') continue;
    if (statSync(p).isDirectory()) files(p, out);
    else out.push(p);
  }
  return out;
}

async function operations() {
  const schema = buildSchema(readFileSync(SCHEMA, 'utf8'));
  const queries = await import(join(WEB, 'queries.js'));
  const { FEATURES } = await import(join(WEB, 'features.js'));
  const gated = { SUGGESTIONS: 'assistant', ASK_STREAM: 'assistant' };
  const docs = Object.entries(queries)
    .filter(([, v]) => typeof v === 'string' && /^\s*(query|mutation|subscription)\b/.test(v))
    .concat([['clientQuery()', queries.clientQuery()]]);
  // The client page's query as the page builds it: the base plus every section's fields.
  const { CLIENT_SECTIONS } = await import(join(WEB, 'views', 'client-sections.js'));
  docs.push(['clientQuery(sections)', queries.clientQuery(CLIENT_SECTIONS.map((s) => s.fields))]);
  const failures = [];
  let checked = 0;
  for (const [name, doc] of docs) {
    if (gated[name] && !FEATURES[gated[name]]) { log(`  skipped ${name} (features.${gated[name]} is off)`); continue; }
    const errors = validate(schema, parse(doc));
    checked++;
    if (errors.length) failures.push(`${name}: ${errors.map((e) => e.message).join('; ')}`);
  }
  // The gated ones must at least parse, so turning a feature on is the only step left.
  for (const name of Object.keys(gated)) parse(queries[name]);
  assert(!failures.length, `operations that do not validate against schema.graphql:\n  ${failures.join('\n  ')}`);
  assert(checked >= 14, `only ${checked} operations found in queries.js`);
  log(`${checked} operations validate against schema.graphql`);
}

function sourceRules() {
  const problems = [];
  for (const path of files(WEB)) {
    const rel = relative(WEB, path);
    const src = readFileSync(path, 'utf8');
    if (/\.js$/.test(path) && !/^graphiql/.test(rel)) {
      const code = src.replace(/^\s*\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
      for (const [re, what] of [
        [/\.innerHTML\b|\.outerHTML\s*=|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser/, 'an HTML-string API'],
        [/\beval\s*\(|new Function\s*\(|setTimeout\(\s*['"`]/, 'code from strings'],
        [/\.style\.|setAttribute\(\s*['"]style['"]|cssText/, 'an inline style'],
        [/(?<!socket)\.on[a-z]+\s*=\s*(?!null)/, 'an on* handler property (use addEventListener / h({on}))'],
      ]) {
        if (re.test(code)) problems.push(`${rel}: ${what}`);
      }
    }
    if (/\.html$/.test(path)) {
      if (/<script(?![^>]*\bsrc=)[^>]*>/i.test(src)) problems.push(`${rel}: an inline <script>`);
      if (/<style\b/i.test(src) || /\sstyle\s*=/i.test(src)) problems.push(`${rel}: inline style`);
      if (/\son[a-z]+\s*=/i.test(src)) problems.push(`${rel}: an inline event handler`);
      if (/https?:\/\/(?!www\.w3\.org)/i.test(src)) problems.push(`${rel}: a resource from another origin`);
    }
  }
  assert(!problems.length, `web/ breaks its rules:\n  ${problems.join('\n  ')}`);
  log('web/: no HTML strings, no inline script or style, nothing from other origins');
}

async function strings() {
  const { _strings } = await import(join(WEB, 'i18n.js'));
  const ru = Object.keys(_strings.ru).sort();
  const en = Object.keys(_strings.en).sort();
  const onlyRu = ru.filter((k) => !en.includes(k));
  const onlyEn = en.filter((k) => !ru.includes(k));
  assert(!onlyRu.length && !onlyEn.length, `strings in one language only: ru ${onlyRu.join(', ')}; en ${onlyEn.join(', ')}`);
  // Every t('key') used in the code exists.
  const used = new Set();
  for (const path of files(WEB).filter((p) => p.endsWith('.js'))) {
    for (const m of readFileSync(path, 'utf8').matchAll(/\bt\(\s*'([A-Za-z_]+)'/g)) used.add(m[1]);
  }
  const missing = [...used].filter((k) => !ru.includes(k));
  assert(!missing.length, `strings used but not defined: ${missing.join(', ')}`);
  log(`${ru.length} strings in Russian and English; ${used.size} used by name`);
}

run('static', async () => {
  void env;
  await operations();
  sourceRules();
  await strings();
});
