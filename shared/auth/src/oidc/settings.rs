//! The providers a person may sign in with (`OIDC_PROVIDERS`) and the app
//! URLs a sign-in may return to (`ALLOWED_REDIRECT_URLS`).
//!
//! `OIDC_PROVIDERS` is a JSON list, one object per provider:
//! `{"name": "google", "issuer": "https://accounts.google.com", "client_id":
//! "…", "client_secret": "…", "scopes": ["openid", "email", "profile"],
//! "label": "Google"}`. `name` is `[a-z0-9-]{1,32}` (it is the path segment of
//! the routes), unique; `issuer` is the provider's issuer exactly as its
//! discovery document spells it, https (http only for 127.0.0.1 or
//! localhost, the local mock); `scopes` defaults to the three above and must
//! hold `openid`.
//!
//! `ALLOWED_REDIRECT_URLS` is comma-separated absolute URLs, matched by
//! [`RedirectAllowList::allows`].

use crate::config::{ConfigError, Secret};
use serde::Deserialize;
use std::collections::HashSet;
use url::Url;

/// At most this many providers: one button each on the account page.
pub const MAX_PROVIDERS: usize = 10;
/// At most this many allowed redirect URLs.
pub const MAX_REDIRECT_URLS: usize = 50;

/// One provider's settings.
#[derive(Clone, Debug)]
pub struct ProviderSettings {
    pub name: String,
    /// As written; the discovery document's `issuer` and each ID token's
    /// `iss` must equal it byte for byte.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub scopes: Vec<String>,
    /// The button's text ("Sign in with {label}").
    pub label: String,
}

impl ProviderSettings {
    /// The client secret as text (it arrived as a JSON string).
    pub fn client_secret(&self) -> &str {
        std::str::from_utf8(self.client_secret.expose()).unwrap_or_default()
    }

    /// Whether the issuer is the local mock's (http on a loopback host): its
    /// endpoints may then be http too.
    pub fn is_local(&self) -> bool {
        Url::parse(&self.issuer).is_ok_and(|url| url.scheme() == "http")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderEntry {
    name: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    #[serde(default = "default_scopes")]
    scopes: Vec<String>,
    label: String,
}

fn default_scopes() -> Vec<String> {
    ["openid", "email", "profile"].map(str::to_owned).to_vec()
}

/// Both settings, read once per cold start.
#[derive(Clone, Debug, Default)]
pub struct OidcSettings {
    pub providers: Vec<ProviderSettings>,
    pub redirects: RedirectAllowList,
}

impl OidcSettings {
    /// Reads `OIDC_PROVIDERS` and `ALLOWED_REDIRECT_URLS` through `lookup`;
    /// both unset is no providers. Providers without a redirect URL to return
    /// to could never finish a sign-in: refused.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let providers = match set("OIDC_PROVIDERS") {
            Some(json) => parse_providers(&json)?,
            None => Vec::new(),
        };
        let redirects = match set("ALLOWED_REDIRECT_URLS") {
            Some(text) => RedirectAllowList::parse(&text)?,
            None => RedirectAllowList::default(),
        };
        if !providers.is_empty() && redirects.is_empty() {
            return Err(ConfigError(
                "OIDC_PROVIDERS needs ALLOWED_REDIRECT_URLS: the app URLs a sign-in returns to"
                    .into(),
            ));
        }
        Ok(Self {
            providers,
            redirects,
        })
    }

    pub fn provider(&self, name: &str) -> Option<&ProviderSettings> {
        self.providers.iter().find(|provider| provider.name == name)
    }
}

/// `OIDC_PROVIDERS`, checked. Errors name the provider and the field, never
/// a secret.
pub fn parse_providers(json: &str) -> Result<Vec<ProviderSettings>, ConfigError> {
    let fail = |reason: String| ConfigError(format!("OIDC_PROVIDERS: {reason}"));
    let entries: Vec<ProviderEntry> = serde_json::from_str(json).map_err(|error| {
        // serde's message may quote a value (a secret): say only where.
        fail(format!(
            "not a list of providers (line {}, column {})",
            error.line(),
            error.column()
        ))
    })?;
    if entries.len() > MAX_PROVIDERS {
        return Err(fail(format!("at most {MAX_PROVIDERS} providers")));
    }
    let mut names = HashSet::new();
    let mut providers = Vec::with_capacity(entries.len());
    for entry in entries {
        let name = entry.name;
        let valid_name = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
        if !valid_name {
            return Err(fail(format!(
                "the name {name:?} must be 1 to 32 of a-z, 0-9 and -"
            )));
        }
        if !names.insert(name.clone()) {
            return Err(fail(format!("the name {name:?} is used twice")));
        }
        check_issuer(&entry.issuer).map_err(|reason| fail(format!("{name}: issuer {reason}")))?;
        for (field, value) in [
            ("client_id", &entry.client_id),
            ("client_secret", &entry.client_secret),
            ("label", &entry.label),
        ] {
            if value.trim().is_empty() {
                return Err(fail(format!("{name}: {field} is empty")));
            }
        }
        let scope_ok = |scope: &String| {
            !scope.is_empty()
                && scope
                    .bytes()
                    .all(|byte| byte.is_ascii_graphic() && byte != b'"')
        };
        if !entry.scopes.iter().all(scope_ok) {
            return Err(fail(format!("{name}: a scope is empty or not plain ASCII")));
        }
        if !entry.scopes.iter().any(|scope| scope == "openid") {
            return Err(fail(format!("{name}: scopes must include \"openid\"")));
        }
        providers.push(ProviderSettings {
            name,
            issuer: entry.issuer,
            client_id: entry.client_id,
            client_secret: Secret::new(entry.client_secret),
            scopes: entry.scopes,
            label: entry.label.trim().to_owned(),
        });
    }
    Ok(providers)
}

