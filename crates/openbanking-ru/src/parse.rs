//! From the banks' JSON values to `crm_connector` types. A row that is missing what we cannot do
//! without, or that is absurd (another account's row, an amount or date out of any sane range),
//! is refused with a reason; the caller reports it instead of storing it.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use crm_connector::{
    AccountData, AccountKind, AccountStatus, AgreementKind, AgreementStatus, BalanceData,
    BalanceKind, BookingStatus, CardData, CardKind, CardStatus, Direction, MaskedPan, MerchantData,
    ProductAgreementData, ProductData, ProductType, TransactionData,
};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::wire::{decimal, text, timestamp};

/// Larger single amounts than this (in units) are treated as garbage, not money.
const MAX_AMOUNT: i64 = 1_000_000_000_000;

fn field<'a>(v: &'a Value, name: &str) -> &'a Value {
    v.get(name).unwrap_or(&Value::Null)
}

fn required(v: &Value, name: &str) -> Result<String, String> {
    text(field(v, name)).ok_or_else(|| format!("missing {name}"))
}

fn currency(v: &Value) -> Result<String, String> {
    let c = required(v, "currency")?;
    if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_alphabetic()) {
        Ok(c.to_ascii_uppercase())
    } else {
        Err("currency is not an ISO 4217 code".into())
    }
}

pub fn account(v: &Value) -> Result<AccountData, String> {
    let id = required(v, "accountId")?;
    let status = match text(field(v, "status"))
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("disabled") | Some("closed") | Some("blocked") => AccountStatus::Disabled,
        _ => AccountStatus::Enabled,
    };
    let details = field(v, "account")
        .as_array()
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or(Value::Null);
    let account_type = text(field(v, "accountType"));
    let account_subtype = text(field(v, "accountSubType"));
    Ok(AccountData {
        id,
        status,
        currency: currency(v)?,
        kind: AccountKind::from_bank(account_subtype.as_deref(), account_type.as_deref()),
        account_type: account_type.unwrap_or_else(|| "Personal".to_owned()),
        account_subtype,
        nickname: text(field(v, "nickname")),
        number: text(field(&details, "identification")),
        holder_name: text(field(&details, "name")),
        opened_on: text(field(v, "openingDate"))
            .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
    })
}

fn money(v: &Value) -> Result<(Decimal, String), String> {
    let amount_obj = field(v, "amount");
    let amount = decimal(field(amount_obj, "amount")).ok_or("missing amount")?;
    let currency = currency(amount_obj)?;
    if amount.abs() > Decimal::from(MAX_AMOUNT) {
        return Err("absurd amount".into());
    }
    Ok((amount, currency))
}

fn is_debit(v: &Value) -> Option<bool> {
    match text(field(v, "creditDebitIndicator"))
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        Some("debit") => Some(true),
        Some("credit") => Some(false),
        _ => None,
    }
}

pub fn balance(v: &Value) -> Result<BalanceData, String> {
    let (amount, currency) = money(v)?;
    let negative = is_debit(v).unwrap_or(false);
    let amount = if negative {
        -amount.abs()
    } else {
        amount.abs()
    };
    let kind = match text(field(v, "type")).as_deref() {
        Some("InterimAvailable") => BalanceKind::InterimAvailable,
        Some("InterimBooked") => BalanceKind::InterimBooked,
        other => BalanceKind::Other(other.unwrap_or("Unknown").to_owned()),
    };
    Ok(BalanceData {
        kind,
        amount,
        currency,
        at: text(field(v, "dateTime")).and_then(|t| timestamp(&t)),
    })
}

/// Orders balances as the protocol says to prefer them: available, then booked, then the rest.
pub fn prefer_balances(mut balances: Vec<BalanceData>) -> Vec<BalanceData> {
    balances.sort_by_key(|b| match b.kind {
        BalanceKind::InterimAvailable => 0,
        BalanceKind::InterimBooked => 1,
        BalanceKind::Other(_) => 2,
    });
    balances
}

