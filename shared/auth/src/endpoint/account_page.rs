//! `GET /account`: the account page, a single HTML document with its style
//! and script inline, built into the binary (no framework, no CDN, no build
//! step). Its Content-Security-Policy allows exactly that style and that
//! script, by their SHA-256 hashes: no `unsafe-inline`, no `unsafe-eval`,
//! nothing from anywhere else, no framing, and no native form submission
//! (the script posts every form as JSON to the API on the same origin).
//! Images only as `data:` URLs: the TOTP QR code the API answers, shown in
//! an `<img>`, where an SVG runs no script.
//!
//! The page is rendered with the configured providers' buttons (names and
//! labels only; `OIDC_PROVIDERS` is in the secret, hence the app), and as an
//! app's hosted sign-in (`?redirect_to=…&code_challenge=…`) only for a
//! `redirect_to` the sign-in with a provider would accept: else an error
//! page that links nowhere.

use super::App;
use super::description::{Description, Guard, Needs};
use super::oauth::allowed_redirect;
use crate::http::error::ApiError;
use crate::http::request::query_param;
use crate::http::response::Reply;
use crate::oidc::pkce;
use crate::store::Store;
use aws_lc_rs::digest;
use base64::{Engine, engine::general_purpose::STANDARD};
use lambda_http::Body;
use lambda_http::Request;
use lambda_http::http::{HeaderValue, StatusCode, header};
use std::sync::LazyLock;

const HTML: &str = include_str!("account_page/page.html");
const STYLE: &str = include_str!("account_page/style.css");
/// The passkey and provider screens first: app.js calls `passkeyScreens`
/// and `federationScreens`.
const SCRIPT: &str = concat!(
    include_str!("account_page/passkeys.js"),
    include_str!("account_page/federation.js"),
    include_str!("account_page/app.js")
);
/// Where the providers' buttons go.
const PROVIDERS: &str = "<!--PROVIDERS-->";
/// A hosted sign-in that cannot go on: no script, nothing to follow.
const REFUSED: &str = "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Sign-in refused · token-auth</title>\n\
<style>/*STYLE*/</style>\n</head>\n<body>\n<main>\n<h1>This sign-in cannot go on</h1>\n\
<p id=\"refused\" role=\"alert\">The app that sent you here asked to be sent back to an address \
this service does not allow, or without its PKCE challenge. Nothing was done: go back to the app \
and tell its owner.</p>\n</main>\n</body>\n</html>\n";

/// The documents and their policy, put together once per cold start.
struct Page {
    html: String,
    refused: String,
    policy: String,
}

static PAGE: LazyLock<Page> = LazyLock::new(|| Page {
    html: HTML
        .replacen("/*STYLE*/", STYLE, 1)
        .replacen("/*SCRIPT*/", SCRIPT, 1),
    refused: REFUSED.replacen("/*STYLE*/", STYLE, 1),
    policy: format!(
        "default-src 'none'; script-src '{}'; style-src '{}'; connect-src 'self'; img-src data:; \
         form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
        source_hash(SCRIPT),
        source_hash(STYLE)
    ),
});

/// A CSP hash source: `sha256-` and the base64 of the element's content.
fn source_hash(content: &str) -> String {
    let hash = digest::digest(&digest::SHA256, content.as_bytes());
    format!("sha256-{}", STANDARD.encode(hash.as_ref()))
}

pub const DESCRIPTION: Description = Description {
    function: "account-page",
    method: "GET",
    route: "/account",
    guard: Guard::Public,
    needs: Needs::App,
    storage: &[],
    example_body: None,
};

