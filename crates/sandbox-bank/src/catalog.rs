//! Merchants (real Russian chains with their ISO 18245 MCC codes), the kinds of transfers a
//! bank books without a merchant, and the banks' product catalogue.

/// What a merchant sells, as the generator schedules spending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Grocery,
    Cafe,
    Delivery,
    Taxi,
    Marketplace,
    Pharmacy,
    Fuel,
    Clothing,
    Electronics,
    Beauty,
    Entertainment,
    Transport,
    Home,
    Alcohol,
    Airline,
    Rail,
    Hotel,
    Subscription,
    Telecom,
    Internet,
    Utilities,
    Education,
    Fitness,
    Taxes,
    Insurance,
    Abroad,
    Atm,
}

pub struct Merchant {
    pub name: &'static str,
    pub mcc: &'static str,
    /// The bank's own category word, sent as data.
    pub category: &'static str,
    pub group: Group,
    /// Usual amount range in roubles (in the account's currency for `Abroad`).
    pub min: i64,
    pub max: i64,
    /// A fixed place (city, ISO 3166 alpha-3); `None`: the client's own city.
    pub place: Option<(&'static str, &'static str)>,
}

const fn m(
    name: &'static str,
    mcc: &'static str,
    category: &'static str,
    group: Group,
    min: i64,
    max: i64,
) -> Merchant {
    Merchant {
        name,
        mcc,
        category,
        group,
        min,
        max,
        place: None,
    }
}

const fn abroad(
    name: &'static str,
    mcc: &'static str,
    category: &'static str,
    min: i64,
    max: i64,
    city: &'static str,
    country: &'static str,
) -> Merchant {
    Merchant {
        name,
        mcc,
        category,
        group: Group::Abroad,
        min,
        max,
        place: Some((city, country)),
    }
}

use Group::*;

