//! The held-away radar's inference, as pure functions of one client's stored facts: which
//! products the client holds at banks other than the home bank, from two independent sources.
//!
//! - **Listed**: what the other banks list — product agreements (deposit, loan, credit line)
//!   and accounts that are products (savings, deposit, loan, credit card) at a linked bank.
//! - **Flows**: what the client's payments on every linked account show — a debit paired with
//!   a credit on the client's own account at another bank (a deposit top-up, a card bill, a
//!   loan repayment to the loan account), a monthly loan payment to a named lender, and an own
//!   transfer to an account no link shows whose text names the bank and the product.
//!
//! The two are reconciled: flows into a listed account belong to it; loan payments to a bank
//! that lists one loan (or credit line) of the client belong to that loan. A product seen in
//! both sources is `BOTH` (high confidence), listed only is `LISTED` (high: the bank says so),
//! flows only is `FLOWS` (medium when three or more months of steady payments, low otherwise).
//! A product whose only evidence is old (no payment within [`STALE_DAYS`]) is not reported: the
//! loan was paid off or the card closed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Duration, Utc};
use rust_decimal::Decimal;

use crate::domain::{
    normalize_for_search, AccountKind, AgreementKind, AgreementStatus, Category, Confidence,
    Currency, HeldAwayKind, HeldAwaySource, Money,
};

/// Calendar months of payments read for the flows: this one and the five before.
pub const FLOW_MONTHS: u32 = 6;

/// The first moment of the flows' window: midnight UTC on the first day of the month
/// [`FLOW_MONTHS`] − 1 months before `now`'s.
pub(crate) fn flow_window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let first = now.date_naive().with_day(1).unwrap_or(now.date_naive());
    first
        .checked_sub_months(chrono::Months::new(FLOW_MONTHS - 1))
        .unwrap_or(first)
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
}
/// A flow-only product whose newest payment is older than this is over.
pub const STALE_DAYS: i64 = 62;
/// Evidence rows kept per product (the newest).
pub const MAX_EVIDENCE_ROWS: usize = 24;

/// An account of the client, as the radar reads it.
#[derive(Clone, Debug)]
pub(crate) struct AccountFact {
    pub id: i64,
    pub bank_code: String,
    pub kind: AccountKind,
    pub currency: Currency,
    pub balance_minor: Option<i64>,
    pub open: bool,
    pub name: String,
}

/// A listed agreement of the client.
#[derive(Clone, Debug)]
pub(crate) struct AgreementFact {
    pub id: i64,
    pub bank_code: String,
    pub kind: AgreementKind,
    pub status: AgreementStatus,
    pub account_id: Option<i64>,
    pub amount: Money,
    pub rate: Option<Decimal>,
    pub ends_at: Option<DateTime<Utc>>,
    pub product_name: String,
}

/// A booked debit that may pay for a product.
#[derive(Clone, Debug)]
pub(crate) struct FlowRow {
    pub id: i64,
    pub account_id: i64,
    pub booked_at: DateTime<Utc>,
    pub amount_minor: i64,
    pub currency: Currency,
    pub category: Category,
    pub counterparty: Option<String>,
    pub description: String,
    /// The account of the paired credit (an own transfer whose other leg is stored).
    pub peer_account_id: Option<i64>,
}

/// The banks the deployment knows, to recognise them in counterparties and texts.
#[derive(Clone, Debug, Default)]
pub(crate) struct BankNames {
    banks: Vec<BankEntry>,
}

#[derive(Clone, Debug)]
struct BankEntry {
    code: String,
    name: String,
    code_key: String,
    name_key: String,
}

