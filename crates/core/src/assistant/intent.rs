//! Reading a manager's question: its language, what is asked (the intent), about which category
//! and which period. Russian and English, tolerant of word forms (stems, not whole words) and of
//! `ё`. Pure functions of the text and the current time, so they are tested exhaustively.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

use super::Language;
use crate::domain::{normalize_for_search, Category, Grade};

/// What the question asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    /// A short portrait: balances, rating, cashflow, top categories.
    Overview,
    /// The structure of spending in a period.
    Spending,
    /// Spending in one category in a period.
    CategorySpend,
    /// Income and how regular it is.
    Income,
    /// Balances on accounts and how much the client saves.
    Balances,
    /// One month against another.
    Comparison,
    /// Income, spending and net month by month.
    Cashflow,
    /// The grade, the score and the factors behind them.
    Rating,
    /// Regular payments (subscriptions, utilities, loans).
    Recurring,
    /// What to offer the client.
    Offers,
}

impl Intent {
    pub const ALL: &'static [Intent] = &[
        Intent::Overview,
        Intent::Spending,
        Intent::CategorySpend,
        Intent::Income,
        Intent::Balances,
        Intent::Comparison,
        Intent::Cashflow,
        Intent::Rating,
        Intent::Recurring,
        Intent::Offers,
    ];
}

/// A range of time `[from, to)` and how to name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub kind: PeriodKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodKind {
    Month {
        year: i32,
        month: u32,
    },
    /// The last `n` days up to and including today.
    LastDays(u32),
    Year(i32),
    YearToDate(i32),
}

/// Everything read from one question.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub language: Language,
    pub intent: Option<Intent>,
    pub category: Option<Category>,
    pub period: Option<Period>,
    /// Months named in the question, in the order named (for comparisons).
    pub months: Vec<(i32, u32)>,
    /// A grade the question mentions ("why is the rating B?").
    pub grade: Option<Grade>,
    /// A short follow-up ("and in April?") that continues the previous question.
    pub follow_up: bool,
}

/// Russian when the question has at least as many Cyrillic letters as Latin ones.
pub fn language(text: &str) -> Language {
    let (mut cyr, mut lat) = (0usize, 0usize);
    for c in text.chars() {
        if ('\u{400}'..='\u{4ff}').contains(&c) {
            cyr += 1;
        } else if c.is_ascii_alphabetic() {
            lat += 1;
        }
    }
    if lat > cyr {
        Language::En
    } else {
        Language::Ru
    }
}

fn words(normalized: &str) -> Vec<&str> {
    normalized
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

fn any_stem(words: &[&str], stems: &[&str]) -> bool {
    words.iter().any(|w| stems.iter().any(|s| w.starts_with(s)))
}

fn any_word(words: &[&str], exact: &[&str]) -> bool {
    words.iter().any(|w| exact.contains(w))
}

fn any_phrase(text: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| text.contains(p))
}

const RATING: &[&str] = &[
    "рейтинг",
    "скоринг",
    "rating",
    "grade",
    "scoring",
    "score",
    "балл",
];
const OFFERS: &[&str] = &[
    "предлож",
    "предлага",
    "рекоменд",
    "продать",
    "допрода",
    "offer",
    "recommend",
    "sell",
    "upsell",
    "cross",
];
const RECURRING: &[&str] = &[
    "регулярн",
    "автоплат",
    "ежемесячн",
    "recurring",
    "autopay",
    "standing",
    "обязательн",
];
const INCOME: &[&str] = &[
    "доход",
    "заработ",
    "зарплат",
    "поступлен",
    "получа",
    "income",
    "salary",
    "salaries",
    "earn",
    "paycheck",
    "wage",
];
const EXPENSE: &[&str] = &[
    "расход",
    "трат",
    "потрат",
    "тратит",
    "spend",
    "spent",
    "expens",
    "expenditure",
    "outgo",
];
const CASHFLOW_PHRASES: &[&str] = &[
    "денежный поток",
    "денежного потока",
    "денежном потоке",
    "движение денег",
    "движение средств",
    "cashflow",
    "cash flow",
];
const COMPARISON: &[&str] = &[
    "сравн",
    "измен",
    "динамик",
    "вырос",
    "выросл",
    "снизил",
    "сократил",
    "увеличил",
    "уменьшил",
    "compar",
    "versus",
    "chang",
    "trend",
    "grew",
    "increas",
    "decreas",
    "dropp",
];
const BALANCES: &[&str] = &[
    "баланс",
    "остат",
    "сбереж",
    "накоплен",
    "накопил",
    "копит",
    "откладыва",
    "счета",
    "счетах",
    "balance",
    "saving",
    "save",
    "accounts",
];
const OVERVIEW: &[&str] = &[
    "анализ",
    "проанализ",
    "обзор",
    "сводк",
    "расскаж",
    "профил",
    "портрет",
    "картин",
    "analy",
    "overview",
    "summary",
    "summar",
    "profile",
    "picture",
    "portrait",
];

