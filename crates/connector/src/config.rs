//! How a connector is configured and built, whatever its protocol: a [`BankConfig`] (code, name,
//! URL, credentials, options as text), a [`BuildFn`] that validates it up front and names the
//! bad option, and the [`Registration`] a connector crate exports for core's table. Like
//! object_store's builders, nothing here opens a connection.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::BankConnector;

/// Our credentials at a bank (the team's client id and secret). The secret never prints.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub client_id: String,
    secret: String,
}

impl Credentials {
    pub fn new(client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        Credentials {
            client_id: client_id.into(),
            secret: secret.into(),
        }
    }

    /// The secret, for the one call that sends it.
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Deployment-wide limits of every bank's HTTP calls (`BANK_TIMEOUT_SECS`, `BANK_RETRIES`,
/// `BANK_MAX_BODY_BYTES`); a bank's own options (`<CODE>_TIMEOUT_MS`) override them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// Each attempt of each call gives up after this long.
    pub timeout: std::time::Duration,
    /// Attempts after the first for a call that failed in a way a retry can help.
    pub retries: u32,
    /// The largest answer read; a larger one is refused as malformed, never read whole.
    pub max_body_bytes: u64,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            timeout: std::time::Duration::from_secs(20),
            retries: 3,
            max_body_bytes: 16 * 1024 * 1024,
        }
    }
}

/// One bank to connect: everything a builder needs, as configured (no HTTP, no protocol).
/// Options are upper-case keys (`APPROVAL`); an operator sets them as `<CODE>_<KEY>`
/// (`SBANK_APPROVAL`), and errors name them that way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankConfig {
    /// Stable lower-case code stored on links and accounts (`sbank`).
    pub code: String,
    /// Display name.
    pub name: String,
    /// The bank's base URL (no trailing slash needed).
    pub url: String,
    pub credentials: Credentials,
    pub options: BTreeMap<String, String>,
    pub limits: HttpLimits,
}

impl BankConfig {
    /// A bank named by its code, with no options.
    pub fn new(code: &str, url: &str, credentials: Credentials) -> Self {
        BankConfig {
            code: code.to_owned(),
            name: code.to_owned(),
            url: url.to_owned(),
            credentials,
            options: BTreeMap::new(),
            limits: HttpLimits::default(),
        }
    }

    pub fn with_limits(mut self, limits: HttpLimits) -> Self {
        self.limits = limits;
        self
    }

    pub fn with_name(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }

    pub fn with_option(mut self, key: &str, value: impl Into<String>) -> Self {
        self.options.insert(key.to_ascii_uppercase(), value.into());
        self
    }

    /// The option's value, when set.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options.get(key).map(String::as_str)
    }

    /// The name an operator sets `key` by: `<CODE>_<KEY>` (`SBANK_APPROVAL`, `SBANK_URL`).
    pub fn var(&self, key: &str) -> String {
        option_var(&self.code, key)
    }

    /// An error naming this bank's option `key`.
    pub fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            option: self.var(key),
            message: message.into(),
        }
    }

    /// The option parsed as a whole number within `min..=max`, when set.
    pub fn number(&self, key: &str, min: u64, max: u64) -> Result<Option<u64>, ConfigError> {
        let Some(text) = self.option(key) else {
            return Ok(None);
        };
        match text.trim().parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(self.invalid(
                key,
                format!("must be a whole number from {min} to {max}, got {text:?}"),
            )),
        }
    }

    /// Refuses options outside `known`, naming the first such one.
    pub fn only_options(&self, known: &[&str]) -> Result<(), ConfigError> {
        match self.options.keys().find(|k| !known.contains(&k.as_str())) {
            None => Ok(()),
            Some(key) => Err(ConfigError::Unknown {
                option: self.var(key),
                known: known
                    .iter()
                    .map(|k| self.var(k))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}

/// `<CODE>_<KEY>` for bank `code` (`-` becomes `_`, so the name is a valid variable).
pub fn option_var(code: &str, key: &str) -> String {
    format!("{}_{key}", code.to_ascii_uppercase().replace('-', "_"))
}

/// A configuration a builder cannot use. Says which option, as the operator spells it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// An option's value is unusable.
    #[error("{option}: {message}")]
    Invalid { option: String, message: String },
    /// An option the bank's builder does not read.
    #[error("{option}: not an option of this bank (it reads {known})")]
    Unknown { option: String, known: String },
    /// A valid configuration still could not become a connector (e.g. no TLS backend).
    #[error("{bank}: the connector could not be built: {message}")]
    Build { bank: String, message: String },
}

impl ConfigError {
    /// The option at fault (`SBANK_APPROVAL`), when one is.
    pub fn option(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { option, .. } | ConfigError::Unknown { option, .. } => {
                Some(option)
            }
            ConfigError::Build { .. } => None,
        }
    }
}

/// Builds a connector from its configuration, validating every option first.
pub type BuildFn = fn(&BankConfig) -> Result<Arc<dyn BankConnector>, ConfigError>;

/// What a connector crate exports for core's registry table (`crates/core/src/connectors.rs`).
#[derive(Clone, Copy, Debug)]
pub enum Registration {
    /// The crate of one bank: its code and name, the options it reads (besides the URL), its
    /// builder.
    Bank {
        code: &'static str,
        name: &'static str,
        options: &'static [&'static str],
        build: BuildFn,
    },
    /// A protocol's builder for banks added by configuration alone (code, name, URL, options).
    Protocol {
        name: &'static str,
        options: &'static [&'static str],
        build: BuildFn,
    },
}

impl Registration {
    /// The options this entry's builder reads (besides the URL).
    pub fn options(&self) -> &'static [&'static str] {
        match self {
            Registration::Bank { options, .. } | Registration::Protocol { options, .. } => options,
        }
    }

    pub fn build_fn(&self) -> BuildFn {
        match self {
            Registration::Bank { build, .. } | Registration::Protocol { build, .. } => *build,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_and_errors_name_the_variable() {
        let config = BankConfig::new(
            "x-bank",
            "https://x.example",
            Credentials::new("team200", "very-secret-value"),
        )
        .with_option("approval", "maybe");
        assert!(!format!("{config:?}").contains("very-secret-value"));
        assert_eq!(config.credentials.secret(), "very-secret-value");
        assert_eq!(config.option("APPROVAL"), Some("maybe"));
        assert_eq!(config.var("URL"), "X_BANK_URL");
        let unknown = config.only_options(&["PAGE_SIZE"]).expect_err("unknown");
        assert_eq!(unknown.option(), Some("X_BANK_APPROVAL"));
        assert!(
            unknown.to_string().contains("X_BANK_PAGE_SIZE"),
            "{unknown}"
        );
        let bad = config
            .clone()
            .with_option("PAGE_SIZE", "0")
            .number("PAGE_SIZE", 1, 100)
            .expect_err("range");
        assert_eq!(bad.option(), Some("X_BANK_PAGE_SIZE"));
        assert_eq!(config.number("PAGE_SIZE", 1, 100), Ok(None));
    }
}
