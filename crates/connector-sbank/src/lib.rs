//! SBank: speaks the Russian Open Banking protocol (`crm-openbanking-ru`) and needs the client's approval for each consent (pending -> authorized).

use std::sync::Arc;

use crm_connector::{BankConfig, BankConnector, ConfigError, Registration};
use crm_openbanking_ru::{BankSettings, ConsentApproval};

/// The code stored on links and accounts.
pub const CODE: &str = "sbank";
/// The name shown to managers.
pub const NAME: &str = "SBank";

/// This crate's line in core's registry table.
pub const REGISTRATION: Registration = Registration::Bank {
    code: CODE,
    name: NAME,
    options: crm_openbanking_ru::OPTIONS,
    build,
};

/// SBank's settings for `config`: the protocol with SBank's quirks (consents wait for the client's approval), then the
/// configured options, which may override them.
pub fn settings(config: &BankConfig) -> Result<BankSettings, ConfigError> {
    let mut s = BankSettings::from_config(config);
    s.consent_approval = ConsentApproval::ByClient;
    s.apply_options(config)?;
    Ok(s)
}

/// A ready connector for SBank.
pub fn build(config: &BankConfig) -> Result<Arc<dyn BankConnector>, ConfigError> {
    crm_openbanking_ru::connect(settings(config)?)
}