/// Stems and phrases that name each category, besides its own Russian and English names.
const CATEGORY_WORDS: &[(Category, &[&str])] = &[
    (
        Category::Restaurants,
        &[
            "ресторан",
            "кафе",
            "кофейн",
            "restaurant",
            "cafe",
            "café",
            "dining",
            "eating out",
        ],
    ),
    (
        Category::FoodDelivery,
        &["доставк", "delivery", "deliveries"],
    ),
    (
        Category::Groceries,
        &[
            "продукт",
            "супермаркет",
            "магазин продукт",
            "grocer",
            "supermarket",
        ],
    ),
    (
        Category::Transport,
        &[
            "транспорт",
            "такси",
            "метро",
            "проезд",
            "transport",
            "taxi",
            "metro",
            "transit",
        ],
    ),
    (
        Category::Auto,
        &[
            "автомоб",
            "машин",
            "бензин",
            "топлив",
            "парковк",
            "fuel",
            "petrol",
            "parking",
            "car",
        ],
    ),
    (
        Category::Shopping,
        &[
            "покупк",
            "шопинг",
            "одежд",
            "маркетплейс",
            "shopping",
            "clothes",
            "marketplace",
        ],
    ),
    (
        Category::Home,
        &["ремонт", "мебел", "дом", "home", "furniture", "household"],
    ),
    (
        Category::Health,
        &[
            "здоров",
            "аптек",
            "медицин",
            "врач",
            "клиник",
            "health",
            "pharmac",
            "medic",
            "doctor",
            "clinic",
        ],
    ),
    (
        Category::Beauty,
        &["красот", "салон", "косметик", "beauty", "salon", "cosmetic"],
    ),
    (
        Category::Entertainment,
        &[
            "развлеч",
            "кино",
            "театр",
            "концерт",
            "entertainment",
            "cinema",
            "movie",
            "concert",
        ],
    ),
    (Category::Subscriptions, &["подписк", "subscription"]),
    (
        Category::Telecom,
        &[
            "связь",
            "связи",
            "мобильн",
            "интернет",
            "telecom",
            "mobile",
            "internet",
        ],
    ),
    (
        Category::Utilities,
        &["жкх", "коммунал", "квартплат", "utilit"],
    ),
    (
        Category::Education,
        &[
            "образован",
            "обучен",
            "курсы",
            "школ",
            "education",
            "course",
            "school",
            "tuition",
        ],
    ),
    (
        Category::Travel,
        &[
            "путешеств",
            "отел",
            "гостиниц",
            "авиа",
            "билет",
            "travel",
            "hotel",
            "flight",
            "airline",
        ],
    ),
    (
        Category::Cash,
        &["наличн", "банкомат", "снятие", "cash", "atm", "withdraw"],
    ),
    (
        Category::LoanPayments,
        &["кредит", "ипотек", "займ", "loan", "mortgage"],
    ),
    (
        Category::TaxesFees,
        &["налог", "комисс", "штраф", "tax", "taxes", "fee", "fine"],
    ),
    (Category::TransfersOut, &["перевод", "transfer"]),
    (
        Category::OtherExpense,
        &["прочие расходы", "прочих расход", "other expense"],
    ),
];

