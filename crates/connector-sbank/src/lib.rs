//! SBank: speaks the Russian Open Banking protocol (`crm-openbanking-ru`) and needs the client's approval for each consent (pending -> authorized).

use crm_connector::ConnectorResult;
use crm_openbanking_ru::{BankSettings, ConsentApproval, OpenBankingClient};

/// The code stored on links and accounts.
pub const CODE: &str = "sbank";
/// The name shown to managers.
pub const NAME: &str = "SBank";

/// SBank's settings at `base_url` with our team credentials.
pub fn settings(base_url: &str, team_id: &str, client_secret: &str) -> BankSettings {
    let mut s = BankSettings::new(CODE, NAME, base_url, team_id, client_secret);
    s.consent_approval = ConsentApproval::ByClient;
    s
}

/// A ready connector for SBank.
pub fn connector(
    base_url: &str,
    team_id: &str,
    client_secret: &str,
) -> ConnectorResult<OpenBankingClient> {
    OpenBankingClient::new(settings(base_url, team_id, client_secret))
}
