//! Choosing a transaction's category. Layers are tried in order of precedence and the first that
//! knows wins; its name is stored as the category source: a person's choice (`MANUAL`, kept as
//! it is by every writer), a user rule (`RULE`), the merchant dictionary (`MERCHANT`), the MCC
//! code (`MCC`), a keyword in the description (`KEYWORD`), and the direction's fallback
//! (`DEFAULT`). A credit never gets a spending category: money coming back from a shop is a
//! refund.
//!
//! Matching runs on normalised text (lower case, `ё`→`е`, punctuation as spaces) with one
//! Aho-Corasick automaton per layer, built once.

use aho_corasick::{AhoCorasick, MatchKind};

use crate::domain::{Category, CategorySource, Direction};

/// What the categoriser may look at.
#[derive(Clone, Copy, Debug)]
pub struct TransactionFacts<'a> {
    pub direction: Direction,
    pub description: &'a str,
    pub merchant: Option<&'a str>,
    pub mcc: Option<&'a str>,
}

/// Merchants and their spellings (normalised, Cyrillic and Latin).
const MERCHANTS: &[(&str, Category)] = &[
    ("пятерочка", Category::Groceries),
    ("pyaterochka", Category::Groceries),
    ("магнит", Category::Groceries),
    ("magnit", Category::Groceries),
    ("вкусвилл", Category::Groceries),
    ("vkusvill", Category::Groceries),
    ("перекресток", Category::Groceries),
    ("perekrestok", Category::Groceries),
    ("ашан", Category::Groceries),
    ("auchan", Category::Groceries),
    ("лента", Category::Groceries),
    ("дикси", Category::Groceries),
    ("азбука вкуса", Category::Groceries),
    ("metro cash", Category::Groceries),
    ("самокат", Category::Groceries),
    ("шоколадница", Category::Restaurants),
    ("вкусно и точка", Category::Restaurants),
    ("теремок", Category::Restaurants),
    ("kfc", Category::Restaurants),
    ("burger king", Category::Restaurants),
    ("бургер кинг", Category::Restaurants),
    ("starbucks", Category::Restaurants),
    ("кофе хауз", Category::Restaurants),
    ("cofix", Category::Restaurants),
    ("dodo pizza", Category::FoodDelivery),
    ("додо пицца", Category::FoodDelivery),
    ("яндекс еда", Category::FoodDelivery),
    ("yandex eda", Category::FoodDelivery),
    ("delivery club", Category::FoodDelivery),
    ("деливери клаб", Category::FoodDelivery),
    ("яндекс такси", Category::Transport),
    ("yandex taxi", Category::Transport),
    ("yandex go", Category::Transport),
    ("ситимобил", Category::Transport),
    ("uber", Category::Transport),
    ("метрополитен", Category::Transport),
    ("мосметро", Category::Transport),
    ("тройка", Category::Transport),
    ("делимобиль", Category::Transport),
    ("лукойл", Category::Auto),
    ("lukoil", Category::Auto),
    ("газпромнефть", Category::Auto),
    ("роснефть", Category::Auto),
    ("shell", Category::Auto),
    ("татнефть", Category::Auto),
    ("парковка", Category::Auto),
    ("ozon", Category::Shopping),
    ("озон", Category::Shopping),
    ("wildberries", Category::Shopping),
    ("вайлдберриз", Category::Shopping),
    ("яндекс маркет", Category::Shopping),
    ("aliexpress", Category::Shopping),
    ("м видео", Category::Shopping),
    ("мвидео", Category::Shopping),
    ("эльдорадо", Category::Shopping),
    ("dns", Category::Shopping),
    ("lamoda", Category::Shopping),
    ("спортмастер", Category::Shopping),
    ("леруа мерлен", Category::Home),
    ("leroy merlin", Category::Home),
    ("икеа", Category::Home),
    ("ikea", Category::Home),
    ("hoff", Category::Home),
    ("оби", Category::Home),
    ("петрович", Category::Home),
    ("аптека", Category::Health),
    ("ригла", Category::Health),
    ("горздрав", Category::Health),
    ("36 6", Category::Health),
    ("инвитро", Category::Health),
    ("invitro", Category::Health),
    ("стоматолог", Category::Health),
    ("летуаль", Category::Beauty),
    ("золотое яблоко", Category::Beauty),
    ("салон красоты", Category::Beauty),
    ("барбершоп", Category::Beauty),
    ("кинопоиск", Category::Subscriptions),
    ("яндекс плюс", Category::Subscriptions),
    ("yandex plus", Category::Subscriptions),
    ("ivi", Category::Subscriptions),
    ("okko", Category::Subscriptions),
    ("spotify", Category::Subscriptions),
    ("netflix", Category::Subscriptions),
    ("apple com bill", Category::Subscriptions),
    ("google play", Category::Subscriptions),
    ("синема парк", Category::Entertainment),
    ("каро", Category::Entertainment),
    ("steam", Category::Entertainment),
    ("playstation", Category::Entertainment),
    ("театр", Category::Entertainment),
    ("мтс", Category::Telecom),
    ("mts", Category::Telecom),
    ("билайн", Category::Telecom),
    ("beeline", Category::Telecom),
    ("мегафон", Category::Telecom),
    ("megafon", Category::Telecom),
    ("теле2", Category::Telecom),
    ("tele2", Category::Telecom),
    ("ростелеком", Category::Telecom),
    ("жку", Category::Utilities),
    ("мосэнергосбыт", Category::Utilities),
    ("мосводоканал", Category::Utilities),
    ("мосгаз", Category::Utilities),
    ("жилищник", Category::Utilities),
    ("skyeng", Category::Education),
    ("нетология", Category::Education),
    ("skillbox", Category::Education),
    ("аэрофлот", Category::Travel),
    ("aeroflot", Category::Travel),
    ("победа", Category::Travel),
    ("s7", Category::Travel),
    ("ржд", Category::Travel),
    ("rzd", Category::Travel),
    ("туту", Category::Travel),
    ("booking com", Category::Travel),
    ("островок", Category::Travel),
];

