//! `GET /account`: the account page, a single HTML document with its style
//! and script inline, built into the binary (no framework, no CDN, no build
//! step). Its Content-Security-Policy allows exactly that style and that
//! script, by their SHA-256 hashes: no `unsafe-inline`, no `unsafe-eval`,
//! nothing from anywhere else, no framing, and no native form submission
//! (the script posts every form as JSON to the API on the same origin).
//! Images only as `data:` URLs: the TOTP QR code the API answers, shown in
//! an `<img>`, where an SVG runs no script.

use crate::http::error::ApiError;
use crate::http::response::Reply;
use lambda_http::Request;
use aws_lc_rs::digest;
use base64::{Engine, engine::general_purpose::STANDARD};
use lambda_http::Body;
use lambda_http::http::{HeaderValue, StatusCode, header};
use std::sync::LazyLock;
use super::description::{Description, Guard, Needs};

const HTML: &str = include_str!("account_page/page.html");
const STYLE: &str = include_str!("account_page/style.css");
/// The passkey screens first: app.js calls `passkeyScreens`.
const SCRIPT: &str = concat!(
    include_str!("account_page/passkeys.js"),
    include_str!("account_page/app.js")
);

/// The document and its policy, put together once per cold start.
struct Page {
    html: String,
    policy: String,
}

static PAGE: LazyLock<Page> = LazyLock::new(|| Page {
    html: HTML
        .replacen("/*STYLE*/", STYLE, 1)
        .replacen("/*SCRIPT*/", SCRIPT, 1),
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
    needs: Needs::Settings,
    storage: &[],
    example_body: None,
};

/// `GET /account`.
pub fn handle(_public_base_url: Option<&str>, _request: &Request) -> Result<Reply, ApiError> {
    Ok(page())
}

/// The page, with its security headers.
fn page() -> Reply {
    let page = &*PAGE;
    let mut response = Reply::new(Body::Text(page.html.clone()));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    let mut set = |name, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(header::CONTENT_TYPE, "text/html; charset=utf-8");
    set(header::CONTENT_SECURITY_POLICY, &page.policy);
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
