//! Choosing a transaction's category. The description is first split into the parts an acquirer
//! prints ([`descriptor`]: brand, sub-brand, embedded MCC, city, country, card mask, reference);
//! then layers are tried in order of precedence and the first that knows wins; its name is
//! stored as the category source:
//!
//! 1. `MANUAL` — a person's choice, kept as it is by every writer (callers never re-categorise it);
//! 2. `RULE` — a user rule ([`rules`]), highest priority first;
//! 3. `KEYWORD` — the transaction's type from the bank's own words ([`keywords::TYPES`]):
//!    transfers (to a person, own accounts, SBP, card to card), fees, fines, taxes, loan
//!    repayments, deposits opened and returned, cash, salary, benefits, purchase reversals. A
//!    brand never overrides a type: "Перевод клиенту Ozon Банка" is a transfer, "Штраф … АМПП"
//!    a fine. Card and QR purchase wording says "a purchase: read on";
//! 4. `MERCHANT` — the curated dictionary ([`dictionary`]) on the merchant field, the
//!    descriptor's sub-brand, its name, the description, the counterparty; the longest name
//!    found wins, so a sub-brand beats its parent (`MTS*KION`, `Аптека Магнит`);
//! 5. `MCC` — the code given, or the one inside the descriptor ([`mcc`], all of ISO 18245);
//! 6. `KEYWORD` — what a purchase was for ([`keywords::KEYWORDS`]), Russian and English;
//! 7. `MERCHANT` again for a misspelt merchant name one edit away ([`fuzzy`]);
//! 8. `DEFAULT` — the direction's fallback (`OTHER_INCOME` / `OTHER_EXPENSE`).
//!
//! Credits and debits never get each other's categories: a spending category found for a credit
//! becomes a refund (money back from a shop), a transfer becomes an incoming transfer.
//! `OWN_TRANSFER` (a deposit opened, topped up or paid back; "между своими счетами") fits both.
//!
//! Everything is matched on one normalised key per field ([`normalize`]) with Aho-Corasick
//! automata built once; the keys are written into per-thread buffers, so a call allocates nothing.

pub mod descriptor;
pub(crate) mod dictionary;
pub(crate) mod fuzzy;
pub(crate) mod keywords;
pub(crate) mod mcc;
pub mod normalize;
pub mod rules;

use std::cell::RefCell;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::domain::{Category, CategorySource, Direction};
use descriptor::Descriptor;
use dictionary::{MERCHANTS, NO_FUZZY};
use fuzzy::FuzzyIndex;
use keywords::{Kind, KEYWORDS, TYPES};
use mcc::mcc_category;
pub use normalize::{key, key_into};
use rules::TextField;
pub use rules::{RuleField, RuleSet, RuleSpec};

/// What the categoriser may look at.
#[derive(Clone, Copy, Debug)]
pub struct TransactionFacts<'a> {
    pub direction: Direction,
    pub description: &'a str,
    pub merchant: Option<&'a str>,
    pub mcc: Option<&'a str>,
    pub counterparty: Option<&'a str>,
}

impl<'a> TransactionFacts<'a> {
    pub fn new(direction: Direction, description: &'a str) -> Self {
        TransactionFacts {
            direction,
            description,
            merchant: None,
            mcc: None,
            counterparty: None,
        }
    }
}

/// The outcome, with the rule that decided it (when a rule did) and how sure it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub category: Category,
    pub source: CategorySource,
    pub rule_id: Option<i64>,
    /// 0 to 100: see [`confidence`].
    pub confidence: u8,
}

/// How sure a decision is, 0 to 100, from the evidence that decided it: a ranking of the layers
/// and of how directly their match names the category (a merchant field over a name found
/// somewhere in the text), not a calibrated probability. A category turned round for the
/// direction (a shop's category on a credit becoming a refund) loses [`confidence::TURNED`].
pub mod confidence {
    /// A user rule: a person said so.
    pub const RULE: u8 = 95;
    /// The merchant field names a merchant of the dictionary.
    pub const MERCHANT_FIELD: u8 = 95;
    /// The bank's own words say what kind of transaction it is.
    pub const TYPE_WORDS: u8 = 90;
    /// The descriptor's brand or sub-brand is a merchant of the dictionary.
    pub const DESCRIPTOR: u8 = 90;
    /// A merchant of the dictionary somewhere in the description.
    pub const DESCRIPTION: u8 = 85;
    /// The MCC, given or inside the descriptor.
    pub const MCC: u8 = 80;
    /// A merchant of the dictionary in the counterparty's name.
    pub const COUNTERPARTY: u8 = 75;
    /// Words of what a purchase was for.
    pub const PURCHASE_WORDS: u8 = 65;
    /// A merchant name one letter away.
    pub const FUZZY: u8 = 55;
    /// Words that fit the other direction only.
    pub const OTHER_DIRECTION: u8 = 35;
    /// Nothing matched: the direction's fallback.
    pub const DEFAULT: u8 = 10;
    /// Taken off when the category found is turned round for the direction.
    pub const TURNED: u8 = 20;
}