/// Stems in descriptions, most specific first where they overlap.
const KEYWORDS: &[(&str, Category)] = &[
    ("заработн", Category::Salary),
    ("зарплат", Category::Salary),
    ("зп за", Category::Salary),
    ("аванс", Category::Salary),
    ("salary", Category::Salary),
    ("payroll", Category::Salary),
    ("процент", Category::Interest),
    ("кэшбэк", Category::Interest),
    ("кешбэк", Category::Interest),
    ("кэшбек", Category::Interest),
    ("cashback", Category::Interest),
    ("interest", Category::Interest),
    ("возврат", Category::Refunds),
    ("refund", Category::Refunds),
    ("погашение кредит", Category::LoanPayments),
    ("платеж по кредит", Category::LoanPayments),
    ("кредит", Category::LoanPayments),
    ("ипотек", Category::LoanPayments),
    ("loan", Category::LoanPayments),
    ("mortgage", Category::LoanPayments),
    ("снятие налич", Category::Cash),
    ("наличн", Category::Cash),
    ("банкомат", Category::Cash),
    ("atm", Category::Cash),
    ("cash withdrawal", Category::Cash),
    ("налог", Category::TaxesFees),
    ("комисси", Category::TaxesFees),
    ("штраф", Category::TaxesFees),
    ("пошлин", Category::TaxesFees),
    ("fee", Category::TaxesFees),
    ("перевод", Category::TransfersOut),
    ("сбп", Category::TransfersOut),
    ("transfer", Category::TransfersOut),
    ("такси", Category::Transport),
    ("taxi", Category::Transport),
    ("метро", Category::Transport),
    ("азс", Category::Auto),
    ("бензин", Category::Auto),
    ("топливо", Category::Auto),
    ("аптек", Category::Health),
    ("клиник", Category::Health),
    ("pharmacy", Category::Health),
    ("кафе", Category::Restaurants),
    ("ресторан", Category::Restaurants),
    ("кофейн", Category::Restaurants),
    ("cafe", Category::Restaurants),
    ("restaurant", Category::Restaurants),
    ("coffee", Category::Restaurants),
    ("доставк", Category::FoodDelivery),
    ("продукт", Category::Groceries),
    ("супермаркет", Category::Groceries),
    ("подписк", Category::Subscriptions),
    ("subscription", Category::Subscriptions),
    ("связь", Category::Telecom),
    ("мобильн", Category::Telecom),
    ("интернет", Category::Telecom),
    ("коммунальн", Category::Utilities),
    ("электроэнерг", Category::Utilities),
    ("жкх", Category::Utilities),
    ("курс", Category::Education),
    ("обучени", Category::Education),
    ("школ", Category::Education),
    ("авиабилет", Category::Travel),
    ("отель", Category::Travel),
    ("гостиниц", Category::Travel),
    ("hotel", Category::Travel),
];

