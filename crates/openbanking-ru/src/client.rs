//! The protocol client: bank token cached until shortly before expiry (and renewed once on a
//! 401), every call with a request id, retries for what can be retried, and answers mapped to
//! `ConnectorError`. Bodies are never logged, only their sizes; tokens and consent ids never.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_connector::{
    redact, Access, AccountData, BalanceData, BankConnector, BankIdentity, CardData,
    ConnectorError, ConnectorResult, Consent, ConsentStatus, ProductAgreementData, ProductData,
    TransactionBatch, TransactionData,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::retry::{rate_limit_wait, Attempts, RetryPolicy};
use crate::{parse, wire};

/// How a bank treats consent requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentApproval {
    /// Approved at once (ABank, VBank).
    Automatic,
    /// The client approves in the bank; the request stays pending until then (SBank).
    ByClient,
}

/// How the bank issues its token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenStyle {
    /// HackAPI: `POST /auth/bank-token?client_id=..&client_secret=..` with no body. These
    /// banks read no standard form body, so the credentials travel as query parameters (the
    /// default, as `openbanking-ru.md` requires).
    QueryParameters,
    /// A standard RFC 6749 client-credentials endpoint, through the `oauth2` crate.
    /// `token_url` is absolute or a path on the bank's base URL; the credentials go in HTTP
    /// Basic auth, or in the form body when `credentials_in_body`.
    OAuth2 {
        token_url: String,
        credentials_in_body: bool,
    },
}

/// One bank's address, our credentials there, and its quirks.
#[derive(Clone)]
pub struct BankSettings {
    pub identity: BankIdentity,
    /// e.g. `https://abank.open.bankingapi.ru` (no trailing slash needed).
    pub base_url: String,
    /// Our team id (`team200`): `client_id` of the token call and `x-requesting-bank`.
    pub team_id: String,
    pub client_secret: String,
    /// Shown to the client in the consent request.
    pub requesting_bank_name: String,
    pub consent_approval: ConsentApproval,
    pub token_style: TokenStyle,
    /// Each attempt of each call gives up after this long (a retryable network error).
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Transactions per page (1..=100).
    pub page_size: u32,
    /// Extra full reads with other page sizes when distinct ids fall short of the bank's total.
    pub max_rereads: u32,
    /// The largest answer read, as it streams in; a larger one is refused (`Malformed`).
    pub max_body_bytes: u64,
}

impl std::fmt::Debug for BankSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BankSettings")
            .field("identity", &self.identity)
            .field("base_url", &self.base_url)
            .field("team_id", &self.team_id)
            .field("client_secret", &"<redacted>")
            .field("token_style", &self.token_style)
            .finish()
    }
}

impl BankSettings {
    pub fn new(code: &str, name: &str, base_url: &str, team_id: &str, client_secret: &str) -> Self {
        BankSettings {
            identity: BankIdentity {
                code: code.to_owned(),
                name: name.to_owned(),
            },
            base_url: base_url.trim_end_matches('/').to_owned(),
            team_id: team_id.to_owned(),
            client_secret: client_secret.to_owned(),
            requesting_bank_name: "AI-CRM".to_owned(),
            consent_approval: ConsentApproval::Automatic,
            token_style: TokenStyle::QueryParameters,
            request_timeout: Duration::from_secs(20),
            retry: RetryPolicy::default(),
            page_size: 100,
            max_rereads: 2,
            max_body_bytes: crm_connector::HttpLimits::default().max_body_bytes,
        }
    }
}

/// Rows gathered over one or more full reads: the rows of the asked range by bank id, every id
/// the bank showed (in the range or not: banks may ignore the range filter, and their total
/// then counts every row), and refused rows.
#[derive(Default)]
struct Collected {
    rows: HashMap<String, TransactionData>,
    seen: HashSet<String>,
    rejected: BTreeSet<String>,
    /// Rows without an id in the read that had the most of them (they cannot be told apart).
    unnamed: u64,
}

/// What one or more full reads of an account's pages showed of the bank's total.
#[derive(Default)]
struct PagesRead {
    /// The largest total the bank announced (`meta.totalRecords`).
    total: Option<u64>,
    /// A page announced a smaller total than an earlier one: rows left the list mid-read.
    shrank: bool,
}

impl PagesRead {
    /// A page's announced total, if it gave one.
    fn announced(&mut self, total: Option<u64>) {
        let Some(now) = total else { return };
        if self.total.is_some_and(|largest| now < largest) {
            self.shrank = true;
        }
        self.total = self.total.max(Some(now));
    }

