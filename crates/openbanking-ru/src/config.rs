//! Banks of this protocol from a [`BankConfig`]: the options every bank of the protocol reads,
//! and [`build`], the generic builder for banks added by configuration alone (`BANKS=`). Bank
//! crates start from [`BankSettings::from_config`], set their quirks, then apply the options.

use std::sync::Arc;
use std::time::Duration;

use crm_connector::{BankConfig, BankConnector, ConfigError, Registration};

use crate::{BankSettings, ConsentApproval, OpenBankingClient, TokenStyle};

/// The options a bank of this protocol reads (set as `<CODE>_<KEY>`):
/// - `APPROVAL`: `automatic` (consents authorized at once) or `client` (the client approves);
/// - `TOKEN_URL`: an RFC 6749 client-credentials endpoint (absolute, or a path on the bank's
///   URL) instead of the HackAPI token call, with `TOKEN_AUTH` `basic` (default) or `body`;
/// - `TIMEOUT_MS`: each attempt of each call; `RETRY_DELAY_MS`: the first backoff;
/// - `PAGE_SIZE`: transactions per page, 1 to 100.
pub const OPTIONS: &[&str] = &[
    "APPROVAL",
    "TOKEN_URL",
    "TOKEN_AUTH",
    "TIMEOUT_MS",
    "RETRY_DELAY_MS",
    "PAGE_SIZE",
];

/// The generic protocol entry of core's registry table.
pub const REGISTRATION: Registration = Registration::Protocol {
    name: "openbanking-ru",
    options: OPTIONS,
    build,
};

/// A bank of this protocol with no crate of its own: the protocol's defaults (consents
/// authorized at once) and the configured options.
pub fn build(config: &BankConfig) -> Result<Arc<dyn BankConnector>, ConfigError> {
    let mut settings = BankSettings::from_config(config);
    settings.apply_options(config)?;
    connect(settings)
}

/// The connector for finished settings, as core's registry holds it.
pub fn connect(settings: BankSettings) -> Result<Arc<dyn BankConnector>, ConfigError> {
    let bank = settings.identity.code.clone();
    let client = OpenBankingClient::new(settings).map_err(|e| ConfigError::Build {
        bank,
        message: e.to_string(),
    })?;
    Ok(Arc::new(client))
}

impl BankSettings {
    /// The protocol's defaults for `config`'s bank (code, name, URL, credentials); the options
    /// are not applied yet, so a bank crate can set its quirks first.
    pub fn from_config(config: &BankConfig) -> BankSettings {
        let mut settings = BankSettings::new(
            &config.code,
            &config.name,
            &config.url,
            &config.credentials.client_id,
            config.credentials.secret(),
        );
        settings.request_timeout = config.limits.timeout;
        settings.retry.max_attempts = config.limits.retries.saturating_add(1);
        settings.max_body_bytes = config.limits.max_body_bytes;
        settings
    }

    /// Applies `config`'s options over these settings, refusing an unknown or unusable one by
    /// its name (`SBANK_APPROVAL`).
    pub fn apply_options(&mut self, config: &BankConfig) -> Result<(), ConfigError> {
        config.only_options(OPTIONS)?;
        if let Some(approval) = config.option("APPROVAL") {
            self.consent_approval = match approval.trim().to_ascii_lowercase().as_str() {
                "automatic" => ConsentApproval::Automatic,
                "client" => ConsentApproval::ByClient,
                _ => {
                    return Err(config.invalid(
                        "APPROVAL",
                        format!("must be automatic or client, got {approval:?}"),
                    ))
                }
            };
        }
        let credentials_in_body = match config.option("TOKEN_AUTH").map(str::trim) {
            None | Some("basic") => false,
            Some("body") => true,
            Some(other) => {
                return Err(config.invalid(
                    "TOKEN_AUTH",
                    format!("must be basic or body, got {other:?}"),
                ))
            }
        };
        match config.option("TOKEN_URL").map(str::trim) {
            Some(url)
                if url.starts_with('/')
                    || url.starts_with("https://")
                    || url.starts_with("http://") =>
            {
                self.token_style = TokenStyle::OAuth2 {
                    token_url: url.to_owned(),
                    credentials_in_body,
                };
            }
            Some(url) => {
                return Err(config.invalid(
                    "TOKEN_URL",
                    format!("must be an http(s) URL or a path starting with /, got {url:?}"),
                ))
            }
            None if config.option("TOKEN_AUTH").is_some() => {
                return Err(config.invalid("TOKEN_AUTH", "applies only with a TOKEN_URL"))
            }
            None => {}
        }
        if let Some(ms) = config.number("TIMEOUT_MS", 100, 600_000)? {
            self.request_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = config.number("RETRY_DELAY_MS", 0, 60_000)? {
            self.retry.base_delay = Duration::from_millis(ms);
        }
        if let Some(n) = config.number("PAGE_SIZE", 1, 100)? {
            self.page_size = n as u32;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm_connector::Credentials;

    fn config() -> BankConfig {
        BankConfig::new(
            "xbank",
            "https://x.example/",
            Credentials::new("team200", "secret"),
        )
        .with_name("XBank")
    }

    #[test]
    fn options_configure_the_protocol_and_a_bad_one_is_named() {
        let mut s = BankSettings::from_config(&config());
        s.apply_options(&config()).expect("no options");
        assert_eq!(s.consent_approval, ConsentApproval::Automatic);
        assert_eq!(s.base_url, "https://x.example");
        // The deployment's limits, unless the bank's own options say otherwise.
        assert_eq!(s.request_timeout, Duration::from_secs(20));
        assert_eq!(
            (s.retry.max_attempts, s.max_body_bytes),
            (4, 16 * 1024 * 1024)
        );
        let limits = crm_connector::HttpLimits {
            timeout: Duration::from_secs(5),
            retries: 0,
            max_body_bytes: 1024,
        };
        let limited = BankSettings::from_config(&config().with_limits(limits));
        assert_eq!(limited.request_timeout, Duration::from_secs(5));
        assert_eq!(
            (limited.retry.max_attempts, limited.max_body_bytes),
            (1, 1024)
        );
        assert_eq!(s.identity.name, "XBank");
        let tuned = config()
            .with_option("APPROVAL", "client")
            .with_option("TOKEN_URL", "/oauth2/token")
            .with_option("TOKEN_AUTH", "body")
            .with_option("TIMEOUT_MS", "1500")
            .with_option("PAGE_SIZE", "50");
        s.apply_options(&tuned).expect("options");
        assert_eq!(s.consent_approval, ConsentApproval::ByClient);
        assert_eq!(s.request_timeout, Duration::from_millis(1500));
        assert_eq!(s.page_size, 50);
        assert_eq!(
            s.token_style,
            TokenStyle::OAuth2 {
                token_url: "/oauth2/token".into(),
                credentials_in_body: true
            }
        );
        for (key, value) in [
            ("APPROVAL", "maybe"),
            ("PAGE_SIZE", "500"),
            ("TOKEN_URL", "oauth"),
            ("TOKEN_AUTH", "body"),
            ("COLOUR", "blue"),
        ] {
            let e = build(&config().with_option(key, value)).err().expect(key);
            assert_eq!(e.option(), Some(format!("XBANK_{key}").as_str()), "{e}");
        }
        let bank = build(&config()).expect("generic bank");
        assert_eq!(bank.identity().code, "xbank");
    }
}
