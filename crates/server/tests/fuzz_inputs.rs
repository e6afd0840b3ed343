//! User input never causes INTERNAL (issue 15): random strings, numbers, ids, dates, amounts,
//! enums and input objects, drawn by proptest strategies built from `schema.graphql` itself,
//! are thrown at every root query and mutation argument of one real server; every answer must
//! be HTTP 200 or a clean 4xx without an `INTERNAL` error, and the server must stay healthy.
//! `FUZZ_CASES` sets the number of requests (default below), `FUZZ_SEED` (a number) replays a
//! run. Bugs it found are pinned by the plain tests at the end.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use common::{code, codes, Client};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Map, Value};

const SCHEMA: &str = include_str!("../../../schema.graphql");

/// Requests per run unless `FUZZ_CASES` says otherwise (about 60 per root field; some 15 s
/// in a debug build on SQLite).
const DEFAULT_CASES: u32 = 3000;

/// Root fields the fuzzer leaves alone, and why.
const SKIPPED: &[(&str, &str)] = &[
    (
        "login",
        "a password field goes alone in its document and failed logins throttle the account: random logins would lock the test out, not reach new code",
    ),
    ("logout", "ends the test's session"),
    (
        "changePassword",
        "a right guess ends the session's password; a wrong one is throttled like a login",
    ),
];

/// Arguments that never take the test administrator's own id: disabling, demoting or resetting
/// the password of the signed-in user ends the test's session.
const NOT_THE_ADMIN: &[(&str, &str)] = &[("updateUser", "id"), ("resetPassword", "userId")];

/// Arguments that never take the seeded client's id: the fields of `client(id:)` are fuzzed on
/// it, so it must outlive the run.
const NOT_THE_CLIENT: &[(&str, &str)] = &[("deleteClient", "id")];

/// Objects whose fields with arguments are fuzzed too, each reached through one root field
/// (Account is not: without banks there are no accounts).
const NESTED: &[(&str, &str, &str)] = &[
    ("Client", "$clientId: ID!", "client(id: $clientId)"),
    ("Portfolio", "", "portfolio"),
];

/// The schema, reduced to what the fuzzer needs.
struct Schema {
    objects: HashMap<String, Vec<Field>>,
    inputs: HashMap<String, Vec<Arg>>,
    enums: HashMap<String, Vec<String>>,
    query: Vec<Field>,
    mutation: Vec<Field>,
}

#[derive(Clone)]
struct Arg {
    name: String,
    ty: Type,
    has_default: bool,
}

impl Arg {
    fn required(&self) -> bool {
        !self.ty.nullable && !self.has_default
    }
}

#[derive(Clone)]
struct Field {
    name: String,
    args: Vec<Arg>,
    ty: Type,
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(n) => n.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

impl Schema {
    fn parse() -> Schema {
        let doc = async_graphql::parser::parse_schema(SCHEMA).expect("schema.graphql parses");
        let mut schema = Schema {
            objects: HashMap::new(),
            inputs: HashMap::new(),
            enums: HashMap::new(),
            query: Vec::new(),
            mutation: Vec::new(),
        };
        let args = |list: &[async_graphql::Positioned<
            async_graphql::parser::types::InputValueDefinition,
        >]| {
            list.iter()
                .map(|a| Arg {
                    name: a.node.name.node.to_string(),
                    ty: a.node.ty.node.clone(),
                    has_default: a.node.default_value.is_some(),
                })
                .collect::<Vec<_>>()
        };
        for def in doc.definitions {
            let TypeSystemDefinition::Type(t) = def else {
                continue;
            };
            let name = t.node.name.node.to_string();
            match t.node.kind {
                TypeKind::Object(o) => {
                    let fields: Vec<Field> = o
                        .fields
                        .iter()
                        .map(|f| Field {
                            name: f.node.name.node.to_string(),
                            args: args(&f.node.arguments),
                            ty: f.node.ty.node.clone(),
                        })
                        .collect();
                    match name.as_str() {
                        "Query" => schema.query = fields.clone(),
                        "Mutation" => schema.mutation = fields.clone(),
                        _ => {}
                    }
                    schema.objects.insert(name, fields);
                }
                TypeKind::InputObject(i) => {
                    schema.inputs.insert(name, args(&i.fields));
                }
                TypeKind::Enum(e) => {
                    schema.enums.insert(
                        name,
                        e.values
                            .iter()
                            .map(|v| v.node.value.node.to_string())
                            .collect(),
                    );
                }
                _ => {}
            }
        }
        assert!(!schema.query.is_empty() && !schema.mutation.is_empty());
        schema
    }