fn sane_time(at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    let earliest = Utc.with_ymd_and_hms(1990, 1, 1, 0, 0, 0).single();
    earliest.is_some_and(|e| at >= e) && at <= now + Duration::days(2)
}

/// Shows only the last four digits of whatever card number the bank sent.
fn mask_card(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("****{tail}")
}

pub fn transaction(
    v: &Value,
    expected_account: &str,
    now: DateTime<Utc>,
) -> Result<TransactionData, String> {
    let id = required(v, "transactionId")?;
    if let Some(account) = text(field(v, "accountId")) {
        if account != expected_account {
            return Err(format!("transaction {id} belongs to another account"));
        }
    }
    let (amount, currency) = money(v)?;
    let direction = match is_debit(v) {
        Some(true) => Direction::Debit,
        Some(false) => Direction::Credit,
        None => return Err(format!("transaction {id} has no creditDebitIndicator")),
    };
    let raw_status = text(field(v, "status"));
    let status = match raw_status
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("pending") => BookingStatus::Pending,
        _ => BookingStatus::Booked,
    };
    let booked_at = text(field(v, "bookingDateTime"))
        .and_then(|t| timestamp(&t))
        .ok_or_else(|| format!("transaction {id} has no valid bookingDateTime"))?;
    if !sane_time(booked_at, now) {
        return Err(format!("transaction {id} has an absurd booking date"));
    }
    let merchant = match field(v, "merchant") {
        m @ Value::Object(_) => Some(MerchantData {
            id: text(field(m, "merchantId")),
            name: text(field(m, "name")),
            mcc: text(field(m, "mccCode")),
            category: text(field(m, "category")),
            city: text(field(m, "city")),
        }),
        _ => None,
    };
    let description = text(field(v, "transactionInformation")).unwrap_or_default();
    let (counterparty_account, counterparty_bank) =
        counterparty_account(v, direction, &description);
    Ok(TransactionData {
        id,
        account_id: expected_account.to_owned(),
        amount: amount.abs(),
        currency,
        direction,
        status,
        raw_status,
        booked_at,
        value_at: text(field(v, "valueDateTime")).and_then(|t| timestamp(&t)),
        description,
        bank_transaction_code: text(field(field(v, "bankTransactionCode"), "code")),
        merchant,
        card_masked: text(field(field(v, "card"), "cardNumber")).map(|n| mask_card(&n)),
        card_id: text(field(field(v, "card"), "cardId")),
        counterparty: text(field(v, "counterparty")),
        counterparty_account,
        counterparty_bank,
    })
}

/// The other side's account number and bank: from a standard `creditorAccount` (our debit) or
/// `debtorAccount` (our credit) when the bank sends one, else from the texts bank-in-a-box
/// writes on transfers (§12): `Перевод на счет N: …`, `Перевод от счета N: …`,
/// `Межбанковский перевод в B на счет N: …`, `Входящий перевод из B: …` (no number), and the
/// closing/deposit texts `Перевод на N при закрытии`, `Перевод с N (закрытие счета)`.
fn counterparty_account(
    v: &Value,
    direction: Direction,
    description: &str,
) -> (Option<String>, Option<String>) {
    let standard = match direction {
        Direction::Debit => field(v, "creditorAccount"),
        Direction::Credit => field(v, "debtorAccount"),
    };
    let agent = match direction {
        Direction::Debit => field(v, "creditorAgent"),
        Direction::Credit => field(v, "debtorAgent"),
    };
    if let Some(number) = text(field(standard, "identification")) {
        let bank = text(field(standard, "bank_code"))
            .or_else(|| text(field(agent, "identification")))
            .map(|b| b.to_ascii_lowercase());
        return (Some(number), bank);
    }
    let text = description.trim();
    let number_after = |rest: &str| -> Option<String> {
        let n: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        // An account number: digits (sometimes hex letters), never a short word.
        (n.len() >= 10 && n.chars().any(|c| c.is_ascii_digit())).then_some(n)
    };
    let bank_word = |rest: &str| -> Option<String> {
        let b: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        (!b.is_empty()).then(|| b.to_ascii_lowercase())
    };
    if let Some(rest) = text.strip_prefix("Межбанковский перевод в ") {
        let bank = bank_word(rest);
        let number = rest
            .split_once(" на счет ")
            .and_then(|(_, tail)| number_after(tail));
        return (number, bank);
    }
    if let Some(rest) = text.strip_prefix("Входящий перевод из ") {
        return (None, bank_word(rest));
    }
    for prefix in [
        "Перевод на счет ",
        "Перевод от счета ",
        "Перевод на ",
        "Перевод с ",
        "Пополнение депозита ",
        "Открытие депозита из счета ",
        "Возврат вклада на счёт ",
        "Возврат вклада со счёта ",
        "Погашение кредита из счета ",
    ] {
        if let Some(rest) = text.strip_prefix(prefix) {
            return (number_after(rest), None);
        }
    }
    (None, None)
}