impl BankNames {
    pub fn new<'a>(banks: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        BankNames {
            banks: banks
                .into_iter()
                .map(|(code, name)| BankEntry {
                    code: code.to_owned(),
                    name: name.to_owned(),
                    code_key: normalize_for_search(code),
                    name_key: normalize_for_search(&strip_quotes(name)),
                })
                .collect(),
        }
    }

    /// The display name of a bank code (the code itself for a bank no longer configured).
    pub fn name(&self, code: &str) -> String {
        self.banks
            .iter()
            .find(|b| b.code == code)
            .map_or_else(|| code.to_owned(), |b| b.name.clone())
    }

    /// The code of the bank a text names: its whole name, or its code or name as a word.
    pub fn resolve(&self, text: &str) -> Option<&str> {
        let t = normalize_for_search(&strip_quotes(text));
        let words: BTreeSet<&str> = t
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        self.banks
            .iter()
            .find(|b| {
                (!b.name_key.is_empty() && contains_phrase(&t, &b.name_key))
                    || words.contains(b.code_key.as_str())
            })
            .map(|b| b.code.as_str())
    }
}

fn strip_quotes(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '«' | '»' | '"' | '\'' | '“' | '”' => ' ',
            c => c,
        })
        .collect()
}

/// Whether `phrase` occurs in `text` on word boundaries.
fn contains_phrase(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + phrase.len()..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric())
    })
}

/// The product a text names, from its words (`кредитной карте`, `вклад`, `накопительный`).
fn kind_in_text(text: &str) -> Option<HeldAwayKind> {
    let t = normalize_for_search(text);
    if t.contains("кредитн") && t.contains("карт") || t.contains("credit card") {
        Some(HeldAwayKind::CreditCard)
    } else if t.contains("вклад") || t.contains("депозит") || t.contains("deposit") {
        Some(HeldAwayKind::Deposit)
    } else if t.contains("накопит") || t.contains("savings") {
        Some(HeldAwayKind::Savings)
    } else if t.contains("кредит") || t.contains("loan") {
        Some(HeldAwayKind::Loan)
    } else {
        None
    }
}

/// The product kind of a listed account; `None` for accounts that are not products here
/// (current and card accounts: their money is in the share of wallet).
fn account_product(kind: AccountKind) -> Option<HeldAwayKind> {
    match kind {
        AccountKind::Savings => Some(HeldAwayKind::Savings),
        AccountKind::Deposit => Some(HeldAwayKind::Deposit),
        AccountKind::Loan => Some(HeldAwayKind::Loan),
        AccountKind::CreditCard => Some(HeldAwayKind::CreditCard),
        _ => None,
    }
}

fn agreement_product(kind: AgreementKind) -> Option<HeldAwayKind> {
    match kind {
        AgreementKind::Deposit => Some(HeldAwayKind::Deposit),
        AgreementKind::Loan => Some(HeldAwayKind::Loan),
        AgreementKind::CreditLine => Some(HeldAwayKind::CreditLine),
        AgreementKind::Other => None,
    }
}

/// What an amount of a held-away product is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmountBasis {
    /// The balance of its account today (what the client holds or owes).
    Balance,
    /// The agreement's principal at opening (its account is not stored).
    Principal,
}

/// A product the client holds at another bank.
#[derive(Clone, Debug, PartialEq)]
pub struct HeldAwayProduct {
    /// Stable within the client: `account:<id>`, `agreement:<id>` or `lender:<name>`.
    pub key: String,
    pub kind: HeldAwayKind,
    /// The bank's code when it is a bank the deployment knows.
    pub bank_code: Option<String>,
    /// The bank's name (the lender's name as the payments give it, for a bank not linked).
    pub bank_name: String,
    pub product_name: Option<String>,
    /// The amount held or owed, positive; `None` when no source gives one (payments only).
    pub amount: Option<Money>,
    pub amount_basis: Option<AmountBasis>,
    /// The median of the monthly sums paid into it (a loan's or card's payment, a deposit's
    /// regular top-ups), over the months payments were seen; `None` unless payments recur
    /// (two months or more): a deposit funded once has no monthly payment.
    pub monthly_flow: Option<Money>,
    /// Everything paid into it over the last [`FLOW_MONTHS`] months.
    pub paid_in: Option<Money>,
    /// Calendar months with payments into it, of the last [`FLOW_MONTHS`].
    pub months_seen: u32,
    pub interest_rate: Option<Decimal>,
    pub ends_at: Option<DateTime<Utc>>,
    pub source: HeldAwaySource,
    pub confidence: Confidence,
    /// The payments seen (newest first, at most [`MAX_EVIDENCE_ROWS`]).
    pub transaction_ids: Vec<i64>,
    pub account_ids: Vec<i64>,
    pub agreement_ids: Vec<i64>,
}

