//! The one place where bank connectors are registered: [`TABLE`], one line per connector crate,
//! each behind a cargo feature of `crm-core`. A bank crate's line connects that bank by its
//! code; the `generic` line is the protocol builder for banks added by configuration alone
//! (code, name, URL, options). Core knows them only as `crm-connector`'s [`Registration`] and
//! [`BankConfig`], whatever their protocol.

use std::sync::Arc;

use crm_connector::BankConnector;
pub use crm_connector::{
    option_var, BankConfig, ConfigError, Credentials, HttpLimits, Registration,
};

use crate::banks::BankRegistry;

/// Every connector crate compiled in.
pub const TABLE: &[Registration] = &[
    #[cfg(feature = "abank")]
    crm_connector_abank::REGISTRATION,
    #[cfg(feature = "vbank")]
    crm_connector_vbank::REGISTRATION,
    #[cfg(feature = "sbank")]
    crm_connector_sbank::REGISTRATION,
    #[cfg(feature = "generic")]
    crm_connector_generic::REGISTRATION,
    #[cfg(feature = "toybank")]
    crm_connector_toybank::REGISTRATION,
];

/// The banks with a crate in `table`: code, name and the options their builders read.
pub fn bank_crates(
    table: &[Registration],
) -> impl Iterator<Item = (&'static str, &'static str, &'static [&'static str])> + '_ {
    table.iter().filter_map(|r| match *r {
        Registration::Bank {
            code,
            name,
            options,
            ..
        } => Some((code, name, options)),
        Registration::Protocol { .. } => None,
    })
}

/// The entry that builds `code`: its bank crate, else the table's protocol builder.
pub fn entry_for<'t>(table: &'t [Registration], code: &str) -> Option<&'t Registration> {
    let own = table
        .iter()
        .find(|r| matches!(r, Registration::Bank { code: c, .. } if *c == code));
    own.or_else(|| {
        table
            .iter()
            .find(|r| matches!(r, Registration::Protocol { .. }))
    })
}

/// Builds the registry of the configured banks from the product's [`TABLE`].
pub fn build_registry(banks: &[BankConfig]) -> Result<BankRegistry, ConfigError> {
    build_registry_from(TABLE, banks)
}

/// Builds the registry of the configured banks from `table`, in their order: each bank by its
/// crate's builder, or by the protocol builder when no crate has its code. Every option is
/// checked against the entry's list first; a bank configured twice or that nothing can build is
/// refused, naming its `<CODE>_URL`.
pub fn build_registry_from(
    table: &[Registration],
    banks: &[BankConfig],
) -> Result<BankRegistry, ConfigError> {
    let mut connectors: Vec<Arc<dyn BankConnector>> = Vec::new();
    for (i, config) in banks.iter().enumerate() {
        if banks[..i].iter().any(|b| b.code == config.code) {
            return Err(config.invalid("URL", format!("bank {} is configured twice", config.code)));
        }
        let Some(entry) = entry_for(table, &config.code) else {
            return Err(config.invalid(
                "URL",
                format!(
                    "no connector for bank {}: no crate of that code and no protocol builder is compiled in",
                    config.code
                ),
            ));
        };
        config.only_options(entry.options())?;
        let connector = (entry.build_fn())(config)?;
        tracing::debug!(bank = %config.code, "bank connector built");
        connectors.push(connector);
    }
    Ok(BankRegistry::new(connectors))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank(code: &str, port: u16) -> BankConfig {
        BankConfig::new(
            code,
            &format!("http://127.0.0.1:{port}"),
            Credentials::new("team200", "s".repeat(32)),
        )
    }

    #[test]
    fn known_banks_get_their_crate_and_others_the_generic_builder() {
        let banks = vec![
            bank("abank", 1).with_name("ABank"),
            bank("sbank", 2).with_name("SBank"),
            bank("xbank", 3)
                .with_name("XBank")
                .with_option("APPROVAL", "client"),
        ];
        let registry = build_registry(&banks).expect("registry");
        let names: Vec<String> = registry.all().into_iter().map(|b| b.name).collect();
        assert_eq!(names, vec!["ABank", "SBank", "XBank"]);
        assert!(matches!(
            entry_for(TABLE, "sbank"),
            Some(Registration::Bank { code: "sbank", .. })
        ));
        assert!(matches!(
            entry_for(TABLE, "xbank"),
            Some(Registration::Protocol {
                name: "openbanking-ru",
                ..
            })
        ));
        let codes: Vec<&str> = bank_crates(TABLE).map(|(code, _, _)| code).collect();
        assert_eq!(codes, vec!["abank", "vbank", "sbank"]);

        let twice = vec![bank("abank", 1), bank("abank", 1)];
        let e = build_registry(&twice).err().expect("twice");
        assert_eq!(e.option(), Some("ABANK_URL"));
        let bad = vec![bank("sbank", 2).with_option("APPROVAL", "sometimes")];
        let e = build_registry(&bad).err().expect("bad option");
        assert_eq!(e.option(), Some("SBANK_APPROVAL"));
        let nothing = build_registry_from(&[], &[bank("xbank", 3)])
            .err()
            .expect("no builder");
        assert_eq!(nothing.option(), Some("XBANK_URL"));
    }
}