pub static MERCHANTS: &[Merchant] = &[
    m("Пятёрочка", "5411", "grocery", Grocery, 250, 2_800),
    m("Перекрёсток", "5411", "grocery", Grocery, 400, 4_500),
    m("Магнит", "5411", "grocery", Grocery, 200, 2_500),
    m("ВкусВилл", "5411", "grocery", Grocery, 350, 3_500),
    m("Лента", "5411", "grocery", Grocery, 800, 7_000),
    m("Ашан", "5411", "grocery", Grocery, 900, 8_000),
    m("Дикси", "5411", "grocery", Grocery, 150, 1_800),
    m("Азбука вкуса", "5411", "grocery", Grocery, 900, 6_500),
    m("Шоколадница", "5812", "restaurants", Cafe, 600, 3_200),
    m("Кофе Хауз", "5814", "restaurants", Cafe, 250, 900),
    m("Теремок", "5814", "fast_food", Cafe, 350, 1_100),
    m("Вкусно — и точка", "5814", "fast_food", Cafe, 250, 1_200),
    m("Rostic's", "5814", "fast_food", Cafe, 300, 1_300),
    m("Додо Пицца", "5814", "fast_food", Cafe, 600, 2_600),
    m("Cofix", "5814", "restaurants", Cafe, 150, 500),
    m("Якитория", "5812", "restaurants", Cafe, 1_200, 5_500),
    m("Яндекс Еда", "5814", "delivery", Delivery, 600, 3_500),
    m("Самокат", "5411", "delivery", Delivery, 500, 4_000),
    m("Купер", "5411", "delivery", Delivery, 1_500, 7_000),
    m("Яндекс Лавка", "5411", "delivery", Delivery, 400, 3_000),
    m("Яндекс Go", "4121", "taxi", Taxi, 220, 1_600),
    m("Ситимобил", "4121", "taxi", Taxi, 200, 1_300),
    m("Такси Максим", "4121", "taxi", Taxi, 150, 900),
    m("OZON", "5399", "marketplace", Marketplace, 300, 9_000),
    m(
        "Wildberries",
        "5399",
        "marketplace",
        Marketplace,
        250,
        7_500,
    ),
    m(
        "Яндекс Маркет",
        "5399",
        "marketplace",
        Marketplace,
        400,
        12_000,
    ),
    m(
        "Мегамаркет",
        "5399",
        "marketplace",
        Marketplace,
        500,
        10_000,
    ),
    m("Аптека Ригла", "5912", "pharmacy", Pharmacy, 150, 3_000),
    m("Аптеки 36,6", "5912", "pharmacy", Pharmacy, 150, 2_800),
    m("Горздрав", "5912", "pharmacy", Pharmacy, 120, 2_500),
    m("Лукойл", "5541", "fuel", Fuel, 1_200, 4_500),
    m("Газпромнефть", "5541", "fuel", Fuel, 1_000, 4_200),
    m("Роснефть", "5541", "fuel", Fuel, 1_000, 4_000),
    m("Спортмастер", "5655", "clothing", Clothing, 1_500, 12_000),
    m("Gloria Jeans", "5651", "clothing", Clothing, 900, 6_000),
    m("Lamoda", "5691", "clothing", Clothing, 1_500, 15_000),
    m("ЦентрОбувь", "5661", "clothing", Clothing, 2_000, 9_000),
    m("М.Видео", "5732", "electronics", Electronics, 1_500, 60_000),
    m("DNS", "5732", "electronics", Electronics, 800, 45_000),
    m("Ситилинк", "5732", "electronics", Electronics, 700, 40_000),
    m("Золотое яблоко", "5977", "beauty", Beauty, 900, 7_000),
    m("Л'Этуаль", "5977", "beauty", Beauty, 600, 5_000),
    m(
        "Салон красоты «Шарм»",
        "7230",
        "beauty",
        Beauty,
        1_500,
        6_000,
    ),
    m(
        "Синема Парк",
        "7832",
        "entertainment",
        Entertainment,
        400,
        2_400,
    ),
    m(
        "Каро Фильм",
        "7832",
        "entertainment",
        Entertainment,
        400,
        2_200,
    ),
    m(
        "Яндекс Афиша",
        "7922",
        "entertainment",
        Entertainment,
        900,
        8_000,
    ),
    m(
        "Московский метрополитен",
        "4111",
        "transport",
        Transport,
        62,
        90,
    ),
    // Parking goes with the car (the fuel group), not with the metro.
    m("Московский паркинг", "7523", "transport", Fuel, 100, 600),
    m("Леруа Мерлен", "5200", "home", Home, 500, 15_000),
    m("Hoff", "5712", "home", Home, 2_000, 35_000),
    m("Fix Price", "5331", "home", Home, 100, 1_200),
    m("Красное&Белое", "5921", "alcohol", Alcohol, 300, 2_500),
    m("Аэрофлот", "3011", "airlines", Airline, 8_000, 45_000),
    m("Победа", "4511", "airlines", Airline, 3_500, 15_000),
    m("РЖД", "4112", "railway", Rail, 1_800, 12_000),
    m("Туту.ру", "4722", "travel", Rail, 1_500, 9_000),
    m("Островок", "7011", "hotels", Hotel, 4_000, 40_000),
    m("Суточно.ру", "7011", "hotels", Hotel, 3_000, 25_000),
    m(
        "Яндекс Плюс",
        "5815",
        "subscriptions",
        Subscription,
        399,
        399,
    ),
    m("Кинопоиск", "4899", "subscriptions", Subscription, 299, 299),
    m("Okko", "4899", "subscriptions", Subscription, 399, 399),
    m("Иви", "4899", "subscriptions", Subscription, 399, 399),
    m("VK Музыка", "5815", "subscriptions", Subscription, 199, 199),
    m("Литрес", "5815", "subscriptions", Subscription, 399, 399),
    m("Wink", "4899", "subscriptions", Subscription, 349, 349),
    m("МТС", "4814", "telecom", Telecom, 450, 1_100),
    m("Билайн", "4814", "telecom", Telecom, 400, 1_000),
    m("МегаФон", "4814", "telecom", Telecom, 450, 1_200),
    m("Т2", "4814", "telecom", Telecom, 350, 900),
    m("Ростелеком", "4814", "telecom", Internet, 550, 900),
    m("Дом.ру", "4814", "telecom", Internet, 500, 850),
    m("ЕИРЦ", "4900", "utilities", Utilities, 4_500, 11_000),
    m("Мосэнергосбыт", "4900", "utilities", Utilities, 900, 3_200),
    m("Skyeng", "8299", "education", Education, 3_500, 9_000),
    m(
        "Яндекс Практикум",
        "8299",
        "education",
        Education,
        6_000,
        12_000,
    ),
    m("World Class", "7997", "fitness", Fitness, 4_500, 9_000),
    m("DDX Fitness", "7997", "fitness", Fitness, 1_900, 2_900),
    m("ФНС России", "9311", "taxes", Taxes, 1_500, 25_000),
    m("Ингосстрах", "6300", "insurance", Insurance, 6_000, 18_000),
    abroad("Migros", "5411", "grocery", 15, 120, "Стамбул", "TUR"),
    abroad("Starbucks", "5814", "restaurants", 5, 25, "Дубай", "ARE"),
    abroad(
        "Booking.com",
        "7011",
        "hotels",
        150,
        1_200,
        "Амстердам",
        "NLD",
    ),
    abroad(
        "Turkish Airlines",
        "4511",
        "airlines",
        180,
        900,
        "Стамбул",
        "TUR",
    ),
    abroad(
        "Dubai Duty Free",
        "5309",
        "shopping",
        20,
        400,
        "Дубай",
        "ARE",
    ),
    abroad("Carrefour", "5411", "grocery", 20, 150, "Дубай", "ARE"),
    // Cash machines; the bank's own name is shown with it.
    m("Банкомат", "6011", "cash", Atm, 1_000, 15_000),
];

