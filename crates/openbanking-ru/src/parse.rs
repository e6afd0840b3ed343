//! From the banks' JSON values to `crm_connector` types. A row that is missing what we cannot do
//! without, or that is absurd (another account's row, an amount or date out of any sane range),
//! is refused with a reason; the caller reports it instead of storing it.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use crm_connector::{
    AccountData, AccountStatus, BalanceData, BalanceKind, BookingStatus, Direction, MerchantData,
    ProductData, ProductType, TransactionData,
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
    Ok(AccountData {
        id,
        status,
        currency: currency(v)?,
        account_type: text(field(v, "accountType")).unwrap_or_else(|| "Personal".to_owned()),
        account_subtype: text(field(v, "accountSubType")),
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
        description: text(field(v, "transactionInformation")).unwrap_or_default(),
        bank_transaction_code: text(field(field(v, "bankTransactionCode"), "code")),
        merchant,
        card_masked: text(field(field(v, "card"), "cardNumber")).map(|n| mask_card(&n)),
        counterparty: text(field(v, "counterparty")),
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
    }
}
