//! VBank: speaks the Russian Open Banking protocol (`crm-openbanking-ru`) and auto-approves consents.

use std::sync::Arc;

use crm_connector::{BankConfig, BankConnector, ConfigError, Registration};
use crm_openbanking_ru::{BankSettings, ConsentApproval};

/// The code stored on links and accounts.
pub const CODE: &str = "vbank";
/// The name shown to managers.
pub const NAME: &str = "VBank";

/// This crate's line in core's registry table.
pub const REGISTRATION: Registration = Registration::Bank {
    code: CODE,
    name: NAME,
    options: crm_openbanking_ru::OPTIONS,
    build,
};

/// VBank's settings for `config`: the protocol with VBank's quirks (consents are authorized at once), then the
/// configured options, which may override them.
pub fn settings(config: &BankConfig) -> Result<BankSettings, ConfigError> {
    let mut s = BankSettings::from_config(config);
    s.consent_approval = ConsentApproval::Automatic;
    s.apply_options(config)?;
    Ok(s)
}

/// A ready connector for VBank.
pub fn build(config: &BankConfig) -> Result<Arc<dyn BankConnector>, ConfigError> {
    crm_openbanking_ru::connect(settings(config)?)
}