    /// Another full read of the same range (a re-read with another page size).
    fn merge(&mut self, other: PagesRead) {
        self.shrank |= other.shrank;
        self.announced(other.total);
    }
}

impl Collected {
    /// Distinct rows the bank has shown us, in the range or not, readable or not: what its
    /// total counts.
    fn count(&self) -> u64 {
        self.seen.len() as u64 + self.unnamed
    }
}

/// The `oauth2` crate's HTTP client: ours (a named type with a boxed `Send` future, so the
/// token future stays `Send`).
struct OAuthHttp<'a> {
    client: &'a OpenBankingClient,
}

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp<'_> {
    type Error = Transport;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, Transport>> + Send + 'c>,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(self.client.oauth2_http(request))
    }
}

/// Our errors, carried through the `oauth2` crate's HTTP client interface.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Transport(ConnectorError);

struct CachedToken {
    value: String,
    renew_at: DateTime<Utc>,
}

/// A bank of this protocol, usable as a [`BankConnector`].
pub struct OpenBankingClient {
    settings: BankSettings,
    http: reqwest::Client,
    token: Mutex<Option<CachedToken>>,
}

/// A read that goes on longer than this is a bank whose paging never ends.
const MAX_PAGES: u64 = 200_000;
/// Fresh reads of an account's transactions after its total shrank mid-read.
const MAX_RESTARTS: u32 = 2;
/// Renew this long before the bank's stated expiry.
const RENEW_MARGIN_SECS: i64 = 300;
/// Every permission in one consent (§8: the newest consent hides older ones, so a second
/// consent for cards would break the account calls). Product agreements (§10) need none.
pub(crate) const PERMISSIONS: [&str; 4] = [
    "ReadAccountsDetail",
    "ReadBalances",
    "ReadTransactionsDetail",
    "ReadCards",
];
/// The permission `GET /cards` needs.
const CARDS_PERMISSION: &str = "ReadCards";

/// What `GET /account-consents/{id}` says.
struct ConsentView {
    status: ConsentStatus,
    expires_at: Option<DateTime<Utc>>,
    permissions: Option<Vec<String>>,
}

#[derive(Clone, Copy)]
enum Auth<'a> {
    None,
    Bank,
    Consent(Option<&'a str>),
}

impl OpenBankingClient {
    pub fn new(settings: BankSettings) -> ConnectorResult<Self> {
        let http = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent("AI-CRM")
            .build()
            .map_err(|e| ConnectorError::Network {
                bank: settings.identity.code.clone(),
                detail: e.to_string(),
            })?;
        Ok(OpenBankingClient {
            settings,
            http,
            token: Mutex::new(None),
        })
    }

    pub fn settings(&self) -> &BankSettings {
        &self.settings
    }

    fn bank(&self) -> String {
        self.settings.identity.code.clone()
    }

    fn malformed(&self, detail: impl Into<String>) -> ConnectorError {
        ConnectorError::Malformed {
            bank: self.bank(),
            detail: detail.into(),
        }
    }

    /// The cached bank token, fetched when missing or near expiry. One caller fetches while
    /// the others wait for it.
    async fn bank_token(&self) -> ConnectorResult<String> {
        let mut cached = self.token.lock().await;
        if let Some(t) = cached.as_ref().filter(|t| t.renew_at > Utc::now()) {
            return Ok(t.value.clone());
        }
        let (value, lifetime) = match &self.settings.token_style {
            TokenStyle::QueryParameters => self.query_token().await?,
            TokenStyle::OAuth2 {
                token_url,
                credentials_in_body,
            } => self.oauth2_token(token_url, *credentials_in_body).await?,
        };
        let lifetime = lifetime.unwrap_or(3600).max(1);
        let renew_at = Utc::now()
            + chrono::Duration::seconds((lifetime - RENEW_MARGIN_SECS).max(lifetime / 2).max(1));
        *cached = Some(CachedToken {
            value: value.clone(),
            renew_at,
        });
        tracing::debug!(bank = %self.settings.identity.code, lifetime, "bank token obtained");
        Ok(value)
    }