/// `GET /account[?redirect_to=…&code_challenge=…]`. A hosted sign-in's
/// `redirect_to` is checked exactly as `GET /auth/oauth/{provider}/start`
/// checks it (the same function); the page itself reads both again from its
/// URL once the person has signed in.
pub async fn handle<S: Store>(app: &App<S>, request: &Request) -> Result<Reply, ApiError> {
    let redirect_to = query_param(request, "redirect_to");
    let challenge = query_param(request, "code_challenge");
    if (redirect_to.is_some() || challenge.is_some())
        && (allowed_redirect(app, redirect_to).is_err()
            || !challenge.is_some_and(pkce::is_valid_challenge))
    {
        return Ok(document(StatusCode::BAD_REQUEST, PAGE.refused.clone()));
    }
    let providers = app.config.oidc.providers.iter();
    let buttons: String = providers
        .map(|provider| provider_button(&provider.name, &provider.label))
        .collect();
    Ok(document(StatusCode::OK, PAGE.html.replacen(PROVIDERS, &buttons, 1)))
}

/// One "Sign in with …" button; the script makes the "Link …" ones from it.
/// The label is the operator's text: escaped all the same.
fn provider_button(name: &str, label: &str) -> String {
    let (name, label) = (escape(name), escape(label));
    format!(
        "<button type=\"button\" class=\"secondary\" data-provider=\"{name}\" \
         data-label=\"{label}\">Sign in with {label}</button>"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A document, with its security headers.
fn document(status: StatusCode, html: String) -> Reply {
    let mut response = Reply::new(Body::Text(html));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let mut set = |name, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(header::CONTENT_TYPE, "text/html; charset=utf-8");
    set(header::CONTENT_SECURITY_POLICY, &PAGE.policy);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::X_FRAME_OPTIONS, "DENY");
    // Nothing private in it, but a deployment's new page must show at once.
    set(header::CACHE_CONTROL, "no-cache");
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_of(reply: &Reply, name: header::HeaderName) -> &str {
        reply.headers()[name].to_str().unwrap()
    }

    fn page() -> Reply {
        let html = PAGE.html.replacen(PROVIDERS, &provider_button("mock", "<Mock> & \"co\""), 1);
        document(StatusCode::OK, html)
    }

    #[test]
    fn the_page_is_small_and_self_contained() {
        let reply = page();
        let Body::Text(html) = reply.body() else {
            panic!("a text body")
        };
        assert!(html.len() < 50 * 1024, "{} bytes", html.len());
        assert!(!html.contains("/*STYLE*/") && !html.contains("/*SCRIPT*/"));
        for outside in ["http://", "https://", "src=\"", "<link"] {
            assert!(!html.contains(outside), "{outside}");
        }
        assert!(!SCRIPT.contains("innerHTML") && !SCRIPT.contains("eval("));
        // The provider's label, as text.
        assert!(html.contains(
            r#"data-provider="mock" data-label="&lt;Mock&gt; &amp; &quot;co&quot;">Sign in with &lt;Mock&gt;"#
        ));
        assert!(!html.contains(PROVIDERS));
    }

    #[test]
    fn the_refusal_runs_nothing_and_links_nowhere() {
        let reply = document(StatusCode::BAD_REQUEST, PAGE.refused.clone());
        let Body::Text(html) = reply.body() else {
            panic!("a text body")
        };
        assert!(html.contains(&format!("<style>{STYLE}</style>")));
        for active in ["<script", "<a ", "http", "<form"] {
            assert!(!html.contains(active), "{active}");
        }
        assert_eq!(reply.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn the_policy_allows_exactly_the_inline_style_and_script() {
        let reply = page();
        let policy = header_of(&reply, header::CONTENT_SECURITY_POLICY);
        assert!(!policy.contains("unsafe"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(policy.contains(&source_hash(SCRIPT)));
        assert!(policy.contains(&source_hash(STYLE)));
        let Body::Text(html) = reply.body() else {
            panic!("a text body")
        };
        // The hashes are of the elements' exact content.
        assert!(html.contains(&format!("<script>{SCRIPT}</script>")));
        assert!(html.contains(&format!("<style>{STYLE}</style>")));
        assert_eq!(header_of(&reply, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(header_of(&reply, header::REFERRER_POLICY), "no-referrer");
        assert!(header_of(&reply, header::CONTENT_TYPE).starts_with("text/html"));
    }
}
