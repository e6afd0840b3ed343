// Numbers, money and dates. Money is always written the Russian way (115 038,50 ₽), whatever the
// interface language, as bank statements are; dates follow the interface language. Decimal values
// come from the API as exact strings ("115038.50"); Intl.NumberFormat formats a string without
// rounding it through a float in current browsers.
import { locale, t } from './i18n.js';

const MONEY_LOCALE = 'ru-RU';
const cache = new Map();

function formatter(key, make, loc = locale()) {
  const k = `${loc}|${key}`;
  if (!cache.has(k)) cache.set(k, make(loc));
  return cache.get(k);
}

/** 1 234 567 (counts follow the interface language) */
export function integer(n) {
  if (n === null || n === undefined) return t('none');
  return formatter('int', (l) => new Intl.NumberFormat(l, { maximumFractionDigits: 0 })).format(n);
}

/** 115 038,50 ₽ — `amount` is a Decimal string (or number), `currency` an ISO 4217 code. */
export function money(amount, currency) {
  if (amount === null || amount === undefined || amount === '') return t('none');
  let nf;
  try {
    nf = formatter(`cur:${currency}`, (l) => new Intl.NumberFormat(l, { style: 'currency', currency }), MONEY_LOCALE);
  } catch (e) {
    // Not a currency Intl knows: the plain number and the code.
    nf = null;
  }
  try {
    if (nf) return nf.format(amount);
    const plain = formatter('dec', (l) => new Intl.NumberFormat(l, { minimumFractionDigits: 2, maximumFractionDigits: 2 }), MONEY_LOCALE);
    return `${plain.format(amount)} ${currency || ''}`.trim();
  } catch (e) {
    return `${amount} ${currency || ''}`.trim();
  }
}

/** A transaction amount with its sign: debits with a minus, credits with a plus. */
export function signedMoney(amount, currency, direction) {
  const sign = direction === 'DEBIT' ? '\u2212' : '+';
  return `${sign}${money(amount, currency)}`;
}

/** A Money list (one entry per currency): ['115 038,50 ₽', '1 200,00 $'] */
export function moneyList(list) {
  return (list || []).map((m) => money(m.amount, m.currency));
}

/** 21.11.2026, 13:05 */
export function dateTime(iso) {
  if (!iso) return t('none');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return formatter('dt', (l) => new Intl.DateTimeFormat(l, { dateStyle: 'short', timeStyle: 'short' })).format(d);
}

/** +3.5 / −2 — a signed number of points. */
export function signedNumber(n) {
  const v = Number(n);
  if (!Number.isFinite(v)) return String(n);
  const s = formatter('pts', (l) => new Intl.NumberFormat(l, { maximumFractionDigits: 1 })).format(Math.abs(v));
  return v > 0 ? `+${s}` : v < 0 ? `\u2212${s}` : s;
}

/** 21.11.2026 */
export function date(iso) {
  if (!iso) return t('none');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return formatter('d', (l) => new Intl.DateTimeFormat(l, { dateStyle: 'short' })).format(d);
}

/** 120 тыс. / 1,2 млн — for chart axes. */
export function compactNumber(n) {
  const v = Number(n);
  if (!Number.isFinite(v)) return String(n);
  return formatter('compact', (l) => new Intl.NumberFormat(l, { notation: 'compact', maximumFractionDigits: 1 })).format(v);
}

/** 'YYYY-MM' → "март 2026" (or "мар." with `short`). */
export function monthLabel(month, short = false) {
  const m = /^(\d{4})-(\d{2})$/.exec(String(month || ''));
  if (!m) return String(month || '');
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 15));
  const key = short ? 'mon-short' : 'mon-long';
  return formatter(key, (l) => new Intl.DateTimeFormat(l, short
    ? { month: 'short', timeZone: 'UTC' }
    : { month: 'long', year: 'numeric', timeZone: 'UTC' })).format(d);
}

