//! What a sandbox is made of: the seed, our team's credentials, the banks and how much data they
//! hold. `SandboxConfig::default()` is the demo world of the project (three banks, twenty people).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::SandboxError;

/// How a bank treats consent requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Approval {
    /// Approved at once (ABank, VBank): the answer carries the consent id.
    Automatic,
    /// The request stays pending until the client approves it in the bank (SBank); the control
    /// API plays the client (`approve` / `reject`).
    ByClient,
}

/// The ways a bank's answers differ from the standard and from each other
/// (`../shared/openbanking-ru.md`), so connectors' tolerance is exercised.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quirks {
    /// About one amount in seven is a JSON number instead of a decimal string.
    pub numeric_amounts: bool,
    /// Times without the `Z` (naive UTC).
    pub naive_times: bool,
    /// Times with microseconds.
    pub fractional_times: bool,
    /// `Booked`/`Pending` (the standard's words) instead of the bank's own `completed`/`pending`.
    pub standard_status_words: bool,
    /// Accepts `from_booking_date_time`/`to_booking_date_time` but returns every row anyway.
    pub ignores_date_filter: bool,
    /// Answers the consent request without a bank token.
    pub consent_request_without_token: bool,
    /// Keeps answering an account's balances and transactions this long after its owner's
    /// consent was revoked (it checks ownership before consent). `/accounts` refuses at once.
    pub account_calls_after_revocation: Option<Duration>,
    /// Also serves a standard RFC 6749 client-credentials token endpoint at `POST /oauth2/token`.
    pub oauth2_token_endpoint: bool,
}

/// One bank of the sandbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankConfig {
    /// Lower-case code (`abank`); the bank's name in URLs of the control API and in `url(code)`.
    pub code: String,
    pub name: String,
    pub approval: Approval,
    pub quirks: Quirks,
}

impl BankConfig {
    pub fn new(code: &str, name: &str, approval: Approval) -> Self {
        BankConfig {
            code: code.to_owned(),
            name: name.to_owned(),
            approval,
            quirks: Quirks::default(),
        }
    }

    /// ABank: auto-approves; amounts as strings, times with `Z`, status words `completed`/`pending`;
    /// takes the consent request without a token.
    pub fn abank() -> Self {
        let mut b = BankConfig::new("abank", "ABank", Approval::Automatic);
        b.quirks.consent_request_without_token = true;
        b
    }

    /// VBank: auto-approves; some amounts are numbers, times without `Z` and with microseconds,
    /// ignores the date filter, and answers account-level calls for ten minutes after a
    /// revocation.
    pub fn vbank() -> Self {
        let mut b = BankConfig::new("vbank", "VBank", Approval::Automatic);
        b.quirks.numeric_amounts = true;
        b.quirks.naive_times = true;
        b.quirks.fractional_times = true;
        b.quirks.ignores_date_filter = true;
        b.quirks.account_calls_after_revocation = Some(Duration::from_secs(600));
        b
    }

    /// SBank: consents need the client's approval; the standard's `Booked`/`Pending`, times with
    /// microseconds and `Z`.
    pub fn sbank() -> Self {
        let mut b = BankConfig::new("sbank", "SBank", Approval::ByClient);
        b.quirks.standard_status_words = true;
        b.quirks.fractional_times = true;
        b
    }
}

/// How many transactions the banks hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Volume {
    /// What the people's habits give: a few thousand transactions per bank with the defaults.
    Realistic,
    /// Exactly this many transactions at each bank, spread over its accounts (benchmarks).
    PerBank(u64),
    /// Exactly this many transactions in the whole sandbox, spread over the banks by their
    /// accounts (benchmarks: `Volume::Total(1_000_000)`).
    Total(u64),
}