    /// `{ __typename a b c }` of the scalar and enum fields without arguments of the field's
    /// type, or nothing for a scalar result: always a valid selection.
    fn selection(&self, ty: &Type) -> String {
        match self.objects.get(named(ty)) {
            None => String::new(),
            Some(fields) => {
                let scalars: Vec<&str> = fields
                    .iter()
                    .filter(|f| f.args.is_empty() && !self.objects.contains_key(named(&f.ty)))
                    .map(|f| f.name.as_str())
                    .collect();
                format!(" {{ __typename {} }}", scalars.join(" "))
            }
        }
    }

    /// A strategy for a value of `ty` given to the argument (or input field) `name`.
    fn value(&self, ty: &Type, name: &str) -> BoxedStrategy<Value> {
        let inner = match &ty.base {
            BaseType::List(item) => proptest::collection::vec(self.value(item, name), 0..4)
                .prop_map(Value::Array)
                .boxed(),
            BaseType::Named(n) => self.named_value(n.as_str(), name),
        };
        if ty.nullable {
            prop_oneof![1 => Just(Value::Null), 5 => inner].boxed()
        } else {
            inner
        }
    }

    fn named_value(&self, type_name: &str, name: &str) -> BoxedStrategy<Value> {
        if let Some(values) = self.enums.get(type_name) {
            return proptest::sample::select(values.clone())
                .prop_map(Value::String)
                .boxed();
        }
        if let Some(fields) = self.inputs.get(type_name) {
            return self.object(fields);
        }
        match type_name {
            "String" => text_for(name).prop_map(Value::String).boxed(),
            "Int" => int().prop_map(Value::from).boxed(),
            "Float" => prop_oneof![
                Just(0.0),
                Just(-1.5),
                Just(f64::MAX),
                Just(f64::MIN_POSITIVE),
                any::<f64>().prop_filter("JSON has no NaN or infinity", |f| f.is_finite()),
            ]
            .prop_map(Value::from)
            .boxed(),
            "Boolean" => any::<bool>().prop_map(Value::Bool).boxed(),
            "ID" => id().boxed(),
            "DateTime" => date_time().prop_map(Value::String).boxed(),
            "NaiveDate" => naive_date().prop_map(Value::String).boxed(),
            "Decimal" => decimal().prop_map(Value::String).boxed(),
            other => panic!("the fuzzer has no strategy for the scalar {other}: add one"),
        }
    }

    /// An input object (or a field's arguments): every required field, a random subset of
    /// the others.
    fn object(&self, fields: &[Arg]) -> BoxedStrategy<Value> {
        let parts: Vec<BoxedStrategy<Option<(String, Value)>>> = fields
            .iter()
            .map(|f| {
                let name = f.name.clone();
                let value = self.value(&f.ty, &f.name);
                if f.required() {
                    value.prop_map(move |v| Some((name.clone(), v))).boxed()
                } else {
                    proptest::option::of(value)
                        .prop_map(move |v| v.map(|v| (name.clone(), v)))
                        .boxed()
                }
            })
            .collect();
        parts
            .prop_map(|kv| Value::Object(kv.into_iter().flatten().collect::<Map<_, _>>()))
            .boxed()
    }
}

/// Marks "one of the ids that exist", resolved when the request is sent (the pool grows as
/// the fuzzer creates things).
const EXISTING: &str = "__existing_id";

fn id() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => any::<usize>().prop_map(|i| json!({ EXISTING: i })),
        1 => proptest::sample::select(vec![
            "0",
            "-1",
            "1",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "18446744073709551616",
            "123456789012345678901234567890",
            "abc",
            "",
            " 1",
            "1 ",
            "1e3",
            "0x10",
            "+1",
            "１",
            "1.0",
            "%",
            "'",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        1 => any::<i64>().prop_map(|i| Value::String(i.to_string())),
        // An ID may be given as a JSON number too.
        1 => prop_oneof![Just(0i64), Just(-1), Just(i64::MAX), any::<i64>()].prop_map(Value::from),
    ]
}

fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::from(i32::MIN)),
        Just(i64::from(i32::MAX)),
        Just(0),
        Just(-1),
        Just(1),
        -100i64..1000,
        any::<i32>().prop_map(i64::from),
    ]
}