/// An agreement of `GET /product-agreements` (§10): snake_case, amounts as JSON numbers, times
/// without a zone, `end_date` and `account_number` possibly `null`.
pub fn agreement(v: &Value) -> Result<ProductAgreementData, String> {
    let id = required(v, "agreement_id")
        .or_else(|_| required(v, "agreementId"))
        .map_err(|_| "missing agreement_id".to_owned())?;
    let kind = text(field(v, "product_type"))
        .or_else(|| text(field(v, "productType")))
        .map(|w| AgreementKind::from_bank(&w))
        .ok_or_else(|| format!("agreement {id} has no product_type"))?;
    let amount = decimal(field(v, "amount"))
        .or_else(|| decimal(field(field(v, "amount"), "amount")))
        .ok_or_else(|| format!("agreement {id} has no amount"))?;
    if amount < Decimal::ZERO || amount > Decimal::from(MAX_AMOUNT) {
        return Err(format!("agreement {id} has an absurd amount"));
    }
    let currency = text(field(v, "currency"))
        .or_else(|| text(field(field(v, "amount"), "currency")))
        .filter(|c| c.len() == 3 && c.chars().all(|ch| ch.is_ascii_alphabetic()))
        .map(|c| c.to_ascii_uppercase())
        .unwrap_or_else(|| "RUB".to_owned());
    let date = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| text(field(v, n)))
            .and_then(|t| timestamp(&t))
    };
    Ok(ProductAgreementData {
        kind,
        product_id: text(field(v, "product_id")).or_else(|| text(field(v, "productId"))),
        product_name: text(field(v, "product_name"))
            .or_else(|| text(field(v, "productName")))
            .unwrap_or_default(),
        amount,
        currency,
        interest_rate: decimal(field(v, "interest_rate"))
            .or_else(|| decimal(field(v, "interestRate"))),
        opened_at: date(&["start_date", "startDate"]),
        ends_at: date(&["end_date", "endDate", "maturity_date", "maturityDate"]),
        status: text(field(v, "status"))
            .map(|w| AgreementStatus::from_bank(&w))
            .unwrap_or(AgreementStatus::Active),
        account_id: text(field(v, "account_id")).or_else(|| text(field(v, "accountId"))),
        account_number: text(field(v, "account_number"))
            .or_else(|| text(field(v, "accountNumber"))),
        id,
    })
}