/** A share 0..1 as "35 %" / "35%". */
export function percent(share) {
  const v = Number(share);
  if (!Number.isFinite(v)) return t('none');
  return formatter('pct', (l) => new Intl.NumberFormat(l, { style: 'percent', maximumFractionDigits: 1 })).format(v);
}

/** The local calendar date of `d` as YYYY-MM-DD (for <input type=date>). */
export function isoDay(d) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** YYYY-MM-DD (local) → the RFC 3339 instant of its local midnight, `days` later. */
export function dayStart(day, days = 0) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(day || ''));
  if (!m) return null;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days).toISOString();
}

/** The exact sum of Decimal strings with at most two decimals ("12.30" + "0.75" = "13.05"). */
export function sumDecimal(values) {
  let cents = 0n;
  for (const v of values) {
    const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(v ?? '0').trim());
    if (!m) continue;
    const c = BigInt(m[2]) * 100n + BigInt((m[3] || '0').padEnd(2, '0'));
    cents += m[1] ? -c : c;
  }
  const neg = cents < 0n;
  const abs = neg ? -cents : cents;
  return `${neg ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/** Whether `tz` is an IANA time zone this browser knows ("Europe/Moscow"). */
export function validTimeZone(tz) {
  if (!tz || typeof tz !== 'string') return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz }).format(0);
    return true;
  } catch (e) {
    return false;
  }
}

/** 21.11.2026, 13:05 as the clock reads in `timeZone` (the user's zone; the browser's if unknown). */
export function dateTimeIn(iso, timeZone) {
  if (!iso) return t('none');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const zone = validTimeZone(timeZone) ? timeZone : undefined;
  return formatter(`dtz:${zone}`, (l) => new Intl.DateTimeFormat(l, { dateStyle: 'short', timeStyle: 'short', timeZone: zone })).format(d);
}

/** 21.11.2026: the day of an instant as the calendar reads in `timeZone`. */
export function dateIn(iso, timeZone) {
  if (!iso) return t('none');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const zone = validTimeZone(timeZone) ? timeZone : undefined;
  return formatter(`dz:${zone}`, (l) => new Intl.DateTimeFormat(l, { dateStyle: 'short', timeZone: zone })).format(d);
}

/** The wall-clock parts of instant `ms` in `timeZone`, as a UTC timestamp of the same reading. */
function wallClock(ms, timeZone) {
  const parts = {};
  for (const p of new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(ms)) parts[p.type] = p.value;
  return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
}

/**
 * "2026-12-07" and "18:30" read on a clock in `timeZone` → the UTC instant (RFC 3339), or null.
 * Without a time the end of that day (23:59) is meant.
 */
export function zonedToUtc(day, time, timeZone) {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(day || ''));
  const m = /^(\d{2}):(\d{2})$/.exec(String(time || '23:59'));
  if (!d || !m) return null;
  const wanted = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(m[1]), Number(m[2]));
  if (!validTimeZone(timeZone)) return new Date(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(m[1]), Number(m[2])).toISOString();
  // The zone's offset at that moment; once more in case the guess crossed an offset change.
  let guess = wanted - (wallClock(wanted, timeZone) - wanted);
  guess = wanted - (wallClock(guess, timeZone) - guess);
  return new Date(guess).toISOString();
}

/** The date (YYYY-MM-DD) and time (HH:MM) instant `iso` reads on the clock of `timeZone`. */
export function utcToZoned(iso, timeZone) {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return { date: '', time: '' };
  const wall = validTimeZone(timeZone) ? wallClock(ms, timeZone) : ms - new Date(ms).getTimezoneOffset() * 60000;
  const text = new Date(wall).toISOString();
  return { date: text.slice(0, 10), time: text.slice(11, 16) };
}

/** Today's date (YYYY-MM-DD) as the clock reads in `timeZone`. */
export function todayIn(timeZone) {
  const ms = validTimeZone(timeZone) ? wallClock(Date.now(), timeZone) : Date.now() - new Date().getTimezoneOffset() * 60000;
  return new Date(ms).toISOString().slice(0, 10);
}
