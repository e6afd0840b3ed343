//! The server's configuration: read once from the environment (and `.env`), validated at start,
//! with errors that name the variable. This is the only place in the workspace that reads the
//! environment (clippy's `disallowed-methods` keeps it so).
#![allow(clippy::disallowed_methods)]

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crm_core::assistant::llm::{ApiKey, LlmSettings, Timeouts};
use crm_core::assistant::{AssistantSettings, Fallback};
use crm_core::auth::BootstrapPassword;
use crm_core::domain::Currency;

/// A variable that is set but unusable.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {var}: {message}")]
pub struct ConfigError {
    /// The variable, as the operator spells it (`PORT`, `SBANK_APPROVAL`).
    pub var: Cow<'static, str>,
    pub message: String,
}

fn err(var: impl Into<Cow<'static, str>>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var: var.into(),
        message: message.into(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub environment: Environment,
    pub database_url: String,
    pub database_max_connections: u32,
    pub host: IpAddr,
    pub port: u16,
    /// The address users reach us at (`https://crm.example.ru`). Decides the allowed Origin and
    /// whether cookies are `Secure` (with the `__Host-` prefix).
    pub public_url: Option<String>,
    /// Further origins allowed to call the API from a browser.
    pub allowed_origins: Vec<String>,
    pub secret_key: Vec<u8>,
    /// True when `SECRET_KEY` was not set and a random one is used (sessions end on restart).
    pub secret_key_generated: bool,
    pub auth_username: String,
    pub auth_password: BootstrapPassword,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    pub login_max_failures: i32,
    /// Failed logins allowed per client address within the lockout window.
    pub login_max_failures_per_address: i32,
    pub login_lockout: Duration,
    /// Argon2id hashes computed at once (19 MiB each); further logins wait their turn.
    pub password_hash_concurrency: usize,
    pub graphiql: bool,
    pub introspection: bool,
    pub graphql_max_depth: usize,
    pub graphql_max_complexity: usize,
    /// Field selections one document may hold (before fragments are expanded).
    pub graphql_max_fields: usize,
    /// Requests at once per user and for expensive requests (`QUERY_CONCURRENCY_PER_USER`,
    /// `QUERY_QUEUE_WAIT_MS`, `EXPENSIVE_QUERY_CONCURRENCY`, `EXPENSIVE_QUERY_COST`), and
    /// analyses at once (`ANALYSIS_CONCURRENCY`).
    pub gate: crm_graphql::cost::GateSettings,
    /// API requests per user per minute, all replicas together (`QUERY_RATE_PER_MINUTE`; 0:
    /// no limit).
    pub requests_per_minute: u64,
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    /// How long a websocket may wait before `connection_init` (then it is closed with 4408).
    pub ws_init_timeout: Duration,
    /// Websockets one user may hold open on one server process; one more is closed with 4429.
    pub ws_max_sockets_per_user: usize,
    /// Bearer token `/metrics` asks for (`Authorization: Bearer ...`). In production without
    /// one, `/metrics` is off.
    pub metrics_token: Option<String>,
    /// Client views of one user within this window are audited once (0: every view).
    pub audit_view_window: Duration,
    /// How long a query response may be reused while no write happened (0: never).
    pub graphql_cache: Duration,
    /// Take the client address from the last `X-Forwarded-For` hop (only behind a proxy you run).
    pub trust_proxy: bool,
    /// Header timeout and connection caps of the HTTP server (`HTTP_HEADER_TIMEOUT_SECS`,
    /// `MAX_CONNECTIONS`, `MAX_CONNECTIONS_PER_ADDRESS`).
    pub connections: crate::http::conn::ConnectionLimits,
    /// Serve the web app from this folder instead of the copy built into the binary
    /// (development: edits show without a rebuild).
    pub web_dir: Option<PathBuf>,
    pub base_currency: Currency,
    /// Rating grades and the income scale of the rating model.
    pub ratings: crm_core::ratings::RatingSettings,
    pub log_format: LogFormat,
    pub banks: BankConfig,
    /// Every bank's HTTP limits: per-attempt timeout, retries, largest answer
    /// (`BANK_TIMEOUT_SECS`, `BANK_RETRIES`, `BANK_MAX_BODY_BYTES`).
    pub bank_limits: crm_core::connectors::HttpLimits,
    /// When the scheduled sync runs (UTC), as a `cron` schedule with seconds.
    pub sync_cron: cron::Schedule,
    /// The schedule as configured, for messages.
    pub sync_cron_text: String,
    /// History window, overlap, concurrency and retry budget of the sync engine.
    pub sync: crm_core::sync::SyncSettings,
    /// First port of `ai-crm sandbox` (one bank per port from here).
    pub sandbox_port: u16,
    /// The AI assistant: provider (none: the built-in analyst), fallback, privacy, limits.
    pub assistant: AssistantSettings,
    /// Signal thresholds, the home bank and the task rules (`SIGNAL_*`, `HOME_BANK`).
    pub signals: crm_core::signals::SignalSettings,
}

/// Which banks to talk to, and with which credentials.
#[derive(Clone, Debug)]
pub enum BankConfig {
    /// No bank URL configured: run the built-in sandbox banks in-process with demo clients.
    Sandbox {
        seed: u64,
        /// Distinct demo people across the sandbox banks.
        persons: u32,
        /// The last day of the generated history (default: the day of the first start).
        anchor: Option<chrono::NaiveDate>,
    },
    /// No bank URL and `SANDBOX=off`: no bank at all (clients and transactions by hand).
    NoBanks,
    /// Real (or separately run) banks, each with our credentials and its options (validated by
    /// its builder when the configuration is read).
    Remote {
        banks: Vec<crm_core::connectors::BankConfig>,
    },
}

/// Where values come from: the process environment, or a map in tests.
pub trait Source {
    fn get(&self, key: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn get(&self, key: &str) -> Option<String> {
        std::env::var(key).ok()
    }
}

impl Source for HashMap<String, String> {
    fn get(&self, key: &str) -> Option<String> {
        HashMap::get(self, key).cloned()
    }
}

struct Reader<'a> {
    source: &'a dyn Source,
}

impl Reader<'_> {
    fn text(&self, var: &str) -> Option<String> {
        self.source
            .get(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn parse<T: std::str::FromStr>(
        &self,
        var: &'static str,
        default: T,
        what: &str,
    ) -> Result<T, ConfigError> {
        match self.text(var) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| err(var, format!("must be {what}, got {v:?}"))),
        }
    }

    fn ranged(
        &self,
        var: &'static str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        let v: u64 = self.parse(var, default, &format!("a whole number from {min} to {max}"))?;
        if (min..=max).contains(&v) {
            Ok(v)
        } else {
            Err(err(var, format!("must be from {min} to {max}, got {v}")))
        }
    }

    /// Seconds, fractions allowed (`0.5`), within `min..=max`.
    fn seconds(
        &self,
        var: &'static str,
        default: f64,
        min: f64,
        max: f64,
    ) -> Result<Duration, ConfigError> {
        let v: f64 = self.parse(var, default, "a number of seconds such as 30 or 0.5")?;
        if v.is_finite() && (min..=max).contains(&v) {
            Ok(Duration::from_secs_f64(v))
        } else {
            Err(err(
                var,
                format!("must be from {min} to {max} seconds, got {v}"),
            ))
        }
    }

    fn flag(&self, var: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.text(var).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
            Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
            Some(v) => Err(err(var, format!("must be true or false, got {v:?}"))),
        }
    }
}