/// The key of a pattern as the automata search it: `word` (whole word or phrase), `stem*` (word
/// prefix) or `*stem*` (inside a word).
fn pattern_key(pattern: &str) -> String {
    let (inner, prefix) = match pattern.strip_suffix('*') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let (inner, infix) = match inner.strip_prefix('*') {
        Some(p) => (p, true),
        None => (inner, false),
    };
    let k = key(inner);
    match (infix, prefix) {
        (true, _) => k.trim().to_owned(),
        (false, true) => k.trim_end().to_owned(),
        (false, false) => k,
    }
}

/// Merchant names: the leftmost, longest name found.
struct MerchantLayer {
    automaton: AhoCorasick,
    categories: Vec<Category>,
}

impl MerchantLayer {
    fn new(entries: &[(&str, Category)]) -> Option<Self> {
        let keys: Vec<String> = entries.iter().map(|(p, _)| key(p)).collect();
        let automaton = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .match_kind(MatchKind::LeftmostLongest)
            .build(&keys)
            .ok()?;
        Some(MerchantLayer {
            automaton,
            categories: entries.iter().map(|(_, c)| *c).collect(),
        })
    }

    fn find(&self, key: &str) -> Option<Category> {
        self.find_sized(key).map(|(c, _)| c)
    }

    /// The name found, with the length of its key.
    fn find_sized(&self, key: &str) -> Option<(Category, usize)> {
        if key.len() < 3 {
            return None;
        }
        self.automaton
            .find(key)
            .map(|m| (self.categories[m.pattern().as_usize()], m.len()))
    }

    /// The longer of the names found in a descriptor's sub-brand and in its whole name (the
    /// sub-brand's on a tie): `MTS*KION` is KION's, `UBER * EATS HELP.UBER.COM` Uber Eats'.
    fn find_in_descriptor(&self, sub_brand: &str, name: &str) -> Option<Category> {
        match (self.find_sized(sub_brand), self.find_sized(name)) {
            (Some((sub, a)), Some((whole, b))) => Some(if b > a { whole } else { sub }),
            (sub, whole) => sub.or(whole).map(|(c, _)| c),
        }
    }
}

/// Both keyword lists ([`TYPES`], then [`KEYWORDS`]) in one automaton, scanned once: every match
/// is seen, and in each list the first listed wins among those that fit the direction.
struct KeywordLayer {
    automaton: AhoCorasick,
}

/// The best match of one list: the first listed one that fits the direction, and the first.
#[derive(Default, Clone, Copy)]
struct KeywordHit {
    fitting: Option<usize>,
    any: Option<usize>,
}

impl KeywordHit {
    fn see(&mut self, idx: usize, fits: bool) {
        if self.any.is_none_or(|a| idx < a) {
            self.any = Some(idx);
        }
        if fits && self.fitting.is_none_or(|f| idx < f) {
            self.fitting = Some(idx);
        }
    }
}

/// The best matches of both lists (indexes into [`TYPES`] and [`KEYWORDS`]).
#[derive(Default, Clone, Copy)]
struct KeywordHits {
    types: KeywordHit,
    keywords: KeywordHit,
}

impl KeywordLayer {
    fn new() -> Option<Self> {
        let keys: Vec<String> = TYPES
            .iter()
            .map(|(p, _)| pattern_key(p))
            .chain(KEYWORDS.iter().map(|(p, _)| pattern_key(p)))
            .collect();
        let automaton = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(&keys)
            .ok()?;
        Some(KeywordLayer { automaton })
    }

