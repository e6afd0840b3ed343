//! The server's configuration: read once from the environment (and `.env`), validated at start,
//! with errors that name the variable. This is the only place in the workspace that reads the
//! environment (clippy's `disallowed-methods` keeps it so).
#![allow(clippy::disallowed_methods)]

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crm_core::auth::BootstrapPassword;
use crm_core::domain::Currency;

/// A variable that is set but unusable.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
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
    pub login_lockout: Duration,
    pub graphiql: bool,
    pub introspection: bool,
    pub graphql_max_depth: usize,
    pub graphql_max_complexity: usize,
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    /// How long a query response may be reused while no write happened (0: never).
    pub graphql_cache: Duration,
    /// Take the client address from the last `X-Forwarded-For` hop (only behind a proxy you run).
    pub trust_proxy: bool,
    pub web_dir: PathBuf,
    pub base_currency: Currency,
    /// Rating grades and the income scale of the rating model.
    pub ratings: crm_core::ratings::RatingSettings,
    pub log_format: LogFormat,
    pub banks: BankConfig,
    /// When the scheduled sync runs (UTC), as a `cron` schedule with seconds.
    pub sync_cron: cron::Schedule,
    /// The schedule as configured, for messages.
    pub sync_cron_text: String,
}

/// Which banks to talk to, and with which credentials.
#[derive(Clone, Debug)]
pub enum BankConfig {
    /// No bank URL configured: run the built-in sandbox banks in-process with demo clients.
    Sandbox { seed: u64, clients: usize },
    /// Real (or separately run) banks.
    Remote {
        endpoints: Vec<crm_core::connectors::BankEndpoint>,
        credentials: crm_core::connectors::TeamCredentials,
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
    fn text(&self, var: &'static str) -> Option<String> {
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

    fn flag(&self, var: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.text(var).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
            Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
            Some(v) => Err(err(var, format!("must be true or false, got {v:?}"))),
        }
    }
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

fn bank_url(url: &str, var: &'static str) -> Result<String, ConfigError> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
        return Err(err(var, format!("must be an http(s) URL, got {url:?}")));
    }
    Ok(url.to_owned())
}

/// `code|Name|https://url` or `code|Name|https://url|approval` (consents need the client's approval).
fn parse_bank(item: &str) -> Result<crm_core::connectors::BankEndpoint, ConfigError> {
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
    let needs_approval = match parts.get(3) {
        None => false,
        Some(&"approval") => true,
        Some(other) => return Err(err("BANKS", format!("unknown option {other:?}; {usage}"))),
    };
    Ok(crm_core::connectors::BankEndpoint {
        code,
        name: Some(parts[1].to_owned()).filter(|n| !n.is_empty()),
        url: bank_url(parts[2], "BANKS")?,
        needs_approval,
    })
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
        let database_max_connections =
            r.ranged("DATABASE_MAX_CONNECTIONS", default_pool, 1, 1000)? as u32;

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
        let login_lockout =
            Duration::from_secs(60 * r.ranged("LOGIN_LOCKOUT_MINUTES", 15, 1, 24 * 60)?);

        let graphiql = r.flag("GRAPHIQL", !prod)?;
        let introspection = r.flag("INTROSPECTION", !prod)?;
        let graphql_max_depth = r.ranged("GRAPHQL_MAX_DEPTH", 16, 3, 64)? as usize;
        let graphql_max_complexity =
            r.ranged("GRAPHQL_MAX_COMPLEXITY", 2_500, 50, 1_000_000)? as usize;
        let body_limit_bytes = r.ranged("BODY_LIMIT_BYTES", 1 << 20, 1024, 64 << 20)? as usize;
        let request_timeout = Duration::from_secs(r.ranged("REQUEST_TIMEOUT_SECS", 30, 1, 3600)?);
        let graphql_cache =
            Duration::from_millis(r.ranged("GRAPHQL_CACHE_MS", 1_000, 0, 60_000)?);
        let trust_proxy = r.flag("TRUST_PROXY", false)?;
        let web_dir = PathBuf::from(r.text("WEB_DIR").unwrap_or_else(|| "web".to_owned()));
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

        let mut endpoints = Vec::new();
        for (var, code) in [
            ("ABANK_URL", "abank"),
            ("VBANK_URL", "vbank"),
            ("SBANK_URL", "sbank"),
        ] {
            if let Some(url) = r.text(var) {
                endpoints.push(crm_core::connectors::BankEndpoint {
                    code: code.to_owned(),
                    name: None,
                    url: bank_url(&url, var)?,
                    needs_approval: code == "sbank",
                });
            }
        }
        if let Some(list) = r.text("BANKS") {
            for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                endpoints.push(parse_bank(item)?);
            }
        }
        let banks = if endpoints.is_empty() {
            BankConfig::Sandbox {
                seed: r.parse("SANDBOX_SEED", 42, "a whole number")?,
                clients: r.ranged("SANDBOX_CLIENTS", 10, 1, 10_000)? as usize,
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
            BankConfig::Remote {
                endpoints,
                credentials: crm_core::connectors::TeamCredentials {
                    team_id,
                    client_secret,
                },
            }
        };
        let sync_cron_text = r
            .text("SYNC_CRON")
            .unwrap_or_else(|| "0 0 * * *".to_owned());
        let sync_cron = parse_cron(&sync_cron_text)?;

        Ok(Config {
            banks,
            sync_cron,
            sync_cron_text,
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
            login_lockout,
            graphiql,
            introspection,
            graphql_max_depth,
            graphql_max_complexity,
            body_limit_bytes,
            request_timeout,
            graphql_cache,
            trust_proxy,
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
        assert!(matches!(c.banks, BankConfig::Sandbox { clients: 10, .. }));
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
        match c.banks {
            BankConfig::Remote { endpoints, .. } => {
                let codes: Vec<&str> = endpoints.iter().map(|e| e.code.as_str()).collect();
                assert_eq!(codes, vec!["abank", "xbank", "ybank"]);
                assert_eq!(endpoints[0].url, "https://abank.example");
                assert!(endpoints[1].needs_approval && !endpoints[2].needs_approval);
            }
            BankConfig::Sandbox { .. } => panic!("expected remote banks"),
        }
        assert_eq!(
            cfg(&[("BANKS", "xbank|XBank")]).expect_err("short").var,
            "BANKS"
        );
        assert_eq!(
            cfg(&[("ABANK_URL", "ftp://x")]).expect_err("scheme").var,
            "ABANK_URL"
        );
        assert_eq!(
            cfg(&[("SYNC_CRON", "every night")]).expect_err("cron").var,
            "SYNC_CRON"
        );
        assert!(cfg(&[("SYNC_CRON", "30 2 * * *")]).is_ok());
    }

    #[test]
    fn production_is_strict() {
        assert_eq!(
            cfg(&[("APP_ENV", "production")]).expect_err("no key").var,
            "SECRET_KEY"
        );
        let key = "k".repeat(40);
        let e = cfg(&[
            ("APP_ENV", "production"),
            ("SECRET_KEY", &key),
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
}