/// The whole sandbox: deterministic from `seed` and `anchor`.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// The same seed (and anchor) gives byte-identical data.
    pub seed: u64,
    /// Our team id (`team200`): the token call's `client_id`, `x-requesting-bank`, and the
    /// prefix of the clients' ids (`team200-1`).
    pub team_id: String,
    /// The team's `client_secret`.
    pub team_secret: String,
    pub banks: Vec<BankConfig>,
    /// Distinct people, `team200-1 ..= team200-N`; each bank holds at least ten of them (all of
    /// them when fewer), some in two or three banks.
    pub persons: u32,
    /// Months of history, drawn per person in this range (inclusive).
    pub history_months: (u32, u32),
    pub volume: Volume,
    /// Lifetime of a bank token (`expires_in`).
    pub token_ttl: Duration,
    /// The end of the generated history. `None`: the start of the current UTC day, so the data
    /// is recent and the same all day long.
    pub anchor: Option<DateTime<Utc>>,
    /// When set, the control API (`/sandbox/...`) needs `Authorization: Bearer <token>`.
    pub control_token: Option<String>,
    /// The demo's moments (see `scenarios.rs`): a deposit maturing and a loan ending within
    /// weeks, a salary that moved banks, a salary that stopped, a large inflow, a consent about
    /// to expire. Off by default, so the plain world stays as it was.
    pub scenarios: bool,
}

/// The team credentials of the default sandbox. Not a secret: the sandbox is for development.
pub const DEFAULT_TEAM_ID: &str = "team200";
pub const DEFAULT_TEAM_SECRET: &str = "5a9d3c1e7b2f4a6c8e0d1b3f5a7c9e2d";

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            seed: 20_251_106,
            team_id: DEFAULT_TEAM_ID.to_owned(),
            team_secret: DEFAULT_TEAM_SECRET.to_owned(),
            banks: vec![
                BankConfig::abank(),
                BankConfig::vbank(),
                BankConfig::sbank(),
            ],
            persons: 20,
            history_months: (6, 12),
            volume: Volume::Realistic,
            token_ttl: Duration::from_secs(86_400),
            anchor: None,
            control_token: None,
            scenarios: false,
        }
    }
}

impl SandboxConfig {
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The demo's moments (see [`SandboxConfig::scenarios`]).
    pub fn with_scenarios(mut self, on: bool) -> Self {
        self.scenarios = on;
        self
    }

    pub fn with_volume(mut self, volume: Volume) -> Self {
        self.volume = volume;
        self
    }

    pub fn with_anchor(mut self, anchor: DateTime<Utc>) -> Self {
        self.anchor = Some(anchor);
        self
    }

    pub fn with_banks(mut self, banks: Vec<BankConfig>) -> Self {
        self.banks = banks;
        self
    }

    /// Refuses settings that cannot make a bank, naming the bad field.
    pub fn validate(&self) -> Result<(), SandboxError> {
        let bad = |field: &str, why: &str| Err(SandboxError::Config(format!("{field}: {why}")));
        if self.banks.is_empty() {
            return bad("banks", "at least one bank is needed");
        }
        for (i, b) in self.banks.iter().enumerate() {
            let valid = !b.code.is_empty()
                && b.code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid {
                return bad("banks.code", "lower-case letters, digits and '-' only");
            }
            if self.banks[..i].iter().any(|o| o.code == b.code) {
                return bad("banks.code", "codes must be unique");
            }
            if b.name.trim().is_empty() {
                return bad("banks.name", "must not be empty");
            }
        }
        if self.team_id.is_empty()
            || !self
                .team_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return bad("team_id", "letters, digits and '_' only, not empty");
        }
        if self.team_secret.is_empty() {
            return bad("team_secret", "must not be empty");
        }
        if self.persons == 0 || self.persons > 100_000 {
            return bad("persons", "1 ..= 100000");
        }
        let (lo, hi) = self.history_months;
        if lo == 0 || lo > hi || hi > 120 {
            return bad("history_months", "1 <= min <= max <= 120");
        }
        if self.token_ttl < Duration::from_secs(1) {
            return bad("token_ttl", "at least one second");
        }
        match self.volume {
            Volume::PerBank(n) | Volume::Total(n) if n > 200_000_000 => {
                bad("volume", "at most 200 million transactions")
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid_and_bad_fields_are_named() {
        assert!(SandboxConfig::default().validate().is_ok());
        let mut c = SandboxConfig::default();
        c.banks.push(BankConfig::abank());
        assert!(c
            .validate()
            .expect_err("duplicate code")
            .to_string()
            .contains("banks.code"));
        let c = SandboxConfig {
            history_months: (13, 12),
            ..SandboxConfig::default()
        };
        assert!(c
            .validate()
            .expect_err("bad months")
            .to_string()
            .contains("history_months"));
        assert_eq!(DEFAULT_TEAM_SECRET.len(), 32);
    }
}
