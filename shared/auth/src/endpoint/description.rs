//! What each endpoint says of itself, once, beside its handler: every other
//! list of endpoints (the [`super::Endpoint`] enum's, the tests' checks of
//! template.yaml, openapi.yaml, the `cargo lambda watch` router and events/,
//! the fault and round-trip tests) is derived from these.

use crate::store::access::Access;

/// One endpoint: a Lambda function behind one route.
#[derive(Debug)]
pub struct Description {
    /// The function's name: its binary (`functions/src/bin/<name>.rs`), its
    /// `BuildProperties: Binary` in template.yaml, its name in the router.
    pub function: &'static str,
    /// Method and path, as API Gateway routes them (`{id}` is a path parameter).
    pub method: &'static str,
    pub route: &'static str,
    pub guard: Guard,
    pub needs: Needs,
    /// The DynamoDB actions it may take, beyond the token check's (which a
    /// [`Guard::Bearer`] endpoint takes first): template.yaml must grant
    /// exactly these, and the fault tests fail each one. In groups, so that
    /// steps several endpoints share are written once.
    pub storage: &'static [&'static [Access]],
    /// A request body its checks accept, so that a call gets as far as
    /// storage (the fault tests send it). `{refresh_token}` stands for a
    /// refresh token of ours, `{password}` for the test's password.
    pub example_body: Option<&'static str>,
}

/// Who may call, and what the endpoint checks itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Anyone: no token (it may check credentials or a code of its own).
    Public,
    /// A bearer access token, checked first ([`super::check_token`]: its
    /// storage, [`super::authenticate::TOKEN_CHECK`], is the endpoint's too).
    Bearer,
    /// Whoever the Lambda authorizer let through: the route carries it in
    /// template.yaml and the handler reads its context.
    Authorizer,
}

/// What the function needs at init.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Only its settings: no keys, no tables, no secret to read (so its IAM
    /// policy grants none).
    Settings,
    /// The [`super::App`]: keys to verify tokens with, the tables, the secret.
    App,
    /// The app, and the current key's private half, checked at init: it
    /// issues access tokens.
    Signer,
}

impl Description {
    pub fn touches_storage(&self) -> bool {
        self.guard == Guard::Bearer || self.storage.iter().any(|group| !group.is_empty())
    }
}
