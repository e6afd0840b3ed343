//! ABank: speaks the Russian Open Banking protocol (`crm-openbanking-ru`) and auto-approves consents.

use crm_connector::ConnectorResult;
use crm_openbanking_ru::{BankSettings, ConsentApproval, OpenBankingClient};

/// The code stored on links and accounts.
pub const CODE: &str = "abank";
/// The name shown to managers.
pub const NAME: &str = "ABank";

/// ABank's settings at `base_url` with our team credentials.
pub fn settings(base_url: &str, team_id: &str, client_secret: &str) -> BankSettings {
    let mut s = BankSettings::new(CODE, NAME, base_url, team_id, client_secret);
    s.consent_approval = ConsentApproval::Automatic;
    s
}

/// A ready connector for ABank.
pub fn connector(
    base_url: &str,
    team_id: &str,
    client_secret: &str,
) -> ConnectorResult<OpenBankingClient> {
    OpenBankingClient::new(settings(base_url, team_id, client_secret))
}