/// An issuer: https, or http on a loopback host; no user, query or fragment.
fn check_issuer(issuer: &str) -> Result<(), String> {
    let url = Url::parse(issuer).map_err(|_| format!("{issuer:?} is not a URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{issuer:?} carries a user"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{issuer:?} has a query or fragment"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        _ => Err(format!(
            "{issuer:?} must be https (http only on 127.0.0.1 or localhost)"
        )),
    }
}

/// 127.0.0.1, localhost or [::1]: the machine itself.
pub(crate) fn is_loopback(url: &Url) -> bool {
    matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
}

/// `ALLOWED_REDIRECT_URLS`: the app URLs a sign-in may return to.
#[derive(Clone, Debug, Default)]
pub struct RedirectAllowList {
    entries: Vec<Url>,
}

impl RedirectAllowList {
    /// Comma-separated absolute URLs: https (http only on a loopback host),
    /// no user, query or fragment, spelled plainly (see [`Self::allows`]).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let fail = |reason: String| ConfigError(format!("ALLOWED_REDIRECT_URLS: {reason}"));
        let mut entries = Vec::new();
        for written in text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
        {
            let url = Url::parse(written).map_err(|_| fail(format!("{written:?} is not a URL")))?;
            if !plainly_spelled(written) {
                return Err(fail(format!(
                    "{written:?} has a dot segment, an escape or a character a URL should not"
                )));
            }
            if !url.username().is_empty() || url.password().is_some() {
                return Err(fail(format!("{written:?} carries a user")));
            }
            if url.query().is_some() || url.fragment().is_some() {
                return Err(fail(format!("{written:?} has a query or fragment")));
            }
            match url.scheme() {
                "https" => {}
                "http" if is_loopback(&url) => {}
                _ => {
                    return Err(fail(format!(
                        "{written:?} must be https (http only on 127.0.0.1 or localhost)"
                    )));
                }
            }
            if !entries.contains(&url) {
                entries.push(url);
            }
        }
        if entries.len() > MAX_REDIRECT_URLS {
            return Err(fail(format!("at most {MAX_REDIRECT_URLS} URLs")));
        }
        Ok(Self { entries })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `candidate` parsed, when it is one of the allowed URLs: the same
    /// scheme, host, port and path, compared exactly after parsing by the
    /// WHATWG rules the browser follows, plus a query of the app's own (kept)
    /// and nothing else. What that means for the spellings an attacker tries:
    /// - the host and scheme are case-insensitive (RFC 3986 §6.2.2.1): `url`
    ///   lowercases them, so `HTTPS://APP.example.com/cb` is
    ///   `https://app.example.com/cb`, the very same place;
    /// - a default port is no port: `https://app.example.com:443/cb` is
    ///   allowed where `https://app.example.com/cb` is, `:8443` is not;
    /// - the path is compared byte for byte: `/cb/` is not `/cb`, `/cbx` is
    ///   not, `%2F` or `%62` is not decoded;
    /// - refused before parsing, whatever they would resolve to: a user
    ///   (`user@host`, `a.com@b.com`, even an empty one), dot segments (`/./`, `/../`, also as
    ///   `%2e`), a backslash, a `%` before the path, and any byte outside
    ///   printable ASCII (spaces, tabs and newlines the parser would drop);
    /// - a fragment is refused (RFC 6749 §3.1.2).
    pub fn allows(&self, candidate: &str) -> Option<Url> {
        if !plainly_spelled(candidate) {
            return None;
        }
        let url = Url::parse(candidate).ok()?;
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return None;
        }
        self.entries
            .iter()
            .any(|allowed| {
                allowed.scheme() == url.scheme()
                    && allowed.host() == url.host()
                    && allowed.port_or_known_default() == url.port_or_known_default()
                    && allowed.path() == url.path()
            })
            .then_some(url)
    }

    /// The allowed URLs' origins (`https://app.example.com`), each once: the
    /// origins CORS lets redeem a code.
    pub fn origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = Vec::new();
        for url in &self.entries {
            let origin = url.origin().ascii_serialization();
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        origins
    }
}

/// Whether `text` is a URL written with no trick the parser would undo:
/// only printable ASCII, no backslash, no `%` or `@` before the path (not
/// even `https://@host`, which parses as no user at all), and no `.` or
/// `..` path segment (`%2e` counted as a dot).
fn plainly_spelled(text: &str) -> bool {
    if !text.bytes().all(|byte| byte.is_ascii_graphic()) || text.contains('\\') {
        return false;
    }
    let before_query = text.split(['?', '#']).next().unwrap_or_default();
    let Some((_, rest)) = before_query.split_once("://") else {
        return false;
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.contains(['%', '@']) {
        return false;
    }
    let lowered = path.to_ascii_lowercase().replace("%2e", ".");
    !lowered
        .split('/')
        .any(|segment| segment == "." || segment == "..")
}

#[cfg(test)]
mod tests;
