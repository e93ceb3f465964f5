//! The mails themselves: what a verification or a password-reset mail says,
//! in plain text and in HTML, from an outbox item ([`crate::mail::outbox`]). The
//! `mailer` function ([`crate::mail::sender`]) sends what [`render`] writes.
//!
//! A mail names the service, carries the one-time code, and links to the
//! account page with the code in the URL's fragment (`#verify?…`,
//! `#reset?…`): browsers never send a fragment to a server, so the code
//! reaches no access log, no proxy and no `Referer`. It never carries a
//! password or a token; the service has neither when it writes the outbox.
//!
//! A notice (two-step sign-in turned on or off, a recovery code used) carries
//! no code: it says what happened, when, and what to do if it was not the
//! owner, with a plain link to the account page.

use crate::mail::outbox::{MailKind, OutboxMail};

/// How the mails name the service.
pub const SERVICE_NAME: &str = "token-auth";

/// One mail, ready to send.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub text: String,
    pub html: String,
}

// The bodies carry the code: never in a debug print.
impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// The account page's link that fills the code in: `{base}/account#verify?email=…&code=…`
/// (or `#reset?…`), the values percent-encoded.
pub fn account_link(mail: &OutboxMail, base_url: &str) -> String {
    let action = match mail.kind {
        MailKind::VerifyEmail => "verify",
        MailKind::ResetPassword => "reset",
        MailKind::EmailChange => "change-email",
        _notice => return format!("{}/account", base_url.trim_end_matches('/')),
    };
    format!(
        "{}/account#{action}?email={}&code={}",
        base_url.trim_end_matches('/'),
        percent_encode(&mail.to),
        percent_encode(&mail.code)
    )
}

/// The mail for an outbox item; `base_url` is the service's public base URL
/// (`PUBLIC_BASE_URL`), where the account page lives.
pub fn render(mail: &OutboxMail, base_url: &str) -> Message {
    if !mail.kind.carries_code() {
        return render_notice(mail, base_url);
    }
    let link = account_link(mail, base_url);
    let minutes = mail.expires_at.saturating_sub(mail.created_at).div_ceil(60);
    let until = crate::rfc3339(mail.expires_at);
    let (subject, asked, action, ignore) = match mail.kind {
        MailKind::VerifyEmail => (
            format!("Confirm your email address for {SERVICE_NAME}"),
            format!(
                "Someone, hopefully you, asked to confirm this email address for an account at {SERVICE_NAME}."
            ),
            "Confirm my address",
            "If it was not you, ignore this mail: the address stays unconfirmed.",
        ),
        MailKind::ResetPassword => (
            format!("Reset your {SERVICE_NAME} password"),
            format!(
                "Someone, hopefully you, asked to reset the password of the {SERVICE_NAME} account with this email address."
            ),
            "Choose a new password",
            "If it was not you, ignore this mail: your password stays as it is.",
        ),
        MailKind::EmailChange => (
            format!("Confirm your new email address for {SERVICE_NAME}"),
            format!(
                "Someone, hopefully you, asked to make this the email address of an account at {SERVICE_NAME}. \
                 Enter the code where you asked for the change, signed in to that account, to confirm it."
            ),
            "Confirm my new address",
            "If it was not you, ignore this mail: no account uses this address.",
        ),
        _notice => unreachable!("a notice is rendered by render_notice"),
    };
    let code = &mail.code;
    let text = format!(
        "Hello,\n\n{asked}\n\nYour code: {code}\n\nOr open this link, which fills it in for you:\n{link}\n\n\
         The code works once, for {minutes} minutes (until {until}).\n{ignore}\n\n\
         {SERVICE_NAME}\n"
    );
    let (asked, code, link, ignore, until) = (
        html_escape(&asked),
        html_escape(code),
        html_escape(&link),
        html_escape(ignore),
        html_escape(&until),
    );
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"font-family: sans-serif; line-height: 1.5\">\n\
         <p>Hello,</p>\n<p>{asked}</p>\n\
         <p>Your code: <strong style=\"font-size: 1.4em; letter-spacing: 0.1em\">{code}</strong></p>\n\
         <p><a href=\"{link}\">{action}</a></p>\n\
         <p>The code works once, for {minutes} minutes (until {until}).<br>{ignore}</p>\n\
         <p>{SERVICE_NAME}</p>\n</body></html>\n",
        title = html_escape(&subject),
    );
    Message {
        subject,
        text,
        html,
    }
}

