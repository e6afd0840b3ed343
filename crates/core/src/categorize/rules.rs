//! User rules compiled into one matcher. A rule names a field (`DESCRIPTION`, `MERCHANT`,
//! `COUNTERPARTY`, `MCC` or `ANY` of the three text fields), a pattern, a category and a
//! priority.
//!
//! A text pattern is normalised like the text it is matched against (see `normalize.rs`: case,
//! `ё`, punctuation, Cyrillic/Latin spelling) and matches where a word of the field **starts**
//! with it: `перевод` matches "Переводы по СБП" and "PEREVOD", `мтс` matches "Оплата МТС" but not
//! "Амтсервис", `яндекс еда` matches "YANDEX*EDA". An MCC pattern is a code (`5812`) or an
//! inclusive range (`5811-5814`). Among the rules that match, the highest priority wins, then the
//! oldest (lowest id). A rule only applies to transactions of its category's direction: a credit
//! never gets a spending category.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::normalize::key;
use crate::domain::{Category, Direction};
use crate::error::{CoreError, CoreResult};

/// Which part of a transaction a rule looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleField {
    Description,
    Merchant,
    Counterparty,
    Mcc,
    Any,
}

impl RuleField {
    pub const ALL: &'static [RuleField] = &[
        RuleField::Description,
        RuleField::Merchant,
        RuleField::Counterparty,
        RuleField::Mcc,
        RuleField::Any,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleField::Description => "DESCRIPTION",
            RuleField::Merchant => "MERCHANT",
            RuleField::Counterparty => "COUNTERPARTY",
            RuleField::Mcc => "MCC",
            RuleField::Any => "ANY",
        }
    }

    pub fn parse(text: &str) -> CoreResult<Self> {
        RuleField::ALL
            .iter()
            .copied()
            .find(|f| f.as_str() == text)
            .ok_or_else(|| {
                CoreError::invalid(format!(
                    "unknown rule field {text:?}; expected one of: DESCRIPTION, MERCHANT, COUNTERPARTY, MCC, ANY"
                ))
            })
    }
}

/// Longest pattern a rule may have, in characters.
pub const MAX_PATTERN_CHARS: usize = 100;

/// The compiled form of a text pattern (what is searched for), or why it cannot be used.
pub fn text_pattern_key(pattern: &str) -> CoreResult<String> {
    let trimmed = pattern.trim();
    if trimmed.is_empty() {
        return Err(CoreError::invalid("pattern must not be empty"));
    }
    if trimmed.chars().count() > MAX_PATTERN_CHARS {
        return Err(CoreError::invalid(format!(
            "pattern must be at most {MAX_PATTERN_CHARS} characters"
        )));
    }
    let k = key(trimmed);
    let k = k.trim_end();
    if k.trim().is_empty() {
        return Err(CoreError::invalid(
            "pattern must contain a letter or a digit (punctuation alone matches nothing)",
        ));
    }
    Ok(k.to_owned())
}

/// An MCC pattern: `5812` or `5811-5814`.
pub fn mcc_pattern(pattern: &str) -> CoreResult<(u16, u16)> {
    let code = |s: &str| -> CoreResult<u16> {
        let s = s.trim();
        if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse::<u16>()
                .map_err(|_| CoreError::invalid("bad MCC code"))
        } else {
            Err(CoreError::invalid(format!(
                "an MCC pattern is a four-digit code (5812) or a range (5811-5814), not {pattern:?}"
            )))
        }
    };
    match pattern.split_once('-') {
        Some((lo, hi)) => {
            let (lo, hi) = (code(lo)?, code(hi)?);
            if lo > hi {
                return Err(CoreError::invalid(format!(
                    "MCC range {pattern:?} runs backwards"
                )));
            }
            Ok((lo, hi))
        }
        None => {
            let c = code(pattern)?;
            Ok((c, c))
        }
    }
}

/// One rule as the matcher needs it.
#[derive(Clone, Debug)]
pub struct RuleSpec {
    pub id: i64,
    pub pattern: String,
    pub field: RuleField,
    pub category: Category,
    pub priority: i32,
}

#[derive(Clone, Debug)]
struct Compiled {
    id: i64,
    field: RuleField,
    category: Category,
    priority: i32,
}

impl Compiled {
    /// Higher priority first, then the older rule.
    fn beats(&self, other: &Compiled) -> bool {
        (self.priority, -self.id) > (other.priority, -other.id)
    }
}

