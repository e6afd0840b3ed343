//! The multi-bank picture over GraphQL against the real server with the demo's sandbox banks
//! (home bank: the first sandbox bank): `Client.heldAway`, `Client.shareOfWallet`,
//! `Client.consolidationOffers` and `bookWallet`. A manager's book roll-up is the sum of the
//! book's clients' figures; another book's client does not exist for them; every evidence row
//! of a product is the client's own.
#![allow(clippy::unwrap_used)]

mod common;

use common::{code, startup_run, Client};
use crm_server::testkit::ADMIN_PASSWORD;
use rust_decimal::Decimal;
use sea_orm::EntityTrait;
use serde_json::{json, Value};

const CLIENT: &str = "query($id: ID!) { client(id: $id) {
    heldAway { key kind bankName source confidence amount { amount currency } monthlyPayment { amount }
               paidIn { amount } evidenceTransactionIds evidenceAccountIds evidenceAgreementIds }
    shareOfWallet { homeBankCode currency from to
        balances { percent home { amount } total { amount } byBank { bankCode amount { amount } } }
        income { percent home { amount } total { amount } byBank { bankCode amount { amount } } }
        spending { percent home { amount } total { amount } byBank { bankCode amount { amount } } } }
    consolidationOffers(lang: RU) { kind heldAwayKey moneyAtStake { amount } reason figures { name text }
        evidenceTransactionIds }
} }";

const BOOK: &str = "{ bookWallet { clients clientsWithHeldAway
    share { balances { home { amount } total { amount } } income { home { amount } total { amount } }
            spending { home { amount } total { amount } } }
    heldAway { kind count clients } } }";

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

async fn ids_of_book(c: &Client) -> Vec<String> {
    let page = c
        .ok(
            "{ clients(first: 50) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    page["clients"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_book_sees_its_clients_products_elsewhere_and_the_shares_add_up() {
    let server = common::start_with(&[("SANDBOX", "on")]).await;
    let admin = Client::new(&server);
    admin.login_admin().await;
    startup_run(&admin, 0).await;

    let manager = Client::new(&server);
    let body = manager.login("petrov", ADMIN_PASSWORD).await;
    assert!(body.get("errors").is_none(), "{body}");
    let mine = ids_of_book(&manager).await;
    let everyone = ids_of_book(&admin).await;
    assert!(!mine.is_empty() && mine.len() < everyone.len());

    // The book's figures are its clients' sums; the products are counted the same way.
    let mut sums = [Decimal::ZERO; 6];
    let mut products = 0u64;
    let mut with_products = 0u64;
    let mut offers = 0;
    for id in &mine {
        let c = &manager.ok(CLIENT, json!({ "id": id })).await["client"];
        let share = &c["shareOfWallet"];
        assert_eq!(share["homeBankCode"], "abank", "{share}");
        for (k, dim) in ["balances", "income", "spending"].iter().enumerate() {
            let d = &share[dim];
            sums[2 * k] += dec(&d["home"]["amount"]);
            sums[2 * k + 1] += dec(&d["total"]["amount"]);
            let parts: Decimal = d["byBank"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| dec(&b["amount"]["amount"]))
                .sum();
            assert_eq!(parts, dec(&d["total"]["amount"]), "{dim} of {id} adds up");
        }
        let held = c["heldAway"].as_array().unwrap();
        products += held.len() as u64;
        with_products += u64::from(!held.is_empty());
        for p in held {
            assert_ne!(
                p["bankName"], "ABank",
                "the home bank's products are not away: {p}"
            );
            // Every evidence row is one of this client's transactions.
            for tx in p["evidenceTransactionIds"].as_array().unwrap() {
                let owner: i64 =
                    <crm_core::entity::transactions::Entity as EntityTrait>::find_by_id(
                        tx.as_str().unwrap().parse::<i64>().unwrap(),
                    )
                    .one(server.core.db().conn())
                    .await
                    .unwrap()
                    .unwrap()
                    .client_id;
                assert_eq!(owner.to_string(), *id, "{p}");
            }
        }
        for o in c["consolidationOffers"].as_array().unwrap() {
            offers += 1;
            assert!(!o["reason"].as_str().unwrap().is_empty());
            if let Some(key) = o["heldAwayKey"].as_str() {
                assert!(held.iter().any(|p| p["key"] == key), "{o}");
            }
        }
    }
    let book = &manager.ok(BOOK, json!({})).await["bookWallet"];
    assert_eq!(book["clients"].as_u64().unwrap() as usize, mine.len());
    assert_eq!(book["clientsWithHeldAway"].as_u64().unwrap(), with_products);
    let counted: u64 = book["heldAway"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, products);
    let s = &book["share"];
    let got = [
        dec(&s["balances"]["home"]["amount"]),
        dec(&s["balances"]["total"]["amount"]),
        dec(&s["income"]["home"]["amount"]),
        dec(&s["income"]["total"]["amount"]),
        dec(&s["spending"]["home"]["amount"]),
        dec(&s["spending"]["total"]["amount"]),
    ];
    assert_eq!(got, sums, "the book's share is its clients' sum");
    assert!(
        products > 0 && offers > 0,
        "the demo book holds products elsewhere"
    );

    // A client of another book does not exist for the manager.
    let other = everyone.iter().find(|id| !mine.contains(id)).unwrap();
    let denied = manager.gql(CLIENT, json!({ "id": other })).await;
    assert_eq!(code(&denied), "NOT_FOUND", "{denied}");
    // The administrator's book is everyone.
    let all = &admin.ok(BOOK, json!({})).await["bookWallet"];
    assert_eq!(all["clients"].as_u64().unwrap() as usize, everyone.len());
}