/// ISO 18245 codes and ranges.
fn mcc_category(mcc: u16) -> Option<Category> {
    Some(match mcc {
        5411 | 5422 | 5441 | 5451 | 5462 | 5499 => Category::Groceries,
        5812..=5814 => Category::Restaurants,
        4111 | 4121 | 4131 | 4789 => Category::Transport,
        5511 | 5521 | 5531..=5533 | 5541 | 5542 | 5983 | 7523 | 7531..=7549 => Category::Auto,
        5200 | 5211 | 5231 | 5251 | 5712 | 5713 | 5714 | 5718 | 5719 | 5722 => Category::Home,
        5912 | 5047 | 8011 | 8021 | 8031 | 8041..=8099 => Category::Health,
        5977 | 7230 | 7297 | 7298 => Category::Beauty,
        4899 | 5815 | 5817 | 5818 => Category::Subscriptions,
        5816 | 7832 | 7841 | 7922 | 7929 | 7932 | 7933 | 7941 | 7991..=7999 => {
            Category::Entertainment
        }
        4812 | 4814 | 4815 | 4816 | 4821 => Category::Telecom,
        4900 => Category::Utilities,
        8211 | 8220 | 8241 | 8244 | 8249 | 8299 | 8351 => Category::Education,
        3000..=3999 | 4112 | 4411 | 4511 | 4722 | 7011 | 7012 | 7512 => Category::Travel,
        6010 | 6011 => Category::Cash,
        9211 | 9222 | 9223 | 9311 | 9399 | 9402 => Category::TaxesFees,
        4829 | 6536 | 6537 | 6538 => Category::TransfersOut,
        5045
        | 5065
        | 5300..=5399
        | 5611..=5699
        | 5732..=5735
        | 5940..=5949
        | 5970..=5976
        | 5992..=5999 => Category::Shopping,
        _ => return None,
    })
}

/// Lower-case, `ё`→`е`, every run of non-alphanumerics as one space, padded with spaces so that
/// whole-word patterns (` мтс `) can be matched.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    let mut space = true;
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            for l in ch.to_lowercase() {
                out.push(if l == 'ё' { 'е' } else { l });
            }
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if !space {
        out.push(' ');
    }
    out
}

/// An automaton over whole-word patterns (each padded with spaces).
struct Layer {
    automaton: AhoCorasick,
    categories: Vec<Category>,
}

impl Layer {
    fn new(patterns: &[(&str, Category)], whole_words: bool) -> Option<Self> {
        let texts: Vec<String> = patterns
            .iter()
            .map(|(p, _)| {
                let n = normalize(p);
                if whole_words {
                    n
                } else {
                    n.trim_end().to_owned()
                }
            })
            .collect();
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&texts)
            .ok()?;
        Some(Layer {
            automaton,
            categories: patterns.iter().map(|(_, c)| *c).collect(),
        })
    }

    fn find(&self, normalized: &str) -> Option<Category> {
        self.automaton
            .find(normalized)
            .map(|m| self.categories[m.pattern().as_usize()])
    }
}