/// Characters that have broken text handling somewhere: SQL and LIKE metacharacters, Cyrillic,
/// characters whose case or normal form changes their length, combining marks, controls and
/// bidi marks (refused at the edge), emoji.
const NASTY: &[char] = &[
    'a', 'Z', '0', ' ', 'Я', 'ё', 'Ё', '%', '_', '\\', '\'', '"', ';', '-', '.', '@', '+', '*',
    '\u{0}', '\t', '\n', '\r', '\u{7}', '\u{7f}', '\u{202e}', '\u{200f}', '😀', '\u{fffd}',
    '\u{301}', 'ﬀ', 'İ', 'ß', 'ǅ', '\u{feff}', '\u{a0}', '１', '٣', '⁴',
];

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        2 => Just(String::new()),
        1 => Just("a".repeat(25_000)),
        1 => Just("я".repeat(19_999)),
        1 => Just("%".repeat(200)),
        1 => Just(" ".repeat(300)),
        2 => proptest::sample::select(vec![
            "Иванов Иван Иванович",
            "'; DROP TABLE clients; --",
            "100%_\\'\"",
            "\\",
            "%",
            "_",
            "' OR '1'='1",
            "a\u{0}b",
            "\u{202e}evil",
            "İstanbul ǅemal ß",
            "null",
            "undefined",
            "{}",
            "<script>alert(1)</script>",
        ])
        .prop_map(str::to_owned),
        6 => proptest::collection::vec(proptest::sample::select(NASTY), 0..40)
            .prop_map(|cs| cs.into_iter().collect::<String>()),
        3 => any::<String>(),
        // Plain words, so that whole inputs pass their checks often enough to reach the
        // database.
        6 => "[a-zA-Zа-яёА-Я0-9][a-zA-Zа-яёА-Я0-9 .,-]{0,30}",
    ]
    .boxed()
}

/// Text for an argument, with well-formed values mixed in where the name says what it holds
/// (so the fuzzer gets past the first check often enough to reach the database).
fn text_for(name: &str) -> BoxedStrategy<String> {
    let valid: &[&str] = match name {
        "currency" => &["RUB", "USD", "EUR", "rub", "XXX", "RUR"],
        "timeZone" => &[
            "Europe/Moscow",
            "UTC",
            "Asia/Kamchatka",
            "Etc/GMT+12",
            "Mars/Olympus",
        ],
        "email" => &["a@b.ru", "иван@пример.рф", "@", "a@"],
        "phone" => &[
            "+7 999 123-45-67",
            "8 (999) 123 45 67",
            "+",
            "00000000000000000000",
        ],
        "mcc" => &["5411", "0000", "99999", "-1"],
        "bank" => &["abank", "vbank", "sbank", "nosuchbank"],
        "username" => &["user1", "новый", "a", "ADMIN", "admin"],
        "password" => &["a-long-enough-password", "short"],
        "after" => &["", "MA==", "YWJj", "LTE=", "OTIyMzM3MjAzNjg1NDc3NTgwNw=="],
        _ => &[],
    };
    if name == "after" {
        return prop_oneof![1 => text(), 2 => cursor()].boxed();
    }
    if valid.is_empty() {
        return text();
    }
    prop_oneof![
        1 => text(),
        1 => proptest::sample::select(valid.to_vec()).prop_map(str::to_owned),
    ]
    .boxed()
}

/// A cursor as the server writes them (`c1:<id>:<name>`, `cs1:<key>:<id>:<name>`, …, in
/// unpadded URL-safe base64), with random parts: what it decodes goes past the text checks.
fn cursor() -> BoxedStrategy<String> {
    let number = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        Just("9223372036854775808".to_owned()),
        Just(String::new()),
        Just("x".to_owned()),
    ];
    (
        proptest::sample::select(vec!["c1", "cs1", "cb1", "t1", "e1"]),
        number.clone(),
        number,
        prop_oneof![text(), date_time()],
    )
        .prop_map(|(prefix, a, b, rest)| {
            let raw = match prefix {
                "c1" => format!("c1:{a}:{rest}"),
                "t1" | "e1" => format!("{prefix}:{a}:{rest}"),
                _ => format!("{prefix}:{a}:{b}:{rest}"),
            };
            base64_url(raw.as_bytes())
        })
        .boxed()
}