/// Which field a text is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum TextField {
    Description,
    Merchant,
    Counterparty,
}

/// The rules, compiled once per change and shared.
#[derive(Default)]
pub struct RuleSet {
    rules: Vec<Compiled>,
    automaton: Option<AhoCorasick>,
    /// Rule indexes per automaton pattern.
    by_pattern: Vec<Vec<usize>>,
    mcc: Vec<(u16, u16, usize)>,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl RuleSet {
    /// Compiles rules; a stored rule that no longer compiles is skipped with a warning.
    pub fn new(specs: &[RuleSpec]) -> Self {
        let mut set = RuleSet::default();
        let mut patterns: Vec<String> = Vec::new();
        for spec in specs {
            let idx = set.rules.len();
            if spec.field == RuleField::Mcc {
                match mcc_pattern(&spec.pattern) {
                    Ok((lo, hi)) => set.mcc.push((lo, hi, idx)),
                    Err(e) => {
                        tracing::warn!(rule = spec.id, "category rule skipped: {e}");
                        continue;
                    }
                }
            } else {
                match text_pattern_key(&spec.pattern) {
                    Ok(k) => match patterns.iter().position(|p| *p == k) {
                        Some(p) => set.by_pattern[p].push(idx),
                        None => {
                            patterns.push(k);
                            set.by_pattern.push(vec![idx]);
                        }
                    },
                    Err(e) => {
                        tracing::warn!(rule = spec.id, "category rule skipped: {e}");
                        continue;
                    }
                }
            }
            set.rules.push(Compiled {
                id: spec.id,
                field: spec.field,
                category: spec.category,
                priority: spec.priority,
            });
        }
        if !patterns.is_empty() {
            match AhoCorasick::builder()
                .kind(Some(AhoCorasickKind::DFA))
                .match_kind(MatchKind::Standard)
                .build(&patterns)
            {
                Ok(a) => set.automaton = Some(a),
                Err(e) => {
                    tracing::error!("category rules could not be compiled: {e}");
                    set.by_pattern.clear();
                }
            }
        }
        set
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// The best rule for one transaction: its id and category. `keys` are the normalised text
    /// fields (empty when absent).
    pub(super) fn find(
        &self,
        direction: Direction,
        keys: [(&str, TextField); 3],
        mcc: Option<u16>,
    ) -> Option<(i64, Category)> {
        if self.rules.is_empty() {
            return None;
        }
        fn consider<'r>(best: &mut Option<&'r Compiled>, rule: &'r Compiled, direction: Direction) {
            if rule.category.fits(direction) && best.is_none_or(|b| rule.beats(b)) {
                *best = Some(rule);
            }
        }
        let mut best: Option<&Compiled> = None;
        if let Some(automaton) = &self.automaton {
            for (text, field) in keys {
                if text.len() < 2 {
                    continue;
                }
                for m in automaton.find_overlapping_iter(text) {
                    for idx in &self.by_pattern[m.pattern().as_usize()] {
                        let rule = &self.rules[*idx];
                        let applies = match rule.field {
                            RuleField::Any => true,
                            RuleField::Description => field == TextField::Description,
                            RuleField::Merchant => field == TextField::Merchant,
                            RuleField::Counterparty => field == TextField::Counterparty,
                            RuleField::Mcc => false,
                        };
                        if applies {
                            consider(&mut best, rule, direction);
                        }
                    }
                }
            }
        }
        if let Some(code) = mcc {
            for (lo, hi, idx) in &self.mcc {
                if (*lo..=*hi).contains(&code) {
                    consider(&mut best, &self.rules[*idx], direction);
                }
            }
        }
        best.map(|r| (r.id, r.category))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_validated() {
        assert!(text_pattern_key("  ").is_err());
        assert!(text_pattern_key("!!!").is_err());
        assert!(text_pattern_key(&"я".repeat(101)).is_err());
        assert_eq!(
            text_pattern_key("Перевод").ok().as_deref(),
            Some(" perevod")
        );
        assert_eq!(mcc_pattern("5812").ok(), Some((5812, 5812)));
        assert_eq!(mcc_pattern("5811-5814").ok(), Some((5811, 5814)));
        assert!(mcc_pattern("581").is_err());
        assert!(mcc_pattern("5814-5811").is_err());
        assert!(mcc_pattern("abcd").is_err());
        assert!(RuleField::parse("ANY").is_ok());
        assert!(RuleField::parse("any").is_err());
    }
}