/// `SIGNAL_*` and `HOME_BANK`. Amounts are whole units of the base currency.
fn signal_settings(
    r: &Reader,
    banks: &BankConfig,
) -> Result<crm_core::signals::SignalSettings, ConfigError> {
    use crm_core::domain::{SignalKind, TaskPriority};
    use crm_core::signals::{SignalSettings, TaskRule};
    let d = SignalSettings::default();
    let consent_days = match r.text("SIGNAL_CONSENT_DAYS") {
        None => d.consent_days.clone(),
        Some(text) => {
            let mut days = Vec::new();
            for part in text.split(',') {
                let n: i64 = part.trim().parse().ok().filter(|n| (1..=90).contains(n)).ok_or_else(|| {
                    err(
                        "SIGNAL_CONSENT_DAYS",
                        format!("must be days from 1 to 90 separated by commas (like 14,7,1), got {text:?}"),
                    )
                })?;
                days.push(n);
            }
            days
        }
    };
    let units = |var: &'static str, default_minor: i64, max: u64| -> Result<i64, ConfigError> {
        Ok(r.ranged(var, (default_minor / 100) as u64, 0, max)? as i64 * 100)
    };
    // The home bank: a configured bank's code. With the built-in sandbox banks the first one
    // plays "our bank" unless told otherwise.
    let known: Vec<String> = match banks {
        BankConfig::Remote { banks } => banks.iter().map(|b| b.code.clone()).collect(),
        BankConfig::Sandbox { .. } => {
            crm_core::connectors::bank_crates(crm_core::connectors::TABLE)
                .map(|(code, _, _)| code.to_owned())
                .collect()
        }
        BankConfig::NoBanks => Vec::new(),
    };
    let home_bank = match r.text("HOME_BANK").map(|c| c.to_ascii_lowercase()) {
        Some(code) if code == "none" => None,
        Some(code) if known.contains(&code) => Some(code),
        Some(code) => {
            return Err(err(
                "HOME_BANK",
                format!(
                    "must be the code of a configured bank ({}) or none, got {code:?}",
                    known.join(", ")
                ),
            ))
        }
        None if matches!(banks, BankConfig::Sandbox { .. }) => known.first().cloned(),
        None => None,
    };
    let mut task_rules = std::collections::HashMap::new();
    if let Some(text) = r.text("SIGNAL_TASKS") {
        let bad = |part: &str| {
            err(
                "SIGNAL_TASKS",
                format!(
                    "entries are KIND=off or KIND=<days>[:LOW|NORMAL|HIGH|URGENT] separated by commas (like LARGE_INFLOW=2:HIGH,LOAN_ENDING=off); {part:?} is not one"
                ),
            )
        };
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kind, rule) = part.split_once('=').ok_or_else(|| bad(part))?;
            let kind =
                SignalKind::parse(&kind.trim().to_ascii_uppercase()).map_err(|_| bad(part))?;
            let rule = rule.trim();
            if rule.eq_ignore_ascii_case("off") {
                task_rules.insert(kind, None);
                continue;
            }
            let (days, priority) = match rule.split_once(':') {
                Some((days, p)) => (
                    days,
                    TaskPriority::parse(&p.trim().to_ascii_uppercase()).map_err(|_| bad(part))?,
                ),
                None => (
                    rule,
                    SignalSettings::default_task_rule(kind)
                        .map(|r| r.priority)
                        .unwrap_or(TaskPriority::Normal),
                ),
            };
            let due_in_days: i64 = days
                .trim()
                .trim_end_matches('d')
                .parse()
                .ok()
                .filter(|n| (0..=365).contains(n))
                .ok_or_else(|| bad(part))?;
            task_rules.insert(
                kind,
                Some(TaskRule {
                    due_in_days,
                    priority,
                }),
            );
        }
    }
    Ok(SignalSettings {
        consent_days,
        maturity_days: r.ranged("SIGNAL_MATURITY_DAYS", d.maturity_days as u64, 1, 365)? as i64,
        salary_grace_days: r.ranged(
            "SIGNAL_SALARY_GRACE_DAYS",
            d.salary_grace_days as u64,
            0,
            31,
        )? as i64,
        income_drop_percent: r.ranged("SIGNAL_INCOME_DROP_PERCENT", 30, 1, 100)? as u32,
        income_drop_min_minor: units(
            "SIGNAL_INCOME_DROP_MIN",
            d.income_drop_min_minor,
            1_000_000_000,
        )?,
        large_inflow_min_minor: units(
            "SIGNAL_LARGE_INFLOW_MIN",
            d.large_inflow_min_minor,
            1_000_000_000_000,
        )?,
        large_inflow_multiple: r.ranged("SIGNAL_LARGE_INFLOW_MULTIPLE", 5, 1, 1_000)? as u32,
        large_inflow_days: r.ranged(
            "SIGNAL_LARGE_INFLOW_DAYS",
            d.large_inflow_days as u64,
            1,
            90,
        )? as i64,
        low_balance_days: r.ranged("SIGNAL_LOW_BALANCE_DAYS", d.low_balance_days as u64, 1, 90)?
            as i64,
        low_balance_floor_minor: units(
            "SIGNAL_LOW_BALANCE_FLOOR",
            d.low_balance_floor_minor,
            1_000_000_000,
        )?,
        rating_lookback_days: r.ranged(
            "SIGNAL_RATING_DAYS",
            d.rating_lookback_days as u64,
            1,
            365,
        )? as i64,
        new_product_days: r.ranged("SIGNAL_NEW_PRODUCT_DAYS", d.new_product_days as u64, 1, 365)?
            as i64,
        home_bank,
        task_rules,
    })
}

/// The HTTP server's limits. A connection holds a database connection only while one of its
/// requests runs; idle keep-alive connections and websockets hold none, so the default cap is
/// 32 connections per pooled database connection (at least 256): room for every user's
/// browser and sockets, while a flood of connections stops at a number the process can carry.
/// One address may hold half of them; behind a trusted proxy every connection comes from the
/// proxy, so there is no per-address cap (the proxy's own limits apply).
fn connection_limits(
    r: &Reader,
    pool: u32,
    trust_proxy: bool,
) -> Result<crate::http::conn::ConnectionLimits, ConfigError> {
    let header_timeout = r.seconds("HTTP_HEADER_TIMEOUT_SECS", 10.0, 1.0, 300.0)?;
    let max_connections = r.ranged(
        "MAX_CONNECTIONS",
        (u64::from(pool) * 32).max(256),
        16,
        1_000_000,
    )? as usize;
    let max_per_address = if trust_proxy {
        if r.text("MAX_CONNECTIONS_PER_ADDRESS").is_some() {
            return Err(err(
                "MAX_CONNECTIONS_PER_ADDRESS",
                "has no effect with TRUST_PROXY=true (every connection comes from the proxy): limit connections per client at the proxy",
            ));
        }
        None
    } else {
        Some(r.ranged(
            "MAX_CONNECTIONS_PER_ADDRESS",
            (max_connections / 2) as u64,
            1,
            max_connections as u64,
        )? as usize)
    };
    Ok(crate::http::conn::ConnectionLimits {
        header_timeout,
        max_connections,
        max_per_address,
    })
}