/// Payments gathered for one product.
#[derive(Default)]
struct Flows {
    rows: Vec<FlowRow>,
}

impl Flows {
    fn months(&self) -> BTreeMap<i32, i64> {
        let mut by_month: BTreeMap<i32, i64> = BTreeMap::new();
        for r in &self.rows {
            *by_month
                .entry(r.booked_at.year() * 100 + r.booked_at.month() as i32)
                .or_default() += r.amount_minor;
        }
        by_month
    }

    /// The median monthly sum (the lower middle of an even count: an amount that was paid).
    fn monthly(&self) -> Option<i64> {
        let mut sums: Vec<i64> = self.months().into_values().collect();
        sums.sort_unstable();
        (!sums.is_empty()).then(|| sums[(sums.len() - 1) / 2])
    }

    /// Whether the monthly sums stay within 15 % of each other.
    fn steady(&self) -> bool {
        let sums: Vec<i64> = self.months().into_values().collect();
        match (sums.iter().min(), sums.iter().max()) {
            (Some(&lo), Some(&hi)) if lo > 0 => hi * 100 <= lo * 115,
            _ => false,
        }
    }

    fn newest(&self) -> Option<DateTime<Utc>> {
        self.rows.iter().map(|r| r.booked_at).max()
    }

    fn ids(&self) -> Vec<i64> {
        let mut rows: Vec<&FlowRow> = self.rows.iter().collect();
        rows.sort_by(|a, b| b.booked_at.cmp(&a.booked_at).then(b.id.cmp(&a.id)));
        rows.iter().take(MAX_EVIDENCE_ROWS).map(|r| r.id).collect()
    }

    fn total(&self) -> Option<Money> {
        self.currency()
            .map(|c| Money::new(self.rows.iter().map(|r| r.amount_minor).sum(), c))
    }

    /// [`Flows::monthly`] when payments were seen in two months or more.
    fn recurring_monthly(&self) -> Option<Money> {
        (self.months().len() >= 2)
            .then(|| {
                self.monthly()
                    .zip(self.currency())
                    .map(|(m, c)| Money::new(m, c))
            })
            .flatten()
    }

    fn currency(&self) -> Option<Currency> {
        self.rows.first().map(|r| r.currency.clone())
    }
}

/// One client's facts.
pub(crate) struct ClientFacts<'a> {
    pub accounts: &'a [AccountFact],
    pub agreements: &'a [AgreementFact],
    /// Booked debits of the last [`FLOW_MONTHS`] months that may pay for a product.
    pub flows: &'a [FlowRow],
}

