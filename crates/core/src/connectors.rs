//! The one place where bank connectors are registered. Each bank crate sits behind a cargo
//! feature (all on by default); a bank that speaks the same protocol but has no crate is added by
//! configuration alone (code, name, URL) and gets the generic protocol client.

use std::sync::Arc;

use crm_connector::BankConnector;
use crm_openbanking_ru::{BankSettings, ConsentApproval, OpenBankingClient};

use crate::banks::BankRegistry;
use crate::error::{CoreError, CoreResult};

/// Where a bank is and how it treats consents.
#[derive(Clone, Debug)]
pub struct BankEndpoint {
    pub code: String,
    /// Display name; defaults to the crate's name for known banks, else the code.
    pub name: Option<String>,
    pub url: String,
    /// For banks added by configuration: whether consents need the client's approval.
    pub needs_approval: bool,
}

/// Our team's credentials, the same at every bank.
#[derive(Clone)]
pub struct TeamCredentials {
    pub team_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for TeamCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamCredentials")
            .field("team_id", &self.team_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// The bank codes with a crate compiled in.
pub fn built_in_banks() -> Vec<&'static str> {
    vec![
        #[cfg(feature = "abank")]
        crm_connector_abank::CODE,
        #[cfg(feature = "vbank")]
        crm_connector_vbank::CODE,
        #[cfg(feature = "sbank")]
        crm_connector_sbank::CODE,
    ]
}

fn settings_for(e: &BankEndpoint, c: &TeamCredentials) -> BankSettings {
    let (url, team, secret) = (e.url.as_str(), c.team_id.as_str(), c.client_secret.as_str());
    let mut settings = match e.code.as_str() {
        #[cfg(feature = "abank")]
        crm_connector_abank::CODE => crm_connector_abank::settings(url, team, secret),
        #[cfg(feature = "vbank")]
        crm_connector_vbank::CODE => crm_connector_vbank::settings(url, team, secret),
        #[cfg(feature = "sbank")]
        crm_connector_sbank::CODE => crm_connector_sbank::settings(url, team, secret),
        code => {
            let mut s =
                BankSettings::new(code, e.name.as_deref().unwrap_or(code), url, team, secret);
            s.consent_approval = if e.needs_approval {
                ConsentApproval::ByClient
            } else {
                ConsentApproval::Automatic
            };
            s
        }
    };
    if let Some(name) = &e.name {
        settings.identity.name = name.clone();
    }
    settings
}

/// Builds the registry from the configured endpoints.
pub fn build_registry(
    endpoints: &[BankEndpoint],
    credentials: &TeamCredentials,
) -> CoreResult<BankRegistry> {
    let mut connectors: Vec<Arc<dyn BankConnector>> = Vec::new();
    for e in endpoints {
        if connectors.iter().any(|c| c.identity().code == e.code) {
            return Err(CoreError::invalid(format!(
                "bank {} is configured twice",
                e.code
            )));
        }
        let client =
            OpenBankingClient::new(settings_for(e, credentials)).map_err(CoreError::from)?;
        connectors.push(Arc::new(client));
    }
    Ok(BankRegistry::new(connectors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_banks_get_their_crate_settings_and_others_the_generic_client() {
        let creds = TeamCredentials {
            team_id: "team200".into(),
            client_secret: "s".repeat(32),
        };
        let endpoints = vec![
            BankEndpoint {
                code: "abank".into(),
                name: None,
                url: "http://127.0.0.1:1".into(),
                needs_approval: false,
            },
            BankEndpoint {
                code: "sbank".into(),
                name: None,
                url: "http://127.0.0.1:2".into(),
                needs_approval: false,
            },
            BankEndpoint {
                code: "xbank".into(),
                name: Some("XBank".into()),
                url: "http://127.0.0.1:3".into(),
                needs_approval: true,
            },
        ];
        let registry = build_registry(&endpoints, &creds).expect("registry");
        let names: Vec<String> = registry.all().into_iter().map(|b| b.name).collect();
        assert_eq!(names, vec!["ABank", "SBank", "XBank"]);
        assert!(settings_for(&endpoints[1], &creds).consent_approval == ConsentApproval::ByClient);
        assert!(settings_for(&endpoints[2], &creds).consent_approval == ConsentApproval::ByClient);
        assert!(settings_for(&endpoints[0], &creds).consent_approval == ConsentApproval::Automatic);
        let twice = vec![endpoints[0].clone(), endpoints[0].clone()];
        assert!(build_registry(&twice, &creds).is_err());
    }
}