/// Finds the category the question is about: the taxonomy's own names first (longest first),
/// then the stems above. Short English stems match whole words only.
pub fn category(normalized: &str, words: &[&str]) -> Option<Category> {
    let mut names: Vec<(Category, String)> = Vec::new();
    for c in Category::ALL {
        if c.direction() != crate::domain::Direction::Debit || !c.is_flow() {
            continue;
        }
        let (ru, en) = c.names();
        names.push((*c, normalize_for_search(ru)));
        names.push((*c, normalize_for_search(en)));
    }
    names.sort_by_key(|(_, n)| std::cmp::Reverse(n.len()));
    if let Some((c, _)) = names.iter().find(|(_, n)| contains_words(normalized, n)) {
        return Some(*c);
    }
    for (c, stems) in CATEGORY_WORDS {
        for stem in *stems {
            let hit = if stem.contains(' ') {
                normalized.contains(stem)
            } else if stem.is_ascii() && stem.len() <= 4 {
                words.iter().any(|w| w == stem || *w == format!("{stem}s"))
            } else {
                words.iter().any(|w| w.starts_with(stem))
            };
            if hit {
                // «продукты банка» are bank products, not groceries.
                if *c == Category::Groceries && words.iter().any(|w| w.starts_with("банк")) {
                    continue;
                }
                return Some(*c);
            }
        }
    }
    None
}