/// The products one client holds outside `home`, reconciled from both sources, by kind then
/// bank. A client of the home bank only has none.
pub(crate) fn infer(
    home: &str,
    banks: &BankNames,
    facts: &ClientFacts<'_>,
    now: DateTime<Utc>,
) -> Vec<HeldAwayProduct> {
    let away = |code: &str| code != home && code != crate::banks::MANUAL_BANK_CODE;
    let accounts: HashMap<i64, &AccountFact> = facts.accounts.iter().map(|a| (a.id, a)).collect();

    // Listed: agreements first (with their accounts), then product accounts without one.
    let mut listed: Vec<HeldAwayProduct> = Vec::new();
    let mut by_account: HashMap<i64, usize> = HashMap::new();
    for g in facts.agreements.iter().filter(|g| away(&g.bank_code)) {
        let Some(kind) = agreement_product(g.kind) else {
            continue;
        };
        if g.status != AgreementStatus::Active {
            continue;
        }
        let account = g.account_id.and_then(|id| accounts.get(&id).copied());
        if account.is_some_and(|a| !a.open) {
            continue;
        }
        let balance = account.and_then(|a| {
            a.balance_minor
                .map(|b| Money::new(b.saturating_abs(), a.currency.clone()))
        });
        let (amount, basis) = match balance {
            Some(b) => (b, AmountBasis::Balance),
            None => (g.amount.clone(), AmountBasis::Principal),
        };
        let key = match account {
            Some(a) => format!("account:{}", a.id),
            None => format!("agreement:{}", g.id),
        };
        if let Some(a) = account {
            by_account.insert(a.id, listed.len());
        }
        listed.push(HeldAwayProduct {
            key,
            kind,
            bank_code: Some(g.bank_code.clone()),
            bank_name: banks.name(&g.bank_code),
            product_name: Some(g.product_name.clone()),
            amount: Some(amount),
            amount_basis: Some(basis),
            monthly_flow: None,
            paid_in: None,
            months_seen: 0,
            interest_rate: g.rate,
            ends_at: g.ends_at,
            source: HeldAwaySource::Listed,
            confidence: Confidence::High,
            transaction_ids: Vec::new(),
            account_ids: account.map(|a| vec![a.id]).unwrap_or_default(),
            agreement_ids: vec![g.id],
        });
    }
    for a in facts
        .accounts
        .iter()
        .filter(|a| a.open && away(&a.bank_code))
    {
        let Some(kind) = account_product(a.kind) else {
            continue;
        };
        if by_account.contains_key(&a.id) {
            continue;
        }
        by_account.insert(a.id, listed.len());
        listed.push(HeldAwayProduct {
            key: format!("account:{}", a.id),
            kind,
            bank_code: Some(a.bank_code.clone()),
            bank_name: banks.name(&a.bank_code),
            product_name: Some(a.name.clone()),
            amount: a
                .balance_minor
                .map(|b| Money::new(b.saturating_abs(), a.currency.clone())),
            amount_basis: a.balance_minor.map(|_| AmountBasis::Balance),
            monthly_flow: None,
            paid_in: None,
            months_seen: 0,
            interest_rate: None,
            ends_at: None,
            source: HeldAwaySource::Listed,
            confidence: Confidence::High,
            transaction_ids: Vec::new(),
            account_ids: vec![a.id],
            agreement_ids: Vec::new(),
        });
    }

    // Flows, grouped by what they pay for.
    let since = flow_window_start(now);
    let mut into_listed: HashMap<usize, Flows> = HashMap::new();
    // (kind, bank code or normalised lender) → (display name, code, payments).
    let mut unlisted: BTreeMap<(HeldAwayKind, String), (String, Option<String>, Flows)> =
        BTreeMap::new();
    for r in facts
        .flows
        .iter()
        .filter(|r| r.booked_at >= since && r.booked_at <= now)
    {
        // Money leaving an account at another bank pays for nothing of ours to see here
        // unless it goes into a product (a transfer into a listed product, or a lender).
        if let Some(peer) = r.peer_account_id {
            if let Some(&i) = by_account.get(&peer) {
                into_listed.entry(i).or_default().rows.push(r.clone());
            }
            continue;
        }
        let (kind, named) = match r.category {
            Category::LoanPayments => (
                HeldAwayKind::Loan,
                r.counterparty
                    .clone()
                    .filter(|c| !c.trim().is_empty())
                    .unwrap_or_else(|| r.description.clone()),
            ),
            Category::OwnTransfer => {
                let Some(kind) = kind_in_text(&r.description) else {
                    continue;
                };
                let Some(code) = banks.resolve(&r.description) else {
                    continue;
                };
                (kind, code.to_owned())
            }
            _ => continue,
        };
        let code = banks
            .resolve(&named)
            .or_else(|| banks.resolve(&r.description))
            .map(str::to_owned);
        if code.as_deref().is_some_and(|c| !away(c)) {
            continue; // a product at the home bank
        }
        // A bank's charge on a loan or card account it keeps (the card's interest) is that
        // product's, listed as such; a repayment from a current account to the same bank is a
        // loan there.
        let charged_on_debt = accounts.get(&r.account_id).is_some_and(|a| {
            matches!(a.kind, AccountKind::CreditCard | AccountKind::Loan)
                && code.as_deref() == Some(a.bank_code.as_str())
        });
        if charged_on_debt {
            continue;
        }
        let group = code
            .clone()
            .unwrap_or_else(|| normalize_for_search(&strip_quotes(&named)));
        if group.is_empty() {
            continue;
        }
        unlisted
            .entry((kind, group))
            .or_insert_with(|| (named.trim().to_owned(), code.clone(), Flows::default()))
            .2
            .rows
            .push(r.clone());
    }

    // Loan payments to a bank that lists exactly one loan or credit line of the client (with
    // no payments of its own yet) are that product's payments.
    let mut merged: BTreeSet<(HeldAwayKind, String)> = BTreeSet::new();
    for ((kind, group), (_, code, flows)) in &unlisted {
        let Some(code) = code else { continue };
        let candidates: Vec<usize> = listed
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                p.bank_code.as_deref() == Some(code.as_str())
                    && (p.kind == *kind
                        || (*kind == HeldAwayKind::Loan && p.kind == HeldAwayKind::CreditLine))
                    && !into_listed.contains_key(i)
            })
            .map(|(i, _)| i)
            .collect();
        if let [i] = candidates[..] {
            into_listed.entry(i).or_default().rows = flows.rows.clone();
            merged.insert((*kind, group.clone()));
        }
    }

    let mut out = Vec::new();
    for (i, mut p) in listed.into_iter().enumerate() {
        if let Some(flows) = into_listed.get(&i).filter(|f| !f.rows.is_empty()) {
            p.source = HeldAwaySource::Both;
            p.months_seen = flows.months().len() as u32;
            p.monthly_flow = flows.recurring_monthly();
            p.paid_in = flows.total();
            p.transaction_ids = flows.ids();
            for r in &flows.rows {
                if !p.account_ids.contains(&r.account_id) {
                    p.account_ids.push(r.account_id);
                }
            }
        }
        out.push(p);
    }
    for ((kind, group), (named, code, flows)) in unlisted {
        if merged.contains(&(kind, group.clone())) {
            continue;
        }
        let months = flows.months().len() as u32;
        let recent = flows
            .newest()
            .is_some_and(|t| t >= now - Duration::days(STALE_DAYS));
        // A loan is paid monthly: one payment is not yet a loan. A deposit, savings or card
        // named in an own transfer's text is one from its first payment.
        let enough = match kind {
            HeldAwayKind::Loan | HeldAwayKind::CreditLine => months >= 2,
            _ => months >= 1,
        };
        if !recent || !enough {
            continue;
        }
        let confidence = if months >= 3 && flows.steady() {
            Confidence::Medium
        } else {
            Confidence::Low
        };
        let mut account_ids: Vec<i64> = flows.rows.iter().map(|r| r.account_id).collect();
        account_ids.sort_unstable();
        account_ids.dedup();
        out.push(HeldAwayProduct {
            key: format!("lender:{}:{group}", kind.as_str().to_ascii_lowercase()),
            kind,
            bank_name: code.as_deref().map_or(named, |c| banks.name(c)),
            bank_code: code,
            product_name: None,
            amount: None,
            amount_basis: None,
            monthly_flow: flows.recurring_monthly(),
            paid_in: flows.total(),
            months_seen: months,
            interest_rate: None,
            ends_at: None,
            source: HeldAwaySource::Flows,
            confidence,
            transaction_ids: flows.ids(),
            account_ids,
            agreement_ids: Vec::new(),
        });
    }
    out.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then(a.bank_name.cmp(&b.bank_name))
            .then(a.key.cmp(&b.key))
    });
    out
}

