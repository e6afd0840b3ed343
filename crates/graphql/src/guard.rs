//! What every request gets around the schema, so no resolver can forget it: (1) the document is
//! parsed once and refused when it selects more fields than allowed (`limits.rs`) or asks for a
//! root field other than `login` (and introspection) without a session; (2) every error in the
//! response carries an `extensions.code`, and an error a resolver returned without one is masked.
//!
//! This is done outside the schema, not as a schema extension: with any extension installed,
//! async-graphql runs every field of every response through the extension chain, which cost the
//! uncached dashboard (~1,000 fields) a good part of its time.

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Data, Executor, Request, Response, ServerError};
use futures_util::stream::{BoxStream, StreamExt};

use crate::context::RequestContext;
use crate::error::{code, ApiError};
use crate::AppSchema;

/// Root fields that check a password. Each counts against the account's and the address's
/// attempt budgets, so a document may hold one and nothing beside it: fifty aliased `login`
/// fields in one request would otherwise spend a whole budget at once.
const PASSWORD_ROOT_FIELDS: &[&str] = &["login", "changePassword"];

/// `BAD_USER_INPUT` when `names` (a document's root fields) hold a password field beside
/// another field (the same one under an alias included).
fn password_fields_alone(names: &[&str]) -> Option<ServerError> {
    let field = names.iter().find(|n| PASSWORD_ROOT_FIELDS.contains(n))?;
    if names.len() == 1 {
        return None;
    }
    Some(with_code(
        ServerError::new(
            format!("`{field}` must be the only field of its request: send it alone"),
            None,
        ),
        code::BAD_USER_INPUT,
    ))
}

/// Root fields anyone may call.
const PUBLIC_ROOT_FIELDS: &[&str] = &["login", "__typename", "__schema", "__type"];

/// The schema with the checks of this module. Cheap to clone.
#[derive(Clone)]
pub struct Api {
    schema: AppSchema,
    max_fields: usize,
    gate: Arc<crate::cost::Gate>,
    /// Requests per user per minute across replicas (core's counter).
    quota: Option<Arc<crm_core::quota::RequestQuota>>,
}

/// A request that passed the checks, or the response that refuses it.
enum Admission {
    /// The request, the kind of its operation, and its [`crate::cost::estimate`].
    Admitted(Request, Option<OperationType>, usize),
    Refused(Response),
}

impl Api {
    pub(crate) fn new(
        schema: AppSchema,
        max_fields: usize,
        gate: crate::cost::Gate,
        quota: Option<Arc<crm_core::quota::RequestQuota>>,
    ) -> Self {
        Api {
            schema,
            max_fields,
            gate: Arc::new(gate),
            quota,
        }
    }

    /// Runs one request with its caller's context. Also returns the kind of the operation that
    /// ran (`None` when the request was refused before it ran).
    pub async fn execute(
        &self,
        request: Request,
        ctx: RequestContext,
    ) -> (Response, Option<OperationType>) {
        let signed_in = ctx.actor.is_some();
        let user = ctx.actor.as_ref().map(|a| a.user_id);
        self.run(request.data(ctx), signed_in, user).await
    }

    /// Checks, waits for its places at the gate ([`crate::cost`]), runs.
    async fn run(
        &self,
        request: Request,
        signed_in: bool,
        user: Option<i64>,
    ) -> (Response, Option<OperationType>) {
        match self.admit(request, signed_in) {
            Admission::Refused(response) => (response, None),
            Admission::Admitted(request, kind, cost) => {
                let _places = match self.enter(user, cost).await {
                    Ok(places) => places,
                    Err(response) => return (response, None),
                };
                (finish(self.schema.execute(request).await), kind)
            }
        }
    }

    /// The request rate of `user` and the places at the gate for a request of this `cost`, or
    /// the response that refuses it.
    async fn enter(
        &self,
        user: Option<i64>,
        cost: usize,
    ) -> Result<crate::cost::Admitted, Response> {
        let refuse = |e: ApiError| {
            let err = async_graphql::Error::from(e).into_server_error(Default::default());
            Response::from_errors(vec![err])
        };
        if let Some(refused) = self.check_rate(user).await {
            return Err(refused);
        }
        self.gate.enter(user, cost).await.map_err(refuse)
    }

    /// Counts a request of `user` against the per-user rate (`QUERY_RATE_PER_MINUTE`, across
    /// replicas); the response that refuses it when the rate is used up. The transport calls
    /// it for answers it reuses, which count like computed ones.
    pub async fn check_rate(&self, user: Option<i64>) -> Option<Response> {
        let (Some(id), Some(quota)) = (user, &self.quota) else {
            return None;
        };
        let e = quota.admit(id, chrono::Utc::now()).await.err()?;
        let err =
            async_graphql::Error::from(ApiError::from(e)).into_server_error(Default::default());
        Some(Response::from_errors(vec![err]))
    }