/// Whether `phrase` occurs in `text` as whole words.
fn contains_words(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(i, m)| {
        let before = text[..i].chars().next_back();
        let after = text[i + m.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

fn month_of_word(word: &str, previous: Option<&str>, next: Option<&str>) -> Option<u32> {
    const RU: [&str; 12] = [
        "январ",
        "феврал",
        "март",
        "апрел",
        "",
        "июн",
        "июл",
        "август",
        "сентябр",
        "октябр",
        "ноябр",
        "декабр",
    ];
    if ["май", "мая", "мае", "маю"].contains(&word) {
        return Some(5);
    }
    if let Some(i) = RU.iter().position(|s| !s.is_empty() && word.starts_with(s)) {
        return Some(i as u32 + 1);
    }
    const EN: [(&str, &str); 12] = [
        ("january", "jan"),
        ("february", "feb"),
        ("march", "mar"),
        ("april", "apr"),
        ("may", "may"),
        ("june", "jun"),
        ("july", "jul"),
        ("august", "aug"),
        ("september", "sep"),
        ("october", "oct"),
        ("november", "nov"),
        ("december", "dec"),
    ];
    let i = EN.iter().position(|(full, short)| {
        word == *full || word == *short || (*short == "sep" && word == "sept")
    })?;
    if i == 4 {
        // "may" is a month only where a month fits: "in May", "May 2025", "April and May".
        let fits = previous.is_some_and(|p| {
            [
                "in", "for", "during", "since", "of", "from", "to", "and", "vs", "versus", "until",
                "through",
            ]
            .contains(&p)
        }) || next
            .is_some_and(|n| n.len() == 4 && n.chars().all(|c| c.is_ascii_digit()));
        if !fits {
            return None;
        }
    }
    Some(i as u32 + 1)
}

fn year_of_word(word: &str) -> Option<i32> {
    if word.len() == 4 && word.chars().all(|c| c.is_ascii_digit()) {
        let y: i32 = word.parse().ok()?;
        if (2000..=2100).contains(&y) {
            return Some(y);
        }
    }
    None
}

fn start_of_month(year: i32, month: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .unwrap_or_else(Utc::now)
}

fn next_month(year: i32, month: u32) -> (i32, u32) {
    if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

pub fn previous_month(year: i32, month: u32) -> (i32, u32) {
    if month == 1 {
        (year - 1, 12)
    } else {
        (year, month - 1)
    }
}

/// The calendar month as a period.
pub fn month_period(year: i32, month: u32) -> Period {
    let (ny, nm) = next_month(year, month);
    Period {
        from: start_of_month(year, month),
        to: start_of_month(ny, nm),
        kind: PeriodKind::Month { year, month },
    }
}

fn start_of_day(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// The last `days` days including today: `[today - (days-1), tomorrow)`.
pub fn last_days(now: DateTime<Utc>, days: u32) -> Period {
    let today = now.date_naive();
    let from = today - Duration::days(i64::from(days.max(1)) - 1);
    Period {
        from: start_of_day(from),
        to: start_of_day(today + Duration::days(1)),
        kind: PeriodKind::LastDays(days.max(1)),
    }
}

fn small_number(word: &str) -> Option<u32> {
    if let Ok(n) = word.parse::<u32>() {
        // Years ("за 2024 год") are not counts.
        return (1..=999).contains(&n).then_some(n);
    }
    Some(match word {
        "один" | "one" => 1,
        "два" | "две" | "двух" | "two" => 2,
        "три" | "трех" | "three" => 3,
        "четыре" | "четырех" | "four" => 4,
        "пять" | "пяти" | "five" => 5,
        "шесть" | "шести" | "six" => 6,
        "девять" | "nine" => 9,
        "десять" | "ten" => 10,
        "двенадцать" | "twelve" => 12,
        _ => return None,
    })
}

/// The month a name refers to: this year's, unless that is still ahead (then last year's).
fn resolve_month(month: u32, year: Option<i32>, now: DateTime<Utc>) -> (i32, u32) {
    match year {
        Some(y) => (y, month),
        None if month > now.month() => (now.year() - 1, month),
        None => (now.year(), month),
    }
}

fn relative_period(text: &str, words: &[&str], now: DateTime<Utc>) -> Option<Period> {
    let (y, m) = (now.year(), now.month());
    if any_phrase(
        text,
        &[
            "этом месяце",
            "этот месяц",
            "текущем месяце",
            "текущий месяц",
            "this month",
            "current month",
        ],
    ) {
        return Some(month_period(y, m));
    }
    if any_phrase(
        text,
        &[
            "прошлом месяце",
            "прошлый месяц",
            "прошлого месяца",
            "предыдущем месяце",
            "предыдущий месяц",
            "last month",
            "previous month",
            "past month",
        ],
    ) {
        let (py, pm) = previous_month(y, m);
        return Some(month_period(py, pm));
    }
    if any_phrase(
        text,
        &[
            "этом году",
            "этого года",
            "текущем году",
            "this year",
            "year to date",
            "ytd",
        ],
    ) {
        return Some(Period {
            from: start_of_month(y, 1),
            to: last_days(now, 1).to,
            kind: PeriodKind::YearToDate(y),
        });
    }
    if any_phrase(
        text,
        &[
            "прошлом году",
            "прошлый год",
            "прошлого года",
            "last year",
            "previous year",
        ],
    ) {
        return Some(Period {
            from: start_of_month(y - 1, 1),
            to: start_of_month(y, 1),
            kind: PeriodKind::Year(y - 1),
        });
    }
    // "за последние 3 месяца", "last 30 days", "past two weeks".
    for (i, w) in words.iter().enumerate() {
        let unit_days = if w.starts_with("дн") || w.starts_with("ден") || w.starts_with("day")
        {
            1
        } else if w.starts_with("недел") || w.starts_with("week") {
            7
        } else if w.starts_with("месяц") || w.starts_with("month") {
            30
        } else if *w == "год" || *w == "года" || *w == "лет" || w.starts_with("year") {
            365
        } else {
            continue;
        };
        if i > 0 && year_of_word(words[i - 1]).is_some() {
            continue;
        }
        let n = if i > 0 {
            small_number(words[i - 1])
        } else {
            None
        };
        let recent = words[..i]
            .iter()
            .rev()
            .take(3)
            .any(|p| p.starts_with("последн") || ["last", "past", "за"].contains(p));
        if n.is_none() && !recent {
            continue;
        }
        let n = n.unwrap_or(1);
        let days = if unit_days == 30 {
            n * 30
        } else {
            n * unit_days
        };
        return Some(last_days(now, days.min(3660)));
    }
    if any_word(words, &["квартал", "quarter"]) {
        return Some(last_days(now, 90));
    }
    None
}

/// A grade letter the question names next to the word for rating ("rating B", "a B rating",
/// «рейтинг В» with a Cyrillic letter), or as its last word.
fn grade_named(question: &str) -> Option<Grade> {
    let tokens: Vec<&str> = question
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect();
    let is_rating_word = |t: &str| {
        let t = t.to_lowercase();
        [
            "рейтинг",
            "rating",
            "grade",
            "класс",
            "оценк",
            "группа",
            "категори",
        ]
        .iter()
        .any(|s| t.starts_with(s))
    };
    tokens.iter().enumerate().find_map(|(i, t)| {
        let grade = match *t {
            "A" | "А" => Grade::A,
            "B" | "В" => Grade::B,
            "C" | "С" => Grade::C,
            _ => return None,
        };
        let near = (i > 0 && is_rating_word(tokens[i - 1]))
            || tokens.get(i + 1).is_some_and(|n| is_rating_word(n))
            || (i > 0 && i + 1 == tokens.len());
        near.then_some(grade)
    })
}

/// Reads a question at `now`.
pub fn plan(question: &str, now: DateTime<Utc>) -> Plan {
    let language = language(question);
    let text = normalize_for_search(question);
    let w = words(&text);

    let mut months = Vec::new();
    for (i, word) in w.iter().enumerate() {
        let prev = if i > 0 { Some(w[i - 1]) } else { None };
        let next = w.get(i + 1).copied();
        if let Some(m) = month_of_word(word, prev, next) {
            let year = next.and_then(year_of_word);
            let ym = resolve_month(m, year, now);
            if !months.contains(&ym) {
                months.push(ym);
            }
        }
    }
    let period = match months.first() {
        Some((y, m)) => Some(month_period(*y, *m)),
        None => relative_period(&text, &w, now).or_else(|| {
            // "в 2024 году", "for 2024".
            w.iter().find_map(|x| year_of_word(x)).map(|y| Period {
                from: start_of_month(y, 1),
                to: start_of_month(y + 1, 1),
                kind: PeriodKind::Year(y),
            })
        }),
    };
    let category = category(&text, &w);
    let grade = grade_named(question);

    let income = any_stem(&w, INCOME);
    let expense = any_stem(&w, EXPENSE);
    let intent = if any_stem(&w, RATING) {
        Some(Intent::Rating)
    } else if any_stem(&w, OFFERS)
        || any_phrase(
            &text,
            &[
                "что можно",
                "какой продукт",
                "какие продукты",
                "what product",
                "which product",
                "what can we",
            ],
        )
    {
        Some(Intent::Offers)
    } else if (any_stem(&w, RECURRING) && !income)
        || any_phrase(
            &text,
            &[
                "какие подписки",
                "what subscriptions",
                "which subscriptions",
                "регулярные платежи",
            ],
        )
    {
        Some(Intent::Recurring)
    } else if any_phrase(&text, CASHFLOW_PHRASES) || (income && expense) {
        Some(Intent::Cashflow)
    } else if any_stem(&w, COMPARISON) || any_word(&w, &["vs"]) || months.len() >= 2 {
        Some(Intent::Comparison)
    } else if income {
        Some(Intent::Income)
    } else if any_stem(&w, BALANCES) || any_phrase(&text, &["сколько денег", "how much money"])
    {
        Some(Intent::Balances)
    } else if category.is_some() {
        Some(Intent::CategorySpend)
    } else if expense {
        Some(Intent::Spending)
    } else if any_stem(&w, OVERVIEW) || any_phrase(&text, &["tell me about", "кто такой", "who is"])
    {
        Some(Intent::Overview)
    } else {
        None
    };
    // "А в апреле?", "and in April?", "what about taxis?" — but not "спасибо".
    let follow_up = w.len() <= 6
        && (text.starts_with("а ")
            || text.starts_with("и ")
            || text.starts_with("and ")
            || text.starts_with("what about")
            || text.starts_with("how about")
            || (intent.is_none() && (period.is_some() || category.is_some())));
    Plan {
        language,
        intent,
        category,
        period,
        months,
        grade,
        follow_up,
    }
}

/// A follow-up takes from the previous question what it does not say itself.
pub fn continue_plan(current: Plan, previous: &Plan) -> Plan {
    if !current.follow_up || previous.intent.is_none() {
        return current;
    }
    let intent = match (current.intent, previous.intent) {
        (None, p) => p,
        // "а на продукты?" after a category question stays a category question.
        (Some(Intent::CategorySpend), _) => Some(Intent::CategorySpend),
        (c, _) => c,
    };
    Plan {
        intent,
        category: current.category.or(previous.category),
        period: current.period.clone().or_else(|| previous.period.clone()),
        months: if current.months.is_empty() {
            previous.months.clone()
        } else {
            current.months.clone()
        },
        grade: current.grade.or(previous.grade),
        language: current.language,
        follow_up: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 12, 15, 0, 0)
            .single()
            .expect("now")
    }

    fn intent(q: &str) -> Option<Intent> {
        plan(q, now()).intent
    }

    #[test]
    fn languages() {
        assert_eq!(language("Проанализируй расходы"), Language::Ru);
        assert_eq!(language("analyse this client's spending"), Language::En);
        assert_eq!(language("Почему рейтинг B?"), Language::Ru);
        assert_eq!(language("OZON в марте"), Language::Ru);
        assert_eq!(language("???"), Language::Ru);
    }

    #[test]
    fn the_issues_questions() {
        assert_eq!(
            intent("analyse this client's spending"),
            Some(Intent::Spending)
        );
        assert_eq!(
            intent("Проанализируй расходы клиента"),
            Some(Intent::Spending)
        );
        assert_eq!(intent("what can we offer?"), Some(Intent::Offers));
        assert_eq!(
            intent("Что можно предложить клиенту?"),
            Some(Intent::Offers)
        );
        let p = plan("how much did they spend on restaurants in March?", now());
        assert_eq!(p.intent, Some(Intent::CategorySpend));
        assert_eq!(p.category, Some(Category::Restaurants));
        assert_eq!(p.period, Some(month_period(2025, 3)));
        let p = plan("Сколько клиент потратил на рестораны в марте?", now());
        assert_eq!(
            (p.intent, p.category),
            (Some(Intent::CategorySpend), Some(Category::Restaurants))
        );
        assert_eq!(
            p.period.map(|x| x.kind),
            Some(PeriodKind::Month {
                year: 2025,
                month: 3
            })
        );
        let p = plan("why is the rating B?", now());
        assert_eq!((p.intent, p.grade), (Some(Intent::Rating), Some(Grade::B)));
        // Cyrillic В in a Russian question.
        let p = plan("Почему у клиента рейтинг В?", now());
        assert_eq!((p.intent, p.grade), (Some(Intent::Rating), Some(Grade::B)));
        // «В» opening a sentence is a preposition, not a grade.
        assert_eq!(plan("В чём причина такого рейтинга?", now()).grade, None);
        assert_eq!(
            plan("Why does the client have a C rating?", now()).grade,
            Some(Grade::C)
        );
    }

    #[test]
    fn more_intents() {
        assert_eq!(
            intent("Насколько регулярен доход клиента?"),
            Some(Intent::Income)
        );
        assert_eq!(
            intent("How regular is the client's income?"),
            Some(Intent::Income)
        );
        assert_eq!(intent("Какие остатки на счетах?"), Some(Intent::Balances));
        assert_eq!(
            intent("How much does the client save?"),
            Some(Intent::Balances)
        );
        assert_eq!(
            intent("Сравни расходы за апрель и май"),
            Some(Intent::Comparison)
        );
        assert_eq!(
            intent("Compare spending in April and May"),
            Some(Intent::Comparison)
        );
        assert_eq!(
            intent("Доходы и расходы по месяцам"),
            Some(Intent::Cashflow)
        );
        assert_eq!(intent("show the cash flow"), Some(Intent::Cashflow));
        assert_eq!(
            intent("Какие у клиента регулярные платежи?"),
            Some(Intent::Recurring)
        );
        assert_eq!(
            intent("What recurring payments does the client have?"),
            Some(Intent::Recurring)
        );
        assert_eq!(intent("Расскажи о клиенте"), Some(Intent::Overview));
        assert_eq!(intent("Give me an overview"), Some(Intent::Overview));
        assert_eq!(
            intent("Сколько уходит на такси?"),
            Some(Intent::CategorySpend)
        );
        assert_eq!(intent("Какой сегодня курс доллара?"), None);
        assert_eq!(intent("tell me a joke"), None);
        // Bank products are offers, not groceries.
        assert_eq!(
            intent("Какие продукты банка подойдут клиенту?"),
            Some(Intent::Offers)
        );
    }

    #[test]
    fn categories_by_their_names_and_stems() {
        let c = |q: &str| plan(q, now()).category;
        assert_eq!(
            c("Сколько на «Кафе и рестораны»?"),
            Some(Category::Restaurants)
        );
        assert_eq!(c("spending on food delivery"), Some(Category::FoodDelivery));
        assert_eq!(c("траты на доставку еды"), Some(Category::FoodDelivery));
        assert_eq!(c("траты в супермаркетах"), Some(Category::Groceries));
        assert_eq!(c("how much on the car"), Some(Category::Auto));
        assert_eq!(c("cards and cartoons"), None);
        assert_eq!(c("расходы на ЖКХ"), Some(Category::Utilities));
        assert_eq!(c("Платежи по кредитам"), Some(Category::LoanPayments));
        assert_eq!(c("прочие расходы"), Some(Category::OtherExpense));
        assert_eq!(c("расходы за месяц"), None);
        assert_eq!(c("taxes paid"), Some(Category::TaxesFees));
    }

    #[test]
    fn periods() {
        let kind = |q: &str| plan(q, now()).period.map(|p| p.kind);
        assert_eq!(
            kind("в марте"),
            Some(PeriodKind::Month {
                year: 2025,
                month: 3
            })
        );
        assert_eq!(
            kind("в декабре"),
            Some(PeriodKind::Month {
                year: 2024,
                month: 12
            })
        );
        assert_eq!(
            kind("в мае 2023"),
            Some(PeriodKind::Month {
                year: 2023,
                month: 5
            })
        );
        assert_eq!(
            kind("in May"),
            Some(PeriodKind::Month {
                year: 2025,
                month: 5
            })
        );
        assert_eq!(kind("may I ask about spending"), None);
        assert_eq!(
            kind("в этом месяце"),
            Some(PeriodKind::Month {
                year: 2025,
                month: 6
            })
        );
        assert_eq!(
            kind("last month"),
            Some(PeriodKind::Month {
                year: 2025,
                month: 5
            })
        );
        assert_eq!(kind("за последние 30 дней"), Some(PeriodKind::LastDays(30)));
        assert_eq!(
            kind("за последние три месяца"),
            Some(PeriodKind::LastDays(90))
        );
        assert_eq!(
            kind("over the past two weeks"),
            Some(PeriodKind::LastDays(14))
        );
        assert_eq!(kind("в этом году"), Some(PeriodKind::YearToDate(2025)));
        assert_eq!(kind("last year"), Some(PeriodKind::Year(2024)));
        assert_eq!(kind("в 2024 году"), Some(PeriodKind::Year(2024)));
        assert_eq!(kind("за 2024 год"), Some(PeriodKind::Year(2024)));
        let p = last_days(now(), 90);
        assert_eq!(
            p.to,
            Utc.with_ymd_and_hms(2025, 6, 13, 0, 0, 0)
                .single()
                .expect("to")
        );
        assert_eq!(
            p.from,
            Utc.with_ymd_and_hms(2025, 3, 15, 0, 0, 0)
                .single()
                .expect("from")
        );
        let m = plan("сравни март и апрель", now()).months;
        assert_eq!(m, vec![(2025, 3), (2025, 4)]);
    }

    #[test]
    fn follow_ups_continue_the_previous_question() {
        let first = plan("Сколько клиент потратил на рестораны в марте?", now());
        let next = continue_plan(plan("А в апреле?", now()), &first);
        assert_eq!(next.intent, Some(Intent::CategorySpend));
        assert_eq!(next.category, Some(Category::Restaurants));
        assert_eq!(
            next.period.map(|p| p.kind),
            Some(PeriodKind::Month {
                year: 2025,
                month: 4
            })
        );
        let other = continue_plan(plan("а на такси?", now()), &first);
        assert_eq!(other.category, Some(Category::Transport));
        assert_eq!(
            other.period.map(|p| p.kind),
            Some(PeriodKind::Month {
                year: 2025,
                month: 3
            })
        );
        // Thanks are not a question, and a full new question is not a follow-up.
        assert_eq!(continue_plan(plan("спасибо", now()), &first).intent, None);
        let fresh = continue_plan(plan("Почему рейтинг B?", now()), &first);
        assert_eq!(fresh.intent, Some(Intent::Rating));
    }
}