#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, m, d, 9, 0, 0)
            .single()
            .unwrap_or_default()
    }

    /// The radar over (accounts, agreements, flows) on 1 December, ABank at home.
    fn radar(
        accounts: &[AccountFact],
        agreements: &[AgreementFact],
        flows: &[FlowRow],
    ) -> Vec<HeldAwayProduct> {
        let facts = ClientFacts {
            accounts,
            agreements,
            flows,
        };
        infer("abank", &banks(), &facts, at(12, 1))
    }

    fn banks() -> BankNames {
        BankNames::new([("abank", "ABank"), ("vbank", "VBank"), ("sbank", "SBank")])
    }

    fn account(id: i64, bank: &str, kind: AccountKind, balance: i64) -> AccountFact {
        AccountFact {
            id,
            bank_code: bank.into(),
            kind,
            currency: Currency::rub(),
            balance_minor: Some(balance),
            open: true,
            name: format!("{kind:?}"),
        }
    }

    fn debit(id: i64, account: i64, when: DateTime<Utc>, amount: i64) -> FlowRow {
        FlowRow {
            id,
            account_id: account,
            booked_at: when,
            amount_minor: amount,
            currency: Currency::rub(),
            category: Category::OwnTransfer,
            counterparty: None,
            description: "Перевод между своими счетами".into(),
            peer_account_id: None,
        }
    }

    fn loan_payment(id: i64, when: DateTime<Utc>, lender: &str, amount: i64) -> FlowRow {
        FlowRow {
            category: Category::LoanPayments,
            counterparty: Some(lender.into()),
            description: "Погашение кредита по договору № 12-3456789".into(),
            ..debit(id, 1, when, amount)
        }
    }

    #[test]
    fn the_window_is_six_calendar_months() {
        assert_eq!(
            flow_window_start(at(12, 7)),
            Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0)
                .single()
                .unwrap_or_default()
        );
    }

    #[test]
    fn banks_are_recognised_by_name_or_code_as_words() {
        let b = banks();
        assert_eq!(b.resolve("VBank"), Some("vbank"));
        assert_eq!(
            b.resolve("Межбанковский перевод в sbank на счет 40817810: Перевод"),
            Some("sbank")
        );
        assert_eq!(b.resolve("ПАО «Совкомбанк»"), None);
        assert_eq!(b.resolve("vbanking"), None);
    }

    #[test]
    fn a_listed_savings_account_with_top_ups_is_seen_by_both_sources() {
        let accounts = [
            account(1, "abank", AccountKind::Current, 50_000_00),
            account(2, "vbank", AccountKind::Savings, 300_000_00),
            account(3, "vbank", AccountKind::Current, 1_000_00),
        ];
        let mut flows = Vec::new();
        for (i, m) in [9, 10, 11].into_iter().enumerate() {
            let mut r = debit(i as i64 + 10, 1, at(m, 5), 20_000_00);
            r.peer_account_id = Some(2);
            flows.push(r);
        }
        let out = radar(&accounts, &[], &flows);
        assert_eq!(out.len(), 1, "{out:?}");
        let p = &out[0];
        assert_eq!(p.kind, HeldAwayKind::Savings);
        assert_eq!(p.bank_code.as_deref(), Some("vbank"));
        assert_eq!(p.source, HeldAwaySource::Both);
        assert_eq!(p.amount.as_ref().map(|m| m.minor), Some(300_000_00));
        assert_eq!(p.monthly_flow.as_ref().map(|m| m.minor), Some(20_000_00));
        assert_eq!(p.months_seen, 3);
        assert_eq!(p.transaction_ids, vec![12, 11, 10]);
        assert_eq!(p.account_ids, vec![2, 1]);
    }

    #[test]
    fn monthly_payments_to_an_unlinked_lender_are_a_loan_from_flows_only() {
        let accounts = [account(1, "abank", AccountKind::Current, 50_000_00)];
        let flows: Vec<FlowRow> = [8, 9, 10, 11]
            .into_iter()
            .enumerate()
            .map(|(i, m)| loan_payment(i as i64, at(m, 15), "ПАО «Совкомбанк»", 12_345_00))
            .collect();
        let out = radar(&accounts, &[], &flows);
        assert_eq!(out.len(), 1);
        let p = &out[0];
        assert_eq!(p.kind, HeldAwayKind::Loan);
        assert_eq!(p.bank_code, None);
        assert_eq!(p.bank_name, "ПАО «Совкомбанк»");
        assert_eq!(p.source, HeldAwaySource::Flows);
        assert_eq!(p.confidence, Confidence::Medium);
        assert_eq!(p.amount, None, "payments alone never invent a balance");
        assert_eq!(p.monthly_flow.as_ref().map(|m| m.minor), Some(12_345_00));
        assert_eq!(p.months_seen, 4);

        // One payment is not a loan; payments that stopped months ago are a loan repaid.
        let one = &flows[3..];
        assert!(radar(&accounts, &[], one).is_empty());
        assert!(radar(&accounts, &[], &flows[..2]).is_empty());
    }

    #[test]
    fn loan_payments_to_a_bank_listing_the_loan_reconcile_with_it() {
        let accounts = [account(1, "abank", AccountKind::Current, 50_000_00)];
        let agreements = [AgreementFact {
            id: 7,
            bank_code: "vbank".into(),
            kind: AgreementKind::Loan,
            status: AgreementStatus::Active,
            account_id: None,
            amount: Money::new(600_000_00, Currency::rub()),
            rate: Some(Decimal::new(189, 1)),
            ends_at: Some(at(12, 31)),
            product_name: "Потребительский кредит".into(),
        }];
        let flows: Vec<FlowRow> = [10, 11]
            .into_iter()
            .enumerate()
            .map(|(i, m)| loan_payment(i as i64, at(m, 15), "VBank", 20_000_00))
            .collect();
        let out = radar(&accounts, &agreements, &flows);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].source, HeldAwaySource::Both);
        assert_eq!(out[0].key, "agreement:7");
        assert_eq!(out[0].amount_basis, Some(AmountBasis::Principal));
        assert_eq!(out[0].agreement_ids, vec![7]);
        assert_eq!(out[0].transaction_ids, vec![1, 0]);

        // Payments to the home bank are our own loan.
        let flows: Vec<FlowRow> = [10, 11]
            .into_iter()
            .enumerate()
            .map(|(i, m)| loan_payment(i as i64, at(m, 15), "ABank", 20_000_00))
            .collect();
        assert!(radar(&accounts, &[], &flows).is_empty());
    }

    #[test]
    fn home_products_closed_accounts_and_current_accounts_are_not_held_away() {
        let mut closed = account(4, "vbank", AccountKind::Deposit, 100_000_00);
        closed.open = false;
        let accounts = [
            account(1, "abank", AccountKind::Savings, 50_000_00),
            account(2, "vbank", AccountKind::Current, 5_000_00),
            account(3, "sbank", AccountKind::CreditCard, -12_000_00),
            closed,
        ];
        let out = radar(&accounts, &[], &[]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, HeldAwayKind::CreditCard);
        assert_eq!(out[0].amount.as_ref().map(|m| m.minor), Some(12_000_00));
        assert_eq!(out[0].source, HeldAwaySource::Listed);
    }

    #[test]
    fn a_banks_interest_on_its_own_card_account_is_no_loan_elsewhere() {
        let accounts = [
            account(1, "abank", AccountKind::Current, 50_000_00),
            account(2, "vbank", AccountKind::CreditCard, -30_000_00),
        ];
        let flows: Vec<FlowRow> = [9, 10, 11]
            .into_iter()
            .enumerate()
            .map(|(i, m)| FlowRow {
                account_id: 2,
                description: "Проценты за пользование кредитом".into(),
                ..loan_payment(i as i64, at(m, 28), "VBank", 700_00)
            })
            .collect();
        let out = radar(&accounts, &[], &flows);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].kind, HeldAwayKind::CreditCard);
        assert_eq!(out[0].source, HeldAwaySource::Listed);
    }

    #[test]
    fn an_own_transfer_naming_a_bank_and_a_product_is_one() {
        let accounts = [account(1, "abank", AccountKind::Current, 50_000_00)];
        let mut r = debit(5, 1, at(11, 20), 40_000_00);
        r.description = "Пополнение вклада в sbank, счёт 42301810****1234".into();
        let flows = [r];
        let out = radar(&accounts, &[], &flows);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, HeldAwayKind::Deposit);
        assert_eq!(out[0].bank_code.as_deref(), Some("sbank"));
        assert_eq!(out[0].confidence, Confidence::Low);
    }
}