    fn admit(&self, mut request: Request, signed_in: bool) -> Admission {
        if let Some(err) = crate::text_input::check_variables(&request.variables) {
            return Admission::Refused(Response::from_errors(vec![err]));
        }
        // Read beside the parsed document (which borrows the request), put back below.
        let variables = std::mem::take(&mut request.variables);
        let name = request.operation_name.clone();
        let doc = match request.parsed_query() {
            Ok(doc) => doc,
            Err(err) => return Admission::Refused(finish(Response::from_errors(vec![err]))),
        };
        if let Some(err) = crate::limits::check(doc, self.max_fields) {
            return Admission::Refused(Response::from_errors(vec![err]));
        }
        if let Some(err) = crate::text_input::check_document(doc) {
            return Admission::Refused(Response::from_errors(vec![err]));
        }
        let operation = operation(doc, name.as_deref());
        // Without an operation to run (several and no name, or a name the document lacks) the
        // schema answers with its own error and runs nothing.
        if let Some((_, set)) = operation {
            let mut names = Vec::new();
            root_fields(doc, set, &mut HashSet::new(), &mut names);
            if let Some(err) = password_fields_alone(&names) {
                return Admission::Refused(Response::from_errors(vec![err]));
            }
            if !signed_in && !names.iter().all(|n| PUBLIC_ROOT_FIELDS.contains(n)) {
                let e = ApiError::unauthenticated();
                let err = with_code(ServerError::new(e.message, None), e.code);
                return Admission::Refused(Response::from_errors(vec![err]));
            }
        }
        let kind = operation.map(|(kind, _)| kind);
        let cost = operation.map_or(0, |(_, set)| crate::cost::estimate(doc, set, &variables));
        request.variables = variables;
        Admission::Admitted(request, kind, cost)
    }
}

/// The operation a request runs, chosen as async-graphql chooses it: the one named, or the only
/// one.
fn operation<'d>(
    doc: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<(OperationType, &'d SelectionSet)> {
    use async_graphql::parser::types::DocumentOperations;
    let op = match (&doc.operations, name) {
        (DocumentOperations::Single(op), None) => Some(op),
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    }?;
    Some((op.node.ty, &op.node.selection_set.node))
}

/// The kind of the operation a request with this document and operation name runs.
pub fn operation_kind(doc: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    operation(doc, name).map(|(kind, _)| kind)
}

/// The names of the fields at the root of `set`, through fragments (each spread once).
fn root_fields<'d>(
    doc: &'d ExecutableDocument,
    set: &'d SelectionSet,
    spread: &mut HashSet<&'d str>,
    out: &mut Vec<&'d str>,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => out.push(f.node.name.node.as_str()),
            Selection::InlineFragment(f) => {
                root_fields(doc, &f.node.selection_set.node, spread, out)
            }
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                if spread.insert(name) {
                    match doc.fragments.get(&s.node.fragment_name.node) {
                        Some(f) => root_fields(doc, &f.node.selection_set.node, spread, out),
                        // Validation refuses an unknown fragment; until then it counts as
                        // private.
                        None => out.push(name),
                    }
                }
            }
        }
    }
}

/// Gives every error a code. Errors without one and without a path come from parsing and
/// validation: the caller's (`BAD_USER_INPUT`). A resolver's error (it has a path) without a
/// code is unexpected and masked, unless it is async-graphql's message for an argument of the
/// wrong type.
fn finish(mut response: Response) -> Response {
    response.errors = std::mem::take(&mut response.errors)
        .into_iter()
        .map(|err| {
            if has_code(&err) {
                err
            } else if err.path.is_empty() || is_input_error(&err.message) {
                with_code(err, code::BAD_USER_INPUT)
            } else {
                let masked = ApiError::internal(&err.message);
                let mut out = ServerError::new(masked.message, None);
                out.locations = err.locations;
                out.path = err.path;
                with_code(out, code::INTERNAL)
            }
        })
        .collect();
    response
}

fn with_code(mut err: ServerError, code: &str) -> ServerError {
    let mut ext = err.extensions.take().unwrap_or_default();
    ext.set("code", code);
    err.extensions = Some(ext);
    err
}

fn has_code(err: &ServerError) -> bool {
    err.extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some())
}

/// async-graphql's own messages for arguments and variables that do not fit their types, and
/// for a variable declared non-null (`$first: Int!`) that the request leaves out: the
/// executor finds that only when the field reads it, so it comes with a path.
fn is_input_error(message: &str) -> bool {
    [
        "Failed to parse",
        "Invalid value for argument",
        "Invalid value",
    ]
    .iter()
    .any(|p| message.starts_with(p))
        || (message.starts_with("Variable ") && message.ends_with(" is not defined."))
}

/// The executor of a websocket, whose caller was signed in when it opened (the transport closes
/// it when the session ends).
#[derive(Clone)]
pub struct SignedIn(pub Api, pub i64);