    fn scan(&self, key: &str, direction: Direction) -> KeywordHits {
        let mut hits = KeywordHits::default();
        if key.len() < 3 {
            return hits;
        }
        for m in self.automaton.find_overlapping_iter(key) {
            let idx = m.pattern().as_usize();
            match idx.checked_sub(TYPES.len()) {
                None => hits.types.see(idx, TYPES[idx].1.fits(direction)),
                Some(k) => hits.keywords.see(k, KEYWORDS[k].1.fits(direction)),
            }
        }
        hits
    }
}

/// Per-thread buffers for the normalised fields, reused by every call.
#[derive(Default)]
struct Scratch {
    description: String,
    merchant: String,
    counterparty: String,
    /// The descriptor's name (brand and sub-brand, without the MCC between them).
    name: String,
    sub_brand: String,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch {
        description: String::with_capacity(256),
        merchant: String::with_capacity(128),
        counterparty: String::with_capacity(128),
        name: String::with_capacity(128),
        sub_brand: String::with_capacity(64),
    });
}

/// Decides categories. Built once and shared; cheap to call.
pub struct Categorizer {
    merchants: Option<MerchantLayer>,
    keywords: Option<KeywordLayer>,
    fuzzy: FuzzyIndex,
}

impl Default for Categorizer {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Categorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Categorizer")
            .field("types", &TYPES.len())
            .field("merchants", &MERCHANTS.len())
            .field("keywords", &KEYWORDS.len())
            .field("fuzzy_names", &self.fuzzy.len())
            .finish()
    }
}

/// Puts a category found for the other direction right: money back from a shop is a refund.
pub fn for_direction(category: Category, direction: Direction) -> Category {
    if category.fits(direction) {
        return category;
    }
    match (category.direction(), direction) {
        (Direction::Debit, Direction::Credit) => match category {
            Category::TransfersOut => Category::TransfersIn,
            Category::LoanPayments
            | Category::Cash
            | Category::TaxesFees
            | Category::OtherExpense => Category::OtherIncome,
            _ => Category::Refunds,
        },
        (_, Direction::Debit) => match category {
            Category::TransfersIn => Category::TransfersOut,
            _ => Category::OtherExpense,
        },
        _ => Category::fallback(direction),
    }
}

/// Whether a category may be put on a transaction of this direction.
pub fn fits_direction(category: Category, direction: Direction) -> bool {
    category.fits(direction)
}

fn parse_mcc(mcc: Option<&str>) -> Option<u16> {
    let m = mcc?.trim();
    if m.len() == 4 && m.bytes().all(|b| b.is_ascii_digit()) {
        m.parse().ok()
    } else {
        None
    }
}

impl Categorizer {
    pub fn new() -> Self {
        let fuzzy = FuzzyIndex::new(
            MERCHANTS
                .iter()
                .filter(|(name, _)| !NO_FUZZY.contains(name))
                .map(|(name, c)| (key(name).trim().to_owned(), *c))
                .filter(|(k, _)| !k.contains(' ')),
        );
        Categorizer {
            merchants: MerchantLayer::new(MERCHANTS),
            keywords: KeywordLayer::new(),
            fuzzy,
        }
    }

    /// The category by the built-in layers alone (no user rules).
    pub fn categorize(&self, facts: &TransactionFacts<'_>) -> (Category, CategorySource) {
        let d = self.decide(None, facts);
        (d.category, d.source)
    }

    /// The category with user rules first.
    pub fn categorize_with(
        &self,
        rules: &RuleSet,
        facts: &TransactionFacts<'_>,
    ) -> (Category, CategorySource) {
        let d = self.decide(Some(rules), facts);
        (d.category, d.source)
    }