/// Decides categories. Built once and shared; cheap to call.
pub struct Categorizer {
    merchants: Option<Layer>,
    keywords: Option<Layer>,
}

impl Default for Categorizer {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Categorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Categorizer")
            .field("merchants", &MERCHANTS.len())
            .field("keywords", &KEYWORDS.len())
            .finish()
    }
}

/// Puts a spending category found for a credit right: money back from a shop is a refund.
fn for_direction(category: Category, direction: Direction) -> Category {
    match (category.direction(), direction) {
        (d, dir) if d == dir => category,
        (Direction::Debit, Direction::Credit) => match category {
            Category::TransfersOut => Category::TransfersIn,
            Category::LoanPayments | Category::Cash | Category::TaxesFees => Category::OtherIncome,
            _ => Category::Refunds,
        },
        (_, Direction::Debit) => match category {
            Category::TransfersIn => Category::TransfersOut,
            _ => Category::OtherExpense,
        },
        _ => Category::fallback(direction),
    }
}

impl Categorizer {
    pub fn new() -> Self {
        Categorizer {
            merchants: Layer::new(MERCHANTS, true),
            keywords: Layer::new(KEYWORDS, false),
        }
    }

    pub fn categorize(&self, facts: &TransactionFacts<'_>) -> (Category, CategorySource) {
        let direction = facts.direction;
        let description = normalize(facts.description);
        // A refund or a transfer is what it says, whoever the merchant.
        if direction == Direction::Credit {
            if let Some(c) = self.keywords.as_ref().and_then(|k| k.find(&description)) {
                if c.direction() == Direction::Credit {
                    return (c, CategorySource::Keyword);
                }
            }
        }
        let merchant = facts.merchant.map(normalize).unwrap_or_default();
        if let Some(layer) = &self.merchants {
            if let Some(c) = layer.find(&merchant).or_else(|| layer.find(&description)) {
                return (for_direction(c, direction), CategorySource::Merchant);
            }
        }
        if let Some(c) = facts
            .mcc
            .and_then(|m| m.trim().parse::<u16>().ok())
            .and_then(mcc_category)
        {
            return (for_direction(c, direction), CategorySource::Mcc);
        }
        if let Some(c) = self.keywords.as_ref().and_then(|k| k.find(&description)) {
            return (for_direction(c, direction), CategorySource::Keyword);
        }
        (Category::fallback(direction), CategorySource::Default)
    }
}

/// Whether a category may be put on a transaction of this direction.
pub fn fits_direction(category: Category, direction: Direction) -> bool {
    category.direction() == direction
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
        assert_eq!(
            cat(Debit, "Снятие наличных в банкомате", None, None),
            (Cash, S::Keyword)
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
            cat(Credit, "Перевод по СБП", None, None),
            (TransfersIn, S::Keyword)
        );
        assert_eq!(
            cat(Debit, "Перевод по СБП", None, None),
            (TransfersOut, S::Keyword)
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
        assert_eq!(cat(Direction::Debit, "Оплата МТС", None, None).0, Telecom);
        // "мтс" inside another word is not МТС.
        assert_ne!(cat(Direction::Debit, "Амтсервис", None, None).0, Telecom);
        assert_eq!(
            cat(Direction::Debit, "ДОДО ПИЦЦА", None, Some("5814")).0,
            FoodDelivery
        );
    }

    #[test]
    fn credits_never_get_spending_categories() {
        for mcc in ["5411", "5812", "4121", "5541", "5399", "6011", "4814"] {
            let (c, _) = cat(Direction::Credit, "Операция", None, Some(mcc));
            assert_eq!(c.direction(), Direction::Credit, "mcc {mcc} gave {c}");
        }
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize("Оплата: Пятёрочка!"), " оплата пятерочка ");
        assert_eq!(normalize("!!"), " ");
    }
}