    /// HackAPI's token call: credentials as query parameters, no body.
    async fn query_token(&self) -> ConnectorResult<(String, Option<i64>)> {
        let query = [
            ("client_id", self.settings.team_id.clone()),
            ("client_secret", self.settings.client_secret.clone()),
        ];
        let body = self
            .send(
                Method::POST,
                "/auth/bank-token",
                &query,
                Auth::None,
                None,
                "",
            )
            .await?;
        let parsed: wire::TokenResponse = serde_json::from_str(&body)
            .map_err(|e| self.malformed(format!("token response: {e}")))?;
        if parsed.access_token.trim().is_empty() {
            return Err(self.malformed("token response without a token"));
        }
        let lifetime = parsed
            .expires_in
            .as_ref()
            .and_then(wire::decimal)
            .and_then(|d| i64::try_from(d).ok());
        Ok((parsed.access_token, lifetime))
    }

    /// A standard RFC 6749 client-credentials grant through the `oauth2` crate, over our own
    /// HTTP client (timeouts, request ids, retries like every other call).
    async fn oauth2_token(
        &self,
        token_url: &str,
        in_body: bool,
    ) -> ConnectorResult<(String, Option<i64>)> {
        use oauth2::basic::{BasicClient, BasicErrorResponseType};
        use oauth2::{
            AuthType, ClientId, ClientSecret, RequestTokenError, TokenResponse, TokenUrl,
        };

        let url = if token_url.starts_with("http://") || token_url.starts_with("https://") {
            token_url.to_owned()
        } else {
            format!("{}{}", self.settings.base_url, token_url)
        };
        let token_url = TokenUrl::new(url).map_err(|e| ConnectorError::Rejected {
            bank: self.bank(),
            status: 0,
            detail: format!("the configured token URL is not a URL: {e}"),
        })?;
        let client = BasicClient::new(ClientId::new(self.settings.team_id.clone()))
            .set_client_secret(ClientSecret::new(self.settings.client_secret.clone()))
            .set_token_uri(token_url)
            .set_auth_type(if in_body {
                AuthType::RequestBody
            } else {
                AuthType::BasicAuth
            });
        let http = OAuthHttp { client: self };
        let code = self.settings.identity.code.clone();
        let mut attempts = Attempts::new(&self.settings.retry, &code, "token");
        loop {
            let outcome = client
                .exchange_client_credentials()
                .request_async(&http)
                .await;
            let err = match outcome {
                Ok(token) => {
                    let lifetime = token
                        .expires_in()
                        .and_then(|d| i64::try_from(d.as_secs()).ok());
                    return Ok((token.access_token().secret().clone(), lifetime));
                }
                Err(RequestTokenError::Request(Transport(err))) => err,
                Err(RequestTokenError::ServerResponse(r)) => {
                    let detail = r.error().to_string();
                    match r.error() {
                        BasicErrorResponseType::InvalidClient
                        | BasicErrorResponseType::UnauthorizedClient
                        | BasicErrorResponseType::InvalidGrant => ConnectorError::Unauthorized {
                            bank: self.bank(),
                            detail,
                        },
                        _ => ConnectorError::Rejected {
                            bank: self.bank(),
                            status: 400,
                            detail,
                        },
                    }
                }
                Err(RequestTokenError::Parse(e, body)) => self.malformed(format!(
                    "token response: {} bytes that are not a token ({})",
                    body.len(),
                    e.path()
                )),
                Err(RequestTokenError::Other(text)) => {
                    self.malformed(format!("token response: {text}"))
                }
            };
            attempts.again(err).await?;
        }
    }

    /// The `oauth2` crate's HTTP calls, sent by our client: 5xx, 429 and network failures
    /// come back as our (retryable) errors, a 401 or 403 as refused credentials whatever its
    /// body says, every other answer goes to the crate to read.
    async fn oauth2_http(
        &self,
        request: oauth2::HttpRequest,
    ) -> Result<oauth2::HttpResponse, Transport> {
        let (parts, body) = request.into_parts();
        let method = Method::from_bytes(parts.method.as_str().as_bytes()).unwrap_or(Method::POST);
        let mut req = self
            .http
            .request(method, parts.uri.to_string())
            .header("x-fapi-interaction-id", uuid::Uuid::new_v4().to_string())
            .body(body);
        for (name, value) in &parts.headers {
            if let Ok(value) = value.to_str() {
                req = req.header(name.as_str(), value);
            }
        }
        let res = req.send().await.map_err(|e| {
            Transport(ConnectorError::Network {
                bank: self.bank(),
                detail: network_detail(&e),
            })
        })?;
        let status = res.status();
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(Transport(self.read(res).await.err().unwrap_or_else(|| {
                ConnectorError::Unavailable {
                    bank: self.bank(),
                    status: status.as_u16(),
                }
            })));
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(Transport(ConnectorError::Unauthorized {
                bank: self.bank(),
                detail: format!("the token endpoint refused the credentials (HTTP {status})"),
            }));
        }
        let mut builder = oauth2::http::Response::builder().status(status.as_u16());
        for (name, value) in res.headers() {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
        let bytes = self.capped_body(res).await.map_err(Transport)?;
        builder
            .body(bytes)
            .map_err(|_| Transport(self.malformed("token response headers")))
    }

