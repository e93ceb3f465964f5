//! The WebAuthn relying party of the passkeys (docs/passkeys.md): `RP_ID`
//! and `RP_ORIGIN`, each defaulting to `PUBLIC_BASE_URL`'s host and origin.
//! Passkeys are bound to the RP ID: moving the API to another domain
//! orphans them.

use super::ConfigError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    /// A registrable domain (never an IP address): `localhost` locally.
    pub id: String,
    /// The origin the browser reports: `http://localhost:9000` locally.
    pub origin: String,
}

impl RelyingParty {
    /// `None` when neither the settings nor `PUBLIC_BASE_URL` name one (or
    /// its host is an address, which no RP ID may be): the passkey calls
    /// then answer 503.
    pub fn from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
        public_base_url: Option<&str>,
    ) -> Result<Option<Self>, ConfigError> {
        let setting = |name: &str| {
            lookup(name)
                .map(|value| value.trim().trim_end_matches('/').to_owned())
                .filter(|value| !value.is_empty())
        };
        let origin = setting("RP_ORIGIN").or_else(|| public_base_url.map(origin_of));
        let Some(origin) = origin else {
            return Ok(None);
        };
        if !(origin.starts_with("https://") || origin.starts_with("http://")) {
            return Err(ConfigError(format!(
                "RP_ORIGIN must be an http(s) origin, got {origin:?}"
            )));
        }
        let id = match setting("RP_ID") {
            Some(id) => id,
            None if host_of(&origin).parse::<std::net::IpAddr>().is_ok() => return Ok(None),
            None => host_of(&origin).to_owned(),
        };
        if id.parse::<std::net::IpAddr>().is_ok() || id.contains(['/', ':']) {
            return Err(ConfigError(format!(
                "RP_ID must be a domain name, not an address, got {id:?}"
            )));
        }
        Ok(Some(Self { id, origin }))
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let authority = rest.split('/').next().unwrap_or_default();
    format!("{scheme}://{authority}")
}

/// The host of an origin, without its port.
fn host_of(origin: &str) -> &str {
    let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let authority = authority.split('/').next().unwrap_or_default();
    authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(
        pairs: &[(&str, &str)],
        base: Option<&str>,
    ) -> Result<Option<RelyingParty>, ConfigError> {
        let lookup = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        };
        RelyingParty::from_lookup(&lookup, base)
    }

    #[test]
    fn defaults_to_the_public_base_urls_host_and_origin() {
        let rp = from(&[], Some("https://auth.example.com/prod"))
            .unwrap()
            .unwrap();
        assert_eq!(rp.id, "auth.example.com");
        assert_eq!(rp.origin, "https://auth.example.com");
    }

    #[test]
    fn the_settings_win_and_an_address_is_no_rp_id() {
        let local = [
            ("RP_ID", "localhost"),
            ("RP_ORIGIN", "http://localhost:9000"),
        ];
        let rp = from(&local, Some("http://127.0.0.1:9000"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (rp.id.as_str(), rp.origin.as_str()),
            ("localhost", "http://localhost:9000")
        );
        assert_eq!(from(&[], Some("http://127.0.0.1:9000")).unwrap(), None);
        assert!(from(&[("RP_ID", "127.0.0.1")], Some("http://127.0.0.1")).is_err());
        assert_eq!(from(&[], None).unwrap(), None);
    }
}