    /// The full decision, including which rule decided.
    pub fn decide(&self, rules: Option<&RuleSet>, facts: &TransactionFacts<'_>) -> Decision {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.decide_in(&mut scratch, rules, facts),
            // Only reachable by re-entering from inside a call: use fresh buffers.
            Err(_) => self.decide_in(&mut Scratch::default(), rules, facts),
        })
    }

    fn decide_in(
        &self,
        s: &mut Scratch,
        rules: Option<&RuleSet>,
        facts: &TransactionFacts<'_>,
    ) -> Decision {
        let direction = facts.direction;
        key_into(facts.description, &mut s.description);
        key_into(facts.merchant.unwrap_or(""), &mut s.merchant);
        key_into(facts.counterparty.unwrap_or(""), &mut s.counterparty);
        let parsed = descriptor::parse(facts.description);
        let mcc = parse_mcc(facts.mcc).or(parsed.mcc);
        let decided = |category: Category, source: CategorySource, sure: u8| {
            let fitted = for_direction(category, direction);
            Decision {
                category: fitted,
                source,
                rule_id: None,
                confidence: if fitted == category {
                    sure
                } else {
                    sure.saturating_sub(confidence::TURNED)
                },
            }
        };

        if let Some(rules) = rules {
            if let Some((id, category)) = rules.find(
                direction,
                [
                    (s.description.as_str(), TextField::Description),
                    (s.merchant.as_str(), TextField::Merchant),
                    (s.counterparty.as_str(), TextField::Counterparty),
                ],
                mcc,
            ) {
                return Decision {
                    category,
                    source: CategorySource::Rule,
                    rule_id: Some(id),
                    confidence: confidence::RULE,
                };
            }
        }

        // 3. The transaction's type from the bank's words: no brand overrides it.
        // (One scan of the description serves this layer and the purchase keywords.)
        let hits = self
            .keywords
            .as_ref()
            .map(|k| k.scan(&s.description, direction))
            .unwrap_or_default();
        let (types, hit) = (hits.types, hits.keywords);
        if let Some(Kind::Is(category)) = types.fitting.map(|idx| TYPES[idx].1) {
            return decided(category, CategorySource::Keyword, confidence::TYPE_WORDS);
        }
        // 4. The merchant: the field, then the descriptor's sub-brand and name (`MTS*KION` is
        // KION's, not MTS's), then the whole description and the counterparty.
        if let Some(layer) = &self.merchants {
            let mut found = layer
                .find(&s.merchant)
                .map(|c| (c, confidence::MERCHANT_FIELD));
            if found.is_none() {
                names_into(&parsed, s);
                found = layer
                    .find_in_descriptor(&s.sub_brand, &s.name)
                    .map(|c| (c, confidence::DESCRIPTOR))
                    .or_else(|| {
                        let c = layer.find(&s.description)?;
                        Some((c, confidence::DESCRIPTION))
                    })
                    .or_else(|| {
                        let c = layer.find(&s.counterparty)?;
                        Some((c, confidence::COUNTERPARTY))
                    });
            }
            if let Some((c, sure)) = found {
                return decided(c, CategorySource::Merchant, sure);
            }
        }
        if let Some(c) = mcc.and_then(mcc_category) {
            return decided(c, CategorySource::Mcc, confidence::MCC);
        }
        if let Some(idx) = hit.fitting {
            return decided(
                KEYWORDS[idx].1,
                CategorySource::Keyword,
                confidence::PURCHASE_WORDS,
            );
        }
        if let Some(c) = self
            .fuzzy
            .find(&s.merchant)
            .or_else(|| self.fuzzy.find(&s.description))
        {
            return decided(c, CategorySource::Merchant, confidence::FUZZY);
        }
        // Words of the other direction ("Возврат" on a debit) still say more than nothing.
        let other = hit.any.map(|idx| KEYWORDS[idx].1).or_else(|| {
            types.any.and_then(|idx| match TYPES[idx].1 {
                Kind::Is(c) => Some(c),
                Kind::Purchase => None,
            })
        });
        if let Some(c) = other {
            return decided(c, CategorySource::Keyword, confidence::OTHER_DIRECTION);
        }
        decided(
            Category::fallback(direction),
            CategorySource::Default,
            confidence::DEFAULT,
        )
    }
}