/// Unpadded URL-safe base64, as the server's cursors are written.
fn base64_url(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap()
        .to_rfc3339()
}

fn date_time() -> BoxedStrategy<String> {
    prop_oneof![
        3 => proptest::sample::select(vec![
            "2024-05-01T12:00:00Z",
            "2024-05-01T12:00:00+03:00",
            "1970-01-01T00:00:00Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "+262142-12-31T23:59:59Z",
            "-262143-01-01T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2024-02-30T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-05-01",
            "yesterday",
            "",
            "0",
        ])
        .prop_map(str::to_owned),
        // Between 1995 and 2026: what most date checks let through.
        3 => (788_918_400i64..1_767_225_600).prop_map(rfc3339),
        // Any second of the years 1 to 9999.
        2 => (-62_135_596_800i64..253_402_300_799).prop_map(rfc3339),
        1 => text(),
    ]
    .boxed()
}

fn naive_date() -> BoxedStrategy<String> {
    prop_oneof![
        proptest::sample::select(vec![
            "2024-05-01",
            "0001-01-01",
            "9999-12-31",
            "2024-02-30",
            "garbage"
        ])
        .prop_map(str::to_owned),
        text(),
    ]
    .boxed()
}

fn decimal() -> BoxedStrategy<String> {
    prop_oneof![
        3 => proptest::sample::select(vec![
            "1e400",
            "-0.001",
            "0",
            "-0",
            "0.00",
            "1",
            "-1",
            "100.50",
            "0.001",
            "1.005",
            "92233720368547758.07",
            "92233720368547758.08",
            "-92233720368547758.08",
            "99999999999999999999.99",
            "79228162514264337593543950335",
            "-79228162514264337593543950335",
            "792281625142643375935439503350",
            "1e10",
            "1E-2",
            "NaN",
            "Infinity",
            "abc",
            "",
            " 1",
            "1,5",
        ])
        .prop_map(str::to_owned),
        2 => any::<i64>().prop_map(|minor| format!("{}.{:02}", minor / 100, (minor % 100).abs())),
        3 => (1i64..100_000_000).prop_map(|minor| format!("{}.{:02}", minor / 100, minor % 100)),
        1 => (-1_000_000i64..1_000_000).prop_map(|minor| format!("{}.{:02}", minor / 100, (minor % 100).abs())),
        1 => text(),
    ]
    .boxed()
}

/// One root field ready to fuzz: the document and a strategy for its variables.
struct Target {
    name: String,
    document: String,
    variables: BoxedStrategy<Value>,
    /// Runs inside `client(id: $clientId)`, given the seeded client.
    on_client: bool,
}

fn targets(schema: &Schema) -> Vec<Target> {
    let skipped: HashSet<&str> = SKIPPED.iter().map(|(n, _)| *n).collect();
    let mut out = Vec::new();
    for (op, fields) in [("query", &schema.query), ("mutation", &schema.mutation)] {
        for f in fields.iter() {
            if !skipped.contains(f.name.as_str()) {
                out.push(target(schema, op, f.name.clone(), None, f));
            }
        }
    }
    for (object, decl, path) in NESTED {
        for f in schema.objects[*object]
            .iter()
            .filter(|f| !f.args.is_empty())
        {
            let name = format!("{object}.{}", f.name);
            out.push(target(schema, "query", name, Some((decl, path)), f));
        }
    }
    out
}

/// The document running `f` (at the root, or inside `outer`: the variable it declares and the
/// root field leading to `f`'s object) with every argument a variable, and its strategy.
fn target(
    schema: &Schema,
    op: &str,
    name: String,
    outer: Option<(&str, &str)>,
    f: &Field,
) -> Target {
    let mut decls: Vec<String> = outer
        .map(|(decl, _)| decl.to_owned())
        .filter(|d| !d.is_empty())
        .into_iter()
        .collect();
    decls.extend(f.args.iter().map(|a| format!("${}: {}", a.name, a.ty)));
    let uses: Vec<String> = f
        .args
        .iter()
        .map(|a| format!("{0}: ${0}", a.name))
        .collect();
    let decls = if decls.is_empty() {
        String::new()
    } else {
        format!("({})", decls.join(", "))
    };
    let uses = if uses.is_empty() {
        String::new()
    } else {
        format!("({})", uses.join(", "))
    };
    let field = format!("{}{uses}{}", f.name, schema.selection(&f.ty));
    let body = match outer {
        Some((_, path)) => format!("{path} {{ {field} }}"),
        None => field,
    };
    Target {
        name,
        document: format!("{op} Fuzz{decls} {{ {body} }}"),
        // Arguments with a default are left out at times (the default applies); a given null
        // is a value too.
        variables: schema.object(&f.args),
        on_client: outer.is_some_and(|(decl, _)| decl.contains("$clientId")),
    }
}

