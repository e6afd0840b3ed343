//! The banks' JSON, parsed tolerantly: amounts as strings or numbers, times with or without a
//! zone or fraction, unknown fields ignored, `null` or `"None"` where a number was expected read
//! as absent. Everything here turns into `crm_connector` types or a `Malformed` error.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

/// A decimal sent as a string or a number; anything that does not parse is absent.
pub fn decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::String(s) => s.trim().parse::<Decimal>().ok(),
        Value::Number(n) => n.to_string().parse::<Decimal>().ok(),
        _ => None,
    }
}

/// RFC 3339, or a naive ISO date-time taken as UTC (banks drop the `Z`), or a bare date.
pub fn timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// A string field that some banks send as a number.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() && s != "None" => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct ConsentRequestResponse {
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub consent_id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ConsentEnvelope {
    pub data: ConsentDetail,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentDetail {
    pub status: String,
    #[serde(default)]
    pub expiration_date_time: Option<String>,
    #[serde(default)]
    pub permissions: Option<Vec<Value>>,
}

#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    pub data: T,
    #[serde(default)]
    pub meta: Option<Meta>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    #[serde(default)]
    pub total_pages: Option<Value>,
    #[serde(default)]
    pub total_records: Option<Value>,
}

impl Meta {
    pub fn total_records(&self) -> Option<u64> {
        self.total_records
            .as_ref()
            .and_then(decimal)
            .and_then(|d| u64::try_from(d).ok())
    }
    pub fn total_pages(&self) -> Option<u64> {
        self.total_pages
            .as_ref()
            .and_then(decimal)
            .and_then(|d| u64::try_from(d).ok())
    }
}

#[derive(Debug, Deserialize)]
pub struct AccountList {
    #[serde(default)]
    pub account: Vec<Value>,
}

#[derive(Debug, Deserialize)]
pub struct BalanceList {
    #[serde(default)]
    pub balance: Vec<Value>,
}

#[derive(Debug, Deserialize)]
pub struct TransactionList {
    #[serde(default)]
    pub transaction: Vec<Value>,
}

/// `GET /cards`: `data.cards` (plural) next to `data.total`.
#[derive(Debug, Deserialize)]
pub struct CardList {
    #[serde(default)]
    pub cards: Vec<Value>,
}

/// `GET /product-agreements`: `data` is a bare list.
#[derive(Debug, Deserialize)]
pub struct AgreementList {
    pub data: Vec<Value>,
}

/// `GET /product-agreements/{id}`: `{"data": {…}}`.
#[derive(Debug, Deserialize)]
pub struct AgreementDetail {
    pub data: Value,
}

#[derive(Debug, Deserialize)]
pub struct ProductList {
    #[serde(default)]
    pub product: Vec<Value>,
}

/// The `detail` of an error body, as text: `{"detail": "x"}`, `{"detail": {"error", "message"}}`
/// or a validation list.
pub fn error_detail(body: &str) -> (Option<String>, String) {
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return (None, format!("{} bytes of non-JSON", body.len()));
    };
    match value.get("detail") {
        Some(Value::String(s)) => (None, s.clone()),
        Some(Value::Object(o)) => (
            o.get("error").and_then(Value::as_str).map(str::to_owned),
            o.get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        ),
        Some(Value::Array(items)) => (
            None,
            items
                .iter()
                .filter_map(|i| i.get("msg").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        _ => (None, String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_accept_strings_and_numbers() {
        assert_eq!(decimal(&json!("1249.00")), "1249.00".parse().ok());
        assert_eq!(decimal(&json!(1249.5)), "1249.5".parse().ok());
        assert_eq!(decimal(&json!("None")), None);
        assert_eq!(decimal(&Value::Null), None);
    }

    #[test]
    fn times_with_and_without_zone_and_fraction() {
        let expected = "2025-10-12T19:41:00Z".parse::<DateTime<Utc>>().ok();
        assert_eq!(timestamp("2025-10-12T19:41:00Z"), expected);
        assert_eq!(timestamp("2025-10-12T19:41:00"), expected);
        assert_eq!(timestamp("2025-10-12T22:41:00+03:00"), expected);
        assert!(timestamp("2025-11-06T13:21:06.556824").is_some());
        assert!(timestamp("2024-03-15").is_some());
        assert_eq!(timestamp("yesterday"), None);
    }

    #[test]
    fn error_bodies_of_every_shape() {
        assert_eq!(
            error_detail(r#"{"detail": "Invalid client_secret"}"#).1,
            "Invalid client_secret"
        );
        let (code, msg) =
            error_detail(r#"{"detail": {"error": "CONSENT_REQUIRED", "message": "no consent"}}"#);
        assert_eq!(code.as_deref(), Some("CONSENT_REQUIRED"));
        assert_eq!(msg, "no consent");
        assert_eq!(
            error_detail(
                r#"{"detail": [{"loc": ["query", "limit"], "msg": "too big", "type": "x"}]}"#
            )
            .1,
            "too big"
        );
        assert!(error_detail("<html>502</html>").1.contains("non-JSON"));
    }
}