/// Index of merchants of a group.
pub fn merchants_of(group: Group) -> Vec<usize> {
    MERCHANTS
        .iter()
        .enumerate()
        .filter(|(_, m)| m.group == group)
        .map(|(i, _)| i)
        .collect()
}

/// Whose name a transfer shows as its counterparty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    /// The client's employer.
    Employer,
    /// A private person (the row's party index into the bank's list of names).
    Person,
    /// The lender of the client's loan.
    Lender,
    /// The bank itself.
    Bank,
    /// The client (own accounts).
    Holder,
    /// A freelance customer.
    Customer,
    /// A fixed name.
    Fixed(&'static str),
}

/// A booking without a merchant.
pub struct TransferKind {
    pub description: &'static str,
    pub code: &'static str,
    pub credit: bool,
    pub party: Party,
}

const fn t(
    description: &'static str,
    code: &'static str,
    credit: bool,
    party: Party,
) -> TransferKind {
    TransferKind {
        description,
        code,
        credit,
        party,
    }
}

/// Transfer kinds; a row's template below [`MERCHANT_BASE`] indexes this table.
pub mod kind {
    pub const SALARY: u16 = 0;
    pub const ADVANCE: u16 = 1;
    pub const PENSION: u16 = 2;
    pub const FREELANCE: u16 = 3;
    pub const SBP_IN: u16 = 4;
    pub const SBP_OUT: u16 = 5;
    pub const RENT: u16 = 6;
    pub const LOAN_PAYMENT: u16 = 7;
    pub const OWN_IN: u16 = 8;
    pub const OWN_OUT: u16 = 9;
    pub const TO_SAVINGS: u16 = 10;
    pub const SAVINGS_TOP_UP: u16 = 11;
    pub const INTEREST: u16 = 12;
    pub const CASHBACK: u16 = 13;
    pub const CURRENCY_BUY: u16 = 14;
    pub const CARD_REPAYMENT: u16 = 15;
    pub const CARD_INTEREST: u16 = 16;
    pub const FEE: u16 = 17;
    pub const LOAN_ISSUED: u16 = 18;
    pub const LOAN_REPAID: u16 = 19;
    pub const FROM_SAVINGS: u16 = 20;
    /// The deposit account's opening credit (`Открытие депозита из счета N`).
    pub const DEPOSIT_OPENED: u16 = 21;
    /// The funding account's debit (`Пополнение депозита N`).
    pub const DEPOSIT_FUNDING: u16 = 22;
    /// The current account's credit of a withdrawal from savings (the savings side is
    /// [`FROM_SAVINGS`]).
    pub const FROM_SAVINGS_IN: u16 = 23;
    /// A one-off large credit: the sale of a flat (a scenario's windfall).
    pub const WINDFALL: u16 = 24;
    /// A row added through the control API, with its own texts.
    pub const CUSTOM: u16 = 63;
}

