//! Money as an exact integer of minor units (1/100) with its currency. Never a float.

use rust_decimal::Decimal;
use std::fmt;

use crate::error::CoreError;

/// Digits after the decimal point that we store (kopecks, cents).
pub const MINOR_SCALE: u32 = 2;

/// An ISO 4217 currency code: three upper-case Latin letters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(String);

/// The alphabetic codes of ISO 4217 (list one, as published by SIX, the maintenance agency,
/// 2025-01: current currencies, the funds codes, and the precious metals banks keep metal
/// accounts in). Test, bond-unit and "no currency" codes (XTS, XBA–XBD, XXX, XSU, XUA) are
/// left out: no client holds money in them.
const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
    "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUP", "CVE",
    "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL",
    "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR",
    "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD",
    "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK",
    "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO",
    "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON",
    "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD",
    "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD",
    "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV",
    "WST", "XAF", "XAG", "XAU", "XCD", "XCG", "XDR", "XOF", "XPD", "XPF", "XPT", "YER", "ZAR",
    "ZMW", "ZWG",
];

impl Currency {
    /// A code a person or the configuration gives: it must be on the ISO 4217 list.
    pub fn parse(code: &str) -> Result<Self, CoreError> {
        let upper = code.trim().to_ascii_uppercase();
        if ISO_4217.binary_search(&upper.as_str()).is_ok() {
            Ok(Currency(upper))
        } else {
            Err(CoreError::invalid(format!(
                "currency must be an ISO 4217 code such as RUB, USD or EUR, got {:?}",
                code.trim()
            )))
        }
    }

    /// A code as a bank sent it and we stored it: three letters, on the list or not (a bank's
    /// old or private code is still the bank's figure, shown as it came).
    pub fn stored(code: &str) -> Option<Self> {
        let code = code.trim();
        (code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic()))
            .then(|| Currency(code.to_ascii_uppercase()))
    }

    pub fn rub() -> Self {
        Currency("RUB".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For values read back from our own database, which only ever holds parsed codes.
    pub(crate) fn from_db(code: String) -> Self {
        Currency(code)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A non-negative or signed amount in minor units, with its currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    pub fn amount(&self) -> Decimal {
        minor_to_decimal(self.minor)
    }
}

pub fn minor_to_decimal(minor: i64) -> Decimal {
    Decimal::new(minor, MINOR_SCALE)
}

/// Converts a decimal amount to minor units. Refuses more than two fractional digits (that would
/// silently lose money) and amounts beyond what an i64 of kopecks holds.
pub fn decimal_to_minor(amount: Decimal) -> Result<i64, CoreError> {
    let normalized = amount.normalize();
    if normalized.scale() > MINOR_SCALE {
        return Err(CoreError::invalid(format!(
            "amount {amount} has more than {MINOR_SCALE} digits after the decimal point"
        )));
    }
    let scaled = normalized
        .checked_mul(Decimal::from(10_i64.pow(MINOR_SCALE)))
        .ok_or_else(|| CoreError::invalid(format!("amount {amount} is too large")))?;
    i64::try_from(scaled).map_err(|_| CoreError::invalid(format!("amount {amount} is too large")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_come_from_the_iso_list() {
        assert!(
            ISO_4217.windows(2).all(|w| w[0] < w[1]),
            "sorted, for the search"
        );
        assert_eq!(Currency::parse(" usd ").expect("usd").as_str(), "USD");
        assert!(Currency::parse("RUB").is_ok() && Currency::parse("XAU").is_ok());
        for bad in ["ABC", "RUR", "XXX", "US", "РУБ", ""] {
            assert!(Currency::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Currency::stored("rur").expect("a bank's code").as_str(),
            "RUR"
        );
        assert!(Currency::stored("R1R").is_none());
    }
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).expect("test decimal")
    }

    #[test]
    fn converts_exactly_both_ways() {
        assert_eq!(decimal_to_minor(dec("115038.50")).ok(), Some(11_503_850));
        assert_eq!(decimal_to_minor(dec("0.01")).ok(), Some(1));
        assert_eq!(decimal_to_minor(dec("12")).ok(), Some(1200));
        assert_eq!(decimal_to_minor(dec("1.500")).ok(), Some(150));
        assert_eq!(minor_to_decimal(11_503_850).to_string(), "115038.50");
        assert_eq!(minor_to_decimal(-5).to_string(), "-0.05");
    }

    #[test]
    fn refuses_sub_kopeck_and_overflow() {
        assert!(decimal_to_minor(dec("0.001")).is_err());
        assert!(decimal_to_minor(dec("99999999999999999999")).is_err());
    }

    #[test]
    fn currency_codes() {
        assert_eq!(
            Currency::parse(" usd ").ok().map(|c| c.to_string()),
            Some("USD".into())
        );
        assert!(Currency::parse("RUBL").is_err());
        assert!(Currency::parse("R1B").is_err());
        assert!(Currency::parse("").is_err());
    }
}
