//! Books of clients: two teams, four managers and a viewer each see exactly their book — in
//! lists, totals, search, figures, single reads, exports and changes — and every refusal is
//! audited. Sharing (and its end) and assignment by an administrator or a team lead.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::{code, start, Client};
use crm_server::testkit::TestServer;
use serde_json::{json, Value};

const PASSWORD: &str = "a-long-test-password";

async fn create_user(admin: &Client, name: &str, role: &str) -> String {
    common::create_user(admin, name, role, PASSWORD).await
}

async fn signed_in(server: &TestServer, name: &str) -> Client {
    common::signed_in_as(server, name, PASSWORD).await
}

/// The names of the clients `c` lists, and the list's total.
async fn book(c: &Client) -> (BTreeSet<String>, u64) {
    let data = c
        .ok(
            "{ clients(first: 100) { totalCount edges { node { displayName } } } }",
            json!({}),
        )
        .await;
    let names = data["clients"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["displayName"].as_str().unwrap().to_owned())
        .collect();
    (names, data["clients"]["totalCount"].as_u64().unwrap())
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

struct World {
    server: TestServer,
    admin: Client,
    clients: Vec<String>,
    users: Vec<String>,
}

const CLIENTS: [&str; 4] = ["Клиент Лида", "Клиент Маши", "Клиент Льва", "Клиент Миши"];
const USERS: [&str; 5] = ["lida", "masha", "lev", "misha", "vera"];

/// Team A: lida (lead), masha, vera (viewer). Team B: lev (lead), misha. One client each for
/// the four managers, with one spending each (100, 200, 300, 400 ₽).
async fn world() -> World {
    let server = start().await;
    let admin = Client::new(&server);
    admin.login_admin().await;
    let mut users = Vec::new();
    for (name, role) in USERS
        .iter()
        .zip(["MANAGER", "MANAGER", "MANAGER", "MANAGER", "VIEWER"])
    {
        users.push(create_user(&admin, name, role).await);
    }
    let mut teams = Vec::new();
    for (team, lead) in [("A", &users[0]), ("B", &users[2])] {
        let data = admin
            .ok(
                "mutation($n: String!, $l: ID) { createTeam(name: $n, leadId: $l) { id name lead { username } } }",
                json!({ "n": team, "l": lead }),
            )
            .await;
        teams.push(data["createTeam"]["id"].as_str().unwrap().to_owned());
    }
    for (user, team) in [
        (&users[1], &teams[0]),
        (&users[4], &teams[0]),
        (&users[3], &teams[1]),
    ] {
        let data = admin
            .ok(
                "mutation($u: ID!, $t: ID) { setUserTeam(userId: $u, teamId: $t) { id team { id } } }",
                json!({ "u": user, "t": team }),
            )
            .await;
        assert_eq!(&data["setUserTeam"]["team"]["id"], team);
    }
    let mut clients = Vec::new();
    for (i, name) in CLIENTS.iter().enumerate() {
        let id = admin
            .ok(
                "mutation($n: String!) { createClient(input: { displayName: $n }) { id owner { username } } }",
                json!({ "n": name }),
            )
            .await["createClient"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        admin
            .ok(
                "mutation($c: ID!, $a: String!) { createTransaction(input: { clientId: $c, bookedAt: \"2026-11-02T10:00:00Z\", amount: $a, currency: \"RUB\", direction: DEBIT, description: \"Покупка\" }) { id } }",
                json!({ "c": id, "a": format!("{}.00", (i + 1) * 100) }),
            )
            .await;
        let data = admin
            .ok(
                "mutation($c: ID!, $o: ID!) { assignClient(clientId: $c, ownerId: $o) { owner { username } team { name } } }",
                json!({ "c": id, "o": users[i] }),
            )
            .await;
        assert_eq!(data["assignClient"]["owner"]["username"], USERS[i]);
        clients.push(id);
    }
    World {
        server,
        admin,
        clients,
        users,
    }
}

/// How many audit rows have an action starting with `prefix`.
async fn audited(server: &TestServer, prefix: &str) -> usize {
    server
        .core
        .audit()
        .recent_audit(500)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action.starts_with(prefix))
        .count()
}

async fn denials(server: &TestServer, user: &str) -> Vec<(String, String)> {
    server
        .core
        .audit()
        .recent_audit(500)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "authz.denied" && r.username.as_deref() == Some(user))
        .map(|r| {
            let details: Value = serde_json::from_str(&r.details).unwrap_or(Value::Null);
            (
                r.entity_id.unwrap_or_default(),
                details["operation"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn each_user_sees_exactly_their_book_and_refusals_are_audited() {
    let w = world().await;
    let lida = signed_in(&w.server, "lida").await;
    let masha = signed_in(&w.server, "masha").await;
    let lev = signed_in(&w.server, "lev").await;
    let misha = signed_in(&w.server, "misha").await;
    let vera = signed_in(&w.server, "vera").await;

    // Lists and their totals.
    assert_eq!(book(&w.admin).await, (names(&CLIENTS), 4));
    assert_eq!(book(&lida).await, (names(&[CLIENTS[0], CLIENTS[1]]), 2));
    assert_eq!(book(&masha).await, (names(&[CLIENTS[1]]), 1));
    assert_eq!(book(&lev).await, (names(&[CLIENTS[2], CLIENTS[3]]), 2));
    assert_eq!(book(&misha).await, (names(&[CLIENTS[3]]), 1));
    assert_eq!(book(&vera).await, (names(&[CLIENTS[0], CLIENTS[1]]), 2));

    // Search finds nothing outside the book.
    let found = masha
        .ok(
            "{ clients(filter: { search: \"Льва\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(found["clients"]["totalCount"], 0);

    // Headline figures and the portfolio are the book's.
    let figures = "{ stats { clients { total } transactions { count expense } } portfolio { grades { grade count } } }";
    let s = masha.ok(figures, json!({})).await;
    assert_eq!(s["stats"]["clients"]["total"], 1);
    assert_eq!(s["stats"]["transactions"]["count"], 1);
    assert_eq!(s["stats"]["transactions"]["expense"], "200.00");
    let graded: u64 = s["portfolio"]["grades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["count"].as_u64().unwrap())
        .sum();
    assert_eq!(graded, 1, "the portfolio's grades count the book's clients");
    let s = lev.ok(figures, json!({})).await;
    assert_eq!(s["stats"]["transactions"]["expense"], "700.00");
    let s = w.admin.ok(figures, json!({})).await;
    assert_eq!(s["stats"]["transactions"]["expense"], "1000.00");

    // A client outside the book does not exist for the user; the refusal is audited.
    let other = &w.clients[2];
    let body = masha
        .gql(
            "query($id: ID!) { client(id: $id) { displayName } }",
            json!({ "id": other }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    for mutation in [
        "mutation($id: ID!) { updateClient(id: $id, input: { displayName: \"X\" }) { id } }",
        "mutation($id: ID!) { deleteClient(id: $id) }",
        "mutation($id: ID!) { syncNow(clientId: $id) { id } }",
        "mutation($id: ID!) { recomputeRating(clientId: $id) { grade } }",
        "mutation($id: ID!) { linkBank(clientId: $id, bank: \"abank\", externalClientId: \"x\") { id } }",
    ] {
        let body = masha.gql(mutation, json!({ "id": other })).await;
        assert_eq!(code(&body), "NOT_FOUND", "{mutation}: {body}");
    }
    // An unknown id is NOT_FOUND too, and nothing is audited for it.
    let body = masha
        .gql(
            "mutation { syncNow(clientId: \"999999\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let denied = denials(&w.server, "masha").await;
    assert!(
        denied.contains(&(other.clone(), "read".to_owned())),
        "{denied:?}"
    );
    assert!(
        denied.contains(&(other.clone(), "change".to_owned())),
        "{denied:?}"
    );
    assert!(
        denied.iter().all(|(client, _)| client == other),
        "{denied:?}"
    );

    // The assistant answers only about the book.
    let body = masha
        .gql(
            "mutation($id: ID!) { askAssistant(question: \"Какой баланс?\", clientId: $id) { answer } }",
            json!({ "id": other }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");

    // Exports too.
    let res = masha
        .http
        .get(format!(
            "{}/export/clients/{other}/transactions.csv",
            masha.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    let res = masha
        .http
        .get(format!(
            "{}/export/clients/{}/transactions.csv",
            masha.base, w.clients[1]
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);

    // A viewer reads the team's clients and changes none; refusals are audited.
    let own_team = &w.clients[0];
    let body = vera
        .gql(
            "query($id: ID!) { client(id: $id) { displayName owner { username } team { name } } }",
            json!({ "id": own_team }),
        )
        .await;
    assert_eq!(
        body["data"]["client"]["owner"]["username"], "lida",
        "{body}"
    );
    assert_eq!(body["data"]["client"]["team"]["name"], "A", "{body}");
    let body = vera
        .gql(
            "mutation($id: ID!) { updateClient(id: $id, input: { displayName: \"X\" }) { id } }",
            json!({ "id": own_team }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    assert!(denials(&w.server, "vera")
        .await
        .contains(&(own_team.clone(), "change".to_owned())));

    // A manager may not run a sync of everyone.
    let body = masha.gql("mutation { syncNow { id } }", json!({})).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    w.server.stop().await.unwrap();
}

#[tokio::test]
async fn sharing_and_assigning_move_clients_between_books() {
    let w = world().await;
    let masha = signed_in(&w.server, "masha").await;
    let lev = signed_in(&w.server, "lev").await;
    let lida = signed_in(&w.server, "lida").await;
    let misha = signed_in(&w.server, "misha").await;
    let levs = &w.clients[2];

    // Lev shares his client with Masha (another team): she sees it and may work on it, but
    // may neither delete it nor share it further.
    let share = "mutation($c: ID!, $u: ID!, $until: DateTime) { shareClient(clientId: $c, userId: $u, until: $until) { user { username } until } }";
    let data = lev
        .ok(share, json!({ "c": levs, "u": w.users[1], "until": null }))
        .await;
    assert_eq!(data["shareClient"]["user"]["username"], "masha");
    assert_eq!(book(&masha).await.1, 2);
    masha
        .ok(
            "mutation($id: ID!) { updateClient(id: $id, input: { phone: \"+7 900 111-22-33\" }) { id } }",
            json!({ "id": levs }),
        )
        .await;
    let body = masha
        .gql(
            "mutation($id: ID!) { deleteClient(id: $id) }",
            json!({ "id": levs }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let body = masha
        .gql(share, json!({ "c": levs, "u": w.users[3], "until": null }))
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    // A share that already ended is refused; one that ends soon ends.
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    let body = lev
        .gql(share, json!({ "c": levs, "u": w.users[1], "until": past }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    lev.ok(share, json!({ "c": levs, "u": w.users[1], "until": soon }))
        .await;
    assert_eq!(book(&masha).await.1, 2);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(book(&masha).await.1, 1, "the share has ended");

    // A team lead assigns within the team only.
    let lidas = &w.clients[0];
    let assign = "mutation($c: ID!, $o: ID!) { assignClient(clientId: $c, ownerId: $o) { owner { username } team { name } } }";
    let data = lida
        .ok(assign, json!({ "c": lidas, "o": w.users[1] }))
        .await;
    assert_eq!(data["assignClient"]["owner"]["username"], "masha");
    assert_eq!(book(&masha).await.1, 2);
    let body = lida
        .gql(assign, json!({ "c": lidas, "o": w.users[3] }))
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    // A manager who is no lead assigns nothing.
    let body = masha
        .gql(assign, json!({ "c": lidas, "o": w.users[0] }))
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");

    // An administrator moves a client across teams: it leaves one book for the other.
    let data = w
        .admin
        .ok(assign, json!({ "c": lidas, "o": w.users[3] }))
        .await;
    assert_eq!(data["assignClient"]["team"]["name"], "B");
    assert_eq!(book(&masha).await.1, 1);
    assert_eq!(book(&misha).await.1, 2);
    assert_eq!(book(&lev).await.1, 3, "the lead of B sees B's clients");

    // Every assignment is audited.
    let assigned = audited(&w.server, "client.assign").await;
    assert_eq!(assigned, CLIENTS.len() + 2);
    w.server.stop().await.unwrap();
}

#[tokio::test]
async fn new_clients_are_in_their_creators_book() {
    let w = world().await;
    let masha = signed_in(&w.server, "masha").await;
    let data = masha
        .ok(
            "mutation { createClient(input: { displayName: \"Новый клиент\" }) { id owner { username } team { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["createClient"]["owner"]["username"], "masha");
    assert_eq!(data["createClient"]["team"]["name"], "A");
    assert_eq!(book(&masha).await.1, 2);
    let misha = signed_in(&w.server, "misha").await;
    assert_eq!(book(&misha).await.1, 1);
    let me = masha
        .ok(
            "{ me { username team { name lead { username } } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["me"]["team"]["name"], "A");
    assert_eq!(me["me"]["team"]["lead"]["username"], "lida");
    w.server.stop().await.unwrap();
}

/// `crm_session=…` of a login of `name` (no cookie store).
async fn cookie_of(server: &TestServer, name: &str, password: &str) -> String {
    let res = reqwest::Client::new()
        .post(server.url("/graphql"))
        .json(&json!({
            "query": "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { user { id } } }",
            "variables": { "u": name, "p": password }
        }))
        .send()
        .await
        .unwrap();
    let set = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_demo_deals_its_clients_to_two_teams_and_progress_stays_in_the_book() {
    use common::{open_ws, startup_run, ws_next, ws_send};
    use crm_server::testkit::ADMIN_PASSWORD;
    use std::time::Duration;

    let server = common::start_with(&[("SANDBOX", "on")]).await;
    let admin = Client::new(&server);
    admin.login_admin().await;
    startup_run(&admin, 0).await;

    // Two teams, four managers (signing in with the administrator's password), the clients
    // dealt in turn: every client has an owner, every manager a fifth of them.
    let teams = admin
        .ok("{ teams { name lead { username } } }", json!({}))
        .await;
    assert_eq!(teams["teams"].as_array().unwrap().len(), 2, "{teams}");
    let all = book(&admin).await.1;
    assert_eq!(all, 20);
    let mut seen = 0;
    for name in ["ivanova", "petrov", "smirnova", "kozlov"] {
        let m = Client::new(&server);
        let body = m.login(name, ADMIN_PASSWORD).await;
        assert!(body.get("errors").is_none(), "{name}: {body}");
        seen += book(&m).await.1;
    }
    // Leads see their team's clients too: ivanova's and smirnova's books hold their team.
    assert_eq!(
        seen,
        all + all / 2,
        "each lead sees the team, each member their own"
    );

    // Petrov's live progress shows his clients' links only.
    let petrov = Client::new(&server);
    petrov.login("petrov", ADMIN_PASSWORD).await;
    let mine = petrov
        .ok("{ clients(first: 1) { edges { node { id } } } }", json!({}))
        .await["clients"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cookie = cookie_of(&server, "petrov", ADMIN_PASSWORD).await;
    let mut ws = open_ws(&server, &cookie).await;
    ws_send(
        &mut ws,
        json!({ "type": "subscribe", "id": "p", "payload": {
            "query": "subscription { syncProgress { kind runId clientId } }"
        } }),
    )
    .await;
    // A sync of everyone (an administrator's), until Petrov's subscriber reports it finished.
    let mut clients_seen: BTreeSet<String> = BTreeSet::new();
    let mut finished = false;
    for _ in 0..5 {
        admin.ok("mutation { syncNow { id } }", json!({})).await;
        while let Ok(Some(msg)) =
            tokio::time::timeout(Duration::from_secs(10), ws_next(&mut ws)).await
        {
            let p = &msg["payload"]["data"]["syncProgress"];
            if let Some(c) = p["clientId"].as_str() {
                clients_seen.insert(c.to_owned());
            }
            if p["kind"] == "FINISHED" {
                finished = true;
                break;
            }
        }
        if finished {
            break;
        }
    }
    assert!(finished, "Petrov's subscriber saw a run end");
    let petrovs: BTreeSet<String> = petrov
        .ok(
            "{ clients(first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await["clients"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(clients_seen.contains(&mine), "{clients_seen:?}");
    assert!(
        clients_seen.is_subset(&petrovs),
        "{clients_seen:?} ⊄ {petrovs:?}"
    );
    // The runs' per-link results show his book's links; the runs' errors (which name other
    // clients) are an administrator's.
    let runs = petrov
        .ok(
            "{ syncRuns(first: 5) { errors links { clientId } } }",
            json!({}),
        )
        .await;
    let mut linked: BTreeSet<String> = BTreeSet::new();
    for run in runs["syncRuns"].as_array().unwrap() {
        assert_eq!(run["errors"], json!([]), "{run}");
        for l in run["links"].as_array().unwrap() {
            linked.insert(l["clientId"].as_str().unwrap().to_owned());
        }
    }
    assert!(
        !linked.is_empty() && linked.is_subset(&petrovs),
        "{linked:?}"
    );
    let all_runs = admin
        .ok("{ syncRuns(first: 1) { links { clientId } } }", json!({}))
        .await;
    let everyone: BTreeSet<&str> = all_runs["syncRuns"][0]["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["clientId"].as_str().unwrap())
        .collect();
    assert_eq!(
        everyone.len(),
        20,
        "an administrator sees every client's links"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_reset_password_works_once_and_must_be_changed_first() {
    let w = world().await;
    let masha = signed_in(&w.server, "masha").await;
    let reset = "mutation($u: ID!) { resetPassword(userId: $u) { user { username passwordChangeRequired } password } }";
    // Only administrators reset, and not their own.
    let body = masha.gql(reset, json!({ "u": w.users[3] })).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let me = w.admin.ok("{ me { id } }", json!({})).await;
    let body = w.admin.gql(reset, json!({ "u": me["me"]["id"] })).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");

    let data = w.admin.ok(reset, json!({ "u": w.users[1] })).await;
    assert_eq!(
        data["resetPassword"]["user"]["passwordChangeRequired"],
        true
    );
    let temporary = data["resetPassword"]["password"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(temporary.len() >= 16);
    // Her open session has ended; the old password no longer works.
    let body = masha.gql("{ clients { totalCount } }", json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    let body = Client::new(&w.server).login("masha", PASSWORD).await;
    assert!(body.get("errors").is_some(), "{body}");

    // With the temporary password she may only see who she is and choose a new one.
    let fresh = Client::new(&w.server);
    let body = fresh.login("masha", &temporary).await;
    assert!(body.get("errors").is_none(), "{body}");
    let me = fresh
        .ok("{ me { username passwordChangeRequired } }", json!({}))
        .await;
    assert_eq!(me["me"]["passwordChangeRequired"], true);
    let body = fresh.gql("{ clients { totalCount } }", json!({})).await;
    assert_eq!(code(&body), "PASSWORD_CHANGE_REQUIRED", "{body}");
    let res = fresh
        .http
        .get(format!(
            "{}/export/clients/{}/transactions.csv",
            fresh.base, w.clients[1]
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let changed = fresh
        .ok(
            "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { user { passwordChangeRequired } } }",
            json!({ "c": temporary, "n": "masha-new-password-1" }),
        )
        .await;
    assert_eq!(
        changed["changePassword"]["user"]["passwordChangeRequired"],
        false
    );
    assert_eq!(book(&fresh).await.1, 1);
    // The temporary password worked once.
    let body = Client::new(&w.server).login("masha", &temporary).await;
    assert!(body.get("errors").is_some(), "{body}");
    let resets = audited(&w.server, "user.password_reset").await;
    assert_eq!(resets, 1);
    w.server.stop().await.unwrap();
}

#[tokio::test]
async fn notes_belong_to_the_book_and_their_authors() {
    let w = world().await;
    let masha = signed_in(&w.server, "masha").await;
    let lida = signed_in(&w.server, "lida").await;
    let vera = signed_in(&w.server, "vera").await;
    let misha = signed_in(&w.server, "misha").await;
    let mashas = &w.clients[1];
    let add = "mutation($c: ID!, $k: NoteKind!, $b: String!, $at: DateTime) { addNote(clientId: $c, kind: $k, body: $b, occurredAt: $at) { id kind body occurredAt author { username } } }";
    let earlier = "2026-11-20T09:30:00Z";
    let call = masha
        .ok(add, json!({ "c": mashas, "k": "CALL", "b": "  Обсудили вклад на 6 месяцев.\r\nПерезвонить в пятницу.  ", "at": earlier }))
        .await["addNote"]
        .clone();
    assert_eq!(
        call["body"],
        "Обсудили вклад на 6 месяцев.\nПерезвонить в пятницу."
    );
    assert_eq!(call["author"]["username"], "masha");
    let note = lida
        .ok(
            add,
            json!({ "c": mashas, "k": "NOTE", "b": "Лид команды: клиент важный" }),
        )
        .await["addNote"]
        .clone();
    // Newest first, by when they happened.
    let list = "query($c: ID!) { client(id: $c) { notes { kind body author { username } } } }";
    let notes = vera.ok(list, json!({ "c": mashas })).await;
    let kinds: Vec<&str> = notes["client"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["NOTE", "CALL"]);

    // Refusals: another book (NOT_FOUND), a viewer (FORBIDDEN), someone else's note
    // (FORBIDDEN), bad input (BAD_USER_INPUT).
    let body = misha
        .gql(add, json!({ "c": mashas, "k": "NOTE", "b": "x" }))
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let body = misha.gql(list, json!({ "c": mashas })).await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let body = vera
        .gql(add, json!({ "c": mashas, "k": "NOTE", "b": "x" }))
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let edit = "mutation($id: ID!, $b: String) { editNote(id: $id, body: $b) { body updatedAt } }";
    let body = masha
        .gql(edit, json!({ "id": note["id"], "b": "чужая" }))
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let body = misha
        .gql(edit, json!({ "id": call["id"], "b": "чужая" }))
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    for bad in [
        json!({ "c": mashas, "k": "NOTE", "b": "   " }),
        json!({ "c": mashas, "k": "NOTE", "b": "я".repeat(20_001) }),
        json!({ "c": mashas, "k": "NOTE", "b": "a\u{202E}b" }),
        json!({ "c": mashas, "k": "NOTE", "b": "завтра", "at": "2030-01-01T00:00:00Z" }),
    ] {
        let body = masha.gql(add, bad).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    }

    // The author edits and deletes; an administrator may too.
    let edited = masha
        .ok(
            edit,
            json!({ "id": call["id"], "b": "Перезвонить в понедельник." }),
        )
        .await;
    assert_eq!(edited["editNote"]["body"], "Перезвонить в понедельник.");
    let delete = "mutation($id: ID!) { deleteNote(id: $id) }";
    w.admin.ok(delete, json!({ "id": note["id"] })).await;
    masha.ok(delete, json!({ "id": call["id"] })).await;
    let notes = masha.ok(list, json!({ "c": mashas })).await;
    assert_eq!(notes["client"]["notes"], json!([]));
    let audited = audited(&w.server, "note.").await;
    assert_eq!(audited, 5, "two added, one edited, two deleted");
    w.server.stop().await.unwrap();
}