pub static TRANSFERS: &[TransferKind] = &[
    t(
        "Заработная плата",
        "ReceivedCreditTransfer",
        true,
        Party::Employer,
    ),
    t(
        "Аванс по заработной плате",
        "ReceivedCreditTransfer",
        true,
        Party::Employer,
    ),
    t(
        "Пенсия",
        "ReceivedCreditTransfer",
        true,
        Party::Fixed("Социальный фонд России"),
    ),
    t(
        "Оплата по договору оказания услуг",
        "ReceivedCreditTransfer",
        true,
        Party::Customer,
    ),
    t(
        "Перевод по СБП",
        "ReceivedCreditTransfer",
        true,
        Party::Person,
    ),
    t(
        "Перевод по СБП",
        "IssuedDebitTransfer",
        false,
        Party::Person,
    ),
    t(
        "Перевод по СБП: аренда квартиры",
        "IssuedDebitTransfer",
        false,
        Party::Person,
    ),
    t(
        "Погашение кредита",
        "IssuedDebitTransfer",
        false,
        Party::Lender,
    ),
    t(
        "Перевод между своими счетами",
        "ReceivedCreditTransfer",
        true,
        Party::Holder,
    ),
    t(
        "Перевод между своими счетами",
        "IssuedDebitTransfer",
        false,
        Party::Holder,
    ),
    t(
        "Перевод на накопительный счёт",
        "IssuedDebitTransfer",
        false,
        Party::Holder,
    ),
    t(
        "Пополнение накопительного счёта",
        "ReceivedCreditTransfer",
        true,
        Party::Holder,
    ),
    t("Выплата процентов по вкладу", "Interest", true, Party::Bank),
    t(
        "Кэшбэк за покупки",
        "ReceivedCreditTransfer",
        true,
        Party::Bank,
    ),
    t(
        "Покупка валюты",
        "ReceivedCreditTransfer",
        true,
        Party::Holder,
    ),
    t(
        "Погашение задолженности по кредитной карте",
        "ReceivedCreditTransfer",
        true,
        Party::Holder,
    ),
    t(
        "Проценты за пользование кредитом",
        "Interest",
        false,
        Party::Bank,
    ),
    t("Комиссия за обслуживание карты", "Fee", false, Party::Bank),
    t(
        "Выдача кредита",
        "IssuedDebitTransfer",
        false,
        Party::Holder,
    ),
    t(
        "Поступление в погашение кредита",
        "ReceivedCreditTransfer",
        true,
        Party::Holder,
    ),
    t(
        "Перевод с накопительного счёта",
        "IssuedDebitTransfer",
        false,
        Party::Holder,
    ),
    t(
        "Открытие депозита из счета",
        "ReceivedCreditTransfer",
        true,
        Party::Fixed("Открытие депозита"),
    ),
    t(
        "Пополнение депозита",
        "IssuedDebitTransfer",
        false,
        Party::Fixed("Открытие депозита"),
    ),
    t(
        "Перевод с накопительного счёта",
        "ReceivedCreditTransfer",
        true,
        Party::Holder,
    ),
    t(
        "Оплата по договору купли-продажи квартиры",
        "ReceivedCreditTransfer",
        true,
        Party::Fixed("ООО «Городская недвижимость»"),
    ),
];

/// Templates from here on are merchants (`template - MERCHANT_BASE` indexes [`MERCHANTS`]).
pub const MERCHANT_BASE: u16 = 64;