impl Executor for SignedIn {
    async fn execute(&self, request: Request) -> Response {
        self.0.run(request, true, Some(self.1)).await.0
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        match self.0.admit(request, true) {
            Admission::Refused(response) => {
                futures_util::stream::once(async move { response }).boxed()
            }
            // A subscription streams for as long as it is open: it holds no places (the socket
            // caps bound them).
            Admission::Admitted(request, Some(OperationType::Subscription), _) => self
                .0
                .schema
                .execute_stream_with_session_data(request, session_data.unwrap_or_default())
                .map(finish)
                .boxed(),
            // A query or mutation over the socket passes the request rate and the gate as over
            // HTTP, holding its places until its answer is out.
            Admission::Admitted(request, _, cost) => {
                let api = self.0.clone();
                let user = self.1;
                let data = session_data.unwrap_or_default();
                futures_util::stream::once(async move {
                    match api.enter(Some(user), cost).await {
                        Err(response) => {
                            futures_util::stream::once(async move { response }).boxed()
                        }
                        Ok(places) => api
                            .schema
                            .execute_stream_with_session_data(request, data)
                            .map(move |response| {
                                let _held = &places;
                                finish(response)
                            })
                            .boxed(),
                    }
                })
                .flatten()
                .boxed()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(query: &str, name: Option<&str>) -> Option<(OperationType, Vec<String>)> {
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        let (kind, set) = operation(&doc, name)?;
        let mut out = Vec::new();
        root_fields(&doc, set, &mut HashSet::new(), &mut out);
        Some((kind, out.into_iter().map(str::to_owned).collect()))
    }

    #[test]
    fn a_password_field_goes_alone() {
        let refused = |q: &str| {
            let (_, names) = roots(q, None).expect("one operation");
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            password_fields_alone(&names).is_some()
        };
        assert!(!refused(
            "mutation { login(username: \"a\", password: \"b\") { ok } }"
        ));
        assert!(refused(
            "mutation { a: login(username: \"a\", password: \"b\") { ok } b: login(username: \"a\", password: \"c\") { ok } }"
        ));
        assert!(refused(
            "mutation { login(username: \"a\", password: \"b\") { ok } ...F } fragment F on MutationRoot { changePassword(current: \"x\", new: \"y\") }"
        ));
        assert!(refused(
            "mutation { changePassword(current: \"x\", new: \"y\") logout }"
        ));
        assert!(refused(
            "mutation { __typename login(username: \"a\", password: \"b\") { ok } }"
        ));
        assert!(!refused(
            "mutation { logout addNote(clientId: 1, body: \"x\") { id } }"
        ));
    }

    #[test]
    fn root_fields_are_found_through_fragments_and_names() {
        assert_eq!(
            roots("{ me { id } ... on QueryRoot { stats { clients } } ...F } fragment F on QueryRoot { banks { code } ...F }", None),
            Some((OperationType::Query, vec!["me".into(), "stats".into(), "banks".into()]))
        );
        let two = "mutation A { login(username: \"a\", password: \"b\") { ok } } query B { clients { totalCount } }";
        assert_eq!(roots(two, None), None);
        assert_eq!(
            roots(two, Some("A")),
            Some((OperationType::Mutation, vec!["login".into()]))
        );
        assert_eq!(
            roots(two, Some("B")),
            Some((OperationType::Query, vec!["clients".into()]))
        );
        assert_eq!(roots(two, Some("C")), None);
    }

    #[test]
    fn errors_get_codes_and_resolver_surprises_are_masked() {
        let mut validation = ServerError::new("Unknown field \"x\"", None);
        validation.path = Vec::new();
        let mut surprise = ServerError::new("SELECT secret FROM users failed", None);
        surprise.path = vec![async_graphql::PathSegment::Field("clients".into())];
        let mut argument = ServerError::new("Invalid value for argument \"first\"", None);
        argument.path = vec![async_graphql::PathSegment::Field("clients".into())];
        let coded = with_code(ServerError::new("sign in", None), code::UNAUTHENTICATED);
        let out = finish(Response::from_errors(vec![
            validation, surprise, argument, coded,
        ]));
        let codes: Vec<String> = out
            .errors
            .iter()
            .map(|e| {
                e.extensions
                    .as_ref()
                    .and_then(|x| x.get("code"))
                    .map(|c| c.to_string())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(
            codes,
            [
                "\"BAD_USER_INPUT\"",
                "\"INTERNAL\"",
                "\"BAD_USER_INPUT\"",
                "\"UNAUTHENTICATED\""
            ]
        );
        assert!(!out.errors[1].message.contains("SELECT"));
        assert_eq!(out.errors[1].path.len(), 1);
        assert_eq!(out.errors[0].message, "Unknown field \"x\"");
    }
}