/// Writes the keys of the descriptor's sub-brand and name (brand and sub-brand without the MCC
/// between them) into the scratch buffers.
fn names_into(parts: &Descriptor<'_>, s: &mut Scratch) {
    key_into(parts.sub_brand.unwrap_or(""), &mut s.sub_brand);
    if parts.sub_brand.is_some() {
        key_into(parts.brand, &mut s.name);
        s.name.push_str(s.sub_brand.get(1..).unwrap_or(""));
    } else {
        key_into(parts.name, &mut s.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(
        direction: Direction,
        description: &str,
        merchant: Option<&str>,
        mcc: Option<&str>,
    ) -> (Category, CategorySource) {
        Categorizer::new().categorize(&TransactionFacts {
            direction,
            description,
            merchant,
            mcc,
            counterparty: None,
        })
    }

    #[test]
    fn each_layer_in_order_of_precedence() {
        use Category::*;
        use CategorySource as S;
        use Direction::{Credit, Debit};
        assert_eq!(
            cat(Debit, "Оплата: Пятёрочка", Some("Пятёрочка"), Some("5411")),
            (Groceries, S::Merchant)
        );
        // The dictionary beats a generic MCC: Яндекс Еда is delivery though coded 5812.
        assert_eq!(
            cat(Debit, "Оплата", Some("Яндекс Еда"), Some("5812")),
            (FoodDelivery, S::Merchant)
        );
        assert_eq!(
            cat(
                Debit,
                "Оплата: ООО Ромашка",
                Some("ООО Ромашка"),
                Some("5812")
            ),
            (Restaurants, S::Mcc)
        );
        assert_eq!(
            cat(Debit, "Оплата покупки", None, Some("4121")),
            (Transport, S::Mcc)
        );
        // MCC beats a keyword.
        assert_eq!(
            cat(Debit, "Оплата такси", None, Some("5411")),
            (Groceries, S::Mcc)
        );
        assert_eq!(
            cat(Debit, "Снятие наличных в банкомате", None, None),
            (Cash, S::Keyword)
        );
        assert_eq!(
            cat(Debit, "Оплата: Перекрестог", None, None),
            (Groceries, S::Merchant)
        );
        assert_eq!(
            cat(Debit, "Что-то непонятное", None, None),
            (OtherExpense, S::Default)
        );
        assert_eq!(
            cat(Credit, "Заработная плата за октябрь", None, None),
            (Salary, S::Keyword)
        );
        assert_eq!(
            cat(Credit, "Возврат: OZON", Some("Ozon"), Some("5399")),
            (Refunds, S::Keyword)
        );
        assert_eq!(
            cat(Credit, "Оплата: OZON", Some("Ozon"), Some("5399")),
            (Refunds, S::Merchant)
        );
        assert_eq!(
            cat(Credit, "Перевод по СБП", None, None),
            (TransfersIn, S::Keyword)
        );
        assert_eq!(
            cat(Debit, "Перевод по СБП", None, None),
            (TransfersOut, S::Keyword)
        );
        // A person whose name is also a shop's.
        assert_eq!(
            cat(Debit, "Перевод по СБП Виктория С.", None, None),
            (TransfersOut, S::Keyword)
        );
        assert_eq!(
            cat(Debit, "SBP transfer to Victoria S.", None, None),
            (TransfersOut, S::Keyword)
        );
        assert_eq!(
            cat(Credit, "Перевод по СБП от Виктория С.", None, None),
            (TransfersIn, S::Keyword)
        );
        // A purchase paid through SBP is still the shop's.
        assert_eq!(
            cat(Debit, "Оплата СБП QR Виктория", None, None),
            (Groceries, S::Merchant)
        );
        assert_eq!(
            cat(Credit, "Выплата процентов по вкладу", None, None),
            (Interest, S::Keyword)
        );
        assert_eq!(
            cat(Credit, "Поступление", None, None),
            (OtherIncome, S::Default)
        );
    }

    #[test]
    fn keyword_precedence_follows_the_direction() {
        use Category::*;
        use Direction::{Credit, Debit};
        assert_eq!(cat(Debit, "Комиссия за перевод", None, None).0, TaxesFees);
        assert_eq!(
            cat(Debit, "Погашение процентов по кредиту", None, None).0,
            LoanPayments
        );
        assert_eq!(cat(Debit, "Кредит наличными", None, None).0, LoanPayments);
        assert_eq!(cat(Credit, "Кэшбэк: Пятёрочка", None, None).0, Interest);
        assert_eq!(cat(Credit, "Возврат налога", None, None).0, OtherIncome);
        assert_eq!(cat(Credit, "Внесение наличных", None, None).0, OtherIncome);
    }

    #[test]
    fn spellings_scripts_and_word_boundaries() {
        use Category::*;
        assert_eq!(
            cat(Direction::Debit, "YANDEX*TAXI MOSCOW", None, None).0,
            Transport
        );
        assert_eq!(
            cat(Direction::Debit, "ВКУСВИЛЛ 123", None, None).0,
            Groceries
        );
        assert_eq!(
            cat(Direction::Debit, "PYATEROCHKA 1234 MOSCOW RUS", None, None).0,
            Groceries
        );
        assert_eq!(cat(Direction::Debit, "Оплата МТС", None, None).0, Telecom);
        // "мтс" inside another word is not МТС.
        assert_ne!(cat(Direction::Debit, "Амтсервис", None, None).0, Telecom);
        assert_eq!(
            cat(Direction::Debit, "ДОДО ПИЦЦА", None, Some("5814")).0,
            FoodDelivery
        );
        assert_eq!(
            cat(Direction::Debit, "Оплата: Zara Home", None, None).0,
            Home
        );
        assert_eq!(
            cat(Direction::Debit, "Оплата: Zara", None, None).0,
            Shopping
        );
        assert_eq!(
            cat(Direction::Debit, "SBOL perevod", None, None).0,
            TransfersOut
        );
    }

    /// Each line, with neither merchant field nor MCC, gets its category.
    fn expect(cases: &[(Direction, &str, Category)]) {
        let c = Categorizer::new();
        for &(direction, description, expected) in cases {
            let (got, source) = c.categorize(&TransactionFacts::new(direction, description));
            assert_eq!(got, expected, "{description} ({source})");
        }
    }

    #[test]
    fn the_transactions_type_comes_before_any_brand() {
        use Category::*;
        use Direction::{Credit, Debit};
        expect(&[
            // A person at a bank that carries a marketplace's name; a fine collected by a
            // parking operator; a loan at a telecom's bank; a housing document at a МФЦ.
            (Debit, "Перевод клиенту Ozon Банка Иван И.", TransfersOut),
            (Debit, "Штраф за неоплату парковки АМПП", TaxesFees),
            (Debit, "Погашение кредита МТС Банк", LoanPayments),
            (Debit, "Оплата ЕПД ГБУ МФЦ", Utilities),
            // Purchase wording lets the merchant decide: "СБП" in a QR purchase is no transfer.
            (Debit, "Оплата по QR-коду СБП. Кафе Встреча", Restaurants),
            // Debts between people are transfers either way, not loans or refunds.
            (Debit, "Возврат долга Сергей Н.", TransfersOut),
            (Credit, "Возврат займа от Петрова А.", TransfersIn),
            (Credit, "Зачисление з/п за октябрь", Salary),
        ]);
    }

    #[test]
    fn only_a_purchase_reversal_is_a_refund() {
        use Category::*;
        use Direction::{Credit, Debit};
        expect(&[
            (Credit, "Возврат покупки OZON.RU MOSCOW RUS", Refunds),
            (Credit, "Возврат вклада по договору", OwnTransfer),
            (Debit, "Пополнение вклада Накопительный", OwnTransfer),
            (
                Credit,
                "Выплата процентов по вкладу Лучший процент",
                Interest,
            ),
            (Credit, "Выплата продавцу Ozon", OtherIncome),
            (Credit, "Возврат долга от Сергей П.", TransfersIn),
            // Own-account transfers stay transfers: the ledger pairs their legs.
            (Debit, "Перевод между своими счетами", TransfersOut),
        ]);
    }

    #[test]
    fn acquirer_descriptors_sub_brands_and_embedded_mccs() {
        use Category::*;
        use Direction::Debit;
        expect(&[
            (Debit, "UBER *TRIP HELP.UBER.COM NLD", Transport),
            (Debit, "UBER * EATS PENDING AMSTERDAM NLD", FoodDelivery),
            (Debit, "MTS*KION MOSCOW RUS", Subscriptions),
            (Debit, "Покупка. APTEKA MAGNIT 22 ROSTOV RUS", Health),
            // The city is no merchant: "PERM" and "RUS" say nothing.
            (Debit, "OOO VEKTOR 12 PERM RUS", OtherExpense),
            // "Ремонт" on a shoe repair is no home repair; "билет" on a commuter train no show.
            (Debit, "Ремонт обуви ИП Арутюнян", OtherExpense),
            (Debit, "Оплата ЦППК билет на электричку", Transport),
        ]);
        // An MCC between the stars, for a brand the dictionary does not know.
        assert_eq!(
            cat(Debit, "ROMASHKA*7349*SERVIS MOSCOW RUS", None, None),
            (Home, CategorySource::Mcc)
        );
    }

    #[test]
    fn confidence_follows_the_evidence() {
        let c = Categorizer::new();
        let sure = |direction, description, merchant| {
            c.decide(
                None,
                &TransactionFacts {
                    merchant,
                    ..TransactionFacts::new(direction, description)
                },
            )
            .confidence
        };
        use Direction::{Credit, Debit};
        let field = sure(Debit, "Оплата", Some("Пятёрочка"));
        let descriptor = sure(Debit, "PYATEROCHKA 6312 SAMARA RUS", None);
        let keyword = sure(Debit, "Оплата в кафе у дома", None);
        let nothing = sure(Debit, "Что-то непонятное", None);
        assert!(field > descriptor && descriptor > keyword && keyword > nothing);
        assert_eq!(
            sure(Debit, "Перевод по СБП Ольга Л.", None),
            confidence::TYPE_WORDS
        );
        // A shop's money back is a refund, less surely than the shop is a shop.
        assert_eq!(
            sure(Credit, "PYATEROCHKA 6312 SAMARA RUS", None),
            confidence::DESCRIPTOR - confidence::TURNED
        );
    }

    #[test]
    fn credits_never_get_spending_categories() {
        let c = Categorizer::new();
        for mcc in (3000u16..=9999).step_by(7) {
            let code = mcc.to_string();
            for desc in ["Операция", "Оплата: Пятёрочка", "Комиссия", "Перевод"]
            {
                let (cat, _) = c.categorize(&TransactionFacts {
                    direction: Direction::Credit,
                    description: desc,
                    merchant: None,
                    mcc: Some(&code),
                    counterparty: None,
                });
                assert_eq!(
                    cat.direction(),
                    Direction::Credit,
                    "{desc} {code} gave {cat}"
                );
                let (cat, _) = c.categorize(&TransactionFacts {
                    direction: Direction::Debit,
                    description: desc,
                    merchant: None,
                    mcc: Some(&code),
                    counterparty: None,
                });
                assert_eq!(
                    cat.direction(),
                    Direction::Debit,
                    "{desc} {code} gave {cat}"
                );
            }
        }
    }

    #[test]
    fn rules_come_first_and_respect_direction_and_priority() {
        use Category::*;
        let c = Categorizer::new();
        let rules = RuleSet::new(&[
            RuleSpec {
                id: 1,
                pattern: "пятерочка".into(),
                field: RuleField::Any,
                category: Restaurants,
                priority: 0,
            },
            RuleSpec {
                id: 2,
                pattern: "пятерочка".into(),
                field: RuleField::Merchant,
                category: Home,
                priority: 5,
            },
            RuleSpec {
                id: 3,
                pattern: "5411".into(),
                field: RuleField::Mcc,
                category: Health,
                priority: 1,
            },
            RuleSpec {
                id: 4,
                pattern: "Иванов".into(),
                field: RuleField::Counterparty,
                category: Salary,
                priority: 0,
            },
        ]);
        let facts = |direction, description, merchant, mcc, counterparty| TransactionFacts {
            direction,
            description,
            merchant,
            mcc,
            counterparty,
        };
        // Merchant-field rule with the higher priority wins.
        let d = c.decide(
            Some(&rules),
            &facts(
                Direction::Debit,
                "Оплата",
                Some("PYATEROCHKA"),
                Some("5411"),
                None,
            ),
        );
        assert_eq!(
            (d.category, d.source, d.rule_id),
            (Home, CategorySource::Rule, Some(2))
        );
        // In the description only the ANY rule applies; the MCC rule has a higher priority.
        let d = c.decide(
            Some(&rules),
            &facts(
                Direction::Debit,
                "Оплата Пятёрочка",
                None,
                Some("5411"),
                None,
            ),
        );
        assert_eq!(d.rule_id, Some(3));
        let d = c.decide(
            Some(&rules),
            &facts(Direction::Debit, "Оплата Пятёрочка", None, None, None),
        );
        assert_eq!(d.rule_id, Some(1));
        // A spending rule never applies to a credit; the built-in layers decide.
        let d = c.decide(
            Some(&rules),
            &facts(
                Direction::Credit,
                "Возврат Пятёрочка",
                None,
                Some("5411"),
                None,
            ),
        );
        assert_eq!((d.category, d.source), (Refunds, CategorySource::Keyword));
        let d = c.decide(
            Some(&rules),
            &facts(
                Direction::Credit,
                "Перевод",
                None,
                None,
                Some("Иванов И. И."),
            ),
        );
        assert_eq!((d.category, d.rule_id), (Salary, Some(4)));
        // Word starts only.
        let d = c.decide(
            Some(&rules),
            &facts(Direction::Credit, "Перевод", None, None, Some("Сиванов")),
        );
        assert_eq!(d.rule_id, None);
    }
}