/// A product of a bank's catalogue. Numbers are strings (or absent) on the wire.
pub struct ProductTemplate {
    pub kind: &'static str,
    pub short: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// Interest rate range in hundredths of a percent.
    pub rate: Option<(i64, i64)>,
    pub min_amount: Option<i64>,
    pub max_amount: Option<i64>,
    pub term_months: Option<u32>,
}

#[allow(clippy::too_many_arguments)]
const fn p(
    kind: &'static str,
    short: &'static str,
    name: &'static str,
    description: &'static str,
    rate: Option<(i64, i64)>,
    min_amount: Option<i64>,
    max_amount: Option<i64>,
    term_months: Option<u32>,
) -> ProductTemplate {
    ProductTemplate {
        kind,
        short,
        name,
        description,
        rate,
        min_amount,
        max_amount,
        term_months,
    }
}

pub static PRODUCTS: &[ProductTemplate] = &[
    p(
        "deposit",
        "dep",
        "Надёжный вклад",
        "Вклад с ежемесячной выплатой процентов, без пополнения",
        Some((1_500, 1_900)),
        Some(50_000),
        Some(10_000_000),
        Some(12),
    ),
    p(
        "deposit",
        "dep",
        "Вклад «Доходный»",
        "Проценты в конце срока, можно пополнять",
        Some((1_600, 2_100)),
        Some(10_000),
        Some(30_000_000),
        Some(6),
    ),
    p(
        "deposit",
        "dep",
        "Вклад «Перспектива»",
        "Долгий срок, повышенная ставка",
        Some((1_300, 1_700)),
        Some(100_000),
        None,
        Some(24),
    ),
    p(
        "savings",
        "sav",
        "Накопительный счёт",
        "Снятие и пополнение без ограничений, процент на ежедневный остаток",
        Some((1_000, 1_600)),
        None,
        None,
        None,
    ),
    p(
        "loan",
        "loan",
        "Кредит наличными",
        "До 5 млн ₽ без залога и поручителей",
        Some((1_990, 3_490)),
        Some(50_000),
        Some(5_000_000),
        Some(60),
    ),
    p(
        "loan",
        "loan",
        "Рефинансирование",
        "Объединение кредитов других банков",
        Some((1_890, 2_790)),
        Some(100_000),
        Some(3_000_000),
        Some(84),
    ),
    p(
        "loan",
        "loan",
        "Автокредит",
        "На новый или подержанный автомобиль",
        Some((1_590, 2_490)),
        Some(300_000),
        Some(8_000_000),
        Some(84),
    ),
    p(
        "credit_card",
        "cc",
        "Кредитная карта «120 дней без процентов»",
        "Льготный период до 120 дней, кэшбэк до 5%",
        Some((2_990, 4_990)),
        None,
        Some(1_000_000),
        None,
    ),
    p(
        "credit_card",
        "cc",
        "Кредитная карта «Платинум»",
        "Повышенный кэшбэк в ресторанах и на путешествия",
        Some((2_590, 3_990)),
        None,
        Some(3_000_000),
        None,
    ),
    p(
        "card",
        "card",
        "Дебетовая карта «Мир»",
        "Бесплатное обслуживание, кэшбэк рублями",
        None,
        None,
        None,
        None,
    ),
    p(
        "card",
        "card",
        "Дебетовая карта «Премиум»",
        "Бизнес-залы, страховка путешественника, консьерж",
        None,
        Some(1_000_000),
        None,
        None,
    ),
    p(
        "card",
        "card",
        "Детская карта",
        "Карта для детей от 6 лет под контролем родителей",
        None,
        None,
        None,
        None,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_merchant_has_a_four_digit_mcc_and_a_sane_range() {
        for m in MERCHANTS {
            assert_eq!(m.mcc.len(), 4, "{}", m.name);
            assert!(m.mcc.chars().all(|c| c.is_ascii_digit()), "{}", m.name);
            assert!(0 < m.min && m.min <= m.max, "{}", m.name);
        }
        assert!(TRANSFERS.len() < usize::from(kind::CUSTOM));
        assert!(!merchants_of(Group::Atm).is_empty());
    }
}