/// A notice: what happened to the account, when, and what to do if it was
/// not its owner.
fn render_notice(mail: &OutboxMail, base_url: &str) -> Message {
    let link = account_link(mail, base_url);
    let at = crate::rfc3339(mail.created_at);
    let not_you =
        "If it was not you, someone knows your password: reset it now from the account page.";
    let (subject, what, then, if_not_you) = match mail.kind {
        MailKind::TotpOn => (
            "Two-step sign-in is on",
            "Two-step sign-in was turned on for your account",
            "Signing in now asks for a code from your authenticator app, or one of your recovery codes.",
            "If it was not you, someone knows your password: reset it now, and ask an administrator to turn two-step sign-in off.",
        ),
        MailKind::TotpOff => (
            "Two-step sign-in is off",
            "Two-step sign-in was turned off for your account",
            "Signing in now needs only your password; you can turn it on again from the account page.",
            not_you,
        ),
        MailKind::TotpReset => (
            "Two-step sign-in was turned off by an administrator",
            "An administrator turned two-step sign-in off for your account",
            "Signing in now needs only your password; turn it on again from the account page with your new device.",
            "If you did not ask for this, reply to this mail or contact your administrator.",
        ),
        MailKind::RecoveryCodeUsed => (
            "A recovery code was used",
            "One of your recovery codes was used to sign in to your account",
            "That code cannot be used again. When few are left, make a new set on the account page.",
            not_you,
        ),
        MailKind::EmailChangeRequested => (
            "A change of your email address was asked for",
            "Someone signed in to your account asked to change its email address to another one",
            "A code went to the new address; the change happens only once that code is entered, within 15 minutes. This address then no longer signs in.",
            "If it was not you, someone knows your password: reset it now from the account page, and sign out your other devices.",
        ),
        MailKind::PasskeyCloned => (
            "A sign-in with a copy of your passkey was refused",
            "Someone tried to sign in to your account with one of your passkeys, and its signature counter shows it may have been copied",
            "The sign-in was refused. Delete that passkey from the account page and register a new one.",
            "If you did not just sign in, assume someone else holds that passkey: delete it now.",
        ),
        _with_code => unreachable!("a mail with a code is rendered by render"),
    };
    let subject = format!("{subject} ({SERVICE_NAME})");
    let text =
        format!("Hello,\n\n{what} at {at}.\n{then}\n\n{if_not_you}\n{link}\n\n{SERVICE_NAME}\n");
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"font-family: sans-serif; line-height: 1.5\">\n\
         <p>Hello,</p>\n<p>{what} at {at}.<br>{then}</p>\n\
         <p>{if_not_you}</p>\n<p><a href=\"{link}\">Open the account page</a></p>\n\
         <p>{SERVICE_NAME}</p>\n</body></html>\n",
        title = html_escape(&subject),
        what = html_escape(what),
        at = html_escape(&at),
        then = html_escape(then),
        if_not_you = html_escape(if_not_you),
        link = html_escape(&link),
    );
    Message {
        subject,
        text,
        html,
    }
}