fn origin_of(url: &str, var: &'static str) -> Result<String, ConfigError> {
    let url = url.trim_end_matches('/');
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        err(
            var,
            format!("must be a URL like https://crm.example.ru, got {url:?}"),
        )
    })?;
    if scheme != "http" && scheme != "https" {
        return Err(err(
            var,
            format!("must start with http:// or https://, got {url:?}"),
        ));
    }
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        return Err(err(var, format!("names no host: {url:?}")));
    }
    Ok(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

fn bank_url(url: &str, var: &str) -> Result<String, ConfigError> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
        return Err(err(
            var.to_owned(),
            format!("must be an http(s) URL, got {url:?}"),
        ));
    }
    Ok(url.to_owned())
}

/// The configured banks, without credentials yet: `<CODE>_URL` for every bank crate of core's
/// registry table, then each `BANKS` entry; each with the `<CODE>_<KEY>` options its builder
/// reads (the crate's, or the protocol builder's for a bank by configuration).
fn bank_configs(r: &Reader) -> Result<Vec<crm_core::connectors::BankConfig>, ConfigError> {
    use crm_core::connectors::{
        bank_crates, entry_for, option_var, BankConfig, Credentials, TABLE,
    };
    let mut banks = Vec::new();
    for (code, name, _) in bank_crates(TABLE) {
        let var = option_var(code, "URL");
        if let Some(url) = r.text(&var) {
            let url = bank_url(&url, &var)?;
            banks.push(BankConfig::new(code, &url, Credentials::default()).with_name(name));
        }
    }
    if let Some(list) = r.text("BANKS") {
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            banks.push(parse_bank(item)?);
        }
    }
    for bank in &mut banks {
        let options = entry_for(TABLE, &bank.code).map_or(&[][..], |e| e.options());
        for key in options {
            if let Some(value) = r.text(&bank.var(key)) {
                bank.options.insert((*key).to_owned(), value);
            }
        }
    }
    Ok(banks)
}

/// A builder's refusal as the variable it names (`SBANK_APPROVAL: must be ...`).
fn bank_error(e: crm_core::connectors::ConfigError) -> ConfigError {
    let text = e.to_string();
    match e.option() {
        Some(var) => {
            let message = text.strip_prefix(&format!("{var}: ")).unwrap_or(&text);
            err(var.to_owned(), message)
        }
        None => err("BANKS", text),
    }
}

/// `code|Name|https://url` or `code|Name|https://url|approval` (consents need the client's approval).
fn parse_bank(item: &str) -> Result<crm_core::connectors::BankConfig, ConfigError> {
    let parts: Vec<&str> = item.split('|').map(str::trim).collect();
    let usage = "each entry is code|Name|https://url (add |approval when consents need the client's approval)";
    if parts.len() < 3 || parts.len() > 4 {
        return Err(err("BANKS", format!("{usage}; got {item:?}")));
    }
    let code = parts[0].to_ascii_lowercase();
    if code.is_empty()
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(err(
            "BANKS",
            format!("bank code {:?} must be letters, digits, - or _", parts[0]),
        ));
    }
    let url = bank_url(parts[2], "BANKS")?;
    let mut bank = crm_core::connectors::BankConfig::new(
        &code,
        &url,
        crm_core::connectors::Credentials::default(),
    );
    if !parts[1].is_empty() {
        bank = bank.with_name(parts[1]);
    }
    match parts.get(3) {
        None => Ok(bank),
        Some(&"approval") => Ok(bank.with_option("APPROVAL", "client")),
        Some(other) => Err(err("BANKS", format!("unknown option {other:?}; {usage}"))),
    }
}

/// Standard five-field cron (`0 0 * * *`) or the six/seven-field form with seconds.
fn parse_cron(text: &str) -> Result<cron::Schedule, ConfigError> {
    use std::str::FromStr;
    let fields = text.split_whitespace().count();
    let full = if fields == 5 {
        format!("0 {text}")
    } else {
        text.to_owned()
    };
    cron::Schedule::from_str(&full).map_err(|e| err("SYNC_CRON", format!("not a cron schedule ({e}): {text:?}; e.g. \"0 0 * * *\" for every night at 00:00 UTC")))
}

/// OpenRouter: what `AI_API_URL` means when only `AI_API_KEY` is set.
pub const DEFAULT_AI_API_URL: &str = "https://openrouter.ai/api/v1";
pub const DEFAULT_AI_MODEL: &str = "google/gemini-2.5-flash-lite";

fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let host = rest.split('/').next().unwrap_or_default();
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    let host = if host.starts_with('[') {
        host.split(']')
            .next()
            .unwrap_or_default()
            .trim_start_matches('[')
    } else {
        host.split(':').next().unwrap_or_default()
    };
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `AI_*`: a provider when a key or a URL is set (local servers need no key), else the analyst.
fn assistant_settings(r: &Reader<'_>, prod: bool) -> Result<AssistantSettings, ConfigError> {
    let url_set = r.text("AI_API_URL");
    let key = r.text("AI_API_KEY");
    let url = url_set
        .clone()
        .unwrap_or_else(|| DEFAULT_AI_API_URL.to_owned());
    let url = url.trim_end_matches('/').to_owned();
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
        return Err(err(
            "AI_API_URL",
            format!("must be the http(s) base URL of an OpenAI-compatible API, e.g. {DEFAULT_AI_API_URL} or http://127.0.0.1:11434/v1; got {url:?}"),
        ));
    }
    if prod && url.starts_with("http://") && !is_loopback_url(&url) {
        return Err(err(
            "AI_API_URL",
            "must use https:// for a provider on another host in production: the key and the questions would travel in clear text",
        ));
    }
    let model = r
        .text("AI_MODEL")
        .unwrap_or_else(|| DEFAULT_AI_MODEL.to_owned());
    let max_tokens = r.ranged("AI_MAX_TOKENS", 1024, 16, 65_536)? as u32;
    let temperature: f32 = r.parse("AI_TEMPERATURE", 0.2, "a number from 0 to 2")?;
    if !(0.0..=2.0).contains(&temperature) {
        return Err(err(
            "AI_TEMPERATURE",
            format!("must be from 0 to 2, got {temperature}"),
        ));
    }
    let total = r.seconds("AI_TIMEOUT", 60.0, 0.1, 3600.0)?;
    let timeouts = Timeouts {
        connect: r
            .seconds("AI_CONNECT_TIMEOUT", 10.0, 0.1, 600.0)?
            .min(total),
        first_byte: r
            .seconds("AI_FIRST_BYTE_TIMEOUT", 30.0, 0.1, 3600.0)?
            .min(total),
        idle: r.seconds("AI_IDLE_TIMEOUT", 30.0, 0.1, 3600.0)?.min(total),
        total,
    };
    let fallback = match r
        .text("AI_FALLBACK")
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("analyst") => Fallback::Analyst,
        Some("error") => Fallback::Error,
        Some(other) => {
            return Err(err(
                "AI_FALLBACK",
                format!("must be analyst or error, got {other:?}"),
            ))
        }
    };
    let provider = (key.is_some() || url_set.is_some()).then(|| LlmSettings {
        base_url: url,
        api_key: key.map(ApiKey::new),
        model,
        max_tokens,
        temperature,
        timeouts,
    });
    Ok(AssistantSettings {
        provider,
        fallback,
        send_pii: r.flag("AI_SEND_PII", false)?,
        rate_limit_per_minute: r.ranged("AI_RATE_LIMIT_PER_MINUTE", 20, 1, 100_000)? as u32,
        context_tokens: r.ranged("AI_CONTEXT_TOKENS", 3000, 200, 200_000)? as usize,
        max_tool_rounds: r.ranged("AI_MAX_TOOL_ROUNDS", 4, 1, 10)? as u32,
        analyst_chunk_delay: Duration::from_millis(r.ranged("AI_ANALYST_CHUNK_MS", 15, 0, 1000)?),
    })
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }

    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        let r = Reader { source };
        let environment = match r
            .text("APP_ENV")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("development") | Some("dev") => Environment::Development,
            Some("production") | Some("prod") => Environment::Production,
            Some(other) => {
                return Err(err(
                    "APP_ENV",
                    format!("must be development or production, got {other:?}"),
                ))
            }
        };
        let prod = environment == Environment::Production;

        let database_url = r
            .text("DATABASE_URL")
            .unwrap_or_else(|| "sqlite://data/ai-crm.db".to_owned());
        if !database_url.starts_with("sqlite:") && !database_url.starts_with("postgres") {
            return Err(err(
                "DATABASE_URL",
                "must start with sqlite:// or postgres://",
            ));
        }
        let default_pool = if database_url.starts_with("sqlite:") {
            8
        } else {
            16
        };
        // At least two: on PostgreSQL a scheduled sync and a re-categorisation each keep one
        // connection for their advisory lock while their work uses others.
        let database_max_connections =
            r.ranged("DATABASE_MAX_CONNECTIONS", default_pool, 2, 1000)? as u32;

        let host: IpAddr = r.parse(
            "HOST",
            IpAddr::from([127, 0, 0, 1]),
            "an IP address such as 0.0.0.0",
        )?;
        let port = r.ranged("PORT", 8080, 0, 65535)? as u16;

        let public_url = match r.text("PUBLIC_URL") {
            Some(u) => Some(origin_of(&u, "PUBLIC_URL")?),
            None => None,
        };
        let allowed_origins = match r.text("ALLOWED_ORIGINS") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|o| origin_of(o, "ALLOWED_ORIGINS"))
                .collect::<Result<_, _>>()?,
        };

        let allow_plain_http = r.flag("ALLOW_PLAIN_HTTP", false)?;
        if prod
            && !allow_plain_http
            && !public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
        {
            return Err(err(
                "PUBLIC_URL",
                "must be the https:// address users reach in production (cookies are then Secure with the __Host- prefix); set ALLOW_PLAIN_HTTP=true only for a closed network",
            ));
        }

        let (secret_key, secret_key_generated) = match r.text("SECRET_KEY") {
            Some(k) if k.len() >= 32 => (k.into_bytes(), false),
            Some(_) => {
                return Err(err(
                    "SECRET_KEY",
                    "must be at least 32 characters (try: openssl rand -hex 32)",
                ))
            }
            None if prod => return Err(err("SECRET_KEY", "is required when APP_ENV=production")),
            None => (uuid::Uuid::new_v4().as_bytes().repeat(2), true),
        };

        let auth_username = r
            .text("AUTH_USERNAME")
            .unwrap_or_else(|| "admin".to_owned());
        let auth_password = match (r.text("AUTH_PASSWORD_HASH"), r.text("AUTH_PASSWORD")) {
            (Some(hash), _) => {
                crm_core::auth::check_phc_hash(&hash)
                    .map_err(|e| err("AUTH_PASSWORD_HASH", e.to_string()))?;
                BootstrapPassword::Hash(hash)
            }
            (None, Some(_)) if prod => {
                return Err(err(
                    "AUTH_PASSWORD",
                    "is for development only; set AUTH_PASSWORD_HASH (ai-crm hash-password)",
                ))
            }
            (None, Some(p)) => {
                crm_core::auth::check_new_password(&p)
                    .map_err(|e| err("AUTH_PASSWORD", e.to_string()))?;
                BootstrapPassword::Plain(p)
            }
            (None, None) => BootstrapPassword::Generate,
        };

        let session_idle =
            Duration::from_secs(60 * r.ranged("SESSION_IDLE_MINUTES", 30, 1, 24 * 60)?);
        let session_absolute =
            Duration::from_secs(3600 * r.ranged("SESSION_ABSOLUTE_HOURS", 12, 1, 24 * 30)?);
        if session_idle > session_absolute {
            return Err(err(
                "SESSION_IDLE_MINUTES",
                "must not be longer than SESSION_ABSOLUTE_HOURS",
            ));
        }
        let login_max_failures = r.ranged("LOGIN_MAX_FAILURES", 5, 1, 1000)? as i32;
        let login_max_failures_per_address = r.ranged(
            "LOGIN_MAX_FAILURES_PER_ADDRESS",
            (login_max_failures as u64).saturating_mul(4),
            1,
            100_000,
        )? as i32;
        let login_lockout =
            Duration::from_secs(60 * r.ranged("LOGIN_LOCKOUT_MINUTES", 15, 1, 24 * 60)?);
        let password_hash_concurrency = r.ranged("PASSWORD_HASH_CONCURRENCY", 2, 1, 64)? as usize;

        let graphiql = r.flag("GRAPHIQL", !prod)?;
        let introspection = r.flag("INTROSPECTION", !prod)?;
        if prod && graphiql {
            return Err(err(
                "GRAPHIQL",
                "must stay off in production (it needs introspection, which shows the whole schema)",
            ));
        }
        if prod && introspection {
            return Err(err(
                "INTROSPECTION",
                "must stay off in production: introspection and field suggestions map the API for an attacker",
            ));
        }
        let graphql_max_depth = r.ranged("GRAPHQL_MAX_DEPTH", 16, 3, 64)? as usize;
        let graphql_max_complexity =
            r.ranged("GRAPHQL_MAX_COMPLEXITY", 2_500, 50, 1_000_000)? as usize;
        let graphql_max_fields = r.ranged("GRAPHQL_MAX_FIELDS", 500, 10, 100_000)? as usize;
        let requests_per_minute = r.ranged("QUERY_RATE_PER_MINUTE", 1_200, 0, 1_000_000)?;
        let gate_defaults = crm_graphql::cost::GateSettings::default();
        let gate = crm_graphql::cost::GateSettings {
            per_user: r.ranged("QUERY_CONCURRENCY_PER_USER", 4, 1, 1_000)? as usize,
            wait: Duration::from_millis(r.ranged("QUERY_QUEUE_WAIT_MS", 2_000, 0, 60_000)?),
            expensive: r.ranged(
                "EXPENSIVE_QUERY_CONCURRENCY",
                gate_defaults.expensive as u64,
                1,
                1_000,
            )? as usize,
            expensive_cost: r.ranged(
                "EXPENSIVE_QUERY_COST",
                gate_defaults.expensive_cost as u64,
                1,
                1_000_000,
            )? as usize,
            analyses: r.ranged(
                "ANALYSIS_CONCURRENCY",
                u64::from(database_max_connections / 2).max(1),
                1,
                1_000,
            )? as usize,
        };
        let body_limit_bytes = r.ranged("BODY_LIMIT_BYTES", 256 << 10, 1024, 64 << 20)? as usize;
        let request_timeout = Duration::from_secs(r.ranged("REQUEST_TIMEOUT_SECS", 30, 1, 3600)?);
        let ws_init_timeout = r.seconds("WS_INIT_TIMEOUT_SECS", 10.0, 0.1, 300.0)?;
        let ws_max_sockets_per_user = r.ranged("WS_MAX_SOCKETS_PER_USER", 8, 1, 1000)? as usize;
        let metrics_token = match r.text("METRICS_TOKEN") {
            Some(t) if t.len() < 16 => {
                return Err(err(
                    "METRICS_TOKEN",
                    "must be at least 16 characters (try: openssl rand -hex 16)",
                ))
            }
            t => t,
        };
        let audit_view_window =
            Duration::from_secs(r.ranged("AUDIT_VIEW_WINDOW_SECS", 600, 0, 7 * 24 * 3600)?);
        let graphql_cache =
            Duration::from_millis(r.ranged("GRAPHQL_CACHE_MS", 1_000, 0, 60_000)?);
        let trust_proxy = r.flag("TRUST_PROXY", false)?;
        let connections = connection_limits(&r, database_max_connections, trust_proxy)?;
        let web_dir = r.text("WEB_DIR").map(PathBuf::from);
        let base_currency = match r.text("BASE_CURRENCY") {
            None => Currency::rub(),
            Some(c) => Currency::parse(&c).map_err(|e| err("BASE_CURRENCY", e.to_string()))?,
        };
        let a_min = r.ranged("RATING_A_MIN", 70, 1, 100)? as i32;
        let b_min = r.ranged("RATING_B_MIN", 45, 0, 100)? as i32;
        if b_min >= a_min {
            return Err(err(
                "RATING_B_MIN",
                format!("must be below RATING_A_MIN ({a_min}), got {b_min}"),
            ));
        }
        let income_low = r.ranged("RATING_INCOME_LOW", 30_000, 1, 1_000_000_000)?;
        let income_high = r.ranged("RATING_INCOME_HIGH", 150_000, 2, 1_000_000_000)?;
        if income_high <= income_low {
            return Err(err(
                "RATING_INCOME_HIGH",
                format!("must be above RATING_INCOME_LOW ({income_low}), got {income_high}"),
            ));
        }
        let ratings = crm_core::ratings::RatingSettings {
            a_min,
            b_min,
            income_low_minor: income_low as i64 * 100,
            income_high_minor: income_high as i64 * 100,
        };
        let log_format = match r
            .text("LOG_FORMAT")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(err(
                    "LOG_FORMAT",
                    format!("must be text or json, got {other:?}"),
                ))
            }
        };

        let limits = crm_core::connectors::HttpLimits::default();
        let bank_limits = crm_core::connectors::HttpLimits {
            timeout: r.seconds(
                "BANK_TIMEOUT_SECS",
                limits.timeout.as_secs_f64(),
                0.1,
                600.0,
            )?,
            retries: r.ranged("BANK_RETRIES", u64::from(limits.retries), 0, 10)? as u32,
            max_body_bytes: r.ranged(
                "BANK_MAX_BODY_BYTES",
                limits.max_body_bytes,
                64 * 1024,
                1024 * 1024 * 1024,
            )?,
        };
        let mut bank_list = bank_configs(&r)?;
        for bank in &mut bank_list {
            bank.limits = bank_limits;
        }
        let banks = if bank_list.is_empty() {
            if r.flag("SANDBOX", true)? {
                BankConfig::Sandbox {
                    seed: r.parse("SANDBOX_SEED", 20_251_106, "a whole number")?,
                    persons: r.ranged("SANDBOX_CLIENTS", 20, 1, 10_000)? as u32,
                    anchor: r
                        .text("SANDBOX_ANCHOR")
                        .map(|d| {
                            chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
                                err(
                                    "SANDBOX_ANCHOR",
                                    format!("must be a date like 2026-11-30, got {d:?}"),
                                )
                            })
                        })
                        .transpose()?,
                }
            } else {
                BankConfig::NoBanks
            }
        } else {
            let team_id = r.text("CLIENT_ID").ok_or_else(|| {
                err(
                    "CLIENT_ID",
                    "is required when bank URLs are set (your team id, e.g. team200)",
                )
            })?;
            let client_secret = r
                .text("CLIENT_SECRET")
                .ok_or_else(|| err("CLIENT_SECRET", "is required when bank URLs are set"))?;
            let credentials = crm_core::connectors::Credentials::new(team_id, client_secret);
            for bank in &mut bank_list {
                bank.credentials = credentials.clone();
            }
            // Every builder validates its configuration now, as object_store's do, so a bad
            // option stops the start by its name; building a connector opens no connection.
            crm_core::connectors::build_registry(&bank_list).map_err(bank_error)?;
            BankConfig::Remote { banks: bank_list }
        };
        let sync_cron_text = r
            .text("SYNC_CRON")
            .unwrap_or_else(|| "0 0 * * *".to_owned());
        let sync_cron = parse_cron(&sync_cron_text)?;
        let defaults = crm_core::sync::SyncSettings::default();
        let sync = crm_core::sync::SyncSettings {
            history_days: r.ranged("SYNC_HISTORY_DAYS", 400, 1, 3650)? as i64,
            overlap_days: r.ranged("SYNC_OVERLAP_DAYS", 7, 0, 90)? as i64,
            per_bank_concurrency: r.ranged("SYNC_CONCURRENCY", 4, 1, 64)? as usize,
            consent_renewal_days: r.ranged("CONSENT_RENEWAL_DAYS", 14, 0, 80)? as i64,
            consent_pending_max_days: r.ranged("CONSENT_PENDING_MAX_DAYS", 7, 1, 365)? as i64,
            budget: crm_core::sync::RetryBudget {
                max_consecutive_failures: r.ranged("SYNC_MAX_FAILURES", 8, 1, 1000)? as u32,
                ..defaults.budget
            },
            own_transfer_window: crm_core::sync::TransferWindow::days(r.ranged(
                "OWN_TRANSFER_WINDOW_DAYS",
                3,
                0,
                30,
            )? as u32),
            large_transaction_minor: match r.ranged(
                "TIMELINE_LARGE_AMOUNT",
                (crm_core::sync::LARGE_TRANSACTION_DEFAULT_MINOR / 100) as u64,
                0,
                1_000_000_000_000,
            )? {
                0 => None,
                units => Some(units as i64 * 100),
            },
        };
        let assistant = assistant_settings(&r, prod)?;
        let signals = signal_settings(&r, &banks)?;
        let sandbox_port = r.ranged("SANDBOX_PORT", 9001, 1, 65_533)? as u16;

        Ok(Config {
            signals,
            sandbox_port,
            assistant,
            banks,
            bank_limits,
            sync_cron,
            sync_cron_text,
            sync,
            environment,
            database_url,
            database_max_connections,
            host,
            port,
            public_url,
            allowed_origins,
            secret_key,
            secret_key_generated,
            auth_username,
            auth_password,
            session_idle,
            session_absolute,
            login_max_failures,
            login_max_failures_per_address,
            login_lockout,
            password_hash_concurrency,
            graphiql,
            introspection,
            graphql_max_depth,
            graphql_max_complexity,
            graphql_max_fields,
            gate,
            requests_per_minute,
            body_limit_bytes,
            request_timeout,
            ws_init_timeout,
            ws_max_sockets_per_user,
            metrics_token,
            audit_view_window,
            graphql_cache,
            trust_proxy,
            connections,
            web_dir,
            base_currency,
            ratings,
            log_format,
        })
    }

    /// Cookies get `Secure` and the `__Host-` prefix when users reach us over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_source(&map)
    }

    #[test]
    fn defaults_need_nothing() {
        let c = cfg(&[]).expect("defaults");
        assert_eq!(c.port, 8080);
        assert_eq!(c.database_url, "sqlite://data/ai-crm.db");
        assert!(c.graphiql && c.introspection && c.secret_key_generated);
        assert!(matches!(c.auth_password, BootstrapPassword::Generate));
    }

    #[test]
    fn signal_settings_default_and_bad_ones_are_named() {
        let c = cfg(&[]).expect("defaults");
        assert_eq!(c.signals.consent_days, vec![14, 7, 1]);
        // The demo's first sandbox bank plays the home bank.
        assert_eq!(c.signals.home_bank.as_deref(), Some("abank"));
        let c = cfg(&[
            ("SIGNAL_TASKS", "loan_ending=off, LARGE_INFLOW=1:URGENT"),
            ("SIGNAL_LARGE_INFLOW_MIN", "250000"),
            ("HOME_BANK", "none"),
        ])
        .expect("valid");
        use crm_core::domain::{SignalKind, TaskPriority};
        assert_eq!(c.signals.task_rule(SignalKind::LoanEnding), None);
        assert_eq!(
            c.signals
                .task_rule(SignalKind::LargeInflow)
                .map(|r| (r.due_in_days, r.priority)),
            Some((1, TaskPriority::Urgent))
        );
        assert!(c.signals.task_rule(SignalKind::Overdraft).is_some());
        assert_eq!(c.signals.large_inflow_min_minor, 25_000_000);
        assert_eq!(c.signals.home_bank, None);
        for (var, value) in [
            ("SIGNAL_TASKS", "OVERDRAFT=soon"),
            ("SIGNAL_TASKS", "NOT_A_KIND=1"),
            ("SIGNAL_CONSENT_DAYS", "14,0"),
            ("HOME_BANK", "nobank"),
            ("SIGNAL_INCOME_DROP_PERCENT", "150"),
        ] {
            assert_eq!(cfg(&[(var, value)]).expect_err(value).var, var);
        }
    }

    #[test]
    fn errors_name_the_variable() {
        let e = cfg(&[("PORT", "eighty")]).expect_err("bad port");
        assert_eq!(e.var, "PORT");
        assert!(e.to_string().contains("PORT"), "{e}");
        assert_eq!(
            cfg(&[("SECRET_KEY", "short")]).expect_err("short").var,
            "SECRET_KEY"
        );
        assert_eq!(
            cfg(&[("DATABASE_URL", "mysql://x")]).expect_err("db").var,
            "DATABASE_URL"
        );
        assert_eq!(
            cfg(&[("GRAPHIQL", "maybe")]).expect_err("flag").var,
            "GRAPHIQL"
        );
        assert_eq!(
            cfg(&[("PUBLIC_URL", "crm.example.ru")])
                .expect_err("url")
                .var,
            "PUBLIC_URL"
        );
        assert_eq!(
            cfg(&[("AUTH_PASSWORD", "short")]).expect_err("pw").var,
            "AUTH_PASSWORD"
        );
        assert_eq!(
            cfg(&[("AUTH_PASSWORD_HASH", "nope")])
                .expect_err("hash")
                .var,
            "AUTH_PASSWORD_HASH"
        );
    }

    #[test]
    fn websocket_cap_per_user() {
        assert_eq!(cfg(&[]).expect("defaults").ws_max_sockets_per_user, 8);
        let c = cfg(&[("WS_MAX_SOCKETS_PER_USER", "2")]).expect("two");
        assert_eq!(c.ws_max_sockets_per_user, 2);
        for bad in ["0", "many", "-1", "1001"] {
            let e = cfg(&[("WS_MAX_SOCKETS_PER_USER", bad)]).expect_err(bad);
            assert_eq!(e.var, "WS_MAX_SOCKETS_PER_USER");
            assert!(e.to_string().contains("WS_MAX_SOCKETS_PER_USER"), "{e}");
        }
    }

    #[test]
    fn connection_and_request_limits_default_from_the_pool_and_bad_ones_are_named() {
        let c = cfg(&[("DATABASE_URL", "sqlite://x.db")]).expect("defaults");
        assert_eq!(c.connections.max_connections, 256, "8 × 32, at least 256");
        assert_eq!(c.connections.max_per_address, Some(128));
        assert_eq!(c.connections.header_timeout, Duration::from_secs(10));
        assert_eq!(c.gate.analyses, 4, "half the pool of 8");
        assert_eq!(c.requests_per_minute, 1_200);
        let c = cfg(&[
            ("DATABASE_URL", "sqlite://x.db"),
            ("DATABASE_MAX_CONNECTIONS", "20"),
        ])
        .expect("a larger pool");
        assert_eq!(c.connections.max_connections, 640);
        assert_eq!(c.gate.analyses, 10);
        let behind = cfg(&[("TRUST_PROXY", "true")]).expect("behind a proxy");
        assert_eq!(behind.connections.max_per_address, None);
        let e = cfg(&[
            ("TRUST_PROXY", "true"),
            ("MAX_CONNECTIONS_PER_ADDRESS", "10"),
        ])
        .expect_err("a cap that cannot work");
        assert_eq!(e.var, "MAX_CONNECTIONS_PER_ADDRESS");
        for (var, bad) in [
            ("MAX_CONNECTIONS", "8"),
            ("MAX_CONNECTIONS_PER_ADDRESS", "100000"),
            ("HTTP_HEADER_TIMEOUT_SECS", "0"),
            ("QUERY_CONCURRENCY_PER_USER", "0"),
            ("QUERY_RATE_PER_MINUTE", "lots"),
            ("ANALYSIS_CONCURRENCY", "0"),
        ] {
            let e = cfg(&[(var, bad)]).expect_err(bad);
            assert_eq!(e.var, var, "{e}");
        }
    }

    #[test]
    fn bank_limits_default_to_the_connectors_and_a_bad_one_is_named() {
        let c = cfg(&[]).expect("defaults");
        assert_eq!(c.bank_limits, crm_core::connectors::HttpLimits::default());
        assert_eq!(c.bank_limits.timeout, Duration::from_secs(20));
        assert_eq!(c.bank_limits.retries, 3);
        assert_eq!(c.bank_limits.max_body_bytes, 16 * 1024 * 1024);
        let c = cfg(&[
            ("BANK_TIMEOUT_SECS", "2.5"),
            ("BANK_RETRIES", "0"),
            ("BANK_MAX_BODY_BYTES", "1048576"),
            ("ABANK_URL", "https://abank.example.ru"),
            ("CLIENT_ID", "team200"),
            ("CLIENT_SECRET", "secret"),
        ])
        .expect("custom");
        assert_eq!(c.bank_limits.timeout, Duration::from_millis(2500));
        assert_eq!(
            (c.bank_limits.retries, c.bank_limits.max_body_bytes),
            (0, 1_048_576)
        );
        let BankConfig::Remote { banks } = c.banks else {
            panic!("expected remote banks");
        };
        assert!(banks.iter().all(|b| b.limits == c.bank_limits));
        for (var, bad) in [
            ("BANK_TIMEOUT_SECS", "0"),
            ("BANK_TIMEOUT_SECS", "soon"),
            ("BANK_RETRIES", "11"),
            ("BANK_RETRIES", "-1"),
            ("BANK_MAX_BODY_BYTES", "1000"),
            ("BANK_MAX_BODY_BYTES", "16MiB"),
        ] {
            let e = cfg(&[(var, bad)]).expect_err(bad);
            assert_eq!(e.var, var, "{bad}");
            assert!(e.to_string().contains(var), "{e}");
        }
    }

    #[test]
    fn consent_pending_max_days() {
        let c = cfg(&[]).expect("defaults");
        assert_eq!(c.sync.consent_pending_max_days, 7);
        let c = cfg(&[("CONSENT_PENDING_MAX_DAYS", "3")]).expect("custom");
        assert_eq!(c.sync.consent_pending_max_days, 3);
        for bad in ["0", "366", "a week"] {
            let e = cfg(&[("CONSENT_PENDING_MAX_DAYS", bad)]).expect_err(bad);
            assert_eq!(e.var, "CONSENT_PENDING_MAX_DAYS");
            assert!(e.to_string().contains("CONSENT_PENDING_MAX_DAYS"), "{e}");
        }
    }

    #[test]
    fn rating_thresholds() {
        let c = cfg(&[]).expect("defaults");
        assert_eq!((c.ratings.a_min, c.ratings.b_min), (70, 45));
        assert_eq!(c.ratings.income_low_minor, 3_000_000);
        let c = cfg(&[("RATING_A_MIN", "80"), ("RATING_B_MIN", "50")]).expect("custom");
        assert_eq!((c.ratings.a_min, c.ratings.b_min), (80, 50));
        assert_eq!(
            cfg(&[("RATING_A_MIN", "40")]).expect_err("b above a").var,
            "RATING_B_MIN"
        );
        assert_eq!(
            cfg(&[("RATING_A_MIN", "101")]).expect_err("range").var,
            "RATING_A_MIN"
        );
        assert_eq!(
            cfg(&[("RATING_INCOME_HIGH", "1000")])
                .expect_err("scale")
                .var,
            "RATING_INCOME_HIGH"
        );
    }

    #[test]
    fn banks_and_schedule() {
        let c = cfg(&[]).expect("defaults");
        assert!(matches!(c.banks, BankConfig::Sandbox { persons: 20, .. }));
        let off = cfg(&[("SANDBOX", "off")]).expect("sandbox off");
        assert!(matches!(off.banks, BankConfig::NoBanks));
        assert_eq!(
            cfg(&[("ABANK_URL", "https://abank.example")])
                .expect_err("no creds")
                .var,
            "CLIENT_ID"
        );
        let c = cfg(&[
            ("ABANK_URL", "https://abank.example/"),
            ("CLIENT_ID", "team200"),
            ("CLIENT_SECRET", "s3cr3t"),
            (
                "BANKS",
                "xbank|XBank|https://x.example|approval, ybank|YBank|http://127.0.0.1:9000",
            ),
        ])
        .expect("remote");
        assert!(
            !format!("{c:?}").contains("s3cr3t"),
            "the secret never prints"
        );
        match c.banks {
            BankConfig::Remote { banks } => {
                let codes: Vec<&str> = banks.iter().map(|e| e.code.as_str()).collect();
                assert_eq!(codes, vec!["abank", "xbank", "ybank"]);
                assert_eq!(banks[0].url, "https://abank.example");
                assert_eq!(banks[0].name, "ABank");
                assert_eq!(banks[1].option("APPROVAL"), Some("client"));
                assert_eq!(banks[2].option("APPROVAL"), None);
                assert_eq!(banks[2].credentials.client_id, "team200");
            }
            BankConfig::Sandbox { .. } | BankConfig::NoBanks => panic!("expected remote banks"),
        }
        assert_eq!(
            cfg(&[("BANKS", "xbank|XBank")]).expect_err("short").var,
            "BANKS"
        );
        assert_eq!(
            cfg(&[("ABANK_URL", "ftp://x")]).expect_err("scheme").var,
            "ABANK_URL"
        );
        let creds = [("CLIENT_ID", "team200"), ("CLIENT_SECRET", "s3cr3t")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut v: Vec<(&str, &str)> = creds.to_vec();
            v.extend_from_slice(extra);
            cfg(&v)
        };
        // Every bank crate of the registry is read as <CODE>_URL with its <CODE>_* options.
        let c = with(&[
            ("VBANK_URL", "https://vbank.example"),
            ("VBANK_PAGE_SIZE", "50"),
            ("SBANK_URL", "https://sbank.example"),
            ("SBANK_APPROVAL", "automatic"),
            ("BANKS", "xbank|XBank|https://x.example"),
            ("XBANK_APPROVAL", "client"),
            ("XBANK_TOKEN_URL", "/oauth2/token"),
        ])
        .expect("options");
        let BankConfig::Remote { banks } = c.banks else {
            panic!("expected remote banks")
        };
        assert_eq!(banks[0].option("PAGE_SIZE"), Some("50"));
        assert_eq!(banks[1].option("APPROVAL"), Some("automatic"));
        assert_eq!(banks[2].option("APPROVAL"), Some("client"));
        assert_eq!(banks[2].option("TOKEN_URL"), Some("/oauth2/token"));
        for (bad, var) in [
            (
                [
                    ("SBANK_URL", "https://sbank.example"),
                    ("SBANK_APPROVAL", "maybe"),
                ],
                "SBANK_APPROVAL",
            ),
            (
                [
                    ("VBANK_URL", "https://vbank.example"),
                    ("VBANK_PAGE_SIZE", "500"),
                ],
                "VBANK_PAGE_SIZE",
            ),
            (
                [
                    ("BANKS", "xbank|XBank|https://x.example"),
                    ("XBANK_TIMEOUT_MS", "soon"),
                ],
                "XBANK_TIMEOUT_MS",
            ),
            (
                [
                    ("SBANK_URL", "https://sbank.example"),
                    ("BANKS", "sbank|S|https://s.example"),
                ],
                "SBANK_URL",
            ),
        ] {
            assert_eq!(with(&bad).expect_err(var).var, var);
        }
        assert_eq!(
            cfg(&[("SYNC_CRON", "every night")]).expect_err("cron").var,
            "SYNC_CRON"
        );
        assert!(cfg(&[("SYNC_CRON", "30 2 * * *")]).is_ok());
    }

    #[test]
    fn assistant_settings_from_ai_variables() {
        let c = cfg(&[]).expect("defaults");
        assert!(
            c.assistant.provider.is_none(),
            "no key, no URL: the analyst"
        );
        assert_eq!(c.assistant.fallback, Fallback::Analyst);
        assert!(!c.assistant.send_pii);

        let c = cfg(&[("AI_API_KEY", "sk-or-secret")]).expect("key only");
        let p = c.assistant.provider.clone().expect("provider");
        assert_eq!(p.base_url, DEFAULT_AI_API_URL);
        assert_eq!(p.model, DEFAULT_AI_MODEL);
        assert!(
            !format!("{c:?}").contains("sk-or-secret"),
            "the key never prints"
        );

        let c = cfg(&[
            ("AI_API_URL", "http://127.0.0.1:11434/v1/"),
            ("AI_MODEL", "qwen2.5:7b"),
            ("AI_TIMEOUT", "2.5"),
            ("AI_IDLE_TIMEOUT", "5"),
            ("AI_FALLBACK", "error"),
            ("AI_SEND_PII", "true"),
        ])
        .expect("local");
        let p = c
            .assistant
            .provider
            .clone()
            .expect("a URL alone is a provider");
        assert_eq!(p.base_url, "http://127.0.0.1:11434/v1");
        assert!(p.api_key.is_none());
        assert_eq!(p.timeouts.total, Duration::from_millis(2500));
        assert_eq!(
            p.timeouts.idle,
            Duration::from_millis(2500),
            "capped by the total"
        );
        assert_eq!(c.assistant.fallback, Fallback::Error);
        assert!(c.assistant.send_pii);

        for (var, value) in [
            ("AI_API_URL", "openrouter.ai"),
            ("AI_TEMPERATURE", "3"),
            ("AI_TIMEOUT", "soon"),
            ("AI_TIMEOUT", "0"),
            ("AI_FALLBACK", "retry"),
            ("AI_MAX_TOKENS", "0"),
            ("AI_RATE_LIMIT_PER_MINUTE", "0"),
            ("AI_SEND_PII", "maybe"),
            ("AI_CONTEXT_TOKENS", "10"),
        ] {
            assert_eq!(cfg(&[(var, value)]).expect_err(value).var, var);
        }
        let key = "k".repeat(40);
        let prod = [
            ("APP_ENV", "production"),
            ("SECRET_KEY", key.as_str()),
            ("PUBLIC_URL", "https://crm.example.ru"),
        ];
        let mut remote_http = prod.to_vec();
        remote_http.push(("AI_API_URL", "http://llm.example.ru/v1"));
        assert_eq!(cfg(&remote_http).expect_err("http").var, "AI_API_URL");
        let mut local_http = prod.to_vec();
        local_http.push(("AI_API_URL", "http://localhost:8000/v1"));
        assert!(cfg(&local_http).is_ok());
    }

    #[test]
    fn production_is_strict() {
        assert_eq!(
            cfg(&[
                ("APP_ENV", "production"),
                ("PUBLIC_URL", "https://crm.example.ru")
            ])
            .expect_err("no key")
            .var,
            "SECRET_KEY"
        );
        let key = "k".repeat(40);
        let e = cfg(&[
            ("APP_ENV", "production"),
            ("SECRET_KEY", &key),
            ("PUBLIC_URL", "https://crm.example.ru"),
            ("AUTH_PASSWORD", "long enough password"),
        ])
        .expect_err("plain password in prod");
        assert_eq!(e.var, "AUTH_PASSWORD");
        let c = cfg(&[
            ("APP_ENV", "production"),
            ("SECRET_KEY", &key),
            ("PUBLIC_URL", "https://CRM.example.ru/"),
        ])
        .expect("prod");
        assert!(!c.graphiql && !c.introspection);
        assert!(c.secure_cookies());
        assert_eq!(c.public_url.as_deref(), Some("https://crm.example.ru"));
    }

    #[test]
    fn production_needs_https_and_keeps_the_schema_closed() {
        let key = "k".repeat(40);
        let base = [("APP_ENV", "production"), ("SECRET_KEY", key.as_str())];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut v: Vec<(&str, &str)> = base.to_vec();
            v.extend_from_slice(extra);
            cfg(&v)
        };
        assert_eq!(with(&[]).expect_err("no url").var, "PUBLIC_URL");
        assert_eq!(
            with(&[("PUBLIC_URL", "http://crm.example.ru")])
                .expect_err("plain")
                .var,
            "PUBLIC_URL"
        );
        let plain = with(&[
            ("PUBLIC_URL", "http://crm.internal"),
            ("ALLOW_PLAIN_HTTP", "true"),
        ])
        .expect("plain http allowed explicitly");
        assert!(!plain.secure_cookies());
        let https = [("PUBLIC_URL", "https://crm.example.ru")];
        for var in ["INTROSPECTION", "GRAPHIQL"] {
            let mut v = https.to_vec();
            v.push((var, "true"));
            assert_eq!(with(&v).expect_err(var).var, var);
        }
        let mut short = https.to_vec();
        short.push(("METRICS_TOKEN", "short"));
        assert_eq!(with(&short).expect_err("token").var, "METRICS_TOKEN");
        let c = with(&https).expect("prod");
        assert!(c.metrics_token.is_none());
        assert_eq!(c.body_limit_bytes, 256 * 1024);
        assert_eq!(c.login_max_failures_per_address, 20);
        assert_eq!(c.audit_view_window, Duration::from_secs(600));
        assert_eq!(
            cfg(&[("GRAPHQL_MAX_FIELDS", "5")]).expect_err("fields").var,
            "GRAPHQL_MAX_FIELDS"
        );
        assert_eq!(
            cfg(&[("PASSWORD_HASH_CONCURRENCY", "0")])
                .expect_err("hashes")
                .var,
            "PASSWORD_HASH_CONCURRENCY"
        );
    }
}
