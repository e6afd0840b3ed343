//! The manager's workbench over GraphQL: tasks (who may give and change them, due filters in
//! each user's own day), the client timeline (order, paging, filters, summaries in both
//! languages, a bounded number of statements per page, nothing left by a change that rolled
//! back) and the live feeds (`clientEvents`, `myTasksChanged`).
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Duration, SecondsFormat, Timelike, Utc};
use common::{code, open_ws, start, ws_next, ws_send, Client};
use crm_server::testkit::TestServer;
use serde_json::{json, Value};

const PASSWORD: &str = "a-long-test-password";

struct World {
    server: TestServer,
    admin: Client,
    /// masha's client (team A), lev's client (team B).
    masha_client: String,
    lev_client: String,
    masha_id: String,
    lev_id: String,
}

async fn create_user(admin: &Client, name: &str, role: &str) -> String {
    common::create_user(admin, name, role, PASSWORD).await
}

async fn signed_in(server: &TestServer, name: &str) -> Client {
    common::signed_in_as(server, name, PASSWORD).await
}

/// Team A: lida (lead), masha, vera (viewer). Team B: lev (lead). A client each for masha and
/// lev.
async fn world() -> World {
    let server = start().await;
    let admin = Client::new(&server);
    admin.login_admin().await;
    let lida = create_user(&admin, "lida", "MANAGER").await;
    let masha = create_user(&admin, "masha", "MANAGER").await;
    let lev = create_user(&admin, "lev", "MANAGER").await;
    let vera = create_user(&admin, "vera", "VIEWER").await;
    let mut teams = Vec::new();
    for (name, lead) in [("A", &lida), ("B", &lev)] {
        teams.push(
            admin
                .ok(
                    "mutation($n: String!, $l: ID) { createTeam(name: $n, leadId: $l) { id } }",
                    json!({ "n": name, "l": lead }),
                )
                .await["createTeam"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for user in [&masha, &vera] {
        admin
            .ok(
                "mutation($u: ID!, $t: ID) { setUserTeam(userId: $u, teamId: $t) { id } }",
                json!({ "u": user, "t": teams[0] }),
            )
            .await;
    }
    let mut clients = Vec::new();
    for (name, owner) in [("Клиент Маши", &masha), ("Клиент Льва", &lev)] {
        let id = admin
            .ok(
                "mutation($n: String!) { createClient(input: { displayName: $n }) { id } }",
                json!({ "n": name }),
            )
            .await["createClient"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        admin
            .ok(
                "mutation($c: ID!, $o: ID!) { assignClient(clientId: $c, ownerId: $o) { id } }",
                json!({ "c": id, "o": owner }),
            )
            .await;
        clients.push(id);
    }
    World {
        server,
        admin,
        masha_client: clients[0].clone(),
        lev_client: clients[1].clone(),
        masha_id: masha,
        lev_id: lev,
    }
}

fn iso(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

const CREATE_TASK: &str = "mutation($i: CreateTaskInput!) { createTask(input: $i) { id title overdue status assignee { username } } }";

async fn task_ids(c: &Client, filter: Value) -> Vec<String> {
    let data = c
        .ok(
            "query($f: TaskFilterInput) { myTasks(filter: $f) { id } }",
            json!({ "f": filter }),
        )
        .await;
    data["myTasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The IANA name of a fixed-offset zone whose local hour is `hour` right now (`Etc/GMT-5` is
/// UTC+5).
fn zone_at_local_hour(hour: i64) -> String {
    let utc_hour = i64::from(Utc::now().hour());
    let mut offset = hour - utc_hour;
    if offset < -12 {
        offset += 24;
    }
    if offset > 14 {
        offset -= 24;
    }
    match offset {
        0 => "Etc/UTC".to_owned(),
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    }
}

#[tokio::test]
async fn tasks_follow_the_book_and_due_filters_count_in_the_users_own_day() {
    let w = world().await;
    let masha = signed_in(&w.server, "masha").await;
    let lev = signed_in(&w.server, "lev").await;
    let lida = signed_in(&w.server, "lida").await;
    let vera = signed_in(&w.server, "vera").await;
    let now = Utc::now();

    // Twelve hours from now: today where it is 01:xx now, tomorrow where it is 13:xx now.
    let soon = masha
        .ok(
            CREATE_TASK,
            json!({ "i": { "clientId": w.masha_client, "title": "Позвонить по вкладу", "dueAt": iso(now + Duration::hours(12)), "priority": "HIGH" } }),
        )
        .await["createTask"]
        .clone();
    assert_eq!(soon["assignee"]["username"], "masha");
    assert_eq!(soon["status"], "OPEN");
    assert_eq!(soon["overdue"], false);
    let soon = soon["id"].as_str().unwrap().to_owned();
    let late = masha
        .ok(
            CREATE_TASK,
            json!({ "i": { "clientId": w.masha_client, "title": "Отправить договор", "dueAt": iso(now - Duration::days(1)) } }),
        )
        .await["createTask"]
        .clone();
    assert_eq!(late["overdue"], true);
    let late = late["id"].as_str().unwrap().to_owned();

    // The user's day: the default zone is Moscow; then two zones on either side of noon.
    let me = masha.ok("{ me { timeZone } }", json!({})).await;
    assert_eq!(me["me"]["timeZone"], "Europe/Moscow");
    let morning = zone_at_local_hour(1);
    let afternoon = zone_at_local_hour(13);
    masha
        .ok(
            "mutation($z: String!) { setMyTimeZone(timeZone: $z) { timeZone } }",
            json!({ "z": morning }),
        )
        .await;
    assert_eq!(
        task_ids(&masha, json!({ "due": "TODAY" })).await,
        vec![soon.clone()]
    );
    masha
        .ok(
            "mutation($z: String!) { setMyTimeZone(timeZone: $z) { timeZone } }",
            json!({ "z": afternoon }),
        )
        .await;
    assert!(task_ids(&masha, json!({ "due": "TODAY" })).await.is_empty());
    assert_eq!(
        task_ids(&masha, json!({ "due": "WEEK" })).await,
        vec![soon.clone()]
    );
    assert_eq!(
        task_ids(&masha, json!({ "due": "OVERDUE" })).await,
        vec![late.clone()]
    );
    let bad_zone = masha
        .gql(
            "mutation { setMyTimeZone(timeZone: \"Moscow\") { timeZone } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&bad_zone), "BAD_USER_INPUT");

    // Completing takes a task out of the open lists; reopening brings it back.
    masha
        .ok(
            "mutation($id: ID!) { completeTask(id: $id) { status closedAt } }",
            json!({ "id": late }),
        )
        .await;
    assert!(task_ids(&masha, json!({ "due": "OVERDUE" }))
        .await
        .is_empty());
    assert_eq!(
        task_ids(&masha, json!({ "status": "DONE" })).await,
        vec![late.clone()]
    );
    let again = masha
        .gql(
            "mutation($id: ID!) { completeTask(id: $id) { status } }",
            json!({ "id": late }),
        )
        .await;
    assert_eq!(
        code(&again),
        "BAD_USER_INPUT",
        "a done task is not done twice"
    );
    masha
        .ok(
            "mutation($id: ID!) { reopenTask(id: $id) { status } }",
            json!({ "id": late }),
        )
        .await;
    assert_eq!(
        task_ids(&masha, json!({ "due": "OVERDUE" })).await,
        vec![late.clone()]
    );

    // Only someone who can see the client may take its task; a viewer gives none.
    let to_lev = masha
        .gql(
            CREATE_TASK,
            json!({ "i": { "clientId": w.masha_client, "title": "x", "assigneeId": w.lev_id } }),
        )
        .await;
    assert_eq!(code(&to_lev), "BAD_USER_INPUT", "{to_lev}");
    let by_viewer = vera
        .gql(
            CREATE_TASK,
            json!({ "i": { "clientId": w.masha_client, "title": "x" } }),
        )
        .await;
    assert_eq!(code(&by_viewer), "FORBIDDEN");
    // Another team's manager does not know the task exists.
    let foreign = lev
        .gql(
            "mutation($id: ID!) { completeTask(id: $id) { status } }",
            json!({ "id": soon }),
        )
        .await;
    assert_eq!(code(&foreign), "NOT_FOUND");
    let foreign_client = lev
        .gql(
            CREATE_TASK,
            json!({ "i": { "clientId": w.masha_client, "title": "x" } }),
        )
        .await;
    assert_eq!(code(&foreign_client), "NOT_FOUND");

    // The team lead gives masha a task and sees the client's tasks, overdue one marked.
    let from_lead = lida
        .ok(
            CREATE_TASK,
            json!({ "i": { "clientId": w.masha_client, "title": "Подготовить предложение", "assigneeId": w.masha_id } }),
        )
        .await;
    assert_eq!(from_lead["createTask"]["assignee"]["username"], "masha");
    let tasks = lida
        .ok(
            "query($c: ID!) { client(id: $c) { tasks { title overdue status } } }",
            json!({ "c": w.masha_client }),
        )
        .await;
    let list = tasks["client"]["tasks"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(
        list.iter().filter(|t| t["overdue"] == true).count(),
        1,
        "{tasks}"
    );
    // A task names its client; the client where something happened last comes first.
    let day = masha
        .ok(
            "{ myTasks { client { displayName } } recentClients { displayName lastActivityAt } }",
            json!({}),
        )
        .await;
    assert_eq!(day["myTasks"][0]["client"]["displayName"], "Клиент Маши");
    assert_eq!(day["recentClients"][0]["displayName"], "Клиент Маши");
    assert!(day["recentClients"][0]["lastActivityAt"].is_string());
    let lev_day = lev.ok("{ recentClients { displayName } }", json!({})).await;
    assert_eq!(
        lev_day["recentClients"],
        json!([{ "displayName": "Клиент Льва" }])
    );
    // A task without a client goes to oneself or one's team only.
    let outside = masha
        .gql(
            CREATE_TASK,
            json!({ "i": { "title": "x", "assigneeId": w.lev_id } }),
        )
        .await;
    assert_eq!(code(&outside), "FORBIDDEN");
    assert!(w
        .server
        .core
        .audit()
        .recent_audit(200)
        .await
        .unwrap()
        .iter()
        .any(|r| r.action == "task.complete"));
    w.server.stop().await.unwrap();
}

async fn timeline(c: &Client, client: &str, first: u32, after: Option<&str>) -> Value {
    c.ok(
        "query($c: ID!, $f: Int, $a: String) { client(id: $c) { timeline(first: $f, after: $a) { pageInfo { hasNextPage endCursor } edges { node { kind at summary en: summary(lang: EN) actor { username } object { kind id } } } } } }",
        json!({ "c": client, "f": first, "a": after }),
    )
    .await["client"]["timeline"]
        .clone()
}

fn kinds(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_timeline_is_stored_newest_first_paged_and_costs_the_same_however_long() {
    let w = world().await;
    let masha = signed_in(&w.server, "masha").await;
    let lev = signed_in(&w.server, "lev").await;
    let c = &w.masha_client;
    masha
        .ok(
            "mutation($c: ID!) { updateClient(id: $c, input: { phone: \"+7 900 123-45-67\" }) { id } }",
            json!({ "c": c }),
        )
        .await;
    let two_days_ago = iso(Utc::now() - Duration::days(2));
    let note = masha
        .ok(
            "mutation($c: ID!, $at: DateTime) { addNote(clientId: $c, kind: CALL, body: \"Обсудили вклад\\nподробности\", occurredAt: $at) { id } }",
            json!({ "c": c, "at": two_days_ago }),
        )
        .await["addNote"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let task = masha
        .ok(
            CREATE_TASK,
            json!({ "i": { "clientId": c, "title": "Позвонить" } }),
        )
        .await["createTask"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    masha
        .ok(
            "mutation($id: ID!) { completeTask(id: $id) { id } }",
            json!({ "id": task }),
        )
        .await;

    // Newest first; the call two days ago sits below today's changes.
    let first = timeline(&masha, c, 3, None).await;
    assert_eq!(
        kinds(&first),
        ["TASK_COMPLETED", "TASK_CREATED", "CLIENT_EDITED"]
    );
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let done = &first["edges"][0]["node"];
    assert_eq!(done["summary"], "Выполнена задача «Позвонить»");
    assert_eq!(done["en"], "Task done: “Позвонить”");
    assert_eq!(done["actor"]["username"], "masha");
    assert_eq!(done["object"], json!({ "kind": "task", "id": task }));
    let cursor = first["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
    let rest = timeline(&masha, c, 10, Some(&cursor)).await;
    assert_eq!(kinds(&rest), ["CLIENT_ASSIGNED", "CLIENT_CREATED", "NOTE"]);
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);
    let call = &rest["edges"][2]["node"];
    assert_eq!(call["summary"], "Звонок: Обсудили вклад");
    assert_eq!(call["en"], "Call: Обсудили вклад");
    assert_eq!(
        rest["edges"][0]["node"]["summary"],
        "Передан менеджеру masha"
    );

    // Filtered by kind.
    let notes = masha
        .ok(
            "query($c: ID!) { client(id: $c) { timeline(kinds: [NOTE, CLIENT_EDITED]) { edges { node { kind summary(lang: EN) } } } } }",
            json!({ "c": c }),
        )
        .await;
    let filtered = &notes["client"]["timeline"];
    assert_eq!(kinds(filtered), ["CLIENT_EDITED", "NOTE"]);
    assert_eq!(
        filtered["edges"][0]["node"]["summary"],
        "Details changed: phone"
    );

    // Outside the book the client, and so its timeline, does not exist.
    let foreign = lev
        .gql(
            "query($c: ID!) { client(id: $c) { timeline { edges { node { kind } } } } }",
            json!({ "c": c }),
        )
        .await;
    assert_eq!(code(&foreign), "NOT_FOUND");

    // A deleted note takes its entry with it.
    masha
        .ok(
            "mutation($id: ID!) { deleteNote(id: $id) }",
            json!({ "id": note }),
        )
        .await;
    let after_delete = timeline(&masha, c, 20, None).await;
    assert!(!kinds(&after_delete).contains(&"NOTE".to_owned()));

    // The first page costs the same statements with 6 entries as with 66 of every kind that
    // names an object (notes, tasks, users).
    let cost = |c: Client| {
        let server = &w.server;
        let client = w.masha_client.clone();
        async move {
            // Once to warm up what a request does now and then (the session's touch, the
            // audited view), then measured. The counter is the process's: background work
            // (the job runner's polls, a queued job) can only add to a reading, so the
            // least of three readings is the page's own cost.
            timeline(&c, &client, 20, None).await;
            let mut least = u64::MAX;
            for _ in 0..3 {
                let before = server.core.db().statement_count();
                timeline(&c, &client, 20, None).await;
                least = least.min(server.core.db().statement_count() - before);
            }
            (least, c)
        }
    };
    masha
        .ok(
            "mutation($c: ID!) { addNote(clientId: $c, kind: EMAIL, body: \"Письмо отправлено\") { id } }",
            json!({ "c": c }),
        )
        .await;
    let (small, masha) = cost(masha).await;
    for i in 0..30 {
        masha
            .ok(
                "mutation($c: ID!, $b: String!) { addNote(clientId: $c, kind: NOTE, body: $b) { id } }",
                json!({ "c": c, "b": format!("заметка {i}") }),
            )
            .await;
        masha
            .ok(
                CREATE_TASK,
                json!({ "i": { "clientId": c, "title": format!("задача {i}") } }),
            )
            .await;
    }
    w.admin
        .ok(
            "mutation($c: ID!, $u: ID!) { shareClient(clientId: $c, userId: $u) { user { id } } }",
            json!({ "c": c, "u": w.lev_id }),
        )
        .await;
    let (large, _) = cost(masha).await;
    assert_eq!(
        small, large,
        "statements for the first page: {small} vs {large}"
    );
    assert!(large <= 8, "{large} statements for one page");
    w.server.stop().await.unwrap();
}

#[tokio::test]
async fn a_change_that_rolls_back_leaves_no_timeline_entry() {
    let w = world().await;
    let masha = signed_in(&w.server, "masha").await;
    // Make the note's audit row (written after its timeline entry, in the same transaction)
    // fail, so the whole change rolls back.
    let db = w.server.core.db().conn();
    use sea_orm::ConnectionTrait;
    let postgres = db.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
    if postgres {
        db.execute_unprepared(
            "CREATE FUNCTION refuse_note_audit() RETURNS trigger AS $$ BEGIN IF NEW.action = 'note.add' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
             CREATE TRIGGER refuse_note_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_note_audit();",
        )
        .await
        .unwrap();
    } else {
        db.execute_unprepared(
            "CREATE TRIGGER refuse_note_audit BEFORE INSERT ON audit_log WHEN NEW.action = 'note.add' BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .await
        .unwrap();
    }
    let before = kinds(&timeline(&masha, &w.masha_client, 50, None).await);
    let failed = masha
        .gql(
            "mutation($c: ID!) { addNote(clientId: $c, kind: NOTE, body: \"не сохранится\") { id } }",
            json!({ "c": w.masha_client }),
        )
        .await;
    assert!(failed.get("errors").is_some(), "{failed}");
    let after = kinds(&timeline(&masha, &w.masha_client, 50, None).await);
    assert_eq!(before, after, "no entry without its change");
    let notes = masha
        .ok(
            "query($c: ID!) { client(id: $c) { notes { id } } }",
            json!({ "c": w.masha_client }),
        )
        .await;
    assert_eq!(notes["client"]["notes"], json!([]));
    w.server.stop().await.unwrap();
}

/// `crm_session=…` of `name`'s login.
async fn cookie_of(server: &TestServer, name: &str) -> String {
    let res = reqwest::Client::new()
        .post(server.url("/graphql"))
        .json(&json!({
            "query": "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { user { id } } }",
            "variables": { "u": name, "p": PASSWORD },
        }))
        .send()
        .await
        .unwrap();
    let set = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

/// The next `next` payload of subscription `id` (other messages skipped), within 20 s.
async fn next_of(ws: &mut common::Ws, id: &str) -> Value {
    tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            let msg = ws_next(ws).await.expect("the socket stays open");
            if msg["id"] == id {
                return msg;
            }
        }
    })
    .await
    .expect("an event in time")
}

#[tokio::test]
async fn client_events_and_my_tasks_arrive_live_and_only_from_the_book() {
    let w = world().await;
    let lida = signed_in(&w.server, "lida").await;
    let mut ws = open_ws(&w.server, &cookie_of(&w.server, "masha").await).await;
    ws_send(
        &mut ws,
        json!({ "type": "subscribe", "id": "events", "payload": {
            "query": "subscription($c: ID!) { clientEvents(clientId: $c) { kind summary object { kind } } }",
            "variables": { "c": w.masha_client },
        } }),
    )
    .await;
    ws_send(
        &mut ws,
        json!({ "type": "subscribe", "id": "tasks", "payload": {
            "query": "subscription { myTasksChanged { title status assignee { username } } }",
        } }),
    )
    .await;
    ws_send(
        &mut ws,
        json!({ "type": "subscribe", "id": "foreign", "payload": {
            "query": "subscription($c: ID!) { clientEvents(clientId: $c) { kind } }",
            "variables": { "c": w.lev_client },
        } }),
    )
    .await;
    let refused = next_of(&mut ws, "foreign").await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{refused}"
    );
    assert_eq!(refused["payload"]["data"], Value::Null);

    // The subscriptions listen shortly after `subscribe`: give them a moment.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    w.admin
        .ok(
            "mutation($c: ID!) { addNote(clientId: $c, kind: MEETING, body: \"Встреча в офисе\") { id } }",
            json!({ "c": w.masha_client }),
        )
        .await;
    let event = next_of(&mut ws, "events").await;
    assert_eq!(event["type"], "next", "{event}");
    let entry = &event["payload"]["data"]["clientEvents"];
    assert_eq!(entry["kind"], "NOTE");
    assert_eq!(entry["summary"], "Встреча: Встреча в офисе");

    lida.ok(
        CREATE_TASK,
        json!({ "i": { "clientId": w.masha_client, "title": "Проверить документы", "assigneeId": w.masha_id } }),
    )
    .await;
    // The task reaches its assignee, and the same change the client's timeline (in either
    // order).
    let (mut task, mut created) = (Value::Null, Value::Null);
    tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while task.is_null() || created.is_null() {
            let msg = ws_next(&mut ws).await.expect("the socket stays open");
            match msg["id"].as_str() {
                Some("tasks") => task = msg["payload"]["data"]["myTasksChanged"].clone(),
                Some("events") => created = msg["payload"]["data"]["clientEvents"].clone(),
                _ => {}
            }
        }
    })
    .await
    .expect("both in time");
    assert_eq!(task["title"], "Проверить документы");
    assert_eq!(task["assignee"]["username"], "masha");
    assert_eq!(created["kind"], "TASK_CREATED");
    w.server.stop().await.unwrap();
}

#[tokio::test]
async fn notes_are_searchable_within_the_book() {
    let w = world().await;
    let masha = signed_in(&w.server, "masha").await;
    let lev = signed_in(&w.server, "lev").await;
    masha
        .ok(
            "mutation($c: ID!) { addNote(clientId: $c, kind: CALL, body: \"Клиент думает об ИПОТЕКЕ на Ёлочной\") { id } }",
            json!({ "c": w.masha_client }),
        )
        .await;
    // Any case, ё as е; the client list finds the client by its notes.
    let found = masha
        .ok(
            "{ searchNotes(text: \"ипотеке на елочной\") { body clientId } clients(filter: { search: \"ипотек\" }) { totalCount edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(found["searchNotes"].as_array().unwrap().len(), 1);
    assert_eq!(found["searchNotes"][0]["clientId"], w.masha_client.as_str());
    assert_eq!(found["clients"]["totalCount"], 1);
    assert_eq!(
        found["clients"]["edges"][0]["node"]["id"],
        w.masha_client.as_str()
    );
    // Outside the book nothing is found, not even a count.
    let foreign = lev
        .ok(
            "{ searchNotes(text: \"ипотек\") { body } clients(filter: { search: \"ипотек\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(foreign["searchNotes"], json!([]));
    assert_eq!(foreign["clients"]["totalCount"], 0);
    w.server.stop().await.unwrap();
}

async fn sees(c: &Client, client: &str) -> bool {
    c.gql(
        "query($c: ID!) { client(id: $c) { id } }",
        json!({ "c": client }),
    )
    .await
    .get("errors")
    .is_none()
}

#[tokio::test]
async fn a_lead_who_leaves_the_team_stops_leading_it_and_only_managers_lead() {
    let w = world().await;
    let lida = signed_in(&w.server, "lida").await;
    let teams = w
        .admin
        .ok(
            "{ teams { id name lead { username } members { username } } }",
            json!({}),
        )
        .await;
    let team = |name: &str| {
        teams["teams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()
            .clone()
    };
    let (a, b) = (team("A"), team("B"));
    assert_eq!(a["lead"]["username"], "lida");
    let members: Vec<&str> = a["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["username"].as_str().unwrap())
        .collect();
    assert_eq!(members, ["lida", "masha", "vera"]);
    assert!(
        sees(&lida, &w.masha_client).await,
        "the lead sees the team's client"
    );

    // lida moves to team B: she no longer leads A, nor sees its clients.
    let lida_id = a["lead"].clone();
    let users = w.admin.ok("{ users { id username } }", json!({})).await;
    let id_of = |name: &str| {
        users["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(lida_id.is_object());
    w.admin
        .ok(
            "mutation($u: ID!, $t: ID) { setUserTeam(userId: $u, teamId: $t) { id } }",
            json!({ "u": id_of("lida"), "t": b["id"] }),
        )
        .await;
    let after = w
        .admin
        .ok("query { teams { name lead { username } } }", json!({}))
        .await;
    let lead_of = |name: &str| {
        after["teams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()["lead"]
            .clone()
    };
    assert_eq!(lead_of("A"), Value::Null);
    assert_eq!(lead_of("B")["username"], "lev");
    assert!(
        !sees(&lida, &w.masha_client).await,
        "a former lead sees the old team's clients no more"
    );

    // A viewer never leads; clearLead leaves a team without one.
    let viewer = w
        .admin
        .gql(
            "mutation($t: ID!, $l: ID) { updateTeam(id: $t, leadId: $l) { id } }",
            json!({ "t": a["id"], "l": id_of("vera") }),
        )
        .await;
    assert_eq!(code(&viewer), "BAD_USER_INPUT");
    let cleared = w
        .admin
        .ok(
            "mutation($t: ID!) { updateTeam(id: $t, clearLead: true) { lead { username } } }",
            json!({ "t": b["id"] }),
        )
        .await;
    assert_eq!(cleared["updateTeam"]["lead"], Value::Null);
    w.server.stop().await.unwrap();
}