/// RFC 3986 percent-encoding of everything but the unreserved characters, so
/// that an address's `+`, `&` or `#` cannot change the link's meaning.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Text for HTML, in an element or a quoted attribute.
fn html_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(kind: MailKind, to: &str) -> OutboxMail {
        OutboxMail {
            id: "0b7c2f4e-0000-4000-8000-000000000001".into(),
            kind,
            to: to.into(),
            code: "12345678".into(),
            created_at: 1_795_626_000,
            expires_at: 1_795_626_000 + 900,
        }
    }

    #[test]
    fn a_verification_mail_names_the_service_and_carries_code_and_link() {
        let message = render(
            &mail(MailKind::VerifyEmail, "ann@example.com"),
            "https://auth.example.com/",
        );
        assert!(
            message.subject.contains("token-auth"),
            "{}",
            message.subject
        );
        assert!(
            !message.subject.contains("12345678"),
            "no code in the subject"
        );
        let link = "https://auth.example.com/account#verify?email=ann%40example.com&code=12345678";
        for body in [&message.text, &message.html] {
            assert!(body.contains("token-auth"));
            assert!(body.contains("12345678"));
            assert!(body.contains("15 minutes"));
            assert!(body.contains("2026-11-25T17:15:00Z"), "{body}");
        }
        assert!(message.text.contains(link), "{}", message.text);
        assert!(
            message
                .html
                .contains(&format!("href=\"{}\"", link.replace('&', "&amp;"))),
            "{}",
            message.html
        );
        assert!(message.html.contains("Confirm my address"));
    }

    #[test]
    fn a_reset_mail_links_to_the_reset_form() {
        let message = render(
            &mail(MailKind::ResetPassword, "ann@example.com"),
            "http://127.0.0.1:9000",
        );
        assert!(message.subject.contains("Reset your token-auth password"));
        assert!(
            message.text.contains(
                "http://127.0.0.1:9000/account#reset?email=ann%40example.com&code=12345678"
            )
        );
        assert!(message.text.contains("your password stays as it is"));
    }

    #[test]
    fn an_address_cannot_inject_html_or_change_the_link() {
        let to = "a+b&code=0#x\"<script>@example.com";
        let message = render(&mail(MailKind::VerifyEmail, to), "https://auth.example.com");
        assert!(!message.html.contains("<script>"), "{}", message.html);
        let link = account_link(&mail(MailKind::VerifyEmail, to), "https://auth.example.com");
        assert_eq!(
            link,
            "https://auth.example.com/account#verify?email=a%2Bb%26code%3D0%23x%22%3Cscript%3E%40example.com&code=12345678"
        );
        // Non-ASCII addresses (NFC) travel as UTF-8 bytes.
        let link = account_link(
            &mail(MailKind::VerifyEmail, "zoë@example.com"),
            "https://a.b",
        );
        assert!(link.contains("email=zo%C3%AB%40example.com"), "{link}");
    }

    #[test]
    fn a_notice_says_what_happened_and_carries_no_code() {
        for kind in [
            MailKind::TotpOn,
            MailKind::TotpOff,
            MailKind::TotpReset,
            MailKind::RecoveryCodeUsed,
            MailKind::EmailChangeRequested,
            MailKind::PasskeyCloned,
        ] {
            let notice = OutboxMail::notice(kind, "ann@example.com", 1_795_626_000);
            assert!(notice.code.is_empty());
            let message = render(&notice, "https://auth.example.com/");
            assert!(
                message.subject.contains("token-auth"),
                "{}",
                message.subject
            );
            for body in [&message.text, &message.html] {
                assert!(body.contains("2026-11-25T17:00:00Z"), "{body}");
                assert!(body.contains("https://auth.example.com/account"), "{body}");
                assert!(!body.contains('#'), "no code link: {body}");
            }
        }
        let on = render(
            &OutboxMail::notice(MailKind::TotpOn, "a@b.c", 0),
            "https://a.b",
        );
        assert!(
            on.text.contains("Two-step sign-in was turned on"),
            "{}",
            on.text
        );
        let used = render(
            &OutboxMail::notice(MailKind::RecoveryCodeUsed, "a@b.c", 0),
            "https://a.b",
        );
        assert!(
            used.text.contains("recovery codes was used"),
            "{}",
            used.text
        );
    }

    #[test]
    fn an_email_change_mail_carries_its_code_and_the_notice_none() {
        let message = render(
            &mail(MailKind::EmailChange, "new@example.com"),
            "https://auth.example.com",
        );
        assert!(message.subject.contains("new email address"));
        assert!(
            message.text.contains("Your code: 12345678"),
            "{}",
            message.text
        );
        assert!(
            message
                .text
                .contains("/account#change-email?email=new%40example.com&code=12345678"),
            "{}",
            message.text
        );
        let notice = OutboxMail::notice(MailKind::EmailChangeRequested, "old@example.com", 0);
        let told = render(&notice, "https://a.b");
        assert!(
            told.text.contains("change its email address"),
            "{}",
            told.text
        );
        assert!(!told.text.contains("new@example.com"));
    }

    #[test]
    fn a_debug_print_shows_no_body() {
        let message = render(
            &mail(MailKind::VerifyEmail, "ann@example.com"),
            "https://a.b",
        );
        let shown = format!("{message:?}");
        assert!(
            !shown.contains("12345678") && !shown.contains("ann@"),
            "{shown}"
        );
    }
}