    /// Forgets the token that was refused (not one another call renewed meanwhile).
    async fn forget_token(&self, refused: &str) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|t| t.value == refused) {
            *cached = None;
        }
    }

    /// Sends one call with retries; on a 401 to an authenticated call the token is renewed once.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        auth: Auth<'_>,
        body: Option<&Value>,
    ) -> ConnectorResult<String> {
        let needs_token = !matches!(auth, Auth::None);
        let token = if needs_token {
            self.bank_token().await?
        } else {
            String::new()
        };
        match self
            .send(method.clone(), path, query, auth_ref(&auth), body, &token)
            .await
        {
            Err(ConnectorError::Unauthorized { .. }) if needs_token => {
                self.forget_token(&token).await;
                let token = self.bank_token().await?;
                self.send(method, path, query, auth, body, &token).await
            }
            other => other,
        }
    }

    /// One call, retried as the policy says.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        auth: Auth<'_>,
        body: Option<&Value>,
        token: &str,
    ) -> ConnectorResult<String> {
        let url = format!("{}{}", self.settings.base_url, path);
        let code = self.settings.identity.code.clone();
        let mut attempts = Attempts::new(&self.settings.retry, &code, path);
        loop {
            let mut req = self
                .http
                .request(method.clone(), &url)
                .query(query)
                .header("x-fapi-interaction-id", uuid::Uuid::new_v4().to_string());
            if !matches!(auth, Auth::None) {
                req = req
                    .bearer_auth(token)
                    .header("x-requesting-bank", &self.settings.team_id);
            }
            if let Auth::Consent(Some(consent)) = auth {
                req = req.header("x-consent-id", consent);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let outcome = match req.send().await {
                Err(e) => Err(ConnectorError::Network {
                    bank: self.bank(),
                    detail: network_detail(&e),
                }),
                Ok(res) => self.read(res).await,
            };
            match outcome {
                Ok(text) => return Ok(text),
                Err(err) => attempts.again(err).await?,
            }
        }
    }

    /// The answer's body as text (bytes that are not UTF-8 replaced, as before), within
    /// `max_body_bytes`.
    async fn body(&self, res: reqwest::Response) -> ConnectorResult<String> {
        let bytes = self.capped_body(res).await?;
        Ok(String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    /// The answer's body, read chunk by chunk and refused as soon as it passes `max_body_bytes`
    /// (or says it will in `Content-Length`): a huge answer is never held whole.
    async fn capped_body(&self, mut res: reqwest::Response) -> ConnectorResult<Vec<u8>> {
        let limit = self.settings.max_body_bytes;
        let too_large = |size: String| {
            tracing::warn!(bank = %self.settings.identity.code, limit, "an answer over the size limit was refused");
            self.malformed(format!(
                "the answer is larger than the limit of {limit} bytes ({size}; BANK_MAX_BODY_BYTES)"
            ))
        };
        if let Some(length) = res.content_length().filter(|l| *l > limit) {
            return Err(too_large(format!("{length} bytes announced")));
        }
        let mut body: Vec<u8> = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| ConnectorError::Network {
            bank: self.bank(),
            detail: network_detail(&e),
        })? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large("cut off while reading".to_owned()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    async fn read(&self, res: reqwest::Response) -> ConnectorResult<String> {
        let status = res.status();
        let retry_after = rate_limit_wait(res.headers(), Utc::now());
        let text = self.body(res).await?;
        tracing::trace!(bank = %self.settings.identity.code, status = status.as_u16(), bytes = text.len(), "bank answered");
        if status.is_success() {
            return Ok(text);
        }
        let (code, detail) = wire::error_detail(&text);
        let bank = self.bank();
        Err(match status {
            StatusCode::TOO_MANY_REQUESTS => ConnectorError::RateLimited { bank, retry_after },
            StatusCode::UNAUTHORIZED => ConnectorError::Unauthorized { bank, detail },
            StatusCode::FORBIDDEN if code.as_deref() == Some("CONSENT_REQUIRED") => {
                ConnectorError::ConsentRequired { bank, detail }
            }
            StatusCode::FORBIDDEN if detail == "Not authenticated" => {
                ConnectorError::Unauthorized { bank, detail }
            }
            StatusCode::FORBIDDEN => ConnectorError::ConsentRequired { bank, detail },
            StatusCode::NOT_FOUND => ConnectorError::NotFound { bank, detail },
            s if s.is_server_error() => ConnectorError::Unavailable {
                bank,
                status: s.as_u16(),
            },
            s => ConnectorError::Rejected {
                bank,
                status: s.as_u16(),
                detail,
            },
        })
    }

    fn json(&self, text: &str, what: &str) -> ConnectorResult<Value> {
        serde_json::from_str(text).map_err(|e| {
            self.malformed(format!(
                "{what}: {} bytes that are not JSON ({e})",
                text.len()
            ))
        })
    }

    /// A page parsed straight into its envelope: one pass over the text, no intermediate
    /// `Value` tree copied into the typed one. Only a page that fails is parsed again, to say
    /// whether it is no JSON at all or JSON of another shape.
    fn envelope<T: serde::de::DeserializeOwned>(
        &self,
        text: &str,
        what: &str,
    ) -> ConnectorResult<wire::Envelope<T>> {
        serde_json::from_str(text).or_else(|_| {
            let value = self.json(text, what)?;
            serde_json::from_value(value)
                .map_err(|e| self.malformed(format!("{what}: unexpected shape ({e})")))
        })
    }

    /// `GET /account-consents/{id}`: the status and expiry the bank reports.
    /// `Authorized` past its `expirationDateTime` is reported `Expired`: bank-in-a-box never
    /// marks a consent expired although its data calls refuse it (§8).
    async fn consent_detail(&self, id: &str) -> ConnectorResult<ConsentView> {
        let text = self
            .call(
                Method::GET,
                &format!("/account-consents/{id}"),
                &[],
                Auth::Bank,
                None,
            )
            .await?;
        let env: wire::ConsentEnvelope = serde_json::from_value(self.json(&text, "consent")?)
            .map_err(|e| self.malformed(format!("consent: unexpected shape ({e})")))?;
        let status = consent_status(&env.data.status)
            .ok_or_else(|| self.malformed("consent: unknown status"))?;
        let expires_at = env
            .data
            .expiration_date_time
            .as_deref()
            .and_then(wire::timestamp);
        let status = match (status, expires_at) {
            (ConsentStatus::Authorized, Some(at)) if at <= Utc::now() => ConsentStatus::Expired,
            (s, _) => s,
        };
        let permissions = env
            .data
            .permissions
            .map(|list| list.iter().filter_map(wire::text).collect::<Vec<String>>());
        Ok(ConsentView {
            status,
            expires_at,
            permissions,
        })
    }

    /// A `403` on a card call is the same `CONSENT_REQUIRED` for a revoked consent and for one
    /// that lacks `ReadCards` (§8); the consent itself tells them apart.
    async fn explain_card_refusal(
        &self,
        refusal: ConnectorError,
        consent_id: Option<&str>,
    ) -> ConnectorError {
        let Some(id) = consent_id else {
            return refusal;
        };
        match self.consent_detail(id).await {
            Ok(view)
                if view.status == ConsentStatus::Authorized
                    && view.permissions.as_ref().is_some_and(|p| {
                        !p.iter().any(|x| x.eq_ignore_ascii_case(CARDS_PERMISSION))
                    }) =>
            {
                ConnectorError::PermissionMissing {
                    bank: self.bank(),
                    permission: CARDS_PERMISSION.to_owned(),
                }
            }
            _ => refusal,
        }
    }

    /// A `404 {"detail": "Not Found"}` (the framework's answer for a path it does not serve),
    /// `405` or `501`: the bank does not offer this call at all.
    fn unsupported_when_absent(&self, err: ConnectorError, what: &str) -> ConnectorError {
        let absent = match &err {
            ConnectorError::NotFound { detail, .. } => detail.eq_ignore_ascii_case("not found"),
            ConnectorError::Rejected { status, .. } => matches!(status, 405 | 501),
            _ => false,
        };
        if absent {
            ConnectorError::Unsupported {
                bank: self.bank(),
                what: what.to_owned(),
            }
        } else {
            err
        }
    }

    /// One full read of an account's transactions with a page size.
    async fn read_all_pages(
        &self,
        access: &Access<'_>,
        account_id: &str,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        limit: u32,
        seen: &mut Collected,
    ) -> ConnectorResult<PagesRead> {
        let path = format!("/accounts/{account_id}/transactions");
        let mut page = 1u64;
        let mut read = PagesRead::default();
        let mut read_unnamed = 0;
        let now = Utc::now();
        loop {
            let query = [
                ("page", page.to_string()),
                ("limit", limit.to_string()),
                (
                    "from_booking_date_time",
                    from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                ),
                (
                    "to_booking_date_time",
                    to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                ),
            ];
            let text = self
                .call(
                    Method::GET,
                    &path,
                    &query,
                    Auth::Consent(access.consent_id),
                    None,
                )
                .await?;
            let env: wire::Envelope<wire::TransactionList> =
                self.envelope(&text, "transactions")?;
            let meta = env.meta.unwrap_or_default();
            read.announced(meta.total_records());
            let rows = env.data.transaction.len();
            let mut unnamed = 0;
            for row in &env.data.transaction {
                // Every id the bank shows counts against its total, in the range or not.
                match row.get("transactionId").and_then(wire::text) {
                    Some(id) => {
                        seen.seen.insert(id);
                    }
                    None => unnamed += 1,
                }
                match parse::transaction(row, account_id, now) {
                    Ok(t) if t.booked_at >= from && t.booked_at <= to => {
                        seen.rows.insert(t.id.clone(), t);
                    }
                    Ok(_) => {}
                    Err(reason) => {
                        seen.rejected.insert(reason);
                    }
                }
            }
            read_unnamed += unnamed;
            seen.unnamed = seen.unnamed.max(read_unnamed);
            let more = match meta.total_pages() {
                Some(pages) => page < pages,
                None => rows as u32 == limit,
            };
            if !more || rows == 0 {
                return Ok(read);
            }
            if page >= MAX_PAGES {
                return Err(self.malformed(format!(
                    "transactions: more than {MAX_PAGES} pages, the bank's paging does not end"
                )));
            }
            page += 1;
        }
    }
}

fn auth_ref<'a>(auth: &Auth<'a>) -> Auth<'a> {
    *auth
}

fn network_detail(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else if e.is_decode() || e.is_body() {
        "the response body was cut off".to_owned()
    } else {
        "request failed".to_owned()
    }
}

fn consent_status(word: &str) -> Option<ConsentStatus> {
    match word.to_ascii_lowercase().as_str() {
        "awaitingauthorization" | "pending" => Some(ConsentStatus::AwaitingAuthorization),
        "authorized" | "approved" => Some(ConsentStatus::Authorized),
        "rejected" => Some(ConsentStatus::Rejected),
        "revoked" => Some(ConsentStatus::Revoked),
        "expired" => Some(ConsentStatus::Expired),
        _ => None,
    }
}

#[async_trait]
impl BankConnector for OpenBankingClient {
    fn identity(&self) -> &BankIdentity {
        &self.settings.identity
    }

    async fn request_consent(&self, client_id: &str) -> ConnectorResult<Consent> {
        let body = json!({
            "client_id": client_id,
            "permissions": PERMISSIONS,
            "reason": "CRM account aggregation",
            "requesting_bank": self.settings.team_id,
            "requesting_bank_name": self.settings.requesting_bank_name,
        });
        let text = self
            .call(
                Method::POST,
                "/account-consents/request",
                &[],
                Auth::Bank,
                Some(&body),
            )
            .await?;
        let parsed: wire::ConsentRequestResponse =
            serde_json::from_value(self.json(&text, "consent request")?)
                .map_err(|e| self.malformed(format!("consent request: {e}")))?;
        let status = parsed
            .status
            .as_deref()
            .and_then(consent_status)
            .unwrap_or(ConsentStatus::AwaitingAuthorization);
        let status = match (status, &parsed.consent_id) {
            (ConsentStatus::Authorized, None) => ConsentStatus::AwaitingAuthorization,
            (s, _) => s,
        };
        tracing::info!(bank = %self.settings.identity.code, status = ?status, request = ?parsed.request_id.as_deref().map(redact), "consent requested");
        Ok(Consent {
            status,
            consent_id: parsed.consent_id,
            request_id: parsed.request_id,
            expires_at: None,
            message: parsed.message,
        })
    }

    async fn consent_status(&self, client_id: &str, consent: &Consent) -> ConnectorResult<Consent> {
        if let Some(id) = &consent.consent_id {
            let view = self.consent_detail(id).await?;
            return Ok(Consent {
                status: view.status,
                consent_id: Some(id.clone()),
                request_id: consent.request_id.clone(),
                expires_at: view.expires_at,
                message: None,
            });
        }
        // No consent id: a pending request, or an approval whose new consent id the bank never
        // told us. The request id answers "awaiting" even after approval, but it does show a
        // rejection or an expiry.
        if consent.status == ConsentStatus::AwaitingAuthorization {
            if let Some(request) = &consent.request_id {
                match self.consent_detail(request).await {
                    Ok(view)
                        if matches!(
                            view.status,
                            ConsentStatus::Rejected
                                | ConsentStatus::Revoked
                                | ConsentStatus::Expired
                        ) =>
                    {
                        return Ok(Consent {
                            status: view.status,
                            expires_at: view.expires_at,
                            ..consent.clone()
                        });
                    }
                    Ok(_) | Err(ConnectorError::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        // Whether it is approved the bank only shows by answering a data call without a
        // consent id.
        let probe = self
            .accounts(&Access {
                client_id,
                consent_id: None,
            })
            .await;
        match probe {
            Ok(_) => Ok(Consent {
                status: ConsentStatus::Authorized,
                consent_id: None,
                request_id: consent.request_id.clone(),
                expires_at: consent.expires_at,
                message: None,
            }),
            // Still pending; or, for a consent we held, no longer valid (revoked in the bank or
            // expired: the bank does not say which).
            Err(ConnectorError::ConsentRequired { .. }) => Ok(match consent.status {
                ConsentStatus::Authorized => Consent {
                    status: ConsentStatus::Revoked,
                    ..consent.clone()
                },
                _ => consent.clone(),
            }),
            Err(e) => Err(e),
        }
    }

    /// `DELETE /account-consents/{consentId}` with the bank token: `204` with an empty body,
    /// again `204` when already revoked (so a retried DELETE is harmless); a request id or an
    /// unknown id is `404`, reported as `NotFound`.
    async fn revoke_consent(&self, consent_id: &str) -> ConnectorResult<()> {
        tracing::info!(bank = %self.settings.identity.code, consent = %redact(consent_id), "revoking consent");
        self.call(
            Method::DELETE,
            &format!("/account-consents/{consent_id}"),
            &[],
            Auth::Bank,
            None,
        )
        .await?;
        Ok(())
    }

    async fn accounts(&self, access: &Access<'_>) -> ConnectorResult<Vec<AccountData>> {
        let query = [("client_id", access.client_id.to_owned())];
        let text = self
            .call(
                Method::GET,
                "/accounts",
                &query,
                Auth::Consent(access.consent_id),
                None,
            )
            .await?;
        let env: wire::Envelope<wire::AccountList> = self.envelope(&text, "accounts")?;
        env.data
            .account
            .iter()
            .map(|a| parse::account(a).map_err(|r| self.malformed(format!("account: {r}"))))
            .collect()
    }

    async fn balances(
        &self,
        access: &Access<'_>,
        account_id: &str,
    ) -> ConnectorResult<Vec<BalanceData>> {
        let text = self
            .call(
                Method::GET,
                &format!("/accounts/{account_id}/balances"),
                &[],
                Auth::Consent(access.consent_id),
                None,
            )
            .await?;
        let env: wire::Envelope<wire::BalanceList> = self.envelope(&text, "balances")?;
        let parsed = env
            .data
            .balance
            .iter()
            .map(|b| parse::balance(b).map_err(|r| self.malformed(format!("balance: {r}"))))
            .collect::<ConnectorResult<Vec<_>>>()?;
        Ok(parse::prefer_balances(parsed))
    }

    async fn transactions(
        &self,
        access: &Access<'_>,
        account_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> ConnectorResult<TransactionBatch> {
        let limit = self.settings.page_size.clamp(1, 100);
        let window = (from, to);
        let mut restarts = 0;
        let (seen, reported) = loop {
            let mut seen = Collected::default();
            let mut read = self
                .read_all_pages(access, account_id, window, limit, &mut seen)
                .await?;
            // Offset paging is unstable: re-read with other page sizes (which shift the page
            // boundaries) and union, until the distinct ids reach the largest total announced.
            let mut extra = 0;
            while !read.shrank
                && extra < self.settings.max_rereads
                && read.total.is_some_and(|t| seen.count() < t)
            {
                extra += 1;
                let other_limit = (limit - (7 * extra).min(limit - 1)).max(1);
                let again = self
                    .read_all_pages(access, account_id, window, other_limit, &mut seen)
                    .await?;
                read.merge(again);
            }
            // Rows left the list while it was read: later pages shifted and rows in between
            // were skipped unseen. The data changed: read it afresh, a bounded number of times;
            // after that the largest total stands and what is missing is a shortfall.
            if read.shrank && restarts < MAX_RESTARTS {
                restarts += 1;
                tracing::info!(bank = %self.settings.identity.code, restarts, "the bank's transaction total shrank during a read: reading again");
                continue;
            }
            break (seen, read.total);
        };
        if !seen.rejected.is_empty() {
            tracing::warn!(bank = %self.settings.identity.code, rejected = seen.rejected.len(), "refused malformed or foreign transaction rows");
        }
        let shortfall = reported.map_or(0, |t| t.saturating_sub(seen.count()));
        let mut transactions: Vec<TransactionData> = seen.rows.into_values().collect();
        transactions.sort_by(|a, b| b.booked_at.cmp(&a.booked_at).then_with(|| a.id.cmp(&b.id)));
        Ok(TransactionBatch {
            transactions,
            reported_total: reported,
            shortfall,
            rejected: seen.rejected.into_iter().collect(),
        })
    }

    /// `GET /product-agreements?client_id=` (§10; the list has no rate, so each agreement's
    /// detail call adds it). Sent with the data-call headers although bank-in-a-box reads none.
    async fn product_agreements(
        &self,
        access: &Access<'_>,
    ) -> ConnectorResult<Vec<ProductAgreementData>> {
        const WHAT: &str = "product agreements";
        let query = [("client_id", access.client_id.to_owned())];
        let text = self
            .call(
                Method::GET,
                "/product-agreements",
                &query,
                Auth::Consent(access.consent_id),
                None,
            )
            .await
            .map_err(|e| self.unsupported_when_absent(e, WHAT))?;
        let list: wire::AgreementList = serde_json::from_value(self.json(&text, WHAT)?)
            .map_err(|e| self.malformed(format!("{WHAT}: unexpected shape ({e})")))?;
        let mut agreements = list
            .data
            .iter()
            .map(|a| parse::agreement(a).map_err(|r| self.malformed(format!("agreement: {r}"))))
            .collect::<ConnectorResult<Vec<_>>>()?;
        for agreement in agreements.iter_mut().filter(|a| a.interest_rate.is_none()) {
            let detail = self
                .call(
                    Method::GET,
                    &format!("/product-agreements/{}", agreement.id),
                    &query,
                    Auth::Consent(access.consent_id),
                    None,
                )
                .await;
            let text = match detail {
                Ok(text) => text,
                // The list named it; a detail the bank will not give leaves the rate unknown.
                Err(ConnectorError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            let one: wire::AgreementDetail = serde_json::from_value(self.json(&text, WHAT)?)
                .map_err(|e| self.malformed(format!("agreement: unexpected shape ({e})")))?;
            agreement.interest_rate = parse::agreement(&one.data)
                .map_err(|r| self.malformed(format!("agreement: {r}")))?
                .interest_rate;
        }
        Ok(agreements)
    }

    /// `GET /cards?client_id=` with the consent (§11), numbers masked at this boundary.
    async fn cards(&self, access: &Access<'_>) -> ConnectorResult<Vec<CardData>> {
        let query = [("client_id", access.client_id.to_owned())];
        let text = match self
            .call(
                Method::GET,
                "/cards",
                &query,
                Auth::Consent(access.consent_id),
                None,
            )
            .await
        {
            Ok(text) => text,
            Err(e @ ConnectorError::ConsentRequired { .. }) => {
                return Err(self.explain_card_refusal(e, access.consent_id).await)
            }
            Err(e) => return Err(self.unsupported_when_absent(e, "cards")),
        };
        let env: wire::Envelope<wire::CardList> = self.envelope(&text, "cards")?;
        env.data
            .cards
            .iter()
            .map(|c| parse::card(c).map_err(|r| self.malformed(format!("card: {r}"))))
            .collect()
    }

    async fn products(&self) -> ConnectorResult<Vec<ProductData>> {
        let text = self
            .call(Method::GET, "/products", &[], Auth::Bank, None)
            .await?;
        let env: wire::Envelope<wire::ProductList> = self.envelope(&text, "products")?;
        Ok(env
            .data
            .product
            .iter()
            .filter_map(|p| parse::product(p).ok())
            .collect())
    }
}