/// A card of `GET /cards` (§11). The number is masked here whatever the bank sent, and
/// `cardNumberFull` is never read.
pub fn card(v: &Value) -> Result<CardData, String> {
    let id = required(v, "cardId")?;
    let number = text(field(v, "cardNumber"))
        .and_then(|n| MaskedPan::new(&n))
        .ok_or_else(|| format!("card {id} has no card number"))?;
    let expires = match (
        decimal(field(v, "expiryYear")).and_then(|d| i32::try_from(d).ok()),
        decimal(field(v, "expiryMonth")).and_then(|d| u32::try_from(d).ok()),
    ) {
        (Some(y), Some(m)) if (1..=12).contains(&m) && (1990..=2200).contains(&y) => Some((y, m)),
        _ => None,
    };
    let limit = |name: &str| decimal(field(v, name)).filter(|d| *d >= Decimal::ZERO);
    Ok(CardData {
        kind: text(field(v, "cardType"))
            .map(|w| CardKind::from_bank(&w))
            .unwrap_or(CardKind::Debit),
        name: text(field(v, "cardName")),
        number,
        status: text(field(v, "status"))
            .map(|w| CardStatus::from_bank(&w))
            .unwrap_or(CardStatus::Active),
        expires,
        daily_limit: limit("dailyLimit"),
        monthly_limit: limit("monthlyLimit"),
        currency: text(field(v, "currency")).map(|c| c.to_ascii_uppercase()),
        account_id: text(field(v, "accountId")),
        account_number: text(field(v, "accountNumber")),
        issued_at: text(field(v, "issuedAt")).and_then(|t| timestamp(&t)),
        id,
    })
}