/// Replaces every "an existing id" marker with one of `pool`.
fn resolve_ids(value: &mut Value, pool: &[String]) {
    match value {
        Value::Object(map) => {
            if let Some(i) = map.get(EXISTING).and_then(Value::as_u64) {
                *value = Value::String(pool[i as usize % pool.len()].clone());
                return;
            }
            for v in map.values_mut() {
                resolve_ids(v, pool);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| resolve_ids(v, pool)),
        _ => {}
    }
}

/// Adds every `id` in an answer's data to the pool.
fn harvest_ids(value: &Value, pool: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) if k == "id" || k.ends_with("Id") => {
                        if pool.len() < 400 && !pool.contains(s) {
                            pool.push(s.clone());
                        }
                    }
                    _ => harvest_ids(v, pool),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| harvest_ids(v, pool)),
        _ => {}
    }
}

fn runner(cases: u32) -> (TestRunner, String) {
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    (
        TestRunner::new_with_rng(ProptestConfig::with_cases(cases), rng),
        format!("FUZZ_SEED={seed}"),
    )
}

/// A client, a note, a task and a manual transaction, so that real ids exist. Returns the
/// ids and the administrator's own id.
async fn seed(admin: &Client) -> (Vec<String>, String) {
    let me = admin.ok("{ me { id } }", json!({})).await["me"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = admin
        .ok(
            "mutation($i: CreateClientInput!) { createClient(input: $i) { id } }",
            json!({ "i": { "displayName": "Фаззер Ф.", "email": "fuzz@example.ru" } }),
        )
        .await["createClient"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let note = admin
        .ok(
            "mutation($c: ID!) { addNote(clientId: $c, kind: CALL, body: \"called\") { id } }",
            json!({ "c": client }),
        )
        .await["addNote"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let task = admin
        .ok(
            "mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }",
            json!({ "i": { "clientId": client, "title": "call back" } }),
        )
        .await["createTask"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tx = admin
        .ok(
            "mutation($i: CreateTransactionInput!) { createTransaction(input: $i) { id } }",
            json!({ "i": {
                "clientId": client, "bookedAt": "2024-05-01T12:00:00Z", "amount": "1234.50",
                "currency": "RUB", "direction": "DEBIT", "description": "Пятёрочка",
            } }),
        )
        .await["createTransaction"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (vec![client, note, task, tx, me.clone()], me)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_arguments_to_every_root_field_never_cause_internal() {
    let cases: u32 = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    // An INTERNAL answer shows only an id: the details are in the log, shown with the test.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("error")
        .with_test_writer()
        .try_init();
    // Thousands of requests of one user in seconds: the per-user rate limit would answer most
    // of them RATE_LIMITED before they reached a resolver.
    let server = common::start_with(&[("QUERY_RATE_PER_MINUTE", "0")]).await;
    let admin = Client::new(&server);
    admin.login_admin().await;
    let (mut pool, me) = seed(&admin).await;
    let client = &pool[0].clone();

    let schema = Schema::parse();
    let targets = targets(&schema);
    let (mut runner, seed_note) = runner(cases);
    let started = Instant::now();
    // Per field: answers without errors, and the error codes seen.
    let mut seen: BTreeMap<&str, (u32, BTreeMap<String, u32>)> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in 0..cases as usize {
        let target = &targets[case % targets.len()];
        let mut variables = target
            .variables
            .new_tree(&mut runner)
            .expect("a value")
            .current();
        resolve_ids(&mut variables, &pool);
        for (keep, list) in [(&me, NOT_THE_ADMIN), (client, NOT_THE_CLIENT)] {
            for (field, arg) in list {
                if target.name == *field && variables[*arg] == json!(keep) {
                    variables[*arg] = json!("0");
                }
            }
        }
        if target.on_client {
            variables["clientId"] = json!(client);
        }
        let (status, body) = admin
            .post_raw(json!({ "query": target.document, "variables": variables }))
            .await;
        let entry = seen.entry(target.name.as_str()).or_default();
        let errors = codes(&body);
        if errors.is_empty() {
            entry.0 += 1;
        }
        for c in &errors {
            *entry.1.entry(c.clone()).or_default() += 1;
        }
        let clean_status = status == 200 || (400..500).contains(&status);
        if !clean_status || errors.iter().any(|c| c == "INTERNAL" || c == "<none>") {
            let mut vars = variables.to_string();
            if vars.len() > 600 {
                vars = format!(
                    "{}… ({} bytes)",
                    &vars[..vars.floor_char_boundary(600)],
                    vars.len()
                );
            }
            failures.push(format!(
                "HTTP {status} {}\n  document: {}\n  variables: {vars}",
                body["errors"], target.document
            ));
        }
        harvest_ids(&body["data"], &mut pool);
    }
    let elapsed = started.elapsed();
    for (field, (ok, errs)) in &seen {
        println!("{field:>24}: {ok} ok, errors {errs:?}");
    }
    println!(
        "{cases} requests over {} fields in {elapsed:?} ({seed_note}); skipped: {:?}",
        targets.len(),
        SKIPPED.iter().map(|(n, _)| *n).collect::<Vec<_>>()
    );
    assert!(
        failures.is_empty(),
        "{} answers were INTERNAL or unclean ({seed_note}):\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Still healthy, and the session still works.
    let health = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let body = admin.gql("{ me { id } }", json!({})).await;
    assert_eq!(body["data"]["me"]["id"], json!(me), "{body}");
    assert_eq!(code(&body), "<none>");
    server.stop().await.unwrap();
}

/// Found by the fuzzer: a variable declared non-null (`$first: Int!`, for an argument with a
/// default) and left out of the request failed only when the field read it, as an error with a
/// path and no code, and was masked as INTERNAL. It is the caller's mistake: BAD_USER_INPUT
/// naming the variable.
#[tokio::test]
async fn a_non_null_variable_left_out_is_bad_user_input_naming_it() {
    let server = common::start().await;
    let admin = Client::new(&server);
    admin.login_admin().await;
    for (document, variable) in [
        (
            "query($first: Int!) { recentClients(first: $first) { id } }",
            "first",
        ),
        (
            "query($orderBy: ClientOrder!) { clients(orderBy: $orderBy) { totalCount } }",
            "orderBy",
        ),
        (
            "mutation($clearLead: Boolean!) { updateTeam(id: \"1\", clearLead: $clearLead) { id } }",
            "clearLead",
        ),
    ] {
        let body = admin.gql(document, json!({})).await;
        assert_eq!(codes(&body), ["BAD_USER_INPUT"], "{document}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(variable), "{document}: {body}");
    }
    server.stop().await.unwrap();
}

/// Found by the fuzzer on PostgreSQL: renaming a team to another team's name broke the unique
/// constraint (INTERNAL); a note's time or a task's due time in the year -262143 (which chrono
/// reads) was out of `timestamptz`'s range (INTERNAL). Both are the caller's: BAD_USER_INPUT
/// naming what is wrong.
#[tokio::test]
async fn a_taken_team_name_and_a_time_out_of_range_are_bad_user_input() {
    let server = common::start().await;
    let admin = Client::new(&server);
    admin.login_admin().await;
    let (ids, _) = seed(&admin).await;
    let (client, note, task) = (&ids[0], &ids[1], &ids[2]);

    let team = |name: &str| {
        let name = name.to_owned();
        let admin = &admin;
        async move {
            admin
                .ok(
                    "mutation($n: String!) { createTeam(name: $n) { id } }",
                    json!({ "n": name }),
                )
                .await["createTeam"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    team("Север").await;
    let south = team("Юг").await;
    let body = admin
        .gql(
            "mutation($id: ID!) { updateTeam(id: $id, name: \"Север\") { id } }",
            json!({ "id": south }),
        )
        .await;
    assert_eq!(codes(&body), ["BAD_USER_INPUT"], "{body}");
    assert!(body.to_string().contains("Север"), "{body}");
    // Its own name is no clash.
    admin
        .ok(
            "mutation($id: ID!) { updateTeam(id: $id, name: \"Юг\") { id } }",
            json!({ "id": south }),
        )
        .await;

    for at in ["-262143-01-01T00:00:00Z", "1000-01-01T00:00:00Z"] {
        for (document, variables, name) in [
            (
                "mutation($c: ID!, $at: DateTime) { addNote(clientId: $c, kind: NOTE, body: \"x\", occurredAt: $at) { id } }",
                json!({ "c": client, "at": at }),
                "occurredAt",
            ),
            (
                "mutation($id: ID!, $at: DateTime) { editNote(id: $id, occurredAt: $at) { id } }",
                json!({ "id": note, "at": at }),
                "occurredAt",
            ),
            (
                "mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }",
                json!({ "i": { "clientId": client, "title": "t", "dueAt": at } }),
                "dueAt",
            ),
            (
                "mutation($id: ID!, $i: UpdateTaskInput!) { updateTask(id: $id, input: $i) { id } }",
                json!({ "id": task, "i": { "dueAt": at } }),
                "dueAt",
            ),
        ] {
            let body = admin.gql(document, variables).await;
            assert_eq!(codes(&body), ["BAD_USER_INPUT"], "{document} {at}: {body}");
            assert!(body.to_string().contains(name), "{document} {at}: {body}");
        }
    }
    server.stop().await.unwrap();
}

/// Found by the fuzzer's cursors: a cursor's decoded text goes past the edge's text checks, and
/// one holding NUL reached PostgreSQL as a parameter, which refused it (INTERNAL). It is not a
/// cursor of ours: BAD_USER_INPUT naming `after`.
#[tokio::test]
async fn a_cursor_holding_nul_is_bad_user_input() {
    let server = common::start().await;
    let admin = Client::new(&server);
    admin.login_admin().await;
    seed(&admin).await;
    for raw in ["c1:1:a\u{0}b", "cs1:1:1:a\u{0}b", "cb1:1:1:\u{0}"] {
        for order in ["NAME", "SCORE_DESC", "BALANCE_DESC"] {
            let body = admin
                .gql(
                    "query($a: String, $o: ClientOrder!) { clients(after: $a, orderBy: $o) { totalCount } }",
                    json!({ "a": base64_url(raw.as_bytes()), "o": order }),
                )
                .await;
            assert_eq!(codes(&body), ["BAD_USER_INPUT"], "{raw:?} {order}: {body}");
            assert!(
                body.to_string().contains("after"),
                "{raw:?} {order}: {body}"
            );
        }
    }
    server.stop().await.unwrap();
}

/// Found by the fuzzer in `client(id:)`'s fields: a range ending in the year 262142 (which
/// chrono reads) overflowed the day key (`year * 10000`, a panic answered INTERNAL), and bounds
/// or cursor times beyond the stored years were out of PostgreSQL's range (INTERNAL). Such
/// bounds mean "from/until any time": they are clamped to the years 1-9999.
#[tokio::test]
async fn ranges_and_cursors_beyond_the_stored_years_read_like_open_ones() {
    let server = common::start().await;
    let admin = Client::new(&server);
    admin.login_admin().await;
    let (ids, _) = seed(&admin).await;
    let (past, future) = ("-262143-01-01T00:00:00Z", "+262142-12-31T23:59:59Z");
    let data = admin
        .ok(
            "query($c: ID!, $past: DateTime!, $future: DateTime!, $e: String) {
               client(id: $c) {
                 spendingByCategory(from: $past, to: $future) { category amount }
                 topMerchants(from: $past, to: $future) { merchant count }
                 transactions(filter: { from: $past, to: $future }) { totalCount }
                 timeline(after: $e) { edges { cursor } }
               }
               portfolio { categories(from: $past, to: $future) { category amount } }
             }",
            json!({
                "c": ids[0], "past": past, "future": future,
                // The year -98030.
                "e": base64_url(b"e1:-3155760000000000000:1"),
            }),
        )
        .await;
    let client = &data["client"];
    assert_eq!(
        client["spendingByCategory"][0]["amount"], "1234.50",
        "{data}"
    );
    assert_eq!(client["transactions"]["totalCount"], 1, "{data}");
    assert_eq!(client["timeline"]["edges"], json!([]), "{data}");
    server.stop().await.unwrap();
}