pub fn product(v: &Value) -> Result<ProductData, String> {
    let product_type = match required(v, "productType")?.to_ascii_lowercase().as_str() {
        "deposit" => ProductType::Deposit,
        "savings" => ProductType::Savings,
        "loan" => ProductType::Loan,
        "credit_card" => ProductType::CreditCard,
        "card" => ProductType::Card,
        other => ProductType::Other(other.to_owned()),
    };
    Ok(ProductData {
        id: required(v, "productId")?,
        product_type,
        name: required(v, "productName")?,
        description: text(field(v, "description")),
        interest_rate: decimal(field(v, "interestRate")),
        min_amount: decimal(field(v, "minAmount")),
        max_amount: decimal(field(v, "maxAmount")),
        term_months: decimal(field(v, "termMonths")).and_then(|d| u32::try_from(d).ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 11, 6, 0, 0, 0)
            .single()
            .expect("date")
    }

    #[test]
    fn the_documented_transaction_parses() {
        let v = json!({
           "accountId": "acc-1010", "transactionId": "tx-9f3c2a1b7d4e",
           "amount": {"amount": "1249.00", "currency": "RUB"}, "creditDebitIndicator": "Debit",
           "status": "completed", "bookingDateTime": "2025-10-12T19:41:00Z", "valueDateTime": "2025-10-12T19:41:00Z",
           "transactionInformation": "Оплата: Пятёрочка", "bankTransactionCode": {"code": "PointOfSale"},
           "merchant": {"merchantId": "mer-01", "name": "Пятёрочка", "mccCode": "5411", "category": "grocery",
                        "city": "Москва", "country": "RUS", "address": null},
           "card": {"cardId": "card-5e6f7a8b9c0d", "cardNumber": "****4821", "cardType": "debit"},
           "counterparty": "Пятёрочка", "somethingNew": 42});
        let t = transaction(&v, "acc-1010", now()).expect("parses");
        assert_eq!(t.amount, "1249.00".parse::<Decimal>().expect("decimal"));
        assert_eq!(t.direction, Direction::Debit);
        assert_eq!(t.status, BookingStatus::Booked);
        assert_eq!(t.raw_status.as_deref(), Some("completed"));
        assert_eq!(
            t.merchant.as_ref().and_then(|m| m.mcc.as_deref()),
            Some("5411")
        );
        assert_eq!(t.card_masked.as_deref(), Some("****4821"));
        assert_eq!(t.bank_transaction_code.as_deref(), Some("PointOfSale"));
    }

    #[test]
    fn tolerant_where_banks_differ_and_strict_where_it_matters() {
        let base = json!({"transactionId": "tx-1", "amount": {"amount": 100.5, "currency": "rub"},
            "creditDebitIndicator": "Credit", "status": "Pending", "bookingDateTime": "2025-10-12T19:41:00",
            "merchant": null});
        let t = transaction(&base, "acc-1", now()).expect("number amount, no zone, null merchant");
        assert_eq!(t.status, BookingStatus::Pending);
        assert_eq!(t.currency, "RUB");
        assert!(t.merchant.is_none());

        let mut other = base.clone();
        other["accountId"] = json!("acc-2");
        assert!(
            transaction(&other, "acc-1", now()).is_err(),
            "another account's row"
        );
        let mut future = base.clone();
        future["bookingDateTime"] = json!("2099-01-01T00:00:00Z");
        assert!(transaction(&future, "acc-1", now()).is_err());
        let mut huge = base.clone();
        huge["amount"]["amount"] = json!("99999999999999999");
        assert!(transaction(&huge, "acc-1", now()).is_err());
        let mut no_sign = base;
        no_sign
            .as_object_mut()
            .map(|o| o.remove("creditDebitIndicator"));
        assert!(transaction(&no_sign, "acc-1", now()).is_err());
    }

    #[test]
    fn accounts_balances_and_products() {
        let a = account(&json!({"accountId": "acc-1010", "status": "Enabled", "currency": "RUB",
            "accountType": "Personal", "accountSubType": "Checking", "nickname": "Checking счет", "openingDate": "2024-03-15",
            "account": [{"schemeName": "RU.CBR.PAN", "identification": "40817810099910004312", "name": "Иванов Иван Иванович"}]}))
        .expect("account");
        assert_eq!(a.number.as_deref(), Some("40817810099910004312"));
        assert_eq!(a.opened_on, NaiveDate::from_ymd_opt(2024, 3, 15));

        let b = prefer_balances(vec![
            balance(&json!({"type": "InterimBooked", "amount": {"amount": "5.00", "currency": "RUB"}, "creditDebitIndicator": "Debit"})).expect("b"),
            balance(&json!({"type": "InterimAvailable", "amount": {"amount": "7.00", "currency": "RUB"}, "creditDebitIndicator": "Credit"})).expect("a"),
        ]);
        assert_eq!(b[0].kind, BalanceKind::InterimAvailable);
        assert_eq!(b[1].amount, "-5.00".parse::<Decimal>().expect("decimal"));

        let p = product(&json!({"productId": "prod-dep-01", "productType": "deposit", "productName": "Надёжный вклад",
            "interestRate": "16.5", "minAmount": "None", "maxAmount": null, "termMonths": "12"})).expect("product");
        assert_eq!(p.product_type, ProductType::Deposit);
        assert_eq!(p.min_amount, None);
        assert_eq!(p.term_months, Some(12));
        assert_eq!(a.kind, AccountKind::Current);
        let loan = account(
            &json!({"accountId": "acc-7", "currency": "RUB", "accountType": "Business",
            "accountSubType": "Loan", "account": []}),
        )
        .expect("loan");
        assert_eq!(loan.kind, AccountKind::Loan);
    }

    fn transfer(text: &str, indicator: &str) -> TransactionData {
        transaction(
            &json!({"transactionId": "tx-1", "amount": {"amount": "5000.00", "currency": "RUB"},
                "creditDebitIndicator": indicator, "bookingDateTime": "2025-10-12T19:41:00Z",
                "transactionInformation": text, "counterparty": null}),
            "acc-1",
            now(),
        )
        .expect("parses")
    }

    #[test]
    fn counterparty_accounts_come_from_the_texts_of_section_12() {
        let out = transfer(
            "Межбанковский перевод в vbank на счет 40817810000000000002: Себе в vbank #1",
            "Debit",
        );
        assert_eq!(
            out.counterparty_account.as_deref(),
            Some("40817810000000000002")
        );
        assert_eq!(out.counterparty_bank.as_deref(), Some("vbank"));
        let inc = transfer("Входящий перевод из abank: Себе в vbank #1", "Credit");
        assert_eq!(inc.counterparty_account, None);
        assert_eq!(inc.counterparty_bank.as_deref(), Some("abank"));
        let within = transfer("Перевод на счет 423cb90b1628e2d4eb: ", "Debit");
        assert_eq!(
            within.counterparty_account.as_deref(),
            Some("423cb90b1628e2d4eb")
        );
        let from = transfer("Перевод от счета 40817820000000000001: долг", "Credit");
        assert_eq!(
            from.counterparty_account.as_deref(),
            Some("40817820000000000001")
        );
        assert_eq!(transfer("Оплата: OZON", "Debit").counterparty_account, None);
        assert_eq!(
            transfer("Перевод на карту", "Debit").counterparty_account,
            None
        );
        let standard = transaction(
            &json!({"transactionId": "tx-2", "amount": {"amount": "1.00", "currency": "RUB"},
                "creditDebitIndicator": "Debit", "bookingDateTime": "2025-10-12T19:41:00Z",
                "creditorAccount": {"schemeName": "RU.CBR.PAN", "identification": "40817810000000000009"},
                "card": {"cardId": "card-1", "cardNumber": "****1234"}}),
            "acc-1",
            now(),
        )
        .expect("parses");
        assert_eq!(
            standard.counterparty_account.as_deref(),
            Some("40817810000000000009")
        );
        assert_eq!(standard.card_id.as_deref(), Some("card-1"));
    }

    #[test]
    fn the_documented_agreements_and_cards_parse() {
        let deposit = agreement(
            &json!({"agreement_id": "agr-180ceb287227", "product_id": "vbank-dep-1",
            "product_name": "Вклад «Виртуальный»", "product_type": "deposit", "amount": 100000.0,
            "status": "active", "start_date": "2026-12-07T02:01:57.749004",
            "end_date": "2027-12-02T02:01:57.742317", "account_number": "423cb90b1628e2d4eb"}),
        )
        .expect("deposit");
        assert_eq!(deposit.kind, AgreementKind::Deposit);
        assert_eq!(deposit.amount, Decimal::new(100_000, 0));
        assert_eq!(deposit.currency, "RUB");
        assert_eq!(deposit.status, AgreementStatus::Active);
        assert!(deposit
            .ends_at
            .is_some_and(|e| deposit.opened_at.is_some_and(|s| e > s)));
        let loan = agreement(&json!({"agreement_id": "agr-2", "product_type": "loan",
            "amount": 300000.0, "status": "closed", "start_date": "2026-12-07T02:01:57",
            "end_date": null, "account_number": null, "interest_rate": 19.9}))
        .expect("loan");
        assert_eq!(
            (loan.kind, loan.status),
            (AgreementKind::Loan, AgreementStatus::Closed)
        );
        assert_eq!(loan.ends_at, None);
        assert_eq!(loan.interest_rate, Some(Decimal::new(199, 1)));
        assert!(agreement(&json!({"agreement_id": "agr-3", "product_type": "loan"})).is_err());

        let c = card(&json!({"cardId": "card-e8dac7954992", "cardNumber": "**** **** **** 4014",
            "cardNumberFull": "4276380012344014", "cardType": "debit", "cardName": "Visa Classic",
            "holderName": "TEAM200 КЛИЕНТ №1", "expiryMonth": 7, "expiryYear": 2029,
            "accountNumber": "40817820000000000001", "accountBalance": "1000000.00", "status": "active",
            "dailyLimit": "100000.00", "monthlyLimit": "500000.00", "issuedAt": "2026-12-07T02:05:19.296089Z"}))
        .expect("card");
        assert_eq!(c.number.as_str(), "****4014");
        assert_eq!(c.expires, Some((2029, 7)));
        assert_eq!(c.daily_limit, Some(Decimal::new(100_000, 0)));
        assert!(!format!("{c:?}").contains("4276380012344014"));
        assert!(!format!("{c:?}").contains("40817820000000000001"));
        let full =
            card(&json!({"cardId": "card-1", "cardNumber": "4276380012344014"})).expect("card");
        assert_eq!(
            full.number.as_str(),
            "****4014",
            "a full number is masked at the boundary"
        );
    }
}
